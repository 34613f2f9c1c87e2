"""``guix-revive rewrite [--write DIR] [--closure] [--diff] DRV…``: today's form of old FODs.

Without ``--closure`` each ``DRV`` must be a fixed-output derivation; its
rewrite (same output path, today's way of fetching) is printed, or written
with ``--write``. With ``--closure`` the ``DRV`` arguments are roots: every
FOD of their closure is rewritten and every derivation using one is
re-pointed at the new ``.drv`` paths; the command then proves that no output
path changed. ``--diff`` shows old against new (the structured diff of
``guix-revive diff``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping

from rich.text import Text

from revive.core.aterm import serialize_derivation
from revive.core.derivation import Derivation
from revive.core.errors import StoreError
from revive.core.fetch.classify import classify
from revive.core.fetch.closure_rewrite import (
    ClosureRewrite,
    rewrite_closure,
    verify_outputs_unchanged,
    write_derivations,
)
from revive.core.fetch.mirrors import MirrorConfig, default_mirror_config, load_mirror_config
from revive.core.fetch.rewrite import RewriteError, RewriteResult, rewrite
from revive.core.graph import DerivationGraph
from revive.core.store_dir import StoreDir
from revive.core.store_path import name_part
from revive.tui.cli.common import HelpFormatter, add_store_option, console, is_terminal
from revive.tui.cli.loading import load_roots, open_store

__all__ = ["add_parser", "run"]

_EPILOG = """\
exit status:
  0  rewritten (and, with --closure, no output path changed)
  1  with --closure: some FODs could not be rewritten, or an output path changed
  2  a file cannot be read, is not a FOD (without --closure), or --write failed

