"""Fixtures for the store tests: a store copy to write ``.drv`` files into,
and the loopback server, NAR writer and repositories of the builder tests."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

import pytest
from fixture_modules import conftest_of
from programs import write_program

from revive.core.aterm import serialize_derivation
from revive.core.derivation import Derivation, Output
from revive.core.derivation_hash import drv_path
from revive.core.fetch.mirrors import MirrorConfig, default_mirror_config
from revive.core.fetch.rewrite import modern_derivation
from revive.core.fetch.spec import Expected, FetchSpec
from revive.core.fetch.text_item import TextItem

# The builder tests' fixtures, re-exported: one loopback server and one NAR
# writer for both folders.
builder_fixtures = conftest_of("core/builders")

http_server = builder_fixtures.http_server
nar_of = builder_fixtures.nar_of
expected_for = builder_fixtures.expected_for
run_cmd = builder_fixtures.run_cmd
make_tree = builder_fixtures.make_tree
git_env = builder_fixtures.git_env
options = builder_fixtures.options
offline_options = builder_fixtures.offline_options


GIT_DOWNLOAD_SCRIPT = "/gnu/store/0d3x4bbkmxwr2vqp8wp4bnz3wj0s0dn9-git-download"
"""The shared git-download script of the in-band git FODs (not in any copy)."""
OLD_GUILE = "/gnu/store/18hp7flyb3yid3yp49i6qcdq0sbi5l1n-guile-3.0.2/bin/guile"
"""The old Guile of the in-band FODs (2016-2024), as their builder."""


class StoreCopy:
    """A directory holding ``.drv`` files and text items under their store names,
    like the ``--store DIR`` copy a user points guix-revive at."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def add_item(self, item: TextItem) -> str:
        """Write a text item; return its path."""
        (self.root / Path(item.path).name).write_bytes(item.contents)
        return item.path

    def add_drv(self, drv: Derivation, items: Iterable[TextItem] = ()) -> str:
        """Write ``drv`` (and the items it needs); return its ``.drv`` path."""
        for item in items:
            self.add_item(item)
        path = drv_path(drv)
        (self.root / Path(path).name).write_text(serialize_derivation(drv))
        return path

    def add_spec(self, spec: FetchSpec, config: MirrorConfig | None = None) -> str:
        """Write today's FOD for ``spec`` and its mirror files; return its ``.drv`` path."""
        drv, items, _notes = modern_derivation(spec, "x86_64-linux", config)
        return self.add_drv(drv, items)

    def add_in_band(
        self,
        expected: Expected,
        script: str,
        env: Iterable[tuple[str, str]],
        input_drvs: Iterable[str] = (),
    ) -> str:
        """Write an original FOD of the shared-script era (2016-2024): the old
        Guile runs ``script`` (a text item written too), parameters in ``env``."""
        item = self.add_item(TextItem.make(script, f";; the old {script} script\n".encode()))
        drv = Derivation(
            expected.name,
            (Output("out", expected.output_path, "r:sha256", expected.digest.hex()),),
            tuple((p, ("out",)) for p in sorted(input_drvs)),
            (item,),
            "x86_64-linux",
            OLD_GUILE,
            ("--no-auto-compile", item),
            (*env, ("out", expected.output_path)),
        )
        return self.add_drv(drv)


def in_band_git_fod(expected: Expected, url: str, commit: str) -> Derivation:
    """An original 2017-2024 git FOD (the in-band ``git-download`` script form):
    the old Guile runs a script the copy does not hold, parameters in its env."""
    return Derivation(
        expected.name,
        (Output("out", expected.output_path, "r:sha256", expected.digest.hex()),),
        (),
        (GIT_DOWNLOAD_SCRIPT,),
        "x86_64-linux",
        OLD_GUILE,
        ("--no-auto-compile", GIT_DOWNLOAD_SCRIPT),
        (
            ("git commit", commit),
            ("git recursive?", "#f"),
            ("git url", url),
            ("out", expected.output_path),
        ),
    )


