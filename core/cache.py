"""A persistent cache of loaded closures, so that re-opening one is cheap.

A ``.drv`` never changes once it has its store path (the path is a hash of
its content), so what was parsed once can be kept. Keeping one cache file per
derivation would cost as much as reading the ``.drv`` itself (opening 50,000
files is the floor we want to beat), so the cache keeps one *pack* per loaded
closure instead: every node of the closure, in loading order, keyed by store
path, in ``marshal`` format (tuples of strings, the fastest thing CPython can
read back; pickling the dataclasses measured several times slower).

Where: ``$XDG_CACHE_HOME/guix-revive/closures/`` (default
``~/.cache/guix-revive/``). A pack's file name is a hash of the format
version, the logical and physical store directories and the roots (in order,
since the order of the roots is the order of the graph).

Validation, and its trade-off. Re-checking every node would mean a ``stat``
of 50,000 files, a good part of the cost the cache exists to avoid. A pack is
trusted when:

* its header says the right format, Python ``marshal`` version, stores and roots;
* every root file still has the size and modification time it had when the
  pack was written (a copy of a store re-created or altered under the same
  names is re-read);
* every node that was *missing* is still missing (one ``stat`` each; usually
  few): when one appeared, the closure is re-walked, reusing the parsed
  nodes and reading only the new files.

A present ``.drv`` that was deleted since (garbage-collected) still shows
with its content, which remains the truth for its path. A file replaced in
place by different content under the same store name (impossible in a real
store, a corrupt copy otherwise) is not noticed here; ``guix-revive verify``
keeps its report apart, checked against every file of the closure
(:mod:`revive.core.result_cache`), and re-reads the files when asked to.

Safety: packs are written to a temporary file in the same directory and
renamed over the old one, so a reader sees a whole old pack or a whole new
one, never a partial one, and two processes may write the same pack at
once (the last rename wins, both contents are correct). A pack that cannot be
read (corrupt, truncated, foreign, older format) is ignored and rewritten.
No error of the cache ever reaches the user: at worst the closure is parsed
again.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import struct
import tempfile
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import Any, BinaryIO, Final

from revive.core.closure import CachedClosure, paused_gc
from revive.core.derivation import Derivation
from revive.core.errors import ReviveError
from revive.core.graph import DerivationGraph
from revive.core.result_cache import (
    ResultCache,
    default_cache_dir,
    physical_key,
    prune_oldest,
    unlink_quietly,
)
from revive.core.store_dir import StoreDir

__all__ = ["DerivationCache", "default_cache_dir", "FORMAT_VERSION"]

_DAMAGED: Final = (OSError, EOFError, ValueError, TypeError, IndexError, KeyError, struct.error)
"""What reading a missing, truncated, corrupt or foreign file can raise: marshal
(EOFError, ValueError, TypeError), unpacking records of the wrong shape, the
length prefix. Anything else is a bug here, and is not hidden as "not cached"."""
_UNWRITABLE: Final = (OSError, ValueError, struct.error)
"""What writing can raise: a full or read-only disk, a value marshal refuses,
a length the prefix cannot hold."""

FORMAT_VERSION: Final = 4
"""Bumped whenever the layout of a pack changes; older packs are ignored."""

_MAGIC: Final = b"guix-revive closure pack\n"
_CHUNK: Final = 2048
"""Nodes per marshal chunk: bounds the memory of reading and writing a pack."""
_LENGTH: Final = struct.Struct("<Q")
_OLD_RESULT_SUFFIX: Final = ".result"
"""Results kept with a pack by format 3 (now :mod:`revive.core.result_cache`): cleared."""
_MAX_PACKS: Final = 16
"""Packs kept; the least recently used ones are deleted beyond this."""


@dataclass(frozen=True, slots=True)
class _Header:
    """What a pack says about itself, checked before its nodes are read."""

    version: int
    marshal_version: int
    logical: str
    physical: str
    roots: tuple[str, ...]
    signatures: tuple[tuple[str, int, int], ...]
    """``(root, size, mtime_ns)`` of every root file present when written."""
    nodes: int
    chunks: int

    def as_tuple(self) -> tuple[Any, ...]:
        # The fields in order: what ``_Header(*values)`` reads back.
        return tuple(getattr(self, field.name) for field in dataclass_fields(self))


class DerivationCache:
    """Packs of parsed closures in a directory (see the module docstring).

    Args:
        directory: where packs live; default :func:`default_cache_dir`. It is
            created on the first save, never on a load.
    """

    def __init__(self, directory: str | os.PathLike[str] | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()
        """The cache directory (``…/guix-revive``)."""

    def __repr__(self) -> str:
        return f"DerivationCache({str(self.directory)!r})"

    @property
    def packs_dir(self) -> Path:
        """The folder of closure packs."""
        return self.directory / "closures"

    def pack_path(self, store: StoreDir, roots: tuple[str, ...]) -> Path:
        """The file holding the closure of ``roots`` in ``store``."""
        key = "\0".join((str(FORMAT_VERSION), store.logical, physical_key(store), *roots))
        return self.packs_dir / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.pack"

    # --- reading -------------------------------------------------------------------

    def load(self, store: StoreDir, roots: tuple[str, ...]) -> CachedClosure | None:
        """The saved closure of ``roots``, or ``None`` if absent, stale or unreadable."""
        file = self.pack_path(store, roots)
        try:
            with open(file, "rb") as handle:
                closure = self._read(handle, store, roots)
        except _DAMAGED:  # any damage to a cache file means "not cached"
            return None
        if closure is not None:
            _touch(file)
        return closure

    def _read(
        self, handle: BinaryIO, store: StoreDir, roots: tuple[str, ...]
    ) -> CachedClosure | None:
        if handle.read(len(_MAGIC)) != _MAGIC:
            return None
        header = _Header(*_read_blob(handle, os.fstat(handle.fileno()).st_size))
        if (
            header.version != FORMAT_VERSION
            or header.marshal_version != marshal.version
            or header.logical != store.logical
            or header.physical != physical_key(store)
            or header.roots != roots
            or header.signatures != _signatures(store, roots)
        ):
            return None
        size = os.fstat(handle.fileno()).st_size
        derivations: dict[str, Derivation] = {}
        problems: dict[str, str] = {}
        malformed: set[str] = set()
        order: list[str] = []
        from_each = Derivation.from_each
        with paused_gc():
            for _ in range(header.chunks):
                # Columns, not records: no Python-level loop over the nodes.
                paths, loaded, names, fields, bad = _read_blob(handle, size)
                order.extend(paths)
                derivations.update(zip(loaded, from_each(names, fields), strict=True))
                for path, message, is_malformed in bad:
                    problems[path] = message
                    if is_malformed:
                        malformed.add(path)
        if (
            handle.read(1)
            or len(order) != header.nodes
            or len(derivations) + len(problems) != header.nodes
        ):
            return None  # trailing garbage, or chunks that do not add up
        return CachedClosure(derivations, problems, frozenset(malformed), tuple(order))

    # --- writing -------------------------------------------------------------------

    def save(self, store: StoreDir, roots: tuple[str, ...], graph: DerivationGraph) -> None:
        """Write the pack of ``graph`` for ``roots`` (atomically; errors are ignored)."""
        file = self.pack_path(store, roots)
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=".tmp-", suffix=".pack", dir=file.parent)
        except OSError:
            return
        try:
            with os.fdopen(fd, "wb") as handle:
                self._write(handle, store, roots, graph)
            os.replace(temp, file)
        except _UNWRITABLE:  # a cache that cannot be written is no cache
            unlink_quietly(temp)
            return
        prune_oldest(self.packs_dir, keep=file, limit=_MAX_PACKS, suffix=".pack")

    def _write(
        self, handle: BinaryIO, store: StoreDir, roots: tuple[str, ...], graph: DerivationGraph
    ) -> None:
        paths = list(graph)
        chunks = (len(paths) + _CHUNK - 1) // _CHUNK
        header = _Header(
            FORMAT_VERSION,
            marshal.version,
            store.logical,
            physical_key(store),
            roots,
            _signatures(store, roots),
            len(paths),
            chunks,
        )
        handle.write(_MAGIC)
        _write_blob(handle, header.as_tuple())
        for start in range(0, len(paths), _CHUNK):
            _write_blob(handle, _chunk(graph, paths[start : start + _CHUNK]))

    def clear(self) -> int:
        """Delete every pack (and every kept result); returns how many packs."""
        ResultCache(self.directory).clear()
        count = 0
        try:
            with os.scandir(self.packs_dir) as listing:
                entries = list(listing)
        except OSError:
            return 0
        for entry in entries:
            if entry.name.endswith(".pack"):
                count += unlink_quietly(entry.path)
            elif entry.name.endswith(_OLD_RESULT_SUFFIX):
                unlink_quietly(entry.path)
        return count


def _chunk(graph: DerivationGraph, paths: list[str]) -> tuple[Any, ...]:
    """One chunk of a pack, as columns: ``(paths, loaded paths, names, fields, problems)``.

    ``paths`` is every node of the chunk in order; the loaded ones have their
    name and :data:`~revive.core.derivation.Fields` in the next three columns,
    the others ``(path, message, malformed)`` in the last.
    """
    derivations = graph.derivations
    loaded = [path for path in paths if path in derivations]
    drvs = [derivations[path] for path in loaded]
    return (
        tuple(paths),
        tuple(loaded),
        tuple(drv.name for drv in drvs),
        tuple(drv.fields() for drv in drvs),
        tuple(
            (path, graph.problems[path], graph.node(path).malformed)
            for path in paths
            if path not in derivations
        ),
    )


def _write_blob(handle: BinaryIO, value: Any) -> None:
    blob = marshal.dumps(value)
    handle.write(_LENGTH.pack(len(blob)))
    handle.write(blob)


def _read_blob(handle: BinaryIO, size: int) -> Any:
    head = handle.read(_LENGTH.size)
    (length,) = _LENGTH.unpack(head)
    if length > size:  # a damaged length must not allocate gigabytes
        raise EOFError("truncated pack")
    blob = handle.read(length)
    if len(blob) != length:
        raise EOFError("truncated pack")
    return marshal.loads(blob)


def _signatures(store: StoreDir, roots: tuple[str, ...]) -> tuple[tuple[str, int, int], ...]:
    found = []
    for root in roots:
        try:
            info = os.stat(store.physical_file(root))
        except (OSError, ReviveError):  # absent, or outside the store: no signature
            continue
        found.append((root, info.st_size, info.st_mtime_ns))
    return tuple(found)


def _touch(file: Path) -> None:
    # Recency for pruning; a read-only cache directory is fine too.
    try:
        os.utime(file)
    except OSError:
        pass
