"""A structured, fixed-output-aware diff of two derivations.

:func:`diff_derivations` compares two derivations field by field and returns
a tree of immutable values: outputs, input derivations (recursing into
changed pairs to explain *why* they differ), input sources, system, builder,
arguments and environment, with word- and character-level highlights of
changed values (:func:`diff_text`).

Two derivations with the same output paths are *equivalent*: whatever else
differs between them (for a fixed-output derivation: how it fetches — builder,
URL, mirror files, inputs), they stand for the same store items, so nothing
downstream changes (``guix-derivations.md`` §3.4). The diff says so, and
still lists the fetch-level differences.

The recursion is bounded: each ``(old, new)`` pair of ``.drv`` paths is
compared once (a second occurrence is folded with
:attr:`FoldReason.EXPLAINED`), and no deeper than ``max_depth`` levels.
Rendering lives in :mod:`revive.core.diff_layout`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Final, TypeVar

from revive.core.derivation import Derivation, InputDrv, Output
from revive.core.store_path import name_part

__all__ = [
    "ChangeKind",
    "SegmentKind",
    "FoldReason",
    "TextSegment",
    "TextDiff",
    "FieldChange",
    "OutputChange",
    "InputChange",
    "SourceChange",
    "ArgChange",
    "EnvChange",
    "DiffSummary",
    "DerivationDiff",
    "DEFAULT_MAX_DEPTH",
    "Opcode",
    "align",
    "diff_text",
    "diff_derivations",
    "equivalent",
    "name_stem",
    "walk",
    "diff_as_dict",
]

DEFAULT_MAX_DEPTH: Final = 8
"""How many levels of input derivations are explained by default."""

# Words are runs of letters/digits, runs of blanks, or one punctuation
# character: fine enough that a URL or a store path splits at '/', '-', '.'.
_TOKEN: Final = re.compile(r"\w+|\s+|[^\w\s]")
# A changed run of words is refined to characters only when the two sides
# look alike: two random store-path hashes would otherwise "share" a few
# letters and be highlighted as noise.
_CHAR_RATIO: Final = 0.5
# Character-level refinement is quadratic; long rewritten runs stay whole.
_CHAR_LIMIT: Final = 600
# Past this many items, difflib's "popular item" heuristic is turned on.
_JUNK_AFTER: Final = 400
# A version-like component of a name: after '-', starting with a digit, up to
# the next '-', an archive extension or the end (``gmp-6.1.2.tar.xz``).
_VERSION: Final = re.compile(
    r"(?<=-)\d[\w.]*?(?=\.tar\b|\.tgz$|\.zip$|\.gz$|\.xz$|\.bz2$|\.lz$|\.drv$|-|$)"
)


class ChangeKind(StrEnum):
    """How an item (output, input, source, variable, argument) changed."""

    ADDED = "added"
    """Only in the new derivation."""
    REMOVED = "removed"
    """Only in the old derivation."""
    CHANGED = "changed"
    """In both, with different values."""
    UNCHANGED = "unchanged"
    """In both, equal (only used as context in argument sequences)."""


class SegmentKind(StrEnum):
    """What a piece of text is, relative to the other side."""

    EQUAL = "equal"
    """Present on both sides."""
    INSERT = "insert"
    """Only in the new text."""
    DELETE = "delete"
    """Only in the old text."""


class FoldReason(StrEnum):
    """Why a changed input pair is not explained where it appears."""

    EXPLAINED = "explained"
    """The same pair was compared earlier in this diff (shown there)."""
    DEPTH = "depth"
    """The depth limit was reached."""
    MISSING = "missing"
    """One of the two ``.drv`` files could not be found."""
    FETCH_TOOL = "fetch-tool"
    """An input of an equivalent fixed-output derivation: it cannot change the output."""


@dataclass(frozen=True, slots=True)
class TextSegment:
    """A piece of one side of a :class:`TextDiff`."""

    kind: SegmentKind
    """Equal to the other side, inserted (new side) or deleted (old side)."""
    text: str
    """The characters."""
    in_changed_word: bool = False
    """True inside a changed word: an ``EQUAL`` piece is then the unchanged
    part of a word whose other characters changed (a soft highlight)."""


@dataclass(frozen=True, slots=True)
class TextDiff:
    """Two texts cut into segments; each side's segments join to its text."""

    old: tuple[TextSegment, ...]
    """Segments of the old text: ``EQUAL`` and ``DELETE``."""
    new: tuple[TextSegment, ...]
    """Segments of the new text: ``EQUAL`` and ``INSERT``."""

    @property
    def old_text(self) -> str:
        """The old text, whole."""
        return "".join(s.text for s in self.old)

    @property
    def new_text(self) -> str:
        """The new text, whole."""
        return "".join(s.text for s in self.new)


@dataclass(frozen=True, slots=True)
class FieldChange:
    """A single-valued field that differs (name, system, builder, an output field)."""

    field: str
    """Which field: ``name``, ``system``, ``builder``, ``path``, ``hash_algo``, ``hash``."""
    old: str
    """Old value."""
    new: str
    """New value."""
    text: TextDiff
    """Highlights of the change."""


