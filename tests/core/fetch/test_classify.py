"""Classification of derivations by kind, fetch method and era (§6.9)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from revive.core.derivation import Derivation, Output
from revive.core.fetch.classify import (
    Classification,
    DerivationKind,
    classify,
    source_stem,
)
from revive.core.fetch.spec import FetchMethod

OTHER_LABELS = ["tarbomb", "zipbomb", "patched-old", "graft", "profile-hook", "profile", "other"]


def test_every_corpus_fod_has_a_method(corpus_fods: list[tuple[str, Derivation]]) -> None:
    # GIVEN every FOD of the April 2020 corpus, WHEN classified from the .drv alone
    seen = Counter()
    for _, drv in corpus_fods:
        found = classify(drv)
        # THEN each one gets a known method and era, with a reason
        assert found.kind is DerivationKind.FOD
        assert found.method not in (None, FetchMethod.UNKNOWN), drv.name
        assert found.reason and found.era_description
        seen[(found.label, found.era)] += 1
    assert seen == {
        ("url-fetch", "builtin"): 144,
        ("url-fetch/executable", "builtin"): 4,
        ("git-fetch", "in-band"): 1,
    }


def test_corpus_known_facts(corpus_derivations: dict[str, Derivation]) -> None:
    by_name = {drv.name: drv for drv in corpus_derivations.values() if drv.is_fixed_output}
    hello = classify(by_name["hello-2.10.tar.gz"])
    assert (hello.method, hello.era, hello.executable) == (FetchMethod.URL, "builtin", False)
    assert hello.reason == "builder builtin:download"
    txt2man = classify(by_name["txt2man-1.6.0-checkout"])
    assert (txt2man.method, txt2man.era) == (FetchMethod.GIT, "in-band")
    assert txt2man.reason == "Guile runs the shared script 'git-download'"
    assert "2016-12" in txt2man.era_description
    mkdir = classify(by_name["mkdir"])
    assert mkdir.executable and mkdir.label == "url-fetch/executable"


def test_corpus_regular_kinds(corpus_derivations: dict[str, Derivation]) -> None:
    kinds = Counter(classify(drv).kind for drv in corpus_derivations.values())
    assert kinds == {
        DerivationKind.FOD: 149,
        DerivationKind.PACKAGE: 193,
        DerivationKind.PATCHED_SOURCE: 46,
        DerivationKind.MODULE_IMPORT_COMPILED: 7,
        DerivationKind.MODULE_IMPORT: 5,
        DerivationKind.BUILDER_FILE: 1,
    }


def test_every_patched_source_wraps_a_corpus_fod(
    corpus_derivations: dict[str, Derivation],
) -> None:
    for path, drv in corpus_derivations.items():
        found = classify(drv)
        if found.kind is not DerivationKind.PATCHED_SOURCE:
            continue
        assert found.wraps is not None, path
        wrapped = corpus_derivations[found.wraps]
        assert wrapped.is_fixed_output
        assert source_stem(wrapped.name) == source_stem(drv.name)
        assert found.reason.startswith("'guix properties' says (type . origin); wraps ")


def test_a_patched_source_with_an_ambiguous_name(corpus_derivations: dict[str, Derivation]) -> None:
    # tar-1.32.tar.xz has both tar-1.32.drv (the package) and tar-1.32.tar.xz.drv
    # (the download) as inputs: the download is the one with an archive name.
    for drv in corpus_derivations.values():
        if drv.name == "tar-1.32.tar.xz" and not drv.is_fixed_output:
            found = classify(drv)
            assert found.wraps is not None and found.wraps.endswith("-tar-1.32.tar.xz.drv")
            break
    else:  # pragma: no cover
        pytest.fail("no patched tar source in the corpus")


def test_hand_made_fod_eras(hand_store: Any, era_label: str) -> None:
    example = hand_store.examples[era_label]
    found = classify(example.drv, hand_store.read_item)
    assert found.kind is DerivationKind.FOD
    assert (str(found.method), found.era) == (example.method, example.era), found.reason
    assert found.reason


@pytest.mark.parametrize("label", OTHER_LABELS)
def test_hand_made_regular_kinds(hand_store: Any, label: str) -> None:
    example = hand_store.examples[label]
    found = classify(example.drv)
    assert str(found.kind) == example.kind, found.reason
    assert found.wraps == example.wraps
    if example.method is not None:
        assert str(found.method) == example.method


def test_svn_multi_reason(hand_store: Any) -> None:
    found = classify(hand_store.examples["svn-multi-script"].drv, hand_store.read_item)
    assert found.reason == (
        "the builder script texlive-ae-51265-checkout-builder calls svn-fetch "
        "inside a loop over locations"
    )


def test_script_eras_need_the_script(hand_store: Any) -> None:
    example = hand_store.examples["git-G1"]
    # Without a store to read from, the method is unknown and the reason says why.
    found = classify(example.drv)
    assert found == Classification(
        DerivationKind.FOD,
        FetchMethod.UNKNOWN,
        "script",
        "a per-derivation gexp builder script (Guix 2014 → 2024)",
        f"the fetch method is written only in the builder script {example.script}, "
        "which was not read",
    )


def test_a_missing_script_is_named(hand_store: Any) -> None:
    example = hand_store.examples["hg-H1"]

    def nothing(path: str) -> bytes:
        from revive.core.errors import MissingStoreItem

        raise MissingStoreItem(path)

    found = classify(example.drv, nothing)
    assert found.method is FetchMethod.UNKNOWN
    assert found.reason == (
        f"the fetch method is written only in the builder script {example.script}, "
        "which is not in the store"
    )


def test_an_unreadable_script_is_reported(hand_store: Any) -> None:
    example = hand_store.examples["cvs-script"]
    found = classify(example.drv, lambda path: b'(begin (cvs-fetch "unterminated')
    assert found.method is FetchMethod.UNKNOWN
    assert found.reason == (
        f"cannot read the builder script: {example.script}:1:19: unterminated string"
    )


def test_a_script_without_fetch_call(hand_store: Any) -> None:
    example = hand_store.examples["cvs-script"]
    found = classify(example.drv, lambda path: b"(begin (display 1))")
    assert found.reason == f"no fetch procedure is called in the builder script {example.script}"


def test_unknown_builtin() -> None:
    out = Output("out", "/gnu/store/5vpppcbdrz7cbqbsyk0gs6ivnzmd1pa6-x", "sha256", "00")
    drv = Derivation("x", (out,), (), (), "x86_64-linux", "builtin:frobnicate", (), ())
    found = classify(drv)
    assert (found.method, found.era, found.reason) == (
        FetchMethod.UNKNOWN,
        "unknown",
        "unknown builtin builder builtin:frobnicate",
    )


def test_corpus_module_import_kinds(corpus_derivations: dict[str, Derivation]) -> None:
    for drv in corpus_derivations.values():
        if drv.name == "module-import":
            assert classify(drv).kind is DerivationKind.MODULE_IMPORT
        if drv.name == "module-import-compiled":
            assert classify(drv).kind is DerivationKind.MODULE_IMPORT_COMPILED
        if drv.name == "config.scm":
            assert classify(drv).kind is DerivationKind.BUILDER_FILE


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        ("hello-2.10.tar.gz", "hello-2.10"),
        ("icu4c-64_2-src.tgz", "icu4c-64_2-src"),
        ("foo-1.0-checkout", "foo-1.0"),
        ("unzip60.tar.xz", "unzip60"),
        ("net-tools-1.60-0.479bb4a.zip", "net-tools-1.60-0.479bb4a"),
        ("tar-1.32", None),
        ("bash50-001", None),
    ],
)
def test_source_stem(name: str, stem: str | None) -> None:
    assert source_stem(name) == stem
