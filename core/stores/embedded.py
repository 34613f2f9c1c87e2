"""guix-revive's own store: a directory of items, a database of valid ones.

Like the daemon's store (``guix-derivations.md`` §8), on a smaller scale:

* items live in one physical directory (by default
  ``$XDG_DATA_HOME/guix-revive/store``) under their store names, while their
  paths name the *logical* store directory (``/gnu/store``), so the hashes
  are those Guix computes;
* an item is written under a temporary name, verified, given canonical
  metadata (modes 0444/0555, mtime 1), renamed into place, and only then
  registered as valid in the SQLite database; a fetch that fails, is
  cancelled or killed leaves at most an unregistered leftover, which the
  next build of that path replaces; nothing registered is ever overwritten;
* one lock file per output path makes concurrent builds of the same FOD, in
  one process or several, produce one valid item;
* data with the wrong hash is moved to a quarantine directory, and reported;
* ``.drv`` files and sources can also be read from read-only store copies
  (the user's ``--store DIR``): builders need the mirror lists and builder
  scripts that a derivation names.

The bookkeeping lives in ``<store>/.guix-revive/`` (a name no store item can
have): ``db.sqlite``, ``locks/``, ``tmp/`` and ``quarantine/``. Temporary
files must be on the store's file system for the final rename to be atomic.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import stat
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from os import PathLike
from pathlib import Path
from typing import Final

from revive.core.aterm import parse_derivation_bytes
from revive.core.builders.context import remove_tree
from revive.core.builders.errors import FetchError
from revive.core.builders.options import FetchOptions
from revive.core.builders.threads import run_in_thread
from revive.core.builders.verify import measure
from revive.core.derivation import Derivation
from revive.core.derivation_hash import fixed_output_expected_path
from revive.core.errors import MissingStoreItem, ReviveError, StoreError
from revive.core.fetch.mirrors import MirrorConfig
from revive.core.fetch.spec import FetchSpec
from revive.core.store_dir import StoreDir
from revive.core.store_path import (
    DEFAULT_STORE_DIR,
    StorePathError,
    text_path,
    validate_name,
)
from revive.core.stores.api import (
    BuildEvent,
    BuildFailed,
    BuildFinished,
    BuildLog,
    BuildStarted,
    FailureReason,
)
from revive.core.stores.db import PathInfo, ValidPathDB
from revive.core.stores.fixed_item import fixed_item_path
from revive.core.stores.locks import OutputLock
from revive.core.stores.shared import (
    build_failed,
    fetch_and_verify,
    fetch_spec_or_failure,
    read_only_copies,
)
from revive.core.stores.streams import event_stream

__all__ = ["EmbeddedStore", "default_store_root", "canonicalise"]

META_DIR: Final = ".guix-revive"
"""Name of the bookkeeping directory inside the physical store directory."""


def default_store_root() -> Path:
    """``$XDG_DATA_HOME/guix-revive/store`` (``~/.local/share/…`` by default)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "share"
    )
    return Path(base) / "guix-revive" / "store"


def canonicalise(path: Path) -> None:
    """Give a tree the daemon's canonical metadata: 0444/0555 modes, mtime 1.

    Files are 0555 if their owner could execute them, else 0444;
    directories 0555; every entry (symlinks included) gets mtime 1.
    """
    info = os.lstat(path)
    if stat.S_ISDIR(info.st_mode):
        for parent, dirs, files in os.walk(path, topdown=False):
            for name in files:
                _canonical_entry(os.path.join(parent, name))
            for name in dirs:
                _canonical_entry(os.path.join(parent, name))
    _canonical_entry(os.fspath(path))


def _canonical_entry(path: str) -> None:
    mode = os.lstat(path).st_mode
    if stat.S_ISLNK(mode):
        os.utime(path, (1, 1), follow_symlinks=False)
        return
    if stat.S_ISDIR(mode) or mode & 0o100:
        os.chmod(path, 0o555)
    else:
        os.chmod(path, 0o444)
    os.utime(path, (1, 1))


