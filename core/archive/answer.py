"""What a probe says: available (where), missing, or unknown (and why).

Every question a probe asks gets one :class:`ProbeAnswer`; the answers of
one fallback for one FOD are combined by :func:`combine` (the first place
that has it wins; otherwise an unknown beats a missing, since the source
may still be there).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Final

__all__ = ["Fallback", "Status", "ErrorClass", "ProbeAnswer", "combine", "FALLBACK_ORDER"]


class Fallback(enum.StrEnum):
    """The places Guix can get a source from, in the order it tries them."""

    UPSTREAM = "upstream"
    """The URLs (mirrors expanded) or repository written in the derivation."""
    CA_MIRROR = "ca-mirror"
    """Content-addressed mirrors: a file looked up by its hash."""
    SWH = "swh"
    """Software Heritage: content, ExtID (nar hash), revision or origin."""
    DISARCHIVE = "disarchive"
    """A Disarchive description, which re-assembles a tarball from Software Heritage."""
    NAR = "nar"
    """A substitute server's nar of the output."""

    @property
    def badge(self) -> str:
        """One character for tables and the tree: ``↑ ≡ S D N``."""
        return _BADGES[self]

    @property
    def long_name(self) -> str:
        """A short human name (``CA mirror``)."""
        return _LONG_NAMES[self]


_BADGES: Final = {
    Fallback.UPSTREAM: "↑",
    Fallback.CA_MIRROR: "≡",
    Fallback.SWH: "S",
    Fallback.DISARCHIVE: "D",
    Fallback.NAR: "N",
}
_LONG_NAMES: Final = {
    Fallback.UPSTREAM: "upstream",
    Fallback.CA_MIRROR: "CA mirror",
    Fallback.SWH: "Software Heritage",
    Fallback.DISARCHIVE: "Disarchive",
    Fallback.NAR: "substitute nar",
}

FALLBACK_ORDER: Final = tuple(Fallback)
"""Best first: the order in which a source is "saved" by a fallback."""


class Status(enum.StrEnum):
    """The three answers a probe can give."""

    AVAILABLE = "available"
    MISSING = "missing"
    UNKNOWN = "unknown"


class ErrorClass(enum.StrEnum):
    """Why an answer is unknown."""

    NETWORK = "network"
    """Connection refused or reset, no such host, a malformed reply."""
    TIMEOUT = "timeout"
    """No answer in time."""
    RATE_LIMITED = "rate-limited"
    """The service asked us to slow down for longer than we wait (429, rate-limit headers)."""
    TOOL_MISSING = "tool-missing"
    """The program needed (``svn``, ``hg``…) is not installed."""
    SERVER = "server-error"
    """The service answered with an error of its own (5xx)."""
    NOT_CHECKED = "not-checked"
    """``--offline`` and nothing in the cache."""


@dataclass(frozen=True, slots=True)
class ProbeAnswer:
    """One question's answer, e.g. "is ``https://…/x.tar.gz`` there?"."""

    fallback: Fallback
    """Which fallback the question is about."""
    question: str
    """What was asked, in one line (``HEAD https://…``, ``content sha256:…``)."""
    status: Status
    """The answer."""
    where: str = ""
    """Where it is (a URL, a SWHID…) when available."""
    detail: str = ""
    """One line: why missing or unknown, or what was found."""
    error: ErrorClass | None = None
    """Set when :attr:`status` is unknown."""
    seconds: float = 0.0
    """How long the question took (0 for a cached answer's re-use)."""
    checked_at: float = 0.0
    """When it was asked (seconds since the epoch)."""
    nar_size: int | None = None
    """For a narinfo: the nar's size in bytes."""
    cached: bool = False
    """True when the answer comes from the cache of an earlier run."""

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict (inverse of :meth:`from_dict`)."""
        data: dict[str, object] = {
            "fallback": str(self.fallback),
            "question": self.question,
            "status": str(self.status),
            "where": self.where,
            "detail": self.detail,
            "error": None if self.error is None else str(self.error),
            "seconds": round(self.seconds, 4),
            "checked_at": self.checked_at,
        }
        if self.nar_size is not None:
            data["nar_size"] = self.nar_size
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, object], *, cached: bool = False) -> ProbeAnswer:
        """Read what :meth:`to_dict` wrote (``cached``: mark it as coming from the cache).

        Raises:
            ValueError: a field is missing or of the wrong type.
        """
        try:
            error = data.get("error")
            nar_size = data.get("nar_size")
            seconds = data.get("seconds", 0.0)
            checked_at = data.get("checked_at", 0.0)
            if not isinstance(seconds, (int, float)) or not isinstance(checked_at, (int, float)):
                raise ValueError("seconds and checked_at must be numbers")
            return cls(
                fallback=Fallback(str(data["fallback"])),
                question=str(data["question"]),
                status=Status(str(data["status"])),
                where=str(data.get("where", "")),
                detail=str(data.get("detail", "")),
                error=None if error is None else ErrorClass(str(error)),
                seconds=float(seconds),
                checked_at=float(checked_at),
                nar_size=nar_size if isinstance(nar_size, int) else None,
                cached=cached,
            )
        except KeyError as err:
            raise ValueError(f"missing field {err}") from None

    def as_cached(self) -> ProbeAnswer:
        """This answer, marked as coming from the cache."""
        return replace(self, cached=True)


def combine(fallback: Fallback, answers: Iterable[ProbeAnswer]) -> ProbeAnswer | None:
    """One fallback's verdict from its questions' answers (``None`` if none was asked).

    The first available answer wins; else the first unknown (the source may
    be there after all); else the last missing one.
    """
    first_unknown: ProbeAnswer | None = None
    last: ProbeAnswer | None = None
    total = 0.0
    for answer in answers:
        total += answer.seconds
        if answer.status is Status.AVAILABLE:
            return answer if total == answer.seconds else replace(answer, seconds=total)
        if answer.status is Status.UNKNOWN and first_unknown is None:
            first_unknown = answer
        last = answer
    chosen = first_unknown or last
    if chosen is None:
        return None
    if chosen.fallback is fallback and chosen.seconds == total:
        return chosen
    return replace(chosen, fallback=fallback, seconds=total)
