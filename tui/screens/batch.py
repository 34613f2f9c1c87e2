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
from textual.widgets.data_table import ColumnKey

from revive.tui.widgets.text_fit import shorten_middle

__all__ = ["BatchScreen"]

_METHOD_WIDTH = 17


class BatchScreen(ModalScreen[None]):
    """Progress of a batch, and a table of what happened to each node.

    The batch itself runs in the graph screen's worker, which calls
    :meth:`advance` for each node and :meth:`finish` at the end.
    """

    CSS_PATH = "batch.tcss"

    COMPONENT_CLASSES: ClassVar[set[str]] = {"batch--done", "batch--failed"}
    """
    | Class | Description |
    | :- | :- |
    | `batch--done` | The result of a node that succeeded. |
    | `batch--failed` | The result of a node that failed. |
    """

    DEFAULT_CSS = """
    BatchScreen {
        & > .batch--done { color: $text-success; }
        & > .batch--failed { color: $text-error; text-style: bold; }
    }
    """

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
        self.rows: list[tuple[str, str, str]] = []
        """``(name, method, result)`` of each node done, in the order they ended."""
        self._cancel = cancel
        self.stopped = False
        """The user stopped the batch before its end."""

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
        name_width, result_width = self._widths()
        table = self.query_one(DataTable)
        table.add_column("name", key="name", width=name_width)
        table.add_column("method", key="method", width=_METHOD_WIDTH)
        table.add_column("result", key="result", width=result_width)
        if self.total == 0:
            self.finish()

    def _widths(self) -> tuple[int, int]:
        """Cells for the name and the result: the result (a failure's reason) gets
        the most, and wraps; a long name gives way from its middle."""
        table = self.query_one(DataTable)
        # Before the first layout the table has no size: estimate it from the screen.
        inner = table.size.width or self.app.size.width * 9 // 10 - 4
        # Each column's padding (1 cell each side) and the vertical scroll bar.
        room = max(30, inner - 3 * 2 - 2 - _METHOD_WIDTH)
        name = max(12, min(32, room * 2 // 5))
        return name, room - name

    def advance(self, name: str, badge: str, result: str) -> None:
        """One more node is done, with ``result`` (``fetched``, ``failed: …``)."""
        self.done += 1
        self.results[result.split(":", 1)[0].split(" →", 1)[0]] += 1
        self.rows.append((name, badge, result))
        self.query_one(ProgressBar).update(progress=self.done)
        self._add_row(name, badge, result)
        self.query_one("#batch-status", Label).update(Text(self._status_line()))

    def _add_row(self, name: str, badge: str, result: str) -> None:
        failed = result.startswith("failed")
        style = self.get_component_rich_style(
            "batch--failed" if failed else "batch--done", partial=True
        )
        # The result is what matters: it wraps over as many lines as it needs,
        # and a long name gives way, from its middle.
        table = self.query_one(DataTable)
        room = table.columns[ColumnKey("name")].width
        table.add_row(
            Text(shorten_middle(name, room)),
            Text(badge),
            Text(result, style=style),
            height=None,
        )

    def finish(self) -> None:
        """The batch ended (completed or stopped)."""
        self.running = False
        if self.stopped or self.done < self.total:
            ending = f"stopped after {self.done} of {self.total}"
        else:
            ending = "done"
        self.query_one("#batch-title", Label).update(Text(f"{self.title_text}: {ending}"))
        self.query_one("#batch-status", Label).update(Text(self._status_line()))
        # Failures first, then by name: what needs attention is on top, and
        # the table no longer depends on which fetch happened to end first.
        table = self.query_one(DataTable)
        table.clear()
        for row in sorted(self.rows, key=lambda r: (not r[2].startswith("failed"), r[0].lower())):
            self._add_row(*row)
        failed = self.results.get("failed", 0)
        hint = "escape or q: close"
        if failed:
            hint += " · then e in the tree goes to the next failing node"
        self.query_one("#batch-help", Label).update(Text(hint))

    def _status_line(self) -> str:
        summary = ", ".join(f"{count} {what}" for what, count in sorted(self.results.items()))
        line = f"{self.done} of {self.total}"
        return f"{line}: {summary}" if summary else line

    def action_stop_or_close(self) -> None:
        """Stop the batch, or close the summary once it is done."""
        if self.running and self._cancel is not None:
            self.stopped = True
            self._cancel()
        else:
            self.dismiss(None)

    def action_close(self) -> None:
        """Close the summary (only once the batch is done)."""
        if not self.running:
            self.dismiss(None)
