"""Responsiveness of the app on a 50,000-node synthetic closure.

Prints, in milliseconds:

* ``load``: reading the closure (``load_closure`` + outline), for reference;
* ``first paint``: from creating the app with the loaded closure to the
  first frame that shows tree lines (target ≤ 1,000 ms);
* ``expand 500``: expanding a node with 500 children: adding them, laying
  the tree out and drawing the lines on screen (target ≤ 50 ms); and, for
  reference, a key press to the next frame through Textual's event loop
  (which adds its frame timer and the test pilot's own waits);
* ``search``: the slowest of a few queries over every node (name, URL,
  hash, store path, nothing; target ≤ 100 ms); the worst case, one letter
  matching every node, in full and capped as the app does; and from a key
  typed in the search bar to the frame with the cursor on the first match.

The synthetic closure (``bench/synth.py``) has no node with exactly 500
inputs, so a 500-input node is added on top of it: ``bench-wide-500``,
depending on every 100th node, as a second root.

Usage: ``python bench/tui.py [--n 50000] [--dir DIR]`` (the closure is
written to ``DIR`` once and reused).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from revive.core.derivation import Derivation, Output
from revive.core.derivation_hash import drv_path as compute_drv_path
from revive.core.graph import DerivationGraph
from revive.tui.app import ReviveApp
from revive.tui.screens.graph import MATCH_LIMIT
from revive.tui.session import LoadPlan, Session, open_session
from revive.tui.widgets.drv_tree import DerivationTree

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synth import write_synthetic_closure  # noqa: E402

TARGETS = {"first paint": 1000.0, "expand 500": 50.0, "search": 100.0}
"""The issue's targets, in milliseconds."""


def closure_dir(n: int, base: Path) -> tuple[Path, str]:
    """The synthetic closure of ``n`` nodes under ``base`` (written on first use)."""
    directory = base / f"synth-{n}-0"
    stamp = directory / "ROOT"
    if stamp.exists():
        return directory, stamp.read_text().strip()
    print(f"writing a {n}-node synthetic closure to {directory} (once)…", file=sys.stderr)
    root = write_synthetic_closure(n, directory, seed=0)
    stamp.write_text(root + "\n")
    return directory, root