@dataclass(frozen=True, slots=True)
class OutputChange:
    """An output added, removed or changed (matched by output name)."""

    name: str
    """Output name (``out``, ``doc``…)."""
    kind: ChangeKind
    """Added, removed or changed."""
    old: Output | None
    """The old output (``None`` when added)."""
    new: Output | None
    """The new output (``None`` when removed)."""
    fields: tuple[FieldChange, ...] = ()
    """For a changed output: the fields that differ (``path``, ``hash_algo``, ``hash``)."""


@dataclass(frozen=True, slots=True)
class SourceChange:
    """An input source added, removed or changed (matched by store name)."""

    name: str
    """Store name of the source (``…-mirrors`` → ``mirrors``)."""
    kind: ChangeKind
    """Added, removed or changed."""
    old_path: str | None
    """Old store path (``None`` when added)."""
    new_path: str | None
    """New store path (``None`` when removed)."""
    text: TextDiff | None = None
    """For a changed source: highlights of the two paths."""


@dataclass(frozen=True, slots=True)
class ArgChange:
    """One entry of the aligned argument lists."""

    kind: ChangeKind
    """Unchanged, changed, added or removed."""
    old_index: int | None
    """Position in the old arguments (``None`` when added)."""
    new_index: int | None
    """Position in the new arguments (``None`` when removed)."""
    old: str | None
    """Old argument (``None`` when added)."""
    new: str | None
    """New argument (``None`` when removed)."""
    text: TextDiff | None = None
    """For a changed argument: highlights."""


@dataclass(frozen=True, slots=True)
class EnvChange:
    """An environment variable added, removed or changed."""

    name: str
    """Variable name."""
    kind: ChangeKind
    """Added, removed or changed."""
    old: str | None
    """Old value (``None`` when added)."""
    new: str | None
    """New value (``None`` when removed)."""
    text: TextDiff | None = None
    """For a changed variable: word- and character-level highlights."""


@dataclass(frozen=True, slots=True)
class InputChange:
    """An input derivation added, removed or changed.

    Inputs are matched by derivation name (and, among inputs of the same
    name, preferably with the same output names); inputs left over are then
    matched by name with the versions masked (``gmp-6.0.0a.tar.xz`` with
    ``gmp-6.1.2.tar.xz``, see :func:`name_stem`).
    """

    name: str
    """Derivation name (the new one for a changed pair)."""
    kind: ChangeKind
    """Added, removed or changed."""
    old_path: str | None
    """Old ``.drv`` path (``None`` when added)."""
    new_path: str | None
    """New ``.drv`` path (``None`` when removed)."""
    old_outputs: tuple[str, ...] = ()
    """Output names the old derivation used."""
    new_outputs: tuple[str, ...] = ()
    """Output names the new derivation uses."""
    old_name: str = ""
    """Name of the old derivation (differs from :attr:`name` for a version change)."""
    equivalent: bool = False
    """For a changed pair: both derivations have the same output paths."""
    fixed_output: bool = False
    """For a changed pair: both are fixed-output derivations."""
    diff: DerivationDiff | None = None
    """Why the pair differs (``None`` when folded, or for the same ``.drv``)."""
    folded: FoldReason | None = None
    """Why :attr:`diff` is not given, for a changed pair of different ``.drv`` files."""
    missing: tuple[str, ...] = ()
    """For :attr:`FoldReason.MISSING`: the ``.drv`` paths that were not found."""

    @property
    def key(self) -> tuple[str, str] | None:
        """The ``(old, new)`` pair of ``.drv`` paths, for a changed pair."""
        if self.old_path is None or self.new_path is None:
            return None
        return (self.old_path, self.new_path)


