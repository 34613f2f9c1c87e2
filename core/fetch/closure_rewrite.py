"""Rewrite every FOD of a closure, re-point its dependents, prove no output moved.

``guix-derivations.md`` §3.4–3.5: a rewritten FOD keeps its output path, so
its dependents keep theirs; only their ``.drv`` texts change, because they
name the FOD's new ``.drv`` path. :func:`rewrite_closure` rewrites each FOD
(:func:`~revive.core.fetch.rewrite.rewrite`) and, optionally, walks the
graph inputs-first replacing changed input paths and recomputing each
dependent's ``.drv`` path. :func:`verify_outputs_unchanged` recomputes every
new derivation's output paths from scratch (``hash_modulo``) and compares
them with the old ones. :func:`write_derivations` writes the new ``.drv``
files and the mirror files into a store directory, atomically and without
ever replacing an existing different file.
"""

from __future__ import annotations

import graphlib
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

from revive.core.aterm import serialize_derivation
from revive.core.closure import paused_gc
from revive.core.derivation import Derivation, InputDrv
from revive.core.derivation_hash import DerivationHasher, drv_path, fixed_output_expected_path
from revive.core.errors import ReviveError, StoreError
from revive.core.fetch.mirrors import MirrorConfig
from revive.core.fetch.rewrite import RewriteResult, rewrite
from revive.core.fetch.text_item import TextItem
from revive.core.store_path import name_part, store_dir_of

__all__ = [
    "ClosureRewrite",
    "GraphLike",
    "WriteReport",
    "rewrite_closure",
    "verify_outputs_unchanged",
    "write_derivations",
    "write_store_files",
]


class GraphLike(Protocol):
    """What :func:`rewrite_closure` needs of a graph (``DerivationGraph`` has it)."""

    @property
    def derivations(self) -> Mapping[str, Derivation]:
        """Every loaded node, by ``.drv`` path."""
        ...

    def topological_order(self) -> tuple[str, ...]:
        """Every node, inputs first."""
        ...


@dataclass(frozen=True, slots=True)
class ClosureRewrite:
    """The result of rewriting a closure."""

    rewrites: tuple[RewriteResult, ...]
    """One result per FOD rewritten (identities included), in graph order."""
    mapping: Mapping[str, str]
    """Old ``.drv`` path → new ``.drv`` path, for every derivation that changed."""
    derivations: Mapping[str, Derivation]
    """New ``.drv`` path → new derivation, for every derivation that changed."""
    order: tuple[str, ...]
    """The new ``.drv`` paths, inputs before the derivations using them."""
    added_items: tuple[TextItem, ...]
    """Text items the new derivations need (mirror files), each once."""
    failures: tuple[tuple[str, str], ...]
    """FODs that could not be rewritten: ``(drv path, one-line reason)``."""
    repointed: bool
    """True if dependents were re-pointed at the rewritten FODs."""

    @property
    def changed_fods(self) -> tuple[RewriteResult, ...]:
        """The rewrites that changed something."""
        return tuple(r for r in self.rewrites if not r.identity)

    def new_path(self, old_path: str) -> str:
        """The new ``.drv`` path of ``old_path`` (itself if unchanged)."""
        return self.mapping.get(old_path, old_path)


def rewrite_closure(
    graph: GraphLike | Mapping[str, Derivation],
    read_item: Callable[[str], bytes] | None = None,
    config: MirrorConfig | None = None,
    *,
    repoint: bool = True,
    store_dir: str | None = None,
) -> ClosureRewrite:
    """Rewrite every FOD of ``graph`` and (if ``repoint``) re-point its dependents.

    Args:
        graph: a ``DerivationGraph``, or any mapping from ``.drv`` path to
            derivation (inputs absent from it are left as they are).
        read_item: reads store items (builder scripts of script-era FODs).
        config: mirror data (today's by default).
        repoint: also rewrite every derivation depending on a changed FOD,
            bottom-up, so the whole closure uses the new FODs.
        store_dir: the logical store directory (default: taken from the paths).

    FODs that cannot be rewritten (unknown method, missing script) are listed
    in :attr:`ClosureRewrite.failures` and kept as they are.
    """
    # Millions of short-lived objects and no cycles: a cyclic collection
    # would only re-scan the whole closure (see revive.core.closure).
    with paused_gc():
        return _rewrite_closure(graph, read_item, config, repoint, store_dir)


