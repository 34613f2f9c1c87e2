"""``cvs-fetch``: a CVS checkout of one module at a tag or date, without ``CVS``.

As Guix's fetcher (``guix-derivations.md`` §6.7): ``cvs -z3 -d ROOT checkout
-r TAG`` (or ``-D DATE`` when the revision is a ``YYYY-MM-DD`` date) of the
module, then every ``CVS`` directory is deleted. A checkout rather than an
export, because the two expand RCS keywords differently and the hash was
computed from what the checkout gives.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

from revive.core.builders.context import BuildContext
from revive.core.builders.errors import FetchError
from revive.core.builders.process import tool_environment
from revive.core.builders.vcs import fetch_with_fallbacks, remove_named, run_checked
from revive.core.builders.verify import Verified
from revive.core.fetch.spec import CvsFetch
from revive.core.stores.api import FailureReason

__all__ = ["fetch_cvs", "revision_option"]

_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def revision_option(revision: str) -> str:
    """``-D`` for a ``YYYY-MM-DD`` date, ``-r`` for a tag or branch."""
    return "-D" if _DATE.fullmatch(revision) else "-r"


async def fetch_cvs(spec: CvsFetch, ctx: BuildContext) -> Verified:
    """Check out ``spec`` and verify it (falling back to nar mirrors).

    Raises:
        FetchError: every source failed.
    """
    root = ctx.rewritten(spec.root)

    async def checkout(dest: Path) -> None:
        # The password file of a :pserver: login lives in the work directory:
        # anonymous servers accept the empty password the client then sends.
        env = tool_environment(
            {"CVS_PASSFILE": str(dest.parent / f"{dest.name}.cvspass"), "CVS_RSH": "ssh"}
        )
        argv = ["cvs", "-z3", "-d", root, "checkout", revision_option(spec.revision)]
        argv += [spec.revision, "-d", dest.name, spec.module]
        await run_checked(ctx, argv, root, cwd=dest.parent, env=env)
        if not dest.is_dir():
            raise FetchError(FailureReason.NOT_FOUND, f"cvs produced no {spec.module} checkout")
        remove_named(dest, frozenset({"CVS"}))

    return await fetch_with_fallbacks(ctx, spec.expected, root, checkout, spec.method)
