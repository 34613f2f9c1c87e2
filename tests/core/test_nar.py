"""NAR serialisation and hashes: exact against Nix 2.8 and doc §4.6; streaming; VCS exclusion."""

from __future__ import annotations

import base64
import hashlib
import os
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from revive.core import base32
from revive.core.errors import ReviveError
from revive.core.nar import NarError, dump_nar, file_hash, iter_nar, nar_hash, nar_size
from revive.core.store_path import source_path

Build = Callable[[dict[str, Any], Path], Path]


def encode(digest: bytes, encoding: str) -> str:
    return digest.hex() if encoding == "base16" else base32.encode(digest)


def hexdump(text: str) -> bytes:
    """Bytes of a ``0000: 0d 00 …  ascii`` dump as printed in the doc."""
    out = bytearray()
    for line in text.strip().splitlines():
        fields = line.split(":", 1)[1].split("   ")[0].split()
        out += bytes.fromhex("".join(fields))
    return bytes(out)


# --- Nix 2.8 oracle ----------------------------------------------------------------------


def test_nar_bytes_and_hashes_match_nix(
    nar_vector: dict[str, Any], build_vector_tree: Build, tmp_path: Path
) -> None:
    # GIVEN the vector's file or tree, rebuilt on disk
    top = build_vector_tree(nar_vector, tmp_path)
    expected = base64.b64decode(nar_vector["nar_b64"])
    # THEN our NAR is Nix's, byte for byte, and so are all its sizes and hashes
    nar = dump_nar(top)
    assert nar == expected
    assert len(nar) == nar_vector["nar_size"] == nar_size(top)
    assert hashlib.sha256(nar).hexdigest() == nar_vector["nar_sha256_hex_python"]
    for key, value in nar_vector["nix_hash"].items():
        if key == "sri_recursive_sha256":
            assert "sha256-" + base64.b64encode(nar_hash(top)).decode() == value
            continue
        mode, algorithm, encoding = key.split("_")
        if mode == "recursive":
            digest = nar_hash(top, algorithm)
        else:
            digest = file_hash(top, algorithm)
        assert encode(digest, encoding) == value, key


def test_add_path_is_the_source_path_of_our_nar_hash(
    nar_vector: dict[str, Any], build_vector_tree: Build, tmp_path: Path
) -> None:
    top = build_vector_tree(nar_vector, tmp_path)
    for store_dir, paths in nar_vector["store_paths"].items():
        assert source_path(top.name, nar_hash(top), store_dir) == paths["add"]


