"""The Guix backend against a stand-in ``guix`` replaying real recordings."""

from __future__ import annotations

import asyncio
import os

import pytest

from revive.core.builders.options import DownloadMethod
from revive.core.errors import MissingStoreItem
from revive.core.fetch.spec import Expected, SvnFetch
from revive.core.store_path import text_path
from revive.core.stores.api import (
    AttemptKind,
    BuildAttempt,
    BuildFailed,
    BuildFinished,
    BuildLog,
    BuildProgress,
    BuildStarted,
    FailureReason,
    Store,
)
from revive.core.stores.guix import GuixCommandError, GuixStore, recreate_script

NOTE = "/gnu/store/abkvnhlnpphsm0zypzlfcvr69blp0x6s-corpus-note.txt"
BLOB = "/gnu/store/wa3h40hwgr1x1bara35srwdrvq5kzyza-blob.bin"
HELLO_DRV_HELLO211 = "/gnu/store/47372g9rw6bwj8fzxbpbx0l8rbzsm06q-hello-2.11.tar.gz.drv"
MIRRORS = (
    "/gnu/store/0mxnx8l4fgigvd7gakwdk6hc6im4wnai-disarchive-mirrors",
    "/gnu/store/hdprrnsaa40vl1k63hnq7l1f012jzq2y-mirrors",
    "/gnu/store/lv7dc09895a2d7cn0m6ysrdlgkhx5ld8-content-addressed-mirrors",
)


@pytest.fixture
def guix(guix_standin, daemon_store, options):
    return GuixStore(
        physical_store=daemon_store.root,
        env=guix_standin.env(GUIX_DAEMON_SOCKET="guix://build-farm.example:44146"),
        options=options(methods=(DownloadMethod.UPSTREAM,)),
    )


async def collect(store, drv):
    return [e async for e in store.build(drv)]


def test_the_recorded_derivations_are_rebuilt_exactly(recorded_drvs):
    """The .drv files written for the tests have the paths the recording printed."""
    assert recorded_drvs["hello.txt"] == "/gnu/store/5aapxv5f48s86bijphjb58nn5l2pz09h-hello.txt.drv"
    assert recorded_drvs["blob.bin"] == "/gnu/store/0cb5v7hcpf4g75zcbdvrcaw1magzrfrf-blob.bin.drv"
    assert recorded_drvs["hello-2.11.tar.gz"] == HELLO_DRV_HELLO211
    assert recorded_drvs["ninja-1.10.2-checkout"] == (
        "/gnu/store/bv2r1hz12vxc0mmzh9rmmrfqi30dxdk9-ninja-1.10.2-checkout.drv"
    )


def test_is_a_store(guix):
    assert isinstance(guix, Store)
    assert guix.backend_name == "guix"


def test_gc_queries(guix):
    assert guix.is_valid(NOTE)
    assert not guix.is_valid("/gnu/store/00000000000000000000000000000000-nope")
    assert guix.references(NOTE) == (MIRRORS[1], BLOB)
    assert guix.references(HELLO_DRV_HELLO211) == MIRRORS
    assert guix.requisites("/gnu/store/5aapxv5f48s86bijphjb58nn5l2pz09h-hello.txt.drv") == (
        MIRRORS[2],
        MIRRORS[1],
        MIRRORS[0],
        "/gnu/store/5aapxv5f48s86bijphjb58nn5l2pz09h-hello.txt.drv",
    )
    assert guix.derivers(BLOB) == ("/gnu/store/0cb5v7hcpf4g75zcbdvrcaw1magzrfrf-blob.bin.drv",)
    assert guix.derivers(NOTE) == ()
    with pytest.raises(MissingStoreItem):
        guix.references("/gnu/store/00000000000000000000000000000000-nope")


def test_add_text_through_the_machine_repl(guix, guix_standin):
    """09c: the expression sent is the recorded one, and the path guix gave back is
    the one revive.core computes for a text item with that reference."""
    path = guix.add_text("corpus-note2.txt", b"second note\n", [NOTE])
    assert path == "/gnu/store/94bdbbs2qqf1p6rv3fvxzpr0cqcjqd0v-corpus-note2.txt"
    assert path == text_path("corpus-note2.txt", b"second note\n", [NOTE])
    assert guix_standin.calls()[-1][0] == ["repl", "-t", "machine"]


def test_query_valid_through_the_machine_repl(guix):
    assert guix.query_valid([BLOB]) == {BLOB}


