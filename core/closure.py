"""Load the transitive closure of some ``.drv`` files into a :class:`DerivationGraph`.

Loading walks breadth-first from the roots, reading each ``.drv`` file once
from the physical store directory. An absent file becomes a missing node, an
unreadable or malformed one a malformed node carrying its one-line error: a
partial or damaged copy of a store still opens.

This is the hot path of opening an environment (issue 2, item 8: 50,000
derivations, ≈150 MB), so the loop is written for speed: with the compiled
module the whole loop runs in C (``load_queue`` in ``core/_drv_load.c``), a
second thread reading the files ahead while the first scans them, and hands
back to the Python code here only what is unusual (a missing, malformed or
oddly named file); equal input edges are shared as one tuple, and the
cyclic garbage collector is paused, because the millions of tuples a closure
is made of would otherwise trigger dozens of full collections that find
nothing to free. Without the compiled module, a big closure is spread over
worker processes when CPUs are idle (:mod:`revive.core.load_worker`). A
closure loaded before is re-opened from :mod:`revive.core.cache`. Figures:
``bench/README.md``.
"""

from __future__ import annotations

import gc
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final, Protocol

from revive.core.compiled import COMPILED, MODULE
from revive.core.derivation import COMPILED_CLASSES, Derivation, Fields, InputDrv
from revive.core.errors import ReviveError
from revive.core.graph import DerivationGraph
from revive.core.load_worker import (
    LOADED,
    MALFORMED,
    FileState,
    WorkerFailed,
    WorkerPool,
    load_one,
)
from revive.core.store_dir import StoreDir

