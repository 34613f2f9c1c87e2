"""Fetch many FODs with bounded concurrency, skipping what is already valid.

The whole-closure fetch of the command line and the TUI share this loop;
each build's events go to one callback, and the result is one
:class:`FetchOutcome` per derivation. Running it again after an
interruption fetches only what is still missing (valid outputs are skipped).
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from revive.core.errors import ReviveError
from revive.core.stores.api import BuildEvent, BuildFailed, BuildFinished, FailureReason, Store

__all__ = ["FetchJob", "FetchOutcome", "OutcomeStatus", "fetch_many"]


@dataclass(frozen=True, slots=True)
class FetchJob:
    """One derivation to build, and the output that says it is done."""

    drv_path: str
    """The ``.drv`` to build (possibly a rewritten one)."""
    output_path: str
    """Its ``out`` output."""
    label: str = ""
    """A short name for display (the output's store name by default)."""


class OutcomeStatus(enum.StrEnum):
    """How one job ended."""

    VALID = "valid"
    """The output was valid before: nothing was fetched."""
    FETCHED = "fetched"
    """Built now."""
    FAILED = "failed"
    """Not built; see the reason."""


@dataclass(frozen=True, slots=True)
class FetchOutcome:
    """The result of one job."""

    job: FetchJob
    """The job."""
    status: OutcomeStatus
    """How it ended."""
    reason: FailureReason | None = None
    """Why it failed."""
    detail: str = ""
    """The failure, one line."""


async def fetch_many(
    store: Store,
    jobs: Sequence[FetchJob],
    *,
    concurrency: int = 4,
    on_event: Callable[[BuildEvent], None] | None = None,
    on_skip: Callable[[FetchJob], None] | None = None,
    valid: frozenset[str] | None = None,
) -> tuple[FetchOutcome, ...]:
    """Build every job whose output is not valid, ``concurrency`` at a time.

    Args:
        store: where to build.
        jobs: what to build (in the order to start them).
        concurrency: builds running at once (at least 1).
        on_event: receives every event of every build.
        on_skip: called for each job whose output was already valid.
        valid: the outputs known to be valid (default: one query to ``store``);
            a caller that planned already passes what it found.

    Returns:
        One outcome per job, in the order of ``jobs``.
    """
    if valid is None:
        try:
            valid = await asyncio.to_thread(store.query_valid, [j.output_path for j in jobs])
        except ReviveError:
            valid = frozenset()  # not knowing is no reason not to build: builds are idempotent
    outcomes: dict[int, FetchOutcome] = {}
    for index, job in enumerate(jobs):
        if job.output_path in valid:
            outcomes[index] = FetchOutcome(job, OutcomeStatus.VALID)
            if on_skip is not None:
                on_skip(job)
    limit = asyncio.Semaphore(max(1, concurrency))

    async def run(index: int, job: FetchJob) -> None:
        async with limit:
            final: BuildEvent | None = None
            async for event in store.build(job.drv_path):
                if on_event is not None:
                    on_event(event)
                final = event
            if isinstance(final, BuildFinished):
                status = OutcomeStatus.VALID if final.cached else OutcomeStatus.FETCHED
                outcomes[index] = FetchOutcome(job, status)
            elif isinstance(final, BuildFailed):
                outcomes[index] = FetchOutcome(
                    job, OutcomeStatus.FAILED, final.reason, final.detail
                )
            else:
                outcomes[index] = FetchOutcome(
                    job,
                    OutcomeStatus.FAILED,
                    FailureReason.FAILED,
                    "the build ended without a verdict",
                )

    async with asyncio.TaskGroup() as group:
        for index, job in enumerate(jobs):
            if index not in outcomes:
                group.create_task(run(index, job))
    return tuple(outcomes[i] for i in range(len(jobs)))
