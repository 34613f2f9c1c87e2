"""``guix-revive diff [--side-by-side] [--json] OLD.drv NEW.drv``: compare two derivations.

Unified by default, two columns with ``--side-by-side``; coloured on a
terminal, plain text with ``-``/``+``/``~``/``=`` markers when piped. The two
files may be anywhere (a rewritten ``.drv`` is often written to another
directory than the original store): their input derivations are looked up
next to each of them, then in ``--store``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Callable, Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from revive.core.aterm import read_derivation
from revive.core.derivation import Derivation
from revive.core.derivation_hash import drv_path
from revive.core.diff import DEFAULT_MAX_DEPTH, DerivationDiff, diff_as_dict, diff_derivations
from revive.core.diff_layout import (
    DEFAULT_CONTEXT,
    SIDE_MARKERS,
    Row,
    Segment,
    Tag,
    line_text,
    side_by_side,
    unified_lines,
)
from revive.core.errors import StoreError
from revive.core.store_path import DEFAULT_STORE_DIR, is_store_path, store_dir_of
from revive.tui.cli.common import HelpFormatter, add_store_option, console, is_terminal, print_json

__all__ = ["add_parser", "run", "print_diff", "locate", "directory_lookup"]

_EPILOG = """\
exit status:
  0  the comparison was made, whatever the differences
     (with --exit-code: 0 if the two are equivalent, i.e. have the same
     output paths, 1 if their outputs differ)
  2  a file cannot be read or is not a derivation

