"""Actions on one node, shared by every widget that shows nodes (tree, FOD list)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.binding import Binding

from revive.core.derivation import Derivation
from revive.core.node_status import FetchState
from revive.tui.messages import BuildRequested, CancelRequested, RewriteRequested

if TYPE_CHECKING:
    from textual.widget import Widget

    from revive.tui.session import Session

__all__ = ["NODE_ACTION_BINDINGS", "NodeActions", "nothing_failing", "nothing_running"]

NOT_A_DOWNLOAD = (
    "Not a source download: guix-revive fetches fixed-output derivations only "
    "(b works on the ones badged url, git, svn…); this one is built by Guix itself "
    "(guix build) once its sources are there."
)
"""Why ``b`` is greyed out on a package (the Log tab says it too)."""

NODE_ACTION_BINDINGS = [
    Binding("r", "rewrite_node", "Rewrite", tooltip="Rewrite this download into today's form"),
    Binding(
        "b", "build_node", "Fetch", tooltip="Build/fetch this node (its rewritten form if any)"
    ),
    # Shown greyed out in place of "Fetch" on a node that is not a download,
    # so that the footer says why b does nothing there.
    Binding("b", "build_unavailable", "Fetch: FODs only", tooltip=NOT_A_DOWNLOAD),
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

    STATEFUL_ACTIONS: tuple[str, ...] = (
        "rewrite_node",
        "build_node",
        "build_unavailable",
        "cancel_build",
        "copy_path",
    )
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

    def action_build_unavailable(self) -> None:
        """Never runs (``b`` on a node that is not a download is greyed out)."""

    def action_cancel_build(self) -> None:
        """Cancel the current node's build; if none runs, say so and what to do."""
        path = self.current_path()
        session = self.session
        if path is None or session is None:
            return
        if session.can_cancel(path):
            self._widget().post_message(CancelRequested(path))
        else:
            self._widget().notify(
                nothing_running(session, path), title="Nothing to cancel", timeout=6
            )

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
        fod = session is not None and path is not None and session.graph.is_fixed_output(path)
        if action == "build_node":
            # A package: hidden, so that the greyed "Fetch: FODs only" shows instead.
            if not fod:
                return False
            return (session is not None and session.can_build(path)) or None
        if action == "build_unavailable":
            return None if path is not None and not fod else False
        if action == "cancel_build":
            # Always pressable on a node: with nothing running it says why.
            return path is not None and session is not None
        if action == "copy_path":
            return path is not None or None
        checked: bool | None = super().check_action(action, parameters)  # type: ignore[misc]
        return checked


def _fetched_so_far(session: Session) -> tuple[int, int]:
    """How many downloads were fetched (valid) and how many failed, so far."""
    status = session.status
    return len(status.in_state(FetchState.VALID)), len(status.in_state(FetchState.FAILED))


def _next_steps(session: Session, path: str | None) -> str:
    fod = path is not None and session.graph.is_fixed_output(path)
    steps = "b fetches this download, " if fod else ""
    steps += f"B fetches all {len(session.fods):,}"
    if session.demo is not None and session.servers is None:
        steps += " (start with --demo-serve to fetch the demo offline)"
    return steps + "."


def nothing_failing(session: Session, path: str | None) -> str:
    """What ``e``/``E`` say when no node fails: why not, and what to do next."""
    if session.graph.problems:
        return "No failing node."  # unreadable nodes count as failing: not reached
    valid, failed = _fetched_so_far(session)
    if valid == 0 and failed == 0:
        return "Nothing has failed yet because nothing was fetched yet: " + _next_steps(
            session, path
        )
    return f"No failing node: the {valid:,} downloads fetched so far are all valid."


def nothing_running(session: Session, path: str) -> str:
    """What ``x`` says when no fetch of ``path`` runs."""
    name = Derivation.name_from_path(path)
    if not session.graph.is_fixed_output(path):
        return f"Nothing runs for {name}: it is not a source download."
    return f"No fetch of {name} is running: " + _next_steps(session, path)