def busybox_derivation(work: Path, name: str, srcs: list[str], inputs: list[str]) -> str:
    """Add a derivation for a live test to the real store with ``guix repl``; its path.

    Its builder is this machine's static busybox (added to the store), which
    lists ``srcs`` (each must exist) into its output; ``inputs`` are Scheme
    expressions of its other inputs (``(list "/gnu/store/…")`` for a store
    item, ``(list (read-derivation-from-file "….drv"))`` for a derivation).
    """
    import shutil
    import subprocess

    bin_dir = work / "busybox" / "bin"
    bin_dir.mkdir(parents=True)
    shutil.copy("/bin/busybox", bin_dir / "busybox")
    script = work / "mk.scm"
    script.write_text(
        f"""(use-modules (guix store) (guix derivations))
(with-store s
  (let* ((bb (add-to-store s "busybox" #t "sha256" "{bin_dir.parent}"))
         (drv (derivation s "{name}" (string-append bb "/bin/busybox")
                '("sh" "-c" "for i in $srcs; do test -e $i || exit 1; echo $i; done > $out")
                #:env-vars '(("srcs" . "{" ".join(srcs)}"))
                #:inputs (cons (list bb) (list {" ".join(inputs)})))))
    (format #t "DRV ~a~%" (derivation-file-name drv))))
"""
    )
    made = subprocess.run(["guix", "repl", str(script)], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr[-2000:]
    return next(line.split()[1] for line in made.stdout.splitlines() if line.startswith("DRV "))


@pytest.fixture
def store_copy(tmp_path: Path) -> StoreCopy:
    """An empty store copy (logical dir ``/gnu/store``)."""
    return StoreCopy(tmp_path / "copy")


@pytest.fixture
def loopback_config(http_server) -> MirrorConfig:
    """Today's mirror data with the content-addressed mirrors on the loopback server only."""
    return default_mirror_config().replace(
        content_addressed=[http_server.url("/ca/{algo}/{nix32}")], disarchive=[]
    )


# --- a `guix` that replays real recordings -------------------------------------------

RECORDINGS = Path(__file__).resolve().parent / "recordings"
"""Sessions recorded with the live Guix of scripts/live-guix.sh (record.py there)."""

STANDIN = r'''#!{python}
"""A stand-in for `guix`: replays the real transcripts of shared/corpus/guix-cli.

The case is chosen from the command line: `guix build [--no-grafts] DRV` and
`guix gc …` by the recorded `cmd`; `guix repl -t machine` answers each
expression with the reply recorded for the same expression (case 09c);
`guix repl SCRIPT` that builds one .drv with the extended trace replays the
section of case 10b (or 12a) recorded for that .drv. Anything else was never
recorded: exit 97.
"""
import os, re, shlex, sys
from pathlib import Path

CORPUS = Path({corpus!r})
RECORDINGS = Path({recordings!r})
args = sys.argv[1:]
log = os.environ.get("GUIX_STANDIN_LOG")
if log:
    with open(log, "a") as f:
        f.write(repr([args, os.environ.get("GUIX_DAEMON_SOCKET"), os.getpid()]) + "\n")
if os.environ.get("GUIX_STANDIN_DELAY"):  # lets a test cancel a running command
    import time
    time.sleep(float(os.environ["GUIX_STANDIN_DELAY"]))


def out(data, stream):
    stream.buffer.write(data)
    stream.flush()


def replay(case, stdout=None):
    out((case / "stderr").read_bytes(), sys.stderr)
    out(stdout if stdout is not None else (case / "stdout").read_bytes(), sys.stdout)
    sys.exit(int((case / "exit").read_text().strip() or 0))


def recorded_words(case):
    words = shlex.split((case / "cmd").read_text())
    while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
        words.pop(0)
    words = words[1:]  # "guix"
    for stop in ("<", "|"):
        if stop in words:
            words = words[: words.index(stop)]
    return words


def missing():
    sys.stderr.write("guix stand-in: no recording for: " + shlex.join(args) + "\n")
    sys.exit(97)


TMP = re.compile(r"/tmp/[^\s\"')]*")
SEQUENCE = os.environ.get("GUIX_STANDIN_CASE")
if SEQUENCE:
    # Strict replay of a recorded sequence of calls (recordings/CASE-1, -2…):
    # each call must send exactly what was recorded (temporary paths aside).
    counter = Path(os.environ["GUIX_STANDIN_LOG"] + ".seq")
    number = int(counter.read_text()) + 1 if counter.exists() else 1
    counter.write_text(str(number))
    case = RECORDINGS / f"{SEQUENCE}-{number}"
    stdin = "" if sys.stdin is None or sys.stdin.isatty() else sys.stdin.read()
    cmd = TMP.sub("TMP", "guix " + shlex.join(args) + (" < stdin" if stdin else "") + "\n")
    if not case.is_dir():
        sys.stderr.write(f"guix stand-in: {case.name} was not recorded: {cmd}")
        sys.exit(97)
    if cmd != (case / "cmd").read_text():
        sys.stderr.write(f"guix stand-in: {case.name} recorded another command: {cmd}")
        sys.exit(97)
    if stdin and TMP.sub("TMP", stdin) != (case / "stdin").read_text():
        sys.stderr.write(f"guix stand-in: {case.name} recorded another stdin\n")
        sys.exit(97)
    replay(case)

if args[:3] == ["repl", "-t", "machine"]:
    answers, banner = {}, ""
    for case in [CORPUS / "09c-repl-machine-protocol", *sorted(RECORDINGS.glob("*/stdin"))]:
        case = case.parent if case.name == "stdin" else case
        if (case / "cmd").read_text().split()[:3] != ["guix", "repl", "-t"]:
            continue
        exprs = [l for l in (case / "stdin").read_text().splitlines() if l.strip()]
        lines = (case / "stdout").read_text().splitlines(keepends=True)
        banner, replies, printed = lines[0], [], []
        for line in lines[1:]:
            printed.append(line)
            if line.startswith(("(values", "(exception")):
                replies.append("".join(printed))
                printed = []
        for expr, reply in zip(exprs, replies):
            answers.setdefault(expr, reply)  # the corpus's daemon state wins (blob.bin valid)
    sys.stdout.write(banner)
    for expr in (l for l in sys.stdin.read().splitlines() if l.strip()):
        if expr not in answers:
            sys.stdout.flush()
            missing()
        sys.stdout.write(answers[expr])
    sys.exit(0)

if len(args) == 2 and args[0] == "repl":
    script = Path(args[1]).read_text()
    found = re.search(r'\(build-derivations store \(list "([^"]+)"\)\)', script)
    if found:
        drv = found.group(1)
        for name in ("10b-repl-extended-build-trace-verbosity0", "12a-repl-trace-slow-download"):
            case = CORPUS / name
            data = (case / "stdout").read_bytes()
            marker = ("(build-derivations store '(\"%s\"))\n" % drv).encode()
            at = data.find(marker)
            if at >= 0:
                start = data.rfind(b"\n", 0, at) + 1
                end = data.find(b"\n;;; ---- ", at)
                replay(case, data[start : len(data) if end < 0 else end + 1])
    missing()

wanted = [a for a in args if a != "--no-grafts"] if args[:1] == ["build"] else args
for case in sorted(p for p in CORPUS.iterdir() if (p / "cmd").is_file()):
    if recorded_words(case) == wanted:
        replay(case)
missing()
'''


RECORDER_BIN_NAME = "recorder-bin"


def live_recording_env(tmp_path: Path, case: str) -> dict[str, str]:
    """An environment whose ``guix`` is the live one, recorded as ``recordings/CASE-N``."""
    import os

    bin_dir = tmp_path / RECORDER_BIN_NAME
    write_program(
        bin_dir, "guix", f'#!/bin/sh\nexec {sys.executable} {RECORDINGS / "recorder.py"} "$@"\n'
    )
    return {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}",
        "GUIX_REVIVE_RECORD": case,
    }


