"""What every probe function receives: the client, the limits, the cache, the mode.

:meth:`ProbeContext.ask` is the one path a question takes: answered from
the cache when a trusted answer is kept (or from the cache only, offline),
else asked — timed, with a :class:`~revive.core.archive.http_client.ProbeFailure`
turned into an unknown answer of its error class — and the answer kept.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from revive.core.archive.answer import ErrorClass, Fallback, ProbeAnswer, Status
from revive.core.archive.cache import AnswerCache
from revive.core.archive.config import ArchiveConfig
from revive.core.archive.http_client import HttpClient, ProbeFailure

__all__ = ["ProbeContext", "Found", "Question"]


@dataclass(frozen=True, slots=True)
class Found:
    """What a question's asking returns when it got an answer."""

    status: Status
    """Available or missing (failures are raised, not returned)."""
    where: str = ""
    """Where it is, when available."""
    detail: str = ""
    """One line about what was found or not."""
    nar_size: int | None = None
    """For narinfos."""


Question = Callable[[], Awaitable[Found]]
"""Asks one question (may raise ``ProbeFailure``)."""


class ProbeContext:
    """Shared by the probes of one audit.

    Args:
        config: where to ask and how hard.
        client: the HTTP client (``None`` when offline: nothing is asked).
        cache: kept answers (``None``: neither read nor written).
        refresh: ignore kept answers (new ones are still kept).
        offline: answer from the cache only.
    """

    def __init__(
        self,
        config: ArchiveConfig,
        client: HttpClient | None,
        cache: AnswerCache | None = None,
        *,
        refresh: bool = False,
        offline: bool = False,
    ) -> None:
        self.config = config
        """Where to ask and how hard."""
        self.client = client
        """The shared HTTP client (``None`` offline)."""
        self.cache = cache
        self.refresh = refresh
        self.offline = offline
        self.processes = asyncio.Semaphore(max(1, config.processes))
        """Limits the version-control programs running at once."""
        self._pending: dict[str, asyncio.Future[ProbeAnswer]] = {}

    def http(self) -> HttpClient:
        """The HTTP client (a programming error to ask for it offline)."""
        if self.client is None:
            raise RuntimeError("no HTTP client: the probes run offline")
        return self.client

    async def ask(self, key: str, fallback: Fallback, question: str, how: Question) -> ProbeAnswer:
        """The answer to one question, from the cache or by asking ``how``.

        The same question asked twice at once (two FODs with the same URL)
        is asked once.
        """
        if self.cache is not None and (self.offline or not self.refresh):
            kept = self.cache.get(key, stale_ok=self.offline)
            if kept is not None:
                if kept.fallback is fallback and kept.question == question:
                    return kept
                return replace(kept, fallback=fallback, question=question)
        if self.offline:
            return ProbeAnswer(
                fallback,
                question,
                Status.UNKNOWN,
                detail="offline, and not in the cache",
                error=ErrorClass.NOT_CHECKED,
            )
        pending = self._pending.get(key)
        if pending is not None:
            return replace(await asyncio.shield(pending), fallback=fallback, question=question)
        future: asyncio.Future[ProbeAnswer] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        try:
            answer = await self._ask(fallback, question, how)
            future.set_result(answer)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as err:
            future.set_exception(err)
            future.exception()  # retrieved: no "never retrieved" warning if nobody waits
            raise
        finally:
            del self._pending[key]
        if self.cache is not None:
            self.cache.put(key, answer)
        return answer

    async def _ask(self, fallback: Fallback, question: str, how: Question) -> ProbeAnswer:
        started = time.perf_counter()
        checked_at = time.time()
        try:
            found = await how()
        except ProbeFailure as failure:
            return ProbeAnswer(
                fallback,
                question,
                Status.UNKNOWN,
                detail=failure.message,
                error=failure.error,
                seconds=time.perf_counter() - started,
                checked_at=checked_at,
            )
        return ProbeAnswer(
            fallback,
            question,
            found.status,
            where=found.where if found.status is Status.AVAILABLE else "",
            detail=found.detail,
            seconds=time.perf_counter() - started,
            checked_at=checked_at,
            nar_size=found.nar_size,
        )
