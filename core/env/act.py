"""Act on a plan: fetch every source that is not present, then optionally build the roots.

Only what the plan says is missing is touched: a present (or unneeded)
source is not asked about again. The forms to build are those of the fetch
plan (:mod:`revive.core.stores.fetch_plan`, the same as ``guix-revive
fetch``), staged with :func:`~revive.core.stores.fetch_plan.stage_plan` in
one go before the first fetch: on the Guix backend one probe of the
builtins used and one session adding the forms the daemon can build; a form
it cannot build is never registered (the backend fetches it with
guix-revive's own builder and adds the output with ``add-to-store``, the
daemon checking its hash). Sources guix-revive's embedded store fetched
before are exported to the Guix store (one session) instead of fetched
again. Fetches run ``jobs`` at a time; without ``keep_going`` no new fetch
starts after the first failure (those running finish), as with ``guix
build``. Each finished source is reported to a callback at once, so the
caller can save the state file and a rerun resumes where this one stopped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from revive.core.derivation import Derivation
from revive.core.env.plan import SourceRecord, SourceState
from revive.core.errors import ReviveError
from revive.core.fetch.mirrors import MirrorConfig
from revive.core.stores.api import BuildEvent, BuildFailed, BuildFinished, FailureReason, Store
from revive.core.stores.embedded import EmbeddedStore
from revive.core.stores.fetch_plan import FetchPlan, PlannedFod, PlanState, plan_fetch, stage_plan

__all__ = ["ACTIONABLE", "RootBuild", "plan_jobs", "export_sources", "fetch_sources", "build_roots"]

ACTIONABLE = frozenset(
    {
        SourceState.SUBSTITUTABLE,
        SourceState.EXPORT,
        SourceState.FETCH,
        SourceState.FETCH_REWRITTEN,
        SourceState.FAILED,
    }
)
"""States acted on (a failure is tried again on a rerun)."""


@dataclass(frozen=True, slots=True)
class RootBuild:
    """How building one root ended."""

    drv: str
    """The root ``.drv``."""
    ok: bool
    """True when its outputs are valid."""
    detail: str = ""
    """For a failure: the reason, one line."""


def plan_jobs(
    records: Sequence[SourceRecord],
    derivations: Mapping[str, Derivation],
    read_item: Callable[[str], bytes],
    config: MirrorConfig | None,
) -> dict[str, PlannedFod]:
    """The fetch plan's entry of each record to fetch, by original ``.drv``.

    A source planned ``to fetch rewritten`` gets today's form (the rewrite
    is deterministic: the same ``.drv`` as planned); any other is built in
    its own form (a substitutable one is substituted by the daemon; a
    failed one is tried again as it was planned then).
    """
    entries: dict[str, PlannedFod] = {}
    for record in records:
        drv = derivations[record.drv]
        if record.rewritten is None:
            entries[record.drv] = PlannedFod(
                record.drv, record.output, PlanState.FETCH, record.drv, drv
            )
            continue
        plan = plan_fetch(
            [record.drv],
            derivations,
            frozenset(),
            read_item=read_item,
            do_rewrite=True,
            config=config,
            order=[record.drv],
        )
        entries[record.drv] = plan.entries[0]
    return entries


def export_sources(
    embedded: EmbeddedStore, store: Store, records: Sequence[SourceRecord]
) -> dict[str, SourceRecord]:
    """Hand the outputs of ``records`` from the embedded store to the Guix store.

    One query and one ``add-to-store`` session; the daemon hashes each item,
    so only content matching the original derivation lands at its output
    path. Returns the records that became present, by ``.drv`` (the others
    are fetched instead). The plan found their outputs not valid in the
    Guix store: it is not asked again.
    """
    from revive.core.stores.guix import GuixStore  # the embedded store needs no Guix
    from revive.core.stores.guix_import import ImportStatus, export_items

    if not isinstance(store, GuixStore) or not records:
        return {}
    outcomes = export_items(embedded, store, [r.output for r in records], valid=frozenset())
    by_output = {o.output_path: o for o in outcomes}
    done: dict[str, SourceRecord] = {}
    for record in records:
        outcome = by_output.get(record.output)
        if outcome is not None and outcome.status in (ImportStatus.IMPORTED, ImportStatus.VALID):
            why = "exported from guix-revive's embedded store (hash checked by the daemon)"
            done[record.drv] = record.moved_to(SourceState.PRESENT, why, f"guix: {why}")
    return done


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
    embedded: EmbeddedStore | None = None,
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
        embedded: guix-revive's embedded store, for the ``to export``
            records (``None``: they are fetched).

    Returns:
        The records after acting (same order), and whether fetching stopped
        early after a failure (some were not tried).
    """
    results = list(records)
    backend = store.backend_name
    todo = [r for r in records if r.state in ACTIONABLE]
    exporting = [r for r in todo if r.state is SourceState.EXPORT]
    exported: dict[str, SourceRecord] = {}
    if embedded is not None and exporting:
        try:
            exported = await asyncio.to_thread(export_sources, embedded, store, exporting)
        except ReviveError:
            exported = {}  # fetched instead, as if the embedded store did not have them
    staged: dict[str, PlannedFod] = {}
    failed: dict[str, SourceRecord] = {}
    rest = [r for r in todo if r.drv not in exported]
    try:
        entries = await asyncio.to_thread(plan_jobs, rest, derivations, store.read_item, config)
        for drv, entry in entries.items():
            if entry.state in (PlanState.FETCH, PlanState.REWRITTEN):
                staged[drv] = entry
        await asyncio.to_thread(stage_plan, store, FetchPlan(tuple(staged.values())))
    except ReviveError as err:
        why = f"{backend}: staging: {FailureReason.STORE_ERROR}"
        failed = {r.drv: r.moved_to(SourceState.FAILED, str(err), why) for r in rest}
        staged = {}
    else:
        for record in rest:
            if record.drv not in staged:
                reason = entries[record.drv].reason or "cannot be rewritten"
                failed[record.drv] = record.moved_to(
                    SourceState.FAILED, reason, f"{backend}: rewrite: {reason}"
                )
    limit = asyncio.Semaphore(max(1, jobs))
    stop = asyncio.Event()
    skipped = False

    def finish(index: int, done: SourceRecord) -> None:
        results[index] = done
        if done.state is SourceState.FAILED and not keep_going:
            stop.set()
        if on_done is not None:
            on_done(done)

    async def one(index: int, record: SourceRecord, entry: PlannedFod) -> None:
        nonlocal skipped
        async with limit:
            if stop.is_set():
                skipped = True
                return
            form = "as is"
            if entry.state is PlanState.REWRITTEN and entry.derivation is not None:
                form = f"today's form ({entry.derivation.builder})"
            final = await _last_event(store, entry.job_drv, on_event)
            finish(index, _outcome(record, final, f"{backend}: {form}"))

    for index, record in enumerate(records):
        settled = exported.get(record.drv) or failed.get(record.drv)
        if settled is not None:
            finish(index, settled)
    async with asyncio.TaskGroup() as group:
        for index, record in enumerate(records):
            job = staged.get(record.drv)
            if job is not None:
                group.create_task(one(index, record, job))
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
