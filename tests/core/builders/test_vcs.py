"""Each VCS builder against a repository made by the real program.

The expected hash never comes from the builder's own code path: for git it
is the NAR of a ``git archive`` export, for the others the NAR of the tree
the test itself wrote and committed, serialised by the test-side NAR writer.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import pytest
import repos

from revive.core.builders.dispatch import run_builder
from revive.core.builders.errors import FetchError
from revive.core.fetch.spec import BzrFetch, CvsFetch, GitFetch, HgFetch, SvnFetch, SvnMultiFetch
from revive.core.stores.api import AttemptKind, BuildAttempt, FailureReason

FILES: dict[str, bytes | str] = {
    "README": b"A test project.\n",
    "configure*": b"#!/bin/sh\necho configured\n",
    "src/main.c": b"int main(void) { return 0; }\n",
    "src/util/helpers.h": b"#define X 1\n",
}


def export_tree(run_cmd, repo: Path, rev: str, dest: Path, env: dict[str, str]) -> None:
    """``git archive REV`` of ``repo`` unpacked into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "-C", str(repo), "archive", rev],
        capture_output=True,
        check=True,
        env={**os.environ, **env},
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)


@pytest.fixture
def git_setup(tmp_path, run_cmd, make_tree, git_env):
    root = tmp_path / "repos"
    sub, main = root / "sub", root / "main"
    env = {**git_env}
    repos.git_repo(sub, {"lib.c": b"int lib;\n", "tools/gen.sh*": b"#!/bin/sh\n"})
    run_cmd(["git", "init", "-q", str(main)], **env)
    make_tree(main, {**FILES, "link": "->README"})
    run_cmd(["git", "-C", str(main), "add", "."], **env)
    run_cmd(
        [
            "git",
            "-C",
            str(main),
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "add",
            "-q",
            sub.as_uri(),
            "lib",
        ],
        **env,
    )
    run_cmd(["git", "-C", str(main), "commit", "-qm", "v1"], **env)
    run_cmd(["git", "-C", str(main), "tag", "-a", "-m", "v1.0", "v1.0"], **env)
    commit = run_cmd(["git", "-C", str(main), "rev-parse", "HEAD"], **env).strip()
    (main / "README").write_bytes(b"changed later\n")
    run_cmd(["git", "-C", str(main), "commit", "-qam", "v2"], **env)
    # What the checkout must be, computed from git's own export.
    flat, deep = tmp_path / "expect-flat", tmp_path / "expect-deep"
    export_tree(run_cmd, main, commit, flat, env)
    export_tree(run_cmd, main, commit, deep, env)
    export_tree(run_cmd, sub, "HEAD", deep / "lib", env)
    return main, commit, flat, deep


async def test_git_checkout_of_a_commit(git_setup, make_ctx, expected_for, nar_of):
    main, commit, flat, _deep = git_setup
    expected = expected_for("proj-1.0-checkout", tree=flat)
    spec = GitFetch(expected, main.as_uri(), commit)
    verified = await run_builder(spec, make_ctx())
    assert nar_of(verified.path) == nar_of(flat)
    assert not (verified.path / ".git").exists()
    assert (verified.path / "lib").is_dir() and not any((verified.path / "lib").iterdir())


async def test_git_checkout_of_a_tag_with_submodules(git_setup, make_ctx, expected_for, nar_of):
    main, _commit, _flat, deep = git_setup
    expected = expected_for("proj-1.0-checkout", tree=deep)
    spec = GitFetch(expected, main.as_uri(), "v1.0", recursive=True)
    verified = await run_builder(spec, make_ctx())
    assert nar_of(verified.path) == nar_of(deep)
    assert not (verified.path / "lib" / ".git").exists()
    assert os.access(verified.path / "lib" / "tools" / "gen.sh", os.X_OK)


async def test_git_unknown_commit_is_not_found(git_setup, make_ctx, expected_for):
    main, _commit, flat, _deep = git_setup
    spec = GitFetch(expected_for("x-checkout", tree=flat), main.as_uri(), "f" * 40)
    with pytest.raises(FetchError) as info:
        await run_builder(spec, make_ctx())
    assert info.value.reason is FailureReason.NOT_FOUND


async def test_git_missing_repository_is_not_found(tmp_path, make_ctx, expected_for):
    spec = GitFetch(expected_for("x-checkout", data=b""), (tmp_path / "gone").as_uri(), "v1")
    with pytest.raises(FetchError) as info:
        await run_builder(spec, make_ctx())
    assert info.value.reason is FailureReason.NOT_FOUND
    assert str(info.value).startswith(f"git failed on {(tmp_path / 'gone').as_uri()}")


