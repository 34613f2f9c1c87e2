"""Mirror tables and content-addressed mirror lists as past Guix versions had them.

A derivation carries the mirror data of the Guix that computed it: in the
``#:mirrors`` argument of its script (2014–2015), or as the ``mirrors`` and
``content-addressed-mirrors`` text items it names (2015 →). These tables
are the demo's reconstruction of that data for three eras, written here as
plain data (hosts are the kind of hosts those lists named; the demo never
contacts them: ``--demo-serve`` maps every one to a loopback server).
The era codes' descriptions and each era's impure variables are here too.
"""

from __future__ import annotations

from typing import Final, TypeAlias

from revive.core.fetch.scheme import Datum, Symbol, write_datum

__all__ = [
    "MirrorTable",
    "MIRRORS_2015",
    "MIRRORS_2016",
    "MIRRORS_2020",
    "mirrors_datum",
    "mirrors_file",
    "CA_MIRRORS_2016",
    "CA_MIRRORS_2020",
    "NAR_BASE_2020",
    "CA_HOSTS_2016",
    "CA_HOSTS_2020",
    "expand_mirror_url",
    "ERA_DESCRIPTIONS",
    "IMPURE_2020",
    "IMPURE_OLD",
]

ERA_DESCRIPTIONS: Final = {
    "U1": "url-fetch `-builder` script with the mirror table inside (2014-05 → 2015-08)",
    "U2": "url-fetch in-band `download` script (2015-08 → 2017-08)",
    "U3": "url-fetch with builtin:download (2016-11 →)",
    "U3x": "url-fetch/executable with builtin:download (2019-06 →)",
    "G1": "git-fetch `-builder` script (2014-08 → 2016-12)",
    "G2": "git-fetch shared `git-download` script (2016-12 → 2024)",
    "G4": "git-fetch with builtin:git-download (2024 →)",
    "S1": "svn-fetch `-builder` script (2014-08 → 2024)",
    "svn-multi": "svn-multi-fetch `-builder` script (2019-07 → 2024)",
    "H1": "hg-fetch `-builder` script (2016-06 → 2024)",
    "bzr": "bzr-fetch shared `bzr-download` script (2019-05 →)",
    "cvs": "cvs-fetch `-builder` script (2015-02 →)",
}
"""Era code (``guix-derivations.md`` §6) → what the demo's manifest says of it."""

IMPURE_2020: Final = "http_proxy https_proxy LC_ALL LC_MESSAGES LANG COLUMNS"
"""``impureEnvVars`` of a 2020 fetch."""

IMPURE_OLD: Final = "http_proxy https_proxy"
"""``impureEnvVars`` of a 2015–2016 fetch."""

MirrorTable: TypeAlias = tuple[tuple[str, tuple[str, ...]], ...]
"""Mirror kind → base URLs, in file order."""

MIRRORS_2015: Final[MirrorTable] = (
    (
        "gnu",
        (
            "http://ftpmirror.gnu.org/",
            "ftp://ftp.cs.tu-berlin.de/pub/gnu/",
            "ftp://ftp.chg.ru/pub/gnu/",
            "ftp://ftp.funet.fi/pub/mirrors/ftp.gnu.org/gnu/",
            "http://ftp.gnu.org/pub/gnu/",
        ),
    ),
    (
        "kernel.org",
        (
            "http://www.all.kernel.org/pub/",
            "http://ramses.wh2.tu-dresden.de/pub/mirrors/kernel.org/",
            "http://linux-kernel.uio.no/pub/",
            "http://kernel.osuosl.org/pub/",
            "ftp://ftp.funet.fi/pub/mirrors/ftp.kernel.org/pub/",
        ),
    ),
    (
        "savannah",
        (
            "http://download.savannah.gnu.org/releases/",
            "ftp://ftp.twaren.net/Unix/NonGNU/",
            "http://download-mirror.savannah.gnu.org/releases/",
        ),
    ),
    (
        "sourceforge",
        (
            "http://prdownloads.sourceforge.net/",
            "http://heanet.dl.sourceforge.net/sourceforge/",
            "http://surfnet.dl.sourceforge.net/sourceforge/",
        ),
    ),
)
"""The mirror table a 2015 Guix spliced into every ``url-fetch`` script."""

