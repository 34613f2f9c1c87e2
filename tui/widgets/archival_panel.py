"""The archival part of the Derivation tab: each question asked, its answer and its time."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from revive.core.archive.answer import ProbeAnswer, Status
from revive.core.archive.audit import FodArchival
from revive.core.archive.report import saved_label
from revive.tui.widgets.archival_badge import SAVED_STYLES, archival_badge

__all__ = ["ArchivalPanel"]

_STATUS_STYLES = {Status.AVAILABLE: "green", Status.MISSING: "red", Status.UNKNOWN: "yellow"}


class ArchivalPanel(Static):
    """Archival status of the node shown: one line per question (``a`` checks it)."""

    DEFAULT_CSS = """
    ArchivalPanel {
        height: auto;
        max-height: 45%;
        overflow-y: auto;
        padding: 0 1;
        border-top: hkey $primary-muted;
    }
    ArchivalPanel.-hidden { display: none; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__("", id=id, classes=classes)
        self.result: FodArchival | None = None
        """The result shown (``None``: none)."""

    @property
    def lines(self) -> tuple[ProbeAnswer, ...]:
        """The answers listed, one line each."""
        return self.result.answers if self.result is not None else ()

    def show(self, result: FodArchival | None, *, fod: bool, checking: bool = False) -> None:
        """Show ``result`` (or how to get one) for a download; hide for other nodes."""
        self.result = result if fod else None
        self.set_class(not fod, "-hidden")
        if not fod:
            return
        if result is None:
            hint = "checking the archives…" if checking else "not checked (a: check, A: all)"
            self.update(Text.assemble(("Archival status: ", "bold"), (hint, "dim")))
            return
        label = saved_label(result)
        heading = Text.assemble(
            ("Archival status ", "bold"),
            archival_badge(result),
            "  saved by ",
            (label, SAVED_STYLES[label]),
        )
        # One entry per question: the answer on one line, then what was asked
        # and what was found, indented (a table's columns fold into single
        # characters in a pane this narrow).
        body = Text()
        for answer in result.answers:
            detail = answer.where or answer.detail
            if answer.error is not None:
                detail = f"{answer.error}: {answer.detail}"
            elif detail and detail in answer.question:
                detail = answer.detail  # the URL asked is where it is: say what was found
            time = "cached" if answer.cached else f"{answer.seconds * 1000:.0f} ms"
            body.append("\n")
            body.append(f"{answer.fallback.badge} {answer.fallback.long_name}", "bold")
            body.append("  ")
            body.append(str(answer.status), _STATUS_STYLES[answer.status])
            body.append(f"  {time}", "dim")
            body.append(f"\n  {answer.question}", "dim")
            if detail:
                body.append(f"\n  → {detail}")
        self.update(Text.assemble(heading, body))