async def test_git_wrong_hash_is_quarantined(git_setup, make_ctx, expected_for, tmp_path):
    main, commit, _flat, _deep = git_setup
    other = tmp_path / "other"
    other.mkdir()
    (other / "x").write_bytes(b"not the checkout\n")
    expected = expected_for("proj-checkout", tree=other)
    ctx = make_ctx()
    with pytest.raises(FetchError) as info:
        await run_builder(GitFetch(expected, main.as_uri(), commit), ctx)
    err = info.value
    assert err.reason is FailureReason.HASH_MISMATCH
    assert err.expected_hash == expected.nix32
    assert err.kept_at is not None and Path(err.kept_at).parent == ctx.quarantine_dir
    assert (Path(err.kept_at) / "README").read_bytes() == FILES["README"]
    assert str(err) == (
        f"sha256 hash mismatch for {expected.output_path}: expected {err.expected_hash}, "
        f"got {err.actual_hash}; fetched data kept in {err.kept_at}"
    )


async def test_url_rewrites_apply_to_repositories(
    git_setup, make_ctx, expected_for, options, nar_of
):
    main, commit, flat, _deep = git_setup
    expected = expected_for("proj-checkout", tree=flat)
    ctx = make_ctx(
        options(url_rewrites=(("https://git.example.org/", main.parent.as_uri() + "/"),))
    )
    verified = await run_builder(GitFetch(expected, "https://git.example.org/main", commit), ctx)
    assert nar_of(verified.path) == nar_of(flat)
    assert f"rewriting https://git.example.org/main -> {main.as_uri()}" in make_ctx.lines()
    attempts = [e for e in make_ctx.events if isinstance(e, BuildAttempt)]
    assert attempts == [BuildAttempt(ctx.drv_path, main.as_uri(), AttemptKind.UPSTREAM)]


async def test_moved_repository_is_recovered_from_a_nar_mirror(
    git_setup, make_ctx, expected_for, options, nar_of, http_server, tmp_path
):
    """The upstream repository is gone; a nar mirror has the NAR of the output."""
    _main, commit, flat, _deep = git_setup
    expected = expected_for("proj-checkout", tree=flat)
    http_server.files["/nar/" + os.path.basename(expected.output_path)] = nar_of(flat)
    ctx = make_ctx(options(nar_mirrors=(http_server.url("/"),)))
    verified = await run_builder(GitFetch(expected, (tmp_path / "moved").as_uri(), commit), ctx)
    assert nar_of(verified.path) == nar_of(flat)
    kinds = [e.kind for e in make_ctx.events if isinstance(e, BuildAttempt)]
    assert kinds == [AttemptKind.UPSTREAM, AttemptKind.NAR]


async def test_missing_tool_names_the_debian_package(
    git_setup, make_ctx, expected_for, monkeypatch, tmp_path
):
    main, commit, flat, _deep = git_setup
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    cases = [
        (GitFetch(expected_for("a", tree=flat), main.as_uri(), commit), "git", "git"),
        (SvnFetch(expected_for("b", tree=flat), "file:///x", 1), "svn", "subversion"),
        (HgFetch(expected_for("c", tree=flat), "file:///x", "0"), "hg", "mercurial"),
        (BzrFetch(expected_for("d", tree=flat), "file:///x", "1"), "brz", "brz"),
        (CvsFetch(expected_for("e", tree=flat), "/x", "m", "v1"), "cvs", "cvs"),
    ]
    for spec, tool, package in cases:
        with pytest.raises(FetchError) as info:
            await run_builder(spec, make_ctx())
        assert info.value.reason is FailureReason.TOOL_MISSING
        assert str(info.value) == (
            f"{tool} is not installed (not found on PATH); install the Debian package '{package}'"
        )


async def test_cancellation_kills_the_tool(git_setup, make_ctx, expected_for, tmp_path):
    """Cancelling while git waits on a server that never answers kills git's process group."""
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    try:
        spec = GitFetch(expected_for("x", data=b""), f"http://127.0.0.1:{port}/r.git", "v1")
        ctx = make_ctx()
        task = asyncio.create_task(run_builder(spec, ctx))
        loop = asyncio.get_running_loop()
        conn, _ = await loop.run_in_executor(None, server.accept)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # git's HTTP helper was killed with its group: the kernel closed its
        # end, so reading reaches the end of the stream (a live git would
        # keep it open and this would time out).
        conn.settimeout(10)
        while conn.recv(65536):
            pass
        conn.close()
        assert list(ctx.work_dir.iterdir()) == []
    finally:
        server.close()


# --- svn ----------------------------------------------------------------------


