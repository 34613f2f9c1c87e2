"""The tree pane on a real closure (``hello`` from April 2020): contents, keys, search."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import Label
from tui_pilot import SIZE, running

from revive.tui.app import ReviveApp
from revive.tui.session import LoadPlan, Session
from revive.tui.widgets.drv_tree import DerivationTree
from revive.tui.widgets.fod_list import FodList


async def test_loads_in_a_worker_and_shows_the_root_expanded(
    make_app: Callable[..., ReviveApp],
    corpus_plan: LoadPlan,
    lines_of: Callable[[DerivationTree], list[str]],
) -> None:
    app = make_app(corpus_plan)
    async with running(app) as (pilot, screen):
        assert not screen.has_class("-loading")
        lines = lines_of(screen.drv_tree)
        # The root, then its inputs labelled with the outputs used.
        assert lines[0] == "  hello-2.10"
        assert "    tar-1.32 [out]" in lines
        assert "    glibc-2.29 [out,static] ↑" in lines
        # The source download: status icon, bold name, fetch badge.
        assert "  ○ hello-2.10.tar.gz url·builtin [out]" in lines
        summary = str(screen.query_one("#summary").render())
        assert "210 derivations · 81 downloads" in summary
        assert app.errors == []


async def test_hjkl_moves_and_expands(corpus_app: ReviveApp) -> None:
    async with running(corpus_app) as (pilot, screen):
        tree = screen.drv_tree
        assert tree.cursor_path is not None and tree.cursor_path.endswith("hello-2.10.drv")
        await pilot.press("j")
        assert tree.cursor_path is not None and tree.cursor_path.endswith("tar-1.32.drv")
        assert tree.cursor_node is not None and not tree.cursor_node.is_expanded
        await pilot.press("l")
        assert tree.cursor_node.is_expanded
        await pilot.press("l")
        assert tree.cursor_node.parent is not None
        assert tree.cursor_node.parent.data is not None
        assert tree.cursor_node.parent.data.path.endswith("tar-1.32.drv")
        await pilot.press("h")
        assert tree.cursor_path.endswith("tar-1.32.drv")
        await pilot.press("h")
        assert tree.cursor_node is not None and not tree.cursor_node.is_expanded
        await pilot.press("k")
        assert tree.cursor_path.endswith("hello-2.10.drv")


async def test_next_and_previous_fod_follow_the_tree_order(
    corpus_app: ReviveApp, corpus_session: Session
) -> None:
    async with running(corpus_app) as (pilot, screen):
        tree = screen.drv_tree
        await pilot.press("n")
        first = tree.cursor_path
        assert first == corpus_session.fods[0]
        await pilot.press("n")
        assert tree.cursor_path == corpus_session.fods[1]
        await pilot.press("N")
        assert tree.cursor_path == first
        # The FOD was revealed: every ancestor on its first-occurrence chain is expanded.
        node = tree.cursor_node
        assert node is not None
        while node.parent is not None and node.parent is not tree.root:
            assert node.parent.is_expanded
            node = node.parent


async def test_reference_jumps_to_first_occurrence(corpus_app: ReviveApp) -> None:
    async with running(corpus_app) as (pilot, screen):
        tree = screen.drv_tree
        # glibc under hello is a reference (it first occurs deeper, above).
        line = next(
            node
            for node in tree.root.children[0].children
            if node.data is not None and node.data.path.endswith("-glibc-2.29.drv")
        )
        assert line.data is not None and not line.data.first and not line.allow_expand
        tree.move_cursor(line)
        await pilot.press("enter")
        await pilot.pause()
        assert tree.cursor_node is not None and tree.cursor_node is not line
        assert tree.cursor_node.data is not None and tree.cursor_node.data.first
        assert tree.cursor_path == line.data.path


async def test_search_jumps_between_matches_across_the_closure(corpus_app: ReviveApp) -> None:
    async with running(corpus_app) as (pilot, screen):
        tree = screen.drv_tree
        await pilot.press("slash", *"gmp-6")
        await pilot.pause()
        assert [m.path.rsplit("-", 2)[-2:] for m in screen.matches] != []
        assert all("gmp-6" in m.path for m in screen.matches)
        assert tree.cursor_path == screen.matches[0].path
        count = str(screen.query_one("#search-count", Label).render())
        assert count.startswith(f"1/{len(screen.matches)}")
        await pilot.press("down")
        assert tree.cursor_path == screen.matches[1 % len(screen.matches)].path
        await pilot.press("enter")
        assert tree.has_focus
        # A URL finds its download; "]" steps on after the bar is closed.
        await pilot.press("slash", *"gnu/hello", "enter")
        await pilot.pause()
        assert tree.cursor_path is not None and tree.cursor_path.endswith("hello-2.10.tar.gz.drv")


async def test_fod_list_sorts_and_acts(corpus_app: ReviveApp, corpus_session: Session) -> None:
    async with corpus_app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("f")
        await pilot.pause()
        fods = corpus_app.screen.query_one(FodList)
        assert fods.has_focus and fods.row_count == len(corpus_session.fods) == 81
        names = [corpus_session.kind(p).name.lower() for p in fods.paths]
        assert names == sorted(names)
        await pilot.press("s")
        assert fods.sort_key == "method"
        badges = [corpus_session.kind(p).badge for p in fods.paths]
        assert badges == sorted(badges)
        await pilot.press("s", "s")
        assert fods.sort_key == "name"
        # Rewrite works here; cancel is pressable but only says that nothing runs.
        assert fods.check_action("rewrite_node", ()) is True
        assert fods.check_action("cancel_build", ()) is True
        await pilot.press("enter")
        await pilot.pause()
        assert not corpus_app.screen.has_class("-fod-only")
        assert corpus_app.screen.query_one(DerivationTree).cursor_path == fods.paths[0]


async def test_actions_greyed_out_where_they_make_no_sense(corpus_app: ReviveApp) -> None:
    async with running(corpus_app) as (pilot, screen):
        tree = screen.drv_tree
        # On a package: no rewrite, not a reference; "Fetch" is replaced by the
        # greyed-out "Fetch: FODs only" (the reason).
        assert tree.check_action("rewrite_node", ()) is None
        assert tree.check_action("build_node", ()) is False
        assert tree.check_action("build_unavailable", ()) is None
        assert tree.check_action("goto_first", ()) is None
        # x and e explain themselves rather than being greyed out.
        assert tree.check_action("cancel_build", ()) is True
        assert tree.check_action("next_failing", ()) is True
        await pilot.press("n")
        assert tree.check_action("rewrite_node", ()) is True
        assert tree.check_action("build_node", ()) is True
        # x with nothing running reports no error (it only says so).
        await pilot.press("x")
        await pilot.pause()
        assert corpus_app.errors == []
