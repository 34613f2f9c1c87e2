"""Check that every derivation of a graph is stored where its content says.

For each loaded node: its own ``.drv`` path is recomputed from its content
and references (a text item, ``guix-derivations.md`` §1.8), every output path
from the derivation hash modulo fixed-output derivations (§1.9) or from the
expected hash of a fixed-output derivation (§1.7), and every output-named
environment variable must equal its output path (what the daemon checks when
it registers a ``.drv``, §2.8).

A node whose inputs are missing can still have its ``.drv`` path checked,
and its outputs too if it is fixed-output; a regular derivation below a
missing input cannot have its outputs checked, and is reported as unchecked,
not as a mismatch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from revive.core.derivation_hash import DerivationHasher, drv_path
from revive.core.errors import ReviveError
from revive.core.graph import DerivationGraph

__all__ = ["Mismatch", "VerifyReport", "verify_graph", "VerifyCancelled"]


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One thing stored somewhere else than its content says (or unreadable)."""

    path: str
    """The ``.drv`` store path of the derivation concerned."""
    kind: str
    """``drv-path``, ``output``, ``env`` or ``malformed``."""
    found: str
    """What the file says (for ``malformed``: the one-line error)."""
    expected: str = ""
    """What it should be (empty for ``malformed``)."""
    output: str = ""
    """The output (or environment variable) concerned, for ``output``/``env``."""

    def __str__(self) -> str:
        if self.kind == "drv-path":
            return f"{self.path}: .drv path should be {self.expected}"
        if self.kind == "output":
            return f"{self.path}: output {self.output} is {self.found}, should be {self.expected}"
        if self.kind == "env":
            return (
                f"{self.path}: environment variable {self.output} is {self.found or '(unset)'}, "
                f"should be {self.expected}"
            )
        return f"{self.path}: malformed: {self.found}"


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The outcome of :func:`verify_graph`."""

    derivations: int
    """Nodes of the graph (loaded, missing and malformed)."""
    fixed_output: int
    """Loaded fixed-output derivations."""
    mismatches: tuple[Mismatch, ...]
    """Everything wrong, in graph order (malformed files included)."""
    missing: tuple[str, ...]
    """Nodes whose ``.drv`` file is absent."""
    unchecked: tuple[tuple[str, str], ...]
    """``(path, why)`` of derivations whose outputs could not be recomputed."""

    @property
    def ok(self) -> bool:
        """True when nothing is wrong (missing files are not mismatches)."""
        return not self.mismatches

    def summary(self) -> str:
        """``N derivations, F fixed-output, M mismatches, K missing``."""
        return (
            f"{self.derivations} derivations, {self.fixed_output} fixed-output, "
            f"{len(self.mismatches)} mismatches, {len(self.missing)} missing"
        )


class VerifyCancelled(ReviveError):
    """Verification was cancelled through its ``cancel`` event."""


def verify_graph(
    graph: DerivationGraph,
    *,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
) -> VerifyReport:
    """Recompute every ``.drv`` path and output path of ``graph`` (one shared memo).

    Args:
        graph: the closure to check.
        progress: called with ``(done, total)`` every few hundred nodes.
        cancel: when set, stops with :class:`VerifyCancelled`.
    """
    store_dir = graph.store_dir
    hasher = DerivationHasher(graph.derivation)
    mismatches: list[Mismatch] = []
    missing: list[str] = []
    unchecked: list[tuple[str, str]] = []
    fixed = 0
    total = len(graph)
    for done, path in enumerate(graph):
        if done % 256 == 0:
            if cancel is not None and cancel.is_set():
                raise VerifyCancelled(f"verification cancelled after {done} derivations")
            if progress is not None:
                progress(done, total)
        drv = graph.get(path)
        if drv is None:
            node = graph.node(path)
            if node.malformed:
                mismatches.append(Mismatch(path, "malformed", node.error or ""))
            else:
                missing.append(path)
            continue
        if drv.is_fixed_output:
            fixed += 1
        computed = drv_path(drv, store_dir)
        if computed != path:
            mismatches.append(Mismatch(path, "drv-path", path, computed))
        try:
            expected = hasher.output_paths(drv, store_dir)
        except (ReviveError, ValueError) as err:
            unchecked.append((path, str(err)))
            continue
        for out in drv.outputs:
            want = expected.get(out.name, "")
            if out.path != want:
                mismatches.append(Mismatch(path, "output", out.path, want, out.name))
            # The daemon's own rule: each output's variable holds its path.
            value = drv.getenv(out.name)
            if value != out.path:
                mismatches.append(Mismatch(path, "env", value or "", out.path, out.name))
    if progress is not None:
        progress(total, total)
    return VerifyReport(total, fixed, tuple(mismatches), tuple(missing), tuple(unchecked))
