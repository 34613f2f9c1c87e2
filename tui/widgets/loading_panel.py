"""Where the app says what it is loading, how far it is, and why loading failed.

While a closure is read (or the demo generated, on the first run) the panel
shows the step and a progress bar with real counts. If loading fails, for
any reason, the panel keeps the error on screen with what to do next until
the user acts (``r`` tries again, ``q`` quits): a notification that fades
away would leave an empty screen that looks like a hang.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Label, ProgressBar, Static

from revive.core.closure import LoadProgress
from revive.core.demo.generate import GenerateProgress, default_demo_dir
from revive.core.errors import ParseError, StoreError
from revive.tui.session import LoadPlan, generating_text, one_line

__all__ = ["LoadingPanel", "RetryLoading", "next_step"]


@dataclass
class RetryLoading(Message):
    """The user asked to try loading again (after a failure)."""


def next_step(plan: LoadPlan, error: BaseException) -> str:
    """What the user can do about ``error`` while opening ``plan`` (one or two sentences)."""
    again = "then press r to try again, or q to quit."
    if plan.demo:
        where = plan.demo_dir or default_demo_dir()
        return (
            f"The demo environment could not be generated or opened in {where}. "
            f"Fix the cause above (a version-control program that failed, a full or "
            f"read-only disk, a directory that is not a demo), {again}"
        )
    if isinstance(error, ParseError):
        return f"A .drv file of the closure cannot be read: fix or replace it, {again}"
    if isinstance(error, StoreError):
        return (
            "Check the root .drv paths and the store directory "
            f"(guix-revive ROOT.drv… --store DIR), {again}"
        )
    return f"Fix the cause above, {again}"


class LoadingPanel(Vertical):
    """The loading step, its progress, and a failure that stays until acted on."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "retry", "Try again", tooltip="Load again (after fixing the cause)"),
    ]
    """
    | Key(s) | Description |
    | :- | :- |
    | r | After a failure: load again. |
    """

    DEFAULT_CSS = """
    LoadingPanel {
        /* The whole width, so that a long step wraps instead of being cut. */
        & > #loading-label { color: $text-muted; width: 100%; }
        & > #loading-error { display: none; color: $text-error; text-style: bold; }
        & > #loading-next { display: none; margin-top: 1; }
        &.-failed > #loading-error { display: block; }
        &.-failed > #loading-next { display: block; }
        &.-failed > #loading-progress { display: none; }
        &.-failed > #loading-label { display: none; }
    }
    """

    failed: reactive[str | None] = reactive(None, init=False)
    """The error loading stopped with (one line), or ``None`` while it goes on."""

    def compose(self) -> ComposeResult:
        yield Label("Reading the roots…", id="loading-label")
        yield ProgressBar(total=None, show_eta=False, id="loading-progress")
        yield Static("", id="loading-error")
        yield Static("", id="loading-next")

    # --- progress ----------------------------------------------------------------------

    def show_step(self, text: str) -> None:
        """A new slow step started (its progress is not known)."""
        self.query_one("#loading-label", Label).update(text)

    def show_generating(self, progress: GenerateProgress) -> None:
        """The demo is being generated: steps done of all."""
        self.query_one("#loading-label", Label).update(generating_text(progress))
        bar = self.query_one(ProgressBar)
        bar.update(total=progress.total, progress=progress.done)

    def show_reading(self, progress: LoadProgress) -> None:
        """The closure is being read: derivations read of those known so far."""
        bar = self.query_one(ProgressBar)
        bar.update(total=max(1, progress.discovered), progress=progress.done)
        self.query_one("#loading-label", Label).update(
            f"Reading the closure: {progress.done:,} of {progress.discovered:,} "
            "derivations known so far"
        )

    # --- failure ---------------------------------------------------------------------

    def show_failure(self, error: BaseException, advice: str) -> None:
        """Loading stopped with ``error``: show it and ``advice``, and take the keys."""
        self.failed = one_line(error)
        message = Text("✘ Loading failed: ")
        message.append(str(error).strip() or type(error).__name__)
        self.query_one("#loading-error", Static).update(message)
        self.query_one("#loading-next", Static).update(Text(advice))
        self.add_class("-failed")
        self.can_focus = True
        self.focus()

    def action_retry(self) -> None:
        """Try loading again (only after a failure)."""
        if self.failed is None:
            return
        self.failed = None
        self.remove_class("-failed")
        self.can_focus = False
        self.query_one(ProgressBar).update(total=None, progress=0)
        self.show_step("Trying again…")
        self.post_message(RetryLoading())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``r`` is only offered after a failure."""
        if action == "retry":
            return self.failed is not None
        return True
