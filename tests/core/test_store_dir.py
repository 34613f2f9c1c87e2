"""StoreDir: logical vs physical store directories, and what users type as roots."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from revive.core.errors import MissingStoreItem, StoreError
from revive.core.store_dir import StoreDir, discover_logical_dir

HELLO = "gknm68l0q893bpvyhcd4ccih1bmh0j87-hello-2.10.drv"


def test_open_discovers_the_logical_dir(guix2020_store: Path) -> None:
    """The corpus copy lives anywhere, but its paths say /gnu/store."""
    store = StoreDir.open(guix2020_store)
    assert store.logical == "/gnu/store"
    assert store.physical == guix2020_store.absolute()
    assert discover_logical_dir(guix2020_store) == "/gnu/store"


def test_open_reads_nix_store_paths(tmp_path: Path) -> None:
    """A copy of Nix .drv files gets /nix/store; masked outputs fall back to any path."""
    (tmp_path / "readme.txt").write_text("not a drv")
    (tmp_path / f"{'a' * 32}-x.drv").write_text(
        'Derive([("out","","","")],[("/nix/store/'
        + "b" * 32
        + '-y.drv",["out"])],[],"x86_64-linux","/bin/sh",[],[])'
    )
    assert StoreDir.open(tmp_path).logical == "/nix/store"
    assert StoreDir.open(tmp_path, "/other/store/").logical == "/other/store"


def test_open_defaults_and_errors(tmp_path: Path) -> None:
    """No .drv inside: /gnu/store; not a directory: one-line StoreError."""
    assert StoreDir.open(tmp_path).logical == "/gnu/store"
    (tmp_path / f"{'a' * 32}-garbage.drv").write_bytes(b"\xff" * 100)
    assert StoreDir.open(tmp_path).logical == "/gnu/store"
    with pytest.raises(StoreError, match="no such store directory"):
        StoreDir.open(tmp_path / "nope")
    with pytest.raises(StoreError, match="not a directory"):
        StoreDir.open(tmp_path / f"{'a' * 32}-garbage.drv")


def test_physical_mapping(tmp_path: Path) -> None:
    """Items and files inside items map under the physical directory."""
    store = StoreDir("/gnu/store", tmp_path)
    item = f"/gnu/store/{'a' * 32}-tree"
    assert store.physical_path(item) == tmp_path / f"{'a' * 32}-tree"
    assert store.physical_path(item + "/bin/sh") == tmp_path / f"{'a' * 32}-tree" / "bin" / "sh"
    with pytest.raises(StoreError, match="not in the store /gnu/store"):
        store.physical_path("/nix/store/x")
    with pytest.raises(StoreError):
        store.physical_path("/gnu/store/")
    assert not store.exists(item) and not store.exists("/elsewhere")
    with pytest.raises(MissingStoreItem, match=f"^{item}: not in the store$"):
        store.read_bytes(item)
    (tmp_path / f"{'a' * 32}-tree").mkdir()
    assert store.exists(item)
    with pytest.raises(StoreError, match="is a directory"):
        store.read_bytes(item)
    (tmp_path / f"{'a' * 32}-tree" / "f").write_bytes(b"hi")
    assert store.read_bytes(item + "/f") == b"hi"


def test_resolve_root_forms(
    guix2020_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Logical paths, bare names, files in the store and loose copies all resolve."""
    store = StoreDir.open(guix2020_store)
    logical = f"/gnu/store/{HELLO}"
    assert store.resolve_root(logical) == logical
    assert (
        store.resolve_root(f"/gnu/store/{'z' * 32}-absent.drv")
        == f"/gnu/store/{'z' * 32}-absent.drv"
    )
    assert store.resolve_root(HELLO) == logical
    assert store.resolve_root(str(guix2020_store / HELLO)) == logical
    monkeypatch.chdir(guix2020_store)
    assert store.resolve_root(f"./{HELLO}") == logical
    loose = tmp_path / HELLO
    shutil.copyfile(guix2020_store / HELLO, loose)
    assert store.resolve_root(str(loose)) == logical
    assert store.resolve_root(os.path.relpath(loose)) == logical


@pytest.mark.parametrize(
    ("arg", "message"),
    [
        ("hello.txt", "hello.txt: not a .drv file (expected <hash>-<name>.drv)"),
        ("hello.drv", "hello.drv: not a store path (expected <hash>-<name>.drv)"),
        ("/gnu/store/short-hello.drv", "/gnu/store/short-hello.drv: not a valid store path"),
        (
            "/tmp/nowhere/x.drv",
            "/tmp/nowhere/x.drv: no such file, and not a path in the store /gnu/store",
        ),
    ],
)
def test_resolve_root_errors(tmp_path: Path, arg: str, message: str) -> None:
    """Arguments that name no .drv give one exact line."""
    with pytest.raises(StoreError) as info:
        StoreDir("/gnu/store", tmp_path).resolve_root(arg)
    assert str(info.value) == message


def test_resolve_root_rejects_loose_file_without_store_name(tmp_path: Path) -> None:
    """A loose file must be named <hash>-<name>.drv to know its store path."""
    (tmp_path / "copy.drv").write_text("Derive()")
    with pytest.raises(StoreError, match="file name is not a store name"):
        StoreDir("/gnu/store", tmp_path / "store").resolve_root(str(tmp_path / "copy.drv"))
