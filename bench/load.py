"""Benchmark: loading closures of 1k / 10k / 50k derivations (issue 2, item 8).

For each size, a synthetic distro-shaped closure is written with the
project's own writer (``synth.py``), then each measurement runs in a fresh
Python process (so peak RSS is the load's own, and nothing is interned or
cached in memory from a previous step):

* **floor**: open and read every ``.drv`` file, nothing else. Two ways:
  ``open(f, "rb").read()`` (the plain Python idiom) and ``os.open``/``os.read``
  (the cheapest reads Python can do, which the loader itself uses);
* **cold**: ``load_closure`` with no cache, in one process (``workers=1``)
  and spread over worker processes (``workers=2``); then in one process
  with the pure-Python scanner (``GUIX_REVIVE_PURE_PYTHON=1``), what a
  machine without a C compiler at install time gets;
* **warm**: ``load_closure`` re-opening the closure from the cache pack.

Each figure is the best of ``--repeat`` runs (the machine is shared: the
best run is the one least disturbed), in wall-clock seconds, with the CPU
time of the measuring process next to it. Targets (50k, ≈150 MB): cold ≤ 4×
the floor, warm ≤ 1× the floor, peak RSS ≤ 400 MB.

Usage: ``python bench/load.py [--sizes 1000,10000,50000] [--repeat 3] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from floor import os_read_each  # noqa: E402
from synth import write_synthetic_closure  # noqa: E402


def _child(mode: str, directory: str, root: str, cache_dir: str) -> dict[str, Any]:
    """Run one measurement in this (fresh) process and return its figures."""
    import resource

    from revive.core.cache import DerivationCache
    from revive.core.closure import load_closure
    from revive.core.store_dir import StoreDir

    files = [os.path.join(directory, name) for name in os.listdir(directory)]
    started, cpu = time.perf_counter(), time.process_time()
    nodes = len(files)
    if mode == "floor-open":
        for file in files:
            with open(file, "rb") as handle:
                handle.read()
    elif mode == "floor-os":
        os_read_each(files)
    else:
        store = StoreDir.open(directory, "/gnu/store")
        cache = DerivationCache(cache_dir) if mode in ("prime", "warm") else None
        workers = 2 if mode == "cold-parallel" else 1
        from revive.core import compiled

        assert compiled.COMPILED is (mode != "cold-python"), "GUIX_REVIVE_PURE_PYTHON not honoured"
        graph = load_closure([root], store, cache=cache, workers=workers)
        nodes = len(graph)
    wall = time.perf_counter() - started
    return {
        "mode": mode,
        "wall": wall,
        "cpu": time.process_time() - cpu,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "nodes": nodes,
    }


def _measure(mode: str, directory: Path, root: str, cache_dir: Path, repeat: int) -> dict[str, Any]:
    best: dict[str, Any] | None = None
    env = dict(os.environ)
    env.pop("GUIX_REVIVE_PURE_PYTHON", None)
    if mode == "cold-python":
        env["GUIX_REVIVE_PURE_PYTHON"] = "1"
    for _ in range(repeat):
        output = subprocess.run(
            [sys.executable, __file__, "--child", mode, str(directory), root, str(cache_dir)],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        ).stdout
        result: dict[str, Any] = json.loads(output)
        if best is None or result["wall"] < best["wall"]:
            best = result
    assert best is not None
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", metavar="DIR", help="write (or reuse) the closures here")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(*args.child)))
        return 0

    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="revive-bench-"))
    print(f"closures in {base}; best of {args.repeat} runs, each in a fresh process")
    print(f"{'size':>6} {'MB':>5}  {'step':<22} {'wall s':>7} {'cpu s':>6} {'RSS MB':>7}  ratios")
    for size in (int(s) for s in args.sizes.split(",")):
        directory = base / f"closure-{size}"
        marker = base / f"closure-{size}.root"
        if not marker.exists():
            started = time.perf_counter()
            root = write_synthetic_closure(size, directory)
            marker.write_text(root)
            print(f"  (wrote {size} derivations in {time.perf_counter() - started:.1f} s)")
        root = marker.read_text().strip()
        megabytes = sum(f.stat().st_size for f in directory.iterdir()) / 1e6
        with tempfile.TemporaryDirectory(prefix="revive-bench-cache-") as cache:
            cache_dir = Path(cache)
            floor_open = _measure("floor-open", directory, root, cache_dir, args.repeat)
            floor_os = _measure("floor-os", directory, root, cache_dir, args.repeat)
            cold = _measure("cold", directory, root, cache_dir, args.repeat)
            parallel = _measure("cold-parallel", directory, root, cache_dir, args.repeat)
            python = _measure("cold-python", directory, root, cache_dir, args.repeat)
            prime = _measure("prime", directory, root, cache_dir, 1)
            warm = _measure("warm", directory, root, cache_dir, args.repeat)
        rows = [
            ("floor: open().read()", floor_open),
            ("floor: os.read()", floor_os),
            ("cold, 1 process", cold),
            ("cold, 2 workers", parallel),
            ("cold, pure Python", python),
            ("cold + write cache", prime),
            ("warm, from cache", warm),
        ]
        for label, result in rows:
            ratios = ""
            if not label.startswith("floor"):
                ratios = (
                    f"{result['wall'] / floor_open['wall']:.1f}x open floor, "
                    f"{result['wall'] / floor_os['wall']:.1f}x os.read floor"
                )
            print(
                f"{size:>6} {megabytes:>5.0f}  {label:<22} {result['wall']:>7.2f} "
                f"{result['cpu']:>6.2f} {result['rss_mb']:>7.0f}  {ratios}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
