"""The Guix backend against a live Guix daemon (``GUIX_REVIVE_LIVE_GUIX=1``).

Set up with ``scripts/live-guix.sh`` (Guix of Feb 2022, commit 210a42dd, built
from source; run as root, as the daemon's store must be readable here); its
``guix`` wrapper is in ``$GUIX_REVIVE_GUIX_BIN`` (default ``/opt/guix-live/bin``). Every
run salts its sources, so every output path is new and nothing is valid
beforehand. Skipped without the variable: CI replays the recordings instead.
"""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from pathlib import Path

import pytest
from fixture_modules import conftest_of
from live_guix import live_guix, put_live_guix_on_path
from repos import bzr_branch, cvs_module, git_repo, hg_repo, svn_repo

from revive.core.builders.options import DownloadMethod, FetchOptions
from revive.core.fetch.rewrite import modern_derivation
from revive.core.fetch.spec import BzrFetch, CvsFetch, GitFetch, HgFetch, SvnFetch, UrlFetch
from revive.core.stores.api import BuildFinished
from revive.core.stores.batch import FetchJob, OutcomeStatus, fetch_many
from revive.core.stores.embedded import EmbeddedStore
from revive.core.stores.guix import GuixStore
from revive.core.stores.guix_import import ImportStatus, export_items

_fixtures = conftest_of("core/stores")
busybox_derivation = _fixtures.busybox_derivation

pytestmark = live_guix


@pytest.fixture(autouse=True)
def live_guix_on_path(monkeypatch):
    """The wrapper of scripts/live-guix.sh first on PATH (it is kept off PATH
    otherwise, so that no other test picks the Guix backend)."""
    put_live_guix_on_path(monkeypatch)


def guix(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["guix", *args], capture_output=True, text=True)
    if check:
        assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


@pytest.fixture
def salt() -> str:
    return uuid.uuid4().hex


@pytest.fixture
def sources(tmp_path, salt, http_server, make_tree, expected_for):
    """A loopback file and a git, svn, hg, bzr and cvs repository, with their specs."""
    files = {"README": f"salt {salt}\n".encode(), "src/main.c": b"int main(void) { return 0; }\n"}
    expect = tmp_path / "expect"
    make_tree(expect, files)
    data = f"a tarball, salt {salt}\n".encode()
    http_server.files["/src-1.0.tar.gz"] = data
    specs = {
        "url": UrlFetch(
            expected_for("src-1.0.tar.gz", data=data), (http_server.url("/src-1.0.tar.gz"),)
        )
    }

    git = tmp_path / "git"
    commit = git_repo(git, files)
    specs["git"] = GitFetch(expected_for("proj-git-checkout", tree=expect), git.as_uri(), commit)

    svn = tmp_path / "svnrepo"
    svn_repo(svn, tmp_path / "svnwork", files)
    specs["svn"] = SvnFetch(expected_for("proj-svn-checkout", tree=expect), svn.as_uri(), 1)

    hg = tmp_path / "hgrepo"
    changeset = hg_repo(hg, files)
    specs["hg"] = HgFetch(expected_for("proj-hg-checkout", tree=expect), hg.as_uri(), changeset)

    bzr = tmp_path / "bzrrepo"
    bzr_branch(bzr, files)
    specs["bzr"] = BzrFetch(expected_for("proj-bzr-branch", tree=expect), bzr.as_uri(), "1")

    root = tmp_path / "cvsroot"
    cvs_module(root, tmp_path / "cvssrc", "proj", files)
    specs["cvs"] = CvsFetch(expected_for("proj-cvs-checkout", tree=expect), str(root), "proj", "v1")
    return specs


