"""Shared by the commands that read ``.drv`` files: the store, the roots, the cache.

Not a command itself (it is not listed in ``COMMANDS``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from revive.core.errors import ReviveError, StoreError
from revive.core.store_dir import StoreDir
from revive.tui.cli.common import store_directory, store_given

if TYPE_CHECKING:
    # The loader is imported when a closure is loaded, not with this module:
    # `verify` reusing a kept report never loads one.
    from revive.core.closure import ClosureCache, LoadProgress
    from revive.core.demo.model import DemoEnvironment
    from revive.core.graph import DerivationGraph
    from revive.core.load_worker import FileState

__all__ = [
    "add_cache_option",
    "open_store",
    "resolve_roots",
    "load_roots",
    "open_demo",
    "check_roots",
]


def add_cache_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--no-cache`` (re-read every ``.drv`` file, neither use nor update the cache)."""
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="read every .drv file again instead of re-opening the closure from the cache "
        "(the cache is neither read nor written)",
    )


def open_store(store_arg: str | None, drv_args: Sequence[str]) -> StoreDir:
    """The store named by ``--store``, or the one the ``.drv`` arguments are in.

    See :func:`~revive.tui.cli.common.store_directory`. When neither says
    where the files are and there is no default store here, the error names
    the first argument (what the user typed), not only the store directory.
    """
    directory = store_directory(store_arg, drv_args)
    if not store_given(store_arg) and drv_args and not os.path.isdir(directory):
        raise StoreError(
            f"{drv_args[0]}: no such file, and no store at {directory} "
            "(give the file's path, or --store DIR)"
        )
    return StoreDir.open(directory)


def resolve_roots(store: StoreDir, args: Sequence[str]) -> list[str]:
    """Logical ``.drv`` paths for the user's arguments (see ``StoreDir.resolve_root``)."""
    return [store.resolve_root(arg) for arg in args]


def check_roots(
    graph: DerivationGraph, store: StoreDir, roots: Sequence[str], args: Sequence[str]
) -> None:
    """Raise for the first root that could not be read, naming the argument given for it.

    Raises:
        ReviveError: a root is missing or malformed (the commands exit with 2).
    """
    for root, arg in zip(roots, args, strict=True):
        problem = graph.problems.get(root)
        if problem is None:
            continue
        if not graph.node(root).malformed:
            raise StoreError(f"{arg}: not in the store (looked for {store.physical_file(root)})")
        for said in (store.physical_file(root), root, arg):
            if problem.startswith(said):
                raise ReviveError(arg + problem[len(said) :])
        raise ReviveError(f"{arg}: {problem}")


def load_roots(
    store: StoreDir,
    args: Sequence[str],
    *,
    use_cache: bool,
    texts: dict[str, bytes] | None = None,
    states: dict[str, FileState] | None = None,
    cache: ClosureCache | None = None,
) -> tuple[list[str], DerivationGraph]:
    """Resolve the ``.drv`` arguments, load their closure, check every root was read.

    The closure is loaded with a transient progress bar on a terminal.
    ``texts`` and ``states``, when given, receive the bytes and the state of
    the files read (see :func:`~revive.core.closure.load_closure`).
    ``cache``, when given, is the cache used with ``use_cache`` (default:
    :class:`DerivationCache`).

    Returns:
        The roots' logical paths (one per argument) and the closure.

    Raises:
        ReviveError: an argument names no ``.drv``, or a root cannot be read.
    """
    from revive.core.cache import DerivationCache
    from revive.core.closure import load_closure

    roots = resolve_roots(store, args)
    if not use_cache:
        cache = None
    elif cache is None:
        cache = DerivationCache()
    unique = list(dict.fromkeys(roots))
    if not sys.stderr.isatty():
        graph = load_closure(unique, store, cache=cache, texts=texts, states=states)
    else:
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

            graph = load_closure(
                unique, store, cache=cache, progress=report, texts=texts, states=states
            )
    check_roots(graph, store, roots, args)
    return roots, graph


def open_demo() -> tuple[DemoEnvironment, StoreDir]:
    """The demo environment (generated on first use) and the store of its ``.drv`` files."""
    from revive.core.demo.generate import default_demo_dir, generate_demo

    env = generate_demo(default_demo_dir())
    return env, StoreDir.open(env.store_dir, env.logical_store_dir)