class EmbeddedStore:
    """A store in a directory of this machine, with guix-revive's own builders.

    Args:
        root: the physical store directory (created on first write).
        store_dir: the logical store directory its paths name.
        read_only: store copies to read ``.drv`` files and sources from.
        options: how builders fetch.
        mirror_config: mirror data for derivations whose own mirror lists
            are not available (today's by default).
    """

    backend_name: Final = "embedded"

    def __init__(
        self,
        root: str | PathLike[str] | None = None,
        *,
        store_dir: str = DEFAULT_STORE_DIR,
        read_only: Sequence[StoreDir | str | PathLike[str]] = (),
        options: FetchOptions | None = None,
        mirror_config: MirrorConfig | None = None,
    ) -> None:
        self.root = Path(root if root is not None else default_store_root()).absolute()
        """The physical directory holding the items."""
        self._store_dir = store_dir.rstrip("/") or "/"
        self.read_only = read_only_copies(read_only, self._store_dir)
        """Read-only store copies searched after this store."""
        self.options = options or FetchOptions()
        """How builders fetch."""
        self.mirror_config = mirror_config
        """Mirror data used when a derivation's own lists are missing."""
        self.meta = self.root / META_DIR
        """The bookkeeping directory."""
        self.db = ValidPathDB(self.meta / "db.sqlite")
        """The database of valid paths."""
        self._dirs_made = False

    def __repr__(self) -> str:
        return f"EmbeddedStore({str(self.root)!r}, store_dir={self._store_dir!r})"

    # --- paths --------------------------------------------------------------------

    @property
    def store_dir(self) -> str:
        """The logical store directory (``/gnu/store``)."""
        return self._store_dir

    @property
    def quarantine_dir(self) -> Path:
        """Where fetched data with the wrong hash is kept."""
        return self.meta / "quarantine"

    def physical_path(self, store_path: str) -> Path:
        """Where ``store_path`` (or a file inside an item) lives in this store.

        Raises:
            StoreError: ``store_path`` is not under :attr:`store_dir`.
        """
        relative = self._relative(store_path)
        return self.root / relative

    def _relative(self, store_path: str) -> str:
        prefix = self._store_dir + "/"
        rest = store_path[len(prefix) :] if store_path.startswith(prefix) else ""
        if not rest or rest.startswith((".", "/")) or "/.." in "/" + rest:
            raise StoreError(f"{store_path}: not in the store {self._store_dir}")
        return rest

    def _item_of(self, store_path: str) -> str:
        return self._store_dir + "/" + self._relative(store_path).split("/", 1)[0]

    # --- validity -------------------------------------------------------------------

    def is_valid(self, path: str) -> bool:
        """True if ``path`` is registered and present."""
        try:
            physical = self.physical_path(path)
        except StoreError:
            return False
        return self.db.is_valid(path) and os.path.lexists(physical)

    def query_valid(self, paths: Iterable[str]) -> frozenset[str]:
        """The valid subset of ``paths``."""
        registered = self.db.query_valid(p for p in paths if p.startswith(self._store_dir + "/"))
        return frozenset(p for p in registered if os.path.lexists(self.physical_path(p)))

    def path_info(self, path: str) -> PathInfo | None:
        """What the database records about ``path`` (``None``: not valid)."""
        return self.db.info(path) if self.is_valid(path) else None

    # --- reading ---------------------------------------------------------------------

    def read_item(self, path: str) -> bytes:
        """The bytes of a file item (or file inside an item) of this store or a copy.

        Raises:
            MissingStoreItem: in no store.
            StoreError: it cannot be read.
        """
        try:
            item = self._item_of(path)
        except StoreError:
            raise MissingStoreItem(path) from None
        if self.is_valid(item):
            file = self.physical_path(path)
            try:
                return file.read_bytes()
            except FileNotFoundError:
                raise MissingStoreItem(path) from None
            except OSError as err:
                raise StoreError(f"{file}: cannot read: {err.strerror or err}") from None
        for copy in self.read_only:
            if copy.logical == self._store_dir and copy.exists(path):
                return copy.read_bytes(path)
        raise MissingStoreItem(path)

    def has_item(self, path: str) -> bool:
        """True if :meth:`read_item` can find ``path`` (valid here, or in a copy)."""
        try:
            item = self._item_of(path)
        except StoreError:
            return False
        if self.is_valid(item):
            return True
        return any(c.logical == self._store_dir and c.exists(path) for c in self.read_only)

    def read_derivation(self, drv_path: str) -> Derivation:
        """Read ``drv_path`` from this store or a read-only copy.

        Raises:
            MissingStoreItem: in no store.
            DerivationError: malformed.
        """
        data = self.read_item(drv_path)
        return parse_derivation_bytes(data, drv_path, Derivation.name_from_path(drv_path))

    # --- adding ------------------------------------------------------------------------

    def add_text(self, name: str, contents: bytes, references: Iterable[str] = ()) -> str:
        """Add a text item; return its path (a no-op if already valid).

        Raises:
            MissingStoreItem: a reference is not valid in this store.
            DerivationError: ``name`` ends in ``.drv`` and ``contents`` is no derivation.
        """
        refs = tuple(sorted(set(references), key=str.encode))
        _check_name(name)
        path = text_path(name, contents, refs, self._store_dir)
        if self.is_valid(path):
            return path
        missing = sorted(set(refs) - self.query_valid(refs))
        if missing:
            raise MissingStoreItem(missing[0], f"add {path}")
        if name.endswith(".drv"):
            parse_derivation_bytes(contents, path, name[:-4])

        def write(tmp: Path) -> None:
            tmp.write_bytes(contents)

        self._add(path, write, refs, deriver=None)
        return path

    def add_fixed(
        self,
        name: str,
        source: str | PathLike[str],
        algorithm: str = "sha256",
        recursive: bool = True,
        expected: bytes | None = None,
    ) -> str:
        """Copy a file or tree in as a fixed-output item; return its path.

        Raises:
            HashMismatch: ``expected`` was given and does not match.
            StoreError: the source cannot be read, or is not a regular file
                when ``recursive`` is false.
        """
        _check_name(name)
        src = Path(source)
        try:
            info = os.lstat(src)
        except OSError as err:
            raise StoreError(f"{src}: cannot read: {err.strerror or err}") from None
        if not recursive and not stat.S_ISREG(info.st_mode):
            raise StoreError(f"{src}: a flat fixed-output item must be a regular file")
        path = fixed_item_path(name, src, algorithm, recursive, expected, self._store_dir)
        if self.is_valid(path):
            return path

        def write(tmp: Path) -> None:
            if stat.S_ISDIR(info.st_mode):
                shutil.copytree(src, tmp, symlinks=True)
            elif stat.S_ISLNK(info.st_mode):
                os.symlink(os.readlink(src), tmp)
            else:
                shutil.copyfile(src, tmp)
                if recursive and info.st_mode & 0o100:
                    os.chmod(tmp, 0o755)

        self._add(path, write, (), deriver=None)
        return path

    def _add(
        self,
        path: str,
        write: Callable[[Path], None],
        references: tuple[str, ...],
        deriver: str | None,
    ) -> None:
        lock = OutputLock(self.meta / "locks", path)
        self._ensure_dirs()
        # Adding is quick: waiting for another process adding the same item
        # (it is then valid, and this becomes a no-op) blocks briefly.
        while not lock.try_acquire():
            time.sleep(0.05)
        try:
            if self.is_valid(path):
                return
            work = Path(tempfile.mkdtemp(prefix="add.", dir=self.meta / "tmp"))
            try:
                tmp = work / "item"
                try:
                    write(tmp)
                except OSError as err:
                    raise StoreError(f"cannot add {path}: {err.strerror or err}") from None
                _, nar, size = measure(tmp, "sha256", True)
                self._install(tmp, path, nar, size, references, deriver)
            finally:
                remove_tree(work)
        finally:
            lock.release()

    def _ensure_dirs(self) -> None:
        # Once per store object: a mkdir is a metadata write, and a fetch of
        # 500 small files is dominated by those.
        if self._dirs_made:
            return
        for sub in ("tmp", "locks"):
            (self.meta / sub).mkdir(parents=True, exist_ok=True)
        self._dirs_made = True

    def _install(
        self,
        tmp: Path,
        path: str,
        nar_sha256: bytes,
        nar_size: int,
        references: tuple[str, ...],
        deriver: str | None,
    ) -> None:
        """Move the verified ``tmp`` to ``path`` and register it (lock held)."""
        final = self.physical_path(path)
        canonicalise(tmp)
        if os.path.lexists(final):
            if self.db.is_valid(path):
                return  # valid already: never overwritten
            # A leftover of a process killed between rename and registration.
            remove_tree(final)
        os.rename(tmp, final)
        self.db.register(
            PathInfo(path, "sha256:" + nar_sha256.hex(), nar_size, references, deriver)
        )

    # --- building -------------------------------------------------------------------------

    def build(self, drv_path: str) -> AsyncIterator[BuildEvent]:
        """Fetch the FOD ``drv_path`` with the embedded builders, as events.

        Only fixed-output derivations can be built here: anything else fails
        with ``BUILDER_UNSUPPORTED`` (the Guix backend builds those).
        """
        return event_stream(lambda emit: self._build(drv_path, emit))

    def _prepare(self, drv_path: str) -> tuple[str, FetchSpec, bool] | BuildEvent:
        """``(output_path, spec, todays_form)`` of a FOD to fetch, or the event that ends it.

        Blocking (reads the ``.drv`` and maybe a builder script): run in a thread.
        """
        try:
            drv = self.read_derivation(drv_path)
        except ReviveError as err:
            return build_failed(drv_path, err, FailureReason.FAILED)
        out = drv.fixed_output
        if out is None:
            return BuildFailed(
                drv_path,
                FailureReason.BUILDER_UNSUPPORTED,
                f"{drv_path}: not a fixed-output derivation; the embedded store only "
                "fetches sources (the guix backend builds anything)",
            )
        output_path = out.path
        try:
            computed = fixed_output_expected_path(drv, self._store_dir)
        except ValueError as err:
            return BuildFailed(drv_path, FailureReason.FAILED, f"{drv_path}: {err}")
        if computed != output_path:
            return BuildFailed(
                drv_path,
                FailureReason.FAILED,
                f"{drv_path}: output path {output_path} does not match its hash "
                f"(expected {computed})",
            )
        if self.is_valid(output_path):
            return BuildFinished(drv_path, output_path, cached=True)
        spec = fetch_spec_or_failure(drv, drv_path, self.read_item)
        if isinstance(spec, BuildFailed):
            return spec
        self._ensure_dirs()
        return output_path, spec, drv.builder.startswith("builtin:")

    async def _build(self, drv_path: str, emit: Callable[[BuildEvent], None]) -> None:
        # File-system work runs in threads: on a slow disk, a dozen metadata
        # operations per FOD on the event loop's thread would serialise
        # every concurrent build behind them.
        prepared = await asyncio.to_thread(self._prepare, drv_path)
        if not isinstance(prepared, tuple):
            emit(prepared)
            return
        output_path, spec, todays_form = prepared
        emit(BuildStarted(drv_path, output_path, str(spec.method)))
        lock = OutputLock(self.meta / "locks", output_path)
        if not await asyncio.to_thread(lock.try_acquire):
            emit(BuildLog(drv_path, f"waiting for another build of {output_path}"))
            await lock.acquire()
        try:
            work = await asyncio.to_thread(self._work_dir, output_path)
            if work is None:  # built by another process meanwhile
                emit(BuildFinished(drv_path, output_path, cached=True))
                return
            try:
                await self._fetch(drv_path, spec, output_path, work, todays_form, emit)
            finally:
                await run_in_thread(lambda _cancel: remove_tree(work))
        finally:
            lock.release()

    def _work_dir(self, output_path: str) -> Path | None:
        """A fresh work directory for ``output_path`` (lock held), or ``None`` if valid."""
        if self.is_valid(output_path):
            return None
        base = os.path.basename(output_path)
        self._remove_stale_work(base)
        return Path(tempfile.mkdtemp(prefix=base + ".", dir=self.meta / "tmp"))

    async def _fetch(
        self,
        drv_path: str,
        spec: FetchSpec,
        output_path: str,
        work: Path,
        todays_form: bool,
        emit: Callable[[BuildEvent], None],
    ) -> None:
        try:
            verified = await fetch_and_verify(
                spec,
                drv_path,
                emit,
                work,
                self,
                todays_form=todays_form,
                mirror_config=self.mirror_config,
            )
            try:
                # In a thread (canonicalising a big tree takes time), and
                # waited for even on cancellation: the work directory must
                # not be deleted under a rename in progress.
                await run_in_thread(
                    lambda _cancel: self._install(
                        verified.path,
                        output_path,
                        verified.nar_sha256,
                        verified.nar_size,
                        (),
                        drv_path,
                    )
                )
            except (OSError, StoreError) as err:
                detail = getattr(err, "strerror", None) or str(err)
                emit(BuildFailed(drv_path, FailureReason.STORE_ERROR, f"{output_path}: {detail}"))
                return
            emit(BuildFinished(drv_path, output_path))
        except FetchError as err:
            emit(err.failed_event(drv_path))

    def _remove_stale_work(self, base: str) -> None:
        # Work directories of this output left by a killed process: whoever
        # made them held the output lock, which is now ours.
        tmp = self.meta / "tmp"
        with contextlib.suppress(FileNotFoundError):
            for entry in os.scandir(tmp):
                if entry.name.startswith(base + "."):
                    remove_tree(entry.path)


def _check_name(name: str) -> None:
    """:func:`validate_name`, failing as this store fails (:class:`StoreError`)."""
    try:
        validate_name(name)
    except StorePathError as err:
        raise StoreError(str(err)) from None
