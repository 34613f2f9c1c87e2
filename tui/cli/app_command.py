"""``guix-revive [ROOT.drv…]``: open the Textual app.

Only the argument handling is here: the options (shared with the top-level
``--help``), where the ``.drv`` files are, a mistyped command word, and the
refusal to start without a terminal. The app itself is ``revive.tui.app``.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, get_args

from revive.core.errors import ReviveError
from revive.core.fetch.url_map import UrlMap, read_url_map
from revive.core.stores.select import Backend
from revive.tui.cli.common import STORE_HELP, store_directory
from revive.tui.cli.env import add_lowering_options, lowering_request, wants_lowering

if TYPE_CHECKING:
    from revive.tui.session import LoadPlan

__all__ = ["run_app", "build_parser", "plan_from_args", "add_app_options", "check_root_words"]

NO_TERMINAL = (
    "guix-revive: error: the app needs a terminal (standard input and output); "
    "without one use a command (guix-revive --help)"
)
"""What ``guix-revive [ROOT.drv…]`` says when it is piped or scripted."""


def add_app_options(parser: Any) -> None:
    """The app's options, on its own parser or as a group of the top-level ``--help``."""
    parser.add_argument("--store", metavar="DIR", default=None, help=STORE_HELP)
    parser.add_argument(
        "--backend",
        choices=get_args(Backend),
        default="auto",
        help="what builds and fetches: guix-revive's own fetchers (embedded) or the Guix "
        "daemon (guix); auto: guix when it is on PATH",
    )
    parser.add_argument("--demo", action="store_true", help="open the bundled demo environment")
    parser.add_argument(
        "--demo-serve",
        action="store_true",
        help="open the demo and serve its sources on loopback, so that fetching works offline",
    )
    parser.add_argument(
        "--url-map",
        metavar="FILE",
        default=None,
        help="moved upstreams: lines 'OLD-URL NEW-URL' (an OLD ending in / is a prefix); "
        "rewrites fetch from the new place, the output hash is still checked",
    )


def build_parser() -> argparse.ArgumentParser:
    """The app's own command line."""
    parser = argparse.ArgumentParser(
        prog="guix-revive",
        description="Open the app on ROOT.drv… (with none: the bundled demo environment).",
        epilog="Report commands (show, verify, why…): guix-revive --help.",
    )
    parser.add_argument("roots", nargs="*", metavar="ROOT.drv", help="root derivations")
    add_app_options(parser)
    # -C/-m…: lower with Guix first; ROOT arguments are then package specs.
    add_lowering_options(parser)
    return parser


def check_root_words(roots: Sequence[str], commands: Sequence[str]) -> None:
    """Refuse what cannot be a ``.drv`` before any app starts.

    A word that is not a file and has no ``/`` and no ``.drv`` is taken for a
    mistyped command (``guix-revive shwo``) and answered with the closest
    command names; another argument that is not a ``.drv`` is named.

    Raises:
        ReviveError: a root that is neither a ``.drv`` nor an existing file.
    """
    for root in roots:
        if root.endswith(".drv"):
            continue
        if "/" in root or os.path.lexists(root):
            raise ReviveError(f"{root}: not a .drv file (expected <hash>-<name>.drv)")
        close = difflib.get_close_matches(root, commands, n=3, cutoff=0.6)
        hint = f": did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise ReviveError(
            f"unknown command {root!r}{hint} (commands: {', '.join(commands)}; "
            "or .drv files to open the app; see guix-revive --help)"
        )


def plan_from_args(args: argparse.Namespace) -> LoadPlan:
    """The :class:`~revive.tui.session.LoadPlan` the arguments ask for.

    The store is ``--store``, else the directory the ``.drv`` files given are
    in (no ``--store`` needed for a copy of some store items anywhere).
    """
    from revive.tui.session import LoadPlan

    # With no root there is nothing of the user's to open (whether or not a
    # Guix store exists): the demo is more useful than an error.
    lowering = lowering_request(args, args.roots) if wants_lowering(args) else None
    demo = bool(args.demo or args.demo_serve or (not args.roots and lowering is None))
    # Lowered roots name packages, not files: their store is --store (or Guix's own).
    store = args.store if demo or lowering is not None else store_directory(args.store, args.roots)
    return LoadPlan(
        roots=() if lowering is not None else tuple(args.roots),
        lowering=lowering,
        store=store,
        backend=args.backend,
        demo=demo,
        demo_serve=bool(args.demo_serve),
        url_map=read_url_map(args.url_map) if args.url_map else UrlMap(),
    )


def run_app(argv: Sequence[str], commands: Sequence[str] = ()) -> int:
    """Parse the app's arguments and run it; returns the exit status.

    Args:
        argv: the arguments after ``guix-revive``.
        commands: the report commands, suggested for a mistyped one.
    """
    args = build_parser().parse_args(list(argv))
    if not wants_lowering(args):
        check_root_words(args.roots, commands)
    plan = plan_from_args(args)
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        print(NO_TERMINAL, file=sys.stderr)
        return 2
    from revive.tui.app import ReviveApp

    if args.demo_serve and args.roots:
        print(
            "guix-revive: --demo-serve opens the demo; ignoring ROOT.drv arguments",
            file=sys.stderr,
        )
    ReviveApp(plan).run()
    return 0
