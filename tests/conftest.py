"""Shared fixtures: where the corpus is, and determinism for the whole suite."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("GUIX_REVIVE_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """``../shared/corpus``: real derivations written by Guix and Nix (never copied here)."""
    if not CORPUS.is_dir():
        pytest.fail(f"the shared corpus is missing: {CORPUS}")
    return CORPUS


@pytest.fixture(scope="session")
def guix2020_store(corpus_dir: Path) -> Path:
    """The flat directory of the 401 ``.drv`` files Guix wrote in April 2020."""
    return corpus_dir / "guix-2020" / "store"


@pytest.fixture(scope="session")
def guix2020_truth(corpus_dir: Path) -> dict[str, dict[str, Any]]:
    """What Guix itself read from each corpus ``.drv``, keyed by store path."""
    lines = (corpus_dir / "guix-2020" / "truth.jsonl").read_text().splitlines()
    return {entry["file"]: entry for entry in map(json.loads, lines)}


@pytest.fixture(scope="session")
def nix_vectors(corpus_dir: Path) -> dict[str, Any]:
    """Values produced by real Nix 2.8 for both store dirs."""
    return json.loads((corpus_dir / "nix-oracle" / "vectors.json").read_text())


@pytest.fixture(autouse=True)
def _isolated_xdg(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test reads or writes the real user's cache, data or config directories."""
    base = tmp_path_factory.mktemp("xdg")
    for name in ("XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME"):
        path = base / name.lower()
        path.mkdir()
        monkeypatch.setenv(name, str(path))
