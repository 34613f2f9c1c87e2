"""Load the transitive closure of some ``.drv`` files into a :class:`DerivationGraph`.

Loading walks breadth-first from the roots, reading each ``.drv`` file once
from the physical store directory. An absent file becomes a missing node, an
unreadable or malformed one a malformed node carrying its one-line error: a
partial or damaged copy of a store still opens.

This is the hot path of opening an environment (issue 2, item 8: 50,000
derivations, ≈150 MB), so the loop is written for speed: string paths instead
of :class:`~pathlib.Path` objects, and the cyclic garbage collector paused,
because the millions of tuples a closure is made of would otherwise trigger
dozens of full collections that find nothing to free.
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Final, Protocol

from revive.core.aterm import parse_derivation_bytes
from revive.core.derivation import Derivation
from revive.core.drv_scan import scan_derivation
from revive.core.errors import DerivationError, ReviveError
from revive.core.graph import DerivationGraph
from revive.core.store_dir import StoreDir

__all__ = [
    "LoadProgress",
    "LoadCancelled",
    "CachedClosure",
    "ClosureCache",
    "load_closure",
    "paused_gc",
]

PROGRESS_EVERY: Final = 256
"""Files read between two progress reports (and two cancellation checks)."""


@dataclass(frozen=True, slots=True)
class LoadProgress:
    """How far loading is: ``done`` nodes handled out of ``discovered`` so far."""

    done: int
    """Nodes read (or found missing or malformed)."""
    discovered: int
    """Nodes known so far; grows while loading, equals ``done`` at the end."""


class LoadCancelled(ReviveError):
    """Loading was cancelled through its ``cancel`` event."""

    def __init__(self, done: int = 0) -> None:
        self.done = done
        """Nodes handled before the cancellation was seen."""
        super().__init__(f"loading cancelled after {done} derivations")

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.done,))


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection inside the ``with`` block, none of its debt after.

    Building a closure allocates millions of container objects (tuples) and no
    cycles. With the collector on, CPython runs a collection every 700
    allocations and a full one every few hundred thousand, all finding nothing
    to free: about a third of the load time. Re-enabling it afterwards would
    make the next collection walk all of them once (0.5 s for 50,000
    derivations), so they are moved to the permanent generation
    (``gc.freeze``) first: reference counting still frees them; only the
    cycle collector ignores them, which is right for acyclic data.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


@dataclass(frozen=True, slots=True)
class CachedClosure:
    """What a cache holds for one closure: the nodes as they were when saved."""

    derivations: dict[str, Derivation]
    """Loaded nodes by path, in loading order."""
    problems: dict[str, str]
    """Missing and malformed nodes with their one-line errors."""
    malformed: frozenset[str]
    """The malformed ones among ``problems``."""
    order: tuple[str, ...]
    """Every node, in loading order (the graph's iteration order)."""


class ClosureCache(Protocol):
    """A persistent store of loaded closures (implemented by :mod:`revive.core.cache`)."""

    def load(self, store: StoreDir, roots: tuple[str, ...]) -> CachedClosure | None:
        """The closure of ``roots`` in ``store`` as saved before, or ``None``."""

    def save(self, store: StoreDir, roots: tuple[str, ...], graph: DerivationGraph) -> None:
        """Remember ``graph`` as the closure of ``roots`` in ``store`` (never raises)."""


def load_closure(
    roots: Iterable[str],
    store: StoreDir,
    *,
    cache: ClosureCache | None = None,
    progress: Callable[[LoadProgress], None] | None = None,
    cancel: threading.Event | None = None,
) -> DerivationGraph:
    """The graph of ``roots`` (logical ``.drv`` paths) and everything they depend on.

    Args:
        roots: logical ``.drv`` store paths (see :meth:`StoreDir.resolve_root`).
        store: where to read them.
        cache: a persistent cache of parsed closures; when given, a closure
            loaded before is re-opened from it, and a new one is saved to it.
        progress: called every few hundred files and once at the end.
        cancel: when set (from another thread), loading stops with
            :class:`LoadCancelled`.

    Raises:
        LoadCancelled: ``cancel`` was set.
    """
    root_paths = tuple(dict.fromkeys(roots))
    known: Mapping[str, Derivation] = {}
    if cache is not None:
        pack = cache.load(store, root_paths)
        if pack is not None:
            if not any(path not in pack.malformed and store.exists(path) for path in pack.problems):
                graph = DerivationGraph(
                    store.logical,
                    root_paths,
                    pack.derivations,
                    pack.problems,
                    pack.malformed,
                    pack.order,
                )
                if progress is not None:
                    progress(LoadProgress(len(graph), len(graph)))
                return graph
            # A node that was missing appeared: reuse what was parsed, read the rest.
            known = pack.derivations
    graph = _walk(root_paths, store, known, progress, cancel)
    if cache is not None:
        cache.save(store, root_paths, graph)
    return graph


def _walk(
    roots: tuple[str, ...],
    store: StoreDir,
    known: Mapping[str, Derivation],
    progress: Callable[[LoadProgress], None] | None,
    cancel: threading.Event | None,
) -> DerivationGraph:
    prefix = store.logical + "/"
    cut = len(prefix)
    physical = os.path.join(store.physical, "")
    derivations: dict[str, Derivation] = {}
    problems: dict[str, str] = {}
    malformed: set[str] = set()
    queue = list(roots)
    seen = set(queue)
    append = queue.append
    add = seen.add
    parse = parse_derivation_bytes
    scan = scan_derivation
    index = 0
    next_report = PROGRESS_EVERY
    with paused_gc():
        while index < len(queue):
            if index >= next_report:
                next_report += PROGRESS_EVERY
                if progress is not None:
                    progress(LoadProgress(index, len(queue)))
                if cancel is not None and cancel.is_set():
                    raise LoadCancelled(index)
            path = queue[index]
            index += 1
            drv = known.get(path)
            if drv is None:
                if not path.startswith(prefix) or "/" in path[cut:]:
                    problems[path] = f"{path}: not in the store {store.logical}"
                    continue
                file = physical + path[cut:]
                try:
                    data = _read(file)
                except FileNotFoundError:
                    problems[path] = _missing_message(path, file)
                    continue
                except IsADirectoryError:
                    problems[path] = f"{file}: is a directory, not a derivation file"
                    malformed.add(path)
                    continue
                except OSError as err:
                    problems[path] = f"{file}: cannot read: {err.strerror or err}"
                    malformed.add(path)
                    continue
                drv = None
                if path.endswith(".drv") and path[cut + 32 : cut + 33] == "-":
                    try:
                        drv = scan(data.decode(), path[cut + 33 : -4])
                    except UnicodeDecodeError:
                        pass
                if drv is None:
                    # Unusual or broken: the careful parser reads it or says where
                    # it is wrong; the name then comes from the path as usual.
                    try:
                        drv = parse(data, file, Derivation.name_from_path(path))
                    except DerivationError as err:
                        problems[path] = str(err)
                        malformed.add(path)
                        continue
                del data
            derivations[path] = drv
            for input_path, _ in drv.input_drvs:
                if input_path not in seen:
                    add(input_path)
                    append(input_path)
    if cancel is not None and cancel.is_set():
        raise LoadCancelled(index)
    if progress is not None:
        progress(LoadProgress(len(queue), len(queue)))
    return DerivationGraph(
        store.logical, roots, derivations, problems, frozenset(malformed), tuple(queue)
    )


_READ_SIZE: Final = 1 << 16
"""First read size: most ``.drv`` files are far smaller, a few need more reads."""


def _read(file: str) -> bytes:
    # os.open/os.read: half the cost of open().read() (no buffered file object).
    fd = os.open(file, os.O_RDONLY | os.O_CLOEXEC)
    try:
        data = os.read(fd, _READ_SIZE)
        if len(data) < _READ_SIZE:
            return data
        chunks = [data]
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _missing_message(path: str, file: str) -> str:
    if file == path:
        return f"{path}: not in the store"
    return f"{path}: not in the store (no file {file})"
