"""What kind of derivation is this, and for a FOD, how and in which era does it fetch?

:func:`classify` recognises, from the ``.drv`` alone whenever possible
(``guix-derivations.md`` §6.9):

* fixed-output derivations by fetch method and era (builtin, in-band
  shared script, per-derivation script, ``build-expression->derivation``
  script, or guix-revive's own builtins), reading the builder script only
  for the script eras, where the method is written nowhere else;
* the non-fixed derivations worth naming: patched-origin sources (what
  ``guix build -S -d`` returns for an origin with patches or a snippet),
  tarbomb/zipbomb wrappers — each linked to the FOD it wraps — and the
  infrastructure a tree may dim (module-import, module-import-compiled,
  grafts, profiles, builder files), and ordinary packages.

It never raises for a derivation it cannot fully recognise: the method is
then :attr:`FetchMethod.UNKNOWN` and :attr:`Classification.reason` says why
(for instance exactly which builder script is missing). The env-based forms
cost a few dictionary look-ups, so it can run over a 50,000-node closure.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from revive.core.aterm import parse_derivation_bytes
from revive.core.derivation import Derivation
from revive.core.errors import MissingStoreItem, ReviveError
from revive.core.fetch.script import (
    find_fetch_call,
    is_guile_builder,
    read_script,
    script_name,
    script_of,
)
from revive.core.fetch.spec import FetchMethod
from revive.core.store_path import name_part

__all__ = [
    "DerivationKind",
    "Classification",
    "Era",
    "REVIVE_BUILDER_VAR",
    "REVIVE_BUILTINS",
    "classify",
    "source_stem",
]


class DerivationKind(enum.StrEnum):
    """What a derivation is, as far as fetching sources is concerned."""

    FOD = "fod"
    """A fixed-output derivation (a download or checkout)."""
    PATCHED_SOURCE = "patched-source"
    """An origin with patches or a snippet: a regular derivation wrapping a FOD."""
    TARBOMB = "tarbomb"
    """``url-fetch/tarbomb``: unpacks a FOD into a directory."""
    ZIPBOMB = "zipbomb"
    """``url-fetch/zipbomb``: unzips a FOD into a directory."""
    MODULE_IMPORT = "module-import"
    """The Guile modules a builder imports."""
    MODULE_IMPORT_COMPILED = "module-import-compiled"
    """Those modules, compiled."""
    GRAFT = "graft"
    """A graft: a package with some references replaced."""
    PROFILE = "profile"
    """A profile, a manifest or a profile hook."""
    BUILDER_FILE = "builder-file"
    """A generated file (``computed-file``, ``program-file``, a configuration)."""
    PACKAGE = "package"
    """An ordinary package build."""
    OTHER = "other"
    """Anything else (hand-written derivations, bootstrap helpers)."""


class Era(enum.StrEnum):
    """How a FOD describes its fetch: where its parameters live (§6.0)."""

    BUILTIN = "builtin"
    """A Guix daemon builtin (``builtin:download``, ``builtin:git-download``)."""
    REVIVE = "guix-revive"
    """A ``builtin:<method>-download`` written by guix-revive, for its own fetchers."""
    IN_BAND = "in-band"
    """A shared script (``download``, ``git-download``…) reading the environment."""
    SCRIPT = "script"
    """A per-derivation gexp script ``<name>-builder`` with the parameters inside."""
    GUILE_BUILDER = "guile-builder"
    """A ``build-expression->derivation`` script ``<name>-guile-builder`` (2012–2014)."""
    RAW = "raw"
    """A builder that is neither a builtin nor Guile (hand-written)."""
    UNKNOWN = "unknown"
    """Not recognised."""


REVIVE_BUILDER_VAR: Final = "guix-revive builder"
"""Env variable naming the guix-revive builder of a ``builtin:<method>-download``."""

REVIVE_BUILTINS: Final[dict[str, FetchMethod]] = {
    "builtin:svn-download": FetchMethod.SVN,
    "builtin:svn-multi-download": FetchMethod.SVN_MULTI,
    "builtin:hg-download": FetchMethod.HG,
    "builtin:bzr-download": FetchMethod.BZR,
    "builtin:cvs-download": FetchMethod.CVS,
}
"""guix-revive's own builtin builders, by builder name (see ``rewrite``)."""


