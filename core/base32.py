"""nix-base32: the encoding of store path hashes and of ``guix hash`` output.

Not RFC 4648: the alphabet omits ``e o t u``, and the bytes are read as one
little-endian integer written most significant digit first.
"""

from __future__ import annotations

from typing import Final

from revive.core.errors import ReviveError

__all__ = ["ALPHABET", "encode", "decode", "encoded_length", "Base32Error"]

ALPHABET: Final = "0123456789abcdfghijklmnpqrsvwxyz"
_DIGIT: Final = {c: i for i, c in enumerate(ALPHABET)}
_PAIRS: Final = tuple(ALPHABET[i >> 5] + ALPHABET[i & 31] for i in range(1024))


class Base32Error(ReviveError, ValueError):
    """A string that is not valid nix-base32 for the expected digest size."""


def encoded_length(size: int) -> int:
    """Number of nix-base32 characters used for ``size`` bytes."""
    return (8 * size - 1) // 5 + 1 if size else 0


def encode(data: bytes) -> str:
    """Encode ``data`` in nix-base32 (``encode(sha256(b"")) == "0mdqa9w1…"``)."""
    number = int.from_bytes(data, "little")
    length = encoded_length(len(data))
    # Two digits (10 bits) per step: store paths are hashed by the million
    # when a closure is rewritten, and this halves the loop.
    pairs = []
    for _ in range(length // 2):
        pairs.append(_PAIRS[number & 1023])
        number >>= 10
    if length % 2:
        pairs.append(ALPHABET[number & 31])
    return "".join(reversed(pairs))


def decode(text: str, size: int | None = None) -> bytes:
    """Decode nix-base32 ``text`` into ``size`` bytes.

    When ``size`` is omitted it is the largest byte count whose encoding has
    ``len(text)`` characters. Raises :class:`Base32Error` for a character
    outside the alphabet, a wrong length, or bits set beyond ``8 * size``.
    """
    if size is None:
        size = len(text) * 5 // 8
    if encoded_length(size) != len(text):
        raise Base32Error(f"nix-base32 string of {len(text)} characters cannot hold {size} bytes")
    number = 0
    for char in text:
        digit = _DIGIT.get(char)
        if digit is None:
            raise Base32Error(f"invalid nix-base32 character {char!r}")
        number = (number << 5) | digit
    if number >> (8 * size):
        raise Base32Error("nix-base32 string has bits set beyond the digest size")
    return number.to_bytes(size, "little")
