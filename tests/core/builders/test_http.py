"""Downloads over HTTP from a loopback server: every way a server can answer."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest

from revive.core.builders.attempts import fetch_file
from revive.core.builders.context import BuildContext
from revive.core.builders.errors import FetchError
from revive.core.stores.api import BuildProgress, FailureReason

DATA = bytes(range(256)) * 4096  # 1 MiB


async def fetch_failure(ctx: BuildContext, url: str, dest: Path) -> tuple[FailureReason, str]:
    """Why fetching ``url`` into ``dest`` fails, and the message (the test fails if it does not).

    A failed fetch never leaves a partial file behind.
    """
    with pytest.raises(FetchError) as info:
        await fetch_file(ctx, url, dest)
    assert not dest.exists()
    return info.value.reason, str(info.value)


async def test_200_writes_the_bytes_and_reports_progress(http_server, make_ctx, tmp_path):
    http_server.files["/f.bin"] = DATA
    ctx = make_ctx()
    dest = tmp_path / "f.bin"
    size = await fetch_file(ctx, http_server.url("/f.bin"), dest)
    await asyncio.sleep(0)  # let the thread's call_soon_threadsafe events land
    assert size == len(DATA)
    assert hashlib.sha256(dest.read_bytes()).digest() == hashlib.sha256(DATA).digest()
    progress = [e for e in make_ctx.events if isinstance(e, BuildProgress)]
    assert progress[0].done == 0
    assert progress[-1].done == len(DATA)
    assert all(p.total == len(DATA) for p in progress)


async def test_404_is_not_found(http_server, make_ctx, tmp_path):
    ctx = make_ctx()
    assert await fetch_failure(ctx, http_server.url("/missing.tar.gz"), tmp_path / "x") == (
        FailureReason.NOT_FOUND,
        f"{http_server.url('/missing.tar.gz')}: HTTP 404 Not Found",
    )


async def test_redirects_are_followed_and_logged(http_server, make_ctx, tmp_path):
    http_server.files["/f.bin"] = b"payload"
    ctx = make_ctx()
    await fetch_file(ctx, http_server.url("/redirect/3/f.bin"), tmp_path / "x")
    await asyncio.sleep(0)
    assert (tmp_path / "x").read_bytes() == b"payload"
    redirects = [line for line in make_ctx.lines() if line.startswith("redirected")]
    assert redirects == [
        f"redirected (302) to {http_server.url('/redirect/2/f.bin')}",
        f"redirected (302) to {http_server.url('/redirect/1/f.bin')}",
        f"redirected (302) to {http_server.url('/f.bin')}",
    ]


async def test_too_many_redirects(http_server, make_ctx, options, tmp_path):
    http_server.files["/f.bin"] = b"payload"
    ctx = make_ctx(options(max_redirects=2))
    url = http_server.url("/redirect/3/f.bin")
    assert await fetch_failure(ctx, url, tmp_path / "x") == (
        FailureReason.TRANSFER_ERROR,
        f"{url}: more than 2 redirects",
    )


async def test_redirect_loop_is_detected(http_server, make_ctx, tmp_path):
    ctx = make_ctx()
    url = http_server.url("/loop/a")
    assert await fetch_failure(ctx, url, tmp_path / "x") == (
        FailureReason.TRANSFER_ERROR,
        f"{url}: redirect loop at {url}",
    )
    # Two requests, not max_redirects of them: the loop is seen, not spun.
    assert http_server.requests == ["/loop/a", "/loop/b"]


async def test_slow_response_times_out(http_server, make_ctx, options, tmp_path):
    http_server.files["/f.bin"] = DATA
    ctx = make_ctx(options(read_timeout=0.3))
    url = http_server.url("/slow/f.bin")
    assert await fetch_failure(ctx, url, tmp_path / "x") == (
        FailureReason.TIMEOUT,
        f"{url}: timed out",
    )


async def test_timeouts_are_retried(http_server, make_ctx, options, tmp_path):
    http_server.files["/f.bin"] = DATA
    ctx = make_ctx(options(read_timeout=0.2, retries=2, retry_delay=0.01))
    with pytest.raises(FetchError):
        await fetch_file(ctx, http_server.url("/slow/f.bin"), tmp_path / "x")
    assert http_server.requests == ["/slow/f.bin"] * 3
    await asyncio.sleep(0)
    assert sum("retrying" in line for line in make_ctx.lines()) == 2


async def test_truncated_body_is_a_failure(http_server, make_ctx, tmp_path):
    http_server.files["/f.bin"] = DATA
    ctx = make_ctx()
    url = http_server.url("/truncated/f.bin")
    assert await fetch_failure(ctx, url, tmp_path / "x") == (
        FailureReason.TRANSFER_ERROR,
        f"{url}: truncated body ({len(DATA) // 2} of {len(DATA)} bytes)",
    )


async def test_refused_connection_is_network_unreachable(make_ctx, tmp_path):
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ctx = make_ctx()
    url = f"http://127.0.0.1:{port}/x"
    assert await fetch_failure(ctx, url, tmp_path / "x") == (
        FailureReason.NETWORK_UNREACHABLE,
        f"{url}: connection refused",
    )


async def test_unresolvable_host_is_network_unreachable(make_ctx, tmp_path):
    ctx = make_ctx()
    reason, message = await fetch_failure(
        ctx, "http://nonexistent.invalid/x.tar.gz", tmp_path / "x"
    )
    assert reason is FailureReason.NETWORK_UNREACHABLE
    assert message.startswith("http://nonexistent.invalid/x.tar.gz: cannot resolve host")


async def test_unsupported_scheme(make_ctx, tmp_path):
    ctx = make_ctx()
    assert await fetch_failure(ctx, "gopher://example.org/x", tmp_path / "x") == (
        FailureReason.BUILDER_UNSUPPORTED,
        "gopher://example.org/x: unsupported URL scheme",
    )


async def test_cancelling_stops_the_thread_and_removes_the_file(
    http_server, make_ctx, options, tmp_path
):
    http_server.files["/f.bin"] = DATA
    ctx = make_ctx(options(read_timeout=5.0))
    dest = tmp_path / "x"
    task = asyncio.create_task(fetch_file(ctx, http_server.url("/slow/f.bin"), dest))
    while not any(isinstance(e, BuildProgress) and e.done > 0 for e in make_ctx.events):
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The thread was waited for: the partial file is already gone.
    assert not dest.exists()


def test_rewrites_apply_the_first_matching_prefix(options):
    opts = options(
        url_rewrites=(("https://ftp.gnu.org/", "http://127.0.0.1:1/gnu/"), ("https://", "x"))
    )
    assert (
        opts.rewrite("https://ftp.gnu.org/gnu/hello.tar.gz")
        == "http://127.0.0.1:1/gnu/gnu/hello.tar.gz"
    )
    assert opts.rewrite("https://example.org/a") == "xexample.org/a"
    assert opts.rewrite("http://example.org/a") is None


def test_independent_nar_matches_the_doc_vector(nar_of, tmp_path: Path):
    """The test-side NAR serialiser reproduces guix-derivations.md §4.6."""
    f = tmp_path / "hello.txt"
    f.write_bytes(b"Hello, world!\n")
    assert hashlib.sha256(nar_of(f)).hexdigest() == (
        "5849379a8b8cbfc4131d0c0f89ad020ea270d85f161e257b7d52135b58337ece"
    )


async def test_ftp_download(ftp_server, make_ctx, tmp_path):
    ftp_server.files["/pub/gnu/hello-1.0.tar.gz"] = DATA
    ctx = make_ctx()
    dest = tmp_path / "x"
    size = await fetch_file(ctx, ftp_server.url("/pub/gnu/hello-1.0.tar.gz"), dest)
    assert size == len(DATA) and dest.read_bytes() == DATA


async def test_ftp_missing_file_is_not_found(ftp_server, make_ctx, tmp_path):
    ctx = make_ctx()
    url = ftp_server.url("/pub/nope.tar.gz")
    assert await fetch_failure(ctx, url, tmp_path / "x") == (
        FailureReason.NOT_FOUND,
        f"{url}: FTP 550 no such file",
    )
