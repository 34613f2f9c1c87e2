"""``git-fetch`` (every era, and ``builtin:git-download``): a clean checkout.

Like Guix's fetcher (``guix-derivations.md`` §6.3): ``git init``, fetch the
commit shallowly (a full fetch if the server refuses), check it out, update
submodules recursively when asked, then delete every ``.git`` (directories,
and the ``.git`` files of submodules). The hash is the NAR hash of what is
left, i.e. ``guix hash -rx`` of a clean checkout.

Git runs without the user's or the system's configuration, as the daemon's
clean environment would: an ``autocrlf`` setting must not change the bytes.
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path

from revive.core.builders.context import BuildContext
from revive.core.builders.errors import FetchError
from revive.core.builders.process import tool_environment
from revive.core.builders.vcs import fetch_with_fallbacks, remove_named, run_checked
from revive.core.builders.verify import Verified
from revive.core.fetch.spec import GitFetch

__all__ = ["fetch_git", "is_local_repository"]


def is_local_repository(url: str) -> bool:
    """True for a ``file://`` URL or a plain path (a repository on this machine)."""
    scheme = urllib.parse.urlsplit(url).scheme
    return scheme == "file" or (scheme == "" and not _scp_like(url))


def _scp_like(url: str) -> bool:
    # "host:path" (scp syntax) is remote, "/a:b" is a local path.
    head = url.split("/", 1)[0]
    return ":" in head


async def fetch_git(spec: GitFetch, ctx: BuildContext) -> Verified:
    """Check out ``spec`` and verify it (falling back to nar mirrors).

    Raises:
        FetchError: every source failed.
    """
    url = ctx.rewritten(spec.url)
    config: list[str] = ["-c", "advice.detachedHead=false", "-c", "init.defaultBranch=main"]
    # Submodule URLs come from .gitmodules: let git apply the same rewrites.
    for old, new in ctx.options.url_rewrites:
        if old:
            config += ["-c", f"url.{new}.insteadOf={old}"]
    if is_local_repository(url):
        # Git refuses file:// submodules by default since 2.38.1 (a defence for
        # repositories cloned from elsewhere); a local superproject's local
        # submodules are what the user pointed us at.
        config += ["-c", "protocol.file.allow=always"]
    env = tool_environment(
        {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_ASKPASS": "true"}
    )

    async def checkout(dest: Path) -> None:
        git = ["git", *config]
        await run_checked(ctx, [*git, "init", "--quiet", str(dest)], url, env=env)
        await run_checked(ctx, [*git, "remote", "add", "origin", url], url, cwd=dest, env=env)
        try:
            await run_checked(
                ctx,
                [*git, "fetch", "--depth", "1", "origin", spec.commit],
                url,
                cwd=dest,
                env=env,
            )
            target = "FETCH_HEAD"
        except FetchError as err:
            ctx.log(f"shallow fetch failed ({err.reason}); fetching the whole repository")
            await run_checked(ctx, [*git, "fetch", "--tags", "origin"], url, cwd=dest, env=env)
            target = spec.commit
        await run_checked(ctx, [*git, "checkout", "--quiet", target], url, cwd=dest, env=env)
        if spec.recursive:
            await run_checked(
                ctx,
                [*git, "submodule", "update", "--init", "--recursive", "--checkout"],
                url,
                cwd=dest,
                env=env,
            )
        removed = remove_named(dest, frozenset({".git"}))
        ctx.log(f"removed {removed} .git entr{'y' if removed == 1 else 'ies'}")

    return await fetch_with_fallbacks(
        ctx, spec.expected, url, checkout, spec.method, swh_possible=not spec.recursive
    )
