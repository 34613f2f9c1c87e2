"""The diff layout: rows for side-by-side panes, unified lines, tags, folding."""

from __future__ import annotations

from collections.abc import Callable

from revive.core.derivation import Derivation, Output
from revive.core.diff import DerivationDiff, diff_derivations
from revive.core.diff_layout import (
    NEWLINE,
    Row,
    RowKind,
    Segment,
    Tag,
    abbreviate,
    line_text,
    segments_text,
    side_by_side,
    unified,
    unified_lines,
    visible,
)

Lookup = Callable[[str], Derivation | None]
CorpusDrv = Callable[[str], tuple[str, Derivation]]
Examples = dict[str, tuple[str, Derivation]]

BASE = Derivation("x", (Output("out", "/gnu/store/" + "a" * 32 + "-x"),), (), (), "s", "b")


def none(_: str) -> Derivation | None:
    """A lookup that finds nothing."""
    return None


def simple(old: Derivation, new: Derivation) -> DerivationDiff:
    return diff_derivations("/gnu/store/old.drv", old, "/gnu/store/new.drv", new, none, none)


def texts(rows: tuple[Row, ...]) -> list[tuple[str, str, str]]:
    return [(r.kind.value, segments_text(r.left), segments_text(r.right)) for r in rows]


def test_consumer_of_an_equivalent_fod_unified(doc_examples: Examples, doc_lookup: Lookup) -> None:
    old_path, old = doc_examples["consumer"]
    new_path, new = doc_examples["consumer_ftp"]
    diff = diff_derivations(old_path, old, new_path, new, doc_lookup, doc_lookup)
    assert [line_text(line) for line in unified(diff)] == [
        "--- /gnu/store/b6wb7ja4qkwz8v7xsqm5jgixw937yr3w-consumer.drv",
        "+++ /gnu/store/401wcgpqdpwvh5iq17h1by5169xs33n6-consumer.drv",
        "  equivalent: 1 input derivation changed but equivalent",
        "  input derivations:",
        "=   hello-2.12.1.tar.gz  (equivalent fixed-output)",
        "-     /gnu/store/j28gm48klq29zcfnkmp0qqhwnlrvkp4s-hello-2.12.1.tar.gz.drv [out]",
        "+     /gnu/store/ks9cx0xi8hz6d0b4d4h1kzvgss886vql-hello-2.12.1.tar.gz.drv [out]",
        "      equivalent: 1 variable changed",
        "      same output /gnu/store/3dq55rw99wdc4g4wblz7xikc8a2jy7a3-hello-2.12.1.tar.gz"
        " (sha256:8d99142afd92576f30b0cd7cb42a8dc6809998bc5d607d88761f512e26c7db20):"
        " fetched differently",
        "      environment:",
        '-       url = "mirror://gnu/hello/hello-2.12.1.tar.gz"',
        '+       url = "https://ftp.gnu.org/gnu/hello/hello-2.12.1.tar.gz"',
        "        6 unchanged variables",
    ]


def test_consumer_rows_and_tags(doc_examples: Examples, doc_lookup: Lookup) -> None:
    old_path, old = doc_examples["consumer"]
    new_path, new = doc_examples["consumer_ftp"]
    diff = diff_derivations(old_path, old, new_path, new, doc_lookup, doc_lookup)
    rows = side_by_side(diff)
    assert [(r.kind, r.depth) for r in rows] == [
        (RowKind.TITLE, 0),
        (RowKind.NOTE, 0),
        (RowKind.HEADING, 0),
        (RowKind.EQUIVALENT, 1),
        (RowKind.CHANGED, 2),
        (RowKind.NOTE, 2),
        (RowKind.NOTE, 2),
        (RowKind.HEADING, 2),
        (RowKind.CHANGED, 3),
        (RowKind.NOTE, 3),
    ]
    assert rows[0].ref == (old_path, new_path)
    assert rows[3].ref == (doc_examples["fod"][0], doc_examples["fod_ftp"][0])
    assert rows[1].left == (
        Segment("equivalent", Tag.EQUIVALENT),
        Segment(": 1 input derivation changed but equivalent", Tag.DIM),
    )
    # The two .drv paths: only the hash part is highlighted.
    assert rows[4].left == (
        Segment("    "),
        Segment("/gnu/store/", Tag.OLD),
        Segment("j28gm48klq29zcfnkmp0qqhwnlrvkp4s", Tag.REMOVED),
        Segment("-hello-2.12.1.tar.gz.drv", Tag.OLD),
        Segment(" [out]", Tag.DIM),
    )
    # The URL: word-level highlights on the new side.
    assert rows[8].right == (
        Segment("      "),
        Segment("url", Tag.KEY),
        Segment(" = ", Tag.DIM),
        Segment('"', Tag.NEW),
        Segment("https", Tag.ADDED),
        Segment("://", Tag.NEW),
        Segment("ftp.gnu.org/", Tag.ADDED),
        Segment('gnu/hello/hello-2.12.1.tar.gz"', Tag.NEW),
    )


