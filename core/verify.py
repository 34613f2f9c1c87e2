"""Check that every derivation of a graph is stored where its content says.

For each loaded node: its own ``.drv`` path is recomputed from its content
and references (a text item, ``guix-derivations.md`` §1.8), every output path
from the derivation hash modulo fixed-output derivations (§1.9) or from the
expected hash of a fixed-output derivation (§1.7), and every output-named
environment variable must equal its output path (what the daemon checks when
it registers a ``.drv``, §2.8).

A node whose inputs are missing can still have its ``.drv`` path checked,
and its outputs too if it is fixed-output; a regular derivation below a
missing input cannot have its outputs checked, and is reported as unchecked,
not as a mismatch.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Callable, Iterable
from itertools import chain
from typing import Final, cast

from revive.core.aterm import escape_string, serialize_derivation
from revive.core.compiled import MODULE
from revive.core.derivation import Derivation, Output
from revive.core.derivation_hash import fixed_output_expected_path
from revive.core.errors import ReviveError
from revive.core.graph import DerivationGraph
from revive.core.load_worker import read_file
from revive.core.store_dir import StoreDir
from revive.core.store_path import make_store_path, output_path_name
from revive.core.verify_report import Mismatch, VerifyReport

__all__ = ["Mismatch", "VerifyReport", "verify_graph", "VerifyCancelled"]


class VerifyCancelled(ReviveError):
    """Verification was cancelled through its ``cancel`` event."""


def verify_graph(
    graph: DerivationGraph,
    *,
    store: StoreDir | None = None,
    texts: dict[str, bytes] | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
) -> VerifyReport:
    """Recompute every ``.drv`` path and output path of ``graph`` (one shared memo).

    Args:
        graph: the closure to check.
        store: where the ``.drv`` files of ``graph`` are. With the compiled
            module, each node whose file is exactly the canonical text of
            what the node holds is then hashed from the file's bytes instead
            of being serialized again (see :class:`_Checker`); the report is
            the same.
        texts: the bytes of ``.drv`` files already read, by path (what
            ``load_closure(texts=…)`` fills): used, and taken out of the
            dict, instead of reading those files again. Only with ``store``.
        progress: called with ``(done, total)`` every few hundred nodes.
        cancel: when set, stops with :class:`VerifyCancelled`.
    """
    checker = _Checker(graph, store, texts)
    total = len(graph)

    def tick(done: int) -> None:
        if cancel is not None and cancel.is_set():
            raise VerifyCancelled(f"verification cancelled after {done} derivations")
        if progress is not None:
            progress(done, total)

    if _verify_closure is not None and checker.physical is not None:
        _, fixed = _verify_closure(
            tuple(graph),
            dict(graph.derivations),
            checker.texts,
            checker.memo,
            checker.store_dir,
            hashlib.sha256,
            checker.read,
            checker.check,
            checker.report,
            checker.cycle,
            tick,
        )
        checker.fixed += fixed
    else:
        _walk(graph, checker, tick)
    if progress is not None:
        progress(total, total)
    order = {path: i for i, path in enumerate(graph)}
    checker.mismatches.sort(key=lambda m: order[m.path])
    checker.unchecked.sort(key=lambda u: order[u[0]])
    checker.missing.sort(key=order.__getitem__)
    return VerifyReport(
        total,
        checker.fixed,
        tuple(checker.mismatches),
        tuple(checker.missing),
        tuple(checker.unchecked),
    )


def _walk(graph: DerivationGraph, checker: _Checker, tick: Callable[[int], None]) -> None:
    """Check every node of ``graph``, inputs first (what ``verify_closure`` does in C)."""
    done = 0
    for path in graph:
        if path in checker.memo:
            continue
        # Iterative post-order: inputs before the derivations that use them
        # (bootstrap chains are hundreds of levels deep: no recursion). A node
        # whose inputs are pushed stays where it is, its position noted in
        # `entered`: met there again, its inputs are done; met anywhere else
        # before that, it depends on itself.
        stack = [path]
        while stack:
            current = stack[-1]
            if current in checker.memo:
                stack.pop()
                continue
            drv = graph.get(current)
            where = checker.entered.get(current)
            if where is None and drv is not None and not drv.is_fixed_output:
                waiting = [p for p, _ in drv.input_drvs if p not in checker.memo]
                if waiting:
                    checker.entered[current] = len(stack) - 1
                    stack.extend(waiting)
                    continue
            elif where is not None and where != len(stack) - 1:
                checker.memo[current] = None
                checker.cycle(current)
                stack.pop()
                continue
            stack.pop()
            checker.check(current, drv)
            done += 1
            if done % 256 == 0:
                tick(done)


class _Checker:
    """Checks one node at a time, its inputs first, sharing one memo of hashes.

    Three texts are hashed per regular derivation: the ``.drv`` text itself
    (for its own path), the text hashed for its derivation hash modulo
    fixed-output derivations (``guix-derivations.md`` §3.1) and the masked
    text hashed for its output paths (§1.9). The last two differ from the
    first only in the output tuples, the input-derivation list and the
    output-named environment entries, so they are never serialized whole:

    * with a store and the compiled module, the walk and the checks run in
      C (``verify_closure``): the bytes the loader read are used as they are
      once they hash to the node's path and hold only canonical escapes;
      other bytes (read again) are compared with the node string by string
      (``hash_texts``); the two texts are cut out of the bytes, and nothing
      is serialized. Only the unusual nodes come back to :meth:`check`;
    * without the module, the loader's bytes are used the same way when
      they are canonical and hash to the node's path
      (:meth:`_from_loaded`);
    * otherwise the node is serialized once, in three pieces, and the two
      texts are spliced from them.

    ``tests/core/test_verify.py`` checks all of them against
    :mod:`revive.core.derivation_hash` and against each other.
    """

    def __init__(
        self,
        graph: DerivationGraph,
        store: StoreDir | None = None,
        texts: dict[str, bytes] | None = None,
    ) -> None:
        self.graph = graph
        self.store_dir = graph.store_dir
        self.physical = (
            None if store is None or _verify_paths is None else os.path.join(store.physical, "")
        )
        """Where the ``.drv`` files are read from (ending with ``/``), or ``None``."""
        self.texts = texts if texts is not None else {}
        """Bytes the loader read, by path; each is dropped once hashed (memory)."""
        self.memo: dict[str, str | None] = {}
        """Hex hash modulo of each done node; ``None`` when it cannot be known."""
        self.entered: dict[str, int] = {}
        """Nodes whose inputs were pushed, with their place on the walk's stack."""
        self.mismatches: list[Mismatch] = []
        self.missing: list[str] = []
        self.unchecked: list[tuple[str, str]] = []
        self.fixed = 0
        self.written: dict[tuple[str, ...], str | None] = {}
        """Output-name lists as written after an input's hash (see :func:`_after_hash`)."""

    def report(self, path: str, kind: str, found: str, expected: str, output: str) -> None:
        """Record a mismatch found in ``path``."""
        self.mismatches.append(Mismatch(path, kind, found, expected, output))

    def cycle(self, path: str) -> None:
        """Record that ``path`` depends on itself (its memo entry is set by the walk)."""
        self.unchecked.append((path, f"{path}: dependency cycle"))

    def read(self, path: str) -> bytes | None:
        """The bytes of the ``.drv`` file of ``path``, or ``None`` (no store, unreadable)."""
        if self.physical is None:
            return None
        data = self.texts.pop(path, None)
        if data is not None:
            return data
        try:
            return read_file(self.physical + path[path.rfind("/") + 1 :])
        except OSError:
            return None

    def check(self, path: str, drv: Derivation | None) -> None:
        """Check ``path`` (all its inputs are in the memo) and record its hash."""
        if drv is None:
            self.memo[path] = None
            node = self.graph.node(path)
            if node.malformed:
                self.mismatches.append(Mismatch(path, "malformed", node.error or ""))
            else:
                self.missing.append(path)
            return
        store_dir = self.store_dir
        fixed = drv.fixed_output
        replaced = None if fixed is not None else self._replaced(path, drv)
        # The .drv's own path: a text item whose references are its inputs
        # (sorted as str: the same order as the UTF-8 bytes the daemon sorts).
        references = sorted({*drv.input_srcs, *[p for p, _ in drv.input_drvs]})
        kind = ":".join(("text", *references))
        if _verify_paths is None:
            found = self._from_loaded(path, drv, replaced, kind)
        else:
            found = self._from_file(path, drv, replaced, kind)
        if found is None:
            found = self._serialized(path, drv, replaced, kind)
        computed, modulo, outputs = found
        if computed != path:
            self.mismatches.append(Mismatch(path, "drv-path", path, computed))
        expected: tuple[str, ...]
        if fixed is not None:
            self.fixed += 1
            tag = f"fixed:out:{fixed.hash_algo}:{fixed.hash}:{fixed.path}"
            self.memo[path] = hashlib.sha256(tag.encode()).hexdigest()
            try:
                expected = (fixed_output_expected_path(drv, store_dir),)
            except (ReviveError, ValueError) as err:
                self.unchecked.append((path, f"{path}: {err}"))
                return
        elif replaced is None:
            return
        else:
            self.memo[path] = modulo
            if outputs is None:
                return
            expected = outputs
        for out, want in zip(drv.outputs, expected, strict=True):
            if out.path != want:
                self.mismatches.append(Mismatch(path, "output", out.path, want, out.name))
            # The daemon's own rule: each output's variable holds its path.
            value = drv.getenv(out.name)
            if value != out.path:
                self.mismatches.append(Mismatch(path, "env", value or "", out.path, out.name))

    def _from_file(
        self, path: str, drv: Derivation, replaced: str | None, kind: str
    ) -> _Found | None:
        """``(.drv path, hash modulo, output paths)`` from the file's bytes, or ``None``.

        ``None`` when there is no file to read, or it is not exactly the
        canonical text of ``drv``, or a name is no store name (then
        :meth:`_serialized` says why).
        """
        if _verify_paths is None:
            return None
        data = self.read(path)
        if data is None:
            return None
        return _verify_paths(
            data,
            drv.fields(),
            None if replaced is None else replaced.encode(),
            kind,
            drv.name,
            self.store_dir,
            hashlib.sha256,
        )

    def _from_loaded(
        self, path: str, drv: Derivation, replaced: str | None, kind: str
    ) -> _Found | None:
        """:meth:`_from_file`'s values from the bytes the loader read, without the module.

        The loader parsed ``drv`` from those very bytes: when they are
        canonical (no escape the serializer would not write) and hash to
        ``path``, they are the serialization of ``drv``, and the two other
        texts are cut out of them around its input list. ``None`` otherwise
        (bytes of something else, a stale or damaged file): then
        :meth:`_serialized` does it all.
        """
        data = self.texts.pop(path, None)
        if data is None or not _canonical_escapes(data):
            return None
        try:
            computed = make_store_path(
                kind, hashlib.sha256(data).digest(), drv.name + ".drv", self.store_dir
            )
        except ReviveError:
            return None
        if computed != path:
            return None
        if replaced is None:
            return computed, None, None
        head = ("Derive([" + _outputs_text(drv.outputs) + "],[").encode()
        inputs = _inputs_text(drv.input_drvs).encode()
        start, stop = len(head), len(head) + len(inputs)
        if not data.startswith(head) or data[start:stop] != inputs:
            return None
        new_inputs = replaced.encode()
        tail = data[stop:]
        modulo = b"".join((head, new_inputs, tail))
        masked = _masked(drv, new_inputs, tail)
        outputs = self._outputs(path, drv, hashlib.sha256(masked).digest())
        return computed, hashlib.sha256(modulo).hexdigest(), outputs

    def _serialized(self, path: str, drv: Derivation, replaced: str | None, kind: str) -> _Found:
        """:meth:`_from_file`'s values from ``drv`` serialized (output paths ``None`` if none)."""
        pieces = _pieces(drv)
        digest = hashlib.sha256("".join(pieces).encode()).digest()
        try:
            computed = make_store_path(kind, digest, drv.name + ".drv", self.store_dir)
        except ReviveError as err:  # a name no store path can have
            computed = f"(none: {err})"
        if replaced is None:
            return computed, None, None
        modulo, masked = _spliced(drv, pieces, replaced)
        outputs = self._outputs(path, drv, hashlib.sha256(masked).digest())
        return computed, hashlib.sha256(modulo).hexdigest(), outputs

    def _replaced(self, path: str, drv: Derivation) -> str | None:
        """The input list of regular ``drv`` with each input replaced by its hash modulo.

        ``None`` (and ``drv`` recorded as unchecked) when an input's is unknown.
        """
        memo = self.memo
        inputs = drv.input_drvs
        if not inputs:
            return ""
        hexes = [memo.get(p) for p, _ in inputs]
        if None in hexes:
            memo[path] = None
            missing = inputs[hexes.index(None)][0]
            self.unchecked.append((path, f"{path}: input {missing} is missing or unreadable"))
            return None
        known = cast(list[str], hexes)
        if len(set(known)) == len(known):
            # Each input as written after its hash: `",["out"])` (output names
            # are plain in practice; the general writer below otherwise).
            written = self.written
            try:
                after = [written[names] for _, names in inputs]
            except KeyError:
                after = [written.setdefault(names, _after_hash(names)) for _, names in inputs]
            if None not in after:
                items = sorted(map(str.__add__, known, cast(list[str], after)))
                return '("' + '),("'.join(items) + ")"
            names = [outputs for _, outputs in inputs]
            return _inputs_text(tuple(sorted(zip(known, names, strict=True))))
        # Inputs with one hash modulo (FODs fetching one output differently)
        # become one input using the union of their outputs.
        replaced: dict[str, tuple[str, ...]] = {}
        for digest, (_, outputs) in zip(known, inputs, strict=True):
            previous = replaced.get(digest)
            replaced[digest] = (
                outputs if previous is None else tuple(sorted(set(previous) | set(outputs)))
            )
        return _inputs_text(tuple(sorted(replaced.items())))

    def _outputs(self, path: str, drv: Derivation, inner: bytes) -> tuple[str, ...] | None:
        """The output paths of regular ``drv`` (in its order) from the digest of its masked text."""
        try:
            return tuple(
                make_store_path(
                    "output:" + o.name,
                    inner,
                    output_path_name(drv.name, o.name),
                    self.store_dir,
                )
                for o in drv.outputs
            )
        except ReviveError as err:
            self.unchecked.append((path, f"{path}: {err}"))
            return None


