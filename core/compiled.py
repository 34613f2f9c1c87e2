"""The optional compiled module, ``revive.core._drv_scan`` (``core/_drv_*.c``).

It is built by ``setup.py`` when the package is installed where a C compiler
is present, and does the hot things several times faster than Python:
reading ``.drv`` terms (:func:`revive.core.drv_scan.scan_bytes`), building
:class:`~revive.core.derivation.Derivation` objects from what was read
(:meth:`~revive.core.derivation.Derivation.from_fields`), the loop of
loading a closure (:mod:`revive.core.closure`) and the walk and hashing of
verifying one (:mod:`revive.core.verify`). Everything it does
has a pure-Python twin giving the same values, used when the module is
missing or when ``GUIX_REVIVE_PURE_PYTHON`` is set in the environment (to
measure or debug the fallback).
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import Final

__all__ = ["MODULE", "COMPILED", "PURE_PYTHON_VARIABLE"]

PURE_PYTHON_VARIABLE: Final = "GUIX_REVIVE_PURE_PYTHON"
"""Set (non-empty) in the environment, it turns the compiled module off."""


def _load() -> ModuleType | None:
    if os.environ.get(PURE_PYTHON_VARIABLE):
        return None
    try:
        from revive.core import _drv_scan
    except ImportError:  # installed without a C compiler
        return None
    return _drv_scan


MODULE: Final = _load()
"""The compiled module, or ``None`` (missing or turned off)."""
COMPILED: Final = MODULE is not None
"""True when the compiled module is used."""
