"""Rewriting FODs into today's form: same output, new recipe (§3.4, §3.6)."""

from __future__ import annotations

from typing import Any

import pytest

from revive.core.aterm import parse_derivation, serialize_derivation
from revive.core.derivation import Derivation
from revive.core.derivation_hash import DerivationHasher, drv_path, fixed_output_expected_path
from revive.core.fetch.classify import REVIVE_BUILDER_VAR, classify
from revive.core.fetch.extract import extract_fetch_spec
from revive.core.fetch.mirrors import default_mirror_config
from revive.core.fetch.rewrite import IMPURE_ENV_VARS, RewriteError, modern_derivation, rewrite
from revive.core.fetch.spec import UrlFetch


def check_invariants(old: Derivation, result: Any) -> None:
    """What every rewrite must keep (§3.6), and what proves nothing downstream moves."""
    new = result.derivation
    assert (new.name, new.outputs, new.system) == (old.name, old.outputs, old.system)
    assert new.getenv("out") == old.outputs[0].path
    assert fixed_output_expected_path(new) == old.outputs[0].path
    assert result.drv_path == drv_path(new)
    assert parse_derivation(serialize_derivation(new), result.drv_path) == new
    # The value standing for the FOD in its dependents' hashes is unchanged.
    hasher = DerivationHasher({})
    assert hasher.hash_modulo(new) == hasher.hash_modulo(old)
    assert new.input_drvs == () and new.args == ()
    assert set(new.input_srcs) == {item.path for item in result.added_items}
    assert new.getenv("impureEnvVars") == IMPURE_ENV_VARS and new.getenv("preferLocalBuild") == "1"


def test_every_corpus_fod(corpus_fods: list[tuple[str, Derivation]]) -> None:
    for path, drv in corpus_fods:
        result = rewrite(drv)
        assert result.original_path == path
        assert result.original is drv
        check_invariants(drv, result)
        assert not result.identity  # 2020 mirror files are not today's
        again = rewrite(result.derivation)
        assert again.identity and again.derivation is result.derivation
        assert again.drv_path == result.drv_path
        assert rewrite(drv, original_path=path) == result


def test_txt2man_becomes_builtin_git_download(
    corpus_derivations: dict[str, Derivation], doc_derivations: dict[str, tuple[str, str]]
) -> None:
    path = "/gnu/store/p4wivyw32agxqs6zq37hmhxqw6nav43x-txt2man-1.6.0-checkout.drv"
    result = rewrite(corpus_derivations[path])
    # The .drv path the user story's `guix drv-drv` printed for the same rewrite.
    assert (
        result.drv_path == "/gnu/store/vk367ywg4d5n3m1qy1qi2vq7mpg00cjn-txt2man-1.6.0-checkout.drv"
    )
    # guix-derivations.md §2.9 (c), the same checkout written by Guix in February 2022.
    txt2man_builtin = doc_derivations["c"][1]
    assert serialize_derivation(result.derivation) == txt2man_builtin.replace(
        '"commit","v1.6.0"', '"commit","txt2man-1.6.0"'
    )
    assert result.added_items == ()


def test_hello_becomes_todays_builtin_download(corpus_derivations: dict[str, Derivation]) -> None:
    path = "/gnu/store/mspyllkw4d2395akavrkjkiw1p448p9a-hello-2.10.tar.gz.drv"
    old = corpus_derivations[path]
    result = rewrite(old)
    files = default_mirror_config().files()
    new = result.derivation
    assert new.builder == "builtin:download"
    assert new.getenv("url") == old.getenv("url") == '"mirror://gnu/hello/hello-2.10.tar.gz"'
    assert new.getenv("mirrors") == files.mirrors.path != old.getenv("mirrors")
    assert new.getenv("content-addressed-mirrors") == files.content_addressed.path
    assert new.getenv("disarchive-mirrors") == files.disarchive.path
    assert result.added_items == tuple(files)
    assert new.input_srcs == tuple(sorted(item.path for item in files))


