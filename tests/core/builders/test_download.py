"""``builtin:download``: URL order, mirrors, content-addressed mirrors, fallbacks."""

from __future__ import annotations

import datetime
import hashlib
import os

import pytest

from revive.core.builders.dispatch import run_builder
from revive.core.builders.download import url_sources
from revive.core.builders.errors import FetchError
from revive.core.builders.options import DownloadMethod
from revive.core.fetch.mirrors import (
    write_content_addressed_mirrors,
    write_disarchive_mirrors,
    write_mirrors,
)
from revive.core.fetch.spec import UrlFetch
from revive.core.stores.api import AttemptKind, BuildAttempt, FailureReason

DATA = b"hello, tarball\n" * 1000
MIRRORS = "/gnu/store/h1nnwnrbwr7vcllyn1k0p55lkdz0clhh-mirrors"
CA = "/gnu/store/vwyxp1dq4lb97n6b20w5cqxasy2dai79-content-addressed-mirrors"
DIS = "/gnu/store/0mxnx8l4fgigvd7gakwdk6hc6im4wnai-disarchive-mirrors"
ALL_LOCAL = (
    DownloadMethod.UPSTREAM,
    DownloadMethod.CONTENT_ADDRESSED_MIRRORS,
    DownloadMethod.DISARCHIVE,
    DownloadMethod.NAR,
)


def attempts(events):
    return [(e.kind, e.source) for e in events if isinstance(e, BuildAttempt)]


async def test_first_working_url_wins(http_server, make_ctx, expected_for):
    http_server.files["/b/hello-1.0.tar.gz"] = DATA
    expected = expected_for("hello-1.0.tar.gz", data=DATA)
    urls = (http_server.url("/a/hello-1.0.tar.gz"), http_server.url("/b/hello-1.0.tar.gz"))
    verified = await run_builder(UrlFetch(expected, urls), make_ctx())
    assert verified.path.read_bytes() == DATA
    assert attempts(make_ctx.events) == [(AttemptKind.UPSTREAM, u) for u in urls]
    assert http_server.requests == ["/a/hello-1.0.tar.gz", "/b/hello-1.0.tar.gz"]


async def test_mirror_urls_use_the_derivations_own_mirror_list(http_server, make_ctx, expected_for):
    http_server.files["/gnu/hello/hello-1.0.tar.gz"] = DATA
    own = write_mirrors({"gnu": ["http://127.0.0.1:9/dead/", http_server.url("/gnu/")]})
    items = {MIRRORS: own}
    expected = expected_for("hello-1.0.tar.gz", data=DATA)
    spec = UrlFetch(expected, ("mirror://gnu/hello/hello-1.0.tar.gz",), mirrors_file=MIRRORS)
    verified = await run_builder(spec, make_ctx(read_item=items.__getitem__))
    assert verified.path.read_bytes() == DATA
    assert attempts(make_ctx.events) == [
        (AttemptKind.MIRROR, "http://127.0.0.1:9/dead/hello/hello-1.0.tar.gz"),
        (AttemptKind.MIRROR, http_server.url("/gnu/hello/hello-1.0.tar.gz")),
    ]


def test_sources_in_the_documented_order(expected_for):
    """§7.4: URLs (mirror:// expanded in place), CA mirrors, Internet Archive, Disarchive."""
    expected = expected_for("hello-2.12.1.tar.gz", data=DATA)
    items = {
        MIRRORS: write_mirrors(
            {"gnu": ["https://ftpmirror.gnu.org/gnu/", "ftp://ftp.example.org/gnu"]}
        ),
        CA: write_content_addressed_mirrors(["https://ca.example.org/{algo}/{nix32}"]),
        DIS: write_disarchive_mirrors(["https://disarchive.example.org/"]),
    }
    spec = UrlFetch(
        expected,
        (
            "https://upstream.example.org/hello-2.12.1.tar.gz",
            "mirror://gnu/hello/hello-2.12.1.tar.gz",
        ),
        mirrors_file=MIRRORS,
        content_addressed_mirrors_file=CA,
        disarchive_mirrors_file=DIS,
    )
    now = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    sources, disarchive = url_sources(spec, items.__getitem__, lambda _: None, now=now)
    assert sources == [
        ("https://upstream.example.org/hello-2.12.1.tar.gz", AttemptKind.UPSTREAM),
        ("https://ftpmirror.gnu.org/gnu/hello/hello-2.12.1.tar.gz", AttemptKind.MIRROR),
        ("ftp://ftp.example.org/gnu/hello/hello-2.12.1.tar.gz", AttemptKind.MIRROR),
        (f"https://ca.example.org/sha256/{expected.nix32}", AttemptKind.CONTENT_ADDRESSED),
        (
            "https://web.archive.org/web/20260102030405/"
            "https://upstream.example.org/hello-2.12.1.tar.gz",
            AttemptKind.ARCHIVE,
        ),
    ]
    assert disarchive == [f"https://disarchive.example.org/sha256/{expected.digest.hex()}"]


def test_missing_mirror_list_falls_back_to_todays(expected_for):
    expected = expected_for("hello-2.12.1.tar.gz", data=DATA)
    spec = UrlFetch(expected, ("mirror://gnu/hello/hello-2.12.1.tar.gz",), mirrors_file=MIRRORS)
    lines: list[str] = []

    def read_item(path: str) -> bytes:
        from revive.core.errors import MissingStoreItem

        raise MissingStoreItem(path)

    sources, _ = url_sources(spec, read_item, lines.append)
    assert sources[0][1] is AttemptKind.MIRROR
    assert sources[0][0].endswith("/hello/hello-2.12.1.tar.gz")
    assert lines == [f"mirror list {MIRRORS} is not in the store; using today's"]


