"""Every key of the app, grouped by where it works (``?``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

__all__ = ["KEYS_WIDTH", "HelpScreen", "key_rows"]

KEYS_WIDTH = 26
"""Cells of the keys column (keys longer than that would be cut with ``…``)."""

_KEY_NAMES = {
    "slash": "/",
    "question_mark": "?",
    "bracketright": "]",
    "bracketleft": "[",
    "escape": "esc",
    "shift+tab": "shift+tab",
}

_EXTRA_TREE_KEYS: tuple[tuple[str, str], ...] = (
    ("enter / space", "Expand or collapse; on a ↑ reference, jump to the first occurrence"),
    ("shift+left / shift+right", "Parent / next ancestor"),
    # Two rows: together the keys are wider than their column and were cut.
    ("home / end", "Top / bottom"),
    ("pageup / pagedown", "Page up / down"),
)


def _key_text(keys: str) -> str:
    return " / ".join(_KEY_NAMES.get(k.strip(), k.strip()) for k in keys.split(","))


def key_rows(bindings: Iterable[BindingType]) -> list[tuple[str, str]]:
    """``(keys, description)`` for each binding (tooltip when there is one).

    A key bound twice is listed once, with its first binding: the second is a
    stand-in shown greyed out where the first does not apply (``b`` on a package).
    """
    rows: list[tuple[str, str]] = []
    seen: set[str] = set()
    for binding in bindings:
        if not isinstance(binding, Binding):
            binding = Binding(*binding)
        if binding.system or binding.key in seen:
            continue
        seen.add(binding.key)
        description = binding.tooltip or binding.description or binding.action
        rows.append((_key_text(binding.key), description))
    return rows


class HelpScreen(ModalScreen[None]):
    """A table of every key, by context (global, screen, tree, list, search, diff)."""

    CSS_PATH = "help.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
    ]
    """
    | Key(s) | Description |
    | :- | :- |
    | escape, q, ? | Close. |
    """

    def __init__(self, sections: Sequence[tuple[str, list[tuple[str, str]]]]) -> None:
        super().__init__()
        self.sections = sections
        """``(title, [(keys, description)…])`` in display order."""

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog"):
            yield Label("Keys", id="help-title")
            with VerticalScroll(id="help-body"):
                for title, rows in self.sections:
                    yield Static(self._table(title, rows), classes="help-section")
            yield Label("escape to close · ctrl+p: every command", id="help-footer")

    @staticmethod
    def _table(title: str, rows: list[tuple[str, str]]) -> Table:
        table = Table(title=title, title_justify="left", show_header=False, expand=True, box=None)
        table.add_column("keys", style="bold", width=KEYS_WIDTH, no_wrap=True)
        table.add_column("what", ratio=1)
        for keys, description in rows:
            table.add_row(Text(keys), Text(description))
        return table


def tree_extra_rows() -> list[tuple[str, str]]:
    """Keys the tree inherits from Textual's ``Tree``."""
    return list(_EXTRA_TREE_KEYS)
