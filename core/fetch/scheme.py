"""A Scheme *reader* (and writer) for the data Guix writes into the store.

Builder scripts, mirror lists and Scheme-written environment values are
S-expressions written by Guile's ``write`` (``guix-derivations.md`` §5).
This module reads them into plain Python values, with a lark grammar
(``grammars/scheme.lark``); it never evaluates anything.

Datum types (what :func:`read_all` returns):

========================  ==============================================
Scheme                    Python
========================  ==============================================
string ``"a\\n"``         :class:`str`
integer ``42``            :class:`int`
real ``1.5``, ``+inf.0``  :class:`float`
rational ``1/3``          :class:`fractions.Fraction`
``#t`` ``#f``             :class:`bool` (beware: ``True == 1`` in Python)
symbol ``foo``            :class:`Symbol`
keyword ``#:foo``         :class:`Keyword`
character ``#\\a``        :class:`Char`
proper list ``(a b)``     :class:`tuple` (``()`` is the empty list)
``(a b . c)``             :class:`DottedList` (``(a . (b))`` reads as ``(a b)``)
vector ``#(a b)``         :class:`Vector`
bytevector ``#vu8(1 2)``  :class:`bytes`
``'x`` `` `x`` ``,x``     ``(Symbol("quote"), x)`` etc., like ``(quote x)``
========================  ==============================================

Errors are :class:`~revive.core.errors.SchemeError` located at
``path:line:column``.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from dataclasses import dataclass
from fractions import Fraction
from importlib import resources
from typing import Final, TypeAlias

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from revive.core.errors import SchemeError, position_of

__all__ = [
    "Symbol",
    "Keyword",
    "Char",
    "DottedList",
    "Vector",
    "Datum",
    "QUOTE",
    "QUASIQUOTE",
    "UNQUOTE",
    "UNQUOTE_SPLICING",
    "read_all",
    "read_one",
    "read_bytes",
    "write_string",
    "write_datum",
    "is_call",
]


@dataclass(frozen=True, slots=True)
class Symbol:
    """A Scheme symbol (``string-append``, ``%output``, ``...``)."""

    name: str
    """The symbol's name, without any ``#{ }#`` quoting."""

    def __str__(self) -> str:
        return write_datum(self)


@dataclass(frozen=True, slots=True)
class Keyword:
    """A Guile keyword ``#:name`` (``#:recursive?``)."""

    name: str
    """The name after ``#:``."""

    def __str__(self) -> str:
        return f"#:{self.name}"


@dataclass(frozen=True, slots=True)
class Char:
    """A character ``#\\a`` (kept apart from one-character strings)."""

    value: str
    """The character itself (a string of length 1)."""

    def __str__(self) -> str:
        return write_datum(self)


@dataclass(frozen=True, slots=True)
class DottedList:
    """An improper list ``(a b . tail)``; ``tail`` is never a list."""

    items: tuple[Datum, ...]
    """The elements before the dot (at least one)."""
    tail: Datum
    """The datum after the dot."""


@dataclass(frozen=True, slots=True)
class Vector:
    """A vector ``#(a b c)``."""

    items: tuple[Datum, ...]
    """The elements."""


Datum: TypeAlias = (
    str
    | bool
    | int
    | float
    | Fraction
    | bytes
    | Symbol
    | Keyword
    | Char
    | DottedList
    | Vector
    | tuple["Datum", ...]
)
"""Any value :func:`read_all` can return."""

QUOTE: Final = Symbol("quote")
"""``quote``, the head of ``'x`` and of ``(quote x)``."""
QUASIQUOTE: Final = Symbol("quasiquote")
"""``quasiquote``, the head of ```x``."""
UNQUOTE: Final = Symbol("unquote")
"""``unquote``, the head of ``,x``."""
UNQUOTE_SPLICING: Final = Symbol("unquote-splicing")
"""``unquote-splicing``, the head of ``,@x``."""

_ABBREVIATIONS: Final = {"'": QUOTE, "`": QUASIQUOTE, ",": UNQUOTE, ",@": UNQUOTE_SPLICING}

