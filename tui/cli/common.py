"""Helpers shared by the report commands: options, output, one-line errors."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rich.console import Console

from revive.core.store_path import DEFAULT_STORE_DIR

__all__ = ["add_store_option", "console", "is_terminal", "print_json"]


def add_store_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--store DIR`` (where the ``.drv`` files physically are)."""
    parser.add_argument(
        "--store",
        metavar="DIR",
        default=DEFAULT_STORE_DIR,
        help=f"store directory holding the .drv files (default: {DEFAULT_STORE_DIR}); "
        "may be a plain copy of some store items anywhere",
    )


def is_terminal() -> bool:
    """True when standard output is a terminal (rich output), else plain text."""
    return sys.stdout.isatty()


def console() -> Console:
    """A Rich console on standard output; plain (no colour, no wrapping) when piped."""
    if is_terminal():
        return Console(highlight=False)
    return Console(highlight=False, no_color=True, soft_wrap=True, width=10_000)


def print_json(value: Any) -> None:
    """Print ``value`` as indented JSON on standard output."""
    json.dump(value, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
