"""``guix-revive verify [--store DIR] ROOT.drv…``: check a closure's paths.

Loads the closure, recomputes every node's own ``.drv`` path and every output
path, prints each mismatch and, last, ``N derivations, F fixed-output, M
mismatches, K missing``. Exit status 1 when anything does not match.

The closure is re-opened from the cache when it was loaded before (a ``.drv``
never changes once it has its path), and the report of a closure verified
before is kept with it (the same content gives the same verdict);
``--rehash`` hashes again, ``--no-cache`` reads every file again too.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from rich.text import Text

from revive.core.cache import DerivationCache
from revive.core.verify import VerifyReport, verify_graph
from revive.tui.cli.common import HelpFormatter, add_store_option, console, is_terminal, print_json
from revive.tui.cli.loading import add_cache_option, load_roots, open_store

__all__ = ["add_parser", "run"]

_EPILOG = """\
exit status:
  0  every path that could be checked matches (missing inputs are counted,
     and the outputs depending on them left unchecked)
  1  a mismatch (a malformed input is one)
  2  a root cannot be read
"""


def add_parser(subparsers: Any) -> None:
    """Register ``verify``."""
    parser = subparsers.add_parser(
        "verify",
        help="recompute every .drv path and output path of a closure",
        description="Recompute the .drv path and the output paths of every derivation of "
        "the closure of the roots, print each mismatch, and a summary last.",
        epilog=_EPILOG,
        formatter_class=HelpFormatter,
    )
    add_store_option(parser)
    add_cache_option(parser)
    parser.add_argument(
        "--rehash",
        action="store_true",
        help="hash every derivation again even if this very closure was verified before",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("roots", nargs="+", metavar="ROOT.drv", help="derivations to check")


def run(args: argparse.Namespace) -> int:
    """Verify the closure of the roots; 1 on any mismatch, else 0."""
    store = open_store(args.store, args.roots)
    given, graph = load_roots(store, args.roots, use_cache=not args.no_cache)
    roots = tuple(dict.fromkeys(given))
    cache = None if args.no_cache else DerivationCache()
    report = None
    if cache is not None and not args.rehash:
        report = VerifyReport.from_plain(cache.load_result(store, roots, "verify"))
        if report is not None:
            # Said on stderr so that the report itself (and its last line)
            # stays the same; an auditor must know nothing was hashed now.
            print(
                "guix-revive: this closure, as cached, was verified before: report reused "
                "(--rehash hashes again, --no-cache also re-reads every file)",
                file=sys.stderr,
            )
    if report is None:
        report = verify_graph(graph, store=store)
        if cache is not None:
            cache.save_result(store, roots, "verify", report.to_plain())
    if args.json:
        print_json(report_json(report))
    else:
        print_report(report)
    return 0 if report.ok else 1


def report_json(report: VerifyReport) -> dict[str, Any]:
    """The report as JSON-ready values."""
    return {
        "derivations": report.derivations,
        "fixed_output": report.fixed_output,
        "mismatches": [
            {
                "path": m.path,
                "kind": m.kind,
                "output": m.output,
                "found": m.found,
                "expected": m.expected,
            }
            for m in report.mismatches
        ],
        "missing": list(report.missing),
        "unchecked": [{"path": path, "why": why} for path, why in report.unchecked],
        "ok": report.ok,
    }


def print_report(report: VerifyReport) -> None:
    """Mismatches, missing files, then the summary as the last line."""
    out = console()
    rich = is_terminal()
    for mismatch in report.mismatches:
        out.print(Text(str(mismatch), style="red" if rich else ""))
    for path in report.missing:
        out.print(Text(f"{path}: missing", style="yellow" if rich else ""))
    if report.unchecked:
        out.print(
            Text(
                f"{len(report.unchecked)} derivations could not have their outputs checked "
                "(an input is missing)",
                style="yellow" if rich else "",
            )
        )
    style = ("bold green" if report.ok else "bold red") if rich else ""
    out.print(Text(report.summary(), style=style))
