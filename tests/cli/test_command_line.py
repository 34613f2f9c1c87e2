"""The top of the command line: mistyped commands, the app's arguments, the help texts."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest

from revive.core.demo.generate import default_demo_dir
from revive.tui.cli import COMMANDS, main
from revive.tui.cli.app_command import NO_TERMINAL, build_parser, plan_from_args

DRV_NAME = "0123456789abcdfghijklmnpqrsvwxyz-hello-1.0.drv"
# Rich console markup, and the reST of docstrings, must not reach a help text.
RAW_MARKUP = re.compile(
    r"``|\[/?(bold|dim|italic|red|green|yellow|cyan|b|i)\b[^\]]*\]|:(class|func):"
)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def in_a_terminal(*argv: str) -> tuple[int, str]:
    """Run ``guix-revive ARGV…`` with a pseudo-terminal as stdin and stdout: (status, output)."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; from revive.tui.cli import main; sys.exit(main())"]
        + list(argv),
        stdin=follower,
        stdout=follower,
        stderr=follower,
        close_fds=True,
    )
    os.close(follower)
    output = b""
    try:
        while True:
            ready, _, _ = select.select([leader], [], [], 60)
            if not ready:  # an app waiting for keys would never end
                raise AssertionError(f"still running after 60 s: {output!r}")
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
    finally:
        status = process.wait(timeout=60)
        os.close(leader)
    return status, output.decode(errors="replace").replace("\r\n", "\n")


# --- a mistyped command ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "hint"),
    [("shwo", ": did you mean 'show'?"), ("verfy", ": did you mean 'verify'?"), ("bogus", "")],
)
def test_unknown_command_is_an_error_with_suggestions(
    word: str, hint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(capsys, word)
    assert (status, out) == (2, "")
    assert err == (
        f"guix-revive: error: unknown command {word!r}{hint} (commands: {', '.join(COMMANDS)}; "
        "or .drv files to open the app; see guix-revive --help)\n"
    )


def test_unknown_command_in_a_terminal_opens_no_app() -> None:
    """In a real terminal too: the error, exit 2, and no app waiting for keys."""
    status, output = in_a_terminal("shwo")
    assert status == 2
    assert output.strip().startswith("guix-revive: error: unknown command 'shwo'")


def test_drv_arguments_are_not_taken_for_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A store path, a bare .drv name or a relative file go to the app (here: no terminal)."""
    monkeypatch.chdir(tmp_path)
    for argv in (
        [f"/gnu/store/{DRV_NAME}"],
        [DRV_NAME],
        [f"./{DRV_NAME}"],
        ["--backend", "embedded", DRV_NAME],
    ):
        status, _, err = run(capsys, *argv)
        assert (status, err) == (2, NO_TERMINAL + "\n"), argv


def test_a_path_that_is_not_a_drv_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("")
    for word in ("notes.txt", "some/dir"):
        status, _, err = run(capsys, word)
        assert status == 2
        assert err == f"guix-revive: error: {word}: not a .drv file (expected <hash>-<name>.drv)\n"


# --- the app needs a terminal ---------------------------------------------------------------


def test_the_app_refuses_to_start_without_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    """Under pytest neither stdin nor stdout is a terminal: one line, exit 2, no app."""
    assert run(capsys, "--demo") == (2, "", NO_TERMINAL + "\n")
    assert run(capsys) == (2, "", NO_TERMINAL + "\n")


def test_piped_app_in_a_subprocess(tmp_path: Path) -> None:
    """``guix-revive | less`` and ``guix-revive < /dev/null``: the same line, at once."""
    for stdin, stdout in ((subprocess.DEVNULL, subprocess.PIPE), (None, subprocess.PIPE)):
        done = subprocess.run(
            [sys.executable, "-c", "import sys; from revive.tui.cli import main; sys.exit(main())"],
            stdin=stdin,
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
        assert (done.returncode, done.stdout, done.stderr) == (2, "", NO_TERMINAL + "\n")


# --- the app's store ----------------------------------------------------------------------


def test_app_store_is_where_the_drv_file_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = tmp_path / "copy"
    store.mkdir()
    (store / DRV_NAME).write_text("")
    monkeypatch.chdir(tmp_path)
    for root in (str(store / DRV_NAME), f"copy/{DRV_NAME}"):
        plan = plan_from_args(build_parser().parse_args([root]))
        assert (plan.store, plan.roots, plan.demo) == (str(store), (root,), False)
    # --store wins; a store name alone means the default store; no root: the demo.
    explicit = plan_from_args(build_parser().parse_args(["--store", "/s", f"copy/{DRV_NAME}"]))
    assert explicit.store == "/s"
    assert plan_from_args(build_parser().parse_args([f"x{DRV_NAME[1:]}"])).store == "/gnu/store"
    assert plan_from_args(build_parser().parse_args([])).demo


# --- help -----------------------------------------------------------------------------------


def test_top_level_help_lists_the_app_options_and_the_demo(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--store DIR", "--backend", "--demo-serve", *COMMANDS):
        assert option in out
    assert str(default_demo_dir()) in out
    # Where the demo's .drv files are (to try the commands on), and -C/-m for the app.
    assert str(default_demo_dir() / "store") in out
    assert "-C FILE | --commit C, -m FILE | SPEC…" in out
    assert out.startswith("usage: guix-revive [ROOT.drv…] [app options]\n")


@pytest.mark.parametrize(
    "argv", [["--help"], ["--store", "x", "--help"], *([c, "--help"] for c in COMMANDS)]
)
def test_help_texts_have_no_raw_markup(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(argv)
    out = capsys.readouterr().out
    assert RAW_MARKUP.search(out) is None, RAW_MARKUP.search(out)
    if argv[0] in COMMANDS:
        assert out.startswith(f"usage: guix-revive {argv[0]} ")
        assert "exit status:\n  0  " in out, "every command documents its exit status"


def test_store_default_is_still_a_path() -> None:
    """Commands that open ``args.store`` themselves get the default store directory as before."""
    from revive.tui.cli import build_parser as commands_parser
    from revive.tui.cli.common import store_given

    args = commands_parser(only="show").parse_args(["show", DRV_NAME])
    assert isinstance(args.store, str) and args.store == "/gnu/store"
    assert not store_given(args.store)
    given = commands_parser(only="show").parse_args(["show", "--store", "/gnu/store", DRV_NAME])
    assert store_given(given.store)
