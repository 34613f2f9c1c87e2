"""Shared fixtures: where the corpus is, and determinism for the whole suite.

The real-Guix corpus (``corpus/`` of the project's shared folder) is not part
of this repository: it is looked for next to the checkout (``../shared``) or
in ``$GUIX_REVIVE_SHARED``. Without it, every test that needs it is skipped
(its fixtures, and the ``corpus`` marker, skip with one short reason) and the
run ends with one line counting them. ``GUIX_REVIVE_REQUIRE_CORPUS=1`` (set by
``.ci/run``) turns a missing corpus into an error before anything runs.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Generator
from pathlib import Path
from typing import Any, NoReturn

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("GUIX_REVIVE_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus"
REQUIRE_VARIABLE = "GUIX_REVIVE_REQUIRE_CORPUS"
LIVE_GUIX_VARIABLE = "GUIX_REVIVE_LIVE_GUIX"
# Programs the tests run: a PATH directory holding one of them is never hidden.
_TOOLS = ("git", "svn", "svnadmin", "hg", "brz", "bzr", "cvs", "recsel", "rsvg-convert", "curl")
NO_CORPUS = "the real-Guix corpus is not next to this checkout"
"""The one skip reason of every corpus test (counted at the end of the run)."""


def _corpus_required() -> bool:
    return os.environ.get(REQUIRE_VARIABLE, "") not in ("", "0")


def skip_without_corpus() -> NoReturn:
    """Skip the current test: the corpus is missing (the one place that says so)."""
    pytest.skip(NO_CORPUS)


def pytest_configure(config: pytest.Config) -> None:
    """With ``GUIX_REVIVE_REQUIRE_CORPUS`` set, a missing corpus stops the run at once."""
    if _corpus_required() and not CORPUS.is_dir():
        raise pytest.UsageError(
            f"{REQUIRE_VARIABLE} is set but the real-Guix corpus is missing: {CORPUS} "
            "(put the shared folder next to this checkout, or set GUIX_REVIVE_SHARED)"
        )


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip tests marked ``corpus`` (parametrized by corpus files) when it is missing."""
    if item.get_closest_marker("corpus") is not None and not CORPUS.is_dir():
        skip_without_corpus()


def _is_corpus_skip(report: Any) -> bool:
    longrepr = getattr(report, "longrepr", None)
    return isinstance(longrepr, tuple) and len(longrepr) == 3 and NO_CORPUS in str(longrepr[2])


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter,
) -> Generator[None, None, None]:
    """One line for all the corpus skips instead of one ``-ra`` line per test file.

    Wraps the terminal reporter's own summary: the corpus skips are left out
    of its short summary, then put back so that the final counts include them.
    """
    skipped: list[Any] = terminalreporter.stats.get("skipped", [])
    corpus = [report for report in skipped if _is_corpus_skip(report)]
    if corpus:
        terminalreporter.stats["skipped"] = [r for r in skipped if not _is_corpus_skip(r)]
    try:
        yield
    finally:
        if corpus:
            terminalreporter.stats["skipped"] = skipped
            terminalreporter.write_line(
                f"{NO_CORPUS}: {len(corpus)} tests skipped "
                f"(looked in {CORPUS}; see README.md, 'Tests and the real-Guix corpus')",
                yellow=True,
                bold=True,
            )


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """``../shared/corpus``: real derivations written by Guix and Nix (never copied here)."""
    if not CORPUS.is_dir():
        skip_without_corpus()
    return CORPUS


@pytest.fixture(scope="session")
def guix2020_store(corpus_dir: Path) -> Path:
    """The flat directory of the 401 ``.drv`` files Guix wrote in April 2020."""
    return corpus_dir / "guix-2020" / "store"


@pytest.fixture
def guix2020_copy(guix2020_store: Path, tmp_path: Path) -> Path:
    """A private copy of the 2020 corpus store (``tmp_path/store``) that a test may
    change or damage."""
    copy = tmp_path / "store"
    shutil.copytree(guix2020_store, copy)
    return copy


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


@pytest.fixture(autouse=True)
def _no_real_guix(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Guix installed on the machine running the tests is not picked by ``--backend auto``.

    ``auto`` means "guix when it is on PATH"; the tests that leave it so were
    written for guix-revive's own builders (the demo's loopback servers, for
    one, are reached through URL rewrites only they apply), and must give the
    same results with or without a Guix around. PATH directories holding a
    ``guix`` and none of the tools the tests run are left out, unless
    ``GUIX_REVIVE_LIVE_GUIX=1`` asks for the real Guix. The Guix backend's
    own tests use a stand-in ``guix`` they name themselves.
    """
    if os.environ.get(LIVE_GUIX_VARIABLE) == "1":
        return
    directories = os.environ.get("PATH", "").split(os.pathsep)
    kept = [
        d
        for d in directories
        if not os.access(os.path.join(d, "guix"), os.X_OK)
        or any(os.access(os.path.join(d, tool), os.X_OK) for tool in _TOOLS)
    ]
    if len(kept) != len(directories):
        monkeypatch.setenv("PATH", os.pathsep.join(kept))