MIRRORS_2016: Final[MirrorTable] = (
    (
        "gnu",
        (
            "http://ftpmirror.gnu.org/",
            "ftp://ftp.cs.tu-berlin.de/pub/gnu/",
            "ftp://ftp.funet.fi/pub/mirrors/ftp.gnu.org/gnu/",
            "http://ftp.gnu.org/pub/gnu/",
        ),
    ),
    (
        "gnupg",
        (
            "ftp://gd.tuwien.ac.at/privacy/gnupg/",
            "ftp://mirrors.dotsrc.org/gcrypt/",
            "ftp://ftp.gnupg.org/gcrypt/",
        ),
    ),
    (
        "kernel.org",
        (
            "http://www.all.kernel.org/pub/",
            "http://ramses.wh2.tu-dresden.de/pub/mirrors/kernel.org/",
            "http://linux-kernel.uio.no/pub/",
            "ftp://ftp.funet.fi/pub/mirrors/ftp.kernel.org/pub/",
        ),
    ),
    (
        "savannah",
        (
            "http://download.savannah.gnu.org/releases/",
            "http://download-mirror.savannah.gnu.org/releases/",
        ),
    ),
    (
        "sourceforge",
        (
            "http://downloads.sourceforge.net/project/",
            "http://ufpr.dl.sourceforge.net/project/",
        ),
    ),
)
"""The ``mirrors`` text item of a September 2016 Guix."""

MIRRORS_2020: Final[MirrorTable] = (
    (
        "gnu",
        (
            "https://ftpmirror.gnu.org/gnu/",
            "ftp://ftp.cs.tu-berlin.de/pub/gnu/",
            "ftp://ftp.funet.fi/pub/mirrors/ftp.gnu.org/gnu/",
            "http://ftp.gnu.org/pub/gnu/",
        ),
    ),
    (
        "gcc",
        (
            "ftp://ftp.nluug.nl/mirror/languages/gcc/",
            "ftp://ftp.fu-berlin.de/unix/languages/gcc/",
            "ftp://ftp.irisa.fr/pub/mirrors/gcc.gnu.org/gcc/",
            "ftp://gcc.gnu.org/pub/gcc/",
        ),
    ),
    (
        "gnupg",
        (
            "https://gnupg.org/ftp/gcrypt/",
            "ftp://mirrors.dotsrc.org/gcrypt/",
            "ftp://mirror.cict.fr/gnupg/",
        ),
    ),
    (
        "savannah",
        (
            "https://download.savannah.gnu.org/releases/",
            "https://ftp.cc.uoc.gr/mirrors/nongnu.org/",
            "http://download-mirror.savannah.gnu.org/releases/",
        ),
    ),
    (
        "sourceforge",
        (
            "https://downloads.sourceforge.net/project/",
            "https://ufpr.dl.sourceforge.net/project/",
            "https://netix.dl.sourceforge.net/project/",
        ),
    ),
    (
        "kernel.org",
        (
            "https://www.kernel.org/pub/",
            "http://ramses.wh2.tu-dresden.de/pub/mirrors/kernel.org/",
            "http://linux-kernel.uio.no/pub/",
            "http://kernel.osuosl.org/pub/",
            "ftp://ftp.funet.fi/pub/mirrors/ftp.kernel.org/pub/",
        ),
    ),
    (
        "apache",
        (
            "https://www-eu.apache.org/dist/",
            "https://www-us.apache.org/dist/",
            "https://archive.apache.org/dist/",
        ),
    ),
    (
        "cran",
        (
            "https://cran.r-project.org/",
            "https://cloud.r-project.org/",
            "https://cran.rstudio.com/",
        ),
    ),
    (
        "debian",
        (
            "http://ftp.de.debian.org/debian/",
            "http://ftp.fr.debian.org/debian/",
            "http://ftp.debian.org/debian/",
            "http://archive.debian.org/debian/",
        ),
    ),
)
"""The ``mirrors`` text item of an April 2020 Guix (a subset of its kinds)."""


