"""Fixtures for the builder tests: a loopback HTTP server, an independent NAR
hash, repositories made with the real VCS programs, and build contexts."""

from __future__ import annotations

import asyncio
import hashlib
import http.server
import os
import stat
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import pytest
from repos import GIT_ENV, run, write_tree

from revive.core.builders.context import BuildContext
from revive.core.builders.options import DownloadMethod, FetchOptions
from revive.core.fetch.spec import Expected
from revive.core.store_path import fixed_output_path
from revive.core.stores.api import BuildEvent

# --- an independent NAR serialiser -------------------------------------------
# Written separately from revive.core.nar on purpose: the builders verify with
# that module, the tests check their results with this one.


def _nar_str(data: bytes) -> bytes:
    return len(data).to_bytes(8, "little") + data + b"\0" * (-len(data) % 8)


def _nar_node(path: str) -> bytes:
    info = os.lstat(path)
    out = [_nar_str(b"("), _nar_str(b"type")]
    if stat.S_ISLNK(info.st_mode):
        out += [_nar_str(b"symlink"), _nar_str(b"target"), _nar_str(os.fsencode(os.readlink(path)))]
    elif stat.S_ISDIR(info.st_mode):
        out.append(_nar_str(b"directory"))
        for name in sorted(os.fsencode(n) for n in os.listdir(path)):
            out += [_nar_str(b"entry"), _nar_str(b"("), _nar_str(b"name"), _nar_str(name)]
            out += [_nar_str(b"node"), _nar_node(os.path.join(path, os.fsdecode(name)))]
            out.append(_nar_str(b")"))
    else:
        out.append(_nar_str(b"regular"))
        if info.st_mode & 0o100:
            out += [_nar_str(b"executable"), _nar_str(b"")]
        with open(path, "rb") as handle:
            out += [_nar_str(b"contents"), _nar_str(handle.read())]
    out.append(_nar_str(b")"))
    return b"".join(out)


def independent_nar(path: str | os.PathLike[str]) -> bytes:
    """The NAR of ``path``, computed without revive.core.nar."""
    return _nar_str(b"nix-archive-1") + _nar_node(os.fspath(path))


@pytest.fixture
def nar_of() -> Callable[[str | os.PathLike[str]], bytes]:
    """An independent NAR serialiser (not revive.core.nar)."""
    return independent_nar


def expected_of(name: str, *, data: bytes | None = None, tree: Path | None = None) -> Expected:
    """The Expected (sha256) of a flat file with the bytes ``data``, or of a
    recursive item equal to the directory ``tree``."""
    if data is not None:
        digest, recursive = hashlib.sha256(data).digest(), False
    else:
        assert tree is not None
        digest, recursive = hashlib.sha256(independent_nar(tree)).digest(), True
    path = fixed_output_path(name, "sha256", digest, recursive)
    return Expected(name, path, "sha256", digest, recursive)


@pytest.fixture
def expected_for() -> Callable[..., Expected]:
    """``expected_for(name, data=…)`` or ``expected_for(name, tree=…)``: :func:`expected_of`."""
    return expected_of


# --- build contexts ------------------------------------------------------------


@dataclass
class ContextMaker:
    """Makes a :class:`BuildContext` whose events land in :attr:`events`."""

    root: Path
    events: list[BuildEvent] = field(default_factory=list)
    count: int = 0

    def __call__(self, options: FetchOptions | None = None, **kwargs: object) -> BuildContext:
        loop = asyncio.get_running_loop()
        self.count += 1
        work = self.root / f"work{self.count}"
        work.mkdir(parents=True)
        events = self.events

        def threadsafe(event: BuildEvent) -> None:
            loop.call_soon_threadsafe(events.append, event)

        return BuildContext(
            drv_path="/gnu/store/00000000000000000000000000000000-test.drv",
            emit=events.append,
            work_dir=work,
            options=options or offline_options(),
            quarantine_dir=self.root / "quarantine",
            emit_threadsafe=threadsafe,
            **kwargs,  # type: ignore[arg-type]
        )

    def lines(self) -> list[str]:
        """The log lines emitted so far."""
        return [e.line for e in self.events if hasattr(e, "line")]


def offline_options(**changes: object) -> FetchOptions:
    """Options for tests: small timeouts, no retries delay, loopback only."""
    base: dict[str, object] = dict(
        connect_timeout=2.0,
        read_timeout=2.0,
        retries=0,
        retry_delay=0.01,
        methods=(DownloadMethod.UPSTREAM, DownloadMethod.NAR),
    )
    base.update(changes)
    return FetchOptions(**base)  # type: ignore[arg-type]


@pytest.fixture
def make_ctx(tmp_path: Path) -> ContextMaker:
    """A factory of build contexts (call it inside the async test)."""
    return ContextMaker(tmp_path / "ctx")


@pytest.fixture
def options() -> Callable[..., FetchOptions]:
    """``options(**changes)``: FetchOptions for loopback tests."""
    return offline_options


# --- a loopback HTTP server ------------------------------------------------------


