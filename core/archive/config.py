"""Where the probes ask, and how hard: base URLs, limits, timeouts, cache lifetimes.

Every base URL is configurable, so that tests and the demo point the
probes at loopback servers. :func:`default_archive_config` gives the real
services: today's mirror data (``core/fetch/data/mirrors.json``) for
``mirror://`` expansion, content-addressed mirrors and Disarchive, the
public Software Heritage API, and the two Guix build farms as substitute
servers. A Software Heritage token is read from ``SWH_AUTH_TOKEN`` when
set (authenticated clients get a much higher rate limit).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from revive.core.fetch.mirrors import MirrorConfig, default_mirror_config

__all__ = [
    "ArchiveConfig",
    "default_archive_config",
    "SWH_API",
    "GUIX_SUBSTITUTES",
    "TOKEN_VARIABLE",
]

SWH_API: Final = "https://archive.softwareheritage.org/api/1/"
"""The public Software Heritage web API."""
GUIX_SUBSTITUTES: Final = ("https://ci.guix.gnu.org", "https://bordeaux.guix.gnu.org")
"""The two Guix build farms (default substitute URLs)."""
TOKEN_VARIABLE: Final = "SWH_AUTH_TOKEN"
"""Environment variable holding a Software Heritage API token."""

_HOUR: Final = 3600.0
_DAY: Final = 24 * _HOUR


@dataclass(frozen=True, slots=True)
class ArchiveConfig:
    """Everything the probes need to know besides the FODs themselves."""

    mirrors: MirrorConfig
    """Today's mirror data: ``mirror://`` expansion, CA templates, Disarchive bases."""
    swh_api: str = SWH_API
    """Base of the Software Heritage API (ends with ``/api/1/``)."""
    swh_token: str | None = None
    """Bearer token for Software Heritage, if the user has one."""
    substitutes: tuple[str, ...] = GUIX_SUBSTITUTES
    """Substitute servers asked for narinfos."""
    url_rewrites: tuple[tuple[str, str], ...] = ()
    """``(old prefix, new prefix)`` applied to upstream URLs and repositories before
    asking (the demo maps its hosts to loopback); answers name the original URL."""
    concurrency: int = 512
    """Questions in flight at once, over all hosts."""
    per_host: int = 128
    """Questions in flight at once to one host (``host:port``)."""
    processes: int = 8
    """Version-control programs (``git``, ``svn``…) running at once."""
    connect_timeout: float = 10.0
    """Seconds to open a connection."""
    read_timeout: float = 20.0
    """Seconds to wait for a reply (and for a version-control program to finish)."""
    retries: int = 2
    """Further attempts after a network error, a timeout or a 5xx."""
    backoff: float = 0.5
    """First wait before a retry, doubled each time."""
    max_rate_wait: float = 30.0
    """Longest wait honoured for a 429's ``Retry-After`` or an exhausted rate limit;
    longer than that, the answer is unknown (rate-limited)."""
    ttl_available: float = 7 * _DAY
    """How long an "available" answer is trusted."""
    ttl_missing: float = _DAY
    """How long a "missing" answer is trusted."""

    def rewrite(self, url: str) -> str:
        """``url`` after the first matching :attr:`url_rewrites` prefix (or unchanged)."""
        for old, new in self.url_rewrites:
            if old and url.startswith(old):
                return new + url[len(old) :]
        return url

    def replace(self, **changes: object) -> ArchiveConfig:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


def default_archive_config(environ: Mapping[str, str] | None = None) -> ArchiveConfig:
    """The real services, with a Software Heritage token from ``SWH_AUTH_TOKEN`` if set."""
    env = os.environ if environ is None else environ
    token = env.get(TOKEN_VARIABLE) or None
    return ArchiveConfig(mirrors=default_mirror_config(), swh_token=token)
