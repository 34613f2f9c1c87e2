"""What a newcomer reaches for (issue 9 §3–§5): truthful messages, keys that
explain themselves, the palette, R's confirmation, a moved upstream, small terminals."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from textual.widgets import DataTable, Input, Label, TabbedContent
from textual.widgets._footer import FooterKey
from tui_pilot import label_of, notes, opened, running, settled

from revive.core.demo.model import DemoEnvironment
from revive.core.node_status import FetchState
from revive.tui.app import ReviveApp
from revive.tui.commands import COMMANDS
from revive.tui.screens.batch import BatchScreen
from revive.tui.screens.confirm import ConfirmScreen
from revive.tui.screens.graph import GraphScreen
from revive.tui.screens.move_upstream import MoveUpstreamScreen
from revive.tui.screens.rewrite import RewriteScreen
from revive.tui.session import LoadPlan, Session
from revive.tui.widgets.build_log import BuildLog
from revive.tui.widgets.diff_view import DiffView
from revive.tui.widgets.drv_tree import DerivationTree
from revive.tui.widgets.footer import ReviveFooter
from revive.tui.widgets.node_actions import NODE_ACTION_BINDINGS, NOT_A_DOWNLOAD
from revive.tui.widgets.text_fit import shorten_middle

# --- §4: the command palette -------------------------------------------------------------


def test_the_palette_has_every_key_of_the_main_screen_and_the_tree() -> None:
    """Every action bound on the main screen, the tree and the node actions is a
    command, and each command shows the key the binding uses."""
    navigation = {
        "cursor_down",
        "cursor_up",
        "expand_or_enter",
        "collapse_or_leave",
        "goto_first",  # needs a repeated line under the tree's cursor
        "build_unavailable",  # greyed-out stand-in of build_node
    }
    keys = {action: key for _title, key, _help, action in COMMANDS}
    bound = [*GraphScreen.BINDINGS, *DerivationTree.BINDINGS, *NODE_ACTION_BINDINGS]
    for binding in bound:
        assert not isinstance(binding, tuple)
        action = binding.action  # type: ignore[union-attr]
        if action in navigation:
            continue
        assert action in keys, action
        shown = {"slash": "/", "bracketright": "]", "bracketleft": "["}
        assert keys[action] in [shown.get(k, k) for k in binding.key.split(",")], action  # type: ignore[union-attr]
    for needed in ("next_failing", "why", "cancel_build", "build_node", "rewrite_node"):
        assert needed in keys
    for needed in ("fetch_all", "rewrite_all", "copy_path", "app.show_keys", "app.quit"):
        assert needed in keys


async def test_palette_commands_run_on_the_screen(
    demo_app: ReviveApp, demo_session: Session
) -> None:
    """ctrl+p, "next failing", enter: the same as e (here: why nothing fails yet)."""
    async with running(demo_app) as (pilot, _):
        await pilot.press("ctrl+p", *"next failing")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(demo_app.screen, GraphScreen)
        assert notes(demo_app)[-1].startswith(
            "Nothing has failed yet because nothing was fetched yet: B fetches all 54"
        )
        # A command that does not apply here says so (the cursor is on the profile).
        await pilot.press("ctrl+p", *"fetch this download")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert notes(demo_app)[-1] == f"Fetch this download: {NOT_A_DOWNLOAD}"
        assert not demo_session.status.in_state(FetchState.FETCHING)


# --- §4: e / E / x / b ---------------------------------------------------------------------


async def test_e_and_E_say_why_there_is_no_failure_yet(
    demo_app: ReviveApp, demo_env: DemoEnvironment
) -> None:
    """Before any fetch, e and E are not silent: nothing was fetched, here is what to do."""
    async with running(demo_app) as (pilot, screen):
        tree = screen.drv_tree
        assert tree.check_action("next_failing", ()) is True
        await pilot.press("e")
        await pilot.pause()
        assert notes(demo_app)[-1] == (
            "Nothing has failed yet because nothing was fetched yet: B fetches all 54 "
            "(start with --demo-serve to fetch the demo offline)."
        )
        screen.action_reveal(demo_env.special_of("upstream-gone").drv_path)
        await pilot.press("E")
        await pilot.pause()
        assert notes(demo_app)[-1].startswith(
            "Nothing has failed yet because nothing was fetched yet: "
            "b fetches this download, B fetches all 54"
        )


async def test_b_on_a_package_is_greyed_out_with_the_reason(
    demo_app: ReviveApp, demo_session: Session
) -> None:
    """On the profile (not a download) the footer shows "Fetch: FODs only" greyed
    out instead of "Fetch", and the Log tab says why; b changes nothing."""
    async with running(demo_app) as (pilot, screen):
        tree = screen.drv_tree
        assert tree.cursor_path is not None and tree.cursor_path.endswith("-profile.drv")
        assert tree.check_action("build_node", ()) is False
        assert tree.check_action("build_unavailable", ()) is None
        footer = screen.query_one(ReviveFooter)
        keys = {k.description: k for k in footer.query(FooterKey)}
        assert "Fetch" not in keys
        assert keys["Fetch: FODs only"].has_class("-disabled")
        await pilot.press("3")
        await pilot.pause()
        assert str(screen.query_one("#build-log-title", Label).render()) == NOT_A_DOWNLOAD
        await pilot.press("b")
        await pilot.pause()
        assert not demo_session.status.in_state(FetchState.FETCHING)
        # On a download, b is the plain "Fetch" again.
        await pilot.press("n")
        await pilot.pause()
        assert tree.check_action("build_node", ()) is True
        assert tree.check_action("build_unavailable", ()) is False
        title = str(screen.query_one(BuildLog).query_one("#build-log-title", Label).render())
        assert title == "No build yet. Press b to fetch this node."


# --- §3 / §4: rewrite all asks, batches stop truthfully, badges follow -------------------


async def test_R_asks_first_and_says_how_many_and_where(
    make_app: Callable[..., ReviveApp], demo_plan: LoadPlan
) -> None:
    """R shows a confirmation (count, where the files go); escape writes nothing;
    enter runs the batch, whose title then says done."""
    app = make_app(demo_plan)
    async with running(app) as (pilot, screen):
        session = screen.session
        assert session is not None
        await pilot.press("R")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen)
        assert dialog.question == "Rewrite all 54 downloads?"
        assert f"written to {demo_plan.store_root} (embedded store)" in dialog.text
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        assert not session.status.in_state(FetchState.REWRITTEN)
        await pilot.press("R")
        await pilot.pause()
        await pilot.press("enter")
        await settled(app, pilot)
        batch = app.screen
        assert isinstance(batch, BatchScreen) and not batch.running
        assert batch.done == batch.total == 54
        title = str(batch.query_one("#batch-title", Label).render())
        assert title == "Rewrite all downloads: done"


async def test_a_stopped_batch_says_where_it_stopped(demo_app: ReviveApp) -> None:
    """Escape during a batch: "stopped after 13 of 54", not "done"."""
    stopped: list[bool] = []
    async with running(demo_app) as (pilot, _):
        batch = BatchScreen("Fetch all downloads", 54, lambda: stopped.append(True))
        await demo_app.push_screen(batch)
        for n in range(12):
            batch.advance(f"source-{n}", "url·builtin", "fetched")
        # A name too long for the row gives way from its middle; the result stays.
        long_name = "python-" + "x" * 150 + "-1.0.tar.gz"
        batch.advance(long_name, "url·builtin", "failed: not found")
        await pilot.pause()
        table = batch.query_one(DataTable)
        name_cell = str(table.get_row_at(table.row_count - 1)[0])
        assert "…" in name_cell and name_cell.startswith("python-")
        assert name_cell.endswith("-1.0.tar.gz") and len(name_cell) < 100
        await pilot.press("escape")
        batch.finish()
        await pilot.pause()
        assert stopped == [True]
        title = str(batch.query_one("#batch-title", Label).render())
        assert title == "Fetch all downloads: stopped after 13 of 54"


async def test_the_badge_follows_a_rewrite_and_the_message_names_the_real_file(
    make_app: Callable[..., ReviveApp], demo_plan: LoadPlan, demo_env: DemoEnvironment
) -> None:
    """A script-era download rewritten: its badge becomes today's form, marked
    rewritten; the notification names the file actually written."""
    app = make_app(demo_plan)
    async with running(app) as (pilot, screen):
        session = screen.session
        assert session is not None
        old = next(
            p
            for p in session.fods
            if session.kind(p).name == "findutils-4.6.0.tar.gz"
            and session.kind(p).badge == "url·script"
        )
        screen.action_reveal(old)
        await pilot.pause()
        tree = screen.drv_tree
        assert label_of(tree) == "○ findutils-4.6.0.tar.gz url·script"
        await pilot.press("r")
        await settled(app, pilot)
        assert isinstance(app.screen, RewriteScreen)
        await pilot.press("enter")
        await settled(app, pilot)
        assert label_of(tree) == "↻ findutils-4.6.0.tar.gz url·builtin rewritten"
        written = session.node_status(old).rewritten_drv
        assert written is not None
        real = demo_plan.store_root / written.rsplit("/", 1)[1]  # type: ignore[operator]
        assert real.is_file()
        assert notes(app)[-1] == f"Wrote {real}. Press b to fetch it."
        # The list of downloads tells the same.
        await pilot.press("f")
        await pilot.pause()
        fods = screen.fod_list
        row = fods.paths.index(old) + 1 - fods.scroll_offset.y
        line = fods.render_line(row).text
        assert "url·builtin" in line and "findutils-4.6.0.tar.gz" in line
        assert "rewritten" in line


# --- §4: a moved upstream ------------------------------------------------------------------


async def test_a_moved_repository_fetched_from_its_new_location(
    make_app: Callable[..., ReviveApp], serve_plan: LoadPlan, demo_env: DemoEnvironment
) -> None:
    """m in the Diff tab gives the new location; the rewrite is a labelled user
    override with the same output, and b fetches it from there (hash checked)."""
    moved = demo_env.special_of("repository-moved")
    app = make_app(serve_plan)
    async with running(app) as (pilot, screen):
        session = screen.session
        assert session is not None
        screen.action_reveal(moved.drv_path)
        await pilot.press("2")
        await settled(app, pilot)
        title = str(screen.query_one("#diff-title", Label).render())
        assert "The upstream moved: m gives its new location." in title
        await pilot.press("m")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, MoveUpstreamScreen)
        assert dialog.old == moved.old_location
        # The demo knows where it went: "right" takes the suggestion.
        await pilot.press("h", "right", "enter")
        await settled(app, pilot)
        assert app.screen is screen
        title = str(screen.query_one("#diff-title", Label).render())
        assert title.startswith(
            f"User override: fetches {moved.new_location} instead of {moved.old_location}; "
            "same output path, still checked."
        )
        await pilot.press("r")
        await settled(app, pilot)
        await pilot.press("enter")
        await settled(app, pilot)
        label = label_of(screen.drv_tree)
        assert label.startswith("↻ kopi-0.4.1-checkout git·builtin user override")
        await pilot.press("b")
        await pilot.pause()
        await settled(app, pilot)
        assert session.node_status(moved.drv_path).state is FetchState.VALID
        log = session.log(moved.drv_path)
        assert f"→ trying {moved.new_location} (upstream)" in log
        assert log[-1].startswith("✔ ")
        assert app.errors == []


async def test_a_url_map_file_from_the_command_line(
    make_app: Callable[..., ReviveApp],
    demo_plan: LoadPlan,
    demo_env: DemoEnvironment,
    tmp_path: Path,
) -> None:
    """--url-map FILE: the rewrite of the moved repository uses the new location."""
    from revive.tui.cli.app_command import build_parser, plan_from_args

    moved = demo_env.special_of("repository-moved")
    url_map = tmp_path / "moves.txt"
    url_map.write_text(f"# moved\n{moved.old_location} {moved.new_location}\n", encoding="utf-8")
    plan = plan_from_args(build_parser().parse_args(["--url-map", str(url_map)]))
    assert [(r.old, r.new) for r in plan.url_map.rules] == [
        (moved.old_location, moved.new_location)
    ]
    from dataclasses import replace

    app = make_app(replace(demo_plan, url_map=plan.url_map))
    async with running(app) as (pilot, screen):
        assert screen.session is not None
        preview = screen.session.preview_rewrite(moved.drv_path)
        assert [(o.old, o.new, o.origin) for o in preview.overrides] == [
            (moved.old_location, moved.new_location, f"{url_map}:2")
        ]


def test_a_bad_url_map_file_is_one_line_and_exit_2(tmp_path: Path, capsys: object) -> None:
    """A mistyped map: one line naming the file and line, exit status 2, no app."""
    from revive.tui.cli import main

    url_map = tmp_path / "moves.txt"
    url_map.write_text("https://a.org/x.git\n", encoding="utf-8")
    assert main(["--url-map", str(url_map)]) == 2
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    assert err == (
        f"guix-revive: error: {url_map}:1:1: expected two fields, OLD-URL NEW-URL; "
        "found one field\n"
    )


# --- §3 / §5: the diff ---------------------------------------------------------------------


async def test_the_diff_elides_hashes_and_goes_unified_when_narrow(
    demo_app: ReviveApp, demo_env: DemoEnvironment
) -> None:
    """At 120×36 the Diff tab (half the width) shows one column and says so, with a
    heading that names no Left/Right; zoomed it is side by side with each store path
    on one line (``/gnu/store/…-name``), the full path in the line's tooltip."""
    gone = demo_env.special_of("upstream-gone").drv_path
    async with running(demo_app, reveal=gone) as (pilot, screen):
        await pilot.press("2")
        await settled(demo_app, pilot)
        diff = screen.query_one("#diff-view", DiffView)
        assert diff.narrow and diff.shows_unified and not diff.unified
        title = str(screen.query_one("#diff-title", Label).render())
        assert "Left" not in title and "Right" not in title
        assert title.startswith("- the old derivation, + rewritten")
        assert "(One column: the pane is narrow; z zooms.)" in title
        await pilot.press("u")  # two columns would not fit: it says so
        await pilot.pause()
        assert "too narrow for two columns" in notes(demo_app)[-1]
        await pilot.press("z")
        await pilot.pause()
        assert not diff.narrow and not diff.shows_unified
        title = str(screen.query_one("#diff-title", Label).render())
        assert title.startswith("Left: the old derivation. Right: rewritten")
        lines = diff.plain_lines()
        first = lines[0]
        assert first.startswith("  /gnu/store/…-flowCore_1.52.1.tar.gz.drv")
        assert first.count("/gnu/store/…-flowCore_1.52.1.tar.gz.drv") == 2
        assert gone in diff.full_text(0)
        # Hovering the line shows the full paths in a tooltip.
        await pilot.hover("#diff-view", offset=(10, 0))
        await pilot.pause()
        assert diff.tooltip is not None and gone in str(diff.tooltip)
        # Unified by choice: the heading names the - and + sides.
        await pilot.press("u")
        await pilot.pause()
        title = str(screen.query_one("#diff-title", Label).render())
        assert title == "- the old derivation, + rewritten: same output, fetched today's way."


