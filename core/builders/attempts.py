"""Try sources one after the other; explain the failure when none works."""

from __future__ import annotations

import os
from pathlib import Path

from revive.core.builders.context import BuildContext, remove_tree
from revive.core.builders.errors import FetchError
from revive.core.builders.http import download
from revive.core.builders.threads import CancelToken, run_in_thread
from revive.core.builders.verify import Verified, verify_output
from revive.core.fetch.spec import Expected
from revive.core.stores.api import AttemptKind, BuildLog, BuildProgress, FailureReason

__all__ = ["Attempts", "fetch_file", "verify_or_quarantine"]


class Attempts:
    """The failures of the sources tried so far, and the error they add up to.

    The reason reported is the most telling one: a hash mismatch if any
    source gave wrong content (someone *has* the data, and it is not what the
    derivation wants), else the failure of the first source, the one the
    derivation names (later fallbacks failing too is expected, the first
    failing is the news).
    """

    __slots__ = ("failures",)

    def __init__(self) -> None:
        self.failures: list[tuple[AttemptKind, str, FetchError]] = []
        """``(kind, source, error)`` for each failed source, in order."""

    def add(self, kind: AttemptKind, source: str, error: FetchError) -> None:
        """Record that ``source`` failed with ``error``."""
        self.failures.append((kind, source, error))

    def error(self, what: str) -> FetchError:
        """The error to report once every source failed (``what``: the output path)."""
        if not self.failures:
            return FetchError(FailureReason.NOT_FOUND, f"{what}: no source to fetch it from")
        mismatches = [e for _, _, e in self.failures if e.reason is FailureReason.HASH_MISMATCH]
        first = mismatches[0] if mismatches else self.failures[0][2]
        others = len(self.failures) - 1
        # "Places", not "sources": in the app a source is a download (an FOD).
        suffix = (
            f" (also tried {others} other place{'s: all' if others != 1 else ': it'} failed)"
            if others
            else ""
        )
        return FetchError(
            first.reason,
            first.detail + suffix,
            expected_hash=first.expected_hash,
            actual_hash=first.actual_hash,
            kept_at=first.kept_at,
        )


def _verify_or_quarantine(
    ctx: BuildContext, path: Path, expected: Expected, cancel: CancelToken
) -> Verified:
    try:
        return verify_output(path, expected, cancel)
    except FetchError as err:
        if err.reason is not FailureReason.HASH_MISMATCH:
            remove_tree(path)
            raise
        kept = ctx.quarantine(path, os.path.basename(expected.output_path))
        detail = err.detail + (f"; fetched data kept in {kept}" if kept else "")
        raise FetchError(
            err.reason,
            detail,
            expected_hash=err.expected_hash,
            actual_hash=err.actual_hash,
            kept_at=kept,
        ) from None


async def verify_or_quarantine(ctx: BuildContext, path: Path, expected: Expected) -> Verified:
    """Verify ``path`` in a thread; on a mismatch keep it in quarantine and re-raise.

    Hashing a large result takes seconds: it must not block the event loop
    (other builds' events, a user interface). ``hashlib`` releases the GIL,
    so concurrent builds also hash in parallel. A cancellation stops the
    hashing at the next chunk, and is waited for.

    Raises:
        FetchError: the mismatch, with ``kept_at`` set (and logged).
    """
    try:
        return await run_in_thread(
            lambda cancel: _verify_or_quarantine(ctx, path, expected, cancel)
        )
    except FetchError as err:
        if err.reason is FailureReason.HASH_MISMATCH:
            ctx.log(err.detail)
        raise


async def fetch_file(ctx: BuildContext, url: str, dest: Path) -> int:
    """Download ``url`` into ``dest`` from a thread, with logs and progress as events.

    Returns:
        The number of bytes received.

    Raises:
        FetchError: the download failed (``dest`` does not exist then).
    """
    emit_threadsafe = ctx.emit_threadsafe
    if emit_threadsafe is None:
        raise RuntimeError("BuildContext.emit_threadsafe is needed for downloads")
    drv_path = ctx.drv_path

    def log(line: str) -> None:
        emit_threadsafe(BuildLog(drv_path, line))

    def progress(done: int, total: int | None) -> None:
        emit_threadsafe(BuildProgress(drv_path, done, total))

    transfer = await run_in_thread(
        lambda cancel: download(url, dest, ctx.options, log=log, progress=progress, cancel=cancel)
    )
    return transfer.size
