"""Lay out a :class:`~revive.core.diff.DerivationDiff` as rows of tagged text.

The layout is pure data shared by every front end: the command line maps
the tags to Rich styles, the TUI to theme colours. Two forms:

* :func:`side_by_side`: :class:`Row` values, each one line of the old side
  (``left``) and one line of the new side (``right``), so two panes can
  scroll together line by line;
* :func:`unified`: :class:`Line` values, one column with a marker
  (``-``, ``+``, ``~``, ``=``) in front of each line, derived from the rows.

Every row is exactly one line: multi-line values are split, tabs and other
control characters are shown as escapes. Segments already carry the
indentation (two spaces per level); ``depth`` is the same level as a number,
for folding: the rows *under* a row are the rows that follow it with a
greater depth. Subtrees that are not shown (explained above, too deep, not
found) and runs of unchanged lines are rows of kind :attr:`RowKind.FOLDED`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from revive.core.diff import (
    ArgChange,
    ChangeKind,
    DerivationDiff,
    FieldChange,
    FoldReason,
    InputChange,
    SegmentKind,
    TextDiff,
    TextSegment,
    align,
    diff_text,
)

__all__ = [
    "Tag",
    "RowKind",
    "Segment",
    "Row",
    "Line",
    "UNIFIED_MARKERS",
    "SIDE_MARKERS",
    "side_by_side",
    "unified",
    "unified_lines",
    "segments_text",
    "line_text",
    "visible",
    "abbreviate",
]

INDENT: Final = "  "
"""Indentation of one level."""

NEWLINE: Final = "↵"
"""Shown at the end of a line whose line break was added or removed."""

DEFAULT_CONTEXT: Final = 2
"""Unchanged lines kept around a change in argument lists and multi-line values."""

ABBREVIATED_HASH: Final = 8
"""Characters of a store path's hash part kept when abbreviating."""

_CONTROL: Final = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")
# The hash part of a store path inside a line: after '/', before '-'.
_HASH_PART: Final = re.compile(r"(?<=/)[0-9a-df-np-sv-z]{32}(?=-)")
_ESCAPES: Final = {"\t": "\\t", "\r": "\\r"}


class Tag(StrEnum):
    """Abstract style of a segment; front ends map each to a style or colour."""

    PLAIN = "plain"
    """Ordinary text."""
    HEADING = "heading"
    """Section titles and the two ``.drv`` paths at the top."""
    KEY = "key"
    """Names: variables, outputs, input derivations."""
    DIM = "dim"
    """Secondary text: counts, notes, folded subtrees."""
    OLD = "old"
    """Unchanged text of the old side of a changed or removed item."""
    NEW = "new"
    """Unchanged text of the new side of a changed or added item."""
    REMOVED = "removed"
    """Characters or words only in the old text (strong highlight)."""
    ADDED = "added"
    """Characters or words only in the new text (strong highlight)."""
    CHANGED_WORD = "changed-word"
    """Unchanged characters inside a changed word (soft highlight)."""
    EQUIVALENT = "equivalent"
    """The *equivalent* verdict: different derivations, same outputs."""
    DIFFERENT = "different"
    """The *different* verdict: the outputs differ."""


