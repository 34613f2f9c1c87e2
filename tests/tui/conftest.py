"""Fixtures for the app's tests: sessions, a steady app, tree inspection."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets.tree import TreeNode

from revive.core.demo.generate import generate_demo
from revive.core.demo.model import DemoEnvironment
from revive.tui.app import ReviveApp
from revive.tui.session import LoadPlan, Session, open_session
from revive.tui.widgets.drv_tree import DerivationTree, NodeRef

HELLO = "/gnu/store/gknm68l0q893bpvyhcd4ccih1bmh0j87-hello-2.10.drv"
"""``guix build -d hello`` in April 2020 (the corpus root)."""


@pytest.fixture
def corpus_plan(guix2020_store: Path) -> LoadPlan:
    """Open ``hello`` from the 2020 corpus (read in place, never copied)."""
    return LoadPlan(roots=(HELLO,), store=str(guix2020_store))


@pytest.fixture
def corpus_session(corpus_plan: LoadPlan) -> Session:
    """The loaded closure of ``hello`` (210 derivations)."""
    return open_session(corpus_plan)


@pytest.fixture(scope="session")
def demo_env(tmp_path_factory: pytest.TempPathFactory) -> DemoEnvironment:
    """The demo environment, generated once for the whole session (a few seconds)."""
    return generate_demo(tmp_path_factory.mktemp("tui-demo") / "demo")


@pytest.fixture
def demo_plan(demo_env: DemoEnvironment, tmp_path: Path) -> LoadPlan:
    """Open the demo, as ``guix-revive`` with no argument does, with an empty store of its own."""
    return LoadPlan(demo=True, demo_dir=demo_env.demo_dir, store_root=tmp_path / "fetched")


@pytest.fixture
def serve_plan(demo_plan: LoadPlan) -> LoadPlan:
    """The demo with its loopback servers (``--demo-serve``): fetching works offline."""
    return LoadPlan(
        demo=True,
        demo_serve=True,
        demo_dir=demo_plan.demo_dir,
        store_root=demo_plan.store_root,
    )


@pytest.fixture
def demo_session(demo_plan: LoadPlan) -> Iterator[Session]:
    """The loaded demo closure (fetching would go to the real network: do not)."""
    session = open_session(demo_plan)
    yield session
    session.close()


@pytest.fixture
def make_app() -> Callable[..., ReviveApp]:
    """A factory of apps that paint the same frames every time.

    Animations are off (which also stops the search cursor from blinking)
    and the theme is the app's fixed one, so Pilot tests and snapshots do
    not depend on timing.
    """

    def make(plan: LoadPlan | None = None, session: Session | None = None) -> ReviveApp:
        app = ReviveApp(plan, session=session)
        app.animation_level = "none"
        return app

    return make


@pytest.fixture
def corpus_app(make_app: Callable[..., ReviveApp], corpus_session: Session) -> ReviveApp:
    """An app on the loaded ``hello`` closure (not running yet)."""
    return make_app(session=corpus_session)


@pytest.fixture
def demo_app(make_app: Callable[..., ReviveApp], demo_session: Session) -> ReviveApp:
    """An app on the loaded demo closure (not running yet; fetching would go to the network)."""
    return make_app(session=demo_session)


def tree_lines(tree: DerivationTree) -> list[str]:
    """The visible lines of the tree as plain text, indented two spaces per level."""
    lines: list[str] = []

    def walk(node: TreeNode[NodeRef], depth: int) -> None:
        for child in node.children:
            assert child.data is not None
            lines.append("  " * depth + tree.label_text(child.data).plain)
            if child.is_expanded:
                walk(child, depth + 1)

    walk(tree.root, 0)
    return lines


@pytest.fixture
def lines_of() -> Callable[[DerivationTree], list[str]]:
    """:func:`tree_lines`, for tests (test modules cannot import each other)."""
    return tree_lines


def first(items: list[Any], predicate: Callable[[Any], bool]) -> Any:
    """The first item matching ``predicate``."""
    return next(item for item in items if predicate(item))
