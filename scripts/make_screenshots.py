"""Regenerate ``screenshots/*.svg`` from the demo environment, at 120×36 (and smaller).

Usage: ``.venv/bin/python scripts/make_screenshots.py [--out screenshots]``

Each scene opens the app on a freshly generated demo (in a temporary
directory, with an empty store of its own), drives it with keys as a user
would, waits for every worker, and saves the screen. Nothing on screen
depends on the time, the machine or the temporary paths: the demo is the
same bytes every time, the log shows the URLs the derivations name (not
the loopback addresses serving them), and the Internet Archive fallback is
left out because its URL carries today's date. A run with no UI change
therefore rewrites byte-identical files.

The scenes are shared with ``tests/tui/test_snapshots.py`` (which loads
this file by path): a snapshot failing there means the screenshots here
need regenerating.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from textual.pilot import Pilot

from revive.core.builders.options import ALL_METHODS, DownloadMethod, FetchOptions
from revive.core.demo.generate import generate_demo
from revive.core.demo.model import DemoEnvironment
from revive.tui.app import ReviveApp
from revive.tui.screens.graph import GraphScreen
from revive.tui.session import LoadPlan

SIZE = (120, 36)
"""Terminal size of every screenshot."""

FIXED_STORE_ROOT = Path(tempfile.gettempdir()) / "guix-revive-screenshots-store"
"""The store of the scenes that show its directory (they only read it)."""

GONE_PACKAGE = "upstream-gone"
"""The demo's special node whose download fails (the story's subject)."""


Steps = Callable[[Pilot[None], DemoEnvironment], Awaitable[None]]
"""What a scene does before its picture is taken."""


@dataclass(frozen=True)
class Scene:
    """One screenshot: what it shows, whether the demo's servers run, the keys to press."""

    title: str
    """What must be visible (also the snapshot test's docstring)."""
    serve: bool
    """Start the demo's loopback servers (``--demo-serve``)."""
    steps: Steps
    """What the user does before the picture is taken."""
    size: tuple[int, int] = SIZE
    """Terminal size (columns, lines)."""
    fixed_store: bool = False
    """Use :data:`FIXED_STORE_ROOT` as the store (the scene shows the store's directory,
    which must not be a random temporary one); the scene must not write to it."""


async def settle(pilot: Pilot[None]) -> None:
    """Wait until every worker has ended and the screen is repainted."""
    app = pilot.app
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


def graph_screen(pilot: Pilot[None]) -> GraphScreen:
    """The app's main screen."""
    for screen in pilot.app.screen_stack:
        if isinstance(screen, GraphScreen):
            return screen
    raise LookupError("no graph screen")


async def goto_failing_download(pilot: Pilot[None], env: DemoEnvironment) -> None:
    """Put the tree's cursor on the download whose upstream is gone."""
    graph_screen(pilot).action_reveal(env.special_of(GONE_PACKAGE).drv_path)
    await settle(pilot)


def presses(*batches: tuple[str, ...], on_failing: bool = False) -> Steps:
    """Steps pressing each batch of keys in turn, letting the app settle after each.

    With ``on_failing``, the cursor is first put on the failing download.
    """

    async def steps(pilot: Pilot[None], env: DemoEnvironment) -> None:
        await settle(pilot)
        if on_failing:
            await goto_failing_download(pilot, env)
        for keys in batches:
            await pilot.press(*keys)
            await settle(pilot)

    return steps


_tree = presses(on_failing=True)
_tree_fetched = presses(("B",), ("escape", "e"))
_diff = presses(("2", "z"), on_failing=True)
_rewrite_dialog = presses(("r",), on_failing=True)
_failing_log = presses(("b",), on_failing=True)
_fod_list = presses(("f", "s"))
_fod_list_fetched = presses(("B",), ("escape", "f", "s", "s"))
# The Referrers tab: the Derivation tab would show each answer's time, which
# differs from run to run.
_archives = presses(("A",), ("escape", "f", "s", "4"))
_search = presses(("slash", *"bioconductor"))
_diff_narrow = presses(("2",), on_failing=True)
_rewrite_all = presses(("R",))


async def _move_upstream(pilot: Pilot[None], env: DemoEnvironment) -> None:
    await settle(pilot)
    graph_screen(pilot).action_reveal(env.special_of("repository-moved").drv_path)
    await settle(pilot)
    await pilot.press("2", "z")
    await settle(pilot)
    await pilot.press("m")
    await settle(pilot)


async def _palette(pilot: Pilot[None], env: DemoEnvironment) -> None:
    await settle(pilot)
    await pilot.press("ctrl+p")
    await settle(pilot)
    await pilot.pause(0.5)  # the palette gathers its commands in a worker of its own


_keys = presses(("question_mark",))


