"""The derivation graph: nodes, edges, orders, statistics and "why" queries."""

from __future__ import annotations

import graphlib
import hashlib
import json
from collections import deque
from pathlib import Path
from typing import Any

import pytest

from revive.core import base32
from revive.core.closure import load_closure
from revive.core.derivation import Derivation, Output
from revive.core.errors import MissingStoreItem
from revive.core.graph import DerivationGraph, builder_kind
from revive.core.store_dir import StoreDir

HELLO = "/gnu/store/gknm68l0q893bpvyhcd4ccih1bmh0j87-hello-2.10.drv"
TXT2MAN = "/gnu/store/w3gsxzynyrvyxizibcpbi5sxmky9y1av-txt2man-1.6.0.drv"


@pytest.fixture(scope="module")
def corpus_graph(guix2020_store: Path) -> DerivationGraph:
    """The whole 2020 corpus, loaded from the two package roots (401 nodes)."""
    return load_closure([TXT2MAN, HELLO], StoreDir.open(guix2020_store))


@pytest.fixture(scope="module")
def roots_json(corpus_dir: Path) -> dict[str, Any]:
    """What Guix printed for each command of the corpus, with closure sizes."""
    data: dict[str, Any] = json.loads((corpus_dir / "guix-2020" / "roots.json").read_text())
    return data


def fake_path(name: str) -> str:
    """A well-formed store path for an in-memory test derivation."""
    digest = hashlib.sha256(name.encode()).digest()[:20]
    return f"/gnu/store/{base32.encode(digest)}-{name}.drv"


def fake_drv(
    name: str, *inputs: str | tuple[str, tuple[str, ...]], fixed: bool = False
) -> Derivation:
    """A small derivation named ``name`` depending on ``inputs`` (paths or edges)."""
    edges = tuple(sorted((i, ("out",)) if isinstance(i, str) else i for i in inputs))
    out = Output(
        "out",
        f"/gnu/store/{'x' * 32}-{name}",
        "sha256" if fixed else "",
        "ab" * 32 if fixed else "",
    )
    return Derivation(name, (out,), edges, (), "x86_64-linux", "/bin/sh")


def test_corpus_closure_sizes_match_guix(
    corpus_graph: DerivationGraph, roots_json: dict[str, Any]
) -> None:
    """Closure sizes equal what Guix counted for each printed root."""
    assert len(corpus_graph) == 401
    for entry in roots_json.values():
        for root, count in entry["closure_drv_count"].items():
            assert len(corpus_graph.closure(root)) == count


def test_corpus_nodes_and_fixed_outputs(
    corpus_graph: DerivationGraph, guix2020_truth: dict[str, dict[str, Any]]
) -> None:
    """Every node is loaded, and fixed-output flags agree with Guix's reading."""
    assert set(corpus_graph) == set(guix2020_truth)
    assert corpus_graph.roots == (TXT2MAN, HELLO)
    for path, entry in guix2020_truth.items():
        node = corpus_graph.node(path)
        assert node.loaded and not node.missing and node.error is None
        assert node.is_fixed_output == entry["fixed_output"]
        assert corpus_graph.is_fixed_output(path) == entry["fixed_output"]
        assert node.name == Path(path).name[33:-4]


def test_edges_are_labelled_and_referrers_invert_them(corpus_graph: DerivationGraph) -> None:
    """inputs() carries output names; referrers() is its exact inverse."""
    forward = {(p, i) for p in corpus_graph for i, _ in corpus_graph.inputs(p)}
    backward = {(r, p) for p in corpus_graph for r in corpus_graph.referrers(p)}
    assert forward == backward
    labels = {outs for p in corpus_graph for _, outs in corpus_graph.inputs(p)}
    assert ("out",) in labels and any("lib" in outs for outs in labels)
    assert corpus_graph.referrers(TXT2MAN) == ()


def test_topological_order_puts_inputs_first(corpus_graph: DerivationGraph) -> None:
    """Every input comes before every derivation that uses it."""
    order = corpus_graph.topological_order()
    assert sorted(order) == sorted(corpus_graph)
    position = {path: i for i, path in enumerate(order)}
    for path in corpus_graph:
        for input_path, _ in corpus_graph.inputs(path):
            assert position[input_path] < position[path]


def test_sorter_builds_one_node_at_a_time(corpus_graph: DerivationGraph) -> None:
    """The graphlib sorter over a closure yields ready nodes whose inputs are done."""
    sorter = corpus_graph.sorter(HELLO)
    sorter.prepare()
    done: set[str] = set()
    while sorter.is_active():
        for path in sorter.get_ready():
            assert all(i in done for i, _ in corpus_graph.inputs(path))
            done.add(path)
            sorter.done(path)
    assert done == corpus_graph.closure(HELLO)


def test_stats_of_the_corpus(
    corpus_graph: DerivationGraph, guix2020_truth: dict[str, dict[str, Any]]
) -> None:
    """Statistics agree with counts made directly from the truth file."""
    stats = corpus_graph.stats()
    assert stats.derivations == 401
    assert stats.missing == stats.malformed == 0
    assert stats.edges == sum(len(e["input_drvs"]) for e in guix2020_truth.values())
    sources = {s for e in guix2020_truth.values() for s in e["input_srcs"]}
    assert stats.input_sources == len(sources)
    assert stats.systems == (("x86_64-linux", 401),)
    assert dict(stats.builtins) == {"builtin:download": stats.fixed_output - 1}
    assert sum(n for _, n in stats.builders) == 401
    assert stats.roots == 2
    assert stats.max_depth > 50
    top, count = stats.top_fan_in[0]
    assert count == len(corpus_graph.referrers(top))
    hello = corpus_graph.stats(HELLO)
    assert hello.derivations == 210 and hello.roots == 1
    assert hello.max_depth <= stats.max_depth