class RowKind(StrEnum):
    """What a row shows."""

    TITLE = "title"
    """The two ``.drv`` paths compared (first row)."""
    HEADING = "heading"
    """A section: outputs, input derivations, environment…"""
    NOTE = "note"
    """A remark, the same on both sides (verdict, counts)."""
    CONTEXT = "context"
    """An unchanged line shown for context."""
    CHANGED = "changed"
    """A line that differs: old on the left, new on the right."""
    REMOVED = "removed"
    """A line only on the left."""
    ADDED = "added"
    """A line only on the right."""
    MODIFIED = "modified"
    """The header of a changed item whose details follow (deeper rows)."""
    EQUIVALENT = "equivalent"
    """The header of an item that differs but has the same outputs."""
    FOLDED = "folded"
    """Something not shown: a subtree explained above or too deep, or unchanged lines."""


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of a line and its abstract style."""

    text: str
    """The characters (never a newline)."""
    tag: Tag = Tag.PLAIN
    """How to style it."""


@dataclass(frozen=True, slots=True)
class Row:
    """One line of a side-by-side rendering."""

    kind: RowKind
    """What the row shows."""
    left: tuple[Segment, ...]
    """The old side (empty for an added line)."""
    right: tuple[Segment, ...]
    """The new side (empty for a removed line)."""
    depth: int = 0
    """Nesting level; the rows under this one follow it with a greater depth."""
    ref: tuple[str, str] | None = None
    """For an input pair's header and for a folded pair: its ``(old, new)`` ``.drv``
    paths. A fold with :attr:`FoldReason.EXPLAINED` refers to the header row
    with the same ``ref`` above it."""


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a unified rendering."""

    marker: str
    """``-`` old, ``+`` new, ``~`` changed item, ``=`` equivalent item,
    ``---``/``+++`` the two paths, a space otherwise."""
    segments: tuple[Segment, ...]
    """The text."""
    kind: RowKind
    """The kind of the row it comes from."""
    depth: int = 0
    """Nesting level (as in :class:`Row`)."""
    ref: tuple[str, str] | None = None
    """As in :class:`Row`."""


UNIFIED_MARKERS: Final = {
    RowKind.TITLE: "",
    RowKind.HEADING: " ",
    RowKind.NOTE: " ",
    RowKind.CONTEXT: " ",
    RowKind.CHANGED: "",
    RowKind.REMOVED: "-",
    RowKind.ADDED: "+",
    RowKind.MODIFIED: "~",
    RowKind.EQUIVALENT: "=",
    RowKind.FOLDED: " ",
}
"""Marker of each row kind in the unified form (titles and changed rows give two lines)."""

SIDE_MARKERS: Final = {
    RowKind.TITLE: ("---", "+++"),
    RowKind.HEADING: (" ", " "),
    RowKind.NOTE: (" ", " "),
    RowKind.CONTEXT: (" ", " "),
    RowKind.CHANGED: ("-", "+"),
    RowKind.REMOVED: ("-", " "),
    RowKind.ADDED: (" ", "+"),
    RowKind.MODIFIED: ("~", "~"),
    RowKind.EQUIVALENT: ("=", "="),
    RowKind.FOLDED: (" ", " "),
}
"""Left and right markers of each row kind, for plain-text side-by-side output."""

_FOLD_TEXT: Final = {
    FoldReason.EXPLAINED: "… explained above",
    FoldReason.DEPTH: "… not explained: depth limit reached",
    FoldReason.MISSING: "… cannot explain: not found: ",
    FoldReason.FETCH_TOOL: (
        "… not explained: a fetch tool of equivalent fixed-output derivations "
        "cannot change their output"
    ),
}


def visible(text: str) -> str:
    """``text`` with tabs, carriage returns and other control characters escaped."""
    if _CONTROL.search(text) is None:
        return text
    return _CONTROL.sub(lambda m: _ESCAPES.get(m.group(), f"\\x{ord(m.group()):02x}"), text)


def abbreviate(segments: Sequence[Segment], keep: int = ABBREVIATED_HASH) -> tuple[Segment, ...]:
    """``segments`` with each store path's hash part cut to ``keep`` characters and ``…``.

    Styles are kept: a hash that is wholly one segment (unchanged, or changed
    as a whole word) stays that segment, shortened.
    """
    text = segments_text(segments)
    cuts = [(m.start() + keep, m.end()) for m in _HASH_PART.finditer(text)]
    if not cuts:
        return tuple(segments)
    out: list[Segment] = []
    pos = 0
    for seg in segments:
        start, end = pos, pos + len(seg.text)
        pos = end
        pieces: list[str] = []
        cursor = start
        for cut_start, cut_end in cuts:
            if cut_end <= cursor or cut_start >= end:
                continue
            pieces.append(text[cursor : max(cursor, cut_start)])
            if cut_start >= cursor:
                pieces.append("…")
            cursor = min(end, cut_end)
        pieces.append(text[cursor:end])
        kept = "".join(pieces)
        if kept:
            out.append(Segment(kept, seg.tag))
    return tuple(out)


