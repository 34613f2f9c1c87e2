"""Read and write the ``Derive(...)`` term of ``.drv`` files.

Grammar (``guix-derivations.md`` §2.1)::

    drv       = "Derive(" outputs "," inputdrvs "," strlist "," string ","
                string "," strlist "," envs ")"
    outputs   = "[" [ output { "," output } ] "]"
    output    = "(" string "," string "," string "," string ")"
    inputdrvs = "[" [ "(" string "," strlist ")" { "," … } ] "]"
    envs      = "[" [ "(" string "," string ")" { "," … } ] "]"
    strlist   = "[" [ string { "," string } ] "]"
    string    = '"' { char | "\\" char } '"'

Reading is on the hot path of loading a 50,000-node closure, so the whole
term is first matched by one regular expression whose quantifiers are
possessive (no backtracking, linear time even on garbage); only when that
fails does a careful scanner walk the text to report the exact line and
column of the first error.
"""

from __future__ import annotations

import re
import sys
from operator import attrgetter
from typing import Final

from revive.core.derivation import Derivation, Fields, InputDrv, Output
from revive.core.drv_scan import scan_bytes, scan_fields
from revive.core.errors import DerivationError, position_of

__all__ = [
    "parse_derivation",
    "parse_derivation_bytes",
    "read_derivation",
    "serialize_derivation",
    "escape_string",
]

# One string literal, possessive so that a failed match never backtracks.
_S: Final = r'"(?:[^"\\]++|\\.)*+"'
_SL: Final = rf"(?:{_S}(?:,{_S})*+)?+"
_OUT: Final = rf"\({_S},{_S},{_S},{_S}\)"
_IN: Final = rf"\({_S},\[{_SL}\]\)"
_ENV: Final = rf"\({_S},{_S}\)"

