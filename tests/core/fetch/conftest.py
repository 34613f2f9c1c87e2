# ruff: noqa: E501 - builder scripts are one-line Scheme data; splitting them hides their shape
"""Fixtures for the fetch tests: corpus FODs, and a hand-made store of every era.

The corpus has no builder scripts, so :class:`HandStore` writes realistic
ones (one line, as Guile's ``write`` prints them, §5/§6 of
guix-derivations.md) next to hand-made ``.drv`` files, for every fetch
method and era, plus the non-fixed kinds classification names.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from revive.core.aterm import read_derivation, serialize_derivation
from revive.core.derivation import Derivation, Output
from revive.core.derivation_hash import drv_path
from revive.core.errors import MissingStoreItem
from revive.core.fetch.spec import (
    BzrFetch,
    CvsFetch,
    Expected,
    FetchSpec,
    GitFetch,
    HgFetch,
    SvnFetch,
    SvnMultiFetch,
    UrlFetch,
)
from revive.core.store_path import fixed_output_path, text_path

STORE = "/gnu/store"
IMPURE = "http_proxy https_proxy LC_ALL LC_MESSAGES LANG COLUMNS"
GUILE = f"{STORE}/0123456789abcdfghijklmnpqrsvwxyz-guile-2.2.6"
GUILE_DRV = f"{STORE}/1123456789abcdfghijklmnpqrsvwxyz-guile-2.2.6.drv"
MODULES = f"{STORE}/2223456789abcdfghijklmnpqrsvwxyz-module-import"
COMPILED = f"{STORE}/3333456789abcdfghijklmnpqrsvwxyz-module-import-compiled"
COMPILED_DRV = f"{STORE}/4444456789abcdfghijklmnpqrsvwxyz-module-import-compiled.drv"
GIT = f"{STORE}/5555556789abcdfghijklmnpqrsvwxyz-git-minimal-2.26.0"
SVN = f"{STORE}/6666666789abcdfghijklmnpqrsvwxyz-subversion-1.10.6"
HG = f"{STORE}/7777777789abcdfghijklmnpqrsvwxyz-mercurial-5.0.2"
CVS = f"{STORE}/8888888889abcdfghijklmnpqrsvwxyz-cvs-1.12.13"
BZR = f"{STORE}/9999999999abcdfghijklmnpqrsvwxyz-bzr-2.7.0"


@dataclass
class Example:
    """One hand-made derivation with what classification/extraction must find."""

    path: str
    drv: Derivation
    method: str | None = None
    era: str = ""
    kind: str = "fod"
    spec: FetchSpec | None = None
    script: str | None = None
    wraps: str | None = None


@dataclass
class HandStore:
    """A directory standing for ``/gnu/store``, filled by hand."""

    root: Path
    examples: dict[str, Example] = field(default_factory=dict)

    def physical(self, path: str) -> Path:
        """Where store path ``path`` is on disk."""
        return self.root / path[len(STORE) + 1 :]

    def add_text(self, name: str, text: str | bytes) -> str:
        """Add a text item (no references); return its store path."""
        data = text.encode() if isinstance(text, str) else text
        path = text_path(name, data, (), STORE)
        self.physical(path).write_bytes(data)
        return path

    def add_drv(self, drv: Derivation) -> str:
        """Write ``drv`` as a ``.drv`` file; return its path."""
        path = drv_path(drv, STORE)
        self.physical(path).write_text(serialize_derivation(drv))
        return path

    def read_item(self, path: str) -> bytes:
        """``read_item`` for the fetch functions: the bytes, or MissingStoreItem."""
        file = self.physical(path)
        if not file.is_file():
            raise MissingStoreItem(path)
        return file.read_bytes()

    def load(self, path: str) -> Derivation:
        """Read back a ``.drv`` written here."""
        return read_derivation(str(self.physical(path)), path)


def expected(name: str, recursive: bool) -> Expected:
    """A made-up expected hash for ``name`` and its output path."""
    digest = hashlib.sha256(name.encode()).digest()
    return Expected(
        name,
        fixed_output_path(name, "sha256", digest, recursive, STORE),
        "sha256",
        digest,
        recursive,
    )


def fod(
    exp: Expected,
    builder: str,
    args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    input_drvs: tuple[tuple[str, tuple[str, ...]], ...] = (),
    input_srcs: tuple[str, ...] = (),
) -> Derivation:
    """A FOD with ``exp``'s output and the given recipe."""
    hash_algo = ("r:" if exp.recursive else "") + "sha256"
    output = Output("out", exp.output_path, hash_algo, exp.digest.hex())
    return _derivation(exp.name, output, builder, args, env, input_drvs, input_srcs)