def test_guix_2022_forms(doc_derivations: dict[str, tuple[str, str]]) -> None:
    # §2.9 (a) and (c): derivations Guix itself wrote (February 2022).
    # A 2022 builtin:download keeps its url and gets today's mirror files.
    hello = parse_derivation(doc_derivations["a"][1], doc_derivations["a"][0])
    result = rewrite(hello)
    assert (
        result.original_path
        == "/gnu/store/j28gm48klq29zcfnkmp0qqhwnlrvkp4s-hello-2.12.1.tar.gz.drv"
    )
    check_invariants(hello, result)
    assert result.derivation.env == tuple(
        (k, default_mirror_config().files().mirrors.path if k == "mirrors" else v)
        for k, v in result.derivation.env
    )
    # Its disarchive file is already today's (same two URLs).
    assert result.derivation.getenv("disarchive-mirrors") == hello.getenv("disarchive-mirrors")
    # A builtin:git-download FOD is already modern: the identity.
    txt2man = parse_derivation(doc_derivations["c"][1], "/gnu/store/x-txt2man-1.6.0-checkout.drv")
    same = rewrite(txt2man)
    assert same.identity and same.derivation is txt2man
    assert same.drv_path == "/gnu/store/bdwqnp803b1pa2jilm2qs4xjb6kfvjd1-txt2man-1.6.0-checkout.drv"


def test_every_era(hand_store: Any, fod_label: str) -> None:
    example = hand_store.examples[fod_label]
    result = rewrite(example.drv, hand_store.read_item, original_path=example.path)
    check_invariants(example.drv, result)
    assert result.original_path == example.path
    new = result.derivation
    # The rewritten form is read back to the same spec (what the embedded
    # builders rely on), without any store: it is env-only.
    spec = extract_fetch_spec(new)
    if isinstance(spec, UrlFetch):
        assert isinstance(example.spec, UrlFetch)
        assert spec.expected == example.spec.expected
        assert spec.executable == example.spec.expected.recursive
    else:
        assert spec == example.spec
    found = classify(new)
    assert found.method == example.spec.method
    assert found.era == ("guix-revive" if new.has_env(REVIVE_BUILDER_VAR) else "builtin")
    # Already modern now: rewriting again changes nothing.
    assert rewrite(new).identity
    # Pure: the same bytes every time.
    assert rewrite(example.drv, hand_store.read_item) == result


@pytest.mark.parametrize(
    ("label", "builder", "env"),
    [
        ("svn-S1", "builtin:svn-download", {
            "url": '"https://svn.example.org/y/trunk"', "revision": "4321",
            "recursive?": "#f", "user-name": 'anon"ymous', REVIVE_BUILDER_VAR: "svn-download/1"}),
        ("svn-multi-script", "builtin:svn-multi-download", {
            "url": '"svn://www.tug.org/texlive/tags/texlive-2019.3/Master/texmf-dist"',
            "revision": "51265", "recursive?": "#f",
            "locations": '("doc/fonts/ae/" "fonts/tfm/public/ae/" "tex/latex/ae/README")',
            REVIVE_BUILDER_VAR: "svn-multi-download/1"}),
        ("hg-H1", "builtin:hg-download", {
            "url": '"https://hg.example.org/seek"', "changeset": "a1b2c3d4e5f6",
            REVIVE_BUILDER_VAR: "hg-download/1"}),
        ("bzr-in-band", "builtin:bzr-download", {
            "url": '"lp:example"', "revision": "42", REVIVE_BUILDER_VAR: "bzr-download/1"}),
        ("cvs-script", "builtin:cvs-download", {
            "cvs-root": ":pserver:anonymous@cvs.savannah.gnu.org:/sources/x", "module": "x",
            "revision": "2019-01-01", REVIVE_BUILDER_VAR: "cvs-download/1"}),
        ("git-G1", "builtin:git-download", {
            "url": '"https://example.org/café/\\"q\\".git"', "commit": "v1.0-Aé",
            "recursive?": "#t"}),
    ],
)  # fmt: skip
def test_env_layouts(hand_store: Any, label: str, builder: str, env: dict[str, str]) -> None:
    example = hand_store.examples[label]
    new = rewrite(example.drv, hand_store.read_item).derivation
    assert new.builder == builder
    expected_env = dict(
        env,
        impureEnvVars=IMPURE_ENV_VARS,
        out=example.drv.outputs[0].path,
        preferLocalBuild="1",
    )
    assert dict(new.env) == expected_env
    assert [k for k, _ in new.env] == sorted(expected_env, key=str.encode)


