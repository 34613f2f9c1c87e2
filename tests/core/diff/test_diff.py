"""The structured derivation diff: text highlights, matching, FOD equivalence, recursion."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from revive.core.derivation import Derivation, Output
from revive.core.derivation_hash import drv_path
from revive.core.diff import (
    ChangeKind,
    DerivationDiff,
    FoldReason,
    SegmentKind,
    TextDiff,
    TextSegment,
    align,
    diff_as_dict,
    diff_derivations,
    diff_text,
    equivalent,
    name_stem,
    walk,
)
from revive.core.store_path import text_path

Lookup = Callable[[str], Derivation | None]
CorpusDrv = Callable[[str], tuple[str, Derivation]]

HELLO = "mspyllkw4d2395akavrkjkiw1p448p9a-hello-2.10.tar.gz.drv"
GMP_A = "09cr25ckx4ff35sb2l59dsg52p2ir7qh-gmp-6.1.2.drv"
GMP_B = "7ydfdazd5sw0mb76mzcdvw73lzxsba98-gmp-6.1.2.drv"
CHECKOUT = "/gnu/store/ba80al8r1yn09d0vy29h534igdlszdh7-txt2man-1.6.0-checkout"
EQ, INS, DEL = SegmentKind.EQUAL, SegmentKind.INSERT, SegmentKind.DELETE


def none(_: str) -> Derivation | None:
    """A lookup that finds nothing."""
    return None


def sides(diff: TextDiff) -> tuple[list[tuple[str, str, bool]], list[tuple[str, str, bool]]]:
    """Both sides of a text diff as comparable tuples."""

    def side(segments: tuple[TextSegment, ...]) -> list[tuple[str, str, bool]]:
        return [(s.kind.value, s.text, s.in_changed_word) for s in segments]

    return side(diff.old), side(diff.new)


# --- text --------------------------------------------------------------------------


def test_changed_characters_inside_a_changed_word() -> None:
    # GIVEN a version bump, WHEN diffed, THEN only the last digit is strong,
    # the rest of the changed word is a soft highlight.
    assert sides(diff_text("2.10", "2.12")) == (
        [("equal", "2.", False), ("equal", "1", True), ("delete", "0", True)],
        [("equal", "2.", False), ("equal", "1", True), ("insert", "2", True)],
    )


def test_url_change_is_cut_at_word_boundaries() -> None:
    old, new = sides(
        diff_text(
            "mirror://gnu/hello/hello-2.10.tar.gz",
            "https://ftp.gnu.org/gnu/hello/hello-2.10.tar.gz",
        )
    )
    assert old == [("delete", "mirror", True), ("equal", "://gnu/hello/hello-2.10.tar.gz", False)]
    assert new == [
        ("insert", "https", True),
        ("equal", "://", False),
        ("insert", "ftp.gnu.org/", False),
        ("equal", "gnu/hello/hello-2.10.tar.gz", False),
    ]


def test_deleted_words_are_not_changed_words() -> None:
    assert sides(diff_text("-O2 -g", "-O2")) == (
        [("equal", "-O2", False), ("delete", " -g", False)],
        [("equal", "-O2", False)],
    )


def test_unrelated_hashes_change_as_whole_words() -> None:
    # Two random store hashes share letters by chance: no character noise.
    old = "/gnu/store/h1nnwnrbwr7vcllyn1k0p55lkdz0clhh-mirrors"
    new = "/gnu/store/0mxnx8l4fgigvd7gakwdk6hc6im4wnai-mirrors"
    assert sides(diff_text(old, new)) == (
        [
            ("equal", "/gnu/store/", False),
            ("delete", "h1nnwnrbwr7vcllyn1k0p55lkdz0clhh", True),
            ("equal", "-mirrors", False),
        ],
        [
            ("equal", "/gnu/store/", False),
            ("insert", "0mxnx8l4fgigvd7gakwdk6hc6im4wnai", True),
            ("equal", "-mirrors", False),
        ],
    )


def test_multi_line_values_are_aligned_by_line_first() -> None:
    assert sides(diff_text("a\nb c\nd\n", "a\nb C\nd\ne\n")) == (
        [("equal", "a\nb ", False), ("delete", "c", True), ("equal", "\nd\n", False)],
        [
            ("equal", "a\nb ", False),
            ("insert", "C", True),
            ("equal", "\nd\n", False),
            ("insert", "e\n", False),
        ],
    )


def test_equal_and_empty_texts() -> None:
    assert sides(diff_text("same", "same")) == ([("equal", "same", False)],) * 2
    assert diff_text("", "") == TextDiff((), ())
    assert sides(diff_text("", "x")) == ([], [("insert", "x", False)])


@given(st.text(alphabet="ab -/.\n1é", max_size=30), st.text(alphabet="ab -/.\n1é", max_size=30))
def test_text_diff_sides_rebuild_both_texts(old: str, new: str) -> None:
    diff = diff_text(old, new)
    assert diff.old_text == old
    assert diff.new_text == new
    assert all(s.kind is not INS for s in diff.old)
    assert all(s.kind is not DEL for s in diff.new)
    # The unchanged text is the same on both sides.
    assert "".join(s.text for s in diff.old if s.kind is EQ) == "".join(
        s.text for s in diff.new if s.kind is EQ
    )


def test_align_matches_head_and_tail_first() -> None:
    assert align("abcxdef", "abcydef") == [
        ("equal", 0, 3, 0, 3),
        ("replace", 3, 4, 3, 4),
        ("equal", 4, 7, 4, 7),
    ]
    assert align("", "ab") == [("insert", 0, 0, 0, 2)]
    assert align("ab", "ab") == [("equal", 0, 2, 0, 2)]
    assert align("", "") == []


def test_one_word_changed_in_a_long_value() -> None:
    # Thousands of equal blanks between words: the popular-item case that
    # makes an unguarded difflib quadratic.
    words = [f"w{n % 97}x{n}" for n in range(4000)]
    old = " ".join(words)
    new = " ".join([*words[:2000], "changed", *words[2001:]])
    diff = diff_text(old, new)
    assert [(s.kind, s.text) for s in diff.old if s.kind is not EQ] == [(DEL, "w60x2000")]
    assert [(s.kind, s.text) for s in diff.new if s.kind is not EQ] == [(INS, "changed")]


def test_name_stems_mask_versions() -> None:
    assert name_stem("gmp-6.1.2.tar.xz") == "gmp-*.tar.xz"
    assert name_stem("gmp-6.0.0a.tar.xz") == "gmp-*.tar.xz"
    assert name_stem("gmp-6.1.2") == "gmp-*"
    assert name_stem("guile-bootstrap-2.0") == "guile-bootstrap-*"
    assert name_stem("ncurses-6.1-20190609") == "ncurses-*-*"
    assert name_stem("module-import-compiled") == "module-import-compiled"


# --- FODs: equivalence ----------------------------------------------------------------


def rewritten_hello(hello: Derivation) -> Derivation:
    """The corpus hello FOD with today's URL list and another mirrors file."""
    mirrors = text_path("mirrors", b'(gnu "https://ftpmirror.gnu.org/gnu/")\n', ())
    cam = next(p for p in hello.input_srcs if p.endswith("-content-addressed-mirrors"))
    url = (
        '("https://ftp.gnu.org/gnu/hello/hello-2.10.tar.gz" "mirror://gnu/hello/hello-2.10.tar.gz")'
    )
    env = dict(hello.env) | {"url": url, "mirrors": mirrors}
    return hello.evolve(input_srcs=tuple(sorted((cam, mirrors))), env=tuple(sorted(env.items())))


