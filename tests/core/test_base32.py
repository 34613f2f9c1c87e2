"""nix-base32 and hash compression against ``guix-derivations.md`` §1.3–1.4."""

from __future__ import annotations

import hashlib
import random

import pytest

from revive.core import base32
from revive.core.base32 import Base32Error
from revive.core.errors import ReviveError
from revive.core.hashes import compress

# §1.3: input bytes -> nix-base32.
ENCODINGS = [
    (hashlib.sha256(b"").digest(), "0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73"),
    (hashlib.sha256(b"abc").digest(), "1b8m03r63zqhnjf7l5wnldhh7c134ap5vpj0850ymkq1iyzicy5s"),
    (b"f", "36"),
    (b"fo", "0vv6"),
    (b"foo", "6yvv6"),
    (b"foob", "1i6yvv6"),
    (b"fooba", "c5i6yvv6"),
    (b"foobar", "3jc5i6yvv6"),
    (bytes([0x01]), "01"),
    (bytes([0xFF]), "7z"),
    (bytes([0x00, 0x01]), "0080"),
    (
        bytes.fromhex("8d99142afd92576f30b0cd7cb42a8dc6809998bc5d607d88761f512e26c7db20"),
        "086vqwk2wl8zfs47sq2xpjc9k066ilmb8z6dn0q6ymwjzlm196cd",
    ),
    (
        bytes.fromhex("a56e1ae0d879857e255eabbb50e9d856165b6dcabc9e132986055d46f7955fe5"),
        "1razjpvlcp85hqli77mwr9nmn5jnv3lm1fxbbqjpx1brv3h1lvm5",
    ),
    (b"", ""),
]


@pytest.mark.parametrize(("data", "text"), ENCODINGS, ids=[t or "empty" for _, t in ENCODINGS])
def test_encode_and_decode_doc_vectors(data: bytes, text: str) -> None:
    assert base32.encode(data) == text
    assert base32.decode(text, len(data)) == data
    assert base32.decode(text) == data


def test_alphabet_omits_e_o_t_u() -> None:
    assert base32.ALPHABET == "0123456789abcdfghijklmnpqrsvwxyz"
    assert len(set(base32.ALPHABET)) == 32


@pytest.mark.parametrize(
    ("size", "length"), [(0, 0), (1, 2), (2, 4), (16, 26), (20, 32), (32, 52), (64, 103)]
)
def test_encoded_length(size: int, length: int) -> None:
    assert base32.encoded_length(size) == length
    assert len(base32.encode(bytes(size))) == length


def test_round_trip_every_size_and_edge_values() -> None:
    rng = random.Random(2020)
    for size in range(0, 70):
        for data in (bytes(size), b"\xff" * size, rng.randbytes(size)):
            text = base32.encode(data)
            assert len(text) == base32.encoded_length(size)
            assert set(text) <= set(base32.ALPHABET)
            assert base32.decode(text, size) == data


def test_little_endian_integer_most_significant_digit_first() -> None:
    # The bytes are one little-endian integer: the *last* byte holds the top
    # bits, which the *first* digits show.
    assert base32.encode(b"\x00" * 19 + b"\x80") == "h" + "0" * 31  # 16 = bit 159
    assert base32.encode(b"\x01" + b"\x00" * 19) == "0" * 31 + "1"


@pytest.mark.parametrize("char", ["e", "o", "t", "u", "A", "Z", " ", "-", "é"])
def test_decode_rejects_characters_outside_the_alphabet(char: str) -> None:
    text = "0" * 51 + char
    with pytest.raises(Base32Error) as info:
        base32.decode(text, 32)
    assert str(info.value) == f"invalid nix-base32 character {char!r}"


