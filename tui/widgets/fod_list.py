"""Every fixed-output node of the closure as one flat, sortable list."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.segment import Segment
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from revive.core.node_status import FetchState
from revive.tui.archival import board_for
from revive.tui.messages import NodeFocused, RevealNode
from revive.tui.widgets.archival_badge import BADGE_WIDTH, badge_segments
from revive.tui.widgets.component_styles import ComponentStyles
from revive.tui.widgets.drv_tree import STATUS_ICONS
from revive.tui.widgets.fod_badge import BADGE_PARTS, badge_css, method_part
from revive.tui.widgets.node_actions import NODE_ACTION_BINDINGS, NodeActions, nothing_failing
from revive.tui.widgets.text_fit import shorten_middle

if TYPE_CHECKING:
    from revive.tui.session import Session

__all__ = ["FodList", "SORT_KEYS"]

SORT_KEYS: tuple[str, ...] = ("name", "method", "status")
"""What the list can be sorted by, in the order ``s`` cycles through them."""

_STATUS_ORDER = {
    FetchState.FAILED: 0,
    FetchState.FETCHING: 1,
    FetchState.NOT_FETCHED: 2,
    FetchState.REWRITTEN: 3,
    FetchState.VALID: 4,
}

_STATE_CLASS = {
    FetchState.NOT_FETCHED: "fod-list--pending",
    FetchState.VALID: "fod-list--valid",
    FetchState.REWRITTEN: "fod-list--rewritten",
    FetchState.FETCHING: "fod-list--fetching",
    FetchState.FAILED: "fod-list--failed",
}

_METHOD_WIDTH = 17
_STATE_ROOM = 26
"""Columns the state keeps before names are shortened (two fifths of a narrow list)."""


class FodList(NodeActions, ComponentStyles, ScrollView, can_focus=True):
    """The source downloads of the closure: status, fetch method and era, name, state.

    A virtual list: only the lines on screen are drawn, so 10,000 downloads
    open as fast as 10. The first line is a header that stays in place.
    ``enter`` shows the node in the tree; the node actions (rewrite, fetch,
    cancel) work here as in the tree.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down,n", "cursor_down", "Down", show=False),
        Binding("k,up,N", "cursor_up", "Up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
        Binding("enter", "reveal", "Show in tree", tooltip="Show this node in the tree"),
        Binding("s", "cycle_sort", "Sort", tooltip="Sort by name, method or status"),
        Binding("e", "next_failing", "Next failing", show=False),
        Binding("E", "previous_failing", "Prev failing", show=False),
        *NODE_ACTION_BINDINGS,
    ]
    """
    | Key(s) | Description |
    | :- | :- |
    | up, k, N / down, j, n | Move the cursor. |
    | pageup / pagedown, home / end | Move by a page, to the first / last. |
    | enter | Show this node in the tree. |
    | s | Sort by name, then method, then status. |
    | e / E | Next / previous failing node. |
    | r / b / x / y | Rewrite / fetch / cancel / copy the store path. |
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "fod-list--header",
        "fod-list--cursor",
        "fod-list--pending",
        "fod-list--valid",
        "fod-list--rewritten",
        "fod-list--fetching",
        "fod-list--failed",
        *(f"fod-list--badge-{part}" for part in BADGE_PARTS),
    }
    """
    | Class | Description |
    | :- | :- |
    | `fod-list--header` | The column titles. |
    | `fod-list--cursor` | The line under the cursor. |
    | `fod-list--pending` … `fod-list--failed` | The status columns. |
    | `fod-list--badge-url` … `fod-list--badge-cvs`, `-other` | Fetch method chip, per method. |
    | `fod-list--badge-builtin` / `fod-list--badge-script` | The era after the method. |
    """

    DEFAULT_CSS = (
        """
    FodList {
        height: 1fr;
        background: $surface;
        & > .fod-list--header { text-style: bold; color: $text-primary; background: $boost; }
        & > .fod-list--cursor { background: $block-cursor-blurred-background; }
        &:focus > .fod-list--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
        }
        & > .fod-list--pending { color: $text-muted; }
        & > .fod-list--valid { color: $text-success; }
        & > .fod-list--rewritten { color: $text-accent; }
        & > .fod-list--fetching { color: $text-warning; text-style: bold; }
        & > .fod-list--failed { color: $text-error; text-style: bold; }
    }
    """
        + f"FodList {{\n{badge_css('fod-list')}\n}}\n"
    )

    sort_key: reactive[str] = reactive("name", init=False)
    """The column the rows are sorted by: ``name``, ``method`` or ``status``."""
    cursor: reactive[int] = reactive(0, init=False)
    """The row under the cursor."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.session: Session | None = None
        """The model; set by the screen."""
        self._rows: list[str] = []
        self._sorted = False
        self._name_width = 8

    # --- public ------------------------------------------------------------------------

    def attach(self, session: Session) -> None:
        """List ``session``'s fixed-output nodes (sorted when first shown)."""
        self.session = session
        self._rows = []
        self._sorted = False
        if self.display:
            self._sort()

    def on_show(self) -> None:
        # Sorting by name classifies every download (7,500 in a big closure):
        # done the first time the list is shown, not while the app starts.
        if not self._sorted:
            self._sort()

    @property
    def paths(self) -> list[str]:
        """The rows' paths, in display order."""
        if not self._sorted:
            self._sort()
        return list(self._rows)

    @property
    def row_count(self) -> int:
        """Number of rows."""
        return len(self._rows)

    def current_path(self) -> str | None:
        """The node under the cursor."""
        if 0 <= self.cursor < len(self._rows):
            return self._rows[self.cursor]
        return None

    def select_path(self, path: str) -> None:
        """Move the cursor to ``path``'s row (if listed)."""
        if not self._sorted:
            self._sort()
        try:
            self.cursor = self._rows.index(path)
        except ValueError:
            pass

    def refresh_paths(self, paths: tuple[str, ...]) -> None:
        """The status of ``paths`` changed: repaint (rows are drawn from the session)."""
        self.refresh()
        self.refresh_actions()

    # --- sorting -------------------------------------------------------------------------

    def _sort(self) -> None:
        session = self.session
        if session is None:
            return
        current = self.current_path()
        kind, status = session.kind, session.node_status
        by = self.sort_key

        def key(path: str) -> tuple[str | int, str, str]:
            name = kind(path).name.lower()
            if by == "method":
                return kind(path).badge, name, path
            if by == "status":
                return _STATUS_ORDER[status(path).state], name, path
            return name, path, ""

        self._rows = sorted(session.fods, key=key)
        self._sorted = True
        self._name_width = max((len(kind(p).name) for p in self._rows), default=8)
        self.virtual_size = Size(self.size.width, len(self._rows) + 1)
        if current is not None:
            self.select_path(current)
        self.refresh()

    def watch_sort_key(self) -> None:
        self._sort()

    # --- drawing -------------------------------------------------------------------------

    def _columns(self, width: int) -> tuple[int, int, int]:
        # Names get what they need (up to the longest), the state the rest,
        # but the state keeps room for its words ("not fetched (rewritten)"):
        # a long name is shortened from the middle first.
        rest = max(10, width - 2 - _METHOD_WIDTH - BADGE_WIDTH - 1)
        state_room = min(_STATE_ROOM, max(10, rest * 2 // 5))
        name = min(self._name_width + 1, max(8, rest - state_room))
        return _METHOD_WIDTH, name, max(4, rest - name) + BADGE_WIDTH + 1

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        method_w, name_w, state_w = self._columns(width)
        if y == 0:
            arrow = {key: " ▲" if key == self.sort_key else "" for key in SORT_KEYS}
            method, name, state = "method" + arrow["method"], "name" + arrow["name"], "state"
            state += arrow["status"]
            header = self._style("fod-list--header")
            archives = "↑≡SDN".rjust(BADGE_WIDTH).ljust(BADGE_WIDTH + 1)  # issue 11
            text = f"  {method:<{method_w}}{name:<{name_w}}{archives}{state}"
            return Strip([Segment(text, base + header)]).adjust_cell_length(width, base + header)
        index = self.scroll_offset.y + y - 1
        if index >= len(self._rows) or self.session is None:
            return Strip.blank(width, base)
        path = self._rows[index]
        session = self.session
        kind = session.kind(path)
        status = session.node_status(path)
        state = status.state
        words = str(state)
        if status.reason:
            words += f": {status.reason}"
        elif kind.rewritten and state is not FetchState.REWRITTEN:
            words += f" ({kind.rewritten})"
        elif kind.rewritten == "user override":
            words += " (user override)"
        line = base
        if index == self.cursor:
            line = base + self._style("fod-list--cursor")
        state_style = line + self._style(_STATE_CLASS[state])
        method = kind.method or kind.badge
        method_style = line + self._style(f"fod-list--badge-{method_part(kind.method)}")
        badge = [Segment(method, method_style)]
        if kind.era:
            badge.append(Segment("·", line))
            badge.append(Segment(kind.era, line + self._style(f"fod-list--badge-{kind.era}")))
        # The chip only as wide as the method; the column padded after the era.
        badge_width = sum(len(segment.text) for segment in badge)
        if badge_width >= method_w:
            badge = [Segment(_fit(kind.badge, method_w), method_style)]
        else:
            badge.append(Segment(" " * (method_w - badge_width), line))
        segments = [
            Segment(STATUS_ICONS[state] + " ", state_style),
            *badge,
            Segment(_fit_name(kind.name, name_w), line),
            # The archival column (issue 11): blank until checked.
            *badge_segments(board_for(session).result(path), line),
            Segment(" ", line),
            Segment(_fit(words, max(4, state_w - BADGE_WIDTH - 1)), state_style),
        ]
        return Strip(segments).adjust_cell_length(width, line)

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self._rows) + 1)

    # --- cursor ----------------------------------------------------------------------------

    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, len(self._rows) - 1))

    def watch_cursor(self, previous: int, value: int) -> None:
        self._scroll_to_cursor()
        self.refresh()
        path = self.current_path()
        # The list is kept up to date while hidden behind the tree: only a
        # list the user is looking at may change the detail pane.
        if path is not None and self.has_focus:
            self.post_message(NodeFocused(path))
        self.refresh_actions()

    def on_focus(self) -> None:
        path = self.current_path()
        if path is not None:
            self.post_message(NodeFocused(path))
        self.refresh_actions()

    def _scroll_to_cursor(self) -> None:
        height = max(1, self.scrollable_content_region.height - 1)
        top = self.scroll_offset.y
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False)

    def on_click(self, event: events.Click) -> None:
        if event.y >= 1:
            self.cursor = self.scroll_offset.y + event.y - 1

    def action_cursor_down(self) -> None:
        """Next row."""
        self.cursor += 1

    def action_cursor_up(self) -> None:
        """Previous row."""
        self.cursor -= 1

    def action_page_down(self) -> None:
        """One page down."""
        self.cursor += max(1, self.scrollable_content_region.height - 2)

    def action_page_up(self) -> None:
        """One page up."""
        self.cursor -= max(1, self.scrollable_content_region.height - 2)

    def action_first(self) -> None:
        """First row."""
        self.cursor = 0

    def action_last(self) -> None:
        """Last row."""
        self.cursor = len(self._rows) - 1

    def action_reveal(self) -> None:
        """Show the node under the cursor in the tree."""
        path = self.current_path()
        if path is not None:
            self.post_message(RevealNode(path))

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
        count = len(self._rows)
        if session is None or count == 0:
            return
        for offset in range(1, count + 1):
            row = (self.cursor - offset if backwards else self.cursor + offset) % count
            if session.is_failing(self._rows[row]):
                self.cursor = row
                return
        message = nothing_failing(session, self.current_path())
        self.notify(message, title="No failing download", timeout=8)


def _fit_name(name: str, width: int) -> str:
    """``name`` padded, or shortened from the middle, to ``width`` cells (one blank after)."""
    return shorten_middle(name, max(1, width - 1)).ljust(width)


def _fit(text: str, width: int) -> str:
    """``text`` padded or cut (with ``…``) to ``width`` cells."""
    if len(text) < width:
        return text.ljust(width)
    return text[: max(0, width - 2)] + "… "
