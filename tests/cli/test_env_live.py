"""``guix-revive env --roots FILE --fetch --backend guix`` against the live daemon.

The issue's proof: roots lowered into the real store whose sources are a url
download (today's form, loopback HTTP), an old in-band git checkout and an svn
checkout (repositories in temp dirs) end up valid at their original output
paths, ``guix gc --verify=contents`` is clean, and ``guix build`` of the root
downloads nothing. Skipped unless ``GUIX_REVIVE_LIVE_GUIX=1`` (set up with
``scripts/live-guix.sh``; the wrapper is put first on PATH here only).
"""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest
from fixture_modules import conftest_of
from live_guix import live_guix, put_live_guix_on_path
from repos import git_repo, svn_repo

from revive.core.derivation import Derivation
from revive.core.fetch.spec import UrlFetch
from revive.core.stores.guix import GuixStore
from revive.tui.cli import main

env_fixtures = conftest_of("core/env")
builders = env_fixtures.builders
store_fixtures = env_fixtures.store_fixtures
loopback = env_fixtures.loopback
expected_output = env_fixtures.expected_output

pytestmark = live_guix

_GUILE = store_fixtures.OLD_GUILE


@pytest.fixture(autouse=True)
def live_guix_on_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    put_live_guix_on_path(monkeypatch)
    monkeypatch.chdir(tmp_path)


def guix(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["guix", *args], capture_output=True, text=True)


def test_env_fetch_makes_every_source_valid_and_the_root_builds(loopback, tmp_path, capsys):
    salt = uuid.uuid4().hex
    files = {"README": f"salt {salt}\n".encode(), "src/a.c": b"int a;\n"}
    ref = tmp_path / "ref"
    builders.write_tree(ref, files)
    copy = store_fixtures.StoreCopy(tmp_path / "copy")
    data = f"a tarball, salt {salt}\n".encode()
    loopback.files["/hello-1.0.tar.gz"] = data
    url = copy.add_spec(
        UrlFetch(
            expected_output("hello-1.0.tar.gz", data=data), (loopback.url("/hello-1.0.tar.gz"),)
        )
    )
    git = tmp_path / "git"
    git_repo(git, files, tag="v1")
    git_out = expected_output("p-git-checkout", tree=ref)
    git_env = (("git commit", "v1"), ("git recursive?", "#f"), ("git url", git.as_uri()))
    git_drv = copy.add_in_band(git_out, "git-download", git_env)
    svn = tmp_path / "svnrepo"
    svn_repo(svn, tmp_path / "svnwork", files)
    svn_out = expected_output("p-svn-checkout", tree=ref)
    svn_env = (("svn revision", "1"), ("svn url", svn.as_uri()))
    svn_drv = copy.add_in_band(svn_out, "svn-download", svn_env)
    fods = [url, git_drv, svn_drv]

    # "Lowering": the original .drv files and a root using their outputs enter
    # the real store, as `guix time-machine -- build -d` would leave them.
    store = GuixStore(read_only=[copy.root])
    store.import_derivations(fods)
    inputs = [f'(list (read-derivation-from-file "{p}"))' for p in fods]
    root = store_fixtures.busybox_derivation(
        tmp_path, "uses-revived-sources", _outputs(copy, fods), inputs
    )
    roots = tmp_path / "roots.txt"
    roots.write_text(root + "\n")

    status = main(["env", "--roots", str(roots), "--backend", "guix", "--fetch", "--json",
                   "--no-substitutes", "--methods", "upstream", "--retries", "0",
                   "--target-store", str(tmp_path / "embedded")])  # fmt: skip
    captured = capsys.readouterr()
    assert status == 0, captured.err
    found = {r["drv"]: r for r in map(json.loads, captured.out.splitlines())}
    assert {d: r["state"] for d, r in found.items()} == dict.fromkeys(fods, "present")
    out_paths = _outputs(copy, fods)
    assert store.query_valid(out_paths) == set(out_paths)
    # Today's git and svn forms, which this daemon cannot build, were never registered.
    rewritten = [found[d]["rewritten"] for d in fods[1:]]
    assert store.query_valid(rewritten) == set()
    verify = guix("gc", "--verify=contents")
    assert verify.returncode == 0, verify.stderr[-2000:]
    assert "corrupt" not in verify.stderr and "invalid" not in verify.stderr
    built = guix("build", "--no-grafts", root)
    assert built.returncode == 0, built.stderr[-2000:]
    for fod in fods:
        assert Path(fod).name not in built.stderr  # nothing fetched again
    assert "downloading" not in built.stderr and "substitut" not in built.stderr
    listed = Path(built.stdout.split()[-1]).read_text().split()
    assert listed == out_paths
    print(json.dumps({"root": root, "outputs": out_paths, "build_stderr": built.stderr[-800:]}))

    # A rerun resumes: every source present from the one query, the roots built (--build).
    again = main(["env", "--roots", str(roots), "--backend", "guix", "--fetch", "--build",
                  "--no-substitutes", "--target-store", str(tmp_path / "embedded")])  # fmt: skip
    captured = capsys.readouterr()
    assert again == 0, captured.err
    assert "3 sources (guix store): 3 present" in captured.out
    assert "build uses-revived-sources: built" in captured.out


def _outputs(copy, fods: list[str]) -> list[str]:
    from revive.core.aterm import parse_derivation_bytes

    found = []
    for path in fods:
        data = (copy.root / Path(path).name).read_bytes()
        drv = parse_derivation_bytes(data, path, Derivation.name_from_path(path))
        found.append(drv.outputs[0].path)
    return found
