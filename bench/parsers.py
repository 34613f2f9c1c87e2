"""Benchmark: ways of parsing ``.drv`` text, per file, on a synthetic closure.

Measured once for the record (``bench/README.md``): the compiled reader the
loader uses (``core/_drv_scan.c``, on the bytes), the pure-Python scanner it
stands in for where no C compiler was available (``drv_scan``, on the
decoded text), the careful regex parser behind both (which also locates
errors), and a lark LALR parser of the same grammar (tree only, no
conversion to derivations, so lark's real cost is higher still). Each is the
best of ``--repeat`` passes over the same files, already read (and decoded
for the parsers that take text).

Usage: ``python bench/parsers.py [--files 2000] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from floor import os_read_each  # noqa: E402
from synth import write_synthetic_closure  # noqa: E402

from revive.core import _drv_scan, aterm  # noqa: E402
from revive.core.derivation import Derivation  # noqa: E402
from revive.core.drv_scan import scan_derivation  # noqa: E402

GRAMMAR = r"""
start: "Derive(" outputs "," inputs "," strings "," STRING "," STRING "," strings "," envs ")"
outputs: "[" [output ("," output)*] "]"
output: "(" STRING "," STRING "," STRING "," STRING ")"
inputs: "[" [input ("," input)*] "]"
input: "(" STRING "," strings ")"
strings: "[" [STRING ("," STRING)*] "]"
envs: "[" [env ("," env)*] "]"
env: "(" STRING "," STRING ")"
STRING: /"(?:[^"\\]|\\.)*"/s
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", metavar="DIR", help="write (or reuse) the closure here")
    args = parser.parse_args()
    import lark

    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="revive-parsers-"))
    directory = base / "closure-10000"
    if not (base / "closure-10000.root").exists():
        root = write_synthetic_closure(10_000, directory)
        (base / "closure-10000.root").write_text(root)
    files = sorted(directory.iterdir())[: args.files]
    texts = [(f.read_text(), f.name[33:-4]) for f in files]
    blobs = [(f.read_bytes(), f.name[33:-4]) for f in files]
    size = sum(len(t) for t, _ in texts) / len(texts)
    lalr = lark.Lark(GRAMMAR, parser="lalr")

    def compiled() -> None:
        from_fields = Derivation.from_fields
        for data, name in blobs:
            fields = _drv_scan.scan_fields(data)
            assert fields is not None
            from_fields(name, fields)

    def fast() -> None:
        for text, name in texts:
            scan_derivation(text, name)

    def careful() -> None:
        for text, name in texts:
            aterm._parse_careful(text, "<bench>", name)

    def with_lark() -> None:
        for text, _ in texts:
            lalr.parse(text)

    def read_floor() -> None:
        os_read_each(files)

    gc.disable()
    print(
        f"{len(texts)} files, {size / 1000:.1f} kB on average; µs per file, best of {args.repeat}"
    )
    results = {}
    for label, run in (
        ("read floor (os.read)", read_floor),
        ("compiled reader (C)", compiled),
        ("drv_scan (pure Python)", fast),
        ("regex parser (careful)", careful),
        ("lark LALR (tree only)", with_lark),
    ):
        best = min(_timed(run) for _ in range(args.repeat))
        results[label] = best
        print(f"  {label:<26} {best / len(texts) * 1e6:8.1f}")
    floor = results["read floor (os.read)"]
    for label, value in results.items():
        print(f"  {label:<26} {value / floor:8.1f}x the read floor")
    return 0


def _timed(run: object) -> float:
    started = time.perf_counter()
    run()  # type: ignore[operator]
    return time.perf_counter() - started


if __name__ == "__main__":
    sys.exit(main())
