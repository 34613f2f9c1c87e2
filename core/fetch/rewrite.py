"""Rewrite a fixed-output derivation into today's form, keeping its output path.

A FOD's output path depends only on its name and expected hash
(``guix-derivations.md`` §3.4, §3.6), so an old FOD whose mirrors, scripts
or tools have rotted can be replaced by one that fetches the same bytes the
way it is done today; nothing downstream changes but ``.drv`` paths.

:func:`rewrite` is pure and deterministic: the result depends only on the
derivation, the builder script (for the script eras, through
``read_item``) and the :class:`~revive.core.fetch.mirrors.MirrorConfig` —
the same bytes on every machine and every run. Targets:

* ``url-fetch`` (every era) → ``builtin:download`` (§6.1 U3, §2.9 (a)):
  ``url`` Scheme-written (a string, or a list for several URLs), the
  config's current ``mirrors``, ``content-addressed-mirrors`` and
  ``disarchive-mirrors`` files as input sources (returned in
  :attr:`RewriteResult.added_items`, to be added to the store first),
  ``executable=1`` for a recursive hash. A ``mirror://`` kind that today's
  table lacks is expanded with the old table (the script's ``#:mirrors`` or
  the old ``mirrors`` file) so it still resolves.
* ``git-fetch`` (every era) → ``builtin:git-download`` (§2.9 (c)): env
  ``commit`` (raw), ``recursive?`` (``#t``/``#f``), ``url`` (Scheme-written),
  no inputs.
* svn, svn-multi, hg, bzr, cvs → **guix-revive's own builtins**, built by
  guix-revive's embedded fetchers (a Guix daemon does not know them). Their
  environment layout, version 1, is below; every one also has
  ``guix-revive builder`` = ``<builder name>/1``, ``impureEnvVars``,
  ``out`` and ``preferLocalBuild=1``, and no inputs:

  ==============================  =============================================
  builder                         environment
  ==============================  =============================================
  ``builtin:svn-download``        ``url`` (Scheme-written string), ``revision``
                                  (decimal), ``recursive?`` (``#t``/``#f``:
                                  include externals), ``user-name`` and
                                  ``password`` (raw, only when set)
  ``builtin:svn-multi-download``  the same plus ``locations`` (Scheme-written
                                  list of strings, relative to ``url``)
  ``builtin:hg-download``         ``url`` (Scheme-written), ``changeset`` (raw)
  ``builtin:bzr-download``        ``url`` (Scheme-written), ``revision`` (raw)
  ``builtin:cvs-download``        ``cvs-root``, ``module``, ``revision`` (raw)
  ==============================  =============================================

  :func:`~revive.core.fetch.extract.extract_fetch_spec` reads these forms
  back, which is how the embedded builders get their parameters.

Invariants (tested on every corpus FOD and hand-made FODs of every era):
same name, same ``out`` output tuple (path, algorithm field, digest), same
``system``; a FOD already in today's form is returned unchanged
(:attr:`RewriteResult.identity`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from revive.core.derivation import Derivation, Output
from revive.core.derivation_hash import drv_path as compute_drv_path
from revive.core.errors import ReviveError, SchemeError, StoreError
from revive.core.fetch.classify import REVIVE_BUILDER_VAR, REVIVE_BUILTINS, classify
from revive.core.fetch.extract import UnknownFetchMethod, extract_fetch_spec
from revive.core.fetch.mirrors import (
    MirrorConfig,
    MirrorError,
    default_mirror_config,
    expand_url,
    parse_mirrors,
)
from revive.core.fetch.scheme import Datum, read_one, write_datum, write_string
from revive.core.fetch.spec import (
    BzrFetch,
    FetchSpec,
    GitFetch,
    HgFetch,
    SvnFetch,
    SvnMultiFetch,
    UrlFetch,
)
from revive.core.fetch.text_item import TextItem
from revive.core.fetch.url_map import UrlMap, UrlOverride, apply_url_map
from revive.core.store_path import store_dir_of

__all__ = [
    "IMPURE_ENV_VARS",
    "LAYOUT_VERSION",
    "RewriteError",
    "RewriteResult",
    "TextItem",
    "modern_derivation",
    "rewrite",
]

IMPURE_ENV_VARS: Final = "http_proxy https_proxy LC_ALL LC_MESSAGES LANG COLUMNS"
"""``impureEnvVars`` of today's downloads (§6)."""

LAYOUT_VERSION: Final = 1
"""Version of the env layout of guix-revive's own builtins (module docstring)."""

# Optional variables of today's builtins that a rewrite carries over.
_CARRIED: Final = ("download-methods",)


class RewriteError(ReviveError):
    """A derivation that cannot be rewritten (not a FOD, unknown method)."""


