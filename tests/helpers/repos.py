"""Repositories for the tests: a tree of files, and git, svn, hg, bzr and CVS
repositories holding it, made with the real tools.

Shared by the builder, store, env and CLI tests (``tests/helpers`` is on the
tests' import path; test modules cannot import each other).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from revive.core.builders.process import tool_environment


def run(argv: list[str], cwd: Path | None = None, **env: str) -> str:
    """Run a command for test setup; fail the test with its output if it fails."""
    # The same environment the builders give the tools (no virtualenv on PATH,
    # which would break Debian's brz).
    full_env = {**tool_environment(), "LC_ALL": "C.UTF-8", **env}
    proc = subprocess.run(argv, cwd=cwd, env=full_env, capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.fail(f"{' '.join(argv)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def write_tree(root: Path, files: dict[str, bytes | str]) -> None:
    """Create ``files`` under ``root``: ``"x/y": b"…"``; a ``"->target"`` str is a
    symlink, a name ending in ``*`` an executable."""
    for name, content in files.items():
        executable = name.endswith("*")
        path = root / name.rstrip("*")
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            os.symlink(content.removeprefix("->"), path)
            continue
        path.write_bytes(content)
        path.chmod(0o755 if executable else 0o644)


GIT_ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.org",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.org",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
}


BRZ_ENV = {"BRZ_EMAIL": "Test <test@example.org>", "BRZ_LOG": "/dev/null"}
HG_ENV = {"HGRCPATH": ""}


def _top_level(files: dict[str, bytes | str]) -> list[str]:
    return sorted({name.rstrip("*").split("/", 1)[0] for name in files})


def git_repo(repo: Path, files: dict[str, bytes | str], tag: str | None = None) -> str:
    """A git repository at ``repo`` holding ``files`` in one commit, tagged ``tag``;
    returns the commit's hash."""
    run(["git", "init", "-q", str(repo)], **GIT_ENV)
    write_tree(repo, files)
    run(["git", "-C", str(repo), "add", "."], **GIT_ENV)
    run(["git", "-C", str(repo), "commit", "-qm", "one"], **GIT_ENV)
    if tag is not None:
        run(["git", "-C", str(repo), "tag", tag], **GIT_ENV)
    return run(["git", "-C", str(repo), "rev-parse", "HEAD"], **GIT_ENV).strip()


def svn_repo(repo: Path, work: Path, files: dict[str, bytes | str]) -> None:
    """An svn repository at ``repo`` whose revision 1 adds ``files``; ``work`` is
    left as its working copy (for later revisions)."""
    run(["svnadmin", "create", str(repo)])
    run(["svn", "checkout", "-q", repo.as_uri(), str(work)])
    write_tree(work, files)
    run(["svn", "add", "-q", *_top_level(files)], cwd=work)
    run(["svn", "commit", "-q", "-m", "r1"], cwd=work)


def hg_repo(repo: Path, files: dict[str, bytes | str]) -> str:
    """A Mercurial repository at ``repo`` holding ``files`` in one changeset; returns its id."""
    run(["hg", "init", str(repo)], **HG_ENV)
    write_tree(repo, files)
    run(["hg", "-R", str(repo), "commit", "-A", "-q", "-u", "test", "-m", "one"], **HG_ENV)
    return run(["hg", "-R", str(repo), "id", "-i"], **HG_ENV).strip()


def bzr_branch(branch: Path, files: dict[str, bytes | str]) -> None:
    """A Bazaar branch at ``branch`` whose revision 1 holds ``files``."""
    run(["brz", "init", "-q", str(branch)], **BRZ_ENV)
    write_tree(branch, files)
    run(["brz", "add", "-q"], cwd=branch, **BRZ_ENV)
    run(["brz", "commit", "-q", "-m", "one"], cwd=branch, **BRZ_ENV)


def cvs_module(root: Path, source: Path, module: str, files: dict[str, bytes | str]) -> None:
    """A CVS repository at ``root`` with ``files`` imported (from ``source``) as
    ``module``, tagged ``v1``."""
    run(["cvs", "-d", str(root), "init"])
    write_tree(source, files)
    run(["cvs", "-d", str(root), "import", "-m", "i", module, "vendor", "start"], cwd=source)
    run(["cvs", "-d", str(root), "rtag", "v1", module])
