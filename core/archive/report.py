"""Roll-ups of an audit: per FOD, by method, by era, by the fallback that saves it.

What saves a source is its best available fallback
(:attr:`FodArchival.saved_by`); a source nothing has is "saved by
nothing" when every answer was missing, and "unknown" when some answer
could not be had (a timeout, a rate limit…). :func:`report_order` lists
the sources at risk first; :func:`rollup` counts; :func:`audit_json` is
the whole report as JSON-ready data (what ``guix-revive audit --json``
prints).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from revive.core.archive.answer import FALLBACK_ORDER, Fallback, Status
from revive.core.archive.audit import FodArchival

__all__ = [
    "SAVED_BY_NOTHING",
    "SAVED_BY_UNKNOWN",
    "saved_label",
    "report_order",
    "Rollup",
    "rollup",
    "audit_json",
    "SAVED_LABELS",
]

SAVED_BY_NOTHING: Final = "nothing"
"""Label of sources no fallback has (every answer missing)."""
SAVED_BY_UNKNOWN: Final = "unknown"
"""Label of sources nothing is known to have, some answers unknown."""
SAVED_LABELS: Final = (SAVED_BY_NOTHING, SAVED_BY_UNKNOWN, *(str(f) for f in FALLBACK_ORDER))
"""Every "saved by" label, worst first."""


def saved_label(result: FodArchival) -> str:
    """``nothing``, ``unknown``, or the value of the fallback that saves it."""
    best = result.saved_by
    if best is not None:
        return str(best)
    return SAVED_BY_UNKNOWN if result.uncertain else SAVED_BY_NOTHING


def report_order(results: Sequence[FodArchival]) -> list[FodArchival]:
    """Sources saved by nothing first, then unknown, then by worst saving fallback; then name."""
    rank = {label: i for i, label in enumerate(SAVED_LABELS)}
    # Among the saved, the last resort (nar) is the most at risk: list it first.
    saved_rank = {str(f): len(SAVED_LABELS) - i for i, f in enumerate(FALLBACK_ORDER)}
    rank.update(saved_rank)
    return sorted(results, key=lambda r: (rank[saved_label(r)], r.target.name, r.target.drv_path))


@dataclass(frozen=True, slots=True)
class Rollup:
    """Counts over an audit."""

    total: int
    """FODs audited."""
    saved_by: dict[str, int]
    """Label (see :data:`SAVED_LABELS`) → FODs."""
    by_method: dict[str, dict[str, int]]
    """Method label → saved-by label → FODs."""
    by_era: dict[str, dict[str, int]]
    """Era label → saved-by label → FODs."""
    coverage: dict[str, dict[str, int]]
    """Fallback → status (available, missing, unknown) → FODs it applies to."""


def rollup(results: Sequence[FodArchival]) -> Rollup:
    """Count ``results`` every way the report shows."""
    saved: Counter[str] = Counter()
    by_method: dict[str, Counter[str]] = {}
    by_era: dict[str, Counter[str]] = {}
    coverage: dict[str, Counter[str]] = {str(f): Counter() for f in FALLBACK_ORDER}
    for result in results:
        label = saved_label(result)
        saved[label] += 1
        by_method.setdefault(result.target.method, Counter())[label] += 1
        by_era.setdefault(result.target.era or "?", Counter())[label] += 1
        for verdict in result.verdicts:
            coverage[str(verdict.fallback)][str(verdict.status)] += 1
    return Rollup(
        total=len(results),
        saved_by=_ordered(saved),
        by_method={k: _ordered(v) for k, v in sorted(by_method.items())},
        by_era={k: _ordered(v) for k, v in sorted(by_era.items())},
        coverage={k: {str(s): v[str(s)] for s in Status} for k, v in coverage.items()},
    )


def _ordered(counts: Counter[str]) -> dict[str, int]:
    return {label: counts[label] for label in SAVED_LABELS if counts[label]}


def audit_json(results: Sequence[FodArchival]) -> dict[str, object]:
    """The whole report as JSON-ready data: the roll-up, then every FOD (at risk first)."""
    summary = rollup(results)
    fods = []
    for result in report_order(results):
        target = result.target
        fods.append(
            {
                "drv": target.drv_path,
                "name": target.name,
                "method": target.method,
                "era": target.era,
                "output": target.expected.output_path,
                "saved_by": saved_label(result),
                "available": [str(f) for f in result.available],
                "verdicts": {str(v.fallback): v.to_dict() for v in result.verdicts},
                "answers": [a.to_dict() for a in result.answers],
                "error": target.error or None,
            }
        )
    return {
        "total": summary.total,
        "saved_by": summary.saved_by,
        "by_method": summary.by_method,
        "by_era": summary.by_era,
        "coverage": summary.coverage,
        "fallbacks": {str(f): {"badge": f.badge, "name": f.long_name} for f in Fallback},
        "fods": fods,
    }