def test_an_unanswered_repl_expression_is_an_error(guix):
    with pytest.raises(GuixCommandError) as info:
        guix.query_valid(["/gnu/store/00000000000000000000000000000000-unrecorded"])
    assert str(info.value).startswith("guix repl answered 1 of 2 expressions")


def test_missing_guix(daemon_store, tmp_path):
    store = GuixStore(physical_store=daemon_store.root, env={"PATH": str(tmp_path)})
    with pytest.raises(GuixCommandError) as info:
        store.is_valid(NOTE)
    assert str(info.value) == "guix: not found on PATH (is Guix installed?)"


async def test_build_ok_passes_the_daemon_socket_through(guix, guix_standin, recorded_drvs):
    drv = recorded_drvs["hello.txt"]
    out = "/gnu/store/n5ss0kg5rz46b06z4acj1h5km7qa9ilj-hello.txt"
    events = await collect(guix, drv)
    assert events[0] == BuildStarted(drv, out, "url-fetch")
    assert BuildAttempt(drv, "http://127.0.0.1:48979/hello.txt", AttemptKind.UPSTREAM) in events
    assert BuildLog(drv, f"Starting download of {out}") in events
    assert events[-1] == BuildFinished(drv, out)
    args, socket, _pid = guix_standin.calls()[-1]
    assert args == ["build", "--no-grafts", drv]
    assert socket == "guix://build-farm.example:44146"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("missing-1.0.tar.gz", FailureReason.NOT_FOUND),
        ("mismatch.txt", FailureReason.HASH_MISMATCH),
        ("x.tar.gz", FailureReason.NETWORK_UNREACHABLE),
        ("hello-2.11.tar.gz", FailureReason.NETWORK_UNREACHABLE),
    ],
)
async def test_build_failures(guix, recorded_drvs, name, reason):
    events = await collect(guix, recorded_drvs[name])
    assert isinstance(events[-1], BuildFailed)
    assert events[-1].reason is reason


GUIX_REVIVE_BUILTINS = (
    "builtin:bzr-download",
    "builtin:cvs-download",
    "builtin:git-download",
    "builtin:hg-download",
    "builtin:svn-download",
    "builtin:svn-multi-download",
)


def test_the_daemon_is_probed_once_for_its_builtins(guix, guix_standin):
    """recordings/20: the 2022 daemon refuses every builtin but download."""
    wanted = ("builtin:download", *GUIX_REVIVE_BUILTINS)
    assert guix.supported_builtins(wanted) == {"builtin:download"}
    assert guix.supported_builtins(wanted) == {"builtin:download"}
    repls = [c for c in guix_standin.calls() if c[0][:1] == ["repl"]]
    assert len(repls) == 1  # one session for all six probes, then the answer is kept


def test_concurrent_builds_share_one_probe(guix, guix_standin):
    from concurrent.futures import ThreadPoolExecutor

    guix.env = guix_standin.env(GUIX_STANDIN_DELAY="0.5")
    with ThreadPoolExecutor(4) as pool:
        answers = list(
            pool.map(lambda _: guix.supported_builtins(["builtin:git-download"]), range(4))
        )
    assert answers == [frozenset()] * 4
    assert len(guix_standin.calls()) == 1


def _offline_git(guix, tmp_path):
    guix.options = guix.options.__class__(
        methods=(DownloadMethod.UPSTREAM,),
        url_rewrites=(("https://github.com/", (tmp_path / "nowhere").as_uri() + "/"),),
        retries=0,
    )


async def test_unsupported_builtin_goes_to_the_embedded_builder_unregistered(
    guix, guix_standin, recorded_drvs, tmp_path
):
    """The probe says the daemon has no builtin:git-download: guix-revive's git
    builder fetches it (here it finds no repository, as the test is offline), and
    the .drv is never handed to the daemon (no import, no guix build)."""
    _offline_git(guix, tmp_path)
    drv = recorded_drvs["ninja-1.10.2-checkout"]
    events = await collect(guix, drv)
    lines = [e.line for e in events if isinstance(e, BuildLog)]
    assert lines[:2] == [
        "the Guix daemon has no builtin:git-download builder",
        "fetching with guix-revive's own git-fetch builder",
    ]
    attempts = [e for e in events if isinstance(e, BuildAttempt)]
    assert attempts == [
        BuildAttempt(
            drv, (tmp_path / "nowhere").as_uri() + "/ninja-build/ninja", AttemptKind.UPSTREAM
        )
    ]
    assert events[-1].reason is FailureReason.NOT_FOUND
    assert [c[0][0] for c in guix_standin.calls()] == ["repl"]  # the probe only