def segments_text(segments: Sequence[Segment]) -> str:
    """The plain text of some segments."""
    return "".join(s.text for s in segments)


def line_text(line: Line) -> str:
    """A unified line as plain text: the marker, a space, the text."""
    return f"{line.marker} {segments_text(line.segments)}".rstrip()


# --- building blocks ------------------------------------------------------------

Segments = tuple[Segment, ...]


def _indent(depth: int) -> Segments:
    return (Segment(INDENT * depth),) if depth else ()


def _text_lines(segments: Sequence[TextSegment], old_side: bool) -> list[list[Segment]]:
    """Tagged segments of one side of a :class:`TextDiff`, split into lines."""
    base = Tag.OLD if old_side else Tag.NEW
    strong = Tag.REMOVED if old_side else Tag.ADDED
    lines: list[list[Segment]] = [[]]
    for seg in segments:
        if seg.kind is SegmentKind.EQUAL:
            tag = Tag.CHANGED_WORD if seg.in_changed_word else base
        else:
            tag = strong
        for k, piece in enumerate(seg.text.split("\n")):
            if k:
                if tag is strong:
                    # An added or removed line break must be visible.
                    lines[-1].append(Segment(NEWLINE, strong))
                lines.append([])
            if piece:
                lines[-1].append(Segment(visible(piece), tag))
    if len(lines) > 1 and not lines[-1]:
        lines.pop()  # a final newline ends the last line, it does not start one
    return lines


def _plain_lines(text: str, tag: Tag) -> list[list[Segment]]:
    side = (TextSegment(SegmentKind.EQUAL, text),)
    lines = _text_lines(side, old_side=tag is Tag.OLD)
    return [[Segment(s.text, tag) for s in line] for line in lines]


def _label(name: str) -> Segments:
    return (Segment(name, Tag.KEY), Segment(" = ", Tag.DIM))


def _fold_runs(count: int, context: int, at_start: bool, at_end: bool) -> tuple[int, int]:
    """How many of ``count`` unchanged lines to keep before and after a fold."""
    head = 0 if at_start else context
    tail = 0 if at_end else context
    if head + tail + 1 >= count:
        return count, 0
    return head, tail


@dataclass(frozen=True, slots=True)
class _Nested:
    """An input pair whose rows go at the current place, at ``depth``."""

    diff: DerivationDiff
    depth: int


