"""The derivation graph of a closure: nodes, labelled edges, orders, statistics.

Nodes are ``.drv`` store paths; an edge goes from a derivation to each of its
input derivations and is labelled with the output names it uses (``gcc-7.5.0.drv
→ [lib]``). A node whose file is absent is *missing*; one whose file exists but
cannot be read is *malformed*: both stay in the graph, without inputs, so a
partial copy of a store can still be shown and mostly verified.

The graph is immutable once built. Indexes that not every user needs (referrers,
topological order, depths) are computed on first use; computing one twice from
two threads is harmless because each result only depends on the frozen data.

Name matching (:meth:`DerivationGraph.find`, :meth:`DerivationGraph.why`): a
target is either a store path (``/gnu/store/<hash>-gmp-6.1.2.drv``, or the bare
``<hash>-gmp-6.1.2.drv``), or a derivation name. A name matches nodes whose
derivation name equals it (``gmp-6.1.2``, ``.drv`` suffix optional); when none
does, it matches every node whose name is the target followed by ``-`` and a
version starting with a digit, Guix's ``name-version`` convention (``gmp``
matches ``gmp-6.1.2`` and ``gmp-6.2.0`` but not ``gmp-mpfr-1.0``).
"""

from __future__ import annotations

import graphlib
import heapq
from collections import Counter, deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from revive.core.derivation import Derivation, InputDrv
from revive.core.errors import MissingStoreItem
from revive.core.store_path import is_store_path, name_part

__all__ = ["Node", "ClosureStats", "DerivationGraph", "builder_kind"]

_NO_INPUTS: tuple[InputDrv, ...] = ()


def builder_kind(builder: str) -> str:
    """``builtin``, ``guile`` or ``other``: what runs a derivation's build."""
    if builder.startswith("builtin:"):
        return "builtin"
    base = builder[builder.rfind("/") + 1 :]
    if base.startswith("guile"):
        return "guile"
    return "other"


@dataclass(frozen=True, slots=True)
class Node:
    """One ``.drv`` of a graph, loaded or not."""

    path: str
    """The ``.drv`` store path."""
    derivation: Derivation | None
    """The parsed derivation; ``None`` when missing or malformed."""
    error: str | None = None
    """Why there is no derivation (one line, names the file), else ``None``."""
    malformed: bool = False
    """True when the file exists but could not be read or parsed."""

    @property
    def name(self) -> str:
        """Derivation name: the store name without ``.drv``."""
        return Derivation.name_from_path(self.path)

    @property
    def missing(self) -> bool:
        """True when the ``.drv`` file is not in the store."""
        return self.derivation is None and not self.malformed

    @property
    def loaded(self) -> bool:
        """True when the derivation was read successfully."""
        return self.derivation is not None

    @property
    def is_fixed_output(self) -> bool:
        """True for a loaded fixed-output derivation (a source download)."""
        return self.derivation is not None and self.derivation.is_fixed_output


@dataclass(frozen=True, slots=True)
class ClosureStats:
    """Figures about a closure (or a whole graph)."""

    derivations: int
    """Nodes, including missing and malformed ones."""
    fixed_output: int
    """Loaded fixed-output derivations."""
    missing: int
    """Nodes whose ``.drv`` file is absent."""
    malformed: int
    """Nodes whose ``.drv`` file could not be parsed."""
    edges: int
    """Input-derivation edges (one per ``(drv, input drv)`` pair)."""
    output_edges: int
    """Edges counted per output used (``gcc [out, lib]`` counts twice)."""
    input_sources: int
    """Distinct input sources (builder scripts, patches, mirror lists…)."""
    outputs: int
    """Outputs of all loaded derivations."""
    multi_output: int
    """Loaded derivations with more than one output."""
    systems: tuple[tuple[str, int], ...]
    """Distinct systems with their derivation counts, most frequent first."""
    builders: tuple[tuple[str, int], ...]
    """Derivations per builder kind (``builtin``, ``guile``, ``other``), most first."""
    builtins: tuple[tuple[str, int], ...]
    """Derivations per builtin builder (``builtin:download``…), most first."""
    roots: int
    """Nodes no other node of the closure depends on."""
    leaves: int
    """Nodes without input derivations (including missing ones)."""
    max_depth: int
    """Edges on the longest dependency chain (0 for a single node)."""
    top_fan_in: tuple[tuple[str, int], ...]
    """The most depended-upon nodes with their referrer counts (up to 10)."""