@pytest.fixture
def svn_repo(tmp_path, run_cmd, make_tree):
    repo, wc = tmp_path / "svnrepo", tmp_path / "wc"
    repos.svn_repo(repo, wc, {**FILES, "doc/manual.txt": b"manual\n"})
    (wc / "README").write_bytes(b"changed in r2\n")
    run_cmd(["svn", "commit", "-q", "-m", "r2"], cwd=wc)
    expect = tmp_path / "expect"
    make_tree(expect, {**FILES, "doc/manual.txt": b"manual\n"})
    return repo, expect


async def test_svn_export_of_a_revision(svn_repo, make_ctx, expected_for, nar_of):
    repo, expect = svn_repo
    spec = SvnFetch(expected_for("proj-svn-checkout", tree=expect), repo.as_uri(), 1)
    verified = await run_builder(spec, make_ctx())
    assert nar_of(verified.path) == nar_of(expect)


async def test_svn_missing_path_is_not_found(svn_repo, make_ctx, expected_for):
    repo, expect = svn_repo
    spec = SvnFetch(expected_for("x", tree=expect), repo.as_uri() + "/nope", 1)
    with pytest.raises(FetchError) as info:
        await run_builder(spec, make_ctx())
    assert info.value.reason is FailureReason.NOT_FOUND


async def test_svn_multi_exports_each_location(
    svn_repo, make_ctx, expected_for, make_tree, nar_of, tmp_path
):
    repo, _expect = svn_repo
    expect = tmp_path / "expect-multi"
    make_tree(
        expect,
        {
            "src/main.c": FILES["src/main.c"],
            "src/util/helpers.h": FILES["src/util/helpers.h"],
            "doc/manual.txt": b"manual\n",
        },
    )
    spec = SvnMultiFetch(
        expected_for("proj-svn-multi", tree=expect), repo.as_uri(), 1, ("src/", "doc/manual.txt")
    )
    verified = await run_builder(spec, make_ctx())
    assert nar_of(verified.path) == nar_of(expect)


# --- hg -------------------------------------------------------------------------


async def test_hg_clone_of_a_changeset(
    tmp_path, run_cmd, make_tree, make_ctx, expected_for, nar_of
):
    repo = tmp_path / "hgrepo"
    changeset = repos.hg_repo(repo, FILES)
    (repo / "README").write_bytes(b"later\n")
    run_cmd(["hg", "-R", str(repo), "commit", "-q", "-u", "test", "-m", "two"], **repos.HG_ENV)
    expect = tmp_path / "expect"
    make_tree(expect, FILES)
    spec = HgFetch(expected_for("proj-hg-checkout", tree=expect), repo.as_uri(), changeset)
    verified = await run_builder(spec, make_ctx())
    assert nar_of(verified.path) == nar_of(expect)

    bad = HgFetch(expected_for("x", tree=expect), repo.as_uri(), "deadbeefdead")
    with pytest.raises(FetchError) as info:
        await run_builder(bad, make_ctx())
    assert info.value.reason is FailureReason.NOT_FOUND


# --- bzr ------------------------------------------------------------------------


async def test_bzr_branch_at_a_revision(
    tmp_path, run_cmd, make_tree, make_ctx, expected_for, nar_of
):
    repo = tmp_path / "bzrrepo"
    repos.bzr_branch(repo, FILES)
    (repo / "README").write_bytes(b"later\n")
    run_cmd(["brz", "commit", "-q", "-m", "two"], cwd=repo, **repos.BRZ_ENV)
    expect = tmp_path / "expect"
    make_tree(expect, FILES)
    spec = BzrFetch(expected_for("proj-bzr-branch", tree=expect), repo.as_uri(), "1")
    verified = await run_builder(spec, make_ctx())
    assert nar_of(verified.path) == nar_of(expect)

    gone = BzrFetch(expected_for("x", tree=expect), (tmp_path / "gone").as_uri(), "1")
    with pytest.raises(FetchError) as info:
        await run_builder(gone, make_ctx())
    assert info.value.reason is FailureReason.NOT_FOUND


# --- cvs -------------------------------------------------------------------------


async def test_cvs_checkout_of_a_tag(tmp_path, make_tree, make_ctx, expected_for, nar_of):
    root = tmp_path / "cvsroot"
    repos.cvs_module(root, tmp_path / "import", "proj", FILES)
    expect = tmp_path / "expect"
    make_tree(expect, FILES)
    spec = CvsFetch(expected_for("proj-cvs-checkout", tree=expect), str(root), "proj", "v1")
    verified = await run_builder(spec, make_ctx())
    assert nar_of(verified.path) == nar_of(expect)
    assert not (verified.path / "CVS").exists()