def mirrors_datum(table: MirrorTable) -> Datum:
    """The association list ``((kind "base" …) …)`` for ``table``."""
    return tuple((Symbol(kind), *bases) for kind, bases in table)


def mirrors_file(table: MirrorTable) -> str:
    """Contents of a ``mirrors`` text item: the alist written on one line."""
    return write_datum(mirrors_datum(table))


def _nix32_url(prefix: str, with_file: bool) -> Datum:
    # (lambda ([file] algo hash) (string-append PREFIX (symbol->string algo) "/"
    #   (bytevector->nix-base32-string hash))); the file name argument came later.
    params = (
        (Symbol("file"), Symbol("algo"), Symbol("hash"))
        if with_file
        else (Symbol("algo"), Symbol("hash"))
    )
    return (
        Symbol("lambda"),
        params,
        (
            Symbol("string-append"),
            prefix,
            (Symbol("symbol->string"), Symbol("algo")),
            "/",
            (Symbol("bytevector->nix-base32-string"), Symbol("hash")),
        ),
    )


CA_MIRRORS_2016: Final = write_datum(
    (
        Symbol("begin"),
        (Symbol("use-modules"), (Symbol("guix"), Symbol("base32"))),
        (Symbol("list"), _nix32_url("http://tarballs.nixos.org/", with_file=False)),
    )
)
"""The ``content-addressed-mirrors`` text item of a 2016 Guix (one two-argument procedure)."""

CA_MIRRORS_2020: Final = write_datum(
    (
        Symbol("begin"),
        (
            Symbol("use-modules"),
            (Symbol("guix"), Symbol("base16")),
            (Symbol("guix"), Symbol("base32")),
        ),
        (
            Symbol("define"),
            (Symbol("guix-publish"), Symbol("host")),
            (
                Symbol("lambda"),
                (Symbol("file"), Symbol("type"), Symbol("hash")),
                (
                    Symbol("string-append"),
                    "https://",
                    Symbol("host"),
                    "/file/",
                    Symbol("file"),
                    "/",
                    (Symbol("symbol->string"), Symbol("type")),
                    "/",
                    (Symbol("bytevector->nix-base32-string"), Symbol("hash")),
                ),
            ),
        ),
        (
            Symbol("list"),
            (Symbol("guix-publish"), "ci.guix.gnu.org"),
            _nix32_url("https://tarballs.nixos.org/", with_file=True),
            (
                Symbol("lambda"),
                (Symbol("file"), Symbol("type"), Symbol("hash")),
                (
                    Symbol("string-append"),
                    "https://archive.softwareheritage.org/api/1/content/",
                    (Symbol("symbol->string"), Symbol("type")),
                    ":",
                    (Symbol("bytevector->base16-string"), Symbol("hash")),
                    "/raw/",
                ),
            ),
        ),
    )
)
"""The ``content-addressed-mirrors`` text item of an April 2020 Guix."""

CA_HOSTS_2016: Final = ("http://tarballs.nixos.org/",)
"""URL prefixes the 2016 content-addressed mirror list points at."""

CA_HOSTS_2020: Final = (
    "https://ci.guix.gnu.org/",
    "https://tarballs.nixos.org/",
    "https://archive.softwareheritage.org/",
)
"""URL prefixes the 2020 content-addressed mirror list points at."""

NAR_BASE_2020: Final = "http://berlin.guix.gnu.org"
"""Where the 2020 VCS fetchers' ``download-nar`` fallback looked for nars."""


def expand_mirror_url(url: str, table: MirrorTable) -> tuple[str, ...]:
    """``mirror://KIND/PATH`` expanded with ``table`` (other URLs: themselves)."""
    if not url.startswith("mirror://"):
        return (url,)
    kind, _, path = url[len("mirror://") :].partition("/")
    for name, bases in table:
        if name == kind:
            return tuple(base.rstrip("/") + "/" + path.strip("/") for base in bases)
    raise KeyError(f"unknown mirror kind {kind!r} in {url}")
