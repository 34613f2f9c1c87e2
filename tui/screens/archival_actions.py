"""The "check archival status" actions of the graph screen: one node (``a``), all (``A``).

A mixin for :class:`~revive.tui.screens.graph.GraphScreen`: the checks run
in a thread worker (:func:`revive.core.archive.audit.run_audit`, on its own
event loop), report their progress in a bar above the tree, update the
tree's badges, the list's column and the Derivation tab as results come,
and stop when cancelled (``X``, or the command palette).
"""

from __future__ import annotations

import time
from typing import ClassVar

from textual import work
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Label, ProgressBar
from textual.worker import get_current_worker

from revive.core.archive.audit import AuditCancelled, AuditProgress, run_audit
from revive.tui.archival import ArchivalBoard, board_for
from revive.tui.session import Session
from revive.tui.widgets.archival_panel import ArchivalPanel

__all__ = ["ArchivalActions", "ARCHIVAL_BINDINGS", "ArchivalProgress"]

ARCHIVAL_BINDINGS: list[BindingType] = [
    Binding("a", "check_archival", "Archives?", tooltip="Check where this source is archived"),
    Binding("A", "check_archival_all", "Check all archives", show=False),
    Binding("X", "cancel_archival", "Cancel archive check", show=False),
]
"""Bindings of :class:`ArchivalActions` (the screen lists them in its ``BINDINGS``)."""

_BATCH_SECONDS = 0.1
"""Results reach the UI in batches at most this often (a big closure has 7,500)."""


class ArchivalProgress(Horizontal):
    """A label and a bar: how far the archival check is."""

    DEFAULT_CSS = """
    ArchivalProgress { height: 1; }
    ArchivalProgress > Label { width: auto; padding: 0 1 0 0; }
    ArchivalProgress > ProgressBar { width: 1fr; }
    """

    def compose(self):  # type: ignore[no-untyped-def]
        yield Label("Checking the archives…", id="archival-label")
        yield ProgressBar(total=1, show_eta=False, id="archival-bar")

    def set_progress(self, done: int, total: int) -> None:
        """Show ``done`` of ``total``."""
        self.query_one(ProgressBar).update(total=max(1, total), progress=done)
        self.query_one(Label).update(f"Checking the archives: {done:,}/{total:,} (X: cancel)")


class ArchivalActions:
    """Mixin: archival checks for the screen's session (see the module docstring)."""

    session: Session | None
    focused_path: str | None

    ARCHIVAL_HELP: ClassVar[str] = "| a / A / X | Check archives: this download / all / cancel. |"

    def _archival_board(self) -> ArchivalBoard | None:
        return board_for(self.session) if self.session is not None else None

    def action_check_archival(self) -> None:
        """Check where the download shown is archived."""
        session, path = self.session, self.focused_path
        if session is None or path is None or not session.graph.is_fixed_output(path):
            self.notify("Select a download (fixed-output node) first.", timeout=3)  # type: ignore[attr-defined]
            return
        self._start_archival((path,))

    def action_check_archival_all(self) -> None:
        """Check where every download of the closure is archived."""
        if self.session is not None:
            self._start_archival(self.session.fods)

    def action_cancel_archival(self) -> None:
        """Stop the archival check in progress."""
        self.workers.cancel_group(self, "archival")  # type: ignore[attr-defined]

    def _start_archival(self, paths: tuple[str, ...]) -> None:
        existing = list(self.query(ArchivalProgress))  # type: ignore[attr-defined]
        if not existing:
            bar = ArchivalProgress(id="archival-progress")
            self.query_one("#left-pane").mount(bar, before=0)  # type: ignore[attr-defined]
        self._show_archival_panel()
        self.check_archives(paths)

    @work(
        thread=True, exclusive=True, exit_on_error=False, group="archival", description="Archives"
    )
    def check_archives(self, paths: tuple[str, ...]) -> None:
        """Run the probes for ``paths`` (in this thread, on an event loop of its own)."""
        board = self._archival_board()
        if board is None:
            return
        worker = get_current_worker()
        app = self.app  # type: ignore[attr-defined]
        targets = board.targets(paths)
        pending: list[str] = []
        last = time.monotonic()

        def progressed(step: AuditProgress) -> None:
            nonlocal last
            board.record(step.last)
            pending.append(step.last.target.drv_path)
            now = time.monotonic()
            if now - last >= _BATCH_SECONDS or step.done == step.total:
                last = now
                batch = tuple(pending)
                pending.clear()
                app.call_from_thread(self._archival_batch, batch, step.done, step.total)

        try:
            run_audit(
                targets,
                board.config(),
                cache=board.cache,
                progress=progressed,
                stop=worker.cancelled_event,
            )
        except AuditCancelled as cancelled:
            app.call_from_thread(self._archival_done, len(cancelled.finished), len(targets), True)
            return
        app.call_from_thread(self._archival_done, len(targets), len(targets), False)

    def _archival_batch(self, paths: tuple[str, ...], done: int, total: int) -> None:
        for bar in self.query(ArchivalProgress):  # type: ignore[attr-defined]
            bar.set_progress(done, total)
        self.drv_tree.refresh_paths(paths)  # type: ignore[attr-defined]
        self.fod_list.refresh_paths(paths)  # type: ignore[attr-defined]
        if self.focused_path in paths:
            self._show_archival_panel()

    def _archival_done(self, done: int, total: int, cancelled: bool) -> None:
        for bar in self.query(ArchivalProgress):  # type: ignore[attr-defined]
            bar.remove()
        self._show_archival_panel()
        what = "cancelled after" if cancelled else "checked"
        self.notify(f"Archival status: {what} {done:,} of {total:,} downloads.", timeout=4)  # type: ignore[attr-defined]

    def _show_archival_panel(self) -> None:
        """Redraw the Derivation tab's archival part for the node shown."""
        session, path = self.session, self.focused_path
        panel = self.query_one(ArchivalPanel)  # type: ignore[attr-defined]
        if session is None or path is None:
            panel.show(None, fod=False)
            return
        board = board_for(session)
        running = any(
            w.group == "archival" and not w.is_finished
            for w in self.workers  # type: ignore[attr-defined]
        )
        panel.show(board.result(path), fod=session.graph.is_fixed_output(path), checking=running)