def test_rewritten_fod_is_equivalent(corpus_drv: CorpusDrv) -> None:
    # GIVEN the 2020 hello FOD and a rewrite with another URL and mirror file
    old_path, old = corpus_drv(HELLO)
    new = rewritten_hello(old)
    new_path = drv_path(new)
    assert new_path != old_path
    # WHEN diffed
    diff = diff_derivations(old_path, old, new_path, new, none, none)
    # THEN they are equivalent FODs, and the fetch-level differences are listed
    assert diff.equivalent and not diff.identical
    assert diff.summary.fixed_output
    assert diff.summary.verdict == "equivalent"
    assert diff.summary.describe() == "equivalent: 1 input source changed, 2 variables changed"
    assert diff.outputs == () and diff.inputs == ()
    assert [(s.name, s.kind) for s in diff.sources] == [("mirrors", ChangeKind.CHANGED)]
    assert [(e.name, e.kind) for e in diff.env] == [
        ("mirrors", ChangeKind.CHANGED),
        ("url", ChangeKind.CHANGED),
    ]
    url = diff.env[1]
    assert url.text is not None
    # The old URL is kept whole inside the new list.
    assert [(s.kind, s.text) for s in url.text.new] == [
        (INS, '("https://ftp.gnu.org/gnu/hello/hello-2.10.tar.gz" '),
        (EQ, '"mirror://gnu/hello/hello-2.10.tar.gz"'),
        (INS, ")"),
    ]


