"""Generating the demo where some version-control programs are missing, with progress."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from programs import write_program

from revive.core.demo.generate import GenerateProgress, generate_demo, is_up_to_date
from revive.core.store_dir import StoreDir


def _bin_with(tmp_path: Path, *programs: str) -> str:
    """A PATH of one directory holding only ``programs`` (and python), as links."""
    where = tmp_path / "bin"
    where.mkdir(exist_ok=True)
    for name in (*programs, "python3"):
        found = shutil.which(name) if name != "python3" else sys.executable
        assert found is not None, name
        (where / name).symlink_to(found)
    return str(where)


def test_without_any_vcs_program_the_demo_is_whole_and_says_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN no git, svnadmin, hg, brz or cvs WHEN generating THEN every source is there,
    the repositories are left out, and each VCS source names its program."""
    monkeypatch.setenv("PATH", _bin_with(tmp_path))
    steps: list[GenerateProgress] = []
    env = generate_demo(tmp_path / "demo", steps.append)
    needs = {s.drv_path.split("-", 1)[1]: s.needs for s in env.sources if s.needs}
    assert needs == {
        "txt2man-1.6.0-checkout.drv": "git",
        "txt2man-1.7.1-checkout.drv": "git",
        "kopi-0.4.1-checkout.drv": "git",
        "sxiv-1.3.2-checkout.drv": "git",
        "texlive-ae-2019.3-checkout.drv": "svn",
        "texlive-latex-fancyvrb-2019.3-checkout.drv": "svn",
        "seek-1.0.3-checkout.drv": "hg",
        "indicator-demo-0.4-checkout.drv": "brz",
        "emacs-w3m-1.4.632-checkout.drv": "cvs",
    }
    assert env.missing_programs == ("brz", "cvs", "git", "hg", "svn")
    # Every .drv is in the store all the same; the url-fetch sources are served.
    store = StoreDir.open(env.store_dir, env.logical_store_dir)
    assert all(store.exists(s.drv_path) for s in env.sources)
    assert sorted(p.name for p in env.upstream_dir.iterdir()) == ["cas", "files", "nar"]
    assert all((env.upstream_dir / f).is_file() for _, f in env.http_files)
    # Steps: the store first (total not known yet), then one per repository.
    assert [s.done for s in steps] == list(range(len(steps)))
    assert all(s.total is None for s in steps[:6])
    assert {s.total for s in steps[6:]} == {len(steps) - 1} == {14}
    assert sum("left out" in s.step for s in steps) == 7
    assert "needs svn (not installed)" in "\n".join(s.step for s in steps)
    # Opening it again on this machine: nothing to do.
    again: list[GenerateProgress] = []
    assert generate_demo(tmp_path / "demo", again.append) == env and again == []


def test_with_git_only_and_then_every_program_the_demo_is_completed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Installing the missing programs later makes the next open generate the whole demo."""
    full_path = os.environ["PATH"]
    monkeypatch.setenv("PATH", _bin_with(tmp_path, "git"))
    env = generate_demo(tmp_path / "demo")
    assert env.missing_programs == ("brz", "cvs", "hg", "svn")
    assert (env.upstream_dir / "git/github.com/mvertes/txt2man").is_dir()
    assert not (env.upstream_dir / "svn").exists()
    assert is_up_to_date(env)
    monkeypatch.setenv("PATH", full_path)
    if not all(shutil.which(p) for p in ("svnadmin", "hg", "brz", "cvs")):
        pytest.skip("needs every version-control program installed")
    assert not is_up_to_date(env)
    whole = generate_demo(tmp_path / "demo")
    assert whole.missing_programs == ()
    assert (whole.upstream_dir / "svn/www.tug.org/texlive").is_dir()
    # Same store, same sources: only what they need changed.
    assert [s.drv_path for s in whole.sources] == [s.drv_path for s in env.sources]


def test_a_stuck_vcs_program_is_an_error_not_a_hang(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A version-control command that never ends is stopped and reported."""
    from revive.core.demo import repos

    where = tmp_path / "bin"
    write_program(where, "git", "#!/bin/sh\nexec sleep 60\n")
    monkeypatch.setenv("PATH", f"{where}:/usr/bin:/bin")
    monkeypatch.setattr(repos, "_TIMEOUT", 1)
    with pytest.raises(repos.RepositoryError, match=r"git -c init.defaultBranch=master… did not"):
        repos.make_git_repo(tmp_path / "repo.git", [], tmp_path / "scratch")
