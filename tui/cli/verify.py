"""``guix-revive verify [--store DIR] ROOT.drv…``: check a closure's paths.

Loads the closure, recomputes every node's own ``.drv`` path and every output
path, prints each mismatch and, last, ``N derivations, F fixed-output, M
mismatches, K missing``. Exit status 1 when anything does not match.

The report of a closure verified before is kept in the cache with the state
(``stat``) of every file of the closure, and printed again without loading
anything while none of them changed (the same content gives the same
verdict); otherwise the closure is re-opened from the cache when another
command loaded it before (a ``.drv`` never changes once it has its path) and
hashed. ``verify`` itself writes no closure to the cache: its report is
what it keeps, and writing a closure costs a third of loading it.
``--rehash`` hashes again, ``--no-cache`` reads every file again too.

Only what the command needs is imported up front: reusing a kept report
costs little more than starting Python and one ``stat`` per file.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from revive.core.result_cache import ResultCache
from revive.core.verify_report import VerifyReport
from revive.tui.cli.common import HelpFormatter, add_store_option, console, is_terminal, print_json
from revive.tui.cli.loading import add_cache_option, load_roots, open_store, resolve_roots

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
    since = time.time_ns()
    store = open_store(args.store, args.roots)
    results = None if args.no_cache else ResultCache()
    report = None
    if results is not None and not args.rehash:
        roots = tuple(dict.fromkeys(resolve_roots(store, args.roots)))
        report = VerifyReport.from_plain(results.load(store, roots, "verify"))
        if report is not None:
            # Said on stderr so that the report itself (and its last line)
            # stays the same; an auditor must know nothing was hashed now.
            print(
                "guix-revive: no file of this closure changed since it was verified: "
                "report reused (--rehash hashes again, --no-cache also re-reads every file)",
                file=sys.stderr,
            )
    if report is not None:
        print_any(report, as_json=args.json)
        return 0 if report.ok else 1
    from revive.core.cache import DerivationCache
    from revive.core.closure import LoadOnly
    from revive.core.load_worker import FileState
    from revive.core.verify import verify_graph

    # The bytes the loader reads are hashed as they are, not read twice, and
    # the report is kept with the state each file had when it was read. A
    # closure pack written by another command is used; none is written here
    # (the report is what is kept), and the report is printed before it is kept.
    texts: dict[str, bytes] = {}
    states: dict[str, FileState] = {}
    given, graph = load_roots(
        store,
        args.roots,
        use_cache=not args.no_cache,
        texts=texts,
        states=states,
        cache=LoadOnly(DerivationCache()),
    )
    report = verify_graph(graph, store=store, texts=texts)
    del texts
    print_any(report, as_json=args.json)
    sys.stdout.flush()
    if results is not None:
        roots = tuple(dict.fromkeys(given))
        results.save(store, roots, "verify", report.to_plain(), list(graph), since, states)
    return 0 if report.ok else 1


def print_any(report: VerifyReport, *, as_json: bool) -> None:
    """The report as JSON or as text."""
    if as_json:
        print_json(report_json(report))
    else:
        print_report(report)


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
    if not is_terminal() and _print_plain(report):
        return
    from rich.text import Text

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


def _print_plain(report: VerifyReport) -> bool:
    """The report as :func:`print_report` writes it when piped, without Rich.

    False (nothing written) if a line holds a character Rich would render
    differently (a tab, a control character): then Rich prints it.
    """
    lines = [str(m) for m in report.mismatches]
    lines += [f"{path}: missing" for path in report.missing]
    if report.unchecked:
        lines.append(
            f"{len(report.unchecked)} derivations could not have their outputs checked "
            "(an input is missing)"
        )
    lines.append(report.summary())
    if not all(line.isprintable() for line in lines):
        return False
    sys.stdout.write("".join(line + "\n" for line in lines))
    return True
