"""The plan: every fixed-output derivation of an environment, with what it needs.

Each source (FOD) of the closure gets one :class:`SourceRecord` whose
:class:`SourceState` says where it stands before anything is fetched:

* ``present``: its output is already valid in the store;
* ``unneeded``: only the old fetcher of another source needs it (the old
  git, subversion… built from source), and that source is fetched in
  today's form, so nothing needs it (decided as by
  :func:`~revive.core.stores.fetch_plan.plan_fetch`);
* ``substitutable``: a substitute server has its output (the daemon will
  substitute it instead of downloading from upstream);
* ``to export``: guix-revive's embedded store fetched it before; it is
  handed to the Guix store (hash checked by the daemon) instead of being
  fetched again;
* ``to fetch``: it is in today's form already, and is fetched as it is;
* ``to fetch rewritten``: its old form is replaced by today's (same output
  path), and the reason says why: the old fetcher needs an old tool built
  first, the mirror lists are old, the upstream site is known to be gone…;
* ``not fetchable``: nothing here can fetch it, and the reason says why (an
  unknown fetch method, a missing builder script, a tool that is not
  installed, a repository on a site that closed with no way around it).

Acting on the plan adds ``failed`` (a fetch was tried and failed), and
turns what was fetched into ``present``. :func:`plan_sources` is pure: the
store and the servers are asked beforehand (:func:`survey_outputs`).
"""

from __future__ import annotations

import enum
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Final

from revive.core.builders.tools import METHOD_PROGRAMS
from revive.core.derivation import Derivation
from revive.core.env.known_gone import KNOWN_GONE, GoneSite, gone_site
from revive.core.errors import MissingStoreItem, ReviveError
from revive.core.fetch.classify import Era, classify
from revive.core.fetch.mirrors import MirrorConfig
from revive.core.fetch.rewrite import rewrite
from revive.core.fetch.spec import CvsFetch, FetchMethod, FetchSpec, UrlFetch
from revive.core.store_dir import StoreDir
from revive.core.store_path import name_part
from revive.core.stores.api import Store
from revive.core.stores.fetch_plan import PlanState, plan_fetch

__all__ = [
    "SourceState",
    "SourceRecord",
    "PlanSettings",
    "TOOLS",
    "plan_source",
    "plan_sources",
    "survey_outputs",
    "spec_urls",
]


class SourceState(enum.StrEnum):
    """Where one source stands."""

    PRESENT = "present"
    """Valid in the store: nothing to do."""
    UNNEEDED = "unneeded"
    """Only the old fetchers of other sources need it, and today's forms replace them."""
    SUBSTITUTABLE = "substitutable"
    """A substitute server has the output."""
    EXPORT = "to export"
    """guix-revive's embedded store has it: handed to the Guix store, not fetched again."""
    FETCH = "to fetch"
    """To fetch in its own form (already today's)."""
    FETCH_REWRITTEN = "to fetch rewritten"
    """To fetch in today's form instead of its old one (same output path)."""
    NOT_FETCHABLE = "not fetchable"
    """Nothing here can fetch it."""
    FAILED = "failed"
    """A fetch was tried and failed."""


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One source of the environment, and what the plan says about it."""

    drv: str
    """The original ``.drv`` path."""
    output: str
    """Its output path (the same in every form)."""
    method: str
    """Fetch method (``url-fetch``, ``git-fetch``…, ``unknown``)."""
    era: str
    """Era of its form (``builtin``, ``in-band``, ``script``…)."""
    state: SourceState
    """Where it stands."""
    reason: str = ""
    """Why (one line; empty when there is nothing to say)."""
    tried: tuple[str, ...] = ()
    """What was tried so far, oldest first (one line each)."""
    rewritten: str | None = None
    """For ``to fetch rewritten``: the ``.drv`` path of today's form."""

    @property
    def label(self) -> str:
        """The output's store name, for tables."""
        return name_part(self.output)

    @property
    def done(self) -> bool:
        """True when nothing is left to do for it."""
        return self.state in (SourceState.PRESENT, SourceState.UNNEEDED)

    def as_json(self) -> dict[str, object]:
        """The record as JSON data (``drv``, ``output``, ``method``, ``era``, ``state``…)."""
        data: dict[str, object] = {
            "drv": self.drv,
            "output": self.output,
            "method": self.method,
            "era": self.era,
            "state": str(self.state),
            "reason": self.reason,
            "tried": list(self.tried),
        }
        if self.rewritten is not None:
            data["rewritten"] = self.rewritten
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> SourceRecord:
        """The record :meth:`as_json` wrote.

        Raises:
            ValueError: a field is missing or has the wrong type.
        """
        strings = {}
        for name in ("drv", "output", "method", "era", "state", "reason"):
            value = data.get(name)
            if not isinstance(value, str):
                raise ValueError(f"field {name!r} must be a string")
            strings[name] = value
        tried = data.get("tried", [])
        if not isinstance(tried, list) or not all(isinstance(t, str) for t in tried):
            raise ValueError("field 'tried' must be a list of strings")
        rewritten = data.get("rewritten")
        if rewritten is not None and not isinstance(rewritten, str):
            raise ValueError("field 'rewritten' must be a string")
        return cls(
            strings["drv"],
            strings["output"],
            strings["method"],
            strings["era"],
            SourceState(strings["state"]),
            strings["reason"],
            tuple(tried),
            rewritten,
        )

    def moved_to(self, state: SourceState, reason: str, attempt: str | None = None) -> SourceRecord:
        """This record in ``state``, with ``attempt`` added to what was tried."""
        tried = self.tried + ((attempt,) if attempt else ())
        return replace(self, state=state, reason=reason, tried=tried)


