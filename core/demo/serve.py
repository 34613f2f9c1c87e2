"""Loopback servers for the demo's sources (``guix-revive --demo-serve``).

One HTTP server on 127.0.0.1 plays every host the demo's derivations and
mirror lists name, so that the demo's story runs with no network at all:

* ``/h/<scheme>/<host>/<path>`` — the upstream web and FTP servers: a file
  is served if the demo has it at that URL (``mirror://`` URLs expanded with
  both the derivation's own era table and today's), anything else is 404 —
  in particular the gone tarball and the moved git repository;
* ``/cas/<algo>/<nix-base32>`` — a content-addressed mirror, which has the
  gone tarball;
* ``/nar/<output base name>`` — a nar mirror (uncompressed NARs), which has
  the moved repository's checkout;
* ``/swh/api/1/…``, ``/disarchive/…`` and ``/<hash>.narinfo`` — Software
  Heritage, a Disarchive mirror and a substitute server, answering the
  archival probes (what each has: :mod:`revive.core.demo.archive_services`).

Version-control repositories are local copies reached through ``file://``
URLs (CVS: a local root). :meth:`DemoServers.fetch_options` returns the
:class:`~revive.core.builders.options.FetchOptions` whose ``url_rewrites``
send every demo URL prefix to these places, and
:meth:`DemoServers.mirror_config` today's mirror table with its
content-addressed templates pointing at the loopback mirror (the
configuration a rewrite uses for the demo).

The server prefers the fixed port :data:`DEFAULT_PORT`, so that the
mirror config — hence the rewritten ``.drv`` paths — is the same from one
run to the next; if that port is taken it takes any free one.
"""

from __future__ import annotations

import asyncio
import dataclasses
import http.server
import shutil
import threading
import urllib.parse
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Final

from revive.core.builders.nar_mirror import ERA_NAR_BASES
from revive.core.builders.options import FetchOptions
from revive.core.demo.model import DemoEnvironment
from revive.core.fetch.mirrors import (
    MirrorConfig,
    MirrorError,
    default_mirror_config,
    expand_url,
)

__all__ = ["DEFAULT_PORT", "DemoServers", "served_url"]

DEFAULT_PORT: Final = 47020
"""The port tried first (the demo's rewritten ``.drv`` paths depend on it)."""

_HOST: Final = "127.0.0.1"

# Hosts builders may fall back to that no mirror list names: today's
# (Internet Archive, Software Heritage, substitute servers) and the nar
# servers the old git, hg and cvs scripts ask (berlin.guixsd.org,
# mirror.hydra.gnu.org…: long gone, and never to be reached from the demo).
_FALLBACK_PREFIXES: Final = (
    "https://web.archive.org/",
    "https://archive.softwareheritage.org/",
    "https://ci.guix.gnu.org/",
    "https://bordeaux.guix.gnu.org/",
    *(f"{base.rstrip('/')}/" for base in ERA_NAR_BASES),
)


def served_url(base: str, url: str) -> str:
    """Where the loopback server at ``base`` answers for the upstream ``url``."""
    parts = urllib.parse.urlsplit(url)
    path = f"{base}/h/{parts.scheme}/{parts.netloc}{parts.path or '/'}"
    return path + (f"?{parts.query}" if parts.query else "")


