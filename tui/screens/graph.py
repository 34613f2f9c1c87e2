"""The main screen: the closure as a tree (or a list of downloads) and the selected node."""

from __future__ import annotations

import asyncio
from typing import ClassVar, Protocol

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import (
    Header,
    Label,
    Static,
    TabbedContent,
    TabPane,
)
from textual.worker import Worker, WorkerState, get_current_worker

from revive.core.closure import LoadProgress
from revive.core.errors import ReviveError
from revive.core.node_status import FetchState
from revive.core.search import SearchMatch
from revive.tui.messages import (
    BuildRequested,
    CancelRequested,
    LoadProgressed,
    NodeFocused,
    RevealNode,
    RewriteRequested,
    SearchChanged,
    SearchClosed,
    SearchStep,
    StatusChanged,
    WhyRequested,
    WorkerFailed,
)
from revive.tui.screens.archival_actions import ARCHIVAL_BINDINGS, ArchivalActions
from revive.tui.session import (
    LoadPlan,
    RewritePreview,
    RootsRead,
    Session,
    one_line,
    open_session,
)
from revive.tui.widgets.archival_panel import ArchivalPanel
from revive.tui.widgets.build_log import BuildLog
from revive.tui.widgets.diff_view import DiffView
from revive.tui.widgets.drv_tree import DerivationTree
from revive.tui.widgets.drv_view import DerivationView
from revive.tui.widgets.fod_list import FodList
from revive.tui.widgets.footer import ReviveFooter
from revive.tui.widgets.loading_panel import LoadingPanel, RetryLoading, next_step
from revive.tui.widgets.node_actions import NODE_ACTION_BINDINGS, NodeActions
from revive.tui.widgets.referrers import ReferrersList
from revive.tui.widgets.search_bar import SearchBar

__all__ = ["GraphScreen", "TABS"]

TABS: tuple[str, ...] = ("tab-derivation", "tab-diff", "tab-log", "tab-referrers")
"""The detail tabs, in order (keys 1–4)."""

MATCH_LIMIT = 1000
"""Matches collected per search: one letter can match all 50,000 nodes, and
collecting them all would make typing lag; the count then reads ``1000+``."""

_PARALLEL_FETCHES = 4
"""Fetches run at once by "fetch all": enough to overlap network waits, few
enough that one slow mirror does not starve the others."""


