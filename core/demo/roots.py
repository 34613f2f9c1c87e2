"""The demo's roots computed by other Guix versions: 2015, 2016 and 2024.

A July 2015 Guix computed a package with a ``-builder`` url-fetch (U1) and
git-fetch (G1) script, built with Guile 2.0.11; a September 2016 Guix
computed a source with the in-band ``download`` script (U2); a 2024 Guix
computed a ``builtin:git-download`` checkout (G4) of a repository the 2020
profile also fetches from.
"""

from __future__ import annotations

from revive.core.demo.content import T2015, project_tree
from revive.core.demo.model import DemoRoot
from revive.core.demo.packages import package
from revive.core.demo.repos import Revision
from revive.core.demo.state import DemoBuild
from revive.core.demo.url_sources import tarball_fod
from revive.core.demo.vcs_sources import git_fod

__all__ = ["legacy", "modern"]


def legacy(b: DemoBuild) -> None:
    """Roots computed by a 2015 Guix (U1, G1) and a 2016 Guix (U2)."""
    guile_src = tarball_fod(
        b,
        "guile-2.0.11.tar.xz",
        ["mirror://gnu/guile/guile-2.0.11.tar.xz"],
        "guile",
        "2.0.11",
        "GNU Guile 2.0 (2015).",
        mtime=1395100800,
        form="U1",
    )
    b.guile["2.0.11"] = package(
        b, "guile-2.0.11", guile_src, b.bootstrap_inputs, guile="boot", module_set="gnu-boot"
    )
    git_src = tarball_fod(
        b,
        "git-2.4.3.tar.xz",
        ["mirror://kernel.org/software/scm/git/git-2.4.3.tar.xz"],
        "git",
        "2.4.3",
        "Distributed version control system (2015).",
        mtime=1433980800,
        form="U1",
    )
    b.legacy_git = package(b, "git-2.4.3", git_src, b.bootstrap_inputs, guile="2.0.11")
    sxiv_tree = project_tree(
        "sxiv",
        "1.3.2",
        "Simple X Image Viewer (demo stand-in).",
        {"sxiv.c": b"int main(void) { return 0; }\n"},
    )
    sxiv_repo = "git/github.com/muennich/sxiv.git"
    b.git_repo(sxiv_repo, [Revision(sxiv_tree, "Release 1.3.2", T2015, "v1.3.2")])
    sxiv_checkout = git_fod(
        b,
        "sxiv-1.3.2-checkout",
        "https://github.com/muennich/sxiv.git",
        "v1.3.2",
        sxiv_tree,
        form="G1",
        upstream=sxiv_repo,
    )
    sxiv = package(b, "sxiv-1.3.2", sxiv_checkout, b.bootstrap_inputs, guile="2.0.11")
    b.roots.append(DemoRoot(sxiv, "package computed by a July 2015 Guix"))
    findutils = tarball_fod(
        b,
        "findutils-4.6.0.tar.gz",
        ["mirror://gnu/findutils/findutils-4.6.0.tar.gz"],
        # The same tarball as the 2020 one: same hash, same output path.
        "findutils",
        "4.6.0",
        "Operating on files matching given criteria.",
        form="U2",
    )
    b.roots.append(
        DemoRoot(findutils, "source (guix build -S -d) computed by a September 2016 Guix")
    )


def modern(b: DemoBuild) -> None:
    """A root computed by a 2024 Guix: ``builtin:git-download`` (G4)."""
    checkout = git_fod(
        b,
        "txt2man-1.7.1-checkout",
        "https://github.com/mvertes/txt2man",
        "txt2man-1.7.1",
        b.txt2man_trees[1],
        form="G4",
        upstream="git/github.com/mvertes/txt2man",
    )
    b.roots.append(DemoRoot(checkout, "source (guix build -S -d) computed by a 2024 Guix"))