class GuixStandIn:
    """A ``bin`` directory with the replaying ``guix``, and the log of its calls."""

    def __init__(self, root: Path, corpus: Path) -> None:
        self.bin = root / "bin"
        self.program = write_program(
            self.bin,
            "guix",
            STANDIN.replace("{python}", sys.executable)
            .replace("{corpus!r}", repr(str(corpus / "guix-cli")))
            .replace("{recordings!r}", repr(str(RECORDINGS))),
        )
        self.log = root / "guix-calls.log"

    def env(self, **extra: str) -> dict[str, str]:
        """An environment with the stand-in first on PATH, logging its calls."""
        import os

        return {
            **os.environ,
            "PATH": f"{self.bin}:{os.environ.get('PATH', '')}",
            "GUIX_STANDIN_LOG": str(self.log),
            **extra,
        }

    def sequence_env(self, case: str, tmp_path: Path) -> dict[str, str]:
        """Replay ``recordings/CASE-N`` strictly in order; with ``GUIX_REVIVE_RECORD=1``
        and ``GUIX_REVIVE_LIVE_GUIX=1``, record them from the live Guix instead."""
        import os

        if os.environ.get("GUIX_REVIVE_RECORD") == "1":
            return live_recording_env(tmp_path, case)
        return self.env(GUIX_STANDIN_CASE=case)

    def calls(self) -> list[list[object]]:
        """``[args, GUIX_DAEMON_SOCKET, pid]`` of every call so far."""
        import ast

        if not self.log.exists():
            return []
        return [ast.literal_eval(line) for line in self.log.read_text().splitlines()]


@pytest.fixture
def guix_standin(tmp_path: Path, corpus_dir: Path) -> GuixStandIn:
    """A stand-in ``guix`` replaying the recorded transcripts."""
    return GuixStandIn(tmp_path / "standin", corpus_dir)