markers: - old, + new, ~ changed item, = changed but equivalent item
"""

# Styles of the abstract layout tags; the side matters for text that belongs
# to a changed word (red on the old side, green on the new one).
_STYLES: dict[Tag, str] = {
    Tag.PLAIN: "",
    Tag.HEADING: "bold",
    Tag.KEY: "bold",
    Tag.DIM: "dim",
    Tag.OLD: "red",
    Tag.NEW: "green",
    Tag.REMOVED: "bold white on red",
    Tag.ADDED: "bold black on green",
    Tag.EQUIVALENT: "bold cyan",
    Tag.DIFFERENT: "bold yellow",
}
_MARKER_STYLES: dict[str, str] = {
    "-": "bold red",
    "---": "bold red",
    "+": "bold green",
    "+++": "bold green",
    "~": "bold yellow",
    "=": "bold cyan",
}

# Width of a side-by-side rendering that is not on a terminal.
_PIPE_WIDTH = 160


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``diff`` command."""
    parser = subparsers.add_parser(
        "diff",
        help="compare two derivations, explaining why their inputs differ",
        description="Compare two derivations field by field. Changed input derivations "
        "are compared in turn, to explain why they differ. Two derivations with the same "
        "output paths (e.g. a fixed-output derivation and its rewrite) are reported as "
        "equivalent.",
        epilog=_EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("old", metavar="OLD.drv", help="the old .drv file (any directory)")
    parser.add_argument("new", metavar="NEW.drv", help="the new .drv file (any directory)")
    parser.add_argument(
        "-s", "--side-by-side", action="store_true", help="show old and new in two columns"
    )
    parser.add_argument(
        "--full-paths",
        action="store_true",
        help="with --side-by-side, show store paths whole (default: hashes cut to 8 characters)",
    )
    parser.add_argument("--json", action="store_true", help="print the diff as JSON")
    parser.add_argument(
        "--depth",
        type=_natural,
        default=DEFAULT_MAX_DEPTH,
        metavar="N",
        help=f"explain changed inputs N levels deep (default: {DEFAULT_MAX_DEPTH}; 0: none)",
    )
    parser.add_argument(
        "--context",
        type=_natural,
        default=DEFAULT_CONTEXT,
        metavar="N",
        help=f"unchanged lines shown around changes (default: {DEFAULT_CONTEXT})",
    )
    parser.add_argument(
        "--exit-code",
        action="store_true",
        help="exit with 1 when the outputs differ (0 when equivalent)",
    )
    add_store_option(parser)


def _natural(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more: {text}")
    return value


def locate(arg: str, store: str) -> tuple[str, str, Derivation]:
    """Find and read the ``.drv`` named on the command line.

    ``arg`` is a file anywhere, or a store path whose file is in ``store``.

    Returns:
        ``(physical file, logical store path, derivation)``.

    Raises:
        StoreError: there is no such file.
        DerivationError: the file cannot be read or is malformed.
    """
    file = arg
    if not os.path.exists(arg) and is_store_path(arg):
        candidate = os.path.join(store, os.path.basename(arg))
        if os.path.exists(candidate):
            file = candidate
    if not os.path.exists(file):
        # Said like the other commands do, not as a parse error at line 1, column 1.
        where = f", and not in the store {store}" if is_store_path(arg) else ""
        raise StoreError(f"{arg}: no such file{where}")
    base = os.path.basename(file)
    named = is_store_path("/" + base) and base.endswith(".drv")
    drv = read_derivation(file, ("/x/" + base) if named else None)
    logical_dir = _logical_dir(drv)
    if named:
        return file, f"{logical_dir}/{base}", drv
    # Not named like a store item (e.g. ``old.drv``): take the name from the
    # output path and compute the path this derivation has in the store.
    out = drv.output_path("out") or ""
    if is_store_path(out):
        drv = drv.evolve(name=Derivation.name_from_path(out + ".drv"))
    return file, drv_path(drv, logical_dir), drv


def _logical_dir(drv: Derivation) -> str:
    """The store directory written inside ``drv``'s paths."""
    for path in (
        *(o.path for o in drv.outputs),
        *drv.input_drv_paths,
        *drv.input_srcs,
    ):
        if is_store_path(path):
            return store_dir_of(path)
    return DEFAULT_STORE_DIR


def directory_lookup(directories: Sequence[str]) -> Callable[[str], Derivation | None]:
    """A lookup reading ``<dir>/<base name>`` from the first directory that has it.

    A store path names one content, so the first copy found is the right one.
    """
    dirs = list(dict.fromkeys(directories))
    cache: dict[str, Derivation | None] = {}

    def lookup(path: str) -> Derivation | None:
        if path not in cache:
            cache[path] = None
            base = os.path.basename(path)
            for directory in dirs:
                file = os.path.join(directory, base)
                if os.path.isfile(file):
                    cache[path] = read_derivation(file, path)
                    break
        return cache[path]

    return lookup


def run(args: argparse.Namespace) -> int:
    """Compare ``args.old`` with ``args.new`` and print the differences."""
    store = str(args.store)
    old_file, old_path, old = locate(args.old, store)
    new_file, new_path, new = locate(args.new, store)
    lookup = directory_lookup(
        [os.path.dirname(os.path.abspath(f)) for f in (old_file, new_file)] + [store]
    )
    diff = diff_derivations(old_path, old, new_path, new, lookup, lookup, max_depth=args.depth)
    if args.json:
        print_json(diff_as_dict(diff))
    else:
        print_diff(
            diff,
            columns=args.side_by_side,
            context=args.context,
            full_paths=args.full_paths,
        )
    if args.exit_code and not diff.equivalent:
        return 1
    return 0


def print_diff(
    diff: DerivationDiff,
    *,
    columns: bool = False,
    context: int = DEFAULT_CONTEXT,
    full_paths: bool = False,
) -> None:
    """Print ``diff`` on standard output (also used by ``rewrite --diff``).

    Unified, or in two columns with ``columns`` (store hashes cut to 8
    characters unless ``full_paths``); styled on a terminal, plain text with
    markers when piped.
    """
    rows = side_by_side(diff, context=context, short_hashes=columns and not full_paths)
    if columns:
        _print_columns(rows)
    else:
        _print_unified(rows)


def _style(segment: Segment, old_side: bool) -> str:
    if segment.tag is Tag.CHANGED_WORD:
        return "red underline" if old_side else "green underline"
    return _STYLES.get(segment.tag, "")


def _text(marker: str, segments: Sequence[Segment], old_side: bool) -> Text:
    text = Text(no_wrap=False, overflow="fold")
    if marker:
        text.append(marker, _MARKER_STYLES.get(marker, ""))
        text.append(" ")
    for segment in segments:
        text.append(segment.text, _style(segment, old_side))
    return text


def _print_unified(rows: Sequence[Row]) -> None:
    lines = unified_lines(rows)
    if not is_terminal():
        sys.stdout.writelines(line_text(line) + "\n" for line in lines)
        return
    out = console()
    for line in lines:
        out.print(_text(line.marker, line.segments, not line.marker.startswith("+")))


def _print_columns(rows: Sequence[Row]) -> None:
    if is_terminal():
        out = console()
    else:
        width = shutil.get_terminal_size((_PIPE_WIDTH, 24)).columns
        out = Console(highlight=False, no_color=True, width=width)
    grid = Table.grid(expand=True, padding=(0, 1))
    grid.add_column(width=3, no_wrap=True)
    grid.add_column(ratio=1, overflow="fold")
    grid.add_column(width=3, no_wrap=True)
    grid.add_column(ratio=1, overflow="fold")
    for row in rows:
        left_marker, right_marker = SIDE_MARKERS[row.kind]
        grid.add_row(
            Text(left_marker, _MARKER_STYLES.get(left_marker, "")),
            _text("", row.left, True),
            Text(right_marker, _MARKER_STYLES.get(right_marker, "")),
            _text("", row.right, False),
        )
    if is_terminal():
        out.print(grid)
        return
    # Plain text: no padding left at the end of lines.
    with out.capture() as captured:
        out.print(grid)
    sys.stdout.writelines(line.rstrip() + "\n" for line in captured.get().splitlines())
