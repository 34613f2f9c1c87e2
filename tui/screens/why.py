"""Why is this node here: the dependency paths from the roots down to it."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from revive.core.derivation import Derivation

__all__ = ["WhyScreen"]


class WhyScreen(ModalScreen[None]):
    """The shortest dependency paths from the roots to one node."""

    CSS_PATH = "why.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,w", "dismiss", "Close"),
    ]
    """
    | Key(s) | Description |
    | :- | :- |
    | escape, q, w | Close. |
    """

    def __init__(self, path: str, chains: tuple[tuple[str, ...], ...]) -> None:
        super().__init__()
        self.path = path
        """The node asked about."""
        self.chains = chains
        """Each shortest path, root first."""

    def compose(self) -> ComposeResult:
        name = Derivation.name_from_path(self.path)
        with Vertical(id="why-dialog"):
            count = len(self.chains)
            if count == 0:
                title = f"{name} is a root: nothing else pulled it in."
            else:
                title = f"Why is {name} here? {count} shortest path{'s' if count != 1 else ''}:"
            yield Label(Text(title), id="why-title")
            yield OptionList(*self._options(), id="why-paths")
            yield Label("escape to close", id="why-help")

    def _options(self) -> list[Option]:
        options = []
        for number, chain in enumerate(self.chains, 1):
            text = Text(f"{number:>2}. ", style="dim")
            for step, path in enumerate(chain):
                if step:
                    text.append(" → ", style="dim")
                last = step == len(chain) - 1
                text.append(Derivation.name_from_path(path), style="bold" if last else "")
            options.append(Option(text))
        return options