# Character names Guile reads and writes (R6RS/R7RS names plus the ASCII
# control mnemonics). The first name of each code is the one we write.
_CHAR_NAMES: Final[dict[str, int]] = {
    "nul": 0x00, "null": 0x00, "soh": 0x01, "stx": 0x02, "etx": 0x03,
    "eot": 0x04, "enq": 0x05, "ack": 0x06, "alarm": 0x07, "bel": 0x07,
    "backspace": 0x08, "bs": 0x08, "tab": 0x09, "ht": 0x09,
    "newline": 0x0A, "linefeed": 0x0A, "nl": 0x0A, "lf": 0x0A,
    "vtab": 0x0B, "vt": 0x0B, "page": 0x0C, "ff": 0x0C, "np": 0x0C,
    "return": 0x0D, "cr": 0x0D, "so": 0x0E, "si": 0x0F, "dle": 0x10,
    "dc1": 0x11, "dc2": 0x12, "dc3": 0x13, "dc4": 0x14, "nak": 0x15,
    "syn": 0x16, "etb": 0x17, "can": 0x18, "em": 0x19, "sub": 0x1A,
    "esc": 0x1B, "escape": 0x1B, "fs": 0x1C, "gs": 0x1D, "rs": 0x1E,
    "us": 0x1F, "space": 0x20, "sp": 0x20, "delete": 0x7F, "del": 0x7F,
    "rubout": 0x7F,
}  # fmt: skip
_CHAR_WRITE_NAMES: Final[dict[int, str]] = {}
for _name, _code in _CHAR_NAMES.items():
    _CHAR_WRITE_NAMES.setdefault(_code, _name)

_STRING_ESCAPES: Final = {
    "\\": "\\", '"': '"', "a": "\a", "b": "\b", "t": "\t", "n": "\n",
    "v": "\v", "f": "\f", "r": "\r", "0": "\0",
}  # fmt: skip
_WRITE_ESCAPES: Final = {
    "\\": "\\\\", '"': '\\"', "\a": "\\a", "\b": "\\b", "\t": "\\t",
    "\n": "\\n", "\v": "\\v", "\f": "\\f", "\r": "\\r",
}  # fmt: skip

_INTEGER_RE: Final = re.compile(r"[+-]?[0-9]+")
_RATIONAL_RE: Final = re.compile(r"[+-]?[0-9]+/[0-9]+")
_REAL_RE: Final = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_SPECIAL_REALS: Final = {
    "+inf.0": math.inf, "-inf.0": -math.inf, "+nan.0": math.nan, "-nan.0": math.nan,
}  # fmt: skip
_RADIX: Final = {"x": 16, "b": 2, "o": 8, "d": 10}
_STRING_ESCAPE_RE: Final = re.compile(
    r"\\(?:x([0-9a-fA-F]+);|x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{6})"
    r"|\n[ \t]*|([\s\S]))"
)
_SIMPLE_STRING_RE: Final = re.compile(r'"([^"\\]*)"')
_SIMPLE_STRING_LIST_RE: Final = re.compile(r'\((?:[ \t\n]*"[^"\\]*")*[ \t\n]*\)')
_DELIMITERS: Final = frozenset(" \t\n\r\f\v()[]\";'`,|")


class _DatumError(Exception):
    """Raised inside the transformer; located by :func:`read_all`."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


class _Skip:
    """What a ``#;`` datum comment turns into; dropped by its container."""


_SKIP: Final = _Skip()


def _number(text: str) -> int | float | Fraction | None:
    """``text`` as a Scheme number literal without prefix, or ``None``."""
    if _INTEGER_RE.fullmatch(text):
        return int(text)
    if _RATIONAL_RE.fullmatch(text):
        num, den = text.split("/")
        return Fraction(int(num), int(den)) if int(den) else None
    if _REAL_RE.fullmatch(text) and any(c.isdigit() for c in text):
        return float(text)
    return _SPECIAL_REALS.get(text.lower())


def _guile_escapes(code: int) -> bool:
    """True for the characters Guile's ``write`` escapes inside a string."""
    char = chr(code)
    return char in _WRITE_ESCAPES or not _printable(char)


def _printable(char: str) -> bool:
    # Guile writes graphic characters and the plain space raw and escapes
    # everything else (controls, format characters, separators, unassigned).
    if char == " ":
        return True
    return unicodedata.category(char)[0] not in "CZ"


