"""Run blocking work (a download) in a thread that a cancelled build stops."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import TypeVar

__all__ = ["CancelToken", "run_in_thread"]

T = TypeVar("T")


class CancelToken:
    """A cancellation flag that can also wake up a blocked thread.

    Checking the flag between chunks is not enough when the thread is
    blocked in ``recv`` on a silent server: the callbacks registered with
    :meth:`on_cancel` (shutting the socket down) run when it is set.
    """

    __slots__ = ("_event", "_lock", "_callbacks")

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []

    def is_set(self) -> bool:
        """True once cancelled."""
        return self._event.is_set()

    def wait(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds; True if cancelled meanwhile."""
        return self._event.wait(timeout)

    def set(self) -> None:
        """Cancel: set the flag and run the registered callbacks once."""
        with self._lock:
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            with contextlib.suppress(OSError):
                callback()

    def on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Run ``callback`` on cancellation (now, if already cancelled).

        Returns:
            A function that unregisters it.
        """
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)

                def remove() -> None:
                    with self._lock, contextlib.suppress(ValueError):
                        self._callbacks.remove(callback)

                return remove
        with contextlib.suppress(OSError):
            callback()
        return lambda: None


async def run_in_thread(work: Callable[[CancelToken], T]) -> T:
    """Run ``work(cancel)`` in the loop's default thread pool and wait for its result.

    If the awaiting task is cancelled, ``cancel`` is set and the thread is
    waited for before the cancellation goes on, so that no thread still
    writes into a work directory that is being deleted. ``work`` must check
    ``cancel`` between chunks and register a way to unblock itself.

    A pool, not a thread per call: starting a thread waits for it to be
    scheduled, which under load cost more than the download of a 1 MiB file.
    """
    loop = asyncio.get_running_loop()
    cancel = CancelToken()
    done = loop.run_in_executor(None, work, cancel)
    try:
        return await asyncio.shield(done)
    except asyncio.CancelledError:
        cancel.set()
        with contextlib.suppress(BaseException):
            await asyncio.shield(done)
        raise
