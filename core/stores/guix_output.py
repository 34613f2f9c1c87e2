"""Read what ``guix build`` and the daemon print, as build events.

Two formats reach guix-revive (both recorded from a real Guix, see
:mod:`revive.core.stores.guix`):

* the **human** output of ``guix build`` on standard error: ``building
  DRV...``, ``Starting download of OUT`` / ``From URL...``, ``download
  failed "URL" 404 "File not found"``, ``In procedure getaddrinfo: …``,
  ``sha256 hash mismatch for OUT:`` with ``expected hash:``/``actual hash:``,
  ``error: unsupported builtin function 'git-download'``, ``guix build:
  error: …``;
* the daemon's **extended build trace** (``print-extended-build-trace`` and
  ``multiplexed-build-output``), as a ``guix repl`` script copies it:
  ``@ build-started``, ``@ build-log PID LEN`` followed by exactly LEN bytes
  of builder output (not necessarily a whole line), ``@ download-started``,
  ``@ download-progress OUT URL SIZE DONE``, ``@ download-succeeded``,
  ``@ hash-mismatch OUT ALGO EXPECTED ACTUAL``, ``@ build-failed``,
  ``@ build-succeeded``; at daemon verbosity 3 some lines carry a ``|   ``
  prefix.

Lines the parser does not know (setup warnings of an uninstalled Guix, for
instance) become plain log lines. Nothing here runs a process.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from revive.core.stores.api import (
    AttemptKind,
    BuildAttempt,
    BuildEvent,
    BuildFailed,
    BuildFinished,
    BuildLog,
    BuildProgress,
    FailureReason,
)

__all__ = ["TraceDecoder", "GuixBuildParser", "attempt_kind"]

_BUILD_LOG: Final = re.compile(rb"@ build-log (\d+) (\d+)")
_PREFIX: Final = "|   "


class TraceDecoder:
    """Split a byte stream into lines, undoing ``@ build-log PID LEN`` framing.

    :meth:`feed` returns ``(pid, line)`` pairs: ``pid`` is ``None`` for a line
    of the stream itself, or the builder's PID for a line of its output
    (reassembled from as many frames as it took).
    """

    def __init__(self) -> None:
        self._buffer = b""
        self._payload_left = 0
        self._payload_pid = ""
        self._partial: dict[str, bytes] = {}

    def feed(self, data: bytes) -> list[tuple[str | None, str]]:
        """Decode ``data``; return the complete lines it finishes."""
        self._buffer += data
        out: list[tuple[str | None, str]] = []
        while self._buffer:
            if self._payload_left:
                take = self._buffer[: self._payload_left]
                self._buffer = self._buffer[len(take) :]
                self._payload_left -= len(take)
                self._builder_bytes(self._payload_pid, take, out)
                continue
            end = self._buffer.find(b"\n")
            if end < 0:
                break
            raw, self._buffer = self._buffer[:end], self._buffer[end + 1 :]
            stripped = raw
            while stripped.startswith(_PREFIX.encode()):
                stripped = stripped[len(_PREFIX) :]
            frame = _BUILD_LOG.fullmatch(stripped)
            if frame is not None:
                self._payload_pid = frame.group(1).decode()
                self._payload_left = int(frame.group(2))
                continue
            out.append((None, _decode(raw)))
        return out

    def close(self) -> list[tuple[str | None, str]]:
        """Flush what is left (a last line without newline, partial builder lines)."""
        out: list[tuple[str | None, str]] = []
        if self._buffer:
            out.append((None, _decode(self._buffer)))
            self._buffer = b""
        for pid, rest in self._partial.items():
            if rest:
                out.append((pid, _decode(rest)))
        self._partial.clear()
        return out

    def _builder_bytes(self, pid: str, data: bytes, out: list[tuple[str | None, str]]) -> None:
        pending = self._partial.get(pid, b"") + data
        *lines, pending = pending.split(b"\n")
        out.extend((pid, _decode(line)) for line in lines)
        self._partial[pid] = pending


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "replace").rstrip("\r")


def attempt_kind(url: str) -> AttemptKind:
    """Guess what kind of source a URL printed by ``guix perform-download`` is."""
    if url.startswith("https://web.archive.org/web/"):
        return AttemptKind.ARCHIVE
    if (
        "/file/" in url
        or url.startswith(("https://tarballs.nixos.org/", "http://tarballs.nixos.org/"))
        or "archive.softwareheritage.org/api/1/content/" in url
    ):
        return AttemptKind.CONTENT_ADDRESSED
    return AttemptKind.UPSTREAM


# Human lines of `guix build` and `guix perform-download`.
_FROM: Final = re.compile(r"From (\S+)\.\.\.")
_DOWNLOAD_FAILED: Final = re.compile(r'download failed "(.*)" (\d+) "(.*)"')
_GETADDRINFO: Final = re.compile(r"In procedure getaddrinfo: (.*)")
_CONNECT: Final = re.compile(r"In procedure connect\*?: (.*)")
_TIMED_OUT: Final = re.compile(r".*\b(timed out|Connection timed out)\b.*", re.I)
_DISARCHIVE: Final = re.compile(r"Trying to use Disarchive to assemble (\S+)\.\.\.")
_MISMATCH_HEAD: Final = re.compile(r"(\S+) hash mismatch for (\S+):")
_EXPECTED: Final = re.compile(r"\s*expected hash:\s*(\S+)")
_ACTUAL: Final = re.compile(r"\s*actual hash:\s*(\S+)")
_UNSUPPORTED: Final = re.compile(r"error: unsupported builtin function '(.*)'")
_SUCCESS: Final = re.compile(r"successfully built (\S+)")
_DEPS: Final = re.compile(r"cannot build derivation `(.*)': (\d+) dependencies couldn't be built")
_GUIX_ERROR: Final = re.compile(r"guix [a-z-]+: error: (.*)")
_DOTS: Final = re.compile(r"\.+")
# The extended trace.
_T_SUCCEEDED: Final = re.compile(r"@ build-succeeded (\S+) -.*")
_T_FAILED: Final = re.compile(r"@ build-failed (\S+) - (\d+) (.*)")
_T_MISMATCH: Final = re.compile(r"@ hash-mismatch (\S+) (\S+) (\S+) (\S+)")
_T_DL_STARTED: Final = re.compile(r"@ download-started (\S+) (\S+) (\d+)")
_T_DL_PROGRESS: Final = re.compile(r"@ download-progress (\S+) (\S+) (\d+) (\d+)")
_T_DL_SUCCEEDED: Final = re.compile(r"@ download-succeeded (\S+) (\S+) (\d+)")
_R_RETURNED: Final = re.compile(r";;; => build-derivations returned #t")
_R_ERROR: Final = re.compile(r';;; => store-protocol-error: status=(\d+) message="(.*)"')


@dataclass
class GuixBuildParser:
    """Turns the lines of one build's output into events, and the end into a verdict.

    Feed every line with :meth:`line`; call :meth:`finish` with the exit
    status once the command ended.
    """

    drv_path: str
    """The ``.drv`` being built."""
    output_path: str
    """Its expected output."""
    failures: list[tuple[str, FailureReason, str]] = field(default_factory=list)
    """``(source, reason, detail)`` of each failed download attempt."""
    mismatch: tuple[str, str, str] | None = None
    """``(algorithm, expected, actual)`` of a hash mismatch."""
    unsupported: str | None = None
    """A builtin the daemon said it does not have."""
    succeeded: bool = False
    """A success line was seen for this derivation."""
    errors: list[str] = field(default_factory=list)
    """Error lines (``guix build: error: …``, ``@ build-failed … MESSAGE``…)."""
    _source: str = ""
    _algorithm: str = "sha256"
    _expected: str | None = None

    def line(self, text: str) -> list[BuildEvent]:
        """The events of one line of output."""
        line = text
        while line.startswith(_PREFIX):
            line = line[len(_PREFIX) :]
        drv = self.drv_path
        if _DOTS.fullmatch(line):
            return []  # progress ticks of a non-terminal `guix build`
        events: list[BuildEvent] = [BuildLog(drv, line)] if line else []
        if line.startswith("@ "):
            events += self._trace(line)
        elif line.startswith(";;; => "):
            if _R_RETURNED.fullmatch(line):
                self.succeeded = True
            elif match := _R_ERROR.fullmatch(line):
                self.errors.append(match.group(2))
        else:
            events += self._human(line)
        return events

    def _trace(self, line: str) -> list[BuildEvent]:
        drv = self.drv_path
        if match := _T_DL_PROGRESS.fullmatch(line):
            return [BuildProgress(drv, int(match.group(4)), int(match.group(3)))]
        if match := _T_DL_STARTED.fullmatch(line):
            return [BuildProgress(drv, 0, int(match.group(3)))]
        if match := _T_DL_SUCCEEDED.fullmatch(line):
            size = int(match.group(3))
            return [BuildProgress(drv, size, size)]
        if match := _T_MISMATCH.fullmatch(line):
            self.mismatch = (match.group(2), match.group(3), match.group(4))
        elif match := _T_SUCCEEDED.fullmatch(line):
            if match.group(1) == drv:
                self.succeeded = True
        elif match := _T_FAILED.fullmatch(line):
            self.errors.append(match.group(3))
        return []

    def _human(self, line: str) -> list[BuildEvent]:
        drv = self.drv_path
        if match := _FROM.fullmatch(line):
            self._source = match.group(1)
            return [BuildAttempt(drv, self._source, attempt_kind(self._source))]
        if match := _DOWNLOAD_FAILED.fullmatch(line):
            url, status, reason = match.group(1), int(match.group(2)), match.group(3)
            cls = (
                FailureReason.TRANSFER_ERROR
                if status >= 500 or status in (408, 429)
                else FailureReason.NOT_FOUND
            )
            self.failures.append((url, cls, f"{url}: HTTP {status} {reason}".rstrip()))
        elif match := _GETADDRINFO.fullmatch(line):
            self.failures.append(
                (
                    self._source,
                    FailureReason.NETWORK_UNREACHABLE,
                    f"{self._source}: cannot resolve host ({match.group(1)})",
                )
            )
        elif match := _CONNECT.fullmatch(line):
            self.failures.append(
                (
                    self._source,
                    FailureReason.NETWORK_UNREACHABLE,
                    f"{self._source}: {match.group(1)}",
                )
            )
        elif _TIMED_OUT.fullmatch(line) and self._source:
            self.failures.append(
                (self._source, FailureReason.TIMEOUT, f"{self._source}: timed out")
            )
        elif match := _DISARCHIVE.fullmatch(line):
            self._source = "disarchive"
            return [BuildAttempt(drv, match.group(1), AttemptKind.DISARCHIVE)]
        elif line == "could not load Disarchive":
            self.failures.append(
                ("disarchive", FailureReason.BUILDER_UNSUPPORTED, "Disarchive is not available")
            )
        elif match := _MISMATCH_HEAD.fullmatch(line):
            self._algorithm = match.group(1)
        elif match := _EXPECTED.fullmatch(line):
            self._expected = match.group(1)
        elif match := _ACTUAL.fullmatch(line):
            if self._expected is not None:
                self.mismatch = (self._algorithm, self._expected, match.group(1))
        elif match := _UNSUPPORTED.fullmatch(line):
            self.unsupported = match.group(1)
        elif match := _SUCCESS.fullmatch(line):
            if match.group(1) == drv:
                self.succeeded = True
        elif match := _DEPS.fullmatch(line):
            self.errors.append(line)
        elif match := _GUIX_ERROR.fullmatch(line):
            self.errors.append(match.group(1))
        return []

    def finish(
        self, returncode: int, *, need_success_line: bool = False
    ) -> BuildFinished | BuildFailed:
        """The verdict once the command exited with ``returncode``.

        Args:
            returncode: the command's exit status.
            need_success_line: success also needs a success line (``guix
                repl`` exits with 0 whether or not the build succeeded).
        """
        drv = self.drv_path
        ok = returncode == 0 and not self.errors and self.mismatch is None
        if ok and (self.succeeded or not need_success_line):
            return BuildFinished(drv, self.output_path)
        if self.mismatch is not None:
            algorithm, expected, actual = self.mismatch
            return BuildFailed(
                drv,
                FailureReason.HASH_MISMATCH,
                f"{algorithm} hash mismatch for {self.output_path}: "
                f"expected {expected}, got {actual}",
                expected_hash=expected,
                actual_hash=actual,
            )
        if self.unsupported is not None:
            return BuildFailed(
                drv,
                FailureReason.BUILDER_UNSUPPORTED,
                f"the Guix daemon has no builtin:{self.unsupported} builder "
                f"(error: unsupported builtin function '{self.unsupported}')",
            )
        blocked = [e for e in self.errors if _DEPS.fullmatch(e)]
        if blocked:
            # The line about this derivation says how many of its inputs failed.
            deps = next((e for e in blocked if f"`{drv}'" in e), blocked[-1])
            return BuildFailed(drv, FailureReason.MISSING_INPUT, deps)
        if self.failures:
            _source, reason, detail = self.failures[0]
            others = len(self.failures) - 1
            if others:
                # Worded as the embedded builders word it (core/builders/attempts.py).
                tried = f"{others} other place{'s: all' if others != 1 else ': it'}"
                detail += f" (also tried {tried} failed)"
            return BuildFailed(drv, reason, detail)
        detail = self.errors[-1] if self.errors else f"guix exited with status {returncode}"
        return BuildFailed(drv, FailureReason.FAILED, detail)