def _decode_string(token: Token) -> str:
    """The value of a string literal token, escapes decoded."""
    raw = token.value[1:-1]
    base = (token.start_pos or 0) + 1

    def replace(match: re.Match[str]) -> str:
        r6rs, two, four, six, single = match.groups()
        if r6rs is not None:
            code = int(r6rs, 16)
            # `\x41;` is ambiguous: R6RS reads the code up to the `;`, Guile
            # reads exactly two hex digits and keeps the `;`. Guile's writer
            # only ever escapes characters that are not printable, so a
            # two-digit escape of such a character followed by `;` is Guile's
            # (the `;` is data); anything else is the R6RS form.
            if len(r6rs) == 2 and _guile_escapes(code):
                return chr(code) + ";"
            return _checked_chr(code, base + match.start())
        hexcode = two or four or six
        if hexcode is not None:
            return _checked_chr(int(hexcode, 16), base + match.start())
        if single is None:
            return ""  # backslash-newline continuation
        escaped = _STRING_ESCAPES.get(single)
        if escaped is None:
            shown = "\\" + single
            raise _DatumError(f"invalid escape {shown!r} in string", base + match.start())
        return escaped

    return _STRING_ESCAPE_RE.sub(replace, raw) if "\\" in raw else raw


def _checked_chr(code: int, offset: int) -> str:
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise _DatumError(f"invalid character code {code:#x}", offset)
    return chr(code)


def _items(children: list[object]) -> tuple[Datum, ...]:
    """The data among ``children`` (tokens and datum comments dropped)."""
    return tuple(
        c  # type: ignore[misc]
        for c in children
        if not isinstance(c, (Token, _Skip))
    )


class _ToDatum(Transformer[Token, tuple[Datum, ...]]):
    """Turns each grammar rule into the Python value it denotes."""

    def start(self, children: list[object]) -> tuple[Datum, ...]:
        return _items(children)

    def datum_comment(self, children: list[object]) -> _Skip:
        return _SKIP

    def string(self, children: list[Token]) -> str:
        return _decode_string(children[0])

    def atom(self, children: list[Token]) -> Datum:
        text = children[0].value
        number = _number(text)
        return Symbol(text) if number is None else number

    def char(self, children: list[Token]) -> Char:
        token = children[0]
        body = token.value[2:]
        if len(body) == 1:
            return Char(body)
        if body[0] in "xX" and all(c in "0123456789abcdefABCDEF" for c in body[1:]):
            return Char(_checked_chr(int(body[1:], 16), token.start_pos or 0))
        code = _CHAR_NAMES.get(body.lower())
        if code is None:
            raise _DatumError(f"unknown character name #\\{body}", token.start_pos or 0)
        return Char(chr(code))

    def boolean(self, children: list[Token]) -> bool:
        return children[0].value in ("#t", "#true")

    def keyword(self, children: list[Token]) -> Keyword:
        return Keyword(children[0].value[2:])

    def quoted_symbol(self, children: list[Token]) -> Symbol:
        body = children[0].value[2:-2]
        # Guile writes characters it cannot show inside #{ }# as \xHH;.
        return Symbol(re.sub(r"\\x([0-9a-fA-F]+);", lambda m: chr(int(m.group(1), 16)), body))

    def prefixed_number(self, children: list[Token]) -> int | float | Fraction:
        token = children[0]
        prefix, digits = token.value[1].lower(), token.value[2:]
        value: int | float | Fraction | None = None
        try:
            if prefix in _RADIX:
                value = int(digits, _RADIX[prefix]) if re.fullmatch(r"[+-]?\w+", digits) else None
            else:
                value = _number(digits)
                if value is not None:
                    exact = Fraction(value) if math.isfinite(value) else None
                    value = float(value) if prefix == "i" else exact
        except ValueError:
            value = None
        if value is None:
            raise _DatumError(f"invalid number {token.value}", token.start_pos or 0)
        return value

    def proper_list(self, children: list[object]) -> tuple[Datum, ...]:
        return _items(children)

    def dotted(self, children: list[object]) -> Datum:
        dot = next(i for i, c in enumerate(children) if isinstance(c, Token) and c.type == "DOT")
        head = _items(children[:dot])
        (tail,) = _items(children[dot + 1 :])
        if not head:
            token = children[dot]
            assert isinstance(token, Token)
            raise _DatumError("nothing before '.' in a dotted list", token.start_pos or 0)
        # (a . (b c)) is the proper list (a b c); (a . (b . c)) is (a b . c).
        if isinstance(tail, tuple):
            return head + tail
        if isinstance(tail, DottedList):
            return DottedList(head + tail.items, tail.tail)
        return DottedList(head, tail)

    def vector(self, children: list[object]) -> Vector:
        return Vector(_items(children))

    def bytevector(self, children: list[object]) -> bytes:
        values = _items(children)
        for value in values:
            if type(value) is not int or not 0 <= value <= 255:
                opener = children[0]
                assert isinstance(opener, Token)
                raise _DatumError(
                    f"bytevector element {write_datum(value)} is not a byte (0-255)",
                    opener.start_pos or 0,
                )
        return bytes(values)  # type: ignore[arg-type]

    def abbreviation(self, children: list[object]) -> tuple[Datum, ...]:
        mark = children[0]
        assert isinstance(mark, Token)
        (datum,) = _items(children[1:])
        return (_ABBREVIATIONS[mark.value], datum)


