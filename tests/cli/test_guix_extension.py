"""The ``guix revive`` extension: a Guile module handing over to ``guix-revive env``."""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from programs import write_program

ROOT = Path(__file__).resolve().parents[2]
EXTENSIONS = ROOT / "tui" / "guix" / "extensions"
MODULE = EXTENSIONS / "revive.scm"

# Guix's (guix scripts) is not installed here: a minimal module providing the
# `define-command' form the extension uses (a procedure with a category and a
# synopsis), enough to load the extension and call its command procedure.
GUIX_SCRIPTS = """\
(define-module (guix scripts)
  #:export (define-command))
(define-syntax define-command
  (syntax-rules (category synopsis)
    ((_ (name . args) (category cat) (synopsis text) body ...)
     (define (name . args) body ...))))
"""

RECORDER = """\
#!/bin/sh
printf '%s\\n' "$@" > "$ARGS_FILE"
exit 7
"""


def test_it_is_shipped() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert setuptools["data-files"]["share/guix/extensions"] == ["tui/guix/extensions/revive.scm"]
    assert setuptools["package-data"]["revive.tui.guix.extensions"] == ["*.scm"]
    text = MODULE.read_text()
    assert "(define-module (guix extensions revive)" in text
    assert "(category extension)" in text


@pytest.fixture
def recorder(tmp_path: Path) -> tuple[Path, Path]:
    return write_program(tmp_path, "guix-revive-recorder", RECORDER), tmp_path / "args"


@pytest.mark.skipif(shutil.which("guile") is None, reason="guile is not installed")
def test_hands_over_to_guix_revive_env(tmp_path: Path, recorder: tuple[Path, Path]) -> None:
    (tmp_path / "guix").mkdir()
    (tmp_path / "guix" / "scripts.scm").write_text(GUIX_SCRIPTS)
    program, args_file = recorder
    call = (
        f'(load "{MODULE}") '
        '((@ (guix extensions revive) guix-revive) "-C" "channels.scm" "-m" "m.scm" "--fetch")'
    )
    env = {**os.environ, "GUIX_REVIVE": str(program), "ARGS_FILE": str(args_file)}
    proc = subprocess.run(
        ["guile", "--no-auto-compile", "-L", str(tmp_path), "-c", call],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    # exec: guix-revive's own exit status, its arguments unchanged after "env"
    assert proc.returncode == 7, proc.stderr
    assert args_file.read_text().splitlines() == [
        "env",
        "-C",
        "channels.scm",
        "-m",
        "m.scm",
        "--fetch",
    ]
    env["GUIX_REVIVE"] = str(tmp_path / "no-such-program")
    proc = subprocess.run(
        ["guile", "--no-auto-compile", "-L", str(tmp_path), "-c", call],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 127
    assert proc.stderr.strip().endswith(
        f"guix revive: error: cannot run '{tmp_path}/no-such-program': No such file or directory"
    )


@pytest.mark.skipif(
    os.environ.get("GUIX_REVIVE_LIVE_GUIX") != "1" or shutil.which("guix") is None,
    reason="needs a real Guix (GUIX_REVIVE_LIVE_GUIX=1)",
)
def test_live_guix_runs_the_extension(recorder: tuple[Path, Path]) -> None:
    program, args_file = recorder
    env = {
        **os.environ,
        "GUIX_EXTENSIONS_PATH": str(EXTENSIONS),
        "GUIX_REVIVE": str(program),
        "ARGS_FILE": str(args_file),
    }
    listing = subprocess.run(
        ["guix", "--help"], env=env, capture_output=True, text=True, timeout=600
    )
    assert "revive  revive a past environment" in listing.stdout
    proc = subprocess.run(
        ["guix", "revive", "-C", "channels.scm", "hello"],
        env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 7, proc.stderr
    assert args_file.read_text().splitlines() == ["env", "-C", "channels.scm", "hello"]
