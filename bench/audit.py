"""Benchmark: archival audit of the 50k synthetic closure's FODs against slow loopback services.

    python bench/audit.py [N] [--latency 0.05] [--keep DIR]

Writes (or reuses) an ``N``-node synthetic closure (default 50,000: about
7,500 FODs; ``synth.py``), then starts, in a separate process, five
loopback HTTP services — upstream (files and git ref advertisements), a
content-addressed mirror, Software Heritage, Disarchive and a substitute
server — each answering every request after ``--latency`` seconds (50 ms
by default), with a fixed, seeded idea of what each has. Then it measures:

* the audit of every FOD with the default concurrency, cache off (cold):
  target ≤ 10 s;
* the same audit answered from the cache (warm), for information;
* the reference, in the same run: a sample of FODs audited one question at
  a time (concurrency 1), extrapolated to every FOD;
* the responsiveness of a thread's event loop (standing for the app's)
  while the audit runs in another thread, as the app runs it: the worst and
  99th-percentile lateness of a 10 ms timer.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synth import write_synthetic_closure  # noqa: E402

from revive.core import base32  # noqa: E402
from revive.core.archive.answer import Fallback  # noqa: E402
from revive.core.archive.audit import run_audit  # noqa: E402
from revive.core.archive.cache import AnswerCache  # noqa: E402
from revive.core.archive.config import ArchiveConfig  # noqa: E402
from revive.core.archive.report import rollup  # noqa: E402
from revive.core.archive.targets import FodTarget, fod_targets  # noqa: E402
from revive.core.closure import load_closure  # noqa: E402
from revive.core.fetch.mirrors import MirrorConfig  # noqa: E402
from revive.core.fetch.spec import GitFetch, UrlFetch  # noqa: E402
from revive.core.store_dir import StoreDir  # noqa: E402
from revive.core.store_path import hash_part  # noqa: E402

TARGET_SECONDS = 10.0
SERVICES = ("upstream", "ca", "swh", "disarchive", "subst")
SAMPLE = 40


# --- the services (in their own process) --------------------------------------------------


def _serve(
    ports: list[int], routes: dict[str, dict[str, bytes]], latency: float, ready: object
) -> None:
    """Serve ``routes[service][path]`` on each port (404 otherwise) after ``latency`` s."""

    async def main() -> None:
        loop = asyncio.get_running_loop()

        def factory(table: dict[str, bytes]) -> type[asyncio.Protocol]:
            class Http(asyncio.Protocol):
                def connection_made(self, transport: asyncio.BaseTransport) -> None:
                    self.transport = transport
                    self.buffer = b""

                def data_received(self, data: bytes) -> None:
                    self.buffer += data
                    while b"\r\n\r\n" in self.buffer:
                        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
                        method, path, _ = head.split(b"\r\n", 1)[0].decode().split(" ", 2)
                        body = table.get(path)
                        status = b"200 OK" if body is not None else b"404 Not Found"
                        payload = body if body is not None else b"not found\n"
                        reply = (
                            b"HTTP/1.1 "
                            + status
                            + b"\r\nContent-Length: "
                            + str(len(payload)).encode()
                            + b"\r\n\r\n"
                            + (payload if method != "HEAD" else b"")
                        )
                        loop.call_later(latency, self._send, reply)

                def _send(self, reply: bytes) -> None:
                    if not self.transport.is_closing():
                        self.transport.write(reply)  # type: ignore[attr-defined]

            return Http

        servers = []
        for port, service in zip(ports, SERVICES, strict=True):
            servers.append(
                await loop.create_server(factory(routes[service]), "127.0.0.1", port, backlog=1024)
            )
        ready.set()  # type: ignore[attr-defined]
        await asyncio.Event().wait()

    asyncio.run(main())


def start_services(
    targets: list[FodTarget], latency: float
) -> tuple[list[int], multiprocessing.Process]:
    """The loopback archive services for ``targets``, in a process of their own, listening.

    Returns:
        Their ports (in :data:`SERVICES` order) and the process, to terminate when done.
    """
    ports = _free_ports(len(SERVICES))
    ready = multiprocessing.Event()
    server = multiprocessing.Process(
        target=_serve, args=(ports, _routes(targets), latency, ready), daemon=True
    )
    server.start()
    ready.wait(60)
    return ports, server


def _cpu_of(pid: int | None) -> float:
    """CPU seconds (user + system) used so far by process ``pid`` (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _free_ports(count: int) -> list[int]:
    import socket

    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def _has(what: str, key: str, percent: int) -> bool:
    """A fixed, seeded answer: does service ``what`` have ``key``?"""
    return int(hashlib.sha256(f"{what}:{key}".encode()).hexdigest()[:4], 16) % 100 < percent


def _routes(targets: list[FodTarget]) -> dict[str, dict[str, bytes]]:
    """What each service has, decided per FOD (about 85 % upstream, fewer elsewhere)."""
    routes: dict[str, dict[str, bytes]] = {name: {} for name in SERVICES}
    for target in targets:
        expected, spec = target.expected, target.spec
        key = target.drv_path
        if isinstance(spec, UrlFetch) and _has("upstream", key, 85):
            for url in spec.urls:
                path = url.split("://", 1)[1].split("/", 1)[1]
                prefix = "/gnu/" if url.startswith("mirror://") else "/ex/"
                routes["upstream"][prefix + path] = b"x" * 100
                break
        if isinstance(spec, GitFetch) and _has("upstream", key, 85):
            path = (
                "/git/"
                + spec.url.split("git.example.org/", 1)[1]
                + "/info/refs?service=git-upload-pack"
            )
            oid = hashlib.sha1(key.encode()).hexdigest()
            lines = [f"{oid} refs/tags/{spec.commit}\n".encode()]
            body = b"001e# service=git-upload-pack\n0000"
            body += b"".join(b"%04x" % (len(line) + 4) + line for line in lines) + b"0000"
            routes["upstream"][path] = body
        hexd = expected.digest.hex()
        if not expected.recursive and _has("ca", key, 50):
            routes["ca"][f"/{expected.algorithm}/{base32.encode(expected.digest)}"] = b"x"
        if _has("swh", key, 60):
            if expected.recursive:
                body = json.dumps(
                    {"extid_type": "nar-sha256", "extid": hexd, "target": "swh:1:dir:" + "0" * 40}
                ).encode()
                routes["swh"][f"/api/1/extid/nar-sha256/hex:{hexd}/?extid_version=1"] = body
            else:
                body = json.dumps({"swhid": "swh:1:cnt:" + "0" * 40, "length": 100}).encode()
                routes["swh"][f"/api/1/content/{expected.algorithm}:{hexd}/"] = body
        if isinstance(spec, GitFetch) and _has("swh-origin", key, 50):
            visits = [{"visit": 1, "status": "full", "snapshot": "1" * 40, "date": "2020-01-01"}]
            routes["swh"][f"/api/1/origin/{spec.url}/visits/"] = json.dumps(visits).encode()
        if not expected.recursive and _has("disarchive", key, 40):
            routes["disarchive"][f"/{expected.algorithm}/{hexd}"] = b"(disarchive (version 0))\n"
        if _has("subst", key, 70):
            narinfo = (
                f"StorePath: {expected.output_path}\nURL: nar/x\nCompression: none\n"
                f"NarHash: sha256:{'0' * 52}\nNarSize: 1234\n"
            )
            routes["subst"][f"/{hash_part(expected.output_path)}.narinfo"] = narinfo.encode()
    return routes


def _config(ports: list[int]) -> ArchiveConfig:
    base = {name: f"http://127.0.0.1:{port}" for name, port in zip(SERVICES, ports, strict=True)}
    mirrors = MirrorConfig(
        version="bench",
        mirrors=(("gnu", (f"{base['upstream']}/gnu/",)),),
        content_addressed=(f"{base['ca']}/{{algo}}/{{nix32}}",),
        disarchive=(f"{base['disarchive']}/",),
    )
    return ArchiveConfig(
        mirrors=mirrors,
        swh_api=f"{base['swh']}/api/1/",
        substitutes=(base["subst"],),
        url_rewrites=(
            ("https://example.org/", f"{base['upstream']}/ex/"),
            ("https://git.example.org/", f"{base['upstream']}/git/"),
        ),
    )


# --- measurements ------------------------------------------------------------------------------


def _responsiveness(work: threading.Thread) -> tuple[float, float]:
    """Worst and 99th-percentile lateness (ms) of a 10 ms timer while ``work`` runs."""

    async def tick() -> list[float]:
        late: list[float] = []
        while work.is_alive():
            started = time.perf_counter()
            await asyncio.sleep(0.01)
            late.append((time.perf_counter() - started - 0.01) * 1000)
        return late

    work.start()
    late = asyncio.run(tick())
    work.join()
    late.sort()
    return late[-1], late[int(len(late) * 0.99)]


def run(n: int, directory: Path, latency: float) -> int:
    """Write or reuse the closure, serve, audit, print the figures."""
    root_file = directory / "ROOT"
    if root_file.is_file():
        root = root_file.read_text().strip()
    else:
        root = write_synthetic_closure(n, directory)
        root_file.write_text(root)
    store = StoreDir.open(directory, "/gnu/store")
    graph = load_closure([root], store)
    started = time.perf_counter()
    targets = fod_targets(graph, store.read_bytes)
    print(f"load average before: {os.getloadavg()[0]:.1f} (2 CPUs)")
    print(
        f"closure: {len(graph)} nodes, {len(targets)} FODs (targets read in "
        f"{time.perf_counter() - started:.2f} s)"
    )
    ports, server = start_services(targets, latency)
    config = _config(ports)
    try:
        print(
            f"services: {len(SERVICES)} loopback servers, {latency * 1000:.0f} ms per reply; "
            f"default concurrency {config.concurrency} (per host {config.per_host})"
        )
        # Reference, same run: a sample one question at a time, extrapolated.
        sample = targets[:: max(1, len(targets) // SAMPLE)][:SAMPLE]
        started = time.perf_counter()
        run_audit(sample, config.replace(concurrency=1, per_host=1))
        sequential = (time.perf_counter() - started) / len(sample) * len(targets)
        print(
            f"reference: sequential (concurrency 1), {len(sample)} FODs sampled, "
            f"extrapolated to {len(targets)}: {sequential:.1f} s"
        )

        results: list[object] = []
        cache_path = directory / "bench-answers.json"
        cache_path.unlink(missing_ok=True)
        cache = AnswerCache(cache_path)

        def cold() -> None:
            results.extend(run_audit(targets, config, cache=cache))

        started, cpu, served = time.perf_counter(), time.process_time(), _cpu_of(server.pid)
        worst, p99 = _responsiveness(threading.Thread(target=cold))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        served = _cpu_of(server.pid) - served
        summary = rollup(results)  # type: ignore[arg-type]
        questions = sum(len(r.answers) for r in results)  # type: ignore[attr-defined]
        print(
            f"audit, cold (no cache): {elapsed:.2f} s for {len(results)} FODs, "
            f"{questions} questions ({questions / elapsed:.0f}/s); "
            f"{sequential / elapsed:.0f}x faster than sequential; CPU {cpu:.2f} s in this "
            f"process ({cpu / questions * 1e6:.0f} µs per question), {served:.2f} s in the "
            f"services' process"
        )
        print(f"  saved by: {summary.saved_by}")
        print(
            f"  available per fallback: "
            f"{ {str(f): summary.coverage[str(f)]['available'] for f in Fallback} }"
        )
        print(
            f"  a 10 ms timer on another thread's event loop meanwhile: worst {worst:.0f} ms "
            f"late, 99th percentile {p99:.0f} ms"
        )
        started = time.perf_counter()
        run_audit(targets, config, cache=AnswerCache(cache_path))
        print(f"audit, warm (every answer from the cache): {time.perf_counter() - started:.2f} s")
        met = elapsed <= TARGET_SECONDS
        print(
            f"target (issue 11): audit of every FOD at {latency * 1000:.0f} ms latency ≤ "
            f"{TARGET_SECONDS:.0f} s: " + ("met" if met else "NOT met") + f" ({elapsed:.2f} s)"
        )
    finally:
        server.terminate()
        server.join()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=50_000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--keep", metavar="DIR", help="write the closure here (reused if there)")
    args = parser.parse_args(argv)
    if args.keep:
        path = Path(args.keep)
        path.mkdir(parents=True, exist_ok=True)
        return run(args.n, path, args.latency)
    with tempfile.TemporaryDirectory(prefix="guix-revive-bench-") as tmp:
        return run(args.n, Path(tmp), args.latency)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
