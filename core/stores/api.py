"""The store interface, and the events of one build.

A :class:`Store` is where store items live and where derivations are built:
guix-revive's own embedded store (:mod:`revive.core.stores.embedded`) or a
Guix daemon driven through the ``guix`` command (:mod:`revive.core.stores.guix`).
Both report a build as the same stream of typed events, so the TUI and the
command line render one thing whatever the backend.

Every event carries the ``.drv`` path it is about, because a whole-closure
fetch interleaves the events of several builds.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from os import PathLike
from typing import Protocol, TypeAlias, runtime_checkable

from revive.core.derivation import Derivation
from revive.core.errors import StoreError

__all__ = [
    "FailureReason",
    "AttemptKind",
    "BuildStarted",
    "BuildAttempt",
    "BuildLog",
    "BuildProgress",
    "BuildFinished",
    "BuildFailed",
    "BuildEvent",
    "describe_event",
    "HashMismatch",
    "Store",
]


class FailureReason(enum.StrEnum):
    """Why a build failed, as a class the user can act on."""

    NOT_FOUND = "not found"
    """The server or repository answered, but has no such file, commit or revision."""
    NETWORK_UNREACHABLE = "network unreachable"
    """The host name does not resolve or the connection is refused."""
    TIMEOUT = "timeout"
    """A connect or read timeout, or a tool that ran too long."""
    HASH_MISMATCH = "hash mismatch"
    """Something was fetched, but it is not what the derivation expects."""
    TRANSFER_ERROR = "transfer error"
    """A truncated body, a redirect loop, a server error, a protocol error."""
    TOOL_MISSING = "tool missing"
    """``git``, ``svn``, ``hg``, ``brz`` or ``cvs`` is not installed."""
    TOOL_FAILED = "tool failed"
    """A fetch program failed for a reason not classified more precisely."""
    BUILDER_UNSUPPORTED = "builder unsupported"
    """This backend cannot build this kind of derivation."""
    MISSING_INPUT = "missing input"
    """The ``.drv`` file or an input it needs is not in any store."""
    STORE_ERROR = "store error"
    """The result could not be written into the store."""
    CANCELLED = "cancelled"
    """The build was cancelled by the user."""
    FAILED = "failed"
    """Any other failure (the detail says more)."""


class AttemptKind(enum.StrEnum):
    """Which kind of source an attempt uses."""

    UPSTREAM = "upstream"
    """A URL or repository written in the derivation."""
    MIRROR = "mirror"
    """A ``mirror://`` URL expanded through a mirror list."""
    CONTENT_ADDRESSED = "content-addressed"
    """A content-addressed mirror (looked up by hash)."""
    ARCHIVE = "archive"
    """The Internet Archive's copy of the first URL."""
    DISARCHIVE = "disarchive"
    """Re-assembling the tarball with Disarchive from Software Heritage."""
    SWH = "software-heritage"
    """Software Heritage, by origin URL and revision."""
    NAR = "nar"
    """A NAR of the output, from a substitute server or nar mirror."""
    DAEMON = "daemon"
    """The Guix daemon builds it (attempts are the daemon's own business)."""


@dataclass(frozen=True, slots=True)
class BuildStarted:
    """A build of one derivation has started."""

    drv_path: str
    """The ``.drv`` being built."""
    output_path: str
    """The output it is expected to produce (``out``)."""
    method: str = ""
    """How it is fetched (``url-fetch``, ``git-fetch``…), when known."""


@dataclass(frozen=True, slots=True)
class BuildAttempt:
    """One source is being tried: a URL, a repository, a mirror."""

    drv_path: str
    """The ``.drv`` being built."""
    source: str
    """The URL or repository tried (after any URL rewrite)."""
    kind: AttemptKind = AttemptKind.UPSTREAM
    """What kind of source this is."""


@dataclass(frozen=True, slots=True)
class BuildLog:
    """One line of build output (without the newline)."""

    drv_path: str
    """The ``.drv`` being built."""
    line: str
    """The text of the line."""


@dataclass(frozen=True, slots=True)
class BuildProgress:
    """Bytes transferred so far in the current attempt."""

    drv_path: str
    """The ``.drv`` being built."""
    done: int
    """Bytes received."""
    total: int | None = None
    """Expected size, when the server said."""


@dataclass(frozen=True, slots=True)
class BuildFinished:
    """The build succeeded: the output is a valid store item."""

    drv_path: str
    """The ``.drv`` that was built."""
    output_path: str
    """The valid output path."""
    cached: bool = False
    """True if the output was already valid and nothing was fetched."""


