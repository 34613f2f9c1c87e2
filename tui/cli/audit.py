"""``guix-revive audit [ROOT.drv…]``: can each source of a closure still be obtained, and where?

Every fixed-output derivation of the closure is asked about at each
fallback Guix has — upstream, content-addressed mirrors, Software
Heritage, Disarchive, substitute servers' nars — and the report gives,
rolled up and per FOD, which fallback saves each source; sources saved by
nothing come first. Rich tables on a terminal, plain text when piped,
``--json``, ``--markdown`` or ``--html`` for publishing.

With no root it audits the demo environment; ``--demo-serve`` first
starts the demo's loopback servers (which also play Software Heritage,
Disarchive and a substitute server) and points every probe at them, so
the whole audit runs offline. Answers are kept in
``$XDG_CACHE_HOME/guix-revive/archive/``; ``--refresh`` asks again,
``--offline`` only reads them.
"""

from __future__ import annotations

import argparse
import html
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from rich.table import Table
from rich.text import Text

from revive.core.archive.answer import FALLBACK_ORDER, Fallback, Status
from revive.core.archive.audit import AuditProgress, FodArchival, run_audit
from revive.core.archive.cache import AnswerCache
from revive.core.archive.config import ArchiveConfig, default_archive_config
from revive.core.archive.report import (
    SAVED_LABELS,
    Rollup,
    audit_json,
    report_order,
    rollup,
    saved_label,
)
from revive.core.archive.targets import FodTarget, fod_targets
from revive.core.errors import ReviveError
from revive.tui.cli.common import add_store_option, console, is_terminal, print_json
from revive.tui.cli.loading import load_roots, open_demo, open_store
from revive.tui.widgets.archival_badge import SAVED_STYLES, badge_marks

__all__ = ["add_parser", "run", "badges", "markdown_report", "html_report"]

_EPILOG = """\
exit status:
  0  the report was printed (whatever it says)
  2  a root cannot be read, or bad options

fallbacks: ↑ upstream, ≡ content-addressed mirror, S Software Heritage,
D Disarchive, N substitute nar. A badge is upper-case when available,
'·' when missing, '?' when unknown, absent when the fallback does not apply.
"""

