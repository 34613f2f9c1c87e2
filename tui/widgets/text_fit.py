"""Fit a label into the cells it has: shorten it from the middle.

Names like ``python-scikit-learn-0.22.1-checkout`` differ at both ends (the
package and the version, the kind of item), so a label that does not fit
loses its middle, not its end; what follows the name on a line (status,
badge, failure reason) is never the part that is cut.
"""

from __future__ import annotations

__all__ = ["shorten_middle"]

ELLIPSIS = "…"


def shorten_middle(text: str, width: int) -> str:
    """``text`` in at most ``width`` cells, its middle replaced by ``…`` if too long.

    The end keeps one character less than the start when the split is odd
    (the version at the end is usually shorter than the name at the start).
    """
    if len(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS[:width]
    keep = width - 1
    head = (keep + 1) // 2
    tail = keep - head
    return text[:head] + ELLIPSIS + (text[-tail:] if tail else "")