@dataclass(frozen=True, slots=True)
class DiffSummary:
    """What changed between two derivations, at one level of the tree."""

    identical: bool
    """The two derivations are the same (same term and name)."""
    equivalent: bool
    """Same output names and paths: they build the same store items."""
    fixed_output: bool
    """Both are fixed-output derivations."""
    outputs_changed: int = 0
    """Outputs added, removed or changed."""
    inputs_added: int = 0
    """Input derivations only in the new derivation."""
    inputs_removed: int = 0
    """Input derivations only in the old derivation."""
    inputs_changed: int = 0
    """Matched input derivations whose ``.drv`` (or used outputs) differ."""
    inputs_equivalent: int = 0
    """Among the changed inputs, those that are equivalent."""
    inputs_unchanged: int = 0
    """Input derivations identical on both sides."""
    sources_added: int = 0
    """Input sources only in the new derivation."""
    sources_removed: int = 0
    """Input sources only in the old derivation."""
    sources_changed: int = 0
    """Input sources of the same name with different store paths."""
    env_added: int = 0
    """Variables only in the new environment."""
    env_removed: int = 0
    """Variables only in the old environment."""
    env_changed: int = 0
    """Variables with different values."""
    args_changed: bool = False
    """The argument lists differ."""
    system_changed: bool = False
    """The systems differ."""
    builder_changed: bool = False
    """The builders differ."""
    name_changed: bool = False
    """The derivation names differ."""

    @property
    def verdict(self) -> str:
        """``identical``, ``equivalent`` or ``different``."""
        if self.identical:
            return "identical"
        return "equivalent" if self.equivalent else "different"

    def describe(self) -> str:
        """A one-line summary, e.g. ``equivalent: 1 input source changed, 1 variable changed``."""
        if self.identical:
            return "identical"
        parts: list[str] = []

        def count(n: int, what: str, how: str) -> None:
            if n:
                parts.append(f"{n} {what}{'' if n == 1 else 's'} {how}")

        if self.name_changed:
            parts.append("name changed")
        count(self.outputs_changed, "output", "changed")
        count(self.inputs_added, "input derivation", "added")
        count(self.inputs_removed, "input derivation", "removed")
        count(self.inputs_changed - self.inputs_equivalent, "input derivation", "changed")
        count(self.inputs_equivalent, "input derivation", "changed but equivalent")
        count(self.sources_added, "input source", "added")
        count(self.sources_removed, "input source", "removed")
        count(self.sources_changed, "input source", "changed")
        if self.system_changed:
            parts.append("system changed")
        if self.builder_changed:
            parts.append("builder changed")
        if self.args_changed:
            parts.append("arguments changed")
        count(self.env_added, "variable", "added")
        count(self.env_removed, "variable", "removed")
        count(self.env_changed, "variable", "changed")
        detail = ", ".join(parts) if parts else "no field differs"
        return f"{self.verdict}: {detail}"


@dataclass(frozen=True, slots=True)
class DerivationDiff:
    """The differences between two derivations, field by field."""

    old_path: str
    """Store path of the old ``.drv``."""
    new_path: str
    """Store path of the new ``.drv``."""
    old: Derivation
    """The old derivation."""
    new: Derivation
    """The new derivation."""
    summary: DiffSummary
    """Verdict and counts for this pair."""
    name: FieldChange | None = None
    """The names, if they differ."""
    outputs: tuple[OutputChange, ...] = ()
    """Outputs added, removed or changed, by output name."""
    inputs: tuple[InputChange, ...] = ()
    """Input derivations added, removed or changed, sorted by name."""
    sources: tuple[SourceChange, ...] = ()
    """Input sources added, removed or changed, sorted by name."""
    system: FieldChange | None = None
    """The systems, if they differ."""
    builder: FieldChange | None = None
    """The builders, if they differ."""
    args: tuple[ArgChange, ...] = ()
    """The aligned argument lists (with unchanged entries), empty if equal."""
    env: tuple[EnvChange, ...] = ()
    """Environment variables added, removed or changed, sorted by name."""
    depth: int = 0
    """How deep this pair is in the tree (0 for the pair asked for)."""

    @property
    def key(self) -> tuple[str, str]:
        """The ``(old, new)`` pair of ``.drv`` paths."""
        return (self.old_path, self.new_path)

    @property
    def identical(self) -> bool:
        """Shorthand for ``summary.identical``."""
        return self.summary.identical

    @property
    def equivalent(self) -> bool:
        """Shorthand for ``summary.equivalent``."""
        return self.summary.equivalent


# --- text -----------------------------------------------------------------------

Opcode = tuple[str, int, int, int, int]
"""``(tag, i1, i2, j1, j2)`` as in :meth:`difflib.SequenceMatcher.get_opcodes`."""


def align(old: Sequence[Hashable], new: Sequence[Hashable]) -> list[Opcode]:
    """Opcodes turning ``old`` into ``new`` (``equal``, ``replace``, ``delete``, ``insert``).

    The common head and tail are matched first, so one change in a long
    value costs nothing; what is left is aligned by :mod:`difflib`, which
    ignores very frequent items (a space, ``/``) as anchors only in long
    sequences, where matching on them would take quadratic time.
    """
    n = min(len(old), len(new))
    head = 0
    while head < n and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < n - head and old[len(old) - 1 - tail] == new[len(new) - 1 - tail]:
        tail += 1
    a = old[head : len(old) - tail]
    b = new[head : len(new) - tail]
    ops: list[Opcode] = [("equal", 0, head, 0, head)] if head else []
    if a or b:
        matcher = difflib.SequenceMatcher(None, a, b, autojunk=len(b) > _JUNK_AFTER)
        ops += [
            (tag, i1 + head, i2 + head, j1 + head, j2 + head)
            for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        ]
    if tail:
        ops.append(("equal", len(old) - tail, len(old), len(new) - tail, len(new)))
    return ops


