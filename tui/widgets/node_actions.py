"""Actions on one node, shared by every widget that shows nodes (tree, FOD list)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding

from revive.tui.messages import BuildRequested, CancelRequested, RewriteRequested

if TYPE_CHECKING:
    from textual.widget import Widget

    from revive.tui.session import Session

__all__ = ["NODE_ACTION_BINDINGS", "NodeActions"]

NODE_ACTION_BINDINGS = [
    Binding("r", "rewrite_node", "Rewrite", tooltip="Rewrite this download into today's form"),
    Binding(
        "b", "build_node", "Fetch", tooltip="Build/fetch this node (its rewritten form if any)"
    ),
    Binding("x", "cancel_build", "Cancel", show=False, tooltip="Cancel this node's fetch"),
    Binding("y", "copy_path", "Copy path", show=False, tooltip="Copy the store path"),
]
"""Bindings of :class:`NodeActions`; Textual only merges ``BINDINGS`` of widget
classes, so each widget lists these in its own ``BINDINGS``."""


class NodeActions:
    """Mixin for a widget with a current node: rewrite, build, cancel, copy.

    The widget provides ``session`` and ``current_path()``; the actions post
    request messages that the screen carries out. ``check_action`` greys out
    what makes no sense for the current node, so a key never fails after
    being pressed.
    """

    session: Session | None

    STATEFUL_ACTIONS: tuple[str, ...] = ("rewrite_node", "build_node", "cancel_build", "copy_path")
    """Actions whose availability depends on the current node (see :meth:`refresh_actions`)."""

    _action_state: tuple[bool | None, ...] = ()

    def refresh_actions(self) -> None:
        """Refresh the footer only if an action became possible or impossible.

        ``refresh_bindings`` recomposes the footer, which costs far more than
        moving the cursor; most cursor moves change nothing it shows.
        """
        state = tuple(self.check_action(action, ()) for action in self.STATEFUL_ACTIONS)
        if state != self._action_state:
            self._action_state = state
            self._widget().refresh_bindings()

    def current_path(self) -> str | None:
        """The node the actions apply to (overridden)."""
        raise NotImplementedError

    def _widget(self) -> Widget:
        return self  # type: ignore[return-value]

    def action_rewrite_node(self) -> None:
        """Rewrite the current fixed-output node (shows the diff, writes on confirm)."""
        path = self.current_path()
        if path is not None:
            self._widget().post_message(RewriteRequested(path))

    def action_build_node(self) -> None:
        """Build (fetch) the current node."""
        path = self.current_path()
        if path is not None:
            self._widget().post_message(BuildRequested(path))

    def action_cancel_build(self) -> None:
        """Cancel the current node's build."""
        path = self.current_path()
        if path is not None:
            self._widget().post_message(CancelRequested(path))

    def action_copy_path(self) -> None:
        """Copy the current node's store path to the clipboard."""
        path = self.current_path()
        if path is not None:
            widget = self._widget()
            widget.app.copy_to_clipboard(path)
            widget.notify(f"Copied {path}", timeout=3)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``None`` (shown greyed out) for an action impossible on the current node."""
        session = self.session
        path = self.current_path()
        if action == "rewrite_node":
            return (session is not None and session.can_rewrite(path)) or None
        if action == "build_node":
            return (session is not None and session.can_build(path)) or None
        if action == "cancel_build":
            return (session is not None and session.can_cancel(path)) or None
        if action == "copy_path":
            return path is not None or None
        checked: bool | None = super().check_action(action, parameters)  # type: ignore[misc]
        return checked
