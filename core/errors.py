"""The exceptions guix-revive raises.

Every error the user can cause (a bad file, a missing store item, a fetch that
fails) is a :class:`ReviveError`, and renders as one line. Parse errors carry
the file, line and column of the first offending character.
"""

from __future__ import annotations

__all__ = [
    "ReviveError",
    "ParseError",
    "DerivationError",
    "SchemeError",
    "StoreError",
    "MissingStoreItem",
    "position_of",
]


class ReviveError(Exception):
    """Root of every error guix-revive raises on purpose."""


class ParseError(ReviveError):
    """Malformed input, located at ``path:line:column`` (1-based).

    ``str(error)`` is the one-line form ``"{path}:{line}:{column}: {message}"``.
    """

    def __init__(self, message: str, path: str, line: int = 1, column: int = 1) -> None:
        self.message = message
        """What is wrong, without the location."""
        self.path = path
        """The file (or a description such as ``<string>``) being read."""
        self.line = line
        """1-based line number of the error."""
        self.column = column
        """1-based column number (in characters) of the error."""
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.message, self.path, self.line, self.column))


class DerivationError(ParseError):
    """A ``.drv`` file that cannot be read or is not a valid ``Derive(...)`` term."""


class SchemeError(ParseError):
    """A Scheme datum (builder script, Scheme-written env value) that cannot be read."""


class StoreError(ReviveError):
    """A store operation that failed (cannot write, invalid item, hash mismatch...)."""


class MissingStoreItem(StoreError):
    """A store item needed to answer a question is not present in the store."""

    def __init__(self, path: str, why: str = "") -> None:
        self.path = path
        """The logical store path that is missing."""
        self.why = why
        """What needed it (may be empty)."""
        detail = f" (needed to {why})" if why else ""
        super().__init__(f"{path}: not in the store{detail}")

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.path, self.why))


def position_of(text: str, offset: int) -> tuple[int, int]:
    """Return the 1-based ``(line, column)`` of character ``offset`` in ``text``."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    start = text.rfind("\n", 0, offset) + 1
    return line, offset - start + 1
