"""Lower an environment to its root ``.drv`` paths with Guix itself.

An old environment is described by a ``channels.scm`` (or one Guix commit)
and a manifest or package specs. Only that old Guix knows how to turn them
into derivations, so it is run through the installed one::

    guix time-machine -C channels.scm -- build -d --no-grafts [-S] [--system=S] -m manifest.scm

or, with neither channels nor a commit, the installed ``guix build -d``
directly. Grafts are turned off: a grafted package is a different
derivation, built from the ungrafted one, and building grafts would need
the build results the sources are wanted for.

Guix writes progress and errors on standard error (``Updating channel 'guix'
from Git repository at '…'...``, ``Computing Guix derivation for
'x86_64-linux'...`` with a spinner redrawn by carriage returns, ``guix
build: error: foo: unknown package``, ``guix time-machine: error: Git error:
…``) and, only when it succeeded, one ``.drv`` path per line on standard
output. :func:`lower` streams the error stream line by line to a callback
while the process runs, keeps the printed roots, and turns a failure into
one :class:`LoweringError` line.
"""

from __future__ import annotations

import contextlib
import enum
import os
import re
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Final

from revive.core.errors import ReviveError
from revive.core.store_path import is_store_path

__all__ = [
    "LoweringRequest",
    "LoweringFailure",
    "LoweringError",
    "LoweringResult",
    "lowering_argv",
    "lower",
    "failure_of",
]

_ANSI: Final = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# `guix build: error: …`, `guix time-machine: error: …`, `guix: error: …`
_ERROR: Final = re.compile(r"^(guix(?: [\w-]+)?): error: (.*)$")
_UNKNOWN_PACKAGE: Final = re.compile(
    r"^(.+): (?:unknown package|package not found for version .+)$"
)
_CHANNEL_HINTS: Final = ("Git error", "channel", "commit", "repository", "authenticat")


@dataclass(frozen=True, slots=True)
class LoweringRequest:
    """What to lower, as ``guix-revive env`` was told."""

    channels: str | None = None
    """``-C FILE``: the channels of the old Guix."""
    commit: str | None = None
    """``--commit C``: a commit of the ``guix`` channel (instead of a channels file)."""
    manifest: str | None = None
    """``-m FILE``: a manifest of the old Guix."""
    specs: tuple[str, ...] = ()
    """Package specifications (``hello``, ``gcc-toolchain@10``)."""
    system: str | None = None
    """``--system``: lower for this system instead of the machine's."""
    sources_only: bool = False
    """``-S``: just the packages' own sources, not the whole build closure."""
    guix: str = "guix"
    """The installed ``guix`` program (a name on ``PATH`` or a path)."""

    @property
    def uses_time_machine(self) -> bool:
        """True when an old Guix is needed (channels or a commit given)."""
        return self.channels is not None or self.commit is not None

    def check(self) -> None:
        """Refuse a request that cannot work, before anything is run.

        Raises:
            ReviveError: both channels and a commit, nothing to lower, or a
                named file that is not a readable file.
        """
        if self.channels is not None and self.commit is not None:
            raise ReviveError("give either -C/--channels or --commit, not both")
        if self.manifest is None and not self.specs:
            raise ReviveError(
                "nothing to lower: give -m/--manifest FILE or package specs "
                "(or --roots FILE with .drv paths)"
            )
        for option, name in (("-C/--channels", self.channels), ("-m/--manifest", self.manifest)):
            if name is not None and not Path(name).is_file():
                raise ReviveError(f"{name}: no such file ({option})")


@dataclass(frozen=True, slots=True)
class LoweringResult:
    """What a successful lowering printed."""

    roots: tuple[str, ...]
    """The ``.drv`` paths, in the order Guix printed them."""
    argv: tuple[str, ...]
    """The command that was run."""
    stderr: tuple[str, ...] = field(default=(), repr=False)
    """Every line Guix wrote on standard error."""


class LoweringFailure(enum.StrEnum):
    """Why lowering failed, as a class the user can act on."""

    UNKNOWN_PACKAGE = "unknown package"
    """A spec (or a manifest entry) names no package of that Guix."""
    CHANNEL = "channel"
    """A channel could not be fetched or authenticated, or its commit is unknown."""
    GUIX_MISSING = "guix missing"
    """No ``guix`` program is installed."""
    OTHER = "other"
    """Anything else (a broken manifest, a daemon that is not running…)."""


class LoweringError(ReviveError):
    """Lowering failed; the message is one line saying why."""

    def __init__(self, failure: LoweringFailure, message: str) -> None:
        self.failure = failure
        """The class of failure."""
        super().__init__(message)

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.failure, str(self)))


def lowering_argv(request: LoweringRequest) -> tuple[str, ...]:
    """The command line lowering ``request`` (``guix time-machine … -- build -d …``)."""
    build = ["build", "-d", "--no-grafts"]
    if request.sources_only:
        build.append("-S")
    if request.system is not None:
        build.append(f"--system={request.system}")
    if request.manifest is not None:
        build += ["-m", request.manifest]
    build += list(request.specs)
    if request.channels is not None:
        return (request.guix, "time-machine", "-C", request.channels, "--", *build)
    if request.commit is not None:
        return (request.guix, "time-machine", f"--commit={request.commit}", "--", *build)
    return (request.guix, *build)