def diff_text(old: str, new: str) -> TextDiff:
    """Highlight the differences between two strings.

    Multi-line texts are first aligned line by line; changed lines (and
    single-line texts) are compared word by word (:data:`_TOKEN`), and each
    run of changed words is refined to characters when the two runs look
    alike, so ``2.10`` → ``2.12`` marks only ``0`` → ``2``.
    """
    old_out: list[TextSegment] = []
    new_out: list[TextSegment] = []
    if old == new:
        if old:
            old_out.append(TextSegment(SegmentKind.EQUAL, old))
            new_out.append(TextSegment(SegmentKind.EQUAL, new))
        return TextDiff(tuple(old_out), tuple(new_out))
    old_lines = old.splitlines(keepends=True)
    new_lines = new.splitlines(keepends=True)
    if len(old_lines) > 1 or len(new_lines) > 1:
        for tag, i1, i2, j1, j2 in align(old_lines, new_lines):
            a = "".join(old_lines[i1:i2])
            b = "".join(new_lines[j1:j2])
            if tag == "equal":
                old_out.append(TextSegment(SegmentKind.EQUAL, a))
                new_out.append(TextSegment(SegmentKind.EQUAL, b))
            elif tag == "replace":
                _diff_words(a, b, old_out, new_out)
            elif tag == "delete":
                old_out.append(TextSegment(SegmentKind.DELETE, a))
            else:
                new_out.append(TextSegment(SegmentKind.INSERT, b))
    else:
        _diff_words(old, new, old_out, new_out)
    return TextDiff(_merge(old_out), _merge(new_out))


def _diff_words(old: str, new: str, old_out: list[TextSegment], new_out: list[TextSegment]) -> None:
    a = _TOKEN.findall(old)
    b = _TOKEN.findall(new)
    chunks = [(tag, a[i1:i2], b[j1:j2]) for tag, i1, i2, j1, j2 in align(a, b)]
    for tag, xs, ys in _slide(chunks):
        x = "".join(xs)
        y = "".join(ys)
        if tag == "equal":
            old_out.append(TextSegment(SegmentKind.EQUAL, x))
            new_out.append(TextSegment(SegmentKind.EQUAL, y))
        elif tag == "delete":
            old_out.append(TextSegment(SegmentKind.DELETE, x))
        elif tag == "insert":
            new_out.append(TextSegment(SegmentKind.INSERT, y))
        else:
            _diff_chars(x, y, old_out, new_out)


_Chunk = tuple[str, list[str], list[str]]


def _slide(chunks: Sequence[_Chunk]) -> list[_Chunk]:
    """Move each inserted or deleted run of words to where it starts a word.

    Among equally short diffs, ``difflib`` may cut ``://gnu`` →
    ``://ftp.gnu.org/gnu`` as ``:/`` + ``/ftp.gnu.org`` + ``/gnu``; sliding the
    run over the equal text around it gives ``://`` + ``ftp.gnu.org/`` +
    ``gnu``, which is how a reader sees the change.
    """
    # Empty equal chunks at both ends give a run at an edge room to move.
    out: list[_Chunk] = [("equal", [], []), *chunks, ("equal", [], [])]
    for k in range(1, len(out) - 1):
        tag, xs, ys = out[k]
        if tag not in ("insert", "delete"):
            continue
        # A neighbour that is itself a change cannot take or give words.
        if out[k - 1][0] != "equal" or out[k + 1][0] != "equal":
            continue
        run = ys if tag == "insert" else xs
        before, after = out[k - 1][1], out[k + 1][1]
        line = before + run + after
        n = len(run)
        start = len(before)
        while start > 0 and line[start - 1] == line[start - 1 + n]:
            start -= 1
        best = len(before)
        for pos in range(start, len(line) - n + 1):
            if pos != start and line[pos - 1] != line[pos - 1 + n]:
                break
            if line[pos][:1].isalnum() and (pos == 0 or not line[pos - 1][-1:].isalnum()):
                best = pos
                break
        if best == len(before):
            continue
        moved = line[best : best + n]
        out[k - 1] = ("equal", line[:best], line[:best])
        out[k + 1] = ("equal", line[best + n :], line[best + n :])
        out[k] = (tag, moved, []) if tag == "delete" else (tag, [], moved)
    return out


def _diff_chars(old: str, new: str, old_out: list[TextSegment], new_out: list[TextSegment]) -> None:
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    if len(old) + len(new) > _CHAR_LIMIT or matcher.ratio() < _CHAR_RATIO:
        old_out.append(TextSegment(SegmentKind.DELETE, old, True))
        new_out.append(TextSegment(SegmentKind.INSERT, new, True))
        return
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            old_out.append(TextSegment(SegmentKind.EQUAL, old[i1:i2], True))
            new_out.append(TextSegment(SegmentKind.EQUAL, new[j1:j2], True))
        if tag in ("delete", "replace"):
            old_out.append(TextSegment(SegmentKind.DELETE, old[i1:i2], True))
        if tag in ("insert", "replace"):
            new_out.append(TextSegment(SegmentKind.INSERT, new[j1:j2], True))


def _merge(segments: list[TextSegment]) -> tuple[TextSegment, ...]:
    """Join neighbours of the same kind; drop empty pieces."""
    merged: list[TextSegment] = []
    for seg in segments:
        if not seg.text:
            continue
        if merged and (merged[-1].kind, merged[-1].in_changed_word) == (
            seg.kind,
            seg.in_changed_word,
        ):
            last = merged.pop()
            seg = TextSegment(seg.kind, last.text + seg.text, seg.in_changed_word)
        merged.append(seg)
    return tuple(merged)