class GraphScreen(ArchivalActions, NodeActions, Screen[None]):
    """Tree (or FOD list) on the left, the selected node's details on the right."""

    CSS_PATH = "graph.tcss"

    HORIZONTAL_BREAKPOINTS = [
        (0, "-narrow"),
        (60, "-wide"),
    ]
    """Below 60 columns one pane shows at a time (``-narrow``: the tree, ``z`` the details)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "Search", tooltip="Search names, URLs, hashes, store paths"),
        Binding("f", "toggle_fod_only", "FODs only", tooltip="Flat list of every source download"),
        Binding("bracketright", "search_step(False)", "Next match", show=False),
        Binding("bracketleft", "search_step(True)", "Prev match", show=False),
        Binding("1", "show_tab('tab-derivation')", "Derivation", show=False),
        Binding("2", "show_tab('tab-diff')", "Diff", show=False),
        Binding("3", "show_tab('tab-log')", "Log", show=False),
        Binding("4", "show_tab('tab-referrers')", "Referrers", show=False),
        Binding("u", "toggle_unified", "Unified diff", show=False),
        Binding("z", "toggle_zoom", "Zoom", tooltip="Details on the whole width (or back)"),
        Binding(
            "m",
            "move_upstream",
            "New location",
            show=False,
            tooltip="The upstream moved: give where this download lives now",
        ),
        Binding("R", "rewrite_all", "Rewrite all", show=False),
        Binding("B", "fetch_all", "Fetch all", show=False),
        # The node actions also work while the detail pane has the focus.
        *NODE_ACTION_BINDINGS,
        *ARCHIVAL_BINDINGS,  # archival checks (issue 11): screens/archival_actions.py
    ]
    """
    | Key(s) | Description |
    | :- | :- |
    | / | Search the whole closure (names, URLs, hashes, store paths). |
    | ] / [ | Next / previous search match. |
    | f | Toggle the flat list of fixed-output nodes. |
    | 1 2 3 4 | Derivation, Diff, Log, Referrers tab. |
    | u | Side-by-side or unified diff. |
    | z | Give the details the whole width. |
    | m | The upstream moved: fetch this download from a new location (user override). |
    | R / B | Rewrite all / fetch all fixed-output nodes. |
    | a / A / X | Check where this download / every download is archived / cancel. |
    """

    fod_only: reactive[bool] = reactive(False, init=False)
    """Show the flat list of fixed-output nodes instead of the tree."""
    zoomed: reactive[bool] = reactive(False, init=False)
    """Hide the tree so the details use the whole width."""

    def __init__(self, plan: LoadPlan, session: Session | None = None) -> None:
        super().__init__()
        self.plan = plan
        """What to open."""
        self.session: Session | None = session
        """The model, once loaded."""
        self.focused_path: str | None = None
        """The node shown in the detail pane."""
        self.matches: tuple[SearchMatch, ...] = ()
        """The matches of the current search."""
        self.match_index = -1
        """The current match in :attr:`matches`."""
        self._search_origin: str | None = None
        self._builds: dict[str, Cancellable] = {}
        self._previews: dict[str, RewritePreview] = {}
        self._drawn_tabs: set[str] = set()
        self._draw_pending = False

    # --- layout ----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="")
        yield Static("", id="hint")
        with Horizontal(id="main"):
            with Vertical(id="left-pane"):
                yield SearchBar(id="search")
                yield LoadingPanel(id="loading")
                yield DerivationTree(id="drv-tree")
                yield FodList(id="fod-list")
                yield Static("", id="summary")
                # Shown below 60 columns only, where the details are one key away.
                yield Static("z: details of this node · ? every key", id="narrow-hint")
            with TabbedContent(id="detail", initial="tab-derivation"):
                with TabPane("Derivation", id="tab-derivation"):
                    yield DerivationView(id="drv-view")
                    yield ArchivalPanel(id="archival-panel", classes="-hidden")
                with TabPane("Diff", id="tab-diff"):
                    yield Label("", id="diff-title")
                    yield DiffView(id="diff-view")
                with TabPane("Log", id="tab-log"):
                    yield BuildLog(id="build-log")
                with TabPane("Referrers", id="tab-referrers"):
                    yield ReferrersList(id="referrers")
        yield ReviveFooter()

    @property
    def drv_tree(self) -> DerivationTree:
        """The tree pane."""
        return self.query_one(DerivationTree)

    @property
    def fod_list(self) -> FodList:
        """The flat list of fixed-output nodes."""
        return self.query_one(FodList)

    def on_mount(self) -> None:
        self.drv_tree.focus()
        if self.session is not None:
            self._show_session(self.session)
        else:
            self.add_class("-loading")
            self.load_closure()

    # --- loading ---------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="load", description="Loading")
    def load_closure(self) -> None:
        """Read the roots, then their whole closure (in a thread, with progress)."""
        worker = get_current_worker()

        def progressed(progress: LoadProgress) -> None:
            self.post_message(LoadProgressed(progress))

        panel = self.query_one(LoadingPanel)
        try:
            session = open_session(
                self.plan,
                on_roots=lambda roots: self.app.call_from_thread(self._show_roots, roots),
                on_progress=progressed,
                on_stage=lambda text: self.app.call_from_thread(panel.show_step, text),
                on_generate=lambda step: self.app.call_from_thread(panel.show_generating, step),
                cancel=worker.cancelled_event,
            )
        except Exception as error:
            # In place, until the user acts: a toast alone fades into a blank screen.
            advice = next_step(self.plan, error)
            if not worker.is_cancelled:
                self.app.call_from_thread(panel.show_failure, error, advice)
            raise
        if worker.is_cancelled:
            session.close()
        else:
            self.app.call_from_thread(self._show_session, session)

    def _show_roots(self, roots: RootsRead) -> None:
        self.sub_title = roots.title
        self.query_one(LoadingPanel).show_step("Reading the closure…")
        self.drv_tree.show_roots(roots.roots)

    @on(LoadProgressed)
    def _loading(self, event: LoadProgressed) -> None:
        self.query_one(LoadingPanel).show_reading(event.progress)

    @on(RetryLoading)
    def _retry_loading(self) -> None:
        self.drv_tree.focus()
        self.load_closure()

    def _show_session(self, session: Session) -> None:
        self.session = session
        self.sub_title = session.title
        self.remove_class("-loading")
        self.drv_tree.attach(session)
        self.fod_list.attach(session)
        self._show_hint(session)
        self._update_summary()
        self.index_closure()

    def _show_hint(self, session: Session) -> None:
        """On the demo, one line saying what to try (a workshop has no time for a manual)."""
        if session.demo is None:
            return
        if session.servers is not None:
            text = (
                "Demo, sources served offline · B fetch all · e next failure · "
                "r rewrite · b fetch · f downloads · / search · ? keys"
            )
        else:
            text = (
                "Demo · f downloads · n next download · r rewrite · ? keys · "
                "(start with --demo-serve to fetch offline)"
            )
        self.query_one("#hint", Static).update(Text(text))
        self.add_class("-hint")

    @on(Worker.StateChanged)
    def _funnel_errors(self, event: Worker.StateChanged) -> None:
        # Worker messages do not bubble; the app holds the one error funnel.
        if event.state is WorkerState.ERROR:
            self.post_message(WorkerFailed(event.worker))

    def on_unmount(self) -> None:
        if self.session is not None:
            self.session.close()

    @work(thread=True, exclusive=True, exit_on_error=False, group="index", description="Indexing")
    def index_closure(self) -> None:
        """Build the search index and check which outputs are already in the store."""
        session = self.session
        if session is None:
            return
        session.build_search_index()
        # Warm what the UI thread would otherwise compute on first use: the
        # referrers of every node (one pass over all edges) and the fetch
        # badge of every download (the FOD list sorts by them).
        session.referrers(session.outline.roots[0])
        for path in session.fods:
            session.kind(path)
        changed = session.check_outputs()
        if changed:
            self.post_message(StatusChanged(changed))

    def _update_summary(self) -> None:
        session = self.session
        if session is None:
            return
        counts = {state: 0 for state in FetchState}
        for path in session.fods:
            counts[session.node_status(path).state] += 1
        problems = len(session.graph.problems)
        text = Text()
        text.append(f"{len(session.graph):,} derivations · {len(session.fods):,} downloads")
        if counts[FetchState.VALID]:
            text.append(f" · {counts[FetchState.VALID]} ✔", "green")
        if counts[FetchState.FAILED]:
            text.append(f" · {counts[FetchState.FAILED]} ✘", "red")
        if counts[FetchState.FETCHING]:
            text.append(f" · {counts[FetchState.FETCHING]} ⇣", "yellow")
        if problems:
            text.append(f" · {problems} unreadable", "red")
        self.query_one("#summary", Static).update(text)

    # --- the selected node -----------------------------------------------------------

    @on(NodeFocused)
    def _focus_node(self, event: NodeFocused) -> None:
        self.show_node(event.path)

    def show_node(self, path: str) -> None:
        """Show ``path`` in the detail pane.

        The tab is drawn after the next screen refresh: the tree's cursor
        moves at once, and holding a key down draws the details once per
        frame rather than once per line. Only the visible tab is drawn.
        """
        if self.session is None:
            return
        self.focused_path = path
        self._drawn_tabs.clear()
        if not self._draw_pending:
            self._draw_pending = True
            self.call_after_refresh(self._draw_focused)

    def _draw_focused(self) -> None:
        self._draw_pending = False
        self._draw_tab(self.query_one(TabbedContent).active)
        self.refresh_actions()

    @on(TabbedContent.TabActivated, "#detail")
    def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        self._draw_tab(event.pane.id or "")

    def _draw_tab(self, tab: str) -> None:
        # Hidden tabs are drawn when they are shown: holding "j" down must
        # not re-layout four panes per line.
        session, path = self.session, self.focused_path
        if session is None or path is None or tab in self._drawn_tabs:
            return
        self._drawn_tabs.add(tab)
        if tab == "tab-derivation":
            node = session.node(path)
            view = self.query_one(DerivationView)
            if node.derivation is None:
                view.show_error(path, node.error or "unavailable")
            else:
                view.show_record(session.record(path))
            self._show_archival_panel()  # issue 11: screens/archival_actions.py
        elif tab == "tab-diff":
            self._show_diff(path)
        elif tab == "tab-log":
            status = session.node_status(path)
            self.query_one(BuildLog).show(
                path,
                session.log(path),
                status.fetching,
                fetchable=session.graph.is_fixed_output(path),
                blocked=None if status.valid else status.blocked,
            )
        elif tab == "tab-referrers":
            self.query_one(ReferrersList).show_referrers(path, session.referrers(path))

    def _redraw(self, path: str, tab: str) -> None:
        """``path``'s ``tab`` changed: redraw it now if it is on screen, else when shown."""
        if path != self.focused_path:
            return
        self._drawn_tabs.discard(tab)
        if self.query_one(TabbedContent).active == tab:
            self._draw_tab(tab)

    def _show_diff(self, path: str) -> None:
        session = self.session
        assert session is not None
        title = self.query_one("#diff-title", Label)
        diff = self.query_one(DiffView)
        preview = self._previews.get(path)
        if preview is not None:
            title.update(self._diff_heading(preview, diff))
            diff.show_rows(preview.rows)
            return
        diff.show_rows(())
        if not session.can_rewrite(path):
            title.update("Only fixed-output (source download) nodes are rewritten.")
            return
        title.update("Computing the rewritten form…")
        self.preview_rewrite(path)

    @work(thread=True, exclusive=True, exit_on_error=False, group="diff", description="Rewriting")
    def preview_rewrite(self, path: str) -> None:
        """Compute ``path``'s rewritten form and its diff (nothing is written)."""
        session = self.session
        assert session is not None
        preview = session.preview_rewrite(path)
        self.app.call_from_thread(self._preview_ready, path, preview)

    def _preview_ready(self, path: str, preview: RewritePreview) -> None:
        self._previews[path] = preview
        self._redraw(path, "tab-diff")

    def _diff_heading(self, preview: RewritePreview, diff: DiffView) -> Text:
        """The line above the diff: what each side is, and why one column if narrow."""
        text = Text(preview.heading(diff.shows_unified))
        if diff.narrow and not diff.unified:
            if self.zoomed:
                text.append(" (One column: the terminal is narrow.)")
            else:
                text.append(" (One column: the pane is narrow; z zooms.)")
        moved = self.session.known_new_location(preview.path) if self.session else None
        if moved is not None and not preview.overrides:
            text.append(" The upstream moved: m gives its new location.")
        return text

    @on(DiffView.ModeChanged, "#diff-view")
    def _diff_mode_changed(self, event: DiffView.ModeChanged) -> None:
        self._refresh_diff_heading()

    def _refresh_diff_heading(self) -> None:
        preview = self._previews.get(self.focused_path or "")
        if preview is not None:
            diff = self.query_one("#diff-view", DiffView)
            self.query_one("#diff-title", Label).update(self._diff_heading(preview, diff))

    # --- search ----------------------------------------------------------------------

    def action_search(self) -> None:
        """Open the search bar."""
        self._search_origin = self.drv_tree.cursor_path
        if self.fod_only:
            self.fod_only = False
        self.query_one(SearchBar).open()

    @on(SearchChanged)
    def _search(self, event: SearchChanged) -> None:
        session = self.session
        bar = self.query_one(SearchBar)
        if session is None or session.search_index is None:
            bar.set_count(0, 0)
            return
        self.matches = session.search_index.search(event.query, limit=MATCH_LIMIT)
        self.match_index = -1
        if self.matches:
            self._goto_match(0)
        else:
            self.drv_tree.set_match(None)
            bar.set_count(0, 0)

    def _goto_match(self, index: int) -> None:
        self.match_index = index % len(self.matches)
        match = self.matches[self.match_index]
        # Typing one more letter usually keeps the same first match: then
        # only the count changes, and the tree and details stay as they are.
        if match.path != self.drv_tree.match_path or self.drv_tree.cursor_path != match.path:
            self.drv_tree.set_match(match.path)
            self.drv_tree.reveal(match.path)
        detail = f"{match.field.kind}: {match.field.text}"
        total = len(self.matches)
        self.query_one(SearchBar).set_count(
            self.match_index + 1, total, detail, more=total >= MATCH_LIMIT
        )

    @on(SearchStep)
    def _search_step(self, event: SearchStep) -> None:
        self.action_search_step(event.backwards)

    def action_search_step(self, backwards: bool) -> None:
        """Go to the next (or previous) match of the last search."""
        if self.matches:
            self._goto_match(self.match_index + (-1 if backwards else 1))

    @on(SearchClosed)
    def _search_closed(self, event: SearchClosed) -> None:
        self.query_one(SearchBar).close()
        if not event.accepted and self._search_origin is not None:
            self.drv_tree.reveal(self._search_origin)
            self.matches = ()
            self.drv_tree.set_match(None)
        self.drv_tree.focus()

    # --- tree / list -----------------------------------------------------------------

    def action_toggle_fod_only(self) -> None:
        """Switch between the tree and the flat list of fixed-output nodes."""
        self.fod_only = not self.fod_only

    def watch_fod_only(self, fod_only: bool) -> None:
        self.set_class(fod_only, "-fod-only")
        if fod_only:
            if self.focused_path is not None:
                self.fod_list.select_path(self.focused_path)
            self.fod_list.focus()
        else:
            self.drv_tree.focus()

    @on(RevealNode)
    def _reveal(self, event: RevealNode) -> None:
        self.action_reveal(event.path)

    def action_reveal(self, path: str) -> None:
        """Show ``path`` in the tree (its first occurrence) and focus the tree."""
        self.fod_only = False
        if self.drv_tree.reveal(path):
            self.drv_tree.focus()

    def action_show_tab(self, tab: str) -> None:
        """Switch the detail pane to ``tab``."""
        self.query_one(TabbedContent).active = tab

    def action_toggle_unified(self) -> None:
        """Switch the diff between side by side and unified."""
        diff = self.query_one(DiffView)
        if diff.narrow and diff.unified is False:
            self.notify(
                "The pane is too narrow for two columns: z gives the diff the whole width.",
                timeout=5,
            )
            return
        diff.unified = not diff.unified

    def action_toggle_zoom(self) -> None:
        """Give the detail pane the whole width (or give the tree back)."""
        self.zoomed = not self.zoomed

    def watch_zoomed(self, zoomed: bool) -> None:
        self.set_class(zoomed, "-zoomed")
        if not zoomed:
            self._focus_left()
        # The heading's note on one column depends on the zoom (once laid out).
        self.call_after_refresh(self._refresh_diff_heading)

    def _focus_left(self) -> None:
        if self.fod_only:
            self.fod_list.focus()
        else:
            self.drv_tree.focus()

    def current_path(self) -> str | None:
        """The node the screen's node actions apply to: the one in the detail pane."""
        return self.focused_path

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Grey out "new location" on what is not a download."""
        if action == "move_upstream":
            session, path = self.session, self.focused_path
            fod = session is not None and path is not None and session.graph.is_fixed_output(path)
            return fod or None
        return super().check_action(action, parameters)

    # The tree's keys, for the command palette (which runs actions on the screen).

    def action_next_fod(self) -> None:
        """Go to the next fixed-output node in the tree."""
        self.drv_tree.action_next_fod()

    def action_previous_fod(self) -> None:
        """Go to the previous fixed-output node in the tree."""
        self.drv_tree.action_previous_fod()

    def action_next_failing(self) -> None:
        """Go to the next failing node (or say why there is none)."""
        self.action_reveal_tree()
        self.drv_tree.action_next_failing()

    def action_previous_failing(self) -> None:
        """Go to the previous failing node (or say why there is none)."""
        self.action_reveal_tree()
        self.drv_tree.action_previous_failing()

    def action_reveal_tree(self) -> None:
        """Show the tree (not the list of downloads) with the current node under the cursor."""
        self.fod_only = False
        if self.focused_path is not None and self.drv_tree.cursor_path != self.focused_path:
            self.drv_tree.reveal(self.focused_path)

    def action_why(self) -> None:
        """Why is the current node in the closure."""
        if self.focused_path is not None:
            self.explain(self.focused_path)

    @on(WhyRequested)
    def _why(self, event: WhyRequested) -> None:
        self.explain(event.path)

    @work(thread=True, exclusive=True, exit_on_error=False, group="why", description="Why")
    def explain(self, path: str) -> None:
        """Find the dependency paths from the roots to ``path`` (a graph walk: a thread)."""
        from revive.tui.screens.why import WhyScreen

        session = self.session
        if session is not None:
            chains = session.why(path)
            self.app.call_from_thread(self.app.push_screen, WhyScreen(path, chains))

    # --- status ----------------------------------------------------------------------

    @on(StatusChanged)
    def _status_changed(self, event: StatusChanged) -> None:
        self.refresh_status(event.paths)

    def refresh_status(self, paths: tuple[str, ...]) -> None:
        """Repaint what shows the status of ``paths`` (and of their twins)."""
        if self.session is not None:
            paths = self.session.with_twins(paths)
        self.drv_tree.refresh_paths(paths)
        self.fod_list.refresh_paths(paths)
        self._update_summary()
        if self.focused_path in paths and self.session is not None:
            self.query_one(BuildLog).set_running(self.session.status[self.focused_path].fetching)

    # --- rewrite ---------------------------------------------------------------------

    @on(RewriteRequested)
    def _rewrite(self, event: RewriteRequested) -> None:
        self.request_rewrite(event.path)

    @work(
        thread=True, exclusive=True, exit_on_error=False, group="rewrite", description="Rewriting"
    )
    def request_rewrite(self, path: str) -> None:
        """Compute the rewrite of ``path``, then ask before writing it."""
        session = self.session
        assert session is not None
        preview = self._previews.get(path) or session.preview_rewrite(path)
        self.app.call_from_thread(self._confirm_rewrite, path, preview)

    def _confirm_rewrite(self, path: str, preview: RewritePreview) -> None:
        from revive.tui.screens.rewrite import RewriteScreen

        self._previews[path] = preview
        self._redraw(path, "tab-diff")

        def written(confirmed: bool | None) -> None:
            if confirmed:
                self.write_rewrite(path, preview)

        self.app.push_screen(RewriteScreen(preview), written)

    @work(thread=True, exclusive=False, exit_on_error=False, group="write", description="Writing")
    def write_rewrite(self, path: str, preview: RewritePreview) -> None:
        """Write the rewritten ``.drv`` of ``path`` into the store."""
        session = self.session
        assert session is not None
        drv_path = session.write_rewrite(path, preview)
        where = session.written_location(drv_path)
        self.post_message(StatusChanged((path,)))
        self.app.call_from_thread(
            self.notify, f"Wrote {where}. Press b to fetch it.", title="Rewritten", timeout=8
        )

    def action_move_upstream(self) -> None:
        """Ask where the current download's upstream lives now (a per-run URL override)."""
        from revive.tui.screens.move_upstream import MoveUpstreamScreen

        session, path = self.session, self.focused_path
        if session is None or path is None:
            return
        try:
            locations = session.fetch_locations(path)
        except ReviveError as error:
            self.notify(one_line(error), title="No location to move", severity="error")
            return
        known = session.known_new_location(path)
        suggestion = known[1] if known is not None else ""

        def chosen(answer: tuple[str, str] | None) -> None:
            if answer is not None:
                self._moved_upstream(path, *answer)

        self.app.push_screen(MoveUpstreamScreen(path, locations, suggestion), chosen)

    def _moved_upstream(self, path: str, old: str, new: str) -> None:
        session = self.session
        assert session is not None
        try:
            session.move_upstream(old, new)
        except ReviveError as error:
            self.notify(one_line(error), title="Not a usable location", severity="error")
            return
        # The rule may apply to other downloads too: every preview is stale.
        self._previews.clear()
        self.query_one(TabbedContent).active = "tab-diff"
        self._redraw(path, "tab-diff")
        self.notify(
            f"Rewrites now fetch {new} instead of {old} (user override; the output "
            "hash is still checked). r writes it, then b fetches it.",
            title="New location",
            timeout=8,
        )

    # --- build -----------------------------------------------------------------------

    @on(BuildRequested)
    def _build(self, event: BuildRequested) -> None:
        self.start_build(event.path)

    @on(CancelRequested)
    def _cancel(self, event: CancelRequested) -> None:
        worker = self._builds.get(event.path)
        if worker is not None:
            worker.cancel()

    def start_build(self, path: str) -> Worker[None] | None:
        """Start fetching ``path`` (its rewritten form if written) in a worker."""
        session = self.session
        if session is None or not self._begin_build(path):
            return None
        worker = self.run_worker(
            self._run_build(path),
            name=path,
            group="build",
            exit_on_error=False,
            description=f"Fetching {session.kind(path).name}",
        )
        self._builds[path] = worker
        return worker

    def _begin_build(self, path: str) -> bool:
        """Mark ``path`` as fetching and show its log; False if it cannot be fetched."""
        session = self.session
        if session is None or not session.can_build(path):
            return False
        session.clear_log(path)
        session.status.started(path)
        if path == self.focused_path:
            self.query_one(TabbedContent).active = "tab-log"
            self._redraw(path, "tab-log")
        self.refresh_status((path,))
        return True

    async def _run_build(self, path: str) -> None:
        session = self.session
        assert session is not None
        log = self.query_one(BuildLog)
        finished = False
        try:
            store = await asyncio.to_thread(session.backend)
            target = session.build_target(path)
            async for event in store.build(target):
                line = session.record_event(path, event)
                if line is not None:
                    log.append(path, line)
                progress = session.event_progress(event)
                if progress is not None:
                    log.set_progress(path, *progress)
                if session.event_ends(event):
                    finished = True
                    self.refresh_status((path,))
        except asyncio.CancelledError:
            line = session.record_cancel(path)
            log.append(path, line)
            raise
        except Exception as error:
            session.record_failure(path, error)
            log.append(path, session.log(path)[-1])
            raise
        finally:
            if not finished:
                session.status.stopped(path)
            self._builds.pop(path, None)
            self.refresh_status((path,))

    # --- batches ---------------------------------------------------------------------

    async def action_fetch_all(self) -> None:
        """Fetch every fixed-output node that is not in the store yet."""
        from revive.tui.screens.batch import BatchScreen

        session = self.session
        if session is None:
            return
        todo = tuple(
            p for p in session.fods if session.can_build(p) and not session.status[p].valid
        )
        screen = BatchScreen("Fetch all downloads", len(todo), self.cancel_batch)
        await self.app.push_screen(screen)  # mounted before the batch reports to it
        self.fetch_all(todo, screen)

    @work(exclusive=True, exit_on_error=False, group="batch", description="Fetching all")
    async def fetch_all(self, paths: tuple[str, ...], screen: BatchScreenLike) -> None:
        """Fetch ``paths``, a few at a time, reporting to ``screen``."""
        session = self.session
        assert session is not None
        limit = asyncio.Semaphore(_PARALLEL_FETCHES)

        async def one(path: str) -> None:
            async with limit:
                if self._begin_build(path):
                    task = asyncio.ensure_future(self._run_build(path))
                    self._builds[path] = task
                    try:
                        await task
                    except asyncio.CancelledError:
                        current = asyncio.current_task()
                        if current is not None and current.cancelling():
                            raise  # the whole batch is being stopped
                    except Exception:  # noqa: BLE001 - in the node's status and log
                        pass
                status = session.status[path]
                if status.valid:
                    result = "fetched"
                else:
                    result = f"failed: {status.failure or 'cancelled'}"
                kind = session.kind(path)
                screen.advance(kind.name, kind.badge, result)

        try:
            await asyncio.gather(*(one(p) for p in paths))
        finally:
            screen.finish()

    async def action_rewrite_all(self) -> None:
        """Ask, then rewrite every fixed-output node and write the rewritten forms."""
        from revive.tui.screens.confirm import ConfirmScreen

        session = self.session
        if session is None:
            return
        todo = tuple(p for p in session.fods if session.can_rewrite(p))
        where = await asyncio.to_thread(session.store_location)
        overrides = len(session.plan.url_map.rules)
        lines = [
            f"{len(todo):,} fixed-output derivations are rewritten into today's form "
            "(same output paths; those already in today's form are left as they are).",
            f"The rewritten .drv files are written to {where}.",
            "Nothing is fetched: B fetches them afterwards.",
        ]
        if overrides:
            lines.append(f"Your URL map moves {overrides} upstream(s) (user overrides).")

        async def confirmed(answer: bool | None) -> None:
            if answer:
                await self._start_rewrite_all(todo)

        await self.app.push_screen(
            ConfirmScreen(f"Rewrite all {len(todo):,} downloads?", lines, "Rewrite all"),
            confirmed,
        )

    async def _start_rewrite_all(self, todo: tuple[str, ...]) -> None:
        from revive.tui.screens.batch import BatchScreen

        screen = BatchScreen("Rewrite all downloads", len(todo), self.cancel_batch)
        await self.app.push_screen(screen)  # mounted before the batch reports to it
        self.rewrite_all(todo, screen)

    @work(
        thread=True, exclusive=True, exit_on_error=False, group="batch", description="Rewriting all"
    )
    def rewrite_all(self, paths: tuple[str, ...], screen: BatchScreenLike) -> None:
        """Rewrite and write ``paths`` one by one, reporting to ``screen``."""
        session = self.session
        assert session is not None
        worker = get_current_worker()
        try:
            for path in paths:
                if worker.is_cancelled:
                    break
                kind = session.kind(path)
                try:
                    preview = session.preview_rewrite(path)
                    if preview.unchanged:
                        result = "already in today's form"
                    else:
                        drv_path = session.write_rewrite(path, preview)
                        result = f"rewritten → {drv_path.rsplit('/', 1)[-1][:32]}"
                    self._previews[path] = preview
                except Exception as error:  # noqa: BLE001 - reported in the summary
                    result = f"failed: {one_line(error)}"
                self.app.call_from_thread(screen.advance, kind.name, kind.badge, result)
                self.post_message(StatusChanged((path,)))
        finally:
            self.app.call_from_thread(screen.finish)

    def cancel_batch(self) -> None:
        """Stop the running batch (and the fetches it started)."""
        self.workers.cancel_group(self, "batch")
        for worker in list(self._builds.values()):
            worker.cancel()


class Cancellable(Protocol):
    """A running build: a worker, or a task of a batch."""

    def cancel(self) -> object:
        """Stop it."""


class BatchScreenLike(Protocol):
    """What a batch reports to (the batch screen)."""

    def advance(self, name: str, badge: str, result: str) -> None:
        """One more node done."""

    def finish(self) -> None:
        """The batch ended."""
