"""Run a fetch program (git, svn, hg, brz, cvs) with its output streamed as log lines.

The program runs in its own process group, so that cancelling the build
(closing the event iterator, cancelling the task) kills it *and* whatever it
started (``git`` runs ``git-remote-https``, ``git-upload-pack``…).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from revive.core.builders.context import BuildContext
from revive.core.builders.errors import DEBIAN_PACKAGES, FetchError
from revive.core.stores.api import FailureReason

__all__ = ["ToolResult", "require_tool", "run_tool", "tool_environment", "tool_search_path"]

TAIL_LINES: Final = 40
"""Last output lines kept to explain a failure."""
_CHUNK: Final = 65536


@dataclass(frozen=True, slots=True)
class ToolResult:
    """How a program ended."""

    returncode: int
    """Its exit status (negative: killed by that signal)."""
    tail: tuple[str, ...]
    """The last lines it printed (stdout and stderr merged)."""

    @property
    def ok(self) -> bool:
        """True if it exited with status 0."""
        return self.returncode == 0


def require_tool(name: str) -> str:
    """The full path of program ``name``.

    Raises:
        FetchError: ``TOOL_MISSING``, naming the Debian package that provides it.
    """
    found = shutil.which(name)
    if found is None:
        package = DEBIAN_PACKAGES.get(name, name)
        raise FetchError(
            FailureReason.TOOL_MISSING,
            f"{name} is not installed (not found on PATH); install the Debian package '{package}'",
        )
    return found


def tool_search_path(path: str) -> str:
    """``path`` without the ``bin`` directories of Python virtual environments.

    Debian's ``brz`` embeds libpython and finds its standard library through
    the first ``python3`` on ``PATH``; when that is a virtualenv's (as when
    guix-revive itself runs from one), Breezy cannot import itself.
    """
    kept = [
        entry
        for entry in path.split(os.pathsep)
        if entry
        and not os.path.isfile(os.path.join(os.path.dirname(entry.rstrip("/")), "pyvenv.cfg"))
    ]
    return os.pathsep.join(kept)


def tool_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment fetch programs run in: the user's, made predictable.

    Messages in English (failures are classified by their text), never a
    password prompt (a build must not hang on a terminal).
    """
    env = dict(os.environ)
    env["PATH"] = tool_search_path(env.get("PATH", os.defpath))
    # Breezy (and Mercurial) embed or run a Python of their own: our
    # interpreter's settings would make them import the wrong packages.
    for name in ("VIRTUAL_ENV", "PYTHONHOME", "PYTHONPATH"):
        env.pop(name, None)
    env["LC_ALL"] = "C.UTF-8"
    env.pop("LANGUAGE", None)
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["SSH_ASKPASS"] = ""
    if extra:
        env.update(extra)
    return env


async def run_tool(
    ctx: BuildContext,
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> ToolResult:
    """Run ``argv``, log its output line by line, and return how it ended.

    Raises:
        FetchError: ``TOOL_MISSING`` if the program is not installed,
            ``TIMEOUT`` if it ran longer than :attr:`FetchOptions.tool_timeout`.
        asyncio.CancelledError: the build was cancelled (the process group
            is killed first).
    """
    program = require_tool(argv[0])
    ctx.log("$ " + " ".join(argv))
    proc = await asyncio.create_subprocess_exec(
        program,
        *argv[1:],
        cwd=cwd,
        env=dict(env) if env is not None else tool_environment(),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    try:
        async with asyncio.timeout(ctx.options.tool_timeout):
            await _pump(ctx, proc, tail)
            returncode = await proc.wait()
    except TimeoutError:
        _kill_group(proc)
        await proc.wait()
        raise FetchError(
            FailureReason.TIMEOUT,
            f"{argv[0]} ran longer than {ctx.options.tool_timeout:g} s and was stopped",
        ) from None
    except BaseException:
        _kill_group(proc)
        # The wait cannot be skipped: an unreaped child is a zombie, and its
        # half-written files would race the cleanup of the work directory.
        with contextlib.suppress(BaseException):
            await asyncio.shield(proc.wait())
        raise
    return ToolResult(returncode, tuple(tail))


async def _pump(ctx: BuildContext, proc: asyncio.subprocess.Process, tail: deque[str]) -> None:
    assert proc.stdout is not None
    pending = b""
    while chunk := await proc.stdout.read(_CHUNK):
        pending += chunk
        # Progress meters end their updates with "\r": each one is a line too.
        *lines, pending = pending.replace(b"\r", b"\n").split(b"\n")
        for raw in lines:
            if raw:
                line = raw.decode("utf-8", "replace")
                tail.append(line)
                ctx.log(line)
    if pending:
        line = pending.decode("utf-8", "replace")
        tail.append(line)
        ctx.log(line)


def _kill_group(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