# --- matching -------------------------------------------------------------------


def name_stem(name: str) -> str:
    """``name`` with its version-like components replaced by ``*``.

    ``gmp-6.1.2.tar.xz`` → ``gmp-*.tar.xz``, ``guile-bootstrap-2.0`` →
    ``guile-bootstrap-*``: what a version bump keeps.
    """
    return _VERSION.sub("*", name)


_Item = TypeVar("_Item")
_V = TypeVar("_V")


def _pair_up(
    old: Sequence[_Item],
    new: Sequence[_Item],
    key: Callable[[_Item], str],
    prefer: Callable[[_Item, _Item], bool],
) -> tuple[list[tuple[_Item, _Item]], list[_Item], list[_Item]]:
    """Pair items with equal ``key``, in order, preferring pairs where ``prefer`` holds."""
    groups: dict[str, tuple[list[_Item], list[_Item]]] = {}
    for item in old:
        groups.setdefault(key(item), ([], []))[0].append(item)
    for item in new:
        groups.setdefault(key(item), ([], []))[1].append(item)
    pairs: list[tuple[_Item, _Item]] = []
    removed: list[_Item] = []
    added: list[_Item] = []
    for olds, news in groups.values():
        rest: list[_Item] = []
        for o in olds:
            for n in news:
                if prefer(o, n):
                    pairs.append((o, n))
                    news.remove(n)
                    break
            else:
                rest.append(o)
        for o, n in zip(rest, news, strict=False):
            pairs.append((o, n))
        removed.extend(rest[len(news) :])
        added.extend(news[len(rest) :])
    return pairs, removed, added


def _match(
    old: Sequence[_Item],
    new: Sequence[_Item],
    name: Callable[[_Item], str],
    prefer: Callable[[_Item, _Item], bool],
) -> tuple[list[tuple[_Item, _Item]], list[_Item], list[_Item]]:
    """Pair by name, then what is left by name stem."""
    pairs, removed, added = _pair_up(old, new, name, prefer)
    more, removed, added = _pair_up(removed, added, lambda i: name_stem(name(i)), prefer)
    return pairs + more, removed, added


# --- derivations ----------------------------------------------------------------


def equivalent(old: Derivation, new: Derivation) -> bool:
    """True if both have the same output names and (non-empty) output paths.

    For fixed-output derivations this means the same name and expected hash:
    they stand for the same bytes however they fetch them (§3.4).
    """
    if len(old.outputs) != len(new.outputs):
        return False
    for a, b in zip(old.outputs, new.outputs, strict=True):
        if a.name != b.name or a.path != b.path or not a.path:
            return False
        if (a.hash_algo, a.hash) != (b.hash_algo, b.hash):
            return False
    return True


Lookup = Callable[[str], Derivation | None]


_Entry = InputChange | tuple[InputDrv, InputDrv]
"""An input listing entry: a finished change, or a matched pair to explain."""


class _Frame:
    """A pair being compared: its fields are done, its input pairs are explained one by one."""

    __slots__ = (
        "old_path",
        "old",
        "new_path",
        "new",
        "depth",
        "fetch_tools",
        "entries",
        "unchanged",
        "done",
        "waiting",
    )

    def __init__(
        self, old_path: str, old: Derivation, new_path: str, new: Derivation, depth: int
    ) -> None:
        self.old_path = old_path
        self.old = old
        self.new_path = new_path
        self.new = new
        self.depth = depth
        # The inputs of an equivalent FOD are its fetch tools: they cannot
        # change its output, so they are listed but never explained.
        self.fetch_tools = old.is_fixed_output and new.is_fixed_output and equivalent(old, new)
        self.entries: list[_Entry] = []
        self.unchanged = 0
        self.done: list[InputChange] = []
        self.waiting: InputChange | None = None


