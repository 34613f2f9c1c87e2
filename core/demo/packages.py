"""The demo's packages: the bootstrap, the 2020 toolchain and the tools it needs.

Packages are ``gnu-build-system`` derivations in their 2020 shape (a
``-guile-builder`` script run with a module import), built first with the
bootstrap Guile from the bootstrap binaries, then with the final Guile. Every
package's source is a download of :mod:`revive.core.demo.url_sources`; one
(unzip) is a patched origin, as Guix had it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from revive.core.demo import scripts
from revive.core.demo.catalog import TOOLCHAIN, TOOLS_2020, Release
from revive.core.demo.content import T2013, bootstrap_urls, project_tree, tarball
from revive.core.demo.guile import guile_bin, modules, source_modules
from revive.core.demo.state import DemoBuild, Input
from revive.core.demo.url_sources import tarball_fod, url_fod
from revive.core.fetch.scheme import Datum, Symbol

__all__ = ["package", "bootstrap", "toolchain", "tools_2020"]

_SYSTEM: Final = "x86_64-linux"
_BOOTSTRAP_ID: Final = "44f07d1dc6806e97c4e9ee3e6be883cc59dc666e"


def package(
    b: DemoBuild,
    name: str,
    source: str | None,
    inputs: Sequence[Input],
    *,
    guile: str = "final",
    outputs: Sequence[str] = ("out",),
    module_set: str | None = None,
) -> str:
    """A ``gnu-build-system`` package (``-guile-builder`` script, 2020 shape)."""
    key = module_set or {"final": "gnu", "boot": "gnu-boot", "2.0.11": "gnu-2015"}[guile]
    mi, mic = modules(b, key)
    build_inputs: list[tuple[str, str]] = []
    source_out = ""
    if source is not None:
        source_out = b.store.output(source)
        build_inputs.append(("source", source_out))
    for item in inputs:
        for output in item.outputs:
            label = item.label if output == "out" else f"{item.label}:{output}"
            build_inputs.append((label, b.store.output(item.drv, output)))
    body = scripts.gnu_build_body(source_out, _SYSTEM, "")
    script = b.store.text(
        name + "-guile-builder", scripts.guile_builder(body, build_inputs, outputs)
    )
    all_inputs = [(i.drv, i.outputs) for i in inputs]
    if source is not None:
        all_inputs.append((source, ("out",)))
    return _guile_built(b, name, guile, (mi, mic), script, all_inputs, outputs)


def _guile_built(
    b: DemoBuild,
    name: str,
    guile: str,
    module_drvs: tuple[str, str],
    script: str,
    inputs: Sequence[tuple[str, tuple[str, ...]]],
    outputs: Sequence[str] = ("out",),
) -> str:
    """A package derivation: ``script`` run by ``guile`` with the modules on its paths."""
    mi, mic = module_drvs
    return b.store.derivation(
        name,
        builder=guile_bin(b, guile),
        args=["--no-auto-compile", "-L", b.store.output(mi), script],
        inputs=[*inputs, (b.guile[guile], ("out",)), (mi, ("out",)), (mic, ("out",))],
        sources=[script],
        env={"GUILE_LOAD_COMPILED_PATH": b.store.output(mic)},
        outputs=outputs,
    )


def bootstrap(b: DemoBuild) -> None:
    """Bootstrap binaries, the bootstrap Guile and the bootstrap toolchain."""
    savannah = "https://git.savannah.gnu.org/cgit/guix.git/plain/gnu/packages/bootstrap"
    tools: dict[str, str] = {}
    for tool in ("bash", "mkdir", "tar", "xz"):
        data = (
            "#!/bin/sh\n"
            f"# guix-revive demo: stand-in for the statically linked bootstrap {tool}.\n"
            f'echo "{tool} (bootstrap stand-in)"\n'
        ).encode()
        tools[tool] = url_fod(
            b,
            tool,
            [f"{savannah}/x86_64-linux/{tool}?id={_BOOTSTRAP_ID}"],
            data,
            executable=True,
        )
    guile_tarball = url_fod(
        b,
        "guile-2.0.9.tar.xz",
        bootstrap_urls("guile-2.0.9.tar.xz"),
        tarball(
            "guile-2.0.9.tar.xz",
            project_tree("guile", "2.0.9", "The bootstrap Guile (statically linked)."),
            "",
            T2013,
        ),
    )
    script = b.store.text(
        "build-bootstrap-guile.sh",
        scripts.build_bootstrap_guile_sh(
            *(b.store.output(tools[t]) for t in ("mkdir", "tar", "xz"))
        ),
    )
    b.guile["boot"] = b.store.derivation(
        "guile-bootstrap-2.0",
        builder=b.store.output(tools["bash"]),
        args=[script],
        inputs=[(d, ("out",)) for d in (*tools.values(), guile_tarball)],
        sources=[script],
        env={"GUILE_TARBALL": b.store.output(guile_tarball)},
    )
    mi, mic = modules(b, "boot")
    for name, file, summary in (
        ("bootstrap-binaries-0", "static-binaries.tar.xz", "Static core utilities."),
        ("binutils-bootstrap-0", "binutils-2.20.1a.tar.xz", "Bootstrap binutils."),
        ("gcc-bootstrap-0", "gcc-4.8.2.tar.xz", "Bootstrap GCC."),
        ("glibc-bootstrap-0", "glibc-2.18.tar.xz", "Bootstrap GNU C Library."),
    ):
        fod = url_fod(
            b,
            file,
            bootstrap_urls(file),
            tarball(file, project_tree(name, "0", summary), "", T2013),
        )
        build_inputs = [
            ("tar", b.store.output(tools["tar"])),
            ("xz", b.store.output(tools["xz"])),
            ("tarball", b.store.output(fod)),
        ]
        builder = b.store.text(
            name + "-guile-builder",
            scripts.guile_builder(_unpack_body(), build_inputs, ("out",)),
        )
        inputs = [(tools["tar"], ("out",)), (tools["xz"], ("out",)), (fod, ("out",))]
        drv = _guile_built(b, name, "boot", (mi, mic), builder, inputs)
        b.bootstrap_inputs.append(Input(name.rsplit("-", 2)[0], drv))


def _unpack_body() -> Datum:
    """The build expression that unpacks a bootstrap tarball into the output."""
    ref = Symbol("assoc-ref")
    inputs = Symbol("%build-inputs")
    return (
        Symbol("let"),
        (
            (Symbol("out"), Symbol("%output")),
            (Symbol("tar"), (ref, inputs, "tar")),
            (Symbol("xz"), (ref, inputs, "xz")),
            (Symbol("tarball"), (ref, inputs, "tarball")),
        ),
        (Symbol("mkdir"), Symbol("out")),
        (Symbol("copy-file"), Symbol("tarball"), "binaries.tar.xz"),
        (Symbol("system*"), Symbol("xz"), "-d", "binaries.tar.xz"),
        (
            Symbol("let"),
            ((Symbol("builddir"), (Symbol("getcwd"),))),
            (
                Symbol("with-directory-excursion"),
                Symbol("out"),
                (
                    Symbol("and"),
                    (
                        Symbol("zero?"),
                        (
                            Symbol("system*"),
                            Symbol("tar"),
                            "xvf",
                            (Symbol("string-append"), Symbol("builddir"), "/binaries.tar"),
                        ),
                    ),
                ),
            ),
        ),
    )


def _release_fod(b: DemoBuild, release: Release) -> str:
    """The source tarball FOD of ``release``."""
    return tarball_fod(
        b, release.tarball, release.urls, release.label, release.version, release.summary
    )


def toolchain(b: DemoBuild) -> None:
    """The 2020 toolchain and base tools, built with the bootstrap Guile."""
    built: list[Input] = []
    for release in TOOLCHAIN:
        drv = package(
            b,
            f"{release.name}-{release.version}",
            _release_fod(b, release),
            [*b.bootstrap_inputs, *built],
            guile="boot",
            outputs=release.outputs,
        )
        b.pkg[release.label] = drv
        used = ("out", "static") if release.label == "glibc" else ("out",)
        built.append(Input(release.label, drv, used))
    # bash patches are fetched as files of their own, like in 2020.
    patches = [
        url_fod(
            b,
            f"bash50-00{n}",
            [f"mirror://gnu/bash/bash-5.0-patches/bash50-00{n}"],
            f"BASH PATCH REPORT (demo stand-in) bash-5.0 patch {n}\n".encode(),
        )
        for n in (1, 2)
    ]
    bash_source = tarball_fod(
        b,
        "bash-5.0.tar.gz",
        ["mirror://gnu/bash/bash-5.0.tar.gz"],
        "bash",
        "5.0",
        "The GNU Bourne-Again SHell.",
    )
    b.pkg["bash"] = package(
        b,
        "bash-minimal-5.0.7",
        bash_source,
        [
            *b.bootstrap_inputs,
            *built,
            *(Input(f"bash50-00{n}", p) for n, p in zip((1, 2), patches, strict=True)),
        ],
        guile="boot",
    )
    built.append(Input("bash", b.pkg["bash"]))
    ld_wrapper = b.store.source_file(
        "ld-wrapper.scm",
        b";;; guix-revive demo: stand-in for Guix's ld wrapper (ld-wrapper.in).\n",
    )
    b.pkg["ld-wrapper"] = b.store.derivation(
        "ld-wrapper-0",
        builder=guile_bin(b, "boot"),
        args=["--no-auto-compile", ld_wrapper],
        inputs=[(b.guile["boot"], ("out",)), (b.pkg["binutils"], ("out",))],
        sources=[ld_wrapper],
        env={"preferLocalBuild": "1"},
    )
    built.append(Input("ld-wrapper", b.pkg["ld-wrapper"]))
    b.pkg["locales"] = package(
        b, "glibc-utf8-locales-2.29", None, [*b.bootstrap_inputs, *built], guile="boot"
    )
    built.append(Input("locales", b.pkg["locales"]))
    guile_source = tarball_fod(
        b,
        "guile-2.2.6.tar.xz",
        ["mirror://gnu/guile/guile-2.2.6.tar.xz"],
        "guile",
        "2.2.6",
        "GNU Guile, the GNU extension language.",
    )
    b.guile["final"] = package(
        b, "guile-2.2.6", guile_source, [*b.bootstrap_inputs, *built], guile="boot"
    )
    b.final_inputs = built


def tools_2020(b: DemoBuild) -> None:
    """Packages the 2020 fetchers and leaf packages need (git, svn, hg…)."""
    for release in TOOLS_2020:
        inputs = list(b.final_inputs)
        if release.label == "gnutls":
            inputs.append(Input("guile", b.guile["final"]))
        b.pkg[release.label] = package(
            b,
            f"{release.name}-{release.version}",
            _release_fod(b, release),
            inputs,
            outputs=release.outputs,
        )
    # unzip: a patched origin (patch-and-repack), as Guix had for it.
    unzip_fod = tarball_fod(
        b,
        "unzip60.tar.gz",
        ["mirror://sourceforge/infozip/UnZip%206.x%20%28latest%29/UnZip%206.0/unzip60.tar.gz"],
        "unzip",
        "6.0",
        "Decompression and file extraction utility.",
    )
    patches = [
        b.store.source_file(name, (f"demo patch {name}\n--- a/README\n+++ b/README\n").encode())
        for name in ("unzip-CVE-2014-8139.patch", "unzip-overflow-on-invalid-input.patch")
    ]
    unzip_patched = _patched_origin(b, "unzip60.tar.xz", unzip_fod, patches)
    b.pkg["unzip"] = package(b, "unzip-6.0", unzip_patched, list(b.final_inputs))


def _patched_origin(b: DemoBuild, name: str, fod: str, patches: Sequence[str]) -> str:
    """A ``patch-and-repack`` derivation (non-fixed) around ``fod``."""
    directory, mic = source_modules(b)
    used = ("tar", "xz", "patch", "locales")
    script = b.store.text(
        name + "-builder",
        scripts.patch_and_repack_builder(
            b.store.output(fod), patches, *(b.store.output(b.pkg[k]) for k in used)
        ),
    )
    return b.store.derivation(
        name,
        builder=guile_bin(b, "final"),
        args=["--no-auto-compile", "-L", directory, "-C", b.store.output(mic), script],
        inputs=[
            (fod, ("out",)),
            (b.guile["final"], ("out",)),
            (mic, ("out",)),
            *((b.pkg[k], ("out",)) for k in used),
        ],
        sources=[directory, script, *patches],
        env={"guix properties": f"((type . origin) (patches . {len(patches)}))"},
    )