@dataclass(frozen=True, slots=True)
class BuildFailed:
    """The build failed; nothing became valid."""

    drv_path: str
    """The ``.drv`` that failed."""
    reason: FailureReason
    """The class of failure."""
    detail: str
    """One line saying what happened."""
    expected_hash: str | None = None
    """For a hash mismatch: the expected hash, nix-base32."""
    actual_hash: str | None = None
    """For a hash mismatch: the hash of what was fetched, nix-base32."""
    kept_at: str | None = None
    """For a hash mismatch: where the fetched data was kept for inspection."""


BuildEvent: TypeAlias = (
    BuildStarted | BuildAttempt | BuildLog | BuildProgress | BuildFinished | BuildFailed
)
"""Anything a build reports."""


def describe_event(event: BuildEvent) -> str | None:
    """One line of a build's log for ``event`` (``None`` for progress: a bar shows it)."""
    if isinstance(event, BuildStarted):
        method = f" with {event.method}" if event.method else ""
        return f"▶ fetching {event.output_path}{method}"
    if isinstance(event, BuildAttempt):
        return f"→ trying {event.source} ({event.kind})"
    if isinstance(event, BuildLog):
        return event.line
    if isinstance(event, BuildFinished):
        again = " (already in the store)" if event.cached else ""
        return f"✔ {event.output_path} is valid{again}"
    if isinstance(event, BuildFailed):
        line = f"✘ {event.reason}: {event.detail}"
        if event.expected_hash and event.actual_hash:
            line += f" (expected {event.expected_hash}, got {event.actual_hash})"
        return line
    return None


class HashMismatch(StoreError):
    """Content whose hash is not the expected one (nothing was added)."""

    def __init__(self, what: str, algorithm: str, expected: str, actual: str) -> None:
        self.what = what
        """What was checked (a store path or a file name)."""
        self.algorithm = algorithm
        """The hash algorithm (``sha256``)."""
        self.expected = expected
        """Expected hash, nix-base32."""
        self.actual = actual
        """Actual hash, nix-base32."""
        super().__init__(f"{algorithm} hash mismatch for {what}: expected {expected}, got {actual}")

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.what, self.algorithm, self.expected, self.actual))


@runtime_checkable
class Store(Protocol):
    """Where store items live, and what builds derivations.

    Methods other than :meth:`build` are synchronous and may block (the Guix
    backend runs a command): call them from a thread in a user interface.
    """

    @property
    def store_dir(self) -> str:
        """The logical store directory (``/gnu/store``)."""
        ...

    @property
    def backend_name(self) -> str:
        """A short name for display: ``embedded`` or ``guix``."""
        ...

    def read_derivation(self, drv_path: str) -> Derivation:
        """Read the derivation ``drv_path``.

        Raises:
            MissingStoreItem: it is in no store this store can read.
            DerivationError: it is malformed.
        """
        ...

    def read_item(self, path: str) -> bytes:
        """The contents of the file store item ``path`` (mirror lists, scripts).

        Raises:
            MissingStoreItem: it is in no store this store can read.
        """
        ...

    def add_text(self, name: str, contents: bytes, references: Iterable[str] = ()) -> str:
        """Add a text item (``add-text-to-store``) and return its path.

        Adding an item that is already valid is a no-op returning its path.

        Raises:
            MissingStoreItem: a reference is not valid.
        """
        ...

    def add_fixed(
        self,
        name: str,
        source: str | PathLike[str],
        algorithm: str = "sha256",
        recursive: bool = True,
        expected: bytes | None = None,
    ) -> str:
        """Add a file or directory as a fixed-output item; return its path.

        The item's path is that of any FOD with the same name, algorithm,
        digest and recursive flag, which the item thereby satisfies.

        Args:
            name: the store name.
            source: the file or directory to copy in.
            algorithm: the hash algorithm.
            recursive: hash the NAR (directories, executables) or the flat file.
            expected: the expected digest; when given, a mismatch adds nothing.

        Raises:
            HashMismatch: ``expected`` was given and does not match.
            StoreError: the source cannot be read or the store written.
        """
        ...

    def is_valid(self, path: str) -> bool:
        """True if ``path`` is a valid store item."""
        ...

    def query_valid(self, paths: Iterable[str]) -> frozenset[str]:
        """The subset of ``paths`` that are valid (one query for many paths)."""
        ...

    def build(self, drv_path: str) -> AsyncIterator[BuildEvent]:
        """Build ``drv_path``, reporting what happens as events.

        The last event is :class:`BuildFinished` or :class:`BuildFailed`.
        Closing the iterator early (``await events.aclose()``, or iterating
        inside ``contextlib.aclosing``: a ``break`` alone does not close an
        async generator), or cancelling the task iterating it, stops the
        build: child processes are killed and nothing becomes valid.
        """
        ...
