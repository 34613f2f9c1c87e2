"""guix-revive's core library: read, verify, rewrite and fetch Guix derivations.

Pure Python, no user interface: nothing here imports Textual or Rich.

The names below are the library's main entry points. Each is imported
from its module on first use: ``import revive.core`` runs first for every
``import revive.core.x``, and importing all of these at once takes about
0.2 s (the fetch modules with their grammars, the diff), which a command
that needs none of them should not pay.
"""

from __future__ import annotations

import importlib

# Not typing.TYPE_CHECKING: importing typing would be this module's only
# cost (type checkers treat a TYPE_CHECKING constant the same way).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from revive.core.aterm import parse_derivation, read_derivation, serialize_derivation
    from revive.core.closure import load_closure
    from revive.core.derivation import Derivation, Output
    from revive.core.derivation_hash import DerivationHasher, drv_path
    from revive.core.diff import diff_derivations
    from revive.core.errors import (
        DerivationError,
        MissingStoreItem,
        ParseError,
        ReviveError,
        SchemeError,
        StoreError,
    )
    from revive.core.fetch.classify import classify
    from revive.core.fetch.extract import extract_fetch_spec
    from revive.core.fetch.rewrite import rewrite
    from revive.core.graph import DerivationGraph
    from revive.core.nar import nar_hash
    from revive.core.store_dir import StoreDir

__all__ = [
    "Derivation",
    "Output",
    "parse_derivation",
    "read_derivation",
    "serialize_derivation",
    "drv_path",
    "DerivationHasher",
    "StoreDir",
    "load_closure",
    "DerivationGraph",
    "classify",
    "extract_fetch_spec",
    "rewrite",
    "diff_derivations",
    "nar_hash",
    "ReviveError",
    "ParseError",
    "DerivationError",
    "SchemeError",
    "StoreError",
    "MissingStoreItem",
]

_HOME: dict[str, str] = {
    "Derivation": "revive.core.derivation",
    "Output": "revive.core.derivation",
    "parse_derivation": "revive.core.aterm",
    "read_derivation": "revive.core.aterm",
    "serialize_derivation": "revive.core.aterm",
    "drv_path": "revive.core.derivation_hash",
    "DerivationHasher": "revive.core.derivation_hash",
    "StoreDir": "revive.core.store_dir",
    "load_closure": "revive.core.closure",
    "DerivationGraph": "revive.core.graph",
    "classify": "revive.core.fetch.classify",
    "extract_fetch_spec": "revive.core.fetch.extract",
    "rewrite": "revive.core.fetch.rewrite",
    "diff_derivations": "revive.core.diff",
    "nar_hash": "revive.core.nar",
    "ReviveError": "revive.core.errors",
    "ParseError": "revive.core.errors",
    "DerivationError": "revive.core.errors",
    "SchemeError": "revive.core.errors",
    "StoreError": "revive.core.errors",
    "MissingStoreItem": "revive.core.errors",
}
"""The module defining each name of :data:`__all__`."""


def __getattr__(name: str) -> object:
    """The public name ``name``, imported from its module on first use.

    Raises:
        AttributeError: ``name`` is not public here (``from revive.core
            import submodule`` relies on this to fall back to importing it).
    """
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'revive.core' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    # Cached as a module attribute: later look-ups skip this function. The
    # value is a function or class of the library, not user data.
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The public names and the submodules imported so far."""
    submodules = (
        name
        for name, value in globals().items()
        if getattr(value, "__name__", "") == f"{__name__}.{name}"
    )
    return sorted({*__all__, *submodules})
