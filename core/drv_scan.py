"""The fast path of reading a ``.drv`` term, for loading whole closures.

:func:`revive.core.aterm.parse_derivation` tries :func:`scan_fields` (and
``parse_derivation_bytes`` :func:`scan_bytes`) first and falls back to its
careful regex parser (which also locates errors) whenever this returns
``None``. So this module only has to be *exact on the inputs it accepts*;
it may decline anything unusual.

Two implementations give the same :data:`Fields`:

* :func:`scan_bytes` (what the closure loader calls) uses the compiled
  reader ``revive.core._drv_scan`` (``core/_drv_scan.c``), built when the
  package is installed where a C compiler is present. It reads the UTF-8
  bytes in one pass, about five times faster than the Python below (10
  against 52 µs for a 3 kB file, ``bench/README.md``), and accepts exactly
  what the careful parser accepts. Without it, or with
  ``GUIX_REVIVE_PURE_PYTHON=1`` in the environment (see
  :mod:`revive.core.compiled`), :func:`scan_bytes` decodes and calls
  :func:`scan_fields`.
* :func:`scan_fields`, pure Python, described here.

How it works, and why it is fast: every step is a C-level pass over the text
or over the list of its strings (``str.split``, ``str.count``, ``map``,
string equality), never a Python loop over characters and almost never one
over strings: CPython spends about 1 ns per character in such passes, and
70 ns on each Python-level step.

1. Escapes are resolved on the whole text first. Escaped backslashes pair up
   from the left end of a run whatever precedes them, so replacing ``\\\\``
   first finds exactly the pairs a left-to-right reader finds; they become
   the placeholder ``\\x00``. Then every backslash left starts a one-character
   escape: splitting the text on ``\\`` puts each escaped character first in
   its piece, and mapping those first characters (``n`` → newline, ``"`` →
   the placeholder ``\\x01``…) costs one C-level ``map`` whatever the number
   of escapes. Texts already holding a placeholder character, and escapes
   other than ``\\\\ \\" \\n \\t \\r`` (``\\a`` means ``a``; Guix and the daemon
   never write one), are declined.
2. The text is split on ``"``: odd pieces are the string contents, even pieces
   the punctuation between them. Joining the punctuation with ``"`` gives a
   small *skeleton* (``Derive([(",",",")],[(",["])],…``) holding one ``"`` per
   string. An escape outside a string (a newline, a placeholder) lands in the
   skeleton, so it does not validate.
3. The skeleton is checked section by section against the grammar by
   comparing with precomputed canonical strings (``(",",",")`` repeated with
   commas…), which also gives the number of strings in each section.
4. Fields are sliced out of the list of strings; placeholders are restored
   in the few strings that hold them.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from itertools import chain, repeat
from operator import itemgetter
from typing import Final

from revive.core import compiled
from revive.core.derivation import Derivation, Fields, InputDrv

__all__ = ["scan_derivation", "scan_fields", "scan_bytes", "Fields"]

_ESCAPED_BACKSLASH: Final = "\x00"
_ESCAPED_QUOTE: Final = "\x01"
_PREFIX: Final = "Derive(["
_MIDDLE: Final = '],",",['
_SUFFIX: Final = "])"
# One input derivation with any number of output names, in skeleton form.
_INPUTS_SKELETON: Final = re.compile(r'\(",\["(?:,")*+\]\)(?:,\(",\["(?:,")*+\]\))*+')
# What the character after a (non-doubled) backslash stands for.
_ESCAPES: Final = {"n": "\n", "t": "\t", "r": "\r", '"': _ESCAPED_QUOTE}
_DOUBLE_BACKSLASH: Final = re.compile(r"\\\\")
_FIRST: Final = itemgetter(0)
_AFTER_FIRST: Final = slice(1, None)
_intern = sys.intern


class _Repeated(dict[int, str]):
    """``unit`` repeated ``n`` times with commas between, built on first use."""

    __slots__ = ("unit",)

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def __missing__(self, count: int) -> str:
        value = ",".join([self.unit] * count)
        if count <= 4096:  # bounded: a hostile file must not grow the table forever
            self[count] = value
        return value


_OUTPUTS: Final = _Repeated('(",",",")')
_SINGLE_INPUTS: Final = _Repeated('(",["])')
_STRINGS: Final = _Repeated('"')
_ENVS: Final = _Repeated('(",")')


class _OutputNames(dict[str, tuple[str, ...]]):
    """Interned one-name tuples (``("out",)``), shared by every input edge."""

    __slots__ = ()

    def __missing__(self, name: str) -> tuple[str, ...]:
        value = (_intern(name),)
        if len(self) < 1024:
            self[name] = value
        return value


_ONE_NAME: Final = _OutputNames()
_OUT_ONLY: Final = _ONE_NAME["out"]


def _resolve_escapes(text: str) -> str | None:
    """``text`` with every escape resolved (step 1 of the module docstring), or ``None``."""
    # A regex finds a two-character literal at memchr speed, several times
    # faster than str.replace or ``in``.
    text = _DOUBLE_BACKSLASH.sub(_ESCAPED_BACKSLASH, text)
    pieces = text.split("\\")
    escaped = pieces[1:]
    try:
        # A piece is empty only after a backslash ending the text.
        chars = list(map(_ESCAPES.__getitem__, map(_FIRST, escaped)))
    except (KeyError, IndexError):
        return None
    rests = map(str.__getitem__, escaped, repeat(_AFTER_FIRST))
    return pieces[0] + "".join(chain.from_iterable(zip(chars, rests, strict=True)))


def _restore_placeholders(text: str, strings: list[str]) -> None:
    """Turn the placeholders back into ``\\`` and ``"`` in the strings holding them.

    Usually one or two strings of a file hold any (the ``url`` of a
    download): they are found with C-level searches in ``text`` (already
    validated: every placeholder is inside a string), the index of each from
    the number of quotes before it, instead of testing every string.
    """
    find = text.find
    count = text.count
    pos = 0
    quotes = 0  # quotes before pos
    while True:
        backslash = find(_ESCAPED_BACKSLASH, pos)
        quote = find(_ESCAPED_QUOTE, pos)
        if backslash < 0:
            if quote < 0:
                return
            hit = quote
        else:
            hit = backslash if quote < 0 or backslash < quote else quote
        quotes += count('"', pos, hit)
        index = quotes >> 1
        strings[index] = (
            strings[index].replace(_ESCAPED_BACKSLASH, "\\").replace(_ESCAPED_QUOTE, '"')
        )
        pos = find('"', hit) + 1  # after the string's closing quote
        quotes += 1


def _one_name_edges(
    paths: list[str], names: list[str], edges: dict[object, InputDrv] | None
) -> list[InputDrv]:
    """The edges of inputs using one output each, shared through ``edges`` if given.

    Like the compiled reader, an edge using just ``out`` is looked up by its
    path: no interning and no tuple for the edges a closure has seen before
    (all but its first occurrence), only a dictionary lookup each.
    """
    if edges is not None and names.count("out") == len(names):
        found: list[InputDrv | None] = list(map(edges.get, paths))
        at = -1
        try:
            while True:  # each search starts after the last miss: linear in all
                at = found.index(None, at + 1)
                path = _intern(paths[at])
                found[at] = edges.setdefault(path, (path, _OUT_ONLY))
        except ValueError:  # no miss left
            return found  # type: ignore[return-value]
    pairs = list(zip(map(_intern, paths), map(_ONE_NAME.__getitem__, names), strict=True))
    return pairs if edges is None else list(map(edges.setdefault, pairs, pairs))


def _mixed_inputs(
    skeleton: str, strings: list[str], pos: int, shared: dict[object, InputDrv] | None
) -> tuple[InputDrv, ...]:
    """Input edges when some use several outputs (``glibc [out, static]``).

    Only those few are handled one by one: ``","`` appears in the skeleton of
    a multi-name input only; the runs of one-name inputs between them are
    zipped at C speed. ``shared``: see :func:`_one_name_edges`.
    """
    result: list[InputDrv] = []
    extend = result.extend
    done = 0  # inputs handled so far
    search = 0
    while True:
        found = skeleton.find('","', search)
        if found < 0:
            break
        index = skeleton.count("(", 0, found) - 1
        end = pos + 2 * (index - done)
        extend(_one_name_edges(strings[pos:end:2], strings[pos + 1 : end : 2], shared))
        opening = skeleton.rfind("[", 0, found)
        closing = skeleton.find("]", found)
        count = skeleton.count('"', opening, closing)
        edge = (_intern(strings[end]), tuple(map(_intern, strings[end + 1 : end + 1 + count])))
        result.append(edge if shared is None else shared.setdefault(edge, edge))
        pos = end + 1 + count
        done = index + 1
        search = closing
    rest = skeleton.count("(") - done
    end = pos + 2 * rest
    extend(_one_name_edges(strings[pos:end:2], strings[pos + 1 : end : 2], shared))
    return tuple(result)


def scan_fields(text: str, edges: dict[object, InputDrv] | None = None) -> Fields | None:
    """The fields of the term ``text``, or ``None`` to let the careful parser decide.

    ``edges``, a table the caller keeps while reading a whole closure, makes
    equal input edges of different derivations one tuple (a closure has a
    million edges but only tens of thousands of distinct ones).
    """
    placeholders = False
    if "\\" in text:
        if _ESCAPED_BACKSLASH in text or _ESCAPED_QUOTE in text:
            return None
        resolved = _resolve_escapes(text)
        if resolved is None:
            return None
        text = resolved
        placeholders = _ESCAPED_BACKSLASH in text or _ESCAPED_QUOTE in text
    parts = text.split('"')
    if not len(parts) & 1:
        return None
    strings = parts[1::2]
    sections = '"'.join(parts[0::2]).split("],[")
    if len(sections) != 4:
        return None
    head, inputs_skel, middle, tail = sections

    # Outputs: Derive([ (",",",") , … ]
    if not head.startswith(_PREFIX):
        return None
    outputs_skel = head[8:]
    n_outputs = outputs_skel.count("(")
    if outputs_skel != _OUTPUTS[n_outputs]:
        return None
    # Input sources and arguments, around the system and builder strings.
    cut = middle.find(_MIDDLE)
    if cut < 0:
        return None
    n_srcs = middle.count('"', 0, cut)
    args_skel = middle[cut + 7 :]
    n_args = args_skel.count('"')
    if middle[:cut] != _STRINGS[n_srcs] or args_skel != _STRINGS[n_args]:
        return None
    # Environment: (",") , … ])
    if not tail.endswith(_SUFFIX):
        return None
    env_skel = tail[:-2]
    n_env = env_skel.count("(")
    if env_skel != _ENVS[n_env]:
        return None
    if placeholders:
        _restore_placeholders(text, strings)

    # Input derivations: the common case is one output name per input.
    pos = 4 * n_outputs
    n_inputs = inputs_skel.count("(")
    n_in_strings = inputs_skel.count('"')
    input_drvs: tuple[InputDrv, ...]
    if inputs_skel == _SINGLE_INPUTS[n_inputs]:
        end = pos + n_in_strings
        input_drvs = tuple(_one_name_edges(strings[pos:end:2], strings[pos + 1 : end : 2], edges))
    else:
        if _INPUTS_SKELETON.fullmatch(inputs_skel) is None:
            return None
        input_drvs = _mixed_inputs(inputs_skel, strings, pos, edges)
    pos += n_in_strings
    args_start = pos + n_srcs + 2
    env_start = args_start + n_args

    out_strings = strings[: pos - n_in_strings]
    return (
        tuple(
            zip(
                map(_intern, out_strings[0::4]),
                out_strings[1::4],
                out_strings[2::4],
                out_strings[3::4],
                strict=True,
            )
        ),
        input_drvs,
        tuple(map(_intern, strings[pos : pos + n_srcs])),
        _intern(strings[args_start - 2]),
        _intern(strings[args_start - 1]),
        tuple(map(_intern, strings[args_start:env_start])),
        tuple(zip(map(_intern, strings[env_start::2]), strings[env_start + 1 :: 2], strict=True)),
    )


_scan_compiled: Final[Callable[[bytes, dict[object, InputDrv] | None], Fields | None] | None] = (
    None if compiled.MODULE is None else compiled.MODULE.scan_fields
)


def scan_bytes(data: bytes, edges: dict[object, InputDrv] | None = None) -> Fields | None:
    """The fields of the term in the UTF-8 bytes ``data``, or ``None`` (see :func:`scan_fields`).

    Uses the compiled reader when there is one (see the module docstring).
    """
    if _scan_compiled is not None:
        return _scan_compiled(data, edges)
    try:
        text = data.decode()
    except UnicodeDecodeError:
        return None
    return scan_fields(text, edges)


def scan_derivation(text: str, name: str) -> Derivation | None:
    """The derivation ``text`` denotes, or ``None`` to let the careful parser decide.

    Exact for every text it accepts (the same value as the careful parser).
    """
    fields = scan_fields(text)
    return None if fields is None else Derivation.from_fields(name, fields)
