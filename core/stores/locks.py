"""One lock file per output path, so two processes never build the same item at once.

``flock`` locks belong to an open file description: the kernel drops them
when the process dies, even by ``SIGKILL``, so a killed fetch never leaves a
stale lock behind.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import os
from pathlib import Path
from typing import Final

from revive.core.store_path import hash_part

__all__ = ["OutputLock"]

_POLL: Final = 0.05
"""Seconds between two tries while another process holds the lock."""


class OutputLock:
    """An exclusive lock on one store path, held between :meth:`acquire` and :meth:`release`."""

    __slots__ = ("file", "_fd")

    def __init__(self, lock_dir: Path, store_path: str) -> None:
        self.file = lock_dir / f"{hash_part(store_path)}.lock"
        """The lock file (named after the path's hash part)."""
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        """Take the lock if it is free; True if now held."""
        if self._fd is not None:
            return True
        try:
            fd = os.open(self.file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except FileNotFoundError:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            os.close(fd)
            if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                return False
            raise
        self._fd = fd
        return True

    async def acquire(self) -> None:
        """Wait for the lock without blocking the event loop (cancellable)."""
        while not self.try_acquire():
            await asyncio.sleep(_POLL)

    def release(self) -> None:
        """Release the lock (the file stays: deleting it would race a waiter)."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
