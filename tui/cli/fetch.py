"""``guix-revive fetch [--rewrite] [--jobs N] [--backend …] ROOT.drv…``: fetch every FOD.

Every fixed-output derivation of the roots' closure is built (rewritten into
today's form first with ``--rewrite``), ``--jobs`` at a time, skipping those
whose output is already valid, so running it again after an interruption
resumes where it stopped. On a terminal: an overall bar and one line per
running fetch; piped: one plain line per event that matters. A table of the
failures, with their reason class, ends the run.

``--demo-serve`` fetches the demo environment instead, from its loopback
servers (no network), into the demo's own store of fetched sources, as the
app does with the same option.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn
from rich.table import Table

from revive.core.builders.options import FetchOptions
from revive.core.errors import ReviveError
from revive.core.fetch.mirrors import MirrorConfig
from revive.core.store_dir import StoreDir
from revive.core.store_path import name_part
from revive.core.stores.api import (
    BuildAttempt,
    BuildEvent,
    BuildFailed,
    BuildFinished,
    BuildLog,
    BuildProgress,
    BuildStarted,
    FailureReason,
    Store,
)
from revive.core.stores.batch import FetchJob, FetchOutcome, OutcomeStatus, fetch_many
from revive.core.stores.fetch_plan import FetchPlan, PlanState, plan_fetch, stage_plan
from revive.tui.cli.common import HelpFormatter, add_store_option, console, is_terminal
from revive.tui.cli.fetch_options import (
    add_backend_options,
    add_fetch_options,
    add_target_store_option,
    fetch_options,
    mirror_config,
    open_target_store,
    warn_unreadable,
)
from revive.tui.cli.loading import load_roots, open_demo, open_store

__all__ = ["add_parser", "run"]

_EPILOG = """\
exit status:
  0  every fixed-output derivation of the closure has a valid output
  1  some could not be fetched (see the table of failures)
  2  bad arguments, or a root that cannot be read
"""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``fetch`` command."""
    parser = subparsers.add_parser(
        "fetch",
        help="fetch every fixed-output derivation (source) of a closure",
        description="Fetch every fixed-output derivation (source) of the closure of the "
        "roots, and check each against its expected hash; outputs already valid are skipped, "
        "so a run that was stopped resumes.",
        epilog=_EPILOG,
        formatter_class=HelpFormatter,
    )
    parser.add_argument(
        "roots", nargs="*", metavar="ROOT.drv", help="root derivations (all but with --demo-serve)"
    )
    parser.add_argument(
        "--demo-serve",
        action="store_true",
        help="fetch the demo environment's sources from its loopback servers (offline), "
        "into the demo's own store unless --target-store is given; ROOT.drv is then ignored",
    )
    add_store_option(parser)
    parser.add_argument(
        "--rewrite", action="store_true", help="rewrite each FOD into today's form first"
    )
    parser.add_argument(
        "-n",
        "--dry-run",
        action="store_true",
        help="only print the plan: what is valid, unneeded, to fetch (rewritten or as is), "
        "or not fetchable; nothing is added to any store",
    )
    add_backend_options(parser)
    add_target_store_option(parser)
    add_fetch_options(parser)
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="print build log lines (when piped)"
    )


def run(args: argparse.Namespace) -> int:
    """Fetch the closure; 0 iff every FOD output is valid at the end."""
    if args.demo_serve:
        return _fetch_demo(args)
    if not args.roots:
        raise ReviveError("fetch: name the ROOT.drv to fetch (or --demo-serve: the demo's)")
    source = open_store(args.store, args.roots)
    return _fetch_closure(args, source, args.roots, fetch_options(args), mirror_config(args))


