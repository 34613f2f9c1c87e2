"""Choose the builder for a :data:`~revive.core.fetch.spec.FetchSpec` and run it."""

from __future__ import annotations

from revive.core.builders.bzr import fetch_bzr
from revive.core.builders.context import BuildContext
from revive.core.builders.cvs import fetch_cvs
from revive.core.builders.download import fetch_url
from revive.core.builders.errors import FetchError
from revive.core.builders.git import fetch_git
from revive.core.builders.hg import fetch_hg
from revive.core.builders.svn import fetch_svn, fetch_svn_multi
from revive.core.builders.verify import Verified
from revive.core.fetch.spec import (
    BzrFetch,
    CvsFetch,
    FetchSpec,
    GitFetch,
    HgFetch,
    SvnFetch,
    SvnMultiFetch,
    UrlFetch,
)
from revive.core.stores.api import FailureReason

__all__ = ["run_builder"]


async def run_builder(spec: FetchSpec, ctx: BuildContext) -> Verified:
    """Fetch ``spec`` into ``ctx.work_dir`` and verify it against its expected hash.

    Returns:
        The verified result (a file or directory inside ``ctx.work_dir``).

    Raises:
        FetchError: it could not be fetched; ``reason`` classifies why.
    """
    if isinstance(spec, UrlFetch):
        return await fetch_url(spec, ctx)
    if isinstance(spec, GitFetch):
        return await fetch_git(spec, ctx)
    if isinstance(spec, SvnMultiFetch):
        return await fetch_svn_multi(spec, ctx)
    if isinstance(spec, SvnFetch):
        return await fetch_svn(spec, ctx)
    if isinstance(spec, HgFetch):
        return await fetch_hg(spec, ctx)
    if isinstance(spec, BzrFetch):
        return await fetch_bzr(spec, ctx)
    if isinstance(spec, CvsFetch):
        return await fetch_cvs(spec, ctx)
    raise FetchError(  # pragma: no cover - the union is exhaustive
        FailureReason.BUILDER_UNSUPPORTED, f"no builder for {type(spec).__name__}"
    )
