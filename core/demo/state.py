"""The state of one demo generation: the store being written and what it records.

A :class:`DemoBuild` is handed to every part of the generator (Guile and
module imports, source downloads, packages, roots). It owns the
:class:`~revive.core.demo.store_builder.StoreBuilder`, writes the upstream
files the demo's servers will serve, keeps the repositories to create, and
collects what ``demo.json`` says: sources, roots, broken nodes, URL maps.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from revive.core.demo import eras
from revive.core.demo.archive import Tree
from revive.core.demo.model import DemoEnvironment, DemoRoot, DemoSource, SpecialNode, VcsLocation
from revive.core.demo.repos import Revision, make_cvs_repo, make_git_repo
from revive.core.demo.store_builder import StoreBuilder, write_tree
from revive.core.nar import dump_nar, nar_hash
from revive.core.store_path import DEFAULT_STORE_DIR

__all__ = ["Input", "RepoTask", "DemoBuild"]


@dataclass(frozen=True, slots=True)
class Input:
    """A package input: its label, its ``.drv`` and the outputs used."""

    label: str
    """The label in the builder's inputs (``gcc``, ``source``…)."""
    drv: str
    """The input's ``.drv`` path."""
    outputs: tuple[str, ...] = ("out",)
    """The outputs the package uses."""


@dataclass(frozen=True, slots=True)
class RepoTask:
    """An upstream repository to create once the store is written."""

    relative: str
    """Where, under the upstream directory."""
    tool: str
    """The version-control command it needs (``git``, ``svnadmin``, ``hg``, ``brz``, ``cvs``)."""
    make: Callable[[], None]
    """Creates it."""