class _Differ:
    """One diff run: lookups cached, pairs expanded at most once, in pre-order.

    The tree is walked with an explicit stack rather than recursion: a
    changed bootstrap input can make a chain of changed pairs hundreds of
    levels deep.
    """

    def __init__(self, lookup_old: Lookup, lookup_new: Lookup, max_depth: int) -> None:
        self._lookup_old = lookup_old
        self._lookup_new = lookup_new
        self._max_depth = max_depth
        self._old_cache: dict[str, Derivation | None] = {}
        self._new_cache: dict[str, Derivation | None] = {}
        self._expanded: set[tuple[str, str]] = set()

    def old(self, path: str) -> Derivation | None:
        if path not in self._old_cache:
            self._old_cache[path] = self._lookup_old(path)
        return self._old_cache[path]

    def new(self, path: str) -> Derivation | None:
        if path not in self._new_cache:
            self._new_cache[path] = self._lookup_new(path)
        return self._new_cache[path]

    def run(self, old_path: str, old: Derivation, new_path: str, new: Derivation) -> DerivationDiff:
        stack = [self._start(_Frame(old_path, old, new_path, new, 0))]
        while True:
            frame = stack[-1]
            if len(frame.done) < len(frame.entries):
                entry = frame.entries[len(frame.done)]
                if isinstance(entry, InputChange):
                    frame.done.append(entry)
                    continue
                change, child = self._explain(*entry, frame.depth, frame.fetch_tools)
                if child is None:
                    frame.done.append(change)
                else:
                    frame.waiting = change
                    stack.append(self._start(child))
                continue
            diff = _finish(frame)
            stack.pop()
            if not stack:
                return diff
            parent = stack[-1]
            assert parent.waiting is not None
            parent.done.append(replace(parent.waiting, diff=diff))
            parent.waiting = None

    def _start(self, frame: _Frame) -> _Frame:
        """Register the pair as explained here, and list its inputs."""
        self._expanded.add((frame.old_path, frame.new_path))
        if frame.old != frame.new:
            frame.entries, frame.unchanged = _input_entries(frame.old, frame.new)
        return frame

    def _explain(
        self, old: InputDrv, new: InputDrv, depth: int, fetch_tools: bool
    ) -> tuple[InputChange, _Frame | None]:
        """The change for a matched pair, and the frame to explain it (if it is to be)."""
        (old_path, old_outs), (new_path, new_outs) = old, new
        a = self.old(old_path)
        b = self.new(new_path)
        missing = tuple(p for p, d in ((old_path, a), (new_path, b)) if d is None)
        same = fixed = False
        if a is not None and b is not None:
            same = equivalent(a, b)
            fixed = a.is_fixed_output and b.is_fixed_output
        change = InputChange(
            Derivation.name_from_path(new_path),
            ChangeKind.CHANGED,
            old_path,
            new_path,
            old_outs,
            new_outs,
            Derivation.name_from_path(old_path),
            equivalent=same,
            fixed_output=fixed,
        )
        if a is None or b is None:
            return replace(change, folded=FoldReason.MISSING, missing=missing), None
        if fetch_tools:
            return replace(change, folded=FoldReason.FETCH_TOOL), None
        if (old_path, new_path) in self._expanded:
            return replace(change, folded=FoldReason.EXPLAINED), None
        if depth + 1 > self._max_depth:
            return replace(change, folded=FoldReason.DEPTH), None
        return change, _Frame(old_path, a, new_path, b, depth + 1)


def _input_entries(old: Derivation, new: Derivation) -> tuple[list[_Entry], int]:
    """The input listing of a pair, sorted by name, and how many inputs are unchanged."""
    new_outs = dict(new.input_drvs)
    old_outs = dict(old.input_drvs)
    name_of = Derivation.name_from_path
    keyed: list[tuple[tuple[str, int, str], _Entry]] = []
    unchanged = 0
    for path, outs in old.input_drvs:
        if path in new_outs:
            if new_outs[path] == outs:
                unchanged += 1
                continue
            # The same derivation, with other outputs used.
            name = name_of(path)
            change = InputChange(name, ChangeKind.CHANGED, path, path, outs, new_outs[path], name)
            keyed.append(((name, 2, path), change))
    pairs, removed, added = _match(
        [i for i in old.input_drvs if i[0] not in new_outs],
        [i for i in new.input_drvs if i[0] not in old_outs],
        lambda i: name_of(i[0]),
        lambda a, b: a[1] == b[1],
    )
    for path, outs in removed:
        name = name_of(path)
        keyed.append(
            ((name, 0, path), InputChange(name, ChangeKind.REMOVED, path, None, outs, (), name))
        )
    for path, outs in added:
        name = name_of(path)
        keyed.append(
            ((name, 1, path), InputChange(name, ChangeKind.ADDED, None, path, (), outs, name))
        )
    for pair in pairs:
        keyed.append(((name_of(pair[1][0]), 2, pair[1][0]), pair))
    # Pairs are explained in listing order, so that the first occurrence of
    # a pair (the one expanded) is also the first one shown.
    keyed.sort(key=lambda item: item[0])
    return [entry for _, entry in keyed], unchanged


def _finish(frame: _Frame) -> DerivationDiff:
    """The diff of a pair whose input pairs are all explained (or folded)."""
    old, new = frame.old, frame.new
    same_outputs = equivalent(old, new)
    fixed = old.is_fixed_output and new.is_fixed_output
    if old == new:
        summary = DiffSummary(
            identical=True,
            equivalent=same_outputs,
            fixed_output=fixed,
            inputs_unchanged=len(old.input_drvs),
        )
        return DerivationDiff(frame.old_path, frame.new_path, old, new, summary, depth=frame.depth)
    name = _field("name", old.name, new.name)
    outputs = _diff_outputs(old.outputs, new.outputs)
    inputs = tuple(frame.done)
    sources = _diff_sources(old.input_srcs, new.input_srcs)
    system = _field("system", old.system, new.system)
    builder = _field("builder", old.builder, new.builder)
    args = _diff_args(old.args, new.args)
    env = _diff_env(old.env, new.env)
    summary = DiffSummary(
        identical=False,
        equivalent=same_outputs,
        fixed_output=fixed,
        outputs_changed=len(outputs),
        inputs_added=_count(inputs, ChangeKind.ADDED),
        inputs_removed=_count(inputs, ChangeKind.REMOVED),
        inputs_changed=_count(inputs, ChangeKind.CHANGED),
        inputs_equivalent=sum(1 for i in inputs if i.equivalent),
        inputs_unchanged=frame.unchanged,
        sources_added=_count(sources, ChangeKind.ADDED),
        sources_removed=_count(sources, ChangeKind.REMOVED),
        sources_changed=_count(sources, ChangeKind.CHANGED),
        env_added=_count(env, ChangeKind.ADDED),
        env_removed=_count(env, ChangeKind.REMOVED),
        env_changed=_count(env, ChangeKind.CHANGED),
        args_changed=bool(args),
        system_changed=system is not None,
        builder_changed=builder is not None,
        name_changed=name is not None,
    )
    return DerivationDiff(
        frame.old_path,
        frame.new_path,
        old,
        new,
        summary,
        name=name,
        outputs=outputs,
        inputs=inputs,
        sources=sources,
        system=system,
        builder=builder,
        args=args,
        env=env,
        depth=frame.depth,
    )


