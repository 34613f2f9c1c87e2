"""The narinfo format: ``Key: Value`` lines describing one store item on a substitute server.

A server has ``<base>/<hash part>.narinfo`` for each item it can
substitute: ``StorePath``, ``URL`` (of the nar, relative to the base),
``Compression``, ``FileHash``/``FileSize`` (of the compressed nar),
``NarHash``/``NarSize`` (of the nar itself), ``References``, ``Deriver``,
``Sig`` (may repeat) and others. Guix's servers may list several
``URL``/``Compression``/``FileSize`` triples (one per compression).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NarInfo", "NarInfoError", "parse_narinfo"]


class NarInfoError(ValueError):
    """Text that is not a narinfo."""


@dataclass(frozen=True, slots=True)
class NarInfo:
    """The fields a probe needs from a narinfo."""

    store_path: str
    """``StorePath``: the item described."""
    urls: tuple[str, ...]
    """``URL`` values: where the (compressed) nars are, relative to the server."""
    compressions: tuple[str, ...]
    """``Compression`` values, in the same order."""
    nar_hash: str
    """``NarHash`` (``sha256:<nix-base32>``)."""
    nar_size: int
    """``NarSize``: the uncompressed nar's size in bytes."""


def parse_narinfo(text: str) -> NarInfo:
    """Read a narinfo.

    Raises:
        NarInfoError: a line is not ``Key: Value``, or ``StorePath``, ``URL``,
            ``NarHash`` or ``NarSize`` is missing, or ``NarSize`` is not a number.
    """
    fields: dict[str, list[str]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        key, sep, value = line.partition(": ")
        if not sep or not key or " " in key:
            raise NarInfoError(f"line {number}: not 'Key: Value': {line[:60]!r}")
        fields.setdefault(key, []).append(value.strip())
    for required in ("StorePath", "URL", "NarHash", "NarSize"):
        if required not in fields:
            raise NarInfoError(f"no {required} field")
    size = fields["NarSize"][0]
    if not size.isdigit():
        raise NarInfoError(f"NarSize is not a number: {size!r}")
    return NarInfo(
        store_path=fields["StorePath"][0],
        urls=tuple(fields["URL"]),
        compressions=tuple(fields.get("Compression", ())),
        nar_hash=fields["NarHash"][0],
        nar_size=int(size),
    )