async def test_a_refusal_by_guix_build_also_falls_back(guix, recorded_drvs, tmp_path):
    """06b: should the daemon refuse a builtin after all (a daemon swapped
    under a running session), the refusal is read and the fallback runs."""
    _offline_git(guix, tmp_path)
    guix._builtins["builtin:git-download"] = True  # what an earlier probe said
    events = await collect(guix, recorded_drvs["ninja-1.10.2-checkout"])
    lines = [e.line for e in events if isinstance(e, BuildLog)]
    assert "error: unsupported builtin function 'git-download'" in lines
    assert "fetching with guix-revive's own git-fetch builder" in lines
    assert events[-1].reason is FailureReason.NOT_FOUND


async def test_trace_mode_reports_bytes(guix, recorded_drvs):
    guix.build_mode = "trace"
    drv = recorded_drvs["trace0-blob.bin"]
    events = await collect(guix, drv)
    assert [(e.done, e.total) for e in events if isinstance(e, BuildProgress)][-1] == (
        3000000,
        3000000,
    )
    assert events[-1] == BuildFinished(
        drv, "/gnu/store/zawbz6ji13y2n13x3dh85kj9wn2gshh8-trace0-blob.bin"
    )

    failed = await collect(guix, recorded_drvs["missing-1.0.tar.gz"])
    assert failed[-1].reason is FailureReason.NOT_FOUND


async def test_cancelling_kills_guix(guix, guix_standin, recorded_drvs):
    guix.env = guix_standin.env(GUIX_STANDIN_DELAY="30")
    events = guix.build(recorded_drvs["hello.txt"])
    first = await anext(events)
    assert isinstance(first, BuildStarted)
    while not guix_standin.calls():
        await asyncio.sleep(0.02)
    pid = guix_standin.calls()[-1][2]
    await events.aclose()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_recreate_script_for_svn():
    expected = Expected(
        "proj-svn-checkout",
        "/gnu/store/0a5sqrcrgq0b8n3gzj5c0v4hbrbfvdak-proj-svn-checkout",
        "sha256",
        bytes(range(32)),
        True,
    )
    script = recreate_script(SvnFetch(expected, "https://svn.example.org/p/trunk", 12, False))
    assert "(method svn-fetch)" in script
    assert (
        '(uri (svn-reference (url "https://svn.example.org/p/trunk") (revision 12) '
        "(recursive? #f)))"
    ) in script
    assert f'(sha256 (base32 "{expected.nix32}"))' in script
    assert '(file-name "proj-svn-checkout")' in script
    assert f'(string=? out "{expected.output_path}")' in script
    # grafts off: lowering must not build today's git or subversion offline
    assert "(guix grafts)" in script
    assert script.index("(%graft? #f)") < script.index("(lower-object source)")


def test_a_drv_the_daemon_cannot_build_is_staged_not_registered(
    guix, guix_standin, daemon_store, recorded_drvs
):
    """Whoever writes a rewritten form (the app's rewrite, a plan), the 2022
    daemon never gets a builtin:git-download .drv: it is only readable here."""
    from pathlib import Path

    path = recorded_drvs["ninja-1.10.2-checkout"]
    contents = (daemon_store.root / Path(path).name).read_bytes()
    guix.read_only = ()
    guix.local = guix.local.__class__(guix.store_dir, daemon_store.root / "elsewhere")
    assert guix.add_text(Path(path).name.split("-", 1)[1], contents) == path
    assert guix.read_item(path) == contents
    assert [c[0][:1] for c in guix_standin.calls()] == [["repl"]]  # the probe, no add


def test_the_recreate_script_is_the_one_lowered_live():
    """recordings/25: the script this version writes is the one the live Guix
    2022 lowered (grafts off, output path checked), build call aside."""
    from pathlib import Path

    from revive.core.store_path import fixed_output_path

    case = Path(__file__).parent / "recordings" / "25-recreate-svn-lowering"
    digest = bytes(range(32))
    name = "proj-svn-checkout"
    path = fixed_output_path(name, "sha256", digest, True)
    spec = SvnFetch(
        Expected(name, path, "sha256", digest, True),
        "file:///tmp/i10live/recreate/none",
        1,
        False,
    )
    script = recreate_script(spec).replace("(build-derivations store (list drv))", "'lowered-only")
    assert script == (case / "svn.scm").read_text()
    assert (
        (case / "stdout").read_text().endswith(";;; => build-derivations returned lowered-only\n")
    )
