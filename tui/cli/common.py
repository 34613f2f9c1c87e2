"""Helpers shared by the report commands: options, output, one-line errors."""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from revive.core.errors import ReviveError
from revive.core.store_path import DEFAULT_STORE_DIR

if TYPE_CHECKING:
    from rich.console import Console

__all__ = [
    "HelpFormatter",
    "add_store_option",
    "console",
    "is_terminal",
    "print_json",
    "store_directory",
    "store_given",
]

STORE_HELP = (
    "directory holding the .drv files: a store, or a plain copy of some store items "
    f"anywhere (default: the directory of the first .drv file given, else {DEFAULT_STORE_DIR})"
)
"""The help of ``--store``, the same for the app and every command."""


class HelpFormatter(argparse.HelpFormatter):
    """Wraps prose paragraphs to the terminal; keeps lists (indented lines) as written.

    argparse either wraps everything (an exit-status table becomes one line)
    or nothing (a long description runs off the screen).
    """

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        paragraphs = []
        for paragraph in text.strip("\n").split("\n\n"):
            lines = paragraph.splitlines()
            if any(line.startswith(" ") for line in lines):
                paragraphs.append("\n".join(indent + line for line in lines))
            else:
                paragraphs.append(
                    textwrap.fill(
                        " ".join(lines), width, initial_indent=indent, subsequent_indent=indent
                    )
                )
        return "\n\n".join(paragraphs)


class _DefaultStore(str):
    """The default of ``--store``: the default store directory, marked as not given.

    A plain ``str`` to code that opens ``args.store`` as it is; to
    :func:`store_directory` it says that the ``.drv`` arguments may tell
    where the store is instead.
    """

    __slots__ = ()


def add_store_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--store DIR`` (where the ``.drv`` files physically are)."""
    parser.add_argument(
        "--store", metavar="DIR", default=_DefaultStore(DEFAULT_STORE_DIR), help=STORE_HELP
    )


def store_given(store_arg: str | None) -> bool:
    """True when ``--store`` was on the command line (not its default, not absent)."""
    return store_arg is not None and not isinstance(store_arg, _DefaultStore)


def store_directory(store_arg: str | None, drv_args: Sequence[str]) -> str:
    """The directory to read ``.drv`` files from, for ``--store`` and the ``.drv`` arguments.

    ``--store`` when given; else the directory of the ``.drv`` arguments that
    are files (``x.drv``, ``copy/…-hello.drv``, ``/gnu/store/…-hello.drv``), so
    that a copy of some store items anywhere needs no ``--store``; else (only
    store names or logical paths given) the default store directory.

    Raises:
        ReviveError: files given from two directories, without ``--store``.
    """
    if store_arg is not None and store_given(store_arg):
        return store_arg
    files = [arg for arg in drv_args if os.path.isfile(arg)]
    directories = list(dict.fromkeys(os.path.dirname(os.path.abspath(f)) for f in files))
    if len(directories) > 1:
        first, other = (
            files[0],
            next(f for f in files if os.path.dirname(os.path.abspath(f)) != directories[0]),
        )
        raise ReviveError(
            f"{first}, {other}: .drv files in different directories; "
            "say which one holds the store items with --store DIR"
        )
    return directories[0] if directories else DEFAULT_STORE_DIR


def is_terminal() -> bool:
    """True when standard output is a terminal (rich output), else plain text."""
    return sys.stdout.isatty()


def console() -> Console:
    """A Rich console on standard output; plain (no colour, no wrapping) when piped."""
    from rich.console import Console  # here: Rich is slow to import, and a report may not need it

    if is_terminal():
        return Console(highlight=False)
    return Console(highlight=False, no_color=True, soft_wrap=True, width=10_000)


def print_json(value: Any) -> None:
    """Print ``value`` as indented JSON on standard output."""
    import json

    json.dump(value, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
