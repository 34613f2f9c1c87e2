"""``guix-revive fetch``: a loopback closure with a FOD of every method, both backends."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from fixture_modules import conftest_of
from live_guix import live_guix, put_live_guix_on_path
from repos import bzr_branch, cvs_module, git_repo, hg_repo, svn_repo, write_tree

from revive.core.derivation import Derivation, Output
from revive.core.fetch.spec import (
    BzrFetch,
    CvsFetch,
    GitFetch,
    HgFetch,
    SvnFetch,
    SvnMultiFetch,
    UrlFetch,
)
from revive.core.stores.embedded import EmbeddedStore
from revive.tui.cli import main

store_fixtures = conftest_of("core/stores")
builders = store_fixtures.builder_fixtures

guix_standin = store_fixtures.guix_standin
daemon_store = store_fixtures.daemon_store
recorded_drvs = store_fixtures.recorded_drvs

FILES = {"README": b"project\n", "configure*": b"#!/bin/sh\n", "src/a.c": b"int a;\n"}
OFFLINE = ["--methods", "upstream,nar", "--timeout", "5", "--retries", "0"]


expected = builders.expected_of


@pytest.fixture(scope="module")
def server():
    with builders.LoopbackServer() as srv:
        yield srv


@pytest.fixture(scope="module")
def closure(tmp_path_factory, server):
    """A store copy with one FOD per method (today's forms, and an original in-band
    git FOD), two failing downloads, and roots depending on them."""
    base = tmp_path_factory.mktemp("closure")
    copy = store_fixtures.StoreCopy(base / "copy")
    ref = base / "ref"
    write_tree(ref, FILES)

    server.files["/hello-1.0.tar.gz"] = b"hello tarball\n" * 100
    server.files["/wrong.txt"] = b"not it\n"
    ok: dict[str, str] = {}
    ok["url"] = copy.add_spec(
        UrlFetch(
            expected("hello-1.0.tar.gz", data=server.files["/hello-1.0.tar.gz"]),
            (server.url("/hello-1.0.tar.gz"),),
        )
    )
    git = base / "git"
    git_repo(git, FILES, tag="v1")
    ok["git"] = copy.add_spec(GitFetch(expected("p-git-checkout", tree=ref), git.as_uri(), "v1"))
    svn = base / "svn"
    svn_repo(svn, base / "wc", FILES)
    ok["svn"] = copy.add_spec(SvnFetch(expected("p-svn-checkout", tree=ref), svn.as_uri(), 1))
    src_only = base / "ref-src"
    write_tree(src_only, {"src/a.c": FILES["src/a.c"]})
    ok["svn-multi"] = copy.add_spec(
        SvnMultiFetch(expected("p-svn-multi", tree=src_only), svn.as_uri(), 1, ("src/",))
    )
    hg = base / "hg"
    changeset = hg_repo(hg, FILES)
    ok["hg"] = copy.add_spec(HgFetch(expected("p-hg-checkout", tree=ref), hg.as_uri(), changeset))
    bzr = base / "bzr"
    bzr_branch(bzr, FILES)
    ok["bzr"] = copy.add_spec(BzrFetch(expected("p-bzr-branch", tree=ref), bzr.as_uri(), "1"))
    cvsroot = base / "cvsroot"
    cvs_module(cvsroot, base / "import", "p", FILES)
    ok["cvs"] = copy.add_spec(
        CvsFetch(expected("p-cvs-checkout", tree=ref), str(cvsroot), "p", "v1")
    )
    # an original 2017-2024 git FOD (in-band `git-download` script form)
    old = expected("p-old-checkout", tree=ref)
    ok["git-old"] = copy.add_drv(store_fixtures.in_band_git_fod(old, git.as_uri(), "v1"))
    bad = {
        "404": copy.add_spec(
            UrlFetch(
                expected("missing-1.0.tar.gz", data=b"x"), (server.url("/missing-1.0.tar.gz"),)
            )
        ),
        "mismatch": copy.add_spec(
            UrlFetch(expected("mismatch.txt", data=b"right\n"), (server.url("/wrong.txt"),))
        ),
    }

    def root(name: str, inputs: list[str]) -> str:
        out = (
            "/gnu/store/"
            + hashlib.sha256(name.encode())
            .hexdigest()[:32]
            .translate(str.maketrans("eotu", "abcd"))
            + "-"
            + name
        )
        return copy.add_drv(
            Derivation(
                name,
                (Output("out", out),),
                tuple((p, ("out",)) for p in sorted(inputs)),
                (),
                "x86_64-linux",
                "/bin/sh",
            )
        )

    return {
        "copy": copy.root,
        "good": root("everything-ok", list(ok.values())),
        "mixed": root("everything", list(ok.values()) + list(bad.values())),
        "old": ok["git-old"],
        "ok": ok,
    }


def _embedded_args(closure, tmp_path):
    """``fetch`` from the closure's copy into ``tmp_path/target``, embedded, offline."""
    return [
        "fetch",
        "--store",
        str(closure["copy"]),
        "--target-store",
        str(tmp_path / "target"),
        "--backend",
        "embedded",
        *OFFLINE,
    ]


