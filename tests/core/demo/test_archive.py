"""Reproducible archives: valid for the real tools, the same bytes every time."""

from __future__ import annotations

import gzip
import io
import lzma
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest

from revive.core.demo.archive import (
    FileEntry,
    gzip_stored,
    tar_bytes,
    xz_uncompressed,
    zip_bytes,
)

TREE = {
    "b/long.txt": FileEntry(b"0123456789abcdef" * 9000),  # > 64 KiB: several blocks
    "a.txt": FileEntry(b"first\n"),
    "bin/run": FileEntry(b"#!/bin/sh\necho hi\n", executable=True),
}


@pytest.mark.parametrize("data", [b"", b"x", bytes(range(256)) * 700], ids=len)
def test_stored_gzip_and_xz_decompress_to_the_input(data: bytes) -> None:
    """Python's gzip and lzma read the stored streams back exactly."""
    assert gzip.decompress(gzip_stored(data)) == data
    assert lzma.decompress(xz_uncompressed(data)) == data


def test_real_tools_accept_the_archives(tmp_path: Path) -> None:
    """gzip -t, xz -t, tar and unzip -t accept what the demo writes."""
    tar = tar_bytes(TREE, 1577836800, "pkg-1.0")
    (tmp_path / "p.tar.gz").write_bytes(gzip_stored(tar))
    (tmp_path / "p.tar.xz").write_bytes(xz_uncompressed(tar))
    (tmp_path / "p.zip").write_bytes(zip_bytes(TREE, (2020, 1, 1, 0, 0, 0)))
    subprocess.run(["gzip", "-t", "p.tar.gz"], cwd=tmp_path, check=True)
    subprocess.run(["xz", "-t", "p.tar.xz"], cwd=tmp_path, check=True)
    subprocess.run(["unzip", "-tq", "p.zip"], cwd=tmp_path, check=True, capture_output=True)
    listing = subprocess.run(
        ["tar", "tvJf", "p.tar.xz"], cwd=tmp_path, check=True, capture_output=True, text=True
    ).stdout.splitlines()
    assert [line.split()[-1] for line in listing] == [
        "pkg-1.0/",
        "pkg-1.0/a.txt",
        "pkg-1.0/b/",
        "pkg-1.0/b/long.txt",
        "pkg-1.0/bin/",
        "pkg-1.0/bin/run",
    ]
    assert listing[-1].startswith("-rwxr-xr-x 0/0")


def test_tar_entries_have_fixed_metadata() -> None:
    """Owners, times and modes do not depend on who or when."""
    with tarfile.open(fileobj=io.BytesIO(tar_bytes(TREE, 42))) as archive:
        members = archive.getmembers()
    assert [m.name for m in members] == ["a.txt", "b", "b/long.txt", "bin", "bin/run"]
    assert {(m.uid, m.gid, m.uname, m.gname, m.mtime) for m in members} == {(0, 0, "", "", 42)}
    assert [oct(m.mode) for m in members if m.isfile()] == ["0o644", "0o644", "0o755"]


def test_archives_are_reproducible() -> None:
    """Same input, same bytes (and the zip keeps Unix modes)."""
    assert tar_bytes(TREE, 1) == tar_bytes(dict(reversed(TREE.items())), 1)
    first = zip_bytes(TREE, (2019, 5, 7, 0, 0, 0))
    assert first == zip_bytes(TREE, (2019, 5, 7, 0, 0, 0))
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        modes = {i.filename: i.external_attr >> 16 for i in archive.infolist()}
    assert modes["bin/run"] == 0o100755 and modes["a.txt"] == 0o100644
