"""Ask before a batch that writes (rewrite all): what happens, how many, where."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label

__all__ = ["ConfirmScreen"]


class ConfirmScreen(ModalScreen[bool]):
    """A question, what answering yes does (one line each), and two buttons.

    Dismisses with ``True`` when the user confirms.
    """

    CSS_PATH = "confirm.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "confirm", "Confirm", priority=True),
        Binding("escape", "cancel", "Cancel"),
    ]
    """
    | Key(s) | Description |
    | :- | :- |
    | enter | Go ahead. |
    | escape | Close without doing anything. |
    """

    def __init__(self, question: str, lines: Sequence[str], confirm: str) -> None:
        super().__init__()
        self.question = question
        """The title."""
        self.lines = tuple(lines)
        """What happens on confirming, one line each."""
        self.confirm_label = confirm
        """The confirm button's word (``Rewrite all``)."""

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog"):
            yield Label(Text(self.question), id="confirm-title")
            for line in self.lines:
                yield Label(Text(line), classes="confirm-line")
            with Horizontal(id="confirm-buttons"):
                yield Button(f"{self.confirm_label} (enter)", variant="primary", id="confirm-yes")
                yield Button("Cancel (escape)", id="confirm-no")

    @property
    def text(self) -> str:
        """The question and its lines as plain text (for tests)."""
        return "\n".join((self.question, *self.lines))

    @on(Button.Pressed, "#confirm-yes")
    def action_confirm(self) -> None:
        """Go ahead."""
        self.dismiss(True)

    @on(Button.Pressed, "#confirm-no")
    def action_cancel(self) -> None:
        """Close without doing anything."""
        self.dismiss(False)
