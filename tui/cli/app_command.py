"""``guix-revive [ROOT.drv…]``: open the Textual app."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from revive.core.store_path import DEFAULT_STORE_DIR
from revive.tui.cli.env import add_lowering_options, lowering_request, wants_lowering
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
    # -C/-m…: lower with Guix first; ROOT arguments are then package specs.
    add_lowering_options(parser)
    parser.add_argument(
        "--demo-serve",
        action="store_true",
        help="with the demo: serve its sources on loopback so that fetching works offline",
    )
    return parser


def plan_from_args(args: argparse.Namespace) -> LoadPlan:
    """The :class:`~revive.tui.session.LoadPlan` the arguments ask for."""
    # With no root there is nothing of the user's to open (whether or not a
    # Guix store exists): the demo is more useful than an error.
    lowering = lowering_request(args, args.roots) if wants_lowering(args) else None
    demo = bool(args.demo or args.demo_serve or (not args.roots and lowering is None))
    return LoadPlan(
        roots=() if lowering is not None else tuple(args.roots),
        lowering=lowering,
        store=args.store,
        backend=args.backend,
        demo=demo,
        demo_serve=bool(args.demo_serve),
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