def _count(items: Iterable[InputChange | SourceChange | EnvChange], kind: ChangeKind) -> int:
    return sum(1 for item in items if item.kind is kind)


def _field(field: str, old: str, new: str) -> FieldChange | None:
    if old == new:
        return None
    return FieldChange(field, old, new, diff_text(old, new))


def _by_name(
    olds: Mapping[str, _V], news: Mapping[str, _V]
) -> Iterator[tuple[str, ChangeKind, _V | None, _V | None]]:
    """Every name whose value differs between the two sides, in name order.

    Yields ``(name, kind, old, new)``: added (no old), removed (no new) or changed.
    """
    for name in sorted(olds.keys() | news.keys()):
        a, b = olds.get(name), news.get(name)
        if a is None:
            yield name, ChangeKind.ADDED, None, b
        elif b is None:
            yield name, ChangeKind.REMOVED, a, None
        elif a != b:
            yield name, ChangeKind.CHANGED, a, b


def _diff_outputs(old: Sequence[Output], new: Sequence[Output]) -> tuple[OutputChange, ...]:
    changes: list[OutputChange] = []
    for name, kind, a, b in _by_name({o.name: o for o in old}, {o.name: o for o in new}):
        fields: tuple[FieldChange, ...] = ()
        if a is not None and b is not None:
            fields = tuple(
                change
                for change in (
                    _field("path", a.path, b.path),
                    _field("hash_algo", a.hash_algo, b.hash_algo),
                    _field("hash", a.hash, b.hash),
                )
                if change is not None
            )
        changes.append(OutputChange(name, kind, a, b, fields))
    return tuple(changes)


def _diff_sources(old: Sequence[str], new: Sequence[str]) -> tuple[SourceChange, ...]:
    olds = set(old)
    news = set(new)
    pairs, removed, added = _match(
        [p for p in old if p not in news],
        [p for p in new if p not in olds],
        name_part,
        lambda a, b: False,
    )
    changes = [SourceChange(name_part(p), ChangeKind.REMOVED, p, None) for p in removed]
    changes += [SourceChange(name_part(p), ChangeKind.ADDED, None, p) for p in added]
    changes += [
        SourceChange(name_part(b), ChangeKind.CHANGED, a, b, diff_text(a, b)) for a, b in pairs
    ]
    rank = {ChangeKind.REMOVED: 0, ChangeKind.ADDED: 1, ChangeKind.CHANGED: 2}
    changes.sort(key=lambda c: (c.name, rank[c.kind], c.new_path or c.old_path or ""))
    return tuple(changes)


def _diff_args(old: Sequence[str], new: Sequence[str]) -> tuple[ArgChange, ...]:
    if tuple(old) == tuple(new):
        return ()
    changes: list[ArgChange] = []
    for tag, i1, i2, j1, j2 in align(old, new):
        if tag == "equal":
            for k in range(i2 - i1):
                changes.append(
                    ArgChange(ChangeKind.UNCHANGED, i1 + k, j1 + k, old[i1 + k], new[j1 + k])
                )
            continue
        # A replaced run pairs its arguments one to one; the longer side's
        # extra arguments are plain additions or removals.
        common = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for k in range(common):
            a, b = old[i1 + k], new[j1 + k]
            changes.append(ArgChange(ChangeKind.CHANGED, i1 + k, j1 + k, a, b, diff_text(a, b)))
        for i in range(i1 + common, i2):
            changes.append(ArgChange(ChangeKind.REMOVED, i, None, old[i], None))
        for j in range(j1 + common, j2):
            changes.append(ArgChange(ChangeKind.ADDED, None, j, None, new[j]))
    return tuple(changes)


def _diff_env(
    old: Sequence[tuple[str, str]], new: Sequence[tuple[str, str]]
) -> tuple[EnvChange, ...]:
    return tuple(
        EnvChange(name, kind, a, b, None if a is None or b is None else diff_text(a, b))
        for name, kind, a, b in _by_name(dict(old), dict(new))
    )


