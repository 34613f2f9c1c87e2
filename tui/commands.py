"""Everything in the command palette (ctrl+p): actions, and "go to" any node by name."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from revive.core.derivation import Derivation
from revive.tui.widgets.node_actions import NOT_A_DOWNLOAD

__all__ = ["ReviveCommands", "COMMANDS"]

COMMANDS: tuple[tuple[str, str, str, str], ...] = (
    ("Search the closure", "/", "Names, URLs, hashes and store paths", "search"),
    ("Next search match", "]", "After a search", "search_step(False)"),
    ("Previous search match", "[", "After a search", "search_step(True)"),
    ("Next failing node", "e", "The next download that failed (or why none)", "next_failing"),
    ("Previous failing node", "E", "The previous download that failed", "previous_failing"),
    ("Next download", "n", "The next fixed-output (source) node in the tree", "next_fod"),
    ("Previous download", "N", "The previous fixed-output node in the tree", "previous_fod"),
    ("Why is this node here", "w", "Every shortest dependency path from the roots", "why"),
    ("Rewrite this download", "r", "Today's form, same output; asks first", "rewrite_node"),
    ("Fetch this download", "b", "Build/fetch it (its rewritten form if written)", "build_node"),
    ("Cancel this fetch", "x", "Stop the fetch of this node", "cancel_build"),
    ("Copy the store path", "y", "The .drv path of this node", "copy_path"),
    (
        "New location of a moved upstream",
        "m",
        "Fetch this download from where it lives now (user override)",
        "move_upstream",
    ),
    ("Rewrite all downloads", "R", "Every FOD into today's form; asks first", "rewrite_all"),
    ("Fetch all downloads", "B", "Every FOD not in the store yet", "fetch_all"),
    ("Toggle the list of downloads", "f", "Every fixed-output node", "toggle_fod_only"),
    ("Derivation tab", "1", "The node's record", "show_tab('tab-derivation')"),
    ("Diff tab", "2", "Old against rewritten", "show_tab('tab-diff')"),
    ("Log tab", "3", "The node's fetch log", "show_tab('tab-log')"),
    ("Referrers tab", "4", "The nodes that use this one", "show_tab('tab-referrers')"),
    ("Toggle unified diff", "u", "Side by side or one column", "toggle_unified"),
    ("Zoom the details", "z", "Hide the tree so the details use the whole width", "toggle_zoom"),
    ("Show every key", "?", "All key bindings", "app.show_keys"),
    ("Quit", "q", "Leave guix-revive", "app.quit"),
    # Archival checks (issue 11): screens/archival_actions.py.
    ("Check archival status", "a", "Where this download is archived", "check_archival"),
    ("Check all archival status", "A", "Every download of the closure", "check_archival_all"),
    ("Cancel the archival check", "X", "Stop the check in progress", "cancel_archival"),
)
"""``(title, key, help, action)``: screen actions, or app actions with an ``app.`` prefix.
Every key of the main screen and the tree has its command here (a test checks it)."""


class ReviveCommands(Provider):
    """The app's actions, and one "Go to" hit per node matching the query."""

    def _run(self, action: str, title: str = "") -> Callable[[], object]:
        return partial(self._run_checked, action, title)

    async def _run_checked(self, action: str, title: str) -> None:
        # A key that does not apply is greyed out in the footer; from the
        # palette, say so instead of doing nothing.
        screen = self.screen
        name = action.partition("(")[0]
        if not name.startswith("app.") and not screen.check_action(name, ()):
            reason = NOT_A_DOWNLOAD if name in _DOWNLOAD_ACTIONS else "nothing to do here."
            screen.notify(f"{title}: {reason}", title="Not available here", timeout=6)
            return
        await screen.run_action(action)

    async def discover(self) -> Hits:
        for title, key, help_text, action in COMMANDS:
            yield DiscoveryHit(
                _titled(Content(title), key), self._run(action, title), text=title, help=help_text
            )

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, key, help_text, action in COMMANDS:
            score = matcher.match(title)
            if score > 0:
                shown = _titled(matcher.highlight(title), key)
                yield Hit(score, shown, self._run(action, title), text=title, help=help_text)
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


def _titled(title: Content, key: str) -> Content:
    """A command's title with its key after it, dimmed.

    The blanks go with the title's last span: a span that starts with a blank
    is drawn glued to the previous one in SVG screenshots.
    """
    return title.append("  ").append(Content.styled(f"({key})", "dim"))


_DOWNLOAD_ACTIONS = frozenset({"rewrite_node", "build_node", "move_upstream"})
"""Actions that apply to source downloads only."""
