"""Turn a coroutine that emits events into an async iterator of those events.

A build runs as a task writing into a queue; the iterator reads the queue.
Closing the iterator (or cancelling whoever iterates it) cancels the task,
and waits for it, so its clean-up (killing processes, deleting temporary
files, releasing locks) is done when the iteration is over.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from revive.core.stores.api import BuildEvent

__all__ = ["event_stream"]

_DONE = object()


async def event_stream(
    run: Callable[[Callable[[BuildEvent], None]], Awaitable[None]],
) -> AsyncIterator[BuildEvent]:
    """Iterate the events ``run(emit)`` emits, until it returns.

    ``emit`` must be called from the event loop's thread. An exception
    raised by ``run`` is re-raised by the iteration after the events
    emitted before it.
    """
    queue: asyncio.Queue[object] = asyncio.Queue()

    async def body() -> None:
        try:
            await run(queue.put_nowait)
        finally:
            queue.put_nowait(_DONE)

    task = asyncio.create_task(body())
    try:
        while True:
            item = await queue.get()
            if item is _DONE:
                break
            yield item  # type: ignore[misc]
        await task  # re-raises what ``run`` raised
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