def test_fod_fetched_by_another_builder_is_still_equivalent(corpus_drv: CorpusDrv) -> None:
    # A guile-script form of the same download: builder, args, inputs all differ.
    old_path, old = corpus_drv(HELLO)
    guile = "/gnu/store/sc7z07gim1iq5zvfz1amdwf2irxrzifg-guile-2.2.6/bin/guile"
    script = "/gnu/store/c6cwnk211a2idg60gy5q2khw48mgfl03-download"
    new = old.evolve(
        builder=guile,
        args=("--no-auto-compile", script),
        input_drvs=(("/gnu/store/y88s25rjwdic7x2ijfqn2mjszias0kvs-guile-2.2.6.drv", ("out",)),),
        input_srcs=(script,),
        env=tuple((k, v) for k, v in old.env if k not in ("mirrors", "content-addressed-mirrors")),
    )
    diff = diff_derivations(old_path, old, drv_path(new), new, none, none)
    assert diff.equivalent and diff.summary.fixed_output
    assert diff.builder is not None and diff.builder.new == guile
    assert [(a.kind, a.new) for a in diff.args] == [
        (ChangeKind.ADDED, "--no-auto-compile"),
        (ChangeKind.ADDED, script),
    ]
    assert [(i.name, i.kind) for i in diff.inputs] == [("guile-2.2.6", ChangeKind.ADDED)]
    assert [(e.name, e.kind) for e in diff.env] == [
        ("content-addressed-mirrors", ChangeKind.REMOVED),
        ("mirrors", ChangeKind.REMOVED),
    ]


def test_fods_with_other_hashes_are_different(corpus_drv: CorpusDrv) -> None:
    old_path, old = corpus_drv("1jql47hxyc3ri0m2cbidi44vnz1vbag1-libtool-2.4.6.tar.xz.drv")
    new_path, new = corpus_drv("9d9dcmv2rzhhaq0fhvpadb700ajnvssk-gmp-6.1.2.tar.xz.drv")
    diff = diff_derivations(old_path, old, new_path, new, none, none)
    assert diff.summary.verdict == "different"
    assert diff.summary.describe() == (
        "different: name changed, 1 output changed, 2 variables changed"
    )
    [out] = diff.outputs
    assert out.kind is ChangeKind.CHANGED
    assert [f.field for f in out.fields] == ["path", "hash"]


