"""Substitutes: does a substitute server have the FOD's output (a narinfo for it)?

For each configured server (:attr:`ArchiveConfig.substitutes`, by default
the two Guix build farms), in order, ``GET <base>/<hash part>.narinfo``;
a 200 whose narinfo names the output path answers "available", with the
nar's size (``NarSize``).
"""

from __future__ import annotations

from revive.core.archive.answer import Fallback, ProbeAnswer, Status
from revive.core.archive.context import Found, ProbeContext
from revive.core.archive.narinfo import NarInfoError, parse_narinfo
from revive.core.store_path import hash_part

__all__ = ["narinfo_url", "probe_substitutes"]


def narinfo_url(base: str, output_path: str) -> str:
    """Where server ``base`` keeps the narinfo of ``output_path``."""
    return f"{base.rstrip('/')}/{hash_part(output_path)}.narinfo"


async def probe_substitutes(ctx: ProbeContext, output_path: str) -> list[ProbeAnswer]:
    """Ask each substitute server in order until one has a narinfo for ``output_path``."""
    answers: list[ProbeAnswer] = []
    for base in ctx.config.substitutes:
        url = narinfo_url(base, output_path)

        async def how(url: str = url) -> Found:
            response = await ctx.http().request("GET", url, max_body=256 << 10)
            if response.status != 200:
                return Found(Status.MISSING, detail=f"HTTP {response.status}")
            try:
                info = parse_narinfo(response.body.decode("utf-8", "replace"))
            except NarInfoError as err:
                return Found(Status.MISSING, detail=f"bad narinfo: {err}")
            if info.store_path != output_path:
                return Found(Status.MISSING, detail=f"narinfo is for {info.store_path}")
            compression = ", ".join(info.compressions) or "none"
            return Found(
                Status.AVAILABLE,
                url,
                f"nar of {info.nar_size} bytes ({compression})",
                nar_size=info.nar_size,
            )

        answer = await ctx.ask(f"narinfo:{url}", Fallback.NAR, f"GET {url}", how)
        answers.append(answer)
        if answer.status is Status.AVAILABLE:
            break
    return answers
