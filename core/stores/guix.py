"""The Guix backend: a Guix daemon driven through the ``guix`` command.

Where Guix is installed, its daemon is the engine: it builds any derivation
(not only FODs), can substitute outputs, offload to build machines, or be a
remote daemon. guix-revive talks to it only through the ``guix`` command,
with the caller's environment passed through, so ``GUIX_DAEMON_SOCKET``
(a remote daemon, ``guix://host``) is honoured exactly as by ``guix``
itself.

Commands used (``guix-derivations.md`` §8.4):

* ``guix build --no-grafts DRV`` builds; its standard error is read line by
  line into events (:mod:`revive.core.stores.guix_output`), its standard
  output holds the output paths. With ``build_mode="trace"``, a ``guix
  repl`` script builds instead with the daemon's extended build trace
  (``@ build-started``, ``@ download-progress``…) copied to its standard
  output, which gives byte progress.
* ``guix gc --references PATH`` answers "is it valid?" (a path that is not
  gives ``guix gc: error: path `…' is not valid``); ``--derivers`` and
  ``--requisites`` are offered too.
* ``guix repl -t machine`` adds text items (``add-text-to-store``), adds
  fixed-output items (``add-to-store``) and asks ``valid-path?`` for many
  paths in one process. A ``.drv`` that is only in a store copy (the user's
  ``--store DIR``) is added this way, its text-item sources first, before
  it is built.
* Which builtin builders the daemon has is probed once per store
  (:meth:`GuixStore.supported_builtins`: a probe derivation built and deleted
  in one ``guix repl`` session). A FOD needing one it lacks (guix-revive's
  own ``builtin:svn-download`` & co., or ``builtin:git-download`` on a daemon
  older than 2024) is never registered with the daemon: it is fetched by
  guix-revive's embedded builders and the verified result added with
  ``add-to-store`` (``on_unsupported="embedded"``, the default), or
  re-created as an ``origin`` with today's Guix fetch method, grafts off,
  and built by the daemon (``on_unsupported="recreate"``, a ``guix repl``
  script). Should the daemon refuse a builtin anyway (``unsupported builtin
  function``), the same fallback runs.

What was verified, and against what
-----------------------------------
Live, against Guix commit 210a42dd (1.3.0.20220210, Feb 2022) and its own
daemon built by ``scripts/live-guix.sh`` (tests gated by
``GUIX_REVIVE_LIVE_GUIX=1``): the builtin probe; a ``builtin:download`` FOD
built by the daemon from loopback at its original output path; git, svn,
svn-multi, hg, bzr and cvs checkouts fetched by the embedded builders and
added with ``add-to-store`` at their original output paths, their ``.drv``
never registered, ``guix gc --verify=contents`` clean; a derivation whose
inputs are those sources built with ``guix build``; the batched
``add-to-store`` with a deriver recorded. Those sessions are recorded in
``tests/core/stores/recordings/`` and replayed by the stand-in in CI, as are
the Feb 2022 transcripts of ``shared/corpus/guix-cli/``: ``guix build`` of
a download that succeeds (01, 01b, 01c–01e at other verbosities, 12b slow),
fails with HTTP 404 (02), a hash mismatch (03), an unresolvable host (04),
``mirror://gnu`` (05), the 2022 daemon refusing ``builtin:git-download``
(06b), ``--keep-going`` (07c, 07d); ``guix gc`` queries (08b–08j); the
``guix repl -t machine`` protocol (09c); the extended build trace (10, 10b,
12a). :func:`recreate_script` was run live up to its build call: with
grafts off, an svn origin was lowered and its output path checked
(recording 25). **Not** verified live: building a re-created ``origin``
(it builds today's svn/hg/bzr/cvs tools from source, whose bootstrap
sources are not on loopback).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import textwrap
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Final, Literal

from revive.core.aterm import parse_derivation_bytes
from revive.core.builders.context import remove_tree
from revive.core.builders.errors import FetchError
from revive.core.builders.options import FetchOptions
from revive.core.derivation import Derivation
from revive.core.errors import MissingStoreItem, ReviveError, StoreError
from revive.core.fetch.extract import extract_fetch_spec
from revive.core.fetch.scheme import Datum, Symbol, read_one, write_datum, write_string
from revive.core.fetch.spec import (
    BzrFetch,
    CvsFetch,
    Expected,
    FetchSpec,
    GitFetch,
    HgFetch,
    SvnFetch,
    SvnMultiFetch,
)
from revive.core.fetch.text_item import TextItem
from revive.core.store_dir import StoreDir
from revive.core.store_path import (
    DEFAULT_STORE_DIR,
    is_store_path,
    name_part,
    text_path,
)
from revive.core.stores.api import (
    AttemptKind,
    BuildAttempt,
    BuildEvent,
    BuildFailed,
    BuildFinished,
    BuildLog,
    BuildStarted,
    FailureReason,
)
from revive.core.stores.coalesce import Coalescer
from revive.core.stores.embedded import default_store_root
from revive.core.stores.fixed_item import fixed_item_path
from revive.core.stores.guix_output import GuixBuildParser, TraceDecoder
from revive.core.stores.shared import (
    build_failed,
    fetch_and_verify,
    fetch_spec_or_failure,
    read_only_copies,
)
from revive.core.stores.streams import event_stream

__all__ = [
    "GuixStore",
    "GuixCommandError",
    "DAEMON_BUILTINS",
    "trace_script",
    "recreate_script",
    "machine_expression",
    "probe_expression",
    "ALWAYS_BUILTINS",
]

DAEMON_BUILTINS: Final = frozenset({"builtin:download", "builtin:git-download"})
"""Builders some Guix daemon runs (``git-download`` only since 2024)."""

ALWAYS_BUILTINS: Final = frozenset({"builtin:download"})
"""Builders every Guix daemon runs (``builtin:download`` exists since 2016)."""

_UNSUPPORTED_BUILTIN: Final = "unsupported builtin function"
"""What a daemon says when asked to run a builtin it does not have."""

_USE_MODULES: Final = "(use-modules (guix store) (guix derivations))"
_CHUNK: Final = 65536


class GuixCommandError(StoreError):
    """A ``guix`` command that failed (the message is its last error line)."""


def machine_expression(call: str, *args: str | bool | Sequence[str]) -> str:
    """``(with-store s (CALL s ARGS…))``, each argument written as Scheme data.

    Strings are Scheme strings, booleans ``#t``/``#f``, sequences quoted lists
    of strings, as in the expressions recorded in case 09c.
    """
    parts: list[str] = []
    for arg in args:
        if isinstance(arg, bool):
            parts.append("#t" if arg else "#f")
        elif isinstance(arg, str):
            parts.append(write_string(arg))
        else:
            parts.append("'(" + " ".join(write_string(a) for a in arg) + ")")
    return f"(with-store s ({call} s {' '.join(parts)}))"


def probe_expression(builtins: Sequence[str]) -> str:
    """A machine-repl expression asking the daemon to run each of ``builtins`` once.

    Each probe is a fixed-output derivation that cannot succeed (a zero
    hash, a URL nobody serves); what matters is whether the daemon refuses
    it with ``unsupported builtin function`` or tries it. The probe ``.drv``
    files are deleted at the end with one ``delete-paths`` (each deletion is
    a garbage collection pass over the store's links: one, not one per
    builtin), so probing leaves nothing in the store. The value is a list
    of ``(BUILT? LOG)``, one per builtin.
    """
    env = (
        '(("url" . "\\"http://127.0.0.1:1/\\"") '
        '("commit" . "0000000000000000000000000000000000000000") ("recursive?" . "#f"))'
    )
    drvs = " ".join(
        f"(derivation s {write_string('guix-revive-probe-' + b.removeprefix('builtin:'))} "
        f"{write_string(b)} '() #:env-vars '{env} "
        "#:hash ((@ (rnrs bytevectors) make-bytevector) 32 0) "
        "#:hash-algo 'sha256 #:recursive? #t)"
        for b in builtins
    )
    return (
        f"(with-store s (let* ((drvs (list {drvs})) "
        "(results (map (lambda (drv) (let* ((log (open-output-string)) "
        "(ok (catch #t (lambda () (parameterize ((current-build-output-port log)) "
        "(build-derivations s (list drv)))) (const #f)))) "
        "(list ok (get-output-string log)))) drvs))) "
        "(delete-paths s (map derivation-file-name drvs)) results))"
    )


_TRACE_OPTIONS: Final = """\
  (set-build-options store
                     #:print-build-trace #t
                     #:print-extended-build-trace? #t
                     #:multiplexed-build-output? #t)
"""
"""The build options of a traced build, inside ``(with-store store …)``."""


def _traced_build(drvs: str, indent: str) -> str:
    """The expression building ``drvs`` (Scheme), its end or protocol error as a trace line.

    Indented by ``indent``, without its last newline, for the scripts below.
    """
    return textwrap.indent(
        """\
(guard (e ((store-protocol-error? e)
           (format #t ";;; => store-protocol-error: status=~s message=~s~%"
                   (store-protocol-error-status e)
                   (store-protocol-error-message e))))
  (parameterize ((current-build-output-port (current-output-port)))
    (format #t ";;; => build-derivations returned ~s~%"
            (build-derivations store (list """
        + drvs
        + ")))))",
        indent,
    )


def trace_script(drv_path: str) -> str:
    """A ``guix repl`` script building ``drv_path`` with the extended build trace.

    Everything the daemon sends is copied to standard output; the last line
    is ``;;; => build-derivations returned #t`` or ``;;; => store-protocol-error:
    status=N message="…"`` (the format of the recorded cases 10, 10b, 12a).
    """
    drv = write_string(drv_path)
    return f"""\
;; guix-revive: build one derivation, with the daemon's extended build trace
;; copied to standard output.
(use-modules (guix store) (guix derivations) (srfi srfi-34))

(with-store store
{_TRACE_OPTIONS}  (format #t ";;; ---- (build-derivations store '(~s))~%" {drv})
  (force-output)
{_traced_build(drv, "  ")})
"""


def _origin_uri(spec: FetchSpec) -> tuple[str, str]:
    """``(method, uri-expression)`` of today's Guix origin for ``spec``."""
    w = write_string
    if isinstance(spec, GitFetch):
        rec = "#t" if spec.recursive else "#f"
        return "git-fetch", (
            f"(git-reference (url {w(spec.url)}) (commit {w(spec.commit)}) (recursive? {rec}))"
        )
    if isinstance(spec, SvnMultiFetch | SvnFetch):
        fields = f"(url {w(spec.url)}) (revision {spec.revision})"
        fields += f" (recursive? {'#t' if spec.recursive else '#f'})"
        if spec.user_name is not None:
            fields += f" (user-name {w(spec.user_name)})"
        if spec.password is not None:
            fields += f" (password {w(spec.password)})"
        if isinstance(spec, SvnMultiFetch):
            fields += f" (locations '{write_datum(spec.locations)})"
            return "svn-multi-fetch", f"(svn-multi-reference {fields})"
        return "svn-fetch", f"(svn-reference {fields})"
    if isinstance(spec, HgFetch):
        return "hg-fetch", f"(hg-reference (url {w(spec.url)}) (changeset {w(spec.changeset)}))"
    if isinstance(spec, BzrFetch):
        return "bzr-fetch", f"(bzr-reference (url {w(spec.url)}) (revision {w(spec.revision)}))"
    if isinstance(spec, CvsFetch):
        return "cvs-fetch", (
            f"(cvs-reference (root-directory {w(spec.root)}) (module {w(spec.module)}) "
            f"(revision {w(spec.revision)}))"
        )
    urls = " ".join(w(u) for u in spec.urls)
    method = "url-fetch/executable" if spec.executable else "url-fetch"
    return method, f"(list {urls})"


def recreate_script(spec: FetchSpec) -> str:
    """A ``guix repl`` script re-creating ``spec`` as an origin of today's Guix.

    The origin has the same name, hash and recursive flag, hence the same
    output path (checked by the script before building); it is lowered with
    the installed Guix's own fetch method and built with the extended trace
    on standard output (lines as in :func:`trace_script`).

    Raises:
        StoreError: the hash is not SHA-256 (an origin's ``sha256`` field).
    """
    expected = spec.expected
    if expected.algorithm != "sha256":
        raise StoreError(
            f"{expected.output_path}: only SHA-256 origins can be re-created with guix"
        )
    method, uri = _origin_uri(spec)
    return f"""\
;; guix-revive: re-create a fixed-output derivation as an origin of today's
;; Guix (same name and hash, hence the same output path) and build it, with
;; the daemon's extended build trace copied to standard output.
(use-modules (guix store) (guix derivations) (guix monads) (guix gexp)
             (guix packages) (guix download) (guix git-download)
             (guix svn-download) (guix hg-download) (guix bzr-download)
             (guix cvs-download) (guix base32) (guix grafts) (srfi srfi-34))

;; Without grafts: lowering must not build today's git or mercurial from
;; source (grafting them needs their outputs), which fails offline before the
;; output path is even compared.
(%graft? #f)

(define source
  (origin
    (method {method})
    (uri {uri})
    (sha256 (base32 {write_string(expected.nix32)}))
    (file-name {write_string(expected.name)})))

(with-store store
{_TRACE_OPTIONS}  (let* ((drv (run-with-store store (lower-object source)))
         (out (derivation->output-path drv)))
    (format #t ";;; ---- (build-derivations store '(~s))~%" (derivation-file-name drv))
    (force-output)
    (if (not (string=? out {write_string(expected.output_path)}))
        (format #t ";;; => store-protocol-error: status=1 message=~s~%"
                (string-append "re-created origin has output " out))
{_traced_build("drv", "        ")})))
"""


class GuixStore:
    """A Guix daemon's store, driven through the ``guix`` command.

    Args:
        guix: the ``guix`` program (a name looked up on ``PATH``, or a path).
        store_dir: the daemon's store directory.
        read_only: store copies holding ``.drv`` files not yet in the daemon's store.
        physical_store: where this machine sees the daemon's store items
            (default: ``store_dir``); what is there needs no import.
        env: the environment of every ``guix`` command (default: this
            process's, including ``GUIX_DAEMON_SOCKET``).
        options: how the embedded builders fetch, for FODs the daemon cannot build.
        build_mode: ``"build"`` (``guix build``) or ``"trace"`` (a ``guix repl``
            script with the extended build trace: byte progress).
        on_unsupported: ``"embedded"`` (fetch with guix-revive's builders,
            then ``add-to-store``) or ``"recreate"`` (an origin of today's Guix).
        quarantine_dir: where the embedded builders keep data with a wrong
            hash (default: ``$XDG_DATA_HOME/guix-revive/quarantine``).
    """

    backend_name: Final = "guix"

    def __init__(
        self,
        guix: str = "guix",
        *,
        store_dir: str = DEFAULT_STORE_DIR,
        read_only: Sequence[StoreDir | str | PathLike[str]] = (),
        physical_store: str | PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
        options: FetchOptions | None = None,
        build_mode: Literal["build", "trace"] = "build",
        on_unsupported: Literal["embedded", "recreate"] = "embedded",
        quarantine_dir: str | PathLike[str] | None = None,
    ) -> None:
        self.guix = guix
        """The ``guix`` program."""
        self._store_dir = store_dir.rstrip("/") or "/"
        self.read_only = read_only_copies(read_only, self._store_dir)
        """Store copies searched for ``.drv`` files and sources."""
        self.local = StoreDir(self._store_dir, Path(physical_store or self._store_dir))
        """The daemon's store as seen from this machine (read directly)."""
        self.env = dict(env) if env is not None else None
        """Environment of the ``guix`` commands (``None``: inherited)."""
        self.options = options or FetchOptions()
        """Options of the embedded builders used as a fallback."""
        self.build_mode = build_mode
        """How builds are run."""
        self.on_unsupported = on_unsupported
        """What to do with FODs the daemon cannot build."""
        self.quarantine_dir = (
            Path(quarantine_dir) if quarantine_dir else default_store_root().parent / "quarantine"
        )
        """Where data with a wrong hash is kept."""
        self._builtins: dict[str, bool] = {}
        self._probe_lock = threading.Lock()
        self.builtin_probe_logs: dict[str, str] = {}
        """What the daemon said to each builtin probe (for diagnosis)."""
        self._staged: dict[str, bytes] = {}
        self._adds: Coalescer[tuple[Expected, Path], str | StoreError] = Coalescer(
            self.add_fixed_many
        )

    def __repr__(self) -> str:
        return f"GuixStore({self.guix!r})"

    @property
    def store_dir(self) -> str:
        """The daemon's store directory."""
        return self._store_dir

    # --- running guix --------------------------------------------------------------

    def _program(self) -> str:
        found = shutil.which(self.guix, path=(self.env or os.environ).get("PATH"))
        if found is None:
            raise GuixCommandError(f"{self.guix}: not found on PATH (is Guix installed?)")
        return found

    def _run(
        self, args: Sequence[str], stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                [self._program(), *args],
                input=stdin,
                capture_output=True,
                text=True,
                errors="replace",
                env=self.env,
                stdin=None if stdin is not None else subprocess.DEVNULL,
            )
        except OSError as err:
            raise GuixCommandError(f"cannot run {self.guix}: {err.strerror or err}") from None

    @staticmethod
    def _error_of(proc: subprocess.CompletedProcess[str]) -> str:
        for line in reversed(proc.stderr.splitlines()):
            if "error:" in line:
                return line.strip()
        return f"exit status {proc.returncode}"

    def _gc(self, option: str, path: str) -> tuple[str, ...]:
        proc = self._run(["gc", option, path])
        if proc.returncode != 0:
            message = self._error_of(proc)
            if "is not valid" in message:
                raise MissingStoreItem(path)
            raise GuixCommandError(f"guix gc {option} {path}: {message}")
        return tuple(line for line in proc.stdout.splitlines() if line)

    # --- queries ---------------------------------------------------------------------

    def is_valid(self, path: str) -> bool:
        """True if the daemon has ``path`` (``guix gc --references``)."""
        if not is_store_path(path):
            return False
        try:
            self._gc("--references", path)
        except MissingStoreItem:
            return False
        return True

    def references(self, path: str) -> tuple[str, ...]:
        """Direct references of a valid ``path`` (``guix gc --references``).

        Raises:
            MissingStoreItem: ``path`` is not valid.
        """
        return self._gc("--references", path)

    def requisites(self, path: str) -> tuple[str, ...]:
        """The closure of a valid ``path``, itself included (``guix gc --requisites``)."""
        return self._gc("--requisites", path)

    def derivers(self, path: str) -> tuple[str, ...]:
        """Valid ``.drv`` files that produce ``path`` (``guix gc --derivers``)."""
        return self._gc("--derivers", path)

    def query_valid(self, paths: Iterable[str]) -> frozenset[str]:
        """The valid subset of ``paths`` (one ``guix repl`` for all of them)."""
        wanted = [p for p in dict.fromkeys(paths) if is_store_path(p)]
        if not wanted:
            return frozenset()
        replies = self._machine([machine_expression("valid-path?", p) for p in wanted])
        return frozenset(p for p, r in zip(wanted, replies, strict=True) if r is True)

    def _machine(self, expressions: Sequence[str]) -> list[Datum]:
        """Evaluate ``expressions`` in ``guix repl -t machine``; one value each.

        Raises:
            GuixCommandError: an expression raised an exception, or the repl
                did not answer every expression.
        """
        values: list[Datum] = []
        for value in self._machine_results(expressions):
            if isinstance(value, GuixCommandError):
                raise value
            values.append(value)
        return values

    def _machine_results(self, expressions: Sequence[str]) -> list[Datum | GuixCommandError]:
        """Like :meth:`_machine`, but an expression's exception is its result.

        One failing ``add-to-store`` in a batch must not hide what the
        others did, since they are already valid.

        Raises:
            GuixCommandError: the repl did not answer every expression.
        """
        if not expressions:
            return []
        stdin = "\n".join([_USE_MODULES, *expressions]) + "\n"
        proc = self._run(["repl", "-t", "machine"], stdin=stdin)
        replies: list[Datum] = []
        for line in proc.stdout.splitlines():
            if not line.startswith(("(values", "(exception")):
                continue  # the banner, and text printed by the expressions
            try:
                replies.append(read_one(line, "<guix repl>"))
            except ReviveError:
                raise GuixCommandError(f"guix repl: unreadable reply {line[:200]!r}") from None
        if len(replies) != len(expressions) + 1:
            raise GuixCommandError(
                f"guix repl answered {len(replies)} of {len(expressions) + 1} expressions: "
                + self._error_of(proc)
            )
        values: list[Datum | GuixCommandError] = []
        for expression, reply in zip(expressions, replies[1:], strict=True):
            try:
                values.append(_reply_value(expression, reply))
            except GuixCommandError as err:
                values.append(err)
        return values

    # --- reading ------------------------------------------------------------------------

    def read_item(self, path: str) -> bytes:
        """Read a file item: staged, in the daemon's store directory (if local) or a copy.

        Raises:
            MissingStoreItem: in neither.
        """
        staged = self._staged.get(path)
        if staged is not None:
            return staged
        for copy in (self.local, *self.read_only):
            if copy.logical == self._store_dir and copy.exists(path):
                return copy.read_bytes(path)
        raise MissingStoreItem(path)

    def stage(self, items: Iterable[TextItem]) -> None:
        """Make text items readable by this store's builds without adding them.

        For the rewritten forms the daemon cannot build: guix-revive's own
        builders read them, and only their verified outputs enter the store.
        """
        for item in items:
            self._staged[item.path] = item.contents

    def read_derivation(self, drv_path: str) -> Derivation:
        """Read ``drv_path`` from the store directory or a copy.

        Raises:
            MissingStoreItem: in neither.
            DerivationError: malformed.
        """
        data = self.read_item(drv_path)
        return parse_derivation_bytes(data, drv_path, Derivation.name_from_path(drv_path))

    # --- adding ----------------------------------------------------------------------------

    def add_text(self, name: str, contents: bytes, references: Iterable[str] = ()) -> str:
        """``add-text-to-store`` through ``guix repl``; returns the new path.

        A ``.drv`` the daemon could not build (a builtin it lacks) is only
        staged (:meth:`stage`), never registered: guix-revive's own builders
        still read it, and ``guix gc --verify`` or ``build --check`` never
        meet it.

        Raises:
            StoreError: ``contents`` is not UTF-8 text, or the daemon refused.
        """
        refs = sorted(set(references), key=str.encode)
        if self._unbuildable_drv(name, contents):
            path = text_path(name, contents, refs, self._store_dir)
            self.stage([TextItem(name, contents, path, tuple(refs))])
            return path
        return self._add_texts([(name, contents, refs)])[0]

    def _unbuildable_drv(self, name: str, contents: bytes) -> bool:
        if not name.endswith(".drv"):
            return False
        try:
            drv = parse_derivation_bytes(contents, name, name.removesuffix(".drv"))
        except ReviveError:
            return False  # not a derivation: a plain text item
        return not self.can_build(drv)

    @staticmethod
    def _text_expression(name: str, contents: bytes, refs: Sequence[str]) -> str:
        try:
            text = contents.decode("utf-8")
        except UnicodeDecodeError:
            raise StoreError(f"{name}: only UTF-8 text can be added through guix repl") from None
        return machine_expression("add-text-to-store", name, text, sorted(refs, key=str.encode))

    def _add_texts(self, items: Sequence[tuple[str, bytes, Sequence[str]]]) -> list[str]:
        expressions = []
        wanted = []
        for name, contents, refs in items:
            expressions.append(self._text_expression(name, contents, refs))
            wanted.append(text_path(name, contents, refs, self._store_dir))
        paths = self._machine(expressions)
        for got, want in zip(paths, wanted, strict=True):
            if got != want:
                raise GuixCommandError(f"guix added {got!r}, expected {want}")
        return wanted

    def add_texts(self, items: Sequence[TextItem]) -> tuple[str, ...]:
        """Make text items valid: one query, then one session adding the missing ones.

        Items are added in the given order (a reference must come before the
        items that name it); duplicates are added once; a ``.drv`` the daemon
        could not build is staged instead (see :meth:`add_text`).

        Raises:
            StoreError: the daemon refused one, or gave another path.
        """
        self.import_derivations((), items)
        return tuple(item.path for item in items)

    def supported_builtins(self, wanted: Iterable[str]) -> frozenset[str]:
        """The builtin builders among ``wanted`` that the daemon runs.

        ``builtin:download`` is always there; any other is probed once (all
        in one ``guix repl`` session) and the answer kept for this store.

        Raises:
            GuixCommandError: the probe could not be run.
        """
        names = set(wanted)
        with self._probe_lock:  # concurrent builds wait for one probe, not run their own
            self._probe(sorted(n for n in names - ALWAYS_BUILTINS if n not in self._builtins))
        return frozenset(n for n in names if n in ALWAYS_BUILTINS or self._builtins.get(n))

    def _probe(self, unknown: list[str]) -> None:
        if unknown:
            (results,) = self._machine([probe_expression(unknown)])
            if not isinstance(results, tuple) or len(results) != len(unknown):
                raise GuixCommandError(f"guix repl: unexpected probe answer {results!r:.200}")
            for name, value in zip(unknown, results, strict=True):
                log = value[1] if isinstance(value, tuple) and len(value) == 2 else ""
                log = log if isinstance(log, str) else ""
                # Supported only on evidence that the daemon ran it: a probe
                # whose log is lost must not send a form to a daemon that
                # would refuse it (the fallback works everywhere).
                self._builtins[name] = "building path" in log and _UNSUPPORTED_BUILTIN not in log
                self.builtin_probe_logs[name] = log

    def can_build(self, drv: Derivation) -> bool:
        """True unless ``drv`` needs a builtin builder the daemon does not have."""
        if not drv.builder.startswith("builtin:"):
            return True
        return bool(self.supported_builtins([drv.builder]))

    def add_fixed_many(
        self,
        items: Sequence[tuple[Expected, str | PathLike[str]]],
        texts: Sequence[TextItem] = (),
    ) -> list[str | StoreError]:
        """``add-to-store`` of fetched items, then ``texts``, in one session.

        Each ``(expected, source)`` is hashed here first (a mismatch sends
        nothing); the daemon then hashes what it receives and names the item
        after that hash, so a result equal to ``expected.output_path`` is the
        daemon's own check. ``texts`` (an original ``.drv`` and the text items
        it needs, to record it as the deriver) are added after the items.

        Returns:
            Per item, its path, or the error that kept it out.

        Raises:
            StoreError: the session failed as a whole, or a text was refused.
        """
        results: list[str | StoreError] = []
        expressions: list[str] = []
        sent: list[int] = []
        for index, (expected, source) in enumerate(items):
            src = Path(source).absolute()
            try:
                fixed_item_path(
                    expected.name,
                    src,
                    expected.algorithm,
                    expected.recursive,
                    expected.digest,
                    self._store_dir,
                )
            except OSError as err:
                results.append(StoreError(f"{src}: cannot read: {err.strerror or err}"))
                continue
            except StoreError as err:
                results.append(err)
                continue
            results.append("")
            sent.append(index)
            expressions.append(
                machine_expression(
                    "add-to-store",
                    expected.name,
                    expected.recursive,
                    expected.algorithm,
                    str(src),
                )
            )
        text_list = list({t.path: t for t in texts}.values())
        for text in text_list:
            expressions.append(self._text_expression(text.name, text.contents, text.references))
        replies = self._machine_results(expressions)
        for index, reply in zip(sent, replies, strict=False):
            want = items[index][0].output_path
            if isinstance(reply, GuixCommandError):
                results[index] = reply
            elif reply != want:
                results[index] = GuixCommandError(f"guix added {reply!r}, expected {want}")
            else:
                results[index] = want
        for text, reply in zip(text_list, replies[len(sent) :], strict=True):
            if isinstance(reply, GuixCommandError):
                raise reply
            if reply != text.path:
                raise GuixCommandError(f"guix added {reply!r}, expected {text.path}")
        return results

    def add_fixed(
        self,
        name: str,
        source: str | PathLike[str],
        algorithm: str = "sha256",
        recursive: bool = True,
        expected: bytes | None = None,
    ) -> str:
        """``add-to-store`` of a local file or tree, verified first; returns its path.

        Raises:
            HashMismatch: ``expected`` was given and does not match.
            StoreError: the daemon refused, or gave another path.
        """
        src = Path(source).absolute()
        try:
            want = fixed_item_path(name, src, algorithm, recursive, expected, self._store_dir)
        except OSError as err:
            raise StoreError(f"{src}: cannot read: {err.strerror or err}") from None
        (got,) = self._machine(
            [machine_expression("add-to-store", name, recursive, algorithm, str(src))]
        )
        if got != want:
            raise GuixCommandError(f"guix added {got!r}, expected {want}")
        return want

    def import_derivation(self, drv_path: str) -> None:
        """Make ``drv_path`` valid in the daemon's store, copying from the store copies.

        Its input derivations (recursively) and its input sources are added
        first; a source can only be copied if it is a text item without
        references (mirror lists, builder scripts), which is checked by
        recomputing its path.

        Raises:
            MissingStoreItem: a needed item is in no copy, or cannot be copied.
        """
        if self.is_valid(drv_path):
            return  # its inputs are then valid too (the daemon's invariant)
        self.import_derivations([drv_path])

    def import_derivations(self, drv_paths: Iterable[str], extra: Sequence[TextItem] = ()) -> None:
        """:meth:`import_derivation` of many, plus text items: two sessions in all.

        One query finds what is missing among the closures of ``drv_paths``
        and ``extra``; one session adds it (``extra`` first, in order, then
        sources, then ``.drv`` files bottom-up). A ``.drv`` among ``extra``
        that the daemon could not build is staged instead (see :meth:`add_text`).

        Raises:
            MissingStoreItem: a needed item is in no copy, or cannot be copied.
            StoreError: the daemon refused an item.
        """
        unique = list({item.path: item for item in extra}.values())
        unbuildable = [i for i in unique if self._unbuildable_drv(i.name, i.contents)]
        self.stage(unbuildable)
        texts = [i for i in unique if i not in unbuildable]
        order: list[str] = []
        drvs: dict[str, Derivation] = {}
        pending = list(drv_paths)
        seen: set[str] = {t.path for t in texts}
        while pending:  # collect the closure of .drv files and sources
            path = pending.pop()
            if path in seen:
                continue
            seen.add(path)
            order.append(path)
            if path.endswith(".drv"):
                drv = self.read_derivation(path)
                drvs[path] = drv
                pending.extend(drv.input_srcs)
                pending.extend(drv.input_drv_paths)
        valid = self.query_valid([*(t.path for t in texts), *order])
        items: list[tuple[str, bytes, Sequence[str]]] = [
            (t.name, t.contents, t.references) for t in texts if t.path not in valid
        ]
        missing = [p for p in order if p not in valid]
        # Sources first, then .drv files bottom-up (a reference must be valid).
        for path in [p for p in missing if p not in drvs]:
            contents = self.read_item(path)
            if text_path(name_part(path), contents, (), self._store_dir) != path:
                raise MissingStoreItem(path, "copy it into the Guix store (not a text item)")
            items.append((name_part(path), contents, ()))
        for path in _bottom_up([p for p in missing if p in drvs], drvs):
            items.append((name_part(path), self.read_item(path), sorted(drvs[path].references)))
        self._add_texts(items)

    # --- building ------------------------------------------------------------------------------

    def build(self, drv_path: str) -> AsyncIterator[BuildEvent]:
        """Build ``drv_path`` with the daemon, as events (see the module docstring)."""
        return event_stream(lambda emit: self._build(drv_path, emit))

    async def _build(self, drv_path: str, emit: Callable[[BuildEvent], None]) -> None:
        try:
            drv = await asyncio.to_thread(self.read_derivation, drv_path)
        except ReviveError as err:
            emit(build_failed(drv_path, err, FailureReason.FAILED))
            return
        output_path = drv.outputs[0].path if drv.outputs else ""
        method = ""
        if drv.is_fixed_output:
            with contextlib.suppress(ReviveError):
                method = str(extract_fetch_spec(drv, self.read_item, path=drv_path).method)
        try:
            supported = await asyncio.to_thread(self.can_build, drv)
        except StoreError as err:
            emit(BuildFailed(drv_path, FailureReason.STORE_ERROR, str(err)))
            return
        if not supported:
            # Never registered: the daemon could not build it, and guix
            # gc --verify or build --check would then fail on it.
            emit(BuildStarted(drv_path, output_path, method))
            emit(BuildLog(drv_path, f"the Guix daemon has no {drv.builder} builder"))
            emit(await self._unsupported(drv_path, drv, emit))
            return
        try:
            # A .drv only in a store copy must be added first; one in the
            # daemon's store needs no query (`guix build` of a built .drv
            # just prints its outputs).
            if not self.local.exists(drv_path):
                await asyncio.to_thread(self.import_derivation, drv_path)
        except StoreError as err:
            emit(build_failed(drv_path, err, FailureReason.STORE_ERROR))
            return
        emit(BuildStarted(drv_path, output_path, method))
        if self.build_mode == "trace":
            final = await self._run_streamed(
                ["repl"], drv_path, output_path, emit, script=trace_script(drv_path)
            )
        else:
            final = await self._run_streamed(
                ["build", "--no-grafts", drv_path], drv_path, output_path, emit
            )
        if (
            isinstance(final, BuildFailed)
            and final.reason is FailureReason.BUILDER_UNSUPPORTED
            and drv.is_fixed_output
        ):
            emit(BuildLog(drv_path, final.detail))
            final = await self._unsupported(drv_path, drv, emit)
        emit(final)

    async def _run_streamed(
        self,
        args: list[str],
        drv_path: str,
        output_path: str,
        emit: Callable[[BuildEvent], None],
        script: str | None = None,
    ) -> BuildFinished | BuildFailed:
        """Run ``guix ARGS`` (a repl script on a file), turning its output into events."""
        parser = GuixBuildParser(drv_path, output_path)
        script_file: Path | None = None
        try:
            program = self._program()
        except GuixCommandError as err:
            return BuildFailed(drv_path, FailureReason.TOOL_MISSING, str(err))
        if script is not None:
            fd, name = tempfile.mkstemp(prefix="guix-revive-", suffix=".scm")
            with os.fdopen(fd, "w") as handle:
                handle.write(script)
            script_file = Path(name)
            args = ["repl", name]
        try:
            proc = await asyncio.create_subprocess_exec(
                program,
                *args,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
            try:
                # `guix build`: the log is on stderr and stdout has the output
                # paths; a repl script: the trace is on stdout.
                log_stream = proc.stdout if script is not None else proc.stderr
                other = proc.stderr if script is not None else proc.stdout
                assert log_stream is not None and other is not None
                collected: list[bytes] = []
                await asyncio.gather(
                    _pump(log_stream, parser, emit),
                    _pump(other, parser, emit)
                    if script is not None
                    else _collect(other, collected),
                )
                returncode = await proc.wait()
            except BaseException:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                with contextlib.suppress(BaseException):
                    await asyncio.shield(proc.wait())
                raise
        finally:
            if script_file is not None:
                script_file.unlink(missing_ok=True)
        return parser.finish(returncode, need_success_line=script is not None)

    async def _unsupported(
        self, drv_path: str, drv: Derivation, emit: Callable[[BuildEvent], None]
    ) -> BuildFinished | BuildFailed:
        """Build a FOD the daemon cannot build, as :attr:`on_unsupported` says."""
        spec = fetch_spec_or_failure(drv, drv_path, self.read_item)
        if isinstance(spec, BuildFailed):
            return spec
        output_path = spec.expected.output_path
        if self.on_unsupported == "recreate":
            try:
                script = recreate_script(spec)
            except StoreError as err:
                return BuildFailed(drv_path, FailureReason.BUILDER_UNSUPPORTED, str(err))
            emit(BuildLog(drv_path, f"re-creating {spec.method} with today's Guix"))
            emit(BuildAttempt(drv_path, self.guix, AttemptKind.DAEMON))
            return await self._run_streamed(["repl"], drv_path, output_path, emit, script=script)
        emit(BuildLog(drv_path, f"fetching with guix-revive's own {spec.method} builder"))
        work = Path(tempfile.mkdtemp(prefix="guix-revive-fetch-"))
        try:
            verified = await fetch_and_verify(
                spec, drv_path, emit, work, self, todays_form=drv.builder.startswith("builtin:")
            )
            expected = spec.expected
            # Checkouts finishing while a session adds others share the next
            # session: one per wave of fetches, not one per FOD.
            added = await asyncio.to_thread(self._adds.submit, (expected, verified.path))
            if isinstance(added, StoreError):
                raise added
            return BuildFinished(drv_path, output_path)
        except FetchError as err:
            return err.failed_event(drv_path)
        except StoreError as err:
            return BuildFailed(drv_path, FailureReason.STORE_ERROR, str(err))
        finally:
            remove_tree(work)


def _reply_value(expression: str, reply: Datum) -> Datum:
    """The value of one machine-repl reply, or :class:`GuixCommandError`."""
    if isinstance(reply, tuple) and reply and reply[0] == Symbol("values"):
        first = reply[1] if len(reply) > 1 else None
        if isinstance(first, tuple) and len(first) == 2 and first[0] == Symbol("value"):
            return first[1]
        if isinstance(first, tuple) and first and first[0] == Symbol("non-self-quoting"):
            return Symbol("unspecified")
    if isinstance(reply, tuple) and reply and reply[0] == Symbol("exception"):
        detail = write_datum(reply)
        raise GuixCommandError(f"guix repl: {expression[:120]}: {detail[:300]}")
    raise GuixCommandError(f"guix repl: unexpected reply {write_datum(reply)[:200]}")


def _bottom_up(paths: list[str], drvs: Mapping[str, Derivation]) -> list[str]:
    """``paths`` ordered so that every input ``.drv`` comes before its users."""
    wanted = set(paths)
    done: set[str] = set()
    order: list[str] = []

    def visit(path: str) -> None:
        stack = [(path, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                if node not in done:
                    done.add(node)
                    if node in wanted:
                        order.append(node)
                continue
            if node in done:
                continue
            stack.append((node, True))
            stack.extend((p, False) for p in drvs[node].input_drv_paths if p in drvs)

    for path in paths:
        visit(path)
    return order


async def _pump(
    stream: asyncio.StreamReader, parser: GuixBuildParser, emit: Callable[[BuildEvent], None]
) -> None:
    decoder = TraceDecoder()
    while chunk := await stream.read(_CHUNK):
        for _pid, line in decoder.feed(chunk):
            for event in parser.line(line):
                emit(event)
    for _pid, line in decoder.close():
        for event in parser.line(line):
            emit(event)


async def _collect(stream: asyncio.StreamReader, into: list[bytes]) -> None:
    while chunk := await stream.read(_CHUNK):
        into.append(chunk)
