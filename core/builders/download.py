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
from collections.abc import Callable, Mapping, Sequence
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
    content_addressed_urls,
    default_mirror_config,
    disarchive_urls,
    expand_url,
    parse_mirrors,
)
from revive.core.fetch.spec import Expected, UrlFetch
from revive.core.stores.api import AttemptKind, FailureReason

__all__ = ["fetch_url", "url_sources", "archive_url"]


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


def url_sources(
    spec: UrlFetch,
    read_item: Callable[[str], bytes] | None,
    log: Callable[[str], None],
    config: MirrorConfig | None = None,
    now: datetime.datetime | None = None,
) -> tuple[list[tuple[str, AttemptKind]], list[str]]:
    """The sources to try for ``spec``, in order, and the Disarchive specification URLs.

    The derivation's own mirror files are used when ``read_item`` finds
    them; otherwise those of ``config`` (today's data by default).

    Returns:
        ``([(url, kind), …], [disarchive_url, …])``, URLs before any rewrite.
    """
    defaults = config or default_mirror_config()
    expected = spec.expected
    sources: list[tuple[str, AttemptKind]] = []

    table: Mapping[str, Sequence[str]] | None = None
    own_mirrors = _read_text(read_item, spec.mirrors_file)
    if own_mirrors is not None:
        try:
            table = parse_mirrors(own_mirrors, spec.mirrors_file or "<mirrors>")
        except ReviveError as err:
            log(f"cannot read the mirror list: {err}; using today's")
    elif spec.mirrors_file is not None and any(u.startswith("mirror://") for u in spec.urls):
        log(f"mirror list {spec.mirrors_file} is not in the store; using today's")
    if table is None:
        table = defaults.mirror_table()
    for url in spec.urls:
        if url.startswith("mirror://"):
            try:
                expanded = expand_url(url, table)
            except ReviveError as err:
                log(f"{url}: {err}")
                continue
            sources.extend((u, AttemptKind.MIRROR) for u in expanded)
        else:
            sources.append((url, AttemptKind.UPSTREAM))

    files = defaults.files()
    ca_text = _read_text(read_item, spec.content_addressed_mirrors_file)
    if ca_text is None:
        ca_text = files.content_addressed.contents.decode("utf-8")
    try:
        ca_urls = content_addressed_urls(
            ca_text, expected.name, expected.algorithm, expected.digest
        )
    except ReviveError as err:
        log(f"cannot use the content-addressed mirror list: {err}")
        ca_urls = ()
    sources.extend((u, AttemptKind.CONTENT_ADDRESSED) for u in ca_urls)

    first = next((u for u, _ in sources if u.startswith(("http://", "https://"))), None)
    if first is not None:
        when = now or datetime.datetime.now(datetime.UTC)
        sources.append((archive_url(first, when), AttemptKind.ARCHIVE))

    dis_text = _read_text(read_item, spec.disarchive_mirrors_file)
    if dis_text is None:
        dis_text = files.disarchive.contents.decode("utf-8")
    try:
        dis_urls = list(disarchive_urls(dis_text, expected.algorithm, expected.digest))
    except ReviveError:
        dis_urls = []
    return sources, dis_urls


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
    sources, disarchive = url_sources(spec, ctx.read_item, ctx.log, ctx.mirror_config)
    attempts = Attempts()
    for original, kind in sources:
        if not ctx.options.allows(_METHOD_OF[kind]):
            continue
        url = ctx.rewritten(original)
        result = await _try(ctx, url, kind, expected, spec.executable, attempts)
        if result is not None:
            return result
    if ctx.options.allows(DownloadMethod.DISARCHIVE) and disarchive:
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
    verified = await from_nar_mirrors(ctx, expected, attempts)
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
        return verify_or_quarantine(ctx, dest, expected)
    except FetchError as err:
        if err.reason is not FailureReason.HASH_MISMATCH:
            ctx.log(str(err))
        attempts.add(kind, url, err)
        return None