class _Served:
    """A server whose ``thread`` serves it: ``with`` starts it and stops it."""

    thread: threading.Thread

    def close(self) -> None:
        """Stop serving and free the port."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class LoopbackServer(_Served):
    """An HTTP server on 127.0.0.1 with a few misbehaving routes.

    ``files[path] = bytes`` serves 200; ``/redirect/<n>/<path>`` redirects n
    times then to ``path``; ``/loop/a`` and ``/loop/b`` redirect to each
    other; ``/slow/<path>`` sends half of ``path`` then stalls;
    ``/truncated/<path>`` announces the full length and sends half; anything
    else is 404. An exact entry of ``files`` wins over these routes.
    """

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests: list[str] = []
        self.stop = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                outer.requests.append(self.path)
                outer.handle(self)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def base(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        """Absolute URL of ``path``."""
        return self.base + path

    def handle(self, req: http.server.BaseHTTPRequestHandler) -> None:
        path = req.path
        exact = self.files.get(path)
        if exact is not None:  # an exact entry wins over the special routes
            self._head(req, 200, len(exact))
            req.wfile.write(exact)
            return None
        if path.startswith("/redirect/"):
            _, _, count, rest = path.split("/", 3)
            n = int(count)
            target = f"/redirect/{n - 1}/{rest}" if n > 1 else "/" + rest
            return self._redirect(req, target)
        if path == "/loop/a":
            return self._redirect(req, "/loop/b")
        if path == "/loop/b":
            return self._redirect(req, self.url("/loop/a"))
        if path.startswith(("/slow/", "/truncated/")):
            route, _, rest = path[1:].partition("/")
            data = self.files.get("/" + rest)
            if data is not None:
                # Half of it, announced whole: then a stall, or the end of the connection.
                self._head(req, 200, len(data))
                req.wfile.write(data[: len(data) // 2])
                req.wfile.flush()
                if route == "slow":
                    self.stop.wait(30)
                else:
                    req.close_connection = True
                return None
        data = self.files.get(path)
        if data is None:
            body = b"File not found\n"
            self._head(req, 404, len(body))
            req.wfile.write(body)
            return None
        self._head(req, 200, len(data))
        req.wfile.write(data)
        return None

    @staticmethod
    def _head(req: http.server.BaseHTTPRequestHandler, status: int, length: int) -> None:
        req.send_response(status)
        req.send_header("Content-Length", str(length))
        req.send_header("Content-Type", "application/octet-stream")
        req.end_headers()

    @staticmethod
    def _redirect(req: http.server.BaseHTTPRequestHandler, target: str) -> None:
        req.send_response(302)
        req.send_header("Location", target)
        req.send_header("Content-Length", "0")
        req.end_headers()

    def close(self) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture
def http_server() -> Iterator[LoopbackServer]:
    """A running loopback HTTP server, stopped after the test."""
    with LoopbackServer() as server:
        yield server


# --- repositories ------------------------------------------------------------------


@pytest.fixture
def run_cmd() -> Callable[..., str]:
    """``run_cmd(argv, cwd=None, **env)``: run a setup command, fail on error."""
    return run


@pytest.fixture
def make_tree() -> Callable[[Path, dict[str, bytes | str]], None]:
    """``make_tree(root, files)``: write a small tree (see :func:`write_tree`)."""
    return write_tree


@pytest.fixture
def git_env() -> dict[str, str]:
    """Environment for setting up git repositories in tests."""
    return dict(GIT_ENV)


# --- a loopback FTP server (passive mode, RETR and SIZE only) ------------------------


class LoopbackFtp(_Served):
    """Enough of an FTP server for ``ftplib``: anonymous login, SIZE, PASV, RETR."""

    def __init__(self) -> None:
        import socketserver

        self.files: dict[str, bytes] = {}
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write((line + "\r\n").encode())

            def handle(self) -> None:
                import socket

                self.reply("220 loopback ftp")
                passive: socket.socket | None = None
                for raw in self.rfile:
                    command, _, arg = raw.decode().strip().partition(" ")
                    command = command.upper()
                    if command in ("USER", "PASS", "TYPE"):
                        self.reply(
                            "331 ok"
                            if command == "USER"
                            else "230 ok"
                            if command == "PASS"
                            else "200 ok"
                        )
                    elif command == "SIZE":
                        data = outer.files.get(arg)
                        self.reply(f"213 {len(data)}" if data is not None else "550 no such file")
                    elif command == "PASV":
                        passive = socket.socket()
                        passive.bind(("127.0.0.1", 0))
                        passive.listen(1)
                        port = passive.getsockname()[1]
                        self.reply(
                            f"227 Entering Passive Mode (127,0,0,1,{port // 256},{port % 256})"
                        )
                    elif command == "RETR":
                        data = outer.files.get(arg)
                        if data is None or passive is None:
                            if passive is not None:
                                passive.close()
                                passive = None
                            self.reply("550 no such file")
                            continue
                        self.reply("150 sending")
                        conn, _ = passive.accept()
                        conn.sendall(data)
                        conn.close()
                        passive.close()
                        passive = None
                        self.reply("226 done")
                    elif command == "QUIT":
                        self.reply("221 bye")
                        break
                    else:
                        self.reply("502 not implemented")
                if passive is not None:
                    passive.close()

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def close(self) -> None:
        """Stop serving and free the port."""
        self.server.shutdown()
        self.server.server_close()

    def url(self, path: str) -> str:
        """``ftp://127.0.0.1:PORT/path``."""
        return f"ftp://127.0.0.1:{self.server.server_address[1]}{path}"


@pytest.fixture
def ftp_server() -> Iterator[LoopbackFtp]:
    """A running loopback FTP server, stopped after the test."""
    with LoopbackFtp() as server:
        yield server
