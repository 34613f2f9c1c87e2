"""Read root ``.drv`` paths computed elsewhere (``guix-revive env --roots FILE|-``).

The format is what ``guix build -d`` prints: one store path per line. Blank
lines and lines starting with ``#`` are skipped, so a hand-annotated list
works too. Anything else is an error naming the file and line.
"""

from __future__ import annotations

from revive.core.errors import ParseError
from revive.core.store_path import is_store_path

__all__ = ["parse_roots"]


def parse_roots(text: str, source: str = "<roots>") -> tuple[str, ...]:
    """The ``.drv`` paths listed in ``text``, in order, without repeats.

    Args:
        text: the file's contents.
        source: its name for error messages (``-`` for standard input).

    Raises:
        ParseError: a line is not the store path of a ``.drv``, or there is none.
    """
    roots: dict[str, None] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not (is_store_path(line) and line.endswith(".drv")):
            column = len(raw) - len(raw.lstrip()) + 1
            raise ParseError(f"not the store path of a .drv: {line!r}", source, number, column)
        roots.setdefault(line, None)
    if not roots:
        raise ParseError("no .drv path in the file", source)
    return tuple(roots)
