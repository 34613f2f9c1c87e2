"""core.verify agrees with core.derivation_hash, on real and generated closures."""

from __future__ import annotations

import base64
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revive.core import _drv_scan, verify
from revive.core.aterm import parse_derivation_bytes, serialize_derivation
from revive.core.closure import load_closure
from revive.core.compiled import COMPILED
from revive.core.derivation import Derivation, Output
from revive.core.derivation_hash import DerivationHasher, drv_path, masked
from revive.core.graph import DerivationGraph
from revive.core.store_dir import StoreDir
from revive.core.store_path import fixed_output_path
from revive.core.verify import Mismatch, VerifyCancelled, _Checker, verify_graph

HELLO = "/gnu/store/gknm68l0q893bpvyhcd4ccih1bmh0j87-hello-2.10.drv"
TXT2MAN = "/gnu/store/w3gsxzynyrvyxizibcpbi5sxmky9y1av-txt2man-1.6.0.drv"


def test_corpus_hashes_equal_the_reference(guix2020_store: Path) -> None:
    """Every hash modulo computed by the splicing checker equals DerivationHasher's."""
    store = StoreDir.open(guix2020_store)
    graph = load_closure([TXT2MAN, HELLO], store)
    report = verify_graph(graph)
    assert report.ok and report.summary() == (
        "401 derivations, 149 fixed-output, 0 mismatches, 0 missing"
    )
    assert verify_graph(graph, store=store) == report
    # With the bytes the loader read (each taken out once hashed).
    texts: dict[str, bytes] = {}
    assert load_closure([TXT2MAN, HELLO], store, texts=texts).derivations == graph.derivations
    assert len(texts) == 401
    assert verify_graph(graph, store=store, texts=texts) == report
    assert not texts or not COMPILED  # (the pure-Python checker serializes instead)
    reference = DerivationHasher(graph.derivation)
    # Serialized, and cut out of the files' bytes.
    for checker in (_Checker(graph), _Checker(graph, store)):
        for path in graph.topological_order():
            checker.check(path, graph.get(path))
        for path in graph:
            assert checker.memo[path] == reference.hash_of_path(path).hex()


def test_every_corpus_file_takes_the_bytes_path(guix2020_store: Path) -> None:
    """Real Guix files are canonical: the compiled cutter accepts every one of them."""
    store = StoreDir.open(guix2020_store)
    graph = load_closure([TXT2MAN, HELLO], store)
    for path in graph:
        data = (guix2020_store / Path(path).name).read_bytes()
        assert _drv_scan.hash_texts(data, graph.derivation(path).fields(), None) == ()


def test_nix_vectors_verify_in_both_store_dirs(nix_vectors: dict[str, Any], tmp_path: Path) -> None:
    """The closures real Nix 2.8 wrote (both store dirs) have no mismatch."""
    for entry in nix_vectors["derivations"]:
        for store_dir in ("/nix/store", "/gnu/store"):
            vector = entry[store_dir]
            folder = tmp_path / entry["name"] / store_dir.strip("/").replace("/", "-")
            folder.mkdir(parents=True)
            for path, text in vector["closure_drvs_b64"].items():
                (folder / Path(path).name).write_bytes(base64.b64decode(text))
            store = StoreDir(store_dir, folder)
            texts: dict[str, bytes] = {}
            graph = load_closure([vector["drv_path"]], store, texts=texts)
            report = verify_graph(graph)
            assert report.ok and not report.missing, (entry["name"], report.mismatches)
            assert verify_graph(graph, store=store) == report
            assert verify_graph(graph, store=store, texts=texts) == report


# Strings that exercise escaping in every field the checker splices.
NASTY = st.text(alphabet=st.sampled_from(list('ab"\\\n\t\r,()[]é')), max_size=6)
NAMES = st.text(alphabet=st.sampled_from(list("abcxyz-._+?=0123456789")), min_size=1, max_size=8)
OUTPUT_NAMES = st.sampled_from(["out", "dev", "lib", "doc", "bin"])


