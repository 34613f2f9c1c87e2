"""Download one URL into a file: HTTP, HTTPS and FTP, with the rules Guix follows.

The transfer runs in a worker thread (``http.client``/``ftplib`` block), and
reports progress through a callback. A :class:`~revive.core.builders.threads.CancelToken` stops it
between two chunks, and shuts the socket down if it is blocked waiting.

Rules (``guix-derivations.md`` §7.4): redirects are followed (a bounded
number, and a loop is an error rather than a spin); TLS certificates are
*not* verified, as in ``guix perform-download``, because the expected hash
authenticates the result; a body shorter than its ``Content-Length`` is a
failure, never a result.
"""

from __future__ import annotations

import ftplib
import http.client
import socket
import ssl
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

from revive.core.builders.errors import FetchError
from revive.core.builders.options import FetchOptions
from revive.core.builders.threads import CancelToken
from revive.core.stores.api import FailureReason

__all__ = ["Transfer", "download", "CHUNK_SIZE"]

CHUNK_SIZE: Final = 256 * 1024
"""Bytes read from the network at a time."""

_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})
_RETRYABLE: Final = frozenset({FailureReason.TIMEOUT, FailureReason.TRANSFER_ERROR})
_LOCAL_HOSTS: Final = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True, slots=True)
class Transfer:
    """A finished download."""

    url: str
    """The URL finally fetched (after redirects)."""
    size: int
    """Bytes written."""


class _Cancelled(Exception):
    """The download was asked to stop."""


def download(
    url: str,
    dest: Path,
    options: FetchOptions,
    *,
    log: Callable[[str], None],
    progress: Callable[[int, int | None], None],
    cancel: CancelToken,
) -> Transfer:
    """Fetch ``url`` into the new file ``dest``, retrying transient failures.

    Blocking: run it in a thread. ``log`` and ``progress`` are called from
    that thread.

    Raises:
        FetchError: the failure, classified (``NOT_FOUND``, ``TIMEOUT``,
            ``NETWORK_UNREACHABLE``, ``TRANSFER_ERROR``, ``BUILDER_UNSUPPORTED``
            for a scheme that cannot be fetched, ``CANCELLED``).
    """
    job = _Job(dest, options, log, progress, cancel)
    delay = options.retry_delay
    for attempt in range(options.retries + 1):
        try:
            return _download_once(url, job)
        except FetchError as err:
            dest.unlink(missing_ok=True)
            if cancel.is_set():
                # A socket shut down by the cancellation looks like a reset.
                raise FetchError(FailureReason.CANCELLED, "cancelled") from None
            if err.reason not in _RETRYABLE or attempt == options.retries:
                raise
            log(f"{err.detail}; retrying in {delay:g} s")
            if cancel.wait(delay):
                raise FetchError(FailureReason.CANCELLED, "cancelled") from None
            delay *= 2
        except _Cancelled:
            dest.unlink(missing_ok=True)
            raise FetchError(FailureReason.CANCELLED, "cancelled") from None
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class _Job:
    """What one download writes to and reports through, shared by its attempts."""

    dest: Path
    options: FetchOptions
    log: Callable[[str], None]
    progress: Callable[[int, int | None], None]
    cancel: CancelToken


def _download_once(url: str, job: _Job) -> Transfer:
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme in ("http", "https"):
        return _http(url, job)
    if scheme == "ftp":
        return _ftp(url, job)
    raise FetchError(FailureReason.BUILDER_UNSUPPORTED, f"{url}: unsupported URL scheme")


# --- HTTP --------------------------------------------------------------------


def _http(url: str, job: _Job) -> Transfer:
    seen = {url}
    current = url
    for _ in range(job.options.max_redirects + 1):
        conn, response = _request(current, job.options, job.cancel)
        try:
            status = response.status
            if status in _REDIRECTS:
                location = response.getheader("Location")
                if not location:
                    raise FetchError(
                        FailureReason.TRANSFER_ERROR, f"{current}: HTTP {status} without Location"
                    )
                target = urllib.parse.urljoin(current, location)
                if target in seen:
                    raise FetchError(
                        FailureReason.TRANSFER_ERROR, f"{url}: redirect loop at {target}"
                    )
                seen.add(target)
                job.log(f"redirected ({status}) to {target}")
                current = target
                continue
            if status != 200:
                raise _status_error(current, status, response.reason)
            return Transfer(current, _receive(current, response, job))
        finally:
            conn.close()
    raise FetchError(
        FailureReason.TRANSFER_ERROR, f"{url}: more than {job.options.max_redirects} redirects"
    )