def _rewrite_closure(
    graph: GraphLike | Mapping[str, Derivation],
    read_item: Callable[[str], bytes] | None,
    config: MirrorConfig | None,
    repoint: bool,
    store_dir: str | None,
) -> ClosureRewrite:
    derivations: Mapping[str, Derivation] = (
        graph if isinstance(graph, Mapping) else graph.derivations
    )
    nodes: Iterable[tuple[str, Derivation | None]]
    if not repoint:
        # FODs have no dependencies on each other: any order will do, and the
        # items come without a look-up per node (50,000 nodes, 15% FODs).
        nodes = derivations.items()
    else:
        order = (
            _topological_order(graph) if isinstance(graph, Mapping) else graph.topological_order()
        )
        nodes = zip(order, map(derivations.get, order), strict=True)
    mapping: dict[str, str] = {}
    new_derivations: dict[str, Derivation] = {}
    new_order: list[str] = []
    results: list[RewriteResult] = []
    failures: list[tuple[str, str]] = []
    items: dict[str, TextItem] = {}
    for path, drv in nodes:
        if drv is None:
            continue
        if drv.is_fixed_output:
            try:
                result = rewrite(drv, read_item, config, original_path=path)
            except ReviveError as err:
                failures.append((path, str(err)))
                continue
            results.append(result)
            for item in result.added_items:
                items.setdefault(item.path, item)
            if not result.identity:
                mapping[path] = result.drv_path
                if result.drv_path not in new_derivations:
                    new_derivations[result.drv_path] = result.derivation
                    new_order.append(result.drv_path)
            continue
        if not repoint or not any(p in mapping for p, _ in drv.input_drvs):
            continue
        new = drv.evolve(input_drvs=_repointed(drv.input_drvs, mapping))
        directory = store_dir or store_dir_of(path)
        new_path = drv_path(new, directory)
        mapping[path] = new_path
        if new_path not in new_derivations:
            new_derivations[new_path] = new
            new_order.append(new_path)
    return ClosureRewrite(
        rewrites=tuple(results),
        mapping=MappingProxyType(mapping),
        derivations=MappingProxyType(new_derivations),
        order=tuple(new_order),
        added_items=tuple(items[p] for p in sorted(items)),
        failures=tuple(failures),
        repointed=repoint,
    )


def _repointed(inputs: tuple[InputDrv, ...], mapping: Mapping[str, str]) -> tuple[InputDrv, ...]:
    """``inputs`` with changed paths replaced, merged and re-sorted (§3.5)."""
    merged: dict[str, tuple[str, ...]] = {}
    for path, outputs in inputs:
        new = mapping.get(path, path)
        previous = merged.get(new)
        # Two old FODs with the same output may become the same new one.
        merged[new] = outputs if previous is None else tuple(sorted({*previous, *outputs}))
    return tuple(sorted(merged.items(), key=lambda pair: pair[0].encode()))


def _topological_order(derivations: Mapping[str, Derivation]) -> tuple[str, ...]:
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for path, drv in derivations.items():
        sorter.add(path, *(p for p, _ in drv.input_drvs if p in derivations))
    return tuple(sorter.static_order())


def verify_outputs_unchanged(
    result: ClosureRewrite,
    original: GraphLike | Mapping[str, Derivation],
    store_dir: str | None = None,
) -> tuple[str, ...]:
    """Recompute every new derivation's outputs from scratch; list any difference.

    For a FOD: its expected output path (§1.7) and its ``out`` tuple. For a
    re-pointed derivation: ``hash_modulo`` of its masked text over the *new*
    inputs (§1.9), which must give back every old output path. Also checks
    each new ``.drv`` path against its text. An empty tuple proves that no
    output path changed.
    """
    with paused_gc():
        return _verify(result, original, store_dir)


