"""Confirm a rewrite: the old derivation against its rewritten form, then write."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label

from revive.core.derivation import Derivation
from revive.tui.session import RewritePreview
from revive.tui.widgets.diff_view import DiffView

__all__ = ["RewriteScreen"]


class RewriteScreen(ModalScreen[bool]):
    """The diff old → rewritten, full width; ``enter`` writes, ``escape`` cancels.

    Dismisses with ``True`` when the user confirms the write.
    """

    CSS_PATH = "rewrite.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "confirm", "Write to store", priority=True),
        Binding("escape", "cancel", "Cancel"),
        Binding("u", "toggle_unified", "Unified diff"),
    ]
    """
    | Key(s) | Description |
    | :- | :- |
    | enter | Write the rewritten ``.drv`` into the store. |
    | escape | Close without writing. |
    | u | Side-by-side or unified diff. |
    """

    def __init__(self, preview: RewritePreview) -> None:
        super().__init__()
        self.preview = preview
        """What would be written."""

    def compose(self) -> ComposeResult:
        name = Derivation.name_from_path(self.preview.path)
        with Vertical(id="rewrite-dialog"):
            yield Label(Text(f"Rewrite {name}?"), id="rewrite-title")
            yield Label(Text(self.preview.heading()), id="rewrite-subtitle")
            yield DiffView(id="rewrite-diff")
            with Horizontal(id="rewrite-buttons"):
                yield Button(
                    "Write to store (enter)",
                    variant="primary",
                    id="rewrite-confirm",
                    disabled=self.preview.unchanged,
                )
                yield Button("Cancel (escape)", id="rewrite-cancel")

    def on_mount(self) -> None:
        diff = self.query_one(DiffView)
        diff.show_rows(self.preview.rows)
        diff.focus()

    @on(Button.Pressed, "#rewrite-confirm")
    def action_confirm(self) -> None:
        """Write the rewritten derivation."""
        if not self.preview.unchanged:
            self.dismiss(True)

    @on(Button.Pressed, "#rewrite-cancel")
    def action_cancel(self) -> None:
        """Close without writing."""
        self.dismiss(False)

    @on(DiffView.ModeChanged)
    def _mode_changed(self, event: DiffView.ModeChanged) -> None:
        heading = self.preview.heading(event.unified)
        if event.narrow:
            heading += " (One column: the terminal is narrow.)"
        self.query_one("#rewrite-subtitle", Label).update(Text(heading))

    def action_toggle_unified(self) -> None:
        """Switch between side by side and unified."""
        diff = self.query_one(DiffView)
        diff.unified = not diff.unified