_Found = tuple[str, str | None, tuple[str, ...] | None]
_verify_paths: Callable[..., _Found | None] | None = None if MODULE is None else MODULE.verify_paths
"""The compiled checker of one ``.drv`` file (``core/_drv_texts.c``), or ``None``."""
_verify_closure: Callable[..., tuple[int, int]] | None = (
    None if MODULE is None else MODULE.verify_closure
)
"""The compiled walk, which checks most nodes itself (``core/_drv_verify.c``), or ``None``."""


def _pieces(drv: Derivation) -> tuple[str, str, str]:
    """The text of ``drv`` in three pieces: up to its inputs, its inputs, the rest."""
    head = "Derive([" + _outputs_text(drv.outputs) + "],["
    rest = Derivation("", (), (), drv.input_srcs, drv.system, drv.builder, drv.args, drv.env)
    return head, _inputs_text(drv.input_drvs), serialize_derivation(rest)[_EMPTY_HEAD:]


def _spliced(drv: Derivation, pieces: tuple[str, str, str], replaced: str) -> tuple[bytes, bytes]:
    """The hash-modulo text and the masked text of regular ``drv``, from its pieces."""
    head, _, tail = pieces
    modulo = (head + replaced + tail).encode()
    return modulo, _masked(drv, replaced.encode(), tail.encode())


