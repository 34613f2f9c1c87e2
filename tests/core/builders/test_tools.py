"""Which program a fetch method needs, and whether it is installed."""

from __future__ import annotations

import shutil
from pathlib import Path

from revive.core.builders.tools import install_hint, is_installed, missing_program, needs_text
from revive.core.fetch.spec import FetchMethod


def test_missing_programs_by_method(tmp_path: Path) -> None:
    only_git = tmp_path / "bin"
    only_git.mkdir()
    git = shutil.which("git")
    assert git is not None
    (only_git / "git").symlink_to(git)
    path = str(only_git)
    assert is_installed("git", path) and not is_installed("svn", path)
    assert missing_program(FetchMethod.GIT, path) is None
    assert missing_program(FetchMethod.SVN, path) == "svn"
    assert missing_program(FetchMethod.SVN_MULTI, path) == "svn"
    assert missing_program(FetchMethod.BZR, path) == "brz"
    assert missing_program("hg-fetch", path) == "hg"
    assert missing_program(FetchMethod.CVS, path) == "cvs"
    # url-fetch needs no program; unknown methods are not guessed at.
    assert missing_program(FetchMethod.URL, path) is None
    assert missing_program("something-else", path) is None
    assert missing_program(None, path) is None
    assert needs_text("svn") == "needs svn (not installed)"
    assert install_hint("svn") == "install the Debian package 'subversion'"
