"""A scriptable loopback HTTP server for the probe tests, and a probe context on it."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from revive.core.archive.config import ArchiveConfig
from revive.core.fetch.mirrors import default_mirror_config

Reply = tuple[int, dict[str, str], bytes]
"""Status, headers, body."""


@dataclass
class Loopback:
    """Routes: request path (with query) → reply, or a function of the handler giving one."""

    routes: dict[str, Reply | Callable[[str], Reply]] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    delay: float = 0.0
    connections: int = 0
    port: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
def loopback() -> Iterator[Loopback]:
    """A threaded HTTP/1.1 server on 127.0.0.1 answering from :attr:`Loopback.routes`."""
    state = Loopback()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            state.connections += 1

        def do_GET(self) -> None:  # noqa: N802
            self._reply(True)

        def do_HEAD(self) -> None:  # noqa: N802
            self._reply(False)

        def _reply(self, body: bool) -> None:
            state.requests.append((self.command, self.path, dict(self.headers)))
            if state.delay:
                time.sleep(state.delay)
            route = state.routes.get(self.path)
            if callable(route):
                route = route(self.command)
            status, headers, data = route or (404, {}, b'{"exception":"NotFoundExc"}')
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if body:
                self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def config(loopback: Loopback) -> ArchiveConfig:
    """Every service on the loopback server; short timeouts, fast retries."""
    base = loopback.base
    mirrors = default_mirror_config().replace(
        content_addressed=(f"{base}/cas/{{algo}}/{{nix32}}", f"{base}/ca2/{{file}}/{{hex}}"),
        disarchive=(f"{base}/da1/", f"{base}/da2/"),
        mirrors={"gnu": [f"{base}/gone/", f"{base}/gnu/"]},
    )
    return ArchiveConfig(
        mirrors=mirrors,
        swh_api=f"{base}/api/1/",
        substitutes=(f"{base}/s1", f"{base}/s2"),
        connect_timeout=2.0,
        read_timeout=2.0,
        retries=1,
        backoff=0.01,
        max_rate_wait=2.0,
    )