def test_character_highlights_in_a_changed_value() -> None:
    diff = simple(BASE.evolve(env=(("version", "2.10"),)), BASE.evolve(env=(("version", "2.12"),)))
    [row] = [r for r in side_by_side(diff) if r.kind is RowKind.CHANGED]
    label = (Segment("  "), Segment("version", Tag.KEY), Segment(" = ", Tag.DIM))
    assert row.left == label + (
        Segment("2.", Tag.OLD),
        Segment("1", Tag.CHANGED_WORD),
        Segment("0", Tag.REMOVED),
    )
    assert row.right == label + (
        Segment("2.", Tag.NEW),
        Segment("1", Tag.CHANGED_WORD),
        Segment("2", Tag.ADDED),
    )


def test_identical_derivations_give_a_title_and_a_note(corpus_drv: CorpusDrv) -> None:
    path, drv = corpus_drv("mspyllkw4d2395akavrkjkiw1p448p9a-hello-2.10.tar.gz.drv")
    rows = side_by_side(diff_derivations(path, drv, path, drv, none, none))
    assert texts(rows) == [("title", path, path), ("note", "identical", "identical")]


def test_multi_line_values_are_split_aligned_and_folded() -> None:
    lines = [f"line {n}\n" for n in range(10)]
    changed = lines[:5] + ["line 5 changed\n"] + lines[6:]
    diff = simple(
        BASE.evolve(env=(("script", "".join(lines)),)),
        BASE.evolve(env=(("script", "".join(changed)),)),
    )
    rows = side_by_side(diff)
    env = rows[[r.kind for r in rows].index(RowKind.HEADING) + 1 :]
    assert texts(env) == [
        ("modified", "  script", "  script"),
        ("folded", "    … 3 unchanged lines", "    … 3 unchanged lines"),
        ("context", "    line 3", "    line 3"),
        ("context", "    line 4", "    line 4"),
        ("changed", "    line 5", "    line 5 changed"),
        ("context", "    line 6", "    line 6"),
        ("context", "    line 7", "    line 7"),
        ("folded", "    … 2 unchanged lines", "    … 2 unchanged lines"),
    ]
    assert [r.depth for r in env] == [1, 2, 2, 2, 2, 2, 2, 2]
    assert env[4].right[-1] == Segment(" changed", Tag.ADDED)


def test_changed_line_breaks_and_control_characters_are_visible() -> None:
    diff = simple(BASE.evolve(env=(("v", "a\tb\n"),)), BASE.evolve(env=(("v", "a\tb"),)))
    [row] = [r for r in side_by_side(diff) if r.kind is RowKind.CHANGED]
    assert segments_text(row.left) == f"  v = a\\tb{NEWLINE}"
    assert row.left[-1] == Segment(NEWLINE, Tag.REMOVED)
    assert segments_text(row.right) == "  v = a\\tb"
    assert visible("a\rb\x1bc\x7f") == "a\\rb\\x1bc\\x7f"
    assert visible("plain é") == "plain é"


def test_added_and_removed_multi_line_values() -> None:
    diff = simple(BASE.evolve(env=(("old", "a\nb"),)), BASE.evolve(env=(("new", "c"),)))
    rows = side_by_side(diff)
    env = rows[[r.kind for r in rows].index(RowKind.HEADING) + 1 :]
    assert texts(env) == [
        ("added", "", "  new = c"),
        ("removed", "  old = a", ""),
        ("removed", "        b", ""),
    ]


