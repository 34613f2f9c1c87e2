"""Every probe for every FOD: the archival status of a closure's sources.

:func:`audit_fod` asks, for one FOD, each fallback that applies to its
fetch method — the fallbacks concurrently, the questions within one
fallback in order until one finds it:

=================== ======== ========== ==================================== ========== =====
method              upstream CA mirror  Software Heritage                    Disarchive nar
=================== ======== ========== ==================================== ========== =====
url-fetch (flat)    URLs     by hash    content by sha256 (or sha1)          by hash    yes
url-fetch/exec.     URLs     —          ExtID nar-sha256                     —          yes
git-fetch           refs     —          ExtID, revision (commit) or origin   —          yes
hg, svn, bzr        program  —          ExtID, origin                        —          yes
cvs                 program  —          ExtID                                —          yes
(spec unreadable)   —        by hash    by hash                              —          yes
=================== ======== ========== ==================================== ========== =====

:func:`audit` runs it over many FODs at once (bounded by
:attr:`ArchiveConfig.concurrency`), reporting each finished FOD to a
callback, and can be cancelled between questions. :func:`run_audit` is
the blocking form for a thread (the TUI's worker, the CLI).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from revive.core.archive.answer import FALLBACK_ORDER, Fallback, ProbeAnswer, Status, combine
from revive.core.archive.ca_mirrors import probe_ca_mirrors
from revive.core.archive.cache import AnswerCache
from revive.core.archive.config import ArchiveConfig
from revive.core.archive.context import ProbeContext
from revive.core.archive.disarchive import probe_disarchive
from revive.core.archive.http_client import HttpClient
from revive.core.archive.substitutes import probe_substitutes
from revive.core.archive.swh import (
    probe_swh_content,
    probe_swh_extid,
    probe_swh_origin,
    probe_swh_revision,
)
from revive.core.archive.targets import FodTarget
from revive.core.archive.upstream import probe_upstream_urls
from revive.core.archive.vcs_probe import probe_bzr, probe_cvs, probe_git, probe_hg, probe_svn
from revive.core.fetch.spec import (
    BzrFetch,
    CvsFetch,
    GitFetch,
    HgFetch,
    SvnFetch,
    SvnMultiFetch,
    UrlFetch,
)

__all__ = ["FodArchival", "AuditProgress", "audit_fod", "audit", "run_audit", "AuditCancelled"]


@dataclass(frozen=True, slots=True)
class FodArchival:
    """One FOD's archival status: every question asked, and each fallback's verdict."""

    target: FodTarget
    """The FOD."""
    answers: tuple[ProbeAnswer, ...]
    """Every question's answer, fallback by fallback, in the order asked."""
    verdicts: tuple[ProbeAnswer, ...]
    """One combined answer per fallback that applies, best fallback first."""

    def verdict(self, fallback: Fallback) -> ProbeAnswer | None:
        """The verdict of ``fallback`` (``None``: it does not apply)."""
        for answer in self.verdicts:
            if answer.fallback is fallback:
                return answer
        return None

    @property
    def saved_by(self) -> Fallback | None:
        """The best fallback that has the source (``None``: saved by nothing known)."""
        for answer in self.verdicts:
            if answer.status is Status.AVAILABLE:
                return answer.fallback
        return None

    @property
    def available(self) -> tuple[Fallback, ...]:
        """Every fallback that has it, best first."""
        return tuple(a.fallback for a in self.verdicts if a.status is Status.AVAILABLE)

    @property
    def uncertain(self) -> bool:
        """True when nothing has it but some answer is unknown (it may still be saved)."""
        return self.saved_by is None and any(a.status is Status.UNKNOWN for a in self.verdicts)


@dataclass(frozen=True, slots=True)
class AuditProgress:
    """How far an audit is: FODs done of the total, and the one just finished."""

    done: int
    """FODs finished."""
    total: int
    """FODs to audit."""
    last: FodArchival
    """The FOD just finished."""


class AuditCancelled(Exception):
    """:func:`run_audit` was asked to stop; carries what was finished."""

    def __init__(self, finished: list[FodArchival]) -> None:
        super().__init__(f"audit cancelled after {len(finished)} FOD(s)")
        self.finished = finished
        """The FODs finished before the stop."""


Probe = Callable[[], Awaitable[list[ProbeAnswer]]]


def _one(question: Callable[[], Awaitable[ProbeAnswer]]) -> Probe:
    async def run() -> list[ProbeAnswer]:
        return [await question()]

    return run


def _until_found(*questions: Callable[[], Awaitable[ProbeAnswer]]) -> Probe:
    async def run() -> list[ProbeAnswer]:
        answers: list[ProbeAnswer] = []
        for question in questions:
            answer = await question()
            answers.append(answer)
            if answer.status is Status.AVAILABLE:
                break
        return answers

    return run