def test_builder_kind() -> None:
    """Builders are classified as builtin, guile or other."""
    assert builder_kind("builtin:download") == "builtin"
    assert builder_kind("/gnu/store/aaa-guile-2.2.6/bin/guile") == "guile"
    assert builder_kind("/gnu/store/aaa-bash/bin/bash") == "other"


def _distances(graph: DerivationGraph, source: str) -> dict[str, int]:
    dist = {source: 0}
    queue = deque([source])
    while queue:
        path = queue.popleft()
        for input_path, _ in graph.inputs(path):
            if input_path not in dist:
                dist[input_path] = dist[path] + 1
                queue.append(input_path)
    return dist


def test_why_returns_every_shortest_path(corpus_graph: DerivationGraph) -> None:
    """why(hello, gmp) lists every shortest path to each gmp node, all valid."""
    paths = corpus_graph.why(HELLO, "gmp")
    assert len(paths) == corpus_graph.count_why(HELLO, "gmp") > 1
    assert len(set(paths)) == len(paths)
    dist = _distances(corpus_graph, HELLO)
    reachable = {t for t in corpus_graph.find("gmp") if t in dist}
    assert {p[-1] for p in paths} == reachable
    for path in paths:
        assert path[0] == HELLO
        assert len(path) - 1 == dist[path[-1]]
        for a, b in zip(path, path[1:], strict=False):
            assert b in {i for i, _ in corpus_graph.inputs(a)}
    assert [len(p) for p in paths] == sorted(len(p) for p in paths)
    assert len(corpus_graph.why(HELLO, "gmp", limit=3)) == 3


def test_why_by_path_and_unreachable(corpus_graph: DerivationGraph) -> None:
    """A target given as a store path or base name; unreachable targets give nothing."""
    direct = corpus_graph.inputs(HELLO)[0][0]
    assert corpus_graph.why(HELLO, direct) == ((HELLO, direct),)
    assert corpus_graph.why(HELLO, direct.rsplit("/", 1)[1]) == ((HELLO, direct),)
    assert corpus_graph.why(HELLO, HELLO) == ((HELLO,),)
    assert corpus_graph.why(HELLO, "txt2man") == ()
    assert corpus_graph.why(HELLO, "no-such-thing") == ()
    with pytest.raises(KeyError):
        corpus_graph.why("/gnu/store/nothing.drv", "gmp")


def test_find_rule() -> None:
    """Exact names win; otherwise a name matches name-<digit…> only."""
    names = ["gmp-6.1.2", "gmp-6.2.0", "gmp-mpfr-1.0", "gmpx-1", "hello-2.10"]
    derivs = {fake_path(n): fake_drv(n) for n in names}
    graph = DerivationGraph.from_derivations("/gnu/store", list(derivs), derivs)
    assert graph.find("gmp") == tuple(sorted([fake_path("gmp-6.1.2"), fake_path("gmp-6.2.0")]))
    assert graph.find("gmp-6.1.2") == (fake_path("gmp-6.1.2"),)
    assert graph.find("gmp-6.1.2.drv") == (fake_path("gmp-6.1.2"),)
    assert graph.find("gmp-mpfr") == (fake_path("gmp-mpfr-1.0"),)
    assert graph.find(fake_path("hello-2.10")) == (fake_path("hello-2.10"),)
    assert graph.find(fake_path("hello-2.10").rsplit("/", 1)[1][:-4]) == (fake_path("hello-2.10"),)
    assert graph.find("") == graph.find("gm") == ()


def test_from_derivations_adds_missing_inputs() -> None:
    """An input known nowhere becomes a missing node; diamonds give several paths."""
    a, b, c, d, gone = (fake_path(n) for n in ("a-1", "b-1", "c-1", "d-1", "gone-1"))
    derivs = {
        a: fake_drv("a-1", b, c),
        b: fake_drv("b-1", (d, ("lib", "out"))),
        c: fake_drv("c-1", d),
        d: fake_drv("d-1", gone, fixed=False),
    }
    graph = DerivationGraph.from_derivations("/gnu/store", (a,), derivs)
    assert len(graph) == 5 and list(graph)[0] == a
    node = graph.node(gone)
    assert node.missing and not node.loaded and node.derivation is None
    assert node.error == f"{gone}: not in the store"
    assert graph.inputs(gone) == ()
    with pytest.raises(MissingStoreItem, match="not in the store"):
        graph.derivation(gone)
    with pytest.raises(KeyError):
        graph.node(fake_path("elsewhere-1"))
    assert graph.inputs(b) == ((d, ("lib", "out")),)
    assert graph.why(a, "d") == tuple(sorted([(a, b, d), (a, c, d)]))
    assert graph.count_why(a, "gone") == 2
    assert graph.referrers(d) == tuple(sorted([b, c]))
    stats = graph.stats()
    assert (stats.derivations, stats.missing, stats.edges, stats.output_edges) == (5, 1, 5, 6)
    assert stats.max_depth == 3 and stats.leaves == 1


def test_cycle_is_reported_by_graphlib() -> None:
    """A hand-made cyclic graph cannot be ordered (real store paths cannot cycle)."""
    a, b = fake_path("a-1"), fake_path("b-1")
    graph = DerivationGraph.from_derivations(
        "/gnu/store", (a,), {a: fake_drv("a-1", b), b: fake_drv("b-1", a)}
    )
    with pytest.raises(graphlib.CycleError):
        graph.topological_order()