# --- §5: small terminals ---------------------------------------------------------------------


def test_shorten_middle() -> None:
    """Names lose their middle, the start one character more than the end."""
    assert shorten_middle("python-scikit-learn-0.22.1-checkout", 16) == "python-s…heckout"
    assert shorten_middle("short", 16) == "short"
    assert len(shorten_middle("x" * 50, 10)) == 10


async def test_80_columns_keep_help_and_quit_in_the_footer(demo_app: ReviveApp) -> None:
    """At 80 columns the footer still shows ? and q (first), z among the keys."""
    async with demo_app.run_test(size=(80, 24)) as pilot:
        screen = await opened(demo_app, pilot)
        keys = list(screen.query_one(ReviveFooter).query(FooterKey))
        assert [k.key for k in keys[:2]] == ["question_mark", "q"]
        for key in keys[:2]:
            assert key.region.right <= 80 and key.region.width > 0
        assert "z" in [k.key for k in keys]


async def test_40_by_12_shows_one_pane_at_a_time(
    demo_app: ReviveApp, demo_env: DemoEnvironment
) -> None:
    """At 40×12 the tree has the whole width (no 4-column detail pane); z shows the
    details instead; long names are shortened from the middle, badge and state kept."""
    async with demo_app.run_test(size=(40, 12)) as pilot:
        screen = await opened(demo_app, pilot)
        assert screen.has_class("-narrow")
        detail = screen.query_one("#detail", TabbedContent)
        assert not detail.display or detail.region.width == 0
        assert screen.query_one("#left-pane").region.width == 40
        hint = screen.query_one("#narrow-hint")
        assert hint.display and "z: details" in str(hint.render())
        screen.action_reveal(demo_env.special_of("repository-moved").drv_path)
        await pilot.pause()
        tree = screen.drv_tree
        node = tree.cursor_node
        assert node is not None and node.data is not None
        room = tree._label_room(node) - 2  # noqa: SLF001
        label = tree.label_text(node.data, room).plain
        assert len(label) <= room
        assert label.startswith("○ ") and "git·script" in label
        assert tree.virtual_size.width <= tree.size.width
        await pilot.press("z")
        await pilot.pause()
        assert detail.display and detail.region.width >= 38
        assert not screen.query_one("#left-pane").display
        await pilot.press("2")
        await settled(demo_app, pilot)
        title = str(screen.query_one("#diff-title", Label).render())
        assert "(One column: the terminal is narrow.)" in title


async def test_the_move_dialog_rejects_a_location_with_a_blank(
    demo_app: ReviveApp, demo_session: Session, demo_env: DemoEnvironment
) -> None:
    """A new location that is no URL: one error line, nothing changed."""
    moved = demo_env.special_of("repository-moved").drv_path
    async with running(demo_app, reveal=moved) as (pilot, screen):
        await pilot.press("m")
        await pilot.pause()
        demo_app.screen.query_one(Input).value = "https://x.org/a b"
        await pilot.press("enter")
        await pilot.pause()
        assert notes(demo_app)[-1] == "the new URL contains a blank: 'https://x.org/a b'"
        assert not demo_session.plan.url_map