def test_consumer_of_an_equivalent_fod(doc_examples: dict[str, tuple[str, Derivation]]) -> None:
    # GIVEN the doc's consumer (b), and the same with its input switched to
    # the ks9c… variant of the FOD (another URL)
    consumer_path, consumer = doc_examples["consumer"]
    other_path, other = doc_examples["consumer_ftp"]
    table = dict(doc_examples.values())
    # The doc's paths are the ones computed from the terms.
    for path, drv in table.items():
        assert drv_path(drv) == path
    # WHEN diffed
    diff = diff_derivations(consumer_path, consumer, other_path, other, table.get, table.get)
    # THEN the only difference is an input that is an equivalent FOD
    assert diff.equivalent and not diff.identical
    assert diff.summary.describe() == "equivalent: 1 input derivation changed but equivalent"
    assert (diff.outputs, diff.sources, diff.args, diff.env) == ((), (), (), ())
    assert diff.system is None and diff.builder is None and diff.name is None
    [change] = diff.inputs
    assert change.kind is ChangeKind.CHANGED
    assert change.name == change.old_name == "hello-2.12.1.tar.gz"
    assert change.equivalent and change.fixed_output
    assert change.key == (doc_examples["fod"][0], doc_examples["fod_ftp"][0])
    assert change.diff is not None and change.diff.equivalent
    assert change.diff.depth == 1
    assert [e.name for e in change.diff.env] == ["url"]


# --- recursion -----------------------------------------------------------------------


def gmp_diff(corpus_drv: CorpusDrv, lookup: Lookup, max_depth: int = 8) -> DerivationDiff:
    old_path, old = corpus_drv(GMP_A)
    new_path, new = corpus_drv(GMP_B)
    return diff_derivations(old_path, old, new_path, new, lookup, lookup, max_depth)


def test_changed_inputs_are_explained_recursively(
    corpus_drv: CorpusDrv, corpus_lookup: Lookup
) -> None:
    # GIVEN gmp-6.1.2 built by the final toolchain and by the bootstrap one
    diff = gmp_diff(corpus_drv, corpus_lookup)
    assert diff.summary.verdict == "different"
    pairs = {i.name: i for i in diff.inputs if i.kind is ChangeKind.CHANGED}
    assert sorted(pairs) == ["gmp-6.1.2.tar.xz", "m4-1.4.18"]
    # THEN the source is explained: it is patched by a different toolchain
    source = pairs["gmp-6.1.2.tar.xz"].diff
    assert source is not None and source.depth == 1
    assert source.builder is not None
    assert source.builder.new.endswith("-guile-bootstrap-2.0/bin/guile")
    assert {i.name for i in source.inputs if i.kind is ChangeKind.ADDED} == {
        "bootstrap-binaries-0",
        "guile-bootstrap-2.0",
    }
    # …and module-import-compiled is explained under it, once: the same pair
    # under m4's source is folded and refers to the first one.
    walked = [d.key for d in walk(diff)]
    assert len(walked) == len(set(walked)) == 5
    assert [d.old.name for d in walk(diff)] == [
        "gmp-6.1.2",
        "gmp-6.1.2.tar.xz",
        "module-import-compiled",
        "m4-1.4.18",
        "m4-1.4.18.tar.xz",
    ]
    m4 = pairs["m4-1.4.18"].diff
    assert m4 is not None
    m4_source = next(i.diff for i in m4.inputs if i.name == "m4-1.4.18.tar.xz")
    assert m4_source is not None
    folded = next(i for i in m4_source.inputs if i.name == "module-import-compiled")
    assert folded.folded is FoldReason.EXPLAINED and folded.diff is None
    first = next(i for i in source.inputs if i.name == "module-import-compiled")
    assert folded.key == first.key and first.diff is not None


def test_unmatched_inputs_are_added_or_removed(
    corpus_drv: CorpusDrv, corpus_lookup: Lookup
) -> None:
    diff = gmp_diff(corpus_drv, corpus_lookup)
    s = diff.summary
    assert (s.inputs_added, s.inputs_removed, s.inputs_changed, s.inputs_unchanged) == (9, 15, 2, 8)
    names = [(i.name, i.kind.value) for i in diff.inputs]
    assert ("binutils-2.32", "removed") in names
    assert ("binutils-cross-boot0-2.32", "added") in names
    # Listed by name.
    assert [n for n, _ in names] == sorted(n for n, _ in names)


