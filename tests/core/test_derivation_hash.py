"""Derivation hashes modulo FODs, ``.drv`` paths and output paths (doc §3, Guix, Nix)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from revive.core.aterm import parse_derivation, parse_derivation_bytes, serialize_derivation
from revive.core.derivation import Derivation, Output
from revive.core.derivation_hash import (
    DerivationHasher,
    drv_path,
    expected_output_paths,
    fixed_output_expected_path,
    masked,
)
from revive.core.errors import StoreError
from revive.core.store_path import store_dir_of

Docs = dict[str, tuple[str, str]]


def doc_drv(docs: Docs, key: str) -> Derivation:
    path, text = docs[key]
    return parse_derivation(text, path)


def doc_closure(docs: Docs) -> dict[str, Derivation]:
    return {path: parse_derivation(text, path) for path, text in docs.values()}


# --- .drv paths (§1.8, §10.3, §10.4) ---------------------------------------------------


@pytest.mark.parametrize("key", ["a", "a-https", "b", "b-variant", "c", "nix-hello"])
def test_doc_drv_paths(key: str, doc_derivations: Docs) -> None:
    path, text = doc_derivations[key]
    drv = parse_derivation(text, path)
    assert drv_path(drv, store_dir_of(path)) == path


def test_drv_references_are_sources_and_input_drvs_not_outputs(doc_derivations: Docs) -> None:
    drv = doc_drv(doc_derivations, "b")
    assert drv.references == {
        "/gnu/store/j28gm48klq29zcfnkmp0qqhwnlrvkp4s-hello-2.12.1.tar.gz.drv",
        "/gnu/store/z94f0wyd5dl27nj28l59gndxh545xkjq-build.sh",
    }


# --- §3.3 worked example ---------------------------------------------------------------


def test_hash_modulo_of_a_fod_is_its_output_tuple(doc_derivations: Docs) -> None:
    hasher = DerivationHasher(doc_closure(doc_derivations))
    expected = "48a9cc6019531deb0ba05a3636923d8f8f7b7973186095621d39705532a808b8"
    assert hasher.hash_modulo(doc_drv(doc_derivations, "a")).hex() == expected
    # The URL variant has another .drv path but the same hash modulo (§3.4).
    assert hasher.hash_modulo(doc_drv(doc_derivations, "a-https")).hex() == expected
    assert hasher.hash_of_path(doc_derivations["a-https"][0]).hex() == expected


def test_masked_text_of_the_consumer(doc_derivations: Docs) -> None:
    drv = doc_drv(doc_derivations, "b")
    hasher = DerivationHasher(doc_closure(doc_derivations))
    view = masked(drv).evolve(
        input_drvs=(("48a9cc6019531deb0ba05a3636923d8f8f7b7973186095621d39705532a808b8", ("out",)),)
    )
    assert serialize_derivation(view) == (
        'Derive([("doc","","",""),("out","","","")],'
        '[("48a9cc6019531deb0ba05a3636923d8f8f7b7973186095621d39705532a808b8",["out"])],'
        '["/gnu/store/z94f0wyd5dl27nj28l59gndxh545xkjq-build.sh"],"x86_64-linux","/bin/sh",'
        '["-e","/gnu/store/z94f0wyd5dl27nj28l59gndxh545xkjq-build.sh"],'
        '[("doc",""),("out",""),'
        '("src","/gnu/store/3dq55rw99wdc4g4wblz7xikc8a2jy7a3-hello-2.12.1.tar.gz"),'
        '("tricky","a\\"b\\\\c\\nd\\te\\rf")])'
    )
    assert hasher.hash_modulo(masked(drv)).hex() == (
        "639792e0c993558ccc9d18d42991bb954bc305771a955432eacae2e8a4c6341e"
    )


def test_consumer_outputs_and_hash_as_an_input(doc_derivations: Docs) -> None:
    hasher = DerivationHasher(doc_closure(doc_derivations))
    outputs = {
        "out": "/gnu/store/vi2qyf9wyk7n59gzv5dch8dkfl0r1cnc-consumer",
        "doc": "/gnu/store/kpbq8p2axmaddp6xbzvmpaij450ymq9a-consumer-doc",
    }
    for key in ("b", "b-variant"):
        # Rewriting the FOD input changes the .drv path, not the outputs (§3.4).
        assert hasher.output_paths(doc_drv(doc_derivations, key)) == outputs
    assert hasher.hash_of_path(doc_derivations["b"][0]).hex() == (
        "33a5e1701fc15b85a839d3ceea1f55924c1c3d787c9868c8c3c460f995b7bb3e"
    )
    assert hasher.hash_of_path(doc_derivations["b-variant"][0]) == hasher.hash_of_path(
        doc_derivations["b"][0]
    )


def test_fod_output_paths(doc_derivations: Docs) -> None:
    for key, expected in [
        ("a", "/gnu/store/3dq55rw99wdc4g4wblz7xikc8a2jy7a3-hello-2.12.1.tar.gz"),
        ("c", "/gnu/store/ba80al8r1yn09d0vy29h534igdlszdh7-txt2man-1.6.0-checkout"),
    ]:
        drv = doc_drv(doc_derivations, key)
        assert fixed_output_expected_path(drv) == expected
        assert DerivationHasher({}).output_paths(drv) == {"out": expected}


def test_masked_blanks_only_output_paths_and_output_env(doc_derivations: Docs) -> None:
    drv = doc_drv(doc_derivations, "b")
    view = masked(drv)
    assert [(o.name, o.path, o.hash_algo, o.hash) for o in view.outputs] == [
        ("doc", "", "", ""),
        ("out", "", "", ""),
    ]
    assert dict(view.env) == {**dict(drv.env), "doc": "", "out": ""}
    assert view.input_drvs == drv.input_drvs and view.args == drv.args
    fod = masked(doc_drv(doc_derivations, "a"))
    assert fod.outputs[0].hash_algo == "sha256" and fod.outputs[0].hash != ""


def test_fixed_output_expected_path_refuses_a_regular_derivation(doc_derivations: Docs) -> None:
    with pytest.raises(ValueError, match="consumer is not a fixed-output derivation"):
        fixed_output_expected_path(doc_drv(doc_derivations, "b"))


# --- Nix 2.8 oracle ------------------------------------------------------------------------


def test_nix_derivation_paths(nix_derivation: tuple[dict[str, Any], str]) -> None:
    # GIVEN one vector's closure of .drv files, for one store dir
    case, store_dir = nix_derivation
    vector = case[store_dir]
    closure = {
        path: parse_derivation_bytes(base64.b64decode(b64), path)
        for path, b64 in vector["closure_drvs_b64"].items()
    }
    assert vector["drv_path"] in closure
    hasher = DerivationHasher(closure)
    # THEN every .drv of the closure has the path Nix gave it
    for path, drv in closure.items():
        assert drv_path(drv, store_dir) == path
        # AND the output paths Nix wrote into it
        assert hasher.output_paths(drv, store_dir) == {o.name: o.path for o in drv.outputs}
        if drv.is_fixed_output:
            assert fixed_output_expected_path(drv, store_dir) == drv.outputs[0].path
    root = closure[vector["drv_path"]]
    assert hasher.output_paths(root, store_dir) == vector["outputs"]
    assert expected_output_paths(root, closure, store_dir) == vector["outputs"]


def test_nix_fod_variants_share_outputs_but_not_drv_paths(nix_vectors: dict[str, Any]) -> None:
    cases = {c["name"]: c["/gnu/store"] for c in nix_vectors["derivations"]}
    a, b = cases["fod-variant-A-consumer"], cases["fod-variant-B-consumer"]
    assert a["outputs"] == b["outputs"]
    assert a["drv_path"] != b["drv_path"]


# --- the guix-2020 corpus -------------------------------------------------------------


@pytest.fixture(scope="session")
def corpus_hasher(guix2020_derivations: dict[str, Derivation]) -> DerivationHasher:
    """One hasher memoised over the whole corpus, as a real closure load uses it."""
    return DerivationHasher(guix2020_derivations)


def test_corpus_hashes_paths_and_outputs(
    guix2020_file: Path,
    guix2020_truth: dict[str, dict[str, Any]],
    guix2020_derivations: dict[str, Derivation],
    corpus_hasher: DerivationHasher,
) -> None:
    path = f"/gnu/store/{guix2020_file.name}"
    truth = guix2020_truth[path]
    drv = guix2020_derivations[path]
    # The .drv path Guix computed is the file name, and ours.
    assert truth["computed_drv_path"] == path
    assert drv_path(drv) == path
    # Guix's derivation hash (the value that stands for it in its dependents).
    assert corpus_hasher.hash_of_path(path).hex() == truth["derivation_hash_hex"]
    # Its outputs, recomputed from scratch.
    assert corpus_hasher.output_paths(drv) == {o["name"]: o["path"] for o in truth["outputs"]}
    if drv.is_fixed_output:
        assert truth["output_path_hash_hex"] is None
        assert fixed_output_expected_path(drv) == truth["outputs"][0]["path"]
    else:
        assert corpus_hasher.hash_modulo(masked(drv)).hex() == truth["output_path_hash_hex"]


def test_whole_corpus_from_a_cold_hasher_reads_each_drv_once(
    guix2020_derivations: dict[str, Derivation], guix2020_truth: dict[str, dict[str, Any]]
) -> None:
    reads: dict[str, int] = {}

    def lookup(path: str) -> Derivation:
        reads[path] = reads.get(path, 0) + 1
        return guix2020_derivations[path]

    hasher = DerivationHasher(lookup)
    for path, truth in guix2020_truth.items():
        assert hasher.hash_of_path(path).hex() == truth["derivation_hash_hex"]
    assert set(reads) == set(guix2020_derivations)
    # Memoised: a regular node is looked up when first met and when its
    # inputs are done, a FOD once; never per referrer.
    assert max(reads.values()) <= 2


# --- edge cases --------------------------------------------------------------------------


def fod(name: str, url: str, digest: str = "11" * 32) -> Derivation:
    out = f"/s/{'0' * 32}-{name}"
    return Derivation(
        name, (Output("out", out, "sha256", digest),), (), (), "x", "b", (), (("url", url),)
    )


def regular(name: str, inputs: tuple[tuple[str, tuple[str, ...]], ...]) -> Derivation:
    return Derivation(name, (Output("out", ""),), inputs, (), "x", "/bin/sh", (), (("out", ""),))


def test_two_fods_with_the_same_output_collapse_into_one_input() -> None:
    # §3.4 edge case: two recipes for the same tarball hash the same, so a
    # derivation using both hashes like one using either (output lists merged).
    closure = {"/s/a.drv": fod("src", "https://a"), "/s/b.drv": fod("src", "https://b")}
    hasher = DerivationHasher(closure)
    assert hasher.hash_of_path("/s/a.drv") == hasher.hash_of_path("/s/b.drv")
    both = regular("pkg", (("/s/a.drv", ("out",)), ("/s/b.drv", ("out",))))
    one = regular("pkg", (("/s/a.drv", ("out",)),))
    assert hasher.hash_modulo(both) == hasher.hash_modulo(one)


def test_a_different_digest_changes_everything_downstream() -> None:
    closure = {"/s/a.drv": fod("src", "u"), "/s/b.drv": fod("src", "u", "22" * 32)}
    hasher = DerivationHasher(closure)
    assert hasher.output_paths(regular("p", (("/s/a.drv", ("out",)),))) != hasher.output_paths(
        regular("p", (("/s/b.drv", ("out",)),))
    )


def test_a_deep_chain_does_not_recurse() -> None:
    # Bootstrap chains are hundreds of levels deep; 20,000 would overflow
    # Python's stack if the walk were recursive.
    closure = {"/s/0.drv": fod("src", "u")}
    for level in range(1, 20_000):
        closure[f"/s/{level}.drv"] = regular(f"n{level}", ((f"/s/{level - 1}.drv", ("out",)),))
    hasher = DerivationHasher(closure)
    assert len(hasher.hash_of_path("/s/19999.drv")) == 32


def test_a_cycle_is_a_store_error_not_a_hang() -> None:
    closure = {
        "/s/a.drv": regular("a", (("/s/b.drv", ("out",)),)),
        "/s/b.drv": regular("b", (("/s/c.drv", ("out",)),)),
        "/s/c.drv": regular("c", (("/s/a.drv", ("out",)),)),
    }
    with pytest.raises(StoreError, match="dependency cycle"):
        DerivationHasher(closure).hash_of_path("/s/a.drv")
    self_loop = {"/s/x.drv": regular("x", (("/s/x.drv", ("out",)),))}
    with pytest.raises(StoreError) as info:
        DerivationHasher(self_loop).output_paths(self_loop["/s/x.drv"])
    assert str(info.value) == "/s/x.drv: dependency cycle (the derivation depends on itself)"


def test_a_diamond_is_not_a_cycle() -> None:
    closure = {
        "/s/src.drv": fod("src", "u"),
        "/s/base.drv": regular("base", (("/s/src.drv", ("out",)),)),
        "/s/left.drv": regular("left", (("/s/base.drv", ("out",)),)),
        "/s/right.drv": regular("right", (("/s/base.drv", ("out",)), ("/s/src.drv", ("out",)))),
        "/s/top.drv": regular("top", (("/s/left.drv", ("out",)), ("/s/right.drv", ("out",)))),
    }
    assert len(DerivationHasher(closure).hash_of_path("/s/top.drv")) == 32


def test_a_missing_input_raises_what_the_lookup_raises() -> None:
    closure = {"/s/a.drv": regular("a", (("/s/gone.drv", ("out",)),))}
    with pytest.raises(KeyError, match="/s/gone.drv"):
        DerivationHasher(closure).hash_of_path("/s/a.drv")
    # A FOD's inputs are never needed.
    lone = fod("src", "u").evolve(input_drvs=(("/s/gone.drv", ("out",)),))
    assert len(DerivationHasher({"/s/f.drv": lone}).hash_of_path("/s/f.drv")) == 32
