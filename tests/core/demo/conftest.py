"""Fixtures of the demo tests: one generated demo shared by the whole session."""

from __future__ import annotations

import pytest

from revive.core.demo.generate import generate_demo
from revive.core.demo.model import DemoEnvironment


@pytest.fixture(scope="session")
def demo_env(tmp_path_factory: pytest.TempPathFactory) -> DemoEnvironment:
    """The demo environment, generated once per session (it takes a few seconds)."""
    return generate_demo(tmp_path_factory.mktemp("demo-session") / "demo")