@dataclass(frozen=True, slots=True)
class Classification:
    """What :func:`classify` found out about one derivation."""

    kind: DerivationKind
    """The kind of derivation."""
    method: FetchMethod | None
    """Fetch method: set for FODs (maybe ``UNKNOWN``) and tarbomb/zipbomb wrappers."""
    era: str
    """Short era label (an :class:`Era` value for FODs, ``""`` otherwise)."""
    era_description: str
    """One line describing that era, with Guix dates."""
    reason: str
    """Why it was classified so, for users (one line)."""
    wraps: str | None = None
    """For a patched source or a tarbomb/zipbomb: the ``.drv`` path of the FOD it wraps."""
    executable: bool = False
    """``url-fetch/executable``: a download made executable (recursive hash)."""

    @property
    def is_fod(self) -> bool:
        """True for fixed-output derivations."""
        return self.kind is DerivationKind.FOD

    @property
    def label(self) -> str:
        """A short label for tables: ``url-fetch/executable``, ``git-fetch``, ``package``…"""
        if self.method is not None:
            if self.executable:
                return "url-fetch/executable"
            return str(self.method)
        return str(self.kind)


# --- era descriptions ---------------------------------------------------------

_ERAS: Final[dict[tuple[FetchMethod, Era], str]] = {
    (FetchMethod.URL, Era.BUILTIN):
        "builtin:download, run by the daemon itself (Guix 2016-11 → today)",
    (FetchMethod.URL, Era.IN_BAND):
        "shared `download` script, URL in the environment (Guix 2015-08 → 2017-08)",
    (FetchMethod.URL, Era.SCRIPT):
        "gexp builder script with the URL inside (Guix 2014-05 → 2015-08)",
    (FetchMethod.URL, Era.GUILE_BUILDER):
        "build-expression->derivation script with the URL inside (Guix 2012-11 → 2014-04)",
    (FetchMethod.GIT, Era.BUILTIN):
        "builtin:git-download, run by the daemon itself (Guix 2024 →)",
    (FetchMethod.GIT, Era.IN_BAND):
        "shared `git-download` script, parameters in the environment (Guix 2016-12 → 2024)",
    (FetchMethod.GIT, Era.SCRIPT):
        "gexp builder script with URL and commit inside (Guix 2014-08 → 2016-12)",
    (FetchMethod.GIT, Era.GUILE_BUILDER):
        "build-expression->derivation script with URL and commit inside (Guix 2014-02 → 2014-08)",
    (FetchMethod.SVN, Era.IN_BAND):
        "shared `svn-download` script, parameters in the environment (Guix 2024 →)",
    (FetchMethod.SVN, Era.SCRIPT):
        "gexp builder script with URL and revision inside (Guix 2014-08 → 2024)",
    (FetchMethod.SVN, Era.GUILE_BUILDER):
        "build-expression->derivation script with URL and revision inside (Guix 2014-03 → 2014-08)",
    (FetchMethod.SVN_MULTI, Era.IN_BAND):
        "shared `svn-multi-download` script, parameters in the environment (Guix 2024 →)",
    (FetchMethod.SVN_MULTI, Era.SCRIPT):
        "gexp builder script with URL, revision and locations inside (Guix 2019-07 → 2024)",
    (FetchMethod.HG, Era.IN_BAND):
        "generic hg builder, parameters in the environment (Guix 2024 →)",
    (FetchMethod.HG, Era.SCRIPT):
        "gexp builder script with URL and changeset inside (Guix 2016-06 → 2024)",
    (FetchMethod.BZR, Era.IN_BAND):
        "shared `bzr-download` script, parameters in the environment (Guix 2019-05 → today)",
    (FetchMethod.BZR, Era.SCRIPT):
        "gexp builder script with URL and revision inside",
    (FetchMethod.CVS, Era.SCRIPT):
        "gexp builder script with root, module and revision inside (Guix 2015-02 → today)",
    (FetchMethod.CVS, Era.GUILE_BUILDER):
        "build-expression->derivation script with root, module and revision inside",
}  # fmt: skip

_SHARED_SCRIPTS: Final[dict[str, FetchMethod]] = {
    "git-download": FetchMethod.GIT,
    "bzr-download": FetchMethod.BZR,
    "svn-download": FetchMethod.SVN,
    "svn-multi-download": FetchMethod.SVN_MULTI,
}