def test_long_argument_lists_keep_context_around_changes() -> None:
    args = tuple(f"arg{n}" for n in range(12))
    new_args = args[:6] + ("ARG6",) + args[7:]
    rows = side_by_side(simple(BASE.evolve(args=args), BASE.evolve(args=new_args)), context=1)
    start = [r.kind for r in rows].index(RowKind.HEADING)
    assert texts(rows[start:]) == [
        ("heading", "arguments:", "arguments:"),
        ("folded", "  … 5 unchanged arguments", "  … 5 unchanged arguments"),
        ("context", "  arg5", "  arg5"),
        ("changed", "  arg6", "  ARG6"),
        ("context", "  arg7", "  arg7"),
        ("folded", "  … 4 unchanged arguments", "  … 4 unchanged arguments"),
    ]


def test_outputs_rows() -> None:
    doc = Output("doc", "/gnu/store/" + "d" * 32 + "-x-doc")
    new = BASE.evolve(outputs=(doc, Output("out", "/gnu/store/" + "b" * 32 + "-x")))
    rows = side_by_side(simple(BASE, new))
    start = [r.kind for r in rows].index(RowKind.HEADING)
    assert texts(rows[start : start + 3]) == [
        ("heading", "outputs:", "outputs:"),
        ("added", "", f"  doc = {doc.path}"),
        ("changed", f"  out = {BASE.outputs[0].path}", f"  out = {new.outputs[1].path}"),
    ]


def test_recursion_folds_and_refs(corpus_drv: CorpusDrv, corpus_lookup: Lookup) -> None:
    old_path, old = corpus_drv("09cr25ckx4ff35sb2l59dsg52p2ir7qh-gmp-6.1.2.drv")
    new_path, new = corpus_drv("7ydfdazd5sw0mb76mzcdvw73lzxsba98-gmp-6.1.2.drv")
    rows = side_by_side(
        diff_derivations(old_path, old, new_path, new, corpus_lookup, corpus_lookup)
    )
    # Every row is one line.
    assert all("\n" not in s.text for r in rows for s in (*r.left, *r.right))
    # The repeated pair is folded, and refers to a header shown above it.
    [fold] = [r for r in rows if r.kind is RowKind.FOLDED and r.ref is not None]
    assert segments_text(fold.left).strip() == "… explained above"
    headers = [n for n, r in enumerate(rows) if r.kind is RowKind.MODIFIED and r.ref == fold.ref]
    assert len(headers) == 2 and headers[0] < rows.index(fold)
    # The rows under a header follow it, one level deeper.
    for n, row in enumerate(rows[:-1]):
        if row.kind in (RowKind.MODIFIED, RowKind.EQUIVALENT):
            assert rows[n + 1].depth == row.depth + 1


def test_depth_fold_rows(corpus_drv: CorpusDrv, corpus_lookup: Lookup) -> None:
    old_path, old = corpus_drv("09cr25ckx4ff35sb2l59dsg52p2ir7qh-gmp-6.1.2.drv")
    new_path, new = corpus_drv("7ydfdazd5sw0mb76mzcdvw73lzxsba98-gmp-6.1.2.drv")
    diff = diff_derivations(old_path, old, new_path, new, corpus_lookup, corpus_lookup, 0)
    folds = [r for r in side_by_side(diff) if r.kind is RowKind.FOLDED]
    text = "… not explained: depth limit reached"
    assert [(segments_text(r.left).strip(), r.depth) for r in folds] == [(text, 2), (text, 2)]
    assert all(r.ref is not None for r in folds)


def test_missing_fold_names_the_file(corpus_drv: CorpusDrv) -> None:
    old_path, old = corpus_drv("09cr25ckx4ff35sb2l59dsg52p2ir7qh-gmp-6.1.2.drv")
    new_path, new = corpus_drv("7ydfdazd5sw0mb76mzcdvw73lzxsba98-gmp-6.1.2.drv")
    diff = diff_derivations(old_path, old, new_path, new, none, none)
    fold = next(r for r in side_by_side(diff) if r.kind is RowKind.FOLDED)
    assert segments_text(fold.left).strip() == (
        "… cannot explain: not found: "
        "/gnu/store/03lvdchx2vk44szvbx97sv724whzh3a4-gmp-6.1.2.tar.xz.drv, "
        "/gnu/store/ci79rxymqyvxfxf2lm097fafkxpwlvn3-gmp-6.1.2.tar.xz.drv"
    )