class DerivationGraph:
    """An immutable graph of derivations keyed by ``.drv`` store path.

    Build one with :func:`revive.core.closure.load_closure`, or in memory with
    :meth:`from_derivations`.
    """

    __slots__ = (
        "_store_dir",
        "_roots",
        "_derivations",
        "_problems",
        "_malformed",
        "_order",
        "_referrers",
        "_topo",
        "_names",
    )

    def __init__(
        self,
        store_dir: str,
        roots: tuple[str, ...],
        derivations: dict[str, Derivation],
        problems: dict[str, str],
        malformed: frozenset[str],
        order: tuple[str, ...],
    ) -> None:
        """Internal: use :meth:`from_derivations` or ``load_closure``.

        ``order`` lists every node exactly once; ``derivations`` and
        ``problems`` partition it; every input of every derivation is a node.
        """
        self._store_dir = store_dir
        self._roots = roots
        self._derivations = derivations
        self._problems = problems
        self._malformed = malformed
        self._order = order
        self._referrers: dict[str, tuple[str, ...]] | None = None
        self._topo: tuple[str, ...] | None = None
        self._names: dict[str, list[str]] | None = None

    @classmethod
    def from_derivations(
        cls,
        store_dir: str,
        roots: tuple[str, ...] | list[str],
        derivations: Mapping[str, Derivation],
        missing: Mapping[str, str] | None = None,
        malformed: Mapping[str, str] | None = None,
    ) -> DerivationGraph:
        """A graph of the given derivations (e.g. rewritten ones, in memory).

        Args:
            store_dir: the logical store directory of the paths.
            roots: the nodes the graph was asked for (added as missing if unknown).
            derivations: every loaded node, by ``.drv`` path.
            missing: absent nodes with the reason (one line).
            malformed: present but unreadable nodes with the error (one line).

        An input of a derivation that is in none of the mappings becomes a
        missing node. Nodes are ordered breadth-first from the roots, then any
        node not reachable from them in mapping order.
        """
        derivs = dict(derivations)
        problems: dict[str, str] = {}
        bad: set[str] = set()
        for path, why in (malformed or {}).items():
            if path not in derivs:
                problems[path] = why
                bad.add(path)
        for path, why in (missing or {}).items():
            if path not in derivs and path not in problems:
                problems[path] = why
        order: dict[str, None] = {}
        root_list = tuple(dict.fromkeys(roots))
        for start in (*root_list, *derivs, *problems):
            _add_reachable(derivs, start, order)
        for path in order:
            if path not in derivs and path not in problems:
                problems[path] = f"{path}: not in the store"
        return cls(store_dir, root_list, derivs, problems, frozenset(bad), tuple(order))

    # --- mapping protocol ------------------------------------------------------

    @property
    def store_dir(self) -> str:
        """The logical store directory of every path in the graph."""
        return self._store_dir

    @property
    def roots(self) -> tuple[str, ...]:
        """The ``.drv`` paths the graph was loaded for."""
        return self._roots

    def __len__(self) -> int:
        return len(self._order)

    def __contains__(self, path: object) -> bool:
        return path in self._derivations or path in self._problems

    def __iter__(self) -> Iterator[str]:
        """Node paths, breadth-first from the roots (the loading order)."""
        return iter(self._order)

    def __repr__(self) -> str:
        return (
            f"<DerivationGraph {len(self)} nodes, {len(self._problems)} unavailable, "
            f"roots={list(self._roots)!r}>"
        )

    @property
    def derivations(self) -> Mapping[str, Derivation]:
        """Every loaded derivation by path (a read-only view)."""
        return MappingProxyType(self._derivations)

    @property
    def problems(self) -> Mapping[str, str]:
        """Every missing or malformed node with its one-line error (read-only view)."""
        return MappingProxyType(self._problems)

    # --- nodes -------------------------------------------------------------------

    def node(self, path: str) -> Node:
        """The node at ``path``.

        Raises:
            KeyError: ``path`` is not a node of this graph.
        """
        drv = self._derivations.get(path)
        if drv is not None:
            return Node(path, drv)
        error = self._problems.get(path)
        if error is None:
            raise KeyError(path)
        return Node(path, None, error, path in self._malformed)

    def nodes(self) -> Iterator[Node]:
        """Every node, in :meth:`__iter__` order."""
        return (self.node(path) for path in self._order)

    def derivation(self, path: str) -> Derivation:
        """The derivation at ``path``.

        Raises:
            MissingStoreItem: the node is missing or malformed.
            KeyError: ``path`` is not a node of this graph.
        """
        drv = self._derivations.get(path)
        if drv is not None:
            return drv
        if path in self._problems:
            raise MissingStoreItem(path, "read this derivation")
        raise KeyError(path)

    def get(self, path: str) -> Derivation | None:
        """The derivation at ``path``, or ``None`` if unavailable or not a node."""
        return self._derivations.get(path)

    def is_fixed_output(self, path: str) -> bool:
        """True if ``path`` is a loaded fixed-output derivation."""
        drv = self._derivations.get(path)
        return drv is not None and drv.is_fixed_output

    # --- edges -------------------------------------------------------------------

    def inputs(self, path: str) -> tuple[InputDrv, ...]:
        """Edges out of ``path``: ``(input .drv path, output names used)``, file order.

        A missing or malformed node has none.

        Raises:
            KeyError: ``path`` is not a node of this graph.
        """
        drv = self._derivations.get(path)
        if drv is not None:
            return drv.input_drvs
        if path in self._problems:
            return _NO_INPUTS
        raise KeyError(path)

    def referrers(self, path: str) -> tuple[str, ...]:
        """The nodes that have ``path`` as an input, sorted.

        Raises:
            KeyError: ``path`` is not a node of this graph.
        """
        if path not in self:
            raise KeyError(path)
        return self._referrer_index().get(path, ())

    def _referrer_index(self) -> dict[str, tuple[str, ...]]:
        index = self._referrers
        if index is None:
            lists: dict[str, list[str]] = {}
            for path, drv in self._derivations.items():
                for input_path, _ in drv.input_drvs:
                    bucket = lists.get(input_path)
                    if bucket is None:
                        lists[input_path] = [path]
                    else:
                        bucket.append(path)
            index = {path: tuple(sorted(refs)) for path, refs in lists.items()}
            self._referrers = index
        return index

    # --- orders and closures -------------------------------------------------

    def topological_order(self) -> tuple[str, ...]:
        """Every node, inputs before the derivations that use them.

        Raises:
            graphlib.CycleError: the graph has a cycle (impossible for real
                store paths, possible for hand-made in-memory graphs).
        """
        order = self._topo
        if order is None:
            sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
            for path in self._order:
                drv = self._derivations.get(path)
                if drv is None or not drv.input_drvs:
                    sorter.add(path)
                else:
                    sorter.add(path, *[p for p, _ in drv.input_drvs])
            order = tuple(sorter.static_order())
            self._topo = order
        return order

    def sorter(self, root: str | None = None) -> graphlib.TopologicalSorter[str]:
        """A fresh, not yet prepared ``TopologicalSorter`` over the closure of ``root``.

        For building one node at a time: ``prepare()``, then ``get_ready()`` /
        ``done()``.
        """
        paths = self._order if root is None else self.closure(root)
        sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
        for path in paths:
            sorter.add(path, *[p for p, _ in self.inputs(path)])
        return sorter

    def closure(self, path: str) -> frozenset[str]:
        """``path`` and every node it depends on, directly or not.

        Raises:
            KeyError: ``path`` is not a node of this graph.
        """
        if path not in self:
            raise KeyError(path)
        seen: dict[str, None] = {}
        _add_reachable(self._derivations, path, seen)
        return frozenset(seen)

    def depths(self) -> dict[str, int]:
        """For every node, the number of edges on its longest chain down to a leaf."""
        depth: dict[str, int] = {}
        derivs = self._derivations
        for path in self.topological_order():
            drv = derivs.get(path)
            if drv is None or not drv.input_drvs:
                depth[path] = 0
            else:
                depth[path] = 1 + max(depth[p] for p, _ in drv.input_drvs)
        return depth

    # --- statistics ------------------------------------------------------------

    def stats(self, root: str | None = None) -> ClosureStats:
        """Figures about the closure of ``root``, or of the whole graph."""
        paths: frozenset[str] | tuple[str, ...] = (
            self._order if root is None else self.closure(root)
        )
        derivs = self._derivations
        fixed = missing = malformed = edges = output_edges = outputs = multi = 0
        leaves = 0
        sources: set[str] = set()
        systems: Counter[str] = Counter()
        kinds: Counter[str] = Counter()
        builtins: Counter[str] = Counter()
        fan_in: Counter[str] = Counter()
        for path in paths:
            drv = derivs.get(path)
            if drv is None:
                leaves += 1
                if path in self._malformed:
                    malformed += 1
                else:
                    missing += 1
                continue
            if drv.is_fixed_output:
                fixed += 1
            n_out = len(drv.outputs)
            outputs += n_out
            if n_out > 1:
                multi += 1
            ins = drv.input_drvs
            if not ins:
                leaves += 1
            edges += len(ins)
            for input_path, names in ins:
                output_edges += len(names)
                fan_in[input_path] += 1
            sources.update(drv.input_srcs)
            systems[drv.system] += 1
            kind = builder_kind(drv.builder)
            kinds[kind] += 1
            if kind == "builtin":
                builtins[drv.builder] += 1
        if root is None:
            depth_map = self.depths()
            max_depth = max(depth_map.values(), default=0)
        else:
            max_depth = self._depth_from(root)
        n_roots = sum(1 for path in paths if path not in fan_in)
        return ClosureStats(
            derivations=len(paths),
            fixed_output=fixed,
            missing=missing,
            malformed=malformed,
            edges=edges,
            output_edges=output_edges,
            input_sources=len(sources),
            outputs=outputs,
            multi_output=multi,
            systems=_ranked(systems),
            builders=_ranked(kinds),
            builtins=_ranked(builtins),
            roots=n_roots,
            leaves=leaves,
            max_depth=max_depth,
            top_fan_in=tuple(
                heapq.nsmallest(10, fan_in.items(), key=lambda item: (-item[1], item[0]))
            ),
        )

    def _depth_from(self, root: str) -> int:
        # Longest chain below root = depth of root in the whole graph, because
        # every node below root is in its closure.
        return self.depths()[root] if root in self else 0

    # --- search -------------------------------------------------------------------

    def find(self, name_or_path: str) -> tuple[str, ...]:
        """Nodes matching a store path or a derivation name (module docstring), sorted."""
        target = name_or_path.strip()
        if not target:
            return ()
        if "/" in target:
            return (target,) if target in self else ()
        if is_store_path(f"{self._store_dir}/{target}"):
            path = f"{self._store_dir}/{target}"
            if not path.endswith(".drv") and f"{path}.drv" in self:
                path += ".drv"
            return (path,) if path in self else ()
        name = target[:-4] if target.endswith(".drv") else target
        index = self._name_index()
        exact = index.get(name)
        if exact:
            return tuple(sorted(exact))
        prefix = name + "-"
        found = [
            path
            for node_name, paths in index.items()
            if node_name.startswith(prefix)
            and len(node_name) > len(prefix)
            and node_name[len(prefix)].isdigit()
            for path in paths
        ]
        return tuple(sorted(found))

    def _name_index(self) -> dict[str, list[str]]:
        index = self._names
        if index is None:
            index = {}
            for path in self._order:
                base = name_part(path)
                name = base[:-4] if base.endswith(".drv") else base
                index.setdefault(name, []).append(path)
            self._names = index
        return index

    def why(
        self, source: str, target: str, *, limit: int | None = None
    ) -> tuple[tuple[str, ...], ...]:
        """Every shortest dependency path from ``source`` to each node matching ``target``.

        ``target`` is a store path or a name (rule in the module docstring).
        For each matching node reachable from ``source``, all the shortest
        paths to it are returned, each as ``(source, …, that node)``; paths
        are ordered by length, then lexicographically. ``source`` itself
        matching gives the one-node path ``(source,)``.

        Args:
            source: the ``.drv`` path to start from.
            target: what to look for.
            limit: stop after this many paths (the count of shortest paths can
                grow exponentially with diamond-shaped dependencies).

        Raises:
            KeyError: ``source`` is not a node of this graph.
        """
        if source not in self:
            raise KeyError(source)
        targets = set(self.find(target))
        if not targets:
            return ()
        dist, preds = self._shortest_paths_from(source)
        reached = sorted((dist[t], t) for t in targets if t in dist)
        paths: list[tuple[str, ...]] = []
        for _, end in reached:
            paths.extend(_paths_to(end, preds, None if limit is None else limit - len(paths)))
            if limit is not None and len(paths) >= limit:
                break
        paths.sort(key=lambda p: (len(p), p))
        return tuple(paths[:limit] if limit is not None else paths)

    def count_why(self, source: str, target: str) -> int:
        """How many paths :meth:`why` would return without a limit (computed, not listed)."""
        if source not in self:
            raise KeyError(source)
        targets = set(self.find(target))
        if not targets:
            return 0
        _dist, preds = self._shortest_paths_from(source)
        # ``preds`` lists nodes in breadth-first order, so every predecessor
        # is counted before the nodes it leads to.
        count: dict[str, int] = {}
        for node, before in preds.items():
            count[node] = sum(count[p] for p in before) if before else 1
        return sum(count[t] for t in targets if t in count)

    def _shortest_paths_from(self, source: str) -> tuple[dict[str, int], dict[str, list[str]]]:
        """Breadth-first from ``source``: each reached node's distance and the
        nodes before it on its shortest paths (``[]`` for ``source``).

        Both dicts are in the order nodes were reached.
        """
        dist = {source: 0}
        preds: dict[str, list[str]] = {source: []}
        frontier = [source]
        derivs = self._derivations
        while frontier:
            following: list[str] = []
            for path in frontier:
                drv = derivs.get(path)
                if drv is None:
                    continue
                level = dist[path] + 1
                for input_path, _ in drv.input_drvs:
                    seen = dist.get(input_path)
                    if seen is None:
                        dist[input_path] = level
                        preds[input_path] = [path]
                        following.append(input_path)
                    elif seen == level:
                        preds[input_path].append(path)
            frontier = following
        return dist, preds


