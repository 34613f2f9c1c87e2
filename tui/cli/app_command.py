"""``guix-revive [ROOT.drv…]``: open the Textual app."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from revive.core.fetch.url_map import UrlMap, read_url_map
from revive.core.store_path import DEFAULT_STORE_DIR
from revive.tui.session import LoadPlan

__all__ = ["run_app", "build_parser", "plan_from_args"]


def build_parser() -> argparse.ArgumentParser:
    """The app's own command line."""
    parser = argparse.ArgumentParser(
        prog="guix-revive",
        description="Open the app on ROOT.drv… (with none and no Guix store: the demo).",
        epilog="Report commands: guix-revive --help.",
    )
    parser.add_argument("roots", nargs="*", metavar="ROOT.drv", help="root derivations")
    parser.add_argument(
        "--store",
        metavar="DIR",
        default=None,
        help=f"directory holding the .drv files (default: {DEFAULT_STORE_DIR})",
    )
    parser.add_argument(
        "--backend",
        choices=("auto", "embedded", "guix"),
        default="auto",
        help="what builds and fetches: guix-revive's own fetchers or the Guix daemon",
    )
    parser.add_argument("--demo", action="store_true", help="open the bundled demo environment")
    parser.add_argument(
        "--demo-serve",
        action="store_true",
        help="with the demo: serve its sources on loopback so that fetching works offline",
    )
    parser.add_argument(
        "--url-map",
        metavar="FILE",
        default=None,
        help="moved upstreams: lines 'OLD-URL NEW-URL' (an OLD ending in / is a prefix); "
        "rewrites fetch from the new place, the output hash is still checked",
    )
    return parser


def plan_from_args(args: argparse.Namespace) -> LoadPlan:
    """The :class:`~revive.tui.session.LoadPlan` the arguments ask for."""
    # With no root there is nothing of the user's to open (whether or not a
    # Guix store exists): the demo is more useful than an error.
    demo = bool(args.demo or args.demo_serve or not args.roots)
    return LoadPlan(
        roots=tuple(args.roots),
        store=args.store,
        backend=args.backend,
        demo=demo,
        demo_serve=bool(args.demo_serve),
        url_map=read_url_map(args.url_map) if args.url_map else UrlMap(),
    )


def run_app(argv: Sequence[str]) -> int:
    """Parse the app's arguments and run it; returns the exit status."""
    args = build_parser().parse_args(list(argv))
    plan = plan_from_args(args)
    from revive.tui.app import ReviveApp

    if args.demo_serve and args.roots:
        print(
            "guix-revive: --demo-serve opens the demo; ignoring ROOT.drv arguments",
            file=sys.stderr,
        )
    ReviveApp(plan).run()
    return 0
