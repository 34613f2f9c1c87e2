"""Web probes against loopback servers with the documented shapes of each service."""

from __future__ import annotations

import asyncio
import json
import socketserver
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from revive.core import base32
from revive.core.archive.answer import ErrorClass, Fallback, Status
from revive.core.archive.ca_mirrors import probe_ca_mirrors
from revive.core.archive.config import ArchiveConfig
from revive.core.archive.context import ProbeContext
from revive.core.archive.disarchive import probe_disarchive
from revive.core.archive.http_client import HttpClient
from revive.core.archive.narinfo import NarInfoError, parse_narinfo
from revive.core.archive.substitutes import probe_substitutes
from revive.core.archive.swh import (
    probe_swh_content,
    probe_swh_extid,
    probe_swh_origin,
    probe_swh_release,
    probe_swh_revision,
)
from revive.core.archive.upstream import probe_upstream_urls, upstream_urls
from revive.core.fetch.spec import Expected, UrlFetch

T = TypeVar("T")
DIGEST = bytes(range(32))
HEX = DIGEST.hex()
OUT = "/gnu/store/" + "a" * 32 + "-hello-2.10.tar.gz"
FLAT = Expected("hello-2.10.tar.gz", OUT, "sha256", DIGEST, False)
JSON = {"Content-Type": "application/json"}


def run(config: ArchiveConfig, probe: Callable[[ProbeContext], Awaitable[T]]) -> T:
    async def main() -> T:
        async with HttpClient(config) as client:
            return await probe(ProbeContext(config, client))

    return asyncio.run(main())


# --- Software Heritage -------------------------------------------------------------------


def test_swh_content_by_sha256(loopback: Any, config: ArchiveConfig) -> None:
    body = {"checksums": {"sha256": HEX}, "length": 12, "swhid": "swh:1:cnt:" + "1" * 40}
    loopback.routes[f"/api/1/content/sha256:{HEX}/"] = (200, JSON, json.dumps(body).encode())
    answer = run(config, lambda ctx: probe_swh_content(ctx, HEX))
    assert answer.status is Status.AVAILABLE and answer.fallback is Fallback.SWH
    assert answer.where == "swh:1:cnt:" + "1" * 40 and "12 bytes" in answer.detail
    missing = run(config, lambda ctx: probe_swh_content(ctx, "0" * 64))
    assert missing.status is Status.MISSING and missing.error is None


def test_swh_sends_the_token_when_there_is_one(loopback: Any, config: ArchiveConfig) -> None:
    run(config.replace(swh_token="s3cret"), lambda ctx: probe_swh_content(ctx, HEX))
    ((_, _, headers),) = loopback.requests
    assert headers["Authorization"] == "Bearer s3cret"


def test_swh_extid_by_nar_hash(loopback: Any, config: ArchiveConfig) -> None:
    body = {
        "extid_type": "nar-sha256",
        "extid": HEX,
        "extid_version": 1,
        "target": "swh:1:dir:" + "2" * 40,
        "target_url": "x",
    }
    path = f"/api/1/extid/nar-sha256/hex:{HEX}/?extid_version=1"
    loopback.routes[path] = (200, JSON, json.dumps(body).encode())
    answer = run(config, lambda ctx: probe_swh_extid(ctx, HEX))
    assert answer.status is Status.AVAILABLE and answer.where == "swh:1:dir:" + "2" * 40


def test_swh_extid_by_mercurial_changeset(loopback: Any, config: ArchiveConfig) -> None:
    node = "5" * 40
    body = {"extid_type": "hg-nodeid", "extid": node, "target": "swh:1:rev:" + "6" * 40}
    loopback.routes[f"/api/1/extid/hg-nodeid/hex:{node}/"] = (200, JSON, json.dumps(body).encode())
    answer = run(config, lambda ctx: probe_swh_extid(ctx, node, "hg-nodeid"))
    assert answer.status is Status.AVAILABLE and answer.where == "swh:1:rev:" + "6" * 40


def test_swh_revision_and_release(loopback: Any, config: ArchiveConfig) -> None:
    commit = "3" * 40
    loopback.routes[f"/api/1/revision/{commit}/"] = (
        200,
        JSON,
        b'{"id": "' + commit.encode() + b'"}',
    )
    assert run(config, lambda ctx: probe_swh_revision(ctx, commit)).where == f"swh:1:rev:{commit}"
    missing = run(config, lambda ctx: probe_swh_release(ctx, commit))
    assert missing.status is Status.MISSING