def _status_error(url: str, status: int, reason: str) -> FetchError:
    text = f"{url}: HTTP {status} {reason}".rstrip()
    if status in (408, 429) or status >= 500:
        return FetchError(FailureReason.TRANSFER_ERROR, text)
    return FetchError(FailureReason.NOT_FOUND, text)


def _request(
    url: str, options: FetchOptions, cancel: CancelToken
) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:
        raise FetchError(FailureReason.NOT_FOUND, f"{url}: invalid port") from None
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    proxy = _proxy_for(parts.scheme, host)
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        conn = http.client.HTTPSConnection(
            proxy[0] if proxy else host,
            proxy[1] if proxy else port,
            timeout=options.connect_timeout,
            context=_tls_context(),
        )
        if proxy:
            conn.set_tunnel(host, port)
    else:
        conn = http.client.HTTPConnection(
            proxy[0] if proxy else host,
            proxy[1] if proxy else port,
            timeout=options.connect_timeout,
        )
        if proxy:
            target = url
    try:
        conn.connect()
        sock = conn.sock
        if sock is not None:
            sock.settimeout(options.read_timeout)
            cancel.on_cancel(lambda: sock.shutdown(socket.SHUT_RDWR))
        conn.putrequest("GET", target, skip_accept_encoding=True)
        conn.putheader("User-Agent", options.user_agent)
        conn.putheader("Accept", "*/*")
        conn.putheader("Accept-Encoding", "identity")
        conn.putheader("Connection", "close")
        conn.endheaders()
        return conn, conn.getresponse()
    except BaseException as err:
        conn.close()
        if isinstance(err, Exception):
            raise _network_error(url, err) from None
        raise


def _receive(url: str, response: http.client.HTTPResponse, job: _Job) -> int:
    length = response.getheader("Content-Length")
    total = int(length) if length and length.isdigit() else None
    with open(job.dest, "xb") as out:
        done = _copy(response, out, total, job.progress, job.cancel, url)
    if total is not None and done < total:
        raise FetchError(
            FailureReason.TRANSFER_ERROR, f"{url}: truncated body ({done} of {total} bytes)"
        )
    return done


def _copy(
    source: BinaryIO | http.client.HTTPResponse,
    out: BinaryIO,
    total: int | None,
    progress: Callable[[int, int | None], None],
    cancel: CancelToken,
    url: str,
) -> int:
    meter = _Meter(total, progress)
    while True:
        if cancel.is_set():
            raise _Cancelled
        try:
            chunk = source.read(CHUNK_SIZE)
        except http.client.IncompleteRead as err:
            raise FetchError(
                FailureReason.TRANSFER_ERROR,
                f"{url}: truncated body ({meter.done + len(err.partial)} bytes received)",
            ) from None
        except Exception as err:
            raise _network_error(url, err) from None
        if not chunk:
            if cancel.is_set():
                raise _Cancelled
            break
        out.write(chunk)
        meter.add(len(chunk))
    if meter.reported != meter.done or meter.done == 0:
        progress(meter.done, total)
    return meter.done


