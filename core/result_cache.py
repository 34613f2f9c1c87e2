"""Results computed from a closure, kept with the state of every file of it.

A verification report depends only on the content of the closure's ``.drv``
files. It is kept in a small file of its own, with the list of those files
and, for each, what ``stat`` said when it was computed: inode, size,
modification and change times (nanoseconds) and mode; or that it was absent.
The result is reused only when every one of those files says the same
again, so any change to any file of the closure (rewritten, replaced, touched,
deleted, made a directory, a missing input that appeared) makes it stale,
without reading or parsing anything: re-checking is one ``stat`` per file
(≈2 µs), and this module imports nothing heavy, so that a command reusing a
result does not pay for loading the closure.

Unlike the closure pack of :mod:`revive.core.cache` (which trusts the roots'
signatures, since a node's content is the truth for its path), a result is an
*answer about the files*, so it is checked against all of them.

A file changed while it was being verified must not leave a result that
looks fresh (its new state recorded, its old content verified), nor one
changed again later within the same tick of the file system's clock (the
same times recorded twice). So a result is kept only when every file of the
closure last changed (``st_ctime``, which nobody can set back) at least
:data:`SETTLE_NS` before the work that computed it began; otherwise it is
simply recomputed next time (git's "racily clean" entries, handled by not
trusting them).

Files are written to a temporary name and renamed; anything unreadable,
foreign or stale is "no result", never an error.
"""

from __future__ import annotations

import hashlib
import marshal
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from revive.core.store_dir import StoreDir

__all__ = [
    "ResultCache",
    "default_cache_dir",
    "file_states",
    "physical_key",
    "prune_oldest",
    "unlink_quietly",
]