@st.composite
def closures(draw: st.DrawFn) -> tuple[dict[str, Derivation], list[str]]:
    """A small closure with correct paths (computed by derivation_hash), bottom-up."""
    derivs: dict[str, Derivation] = {}
    order: list[str] = []
    hasher = DerivationHasher(derivs)
    for index in range(draw(st.integers(1, 6))):
        name = f"n{index}-" + draw(NAMES).lstrip(".")
        if draw(st.booleans()) or not order:
            # A FOD; several may share one hash and name (then one hash modulo).
            algo = draw(st.sampled_from(["sha256", "r:sha256", "sha1"]))
            size = 20 if algo == "sha1" else 32
            digest = draw(st.sampled_from([b"\x01" * size, b"\x02" * size]))
            out_path = fixed_output_path(
                name, algo.removeprefix("r:"), digest, algo.startswith("r:"), "/gnu/store"
            )
            env = {"out": out_path, "url": draw(NASTY)}
            drv = Derivation(
                name,
                (Output("out", out_path, algo, digest.hex()),),
                (),
                (),
                "x86_64-linux",
                "builtin:download",
                (),
                tuple(sorted(env.items())),
            )
        else:
            outs = tuple(sorted(set(draw(st.lists(OUTPUT_NAMES, min_size=1, max_size=3)))))
            picked = draw(st.lists(st.sampled_from(order), min_size=1, max_size=4, unique=True))
            inputs = tuple(
                sorted(
                    (p, tuple(sorted({draw(st.sampled_from(derivs[p].output_names))})))
                    for p in picked
                )
            )
            env = {"phases": draw(NASTY), draw(NASTY): draw(NASTY)}
            env.update(dict.fromkeys(outs, ""))
            blank = Derivation(
                name,
                tuple(Output(o, "") for o in outs),
                inputs,
                ("/gnu/store/" + "s" * 32 + "-src",),
                "x86_64-linux",
                "/bin/sh",
                tuple(draw(st.lists(NASTY, max_size=3))),
                tuple(sorted(env.items())),
            )
            paths = hasher.output_paths(masked(blank))
            drv = blank.evolve(
                outputs=tuple(Output(o, paths[o]) for o in outs),
                env=tuple(sorted({**env, **paths}.items())),
            )
        path = drv_path(drv)
        # A .drv text round-trips exactly (the checker re-serializes).
        assert parse_derivation_bytes(serialize_derivation(drv).encode(), name=name) == drv
        derivs[path] = drv
        order.append(path)
    return derivs, order


@settings(max_examples=80, deadline=None)
@given(closures())
def test_generated_closures_verify(closure: tuple[dict[str, Derivation], list[str]]) -> None:
    """Paths computed by derivation_hash are exactly what verify recomputes."""
    derivs, order = closure
    graph = DerivationGraph.from_derivations("/gnu/store", (order[-1],), derivs)
    report = verify_graph(graph)
    assert report.mismatches == () and report.unchecked == ()


def write_store(folder: Path, derivs: dict[str, Derivation]) -> StoreDir:
    """Each derivation written, canonically, to its ``.drv`` file in ``folder``."""
    folder.mkdir(exist_ok=True)
    for path, drv in derivs.items():
        (folder / Path(path).name).write_bytes(serialize_derivation(drv).encode())
    return StoreDir("/gnu/store", folder)


@settings(max_examples=60, deadline=None)
@given(closure=closures(), data=st.data())
def test_the_bytes_path_reports_what_serializing_reports(
    closure: tuple[dict[str, Derivation], list[str]], data: st.DataObject, tmp_path_factory: Any
) -> None:
    """Files as written, damaged, or not what the node holds: the same report both ways."""
    derivs, order = closure
    folder = tmp_path_factory.mktemp("store")
    store = write_store(folder, derivs)
    # Some nodes differ from their file (a stale cache), some files are
    # rewritten non-canonically or damaged, some are deleted.
    for path in data.draw(st.lists(st.sampled_from(order), max_size=3, unique=True)):
        file = folder / Path(path).name
        text = file.read_bytes()
        change = data.draw(st.sampled_from(["node", "escape", "newline", "cut", "gone"]))
        if change == "node":
            drv = derivs[path]
            derivs[path] = drv.evolve(env=(*drv.env, ("extra", data.draw(NASTY))))
        elif change == "escape":  # \a reads as "a": same node, other bytes
            file.write_bytes(text.replace(b"a", b"\\a", 1))
        elif change == "newline":  # a raw newline reads as an escaped one
            file.write_bytes(text.replace(b"\\n", b"\n", 1))
        elif change == "cut":
            file.write_bytes(text[: data.draw(st.integers(0, len(text)))])
        else:
            file.unlink()
    graph = DerivationGraph.from_derivations("/gnu/store", (order[-1],), derivs)
    assert verify_graph(graph, store=store) == verify_graph(graph)


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "pure-python"])
@settings(max_examples=60, deadline=None)
@given(closure=closures(), data=st.data())
def test_the_loaders_bytes_give_what_serializing_gives(
    compiled: bool,
    closure: tuple[dict[str, Derivation], list[str]],
    data: st.DataObject,
    tmp_path_factory: Any,
) -> None:
    """Bytes handed over by the loader, then the files changed or deleted: the same report.

    The bytes are what was parsed, whatever the files hold now; bytes that
    are not the node's (handed over wrongly, cut, or of another file) take
    the serializing path like a changed file does, with the compiled module
    or without it.
    """
    with pytest.MonkeyPatch.context() as patch:
        if not compiled:
            patch.setattr(verify, "_verify_paths", None)
            patch.setattr(verify, "_verify_closure", None)
        _check_loaders_bytes(closure, data, tmp_path_factory)