@pytest.mark.parametrize(("text", "size"), [("0" * 51, 32), ("0" * 53, 32), ("0", 1), ("00", 2)])
def test_decode_rejects_a_length_that_does_not_fit_the_size(text: str, size: int) -> None:
    with pytest.raises(Base32Error) as info:
        base32.decode(text, size)
    assert str(info.value) == (
        f"nix-base32 string of {len(text)} characters cannot hold {size} bytes"
    )


@pytest.mark.parametrize(
    ("text", "size"),
    [
        # 52 digits hold 260 bits: a SHA-256 leading digit above 1 sets bit 256+.
        ("2" + "0" * 51, 32),
        ("z" + "0" * 51, 32),
        # 32 digits hold exactly 160 bits: nothing is left over for 20 bytes...
        # ...but 2 digits hold 10 bits for 1 byte.
        ("80", 1),
    ],
)
def test_decode_rejects_bits_beyond_the_digest(text: str, size: int) -> None:
    with pytest.raises(Base32Error) as info:
        base32.decode(text, size)
    assert str(info.value) == "nix-base32 string has bits set beyond the digest size"


def test_highest_valid_leading_digit_decodes() -> None:
    assert base32.decode("1" + "z" * 51, 32) == b"\xff" * 32
    assert base32.decode("7z", 1) == b"\xff"


def test_base32_error_is_a_revive_error_and_a_value_error() -> None:
    with pytest.raises(ReviveError):
        base32.decode("e", 1)
    with pytest.raises(ValueError):
        base32.decode("e", 1)


# --- §1.4 compression ------------------------------------------------------------


def test_compress_doc_vector() -> None:
    digest = bytes.fromhex("b44a961837843f0bc41bfe56c21a4f89e752701bf757b99d75e8f975fa46626a")
    compressed = compress(digest, 20)
    assert compressed.hex() == "431d2f85426cc67e3e5d9c3cc21a4f89e752701b"
    assert base32.encode(compressed) == "3dq55rw99wdc4g4wblz7xikc8a2jy7a3"


def test_compress_folds_bytes_20_to_31_onto_0_to_11() -> None:
    digest = bytes(range(1, 33))
    compressed = compress(digest)
    assert len(compressed) == 20
    assert compressed[12:20] == digest[12:20]
    assert all(compressed[i] == digest[i] ^ digest[i + 20] for i in range(12))


def test_compress_short_input_and_other_sizes() -> None:
    assert compress(b"\x01\x02", 20) == b"\x01\x02" + bytes(18)
    assert compress(b"\x01\x02\x04", 2) == b"\x05\x02"
    assert compress(b"", 4) == bytes(4)


def _reference_encode(data: bytes) -> str:
    """nix-base32 one digit at a time, as §1.3 describes it."""
    number = int.from_bytes(data, "little")
    length = base32.encoded_length(len(data))
    return "".join(base32.ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(length)))


def test_encode_matches_the_digit_by_digit_reference() -> None:
    # encode spreads the digits with big-int masks over a power-of-two width:
    # every size, including those whose digit count is not a power of two.
    rng = random.Random(1996)
    for size in range(0, 130):
        for data in (bytes(size), b"\xff" * size, *(rng.randbytes(size) for _ in range(20))):
            assert base32.encode(data) == _reference_encode(data), (size, data.hex())


def test_compress_matches_a_byte_loop() -> None:
    rng = random.Random(7)
    for length in range(0, 100):
        for size in (1, 3, 20, 32):
            data = rng.randbytes(length)
            folded = bytearray(size)
            for index, byte in enumerate(data):
                folded[index % size] ^= byte
            assert compress(data, size) == bytes(folded), (length, size)


def test_encode_of_long_data_is_not_cached_and_still_right() -> None:
    # Plans are kept for digest sizes only; longer data gets a fresh one.
    rng = random.Random(3)
    for size in (65, 1000, 4097):
        data = rng.randbytes(size)
        assert base32.encode(data) == _reference_encode(data)
        assert base32.decode(base32.encode(data), size) == data
    assert max(base32._PLANS) <= 64