@pytest.mark.parametrize(("depth", "expanded"), [(0, 1), (1, 3), (2, 5)])
def test_depth_limit_folds_deeper_pairs(
    corpus_drv: CorpusDrv, corpus_lookup: Lookup, depth: int, expanded: int
) -> None:
    diff = gmp_diff(corpus_drv, corpus_lookup, max_depth=depth)
    assert len(list(walk(diff))) == expanded
    assert max(d.depth for d in walk(diff)) == min(depth, 2)
    deepest = [i for d in walk(diff) for i in d.inputs if i.folded is FoldReason.DEPTH]
    # At depth 2 every pair is explained: the last one is the repeated pair.
    assert bool(deepest) == (depth < 2)


def test_negative_depth_is_refused(corpus_drv: CorpusDrv) -> None:
    path, drv = corpus_drv(HELLO)
    with pytest.raises(ValueError, match="max_depth must be 0 or more, not -1"):
        diff_derivations(path, drv, path, drv, none, none, max_depth=-1)


def test_missing_inputs_are_folded(corpus_drv: CorpusDrv, corpus_lookup: Lookup) -> None:
    def lookup_new(path: str) -> Derivation | None:
        return None if "gmp-6.1.2.tar.xz" in path else corpus_lookup(path)

    old_path, old = corpus_drv(GMP_A)
    new_path, new = corpus_drv(GMP_B)
    diff = diff_derivations(old_path, old, new_path, new, corpus_lookup, lookup_new)
    source = next(i for i in diff.inputs if i.name == "gmp-6.1.2.tar.xz")
    assert source.folded is FoldReason.MISSING
    assert source.missing == ("/gnu/store/ci79rxymqyvxfxf2lm097fafkxpwlvn3-gmp-6.1.2.tar.xz.drv",)
    assert not source.equivalent


def test_inputs_matched_across_versions(corpus_drv: CorpusDrv, corpus_lookup: Lookup) -> None:
    # A consumer whose source moved from gmp 6.0.0a to 6.1.2: paired by stem.
    old_fod, _ = corpus_drv("asl25bjzcraf63gwvzx15a5w621ny15c-gmp-6.0.0a.tar.xz.drv")
    new_fod, _ = corpus_drv("9d9dcmv2rzhhaq0fhvpadb700ajnvssk-gmp-6.1.2.tar.xz.drv")
    out = Output("out", "/gnu/store/" + "0" * 32 + "-user")
    base = Derivation("user", (out,), (), (), "x86_64-linux", "/bin/sh")
    old = base.evolve(input_drvs=((old_fod, ("out",)),))
    new = base.evolve(input_drvs=((new_fod, ("out",)),))
    diff = diff_derivations(drv_path(old), old, drv_path(new), new, corpus_lookup, corpus_lookup)
    [change] = diff.inputs
    assert (change.kind, change.old_name, change.name) == (
        ChangeKind.CHANGED,
        "gmp-6.0.0a.tar.xz",
        "gmp-6.1.2.tar.xz",
    )
    assert change.diff is not None and change.diff.name is not None
    assert not change.equivalent


def test_inputs_of_an_equivalent_fod_are_not_explained(corpus_lookup: Lookup) -> None:
    # GIVEN two script-era FODs with the same output, whose (same-named)
    # fetch tool differs
    out = Output("out", CHECKOUT, "r:sha256", "a5" * 32)
    old_tool = "/gnu/store/b7ypzkkbazx73swrdnpclwz0bdhpp1ai-module-import-compiled.drv"
    new_tool = "/gnu/store/284djz3g3868ad7hx1yxlcyxrk595c1s-module-import-compiled.drv"
    old = Derivation("txt2man-1.6.0-checkout", (out,), ((old_tool, ("out",)),), (), "s", "guile")
    new = old.evolve(input_drvs=((new_tool, ("out",)),))
    # WHEN diffed
    diff = diff_derivations(drv_path(old), old, drv_path(new), new, corpus_lookup, corpus_lookup)
    # THEN they are equivalent, and the tool pair is listed but not explained
    assert diff.equivalent
    [change] = diff.inputs
    assert change.kind is ChangeKind.CHANGED
    assert change.folded is FoldReason.FETCH_TOOL and change.diff is None
    assert not change.equivalent
    # A tool that cannot be read is reported as missing first.
    diff = diff_derivations(drv_path(old), old, drv_path(new), new, corpus_lookup, none)
    assert diff.inputs[0].folded is FoldReason.MISSING
    assert diff.inputs[0].missing == (new_tool,)


