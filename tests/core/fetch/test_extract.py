"""Extraction of fetch parameters from every method and era (§6, §5.4)."""

from __future__ import annotations

from typing import Any

import pytest

from revive.core.derivation import Derivation
from revive.core.errors import MissingStoreItem
from revive.core.fetch.extract import (
    ExtractionError,
    UnknownFetchMethod,
    expected_of,
    extract_fetch_spec,
    read_fetch_spec,
)
from revive.core.fetch.spec import (
    Expected,
    FetchMethod,
    GitFetch,
    UrlFetch,
    describe_source,
    spec_parameters,
)


def test_every_corpus_fod_extracts(corpus_fods: list[tuple[str, Derivation]]) -> None:
    for path, drv in corpus_fods:
        spec = extract_fetch_spec(drv, path=path)
        out = drv.outputs[0]
        assert spec.expected == Expected(
            drv.name, out.path, "sha256", bytes.fromhex(out.hash), out.recursive
        )
        assert describe_source(spec)
        if isinstance(spec, UrlFetch):
            assert spec.urls and all("://" in url for url in spec.urls)
            assert spec.mirrors_file == drv.getenv("mirrors")


def test_hello_and_txt2man(corpus_derivations: dict[str, Derivation]) -> None:
    by_name = {d.name: d for d in corpus_derivations.values() if d.is_fixed_output}
    hello = extract_fetch_spec(by_name["hello-2.10.tar.gz"])
    assert hello == UrlFetch(
        Expected(
            "hello-2.10.tar.gz",
            "/gnu/store/hbdalsf5lpf01x4dcknwx6xbn6n5km6k-hello-2.10.tar.gz",
            "sha256",
            bytes.fromhex("31e066137a962676e89f69d1b65382de95a7ef7d914b8cb956f41ea72e0f516b"),
            False,
        ),
        ("mirror://gnu/hello/hello-2.10.tar.gz",),
        mirrors_file="/gnu/store/h1nnwnrbwr7vcllyn1k0p55lkdz0clhh-mirrors",
        content_addressed_mirrors_file=(
            "/gnu/store/vwyxp1dq4lb97n6b20w5cqxasy2dai79-content-addressed-mirrors"
        ),
    )
    assert hello.expected.nix32 == "0ssi1wpaf7plaswqqjwigppsg5fyh99vdlb9kzl7c9lng89ndq1i"
    txt2man = extract_fetch_spec(by_name["txt2man-1.6.0-checkout"])
    assert txt2man == GitFetch(
        expected_of(by_name["txt2man-1.6.0-checkout"]),
        "https://github.com/mvertes/txt2man",
        "txt2man-1.6.0",
        False,
    )
    assert txt2man.expected.nix32 == "1razjpvlcp85hqli77mwr9nmn5jnv3lm1fxbbqjpx1brv3h1lvm5"
    assert describe_source(txt2man) == "https://github.com/mvertes/txt2man @ txt2man-1.6.0"
    assert txt2man.expected.recursive and txt2man.expected.output_path == (
        "/gnu/store/ba80al8r1yn09d0vy29h534igdlszdh7-txt2man-1.6.0-checkout"
    )
    krb5 = extract_fetch_spec(by_name["krb5-1.17.tar.gz"])
    assert isinstance(krb5, UrlFetch) and len(krb5.urls) == 2
    mkdir = extract_fetch_spec(by_name["mkdir"])
    assert isinstance(mkdir, UrlFetch) and mkdir.executable and mkdir.expected.recursive


def test_hand_made_eras(hand_store: Any, fod_label: str) -> None:
    example = hand_store.examples[fod_label]
    spec = extract_fetch_spec(example.drv, hand_store.read_item, path=example.path)
    assert spec == example.spec
    assert str(spec.method) == example.method


def test_odd_strings_in_a_script(hand_store: Any) -> None:
    # Escaped quotes, \u00e9, R6RS \x41; and raw UTF-8 in the G1 script.
    spec = extract_fetch_spec(hand_store.examples["git-G1"].drv, hand_store.read_item)
    assert isinstance(spec, GitFetch)
    assert spec.url == 'https://example.org/café/"q".git'
    assert spec.commit == "v1.0-Aé"


def test_missing_script_names_the_file(hand_store: Any) -> None:
    example = hand_store.examples["svn-S1"]

    def empty(path: str) -> bytes:
        raise MissingStoreItem(path)

    with pytest.raises(MissingStoreItem) as info:
        extract_fetch_spec(example.drv, empty)
    assert str(info.value) == (
        f"{example.script}: not in the store (needed to extract the fetch parameters)"
    )
    assert info.value.path == example.script


