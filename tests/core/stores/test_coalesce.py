"""Requests arriving while a batch runs share the next batch."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from revive.core.stores.coalesce import Coalescer


def test_requests_made_during_a_batch_share_the_next_one():
    first_running = threading.Event()
    release = threading.Event()
    seen: list[list[int]] = []

    def run_batch(requests):
        seen.append(list(requests))
        if len(seen) == 1:
            first_running.set()
            assert release.wait(10)
        return [r * 10 for r in requests]

    coalescer = Coalescer(run_batch)
    with ThreadPoolExecutor(6) as pool:
        first = pool.submit(coalescer.submit, 1)
        assert first_running.wait(10)
        others = [pool.submit(coalescer.submit, n) for n in range(2, 6)]
        while len(coalescer._pending) < 4:  # all four wait for the next batch
            threading.Event().wait(0.01)
        release.set()
        assert first.result() == 10
        assert [f.result() for f in others] == [20, 30, 40, 50]
    assert seen[0] == [1] and sorted(seen[1]) == [2, 3, 4, 5]
    assert coalescer.batches == 2


def test_a_failing_batch_fails_each_of_its_requests_and_the_next_batch_runs():
    calls = []

    def run_batch(requests):
        calls.append(list(requests))
        if requests == ["bad"]:
            raise ValueError("refused")
        return [r.upper() for r in requests]

    coalescer = Coalescer(run_batch)
    with pytest.raises(ValueError, match="refused"):
        coalescer.submit("bad")
    assert coalescer.submit("ok") == "OK"
    assert calls == [["bad"], ["ok"]]
