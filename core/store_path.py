"""Store paths: syntax, and how each kind of store item gets its path.

See ``guix-derivations.md`` §1: ``make_store_path`` is the one hashing
primitive; fixed outputs, text items (including ``.drv`` files) and source
items are its special cases. Output paths of regular derivations need the
derivation hash and live in :mod:`revive.core.derivation_hash`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from revive.core import base32
from revive.core.compiled import MODULE
from revive.core.errors import ReviveError
from revive.core.hashes import compress

__all__ = [
    "DEFAULT_STORE_DIR",
    "HASH_PART_LENGTH",
    "StorePath",
    "StorePathError",
    "is_store_path",
    "make_store_path",
    "fixed_output_path",
    "text_path",
    "source_path",
    "output_path_name",
    "store_dir_of",
    "hash_part",
    "name_part",
    "validate_name",
]

DEFAULT_STORE_DIR: Final = "/gnu/store"
"""Where Guix keeps its store on every normal system."""

HASH_PART_LENGTH: Final = 32
"""Length of the nix-base32 hash part of a store path's base name."""

_NAME_RE: Final = re.compile(r"[A-Za-z0-9+\-._?=]+")
_BASENAME_RE: Final = re.compile(r"([0-9a-df-np-sv-z]{32})-([A-Za-z0-9+\-._?=]+)")


class StorePathError(ReviveError, ValueError):
    """A string that is not a valid store path or store name."""


def validate_name(name: str) -> str:
    """Return ``name`` if the daemon accepts it as a store name, else raise."""
    if not name or not _NAME_RE.fullmatch(name) or name.startswith("."):
        raise StorePathError(f"invalid store item name {name!r}")
    return name


def make_store_path(kind: str, inner_hash: bytes, name: str, store_dir: str) -> str:
    """The generic store path function (``makeStorePath``).

    ``kind`` is ``text[:refs…]``, ``source`` or ``output:<id>``; ``inner_hash``
    is a 32-byte SHA-256.

    Raises:
        StorePathError: ``name`` is not a store name the daemon accepts (§1.1);
            a path computed for it would never exist.
    """
    validate_name(name)
    fingerprint = f"{kind}:sha256:{inner_hash.hex()}:{store_dir}:{name}"
    # hashlib directly, not the hashes.sha256 wrapper: this runs once per
    # store path computed.
    return f"{store_dir}/{_path_hash(hashlib.sha256(fingerprint.encode()).digest())}-{name}"


def _folded_nix32(digest: bytes) -> str:
    """A store path's hash part: ``digest`` folded into 20 bytes, in nix-base32."""
    return base32.encode(compress(digest, 20))


# The compiled twin does both steps at once (verifying a closure computes two
# store paths per derivation).
_path_hash = _folded_nix32 if MODULE is None else MODULE.path_hash


def fixed_output_path(
    name: str, algorithm: str, digest: bytes, recursive: bool, store_dir: str = DEFAULT_STORE_DIR
) -> str:
    """Path of a fixed-output item: depends only on name, algorithm, digest, flag."""
    if recursive and algorithm == "sha256":
        return make_store_path("source", digest, name, store_dir)
    tag = f"fixed:out:{'r:' if recursive else ''}{algorithm}:{digest.hex()}:"
    return make_store_path("output:out", hashlib.sha256(tag.encode()).digest(), name, store_dir)


def text_path(
    name: str, contents: bytes, references: Iterable[str] = (), store_dir: str = DEFAULT_STORE_DIR
) -> str:
    """Path of a text item (builder script, mirror list, ``.drv`` file)."""
    # The references are listed in UTF-8 byte order, which is code-point
    # order (a property of UTF-8): plain ``sorted`` gives it without encoding
    # every path, and this runs once per ``.drv`` path computed.
    refs = sorted(set(references))
    kind = "text:" + ":".join(refs) if refs else "text"
    return make_store_path(kind, hashlib.sha256(contents).digest(), name, store_dir)


def source_path(name: str, nar_sha256: bytes, store_dir: str = DEFAULT_STORE_DIR) -> str:
    """Path of an item added recursively with SHA-256 (``add-to-store``)."""
    return make_store_path("source", nar_sha256, name, store_dir)


def output_path_name(drv_name: str, output: str) -> str:
    """Store name of output ``output`` of a derivation named ``drv_name``."""
    return drv_name if output == "out" else f"{drv_name}-{output}"


def is_store_path(path: str) -> bool:
    """True if ``path`` looks like ``<dir>/<hash32>-<name>`` (any store dir)."""
    slash = path.rfind("/")
    return slash > 0 and _BASENAME_RE.fullmatch(path, slash + 1) is not None


def store_dir_of(path: str) -> str:
    """The store directory of a store path (everything before the last ``/``)."""
    slash = path.rfind("/")
    if slash <= 0 or not is_store_path(path):
        raise StorePathError(f"not a store path: {path!r}")
    return path[:slash]


def hash_part(path: str) -> str:
    """The 32-character hash part of a store path."""
    base = path[path.rfind("/") + 1 :]
    return base[:HASH_PART_LENGTH]


def name_part(path: str) -> str:
    """The store name of a store path (after ``<hash32>-``)."""
    base = path[path.rfind("/") + 1 :]
    return base[HASH_PART_LENGTH + 1 :]


@dataclass(frozen=True, slots=True, order=True)
class StorePath:
    """A parsed store path, ``<store_dir>/<hash>-<name>``."""

    store_dir: str
    """The logical store directory, e.g. ``/gnu/store``."""
    hash: str
    """The 32-character nix-base32 hash part."""
    name: str
    """The store name (``hello-2.10.tar.gz.drv``)."""

    @classmethod
    def parse(cls, path: str) -> StorePath:
        """Split ``path``; raises :class:`StorePathError` if it is not a store path."""
        slash = path.rfind("/")
        match = _BASENAME_RE.fullmatch(path, slash + 1) if slash > 0 else None
        if match is None:
            raise StorePathError(f"not a store path: {path!r}")
        return cls(path[:slash], match.group(1), match.group(2))

    def __str__(self) -> str:
        return f"{self.store_dir}/{self.hash}-{self.name}"

    @property
    def base_name(self) -> str:
        """``<hash>-<name>``, the file name inside the store directory."""
        return f"{self.hash}-{self.name}"
