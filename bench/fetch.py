"""Benchmark: fetch 500 FODs of 1 MiB from a loopback server (issue 4, item 6).

    .venv/bin/python bench/fetch.py [--count 500] [--size-kb 1024] [--jobs 4]

Serves ``--count`` files with ``python -m http.server`` on 127.0.0.1, writes
one ``builtin:download`` FOD per file (and a root depending on all of them)
into a store copy, then times:

* ``guix-revive fetch --jobs N`` into a fresh embedded store (download,
  SHA-256 and NAR hash, canonical metadata, rename, SQLite registration);
* ``curl`` fetching the same URLs sequentially (one process, connection
  reuse: the fastest sequential curl);
* writing the same number of bytes into as many files (raw disk-write speed).

It prints each throughput and the ratios of ours to the other two.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from revive.core.aterm import serialize_derivation
from revive.core.derivation import Derivation, Output
from revive.core.derivation_hash import drv_path
from revive.core.fetch.mirrors import default_mirror_config
from revive.core.fetch.rewrite import modern_derivation
from revive.core.fetch.spec import Expected, UrlFetch
from revive.core.store_path import fixed_output_path

ROOT_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(port: int) -> None:
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.1):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the HTTP server did not start")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--size-kb", type=int, default=1024)
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--dir", default=None, help="scratch directory (default: a temp dir)")
    args = parser.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="fetch-bench-", dir=args.dir))
    size = args.size_kb * 1024
    total = args.count * size
    server = None
    try:
        www, copy = base / "www", base / "copy"
        www.mkdir()
        copy.mkdir()
        block = hashlib.sha512(b"bench").digest() * (size // 64 + 1)
        config = default_mirror_config().replace(content_addressed=[], disarchive=[])
        port = free_port()
        inputs = []
        for i in range(args.count):
            data = i.to_bytes(8, "little") + block[: size - 8]
            name = f"src-{i:04d}.tar.gz"
            (www / name).write_bytes(data)
            digest = hashlib.sha256(data).digest()
            expected = Expected(
                name, fixed_output_path(name, "sha256", digest, False), "sha256", digest, False
            )
            spec = UrlFetch(expected, (f"http://127.0.0.1:{port}/{name}",))
            drv, items, _ = modern_derivation(spec, "x86_64-linux", config)
            for item in items:
                (copy / Path(item.path).name).write_bytes(item.contents)
            path = drv_path(drv)
            (copy / Path(path).name).write_text(serialize_derivation(drv))
            inputs.append(path)
        out = "/gnu/store/" + "b" * 32 + "-bench-root"
        root = Derivation(
            "bench-root",
            (Output("out", out),),
            tuple((p, ("out",)) for p in sorted(inputs)),
            (),
            "x86_64-linux",
            "/bin/sh",
        )
        root_path = drv_path(root)
        (copy / Path(root_path).name).write_text(serialize_derivation(root))

        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "http.server",
                str(port),
                "--bind",
                "127.0.0.1",
                "--directory",
                str(www),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(port)

        # guix-revive fetch
        target = base / "target"
        start = time.perf_counter()
        proc = subprocess.run(
            [
                str(ROOT_BIN / "guix-revive"),
                "fetch",
                "--backend",
                "embedded",
                "--jobs",
                str(args.jobs),
                "--store",
                str(copy),
                "--target-store",
                str(target),
                "--methods",
                "upstream",
                "--retries",
                "0",
                root_path,
            ],
            capture_output=True,
            text=True,
        )
        t_ours = time.perf_counter() - start
        if proc.returncode != 0:
            print(proc.stdout[-2000:], proc.stderr[-2000:])
            raise SystemExit("guix-revive fetch failed")

        # curl, sequentially, one process for all URLs
        curl_dir = base / "curl"
        curl_dir.mkdir()
        config_file = base / "curl.cfg"
        config_file.write_text(
            "".join(
                f'url = "http://127.0.0.1:{port}/src-{i:04d}.tar.gz"\n'
                f'output = "{curl_dir}/src-{i:04d}.tar.gz"\n'
                for i in range(args.count)
            )
        )
        start = time.perf_counter()
        subprocess.run(["curl", "-s", "-f", "-K", str(config_file)], check=True)
        t_curl = time.perf_counter() - start

        # raw disk writes of the same bytes
        disk = base / "disk"
        disk.mkdir()
        payload = block[:size]
        start = time.perf_counter()
        for i in range(args.count):
            fd = os.open(disk / f"f{i}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            os.write(fd, payload)
            os.close(fd)
        t_disk = time.perf_counter() - start

        mib = total / 2**20
        print(f"{args.count} FODs x {size // 1024} KiB = {mib:.0f} MiB, --jobs {args.jobs}")
        print(f"guix-revive fetch: {t_ours:6.2f} s  {mib / t_ours:7.1f} MiB/s")
        print(f"curl (sequential): {t_curl:6.2f} s  {mib / t_curl:7.1f} MiB/s")
        print(f"raw disk writes:   {t_disk:6.2f} s  {mib / t_disk:7.1f} MiB/s")
        print(f"ratio to curl: {t_curl / t_ours:.2f}   ratio to disk writes: {t_disk / t_ours:.3f}")
    finally:
        if server is not None:
            server.terminate()
            server.wait()
        # the store's items are read-only: make them writable to delete them
        for dirpath, dirnames, _ in os.walk(base):
            for name in dirnames:
                os.chmod(os.path.join(dirpath, name), 0o755)
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
