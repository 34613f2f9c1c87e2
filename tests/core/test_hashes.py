"""Hash algorithms, digests and ``parse_digest`` in every encoding Guix and Nix write."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest

from revive.core import base32
from revive.core.errors import ReviveError
from revive.core.hashes import (
    ALGORITHMS,
    DIGEST_SIZES,
    Digest,
    HashError,
    new_hasher,
    parse_digest,
    sha256,
)

# hashlib's names for the algorithms Guix spells its own way.
HASHLIB = {"sha3-256": "sha3_256", "sha3-512": "sha3_512", "blake2s-256": "blake2s"}


def reference(algorithm: str, data: bytes) -> bytes:
    return hashlib.new(HASHLIB.get(algorithm, algorithm), data).digest()


def test_algorithms_are_the_ones_guix_accepts() -> None:
    assert ALGORITHMS == ("md5", "sha1", "sha256", "sha512", "sha3-256", "sha3-512", "blake2s-256")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_new_hasher_matches_hashlib_and_digest_size(algorithm: str) -> None:
    hasher = new_hasher(algorithm)
    hasher.update(b"abc")
    assert hasher.digest() == reference(algorithm, b"abc")
    assert hasher.digest_size == DIGEST_SIZES[algorithm]


def test_new_hasher_rejects_unknown_algorithm() -> None:
    with pytest.raises(HashError) as info:
        new_hasher("sha3")
    assert str(info.value) == "unknown hash algorithm 'sha3'"


def test_sha256_helper() -> None:
    assert sha256(b"abc") == hashlib.sha256(b"abc").digest()


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_parse_digest_accepts_every_encoding(algorithm: str) -> None:
    raw = reference(algorithm, b"guix-revive")
    b64 = base64.b64encode(raw).decode()
    forms = {
        "base16": raw.hex(),
        "BASE16": raw.hex().upper(),
        "nix-base32": base32.encode(raw),
        "base64": b64,
        "SRI": f"{algorithm}-{b64}",
    }
    for form, text in forms.items():
        digest = parse_digest(algorithm, text)
        assert digest == Digest(algorithm, raw), form
        assert digest.hex == raw.hex()
        assert digest.nix32 == base32.encode(raw)
        assert str(digest) == f"{algorithm}:{base32.encode(raw)}"


def test_parse_digest_nix_oracle_encodings(nix_vectors: dict[str, Any]) -> None:
    # GIVEN every hash real Nix printed for the vector files, in its encodings
    for entry in nix_vectors["files"]:
        hashes = entry["nix_hash"]
        nar = base64.b64decode(entry["nar_b64"])
        for key, text in hashes.items():
            if key.startswith("sri_"):
                _, mode, algorithm = key.split("_")
            else:
                mode, algorithm, _encoding = key.split("_")
            if mode == "recursive":
                expected = reference(algorithm, nar)
            else:
                (item,) = entry["entries"]
                expected = reference(algorithm, base64.b64decode(item["contents_b64"]))
            # THEN each one reads back as the digest of the right bytes
            assert parse_digest(algorithm, text).value == expected, (entry["name"], key)


def test_doc_vectors_in_two_encodings() -> None:
    # §1.7: the same hello-2.12.1 digest written in nix-base32 and in base16.
    nix32 = parse_digest("sha256", "086vqwk2wl8zfs47sq2xpjc9k066ilmb8z6dn0q6ymwjzlm196cd")
    hex_ = parse_digest(
        "sha256", "8d99142afd92576f30b0cd7cb42a8dc6809998bc5d607d88761f512e26c7db20"
    )
    assert nix32 == hex_


@pytest.mark.parametrize(
    ("algorithm", "text", "message"),
    [
        ("sha3", "00", "unknown hash algorithm 'sha3'"),
        ("SHA256", "00", "unknown hash algorithm 'SHA256'"),
        ("sha256", "g" * 64, "invalid base16 sha256 digest '" + "g" * 64 + "'"),
        # bytes.fromhex skips spaces: 64 characters must still mean 32 bytes.
        (
            "sha256",
            "00 " * 16 + "0" * 16,
            "invalid base16 sha256 digest '" + "00 " * 16 + "0" * 16 + "'",
        ),
        ("md5", "0x" + "0" * 30, "invalid base16 md5 digest '0x" + "0" * 30 + "'"),
        (
            "sha256",
            "e" * 52,
            "invalid nix-base32 sha256 digest '" + "e" * 52 + "': invalid nix-base32 character 'e'",
        ),
        (
            "sha256",
            "2" + "0" * 51,
            "invalid nix-base32 sha256 digest '2"
            + "0" * 51
            + "': nix-base32 string has bits set beyond the digest size",
        ),
        ("sha256", "", "'' is not a sha256 digest (32 bytes)"),
        ("sha256", "abc", "'abc' is not a sha256 digest (32 bytes)"),
        ("sha256", "+" * 44, "'" + "+" * 44 + "' is not a sha256 digest (32 bytes)"),
        # Valid base64, wrong size (a sha1 digest given as sha256).
        (
            "sha256",
            base64.b64encode(bytes(20)).decode(),
            "'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' is not a sha256 digest (32 bytes)",
        ),
        # SRI naming another algorithm is not silently read as this one.
        (
            "sha256",
            "sha512-" + base64.b64encode(bytes(32)).decode(),
            "'sha512-"
            + base64.b64encode(bytes(32)).decode()
            + "' is not a sha256 digest (32 bytes)",
        ),
        (
            "sha1",
            "sha1-" + base64.b64encode(bytes(32)).decode(),
            "'" + base64.b64encode(bytes(32)).decode() + "' is not a sha1 digest (20 bytes)",
        ),
    ],
)
def test_parse_digest_errors(algorithm: str, text: str, message: str) -> None:
    with pytest.raises(HashError) as info:
        parse_digest(algorithm, text)
    assert str(info.value) == message


def test_hash_error_is_a_revive_error_and_a_value_error() -> None:
    assert issubclass(HashError, ReviveError)
    assert issubclass(HashError, ValueError)


def test_digest_is_frozen_and_hashable() -> None:
    digest = Digest("sha1", bytes(20))
    with pytest.raises(AttributeError):
        digest.value = b""  # type: ignore[misc]
    assert {digest: 1}[Digest("sha1", bytes(20))] == 1
