"""Rewriting a whole closure: FODs, re-pointed dependents, unchanged outputs (§3.5)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from revive.core.aterm import read_derivation, serialize_derivation
from revive.core.closure import load_closure
from revive.core.derivation import Derivation, Output
from revive.core.derivation_hash import DerivationHasher, drv_path
from revive.core.errors import MissingStoreItem, StoreError
from revive.core.fetch.closure_rewrite import (
    ClosureRewrite,
    rewrite_closure,
    verify_outputs_unchanged,
    write_derivations,
)
from revive.core.fetch.rewrite import rewrite
from revive.core.store_dir import StoreDir

HELLO = "/gnu/store/gknm68l0q893bpvyhcd4ccih1bmh0j87-hello-2.10.drv"
TXT2MAN = "/gnu/store/w3gsxzynyrvyxizibcpbi5sxmky9y1av-txt2man-1.6.0.drv"


@pytest.fixture(scope="module")
def corpus_graph(guix2020_store: Path) -> Any:
    """The closure of ``guix build -d txt2man`` and ``guix build -d hello`` (2020)."""
    return load_closure([TXT2MAN, HELLO], StoreDir.open(guix2020_store, "/gnu/store"))


@pytest.fixture(scope="module")
def corpus_rewrite(corpus_graph: Any) -> ClosureRewrite:
    """Every FOD of the corpus closure rewritten, dependents re-pointed."""
    return rewrite_closure(corpus_graph)


def test_whole_closure(corpus_graph: Any, corpus_rewrite: ClosureRewrite) -> None:
    result = corpus_rewrite
    fods = {p for p, d in corpus_graph.derivations.items() if d.is_fixed_output}
    assert {r.original_path for r in result.rewrites} == fods
    assert result.failures == ()
    # Every derivation of these closures depends on some download, so every
    # .drv path changes; no output path does.
    assert set(result.mapping) == set(corpus_graph.derivations)
    assert len(result.order) == len(result.derivations) == len(corpus_graph.derivations)
    for old_path, new_path in result.mapping.items():
        old, new = corpus_graph.derivations[old_path], result.derivations[new_path]
        assert new.outputs == old.outputs
        if not old.is_fixed_output:
            # Only the input .drv paths differ (§3.5 step 1).
            assert new.evolve(input_drvs=old.input_drvs) == old
        assert new_path == drv_path(new)
    assert verify_outputs_unchanged(result, corpus_graph) == ()
    assert result.new_path(HELLO) != HELLO
    assert result.derivations[result.new_path(HELLO)].outputs == (
        corpus_graph.derivations[HELLO].outputs
    )
    # The mirror files every new download names, once each.
    assert len(result.added_items) == 3


def test_order_is_inputs_first(corpus_rewrite: ClosureRewrite) -> None:
    position = {path: i for i, path in enumerate(corpus_rewrite.order)}
    for path in corpus_rewrite.order:
        for input_path, _ in corpus_rewrite.derivations[path].input_drvs:
            assert input_path in position and position[input_path] < position[path]


def test_inputs_are_re_pointed(corpus_graph: Any, corpus_rewrite: ClosureRewrite) -> None:
    old_hello = corpus_graph.derivations[HELLO]
    new_hello = corpus_rewrite.derivations[corpus_rewrite.new_path(HELLO)]
    assert new_hello.input_drvs == tuple(
        sorted((corpus_rewrite.new_path(path), outs) for path, outs in old_hello.input_drvs)
    )


def test_fods_only(corpus_graph: Any) -> None:
    result = rewrite_closure(corpus_graph, repoint=False)
    assert not result.repointed
    assert len(result.mapping) == len(result.changed_fods) == 149
    assert all(corpus_graph.derivations[p].is_fixed_output for p in result.mapping)
    assert verify_outputs_unchanged(result, corpus_graph) == ()


def test_a_plain_mapping_works_too(corpus_graph: Any, corpus_rewrite: ClosureRewrite) -> None:
    result = rewrite_closure(dict(corpus_graph.derivations))
    assert dict(result.mapping) == dict(corpus_rewrite.mapping)
    assert set(result.order) == set(corpus_rewrite.order)


def _fod(name: str, url: str, mirrors: str) -> Derivation:
    from revive.core.store_path import fixed_output_path

    digest = bytes(32)
    out = fixed_output_path(name, "sha256", digest, False)
    return Derivation(
        name,
        (Output("out", out, "sha256", digest.hex()),),
        (),
        (mirrors,),
        "x86_64-linux",
        "builtin:download",
        (),
        (("mirrors", mirrors), ("out", out), ("url", url)),
    )


def test_two_fods_becoming_one_are_merged() -> None:
    # GIVEN two downloads of the same file that differ only by their old mirror list
    one = _fod(
        "f.tar.gz", '"https://x/f.tar.gz"', "/gnu/store/0mxnx8l4fgigvd7gakwdk6hc6im4wnai-mirrors"
    )
    two = _fod(
        "f.tar.gz", '"https://x/f.tar.gz"', "/gnu/store/1mxnx8l4fgigvd7gakwdk6hc6im4wnai-mirrors"
    )
    p1, p2 = drv_path(one), drv_path(two)
    user = Derivation(
        "user-1.0",
        (Output("out", ""),),
        ((p1, ("out",)), (p2, ("out",))),
        (),
        "x86_64-linux",
        "/bin/sh",
        (),
        (("out", ""),),
    )
    # (give the user its real output path)
    out = DerivationHasher({p1: one, p2: two}).output_paths(user)["out"]
    user = user.evolve(outputs=(Output("out", out),), env=(("out", out),))
    graph = {p1: one, p2: two, drv_path(user): user}
    # WHEN the closure is rewritten
    result = rewrite_closure(graph)
    # THEN both become the same new FOD, and the user lists it once
    assert result.mapping[p1] == result.mapping[p2]
    new_user = result.derivations[result.mapping[drv_path(user)]]
    assert new_user.input_drvs == ((result.mapping[p1], ("out",)),)
    assert verify_outputs_unchanged(result, graph) == ()


def test_verification_catches_a_changed_output(corpus_graph: Any) -> None:
    result = rewrite_closure(corpus_graph)
    victim = result.order[-1]
    bad = result.derivations[victim].evolve(
        env=tuple((k, v + "x" if k == "name" else v) for k, v in result.derivations[victim].env)
        + (("zzz", "changed"),)
    )
    tampered = ClosureRewrite(
        result.rewrites,
        result.mapping,
        {**result.derivations, victim: bad},
        result.order,
        result.added_items,
        result.failures,
        result.repointed,
    )
    problems = verify_outputs_unchanged(tampered, corpus_graph)
    assert problems[0] == f"{victim}: the .drv path does not match its text"
    assert any(p.startswith(f"{victim}: output out would be ") for p in problems)


def test_failures_are_kept(hand_store: Any) -> None:
    raw = hand_store.examples["raw-fod"]
    cvs = hand_store.examples["cvs-script"]
    result = rewrite_closure({raw.path: raw.drv, cvs.path: cvs.drv}, hand_store.read_item)
    assert result.failures == (
        (raw.path, f"{raw.path}: unknown fetch method (builder /bin/sh is neither a Guix "
                   "builtin nor Guile)"),
    )  # fmt: skip
    assert list(result.mapping) == [cvs.path]

    def nothing(path: str) -> bytes:
        raise MissingStoreItem(path)

    missing = rewrite_closure({cvs.path: cvs.drv}, nothing)
    assert missing.failures == (
        (cvs.path, f"{cvs.script}: not in the store (needed to extract the fetch parameters)"),
    )


def test_write_derivations(tmp_path: Path, corpus_rewrite: ClosureRewrite) -> None:
    report = write_derivations(corpus_rewrite, tmp_path)
    assert len(report.written) == len(corpus_rewrite.order) + 3 and report.present == ()
    for path in corpus_rewrite.order:
        file = tmp_path / path.rsplit("/", 1)[1]
        assert file.read_text() == serialize_derivation(corpus_rewrite.derivations[path])
        assert drv_path(read_derivation(str(file), path)) == path
        assert not os.access(file, os.W_OK) or os.geteuid() == 0
    for item in corpus_rewrite.added_items:
        assert (tmp_path / item.path.rsplit("/", 1)[1]).read_bytes() == item.contents
    assert not list(tmp_path.glob(".tmp-*"))
    # Writing again finds everything already there.
    again = write_derivations(corpus_rewrite, tmp_path)
    assert again.written == () and set(again.present) == set(report.written)


def test_write_never_overwrites(tmp_path: Path, corpus_fods: list[tuple[str, Derivation]]) -> None:
    path, drv = corpus_fods[0]
    result = rewrite(drv, original_path=path)
    name = result.drv_path.rsplit("/", 1)[1]
    (tmp_path / name).write_text("something else")
    with pytest.raises(StoreError) as info:
        write_derivations(result, tmp_path)
    assert str(info.value) == (
        f"{tmp_path / name}: already exists with different contents; not overwritten "
        f"(it should be {name[33:]})"
    )
    assert (tmp_path / name).read_text() == "something else"
    assert not list(tmp_path.glob(".tmp-*"))


def test_write_needs_a_directory(tmp_path: Path, corpus_fods: list[tuple[str, Derivation]]) -> None:
    result = rewrite(corpus_fods[0][1])
    with pytest.raises(StoreError, match="no such directory"):
        write_derivations(result, tmp_path / "absent")
    same = rewrite(result.derivation)
    assert write_derivations(same, tmp_path).written == tuple(i.path for i in same.added_items)
