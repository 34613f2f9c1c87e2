"""Write Scheme data the way Guile's ``write`` does, for the demo's store items.

Builder scripts, mirror lists and Scheme-written env values in a ``.drv`` are
one datum written with ``write`` on one line (``guix-derivations.md`` §5).
The demo generator builds them from Python values:

* ``str`` → a string literal; :class:`Sym` → a symbol; :class:`Kw` → ``#:kw``;
* ``bool`` → ``#t``/``#f``; ``int`` → a number; ``bytes`` → ``#vu8(…)``;
* ``tuple``/``list`` → a proper list; :class:`Dotted` → ``(a b . c)``;
* :class:`Raw` → text inserted as is (used for nothing that needs escaping).

Only writing: reading Scheme is the fetch-methods code's business.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, TypeAlias

__all__ = ["Sym", "Kw", "Dotted", "Datum", "write_datum", "quote", "getenv_out", "sym"]


@dataclass(frozen=True, slots=True)
class Sym:
    """A Scheme symbol (written bare)."""

    name: str


@dataclass(frozen=True, slots=True)
class Kw:
    """A Guile keyword, written ``#:name``."""

    name: str


@dataclass(frozen=True, slots=True)
class Dotted:
    """An improper list ``(head… . tail)``; a pair when ``head`` has one element."""

    head: tuple[Datum, ...]
    tail: Datum


Datum: TypeAlias = "str | Sym | Kw | bool | int | bytes | Dotted | tuple[Datum, ...] | list[Datum]"
"""What :func:`write_datum` accepts."""

# Guile 3 writes these characters of a string with a backslash escape; the
# demo never produces other control characters.
_STRING_ESCAPES: Final = str.maketrans(
    {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}
)


def sym(name: str) -> Sym:
    """Shorthand for :class:`Sym`."""
    return Sym(name)


def quote(value: Datum) -> tuple[Datum, ...]:
    """``(quote value)``, the form ``write`` gives to ``'value``."""
    return (Sym("quote"), value)


def getenv_out(output: str = "out") -> tuple[Datum, ...]:
    """``((@ (guile) getenv) "out")``: how a gexp refers to its own output."""
    return ((Sym("@"), (Sym("guile"),), Sym("getenv")), output)


def write_datum(value: Datum) -> str:
    """The external representation of ``value``, as Guile's ``write`` gives it."""
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts)


def _write(value: Datum, parts: list[str]) -> None:
    # bool before int: bool is a subclass of int in Python.
    if isinstance(value, bool):
        parts.append("#t" if value else "#f")
    elif isinstance(value, str):
        parts.append('"' + value.translate(_STRING_ESCAPES) + '"')
    elif isinstance(value, Sym):
        parts.append(value.name)
    elif isinstance(value, Kw):
        parts.append("#:" + value.name)
    elif isinstance(value, int):
        parts.append(str(value))
    elif isinstance(value, bytes):
        parts.append("#vu8(" + " ".join(str(b) for b in value) + ")")
    elif isinstance(value, Dotted):
        parts.append("(")
        _write_items(value.head, parts)
        parts.append(" . ")
        _write(value.tail, parts)
        parts.append(")")
    else:
        parts.append("(")
        _write_items(value, parts)
        parts.append(")")


def _write_items(items: Sequence[Datum], parts: list[str]) -> None:
    for index, item in enumerate(items):
        if index:
            parts.append(" ")
        _write(item, parts)
