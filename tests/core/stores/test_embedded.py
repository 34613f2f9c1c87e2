"""The embedded store: adding items, building FODs, failures, concurrency, kills."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from fixture_modules import conftest_of
from repos import git_repo

from revive.core import base32
from revive.core.builders.options import DownloadMethod
from revive.core.derivation import Derivation, Output
from revive.core.errors import MissingStoreItem
from revive.core.fetch.spec import UrlFetch
from revive.core.store_path import text_path
from revive.core.stores.api import (
    BuildAttempt,
    BuildFailed,
    BuildFinished,
    BuildProgress,
    BuildStarted,
    FailureReason,
    HashMismatch,
    Store,
)
from revive.core.stores.embedded import EmbeddedStore

DATA = bytes(range(256)) * 2048  # 512 KiB

# The in-band git FOD of the env and CLI tests (conftests are not importable).
store_fixtures = conftest_of("core/stores")


async def collect(store, drv_path):
    return [event async for event in store.build(drv_path)]


@pytest.fixture
def store(tmp_path, store_copy, options):
    return EmbeddedStore(tmp_path / "store", read_only=[store_copy.root], options=options())


def test_is_a_store(store):
    assert isinstance(store, Store)
    assert store.backend_name == "embedded"
    assert store.store_dir == "/gnu/store"


# --- adding items --------------------------------------------------------------------


def test_add_text_matches_the_doc_vector(store):
    """§10.3: ``build.sh`` = ``echo hi > $out\\n`` without references."""
    path = store.add_text("build.sh", b"echo hi > $out\n")
    assert path == "/gnu/store/z94f0wyd5dl27nj28l59gndxh545xkjq-build.sh"
    assert store.is_valid(path)
    file = store.physical_path(path)
    assert file.read_bytes() == b"echo hi > $out\n"
    assert stat.S_IMODE(file.stat().st_mode) == 0o444
    assert file.stat().st_mtime == 1
    assert store.add_text("build.sh", b"echo hi > $out\n") == path  # no-op


def test_add_text_with_references(store):
    ref = store.add_text("a.txt", b"a\n")
    path = store.add_text("b.txt", b"b refers to " + ref.encode(), [ref])
    assert path == text_path("b.txt", b"b refers to " + ref.encode(), [ref])
    assert store.path_info(path).references == (ref,)


def test_add_text_needs_valid_references(store):
    missing = "/gnu/store/00000000000000000000000000000000-nope"
    with pytest.raises(MissingStoreItem) as info:
        store.add_text("b.txt", b"b", [missing])
    path = text_path("b.txt", b"b", [missing])
    assert str(info.value) == f"{missing}: not in the store (needed to add {path})"
    assert not store.is_valid(path)


def test_add_fixed_matches_the_doc_vectors(store, make_tree, tmp_path):
    """§4.6/§10.2: the ``tree`` directory and ``hello.txt`` flat and recursive."""
    tree = tmp_path / "tree"
    make_tree(
        tree,
        {
            "B": b"B\n",
            "hello.txt": b"Hello, world!\n",
            "link": "->hello.txt",
            "run.sh*": b"#!/bin/sh\necho hi\n",
            "sub/empty": b"",
        },
    )
    path = store.add_fixed("tree", tree)
    assert path == "/gnu/store/iw2sy7y3z7mgqpqyp9264v3l4r34ihd4-tree"
    item = store.physical_path(path)
    assert stat.S_IMODE(os.lstat(item / "run.sh").st_mode) == 0o555
    assert stat.S_IMODE(os.lstat(item / "sub").st_mode) == 0o555
    assert os.readlink(item / "link") == "hello.txt"
    info = store.path_info(path)
    assert (
        info.nar_hash == "sha256:300abc20cc79ae7ea046a7cc826b2c3072636b63380d55dd2748a4a8dd970301"
    )
    assert info.nar_size == 1288 and info.deriver is None

    hello = tree / "hello.txt"
    assert store.add_fixed("hello.txt", hello, recursive=False) == (
        "/gnu/store/l6irvhjpqzqkx3zy2ryfps4iy0bxzvzf-hello.txt"
    )
    assert store.add_fixed("hello.txt", hello) == (
        "/gnu/store/939lqx80y1q6qlgk78i3d4h7hyvc98fl-hello.txt"
    )
    assert store.add_fixed("hello.txt", hello, algorithm="sha1", recursive=False) == (
        "/gnu/store/hg82jf9sbjrqlndy0qw8vrsk7wsgqqi6-hello.txt"
    )


def test_add_fixed_refuses_a_wrong_hash(store, tmp_path):
    f = tmp_path / "f"
    f.write_bytes(b"data")
    with pytest.raises(HashMismatch) as info:
        store.add_fixed("f", f, recursive=False, expected=bytes(32))
    actual = base32.encode(hashlib.sha256(b"data").digest())
    assert str(info.value) == f"sha256 hash mismatch for {f}: expected {'0' * 52}, got {actual}"
    assert not store.root.exists()  # nothing was written


# --- building ----------------------------------------------------------------------------


async def test_build_a_download(store, store_copy, http_server, expected_for):
    http_server.files["/hello-1.0.tar.gz"] = DATA
    expected = expected_for("hello-1.0.tar.gz", data=DATA)
    drv = store_copy.add_spec(UrlFetch(expected, (http_server.url("/hello-1.0.tar.gz"),)))
    events = await collect(store, drv)
    assert events[0] == BuildStarted(drv, expected.output_path, "url-fetch")
    assert events[1] == BuildAttempt(drv, http_server.url("/hello-1.0.tar.gz"))
    assert any(isinstance(e, BuildProgress) and e.done == len(DATA) for e in events)
    assert events[-1] == BuildFinished(drv, expected.output_path)
    assert store.is_valid(expected.output_path)
    item = store.physical_path(expected.output_path)
    assert item.read_bytes() == DATA
    assert stat.S_IMODE(item.stat().st_mode) == 0o444 and item.stat().st_mtime == 1
    info = store.path_info(expected.output_path)
    assert info.deriver == drv
    assert info.nar_size == len(DATA) + 112  # framing of a flat NAR (§4.6: 14 bytes -> 128)
    assert list((store.meta / "tmp").iterdir()) == []

    again = await collect(store, drv)
    assert again == [BuildFinished(drv, expected.output_path, cached=True)]
    assert http_server.requests == ["/hello-1.0.tar.gz"]


async def test_rewritten_download_uses_its_own_content_addressed_mirror(
    store, store_copy, http_server, expected_for, loopback_config
):
    """The workshop story: upstream is gone, the drv's CA mirror file points at a copy."""
    expected = expected_for("hello-1.0.tar.gz", data=DATA)
    http_server.files[f"/ca/sha256/{expected.nix32}"] = DATA
    spec = UrlFetch(expected, (http_server.url("/gone/hello-1.0.tar.gz"),))
    drv = store_copy.add_spec(spec, loopback_config)
    store.options = store.options.__class__(
        **{
            **_fields(store.options),
            "methods": (DownloadMethod.UPSTREAM, DownloadMethod.CONTENT_ADDRESSED_MIRRORS),
        }
    )
    events = await collect(store, drv)
    assert events[-1] == BuildFinished(drv, expected.output_path)
    assert [e.source for e in events if isinstance(e, BuildAttempt)] == [
        http_server.url("/gone/hello-1.0.tar.gz"),
        http_server.url(f"/ca/sha256/{expected.nix32}"),
    ]


