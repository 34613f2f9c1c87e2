"""Ask substitute servers whether they have an output (its narinfo).

A substitute server (``guix publish``, ``ci.guix.gnu.org``) answers
``GET <url>/<hash part of the path>.narinfo`` with the item's description
(``StorePath:``, ``URL:``, ``NarHash:``…) when it has it, and 404 when it
does not. A source a server has needs no fetch from upstream at all: the
daemon substitutes it. Signatures are the daemon's business when it
substitutes; here only "is it there, for this exact path" is asked.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Final

from revive.core.store_path import hash_part

__all__ = ["DEFAULT_SUBSTITUTE_URLS", "SubstituteAnswers", "narinfo_url", "query_substitutes"]

DEFAULT_SUBSTITUTE_URLS: Final = ("https://bordeaux.guix.gnu.org", "https://ci.guix.gnu.org")
"""Guix's own default substitute servers."""

_MAX_NARINFO: Final = 1 << 20


@dataclass(frozen=True, slots=True)
class SubstituteAnswers:
    """What the servers said."""

    found: dict[str, str]
    """Output path → the first server (in the given order) that has it."""
    errors: dict[str, str]
    """Server → the first error it gave (unreachable, a server error…)."""


def narinfo_url(server: str, path: str) -> str:
    """``<server>/<hash part>.narinfo``."""
    return f"{server.rstrip('/')}/{hash_part(path)}.narinfo"


def query_substitutes(
    paths: Iterable[str],
    servers: Sequence[str],
    *,
    timeout: float = 10.0,
    workers: int = 8,
) -> SubstituteAnswers:
    """Which of ``paths`` some server of ``servers`` can substitute.

    A server that cannot be reached is asked nothing more (its first error
    is kept), so a dead server costs one timeout, not one per path. A
    narinfo counts only if its ``StorePath`` is exactly the path asked.
    """
    wanted = list(dict.fromkeys(paths))
    found: dict[str, str] = {}
    errors: dict[str, str] = {}
    for server in servers:
        remaining = [p for p in wanted if p not in found]
        if not remaining:
            break
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            answers = list(
                pool.map(
                    _ask,
                    [server] * len(remaining),
                    remaining,
                    [timeout] * len(remaining),
                    [errors] * len(remaining),
                )
            )
        for path, has in zip(remaining, answers, strict=True):
            if has:
                found[path] = server
    return SubstituteAnswers(found, errors)


def _ask(server: str, path: str, timeout: float, errors: dict[str, str]) -> bool:
    if server in errors:
        return False
    request = urllib.request.Request(
        narinfo_url(server, path), headers={"User-Agent": "guix-revive"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            body = answer.read(_MAX_NARINFO).decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        if err.code != 404:
            errors.setdefault(server, f"HTTP {err.code} {err.reason}")
        return False
    except (urllib.error.URLError, OSError, ValueError) as err:
        reason = getattr(err, "reason", err)
        errors.setdefault(server, str(reason))
        return False
    return any(
        line.partition(":")[2].strip() == path
        for line in body.splitlines()
        if line.startswith("StorePath:")
    )