def _masked(drv: Derivation, replaced: bytes, tail: bytes) -> bytes:
    """The masked text of regular ``drv``: its replaced input list, then its
    text after the input list (``tail``), output paths blanked in the outputs
    and in their variables."""
    masked_head = "Derive([" + _outputs_text(drv.outputs, masked=True) + "],["
    for out in drv.outputs:
        value = drv.getenv(out.name)
        if value:
            name = escape_string(out.name)
            entry = f"({name},{escape_string(value)})".encode()
            tail = tail.replace(entry, f'({name},"")'.encode(), 1)
    return b"".join((masked_head.encode(), replaced, tail))


_EMPTY_HEAD = len("Derive([],[")
"""Where the sources start in the text of a derivation without outputs and inputs."""


_BAD_ESCAPE: Final = re.compile(rb'\\[^"\\nrt]')
"""A backslash followed by a character the serializer never escapes."""


def _canonical_escapes(data: bytes) -> bool:
    """True if ``data`` holds only the escapes the serializer writes (and no raw control)."""
    if b"\n" in data or b"\r" in data or b"\t" in data:
        return False
    if b"\\" not in data:
        return True
    # Escaped backslashes out of the way, each backslash left starts an escape.
    if b"\\\\" in data:
        data = data.replace(b"\\\\", b"")
    return _BAD_ESCAPE.search(data) is None


