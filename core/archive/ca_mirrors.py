"""Content-addressed mirrors: the file looked up by its hash, as the daemon would.

The URL forms are today's content-addressed templates
(:attr:`MirrorConfig.content_addressed`: ``{file}``, ``{algo}``,
``{nix32}``, ``{hex}``), the same data a rewrite writes into the
``content-addressed-mirrors`` file, so the probe asks exactly where a
rewritten FOD would look. Only flat hashes are looked up this way (a
recursive hash is a nar hash, which these mirrors do not index).
"""

from __future__ import annotations

from revive.core import base32
from revive.core.archive.answer import Fallback, ProbeAnswer, Status
from revive.core.archive.context import ProbeContext
from revive.core.archive.upstream import probe_url
from revive.core.fetch.spec import Expected

__all__ = ["content_addressed_urls_for", "probe_ca_mirrors"]


def content_addressed_urls_for(expected: Expected, templates: tuple[str, ...]) -> tuple[str, ...]:
    """The URL each template gives for ``expected`` (flat hashes only; else none)."""
    if expected.recursive:
        return ()
    values = {
        "file": expected.name,
        "algo": expected.algorithm,
        "nix32": base32.encode(expected.digest),
        "hex": expected.digest.hex(),
    }
    urls = []
    for template in templates:
        url = template
        for name, value in values.items():
            url = url.replace("{" + name + "}", value)
        urls.append(url)
    return tuple(urls)


async def probe_ca_mirrors(ctx: ProbeContext, expected: Expected) -> list[ProbeAnswer]:
    """Ask each content-addressed mirror in order until one has the file."""
    answers: list[ProbeAnswer] = []
    urls = content_addressed_urls_for(expected, ctx.config.mirrors.content_addressed)
    for url in urls:
        answer = await probe_url(ctx, url, Fallback.CA_MIRROR)
        answers.append(answer)
        if answer.status is Status.AVAILABLE:
            break
    return answers