def test_renamed_pair_header_in_unified_form(corpus_lookup: Lookup) -> None:
    user = BASE.evolve(name="user")
    old_fod = "/gnu/store/asl25bjzcraf63gwvzx15a5w621ny15c-gmp-6.0.0a.tar.xz.drv"
    new_fod = "/gnu/store/9d9dcmv2rzhhaq0fhvpadb700ajnvssk-gmp-6.1.2.tar.xz.drv"
    diff = diff_derivations(
        "/gnu/store/o.drv",
        user.evolve(input_drvs=((old_fod, ("out",)),)),
        "/gnu/store/n.drv",
        user.evolve(input_drvs=((new_fod, ("out",)),)),
        corpus_lookup,
        corpus_lookup,
    )
    lines = [line_text(line) for line in unified(diff)]
    assert "~   gmp-6.0.0a.tar.xz → gmp-6.1.2.tar.xz" in lines


def test_unified_markers_from_rows() -> None:
    rows = (
        Row(RowKind.TITLE, (Segment("a"),), (Segment("b"),)),
        Row(RowKind.CHANGED, (Segment("x"),), (Segment("y"),), 1),
        Row(RowKind.REMOVED, (Segment("gone"),), (), 1),
        Row(RowKind.ADDED, (), (Segment("new"),), 1),
        Row(RowKind.MODIFIED, (Segment("m"),), (Segment("m"),), 1),
        Row(RowKind.EQUIVALENT, (Segment("e"),), (Segment("e"),), 1),
        Row(RowKind.FOLDED, (Segment("…"),), (Segment("…"),), 2, ("p", "q")),
    )
    lines = unified_lines(rows)
    assert [(line.marker, line_text(line)) for line in lines] == [
        ("---", "--- a"),
        ("+++", "+++ b"),
        ("-", "- x"),
        ("+", "+ y"),
        ("-", "- gone"),
        ("+", "+ new"),
        ("~", "~ m"),
        ("=", "= e"),
        (" ", "  …"),
    ]
    assert lines[-1].ref == ("p", "q") and lines[-1].depth == 2


def test_abbreviated_hashes_keep_styles() -> None:
    segments = (
        Segment("/gnu/store/", Tag.OLD),
        Segment("h1nnwnrbwr7vcllyn1k0p55lkdz0clhh", Tag.REMOVED),
        Segment("-mirrors", Tag.OLD),
    )
    assert abbreviate(segments) == (
        Segment("/gnu/store/", Tag.OLD),
        Segment("h1nnwnrb…", Tag.REMOVED),
        Segment("-mirrors", Tag.OLD),
    )
    whole = (Segment("-L /gnu/store/h1nnwnrbwr7vcllyn1k0p55lkdz0clhh-m/x and more"),)
    assert abbreviate(whole) == (Segment("-L /gnu/store/h1nnwnrb…-m/x and more"),)
    # A cut across two segments leaves one ellipsis.
    split = (Segment("/s/h1nnwnrbwr7v"), Segment("cllyn1k0p55lkdz0clhh-x", Tag.DIM))
    assert abbreviate(split) == (Segment("/s/h1nnwnrb…"), Segment("-x", Tag.DIM))
    assert abbreviate((Segment("no store path"),)) == (Segment("no store path"),)


def test_short_hashes_option_spares_the_title(doc_examples: Examples, doc_lookup: Lookup) -> None:
    old_path, old = doc_examples["consumer"]
    new_path, new = doc_examples["consumer_ftp"]
    diff = diff_derivations(old_path, old, new_path, new, doc_lookup, doc_lookup)
    rows = side_by_side(diff, short_hashes=True)
    assert segments_text(rows[0].left) == old_path
    assert segments_text(rows[4].left) == "    /gnu/store/j28gm48k…-hello-2.12.1.tar.gz.drv [out]"


def test_deep_chains_lay_out_without_recursion() -> None:
    tables: list[dict[str, Derivation]] = []
    tops: list[tuple[str, Derivation]] = []
    for variant in ("old", "new"):
        table: dict[str, Derivation] = {}
        drv = BASE.evolve(name="leaf", env=(("v", variant),))
        path = f"/gnu/store/{variant}-leaf.drv"
        table[path] = drv
        for n in range(600):
            drv = BASE.evolve(name=f"n{n}", input_drvs=((path, ("out",)),))
            path = f"/gnu/store/{variant}-n{n}.drv"
            table[path] = drv
        tables.append(table)
        tops.append((path, drv))
    (old_path, old), (new_path, new) = tops
    diff = diff_derivations(old_path, old, new_path, new, tables[0].get, tables[1].get, 5000)
    rows = side_by_side(diff)
    assert max(r.depth for r in rows) == 2 * 600 + 1
    assert segments_text(rows[-1].right).strip() == "v = new"