def test_swh_origin_needs_a_full_visit(loopback: Any, config: ArchiveConfig) -> None:
    partial = [{"visit": 1, "status": "partial", "snapshot": None, "date": "2020-01-01"}]
    full = partial + [{"visit": 2, "status": "full", "snapshot": "4" * 40, "date": "2021-02-03"}]
    loopback.routes["/api/1/origin/https://example.org/a.git/visits/"] = (
        200,
        JSON,
        json.dumps(partial).encode(),
    )
    loopback.routes["/api/1/origin/https://example.org/b.git/visits/"] = (
        200,
        JSON,
        json.dumps(full).encode(),
    )
    a = run(config, lambda ctx: probe_swh_origin(ctx, "https://example.org/a.git"))
    b = run(config, lambda ctx: probe_swh_origin(ctx, "https://example.org/b.git"))
    c = run(config, lambda ctx: probe_swh_origin(ctx, "https://example.org/c.git"))
    assert a.status is Status.MISSING and "none complete" in a.detail
    assert b.status is Status.AVAILABLE and b.where == "swh:1:snp:" + "4" * 40
    assert c.status is Status.MISSING


def test_swh_429_with_retry_after_is_rate_limited(loopback: Any, config: ArchiveConfig) -> None:
    loopback.routes[f"/api/1/content/sha256:{HEX}/"] = (
        429,
        {"Retry-After": "600", **JSON},
        b'{"exception": "Throttled", "reason": "slow down"}',
    )
    answer = run(config, lambda ctx: probe_swh_content(ctx, HEX))
    assert answer.status is Status.UNKNOWN and answer.error is ErrorClass.RATE_LIMITED


def test_swh_reply_that_is_not_json_is_unknown(loopback: Any, config: ArchiveConfig) -> None:
    loopback.routes[f"/api/1/content/sha256:{HEX}/"] = (200, {}, b"<html>")
    answer = run(config, lambda ctx: probe_swh_content(ctx, HEX))
    assert answer.status is Status.UNKNOWN and answer.error is ErrorClass.NETWORK


# --- Disarchive, substitutes, CA mirrors, upstream ----------------------------------------


def test_disarchive_asks_each_mirror_until_found(loopback: Any, config: ArchiveConfig) -> None:
    loopback.routes[f"/da2/sha256/{HEX}"] = (200, {}, b"(disarchive (version 0))\n")
    answers = run(config, lambda ctx: probe_disarchive(ctx, FLAT))
    assert [a.status for a in answers] == [Status.MISSING, Status.AVAILABLE]
    assert answers[1].where == f"{loopback.base}/da2/sha256/{HEX}"


NARINFO = f"""StorePath: {OUT}
URL: nar/lzip/{OUT[11:]}
Compression: lzip
FileSize: 100
URL: nar/zstd/{OUT[11:]}
Compression: zstd
FileSize: 110
NarHash: sha256:{base32.encode(DIGEST)}
NarSize: 4242
References: 
Sig: ci.guix.gnu.org:public-key
"""


def test_narinfo_is_parsed() -> None:
    info = parse_narinfo(NARINFO)
    assert info.store_path == OUT and info.nar_size == 4242
    assert info.compressions == ("lzip", "zstd") and len(info.urls) == 2
    with pytest.raises(NarInfoError, match="NarSize"):
        parse_narinfo(f"StorePath: {OUT}\nURL: x\nNarHash: y\n")
    with pytest.raises(NarInfoError, match="line 1"):
        parse_narinfo("not a narinfo\n")


def test_substitutes_narinfo_with_nar_size(loopback: Any, config: ArchiveConfig) -> None:
    loopback.routes[f"/s2/{'a' * 32}.narinfo"] = (200, {}, NARINFO.encode())
    answers = run(config, lambda ctx: probe_substitutes(ctx, OUT))
    assert [a.status for a in answers] == [Status.MISSING, Status.AVAILABLE]
    assert answers[1].nar_size == 4242 and "lzip, zstd" in answers[1].detail


def test_a_narinfo_for_another_item_is_missing(loopback: Any, config: ArchiveConfig) -> None:
    other = NARINFO.replace(OUT, OUT.replace("hello", "other"))
    loopback.routes[f"/s1/{'a' * 32}.narinfo"] = (200, {}, other.encode())
    answers = run(
        config.replace(substitutes=(f"{loopback.base}/s1",)),
        lambda ctx: probe_substitutes(ctx, OUT),
    )
    assert answers[0].status is Status.MISSING and "narinfo is for" in answers[0].detail