class _Layout:
    """Accumulates the rows of one diff."""

    def __init__(self, context: int) -> None:
        self.rows: list[Row] = []
        self.context = context

    def add(
        self,
        kind: RowKind,
        left: Sequence[Segment],
        right: Sequence[Segment],
        depth: int,
        ref: tuple[str, str] | None = None,
    ) -> None:
        self.rows.append(Row(kind, tuple(left), tuple(right), depth, ref))

    def both(self, kind: RowKind, segments: Sequence[Segment], depth: int) -> None:
        line = _indent(depth) + tuple(segments)
        self.add(kind, line, line, depth)

    def heading(self, title: str, depth: int) -> None:
        self.both(RowKind.HEADING, (Segment(title + ":", Tag.HEADING),), depth)

    def note(self, text: str, depth: int, tag: Tag = Tag.DIM) -> None:
        self.both(RowKind.NOTE, (Segment(text, tag),), depth)

    def fold(self, text: str, depth: int, ref: tuple[str, str] | None = None) -> None:
        line = _indent(depth) + (Segment(text, Tag.DIM),)
        self.add(RowKind.FOLDED, line, line, depth, ref)

    # --- values --------------------------------------------------------------

    def one_side(self, kind: RowKind, label: Segments, text: str, depth: int) -> None:
        """A value only on one side; continuation lines are indented under it."""
        old_side = kind is RowKind.REMOVED
        lines = _plain_lines(text, Tag.OLD if old_side else Tag.NEW)
        for k, line in enumerate(lines):
            prefix = label if k == 0 else (Segment(" " * len(segments_text(label))),)
            segs = _indent(depth) + prefix + tuple(line)
            if old_side:
                self.add(kind, segs, (), depth)
            else:
                self.add(kind, (), segs, depth)

    def changed(self, label: Segments, text: TextDiff, depth: int) -> None:
        """A changed value: one row, or a header and its aligned lines."""
        old_lines = _text_lines(text.old, old_side=True)
        new_lines = _text_lines(text.new, old_side=False)
        pad = _indent(depth)
        if len(old_lines) == 1 and len(new_lines) == 1:
            self.add(
                RowKind.CHANGED,
                pad + label + tuple(old_lines[0]),
                pad + label + tuple(new_lines[0]),
                depth,
            )
            return
        head = pad + label[:1]
        self.add(RowKind.MODIFIED, head, head, depth)
        self.aligned(
            [segments_text(line) for line in old_lines],
            [segments_text(line) for line in new_lines],
            old_lines,
            new_lines,
            depth + 1,
            "lines",
        )

    def aligned(
        self,
        old_keys: Sequence[str],
        new_keys: Sequence[str],
        old_lines: Sequence[Sequence[Segment]],
        new_lines: Sequence[Sequence[Segment]],
        depth: int,
        what: str,
    ) -> None:
        """Rows for two aligned sequences of lines, folding long unchanged runs."""
        pad = _indent(depth)
        opcodes = align(old_keys, new_keys)
        for n, (tag, i1, i2, j1, j2) in enumerate(opcodes):
            if tag == "equal":
                head, tail = _fold_runs(i2 - i1, self.context, n == 0, n == len(opcodes) - 1)
                for k in range(i1, i1 + head):
                    self.add(
                        RowKind.CONTEXT,
                        pad + _retag(old_lines[k], Tag.PLAIN),
                        pad + _retag(new_lines[j1 + k - i1], Tag.PLAIN),
                        depth,
                    )
                hidden = i2 - i1 - head - tail
                if hidden:
                    self.fold(f"… {hidden} unchanged {what}", depth)
                for k in range(i2 - tail, i2):
                    self.add(
                        RowKind.CONTEXT,
                        pad + _retag(old_lines[k], Tag.PLAIN),
                        pad + _retag(new_lines[j1 + k - i1], Tag.PLAIN),
                        depth,
                    )
                continue
            common = min(i2 - i1, j2 - j1)
            for k in range(common):
                self.add(
                    RowKind.CHANGED,
                    pad + tuple(old_lines[i1 + k]),
                    pad + tuple(new_lines[j1 + k]),
                    depth,
                )
            for i in range(i1 + common, i2):
                self.add(RowKind.REMOVED, pad + _retag(old_lines[i], Tag.OLD, keep=True), (), depth)
            for j in range(j1 + common, j2):
                self.add(RowKind.ADDED, (), pad + _retag(new_lines[j], Tag.NEW, keep=True), depth)

    def field(self, change: FieldChange | None, label: str, depth: int) -> None:
        if change is not None:
            self.changed(_label(label), change.text, depth)

    # --- the derivation --------------------------------------------------------

    def render(self, diff: DerivationDiff) -> None:
        """All rows of ``diff``, nested pairs in place.

        Each pair's rows come from a generator that yields a nested pair
        where its rows belong; the generators are driven from an explicit
        stack, so a chain of pairs hundreds of levels deep needs no recursion.
        """
        stack = [self.derivation(diff, 0, title=True)]
        while stack:
            nested = next(stack[-1], None)
            if nested is None:
                stack.pop()
            else:
                stack.append(self.derivation(nested.diff, nested.depth, title=False))

    def derivation(self, diff: DerivationDiff, depth: int, title: bool) -> Iterator[_Nested]:
        """Add the rows of one pair; yield each explained input pair where it goes."""
        if title:
            self.add(
                RowKind.TITLE,
                (Segment(diff.old_path, Tag.HEADING),),
                (Segment(diff.new_path, Tag.HEADING),),
                depth,
                diff.key,
            )
        self.verdict(diff, depth)
        if diff.identical:
            return
        item = depth + 1
        self.field(diff.name, "name", depth)
        self.outputs(diff, depth)
        yield from self.inputs(diff, depth)
        self.sources(diff, depth)
        self.field(diff.system, "system", depth)
        self.field(diff.builder, "builder", depth)
        if diff.args:
            self.heading("arguments", depth)
            self.args(diff.args, item)
        if diff.env:
            self.heading("environment", depth)
            for env in diff.env:
                if env.kind is ChangeKind.CHANGED and env.text is not None:
                    self.changed(_label(env.name), env.text, item)
                elif env.kind is ChangeKind.REMOVED and env.old is not None:
                    self.one_side(RowKind.REMOVED, _label(env.name), env.old, item)
                elif env.kind is ChangeKind.ADDED and env.new is not None:
                    self.one_side(RowKind.ADDED, _label(env.name), env.new, item)
            same = len(diff.old.env) - diff.summary.env_removed - diff.summary.env_changed
            if same:
                self.note(f"{same} unchanged variable{'' if same == 1 else 's'}", item)

    def verdict(self, diff: DerivationDiff, depth: int) -> None:
        summary = diff.summary
        detail = summary.describe()
        word, _, rest = detail.partition(":")
        tag = Tag.DIM
        if summary.equivalent and not summary.identical:
            tag = Tag.EQUIVALENT
        elif not summary.equivalent:
            tag = Tag.DIFFERENT
        self.both(
            RowKind.NOTE, (Segment(word, tag), Segment(":" + rest if rest else "", Tag.DIM)), depth
        )
        if summary.equivalent and summary.fixed_output and not summary.identical:
            out = diff.new.outputs[0]
            self.note(
                f"same output {out.path} ({out.hash_algo}:{out.hash}): fetched differently",
                depth,
                Tag.EQUIVALENT,
            )

    def outputs(self, diff: DerivationDiff, depth: int) -> None:
        if not diff.outputs:
            return
        self.heading("outputs", depth)
        item = depth + 1
        for change in diff.outputs:
            if change.kind is ChangeKind.CHANGED:
                labels = {
                    "path": change.name,
                    "hash_algo": f"{change.name} hash algorithm",
                    "hash": f"{change.name} hash",
                }
                for field in change.fields:
                    self.changed(_label(labels[field.field]), field.text, item)
                continue
            out = change.old if change.kind is ChangeKind.REMOVED else change.new
            if out is None:  # pragma: no cover - an added output always has a value
                continue
            value = out.path + (f" ({out.hash_algo}:{out.hash})" if out.hash else "")
            kind = RowKind.REMOVED if change.kind is ChangeKind.REMOVED else RowKind.ADDED
            self.one_side(kind, _label(change.name), value, item)

    def inputs(self, diff: DerivationDiff, depth: int) -> Iterator[_Nested]:
        if not diff.inputs:
            return
        self.heading("input derivations", depth)
        item = depth + 1
        for change in diff.inputs:
            if change.kind is ChangeKind.REMOVED and change.old_path is not None:
                self.add(
                    RowKind.REMOVED,
                    _indent(item) + _drv(change.old_path, change.old_outputs, Tag.OLD),
                    (),
                    item,
                )
            elif change.kind is ChangeKind.ADDED and change.new_path is not None:
                self.add(
                    RowKind.ADDED,
                    (),
                    _indent(item) + _drv(change.new_path, change.new_outputs, Tag.NEW),
                    item,
                )
            else:
                nested = self.input_pair(change, item)
                if nested is not None:
                    yield nested
        same = diff.summary.inputs_unchanged
        if same:
            self.note(f"{same} unchanged input derivation{'' if same == 1 else 's'}", item)

    def input_pair(self, change: InputChange, depth: int) -> _Nested | None:
        """Add the header rows of a changed input; the pair to explain under them, if any."""
        kind = RowKind.EQUIVALENT if change.equivalent else RowKind.MODIFIED
        remark: Segments = ()
        if change.equivalent:
            what = "equivalent fixed-output" if change.fixed_output else "equivalent: same outputs"
            remark = (Segment(f"  ({what})", Tag.EQUIVALENT),)
        pad = _indent(depth)
        self.add(
            kind,
            pad + (Segment(change.old_name or change.name, Tag.KEY),) + remark,
            pad + (Segment(change.name, Tag.KEY),) + remark,
            depth,
            change.key,
        )
        old_path = change.old_path or ""
        new_path = change.new_path or ""
        text = diff_text(old_path, new_path)
        inner = depth + 1
        old_outs: Segments
        new_outs: Segments
        if change.old_outputs == change.new_outputs:
            old_outs = new_outs = (Segment(" " + _outputs_text(change.old_outputs), Tag.DIM),)
        else:
            outs = diff_text(_outputs_text(change.old_outputs), _outputs_text(change.new_outputs))
            old_outs = (Segment(" "),) + _flat(outs.old, True)
            new_outs = (Segment(" "),) + _flat(outs.new, False)
        self.add(
            RowKind.CHANGED,
            _indent(inner) + _flat(text.old, True) + old_outs,
            _indent(inner) + _flat(text.new, False) + new_outs,
            inner,
        )
        if change.diff is not None:
            return _Nested(change.diff, inner)
        if change.folded is not None:
            text_ = _FOLD_TEXT[change.folded]
            if change.folded is FoldReason.MISSING:
                text_ += ", ".join(change.missing)
            self.fold(text_, inner, change.key)
        return None

    def sources(self, diff: DerivationDiff, depth: int) -> None:
        if not diff.sources:
            return
        self.heading("input sources", depth)
        item = depth + 1
        pad = _indent(item)
        for change in diff.sources:
            if change.kind is ChangeKind.REMOVED and change.old_path is not None:
                self.add(RowKind.REMOVED, pad + (Segment(change.old_path, Tag.OLD),), (), item)
            elif change.kind is ChangeKind.ADDED and change.new_path is not None:
                self.add(RowKind.ADDED, (), pad + (Segment(change.new_path, Tag.NEW),), item)
            elif change.text is not None:
                self.add(
                    RowKind.CHANGED,
                    pad + _flat(change.text.old, True),
                    pad + _flat(change.text.new, False),
                    item,
                )
        same = len(set(diff.old.input_srcs) & set(diff.new.input_srcs))
        if same:
            self.note(f"{same} unchanged input source{'' if same == 1 else 's'}", item)

    def args(self, args: Sequence[ArgChange], depth: int) -> None:
        old_lines: list[Sequence[Segment]] = []
        new_lines: list[Sequence[Segment]] = []
        old_keys: list[str] = []
        new_keys: list[str] = []
        # Arguments are already aligned by the diff: give each row an
        # identity key so that the line alignment below reproduces it.
        for n, arg in enumerate(args):
            if arg.kind is ChangeKind.UNCHANGED and arg.old is not None:
                line = (Segment(visible(arg.old.replace("\n", "\\n"))),)
                old_lines.append(line)
                new_lines.append(line)
                old_keys.append(f"={n}")
                new_keys.append(f"={n}")
            elif arg.kind is ChangeKind.CHANGED and arg.text is not None:
                old_lines.append(_flat(arg.text.old, True))
                new_lines.append(_flat(arg.text.new, False))
                old_keys.append(f"-{n}")
                new_keys.append(f"+{n}")
            elif arg.kind is ChangeKind.REMOVED and arg.old is not None:
                old_lines.append(_flat_plain(arg.old, Tag.OLD))
                old_keys.append(f"-{n}")
            elif arg.new is not None:
                new_lines.append(_flat_plain(arg.new, Tag.NEW))
                new_keys.append(f"+{n}")
        self.aligned(old_keys, new_keys, old_lines, new_lines, depth, "arguments")


