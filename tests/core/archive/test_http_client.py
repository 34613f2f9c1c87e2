"""The probes' HTTP client: keep-alive, retries, timeouts, rate limits, error classes."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

import pytest

from revive.core.archive.answer import ErrorClass
from revive.core.archive.config import ArchiveConfig
from revive.core.archive.http_client import HttpClient, ProbeFailure


def _get(config: ArchiveConfig, *urls: str) -> list[object]:
    async def main() -> list[object]:
        async with HttpClient(config) as client:
            out: list[object] = []
            for url in urls:
                try:
                    out.append(await client.request("GET", url))
                except ProbeFailure as failure:
                    out.append(failure)
            return out

    return asyncio.run(main())


def test_replies_come_back_and_one_connection_is_reused(
    loopback: Any, config: ArchiveConfig
) -> None:
    loopback.routes["/a"] = (200, {}, b"hello")
    first, second, missing = _get(
        config, f"{loopback.base}/a", f"{loopback.base}/a", f"{loopback.base}/b"
    )
    assert first.status == 200 and first.body == b"hello"  # type: ignore[attr-defined]
    assert second.status == 200  # type: ignore[attr-defined]
    assert missing.status == 404  # type: ignore[attr-defined]
    assert loopback.connections == 1


def test_redirects_are_followed(loopback: Any, config: ArchiveConfig) -> None:
    loopback.routes["/old"] = (301, {"Location": "/new"}, b"")
    loopback.routes["/new"] = (200, {}, b"x")
    (reply,) = _get(config, f"{loopback.base}/old")
    assert reply.status == 200 and reply.url.endswith("/new")  # type: ignore[attr-defined]


def test_a_429_with_a_short_retry_after_is_waited_for(loopback: Any, config: ArchiveConfig) -> None:
    calls = []

    def limited(method: str) -> tuple[int, dict[str, str], bytes]:
        calls.append(method)
        if len(calls) == 1:
            return 429, {"Retry-After": "1"}, b'{"exception":"Throttled"}'
        return 200, {}, b"ok"

    loopback.routes["/x"] = limited
    started = time.monotonic()
    (reply,) = _get(config, f"{loopback.base}/x")
    assert reply.status == 200  # type: ignore[attr-defined]
    assert len(calls) == 2 and time.monotonic() - started >= 0.9


def test_a_429_with_a_long_retry_after_is_rate_limited_at_once_and_holds_the_host(
    loopback: Any, config: ArchiveConfig
) -> None:
    loopback.routes["/x"] = (429, {"Retry-After": "3600"}, b"")
    loopback.routes["/y"] = (200, {}, b"")
    first, second = _get(config, f"{loopback.base}/x", f"{loopback.base}/y")
    assert isinstance(first, ProbeFailure) and first.error is ErrorClass.RATE_LIMITED
    assert isinstance(second, ProbeFailure) and second.error is ErrorClass.RATE_LIMITED
    assert [path for _, path, _ in loopback.requests] == ["/x"]


def test_an_exhausted_rate_limit_holds_later_requests(loopback: Any, config: ArchiveConfig) -> None:
    reset = str(int(time.time()) + 3600)
    loopback.routes["/x"] = (
        200,
        {"X-RateLimit-Limit": "120", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset},
        b"{}",
    )
    first, second = _get(config, f"{loopback.base}/x", f"{loopback.base}/x")
    assert first.status == 200  # type: ignore[attr-defined]
    assert isinstance(second, ProbeFailure) and second.error is ErrorClass.RATE_LIMITED
    assert len(loopback.requests) == 1


def test_5xx_is_retried_then_a_server_error(loopback: Any, config: ArchiveConfig) -> None:
    loopback.routes["/x"] = (503, {}, b"")
    (failure,) = _get(config, f"{loopback.base}/x")
    assert isinstance(failure, ProbeFailure) and failure.error is ErrorClass.SERVER
    assert len(loopback.requests) == config.retries + 1


def test_a_slow_server_is_a_timeout(loopback: Any, config: ArchiveConfig) -> None:
    loopback.routes["/x"] = (200, {}, b"")
    loopback.delay = 1.0
    (failure,) = _get(config.replace(read_timeout=0.2, retries=0), f"{loopback.base}/x")
    assert isinstance(failure, ProbeFailure) and failure.error is ErrorClass.TIMEOUT


def test_a_refused_connection_is_a_network_error(config: ArchiveConfig) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    (failure,) = _get(config.replace(retries=0), f"http://127.0.0.1:{port}/x")
    assert isinstance(failure, ProbeFailure) and failure.error is ErrorClass.NETWORK


@pytest.mark.parametrize("limit", [1, 3])
def test_questions_in_flight_per_host_are_limited(
    loopback: Any, config: ArchiveConfig, limit: int
) -> None:
    loopback.routes["/x"] = (200, {}, b"")
    loopback.delay = 0.05

    async def main() -> None:
        async with HttpClient(config.replace(per_host=limit)) as client:
            await asyncio.gather(*(client.request("GET", f"{loopback.base}/x") for _ in range(6)))

    asyncio.run(main())
    assert loopback.connections == limit