def test_same_input_with_other_outputs(corpus_drv: CorpusDrv, corpus_lookup: Lookup) -> None:
    path, drv = corpus_drv(GMP_A)
    first = drv.input_drvs[0]
    new = drv.evolve(input_drvs=((first[0], ("doc", "out")), *drv.input_drvs[1:]))
    diff = diff_derivations(path, drv, drv_path(new), new, corpus_lookup, corpus_lookup)
    [change] = diff.inputs
    assert change.kind is ChangeKind.CHANGED
    assert change.old_path == change.new_path == first[0]
    assert (change.old_outputs, change.new_outputs) == (("out",), ("doc", "out"))
    assert change.diff is None and change.folded is None


def test_identical_derivations(corpus_drv: CorpusDrv, corpus_lookup: Lookup) -> None:
    path, drv = corpus_drv(GMP_A)
    diff = diff_derivations(path, drv, path, drv, corpus_lookup, corpus_lookup)
    assert diff.identical and diff.equivalent
    assert diff.summary.describe() == "identical"
    assert diff.summary.inputs_unchanged == len(drv.input_drvs)
    assert diff.inputs == diff.env == diff.args == ()


def test_equivalence_needs_real_output_paths() -> None:
    masked = Derivation("x", (Output("out", ""),), (), (), "s", "b")
    assert not equivalent(masked, masked)
    outputs = (Output("doc", "/gnu/store/a-x-doc"), Output("out", "/gnu/store/a-x"))
    two = masked.evolve(outputs=outputs)
    assert equivalent(two, two)
    assert not equivalent(two, two.evolve(outputs=two.outputs[1:]))


# --- fields -------------------------------------------------------------------------


def test_arguments_are_aligned_as_a_sequence() -> None:
    base = Derivation("x", (Output("out", "/gnu/store/a-x"),), (), (), "s", "b")
    old = base.evolve(args=("-L", "/a", "-C", "/b", "script-1.0"))
    new = base.evolve(args=("-L", "/a", "-L", "/c", "-C", "/b", "script-1.1"))
    diff = diff_derivations("/o.drv", old, "/n.drv", new, none, none)
    assert [(a.kind.value, a.old_index, a.new_index, a.old, a.new) for a in diff.args] == [
        ("unchanged", 0, 0, "-L", "-L"),
        ("unchanged", 1, 1, "/a", "/a"),
        ("added", None, 2, None, "-L"),
        ("added", None, 3, None, "/c"),
        ("unchanged", 2, 4, "-C", "-C"),
        ("unchanged", 3, 5, "/b", "/b"),
        ("changed", 4, 6, "script-1.0", "script-1.1"),
    ]
    assert diff.args[-1].text is not None


def test_environment_added_removed_changed() -> None:
    base = Derivation("x", (Output("out", "/gnu/store/a-x"),), (), (), "s", "b")
    old = base.evolve(env=(("A", "1"), ("B", "2"), ("C", "3")))
    new = base.evolve(env=(("B", "2"), ("C", "4"), ("D", "5")))
    diff = diff_derivations("/o.drv", old, "/n.drv", new, none, none)
    assert [(e.name, e.kind.value, e.old, e.new) for e in diff.env] == [
        ("A", "removed", "1", None),
        ("C", "changed", "3", "4"),
        ("D", "added", None, "5"),
    ]
    assert diff.summary.describe() == (
        "equivalent: 1 variable added, 1 variable removed, 1 variable changed"
    )


