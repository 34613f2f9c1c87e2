"""Reading ``.drv`` files in batches, in this process or in worker processes.

Parsing is CPU-bound pure Python, so a big closure is spread over one helper
process per CPU. The helpers are plain ``python -m revive.core.load_worker``
subprocesses speaking a tiny protocol on their standard input and output
(length-prefixed ``marshal`` blobs): unlike ``multiprocessing``, this never
forks a process that has other threads (the app loads in a worker thread)
and never re-imports the caller's ``__main__`` module.

Request: ``(logical_store_dir, physical_prefix, [paths], keep)``. Response:
one ``(status, payload)`` per path, as :func:`load_one` returns it, and, when
``keep`` is true, the bytes and the state of each file parsed (by path), as
``verify`` wants them; otherwise two empty dicts.
"""

from __future__ import annotations

import marshal
import os
import struct
import subprocess
import sys
from collections.abc import Callable
from typing import IO, Any, Final, TypeAlias

from revive.core.aterm import parse_derivation_bytes
from revive.core.compiled import MODULE
from revive.core.derivation import Derivation, InputDrv
from revive.core.drv_scan import scan_bytes
from revive.core.errors import DerivationError

__all__ = [
    "LOADED",
    "MISSING",
    "MALFORMED",
    "load_one",
    "read_file",
    "read_file_state",
    "FileState",
    "load_batch",
    "WorkerPool",
    "WorkerFailed",
]

LOADED: Final = 0
"""Status of a parsed ``.drv``: the payload is ``(name, fields)`` (see ``drv_scan.Fields``)."""
MISSING: Final = 1
"""Status of an absent ``.drv``: the payload is the one-line error."""
MALFORMED: Final = 2
"""Status of an unreadable or invalid ``.drv``: the payload is the one-line error."""

_READ_SIZE: Final = 1 << 16
"""First read size: most ``.drv`` files are far smaller, a few need more reads."""
_LENGTH: Final = struct.Struct("<I")


FileState: TypeAlias = tuple[int, int, int, int, int]
"""What ``stat`` says of a file: inode, size, modification and change times (ns), mode."""