# Longest first, so that ".tar.gz" wins over ".gz".
_ARCHIVE_SUFFIXES: Final = tuple(
    sorted(
        (
            ".tar.gz", ".tar.bz2", ".tar.xz", ".tar.lz", ".tar.lzma", ".tar.zst", ".tar.Z",
            ".tgz", ".tbz2", ".tbz", ".txz", ".tlz", ".taz", ".zip", ".tar", ".gem",
            ".crate", ".jar", ".xpi", ".oxt", ".gz", ".bz2", ".xz", ".lz", ".zst", ".7z",
        ),
        key=len,
        reverse=True,
    )
)  # fmt: skip
_CHECKOUT_SUFFIXES: Final = ("-checkout", "-svn", "-hg", "-bzr", "-cvs")
# The shortest stem wins, hence the longest suffix (".tar.gz" over ".gz").
_SOURCE_NAME_RE: Final = re.compile(
    r"(.+?)(?:"
    + "|".join(re.escape(suffix) for suffix in (*_ARCHIVE_SUFFIXES, *_CHECKOUT_SUFFIXES))
    + ")"
)
_PATCH_RE: Final = re.compile(r"\.(?:patch|diff)(?:\.[a-z0-9]+)?$")
_VERSIONED_RE: Final = re.compile(r"-[0-9]")
_PROFILE_HOOKS: Final = frozenset(
    {
        "ca-certificate-bundle", "emacs-subdirs", "fonts-dir", "ghc-package-cache",
        "glib-schemas", "gtk-icon-themes", "gtk-im-modules", "info-dir",
        "manual-database", "texlive-configuration", "xdg-desktop-database",
        "xdg-mime-database", "linux-module-database", "gdk-pixbuf-loaders-cache-file",
        "profile", "manifest",
    }
)  # fmt: skip


def source_stem(name: str) -> str | None:
    """``name`` without its archive suffix or ``-checkout``; ``None`` if it has neither.

    ``hello-2.10.tar.gz`` → ``hello-2.10``; ``foo-1.0-checkout`` → ``foo-1.0``.
    Used to match a patched source with the FOD it wraps.
    """
    match = _SOURCE_NAME_RE.fullmatch(name)
    return match.group(1) if match is not None else None


def _env(drv: Derivation, name: str) -> str | None:
    """``drv.getenv(name)`` without building the derivation's env index.

    Classification reads two or three variables of each of tens of thousands
    of derivations once; a scan of the (short) list is cheaper than the dict.
    """
    for key, value in drv.env:
        if key == name:
            return value
    return None


def _fod(method: FetchMethod, era: Era, reason: str, executable: bool = False) -> Classification:
    return Classification(
        DerivationKind.FOD,
        method,
        str(era),
        _ERAS.get((method, era), ""),
        reason,
        executable=executable,
    )


def _unknown_fod(era: Era, description: str, reason: str) -> Classification:
    return Classification(DerivationKind.FOD, FetchMethod.UNKNOWN, str(era), description, reason)


# The FOD forms that fill whole closures, classified once: a Classification is
# immutable, so all such derivations share one instead of building it anew
# (classify runs over 50,000-node closures, and again in every rewrite).
_URL_BUILTIN: Final = _fod(FetchMethod.URL, Era.BUILTIN, "builder builtin:download")
_URL_EXECUTABLE_BUILTIN: Final = _fod(
    FetchMethod.URL,
    Era.BUILTIN,
    "builder builtin:download with executable=1 (url-fetch/executable)",
    executable=True,
)
_GIT_BUILTIN: Final = _fod(FetchMethod.GIT, Era.BUILTIN, "builder builtin:git-download")
_GIT_LFS_FORM: Final = " (2023–2024 form: env has 'git lfs?'/'hash')"
# By shared script name and whether the env has the 2023–2024 git variables.
_SHARED_SCRIPT_FODS: Final = {
    (script, lfs): _fod(
        method,
        Era.IN_BAND,
        f"Guile runs the shared script {script!r}" + (_GIT_LFS_FORM if lfs else ""),
    )
    for script, method in _SHARED_SCRIPTS.items()
    for lfs in ((False, True) if method is FetchMethod.GIT else (False,))
}
_URL_IN_BAND: Final = _fod(
    FetchMethod.URL, Era.IN_BAND, "shared script 'download' with env 'guix download url'"
)
_HG_IN_BAND: Final = _fod(FetchMethod.HG, Era.IN_BAND, "env has 'hg ref url'")


