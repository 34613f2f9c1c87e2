"""Every fixed-output node of the closure as one flat, sortable list."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.style import Style
from rich.text import Text
from textual import on
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

from revive.core.node_status import FetchState
from revive.tui.messages import NodeFocused, RevealNode
from revive.tui.widgets.drv_tree import STATUS_ICONS
from revive.tui.widgets.node_actions import NODE_ACTION_BINDINGS, NodeActions

if TYPE_CHECKING:
    from revive.tui.session import Session

__all__ = ["FodList", "SORT_KEYS"]

SORT_KEYS: tuple[str, ...] = ("name", "method", "status")
"""What the list can be sorted by, in the order ``s`` cycles through them."""

_COLUMN_TITLES = {"status": "", "method": "method", "name": "name", "state": "state"}
_SORT_COLUMN = {"name": "name", "method": "method", "status": "state"}

_STATUS_ORDER = {
    FetchState.FAILED: 0,
    FetchState.FETCHING: 1,
    FetchState.NOT_FETCHED: 2,
    FetchState.REWRITTEN: 3,
    FetchState.VALID: 4,
}


class FodList(NodeActions, DataTable[Text]):
    """The source downloads of the closure: status, fetch method, era, name.

    ``enter`` shows the node in the tree; the node actions (rewrite, fetch,
    cancel) work here as in the tree.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("s", "cycle_sort", "Sort", tooltip="Sort by name, method or status"),
        Binding("n", "cursor_down", "Next FOD", show=False),
        Binding("N", "cursor_up", "Prev FOD", show=False),
        Binding("e", "next_failing", "Next failing", show=False),
        Binding("E", "previous_failing", "Prev failing", show=False),
        *NODE_ACTION_BINDINGS,
    ]
    """
    | Key(s) | Description |
    | :- | :- |
    | up, k / down, j | Move the cursor (also n / N). |
    | enter | Show this node in the tree. |
    | s | Sort by name, then method, then status. |
    | e / E | Next / previous failing node. |
    | r / b / x / y | Rewrite / fetch / cancel / copy the store path. |
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "fod-list--pending",
        "fod-list--valid",
        "fod-list--rewritten",
        "fod-list--fetching",
        "fod-list--failed",
        "fod-list--builtin",
        "fod-list--script",
    }
    """
    | Class | Description |
    | :- | :- |
    | `fod-list--pending` … `fod-list--failed` | The status column. |
    | `fod-list--builtin` / `fod-list--script` | The method badge, by era. |
    """

    DEFAULT_CSS = """
    FodList {
        height: 1fr;
        & > .fod-list--pending { color: $text-muted; }
        & > .fod-list--valid { color: $text-success; }
        & > .fod-list--rewritten { color: $text-accent; }
        & > .fod-list--fetching { color: $text-warning; text-style: bold; }
        & > .fod-list--failed { color: $text-error; text-style: bold; }
        & > .fod-list--builtin { color: $text-success; }
        & > .fod-list--script { color: $text-warning; }
    }
    """

    sort_key: reactive[str] = reactive("name", init=False)
    """The column the rows are sorted by: ``name``, ``method`` or ``status``."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.session: Session | None = None
        """The model; set by the screen."""

    def on_mount(self) -> None:
        self.add_column("", key="status", width=1)
        self.add_column("method", key="method", width=14)
        self.add_column("name", key="name")
        self.add_column("state", key="state")

    # --- public ----------------------------------------------------------------------

    def attach(self, session: Session) -> None:
        """Fill the list with ``session``'s fixed-output nodes."""
        self.session = session
        self._fill()

    def current_path(self) -> str | None:
        """The node under the cursor."""
        if self.row_count == 0:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except Exception:  # noqa: BLE001 - no row under the cursor
            return None
        return key.value

    @property
    def paths(self) -> list[str]:
        """The rows' paths, in display order."""
        return [row.key.value for row in self.ordered_rows if row.key.value is not None]

    def select_path(self, path: str) -> None:
        """Move the cursor to ``path``'s row (if listed)."""
        try:
            self.move_cursor(row=self.get_row_index(path))
        except RowDoesNotExist:
            pass

    def refresh_paths(self, paths: tuple[str, ...]) -> None:
        """Update the status cells of ``paths``."""
        for path in paths:
            try:
                self.update_cell(path, "status", self._icon(path))
                self.update_cell(path, "state", self._state(path))
            except (RowDoesNotExist, KeyError):
                continue
        self.refresh_actions()

    # --- rows ------------------------------------------------------------------------

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(name, partial=True)

    def _icon(self, path: str) -> Text:
        assert self.session is not None
        state = self.session.node_status(path).state
        return Text(STATUS_ICONS[state], self._style(_state_class(state)))

    def _state(self, path: str) -> Text:
        assert self.session is not None
        status = self.session.node_status(path)
        words = str(status.state)
        if status.failure:
            words += f": {status.failure}"
        elif status.rewritten_drv and status.state is not FetchState.REWRITTEN:
            words += " (rewritten)"
        return Text(words, self._style(_state_class(status.state)))

    def _fill(self) -> None:
        session = self.session
        if session is None:
            return
        current = self.current_path()
        self.clear()
        for path in self._sorted(session.fods):
            kind = session.kind(path)
            badge = Text(
                kind.badge,
                self._style("fod-list--builtin" if kind.era_builtin else "fod-list--script"),
            )
            self.add_row(self._icon(path), badge, Text(kind.name), self._state(path), key=path)
        for column_key, column in self.columns.items():
            title = _COLUMN_TITLES[str(column_key.value)]
            if _SORT_COLUMN[self.sort_key] == column_key.value:
                title += " ▲"
            column.label = Text(title)
        if current is not None:
            self.select_path(current)
        self.refresh(layout=True)

    def _sorted(self, paths: tuple[str, ...]) -> list[str]:
        session = self.session
        assert session is not None
        if self.sort_key == "method":
            return sorted(
                paths, key=lambda p: (session.kind(p).badge, session.kind(p).name.lower(), p)
            )
        if self.sort_key == "status":
            return sorted(
                paths,
                key=lambda p: (
                    _STATUS_ORDER[session.node_status(p).state],
                    session.kind(p).name,
                    p,
                ),
            )
        return sorted(paths, key=lambda p: (session.kind(p).name.lower(), p))

    # --- handlers and actions --------------------------------------------------------

    def watch_sort_key(self) -> None:
        self._fill()

    @on(DataTable.RowHighlighted)
    def _announce(self, event: DataTable.RowHighlighted) -> None:
        # The list is filled while hidden behind the tree: only a list the
        # user is looking at may change the detail pane.
        if event.row_key.value is not None and self.has_focus:
            self.post_message(NodeFocused(event.row_key.value))
        self.refresh_actions()

    @on(DataTable.RowSelected)
    def _reveal(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(RevealNode(event.row_key.value))

    @on(DataTable.HeaderSelected)
    def _sort_by_header(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        column = event.column_key.value
        key = "status" if column in ("status", "state") else column
        if key in SORT_KEYS:
            self.sort_key = key

    def action_cycle_sort(self) -> None:
        """Sort by the next key: name → method → status."""
        self.sort_key = SORT_KEYS[(SORT_KEYS.index(self.sort_key) + 1) % len(SORT_KEYS)]

    def action_next_failing(self) -> None:
        """Move to the next failing row."""
        self._step_failing(backwards=False)

    def action_previous_failing(self) -> None:
        """Move to the previous failing row."""
        self._step_failing(backwards=True)

    def _step_failing(self, *, backwards: bool) -> None:
        session = self.session
        if session is None:
            return
        paths = self.paths
        if not paths:
            return
        start = self.cursor_row
        count = len(paths)
        for offset in range(1, count + 1):
            row = (start - offset if backwards else start + offset) % count
            if session.is_failing(paths[row]):
                self.move_cursor(row=row)
                return
        self.notify("No failing download (yet).", severity="warning", timeout=3)


def _state_class(state: FetchState) -> str:
    return {
        FetchState.NOT_FETCHED: "fod-list--pending",
        FetchState.VALID: "fod-list--valid",
        FetchState.REWRITTEN: "fod-list--rewritten",
        FetchState.FETCHING: "fod-list--fetching",
        FetchState.FAILED: "fod-list--failed",
    }[state]
