"""Opening anywhere: missing VCS programs, loading failures that stay, status after reopening."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from programs import write_program
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Label, ProgressBar, Static
from textual.worker import WorkerFailed
from tui_pilot import SIZE

from revive.core.demo.generate import GenerateProgress
from revive.core.demo.model import DemoEnvironment
from revive.core.node_status import FetchState
from revive.tui.app import ReviveApp
from revive.tui.screens.graph import GraphScreen
from revive.tui.session import LoadPlan, Session, open_session
from revive.tui.widgets.build_log import BuildLog
from revive.tui.widgets.drv_tree import NodeRef
from revive.tui.widgets.fod_list import FodList
from revive.tui.widgets.loading_panel import LoadingPanel


def _path_of(tmp_path: Path, *programs: str) -> str:
    """A PATH holding only ``programs`` and python (symbolic links in a fresh directory)."""
    where = tmp_path / "bin"
    where.mkdir()
    (where / "python3").symlink_to(sys.executable)
    for name in programs:
        found = shutil.which(name)
        assert found is not None, name
        (where / name).symlink_to(found)
    return str(where)


def _screen(app: ReviveApp) -> tuple[GraphScreen, Session]:
    screen = app.screen
    assert isinstance(screen, GraphScreen) and screen.session is not None
    return screen, screen.session


def _fod_list_row(fod_list: FodList, path: str) -> str:
    """The FOD list's line for ``path``, as text."""
    fod_list.select_path(path)
    row = fod_list.cursor - int(fod_list.scroll_offset.y) + 1
    return "".join(segment.text for segment in fod_list.render_line(row))


def _by_name(session: Session, name: str) -> str:
    return next(p for p in session.fods if p.endswith(f"-{name}.drv"))


async def wait_for_workers(app: App[object]) -> None:
    """Wait for every worker, including one failing on purpose.

    Waiting raises for a worker that fails while it is waited for (and not
    for one already removed): the tests read the failure on screen instead.
    """
    with contextlib.suppress(WorkerFailed):
        await app.workers.wait_for_complete()


async def failed_to_load(app: ReviveApp, pilot: Pilot[object]) -> tuple[GraphScreen, LoadingPanel]:
    """The main screen and its loading panel once loading has failed (no session)."""
    await wait_for_workers(app)
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, GraphScreen) and screen.session is None
    return screen, screen.query_one(LoadingPanel)


def embedded_plan(tmp_path: Path, store: Path, root: str) -> LoadPlan:
    """Open ``root`` from the store copy ``store``, fetching into an embedded store of its own."""
    return LoadPlan(
        roots=(root,), store=str(store), store_root=tmp_path / "fetched", backend="embedded"
    )


