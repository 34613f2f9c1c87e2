"""The asynchronous HTTP/1.1 client every web probe shares.

Probes ask many small questions (a HEAD, a JSON look-up, a narinfo) of a
few hosts, so the client keeps connections alive and re-uses them, limits
the questions in flight (overall and per ``host:port``), gives each
attempt a connect and a read timeout, retries network errors, timeouts
and 5xx replies with exponential backoff, and follows redirects.

Rate limits are honoured per host: a ``429`` with ``Retry-After``, or a
reply saying ``X-RateLimit-Remaining: 0`` until ``X-RateLimit-Reset``
(Software Heritage's headers), holds every later question to that host
until then — by waiting, when the wait is at most
:attr:`ArchiveConfig.max_rate_wait`, or else by failing at once with
:attr:`ErrorClass.RATE_LIMITED` rather than hammering the service.

TLS certificates are not verified, as in Guix's own downloads: a probe
only learns whether something exists, and a fetch checks the hash anyway.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import email.utils
import functools
import ssl
import time
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from revive.core.archive.answer import ErrorClass
from revive.core.archive.config import ArchiveConfig

__all__ = ["Response", "ProbeFailure", "HttpClient", "USER_AGENT"]

USER_AGENT: Final = "guix-revive-archival-probe"
"""What the probes call themselves."""

_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS: Final = 5
_MAX_RATE_RETRIES: Final = 3
_HEADER_LIMIT: Final = 100


@dataclass(frozen=True, slots=True)
class Response:
    """A reply: status, headers (lower-case names), body (maybe cut short)."""

    status: int
    """HTTP status code."""
    headers: Mapping[str, str]
    """Header values by lower-case name (the last one wins)."""
    body: bytes
    """The body, at most the limit asked for (empty for HEAD)."""
    url: str
    """The URL that gave this reply (after redirects)."""


class ProbeFailure(Exception):
    """A question that got no usable answer: its error class and one line."""

    def __init__(self, error: ErrorClass, message: str) -> None:
        super().__init__(message)
        self.error = error
        """Why (network, timeout, rate-limited…)."""
        self.message = message
        """One line for users."""


class _Retry(Exception):
    """An attempt failed in a way worth another try."""

    def __init__(self, error: ErrorClass, message: str, wait: float | None = None) -> None:
        super().__init__(message)
        self.error = error
        self.message = message
        self.wait = wait


class _Limiter:
    """At most ``size`` holders at once; waiters served in order.

    Not :class:`asyncio.Semaphore`: with a thousand questions waiting, its
    release scans the already-woken waiters each time; here a release hands
    the slot to the next waiter directly.
    """

    def __init__(self, size: int) -> None:
        self._free = max(1, size)
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    async def __aenter__(self) -> None:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # handed a slot while being cancelled: pass it on
            raise

    async def __aexit__(self, *exc: object) -> None:
        self._release()

    def _release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._free += 1


@dataclass(slots=True)
class _Host:
    """Per ``host:port`` state: idle connections, a slot limit, a rate-limit hold."""

    slots: _Limiter
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = field(default_factory=list)
    hold_until: float = 0.0


class HttpClient:
    """Keeps connections and limits for one audit; use as an async context manager.

    Args:
        config: limits, timeouts, retries (:class:`ArchiveConfig`).
    """

    def __init__(self, config: ArchiveConfig) -> None:
        self.config = config
        """The limits and timeouts in force."""
        self._slots = _Limiter(config.concurrency)
        self._hosts: dict[tuple[str, str, int], _Host] = {}
        self._tls = ssl.create_default_context()
        self._tls.check_hostname = False
        self._tls.verify_mode = ssl.CERT_NONE
        self.requests = 0
        """Requests sent so far (for benchmarks and tests)."""

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every idle connection."""
        for host in self._hosts.values():
            while host.idle:
                _, writer = host.idle.pop()
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        max_body: int = 1 << 20,
        follow_redirects: bool = True,
    ) -> Response:
        """Send ``method url`` and return the final reply (any status below 500).

        Raises:
            ProbeFailure: no usable reply after the retries (network,
                timeout, rate-limited, or a 5xx: server-error).
        """
        current = url
        for _ in range(_MAX_REDIRECTS + 1):
            response = await self._with_retries(method, current, headers or {}, max_body)
            location = response.headers.get("location")
            if not (follow_redirects and response.status in _REDIRECTS and location):
                return response
            target = urllib.parse.urljoin(current, location)
            if urllib.parse.urlsplit(target).scheme not in ("http", "https"):
                return response  # e.g. to ftp://: the caller decides
            current = target
        raise ProbeFailure(ErrorClass.NETWORK, f"{url}: more than {_MAX_REDIRECTS} redirects")

    # --- attempts -------------------------------------------------------------------------

    async def _with_retries(
        self, method: str, url: str, headers: Mapping[str, str], max_body: int
    ) -> Response:
        # Thousands of URLs share a few origins: split the origin once each.
        origin, slash, rest = url.partition("://")[2].partition("/")
        origin = url[: url.index("://") + 3 + len(origin)] if "://" in url else url
        key = _origin_key(origin)
        if key is None:
            raise ProbeFailure(ErrorClass.NETWORK, f"{url}: not an http(s) URL")
        host = self._hosts.get(key)
        if host is None:
            host = self._hosts[key] = _Host(_Limiter(self.config.per_host))
        target = (slash + rest).split("#", 1)[0] or "/"
        delay = self.config.backoff
        failures = rate_waits = 0
        while True:
            if host.hold_until:
                await self._respect_hold(host, url)
            try:
                async with self._slots, host.slots:
                    response = await self._attempt(host, key, method, target, headers, max_body)
                response = Response(response.status, response.headers, response.body, url)
                self._note_rate_headers(host, response)
                if response.status == 429:
                    wait = _retry_after(response.headers.get("retry-after"))
                    host.hold_until = max(host.hold_until, time.time() + (wait or delay))
                    rate_waits += 1
                    if rate_waits > _MAX_RATE_RETRIES or (wait or 0.0) > self.config.max_rate_wait:
                        raise ProbeFailure(
                            ErrorClass.RATE_LIMITED,
                            f"{url}: rate-limited (429"
                            + (f", retry after {wait:g} s)" if wait is not None else ")"),
                        )
                    continue
                if response.status >= 500:
                    raise _Retry(ErrorClass.SERVER, f"{url}: HTTP {response.status}")
                return response
            except _Retry as err:
                failures += 1
                if failures > self.config.retries:
                    raise ProbeFailure(err.error, err.message) from None
                await asyncio.sleep(delay)
                delay *= 2

    async def _respect_hold(self, host: _Host, url: str) -> None:
        wait = host.hold_until - time.time()
        if wait <= 0:
            return
        if wait > self.config.max_rate_wait:
            raise ProbeFailure(
                ErrorClass.RATE_LIMITED, f"{url}: rate limit exhausted for another {wait:.0f} s"
            )
        await asyncio.sleep(wait)

    def _note_rate_headers(self, host: _Host, response: Response) -> None:
        remaining = response.headers.get("x-ratelimit-remaining")
        reset = response.headers.get("x-ratelimit-reset")
        if remaining is None or reset is None:
            return
        try:
            if int(remaining) > 0:
                return
            until = float(reset)
        except ValueError:
            return
        host.hold_until = max(host.hold_until, until)

    async def _attempt(
        self,
        host: _Host,
        key: tuple[str, str, int],
        method: str,
        target: str,
        headers: Mapping[str, str],
        max_body: int,
    ) -> Response:
        scheme, hostname, port = key
        default_port = 443 if scheme == "https" else 80
        host_header = hostname if port == default_port else f"{hostname}:{port}"
        lines = [f"{method} {target} HTTP/1.1", f"Host: {host_header}"]
        lines.append(f"User-Agent: {USER_AGENT}")
        lines.append("Accept: */*")
        lines.extend(f"{name}: {value}" for name, value in headers.items())
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        # A pooled connection may have been closed by the server meanwhile:
        # a failure before any reply byte on one is retried on a fresh one.
        while True:
            reused = bool(host.idle)
            reader, writer = host.idle.pop() if reused else await self._connect(key)
            try:
                self.requests += 1
                async with asyncio.timeout(self.config.read_timeout):
                    writer.write(request)
                    if writer.transport.get_write_buffer_size():
                        await writer.drain()
                    try:
                        head = await reader.readuntil(b"\r\n\r\n")
                    except asyncio.IncompleteReadError as err:
                        if not err.partial:
                            raise ConnectionResetError("connection closed before a reply") from None
                        raise
                    response, keep = await _read_reply(head, reader, method, max_body)
            except TimeoutError:
                writer.close()
                raise _Retry(
                    ErrorClass.TIMEOUT, f"{scheme}://{host_header}: no reply in time"
                ) from None
            except (OSError, asyncio.IncompleteReadError, ValueError) as err:
                writer.close()
                if reused:
                    continue
                raise _Retry(
                    ErrorClass.NETWORK, f"{scheme}://{host_header}: {_describe(err)}"
                ) from None
            except BaseException:
                writer.close()  # cancelled mid-reply: the connection is of no further use
                raise
            if keep:
                host.idle.append((reader, writer))
            else:
                writer.close()
            return response

    async def _connect(
        self, key: tuple[str, str, int]
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        scheme, hostname, port = key
        try:
            async with asyncio.timeout(self.config.connect_timeout):
                if scheme == "https":
                    return await asyncio.open_connection(
                        hostname, port, ssl=self._tls, server_hostname=hostname
                    )
                return await asyncio.open_connection(hostname, port)
        except TimeoutError:
            raise _Retry(ErrorClass.TIMEOUT, f"{hostname}:{port}: connection timed out") from None
        except OSError as err:
            raise _Retry(ErrorClass.NETWORK, f"{hostname}:{port}: {_describe(err)}") from None


@functools.lru_cache(maxsize=1024)
def _origin_key(origin: str) -> tuple[str, str, int] | None:
    """``(scheme, host, port)`` of ``scheme://host[:port]``, or ``None`` if not http(s)."""
    parts = urllib.parse.urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    return parts.scheme, parts.hostname, port


async def _read_reply(
    head: bytes, reader: asyncio.StreamReader, method: str, max_body: int
) -> tuple[Response, bool]:
    """Parse one reply (``head``: up to the blank line); returns it and whether the
    connection can be re-used."""
    status_line, *lines = head.decode("latin-1").split("\r\n")
    parts = status_line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise ValueError(f"not an HTTP reply: {status_line[:40]!r}")
    status = int(parts[1])
    if len(lines) > _HEADER_LIMIT:
        raise ValueError("too many header lines")
    headers: dict[str, str] = {}
    for line in lines:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    keep = headers.get("connection", "").lower() != "close" and parts[0] != "HTTP/1.0"
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return Response(status, headers, b"", ""), keep
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body, complete = await _read_chunked(reader, max_body)
        return Response(status, headers, body, ""), keep and complete
    length_text = headers.get("content-length")
    if length_text is None:
        body = await reader.read(max_body)
        return Response(status, headers, body, ""), False
    length = int(length_text)
    if length > max_body:
        # Not worth reading (a server ignoring our Range): drop the connection.
        return Response(status, headers, await reader.readexactly(max_body), ""), False
    return Response(status, headers, await reader.readexactly(length), ""), keep


async def _read_chunked(reader: asyncio.StreamReader, max_body: int) -> tuple[bytes, bool]:
    body = bytearray()
    while True:
        size_line = await reader.readline()
        size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass
            return bytes(body), True
        if len(body) + size > max_body:
            body += await reader.readexactly(max_body - len(body))
            return bytes(body), False
        body += await reader.readexactly(size)
        await reader.readline()


def _retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` value (delta seconds or an HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _describe(err: BaseException) -> str:
    if isinstance(err, asyncio.IncompleteReadError):
        return "connection closed in the middle of a reply"
    if isinstance(err, OSError) and err.strerror:
        return err.strerror
    return str(err) or type(err).__name__