def _plain(strings: Iterable[str]) -> bool:
    """True if no string needs escaping (checked on their concatenation, at C speed)."""
    blob = "".join(strings)
    return not ('"' in blob or "\\" in blob or "\n" in blob or "\r" in blob or "\t" in blob)


def _outputs_text(outputs: tuple[Output, ...], *, masked: bool = False) -> str:
    """The output tuples as :func:`serialize_derivation` writes them."""
    fields = [(o.name, "" if masked else o.path, o.hash_algo, o.hash) for o in outputs]
    if _plain(chain.from_iterable(fields)):
        return ",".join(['("' + '","'.join(f) + '")' for f in fields])
    q = escape_string
    return ",".join(f"({q(a)},{q(b)},{q(c)},{q(d)})" for a, b, c, d in fields)


def _after_hash(names: tuple[str, ...]) -> str | None:
    """``",["a","b"]`` as written after an input's hash (``None``: needs escaping, or empty).

    The hash is 64 hex digits and unique among the inputs, so sorting the
    inputs written this way sorts them by hash.
    """
    if not names or not _plain(names):
        return None
    return '",["' + '","'.join(names) + '"]'


def _inputs_text(inputs: tuple[tuple[str, tuple[str, ...]], ...]) -> str:
    """The input-derivation list as :func:`serialize_derivation` writes it."""
    if not inputs:
        return ""
    paths, names = zip(*inputs, strict=True)
    if () not in names and _plain(paths) and _plain(chain.from_iterable(names)):
        return (
            '("'
            + '"]),("'.join(map('",["'.join, zip(paths, map('","'.join, names), strict=True)))
            + '"])'
        )
    q = escape_string
    return ",".join(f"({q(p)},[{','.join(map(q, outs))}])" for p, outs in inputs)