# The .drv files of the recordings, rebuilt from what the transcripts show
# (URL, name, hash, the Feb 2022 mirror files): each gives exactly the .drv
# path Guix printed, which the tests check.
FEB_2022_SOURCES = (
    "/gnu/store/0mxnx8l4fgigvd7gakwdk6hc6im4wnai-disarchive-mirrors",
    "/gnu/store/hdprrnsaa40vl1k63hnq7l1f012jzq2y-mirrors",
    "/gnu/store/lv7dc09895a2d7cn0m6ysrdlgkhx5ld8-content-addressed-mirrors",
)
RECORDED_DOWNLOADS = {
    "hello.txt": (
        "http://127.0.0.1:48979/hello.txt",
        "08lpmfazqp4zqpaszpvw909r67mnnnlrkb58zmfcdylv32zwd9nz",
    ),
    "blob.bin": (
        "http://127.0.0.1:48979/blob.bin",
        "1538bi62ndwis8r0pnnaa5kwknndv577r0lxxkibd17b2xcf6hbc",
    ),
    "missing-1.0.tar.gz": (
        "http://127.0.0.1:48979/missing-1.0.tar.gz",
        "08lpmfazqp4zqpaszpvw909r67mnnnlrkb58zmfcdylv32zwd9nz",
    ),
    "mismatch.txt": (
        "http://127.0.0.1:48979/wrong.txt",
        "08lpmfazqp4zqpaszpvw909r67mnnnlrkb58zmfcdylv32zwd9nz",
    ),
    "x.tar.gz": (
        "http://nonexistent.invalid/x.tar.gz",
        "08lpmfazqp4zqpaszpvw909r67mnnnlrkb58zmfcdylv32zwd9nz",
    ),
    "hello-2.11.tar.gz": (
        "mirror://gnu/hello/hello-2.11.tar.gz",
        "1g84a3hqs4pgx3yzs99cysv3iq440ncdw77bf03fsi1w5mby174c",
    ),
    "trace0-hello.txt": (
        "http://127.0.0.1:48979/hello.txt",
        "08lpmfazqp4zqpaszpvw909r67mnnnlrkb58zmfcdylv32zwd9nz",
    ),
    "trace0-blob.bin": (
        "http://127.0.0.1:48979/blob.bin",
        "1538bi62ndwis8r0pnnaa5kwknndv577r0lxxkibd17b2xcf6hbc",
    ),
}
IMPURE = "http_proxy https_proxy LC_ALL LC_MESSAGES LANG COLUMNS"


def recorded_download(name: str) -> Derivation:
    """The ``builtin:download`` derivation Guix made for ``name`` in the recordings."""
    from revive.core import base32
    from revive.core.derivation import Output
    from revive.core.store_path import fixed_output_path

    url, nix32 = RECORDED_DOWNLOADS[name]
    digest = base32.decode(nix32, 32)
    out = fixed_output_path(name, "sha256", digest, False)
    disarchive, mirrors, ca = FEB_2022_SOURCES
    env = (
        ("content-addressed-mirrors", ca),
        ("disarchive-mirrors", disarchive),
        ("impureEnvVars", IMPURE),
        ("mirrors", mirrors),
        ("out", out),
        ("preferLocalBuild", "1"),
        ("url", f'"{url}"'),
    )
    return Derivation(
        name,
        (Output("out", out, "sha256", digest.hex()),),
        (),
        FEB_2022_SOURCES,
        "x86_64-linux",
        "builtin:download",
        (),
        env,
    )


def recorded_git_download() -> Derivation:
    """Case 06a: the hand-made ``builtin:git-download`` FOD of ninja 1.10.2."""
    from revive.core.derivation import Output
    from revive.core.store_path import fixed_output_path

    digest = bytes.fromhex("a5fcbb300a42e4ebd8fa6c68d40c77af74fb87178f7eb145cc3890be2bc15757")
    out = fixed_output_path("ninja-1.10.2-checkout", "sha256", digest, True)
    env = (
        ("commit", "v1.10.2"),
        ("impureEnvVars", IMPURE),
        ("out", out),
        ("preferLocalBuild", "1"),
        ("recursive?", "#f"),
        ("url", '"https://github.com/ninja-build/ninja"'),
    )
    return Derivation(
        "ninja-1.10.2-checkout",
        (Output("out", out, "r:sha256", digest.hex()),),
        (),
        (),
        "x86_64-linux",
        "builtin:git-download",
        (),
        env,
    )


@pytest.fixture
def daemon_store(tmp_path: Path) -> StoreCopy:
    """What this machine sees of the recording daemon's store: the recorded .drv files."""
    copy = StoreCopy(tmp_path / "daemon-store")
    for name in RECORDED_DOWNLOADS:
        copy.add_drv(recorded_download(name))
    copy.add_drv(recorded_git_download())
    return copy


@pytest.fixture
def recorded_drvs() -> dict[str, str]:
    """``{name: .drv path}`` of the recorded derivations."""
    out = {name: drv_path(recorded_download(name)) for name in RECORDED_DOWNLOADS}
    out["ninja-1.10.2-checkout"] = drv_path(recorded_git_download())
    return out
