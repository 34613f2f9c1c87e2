"""NAR ("Nix archive") serialisation and hashing of file-system trees.

``guix-derivations.md`` §4. Serialisation streams: file contents are read in
fixed-size chunks, so hashing a 1 GB file uses constant memory. Symlinks are
never followed; anything that is not a regular file, directory or symlink is
an error.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from typing import BinaryIO, Final

from revive.core.errors import ReviveError
from revive.core.hashes import new_hasher

__all__ = [
    "NarError",
    "VCS_NAMES",
    "iter_nar",
    "dump_nar",
    "nar_hash",
    "nar_size",
    "file_hash",
]

CHUNK_SIZE: Final = 1 << 20
"""Bytes read from a file at a time."""

VCS_NAMES: Final = frozenset({".bzr", ".git", ".hg", ".svn", "CVS"})
"""Directory entries ``guix hash -x`` leaves out (plus a *file* named ``.git``)."""

_ZEROS: Final = bytes(8)


class NarError(ReviveError):
    """A tree that cannot be serialised (special file, unreadable entry)."""


def _u64(value: int) -> bytes:
    return value.to_bytes(8, "little")


def _str(data: bytes) -> bytes:
    pad = -len(data) % 8
    return _u64(len(data)) + data + _ZEROS[:pad]


_MAGIC: Final = _str(b"nix-archive-1")
_OPEN: Final = _str(b"(")
_CLOSE: Final = _str(b")")
_TYPE: Final = _str(b"type")
_REGULAR: Final = _str(b"regular")
_EXECUTABLE: Final = _str(b"executable") + _str(b"")
_CONTENTS: Final = _str(b"contents")
_SYMLINK: Final = _str(b"symlink")
_TARGET: Final = _str(b"target")
_DIRECTORY: Final = _str(b"directory")
_ENTRY: Final = _str(b"entry")
_NAME: Final = _str(b"name")
_NODE: Final = _str(b"node")


def _exclude_vcs(name: bytes, mode: int) -> bool:
    if stat.S_ISDIR(mode):
        return name.decode("utf-8", "surrogateescape") in VCS_NAMES
    return name == b".git" and stat.S_ISREG(mode)


def iter_nar(path: str | os.PathLike[str], exclude_vcs: bool = False) -> Iterator[bytes]:
    """Yield the NAR serialisation of ``path`` in chunks.

    Args:
        path: a regular file, symlink or directory (not followed if a symlink).
        exclude_vcs: skip ``.git``/``.svn``/``.hg``/``.bzr``/``CVS`` directories
            and ``.git`` files below the top level, as ``guix hash -rx`` does.

    Raises:
        NarError: a special file, or an entry that cannot be read.
    """
    yield _MAGIC
    yield from _node(os.fsencode(path), exclude_vcs)


def _node(path: bytes, exclude_vcs: bool) -> Iterator[bytes]:
    try:
        info = os.lstat(path)
    except OSError as err:
        raise NarError(f"{os.fsdecode(path)}: {err.strerror}") from None
    mode = info.st_mode
    yield _OPEN + _TYPE
    if stat.S_ISREG(mode):
        yield _REGULAR
        if mode & 0o100:
            yield _EXECUTABLE
        yield _CONTENTS
        yield _u64(info.st_size)
        written = 0
        try:
            with _open_regular(path, follow=False) as handle:
                while chunk := handle.read(CHUNK_SIZE):
                    written += len(chunk)
                    yield chunk
        except OSError as err:
            raise NarError(f"{os.fsdecode(path)}: {err.strerror}") from None
        if written != info.st_size:
            raise NarError(f"{os.fsdecode(path)}: file changed size while being read")
        yield _ZEROS[: -written % 8]
    elif stat.S_ISLNK(mode):
        yield _SYMLINK + _TARGET + _str(os.readlink(path))
    elif stat.S_ISDIR(mode):
        yield _DIRECTORY
        try:
            names = sorted(os.listdir(path))
        except OSError as err:
            raise NarError(f"{os.fsdecode(path)}: {err.strerror}") from None
        for name in names:
            child = path + b"/" + name
            if exclude_vcs and _exclude_vcs(name, os.lstat(child).st_mode):
                continue
            yield _ENTRY + _OPEN + _NAME + _str(name) + _NODE
            yield from _node(child, exclude_vcs)
            yield _CLOSE
    else:
        raise NarError(f"{os.fsdecode(path)}: cannot archive a special file (mode {mode:o})")
    yield _CLOSE


def _open_regular(path: str | bytes | os.PathLike[str], follow: bool) -> BinaryIO:
    """Open a regular file for reading, refusing anything else.

    ``O_NONBLOCK`` keeps a FIFO from blocking the open forever (opening it
    would wait for a writer), and ``O_NOFOLLOW`` (``follow=False``) keeps a
    file swapped for a symlink after ``lstat`` from being followed.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW)
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        os.close(fd)
        raise
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise NarError(f"{os.fsdecode(path)}: not a regular file (mode {mode:o})")
    return open(fd, "rb")


def dump_nar(path: str | os.PathLike[str], exclude_vcs: bool = False) -> bytes:
    """The whole NAR of ``path`` as bytes (for small trees and tests)."""
    return b"".join(iter_nar(path, exclude_vcs))


def nar_hash(
    path: str | os.PathLike[str],
    algorithm: str = "sha256",
    exclude_vcs: bool = False,
    progress: Callable[[int], None] | None = None,
) -> bytes:
    """Digest of the NAR of ``path`` (a recursive hash), in constant memory.

    ``progress`` is called with the running byte count after each chunk.
    """
    hasher = new_hasher(algorithm)
    total = 0
    for chunk in iter_nar(path, exclude_vcs):
        hasher.update(chunk)
        if progress is not None:
            total += len(chunk)
            progress(total)
    return hasher.digest()


def nar_size(path: str | os.PathLike[str], exclude_vcs: bool = False) -> int:
    """Size in bytes of the NAR of ``path``."""
    return sum(len(chunk) for chunk in iter_nar(path, exclude_vcs))


def file_hash(path: str | os.PathLike[str], algorithm: str = "sha256") -> bytes:
    """Flat digest of a regular file's bytes, read in chunks.

    Raises:
        NarError: ``path`` is not a regular file (a directory, a FIFO…).
        OSError: it cannot be opened or read.
    """
    hasher = new_hasher(algorithm)
    with _open_regular(path, follow=True) as handle:
        while chunk := handle.read(CHUNK_SIZE):
            hasher.update(chunk)
    return hasher.digest()
