"""The parser of Guix's output, over every recorded build transcript."""

from __future__ import annotations

from pathlib import Path

import pytest

from revive.core.stores.api import (
    AttemptKind,
    BuildAttempt,
    BuildFailed,
    BuildFinished,
    BuildProgress,
    FailureReason,
)
from revive.core.stores.guix_output import GuixBuildParser, TraceDecoder

HELLO = "/gnu/store/5aapxv5f48s86bijphjb58nn5l2pz09h-hello.txt.drv"
HELLO_OUT = "/gnu/store/n5ss0kg5rz46b06z4acj1h5km7qa9ilj-hello.txt"
MISSING = "/gnu/store/vk5khfyy2ny1755r1ri2mwh57ip6w329-missing-1.0.tar.gz.drv"
MISSING_OUT = "/gnu/store/hash22f9kkisaafhkg1gszg931mrqlij-missing-1.0.tar.gz"
MISMATCH = "/gnu/store/0q9dd0kkj7h6ssnvb8j2jqkckd24ngfq-mismatch.txt.drv"
MISMATCH_OUT = "/gnu/store/97gwy93cr4dgnqkrpa57ib6a157sjl8j-mismatch.txt"
UNRESOLVABLE = "/gnu/store/2xd6xsp76a8157iv1lcr7fdn4kzjb11k-x.tar.gz.drv"
UNRESOLVABLE_OUT = "/gnu/store/xc1vfbni39qjhb9r33ihsba809s68d9k-x.tar.gz"
GNU = "/gnu/store/47372g9rw6bwj8fzxbpbx0l8rbzsm06q-hello-2.11.tar.gz.drv"
GNU_OUT = "/gnu/store/830rvbipirhdqdxdbaqg9d5jvpk6bgfz-hello-2.11.tar.gz"
NINJA = "/gnu/store/bv2r1hz12vxc0mmzh9rmmrfqi30dxdk9-ninja-1.10.2-checkout.drv"
NINJA_OUT = "/gnu/store/asfb6r4cyi2qlwv9y2ccqhgjk8nq0yv7-ninja-1.10.2-checkout"
EXPECTED = "08lpmfazqp4zqpaszpvw909r67mnnnlrkb58zmfcdylv32zwd9nz"
ACTUAL = "17185s0gjbkrqi7q7irfdv1dkmys1nzdrwynbdgrxw9bldq7w9bd"


def parse(data: bytes, drv: str, out: str, returncode: int, trace: bool = False, chunk: int = 7):
    """Feed ``data`` in small chunks (frames and lines split anywhere)."""
    parser = GuixBuildParser(drv, out)
    decoder = TraceDecoder()
    events = []
    for start in range(0, len(data), chunk):
        for _pid, line in decoder.feed(data[start : start + chunk]):
            events += parser.line(line)
    for _pid, line in decoder.close():
        events += parser.line(line)
    return events, parser.finish(returncode, need_success_line=trace)


def case(corpus_dir: Path, name: str, file: str = "stderr") -> tuple[bytes, int]:
    folder = corpus_dir / "guix-cli" / name
    return (folder / file).read_bytes(), int((folder / "exit").read_text())


def replayed(corpus_dir: Path, name: str, drv: str, out: str):
    """The events and final event of the recorded ``guix build`` ``name`` of ``drv``."""
    data, status = case(corpus_dir, name)
    return parse(data, drv, out, status)


@pytest.mark.parametrize(
    "name",
    [
        "01-build-fod-ok",
        "01c-build-fod-ok-verbosity2",
        "01d-build-fod-ok-verbosity1",
        "01e-build-fod-ok-quiet",
    ],
)
def test_successful_builds(corpus_dir, name):
    events, final = replayed(corpus_dir, name, HELLO, HELLO_OUT)
    assert final == BuildFinished(HELLO, HELLO_OUT)
    if name == "01-build-fod-ok":
        assert [e for e in events if isinstance(e, BuildAttempt)] == [
            BuildAttempt(HELLO, "http://127.0.0.1:48979/hello.txt", AttemptKind.UPSTREAM)
        ]


def test_slow_download_build(corpus_dir):
    drv = "/gnu/store/lkgnmaj31b05f5grgzqzbvm6cwmxwfsb-slow-b-1.0.bin.drv"
    out = "/gnu/store/5nzajnbgg42p69w037ypwwj5fwlsgpvb-slow-b-1.0.bin"
    events, final = replayed(corpus_dir, "12b-build-fod-slow-download", drv, out)
    assert final == BuildFinished(drv, out)
    assert not any(getattr(e, "line", None) == "..." for e in events)  # ticks are not logged


