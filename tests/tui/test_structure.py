"""The app's shape: screens and widgets never import the app class (issue 12).

The app imports its screens; a screen that imported the app back made an
import circle that only worked thanks to function-level imports. Screens and
widgets talk to the app through messages (``WorkerFailed``…) instead.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TUI = Path(__file__).resolve().parents[2] / "tui"
MODULES = sorted([*TUI.glob("screens/*.py"), *TUI.glob("widgets/*.py")])


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module is not None:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_there_are_screens_and_widgets() -> None:
    """The glob finds the modules (an empty list would make the test below vacuous)."""
    names = {path.stem for path in MODULES}
    assert {"graph", "batch", "drv_tree", "diff_view"} <= names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_screens_and_widgets_do_not_import_the_app(path: Path) -> None:
    """Not even inside a function: the app module is the top of the TUI."""
    assert "revive.tui.app" not in _imported(path)
