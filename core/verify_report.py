"""What ``verify`` finds: one :class:`Mismatch` per problem, a :class:`VerifyReport` in all.

Apart from :mod:`revive.core.verify` so that a report kept in the cache can be
read back and printed without importing the machinery that computes one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Mismatch", "VerifyReport"]


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

    def to_plain(self) -> tuple[object, ...]:
        """The report as plain tuples (for the cache; see :meth:`from_plain`)."""
        return (
            self.derivations,
            self.fixed_output,
            tuple((m.path, m.kind, m.found, m.expected, m.output) for m in self.mismatches),
            self.missing,
            self.unchecked,
        )

    @classmethod
    def from_plain(cls, plain: Any) -> VerifyReport | None:
        """The report :meth:`to_plain` gave, or ``None`` if ``plain`` is not one."""
        try:
            derivations, fixed, mismatches, missing, unchecked = plain
            report = cls(
                int(derivations),
                int(fixed),
                tuple(Mismatch(*m) for m in mismatches),
                tuple(str(p) for p in missing),
                tuple((str(p), str(w)) for p, w in unchecked),
            )
        except (TypeError, ValueError):
            return None
        return report

    def summary(self) -> str:
        """``N derivations, F fixed-output, M mismatches, K missing``."""
        return (
            f"{self.derivations} derivations, {self.fixed_output} fixed-output, "
            f"{len(self.mismatches)} mismatches, {len(self.missing)} missing"
        )