def _verify(
    result: ClosureRewrite,
    original: GraphLike | Mapping[str, Derivation],
    store_dir: str | None,
) -> tuple[str, ...]:
    old = original if isinstance(original, Mapping) else original.derivations
    reverse = {new: old_path for old_path, new in result.mapping.items()}

    def lookup(path: str) -> Derivation:
        drv = result.derivations.get(path)
        return drv if drv is not None else old[path]

    hasher = DerivationHasher(lookup)
    problems: list[str] = []
    for new_path in result.order:
        new = result.derivations[new_path]
        directory = store_dir or store_dir_of(new_path)
        if drv_path(new, directory) != new_path:
            problems.append(f"{new_path}: the .drv path does not match its text")
        before = old.get(reverse.get(new_path, ""))
        want = {o.name: o.path for o in (before or new).outputs}
        try:
            if new.is_fixed_output:
                got = {"out": fixed_output_expected_path(new, directory)}
            else:
                got = hasher.output_paths(new, directory)
        except (KeyError, ReviveError) as err:
            problems.append(f"{new_path}: cannot recompute its outputs: {err}")
            continue
        if before is not None and before.outputs != new.outputs:
            problems.append(f"{new_path}: its output tuples differ from {reverse[new_path]}")
        for name, path in got.items():
            if want.get(name) != path:
                problems.append(f"{new_path}: output {name} would be {path}, was {want.get(name)}")
    return tuple(problems)


# --- writing ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WriteReport:
    """What :func:`write_derivations` did."""

    written: tuple[str, ...]
    """Store paths written (new files)."""
    present: tuple[str, ...]
    """Store paths already there with the same bytes (left alone)."""


def write_store_files(
    files: Iterable[tuple[str, bytes]], target_dir: str | os.PathLike[str]
) -> WriteReport:
    """Write ``(store path, bytes)`` pairs as files named after their base names.

    Each file is written to a temporary file in ``target_dir`` and then
    linked into place, which fails if the name exists: nothing already there
    is ever overwritten. An existing file with the same bytes is fine; one
    with different bytes is an error.

    Raises:
        StoreError: ``target_dir`` is not a writable directory, or a
            different file already has one of the names.
    """
    target = Path(target_dir)
    if not target.is_dir():
        raise StoreError(f"{target}: no such directory")
    written: list[str] = []
    present: list[str] = []
    for store_path, data in files:
        final = target / store_path[store_path.rfind("/") + 1 :]
        if _same_file(final, data, store_path):
            present.append(store_path)
            continue
        try:
            handle, temp = tempfile.mkstemp(prefix=".tmp-", dir=target)
        except OSError as err:
            raise StoreError(f"{target}: cannot write: {err.strerror or err}") from None
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.chmod(temp, 0o444)  # store items are read-only
            try:
                os.link(temp, final)  # atomic, and never replaces an existing name
            except FileExistsError:
                # Appeared since the check: fine if identical (raises if not).
                _same_file(final, data, store_path)
                present.append(store_path)
                continue
            except OSError:
                # No hard links on this file system: rename, after a last check.
                if _same_file(final, data, store_path):
                    present.append(store_path)
                    continue
                os.replace(temp, final)
        except OSError as err:
            raise StoreError(f"{final}: cannot write: {err.strerror or err}") from None
        finally:
            Path(temp).unlink(missing_ok=True)
        written.append(store_path)
    return WriteReport(tuple(written), tuple(present))


def _same_file(path: Path, data: bytes, store_path: str) -> bool:
    """True if ``path`` holds ``data``; False if absent; StoreError if different."""
    try:
        existing = path.read_bytes()
    except FileNotFoundError:
        return False
    except OSError as err:
        raise StoreError(f"{path}: cannot read: {err.strerror or err}") from None
    if existing != data:
        raise StoreError(
            f"{path}: already exists with different contents; not overwritten "
            f"(it should be {name_part(store_path)})"
        )
    return True


def write_derivations(
    result: ClosureRewrite | RewriteResult, target_dir: str | os.PathLike[str]
) -> WriteReport:
    """Write the mirror files and new ``.drv`` files of ``result`` into ``target_dir``.

    Text items come first, then derivations inputs-first, the order in
    which a daemon must receive them (§3.5 step 3).

    Raises:
        StoreError: see :func:`write_store_files`.
    """
    if isinstance(result, RewriteResult):
        items = result.added_items
        drvs: tuple[tuple[str, Derivation], ...] = (
            () if result.identity else ((result.drv_path, result.derivation),)
        )
    else:
        items = result.added_items
        drvs = tuple((path, result.derivations[path]) for path in result.order)
    files = [(item.path, item.contents) for item in items]
    files.extend((path, serialize_derivation(drv).encode()) for path, drv in drvs)
    return write_store_files(files, target_dir)