def _check_loaders_bytes(
    closure: tuple[dict[str, Derivation], list[str]], data: st.DataObject, tmp_path_factory: Any
) -> None:
    derivs, order = closure
    folder = tmp_path_factory.mktemp("store")
    store = write_store(folder, derivs)
    for path in data.draw(st.lists(st.sampled_from(order), max_size=2, unique=True)):
        file = folder / Path(path).name
        if data.draw(st.booleans()):
            file.write_bytes(file.read_bytes().replace(b"a", b"\\a", 1))  # not canonical
        else:
            file.unlink()
    texts: dict[str, bytes] = {}
    graph = load_closure([order[-1]], store, texts=texts)
    reference = verify_graph(graph)
    # After loading: files changed again or deleted, bytes swapped between nodes.
    for path in data.draw(st.lists(st.sampled_from(order), max_size=3, unique=True)):
        change = data.draw(st.sampled_from(["rewrite", "gone", "swap", "drop", "cut"]))
        file = folder / Path(path).name
        if change == "rewrite" and file.exists():
            file.write_bytes(file.read_bytes() + b" ")
        elif change == "gone":
            file.unlink(missing_ok=True)
        elif change == "swap" and path in texts:
            texts[path] = texts[data.draw(st.sampled_from(sorted(texts)))]
        elif change == "drop":
            texts.pop(path, None)
        elif change == "cut" and path in texts:
            texts[path] = texts[path][:-1]
    assert verify_graph(graph, store=store, texts=texts) == reference


def test_a_wrong_output_path_is_one_mismatch(guix2020_store: Path) -> None:
    """Changing an output path (env kept in step) is reported once, with the right path."""
    graph = load_closure([HELLO], StoreDir.open(guix2020_store))
    drv = graph.derivation(HELLO)
    right = drv.outputs[0].path
    wrong = right.replace("kg9m", "aaaa")
    changed = drv.evolve(
        outputs=(Output("out", wrong),),
        env=tuple((k, wrong if k == "out" else v) for k, v in drv.env),
    )
    derivs = {**graph.derivations, HELLO: changed}
    report = verify_graph(DerivationGraph.from_derivations("/gnu/store", (HELLO,), derivs))
    assert Mismatch(HELLO, "output", wrong, right, "out") in report.mismatches
    assert [m.kind for m in report.mismatches] == ["drv-path", "output"]


