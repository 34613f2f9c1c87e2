"""Extract what a fixed-output derivation fetches, whatever its era.

:func:`extract_fetch_spec` turns any FOD that :func:`~revive.core.fetch.classify.classify`
recognises into one typed :data:`~revive.core.fetch.spec.FetchSpec`
(``guix-derivations.md`` §6, table "Parameters by method and era"):

* builtin and in-band forms: from the environment (Scheme-written values
  such as ``url`` are read with the Scheme reader, raw ones taken as is);
* script forms: from the fetch call inside the builder script, read from
  the store and evaluated with the tiny evaluator of :mod:`.script`;
* guix-revive's own ``builtin:<method>-download`` forms: from the env
  layout documented in :mod:`revive.core.fetch.rewrite`.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

from revive.core.derivation import Derivation, Output
from revive.core.errors import ReviveError
from revive.core.fetch.classify import (
    REVIVE_BUILDER_VAR,
    Classification,
    Era,
    classify,
)
from revive.core.fetch.scheme import Datum, DottedList, Symbol, read_one
from revive.core.fetch.script import (
    FetchCall,
    Unevaluable,
    evaluate,
    find_fetch_call,
    read_script,
    split_arguments,
)
from revive.core.fetch.spec import (
    BzrFetch,
    CvsFetch,
    Expected,
    FetchMethod,
    FetchSpec,
    GitFetch,
    HgFetch,
    SvnFetch,
    SvnMultiFetch,
    UrlFetch,
)
from revive.core.store_path import name_part

__all__ = [
    "ExtractionError",
    "UnknownFetchMethod",
    "extract_fetch_spec",
    "expected_of",
    "read_fetch_spec",
]


class ExtractionError(ReviveError):
    """A derivation whose fetch parameters cannot be extracted (one line)."""


class UnknownFetchMethod(ExtractionError):
    """A FOD whose way of fetching is not recognised (the message says why)."""


def expected_of(drv: Derivation) -> Expected:
    """The name, output path and expected hash of a FOD.

    Raises:
        ExtractionError: ``drv`` is not fixed-output, or its hash is not hex.
    """
    out = drv.fixed_output
    if out is None:
        raise ExtractionError(f"{drv.name}: not a fixed-output derivation")
    return _expected(drv, out)


def _expected(drv: Derivation, out: Output) -> Expected:
    """:func:`expected_of` for the ``out`` output of the FOD ``drv``."""
    try:
        digest = bytes.fromhex(out.hash)
    except ValueError:
        raise ExtractionError(f"{drv.name}: expected hash {out.hash!r} is not base16") from None
    # Output.recursive and Output.algorithm, read once (this runs for every
    # FOD of a closure).
    hash_algo = out.hash_algo
    recursive = hash_algo.startswith("r:")
    return Expected(
        drv.name, out.path, hash_algo[2:] if recursive else hash_algo, digest, recursive
    )


def extract_fetch_spec(
    drv: Derivation,
    read_item: Callable[[str], bytes] | None = None,
    *,
    path: str | None = None,
    classification: Classification | None = None,
) -> FetchSpec:
    """What ``drv`` fetches, as a typed spec.

    Args:
        drv: a fixed-output derivation.
        read_item: reads a store item's bytes; needed for the script eras
            (the builder script). Raises ``MissingStoreItem`` when absent.
        path: the ``.drv`` path, for error messages.
        classification: ``classify(drv, read_item)`` if already known.

    Raises:
        ExtractionError: not a FOD, an unknown form, or a parameter that
            cannot be read.
        MissingStoreItem: the builder script holding the parameters is not
            in the store (the error names it).
    """
    where = path or drv.name
    out = drv.fixed_output
    if out is None:
        found = classification or classify(drv)
        hint = f"; extract the FOD it wraps: {found.wraps}" if found.wraps else ""
        raise ExtractionError(f"{where}: not a fixed-output derivation ({found.kind}){hint}")
    expected = _expected(drv, out)
    try:
        return _extract(drv, expected, read_item, where, classification)
    except Unevaluable as err:
        raise ExtractionError(f"{where}: cannot evaluate {err} in the builder script") from None
    except _Bad as err:
        raise ExtractionError(f"{where}: {err}") from None


def read_fetch_spec(
    drv: Derivation,
    read_item: Callable[[str], bytes] | None = None,
    *,
    path: str | None = None,
) -> tuple[Classification, FetchSpec | None, str]:
    """How a FOD fetches, and what, or why what it fetches cannot be said.

    For the reports that list every FOD of a closure (``guix-revive fods``,
    the archival audit): one FOD that cannot be read must not stop the rest.
    ``read_item`` and ``path`` are as for :func:`extract_fetch_spec`.

    Returns:
        ``(classification, spec, "")``; or ``(classification, None, why)``
        when the method is unknown or the parameters cannot be read.
    """
    found = classify(drv, read_item)
    if found.method is FetchMethod.UNKNOWN:
        return found, None, found.reason
    try:
        return found, extract_fetch_spec(drv, read_item, path=path, classification=found), ""
    except ReviveError as err:
        return found, None, str(err)


class _Bad(Exception):
    """A malformed parameter (turned into an ExtractionError naming the drv)."""


def _extract(
    drv: Derivation,
    expected: Expected,
    read_item: Callable[[str], bytes] | None,
    where: str,
    classification: Classification | None,
) -> FetchSpec:
    builder = drv.builder
    if builder == "builtin:download":
        return _url_builtin(drv, expected)
    if builder == "builtin:git-download":
        return GitFetch(
            expected,
            _url_value(drv, "url"),
            _env(drv, "commit"),
            _boolean(drv, "recursive?", default=False),
        )
    if builder.startswith("builtin:") and drv.has_env(REVIVE_BUILDER_VAR):
        return _revive_builtin(drv, expected)
    found = classification or classify(drv)  # cheap: no read_item, no script reading
    if found.era == Era.IN_BAND:
        return _in_band(drv, expected, found.method)
    if found.era in (Era.SCRIPT, Era.GUILE_BUILDER):
        if read_item is None:
            raise ExtractionError(
                f"{where}: the fetch parameters are in the builder script {drv.args[-1]}; "
                "no store to read it from"
            )
        _, data = read_script(drv, read_item, "extract the fetch parameters")
        call = find_fetch_call(data)
        if call is None:
            raise ExtractionError(
                f"{where}: no fetch procedure is called in the builder script {drv.args[-1]}"
            )
        return _from_call(drv, expected, call, data)
    raise UnknownFetchMethod(f"{where}: unknown fetch method ({found.reason})")


# --- environment-based forms -------------------------------------------------


def _env(drv: Derivation, name: str) -> str:
    value = drv.getenv(name)
    if value is None:
        raise _Bad(f"environment variable {name!r} is missing")
    return value


def _read_env(drv: Derivation, name: str) -> Datum:
    try:
        return read_one(_env(drv, name), f"env {name!r}")
    except ReviveError as err:
        raise _Bad(f"cannot read environment variable {name!r}: {err}") from None


def _url_value(drv: Derivation, name: str) -> str:
    value = _read_env(drv, name)
    if not isinstance(value, str):
        raise _Bad(f"environment variable {name!r} is not a Scheme string")
    return value


def _urls(value: Datum, what: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, tuple) and value and all(isinstance(v, str) for v in value):
        return value  # type: ignore[return-value]
    raise _Bad(f"{what} is neither a URL string nor a list of URL strings")


def _boolean(drv: Derivation, name: str, default: bool) -> bool:
    value = drv.getenv(name)
    if value is None:
        return default
    if value in ("#t", "#true"):
        return True
    if value in ("#f", "#false"):
        return False
    raise _Bad(f"environment variable {name!r} = {value!r} is not #t or #f")


def _revision(value: Datum, what: str) -> int:
    if isinstance(value, bool):
        raise _Bad(f"{what} is not a revision number")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, Fraction) and value.denominator == 1:
        return int(value)
    raise _Bad(f"{what} is not a revision number")


def _url_builtin(drv: Derivation, expected: Expected) -> UrlFetch:
    return UrlFetch(
        expected,
        _urls(_read_env(drv, "url"), "env 'url'"),
        executable=drv.getenv("executable") == "1",
        mirrors_file=drv.getenv("mirrors"),
        content_addressed_mirrors_file=drv.getenv("content-addressed-mirrors"),
        disarchive_mirrors_file=drv.getenv("disarchive-mirrors"),
    )


def _in_band(drv: Derivation, expected: Expected, method: FetchMethod | None) -> FetchSpec:
    if method is FetchMethod.URL:
        # U2: the shared `download` script; mirror files are input sources.
        sources = {name_part(src): src for src in drv.input_srcs}
        return UrlFetch(
            expected,
            _urls(_read_env(drv, "guix download url"), "env 'guix download url'"),
            executable=expected.recursive,
            mirrors_file=sources.get("mirrors"),
            content_addressed_mirrors_file=sources.get("content-addressed-mirrors"),
        )
    if method is FetchMethod.GIT:
        return GitFetch(
            expected,
            _env(drv, "git url"),
            _env(drv, "git commit"),
            _boolean(drv, "git recursive?", default=False),
        )
    if method is FetchMethod.BZR:
        return BzrFetch(expected, _env(drv, "bzr url"), _env(drv, "bzr reference"))
    if method is FetchMethod.HG:
        return HgFetch(expected, _env(drv, "hg ref url"), _env(drv, "hg ref changeset"))
    if method in (FetchMethod.SVN, FetchMethod.SVN_MULTI):
        url = _env(drv, "svn url")
        revision = _revision(_env(drv, "svn revision"), "env 'svn revision'")
        recursive = drv.getenv("svn recursive?") == "yes"
        user = drv.getenv("svn user name")
        password = drv.getenv("svn password")
        if method is FetchMethod.SVN:
            return SvnFetch(expected, url, revision, recursive, user, password)
        locations = _strings(_read_env(drv, "svn locations"), "env 'svn locations'")
        return SvnMultiFetch(expected, url, revision, locations, recursive, user, password)
    raise _Bad(f"no in-band form is known for {method}")  # pragma: no cover


def _strings(value: Datum, what: str) -> tuple[str, ...]:
    if isinstance(value, tuple) and all(isinstance(v, str) for v in value):
        return value  # type: ignore[return-value]
    raise _Bad(f"{what} is not a list of strings")


def _revive_builtin(drv: Derivation, expected: Expected) -> FetchSpec:
    # The layout written by revive.core.fetch.rewrite (documented there).
    builder = drv.builder
    if builder == "builtin:hg-download":
        return HgFetch(expected, _url_value(drv, "url"), _env(drv, "changeset"))
    if builder == "builtin:bzr-download":
        return BzrFetch(expected, _url_value(drv, "url"), _env(drv, "revision"))
    if builder == "builtin:cvs-download":
        return CvsFetch(expected, _env(drv, "cvs-root"), _env(drv, "module"), _env(drv, "revision"))
    if builder in ("builtin:svn-download", "builtin:svn-multi-download"):
        url = _url_value(drv, "url")
        revision = _revision(_env(drv, "revision"), "env 'revision'")
        recursive = _boolean(drv, "recursive?", default=False)
        user = drv.getenv("user-name")
        password = drv.getenv("password")
        if builder == "builtin:svn-download":
            return SvnFetch(expected, url, revision, recursive, user, password)
        locations = _strings(_read_env(drv, "locations"), "env 'locations'")
        return SvnMultiFetch(expected, url, revision, locations, recursive, user, password)
    raise _Bad(f"unknown guix-revive builder {builder}")


# --- script forms ---------------------------------------------------------------


def _from_call(
    drv: Derivation, expected: Expected, found: FetchCall, data: tuple[Datum, ...]
) -> FetchSpec:
    positional, keywords = split_arguments(found.call)

    def arg(index: int, what: str) -> Datum:
        if index >= len(positional):
            raise _Bad(f"{found.procedure} has no {what} argument in the builder script")
        return evaluate(positional[index], drv)

    def text(index: int, what: str) -> str:
        value = arg(index, what)
        if not isinstance(value, str):
            raise _Bad(f"the {what} of {found.procedure} is not a string")
        return value

    def keyword(name: str, default: Datum) -> Datum:
        return evaluate(keywords[name], drv) if name in keywords else default

    def optional_text(name: str) -> str | None:
        value = keyword(name, False)
        return value if isinstance(value, str) else None

    method = found.method
    if method is FetchMethod.URL:
        return UrlFetch(
            expected,
            _urls(arg(0, "URL"), "the URL argument of url-fetch"),
            executable=expected.recursive,
            embedded_mirrors=_mirror_alist(keyword("mirrors", ())),
        )
    if method is FetchMethod.GIT:
        return GitFetch(
            expected, text(0, "URL"), text(1, "commit"), keyword("recursive?", False) is True
        )
    if method is FetchMethod.HG:
        return HgFetch(expected, text(0, "URL"), text(1, "changeset"))
    if method is FetchMethod.BZR:
        return BzrFetch(expected, text(0, "URL"), text(1, "revision"))
    if method is FetchMethod.CVS:
        return CvsFetch(expected, text(0, "root directory"), text(1, "module"), text(2, "revision"))
    revision = _revision(arg(1, "revision"), f"the revision of {found.procedure}")
    # Before 2019-11 there was no #:recursive? and externals were fetched.
    recursive = keyword("recursive?", True) is True
    user, password = optional_text("user-name"), optional_text("password")
    if method is FetchMethod.SVN:
        return SvnFetch(expected, text(0, "URL"), revision, recursive, user, password)
    return SvnMultiFetch(
        expected,
        _multi_url(drv, positional[0] if positional else (), found),
        revision,
        _strings(
            evaluate(found.locations, drv) if found.locations is not None else None,  # type: ignore[arg-type]
            "the location list of svn-multi-fetch",
        ),
        recursive,
        user,
        password,
    )


def _multi_url(drv: Derivation, expression: Datum, found: FetchCall) -> str:
    """The repository URL of svn-multi-fetch: ``(string-append URL "/" location)``."""
    variable = Symbol(found.location_variable or "location")
    if isinstance(expression, tuple) and expression and expression[0] == Symbol("string-append"):
        parts = expression[1:]
        if variable in parts:
            prefix = evaluate((Symbol("string-append"), *parts[: parts.index(variable)]), drv)
            if isinstance(prefix, str):
                # The "/" joining URL and location is not part of the URL.
                return prefix[:-1] if prefix.endswith("/") else prefix
    raise _Bad("cannot find the repository URL of svn-multi-fetch in the builder script")


def _mirror_alist(value: Datum) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``((gnu "https://…" …) …)`` as a tuple of ``(kind, urls)``; junk is skipped."""
    if not isinstance(value, tuple):
        return ()
    table: list[tuple[str, tuple[str, ...]]] = []
    for entry in value:
        if isinstance(entry, DottedList):
            continue
        if (
            isinstance(entry, tuple)
            and entry
            and isinstance(entry[0], Symbol)
            and all(isinstance(u, str) for u in entry[1:])
        ):
            table.append((entry[0].name, entry[1:]))  # type: ignore[arg-type]
    return tuple(table)
