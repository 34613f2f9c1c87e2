"""Upstream for version-control sources: is this revision still in that repository?

One function per program, each asking the cheapest question that
answers it:

* git — the ref advertisement (over HTTP read directly, see
  :mod:`.git_refs`; otherwise ``git ls-remote``); a commit id that is no
  branch or tag tip is then fetched alone (``git fetch --depth=1
  --filter=tree:0`` into a scratch repository: the commit object only);
* Subversion — ``svn info URL@REV``;
* Mercurial — ``hg identify -r CHANGESET URL``;
* Bazaar — ``brz revision-info -d URL -r REV``;
* CVS — ``cvs -d ROOT rls -r TAG MODULE`` (``-D`` for a date).

Failures are classified from the program's messages, like the builders'
(:func:`revive.core.builders.vcs.classify_failure`): "not found" kinds
mean missing, network kinds and timeouts unknown. A program that is not
installed gives unknown (tool-missing). ``file://`` URLs whose directory
does not exist are missing without running anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import urllib.parse
from collections.abc import Mapping, Sequence

from revive.core.archive.answer import ErrorClass, Fallback, ProbeAnswer, Status
from revive.core.archive.context import Found, ProbeContext
from revive.core.archive.git_refs import RefsError, has_revision, parse_ref_advertisement
from revive.core.archive.http_client import ProbeFailure
from revive.core.builders.cvs import revision_option
from revive.core.builders.errors import DEBIAN_PACKAGES
from revive.core.builders.process import ToolResult, tool_environment
from revive.core.builders.vcs import classify_failure
from revive.core.stores.api import FailureReason

__all__ = ["probe_git", "probe_svn", "probe_hg", "probe_bzr", "probe_cvs", "run_program"]

_TAIL = 20


async def run_program(
    ctx: ProbeContext,
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
) -> tuple[ToolResult, str]:
    """Run ``argv`` (limited by :attr:`ArchiveConfig.processes`) → result and stdout.

    Raises:
        ProbeFailure: the program is missing (tool-missing) or ran too long (timeout).
    """
    program = shutil.which(argv[0])
    if program is None:
        package = DEBIAN_PACKAGES.get(argv[0], argv[0])
        raise ProbeFailure(
            ErrorClass.TOOL_MISSING, f"{argv[0]} is not installed (Debian package {package!r})"
        )
    timeout = ctx.config.connect_timeout + ctx.config.read_timeout
    # A thread per program rather than an asyncio subprocess: a cancelled
    # audit then still reaps every child (the thread waits for it, bounded
    # by the timeout), with no pipe or transport left open.
    async with ctx.processes:
        completed = await asyncio.to_thread(_run_blocking, [program, *argv[1:]], timeout, env, cwd)
    if completed is None:
        raise ProbeFailure(ErrorClass.TIMEOUT, f"{argv[0]} ran longer than {timeout:g} s")
    returncode, out, err = completed
    text = err.decode("utf-8", "replace") + out.decode("utf-8", "replace")
    tail = tuple(line for line in text.splitlines() if line.strip())[-_TAIL:]
    return ToolResult(returncode, tail), out.decode("utf-8", "replace")


def _run_blocking(
    argv: list[str], timeout: float, env: Mapping[str, str] | None, cwd: str | None
) -> tuple[int, bytes, bytes] | None:
    """Run to completion; ``None`` if it ran too long (its process group is killed)."""
    with subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(env) if env is not None else tool_environment(),
        cwd=cwd,
        start_new_session=True,
    ) as proc:
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return None
    return proc.returncode, out, err


def _verdict(program: str, result: ToolResult, source: str, local: bool = False) -> Found:
    """Missing for "not found" failures; raise unknown for the others.

    A local repository (``local``) has no network to fail: any failure but
    a timeout means it is not there.
    """
    error = classify_failure(program, result, source)
    if error.reason is FailureReason.NOT_FOUND or (
        local and error.reason is not FailureReason.TIMEOUT
    ):
        return Found(Status.MISSING, detail=str(error)[:200])
    if error.reason is FailureReason.TIMEOUT:
        raise ProbeFailure(ErrorClass.TIMEOUT, str(error)[:200])
    raise ProbeFailure(ErrorClass.NETWORK, str(error)[:200])


def _is_local(url: str) -> bool:
    return url.startswith(("file:", "/"))


def _local_path_missing(url: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "file":
        return not os.path.exists(urllib.parse.unquote(parts.path))
    return parts.scheme == "" and url.startswith("/") and not os.path.exists(url)


async def probe_git(ctx: ProbeContext, url: str, revision: str) -> ProbeAnswer:
    """Is commit or tag ``revision`` in the git repository at ``url``?"""
    target = ctx.config.rewrite(url)

    async def how() -> Found:
        if _local_path_missing(target):
            return Found(Status.MISSING, detail="no repository at that path")
        refs = await _git_refs(ctx, target)
        if refs is None:
            return Found(Status.MISSING, detail="no git repository there")
        ref = has_revision(refs, revision)
        if ref is not None:
            return Found(Status.AVAILABLE, url, f"{ref} ({len(refs)} refs)")
        if not _is_object_id(revision):
            return Found(Status.MISSING, detail=f"no branch or tag {revision} ({len(refs)} refs)")
        return await _git_fetch_commit(ctx, target, url, revision)

    return await ctx.ask(
        f"git:{target}#{revision}", Fallback.UPSTREAM, f"git {url} {revision}", how
    )


def _is_object_id(text: str) -> bool:
    return len(text) in (40, 64) and all(c in "0123456789abcdef" for c in text.lower())


async def _git_refs(ctx: ProbeContext, url: str) -> dict[str, str] | None:
    """The repository's refs, or ``None`` if there is no repository there."""
    if urllib.parse.urlsplit(url).scheme in ("http", "https"):
        info = url.rstrip("/") + "/info/refs?service=git-upload-pack"
        response = await ctx.http().request("GET", info, max_body=16 << 20)
        if response.status in (401, 403, 404, 410):
            return None
        if response.status != 200:
            return None
        try:
            return parse_ref_advertisement(response.body)
        except RefsError as err:
            raise ProbeFailure(ErrorClass.NETWORK, f"{info}: {err}") from None
    result, out = await run_program(ctx, ["git", "ls-remote", "--", url])
    if not result.ok:
        _verdict("git", result, url, _is_local(url))  # raises unless "not found"
        return None
    refs: dict[str, str] = {}
    for line in out.splitlines():
        oid, _, ref = line.partition("\t")
        if ref:
            refs[ref.strip()] = oid.strip()
    return refs


