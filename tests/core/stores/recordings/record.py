"""Record a ``guix repl -t machine`` session with a live Guix, in the corpus format.

Usage: ``python record.py CASE NOTES < expressions`` (one expression a line;
``$GUIX`` is the live wrapper, default ``/opt/guix-live/bin/guix``):
writes ``CASE/{cmd,stdin,stdout,stderr,exit,notes}`` next to this file. Only
the paths of the uninstalled Guix tree (``SRC``) and of temporary files
(``TMP``) are replaced, as in ``shared/corpus/guix-cli``.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

case = Path(__file__).resolve().parent / sys.argv[1]
notes = sys.argv[2]
stdin = sys.stdin.read()
proc = subprocess.run(
    [os.environ.get("GUIX", "/opt/guix-live/bin/guix"), "repl", "-t", "machine"],
    input=stdin.encode(),
    capture_output=True,
)
src = os.environ.get("GUIX_SRC", "/opt/guix-src")


def scrub(data: bytes) -> bytes:
    data = data.replace(src.encode(), b"SRC")
    return re.sub(rb"/tmp/[A-Za-z0-9_.+-]+", b"TMP", data)


case.mkdir(parents=True, exist_ok=True)
(case / "cmd").write_text("guix repl -t machine < stdin\n")
(case / "stdin").write_bytes(stdin.encode())
(case / "stdout").write_bytes(scrub(proc.stdout))
(case / "stderr").write_bytes(scrub(proc.stderr))
(case / "exit").write_text(f"{proc.returncode}\n")
(case / "notes").write_text(notes + "\n")
print(proc.stdout.decode()[-2000:])