def _fields(options):
    return {name: getattr(options, name) for name in options.__dataclass_fields__}


async def test_build_404(store, store_copy, http_server, expected_for):
    expected = expected_for("missing-1.0.tar.gz", data=DATA)
    url = http_server.url("/missing-1.0.tar.gz")
    drv = store_copy.add_spec(UrlFetch(expected, (url,)))
    events = await collect(store, drv)
    assert events[-1] == BuildFailed(drv, FailureReason.NOT_FOUND, f"{url}: HTTP 404 Not Found")
    assert not store.is_valid(expected.output_path)
    assert not store.physical_path(expected.output_path).exists()
    assert list((store.meta / "tmp").iterdir()) == []


async def test_build_hash_mismatch_keeps_the_data(store, store_copy, http_server, expected_for):
    expected = expected_for("mismatch.txt", data=DATA)
    http_server.files["/wrong.txt"] = b"wrong\n"
    drv = store_copy.add_spec(UrlFetch(expected, (http_server.url("/wrong.txt"),)))
    events = await collect(store, drv)
    failed = events[-1]
    assert isinstance(failed, BuildFailed)
    assert failed.reason is FailureReason.HASH_MISMATCH
    assert failed.expected_hash == expected.nix32
    kept = Path(failed.kept_at)
    assert kept.parent == store.quarantine_dir and kept.read_bytes() == b"wrong\n"
    assert not store.is_valid(expected.output_path)


async def test_build_of_an_original_in_band_git_fod(
    store, store_copy, make_tree, tmp_path, expected_for
):
    """A 2017–2024 ``git-download`` script-era FOD (§6.3 G2) is built from its env."""
    files: dict[str, bytes | str] = {"README": b"old project\n", "configure*": b"#!/bin/sh\n"}
    repo = tmp_path / "repo"
    git_repo(repo, files, tag="v1.0")
    ref = tmp_path / "ref"
    make_tree(ref, files)
    expected = expected_for("old-1.0-checkout", tree=ref)
    drv = store_fixtures.in_band_git_fod(expected, repo.as_uri(), "v1.0")
    script = store_fixtures.GIT_DOWNLOAD_SCRIPT
    drv = drv.evolve(args=("--no-auto-compile", "-L", "/gnu/store/x-module-import", script))
    path = store_copy.add_drv(drv)
    events = await collect(store, path)
    assert events[0] == BuildStarted(path, expected.output_path, "git-fetch")
    assert events[-1] == BuildFinished(path, expected.output_path)


