"""Choose the builder for a :data:`~revive.core.fetch.spec.FetchSpec` and run it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

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


_BUILDERS: Final[Mapping[type, Callable[[Any, BuildContext], Awaitable[Verified]]]] = {
    UrlFetch: fetch_url,
    GitFetch: fetch_git,
    SvnFetch: fetch_svn,
    SvnMultiFetch: fetch_svn_multi,
    HgFetch: fetch_hg,
    BzrFetch: fetch_bzr,
    CvsFetch: fetch_cvs,
}
"""The builder of each kind of :data:`FetchSpec` (each takes its own kind)."""


async def run_builder(spec: FetchSpec, ctx: BuildContext) -> Verified:
    """Fetch ``spec`` into ``ctx.work_dir`` and verify it against its expected hash.

    Returns:
        The verified result (a file or directory inside ``ctx.work_dir``).

    Raises:
        FetchError: it could not be fetched; ``reason`` classifies why.
    """
    builder = _BUILDERS.get(type(spec))
    if builder is None:  # pragma: no cover - the table covers the union
        raise FetchError(FailureReason.BUILDER_UNSUPPORTED, f"no builder for {type(spec).__name__}")
    return await builder(spec, ctx)
