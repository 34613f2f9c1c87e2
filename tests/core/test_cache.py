"""The persistent closure cache: reuse, staleness, corruption, concurrency."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from revive.core.cache import DerivationCache, default_cache_dir
from revive.core.closure import LoadOnly, load_closure
from revive.core.graph import DerivationGraph
from revive.core.store_dir import StoreDir

HELLO = "/gnu/store/gknm68l0q893bpvyhcd4ccih1bmh0j87-hello-2.10.drv"


@pytest.fixture
def store_copy(guix2020_copy: Path) -> StoreDir:
    """A private copy of the corpus store that a test may change."""
    return StoreDir.open(guix2020_copy)


@pytest.fixture
def cache(tmp_path: Path) -> DerivationCache:
    """A cache in a fresh directory."""
    return DerivationCache(tmp_path / "cache")


def same_graph(a: DerivationGraph, b: DerivationGraph) -> bool:
    """Equal nodes, order, roots, derivations and problems."""
    return (
        list(a) == list(b)
        and a.roots == b.roots
        and a.store_dir == b.store_dir
        and dict(a.derivations) == dict(b.derivations)
        and dict(a.problems) == dict(b.problems)
        and all(a.node(p) == b.node(p) for p in a)
    )


def test_default_directory_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """$XDG_CACHE_HOME/guix-revive, or ~/.cache/guix-revive when unset or relative."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "guix-revive"
    assert DerivationCache().directory == tmp_path / "guix-revive"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "guix-revive"


def test_second_load_comes_from_the_pack(store_copy: StoreDir, cache: DerivationCache) -> None:
    """After one load, the graph re-opens without reading the .drv files."""
    assert cache.load(store_copy, (HELLO,)) is None
    assert not cache.directory.exists()  # a miss creates nothing
    cold = load_closure([HELLO], store_copy, cache=cache)
    pack = cache.pack_path(store_copy, (HELLO,))
    assert pack.is_file() and pack.parent == cache.directory / "closures"
    # Remove every .drv but the root: only the cache can still answer.
    for path in cold:
        if path != HELLO:
            store_copy.physical_path(path).unlink()
    warm = load_closure([HELLO], store_copy, cache=cache)
    assert same_graph(cold, warm)
    assert warm.stats() == cold.stats()
    assert not [p for p in pack.parent.iterdir() if p.name.startswith(".tmp-")]


def test_roots_in_another_order_are_another_pack(
    guix2020_store: Path, cache: DerivationCache
) -> None:
    """The order of the roots is the order of the graph, so it is part of the key."""
    store = StoreDir.open(guix2020_store)
    other = "/gnu/store/w3gsxzynyrvyxizibcpbi5sxmky9y1av-txt2man-1.6.0.drv"
    assert cache.pack_path(store, (HELLO, other)) != cache.pack_path(store, (other, HELLO))
    first = load_closure([HELLO, other], store, cache=cache)
    again = load_closure([HELLO, other], store, cache=cache)
    assert same_graph(first, again) and list(again)[0] == HELLO


def test_a_missing_node_that_appears_is_read(store_copy: StoreDir, cache: DerivationCache) -> None:
    """Missing nodes are re-checked on every open; the rest comes from the pack."""
    full = load_closure([HELLO], store_copy)
    victim = full.inputs(HELLO)[0][0]
    saved = store_copy.physical_path(victim).read_bytes()
    store_copy.physical_path(victim).unlink()
    partial = load_closure([HELLO], store_copy, cache=cache)
    assert partial.node(victim).missing
    assert load_closure([HELLO], store_copy, cache=cache).node(victim).missing
    store_copy.physical_path(victim).write_bytes(saved)
    healed = load_closure([HELLO], store_copy, cache=cache)
    assert same_graph(healed, full)
    assert same_graph(load_closure([HELLO], store_copy, cache=cache), full)


