"""Everything in the command palette (ctrl+p): actions, and "go to" any node by name."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from revive.core.derivation import Derivation

__all__ = ["ReviveCommands", "COMMANDS"]

COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("Search the closure", "Names, URLs, hashes and store paths (/)", "search"),
    ("Toggle the list of downloads", "Flat list of every fixed-output node (f)", "toggle_fod_only"),
    (
        "Rewrite all downloads",
        "Rewrite every FOD into today's form and write it (R)",
        "rewrite_all",
    ),
    ("Fetch all downloads", "Fetch every FOD not in the store yet (B)", "fetch_all"),
    ("Toggle unified diff", "Side by side or one column (u)", "toggle_unified"),
    ("Zoom the details", "Hide the tree so the details use the whole width (z)", "toggle_zoom"),
    ("Show every key", "All key bindings (?)", "app.show_keys"),
    # Archival checks (issue 11): screens/archival_actions.py.
    ("Check archival status", "Where this download is archived (a)", "check_archival"),
    (
        "Check archival status of all downloads",
        "Every download of the closure (A)",
        "check_archival_all",
    ),
    ("Cancel the archival check", "Stop the check in progress (X)", "cancel_archival"),
)
"""``(title, help, action)``: screen actions, or app actions with an ``app.`` prefix."""


class ReviveCommands(Provider):
    """The app's actions, and one "Go to" hit per node matching the query."""

    def _run(self, action: str) -> Callable[[], object]:
        return partial(self.screen.run_action, action)

    async def discover(self) -> Hits:
        for title, help_text, action in COMMANDS:
            yield DiscoveryHit(title, self._run(action), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, action in COMMANDS:
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), self._run(action), help=help_text)
        session = getattr(self.screen, "session", None)
        index = getattr(session, "search_index", None)
        if index is None or len(query.strip()) < 2:
            return
        for match in index.search(query, limit=20):
            name = Derivation.name_from_path(match.path)
            title = f"Go to {name}"
            yield Hit(
                0.5,
                title,
                partial(self.screen.run_action, f"reveal({match.path!r})"),
                help=f"{match.field.kind}: {match.field.text}",
            )