def regular(
    name: str,
    builder: str = f"{GUILE}/bin/guile",
    args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    input_drvs: tuple[tuple[str, tuple[str, ...]], ...] = (),
    input_srcs: tuple[str, ...] = (),
) -> Derivation:
    """A non-fixed derivation (its output path is made up: classification ignores it)."""
    out = f"{STORE}/{hashlib.sha256(name.encode()).hexdigest()[:32].translate(str.maketrans('eotu', 'fpvw'))}-{name}"
    return _derivation(name, Output("out", out), builder, args, env, input_drvs, input_srcs)


def _derivation(
    name: str,
    output: Output,
    builder: str,
    args: tuple[str, ...],
    env: dict[str, str] | None,
    input_drvs: tuple[tuple[str, tuple[str, ...]], ...],
    input_srcs: tuple[str, ...],
) -> Derivation:
    """A derivation of one output ``out`` (also in its env), its lists sorted as Guix writes them."""
    full = dict(env or {})
    full["out"] = output.path
    return Derivation(
        name,
        (output,),
        tuple(sorted(input_drvs)),
        tuple(sorted(input_srcs)),
        "x86_64-linux",
        builder,
        args,
        tuple(sorted(full.items())),
    )


def _guile_args(script: str, compiled: bool = True) -> tuple[str, ...]:
    if compiled:
        return ("--no-auto-compile", "-L", MODULES, "-C", COMPILED, script)
    return ("--no-auto-compile", "-L", MODULES, script)


