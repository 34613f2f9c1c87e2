"""Plan a whole-closure fetch before touching any store.

A closure of 2020 holds many fixed-output derivations (FODs); only some need
work. Planning decides, from one validity query, which:

* an output already valid needs nothing, and neither do the inputs of its
  derivation;
* a FOD rewritten into today's form no longer needs its old fetcher (git,
  subversion… built from source), so FODs reached only through such
  fetchers — the old tools' own sources — are not needed either;
* the rest is fetched as is, or through its rewritten form.

Nothing is written while planning: the text items of the rewritten forms
(their ``.drv`` and mirror files) are staged by :func:`stage_plan` only for
what will be fetched, and for the Guix daemon only for the forms it can
build, all in one session.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from revive.core.aterm import serialize_derivation
from revive.core.derivation import Derivation
from revive.core.errors import MissingStoreItem, ReviveError
from revive.core.fetch.mirrors import MirrorConfig
from revive.core.fetch.rewrite import rewrite
from revive.core.fetch.text_item import TextItem
from revive.core.store_path import name_part
from revive.core.stores.api import Store
from revive.core.stores.batch import FetchJob

__all__ = ["PlanState", "PlannedFod", "FetchPlan", "plan_fetch", "stage_plan"]


class PlanState(enum.StrEnum):
    """What a FOD of the closure needs."""

    VALID = "valid"
    """Its output is valid already."""
    UNNEEDED = "unneeded"
    """Only the old fetchers of other FODs need it, and those are not built."""
    FETCH = "fetch"
    """Its original derivation is built."""
    REWRITTEN = "rewritten"
    """Its rewritten (today's) form is built."""
    UNFETCHABLE = "unfetchable"
    """It was to be rewritten and cannot be (the reason says why)."""


@dataclass(frozen=True, slots=True)
class PlannedFod:
    """One FOD of the closure and what the plan does with it."""

    drv_path: str
    """The original ``.drv``."""
    output_path: str
    """Its ``out`` output, the path that must end up valid."""
    state: PlanState
    """What it needs."""
    job_drv: str = ""
    """The ``.drv`` to build (the rewritten one for ``REWRITTEN``)."""
    derivation: Derivation | None = None
    """The derivation to build, for ``FETCH`` and ``REWRITTEN``."""
    items: tuple[TextItem, ...] = ()
    """For ``REWRITTEN``: the text items to stage, the ``.drv`` last."""
    reason: str = ""
    """For ``UNFETCHABLE``: why."""

    @property
    def label(self) -> str:
        """The output's store name, for display."""
        return name_part(self.output_path)


@dataclass(frozen=True, slots=True)
class FetchPlan:
    """Every FOD of a closure with its state, in topological order."""

    entries: tuple[PlannedFod, ...]
    """One per FOD."""

    def of(self, *states: PlanState) -> tuple[PlannedFod, ...]:
        """The entries in one of ``states``."""
        return tuple(e for e in self.entries if e.state in states)

    def jobs(self) -> tuple[FetchJob, ...]:
        """The builds to run: ``FETCH`` and ``REWRITTEN`` entries."""
        return tuple(
            FetchJob(e.job_drv, e.output_path, e.label)
            for e in self.of(PlanState.FETCH, PlanState.REWRITTEN)
        )


def plan_fetch(
    roots: Iterable[str],
    derivations: Mapping[str, Derivation],
    valid: frozenset[str],
    *,
    read_item: Callable[[str], bytes],
    do_rewrite: bool,
    config: MirrorConfig | None = None,
    order: Sequence[str] | None = None,
) -> FetchPlan:
    """Decide what each FOD reachable from ``roots`` needs (no store is touched).

    Args:
        roots: the root ``.drv`` paths.
        derivations: every loaded derivation of the closure.
        valid: the output paths known to be valid (one query beforehand).
        read_item: reads the mirror files and builder scripts rewriting needs.
        do_rewrite: build today's form of every FOD that has one.
        config: mirror data for rewriting.
        order: the order of the entries (default: the order first reached).

    Returns:
        One entry per FOD of the closure, ``UNNEEDED`` ones included.
    """
    decided: dict[str, PlannedFod] = {}
    needed: set[str] = set()
    stack = [r for r in roots if r in derivations]
    while stack:
        path = stack.pop()
        if path in needed:
            continue
        needed.add(path)
        drv = derivations[path]
        descend = True
        if drv.is_fixed_output:
            entry = _decide(path, drv, valid, read_item, do_rewrite, config)
            decided[path] = entry
            # A valid output, or today's form, needs nothing the old one did.
            descend = entry.state not in (PlanState.VALID, PlanState.REWRITTEN)
        if descend:
            stack.extend(p for p in drv.input_drv_paths if p in derivations)
    keys = list(order) if order is not None else list(derivations)
    entries: list[PlannedFod] = []
    for path in keys:
        found = derivations.get(path)
        out = found.fixed_output if found is not None else None
        if out is None:
            continue
        assert out is not None
        if path in decided:
            entries.append(decided[path])
        elif out.path in valid:
            entries.append(PlannedFod(path, out.path, PlanState.VALID))
        else:
            entries.append(PlannedFod(path, out.path, PlanState.UNNEEDED))
    return FetchPlan(tuple(entries))


def _decide(
    path: str,
    drv: Derivation,
    valid: frozenset[str],
    read_item: Callable[[str], bytes],
    do_rewrite: bool,
    config: MirrorConfig | None,
) -> PlannedFod:
    out = drv.fixed_output
    assert out is not None
    if out.path in valid:
        return PlannedFod(path, out.path, PlanState.VALID)
    if not do_rewrite:
        return PlannedFod(path, out.path, PlanState.FETCH, path, drv)
    try:
        result = rewrite(drv, read_item, config, original_path=path)
    except ReviveError as error:
        return PlannedFod(path, out.path, PlanState.UNFETCHABLE, reason=str(error))
    if result.identity:
        return PlannedFod(path, out.path, PlanState.FETCH, path, drv)
    new = result.derivation
    own = TextItem.make(
        new.name + ".drv",
        serialize_derivation(new).encode(),
        _store_dir_of(out.path),
        tuple(sorted(new.references)),
    )
    return PlannedFod(
        path,
        out.path,
        PlanState.REWRITTEN,
        result.drv_path,
        new,
        (*result.added_items, own),
    )


def _store_dir_of(path: str) -> str:
    return path.rsplit("/", 1)[0]


def stage_plan(store: Store, plan: FetchPlan) -> None:
    """Make what the rewritten forms need readable by ``store``'s builds.

    The Guix daemon gets, in one session, the items of the rewritten forms
    it can build and the ``.drv`` closures of the original forms it will
    build; a form it cannot build is never registered (guix-revive's own
    builder fetches it and only the verified output is added), so it is
    only made readable to this process. Another store adds every rewritten
    item (it reads the originals from the copies).

    Raises:
        StoreError: the daemon refused an item.
    """
    from revive.core.stores.guix import GuixStore  # the embedded store needs no Guix

    rewritten = plan.of(PlanState.REWRITTEN)
    if not isinstance(store, GuixStore):
        for entry in rewritten:
            for item in entry.items:
                store.add_text(item.name, item.contents, item.references)
        return
    jobs = plan.of(PlanState.FETCH, PlanState.REWRITTEN)
    builders = {e.derivation.builder for e in jobs if e.derivation is not None}
    # One probe session for every builtin the jobs use, then one query and
    # one session adding the rewritten forms' items and the closures of the
    # original .drv files the daemon will build (a .drv it could not build
    # is staged, never registered).
    store.supported_builtins(b for b in builders if b.startswith("builtin:"))
    as_is = [
        e.job_drv
        for e in plan.of(PlanState.FETCH)
        if e.derivation is not None and store.can_build(e.derivation)
    ]
    items = [item for entry in rewritten for item in entry.items]
    try:
        store.import_derivations(as_is, items)
    except MissingStoreItem:
        # One original .drv whose closure cannot be copied must not stop the
        # others: each is then imported by its own build, which reports it.
        store.import_derivations((), items)
