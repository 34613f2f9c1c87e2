"""Fixtures for the derivation diff tests: corpus lookups and the doc's §2.9 examples."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from revive.core.aterm import parse_derivation, read_derivation
from revive.core.derivation import Derivation

Lookup = Callable[[str], Derivation | None]


@pytest.fixture(scope="session")
def corpus_lookup(guix2020_store: Path) -> Lookup:
    """Reads a corpus ``.drv`` by its store path; ``None`` when it is not in the corpus."""

    def lookup(path: str) -> Derivation | None:
        file = guix2020_store / Path(path).name
        return read_derivation(str(file), path) if file.is_file() else None

    return lookup


@pytest.fixture(scope="session")
def corpus_drv(corpus_lookup: Lookup) -> Callable[[str], tuple[str, Derivation]]:
    """``(store path, derivation)`` of a corpus file, given its base name."""

    def get(base: str) -> tuple[str, Derivation]:
        path = f"/gnu/store/{base}"
        drv = corpus_lookup(path)
        assert drv is not None, f"{base} is not in the corpus"
        return path, drv

    return get


@pytest.fixture(scope="session")
def doc_examples(
    doc_derivations: dict[str, tuple[str, str]],
) -> dict[str, tuple[str, Derivation]]:
    """The §2.9 FOD and consumer, and their variants with the ``ftp.gnu.org`` URL.

    Keys: ``fod``, ``fod_ftp``, ``consumer``, ``consumer_ftp``; values are
    ``(store path given by the doc, derivation)``.
    """

    def parsed(key: str) -> tuple[str, Derivation]:
        path, text = doc_derivations[key]
        return path, parse_derivation(text, path)

    return {
        "fod": parsed("a"),
        "fod_ftp": parsed("a-https"),
        "consumer": parsed("b"),
        "consumer_ftp": parsed("b-variant"),
    }


@pytest.fixture(scope="session")
def doc_lookup(doc_examples: dict[str, tuple[str, Derivation]]) -> Lookup:
    """Looks up the §2.9 derivations by path (anything else is missing)."""
    table = dict(doc_examples.values())
    return table.get