def _plan(ctx: ProbeContext, target: FodTarget) -> dict[Fallback, Probe]:
    """The probes that apply to ``target``, by fallback."""
    spec, expected = target.spec, target.expected
    plan: dict[Fallback, Probe] = {}
    swh: list[Callable[[], Awaitable[ProbeAnswer]]] = []
    sha256 = expected.algorithm == "sha256"
    if expected.recursive and sha256:
        swh.append(lambda: probe_swh_extid(ctx, expected.digest.hex()))
    if isinstance(spec, UrlFetch):
        plan[Fallback.UPSTREAM] = lambda: probe_upstream_urls(ctx, spec)
    elif isinstance(spec, GitFetch):
        plan[Fallback.UPSTREAM] = _one(lambda: probe_git(ctx, spec.url, spec.commit))
        if len(spec.commit) == 40:
            swh.append(lambda: probe_swh_revision(ctx, spec.commit.lower()))
        else:
            swh.append(lambda: probe_swh_origin(ctx, spec.url))
    elif isinstance(spec, HgFetch):
        plan[Fallback.UPSTREAM] = _one(lambda: probe_hg(ctx, spec.url, spec.changeset))
        if len(spec.changeset) == 40:
            swh.append(lambda: probe_swh_extid(ctx, spec.changeset.lower(), "hg-nodeid"))
        swh.append(lambda: probe_swh_origin(ctx, spec.url))
    elif isinstance(spec, (SvnFetch, SvnMultiFetch)):
        plan[Fallback.UPSTREAM] = _one(lambda: probe_svn(ctx, spec.url, spec.revision))
        swh.append(lambda: probe_swh_origin(ctx, spec.url))
    elif isinstance(spec, BzrFetch):
        plan[Fallback.UPSTREAM] = _one(lambda: probe_bzr(ctx, spec.url, spec.revision))
        swh.append(lambda: probe_swh_origin(ctx, spec.url))
    elif isinstance(spec, CvsFetch):
        plan[Fallback.UPSTREAM] = _one(
            lambda: probe_cvs(ctx, spec.root, spec.module, spec.revision)
        )
    flat = not expected.recursive and (spec is None or isinstance(spec, UrlFetch))
    if flat:
        plan[Fallback.CA_MIRROR] = lambda: probe_ca_mirrors(ctx, expected)
        if expected.algorithm in ("sha256", "sha1"):
            algorithm, digest = expected.algorithm, expected.digest.hex()
            swh.insert(0, lambda: probe_swh_content(ctx, digest, algorithm))
        plan[Fallback.DISARCHIVE] = lambda: probe_disarchive(ctx, expected)
    if swh:
        plan[Fallback.SWH] = _until_found(*swh)
    plan[Fallback.NAR] = lambda: probe_substitutes(ctx, expected.output_path)
    return plan


async def audit_fod(ctx: ProbeContext, target: FodTarget) -> FodArchival:
    """Ask every applicable fallback about ``target`` (fallbacks concurrently)."""
    plan = _plan(ctx, target)
    order = [f for f in FALLBACK_ORDER if f in plan]
    results = await asyncio.gather(*(plan[f]() for f in order))
    answers: list[ProbeAnswer] = []
    verdicts: list[ProbeAnswer] = []
    for fallback, result in zip(order, results, strict=True):
        answers.extend(result)
        verdict = combine(fallback, result)
        if verdict is not None:
            verdicts.append(verdict)
    return FodArchival(target, tuple(answers), tuple(verdicts))


async def audit(
    targets: Sequence[FodTarget],
    config: ArchiveConfig,
    *,
    cache: AnswerCache | None = None,
    refresh: bool = False,
    offline: bool = False,
    progress: Callable[[AuditProgress], None] | None = None,
) -> list[FodArchival]:
    """Audit every target; results in the order of ``targets``.

    Half of :attr:`ArchiveConfig.concurrency` FODs are in progress at once
    (each asks its fallbacks concurrently; the HTTP client limits the
    questions in flight to :attr:`ArchiveConfig.concurrency`). The cache is
    saved at the end, and also when the audit is cancelled.
    """
    results: list[FodArchival | None] = [None] * len(targets)
    done = 0
    client = None if offline else HttpClient(config)
    ctx = ProbeContext(config, client, cache, refresh=refresh, offline=offline)
    todo = iter(enumerate(targets))

    # A pool of workers taking FODs in turn, rather than a task per FOD
    # waiting on a semaphore: with thousands of waiters, every release would
    # scan them. Each FOD asks a few questions at once, so half as many FODs
    # as question slots keeps the slots busy.
    async def worker() -> None:
        nonlocal done
        for index, target in todo:
            result = results[index] = await audit_fod(ctx, target)
            done += 1
            if progress is not None:
                progress(AuditProgress(done, len(targets), result))

    workers = min(len(targets), max(1, config.concurrency // 2))
    try:
        async with asyncio.TaskGroup() as group:
            for _ in range(workers):
                group.create_task(worker())
    finally:
        if client is not None:
            await client.aclose()
        if cache is not None:
            await asyncio.to_thread(cache.save)
    return [r for r in results if r is not None]


def run_audit(
    targets: Sequence[FodTarget],
    config: ArchiveConfig,
    *,
    cache: AnswerCache | None = None,
    refresh: bool = False,
    offline: bool = False,
    progress: Callable[[AuditProgress], None] | None = None,
    stop: threading.Event | None = None,
) -> list[FodArchival]:
    """:func:`audit` on an event loop of its own (blocking: run it in a thread).

    Raises:
        AuditCancelled: ``stop`` was set; carries the FODs finished by then.
    """
    finished: list[FodArchival] = []

    def note(step: AuditProgress) -> None:
        finished.append(step.last)
        if progress is not None:
            progress(step)

    async def main() -> list[FodArchival]:
        task = asyncio.ensure_future(
            audit(targets, config, cache=cache, refresh=refresh, offline=offline, progress=note)
        )
        while stop is not None and not task.done():
            await asyncio.wait({task}, timeout=0.05)
            if stop.is_set() and not task.done():
                task.cancel()
        return await task

    try:
        return asyncio.run(main())
    except asyncio.CancelledError:
        raise AuditCancelled(finished) from None