SCENES: dict[str, Scene] = {
    "tree": Scene(
        "The demo's tree: the 2020 profile, its packages, the failing download highlighted "
        "with its fetch badge; its record on the right.",
        False,
        _tree,
    ),
    "tree-fetched": Scene(
        "After 'fetch all' with the demo's servers: every download valid (✔) but the one "
        "whose upstream is gone (✘), cursor on it (e).",
        True,
        _tree_fetched,
    ),
    "diff": Scene(
        "Diff tab, zoomed: the 2020 derivation against its rewritten form side by side, "
        "changed words highlighted, 'equivalent: same output'.",
        False,
        _diff,
    ),
    "rewrite-dialog": Scene(
        "r on the failing download: the rewrite dialog with the diff and 'Write to store'.",
        False,
        _rewrite_dialog,
    ),
    "failing-log": Scene(
        "b on the failing download: its Log tab, every source tried, 'not found' at the end.",
        True,
        _failing_log,
    ),
    "fod-list": Scene(
        "f: the flat list of every download of the closure, sorted by fetch method (s).",
        False,
        _fod_list,
    ),
    "fod-list-fetched": Scene(
        "After 'fetch all': the list of downloads sorted by status, the failure first.",
        True,
        _fod_list_fetched,
    ),
    "archives": Scene(
        "A with the demo's servers: where every download is archived (upstream, "
        "content-addressed mirror, Software Heritage, Disarchive, nar), the fallback "
        "that saves each one highlighted, in the list of downloads.",
        True,
        _archives,
    ),
    "search": Scene(
        "/ bioconductor: the search bar, the match count, the cursor on the match.",
        False,
        _search,
    ),
    "keys": Scene("?: every key of the app.", False, _keys),
    "diff-unified": Scene(
        "The Diff tab beside the tree: too narrow for two columns, one column by itself "
        "(saying so), store paths as /gnu/store/…-name.",
        False,
        _diff_narrow,
    ),
    "rewrite-all": Scene(
        "R: 'Rewrite all 54 downloads?', where the .drv files go, Rewrite all / Cancel.",
        False,
        _rewrite_all,
        fixed_store=True,
    ),
    "move-upstream": Scene(
        "m on the moved git repository: where it fetches from, the new location asked "
        "(the demo's known one offered), the override explained.",
        False,
        _move_upstream,
    ),
    "palette": Scene(
        "ctrl+p: the palette lists every command with its key.",
        False,
        _palette,
    ),
    "tree-80": Scene(
        "80×24: names shortened from the middle, status and badge kept; ? and q first "
        "in the footer.",
        False,
        _tree,
        (80, 24),
    ),
    "tree-40x12": Scene(
        "40×12: one pane at a time (the tree; z shows the details).",
        False,
        _tree,
        (40, 12),
    ),
}
"""Every screenshot, by file name (without ``.svg``)."""

SCREENSHOT_FETCH_OPTIONS = FetchOptions(
    methods=tuple(m for m in ALL_METHODS if m is not DownloadMethod.INTERNET_ARCHIVE),
    retries=0,
)
"""Fetch options of the scenes: no Internet Archive (its URL carries today's date),
no retries (a 404 is final; retries only add waiting)."""


def scene_app(scene: Scene, demo_dir: Path, store_root: Path) -> ReviveApp:
    """A steady app (no animation, fixed theme) on the demo for ``scene``."""
    plan = LoadPlan(
        demo=True,
        demo_dir=demo_dir,
        demo_serve=scene.serve,
        store_root=FIXED_STORE_ROOT if scene.fixed_store else store_root,
        fetch_options=SCREENSHOT_FETCH_OPTIONS,
    )
    app = ReviveApp(plan)
    app.animation_level = "none"
    return app


def prepare(scene: Scene, env: DemoEnvironment) -> Callable[[Pilot[None]], Awaitable[None]]:
    """The steps of ``scene``, then a screen without passing notifications."""

    async def run_before(pilot: Pilot[None]) -> None:
        await scene.steps(pilot, env)
        pilot.app.clear_notifications()
        await pilot.pause()

    return run_before


async def take(name: str, env: DemoEnvironment, work: Path, out: Path) -> Path:
    """Run scene ``name`` and save ``out/<name>.svg``."""
    scene = SCENES[name]
    app = scene_app(scene, env.demo_dir, work / f"store-{name}")
    async with app.run_test(size=scene.size) as pilot:
        await prepare(scene, env)(pilot)
        return Path(app.save_screenshot(filename=f"{name}.svg", path=str(out)))


def main(argv: list[str] | None = None) -> int:
    """Write every screenshot; prints the files written."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent.parent / "screenshots")
    parser.add_argument("scenes", nargs="*", help=f"only these scenes ({', '.join(SCENES)})")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.scenes) - set(SCENES))
    if unknown:
        parser.error(f"unknown scene(s): {', '.join(unknown)}")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="guix-revive-screenshots-") as temp:
        work = Path(temp)
        env = generate_demo(work / "demo")
        for name in args.scenes or SCENES:
            path = asyncio.run(take(name, env, work, args.out))
            print(path, file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
