"""A batch over every download (rewrite all, fetch all): overall progress, then a summary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label, ProgressBar

__all__ = ["BatchScreen"]


class BatchScreen(ModalScreen[None]):
    """Progress of a batch, and a table of what happened to each node.

    The batch itself runs in the graph screen's worker, which calls
    :meth:`advance` for each node and :meth:`finish` at the end.
    """

    CSS_PATH = "batch.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "stop_or_close", "Stop / close"),
        Binding("q", "close", "Close", show=False),
    ]
    """
    | Key(s) | Description |
    | :- | :- |
    | escape | Stop the batch while it runs; close the summary when done. |
    | q | Close the summary (when done). |
    """

    running: reactive[bool] = reactive(True)
    """The batch has not finished yet."""

    def __init__(self, title: str, total: int, cancel: Callable[[], None] | None = None) -> None:
        super().__init__()
        self.title_text = title
        """What the batch does."""
        self.total = total
        """How many nodes it covers."""
        self.done = 0
        """How many are done."""
        self.results: Counter[str] = Counter()
        """How many nodes ended with each kind of result (``fetched``, ``failed``…)."""
        self._cancel = cancel

    def compose(self) -> ComposeResult:
        with Vertical(id="batch-dialog"):
            yield Label(self.title_text, id="batch-title")
            yield ProgressBar(total=max(1, self.total), show_eta=False, id="batch-progress")
            yield Label(self._status_line(), id="batch-status")
            table: DataTable[Text] = DataTable(
                id="batch-table", cursor_type="row", zebra_stripes=True
            )
            yield table
            yield Label("escape: stop", id="batch-help")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("name", key="name")
        table.add_column("method", key="method", width=14)
        table.add_column("result", key="result")
        if self.total == 0:
            self.finish()

    def advance(self, name: str, badge: str, result: str) -> None:
        """One more node is done, with ``result`` (``fetched``, ``failed: …``)."""
        self.done += 1
        self.results[result.split(":", 1)[0].split(" →", 1)[0]] += 1
        self.query_one(ProgressBar).update(progress=self.done)
        style = "red" if result.startswith("failed") else "green"
        self.query_one(DataTable).add_row(Text(name), Text(badge), Text(result, style=style))
        self.query_one("#batch-status", Label).update(Text(self._status_line()))

    def finish(self) -> None:
        """The batch ended (completed or stopped)."""
        self.running = False
        self.query_one("#batch-title", Label).update(f"{self.title_text}: done")
        self.query_one("#batch-status", Label).update(Text(self._status_line()))
        self.query_one("#batch-help", Label).update("escape or q: close")

    def _status_line(self) -> str:
        summary = ", ".join(f"{count} {what}" for what, count in sorted(self.results.items()))
        line = f"{self.done} of {self.total}"
        return f"{line}: {summary}" if summary else line

    def action_stop_or_close(self) -> None:
        """Stop the batch, or close the summary once it is done."""
        if self.running and self._cancel is not None:
            self._cancel()
        else:
            self.dismiss(None)

    def action_close(self) -> None:
        """Close the summary (only once the batch is done)."""
        if not self.running:
            self.dismiss(None)
