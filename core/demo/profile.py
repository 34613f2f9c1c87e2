"""The April 2020 profile: a dozen leaf packages, one per fetch method and era.

Each leaf package is built from a source of its own kind: ``builtin:download``
of a ``mirror://`` URL, the shared ``git-download`` script, svn and
svn-multi checkouts of one repository, hg, bzr and cvs checkouts, a tarbomb
and a zipbomb. Two are broken on purpose: ``flowCore`` (its URL answers
404; only a content-addressed mirror has it) and ``kopi`` (its git
repository moved; the nar mirror has the checkout).
"""

from __future__ import annotations

from revive.core.demo import scripts
from revive.core.demo.archive import FileEntry, Tree, gzip_stored, tar_bytes, zip_bytes
from revive.core.demo.content import T2019, T2020, T2023, project_tree
from revive.core.demo.guile import guile_script_drv, modules
from revive.core.demo.model import SpecialNode
from revive.core.demo.packages import package
from revive.core.demo.repos import Revision, make_bzr_repo, make_hg_repo, make_svn_repo
from revive.core.demo.state import DemoBuild, Input
from revive.core.demo.url_sources import bomb, tarball_fod, url_fod
from revive.core.demo.vcs_sources import (
    bzr_fod,
    cvs_fod,
    git_fod,
    hg_fod,
    svn_fod,
    svn_multi_fod,
)

__all__ = ["profile_2020"]


def profile_2020(b: DemoBuild) -> str:
    """The leaf packages of the 2020 profile and the profile itself."""
    base = list(b.final_inputs)
    leaves = [
        _hello(b, base),
        _txt2man(b, base),
        _flowcore(b, base),
        _kopi(b, base),
        *_texlive(b, base),
        _seek(b, base),
        _indicator(b, base),
        _emacs_w3m(b, base),
        _tzdata(b, base),
        _ucd(b, base),
    ]
    outs = [b.store.output(p) for p in leaves]
    script = b.store.text("profile-builder", scripts.profile_builder(outs))
    return guile_script_drv(
        b,
        "profile",
        script,
        guile="final",
        modules=modules(b, "profile"),
        inputs=leaves,
        env={"allowSubstitutes": "0", "preferLocalBuild": "1"},
    )


def _hello(b: DemoBuild, base: list[Input]) -> str:
    """hello: builtin:download of a mirror:// URL."""
    source = tarball_fod(
        b,
        "hello-2.10.tar.gz",
        ["mirror://gnu/hello/hello-2.10.tar.gz"],
        "hello",
        "2.10",
        "GNU Hello prints a friendly greeting.",
        mtime=1416268800,
    )
    return package(b, "hello-2.10", source, base)


def _txt2man(b: DemoBuild, base: list[Input]) -> str:
    """txt2man: git-download script (G2); its repository also has 1.7.1 (the G4 root)."""
    t1 = project_tree(
        "txt2man",
        "1.6.0",
        "Convert flat ASCII text to man page format.",
        {"txt2man": b"#!/bin/sh\n# txt2man 1.6.0 (demo stand-in)\n"},
    )
    t1 = {**t1, "txt2man": FileEntry(t1["txt2man"].data, executable=True)}
    t2 = {**t1, "README": FileEntry(b"txt2man 1.7.1\n\nConvert text to man pages.\n")}
    b.txt2man_trees = (t1, t2)
    repo = "git/github.com/mvertes/txt2man"
    b.vcs_location("https://github.com/", "git/github.com", "file-url")
    checkout = git_fod(
        b,
        "txt2man-1.6.0-checkout",
        "https://github.com/mvertes/txt2man",
        "txt2man-1.6.0",
        t1,
        form="G2",
        upstream=repo,
    )
    b.git_repo(
        repo,
        [
            Revision(t1, "Release 1.6.0", T2019, "txt2man-1.6.0"),
            Revision(t2, "Release 1.7.1", T2023, "txt2man-1.7.1"),
        ],
    )
    return package(b, "txt2man-1.6.0", checkout, [*base, Input("gawk", b.pkg["gawk"])])


def _flowcore(b: DemoBuild, base: list[Input]) -> str:
    """r-flowcore: its upstream URL is gone (404); a content-addressed mirror has it."""
    flow_url = "https://bioconductor.org/packages/release/bioc/src/contrib/flowCore_1.52.1.tar.gz"
    flowcore = tarball_fod(
        b,
        "flowCore_1.52.1.tar.gz",
        [flow_url],
        "flowCore",
        "1.52.1",
        "Basic infrastructure for flow cytometry data.",
        status="gone",
    )
    leaf = package(
        b, "r-flowcore-1.52.1", flowcore, [*base, Input("r-minimal", b.pkg["r-minimal"])]
    )
    b.special.append(
        SpecialNode(
            drv_path=flowcore,
            kind="upstream-gone",
            package="r-flowcore-1.52.1",
            summary="upstream URL gone: bioconductor.org answers 404 since Bioconductor 3.11",
            detail=(
                "The April 2020 derivation fetches flowCore_1.52.1.tar.gz from the "
                "Bioconductor 'release' directory, which only ever holds the current "
                "release; the file is gone and the server answers 404. The 2020 "
                "content-addressed mirrors named in the derivation do not have it "
                "either. Rewritten with today's mirror lists, the download falls back "
                "to a content-addressed mirror that has the tarball under its SHA-256, "
                "and the output path is unchanged."
            ),
            old_location=flow_url,
            new_location="",
        )
    )
    return leaf