def _retag(line: Sequence[Segment], tag: Tag, keep: bool = False) -> Segments:
    """``line`` with every segment restyled (``keep``: leave strong highlights)."""
    strong = (Tag.REMOVED, Tag.ADDED)
    return tuple(Segment(s.text, s.tag if keep and s.tag in strong else tag) for s in line)


def _flat(segments: Sequence[TextSegment], old_side: bool) -> Segments:
    """One side of a text diff on one line (newlines shown as ``\\n``)."""
    lines = _text_lines(segments, old_side)
    out: list[Segment] = []
    for k, line in enumerate(lines):
        if k:
            out.append(Segment("\\n", Tag.DIM))
        out.extend(line)
    return tuple(out)


def _flat_plain(text: str, tag: Tag) -> Segments:
    return tuple(Segment(s.text, tag) for s in _flat((TextSegment(SegmentKind.EQUAL, text),), True))


def _outputs_text(outputs: Sequence[str]) -> str:
    return "[" + ",".join(outputs) + "]"


def _drv(path: str, outputs: Sequence[str], tag: Tag) -> Segments:
    return (Segment(path, tag), Segment(" " + _outputs_text(outputs), Tag.DIM))


# --- public ---------------------------------------------------------------------


def side_by_side(
    diff: DerivationDiff, *, context: int = DEFAULT_CONTEXT, short_hashes: bool = False
) -> tuple[Row, ...]:
    """The rows of a two-column rendering of ``diff``.

    Args:
        diff: what to show.
        context: unchanged lines kept around changes in argument lists and
            multi-line values; longer unchanged runs become a folded row.
        short_hashes: cut the hash part of store paths to
            :data:`ABBREVIATED_HASH` characters (except in the title row), so
            that paths fit in narrow columns.
    """
    layout = _Layout(max(0, context))
    layout.render(diff)
    if not short_hashes:
        return tuple(layout.rows)
    return tuple(
        row
        if row.kind is RowKind.TITLE
        else Row(row.kind, abbreviate(row.left), abbreviate(row.right), row.depth, row.ref)
        for row in layout.rows
    )


