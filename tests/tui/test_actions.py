"""Node actions outside the main story: cancel a running fetch, copy a path; the CLI's plan."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tui_pilot import notes, running, settled

from revive.core.builders.options import FetchOptions
from revive.core.demo.model import DemoEnvironment
from revive.core.node_status import FetchState
from revive.tui.app import ReviveApp
from revive.tui.cli.app_command import build_parser, plan_from_args
from revive.tui.session import LoadPlan


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A loopback port that accepts connections and never answers (a stuck mirror)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        yield server.getsockname()[1]


async def test_x_cancels_a_running_fetch(
    make_app: Callable[..., ReviveApp],
    demo_env: DemoEnvironment,
    tmp_path: Path,
    silent_server: int,
) -> None:
    """b starts a fetch that hangs; x is enabled only then, and stops it."""
    stuck = f"http://127.0.0.1:{silent_server}/"
    options = FetchOptions(
        url_rewrites=(("https://", stuck), ("http://", stuck)),
        read_timeout=120,
        retries=0,
    )
    plan = LoadPlan(
        demo=True,
        demo_dir=demo_env.demo_dir,
        store_root=tmp_path / "fetched",
        fetch_options=options,
    )
    gone = demo_env.special_of("upstream-gone").drv_path
    app = make_app(plan)
    async with running(app) as (pilot, screen):
        session = screen.session
        screen.action_reveal(gone)
        tree = screen.drv_tree
        # Nothing runs yet: x says so and what to do instead of doing nothing.
        await pilot.press("x")
        await pilot.pause()
        assert notes(app)[-1] == (
            "No fetch of flowCore_1.52.1.tar.gz is running: b fetches this download, "
            f"B fetches all {len(session.fods)} "
            "(start with --demo-serve to fetch the demo offline)."
        )
        await pilot.press("b")
        await pilot.pause()
        assert session.node_status(gone).state is FetchState.FETCHING
        assert tree.check_action("cancel_build", ()) is True
        assert tree.check_action("build_node", ()) is None  # already running
        await pilot.press("x")
        await settled(app, pilot)
        status = session.node_status(gone)
        assert status.state is FetchState.NOT_FETCHED and not status.fetching
        assert session.log(gone)[-1] == "✘ cancelled"
        assert app.errors == []


async def test_y_copies_the_store_path(
    make_app: Callable[..., ReviveApp], corpus_plan: LoadPlan
) -> None:
    """y puts the node's store path on the clipboard."""
    app = make_app(corpus_plan)
    async with running(app) as (pilot, _):
        await pilot.press("j", "y")
        assert app.clipboard.endswith("-tar-1.32.drv")


@pytest.mark.parametrize(
    ("argv", "demo", "serve", "roots"),
    [
        ([], True, False, ()),
        (["--demo-serve"], True, True, ()),
        (["/gnu/store/x-hello.drv", "--store", "/s"], False, False, ("/gnu/store/x-hello.drv",)),
    ],
)
def test_command_line_plan(argv: list[str], demo: bool, serve: bool, roots: tuple[str]) -> None:
    """No root opens the demo; --demo-serve also serves it; roots open the store."""
    plan = plan_from_args(build_parser().parse_args(argv))
    assert (plan.demo, plan.demo_serve, plan.roots) == (demo, serve, roots)
