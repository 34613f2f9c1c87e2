"""The last resort for any FOD: a NAR of its output from a nar mirror.

Guix's VCS fetchers fall back to ``<base>/nar/<basename of the output>``
from a substitute server (``guix-derivations.md`` §7.5). guix-revive offers
it for every FOD, with the bases of :attr:`FetchOptions.nar_mirrors`: the
NAR is restored into the output, then verified like any other result.
"""

from __future__ import annotations

import os

from revive.core.builders.attempts import Attempts, fetch_file, verify_or_quarantine
from revive.core.builders.context import BuildContext, remove_tree
from revive.core.builders.errors import FetchError
from revive.core.builders.options import DownloadMethod
from revive.core.builders.verify import Verified
from revive.core.fetch.spec import Expected
from revive.core.nar import NarError
from revive.core.nar_restore import restore_nar_file
from revive.core.stores.api import AttemptKind, FailureReason

__all__ = ["nar_urls", "from_nar_mirrors"]


def nar_urls(bases: tuple[str, ...], output_path: str) -> tuple[str, ...]:
    """Where each nar mirror keeps the uncompressed NAR of ``output_path``."""
    name = os.path.basename(output_path)
    return tuple(f"{base.rstrip('/')}/nar/{name}" for base in bases)


async def from_nar_mirrors(
    ctx: BuildContext, expected: Expected, attempts: Attempts
) -> Verified | None:
    """Try every nar mirror; the verified result, or ``None`` (failures in ``attempts``)."""
    if not ctx.options.allows(DownloadMethod.NAR):
        return None
    for original in nar_urls(ctx.options.nar_mirrors, expected.output_path):
        url = ctx.rewritten(original)
        ctx.attempt(url, AttemptKind.NAR)
        nar = ctx.fresh_path("nar")
        dest = ctx.fresh_path("restored")
        try:
            await fetch_file(ctx, url, nar)
            try:
                restore_nar_file(nar, dest)
            except NarError as err:
                remove_tree(dest)
                raise FetchError(FailureReason.TRANSFER_ERROR, f"{url}: {err}") from None
            finally:
                nar.unlink(missing_ok=True)
            if expected.recursive is False:
                # A flat item's NAR holds one regular file: the daemon keeps
                # its bytes, without the executable bit.
                os.chmod(dest, 0o644)
            ctx.log(f"restored the NAR from {url}")
            return verify_or_quarantine(ctx, dest, expected)
        except FetchError as err:
            ctx.log(f"{err}")
            attempts.add(AttemptKind.NAR, url, err)
    return None