def test_a_dependency_cycle_is_unchecked_not_a_hang() -> None:
    """A -> B -> A (a corrupt copy of a store), and C using A: each said once, in graph order."""

    def node(name: str, *inputs: str) -> Derivation:
        return Derivation(
            name,
            (Output("out", f"/gnu/store/{'o' * 32}-{name}"),),
            tuple((p, ("out",)) for p in inputs),
            (),
            "x86_64-linux",
            "/bin/sh",
            (),
            (("out", f"/gnu/store/{'o' * 32}-{name}"),),
        )

    a, b, c = (f"/gnu/store/{x * 32}-{x}.drv" for x in "abc")
    derivs = {c: node("c", a), a: node("a", b), b: node("b", a)}
    graph = DerivationGraph.from_derivations("/gnu/store", (c,), derivs)
    report = verify_graph(graph)
    assert report.unchecked == (
        (c, f"{c}: input {a} is missing or unreadable"),
        (a, f"{a}: dependency cycle"),
        (b, f"{b}: input {a} is missing or unreadable"),
    )
    assert {m.kind for m in report.mismatches} == {"drv-path"}


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from("abcd"), st.lists(NASTY, max_size=2).map(tuple)), max_size=5)
)
def test_replaced_inputs_are_written_as_the_serializer_writes_them(
    inputs: list[tuple[str, tuple[str, ...]]],
) -> None:
    """Hashes sorted, equal hashes merged, names escaped: the text of the replaced derivation."""
    hashes = {p: (p * 64 if p != "d" else "a" * 64) for p in "abcd"}  # d's hash is a's
    edges = tuple((f"/gnu/store/{p * 32}-{p}.drv", names) for p, names in inputs)
    checker = _Checker(DerivationGraph.from_derivations("/gnu/store", (), {}))
    for path, _ in edges:
        checker.memo[path] = hashes[path[11]]
    drv = Derivation("x", (), edges, (), "s", "b", (), ())
    # The rule of derivation_hash: an input alone keeps its names as written.
    merged: dict[str, tuple[str, ...]] = {}
    for path, names in edges:
        known = merged.get(hashes[path[11]])
        merged[hashes[path[11]]] = names if known is None else tuple(sorted({*known, *names}))
    reference = serialize_derivation(drv.evolve(input_drvs=tuple(sorted(merged.items()))))
    written = checker._replaced("/gnu/store/x.drv", drv)
    assert written is not None
    assert reference == serialize_derivation(drv.evolve(input_drvs=())).replace(
        "],[],[", f"],[{written}],[", 1
    )


def _fallbacks(monkeypatch: Any) -> list[str]:
    """The paths the Python checker is handed (by the compiled walk, or the Python one)."""
    seen: list[str] = []
    check = _Checker.check

    def spy(self: _Checker, path: str, drv: Derivation | None) -> None:
        seen.append(path)
        check(self, path, drv)

    monkeypatch.setattr(_Checker, "check", spy)
    return seen


@pytest.mark.skipif(COMPILED is False, reason="the compiled module is not built")
def test_the_compiled_walk_checks_every_corpus_node_itself(
    guix2020_store: Path, monkeypatch: Any
) -> None:
    """Real Guix files, fixed-output ones too, never reach the Python checker."""
    store = StoreDir.open(guix2020_store)
    texts: dict[str, bytes] = {}
    graph = load_closure([TXT2MAN, HELLO], store, texts=texts)
    reference = verify_graph(graph)
    seen = _fallbacks(monkeypatch)
    # The loader's bytes, then the files read again.
    assert verify_graph(graph, store=store, texts=texts) == reference and not texts
    assert verify_graph(graph, store=store) == reference
    assert seen == []


def test_a_cycle_in_a_store_is_reported_as_in_memory(tmp_path: Path) -> None:
    """The compiled walk finds the cycle A -> B -> A where the Python walk does."""

    def node(name: str, *inputs: str) -> Derivation:
        out = f"/gnu/store/{'o' * 32}-{name}"
        edges = tuple((p, ("out",)) for p in inputs)
        env = (("out", out),)
        return Derivation(name, (Output("out", out),), edges, (), "s", "/bin/sh", (), env)

    a, b, c = (f"/gnu/store/{x * 32}-{x}.drv" for x in "abc")
    derivs = {c: node("c", a), a: node("a", b), b: node("b", a)}
    store = write_store(tmp_path / "store", derivs)
    graph = load_closure([c], store)
    report = verify_graph(graph, store=store)
    assert report == verify_graph(graph)
    assert (a, f"{a}: dependency cycle") in report.unchecked


def test_verifying_stops_when_cancelled(guix2020_store: Path) -> None:
    """A set cancel event stops the walk (compiled or not) at its first progress report."""
    store = StoreDir.open(guix2020_store)
    graph = load_closure([TXT2MAN, HELLO], store)
    seen: list[tuple[int, int]] = []
    verify_graph(graph, store=store, progress=lambda *step: seen.append(step))
    assert seen == [(256, 401), (401, 401)]
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(VerifyCancelled, match="after 256 derivations"):
        verify_graph(graph, store=store, progress=lambda *step: seen.append(step), cancel=cancel)
    assert len(seen) == 2


def test_canonical_escapes_are_the_serializers() -> None:
    """Escaped backslashes do not hide an escape the serializer never writes."""
    assert verify._canonical_escapes(b'"a\\\\n\\"b\\\\\\\\"')
    assert not verify._canonical_escapes(b'"\\\\\\a"')
    assert not verify._canonical_escapes(b'"\\a"')
    assert not verify._canonical_escapes(b'"a\tb"')
