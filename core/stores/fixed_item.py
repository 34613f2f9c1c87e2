"""The store path a local file or tree gets when added as a fixed-output item.

Both stores add fetched results this way (``add-to-store``): hash the
source as the daemon would, refuse it if it is not what was expected, and
compute the path from the digest, which is that of any FOD with the same
name, hash and recursive flag.
"""

from __future__ import annotations

from pathlib import Path

from revive.core import base32
from revive.core.builders.verify import measure
from revive.core.store_path import fixed_output_path
from revive.core.stores.api import HashMismatch

__all__ = ["fixed_item_path"]


def fixed_item_path(
    name: str,
    source: Path,
    algorithm: str,
    recursive: bool,
    expected: bytes | None,
    store_dir: str,
) -> str:
    """The path of ``source`` added as the fixed-output item ``name``.

    Args:
        name: the store name.
        source: the file or directory to hash.
        algorithm: the hash algorithm (``sha256``).
        recursive: hash the NAR (directories, executables) or the flat file.
        expected: the expected digest, or ``None`` to accept any.
        store_dir: the logical store directory the path names.

    Raises:
        HashMismatch: ``expected`` was given and does not match.
        OSError: ``source`` cannot be read.
    """
    digest, _nar, _size = measure(source, algorithm, recursive)
    if expected is not None and digest != expected:
        raise HashMismatch(str(source), algorithm, base32.encode(expected), base32.encode(digest))
    return fixed_output_path(name, algorithm, digest, recursive, store_dir)
