"""Benchmark: the app's key response while every download's archives are being checked.

    python bench/audit_app.py [N] [--latency 0.05] [--keep DIR]

Opens the app on the ``N``-node synthetic closure (default 50,000, 7,500
FODs; written once into ``--keep``), with the same five slow loopback
services as ``audit.py``, and times a key press (``j``, cursor down) to
the next frame of the tree, 30 times: first with nothing running (the
reference, same run), then while ``A`` (check every download's archives)
runs in its worker. Prints medians and worsts in milliseconds, and how far
the check got meanwhile.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from audit import _config, start_services  # noqa: E402
from synth import write_synthetic_closure  # noqa: E402

from revive.core.archive.targets import fod_targets  # noqa: E402
from revive.tui.app import ReviveApp  # noqa: E402
from revive.tui.archival import board_for  # noqa: E402
from revive.tui.session import LoadPlan, open_session  # noqa: E402
from revive.tui.widgets.drv_tree import DerivationTree  # noqa: E402

PRESSES = 30


async def _key_to_frame(pilot: Any, tree: DerivationTree, frames: list[tuple[float, int]]) -> float:
    """Milliseconds from pressing ``j`` to the first frame showing the cursor moved.

    (Frames drawn meanwhile for the check's own updates do not count.)
    """
    wanted = tree.cursor_line + 1
    frames.clear()
    pressed = time.perf_counter()
    await pilot.press("j")
    for _ in range(100_000):
        shown = [when for when, line in frames if line == wanted]
        if shown:
            return (shown[0] - pressed) * 1000
        await asyncio.sleep(0.001)
    raise RuntimeError("the cursor never moved on screen")


async def measure(directory: Path, root: str, latency: float) -> None:
    """Open the app, time key presses without and with the archival check running."""
    session = open_session(LoadPlan(roots=(root,), store=str(directory)))
    targets = fod_targets(session.graph, session.read_item)
    ports, server = start_services(targets, latency)
    frames: list[tuple[float, int]] = []
    original = DerivationTree.render_lines

    def render_lines(tree: DerivationTree, crop: Any) -> Any:
        strips = original(tree, crop)
        frames.append((time.perf_counter(), tree.cursor_line))
        return strips

    DerivationTree.render_lines = render_lines  # type: ignore[method-assign]
    try:
        board = board_for(session)
        board.config_override = _config(ports)
        board.cache.path = directory / "bench-app-answers.json"
        board.cache.path.unlink(missing_ok=True)
        app = ReviveApp(session.plan, session=session)
        app.animation_level = "none"
        async with app.run_test(size=(120, 36)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            tree = app.screen.query_one(DerivationTree)
            tree.focus()
            await pilot.pause()
            idle = [await _key_to_frame(pilot, tree, frames) for _ in range(PRESSES)]
            await pilot.press("k", *["k"] * (PRESSES - 1))
            await pilot.pause()
            started = time.perf_counter()
            await pilot.press("A")
            await pilot.pause()
            busy = []
            first_key = time.perf_counter() - started
            for _ in range(PRESSES):
                busy.append(await _key_to_frame(pilot, tree, frames))
                await asyncio.sleep(0.05)
            checked_meanwhile = board.checked
            keys_took = (first_key, time.perf_counter() - started)
            await app.workers.wait_for_complete()
            total = time.perf_counter() - started
        print(
            f"closure: {len(session.graph)} nodes, {len(session.fods)} FODs; "
            f"{latency * 1000:.0f} ms per reply"
        )
        print(
            f"key → frame, nothing running (reference): median {statistics.median(idle):.1f} ms, "
            f"worst {max(idle):.1f} ms"
        )
        print(
            f"key → frame, while checking every download's archives: median "
            f"{statistics.median(busy):.1f} ms, worst {max(busy):.1f} ms "
            f"(the {PRESSES} keys from {keys_took[0]:.1f} to {keys_took[1]:.1f} s after A; "
            f"{checked_meanwhile} of {len(session.fods)} checked by the last)"
        )
        print(f"the whole check in the app: {total:.1f} s ({board.checked} checked)")
    finally:
        DerivationTree.render_lines = original  # type: ignore[method-assign]
        server.terminate()
        server.join()
        session.close()


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=50_000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--keep", metavar="DIR", required=True, help="closure directory")
    args = parser.parse_args(argv)
    directory = Path(args.keep)
    directory.mkdir(parents=True, exist_ok=True)
    root_file = directory / "ROOT"
    if not root_file.is_file():
        root_file.write_text(write_synthetic_closure(args.n, directory))
    asyncio.run(measure(directory, root_file.read_text().strip(), args.latency))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
