"""The fast path of reading a ``.drv`` term, for loading whole closures.

:func:`revive.core.aterm.parse_derivation` tries :func:`scan_derivation`
first and falls back to its careful regex parser (which also locates errors)
whenever this returns ``None``. So this module only has to be *exact on the
inputs it accepts*; it may decline anything unusual.

How it works, and why it is fast: every operation is one C-level pass over
the text (``str.replace``, ``str.split``, ``str.count``, string equality),
never a Python loop over characters and almost never one over strings.

1. Escapes are resolved on the whole text first. Runs of backslashes pair up
   from their left end whatever precedes them, so replacing ``\\\\`` first and
   then ``\\"`` finds exactly the escape sequences a left-to-right reader
   finds. Escaped backslashes and quotes become the placeholders ``\\x00`` and
   ``\\x01`` (texts already containing those characters are declined), and
   ``\\n``, ``\\t``, ``\\r`` become their characters. Any other escape
   (``\\a`` → ``a``, never written by Guix or the daemon) is declined.
2. The text is split on ``"``: odd pieces are the string contents, even pieces
   the punctuation between them. Joining the punctuation with ``"`` gives a
   small *skeleton* (``Derive([(",",",")],[(",["])],…``) holding one ``"`` per
   string. A raw newline, tab or a placeholder outside a string would land in
   the skeleton, so it would not validate.
3. The skeleton is checked section by section against the grammar by
   comparing with precomputed canonical strings (``(",",",")`` repeated with
   commas…), which also gives the number of strings in each section.
4. Fields are sliced out of the list of strings; placeholders are restored
   in the few strings that can hold them.
"""

from __future__ import annotations

import re
import sys
from itertools import starmap
from typing import Final, TypeAlias

from revive.core.derivation import Derivation, InputDrv, Output

__all__ = ["scan_derivation", "scan_fields", "Fields"]

_ESCAPED_BACKSLASH: Final = "\x00"
_ESCAPED_QUOTE: Final = "\x01"
_PREFIX: Final = "Derive(["
_MIDDLE: Final = '],",",['
_SUFFIX: Final = "])"
# One input derivation with any number of output names, in skeleton form.
_INPUTS_SKELETON: Final = re.compile(r'\(",\["(?:,")*+\]\)(?:,\(",\["(?:,")*+\]\))*+')
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


def _mixed_inputs(skeleton: str, strings: list[str], pos: int) -> tuple[InputDrv, ...]:
    """Input edges when some use several outputs (``glibc [out, static]``).

    Only those few are handled one by one: ``","`` appears in the skeleton of
    a multi-name input only; the runs of one-name inputs between them are
    zipped at C speed.
    """
    edges: list[InputDrv] = []
    extend = edges.extend
    done = 0  # inputs handled so far
    search = 0
    while True:
        found = skeleton.find('","', search)
        if found < 0:
            break
        index = skeleton.count("(", 0, found) - 1
        end = pos + 2 * (index - done)
        extend(
            zip(
                map(_intern, strings[pos:end:2]),
                map(_ONE_NAME.__getitem__, strings[pos + 1 : end : 2]),
                strict=True,
            )
        )
        opening = skeleton.rfind("[", 0, found)
        closing = skeleton.find("]", found)
        count = skeleton.count('"', opening, closing)
        edges.append(
            (_intern(strings[end]), tuple(map(_intern, strings[end + 1 : end + 1 + count])))
        )
        pos = end + 1 + count
        done = index + 1
        search = closing
    rest = skeleton.count("(") - done
    end = pos + 2 * rest
    extend(
        zip(
            map(_intern, strings[pos:end:2]),
            map(_ONE_NAME.__getitem__, strings[pos + 1 : end : 2]),
            strict=True,
        )
    )
    return tuple(edges)


class _Decline(Exception):
    """An escape this fast path does not handle; the careful parser will."""


def _unescape(value: str) -> str:
    """Resolve the escapes left in one string after splitting (see module docstring)."""
    if "\\" in value:
        value = value.replace("\\n", "\n").replace("\\t", "\t").replace("\\r", "\r")
        if "\\" in value:
            raise _Decline
    # Two replaces beat str.translate, which is slow on non-ASCII strings.
    if _ESCAPED_BACKSLASH in value:
        value = value.replace(_ESCAPED_BACKSLASH, "\\")
    if _ESCAPED_QUOTE in value:
        value = value.replace(_ESCAPED_QUOTE, '"')
    return value


