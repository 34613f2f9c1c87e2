"""The environment being looked at: store, graph, statuses, rewrites, logs.

A :class:`Session` is the app's model. It only calls :mod:`revive.core` and
never imports Textual, so the same object serves the app, the tests and the
benchmark. Loading (:func:`open_session`) and everything slow runs in the
app's workers; the methods here that a widget calls while painting (labels,
``can_rewrite``…) are dictionary look-ups.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from revive.core import base32
from revive.core.aterm import serialize_derivation
from revive.core.closure import LoadProgress, load_closure
from revive.core.derivation import Derivation
from revive.core.diff import diff_derivations
from revive.core.diff_layout import Row, side_by_side
from revive.core.errors import ReviveError, StoreError
from revive.core.fetch.classify import Classification, DerivationKind, Era, classify
from revive.core.fetch.extract import extract_fetch_spec
from revive.core.fetch.rewrite import RewriteResult, rewrite
from revive.core.fetch.spec import FetchMethod, FetchSpec
from revive.core.graph import DerivationGraph, Node
from revive.core.node_status import FetchState, NodeStatus, StatusBoard
from revive.core.outline import Outline, build_outline
from revive.core.search import SearchField, SearchIndex
from revive.core.store_dir import StoreDir
from revive.core.store_path import DEFAULT_STORE_DIR, name_part
from revive.core.stores.api import (
    BuildAttempt,
    BuildEvent,
    BuildFailed,
    BuildFinished,
    BuildLog,
    BuildProgress,
    BuildStarted,
    Store,
)

__all__ = [
    "LoadPlan",
    "NodeKind",
    "Session",
    "open_session",
    "LOG_LINES_PER_NODE",
]

LOG_LINES_PER_NODE: Final = 2000
"""Build log lines kept per node: a chatty fetch cannot eat the memory."""

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
    """Where the demo store is (generated there on first use)."""
    fetch_options: Any = None
    """Fetch options for the embedded builders (``--demo-serve`` sets them)."""
    mirror_config: Any = None
    """Mirror configuration for rewrites (``--demo-serve`` sets it)."""


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


@dataclass
class Session:
    """The model of one opened environment."""

    store: StoreDir
    """Where the ``.drv`` files and other items are."""
    graph: DerivationGraph
    """The closure of the roots."""
    outline: Outline
    """The tree order of the closure (first occurrences, pre-order)."""
    title: str = ""
    """What is open, for the header (``demo``, root names…)."""
    plan: LoadPlan = field(default_factory=LoadPlan)
    """How it was opened (backend, fetch options…)."""
    status: StatusBoard = field(default_factory=StatusBoard)
    """What is known about each node's output."""
    search_index: SearchIndex | None = None
    """The search index, once built (:meth:`build_search_index`)."""
    fods: tuple[str, ...] = ()
    """Every loaded fixed-output node, in outline order."""
    fod_positions: tuple[int, ...] = ()
    """Outline positions of :attr:`fods` (for next/previous FOD)."""
    _kinds: dict[str, NodeKind] = field(default_factory=dict)
    _classes: dict[str, Classification] = field(default_factory=dict)
    _logs: dict[str, deque[str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

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
            return NodeKind(name, True, _fod_badge(found), builtin, False, None)
        badge = _WRAPPER_BADGES.get(found.kind, "")
        return NodeKind(name, False, badge, False, found.kind in _INFRA_KINDS, None)

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

    def record_text(self, path: str) -> str:
        """The readable record of ``path``, with how it fetches for a FOD."""
        drv = self.graph.derivation(path)
        lines = [render_record(path, drv)]
        found = self.classification(path)
        if found is not None:
            lines.append("")
            lines.append(f"kind: {found.label}")
            if found.era:
                lines.append(f"era: {found.era} — {found.era_description}")
            lines.append(f"why: {found.reason}")
            if found.wraps:
                lines.append(f"wraps: {found.wraps}")
        if drv.is_fixed_output:
            lines.append("")
            try:
                lines.append(render_spec(self.fetch_spec(path)))
            except ReviveError as error:
                lines.append(f"fetch spec: cannot be read: {one_line(error)}")
        return "\n".join(lines)

    # --- rewriting -------------------------------------------------------------------

    def preview_rewrite(self, path: str) -> RewritePreview:
        """The rewritten form of FOD ``path`` and its diff (blocking; nothing is written).

        Raises:
            ReviveError: not a FOD, or its parameters cannot be read.
        """
        drv = self.graph.derivation(path)
        result = rewrite(drv, self.read_item, self.plan.mirror_config, original_path=path)
        lookup = self.graph.get
        diff = diff_derivations(path, drv, result.drv_path, result.derivation, lookup, lookup)
        return RewritePreview(path, result.drv_path, side_by_side(diff), result.identity, result)

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
        self.status.rewritten(path, written)
        return written

    # --- building --------------------------------------------------------------------

    def build_target(self, path: str) -> str:
        """What to build for ``path``: its rewritten ``.drv`` if written, else itself."""
        return self.status[path].rewritten_drv or path

    def backend(self) -> Store:
        """The store that builds (opened on first use; may block)."""
        raise ReviveError("no build backend is available yet")

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

    def check_outputs(self) -> tuple[str, ...]:
        """Mark the FODs whose output is already in the store (blocking); returns them."""
        changed = []
        for path in self.fods:
            out = self.output_path(path)
            if out is not None and self.store.exists(out) and not self.status[path].valid:
                self.status.set(path, self.status[path].evolve(valid=True))
                changed.append(path)
        return tuple(changed)

    # --- events of a build -----------------------------------------------------------

    def record_event(self, path: str, event: BuildEvent) -> str | None:
        """Update ``path``'s status and log from one build event; the log line, if any."""
        line = describe_event(event)
        if isinstance(event, BuildFinished):
            self.status.succeeded(path)
        elif isinstance(event, BuildFailed):
            self.status.failed(path, f"{event.reason}: {event.detail}")
        if line is not None:
            self.append_log(path, line)
        return line

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


def _drv_search_fields(drv: Derivation) -> Iterator[SearchField]:
    for out in drv.outputs:
        if out.path:
            yield SearchField(f"output {out.name}", out.path)
        if out.hash:
            yield SearchField("hash", out.hash)
            try:
                yield SearchField("hash", base32.encode(bytes.fromhex(out.hash)))
            except ValueError:
                pass
    for key, value in drv.env:
        # URLs sit in different variables in every era (url, git url, guix
        # download url, svn url…); anything URL-like is worth finding.
        if "://" in value or key.endswith("url"):
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


def _fod_badge(found: Classification) -> str:
    """``method·era`` of a FOD: ``url·builtin``, ``git·script``…"""
    method = _METHOD_BADGES.get(found.method, "unknown") if found.method else "unknown"
    if found.executable:
        method = "url/exec"
    # Builtin: today's daemon fetches it with today's tools. Script: an old
    # builder script needs the old fetch tools built first (the usual failure).
    era = "builtin" if found.era in (Era.BUILTIN, Era.REVIVE) else "script"
    return f"{method}·{era}"


# --- loading ------------------------------------------------------------------------


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

    @property
    def title(self) -> str:
        """One line above the diff."""
        if self.unchanged:
            return "Already in today's form: nothing to rewrite."
        return "Left: the old derivation. Right: rewritten, same output, fetched today's way."


@dataclass(frozen=True, slots=True)
class RootsRead:
    """The roots are known (before the rest of the closure is read)."""

    store: StoreDir
    roots: tuple[str, ...]
    title: str


def open_session(
    plan: LoadPlan,
    *,
    on_roots: Callable[[RootsRead], None] | None = None,
    on_progress: Callable[[LoadProgress], None] | None = None,
    cancel: threading.Event | None = None,
) -> Session:
    """Open what ``plan`` names and load its closure (blocking: run in a worker).

    Raises:
        ReviveError: the store or a root cannot be opened.
    """
    store, roots, title = _resolve(plan)
    if on_roots is not None:
        on_roots(RootsRead(store, roots, title))
    graph = load_closure(roots, store, progress=on_progress, cancel=cancel)
    outline = build_outline(graph.roots, lambda p: [i for i, _ in graph.inputs(p)])
    fods = tuple(p for p in outline.order if graph.is_fixed_output(p))
    return Session(
        store=store,
        graph=graph,
        outline=outline,
        title=title,
        plan=plan,
        fods=fods,
        fod_positions=outline.positions(fods),
    )


def _resolve(plan: LoadPlan) -> tuple[StoreDir, tuple[str, ...], str]:
    if plan.demo:
        raise ReviveError("the demo environment is not available yet")
    store = StoreDir.open(plan.store or DEFAULT_STORE_DIR)
    if not plan.roots:
        raise ReviveError("no root derivation given (guix-revive ROOT.drv…)")
    roots = tuple(store.resolve_root(arg) for arg in plan.roots)
    title = ", ".join(Derivation.name_from_path(r) for r in roots[:3])
    if len(roots) > 3:
        title += f" (+{len(roots) - 3})"
    return store, roots, title


def short_name(path: str) -> str:
    """The store name of ``path`` without its hash (for compact displays)."""
    return name_part(path)


def describe_event(event: BuildEvent) -> str | None:
    """One log line for a build event (``None`` for progress, shown as a bar)."""
    if isinstance(event, BuildStarted):
        method = f" with {event.method}" if event.method else ""
        return f"▶ fetching {event.output_path}{method}"
    if isinstance(event, BuildAttempt):
        return f"→ trying {event.source} ({event.kind})"
    if isinstance(event, BuildLog):
        return event.line
    if isinstance(event, BuildFinished):
        again = " (already in the store)" if event.cached else ""
        return f"✔ {event.output_path} is valid{again}"
    if isinstance(event, BuildFailed):
        line = f"✘ {event.reason}: {event.detail}"
        if event.expected_hash and event.actual_hash:
            line += f" (expected {event.expected_hash}, got {event.actual_hash})"
        return line
    return None


def one_line(error: BaseException) -> str:
    """An exception as one line for the user (its first line, or its type)."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def render_record(path: str, drv: Derivation) -> str:
    """A derivation as readable text (name, outputs, inputs, builder, environment)."""
    lines = [f"name: {path}", "outputs:"]
    for out in drv.outputs:
        fixed = f"  {out.hash_algo}:{out.hash}" if out.hash else ""
        lines.append(f"+ {out.path}   [{out.name}]{fixed}")
    lines.append("inputs:")
    for input_path, outputs in drv.input_drvs:
        lines.append(f"+ {input_path}   [{','.join(outputs)}]")
    for source in drv.input_srcs:
        lines.append(f"+ {source}")
    lines.append(f"system: {drv.system}")
    lines.append("builder:")
    lines.append(f"+ {drv.builder}")
    lines.extend(f"+ {arg}" for arg in drv.args)
    lines.append("environment:")
    for key, value in drv.env:
        shown = value if len(value) <= 400 else value[:400] + f"… ({len(value)} characters)"
        lines.append(f"+ {key}: {shown}")
    return "\n".join(lines)


def render_spec(spec: FetchSpec) -> str:
    """What a FOD fetches, one field a line."""
    lines = [f"fetch: {spec.method}"]
    for name in spec.__dataclass_fields__:
        if name in ("method", "expected"):
            continue
        value = getattr(spec, name)
        if value is None or value == ():
            continue
        if name == "password":
            value = "(set)"
        if isinstance(value, tuple):
            value = " ".join(str(v) for v in value)
        lines.append(f"  {name}: {value}")
    expected = spec.expected
    kind = "recursive (NAR) " if expected.recursive else ""
    lines.append(f"  expected: {kind}{expected.algorithm} {expected.nix32}")
    return "\n".join(lines)