def test_iter_nar_streams_the_same_bytes_and_reports_progress(
    nar_vector: dict[str, Any], build_vector_tree: Build, tmp_path: Path
) -> None:
    top = build_vector_tree(nar_vector, tmp_path)
    chunks = list(iter_nar(top))
    assert all(isinstance(chunk, bytes) for chunk in chunks)
    assert b"".join(chunks) == base64.b64decode(nar_vector["nar_b64"])
    seen: list[int] = []
    nar_hash(top, progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == nar_vector["nar_size"]


# --- doc §4.6 --------------------------------------------------------------------------------

HELLO_NAR = """
0000: 0d 00 00 00 00 00 00 00 6e 69 78 2d 61 72 63 68   ........nix-arch
0010: 69 76 65 2d 31 00 00 00 01 00 00 00 00 00 00 00   ive-1...........
0020: 28 00 00 00 00 00 00 00 04 00 00 00 00 00 00 00   (...............
0030: 74 79 70 65 00 00 00 00 07 00 00 00 00 00 00 00   type............
0040: 72 65 67 75 6c 61 72 00 08 00 00 00 00 00 00 00   regular.........
0050: 63 6f 6e 74 65 6e 74 73 0e 00 00 00 00 00 00 00   contents........
0060: 48 65 6c 6c 6f 2c 20 77 6f 72 6c 64 21 0a 00 00   Hello, world!...
0070: 01 00 00 00 00 00 00 00 29 00 00 00 00 00 00 00   ........).......
"""

LINK_NAR = """
0000: 0d 00 00 00 00 00 00 00 6e 69 78 2d 61 72 63 68
0010: 69 76 65 2d 31 00 00 00 01 00 00 00 00 00 00 00
0020: 28 00 00 00 00 00 00 00 04 00 00 00 00 00 00 00
0030: 74 79 70 65 00 00 00 00 07 00 00 00 00 00 00 00
0040: 73 79 6d 6c 69 6e 6b 00 06 00 00 00 00 00 00 00   symlink.........
0050: 74 61 72 67 65 74 00 00 09 00 00 00 00 00 00 00   target..........
0060: 68 65 6c 6c 6f 2e 74 78 74 00 00 00 00 00 00 00   hello.txt.......
0070: 01 00 00 00 00 00 00 00 29 00 00 00 00 00 00 00
"""


def write(path: Path, data: bytes, mode: int = 0o644) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(mode)
    return path


def test_doc_regular_file(tmp_path: Path) -> None:
    hello = write(tmp_path / "hello.txt", b"Hello, world!\n")
    nar = dump_nar(hello)
    assert len(nar) == 128
    assert nar == hexdump(HELLO_NAR)
    assert nar_hash(hello).hex() == (
        "5849379a8b8cbfc4131d0c0f89ad020ea270d85f161e257b7d52135b58337ece"
    )
    assert base32.encode(nar_hash(hello)) == "1kky6dc5n4sjgmxja7hnbzc718hf0anqj3qc3l9w9gwcifd3fjaq"
    assert base32.encode(file_hash(hello)) == "1x9gyyamm7d9p2hm06hx9vx6gm4sd1mksxqlqfxaajl44i34q0fr"


def test_doc_symlink_is_not_followed(tmp_path: Path) -> None:
    write(tmp_path / "hello.txt", b"Hello, world!\n")
    link = tmp_path / "link"
    link.symlink_to("hello.txt")
    nar = dump_nar(link)
    assert nar == hexdump(LINK_NAR)
    assert nar_hash(link).hex() == (
        "01f8a83d7885be14edc68fa4336e81a57a75426c20a0fc9f9bca2c8feaf76387"
    )


def test_doc_executable(tmp_path: Path) -> None:
    run = write(tmp_path / "run.sh", b"#!/bin/sh\necho hi\n", 0o755)
    assert len(dump_nar(run)) == 168
    assert nar_hash(run).hex() == (
        "5e0accf02cedede5e4119ffa15e79e79a5fb1fb9bc43c3d434f33227a14477a0"
    )
    assert base32.encode(nar_hash(run)) == "183p8jhjfcpk6kac6hxwp4gzp9brkvkibylz27jfbvgd5kqcq2jy"


def make_doc_tree(root: Path) -> Path:
    tree = root / "tree"
    write(tree / "B", b"B\n")
    write(tree / "hello.txt", b"Hello, world!\n")
    (tree / "link").symlink_to("hello.txt")
    write(tree / "run.sh", b"#!/bin/sh\necho hi\n", 0o755)
    write(tree / "sub" / "empty", b"")
    return tree


def test_doc_tree(tmp_path: Path) -> None:
    tree = make_doc_tree(tmp_path)
    nar = dump_nar(tree)
    assert len(nar) == 1288
    # Entries sorted bytewise: "B" (0x42) before the lowercase names.
    names = [b"B", b"hello.txt", b"link", b"run.sh", b"sub"]
    offsets = [nar.index(b"name\x00\x00\x00\x00" + len(n).to_bytes(8, "little") + n) for n in names]
    assert offsets == sorted(offsets)
    digest = nar_hash(tree)
    assert digest.hex() == "300abc20cc79ae7ea046a7cc826b2c3072636b63380d55dd2748a4a8dd970301"
    assert base32.encode(digest) == "0083jzfsi9284zfma39qcdmn6wih5imq5k578sh7xbkrrhhbq2ih"
    assert source_path("tree", digest) == "/gnu/store/iw2sy7y3z7mgqpqyp9264v3l4r34ihd4-tree"


def test_only_the_owner_execute_bit_matters(tmp_path: Path) -> None:
    # No permissions, owners or times are recorded: only "executable" (0o100).
    plain = dump_nar(write(tmp_path / "a", b"x", 0o644))
    assert dump_nar(write(tmp_path / "b", b"x", 0o600)) == plain
    assert dump_nar(write(tmp_path / "c", b"x", 0o444)) == plain
    assert dump_nar(write(tmp_path / "d", b"x", 0o655)) == plain  # group/other x only
    executable = dump_nar(write(tmp_path / "e", b"x", 0o700))
    assert executable != plain
    assert dump_nar(write(tmp_path / "f", b"x", 0o755)) == executable
    os.utime(tmp_path / "f", (1, 1))
    assert dump_nar(tmp_path / "f") == executable


def test_padding_for_every_length_modulo_8(tmp_path: Path) -> None:
    for size in range(17):
        file = write(tmp_path / f"f{size}", b"z" * size)
        nar = dump_nar(file)
        assert len(nar) % 8 == 0
        assert len(nar) == 112 + size + (-size % 8)  # 112: the empty file's NAR


# --- symlinks, special files, errors -------------------------------------------------------


def test_symlinks_inside_a_tree_are_never_followed(tmp_path: Path) -> None:
    tree = make_doc_tree(tmp_path)
    outside = tmp_path / "outside"
    write(outside / "secret", b"do not archive me")
    (tree / "to-dir").symlink_to(outside)
    (tree / "loop").symlink_to("loop")
    (tree / "absolute").symlink_to("/nonexistent/absolute")
    nar = dump_nar(tree)
    assert b"do not archive me" not in nar
    assert str(outside).encode() in nar and b"/nonexistent/absolute" in nar
    # A top-level symlink to a directory is a symlink node too.
    assert b"directory" not in dump_nar(tree / "to-dir")


def test_a_fifo_cannot_be_archived(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(NarError) as info:
        dump_nar(fifo)
    mode = os.lstat(fifo).st_mode
    assert str(info.value) == f"{fifo}: cannot archive a special file (mode {mode:o})"
    tree = make_doc_tree(tmp_path)
    os.mkfifo(tree / "sub" / "pipe")
    with pytest.raises(NarError, match="pipe: cannot archive a special file"):
        nar_hash(tree)


def test_file_hash_refuses_a_fifo_instead_of_blocking(tmp_path: Path) -> None:
    # Opening a FIFO for reading waits for a writer: it must not hang.
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(NarError) as info:
        file_hash(fifo)
    assert str(info.value) == f"{fifo}: not a regular file (mode {os.lstat(fifo).st_mode:o})"
    with pytest.raises(NarError, match="not a regular file"):
        file_hash(tmp_path)


def test_a_missing_path(tmp_path: Path) -> None:
    with pytest.raises(NarError) as info:
        dump_nar(tmp_path / "gone")
    assert str(info.value) == f"{tmp_path / 'gone'}: No such file or directory"
    assert isinstance(info.value, ReviveError)


def test_non_utf8_names_sort_and_serialise_as_bytes(tmp_path: Path) -> None:
    root = os.fsencode(tmp_path / "t")
    os.mkdir(root)
    for name in (b"\xff", b"a", b"\xc3\xa9", b"Z"):
        with open(root + b"/" + name, "wb") as handle:
            handle.write(name)
    nar = dump_nar(os.fsdecode(root))
    offsets = [
        nar.index(len(n).to_bytes(8, "little") + n + bytes(-len(n) % 8) + b"\x04")
        for n in (b"Z", b"a", b"\xc3\xa9", b"\xff")
    ]
    assert offsets == sorted(offsets)


# --- exclude_vcs (guix hash -rx) ---------------------------------------------------------


def test_exclude_vcs_drops_vcs_directories_and_git_files(tmp_path: Path) -> None:
    # GIVEN a checkout with every kind of VCS metadata, and a clean copy
    checkout = make_doc_tree(tmp_path / "checkout")
    for vcs in (".git", ".svn", ".hg", ".bzr", "CVS"):
        write(checkout / vcs / "meta", b"metadata")
    write(checkout / "sub" / ".git", b"gitdir: ../.git/modules/sub\n")  # submodule pointer
    write(checkout / "sub" / "deeper" / ".svn" / "entries", b"x")
    write(checkout / "sub" / "deeper" / "kept", b"kept")
    clean = make_doc_tree(tmp_path / "clean")
    write(clean / "sub" / "deeper" / "kept", b"kept")
    # THEN -x hashes the checkout like the clean tree, and without -x it differs
    assert nar_hash(checkout, exclude_vcs=True) == nar_hash(clean)
    assert dump_nar(checkout, exclude_vcs=True) == dump_nar(clean)
    assert nar_hash(checkout) != nar_hash(clean)


def test_exclude_vcs_keeps_look_alikes(tmp_path: Path) -> None:
    tree = make_doc_tree(tmp_path)
    write(tree / ".gitignore", b"*.o\n")
    write(tree / ".github" / "ci.yml", b"")
    write(tree / "CVS", b"a regular file named CVS is not a CVS directory")
    (tree / "sub" / ".git").symlink_to("elsewhere")  # only a *regular file* .git goes
    write(tree / "sub" / ".hg" / "x", b"")
    excluded = dump_nar(tree, exclude_vcs=True)
    for kept in (b".gitignore", b".github", b"a regular file named CVS", b"elsewhere"):
        assert kept in excluded
    assert b".hg" not in excluded


def test_exclude_vcs_never_filters_the_top_level(tmp_path: Path) -> None:
    top = write(tmp_path / ".git", b"gitdir: x\n")
    assert dump_nar(top, exclude_vcs=True) == dump_nar(top)
    directory = tmp_path / "CVS"
    write(directory / "Root", b":pserver:x\n")
    assert b"Root" in dump_nar(directory, exclude_vcs=True)


# --- streaming ------------------------------------------------------------------------------


def test_hashing_a_large_file_uses_constant_memory(tmp_path: Path) -> None:
    # GIVEN a 512 MiB sparse file (no disk used)
    big = tmp_path / "big"
    size = 512 * 1024 * 1024
    with big.open("wb") as handle:
        handle.truncate(size)
    seen: list[int] = []
    # WHEN it is NAR-hashed and flat-hashed under tracemalloc
    tracemalloc.start()
    try:
        nar_hash(big, progress=seen.append)
        file_hash(big, "sha1")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # THEN memory stays far below the file size (chunks of 1 MiB)
    assert peak < 16 * 1024 * 1024
    assert seen[-1] == 112 + size
