"""The options of guix-revive's own fetchers, shared by the commands that fetch.

Not a command itself (it is not listed in ``COMMANDS``): ``--url-rewrite``,
``--nar-mirror``, ``--mirror-config``, ``--methods``, ``--timeout`` and
``--retries``, and turning them into :class:`FetchOptions`; ``--jobs``,
``--backend``, ``--recreate-with-guix`` and ``--target-store``, and opening
the store they name.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, get_args

from revive.core.builders.options import ALL_METHODS, DownloadMethod, FetchOptions
from revive.core.errors import ReviveError
from revive.core.fetch.mirrors import MirrorConfig, load_mirror_config
from revive.core.stores.embedded import default_store_root
from revive.core.stores.select import Backend, open_store

if TYPE_CHECKING:
    from rich.console import Console

    from revive.core.store_dir import StoreDir
    from revive.core.stores.api import Store

__all__ = [
    "add_backend_options",
    "add_target_store_option",
    "add_fetch_options",
    "fetch_options",
    "mirror_config",
    "open_target_store",
    "url_rewrites",
    "warn_unreadable",
]

_MAX_WARNINGS = 10
"""Missing or malformed derivations listed before the rest is counted."""


def add_backend_options(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """``--jobs``, ``--backend`` and ``--recreate-with-guix``: what fetches, how many at once."""
    parser.add_argument(
        "-j", "--jobs", type=_positive, default=4, metavar="N", help="fetches at once (default 4)"
    )
    parser.add_argument(
        "--backend",
        choices=get_args(Backend),
        default="auto",
        help="the store: guix when installed, else embedded (default: auto)",
    )
    parser.add_argument(
        "--recreate-with-guix",
        action="store_true",
        help="guix backend: build the sources its daemon has no builder for (svn, hg, bzr, "
        "cvs, git before 2024) as origins re-created with the installed Guix's own fetch "
        "methods, instead of guix-revive's builders + add-to-store",
    )


def add_target_store_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """``--target-store DIR``: where the embedded store is."""
    parser.add_argument(
        "--target-store",
        metavar="DIR",
        default=None,
        help=f"the embedded store's directory (default: {default_store_root()})",
    )


def open_target_store(
    args: argparse.Namespace,
    source: StoreDir,
    options: FetchOptions,
    config: MirrorConfig | None,
) -> Store:
    """The store the backend options name, reading the ``.drv`` files and items of ``source``."""
    return open_store(
        args.backend,
        root=args.target_store,
        store_dir=source.logical,
        read_only=[source],
        options=options,
        mirror_config=config,
        on_unsupported="recreate" if args.recreate_with_guix else "embedded",
    )


def warn_unreadable(err: Console, problems: Sequence[str]) -> None:
    """Say why derivations of the closure are missing or malformed (the first few)."""
    for problem in problems[:_MAX_WARNINGS]:
        err.print(f"warning: {problem}", markup=False)
    if len(problems) > _MAX_WARNINGS:
        err.print(f"warning: … and {len(problems) - _MAX_WARNINGS} more missing or malformed")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def add_fetch_options(parser: argparse.ArgumentParser) -> None:
    """Add the fetchers' options to ``parser``."""
    group = parser.add_argument_group("how sources are fetched")
    group.add_argument(
        "--url-rewrite",
        action="append",
        default=[],
        metavar="OLD=NEW",
        help="replace the URL prefix OLD by NEW before fetching (may be repeated)",
    )
    group.add_argument(
        "--nar-mirror",
        action="append",
        default=[],
        metavar="URL",
        help="a base URL serving <URL>/nar/<output basename> (may be repeated)",
    )
    group.add_argument(
        "--mirror-config",
        metavar="FILE",
        default=None,
        help="mirror data (JSON, like guix-revive's own) for rewritten downloads",
    )
    group.add_argument(
        "--methods",
        default=",".join(ALL_METHODS),
        metavar="LIST",
        help="kinds of source allowed, comma-separated (default: all of "
        + ", ".join(ALL_METHODS)
        + ")",
    )
    group.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="connect and read timeout of downloads",
    )
    group.add_argument(
        "--retries", type=int, default=None, metavar="N", help="retries of a transient failure"
    )


def url_rewrites(args: argparse.Namespace) -> tuple[tuple[str, str], ...]:
    """The ``--url-rewrite OLD=NEW`` pairs.

    Raises:
        ReviveError: one is not ``OLD=NEW``.
    """
    pairs: list[tuple[str, str]] = []
    for item in args.url_rewrite:
        old, sep, new = item.partition("=")
        if not sep or not old:
            raise ReviveError(f"--url-rewrite {item!r}: expected OLD=NEW")
        pairs.append((old, new))
    return tuple(pairs)


def fetch_options(args: argparse.Namespace, nar_mirrors: tuple[str, ...] = ()) -> FetchOptions:
    """The :class:`FetchOptions` the arguments ask for.

    Args:
        args: the parsed arguments.
        nar_mirrors: more nar mirrors, tried after ``--nar-mirror``'s.

    Raises:
        ReviveError: a malformed option.
    """
    methods: list[DownloadMethod] = []
    for name in filter(None, (m.strip() for m in args.methods.split(","))):
        try:
            methods.append(DownloadMethod(name))
        except ValueError:
            raise ReviveError(
                f"--methods: unknown method {name!r} (known: {', '.join(ALL_METHODS)})"
            ) from None
    options = FetchOptions(
        url_rewrites=url_rewrites(args),
        nar_mirrors=tuple(dict.fromkeys((*args.nar_mirror, *nar_mirrors))),
        methods=tuple(methods),
    )
    if args.timeout is not None:
        options = replace(options, connect_timeout=args.timeout, read_timeout=args.timeout)
    if args.retries is not None:
        options = replace(options, retries=max(0, args.retries))
    return options


def mirror_config(args: argparse.Namespace) -> MirrorConfig | None:
    """``--mirror-config``, loaded (``None``: today's built-in data).

    Raises:
        ReviveError: the file cannot be read or is malformed.
    """
    return load_mirror_config(args.mirror_config) if args.mirror_config else None