@dataclass(frozen=True, slots=True)
class RewriteResult:
    """The rewrite of one FOD."""

    original_path: str
    """The ``.drv`` path of the original derivation."""
    derivation: Derivation
    """The rewritten derivation (same name, output and system)."""
    drv_path: str
    """The ``.drv`` path of :attr:`derivation`."""
    added_items: tuple[TextItem, ...]
    """Text items the new derivation needs in the store (the mirror files)."""
    identity: bool
    """True if the original was already in today's form (nothing changed)."""
    spec: FetchSpec
    """What both derivations fetch."""
    original: Derivation
    """The original derivation."""
    notes: tuple[str, ...] = ()
    """Things worth telling the user (e.g. an old mirror kind expanded)."""
    overrides: tuple[UrlOverride, ...] = ()
    """URLs replaced by the user's URL map (a user override, not today's form
    of the old derivation); the output path, hence the hash check, is unchanged."""


def rewrite(
    drv: Derivation,
    read_item: Callable[[str], bytes] | None = None,
    config: MirrorConfig | None = None,
    *,
    original_path: str | None = None,
    url_map: UrlMap | None = None,
) -> RewriteResult:
    """Rewrite the FOD ``drv`` into today's form (see the module docstring).

    Args:
        drv: a fixed-output derivation.
        read_item: reads store items (the builder script of script-era FODs;
            an old ``mirrors`` file when an old mirror kind must be expanded).
        config: mirror data; :func:`default_mirror_config` by default.
        original_path: ``drv``'s ``.drv`` path if known (else computed).
        url_map: the user's moved upstreams: matching URLs are fetched from
            their new location (listed in :attr:`RewriteResult.overrides`).

    Raises:
        RewriteError: ``drv`` is not a FOD, or fetches in an unknown way.
        ExtractionError: its parameters cannot be read.
        MissingStoreItem: the builder script holding them is not in the store.
    """
    out = drv.fixed_output
    if out is None:
        found = classify(drv)
        hint = f"; rewrite the FOD it wraps: {found.wraps}" if found.wraps else ""
        where = original_path or drv.name
        raise RewriteError(
            f"{where}: only fixed-output derivations can be rewritten; this is a {found.kind}{hint}"
        )
    store_dir = store_dir_of(out.path)
    if original_path is None:
        original_path = compute_drv_path(drv, store_dir)
    try:
        spec = extract_fetch_spec(drv, read_item, path=original_path)
    except UnknownFetchMethod as err:
        raise RewriteError(str(err)) from None
    overrides: tuple[UrlOverride, ...] = ()
    if url_map:
        spec, overrides = apply_url_map(spec, url_map)
    new, items, notes = modern_derivation(
        spec, drv.system, config, previous=drv, read_item=read_item, store_dir=store_dir
    )
    # Cheap comparisons first (C-level, no dataclass __eq__): a rewrite that
    # changes anything nearly always changes the builder or the environment.
    identity = new.builder == drv.builder and new.env == drv.env and new == drv
    if identity:
        new = drv
    return RewriteResult(
        original_path=original_path,
        derivation=new,
        drv_path=original_path if identity else compute_drv_path(new, store_dir),
        added_items=items,
        identity=identity,
        spec=spec,
        original=drv,
        notes=notes + tuple(f"user override: {o.old} → {o.new}" for o in overrides),
        overrides=overrides,
    )


