"""Pick a store backend: the Guix daemon when ``guix`` is installed, else the embedded store."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from os import PathLike
from typing import Literal

from revive.core.builders.options import FetchOptions
from revive.core.errors import ReviveError
from revive.core.fetch.mirrors import MirrorConfig
from revive.core.store_dir import StoreDir
from revive.core.store_path import DEFAULT_STORE_DIR
from revive.core.stores.api import Store
from revive.core.stores.embedded import EmbeddedStore
from revive.core.stores.guix import GuixStore

__all__ = ["Backend", "choose_backend", "open_store"]

Backend = Literal["auto", "embedded", "guix"]
"""What the user asked for (``--backend``)."""


def choose_backend(
    requested: Backend = "auto", env: Mapping[str, str] | None = None
) -> Literal["embedded", "guix"]:
    """``guix`` if asked, or if ``auto`` and a ``guix`` program is on ``PATH``."""
    if requested != "auto":
        return requested
    path = (env if env is not None else os.environ).get("PATH")
    return "guix" if shutil.which("guix", path=path) else "embedded"


def open_store(
    backend: Backend = "auto",
    *,
    root: str | PathLike[str] | None = None,
    store_dir: str = DEFAULT_STORE_DIR,
    read_only: Sequence[StoreDir | str | PathLike[str]] = (),
    options: FetchOptions | None = None,
    mirror_config: MirrorConfig | None = None,
    env: Mapping[str, str] | None = None,
    on_unsupported: Literal["embedded", "recreate"] = "embedded",
) -> Store:
    """The store to use.

    Args:
        backend: ``auto``, ``embedded`` or ``guix``.
        root: the embedded store's physical directory (default under
            ``$XDG_DATA_HOME``); ignored by the Guix backend.
        store_dir: the logical store directory.
        read_only: store copies to read ``.drv`` files and sources from.
        options: how guix-revive's own builders fetch.
        mirror_config: mirror data for the embedded builders.
        env: environment of ``guix`` commands (default: inherited).
        on_unsupported: the Guix backend's way with FODs its daemon cannot
            build (see :class:`GuixStore`).

    Raises:
        ReviveError: ``guix`` was asked for and is not installed.
    """
    chosen = choose_backend(backend, env)
    if chosen == "guix":
        if backend == "guix" and not shutil.which(
            "guix", path=(env if env is not None else os.environ).get("PATH")
        ):
            raise ReviveError("--backend guix: no guix program on PATH")
        return GuixStore(
            store_dir=store_dir,
            read_only=read_only,
            env=env,
            options=options,
            on_unsupported=on_unsupported,
        )
    return EmbeddedStore(
        root,
        store_dir=store_dir,
        read_only=read_only,
        options=options,
        mirror_config=mirror_config,
    )
