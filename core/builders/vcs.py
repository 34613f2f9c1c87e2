"""What the VCS builders share: failure classification and the common flow.

Each VCS builder checks the revision out with the real program into a fresh
directory, removes the VCS metadata as Guix's fetcher does, and verifies the
NAR hash. If that fails, the nar mirrors are tried (``guix-derivations.md``
§7.5); Software Heritage lookups by origin are reported as not available.
"""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Final

from revive.core.builders.attempts import Attempts, verify_or_quarantine
from revive.core.builders.context import BuildContext, remove_tree
from revive.core.builders.errors import FetchError
from revive.core.builders.nar_mirror import from_nar_mirrors
from revive.core.builders.options import DownloadMethod
from revive.core.builders.process import ToolResult, run_tool
from revive.core.builders.verify import Verified
from revive.core.fetch.spec import Expected, FetchMethod
from revive.core.stores.api import AttemptKind, FailureReason

__all__ = [
    "classify_failure",
    "run_checked",
    "remove_named",
    "fetch_with_fallbacks",
    "fetch_one_command",
]

# Patterns over the last lines a program printed, most specific first.
_PATTERNS: Final[tuple[tuple[FailureReason, re.Pattern[str]], ...]] = (
    (
        FailureReason.NETWORK_UNREACHABLE,
        re.compile(
            r"could not resolve host|name or service not known|unable to connect|"
            r"connection refused|network is unreachable|no route to host|"
            r"temporary failure in name resolution|unknown hostname|"
            r"could not connect|can't connect|failed to connect|connect to .* failed|"
            r"nodename nor servname",
            re.I,
        ),
    ),
    (FailureReason.TIMEOUT, re.compile(r"timed out|timeout", re.I)),
    (
        FailureReason.NOT_FOUND,
        re.compile(
            r"not found|does not appear to be a git repository|couldn't find remote ref|"
            r"unknown revision|not a valid object name|did not match any|no such revision|"
            r"pathspec .* did not match|reference is not a tree|not a branch|"
            r"no such file or directory|doesn't exist|does not exist|"
            r"requested revision .* not|unknown tag|no such tag|"
            r"cannot find module|there is no repository|path not found|"
            r"e170000|e160013|e160006|e195012|not a working copy|no repository found|"
            r"abort: unknown revision|filtered revision",
            re.I,
        ),
    ),
)


def classify_failure(program: str, result: ToolResult, source: str) -> FetchError:
    """The :class:`FetchError` for a program that failed while fetching ``source``."""
    text = "\n".join(result.tail)
    last = next((line for line in reversed(result.tail) if line.strip()), "")
    status = (
        f"killed by signal {-result.returncode}"
        if result.returncode < 0
        else f"exit status {result.returncode}"
    )
    detail = f"{program} failed on {source} ({status})" + (f": {last.strip()}" if last else "")
    for reason, pattern in _PATTERNS:
        if pattern.search(text):
            return FetchError(reason, detail)
    return FetchError(FailureReason.TOOL_FAILED, detail)


async def run_checked(
    ctx: BuildContext,
    argv: Sequence[str],
    source: str,
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> ToolResult:
    """:func:`run_tool`, raising the classified failure on a non-zero exit."""
    result = await run_tool(ctx, argv, cwd=cwd, env=env)
    if not result.ok:
        raise classify_failure(argv[0], result, source)
    return result


def remove_named(root: Path, names: frozenset[str]) -> int:
    """Delete every file or directory below ``root`` whose name is in ``names``.

    Returns:
        How many were deleted (``root`` itself is never deleted).
    """
    count = 0
    for parent, dirs, files in os.walk(root):
        for name in [d for d in dirs if d in names]:
            remove_tree(os.path.join(parent, name))
            dirs.remove(name)
            count += 1
        for name in files:
            if name in names:
                os.unlink(os.path.join(parent, name))
                count += 1
    return count


async def fetch_with_fallbacks(
    ctx: BuildContext,
    expected: Expected,
    source: str,
    checkout: Callable[[Path], Awaitable[None]],
    method: FetchMethod,
    swh_possible: bool = False,
) -> Verified:
    """Run ``checkout(dest)`` for ``source``, verify, then fall back to nar mirrors.

    Args:
        ctx: the build context.
        expected: what the result must hash to.
        source: the repository (after rewrites), for events and messages.
        checkout: writes the clean checkout into ``dest`` (which it creates).
        method: the fetch method (which nar servers an old form may use).
        swh_possible: Guix would try Software Heritage by origin for this
            method; guix-revive reports that it cannot.

    Raises:
        FetchError: every source failed.
    """
    attempts = Attempts()
    if ctx.options.allows(DownloadMethod.UPSTREAM):
        ctx.attempt(source, AttemptKind.UPSTREAM)
        dest = ctx.fresh_path("checkout")
        try:
            await checkout(dest)
            return await verify_or_quarantine(ctx, dest, expected)
        except FetchError as err:
            remove_tree(dest)
            if err.reason is not FailureReason.HASH_MISMATCH:
                ctx.log(str(err))
            attempts.add(AttemptKind.UPSTREAM, source, err)
        except BaseException:
            remove_tree(dest)
            raise
    verified = await from_nar_mirrors(ctx, expected, attempts, method)
    if verified is not None:
        return verified
    if swh_possible and ctx.options.allows(DownloadMethod.SWH):
        ctx.attempt(source, AttemptKind.SWH)
        detail = "Software Heritage lookup by origin is not available in guix-revive"
        ctx.log(detail)
        attempts.add(AttemptKind.SWH, source, FetchError(FailureReason.BUILDER_UNSUPPORTED, detail))
    raise attempts.error(expected.output_path)


async def fetch_one_command(
    ctx: BuildContext,
    expected: Expected,
    source: str,
    argv: Callable[[Path], Sequence[str]],
    metadata: str,
    method: FetchMethod,
    *,
    env: Mapping[str, str],
    swh_possible: bool = False,
) -> Verified:
    """:func:`fetch_with_fallbacks` of a checkout one command writes.

    ``argv(dest)`` writes the checkout of ``source`` into ``dest``; every
    ``metadata`` directory (``.hg``, ``.bzr``) is then deleted from it.
    """

    async def checkout(dest: Path) -> None:
        await run_checked(ctx, argv(dest), source, env=env)
        remove_named(dest, frozenset({metadata}))

    return await fetch_with_fallbacks(ctx, expected, source, checkout, method, swh_possible)
