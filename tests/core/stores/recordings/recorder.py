#!/usr/bin/env python3
"""A ``guix`` that runs the live one and records each call, in the corpus format.

Put a directory holding this file as ``guix`` first on ``PATH`` (the tests do
it when ``GUIX_REVIVE_RECORD=CASE`` is set) and every call of a test becomes a
case folder ``CASE-N`` next to this file: ``cmd``, ``stdin``, ``stdout``,
``stderr``, ``exit``. Only the uninstalled Guix tree (``SRC``) and temporary
paths (``TMP``, as the stand-in scrubs what it is asked) are replaced, as in
``shared/corpus/guix-cli``. ``$GUIX_REVIVE_GUIX_BIN/guix`` is the live one.
"""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REAL = Path(os.environ.get("GUIX_REVIVE_GUIX_BIN", "/opt/guix-live/bin")) / "guix"
SRC = os.environ.get("GUIX_SRC", "/opt/guix-src")
TMP = re.compile(rb"/tmp/[^\s\"')]*")


def scrub(data: bytes) -> bytes:
    """Machine-specific paths out: the Guix tree and temporary files."""
    return TMP.sub(b"TMP", data.replace(SRC.encode(), b"SRC"))


def main() -> int:
    args = sys.argv[1:]
    stdin = b"" if sys.stdin.isatty() else sys.stdin.buffer.read()
    proc = subprocess.run([str(REAL), *args], input=stdin, capture_output=True)
    case = os.environ["GUIX_REVIVE_RECORD"]
    number = 1
    while (HERE / f"{case}-{number}").exists():
        number += 1
    folder = HERE / f"{case}-{number}"
    folder.mkdir()
    redirect = " < stdin" if stdin else ""
    (folder / "cmd").write_bytes(scrub(f"guix {shlex.join(args)}{redirect}\n".encode()))
    if stdin:
        (folder / "stdin").write_bytes(scrub(stdin))
    (folder / "stdout").write_bytes(scrub(proc.stdout))
    (folder / "stderr").write_bytes(scrub(proc.stderr))
    (folder / "exit").write_text(f"{proc.returncode}\n")
    sys.stdout.buffer.write(proc.stdout)
    sys.stderr.buffer.write(proc.stderr)
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
