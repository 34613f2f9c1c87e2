"""The embedded store's database of valid paths (SQLite, WAL).

One row per valid item: its NAR hash and size, its references and its
deriver, as the daemon registers them (``guix-derivations.md`` §8.2). WAL
mode and a busy timeout let two guix-revive processes use one store at
once; a row is only ever inserted, never replaced, so nothing valid changes.
"""

from __future__ import annotations

import fcntl
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from revive.core.errors import StoreError

__all__ = ["PathInfo", "ValidPathDB"]

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS valid_paths (
    path TEXT PRIMARY KEY,
    nar_hash TEXT NOT NULL,       -- "sha256:<base16>" of the item's NAR
    nar_size INTEGER NOT NULL,
    deriver TEXT,
    registered INTEGER NOT NULL   -- seconds since the epoch
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS refs (
    referrer TEXT NOT NULL,
    reference TEXT NOT NULL,
    PRIMARY KEY (referrer, reference)
) WITHOUT ROWID;
"""
_BUSY_MS: Final = 30_000
_BATCH: Final = 500
"""Paths per ``IN (…)`` query (SQLite limits the number of parameters)."""


@dataclass(frozen=True, slots=True)
class PathInfo:
    """What the store knows about one valid item."""

    path: str
    """The store path."""
    nar_hash: str
    """``sha256:<base16>`` of its NAR."""
    nar_size: int
    """Size of its NAR."""
    references: tuple[str, ...] = ()
    """Store paths it refers to, sorted."""
    deriver: str | None = None
    """The ``.drv`` it was built from, if any."""
    registered: int = 0
    """When it became valid (seconds since the epoch)."""


class ValidPathDB:
    """The SQLite database of one embedded store (one connection per thread)."""

    def __init__(self, file: Path) -> None:
        self.file = file
        """The database file."""
        self._local = threading.local()

    def _connect(self, create: bool) -> sqlite3.Connection | None:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        if not create and not self.file.exists():
            return None
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            # Switching a database to WAL takes an exclusive lock and SQLite
            # does not wait out the busy timeout for it: two threads or
            # processes opening a new store at once got "database is locked".
            # A lock file serialises the set-up (flock excludes threads too,
            # since each opens its own file description).
            with open(self.file.with_name(self.file.name + ".setup-lock"), "a") as setup:
                fcntl.flock(setup, fcntl.LOCK_EX)
                conn = sqlite3.connect(self.file, timeout=_BUSY_MS / 1000, isolation_level=None)
                conn.execute(f"PRAGMA busy_timeout = {_BUSY_MS}")
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")
                conn.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as err:
            raise StoreError(f"{self.file}: cannot open the store database: {err}") from None
        self._local.conn = conn
        return conn

    def is_valid(self, path: str) -> bool:
        """True if ``path`` is registered."""
        conn = self._connect(create=False)
        if conn is None:
            return False
        row = conn.execute("SELECT 1 FROM valid_paths WHERE path = ?", (path,)).fetchone()
        return row is not None

    def query_valid(self, paths: Iterable[str]) -> frozenset[str]:
        """The registered subset of ``paths``."""
        conn = self._connect(create=False)
        if conn is None:
            return frozenset()
        wanted = list(dict.fromkeys(paths))
        found: set[str] = set()
        for start in range(0, len(wanted), _BATCH):
            chunk = wanted[start : start + _BATCH]
            marks = ",".join("?" * len(chunk))
            rows = conn.execute(f"SELECT path FROM valid_paths WHERE path IN ({marks})", chunk)
            found.update(row[0] for row in rows)
        return frozenset(found)

    def info(self, path: str) -> PathInfo | None:
        """Everything known about ``path``, or ``None`` if it is not valid."""
        conn = self._connect(create=False)
        if conn is None:
            return None
        row = conn.execute(
            "SELECT nar_hash, nar_size, deriver, registered FROM valid_paths WHERE path = ?",
            (path,),
        ).fetchone()
        if row is None:
            return None
        refs = tuple(
            r[0]
            for r in conn.execute(
                "SELECT reference FROM refs WHERE referrer = ? ORDER BY reference", (path,)
            )
        )
        return PathInfo(path, row[0], row[1], refs, row[2], row[3])

    def register(self, info: PathInfo) -> bool:
        """Record ``info`` as valid; False (and no change) if ``info.path`` already was.

        Raises:
            StoreError: the database cannot be written.
        """
        conn = self._connect(create=True)
        assert conn is not None
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                cursor = conn.execute(
                    "INSERT INTO valid_paths (path, nar_hash, nar_size, deriver, registered) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (path) DO NOTHING",
                    (
                        info.path,
                        info.nar_hash,
                        info.nar_size,
                        info.deriver,
                        info.registered or int(time.time()),
                    ),
                )
                added = cursor.rowcount == 1
                if added:
                    conn.executemany(
                        "INSERT OR IGNORE INTO refs (referrer, reference) VALUES (?, ?)",
                        [(info.path, ref) for ref in info.references],
                    )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as err:
            raise StoreError(f"{self.file}: cannot register {info.path}: {err}") from None
        return added

    def close(self) -> None:
        """Close this thread's connection (others close when their thread ends)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
