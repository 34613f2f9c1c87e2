"""``guix-revive env``: offline plans, lowering with a stand-in guix, fetching, resuming."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from fixture_modules import conftest_of
from live_guix import live_guix, put_live_guix_on_path

from revive.core.stores.embedded import EmbeddedStore
from revive.tui.cli import main

env_fixtures = conftest_of("core/env")

standin_guix = env_fixtures.standin_guix
no_guix = env_fixtures.no_guix
loopback = env_fixtures.loopback
environment = env_fixtures.environment

OFFLINE = ["--methods", "upstream,nar", "--timeout", "5", "--retries", "0"]


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def records(out: str) -> dict[str, dict]:
    """The --json records, by output store name."""
    lines = [json.loads(line) for line in out.splitlines()]
    return {Path(r["output"]).name.split("-", 1)[1]: r for r in lines}


def test_offline_plan_from_stdin_needs_no_guix(environment, no_guix, monkeypatch, capsys, tmp_path):
    # GIVEN roots computed elsewhere on standard input, and no Guix on this machine
    monkeypatch.setattr(sys, "stdin", io.StringIO(environment.roots_text()))
    status = main(["env", "--roots", "-", "--store", str(environment.copy), "--no-substitutes"])
    captured = capsys.readouterr()
    # THEN the plan is printed (piped: one tab-separated line per source), exit 1
    assert status == 1, captured.err
    lines = captured.out.splitlines()
    assert lines[-1] == (
        "7 sources (embedded store): 4 to fetch, 1 to fetch rewritten, 2 not fetchable"
    )
    assert "to fetch rewritten\tgit-fetch\tin-band\tp-old-checkout\tits in-band git-fetch" in (
        captured.out
    )
    assert "not fetchable\tgit-fetch\tbuiltin\tp-gone-checkout\thttps://gitorious.org/" in (
        captured.out
    )
    # and nothing was written: a plan alone keeps no state
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == []


def test_json_markdown_and_substitutes(environment, loopback, no_guix, capsys, tmp_path):
    roots = tmp_path / "roots.txt"
    roots.write_text(environment.roots_text())
    report = tmp_path / "out" / "report.md"
    report.parent.mkdir()
    status = main(
        ["env", "--roots", str(roots), "--store", str(environment.copy), "--json",
         "--substitute-urls", f"http://127.0.0.1:9 {loopback.base}", "--markdown", str(report)]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert status == 1
    by_name = records(captured.out)
    assert set(by_name) == {
        "hello-1.0.tar.gz", "present-1.0.tar.gz", "subst-1.0.tar.gz", "missing-1.0.tar.gz",
        "p-gone-checkout", "p-old-checkout", "raw-thing",
    }  # fmt: skip
    subst = by_name["subst-1.0.tar.gz"]
    assert subst["state"] == "substitutable" and subst["reason"] == f"{loopback.base} has it"
    assert set(subst) == {"drv", "output", "method", "era", "state", "reason", "tried"}
    assert by_name["p-old-checkout"]["rewritten"].endswith("-p-old-checkout.drv")
    assert "warning: substitute server http://127.0.0.1:9: " in captured.err
    text = report.read_text()
    assert text.startswith(f"# guix-revive env: roots from {roots}\n")
    assert "**Some sources are not present.** 7 sources, embedded store:" in text
    assert "| `subst-1.0.tar.gz` | url-fetch | builtin | substitutable |" in text
    # the state file sits next to the report
    assert sorted(p.name for p in report.parent.iterdir()) == ["report.md", "report.state.json"]


def test_fetch_for_real_then_resume(environment, loopback, no_guix, capsys, tmp_path):
    target = tmp_path / "target"
    state = tmp_path / "env.state.json"
    base = ["env", "--roots", "roots.txt", "--store", str(environment.copy), "--backend",
            "embedded", "--target-store", str(target), "--state", str(state),
            "--substitute-urls", loopback.base, *OFFLINE]  # fmt: skip
    (tmp_path / "roots.txt").write_text(environment.roots_text())
    # WHEN everything missing is fetched, 2 at a time, going on after failures
    status = main([*base, "--fetch", "--jobs", "2", "--keep-going", "--json"])
    captured = capsys.readouterr()
    by_name = records(captured.out)
    states = {name: r["state"] for name, r in by_name.items()}
    # THEN the url, the rewritten git checkout and the substitutable source are valid
    assert states == {
        "hello-1.0.tar.gz": "present",
        "present-1.0.tar.gz": "present",
        "subst-1.0.tar.gz": "present",
        "p-old-checkout": "present",
        "missing-1.0.tar.gz": "failed",
        "p-gone-checkout": "not fetchable",
        "raw-thing": "not fetchable",
    }, captured.err
    assert status == 1
    old = by_name["p-old-checkout"]
    assert old["tried"] == ["embedded: today's form (builtin:git-download): fetched"]
    assert by_name["missing-1.0.tar.gz"]["reason"].startswith("not found: ")
    store = EmbeddedStore(target)
    out = environment.outputs
    wanted = [out[r] for r in ("url", "present", "subst", "git-old")]
    assert store.query_valid(wanted) == set(wanted)
    assert (store.physical_path(out["git-old"]) / "src" / "a.c").read_bytes() == b"int a;\n"
    # The substitutable source came from the substitute server's NAR.
    assert f"/nar/{Path(out['subst']).name}" in loopback.requests
    # Only today's form of what was fetched was added (no .drv for the others).
    drvs = sorted(p.name.split("-", 1)[1] for p in target.iterdir() if p.name.endswith(".drv"))
    assert drvs == ["p-old-checkout.drv"]
    saved = json.loads(state.read_text())
    assert {s["state"] for s in saved["sources"]} == {"present", "failed", "not fetchable"}

    # WHEN run again: what is present is neither fetched nor asked about again
    before = list(loopback.requests)
    status = main([*base, "--fetch", "--keep-going", "--json"])
    captured = capsys.readouterr()
    again = records(captured.out)
    assert status == 1
    asked = loopback.requests[len(before) :]
    fetched = [r for r in asked if not r.endswith(".narinfo")]
    assert sorted(fetched) == ["/missing-1.0.tar.gz", f"/nar/{Path(out['missing']).name}"]
    # narinfos are asked only for what is not present: the failed and unfetchable ones
    not_present = {Path(out[r]).name[:32] for r in ("missing", "gone", "raw")}
    assert {r[1:33] for r in asked if r.endswith(".narinfo")} == not_present
    # what was tried accumulates across runs
    assert len(again["missing-1.0.tar.gz"]["tried"]) == 2
    assert again["p-old-checkout"]["tried"] == old["tried"]


def test_every_source_present_exits_0(environment, loopback, no_guix, capsys, tmp_path):
    target = tmp_path / "target"
    roots = tmp_path / "roots.txt"
    roots.write_text(f"{environment.fods['url']}\n{environment.fods['git-old']}\n")
    args = ["env", "--roots", str(roots), "--store", str(environment.copy), "--backend",
            "embedded", "--target-store", str(target), "--no-substitutes", *OFFLINE]  # fmt: skip
    assert main([*args, "--fetch"]) == 0
    captured = capsys.readouterr()
    assert "[2/2] ok" in captured.err
    assert captured.out.splitlines()[-1] == "2 sources (embedded store): 2 present"
    # the default state file of --fetch, in the current directory
    assert (tmp_path / "guix-revive-env.state.json").is_file()
    assert main(args) == 0


def test_without_keep_going_stops_after_the_first_failure(
    environment, loopback, no_guix, capsys, tmp_path
):
    roots = tmp_path / "roots.txt"
    roots.write_text(f"{environment.fods['missing']}\n{environment.fods['subst']}\n")
    status = main(
        ["env", "--roots", str(roots), "--store", str(environment.copy), "--backend", "embedded",
         "--target-store", str(tmp_path / "t"), "--no-substitutes", "--fetch", "--jobs", "1",
         "--json", *OFFLINE]
    )  # fmt: skip
    captured = capsys.readouterr()
    assert status == 1
    tried = [r for r in records(captured.out).values() if r["tried"]]
    assert len(tried) == 1 and tried[0]["state"] == "failed"
    assert "stopped after a failure: --keep-going fetches the rest" in captured.err


def test_build_on_the_embedded_store_reports_the_root(
    environment, loopback, no_guix, capsys, tmp_path
):
    roots = tmp_path / "roots.txt"
    roots.write_text(environment.roots_text())
    status = main(
        ["env", "--roots", str(roots), "--store", str(environment.copy), "--backend", "embedded",
         "--target-store", str(tmp_path / "t"), "--no-substitutes", "--build"]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert status == 1
    assert "build environment: FAILED: builder unsupported: " in out


def channel_files(tmp_path: Path) -> tuple[str, str]:
    channels = tmp_path / "channels.scm"
    channels.write_text("(list (channel (name 'guix) (url \"https://git.savannah.gnu.org/git/guix.git\")\n"
                        "  (commit \"3d2b9f6bd5eb2e4be4b54d54e0a1d6d93fa0fe2c\")))\n")  # fmt: skip
    manifest = tmp_path / "manifest.scm"
    manifest.write_text('(specifications->manifest (list "environment"))\n')
    return str(channels), str(manifest)


def test_lowers_with_time_machine_then_reuses_the_roots(
    environment, standin_guix, capsys, tmp_path
):
    channels, manifest = channel_files(tmp_path)
    standin_guix.time_machine_ok([environment.root])
    args = ["env", "-C", channels, "-m", manifest, "--store", str(environment.copy), "--backend",
            "embedded", "--no-substitutes", "--markdown", "report.md"]  # fmt: skip
    status = main(args)
    captured = capsys.readouterr()
    assert status == 1
    argv = ["time-machine", "-C", channels, "--", "build", "-d", "--no-grafts", "-m", manifest]
    assert standin_guix.logged() == [argv]
    # Guix's progress was shown live, once per distinct line
    assert "  Updating channel 'guix' from Git repository at " in captured.err
    assert captured.err.count("Computing Guix derivation for 'x86_64-linux'...") == 1
    assert captured.out.splitlines()[-1].startswith("7 sources (embedded store): ")
    assert f"# guix-revive env: -C {channels} -m {manifest}" in (tmp_path / "report.md").read_text()
    # WHEN run again with the same inputs: no second time-machine
    assert main(args) == 1
    assert "using the 1 roots lowered by a previous run" in capsys.readouterr().err
    assert len(standin_guix.logged()) == 1
    # ...unless the manifest changed, or --fresh
    Path(manifest).write_text('(specifications->manifest (list "environment" "hello"))\n')
    assert main(args) == 1
    assert main([*args, "--fresh"]) == 1
    assert len(standin_guix.logged()) == 3


def test_lowering_failures_exit_2_with_one_line(environment, standin_guix, capsys, tmp_path):
    channels, manifest = channel_files(tmp_path)
    standin_guix.play(
        [("err", env_fixtures.UPDATING),
         ("err", "guix time-machine: error: Git error: failed to resolve address for "
                 "git.savannah.gnu.org: Name or service not known\n")],
        exit=1,
    )  # fmt: skip
    args = ["env", "-C", channels, "-m", manifest, "--store", str(environment.copy),
            "--markdown", "report.md"]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == (
        "guix-revive: error: guix time-machine: channel failed: Git error: failed to resolve "
        "address for git.savannah.gnu.org: Name or service not known"
    )
    assert "Traceback" not in err
    assert not (tmp_path / "report.md").exists() and not (tmp_path / "report.state.json").exists()
    standin_guix.play(
        [
            ("err", env_fixtures.UPDATING),
            ("err", "guix build: error: nosuchpkg: unknown package\n"),
        ],
        exit=1,
    )
    assert main(["env", "--commit", "v1.1.0", "nosuchpkg", "--store", str(environment.copy)]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "guix-revive: error: guix build: nosuchpkg: unknown package"
    )


def test_bad_input_exits_2(environment, no_guix, capsys, tmp_path):
    store = ["--store", str(environment.copy)]
    bad = tmp_path / "roots.txt"
    bad.write_text(f"{environment.root}\nhello\n")
    cases = {
        ("--roots", str(bad)): f"{bad}:2:1: not the store path of a .drv: 'hello'",
        ("--roots", str(bad), "-m", "m.scm"): "--roots takes the roots as given",
        ("-m", "nope.scm"): "nope.scm: no such file (-m/--manifest)",
        ("hello",): "guix: not installed (not on PATH); give --roots FILE",
        ("--roots", str(tmp_path / "none.txt")): "none.txt: cannot read: No such file",
    }
    for extra, message in cases.items():
        assert main(["env", *store, *extra]) == 2, extra
        assert message in capsys.readouterr().err
    state = tmp_path / "s.json"
    state.write_text("[]")
    assert main(["env", *store, "--roots", str(bad), "--state", str(state)]) == 2
    assert "s.json: not a guix-revive env state file" in capsys.readouterr().err


@live_guix
def test_live_fetch_into_the_guix_store(environment, loopback, capsys, tmp_path, monkeypatch):
    # A url download in today's form and an old git checkout, fetched into the real store.
    from revive.core.stores.guix import GuixStore

    # The wrapper of scripts/live-guix.sh, kept off PATH for every other test.
    put_live_guix_on_path(monkeypatch)

    roots = tmp_path / "roots.txt"
    roots.write_text(f"{environment.fods['url']}\n{environment.fods['git-old']}\n")
    args = ["env", "--roots", str(roots), "--store", str(environment.copy), "--backend", "guix",
            "--no-substitutes", "--fetch", "--keep-going", "--json", *OFFLINE]  # fmt: skip
    status = main(args)
    captured = capsys.readouterr()
    assert status == 0, captured.err
    states = {r["state"] for r in records(captured.out).values()}
    assert states == {"present"}
    wanted = [environment.outputs["url"], environment.outputs["git-old"]]
    assert GuixStore().query_valid(wanted) == set(wanted)


def test_roots_listed_from_a_store_copy_need_no_store_option(
    environment, no_guix, monkeypatch, capsys, tmp_path
):
    # GIVEN the root as a file in a copy of some store items, and no --store
    copied = environment.copy / Path(environment.root).name
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{copied}\n"))
    # THEN the copy is read where it is (like every other command), the same plan
    assert main(["env", "--roots", "-", "--no-substitutes"]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines()[-1].startswith("7 sources (embedded store):"), captured.err
    # and a root that cannot be read is bad input (exit 2), not a plan of 0 sources
    gone = str(environment.copy / ("a" * 32 + "-gone.drv"))
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{gone}\n"))
    assert main(["env", "--roots", "-", "--no-substitutes"]) == 2
    assert "gone.drv: no such file" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", io.StringIO("/gnu/store/" + "a" * 32 + "-gone.drv\n"))
    assert main(["env", "--roots", "-", "--store", str(environment.copy)]) == 2
    assert "gone.drv: not in the store (looked for" in capsys.readouterr().err
