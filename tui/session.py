"""The environment being looked at: store, graph, statuses, rewrites, logs.

A :class:`Session` is the app's model. It only calls :mod:`revive.core` and
never imports Textual, so the same object serves the app, the tests and the
benchmark. Loading (:func:`open_session`) and everything slow runs in the
app's workers; the methods here that a widget calls while painting (labels,
``can_rewrite``…) are dictionary look-ups.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from revive.core import base32
from revive.core.aterm import serialize_derivation
from revive.core.builders.tools import install_hint, missing_program, needs_text
from revive.core.closure import LoadProgress, load_closure, paused_gc
from revive.core.demo.generate import GenerateProgress, default_demo_dir, generate_demo
from revive.core.demo.model import DemoEnvironment
from revive.core.demo.serve import DemoServers
from revive.core.derivation import Derivation
from revive.core.diff import diff_derivations
from revive.core.diff_layout import Row, side_by_side
from revive.core.env.lowering import LoweringRequest, lower
from revive.core.errors import ReviveError, StoreError
from revive.core.fetch.classify import Classification, DerivationKind, Era, classify
from revive.core.fetch.extract import extract_fetch_spec
from revive.core.fetch.rewrite import RewriteResult, rewrite
from revive.core.fetch.spec import CvsFetch, FetchMethod, FetchSpec, UrlFetch
from revive.core.fetch.url_map import UrlMap, UrlOverride
from revive.core.graph import DerivationGraph, Node
from revive.core.node_status import FetchState, NodeStatus, StatusBoard
from revive.core.outline import Outline, build_outline
from revive.core.record import Field, record_fields, render_text
from revive.core.search import SearchField, SearchIndex
from revive.core.store_dir import StoreDir
from revive.core.store_path import DEFAULT_STORE_DIR, name_part
from revive.core.stores.api import (
    BuildEvent,
    BuildFailed,
    BuildFinished,
    BuildProgress,
    Store,
    describe_event,
)
from revive.core.stores.select import choose_backend, open_store

__all__ = [
    "LoadPlan",
    "NodeKind",
    "Session",
    "open_session",
    "LOG_LINES_PER_NODE",
]

LOG_LINES_PER_NODE: Final = 2000
"""Build log lines kept per node: a chatty fetch cannot eat the memory."""

_HTTP_NOT_FOUND: Final = re.compile(r"HTTP 404 Not Found")
"""How the HTTP fetcher reports a missing file (marked as the demo's own when serving it)."""

_LOGGED_NODES: Final = 256
"""Nodes whose logs are kept; the oldest log is dropped beyond that."""


@dataclass(frozen=True, slots=True)
class LoadPlan:
    """What to open, as the command line said."""

    roots: tuple[str, ...] = ()
    """Root ``.drv`` arguments as typed (paths, store names or files)."""
    store: str | None = None
    """``--store``: the directory holding the items (``None``: the default)."""
    backend: str = "auto"
    """``--backend``: ``embedded``, ``guix`` or ``auto``."""
    demo: bool = False
    """Open the bundled demo environment."""
    demo_dir: Path | None = None
    """Where the demo store is (generated there on first use; default:
    :func:`~revive.core.demo.generate.default_demo_dir`)."""
    demo_serve: bool = False
    """Serve the demo's sources on loopback (``--demo-serve``) while the session is open."""
    demo_port: int | None = None
    """Port of the demo's servers (``None``: the usual one if free, else any)."""
    store_root: Path | None = None
    """The embedded store's own directory (default: guix-revive's; the demo's
    ``fetched/`` for the demo)."""
    fetch_options: Any = None
    """Fetch options for the embedded builders (``--demo-serve`` sets them)."""
    mirror_config: Any = None
    """Mirror configuration for rewrites (``--demo-serve`` sets it)."""
    lowering: LoweringRequest | None = None
    """Lower this environment with Guix first and open the roots it prints
    (``guix-revive -C channels.scm -m manifest.scm``); Guix's progress lines
    are shown as loading stages."""
    url_map: UrlMap = UrlMap()
    """``--url-map``: the user's moved upstreams, applied to every rewrite."""


@dataclass(frozen=True, slots=True)
class NodeKind:
    """How a node is drawn: what it is, its fetch badge, whether it is plumbing."""

    name: str
    """Derivation name (the store name without ``.drv``)."""
    fod: bool
    """A fixed-output derivation (a source download)."""
    badge: str
    """Fetch method and era for a FOD (``url·builtin``, ``git·script``), else ``""``."""
    era_builtin: bool
    """For a FOD: fetched by the daemon itself (``builtin:…``) rather than a script."""
    infrastructure: bool
    """Plumbing (module imports, mirror lists, locales…), drawn dimmed."""
    error: str | None
    """Why the node could not be read (missing or malformed), else ``None``."""
    method: str = ""
    """The method word of the badge (``url``, ``git``, ``svn-multi``…), else ``""``."""
    era: str = ""
    """The era word of a FOD's badge (``builtin`` or ``script``), else ``""``."""
    rewritten: str = ""
    """For a FOD whose rewritten form was written: ``rewritten``, or ``user
    override`` when the user's URL map changed where it fetches from; else ``""``.
    The badge then describes the rewritten form."""


@dataclass
class Session:
    """The model of one opened environment."""

    store: StoreDir
    """Where the ``.drv`` files and other items are."""
    graph: DerivationGraph
    """The closure of the roots."""
    outline: Outline = field(init=False)
    """The tree order of the closure (first occurrences, pre-order), from the graph's roots."""
    title: str = ""
    """What is open, for the header (``demo``, root names…)."""
    demo: DemoEnvironment | None = None
    """The demo environment, when that is what is open."""
    servers: DemoServers | None = None
    """The demo's loopback servers, while they run (``--demo-serve``)."""
    plan: LoadPlan = field(default_factory=LoadPlan)
    """How it was opened (backend, fetch options…)."""
    status: StatusBoard = field(default_factory=StatusBoard)
    """What is known about each node's output."""
    search_index: SearchIndex | None = None
    """The search index, once built (:meth:`build_search_index`)."""
    fods: tuple[str, ...] = field(init=False)
    """Every loaded fixed-output node, in outline order."""
    fod_positions: tuple[int, ...] = field(init=False)
    """Outline positions of :attr:`fods` (for next/previous FOD)."""
    _kinds: dict[str, NodeKind] = field(default_factory=dict)
    _classes: dict[str, Classification] = field(default_factory=dict)
    _logs: dict[str, deque[str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _backend: Store | None = None
    _unrewrites: list[tuple[str, str]] | None = None
    _by_output: dict[str, tuple[str, ...]] | None = None

    def __post_init__(self) -> None:
        graph = self.graph
        self.outline = build_outline(graph.roots, lambda p: [i for i, _ in graph.inputs(p)])
        self.fods = tuple(p for p in self.outline.order if graph.is_fixed_output(p))
        self.fod_positions = self.outline.positions(self.fods)

    def close(self) -> None:
        """Stop what the session started (the demo's servers); idempotent."""
        servers, self.servers = self.servers, None
        if servers is not None:
            servers.stop()

    # --- nodes -----------------------------------------------------------------------

    def node(self, path: str) -> Node:
        """The graph node at ``path``."""
        return self.graph.node(path)

    def children(self, path: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Input edges of ``path``: ``(drv path, outputs used)`` in file order."""
        return self.graph.inputs(path)

    def kind(self, path: str) -> NodeKind:
        """How to draw ``path`` (cached: this is called while painting)."""
        kind = self._kinds.get(path)
        if kind is None:
            kind = self._kinds[path] = self._compute_kind(path)
        return kind

    def _compute_kind(self, path: str) -> NodeKind:
        node = self.graph.node(path)
        name = node.name
        drv = node.derivation
        if drv is None:
            return NodeKind(name, False, "", False, False, node.error or "unavailable")
        found = self.classification(path)
        if found is None:
            return NodeKind(name, drv.is_fixed_output, "", False, False, None)
        if found.is_fod:
            builtin = found.era in (Era.BUILTIN, Era.REVIVE)
            method, era = _fod_badge_parts(found)
            return NodeKind(name, True, f"{method}·{era}", builtin, False, None, method, era)
        badge = _WRAPPER_BADGES.get(found.kind, "")
        infra = found.kind in _INFRA_KINDS
        return NodeKind(name, False, badge, False, infra, None, badge)

    def cached_kind(self, path: str) -> NodeKind | None:
        """:meth:`kind` if already known (never classifies: for estimates)."""
        return self._kinds.get(path)

    def classification(self, path: str) -> Classification | None:
        """How ``path`` fetches (FOD) or what it is; ``None`` if it cannot be read.

        Builder scripts are read only for fixed-output nodes (the method of
        an old FOD is written nowhere else); classifying a package never
        touches the disk, so painting a tree line stays cheap.
        """
        found = self._classes.get(path)
        if found is None:
            drv = self.graph.get(path)
            if drv is None:
                return None
            reader = self.read_item if drv.is_fixed_output else None
            found = self._classes[path] = classify(drv, reader)
        return found

    def read_item(self, path: str) -> bytes:
        """The bytes of store item ``path`` (builder scripts, mirror lists)."""
        return self.store.read_bytes(path)

    def fetch_spec(self, path: str) -> FetchSpec:
        """What the FOD ``path`` fetches.

        Raises:
            ReviveError: not a FOD, or its parameters cannot be read.
        """
        drv = self.graph.derivation(path)
        return extract_fetch_spec(
            drv, self.read_item, path=path, classification=self.classification(path)
        )

    def node_status(self, path: str) -> NodeStatus:
        """What is known about ``path``'s output."""
        return self.status[path]

    def is_failing(self, path: str) -> bool:
        """A node that failed to fetch, or whose ``.drv`` is missing or broken."""
        return self.status[path].state is FetchState.FAILED or path in self.graph.problems

    def failing_positions(self) -> tuple[int, ...]:
        """Sorted outline positions of the failing nodes (for next/previous failure)."""
        paths = set(self.status.in_state(FetchState.FAILED)) | set(self.graph.problems)
        return self.outline.positions(paths)

    def output_path(self, path: str) -> str | None:
        """The ``out`` output path of ``path``, if loaded."""
        drv = self.graph.get(path)
        return drv.output_path("out") if drv is not None else None

    # --- actions ---------------------------------------------------------------------

    def can_rewrite(self, path: str | None) -> bool:
        """Only a loaded FOD that is not being fetched can be rewritten."""
        if path is None or not self.graph.is_fixed_output(path):
            return False
        return not self.status[path].fetching

    def can_build(self, path: str | None) -> bool:
        """A loaded FOD not already being fetched can be fetched."""
        if path is None or not self.graph.is_fixed_output(path):
            return False
        return not self.status[path].fetching

    def can_cancel(self, path: str | None) -> bool:
        """Only a running fetch can be cancelled."""
        return path is not None and self.status[path].fetching

    # --- the Derivation tab ----------------------------------------------------------

    def record(self, path: str, limit: int = 200) -> DerivationRecord:
        """What the Derivation tab shows for ``path`` (loaded nodes only).

        Lists are cut to ``limit`` entries (a profile has thousands of
        inputs); the record says how many there are in all.
        """
        drv = self.graph.derivation(path)
        spec: tuple[tuple[str, str], ...] = ()
        spec_error = None
        if drv.is_fixed_output:
            try:
                spec = spec_fields(self.fetch_spec(path))
            except ReviveError as error:
                spec_error = one_line(error)
        shown = drv
        if len(drv.input_drvs) > limit or len(drv.input_srcs) > limit:
            shown = drv.evolve(input_drvs=drv.input_drvs[:limit], input_srcs=drv.input_srcs[:limit])
        return DerivationRecord(
            path=path,
            fields=record_fields(path, shown),
            counts={"inputs": len(drv.input_drvs), "sources": len(drv.input_srcs)},
            classification=self.classification(path),
            spec=spec,
            spec_error=spec_error,
        )

    def record_text(self, path: str) -> str:
        """The Derivation tab as plain text (for tests and copying)."""
        record = self.record(path)
        lines = []
        found = record.classification
        if found is not None:
            lines.append(f"kind: {found.label}")
            if found.era:
                lines.append(f"era: {found.era} — {found.era_description}")
        if record.spec:
            lines.extend(f"{key}: {value}" for key, value in record.spec)
        if record.spec_error:
            lines.append(f"fetch: cannot be read: {record.spec_error}")
        lines.append(render_text(path, self.graph.derivation(path)))
        return "\n".join(lines)

    # --- rewriting -------------------------------------------------------------------

    def preview_rewrite(self, path: str) -> RewritePreview:
        """The rewritten form of FOD ``path`` and its diff (blocking; nothing is written).

        Raises:
            ReviveError: not a FOD, or its parameters cannot be read.
        """
        drv = self.graph.derivation(path)
        result = rewrite(
            drv,
            self.read_item,
            self.plan.mirror_config,
            original_path=path,
            url_map=self.plan.url_map,
        )
        lookup = self.graph.get
        diff = diff_derivations(path, drv, result.drv_path, result.derivation, lookup, lookup)
        return RewritePreview(
            path, result.drv_path, side_by_side(diff), result.identity, result, result.overrides
        )

    def move_upstream(self, old: str, new: str) -> None:
        """Fetch ``old`` from ``new`` in every rewrite from now on (a user override).

        Raises:
            ReviveError: not a usable rule (empty, blanks, a prefix without ``/``).
        """
        self.plan = replace(self.plan, url_map=self.plan.url_map.with_rule(old, new))

    def fetch_locations(self, path: str) -> tuple[str, ...]:
        """Where FOD ``path`` fetches from as written (its URLs, repository or CVS root)."""
        spec = self.fetch_spec(path)
        if isinstance(spec, UrlFetch):
            return spec.urls
        if isinstance(spec, CvsFetch):
            return (spec.root,)
        return (spec.url,)

    def known_new_location(self, path: str) -> tuple[str, str] | None:
        """``(old, new)`` when the demo knows where ``path``'s upstream moved (else ``None``)."""
        if self.demo is None:
            return None
        for special in self.demo.special:
            if special.drv_path == path and special.new_location:
                return special.old_location, special.new_location
        return None

    def write_rewrite(self, path: str, preview: RewritePreview) -> str:
        """Write ``preview``'s rewritten ``.drv`` (and the items it needs) into the store.

        Returns:
            The ``.drv`` path written.

        Raises:
            StoreError: the store cannot be written, or gave another path.
        """
        result: RewriteResult = preview.result
        store = self.backend()
        for item in result.added_items:
            store.add_text(item.name, item.contents, item.references)
        new = result.derivation
        written = store.add_text(
            new.name + ".drv", serialize_derivation(new).encode(), sorted(new.references)
        )
        if written != result.drv_path:
            raise StoreError(f"the store wrote {written}, expected {result.drv_path}")
        self._note_rewritten(path, result)
        self.status.rewritten(path, written)
        return written

    def _note_rewritten(self, path: str, result: RewriteResult) -> None:
        # The badge follows the node: from now on it describes the form that
        # gets fetched (today's method and era), marked as rewritten.
        kind = self.kind(path)
        found = classify(result.derivation)
        method, era = _fod_badge_parts(found) if found.is_fod else (kind.method, kind.era)
        label = "user override" if result.overrides else "rewritten"
        self._kinds[path] = replace(
            kind,
            badge=f"{method}·{era}",
            method=method,
            era=era,
            era_builtin=era == "builtin",
            rewritten=label,
        )

    def written_location(self, store_path: str) -> str:
        """Where ``store_path`` really is on disk: in the embedded store's own
        directory (its logical ``/gnu/store`` path is not there), or the path
        itself with a Guix daemon."""
        physical = getattr(self.backend(), "physical_path", None)
        return str(physical(store_path)) if physical is not None else store_path

    def store_location(self) -> str:
        """Where rewritten ``.drv`` files are written (the backend's directory)."""
        store = self.backend()
        root = getattr(store, "root", None)
        name = store.backend_name
        return f"{root} ({name} store)" if root is not None else f"{store.store_dir} ({name})"

    # --- building --------------------------------------------------------------------

    def build_target(self, path: str) -> str:
        """What to build for ``path``: its rewritten ``.drv`` if written, else itself."""
        return self.status[path].rewritten_drv or path

    def backend(self) -> Store:
        """The store that builds and receives rewrites (opened on first use; may block).

        Raises:
            ReviveError: the backend asked for cannot be opened.
        """
        with self._lock:
            if self._backend is None:
                self._backend = open_backend(self.plan, self.store)
            return self._backend

    # --- relations -------------------------------------------------------------------

    def referrers(self, path: str) -> tuple[str, ...]:
        """The nodes of the closure that use ``path``."""
        try:
            return self.graph.referrers(path)
        except KeyError:
            return ()

    def why(self, path: str, limit: int = 20) -> tuple[tuple[str, ...], ...]:
        """Shortest dependency paths from the roots to ``path`` (at most ``limit``)."""
        found: list[tuple[str, ...]] = []
        for root in self.graph.roots:
            if len(found) >= limit:
                break
            found.extend(self.graph.why(root, path, limit=limit - len(found)))
        return tuple(found)

    # --- the store -------------------------------------------------------------------

    def twins(self, path: str) -> tuple[str, ...]:
        """The FODs whose output path is ``path``'s (``path`` included, outline order).

        Two derivations with the same output path (the same source computed
        by two Guix versions) share one output: what is in the store for
        one is there for the other.
        """
        out = self.output_path(path)
        return self._fods_by_output().get(out, (path,)) if out else (path,)

    def _fods_by_output(self) -> dict[str, tuple[str, ...]]:
        """Every FOD by its output path, in outline order (computed once)."""
        if self._by_output is None:
            groups: dict[str, list[str]] = {}
            for fod in self.fods:
                if out := self.output_path(fod):
                    groups.setdefault(out, []).append(fod)
            self._by_output = {out: tuple(fods) for out, fods in groups.items()}
        return self._by_output

    def with_twins(self, paths: tuple[str, ...]) -> tuple[str, ...]:
        """``paths`` and their twins (what to repaint when their status changes)."""
        return tuple(dict.fromkeys(t for p in paths for t in self.twins(p)))

    def check_outputs(self) -> tuple[str, ...]:
        """Mark the FODs whose output is present, and those that cannot be fetched here.

        Present: valid in the backend's store, or in the store directory
        that was opened (a read-only copy, or the Guix store itself), put
        there by this derivation or by a twin. Blocked: the embedded
        builders would need a program that is not installed. Blocking: one
        store query, and the builder scripts of the FODs are read.

        Returns:
            The nodes whose status changed.
        """
        groups = self._fods_by_output()
        valid = set(self.backend().query_valid(groups))
        valid.update(out for out in groups if out not in valid and self.store.exists(out))
        changed = []
        for out in sorted(valid):
            for path in groups[out]:
                if not self.status[path].valid:
                    self.status.present(path)
                    changed.append(path)
        changed.extend(self._block_missing_programs())
        return tuple(dict.fromkeys(changed))

    def _block_missing_programs(self) -> list[str]:
        """Block the FODs whose fetch program is missing (embedded backend only)."""
        if choose_backend(self.plan.backend) != "embedded":  # type: ignore[arg-type]
            return []
        changed = []
        for path in self.fods:
            found = self.classification(path)
            program = missing_program(found.method if found is not None else None)
            if program is not None and self.status[path].blocked is None:
                self.block(path, program, f"the embedded builders run {program}")
                changed.append(path)
        return changed

    def block(self, path: str, program: str, why: str) -> None:
        """``path`` cannot be fetched here: ``program`` is missing; say so in its log."""
        self.status.block(path, needs_text(program))
        self.append_log(
            path, f"{needs_text(program)}: {why}; {install_hint(program)} and start again"
        )

    # --- events of a build -----------------------------------------------------------

    def record_event(self, path: str, event: BuildEvent) -> str | None:
        """Update ``path``'s status and log from one build event; the log line, if any."""
        line = describe_event(event)
        if isinstance(event, BuildFinished):
            self.status.succeeded(path)
            for twin in self.twins(path):
                if twin != path:
                    self.status.present(twin)
        elif isinstance(event, BuildFailed):
            self.status.failed(path, self.shown(f"{event.reason}: {event.detail}") or "")
        if line is not None:
            line = self.shown(line)
        if line is not None:
            self.append_log(path, line)
        return line

    def shown(self, line: str) -> str | None:
        """A log line as the user should read it (``None``: not worth showing).

        With the demo's servers every URL is rewritten to a loopback address
        or a local repository; the log shows the URL the derivation names
        (with the server written ``<demo server>``), so it reads like a real
        fetch and shows no port or temporary directory.
        """
        servers = self.servers
        if servers is None:
            return line
        if line.startswith("rewriting "):
            return None  # every URL is rewritten: saying so each time is noise
        if self._unrewrites is None:
            pairs = self.plan.fetch_options.url_rewrites if self.plan.fetch_options else ()
            self._unrewrites = sorted(pairs, key=lambda pair: -len(pair[1]))
        for old, new in self._unrewrites:
            if new in line:
                line = line.replace(new, old)
        line = line.replace(servers.base_url, "<demo server>")
        # Every URL is served on loopback: a 404 is the demo playing a gone
        # upstream, not the real host answering. Say so where it is read.
        return _HTTP_NOT_FOUND.sub(r"\g<0> (from the demo's loopback server)", line)

    def record_cancel(self, path: str) -> str:
        """The build of ``path`` was cancelled; the log line saying so."""
        self.status.stopped(path)
        line = "✘ cancelled"
        self.append_log(path, line)
        return line

    def record_failure(self, path: str, error: BaseException) -> str:
        """The build of ``path`` raised ``error`` (not a build event); the log line."""
        reason = one_line(error)
        self.status.failed(path, reason)
        line = f"✘ {reason}"
        self.append_log(path, line)
        return line

    @staticmethod
    def event_progress(event: BuildEvent) -> tuple[int, int | None] | None:
        """``(done, total)`` bytes for a progress event, else ``None``."""
        if isinstance(event, BuildProgress):
            return event.done, event.total
        return None

    @staticmethod
    def event_ends(event: BuildEvent) -> bool:
        """True for the last event of a build."""
        return isinstance(event, BuildFinished | BuildFailed)

    # --- logs ------------------------------------------------------------------------

    def log(self, path: str) -> tuple[str, ...]:
        """The build log lines kept for ``path``."""
        with self._lock:
            lines = self._logs.get(path)
            return tuple(lines) if lines is not None else ()

    def append_log(self, path: str, line: str) -> None:
        """Keep one more log line for ``path`` (bounded per node and in nodes)."""
        with self._lock:
            lines = self._logs.get(path)
            if lines is None:
                if len(self._logs) >= _LOGGED_NODES:
                    del self._logs[next(iter(self._logs))]
                lines = self._logs[path] = deque(maxlen=LOG_LINES_PER_NODE)
            lines.append(line)

    def clear_log(self, path: str) -> None:
        """Forget ``path``'s log (a new build starts)."""
        with self._lock:
            self._logs.pop(path, None)

    # --- search ----------------------------------------------------------------------

    def build_search_index(self) -> SearchIndex:
        """Index every node's name, store path, outputs, URLs and hashes (slow: a worker)."""
        # Hundreds of thousands of small tuples: collecting garbage while they
        # are made only slows the build down (nothing here is cyclic).
        with paused_gc():
            index = SearchIndex.build(self._search_records())
        self.search_index = index
        return index

    def _search_records(self) -> Iterator[tuple[str, list[SearchField]]]:
        graph = self.graph
        for path in self.outline.order:
            drv = graph.get(path)
            fields = [SearchField("name", Derivation.name_from_path(path))]
            if drv is not None:
                fields.extend(_drv_search_fields(drv))
            yield path, fields


_URL_VARIABLES: Final = frozenset(
    {
        "url",
        "urls",
        "git url",
        "guix download url",
        "svn url",
        "hg ref url",
        "bzr url",
        "cvs-root",
    }
)
"""Environment variables holding a FOD's URL or repository, in every era.

Only these are indexed: build phases make up most of a closure's bytes and
a search for a name must not wade through them."""


def _drv_search_fields(drv: Derivation) -> Iterator[SearchField]:
    for out in drv.outputs:
        if out.path:
            yield SearchField(f"output {out.name}", out.path)
    fixed = drv.fixed_output
    if fixed is None:
        return
    yield SearchField("hash", fixed.hash)
    try:
        # `guix hash` prints nix-base32; the .drv holds base16: find both.
        yield SearchField("hash", base32.encode(bytes.fromhex(fixed.hash)))
    except ValueError:
        pass
    for key, value in drv.env:
        if key in _URL_VARIABLES:
            yield SearchField(key, value)


_METHOD_BADGES: Final = {
    FetchMethod.URL: "url",
    FetchMethod.URL_TARBOMB: "tarbomb",
    FetchMethod.URL_ZIPBOMB: "zipbomb",
    FetchMethod.GIT: "git",
    FetchMethod.SVN: "svn",
    FetchMethod.SVN_MULTI: "svn-multi",
    FetchMethod.HG: "hg",
    FetchMethod.BZR: "bzr",
    FetchMethod.CVS: "cvs",
    FetchMethod.UNKNOWN: "unknown",
}

_WRAPPER_BADGES: Final = {
    DerivationKind.PATCHED_SOURCE: "patched",
    DerivationKind.TARBOMB: "tarbomb",
    DerivationKind.ZIPBOMB: "zipbomb",
}

_INFRA_KINDS: Final = frozenset(
    {
        DerivationKind.MODULE_IMPORT,
        DerivationKind.MODULE_IMPORT_COMPILED,
        DerivationKind.PROFILE,
        DerivationKind.BUILDER_FILE,
    }
)


def _fod_badge_parts(found: Classification) -> tuple[str, str]:
    """``(method, era)`` of a FOD's badge: ``("url", "builtin")``, ``("git", "script")``…"""
    method = _METHOD_BADGES.get(found.method, "unknown") if found.method else "unknown"
    if found.executable:
        method = "url/exec"
    # Builtin: today's daemon fetches it with today's tools. Script: an old
    # builder script needs the old fetch tools built first (the usual failure).
    era = "builtin" if found.era in (Era.BUILTIN, Era.REVIVE) else "script"
    return method, era


# --- loading ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DerivationRecord:
    """What the Derivation tab shows: how it fetches, then the readable record."""

    path: str
    """The ``.drv`` path."""
    fields: tuple[Field, ...]
    """The record (:func:`revive.core.record.record_fields`)."""
    classification: Classification | None
    """What it is, and for a FOD its fetch method and era."""
    spec: tuple[tuple[str, str], ...] = ()
    """For a FOD: what it fetches, as ``(field, value)`` pairs."""
    spec_error: str | None = None
    """For a FOD whose parameters cannot be read: why."""
    counts: Mapping[str, int] = field(default_factory=dict)
    """The real length of lists that ``fields`` may show cut (``inputs``, ``sources``)."""


@dataclass(frozen=True, slots=True)
class RewritePreview:
    """A FOD's rewritten form, not yet written, and the diff old → new."""

    path: str
    """The original ``.drv`` path."""
    new_path: str
    """The ``.drv`` path the rewritten form will have."""
    rows: tuple[Row, ...]
    """The side-by-side diff."""
    unchanged: bool
    """True when the derivation is already in today's form (nothing to write)."""
    result: Any = None
    """The core's rewrite result (what gets written)."""
    overrides: tuple[UrlOverride, ...] = ()
    """URLs the user's map moved (a user override, still checked by the output hash)."""

    def heading(self, unified: bool = False) -> str:
        """One line above the diff, naming the sides as the diff shows them."""
        if self.unchanged:
            return "Already in today's form: nothing to rewrite."
        if self.overrides:
            moved = self.overrides[0]
            more = f" (+{len(self.overrides) - 1} more)" if len(self.overrides) > 1 else ""
            return (
                f"User override: fetches {moved.new} instead of {moved.old}{more}; "
                "same output path, still checked."
            )
        if unified:
            return "- the old derivation, + rewritten: same output, fetched today's way."
        return "Left: the old derivation. Right: rewritten, same output, fetched today's way."


@dataclass(frozen=True, slots=True)
class RootsRead:
    """The roots are known (before the rest of the closure is read)."""

    store: StoreDir
    """Where they are."""
    roots: tuple[str, ...]
    """Their ``.drv`` paths."""
    title: str
    """What is open, for the header."""


@dataclass(frozen=True, slots=True)
class Opened:
    """What :func:`_resolve` found: the store, the roots, the plan to use."""

    store: StoreDir
    roots: tuple[str, ...]
    title: str
    plan: LoadPlan
    demo: DemoEnvironment | None = None
    servers: DemoServers | None = None


def open_session(
    plan: LoadPlan,
    *,
    on_roots: Callable[[RootsRead], None] | None = None,
    on_progress: Callable[[LoadProgress], None] | None = None,
    on_stage: Callable[[str], None] | None = None,
    on_generate: Callable[[GenerateProgress], None] | None = None,
    cancel: threading.Event | None = None,
) -> Session:
    """Open what ``plan`` names and load its closure (blocking: run in a worker).

    Args:
        plan: what to open.
        on_roots: called once the roots are known, before the closure is read.
        on_progress: called as the closure is read.
        on_stage: called with a one-line description of each slow step.
        on_generate: called as the demo is generated (first run only); by
            default its steps go to ``on_stage``.
        cancel: set to stop loading.

    Raises:
        ReviveError: the store, a root or the demo cannot be opened.
    """
    stage = on_stage or (lambda _: None)
    opened = _resolve(plan, stage, on_generate or (lambda p: stage(generating_text(p))))
    try:
        if on_roots is not None:
            on_roots(RootsRead(opened.store, opened.roots, opened.title))
        graph = load_closure(opened.roots, opened.store, progress=on_progress, cancel=cancel)
        for root in opened.roots:
            # A root that cannot be read is a failed load (shown in the loading
            # area), not a tree of one "malformed" node; inputs may be missing.
            if root in graph.problems:
                raise ReviveError(str(graph.problems[root]))
        session = Session(
            store=opened.store,
            graph=graph,
            title=opened.title,
            plan=opened.plan,
            demo=opened.demo,
            servers=opened.servers,
        )
    except BaseException:
        if opened.servers is not None:
            opened.servers.stop()
        raise
    if opened.demo is not None:
        for source in opened.demo.sources:
            if source.needs and source.drv_path in graph:
                why = "the demo's repository for it could not be made"
                session.block(source.drv_path, source.needs, why)
    return session


def generating_text(progress: GenerateProgress) -> str:
    """One line about the demo's generation: steps done of all, and the step."""
    steps = f" ({progress.done} of {progress.total} steps)" if progress.total else ""
    return f"Generating the demo environment (first run only){steps}: {progress.step}…"


def open_backend(plan: LoadPlan, store: StoreDir) -> Store:
    """The build backend ``plan`` asks for, reading ``.drv`` files from ``store``.

    The embedded store keeps its items in its own directory and reads the
    opened store as a read-only copy (often someone's ``/gnu/store`` or a
    directory of old ``.drv`` files).
    """
    return open_store(
        plan.backend,  # type: ignore[arg-type]
        root=plan.store_root,
        store_dir=store.logical,
        read_only=(store,),
        options=plan.fetch_options,
        mirror_config=plan.mirror_config,
    )


def _resolve(
    plan: LoadPlan, stage: Callable[[str], None], generating: Callable[[GenerateProgress], None]
) -> Opened:
    if plan.demo:
        return _open_demo(plan, stage, generating)
    store = StoreDir.open(plan.store or DEFAULT_STORE_DIR)
    wanted = plan.roots
    if plan.lowering is not None:
        stage("Lowering the environment with Guix…")
        wanted = lower(plan.lowering, on_line=stage).roots
    if not wanted:
        raise ReviveError("no root derivation given (guix-revive ROOT.drv…)")
    roots = tuple(store.resolve_root(arg) for arg in wanted)
    title = ", ".join(Derivation.name_from_path(r) for r in roots[:3])
    if len(roots) > 3:
        title += f" (+{len(roots) - 3})"
    return Opened(store, roots, title, plan)


def _open_demo(
    plan: LoadPlan, stage: Callable[[str], None], generating: Callable[[GenerateProgress], None]
) -> Opened:
    demo_dir = plan.demo_dir or default_demo_dir()
    env = generate_demo(demo_dir, generating)
    store = StoreDir.open(env.store_dir, env.logical_store_dir)
    title = f"demo: {env.roots[0].label}"
    if len(env.roots) > 1:
        title += f" (+{len(env.roots) - 1} older roots)"
    plan = replace(plan, store_root=plan.store_root or env.fetched_dir)
    if plan.backend == "auto":
        # The demo's sources are served on loopback to guix-revive's own
        # builders; a Guix daemon (installed on a workshop machine) would go
        # to the real, long-gone URLs instead.
        plan = replace(plan, backend="embedded")
    servers = None
    if plan.demo_serve:
        stage("Starting the demo's loopback servers…")
        servers = DemoServers(env, port=plan.demo_port).start()
        plan = replace(
            plan,
            fetch_options=servers.fetch_options(plan.fetch_options),
            mirror_config=servers.mirror_config(),
        )
    return Opened(store, env.root_paths, title, plan, env, servers)


def short_name(path: str) -> str:
    """The store name of ``path`` without its hash (for compact displays)."""
    return name_part(path)


def one_line(error: BaseException) -> str:
    """An exception as one line for the user (its first line, or its type)."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def spec_fields(spec: FetchSpec) -> tuple[tuple[str, str], ...]:
    """What a FOD fetches as ``(field, value)`` pairs, method first, expected hash last."""
    fields = [("fetch", str(spec.method))]
    for name in spec.__dataclass_fields__:
        if name in ("method", "expected"):
            continue
        value = getattr(spec, name)
        if value is None or value == ():
            continue
        if name == "password":
            value = "(set)"
        elif isinstance(value, tuple):
            value = " ".join(str(v) for v in value)
        fields.append((name.replace("_", " "), str(value)))
    expected = spec.expected
    kind = "recursive (NAR) " if expected.recursive else ""
    fields.append(("expected", f"{kind}{expected.algorithm} {expected.nix32}"))
    return tuple(fields)
