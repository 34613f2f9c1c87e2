"""The upstream moved: ask where a download lives now (a per-run URL override)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, Select

from revive.core.derivation import Derivation

__all__ = ["MoveUpstreamScreen"]


class MoveUpstreamScreen(ModalScreen[tuple[str, str] | None]):
    """Pick the location that moved (when there are several) and type the new one.

    Dismisses with ``(old, new)``, or ``None`` when cancelled. The rule lasts
    for this run; ``--url-map FILE`` gives the same rules from the start.
    """

    CSS_PATH = "move_upstream.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
    ]
    """
    | Key(s) | Description |
    | :- | :- |
    | enter | Use the new location. |
    | escape | Close without changing anything. |
    """

    def __init__(self, path: str, locations: Sequence[str], suggestion: str = "") -> None:
        super().__init__()
        self.path = path
        """The download whose upstream moved."""
        self.locations = tuple(dict.fromkeys(locations))
        """Where it fetches from as written (URLs, repository, CVS root)."""
        self.suggestion = suggestion
        """A known new location (the demo knows where its moved repository went)."""

    def compose(self) -> ComposeResult:
        name = Derivation.name_from_path(self.path)
        with Vertical(id="move-dialog"):
            yield Label(Text(f"{name}: the upstream moved?"), id="move-title")
            yield Label("It fetches from:")
            if len(self.locations) > 1:
                yield Select(
                    [(url, url) for url in self.locations],
                    value=self.locations[0],
                    allow_blank=False,
                    id="move-old",
                )
            else:
                yield Label(Text(self.locations[0] if self.locations else ""), id="move-old-url")
            yield Label("It lives now at:")
            # A known new location is filled in (and selected when focused):
            # enter takes it, typing replaces it.
            yield Input(
                value=self.suggestion,
                placeholder="https://…",
                suggester=SuggestFromList([self.suggestion]) if self.suggestion else None,
                id="move-new",
            )
            yield Label(
                Text(
                    "The rewrite then fetches from there (a user override, for this run; "
                    "--url-map FILE gives such rules from the start). The output path does "
                    "not change, so what is fetched is still checked against the old hash."
                ),
                id="move-help",
            )
            edit = "type to replace it · " if self.suggestion else ""
            yield Label(f"enter: use it · {edit}escape: cancel", id="move-keys")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @property
    def old(self) -> str:
        """The location chosen as the one that moved."""
        if len(self.locations) > 1:
            value = self.query_one("#move-old", Select).value
            return value if isinstance(value, str) else self.locations[0]
        return self.locations[0] if self.locations else ""

    @on(Input.Submitted, "#move-new")
    def _submitted(self, event: Input.Submitted) -> None:
        new = event.value.strip()
        if new:
            self.dismiss((self.old, new))

    def action_cancel(self) -> None:
        """Close without changing anything."""
        self.dismiss(None)