def test_old_mirror_kinds_are_expanded(hand_store: Any) -> None:
    # U1 lists mirror://oldkind/…, a kind today's table lacks: it is expanded
    # with the script's own #:mirrors table so the daemon can still resolve it.
    result = rewrite(hand_store.examples["url-U1"].drv, hand_store.read_item)
    assert result.derivation.getenv("url") == (
        '("http://example.org/f-1.0.tar.gz" "http://old.example.org/pub/f/f-1.0.tar.gz" '
        '"ftp://old.example.org/f/f-1.0.tar.gz")'
    )
    assert result.notes == (
        "mirror kind 'oldkind' is gone from today's table; "
        "mirror://oldkind/f/f-1.0.tar.gz expanded",
    )
    # U0's mirror://gnu is a kind today's table has: kept, today's mirrors apply.
    kept = rewrite(hand_store.examples["url-U0"].drv, hand_store.read_item)
    assert kept.derivation.getenv("url") == '"mirror://gnu/hello/hello-2.8.tar.gz"'
    assert kept.notes == ()


def test_download_methods_are_carried(corpus_fods: list[tuple[str, Derivation]]) -> None:
    _, drv = corpus_fods[0]
    with_methods = drv.evolve(env=tuple(sorted((*drv.env, ("download-methods", "(upstream)")))))
    assert rewrite(with_methods).derivation.getenv("download-methods") == "(upstream)"


def test_a_modern_url_written_otherwise_is_kept(corpus_fods: list[tuple[str, Derivation]]) -> None:
    # The rewrite of an already-modern FOD is the identity whatever the
    # spelling of its url: the old text is kept when it reads the same.
    for _, drv in corpus_fods:
        new = rewrite(drv).derivation
        url = new.getenv("url")
        if new.builder != "builtin:download" or url is None or not url.startswith('"h'):
            continue
        spelled = '"\\x68;' + url[2:]  # "h" as a hex escape
        odd = new.evolve(env=tuple((k, spelled if k == "url" else v) for k, v in new.env))
        again = rewrite(odd)
        assert again.identity and again.derivation is odd
        assert again.derivation.getenv("url") == spelled
        break
    else:  # pragma: no cover - the corpus has downloads
        pytest.fail("no builtin:download in the corpus")


def test_modern_derivation_with_a_known_store_dir(
    corpus_fods: list[tuple[str, Derivation]],
) -> None:
    for path, drv in corpus_fods:
        spec = extract_fetch_spec(drv, path=path)
        assert modern_derivation(spec, drv.system, previous=drv) == modern_derivation(
            spec, drv.system, previous=drv, store_dir="/gnu/store"
        )


def test_executable_downloads(corpus_derivations: dict[str, Derivation]) -> None:
    for drv in corpus_derivations.values():
        if drv.is_fixed_output and drv.outputs[0].recursive and drv.builder == "builtin:download":
            assert rewrite(drv).derivation.getenv("executable") == "1"


@pytest.mark.parametrize(
    ("label", "message"),
    [
        pytest.param(
            "zipbomb",
            "{path}: only fixed-output derivations can be rewritten; this is a zipbomb; "
            "rewrite the FOD it wraps: {wraps}",
            id="non-fod",
        ),
        pytest.param(
            "raw-fod",
            "{path}: unknown fetch method (builder /bin/sh is neither a Guix builtin nor Guile)",
            id="unknown-method",
        ),
    ],
)
def test_refused_with_one_line(hand_store: Any, label: str, message: str) -> None:
    example = hand_store.examples[label]
    with pytest.raises(RewriteError) as info:
        rewrite(example.drv, original_path=example.path)
    assert str(info.value) == message.format(path=example.path, wraps=example.wraps)
