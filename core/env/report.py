"""The report of ``guix-revive env``: counts, JSON lines and a Markdown file to share.

The terminal table is drawn by the command line; what is here is plain data
and text: :func:`state_counts`, :func:`json_lines` (one JSON object per
source, for programs) and :func:`markdown` (a report someone else can read
without guix-revive: what the environment was, every source and its state,
and what was tried).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from revive.core.env.act import RootBuild
from revive.core.env.plan import SourceRecord, SourceState

__all__ = ["EnvSummary", "state_counts", "json_lines", "markdown", "all_present"]


@dataclass(frozen=True, slots=True)
class EnvSummary:
    """What the report is about, besides the sources."""

    title: str
    """What was revived (the command, or the roots file)."""
    roots: tuple[str, ...]
    """The root ``.drv`` paths."""
    backend: str
    """The store backend (``embedded``, ``guix``)."""
    problems: tuple[str, ...] = ()
    """Derivations of the closure that could not be read."""
    builds: tuple[RootBuild, ...] = ()
    """Root builds (``--build``)."""


def state_counts(records: Sequence[SourceRecord]) -> dict[SourceState, int]:
    """How many sources are in each state (every state, zeros included)."""
    counts = Counter(r.state for r in records)
    return {state: counts.get(state, 0) for state in SourceState}


def all_present(records: Sequence[SourceRecord], summary: EnvSummary) -> bool:
    """True when every source is present, the closure was read whole and the builds passed."""
    return (
        all(r.done for r in records) and not summary.problems and all(b.ok for b in summary.builds)
    )


def json_lines(records: Sequence[SourceRecord]) -> str:
    """One JSON object per source, one per line (``drv``, ``output``, ``method``, ``era``,
    ``state``, ``reason``, ``tried``, and ``rewritten`` when planned so)."""
    return "".join(json.dumps(r.as_json(), ensure_ascii=False) + "\n" for r in records)


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ") or " "


def markdown(records: Sequence[SourceRecord], summary: EnvSummary) -> str:
    """The Markdown report."""
    counts = state_counts(records)
    ok = all_present(records, summary)
    lines = [
        f"# guix-revive env: {summary.title}",
        "",
        f"**{'Every source is present.' if ok else 'Some sources are not present.'}** "
        f"{len(records)} sources, {summary.backend} store: "
        + ", ".join(f"{n} {state}" for state, n in counts.items() if n),
        "",
        "## Roots",
        "",
        *(f"- `{root}`" for root in summary.roots),
        "",
    ]
    if summary.builds:
        lines += ["## Builds", ""]
        lines += [
            f"- `{b.drv}`: {'built' if b.ok else 'FAILED: ' + b.detail}" for b in summary.builds
        ]
        lines.append("")
    if summary.problems:
        lines += ["## Derivations that could not be read", ""]
        lines += [f"- {_cell(p)}" for p in summary.problems]
        lines.append("")
    lines += [
        "## Sources",
        "",
        "| source | method | era | state | reason |",
        "|---|---|---|---|---|",
    ]
    order = {state: i for i, state in enumerate(SourceState)}
    ranked = sorted(records, key=lambda r: (r.done, order[r.state], r.label))
    for r in ranked:
        lines.append(f"| `{r.label}` | {r.method} | {r.era} | {r.state} | {_cell(r.reason)} |")
    tried = [r for r in ranked if r.tried]
    if tried:
        lines += ["", "## What was tried", ""]
        for r in tried:
            lines.append(f"- `{r.label}` (`{r.drv}`)")
            lines += [f"  - {_cell(t)}" for t in r.tried]
    return "\n".join(lines) + "\n"