def classify(drv: Derivation, read_item: Callable[[str], bytes] | None = None) -> Classification:
    """Classify ``drv``; see the module docstring.

    Args:
        drv: the derivation.
        read_item: reads a store item's bytes (raising
            :class:`~revive.core.errors.MissingStoreItem` when absent); used
            only for FODs of the script eras (to read the builder script) and
            to find the FOD a patched source wraps when names do not tell.
            Without it those cases are reported as not fully recognised.
    """
    if drv.is_fixed_output:
        return _classify_fod(drv, read_item)
    return _classify_regular(drv, read_item)


def _classify_fod(drv: Derivation, read_item: Callable[[str], bytes] | None) -> Classification:
    builder = drv.builder
    if builder == "builtin:download":
        return _URL_EXECUTABLE_BUILTIN if _env(drv, "executable") == "1" else _URL_BUILTIN
    if builder == "builtin:git-download":
        return _GIT_BUILTIN
    if builder.startswith("builtin:"):
        method = REVIVE_BUILTINS.get(builder)
        marker = _env(drv, REVIVE_BUILDER_VAR)
        if method is not None and marker is not None:
            return Classification(
                DerivationKind.FOD,
                method,
                str(Era.REVIVE),
                f"{builder}, fetched by guix-revive's own {method} builder "
                "(written by guix-revive rewrite)",
                f"builder {builder} with {REVIVE_BUILDER_VAR!r} = {marker!r}",
            )
        return _unknown_fod(
            Era.UNKNOWN, "an unknown daemon builtin", f"unknown builtin builder {builder}"
        )
    if not is_guile_builder(drv):
        return _unknown_fod(
            Era.RAW,
            "a hand-written fixed-output derivation",
            f"builder {builder} is neither a Guix builtin nor Guile",
        )
    sname = script_name(drv)
    shared = _SHARED_SCRIPTS.get(sname)
    if shared is not None:
        lfs = shared is FetchMethod.GIT and (
            _env(drv, "git lfs?") is not None or _env(drv, "hash") is not None
        )
        return _SHARED_SCRIPT_FODS[sname, lfs]
    if sname == "download" and _env(drv, "guix download url") is not None:
        return _URL_IN_BAND
    if _env(drv, "hg ref url") is not None:
        return _HG_IN_BAND
    if sname.endswith("-guile-builder"):
        era = Era.GUILE_BUILDER
    elif sname.endswith("-builder"):
        era = Era.SCRIPT
    else:
        return _unknown_fod(
            Era.UNKNOWN,
            "a Guile-built fixed-output derivation of an unknown form",
            f"Guile runs {sname or 'no script'!r}, which is no known fetch script",
        )
    return _classify_by_script(drv, era, read_item)


def _classify_by_script(
    drv: Derivation, era: Era, read_item: Callable[[str], bytes] | None
) -> Classification:
    script = script_of(drv) or ""
    description = (
        "a per-derivation gexp builder script (Guix 2014 → 2024)"
        if era is Era.SCRIPT
        else "a build-expression->derivation script (Guix 2012 → 2014)"
    )
    if read_item is None:
        return _unknown_fod(
            era,
            description,
            f"the fetch method is written only in the builder script {script}, which was not read",
        )
    try:
        _, data = read_script(drv, read_item, "find how this FOD fetches")
    except MissingStoreItem:
        return _unknown_fod(
            era,
            description,
            f"the fetch method is written only in the builder script {script}, "
            "which is not in the store",
        )
    except ReviveError as err:
        return _unknown_fod(era, description, f"cannot read the builder script: {err}")
    call = find_fetch_call(data)
    if call is None:
        return _unknown_fod(
            era, description, f"no fetch procedure is called in the builder script {script}"
        )
    where = "inside a loop over locations" if call.location_variable else ""
    reason = f"the builder script {name_part(script)} calls {call.procedure}"
    return _fod(call.method, era, f"{reason} {where}".rstrip())