def _unescape_tail(strings: list[str], start: int) -> None:
    """Unescape, in place, the strings from ``start`` on that need it.

    Usually only one or two long values (build phases) of a file have
    escapes: find them with C-level searches over the strings joined by
    ``"`` (which no string contains any more) instead of testing each one.
    """
    blob = '"'.join(strings[start:])
    pos = 0
    index = start
    while True:
        hits = [
            hit
            for hit in (
                blob.find("\\", pos),
                blob.find(_ESCAPED_BACKSLASH, pos),
                blob.find(_ESCAPED_QUOTE, pos),
            )
            if hit >= 0
        ]
        if not hits:
            return
        hit = min(hits)
        index += blob.count('"', pos, hit)
        strings[index] = _unescape(strings[index])
        pos = blob.find('"', hit) + 1
        if pos == 0:
            return
        index += 1


Fields: TypeAlias = tuple[
    tuple[tuple[str, str, str, str], ...],
    tuple[InputDrv, ...],
    tuple[str, ...],
    str,
    str,
    tuple[str, ...],
    tuple[tuple[str, str], ...],
]
"""A derivation as plain tuples: outputs as ``(name, path, hash_algo, hash)``, then
input derivations, sources, system, builder, arguments and environment (what
``marshal`` can carry between processes)."""


def scan_fields(text: str) -> Fields | None:
    """The fields of the term ``text``, or ``None`` to let the careful parser decide."""
    escaped = "\\" in text
    if escaped:
        if _ESCAPED_BACKSLASH in text or _ESCAPED_QUOTE in text:
            return None
        # Only escaped quotes (and the escaped backslashes that decide which
        # quotes are escaped) must go before splitting; the rest is resolved
        # per string, in the few strings that have a backslash. No ``in``
        # test first: a two-character search costs as much as the replace.
        text = text.replace("\\\\", _ESCAPED_BACKSLASH).replace('\\"', _ESCAPED_QUOTE)
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
    n_in_strings = inputs_skel.count('"')
    args_start = 4 * n_outputs + n_in_strings + n_srcs + 2
    env_start = args_start + n_args
    if escaped:
        try:
            # Strings before the arguments never hold escapes in files Guix
            # writes: check them all at once, fix them one by one if needed.
            probe = "".join(strings[:args_start])
            if "\\" in probe or _ESCAPED_BACKSLASH in probe or _ESCAPED_QUOTE in probe:
                strings[:args_start] = map(_unescape, strings[:args_start])
            _unescape_tail(strings, args_start)
        except _Decline:
            return None

    # Input derivations: the common case is one output name per input.
    pos = 4 * n_outputs
    n_inputs = inputs_skel.count("(")
    input_drvs: tuple[InputDrv, ...]
    if inputs_skel == _SINGLE_INPUTS[n_inputs]:
        end = pos + 2 * n_inputs
        input_drvs = tuple(
            zip(
                map(_intern, strings[pos:end:2]),
                map(_ONE_NAME.__getitem__, strings[pos + 1 : end : 2]),
                strict=True,
            )
        )
    else:
        if _INPUTS_SKELETON.fullmatch(inputs_skel) is None:
            return None
        input_drvs = _mixed_inputs(inputs_skel, strings, pos)
    pos += n_in_strings

    out_strings = strings[: 4 * n_outputs]
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
        tuple(strings[args_start:env_start]),
        tuple(zip(map(_intern, strings[env_start::2]), strings[env_start + 1 :: 2], strict=True)),
    )


def scan_derivation(text: str, name: str) -> Derivation | None:
    """The derivation ``text`` denotes, or ``None`` to let the careful parser decide.

    Exact for every text it accepts (the same value as the careful parser).
    """
    fields = scan_fields(text)
    if fields is None:
        return None
    outputs, input_drvs, srcs, system, builder, args, env = fields
    return Derivation(
        name, tuple(starmap(Output, outputs)), input_drvs, srcs, system, builder, args, env
    )
