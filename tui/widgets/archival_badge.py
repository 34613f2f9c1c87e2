"""The archival badge of a download: ``↑≡SDN``, one mark per fallback, coloured by the best.

Each of the five places (upstream, content-addressed mirror, Software
Heritage, Disarchive, substitute nar) gets one cell: its letter when it has
the source, ``·`` when it does not, ``?`` when it could not be asked, a
space when it does not apply to this fetch method. The best available
fallback — the one that saves the source — is drawn in its colour, in
reverse; a source nothing has gets a red ``✗``. The tree, the list of
downloads and ``guix-revive audit`` draw the same marks.
"""

from __future__ import annotations

from typing import Final

from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from revive.core.archive.answer import FALLBACK_ORDER, Status
from revive.core.archive.audit import FodArchival
from revive.core.archive.report import saved_label

__all__ = ["SAVED_STYLES", "BADGE_WIDTH", "archival_badge", "badge_marks", "badge_segments"]

SAVED_STYLES: Final[dict[str, str]] = {
    "nothing": "bold red",
    "unknown": "yellow",
    "upstream": "green",
    "ca-mirror": "cyan",
    "swh": "blue",
    "disarchive": "magenta",
    "nar": "bright_red",
}
"""Rich style of each "saved by" label (and of each fallback's letter)."""

BADGE_WIDTH: Final = len(FALLBACK_ORDER) + 1
"""Cells taken by a badge (marks and the ✗/space before them)."""


def badge_marks(result: FodArchival) -> str:
    """The five marks without colour (``↑·SD·``)."""
    marks = []
    for fallback in FALLBACK_ORDER:
        verdict = result.verdict(fallback)
        if verdict is None:
            marks.append(" ")
        elif verdict.status is Status.AVAILABLE:
            marks.append(fallback.badge)
        elif verdict.status is Status.MISSING:
            marks.append("·")
        else:
            marks.append("?")
    return "".join(marks)


def archival_badge(result: FodArchival | None) -> Text:
    """The coloured badge (empty when the FOD was not checked)."""
    if result is None:
        return Text()
    label = saved_label(result)
    best = result.saved_by
    text = Text("✗" if best is None else " ", SAVED_STYLES[label])
    for fallback, mark in zip(FALLBACK_ORDER, badge_marks(result), strict=True):
        if fallback is best:
            text.append(mark, f"reverse {SAVED_STYLES[label]}")
        elif mark == "?":
            text.append(mark, "yellow")
        elif mark in "· ":
            text.append(mark, "dim red" if best is None else "dim")
        else:
            text.append(mark, SAVED_STYLES[str(fallback)])
    return text


def badge_segments(result: FodArchival | None, base: Style) -> list[Segment]:
    """The badge as segments on ``base`` (for line-drawing widgets), :data:`BADGE_WIDTH` cells."""
    if result is None:
        return [Segment(" " * BADGE_WIDTH, base)]
    text = archival_badge(result)
    return [
        Segment(text.plain[span.start : span.end], base + Style.parse(str(span.style)))
        for span in text.spans
    ]
