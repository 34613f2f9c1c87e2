"""The derivation graph as a collapsible tree, children added on expansion."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.style import Style
from rich.text import Text
from textual import on
from textual.binding import Binding, BindingType
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from revive.core.derivation import Derivation
from revive.core.node_status import FetchState, NodeStatus
from revive.tui.archival import board_for
from revive.tui.messages import NodeFocused, RevealNode, WhyRequested
from revive.tui.widgets.archival_badge import BADGE_WIDTH, archival_badge
from revive.tui.widgets.component_styles import ComponentStyles
from revive.tui.widgets.fod_badge import BADGE_PARTS, badge_css, method_part
from revive.tui.widgets.node_actions import NODE_ACTION_BINDINGS, NodeActions, nothing_failing
from revive.tui.widgets.text_fit import shorten_middle

if TYPE_CHECKING:
    from revive.tui.session import Session

__all__ = ["NodeRef", "DerivationTree", "STATUS_ICONS"]


@dataclass(frozen=True, slots=True)
class NodeRef:
    """What a tree line shows: a node, the outputs its parent uses, and whether it is the first."""

    path: str
    """The node's ``.drv`` path."""
    outputs: tuple[str, ...]
    """Outputs the parent uses (``()`` at the top level)."""
    first: bool
    """True at the node's first occurrence (the only expandable one)."""
    more: int = 0
    """For the last line of a long list of children: how many are not shown yet
    (``path`` is then the parent's)."""


CHUNK = 1000
"""Children added at a time: a profile can have 15,000 inputs, and every
expansion re-lays out every visible line of a ``Tree``."""

STATUS_ICONS: dict[FetchState, str] = {
    FetchState.NOT_FETCHED: "○",
    FetchState.VALID: "✔",
    FetchState.REWRITTEN: "↻",
    FetchState.FETCHING: "⇣",
    FetchState.FAILED: "✘",
}
"""One glyph per fetch state, each one cell wide."""

_STATUS_CLASS: dict[FetchState, str] = {
    FetchState.NOT_FETCHED: "drv-tree--pending",
    FetchState.VALID: "drv-tree--valid",
    FetchState.REWRITTEN: "drv-tree--rewritten",
    FetchState.FETCHING: "drv-tree--fetching",
    FetchState.FAILED: "drv-tree--failed",
}


