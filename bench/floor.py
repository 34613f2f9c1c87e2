"""The read floor the loading benchmarks measure against: every file read once, and no more.

``bench/load.py`` and ``bench/parsers.py`` both report a reader's time as a
ratio to this floor, so they share one definition of it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path


def os_read_each(files: Iterable[str | Path]) -> None:
    """Read up to 64 KiB of every file with one ``os.read`` (a ``.drv`` file is smaller)."""
    for file in files:
        fd = os.open(file, os.O_RDONLY)
        try:
            os.read(fd, 1 << 16)
        finally:
            os.close(fd)
