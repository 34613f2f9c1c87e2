"""Mirror lists: today's, as versioned data; reading and writing Guix's three mirror files.

A ``builtin:download`` FOD names three text items (``guix-derivations.md``
§7): ``mirrors`` (an association list from mirror kind to base URLs, used to
expand ``mirror://KIND/PATH``), ``content-addressed-mirrors`` (a Scheme
*expression* evaluating to procedures ``(file algo hash) → URL``) and
``disarchive-mirrors`` (a list of base URLs). Rewriting a FOD replaces an
old era's files by current ones, which guix-revive keeps as data in
``data/mirrors.json`` (:func:`default_mirror_config`); a
:class:`MirrorConfig` can also be built from any dict or JSON file (for
instance to point the content-addressed mirrors at a local server).

Reading a content-addressed-mirrors file without Guile: the file is read
with the Scheme reader and its final ``(list …)`` is interpreted by a tiny
evaluator that knows only what such files use — ``define``, ``lambda``,
``let``, ``if``/``and``/``or``/``case``/``eq?``/``memq``, ``string-append``,
``symbol->string``, ``bytevector->nix-base32-string`` and
``bytevector->base16-string`` (and ``quote``). Each procedure of the list is
applied to the file name, algorithm and digest (or to the algorithm and
digest, for the 2016 two-argument form); a procedure that returns ``#f``,
or uses anything else, gives no URL and is skipped. The files guix-revive
writes use the same forms, so both are read the same way.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Final, NamedTuple

from revive.core import base32
from revive.core.errors import ReviveError
from revive.core.fetch.scheme import (
    QUOTE,
    Datum,
    DottedList,
    Symbol,
    read_all,
    read_one,
    write_datum,
)
from revive.core.fetch.text_item import TextItem
from revive.core.store_path import DEFAULT_STORE_DIR

__all__ = [
    "MirrorError",
    "MirrorConfig",
    "MirrorFiles",
    "MIRRORS_NAME",
    "CONTENT_ADDRESSED_NAME",
    "DISARCHIVE_NAME",
    "default_mirror_config",
    "load_mirror_config",
    "parse_mirrors",
    "expand_url",
    "expand_urls",
    "content_addressed_urls",
    "disarchive_urls",
    "write_mirrors",
    "write_content_addressed_mirrors",
    "write_disarchive_mirrors",
]

MIRRORS_NAME: Final = "mirrors"
"""Store name of the mirror list (env ``mirrors``)."""
CONTENT_ADDRESSED_NAME: Final = "content-addressed-mirrors"
"""Store name of the content-addressed mirror procedures."""
DISARCHIVE_NAME: Final = "disarchive-mirrors"
"""Store name of the Disarchive mirror list."""

_PLACEHOLDER_RE: Final = re.compile(r"\{([a-z0-9]*)\}")
_PLACEHOLDERS: Final = frozenset({"file", "algo", "nix32", "hex"})


class MirrorError(ReviveError):
    """Bad mirror data, or a ``mirror://`` URL that cannot be expanded."""


class MirrorFiles(NamedTuple):
    """The three mirror text items of a ``builtin:download`` derivation."""

    mirrors: TextItem
    """The ``mirrors`` file."""
    content_addressed: TextItem
    """The ``content-addressed-mirrors`` file."""
    disarchive: TextItem
    """The ``disarchive-mirrors`` file."""


