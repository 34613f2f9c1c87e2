"""Software Heritage: one function per question its web API answers.

Request and reply shapes are those of the documented API
(``https://archive.softwareheritage.org/api/1/``):

* ``GET content/sha256:<hex>/`` — a content (file) by its sha256: 200 with
  a JSON object (``checksums``, ``length``, ``swhid``…), 404 if unknown;
* ``GET extid/nar-sha256/hex:<hex>/?extid_version=1`` — the object whose
  nar hash (Guix's recursive hash) is this: 200 with ``target`` (a SWHID);
  likewise ``extid/hg-nodeid/hex:<changeset>/`` for a Mercurial changeset;
* ``GET revision/<sha1_git>/`` and ``GET release/<sha1_git>/`` — a commit
  or an annotated tag object by id;
* ``GET origin/<url>/visits/`` — the visits of an origin (a repository
  URL), a JSON array of ``{date, status, snapshot, type, visit…}``; an
  origin counts when one visit is ``full`` with a snapshot.

A 404 means missing. Errors come with a JSON ``{"exception", "reason"}``
body. With a token (``SWH_AUTH_TOKEN``), requests carry
``Authorization: Bearer <token>``. Rate limits (429 with ``Retry-After``;
``X-RateLimit-*`` headers) are honoured by the HTTP client.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from revive.core.archive.answer import ErrorClass, Fallback, ProbeAnswer, Status
from revive.core.archive.context import Found, ProbeContext
from revive.core.archive.http_client import ProbeFailure

__all__ = [
    "probe_swh_content",
    "probe_swh_extid",
    "probe_swh_revision",
    "probe_swh_release",
    "probe_swh_origin",
    "swh_url",
]


def swh_url(ctx: ProbeContext, path: str) -> str:
    """The API URL for ``path`` (relative to :attr:`ArchiveConfig.swh_api`)."""
    return ctx.config.swh_api.rstrip("/") + "/" + path.lstrip("/")


async def _get_json(ctx: ProbeContext, path: str) -> tuple[int, Any]:
    headers = {"Accept": "application/json"}
    if ctx.config.swh_token:
        headers["Authorization"] = f"Bearer {ctx.config.swh_token}"
    url = swh_url(ctx, path)
    response = await ctx.http().request("GET", url, headers=headers, max_body=4 << 20)
    if response.status == 404:
        return 404, None
    try:
        return response.status, json.loads(response.body or b"null")
    except ValueError:
        raise ProbeFailure(ErrorClass.NETWORK, f"{url}: the reply is not JSON") from None


def _not_found(status: int, data: Any, what: str) -> Found:
    reason = data.get("reason") if isinstance(data, dict) else None
    return Found(Status.MISSING, detail=str(reason or f"{what}: HTTP {status}")[:200])


async def probe_swh_content(
    ctx: ProbeContext, hex_digest: str, algorithm: str = "sha256"
) -> ProbeAnswer:
    """Does the archive have a file (content) with this hash (``sha256`` or ``sha1``)?"""
    path = f"content/{algorithm}:{hex_digest}/"

    async def how() -> Found:
        status, data = await _get_json(ctx, path)
        if status == 200 and isinstance(data, dict):
            swhid = str(data.get("swhid") or f"{algorithm}:{hex_digest}")
            length = data.get("length")
            size = f" of {length} bytes" if isinstance(length, int) else ""
            return Found(Status.AVAILABLE, swhid, f"content{size}")
        return _not_found(status, data, "content")

    return await ctx.ask(_key(ctx, path), Fallback.SWH, f"content {algorithm}:{hex_digest}", how)


async def probe_swh_extid(
    ctx: ProbeContext, hex_id: str, extid_type: str = "nar-sha256"
) -> ProbeAnswer:
    """Does the archive know an object by this ExtID?

    ``nar-sha256`` (Guix's recursive hash, queried with ``extid_version=1``
    as the API asks) or ``hg-nodeid`` (a Mercurial changeset id).
    """
    version = "?extid_version=1" if extid_type.startswith(("nar-", "checksum-")) else ""
    path = f"extid/{extid_type}/hex:{hex_id}/{version}"

    async def how() -> Found:
        status, data = await _get_json(ctx, path)
        if status == 200 and isinstance(data, dict) and data.get("target"):
            return Found(Status.AVAILABLE, str(data["target"]), f"ExtID {extid_type}")
        return _not_found(status, data, "extid")

    return await ctx.ask(_key(ctx, path), Fallback.SWH, f"ExtID {extid_type}:{hex_id}", how)


async def _probe_object(
    ctx: ProbeContext, kind: str, sha1_git: str, swhid_kind: str
) -> ProbeAnswer:
    path = f"{kind}/{sha1_git}/"

    async def how() -> Found:
        status, data = await _get_json(ctx, path)
        if status == 200 and isinstance(data, dict):
            return Found(Status.AVAILABLE, f"swh:1:{swhid_kind}:{sha1_git}", kind)
        return _not_found(status, data, kind)

    return await ctx.ask(_key(ctx, path), Fallback.SWH, f"{kind} {sha1_git}", how)


async def probe_swh_revision(ctx: ProbeContext, commit: str) -> ProbeAnswer:
    """Does the archive have this commit (a revision, by its git id)?"""
    return await _probe_object(ctx, "revision", commit, "rev")


async def probe_swh_release(ctx: ProbeContext, tag_id: str) -> ProbeAnswer:
    """Does the archive have this annotated tag (a release, by its git id)?"""
    return await _probe_object(ctx, "release", tag_id, "rel")


async def probe_swh_origin(ctx: ProbeContext, origin_url: str) -> ProbeAnswer:
    """Has the archive visited this repository URL with success (a full visit)?"""
    path = f"origin/{urllib.parse.quote(origin_url, safe=':/')}/visits/"

    async def how() -> Found:
        status, data = await _get_json(ctx, path)
        if status != 200 or not isinstance(data, list):
            return _not_found(status, data, "origin")
        full = [v for v in data if isinstance(v, dict) and v.get("status") == "full"]
        with_snapshot = [v for v in full if v.get("snapshot")]
        if not with_snapshot:
            return Found(Status.MISSING, detail=f"{len(data)} visit(s), none complete")
        latest = max(with_snapshot, key=lambda v: str(v.get("date", "")))
        snapshot = latest["snapshot"]
        return Found(
            Status.AVAILABLE,
            f"swh:1:snp:{snapshot}",
            f"origin visited {str(latest.get('date', '?'))[:10]} ({len(data)} visit(s))",
        )

    return await ctx.ask(_key(ctx, path), Fallback.SWH, f"origin visits {origin_url}", how)


def _key(ctx: ProbeContext, path: str) -> str:
    return f"swh:{swh_url(ctx, path)}"
