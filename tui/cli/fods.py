"""``guix-revive fods [--method M] [--json] ROOT.drv…``: every FOD of a closure.

One row per fixed-output derivation (source download or checkout) of the
roots' closure: name, fetch method, era, what it fetches (URL, or URL and
commit/revision), expected hash (nix-base32), output path, and whether the
output is already there (in the store directory, or in guix-revive's own
stores: what `fetch` and the app fetched). A Rich table on a terminal;
tab-separated lines with a header when piped; ``--json`` for programs.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rich.table import Table
from rich.text import Text

from revive.core import base32
from revive.core.derivation import Derivation
from revive.core.fetch.classify import Classification
from revive.core.fetch.extract import read_fetch_spec
from revive.core.fetch.spec import FetchMethod, FetchSpec, describe_source, spec_parameters
from revive.core.graph import DerivationGraph
from revive.core.store_dir import StoreDir
from revive.core.store_path import hash_part
from revive.core.stores.embedded import META_DIR, EmbeddedStore, default_store_root
from revive.tui.cli.common import HelpFormatter, add_store_option, console, is_terminal, print_json
from revive.tui.cli.loading import load_roots, open_store

__all__ = ["add_parser", "run", "FodRow", "fod_rows", "METHOD_CHOICES"]

METHOD_CHOICES: tuple[str, ...] = (
    *(str(m) for m in FetchMethod if m not in (FetchMethod.URL_TARBOMB, FetchMethod.URL_ZIPBOMB)),
    "url-fetch/executable",
)
"""Values accepted by ``--method`` (``url-fetch`` includes ``url-fetch/executable``)."""

_EPILOG = """\
exit status:
  0  the table was printed (whatever the FODs)
  2  a root cannot be read

