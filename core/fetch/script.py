"""Builder scripts of guile-built derivations: find them, read them, find the fetch call.

Old fetch derivations keep their parameters inside the Guile script that
builds them (``guix-derivations.md`` §5.4, §6). This module finds that
script (the last builder argument), reads it with the Scheme reader, finds
the first call of a fetch procedure, and evaluates its arguments with a
tiny evaluator that only knows literals, ``quote``, ``getenv``,
``string-append``, ``call-with-input-string … read`` and
``string->number``. Nothing is ever executed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Final

from revive.core.derivation import Derivation
from revive.core.errors import MissingStoreItem
from revive.core.fetch.scheme import (
    QUOTE,
    Datum,
    DottedList,
    Keyword,
    Symbol,
    read_bytes,
    read_one,
    write_datum,
)
from revive.core.fetch.spec import FetchMethod
from revive.core.store_path import is_store_path, name_part

__all__ = [
    "FETCH_PROCEDURES",
    "FetchCall",
    "Unevaluable",
    "is_guile_builder",
    "script_of",
    "script_name",
    "read_script",
    "find_fetch_call",
    "evaluate",
    "split_arguments",
]

FETCH_PROCEDURES: Final[Mapping[str, FetchMethod]] = {
    "url-fetch": FetchMethod.URL,
    "git-fetch": FetchMethod.GIT,
    "git-fetch-with-fallback": FetchMethod.GIT,
    "svn-fetch": FetchMethod.SVN,
    "hg-fetch": FetchMethod.HG,
    "cvs-fetch": FetchMethod.CVS,
    "bzr-fetch": FetchMethod.BZR,
}
"""Procedures whose call in a builder script says how a FOD fetches (§5.4)."""

_LAMBDA: Final = Symbol("lambda")
_GETENV: Final = Symbol("getenv")
_GUILE_GETENV: Final = (Symbol("@"), (Symbol("guile"),), Symbol("getenv"))
_GUILE_GETENV_PRIVATE: Final = (Symbol("@@"), (Symbol("guile"),), Symbol("getenv"))


class Unevaluable(Exception):
    """A script expression the tiny evaluator does not know (kept for display)."""

    def __init__(self, datum: Datum) -> None:
        self.datum = datum
        """The expression that could not be evaluated."""
        shown = write_datum(datum)
        super().__init__(shown if len(shown) <= 120 else shown[:117] + "...")


@dataclass(frozen=True, slots=True)
class FetchCall:
    """The first fetch-procedure call found in a builder script."""

    procedure: str
    """The procedure called (``git-fetch``, ``svn-fetch``…)."""
    method: FetchMethod
    """The fetch method it implies (``svn-multi-fetch`` when mapped over locations)."""
    call: tuple[Datum, ...]
    """The call itself, ``(procedure arg…)``."""
    locations: Datum | None = None
    """For ``svn-multi-fetch``: the expression of the location list mapped over."""
    location_variable: str | None = None
    """For ``svn-multi-fetch``: the lambda parameter naming one location."""


def is_guile_builder(drv: Derivation) -> bool:
    """True if ``drv`` is built by a Guile from the store running a script."""
    return drv.builder.endswith("/bin/guile") and bool(drv.args)


def script_of(drv: Derivation) -> str | None:
    """The store path of ``drv``'s builder script (the last argument), if any."""
    if not drv.args:
        return None
    last = drv.args[-1]
    return last if is_store_path(last) else None


def script_name(drv: Derivation) -> str:
    """The store name of ``drv``'s builder script, or ``""`` (``git-download``)."""
    script = script_of(drv)
    return name_part(script) if script is not None else ""


def read_script(
    drv: Derivation, read_item: Callable[[str], bytes], why: str
) -> tuple[str, tuple[Datum, ...]]:
    """Read every datum of ``drv``'s builder script.

    Returns:
        The script's store path and its data.

    Raises:
        MissingStoreItem: the script is not in the store (from ``read_item``).
        StoreError: it cannot be read.
        SchemeError: it is not Scheme data.
    """
    script = script_of(drv)
    if script is None:  # pragma: no cover - callers check is_guile_builder first
        raise ValueError(f"{drv.name}: the builder has no script argument")
    try:
        data = read_item(script)
    except MissingStoreItem as err:
        if err.why or not why:
            raise
        # Say what the script was needed for.
        raise MissingStoreItem(err.path, why) from None
    return script, read_bytes(data, script)


