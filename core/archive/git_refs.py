"""A git repository's refs over HTTP, as ``git ls-remote`` reads them (no ``git`` needed).

``GET <repo>/info/refs?service=git-upload-pack`` answers, on a "smart"
server, a pkt-line ref advertisement: a ``# service=git-upload-pack``
line and a flush packet, then ``<oid> <ref>[\\0<capabilities>]`` lines
(annotated tags followed by ``<oid> <ref>^{}``, the commit they point
to), then a flush. A "dumb" server serves the plain ``<oid>\\t<ref>``
lines of its ``info/refs`` file instead. Both are read here, so that
probing thousands of git sources costs one HTTP request each rather than
one ``git`` process each.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["RefsError", "parse_ref_advertisement", "parse_ls_remote", "has_revision"]


class RefsError(ValueError):
    """A reply that is not a ref advertisement."""


def parse_ref_advertisement(body: bytes) -> dict[str, str]:
    """Refs (``refs/heads/…``, ``refs/tags/…``, ``HEAD``; peeled ``…^{}``) → object id.

    Raises:
        RefsError: neither a pkt-line advertisement nor a dumb ``info/refs``.
    """
    if not body:
        return {}
    if body[:4].isalnum() and all(chr(c) in "0123456789abcdef" for c in body[:4]):
        try:
            return _parse_pkt_lines(body)
        except RefsError:
            if b"\t" not in body:
                raise
    return parse_ls_remote(body.decode("utf-8", "replace"))


def _parse_pkt_lines(body: bytes) -> dict[str, str]:
    refs: dict[str, str] = {}
    position = 0
    while position < len(body):
        try:
            length = int(body[position : position + 4], 16)
        except ValueError:
            raise RefsError(f"bad pkt-line length at byte {position}") from None
        if length == 0:
            position += 4
            continue
        if length < 4 or position + length > len(body):
            raise RefsError(f"truncated pkt-line at byte {position}")
        line = body[position + 4 : position + length].rstrip(b"\n")
        position += length
        if line.startswith(b"#"):
            continue
        line = line.split(b"\0", 1)[0]
        oid, _, ref = line.decode("utf-8", "replace").partition(" ")
        if not ref or ref == "capabilities^{}":
            continue
        refs[ref] = oid
    return refs


def parse_ls_remote(text: str) -> dict[str, str]:
    """``<oid>\\t<ref>`` lines (``git ls-remote``'s output, a dumb ``info/refs``) → refs.

    Raises:
        RefsError: a non-empty line of another shape.
    """
    refs: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        oid, sep, ref = line.partition("\t")
        if not sep:
            raise RefsError(f"not '<oid>\\t<ref>': {line[:60]!r}")
        refs[ref.strip()] = oid.strip()
    return refs


def has_revision(refs: Mapping[str, str], revision: str) -> str | None:
    """The ref that names ``revision`` (a commit id at a tip, or a tag or branch name)."""
    lowered = revision.lower()
    for ref, oid in refs.items():
        if oid == lowered:
            return ref.removesuffix("^{}")
    for ref in (revision, f"refs/tags/{revision}", f"refs/heads/{revision}"):
        if ref in refs:
            return ref
    return None
