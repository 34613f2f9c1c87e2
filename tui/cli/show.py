"""``guix-revive show [--format=text|recutils|json|drv] DRV…``: print derivations.

``text`` is a readable record (rich on a terminal, plain when piped),
``recutils`` the same record in strict GNU recutils syntax (``recsel -P
inputs``), ``json`` the shape of ``nix show-derivation``, and ``drv`` the
``Derive(...)`` term written again (byte-identical to a canonical file).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from rich.text import Text

from revive.core.aterm import parse_derivation_bytes, serialize_derivation
from revive.core.derivation import Derivation
from revive.core.errors import MissingStoreItem, StoreError
from revive.core.record import (
    Field,
    record_fields,
    render_recutils,
    render_text,
    show_derivation_json,
)
from revive.core.store_dir import StoreDir
from revive.tui.cli.common import HelpFormatter, add_store_option, console, is_terminal, print_json
from revive.tui.cli.loading import open_store

__all__ = ["add_parser", "run"]

FORMATS = ("text", "recutils", "json", "drv")

_EPILOG = """\
exit status:
  0  printed
  2  a DRV cannot be read or is not a derivation
"""


def add_parser(subparsers: Any) -> None:
    """Register ``show``."""
    parser = subparsers.add_parser(
        "show",
        help="print derivations as readable records, recutils, JSON or .drv text",
        description="Print derivations: a readable record (text), GNU recutils (for recsel), "
        "JSON shaped like nix show-derivation, or the Derive(...) term written again (drv).",
        epilog=_EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="text (default), recutils (for recsel), json (like nix show-derivation), "
        "drv (the Derive(...) term)",
    )
    add_store_option(parser)
    parser.add_argument("drvs", nargs="+", metavar="DRV", help=".drv store path, file or name")


def read_one(store: StoreDir, arg: str) -> tuple[str, Derivation]:
    """The logical path and the parsed derivation a ``DRV`` argument names."""
    path = store.resolve_root(arg)
    if os.path.isfile(arg):
        file = arg
        with open(arg, "rb") as handle:
            data = handle.read()
    else:
        file = store.physical_file(path)
        try:
            data = store.read_bytes(path)
        except MissingStoreItem:
            raise StoreError(f"{arg}: not in the store (looked for {file})") from None
    return path, parse_derivation_bytes(data, file, Derivation.name_from_path(path))


def run(args: argparse.Namespace) -> int:
    """Print each derivation in the chosen format."""
    store = open_store(args.store, args.drvs)
    items = [read_one(store, arg) for arg in args.drvs]
    if args.format == "json":
        print_json(show_derivation_json(items))
    elif args.format == "drv":
        sys.stdout.flush()
        out = sys.stdout.buffer
        for index, (_, drv) in enumerate(items):
            if index:
                out.write(b"\n")
            out.write(serialize_derivation(drv).encode())
        out.flush()
    elif args.format == "recutils":
        sys.stdout.write("\n".join(render_recutils(path, drv) for path, drv in items))
    elif is_terminal():
        rich = console()
        for index, (path, drv) in enumerate(items):
            if index:
                rich.print()
            rich.print(styled_record(record_fields(path, drv)))
    else:
        sys.stdout.write("\n".join(render_text(path, drv) for path, drv in items))
    return 0


def styled_record(fields: tuple[Field, ...]) -> Text:
    """The text record with Rich styles (field names, output names, hashes, keys)."""
    text = Text()
    for field in fields:
        text.append(f"{field.name}:", style="bold")
        if field.value is not None:
            style = "yellow" if field.name in ("hash", "hash_algo") else ""
            text.append(" ")
            text.append(field.value, style=style)
            text.append("\n")
            continue
        text.append("\n")
        width = max((len(e.text) for e in field.entries if e.note), default=0)
        for entry in field.entries:
            text.append("+ ", style="dim")
            if entry.value is not None:
                text.append(entry.text, style="cyan")
                text.append(": ")
                indent = " " * (len(entry.text) + 4)
                text.append(entry.value.replace("\n", "\n" + indent))
            elif entry.note:
                text.append(entry.text.ljust(width + 3))
                text.append(entry.note, style="green")
            else:
                text.append(entry.text)
            text.append("\n")
    text.rstrip()
    return text
