"""Reading a file with its state: compiled and pure Python give what os does."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from revive.core import load_worker
from revive.core.compiled import MODULE

FileState = tuple[int, int, int, int, int]
READERS: list[Callable[[str], tuple[bytes, FileState]]] = [load_worker.read_file_state]
if MODULE is not None:
    READERS.append(MODULE.read_with_state)


def stat_of(file: Path) -> FileState:
    info = os.stat(file)
    return (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_mode)


@pytest.mark.parametrize("read", READERS)
@pytest.mark.parametrize("size", [0, 1, 4095, 65536, 65537, 3 << 20])
def test_bytes_and_state_are_what_os_gives(
    read: Callable[[str], tuple[bytes, FileState]], size: int, tmp_path: Path
) -> None:
    """Empty, small, page-sized and large files, whole, with their stat."""
    file = tmp_path / "x.drv"
    content = os.urandom(size)
    file.write_bytes(content)
    assert read(str(file)) == (content, stat_of(file))
    assert load_worker.read_file(str(file)) == content


@pytest.mark.parametrize("read", READERS)
def test_errors_are_the_oserrors_os_raises(
    read: Callable[[str], tuple[bytes, FileState]], tmp_path: Path
) -> None:
    """A missing file, a directory: the errors of os.open and os.read, with the name."""
    with pytest.raises(FileNotFoundError) as missing:
        read(str(tmp_path / "absent.drv"))
    assert missing.value.filename == str(tmp_path / "absent.drv")
    with pytest.raises(IsADirectoryError):
        read(str(tmp_path))


def test_the_pure_python_reader_is_used_without_the_module(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """GUIX_REVIVE_PURE_PYTHON's path: os.open, os.fstat, os.read."""
    monkeypatch.setattr(load_worker, "_read_with_state", None)
    file = tmp_path / "y.drv"
    file.write_bytes(b"Derive([])")
    assert load_worker.read_file_state(str(file)) == (b"Derive([])", stat_of(file))
