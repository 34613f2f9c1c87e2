"""``guix-revive why [--store DIR] FROM.drv TARGET``: why FROM depends on TARGET.

Prints every shortest dependency path from FROM to each derivation matching
TARGET: a store path, or a name (``gmp-6.1.2``, or ``gmp`` for any
``gmp-<version>``). Each step shows the outputs of the next derivation that
are used. Exit status 1 when nothing in FROM's closure matches.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from rich.text import Text

from revive.core.graph import DerivationGraph
from revive.tui.cli.common import HelpFormatter, add_store_option, console, is_terminal, print_json
from revive.tui.cli.loading import add_cache_option, load_roots, open_store

__all__ = ["add_parser", "run"]

_EPILOG = """\
exit status:
  0  the paths were printed
  1  nothing in the closure of FROM matches TARGET
  2  FROM cannot be read
"""

DEFAULT_LIMIT = 20
"""Paths listed unless ``--all`` or ``--limit`` says otherwise (there can be millions)."""


def add_parser(subparsers: Any) -> None:
    """Register ``why``."""
    parser = subparsers.add_parser(
        "why",
        help="show the shortest dependency paths from a derivation to another",
        description="Print every shortest dependency path from FROM to the derivations "
        "matching TARGET: a store path, or a name (gmp-6.1.2, or gmp for any version).",
        epilog=_EPILOG,
        formatter_class=HelpFormatter,
    )
    add_store_option(parser)
    add_cache_option(parser)
    parser.add_argument("--json", action="store_true", help="print the paths as JSON")
    limits = parser.add_mutually_exclusive_group()
    limits.add_argument(
        "--limit",
        type=int,
        default=DEFAULT_LIMIT,
        metavar="N",
        help=f"list at most N paths (default {DEFAULT_LIMIT})",
    )
    limits.add_argument("--all", action="store_true", help="list every shortest path")
    parser.add_argument("source", metavar="FROM.drv", help="the derivation that depends")
    parser.add_argument("target", metavar="TARGET", help="store path or name depended upon")


def run(args: argparse.Namespace) -> int:
    """Print the paths; 1 when the target is not in the closure."""
    store = open_store(args.store, [args.source])
    (source,), graph = load_roots(store, [args.source], use_cache=not args.no_cache)
    limit = None if args.all else max(args.limit, 0)
    paths = graph.why(source, args.target, limit=limit)
    total = graph.count_why(source, args.target)
    below = graph.closure(source)
    matches = [p for p in graph.find(args.target) if p in below]
    if args.json:
        print_json(
            {
                "from": source,
                "target": args.target,
                "matches": matches,
                "count": total,
                "paths": [list(p) for p in paths],
            }
        )
        return 0 if total else 1
    if not total:
        where = (
            "is not a dependency of"
            if graph.find(args.target)
            else "matches no derivation in the closure of"
        )
        print(f"guix-revive: {args.target} {where} {source}", file=sys.stderr)
        return 1
    print_paths(graph, paths, total, len(matches), args.target)
    return 0


def print_paths(
    graph: DerivationGraph,
    paths: tuple[tuple[str, ...], ...],
    total: int,
    matches: int,
    target: str,
) -> None:
    """Each path as its first node, then one indented line per step with outputs used."""
    out = console()
    rich = is_terminal()
    for index, path in enumerate(paths):
        if index:
            out.print()
        out.print(Text(path[0], style="bold" if rich else ""))
        for parent, child in zip(path, path[1:], strict=False):
            outputs = next((outs for p, outs in graph.inputs(parent) if p == child), ())
            line = Text("  → " if rich else "  -> ")
            line.append(child, style="bold" if rich and child == path[-1] else "")
            line.append(f" [{','.join(outputs)}]", style="green" if rich else "")
            out.print(line)
    summary = (
        f"{total} shortest path{'s' if total != 1 else ''} to "
        f"{matches} derivation{'s' if matches != 1 else ''} matching {target}"
    )
    if len(paths) < total:
        summary += f"; {len(paths)} shown (--all to list every one)"
    out.print()
    out.print(Text(summary, style="dim" if rich else ""))
