"""The releases the demo's 2020 packages are built from: names, versions, URLs.

Plain data: each :class:`Release` becomes a source tarball FOD (its URLs as
the 2020 package definition wrote them) and a package built from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["Release", "TOOLCHAIN", "TOOLS_2020"]


@dataclass(frozen=True, slots=True)
class Release:
    """One upstream release and the package built from it."""

    name: str
    """Package name (``linux-libre-headers``)."""
    version: str
    """Its version."""
    urls: tuple[str, ...]
    """The source URLs, ``mirror://`` kept; the tarball's name is the first one's last part."""
    label: str
    """The project (tarball contents) and the package's label as an input."""
    outputs: tuple[str, ...]
    """The package's outputs."""
    summary: str
    """One line about it (in the generated README)."""

    @property
    def tarball(self) -> str:
        """The source tarball's file name."""
        return self.urls[0].rsplit("/", 1)[1]


TOOLCHAIN: Final[tuple[Release, ...]] = (
    Release(
        "linux-libre-headers",
        "4.19.56",
        (
            "https://linux-libre.fsfla.org/pub/linux-libre/releases/4.19.56-gnu/"
            "linux-libre-4.19.56-gnu.tar.xz",
            "mirror://gnu/linux-libre/4.19.56-gnu/linux-libre-4.19.56-gnu.tar.xz",
        ),
        "linux-libre-headers",
        ("out",),
        "Linux-libre kernel headers.",
    ),
    Release(
        "glibc",
        "2.29",
        ("mirror://gnu/glibc/glibc-2.29.tar.xz",),
        "glibc",
        ("debug", "out", "static"),
        "The GNU C Library.",
    ),
    Release(
        "binutils",
        "2.32",
        ("mirror://gnu/binutils/binutils-2.32.tar.xz",),
        "binutils",
        ("out",),
        "Binary utilities: bfd gas gprof ld.",
    ),
    Release(
        "gcc",
        "7.4.0",
        ("mirror://gnu/gcc/gcc-7.4.0/gcc-7.4.0.tar.xz",),
        "gcc",
        ("lib", "out"),
        "GNU Compiler Collection.",
    ),
    Release(
        "make", "4.2.1", ("mirror://gnu/make/make-4.2.1.tar.gz",), "make", ("out",), "GNU Make."
    ),
    Release(
        "coreutils",
        "8.31",
        ("mirror://gnu/coreutils/coreutils-8.31.tar.xz",),
        "coreutils",
        ("out",),
        "Core GNU utilities (file, text, shell).",
    ),
    Release("sed", "4.7", ("mirror://gnu/sed/sed-4.7.tar.xz",), "sed", ("out",), "Stream editor."),
    Release(
        "grep",
        "3.3",
        ("mirror://gnu/grep/grep-3.3.tar.xz",),
        "grep",
        ("out",),
        "Print lines matching a pattern.",
    ),
    Release(
        "tar",
        "1.32",
        ("mirror://gnu/tar/tar-1.32.tar.xz",),
        "tar",
        ("out",),
        "Managing tar archives.",
    ),
    Release(
        "gzip",
        "1.10",
        ("mirror://gnu/gzip/gzip-1.10.tar.xz",),
        "gzip",
        ("out",),
        "General file (de)compression.",
    ),
    Release(
        "xz",
        "5.2.4",
        (
            "http://tukaani.org/xz/xz-5.2.4.tar.gz",
            "http://multiprecision.org/guix/xz-5.2.4.tar.gz",
        ),
        "xz",
        ("out",),
        "General-purpose data compression.",
    ),
    Release(
        "patch",
        "2.7.6",
        ("mirror://gnu/patch/patch-2.7.6.tar.xz",),
        "patch",
        ("out",),
        "Apply differences to originals.",
    ),
    Release(
        "gawk",
        "5.0.1",
        ("mirror://gnu/gawk/gawk-5.0.1.tar.xz",),
        "gawk",
        ("out",),
        "A text scanning and processing language.",
    ),
    Release(
        "findutils",
        "4.6.0",
        ("mirror://gnu/findutils/findutils-4.6.0.tar.gz",),
        "findutils",
        ("out",),
        "Operating on files matching given criteria.",
    ),
    Release(
        "diffutils",
        "3.7",
        ("mirror://gnu/diffutils/diffutils-3.7.tar.xz",),
        "diffutils",
        ("out",),
        "Comparing and merging files.",
    ),
    Release(
        "file",
        "5.33",
        ("ftp://ftp.astron.com/pub/file/file-5.33.tar.gz",),
        "file",
        ("out",),
        "File type guesser.",
    ),
)
"""The 2020 toolchain and base tools, built with the bootstrap Guile."""

TOOLS_2020: Final[tuple[Release, ...]] = (
    Release(
        "git-minimal",
        "2.26.0",
        ("mirror://kernel.org/software/scm/git/git-2.26.0.tar.xz",),
        "git",
        ("out",),
        "Distributed version control system.",
    ),
    Release(
        "guile-json",
        "3.2.0",
        ("mirror://savannah/guile-json/guile-json-3.2.0.tar.gz",),
        "guile-json",
        ("out",),
        "JSON module for Guile.",
    ),
    Release(
        "gnutls",
        "3.6.9",
        ("mirror://gnupg/gnutls/v3.6/gnutls-3.6.9.tar.xz",),
        "gnutls",
        ("debug", "doc", "out"),
        "Transport layer security library.",
    ),
    Release(
        "subversion",
        "1.10.6",
        ("mirror://apache/subversion/subversion-1.10.6.tar.gz",),
        "subversion",
        ("out",),
        "Revision control system.",
    ),
    Release(
        "mercurial",
        "5.2.1",
        ("https://www.mercurial-scm.org/release/mercurial-5.2.1.tar.gz",),
        "mercurial",
        ("out",),
        "Decentralized version control system.",
    ),
    Release(
        "bazaar",
        "2.7.0",
        ("https://launchpad.net/bzr/2.7/2.7.0/+download/bzr-2.7.0.tar.gz",),
        "bazaar",
        ("out",),
        "Version control system supporting both distributed and centralized workflows.",
    ),
    Release(
        "cvs",
        "1.12.13",
        ("https://ftp.gnu.org/non-gnu/cvs/source/feature/1.12.13/cvs-1.12.13.tar.gz",),
        "cvs",
        ("out",),
        "Historical centralized version control system.",
    ),
    Release(
        "r-minimal",
        "3.6.3",
        ("mirror://cran/src/base/R-3/R-3.6.3.tar.gz",),
        "r-minimal",
        ("out",),
        "Environment for statistical computing and graphics.",
    ),
)
"""Packages the 2020 fetchers and leaf packages need."""