async def test_wrong_content_goes_on_to_a_content_addressed_mirror(
    http_server, make_ctx, expected_for, options
):
    """Upstream serves other bytes: quarantined, and the CA mirror has the right ones."""
    expected = expected_for("hello-1.0.tar.gz", data=DATA)
    http_server.files["/hello-1.0.tar.gz"] = b"a different release\n"
    http_server.files[f"/ca/sha256/{expected.nix32}"] = DATA
    items = {CA: write_content_addressed_mirrors([http_server.url("/ca/{algo}/{nix32}")])}
    spec = UrlFetch(
        expected, (http_server.url("/hello-1.0.tar.gz"),), content_addressed_mirrors_file=CA
    )
    ctx = make_ctx(options(methods=ALL_LOCAL), read_item=items.__getitem__)
    verified = await run_builder(spec, ctx)
    assert verified.path.read_bytes() == DATA
    assert [k for k, _ in attempts(make_ctx.events)] == [
        AttemptKind.UPSTREAM,
        AttemptKind.CONTENT_ADDRESSED,
    ]
    kept = list(ctx.quarantine_dir.iterdir())
    assert [p.read_bytes() for p in kept] == [b"a different release\n"]
    assert kept[0].name.startswith(os.path.basename(expected.output_path) + ".")


async def test_hash_mismatch_is_reported_with_both_hashes(http_server, make_ctx, expected_for):
    expected = expected_for("mismatch.txt", data=DATA)
    http_server.files["/wrong.txt"] = b"wrong\n"
    ctx = make_ctx()
    with pytest.raises(FetchError) as info:
        await run_builder(UrlFetch(expected, (http_server.url("/wrong.txt"),)), ctx)
    err = info.value
    from revive.core import base32

    actual = base32.encode(hashlib.sha256(b"wrong\n").digest())
    assert err.reason is FailureReason.HASH_MISMATCH
    assert (err.expected_hash, err.actual_hash) == (expected.nix32, actual)
    assert str(err) == (
        f"sha256 hash mismatch for {expected.output_path}: expected {expected.nix32}, "
        f"got {actual}; fetched data kept in {err.kept_at}"
    )


async def test_404_everywhere_is_not_found_and_disarchive_is_reported(
    http_server, make_ctx, expected_for, options
):
    expected = expected_for("missing-1.0.tar.gz", data=DATA)
    items = {
        CA: write_content_addressed_mirrors([http_server.url("/ca/{algo}/{nix32}")]),
        DIS: write_disarchive_mirrors([http_server.url("/dis/")]),
    }
    url = http_server.url("/missing-1.0.tar.gz")
    spec = UrlFetch(
        expected, (url,), content_addressed_mirrors_file=CA, disarchive_mirrors_file=DIS
    )
    with pytest.raises(FetchError) as info:
        await run_builder(spec, make_ctx(options(methods=ALL_LOCAL), read_item=items.__getitem__))
    assert info.value.reason is FailureReason.NOT_FOUND
    assert str(info.value) == f"{url}: HTTP 404 Not Found (also tried 2 other places: all failed)"
    assert [k for k, _ in attempts(make_ctx.events)] == [
        AttemptKind.UPSTREAM,
        AttemptKind.CONTENT_ADDRESSED,
        AttemptKind.DISARCHIVE,
    ]
    assert any("Disarchive re-assembly is not available" in line for line in make_ctx.lines())


async def test_executable_download_is_hashed_recursively(
    http_server, make_ctx, tmp_path, expected_for
):
    script = b"#!/bin/sh\necho hi\n"
    ref = tmp_path / "ref"
    ref.write_bytes(script)
    ref.chmod(0o755)
    expected = expected_for("tool", tree=ref)
    http_server.files["/tool"] = script
    verified = await run_builder(
        UrlFetch(expected, (http_server.url("/tool"),), executable=True), make_ctx()
    )
    assert os.access(verified.path, os.X_OK)


async def test_url_rewrites_send_real_looking_hosts_to_loopback(
    http_server, make_ctx, expected_for, options
):
    http_server.files["/gnu/hello/hello-1.0.tar.gz"] = DATA
    expected = expected_for("hello-1.0.tar.gz", data=DATA)
    rewrites = (("https://ftp.gnu.org/", http_server.url("/")),)
    ctx = make_ctx(options(url_rewrites=rewrites))
    spec = UrlFetch(expected, ("https://ftp.gnu.org/gnu/hello/hello-1.0.tar.gz",))
    await run_builder(spec, ctx)
    assert (
        f"rewriting https://ftp.gnu.org/gnu/hello/hello-1.0.tar.gz -> "
        f"{http_server.url('/gnu/hello/hello-1.0.tar.gz')}"
    ) in make_ctx.lines()


async def test_nar_mirror_rescues_a_vanished_tarball(
    http_server, make_ctx, expected_for, options, nar_of, tmp_path
):
    ref = tmp_path / "ref"
    ref.write_bytes(DATA)
    expected = expected_for("gone-1.0.tar.gz", data=DATA)
    http_server.files["/nars/nar/" + os.path.basename(expected.output_path)] = nar_of(ref)
    ctx = make_ctx(options(nar_mirrors=(http_server.url("/nars"),)))
    verified = await run_builder(UrlFetch(expected, (http_server.url("/gone-1.0.tar.gz"),)), ctx)
    assert verified.path.read_bytes() == DATA
    assert not os.access(verified.path, os.X_OK)
    assert [k for k, _ in attempts(make_ctx.events)] == [AttemptKind.UPSTREAM, AttemptKind.NAR]
