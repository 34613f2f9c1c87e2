"""Who depends on the selected node."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from revive.core.derivation import Derivation
from revive.tui.messages import RevealNode

__all__ = ["ReferrersList", "REFERRERS_LIMIT"]

REFERRERS_LIMIT = 500
"""Referrers listed: glibc is used by thousands of nodes of a big closure."""


class ReferrersList(OptionList):
    """The nodes of the closure that use the selected one; ``enter`` shows one in the tree."""

    DEFAULT_CSS = """
    ReferrersList { height: 1fr; border: none; background: $surface; }
    """

    def show_referrers(self, path: str | None, referrers: tuple[str, ...]) -> None:
        """List ``referrers`` of ``path``."""
        self.clear_options()
        if path is None:
            return
        if not referrers:
            self.add_option(
                Option("Nothing in this closure depends on it (a root).", disabled=True)
            )
            return
        self.add_options(
            Option(Text(f"{Derivation.name_from_path(ref)}  {ref}"), id=ref)
            for ref in referrers[:REFERRERS_LIMIT]
        )
        if len(referrers) > REFERRERS_LIMIT:
            more = len(referrers) - REFERRERS_LIMIT
            self.add_option(Option(Text(f"… and {more:,} more"), disabled=True))

    @on(OptionList.OptionSelected)
    def _reveal(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id is not None:
            self.post_message(RevealNode(event.option.id))
