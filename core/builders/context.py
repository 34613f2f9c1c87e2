"""What a builder is given: where to work, how to report, which options."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from revive.core.builders.options import FetchOptions
from revive.core.fetch.mirrors import MirrorConfig
from revive.core.stores.api import (
    AttemptKind,
    BuildAttempt,
    BuildEvent,
    BuildLog,
    BuildProgress,
)

__all__ = ["BuildContext", "remove_tree", "threadsafe_emitter"]


@dataclass(frozen=True, slots=True)
class BuildContext:
    """Everything one build needs besides its :data:`~revive.core.fetch.spec.FetchSpec`.

    ``emit`` is called on the event loop's thread only; code running in a
    worker thread uses :meth:`emit_threadsafe` instead.
    """

    drv_path: str
    """The ``.drv`` being built (every event names it)."""
    emit: Callable[[BuildEvent], None]
    """Where events go."""
    work_dir: Path
    """A private, empty, writable directory on the store's file system."""
    options: FetchOptions = FetchOptions()
    """Timeouts, retries, rewrites, fallbacks."""
    read_item: Callable[[str], bytes] | None = None
    """Reads a store item (the derivation's mirror lists), if the store can."""
    quarantine_dir: Path | None = None
    """Where data with the wrong hash is kept (``None``: it is deleted)."""
    emit_threadsafe: Callable[[BuildEvent], None] | None = None
    """``emit`` for worker threads (set by whoever runs the event loop)."""
    todays_form: bool = True
    """The derivation is in today's form (a ``builtin:`` builder), not an old one:
    it decides which nar mirrors may be used."""
    mirror_config: MirrorConfig | None = None
    """Mirror data used when a derivation's own mirror files are not in the
    store (today's, :func:`~revive.core.fetch.mirrors.default_mirror_config`,
    when ``None``)."""

    def log(self, line: str) -> None:
        """Report one line of build output."""
        self.emit(BuildLog(self.drv_path, line))

    def attempt(self, source: str, kind: AttemptKind) -> None:
        """Report that ``source`` is being tried."""
        self.emit(BuildAttempt(self.drv_path, source, kind))

    def progress(self, done: int, total: int | None) -> None:
        """Report bytes transferred (from the loop's thread)."""
        self.emit(BuildProgress(self.drv_path, done, total))

    def rewritten(self, url: str) -> str:
        """``url`` after :attr:`FetchOptions.url_rewrites`, logging any rewrite."""
        new = self.options.rewrite(url)
        if new is None:
            return url
        self.log(f"rewriting {url} -> {new}")
        return new

    def fresh_path(self, stem: str) -> Path:
        """A path inside :attr:`work_dir` that does not exist yet."""
        for i in range(1_000_000):
            path = self.work_dir / f"{stem}-{i}"
            if not os.path.lexists(path):
                return path
        raise RuntimeError("no free name in the work directory")  # pragma: no cover

    def quarantine(self, path: Path, name: str) -> str | None:
        """Move ``path`` to the quarantine directory; return where it went."""
        if self.quarantine_dir is None:
            remove_tree(path)
            return None
        self.quarantine_dir.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S")
        for i in range(1_000_000):
            target = self.quarantine_dir / f"{name}.{stamp}.{os.getpid()}.{i}"
            if not os.path.lexists(target):
                break
        os.rename(path, target)
        return str(target)


def threadsafe_emitter(emit: Callable[[BuildEvent], None]) -> Callable[[BuildEvent], None]:
    """``emit`` for worker threads: each event is handed to the running event loop.

    Call it on the loop's thread (it captures the running loop). Events sent
    after the loop has closed are dropped: nobody is left to receive them.
    """
    loop = asyncio.get_running_loop()

    def emit_threadsafe(event: BuildEvent) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed
            loop.call_soon_threadsafe(emit, event)

    return emit_threadsafe


def remove_tree(path: str | os.PathLike[str]) -> None:
    """Delete a file or tree, even one made read-only as store items are."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(info.st_mode):
        os.unlink(path)
        return
    # Store items are 0555 directories: their entries cannot be unlinked
    # until every directory is writable again.
    os.chmod(path, 0o755)
    for root, dirs, _files in os.walk(path):
        for name in dirs:
            full = os.path.join(root, name)
            if not os.path.islink(full):
                os.chmod(full, 0o755)
    shutil.rmtree(path)
