"""Builder scripts of the demo's derivations, in the shape each Guix era wrote.

Each function returns the exact text of a script store item: one datum
written with Guile's ``write`` on one line, no trailing newline (gexp era),
or two data back to back (``build-expression->derivation`` era, the
``-guile-builder`` scripts). The shapes follow ``guix-derivations.md`` §5
and §6; the bodies are the demo's own, simplified but with every parameter a
reader needs where Guix put it.
"""

from __future__ import annotations

from collections.abc import Sequence

from revive.core.demo.eras import MirrorTable, mirrors_datum
from revive.core.demo.sexp import Datum, Dotted, Kw, Sym, getenv_out, quote, write_datum

__all__ = [
    "guile_builder",
    "gnu_build_body",
    "module_import_script",
    "module_import_compiled_script",
    "url_fetch_u1",
    "download_u2",
    "git_download_g2",
    "git_builder_g1",
    "svn_builder_s1",
    "svn_multi_builder",
    "hg_builder_h1",
    "bzr_download",
    "cvs_builder",
    "tarbomb_builder",
    "zipbomb_builder",
    "patch_and_repack_builder",
    "profile_builder",
    "build_bootstrap_guile_sh",
]

_OUT = getenv_out()


def _use(*modules: str) -> Datum:
    return (Sym("use-modules"), *(tuple(Sym(p) for p in m.split()) for m in modules))


def _program(package_out: str, program: str) -> Datum:
    return (Sym("string-append"), package_out, "/bin/" + program)


def _set_path(inputs: Sequence[str]) -> Datum:
    return (
        Sym("set-path-environment-variable"),
        "PATH",
        quote(("bin",)),
        quote(tuple(inputs)),
    )


def guile_builder(
    body: Datum, build_inputs: Sequence[tuple[str, str]], outputs: Sequence[str]
) -> str:
    """A ``build-expression->derivation`` script: prologue, then ``(exit (begin body))``.

    The prologue defines ``%output``, ``%outputs`` and ``%build-inputs``
    (labels to store paths); the two data are written with no separator.
    """
    prologue = (
        Sym("begin"),
        _use("guix build utils"),
        (Sym("define"), Sym("%output"), (Sym("getenv"), "out")),
        (
            Sym("define"),
            Sym("%outputs"),
            (
                Sym("map"),
                (Sym("lambda"), (Sym("o"),), (Sym("cons"), Sym("o"), (Sym("getenv"), Sym("o")))),
                quote(tuple(outputs)),
            ),
        ),
        (
            Sym("define"),
            Sym("%build-inputs"),
            quote(tuple(_pair(label, path) for label, path in build_inputs)),
        ),
        (Sym("define"), Sym("%build-target-inputs"), quote(())),
        (Sym("unsetenv"), "LD_LIBRARY_PATH"),
    )
    return write_datum(prologue) + write_datum((Sym("exit"), (Sym("begin"), body)))


def _pair(label: str, path: str) -> Datum:
    return Dotted((label,), path)


def gnu_build_body(source: str, system: str, phases_note: str) -> Datum:
    """The body of a ``gnu-build-system`` package's ``-guile-builder``."""
    return (
        Sym("begin"),
        _use("guix build gnu-build-system", "guix build utils"),
        (
            Sym("gnu-build"),
            Kw("source"),
            source,
            Kw("system"),
            system,
            Kw("outputs"),
            Sym("%outputs"),
            Kw("inputs"),
            Sym("%build-inputs"),
            Kw("search-paths"),
            quote(()),
            Kw("phases"),
            Sym("%standard-phases"),
            Kw("locale"),
            "en_US.utf8",
            Kw("configure-flags"),
            quote((phases_note,) if phases_note else ()),
            Kw("make-flags"),
            quote(()),
            Kw("tests?"),
            True,
            Kw("strip-binaries?"),
            True,
        ),
    )


def module_import_script(files: Sequence[tuple[str, str]], gexp: bool) -> str:
    """Copies each module file to its place under ``out`` (``module-import``)."""
    body = (
        Sym("begin"),
        _use("ice-9 match"),
        (Sym("mkdir"), _OUT if gexp else Sym("%output")),
        (Sym("chdir"), _OUT if gexp else Sym("%output")),
        (
            Sym("for-each"),
            (
                Sym("match-lambda"),
                (
                    _pair_pattern(),
                    (Sym("mkdir-p"), (Sym("dirname"), Sym("final-path"))),
                    (Sym("copy-file"), Sym("store-path"), Sym("final-path")),
                ),
            ),
            quote(tuple(_pair(final, store) for final, store in files)),
        ),
    )
    if gexp:
        return write_datum(body)
    return guile_builder(body, (), ("out",))


