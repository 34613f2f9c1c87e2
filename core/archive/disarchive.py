"""Disarchive: is there a description of this tarball on a Disarchive mirror?

A description (an S-expression saying how to re-assemble the exact
tarball from a Software Heritage directory) lives at
``<base><algo>/<hex digest>`` (``guix-derivations.md`` §7.3), one per
mirror of :attr:`MirrorConfig.disarchive`. The mirrors are asked in
order; the first that has it answers.
"""

from __future__ import annotations

from revive.core.archive.answer import Fallback, ProbeAnswer, Status
from revive.core.archive.context import Found, ProbeContext
from revive.core.fetch.spec import Expected

__all__ = ["disarchive_urls_for", "probe_disarchive"]


def disarchive_urls_for(expected: Expected, bases: tuple[str, ...]) -> tuple[str, ...]:
    """The description URL on each mirror (flat hashes only: tarballs)."""
    if expected.recursive:
        return ()
    return tuple(f"{base}{expected.algorithm}/{expected.digest.hex()}" for base in bases)


async def probe_disarchive(ctx: ProbeContext, expected: Expected) -> list[ProbeAnswer]:
    """Ask each Disarchive mirror in order until one has a description."""
    answers: list[ProbeAnswer] = []
    for url in disarchive_urls_for(expected, ctx.config.mirrors.disarchive):

        async def how(url: str = url) -> Found:
            response = await ctx.http().request("GET", url, max_body=1 << 20)
            if response.status == 200 and response.body.lstrip().startswith(b"("):
                return Found(Status.AVAILABLE, url, f"description of {len(response.body)} bytes")
            if response.status == 200:
                return Found(Status.MISSING, detail="HTTP 200 but not a Disarchive description")
            return Found(Status.MISSING, detail=f"HTTP {response.status}")

        answer = await ctx.ask(f"disarchive:{url}", Fallback.DISARCHIVE, f"GET {url}", how)
        answers.append(answer)
        if answer.status is Status.AVAILABLE:
            break
    return answers
