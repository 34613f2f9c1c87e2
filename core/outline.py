"""The outline of a derivation graph: the order a fully expanded tree shows it in.

A derivation graph is a DAG in which one node (``glibc``, ``guile``…) can sit
below hundreds of others. A tree view shows each node in full exactly once,
at its *first occurrence*: the first time a depth-first, pre-order walk from
the roots (children in the order the ``.drv`` file lists them) reaches it.
Every other occurrence is a reference to that one. Because the walk is
pre-order, the first occurrence is always *above* any later one on screen.

:class:`Outline` records that walk once (one pass over every edge) so that
"next fixed-output node", "next failing node" and "reveal this node" are a
binary search and a walk up a parent chain, never another graph traversal.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

__all__ = ["Outline", "build_outline"]

_NO_PARENT: Final = ""
"""Parent of a root in :attr:`Outline.first_parent` (never a store path)."""


@dataclass(frozen=True, slots=True)
class Outline:
    """Pre-order positions and first-occurrence parents of every reachable node."""

    roots: tuple[str, ...]
    """The roots, in the order given."""
    order: tuple[str, ...]
    """Every reachable node once, in depth-first pre-order from the roots."""
    index: MappingProxyType[str, int]
    """Position of each node in :attr:`order`."""
    first_parent: MappingProxyType[str, str]
    """The parent under which each node first occurs; ``""`` for a root."""

    def __len__(self) -> int:
        return len(self.order)

    def __contains__(self, path: object) -> bool:
        return path in self.index

    def is_first_occurrence(self, path: str, parent: str | None) -> bool:
        """True if ``path`` shown under ``parent`` (``None``: top level) is its first occurrence."""
        expected = self.first_parent.get(path)
        if expected is None:
            return False
        return expected == (parent if parent is not None else _NO_PARENT)

    def path_from_root(self, path: str) -> tuple[str, ...]:
        """The chain of first occurrences from a root down to ``path`` (both included).

        Returns ``()`` when ``path`` is not reachable from the roots.
        """
        if path not in self.first_parent:
            return ()
        chain = [path]
        parent = self.first_parent[path]
        while parent != _NO_PARENT:
            chain.append(parent)
            parent = self.first_parent[parent]
        chain.reverse()
        return tuple(chain)

    def positions(self, paths: Iterable[str]) -> tuple[int, ...]:
        """Sorted outline positions of those ``paths`` that are reachable."""
        index = self.index
        return tuple(sorted(index[p] for p in paths if p in index))

    def neighbour(
        self, current: str | None, positions: Sequence[int], *, backwards: bool = False
    ) -> str | None:
        """The node of ``positions`` after (or before) ``current`` in outline order.

        ``positions`` must be sorted (see :meth:`positions`). The search wraps
        around; with ``current`` unknown or ``None`` it starts at the top (or
        bottom). Returns ``None`` when ``positions`` is empty.
        """
        if not positions:
            return None
        here = self.index.get(current, -1) if current is not None else -1
        if backwards:
            if here < 0:
                return self.order[positions[-1]]
            i = bisect_left(positions, here) - 1
            return self.order[positions[i]]  # i == -1 wraps to the last one
        i = bisect_right(positions, here)
        return self.order[positions[i % len(positions)]]


def build_outline(roots: Sequence[str], children: Callable[[str], Iterable[str]]) -> Outline:
    """Walk the graph once from ``roots``, depth first, pre-order.

    Args:
        roots: the top-level nodes, in display order (duplicates are ignored).
        children: the children of a node, in display order (for a
            derivation graph: its input ``.drv`` paths as the file lists them).
            Nodes with no children (missing or unreadable ones) return ``()``.

    Returns:
        The :class:`Outline`; cycles (which a valid store cannot have) are cut
        where they are met.
    """
    order: list[str] = []
    parent: dict[str, str] = {}
    index: dict[str, int] = {}
    for root in roots:
        if root in index:
            continue
        parent[root] = _NO_PARENT
        index[root] = len(order)
        order.append(root)
        # An explicit stack of iterators keeps deep chains (bootstrap
        # sequences are hundreds of levels deep) away from the recursion limit.
        stack = [(root, iter(children(root)))]
        while stack:
            node, pending = stack[-1]
            for child in pending:
                if child not in index:
                    parent[child] = node
                    index[child] = len(order)
                    order.append(child)
                    stack.append((child, iter(children(child))))
                    break
            else:
                stack.pop()
    return Outline(
        roots=tuple(dict.fromkeys(roots)),
        order=tuple(order),
        index=MappingProxyType(index),
        first_parent=MappingProxyType(parent),
    )