@functools.cache
def _parser() -> Lark:
    # Built once, lazily: a pure constant (no cache file, no global user data).
    grammar = resources.files("revive.core.fetch").joinpath("grammars/scheme.lark").read_text()
    return Lark(grammar, parser="lalr", transformer=_ToDatum(), maybe_placeholders=False)


def _describe_unexpected(text: str, offset: int) -> str:
    """A readable message for the character at ``offset`` no token matches."""
    if text.startswith('"', offset):
        return "unterminated string"
    if text.startswith("#|", offset):
        return "unterminated block comment '#|'"
    if text.startswith("#!", offset):
        return "unterminated script header '#!'"
    if text.startswith("#\\", offset):
        return "invalid character literal"
    if text.startswith("#{", offset):
        return "unterminated symbol '#{'"
    if text.startswith("#", offset):
        return f"unknown syntax {text[offset : offset + 2]!r}"
    return f"unexpected character {text[offset]!r}"


_TOKEN_NAMES: Final = {
    "RPAREN": "')'",
    "RBRACKET": "']'",
    "DOT": "'.'",
}


def read_all(text: str, path: str = "<string>") -> tuple[Datum, ...]:
    """Read every datum of ``text``, in order.

    Args:
        text: Scheme source (a builder script, a mirror list, an env value).
        path: where ``text`` comes from, for error messages.

    Raises:
        SchemeError: ``text`` is not a sequence of Scheme data; the error
            says where (``path:line:column``).
    """
    try:
        result: tuple[Datum, ...] = _parser().parse(text)  # type: ignore[assignment]
    except _DatumError as err:
        line, column = position_of(text, err.offset)
        raise SchemeError(err.message, path, line, column) from None
    except UnexpectedCharacters as err:
        offset = err.pos_in_stream or 0
        line, column = position_of(text, offset)
        message = _describe_unexpected(text, offset)
        raise SchemeError(message, path, line, column) from None
    except UnexpectedToken as err:
        token = err.token
        if token.type == "$END":
            line, column = position_of(text, len(text))
            raise SchemeError(
                "unexpected end of input (a list is not closed)", path, line, column
            ) from None
        line, column = position_of(text, token.start_pos or 0)
        shown = _TOKEN_NAMES.get(token.type, repr(token.value))
        raise SchemeError(f"unexpected {shown}", path, line, column) from None
    except UnexpectedInput as err:  # pragma: no cover - other lark input errors
        line, column = position_of(text, getattr(err, "pos_in_stream", 0) or 0)
        raise SchemeError("cannot read Scheme data", path, line, column) from None
    return result


def read_one(text: str, path: str = "<string>") -> Datum:
    """Read ``text``, which must hold exactly one datum (an env value, a mirror list).

    Raises:
        SchemeError: unreadable, empty, or more than one datum.
    """
    # Fast path for the values read over and over (the `url` of every
    # download): a plain string, or a list of plain strings, without escapes.
    # A plain string is recognised with string methods, about twice as fast
    # as a regular expression on a URL.
    if (
        len(text) >= 2
        and text[0] == '"'
        and text[-1] == '"'
        and text.count('"') == 2
        and "\\" not in text
    ):
        return text[1:-1]
    if _SIMPLE_STRING_LIST_RE.fullmatch(text) is not None:
        return tuple(_SIMPLE_STRING_RE.findall(text))
    data = read_all(text, path)
    if len(data) != 1:
        what = "no datum" if not data else f"{len(data)} data"
        line, column = position_of(text, len(text) if not data else 0)
        raise SchemeError(f"expected one datum, found {what}", path, line, column)
    return data[0]


