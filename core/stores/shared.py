"""Steps the embedded store and the Guix store take alike.

Both read ``.drv`` files and sources from read-only store copies, and both
fetch a fixed-output derivation with guix-revive's own builders: the
embedded store always, the Guix store for the FODs its daemon cannot build.
How the fetched result then enters the store differs (an atomic rename and a
database row, or ``add-to-store`` through the daemon), so that stays with
each store; what comes before is here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from os import PathLike
from pathlib import Path
from typing import Protocol

from revive.core.builders.context import BuildContext, threadsafe_emitter
from revive.core.builders.dispatch import run_builder
from revive.core.builders.options import FetchOptions
from revive.core.builders.verify import Verified
from revive.core.derivation import Derivation
from revive.core.errors import MissingStoreItem, ReviveError
from revive.core.fetch.extract import extract_fetch_spec
from revive.core.fetch.mirrors import MirrorConfig
from revive.core.fetch.spec import FetchSpec
from revive.core.store_dir import StoreDir
from revive.core.stores.api import BuildEvent, BuildFailed, FailureReason

__all__ = [
    "read_only_copies",
    "build_failed",
    "fetch_spec_or_failure",
    "fetch_and_verify",
    "FetchingStore",
]


class FetchingStore(Protocol):
    """What :func:`fetch_and_verify` needs of the store it fetches for."""

    @property
    def options(self) -> FetchOptions:
        """How the builders fetch."""

    @property
    def quarantine_dir(self) -> Path | None:
        """Where data with a wrong hash is kept."""

    def read_item(self, path: str) -> bytes:
        """The bytes of a store item (a builder script, a mirror list)."""


def read_only_copies(
    read_only: Sequence[StoreDir | str | PathLike[str]], store_dir: str
) -> tuple[StoreDir, ...]:
    """The store copies a store reads from, each opened for ``store_dir`` if given as a path."""
    return tuple(d if isinstance(d, StoreDir) else StoreDir.open(d, store_dir) for d in read_only)


def build_failed(drv_path: str, err: ReviveError, otherwise: FailureReason) -> BuildFailed:
    """The failure ``err`` ends the build of ``drv_path`` with.

    A missing store item is :attr:`~FailureReason.MISSING_INPUT` (the user
    can add it); any other error is ``otherwise``.
    """
    reason = FailureReason.MISSING_INPUT if isinstance(err, MissingStoreItem) else otherwise
    return BuildFailed(drv_path, reason, str(err))


def fetch_spec_or_failure(
    drv: Derivation, drv_path: str, read_item: Callable[[str], bytes]
) -> FetchSpec | BuildFailed:
    """What FOD ``drv`` fetches, or the failure that says why it cannot be known.

    A missing input (an old builder script, a mirror list) is
    :attr:`~FailureReason.MISSING_INPUT`; a fetch method guix-revive cannot
    read is :attr:`~FailureReason.BUILDER_UNSUPPORTED`.
    """
    try:
        return extract_fetch_spec(drv, read_item, path=drv_path)
    except ReviveError as err:
        return build_failed(drv_path, err, FailureReason.BUILDER_UNSUPPORTED)


async def fetch_and_verify(
    spec: FetchSpec,
    drv_path: str,
    emit: Callable[[BuildEvent], None],
    work: Path,
    store: FetchingStore,
    *,
    todays_form: bool,
    mirror_config: MirrorConfig | None = None,
) -> Verified:
    """Fetch ``spec`` into ``work`` with guix-revive's builders and check its hash.

    ``store`` gives the fetch options, the quarantine and the store items
    the builders read.

    Events are emitted from this event loop's thread (``emit``) or, through
    the loop, from the builders' worker threads.

    Raises:
        FetchError: it could not be fetched or had the wrong hash.
    """
    ctx = BuildContext(
        drv_path,
        emit,
        work,
        store.options,
        read_item=store.read_item,
        quarantine_dir=store.quarantine_dir,
        emit_threadsafe=threadsafe_emitter(emit),
        todays_form=todays_form,
        mirror_config=mirror_config,
    )
    return await run_builder(spec, ctx)
