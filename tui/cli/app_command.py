"""``guix-revive [ROOT.drv…]``: open the Textual app."""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["run_app"]


def run_app(argv: Sequence[str]) -> int:
    """Parse the app's arguments and run it; returns the exit status."""
    print(
        "guix-revive: the interactive app is not built yet (issue 5); "
        "use a report command: guix-revive --help",
        file=sys.stderr,
    )
    return 2
