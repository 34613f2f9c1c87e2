"""Upstream probes of version-control sources against real repositories in temp dirs."""

from __future__ import annotations

import asyncio
import http.server
import os
import subprocess
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from programs import write_program

from revive.core.archive.answer import ErrorClass, ProbeAnswer, Status
from revive.core.archive.config import ArchiveConfig
from revive.core.archive.context import ProbeContext
from revive.core.archive.git_refs import has_revision, parse_ref_advertisement
from revive.core.archive.http_client import HttpClient
from revive.core.archive.vcs_probe import probe_bzr, probe_cvs, probe_git, probe_hg, probe_svn
from revive.core.builders.process import tool_environment

ENV = tool_environment(
    {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@e",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@e",
        "HGUSER": "t <t@e>",
        "BRZ_EMAIL": "t <t@e>",
    }
)


def sh(*argv: str, cwd: Path | None = None) -> str:
    return subprocess.run(
        argv, cwd=cwd, env=ENV, check=True, capture_output=True, text=True
    ).stdout.strip()


def run(
    config: ArchiveConfig, probe: Callable[[ProbeContext], Awaitable[ProbeAnswer]]
) -> ProbeAnswer:
    async def main() -> ProbeAnswer:
        async with HttpClient(config) as client:
            return await probe(ProbeContext(config, client))

    return asyncio.run(main())


@pytest.fixture(scope="module")
def git_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """A repository with two commits; the first is tagged v1, the tip is on main."""
    repo = tmp_path_factory.mktemp("git") / "repo"
    sh("git", "init", "--quiet", "-b", "main", str(repo))
    (repo / "a").write_text("1")
    sh("git", "add", "a", cwd=repo)
    sh("git", "commit", "--quiet", "-m", "one", cwd=repo)
    first = sh("git", "rev-parse", "HEAD", cwd=repo)
    sh("git", "tag", "-a", "v1", "-m", "v1", cwd=repo)
    (repo / "a").write_text("2")
    sh("git", "commit", "--quiet", "-am", "two", cwd=repo)
    sh("git", "commit", "--quiet", "--allow-empty", "-m", "three", cwd=repo)
    middle = sh("git", "rev-parse", "HEAD~1", cwd=repo)
    return repo, first, middle


def test_git_tag_and_commits_over_file_urls(
    git_repo: tuple[Path, str, str], config: ArchiveConfig
) -> None:
    repo, first, middle = git_repo
    url = repo.as_uri()
    assert run(config, lambda c: probe_git(c, url, "v1")).status is Status.AVAILABLE
    assert run(config, lambda c: probe_git(c, url, first)).status is Status.AVAILABLE  # peeled tag
    not_tip = run(config, lambda c: probe_git(c, url, middle))
    assert not_tip.status is Status.AVAILABLE and "fetched alone" in not_tip.detail
    assert run(config, lambda c: probe_git(c, url, "v9")).status is Status.MISSING
    assert run(config, lambda c: probe_git(c, url, "f" * 40)).status is Status.MISSING
    gone = run(config, lambda c: probe_git(c, (repo.parent / "nope").as_uri(), "v1"))
    assert gone.status is Status.MISSING


@pytest.fixture
def smart_http(git_repo: tuple[Path, str, str]) -> Iterator[str]:
    """``info/refs`` served as git's smart HTTP does (upload-pack's own advertisement)."""
    repo = git_repo[0]

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            if self.path != "/repo.git/info/refs?service=git-upload-pack":
                self.send_error(404)
                return
            refs = subprocess.run(
                ["git", "upload-pack", "--stateless-rpc", "--advertise-refs", str(repo)],
                capture_output=True,
                check=True,
                env=ENV,
            ).stdout
            body = b"001e# service=git-upload-pack\n0000" + refs
            self.send_response(200)
            self.send_header("Content-Type", "application/x-git-upload-pack-advertisement")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_git_refs_over_smart_http_match_git_ls_remote(
    git_repo: tuple[Path, str, str], smart_http: str, config: ArchiveConfig
) -> None:
    repo, first, _ = git_repo
    url = f"{smart_http}/repo.git"
    listed = sh("git", "ls-remote", url)
    expected = {ref: oid for oid, ref in (line.split("\t") for line in listed.splitlines())}
    import urllib.request

    with urllib.request.urlopen(f"{url}/info/refs?service=git-upload-pack") as reply:
        assert parse_ref_advertisement(reply.read()) == expected
    assert has_revision(expected, first) == "refs/tags/v1"
    assert run(config, lambda c: probe_git(c, url, "v1")).status is Status.AVAILABLE
    assert run(config, lambda c: probe_git(c, url, "v2")).status is Status.MISSING
    gone = run(config, lambda c: probe_git(c, f"{smart_http}/other.git", "v1"))
    assert gone.status is Status.MISSING