def unified_lines(rows: Sequence[Row]) -> tuple[Line, ...]:
    """The unified form of side-by-side ``rows``.

    A changed row gives a ``-`` line and a ``+`` line, the title a ``---`` and a
    ``+++`` line; a changed item's header shows ``old → new`` when the names
    differ.
    """
    lines: list[Line] = []
    for row in rows:
        kind = row.kind
        if kind is RowKind.TITLE:
            lines.append(Line("---", row.left, kind, row.depth, row.ref))
            lines.append(Line("+++", row.right, kind, row.depth, row.ref))
        elif kind is RowKind.CHANGED:
            lines.append(Line("-", row.left, kind, row.depth, row.ref))
            lines.append(Line("+", row.right, kind, row.depth, row.ref))
        elif kind is RowKind.ADDED:
            lines.append(Line("+", row.right, kind, row.depth, row.ref))
        elif kind in (RowKind.MODIFIED, RowKind.EQUIVALENT) and (
            segments_text(row.left) != segments_text(row.right)
        ):
            right = row.right[1:] if row.depth else row.right
            merged = row.left + (Segment(" → ", Tag.DIM),) + right
            lines.append(Line(UNIFIED_MARKERS[kind], merged, kind, row.depth, row.ref))
        else:
            lines.append(Line(UNIFIED_MARKERS[kind], row.left, kind, row.depth, row.ref))
    return tuple(lines)


def unified(
    diff: DerivationDiff, *, context: int = DEFAULT_CONTEXT, short_hashes: bool = False
) -> tuple[Line, ...]:
    """The lines of a one-column rendering of ``diff`` (arguments as in :func:`side_by_side`)."""
    return unified_lines(side_by_side(diff, context=context, short_hashes=short_hashes))