class _Meter:
    """Bytes received so far, passed to ``progress`` every 2 % of ``total``.

    At most every :data:`CHUNK_SIZE` bytes too: a user interface redrawing
    on every chunk of a fast download would spend its time redrawing.
    Creating it reports 0 bytes.
    """

    __slots__ = ("done", "progress", "reported", "step", "total")

    def __init__(self, total: int | None, progress: Callable[[int, int | None], None]) -> None:
        self.total = total
        self.progress = progress
        self.done = 0
        self.reported = 0
        self.step = max(CHUNK_SIZE, (total or 0) // 50)
        progress(0, total)

    def add(self, count: int) -> None:
        """Count ``count`` more bytes, reporting them if a step has passed."""
        self.done += count
        if self.done - self.reported >= self.step:
            self.progress(self.done, self.total)
            self.reported = self.done


def _tls_context() -> ssl.SSLContext:
    # Like `guix perform-download`: no certificate check, the hash is the
    # authentication (and old mirrors' certificates have long expired).
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _proxy_for(scheme: str, host: str) -> tuple[str, int] | None:
    if host in _LOCAL_HOSTS:
        return None
    proxies = urllib.request.getproxies()
    proxy = proxies.get(scheme)
    if not proxy or urllib.request.proxy_bypass(host):
        return None
    parts = urllib.parse.urlsplit(proxy if "://" in proxy else "http://" + proxy)
    if not parts.hostname:
        return None
    return parts.hostname, parts.port or 80


def _network_error(url: str, err: BaseException) -> FetchError:
    if isinstance(err, FetchError):
        return err
    if isinstance(err, socket.gaierror):
        return FetchError(
            FailureReason.NETWORK_UNREACHABLE, f"{url}: cannot resolve host ({err.strerror})"
        )
    if isinstance(err, TimeoutError):
        return FetchError(FailureReason.TIMEOUT, f"{url}: timed out")
    if isinstance(err, ConnectionRefusedError):
        return FetchError(FailureReason.NETWORK_UNREACHABLE, f"{url}: connection refused")
    if isinstance(err, ssl.SSLError):
        return FetchError(FailureReason.TRANSFER_ERROR, f"{url}: TLS error ({err.reason})")
    if isinstance(err, http.client.HTTPException):
        return FetchError(FailureReason.TRANSFER_ERROR, f"{url}: {type(err).__name__} {err}")
    if isinstance(err, ConnectionError):
        return FetchError(FailureReason.TRANSFER_ERROR, f"{url}: {err.strerror or err}")
    if isinstance(err, OSError):
        if err.errno in (101, 113):  # ENETUNREACH, EHOSTUNREACH
            return FetchError(FailureReason.NETWORK_UNREACHABLE, f"{url}: {err.strerror}")
        return FetchError(FailureReason.TRANSFER_ERROR, f"{url}: {err.strerror or err}")
    return FetchError(FailureReason.TRANSFER_ERROR, f"{url}: {err}")


# --- FTP ---------------------------------------------------------------------


def _ftp(url: str, job: _Job) -> Transfer:
    options, progress, cancel = job.options, job.progress, job.cancel
    parts = urllib.parse.urlsplit(url)
    path = urllib.parse.unquote(parts.path)
    ftp = ftplib.FTP(timeout=options.connect_timeout)
    try:
        ftp.connect(parts.hostname or "", parts.port or 21)
        control = ftp.sock
        if control is not None:
            control.settimeout(options.read_timeout)
            cancel.on_cancel(lambda: control.shutdown(socket.SHUT_RDWR))
        ftp.login(
            urllib.parse.unquote(parts.username or "anonymous"),
            urllib.parse.unquote(parts.password or "guix-revive@"),
        )
        ftp.voidcmd("TYPE I")
        try:
            total: int | None = ftp.size(path)
        except ftplib.error_perm:
            total = None
        meter = _Meter(total, progress)
        with open(job.dest, "xb") as out:

            def sink(chunk: bytes) -> None:
                if cancel.is_set():
                    raise _Cancelled
                out.write(chunk)
                meter.add(len(chunk))

            ftp.retrbinary("RETR " + path, sink, blocksize=CHUNK_SIZE)
        done = meter.done
        progress(done, total)
        if total is not None and done < total:
            raise FetchError(
                FailureReason.TRANSFER_ERROR, f"{url}: truncated ({done} of {total} bytes)"
            )
        return Transfer(url, done)
    except ftplib.error_perm as err:
        raise FetchError(FailureReason.NOT_FOUND, f"{url}: FTP {err}") from None
    except (ftplib.error_temp, ftplib.error_proto, ftplib.error_reply, EOFError) as err:
        raise FetchError(FailureReason.TRANSFER_ERROR, f"{url}: FTP {err}") from None
    except (OSError, ValueError) as err:
        raise _network_error(url, err) from None
    finally:
        try:
            ftp.close()
        except OSError:  # pragma: no cover - closing a broken connection
            pass
