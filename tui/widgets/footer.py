"""The footer: the keys that work here, with ``?`` and ``q`` first so no width hides them."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey  # not re-exported; textual is pinned

__all__ = ["ReviveFooter", "ESSENTIAL_ACTIONS"]

ESSENTIAL_ACTIONS: frozenset[str] = frozenset({"show_keys", "quit"})
"""Actions whose keys always show: from ``?`` a user finds every other key."""


class ReviveFooter(Footer):
    """Textual's footer with the essential keys moved to the front.

    The footer lists the focused widget's keys first and the app's last, so
    on an 80-column terminal the app's ``?`` and ``q`` fell off the right end.
    """

    def compose(self) -> ComposeResult:
        keys = list(super().compose())
        first = [k for k in keys if isinstance(k, FooterKey) and k.action in ESSENTIAL_ACTIONS]
        yield from first
        yield from (k for k in keys if not any(k is f for f in first))