async def _git_fetch_commit(ctx: ProbeContext, target: str, url: str, commit: str) -> Found:
    with tempfile.TemporaryDirectory(prefix="guix-revive-probe-") as scratch:
        init, _ = await run_program(ctx, ["git", "init", "--quiet", "--bare", scratch])
        if not init.ok:
            raise ProbeFailure(ErrorClass.NETWORK, "git init failed: " + " ".join(init.tail[-1:]))
        argv = ["git", "-C", scratch, "fetch", "--quiet", "--depth=1", "--filter=tree:0"]
        result, _ = await run_program(ctx, [*argv, "--", target, commit])
    if result.ok:
        return Found(Status.AVAILABLE, url, f"commit {commit[:12]} (fetched alone)")
    text = "\n".join(result.tail).lower()
    if "not our ref" in text or "remote ref" in text or "no such remote" in text:
        return Found(Status.MISSING, detail=f"the repository has no commit {commit[:12]}")
    return _verdict("git", result, url, _is_local(target))


async def _simple(
    ctx: ProbeContext,
    key: str,
    question: str,
    url: str,
    argv: Sequence[str],
    env: Mapping[str, str] | None = None,
) -> ProbeAnswer:
    async def how() -> Found:
        if argv[0] != "svn" and _local_path_missing(ctx.config.rewrite(url)):
            # (An svn URL goes on inside the repository: not a directory path.)
            return Found(Status.MISSING, detail="no repository at that path")
        result, out = await run_program(ctx, argv, env=env)
        if result.ok and (out.strip() or argv[0] != "cvs"):
            first = next((line for line in out.splitlines() if line.strip()), "")
            return Found(Status.AVAILABLE, url, first.strip()[:120])
        if result.ok:
            return Found(Status.MISSING, detail="nothing at that revision")
        return _verdict(argv[0], result, url, _is_local(ctx.config.rewrite(url)))

    return await ctx.ask(key, Fallback.UPSTREAM, question, how)


async def probe_svn(ctx: ProbeContext, url: str, revision: int) -> ProbeAnswer:
    """Does ``url`` exist at ``revision`` in its Subversion repository?"""
    target = ctx.config.rewrite(url)
    argv = ["svn", "info", "--non-interactive", f"{target}@{revision}"]
    return await _simple(ctx, f"svn:{target}@{revision}", f"svn info {url}@{revision}", url, argv)


async def probe_hg(ctx: ProbeContext, url: str, changeset: str) -> ProbeAnswer:
    """Is ``changeset`` in the Mercurial repository at ``url``?"""
    target = ctx.config.rewrite(url)
    argv = ["hg", "identify", "--noninteractive", "-r", changeset, target]
    env = tool_environment({"HGPLAIN": "1"})
    return await _simple(
        ctx, f"hg:{target}#{changeset}", f"hg identify -r {changeset} {url}", url, argv, env
    )


async def probe_bzr(ctx: ProbeContext, url: str, revision: str) -> ProbeAnswer:
    """Is ``revision`` in the Bazaar branch at ``url``?"""
    target = ctx.config.rewrite(url)
    argv = ["brz", "revision-info", "-d", target, "-r", revision]
    return await _simple(
        ctx, f"bzr:{target}#{revision}", f"brz revision-info -r {revision} {url}", url, argv
    )


async def probe_cvs(ctx: ProbeContext, root: str, module: str, revision: str) -> ProbeAnswer:
    """Does ``module`` exist at ``revision`` (a tag or a date) in the CVS ``root``?"""
    target = ctx.config.rewrite(root)
    with tempfile.TemporaryDirectory(prefix="guix-revive-cvs-") as home:
        env = tool_environment({"CVS_PASSFILE": os.path.join(home, "cvspass"), "CVS_RSH": "ssh"})
        argv = ["cvs", "-Q", "-d", target, "rls", revision_option(revision), revision, module]
        return await _simple(
            ctx,
            f"cvs:{target}:{module}#{revision}",
            f"cvs rls {revision_option(revision)} {revision} {module}",
            root,
            argv,
            env,
        )
