"""Snapshot tests of the layout, one per scene of ``scripts/make_screenshots.py``.

The scenes are those of the screenshots (loaded from the script by path), so
a failure here means the screenshots need regenerating too. Update with
``pytest tests/tui/test_snapshots.py --snapshot-update`` after checking the
report. The scenes that fetch every download are left to the script (they
take several seconds each); one fetch is enough to check the log's layout.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from revive.core.demo.model import DemoEnvironment

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "make_screenshots.py"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_screenshots", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_screenshots", module)
    spec.loader.exec_module(module)
    return module


SCREENSHOTS = _load_script()


@pytest.fixture
def check_scene(
    snap_compare: Callable[..., bool], demo_env: DemoEnvironment, tmp_path: Path
) -> Callable[[str], bool]:
    """Run a scene on the session's demo and compare the screen with its snapshot."""

    def check(name: str) -> bool:
        scene = SCREENSHOTS.SCENES[name]
        app = SCREENSHOTS.scene_app(scene, demo_env.demo_dir, tmp_path / "store")
        return snap_compare(
            app,
            terminal_size=scene.size,
            run_before=SCREENSHOTS.prepare(scene, demo_env),
        )

    return check


def test_tree(check_scene: Callable[[str], bool]) -> None:
    """The tree: the 2020 profile expanded, r-flowcore's inputs shown, the failing
    download under the cursor with its url·builtin badge; its record on the right."""
    assert check_scene("tree")


def test_diff(check_scene: Callable[[str], bool]) -> None:
    """The Diff tab, zoomed to the whole width: old (left) and rewritten (right),
    'equivalent', changed input sources and variables highlighted."""
    assert check_scene("diff")


def test_rewrite_dialog(check_scene: Callable[[str], bool]) -> None:
    """The rewrite dialog: title, the diff, 'Write to store (enter)' and 'Cancel'."""
    assert check_scene("rewrite-dialog")


def test_failing_log(check_scene: Callable[[str], bool]) -> None:
    """The Log tab of the failed download: attempts, 404s, the final 'not found' line,
    the ✘ in the tree, and no loopback port or temporary path anywhere."""
    assert check_scene("failing-log")


def test_fod_list(check_scene: Callable[[str], bool]) -> None:
    """The list of downloads (f), wider than the tree, sorted by method (▲)."""
    assert check_scene("fod-list")


def test_search(check_scene: Callable[[str], bool]) -> None:
    """The search bar with 'bioconductor', 1/1, the matched URL below, the match
    highlighted in the tree."""
    assert check_scene("search")


def test_keys(check_scene: Callable[[str], bool]) -> None:
    """The keys dialog (?): sections Everywhere, Main screen, Tree… with two columns."""
    assert check_scene("keys")


def test_diff_unified(check_scene: Callable[[str], bool]) -> None:
    """The Diff tab beside the tree: one column by itself, the heading saying so
    and naming - and + (no Left/Right), store paths as /gnu/store/…-name."""
    assert check_scene("diff-unified")


def test_rewrite_all(check_scene: Callable[[str], bool]) -> None:
    """R: the confirmation with the count (54) and where the files go."""
    assert check_scene("rewrite-all")


def test_move_upstream(check_scene: Callable[[str], bool]) -> None:
    """m: the moved repository's old URL, the input with the suggested new one."""
    assert check_scene("move-upstream")


def test_tree_80_columns(check_scene: Callable[[str], bool]) -> None:
    """80×24: names shortened from the middle; ? Keys and q Quit first in the footer."""
    assert check_scene("tree-80")


def test_tree_40_by_12(check_scene: Callable[[str], bool]) -> None:
    """40×12: the tree alone on the whole width."""
    assert check_scene("tree-40x12")