RESULT_VERSION: Final = 1
"""Bumped whenever the layout of a result file changes; older ones are ignored."""
_MAX_RESULTS: Final = 32
"""Result files kept; the least recently written ones are deleted beyond this."""
SETTLE_NS: Final = 2_000_000_000
"""How long before a computation began every file must have last changed (2 s:
coarser than any file system's timestamps, and some clock skew of a network
file system)."""
_ABSENT: Final = (-1, -1, -1, -1, -1)
"""The state of a file that is not there (or is outside the store)."""
_DAMAGED: Final = (OSError, EOFError, ValueError, TypeError)
"""What reading a missing, truncated, corrupt or foreign result can raise."""


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/guix-revive`` (``~/.cache/guix-revive`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    return root / "guix-revive"


def file_states(
    store: StoreDir, paths: Iterable[str], known: Mapping[str, tuple[int, ...]] | None = None
) -> list[int]:
    """Five numbers per store path: what ``stat`` says of its file now (see module doc).

    ``known``: the states of some of the files, taken as they were read
    (:func:`revive.core.load_worker.read_file_state`); the others are asked.
    """
    prefix = store.logical + "/"
    cut = len(prefix)
    physical = os.path.join(store.physical, "")
    states: list[int] = []
    add = states.extend
    stat = os.stat
    given = known.get if known else _nothing
    for path in paths:
        state = given(path)
        if state is not None:
            add(state)
            continue
        if not path.startswith(prefix) or "/" in path[cut:]:
            add(_ABSENT)
            continue
        try:
            info = stat(physical + path[cut:])
        except (OSError, ValueError):  # absent, unreadable directory, NUL in the name
            add(_ABSENT)
            continue
        add((info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_mode))
    return states


def _nothing(_: str) -> None:
    return None


class ResultCache:
    """Results of closures in ``directory/results`` (see the module docstring).

    Args:
        directory: the cache directory; default :func:`default_cache_dir`.
    """

    def __init__(
        self, directory: str | os.PathLike[str] | None = None, *, settle_ns: int = SETTLE_NS
    ) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()
        """The cache directory (``…/guix-revive``)."""
        self.settle_ns = settle_ns
        """See :data:`SETTLE_NS` (tests of fresh copies of a store set 0)."""

    @property
    def results_dir(self) -> Path:
        """The folder of result files."""
        return self.directory / "results"

    def result_path(self, store: StoreDir, roots: tuple[str, ...], kind: str) -> Path:
        """The file holding the result ``kind`` of the closure of ``roots`` in ``store``."""
        key = "\0".join((str(RESULT_VERSION), kind, *_store_key(store), *roots))
        return self.results_dir / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.{kind}"

    def load(self, store: StoreDir, roots: tuple[str, ...], kind: str) -> Any:
        """The value saved for this closure, if no file of it changed since; else ``None``."""
        try:
            blob = self.result_path(store, roots, kind).read_bytes()
            version, key, saved_roots, paths, states, value = marshal.loads(blob)
        except _DAMAGED:  # absent or damaged: no result
            return None
        if (
            version != RESULT_VERSION
            or key != (kind, *_store_key(store))
            or saved_roots != roots
            or file_states(store, paths) != states
        ):
            return None
        return value

    def save(
        self,
        store: StoreDir,
        roots: tuple[str, ...],
        kind: str,
        value: Any,
        paths: Sequence[str],
        since: int,
        states: Mapping[str, tuple[int, ...]] | None = None,
    ) -> bool:
        """Keep ``value`` (marshal-able), computed from the files of ``paths`` as they are now.

        Args:
            paths: every node of the closure (missing ones included: one that
                appears makes the result stale).
            since: ``time.time_ns()`` before the first of those files was
                read; the result is not kept if one changed after
                ``since - settle_ns`` (see the module docstring).
            states: the states of files taken as they were read, for the
                value computed from what was read (the others are asked).

        Returns:
            Whether it was kept (errors are ignored: a result that cannot be
            kept is recomputed).
        """
        file = self.result_path(store, roots, kind)
        numbers = file_states(store, paths, states)
        if max(numbers[3::5], default=-1) >= since - self.settle_ns:
            return False
        record = (RESULT_VERSION, (kind, *_store_key(store)), roots, tuple(paths), numbers, value)
        import tempfile  # here: it imports `random`, which a load of a result never needs

        temp = ""
        try:
            blob = marshal.dumps(record)
            file.parent.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=".tmp-", dir=file.parent)
            with os.fdopen(fd, "wb") as handle:
                handle.write(blob)
            os.replace(temp, file)
        except (OSError, ValueError):  # a result that cannot be kept is recomputed
            if temp:
                unlink_quietly(temp)
            return False
        prune_oldest(self.results_dir, keep=file, limit=_MAX_RESULTS, suffix=f".{kind}")
        return True

    def clear(self) -> int:
        """Delete every result; returns how many."""
        try:
            with os.scandir(self.results_dir) as listing:
                paths = [entry.path for entry in listing]
        except OSError:
            return 0
        return sum(unlink_quietly(path) for path in paths)


def _store_key(store: StoreDir) -> tuple[str, str]:
    """The logical directory and the real physical one."""
    return store.logical, physical_key(store)


def physical_key(store: StoreDir) -> str:
    """The real path of the store's physical directory (what cache files are keyed by)."""
    try:
        return os.path.realpath(store.physical)
    except OSError:  # pragma: no cover - realpath only fails on exotic loops
        return str(store.physical)


def prune_oldest(folder: Path, *, keep: Path, limit: int, suffix: str) -> None:
    """Delete the files ending with ``suffix`` in ``folder`` beyond the ``limit`` newest.

    ``keep``, just written, counts as the newest whatever the clock says.
    Recency is the modification time (a cache touches what it reuses).
    """
    entries: list[tuple[int, str]] = []
    try:
        with os.scandir(folder) as listing:
            for entry in listing:
                if entry.name.endswith(suffix) and entry.path != str(keep):
                    try:
                        entries.append((entry.stat().st_mtime_ns, entry.path))
                    except OSError:  # deleted meanwhile by another process
                        continue
    except OSError:
        return
    for _, path in sorted(entries, reverse=True)[limit - 1 :]:
        unlink_quietly(path)


def unlink_quietly(path: str | os.PathLike[str]) -> int:
    """Delete ``path``; 1 if it was deleted, 0 if it could not be (absent, read-only)."""
    try:
        os.unlink(path)
    except OSError:
        return 0
    return 1
