"""Coalesce requests made while a batch runs into the next batch.

Each ``guix repl`` session costs seconds before its first answer (minutes
with an uninstalled Guix), so adding the checkouts of concurrent fetches one
session each would dominate a whole-closure fetch. A :class:`Coalescer`
lets callers in several threads submit one request each and wait for its
result: the first caller runs a batch, and whatever arrives meanwhile waits
for the next one, which that same caller runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Generic, TypeVar

__all__ = ["Coalescer"]

Request = TypeVar("Request")
Result = TypeVar("Result")


class Coalescer(Generic[Request, Result]):
    """Runs ``run_batch`` over the requests pending at once; thread-safe.

    Args:
        run_batch: computes one result per request, in order; an exception
            it raises becomes the result of every request of that batch.
    """

    def __init__(self, run_batch: Callable[[Sequence[Request]], Sequence[Result]]) -> None:
        self._run_batch = run_batch
        self._lock = threading.Lock()
        self._pending: list[tuple[Request, Future[Result]]] = []
        self._running = False
        self.batches = 0
        """How many batches have run (for tests and reports)."""

    def submit(self, request: Request) -> Result:
        """Add ``request`` to the next batch and wait for its result (blocking).

        Raises:
            Exception: whatever ``run_batch`` raised for this request's batch.
        """
        future: Future[Result] = Future()
        with self._lock:
            self._pending.append((request, future))
            leader = not self._running
            self._running = True
        if leader:
            self._drain()
        return future.result()

    def _drain(self) -> None:
        while True:
            with self._lock:
                batch, self._pending = self._pending, []
                if not batch:
                    self._running = False
                    return
            self.batches += 1
            try:
                results = self._run_batch([request for request, _ in batch])
            except Exception as err:  # every waiter must learn it, not only this thread
                for _, future in batch:
                    future.set_exception(err)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                future.set_result(result)
