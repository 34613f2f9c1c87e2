"""Is there a file at this URL? A HEAD (or a one-byte ranged GET), or an FTP ``SIZE``.

Used for upstream URLs and content-addressed mirrors alike. A HEAD is
tried first; servers that refuse HEAD (405, 501, and some 403s) get
``GET`` with ``Range: bytes=0-0``, whose body (one byte, or the start of
the file from a server ignoring ranges) is read only up to a small limit.
FTP URLs are asked ``SIZE`` in a thread (``ftplib`` blocks), anonymously.
"""

from __future__ import annotations

import asyncio
import ftplib
import urllib.parse
from typing import Final

from revive.core.archive.answer import ErrorClass, Status
from revive.core.archive.context import Found, ProbeContext
from revive.core.archive.http_client import ProbeFailure

__all__ = ["url_exists"]

_RETRY_WITH_GET: Final = frozenset({400, 403, 405, 501})
_GONE: Final = frozenset({404, 410})


async def url_exists(ctx: ProbeContext, url: str) -> Found:
    """Whether ``url`` (http, https or ftp; already rewritten) serves a file.

    Raises:
        ProbeFailure: no usable answer (network, timeout, rate-limited, server-error).
    """
    scheme = urllib.parse.urlsplit(url).scheme
    if scheme == "ftp":
        return await _ftp_exists(ctx, url)
    if scheme not in ("http", "https"):
        return Found(Status.MISSING, detail=f"{scheme}: URLs are not fetched by Guix")
    client = ctx.http()
    response = await client.request("HEAD", url)
    if response.status in _RETRY_WITH_GET:
        response = await client.request("GET", url, headers={"Range": "bytes=0-0"}, max_body=1024)
    location = response.headers.get("location", "")
    if 300 <= response.status < 400 and location.startswith("ftp://"):
        return await _ftp_exists(ctx, location)
    if response.status in (200, 206):
        size = response.headers.get("content-length", "")
        if response.status == 206:
            size = response.headers.get("content-range", "").rpartition("/")[2]
        detail = f"HTTP {response.status}" + (f", {size} bytes" if size.isdigit() else "")
        return Found(Status.AVAILABLE, where=url, detail=detail)
    if response.status in _GONE:
        return Found(Status.MISSING, detail=f"HTTP {response.status}")
    return Found(Status.MISSING, detail=f"HTTP {response.status} (not a file)")


async def _ftp_exists(ctx: ProbeContext, url: str) -> Found:
    parts = urllib.parse.urlsplit(url)
    host, port, path = parts.hostname or "", parts.port or 21, urllib.parse.unquote(parts.path)
    timeout = ctx.config.connect_timeout + ctx.config.read_timeout

    def ask() -> Found:
        try:
            with ftplib.FTP(timeout=timeout) as ftp:
                ftp.connect(host, port)
                ftp.login()
                ftp.voidcmd("TYPE I")
                size = ftp.size(path)
        except ftplib.error_perm as err:
            return Found(Status.MISSING, detail=f"FTP {str(err).strip()[:80]}")
        except TimeoutError:
            raise ProbeFailure(ErrorClass.TIMEOUT, f"{url}: FTP server did not answer") from None
        except (OSError, EOFError, ftplib.Error) as err:
            raise ProbeFailure(ErrorClass.NETWORK, f"{url}: {err}") from None
        return Found(Status.AVAILABLE, where=url, detail=f"FTP SIZE {size}")

    async with ctx.processes:
        return await asyncio.to_thread(ask)