def _pair_pattern() -> Datum:
    return Dotted((Sym("final-path"),), Sym("store-path"))


def module_import_compiled_script(modules: Sequence[str], module_import: str) -> str:
    """Compiles every imported module into ``out`` (``module-import-compiled``)."""
    return write_datum(
        (
            Sym("begin"),
            _use("system base compile", "guix build utils"),
            (Sym("add-to-load-path"), module_import),
            (Sym("mkdir"), _OUT),
            (
                Sym("for-each"),
                (
                    Sym("lambda"),
                    (Sym("file"),),
                    (
                        Sym("compile-file"),
                        (Sym("string-append"), module_import, "/", Sym("file")),
                        Kw("output-file"),
                        (
                            Sym("string-append"),
                            _OUT,
                            "/",
                            (Sym("string-drop-right"), Sym("file"), 4),
                            ".go",
                        ),
                    ),
                ),
                quote(tuple(modules)),
            ),
        )
    )


def url_fetch_u1(urls: Sequence[str], mirrors: MirrorTable) -> str:
    """Era U1 (2014-05 → 2015-08): ``(url-fetch (quote URLS) OUT #:mirrors (quote ALIST))``."""
    url: Datum = urls[0] if len(urls) == 1 else tuple(urls)
    return write_datum(
        (
            Sym("begin"),
            True,
            _use("guix build download"),
            (
                Sym("url-fetch"),
                quote(url),
                _OUT,
                Kw("mirrors"),
                quote(mirrors_datum(mirrors)),
            ),
        )
    )


def download_u2(mirrors_file: str, ca_mirrors_file: str) -> str:
    """Era U2 (2015-08 → 2017-08): the shared in-band ``download`` script."""
    from_env = Sym("value-from-environment")
    return write_datum(
        (
            Sym("begin"),
            _use("guix build download", "guix base32"),
            (
                Sym("let*"),
                (
                    (
                        from_env,
                        (
                            Sym("lambda"),
                            (Sym("variable"),),
                            (
                                Sym("call-with-input-string"),
                                (Sym("getenv"), Sym("variable")),
                                Sym("read"),
                            ),
                        ),
                    ),
                    (Sym("url"), (from_env, "guix download url")),
                    (Sym("output"), _OUT),
                    (Sym("mirrors"), (Sym("call-with-input-file"), mirrors_file, Sym("read"))),
                    (
                        Sym("content-addressed-mirrors"),
                        (Sym("primitive-load"), ca_mirrors_file),
                    ),
                ),
                (
                    Sym("url-fetch"),
                    Sym("url"),
                    Sym("output"),
                    Kw("mirrors"),
                    Sym("mirrors"),
                    Kw("content-addressed-mirrors"),
                    Sym("content-addressed-mirrors"),
                    Kw("hashes"),
                    (from_env, "guix download hashes"),
                ),
            ),
        )
    )


def git_download_g2(path_inputs: Sequence[str], git: str) -> str:
    """Era G2 (2016-12 →): the shared ``git-download`` script (params in env)."""
    getenv = Sym("getenv")
    return write_datum(
        (
            Sym("begin"),
            _use(
                "guix build git",
                "guix build utils",
                "guix build download-nar",
                "guix swh",
                "ice-9 match",
            ),
            (
                Sym("define"),
                Sym("recursive?"),
                (
                    Sym("call-with-input-string"),
                    (getenv, "git recursive?"),
                    Sym("read"),
                ),
            ),
            (Sym("setvbuf"), (Sym("current-output-port"),), quote(Sym("line"))),
            (Sym("setvbuf"), (Sym("current-error-port"),), quote(Sym("line"))),
            _set_path(path_inputs),
            (
                Sym("or"),
                (
                    Sym("git-fetch"),
                    (getenv, "git url"),
                    (getenv, "git commit"),
                    _OUT,
                    Kw("recursive?"),
                    Sym("recursive?"),
                    Kw("git-command"),
                    _program(git, "git"),
                ),
                (Sym("download-nar"), _OUT),
                (
                    Sym("and"),
                    (Sym("not"), Sym("recursive?")),
                    (Sym("swh-download"), (getenv, "git url"), (getenv, "git commit"), _OUT),
                ),
            ),
        )
    )


