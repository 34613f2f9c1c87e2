"""Guile and its module imports: how the demo's builder scripts are run.

Every Guile-built derivation of the demo runs a script with one of the demo's
Guile derivations (the bootstrap Guile, the final 2020 Guile, or the Guile
2.0.11 of 2015) and a pair of ``module-import`` / ``module-import-compiled``
derivations that put the Guix modules the script uses on its load paths.
Each module set is written once per demo and shared by every derivation
that uses it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from revive.core.demo import scripts
from revive.core.demo.archive import FileEntry
from revive.core.demo.state import DemoBuild
from revive.core.demo.store_builder import Fixed

__all__ = ["guile_bin", "modules", "source_modules", "guile_script_drv", "guile_fetch"]


@dataclass(frozen=True, slots=True)
class _Modules:
    guile: str
    """``boot`` or ``final`` or ``2.0.11``."""
    era: str
    modules: tuple[str, ...]
    gexp: bool


_GNU_BUILD_2020: Final = (
    "guix/build/gnu-build-system.scm",
    "guix/build/utils.scm",
    "guix/build/gremlin.scm",
    "guix/elf.scm",
)
"""The modules of a 2020 ``gnu-build-system`` builder (with either Guile)."""

_MODULE_SETS: Final[Mapping[str, _Modules]] = {
    "boot": _Modules("boot", "2020", ("guix/build/utils.scm",), False),
    "gnu-boot": _Modules("boot", "2020", _GNU_BUILD_2020, False),
    "gnu": _Modules("final", "2020", _GNU_BUILD_2020, False),
    "git": _Modules(
        "final",
        "2020",
        (
            "guix/build/git.scm",
            "guix/build/utils.scm",
            "guix/build/download-nar.scm",
            "guix/build/download.scm",
            "guix/swh.scm",
            "guix/base16.scm",
            "guix/base32.scm",
            "guix/serialization.scm",
            "guix/progress.scm",
        ),
        True,
    ),
    "svn": _Modules("final", "2020", ("guix/build/svn.scm", "guix/build/utils.scm"), True),
    "hg": _Modules(
        "final",
        "2020",
        ("guix/build/hg.scm", "guix/build/utils.scm", "guix/build/download-nar.scm"),
        True,
    ),
    "bzr": _Modules("final", "2020", ("guix/build/bzr.scm", "guix/build/utils.scm"), True),
    "cvs": _Modules(
        "final",
        "2020",
        ("guix/build/cvs.scm", "guix/build/utils.scm", "guix/build/download-nar.scm"),
        True,
    ),
    "profile": _Modules(
        "final",
        "2020",
        (
            "guix/build/profiles.scm",
            "guix/build/union.scm",
            "guix/build/utils.scm",
            "guix/search-paths.scm",
        ),
        True,
    ),
    "download-2015": _Modules(
        "boot",
        "2015",
        ("guix/build/download.scm", "guix/build/utils.scm", "guix/ftp-client.scm"),
        True,
    ),
    "git-2015": _Modules("2.0.11", "2015", ("guix/build/git.scm", "guix/build/utils.scm"), True),
    "download-2016": _Modules(
        "2.0.11",
        "2016",
        (
            "guix/build/download.scm",
            "guix/build/utils.scm",
            "guix/ftp-client.scm",
            "guix/base32.scm",
        ),
        True,
    ),
    "gnu-2015": _Modules(
        "2.0.11",
        "2015",
        ("guix/build/gnu-build-system.scm", "guix/build/utils.scm"),
        False,
    ),
}


def guile_bin(b: DemoBuild, which: str) -> str:
    """The ``guile`` program of the Guile derivation ``which`` (``boot``, ``final``…)."""
    return b.store.output(b.guile[which]) + "/bin/guile"


def modules(b: DemoBuild, key: str, extensions: Sequence[str] = ()) -> tuple[str, str]:
    """``(module-import drv, module-import-compiled drv)`` for a module set."""
    if key in b.module_drvs:
        return b.module_drvs[key]
    spec = _MODULE_SETS[key]
    guile_drv = b.guile[spec.guile]
    files: list[tuple[str, str]] = []
    for module in spec.modules:
        name = module.rsplit("/", 1)[1]
        ident = "(" + module[:-4].replace("/", " ") + ")"
        text = (
            f";;; guix-revive demo: stand-in for the Guix module {ident},\n"
            f";;; as a Guix of {spec.era} shipped it.\n"
            f"(define-module {ident})\n"
        )
        files.append((module, b.store.source_file(name, text.encode())))
    if spec.gexp:
        script = b.store.text(
            "module-import-builder", scripts.module_import_script(files, gexp=True)
        )
    else:
        script = b.store.text(
            "module-import-guile-builder",
            scripts.module_import_script(files, gexp=False),
            references=[path for _, path in files],
        )
    env = {"preferLocalBuild": "1"}
    if spec.gexp:
        env["GUILE_WARN_DEPRECATED"] = "no"
    mi = b.store.derivation(
        "module-import",
        builder=guile_bin(b, spec.guile),
        args=["--no-auto-compile", script],
        inputs=[(guile_drv, ("out",))],
        sources=[script, *(path for _, path in files)],
        env=env,
    )
    compiled_script = b.store.text(
        "module-import-compiled-builder",
        scripts.module_import_compiled_script([m for m in spec.modules], b.store.output(mi)),
    )
    mic = b.store.derivation(
        "module-import-compiled",
        builder=guile_bin(b, spec.guile),
        args=["--no-auto-compile", compiled_script],
        inputs=[(guile_drv, ("out",)), (mi, ("out",)), *((e, ("out",)) for e in extensions)],
        sources=[compiled_script],
        env=env,
    )
    b.module_drvs[key] = (mi, mic)
    return mi, mic


def source_modules(b: DemoBuild) -> tuple[str, str]:
    """The 2020 ``module-import`` *source item* (a directory) and its compiled drv."""
    if "source" in b.module_drvs:
        return b.module_drvs["source"]
    text = (
        ";;; guix-revive demo: stand-in for the Guix module (guix build utils),\n"
        ";;; as a Guix of 2020 shipped it.\n(define-module (guix build utils))\n"
    )
    tree = {"guix/build/utils.scm": FileEntry(text.encode())}
    directory = b.store.source_tree("module-import", tree)
    script = b.store.text(
        "module-import-compiled-builder",
        scripts.module_import_compiled_script(["guix/build/utils.scm"], directory),
    )
    mic = b.store.derivation(
        "module-import-compiled",
        builder=guile_bin(b, "final"),
        args=["--no-auto-compile", script],
        inputs=[(b.guile["final"], ("out",))],
        sources=[directory, script],
        env={"GUILE_WARN_DEPRECATED": "no", "preferLocalBuild": "1"},
    )
    b.module_drvs["source"] = (directory, mic)
    return directory, mic


def guile_script_drv(
    b: DemoBuild,
    name: str,
    script: str,
    *,
    guile: str,
    modules: tuple[str, str],
    inputs: Sequence[str] = (),
    sources: Sequence[str] = (),
    env: Mapping[str, str],
    fixed: Fixed | None = None,
) -> str:
    """A derivation running ``script`` with Guile ``guile`` and ``modules``.

    ``modules`` is a ``(module-import, module-import-compiled)`` pair, put
    on the load paths (``-L``, ``-C``); ``inputs`` are more derivations
    whose ``out`` the script uses, ``sources`` more store items it reads.
    """
    mi, mic = modules
    return b.store.derivation(
        name,
        builder=guile_bin(b, guile),
        args=[
            "--no-auto-compile",
            "-L",
            b.store.output(mi),
            "-C",
            b.store.output(mic),
            script,
        ],
        inputs=[
            (b.guile[guile], ("out",)),
            (mi, ("out",)),
            (mic, ("out",)),
            *((drv, ("out",)) for drv in inputs),
        ],
        sources=[script, *sources],
        env=env,
        fixed=fixed,
    )


def guile_fetch(
    b: DemoBuild,
    name: str,
    script: str,
    module_set: str,
    tools: Sequence[str],
    env: Mapping[str, str],
    fixed: Fixed,
) -> str:
    """A 2020 fetch FOD: ``script`` run by the final Guile with ``tools``."""
    return guile_script_drv(
        b,
        name,
        script,
        guile="final",
        modules=modules(b, module_set),
        inputs=[b.pkg[t] for t in tools],
        env=env,
        fixed=fixed,
    )