def diff_derivations(
    old_path: str,
    old: Derivation,
    new_path: str,
    new: Derivation,
    lookup_old: Lookup,
    lookup_new: Lookup,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> DerivationDiff:
    """Compare two derivations, explaining changed inputs recursively.

    Args:
        old_path: store path of the old ``.drv`` (a label, and the pair's key).
        old: the old derivation.
        new_path: store path of the new ``.drv``.
        new: the new derivation.
        lookup_old: the old derivation stored at an input ``.drv`` path, or
            ``None`` when it is not available (that pair is then folded with
            :attr:`FoldReason.MISSING`).
        lookup_new: the same for the new side (often the same function:
            a store path names one content).
        max_depth: how many levels of input pairs to explain; 0 explains none.

    Returns:
        The tree of differences; ``result.summary.verdict`` says whether the
        two are identical, equivalent (same outputs) or different.
    """
    if max_depth < 0:
        raise ValueError(f"max_depth must be 0 or more, not {max_depth}")
    return _Differ(lookup_old, lookup_new, max_depth).run(old_path, old, new_path, new)


def walk(diff: DerivationDiff) -> Iterator[DerivationDiff]:
    """Every pair explained in ``diff``, in pre-order (the order they are shown)."""
    stack = [diff]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed([i.diff for i in current.inputs if i.diff is not None]))


# --- JSON -----------------------------------------------------------------------


def _text_json(text: TextDiff | None) -> dict[str, object] | None:
    if text is None:
        return None

    def side(segments: tuple[TextSegment, ...]) -> list[dict[str, object]]:
        return [
            {"kind": s.kind.value, "text": s.text, "in_changed_word": s.in_changed_word}
            for s in segments
        ]

    return {"old": side(text.old), "new": side(text.new)}


def _field_json(change: FieldChange | None) -> dict[str, object] | None:
    if change is None:
        return None
    return {"old": change.old, "new": change.new, "highlights": _text_json(change.text)}


def _output_json(out: Output | None) -> dict[str, str] | None:
    if out is None:
        return None
    return {"path": out.path, "hash_algo": out.hash_algo, "hash": out.hash}


def diff_as_dict(diff: DerivationDiff) -> dict[str, object]:
    """``diff`` as plain JSON-ready values (the ``--json`` output of ``guix-revive diff``).

    The tree is flattened so that a deep one stays shallow JSON: ``pairs``
    lists every explained pair in pre-order (``pairs[0]`` is ``diff``
    itself), and a changed input's ``diff`` is the index of its pair in
    ``pairs`` (``null`` when folded). The top-level ``old``, ``new``,
    ``verdict``, ``equivalent``, ``identical`` and ``summary`` repeat
    ``pairs[0]``'s.
    """
    pairs = list(walk(diff))
    index = {id(pair): n for n, pair in enumerate(pairs)}
    top = _pair_json(diff, index)
    head = {k: top[k] for k in ("old", "new", "verdict", "identical", "equivalent", "summary")}
    return {**head, "pairs": [_pair_json(pair, index) for pair in pairs]}


def _pair_json(diff: DerivationDiff, index: dict[int, int]) -> dict[str, object]:
    s = diff.summary
    return {
        "old": diff.old_path,
        "new": diff.new_path,
        "depth": diff.depth,
        "verdict": s.verdict,
        "identical": s.identical,
        "equivalent": s.equivalent,
        "fixed_output": s.fixed_output,
        "summary": s.describe(),
        "name": _field_json(diff.name),
        "outputs": [
            {
                "name": o.name,
                "kind": o.kind.value,
                "old": _output_json(o.old),
                "new": _output_json(o.new),
                "fields": {f.field: _field_json(f) for f in o.fields},
            }
            for o in diff.outputs
        ],
        "inputs": [
            {
                "name": i.name,
                "old_name": i.old_name,
                "kind": i.kind.value,
                "old": i.old_path,
                "new": i.new_path,
                "old_outputs": list(i.old_outputs),
                "new_outputs": list(i.new_outputs),
                "equivalent": i.equivalent,
                "fixed_output": i.fixed_output,
                "folded": i.folded.value if i.folded is not None else None,
                "missing": list(i.missing),
                "diff": index[id(i.diff)] if i.diff is not None else None,
            }
            for i in diff.inputs
        ],
        "inputs_unchanged": s.inputs_unchanged,
        "sources": [
            {
                "name": c.name,
                "kind": c.kind.value,
                "old": c.old_path,
                "new": c.new_path,
                "highlights": _text_json(c.text),
            }
            for c in diff.sources
        ],
        "system": _field_json(diff.system),
        "builder": _field_json(diff.builder),
        "args": [
            {
                "kind": a.kind.value,
                "old_index": a.old_index,
                "new_index": a.new_index,
                "old": a.old,
                "new": a.new,
                "highlights": _text_json(a.text),
            }
            for a in diff.args
        ],
        "env": [
            {
                "name": e.name,
                "kind": e.kind.value,
                "old": e.old,
                "new": e.new,
                "highlights": _text_json(e.text),
            }
            for e in diff.env
        ],
    }