def _classify_regular(drv: Derivation, read_item: Callable[[str], bytes] | None) -> Classification:
    # Ordered so that the common case (a package) costs a few look-ups: the
    # input names are only computed for source-like derivations.
    name = drv.name
    if name == "module-import":
        return _regular(DerivationKind.MODULE_IMPORT, "named module-import")
    if name == "module-import-compiled":
        return _regular(DerivationKind.MODULE_IMPORT_COMPILED, "named module-import-compiled")
    properties = _env(drv, "guix properties")
    if properties:
        if "(type . origin)" in properties:
            return _patched(drv, read_item, "'guix properties' says (type . origin)")
        if "(type . graft)" in properties:
            return _regular(DerivationKind.GRAFT, "'guix properties' says (type . graft)")
        if "(type . profile-hook)" in properties:
            return _regular(DerivationKind.PROFILE, "'guix properties' says (type . profile-hook)")
    if name in _PROFILE_HOOKS:
        return _regular(DerivationKind.PROFILE, f"named {name} (a profile or one of its hooks)")
    stem = source_stem(name)
    if stem is not None:
        for bomb, kind, method in (
            ("tarbomb", DerivationKind.TARBOMB, FetchMethod.URL_TARBOMB),
            ("zipbomb", DerivationKind.ZIPBOMB, FetchMethod.URL_ZIPBOMB),
        ):
            suffix = f"-{bomb}-{name}.drv"
            for path, _ in drv.input_drvs:
                if path.endswith(suffix):
                    return Classification(
                        kind,
                        method,
                        "",
                        f"url-fetch/{bomb}: unpacks a downloaded archive (Guix 2016 → today)",
                        f"its input {bomb}-{name}.drv is the download it unpacks",
                        wraps=path,
                    )
        if is_guile_builder(drv) and script_name(drv) == f"{name}-builder":
            # Before 2019 patched origins carried no 'guix properties': a
            # source-like name built from an input with the same stem is one.
            if _wrap_candidates(name, stem, _input_names(drv)):
                return _patched(drv, read_item, "a source name built from the download of " + stem)
    if _env(drv, "allowSubstitutes") == "0":
        return _regular(
            DerivationKind.BUILDER_FILE,
            "built locally and never substituted (allowSubstitutes=0): a generated file",
        )
    if _VERSIONED_RE.search(name) and not drv.builder.startswith("builtin:"):
        return _regular(DerivationKind.PACKAGE, "an ordinary build of a name-version")
    return _regular(DerivationKind.OTHER, f"no rule recognises {name!r}")


def _input_names(drv: Derivation) -> dict[str, str]:
    return {path: Derivation.name_from_path(path) for path, _ in drv.input_drvs}


def _regular(kind: DerivationKind, reason: str) -> Classification:
    return Classification(kind, None, "", "", reason)


def _wrap_candidates(name: str, stem: str, input_names: dict[str, str]) -> list[str]:
    """Inputs that look like the download a source named ``name`` was made from."""
    exact = [path for path, other in input_names.items() if other == name]
    if exact:
        return exact
    return [
        path
        for path, other in input_names.items()
        if source_stem(other) == stem and not _PATCH_RE.search(other)
    ]


def _patched(
    drv: Derivation,
    read_item: Callable[[str], bytes] | None,
    why: str,
) -> Classification:
    input_names = _input_names(drv)
    description = "an origin with patches or a snippet (patch-and-repack), not fixed-output"
    stem = source_stem(drv.name) or drv.name
    candidates = _wrap_candidates(drv.name, stem, input_names)
    if len(candidates) != 1 and read_item is not None:
        # Names do not tell: read the inputs and keep the fixed-output ones
        # that are not patches.
        fods = []
        for path in candidates or list(input_names):
            try:
                if parse_derivation_bytes(read_item(path), path).is_fixed_output:
                    fods.append(path)
            except ReviveError:
                continue
        candidates = [p for p in fods if not _PATCH_RE.search(input_names[p])] or fods
    if len(candidates) == 1:
        wrapped = candidates[0]
        return Classification(
            DerivationKind.PATCHED_SOURCE,
            None,
            "",
            description,
            f"{why}; wraps {name_part(wrapped)}",
            wraps=wrapped,
        )
    return Classification(
        DerivationKind.PATCHED_SOURCE,
        None,
        "",
        description,
        f"{why}; cannot tell which input is the download it wraps",
    )
