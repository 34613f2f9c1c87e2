"""What the app's Pilot tests share: the terminal size, waiting for the app
to settle, the main screen once loaded, the notifications shown."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from textual.app import App
from textual.pilot import Pilot

from revive.tui.app import ReviveApp
from revive.tui.screens.graph import GraphScreen
from revive.tui.widgets.drv_tree import DerivationTree

SIZE = (120, 36)
"""Terminal size of every app test (that of the screenshots)."""


async def settled(app: App[object], pilot: Pilot[object]) -> None:
    """Wait until the app's workers are done and the screen is drawn."""
    await app.workers.wait_for_complete()
    await pilot.pause()


async def opened(app: ReviveApp, pilot: Pilot[object]) -> GraphScreen:
    """The main screen once loading and indexing are over."""
    await settled(app, pilot)
    screen = app.screen
    assert isinstance(screen, GraphScreen) and screen.session is not None
    return screen


@asynccontextmanager
async def running(
    app: ReviveApp, reveal: str | None = None
) -> AsyncIterator[tuple[Pilot[object], GraphScreen]]:
    """Run ``app`` at :data:`SIZE`; give its pilot and the main screen once loaded,
    with the cursor on the derivation ``reveal`` when one is named."""
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(app, pilot)
        if reveal is not None:
            screen.action_reveal(reveal)
        yield pilot, screen


def notes(app: App[object]) -> list[str]:
    """The messages of the notifications shown so far."""
    return [str(n.message) for n in app._notifications]  # noqa: SLF001 - no public accessor


def label_of(tree: DerivationTree) -> str:
    """The plain label of the line under the tree's cursor."""
    node = tree.cursor_node
    assert node is not None and node.data is not None
    return tree.label_text(node.data).plain
