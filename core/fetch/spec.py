"""What a fixed-output derivation fetches: one typed spec per fetch method.

A :data:`FetchSpec` is everything needed to fetch the bytes again, whatever
era of Guix wrote the derivation: it is what extraction produces from any
form of a FOD, what the rewrite turns into today's form, and what the
embedded builders consume.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Final, TypeAlias

from revive.core import base32

__all__ = [
    "FetchMethod",
    "Expected",
    "UrlFetch",
    "GitFetch",
    "SvnFetch",
    "SvnMultiFetch",
    "HgFetch",
    "BzrFetch",
    "CvsFetch",
    "FetchSpec",
    "describe_source",
    "spec_parameters",
]


class FetchMethod(enum.StrEnum):
    """Fetch methods, named as the Guix procedures that create them."""

    URL = "url-fetch"
    URL_TARBOMB = "url-fetch/tarbomb"
    URL_ZIPBOMB = "url-fetch/zipbomb"
    GIT = "git-fetch"
    SVN = "svn-fetch"
    SVN_MULTI = "svn-multi-fetch"
    HG = "hg-fetch"
    BZR = "bzr-fetch"
    CVS = "cvs-fetch"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Expected:
    """The part of a FOD that fixes its output: name, hash, recursive flag."""

    name: str
    """Store name of the output (the derivation name)."""
    output_path: str
    """The output store path, as written in the derivation."""
    algorithm: str
    """Hash algorithm name without ``r:`` (``sha256``)."""
    digest: bytes
    """Expected raw digest."""
    recursive: bool
    """True if the digest is over the NAR (a directory or executable)."""

    @property
    def nix32(self) -> str:
        """The digest in nix-base32, as ``guix hash`` prints it."""
        return base32.encode(self.digest)


@dataclass(frozen=True, slots=True)
class UrlFetch:
    """``url-fetch`` (and ``url-fetch/executable``): download one file."""

    expected: Expected
    urls: tuple[str, ...]
    """Alternative URLs in order, as written (``mirror://`` not yet expanded)."""
    executable: bool = False
    """``url-fetch/executable``: the result is mode 0755 and hashed recursively."""
    mirrors_file: str | None = None
    """Store path of the ``mirrors`` file the derivation names, if any."""
    content_addressed_mirrors_file: str | None = None
    """Store path of the ``content-addressed-mirrors`` file, if any."""
    disarchive_mirrors_file: str | None = None
    """Store path of the ``disarchive-mirrors`` file, if any."""
    embedded_mirrors: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """The mirror table written inside an old builder script (``#:mirrors``,
    eras U0/U1), by kind, in file order; empty for the other eras."""
    method: FetchMethod = FetchMethod.URL


@dataclass(frozen=True, slots=True)
class _Checkout:
    """What every version-control fetch but CVS starts with: the output and the repository."""

    expected: Expected
    """The output the checkout must hash to."""
    url: str
    """Where the repository is."""


@dataclass(frozen=True, slots=True)
class GitFetch(_Checkout):
    """``git-fetch``: a checkout of one commit or tag, without ``.git``."""

    commit: str
    """A commit id or a tag name."""
    recursive: bool = False
    """Also check out submodules."""
    method: FetchMethod = FetchMethod.GIT


@dataclass(frozen=True, slots=True)
class SvnFetch(_Checkout):
    """``svn-fetch``: ``svn export`` of one revision."""

    revision: int
    recursive: bool = True
    """Include externals (the default before 2024)."""
    user_name: str | None = None
    password: str | None = None
    method: FetchMethod = FetchMethod.SVN


@dataclass(frozen=True, slots=True)
class SvnMultiFetch(_Checkout):
    """``svn-multi-fetch``: several locations below one URL, one revision."""

    revision: int
    locations: tuple[str, ...]
    """Paths relative to ``url``; a trailing ``/`` marks a directory."""
    recursive: bool = True
    user_name: str | None = None
    password: str | None = None
    method: FetchMethod = FetchMethod.SVN_MULTI


@dataclass(frozen=True, slots=True)
class HgFetch(_Checkout):
    """``hg-fetch``: a Mercurial checkout of one changeset, without ``.hg``."""

    changeset: str
    method: FetchMethod = FetchMethod.HG


@dataclass(frozen=True, slots=True)
class BzrFetch(_Checkout):
    """``bzr-fetch``: a Bazaar/Breezy branch at one revision, without ``.bzr``."""

    revision: str
    method: FetchMethod = FetchMethod.BZR


@dataclass(frozen=True, slots=True)
class CvsFetch:
    """``cvs-fetch``: a CVS export of one module at a tag or date."""

    expected: Expected
    root: str
    """CVSROOT, e.g. ``:pserver:anonymous@cvs.example.org:/cvsroot/x``."""
    module: str
    revision: str
    """A tag, or an ISO date string."""
    method: FetchMethod = FetchMethod.CVS


FetchSpec: TypeAlias = (
    UrlFetch | GitFetch | SvnFetch | SvnMultiFetch | HgFetch | BzrFetch | CvsFetch
)
"""Everything needed to fetch a FOD's content again."""


def describe_source(spec: FetchSpec) -> str:
    """One line saying what ``spec`` fetches: the URL, or URL and revision.

    For tables (the ``URL/commit`` column of ``guix-revive fods``) and the TUI.
    """
    if isinstance(spec, UrlFetch):
        more = f" (+{len(spec.urls) - 1} more)" if len(spec.urls) > 1 else ""
        return (spec.urls[0] if spec.urls else "") + more
    if isinstance(spec, GitFetch):
        return f"{spec.url} @ {spec.commit}"
    if isinstance(spec, SvnMultiFetch):
        count = len(spec.locations)
        return f"{spec.url} r{spec.revision} ({count} location{'s' if count != 1 else ''})"
    if isinstance(spec, SvnFetch):
        return f"{spec.url} r{spec.revision}"
    if isinstance(spec, HgFetch):
        return f"{spec.url} @ {spec.changeset}"
    if isinstance(spec, BzrFetch):
        return f"{spec.url} @ {spec.revision}"
    return f"{spec.root} {spec.module} @ {spec.revision}"


_PARAMETERS: Final[dict[type, tuple[tuple[str, str], ...]]] = {
    UrlFetch: (("urls", "urls"), ("executable", "executable")),
    GitFetch: (("url", "url"), ("commit", "commit"), ("recursive_checkout", "recursive")),
    SvnMultiFetch: (("url", "url"), ("revision", "revision"), ("locations", "locations")),
    SvnFetch: (("url", "url"), ("revision", "revision")),
    HgFetch: (("url", "url"), ("changeset", "changeset")),
    BzrFetch: (("url", "url"), ("revision", "revision")),
    CvsFetch: (("root", "root"), ("module", "module"), ("revision", "revision")),
}
"""The parameters that say where each kind of spec fetches from: ``(key, attribute)``."""


def spec_parameters(spec: FetchSpec) -> dict[str, object]:
    """Where ``spec`` fetches from, as JSON-ready values keyed by parameter name.

    The URLs of a download (and whether it is executable), the repository and
    revision of a checkout; what ``guix-revive fods --json`` prints per FOD.
    Lists are lists, not tuples.
    """
    values: dict[str, object] = {}
    for key, attribute in _PARAMETERS[type(spec)]:
        value = getattr(spec, attribute)
        values[key] = list(value) if isinstance(value, tuple) else value
    return values
