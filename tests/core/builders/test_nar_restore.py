"""Restoring NARs: round trips, and the malformed archives a mirror could send."""

from __future__ import annotations

import io
import os
import struct

import pytest

from revive.core.nar import NarError, dump_nar
from revive.core.nar_restore import restore_nar


def s(data: bytes) -> bytes:
    return struct.pack("<Q", len(data)) + data + b"\0" * (-len(data) % 8)


def test_round_trip_of_a_tree(tmp_path, make_tree):
    src = tmp_path / "src"
    make_tree(
        src,
        {
            "B": b"B\n",
            "hello.txt": b"Hello, world!\n",
            "run.sh*": b"#!/bin/sh\necho hi\n",
            "sub/empty": b"",
            "sub/deeper/seven": b"1234567",
            "link": "->hello.txt",
            "dangling": "->/nowhere/at/all",
        },
    )
    (src / "emptydir").mkdir()
    nar = dump_nar(src)
    used = restore_nar(io.BytesIO(nar), tmp_path / "out")
    assert used == len(nar)
    assert dump_nar(tmp_path / "out") == nar
    assert os.access(tmp_path / "out" / "run.sh", os.X_OK)
    assert os.readlink(tmp_path / "out" / "dangling") == "/nowhere/at/all"


def test_top_level_file(tmp_path):
    f = tmp_path / "f"
    f.write_bytes(b"x" * 100_000)
    restore_nar(io.BytesIO(dump_nar(f)), tmp_path / "g")
    assert (tmp_path / "g").read_bytes() == b"x" * 100_000


FILE = s(b"nix-archive-1") + s(b"(") + s(b"type") + s(b"regular") + s(b"contents")


@pytest.mark.parametrize(
    ("nar", "message"),
    [
        (
            s(b"nix-archive-2"),
            "expected 'nix-archive-1' at byte 0 of the NAR, got b'nix-archive-2'",
        ),
        (FILE + struct.pack("<Q", 10) + b"abc", "NAR truncated at byte 99"),
        (FILE + s(b"ab")[:8] + b"ab\0\0\0\0\0\1" + s(b")"), "non-zero NAR padding at byte 98"),
        (FILE + s(b"ab") + s(b")") + b"junk", "data after the end of the NAR at byte 120"),
        (
            s(b"nix-archive-1") + s(b"(") + s(b"type") + s(b"fifo"),
            "unknown NAR node type b'fifo' at byte 72",
        ),
    ],
    ids=["magic", "truncated", "padding", "trailing", "type"],
)
def test_malformed_archives(tmp_path, nar, message):
    with pytest.raises(NarError) as info:
        restore_nar(io.BytesIO(nar), tmp_path / "out")
    assert str(info.value) == message


def _dir(*entries: tuple[bytes, bytes]) -> bytes:
    body = b"".join(
        s(b"entry") + s(b"(") + s(b"name") + s(name) + s(b"node") + node + s(b")")
        for name, node in entries
    )
    return s(b"nix-archive-1") + s(b"(") + s(b"type") + s(b"directory") + body + s(b")")


LEAF = s(b"(") + s(b"type") + s(b"regular") + s(b"contents") + s(b"x") + s(b")")


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (((b"b", LEAF), (b"a", LEAF)), "NAR entries not sorted at b'a'"),
        (((b"a", LEAF), (b"a", LEAF)), "NAR entries not sorted at b'a'"),
        (((b"..", LEAF),), "invalid entry name b'..'"),
        (((b"a/b", LEAF),), "invalid entry name b'a/b'"),
    ],
    ids=["unsorted", "duplicate", "dotdot", "slash"],
)
def test_unsafe_or_unsorted_entries(tmp_path, entries, message):
    with pytest.raises(NarError) as info:
        restore_nar(io.BytesIO(_dir(*entries)), tmp_path / "out")
    assert str(info.value).startswith(message)
