"""The ``guix-revive`` command line.

``guix-revive [ROOT.drv…]`` opens the app; ``guix-revive COMMAND …`` runs a
report command (``show``, ``verify``, ``why``…) without importing Textual.
Each command lives in its own module of this package, which provides
``add_parser(subparsers)`` and ``run(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from revive.core.errors import ReviveError
from revive.tui.cli.common import HelpFormatter

__all__ = ["main", "COMMANDS"]

COMMANDS: tuple[str, ...] = (
    "audit",
    "diff",
    "env",
    "export",
    "fetch",
    "fods",
    "rewrite",
    "show",
    "verify",
    "why",
)
"""Report commands, each a module ``revive.tui.cli.<name>``."""


def _command_module(name: str) -> ModuleType:
    return importlib.import_module(f"revive.tui.cli.{name}")


class _VersionAction(argparse.Action):
    """``--version``, reading the installed metadata only when asked (it is slow)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        parser.exit(message=f"{parser.prog} {_version()}\n")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser of the report commands (the app has its own, in ``app_command``).

    Args:
        only: build just this command's subparser, so that running one
            command does not import the modules of all the others.
    """
    parser = argparse.ArgumentParser(
        prog="guix-revive",
        usage="guix-revive [ROOT.drv…] [app options]\n       guix-revive COMMAND …",
        description="Browse, verify, rewrite and re-fetch past Guix derivation graphs.\n"
        "With no COMMAND, open the interactive app on ROOT.drv… (with none: the bundled\n"
        "demo environment).",
        epilog=None if only else _app_epilog(),
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action=_VersionAction)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", prog="guix-revive")
    for name in COMMANDS if only is None else (only,):
        _command_module(name).add_parser(subparsers)
    if only is None:
        # Listed for --help only: the app parses its own command line.
        app = parser.add_argument_group("app options (guix-revive [ROOT.drv…] [app options])")
        _command_module("app_command").add_app_options(app)
    return parser


def _app_epilog() -> str:
    from revive.core.demo.generate import default_demo_dir

    demo = default_demo_dir()
    return (
        "The demo environment is generated on first use, with the sources it fetches, in\n"
        f"  {demo}\n"
        f"(its .drv files, for the commands, in {demo / 'store'}).\n"
        "guix-revive -C FILE | --commit C, -m FILE | SPEC…: open an environment that\n"
        "the installed Guix lowers (the options of guix-revive env).\n"
        "Each COMMAND has its own help: guix-revive COMMAND --help."
    )


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("guix-revive")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    Expected failures (a bad file, a missing store item) print one line on
    standard error and return 2; no traceback.
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        if args_list and (
            args_list[0] in COMMANDS or args_list[0] in ("-h", "--help", "--version")
        ):
            command = args_list[0] if args_list[0] in COMMANDS else None
            parser = build_parser(only=command)
            args = parser.parse_args(args_list)
            if args.command is None:
                parser.print_help()
                return 0
            status: int = _command_module(args.command).run(args)
            return status
        return int(_command_module("app_command").run_app(args_list, COMMANDS))
    except ReviveError as err:
        print(f"guix-revive: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("guix-revive: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `guix-revive show … | head`: the reader left; not an error.
        return 0