def _fetch_demo(args: argparse.Namespace) -> int:
    """``run`` on the demo environment, its sources served on loopback meanwhile."""
    from revive.core.demo.serve import DemoServers

    if args.roots:
        print("guix-revive: --demo-serve fetches the demo; ignoring ROOT.drv", file=sys.stderr)
    env, source = open_demo()
    # As in the app: the demo's own store, and guix-revive's builders (a
    # Guix daemon would go to the long-gone URLs, not to the loopback ones).
    demo_args = argparse.Namespace(**vars(args))
    demo_args.target_store = args.target_store or env.fetched_dir
    if demo_args.backend == "auto":
        demo_args.backend = "embedded"
    with DemoServers(env) as servers:
        options = servers.fetch_options(fetch_options(args))
        return _fetch_closure(
            demo_args, source, list(env.root_paths), options, servers.mirror_config()
        )


def _fetch_closure(
    args: argparse.Namespace,
    source: StoreDir,
    root_args: Sequence[str],
    options: FetchOptions,
    config: MirrorConfig | None,
) -> int:
    """Fetch the closure of ``root_args`` in ``source``; 0 iff every FOD output is valid."""
    roots, graph = load_roots(source, root_args, use_cache=False)
    out = console()
    err = Console(stderr=True, highlight=False)
    warn_unreadable(err, list(graph.problems.values()))
    fods = [p for p in graph.topological_order() if graph.is_fixed_output(p)]
    store = open_target_store(args, source, options, config)
    started = time.monotonic()
    # Plan first (one validity query, rewrites in memory), then stage in one
    # session only what the fetches need.
    valid = store.query_valid(graph.derivations[p].outputs[0].path for p in fods)
    plan = plan_fetch(
        roots,
        graph.derivations,
        valid,
        read_item=store.read_item,
        do_rewrite=args.rewrite,
        config=config,
        order=fods,
    )
    if args.dry_run:
        _print_plan(out, plan)
        return 0
    stage_plan(store, plan)
    jobs = plan.jobs()
    unneeded = len(plan.of(PlanState.UNNEEDED))
    if unneeded:
        err.print(
            f"{unneeded} sources are only needed by the old fetchers and are skipped",
            markup=False,
        )
    display = _Display(out, is_terminal(), args.verbose, len(fods) - unneeded)
    already = [
        FetchOutcome(FetchJob(e.drv_path, e.output_path, e.label), OutcomeStatus.VALID)
        for e in plan.of(PlanState.VALID)
    ]
    failed = [
        FetchOutcome(
            FetchJob(e.drv_path, e.output_path, e.label),
            OutcomeStatus.FAILED,
            FailureReason.BUILDER_UNSUPPORTED,
            e.reason,
        )
        for e in plan.of(PlanState.UNFETCHABLE)
    ]
    with display:
        for outcome in already:
            display.skip(outcome.job)
        outcomes = asyncio.run(_fetch(store, jobs, args.jobs, display))
    elapsed = time.monotonic() - started
    all_outcomes = already + failed + list(outcomes)
    _summary(out, all_outcomes, store, elapsed)
    ok = all(o.status is not OutcomeStatus.FAILED for o in all_outcomes)
    return 0 if ok else 1


async def _fetch(
    store: Store, jobs: Sequence[FetchJob], concurrency: int, display: _Display
) -> tuple[FetchOutcome, ...]:
    # Each running download holds a pool thread, and hashing and installing
    # need more: the default pool (CPUs + 4 threads) would cap --jobs.
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(max_workers=2 * concurrency + 4) as pool:
        loop.set_default_executor(pool)
        return await fetch_many(
            store,
            jobs,
            concurrency=concurrency,
            on_event=display.event,
            on_skip=display.skip,
            valid=frozenset(),  # the plan left out what was valid
        )


