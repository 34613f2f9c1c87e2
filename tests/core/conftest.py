"""Fixtures for the derivation-core tests: corpus cases as parameters, trees built from vectors.

Data-driven tests name a parameter and get one test per case, with the case
as the test id (``test_round_trip[03lvdchx…-gmp-6.1.2.tar.xz.drv]``):

* ``guix2020_file``: each ``.drv`` file of ``guix-2020/store``;
* ``nix_derivation``: each ``(case, store_dir)`` of ``nix-oracle`` ``derivations``;
* ``nar_vector``: each ``files`` entry of ``nix-oracle`` (a file or tree).

The cases are listed at collection time, so the corpus location is worked out
here the same way as in the top-level ``conftest.py``.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from revive.core.aterm import read_derivation
from revive.core.derivation import Derivation

_ROOT = Path(__file__).resolve().parents[2]
_CORPUS = Path(os.environ.get("GUIX_REVIVE_SHARED", _ROOT.parent / "shared")) / "corpus"
STORE_DIRS = ("/nix/store", "/gnu/store")
"""The two store dirs every Nix vector was produced for."""


def _vectors() -> dict[str, Any]:
    path = _CORPUS / "nix-oracle" / "vectors.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize corpus-driven tests by the parameter names they ask for."""
    names = metafunc.fixturenames
    if "guix2020_file" in names:
        store = _CORPUS / "guix-2020" / "store"
        files = sorted(store.glob("*.drv")) if store.is_dir() else []
        metafunc.parametrize("guix2020_file", files, ids=[f.name for f in files])
    if "nix_derivation" in names:
        cases = [
            (case, store_dir)
            for case in _vectors().get("derivations", [])
            for store_dir in STORE_DIRS
        ]
        metafunc.parametrize("nix_derivation", cases, ids=[f"{c['name']}@{d}" for c, d in cases])
    if "nar_vector" in names:
        entries = _vectors().get("files", [])
        metafunc.parametrize("nar_vector", entries, ids=[e["name"] for e in entries])


@pytest.fixture(scope="session")
def guix2020_derivations(guix2020_store: Path) -> dict[str, Derivation]:
    """Every corpus ``.drv`` parsed, keyed by its logical store path."""
    return {
        f"/gnu/store/{file.name}": read_derivation(str(file), f"/gnu/store/{file.name}")
        for file in sorted(guix2020_store.glob("*.drv"))
    }


@pytest.fixture(scope="session")
def build_vector_tree() -> Callable[[dict[str, Any], Path], Path]:
    """Return ``build(entry, parent)``: recreate a vector's file or tree under ``parent``.

    Regular files get their contents and the executable bit (0o755, else
    0o644); symlinks their target, verbatim (dangling and absolute ones too);
    directories are created empty. Returns the path of the top-level item.
    """

    def build(entry: dict[str, Any], parent: Path) -> Path:
        top = parent / entry["store_path_name"]
        for item in entry["entries"]:
            path = top / item["path"] if item["path"] else top
            kind = item["type"]
            if kind == "directory":
                path.mkdir(parents=True, exist_ok=True)
            elif kind == "symlink":
                path.parent.mkdir(parents=True, exist_ok=True)
                path.symlink_to(item["target"])
            else:
                assert kind == "regular", kind
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(base64.b64decode(item["contents_b64"]))
                path.chmod(0o755 if item["executable"] else 0o644)
        if entry["kind"] == "directory":
            top.mkdir(exist_ok=True)
        return top

    return build