async def test_build_of_a_non_fod_is_unsupported(store, store_copy):
    drv = Derivation(
        "hello-2.10",
        (Output("out", "/gnu/store/" + "a" * 32 + "-hello-2.10"),),
        (),
        (),
        "x86_64-linux",
        "/bin/sh",
    )
    path = store_copy.add_drv(drv)
    events = await collect(store, path)
    assert len(events) == 1 and events[0].reason is FailureReason.BUILDER_UNSUPPORTED


async def test_build_of_a_missing_drv(store):
    path = "/gnu/store/00000000000000000000000000000000-nope.drv"
    assert await collect(store, path) == [
        BuildFailed(path, FailureReason.MISSING_INPUT, f"{path}: not in the store")
    ]


async def test_build_of_a_corpus_drv_reads_the_copy(tmp_path, guix2020_store, options):
    """hello-2.10's source from the 2020 corpus: mirror://gnu with its own mirror
    list missing from the copy, so today's list is used; offline, so nothing works."""
    store = EmbeddedStore(
        tmp_path / "s",
        read_only=[guix2020_store],
        options=options(
            methods=(DownloadMethod.UPSTREAM,),
            url_rewrites=(
                ("https://", "http://127.0.0.1:9/"),
                ("http://", "http://127.0.0.1:9/"),
                ("ftp://", "http://127.0.0.1:9/"),
            ),
        ),
    )
    drv = next(p for p in guix2020_store.iterdir() if p.name.endswith("-hello-2.10.tar.gz.drv"))
    events = await collect(store, "/gnu/store/" + drv.name)
    assert isinstance(events[0], BuildStarted)
    assert events[0].output_path == "/gnu/store/hbdalsf5lpf01x4dcknwx6xbn6n5km6k-hello-2.10.tar.gz"
    failed = events[-1]
    assert failed.reason is FailureReason.NETWORK_UNREACHABLE
    attempts = [e.source for e in events if isinstance(e, BuildAttempt)]
    assert attempts and all(a.startswith("http://127.0.0.1:9/") for a in attempts)


async def test_closing_the_iterator_cancels_and_leaves_nothing_valid(
    store, store_copy, http_server, expected_for
):
    http_server.files["/big.bin"] = DATA
    expected = expected_for("big.bin", data=DATA)
    drv = store_copy.add_spec(UrlFetch(expected, (http_server.url("/slow/big.bin"),)))
    events = store.build(drv)
    async for event in events:
        if isinstance(event, BuildProgress) and event.done > 0:
            break
    await events.aclose()
    assert not store.is_valid(expected.output_path)
    assert list((store.meta / "tmp").iterdir()) == []
    # The lock was released: a new build can take it at once.
    http_server.files["/slow/big.bin"] = DATA  # now served directly
    done = await collect(store, drv)
    assert done[-1] == BuildFinished(drv, expected.output_path)


# --- several processes ---------------------------------------------------------------------

BUILD_SCRIPT = """
import asyncio, json, sys
from revive.core.stores.embedded import EmbeddedStore
from revive.core.builders.options import FetchOptions, DownloadMethod

async def main():
    store = EmbeddedStore(sys.argv[1], read_only=[sys.argv[2]],
                          options=FetchOptions(retries=0, methods=(DownloadMethod.UPSTREAM,)))
    async for event in store.build(sys.argv[3]):
        print(json.dumps([type(event).__name__, getattr(event, "done", None),
                          getattr(event, "cached", None)]), flush=True)

asyncio.run(main())
"""


def spawn(store_root: Path, copy: Path, drv: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", BUILD_SCRIPT, str(store_root), str(copy), drv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_processes_fetching_the_same_fod_make_one_item(
    tmp_path, store_copy, http_server, expected_for
):
    http_server.files["/shared.bin"] = DATA
    expected = expected_for("shared.bin", data=DATA)
    drv = store_copy.add_spec(UrlFetch(expected, (http_server.url("/shared.bin"),)))
    root = tmp_path / "shared-store"
    procs = [spawn(root, store_copy.root, drv) for _ in range(2)]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    finals = [json.loads(out.splitlines()[-1]) for out, _ in outputs]
    assert sorted(f[0] for f in finals) == ["BuildFinished", "BuildFinished"]
    # One fetched it; the other waited for the lock and found it valid.
    assert sorted(bool(f[2]) for f in finals) == [False, True]
    assert http_server.requests == ["/shared.bin"]
    store = EmbeddedStore(root)
    assert store.query_valid([expected.output_path]) == {expected.output_path}
    assert hashlib.sha256(store.physical_path(expected.output_path).read_bytes()).digest() == (
        expected.digest
    )


