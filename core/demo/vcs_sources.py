"""The demo's version-control downloads: git in three eras, svn, hg, bzr and cvs.

Each FOD's expected hash is the NAR hash of the tree its revision checks out
(computed from the generated tree, never from a checkout), and its builder
is what the Guix of its era wrote: a ``-builder`` script, a shared download
script, or ``builtin:git-download``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from revive.core.demo import eras, scripts
from revive.core.demo.archive import Tree
from revive.core.demo.guile import guile_bin, guile_fetch, guile_script_drv, modules
from revive.core.demo.model import DemoSource
from revive.core.demo.state import DemoBuild
from revive.core.demo.store_builder import Fixed
from revive.core.fetch.scheme import write_datum
from revive.core.fetch.spec import FetchMethod

__all__ = ["git_fod", "svn_fod", "svn_multi_fod", "hg_fod", "bzr_fod", "cvs_fod"]

_ENV_2020 = {"impureEnvVars": eras.IMPURE_2020, "preferLocalBuild": "1"}
_MODULE_SETS = {"subversion": "svn", "mercurial": "hg", "bazaar": "bzr", "cvs": "cvs"}
"""The module set of the fetch script that runs each tool package."""


def _record(
    b: DemoBuild, drv: str, method: FetchMethod, form: str, origin: str, upstream: str, status: str
) -> None:
    b.record(
        DemoSource(
            drv_path=drv,
            output_path=b.store.output(drv),
            method=str(method),
            form=form,
            era=eras.ERA_DESCRIPTIONS[form],
            origin=origin,
            urls=(),
            fetch_urls=(),
            upstream=upstream,
            status=status,
        )
    )


def git_fod(
    b: DemoBuild,
    name: str,
    url: str,
    commit: str,
    tree: Tree,
    *,
    form: str,
    upstream: str,
    status: str = "ok",
) -> str:
    """A ``git-fetch`` FOD (G1, G2 or G4) whose checkout is ``tree``."""
    fixed = Fixed("sha256", b.tree_digest(tree), recursive=True)
    if form == "G4":
        drv = b.store.derivation(
            name,
            builder="builtin:git-download",
            env={
                "commit": commit,
                "impureEnvVars": eras.IMPURE_2020,
                "preferLocalBuild": "1",
                "recursive?": "#f",
                "url": write_datum(url),
            },
            fixed=fixed,
        )
    elif form == "G2":
        drv = _git_download_g2(b, name, url, commit, fixed)
    else:
        git = b.store.output(b.legacy_git)
        script = b.store.text(name + "-builder", scripts.git_builder_g1(url, commit, git, (git,)))
        drv = guile_script_drv(
            b,
            name,
            script,
            guile="2.0.11",
            modules=modules(b, "git-2015"),
            inputs=[b.legacy_git],
            env={"impureEnvVars": eras.IMPURE_OLD},
            fixed=fixed,
        )
    _record(b, drv, FetchMethod.GIT, form, f"{url} {commit}", upstream, status)
    return drv


def _git_download_g2(b: DemoBuild, name: str, url: str, commit: str, fixed: Fixed) -> str:
    """G2: the shared 2020 ``git-download`` script, with guile-json and gnutls."""
    json_drv, gnutls = b.pkg["guile-json"], b.pkg["gnutls"]
    mi, mic = modules(b, "git", extensions=(json_drv, gnutls))
    tar, gzip, git = (b.store.output(b.pkg[p]) for p in ("tar", "gzip", "git"))
    script = b.store.text("git-download", scripts.git_download_g2((tar, gzip), git))
    json_out, gnutls_out = b.store.output(json_drv), b.store.output(gnutls)
    return b.store.derivation(
        name,
        builder=guile_bin(b, "final"),
        args=[
            "--no-auto-compile",
            "-L",
            b.store.output(mi),
            "-L",
            json_out + "/share/guile/site/2.2",
            "-L",
            gnutls_out + "/share/guile/site/2.2",
            "-C",
            b.store.output(mic),
            "-C",
            json_out + "/lib/guile/2.2/site-ccache",
            "-C",
            gnutls_out + "/lib/guile/2.2/site-ccache",
            script,
        ],
        inputs=[
            (b.guile["final"], ("out",)),
            (mi, ("out",)),
            (mic, ("out",)),
            (json_drv, ("out",)),
            (gnutls, ("debug", "doc", "out")),
            (b.pkg["tar"], ("out",)),
            (b.pkg["gzip"], ("out",)),
            (b.pkg["git"], ("out",)),
        ],
        sources=[script],
        env={
            "git commit": commit,
            "git recursive?": "#f",
            "git url": url,
            "impureEnvVars": eras.IMPURE_2020,
            "preferLocalBuild": "1",
        },
        fixed=fixed,
    )


def _scripted(
    b: DemoBuild,
    name: str,
    tree: Tree,
    tool: str,
    script: tuple[str, Callable[[str], str]],
    env: Mapping[str, str],
    record: tuple[FetchMethod, str, str, str],
) -> str:
    """A 2020 VCS fetch run by the final Guile with package ``tool``.

    ``script`` is the builder's store name and its text given the tool's
    output path; ``record`` the method, era code, origin and upstream
    directory the manifest says.
    """
    fixed = Fixed("sha256", b.tree_digest(tree), recursive=True)
    script_name, text = script
    builder = b.store.text(script_name, text(b.store.output(b.pkg[tool])))
    drv = guile_fetch(b, name, builder, _MODULE_SETS[tool], (tool,), env, fixed)
    method, form, origin, upstream = record
    _record(b, drv, method, form, origin, upstream, "ok")
    return drv


def svn_fod(b: DemoBuild, name: str, url: str, revision: int, tree: Tree, upstream: str) -> str:
    """An S1 ``svn-fetch`` FOD."""
    return _scripted(
        b,
        name,
        tree,
        "subversion",
        (name + "-builder", lambda svn: scripts.svn_builder_s1(url, revision, svn)),
        # Plain svn-fetch had no impureEnvVars in this era (doc §6.4).
        {"preferLocalBuild": "1"},
        (FetchMethod.SVN, "S1", f"{url} r{revision}", upstream),
    )


def svn_multi_fod(
    b: DemoBuild,
    name: str,
    url: str,
    revision: int,
    locations: Sequence[str],
    tree: Tree,
    upstream: str,
) -> str:
    """An ``svn-multi-fetch`` FOD."""
    return _scripted(
        b,
        name,
        tree,
        "subversion",
        (name + "-builder", lambda svn: scripts.svn_multi_builder(url, revision, locations, svn)),
        _ENV_2020,
        (FetchMethod.SVN_MULTI, "svn-multi", f"{url} r{revision} {' '.join(locations)}", upstream),
    )


def hg_fod(b: DemoBuild, name: str, url: str, changeset: str, tree: Tree, upstream: str) -> str:
    """An H1 ``hg-fetch`` FOD."""
    return _scripted(
        b,
        name,
        tree,
        "mercurial",
        (name + "-builder", lambda hg: scripts.hg_builder_h1(url, changeset, hg)),
        _ENV_2020,
        (FetchMethod.HG, "H1", f"{url} {changeset}", upstream),
    )


def bzr_fod(b: DemoBuild, name: str, url: str, reference: str, tree: Tree, upstream: str) -> str:
    """A ``bzr-fetch`` FOD (shared ``bzr-download`` script)."""
    return _scripted(
        b,
        name,
        tree,
        "bazaar",
        ("bzr-download", scripts.bzr_download),
        {"bzr reference": reference, "bzr url": url, **_ENV_2020},
        (FetchMethod.BZR, "bzr", f"{url} revno {reference}", upstream),
    )


def cvs_fod(
    b: DemoBuild, name: str, root: str, module: str, revision: str, tree: Tree, upstream: str
) -> str:
    """A ``cvs-fetch`` FOD."""
    return _scripted(
        b,
        name,
        tree,
        "cvs",
        (name + "-builder", lambda cvs: scripts.cvs_builder(root, module, revision, cvs)),
        _ENV_2020,
        (FetchMethod.CVS, "cvs", f"{root} {module} {revision}", upstream),
    )