@dataclass
class _Display:
    """Renders build events: rich progress on a terminal, plain lines when piped."""

    out: Console
    rich: bool
    verbose: bool
    total: int
    progress: Progress | None = None
    overall: TaskID | None = None
    lines: dict[str, TaskID] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    done: int = 0

    def __enter__(self) -> _Display:
        if self.rich:
            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[note]}"),
                console=self.out,
                transient=False,
            )
            self.overall = self.progress.add_task(
                "[bold]sources", total=self.total, note=f"0/{self.total}"
            )
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def _plain(self, text: str) -> None:
        # Straight to the file: rich's rendering costs more than a fetch
        # when every event of hundreds of downloads is printed.
        print(text, file=self.out.file)

    def _advance(self) -> None:
        self.done += 1
        if self.progress is not None and self.overall is not None:
            self.progress.update(
                self.overall, completed=self.done, note=f"{self.done}/{self.total}"
            )

    def skip(self, job: FetchJob) -> None:
        """An output that was already valid."""
        self._advance()
        if not self.rich:
            self._plain(f"[{self.done}/{self.total}] valid {job.label}")

    def event(self, event: BuildEvent) -> None:
        """Show one event."""
        drv = event.drv_path
        if isinstance(event, BuildStarted):
            label = name_part(event.output_path) if event.output_path else name_part(drv)
            self.labels[drv] = label
            if self.progress is not None:
                self.lines[drv] = self.progress.add_task(f"  {label}", total=None, note="")
            else:
                self._plain(f"fetching {label} ({event.method or 'unknown method'})")
            return
        label = self.labels.get(drv, name_part(drv))
        if isinstance(event, BuildAttempt):
            if self.progress is not None and drv in self.lines:
                self.progress.update(self.lines[drv], description=f"  {label} ← {event.source}")
            elif self.verbose:
                self._plain(f"  {label}: trying {event.source} ({event.kind})")
        elif isinstance(event, BuildProgress):
            if self.progress is not None and drv in self.lines:
                note = _size(event.done) + (f"/{_size(event.total)}" if event.total else "")
                self.progress.update(
                    self.lines[drv], completed=event.done, total=event.total, note=note
                )
        elif isinstance(event, BuildLog):
            if self.verbose and not self.rich:
                self._plain(f"  {label}| {event.line}")
        elif isinstance(event, BuildFinished | BuildFailed):
            task = self.lines.pop(drv, None)
            if self.progress is not None and task is not None:
                self.progress.remove_task(task)
            self._advance()
            if isinstance(event, BuildFinished):
                word = "valid" if event.cached else "fetched"
                line = f"[{self.done}/{self.total}] {word} {label}"
            else:
                line = f"[{self.done}/{self.total}] FAILED {label}: {event.reason}: {event.detail}"
            if self.progress is not None:
                self.progress.console.print(line, markup=False, highlight=False)
            else:
                self._plain(line)


def _print_plan(out: Console, plan: FetchPlan) -> None:
    for entry in plan.entries:
        line = f"{entry.state:<11} {entry.label}"
        if entry.reason:
            line += f": {entry.reason}"
        out.print(line, markup=False, highlight=False)
    counts = ", ".join(f"{len(plan.of(state))} {state}" for state in PlanState)
    out.print(f"{len(plan.entries)} sources: {counts}", markup=False, highlight=False)


def _size(count: int) -> str:
    if count < 1024 * 1024:
        return f"{count / 1024:.0f} KiB"
    return f"{count / (1024 * 1024):.1f} MiB"


def _summary(out: Console, outcomes: Sequence[FetchOutcome], store: Store, elapsed: float) -> None:
    counts = {status: 0 for status in OutcomeStatus}
    for outcome in outcomes:
        counts[outcome.status] += 1
    failed = [o for o in outcomes if o.status is OutcomeStatus.FAILED]
    if failed and is_terminal():
        table = Table(title="failures", title_justify="left")
        table.add_column("source")
        table.add_column("reason")
        table.add_column("detail", overflow="fold")
        for outcome in failed:
            table.add_row(outcome.job.label, str(outcome.reason), outcome.detail)
        out.print(table)
    elif failed:
        out.print("failures:", markup=False, highlight=False)
        for outcome in failed:
            job = outcome.job
            out.print(
                f"  {job.label}: {outcome.reason}: {outcome.detail} ({job.drv_path})",
                markup=False,
                highlight=False,
            )
    out.print(
        f"{len(outcomes)} sources: {counts[OutcomeStatus.VALID]} already valid, "
        f"{counts[OutcomeStatus.FETCHED]} fetched, {counts[OutcomeStatus.FAILED]} failed "
        f"({store.backend_name} store, {elapsed:.1f} s)",
        markup=False,
        highlight=False,
    )
