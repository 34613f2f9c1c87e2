"""The readable record of one derivation, with how it fetches for a FOD."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, ClassVar

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from revive.core.derivation import Derivation

if TYPE_CHECKING:
    from revive.tui.session import DerivationRecord

__all__ = ["DerivationView", "LIST_LIMIT", "VALUE_LINES"]

_STORE_PATH = re.compile(r"(/[^\s]*?/[0-9a-df-np-sv-z]{32}-)(.*)", re.DOTALL)
"""A store path: directory and hash (dimmed), then the name and anything after."""

LIST_LIMIT = 200
"""Entries shown per list (a profile has thousands of inputs; the tree lists them all)."""

VALUE_LINES = 12
"""Lines shown of a multi-line value (build phases run to hundreds)."""


class DerivationView(VerticalScroll):
    """A derivation: its fetch method, era and parameters, then every field of the ``.drv``.

    Store paths show their hash dimmed so the names stand out; long lists
    and long values are cut with a note saying how much is left out.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "drv-view--title",
        "drv-view--field",
        "drv-view--key",
        "drv-view--dim",
        "drv-view--fetch",
        "drv-view--error",
    }
    """
    | Class | Description |
    | :- | :- |
    | `drv-view--title` | The derivation's name. |
    | `drv-view--field` | Field names (outputs, inputs, environment…). |
    | `drv-view--key` | Environment variable names and fetch parameters. |
    | `drv-view--dim` | Store path hashes, output names, notes. |
    | `drv-view--fetch` | The fetch method and era of a FOD. |
    | `drv-view--error` | Why a node cannot be shown (missing or malformed ``.drv``). |
    """

    DEFAULT_CSS = """
    DerivationView {
        background: $surface;
        & > .drv-view--title { text-style: bold; color: $text-primary; }
        & > .drv-view--field { text-style: bold; color: $text-secondary; }
        & > .drv-view--key { color: $text-accent; }
        & > .drv-view--dim { color: $text-muted; }
        & > .drv-view--fetch { text-style: bold; color: $text-warning; }
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

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"drv-view--{name}", partial=True)

    def show_record(self, record: DerivationRecord) -> None:
        """Show ``record``."""
        self.body.update(self.render_record(record))
        self.scroll_home(animate=False)

    def show_text(self, text: Text | str) -> None:
        """Show some text as is (a ``str`` is never read as markup)."""
        self.body.update(Text(text) if isinstance(text, str) else text)
        self.scroll_home(animate=False)

    def show_error(self, path: str, error: str) -> None:
        """Show why ``path`` cannot be displayed, inline."""
        text = Text()
        text.append(Derivation.name_from_path(path), self._style("title"))
        text.append("\n")
        self._path(text, path)
        text.append("\n\n")
        text.append(error, self._style("error"))
        self.body.update(text)
        self.scroll_home(animate=False)

    @property
    def plain(self) -> str:
        """The text shown (for tests)."""
        return str(self.body.render())

    # --- rendering -------------------------------------------------------------------

    def render_record(self, record: DerivationRecord) -> Text:
        """The styled text of ``record``."""
        text = Text(overflow="fold")
        text.append(Derivation.name_from_path(record.path), self._style("title"))
        text.append("\n")
        self._path(text, record.path)
        text.append("\n")
        found = record.classification
        if found is not None:
            text.append("\n")
            if found.is_fod:
                text.append(f"{found.label}", self._style("fetch"))
                if found.era:
                    text.append(f"  {found.era}", self._style("fetch"))
                text.append("\n")
                if found.era_description:
                    text.append(f"{found.era_description}\n", self._style("dim"))
            else:
                text.append(f"{found.label}\n", self._style("field"))
            if found.wraps:
                text.append("wraps ", self._style("dim"))
                self._path(text, found.wraps)
                text.append("\n")
        if record.spec:
            for key, value in record.spec:
                text.append(f"  {key}: ", self._style("key"))
                text.append(f"{value}\n")
        if record.spec_error:
            text.append("  parameters: ", self._style("key"))
            text.append(f"{record.spec_error}\n", self._style("error"))
        for field in record.fields:
            if field.name == "name":
                continue
            text.append("\n")
            text.append(field.name, self._style("field"))
            if field.value is not None:
                text.append(f"  {field.value}\n")
                continue
            total = record.counts.get(field.name, len(field.entries))
            text.append(f"  ({total:,})\n" if total > 3 else "\n")
            for entry in field.entries[:LIST_LIMIT]:
                text.append("  ")
                if entry.value is not None:
                    text.append(entry.text, self._style("key"))
                    text.append(" = ", self._style("dim"))
                    self._value(text, entry.value)
                else:
                    self._path(text, entry.text)
                    if entry.note:
                        text.append(f" {entry.note}", self._style("dim"))
                text.append("\n")
            shown = min(len(field.entries), LIST_LIMIT)
            if total > shown:
                text.append(f"  … and {total - shown:,} more\n", self._style("dim"))
        text.rstrip()
        return text

    def _path(self, text: Text, value: str) -> None:
        """A store path with its directory and hash dimmed (anything else as is)."""
        match = _STORE_PATH.match(value)
        if match is None:
            text.append(value)
            return
        text.append(match.group(1), self._style("dim"))
        text.append(match.group(2))

    def _value(self, text: Text, value: str) -> None:
        lines = value.split("\n")
        if len(lines) > VALUE_LINES:
            text.append("\n    ".join(lines[:VALUE_LINES]))
            text.append(f"\n    … {len(lines) - VALUE_LINES:,} more lines", self._style("dim"))
        elif len(lines) > 1:
            text.append("\n    ".join(lines))
        elif value.startswith("/") and " " not in value:
            self._path(text, value)
        else:
            text.append(value)
