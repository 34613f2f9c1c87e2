"""The readable record of one derivation (and its fetch spec for a FOD)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

__all__ = ["DerivationView"]


class DerivationView(VerticalScroll):
    """Shows a derivation as text the screen prepares (``show_text``) or an error."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"drv-view--error"}
    """
    | Class | Description |
    | :- | :- |
    | `drv-view--error` | Why a node cannot be shown (missing or malformed ``.drv``). |
    """

    DEFAULT_CSS = """
    DerivationView {
        background: $surface;
        & > .drv-view--error { color: $text-error; text-style: bold; }
        #drv-view-body { padding: 0 1; width: 1fr; }
    }
    """

    def compose(self) -> ComposeResult:
        yield Static("", id="drv-view-body")

    @property
    def body(self) -> Static:
        """The text widget."""
        return self.query_one("#drv-view-body", Static)

    def show_text(self, text: Text | str) -> None:
        """Show a rendered record (a ``str`` is shown as is, never as markup)."""
        self.body.update(Text(text) if isinstance(text, str) else text)
        self.scroll_home(animate=False)

    def show_error(self, path: str, error: str) -> None:
        """Show why ``path`` cannot be displayed, inline."""
        text = Text()
        text.append(f"{path}\n\n", style="bold")
        text.append(error, style=self.get_component_rich_style("drv-view--error", partial=True))
        self.body.update(text)
        self.scroll_home(animate=False)

    @property
    def plain(self) -> str:
        """The text shown (for tests)."""
        content = self.body.render()
        return str(content)