@dataclass(frozen=True, slots=True)
class MirrorConfig:
    """Mirror data a rewrite writes into the store (immutable, versioned)."""

    version: str
    """Version of the data, e.g. ``guix-revive-mirrors-2025.1``."""
    mirrors: tuple[tuple[str, tuple[str, ...]], ...]
    """Base URLs by mirror kind, in file order (first tried first)."""
    content_addressed: tuple[str, ...]
    """URL templates with ``{file}``, ``{algo}``, ``{nix32}``, ``{hex}`` placeholders."""
    disarchive: tuple[str, ...]
    """Disarchive base URLs (``https://disarchive.guix.gnu.org/``)."""
    _files: dict[str, MirrorFiles] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )
    _table: dict[str, tuple[str, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )
    _sources: dict[str, tuple[str, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> MirrorConfig:
        """A config from a mapping shaped like ``data/mirrors.json``.

        Keys: ``version`` (str), ``mirrors`` (kind → list of URLs),
        ``content_addressed`` (list of templates), ``disarchive`` (list of URLs).

        Raises:
            MirrorError: a key is missing or has the wrong shape.
        """
        version = data.get("version")
        if not isinstance(version, str) or not version:
            raise MirrorError("mirror data: 'version' must be a non-empty string")
        table = data.get("mirrors")
        if not isinstance(table, Mapping):
            raise MirrorError("mirror data: 'mirrors' must map kinds to lists of URLs")
        mirrors = tuple(
            (str(kind), _string_list(urls, f"mirrors.{kind}")) for kind, urls in table.items()
        )
        templates = _string_list(data.get("content_addressed", []), "content_addressed")
        for template in templates:
            unknown = set(_PLACEHOLDER_RE.findall(template)) - _PLACEHOLDERS
            if unknown:
                raise MirrorError(
                    f"mirror data: unknown placeholder {{{sorted(unknown)[0]}}} in {template!r}"
                )
        disarchive = _string_list(data.get("disarchive", []), "disarchive")
        return cls(version, mirrors, templates, disarchive)

    def to_dict(self) -> dict[str, object]:
        """The config as a JSON-ready dict (inverse of :meth:`from_dict`)."""
        return {
            "version": self.version,
            "mirrors": {kind: list(urls) for kind, urls in self.mirrors},
            "content_addressed": list(self.content_addressed),
            "disarchive": list(self.disarchive),
        }

    def mirror_table(self) -> Mapping[str, tuple[str, ...]]:
        """Base URLs by kind, as a read-only mapping (for :func:`expand_url`)."""
        if not self._table and self.mirrors:
            self._table.update(self.mirrors)
        return MappingProxyType(self._table)

    def replace(
        self,
        *,
        version: str | None = None,
        mirrors: Mapping[str, Sequence[str]] | None = None,
        content_addressed: Sequence[str] | None = None,
        disarchive: Sequence[str] | None = None,
    ) -> MirrorConfig:
        """A copy with some parts replaced (e.g. CA mirrors on a loopback server)."""
        data = self.to_dict()
        if version is not None:
            data["version"] = version
        if mirrors is not None:
            data["mirrors"] = {k: list(v) for k, v in mirrors.items()}
        if content_addressed is not None:
            data["content_addressed"] = list(content_addressed)
        if disarchive is not None:
            data["disarchive"] = list(disarchive)
        return MirrorConfig.from_dict(data)

    def files(self, store_dir: str = DEFAULT_STORE_DIR) -> MirrorFiles:
        """The three text items this config writes, with their paths in ``store_dir``.

        Computed once per store directory (the rewrite of every url-fetch FOD
        of a closure uses them).
        """
        cached = self._files.get(store_dir)
        if cached is None:
            cached = MirrorFiles(
                TextItem.make(MIRRORS_NAME, write_mirrors(self.mirrors), store_dir),
                TextItem.make(
                    CONTENT_ADDRESSED_NAME,
                    write_content_addressed_mirrors(self.content_addressed),
                    store_dir,
                ),
                TextItem.make(
                    DISARCHIVE_NAME, write_disarchive_mirrors(self.disarchive), store_dir
                ),
            )
            self._files[store_dir] = cached
        return cached

    def input_sources(self, store_dir: str = DEFAULT_STORE_DIR) -> tuple[str, ...]:
        """The store paths of :meth:`files`, sorted: the input sources of a
        ``builtin:download`` derivation using them, in canonical ``.drv`` order.

        Computed once per store directory, like the files.
        """
        cached = self._sources.get(store_dir)
        if cached is None:
            # Code-point order is UTF-8 byte order: the canonical .drv order (§2.3).
            cached = tuple(sorted(item.path for item in self.files(store_dir)))
            self._sources[store_dir] = cached
        return cached


def _string_list(value: object, what: str) -> tuple[str, ...]:
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise MirrorError(f"mirror data: {what!r} must be a list of strings")


@functools.cache
def default_mirror_config() -> MirrorConfig:
    """guix-revive's current mirror data (``core/fetch/data/mirrors.json``)."""
    text = resources.files("revive.core.fetch").joinpath("data/mirrors.json").read_text()
    return MirrorConfig.from_dict(json.loads(text))


def load_mirror_config(path: str | Path) -> MirrorConfig:
    """A config from a JSON file shaped like ``data/mirrors.json``.

    Raises:
        MirrorError: the file cannot be read or has the wrong shape.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as err:
        raise MirrorError(f"{path}: cannot read: {err.strerror or err}") from None
    except ValueError as err:
        raise MirrorError(f"{path}: not JSON: {err}") from None
    if not isinstance(data, dict):
        raise MirrorError(f"{path}: not a JSON object")
    try:
        return MirrorConfig.from_dict(data)
    except MirrorError as err:
        raise MirrorError(f"{path}: {err}") from None


# --- the mirrors file ------------------------------------------------------------


def write_mirrors(
    table: Sequence[tuple[str, Sequence[str]]] | Mapping[str, Sequence[str]],
) -> bytes:
    """The ``mirrors`` file: ``((gnu "https://…" …) …)``, one line, as Guile writes it."""
    items = table.items() if isinstance(table, Mapping) else table
    datum: tuple[Datum, ...] = tuple((Symbol(kind), *urls) for kind, urls in items)
    return write_datum(datum).encode()


def parse_mirrors(text: str, path: str = "<mirrors>") -> dict[str, tuple[str, ...]]:
    """Read a ``mirrors`` file (or a ``#:mirrors`` table) of any era.

    Raises:
        SchemeError: not Scheme data.
        MirrorError: not an association list of kinds to URL strings.
    """
    datum = read_one(text, path)
    if isinstance(datum, tuple) and len(datum) == 2 and datum[0] == QUOTE:
        datum = datum[1]  # a quoted table, as written inside old scripts
    if not isinstance(datum, tuple):
        raise MirrorError(f"{path}: not a list of mirror kinds")
    table: dict[str, tuple[str, ...]] = {}
    for entry in datum:
        if isinstance(entry, DottedList):
            raise MirrorError(f"{path}: malformed mirror entry {write_datum(entry)[:60]}")
        if not (isinstance(entry, tuple) and entry and isinstance(entry[0], Symbol)):
            raise MirrorError(f"{path}: malformed mirror entry {write_datum(entry)[:60]}")
        urls = entry[1:]
        if not all(isinstance(url, str) for url in urls):
            raise MirrorError(f"{path}: mirror kind {entry[0].name!r} lists a non-string")
        table.setdefault(entry[0].name, urls)  # type: ignore[arg-type]
    return table


def expand_url(url: str, mirrors: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """The URLs a ``mirror://KIND/PATH`` URL stands for, in order (§7.1).

    Any other URL stands for itself.

    Raises:
        MirrorError: the kind is not in ``mirrors``.
    """
    if not url.startswith("mirror://"):
        return (url,)
    kind, _, path = url[len("mirror://") :].partition("/")
    bases = mirrors.get(kind)
    if bases is None:
        raise MirrorError(f"unknown mirror kind {kind!r} in {url}")
    tail = path.strip("/")
    return tuple(base.rstrip("/") + "/" + tail for base in bases)


def expand_urls(urls: Sequence[str], mirrors: Mapping[str, Sequence[str]]) -> tuple[str, ...]:
    """Every URL of ``urls`` expanded, in order, duplicates dropped."""
    expanded: dict[str, None] = {}
    for url in urls:
        for one in expand_url(url, mirrors):
            expanded.setdefault(one, None)
    return tuple(expanded)


# --- content-addressed mirrors -------------------------------------------------

_FILE, _ALGO, _HASH = Symbol("file"), Symbol("algo"), Symbol("hash")
_TEMPLATE_PARTS: Final[dict[str, Datum]] = {
    "file": _FILE,
    "algo": (Symbol("symbol->string"), _ALGO),
    "nix32": (Symbol("bytevector->nix-base32-string"), _HASH),
    "hex": (Symbol("bytevector->base16-string"), _HASH),
}


def write_content_addressed_mirrors(templates: Sequence[str]) -> bytes:
    """The ``content-addressed-mirrors`` file for ``templates``.

    A Scheme expression that ``guix perform-download`` evaluates (§7.2):
    ``(begin (use-modules (guix base16) (guix base32)) (list (lambda (file
    algo hash) (string-append …)) …))``, one procedure per template.
    """
    procedures: list[Datum] = [Symbol("list")]
    for template in templates:
        parts: list[Datum] = []
        position = 0
        for match in _PLACEHOLDER_RE.finditer(template):
            if match.start() > position:
                parts.append(template[position : match.start()])
            parts.append(_TEMPLATE_PARTS[match.group(1)])
            position = match.end()
        if position < len(template):
            parts.append(template[position:])
        body: Datum = (Symbol("string-append"), *parts)
        procedures.append((Symbol("lambda"), (_FILE, _ALGO, _HASH), body))
    expression = (
        Symbol("begin"),
        (
            Symbol("use-modules"),
            (Symbol("guix"), Symbol("base16")),
            (Symbol("guix"), Symbol("base32")),
        ),
        tuple(procedures),
    )
    return write_datum(expression).encode()


def content_addressed_urls(
    ca_file_text: str,
    file_name: str,
    algorithm: str,
    digest: bytes,
    path: str = "<content-addressed-mirrors>",
) -> tuple[str, ...]:
    """The URLs a ``content-addressed-mirrors`` file gives for one item, in order.

    Works on the files guix-revive writes and on those of every Guix era
    (see the module docstring for what is understood).

    Args:
        ca_file_text: the file's contents.
        file_name: the output's store name (``hello-2.12.1.tar.gz``).
        algorithm: the hash algorithm (``sha256``).
        digest: the raw digest.
        path: for error messages.

    Raises:
        SchemeError: the file is not Scheme data.
    """
    data = read_all(ca_file_text, path)
    evaluator = _Evaluator()
    procedures: Datum = ()
    try:
        for datum in data:
            procedures = evaluator.top_level(datum)
    except _Unsupported:
        return ()
    if not isinstance(procedures, tuple):
        return ()
    urls: list[str] = []
    for procedure in procedures:
        if not isinstance(procedure, _Closure):
            continue
        if len(procedure.params) == 3:
            args: tuple[_Value, ...] = (file_name, Symbol(algorithm), digest)
        elif len(procedure.params) == 2:
            args = (Symbol(algorithm), digest)
        else:
            continue
        try:
            url = evaluator.apply(procedure, args)
        except _Unsupported:
            continue
        if isinstance(url, str):
            urls.append(url)
    return tuple(urls)


class _Unsupported(Exception):
    """A form the content-addressed-mirrors evaluator does not know."""


@dataclass(frozen=True, slots=True)
class _Closure:
    params: tuple[str, ...]
    body: tuple[Datum, ...]
    env: Mapping[str, object]


_Value = object
_MAX_STEPS: Final = 20_000


class _Evaluator:
    """Evaluates the pure subset of Scheme used by content-addressed-mirrors files."""

    def __init__(self) -> None:
        # _BUILTINS is defined below; it exists by the time anything is evaluated.
        self.globals: dict[str, object] = dict(_BUILTINS)
        self.steps = 0

    def top_level(self, datum: Datum) -> Datum:
        """Evaluate one top-level form; ``begin`` and ``define`` are handled here."""
        if isinstance(datum, tuple) and datum and datum[0] == Symbol("begin"):
            result: Datum = ()
            for form in datum[1:]:
                result = self.top_level(form)
            return result
        if isinstance(datum, tuple) and datum and datum[0] == Symbol("use-modules"):
            return ()
        if isinstance(datum, tuple) and datum and datum[0] == Symbol("define"):
            self._define(datum, self.globals)
            return ()
        value = self.eval(datum, self.globals)
        return value  # type: ignore[return-value]

    def _define(self, form: tuple[Datum, ...], env: dict[str, object]) -> None:
        if len(form) < 3:
            raise _Unsupported
        target = form[1]
        if isinstance(target, Symbol):
            env[target.name] = self.eval(form[2], env)
        elif isinstance(target, tuple) and target and all(isinstance(p, Symbol) for p in target):
            name, *params = target
            env[name.name] = _Closure(tuple(p.name for p in params), form[2:], env)  # type: ignore[union-attr]
        else:
            raise _Unsupported

    def apply(self, procedure: _Closure, args: tuple[_Value, ...]) -> _Value:
        """Call a closure with ``args``."""
        if len(args) != len(procedure.params):
            raise _Unsupported
        env = dict(procedure.env)
        env.update(zip(procedure.params, args, strict=True))
        result: _Value = False
        for form in procedure.body:
            if isinstance(form, tuple) and form and form[0] == Symbol("define"):
                self._define(form, env)
                continue
            result = self.eval(form, env)
        return result

    def eval(self, datum: Datum, env: Mapping[str, object]) -> _Value:
        """The value of ``datum`` in ``env`` (globals are visible too)."""
        self.steps += 1
        if self.steps > _MAX_STEPS:
            raise _Unsupported
        if isinstance(datum, (str, bool, int, bytes)):
            return datum
        if isinstance(datum, Symbol):
            if datum.name in env:
                return env[datum.name]
            if datum.name in self.globals:
                return self.globals[datum.name]
            raise _Unsupported
        if not isinstance(datum, tuple) or not datum:
            raise _Unsupported
        head, args = datum[0], datum[1:]
        special = _SPECIAL_FORMS.get(head.name) if isinstance(head, Symbol) else None
        if special is not None and not (isinstance(head, Symbol) and head.name in env):
            return special(self, args, env)
        function = self.eval(head, env)
        values = tuple(self.eval(arg, env) for arg in args)
        if isinstance(function, _Closure):
            return self.apply(function, values)
        if callable(function):
            return function(*values)
        raise _Unsupported


def _sf_quote(ev: _Evaluator, args: tuple[Datum, ...], env: Mapping[str, object]) -> _Value:
    if len(args) != 1:
        raise _Unsupported
    return args[0]


def _sf_lambda(ev: _Evaluator, args: tuple[Datum, ...], env: Mapping[str, object]) -> _Value:
    if len(args) < 2 or not isinstance(args[0], tuple):
        raise _Unsupported
    if not all(isinstance(p, Symbol) for p in args[0]):
        raise _Unsupported
    return _Closure(tuple(p.name for p in args[0]), args[1:], env)  # type: ignore[union-attr]


def _sf_if(ev: _Evaluator, args: tuple[Datum, ...], env: Mapping[str, object]) -> _Value:
    if len(args) not in (2, 3):
        raise _Unsupported
    if ev.eval(args[0], env) is not False:
        return ev.eval(args[1], env)
    return ev.eval(args[2], env) if len(args) == 3 else False


def _sf_and(ev: _Evaluator, args: tuple[Datum, ...], env: Mapping[str, object]) -> _Value:
    value: _Value = True
    for arg in args:
        value = ev.eval(arg, env)
        if value is False:
            return False
    return value


def _sf_or(ev: _Evaluator, args: tuple[Datum, ...], env: Mapping[str, object]) -> _Value:
    for arg in args:
        value = ev.eval(arg, env)
        if value is not False:
            return value
    return False


def _sf_let(ev: _Evaluator, args: tuple[Datum, ...], env: Mapping[str, object]) -> _Value:
    if not args or not isinstance(args[0], tuple):
        raise _Unsupported
    inner = dict(env)
    for binding in args[0]:
        if not (isinstance(binding, tuple) and len(binding) == 2):
            raise _Unsupported
        name = binding[0]
        if not isinstance(name, Symbol):
            raise _Unsupported
        inner[name.name] = ev.eval(binding[1], env)
    return ev.apply(_Closure((), args[1:], inner), ())


def _sf_case(ev: _Evaluator, args: tuple[Datum, ...], env: Mapping[str, object]) -> _Value:
    if not args:
        raise _Unsupported
    key = ev.eval(args[0], env)
    for clause in args[1:]:
        if not (isinstance(clause, tuple) and clause):
            raise _Unsupported
        choices = clause[0]
        if choices == Symbol("else") or (isinstance(choices, tuple) and key in choices):
            return ev.apply(_Closure((), clause[1:], env), ())
    return False


_SPECIAL_FORMS: Final[
    dict[str, Callable[[_Evaluator, tuple[Datum, ...], Mapping[str, object]], _Value]]
] = {
    "quote": _sf_quote,
    "lambda": _sf_lambda,
    "if": _sf_if,
    "and": _sf_and,
    "or": _sf_or,
    "let": _sf_let,
    "let*": _sf_let,
    "case": _sf_case,
}


def _string_append(*parts: _Value) -> str:
    if not all(isinstance(p, str) for p in parts):
        raise _Unsupported
    return "".join(parts)  # type: ignore[arg-type]


def _symbol_to_string(value: _Value) -> str:
    if not isinstance(value, Symbol):
        raise _Unsupported
    return value.name


def _bytes_to(encode: Callable[[bytes], str]) -> Callable[[_Value], str]:
    def convert(value: _Value) -> str:
        if not isinstance(value, bytes):
            raise _Unsupported
        return encode(value)

    return convert


def _eq(a: _Value, b: _Value) -> bool:
    return a == b and type(a) is type(b)


def _memq(item: _Value, items: _Value) -> _Value:
    if not isinstance(items, tuple):
        raise _Unsupported
    for index, candidate in enumerate(items):
        if _eq(item, candidate):
            return items[index:]
    return False


def _list(*items: _Value) -> tuple[_Value, ...]:
    return items


def _not(value: _Value) -> bool:
    return value is False


_BUILTINS: Final[dict[str, Callable[..., _Value]]] = {
    "string-append": _string_append,
    "symbol->string": _symbol_to_string,
    "bytevector->nix-base32-string": _bytes_to(base32.encode),
    "bytevector->base16-string": _bytes_to(bytes.hex),
    "eq?": _eq,
    "eqv?": _eq,
    "equal?": lambda a, b: a == b,
    "memq": _memq,
    "list": _list,
    "not": _not,
}


# --- Disarchive mirrors -----------------------------------------------------------


def write_disarchive_mirrors(bases: Sequence[str]) -> bytes:
    """The ``disarchive-mirrors`` file: a Scheme-written list of base URLs."""
    return write_datum(tuple(bases)).encode()


def disarchive_urls(
    text: str, algorithm: str, digest: bytes, path: str = "<disarchive-mirrors>"
) -> tuple[str, ...]:
    """Disarchive specification URLs for one hash: ``base + algo + "/" + hex`` (§7.3).

    Raises:
        SchemeError: not Scheme data.
        MirrorError: not a list of strings.
    """
    datum = read_one(text, path)
    if not isinstance(datum, tuple) or not all(isinstance(base, str) for base in datum):
        raise MirrorError(f"{path}: not a list of URL strings")
    return tuple(f"{base}{algorithm}/{digest.hex()}" for base in datum)  # type: ignore[str-bytes-safe]