def test_every_form_becomes_valid_at_its_original_output_path(
    sources, store_copy, loopback_config, tmp_path
):
    """Today's forms guix-revive writes, fetched through the live daemon: the
    builtin:download one built by the daemon from loopback; git (refused by
    this daemon), svn, hg, bzr and cvs by guix-revive's builders and added
    with add-to-store, never registered as derivations."""
    jobs = []
    for spec in sources.values():
        drv, items, _notes = modern_derivation(spec, "x86_64-linux", loopback_config)
        path = store_copy.add_drv(drv, items)
        jobs.append(FetchJob(path, spec.expected.output_path))
    store = GuixStore(
        read_only=[store_copy.root],
        options=FetchOptions(methods=(DownloadMethod.UPSTREAM,), retries=0),
        quarantine_dir=tmp_path / "quarantine",
    )
    assert store.supported_builtins(
        ["builtin:download", "builtin:git-download", "builtin:svn-download"]
    ) == {"builtin:download"}, store.builtin_probe_logs["builtin:git-download"][-1500:]
    events = []
    outcomes = asyncio.run(fetch_many(store, jobs, concurrency=3, on_event=events.append))
    assert [o.status for o in outcomes] == [OutcomeStatus.FETCHED] * len(jobs), outcomes
    finished = {e.drv_path: e.output_path for e in events if isinstance(e, BuildFinished)}
    assert finished == {j.drv_path: j.output_path for j in jobs}
    outputs = [j.output_path for j in jobs]
    assert store.query_valid(outputs) == set(outputs)
    # Only the builtin:download .drv went to the daemon; the others were never registered.
    assert store.query_valid(j.drv_path for j in jobs) == {jobs[0].drv_path}
    assert store.derivers(jobs[0].output_path) == (jobs[0].drv_path,)
    verify = guix("gc", "--verify=contents", check=False)
    assert verify.returncode == 0, verify.stderr[-2000:]
    assert "corrupt" not in verify.stderr and "invalid" not in verify.stderr

    # A derivation for the test, whose inputs are the fetched sources, builds.
    drv = busybox_derivation(
        tmp_path, "uses-fetched-sources", outputs, [f'(list "{o}")' for o in outputs]
    )
    events = asyncio.run(_collect(store, drv))
    assert isinstance(events[-1], BuildFinished), events[-3:]
    built = Path(events[-1].output_path).read_text().split()
    assert built == outputs


async def _collect(store, drv):
    return [e async for e in store.build(drv)]


def test_export_from_the_embedded_store(sources, store_copy, loopback_config, tmp_path):
    """Sources fetched into the embedded store become valid in the Guix store
    without fetching again; the deriver is recorded for the builtin:download
    form only (the daemon cannot build the others: they are never registered)."""
    embedded = EmbeddedStore(
        tmp_path / "embedded",
        read_only=[store_copy.root],
        options=FetchOptions(methods=(DownloadMethod.UPSTREAM,), retries=0),
    )
    jobs = []
    for key in ("url", "git", "svn", "hg", "bzr", "cvs"):
        spec = sources[key]
        drv, items, _notes = modern_derivation(spec, "x86_64-linux", loopback_config)
        jobs.append(FetchJob(store_copy.add_drv(drv, items), spec.expected.output_path))
    outcomes = asyncio.run(fetch_many(embedded, jobs))
    assert {o.status for o in outcomes} == {OutcomeStatus.FETCHED}
    store = GuixStore(read_only=[store_copy.root])
    paths = [j.output_path for j in jobs]
    result = export_items(embedded, store, paths)
    assert [(o.output_path, o.status) for o in result] == [
        (p, ImportStatus.IMPORTED) for p in paths
    ]
    assert [o.deriver for o in result] == [jobs[0].drv_path] + [None] * (len(jobs) - 1)
    assert store.query_valid(paths) == set(paths)
    assert store.derivers(jobs[0].output_path) == (jobs[0].drv_path,)
    assert store.query_valid(j.drv_path for j in jobs[1:]) == set()
    verify = guix("gc", "--verify=contents", check=False)
    assert verify.returncode == 0, verify.stderr[-2000:]
    again = export_items(embedded, store, paths)
    assert {o.status for o in again} == {ImportStatus.VALID}
