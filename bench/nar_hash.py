"""Benchmark: NAR-hash a tree vs ``sha256sum`` of the same bytes (issue 4, item 6).

    .venv/bin/python bench/nar_hash.py [--size-mb 1024] [--files 256] [--dir DIR]

Writes a tree of ``--files`` files holding ``--size-mb`` MiB in total (plus
a few small files, directories and symlinks), warms the page cache, then
times :func:`revive.core.nar.nar_hash` and ``sha256sum`` over every file.
The ratio is sha256sum's time divided by ours (1.0: as fast; the target is
at least 0.8). Each is run ``--repeat`` times and the best time is kept.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from revive.core.nar import nar_hash, nar_size


def make_tree(root: Path, files: int, size: int) -> list[Path]:
    """``files`` files of ``size`` bytes (pseudo-random), a few small ones, links."""
    paths = []
    block = hashlib.sha512(b"seed").digest() * (1 << 14)  # 1 MiB of non-zero bytes
    for i in range(files):
        sub = root / f"d{i % 16:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        path = sub / f"file-{i:05d}.bin"
        with open(path, "wb") as out:
            left = size
            salt = i.to_bytes(8, "little")
            while left:
                chunk = (salt + block)[: min(left, len(block) + 8)]
                out.write(chunk)
                left -= len(chunk)
        paths.append(path)
    for i in range(64):
        small = root / "small" / f"s{i}.txt"
        small.parent.mkdir(exist_ok=True)
        small.write_text(f"small file {i}\n")
        paths.append(small)
    (root / "small" / "link").symlink_to("s0.txt")
    (root / "small" / "s1.txt").chmod(0o755)
    return paths


def best(runs: int, action) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--files", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", default=None, help="where to write the tree (default: a temp dir)")
    args = parser.parse_args(argv)
    if shutil.which("sha256sum") is None:
        print("sha256sum is not installed", file=sys.stderr)
        return 2
    base = Path(tempfile.mkdtemp(prefix="nar-bench-", dir=args.dir))
    try:
        tree = base / "tree"
        size = args.size_mb * 1024 * 1024 // args.files
        files = make_tree(tree, args.files, size)
        total = sum(p.stat().st_size for p in files)
        listing = [str(p) for p in files]

        def ours() -> None:
            nar_hash(tree)

        def theirs() -> None:
            # xargs keeps the command line short; sha256sum reads every file.
            subprocess.run(
                ["xargs", "-0", "sha256sum"],
                input="\0".join(listing).encode(),
                stdout=subprocess.DEVNULL,
                check=True,
            )

        theirs()  # warm the page cache for both
        t_sum = best(args.repeat, theirs)
        t_nar = best(args.repeat, ours)
        nar_bytes = nar_size(tree)
        mib = 2**20
        print(
            f"tree: {len(files)} files, {total / mib:.0f} MiB of contents, "
            f"NAR {nar_bytes / mib:.0f} MiB"
        )
        print(f"sha256sum: {t_sum:.2f} s  ({total / t_sum / 2**20:.0f} MiB/s)")
        print(f"nar_hash:  {t_nar:.2f} s  ({total / t_nar / 2**20:.0f} MiB/s)")
        print(f"ratio (sha256sum time / nar_hash time): {t_sum / t_nar:.2f}  (target >= 0.8)")
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
