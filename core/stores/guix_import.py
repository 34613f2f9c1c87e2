"""Hand fetched items to the Guix store, with the daemon checking each hash.

Whatever guix-revive fetched itself — in its embedded store, or in a work
directory for a form the daemon cannot build — becomes valid in the Guix
store through ``add-to-store``: the daemon hashes what it receives and names
the item after that hash, so an item lands at the original output path only
if its content is what the original derivation fixed. Never is a path made
valid any other way.

The daemon's protocol has no way to set the deriver of such an item; but a
valid ``.drv`` naming an output is listed by ``guix gc --derivers`` for it
(the daemon records a derivation's outputs when the ``.drv`` is added). So
the original ``.drv`` is added too where that costs nothing: when it has no
input derivations (today's builtin forms), its sources being text items.

Two store sessions in all, whatever the number of items: one validity
query, then one session adding every missing item and deriver.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from revive.core.aterm import parse_derivation_bytes
from revive.core.builders.verify import measure
from revive.core.closure import load_closure
from revive.core.derivation import Derivation
from revive.core.errors import MissingStoreItem, ReviveError, StoreError
from revive.core.fetch.extract import expected_of
from revive.core.fetch.spec import Expected
from revive.core.fetch.text_item import TextItem
from revive.core.store_dir import StoreDir
from revive.core.store_path import fixed_output_path, name_part, text_path
from revive.core.stores.embedded import EmbeddedStore
from revive.core.stores.fetch_plan import PlanState, plan_fetch
from revive.core.stores.guix import GuixStore

__all__ = [
    "FixedImport",
    "ImportStatus",
    "ImportOutcome",
    "import_fixed",
    "export_items",
    "export_closure",
    "describe",
]


@dataclass(frozen=True, slots=True)
class FixedImport:
    """A fetched file or tree, and the FOD output it must become."""

    expected: Expected
    """Name, hash and recursive flag of the output, and its path."""
    source: Path
    """Where the fetched data is on this machine."""
    deriver: str | None = None
    """The original ``.drv``, to record as deriver where possible."""


class ImportStatus(enum.StrEnum):
    """How one import ended."""

    VALID = "valid"
    """The output was valid in the Guix store already."""
    IMPORTED = "imported"
    """Added now, at the original output path."""
    MISSING = "missing"
    """Not in the store it was to be exported from."""
    FAILED = "failed"
    """Refused (the detail says why): nothing was made valid."""


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    """The result for one output path."""

    output_path: str
    """The output path."""
    status: ImportStatus
    """How it ended."""
    detail: str = ""
    """Why it failed or is missing, one line."""
    deriver: str | None = None
    """The ``.drv`` now valid in the Guix store that names this output."""


def import_fixed(
    store: GuixStore,
    items: Sequence[FixedImport],
    read_item: Callable[[str], bytes] | None = None,
    valid: frozenset[str] | None = None,
) -> tuple[ImportOutcome, ...]:
    """Make each item valid in the Guix store at its output path, hash-checked.

    Args:
        store: the Guix store.
        items: what to import; items whose output is valid are left alone.
        read_item: reads the derivers' ``.drv`` files and their text
            sources (default: ``store.read_item``).
        valid: the outputs known to be valid in the Guix store (default:
            asked in one query).

    Returns:
        One outcome per item, in order.

    Raises:
        StoreError: the daemon could not be asked at all.
    """
    read = read_item or store.read_item
    if valid is None:
        valid = store.query_valid(i.expected.output_path for i in items)
    missing = [i for i in items if i.expected.output_path not in valid]
    texts: list[TextItem] = []
    derivers: dict[str, str] = {}
    for item in missing:
        if item.deriver is None:
            continue
        found = _deriver_texts(item.deriver, read, store)
        if found:
            texts.extend(found)
            derivers[item.expected.output_path] = item.deriver
    results = store.add_fixed_many([(i.expected, i.source) for i in missing], texts)
    by_output: dict[str, ImportOutcome] = {}
    for item, result in zip(missing, results, strict=True):
        out = item.expected.output_path
        if isinstance(result, StoreError):
            by_output[out] = ImportOutcome(out, ImportStatus.FAILED, str(result))
        else:
            by_output[out] = ImportOutcome(out, ImportStatus.IMPORTED, deriver=derivers.get(out))
    return tuple(
        by_output.get(i.expected.output_path)
        or ImportOutcome(i.expected.output_path, ImportStatus.VALID)
        for i in items
    )


def _deriver_texts(
    drv_path: str, read: Callable[[str], bytes], store: GuixStore
) -> list[TextItem] | None:
    """The text items that make ``drv_path`` valid cheaply, or ``None``.

    Only a derivation without input derivations qualifies: recording the
    deriver of an old ``git-fetch`` would mean adding the whole closure of
    the old git it was built with. And only one the daemon can build: a
    ``builtin:svn-download`` it does not know would make ``guix build
    --check`` and ``guix gc --verify`` users stumble on it.
    """
    store_dir = store.store_dir
    try:
        data = read(drv_path)
        drv = parse_derivation_bytes(data, drv_path, Derivation.name_from_path(drv_path))
    except ReviveError:
        return None
    if drv.input_drvs or not store.can_build(drv):
        return None
    texts: list[TextItem] = []
    for src in drv.input_srcs:
        try:
            contents = read(src)
        except MissingStoreItem:
            return None
        if text_path(name_part(src), contents, (), store_dir) != src:
            return None  # not a text item without references: cannot be added as one
        texts.append(TextItem(name_part(src), contents, src))
    refs = tuple(sorted(drv.references))
    if text_path(name_part(drv_path), data, refs, store_dir) != drv_path:
        return None
    texts.append(TextItem(name_part(drv_path), data, drv_path, refs))
    return texts


def export_items(
    source: EmbeddedStore,
    target: GuixStore,
    paths: Iterable[str],
    valid: frozenset[str] | None = None,
) -> tuple[ImportOutcome, ...]:
    """Import items of guix-revive's embedded store into the Guix store.

    How each item was hashed comes from its deriver when the embedded store
    can read it, else from the item itself (a SHA-256 over the NAR or over
    the flat file that gives back its path). The deriver is recorded when it
    is a builtin form. ``valid``: the paths known to be valid in the Guix
    store already (default: asked in one query).

    Raises:
        StoreError: the daemon could not be asked at all.
    """
    outcomes: dict[str, ImportOutcome] = {}
    items: list[FixedImport] = []
    for path in dict.fromkeys(paths):
        info = source.path_info(path)
        if info is None:
            outcomes[path] = ImportOutcome(path, ImportStatus.MISSING, "not in the embedded store")
            continue
        physical = source.physical_path(path)
        found = _expected_of_item(source, path, physical, info.deriver, info.nar_hash)
        if found is None:
            outcomes[path] = ImportOutcome(
                path,
                ImportStatus.FAILED,
                "not a fixed-output item (no SHA-256 of it gives its path)",
            )
            continue
        expected, deriver = found
        items.append(FixedImport(expected, physical, deriver))
    for outcome in import_fixed(target, items, source.read_item, valid=valid):
        outcomes[outcome.output_path] = outcome
    return tuple(outcomes[p] for p in dict.fromkeys(paths) if p in outcomes)


def _expected_of_item(
    source: EmbeddedStore, path: str, physical: Path, deriver: str | None, nar_hash: str
) -> tuple[Expected, str | None] | None:
    if deriver is not None:
        try:
            drv = source.read_derivation(deriver)
        except ReviveError:
            drv = None
        if drv is not None and drv.fixed_output is not None and drv.fixed_output.path == path:
            return expected_of(drv), deriver
    name = name_part(path)
    store_dir = source.store_dir
    algorithm, _, hex_digest = nar_hash.partition(":")
    if algorithm == "sha256":
        digest = bytes.fromhex(hex_digest)
        if fixed_output_path(name, "sha256", digest, True, store_dir) == path:
            return Expected(name, path, "sha256", digest, True), None
    if physical.is_file() and not physical.is_symlink():
        flat, _nar, _size = measure(physical, "sha256", False)
        if fixed_output_path(name, "sha256", flat, False, store_dir) == path:
            return Expected(name, path, "sha256", flat, False), None
    return None


def export_closure(
    source: EmbeddedStore, target: GuixStore, roots: Sequence[str], copy: StoreDir
) -> tuple[ImportOutcome, ...]:
    """Import the FOD outputs a closure needs from the embedded store into Guix.

    The closure is planned as for a rewritten fetch: outputs valid in either
    store count as present, and the old fetchers' own sources are not
    needed. Each needed output in the embedded store is imported with its
    original ``.drv`` (read from ``copy``) as the deriver to record; a
    needed output in neither store is ``MISSING``.

    Raises:
        StoreError: the daemon could not be asked at all.
        ReviveError: the roots cannot be read.
    """
    graph = load_closure(list(roots), copy)
    fods = [p for p in graph.topological_order() if graph.is_fixed_output(p)]
    outputs = {p: graph.derivations[p].outputs[0].path for p in fods}
    in_embedded = source.query_valid(outputs.values())
    in_guix = target.query_valid(outputs.values())

    def read(path: str) -> bytes:
        try:
            return copy.read_bytes(path)
        except (OSError, ReviveError):
            return source.read_item(path)

    plan = plan_fetch(
        roots,
        graph.derivations,
        in_embedded | in_guix,
        read_item=read,
        do_rewrite=True,
        order=fods,
    )
    items: list[FixedImport] = []
    outcomes: dict[str, ImportOutcome] = {}
    for entry in plan.entries:
        if entry.state is PlanState.UNNEEDED:
            continue
        out = entry.output_path
        if entry.state is PlanState.VALID and out in in_guix:
            outcomes[out] = ImportOutcome(out, ImportStatus.VALID)
        elif entry.state is PlanState.VALID:
            drv = graph.derivations[entry.drv_path]
            items.append(FixedImport(expected_of(drv), source.physical_path(out), entry.drv_path))
        else:
            outcomes[out] = ImportOutcome(
                out,
                ImportStatus.MISSING,
                entry.reason or "in neither the embedded nor the Guix store",
            )
    for outcome in import_fixed(target, items, read, valid=in_guix):
        outcomes[outcome.output_path] = outcome
    return tuple(outcomes[out] for out in (e.output_path for e in plan.entries) if out in outcomes)


def describe(outcome: ImportOutcome) -> str:
    """One line for ``outcome`` (for reports)."""
    line = f"{outcome.status} {outcome.output_path}"
    if outcome.deriver:
        line += f" (deriver {outcome.deriver})"
    if outcome.detail:
        line += f": {outcome.detail}"
    return line