def test_a_changed_root_file_invalidates_the_pack(
    store_copy: StoreDir, cache: DerivationCache
) -> None:
    """A root re-written (new mtime) is a different copy: the pack is not trusted."""
    load_closure([HELLO], store_copy, cache=cache)
    assert cache.load(store_copy, (HELLO,)) is not None
    root = store_copy.physical_path(HELLO)
    os.utime(root, ns=(1, 1))
    assert cache.load(store_copy, (HELLO,)) is None
    load_closure([HELLO], store_copy, cache=cache)
    assert cache.load(store_copy, (HELLO,)) is not None


@pytest.mark.parametrize(
    "damage",
    ["empty", "garbage", "truncated", "flipped", "trailing", "old-version", "huge-length"],
)
def test_damaged_packs_are_ignored_and_rebuilt(
    store_copy: StoreDir, cache: DerivationCache, damage: str
) -> None:
    """Corrupt, truncated or foreign packs never crash: they are parsed again and rewritten."""
    good = load_closure([HELLO], store_copy, cache=cache)
    pack = cache.pack_path(store_copy, (HELLO,))
    data = pack.read_bytes()
    damaged = {
        "empty": b"",
        "garbage": os.urandom(4096),
        "truncated": data[: len(data) // 2],
        "flipped": data[:1000] + bytes([data[1000] ^ 0xFF]) + data[1001:],
        "trailing": data + b"x",
        "old-version": data.replace(b"guix-revive closure pack\n", b"guix-revive closure pock\n"),
        "huge-length": data[:25] + b"\xff" * 8 + data[33:],
    }[damage]
    pack.write_bytes(damaged)
    # A flipped byte inside a string gives a valid pack with another value:
    # that is accepted by design (no checksum), anything else must be rejected.
    loaded = cache.load(store_copy, (HELLO,))
    assert loaded is None or damage == "flipped"
    again = load_closure([HELLO], store_copy, cache=cache)
    if damage != "flipped":
        assert same_graph(again, good)
        assert cache.load(store_copy, (HELLO,)) is not None


def test_concurrent_writers_and_readers(store_copy: StoreDir, cache: DerivationCache) -> None:
    """Readers see a whole pack or none while other threads rewrite it."""
    graph = load_closure([HELLO], store_copy, cache=cache)
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for _ in range(5):
                cache.save(store_copy, (HELLO,), graph)
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    def reader() -> None:
        try:
            for _ in range(5):
                pack = cache.load(store_copy, (HELLO,))
                assert pack is not None and len(pack.order) == len(graph)
        except BaseException as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=f) for f in (writer, writer, reader, reader)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [p.name for p in cache.packs_dir.iterdir()] == [
        cache.pack_path(store_copy, (HELLO,)).name
    ]


def test_unwritable_cache_is_no_cache(store_copy: StoreDir, tmp_path: Path) -> None:
    """A cache directory that cannot be created only means no caching."""
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    cache = DerivationCache(blocker / "cache")
    graph = load_closure([HELLO], store_copy, cache=cache)
    assert len(graph) == 210 and cache.load(store_copy, (HELLO,)) is None


def test_old_packs_are_pruned(store_copy: StoreDir, cache: DerivationCache) -> None:
    """Beyond 16 packs, the least recently used are deleted; clear() removes all."""
    graph = load_closure([HELLO], store_copy)
    for i in range(20):
        cache.save(store_copy, (HELLO, f"/gnu/store/{'a' * 32}-x{i}.drv"), graph)
    assert len(list(cache.packs_dir.glob("*.pack"))) == 16
    assert cache.clear() == 16
    assert cache.clear() == 0


def test_a_load_only_cache_reads_packs_and_writes_none(
    store_copy: StoreDir, cache: DerivationCache
) -> None:
    """LoadOnly (verify's) re-opens a pack another load wrote, and never writes one."""
    load_closure([HELLO], store_copy, cache=LoadOnly(cache))
    assert not cache.packs_dir.exists()
    graph = load_closure([HELLO], store_copy, cache=cache)
    # Every file but the root's gone: only the pack can give the closure now.
    for file in Path(store_copy.physical).iterdir():
        if file.name != Path(HELLO).name:
            file.unlink()
    again = load_closure([HELLO], store_copy, cache=LoadOnly(cache))
    assert same_graph(again, graph)