def test_a_killed_fetch_leaves_nothing_valid(
    tmp_path, store_copy, http_server, expected_for, options
):
    http_server.files["/k.bin"] = DATA
    expected = expected_for("k.bin", data=DATA)
    drv = store_copy.add_spec(UrlFetch(expected, (http_server.url("/slow/k.bin"),)))
    root = tmp_path / "killed-store"
    with spawn(root, store_copy.root, drv) as proc:
        assert proc.stdout is not None
        # Wait until bytes have arrived (the server then stalls mid-body).
        for line in proc.stdout:
            name, done, _ = json.loads(line)
            if name == "BuildProgress" and done:
                break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    store = EmbeddedStore(root, read_only=[store_copy.root], options=options())
    assert not store.is_valid(expected.output_path)
    assert not store.physical_path(expected.output_path).exists()
    leftovers = list((root / ".guix-revive" / "tmp").iterdir())
    assert leftovers  # the partial download of the killed process
    # The next build cleans up and succeeds.
    http_server.files["/slow/k.bin"] = DATA
    events = asyncio.run(collect(store, drv))
    assert events[-1] == BuildFinished(drv, expected.output_path)
    assert list((root / ".guix-revive" / "tmp").iterdir()) == []


def _old_git_fod(expected, url: str) -> Derivation:
    """A 2017–2024 in-band ``git-download`` FOD (§6.3 G2) of ``url`` at tag v1.0."""
    script = "/gnu/store/0d3x4bbkmxwr2vqp8wp4bnz3wj0s0dn9-git-download"
    return Derivation(
        name=expected.name,
        outputs=(Output("out", expected.output_path, "r:sha256", expected.digest.hex()),),
        input_drvs=(),
        input_srcs=(script,),
        system="x86_64-linux",
        builder="/gnu/store/18hp7flyb3yid3yp49i6qcdq0sbi5l1n-guile-3.0.2/bin/guile",
        args=("--no-auto-compile", script),
        env=(
            ("git commit", "v1.0"),
            ("git recursive?", "#f"),
            ("git url", url),
            ("out", expected.output_path),
        ),
    )


async def test_an_old_form_keeps_its_eras_nar_servers(
    tmp_path, store_copy, http_server, expected_for, make_tree, nar_of, options
):
    """A moved repository: today's nar mirror is not for an old form (rewrite it for
    that), but the build farms of its era are tried, gzip first (§7.5)."""
    import gzip

    ref = tmp_path / "ref"
    make_tree(ref, {"README": b"moved\n"})
    expected = expected_for("moved-1.0-checkout", tree=ref)
    drv = store_copy.add_drv(_old_git_fod(expected, (tmp_path / "gone").as_uri()))
    name = os.path.basename(expected.output_path)
    http_server.files[f"/today/nar/{name}"] = nar_of(ref)
    # The old build farms, sent to the loopback server; only one has it, gzipped.
    era = {
        "http://berlin.guix.gnu.org": http_server.url("/berlin"),
        "http://berlin.guixsd.org": http_server.url("/guixsd"),
        "http://mirror.hydra.gnu.org/guix": http_server.url("/hydra"),
    }
    opts = options(nar_mirrors=(http_server.url("/today"),), url_rewrites=tuple(era.items()))
    store = EmbeddedStore(tmp_path / "s1", read_only=[store_copy.root], options=opts)
    events = await collect(store, drv)
    assert events[-1].reason is FailureReason.NOT_FOUND
    assert not any(
        isinstance(e, BuildAttempt) and e.source.startswith(http_server.url("/today"))
        for e in events
    )

    http_server.files[f"/guixsd/nar/gzip/{name}"] = gzip.compress(nar_of(ref))
    store = EmbeddedStore(tmp_path / "s2", read_only=[store_copy.root], options=opts)
    events = await collect(store, drv)
    assert events[-1] == BuildFinished(drv, expected.output_path)
    assert [e.source for e in events if isinstance(e, BuildAttempt)][1:] == [
        http_server.url(f"/berlin/nar/gzip/{name}"),
        http_server.url(f"/berlin/nar/{name}"),
        http_server.url(f"/guixsd/nar/gzip/{name}"),
    ]

    # Opting in gives old forms today's nar mirrors too.
    store = EmbeddedStore(
        tmp_path / "s3",
        read_only=[store_copy.root],
        options=options(
            nar_mirrors=opts.nar_mirrors,
            url_rewrites=opts.url_rewrites,
            nar_mirrors_for_old_forms=True,
        ),
    )
    assert (await collect(store, drv))[-1] == BuildFinished(drv, expected.output_path)
