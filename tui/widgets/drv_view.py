"""The readable record of one derivation, with how it fetches for a FOD."""

from __future__ import annotations

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

LIST_LIMIT = 200
"""Entries shown per list (a profile has thousands of inputs; the tree lists them all)."""

VALUE_LINES = 12
"""Lines shown of a multi-line value (build phases run to hundreds)."""


class DerivationView(VerticalScroll):
    """A derivation: its fetch method, era and parameters, then every field of the ``.drv``.

    Labels end with ``": "`` as in ``guix-revive show``; long lists and long
    values are cut with a note saying how much is left out.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "drv-view--title",
        "drv-view--field",
        "drv-view--key",
        "drv-view--dim",
        "drv-view--fetch",
        "drv-view--error",
        "drv-view--value",
    }
    """
    | Class | Description |
    | :- | :- |
    | `drv-view--title` | The derivation's name. |
    | `drv-view--field` | Field names (outputs, inputs, environment…). |
    | `drv-view--key` | Environment variable names and fetch parameters. |
    | `drv-view--dim` | Output names, era descriptions, notes. |
    | `drv-view--fetch` | The fetch method and era of a FOD. |
    | `drv-view--error` | Why a node cannot be shown (missing or malformed ``.drv``). |
    | `drv-view--value` | Values and store paths (one span each, indentation apart). |
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
        & > .drv-view--value { color: $text; }
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
        """The styled text of ``record``, in the layout of ``guix-revive show``.

        Every value follows its label and ``": "`` (``hash: 1nqx…``,
        ``hash algo: sha256``); list fields put one entry per line under
        their label. Separators always end the styled label they follow, and
        a store path is drawn in one style, so that a wrapped line or an SVG
        screenshot never shows a label glued to its value or a space inside
        a path.
        """
        text = Text(overflow="fold")
        text.append(Derivation.name_from_path(record.path), self._style("title"))
        text.append("\n")
        self._path(text, record.path)
        text.append("\n")
        found = record.classification
        if found is not None:
            text.append("\n")
            if found.is_fod:
                self._label(text, "fetch")
                text.append(found.label, self._style("fetch"))
                text.append("\n")
                if found.era:
                    self._label(text, "era")
                    text.append(found.era, self._style("fetch"))
                    if found.era_description:
                        text.append(" ")
                        text.append(f"({found.era_description})", self._style("dim"))
                    text.append("\n")
            else:
                self._label(text, "kind")
                text.append(f"{found.label}\n")
            if found.wraps:
                self._label(text, "wraps")
                self._path(text, found.wraps)
                text.append("\n")
        for key, value in record.spec:
            if key == "fetch" and found is not None and found.is_fod:
                continue  # already said, with the era
            self._label(text, key)
            self._value(text, value)
            text.append("\n")
        if record.spec_error:
            self._label(text, "parameters")
            text.append(f"{record.spec_error}\n", self._style("error"))
        text.append("\n")
        for field in record.fields:
            if field.name == "name":
                continue
            label = field.name.replace("_", " ")
            if field.value is not None:
                self._label(text, label, "field")
                self._value(text, field.value)
                text.append("\n")
                continue
            total = record.counts.get(field.name, len(field.entries))
            text.append(f"{label}:", self._style("field"))
            if not field.entries:
                text.append(" ")
                text.append("none\n", self._style("dim"))
                continue
            if total > 3:
                text.append(" ")
                text.append(f"({total:,})", self._style("dim"))
            text.append("\n")
            for entry in field.entries[:LIST_LIMIT]:
                text.append("  ")
                if entry.value is not None:
                    self._label(text, entry.text)
                    self._value(text, entry.value)
                else:
                    self._value(text, entry.text)
                    if entry.note:
                        text.append("  ")
                        text.append(entry.note, self._style("dim"))
                text.append("\n")
            shown = min(len(field.entries), LIST_LIMIT)
            if total > shown:
                text.append(f"  … and {total - shown:,} more\n", self._style("dim"))
        text.rstrip()
        return text

    def _label(self, text: Text, name: str, style: str = "key") -> None:
        """``name: `` in ``style``, the separator inside the label's span."""
        text.append(f"{name}: ", self._style(style))

    def _path(self, text: Text, value: str) -> None:
        """A store path (or any value), in one span: folded, never split by a space."""
        text.append(value, self._style("value"))

    def _value(self, text: Text, value: str) -> None:
        """``value``, its further lines indented (the indentation in a span of its own)."""
        lines = value.split("\n")
        for number, line in enumerate(lines[:VALUE_LINES]):
            if number:
                text.append("\n    ")
            self._path(text, line)
        if len(lines) > VALUE_LINES:
            text.append("\n    ")
            text.append(f"… {len(lines) - VALUE_LINES:,} more lines", self._style("dim"))