def test_outputs_added_and_removed_by_name() -> None:
    base = Derivation("x", (Output("out", "/gnu/store/a-x"),), (), (), "s", "b")
    new = base.evolve(outputs=(Output("doc", "/gnu/store/a-x-doc"), *base.outputs))
    diff = diff_derivations("/o.drv", base, "/n.drv", new, none, none)
    assert [(o.name, o.kind) for o in diff.outputs] == [("doc", ChangeKind.ADDED)]
    back = diff_derivations("/n.drv", new, "/o.drv", base, none, none)
    assert [(o.name, o.kind) for o in back.outputs] == [("doc", ChangeKind.REMOVED)]
    assert not diff.equivalent


def test_sources_matched_by_name() -> None:
    base = Derivation("x", (Output("out", "/gnu/store/a-x"),), (), (), "s", "b")
    a = "/gnu/store/" + "a" * 32
    b = "/gnu/store/" + "b" * 32
    old = base.evolve(input_srcs=(f"{a}-builder", f"{a}-old.patch", f"{b}-same"))
    new = base.evolve(input_srcs=(f"{b}-builder", f"{b}-new.patch", f"{b}-same"))
    diff = diff_derivations("/o.drv", old, "/n.drv", new, none, none)
    assert [(s.name, s.kind.value) for s in diff.sources] == [
        ("builder", "changed"),
        ("new.patch", "added"),
        ("old.patch", "removed"),
    ]


def test_json_form(corpus_drv: CorpusDrv, corpus_lookup: Lookup) -> None:
    diff = gmp_diff(corpus_drv, corpus_lookup)
    data = json.loads(json.dumps(diff_as_dict(diff)))
    assert data["verdict"] == "different" and data["old"] == diff.old_path
    # Every explained pair once, in the order shown; inputs refer to them by index.
    pairs = data["pairs"]
    assert [p["old"] for p in pairs] == [d.old_path for d in walk(diff)]
    assert pairs[0]["inputs_unchanged"] == 8
    source = next(i for i in pairs[0]["inputs"] if i["name"] == "gmp-6.1.2.tar.xz")
    assert source["diff"] == 1
    assert pairs[1]["depth"] == 1
    assert pairs[1]["builder"]["new"].endswith("guile-bootstrap-2.0/bin/guile")
    m4 = next(i for i in pairs[0]["inputs"] if i["name"] == "m4-1.4.18")
    m4_source = next(i for i in pairs[m4["diff"]]["inputs"] if i["name"] == "m4-1.4.18.tar.xz")
    folded = next(
        i for i in pairs[m4_source["diff"]]["inputs"] if i["name"] == "module-import-compiled"
    )
    assert folded["folded"] == "explained" and folded["diff"] is None


def test_deep_chains_need_no_recursion() -> None:
    # GIVEN a chain of 600 derivations over a FOD (deeper than recursion
    # allows), and the same chain re-pointed at a rewrite of that FOD (what a
    # closure rewrite gives)
    fod_out = Output("out", "/gnu/store/" + "f" * 32 + "-src.tar.gz", "sha256", "ab" * 32)
    fod = Derivation("src.tar.gz", (fod_out,), (), (), "s", "builtin:download")
    tables: list[dict[str, Derivation]] = []
    tops: list[tuple[str, Derivation]] = []
    for url in ("old", "new"):
        table: dict[str, Derivation] = {}
        drv = fod.evolve(env=(("url", url),))
        path = drv_path(drv)
        table[path] = drv
        for n in range(600):
            out = Output("out", f"/gnu/store/{'0' * 32}-n{n}")
            drv = Derivation(f"n{n}", (out,), ((path, ("out",)),), (), "s", "b")
            path = drv_path(drv)
            table[path] = drv
        tables.append(table)
        tops.append((path, drv))
    (old_path, old), (new_path, new) = tops
    # WHEN diffed without a depth limit
    diff = diff_derivations(
        old_path, old, new_path, new, tables[0].get, tables[1].get, max_depth=10_000
    )
    # THEN every level is explained, down to the FOD, all equivalent
    pairs = list(walk(diff))
    assert len(pairs) == 601
    assert all(p.equivalent for p in pairs)
    assert pairs[-1].depth == 600 and pairs[-1].summary.fixed_output
    assert len(json.dumps(diff_as_dict(diff))) > 0
