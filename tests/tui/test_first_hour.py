"""Rough edges found by walking the README as a new user (after issue 9)."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Input, Label
from textual.widgets._footer import FooterKey  # not re-exported; textual is pinned
from tui_pilot import running, settled

from revive.core.demo.generate import GenerateProgress
from revive.core.demo.model import DemoEnvironment
from revive.tui.app import ReviveApp
from revive.tui.screens.batch import BatchScreen
from revive.tui.screens.help import KEYS_WIDTH, HelpScreen
from revive.tui.screens.move_upstream import MoveUpstreamScreen
from revive.tui.screens.rewrite import RewriteScreen
from revive.tui.session import LoadPlan
from revive.tui.widgets.diff_view import DiffView
from revive.tui.widgets.footer import ReviveFooter
from revive.tui.widgets.loading_panel import LoadingPanel


async def test_a_long_generation_step_wraps_in_a_narrow_pane() -> None:
    """The first-run line ("… (11 of 14 steps): created …") is never cut at the pane's edge."""

    class Harness(App[None]):
        CSS = "#pane { width: 40; }"

        def compose(self) -> ComposeResult:
            with Vertical(id="pane"):
                yield LoadingPanel()

    app = Harness()
    async with app.run_test(size=(100, 20)) as pilot:
        panel = app.query_one(LoadingPanel)
        panel.show_generating(GenerateProgress(11, 14, "created svn/www.tug.org/texlive"))
        await pilot.pause()
        label = panel.query_one("#loading-label", Label)
        assert label.size.width <= 40
        shown = "".join(
            strip.text for strip in label.render_lines(label.region.reset_offset)
        ).replace(" ", "")
        assert "(11of14steps):createdsvn/www.tug.org/texlive…" in shown


async def test_enter_takes_the_suggested_new_location(
    make_app: Callable[..., ReviveApp], serve_plan: LoadPlan, demo_env: DemoEnvironment
) -> None:
    """m on the moved repository, then enter: the suggestion is used as it is
    (the dialog said "take the suggestion", an empty input did nothing)."""
    moved = demo_env.special_of("repository-moved")
    app = make_app(serve_plan)
    async with running(app, reveal=moved.drv_path) as (pilot, screen):
        await pilot.press("2")
        await settled(app, pilot)
        await pilot.press("m")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, MoveUpstreamScreen)
        assert dialog.query_one(Input).value == moved.new_location
        await pilot.press("enter")
        await settled(app, pilot)
        assert app.screen is screen
        title = str(screen.query_one("#diff-title", Label).render())
        assert title.startswith(f"User override: fetches {moved.new_location} instead of")


async def test_a_failure_in_the_batch_table_is_whole_and_its_name_kept(demo_app: ReviveApp) -> None:
    """A long failure reason wraps in its cell; it no longer shrinks a short
    name to "flowCo…ar.gz" while being cut itself."""
    async with running(demo_app) as (pilot, _):
        batch = BatchScreen("Fetch all downloads", 2)
        await demo_app.push_screen(batch)
        await pilot.pause()
        reason = (
            "failed: not found: https://bioconductor.org/packages/release/bioc/src/contrib/"
            "flowCore_1.52.1.tar.gz: HTTP 404 Not Found (from the demo's loopback server)"
        )
        batch.advance("flowCore_1.52.1.tar.gz", "url·builtin", reason)
        batch.advance("bash", "url/exec·builtin", "fetched")
        batch.finish()
        await pilot.pause()
        table = batch.query_one(DataTable)
        name, _, result = table.get_row_at(0)
        assert str(name) == "flowCore_1.52.1.tar.gz"
        assert str(result) == reason
        row = table.ordered_rows[0]
        assert row.height > 1
        # Every line of the reason is drawn inside the dialog.
        lines = [strip.text for strip in table.render_lines(table.region.reset_offset)]
        drawn = "".join(line.split("url·builtin", 1)[-1] for line in lines[1 : 1 + row.height])
        assert "".join(reason.split()) in "".join(drawn.split())


async def test_every_key_in_the_keys_dialog_fits_its_column(demo_app: ReviveApp) -> None:
    """? lists keys whole ("home / end, pageup / page…" was cut)."""
    async with running(demo_app) as (pilot, _):
        await pilot.press("question_mark")
        await pilot.pause()
        dialog = demo_app.screen
        assert isinstance(dialog, HelpScreen)
        keys = [keys for _, rows in dialog.sections for keys, _ in rows]
        assert "pageup / pagedown" in keys
        assert [k for k in keys if len(k) > KEYS_WIDTH] == []


async def test_the_footer_shows_zoom_whole_at_120_columns_on_a_package(demo_app: ReviveApp) -> None:
    """On the first screen (the profile selected), the greyed-out fetch key's
    reason no longer pushes "z Zoom" under the palette key."""
    async with running(demo_app) as (pilot, screen):
        footer = screen.query_one(ReviveFooter)
        keys = {k.description: k for k in footer.query(FooterKey)}
        assert keys["Fetch: FODs only"].has_class("-disabled")
        palette = footer.query_one("FooterKey.-command-palette", FooterKey)
        assert keys["Zoom"].region.right <= palette.region.x


async def test_the_rewrite_dialog_at_80_columns_cuts_nothing(demo_app: ReviveApp) -> None:
    """r at 80×24: the heading wraps ("… (One col" before), and the diff is laid
    out for the width left by the scroll bar even before the bar shows (a bar
    appearing later hid the "):" after a hash)."""
    async with demo_app.run_test(size=(80, 24)) as pilot:
        await settled(demo_app, pilot)
        await pilot.press("n", "r")
        await settled(demo_app, pilot)
        dialog = demo_app.screen
        assert isinstance(dialog, RewriteScreen)
        subtitle = dialog.query_one("#rewrite-subtitle", Label)
        box = dialog.query_one("#rewrite-dialog").content_region
        assert subtitle.region.right <= box.right
        shown = "".join(strip.text for strip in subtitle.render_lines(subtitle.region.reset_offset))
        assert "(One column: the terminal is narrow.)" in " ".join(shown.split())
        diff = dialog.query_one(DiffView)
        room = diff.scrollable_content_region.width
        assert max(len(line) for line in diff.plain_lines()) <= room
        # A diff short enough to need no scroll bar keeps the bar's room too.
        diff.show_rows(diff.rows[:2])
        await pilot.pause()
        assert diff.max_scroll_y == 0
        assert diff.scrollable_content_region.width == room