def _kopi(b: DemoBuild, base: list[Input]) -> str:
    """kopi: its git repository moved; the nar mirror still has the checkout."""
    kopi_tree = project_tree(
        "kopi",
        "0.4.1",
        "A small library for copying things (fictional demo project).",
        {"src/kopi.c": b"int kopi(void) { return 0; }\n"},
    )
    old_url = "https://gitlab.com/kopi-project/kopi.git"
    new_url = "https://codeberg.org/kopi-project/kopi.git"
    kopi = git_fod(
        b,
        "kopi-0.4.1-checkout",
        old_url,
        "v0.4.1",
        kopi_tree,
        form="G2",
        upstream="git/codeberg.org/kopi-project/kopi.git",
        status="moved",
    )
    b.note_prefix(old_url)
    b.vcs_location("https://codeberg.org/", "git/codeberg.org", "file-url")
    b.git_repo(
        "git/codeberg.org/kopi-project/kopi.git",
        [Revision(kopi_tree, "Release 0.4.1", T2019, "v0.4.1")],
    )
    nar_name = b.store.output(kopi).rsplit("/", 1)[1]
    b.upstream_file(f"nar/{nar_name}", b.tree_nar(kopi_tree))
    b.nars[nar_name] = f"nar/{nar_name}"
    leaf = package(b, "kopi-0.4.1", kopi, base)
    b.special.append(
        SpecialNode(
            drv_path=kopi,
            kind="repository-moved",
            package="kopi-0.4.1",
            summary="git repository moved from gitlab.com to codeberg.org",
            detail=(
                "The April 2020 derivation clones " + old_url + ", which no longer "
                "exists (the project moved to " + new_url + "). Its guile script "
                "would fall back to the 2020 nar server, which has no such nar. "
                "Rewritten as builtin:git-download, the fetch falls back to today's "
                "nar mirror, which serves the checkout by its output path, and the "
                "hash check proves it is the same tree."
            ),
            old_location=old_url,
            new_location=new_url,
        )
    )
    return leaf


def _texlive(b: DemoBuild, base: list[Input]) -> tuple[str, str]:
    """texlive: svn-fetch (S1) and svn-multi-fetch from one svn repository."""
    texmf = "tags/texlive-2019.3/Master/texmf-dist"
    ae = {
        "ae.dtx": FileEntry(b"% ae.dtx (demo stand-in): virtual fonts for T1 encoding\n"),
        "ae.ins": FileEntry(b"% ae.ins (demo stand-in)\n"),
        "README": FileEntry(b"The ae fonts (demo stand-in).\n"),
    }
    fancyvrb_doc = {"fancyvrb.pdf.txt": FileEntry(b"fancyvrb documentation (demo)\n")}
    fancyvrb_tex = {
        "fancyvrb.sty": FileEntry(b"% fancyvrb.sty (demo stand-in)\n\\endinput\n"),
        "fvrb-ex.sty": FileEntry(b"% fvrb-ex.sty (demo stand-in)\n\\endinput\n"),
    }
    svn_rev1: dict[str, FileEntry] = {}
    for prefix, files in (
        (f"{texmf}/source/fonts/ae/", ae),
        (f"{texmf}/doc/latex/fancyvrb/", fancyvrb_doc),
        (f"{texmf}/tex/latex/fancyvrb/", fancyvrb_tex),
    ):
        svn_rev1.update({prefix + k: v for k, v in files.items()})
    svn_rev2 = {"trunk/README": FileEntry(b"TeX Live development happens in trunk.\n")}
    svn_root = "svn://www.tug.org/texlive"
    repo = "svn/www.tug.org/texlive"
    b.vcs_location("svn://www.tug.org/", "svn/www.tug.org", "file-url")
    b.repo_task(
        make_svn_repo,
        "svnadmin",
        repo,
        [
            Revision(svn_rev1, "Import TeX Live 2019.3", T2019),
            Revision(svn_rev2, "Start the next release", T2020),
        ],
        "svn",
    )
    ae_fod = svn_fod(
        b, "texlive-ae-2019.3-checkout", f"{svn_root}/{texmf}/source/fonts/ae", 2, ae, repo
    )
    multi_tree = {
        **{f"doc/latex/fancyvrb/{k}": v for k, v in fancyvrb_doc.items()},
        **{f"tex/latex/fancyvrb/{k}": v for k, v in fancyvrb_tex.items()},
    }
    fancy_fod = svn_multi_fod(
        b,
        "texlive-latex-fancyvrb-2019.3-checkout",
        f"{svn_root}/{texmf}",
        2,
        ("doc/latex/fancyvrb/", "tex/latex/fancyvrb/"),
        multi_tree,
        repo,
    )
    return (
        package(b, "texlive-ae-2019.3", ae_fod, base),
        package(b, "texlive-latex-fancyvrb-2019.3", fancy_fod, base),
    )