async def test_demo_opens_with_no_vcs_program_and_says_what_each_source_needs(
    make_app: Callable[..., ReviveApp], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN a PATH with only python WHEN the demo is generated and opened THEN every source
    is in the tree, the VCS ones marked "needs X (not installed)" in tree, list and Log tab,
    fetching one says the program is missing, and the url-fetch sources fetch offline."""
    monkeypatch.setenv("PATH", _path_of(tmp_path))
    plan = LoadPlan(
        demo=True,
        demo_serve=True,
        demo_dir=tmp_path / "demo",
        store_root=tmp_path / "fetched",
        backend="embedded",
    )
    # First run: the loading panel shows the generation's steps, with a total.
    shown: list[tuple[GenerateProgress, float | None, float]] = []
    show = LoadingPanel.show_generating

    def spy(panel: LoadingPanel, progress: GenerateProgress) -> None:
        show(panel, progress)
        bar = panel.query_one(ProgressBar)
        shown.append((progress, bar.total, bar.progress))

    monkeypatch.setattr(LoadingPanel, "show_generating", spy)
    app = make_app(plan)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_workers(app)
        await pilot.pause()
        assert [p.done for p, _, _ in shown] == list(range(15))
        assert [(total, done) for _, total, done in shown[6:]] == [(14, d) for d in range(6, 15)]
        screen, session = _screen(app)
        assert len(session.fods) == 54 and not session.graph.problems
        svn = _by_name(session, "texlive-ae-2019.3-checkout")
        label = screen.drv_tree.label_text(NodeRef(svn, ("out",), True)).plain
        assert label == "○ texlive-ae-2019.3-checkout svn·script needs svn (not installed) [out]"
        for name, program in (
            ("seek-1.0.3-checkout", "hg"),
            ("indicator-demo-0.4-checkout", "brz"),
            ("emacs-w3m-1.4.632-checkout", "cvs"),
            ("txt2man-1.6.0-checkout", "git"),
        ):
            status = session.node_status(_by_name(session, name))
            assert status.reason == f"needs {program} (not installed)"
            assert status.state is FetchState.NOT_FETCHED
        # Not failures: `e` has nothing to jump to yet.
        assert session.failing_positions() == ()

        # The Log tab says why, and what to do.
        screen.drv_tree.reveal(svn)
        await pilot.press("3")
        await pilot.pause()
        log = screen.query_one(BuildLog)
        assert log.path == svn
        shown = "\n".join(strip.text for strip in log.lines_widget.lines)
        assert shown.startswith("needs svn (not installed): the demo's repository for it")
        assert "install the Debian package 'subversion'" in shown
        title = str(log.query_one("#build-log-title", Label).render())
        # Not "press b": b would only say the same (found by the first-hour walk).
        assert title == "Cannot be fetched here: needs svn (not installed)."

        # The FOD list too (wide enough for the whole reason: i9-tui shortens labels).
        await pilot.press("f")
        await pilot.resize_terminal(200, 36)
        await pilot.pause()
        row = _fod_list_row(screen.fod_list, svn)
        assert "texlive-ae-2019.3-checkout" in row
        assert "not fetched: needs svn (not installed)" in row

        # Fetching it anyway: a clear, distinct failure, not a crash.
        worker = screen.start_build(svn)
        assert worker is not None
        await wait_for_workers(app)
        await pilot.pause()
        status = session.node_status(svn)
        assert status.state is FetchState.FAILED
        assert status.failure is not None
        assert status.failure.startswith(
            "tool missing: svn is not installed (not found on PATH); "
            "install the Debian package 'subversion'"
        )
        assert session.log(svn)[-1].startswith("✘ tool missing: svn is not installed")

        # The url-fetch part of the story needs no program at all.
        await pilot.resize_terminal(*SIZE)
        hello = _by_name(session, "hello-2.10.tar.gz")
        assert session.node_status(hello).reason is None
        screen.start_build(hello)
        await wait_for_workers(app)
        await pilot.pause()
        assert session.node_status(hello).state is FetchState.VALID
        gone = _by_name(session, "flowCore_1.52.1.tar.gz")
        screen.start_build(gone)
        await wait_for_workers(app)
        await pilot.pause()
        assert (session.node_status(gone).failure or "").startswith("not found")
        # Rewritten, both broken-on-purpose sources fetch: the tarball from the
        # content-addressed mirror, the moved git checkout from the nar mirror (no git).
        moved = _by_name(session, "kopi-0.4.1-checkout")
        assert session.node_status(moved).reason == "needs git (not installed)"
        for path in (gone, moved):
            session.write_rewrite(path, session.preview_rewrite(path))
            screen.start_build(path)
            await wait_for_workers(app)
            await pilot.pause()
            assert session.node_status(path).state is FetchState.VALID, session.log(path)
            assert session.node_status(path).reason is None
        assert any("nar" in line for line in session.log(moved))
        # Failed fetches are events in their logs, not crashes of their workers.
        assert app.errors == []


async def test_a_loading_failure_stays_on_screen_until_the_user_acts(
    make_app: Callable[..., ReviveApp], demo_env: DemoEnvironment, tmp_path: Path
) -> None:
    """An unreadable store: the loading area shows the error and the next step, stays, and
    r loads again once the cause is fixed."""
    store = tmp_path / "store"
    root = demo_env.roots[0].drv_path
    app = make_app(embedded_plan(tmp_path, store, root))
    async with app.run_test(size=SIZE) as pilot:
        screen, panel = await failed_to_load(app, pilot)
        assert panel.failed == f"{store}: no such store directory"
        error = panel.query_one("#loading-error", Static)
        advice = panel.query_one("#loading-next", Static)
        assert error.display and advice.display
        assert str(store) in str(error.render())
        assert "--store DIR" in str(advice.render()) and "press r" in str(advice.render())
        assert not panel.query_one(ProgressBar).display
        assert screen.has_class("-loading") and panel.has_focus
        # Still there: only the user removes it.
        await pilot.pause(0.2)
        for _ in range(5):
            await pilot.pause()
        assert panel.failed is not None and panel.has_class("-failed")
        assert app.errors == [f"Loading: {store}: no such store directory"]

        # r: the same cause, the same failure, still in place.
        await pilot.press("r")
        await wait_for_workers(app)
        await pilot.pause()
        assert panel.failed == f"{store}: no such store directory"

        # Fix the cause, r again: it opens.
        shutil.copytree(demo_env.store_dir, store)
        await pilot.press("r")
        await wait_for_workers(app)
        await pilot.pause()
        assert screen.session is not None and not screen.has_class("-loading")
        assert panel.failed is None and screen.drv_tree.has_focus


async def test_a_demo_that_cannot_be_generated_says_so_in_place(
    make_app: Callable[..., ReviveApp], tmp_path: Path
) -> None:
    """The demo directory holds something else: the error and what to do, not a hang."""
    demo_dir = tmp_path / "demo"
    demo_dir.mkdir()
    (demo_dir / "notes.txt").write_text("mine\n")
    app = make_app(LoadPlan(demo=True, demo_dir=demo_dir, store_root=tmp_path / "fetched"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_workers(app)
        await pilot.pause()
        panel = app.screen.query_one(LoadingPanel)
        assert panel.failed == f"{demo_dir}: exists and is not a guix-revive demo; not touching it"
        advice = str(panel.query_one("#loading-next", Static).render())
        assert f"could not be generated or opened in {demo_dir}" in advice
        assert (demo_dir / "notes.txt").read_text() == "mine\n"


async def test_generation_progress_shows_steps_done_of_all() -> None:
    """The panel's bar and line follow the generation's steps (not 0 %)."""

    class Harness(App[None]):
        def compose(self) -> ComposeResult:
            yield LoadingPanel()

    app = Harness()
    async with app.run_test() as pilot:
        panel = app.query_one(LoadingPanel)
        panel.show_generating(GenerateProgress(2, None, "writing the 2020 tools"))
        await pilot.pause()
        bar = panel.query_one(ProgressBar)
        assert bar.total is None
        panel.show_generating(GenerateProgress(9, 14, "created svn/www.tug.org/texlive"))
        await pilot.pause()
        assert (bar.total, bar.progress) == (14, 9)
        label = str(panel.query_one("#loading-label", Label).render())
        assert label == (
            "Generating the demo environment (first run only) (9 of 14 steps): "
            "created svn/www.tug.org/texlive…"
        )


async def _fetch(session: Session, path: str) -> None:
    async for event in session.backend().build(session.build_target(path)):
        session.record_event(path, event)


async def test_status_after_reopening_is_shared_by_twins(
    make_app: Callable[..., ReviveApp], demo_env: DemoEnvironment, tmp_path: Path
) -> None:
    """GIVEN one of two derivations with the same output fetched WHEN the demo is opened
    again THEN both show as present; so does an output found in a read-only store copy."""
    plan = LoadPlan(
        demo=True,
        demo_serve=True,
        demo_dir=demo_env.demo_dir,
        store_root=tmp_path / "fetched",
        backend="embedded",
    )
    session = open_session(plan)
    try:
        twins = [p for p in session.fods if p.endswith("-findutils-4.6.0.tar.gz.drv")]
        assert len(twins) == 2 and session.twins(twins[0]) == tuple(twins)
        assert session.output_path(twins[0]) == session.output_path(twins[1])
        await _fetch(session, twins[0])
        # In the same session the twin is present at once.
        assert [session.node_status(p).state for p in twins] == [FetchState.VALID] * 2
        output = session.output_path(twins[0]) or ""
        fetched = session.backend().physical_path(output)  # type: ignore[attr-defined]
    finally:
        session.close()

    app = make_app(plan)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_workers(app)
        await pilot.pause()
        screen, session = _screen(app)
        assert [session.node_status(p).state for p in twins] == [FetchState.VALID] * 2
        for path in twins:
            label = screen.drv_tree.label_text(NodeRef(path, ("out",), True)).plain
            assert label.startswith("✔ findutils-4.6.0.tar.gz url·")
        others = [p for p in session.fods if p not in twins]
        assert all(session.node_status(p).state is FetchState.NOT_FETCHED for p in others)

    # A copy of the store that holds the output (as /gnu/store would): present too,
    # with a fresh embedded store that has nothing.
    copy = tmp_path / "copy"
    shutil.copytree(demo_env.store_dir, copy)
    shutil.copy2(fetched, copy / fetched.name)
    plain = LoadPlan(
        roots=demo_env.root_paths,
        store=str(copy),
        store_root=tmp_path / "empty",
        backend="embedded",
    )
    reopened = open_session(plain)
    changed = reopened.check_outputs()
    assert set(changed) >= set(twins)
    assert [reopened.node_status(p).state for p in twins] == [FetchState.VALID] * 2


def test_any_closure_says_which_sources_need_a_missing_program(
    demo_env: DemoEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not only the demo: with the embedded backend, a source whose fetch program is not
    installed is marked once the closure is checked; with the Guix backend it is not."""
    monkeypatch.setenv("PATH", _path_of(tmp_path, "git"))
    plan = LoadPlan(
        roots=demo_env.root_paths,
        store=str(demo_env.store_dir),
        store_root=tmp_path / "fetched",
        backend="embedded",
    )
    session = open_session(plan)
    assert all(session.node_status(p).reason is None for p in session.fods)
    changed = session.check_outputs()
    blocked = {session.kind(p).name: session.node_status(p).reason for p in changed}
    assert blocked == {
        "texlive-ae-2019.3-checkout": "needs svn (not installed)",
        "texlive-latex-fancyvrb-2019.3-checkout": "needs svn (not installed)",
        "seek-1.0.3-checkout": "needs hg (not installed)",
        "indicator-demo-0.4-checkout": "needs brz (not installed)",
        "emacs-w3m-1.4.632-checkout": "needs cvs (not installed)",
    }
    seek = _by_name(session, "seek-1.0.3-checkout")
    assert session.log(seek) == (
        "needs hg (not installed): the embedded builders run hg; "
        "install the Debian package 'mercurial' and start again",
    )
    # Checking again changes nothing.
    assert session.check_outputs() == ()
    guix = open_session(LoadPlan(roots=plan.roots, store=plan.store, backend="guix"))
    assert guix._block_missing_programs() == []  # noqa: SLF001 - the daemon fetches, not us


def test_the_demo_never_goes_to_an_installed_guix(
    demo_plan: LoadPlan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A workshop machine with Guix installed: the demo still fetches from its loopback servers."""
    bin_dir = tmp_path / "bin"
    write_program(bin_dir, "guix", "#!/bin/sh\necho 'this guix must not run' >&2\nexit 99\n")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    session = open_session(demo_plan)
    try:
        assert session.plan.backend == "embedded"
    finally:
        session.close()


async def test_a_malformed_root_is_a_loading_failure_not_a_tree(
    make_app: Callable[..., ReviveApp], tmp_path: Path
) -> None:
    """``guix-revive bad.drv``: the parse error with its position, in the loading area."""
    store = tmp_path / "store"
    store.mkdir()
    bad = store / "0123456789abcdfghijklmnpqrsvwxyz-bad.drv"
    bad.write_text('Derive([("out","/gnu/store/oops')
    app = make_app(embedded_plan(tmp_path, store, str(bad)))
    async with app.run_test(size=SIZE) as pilot:
        screen, panel = await failed_to_load(app, pilot)
        assert panel.failed is not None
        assert panel.failed.startswith(f"{bad}:1:") and "unterminated string" in panel.failed
