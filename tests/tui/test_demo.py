"""The demo environment in the app: start-up, badges, the whole offline story, errors.

The story of the issue's "done when": a new user opens the demo, finds the
source download that fails, sees its old and rewritten forms side by side,
rewrites it and fetches it — with the demo's loopback servers, no network.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from textual.widgets import Label
from tui_pilot import SIZE, running, settled

from revive.core import base32
from revive.core.demo.model import DemoEnvironment
from revive.core.node_status import FetchState
from revive.tui.app import ReviveApp
from revive.tui.screens.batch import BatchScreen
from revive.tui.screens.help import HelpScreen
from revive.tui.screens.rewrite import RewriteScreen
from revive.tui.screens.why import WhyScreen
from revive.tui.session import LoadPlan, Session
from revive.tui.widgets.build_log import BuildLog
from revive.tui.widgets.diff_view import DiffView
from revive.tui.widgets.drv_tree import DerivationTree, NodeRef
from revive.tui.widgets.drv_view import DerivationView


async def test_no_argument_opens_the_demo_with_every_fetch_method(
    make_app: Callable[..., ReviveApp],
    demo_plan: LoadPlan,
    lines_of: Callable[[DerivationTree], list[str]],
) -> None:
    """Loading runs in a worker; the tree shows the 2020 profile and the older roots."""
    app = make_app(demo_plan)
    async with running(app) as (pilot, screen):
        session = screen.session
        assert screen.sub_title == "demo: profile computed by an April 2020 Guix (+3 older roots)"
        lines = lines_of(screen.drv_tree)
        assert lines[0] == "  profile"
        assert "    r-flowcore-1.52.1 [out]" in lines
        # The older roots are there too, collapsed: a 2015 package and two sources.
        assert "  sxiv-1.3.2" in lines
        assert "○ findutils-4.6.0.tar.gz url·script" in lines
        assert "○ txt2man-1.7.1-checkout git·builtin" in lines
        # A badge per fetch method and era.
        assert {session.kind(p).badge for p in session.fods} == {
            "url·builtin",
            "url/exec·builtin",
            "url·script",
            "git·builtin",
            "git·script",
            "svn·script",
            "svn-multi·script",
            "hg·script",
            "bzr·script",
            "cvs·script",
        }
        # Each method's chip has a style of its own (theme colours), so the
        # seven methods tell apart at a glance; the era is styled apart too.
        tree = screen.drv_tree
        chip_styles = {}
        for path in session.fods:
            kind = session.kind(path)
            label = tree.label_text(NodeRef(path, (), True))
            chip = next(
                span for span in label.spans if label.plain[span.start : span.end] == kind.method
            )
            chip_styles.setdefault(kind.method, set()).add(str(chip.style))
        assert all(len(styles) == 1 for styles in chip_styles.values())
        methods = ("url", "git", "svn", "hg", "bzr", "cvs")
        assert len({next(iter(chip_styles[m])) for m in methods}) == len(methods)
        # Nothing fetched yet in this fresh store; the hint says what to try.
        assert {session.node_status(p).state for p in session.fods} == {FetchState.NOT_FETCHED}
        assert "start with --demo-serve" in str(screen.query_one("#hint").render())
        assert app.errors == []


async def test_the_whole_story_offline(
    make_app: Callable[..., ReviveApp], serve_plan: LoadPlan, demo_env: DemoEnvironment
) -> None:
    """Find the failing download, see the diff, rewrite it, fetch it: all from the keyboard."""
    app = make_app(serve_plan)
    gone = demo_env.special_of("upstream-gone").drv_path
    async with running(app) as (pilot, screen):
        session = screen.session
        tree = screen.drv_tree

        # Fetch everything (B); the batch ends with a summary, failures first.
        await pilot.press("B")
        await settled(app, pilot)
        batch = app.screen
        assert isinstance(batch, BatchScreen) and not batch.running
        assert batch.done == batch.total == len(session.fods)
        # The two broken on purpose fail: the gone tarball and the moved repository.
        assert batch.results == {"fetched": len(session.fods) - 2, "failed": 2}
        failed = sorted(row[0] for row in batch.rows if row[2].startswith("failed: not found"))
        assert failed == ["flowCore_1.52.1.tar.gz", "kopi-0.4.1-checkout"]
        await pilot.press("escape")
        await pilot.pause()

        # e goes to the one failing node; its log says why.
        await pilot.press("e")
        await pilot.pause()
        assert tree.cursor_path == gone
        status = session.node_status(gone)
        assert status.state is FetchState.FAILED
        assert status.failure is not None and status.failure.startswith("not found:")
        assert tree.cursor_node is not None and tree.cursor_node.data is not None
        label = tree.label_text(tree.cursor_node.data).plain
        assert label == "✘ flowCore_1.52.1.tar.gz url·builtin not found [out]"
        log = session.log(gone)
        assert log[0].startswith("▶ fetching ")
        assert any("https://bioconductor.org/packages/release" in line for line in log)
        assert log[-1].startswith("✘ not found:")
        # The 404s are the demo's loopback servers playing a gone upstream: said so.
        assert any("HTTP 404 Not Found (from the demo's loopback server)" in x for x in log)
        # The log shows the URLs the derivation names: no port, no temporary directory.
        assert not any("127.0.0.1" in line or str(demo_env.demo_dir) in line for line in log)
        # Its Derivation tab reads like `guix-revive show`: every label ends with
        # ": ", lists one entry per line, store paths never cut by a space.
        record = screen.query_one(DerivationView).plain
        drv = session.graph.derivation(gone)
        assert drv.fixed_output is not None
        nix32 = base32.encode(bytes.fromhex(drv.fixed_output.hash))
        for line in (
            "fetch: url-fetch",
            "era: builtin (builtin:download, run by the daemon itself (Guix 2016-11 → today))",
            f"hash: {nix32}",
            "hash algo: sha256",
            "inputs: none",
            "system: x86_64-linux",
            "builder:",
            "  builtin:download",
            "  preferLocalBuild: 1",
            f"  {drv.outputs[0].path}  [out]",
            f"  out: {drv.outputs[0].path}",
        ):
            assert line in record.split("\n"), line

        # r: the rewrite dialog shows old against new, side by side.
        await pilot.press("r")
        await settled(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, RewriteScreen)
        text = "\n".join(dialog.query_one(DiffView).plain_lines())
        assert "equivalent" in text and "disarchive-mirrors" in text
        await pilot.press("enter")
        await settled(app, pilot)
        assert app.screen is screen
        rewritten = session.node_status(gone).rewritten_drv
        assert rewritten is not None and rewritten != gone
        assert session.backend().is_valid(rewritten)

        # b fetches the rewritten form: through the content-addressed mirror.
        await pilot.press("b")
        await pilot.pause()
        await settled(app, pilot)
        assert session.node_status(gone).state is FetchState.VALID
        assert session.backend().is_valid(session.output_path(gone) or "")
        log = session.log(gone)
        assert any("content-addressed" in line for line in log)
        assert log[-1].startswith("✔ ")
        assert screen.query_one("#build-log", BuildLog).path == gone
        assert tree.cursor_node is not None and tree.cursor_node.data is not None
        label = tree.label_text(tree.cursor_node.data).plain
        # The badge describes the form fetched now, and says it was rewritten.
        assert label == "✔ flowCore_1.52.1.tar.gz url·builtin rewritten [out]"
        await pilot.press("e")
        assert app.errors == []


async def test_diff_tab_of_a_moved_git_repository(
    demo_app: ReviveApp, demo_env: DemoEnvironment
) -> None:
    """The Diff tab: the 2020 guile script on the left, builtin:git-download on the right."""
    moved = demo_env.special_of("repository-moved").drv_path
    async with running(demo_app, reveal=moved) as (pilot, screen):
        await pilot.press("2")
        await settled(demo_app, pilot)
        diff = screen.query_one(DiffView)
        lines = diff.plain_lines()
        assert any("builtin:git-download" in line for line in lines)
        row = next(r for r in diff.rows if "".join(s.text for s in r.left).startswith("builder = "))
        assert "guile" in "".join(s.text for s in row.left)
        assert "builtin:git-download" in "".join(s.text for s in row.right)
        # u: unified, one column with - and + lines.
        await pilot.press("u")
        unified = diff.plain_lines()
        assert any(line.startswith("-") and "guile" in line for line in unified)
        assert any(line.startswith("+") and "builtin:git-download" in line for line in unified)
        # The Derivation tab shows the fetch spec extracted from the old script.
        await pilot.press("1")
        await pilot.pause()
        record = screen.query_one(DerivationView).plain
        assert "fetch: git-fetch" in record
        assert "url: https://gitlab.com/kopi-project/kopi.git" in record


async def test_search_by_url_and_hash(
    demo_app: ReviveApp, demo_session: Session, demo_env: DemoEnvironment
) -> None:
    """/ finds a download by its URL or by its nix-base32 hash, anywhere in the closure."""
    gone = demo_env.special_of("upstream-gone").drv_path
    drv = demo_session.graph.derivation(gone)
    assert drv.fixed_output is not None

    nix32 = base32.encode(bytes.fromhex(drv.fixed_output.hash))
    async with running(demo_app) as (pilot, screen):
        await pilot.press("slash", *"bioconductor")
        await pilot.pause()
        assert [m.path for m in screen.matches] == [gone]
        assert screen.drv_tree.cursor_path == gone
        assert str(screen.query_one("#search-count", Label).render()) == "1/1"
        detail = str(screen.query_one("#search-detail", Label).render())
        assert detail.startswith('url: "https://bioconductor.org/packages/release/')
        await pilot.press("escape", "slash", *nix32[:8], "enter")
        await pilot.pause()
        assert screen.drv_tree.cursor_path == gone
        assert screen.drv_tree.has_focus


async def test_why_referrers_and_keys(
    demo_app: ReviveApp, demo_session: Session, demo_env: DemoEnvironment
) -> None:
    """w shows the path from the root, the Referrers tab who uses it, ? every key."""
    gone = demo_env.special_of("upstream-gone").drv_path
    async with running(demo_app, reveal=gone) as (pilot, screen):
        await pilot.press("w")
        await pilot.pause()
        why = demo_app.screen
        assert isinstance(why, WhyScreen)
        assert why.chains and all(
            c[0].endswith("-profile.drv") and c[-1] == gone for c in why.chains
        )
        await pilot.press("escape", "4")
        await pilot.pause()
        referrers = screen.query_one("#referrers")
        assert referrers.option_count == len(demo_session.referrers(gone)) >= 1  # type: ignore[attr-defined]
        await pilot.press("question_mark")
        await pilot.pause()
        keys = demo_app.screen
        assert isinstance(keys, HelpScreen)
        titles = [title for title, _ in keys.sections]
        assert titles[:3] == ["Everywhere", "Main screen", "Tree"]
        tree_keys = dict(dict(keys.sections)["Tree"])
        assert tree_keys["n"].startswith("Next fixed-output")
        assert tree_keys["e"] == "Next node that failed"
        assert "r" in tree_keys and "b" in tree_keys and "x" in tree_keys and "y" in tree_keys
        # b is listed once (its greyed-out stand-in on packages is not a key of its own).
        main_keys = [key for key, _ in dict(keys.sections)["Main screen"]]
        assert main_keys.count("b") == 1
        assert "New location (m)" in titles and "Rewrite all? (R)" in titles
        await pilot.press("escape")
        await pilot.pause()
        assert demo_app.screen is screen


async def test_command_palette_runs_rewrite_all(demo_app: ReviveApp, demo_session: Session) -> None:
    """ctrl+p → "Rewrite all downloads": every FOD rewritten and written, with a summary."""
    async with demo_app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p", *"rewrite all")
        await pilot.pause()
        await pilot.press("enter")
        await settled(demo_app, pilot)
        await pilot.press("enter")  # the confirmation, as for R
        await settled(demo_app, pilot)
        batch = demo_app.screen
        assert isinstance(batch, BatchScreen) and not batch.running
        assert batch.total == len(demo_session.fods)
        assert batch.results["rewritten"] + batch.results["already in today's form"] == batch.total
        assert batch.results["already in today's form"] >= 1  # the 2024 git checkout
        rewritten = [p for p in demo_session.fods if demo_session.node_status(p).rewritten_drv]
        assert len(rewritten) == batch.results["rewritten"]


async def test_broken_nodes_show_their_error_inline(
    make_app: Callable[..., ReviveApp], demo_env: DemoEnvironment, tmp_path: Path
) -> None:
    """A missing .drv is a line of the tree with its error; a failing worker, one notification."""
    store = tmp_path / "store"
    shutil.copytree(demo_env.store_dir, store)
    missing = demo_env.special_of("repository-moved").drv_path
    (store / missing.rsplit("/", 1)[1]).unlink()
    # A script-era FOD whose builder script is gone cannot be rewritten.
    seek = next(s for s in demo_env.sources if "seek" in s.drv_path)
    app_plan = LoadPlan(
        roots=(demo_env.roots[0].drv_path,), store=str(store), store_root=tmp_path / "fetched"
    )
    app = make_app(app_plan)
    async with running(app) as (pilot, screen):
        session = screen.session
        await pilot.press("e")
        await pilot.pause()
        tree = screen.drv_tree
        assert tree.cursor_path == missing
        assert tree.cursor_node is not None and tree.cursor_node.data is not None
        label = tree.label_text(tree.cursor_node.data).plain
        assert label == "! kopi-0.4.1-checkout  missing [out]"
        assert "not in the store" in screen.query_one(DerivationView).plain
        assert tree.check_action("rewrite_node", ()) is None

        seek_drv = session.graph.derivation(seek.drv_path)
        script = seek_drv.args[-1]
        (store / script.rsplit("/", 1)[1]).unlink()
        session._classes.clear()  # noqa: SLF001 - forget what was read before the deletion
        session._kinds.clear()  # noqa: SLF001
        screen.action_reveal(seek.drv_path)
        await pilot.press("r")
        await settled(app, pilot)
        assert app.screen is screen
        assert len(app.errors) == 1
        assert app.errors[0].startswith("Rewriting: ")
        assert "not in the store" in app.errors[0]
