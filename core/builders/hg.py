"""``hg-fetch``: a Mercurial clone updated to one changeset, without ``.hg``.

As Guix's fetcher (``guix-derivations.md`` §6.5): ``hg clone -u CHANGESET
URL OUT``, then the ``.hg`` directory is deleted. ``HGPLAIN`` and an empty
``HGRCPATH`` keep the user's extensions (``eol``, ``keyword``…) from
changing the files.
"""

from __future__ import annotations

from revive.core.builders.context import BuildContext
from revive.core.builders.process import tool_environment
from revive.core.builders.vcs import fetch_one_command
from revive.core.builders.verify import Verified
from revive.core.fetch.spec import HgFetch

__all__ = ["fetch_hg"]


async def fetch_hg(spec: HgFetch, ctx: BuildContext) -> Verified:
    """Clone ``spec`` and verify it (falling back to nar mirrors).

    Raises:
        FetchError: every source failed.
    """
    url = ctx.rewritten(spec.url)
    return await fetch_one_command(
        ctx,
        spec.expected,
        url,
        lambda dest: ["hg", "clone", "--noninteractive", "-u", spec.changeset, url, str(dest)],
        ".hg",
        spec.method,
        env=tool_environment({"HGPLAIN": "1", "HGRCPATH": ""}),
        swh_possible=True,
    )