def find_fetch_call(data: tuple[Datum, ...]) -> FetchCall | None:
    """The first call of a fetch procedure, depth-first, with its context.

    An ``svn-fetch`` inside ``(lambda (location) …)`` that is itself an
    argument of a mapping form (``every``, ``for-each``, ``map``…) is
    svn-multi-fetch; the mapping form's last argument is the location list.
    """
    # Iterative depth-first search; the stack holds (datum, ancestors).
    stack: list[tuple[Datum, tuple[tuple[Datum, ...], ...]]] = [
        (datum, ()) for datum in reversed(data)
    ]
    while stack:
        datum, ancestors = stack.pop()
        if isinstance(datum, DottedList):
            datum = datum.items
        if not isinstance(datum, tuple) or not datum:
            continue
        head = datum[0]
        if isinstance(head, Symbol) and head.name in FETCH_PROCEDURES:
            return _fetch_call(head.name, datum, ancestors)
        if head == QUOTE:
            continue  # quoted data (a snippet, a mirror table) holds no calls
        inner = (*ancestors, datum)
        stack.extend((child, inner) for child in reversed(datum))
    return None


def _fetch_call(
    procedure: str, call: tuple[Datum, ...], ancestors: tuple[tuple[Datum, ...], ...]
) -> FetchCall:
    method = FETCH_PROCEDURES[procedure]
    if method is FetchMethod.SVN:
        # Look for the innermost enclosing (lambda (VAR) …) used as an argument.
        for depth in range(len(ancestors) - 1, 0, -1):
            form = ancestors[depth]
            params = form[1] if len(form) > 2 and form[0] == _LAMBDA else None
            if isinstance(params, tuple) and len(params) == 1 and isinstance(params[0], Symbol):
                mapping = ancestors[depth - 1]
                index = mapping.index(form)
                rest = mapping[index + 1 :]
                return FetchCall(
                    procedure,
                    FetchMethod.SVN_MULTI,
                    call,
                    locations=rest[-1] if rest else None,
                    location_variable=params[0].name,
                )
    return FetchCall(procedure, method, call)


def split_arguments(call: tuple[Datum, ...]) -> tuple[tuple[Datum, ...], dict[str, Datum]]:
    """The positional arguments of ``call`` and its ``#:keyword value`` pairs."""
    args = call[1:]
    positional: list[Datum] = []
    keywords: dict[str, Datum] = {}
    index = 0
    while index < len(args):
        arg = args[index]
        if isinstance(arg, Keyword):
            if index + 1 < len(args):
                keywords.setdefault(arg.name, args[index + 1])
            index += 2
            continue
        if not keywords:
            positional.append(arg)
        index += 1
    return tuple(positional), keywords


def evaluate(datum: Datum, drv: Derivation, bindings: Mapping[str, Datum] | None = None) -> Datum:
    """The value of a script expression, for the few forms fetch calls use (§5.4).

    ``%output`` and ``((@ (guile) getenv) "out")`` are the output path;
    ``(getenv "NAME")`` is the ``.drv`` env value; ``bindings`` gives values
    to free variables (the location of svn-multi-fetch).

    Raises:
        Unevaluable: anything else (or an env variable the ``.drv`` lacks).
    """
    if isinstance(datum, (str, bool, int, float, Fraction, bytes)):
        return datum
    if isinstance(datum, Symbol):
        if bindings is not None and datum.name in bindings:
            return bindings[datum.name]
        if datum.name == "%output":
            out = drv.output_path("out")
            if out is not None:
                return out
        raise Unevaluable(datum)
    if isinstance(datum, tuple) and datum:
        head, args = datum[0], datum[1:]
        if head == QUOTE and len(args) == 1:
            return args[0]
        if head in (_GETENV, _GUILE_GETENV, _GUILE_GETENV_PRIVATE) and len(args) == 1:
            name = evaluate(args[0], drv, bindings)
            value = drv.getenv(name) if isinstance(name, str) else None
            if value is None:
                raise Unevaluable(datum)
            return value
        if head == Symbol("string-append"):
            parts = [evaluate(arg, drv, bindings) for arg in args]
            if all(isinstance(part, str) for part in parts):
                return "".join(parts)  # type: ignore[arg-type]
        if head == Symbol("call-with-input-string") and len(args) == 2:
            if args[1] == Symbol("read"):
                text = evaluate(args[0], drv, bindings)
                if isinstance(text, str):
                    return read_one(text, "<environment value>")
        if head == Symbol("string->number") and len(args) == 1:
            text = evaluate(args[0], drv, bindings)
            if isinstance(text, str) and text.strip().lstrip("+-").isdigit():
                return int(text)
    raise Unevaluable(datum)
