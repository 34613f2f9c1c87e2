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


class Base32Error(ReviveError, ValueError):
    """A string that is not valid nix-base32 for the expected digest size."""


def encoded_length(size: int) -> int:
    """Number of nix-base32 characters used for ``size`` bytes."""
    return (8 * size - 1) // 5 + 1 if size else 0


def encode(data: bytes) -> str:
    """Encode ``data`` in nix-base32 (``encode(sha256(b"")) == "0mdqa9w1…"``)."""
    # Every store path computed ends here (a million times when a closure is
    # rewritten), so the digits are not extracted one by one: a few big-int
    # mask-and-shift steps move each 5-bit digit into a byte of its own, and
    # one translate turns the bytes into the alphabet.
    plan = _PLANS.get(len(data))
    if plan is None:
        plan = _plan(len(data))
        if len(data) <= _MAX_PLANNED:
            _PLANS[len(data)] = plan
    length, width, steps = plan
    number = int.from_bytes(data, "little")
    for low, high, shift in steps:
        number = (number & low) | ((number & high) << shift)
    # Big-endian bytes put the most significant digit first; the extra
    # leading digits of the power-of-two width are zero bytes, dropped.
    return number.to_bytes(width, "big")[width - length :].translate(_DIGIT_BYTES).decode("ascii")


# Byte value -> digit character (only 0-31 occur).
_DIGIT_BYTES: Final = ALPHABET.encode("ascii") + bytes(256 - 32)


def _plan(size: int) -> tuple[int, int, tuple[tuple[int, int, int], ...]]:
    """How :func:`encode` spreads ``size`` bytes: digits, spread width, steps.

    The number is spread over ``width`` digits, a power of two: seen as one
    slot of ``8 * width`` bits holding packed 5-bit digits, each step splits
    every slot's digits into two halves and moves the upper half ``3 * half``
    bits up (from bit ``5 * half`` to ``8 * half``), halving the slots, until
    each digit has a byte.
    """
    length = encoded_length(size)
    width = 1 << (length - 1).bit_length() if length else 0
    steps = []
    half = width // 2
    while half:
        # The low 5 * half bits (the lower digits) of every slot of 16 * half
        # bits (2 * half bytes): built as bytes, in linear time.
        slot = ((1 << (5 * half)) - 1).to_bytes(2 * half, "little")
        low = int.from_bytes(slot * (width // (2 * half)), "little")
        steps.append((low, low << (5 * half), 3 * half))
        half //= 2
    return length, width, tuple(steps)


# Plans by data size: pure constants, computed on first use and kept for
# digest sizes only (20 bytes for store paths, 32 for SHA-256…), so at most 64.
_MAX_PLANNED: Final = 64
_PLANS: Final[dict[int, tuple[int, int, tuple[tuple[int, int, int], ...]]]] = {}


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
