"""Byte-for-byte reproducible archives: tar, tar.gz, tar.xz and zip.

The demo's source tarballs end up in fixed-output hashes, so their bytes must
not depend on the machine. Python's ``zlib`` and ``lzma`` bindings link
whatever library the system has (zlib-ng, for instance, compresses
differently), so compression here never calls them: gzip members hold
*stored* deflate blocks and xz streams hold *uncompressed* LZMA2 chunks. Both
are valid files every ``gzip``/``xz``/``tar`` reads; they are simply not
smaller. Tar and zip headers come from the standard library with every
variable field fixed (times, owners, modes, order).
"""

from __future__ import annotations

import io
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, TypeAlias

__all__ = [
    "FileEntry",
    "Tree",
    "tar_bytes",
    "gzip_stored",
    "xz_uncompressed",
    "zip_bytes",
    "tree_files",
]


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One regular file of a generated tree."""

    data: bytes
    executable: bool = False


Tree: TypeAlias = Mapping[str, FileEntry]
"""A file tree: relative POSIX paths (no directories listed) to files."""

_DEFLATE_STORED_MAX: Final = 0xFFFF
_LZMA2_CHUNK_MAX: Final = 0x10000


def tree_files(tree: Tree) -> list[tuple[str, FileEntry]]:
    """The files of ``tree`` sorted by path (byte order, as archivers sort)."""
    return sorted(tree.items(), key=lambda item: item[0].encode())


def _directories(paths: list[str]) -> list[str]:
    dirs: set[str] = set()
    for path in paths:
        parts = path.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            dirs.add("/".join(parts[:depth]))
    return sorted(dirs, key=str.encode)


def tar_bytes(tree: Tree, mtime: int, prefix: str = "") -> bytes:
    """A ustar archive of ``tree`` (each path under ``prefix``, if given).

    Directories get their own entries; owners are root/root with no names;
    every entry has modification time ``mtime``.
    """
    files = tree_files(tree)
    paths = [f"{prefix}/{path}" if prefix else path for path, _ in files]
    entries: list[tuple[str, FileEntry | None]] = [(d, None) for d in _directories(paths)]
    entries += [(p, entry) for p, (_, entry) in zip(paths, files, strict=True)]
    entries.sort(key=lambda item: item[0].encode())
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        for path, entry in entries:
            info = tarfile.TarInfo(path if entry is not None else path + "/")
            info.mtime = mtime
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if entry is None:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                archive.addfile(info)
            else:
                info.size = len(entry.data)
                info.mode = 0o755 if entry.executable else 0o644
                archive.addfile(info, io.BytesIO(entry.data))
    return buffer.getvalue()


def gzip_stored(data: bytes) -> bytes:
    """A gzip member holding ``data`` in stored (uncompressed) deflate blocks.

    Header: no name, modification time 0, OS "unknown" (255).
    """
    out = bytearray(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff")
    if not data:
        out += b"\x01\x00\x00\xff\xff"
    for start in range(0, len(data), _DEFLATE_STORED_MAX):
        block = data[start : start + _DEFLATE_STORED_MAX]
        final = start + _DEFLATE_STORED_MAX >= len(data)
        # A stored block: BFINAL bit, BTYPE 00, then LEN and its complement.
        out += bytes([1 if final else 0])
        out += struct.pack("<HH", len(block), len(block) ^ 0xFFFF)
        out += block
    out += struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)
    return bytes(out)


def _varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _pad4(data: bytes) -> bytes:
    return data + bytes(-len(data) % 4)


def xz_uncompressed(data: bytes) -> bytes:
    """An xz stream (CRC32 check) whose one block stores ``data`` uncompressed.

    The block uses the LZMA2 filter with only uncompressed chunks (control
    byte 1 for the first chunk, which resets the dictionary, then 2).
    """
    stream_flags = b"\x00\x01"  # check type 1: CRC32
    header = b"\xfd7zXZ\x00" + stream_flags + struct.pack("<I", zlib.crc32(stream_flags))
    # Block header: size byte, flags (one filter, no optional sizes), the
    # LZMA2 filter (id 0x21, one property byte: smallest dictionary), padding.
    fields = _pad4(b"\x00\x00" + b"\x21\x01\x00")
    block_header = bytes([(len(fields) + 4) // 4 - 1]) + fields[1:]
    block_header += struct.pack("<I", zlib.crc32(block_header))
    chunks = bytearray()
    for start in range(0, len(data), _LZMA2_CHUNK_MAX):
        chunk = data[start : start + _LZMA2_CHUNK_MAX]
        chunks.append(1 if start == 0 else 2)
        chunks += struct.pack(">H", len(chunk) - 1)
        chunks += chunk
    chunks.append(0)
    unpadded = len(block_header) + len(chunks) + 4
    block = _pad4(block_header + bytes(chunks)) + struct.pack("<I", zlib.crc32(data))
    index = b"\x00" + _varint(1) + _varint(unpadded) + _varint(len(data))
    index = _pad4(index)
    index += struct.pack("<I", zlib.crc32(index))
    backward = struct.pack("<I", len(index) // 4 - 1) + stream_flags
    footer = struct.pack("<I", zlib.crc32(backward)) + backward + b"YZ"
    return header + block + index + footer


def zip_bytes(tree: Tree, date_time: tuple[int, int, int, int, int, int]) -> bytes:
    """A zip archive of ``tree``, entries stored (not deflated), sorted, Unix modes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for path, entry in tree_files(tree):
            info = zipfile.ZipInfo(path, date_time=date_time)
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = 3
            info.external_attr = (0o100755 if entry.executable else 0o100644) << 16
            archive.writestr(info, entry.data)
    return buffer.getvalue()