def test_404(corpus_dir):
    events, final = replayed(corpus_dir, "02-build-fod-404", MISSING, MISSING_OUT)
    assert final == BuildFailed(
        MISSING,
        FailureReason.NOT_FOUND,
        "http://127.0.0.1:48979/missing-1.0.tar.gz: HTTP 404 File not found "
        "(also tried 5 other places: all failed)",
    )
    assert [e.kind for e in events if isinstance(e, BuildAttempt)] == [
        AttemptKind.UPSTREAM,
        AttemptKind.CONTENT_ADDRESSED,
        AttemptKind.CONTENT_ADDRESSED,
        AttemptKind.CONTENT_ADDRESSED,
        AttemptKind.ARCHIVE,
        AttemptKind.DISARCHIVE,
    ]


def test_hash_mismatch(corpus_dir):
    _events, final = replayed(corpus_dir, "03-build-fod-hash-mismatch", MISMATCH, MISMATCH_OUT)
    assert final == BuildFailed(
        MISMATCH,
        FailureReason.HASH_MISMATCH,
        f"sha256 hash mismatch for {MISMATCH_OUT}: expected {EXPECTED}, got {ACTUAL}",
        expected_hash=EXPECTED,
        actual_hash=ACTUAL,
    )


def test_unresolvable_host(corpus_dir):
    _events, final = replayed(
        corpus_dir, "04-build-fod-unresolvable-host", UNRESOLVABLE, UNRESOLVABLE_OUT
    )
    assert final.reason is FailureReason.NETWORK_UNREACHABLE
    assert final.detail.startswith(
        "http://nonexistent.invalid/x.tar.gz: cannot resolve host (Name or service not known)"
    )


def test_mirror_gnu_tries_every_mirror(corpus_dir):
    events, final = replayed(corpus_dir, "05-build-fod-mirror-gnu", GNU, GNU_OUT)
    sources = [e.source for e in events if isinstance(e, BuildAttempt)]
    assert sources[:4] == [
        "https://ftpmirror.gnu.org/gnu/hello/hello-2.11.tar.gz",
        "ftp://ftp.cs.tu-berlin.de/pub/gnu/hello/hello-2.11.tar.gz",
        "ftp://ftp.funet.fi/pub/mirrors/ftp.gnu.org/gnu/hello/hello-2.11.tar.gz",
        "http://ftp.gnu.org/pub/gnu/hello/hello-2.11.tar.gz",
    ]
    assert final.reason is FailureReason.NETWORK_UNREACHABLE


def test_old_daemon_refuses_builtin_git_download(corpus_dir):
    _events, final = replayed(corpus_dir, "06b-build-builtin-git-download", NINJA, NINJA_OUT)
    assert final == BuildFailed(
        NINJA,
        FailureReason.BUILDER_UNSUPPORTED,
        "the Guix daemon has no builtin:git-download builder "
        "(error: unsupported builtin function 'git-download')",
    )


def test_dependency_chain_failure(corpus_dir):
    data, status = case(
        corpus_dir, "07d-build-git-fetch-fod-keep-going-full", "stderr.last-40-lines"
    )
    drv = "/gnu/store/z85nwhk3mqmipma0nlf2g1p7n459z4hn-ninja-1.10.2-checkout.drv"
    _events, final = parse(data, drv, NINJA_OUT, status)
    assert final == BuildFailed(
        drv,
        FailureReason.MISSING_INPUT,
        f"cannot build derivation `{drv}': 8 dependencies couldn't be built",
    )


def test_keep_going_summary_is_a_failure(corpus_dir):
    _events, final = replayed(corpus_dir, "07c-build-keep-going-several-fods", HELLO, HELLO_OUT)
    assert isinstance(final, BuildFailed)


# --- the extended build trace ---------------------------------------------------------


def trace_sections(corpus_dir: Path, name: str) -> dict[str, bytes]:
    """The recorded trace of each build, keyed by .drv path."""
    data = (corpus_dir / "guix-cli" / name / "stdout").read_bytes()
    sections = {}
    for chunk in data.split(b";;; ---- ")[1:]:
        head, _, body = chunk.partition(b"\n")
        drv = head.split(b'"')[1].decode()
        sections[drv] = b";;; ---- " + head + b"\n" + body
    return sections