_STATUSES = ("available", "missing", "unknown")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the ``audit`` command."""
    parser = subparsers.add_parser(
        "audit",
        help="archival status of every source download of a closure",
        description="Ask upstream, content-addressed mirrors, Software Heritage, Disarchive "
        "and substitute servers about every fixed-output derivation of the closure; report "
        "which fallback saves each source (those saved by nothing first). With no root: "
        "the demo environment.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("roots", nargs="*", metavar="ROOT.drv", help="root derivations")
    form = parser.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="print the report as JSON")
    form.add_argument("--markdown", action="store_true", help="print the report as Markdown")
    form.add_argument("--html", action="store_true", help="print the report as an HTML page")
    parser.add_argument(
        "--offline", action="store_true", help="answer from the cache only (ask nothing)"
    )
    parser.add_argument(
        "--refresh", action="store_true", help="ignore cached answers and ask again"
    )
    parser.add_argument(
        "--demo-serve",
        action="store_true",
        help="audit the demo against its loopback servers (no network at all)",
    )
    parser.add_argument(
        "--jobs", type=int, metavar="N", default=None, help="questions in flight at once"
    )
    parser.add_argument(
        "--swh-api", metavar="URL", default=None, help="Software Heritage API base URL"
    )
    parser.add_argument(
        "--substitute-url",
        action="append",
        metavar="URL",
        help="substitute server to ask for narinfos (repeatable; default: the Guix farms)",
    )
    add_store_option(parser)


def run(args: argparse.Namespace) -> int:
    """Audit the closure of ``args.roots`` (or the demo) and print the report."""
    if args.offline and args.refresh:
        raise ReviveError("--offline and --refresh cannot be used together")
    if args.jobs is not None and args.jobs < 1:
        raise ReviveError("--jobs must be at least 1")
    with _closure(args) as (targets, config):
        if args.jobs is not None:
            config = config.replace(concurrency=args.jobs)
        if args.swh_api:
            config = config.replace(swh_api=args.swh_api)
        if args.substitute_url:
            config = config.replace(substitutes=tuple(args.substitute_url))
        cache = AnswerCache(ttl_available=config.ttl_available, ttl_missing=config.ttl_missing)
        results = _audit(targets, config, cache, refresh=args.refresh, offline=args.offline)
    if args.json:
        print_json(audit_json(results))
    elif args.markdown:
        sys.stdout.write(markdown_report(results))
    elif args.html:
        sys.stdout.write(html_report(results))
    elif is_terminal():
        _print_rich(results)
    else:
        sys.stdout.write(_plain_report(results))
    return 0


@contextmanager
def _closure(args: argparse.Namespace) -> Iterator[tuple[list[FodTarget], ArchiveConfig]]:
    """The FODs to audit and the probe configuration (demo servers running meanwhile)."""
    if args.roots and not args.demo_serve:
        store = open_store(args.store, args.roots)
        # load_roots names the argument as typed when a root cannot be read.
        _, graph = load_roots(store, args.roots, use_cache=True)
        yield fod_targets(graph, store.read_bytes), default_archive_config()
        return
    if args.roots:
        print("guix-revive: --demo-serve audits the demo; ignoring ROOT.drv", file=sys.stderr)
    env, store = open_demo()
    _, graph = load_roots(store, list(env.root_paths), use_cache=True)
    targets = fod_targets(graph, store.read_bytes)
    if not args.demo_serve:
        yield targets, default_archive_config()
        return
    from revive.core.demo.archive_services import demo_archive_config
    from revive.core.demo.serve import DemoServers

    with DemoServers(env) as servers:
        yield targets, demo_archive_config(servers)


def _audit(
    targets: Sequence[FodTarget],
    config: ArchiveConfig,
    cache: AnswerCache,
    *,
    refresh: bool,
    offline: bool,
) -> list[FodArchival]:
    if not sys.stderr.isatty():
        return run_audit(targets, config, cache=cache, refresh=refresh, offline=offline)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("asking the archives"), BarColumn(), MofNCompleteColumn(), transient=True
    ) as bar:
        task = bar.add_task("audit", total=len(targets))

        def report(step: AuditProgress) -> None:
            bar.update(task, completed=step.done)

        return run_audit(
            targets, config, cache=cache, refresh=refresh, offline=offline, progress=report
        )


# --- rendering -----------------------------------------------------------------------------


def badges(result: FodArchival) -> str:
    """``↑≡SDN``-style marks: letter available, ``·`` missing, ``?`` unknown, space n/a."""
    return badge_marks(result)


def _why(result: FodArchival) -> str:
    """One line: where it is, or why nothing has it."""
    best = result.saved_by
    if best is not None:
        verdict = result.verdict(best)
        return verdict.where if verdict is not None else ""
    unknown = [v for v in result.verdicts if v.status is Status.UNKNOWN]
    if unknown:
        return "; ".join(f"{v.fallback}: {v.error} ({v.detail})" for v in unknown)[:160]
    first = result.verdict(Fallback.UPSTREAM)
    return first.detail if first is not None else (result.target.error or "")


def _matrix(summary: Rollup) -> tuple[list[str], list[tuple[str, str, list[int]]]]:
    """Column labels, and rows (section, key, counts) of the method and era tables."""
    labels = [label for label in SAVED_LABELS if summary.saved_by.get(label)]
    rows = []
    for section, table in (("method", summary.by_method), ("era", summary.by_era)):
        for key, counts in table.items():
            rows.append((section, key, [counts.get(label, 0) for label in labels]))
    return labels, rows


def _coverage_rows(summary: Rollup) -> list[tuple[Fallback, dict[str, int]]]:
    return [(f, summary.coverage[str(f)]) for f in FALLBACK_ORDER]


def _print_rich(results: Sequence[FodArchival]) -> None:
    out = console()
    summary = rollup(results)
    out.print(Text(f"Archival status of {summary.total} source downloads", "bold"))
    saved = Table(title="saved by (best available fallback)", header_style="bold")
    saved.add_column("fallback")
    saved.add_column("sources", justify="right")
    for label, count in summary.saved_by.items():
        saved.add_row(Text(label, SAVED_STYLES.get(label, "")), str(count))
    out.print(saved)
    labels, rows = _matrix(summary)
    for section in ("method", "era"):
        table = Table(title=f"by {section}", header_style="bold")
        table.add_column(section)
        for label in labels:
            table.add_column(Text(label, SAVED_STYLES.get(label, "")), justify="right")
        for row_section, key, counts in rows:
            if row_section == section:
                table.add_row(key, *(str(c) if c else "" for c in counts))
        out.print(table)
    coverage = Table(title="what each fallback has", header_style="bold")
    for column in ("fallback", "available", "missing", "unknown"):
        coverage.add_column(column, justify="left" if column == "fallback" else "right")
    for fallback, have in _coverage_rows(summary):
        coverage.add_row(
            f"{fallback.badge} {fallback.long_name}", *(str(have[s]) for s in _STATUSES)
        )
    out.print(coverage)
    fods = Table(title="per source (at risk first)", header_style="bold")
    for column in ("name", "method", "era", "saved by", "↑≡SDN", "where / why"):
        fods.add_column(column, overflow="fold")
    for result in report_order(results):
        label = saved_label(result)
        fods.add_row(
            result.target.name,
            result.target.method,
            result.target.era,
            Text(label, SAVED_STYLES.get(label, "")),
            badges(result),
            _why(result),
        )
    out.print(fods)


def _plain_report(results: Sequence[FodArchival]) -> str:
    summary = rollup(results)
    lines = [f"archival status of {summary.total} source downloads", "", "saved by:"]
    lines += [f"  {label}\t{count}" for label, count in summary.saved_by.items()]
    labels, rows = _matrix(summary)
    for section in ("method", "era"):
        lines += ["", f"by {section}:\t" + "\t".join(labels)]
        lines += [
            f"  {key}\t" + "\t".join(str(c) for c in counts)
            for s, key, counts in rows
            if s == section
        ]
    lines += ["", "what each fallback has:\tavailable\tmissing\tunknown"]
    for fallback, have in _coverage_rows(summary):
        values = "\t".join(str(have[s]) for s in _STATUSES)
        lines.append(f"  {fallback.badge} {fallback.long_name}\t{values}")
    lines += ["", "name\tmethod\tera\tsaved_by\tbadges\twhere_or_why"]
    for result in report_order(results):
        fields = (
            result.target.name,
            result.target.method,
            result.target.era,
            saved_label(result),
            badges(result),
            _why(result),
        )
        lines.append("\t".join(f.replace("\t", " ").replace("\n", " ") for f in fields))
    return "\n".join(lines) + "\n"


def markdown_report(results: Sequence[FodArchival]) -> str:
    """The report as Markdown (tables)."""
    summary = rollup(results)

    def esc(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    out = [f"# Archival status of {summary.total} source downloads", ""]
    out += ["## Saved by", "", "| fallback | sources |", "|---|---:|"]
    out += [f"| {label} | {count} |" for label, count in summary.saved_by.items()]
    labels, rows = _matrix(summary)
    for section in ("method", "era"):
        out += ["", f"## By {section}", ""]
        out.append(f"| {section} | " + " | ".join(labels) + " |")
        out.append("|---|" + "---:|" * len(labels))
        out += [
            f"| {esc(key)} | " + " | ".join(str(c) for c in counts) + " |"
            for s, key, counts in rows
            if s == section
        ]
    out += ["", "## What each fallback has", ""]
    out += ["| fallback | available | missing | unknown |", "|---|---:|---:|---:|"]
    for fallback, counts in _coverage_rows(summary):
        out.append(
            f"| {fallback.badge} {fallback.long_name} | {counts['available']} "
            f"| {counts['missing']} | {counts['unknown']} |"
        )
    out += ["", "## Per source (at risk first)", ""]
    out += ["| name | method | era | saved by | ↑≡SDN | where / why |", "|---|---|---|---|---|---|"]
    for result in report_order(results):
        out.append(
            f"| {esc(result.target.name)} | {result.target.method} | {result.target.era} "
            f"| {saved_label(result)} | `{badges(result)}` | {esc(_why(result))} |"
        )
    return "\n".join(out) + "\n"


def html_report(results: Sequence[FodArchival]) -> str:
    """The report as a self-contained HTML page."""
    summary = rollup(results)
    e = html.escape

    def table(head: Sequence[str], body: Sequence[Sequence[str]]) -> str:
        cells = "".join(f"<th>{e(h)}</th>" for h in head)
        rows = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in body)
        return f"<table><thead><tr>{cells}</tr></thead><tbody>{rows}</tbody></table>"

    labels, rows = _matrix(summary)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Archival status of {summary.total} source downloads</title>",
        "<style>table{border-collapse:collapse;margin:1em 0}"
        "td,th{border:1px solid #999;padding:.2em .5em}</style></head><body>",
        f"<h1>Archival status of {summary.total} source downloads</h1>",
        "<h2>Saved by</h2>",
        table(["fallback", "sources"], [[k, str(v)] for k, v in summary.saved_by.items()]),
    ]
    for section in ("method", "era"):
        parts.append(f"<h2>By {section}</h2>")
        body = [[key, *(str(c) for c in counts)] for s, key, counts in rows if s == section]
        parts.append(table([section, *labels], body))
    parts.append("<h2>What each fallback has</h2>")
    parts.append(
        table(
            ["fallback", "available", "missing", "unknown"],
            [
                [
                    f"{f.badge} {f.long_name}",
                    *(str(c[s]) for s in ("available", "missing", "unknown")),
                ]
                for f, c in _coverage_rows(summary)
            ],
        )
    )
    parts.append("<h2>Per source (at risk first)</h2>")
    parts.append(
        table(
            ["name", "method", "era", "saved by", "↑≡SDN", "where / why"],
            [
                [r.target.name, r.target.method, r.target.era, saved_label(r), badges(r), _why(r)]
                for r in report_order(results)
            ],
        )
    )
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
