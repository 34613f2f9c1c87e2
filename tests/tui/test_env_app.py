"""``guix-revive -C channels.scm -m manifest.scm``: the app lowers first, then opens the roots."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fixture_modules import conftest_of
from tui_pilot import running

from revive.tui.app import ReviveApp
from revive.tui.cli.app_command import build_parser, plan_from_args
from revive.tui.widgets.drv_tree import DerivationTree
from revive.tui.widgets.loading_panel import LoadingPanel

env_fixtures = conftest_of("core/env")

standin_guix = env_fixtures.standin_guix
loopback = env_fixtures.loopback
environment = env_fixtures.environment


def test_lowering_options_make_a_lowering_plan() -> None:
    args = build_parser().parse_args(["-C", "ch.scm", "-m", "m.scm", "--sources-only", "hello"])
    plan = plan_from_args(args)
    assert plan.roots == () and not plan.demo
    assert plan.lowering is not None
    assert (plan.lowering.channels, plan.lowering.manifest) == ("ch.scm", "m.scm")
    assert plan.lowering.specs == ("hello",) and plan.lowering.sources_only
    # without them, arguments are roots as before
    assert plan_from_args(build_parser().parse_args(["x.drv"])).lowering is None


async def test_app_lowers_then_opens_the_roots(
    environment,
    standin_guix,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    make_app: Callable[..., ReviveApp],
    lines_of: Callable[[DerivationTree], list[str]],
) -> None:
    channels = tmp_path / "channels.scm"
    channels.write_text("(list %default-channels)\n")
    manifest = tmp_path / "manifest.scm"
    manifest.write_text('(specifications->manifest (list "environment"))\n')
    standin_guix.time_machine_ok([environment.root])
    stages: list[str] = []
    show_step = LoadingPanel.show_step

    def record(panel: LoadingPanel, text: str) -> None:
        stages.append(text)
        show_step(panel, text)

    monkeypatch.setattr(LoadingPanel, "show_step", record)
    args = ["-C", str(channels), "-m", str(manifest), "--store", str(environment.copy)]
    args += ["--backend", "embedded"]  # the stand-in guix lowers; it is no daemon
    app = make_app(plan_from_args(build_parser().parse_args(args)))
    async with running(app) as (pilot, screen):
        assert not screen.has_class("-loading")
        assert lines_of(screen.drv_tree)[0] == "  environment"
        assert app.errors == []
    # Guix's progress went to the loading area, line by line
    assert stages[0] == "Lowering the environment with Guix…"
    assert any(s.startswith("Updating channel 'guix' from Git repository") for s in stages)
    assert standin_guix.logged()[0][:3] == ["time-machine", "-C", str(channels)]
