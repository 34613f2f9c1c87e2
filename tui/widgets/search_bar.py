"""Incremental search across the whole closure."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label

from revive.tui.messages import SearchChanged, SearchClosed, SearchStep

__all__ = ["SearchBar"]


class SearchBar(Vertical):
    """A search field: every key searches names, URLs, hashes and store paths.

    The screen answers each :class:`SearchChanged` and moves the tree cursor
    to the first match; ``down``/``up`` step through the matches.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close(False)", "Cancel", tooltip="Close the search, go back"),
        Binding("down,tab", "step(False)", "Next match", priority=True),
        Binding("up,shift+tab", "step(True)", "Previous match", priority=True),
    ]
    """
    | Key(s) | Description |
    | :- | :- |
    | enter | Keep the current match and close the search. |
    | escape | Close the search and go back to where the cursor was. |
    | down, tab / up, shift+tab | Next / previous match. |
    """

    DEFAULT_CSS = """
    SearchBar {
        height: 2;
        display: none;
        &.-open { display: block; }
        Horizontal { height: 1; }
        Label { width: auto; padding: 0 1; color: $text-muted; }
        #search-prompt { color: $text-accent; text-style: bold; padding: 0 0 0 1; }
        #search-detail { width: 1fr; height: 1; text-overflow: ellipsis; text-wrap: nowrap; }
        #search-input {
            width: 1fr;
            height: 1;
            border: none;
            padding: 0;
            background: $boost;
            &:focus { border: none; }
        }
    }
    """

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label("/", id="search-prompt")
            yield Input(placeholder="name, URL, hash or store path", id="search-input")
            yield Label("", id="search-count")
        yield Label("", id="search-detail")

    def on_mount(self) -> None:
        # With animations off (tests, screenshots, slow links) the cursor
        # does not blink either: every frame is the same.
        self.input.cursor_blink = self.app.animation_level != "none"

    @property
    def input(self) -> Input:
        """The text field."""
        return self.query_one(Input)

    def open(self) -> None:
        """Show the bar and focus the field."""
        self.add_class("-open")
        self.input.value = ""
        self.set_count(0, 0)
        self.input.focus()

    def close(self) -> None:
        """Hide the bar."""
        self.remove_class("-open")

    def set_count(self, current: int, total: int, detail: str = "", more: bool = False) -> None:
        """Show ``current/total`` matches (``total+`` if ``more``) and, below, what matched."""
        label = self.query_one("#search-count", Label)
        if total == 0:
            label.update(Text("no match" if self.input.value.strip() else ""))
        else:
            label.update(Text(f"{current}/{total}{'+' if more else ''}"))
        self.query_one("#search-detail", Label).update(Text(detail if total else ""))

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(SearchChanged(event.value))

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(SearchClosed(accepted=True))

    def action_close(self, accepted: bool) -> None:
        """Close the search."""
        self.post_message(SearchClosed(accepted=accepted))

    def action_step(self, backwards: bool) -> None:
        """Move to the next or previous match."""
        self.post_message(SearchStep(backwards=backwards))