class DerivationTree(NodeActions, ComponentStyles, Tree[NodeRef]):
    """The closure as a tree: one line per derivation, fixed-output ones highlighted.

    A node is expandable only at its first occurrence (depth-first, in file
    order); elsewhere it is a reference marked ``↑`` whose ``enter`` (or
    ``g``) jumps to the first occurrence. Children are added when a node is
    first expanded, so a 50,000-node closure opens instantly.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("l,right", "expand_or_enter", "Expand", show=False),
        Binding("h,left", "collapse_or_leave", "Collapse", show=False),
        Binding(
            "g",
            "goto_first",
            "First occurrence",
            show=False,
            tooltip="Jump to where it is expanded",
        ),
        Binding("n", "next_fod", "Next FOD", tooltip="Next fixed-output (source) node"),
        Binding("N", "previous_fod", "Prev FOD", show=False),
        Binding("e", "next_failing", "Next failing", tooltip="Next node that failed"),
        Binding("E", "previous_failing", "Prev failing", show=False),
        Binding("w", "why", "Why?", show=False, tooltip="Dependency paths from the root"),
        *NODE_ACTION_BINDINGS,
    ]
    """
    | Key(s) | Description |
    | :- | :- |
    | up, k / down, j | Move the cursor. |
    | right, l | Expand the node, or go to its first child. |
    | left, h | Collapse the node, or go to its parent. |
    | enter, space | Expand or collapse; on a ``↑`` reference, jump to the first occurrence. |
    | g | Jump to the first occurrence of this node. |
    | n / N | Next / previous fixed-output node. |
    | e / E | Next / previous failing node. |
    | w | Why is this node here (paths from the root). |
    | y | Copy the store path. |
    | r / b / x | Rewrite / build / cancel (fixed-output nodes). |
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "drv-tree--fod",
        "drv-tree--infra",
        "drv-tree--error",
        "drv-tree--outputs",
        "drv-tree--seen",
        *(f"drv-tree--badge-{part}" for part in BADGE_PARTS),
        "drv-tree--pending",
        "drv-tree--valid",
        "drv-tree--rewritten",
        "drv-tree--fetching",
        "drv-tree--failed",
        "drv-tree--match",
    }
    """
    | Class | Description |
    | :- | :- |
    | `drv-tree--fod` | Name of a fixed-output node. |
    | `drv-tree--infra` | Name of a plumbing node (dimmed). |
    | `drv-tree--error` | A node whose ``.drv`` is missing or broken. |
    | `drv-tree--outputs` | The outputs used, after the name. |
    | `drv-tree--seen` | The ``↑`` marker of a repeated node. |
    | `drv-tree--badge-url` … `drv-tree--badge-cvs`, `-other` | Fetch method chip, per method. |
    | `drv-tree--badge-builtin` / `drv-tree--badge-script` | The era after the method. |
    | `drv-tree--pending` … `drv-tree--failed` | Status icons. |
    | `drv-tree--match` | The name of the current search match. |
    """

    DEFAULT_CSS = (
        """
    DerivationTree {
        & > .drv-tree--fod { text-style: bold; color: $text-accent; }
        & > .drv-tree--infra { color: $text-disabled; }
        & > .drv-tree--error { color: $text-error; }
        & > .drv-tree--outputs { color: $text-muted; }
        & > .drv-tree--seen { color: $text-muted; text-style: italic; }
        & > .drv-tree--pending { color: $text-muted; }
        & > .drv-tree--valid { color: $text-success; }
        & > .drv-tree--rewritten { color: $text-accent; }
        & > .drv-tree--fetching { color: $text-warning; text-style: bold; }
        & > .drv-tree--failed { color: $text-error; text-style: bold; }
        & > .drv-tree--match { text-style: bold reverse; }
    }
    """
        + f"DerivationTree {{\n{badge_css('drv-tree')}\n}}\n"
    )

    STATEFUL_ACTIONS = (
        *NodeActions.STATEFUL_ACTIONS,
        "goto_first",
        "next_fod",
        "next_failing",
        "why",
    )

    session: Session | None = None
    """The model; set by the screen once the closure is loaded."""
    _frame_style: Style | None = None

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        # Set before Tree.__init__, which already lays the (empty) tree out.
        self._widths: dict[int, int] = {}
        self._content_width = 0
        super().__init__("closure", id=id, classes=classes)
        self.show_root = False
        self.guide_depth = 3
        self.match_path: str | None = None
        """The current search match, drawn highlighted."""
        self._shown: dict[int, int] = {}
        self._by_path: dict[str, list[TreeNode[NodeRef]]] = {}

    # --- public ----------------------------------------------------------------------

    def show_roots(self, roots: Iterable[str]) -> None:
        """Show the roots while the closure is still loading (not yet expandable)."""
        self.clear()
        self._shown.clear()
        self._widths.clear()
        self._by_path.clear()
        for path in roots:
            self._add(self.root, NodeRef(path, (), True), expandable=False)

    def attach(self, session: Session) -> None:
        """Show ``session``'s closure: the roots, the first one expanded."""
        self.session = session
        self.clear()
        self._shown.clear()
        self._widths.clear()
        self._by_path.clear()
        for path in session.outline.roots:
            node = self._add(self.root, NodeRef(path, (), True), expandable=True)
            if len(session.outline.roots) == 1 or path == session.outline.roots[0]:
                self._expand(node)
        self._sync_lines()
        first = self.root.children[0] if self.root.children else None
        if first is not None:
            self.move_cursor(first)
        self.refresh_actions()

    @property
    def cursor_path(self) -> str | None:
        """The ``.drv`` path under the cursor."""
        node = self.cursor_node
        if node is None or node.data is None or node.data.more:
            return None
        return node.data.path

    def current_path(self) -> str | None:
        """The node the actions apply to (see :class:`NodeActions`)."""
        return self.cursor_path

    def reveal(self, path: str) -> bool:
        """Expand the chain of first occurrences down to ``path`` and put the cursor on it."""
        session = self.session
        if session is None:
            return False
        chain = session.outline.path_from_root(path)
        if not chain:
            return False
        node: TreeNode[NodeRef] = self.root
        siblings: tuple[str, ...] = session.outline.roots
        for depth, step in enumerate(chain):
            try:
                index = siblings.index(step)
            except ValueError:
                return False
            if node is not self.root:
                self._populate(node, at_least=index + 1)
            if index >= len(node.children):
                return False
            node = node.children[index]
            if depth < len(chain) - 1:
                self._expand(node)
                siblings = tuple(p for p, _ in session.children(step))
        self._sync_lines()
        self.move_cursor(node)
        self.scroll_to_node(node, animate=False)
        return True

    def refresh_paths(self, paths: Iterable[str]) -> None:
        """Repaint the lines showing ``paths`` (their status, or badge, changed)."""
        for path in paths:
            for node in self._by_path.get(path, ()):
                self._widths.pop(node._id, None)
                node.refresh()
        self.refresh_actions()

    def set_match(self, path: str | None) -> None:
        """Highlight ``path`` as the current search match."""
        previous, self.match_path = self.match_path, path
        self.refresh_paths([p for p in (previous, path) if p is not None])

    # --- building --------------------------------------------------------------------

    def _add(
        self, parent: TreeNode[NodeRef], ref: NodeRef, *, expandable: bool
    ) -> TreeNode[NodeRef]:
        node = parent.add(ref.path, ref, allow_expand=expandable)
        self._by_path.setdefault(ref.path, []).append(node)
        return node

    def _populate(self, node: TreeNode[NodeRef], at_least: int = 0) -> None:
        """Add ``node``'s children: the first :data:`CHUNK`, or more, up to ``at_least``.

        A long list ends with a "… N more" line that adds the next chunk.
        Lines are created in one go (``TreeNode.add`` would invalidate the
        whole tree after each) and their labels drawn only when on screen.
        """
        session, ref = self.session, node.data
        if session is None or ref is None or not ref.first or ref.more:
            return
        shown = self._shown.get(node.id, 0)
        edges = session.children(ref.path)
        target = min(len(edges), max(CHUNK if shown == 0 else shown, at_least))
        if node.id in self._shown and target <= shown:
            return
        children = node._children
        nodes = self._tree_nodes
        if children and children[-1].data is not None and children[-1].data.more:
            del nodes[children.pop()._id]
        outline = session.outline
        inputs = session.graph.inputs
        by_path = self._by_path
        new_id = self._new_id
        parent = ref.path
        for child, outputs in edges[shown:target]:
            first = outline.is_first_occurrence(child, parent)
            line = TreeNode(
                self,
                node,
                new_id(),
                _NO_LABEL,
                NodeRef(child, outputs, first),
                expanded=False,
                allow_expand=first and bool(inputs(child)),
            )
            nodes[line._id] = line
            children.append(line)
            bucket = by_path.get(child)
            if bucket is None:
                by_path[child] = [line]
            else:
                bucket.append(line)
        if target < len(edges):
            more = TreeNode(
                self,
                node,
                new_id(),
                _NO_LABEL,
                NodeRef(parent, (), True, more=len(edges) - target),
                expanded=False,
                allow_expand=False,
            )
            nodes[more._id] = more
            children.append(more)
        self._shown[node.id] = target
        node._updates += 1
        self._invalidate()

    def _show_more(self, line: TreeNode[NodeRef]) -> None:
        """Replace a "… N more" line by the next chunk of children."""
        parent = line.parent
        if parent is None or parent.data is None:
            return
        index = len(parent.children) - 1
        self._populate(parent, at_least=self._shown.get(parent.id, 0) + CHUNK)
        self._sync_lines()
        self.move_cursor(parent.children[index])

    def _expand(self, node: TreeNode[NodeRef]) -> None:
        self._populate(node)
        if not node.is_expanded:
            node.expand()

    def _sync_lines(self) -> None:
        # The line numbers of nodes are computed lazily; moving the cursor to
        # a node added in this same call needs them now. `last_line` builds them.
        _ = self.last_line

    def _toggle_node(self, node: TreeNode[NodeRef]) -> None:
        # Populate before Tree toggles, so the expanded node never paints empty.
        self._populate(node)
        super()._toggle_node(node)

    # --- labels ----------------------------------------------------------------------

    def on_resize(self) -> None:
        # Labels are fitted to the width (see _label_room): a new width means
        # new line widths, which only a rebuild of the line cache measures.
        width = self.scrollable_content_region.width
        if width != self._content_width:
            self._content_width = width
            self._invalidate()

    def render_lines(self, crop: Region) -> list[Strip]:
        # Tree asks for the widget's rich style once per line, and computing
        # it walks up the DOM: once per frame is enough.
        self._frame_style = self.rich_style
        try:
            return super().render_lines(crop)
        finally:
            self._frame_style = None

    def render_line(self, y: int) -> Strip:
        style = self._frame_style if self._frame_style is not None else self.rich_style
        scroll_x, scroll_y = self.scroll_offset
        return self._render_line(y + scroll_y, scroll_x, scroll_x + self.size.width, style)

    def process_label(self, label: str | Text) -> Text:
        # Labels are drawn by render_label from the node's data; the stored
        # label is only the path (Tree's markup parsing would be wasted work).
        return Text(label) if isinstance(label, str) else label

    def get_label_width(self, node: TreeNode[NodeRef]) -> int:
        # Tree asks for the width of every visible line on each rebuild;
        # drawing thousands of labels for that would take seconds. The name's
        # length and the badge (once known; an upper bound before) suffice,
        # and a width known exactly is remembered.
        width = self._widths.get(node._id)
        if width is not None:
            return min(width, self._label_room(node))
        ref = node.data
        session = self.session
        if ref is None or session is None:
            return super().get_label_width(node)
        if ref.more:
            return 48
        slash = ref.path.rfind("/")
        width = 4 + len(ref.path) - slash - 38  # icons + name (no hash, no .drv)
        if ref.outputs:
            width += 3 + sum(len(o) + 1 for o in ref.outputs)
        if not ref.first:
            width += 2
        kind = session.cached_kind(ref.path)
        if kind is not None:
            width += len(kind.badge) + 3 if kind.badge else 0
            width += len(kind.rewritten) + 1 if kind.rewritten else 0
            width += BADGE_WIDTH if kind.fod else 0  # the archival badge (issue 11)
            self._widths[node._id] = width
        elif session.graph.is_fixed_output(ref.path):
            width += 18  # an upper bound of the fetch badge, until it is known
        return min(width, self._label_room(node))

    def _label_room(self, node: TreeNode[NodeRef]) -> int:
        """Cells left for ``node``'s label (with its expand icon) after the guides.

        Labels are shortened to fit (see :meth:`label_text`), so the tree
        never scrolls sideways; before the first layout there is no limit.
        """
        width = self._content_width
        if width <= 0:
            return 1 << 30
        depth = 0
        parent = node.parent
        while parent is not None:
            depth += 1
            parent = parent.parent
        return max(12, width - depth * self.guide_depth)

    def render_label(self, node: TreeNode[NodeRef], base_style: Style, style: Style) -> Text:
        ref = node.data
        if ref is None:
            return super().render_label(node, base_style, style)
        text = self.label_text(ref, self._label_room(node) - 2)
        text.stylize(style)
        if node.allow_expand:
            icon = self.ICON_NODE_EXPANDED if node.is_expanded else self.ICON_NODE
        else:
            icon = "  "
        return Text.assemble((icon, base_style), text)

    def label_text(self, ref: NodeRef, room: int | None = None) -> Text:
        """The label of one line (without the expand icon).

        With ``room``, a label longer than that many cells has its name
        shortened from the middle: the status, badge and failure reason
        after it stay visible.
        """
        if ref.more:
            step = min(ref.more, CHUNK)
            return Text(
                f"  … {ref.more:,} more (enter: show {step:,} more)", self._style("drv-tree--seen")
            )
        session = self.session
        if session is None:
            return Text.assemble(
                ("  ", ""), (Derivation.name_from_path(ref.path), self._style("drv-tree--infra"))
            )
        kind = session.kind(ref.path)
        text = Text()
        name_at, name_style = 0, None
        if kind.error is not None:
            text.append("! ", self._style("drv-tree--failed"))
            text.append(kind.name, self._style("drv-tree--error"))
            text.append(
                "  malformed" if session.node(ref.path).malformed else "  missing",
                self._style("drv-tree--error"),
            )
        else:
            status = session.node_status(ref.path)
            if kind.fod or status != _NO_STATUS:
                state = status.state
                text.append(STATUS_ICONS[state], self._style(_STATUS_CLASS[state]))
                text.append(" ")
            else:
                text.append("  ")
            if not ref.first:
                name_style = self._style("drv-tree--seen")
            elif kind.fod:
                name_style = self._style("drv-tree--fod")
            elif kind.infrastructure:
                name_style = self._style("drv-tree--infra")
            else:
                name_style = Style()
            if ref.path == self.match_path:
                name_style = name_style + self._style("drv-tree--match")
            name_at = len(text)
            text.append(kind.name, name_style)
            if kind.badge:
                text.append(" ")
                method = self._style(f"drv-tree--badge-{method_part(kind.method)}")
                text.append(kind.method or kind.badge, method)
                if kind.era:
                    text.append("·", self._style("drv-tree--outputs"))
                    text.append(kind.era, self._style(f"drv-tree--badge-{kind.era}"))
                if kind.rewritten:
                    # The badge now describes the rewritten form: say so.
                    text.append(" ")
                    text.append(kind.rewritten, self._style("drv-tree--rewritten"))
                # Archival badge (issue 11), once checked: widgets/archival_badge.py.
                text.append_text(archival_badge(board_for(session).result(ref.path)))
        if kind.error is None:
            failure = session.node_status(ref.path).reason
            if failure:
                # The class of failure only ("not found", "hash mismatch"):
                # the Log tab has the whole story.
                text.append(" ")
                text.append(failure.split(":", 1)[0], self._style("drv-tree--failed"))
        # Separating spaces are spans of their own: a span starting with a
        # space is drawn glued to the previous one by SVG viewers.
        if ref.outputs:
            text.append(" ")
            text.append(f"[{','.join(ref.outputs)}]", self._style("drv-tree--outputs"))
        if not ref.first:
            text.append(" ")
            text.append("↑", self._style("drv-tree--seen"))
        if room is not None and name_style is not None and text.cell_len > room:
            text = _shorten_name(text, name_at, len(kind.name), room, name_style)
        return text

    # --- handlers --------------------------------------------------------------------

    @on(Tree.NodeExpanded)
    def _populate_expanded(self, event: Tree.NodeExpanded[NodeRef]) -> None:
        self._populate(event.node)

    @on(Tree.NodeHighlighted)
    def _announce_cursor(self, event: Tree.NodeHighlighted[NodeRef]) -> None:
        if event.node.data is not None and not event.node.data.more:
            self.post_message(NodeFocused(event.node.data.path))
        self.refresh_actions()

    @on(Tree.NodeSelected)
    def _jump_from_reference(self, event: Tree.NodeSelected[NodeRef]) -> None:
        ref = event.node.data
        if ref is not None and ref.more:
            event.stop()
            self._show_more(event.node)
        elif ref is not None and not ref.first:
            event.stop()
            self.action_goto_first()

    # --- actions ---------------------------------------------------------------------

    def action_expand_or_enter(self) -> None:
        """Expand the node; if it is already expanded, go to its first child."""
        node = self.cursor_node
        if node is None:
            return
        if node.data is not None and node.data.more:
            self._show_more(node)
        elif node.allow_expand and not node.is_expanded:
            self._expand(node)
        elif node.is_expanded and node.children:
            self._sync_lines()
            self.move_cursor(node.children[0])

    def action_collapse_or_leave(self) -> None:
        """Collapse the node; if it is collapsed, go to its parent."""
        node = self.cursor_node
        if node is None:
            return
        if node.is_expanded:
            node.collapse()
        elif node.parent is not None and node.parent is not self.root:
            self.move_cursor(node.parent)

    def action_goto_first(self) -> None:
        """Jump to the first (expandable) occurrence of the node under the cursor."""
        path = self.cursor_path
        if path is not None:
            self.post_message(RevealNode(path))

    def action_next_fod(self) -> None:
        """Go to the next fixed-output node in tree order."""
        self._step(self._fod_positions(), backwards=False)

    def action_previous_fod(self) -> None:
        """Go to the previous fixed-output node in tree order."""
        self._step(self._fod_positions(), backwards=True)

    def action_next_failing(self) -> None:
        """Go to the next failing node in tree order (or say why there is none)."""
        self._step_failing(backwards=False)

    def action_previous_failing(self) -> None:
        """Go to the previous failing node in tree order (or say why there is none)."""
        self._step_failing(backwards=True)

    def _step_failing(self, *, backwards: bool) -> None:
        session = self.session
        if session is None:
            return
        positions = self._failing_positions()
        if not positions:
            message = nothing_failing(session, self.cursor_path)
            self.notify(message, title="No failing node", timeout=8)
            return
        self._step(positions, backwards=backwards)

    def action_why(self) -> None:
        """Ask why the node under the cursor is in the closure."""
        path = self.cursor_path
        if path is not None:
            self.post_message(WhyRequested(path))

    def _fod_positions(self) -> tuple[int, ...]:
        return self.session.fod_positions if self.session is not None else ()

    def _failing_positions(self) -> tuple[int, ...]:
        return self.session.failing_positions() if self.session is not None else ()

    def _step(self, positions: tuple[int, ...], *, backwards: bool) -> None:
        session = self.session
        if session is None:
            return
        target = session.outline.neighbour(self.cursor_path, positions, backwards=backwards)
        if target is None:
            self.notify("No such node in this closure.", severity="warning", timeout=3)
            return
        self.reveal(target)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out what makes no sense for the node under the cursor."""
        if action in ("next_fod", "previous_fod"):
            return bool(self._fod_positions()) or None
        if action in ("next_failing", "previous_failing"):
            # Always pressable once loaded: with no failure it says why.
            return self.session is not None or None
        if action == "goto_first":
            node = self.cursor_node
            reference = node is not None and node.data is not None and not node.data.first
            return reference or None
        if action == "why":
            return self.cursor_path is not None or None
        return super().check_action(action, parameters)


_NO_STATUS = NodeStatus()
_NO_LABEL = Text()
"""Stored label of every line (labels are drawn from the data, see ``render_label``)."""


def _shorten_name(text: Text, start: int, length: int, room: int, style: Style) -> Text:
    """``text`` with its name (``length`` characters at ``start``, drawn in ``style``)
    shortened from the middle so that the whole fits in ``room`` cells (the name
    keeps at least 6)."""
    keep = max(6, length - text.cell_len + room)
    short = shorten_middle(text.plain[start : start + length], keep)
    fitted = text[:start]
    fitted.append(short, style)
    fitted.append_text(text[start + length :])
    return fitted