output when piped: for each FOD, a line "OLD.drv -> NEW.drv" (or "OLD.drv
unchanged"), then, without --write, the new derivation's text on one line
"""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``rewrite`` command."""
    parser = subparsers.add_parser(
        "rewrite",
        help="rewrite fixed-output derivations into today's form (same output paths)",
        description="Rewrite fixed-output derivations into today's form: builtin:download "
        "with current mirror lists, builtin:git-download, or guix-revive's own builtins "
        "for svn, hg, bzr and cvs. Output paths never change.",
        epilog=_EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("drvs", nargs="+", metavar="DRV", help=".drv files (or roots)")
    parser.add_argument(
        "--closure",
        action="store_true",
        help="rewrite every FOD of the closure of DRV and re-point the derivations using them",
    )
    parser.add_argument(
        "--write",
        metavar="DIR",
        help="write the new .drv files and mirror files into DIR, created if need be "
        "(nothing there is overwritten)",
    )
    parser.add_argument("--diff", action="store_true", help="show old against new")
    parser.add_argument(
        "--mirrors",
        metavar="FILE",
        help="mirror data (JSON shaped like guix-revive's own) instead of today's",
    )
    add_store_option(parser)


def run(args: argparse.Namespace) -> int:
    """Rewrite ``args.drvs`` (or their closure)."""
    store = open_store(args.store, args.drvs)
    config = load_mirror_config(args.mirrors) if args.mirrors else default_mirror_config()
    roots, graph = load_roots(store, args.drvs, use_cache=False)
    if args.closure:
        result = rewrite_closure(graph, store.read_bytes, config)
        return _finish_closure(args, result, graph, roots)
    results = [_rewrite_fod(store, config, graph, root) for root in roots]
    return _finish_single(args, results, graph)


def _rewrite_fod(
    store: StoreDir, config: MirrorConfig, graph: DerivationGraph, root: str
) -> RewriteResult:
    """Today's form of the FOD ``root``.

    Raises:
        RewriteError: ``root`` is not a FOD (the message says what to rewrite instead).
    """
    drv = graph.derivation(root)
    if not drv.is_fixed_output:
        found = classify(drv, store.read_bytes)
        hint = (
            f"; rewrite the FOD it wraps ({found.wraps}) or use --closure"
            if found.wraps
            else "; use --closure to rewrite the FODs of its closure"
        )
        raise RewriteError(f"{root}: not a fixed-output derivation ({found.kind}){hint}")
    return rewrite(drv, store.read_bytes, config, original_path=root)


def _finish_single(
    args: argparse.Namespace, results: list[RewriteResult], graph: DerivationGraph
) -> int:
    if args.write:
        _make_directory(args.write)
        for result in results:
            write_derivations(result, args.write)
    for result in results:
        _print_result(result, show_text=not args.write and not args.diff)
        if args.diff:
            _print_diff(
                result.original_path, result.drv_path, graph, {result.drv_path: result.derivation}
            )
    if args.write:
        _note(f"written into {args.write}")
    return 0


def _finish_closure(
    args: argparse.Namespace, result: ClosureRewrite, graph: DerivationGraph, roots: list[str]
) -> int:
    problems = verify_outputs_unchanged(result, graph)
    if args.write and not problems:
        _make_directory(args.write)
        report = write_derivations(result, args.write)
        _note(
            f"wrote {len(report.written)} files into {args.write}"
            + (f" ({len(report.present)} already there)" if report.present else "")
        )
    _print_closure(result, graph, roots)
    for path, reason in result.failures:
        _warn(f"not rewritten: {reason}" if path in reason else f"not rewritten: {path}: {reason}")
    for problem in problems:
        _warn(f"output changed: {problem}")
    if problems:
        _warn("nothing written: an output path would change")
    elif result.order:
        _note(f"no output path changed ({len(result.order)} new derivations checked)")
    if args.diff:
        for root in roots:
            new_root = result.new_path(root)
            if new_root != root:
                _print_diff(root, new_root, graph, result.derivations)
    return 1 if (problems or result.failures) else 0


def _print_result(result: RewriteResult, show_text: bool) -> None:
    old, new = result.original_path, result.drv_path
    text = serialize_derivation(result.derivation) if show_text and not result.identity else ""
    if is_terminal():
        out = console()
        if result.identity:
            out.print(Text.assemble((old, "bold"), (" already in today's form", "green")))
        else:
            out.print(Text.assemble((old, "bold"), ("\n  → ", "dim"), (new, "bold green")))
            out.print(
                Text(
                    f"  {result.spec.method} · builder {result.derivation.builder} · "
                    f"output {name_part(result.derivation.outputs[0].path)} unchanged",
                    "dim",
                )
            )
        for note in result.notes:
            out.print(Text(f"  note: {note}", "yellow"))
        if text:
            out.print(Text(text, overflow="fold"))
        return
    sys.stdout.write(f"{old} unchanged\n" if result.identity else f"{old} -> {new}\n")
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    if text:
        sys.stdout.write(text + "\n")


def _print_closure(result: ClosureRewrite, graph: DerivationGraph, roots: list[str]) -> None:
    changed = len(result.changed_fods)
    modern = len(result.rewrites) - changed
    repointed = len(result.mapping) - changed
    lines = [
        f"{len(result.rewrites) + len(result.failures)} fixed-output derivations: "
        f"{changed} rewritten, {modern} already in today's form, "
        f"{len(result.failures)} not rewritten",
        f"{repointed} derivations re-pointed at the new ones "
        f"(of {len(graph.derivations)} in the closure)",
    ]
    root_lines = [
        f"{root} -> {result.new_path(root)}"
        if result.new_path(root) != root
        else f"{root} unchanged"
        for root in roots
    ]
    if is_terminal():
        out = console()
        for line in lines:
            out.print(Text(line))
        for line in root_lines:
            out.print(Text(line, "bold"))
        return
    sys.stdout.writelines(line + "\n" for line in root_lines)
    for line in lines:
        print(line, file=sys.stderr)


def _print_diff(
    old_path: str,
    new_path: str,
    graph: DerivationGraph,
    new_derivations: Mapping[str, Derivation],
) -> None:
    # B2's structured diff, as `guix-revive diff` prints it.
    from revive.core.diff import diff_derivations
    from revive.tui.cli.diff import print_diff

    lookup_old: Callable[[str], Derivation | None] = graph.derivations.get

    def lookup_new(path: str) -> Derivation | None:
        return new_derivations.get(path) or graph.derivations.get(path)

    old = graph.derivation(old_path)
    new = new_derivations[new_path]
    print_diff(diff_derivations(old_path, old, new_path, new, lookup_old, lookup_new))


def _make_directory(path: str) -> None:
    """Create ``--write DIR`` (and its parents) unless it exists.

    Raises:
        StoreError: it cannot be created, or is a file.
    """
    try:
        os.makedirs(path, exist_ok=True)
    except FileExistsError:
        raise StoreError(f"{path}: not a directory (--write needs one)") from None
    except OSError as err:
        raise StoreError(f"{path}: cannot create the directory: {err.strerror or err}") from None


def _note(text: str) -> None:
    if is_terminal():
        console().print(Text(text, "dim"))
    else:
        print(text, file=sys.stderr)


def _warn(text: str) -> None:
    print(f"guix-revive: warning: {text}", file=sys.stderr)
