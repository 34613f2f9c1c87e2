"""The last resort: a NAR of the output from a nar mirror.

Guix's VCS fetchers fall back to a NAR of the output from a substitute
server (``guix-derivations.md`` §7.5): ``<base>/nar/gzip/<basename>``, then
``<base>/nar/<basename>``, restored into the output. Which servers depends
on the derivation:

* a FOD in **today's form** (``builtin:download``, ``builtin:git-download``,
  guix-revive's own builtins), of any method, gets the bases of
  :attr:`FetchOptions.nar_mirrors` (uncompressed ``<base>/nar/<basename>``);
* a FOD in an **old form** keeps its era's fallback, as Guix would run it:
  the git, hg and cvs scripts of 2017–2024 ask the build farms of their
  time (:data:`ERA_NAR_BASES`, long gone; a URL rewrite can point them
  elsewhere), and old url-fetch, svn and bzr forms had none. That is what
  makes rewriting worth it; :attr:`FetchOptions.nar_mirrors_for_old_forms`
  gives old forms today's nar mirrors too.

The NAR is restored in the work directory, then verified like any result.
"""

from __future__ import annotations

import gzip
import os
import zlib
from functools import partial
from typing import Final

from revive.core.builders.attempts import Attempts, fetch_file, verify_or_quarantine
from revive.core.builders.context import BuildContext, remove_tree
from revive.core.builders.errors import FetchError
from revive.core.builders.options import DownloadMethod
from revive.core.builders.threads import run_in_thread
from revive.core.builders.verify import Verified
from revive.core.fetch.spec import Expected, FetchMethod
from revive.core.nar import NarError
from revive.core.nar_restore import restore_nar, restore_nar_file
from revive.core.stores.api import AttemptKind, FailureReason

__all__ = ["ERA_NAR_BASES", "nar_urls", "era_nar_urls", "from_nar_mirrors"]

ERA_NAR_BASES: Final = (
    "http://berlin.guix.gnu.org",
    "http://berlin.guixsd.org",
    "http://mirror.hydra.gnu.org/guix",
)
"""The nar servers of the 2017–2024 VCS fetch scripts, newest first (§7.5)."""

_ERA_METHODS: Final = frozenset({FetchMethod.GIT, FetchMethod.HG, FetchMethod.CVS})
"""Old forms whose script falls back to ``download-nar``."""


def nar_urls(bases: tuple[str, ...], output_path: str) -> tuple[str, ...]:
    """Where each nar mirror keeps the uncompressed NAR of ``output_path``."""
    name = os.path.basename(output_path)
    return tuple(f"{base.rstrip('/')}/nar/{name}" for base in bases)


def era_nar_urls(output_path: str) -> tuple[str, ...]:
    """What an old VCS script's ``download-nar`` tries: gzip, then plain, per server."""
    name = os.path.basename(output_path)
    return tuple(
        url for base in ERA_NAR_BASES for url in (f"{base}/nar/gzip/{name}", f"{base}/nar/{name}")
    )


def _restore(nar: str, dest: str, compressed: bool, _cancel: object = None) -> None:
    if not compressed:
        restore_nar_file(nar, dest)
        return
    with gzip.open(nar, "rb") as stream:
        restore_nar(stream, dest)  # type: ignore[arg-type]


async def from_nar_mirrors(
    ctx: BuildContext, expected: Expected, attempts: Attempts, method: FetchMethod
) -> Verified | None:
    """Try the nar mirrors this FOD may use; the verified result, or ``None``.

    Failures are recorded in ``attempts``.
    """
    if not ctx.options.allows(DownloadMethod.NAR):
        return None
    if ctx.todays_form or ctx.options.nar_mirrors_for_old_forms:
        urls = nar_urls(ctx.options.nar_mirrors, expected.output_path)
    elif method in _ERA_METHODS:
        urls = era_nar_urls(expected.output_path)
        if ctx.options.nar_mirrors:
            ctx.log("an old derivation keeps its era's nar servers; rewrite it to use today's")
    else:
        if ctx.options.nar_mirrors:
            ctx.log("this old form of derivation had no nar fallback; rewrite it to use one")
        return None
    for original in urls:
        url = ctx.rewritten(original)
        ctx.attempt(url, AttemptKind.NAR)
        nar = ctx.fresh_path("nar")
        dest = ctx.fresh_path("restored")
        try:
            await fetch_file(ctx, url, nar)
            compressed = "/nar/gzip/" in original
            try:
                await run_in_thread(partial(_restore, str(nar), str(dest), compressed))
            except (NarError, OSError, EOFError, zlib.error) as err:
                remove_tree(dest)
                raise FetchError(FailureReason.TRANSFER_ERROR, f"{url}: {err}") from None
            finally:
                nar.unlink(missing_ok=True)
            if expected.recursive is False and dest.is_file():
                # A flat item's NAR holds one regular file: the daemon keeps
                # its bytes, without the executable bit.
                os.chmod(dest, 0o644)
            ctx.log(f"restored the NAR from {url}")
            return await verify_or_quarantine(ctx, dest, expected)
        except FetchError as err:
            ctx.log(f"{err}")
            attempts.add(AttemptKind.NAR, url, err)
    return None
