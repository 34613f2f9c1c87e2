"""Stand-in programs for the tests: a script under a name, found first on PATH."""

from __future__ import annotations

from pathlib import Path


def write_program(directory: Path, name: str, text: str) -> Path:
    """The executable script ``directory/name`` holding ``text`` (``directory`` is
    made if need be); its path."""
    directory.mkdir(parents=True, exist_ok=True)
    program = directory / name
    program.write_text(text)
    program.chmod(0o755)
    return program