def read_file(file: str) -> bytes:
    """The bytes of ``file`` (raises ``OSError``): the cheapest way CPython has."""
    # os.open/os.read: half the cost of open().read() (no buffered file object).
    fd = os.open(file, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return _read_all(fd)
    finally:
        os.close(fd)


def read_file_state(file: str) -> tuple[bytes, FileState]:
    """The bytes of ``file`` and its state, taken from the open file (raises ``OSError``).

    The state is the one of what was read, and costs no second lookup of
    the path (``verify`` keeps its report with the state of every file).
    """
    if _read_with_state is not None:
        return _read_with_state(file)
    fd = os.open(file, os.O_RDONLY | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        data = _read_all(fd)
    finally:
        os.close(fd)
    return data, (info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_mode)


def _read_all(fd: int) -> bytes:
    data = os.read(fd, _READ_SIZE)
    if len(data) < _READ_SIZE:
        return data
    chunks = [data]
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


_read_with_state: Final[Callable[[str], tuple[bytes, FileState]] | None] = (
    None if MODULE is None else MODULE.read_with_state
)


def missing_message(path: str, file: str) -> str:
    """The error of a missing node: names the store path and, if different, the file."""
    if file == path:
        return f"{path}: not in the store"
    return f"{path}: not in the store (no file {file})"


def load_one(
    logical: str,
    physical: str,
    path: str,
    edges: dict[object, InputDrv] | None = None,
    texts: dict[str, bytes] | None = None,
    states: dict[str, FileState] | None = None,
) -> tuple[int, Any]:
    """Read and parse the ``.drv`` at store path ``path``.

    Args:
        logical: the logical store directory (``/gnu/store``).
        physical: the physical directory, ending with ``/``.
        path: the ``.drv`` store path.
        edges: the table that makes equal input edges of a closure one
            tuple (see :func:`revive.core.drv_scan.scan_fields`).
        texts: when given, the bytes of a file parsed are put in it under
            ``path`` (``verify`` hashes them instead of reading them again).
        states: when given, the state of each file read is put in it under
            ``path`` (see :func:`read_file_state`).

    Returns:
        ``(LOADED, (name, fields))``, or ``(MISSING | MALFORMED, one-line error)``.
    """
    cut = len(logical) + 1
    if not path.startswith(logical) or path[cut - 1 : cut] != "/" or "/" in path[cut:]:
        return MISSING, f"{path}: not in the store {logical}"
    file = physical + path[cut:]
    try:
        if states is None:
            data = read_file(file)
        else:
            data, states[path] = read_file_state(file)
    except FileNotFoundError:
        return MISSING, missing_message(path, file)
    except IsADirectoryError:
        return MALFORMED, f"{file}: is a directory, not a derivation file"
    except OSError as err:
        return MALFORMED, f"{file}: cannot read: {err.strerror or err}"
    if path.endswith(".drv") and path[cut + 32 : cut + 33] == "-":
        fields = scan_bytes(data, edges)
        if fields is not None:
            if texts is not None:
                texts[path] = data
            return LOADED, (path[cut + 33 : -4], fields)
    # Unusual or broken: the careful parser reads it or says where it is
    # wrong; the name then comes from the path as usual.
    try:
        drv = parse_derivation_bytes(data, file, Derivation.name_from_path(path))
    except DerivationError as err:
        return MALFORMED, str(err)
    if texts is not None:
        texts[path] = data
    return LOADED, (drv.name, drv.fields())


Batch: TypeAlias = tuple[list[tuple[int, Any]], dict[str, bytes], dict[str, FileState]]
"""A worker's answer: what :func:`load_one` says of each path, and the kept bytes and states."""


def load_batch(logical: str, physical: str, paths: list[str], keep: bool = False) -> Batch:
    """:func:`load_one` for each path, keeping the bytes and states of the files if ``keep``."""
    if not keep:
        return [load_one(logical, physical, path) for path in paths], {}, {}
    texts: dict[str, bytes] = {}
    states: dict[str, FileState] = {}
    results = [load_one(logical, physical, path, None, texts, states) for path in paths]
    return results, texts, states


def _write_blob(stream: IO[bytes], value: Any) -> None:
    blob = marshal.dumps(value)
    stream.write(_LENGTH.pack(len(blob)))
    stream.write(blob)
    stream.flush()


def _read_blob(stream: IO[bytes]) -> Any:
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        raise EOFError
    (length,) = _LENGTH.unpack(head)
    blob = stream.read(length)
    if len(blob) != length:
        raise EOFError
    return marshal.loads(blob)


def serve(requests: IO[bytes], responses: IO[bytes]) -> None:
    """The worker's loop: answer each request until the input ends."""
    while True:
        try:
            logical, physical, paths, keep = _read_blob(requests)
        except EOFError:
            return
        _write_blob(responses, load_batch(logical, physical, paths, keep))


class WorkerFailed(Exception):
    """A worker process died or answered garbage; the caller goes on alone."""


class WorkerPool:
    """Helper processes, each answering its requests in the order they were sent.

    Requests are small (a batch of paths, a few kilobytes: they always fit in
    the pipe), so writing one never waits for the worker; responses are read
    in order, one per request.
    """

    def __init__(self, count: int) -> None:
        env = dict(os.environ)
        # The child must import this very copy of revive, whatever made it importable.
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        self._processes: list[subprocess.Popen[bytes]] = []
        try:
            for _ in range(count):
                self._processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "revive.core.load_worker"],
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        env=env,
                        close_fds=True,
                    )
                )
        except OSError as err:
            self.close()
            raise WorkerFailed(str(err)) from None

    def __len__(self) -> int:
        return len(self._processes)

    def send(
        self, worker: int, logical: str, physical: str, paths: list[str], keep: bool = False
    ) -> None:
        """Queue a batch for worker number ``worker`` (``keep``: see :func:`load_batch`)."""
        stdin = self._processes[worker].stdin
        assert stdin is not None
        try:
            _write_blob(stdin, (logical, physical, paths, keep))
        except OSError as err:
            raise WorkerFailed(str(err)) from None

    def receive(self, worker: int) -> Batch:
        """The answer to the oldest unanswered batch of worker ``worker``."""
        stdout = self._processes[worker].stdout
        assert stdout is not None
        try:
            answer: Batch = _read_blob(stdout)
        except (EOFError, OSError, ValueError) as err:
            raise WorkerFailed(f"load worker {worker} stopped: {err!r}") from None
        return answer

    def close(self, *, kill: bool = False) -> None:
        """Stop every worker (closing its input ends its loop) and reap it.

        With ``kill``, workers are killed at once instead of finishing their batch.
        """
        for process in self._processes:
            if kill:
                process.kill()
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    try:
                        stream.close()
                    except OSError:  # pragma: no cover - already broken pipe
                        pass
        for process in self._processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:  # pragma: no cover - a stuck worker
                process.kill()
                process.wait()
        self._processes = []

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(kill=exc[0] is not None)


if __name__ == "__main__":  # pragma: no cover - run as a worker process
    try:
        serve(sys.stdin.buffer, sys.stdout.buffer)
    except (BrokenPipeError, KeyboardInterrupt):
        # The parent stopped listening (cancelled, or it went on alone).
        sys.exit(0)