class DemoServers:
    """The demo's loopback servers; a context manager, sync or async.

    Args:
        env: the generated demo.
        port: the port to use (``None``: :data:`DEFAULT_PORT` if free, else any).
        mirror_config: today's mirror data (:func:`default_mirror_config` by default).
    """

    def __init__(
        self,
        env: DemoEnvironment,
        *,
        port: int | None = None,
        mirror_config: MirrorConfig | None = None,
    ) -> None:
        self.env = env
        """The demo being served."""
        self._wanted_port = port
        self._today = mirror_config or default_mirror_config()
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._files: dict[str, Path] = {}
        self._documents: dict[str, tuple[str, bytes]] = {}
        self._lock = threading.Lock()
        self._requests: list[tuple[str, int]] = []

    # --- lifecycle -------------------------------------------------------------------

    def start(self) -> DemoServers:
        """Start serving (in a background thread); returns ``self``."""
        if self._server is not None:
            return self
        self._files = self._routes()
        self._documents = _archive_documents(self.env)
        handler = _make_handler(self)
        if self._wanted_port is not None:
            server = http.server.ThreadingHTTPServer((_HOST, self._wanted_port), handler)
        else:
            try:
                server = http.server.ThreadingHTTPServer((_HOST, DEFAULT_PORT), handler)
            except OSError:
                server = http.server.ThreadingHTTPServer((_HOST, 0), handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="guix-revive-demo-http",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port (idempotent)."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join()

    def __enter__(self) -> DemoServers:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> DemoServers:
        return self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # shutdown() waits for the serving loop: not on the event loop's thread.
        await asyncio.to_thread(self.stop)

    # --- what clients need ---------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port the HTTP server listens on."""
        if self._server is None:
            raise RuntimeError("the demo servers are not running")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://{_HOST}:{self.port}"

    @property
    def requests(self) -> tuple[tuple[str, int], ...]:
        """Every request served so far: ``(path, status)``."""
        with self._lock:
            return tuple(self._requests)

    def url_rewrites(self) -> tuple[tuple[str, str], ...]:
        """``(old prefix, new prefix)``: every demo URL prefix to its loopback place.

        Repositories first (``file://`` URLs, or a local CVS root), then every
        web and FTP host the demo or today's mirror lists name.
        """
        upstream = self.env.upstream_dir.absolute()
        rewrites: list[tuple[str, str]] = []
        for vcs in self.env.vcs:
            local = upstream / vcs.local
            target = local.as_uri() + "/" if vcs.form == "file-url" else str(local)
            rewrites.append((vcs.prefix, target))
        taken = {old for old, _ in rewrites}
        for prefix in sorted(set(self._web_prefixes()) - taken):
            rewrites.append((prefix, served_url(self.base_url, prefix)))
        return tuple(rewrites)

    def fetch_options(self, base: FetchOptions | None = None) -> FetchOptions:
        """``base`` (defaults otherwise) with the demo's rewrites and nar mirror.

        Timeouts are short and there are no retries: everything is local, and
        a 404 is final.
        """
        options = base or FetchOptions(connect_timeout=5.0, read_timeout=30.0, retries=0)
        return dataclasses.replace(
            options, url_rewrites=self.url_rewrites(), nar_mirrors=(self.base_url,)
        )

    def mirror_config(self) -> MirrorConfig:
        """Today's mirror table; content-addressed mirrors: the loopback one only."""
        return self._today.replace(
            version=f"{self._today.version}+demo-{self.port}",
            content_addressed=(f"{self.base_url}/cas/{{algo}}/{{nix32}}",),
        )

    # --- routing ---------------------------------------------------------------------

    def _web_prefixes(self) -> Iterable[str]:
        yield from self.env.prefixes
        yield from (_prefix(p) for p in _FALLBACK_PREFIXES)
        for _kind, bases in self._today.mirrors:
            yield from (_prefix(b) for b in bases)
        for template in (*self._today.content_addressed, *self._today.disarchive):
            yield _prefix(template)

    def _routes(self) -> dict[str, Path]:
        """Request path (with query) → file, for everything the server has."""
        upstream = self.env.upstream_dir
        base = "http://x"  # only the path part of served_url() is kept
        table = self._today.mirror_table()
        by_url: dict[str, str] = dict(self.env.http_files)
        for source in self.env.sources:
            if source.status != "ok":
                continue
            for url in source.urls:
                try:
                    expanded = expand_url(url, table)
                except MirrorError:
                    continue  # a kind today's table lacks: only the old table has it
                for one in expanded:
                    by_url.setdefault(one, source.upstream)
        routes = {
            served_url(base, url)[len(base) :]: upstream / relative
            for url, relative in by_url.items()
        }
        for key, relative in self.env.content_addressed:
            routes[f"/cas/{key}"] = upstream / relative
        for name, relative in self.env.nars:
            routes[f"/nar/{name}"] = upstream / relative
        return routes

    def _lookup(self, path: str) -> Path | None:
        return self._files.get(path)

    def _document(self, path: str) -> tuple[str, bytes] | None:
        return self._documents.get(path)

    def _log(self, path: str, status: int) -> None:
        with self._lock:
            self._requests.append((path, status))


def _archive_documents(env: DemoEnvironment) -> dict[str, tuple[str, bytes]]:
    # Imported here: the archive package imports this module's types.
    from revive.core.demo.archive_services import demo_archive_documents

    return demo_archive_documents(env)


def _prefix(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


def _make_handler(servers: DemoServers) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        """Serves the demo's files; 404 for everything else."""

        server_version = "guix-revive-demo"
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self._answer(body=True)

        def do_HEAD(self) -> None:  # noqa: N802
            self._answer(body=False)

        def _answer(self, body: bool) -> None:
            document = servers._document(self.path)
            if document is not None:
                servers._log(self.path, 200)
                self.send_response(200)
                self.send_header("Content-Type", document[0])
                self.send_header("Content-Length", str(len(document[1])))
                self.end_headers()
                if body:
                    self.wfile.write(document[1])
                return
            file = servers._lookup(self.path)
            if file is None or not file.is_file():
                message = b"Not Found\n"
                servers._log(self.path, 404)
                self.send_response(404)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(message)))
                self.end_headers()
                if body:
                    self.wfile.write(message)
                return
            servers._log(self.path, 200)
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(file.stat().st_size))
            self.end_headers()
            if body:
                with file.open("rb") as handle:
                    shutil.copyfileobj(handle, self.wfile)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: requests are recorded in :attr:`DemoServers.requests`."""

    return Handler