def test_ca_mirrors_use_todays_url_forms(loopback: Any, config: ArchiveConfig) -> None:
    loopback.routes[f"/ca2/hello-2.10.tar.gz/{HEX}"] = (200, {}, b"x")
    answers = run(config, lambda ctx: probe_ca_mirrors(ctx, FLAT))
    assert [a.question for a in answers] == [
        f"HEAD {loopback.base}/cas/sha256/{base32.encode(DIGEST)}",
        f"HEAD {loopback.base}/ca2/hello-2.10.tar.gz/{HEX}",
    ]
    assert answers[1].status is Status.AVAILABLE and answers[1].fallback is Fallback.CA_MIRROR


def test_upstream_expands_mirrors_and_stops_at_the_first_copy(
    loopback: Any, config: ArchiveConfig
) -> None:
    spec = UrlFetch(FLAT, ("mirror://gnu/hello/hello-2.10.tar.gz", "https://example.org/h.tgz"))
    assert upstream_urls(spec, ProbeContext(config, None)) == (
        f"{loopback.base}/gone/hello/hello-2.10.tar.gz",
        f"{loopback.base}/gnu/hello/hello-2.10.tar.gz",
        "https://example.org/h.tgz",
    )
    loopback.routes["/gnu/hello/hello-2.10.tar.gz"] = (200, {}, b"tarball")
    answers = run(config, lambda ctx: probe_upstream_urls(ctx, spec))
    assert [a.status for a in answers] == [Status.MISSING, Status.AVAILABLE]
    assert answers[0].detail == "HTTP 404"


def test_a_server_refusing_head_gets_a_ranged_get(loopback: Any, config: ArchiveConfig) -> None:
    loopback.routes["/f"] = lambda method: (
        (405, {}, b"") if method == "HEAD" else (206, {"Content-Range": "bytes 0-0/999"}, b"x")
    )
    spec = UrlFetch(FLAT, (f"{loopback.base}/f",))
    (answer,) = run(config, lambda ctx: probe_upstream_urls(ctx, spec))
    assert answer.status is Status.AVAILABLE and "999 bytes" in answer.detail
    assert [(m, h.get("Range")) for m, _, h in loopback.requests] == [
        ("HEAD", None),
        ("GET", "bytes=0-0"),
    ]


def test_url_rewrites_apply_but_answers_name_the_written_url(
    loopback: Any, config: ArchiveConfig
) -> None:
    loopback.routes["/h/x.tar.gz"] = (200, {}, b"x")
    rewritten = config.replace(url_rewrites=(("https://upstream.example/", f"{loopback.base}/h/"),))
    spec = UrlFetch(FLAT, ("https://upstream.example/x.tar.gz",))
    (answer,) = run(rewritten, lambda ctx: probe_upstream_urls(ctx, spec))
    assert answer.status is Status.AVAILABLE and answer.where == "https://upstream.example/x.tar.gz"


class _FtpHandler(socketserver.StreamRequestHandler):
    """Just enough of an FTP server for ``SIZE``: login, TYPE, SIZE, QUIT."""

    files = {"/pub/hello-2.10.tar.gz": 4242}

    def handle(self) -> None:
        self.wfile.write(b"220 loopback ftp\r\n")
        for raw in self.rfile:
            command, _, argument = raw.decode().strip().partition(" ")
            if command == "USER":
                reply = "331 password please"
            elif command == "PASS":
                reply = "230 logged in"
            elif command == "TYPE":
                reply = "200 type set"
            elif command == "SIZE":
                size = self.files.get(argument)
                reply = f"213 {size}" if size is not None else "550 no such file"
            elif command == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                reply = "502 not implemented"
            self.wfile.write(reply.encode() + b"\r\n")


def test_ftp_urls_are_asked_size(config: ArchiveConfig) -> None:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _FtpHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"ftp://127.0.0.1:{server.server_address[1]}"
        spec = UrlFetch(FLAT, (f"{base}/pub/gone.tar.gz", f"{base}/pub/hello-2.10.tar.gz"))
        answers = run(config, lambda ctx: probe_upstream_urls(ctx, spec))
    finally:
        server.shutdown()
        server.server_close()
    assert [a.status for a in answers] == [Status.MISSING, Status.AVAILABLE]
    assert answers[0].detail.startswith("FTP 550") and answers[1].detail == "FTP SIZE 4242"