def test_fetch_every_method_then_resume(closure, server, tmp_path, capsys):
    target = tmp_path / "target"
    args = _embedded_args(closure, tmp_path)
    # GIVEN a closure with 8 good FODs and two failing ones
    status = main([*args, closure["mixed"]])
    out = capsys.readouterr().out
    # THEN everything but the two is fetched, and the failures are classified
    assert status == 1
    assert out.count("] fetched ") == 8, out
    assert "FAILED missing-1.0.tar.gz: not found:" in out
    assert "FAILED mismatch.txt: hash mismatch: sha256 hash mismatch" in out
    assert "10 sources: 0 already valid, 8 fetched, 2 failed (embedded store" in out
    assert "\n  missing-1.0.tar.gz: not found: http://" in out
    store = EmbeddedStore(target, read_only=[closure["copy"]])
    outputs = [store.read_derivation(p).fixed_output.path for p in closure["ok"].values()]
    assert store.query_valid(outputs) == set(outputs)
    # WHEN run again: nothing that is valid is fetched again
    requests = len(server.requests)
    status = main([*args, closure["good"]])
    out = capsys.readouterr().out
    assert status == 0
    assert "8 sources: 8 already valid, 0 fetched, 0 failed" in out
    assert len(server.requests) == requests


def test_rewrite_builds_todays_form(closure, tmp_path, capsys):
    target = tmp_path / "target"
    status = main([*_embedded_args(closure, tmp_path), "--rewrite", closure["old"]])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "fetching p-old-checkout (git-fetch)" in out
    # The rewritten .drv was added to the target store, and built.
    store = EmbeddedStore(target)
    drvs = [p.name for p in target.iterdir() if p.name.endswith(".drv")]
    assert len(drvs) == 1
    drv = store.read_derivation("/gnu/store/" + drvs[0])
    assert drv.builder == "builtin:git-download"
    assert store.is_valid(drv.fixed_output.path)


def test_bad_arguments(closure, capsys):
    assert (
        main(
            ["fetch", "--store", str(closure["copy"]), "--url-rewrite", "nonsense", closure["good"]]
        )
        == 2
    )
    assert "--url-rewrite 'nonsense': expected OLD=NEW" in capsys.readouterr().err
    assert (
        main(
            [
                "fetch",
                "--store",
                str(closure["copy"]),
                "--methods",
                "carrier-pigeon",
                closure["good"],
            ]
        )
        == 2
    )
    assert "unknown method 'carrier-pigeon'" in capsys.readouterr().err


def test_guix_backend_replays_a_recorded_build(
    guix_standin, daemon_store, recorded_drvs, monkeypatch, capsys
):
    """The hello-2.11 source, offline: the recorded `guix build` fails on every mirror."""
    for key, value in guix_standin.env().items():
        monkeypatch.setenv(key, value)
    drv = recorded_drvs["hello-2.11.tar.gz"]
    status = main(["fetch", "--backend", "guix", "--store", str(daemon_store.root), drv])
    out = capsys.readouterr().out
    assert status == 1
    assert "FAILED hello-2.11.tar.gz: network unreachable:" in out
    assert "(guix store" in out
    calls = [c[0] for c in guix_standin.calls()]
    # Planned: one query of the outputs, one of the .drv closure, one session
    # adding the .drv (recordings 21, 26), then the build (corpus 05).
    assert calls == [["repl", "-t", "machine"]] * 3 + [["build", "--no-grafts", drv]]


def test_terminal_display(closure, tmp_path, monkeypatch):
    """On a terminal: rich progress (overall bar, a line per fetch) and a table of failures."""
    import io

    from rich.console import Console

    from revive.tui.cli import fetch as fetch_command

    buffer = io.StringIO()
    monkeypatch.setattr(fetch_command, "is_terminal", lambda: True)
    monkeypatch.setattr(
        fetch_command, "console", lambda: Console(file=buffer, force_terminal=True, width=120)
    )
    status = main([*_embedded_args(closure, tmp_path), closure["mixed"]])
    text = buffer.getvalue()
    assert status == 1
    assert "sources" in text and "10/10" in text
    assert "failures" in text and "hash mismatch" in text and "not found" in text


def test_a_rerun_of_a_rewritten_fetch_finds_everything_valid(closure, tmp_path, capsys):
    args = [*_embedded_args(closure, tmp_path), "--rewrite", closure["good"]]
    assert main(args) == 0
    capsys.readouterr()
    assert main(args) == 0
    out = capsys.readouterr().out
    total = len(closure["ok"])
    assert f"{total} sources: {total} already valid, 0 fetched, 0 failed" in out


