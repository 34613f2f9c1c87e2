"""``guix-revive env [-C FILE | --commit C] [-m FILE] [SPEC…] | --roots FILE``: revive it.

Lowers the environment with the old Guix (``guix time-machine … -- build -d
--no-grafts``, its progress shown live) or takes the roots from ``--roots``,
then plans every source (fixed-output derivation) of the closure: present
in the store, substitutable, to fetch as it is, to fetch rewritten into
today's form (and why), or not fetchable (and why). ``--fetch`` fetches
what is missing, ``--jobs`` at a time; ``--build`` then builds the roots. A
state file next to the report makes a rerun skip what is done (and the
lowering, when its inputs did not change).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.table import Table

from revive.core.builders.options import FetchOptions
from revive.core.closure import load_closure
from revive.core.derivation import Derivation
from revive.core.env.act import RootBuild, build_roots, fetch_sources
from revive.core.env.lowering import LoweringRequest, lower, lowering_argv
from revive.core.env.plan import (
    TOOLS,
    PlanSettings,
    SourceRecord,
    SourceState,
    plan_sources,
    survey_outputs,
)
from revive.core.env.report import EnvSummary, all_present, json_lines, markdown, state_counts
from revive.core.env.roots import parse_roots
from revive.core.env.state import (
    EnvState,
    load_state,
    lowering_key,
    save_state,
    write_atomically,
)
from revive.core.env.substitutes import DEFAULT_SUBSTITUTE_URLS, query_substitutes
from revive.core.errors import ReviveError
from revive.core.fetch.mirrors import MirrorConfig
from revive.core.graph import DerivationGraph
from revive.core.store_dir import StoreDir
from revive.core.store_path import name_part
from revive.core.stores.api import BuildEvent, BuildFailed, BuildFinished, BuildStarted, Store
from revive.core.stores.embedded import EmbeddedStore, default_store_root
from revive.tui.cli.common import (
    HelpFormatter,
    add_store_option,
    console,
    is_terminal,
    store_directory,
)
from revive.tui.cli.fetch_options import (
    add_backend_options,
    add_fetch_options,
    add_target_store_option,
    fetch_options,
    mirror_config,
    open_target_store,
    warn_unreadable,
)
from revive.tui.cli.loading import check_roots

__all__ = ["add_parser", "run", "add_lowering_options", "lowering_request"]

_EPILOG = """\
exit status:
  0  every source of the environment is present (valid in the store)
  1  some are not (substitutable, still to fetch, failed or not fetchable)
  2  bad arguments or input files, or the lowering failed
