"""Upstream sites known to be gone, so that a plan can say why before anything is tried.

Old environments name hosting sites that have since closed. A download from
one of them can only succeed through a fallback (content-addressed mirrors,
a substitute, a ``--url-rewrite`` to where the project moved), and the plan
says so up front. The table is public knowledge, kept short on purpose: a
site is listed only when it closed for everyone, not when one project moved.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

__all__ = ["GoneSite", "KNOWN_GONE", "gone_site"]


@dataclass(frozen=True, slots=True)
class GoneSite:
    """A hosting site that no longer serves what old derivations name."""

    host: str
    """The host name, matched with its subdomains (``gitorious.org``)."""
    why: str
    """One line: what happened, and when."""
    methods: frozenset[str] = frozenset()
    """Only for these fetch methods (``hg-fetch``); empty: for all of them."""


KNOWN_GONE: Final[tuple[GoneSite, ...]] = (
    GoneSite("gitorious.org", "Gitorious closed in 2015"),
    GoneSite("code.google.com", "Google Code closed in 2016"),
    GoneSite("googlecode.com", "Google Code closed in 2016"),
    GoneSite("gna.org", "Gna! closed in 2017"),
    GoneSite("fedorahosted.org", "fedorahosted.org was retired in 2017"),
    GoneSite("codeplex.com", "CodePlex closed in 2017"),
    GoneSite("alioth.debian.org", "Alioth was replaced by salsa.debian.org in 2018"),
    GoneSite("berlios.de", "BerliOS closed in 2014"),
    GoneSite("gforge.inria.fr", "InriaForge closed in 2021"),
    GoneSite(
        "bitbucket.org",
        "Bitbucket deleted its Mercurial repositories in 2020",
        frozenset({"hg-fetch"}),
    ),
)
"""The sites :func:`gone_site` knows."""


def gone_site(
    urls: Iterable[str], method: str, sites: Iterable[GoneSite] = KNOWN_GONE
) -> tuple[str, GoneSite] | None:
    """The first of ``urls`` on a gone site, with that site (``None``: none is).

    Args:
        urls: the URLs or repositories a derivation fetches from.
        method: its fetch method (``url-fetch``, ``hg-fetch``…).
        sites: the table to use.
    """
    table = tuple(sites)
    for url in urls:
        host = (urlsplit(url).hostname or "").lower()
        if not host:
            continue
        for site in table:
            if site.methods and method not in site.methods:
                continue
            if host == site.host or host.endswith("." + site.host):
                return url, site
    return None
