"""A result kept for a closure is reused only while no file of the closure changed."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from revive.core.cache import DerivationCache
from revive.core.closure import load_closure
from revive.core.result_cache import ResultCache
from revive.core.store_dir import StoreDir

HELLO = "/gnu/store/gknm68l0q893bpvyhcd4ccih1bmh0j87-hello-2.10.drv"
TARBALL = "/gnu/store/mspyllkw4d2395akavrkjkiw1p448p9a-hello-2.10.tar.gz.drv"
ROOTS = (HELLO,)


@pytest.fixture
def store(guix2020_copy: Path) -> StoreDir:
    """A private copy of the corpus store that a test may change."""
    return StoreDir.open(guix2020_copy)


@pytest.fixture
def results(tmp_path: Path) -> ResultCache:
    """A result cache in the test's directory, trusting files changed just now.

    (The copy of the store was written a moment ago; the settling delay is
    tested on its own below.)
    """
    return ResultCache(tmp_path / "cache", settle_ns=0)


def kept(store: StoreDir, results: ResultCache, value: object = ("report", 1)) -> list[str]:
    """Save ``value`` for the closure of HELLO; its paths."""
    paths = list(load_closure(ROOTS, store))
    # Changes within one tick of a coarse file-system clock would look alike.
    time.sleep(0.02)
    assert results.save(store, ROOTS, "verify", value, paths, time.time_ns())
    assert results.load(store, ROOTS, "verify") == value
    return paths


def file_of(store: StoreDir, path: str) -> Path:
    """The physical file of ``path``."""
    return Path(store.physical_file(path))


def test_a_kept_result_is_for_its_kind_roots_and_store(
    store: StoreDir, results: ResultCache, guix2020_store: Path
) -> None:
    """Another kind, other roots or another store have no result."""
    assert results.load(store, ROOTS, "verify") is None
    kept(store, results)
    assert results.load(store, ROOTS, "other") is None
    assert results.load(store, (TARBALL,), "verify") is None
    assert results.load(StoreDir.open(guix2020_store), ROOTS, "verify") is None
    # A new ResultCache on the same directory (another process) finds it.
    assert ResultCache(results.directory).load(store, ROOTS, "verify") == ("report", 1)


@pytest.mark.parametrize(
    "change",
    ["rewritten", "same-size", "touched", "deleted", "replaced", "directory", "chmod"],
)
def test_any_change_to_any_file_makes_it_stale(
    store: StoreDir, results: ResultCache, change: str
) -> None:
    """Each kind of change, to a file deep in the closure (not a root), is seen."""
    kept(store, results)
    file = file_of(store, TARBALL)
    data = file.read_bytes()
    if change == "rewritten":
        file.write_bytes(data + b" ")
    elif change == "same-size":
        # Same size, same inode: the times tell.
        file.write_bytes(data.replace(b"sha256", b"sha257", 1))
    elif change == "touched":
        os.utime(file)
    elif change == "deleted":
        file.unlink()
    elif change == "replaced":
        # Identical bytes under a new inode (a copy renamed over it).
        temp = file.with_name(".new")
        temp.write_bytes(data)
        os.replace(temp, file)
    elif change == "directory":
        file.unlink()
        file.mkdir()
    else:
        file.chmod(0o600)
    assert results.load(store, ROOTS, "verify") is None


def test_a_missing_node_that_appears_makes_it_stale(store: StoreDir, results: ResultCache) -> None:
    """A node missing when verified is part of the closure: its arrival is a change."""
    data = file_of(store, TARBALL).read_bytes()
    file_of(store, TARBALL).unlink()
    paths = kept(store, results)
    assert TARBALL in paths
    file_of(store, TARBALL).write_bytes(data)
    assert results.load(store, ROOTS, "verify") is None


def test_a_file_changed_while_verifying_keeps_nothing(store: StoreDir, tmp_path: Path) -> None:
    """A file that changed after the work began (or just before) leaves no result."""
    paths = list(load_closure(ROOTS, store))
    results = ResultCache(tmp_path / "cache")
    # The copy was made a moment ago: within the settling delay.
    assert not results.save(store, ROOTS, "verify", "x", paths, time.time_ns())
    assert results.load(store, ROOTS, "verify") is None
    # Work that began long after the last change is kept.
    later = time.time_ns() + results.settle_ns + 10**9
    assert results.save(store, ROOTS, "verify", "x", paths, later)
    assert results.load(store, ROOTS, "verify") == "x"


def test_a_damaged_result_is_no_result(store: StoreDir, results: ResultCache) -> None:
    """Garbage, truncation or an older layout: recomputed, never an error."""
    kept(store, results)
    file = results.result_path(store, ROOTS, "verify")
    blob = file.read_bytes()
    for damaged in (b"", b"\x00garbage", blob[: len(blob) // 2]):
        file.write_bytes(damaged)
        assert results.load(store, ROOTS, "verify") is None


def test_results_are_pruned_and_cleared(store: StoreDir, results: ResultCache) -> None:
    """Beyond 32 results the oldest go; clear() (also DerivationCache's) removes all."""
    paths = list(load_closure(ROOTS, store))
    now = time.time_ns()
    for i in range(40):
        results.save(store, (f"/gnu/store/{'a' * 32}-x{i}.drv",), "verify", i, paths, now)
    assert len(list(results.results_dir.iterdir())) == 32
    assert results.clear() == 32
    results.save(store, ROOTS, "verify", 1, paths, now)
    assert DerivationCache(results.directory).clear() == 0
    assert results.load(store, ROOTS, "verify") is None


def test_states_taken_while_reading_are_kept(store: StoreDir, results: ResultCache) -> None:
    """A file changed after it was read (its state taken then) makes the result stale."""
    since = time.time_ns()
    states: dict[str, tuple[int, int, int, int, int]] = {}
    paths = list(load_closure(ROOTS, store, states=states))
    assert set(states) == set(paths)
    time.sleep(0.02)
    # Changed after the read, before the result is kept: what is kept is
    # the state of what was read, so the result is never reused.
    file = file_of(store, TARBALL)
    file.write_bytes(file.read_bytes())
    assert results.save(store, ROOTS, "verify", "from the old bytes", paths, since, states)
    assert results.load(store, ROOTS, "verify") is None
    # Unchanged since read: reused, and the states are what os.stat says.
    time.sleep(0.02)
    since = time.time_ns()
    states.clear()
    paths = list(load_closure(ROOTS, store, states=states))
    assert results.save(store, ROOTS, "verify", "kept", paths, since, states)
    assert results.load(store, ROOTS, "verify") == "kept"
    info = os.stat(file)
    assert states[TARBALL] == (
        info.st_ino,
        info.st_size,
        info.st_mtime_ns,
        info.st_ctime_ns,
        info.st_mode,
    )