TOOLS: Final[Mapping[str, str]] = METHOD_PROGRAMS
"""The program each version-control method runs (the embedded builders' own table)."""

_OLD_SCRIPT_ERAS: Final = frozenset({Era.IN_BAND, Era.SCRIPT, Era.GUILE_BUILDER})


@dataclass(frozen=True, slots=True)
class PlanSettings:
    """What the plan may count on besides the derivations."""

    config: MirrorConfig | None = None
    """Mirror data for rewrites (today's by default)."""
    url_rewrites: tuple[tuple[str, str], ...] = ()
    """``--url-rewrite`` pairs: URLs that move elsewhere."""
    nar_mirrors: tuple[str, ...] = ()
    """Nar mirrors the fetchers will try last."""
    local_tools: frozenset[str] = frozenset(TOOLS)
    """Methods fetched by this machine's own tools (not by a daemon)."""
    have_tool: Callable[[str], bool] = field(default=lambda name: shutil.which(name) is not None)
    """Whether a program is installed here."""
    gone: tuple[GoneSite, ...] = KNOWN_GONE
    """Upstream sites known to be gone."""


def spec_urls(spec: FetchSpec) -> tuple[str, ...]:
    """The URLs or repositories ``spec`` fetches from."""
    if isinstance(spec, UrlFetch):
        return spec.urls
    if isinstance(spec, CvsFetch):
        return (spec.root,)
    return (spec.url,)


def plan_source(
    drv_path: str,
    drv: Derivation,
    read_item: Callable[[str], bytes] | None,
    settings: PlanSettings,
    *,
    present: str | None = None,
    substitute: str | None = None,
    export: str | None = None,
) -> SourceRecord:
    """The record of the FOD ``drv_path`` (read as ``drv``).

    Args:
        drv_path: its ``.drv`` path.
        drv: the derivation.
        read_item: reads builder scripts and mirror files from the store.
        settings: what the fetchers may use.
        present: why its output counts as present (``None``: it does not).
        substitute: the server that has its output (``None``: none).
        export: why it can be exported from the embedded store (``None``: it
            cannot).
    """
    out = drv.fixed_output
    assert out is not None, f"{drv_path} is not a fixed-output derivation"
    found = classify(drv, read_item)
    method = str(found.method or FetchMethod.UNKNOWN)
    record = SourceRecord(drv_path, out.path, method, found.era, SourceState.NOT_FETCHABLE)
    if present is not None:
        return replace(record, state=SourceState.PRESENT, reason=present)
    if export is not None:
        # Today's form is kept for the fetch that follows a refused export.
        return replace(
            record,
            state=SourceState.EXPORT,
            reason=export,
            rewritten=_rewritten_path(drv_path, drv, read_item, settings),
        )
    if substitute is not None:
        return replace(record, state=SourceState.SUBSTITUTABLE, reason=f"{substitute} has it")
    if found.method in (None, FetchMethod.UNKNOWN):
        return replace(record, reason=found.reason)
    try:
        result = rewrite(drv, read_item, settings.config, original_path=drv_path)
    except ReviveError as err:
        return replace(record, reason=f"cannot read how it fetches: {err}")
    tool = TOOLS.get(method)
    if tool is not None and method in settings.local_tools and not settings.have_tool(tool):
        return replace(record, reason=f"needs {tool}, which is not installed here")
    why = _why_rewritten(method, found.era, tool, result.identity, result.notes)
    gone = gone_site(spec_urls(result.spec), method, settings.gone)
    if gone is not None:
        url, site = gone
        moved = any(url.startswith(old) for old, _ in settings.url_rewrites if old)
        if moved:
            why.append(f"{url} is gone ({site.why}): fetched where --url-rewrite points")
        elif method in TOOLS and not settings.nar_mirrors:
            return replace(
                record,
                reason=f"{url} is gone ({site.why}); give --url-rewrite OLD=NEW to where "
                "the repository moved, or --nar-mirror URL",
            )
        else:
            fallback = "nar mirrors" if method in TOOLS else "content-addressed mirrors"
            why.append(f"{url} is gone ({site.why}): only {fallback} can have it")
    if result.identity:
        return replace(record, state=SourceState.FETCH, reason="; ".join(why))
    return replace(
        record,
        state=SourceState.FETCH_REWRITTEN,
        reason="; ".join(why),
        rewritten=result.drv_path,
    )