def modern_derivation(
    spec: FetchSpec,
    system: str,
    config: MirrorConfig | None = None,
    *,
    previous: Derivation | None = None,
    read_item: Callable[[str], bytes] | None = None,
    store_dir: str | None = None,
) -> tuple[Derivation, tuple[TextItem, ...], tuple[str, ...]]:
    """Today's FOD for ``spec``: the derivation, the text items it needs, notes.

    Args:
        spec: what to fetch.
        system: the ``system`` field to write.
        config: mirror data for url-fetch.
        previous: the derivation being replaced, if any: optional variables
            of today's builtins (``download-methods``) are carried over, and
            its exact ``url`` text is kept when it says the same thing.
        read_item: reads an old ``mirrors`` file if an old mirror kind must
            be expanded.
        store_dir: the store directory of ``spec``'s output path, if the
            caller already knows it (else taken from that path).
    """
    expected = spec.expected
    algorithm = expected.algorithm
    out = Output(
        "out",
        expected.output_path,
        "r:" + algorithm if expected.recursive else algorithm,
        expected.digest.hex(),
    )
    env: dict[str, str] = {
        "impureEnvVars": IMPURE_ENV_VARS,
        "out": expected.output_path,
        "preferLocalBuild": "1",
    }
    items: tuple[TextItem, ...] = ()
    sources: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    if isinstance(spec, UrlFetch):
        builder = "builtin:download"
        config = config or default_mirror_config()
        if store_dir is None:
            store_dir = store_dir_of(expected.output_path)
        files = config.files(store_dir)
        urls, notes = _resolvable_urls(spec, config, read_item)
        env["url"] = _scheme_value(previous, "url", urls[0] if len(urls) == 1 else urls)
        env["mirrors"] = files.mirrors.path
        env["content-addressed-mirrors"] = files.content_addressed.path
        env["disarchive-mirrors"] = files.disarchive.path
        if spec.executable:
            env["executable"] = "1"
        items = tuple(files)
        sources = config.input_sources(store_dir)
    elif isinstance(spec, GitFetch):
        builder = "builtin:git-download"
        env["url"] = _scheme_value(previous, "url", spec.url)
        env["commit"] = spec.commit
        env["recursive?"] = "#t" if spec.recursive else "#f"
    elif isinstance(spec, SvnFetch | SvnMultiFetch):
        builder = (
            "builtin:svn-multi-download"
            if isinstance(spec, SvnMultiFetch)
            else "builtin:svn-download"
        )
        env["url"] = write_string(spec.url)
        env["revision"] = str(spec.revision)
        env["recursive?"] = "#t" if spec.recursive else "#f"
        if spec.user_name is not None:
            env["user-name"] = spec.user_name
        if spec.password is not None:
            env["password"] = spec.password
        if isinstance(spec, SvnMultiFetch):
            env["locations"] = write_datum(spec.locations)
    elif isinstance(spec, HgFetch):
        builder = "builtin:hg-download"
        env["url"] = write_string(spec.url)
        env["changeset"] = spec.changeset
    elif isinstance(spec, BzrFetch):
        builder = "builtin:bzr-download"
        env["url"] = write_string(spec.url)
        env["revision"] = spec.revision
    else:
        builder = "builtin:cvs-download"
        env["cvs-root"] = spec.root
        env["module"] = spec.module
        env["revision"] = spec.revision
    if builder in REVIVE_BUILTINS:  # guix-revive's own builders (module docstring)
        env[REVIVE_BUILDER_VAR] = f"{builder.removeprefix('builtin:')}/{LAYOUT_VERSION}"
    if previous is not None and previous.builder == builder:
        for name in _CARRIED:
            value = previous.getenv(name)
            if value is not None:
                env[name] = value
    derivation = Derivation(
        expected.name,
        (out,),
        (),  # no input derivations
        sources,
        system,
        builder,
        (),  # no arguments
        # Code-point order is UTF-8 byte order: the canonical .drv order (§2.3).
        tuple(sorted(env.items())),
    )
    return derivation, items, notes


def _scheme_value(previous: Derivation | None, name: str, value: Datum) -> str:
    """``value`` Scheme-written, or ``previous``'s exact text for ``name`` if it reads the same.

    Keeping the old text when it means the same thing makes the rewrite of
    an already-modern derivation the identity, whatever its spacing.
    """
    written = write_string(value) if isinstance(value, str) else write_datum(value)
    if previous is not None and previous.builder.startswith("builtin:"):
        old = previous.getenv(name)
        # The old text is usually written exactly so: then it is kept without
        # reading it again (reading is what costs).
        if old is not None and old != written:
            try:
                if read_one(old) == value:
                    return old
            except SchemeError:
                pass
    return written


def _resolvable_urls(
    spec: UrlFetch, config: MirrorConfig, read_item: Callable[[str], bytes] | None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The URLs to write: a ``mirror://`` kind today's table lacks is expanded
    with the derivation's own old table, so that the daemon can resolve it."""
    today = config.mirror_table()
    # The common case, checked first: every URL is kept as it is (no
    # ``mirror://`` URL, or only kinds today's table has).
    for url in spec.urls:
        if url.startswith("mirror://") and _mirror_kind(url) not in today:
            break
    else:
        return spec.urls, ()
    old_table: dict[str, tuple[str, ...]] | None = None
    urls: list[str] = []
    notes: list[str] = []
    for url in spec.urls:
        kind = _mirror_kind(url) if url.startswith("mirror://") else None
        if kind is None or kind in today:
            urls.append(url)
            continue
        if old_table is None:
            old_table = _old_mirror_table(spec, read_item)
        try:
            expanded = expand_url(url, old_table)
        except MirrorError:
            urls.append(url)
            notes.append(f"mirror kind {kind!r} of {url} is in no mirror table; kept as is")
            continue
        urls.extend(u for u in expanded if u not in urls)
        notes.append(f"mirror kind {kind!r} is gone from today's table; {url} expanded")
    return tuple(urls), tuple(notes)


def _mirror_kind(url: str) -> str:
    """``KIND`` of ``mirror://KIND/PATH``."""
    return url[len("mirror://") :].partition("/")[0]


def _old_mirror_table(
    spec: UrlFetch, read_item: Callable[[str], bytes] | None
) -> dict[str, tuple[str, ...]]:
    if spec.embedded_mirrors:
        return dict(spec.embedded_mirrors)
    if spec.mirrors_file is not None and read_item is not None:
        try:
            return parse_mirrors(read_item(spec.mirrors_file).decode("utf-8"), spec.mirrors_file)
        except (StoreError, ReviveError, UnicodeDecodeError):
            return {}
    return {}
