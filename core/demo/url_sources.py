"""The demo's ``url-fetch`` downloads in each era, and the bombs that unpack them.

A ``url-fetch`` FOD is written as the Guix of its era wrote it: a 2015
``-builder`` script with the mirror table inside (U1), the 2016 in-band
``download`` script (U2), or ``builtin:download`` (U3). Its content is put
where the demo's servers find it: under its URL, or only on the
content-addressed mirror for a source whose upstream is gone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from revive.core import base32
from revive.core.demo import eras, scripts
from revive.core.demo.content import T2019, project_tree, tarball, url_file
from revive.core.demo.guile import guile_bin, guile_script_drv, modules, source_modules
from revive.core.demo.model import DemoSource
from revive.core.demo.state import DemoBuild
from revive.core.demo.store_builder import Fixed
from revive.core.fetch.scheme import DottedList, Symbol, write_datum
from revive.core.fetch.spec import FetchMethod

__all__ = ["url_fod", "tarball_fod", "bomb"]

_TABLES = {"U1": eras.MIRRORS_2015, "U2": eras.MIRRORS_2016, "U3": eras.MIRRORS_2020}


def url_fod(
    b: DemoBuild,
    name: str,
    urls: Sequence[str],
    data: bytes,
    *,
    form: str = "U3",
    executable: bool = False,
    status: str = "ok",
) -> str:
    """A ``url-fetch`` FOD of era ``form`` (U1, U2, U3) for ``data``."""
    fetch_urls = tuple(u for url in urls for u in eras.expand_mirror_url(url, _TABLES[form]))
    for url in fetch_urls:
        b.note_prefix(url)
    digest = b.file_nar_digest(data, True) if executable else hashlib.sha256(data).digest()
    fixed = Fixed("sha256", digest, recursive=executable)
    if status == "ok":
        relative = "files/" + url_file(urls[0])
        b.upstream_file(relative, data)
        for url in fetch_urls:
            b.http_files[url] = relative
    else:
        relative = f"cas/sha256/{base32.encode(digest)}"
        b.upstream_file(relative, data)
        b.content_addressed[f"sha256/{base32.encode(digest)}"] = relative
    written = write_datum(urls[0] if len(urls) == 1 else tuple(urls))
    if form == "U3":
        drv = _builtin_download(b, name, written, executable, fixed)
    elif form == "U2":
        drv = _download_u2(b, name, written, digest, fixed)
    else:
        script = b.store.text(name + "-builder", scripts.url_fetch_u1(urls, eras.MIRRORS_2015))
        drv = guile_script_drv(
            b,
            name,
            script,
            guile="boot",
            modules=modules(b, "download-2015"),
            # July 2015: proxies honoured, preferLocalBuild dropped for a while.
            env={"impureEnvVars": eras.IMPURE_OLD},
            fixed=fixed,
        )
    code = "U3x" if executable else form
    b.record(
        DemoSource(
            drv_path=drv,
            output_path=b.store.output(drv),
            method=str(FetchMethod.URL),
            form=form,
            era=eras.ERA_DESCRIPTIONS[code],
            origin=urls[0],
            urls=tuple(urls),
            fetch_urls=fetch_urls,
            upstream=relative,
            status=status,
        )
    )
    return drv


def _builtin_download(b: DemoBuild, name: str, url: str, executable: bool, fixed: Fixed) -> str:
    """U3: ``builtin:download`` naming the 2020 mirror lists."""
    env = {
        "content-addressed-mirrors": b.ca_2020,
        "impureEnvVars": eras.IMPURE_2020,
        "mirrors": b.mirrors_2020,
        "preferLocalBuild": "1",
        "url": url,
    }
    if executable:
        env["executable"] = "1"
    return b.store.derivation(
        name,
        builder="builtin:download",
        sources=[b.mirrors_2020, b.ca_2020],
        env=env,
        fixed=fixed,
    )


def _download_u2(b: DemoBuild, name: str, url: str, digest: bytes, fixed: Fixed) -> str:
    """U2: the shared 2016 ``download`` script, its parameters in the environment."""
    script = b.store.text("download", scripts.download_u2(b.mirrors_2016, b.ca_2016))
    hashes = write_datum((DottedList((Symbol("sha256"),), digest),))
    return guile_script_drv(
        b,
        name,
        script,
        guile="2.0.11",
        modules=modules(b, "download-2016"),
        sources=[b.mirrors_2016, b.ca_2016],
        env={
            "guix download hashes": hashes,
            "guix download url": url,
            "impureEnvVars": eras.IMPURE_OLD,
            "preferLocalBuild": "1",
        },
        fixed=fixed,
    )


def tarball_fod(
    b: DemoBuild,
    name: str,
    urls: Sequence[str],
    project: str,
    version: str,
    summary: str,
    *,
    mtime: int = T2019,
    form: str = "U3",
    status: str = "ok",
) -> str:
    """A source tarball (``.tar.gz`` or ``.tar.xz`` by ``name``) and its FOD."""
    tree = project_tree(project, version, summary)
    return url_fod(
        b,
        name,
        urls,
        tarball(name, tree, f"{project}-{version}", mtime),
        form=form,
        status=status,
    )


def bomb(b: DemoBuild, name: str, inner: str, *, tarbomb: bool) -> str:
    """The outer (regular) derivation of ``url-fetch/tarbomb`` or ``/zipbomb``."""
    _directory, mic = source_modules(b)
    inner_out = b.store.output(inner)
    tools: tuple[str, ...]
    if tarbomb:
        tools = ("tar", "gzip")
        text = scripts.tarbomb_builder(
            b.store.output(b.pkg["tar"]), b.store.output(b.pkg["gzip"]), inner_out
        )
    else:
        tools = ("unzip",)
        text = scripts.zipbomb_builder(b.store.output(b.pkg["unzip"]), inner_out)
    script = b.store.text(name + "-builder", text)
    drv = b.store.derivation(
        name,
        builder=guile_bin(b, "final"),
        args=["--no-auto-compile", "-C", b.store.output(mic), script],
        inputs=[
            (inner, ("out",)),
            (b.guile["final"], ("out",)),
            (mic, ("out",)),
            *((b.pkg[t], ("out",)) for t in tools),
        ],
        sources=[script],
        env={"preferLocalBuild": "1"},
    )
    b.wrap_last_source(inner, drv)
    return drv
