"""Where store items physically are, and which store directory they belong to.

A store has two directories: the *logical* one written inside every store path
(``/gnu/store``, ``/nix/store``), which takes part in every hash, and the
*physical* one where the files happen to be on this machine: the store itself,
or a plain copy of some ``.drv`` files anywhere (``guix-derivations.md`` §1.1).
:class:`StoreDir` maps the first to the second and reads items.

The logical directory of a copy is not guessed from its location: it is read
from the store paths written inside one of its ``.drv`` files.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from revive.core.errors import MissingStoreItem, StoreError
from revive.core.store_path import DEFAULT_STORE_DIR, HASH_PART_LENGTH, is_store_path

__all__ = ["StoreDir", "discover_logical_dir"]

# The first output path of a ``Derive`` term: ``Derive([("out","/gnu/store/<hash>-``.
_FIRST_PATH: Final = re.compile(rb'Derive\(\[\("[^"]*","(/[^"]*)/[0-9a-df-np-sv-z]{32}-')
# Any quoted store path, for ``.drv`` files whose outputs are masked (empty).
_ANY_PATH: Final = re.compile(rb'"(/[^"]*)/[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+\-._?=]+"')
# How many ``.drv`` files to look at before giving up on discovery: a
# directory full of garbage must not be read entirely.
_DISCOVERY_TRIES: Final = 8
# Only the start of a file is needed; a 100 MB garbage file is not read.
_DISCOVERY_BYTES: Final = 64 * 1024


def discover_logical_dir(physical: Path) -> str | None:
    """The logical store dir written inside the ``.drv`` files of ``physical``.

    Looks at a few ``.drv`` files (in directory order) and returns the
    directory part of the first store path found in them, or ``None`` when
    there is no readable ``.drv`` file with a store path in it.
    """
    tries = 0
    try:
        entries = os.scandir(physical)
    except OSError:
        return None
    with entries:
        for entry in entries:
            if not entry.name.endswith(".drv"):
                continue
            tries += 1
            if tries > _DISCOVERY_TRIES:
                break
            try:
                with open(entry.path, "rb") as handle:
                    head = handle.read(_DISCOVERY_BYTES)
            except OSError:
                continue
            match = _FIRST_PATH.match(head) or _ANY_PATH.search(head)
            if match is not None:
                try:
                    return match.group(1).decode("utf-8")
                except UnicodeDecodeError:
                    continue
    return None


@dataclass(frozen=True, slots=True)
class StoreDir:
    """A store: its logical directory and the physical directory holding its items."""

    logical: str
    """The store directory written in store paths, e.g. ``/gnu/store`` (no trailing ``/``)."""
    physical: Path
    """The directory on this machine where the items are."""

    @classmethod
    def open(cls, physical: str | os.PathLike[str], logical: str | None = None) -> StoreDir:
        """The store whose items are in ``physical``.

        Args:
            physical: the directory holding the items (``/gnu/store``, or a copy).
            logical: the store dir written in its store paths; when omitted it
                is read from the paths inside one of its ``.drv`` files, and
                defaults to ``/gnu/store`` when the directory has none.

        Raises:
            StoreError: ``physical`` is not a directory.
        """
        path = Path(physical).expanduser().absolute()
        if not path.is_dir():
            if path.exists():
                raise StoreError(f"{path}: not a directory (expected a store directory)")
            raise StoreError(f"{path}: no such store directory")
        if logical is None:
            logical = discover_logical_dir(path) or DEFAULT_STORE_DIR
        logical = logical.rstrip("/") or "/"
        return cls(logical, path)

    # --- mapping -------------------------------------------------------------

    def physical_path(self, store_path: str) -> Path:
        """Where ``store_path`` (or a file inside a store item) is on this machine.

        Raises:
            StoreError: ``store_path`` is not under this store's logical directory.
        """
        return Path(self.physical_file(store_path))

    def physical_file(self, store_path: str) -> str:
        """:meth:`physical_path` as a string (cheaper, for loops over a closure)."""
        prefix = self.logical + "/"
        if not store_path.startswith(prefix) or len(store_path) <= len(prefix):
            raise StoreError(f"{store_path}: not in the store {self.logical}")
        return os.path.join(self.physical, store_path[len(prefix) :])

    def exists(self, store_path: str) -> bool:
        """True if the item (or file inside an item) ``store_path`` is present."""
        try:
            return os.path.lexists(self.physical_file(store_path))
        except StoreError:
            return False

    def read_bytes(self, store_path: str) -> bytes:
        """The contents of the file ``store_path``.

        Raises:
            MissingStoreItem: it is not present.
            StoreError: it cannot be read (a directory, no permission…).
        """
        file = self.physical_file(store_path)
        try:
            with open(file, "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            raise MissingStoreItem(store_path) from None
        except IsADirectoryError:
            raise StoreError(f"{file}: is a directory, not a file") from None
        except OSError as err:
            raise StoreError(f"{file}: cannot read: {err.strerror or err}") from None

    def store_path_of(self, physical: str | os.PathLike[str]) -> str | None:
        """The store path of a physical file inside this store's directory, else ``None``."""
        file = Path(physical).expanduser().absolute()
        try:
            relative = file.relative_to(self.physical)
        except ValueError:
            return None
        if not relative.parts:
            return None
        return f"{self.logical}/{'/'.join(relative.parts)}"

    # --- user arguments --------------------------------------------------------

    def resolve_root(self, arg: str) -> str:
        """The logical ``.drv`` store path a user means by ``arg``.

        Accepted forms, tried in this order:

        1. a logical store path under this store's directory
           (``/gnu/store/<hash>-<name>.drv``), present or not;
        2. a bare store name ``<hash>-<name>.drv``;
        3. an existing file anywhere: a file inside the physical directory maps
           to its store path; a file elsewhere (a loose copy) is taken to be
           the item named by its file name, which must be a store name.

        Raises:
            StoreError: ``arg`` names no ``.drv`` store item.
        """
        if not arg.endswith(".drv"):
            raise StoreError(f"{arg}: not a .drv file (expected <hash>-<name>.drv)")
        prefix = self.logical + "/"
        if arg.startswith(prefix) and "/" not in arg[len(prefix) :]:
            if is_store_path(arg):
                return arg
            raise StoreError(f"{arg}: not a valid store path")
        if "/" not in arg and is_store_path(prefix + arg):
            return prefix + arg
        if os.path.lexists(arg):
            inside = self.store_path_of(arg)
            if inside is not None and "/" not in inside[len(prefix) :]:
                return inside
            base = os.path.basename(arg)
            if is_store_path(prefix + base):
                return prefix + base
            raise StoreError(
                f"{arg}: file name is not a store name "
                f"(expected {HASH_PART_LENGTH} base32 characters, '-', a name)"
            )
        if "/" in arg:
            raise StoreError(f"{arg}: no such file, and not a path in the store {self.logical}")
        raise StoreError(f"{arg}: not a store path (expected <hash>-<name>.drv)")