def _build(store: HandStore) -> None:
    ex = store.examples

    def add(label: str, example: Example) -> None:
        ex[label] = example

    def script_fod(
        label: str,
        name: str,
        recursive: bool,
        script_name: str,
        script: str,
        method: str,
        era: str,
        make_spec: Callable[[Expected], FetchSpec],
        env: dict[str, str] | None = None,
        guile_builder: bool = False,
    ) -> None:
        exp = expected(name, recursive)
        script_path = store.add_text(script_name, script.replace("OUT_PATH", exp.output_path))
        drv = fod(
            exp,
            f"{GUILE}/bin/guile",
            _guile_args(script_path, compiled=not guile_builder),
            dict(env or {}, **({"GUILE_LOAD_COMPILED_PATH": COMPILED} if guile_builder else {})),
            input_drvs=((GUILE_DRV, ("out",)), (COMPILED_DRV, ("out",))),
            input_srcs=(script_path, MODULES),
        )
        add(
            label,
            Example(store.add_drv(drv), drv, method, era, spec=make_spec(exp), script=script_path),
        )

    def in_band_fod(
        label: str,
        name: str,
        script_name: str,
        script: str,
        method: str,
        env: Callable[[Expected], dict[str, str]],
        make_spec: Callable[[Expected], FetchSpec],
    ) -> None:
        """A FOD of the shared-script era: a generic script, the parameters in ``env``."""
        exp = expected(name, True)
        script_path = store.add_text(script_name, script)
        drv = fod(exp, f"{GUILE}/bin/guile", _guile_args(script_path), env(exp),
                  input_drvs=((GUILE_DRV, ("out",)),), input_srcs=(script_path, MODULES))  # fmt: skip
        add(label, Example(store.add_drv(drv), drv, method, "in-band", spec=make_spec(exp)))

    # --- url-fetch ---------------------------------------------------------
    u0 = (
        '(begin (use-modules (guix build utils) (guix build download)) (define %output (getenv "out")) '
        '(define %outputs (list (cons "out" %output))) (define %build-inputs (quote (("guile" . "'
        + GUILE
        + '")))) (unsetenv "LD_LIBRARY_PATH"))(exit (begin (use-modules (guix build download)) '
        '(url-fetch (quote "mirror://gnu/hello/hello-2.8.tar.gz") %output #:mirrors (quote ((gnu '
        '"http://ftp.gnu.org/pub/gnu/" "ftp://ftp.cs.tu-berlin.de/pub/gnu/") (xorg "http://xorg.freedesktop.org/releases/") '
        '(oldkind "http://old.example.org/pub/"))))))'
    )
    script_fod(
        "url-U0", "hello-2.8.tar.gz", False, "hello-2.8.tar.gz-guile-builder", u0,
        "url-fetch", "guile-builder",
        lambda e: UrlFetch(
            e, ("mirror://gnu/hello/hello-2.8.tar.gz",),
            embedded_mirrors=(
                ("gnu", ("http://ftp.gnu.org/pub/gnu/", "ftp://ftp.cs.tu-berlin.de/pub/gnu/")),
                ("xorg", ("http://xorg.freedesktop.org/releases/",)),
                ("oldkind", ("http://old.example.org/pub/",)),
            ),
        ),
        guile_builder=True,
    )  # fmt: skip
    u1 = (
        '(begin #t (use-modules (guix build download)) (url-fetch (quote ("http://example.org/f-1.0.tar.gz" '
        '"mirror://oldkind/f/f-1.0.tar.gz")) ((@ (guile) getenv) "out") #:mirrors (quote ((gnu '
        '"http://ftp.gnu.org/pub/gnu/") (oldkind "http://old.example.org/pub/" "ftp://old.example.org/")))))'
    )
    script_fod(
        "url-U1", "f-1.0.tar.gz", False, "f-1.0.tar.gz-builder", u1, "url-fetch", "script",
        lambda e: UrlFetch(
            e, ("http://example.org/f-1.0.tar.gz", "mirror://oldkind/f/f-1.0.tar.gz"),
            embedded_mirrors=(
                ("gnu", ("http://ftp.gnu.org/pub/gnu/",)),
                ("oldkind", ("http://old.example.org/pub/", "ftp://old.example.org/")),
            ),
        ),
    )  # fmt: skip
    # U2: the shared `download` script; parameters in the environment.
    exp = expected("g-2.0.tar.xz", False)
    mirrors = store.add_text(
        "mirrors",
        '((gnu "http://ftp.gnu.org/pub/gnu/") (savannah "http://download.savannah.gnu.org/releases/"))',
    )
    ca = store.add_text(
        "content-addressed-mirrors",
        "(begin (use-modules (guix base32)) (list (lambda (algo hash) (string-append "
        '"http://tarballs.nixos.org/" (symbol->string algo) "/" (bytevector->nix-base32-string hash)))))',
    )
    download = store.add_text(
        "download",
        "(begin (use-modules (guix build download) (guix base32)) (let ((value-from-environment "
        "(lambda (variable) (call-with-input-string (getenv variable) read)))) (url-fetch "
        '(value-from-environment "guix download url") ((@ (guile) getenv) "out") #:mirrors '
        '(call-with-input-file "' + mirrors + '" read))))',
    )
    drv = fod(
        exp,
        f"{GUILE}/bin/guile",
        _guile_args(download),
        {
            "guix download url": '("mirror://gnu/g/g-2.0.tar.xz" "http://example.org/g-2.0.tar.xz")',
            "guix download hashes": "((sha256 . #vu8("
            + " ".join(str(b) for b in exp.digest)
            + ")))",
            "impureEnvVars": "http_proxy https_proxy",
            "preferLocalBuild": "1",
        },
        input_drvs=((GUILE_DRV, ("out",)), (COMPILED_DRV, ("out",))),
        input_srcs=(download, mirrors, ca, MODULES),
    )
    add("url-U2", Example(
        store.add_drv(drv), drv, "url-fetch", "in-band",
        spec=UrlFetch(exp, ("mirror://gnu/g/g-2.0.tar.xz", "http://example.org/g-2.0.tar.xz"),
                      mirrors_file=mirrors, content_addressed_mirrors_file=ca),
    ))  # fmt: skip

    # --- git-fetch -----------------------------------------------------------
    g0 = (
        '(begin (define %output (getenv "out")) (define %build-inputs (quote (("git" . "'
        + GIT
        + '")))))'
        '(exit (begin (use-modules (guix build git)) (git-fetch (quote "git://git.example.org/r.git") '
        '(quote "0123456789abcdef0123456789abcdef01234567") %output #:recursive? (quote #f) '
        '#:git-command (quote "' + GIT + '/bin/git"))))'
    )
    script_fod(
        "git-G0", "r-0.1-checkout", True, "r-0.1-checkout-guile-builder", g0, "git-fetch",
        "guile-builder",
        lambda e: GitFetch(e, "git://git.example.org/r.git", "0123456789abcdef0123456789abcdef01234567", False),
        guile_builder=True,
    )  # fmt: skip
    # G1 with odd strings: escaped quotes, non-ASCII, \x41; and \u escapes.
    g1 = (
        '(begin (use-modules (guix build git) (guix build utils)) (set-path-environment-variable "PATH" '
        '(quote ("bin")) (list "'
        + GIT
        + '")) (git-fetch (quote "https://example.org/caf\\u00e9/\\"q\\".git") '
        '(quote "v1.0-\\x41;é") ((@ (guile) getenv) "out") #:recursive? (quote #t) #:git-command '
        '(string-append "' + GIT + '" "/bin/git")))'
    )
    script_fod(
        "git-G1", "s-1.0-checkout", True, "s-1.0-checkout-builder", g1, "git-fetch", "script",
        lambda e: GitFetch(e, 'https://example.org/café/"q".git', "v1.0-Aé", True),
    )  # fmt: skip
    # G3: the 2023-2024 in-band form (git lfs?, hash).
    in_band_fod(
        "git-G3", "t-2.0-checkout", "git-download",
        "(begin (use-modules (guix build git) (guix build utils)) (git-fetch-with-fallback "
        '(getenv "git url") (getenv "git commit") ((@ (guile) getenv) "out") #:recursive? '
        '(call-with-input-string (getenv "git recursive?") read) #:git-command "'
        + GIT
        + '/bin/git"))',
        "git-fetch",
        lambda e: {"git url": "https://example.org/t.git", "git commit": "v2.0",
                   "git recursive?": "#t", "git lfs?": "#f",
                   "hash": ",".join(str(b) for b in e.digest),
                   "impureEnvVars": IMPURE, "preferLocalBuild": "1"},
        lambda e: GitFetch(e, "https://example.org/t.git", "v2.0", True),
    )  # fmt: skip
    # G4: builtin:git-download.
    exp = expected("u-3.0-checkout", True)
    drv = fod(exp, "builtin:git-download", (), {
        "url": '"https://example.org/u.git"', "commit": "abc123", "recursive?": "#f",
        "impureEnvVars": IMPURE, "preferLocalBuild": "1"})  # fmt: skip
    add(
        "git-G4",
        Example(
            store.add_drv(drv),
            drv,
            "git-fetch",
            "builtin",
            spec=GitFetch(exp, "https://example.org/u.git", "abc123", False),
        ),
    )

    # --- svn ------------------------------------------------------------------
    s0 = (
        '(begin (define %output (getenv "out")))(exit (begin (use-modules (guix build svn)) '
        '(svn-fetch (quote "svn://svn.example.org/x/trunk") (quote 1234) %output '
        '#:svn-command (quote "' + SVN + '/bin/svn"))))'
    )
    script_fod(
        "svn-S0", "x-1234-svn", True, "x-1234-svn-guile-builder", s0, "svn-fetch", "guile-builder",
        lambda e: SvnFetch(e, "svn://svn.example.org/x/trunk", 1234, True),
        guile_builder=True,
    )  # fmt: skip
    s1 = (
        "(begin (use-modules (guix build svn)) ; a hand-written comment\n"
        '(svn-fetch (quote "https://svn.example.org/y/trunk") (quote 4321) ((@ (guile) getenv) "out") '
        '#:svn-command (string-append "' + SVN + '" "/bin/svn") #:recursive? #f '
        '#:user-name "anon\\"ymous" #:password #f))'
    )
    script_fod(
        "svn-S1", "y-4321-checkout", True, "y-4321-checkout-builder", s1, "svn-fetch", "script",
        lambda e: SvnFetch(e, "https://svn.example.org/y/trunk", 4321, False, 'anon"ymous', None),
    )  # fmt: skip
    multi = (
        "(begin (use-modules (guix build svn) (guix build utils) (srfi srfi-1)) (mkdir-p "
        '((@ (guile) getenv) "out")) (with-directory-excursion ((@ (guile) getenv) "out") '
        "(every (lambda (location) (mkdir-p (dirname location)) (svn-fetch (string-append "
        '(quote "svn://www.tug.org/texlive/tags/texlive-2019.3/Master/texmf-dist") "/" location) '
        '(quote 51265) (if (string-suffix? "/" location) (string-append ((@ (guile) getenv) "out") '
        '"/" location) (string-append ((@ (guile) getenv) "out") "/" (dirname location))) '
        '#:svn-command (string-append "' + SVN + '" "/bin/svn") #:recursive? #f #:user-name #f '
        '#:password #f)) (quote ("doc/fonts/ae/" "fonts/tfm/public/ae/" "tex/latex/ae/README")))))'
    )
    script_fod(
        "svn-multi-script", "texlive-ae-51265-checkout", True, "texlive-ae-51265-checkout-builder",
        multi, "svn-multi-fetch", "script",
        lambda e: SvnMultiFetch(
            e, "svn://www.tug.org/texlive/tags/texlive-2019.3/Master/texmf-dist", 51265,
            ("doc/fonts/ae/", "fonts/tfm/public/ae/", "tex/latex/ae/README"), False,
        ),
        env={"impureEnvVars": IMPURE, "preferLocalBuild": "1"},
    )  # fmt: skip
    in_band_fod(
        "svn-in-band", "z-99-checkout", "svn-download",
        '(begin (use-modules (guix build svn)) (svn-fetch (getenv "svn url") (string->number (getenv "svn revision")) ((@ (guile) getenv) "out")))',
        "svn-fetch",
        lambda e: {"svn url": "https://svn.example.org/z", "svn revision": "99",
                   "svn recursive?": "yes", "svn user name": "u", "svn password": "p",
                   "impureEnvVars": IMPURE, "preferLocalBuild": "1"},
        lambda e: SvnFetch(e, "https://svn.example.org/z", 99, True, "u", "p"),
    )  # fmt: skip
    in_band_fod(
        "svn-multi-in-band", "w-7-checkout", "svn-multi-download",
        "(begin (use-modules (guix build svn)) #t)",
        "svn-multi-fetch",
        lambda e: {"svn url": "https://svn.example.org/w", "svn revision": "7",
                   "svn locations": '("a/" "b/c.txt")', "hash": "1,2,3",
                   "impureEnvVars": IMPURE, "preferLocalBuild": "1"},
        lambda e: SvnMultiFetch(e, "https://svn.example.org/w", 7, ("a/", "b/c.txt"), False),
    )  # fmt: skip

    # --- hg, bzr, cvs -------------------------------------------------------
    h1 = (
        "(begin (use-modules (guix build hg) (guix build download-nar)) (or (hg-fetch (quote "
        '"https://hg.example.org/seek") (quote "a1b2c3d4e5f6") ((@ (guile) getenv) "out") '
        '#:hg-command (string-append "'
        + HG
        + '" "/bin/hg")) (download-nar ((@ (guile) getenv) "out")) '
        '(swh-download "https://hg.example.org/seek" "a1b2c3d4e5f6" ((@ (guile) getenv) "out"))))'
    )
    script_fod(
        "hg-H1", "seek-1.0-checkout", True, "seek-1.0-checkout-builder", h1, "hg-fetch", "script",
        lambda e: HgFetch(e, "https://hg.example.org/seek", "a1b2c3d4e5f6"),
    )  # fmt: skip
    in_band_fod(
        "hg-in-band", "seek-2.0-checkout", "seek-2.0-checkout-builder",
        '(begin (use-modules (guix build hg)) (hg-fetch (getenv "hg ref url") (getenv "hg ref changeset") ((@ (guile) getenv) "out")))',
        "hg-fetch",
        lambda e: {"hg ref url": "https://hg.example.org/seek", "hg ref changeset": "ffee",
                   "hash": "1,2", "impureEnvVars": IMPURE, "preferLocalBuild": "1"},
        lambda e: HgFetch(e, "https://hg.example.org/seek", "ffee"),
    )  # fmt: skip
    in_band_fod(
        "bzr-in-band", "bzr-branch", "bzr-download",
        '(begin (use-modules (guix build bzr)) (bzr-fetch (getenv "bzr url") (getenv "bzr reference") ((@ (guile) getenv) "out") #:bzr-command (string-append "'
        + BZR
        + '" "/bin/bzr")))',
        "bzr-fetch",
        lambda e: {"bzr url": "lp:example", "bzr reference": "42", "preferLocalBuild": "1"},
        lambda e: BzrFetch(e, "lp:example", "42"),
    )  # fmt: skip
    cvs = (
        "(begin (use-modules (guix build cvs) (guix build download-nar)) (or (cvs-fetch (quote "
        '":pserver:anonymous@cvs.savannah.gnu.org:/sources/x") (quote "x") (quote "2019-01-01") '
        '((@ (guile) getenv) "out") #:cvs-command (string-append "' + CVS + '" "/bin/cvs")) '
        '(download-nar ((@ (guile) getenv) "out"))))'
    )
    script_fod(
        "cvs-script", "x-2019-checkout", True, "x-2019-checkout-builder", cvs, "cvs-fetch", "script",
        lambda e: CvsFetch(e, ":pserver:anonymous@cvs.savannah.gnu.org:/sources/x", "x", "2019-01-01"),
    )  # fmt: skip

    # --- non-fixed derivations ------------------------------------------------
    def download(name: str, url: str, **env: str) -> tuple[Expected, Derivation, str]:
        """A builtin:download FOD of ``url`` (what a wrapper wraps), in the store."""
        exp = expected(name, False)
        drv = fod(exp, "builtin:download", (), {"url": f'"{url}"', **env})
        return exp, drv, store.add_drv(drv)

    def wrapper(label: str, outer: Derivation, method: str | None, kind: str, wraps: str) -> None:
        add(label, Example(store.add_drv(outer), outer, method, "", kind, wraps=wraps))

    inner, inner_drv, inner_path = download(
        "tarbomb-bomb-1.0.tar.gz", "https://example.org/bomb-1.0.tar.gz",
        impureEnvVars=IMPURE, preferLocalBuild="1",
    )  # fmt: skip
    add(
        "tarbomb-inner",
        Example(
            inner_path,
            inner_drv,
            "url-fetch",
            "builtin",
            spec=UrlFetch(inner, ("https://example.org/bomb-1.0.tar.gz",)),
        ),
    )
    outer = regular(
        "bomb-1.0.tar.gz", args=_guile_args(f"{STORE}/aaaa456789abcdfghijklmnpqrsvwxyz-bomb-1.0.tar.gz-builder"),
        env={"preferLocalBuild": "1"}, input_drvs=((GUILE_DRV, ("out",)), (inner_path, ("out",))),
    )  # fmt: skip
    wrapper("tarbomb", outer, "url-fetch/tarbomb", "tarbomb", inner_path)
    _, _, zpath = download("zipbomb-z-1.0.zip", "https://example.org/z-1.0.zip")
    zouter = regular("z-1.0.zip", args=_guile_args(f"{STORE}/bbbb456789abcdfghijklmnpqrsvwxyz-z-1.0.zip-builder"),
                     input_drvs=((zpath, ("out",)), (GUILE_DRV, ("out",))))  # fmt: skip
    wrapper("zipbomb", zouter, "url-fetch/zipbomb", "zipbomb", zpath)
    # A patched origin from before 2019: no 'guix properties'.
    _, _, src_path = download("p-1.0.tar.gz", "https://example.org/p-1.0.tar.gz")
    tar_drv = f"{STORE}/cccc456789abcdfghijklmnpqrsvwxyz-tar-1.32.drv"
    patched = regular(
        "p-1.0.tar.xz", args=_guile_args(f"{STORE}/dddd456789abcdfghijklmnpqrsvwxyz-p-1.0.tar.xz-builder"),
        input_drvs=((src_path, ("out",)), (tar_drv, ("out",)), (GUILE_DRV, ("out",))),
        input_srcs=(f"{STORE}/ffff456789abcdfghijklmnpqrsvwxyz-p-fix.patch",),
    )  # fmt: skip
    wrapper("patched-old", patched, None, "patched-source", src_path)
    graft = regular("hello-2.12.1", env={"guix properties": "((type . graft) (graft (count . 2)))",
                                         "allowSubstitutes": "0", "preferLocalBuild": "1"})  # fmt: skip
    add("graft", Example(store.add_drv(graft), graft, None, "", "graft"))
    hook = regular("info-dir", env={"guix properties": "((type . profile-hook) (hook . info-dir))"})
    add("profile-hook", Example(store.add_drv(hook), hook, None, "", "profile"))
    profile = regular("profile", env={"allowSubstitutes": "0", "preferLocalBuild": "1"})
    add("profile", Example(store.add_drv(profile), profile, None, "", "profile"))
    other = regular("weird", builder="/bin/sh", args=("-c", "echo > $out"))
    add("other", Example(store.add_drv(other), other, None, "", "other"))
    raw = fod(expected("raw.txt", False), "/bin/sh", ("-c", "echo hi > $out"))
    add("raw-fod", Example(store.add_drv(raw), raw, "unknown", "raw"))