def test_dry_run_prints_the_plan_of_the_demo(tmp_path, capsys):
    """The generated demo's 2020 profile: rewritten, the old fetchers' own
    sources (git, subversion, mercurial, bzr, cvs tarballs) are not needed."""
    from revive.core.demo.generate import generate_demo

    demo = generate_demo(tmp_path / "demo")
    args = ["fetch", "--store", str(demo.store_dir), "--backend", "embedded", "--dry-run"]
    assert (
        main([*args, "--target-store", str(tmp_path / "t"), "--rewrite", demo.root_paths[0]]) == 0
    )
    out = capsys.readouterr().out
    for tool in ("git-2.26.0.tar.xz", "subversion-1.10.6.tar.gz", "cvs-1.12.13.tar.gz"):
        assert f"unneeded    {tool}\n" in out
    assert "49 sources: 0 valid, 7 unneeded, 0 fetch, 42 rewritten, 0 unfetchable" in out
    assert not (tmp_path / "t").exists()  # nothing written
    assert main([*args, demo.root_paths[0]]) == 0
    assert "49 sources: 0 valid, 0 unneeded, 49 fetch, 0 rewritten" in capsys.readouterr().out


def test_recreate_with_guix_is_a_choice(closure, guix_standin, monkeypatch, capsys):
    """--recreate-with-guix reaches the Guix backend's re-creation path."""
    from revive.core.stores import select

    seen = {}
    real = select.GuixStore

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(select, "GuixStore", spy)
    for key, value in guix_standin.env().items():
        monkeypatch.setenv(key, value)
    main(
        [
            "fetch",
            "--backend",
            "guix",
            "--recreate-with-guix",
            "--store",
            str(closure["copy"]),
            closure["ok"]["svn"],
        ]
    )
    assert seen["on_unsupported"] == "recreate"


@live_guix
def test_live_guix_rewrite_fetch_of_every_method(closure, monkeypatch, capsys):
    """With the live Guix of Feb 2022: every source of the closure (a loopback
    download built by the daemon; git, an in-band 2017 git FOD, svn, svn-multi,
    hg, bzr and cvs by guix-revive's builders + add-to-store) ends valid at its
    original output path, gc --verify=contents clean; a second run only queries."""
    import subprocess

    from revive.core.store_dir import StoreDir

    put_live_guix_on_path(monkeypatch)
    copy = StoreDir.open(closure["copy"])
    outputs = []
    for path in closure["ok"].values():
        drv = copy.read_bytes(path).decode()
        outputs.append(drv.split('("out","', 1)[1].split('"', 1)[0])
    # Fresh: delete what an earlier run made valid (nothing refers to it).
    subprocess.run(["guix", "gc", "-d", *outputs], capture_output=True)
    args = ["fetch", "--backend", "guix", "--rewrite", "--store", str(closure["copy"])]
    status = main([*args, *OFFLINE, closure["good"]])
    out = capsys.readouterr().out
    assert status == 0, out
    total = len(outputs)
    assert f"{total} sources: 0 already valid, {total} fetched, 0 failed" in out
    valid = subprocess.run(["guix", "gc", "--references", *outputs], capture_output=True)
    assert valid.returncode == 0, valid.stderr
    verify = subprocess.run(["guix", "gc", "--verify=contents"], capture_output=True, text=True)
    assert verify.returncode == 0, verify.stderr[-2000:]
    assert main([*args, *OFFLINE, closure["good"]]) == 0
    assert f"{total} sources: {total} already valid" in capsys.readouterr().out


def test_demo_serve_fetches_the_demo_offline(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The workshop story from the command line: two downloads fail as they were, all rewritten.

    As in the app: the demo is generated, its sources served on loopback, and
    fetched into a store of its own; a run again finds everything valid.
    """
    target = str(tmp_path) + "/fetched"
    assert main(["fetch", "--demo-serve", "--target-store", target]) == 1
    out = capsys.readouterr().out
    table = out.split("failures:\n")[1].splitlines()[:-1]
    assert sorted(line.split(":")[0].strip() for line in table) == [
        "flowCore_1.52.1.tar.gz",
        "kopi-0.4.1-checkout",
    ]
    assert "127.0.0.1" in out  # the loopback servers, never the 2020 URLs
    assert main(["fetch", "--demo-serve", "--rewrite", "--target-store", target]) == 0
    assert main(["fetch", "--demo-serve", "--target-store", target, "x.drv"]) == 0
    out, err = capsys.readouterr()
    assert "ignoring ROOT.drv" in err
    assert out.splitlines()[-1].startswith("54 sources: 54 already valid, 0 fetched, 0 failed")


def test_fetch_needs_roots_or_the_demo(capsys: pytest.CaptureFixture[str]) -> None:
    """No ROOT.drv and no --demo-serve: one line, exit 2."""
    assert main(["fetch"]) == 2
    assert capsys.readouterr().err == (
        "guix-revive: error: fetch: name the ROOT.drv to fetch (or --demo-serve: the demo's)\n"
    )
