"""Restore a NAR into a file-system tree (the inverse of :mod:`revive.core.nar`).

``guix-derivations.md`` §4.2. The reader is strict, because its input comes
from the network (a nar mirror): names must be valid and strictly sorted,
padding must be zero, and nothing may follow the archive. Files are created
0644, or 0755 when executable; the store canonicalises modes afterwards.
Contents are copied in chunks, so a 1 GB file needs constant memory.
"""

from __future__ import annotations

import os
from typing import BinaryIO, Final

from revive.core.nar import NarError

__all__ = ["restore_nar", "restore_nar_file"]

_CHUNK: Final = 1 << 20
_MAX_TOKEN: Final = 4096
"""Longest name, symlink target or keyword accepted (Linux's PATH_MAX)."""


class _Reader:
    """Framing primitives over a stream, counting bytes for error messages."""

    __slots__ = ("stream", "offset")

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.offset = 0

    def exact(self, size: int) -> bytes:
        data = self.stream.read(size)
        if len(data) != size:
            raise NarError(f"NAR truncated at byte {self.offset + len(data)}")
        self.offset += size
        return data

    def u64(self) -> int:
        return int.from_bytes(self.exact(8), "little")

    def padding(self, size: int) -> None:
        pad = -size % 8
        if pad and self.exact(pad) != bytes(pad):
            raise NarError(f"non-zero NAR padding at byte {self.offset - pad}")

    def string(self) -> bytes:
        size = self.u64()
        if size > _MAX_TOKEN:
            raise NarError(f"NAR string of {size} bytes at byte {self.offset - 8}")
        data = self.exact(size)
        self.padding(size)
        return data

    def expect(self, token: bytes) -> None:
        at = self.offset
        got = self.string()
        if got != token:
            raise NarError(f"expected {token.decode()!r} at byte {at} of the NAR, got {got!r}")


def restore_nar(stream: BinaryIO, dest: str | os.PathLike[str]) -> int:
    """Create ``dest`` (which must not exist) from the NAR read from ``stream``.

    Returns:
        The number of NAR bytes read.

    Raises:
        NarError: the stream is not a well-formed NAR (what was created so far
            is left for the caller to delete).
    """
    reader = _Reader(stream)
    reader.expect(b"nix-archive-1")
    _node(reader, os.fsencode(dest))
    if stream.read(1):
        raise NarError(f"data after the end of the NAR at byte {reader.offset}")
    return reader.offset


def restore_nar_file(nar: str | os.PathLike[str], dest: str | os.PathLike[str]) -> int:
    """:func:`restore_nar` from the file ``nar``."""
    with open(nar, "rb") as stream:
        return restore_nar(stream, dest)


def _node(reader: _Reader, path: bytes) -> None:
    reader.expect(b"(")
    reader.expect(b"type")
    kind = reader.string()
    if kind == b"regular":
        _regular(reader, path)
    elif kind == b"symlink":
        reader.expect(b"target")
        target = reader.string()
        if not target or b"\0" in target:
            raise NarError(f"invalid symlink target at byte {reader.offset}")
        os.symlink(target, path)
        reader.expect(b")")
    elif kind == b"directory":
        os.mkdir(path, 0o755)
        _directory(reader, path)
    else:
        raise NarError(f"unknown NAR node type {kind!r} at byte {reader.offset}")


def _regular(reader: _Reader, path: bytes) -> None:
    at = reader.offset
    tag = reader.string()
    executable = False
    if tag == b"executable":
        reader.expect(b"")
        executable = True
        at = reader.offset
        tag = reader.string()
    if tag != b"contents":
        raise NarError(f"expected 'contents' at byte {at} of the NAR, got {tag!r}")
    size = reader.u64()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o755 if executable else 0o644)
    with os.fdopen(fd, "wb") as out:
        left = size
        while left:
            chunk = reader.stream.read(min(left, _CHUNK))
            if not chunk:
                raise NarError(f"NAR truncated at byte {reader.offset}")
            out.write(chunk)
            reader.offset += len(chunk)
            left -= len(chunk)
    reader.padding(size)
    reader.expect(b")")


def _directory(reader: _Reader, path: bytes) -> None:
    previous: bytes | None = None
    while True:
        at = reader.offset
        tag = reader.string()
        if tag == b")":
            return
        if tag != b"entry":
            raise NarError(f"expected 'entry' or ')' at byte {at} of the NAR, got {tag!r}")
        reader.expect(b"(")
        reader.expect(b"name")
        name = reader.string()
        if not name or name in (b".", b"..") or b"/" in name or b"\0" in name:
            raise NarError(f"invalid entry name {name!r} at byte {reader.offset}")
        if previous is not None and name <= previous:
            raise NarError(f"NAR entries not sorted at {name!r} (byte {reader.offset})")
        previous = name
        reader.expect(b"node")
        _node(reader, path + b"/" + name)
        reader.expect(b")")
