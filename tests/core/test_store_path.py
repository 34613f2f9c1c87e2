"""Store paths: every vector of ``guix-derivations.md`` §1 and §10 and of real Nix 2.8."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import pytest

from revive.core import base32
from revive.core.errors import ReviveError
from revive.core.hashes import DIGEST_SIZES, HashError, compress, parse_digest
from revive.core.nar import nar_hash
from revive.core.store_path import (
    DEFAULT_STORE_DIR,
    StorePath,
    StorePathError,
    fixed_output_path,
    hash_part,
    is_store_path,
    make_store_path,
    name_part,
    output_path_name,
    source_path,
    store_dir_of,
    text_path,
    validate_name,
)

HELLO = b"Hello, world!\n"
"""The 14-byte file of §1.7 and §4.6."""


def nix32(text: str, algorithm: str = "sha256") -> bytes:
    return parse_digest(algorithm, text).value


# --- §1.5 / §1.7 worked examples, step by step --------------------------------------


def test_worked_example_flat_sha256() -> None:
    digest = nix32("086vqwk2wl8zfs47sq2xpjc9k066ilmb8z6dn0q6ymwjzlm196cd")
    assert digest.hex() == "8d99142afd92576f30b0cd7cb42a8dc6809998bc5d607d88761f512e26c7db20"
    tag = f"fixed:out:sha256:{digest.hex()}:"
    inner = hashlib.sha256(tag.encode()).digest()
    assert inner.hex() == "2dd22467c73f65de429fd32c70e68444aeb55f502082f23f8d509185e0341c22"
    fingerprint = f"output:out:sha256:{inner.hex()}:/gnu/store:hello-2.12.1.tar.gz"
    outer = hashlib.sha256(fingerprint.encode()).digest()
    assert outer.hex() == "b44a961837843f0bc41bfe56c21a4f89e752701bf757b99d75e8f975fa46626a"
    assert compress(outer).hex() == "431d2f85426cc67e3e5d9c3cc21a4f89e752701b"
    expected = "/gnu/store/3dq55rw99wdc4g4wblz7xikc8a2jy7a3-hello-2.12.1.tar.gz"
    assert make_store_path("output:out", inner, "hello-2.12.1.tar.gz", "/gnu/store") == expected
    assert fixed_output_path("hello-2.12.1.tar.gz", "sha256", digest, False) == expected


def test_worked_example_recursive_sha256_is_a_source_path() -> None:
    digest = nix32("1razjpvlcp85hqli77mwr9nmn5jnv3lm1fxbbqjpx1brv3h1lvm5")
    assert digest.hex() == "a56e1ae0d879857e255eabbb50e9d856165b6dcabc9e132986055d46f7955fe5"
    fingerprint = f"source:sha256:{digest.hex()}:/gnu/store:txt2man-1.6.0-checkout"
    outer = hashlib.sha256(fingerprint.encode()).digest()
    assert outer.hex() == "8862a706fe7050f82d32776c04ac0f195105905a8fd4086f85e1dcfabec26cd8"
    assert compress(outer).hex() == "07b6af697b918c0293f01bb404ac0f195105905a"
    expected = "/gnu/store/ba80al8r1yn09d0vy29h534igdlszdh7-txt2man-1.6.0-checkout"
    assert fixed_output_path("txt2man-1.6.0-checkout", "sha256", digest, True) == expected
    assert source_path("txt2man-1.6.0-checkout", digest) == expected


# --- §10.2 table ----------------------------------------------------------------------

FIXED = [
    ("hello-2.12.1.tar.gz", "sha256", False, "086vqwk2wl8zfs47sq2xpjc9k066ilmb8z6dn0q6ymwjzlm196cd",
     "/gnu/store/3dq55rw99wdc4g4wblz7xikc8a2jy7a3-hello-2.12.1.tar.gz"),
    ("txt2man-1.6.0-checkout", "sha256", True,
     "1razjpvlcp85hqli77mwr9nmn5jnv3lm1fxbbqjpx1brv3h1lvm5",
     "/gnu/store/ba80al8r1yn09d0vy29h534igdlszdh7-txt2man-1.6.0-checkout"),
    ("hello.txt", "sha256", False, "1x9gyyamm7d9p2hm06hx9vx6gm4sd1mksxqlqfxaajl44i34q0fr",
     "/gnu/store/l6irvhjpqzqkx3zy2ryfps4iy0bxzvzf-hello.txt"),
    ("hello.txt", "sha256", True, "1kky6dc5n4sjgmxja7hnbzc718hf0anqj3qc3l9w9gwcifd3fjaq",
     "/gnu/store/939lqx80y1q6qlgk78i3d4h7hyvc98fl-hello.txt"),
    ("hello.txt", "sha1", False, "dm9qj5vmm94bc3m04d6rpg97zpdwiyh9",
     "/gnu/store/hg82jf9sbjrqlndy0qw8vrsk7wsgqqi6-hello.txt"),
    ("tree", "sha256", True, "0083jzfsi9284zfma39qcdmn6wih5imq5k578sh7xbkrrhhbq2ih",
     "/gnu/store/iw2sy7y3z7mgqpqyp9264v3l4r34ihd4-tree"),
    ("hello-2.12.tar.gz", "sha256", False,
     "cf04af86dc085268c5f4470fbae49b18afbc221b78096aab842d934a76bad0ab",
     "/nix/store/8nqv6kshb3vs5q5bs2k600xpj5bkavkc-hello-2.12.tar.gz"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "algorithm", "recursive", "text", "path"), FIXED, ids=[row[-1][11:] for row in FIXED]
)
def test_doc_fixed_output_paths(
    name: str, algorithm: str, recursive: bool, text: str, path: str
) -> None:
    digest = parse_digest(algorithm, text).value
    assert fixed_output_path(name, algorithm, digest, recursive, store_dir_of(path)) == path


def test_hello_txt_hashes_and_recursive_sha512(tmp_path: Path) -> None:
    # GIVEN the 14-byte hello.txt of §1.7, as a real file
    file = tmp_path / "hello.txt"
    file.write_bytes(HELLO)
    file.chmod(0o644)
    # THEN its flat and recursive hashes are the ones the doc's paths use
    assert base32.encode(hashlib.sha256(HELLO).digest()) == (
        "1x9gyyamm7d9p2hm06hx9vx6gm4sd1mksxqlqfxaajl44i34q0fr"
    )
    assert base32.encode(hashlib.sha1(HELLO).digest()) == "dm9qj5vmm94bc3m04d6rpg97zpdwiyh9"
    assert base32.encode(nar_hash(file)) == "1kky6dc5n4sjgmxja7hnbzc718hf0anqj3qc3l9w9gwcifd3fjaq"
    # AND the recursive sha512 row of §1.7 goes through the "output:out" form
    assert fixed_output_path("hello.txt", "sha512", nar_hash(file, "sha512"), True) == (
        "/gnu/store/fg61w4p9c6a8xi3h0xfxhzmq5dgnpzf6-hello.txt"
    )


# --- §1.8 text items --------------------------------------------------------------------


def test_text_path_without_references() -> None:
    contents = b"echo hi > $out\n"
    assert len(contents) == 15
    assert hashlib.sha256(contents).hexdigest() == (
        "371712cc72dc36b19a54c97921dbf6f29a745297b0fdee95a7c08fd314027eb2"
    )
    assert text_path("build.sh", contents) == "/gnu/store/z94f0wyd5dl27nj28l59gndxh545xkjq-build.sh"


def test_text_path_sorts_and_deduplicates_references_bytewise() -> None:
    refs = [
        "/gnu/store/lv7dc09895a2d7cn0m6ysrdlgkhx5ld8-content-addressed-mirrors",
        "/gnu/store/0mxnx8l4fgigvd7gakwdk6hc6im4wnai-disarchive-mirrors",
        "/gnu/store/hdprrnsaa40vl1k63hnq7l1f012jzq2y-mirrors",
    ]
    kind = "text:" + ":".join(sorted(refs))
    inner = hashlib.sha256(b"x").digest()
    expected = make_store_path(kind, inner, "x", DEFAULT_STORE_DIR)
    assert text_path("x", b"x", refs) == expected
    assert text_path("x", b"x", [*reversed(refs), refs[0]]) == expected
    assert text_path("x", b"x", iter(refs)) == expected
    assert text_path("x", b"x", refs) != text_path("x", b"x")


def test_text_path_reference_order_is_by_bytes_not_by_locale() -> None:
    # "A" (0x41) < "_" (0x5f) < "a" (0x61): plain code-point order.
    refs = ["/s/a", "/s/_", "/s/A"]
    inner = hashlib.sha256(b"").digest()
    assert text_path("n", b"", refs, "/s") == make_store_path(
        "text:/s/A:/s/_:/s/a", inner, "n", "/s"
    )


def test_text_path_reference_order_is_utf8_byte_order_beyond_ascii() -> None:
    # Code-point order is UTF-8 byte order, so plain sorting gives the
    # daemon's order for any references (1-, 2-, 3- and 4-byte characters).
    refs = ["/s/\U0001f600", "/s/\ufffd", "/s/\u00e9", "/s/z", "/s/\u07ff", "/s/\u0800"]
    kind = "text:" + ":".join(sorted(refs, key=lambda r: r.encode()))
    inner = hashlib.sha256(b"").digest()
    assert text_path("n", b"", refs, "/s") == make_store_path(kind, inner, "n", "/s")


# --- Nix 2.8 oracle ------------------------------------------------------------------


def test_nix_print_fixed_path(nix_vectors: dict[str, Any]) -> None:
    rows = nix_vectors["print_fixed_path"]
    assert {row["store_dir"] for row in rows} == {"/nix/store", "/gnu/store"}
    for row in rows:

        def compute(row: dict[str, Any] = row) -> str:
            digest = parse_digest(row["algo"], row["hash"]).value
            return fixed_output_path(
                row["name"], row["algo"], digest, row["recursive"], row["store_dir"]
            )

        if row["error"] is None:
            assert compute() == row["path"], row
        else:
            # Where Nix refused (bad hash or name), we raise our one-line error.
            with pytest.raises((HashError, StorePathError)):
                compute()


def test_nix_to_file_text_paths(nix_vectors: dict[str, Any]) -> None:
    for row in nix_vectors["to_file"]:
        contents = base64.b64decode(row["contents_b64"])
        for store_dir in ("/nix/store", "/gnu/store"):
            assert text_path(row["name"], contents, (), store_dir) == row[store_dir], row["name"]


def test_nix_add_fixed_store_paths(nar_vector: dict[str, Any]) -> None:
    # GIVEN the NAR Nix wrote for the item, and its file contents if it is a file
    nar = base64.b64decode(nar_vector["nar_b64"])
    contents = None
    if nar_vector["kind"] == "file":
        (item,) = nar_vector["entries"]
        contents = base64.b64decode(item["contents_b64"])
    name = nar_vector["store_path_name"]
    checked = 0
    for store_dir, paths in nar_vector["store_paths"].items():
        for key, expected in paths.items():
            if key == "add":
                # nix-store --add: recursive SHA-256, a "source" path
                got = source_path(name, hashlib.sha256(nar).digest(), store_dir)
            else:
                _add, _fixed, mode, algorithm = key.split("_")
                data = nar if mode == "recursive" else contents
                assert data is not None
                digest = hashlib.new(algorithm, data).digest()
                got = fixed_output_path(name, algorithm, digest, mode == "recursive", store_dir)
            assert got == expected, (store_dir, key)
            checked += 1
    assert checked == sum(len(paths) for paths in nar_vector["store_paths"].values()) >= 6


def test_every_algorithm_has_a_distinct_flat_and_recursive_path() -> None:
    paths = set()
    for algorithm, size in DIGEST_SIZES.items():
        for recursive in (False, True):
            path = fixed_output_path("x", algorithm, bytes(size), recursive)
            assert is_store_path(path)
            paths.add(path)
    assert len(paths) == 2 * len(DIGEST_SIZES)


# --- syntax ---------------------------------------------------------------------------


def test_store_path_parse_and_parts() -> None:
    path = "/gnu/store/3dq55rw99wdc4g4wblz7xikc8a2jy7a3-hello-2.12.1.tar.gz"
    parsed = StorePath.parse(path)
    assert parsed == StorePath(
        "/gnu/store", "3dq55rw99wdc4g4wblz7xikc8a2jy7a3", "hello-2.12.1.tar.gz"
    )
    assert str(parsed) == path
    assert parsed.base_name == "3dq55rw99wdc4g4wblz7xikc8a2jy7a3-hello-2.12.1.tar.gz"
    assert hash_part(path) == "3dq55rw99wdc4g4wblz7xikc8a2jy7a3"
    assert name_part(path) == "hello-2.12.1.tar.gz"
    assert store_dir_of(path) == "/gnu/store"
    assert is_store_path(path)
    assert StorePath.parse("/tmp/x/" + path[11:]).store_dir == "/tmp/x"


@pytest.mark.parametrize(
    "path",
    [
        "",
        "/gnu/store",
        "/gnu/store/",
        "gnu-store-3dq55rw99wdc4g4wblz7xikc8a2jy7a3-x",
        "/3dq55rw99wdc4g4wblz7xikc8a2jy7a3-x",  # no store dir
        "/gnu/store/3dq55rw99wdc4g4wblz7xikc8a2jy7a3",  # no name
        "/gnu/store/3dq55rw99wdc4g4wblz7xikc8a2jy7a3-",  # empty name
        "/gnu/store/3dq55rw99wdc4g4wblz7xikc8a2jy7a-xx",  # 31-character hash
        "/gnu/store/3dq55rw99wdc4g4wblz7xikc8a2jy7ae-x",  # 'e' is not nix-base32
        "/gnu/store/3DQ55RW99WDC4G4WBLZ7XIKC8A2JY7A3-x",  # uppercase hash
        "/gnu/store/3dq55rw99wdc4g4wblz7xikc8a2jy7a3-a b",  # space in name
        "/gnu/store/3dq55rw99wdc4g4wblz7xikc8a2jy7a3-x/bin/sh",  # inside an item
    ],
)
def test_not_store_paths(path: str) -> None:
    assert not is_store_path(path)
    with pytest.raises(StorePathError) as info:
        StorePath.parse(path)
    assert str(info.value) == f"not a store path: {path!r}"
    with pytest.raises(StorePathError):
        store_dir_of(path)


@pytest.mark.parametrize("name", ["hello-2.10.tar.gz", "a", "A+b-c.d_e?f=g", "0", "x.drv"])
def test_valid_names(name: str) -> None:
    assert validate_name(name) == name


@pytest.mark.parametrize("name", ["", ".hidden", "a b", "a/b", "é", "a:b", "a\n"])
def test_invalid_names(name: str) -> None:
    with pytest.raises(StorePathError) as info:
        validate_name(name)
    assert str(info.value) == f"invalid store item name {name!r}"


@pytest.mark.parametrize("name", [".hidden", "a b", "", "x/y"])
def test_no_store_path_is_computed_for_an_invalid_name(name: str) -> None:
    # The daemon validates the name before hashing (§1.5): a path for such a
    # name would never exist, so computing one is an error, not a silent value.
    with pytest.raises(StorePathError):
        fixed_output_path(name, "sha256", bytes(32), False)
    with pytest.raises(StorePathError):
        text_path(name, b"")
    with pytest.raises(StorePathError):
        make_store_path("source", bytes(32), name, "/gnu/store")


def test_store_path_error_is_a_revive_error_and_a_value_error() -> None:
    assert issubclass(StorePathError, ReviveError)
    assert issubclass(StorePathError, ValueError)


def test_output_path_name() -> None:
    assert output_path_name("consumer", "out") == "consumer"
    assert output_path_name("consumer", "doc") == "consumer-doc"


def test_store_paths_sort_by_fields() -> None:
    a = StorePath.parse("/gnu/store/00000000000000000000000000000000-b")
    b = StorePath.parse("/gnu/store/11111111111111111111111111111111-a")
    assert sorted([b, a]) == [a, b]