"""

_STATE_NAME = "guix-revive-env.state.json"


def add_lowering_options(parser: argparse.ArgumentParser) -> None:
    """``-C/--channels``, ``--commit``, ``-m/--manifest``, ``--system``, ``--sources-only``.

    The app's command line has them too (``guix-revive -C channels.scm -m
    manifest.scm`` lowers, then opens the roots).
    """
    group = parser.add_argument_group("what to lower (with guix time-machine)")
    which = group.add_mutually_exclusive_group()
    which.add_argument(
        "-C", "--channels", metavar="FILE", help="the channels of the old Guix (channels.scm)"
    )
    which.add_argument("--commit", metavar="C", help="a commit of the guix channel instead")
    group.add_argument("-m", "--manifest", metavar="FILE", help="a manifest of that Guix")
    group.add_argument("--system", metavar="S", help="lower for system S (x86_64-linux…)")
    group.add_argument(
        "--sources-only",
        action="store_true",
        help="just the packages' own sources (build -S), not the whole build closure",
    )


def wants_lowering(args: argparse.Namespace) -> bool:
    """True when the lowering options were given."""
    return bool(args.channels or args.commit or args.manifest)


def lowering_request(args: argparse.Namespace, specs: Sequence[str]) -> LoweringRequest:
    """The :class:`LoweringRequest` of the parsed lowering options and ``specs``."""
    return LoweringRequest(
        channels=args.channels,
        commit=args.commit,
        manifest=args.manifest,
        specs=tuple(specs),
        system=args.system,
        sources_only=bool(args.sources_only),
    )


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``env`` command."""
    parser = subparsers.add_parser(
        "env",
        help="revive a whole environment: lower, plan every source, fetch what is missing",
        description=__doc__.split("\n\n", 1)[1].replace("``", "") if __doc__ else None,
        epilog=_EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("specs", nargs="*", metavar="SPEC", help="package specs to lower")
    add_lowering_options(parser)
    parser.add_argument(
        "--roots",
        metavar="FILE",
        help="take the root .drv paths from FILE ('-': standard input) instead of lowering",
    )
    add_store_option(parser)
    act = parser.add_argument_group("acting")
    act.add_argument("--fetch", action="store_true", help="fetch every source that is missing")
    add_backend_options(act)
    act.add_argument(
        "-k", "--keep-going", action="store_true", help="go on fetching after a failure"
    )
    act.add_argument("--build", action="store_true", help="then build the roots")
    add_target_store_option(act)
    subs = parser.add_argument_group("substitutes")
    subs.add_argument(
        "--substitute-urls",
        metavar="URLS",
        default=" ".join(DEFAULT_SUBSTITUTE_URLS),
        help="substitute servers asked for each missing source, space-separated "
        "(default: %(default)s)",
    )
    subs.add_argument("--no-substitutes", action="store_true", help="ask no substitute server")
    add_fetch_options(parser)
    out = parser.add_argument_group("report")
    out.add_argument(
        "--json", action="store_true", help="print one JSON record per source instead of a table"
    )
    out.add_argument("--markdown", metavar="FILE", help="write a Markdown report to FILE")
    out.add_argument(
        "--state",
        metavar="FILE",
        help="the state file (default: next to --markdown FILE, or "
        f"./{_STATE_NAME} with --fetch/--build)",
    )
    out.add_argument(
        "--fresh", action="store_true", help="ignore the state file: lower and plan again"
    )
    out.add_argument("-v", "--verbose", action="store_true", help="print build log lines")


def _state_path(args: argparse.Namespace) -> Path | None:
    if args.state:
        return Path(args.state)
    if args.markdown:
        report = Path(args.markdown)
        return report.with_name(report.stem + ".state.json")
    if args.fetch or args.build:
        return Path(_STATE_NAME)
    return None


def run(args: argparse.Namespace) -> int:
    """Lower (or read the roots), plan, act, report; 0 iff every source is present."""
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    if args.roots is not None and (wants_lowering(args) or args.specs):
        raise ReviveError("--roots takes the roots as given: no -C/--commit/-m/SPEC with it")
    # The embedded fetchers try the substitute servers' NARs (<url>/nar/<name>) last.
    substitute_urls = () if args.no_substitutes else tuple(args.substitute_urls.split())
    options = fetch_options(args, nar_mirrors=substitute_urls)
    config = mirror_config(args)
    state_file = _state_path(args)
    previous = None if (args.fresh or state_file is None) else load_state(state_file)
    key, roots = _roots(args, previous, err)
    # Like every command: .drv files listed from a copy of some store items
    # are read where they are, without --store.
    source = StoreDir.open(store_directory(args.store, roots))
    roots = tuple(source.resolve_root(root) for root in roots)

    graph = load_closure(list(roots), source)
    if args.roots is not None:
        # Roots given as input must be readable (exit 2), not planned as "0 sources".
        check_roots(graph, source, roots, roots)
    problems = tuple(graph.problems.values())
    warn_unreadable(err, problems)
    store = open_target_store(args, source, options, config)
    embedded = _embedded_for_export(args, store, source)
    records = _plan(args, graph, roots, store, source, embedded, options, config, err)
    if previous is not None:
        records = tuple(_with_history(r, previous) for r in records)

    def save(current: Sequence[SourceRecord]) -> None:
        if state_file is not None:
            save_state(state_file, EnvState(key, roots, {r.drv: r for r in current}))

    save(records)
    builds: tuple[RootBuild, ...] = ()
    if args.fetch:
        records, stopped = _fetch(
            args, store, embedded, records, graph.derivations, config, err, save
        )
        save(records)
        if stopped:
            err.print("stopped after a failure: --keep-going fetches the rest", markup=False)
    if args.build:
        builds = asyncio.run(
            build_roots(store, roots, keep_going=args.keep_going, on_event=_log_event(err, args))
        )
    title = _title(args, roots)
    summary = EnvSummary(title, roots, store.backend_name, problems, builds)
    _report(args, records, summary, err)
    if args.markdown:
        write_atomically(args.markdown, markdown(records, summary))
    return 0 if all_present(records, summary) else 1


def _embedded_for_export(
    args: argparse.Namespace, store: Store, source: StoreDir
) -> EmbeddedStore | None:
    """guix-revive's embedded store, when the Guix store is the target and it exists."""
    if store.backend_name != "guix":
        return None
    root = Path(args.target_store) if args.target_store else default_store_root()
    if not root.is_dir():
        return None
    return EmbeddedStore(root, store_dir=source.logical, read_only=[source])


def _plan(
    args: argparse.Namespace,
    graph: DerivationGraph,
    roots: Sequence[str],
    store: Store,
    source: StoreDir,
    embedded: EmbeddedStore | None,
    options: FetchOptions,
    config: MirrorConfig | None,
    err: Console,
) -> tuple[SourceRecord, ...]:
    """Ask the store, then the substitute servers, and plan every source."""
    derivations = graph.derivations
    fods = [p for p in graph.topological_order() if graph.is_fixed_output(p)]
    outputs = [_output(derivations[p]) for p in fods]
    present = survey_outputs(outputs, store, source)
    missing = [o for o in outputs if o not in present]
    exportable: dict[str, str] = {}
    if embedded is not None and missing:
        why = f"in guix-revive's embedded store ({embedded.root}): exported, not fetched again"
        exportable = dict.fromkeys(sorted(embedded.query_valid(missing)), why)
        missing = [o for o in missing if o not in exportable]
    substitutable: dict[str, str] = {}
    servers = () if args.no_substitutes else tuple(args.substitute_urls.split())
    if servers and missing:
        answers = query_substitutes(missing, servers, timeout=args.timeout or 10.0)
        substitutable = answers.found
        for server, error in answers.errors.items():
            err.print(f"warning: substitute server {server}: {error}", markup=False)
    settings = PlanSettings(
        config=config,
        url_rewrites=options.url_rewrites,
        # The substitute servers were asked already: only the user's nar
        # mirrors are a way around a source whose upstream is gone.
        nar_mirrors=tuple(args.nar_mirror),
        # The daemon fetches git itself only where it has builtin:git-download;
        # the other methods are always guix-revive's own fetchers.
        local_tools=frozenset(TOOLS),
    )
    return plan_sources(
        derivations,
        fods,
        store.read_item,
        settings,
        present=present,
        substitutable=substitutable,
        exportable=exportable,
        roots=roots,
    )


def _output(drv: Derivation) -> str:
    out = drv.fixed_output
    assert out is not None
    return out.path


def _roots(
    args: argparse.Namespace, previous: EnvState | None, err: Console
) -> tuple[str | None, tuple[str, ...]]:
    """The lowering key (``None`` for given roots) and the roots."""
    if args.roots is not None:
        if args.roots == "-":
            return None, parse_roots(sys.stdin.read(), "<stdin>")
        try:
            text = Path(args.roots).read_text(encoding="utf-8")
        except OSError as error:
            raise ReviveError(f"{args.roots}: cannot read: {error.strerror or error}") from None
        return None, parse_roots(text, args.roots)
    request = lowering_request(args, args.specs)
    request.check()
    key = lowering_key(lowering_argv(request), (request.channels, request.manifest))
    if previous is not None and previous.lowering_key == key and previous.roots:
        err.print(
            f"using the {len(previous.roots)} roots lowered by a previous run "
            "(--fresh lowers again)",
            markup=False,
        )
        return key, previous.roots
    err.print("lowering: " + " ".join(lowering_argv(request)), markup=False)
    result = lower(request, on_line=_LiveLines(err))
    return key, result.roots


class _LiveLines:
    """Shows Guix's progress lines as they come, once each (a spinner redraws its line)."""

    def __init__(self, err: Console) -> None:
        self.err = err
        self.last = ""

    def __call__(self, line: str) -> None:
        text = line.rstrip(" |/-\\")
        if text == self.last:
            return
        self.last = text
        self.err.print(f"  {line}", markup=False, style="dim")


def _with_history(record: SourceRecord, previous: EnvState) -> SourceRecord:
    before = previous.records.get(record.drv)
    if before is None or not before.tried:
        return record
    return replace(record, tried=before.tried + record.tried)


def _log_event(err: Console, args: argparse.Namespace) -> Callable[[BuildEvent], None]:
    def show(event: BuildEvent) -> None:
        if isinstance(event, BuildStarted):
            label = name_part(event.output_path) if event.output_path else name_part(event.drv_path)
            err.print(f"fetching {label} ({event.method or 'unknown method'})", markup=False)
        elif isinstance(event, BuildFailed) and args.verbose:
            err.print(f"  {name_part(event.drv_path)}: {event.detail}", markup=False)
        elif isinstance(event, BuildFinished) and args.verbose:
            err.print(f"  valid {event.output_path}", markup=False)

    return show


def _fetch(
    args: argparse.Namespace,
    store: Store,
    embedded: EmbeddedStore | None,
    records: tuple[SourceRecord, ...],
    derivations: Mapping[str, Derivation],
    config: MirrorConfig | None,
    err: Console,
    save: Callable[[Sequence[SourceRecord]], None],
) -> tuple[tuple[SourceRecord, ...], bool]:
    current = {r.drv: r for r in records}
    todo = sum(1 for r in records if not r.done and r.state is not SourceState.NOT_FETCHABLE)
    finished = 0

    def done(record: SourceRecord) -> None:
        nonlocal finished
        finished += 1
        current[record.drv] = record
        word = "ok" if record.done else "FAILED"
        err.print(f"[{finished}/{todo}] {word} {record.label}: {record.reason}", markup=False)
        save(tuple(current.values()))

    return asyncio.run(
        fetch_sources(
            store,
            records,
            derivations,
            config=config,
            jobs=args.jobs,
            keep_going=args.keep_going,
            on_event=_log_event(err, args),
            on_done=done,
            embedded=embedded,
        )
    )


def _title(args: argparse.Namespace, roots: Sequence[str]) -> str:
    if args.roots is not None:
        return f"roots from {'standard input' if args.roots == '-' else args.roots}"
    parts = []
    if args.channels:
        parts.append(f"-C {args.channels}")
    if args.commit:
        parts.append(f"--commit {args.commit}")
    if args.manifest:
        parts.append(f"-m {args.manifest}")
    parts += args.specs
    return " ".join(parts) or ", ".join(name_part(r) for r in roots[:3])


_STYLE = {
    SourceState.PRESENT: "green",
    SourceState.UNNEEDED: "dim",
    SourceState.SUBSTITUTABLE: "cyan",
    SourceState.EXPORT: "cyan",
    SourceState.FETCH: "yellow",
    SourceState.FETCH_REWRITTEN: "yellow",
    SourceState.NOT_FETCHABLE: "red",
    SourceState.FAILED: "bold red",
}


def _report(
    args: argparse.Namespace,
    records: Sequence[SourceRecord],
    summary: EnvSummary,
    err: Console,
) -> None:
    if args.json:
        sys.stdout.write(json_lines(records))
        sys.stdout.flush()
        return
    out = console()
    # Grouped by state, the ones that need attention last, next to the summary.
    order = {state: i for i, state in enumerate(SourceState)}
    records = sorted(records, key=lambda r: order[r.state])
    if is_terminal():
        table = Table(title=f"sources of {summary.title}", title_justify="left")
        for column in ("source", "method", "era", "state"):
            table.add_column(column, no_wrap=column != "source")
        table.add_column("reason", overflow="fold")
        for r in records:
            table.add_row(r.label, r.method, r.era, f"[{_STYLE[r.state]}]{r.state}", r.reason)
        out.print(table)
    else:
        for r in records:
            print(f"{r.state}\t{r.method}\t{r.era}\t{r.label}\t{r.reason}", file=out.file)
    for build in summary.builds:
        verdict = "built" if build.ok else f"FAILED: {build.detail}"
        out.print(f"build {name_part(build.drv).removesuffix('.drv')}: {verdict}", markup=False)
    counts = state_counts(records)
    parts = [f"{n} {state}" for state, n in counts.items() if n]
    out.print(
        f"{len(records)} sources ({summary.backend} store): " + (", ".join(parts) or "none"),
        markup=False,
    )
