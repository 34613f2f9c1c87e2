"""The app's archival state: which FODs were checked, and what each fallback said.

One :class:`ArchivalBoard` per open session (:func:`board_for`), shared by
the tree's badges, the list's column, the Derivation tab and the check
actions. The checks themselves are :mod:`revive.core.archive`'s; this
module only keeps their results and says where to ask: the demo's
loopback archives when the demo is served, the real services otherwise.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable

from revive.core.archive.audit import FodArchival
from revive.core.archive.cache import AnswerCache
from revive.core.archive.config import ArchiveConfig, default_archive_config
from revive.core.archive.targets import FodTarget, fod_target
from revive.tui.session import Session

__all__ = ["ArchivalBoard", "board_for"]


class ArchivalBoard:
    """Archival results of one session, by FOD ``.drv`` path (thread-safe)."""

    def __init__(self, session: Session) -> None:
        self._session = weakref.ref(session)
        self._lock = threading.Lock()
        self._results: dict[str, FodArchival] = {}
        self._targets: dict[str, FodTarget] = {}
        self.cache = AnswerCache()
        """Answers kept between runs (the same file as ``guix-revive audit``)."""
        self.config_override: ArchiveConfig | None = None
        """Where to ask instead of the usual places (tests, benchmarks)."""

    def result(self, path: str) -> FodArchival | None:
        """The last check of ``path``, if any."""
        with self._lock:
            return self._results.get(path)

    def record(self, result: FodArchival) -> None:
        """Keep a finished check."""
        with self._lock:
            self._results[result.target.drv_path] = result

    @property
    def checked(self) -> int:
        """How many FODs have a result."""
        with self._lock:
            return len(self._results)

    def config(self) -> ArchiveConfig:
        """Where to ask: the demo's loopback archives when served, else the real services."""
        if self.config_override is not None:
            return self.config_override
        session = self._session()
        servers = session.servers if session is not None else None
        if servers is not None:
            from revive.core.demo.archive_services import demo_archive_config

            return demo_archive_config(servers)
        return default_archive_config()

    def targets(self, paths: Iterable[str]) -> list[FodTarget]:
        """The audit targets of ``paths`` (FODs only; read once per session; slow: a worker's)."""
        session = self._session()
        if session is None:
            return []
        out = []
        derivations = session.graph.derivations
        for path in paths:
            target = self._targets.get(path)
            if target is None and path in derivations:
                target = fod_target(path, derivations[path], session.read_item)
                if target is not None:
                    self._targets[path] = target
            if target is not None:
                out.append(target)
        return out


_BOARDS: dict[int, tuple[weakref.ref[Session], ArchivalBoard]] = {}


def board_for(session: Session) -> ArchivalBoard:
    """The archival board of ``session`` (created on first use)."""
    entry = _BOARDS.get(id(session))
    if entry is not None and entry[0]() is session:
        return entry[1]
    board = ArchivalBoard(session)
    _BOARDS[id(session)] = (weakref.ref(session, lambda _: _BOARDS.pop(id(session), None)), board)
    return board
