"""Lowering an environment with (a stand-in for) ``guix time-machine … -- build -d``."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from revive.core.env.lowering import (
    LoweringError,
    LoweringFailure,
    LoweringRequest,
    failure_of,
    lower,
    lowering_argv,
)
from revive.core.errors import ReviveError

ROOTS = [
    "/gnu/store/mc7i1cdi42gy89mxl48nhdhgrfa9lpq6-hello-2.11.drv",
    "/gnu/store/4s9l2yx7q9dxsg3w1jyb5gcwl2ki0xkh-coreutils-8.32.drv",
]


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[str, str]:
    channels = tmp_path / "channels.scm"
    channels.write_text(
        '(list (channel (name \'guix) (url "https://git.savannah.gnu.org/git/guix.git")\n'
        '               (commit "3d2b9f6bd5eb2e4be4b54d54e0a1d6d93fa0fe2c")))\n'
    )
    manifest = tmp_path / "manifest.scm"
    manifest.write_text('(specifications->manifest (list "hello" "coreutils"))\n')
    return str(channels), str(manifest)


def test_argv_of_every_form() -> None:
    assert lowering_argv(LoweringRequest(channels="c.scm", manifest="m.scm")) == (
        "guix", "time-machine", "-C", "c.scm", "--", "build", "-d", "--no-grafts", "-m", "m.scm",
    )  # fmt: skip
    assert lowering_argv(
        LoweringRequest(commit="v1.2.0", specs=("hello",), sources_only=True, system="i686-linux")
    ) == (
        "guix", "time-machine", "--commit=v1.2.0", "--",
        "build", "-d", "--no-grafts", "-S", "--system=i686-linux", "hello",
    )  # fmt: skip
    # Neither channels nor a commit: the installed Guix directly.
    assert lowering_argv(LoweringRequest(specs=("hello", "gcc-toolchain@10"))) == (
        "guix", "build", "-d", "--no-grafts", "hello", "gcc-toolchain@10",
    )  # fmt: skip


def test_bad_requests_are_refused_before_running(tmp_path: Path, standin_guix) -> None:
    with pytest.raises(ReviveError, match="nothing to lower"):
        lower(LoweringRequest(channels=str(tmp_path)))
    with pytest.raises(ReviveError, match=r"nope\.scm: no such file \(-m/--manifest\)"):
        lower(LoweringRequest(manifest=str(tmp_path / "nope.scm")))
    with pytest.raises(ReviveError, match="not both"):
        lower(LoweringRequest(channels="a", commit="b", specs=("hello",)))
    assert standin_guix.logged() == []


def test_time_machine_roots_and_live_stderr(inputs, standin_guix) -> None:
    channels, manifest = inputs
    argv = ["time-machine", "-C", channels, "--", "build", "-d", "--no-grafts", "-m", manifest]
    standin_guix.time_machine_ok(ROOTS, argv=argv)
    seen: list[str] = []
    result = lower(LoweringRequest(channels=channels, manifest=manifest), on_line=seen.append)
    assert result.roots == tuple(ROOTS)
    assert standin_guix.logged() == [argv]
    # Every line came through, the spinner's redraws one by one, warnings included.
    assert "Updating channel 'guix' from Git repository at " in seen[3]
    assert seen.count("Computing Guix derivation for 'x86_64-linux'... |") == 2
    assert any("warning: 'build-expression->derivation' is deprecated" in s for s in seen)
    assert result.stderr == tuple(seen)


def test_slow_start_is_streamed_while_guix_runs(inputs, standin_guix, tmp_path: Path) -> None:
    # GIVEN a Guix that writes one line, then waits until someone has read it
    go = tmp_path / "go"
    standin_guix.play(
        [
            (
                "err",
                "Updating channel 'guix' from Git repository at 'https://x.example/guix.git'...\n",
            ),
            ("wait", str(go)),
            ("out", ROOTS[0] + "\n"),
        ]
    )

    def on_line(line: str) -> None:
        if line.startswith("Updating channel"):
            go.touch()

    # THEN the line reaches the callback before Guix ends (else the stand-in fails)
    result = lower(LoweringRequest(commit="v1.3.0", specs=("hello",)), on_line=on_line)
    assert result.roots == (ROOTS[0],)


def test_failing_channel_is_one_line(inputs, standin_guix) -> None:
    channels, manifest = inputs
    standin_guix.play(
        [
            ("err", standin_guix.warnings),
            ("err", "Updating channel 'guix' from Git repository at 'https://git.example.invalid/guix.git'...\n"),
            ("err", "guix time-machine: error: Git error: failed to resolve address for "
                    "git.example.invalid: Name or service not known\n"),
        ],
        exit=1,
    )  # fmt: skip
    with pytest.raises(LoweringError) as caught:
        lower(LoweringRequest(channels=channels, manifest=manifest))
    assert caught.value.failure is LoweringFailure.CHANNEL
    assert str(caught.value) == (
        "guix time-machine: channel failed: Git error: failed to resolve address for "
        "git.example.invalid: Name or service not known"
    )


def test_unknown_package(inputs, standin_guix) -> None:
    channels, _ = inputs
    standin_guix.play(
        [
            ("err", "Updating channel 'guix' from Git repository at 'https://git.savannah.gnu.org/git/guix.git'...\n"),
            ("err", "\x1b[1;31mguix build: error: \x1b[0mhello-nonexistent: unknown package\n"),
        ],
        exit=1,
    )  # fmt: skip
    with pytest.raises(LoweringError) as caught:
        lower(LoweringRequest(channels=channels, specs=("hello-nonexistent",)))
    assert caught.value.failure is LoweringFailure.UNKNOWN_PACKAGE
    assert str(caught.value) == "guix build: hello-nonexistent: unknown package"


def test_other_failures(standin_guix, no_guix) -> None:
    # no guix at all
    with pytest.raises(LoweringError, match="not installed") as caught:
        lower(LoweringRequest(specs=("hello",)))
    assert caught.value.failure is LoweringFailure.GUIX_MISSING


def test_success_without_roots_and_silent_failure(standin_guix) -> None:
    standin_guix.play([("out", "nothing useful\n")])
    with pytest.raises(LoweringError, match="printed no .drv path"):
        lower(LoweringRequest(specs=("hello",)))
    standin_guix.play([], exit=3)
    with pytest.raises(LoweringError, match="exited with status 3 without a message"):
        lower(LoweringRequest(specs=("hello",)))


def test_cancel_kills_guix(standin_guix, tmp_path: Path) -> None:
    standin_guix.play([("err", "Computing Guix derivation for 'x86_64-linux'...\n"), ("sleep", 60)])
    cancel = threading.Event()
    with pytest.raises(LoweringError, match="cancelled"):
        lower(LoweringRequest(commit="v1", specs=("hello",)), on_line=lambda _: cancel.set(),
              cancel=cancel)  # fmt: skip


def test_failure_of_prefers_the_last_error_line() -> None:
    lines = [
        "guix build: warning: ambiguous package specification `hello'",
        "guix build: error: failed to load 'manifest.scm':",
        "hint: check the file",
    ]
    error = failure_of(lines, 1, time_machine=False)
    assert error.failure is LoweringFailure.OTHER
    assert str(error) == "guix build: failed to load 'manifest.scm':"
    version = failure_of(["guix build: error: gcc@99: package not found for version 99"], 1, True)
    assert version.failure is LoweringFailure.UNKNOWN_PACKAGE
    git = failure_of(["Git error: the requested commit could not be found"], 1, True)
    assert git.failure is LoweringFailure.CHANNEL
    assert str(git) == (
        "guix time-machine: channel failed: Git error: the requested commit could not be found"
    )