def _paths_to(end: str, preds: Mapping[str, list[str]], limit: int | None) -> list[tuple[str, ...]]:
    """Every path from the BFS source to ``end`` following ``preds`` (iterative)."""
    found: list[tuple[str, ...]] = []
    # Each stack entry is a partial path, reversed: (end, …, current).
    stack: list[tuple[str, ...]] = [(end,)]
    while stack:
        partial = stack.pop()
        before = preds[partial[-1]]
        if not before:
            found.append(partial[::-1])
            if limit is not None and len(found) >= limit:
                break
            continue
        for previous in sorted(before, reverse=True):
            stack.append((*partial, previous))
    return found


def _ranked(counter: Counter[str]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(counter.items(), key=lambda item: (-item[1], item[0])))


def _add_reachable(derivs: Mapping[str, Derivation], start: str, seen: dict[str, None]) -> None:
    """Add ``start`` and every node it reaches through input derivations to ``seen``.

    Breadth first, in input order; what ``seen`` already holds is not walked again.
    """
    if start in seen:
        return
    seen[start] = None
    queue = deque((start,))
    while queue:
        drv = derivs.get(queue.popleft())
        if drv is None:
            continue
        for input_path, _ in drv.input_drvs:
            if input_path not in seen:
                seen[input_path] = None
                queue.append(input_path)