def _rewritten_path(
    drv_path: str,
    drv: Derivation,
    read_item: Callable[[str], bytes] | None,
    settings: PlanSettings,
) -> str | None:
    try:
        result = rewrite(drv, read_item, settings.config, original_path=drv_path)
    except ReviveError:
        return None
    return None if result.identity else result.drv_path


def _why_rewritten(
    method: str, era: str, tool: str | None, identity: bool, notes: Sequence[str]
) -> list[str]:
    why: list[str] = []
    if identity:
        return why
    if era in _OLD_SCRIPT_ERAS:
        if tool is None:
            why.append(
                f"its {era} download script needs the old Guile and GnuTLS built from source first"
            )
        else:
            why.append(f"its {era} {method} script needs the old {tool} built from source first")
    elif method in (FetchMethod.URL, FetchMethod.URL_TARBOMB, FetchMethod.URL_ZIPBOMB):
        why.append("old mirror lists: fetched with today's mirrors and content-addressed mirrors")
    else:
        why.append(f"{era} form: fetched with today's {method}")
    why.extend(notes)
    return why


def plan_sources(
    derivations: Mapping[str, Derivation],
    fods: Iterable[str],
    read_item: Callable[[str], bytes] | None,
    settings: PlanSettings,
    *,
    present: Mapping[str, str],
    substitutable: Mapping[str, str],
    exportable: Mapping[str, str] | None = None,
    roots: Sequence[str] | None = None,
) -> tuple[SourceRecord, ...]:
    """One record per FOD of ``fods`` (in that order).

    Args:
        derivations: the closure's derivations by ``.drv`` path.
        fods: the FODs to plan.
        read_item: reads builder scripts and mirror files.
        settings: what the fetchers may use.
        present: output path → why it counts as present.
        substitutable: output path → the server that has it.
        exportable: output path → why the embedded store can hand it over.
        roots: the roots; given, a FOD that only the old fetchers of sources
            fetched in today's form need is ``unneeded`` (as
            :func:`~revive.core.stores.fetch_plan.plan_fetch` decides).
    """
    exportable = exportable or {}
    records = []
    for path in fods:
        drv = derivations[path]
        out = drv.fixed_output
        assert out is not None
        records.append(
            plan_source(
                path,
                drv,
                read_item,
                settings,
                present=present.get(out.path),
                substitute=substitutable.get(out.path),
                export=exportable.get(out.path),
            )
        )
    if roots is None:
        return tuple(records)
    return _mark_unneeded(records, roots, derivations, read_item, settings.config)


def _mark_unneeded(
    records: Sequence[SourceRecord],
    roots: Sequence[str],
    derivations: Mapping[str, Derivation],
    read_item: Callable[[str], bytes] | None,
    config: MirrorConfig | None,
) -> tuple[SourceRecord, ...]:
    # An output present (or about to be, exported) needs nothing below it,
    # and neither does a form rewritten into today's: the fetch plan's walk.
    settled = (SourceState.PRESENT, SourceState.EXPORT)
    valid = frozenset(r.output for r in records if r.state in settled)
    plan = plan_fetch(
        roots,
        derivations,
        valid,
        read_item=read_item or _unreadable,
        do_rewrite=True,
        config=config,
        order=[r.drv for r in records],
    )
    unneeded = {e.drv_path for e in plan.of(PlanState.UNNEEDED)}
    return tuple(
        replace(
            r,
            state=SourceState.UNNEEDED,
            reason="only the old fetchers of sources fetched in today's form need it",
            rewritten=None,
        )
        if r.drv in unneeded and r.state is not SourceState.PRESENT
        else r
        for r in records
    )


def _unreadable(path: str) -> bytes:
    raise MissingStoreItem(path)


def survey_outputs(
    outputs: Iterable[str], store: Store, copy: StoreDir | None = None
) -> dict[str, str]:
    """Which ``outputs`` are present, and why: valid in ``store``, or in the store copy.

    An output found in the ``--store`` copy counts only for the embedded
    store, which reads that copy; a Guix daemon knows its own store
    exactly, and a directory there that it has not registered is not valid.
    """
    wanted = list(dict.fromkeys(outputs))
    valid = store.query_valid(wanted)
    present = {path: f"valid in the {store.backend_name} store" for path in valid}
    if copy is not None and store.backend_name == "embedded":
        for path in wanted:
            if path not in present and copy.logical == store.store_dir and copy.exists(path):
                present[path] = f"in the store copy {copy.physical}"
    return present
