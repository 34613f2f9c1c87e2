"""The demo's loopback servers, and the offline story of --demo-serve end to end."""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from revive.core import base32
from revive.core.aterm import serialize_derivation
from revive.core.demo.model import DemoEnvironment
from revive.core.demo.serve import DemoServers
from revive.core.fetch.rewrite import rewrite
from revive.core.nar import dump_nar, nar_hash
from revive.core.store_dir import StoreDir
from revive.core.stores.api import (
    AttemptKind,
    BuildAttempt,
    BuildEvent,
    BuildFailed,
    BuildFinished,
    FailureReason,
)
from revive.core.stores.embedded import EmbeddedStore


def _get(url: str, method: str = "GET") -> tuple[int, bytes]:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def _store(env: DemoEnvironment, servers: DemoServers, root: Path) -> EmbeddedStore:
    return EmbeddedStore(
        root,
        read_only=[StoreDir.open(env.store_dir, env.logical_store_dir)],
        options=servers.fetch_options(),
    )


async def _build(store: EmbeddedStore, drv_path: str) -> BuildEvent:
    events = [event async for event in store.build(drv_path)]
    return events[-1]


async def _rewritten(store: EmbeddedStore, servers: DemoServers, drv_path: str) -> str:
    """Rewrite ``drv_path`` with the demo's mirror config and add it to ``store``."""
    result = rewrite(
        store.read_derivation(drv_path),
        store.read_item,
        servers.mirror_config(),
        original_path=drv_path,
    )
    for item in result.added_items:
        store.add_text(item.name, item.contents, item.references)
    drv = result.derivation
    added = store.add_text(drv.name + ".drv", serialize_derivation(drv).encode(), drv.references)
    assert added == result.drv_path
    return added


def test_upstream_files_cas_and_nar_are_served(demo_env: DemoEnvironment) -> None:
    """Real HTTP requests to 127.0.0.1: files, 404s, the CA mirror and the nar mirror."""
    with DemoServers(demo_env) as servers:
        rewrite_url = servers.fetch_options().rewrite
        hello = next(s for s in demo_env.sources if s.origin.endswith("hello-2.10.tar.gz"))
        expected = (demo_env.upstream_dir / hello.upstream).read_bytes()
        for url in hello.fetch_urls:  # every 2020 mirror of mirror://gnu
            local = rewrite_url(url)
            assert local is not None and local.startswith(servers.base_url)
            assert _get(local) == (200, expected)
        assert _get(rewrite_url(hello.fetch_urls[0]) or "", "HEAD") == (200, b"")

        gone = demo_env.source(demo_env.special_of("upstream-gone").drv_path)
        status, _ = _get(rewrite_url(gone.origin) or "")
        assert status == 404
        digest = bytes.fromhex(gone.output_path and _fod_hash(demo_env, gone.drv_path))
        status, body = _get(f"{servers.base_url}/cas/sha256/{base32.encode(digest)}")
        assert status == 200 and hashlib.sha256(body).digest() == digest

        moved = demo_env.source(demo_env.special_of("repository-moved").drv_path)
        status, body = _get(f"{servers.base_url}/nar/{moved.output_path.rsplit('/', 1)[1]}")
        assert status == 200 and hashlib.sha256(body).hexdigest() == _fod_hash(
            demo_env, moved.drv_path
        )
        assert _get(f"{servers.base_url}/nothing/here")[0] == 404
        assert (f"/cas/sha256/{base32.encode(digest)}", 200) in servers.requests


def _fod_hash(env: DemoEnvironment, drv_path: str) -> str:
    text = env.physical(drv_path).read_text()
    return text.split('"', 8)[7]  # the 4th string of the output tuple


def test_every_demo_location_is_rewritten_to_a_local_place(demo_env: DemoEnvironment) -> None:
    """No URL or repository of the demo can reach the Internet under --demo-serve."""
    with DemoServers(demo_env) as servers:
        options = servers.fetch_options()
        assert options.nar_mirrors == (servers.base_url,)
        for source in demo_env.sources:
            for url in source.fetch_urls:
                local = options.rewrite(url)
                assert local is not None and local.startswith(servers.base_url), url
            if not source.urls:
                location = options.rewrite(source.origin.split()[0])
                assert location is not None, source.origin
                if source.status == "moved":
                    assert location.startswith(servers.base_url)
                else:
                    assert location.startswith(("file:///", "/")), location
        for template in servers.mirror_config().content_addressed:
            assert template.startswith(servers.base_url + "/cas/")


def test_two_servers_at_once_use_different_ports(demo_env: DemoEnvironment) -> None:
    """The fixed default port is preferred; a second server takes a free one."""
    with DemoServers(demo_env) as first, DemoServers(demo_env) as second:
        assert first.port != second.port
        for servers in (first, second):
            assert _get(f"{servers.base_url}/cas/x")[0] == 404
    with pytest.raises(RuntimeError, match="not running"):
        _ = first.port