def git_builder_g1(url: str, commit: str, git: str, path_inputs: Sequence[str]) -> str:
    """Era G1 (2014-08 → 2016-12): ``<name>-builder`` with URL and commit quoted."""
    return write_datum(
        (
            Sym("begin"),
            _use("guix build git", "guix build utils"),
            _set_path(path_inputs),
            (
                Sym("git-fetch"),
                quote(url),
                quote(commit),
                _OUT,
                Kw("recursive?"),
                quote(False),
                Kw("git-command"),
                _program(git, "git"),
            ),
        )
    )


def _svn_keywords(svn: str) -> tuple[Datum, ...]:
    return (
        Kw("svn-command"),
        _program(svn, "svn"),
        Kw("recursive?"),
        True,
        Kw("user-name"),
        False,
        Kw("password"),
        False,
    )


def svn_builder_s1(url: str, revision: int, svn: str) -> str:
    """Era S1 (2014-08 → 2024): ``(svn-fetch (quote URL) (quote REV) OUT …)``."""
    return write_datum(
        (
            Sym("begin"),
            _use("guix build svn", "guix build utils"),
            (Sym("svn-fetch"), quote(url), quote(revision), _OUT, *_svn_keywords(svn)),
        )
    )


def svn_multi_builder(url: str, revision: int, locations: Sequence[str], svn: str) -> str:
    """``svn-multi-fetch`` (2019-07 → 2024): one ``svn-fetch`` per location."""
    location = Sym("location")
    return write_datum(
        (
            Sym("begin"),
            _use("guix build svn", "guix build utils", "srfi srfi-1"),
            (
                Sym("every"),
                (
                    Sym("lambda"),
                    (location,),
                    (
                        Sym("let"),
                        (
                            (
                                Sym("dir"),
                                (
                                    Sym("string-append"),
                                    _OUT,
                                    "/",
                                    (Sym("dirname"), location),
                                ),
                            ),
                        ),
                        (Sym("mkdir-p"), Sym("dir")),
                        (
                            Sym("svn-fetch"),
                            (Sym("string-append"), quote(url), "/", location),
                            quote(revision),
                            (
                                Sym("if"),
                                (Sym("string-suffix?"), "/", location),
                                (Sym("string-append"), _OUT, "/", location),
                                (
                                    Sym("string-append"),
                                    Sym("dir"),
                                    "/",
                                    (Sym("basename"), location),
                                ),
                            ),
                            *_svn_keywords(svn),
                        ),
                    ),
                ),
                quote(tuple(locations)),
            ),
        )
    )


def hg_builder_h1(url: str, changeset: str, hg: str) -> str:
    """Era H1 (2016-06 → 2024): ``(hg-fetch (quote URL) (quote CHANGESET) OUT …)``."""
    return write_datum(
        (
            Sym("begin"),
            _use("guix build hg", "guix build download-nar"),
            (
                Sym("or"),
                (
                    Sym("hg-fetch"),
                    quote(url),
                    quote(changeset),
                    _OUT,
                    Kw("hg-command"),
                    _program(hg, "hg"),
                ),
                (Sym("download-nar"), _OUT),
            ),
        )
    )


def bzr_download(bzr: str) -> str:
    """``bzr-fetch`` (2019-05 →): the shared ``bzr-download`` script (params in env)."""
    return write_datum(
        (
            Sym("begin"),
            _use("guix build bzr"),
            (
                Sym("bzr-fetch"),
                (Sym("getenv"), "bzr url"),
                (Sym("getenv"), "bzr reference"),
                _OUT,
                Kw("bzr-command"),
                _program(bzr, "bzr"),
            ),
        )
    )


def cvs_builder(root: str, module: str, revision: str, cvs: str) -> str:
    """``cvs-fetch`` (2015-02 →): ``(cvs-fetch (quote ROOT) (quote MODULE) (quote REV) OUT …)``."""
    return write_datum(
        (
            Sym("begin"),
            _use("guix build cvs", "guix build download-nar"),
            (
                Sym("or"),
                (
                    Sym("cvs-fetch"),
                    quote(root),
                    quote(module),
                    quote(revision),
                    _OUT,
                    Kw("cvs-command"),
                    _program(cvs, "cvs"),
                ),
                (Sym("download-nar"), _OUT),
            ),
        )
    )


