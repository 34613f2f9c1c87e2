"""Derivation hashes modulo fixed-output derivations, and the paths they give.

``guix-derivations.md`` §3: a FOD stands for itself only through its output
tuple, so rewriting how it fetches changes no output path downstream. A
regular derivation is hashed with each input ``.drv`` path replaced by that
input's own hash modulo, computed recursively and memoised here per path.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping

from revive.core.aterm import serialize_derivation
from revive.core.derivation import Derivation, InputDrv, Output
from revive.core.errors import StoreError
from revive.core.store_path import (
    DEFAULT_STORE_DIR,
    fixed_output_path,
    make_store_path,
    output_path_name,
    text_path,
)

__all__ = [
    "DerivationHasher",
    "masked",
    "drv_path",
    "expected_output_paths",
    "fixed_output_expected_path",
]


def masked(drv: Derivation) -> Derivation:
    """``drv`` with every output path and every output-named env value blanked."""
    names = set(drv.output_names)
    return drv.evolve(
        outputs=tuple(Output(o.name, "", o.hash_algo, o.hash) for o in drv.outputs),
        env=tuple((k, "" if k in names else v) for k, v in drv.env),
    )


def drv_path(drv: Derivation, store_dir: str = DEFAULT_STORE_DIR) -> str:
    """The store path of ``drv``'s own ``.drv`` file (a text item, §1.8)."""
    # Without input derivations (every FOD) the references are the input
    # sources alone: no need to build drv.references (text_path de-duplicates).
    return text_path(
        drv.name + ".drv",
        serialize_derivation(drv).encode(),
        drv.references if drv.input_drvs else drv.input_srcs,
        store_dir,
    )


def fixed_output_expected_path(drv: Derivation, store_dir: str = DEFAULT_STORE_DIR) -> str:
    """Output path a FOD must have, from its name and expected hash (§1.7).

    Raises:
        ValueError: ``drv`` is not fixed-output or its digest is not hex.
    """
    out = drv.fixed_output
    if out is None:
        raise ValueError(f"{drv.name} is not a fixed-output derivation")
    return fixed_output_path(
        drv.name, out.algorithm, bytes.fromhex(out.hash), out.recursive, store_dir
    )


class DerivationHasher:
    """Computes ``hash_modulo`` over a closure, memoised by ``.drv`` path.

    Args:
        lookup: returns the parsed derivation stored at a ``.drv`` path
            (raise ``KeyError`` or a :class:`~revive.core.errors.ReviveError`
            when it is missing).
    """

    def __init__(self, lookup: Callable[[str], Derivation] | Mapping[str, Derivation]) -> None:
        self._lookup: Callable[[str], Derivation] = (
            lookup.__getitem__ if isinstance(lookup, Mapping) else lookup
        )
        self._memo: dict[str, bytes] = {}

    def hash_of_path(self, path: str) -> bytes:
        """``hash_modulo`` of the derivation stored at ``path`` (as stored).

        Raises:
            StoreError: the ``.drv`` files refer to each other in a cycle
                (impossible for real store items, so the store is corrupt).
        """
        cached = self._memo.get(path)
        if cached is not None:
            return cached
        # Iterative post-order walk: closures are deep (bootstrap chains of
        # hundreds of levels), so recursion could hit Python's limit.
        stack: list[tuple[str, bool]] = [(path, False)]
        # Nodes whose inputs are being hashed: everything above such a node on
        # the stack descends from it, so meeting it again means a cycle (which
        # would otherwise grow the stack forever).
        pending: set[str] = set()
        while stack:
            current, ready = stack.pop()
            if current in self._memo:
                continue
            drv = self._lookup(current)
            if drv.is_fixed_output:
                self._memo[current] = self.hash_modulo(drv)
                continue
            if ready:
                self._memo[current] = self.hash_modulo(drv)
                pending.discard(current)
                continue
            if current in pending:
                raise StoreError(f"{current}: dependency cycle (the derivation depends on itself)")
            pending.add(current)
            stack.append((current, True))
            for input_path, _ in drv.input_drvs:
                if input_path not in self._memo:
                    stack.append((input_path, False))
        return self._memo[path]

    def hash_modulo(self, drv: Derivation) -> bytes:
        """``hash_modulo(drv)`` (§3.1); inputs are looked up and memoised."""
        out = drv.fixed_output
        if out is not None:
            tag = f"fixed:out:{out.hash_algo}:{out.hash}:{out.path}"
            return hashlib.sha256(tag.encode()).digest()
        replaced: dict[str, tuple[str, ...]] = {}
        for input_path, outputs in drv.input_drvs:
            key = self.hash_of_path(input_path).hex()
            previous = replaced.get(key)
            replaced[key] = (
                outputs if previous is None else tuple(sorted(set(previous) | set(outputs)))
            )
        inputs: tuple[InputDrv, ...] = tuple(sorted(replaced.items()))
        text = serialize_derivation(drv.evolve(input_drvs=inputs))
        return hashlib.sha256(text.encode()).digest()

    def output_paths(self, drv: Derivation, store_dir: str = DEFAULT_STORE_DIR) -> dict[str, str]:
        """The output paths ``drv`` must have, by output name (§1.9, §1.7)."""
        if drv.is_fixed_output:
            return {"out": fixed_output_expected_path(drv, store_dir)}
        inner = self.hash_modulo(masked(drv))
        return {
            o.name: make_store_path(
                "output:" + o.name, inner, output_path_name(drv.name, o.name), store_dir
            )
            for o in drv.outputs
        }


def expected_output_paths(
    drv: Derivation,
    lookup: Callable[[str], Derivation] | Mapping[str, Derivation],
    store_dir: str = DEFAULT_STORE_DIR,
) -> dict[str, str]:
    """Output paths of ``drv`` computed from scratch (no shared memo)."""
    return DerivationHasher(lookup).output_paths(drv, store_dir)
