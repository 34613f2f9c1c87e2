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
from revive.core.fetch.scheme import Datum, DottedList, Keyword, Symbol, write_datum

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


def quote(value: Datum) -> Datum:
    """``(quote value)``: how ``write`` prints ``'value``."""
    return (Symbol("quote"), value)


def getenv_out(output: str = "out") -> Datum:
    """``((@ (guile) getenv) "out")``: how a gexp refers to its own output."""
    return ((Symbol("@"), (Symbol("guile"),), Symbol("getenv")), output)


_OUT = getenv_out()


def _use(*modules: str) -> Datum:
    return (Symbol("use-modules"), *(tuple(Symbol(p) for p in m.split()) for m in modules))


def _program(package_out: str, program: str) -> Datum:
    return (Symbol("string-append"), package_out, "/bin/" + program)


def _set_path(inputs: Sequence[str]) -> Datum:
    return (
        Symbol("set-path-environment-variable"),
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
        Symbol("begin"),
        _use("guix build utils"),
        (Symbol("define"), Symbol("%output"), (Symbol("getenv"), "out")),
        (
            Symbol("define"),
            Symbol("%outputs"),
            (
                Symbol("map"),
                (
                    Symbol("lambda"),
                    (Symbol("o"),),
                    (Symbol("cons"), Symbol("o"), (Symbol("getenv"), Symbol("o"))),
                ),
                quote(tuple(outputs)),
            ),
        ),
        (
            Symbol("define"),
            Symbol("%build-inputs"),
            quote(tuple(_pair(label, path) for label, path in build_inputs)),
        ),
        (Symbol("define"), Symbol("%build-target-inputs"), quote(())),
        (Symbol("unsetenv"), "LD_LIBRARY_PATH"),
    )
    return write_datum(prologue) + write_datum((Symbol("exit"), (Symbol("begin"), body)))


def _pair(label: str, path: str) -> Datum:
    return DottedList((label,), path)


def gnu_build_body(source: str, system: str, phases_note: str) -> Datum:
    """The body of a ``gnu-build-system`` package's ``-guile-builder``."""
    return (
        Symbol("begin"),
        _use("guix build gnu-build-system", "guix build utils"),
        (
            Symbol("gnu-build"),
            Keyword("source"),
            source,
            Keyword("system"),
            system,
            Keyword("outputs"),
            Symbol("%outputs"),
            Keyword("inputs"),
            Symbol("%build-inputs"),
            Keyword("search-paths"),
            quote(()),
            Keyword("phases"),
            Symbol("%standard-phases"),
            Keyword("locale"),
            "en_US.utf8",
            Keyword("configure-flags"),
            quote((phases_note,) if phases_note else ()),
            Keyword("make-flags"),
            quote(()),
            Keyword("tests?"),
            True,
            Keyword("strip-binaries?"),
            True,
        ),
    )


def module_import_script(files: Sequence[tuple[str, str]], gexp: bool) -> str:
    """Copies each module file to its place under ``out`` (``module-import``)."""
    body = (
        Symbol("begin"),
        _use("ice-9 match"),
        (Symbol("mkdir"), _OUT if gexp else Symbol("%output")),
        (Symbol("chdir"), _OUT if gexp else Symbol("%output")),
        (
            Symbol("for-each"),
            (
                Symbol("match-lambda"),
                (
                    _pair_pattern(),
                    (Symbol("mkdir-p"), (Symbol("dirname"), Symbol("final-path"))),
                    (Symbol("copy-file"), Symbol("store-path"), Symbol("final-path")),
                ),
            ),
            quote(tuple(_pair(final, store) for final, store in files)),
        ),
    )
    if gexp:
        return write_datum(body)
    return guile_builder(body, (), ("out",))


def _pair_pattern() -> Datum:
    return DottedList((Symbol("final-path"),), Symbol("store-path"))