def tarbomb_builder(tar: str, gzip: str, archive: str) -> str:
    """Outer derivation of ``url-fetch/tarbomb``: unpack into a fresh directory."""
    return write_datum(
        (
            Sym("begin"),
            _use("guix build utils"),
            (Sym("mkdir"), _OUT),
            (Sym("setenv"), "PATH", (Sym("string-append"), gzip, "/bin")),
            (Sym("chdir"), _OUT),
            (Sym("invoke"), _program(tar, "tar"), "xf", archive),
        )
    )


def zipbomb_builder(unzip: str, archive: str) -> str:
    """Outer derivation of ``url-fetch/zipbomb``: unzip into a fresh directory."""
    return write_datum(
        (
            Sym("begin"),
            _use("guix build utils"),
            (Sym("mkdir"), _OUT),
            (Sym("chdir"), _OUT),
            (Sym("invoke"), _program(unzip, "unzip"), archive),
        )
    )


def patch_and_repack_builder(
    source: str, patches: Sequence[str], tar: str, xz: str, patch: str, locales: str
) -> str:
    """A patched origin (``patch-and-repack``): unpack, patch, repack as ``.tar.xz``."""
    return write_datum(
        (
            Sym("begin"),
            _use("ice-9 ftw", "srfi srfi-1", "guix build utils"),
            (
                Sym("define"),
                (Sym("apply-patch"), Sym("patch")),
                (
                    Sym("format"),
                    (Sym("current-error-port"),),
                    "applying '~a'...~%",
                    Sym("patch"),
                ),
                (
                    Sym("invoke"),
                    _program(patch, "patch"),
                    "--force",
                    "--no-backup-if-mismatch",
                    "-p1",
                    "--input",
                    Sym("patch"),
                ),
            ),
            (Sym("setenv"), "GUIX_LOCPATH", (Sym("string-append"), locales, "/lib/locale")),
            (Sym("setlocale"), Sym("LC_ALL"), "en_US.utf8"),
            (
                Sym("setenv"),
                "PATH",
                (Sym("string-append"), xz, "/bin", ":", tar, "/bin"),
            ),
            (Sym("invoke"), _program(tar, "tar"), "xvf", source),
            (
                Sym("let"),
                (
                    (
                        Sym("directory"),
                        (
                            Sym("car"),
                            (
                                Sym("scandir"),
                                ".",
                                (
                                    Sym("lambda"),
                                    (Sym("name"),),
                                    (
                                        Sym("not"),
                                        (Sym("member"), Sym("name"), quote((".", ".."))),
                                    ),
                                ),
                            ),
                        ),
                    ),
                ),
                (
                    Sym("with-directory-excursion"),
                    Sym("directory"),
                    (Sym("for-each"), Sym("apply-patch"), quote(tuple(patches))),
                ),
                (
                    Sym("invoke"),
                    _program(tar, "tar"),
                    "cvfa",
                    _OUT,
                    "--mtime=@1",
                    "--owner=root:0",
                    "--group=root:0",
                    "--sort=name",
                    Sym("directory"),
                ),
            ),
        )
    )


def profile_builder(packages: Sequence[str]) -> str:
    """A 2020 ``profile`` derivation's script: the union of the packages."""
    return write_datum(
        (
            Sym("begin"),
            _use("guix build profiles", "guix search-paths", "srfi srfi-1"),
            (Sym("setvbuf"), (Sym("current-output-port"),), quote(Sym("line"))),
            (
                Sym("build-profile"),
                _OUT,
                quote(tuple(packages)),
                Kw("search-paths"),
                quote(()),
            ),
        )
    )


def build_bootstrap_guile_sh(mkdir: str, tar: str, xz: str) -> str:
    """The shell script that unpacks the bootstrap Guile (run by the bootstrap bash)."""
    return (
        "echo 'unpacking bootstrap Guile to '$out'...'\n"
        f"{mkdir} $out\n"
        "cd $out\n"
        f"{xz} -dc < $GUILE_TARBALL | {tar} xv\n"
        "\n"
        "# Run Guile to check that it works.\n"
        "$out/bin/guile --version\n"
    )
