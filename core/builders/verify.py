"""Check a fetched result against the hash its derivation expects.

This runs *before* anything becomes valid: the daemon's rule (flat → one
regular, non-executable file hashed as bytes; recursive → the NAR hashed),
``guix-derivations.md`` §8.2. The same pass also measures what the store
registers: the SHA-256 and size of the NAR.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from revive.core import base32
from revive.core.builders.errors import FetchError
from revive.core.builders.threads import CancelToken
from revive.core.fetch.spec import Expected
from revive.core.hashes import new_hasher
from revive.core.nar import CHUNK_SIZE, file_hash, iter_nar
from revive.core.stores.api import FailureReason

__all__ = ["Verified", "measure", "verify_output"]


@dataclass(frozen=True, slots=True)
class Verified:
    """A result whose hash matched: what the store records about it."""

    path: Path
    """The verified file or directory (still in the work directory)."""
    nar_sha256: bytes
    """SHA-256 of its NAR."""
    nar_size: int
    """Size of its NAR in bytes."""


def _nar_string(data: bytes) -> bytes:
    return len(data).to_bytes(8, "little") + data + bytes(-len(data) % 8)


def _check(cancel: CancelToken | None) -> None:
    if cancel is not None and cancel.is_set():
        raise FetchError(FailureReason.CANCELLED, "cancelled")


def _flat_measure(
    path: Path, algorithm: str, cancel: CancelToken | None
) -> tuple[bytes, bytes, int]:
    # One read of a regular file for both digests: its NAR is a fixed header,
    # the bytes, zero padding and a fixed trailer (guix-derivations.md §4.2).
    with open(path, "rb") as handle:
        info = os.fstat(handle.fileno())
        header = b"".join(
            _nar_string(token) for token in (b"nix-archive-1", b"(", b"type", b"regular")
        )
        if info.st_mode & 0o100:
            header += _nar_string(b"executable") + _nar_string(b"")
        header += _nar_string(b"contents") + info.st_size.to_bytes(8, "little")
        nar = new_hasher("sha256")
        flat = new_hasher(algorithm)
        nar.update(header)
        size = 0
        while chunk := handle.read(CHUNK_SIZE):
            _check(cancel)
            nar.update(chunk)
            flat.update(chunk)
            size += len(chunk)
    if size != info.st_size:
        raise OSError(f"{path}: file changed size while being hashed")
    trailer = bytes(-size % 8) + _nar_string(b")")
    nar.update(trailer)
    return flat.digest(), nar.digest(), len(header) + size + len(trailer)


def measure(
    path: Path, algorithm: str, recursive: bool, cancel: CancelToken | None = None
) -> tuple[bytes, bytes, int]:
    """``(digest, nar_sha256, nar_size)`` of ``path`` in one pass.

    ``digest`` is the recursive (NAR) or flat digest with ``algorithm``.
    ``cancel``, checked between chunks, stops it with a ``CANCELLED`` error.
    """
    if not recursive and stat.S_ISREG(os.lstat(path).st_mode):
        return _flat_measure(path, algorithm, cancel)
    nar_hasher = new_hasher("sha256")
    other = new_hasher(algorithm) if recursive and algorithm != "sha256" else None
    size = 0
    for chunk in iter_nar(path):
        _check(cancel)
        nar_hasher.update(chunk)
        if other is not None:
            other.update(chunk)
        size += len(chunk)
    nar = nar_hasher.digest()
    if recursive:
        digest = nar if other is None else other.digest()
    else:
        digest = file_hash(path, algorithm)
    return digest, nar, size


def verify_output(path: Path, expected: Expected, cancel: CancelToken | None = None) -> Verified:
    """Check ``path`` against ``expected``.

    Raises:
        FetchError: ``HASH_MISMATCH`` with both hashes in nix-base32, or the
            result has the wrong shape for a flat hash.
    """
    if not expected.recursive:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_mode & 0o111:
            raise FetchError(
                FailureReason.HASH_MISMATCH,
                f"{expected.output_path}: a flat hash needs a non-executable regular file",
            )
    digest, nar, size = measure(path, expected.algorithm, expected.recursive, cancel)
    if digest != expected.digest:
        wanted, got = base32.encode(expected.digest), base32.encode(digest)
        raise FetchError(
            FailureReason.HASH_MISMATCH,
            f"{expected.algorithm} hash mismatch for {expected.output_path}: "
            f"expected {wanted}, got {got}",
            expected_hash=wanted,
            actual_hash=got,
        )
    return Verified(path, nar, size)
