"""Mirror data and the three mirror files (guix-derivations.md §7)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from revive.core import base32
from revive.core.errors import SchemeError
from revive.core.fetch.mirrors import (
    MirrorConfig,
    MirrorError,
    content_addressed_urls,
    default_mirror_config,
    disarchive_urls,
    expand_url,
    expand_urls,
    load_mirror_config,
    parse_mirrors,
    write_content_addressed_mirrors,
    write_disarchive_mirrors,
    write_mirrors,
)
from revive.core.fetch.scheme import read_one

HELLO_HASH = bytes.fromhex("8d99142afd92576f30b0cd7cb42a8dc6809998bc5d607d88761f512e26c7db20")
HELLO_NIX32 = "086vqwk2wl8zfs47sq2xpjc9k066ilmb8z6dn0q6ymwjzlm196cd"

# A content-addressed-mirrors file in the shape Guix wrote in 2022 (§7.2),
# written here for the test: a helper procedure, then the list.
GUIX_2022_STYLE = (
    "(begin (use-modules (guix base16) (guix base32)) (define (guix-publish host) (lambda (file "
    'algo hash) (string-append "https://" host "/file/" file "/" (symbol->string algo) "/" '
    '(bytevector->nix-base32-string hash)))) (list (guix-publish "ci.guix.gnu.org") (lambda '
    '(file algo hash) (string-append "https://tarballs.nixos.org/" (symbol->string algo) "/" '
    "(bytevector->nix-base32-string hash))) (lambda (file algo hash) (string-append "
    '"https://archive.softwareheritage.org/api/1/content/" (symbol->string algo) ":" '
    '(bytevector->base16-string hash) "/raw/"))))'
)


def test_default_config() -> None:
    config = default_mirror_config()
    assert config.version.startswith("guix-revive-mirrors-")
    table = config.mirror_table()
    assert table["gnu"][0] == "https://ftpmirror.gnu.org/gnu/"
    # Every kind of the February 2022 file (§7.1) is still there.
    for kind in (
        "gnu gcc gnupg gnome hackage savannah sourceforge netfilter.org kernel.org apache "
        "xorg cpan cran imagemagick debian kde openbsd mate"
    ).split():
        assert table[kind], kind
    assert default_mirror_config() is config


def test_files_are_deterministic_text_items() -> None:
    config = default_mirror_config()
    files = config.files()
    again = MirrorConfig.from_dict(config.to_dict()).files()
    assert files == again
    for item in files:
        assert item.references == ()
        assert b"\n" not in item.contents
        assert item.path.startswith("/gnu/store/") and item.path.endswith("-" + item.name)
    # Guile writes the same 68 bytes for the same two URLs: the path Guix
    # computed in February 2022 (§7.3).
    assert files.disarchive.contents == (
        b'("https://disarchive.guix.gnu.org/" "https://disarchive.ngyro.com/")'
    )
    assert files.disarchive.path == "/gnu/store/0mxnx8l4fgigvd7gakwdk6hc6im4wnai-disarchive-mirrors"
    assert config.files("/nix/store").mirrors.path.startswith("/nix/store/")


def test_mirrors_file_round_trips() -> None:
    config = default_mirror_config()
    text = config.files().mirrors.contents.decode()
    assert text.startswith('((gnu "https://ftpmirror.gnu.org/gnu/" ')
    assert parse_mirrors(text) == config.mirror_table()
    assert write_mirrors(config.mirror_table()) == write_mirrors(config.mirrors)


def test_parse_mirrors_of_old_eras() -> None:
    old = (
        '(quote ((gnu "http://ftp.gnu.org/pub/gnu/" "ftp://ftp.cs.tu-berlin.de/pub/gnu/") '
        '(x . ("u"))))'
    )
    assert parse_mirrors(old) == {
        "gnu": ("http://ftp.gnu.org/pub/gnu/", "ftp://ftp.cs.tu-berlin.de/pub/gnu/"),
        "x": ("u",),
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('"x"', "m: not a list of mirror kinds"),
        ('((gnu . "x"))', 'm: malformed mirror entry (gnu . "x")'),
        ("((gnu 1))", "m: mirror kind 'gnu' lists a non-string"),
        ('(("gnu" "x"))', 'm: malformed mirror entry ("gnu" "x")'),
    ],
)
def test_parse_mirrors_errors(text: str, message: str) -> None:
    with pytest.raises(MirrorError) as info:
        parse_mirrors(text, "m")
    assert str(info.value) == message


def test_parse_mirrors_scheme_error() -> None:
    with pytest.raises(SchemeError, match=r"^m:1:2: unterminated string$"):
        parse_mirrors('("', "m")


def test_expand_url() -> None:
    table = {"gnu": ("https://ftpmirror.gnu.org/gnu/", "ftp://ftp.cs.tu-berlin.de/pub/gnu")}
    assert expand_url("mirror://gnu/hello/hello-2.12.1.tar.gz", table) == (
        "https://ftpmirror.gnu.org/gnu/hello/hello-2.12.1.tar.gz",
        "ftp://ftp.cs.tu-berlin.de/pub/gnu/hello/hello-2.12.1.tar.gz",
    )
    assert expand_url("mirror://gnu//a/b/", table)[0] == "https://ftpmirror.gnu.org/gnu/a/b"
    assert expand_url("https://x/y", table) == ("https://x/y",)
    with pytest.raises(MirrorError) as info:
        expand_url("mirror://nope/x", table)
    assert str(info.value) == "unknown mirror kind 'nope' in mirror://nope/x"
    assert expand_urls(["https://ftpmirror.gnu.org/gnu/a", "mirror://gnu/a"], table) == (
        "https://ftpmirror.gnu.org/gnu/a",
        "ftp://ftp.cs.tu-berlin.de/pub/gnu/a",
    )


def test_our_content_addressed_file() -> None:
    text = default_mirror_config().files().content_addressed.contents.decode()
    # The shape the daemon's downloader evaluates (§7.2).
    datum = read_one(text)
    assert isinstance(datum, tuple) and str(datum[0]) == "begin"
    assert content_addressed_urls(text, "hello-2.12.1.tar.gz", "sha256", HELLO_HASH) == (
        f"https://bordeaux.guix.gnu.org/file/hello-2.12.1.tar.gz/sha256/{HELLO_NIX32}",
        f"https://ci.guix.gnu.org/file/hello-2.12.1.tar.gz/sha256/{HELLO_NIX32}",
        f"https://tarballs.nixos.org/sha256/{HELLO_NIX32}",
        f"https://archive.softwareheritage.org/api/1/content/sha256:{HELLO_HASH.hex()}/raw/",
    )


def test_guix_era_content_addressed_files() -> None:
    # The three URLs §7.2 lists for the hello tarball.
    assert content_addressed_urls(GUIX_2022_STYLE, "hello-2.12.1.tar.gz", "sha256", HELLO_HASH) == (
        f"https://ci.guix.gnu.org/file/hello-2.12.1.tar.gz/sha256/{HELLO_NIX32}",
        f"https://tarballs.nixos.org/sha256/{HELLO_NIX32}",
        f"https://archive.softwareheritage.org/api/1/content/sha256:{HELLO_HASH.hex()}/raw/",
    )
    # 2016: two-argument procedures.
    old = (
        "(begin (use-modules (guix base32)) (list (lambda (algo hash) (string-append "
        '"http://tarballs.nixos.org/" (symbol->string algo) "/" '
        "(bytevector->nix-base32-string hash)))))"
    )
    assert content_addressed_urls(old, "f", "sha256", HELLO_HASH) == (
        f"http://tarballs.nixos.org/sha256/{HELLO_NIX32}",
    )


def test_conditional_and_unknown_procedures() -> None:
    text = (
        '(begin (define base "https://a/") (list (lambda (file algo hash) (if (eq? algo '
        "(quote sha256)) (string-append base (bytevector->base16-string hash)) #f)) "
        "(lambda (file algo hash) (frobnicate hash)) (lambda (file algo hash) (case algo "
        "((sha256 sha512) (let ((h (bytevector->nix-base32-string hash))) "
        '(string-append "https://b/" h))) '
        "(else #f)))))"
    )
    assert content_addressed_urls(text, "f", "sha256", b"\x01") == (
        "https://a/01",
        "https://b/" + base32.encode(b"\x01"),
    )
    assert content_addressed_urls(text, "f", "sha1", b"\x01") == ()
    assert content_addressed_urls("(list 1 2)", "f", "sha256", b"\x01") == ()
    assert content_addressed_urls("(frob)", "f", "sha256", b"\x01") == ()


def test_disarchive_urls() -> None:
    text = write_disarchive_mirrors(["https://disarchive.guix.gnu.org/"]).decode()
    assert disarchive_urls(text, "sha256", HELLO_HASH) == (
        f"https://disarchive.guix.gnu.org/sha256/{HELLO_HASH.hex()}",
    )
    with pytest.raises(MirrorError, match="^d: not a list of URL strings$"):
        disarchive_urls("(1)", "sha256", HELLO_HASH, "d")


def test_a_loopback_config(tmp_path: Path) -> None:
    # GIVEN today's data with the content-addressed mirrors on a local server
    config = default_mirror_config().replace(
        version="demo", content_addressed=["http://127.0.0.1:8080/{algo}/{hex}?f={file}"]
    )
    text = config.files().content_addressed.contents.decode()
    # THEN the file it writes points there, and has a different store path
    assert content_addressed_urls(text, "x.tar", "sha256", b"\xab") == (
        "http://127.0.0.1:8080/sha256/ab?f=x.tar",
    )
    assert (
        config.files().content_addressed.path
        != default_mirror_config().files().content_addressed.path
    )
    assert config.files().mirrors == default_mirror_config().files().mirrors
    # AND it can be saved and loaded as JSON
    file = tmp_path / "m.json"
    file.write_text(json.dumps(config.to_dict()))
    assert load_mirror_config(file) == config


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "mirror data: 'version' must be a non-empty string"),
        ({"version": "v"}, "mirror data: 'mirrors' must map kinds to lists of URLs"),
        (
            {"version": "v", "mirrors": {"gnu": "x"}},
            "mirror data: 'mirrors.gnu' must be a list of strings",
        ),
        (
            {"version": "v", "mirrors": {}, "content_addressed": ["http://x/{sha}"]},
            "mirror data: unknown placeholder {sha} in 'http://x/{sha}'",
        ),
    ],
)
def test_bad_config(data: dict[str, object], message: str) -> None:
    with pytest.raises(MirrorError) as info:
        MirrorConfig.from_dict(data)
    assert str(info.value) == message


def test_bad_config_files(tmp_path: Path) -> None:
    with pytest.raises(MirrorError, match="cannot read"):
        load_mirror_config(tmp_path / "absent.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(MirrorError, match="not JSON"):
        load_mirror_config(bad)
    bad.write_text("[]")
    with pytest.raises(MirrorError, match="not a JSON object"):
        load_mirror_config(bad)


def test_writers_are_plain_scheme() -> None:
    assert (
        write_content_addressed_mirrors([])
        == b"(begin (use-modules (guix base16) (guix base32)) (list))"
    )
    assert write_content_addressed_mirrors(["https://x/{nix32}"]) == (
        b"(begin (use-modules (guix base16) (guix base32)) (list (lambda (file algo hash) "
        b'(string-append "https://x/" (bytevector->nix-base32-string hash)))))'
    )
    assert write_mirrors({"gnu": ["a"], "x": []}) == b'((gnu "a") (x))'


def test_input_sources_are_the_sorted_file_paths() -> None:
    config = default_mirror_config()
    for store_dir in ("/gnu/store", "/nix/store"):
        sources = config.input_sources(store_dir)
        assert sources == tuple(sorted(item.path for item in config.files(store_dir)))
        assert config.input_sources(store_dir) is sources  # computed once
    assert config.input_sources() == config.input_sources("/gnu/store")
    other = config.replace(disarchive=["https://disarchive.example.org/"])
    assert other.input_sources() != config.input_sources()
