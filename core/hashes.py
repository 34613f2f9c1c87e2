"""Hash algorithms Guix accepts, digests, and their textual forms."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from typing import Final

from revive.core import base32
from revive.core.errors import ReviveError

__all__ = [
    "ALGORITHMS",
    "DIGEST_SIZES",
    "Digest",
    "HashError",
    "new_hasher",
    "compress",
    "sha256",
    "parse_digest",
]

DIGEST_SIZES: Final[dict[str, int]] = {
    "md5": 16,
    "sha1": 20,
    "sha256": 32,
    "sha512": 64,
    "sha3-256": 32,
    "sha3-512": 64,
    "blake2s-256": 32,
}
"""Every algorithm a Guix fixed-output derivation may name, with its digest size."""

_HEX: Final = re.compile(r"[0-9a-fA-F]*")

ALGORITHMS: Final = tuple(DIGEST_SIZES)
"""Algorithm names in the order Guix documents them."""

_HASHLIB_NAMES: Final = {
    "md5": "md5",
    "sha1": "sha1",
    "sha256": "sha256",
    "sha512": "sha512",
    "sha3-256": "sha3_256",
    "sha3-512": "sha3_512",
    "blake2s-256": "blake2s",
}


class HashError(ReviveError, ValueError):
    """An unknown algorithm or a digest of the wrong size or encoding."""


def new_hasher(algorithm: str) -> hashlib._Hash:
    """Return a fresh hashlib object for a Guix algorithm name (``sha3-256``…)."""
    try:
        return hashlib.new(_HASHLIB_NAMES[algorithm])
    except KeyError:
        raise HashError(f"unknown hash algorithm {algorithm!r}") from None


def sha256(data: bytes) -> bytes:
    """SHA-256 digest of ``data``."""
    return hashlib.sha256(data).digest()


def compress(digest: bytes, size: int = 20) -> bytes:
    """XOR-fold ``digest`` into ``size`` bytes (store path hashes use 20)."""
    # Whole-chunk XOR on integers: about 4x faster than a byte loop, and this
    # runs once per store path computed. A short last chunk needs no padding:
    # read little-endian, its missing high bytes are zeros anyway.
    if len(digest) <= 2 * size:  # every store path: SHA-256 folded into 20 bytes
        folded = int.from_bytes(digest[:size], "little") ^ int.from_bytes(digest[size:], "little")
        return folded.to_bytes(size, "little")
    folded = 0
    for start in range(0, len(digest), size):
        folded ^= int.from_bytes(digest[start : start + size], "little")
    return folded.to_bytes(size, "little")


@dataclass(frozen=True, slots=True)
class Digest:
    """A hash value: the algorithm name and the raw digest bytes."""

    algorithm: str
    """Guix algorithm name, e.g. ``sha256``."""
    value: bytes
    """The raw digest."""

    @property
    def hex(self) -> str:
        """Lowercase base16, as written in ``.drv`` files."""
        return self.value.hex()

    @property
    def nix32(self) -> str:
        """nix-base32, as printed by ``guix hash``."""
        return base32.encode(self.value)

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.nix32}"


def parse_digest(algorithm: str, text: str) -> Digest:
    """Read a digest written in base16, nix-base32, base64 or SRI form.

    Raises:
        HashError: unknown algorithm, or ``text`` is no valid encoding of a
            digest of that algorithm's size.
    """
    size = DIGEST_SIZES.get(algorithm)
    if size is None:
        raise HashError(f"unknown hash algorithm {algorithm!r}")
    if text.startswith(algorithm + "-"):
        text = text[len(algorithm) + 1 :]
        return Digest(algorithm, _from_base64(text, size, algorithm))
    if len(text) == 2 * size:
        # bytes.fromhex alone would skip spaces and return a short digest.
        if _HEX.fullmatch(text) is None:
            raise HashError(f"invalid base16 {algorithm} digest {text!r}")
        return Digest(algorithm, bytes.fromhex(text))
    if len(text) == base32.encoded_length(size):
        try:
            return Digest(algorithm, base32.decode(text, size))
        except base32.Base32Error as err:
            raise HashError(f"invalid nix-base32 {algorithm} digest {text!r}: {err}") from None
    return Digest(algorithm, _from_base64(text, size, algorithm))


def _from_base64(text: str, size: int, algorithm: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != size:
        raise HashError(f"{text!r} is not a {algorithm} digest ({size} bytes)")
    return raw
