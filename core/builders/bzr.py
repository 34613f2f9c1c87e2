"""``bzr-fetch``: a Bazaar branch at one revision, with Breezy, without ``.bzr``.

As Guix's fetcher (``guix-derivations.md`` §6.6): ``brz branch -r REVISION
URL OUT``, then the ``.bzr`` directory is deleted.
"""

from __future__ import annotations

from revive.core.builders.context import BuildContext
from revive.core.builders.process import tool_environment
from revive.core.builders.vcs import fetch_one_command
from revive.core.builders.verify import Verified
from revive.core.fetch.spec import BzrFetch

__all__ = ["fetch_bzr"]


async def fetch_bzr(spec: BzrFetch, ctx: BuildContext) -> Verified:
    """Branch ``spec`` and verify it (falling back to nar mirrors).

    Raises:
        FetchError: every source failed.
    """
    url = ctx.rewritten(spec.url)
    # brz writes a log file in the user's cache directory; a build has no
    # business there.
    env = tool_environment({"BRZ_LOG": "/dev/null", "BRZ_PLUGIN_PATH": "-site:-user"})
    return await fetch_one_command(
        ctx,
        spec.expected,
        url,
        lambda dest: ["brz", "branch", "-r", spec.revision, url, str(dest)],
        ".bzr",
        spec.method,
        env=env,
    )