__all__ = [
    "LoadProgress",
    "LoadCancelled",
    "CachedClosure",
    "ClosureCache",
    "LoadOnly",
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


class LoadOnly:
    """A :class:`ClosureCache` that is read but never written.

    For a command that loads a closure for one answer it keeps itself
    (``verify`` keeps its report, checked against every file): writing a
    pack costs about a third of loading the closure, for a later command
    that may never come. A pack written by another command is still used.
    """

    def __init__(self, cache: ClosureCache) -> None:
        self.cache = cache
        """Where loads come from."""

    def load(self, store: StoreDir, roots: tuple[str, ...]) -> CachedClosure | None:
        """What the underlying cache has."""
        return self.cache.load(store, roots)

    def save(self, store: StoreDir, roots: tuple[str, ...], graph: DerivationGraph) -> None:
        """Nothing: see the class docstring."""


def load_closure(
    roots: Iterable[str],
    store: StoreDir,
    *,
    cache: ClosureCache | None = None,
    progress: Callable[[LoadProgress], None] | None = None,
    cancel: threading.Event | None = None,
    workers: int | None = None,
    texts: dict[str, bytes] | None = None,
    states: dict[str, FileState] | None = None,
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
        workers: processes to spread a big load over (default: one per
            CPU); 1 reads everything in this process.
        texts: when given, the bytes of each file read and parsed are put in
            it by path (what :func:`revive.core.verify.verify_graph` hashes;
            nothing for nodes re-opened from the cache).
        states: when given, the state of each of those files as it was read
            (what :class:`revive.core.result_cache.ResultCache` keeps with a result).

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
    graph = _walk(
        root_paths,
        store,
        known,
        progress,
        cancel,
        default_workers() if workers is None else workers,
        texts,
        states,
    )
    if cache is not None:
        cache.save(store, root_paths, graph)
    return graph


class _Walk:
    """The state of one breadth-first load: the queue is the graph's order."""

    def __init__(
        self,
        roots: tuple[str, ...],
        store: StoreDir,
        known: Mapping[str, Derivation],
        progress: Callable[[LoadProgress], None] | None,
        cancel: threading.Event | None,
        texts: dict[str, bytes] | None = None,
        states: dict[str, FileState] | None = None,
    ) -> None:
        self.store = store
        self.texts = texts
        self.states = states
        self.known = known
        self.progress = progress
        self.cancel = cancel
        self.logical = store.logical
        self.physical = os.path.join(store.physical, "")
        self.derivations: dict[str, Derivation] = {}
        # Equal input edges read in this process share one tuple: a
        # million edges, tens of thousands distinct (memory, and the cache
        # pack marshals a shared tuple once per chunk).
        self.edges: dict[object, InputDrv] = {}
        self.problems: dict[str, str] = {}
        self.malformed: set[str] = set()
        self.queue = list(roots)
        self.seen = set(self.queue)
        self.index = 0
        """Nodes of the queue handled so far."""
        self.next_report = PROGRESS_EVERY

    def checkpoint(self) -> None:
        """Report progress and honour cancellation every few hundred nodes."""
        if self.index >= self.next_report:
            self.next_report = self.index + PROGRESS_EVERY
            if self.progress is not None:
                self.progress(LoadProgress(self.index, len(self.queue)))
            if self.cancel is not None and self.cancel.is_set():
                raise LoadCancelled(self.index)

    def checkpoint_at(self, index: int) -> None:
        """:meth:`checkpoint` once ``index`` nodes are handled (the compiled loop's)."""
        self.index = index
        self.checkpoint()

    def load_here(self, path: str) -> None:
        """Read, parse and record ``path`` in Python (what the compiled loop leaves)."""
        self.apply(
            path, *load_one(self.logical, self.physical, path, self.edges, self.texts, self.states)
        )

    def apply(self, path: str, status: int, payload: Any) -> None:
        """Record the outcome for ``path`` and queue its unseen inputs."""
        if status == LOADED:
            name, fields = payload
            self.add(path, Derivation.from_fields(name, fields))
        else:
            self.problems[path] = payload
            if status == MALFORMED:
                self.malformed.add(path)

    def shared(self, payload: tuple[str, Fields]) -> tuple[str, Fields]:
        """A worker's ``(name, fields)`` with its input edges made this load's shared tuples.

        Edges arrive from another process as new tuples (``marshal``); the
        sequential path shares them as it reads (``load_one``'s ``edges``).
        """
        name, (outputs, input_drvs, *rest) = payload
        share = self.edges.setdefault
        return name, (outputs, tuple(map(share, input_drvs, input_drvs)), *rest)  # type: ignore[return-value]

    def add(self, path: str, drv: Derivation) -> None:
        self.derivations[path] = drv
        seen = self.seen
        for input_path, _ in drv.input_drvs:
            if input_path not in seen:
                seen.add(input_path)
                self.queue.append(input_path)

    def sequential(self, until: int | None = None) -> None:
        """Handle queued nodes in this process (stop early once ``until`` are queued)."""
        queue = self.queue
        known = self.known
        edges, texts, states = self.edges, self.texts, self.states
        logical, physical = self.logical, self.physical
        if _load_queue is not None and until is None and not known:
            self.index = _load_queue(
                queue,
                self.index,
                logical,
                physical,
                edges,
                texts,
                states,
                self.derivations,
                self.seen,
                *COMPILED_CLASSES,
                self.load_here,
                self.checkpoint_at,
                PROGRESS_EVERY,
            )
            return
        while self.index < len(queue):
            if until is not None and len(queue) - self.index >= until:
                return
            self.checkpoint()
            path = queue[self.index]
            self.index += 1
            drv = known.get(path)
            if drv is not None:
                self.add(path, drv)
            else:
                self.apply(path, *load_one(logical, physical, path, edges, texts, states))

    def parallel(self, workers: int) -> None:
        """Handle the rest of the queue with worker processes (or alone if they fail).

        Batches are consecutive slices of the queue, dealt round-robin, and
        their results are applied in queue order, so the graph's order is
        exactly the one a sequential load gives.
        """
        try:
            pool = WorkerPool(workers)
        except WorkerFailed:  # pragma: no cover - no processes allowed here
            return
        queue = self.queue
        keep = self.texts is not None or self.states is not None
        # (first queue index, size, worker) of each batch sent, oldest first.
        pending: deque[tuple[int, int, int]] = deque()
        submitted = self.index
        turn = 0
        with pool:
            try:
                while self.index < len(queue):
                    # Two batches per worker: one being read, one waiting.
                    while submitted < len(queue) and len(pending) < 2 * workers:
                        size = max(16, min(_BATCH, (len(queue) - submitted) // (2 * workers)))
                        batch = queue[submitted : submitted + size]
                        pool.send(turn, self.logical, self.physical, batch, keep)
                        pending.append((submitted, len(batch), turn))
                        submitted += len(batch)
                        turn = (turn + 1) % workers
                    start, count, worker = pending.popleft()
                    results, texts, states = pool.receive(worker)
                    if len(results) != count:
                        raise WorkerFailed("short answer")
                    if self.texts is not None:
                        self.texts.update(texts)
                    if self.states is not None:
                        self.states.update(states)
                    for offset, (status, payload) in enumerate(results):
                        if status == LOADED:
                            payload = self.shared(payload)
                        self.apply(queue[start + offset], status, payload)
                    self.index = start + count
                    self.checkpoint()
            except WorkerFailed:  # pragma: no cover - a worker died: go on alone
                pool.close(kill=True)

    def graph(self, roots: tuple[str, ...]) -> DerivationGraph:
        return DerivationGraph(
            self.logical,
            roots,
            self.derivations,
            self.problems,
            frozenset(self.malformed),
            tuple(self.queue),
        )


def _walk(
    roots: tuple[str, ...],
    store: StoreDir,
    known: Mapping[str, Derivation],
    progress: Callable[[LoadProgress], None] | None,
    cancel: threading.Event | None,
    workers: int,
    texts: dict[str, bytes] | None = None,
    states: dict[str, FileState] | None = None,
) -> DerivationGraph:
    walk = _Walk(roots, store, known, progress, cancel, texts, states)
    with paused_gc():
        if workers > 1 and not known:
            # Small closures never pay for starting processes: go on alone
            # until the queue shows that the closure is big.
            walk.sequential(until=PARALLEL_MIN)
            if walk.index < len(walk.queue):
                walk.parallel(workers)
        walk.sequential()
    if cancel is not None and cancel.is_set():
        raise LoadCancelled(walk.index)
    if progress is not None:
        progress(LoadProgress(len(walk.queue), len(walk.queue)))
    return walk.graph(roots)


_load_queue: Final[Callable[..., int] | None] = None if MODULE is None else MODULE.load_queue
"""The compiled loop of :meth:`_Walk.sequential` (``core/_drv_load.c``), or ``None``."""

PARALLEL_MIN: Final = 4000
"""Queued, unread nodes from which a load spreads over worker processes.

Starting them costs about 0.1 s; below this they would not pay for themselves."""
_BATCH: Final = 256
"""Most ``.drv`` files per batch sent to a worker (a request stays a few kilobytes)."""


def default_workers() -> int:
    """Worker processes for big loads: one per CPU that is idle now, if at least two.

    Only for the pure-Python reader: with the compiled one, reading a file
    costs about as much as turning its fields into objects in the main
    process, so workers never pay (50,000 files: 1.5 s alone, 2.0 s with
    two workers). With the pure-Python reader the main process still does
    about a fifth of the work, so workers pay when they get CPUs of their
    own; on a machine already busy with other work, one process is faster.
    """
    if COMPILED:
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    idle = int(cpus - busy_cpus() + 0.5)
    return idle if idle >= 2 else 1


def busy_cpus() -> float:
    """How many CPUs other work keeps busy now.

    On Linux, the tasks runnable at this moment but this one
    (``/proc/loadavg``): the one-minute load average lags, and right after
    a burst of work (this very program's, a moment ago) it would call an
    idle machine busy. Elsewhere, that load average.
    """
    try:
        with open("/proc/loadavg", encoding="ascii") as stats:
            runnable = int(stats.read().split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        try:
            return os.getloadavg()[0]
        except OSError:  # pragma: no cover - no load average here
            return 0.0
    return float(max(0, runnable - 1))
