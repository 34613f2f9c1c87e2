"""``guix-revive export --to-guix ITEM…|ROOT.drv…``: hand fetched sources to the Guix store.

What guix-revive's embedded store fetched becomes valid in the Guix store
without fetching it again: each item is sent with ``add-to-store``, and the
daemon's own hash of it must give back the original output path. With
``ROOT.drv`` arguments, every source the closure needs is exported (the old
fetchers' own sources are not needed); a source in neither store is listed
as missing.
"""

from __future__ import annotations

import argparse

from revive.core.errors import ReviveError
from revive.core.store_dir import StoreDir
from revive.core.stores.embedded import EmbeddedStore, default_store_root
from revive.core.stores.guix import GuixStore
from revive.core.stores.guix_import import (
    ImportOutcome,
    ImportStatus,
    describe,
    export_closure,
    export_items,
)
from revive.tui.cli.common import add_store_option, console

__all__ = ["add_parser", "run"]

_EPILOG = """\
exit status:
  0  every item (every source the roots need) is valid in the Guix store
  1  some are missing or were refused
  2  bad arguments, or no guix program
"""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``export`` command."""
    parser = subparsers.add_parser(
        "export",
        help="hand sources fetched into the embedded store to the Guix store",
        description=__doc__.splitlines()[0].split(": ", 1)[1] if __doc__ else None,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "paths", nargs="+", metavar="ITEM|ROOT.drv", help="store items, or root derivations"
    )
    parser.add_argument(
        "--to-guix",
        action="store_true",
        required=True,
        help="the destination: the Guix daemon's store (through the guix command)",
    )
    add_store_option(parser)
    parser.add_argument(
        "--from",
        dest="source",
        metavar="DIR",
        default=None,
        help=f"the embedded store to export from (default: {default_store_root()})",
    )


def run(args: argparse.Namespace) -> int:
    """Export; 0 iff everything asked for is valid in the Guix store at the end."""
    copy = StoreDir.open(args.store)
    embedded = EmbeddedStore(args.source, store_dir=copy.logical, read_only=[copy])
    if not embedded.root.is_dir():
        raise ReviveError(f"{embedded.root}: no embedded store there (see --from)")
    guix = GuixStore(store_dir=copy.logical, read_only=[copy])
    roots = [p for p in args.paths if p.endswith(".drv")]
    items = [p for p in args.paths if not p.endswith(".drv")]
    outcomes: list[ImportOutcome] = []
    if items:
        outcomes.extend(export_items(embedded, guix, items))
    if roots:
        resolved = [copy.resolve_root(root) for root in roots]
        outcomes.extend(export_closure(embedded, guix, resolved, copy))
    out = console()
    counts = {status: 0 for status in ImportStatus}
    for outcome in outcomes:
        counts[outcome.status] += 1
        out.print(describe(outcome), markup=False, highlight=False)
    out.print(
        f"{len(outcomes)} items: {counts[ImportStatus.VALID]} already valid, "
        f"{counts[ImportStatus.IMPORTED]} imported, {counts[ImportStatus.MISSING]} missing, "
        f"{counts[ImportStatus.FAILED]} refused",
        markup=False,
        highlight=False,
    )
    ok = all(o.status in (ImportStatus.VALID, ImportStatus.IMPORTED) for o in outcomes)
    return 0 if ok else 1
