"""The outline: first occurrences in depth-first pre-order, next/previous, reveal chains."""

from __future__ import annotations

from revive.core.outline import build_outline

# root → a, b; a → c, d; b → d, e; d → f
GRAPH = {
    "root": ["a", "b"],
    "a": ["c", "d"],
    "b": ["d", "e"],
    "c": [],
    "d": ["f"],
    "e": [],
    "f": [],
}


def outline():
    return build_outline(["root"], lambda p: GRAPH[p])


def test_pre_order_and_first_parents() -> None:
    out = outline()
    assert out.order == ("root", "a", "c", "d", "f", "b", "e")
    assert dict(out.first_parent) == {
        "root": "",
        "a": "root",
        "c": "a",
        "d": "a",
        "f": "d",
        "b": "root",
        "e": "b",
    }


def test_first_occurrence_is_above_every_other() -> None:
    out = outline()
    assert out.is_first_occurrence("d", "a")
    assert not out.is_first_occurrence("d", "b")
    assert out.is_first_occurrence("root", None)
    assert not out.is_first_occurrence("unknown", None)


def test_path_from_root() -> None:
    out = outline()
    assert out.path_from_root("f") == ("root", "a", "d", "f")
    assert out.path_from_root("root") == ("root",)
    assert out.path_from_root("nowhere") == ()


def test_neighbour_wraps_both_ways() -> None:
    out = outline()
    leaves = out.positions(["c", "f", "e"])
    assert out.neighbour("root", leaves) == "c"
    assert out.neighbour("c", leaves) == "f"
    assert out.neighbour("e", leaves) == "c"
    assert out.neighbour("c", leaves, backwards=True) == "e"
    assert out.neighbour(None, leaves, backwards=True) == "e"
    assert out.neighbour("d", leaves, backwards=True) == "c"
    assert out.neighbour("root", ()) is None


def test_duplicate_roots_and_deep_chains() -> None:
    depth = 50_000
    chain = {str(i): [str(i + 1)] if i < depth else [] for i in range(depth + 1)}
    out = build_outline(["0", "0"], lambda p: chain[p])
    assert out.roots == ("0",)
    assert len(out) == depth + 1
    assert len(out.path_from_root(str(depth))) == depth + 1
