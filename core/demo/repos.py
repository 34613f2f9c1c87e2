"""Create the demo's upstream version-control repositories with the real tools.

Each repository holds a short history of generated file trees. What a fetch
of a given revision checks out is exactly one of those trees, so the demo's
fixed-output hashes are computed from the trees themselves
(:func:`revive.core.nar.nar_hash`), never from the repositories: a different
``git``/``hg``/``svn``/``brz``/``cvs`` version may store its repository
differently but checks out the same files.

Everything that could vary is pinned: author names, e-mails and dates (git,
hg, bzr), the Subversion history (loaded from a dump file written here,
with fixed dates and UUID), and the user's configuration files are ignored
(``HOME`` points to a scratch directory).
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from revive.core.builders.process import tool_search_path
from revive.core.demo.archive import Tree, tree_files
from revive.core.demo.store_builder import write_tree
from revive.core.errors import ReviveError

__all__ = [
    "Revision",
    "RepositoryError",
    "AUTHOR_NAME",
    "AUTHOR_EMAIL",
    "make_git_repo",
    "make_hg_repo",
    "make_svn_repo",
    "make_bzr_repo",
    "make_cvs_repo",
]

AUTHOR_NAME: Final = "Demo Upstream"
"""Author and committer of every demo commit."""
AUTHOR_EMAIL: Final = "upstream@demo.invalid"
"""Their e-mail address (``.invalid``: it must never resolve)."""
_SVN_UUID: Final = "3a7b1c2d-0000-4000-8000-000000002020"
_TIMEOUT: Final = 300
"""Seconds one version-control command may take (each takes about one)."""


class RepositoryError(ReviveError):
    """A version-control tool is missing or failed while creating a repository."""


@dataclass(frozen=True, slots=True)
class Revision:
    """One commit: the files it adds or changes, its message, time and tag."""

    tree: Tree
    """Files written before committing (relative to the repository root)."""
    message: str
    """Commit message."""
    timestamp: int
    """Commit time, seconds since the epoch (UTC)."""
    tag: str | None = None
    """Tag put on this commit, if any."""


def _run(argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> None:
    try:
        result = subprocess.run(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
            timeout=_TIMEOUT,
        )
    except FileNotFoundError:
        raise RepositoryError(f"{argv[0]}: command not found (needed by the demo)") from None
    except subprocess.TimeoutExpired:
        # A stuck tool must not leave the demo loading forever.
        raise RepositoryError(
            f"{' '.join(argv[:3])}… did not finish in {_TIMEOUT} s (needed by the demo)"
        ) from None
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).decode(errors="replace").strip()
        raise RepositoryError(f"{' '.join(argv[:3])}… failed: {detail}")


def _base_env(home: Path) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": tool_search_path(os.environ.get("PATH", "/usr/bin:/bin")),
        "HOME": str(home),
        "LC_ALL": "C",
        "TZ": "UTC",
    }


def _iso(timestamp: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S +0000", time.gmtime(timestamp))


# --- git ------------------------------------------------------------------------


def make_git_repo(dest: Path, history: Sequence[Revision], scratch: Path) -> None:
    """A bare git repository at ``dest`` (ready for ``file://`` and dumb HTTP)."""
    work = scratch / "git-work"
    env = _base_env(scratch / "home") | {
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_AUTHOR_NAME": AUTHOR_NAME,
        "GIT_AUTHOR_EMAIL": AUTHOR_EMAIL,
        "GIT_COMMITTER_NAME": AUTHOR_NAME,
        "GIT_COMMITTER_EMAIL": AUTHOR_EMAIL,
    }
    _run(["git", "-c", "init.defaultBranch=master", "init", "-q", str(work)], scratch, env)
    for revision in history:
        write_tree(work, revision.tree)
        stamp = f"@{revision.timestamp} +0000"
        dated = env | {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
        _run(["git", "add", "-A"], work, dated)
        _run(["git", "commit", "-q", "--no-verify", "-m", revision.message], work, dated)
        if revision.tag:
            # A lightweight tag: an annotated one would carry its own date.
            _run(["git", "tag", revision.tag], work, dated)
    dest.parent.mkdir(parents=True, exist_ok=True)
    _run(["git", "clone", "-q", "--bare", "--no-hardlinks", str(work), str(dest)], scratch, env)
    _run(["git", "update-server-info"], dest, env)


# --- Mercurial --------------------------------------------------------------------


def make_hg_repo(dest: Path, history: Sequence[Revision], scratch: Path) -> None:
    """A Mercurial repository (with working copy) at ``dest``."""
    env = _base_env(scratch / "home") | {
        "HGRCPATH": "",
        "HGPLAIN": "1",
        "HGENCODING": "utf-8",
        "HGUSER": f"{AUTHOR_NAME} <{AUTHOR_EMAIL}>",
    }
    dest.parent.mkdir(parents=True, exist_ok=True)
    _run(["hg", "init", str(dest)], scratch, env)
    for revision in history:
        write_tree(dest, revision.tree)
        date = f"{revision.timestamp} 0"
        _run(["hg", "commit", "-q", "--addremove", "-m", revision.message, "-d", date], dest, env)
        if revision.tag:
            _run(["hg", "tag", "-d", date, revision.tag], dest, env)


# --- Subversion ----------------------------------------------------------------


def _props(props: Sequence[tuple[str, str]]) -> bytes:
    out = bytearray()
    for key, value in props:
        k, v = key.encode(), value.encode()
        out += b"K %d\n%s\nV %d\n%s\n" % (len(k), k, len(v), v)
    return bytes(out + b"PROPS-END\n")


def _svn_date(timestamp: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(timestamp))


def svn_dump(history: Sequence[Revision]) -> bytes:
    """A Subversion dump (format 2) that adds or changes the files of ``history``.

    Revision ``n`` of the loaded repository is ``history[n - 1]``.
    """
    out = bytearray(b"SVN-fs-dump-format-version: 2\n\nUUID: %s\n\n" % _SVN_UUID.encode())
    first = history[0].timestamp if history else 0
    props = _props([("svn:date", _svn_date(first))])
    out += b"Revision-number: 0\nProp-content-length: %d\nContent-length: %d\n\n%s\n" % (
        len(props),
        len(props),
        props,
    )
    known_dirs: set[str] = set()
    known_files: set[str] = set()
    for number, revision in enumerate(history, start=1):
        props = _props(
            [
                ("svn:author", "demo"),
                ("svn:date", _svn_date(revision.timestamp)),
                ("svn:log", revision.message),
            ]
        )
        out += b"Revision-number: %d\nProp-content-length: %d\nContent-length: %d\n\n%s\n" % (
            number,
            len(props),
            len(props),
            props,
        )
        for path, entry in tree_files(revision.tree):
            parts = path.split("/")
            for depth in range(1, len(parts)):
                directory = "/".join(parts[:depth])
                if directory not in known_dirs:
                    known_dirs.add(directory)
                    empty = _props([])
                    out += (
                        b"Node-path: %s\nNode-kind: dir\nNode-action: add\n"
                        b"Prop-content-length: %d\nContent-length: %d\n\n%s\n\n"
                        % (directory.encode(), len(empty), len(empty), empty)
                    )
            action = b"change" if path in known_files else b"add"
            known_files.add(path)
            file_props = _props([("svn:executable", "*")] if entry.executable else [])
            out += (
                b"Node-path: %s\nNode-kind: file\nNode-action: %s\n"
                b"Prop-content-length: %d\nText-content-length: %d\nContent-length: %d\n\n"
                % (
                    path.encode(),
                    action,
                    len(file_props),
                    len(entry.data),
                    len(file_props) + len(entry.data),
                )
            )
            out += file_props + entry.data + b"\n\n"
    return bytes(out)


def make_svn_repo(dest: Path, history: Sequence[Revision], scratch: Path) -> None:
    """A Subversion repository at ``dest`` (use it as ``file://dest/…``)."""
    env = _base_env(scratch / "home")
    dump = scratch / "svn.dump"
    dump.write_bytes(svn_dump(history))
    dest.parent.mkdir(parents=True, exist_ok=True)
    _run(["svnadmin", "create", str(dest)], scratch, env)
    _run(["svnadmin", "load", "-q", "--file", str(dump), str(dest)], scratch, env)


# --- Bazaar (Breezy) ---------------------------------------------------------------


def make_bzr_repo(dest: Path, history: Sequence[Revision], scratch: Path) -> None:
    """A standalone Bazaar branch with working tree at ``dest``; revno n = history[n-1]."""
    env = _base_env(scratch / "home") | {
        "BRZ_EMAIL": f"{AUTHOR_NAME} <{AUTHOR_EMAIL}>",
        "BRZ_LOG": os.devnull,
    }
    dest.parent.mkdir(parents=True, exist_ok=True)
    # --no-plugins: nothing the demo needs, and plugins slow every start-up.
    _run(["brz", "--no-plugins", "init", "-q", str(dest)], scratch, env)
    for revision in history:
        write_tree(dest, revision.tree)
        _run(["brz", "--no-plugins", "add", "-q"], dest, env)
        _run(
            [
                "brz",
                "--no-plugins",
                "commit",
                "-q",
                "-m",
                revision.message,
                "--commit-time",
                _iso(revision.timestamp),
            ],
            dest,
            env,
        )
        if revision.tag:
            _run(["brz", "--no-plugins", "tag", "-q", revision.tag], dest, env)


# --- CVS ---------------------------------------------------------------------------


def make_cvs_repo(root: Path, module: str, revision: Revision, scratch: Path) -> None:
    """A CVS repository at ``root`` whose ``module`` is imported from ``revision``.

    The import's release tag is ``revision.tag``; files are imported with
    keyword expansion off (``-ko``) so a checkout is byte-identical to the tree.
    """
    if not revision.tag:
        raise ValueError("a CVS import needs a release tag")
    env = _base_env(scratch / "home")
    root.parent.mkdir(parents=True, exist_ok=True)
    _run(["cvs", "-Q", "-d", str(root), "init"], scratch, env)
    source = scratch / "cvs-import"
    write_tree(source, revision.tree)
    _run(
        [
            "cvs",
            "-Q",
            "-d",
            str(root),
            "import",
            "-ko",
            "-m",
            revision.message,
            module,
            "DEMO_VENDOR",
            revision.tag,
        ],
        source,
        env,
    )
