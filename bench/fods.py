"""Benchmark: classify and rewrite every FOD of a large synthetic closure.

    python bench/fods.py [N] [--keep DIR]

Writes an ``N``-node synthetic closure (default 50,000, about 15% FODs; see
``synth.py``), loads it, then times, after the load:

* ``classify`` of every node (the TUI colours a whole tree with it);
* ``rewrite`` of every FOD (what ``guix-revive rewrite --closure`` does
  before re-pointing);
* re-pointing every dependent (``rewrite_closure``), and the proof that no
  output path changed (``verify_outputs_unchanged``), for information.

Target (issue 3): classify + rewrite of every FOD ≤ 0.5 s after load.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synth import write_synthetic_closure  # noqa: E402

from revive.core.closure import load_closure  # noqa: E402
from revive.core.fetch.classify import classify  # noqa: E402
from revive.core.fetch.closure_rewrite import (  # noqa: E402
    rewrite_closure,
    verify_outputs_unchanged,
)
from revive.core.fetch.mirrors import default_mirror_config  # noqa: E402
from revive.core.fetch.scheme import read_one  # noqa: E402
from revive.core.store_dir import StoreDir  # noqa: E402

TARGET_SECONDS = 0.5
REPEATS = 3


def run(n: int, directory: Path) -> int:
    """Write (or reuse), load and measure; print one line per figure. Returns the exit status."""
    root_file = directory / "ROOT"
    if root_file.is_file():
        root = root_file.read_text().strip()
        print(f"reusing the closure in {directory}")
    else:
        started = time.perf_counter()
        root = write_synthetic_closure(n, directory)
        root_file.write_text(root)
        print(f"write {n} derivations: {time.perf_counter() - started:.2f} s")
    store = StoreDir.open(directory, "/gnu/store")
    started = time.perf_counter()
    graph = load_closure([root], store)
    print(f"load closure ({len(graph)} nodes): {time.perf_counter() - started:.2f} s")

    # Warm the constant parts once (lark grammar, today's mirror files), as
    # any long-running user (the TUI) has them already.
    read_one("(a)")
    default_mirror_config().files()

    derivations = graph.derivations
    fods = [(path, drv) for path, drv in derivations.items() if drv.is_fixed_output]
    started = time.perf_counter()
    kinds = Counter(classify(drv, store.read_bytes).label for drv in derivations.values())
    classify_all = time.perf_counter() - started
    print(f"FODs: {len(fods)} of {len(derivations)}")
    print(f"classify every node: {classify_all:.3f} s ({dict(kinds.most_common(6))})")
    # The machine is shared: the best of a few runs is the figure that
    # measures the code rather than the neighbours.
    runs = []
    for _ in range(REPEATS):
        # Free the previous run's results before the clock starts, not while
        # the next result is assigned (inside the timing).
        only_fods = None
        started = time.perf_counter()
        labels = Counter(classify(drv, store.read_bytes).label for _, drv in fods)
        classify_fods = time.perf_counter() - started
        started = time.perf_counter()
        only_fods = rewrite_closure(graph, store.read_bytes, repoint=False)
        rewrite_fods = time.perf_counter() - started
        runs.append((classify_fods + rewrite_fods, classify_fods, rewrite_fods))
    total, classify_fods, rewrite_fods = min(runs)
    changed = sum(not r.identity for r in only_fods.rewrites)
    print(f"FOD methods: {dict(labels)}")
    print(f"classify every FOD: {classify_fods:.3f} s")
    print(
        f"rewrite every FOD: {rewrite_fods:.3f} s "
        f"({changed} changed, {len(only_fods.failures)} failed)"
    )
    print(
        f"classify + rewrite of every FOD: {total:.3f} s, best of {REPEATS} "
        f"(all: {', '.join(f'{run[0]:.3f}' for run in runs)}; "
        f"{total / len(fods) * 1e6:.0f} µs per FOD)"
    )
    met = total <= TARGET_SECONDS
    print(
        f"target (issue 3): classify + rewrite of every FOD ≤ {TARGET_SECONDS} s after load: "
        + (f"met ({total:.3f} s)" if met else f"NOT met ({total:.3f} s)")
    )

    started = time.perf_counter()
    closure = rewrite_closure(graph, store.read_bytes)
    print(
        f"rewrite_closure with re-pointing: {time.perf_counter() - started:.2f} s "
        f"({len(closure.mapping)} .drv paths changed)"
    )
    started = time.perf_counter()
    problems = verify_outputs_unchanged(closure, graph)
    print(
        f"verify_outputs_unchanged: {time.perf_counter() - started:.2f} s, {len(problems)} problems"
    )
    return 0 if not problems else 1


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=50_000)
    parser.add_argument(
        "--keep", metavar="DIR", help="write the closure here and keep it (reused if there)"
    )
    args = parser.parse_args(argv)
    if args.keep:
        path = Path(args.keep)
        path.mkdir(parents=True, exist_ok=True)
        return run(args.n, path)
    with tempfile.TemporaryDirectory(prefix="guix-revive-bench-") as tmp:
        return run(args.n, Path(tmp))


if __name__ == "__main__":
    raise SystemExit(main())