def _seek(b: DemoBuild, base: list[Input]) -> str:
    """seek: hg-fetch (H1)."""
    seek_tree = project_tree(
        "seek",
        "1.0.3",
        "Find files and text quickly (demo stand-in).",
        {"seek.c": b"int main(void) { return 0; }\n"},
    )
    b.vcs_location("https://hg.sr.ht/", "hg/hg.sr.ht", "file-url")
    repo = "hg/hg.sr.ht/~seek-dev/seek"
    b.repo_task(
        make_hg_repo, "hg", repo, [Revision(seek_tree, "Release 1.0.3", T2019, "v1.0.3")], "hg"
    )
    url = "https://hg.sr.ht/~seek-dev/seek"
    seek_fod = hg_fod(b, "seek-1.0.3-checkout", url, "v1.0.3", seek_tree, repo)
    return package(b, "seek-1.0.3", seek_fod, base)


def _indicator(b: DemoBuild, base: list[Input]) -> str:
    """indicator-demo: bzr-fetch.

    One revision only: every brz command costs about a second of start-up.
    """
    tree = project_tree(
        "indicator-demo",
        "0.4",
        "A panel indicator (demo stand-in).",
        {"NEWS": b"0.4: first release on Launchpad.\n"},
    )
    repo = "bzr/code.launchpad.net/~indicator-dev/indicator-demo/trunk"
    b.vcs_location("https://code.launchpad.net/", "bzr/code.launchpad.net", "file-url")
    b.repo_task(make_bzr_repo, "brz", repo, [Revision(tree, "Release 0.4", T2020)], "bzr")
    url = "https://code.launchpad.net/~indicator-dev/indicator-demo/trunk"
    fod = bzr_fod(b, "indicator-demo-0.4-checkout", url, "1", tree, repo)
    return package(b, "indicator-demo-0.4", fod, base)


def _emacs_w3m(b: DemoBuild, base: list[Input]) -> str:
    """emacs-w3m: cvs-fetch."""
    w3m = project_tree(
        "emacs-w3m",
        "1.4.632",
        "Simple Web browser for Emacs based on w3m (demo).",
        {"w3m.el": b";;; w3m.el --- demo stand-in\n(provide 'w3m)\n"},
    )
    cvs_root = ":pserver:anonymous@cvs.namazu.org:/storage/cvsroot"
    repo = "cvs/cvs.namazu.org/storage/cvsroot"
    b.vcs_location(":pserver:anonymous@cvs.namazu.org:", "cvs/cvs.namazu.org", "path")
    b.cvs_repo(repo, "emacs-w3m", Revision(w3m, "Import emacs-w3m", T2019, "w3m-1_4_632"))
    fod = cvs_fod(b, "emacs-w3m-1.4.632-checkout", cvs_root, "emacs-w3m", "w3m-1_4_632", w3m, repo)
    return package(b, "emacs-w3m-1.4.632", fod, base)


def _tzdata(b: DemoBuild, base: list[Input]) -> str:
    """tzdata: url-fetch/tarbomb (the tarball has no top-level directory)."""
    tree: Tree = {
        "africa": FileEntry(b"# tzdata africa (demo stand-in)\n"),
        "europe": FileEntry(b"# tzdata europe (demo stand-in)\n"),
        "version": FileEntry(b"2019c\n"),
    }
    url = "https://data.iana.org/time-zones/releases/tzdata2019c.tar.gz"
    data = gzip_stored(tar_bytes(tree, 1568505600))
    return _bomb_leaf(b, base, "tzdata-2019c", "tzdata2019c.tar.gz", url, data, tarbomb=True)


def _ucd(b: DemoBuild, base: list[Input]) -> str:
    """ucd: url-fetch/zipbomb."""
    tree: Tree = {
        "UnicodeData.txt": FileEntry(b"0041;LATIN CAPITAL LETTER A;Lu;0;L;;;;;N;;;;0061;\n"),
        "ReadMe.txt": FileEntry(b"Unicode Character Database 12.1.0 (demo stand-in)\n"),
    }
    url = "https://www.unicode.org/Public/12.1.0/ucd/UCD.zip"
    data = zip_bytes(tree, (2019, 5, 7, 0, 0, 0))
    return _bomb_leaf(b, base, "ucd-12.1.0", "ucd-12.1.0.zip", url, data, tarbomb=False)


def _bomb_leaf(
    b: DemoBuild,
    base: list[Input],
    package_name: str,
    file_name: str,
    url: str,
    data: bytes,
    *,
    tarbomb: bool,
) -> str:
    """Package ``package_name`` built from ``url`` (``data``), fetched as a tarbomb or zipbomb.

    The inner FOD downloads the archive, the outer derivation unpacks it
    into ``file_name``'s output (see :func:`bomb`).
    """
    kind = "tarbomb" if tarbomb else "zipbomb"
    inner = url_fod(b, f"{kind}-{file_name}", [url], data)
    return package(b, package_name, bomb(b, file_name, inner, tarbomb=tarbomb), base)