def failure_of(lines: Sequence[str], status: int, time_machine: bool) -> LoweringError:
    """The one-line error for a lowering that exited with ``status``.

    Guix's own ``error:`` line is used when there is one (the last, since
    an inner command's error is the cause; its ``hint:`` lines are left
    out), else a ``Git error:`` line, else the last line written.
    """
    clean = [_ANSI.sub("", line).strip() for line in lines]
    errors = [m for m in map(_ERROR.match, clean) if m is not None]
    if errors:
        who, message = errors[-1].group(1), errors[-1].group(2)
    else:
        git = [line for line in clean if line.startswith("Git error")]
        rest = [line for line in clean if line]
        who = "guix time-machine" if time_machine else "guix build"
        message = (git or rest or [f"exited with status {status} without a message"])[-1]
    unknown = _UNKNOWN_PACKAGE.match(message)
    if unknown is not None:
        return LoweringError(LoweringFailure.UNKNOWN_PACKAGE, f"{who}: {message}")
    channel_stage = time_machine and (who == "guix time-machine" or message.startswith("Git error"))
    if channel_stage and any(hint in message for hint in _CHANNEL_HINTS):
        return LoweringError(LoweringFailure.CHANNEL, f"{who}: channel failed: {message}")
    return LoweringError(LoweringFailure.OTHER, f"{who}: {message}")


def lower(
    request: LoweringRequest,
    on_line: Callable[[str], None] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cancel: threading.Event | None = None,
) -> LoweringResult:
    """Run the lowering command; return the roots it printed.

    Args:
        request: what to lower (checked first with :meth:`LoweringRequest.check`).
        on_line: receives each line Guix writes on standard error as it
            comes (a spinner's carriage returns end a line too).
        env: the environment of ``guix`` (default: inherited).
        cancel: set to kill the command.

    Raises:
        LoweringError: ``guix`` is missing or failed, or printed no ``.drv``.
        ReviveError: the request is not valid.
    """
    request.check()
    environment = dict(os.environ if env is None else env)
    if shutil.which(request.guix, path=environment.get("PATH")) is None:
        raise LoweringError(
            LoweringFailure.GUIX_MISSING,
            f"{request.guix}: not installed (not on PATH); give --roots FILE with "
            "the .drv paths computed on a machine with Guix",
        )
    argv = lowering_argv(request)
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=environment,
            start_new_session=True,  # so that cancelling kills time-machine's children too
        )
    except OSError as err:
        raise LoweringError(
            LoweringFailure.GUIX_MISSING, f"{argv[0]}: cannot run: {err.strerror or err}"
        ) from None
    with proc:  # closes the pipes whatever happens
        try:
            lines, out = _communicate(proc, on_line, cancel)
        except BaseException:
            # Ctrl-C: the child is in its own session (it did not get the
            # signal), so it is killed here rather than waited for.
            _kill(proc)
            raise
        status = proc.wait()
    if cancel is not None and cancel.is_set():
        raise LoweringError(LoweringFailure.OTHER, "lowering cancelled")
    if status != 0:
        raise failure_of(lines, status, request.uses_time_machine)
    printed = b"".join(out).decode("utf-8", "replace").split()
    roots = tuple(dict.fromkeys(p for p in printed if p.endswith(".drv") and is_store_path(p)))
    if not roots:
        raise LoweringError(
            LoweringFailure.OTHER, f"{' '.join(argv[:2])}: succeeded but printed no .drv path"
        )
    return LoweringResult(roots, argv, tuple(lines))


def _communicate(
    proc: subprocess.Popen[bytes],
    on_line: Callable[[str], None] | None,
    cancel: threading.Event | None,
) -> tuple[list[str], list[bytes]]:
    """Stream standard error to ``on_line`` while collecting standard output."""
    assert proc.stdout is not None and proc.stderr is not None
    lines: list[str] = []
    out: list[bytes] = []
    stdout = proc.stdout
    reader = threading.Thread(target=_read_lines, args=(proc.stderr, lines, on_line), daemon=True)
    collector = threading.Thread(target=lambda: out.append(stdout.read()), daemon=True)
    reader.start()
    collector.start()
    watcher = _watch(proc, cancel) if cancel is not None else None
    proc.wait()
    reader.join()
    collector.join()
    if watcher is not None:
        watcher.set()
    return lines, out


def _read_lines(stream: IO[bytes], into: list[str], on_line: Callable[[str], None] | None) -> None:
    pending = b""
    read = getattr(stream, "read1", stream.read)  # read1: whatever has arrived, not 64 KiB
    while chunk := read(65536):
        pending += chunk
        # A spinner redraws one line with carriage returns: each redraw is news.
        *complete, pending = re.split(rb"\r\n|\n|\r", pending)
        for raw in complete:
            _emit(raw, into, on_line)
    if pending:
        _emit(pending, into, on_line)


def _emit(raw: bytes, into: list[str], on_line: Callable[[str], None] | None) -> None:
    line = _ANSI.sub("", raw.decode("utf-8", "replace")).rstrip()
    if not line:
        return
    into.append(line)
    if on_line is not None:
        on_line(line)


def _watch(proc: subprocess.Popen[bytes], cancel: threading.Event) -> threading.Event:
    done = threading.Event()

    def run() -> None:
        while not done.is_set():
            if cancel.wait(0.1):
                _kill(proc)
                return

    threading.Thread(target=run, daemon=True).start()
    return done


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
