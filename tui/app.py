"""The guix-revive app: one graph screen, global keys, the error funnel."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import App
from textual.binding import Binding, BindingType
from textual.worker import Worker, WorkerState

from revive.core.closure import LoadCancelled
from revive.tui.commands import ReviveCommands
from revive.tui.messages import WorkerFailed
from revive.tui.screens.batch import BatchScreen
from revive.tui.screens.confirm import ConfirmScreen
from revive.tui.screens.graph import GraphScreen
from revive.tui.screens.help import HelpScreen, key_rows, tree_extra_rows
from revive.tui.screens.move_upstream import MoveUpstreamScreen
from revive.tui.screens.rewrite import RewriteScreen
from revive.tui.session import LoadPlan, Session, one_line
from revive.tui.widgets.diff_view import DiffView
from revive.tui.widgets.drv_tree import DerivationTree
from revive.tui.widgets.fod_list import FodList
from revive.tui.widgets.search_bar import SearchBar

__all__ = ["ReviveApp", "THEME"]

THEME = "textual-dark"
"""The theme the app starts with (tests and screenshots rely on it being fixed)."""


class ReviveApp(App[None]):
    """Browse a past Guix environment's derivation graph; rewrite and fetch its sources.

    Args:
        plan: what to open (the loading happens in the graph screen's worker).
        session: an already loaded model (tests, benchmarks); skips loading.
    """

    CSS_PATH = "app.tcss"
    TITLE = "guix-revive"
    COMMANDS = App.COMMANDS | {ReviveCommands}

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "show_keys", "Keys", tooltip="Every key of the app"),
        Binding("q", "quit", "Quit"),
    ]
    """
    | Key(s) | Description |
    | :- | :- |
    | ? | Show every key. |
    | q | Quit. |
    | ctrl+p | The command palette. |
    """

    def __init__(self, plan: LoadPlan | None = None, *, session: Session | None = None) -> None:
        super().__init__()
        self.plan = plan or LoadPlan()
        """What to open."""
        self.initial_session = session
        """A model given up front, if any."""
        self.errors: list[str] = []
        """Every error reported through the funnel (one line each), for tests."""

    def on_mount(self) -> None:
        self.theme = THEME
        self.push_screen(GraphScreen(self.plan, self.initial_session))

    @on(Worker.StateChanged)
    def report_worker_error(self, event: Worker.StateChanged) -> None:
        """The one error funnel: a failed worker of the app becomes one notification."""
        if event.state is WorkerState.ERROR:
            self.report_failed_worker(event.worker)

    @on(WorkerFailed)
    def _screen_worker_failed(self, event: WorkerFailed) -> None:
        # Screens forward their failed workers (Worker.StateChanged does not bubble).
        self.report_failed_worker(event.worker)

    def report_failed_worker(self, worker: Worker[object]) -> None:
        """Notify ``worker``'s error once, in one line (a cancelled load is no error)."""
        error = worker.error
        if error is None or isinstance(error, LoadCancelled):
            return
        what = worker.description or "Task"
        message = one_line(error)
        self.errors.append(f"{what}: {message}")
        self.notify(message, title=f"{what} failed", severity="error", timeout=8)

    def action_show_keys(self) -> None:
        """Show every key binding, grouped by where it works."""
        if isinstance(self.screen, HelpScreen):
            return
        sections = [
            ("Everywhere", [*key_rows(self.BINDINGS), ("ctrl+p", "Command palette")]),
            ("Main screen", key_rows(GraphScreen.BINDINGS)),
            ("Tree", key_rows(DerivationTree.BINDINGS) + tree_extra_rows()),
            ("List of downloads (f)", key_rows(FodList.BINDINGS)),
            ("Search (/)", [("enter", "Keep the match"), *key_rows(SearchBar.BINDINGS)]),
            ("Diff", key_rows(DiffView.BINDINGS)),
            ("Rewrite dialog (r)", key_rows(RewriteScreen.BINDINGS)),
            ("Batch (R, B)", key_rows(BatchScreen.BINDINGS)),
            ("Rewrite all? (R)", key_rows(ConfirmScreen.BINDINGS)),
            ("New location (m)", [("enter", "Use it"), *key_rows(MoveUpstreamScreen.BINDINGS)]),
        ]
        self.push_screen(HelpScreen(sections))