def test_svn_info_at_a_revision(tmp_path: Path, config: ArchiveConfig) -> None:
    repo = tmp_path / "svnrepo"
    sh("svnadmin", "create", str(repo))
    work = tmp_path / "wc"
    sh("svn", "checkout", "--quiet", repo.as_uri(), str(work))
    (work / "trunk").mkdir()
    (work / "trunk" / "f").write_text("x")
    sh("svn", "add", "--quiet", "trunk", cwd=work)
    sh("svn", "commit", "--quiet", "-m", "r1", cwd=work)
    url = repo.as_uri() + "/trunk"
    assert run(config, lambda c: probe_svn(c, url, 1)).status is Status.AVAILABLE
    assert run(config, lambda c: probe_svn(c, url, 7)).status is Status.MISSING
    assert run(config, lambda c: probe_svn(c, repo.as_uri() + "/nope", 1)).status is Status.MISSING


def test_hg_identify(tmp_path: Path, config: ArchiveConfig) -> None:
    repo = tmp_path / "hgrepo"
    sh("hg", "init", str(repo))
    (repo / "f").write_text("x")
    sh("hg", "commit", "-q", "-A", "-m", "one", cwd=repo)
    sh("hg", "tag", "v1", cwd=repo)
    node = sh("hg", "log", "-r", "0", "--template", "{node}", cwd=repo)
    url = repo.as_uri()
    assert run(config, lambda c: probe_hg(c, url, node)).status is Status.AVAILABLE
    assert run(config, lambda c: probe_hg(c, url, "v1")).status is Status.AVAILABLE
    assert run(config, lambda c: probe_hg(c, url, "e" * 40)).status is Status.MISSING


def test_bzr_revision_info(tmp_path: Path, config: ArchiveConfig) -> None:
    branch = tmp_path / "bzrbranch"
    sh("brz", "init", "-q", str(branch))
    (branch / "f").write_text("x")
    sh("brz", "add", "-q", cwd=branch)
    sh("brz", "commit", "-q", "-m", "one", cwd=branch)
    url = branch.as_uri()
    assert run(config, lambda c: probe_bzr(c, url, "1")).status is Status.AVAILABLE
    assert run(config, lambda c: probe_bzr(c, url, "5")).status is Status.MISSING


def test_cvs_rls_at_a_tag(tmp_path: Path, config: ArchiveConfig) -> None:
    root = tmp_path / "cvsroot"
    sh("cvs", "-d", str(root), "init")
    src = tmp_path / "src"
    src.mkdir()
    (src / "f").write_text("x")
    sh("cvs", "-Q", "-d", str(root), "import", "-m", "i", "mod", "vendor", "start", cwd=src)
    sh("cvs", "-Q", "-d", str(root), "rtag", "rel-1", "mod")
    assert run(config, lambda c: probe_cvs(c, str(root), "mod", "rel-1")).status is Status.AVAILABLE
    assert run(config, lambda c: probe_cvs(c, str(root), "nomod", "rel-1")).status is Status.MISSING


def test_a_missing_program_is_tool_missing(
    tmp_path: Path, config: ArchiveConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    answer = run(config, lambda c: probe_hg(c, "https://hg.example.org/x", "abc"))
    assert answer.status is Status.UNKNOWN and answer.error is ErrorClass.TOOL_MISSING


def test_git_to_an_unreachable_server_is_a_network_error(config: ArchiveConfig) -> None:
    answer = run(config.replace(retries=0), lambda c: probe_git(c, "git://127.0.0.1:1/x.git", "v1"))
    assert answer.status is Status.UNKNOWN and answer.error is ErrorClass.NETWORK


def test_a_program_running_too_long_is_a_timeout(
    tmp_path: Path, config: ArchiveConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_program(tmp_path, "svn", "#!/bin/sh\nsleep 5\n")
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    quick = config.replace(connect_timeout=0.2, read_timeout=0.2)
    answer = run(quick, lambda c: probe_svn(c, "svn://svn.example.org/x", 3))
    assert answer.status is Status.UNKNOWN and answer.error is ErrorClass.TIMEOUT
