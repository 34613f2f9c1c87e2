"""Shared by the commands that read ``.drv`` files: the store, the roots, the cache.

Not a command itself (it is not listed in ``COMMANDS``).
"""

from __future__ import annotations

import argparse
import os
import sys

from revive.core.cache import DerivationCache
from revive.core.closure import LoadProgress, load_closure
from revive.core.graph import DerivationGraph
from revive.core.store_dir import StoreDir
from revive.core.store_path import DEFAULT_STORE_DIR

__all__ = ["add_cache_option", "open_store", "resolve_roots", "load_graph"]


def add_cache_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--no-cache`` (re-read every ``.drv`` file, neither use nor update the cache)."""
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="read every .drv file again instead of re-opening the closure from the cache "
        "(the cache is neither read nor written)",
    )


def open_store(store_arg: str, drv_args: list[str]) -> StoreDir:
    """The store named by ``--store``.

    When ``--store`` was left at its default and that directory does not
    exist here, a ``.drv`` file given by its file name is read from the
    directory it is in (a copy of some store items), so ``guix-revive show
    ./x-hello.drv`` works on a machine without ``/gnu/store``.
    """
    if store_arg == DEFAULT_STORE_DIR and not os.path.isdir(store_arg):
        for arg in drv_args:
            if os.path.isfile(arg):
                return StoreDir.open(os.path.dirname(os.path.abspath(arg)))
    return StoreDir.open(store_arg)


def resolve_roots(store: StoreDir, args: list[str]) -> list[str]:
    """Logical ``.drv`` paths for the user's arguments (see ``StoreDir.resolve_root``)."""
    return [store.resolve_root(arg) for arg in args]


def load_graph(store: StoreDir, roots: list[str], *, use_cache: bool) -> DerivationGraph:
    """Load the closure of ``roots``, with a transient progress bar on a terminal."""
    cache = DerivationCache() if use_cache else None
    if not sys.stderr.isatty():
        return load_closure(roots, store, cache=cache)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("loading derivations"),
        BarColumn(),
        MofNCompleteColumn(),
        transient=True,
        console=None,
    ) as bar:
        task = bar.add_task("load", total=None)

        def report(step: LoadProgress) -> None:
            bar.update(task, completed=step.done, total=step.discovered)

        return load_closure(roots, store, cache=cache, progress=report)