def read_bytes(data: bytes, path: str = "<bytes>") -> tuple[Datum, ...]:
    """Read a store file's bytes: UTF-8 (Guix before 2021 may have used the
    locale's encoding; such files are ASCII with escapes, hence UTF-8 too).

    Raises:
        SchemeError: not UTF-8, or not Scheme data.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line, column = position_of(data[: err.start].decode("utf-8", "replace"), err.start)
        raise SchemeError("not valid UTF-8", path, line, column) from None
    return read_all(text, path)


# --- writing --------------------------------------------------------------


def write_string(value: str) -> str:
    """``value`` as Guile's ``write`` prints a string (quotes included).

    ``\\`` and ``"`` are escaped, the C0 controls that have one get their
    one-letter escape (``\\n``, ``\\t``…), other characters that are not
    printable become ``\\xHH`` / ``\\uHHHH`` / ``\\UHHHHHH``, and every
    printable character (including non-ASCII) is written as itself.
    """
    if value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
        return f'"{value}"'  # the common case: a URL, a path
    parts = ['"']
    for char in value:
        escaped = _WRITE_ESCAPES.get(char)
        if escaped is not None:
            parts.append(escaped)
        elif _printable(char):
            parts.append(char)
        else:
            code = ord(char)
            if code <= 0xFF:
                parts.append(f"\\x{code:02x}")
            elif code <= 0xFFFF:
                parts.append(f"\\u{code:04x}")
            else:
                parts.append(f"\\U{code:06x}")
    parts.append('"')
    return "".join(parts)


def _symbol_needs_quoting(name: str) -> bool:
    return (
        not name
        or name[0] == "#"
        or name == "."
        or any(c in _DELIMITERS or not _printable(c) for c in name)
        or _number(name) is not None
    )


def _write_float(value: float) -> str:
    if math.isnan(value):
        return "+nan.0"
    if math.isinf(value):
        return "+inf.0" if value > 0 else "-inf.0"
    text = repr(value)
    return text.replace("e+", "e") if "e" in text else text


def write_datum(datum: Datum) -> str:
    """``datum`` written as Guile's ``write`` would: one line, no abbreviations.

    Round-trips through :func:`read_one` (``read_one(write_datum(d)) == d``).
    """
    parts: list[str] = []
    _write(datum, parts)
    return "".join(parts)


def _write(datum: Datum, out: list[str]) -> None:
    # Order matters: bool is a subclass of int.
    if isinstance(datum, str):
        out.append(write_string(datum))
    elif isinstance(datum, bool):
        out.append("#t" if datum else "#f")
    elif isinstance(datum, int):
        out.append(str(datum))
    elif isinstance(datum, float):
        out.append(_write_float(datum))
    elif isinstance(datum, Fraction):
        out.append(str(datum))
    elif isinstance(datum, Symbol):
        name = datum.name
        out.append(f"#{{{name}}}#" if _symbol_needs_quoting(name) else name)
    elif isinstance(datum, Keyword):
        out.append(f"#:{datum.name}")
    elif isinstance(datum, Char):
        code = ord(datum.value)
        named = _CHAR_WRITE_NAMES.get(code)
        if named is not None:
            out.append(f"#\\{named}")
        elif _printable(datum.value):
            out.append(f"#\\{datum.value}")
        else:
            out.append(f"#\\x{code:x}")
    elif isinstance(datum, tuple):
        _write_sequence("(", datum, out)
    elif isinstance(datum, DottedList):
        _write_sequence("(", datum.items, out, close=False)
        out.append(" . ")
        _write(datum.tail, out)
        out.append(")")
    elif isinstance(datum, Vector):
        _write_sequence("#(", datum.items, out)
    elif isinstance(datum, bytes):
        out.append("#vu8(" + " ".join(str(b) for b in datum) + ")")
    else:  # pragma: no cover - the type alias is closed
        raise TypeError(f"not a Scheme datum: {datum!r}")


def _write_sequence(
    open_: str, items: tuple[Datum, ...], out: list[str], close: bool = True
) -> None:
    out.append(open_)
    for index, item in enumerate(items):
        if index:
            out.append(" ")
        _write(item, out)
    if close:
        out.append(")")


def is_call(datum: Datum, name: str) -> bool:
    """True if ``datum`` is a list whose head is the symbol ``name``."""
    return isinstance(datum, tuple) and bool(datum) and datum[0] == Symbol(name)
