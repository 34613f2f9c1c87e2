"""Which program each fetch method runs, and whether this machine has it.

The embedded builders fetch version-control sources with the real ``git``,
``svn``, ``hg``, ``brz`` and ``cvs``. Knowing beforehand that one is missing
lets a user interface say "needs svn (not installed)" next to a source
instead of letting the user discover it by a failed fetch.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from typing import Final

from revive.core.builders.errors import DEBIAN_PACKAGES
from revive.core.builders.process import tool_search_path
from revive.core.fetch.spec import FetchMethod

__all__ = ["METHOD_PROGRAMS", "is_installed", "missing_program", "needs_text", "install_hint"]

METHOD_PROGRAMS: Final[Mapping[str, str]] = {
    FetchMethod.GIT: "git",
    FetchMethod.SVN: "svn",
    FetchMethod.SVN_MULTI: "svn",
    FetchMethod.HG: "hg",
    FetchMethod.BZR: "brz",
    FetchMethod.CVS: "cvs",
}
"""The program the embedded builders run for each version-control method (keys: FetchMethod)."""


def is_installed(program: str, path: str | None = None) -> bool:
    """True if ``program`` is on ``path`` (default ``$PATH``), as the builders search it."""
    search = path if path is not None else os.environ.get("PATH", os.defpath)
    return shutil.which(program, path=tool_search_path(search)) is not None


def missing_program(method: FetchMethod | str | None, path: str | None = None) -> str | None:
    """The program fetching by ``method`` needs and that is not installed, else ``None``."""
    if method is None:
        return None
    try:
        program = METHOD_PROGRAMS.get(FetchMethod(method))
    except ValueError:
        return None
    if program is None or is_installed(program, path):
        return None
    return program


def needs_text(program: str) -> str:
    """The short reason shown beside a source: ``needs svn (not installed)``."""
    return f"needs {program} (not installed)"


def install_hint(program: str) -> str:
    """What to do about it: the Debian package that provides ``program``."""
    return f"install the Debian package '{DEBIAN_PACKAGES.get(program, program)}'"