@pytest.mark.parametrize(
    ("label", "error", "message"),
    [
        pytest.param(
            "cvs-script",
            ExtractionError,
            "{path}: the fetch parameters are in the builder script {script}; "
            "no store to read it from",
            id="script-era-without-store",
        ),
        pytest.param(
            "tarbomb",
            ExtractionError,
            "{path}: not a fixed-output derivation (tarbomb); extract the FOD it wraps: {wraps}",
            id="non-fod",
        ),
        pytest.param(
            "raw-fod",
            UnknownFetchMethod,
            "{path}: unknown fetch method (builder /bin/sh is neither a Guix builtin nor Guile)",
            id="unknown-method",
        ),
    ],
)
def test_refused_with_one_line(
    hand_store: Any, label: str, error: type[Exception], message: str
) -> None:
    """Without a store to read scripts from: what cannot be extracted, and why."""
    example = hand_store.examples[label]
    with pytest.raises(error) as info:
        extract_fetch_spec(example.drv, None, path=example.path)
    assert str(info.value) == message.format(
        path=example.path, script=example.script, wraps=example.wraps
    )


def test_unevaluable_argument(hand_store: Any) -> None:
    example = hand_store.examples["hg-H1"]
    script = b'(begin (hg-fetch (some-procedure "x") (quote "c") ((@ (guile) getenv) "out")))'
    with pytest.raises(ExtractionError) as info:
        extract_fetch_spec(example.drv, lambda path: script, path="X.drv")
    assert str(info.value) == 'X.drv: cannot evaluate (some-procedure "x") in the builder script'


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("(1 2)", "X.drv: env 'url' is neither a URL string nor a list of URL strings"),
        ('"unterminated', "X.drv: cannot read environment variable 'url': "
         "env 'url':1:1: unterminated string"),
    ],
)  # fmt: skip
def test_malformed_url_values(
    corpus_fods: list[tuple[str, Derivation]], url: str, message: str
) -> None:
    _, drv = corpus_fods[0]
    bad = drv.evolve(env=tuple((k, url if k == "url" else v) for k, v in drv.env))
    with pytest.raises(ExtractionError) as info:
        extract_fetch_spec(bad, path="X.drv")
    assert str(info.value) == message


def test_bad_git_flag() -> None:
    from revive.core.derivation import Output

    out = Output("out", "/gnu/store/5vpppcbdrz7cbqbsyk0gs6ivnzmd1pa6-x", "r:sha256", "00")
    drv = Derivation(
        "x", (out,), (), (), "x86_64-linux", "builtin:git-download", (),
        (("commit", "c"), ("recursive?", "maybe"), ("url", '"u"')),
    )  # fmt: skip
    with pytest.raises(ExtractionError, match=r"'recursive\?' = 'maybe' is not #t or #f"):
        extract_fetch_spec(drv)


def test_methods_cover_every_fetch_method(hand_store: Any, fod_labels: tuple[str, ...]) -> None:
    methods = {
        extract_fetch_spec(hand_store.examples[label].drv, hand_store.read_item).method
        for label in fod_labels
    }
    assert methods == set(FetchMethod) - {
        FetchMethod.UNKNOWN,
        FetchMethod.URL_TARBOMB,
        FetchMethod.URL_ZIPBOMB,
    }


def test_read_fetch_spec_says_why_instead_of_raising(hand_store: Any) -> None:
    known = hand_store.examples["git-G1"]
    found, spec, why = read_fetch_spec(known.drv, hand_store.read_item, path=known.path)
    assert (str(found.method), spec, why) == ("git-fetch", known.spec, "")
    unknown = hand_store.examples["raw-fod"]
    found, spec, why = read_fetch_spec(unknown.drv, hand_store.read_item, path=unknown.path)
    assert found.method is FetchMethod.UNKNOWN and spec is None
    assert why == found.reason == "builder /bin/sh is neither a Guix builtin nor Guile"
    hg = hand_store.examples["hg-H1"]
    script = b'(begin (hg-fetch (some-procedure "x") (quote "c") ((@ (guile) getenv) "out")))'
    found, spec, why = read_fetch_spec(hg.drv, lambda path: script, path="X.drv")
    assert str(found.method) == "hg-fetch" and spec is None
    assert why == 'X.drv: cannot evaluate (some-procedure "x") in the builder script'


@pytest.mark.parametrize(
    ("label", "keys"),
    [
        ("url-U2", ["urls", "executable"]),
        ("git-G1", ["url", "commit", "recursive_checkout"]),
        ("svn-S1", ["url", "revision"]),
        ("svn-multi-script", ["url", "revision", "locations"]),
        ("hg-H1", ["url", "changeset"]),
        ("bzr-in-band", ["url", "revision"]),
        ("cvs-script", ["root", "module", "revision"]),
    ],
)
def test_spec_parameters(hand_store: Any, label: str, keys: list[str]) -> None:
    spec = hand_store.examples[label].spec
    parameters = spec_parameters(spec)
    assert list(parameters) == keys
    if isinstance(spec, GitFetch):
        assert parameters == {
            "url": spec.url,
            "commit": spec.commit,
            "recursive_checkout": spec.recursive,
        }
    if isinstance(spec, UrlFetch):
        assert parameters["urls"] == list(spec.urls) and parameters["executable"] is False
    if "locations" in parameters:
        assert isinstance(parameters["locations"], list) and parameters["locations"]