_TERM: Final = re.compile(
    rf"Derive\(\[((?:{_OUT}(?:,{_OUT})*+)?+)\],"
    rf"\[((?:{_IN}(?:,{_IN})*+)?+)\],"
    rf"\[({_SL})\],({_S}),({_S}),\[({_SL})\],"
    rf"\[((?:{_ENV}(?:,{_ENV})*+)?+)\]\)",
    re.DOTALL,
)
_STRING: Final = re.compile(r'"((?:[^"\\]++|\\.)*+)"', re.DOTALL)
_STRING_BODY: Final = re.compile(r'(?:[^"\\]++|\\.)*+', re.DOTALL)
_INPUT: Final = re.compile(rf"\(({_S}),\[({_SL})\]\)", re.DOTALL)
_PAIR: Final = re.compile(r'\("((?:[^"\\]++|\\.)*+)","((?:[^"\\]++|\\.)*+)"\)', re.DOTALL)
_ESCAPE: Final = re.compile(r"\\(.)", re.DOTALL)
# Runs of complete list items, each followed by a comma: the error scanner
# jumps over them at regex speed (a 100 MB file of valid-looking tuples must
# not take a minute to reject).
_OUTPUTS_PREFIX: Final = re.compile(rf"(?:{_OUT},)*+", re.DOTALL)
_INPUTS_PREFIX: Final = re.compile(rf"(?:{_IN},)*+", re.DOTALL)
_STRINGS_PREFIX: Final = re.compile(rf"(?:{_S},)*+", re.DOTALL)
_ENVS_PREFIX: Final = re.compile(rf"(?:{_ENV},)*+", re.DOTALL)
_NEEDS_ESCAPE: Final = re.compile(r'["\\\n\r\t]')
_UNESCAPES: Final = {"n": "\n", "r": "\r", "t": "\t"}
_ESCAPES: Final = str.maketrans({'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})
_OUT_ONLY: Final = ("out",)
_intern = sys.intern


def _unescape(match: re.Match[str]) -> str:
    char = match.group(1)
    return _UNESCAPES.get(char, char)


def _text(raw: str) -> str:
    """Content of a string literal (without quotes) with escapes resolved."""
    if "\\" in raw:
        return _ESCAPE.sub(_unescape, raw)
    return raw


def parse_derivation(text: str, path: str = "<string>", name: str | None = None) -> Derivation:
    """Parse the text of a ``.drv`` file.

    Args:
        text: the whole file, decoded.
        path: where it came from, used in error messages and for the name.
        name: the derivation name; by default taken from ``path`` when its
            base name is a ``.drv`` store name, else from the ``out`` output path.

    Raises:
        DerivationError: the text is not a valid ``Derive(...)`` term.
    """
    # Fast path for whole closures (revive.core.drv_scan); it declines
    # anything unusual, which the regex parser below then reads or rejects.
    fields = scan_fields(text)
    if fields is not None:
        return _from_fields(fields, path, name)
    return _parse_careful(text, path, name)


def _from_fields(fields: Fields, path: str, name: str | None) -> Derivation:
    """The derivation a scanner read, named as :func:`parse_derivation` says."""
    drv = Derivation.from_fields(name if name is not None else _store_drv_name(path) or "", fields)
    return drv if name is not None or drv.name else _named(drv, path)


def _parse_careful(text: str, path: str, name: str | None) -> Derivation:
    """:func:`parse_derivation` without the fast path (the reference it is tested against)."""
    match = _TERM.fullmatch(text)
    if match is None:
        _locate_error(text, path)
        raise DerivationError("not a valid derivation", path)  # pragma: no cover
    outs_src, ins_src, srcs_src, system, builder, args_src, env_src = match.groups()

    strings = [_text(s) for s in _STRING.findall(outs_src)]
    outputs = tuple(
        Output(_intern(strings[i]), strings[i + 1], strings[i + 2], strings[i + 3])
        for i in range(0, len(strings), 4)
    )
    input_drvs: list[InputDrv] = []
    for drv_path, out_list in _INPUT.findall(ins_src):
        if out_list == '"out"':
            names: tuple[str, ...] = _OUT_ONLY
        else:
            names = tuple(_intern(_text(s)) for s in _STRING.findall(out_list))
        input_drvs.append((_intern(_text(drv_path[1:-1])), names))
    env = tuple((_intern(_text(key)), _text(value)) for key, value in _PAIR.findall(env_src))
    if name is None:
        name = _name_for(path, outputs)
    return Derivation(
        name,
        outputs,
        tuple(input_drvs),
        tuple(_intern(_text(s)) for s in _STRING.findall(srcs_src)),
        _intern(_text(system[1:-1])),
        _intern(_text(builder[1:-1])),
        tuple(_intern(_text(s)) for s in _STRING.findall(args_src)),
        env,
    )


def parse_derivation_bytes(
    data: bytes, path: str = "<bytes>", name: str | None = None
) -> Derivation:
    """Decode ``data`` as UTF-8 and parse it; a bad byte is a located error."""
    fields = scan_bytes(data)
    if fields is not None:
        return _from_fields(fields, path, name)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        prefix = data[: err.start].decode("utf-8", errors="replace")
        line, column = position_of(prefix, len(prefix))
        raise DerivationError(
            f"invalid UTF-8 byte 0x{data[err.start]:02x}", path, line, column
        ) from None
    return parse_derivation(text, path, name)


def read_derivation(file: str, logical_path: str | None = None) -> Derivation:
    """Read and parse the ``.drv`` file ``file``.

    Args:
        file: the physical file to read.
        logical_path: its store path, if ``file`` is a copy outside the store
            (used for the name; errors always name ``file``).

    Raises:
        DerivationError: the file cannot be read or is malformed.
    """
    try:
        with open(file, "rb") as handle:
            data = handle.read()
    except IsADirectoryError:
        raise DerivationError("is a directory, not a derivation file", file) from None
    except OSError as err:
        raise DerivationError(f"cannot read: {err.strerror or err}", file) from None
    name = _store_drv_name(logical_path or file)
    return parse_derivation_bytes(data, file, name)


def _store_drv_name(path: str) -> str | None:
    """The derivation name if ``path``'s base name is ``<hash32>-<name>.drv``.

    A copy such as ``./hello.drv`` has no name in its file name, only in its
    outputs (``_name_for``).
    """
    base = path[path.rfind("/") + 1 :]
    if len(base) > 37 and base[32] == "-" and base.endswith(".drv"):
        return base[33:-4]
    return None


def _named(drv: Derivation, path: str) -> Derivation:
    """``drv`` with the name :func:`parse_derivation` gives when none is known."""
    name = _name_for(path, drv.outputs)
    return drv.evolve(name=name) if name else drv


def _name_for(path: str, outputs: tuple[Output, ...]) -> str:
    name = _store_drv_name(path)
    if name is not None:
        return name
    for out in outputs:
        if out.name == "out" and out.path:
            base = out.path[out.path.rfind("/") + 1 :]
            return base[33:] if len(base) > 33 else base
    return ""


# --- writing -------------------------------------------------------------------


def escape_string(value: str) -> str:
    """``value`` as a ``.drv`` string literal, quotes included."""
    if _NEEDS_ESCAPE.search(value) is None:
        return f'"{value}"'
    return '"' + value.translate(_ESCAPES) + '"'


# Stands for the quotes around every string while the term is assembled (see
# serialize_derivation); chosen because no real derivation string holds NUL.
_Q: Final = "\x00"
_NEXT: Final = "\x00,\x00"  # between two strings: ","
_OPEN: Final = "(\x00"  # "(" before a tuple's first string
_TUPLES: Final = "\x00),(\x00"  # between two tuples: "),("
_CLOSE: Final = "\x00)"
_OUTS: Final = "\x00,[\x00"  # an input's path and its output names: ",["
_INPUTS: Final = "\x00]),(\x00"  # between two inputs: "]),("
_INPUTS_CLOSE: Final = "\x00])"
_OUTPUT_FIELDS: Final = attrgetter("name", "path", "hash_algo", "hash")
# Backslash first: the others insert backslashes.
_TEXT_ESCAPES: Final = (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"))


def serialize_derivation(drv: Derivation) -> str:
    """The ``Derive(...)`` text of ``drv``, fields in the order they are stored.

    For a canonical derivation (every file Guix or the daemon writes) this is
    byte-identical to the file it was read from.

    Verifying a closure serializes every derivation three times and a
    closure rewrite once per FOD, so this costs a fixed handful of C-level
    passes whatever the derivation, never one Python call per string: the
    term is assembled with ``str.join`` over ``map``, with NUL in place of
    every string's quotes; then, only if some string holds a character to
    escape (the Scheme-written ``url`` of every download does), the whole
    text is escaped at once, which cannot touch the NUL quotes; last, NUL
    becomes ``"``. A string that itself holds NUL would be mistaken for a
    quote: the NULs are counted first, and such a derivation is written one
    string at a time (:func:`_serialize_each`, the reference).
    """
    outputs = drv.outputs
    input_drvs = drv.input_drvs
    input_srcs = drv.input_srcs
    args = drv.args
    env = drv.env
    strings = 4 * len(outputs) + len(input_srcs) + 2 + len(args) + 2 * len(env)
    if input_drvs:
        paths, names = zip(*input_drvs, strict=True)
        if () in names:
            # An input with no output names is ("p",[]), not ("p",[""]);
            # Guix and the daemon never write one.
            return _serialize_each(drv)
        strings += len(paths) + sum(map(len, names))
        inputs_text = (
            _OPEN
            + _INPUTS.join(map(_OUTS.join, zip(paths, map(_NEXT.join, names), strict=True)))
            + _INPUTS_CLOSE
        )
    else:
        inputs_text = ""
    text = "".join(
        (
            "Derive([",
            _OPEN + _TUPLES.join(map(_NEXT.join, map(_OUTPUT_FIELDS, outputs))) + _CLOSE
            if outputs
            else "",
            "],[",
            inputs_text,
            "],[",
            _Q + _NEXT.join(input_srcs) + _Q if input_srcs else "",
            "],\x00",
            drv.system,
            _NEXT,
            drv.builder,
            "\x00,[",
            _Q + _NEXT.join(args) + _Q if args else "",
            "],[",
            _OPEN + _TUPLES.join(map(_NEXT.join, env)) + _CLOSE if env else "",
            "])",
        )
    )
    if text.count(_Q) != 2 * strings:
        return _serialize_each(drv)  # a string holds NUL
    for char, escaped in _TEXT_ESCAPES:
        if char in text:  # a scan for an absent character is much cheaper than a replace
            text = text.replace(char, escaped)
    return text.replace(_Q, '"')


def _serialize_each(drv: Derivation) -> str:
    """:func:`serialize_derivation` one string at a time: the plain reference."""
    quoted = escape_string

    def strings(values: tuple[str, ...]) -> str:
        return ",".join(map(quoted, values))

    outputs = ",".join(f"({strings(_OUTPUT_FIELDS(o))})" for o in drv.outputs)
    inputs = ",".join(f"({quoted(path)},[{strings(outs)}])" for path, outs in drv.input_drvs)
    env = ",".join(f"({quoted(key)},{quoted(value)})" for key, value in drv.env)
    return (
        f"Derive([{outputs}],[{inputs}],[{strings(drv.input_srcs)}],"
        f"{quoted(drv.system)},{quoted(drv.builder)},[{strings(drv.args)}],[{env}])"
    )


# --- error location ------------------------------------------------------------


class _Scanner:
    """A strict character-level reader used only to locate the first error."""

    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.path = path
        self.pos = 0

    def fail(self, message: str) -> DerivationError:
        line, column = position_of(self.text, self.pos)
        return DerivationError(message, self.path, line, column)

    def describe(self) -> str:
        if self.pos >= len(self.text):
            return "end of file"
        return repr(self.text[self.pos])

    def expect(self, literal: str, what: str) -> None:
        if self.text.startswith(literal, self.pos):
            self.pos += len(literal)
            return
        # Point at the first character that differs.
        for char in literal:
            if self.pos < len(self.text) and self.text[self.pos] == char:
                self.pos += 1
            else:
                break
        raise self.fail(f"expected {what}, found {self.describe()}")

    def string(self) -> None:
        if self.pos >= len(self.text) or self.text[self.pos] != '"':
            raise self.fail(f"expected a string, found {self.describe()}")
        start = self.pos
        # The same possessive body as the fast path, so both agree on what a
        # string is and the scan stays linear on 100 MB of backslashes.
        body = _STRING_BODY.match(self.text, start + 1)
        end = body.end() if body is not None else start + 1  # it always matches
        if end < len(self.text) and self.text[end] == '"':
            self.pos = end + 1
            return
        if end < len(self.text):
            # The body stops before the end only at a lone trailing backslash.
            self.pos = end
            raise self.fail("backslash at end of file")
        self.pos = start
        raise self.fail("unterminated string")

    def sequence(self, item: object, what: str, valid: re.Pattern[str] | None = None) -> int:
        """``[ item {, item} ]``; returns the number of items (not counting skipped ones).

        ``valid`` matches a run of complete ``item,``: they are skipped unread.
        """
        self.expect("[", f"'[' starting {what}")
        if self.text.startswith("]", self.pos):
            self.pos += 1
            return 0
        if valid is not None:
            skipped = valid.match(self.text, self.pos)
            if skipped is not None:
                self.pos = skipped.end()
        count = 0
        while True:
            item()  # type: ignore[operator]
            count += 1
            if self.text.startswith(",", self.pos):
                self.pos += 1
                continue
            self.expect("]", f"',' or ']' in {what}")
            return count

    def tuple_of(self, arity: int, what: str, parts: tuple[object, ...] = ()) -> None:
        self.expect("(", f"'(' starting {what}")
        readers = parts or (self.string,) * arity
        for index, reader in enumerate(readers):
            if index:
                if not self.text.startswith(",", self.pos):
                    if self.text.startswith(")", self.pos):
                        plural = "s" if index > 1 else ""
                        raise self.fail(
                            f"{what} has {index} field{plural}, expected {len(readers)}"
                        )
                    raise self.fail(f"expected ',' in {what}, found {self.describe()}")
                self.pos += 1
            reader()  # type: ignore[operator]
        if self.text.startswith(",", self.pos):
            raise self.fail(f"{what} has more than {len(readers)} fields")
        self.expect(")", f"')' ending {what}")


def _locate_error(text: str, path: str) -> None:
    """Raise a :class:`DerivationError` pointing at the first error in ``text``."""
    if not text:
        raise DerivationError("empty file, expected 'Derive('", path)
    scan = _Scanner(text, path)
    scan.expect("Derive(", "'Derive('")
    scan.sequence(lambda: scan.tuple_of(4, "output"), "the outputs", _OUTPUTS_PREFIX)
    fields = (
        (
            "the input derivations",
            lambda: scan.sequence(
                lambda: scan.tuple_of(
                    2,
                    "input derivation",
                    (
                        scan.string,
                        lambda: scan.sequence(scan.string, "output names", _STRINGS_PREFIX),
                    ),
                ),
                "the input derivations",
                _INPUTS_PREFIX,
            ),
        ),
        (
            "the input sources",
            lambda: scan.sequence(scan.string, "the input sources", _STRINGS_PREFIX),
        ),
        ("the system", scan.string),
        ("the builder", scan.string),
        (
            "the arguments",
            lambda: scan.sequence(scan.string, "the arguments", _STRINGS_PREFIX),
        ),
        (
            "the environment",
            lambda: scan.sequence(
                lambda: scan.tuple_of(2, "environment variable"),
                "the environment",
                _ENVS_PREFIX,
            ),
        ),
    )
    for what, reader in fields:
        if not text.startswith(",", scan.pos):
            if text.startswith(")", scan.pos):
                raise scan.fail(f"Derive has too few fields: {what} is missing")
            raise scan.fail(f"expected ',' before {what}, found {scan.describe()}")
        scan.pos += 1
        reader()
    if text.startswith(",", scan.pos):
        raise scan.fail("Derive has more than 7 fields")
    scan.expect(")", "')' ending Derive")
    if scan.pos < len(text):
        raise scan.fail(f"unexpected {scan.describe()} after the end of the derivation")
    raise DerivationError("not a valid derivation", path)  # pragma: no cover
