"""The fetch badge of a download: its method in a colour of its own, then its era.

The tree and the list of downloads draw the same badge (``git·script``):
the method as a chip whose colour tells the seven fetch methods apart at a
glance, the era after it (``builtin`` quiet, ``script``, the usual failure,
in the warning colour). Colours are theme variables only, so every theme
works.
"""

from __future__ import annotations

from typing import Final

__all__ = ["BADGE_PARTS", "badge_css", "method_part"]

_METHOD_STYLES: Final = {
    "url": "color: $text-primary; background: $primary-muted;",
    "url-exec": "color: $text-primary; background: $primary-muted; text-style: italic;",
    "git": "color: $text-accent; background: $accent-muted;",
    "svn": "color: $text-secondary; background: $secondary-muted;",
    "hg": "color: $text-success; background: $success-muted;",
    "bzr": "color: $warning; text-style: reverse;",
    "cvs": "color: $text-error; background: $error-muted;",
    "other": "color: $text-muted; background: $boost;",
    "builtin": "color: $text-muted;",
    "script": "color: $text-warning; text-style: italic;",
}
"""CSS of each badge part: one per method family, then the two eras."""

BADGE_PARTS: Final = tuple(_METHOD_STYLES)
"""Suffixes of the badge component classes (``<widget>--badge-<part>``)."""

_METHOD_PART: Final = {
    "url": "url",
    "url/exec": "url-exec",
    "git": "git",
    "svn": "svn",
    "svn-multi": "svn",
    "hg": "hg",
    "bzr": "bzr",
    "cvs": "cvs",
}


def method_part(method: str) -> str:
    """The badge part (class suffix) of the method word of a badge (``svn-multi`` → ``svn``)."""
    return _METHOD_PART.get(method, "other")


def badge_css(prefix: str) -> str:
    """The rules styling the badge component classes of widget class prefix ``prefix``."""
    return "\n".join(
        f"& > .{prefix}--badge-{part} {{ {style} }}" for part, style in _METHOD_STYLES.items()
    )
