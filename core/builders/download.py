"""``builtin:download``: fetch one file from its URLs, mirrors and fallbacks.

Order (``guix-derivations.md`` §7.4): the URLs of the derivation in order,
``mirror://`` ones expanded with the derivation's own ``mirrors`` file when
the store has it, else with today's table; then the content-addressed
mirrors (again the derivation's own list first); then the Internet Archive's
copy of the first http(s) URL; then Disarchive, which guix-revive cannot
perform and reports as such; then the nar mirrors of the options.

Unlike ``guix perform-download``, which stops at the first source that
returns *something* and lets the daemon fail on a wrong hash, each result is
verified at once and a wrong one makes the builder go on to the next source.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

from revive.core.builders.attempts import Attempts, fetch_file, verify_or_quarantine
from revive.core.builders.context import BuildContext
from revive.core.builders.errors import FetchError
from revive.core.builders.nar_mirror import from_nar_mirrors
from revive.core.builders.options import DownloadMethod
from revive.core.builders.verify import Verified
from revive.core.errors import ReviveError
from revive.core.fetch.mirrors import (
    MirrorConfig,
    MirrorFiles,
    content_addressed_urls,
    default_mirror_config,
    disarchive_urls,
    expand_url,
    parse_mirrors,
)
from revive.core.fetch.spec import Expected, UrlFetch
from revive.core.fetch.text_item import TextItem
from revive.core.stores.api import AttemptKind, FailureReason

__all__ = ["fetch_url", "iter_sources", "url_sources", "disarchive_sources", "archive_url"]


def archive_url(url: str, now: datetime.datetime) -> str:
    """The Internet Archive address of ``url`` as of ``now`` (its nearest snapshot)."""
    return f"https://web.archive.org/web/{now.strftime('%Y%m%d%H%M%S')}/{url}"


def _read_text(read_item: Callable[[str], bytes] | None, path: str | None) -> str | None:
    if read_item is None or path is None:
        return None
    try:
        return read_item(path).decode("utf-8")
    except (ReviveError, UnicodeDecodeError, OSError):
        return None


def _list_text(
    read_item: Callable[[str], bytes] | None,
    own: str | None,
    config: MirrorConfig | None,
    pick: Callable[[MirrorFiles], TextItem],
) -> str:
    """The FOD's own list ``own`` if it can be read, else ``pick`` of ``config``'s (or today's)."""
    text = _read_text(read_item, own)
    if text is None:
        text = pick((config or default_mirror_config()).files()).contents.decode()
    return text


def iter_sources(
    spec: UrlFetch,
    read_item: Callable[[str], bytes] | None,
    log: Callable[[str], None],
    config: MirrorConfig | None = None,
    now: datetime.datetime | None = None,
) -> Iterator[tuple[str, AttemptKind]]:
    """The sources to try for ``spec``, in order, computed lazily.

    Each stage (mirror lists, content-addressed mirrors) is only read when
    the previous ones are exhausted: reading a mirror file means parsing
    Scheme, and most downloads succeed at their first URL.
    """
    expected = spec.expected
    upstream: list[str] = []
    table: Mapping[str, Sequence[str]] | None = None
    for url in spec.urls:
        if not url.startswith("mirror://"):
            upstream.append(url)
            yield url, AttemptKind.UPSTREAM
            continue
        if table is None:
            table = _mirror_table(spec, read_item, log, config)
        try:
            expanded = expand_url(url, table)
        except ReviveError as err:
            log(f"{url}: {err}")
            continue
        for mirror in expanded:
            upstream.append(mirror)
            yield mirror, AttemptKind.MIRROR

    ca_text = _list_text(
        read_item, spec.content_addressed_mirrors_file, config, lambda f: f.content_addressed
    )
    try:
        ca_urls = content_addressed_urls(
            ca_text, expected.name, expected.algorithm, expected.digest
        )
    except ReviveError as err:
        log(f"cannot use the content-addressed mirror list: {err}")
        ca_urls = ()
    for url in ca_urls:
        yield url, AttemptKind.CONTENT_ADDRESSED

    first = next((u for u in upstream if u.startswith(("http://", "https://"))), None)
    if first is None:
        first = next((u for u in ca_urls if u.startswith(("http://", "https://"))), None)
    if first is not None:
        when = now or datetime.datetime.now(datetime.UTC)
        yield archive_url(first, when), AttemptKind.ARCHIVE


def _mirror_table(
    spec: UrlFetch,
    read_item: Callable[[str], bytes] | None,
    log: Callable[[str], None],
    config: MirrorConfig | None,
) -> Mapping[str, Sequence[str]]:
    own = _read_text(read_item, spec.mirrors_file)
    if own is not None:
        try:
            return parse_mirrors(own, spec.mirrors_file or "<mirrors>")
        except ReviveError as err:
            log(f"cannot read the mirror list: {err}; using today's")
    elif spec.mirrors_file is not None:
        log(f"mirror list {spec.mirrors_file} is not in the store; using today's")
    return (config or default_mirror_config()).mirror_table()


def disarchive_sources(
    spec: UrlFetch,
    read_item: Callable[[str], bytes] | None,
    config: MirrorConfig | None = None,
) -> list[str]:
    """The Disarchive specification URLs for ``spec`` (own list first, else ``config``'s)."""
    expected = spec.expected
    text = _list_text(read_item, spec.disarchive_mirrors_file, config, lambda f: f.disarchive)
    try:
        return list(disarchive_urls(text, expected.algorithm, expected.digest))
    except ReviveError:
        return []


def url_sources(
    spec: UrlFetch,
    read_item: Callable[[str], bytes] | None,
    log: Callable[[str], None],
    config: MirrorConfig | None = None,
    now: datetime.datetime | None = None,
) -> tuple[list[tuple[str, AttemptKind]], list[str]]:
    """Every source of :func:`iter_sources`, and the Disarchive specification URLs."""
    sources = list(iter_sources(spec, read_item, log, config, now))
    return sources, disarchive_sources(spec, read_item, config)


_METHOD_OF = {
    AttemptKind.UPSTREAM: DownloadMethod.UPSTREAM,
    AttemptKind.MIRROR: DownloadMethod.UPSTREAM,
    AttemptKind.CONTENT_ADDRESSED: DownloadMethod.CONTENT_ADDRESSED_MIRRORS,
    AttemptKind.ARCHIVE: DownloadMethod.INTERNET_ARCHIVE,
}


async def fetch_url(spec: UrlFetch, ctx: BuildContext) -> Verified:
    """Fetch ``spec`` into the work directory and verify it.

    Raises:
        FetchError: every source failed; the reason is the most telling one.
    """
    expected = spec.expected
    attempts = Attempts()
    for original, kind in iter_sources(spec, ctx.read_item, ctx.log, ctx.mirror_config):
        if not ctx.options.allows(_METHOD_OF[kind]):
            continue
        url = ctx.rewritten(original)
        result = await _try(ctx, url, kind, expected, spec.executable, attempts)
        if result is not None:
            return result
    disarchive = (
        disarchive_sources(spec, ctx.read_item, ctx.mirror_config)
        if ctx.options.allows(DownloadMethod.DISARCHIVE)
        else []
    )
    if disarchive:
        ctx.attempt(disarchive[0], AttemptKind.DISARCHIVE)
        detail = (
            "Disarchive re-assembly is not available in guix-revive "
            f"(specification would be looked up at {', '.join(disarchive)})"
        )
        ctx.log(detail)
        attempts.add(
            AttemptKind.DISARCHIVE,
            disarchive[0],
            FetchError(FailureReason.BUILDER_UNSUPPORTED, detail),
        )
    verified = await from_nar_mirrors(ctx, expected, attempts, spec.method)
    if verified is not None:
        return verified
    raise attempts.error(expected.output_path)


async def _try(
    ctx: BuildContext,
    url: str,
    kind: AttemptKind,
    expected: Expected,
    executable: bool,
    attempts: Attempts,
) -> Verified | None:
    ctx.attempt(url, kind)
    dest: Path = ctx.fresh_path("download")
    try:
        size = await fetch_file(ctx, url, dest)
        ctx.log(f"downloaded {size} bytes from {url}")
        if executable:
            os.chmod(dest, 0o755)
        return await verify_or_quarantine(ctx, dest, expected)
    except FetchError as err:
        if err.reason is not FailureReason.HASH_MISMATCH:
            ctx.log(str(err))
        attempts.add(kind, url, err)
        return None