TRACE_OK = "/gnu/store/vzhva0anhhv0nlayrrx8idpwv9f2qvyi-trace0-hello.txt.drv"
TRACE_OK_OUT = "/gnu/store/y8r68syi6cid1b4qpnrig1iiy9bla9y6-trace0-hello.txt"
TRACE_BIG = "/gnu/store/h9khnf7yrxhhcpb3shnpsy3mlwyz549b-trace0-blob.bin.drv"
TRACE_BIG_OUT = "/gnu/store/zawbz6ji13y2n13x3dh85kj9wn2gshh8-trace0-blob.bin"


@pytest.mark.parametrize("chunk", [1, 7, 4096])
def test_trace_of_a_big_download(corpus_dir, chunk):
    sections = trace_sections(corpus_dir, "10b-repl-extended-build-trace-verbosity0")
    events, final = parse(sections[TRACE_BIG], TRACE_BIG, TRACE_BIG_OUT, 0, trace=True, chunk=chunk)
    assert final == BuildFinished(TRACE_BIG, TRACE_BIG_OUT)
    progress = [(e.done, e.total) for e in events if isinstance(e, BuildProgress)]
    assert progress == [(0, 3000000), (65536, 3000000), (3000000, 3000000), (3000000, 3000000)]
    # Builder output sent one byte per frame is reassembled into lines.
    lines = [getattr(e, "line", "") for e in events]
    assert f"Starting download of {TRACE_BIG_OUT}" in lines
    assert "From http://127.0.0.1:48979/blob.bin..." in lines


@pytest.mark.parametrize(
    ("drv", "out", "reason"),
    [
        (TRACE_OK, TRACE_OK_OUT, None),
        (MISSING, MISSING_OUT, FailureReason.NOT_FOUND),
        (MISMATCH, MISMATCH_OUT, FailureReason.HASH_MISMATCH),
        (UNRESOLVABLE, UNRESOLVABLE_OUT, FailureReason.NETWORK_UNREACHABLE),
        (GNU, GNU_OUT, FailureReason.NETWORK_UNREACHABLE),
    ],
    ids=["ok", "404", "mismatch", "unresolvable", "mirror-gnu"],
)
def test_trace_verdicts(corpus_dir, drv, out, reason):
    sections = trace_sections(corpus_dir, "10b-repl-extended-build-trace-verbosity0")
    _events, final = parse(sections[drv], drv, out, 0, trace=True)
    if reason is None:
        assert final == BuildFinished(drv, out)
    else:
        assert final.reason is reason


def test_trace_at_verbosity_3_with_nesting_prefixes(corpus_dir):
    data = (corpus_dir / "guix-cli" / "10-repl-extended-build-trace" / "stdout").read_bytes()
    drv = next(
        line.split('"')[1]
        for line in data.decode().splitlines()
        if line.startswith(";;; ---- case mismatch")
    )
    section = trace_sections(corpus_dir, "10-repl-extended-build-trace")[drv]
    _events, final = parse(section, drv, MISMATCH_OUT, 0, trace=True)
    assert final.reason is FailureReason.HASH_MISMATCH
    assert (final.expected_hash, final.actual_hash) == (EXPECTED, ACTUAL)


def test_trace_of_a_slow_download(corpus_dir):
    sections = trace_sections(corpus_dir, "12a-repl-trace-slow-download")
    drv = "/gnu/store/76b09n3y441fl4fd5jb1pzgbmdayr0nc-slow-a-1.0.bin.drv"
    out = "/gnu/store/3ijacdgvjj9m8y7v71fpwk4d4dhjrczr-slow-a-1.0.bin"
    events, final = parse(sections[drv], drv, out, 0, trace=True)
    assert final == BuildFinished(drv, out)
    done = [e.done for e in events if isinstance(e, BuildProgress)]
    assert done[1:17] == [65536 * i for i in range(1, 17)]
    assert done[-1] == 1048576


def test_build_log_with_trace_lines(corpus_dir):
    """11c: a build log written with the trace on holds the @ download lines."""
    data, _ = case(corpus_dir, "11c-build-log-content-mismatch", "stdout")
    events, _final = parse(data, MISMATCH, MISMATCH_OUT, 0)
    assert [e.total for e in events if isinstance(e, BuildProgress)][0] == 33


def test_decoder_keeps_frames_of_two_builders_apart():
    decoder = TraceDecoder()
    stream = b"@ build-log 1 5\nab\ncd@ build-log 2 3\nxy\n@ build-log 1 3\nef\nplain\n"
    assert decoder.feed(stream) + decoder.close() == [
        ("1", "ab"),
        ("2", "xy"),
        ("1", "cdef"),
        (None, "plain"),
    ]
