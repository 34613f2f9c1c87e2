"""Upstream: the URLs written in a ``url-fetch`` FOD, ``mirror://`` expanded.

The URLs are tried in the order the daemon would try them: each written
URL in turn, a ``mirror://KIND/PATH`` one replaced by the bases of KIND in
today's mirror table (then in the table the derivation's own era wrote,
for kinds today's lacks). The first URL that has the file answers
"available"; questions stop there.
"""

from __future__ import annotations

from dataclasses import replace

from revive.core.archive.answer import Fallback, ProbeAnswer, Status
from revive.core.archive.context import ProbeContext
from revive.core.archive.exists import url_exists
from revive.core.fetch.mirrors import MirrorError, expand_url
from revive.core.fetch.spec import UrlFetch

__all__ = ["upstream_urls", "probe_url", "probe_upstream_urls"]


def upstream_urls(spec: UrlFetch, ctx: ProbeContext) -> tuple[str, ...]:
    """Every concrete URL the daemon would try for ``spec``, in order, once each."""
    today = ctx.config.mirrors.mirror_table()
    era = dict(spec.embedded_mirrors)
    urls: dict[str, None] = {}
    for url in spec.urls:
        for table in (today, era):
            try:
                expanded = expand_url(url, table)
            except MirrorError:
                continue
            for one in expanded:
                urls.setdefault(one, None)
            break
    return tuple(urls)


async def probe_url(
    ctx: ProbeContext, url: str, fallback: Fallback = Fallback.UPSTREAM
) -> ProbeAnswer:
    """Is the file at ``url`` (after the configured rewrites)? One question."""
    target = ctx.config.rewrite(url)
    answer = await ctx.ask(
        f"url:{target}", fallback, f"HEAD {url}", lambda: url_exists(ctx, target)
    )
    if answer.status is Status.AVAILABLE and target != url:
        return replace(answer, where=url)  # the URL as written, not its loopback stand-in
    return answer


async def probe_upstream_urls(ctx: ProbeContext, spec: UrlFetch) -> list[ProbeAnswer]:
    """Ask each upstream URL in order until one has the file; every answer, in order."""
    answers: list[ProbeAnswer] = []
    for url in upstream_urls(spec, ctx):
        answer = await probe_url(ctx, url)
        answers.append(answer)
        if answer.status is Status.AVAILABLE:
            break
    return answers
