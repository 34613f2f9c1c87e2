"""Act on a plan: fetch every source that is not present, then optionally build the roots.

Only what the plan says is missing is touched: a present source is not
asked about again, and a rewritten form is written into the store only
when it is about to be fetched (not for every FOD of the closure up front).
Fetches run ``jobs`` at a time; without ``keep_going`` no new fetch starts
after the first failure (those running finish), as with ``guix build``.
Each finished source is reported to a callback at once, so the caller can
save the state file and a rerun resumes where this one stopped.

Seam for the Guix backend: a rewritten form is added with
:meth:`~revive.core.stores.api.Store.add_text` and built with
:meth:`~revive.core.stores.api.Store.build`, whatever the backend; a daemon
that cannot build that form (guix-revive's own ``builtin:svn-download`` &
co., or ``builtin:git-download`` on an older daemon) is the backend's to
handle (:func:`prepare_job` is the one place to change if the backend
offers a "fetch this FOD into the store" operation instead).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from revive.core.aterm import serialize_derivation
from revive.core.derivation import Derivation
from revive.core.env.plan import SourceRecord, SourceState
from revive.core.errors import ReviveError
from revive.core.fetch.mirrors import MirrorConfig
from revive.core.fetch.rewrite import rewrite
from revive.core.stores.api import BuildEvent, BuildFailed, BuildFinished, FailureReason, Store
from revive.core.stores.batch import FetchJob

__all__ = ["ACTIONABLE", "RootBuild", "prepare_job", "fetch_sources", "build_roots"]

ACTIONABLE = frozenset(
    {SourceState.SUBSTITUTABLE, SourceState.FETCH, SourceState.FETCH_REWRITTEN, SourceState.FAILED}
)
"""States a fetch is started for (a failure is tried again on a rerun)."""


@dataclass(frozen=True, slots=True)
class RootBuild:
    """How building one root ended."""

    drv: str
    """The root ``.drv``."""
    ok: bool
    """True when its outputs are valid."""
    detail: str = ""
    """For a failure: the reason, one line."""


def prepare_job(
    store: Store,
    record: SourceRecord,
    drv: Derivation,
    config: MirrorConfig | None,
) -> tuple[FetchJob, str]:
    """The job fetching ``record``, and a few words on the form used.

    A source planned ``to fetch rewritten`` (or one that failed in its own
    form) is rewritten again (deterministic: the same ``.drv`` as planned)
    and today's form, with its mirror files, added to ``store`` now.

    Raises:
        ReviveError: the rewrite or adding it to the store failed.
    """
    if record.rewritten is None:
        return FetchJob(record.drv, record.output, record.label), "as is"
    result = rewrite(drv, store.read_item, config, original_path=record.drv)
    for item in result.added_items:
        store.add_text(item.name, item.contents, item.references)
    new = store.add_text(
        result.derivation.name + ".drv",
        serialize_derivation(result.derivation).encode(),
        result.derivation.references,
    )
    return FetchJob(new, record.output, record.label), f"today's form ({result.derivation.builder})"


async def fetch_sources(
    store: Store,
    records: Sequence[SourceRecord],
    derivations: Mapping[str, Derivation],
    *,
    config: MirrorConfig | None = None,
    jobs: int = 4,
    keep_going: bool = False,
    on_event: Callable[[BuildEvent], None] | None = None,
    on_done: Callable[[SourceRecord], None] | None = None,
) -> tuple[tuple[SourceRecord, ...], bool]:
    """Fetch every record in an :data:`ACTIONABLE` state.

    Args:
        store: where to fetch into.
        records: the plan.
        derivations: the original derivations by ``.drv`` path.
        config: mirror data for rewrites.
        jobs: fetches at once.
        keep_going: go on after a failure.
        on_event: every build event.
        on_done: each record as soon as its fetch ended.

    Returns:
        The records after acting (same order), and whether fetching stopped
        early after a failure (some were not tried).
    """
    results = list(records)
    limit = asyncio.Semaphore(max(1, jobs))
    stop = asyncio.Event()
    skipped = False
    backend = store.backend_name

    async def one(index: int, record: SourceRecord) -> None:
        nonlocal skipped
        async with limit:
            if stop.is_set():
                skipped = True
                return
            try:
                job, form = await asyncio.to_thread(
                    prepare_job, store, record, derivations[record.drv], config
                )
            except ReviveError as err:
                done = record.moved_to(
                    SourceState.FAILED, str(err), f"{backend}: rewrite: {FailureReason.STORE_ERROR}"
                )
            else:
                final = await _last_event(store, job.drv_path, on_event)
                done = _outcome(record, final, f"{backend}: {form}")
            results[index] = done
            if done.state is SourceState.FAILED and not keep_going:
                stop.set()
            if on_done is not None:
                on_done(done)

    async with asyncio.TaskGroup() as group:
        for index, record in enumerate(records):
            if record.state in ACTIONABLE:
                group.create_task(one(index, record))
    return tuple(results), skipped


async def _last_event(
    store: Store, drv_path: str, on_event: Callable[[BuildEvent], None] | None
) -> BuildEvent | None:
    """Build ``drv_path``, passing every event on; the last one (the verdict)."""
    final: BuildEvent | None = None
    events = store.build(drv_path)
    try:
        async for event in events:
            if on_event is not None:
                on_event(event)
            final = event
    finally:
        # Closing stops a build left early (cancelled): its processes are killed.
        close = getattr(events, "aclose", None)
        if close is not None:
            await close()
    return final


def _outcome(record: SourceRecord, final: BuildEvent | None, form: str) -> SourceRecord:
    if isinstance(final, BuildFinished):
        word = "already valid" if final.cached else "fetched"
        return record.moved_to(SourceState.PRESENT, f"{word} ({form})", f"{form}: {word}")
    if isinstance(final, BuildFailed):
        why = f"{final.reason}: {final.detail}"
        return record.moved_to(SourceState.FAILED, why, f"{form}: {why}")
    why = "the build ended without a verdict"
    return record.moved_to(SourceState.FAILED, why, f"{form}: {why}")


async def build_roots(
    store: Store,
    roots: Sequence[str],
    *,
    keep_going: bool = False,
    on_event: Callable[[BuildEvent], None] | None = None,
) -> tuple[RootBuild, ...]:
    """Build ``roots`` one after the other (``--build``), after their sources.

    The embedded store builds only fixed-output derivations, so a package
    root fails there with ``builder unsupported``; the Guix backend builds
    anything its daemon can.
    """
    built: list[RootBuild] = []
    for root in roots:
        final = await _last_event(store, root, on_event)
        if isinstance(final, BuildFinished):
            built.append(RootBuild(root, True))
        else:
            detail = (
                f"{final.reason}: {final.detail}"
                if isinstance(final, BuildFailed)
                else "the build ended without a verdict"
            )
            built.append(RootBuild(root, False, detail))
            if not keep_going:
                break
    return tuple(built)
