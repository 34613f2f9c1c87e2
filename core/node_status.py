"""What is known about each node's output: fetched, rewritten, being fetched, failed.

A node's status is a handful of independent facts (its output is in the
store; a rewritten form was written; a fetch is running; the last fetch
failed, and why; it cannot be fetched here, and why). :class:`NodeStatus`
keeps the facts and derives the one :class:`FetchState` a user sees, so
that, for instance, a rewritten node that is then fetched shows as valid
while still remembering its rewrite.
:class:`StatusBoard` holds the status of every node of a closure.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Final

__all__ = ["FetchState", "NodeStatus", "StatusBoard", "KEEP"]


class _Keep:
    """Marker type: leave :attr:`NodeStatus.failure` as it is."""


KEEP: Final = _Keep()
"""The default ``failure=`` of :meth:`NodeStatus.evolve`: keep the current failure."""


class FetchState(enum.StrEnum):
    """The one state shown for a node, most urgent first when facts overlap."""

    FETCHING = "fetching"
    FAILED = "failed"
    VALID = "valid"
    REWRITTEN = "rewritten"
    NOT_FETCHED = "not fetched"


@dataclass(frozen=True, slots=True)
class NodeStatus:
    """The facts known about one node's output."""

    valid: bool = False
    """Its output is present in the store."""
    rewritten_drv: str | None = None
    """The ``.drv`` path of its rewritten form, once written to the store."""
    fetching: bool = False
    """A build or fetch of it is running."""
    failure: str | None = None
    """Why the last build or fetch failed (one line), or ``None``."""
    blocked: str | None = None
    """Why it cannot be fetched here, before trying (``needs svn (not installed)``)."""

    @property
    def reason(self) -> str | None:
        """The one line shown beside the state: the failure, else why it is blocked.

        Once the output is present, being blocked no longer matters.
        """
        if self.failure is not None:
            return self.failure
        return None if self.valid else self.blocked

    @property
    def state(self) -> FetchState:
        """The state to show: fetching, then failed, valid, rewritten, not fetched."""
        if self.fetching:
            return FetchState.FETCHING
        if self.failure is not None:
            return FetchState.FAILED
        if self.valid:
            return FetchState.VALID
        if self.rewritten_drv is not None:
            return FetchState.REWRITTEN
        return FetchState.NOT_FETCHED

    def evolve(
        self,
        *,
        valid: bool | None = None,
        rewritten_drv: str | None = None,
        fetching: bool | None = None,
        failure: str | None | _Keep = KEEP,
        blocked: str | None | _Keep = KEEP,
    ) -> NodeStatus:
        """A copy with some facts changed; ``failure=None`` clears a failure (``blocked`` too).

        ``rewritten_drv`` is only ever set, never cleared (a written ``.drv``
        stays in the store).
        """
        return replace(
            self,
            valid=self.valid if valid is None else valid,
            rewritten_drv=self.rewritten_drv if rewritten_drv is None else rewritten_drv,
            fetching=self.fetching if fetching is None else fetching,
            failure=self.failure if isinstance(failure, _Keep) else failure,
            blocked=self.blocked if isinstance(blocked, _Keep) else blocked,
        )


_UNKNOWN: Final = NodeStatus()


class StatusBoard:
    """The status of every node of a closure (nodes never mentioned are not fetched).

    Mutable on purpose: the app updates it as fetches progress. Each update
    returns the new status so callers can refresh only what changed.
    """

    __slots__ = ("_status",)

    def __init__(self) -> None:
        self._status: dict[str, NodeStatus] = {}

    def __getitem__(self, path: str) -> NodeStatus:
        return self._status.get(path, _UNKNOWN)

    def __iter__(self) -> Iterator[str]:
        return iter(self._status)

    def __len__(self) -> int:
        return len(self._status)

    def set(self, path: str, status: NodeStatus) -> NodeStatus:
        """Record ``status`` for ``path`` and return it."""
        self._status[path] = status
        return status

    def started(self, path: str) -> NodeStatus:
        """A fetch of ``path`` started: fetching, previous failure forgotten."""
        return self.set(path, self[path].evolve(fetching=True, failure=None))

    def succeeded(self, path: str) -> NodeStatus:
        """A fetch of ``path`` produced its output."""
        return self.set(path, self[path].evolve(fetching=False, valid=True, failure=None))

    def failed(self, path: str, reason: str) -> NodeStatus:
        """A fetch of ``path`` failed for ``reason`` (one line)."""
        return self.set(path, self[path].evolve(fetching=False, failure=reason))

    def stopped(self, path: str) -> NodeStatus:
        """A fetch of ``path`` ended without a result (cancelled)."""
        return self.set(path, self[path].evolve(fetching=False))

    def present(self, path: str) -> NodeStatus:
        """The output of ``path`` is in the store (put there by it or by a twin)."""
        return self.set(path, self[path].evolve(valid=True, failure=None))

    def block(self, path: str, reason: str) -> NodeStatus:
        """``path`` cannot be fetched here, for ``reason`` (``needs svn (not installed)``)."""
        return self.set(path, self[path].evolve(blocked=reason))

    def rewritten(self, path: str, drv_path: str) -> NodeStatus:
        """The rewritten form of ``path`` was written as ``drv_path``."""
        return self.set(path, self[path].evolve(rewritten_drv=drv_path))

    def in_state(self, state: FetchState) -> tuple[str, ...]:
        """The nodes currently in ``state`` (in no particular order)."""
        return tuple(p for p, s in self._status.items() if s.state is state)
