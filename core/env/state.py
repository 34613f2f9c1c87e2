"""The state file that makes ``guix-revive env`` resumable.

It sits next to the report and records the roots the lowering printed
(with a key over the lowering command and the contents of its input files,
so that an unchanged environment is not lowered again: ``guix
time-machine`` can take many minutes) and every source's record, with what
was tried. A rerun reads it, skips the lowering when the key matches, asks
the servers nothing about what is already present, and fetches only what is
not done. It is written atomically (a temporary file renamed over it), so an
interruption leaves the previous version or the new one, never half of one.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from revive.core.env.plan import SourceRecord
from revive.core.errors import ReviveError

__all__ = [
    "STATE_VERSION",
    "EnvState",
    "lowering_key",
    "load_state",
    "save_state",
    "write_atomically",
]

STATE_VERSION: Final = 1
"""Version of the file's layout."""


@dataclass(frozen=True, slots=True)
class EnvState:
    """What a previous run left."""

    lowering_key: str | None = None
    """The key of the lowering that printed :attr:`roots` (``None``: given roots)."""
    roots: tuple[str, ...] = ()
    """The root ``.drv`` paths."""
    records: Mapping[str, SourceRecord] = field(default_factory=dict)
    """Every source's record, by original ``.drv`` path."""


def lowering_key(argv: Sequence[str], files: Iterable[str | None]) -> str:
    """A key for one lowering: its command line and its input files' contents.

    Raises:
        ReviveError: an input file cannot be read.
    """
    digest = hashlib.sha256()
    for arg in argv:
        digest.update(arg.encode() + b"\0")
    for name in files:
        if name is None:
            continue
        try:
            digest.update(Path(name).read_bytes() + b"\0")
        except OSError as err:
            raise ReviveError(f"{name}: cannot read: {err.strerror or err}") from None
    return digest.hexdigest()


def load_state(path: str | os.PathLike[str]) -> EnvState | None:
    """The state in ``path`` (``None`` when there is no such file).

    Raises:
        ReviveError: the file is not a state file of this version.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as err:
        raise ReviveError(f"{path}: cannot read: {err.strerror or err}") from None
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            raise ValueError(f"not a guix-revive env state file (version {STATE_VERSION})")
        key = data.get("lowering_key")
        roots = data.get("roots", [])
        records = data.get("sources", [])
        if key is not None and not isinstance(key, str):
            raise ValueError("'lowering_key' must be a string")
        if not isinstance(roots, list) or not all(isinstance(r, str) for r in roots):
            raise ValueError("'roots' must be a list of strings")
        if not isinstance(records, list):
            raise ValueError("'sources' must be a list")
        parsed = [SourceRecord.from_json(r) for r in records if isinstance(r, dict)]
        if len(parsed) != len(records):
            raise ValueError("every source must be an object")
    except ValueError as err:  # json.JSONDecodeError is a ValueError
        raise ReviveError(f"{path}: {err} (remove it, or run with --fresh)") from None
    return EnvState(key, tuple(roots), {r.drv: r for r in parsed})


def save_state(path: str | os.PathLike[str], state: EnvState) -> None:
    """Write ``state`` to ``path`` atomically.

    Raises:
        ReviveError: the directory cannot be written.
    """
    data = {
        "version": STATE_VERSION,
        "lowering_key": state.lowering_key,
        "roots": list(state.roots),
        "sources": [r.as_json() for r in state.records.values()],
    }
    write_atomically(path, json.dumps(data, indent=1, ensure_ascii=False) + "\n")


def write_atomically(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file renamed over it.

    Readers see the old contents or the new, never a part; the directory is
    created if needed.

    Raises:
        ReviveError: the directory cannot be written.
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, target)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as err:
        raise ReviveError(f"{target}: cannot write: {err.strerror or err}") from None
