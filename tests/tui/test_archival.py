"""Archival checks in the app, on the demo with its loopback archives (``--demo-serve``)."""

from __future__ import annotations

from collections.abc import Callable

from tui_pilot import running, settled

from revive.core.archive.answer import Fallback
from revive.core.demo.model import DemoEnvironment
from revive.tui.app import ReviveApp
from revive.tui.archival import board_for
from revive.tui.screens.archival_actions import ArchivalProgress
from revive.tui.session import LoadPlan
from revive.tui.widgets.archival_panel import ArchivalPanel


async def test_check_all_badges_every_download(
    make_app: Callable[..., ReviveApp], serve_plan: LoadPlan, demo_env: DemoEnvironment
) -> None:
    app = make_app(serve_plan)
    gone = demo_env.special_of("upstream-gone").drv_path
    moved = demo_env.special_of("repository-moved").drv_path
    async with running(app) as (pilot, screen):
        session = screen.session
        tree = screen.drv_tree

        await pilot.press("A")
        await pilot.pause()
        await settled(app, pilot)
        board = board_for(session)
        assert board.checked == len(session.fods)
        assert not list(screen.query(ArchivalProgress))  # the bar goes when done

        # The gone tarball: upstream missing, saved by the CA mirror (reverse ≡).
        result = board.result(gone)
        assert result is not None and result.saved_by is Fallback.CA_MIRROR
        assert tree.reveal(gone)
        await pilot.pause()
        assert tree.cursor_node is not None and tree.cursor_node.data is not None
        label = tree.label_text(tree.cursor_node.data).plain
        assert label.endswith(" ·≡SD· [out]"), label
        moved_result = board.result(moved)
        assert moved_result is not None and moved_result.saved_by is Fallback.SWH

        # The Derivation tab lists each probe's answer and time.
        screen.show_node(gone)
        await pilot.pause()
        panel = screen.query_one(ArchivalPanel)
        assert not panel.has_class("-hidden")
        assert panel.result is result
        assert [a.fallback for a in panel.lines] == [a.fallback for a in result.answers]


async def test_check_one_node_from_the_key_and_the_list_column(
    make_app: Callable[..., ReviveApp], serve_plan: LoadPlan, demo_env: DemoEnvironment
) -> None:
    app = make_app(serve_plan)
    gone = demo_env.special_of("upstream-gone").drv_path
    async with running(app) as (pilot, screen):
        screen.drv_tree.reveal(gone)
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        await settled(app, pilot)
        board = board_for(screen.session)
        assert board.checked == 1 and board.result(gone) is not None
        # The FOD list shows the archival column.
        await pilot.press("f")
        await pilot.pause()
        fod_list = screen.fod_list
        fod_list.select_path(gone)
        await pilot.pause()
        header = "".join(s.text for s in fod_list.render_line(0))
        row = fod_list.paths.index(gone) - fod_list.scroll_offset.y + 1
        line = "".join(s.text for s in fod_list.render_line(row))
        assert "↑≡SDN" in header
        assert "·≡SD·" in line
