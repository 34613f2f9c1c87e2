"""How embedded builders fetch: timeouts, retries, URL rewrites, fallbacks."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final

__all__ = ["DownloadMethod", "ALL_METHODS", "FetchOptions"]


class DownloadMethod(enum.StrEnum):
    """Kinds of source a builder may try, named as Guix's ``download-methods``.

    A derivation's own ``download-methods`` env value (later Guix) and
    :attr:`FetchOptions.methods` both restrict and order nothing else: each
    builder keeps its documented order (``guix-derivations.md`` §7.4, §7.5)
    and skips the methods not allowed.
    """

    UPSTREAM = "upstream"
    """The URLs or repository of the derivation (``mirror://`` expanded)."""
    CONTENT_ADDRESSED_MIRRORS = "content-addressed-mirrors"
    """Mirrors looked up by hash (a ``guix publish`` server, tarballs.nixos.org, SWH)."""
    INTERNET_ARCHIVE = "internet-archive"
    """web.archive.org's copy of the first http(s) URL."""
    DISARCHIVE = "disarchive"
    """Disarchive re-assembly from Software Heritage (reported, not performed)."""
    NAR = "nar"
    """NAR mirrors (:attr:`FetchOptions.nar_mirrors`)."""
    SWH = "swh"
    """Software Heritage by origin URL and revision, for VCS checkouts (reported only)."""


ALL_METHODS: Final = tuple(DownloadMethod)
"""Every method, the default."""


@dataclass(frozen=True, slots=True)
class FetchOptions:
    """Settings shared by every embedded builder of one store."""

    connect_timeout: float = 20.0
    """Seconds to wait for a TCP (and TLS) connection."""
    read_timeout: float = 60.0
    """Seconds to wait for the next bytes of an answer."""
    retries: int = 2
    """Extra tries of one URL after a transient failure (timeout, reset, 5xx)."""
    retry_delay: float = 1.0
    """Seconds before the first retry; doubled for each further one."""
    max_redirects: int = 10
    """HTTP redirects followed for one URL before giving up."""
    url_rewrites: tuple[tuple[str, str], ...] = ()
    """``(old_prefix, new_prefix)`` pairs applied to every URL and repository
    before it is fetched (the first matching pair wins); each use is logged."""
    nar_mirrors: tuple[str, ...] = ()
    """Base URLs tried, for a FOD of any method in today's form, once the
    other sources failed: ``<base>/nar/<basename of the output path>``, an
    uncompressed NAR. An old form keeps its era's nar servers instead
    (:mod:`revive.core.builders.nar_mirror`)."""
    nar_mirrors_for_old_forms: bool = False
    """Also give FODs in an old form (not rewritten) today's nar mirrors."""
    methods: tuple[DownloadMethod, ...] = ALL_METHODS
    """The kinds of source allowed (tests and offline use restrict this)."""
    tool_timeout: float | None = None
    """Seconds one VCS command may run (``None``: no limit)."""
    user_agent: str = "guix-revive"
    """HTTP ``User-Agent``."""

    def allows(self, method: DownloadMethod) -> bool:
        """True if ``method`` may be used."""
        return method in self.methods

    def rewrite(self, url: str) -> str | None:
        """``url`` with the first matching prefix substituted, or ``None`` if none matches."""
        for old, new in self.url_rewrites:
            if old and url.startswith(old):
                return new + url[len(old) :]
        return None