def module_import_compiled_script(modules: Sequence[str], module_import: str) -> str:
    """Compiles every imported module into ``out`` (``module-import-compiled``)."""
    return write_datum(
        (
            Symbol("begin"),
            _use("system base compile", "guix build utils"),
            (Symbol("add-to-load-path"), module_import),
            (Symbol("mkdir"), _OUT),
            (
                Symbol("for-each"),
                (
                    Symbol("lambda"),
                    (Symbol("file"),),
                    (
                        Symbol("compile-file"),
                        (Symbol("string-append"), module_import, "/", Symbol("file")),
                        Keyword("output-file"),
                        (
                            Symbol("string-append"),
                            _OUT,
                            "/",
                            (Symbol("string-drop-right"), Symbol("file"), 4),
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
            Symbol("begin"),
            True,
            _use("guix build download"),
            (
                Symbol("url-fetch"),
                quote(url),
                _OUT,
                Keyword("mirrors"),
                quote(mirrors_datum(mirrors)),
            ),
        )
    )


def download_u2(mirrors_file: str, ca_mirrors_file: str) -> str:
    """Era U2 (2015-08 → 2017-08): the shared in-band ``download`` script."""
    from_env = Symbol("value-from-environment")
    return write_datum(
        (
            Symbol("begin"),
            _use("guix build download", "guix base32"),
            (
                Symbol("let*"),
                (
                    (
                        from_env,
                        (
                            Symbol("lambda"),
                            (Symbol("variable"),),
                            (
                                Symbol("call-with-input-string"),
                                (Symbol("getenv"), Symbol("variable")),
                                Symbol("read"),
                            ),
                        ),
                    ),
                    (Symbol("url"), (from_env, "guix download url")),
                    (Symbol("output"), _OUT),
                    (
                        Symbol("mirrors"),
                        (Symbol("call-with-input-file"), mirrors_file, Symbol("read")),
                    ),
                    (
                        Symbol("content-addressed-mirrors"),
                        (Symbol("primitive-load"), ca_mirrors_file),
                    ),
                ),
                (
                    Symbol("url-fetch"),
                    Symbol("url"),
                    Symbol("output"),
                    Keyword("mirrors"),
                    Symbol("mirrors"),
                    Keyword("content-addressed-mirrors"),
                    Symbol("content-addressed-mirrors"),
                    Keyword("hashes"),
                    (from_env, "guix download hashes"),
                ),
            ),
        )
    )


def git_download_g2(path_inputs: Sequence[str], git: str) -> str:
    """Era G2 (2016-12 →): the shared ``git-download`` script (params in env)."""
    getenv = Symbol("getenv")
    return write_datum(
        (
            Symbol("begin"),
            _use(
                "guix build git",
                "guix build utils",
                "guix build download-nar",
                "guix swh",
                "ice-9 match",
            ),
            (
                Symbol("define"),
                Symbol("recursive?"),
                (
                    Symbol("call-with-input-string"),
                    (getenv, "git recursive?"),
                    Symbol("read"),
                ),
            ),
            (Symbol("setvbuf"), (Symbol("current-output-port"),), quote(Symbol("line"))),
            (Symbol("setvbuf"), (Symbol("current-error-port"),), quote(Symbol("line"))),
            _set_path(path_inputs),
            (
                Symbol("or"),
                (
                    Symbol("git-fetch"),
                    (getenv, "git url"),
                    (getenv, "git commit"),
                    _OUT,
                    Keyword("recursive?"),
                    Symbol("recursive?"),
                    Keyword("git-command"),
                    _program(git, "git"),
                ),
                (Symbol("download-nar"), _OUT),
                (
                    Symbol("and"),
                    (Symbol("not"), Symbol("recursive?")),
                    (Symbol("swh-download"), (getenv, "git url"), (getenv, "git commit"), _OUT),
                ),
            ),
        )
    )


def git_builder_g1(url: str, commit: str, git: str, path_inputs: Sequence[str]) -> str:
    """Era G1 (2014-08 → 2016-12): ``<name>-builder`` with URL and commit quoted."""
    return write_datum(
        (
            Symbol("begin"),
            _use("guix build git", "guix build utils"),
            _set_path(path_inputs),
            (
                Symbol("git-fetch"),
                quote(url),
                quote(commit),
                _OUT,
                Keyword("recursive?"),
                quote(False),
                Keyword("git-command"),
                _program(git, "git"),
            ),
        )
    )


def _svn_keywords(svn: str) -> tuple[Datum, ...]:
    return (
        Keyword("svn-command"),
        _program(svn, "svn"),
        Keyword("recursive?"),
        True,
        Keyword("user-name"),
        False,
        Keyword("password"),
        False,
    )


def svn_builder_s1(url: str, revision: int, svn: str) -> str:
    """Era S1 (2014-08 → 2024): ``(svn-fetch (quote URL) (quote REV) OUT …)``."""
    return write_datum(
        (
            Symbol("begin"),
            _use("guix build svn", "guix build utils"),
            (Symbol("svn-fetch"), quote(url), quote(revision), _OUT, *_svn_keywords(svn)),
        )
    )


def svn_multi_builder(url: str, revision: int, locations: Sequence[str], svn: str) -> str:
    """``svn-multi-fetch`` (2019-07 → 2024): one ``svn-fetch`` per location."""
    location = Symbol("location")
    return write_datum(
        (
            Symbol("begin"),
            _use("guix build svn", "guix build utils", "srfi srfi-1"),
            (
                Symbol("every"),
                (
                    Symbol("lambda"),
                    (location,),
                    (
                        Symbol("let"),
                        (
                            (
                                Symbol("dir"),
                                (
                                    Symbol("string-append"),
                                    _OUT,
                                    "/",
                                    (Symbol("dirname"), location),
                                ),
                            ),
                        ),
                        (Symbol("mkdir-p"), Symbol("dir")),
                        (
                            Symbol("svn-fetch"),
                            (Symbol("string-append"), quote(url), "/", location),
                            quote(revision),
                            (
                                Symbol("if"),
                                (Symbol("string-suffix?"), "/", location),
                                (Symbol("string-append"), _OUT, "/", location),
                                (
                                    Symbol("string-append"),
                                    Symbol("dir"),
                                    "/",
                                    (Symbol("basename"), location),
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
            Symbol("begin"),
            _use("guix build hg", "guix build download-nar"),
            (
                Symbol("or"),
                (
                    Symbol("hg-fetch"),
                    quote(url),
                    quote(changeset),
                    _OUT,
                    Keyword("hg-command"),
                    _program(hg, "hg"),
                ),
                (Symbol("download-nar"), _OUT),
            ),
        )
    )


def bzr_download(bzr: str) -> str:
    """``bzr-fetch`` (2019-05 →): the shared ``bzr-download`` script (params in env)."""
    return write_datum(
        (
            Symbol("begin"),
            _use("guix build bzr"),
            (
                Symbol("bzr-fetch"),
                (Symbol("getenv"), "bzr url"),
                (Symbol("getenv"), "bzr reference"),
                _OUT,
                Keyword("bzr-command"),
                _program(bzr, "bzr"),
            ),
        )
    )


def cvs_builder(root: str, module: str, revision: str, cvs: str) -> str:
    """``cvs-fetch`` (2015-02 →): ``(cvs-fetch (quote ROOT) (quote MODULE) (quote REV) OUT …)``."""
    return write_datum(
        (
            Symbol("begin"),
            _use("guix build cvs", "guix build download-nar"),
            (
                Symbol("or"),
                (
                    Symbol("cvs-fetch"),
                    quote(root),
                    quote(module),
                    quote(revision),
                    _OUT,
                    Keyword("cvs-command"),
                    _program(cvs, "cvs"),
                ),
                (Symbol("download-nar"), _OUT),
            ),
        )
    )


def tarbomb_builder(tar: str, gzip: str, archive: str) -> str:
    """Outer derivation of ``url-fetch/tarbomb``: unpack into a fresh directory."""
    return write_datum(
        (
            Symbol("begin"),
            _use("guix build utils"),
            (Symbol("mkdir"), _OUT),
            (Symbol("setenv"), "PATH", (Symbol("string-append"), gzip, "/bin")),
            (Symbol("chdir"), _OUT),
            (Symbol("invoke"), _program(tar, "tar"), "xf", archive),
        )
    )


def zipbomb_builder(unzip: str, archive: str) -> str:
    """Outer derivation of ``url-fetch/zipbomb``: unzip into a fresh directory."""
    return write_datum(
        (
            Symbol("begin"),
            _use("guix build utils"),
            (Symbol("mkdir"), _OUT),
            (Symbol("chdir"), _OUT),
            (Symbol("invoke"), _program(unzip, "unzip"), archive),
        )
    )


def patch_and_repack_builder(
    source: str, patches: Sequence[str], tar: str, xz: str, patch: str, locales: str
) -> str:
    """A patched origin (``patch-and-repack``): unpack, patch, repack as ``.tar.xz``."""
    return write_datum(
        (
            Symbol("begin"),
            _use("ice-9 ftw", "srfi srfi-1", "guix build utils"),
            (
                Symbol("define"),
                (Symbol("apply-patch"), Symbol("patch")),
                (
                    Symbol("format"),
                    (Symbol("current-error-port"),),
                    "applying '~a'...~%",
                    Symbol("patch"),
                ),
                (
                    Symbol("invoke"),
                    _program(patch, "patch"),
                    "--force",
                    "--no-backup-if-mismatch",
                    "-p1",
                    "--input",
                    Symbol("patch"),
                ),
            ),
            (Symbol("setenv"), "GUIX_LOCPATH", (Symbol("string-append"), locales, "/lib/locale")),
            (Symbol("setlocale"), Symbol("LC_ALL"), "en_US.utf8"),
            (
                Symbol("setenv"),
                "PATH",
                (Symbol("string-append"), xz, "/bin", ":", tar, "/bin"),
            ),
            (Symbol("invoke"), _program(tar, "tar"), "xvf", source),
            (
                Symbol("let"),
                (
                    (
                        Symbol("directory"),
                        (
                            Symbol("car"),
                            (
                                Symbol("scandir"),
                                ".",
                                (
                                    Symbol("lambda"),
                                    (Symbol("name"),),
                                    (
                                        Symbol("not"),
                                        (Symbol("member"), Symbol("name"), quote((".", ".."))),
                                    ),
                                ),
                            ),
                        ),
                    ),
                ),
                (
                    Symbol("with-directory-excursion"),
                    Symbol("directory"),
                    (Symbol("for-each"), Symbol("apply-patch"), quote(tuple(patches))),
                ),
                (
                    Symbol("invoke"),
                    _program(tar, "tar"),
                    "cvfa",
                    _OUT,
                    "--mtime=@1",
                    "--owner=root:0",
                    "--group=root:0",
                    "--sort=name",
                    Symbol("directory"),
                ),
            ),
        )
    )


def profile_builder(packages: Sequence[str]) -> str:
    """A 2020 ``profile`` derivation's script: the union of the packages."""
    return write_datum(
        (
            Symbol("begin"),
            _use("guix build profiles", "guix search-paths", "srfi srfi-1"),
            (Symbol("setvbuf"), (Symbol("current-output-port"),), quote(Symbol("line"))),
            (
                Symbol("build-profile"),
                _OUT,
                quote(tuple(packages)),
                Keyword("search-paths"),
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
