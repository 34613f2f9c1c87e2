"""The live build log of one node: attempts, output lines, progress, result."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, ProgressBar, RichLog

from revive.tui.session import LOG_LINES_PER_NODE
from revive.tui.widgets.node_actions import NOT_A_DOWNLOAD

__all__ = ["BuildLog", "log_line_style"]


def log_line_style(line: str) -> str:
    """The component class of a stored log line, from its leading marker."""
    if line.startswith("✘"):
        return "build-log--failed"
    if line.startswith("✔"):
        return "build-log--finished"
    if line.startswith("→"):
        return "build-log--attempt"
    if line.startswith("▶"):
        return "build-log--started"
    return "build-log--line"


_BUILD_MARKS = ("▶", "✔", "✘")
"""Lines only a build writes: a log without them holds notes (``needs svn…``), no build."""


class BuildLog(Vertical):
    """A node's build log (bounded: the oldest lines go first) and a progress bar.

    The log itself lives in the session (so it survives moving the cursor
    away and back); this widget shows the log of the node it is given and
    appends lines while that node is the one shown.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "build-log--started",
        "build-log--attempt",
        "build-log--line",
        "build-log--finished",
        "build-log--failed",
    }
    """
    | Class | Description |
    | :- | :- |
    | `build-log--started` | The first line of a build. |
    | `build-log--attempt` | A source being tried (URL, mirror, repository). |
    | `build-log--line` | Output of the fetch tool. |
    | `build-log--finished` | The success line. |
    | `build-log--failed` | The failure line, with its reason. |
    """

    DEFAULT_CSS = """
    BuildLog {
        & > .build-log--started { color: $text-primary; text-style: bold; }
        & > .build-log--attempt { color: $text-accent; }
        & > .build-log--line { color: $text-muted; }
        & > .build-log--finished { color: $text-success; text-style: bold; }
        & > .build-log--failed { color: $text-error; text-style: bold; }
        #build-log-head { height: auto; width: 1fr; }
        #build-log-head Label { width: 1fr; color: $text-muted; }
        #build-log-head ProgressBar { width: auto; display: none; }
        &.-running #build-log-head ProgressBar { display: block; }
        RichLog { height: 1fr; background: $surface; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.path: str | None = None
        """The node whose log is shown."""
        self._count = 0
        self._running = False
        self._fetchable = True
        self._blocked: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="build-log-head"):
            yield Label("No build yet. Press b to fetch this node.", id="build-log-title")
            yield ProgressBar(total=1, show_eta=False, id="build-log-progress")
        # min_width=1: wrap to the pane (the default 78 columns scrolls sideways).
        yield RichLog(
            max_lines=LOG_LINES_PER_NODE, wrap=True, min_width=1, markup=False, id="build-log-lines"
        )

    @property
    def lines_widget(self) -> RichLog:
        """The log lines."""
        return self.query_one("#build-log-lines", RichLog)

    def show(
        self,
        path: str | None,
        lines: Iterable[str],
        running: bool,
        fetchable: bool = True,
        blocked: str | None = None,
    ) -> None:
        """Show ``path``'s log so far (``fetchable``: a download, which ``b`` fetches;
        ``blocked``: why it cannot be fetched here, e.g. ``needs svn (not installed)``)."""
        self.path = path
        self._fetchable = fetchable
        self._blocked = blocked
        log = self.lines_widget
        log.clear()
        count = 0
        for line in lines:
            self._write(line)
            count += line.startswith(_BUILD_MARKS)
        self._count = count
        self.set_running(running)

    def append(self, path: str, line: str) -> None:
        """Add ``line`` if ``path`` is the node shown."""
        if path == self.path:
            self._write(line)
            self._count += line.startswith(_BUILD_MARKS)

    def set_running(self, running: bool) -> None:
        """Show or hide the progress bar, and say whether a build runs."""
        self._running = running
        self.set_class(running, "-running")
        if not running:
            self.query_one(ProgressBar).update(total=1, progress=0)
        self._update_title()

    def _update_title(self) -> None:
        title = self.query_one("#build-log-title", Label)
        if self.path is None:
            title.update("")
        elif self._running:
            title.update("Fetching… (x: cancel)")
        elif self._count == 0 and not self._fetchable:
            title.update(NOT_A_DOWNLOAD)
        elif self._count == 0 and self._blocked:
            # Not "press b": b would only say the same.
            title.update(f"Cannot be fetched here: {self._blocked}.")
        elif self._count == 0:
            title.update("No build yet. Press b to fetch this node.")
        else:
            title.update("Last build:")

    def set_progress(self, path: str, done: int, total: int | None) -> None:
        """Bytes received so far by ``path``'s current attempt."""
        if path != self.path:
            return
        bar = self.query_one(ProgressBar)
        if total:
            bar.update(total=total, progress=min(done, total))

    def _write(self, line: str) -> None:
        style = self.get_component_rich_style(log_line_style(line), partial=True)
        # fold: a long URL wraps onto the next line instead of being cut off.
        self.lines_widget.write(Text(line, style=style, overflow="fold"))
