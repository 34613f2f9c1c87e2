"""Old against rewritten, side by side (or unified), changed words highlighted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Final

from rich.segment import Segment as RichSegment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from revive.core.diff_layout import (
    Row,
    RowKind,
    Segment,
    Tag,
    abbreviate,
    segments_text,
    unified_lines,
)
from revive.tui.widgets.component_styles import ComponentStyles

__all__ = ["DiffView", "SIDE_BY_SIDE_MIN_WIDTH"]

SIDE_BY_SIDE_MIN_WIDTH: Final = 100
"""Below this many columns the diff shows one column whatever ``unified`` says:
two columns of a narrower pane wrap every store path over several lines."""

_GUTTER: dict[RowKind, tuple[str, str]] = {
    RowKind.CHANGED: ("-", "+"),
    RowKind.REMOVED: ("-", " "),
    RowKind.ADDED: (" ", "+"),
    RowKind.MODIFIED: ("~", "~"),
    RowKind.EQUIVALENT: ("=", "="),
}
_OLD_ROWS = frozenset({RowKind.CHANGED, RowKind.REMOVED})
_NEW_ROWS = frozenset({RowKind.CHANGED, RowKind.ADDED})
_SEPARATOR = " │ "


class DiffView(ComponentStyles, ScrollView, can_focus=True):
    """A structured derivation diff: two columns that always scroll together.

    Both sides are drawn in one scrolling view, row by row, so a line of the
    old derivation is always beside its counterpart; long values wrap inside
    their column instead of hiding behind a horizontal scroll bar. ``unified``
    switches to one column; a pane narrower than :data:`SIDE_BY_SIDE_MIN_WIDTH`
    shows one column by itself (and says so with :class:`ModeChanged`).
    Store paths are shown as ``/gnu/store/…-name`` so that each fits on one
    line; the full paths of the line under the mouse are in its tooltip.
    """

    @dataclass
    class ModeChanged(Message):
        """The diff switched between one column and two (by the user or by its width)."""

        diff: DiffView
        """The diff view."""
        unified: bool
        """One column is shown."""
        narrow: bool
        """One column because the pane is too narrow for two."""

        @property
        def control(self) -> DiffView:
            """The diff view (for ``@on(DiffView.ModeChanged, selector)``)."""
            return self.diff

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "scroll_down", "Down", show=False),
        Binding("k,up", "scroll_up", "Up", show=False),
        Binding("space,pagedown", "page_down", "Page down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
    ]
    """
    | Key(s) | Description |
    | :- | :- |
    | up, k / down, j | Scroll a line. |
    | space, pagedown / pageup | Scroll a page. |
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "diff-view--heading",
        "diff-view--key",
        "diff-view--dim",
        "diff-view--old",
        "diff-view--new",
        "diff-view--removed",
        "diff-view--added",
        "diff-view--changed-word",
        "diff-view--equivalent",
        "diff-view--different",
        "diff-view--old-line",
        "diff-view--new-line",
        "diff-view--separator",
    }
    """
    | Class | Description |
    | :- | :- |
    | `diff-view--heading` | Section titles and the two paths. |
    | `diff-view--key` | Variable, output and input names. |
    | `diff-view--dim` | Notes, counts, folded parts. |
    | `diff-view--old` / `--new` | Unchanged text of a changed line, each side. |
    | `diff-view--removed` / `--added` | Words only on one side (strong). |
    | `diff-view--changed-word` | Unchanged letters inside a changed word. |
    | `diff-view--equivalent` / `--different` | The verdict. |
    | `diff-view--old-line` / `--new-line` | Background of changed lines. |
    | `diff-view--separator` | The line between the two columns. |
    """

    DEFAULT_CSS = """
    DiffView {
        background: $surface;
        /* Lines are laid out for the width without the scroll bar, whether
           or not it shows yet: one appearing later would hide their ends. */
        scrollbar-gutter: stable;
        & > .diff-view--heading { text-style: bold; color: $text-primary; }
        & > .diff-view--key { color: $text-accent; }
        & > .diff-view--dim { color: $text-muted; }
        & > .diff-view--old { color: $text-error; }
        & > .diff-view--new { color: $text-success; }
        & > .diff-view--removed { color: $text; background: $error 45%; text-style: bold; }
        & > .diff-view--added { color: $text; background: $success 45%; text-style: bold; }
        & > .diff-view--changed-word { text-style: underline; }
        & > .diff-view--equivalent { color: $text-success; text-style: bold; }
        & > .diff-view--different { color: $text-error; text-style: bold; }
        & > .diff-view--old-line { background: $error 12%; }
        & > .diff-view--new-line { background: $success 12%; }
        & > .diff-view--separator { color: $surface-lighten-3; }
    }
    """

    unified: reactive[bool] = reactive(False)
    """Show one column with ``-``/``+`` markers instead of two columns."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._rows: tuple[Row, ...] = ()
        self._strips: list[Strip] = []
        self._full: list[str] = []
        self._laid_out_for: tuple[int, bool] | None = None
        self._mode: tuple[bool, bool] | None = None

    # --- public ----------------------------------------------------------------------

    @property
    def rows(self) -> tuple[Row, ...]:
        """The rows shown."""
        return self._rows

    def show_rows(self, rows: Sequence[Row]) -> None:
        """Show a new diff (rows from :func:`revive.core.diff_layout.side_by_side`)."""
        self._rows = tuple(rows)
        self._laid_out_for = None
        self.scroll_to(0, 0, animate=False)
        self._relayout()

    @property
    def narrow(self) -> bool:
        """The pane is too narrow for two columns (one is shown whatever :attr:`unified` says)."""
        width = self.scrollable_content_region.width or self.size.width
        return 0 < width < SIDE_BY_SIDE_MIN_WIDTH

    @property
    def shows_unified(self) -> bool:
        """One column is on screen (asked for, or the pane is narrow)."""
        return self.unified or self.narrow

    def full_text(self, y: int) -> str:
        """The unabbreviated text of the diff row drawn on visual line ``y`` (``""`` if none)."""
        self._relayout()
        return self._full[y] if 0 <= y < len(self._full) else ""

    def plain_lines(self) -> list[str]:
        """What is on screen as plain text, one string per visual line (for tests)."""
        self._relayout()
        return [strip.text.rstrip() for strip in self._strips]

    # --- layout ----------------------------------------------------------------------

    def watch_unified(self) -> None:
        self._laid_out_for = None
        self._relayout()

    def on_resize(self) -> None:
        self._relayout()

    def notify_style_update(self) -> None:
        """Lay the diff out again in the new styles."""
        self._laid_out_for = None
        super().notify_style_update()
        if self.is_mounted:
            self._relayout()

    def _component_style(self, name: str) -> Style:
        # Rich styles have no alpha: blend translucent backgrounds (``$error
        # 12%``) over the widget's own background here, once per theme.
        styles = self.get_component_styles(name)
        style = self.get_component_rich_style(name, partial=True)
        background = styles.background
        if background.a > 0:
            _, base = self.background_colors
            style = style + Style(bgcolor=(base + background).rich_color)
        return style

    def _tag_style(self, tag: Tag) -> Style:
        if tag is Tag.PLAIN:
            return Style()
        return self._style(f"diff-view--{tag.value}")

    def _text(self, segments: Sequence[Segment]) -> Text:
        text = Text(no_wrap=False, overflow="fold", end="")
        for seg in segments:
            text.append(seg.text, self._tag_style(seg.tag))
        return text

    def _wrap(self, segments: Sequence[Segment], width: int, fill: Style) -> list[Strip]:
        console = self.app.console
        text = self._text(segments)
        if not text.plain:
            return [Strip([RichSegment(" " * width, fill)], width)]
        strips = []
        for line in text.wrap(console, width, overflow="fold"):
            line.stylize_before(fill)
            segs = list(line.render(console))
            strips.append(Strip(segs).adjust_cell_length(width, fill))
        return strips

    def _relayout(self) -> None:
        width = self.scrollable_content_region.width or self.size.width
        if width <= 0:
            return
        key = (width, self.unified)
        if self._laid_out_for == key:
            return
        self._laid_out_for = key
        narrow = width < SIDE_BY_SIDE_MIN_WIDTH
        unified = self.unified or narrow
        self._full = []
        self._strips = self._unified(width) if unified else self._side_by_side(width)
        self.virtual_size = Size(width, len(self._strips))
        self.refresh()
        if self._mode != (unified, narrow):
            self._mode = (unified, narrow)
            self.post_message(self.ModeChanged(self, unified, narrow and not self.unified))

    def _side_by_side(self, width: int) -> list[Strip]:
        column = max(8, (width - len(_SEPARATOR) - 4) // 2)
        separator = Strip([RichSegment(_SEPARATOR, self._style("diff-view--separator"))])
        old_fill, new_fill = self._style("diff-view--old-line"), self._style("diff-view--new-line")
        strips: list[Strip] = []
        for row in self._rows:
            left_fill = old_fill if row.kind in _OLD_ROWS else Style()
            right_fill = new_fill if row.kind in _NEW_ROWS else Style()
            left = self._wrap(abbreviate(row.left, 0), column, left_fill)
            right = self._wrap(abbreviate(row.right, 0), column, right_fill)
            marks = _GUTTER.get(row.kind, (" ", " "))
            full = _full_text(row.left, row.right)
            for n in range(max(len(left), len(right))):
                self._full.append(full)
                lm, rm = marks if n == 0 else (" ", " ")
                lpart = left[n] if n < len(left) else Strip.blank(column, left_fill)
                rpart = right[n] if n < len(right) else Strip.blank(column, right_fill)
                strips.append(
                    Strip.join(
                        [
                            Strip([RichSegment(f"{lm} ", left_fill + self._mark_style(lm))]),
                            lpart,
                            separator,
                            Strip([RichSegment(f"{rm} ", right_fill + self._mark_style(rm))]),
                            rpart,
                        ]
                    )
                )
        return strips

    def _unified(self, width: int) -> list[Strip]:
        old_fill, new_fill = self._style("diff-view--old-line"), self._style("diff-view--new-line")
        strips: list[Strip] = []
        for line in unified_lines(self._rows):
            marker = line.marker
            fill = (
                old_fill
                if marker in ("-", "---")
                else new_fill
                if marker in ("+", "+++")
                else Style()
            )
            if line.kind not in (RowKind.CHANGED, RowKind.REMOVED, RowKind.ADDED):
                fill = Style()
            gutter = f"{marker:<3} "
            body = self._wrap(abbreviate(line.segments, 0), max(8, width - len(gutter)), fill)
            full = _full_text(line.segments)
            for n, part in enumerate(body):
                self._full.append(full)
                mark = gutter if n == 0 else " " * len(gutter)
                strips.append(
                    Strip.join([Strip([RichSegment(mark, fill + self._mark_style(marker))]), part])
                )
        return strips

    def _mark_style(self, mark: str) -> Style:
        if mark.startswith("-"):
            return self._style("diff-view--old")
        if mark.startswith("+"):
            return self._style("diff-view--new")
        return self._style("diff-view--dim")

    # --- rendering -------------------------------------------------------------------

    def on_mouse_move(self, event: events.MouseMove) -> None:
        # Paths are shortened on screen; hovering a line shows them whole.
        self.tooltip = self.full_text(event.y + self.scroll_offset.y) or None

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        if index >= len(self._strips):
            return Strip.blank(width, self.rich_style)
        return self._strips[index].crop(scroll_x, scroll_x + width).apply_style(self.rich_style)


def _full_text(*sides: Sequence[Segment]) -> str:
    """The whole text of a row's sides when it holds a store path that is drawn shortened."""
    texts = [segments_text(side) for side in sides]
    if all(
        segments_text(abbreviate(side, 0)) == text for side, text in zip(sides, texts, strict=True)
    ):
        return ""
    return "\n".join(dict.fromkeys(t for t in texts if t))
