"""Loading closures: missing and malformed files, progress, cancellation."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from revive.core import closure
from revive.core.closure import LoadCancelled, LoadProgress, load_closure
from revive.core.store_dir import StoreDir

HELLO = "/gnu/store/gknm68l0q893bpvyhcd4ccih1bmh0j87-hello-2.10.drv"
TXT2MAN = "/gnu/store/w3gsxzynyrvyxizibcpbi5sxmky9y1av-txt2man-1.6.0.drv"


def test_missing_file_becomes_a_missing_node(guix2020_copy: Path) -> None:
    """Deleting one input .drv leaves a missing node whose error names the file."""
    store = StoreDir.open(guix2020_copy)
    full = load_closure([HELLO], store)
    victim = full.inputs(HELLO)[0][0]
    below = full.closure(victim) - {victim}
    (guix2020_copy / Path(victim).name).unlink()
    graph = load_closure([HELLO], store)
    node = graph.node(victim)
    assert node.missing and not node.malformed
    assert node.error == f"{victim}: not in the store (no file {guix2020_copy / Path(victim).name})"
    assert graph.inputs(victim) == ()
    # Nodes only reachable through the victim are no longer in the closure.
    only_below = {p for p in below if p not in graph}
    assert len(graph) == len(full) - len(only_below)
    assert graph.stats().missing == 1


def test_malformed_file_becomes_an_error_node(guix2020_copy: Path) -> None:
    """A damaged input .drv is a malformed node with a located one-line error."""
    store = StoreDir.open(guix2020_copy)
    victim = load_closure([HELLO], store).inputs(HELLO)[1][0]
    file = guix2020_copy / Path(victim).name
    file.write_bytes(b'Derive([("out"')
    graph = load_closure([HELLO], store)
    node = graph.node(victim)
    assert node.malformed and not node.missing and node.derivation is None
    assert node.error is not None and node.error.startswith(f"{file}:1:")
    assert "\n" not in node.error
    stats = graph.stats()
    assert (stats.malformed, stats.missing) == (1, 0)


def test_directory_and_missing_root(guix2020_copy: Path) -> None:
    """A root that is a directory, and a root that does not exist, never crash."""
    store = StoreDir.open(guix2020_copy)
    odd = f"/gnu/store/{'a' * 32}-odd.drv"
    (guix2020_copy / Path(odd).name).mkdir()
    absent = f"/gnu/store/{'b' * 32}-absent.drv"
    foreign = f"/nix/store/{'c' * 32}-foreign.drv"
    graph = load_closure([odd, absent, foreign, odd], store)
    assert graph.roots == (odd, absent, foreign)
    assert graph.node(odd).malformed
    assert (
        graph.node(odd).error
        == f"{guix2020_copy / Path(odd).name}: is a directory, not a derivation file"
    )
    assert graph.node(absent).missing
    assert graph.node(foreign).error == f"{foreign}: not in the store /gnu/store"


def test_progress_reports_and_ends_complete(guix2020_store: Path) -> None:
    """Progress is reported during loading and once at the end with done == discovered."""
    reports: list[LoadProgress] = []
    graph = load_closure([HELLO], StoreDir.open(guix2020_store), progress=reports.append)
    assert reports[-1] == LoadProgress(len(graph), len(graph))
    assert all(r.done <= r.discovered for r in reports)
    assert len(reports) >= 1


def test_cancel_raises(guix2020_store: Path) -> None:
    """A set cancel event stops loading with LoadCancelled (a ReviveError, one line)."""
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(LoadCancelled, match=r"^loading cancelled after \d+ derivations$"):
        load_closure([HELLO], StoreDir.open(guix2020_store), cancel=cancel)


def test_cancel_from_progress_callback(guix2020_store: Path) -> None:
    """Cancelling while loading stops at the next check, before the end."""
    cancel = threading.Event()

    def on_progress(report: LoadProgress) -> None:
        cancel.set()

    with pytest.raises(LoadCancelled) as info:
        load_closure([TXT2MAN], StoreDir.open(guix2020_store), progress=on_progress, cancel=cancel)
    assert 0 < info.value.done < 399


def test_worker_processes_give_the_same_graph(guix2020_copy: Path) -> None:
    """Loading through worker processes gives the same nodes, in the same order."""
    from revive.core import closure

    store = StoreDir.open(guix2020_copy)
    (guix2020_copy / Path(TXT2MAN).name).unlink()  # a missing node on the way
    bad = guix2020_copy / "9qi6szjpxslm9a0jlbvgprj6gh7nlkhr-gzip-1.10.drv"
    bad.write_text("Derive(")  # and a malformed one
    roots = (HELLO, TXT2MAN)
    texts: dict[str, bytes] = {}
    states: dict[str, tuple[int, int, int, int, int]] = {}
    alone = load_closure(roots, store, workers=1, texts=texts, states=states)
    kept: tuple[dict[str, bytes], dict[str, tuple[int, int, int, int, int]]] = ({}, {})
    walk = closure._Walk(roots, store, {}, None, None, *kept)
    walk.sequential(until=2)  # start alone, as a big load does
    walk.parallel(2)
    walk.sequential()
    shared = walk.graph(roots)
    # The workers hand back the bytes and states verify keeps.
    assert kept == (texts, states) and len(texts) == len(alone.derivations)
    assert list(shared) == list(alone)
    assert dict(shared.derivations) == dict(alone.derivations)
    assert dict(shared.problems) == dict(alone.problems)
    assert shared.node(f"/gnu/store/{bad.name}").malformed
    assert shared.node(TXT2MAN).missing
    # Edges read by the workers are shared like the ones read here.
    edges = [edge for drv in shared.derivations.values() for edge in drv.input_drvs]
    assert len({id(edge) for edge in edges}) == len(set(edges)) < len(edges)


@pytest.mark.skipif(not Path("/proc/loadavg").exists(), reason="Linux's /proc/loadavg")
def test_busy_cpus_are_the_other_runnable_tasks() -> None:
    """A process spinning now is busy CPU at once (not a minute later, like the load average)."""
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)
        assert closure.busy_cpus() >= 1
    finally:
        spinner.kill()
        spinner.wait()


def test_the_compiled_loop_loads_what_the_python_loop_loads(
    guix2020_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Missing, malformed, non-UTF-8, directory, odd paths: the same graph, bytes and states."""
    if closure._load_queue is None:
        pytest.skip("the compiled module is not built")
    store = StoreDir.open(guix2020_copy)
    inputs = [path for path, _ in load_closure([HELLO], store).inputs(HELLO)]
    (guix2020_copy / Path(inputs[0]).name).unlink()
    (guix2020_copy / Path(inputs[1]).name).write_bytes(b'Derive([("out"')
    (guix2020_copy / Path(inputs[2]).name).write_bytes(b'Derive([("\xff",')
    (guix2020_copy / Path(inputs[3]).name).unlink()
    (guix2020_copy / Path(inputs[3]).name).mkdir()
    roots = [HELLO, TXT2MAN, "/gnu/store/not-a-store-path.drv", "/elsewhere/x.drv"]

    def load(compiled_loop: bool) -> tuple[object, ...]:
        monkeypatch.setattr(closure, "_load_queue", loop if compiled_loop else None)
        texts: dict[str, bytes] = {}
        states: dict[str, tuple[int, int, int, int, int]] = {}
        steps: list[LoadProgress] = []
        graph = load_closure(roots, store, texts=texts, states=states, progress=steps.append)
        return (
            list(graph),
            dict(graph.derivations),
            dict(graph.problems),
            texts,
            states,
            steps,
        )

    loop = closure._load_queue
    compiled = load(True)
    assert compiled == load(False)
    assert len(compiled[2]) == 6 and len(compiled[5]) > 1