FOD_LABELS = (
    "url-U0", "url-U1", "url-U2", "git-G0", "git-G1", "git-G3", "git-G4", "svn-S0", "svn-S1",
    "svn-multi-script", "svn-in-band", "svn-multi-in-band", "hg-H1", "hg-in-band",
    "bzr-in-band", "cvs-script", "tarbomb-inner",
)  # fmt: skip
"""The hand-made FODs of a known method, one per method and era."""


@pytest.fixture(scope="session")
def fod_labels() -> tuple[str, ...]:
    """:data:`FOD_LABELS`: the hand-made FODs of a known method."""
    return FOD_LABELS


@pytest.fixture(params=FOD_LABELS)
def fod_label(request: pytest.FixtureRequest) -> str:
    """Each of :data:`FOD_LABELS` in turn (the test runs once per label)."""
    return str(request.param)


@pytest.fixture(params=(*FOD_LABELS, "raw-fod"))
def era_label(request: pytest.FixtureRequest) -> str:
    """Each hand-made FOD in turn, the one of an unknown method too."""
    return str(request.param)


@pytest.fixture(scope="session")
def hand_store(tmp_path_factory: pytest.TempPathFactory) -> HandStore:
    """A store directory with hand-made FODs of every method and era (see ``_build``)."""
    store = HandStore(tmp_path_factory.mktemp("store"))
    _build(store)
    return store


@pytest.fixture(scope="session")
def corpus_fods(guix2020_store: Path) -> list[tuple[str, Derivation]]:
    """Every fixed-output derivation of the 2020 corpus, as ``(drv path, derivation)``."""
    found = []
    for file in sorted(guix2020_store.glob("*.drv")):
        path = f"{STORE}/{file.name}"
        drv = read_derivation(str(file), path)
        if drv.is_fixed_output:
            found.append((path, drv))
    return found


@pytest.fixture(scope="session")
def corpus_derivations(guix2020_store: Path) -> dict[str, Derivation]:
    """Every derivation of the 2020 corpus, by ``.drv`` path."""
    return {
        f"{STORE}/{file.name}": read_derivation(str(file), f"{STORE}/{file.name}")
        for file in sorted(guix2020_store.glob("*.drv"))
    }