async def test_gone_upstream_original_fails_and_rewritten_succeeds(
    demo_env: DemoEnvironment, tmp_path: Path
) -> None:
    """GIVEN the 404 tarball WHEN built as in 2020 THEN not found; rewritten THEN fetched."""
    node = demo_env.special_of("upstream-gone")
    async with DemoServers(demo_env) as servers:
        store = _store(demo_env, servers, tmp_path / "store")
        failed = await _build(store, node.drv_path)
        assert isinstance(failed, BuildFailed)
        assert failed.reason is FailureReason.NOT_FOUND
        new_path = await _rewritten(store, servers, node.drv_path)
        assert new_path != node.drv_path
        finished = await _build(store, new_path)
        assert isinstance(finished, BuildFinished) and not finished.cached
        output = demo_env.source(node.drv_path).output_path
        assert finished.output_path == output and store.is_valid(output)
        assert hashlib.sha256(store.physical_path(output).read_bytes()).hexdigest() == (
            _fod_hash(demo_env, node.drv_path)
        )
        assert any(path.startswith("/cas/") and code == 200 for path, code in servers.requests)


async def test_moved_repository_rewritten_succeeds_through_the_nar_mirror(
    demo_env: DemoEnvironment, tmp_path: Path
) -> None:
    """The moved git repository, rewritten as builtin:git-download, comes from the nar mirror."""
    node = demo_env.special_of("repository-moved")
    async with DemoServers(demo_env) as servers:
        store = _store(demo_env, servers, tmp_path / "store")
        new_path = await _rewritten(store, servers, node.drv_path)
        finished = await _build(store, new_path)
        assert isinstance(finished, BuildFinished)
        output = finished.output_path
        assert output == demo_env.source(node.drv_path).output_path
        assert nar_hash(store.physical_path(output)).hex() == _fod_hash(demo_env, node.drv_path)
        assert any(path.startswith("/nar/") and code == 200 for path, code in servers.requests)


async def test_moved_repository_original_fails(demo_env: DemoEnvironment, tmp_path: Path) -> None:
    """The 2020 git-download FOD of the moved repository fails: its old URL is gone."""
    node = demo_env.special_of("repository-moved")
    async with DemoServers(demo_env) as servers:
        store = _store(demo_env, servers, tmp_path / "store")
        failed = await _build(store, node.drv_path)
        assert isinstance(failed, BuildFailed)
        assert failed.reason is FailureReason.NOT_FOUND


async def test_every_other_source_fetches_in_both_forms(
    demo_env: DemoEnvironment, tmp_path: Path
) -> None:
    """Offline, every FOD but the broken ones fetches as written in its era, and rewritten."""
    broken = {node.drv_path for node in demo_env.special}
    async with DemoServers(demo_env) as servers:
        store = _store(demo_env, servers, tmp_path / "old")
        for source in demo_env.sources:
            if source.drv_path in broken:
                continue
            result = await _build(store, source.drv_path)
            assert isinstance(result, BuildFinished), (source.drv_path, result)
        # Rewritten, in a fresh store: guix-revive's own builtins for svn/hg/bzr/cvs.
        fresh = _store(demo_env, servers, tmp_path / "new")
        for source in demo_env.sources:
            if source.drv_path in broken or (source.urls and source.form != "U1"):
                continue
            new_path = await _rewritten(fresh, servers, source.drv_path)
            result = await _build(fresh, new_path)
            assert isinstance(result, BuildFinished), (source.drv_path, result)
            assert result.output_path == source.output_path
            expected = dump_nar(store.physical_path(source.output_path))
            assert dump_nar(fresh.physical_path(source.output_path)) == expected


async def test_every_fetch_of_the_demo_stays_on_loopback(
    demo_env: DemoEnvironment, tmp_path: Path
) -> None:
    """Under --demo-serve, no fetch of any demo source, old or rewritten, leaves the machine.

    The old git, hg and cvs scripts also ask their era's nar servers
    (berlin.guixsd.org, mirror.hydra.gnu.org…), and the 2020 mirror lists
    name content-addressed hosts: every one must be rewritten to the
    loopback server (which answers 404 for what it does not have), so the
    workshop story never touches the network. Broken sources included.
    """
    attempted: list[str] = []

    async def build_all(store: EmbeddedStore, paths: list[str]) -> None:
        for path in paths:
            async for event in store.build(path):
                # Disarchive is only named (guix-revive cannot re-assemble),
                # never requested.
                if isinstance(event, BuildAttempt) and event.kind is not AttemptKind.DISARCHIVE:
                    attempted.append(event.source)

    async with DemoServers(demo_env) as servers:
        # GIVEN every source as written in its era, with the broken ones.
        old = _store(demo_env, servers, tmp_path / "old")
        await build_all(old, [source.drv_path for source in demo_env.sources])
        # AND every source rewritten, in a store of its own.
        fresh = _store(demo_env, servers, tmp_path / "new")
        rewritten = [await _rewritten(fresh, servers, s.drv_path) for s in demo_env.sources]
        await build_all(fresh, rewritten)
        # THEN every source tried is the loopback server or a local repository.
        local = (servers.base_url + "/", "file:///", str(demo_env.upstream_dir.absolute()))
        assert attempted
        assert [url for url in attempted if not url.startswith(local)] == []
        # AND the era's nar servers were asked (at the loopback server), and said 404.
        assert any(
            path.startswith("/h/http/berlin.guixsd.org/nar/") for path, _ in servers.requests
        )
