"""The archives of the demo: what its loopback server answers to the archival probes.

The demo (``core/demo``) serves upstream files, a content-addressed mirror
and a nar mirror. For the archival story to run offline too, the same
server also plays Software Heritage, Disarchive and a substitute server,
with a fixed, documented idea of what each has — chosen so that the audit
of the demo shows every fallback at work:

* **Software Heritage** (``/swh/api/1/``) has, as content, the tarballs
  from GNU hosts (``mirror://gnu``, ``ftp.gnu.org``) and the tarball gone
  from upstream (it was archived before it disappeared); as ExtID
  ``nar-sha256``, every git checkout (the moved repository's included);
  and full visits of the GitHub, GitLab and sourcehut origins. Nothing
  from Subversion, Bazaar or CVS.
* **Disarchive** (``/disarchive/``) has descriptions of the ``.tar.*``
  tarballs of today's era (``U3``), the gone one included.
* **Substitutes** (the server's root) have a narinfo for each nar the demo's
  nar mirror has (``/<hash>.narinfo``, ``URL: nar/<name>``).

:func:`demo_archive_documents` computes those replies from the demo's
derivations; :func:`demo_archive_config` points the probes at them.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Final

from revive.core import base32
from revive.core.archive.config import ArchiveConfig
from revive.core.aterm import parse_derivation_bytes
from revive.core.demo.model import DemoEnvironment, DemoSource
from revive.core.errors import ReviveError
from revive.core.store_path import hash_part

if TYPE_CHECKING:
    from revive.core.demo.serve import DemoServers

__all__ = ["demo_archive_documents", "demo_archive_config", "SWH_PREFIX", "DISARCHIVE_PREFIX"]

SWH_PREFIX: Final = "/swh/api/1/"
"""Where the demo server plays the Software Heritage API."""
DISARCHIVE_PREFIX: Final = "/disarchive/"
"""Where the demo server plays a Disarchive mirror."""

_SWH_CONTENT_HOSTS: Final = ("mirror://gnu/", "https://ftp.gnu.org/", "http://ftp.gnu.org/")
_SWH_ORIGIN_HOSTS: Final = ("https://github.com/", "https://gitlab.com/", "https://hg.sr.ht/")
_JSON: Final = "application/json"
_TEXT: Final = "text/plain; charset=utf-8"

Documents = dict[str, tuple[str, bytes]]


def demo_archive_config(servers: DemoServers) -> ArchiveConfig:
    """Probes pointed at the demo's loopback server.

    One host, a small threaded server (its listen queue holds 5): a few
    questions at a time, one retry.
    """
    base = servers.base_url
    mirrors = servers.mirror_config().replace(disarchive=(f"{base}{DISARCHIVE_PREFIX}",))
    return ArchiveConfig(
        mirrors=mirrors,
        swh_api=f"{base}{SWH_PREFIX}",
        substitutes=(base,),
        url_rewrites=servers.url_rewrites(),
        concurrency=16,
        per_host=8,
        processes=4,
        connect_timeout=5.0,
        read_timeout=30.0,
        retries=1,
        backoff=0.2,
    )


def demo_archive_documents(env: DemoEnvironment) -> Documents:
    """Request path → (content type, body) for every archival reply the demo has."""
    documents: Documents = {}
    nar_files = dict(env.nars)
    for source in env.sources:
        fod = _read_output(env, source)
        if fod is None:
            continue
        algo, digest, recursive = fod
        if source.status == "ok" or source.status == "gone":
            archived = _from(source, _SWH_CONTENT_HOSTS) or source.status == "gone"
            if not recursive and algo == "sha256" and archived:
                _swh_content(documents, digest, _size(env.upstream_dir / source.upstream))
            if not recursive and source.form == "U3" and ".tar" in source.origin:
                _disarchive(documents, algo, digest, source)
        if source.method == "git-fetch" and recursive and algo == "sha256":
            _swh_extid(documents, digest)
        if source.method in ("git-fetch", "hg-fetch") and _from(source, _SWH_ORIGIN_HOSTS):
            _swh_origin(documents, source.origin.split(" ")[0])
        name = os.path.basename(source.output_path)
        if name in nar_files:
            _narinfo(documents, env.upstream_dir / nar_files[name], source.output_path)
    return documents


def _read_output(env: DemoEnvironment, source: DemoSource) -> tuple[str, bytes, bool] | None:
    try:
        drv = parse_derivation_bytes(env.physical(source.drv_path).read_bytes(), source.drv_path)
    except (OSError, ReviveError):
        return None
    out = drv.fixed_output
    if out is None:
        return None
    recursive = out.hash_algo.startswith("r:")
    return out.hash_algo.removeprefix("r:"), bytes.fromhex(out.hash), recursive


def _from(source: DemoSource, prefixes: tuple[str, ...]) -> bool:
    return any(url.startswith(prefixes) for url in (source.origin, *source.urls))


def _size(path: Path) -> int | None:
    try:
        return path.stat().st_size
    except OSError:
        return None


def _swh_content(documents: Documents, digest: bytes, length: int | None) -> None:
    sha1_git = hashlib.sha1(digest).hexdigest()  # a stand-in id, stable per content
    body = {
        "checksums": {"sha256": digest.hex(), "sha1_git": sha1_git},
        "length": length,
        "status": "visible",
        "swhid": f"swh:1:cnt:{sha1_git}",
        "data_url": f"{SWH_PREFIX}content/sha1_git:{sha1_git}/raw/",
    }
    documents[f"{SWH_PREFIX}content/sha256:{digest.hex()}/"] = (_JSON, _json(body))


def _swh_extid(documents: Documents, digest: bytes) -> None:
    directory = hashlib.sha1(b"dir" + digest).hexdigest()
    body = {
        "extid_type": "nar-sha256",
        "extid": digest.hex(),
        "extid_version": 1,
        "target": f"swh:1:dir:{directory}",
        "target_url": f"{SWH_PREFIX}directory/{directory}/",
    }
    path = f"{SWH_PREFIX}extid/nar-sha256/hex:{digest.hex()}/"
    documents[path] = documents[path + "?extid_version=1"] = (_JSON, _json(body))


def _swh_origin(documents: Documents, url: str) -> None:
    snapshot = hashlib.sha1(url.encode()).hexdigest()
    visits = [
        {
            "origin": url,
            "visit": 1,
            "date": "2019-06-14T09:31:02.000000+00:00",
            "status": "full",
            "type": "git" if "hg." not in url else "hg",
            "snapshot": snapshot,
        }
    ]
    documents[f"{SWH_PREFIX}origin/{url}/visits/"] = (_JSON, _json(visits))


def _disarchive(documents: Documents, algo: str, digest: bytes, source: DemoSource) -> None:
    name = os.path.basename(source.origin.split(" ")[0])
    spec = (
        f'(disarchive (version 0) (name "{name}") (digest ({algo} {base32.encode(digest)}))'
        f' (input (directory-ref (swhid "swh:1:dir:{hashlib.sha1(digest).hexdigest()}"))))\n'
    )
    documents[f"{DISARCHIVE_PREFIX}{algo}/{digest.hex()}"] = (_TEXT, spec.encode())


def _narinfo(documents: Documents, nar: Path, output_path: str) -> None:
    try:
        data = nar.read_bytes()
    except OSError:
        return
    nar_hash = base32.encode(hashlib.sha256(data).digest())
    text = (
        f"StorePath: {output_path}\n"
        f"URL: nar/{os.path.basename(output_path)}\n"
        "Compression: none\n"
        f"NarHash: sha256:{nar_hash}\n"
        f"NarSize: {len(data)}\n"
        "References: \n"
    )
    documents[f"/{hash_part(output_path)}.narinfo"] = (_TEXT, text.encode())


def _json(value: object) -> bytes:
    return json.dumps(value, sort_keys=True).encode()