class DemoBuild:
    """Writes one demo into ``root`` (``store/``, ``upstream/``, ``demo.json``)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        """The demo directory being written."""
        self.scratch = root / "scratch"
        """Temporary files (removed at the end)."""
        self.upstream = root / "upstream"
        """What the sources' servers serve."""
        self.store = StoreBuilder(root / "store", self.scratch / "store", DEFAULT_STORE_DIR)
        """The store being written."""
        self.sources: list[DemoSource] = []
        self.special: list[SpecialNode] = []
        self.roots: list[DemoRoot] = []
        self.http_files: dict[str, str] = {}
        self.prefixes: set[str] = set()
        self.vcs: dict[str, VcsLocation] = {}
        self.content_addressed: dict[str, str] = {}
        self.nars: dict[str, str] = {}
        self.repo_tasks: list[RepoTask] = []
        self.guile: dict[str, str] = {}
        """Guile derivations by role: ``boot``, ``final``, ``2.0.11``."""
        self.module_drvs: dict[str, tuple[str, str]] = {}
        """``(module-import, module-import-compiled)`` per module set, once written."""
        self.pkg: dict[str, str] = {}
        """Package derivations by label (``tar``, ``git``, ``subversion``…)."""
        self.bootstrap_inputs: list[Input] = []
        self.final_inputs: list[Input] = []
        self.txt2man_trees: tuple[Tree, Tree] = ({}, {})
        self.legacy_git = ""
        self._trees = 0
        self.upstream.mkdir(parents=True)
        # The mirror files each era's derivations name.
        self.mirrors_2020 = self.store.text("mirrors", eras.mirrors_file(eras.MIRRORS_2020))
        self.ca_2020 = self.store.text("content-addressed-mirrors", eras.CA_MIRRORS_2020)
        self.mirrors_2016 = self.store.text("mirrors", eras.mirrors_file(eras.MIRRORS_2016))
        self.ca_2016 = self.store.text("content-addressed-mirrors", eras.CA_MIRRORS_2016)
        for table in (eras.MIRRORS_2015, eras.MIRRORS_2016, eras.MIRRORS_2020):
            for _kind, bases in table:
                for base in bases:
                    self.note_prefix(base)
        for prefix in (*eras.CA_HOSTS_2016, *eras.CA_HOSTS_2020, eras.NAR_BASE_2020 + "/"):
            self.note_prefix(prefix)

    # --- upstream ---------------------------------------------------------------

    def note_prefix(self, url: str) -> None:
        """Remember ``url``'s ``scheme://host/`` so that the demo's servers answer for it."""
        parts = urlsplit(url)
        if parts.scheme in ("http", "https", "ftp") and parts.netloc:
            self.prefixes.add(f"{parts.scheme}://{parts.netloc}/")

    def upstream_file(self, relative: str, data: bytes) -> None:
        """Write ``data`` as ``upstream/relative``."""
        target = self.upstream / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    def vcs_location(self, prefix: str, local: str, form: str) -> None:
        """Serve URLs starting with ``prefix`` from ``upstream/local`` (a :class:`VcsLocation`)."""
        self.vcs[prefix] = VcsLocation(prefix, local, form)

    def repo_task(
        self,
        make_repo: Callable[[Path, Sequence[Revision], Path], None],
        tool: str,
        relative: str,
        history: Sequence[Revision],
        scratch: str,
    ) -> None:
        """Create the repository ``upstream/relative`` with ``make_repo``, later.

        Later, and all at once: each VCS tool mostly waits on its start-up.
        """
        self.repo_tasks.append(
            RepoTask(
                relative,
                tool,
                lambda: make_repo(self.upstream / relative, history, self.scratch / scratch),
            )
        )

    def git_repo(self, relative: str, history: Sequence[Revision]) -> None:
        """Create the git repository ``upstream/relative`` (each in its own scratch)."""
        self.repo_task(make_git_repo, "git", relative, history, f"git{len(self.repo_tasks)}")

    def cvs_repo(self, relative: str, module: str, revision: Revision) -> None:
        """Create the CVS repository ``upstream/relative`` holding ``module`` at ``revision``."""
        self.repo_tasks.append(
            RepoTask(
                relative,
                "cvs",
                lambda: make_cvs_repo(
                    self.upstream / relative, module, revision, self.scratch / "cvs"
                ),
            )
        )

    # --- hashes of generated trees ------------------------------------------------

    def _scratch_tree(self, tree: Tree) -> Path:
        """``tree`` written to a fresh scratch directory."""
        self._trees += 1
        where = self.scratch / "trees" / str(self._trees)
        write_tree(where, tree)
        return where

    def tree_digest(self, tree: Tree) -> bytes:
        """NAR SHA-256 of ``tree`` as a directory (what a checkout hashes to)."""
        return nar_hash(self._scratch_tree(tree))

    def tree_nar(self, tree: Tree) -> bytes:
        """The NAR serialisation of ``tree`` as a directory."""
        return dump_nar(self._scratch_tree(tree))

    def file_nar_digest(self, data: bytes, executable: bool) -> bytes:
        """NAR SHA-256 of one regular file holding ``data``."""
        self._trees += 1
        where = self.scratch / "trees" / f"{self._trees}.file"
        where.parent.mkdir(parents=True, exist_ok=True)
        where.write_bytes(data)
        where.chmod(0o755 if executable else 0o644)
        return nar_hash(where)

    # --- records --------------------------------------------------------------------

    def record(self, source: DemoSource) -> None:
        """Add one source download to the manifest."""
        self.sources.append(source)

    def mark_missing(self, relative: str, program: str) -> None:
        """The repository ``upstream/relative`` was not made: ``program`` is not installed."""
        self.sources = [
            dataclasses.replace(s, needs=program) if s.upstream == relative else s
            for s in self.sources
        ]

    def wrap_last_source(self, inner: str, wrapper: str) -> None:
        """The source recorded last (``inner``) is unpacked by ``wrapper`` (a bomb)."""
        source = self.sources[-1]
        assert source.drv_path == inner
        self.sources[-1] = dataclasses.replace(source, wrapper=wrapper)

    def environment(self, version: int) -> DemoEnvironment:
        """What ``demo.json`` describes, as recorded so far."""
        return DemoEnvironment(
            demo_dir=self.root,
            logical_store_dir=DEFAULT_STORE_DIR,
            roots=tuple(self.roots),
            sources=tuple(self.sources),
            special=tuple(self.special),
            http_files=tuple(sorted(self.http_files.items())),
            prefixes=tuple(sorted(self.prefixes)),
            vcs=tuple(self.vcs[k] for k in sorted(self.vcs)),
            content_addressed=tuple(sorted(self.content_addressed.items())),
            nars=tuple(sorted(self.nars.items())),
            version=version,
        )
