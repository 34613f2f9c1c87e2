"""A derivation as a readable record: text, recutils and JSON renderings.

The layout follows ``guix drv-show`` (the Guix extension shown in the 2024
"Rewriting Guix fixed-output past derivation" post): one field per line, list
fields continued with ``+ `` lines, so that the text is already a GNU
recutils record and ``recsel -P inputs`` prints the inputs::

    name: /gnu/store/…-hello-2.12.1.tar.gz.drv
    outputs:
    + /gnu/store/…-hello-2.12.1.tar.gz   [out]
    hash: 086vqwk2wl8zfs47sq2xpjc9k066ilmb8z6dn0q6ymwjzlm196cd
    hash_algo: sha256
    inputs:
    + /gnu/store/…-glibc-2.35.drv   [out,static]
    sources:
    + /gnu/store/…-mirrors
    system: x86_64-linux
    builder:
    + builtin:download
    environment:
    + impureEnvVars: http_proxy https_proxy LC_ALL LC_MESSAGES LANG COLUMNS
    + url: "mirror://gnu/hello/hello-2.12.1.tar.gz"

The two text forms differ only in values that span several lines (build
phases, scripts in arguments): the human *text* continues them on indented
lines under the value; *recutils* keeps one line per entry by escaping
backslash, newline, carriage return and tab as in a ``.drv`` file, so every
entry stays one ``+`` line and the record is exact and machine-readable.

Everything here returns plain strings or JSON-ready values, so the command
line and the app's Derivation tab share it; styling is the caller's business
(:func:`record_fields` gives the structure for that).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from revive.core import base32
from revive.core.derivation import Derivation

__all__ = [
    "Entry",
    "Field",
    "record_fields",
    "render_text",
    "render_recutils",
    "derivation_json",
    "show_derivation_json",
]

_NOTE_GAP: Final = 3
"""Spaces between the longest path of a list and its ``[outputs]`` column."""
_RECUTILS_ESCAPES: Final = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


@dataclass(frozen=True, slots=True)
class Entry:
    """One ``+`` line of a list field."""

    text: str
    """The path, argument, or ``key`` of an environment entry."""
    note: str = ""
    """Output names (``[out,static]``), shown in an aligned column; may be empty."""
    value: str | None = None
    """For environment entries, the value (``text`` is then the key)."""


@dataclass(frozen=True, slots=True)
class Field:
    """One field of the record: a single-line ``value`` or a list of ``entries``."""

    name: str
    """Field name, a valid recutils field name (``outputs``, ``hash_algo``…)."""
    value: str | None = None
    """The value of a one-line field (``None`` for a list field)."""
    entries: tuple[Entry, ...] = ()
    """The lines of a list field."""


def record_fields(path: str, drv: Derivation) -> tuple[Field, ...]:
    """The fields of the record of ``drv`` stored at ``path``, in display order."""
    fields = [
        Field("name", path),
        Field("outputs", entries=tuple(Entry(o.path, f"[{o.name}]") for o in drv.outputs)),
    ]
    fixed = drv.fixed_output
    if fixed is not None:
        fields.append(Field("hash", _nix_base32(fixed.hash)))
        fields.append(Field("hash_algo", fixed.hash_algo))
    fields.append(
        Field(
            "inputs",
            entries=tuple(Entry(p, f"[{','.join(outs)}]") for p, outs in drv.input_drvs),
        )
    )
    fields.append(Field("sources", entries=tuple(Entry(s) for s in drv.input_srcs)))
    fields.append(Field("system", drv.system))
    fields.append(Field("builder", entries=(Entry(drv.builder), *(Entry(a) for a in drv.args))))
    fields.append(Field("environment", entries=tuple(Entry(k, "", v) for k, v in drv.env)))
    return tuple(fields)


def _nix_base32(hex_digest: str) -> str:
    try:
        return base32.encode(bytes.fromhex(hex_digest))
    except ValueError:  # not hex: show it as written
        return hex_digest


def render_text(path: str, drv: Derivation) -> str:
    """The human-readable record (multi-line values continued on indented lines)."""
    return _render(record_fields(path, drv), escape=False)


def render_recutils(path: str, drv: Derivation) -> str:
    """The record in GNU recutils syntax (one ``+`` line per entry, values escaped)."""
    return _render(record_fields(path, drv), escape=True)


def _render(fields: Iterable[Field], *, escape: bool) -> str:
    lines: list[str] = []
    for field in fields:
        if field.value is not None:
            value = field.value.translate(_RECUTILS_ESCAPES) if escape else field.value
            lines.extend(_continued(f"{field.name}: ", value))
            continue
        lines.append(f"{field.name}:")
        width = max((len(e.text) for e in field.entries if e.note), default=0)
        for entry in field.entries:
            if entry.value is not None:
                value = entry.value.translate(_RECUTILS_ESCAPES) if escape else entry.value
                lines.extend(_continued(f"+ {entry.text}: ", value))
            elif entry.note:
                text = entry.text.translate(_RECUTILS_ESCAPES) if escape else entry.text
                lines.append(f"+ {text.ljust(width + _NOTE_GAP)}{entry.note}")
            else:
                text = entry.text.translate(_RECUTILS_ESCAPES) if escape else entry.text
                lines.extend(_continued("+ ", text))
    return "\n".join(lines) + "\n"


def _continued(prefix: str, value: str) -> list[str]:
    """``prefix + value``, with the value's further lines indented under its start."""
    first, *rest = value.split("\n")
    indent = " " * len(prefix)
    return [prefix + first, *(indent + line for line in rest)]


def derivation_json(drv: Derivation) -> dict[str, Any]:
    """``drv`` in the shape of one entry of ``nix show-derivation`` (Nix 2.8)."""
    outputs: dict[str, dict[str, str]] = {}
    for out in drv.outputs:
        entry = {"path": out.path}
        if out.hash_algo or out.hash:
            entry["hashAlgo"] = out.hash_algo
            entry["hash"] = out.hash
        outputs[out.name] = entry
    return {
        "outputs": outputs,
        "inputSrcs": list(drv.input_srcs),
        "inputDrvs": {path: list(outs) for path, outs in drv.input_drvs},
        "system": drv.system,
        "builder": drv.builder,
        "args": list(drv.args),
        "env": dict(drv.env),
    }


def show_derivation_json(items: Iterable[tuple[str, Derivation]]) -> dict[str, Any]:
    """``{drv path: derivation_json(drv)}`` for several derivations, as Nix prints them."""
    return {path: derivation_json(drv) for path, drv in items}