def with_wide_node(session: Session, fan_out: int = 500) -> tuple[Session, str]:
    """``session`` plus a node with ``fan_out`` inputs (every 100th node) as a second root."""
    graph = session.graph
    order = session.outline.order
    picked = list(order[1 :: max(1, len(order) // fan_out)])[:fan_out]
    store_dir = graph.store_dir
    wide = Derivation(
        name="bench-wide-500",
        outputs=(Output("out", f"{store_dir}/{'0' * 32}-bench-wide-500"),),
        input_drvs=tuple(sorted((p, ("out",)) for p in picked)),
        input_srcs=(),
        system="x86_64-linux",
        builder="/bin/sh",
    )
    path = compute_drv_path(wide, store_dir)
    derivations = dict(graph.derivations)
    derivations[path] = wide
    problems = dict(graph.problems)
    new_graph = DerivationGraph.from_derivations(
        store_dir, (*graph.roots, path), derivations, missing=problems
    )
    new = Session(store=session.store, graph=new_graph, title=session.title, plan=session.plan)
    return new, path


class PaintClock:
    """Records when the tree first draws a line, and each later frame."""

    def __init__(self) -> None:
        self.painted: float | None = None
        self.frames: list[float] = []
        original = DerivationTree.render_lines
        clock = self

        def render_lines(tree: DerivationTree, crop: Any) -> Any:
            strips = original(tree, crop)
            if tree.session is not None and tree.root.children:
                now = time.perf_counter()
                if clock.painted is None:
                    clock.painted = now
                clock.frames.append(now)
            return strips

        DerivationTree.render_lines = render_lines  # type: ignore[method-assign]


async def wait_for(condition: Callable[[], bool], pilot: Any) -> None:
    """Let the app run until ``condition`` holds."""
    for _ in range(10_000):
        if condition():
            return
        await pilot.pause()
    raise RuntimeError("timed out")


async def measure(session: Session, wide: str) -> dict[str, float]:
    """Run the app on ``session`` and time the three interactions."""
    figures: dict[str, float] = {}
    clock = PaintClock()
    start = time.perf_counter()
    app = ReviveApp(session.plan, session=session)
    app.animation_level = "none"
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(lambda: clock.painted is not None, pilot)
        assert clock.painted is not None
        figures["first paint"] = (clock.painted - start) * 1000
        await app.workers.wait_for_complete()
        await pilot.pause()
        tree = app.screen.query_one(DerivationTree)

        # Expand the 500-input node: from the key press to the frame showing them.
        tree.focus()
        top = next(n for n in tree.root.children if n.data is not None and n.data.path == wide)
        tree.move_cursor(top)
        await pilot.pause()
        # The work itself: add the children, lay the tree out again and draw
        # every line on screen, as the next frame will.
        begin = time.perf_counter()
        tree.action_expand_or_enter()
        _ = tree.last_line
        tree.render_lines(tree.region.reset_offset)
        figures["expand 500"] = (time.perf_counter() - begin) * 1000
        figures["expand 500 (children)"] = len(top.children)
        # End to end through Textual's event loop and frame timer (a key
        # press, then the next frame), on another node of the same shape.
        top.collapse()
        await pilot.pause()
        clock.frames.clear()
        pressed = time.perf_counter()
        await pilot.press("l")
        await wait_for(lambda: bool(clock.frames) and top.is_expanded, pilot)
        figures["expand (key → frame)"] = (clock.frames[-1] - pressed) * 1000

        # The profile root's own fan-out, collapsed then expanded again (for reference).
        profile = tree.root.children[0]
        fan_out = len(session.graph.inputs(profile.data.path)) if profile.data else 0
        figures["profile fan-out"] = fan_out

        # Search: core queries over every node, then a key in the search bar.
        index = session.search_index
        assert index is not None
        sample_hash = session.fods[len(session.fods) // 2]
        drv = session.graph.get(sample_hash)
        assert drv is not None and drv.fixed_output is not None
        queries = [
            "glibc",
            "https://",
            drv.fixed_output.hash[:12],
            session.fods[-1][11:30],
            "zq-none",
        ]
        times = []
        for query in queries:
            begin = time.perf_counter()
            found = index.search(query)
            times.append((time.perf_counter() - begin) * 1000)
            figures[f"search {query!r} matches"] = len(found)
        figures["search"] = max(times)
        figures["search (median)"] = statistics.median(times)
        # One letter matches nearly every node: collecting 50,000 matches is
        # the worst case; the app stops at MATCH_LIMIT ("1000+").
        begin = time.perf_counter()
        every = index.search("p")
        figures["search 'p', every match"] = (time.perf_counter() - begin) * 1000
        figures["search 'p' matches"] = len(every)
        begin = time.perf_counter()
        index.search("p", limit=MATCH_LIMIT)
        figures["search 'p', as the app does"] = (time.perf_counter() - begin) * 1000
        await pilot.press("slash")
        await pilot.pause()
        clock.frames.clear()
        typed = time.perf_counter()
        await pilot.press(*"pkg4")
        await wait_for(lambda: bool(clock.frames), pilot)
        figures["search key → frame"] = (clock.frames[-1] - typed) * 1000 / 4
    return figures


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000, help="closure size (default 50000)")
    parser.add_argument(
        "--dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "guix-revive-bench",
        help="where the synthetic closure is written once",
    )
    parser.add_argument("--runs", type=int, default=3, help="app runs (default 3)")
    args = parser.parse_args(argv)
    directory, root = closure_dir(args.n, args.dir)
    begin = time.perf_counter()
    session = open_session(LoadPlan(roots=(root,), store=str(directory)))
    load_ms = (time.perf_counter() - begin) * 1000
    session, wide = with_wide_node(session)
    begin = time.perf_counter()
    session.build_search_index()
    index_ms = (time.perf_counter() - begin) * 1000
    # A fresh app per run; the figures are the medians of the runs (a busy
    # machine makes single runs swing by a factor of two).
    runs = [asyncio.run(measure(session, wide)) for _ in range(args.runs)]
    figures = {name: statistics.median(run[name] for run in runs) for name in runs[0]}
    print(f"closure: {len(session.graph):,} derivations, {len(session.fods):,} FODs")
    print(f"medians of {args.runs} runs")
    print(f"{'load (reference)':<28} {load_ms:>9.0f} ms")
    print(f"{'search index (background)':<28} {index_ms:>9.0f} ms")
    for name, value in figures.items():
        target = TARGETS.get(name)
        if name.endswith(("matches", "(children)", "fan-out")):
            print(f"{name:<28} {value:>9.0f}")
            continue
        verdict = ""
        if target is not None:
            verdict = f"  (target ≤ {target:.0f} ms: {'ok' if value <= target else 'MISSED'})"
        print(f"{name:<28} {value:>9.1f} ms{verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
