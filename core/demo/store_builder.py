"""Write store items and ``.drv`` files with the paths Guix would give them.

The demo store is built bottom-up, the way a Guix client lowers packages:
plain files and trees are "added to the store" (``source`` paths), scripts
and mirror lists are text items, and each derivation gets its output paths
from :mod:`revive.core.derivation_hash` and is written with
:func:`revive.core.aterm.serialize_derivation` under its ``.drv`` text path.
Items are written once, read-only, with modification time 1 like in a real
store; an item that already exists is content-addressed, hence identical,
and is left alone.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from revive.core.aterm import serialize_derivation
from revive.core.demo.archive import Tree
from revive.core.derivation import Derivation, InputDrv, Output
from revive.core.derivation_hash import DerivationHasher, drv_path
from revive.core.nar import nar_hash
from revive.core.store_path import (
    DEFAULT_STORE_DIR,
    fixed_output_path,
    make_store_path,
    name_part,
    output_path_name,
    source_path,
    text_path,
    validate_name,
)

__all__ = ["Fixed", "StoreBuilder", "write_tree", "make_read_only"]

_SYSTEM = "x86_64-linux"


@dataclass(frozen=True, slots=True)
class Fixed:
    """The expected hash of a fixed-output derivation."""

    algorithm: str
    """Hash algorithm name (``sha256``)."""
    digest: bytes
    """Raw digest of the content (flat) or of its NAR (recursive)."""
    recursive: bool
    """True for a NAR hash (directories, executables)."""


def write_tree(root: Path, tree: Tree) -> None:
    """Create ``root`` as a directory holding the files of ``tree``."""
    root.mkdir(parents=True, exist_ok=True)
    for relative, entry in sorted(tree.items()):
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(entry.data)
        target.chmod(0o755 if entry.executable else 0o644)


def make_read_only(path: Path) -> None:
    """Give ``path`` (recursively) store permissions and modification time 1."""
    if path.is_dir() and not path.is_symlink():
        for child in sorted(path.iterdir()):
            make_read_only(child)
        path.chmod(0o555)
    elif not path.is_symlink():
        path.chmod(0o555 if path.stat().st_mode & 0o100 else 0o444)
    os.utime(path, (1, 1), follow_symlinks=False)


class StoreBuilder:
    """Adds items to a physical directory that stands for ``store_dir``.

    Args:
        physical: the directory the items are written to.
        scratch: a directory for temporary files (same file system).
        store_dir: the logical store directory the paths are computed for.
    """

    def __init__(self, physical: Path, scratch: Path, store_dir: str = DEFAULT_STORE_DIR) -> None:
        self.physical = physical
        """Where the items are written."""
        self.store_dir = store_dir
        """The logical store directory."""
        self.derivations: dict[str, Derivation] = {}
        """Every derivation written so far, by ``.drv`` path."""
        self._scratch = scratch
        self._counter = 0
        self._hasher = DerivationHasher(self.derivations)
        physical.mkdir(parents=True, exist_ok=True)
        scratch.mkdir(parents=True, exist_ok=True)

    # --- plain items ----------------------------------------------------------

    def physical_path(self, store_path: str) -> Path:
        """The file that holds ``store_path`` in the physical directory."""
        return self.physical / store_path[len(self.store_dir) + 1 :]

    def text(self, name: str, contents: str, references: Iterable[str] = ()) -> str:
        """Add a text item (``add-text-to-store``) and return its path."""
        validate_name(name)
        data = contents.encode()
        path = text_path(name, data, references, self.store_dir)
        target = self.physical_path(path)
        if not target.exists():
            temp = self._temp()
            temp.write_bytes(data)
            self._install(temp, target)
        return path

    def source_file(self, name: str, data: bytes, executable: bool = False) -> str:
        """Add one file recursively with SHA-256 (``add-to-store``, a ``source`` path)."""
        validate_name(name)
        temp = self._temp()
        temp.write_bytes(data)
        temp.chmod(0o755 if executable else 0o644)
        return self._add_source(name, temp)

    def source_tree(self, name: str, tree: Tree) -> str:
        """Add a directory recursively with SHA-256 and return its ``source`` path."""
        validate_name(name)
        temp = self._temp()
        write_tree(temp, tree)
        return self._add_source(name, temp)

    def _add_source(self, name: str, temp: Path) -> str:
        path = source_path(name, nar_hash(temp), self.store_dir)
        target = self.physical_path(path)
        if target.exists():
            shutil.rmtree(temp) if temp.is_dir() else temp.unlink()
        else:
            self._install(temp, target)
        return path

    def _temp(self) -> Path:
        self._counter += 1
        return self._scratch / f"item-{self._counter}"

    @staticmethod
    def _install(temp: Path, target: Path) -> None:
        make_read_only(temp)
        os.rename(temp, target)

    # --- derivations ----------------------------------------------------------

    def derivation(
        self,
        name: str,
        *,
        builder: str,
        args: Sequence[str] = (),
        inputs: Iterable[tuple[str, Iterable[str]]] = (),
        sources: Iterable[str] = (),
        env: Mapping[str, str] | None = None,
        outputs: Sequence[str] = ("out",),
        fixed: Fixed | None = None,
        system: str = _SYSTEM,
    ) -> str:
        """Compute a derivation's output paths, write its ``.drv``, return its path.

        ``inputs`` are ``(drv_path, output_names)`` pairs (merged when a
        ``.drv`` appears twice); ``env`` must not name the outputs: they are
        added with their computed paths. Everything is put in canonical order.
        """
        validate_name(name + ".drv")
        merged: dict[str, set[str]] = {}
        for path, names in inputs:
            if path not in self.derivations:
                raise KeyError(f"{path}: input derivation not written yet")
            merged.setdefault(path, set()).update(names)
        input_drvs: tuple[InputDrv, ...] = tuple(
            (path, tuple(sorted(names))) for path, names in sorted(merged.items())
        )
        input_srcs = tuple(sorted(set(sources)))
        base_env = dict(env or {})
        if fixed is not None:
            if tuple(outputs) != ("out",):
                raise ValueError("a fixed-output derivation has exactly one output, out")
            out_path = fixed_output_path(
                name, fixed.algorithm, fixed.digest, fixed.recursive, self.store_dir
            )
            algo = ("r:" if fixed.recursive else "") + fixed.algorithm
            final_outputs: tuple[Output, ...] = (Output("out", out_path, algo, fixed.digest.hex()),)
            paths = {"out": out_path}
        else:
            blank = Derivation(
                name=name,
                outputs=tuple(Output(o, "") for o in sorted(outputs)),
                input_drvs=input_drvs,
                input_srcs=input_srcs,
                system=system,
                builder=builder,
                args=tuple(args),
                env=_sorted_env({**base_env, **{o: "" for o in outputs}}),
            )
            inner = self._hasher.hash_modulo(blank)
            paths = {
                o: make_store_path("output:" + o, inner, output_path_name(name, o), self.store_dir)
                for o in outputs
            }
            final_outputs = tuple(Output(o, paths[o]) for o in sorted(outputs))
        drv = Derivation(
            name=name,
            outputs=final_outputs,
            input_drvs=input_drvs,
            input_srcs=input_srcs,
            system=system,
            builder=builder,
            args=tuple(args),
            env=_sorted_env({**base_env, **paths}),
        )
        path = drv_path(drv, self.store_dir)
        self.derivations[path] = drv
        target = self.physical_path(path)
        if not target.exists():
            temp = self._temp()
            temp.write_bytes(serialize_derivation(drv).encode())
            self._install(temp, target)
        return path

    def output(self, drv_path: str, output: str = "out") -> str:
        """The path of output ``output`` of the derivation written at ``drv_path``."""
        found = self.derivations[drv_path].output_path(output)
        if found is None:
            raise KeyError(f"{name_part(drv_path)} has no output {output!r}")
        return found


def _sorted_env(env: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(env.items(), key=lambda item: item[0].encode()))