columns: NAME, METHOD, ERA, SOURCE (URL, or URL @ commit), HASH (nix-base32,
with r: for a recursive hash), OUTPUT, PRESENT (yes/no: the output is in
the store directory)
"""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``fods`` command."""
    parser = subparsers.add_parser(
        "fods",
        help="list every fixed-output derivation (source) of a closure",
        description="List every fixed-output derivation of the closure of the roots: how "
        "and in which era it fetches, what, with which hash, and whether its output is "
        "already in the store.",
        epilog=_EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("roots", nargs="+", metavar="ROOT.drv", help="root derivations")
    parser.add_argument(
        "--method",
        action="append",
        choices=METHOD_CHOICES,
        metavar="M",
        help="only FODs fetched with method M (repeatable): " + ", ".join(METHOD_CHOICES),
    )
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    add_store_option(parser)


@dataclass(frozen=True, slots=True)
class FodRow:
    """One line of the table."""

    drv_path: str
    """The FOD's ``.drv`` path."""
    derivation: Derivation
    """The FOD."""
    classification: Classification
    """How it fetches, and in which era."""
    spec: FetchSpec | None
    """What it fetches, or ``None`` if that cannot be extracted."""
    error: str
    """Why the spec is missing (one line), else ``""``."""
    present: bool
    """True if its output is in the store directory or in guix-revive's own stores."""

    @property
    def source(self) -> str:
        """What it fetches, in one line (or the error)."""
        return describe_source(self.spec) if self.spec is not None else f"? {self.error}"

    @property
    def nix32(self) -> str:
        """The expected digest in nix-base32 (as written if it is not hex)."""
        digest = self.derivation.outputs[0].hash
        try:
            return base32.encode(bytes.fromhex(digest))
        except ValueError:
            return digest

    @property
    def hash_text(self) -> str:
        """``[r:]algorithm:nix32``, e.g. ``sha256:0ssi1w…``."""
        return f"{self.derivation.outputs[0].hash_algo}:{self.nix32}"


def fetched_outputs(store: StoreDir, paths: Iterable[str]) -> frozenset[str]:
    """Which of ``paths`` guix-revive's own stores hold: the default embedded
    store (``guix-revive fetch``) and, for the demo, its ``fetched`` store (the app's).

    Only stores that exist are read; nothing is created.
    """
    wanted = list(paths)
    roots = {default_store_root(), store.physical.parent / "fetched"}
    found: set[str] = set()
    for root in roots:
        if (root / META_DIR / "db.sqlite").is_file():
            found |= EmbeddedStore(root, store_dir=store.logical).query_valid(wanted)
    return frozenset(found)


def fod_rows(graph: DerivationGraph, store: StoreDir) -> list[FodRow]:
    """A row for every FOD of ``graph``, sorted by name then path.

    An output is present when it is in the store directory or in one of
    guix-revive's own stores (:func:`fetched_outputs`).
    """
    fods = {path: drv for path, drv in graph.derivations.items() if drv.is_fixed_output}
    fetched = fetched_outputs(store, (drv.outputs[0].path for drv in fods.values()))
    rows = []
    for path, drv in fods.items():
        found, spec, error = read_fetch_spec(drv, store.read_bytes, path=path)
        output = drv.outputs[0].path
        present = output in fetched or store.exists(output)
        rows.append(FodRow(path, drv, found, spec, error, present))
    rows.sort(key=lambda row: (row.derivation.name, row.drv_path))
    return rows


def _wanted(row: FodRow, methods: Sequence[str] | None) -> bool:
    if not methods:
        return True
    label = row.classification.label
    return label in methods or (label == "url-fetch/executable" and str(FetchMethod.URL) in methods)


def run(args: argparse.Namespace) -> int:
    """List the FODs of the closure of ``args.roots``."""
    store = open_store(args.store, args.roots)
    _, graph = load_roots(store, args.roots, use_cache=False)
    rows = [row for row in fod_rows(graph, store) if _wanted(row, args.method)]
    if args.json:
        print_json([_as_dict(row) for row in rows])
        return 0
    if is_terminal():
        _print_table(rows)
    else:
        _print_plain(rows)
    _print_summary(rows, graph)
    return 0


def _as_dict(row: FodRow) -> dict[str, object]:
    found = row.classification
    out = row.derivation.outputs[0]
    entry: dict[str, object] = {
        "drv": row.drv_path,
        "name": row.derivation.name,
        "method": str(found.method),
        "label": found.label,
        "era": found.era,
        "era_description": found.era_description,
        "reason": found.reason,
        "source": row.source if row.spec is not None else None,
        "hash_algo": out.hash_algo,
        "hash": row.nix32,
        "hash_hex": out.hash,
        "recursive": out.recursive,
        "output": out.path,
        "present": row.present,
        "error": row.error or None,
    }
    if row.spec is not None:
        entry.update(spec_parameters(row.spec))
    return entry


def _print_table(rows: Sequence[FodRow]) -> None:
    table = Table(title=None, header_style="bold", pad_edge=False, expand=False)
    table.add_column("name", overflow="fold")
    table.add_column("method")
    table.add_column("era")
    table.add_column("source", overflow="fold", ratio=3)
    # Hashes are cut on a terminal (the name says which item it is); the
    # whole values are in the piped and JSON outputs.
    table.add_column("hash", no_wrap=True, overflow="ellipsis", max_width=22)
    table.add_column("output", no_wrap=True, overflow="ellipsis", max_width=10)
    table.add_column("present")
    for row in rows:
        known = row.spec is not None
        table.add_row(
            row.derivation.name,
            Text(row.classification.label, "" if known else "bold red"),
            row.classification.era,
            Text(row.source, "" if known else "red"),
            row.hash_text,
            Text(hash_part(row.derivation.outputs[0].path), "dim"),
            Text("yes", "green") if row.present else Text("no", "yellow"),
        )
    console().print(table)


def _print_plain(rows: Sequence[FodRow]) -> None:
    out = sys.stdout
    out.write("name\tmethod\tera\tsource\thash\toutput\tpresent\n")
    for row in rows:
        fields = (
            row.derivation.name,
            row.classification.label,
            row.classification.era,
            row.source,
            row.hash_text,
            row.derivation.outputs[0].path,
            "yes" if row.present else "no",
        )
        out.write("\t".join(f.replace("\t", " ").replace("\n", " ") for f in fields) + "\n")


def _print_summary(rows: Sequence[FodRow], graph: DerivationGraph) -> None:
    """Counts by method and era; on standard error unless on a terminal (keeps pipes clean)."""
    counts = Counter(f"{row.classification.label} ({row.classification.era})" for row in rows)
    present = sum(row.present for row in rows)
    text = (
        f"{len(rows)} fixed-output derivation{'s' if len(rows) != 1 else ''}"
        + (": " + ", ".join(f"{n} {label}" for label, n in counts.most_common()) if rows else "")
        + f"; {present} already in the store"
    )
    missing = len(graph.problems)
    if missing:
        text += f"; {missing} derivation{'s' if missing != 1 else ''} of the closure unreadable"
    if is_terminal():
        console().print(Text(text, "dim"))
    else:
        print(text, file=sys.stderr)
