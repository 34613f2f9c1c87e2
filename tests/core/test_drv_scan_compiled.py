"""The compiled .drv reader (``core/_drv_scan.c``) is exact, strict and safe.

It must give the careful parser's value for every text the careful parser
accepts and ``None`` for every other byte string, whatever it holds: the
tests compare the two on written, mutated, truncated and random input.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revive.core import _drv_scan, aterm, store_path
from revive.core import compiled as compiled_module
from revive.core.aterm import serialize_derivation
from revive.core.derivation import Derivation, Output
from revive.core.derivation_hash import masked
from revive.core.drv_scan import Fields, scan_fields
from revive.core.errors import DerivationError

from .test_drv_scan import NASTY, derivations, mutated

# Imported, never skipped when missing: scripts/setup.sh installs a C
# compiler, and a silently slow loader is exactly what these tests guard.
compiled = _drv_scan.scan_fields


def as_fields(drv: Derivation) -> Fields:
    """What a scanner returns for ``drv``."""
    return drv.fields()


def careful(text: str) -> Fields | None:
    """The reference: the careful regex parser, or None where it rejects the text."""
    try:
        return as_fields(aterm._parse_careful(text, "<test>", "x"))
    except DerivationError:
        return None


def test_the_loader_uses_the_compiled_reader() -> None:
    """Set-up builds it; only GUIX_REVIVE_PURE_PYTHON=1 turns it off."""
    assert compiled_module.COMPILED is not bool(os.environ.get("GUIX_REVIVE_PURE_PYTHON"))


def test_corpus_files_read_as_by_the_python_scanner(guix2020_store: Path) -> None:
    for file in sorted(guix2020_store.iterdir()):
        data = file.read_bytes()
        assert compiled(data) == scan_fields(data.decode()) is not None, file.name


@settings(max_examples=300, deadline=None)
@given(derivations)
def test_reads_every_written_derivation(drv: Derivation) -> None:
    """Whatever its strings hold (NUL, quotes, backslashes, newlines), nothing is declined."""
    text = serialize_derivation(drv)
    assert compiled(text.encode()) == as_fields(drv)


@settings(max_examples=500, deadline=None)
@given(derivations, st.data())
def test_agrees_with_the_careful_parser_on_mutated_texts(
    drv: Derivation, data: st.DataObject
) -> None:
    """Inserted, deleted and replaced characters: the same value, or both reject."""
    text = mutated(serialize_derivation(drv), data, '"\\,()[]nrtqx\x00\n é')
    assert compiled(text.encode()) == careful(text)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_are_declined_or_read_exactly(data: bytes) -> None:
    try:
        text = data.decode()
    except UnicodeDecodeError:
        assert compiled(data) is None
    else:
        assert compiled(data) == careful(text)


def test_every_prefix_of_a_real_file_is_declined(guix2020_store: Path) -> None:
    """Truncation anywhere (inside a string, an escape, a UTF-8 sequence) reads nothing."""
    file = max(guix2020_store.iterdir(), key=lambda f: f.read_bytes().count(b"\\"))
    data = file.read_bytes()
    assert compiled(data) is not None
    for end in range(len(data)):
        assert compiled(data[:end]) is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('"a\\qb"', "aqb"),  # a rare escape means the character itself
        ('"\\\\\\""', '\\"'),
        ('"line\nraw"', "line\nraw"),  # a raw newline inside a string
        ('"x\\n\\t\\r"', "x\n\t\r"),
        ('"\\é日"', "é日"),
        ('"nul\x00"', "nul\x00"),
    ],
)
def test_escapes_mean_what_the_careful_parser_says(text: str, value: str) -> None:
    term = f'Derive([],[],[],{text},"b",[],[])'
    fields = compiled(term.encode())
    assert fields is not None and fields[3] == value
    assert fields == careful(term)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"Derive(",
        b'Derive([],[],[],"s","b",[],[]) ',
        b'Derive([],[],[],"s","b",[],[])\n',
        b'Derive([],[],[],"s\xff","b",[],[])',  # not UTF-8
        b'Derive([],[],[],"\xed\xa0\x80","b",[],[])',  # an encoded surrogate
        b'Derive([],[],[],"s\\',
        b'Derive([("out","p","")],[],[],"s","b",[],[])',
        b'Derive([],[("/a.drv",["out"],"x")],[],"s","b",[],[])',
    ],
)
def test_invalid_input_is_declined(data: bytes) -> None:
    assert compiled(data) is None


def test_input_edges_share_their_strings() -> None:
    """Paths and names are interned, name tuples shared: a closure holds each once."""
    term = 'Derive([],[("/gnu/store/{}-glibc.drv",["out","static"])],[],"s","b",[],[])'
    first = compiled(term.format("a" * 32).encode())
    second = compiled(term.format("a" * 32).encode())
    assert first is not None and second is not None
    (path_1, names_1), (path_2, names_2) = first[1][0], second[1][0]
    assert path_1 is path_2 is sys.intern(path_1)
    assert names_1 is names_2 == ("out", "static")


def test_only_bytes_are_read() -> None:
    with pytest.raises(TypeError, match="needs bytes"):
        compiled('Derive([],[],[],"s","b",[],[])')  # type: ignore[arg-type]


def test_a_large_garbage_input_is_declined_quickly() -> None:
    """Ten megabytes of almost-valid tuples, then an error: linear, no crash."""
    body = b",".join([b'("out","/gnu/store/x","","")'] * 300_000)
    assert compiled(b"Derive([" + body + b"],[") is None
    assert compiled(b"Derive([" + body + b'],[],[],"s","b",[],[])') is not None


def in_pure_python(program: str, store: Path) -> str:
    """What ``program`` prints, run with ``GUIX_REVIVE_PURE_PYTHON=1`` and ``store`` as argument."""
    run = subprocess.run(
        [sys.executable, "-c", program, str(store)],
        env={**os.environ, "GUIX_REVIVE_PURE_PYTHON": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    return run.stdout.strip()


def test_pure_python_mode_reads_the_same(guix2020_store: Path) -> None:
    """GUIX_REVIVE_PURE_PYTHON=1 switches the loader to the Python scanner, same values."""
    program = (
        "import sys, pathlib\n"
        "from revive.core import drv_scan\n"
        "from revive.core import compiled\n"
        "assert not compiled.COMPILED\n"
        "files = sorted(pathlib.Path(sys.argv[1]).iterdir())\n"
        "print(repr([drv_scan.scan_bytes(f.read_bytes()) for f in files]))\n"
    )
    output = in_pure_python(program, guix2020_store)
    files = sorted(guix2020_store.iterdir())
    assert output == repr([compiled(f.read_bytes()) for f in files])


@pytest.mark.parametrize("count", [63, 64, 65, 129, 1000])
def test_long_lists_of_every_kind(count: int) -> None:
    """Lists longer than the reader's stack room grow on the heap, same values."""
    names = ",".join(f'"n{i}"' for i in range(count))
    strings = ",".join(f'"s{i}"' for i in range(count))
    outputs = ",".join(f'("o{i}","/p{i}","","")' for i in range(count))
    env = ",".join(f'("k{i}","v{i}\\n")' for i in range(count))
    term = (
        f'Derive([{outputs}],[("/a.drv",[{names}]),("/b.drv",["out"])],[{strings}],'
        f'"s","b",[{strings}],[{env}])'
    )
    fields = compiled(term.encode())
    assert fields is not None and fields == careful(term)
    assert len(fields[0]) == len(fields[1][0][1]) == len(fields[5]) == len(fields[6]) == count


@pytest.mark.parametrize("reader", ["compiled", "python"])
def test_an_edges_table_makes_equal_edges_one_tuple(reader: str) -> None:
    """With the loader's table, equal (path, names) edges of different files are one object."""
    term = (
        'Derive([],[("/gnu/store/{0}-glibc.drv",["out","static"]),'
        '("/gnu/store/{0}-gcc.drv",["out"])],[],"s","{1}",[],[])'
    )
    edges: dict[object, object] = {}

    def read(text: str) -> Fields | None:
        if reader == "compiled":
            return compiled(text.encode(), edges)  # type: ignore[arg-type]
        return scan_fields(text, edges)  # type: ignore[arg-type]

    first, second = read(term.format("a" * 32, "b1")), read(term.format("a" * 32, "b2"))
    other = read(term.format("c" * 32, "b3"))
    assert first is not None and second is not None and other is not None
    assert first[1] == second[1] == careful(term.format("a" * 32, "b1"))[1]  # type: ignore[index]
    assert all(x is y for x, y in zip(first[1], second[1], strict=True))
    assert not any(x is y for x, y in zip(first[1], other[1], strict=True))
    # Without the table, every file has its own edge tuples.
    alone = compiled(term.format("a" * 32, "b1").encode())
    assert alone is not None and alone[1][0] is not first[1][0]


def test_a_loaded_closure_shares_its_edges(guix2020_store: Path) -> None:
    from revive.core.closure import load_closure
    from revive.core.store_dir import StoreDir

    store = StoreDir.open(guix2020_store, "/gnu/store")
    roots = [f"/gnu/store/{f.name}" for f in sorted(guix2020_store.iterdir())]
    graph = load_closure(roots, store, workers=1)
    edges = [edge for drv in graph.derivations.values() for edge in drv.input_drvs]
    assert len(edges) > 2 * len(set(map(id, edges)))  # most edges are shared objects
    assert len({id(e) for e in edges}) == len(set(edges))  # and equal ones always are


def test_edges_must_be_a_dict() -> None:
    with pytest.raises(TypeError, match="edges must be a dict"):
        compiled(b'Derive([],[],[],"s","b",[],[])', [])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="takes 1 or 2 arguments"):
        compiled()  # type: ignore[call-arg]


def test_pure_python_derivations_equal_compiled_ones(guix2020_store: Path) -> None:
    """Derivation.from_fields / from_each give the same objects with and without C."""
    program = (
        "import sys, pathlib\n"
        "from revive.core import compiled, drv_scan\n"
        "from revive.core.derivation import Derivation\n"
        "assert not compiled.COMPILED\n"
        "files = sorted(pathlib.Path(sys.argv[1]).iterdir())\n"
        "fields = tuple(drv_scan.scan_bytes(f.read_bytes()) for f in files)\n"
        "names = tuple(f.name[33:-4] for f in files)\n"
        "one = [Derivation.from_fields(n, f) for n, f in zip(names, fields)]\n"
        "assert one == Derivation.from_each(names, fields)\n"
        "print(repr(one))\n"
    )
    output = in_pure_python(program, guix2020_store)
    files = sorted(guix2020_store.iterdir())
    names = tuple(f.name[33:-4] for f in files)
    fields = tuple(compiled(f.read_bytes()) for f in files)
    built = Derivation.from_each(names, fields)  # type: ignore[arg-type]
    assert built == [Derivation.from_fields(n, f) for n, f in zip(names, fields, strict=True)]  # type: ignore[arg-type]
    assert output == repr(built)
    for drv in built:
        assert type(drv) is Derivation and drv.getenv("out") == drv.output_path("out")


def test_building_derivations_checks_its_arguments() -> None:
    from revive.core import derivation as module

    slots, out_slots = module._DERIVATION_SLOTS, module._OUTPUT_SLOTS
    good = ((("out", "/p", "", ""),), (), (), "s", "b", (), ())
    assert _drv_scan.make_derivation(Derivation, slots, Output, out_slots, "x", good) == (
        Derivation("x", (Output("out", "/p"),), (), (), "s", "b")
    )
    for bad in [(), good[:6], ((("out", "/p"),), *good[1:]), (["out"], *good[1:])]:
        with pytest.raises(TypeError):
            _drv_scan.make_derivation(Derivation, slots, Output, out_slots, "x", bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="slot descriptors"):
        _drv_scan.make_derivation(Derivation, slots[:8], Output, out_slots, "x", good)
    with pytest.raises(TypeError, match="Derivation and Output classes"):
        _drv_scan.make_derivation(1, slots, Output, out_slots, "x", good)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="one size"):
        _drv_scan.make_derivations(Derivation, slots, Output, out_slots, ("x",), ())


@pytest.mark.parametrize(
    "literal",
    [
        b'"\xc3\\\x9f"',  # a backslash inside a two-byte sequence: the value would be "ß"
        b'"x\\n\xc3\\\x9f"',
        b'"\xe6\\\x97\xa5"',
        b'"\\\xc3"',  # an escaped lead byte with no continuation
        b'"a\xff\\n"',
    ],
)
def test_text_that_is_not_utf8_before_its_escapes_is_declined(literal: bytes) -> None:
    """The careful parser decodes the whole file first; so must the compiled reader."""
    data = b"Derive([],[],[]," + literal + b',"b",[],[])'
    with pytest.raises(UnicodeDecodeError):
        data.decode()
    assert compiled(data) is None


def test_escaped_multibyte_characters_are_read() -> None:
    data = 'Derive([],[],[],"\\é\\日 ß\\n","b",[],[])'
    fields = compiled(data.encode())
    assert fields is not None and fields[3] == "é日 ß\n" and fields == careful(data)


@settings(max_examples=500, deadline=None)
@given(derivations, st.data())
def test_agrees_with_the_careful_parser_on_mutated_bytes(
    drv: Derivation, data: st.DataObject
) -> None:
    """Byte-level mutations can split a UTF-8 sequence: the same value, or both reject."""
    raw = bytearray(serialize_derivation(drv).encode())
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(raw)))
        byte = data.draw(st.sampled_from(list(b'"\\,()[]n\x00\x9f\xc3\xa9\xe6')))
        action = data.draw(st.sampled_from(("insert", "delete", "replace")))
        if action == "insert":
            raw.insert(at, byte)
        elif action == "delete":
            del raw[at : at + 1]
        else:
            raw[at : at + 1] = bytes([byte])
    try:
        text = bytes(raw).decode()
    except UnicodeDecodeError:
        assert compiled(bytes(raw)) is None
    else:
        assert compiled(bytes(raw)) == careful(text)


@pytest.mark.parametrize("reader", ["compiled", "python"])
def test_a_node_with_thousands_of_new_inputs(reader: str) -> None:
    """A profile can have 15,000 inputs, none seen before: all read, each entered once.

    (The Python reader once searched its misses from the start each time: a
    1.7 s stall on the 15,000-input root of the 50,000-node benchmark.)
    """
    count = 20_000
    inputs = ",".join(f'("/gnu/store/{i:032d}-p.drv",["out"])' for i in range(count))
    term = f'Derive([],[{inputs}],[],"s","b",[],[])'
    edges: dict[object, object] = {}
    fields = (
        compiled(term.encode(), edges)  # type: ignore[arg-type]
        if reader == "compiled"
        else scan_fields(term, edges)  # type: ignore[arg-type]
    )
    assert fields is not None and len(fields[1]) == count == len(edges)
    assert fields == careful(term)


# --- hash_texts: the texts verify hashes, cut out of a file's bytes ----------------

hash_texts = _drv_scan.hash_texts
input_lists = st.lists(st.tuples(NASTY, st.lists(NASTY, max_size=3).map(tuple)), max_size=4).map(
    tuple
)


def inputs_part(drv: Derivation) -> str:
    """What ``serialize_derivation`` writes between the brackets of the inputs list."""
    empty = serialize_derivation(drv.evolve(input_drvs=()))
    full = serialize_derivation(drv)
    # The list starts with "(" where the empty one has "]": the common prefix ends there.
    start = len(os.path.commonprefix([empty, full]))
    return full[start : start + len(full) - len(empty)]


@settings(max_examples=300, deadline=None)
@given(derivations, input_lists)
def test_hash_texts_equal_the_serialized_texts(
    drv: Derivation, replacement: tuple[tuple[str, tuple[str, ...]], ...]
) -> None:
    """The cut texts are what serializing the replaced (and masked) derivation gives."""
    data = serialize_derivation(drv).encode()
    replaced = inputs_part(drv.evolve(input_drvs=replacement)).encode()
    modulo = serialize_derivation(drv.evolve(input_drvs=replacement)).encode()
    blank = masked(drv).evolve(input_drvs=replacement)
    assert hash_texts(data, drv.fields(), replaced) == (
        modulo,
        serialize_derivation(blank).encode(),
    )
    assert hash_texts(data, drv.fields(), None) == ()


@settings(max_examples=400, deadline=None)
@given(derivations, st.data())
def test_hash_texts_accept_only_the_canonical_text(drv: Derivation, data: st.DataObject) -> None:
    """Mutated bytes, or another node's fields: declined unless the text is the very one."""
    text = serialize_derivation(drv)
    changed = mutated(text, data, '"\\,()[]nrtqx\x00\n é').encode()
    accepted = hash_texts(changed, drv.fields(), None)
    assert (accepted == ()) is (changed == text.encode())
    other = data.draw(derivations)
    assert (hash_texts(text.encode(), other.fields(), b"") is None) is (
        serialize_derivation(other) != text
    )


def test_hash_texts_decline_rare_escapes_that_read_the_same() -> None:
    """``\\a`` reads as ``a`` and a raw newline as ``\\n``: same node, not its canonical text."""
    drv = Derivation("x", (Output("out", "/p"),), (), (), "s", "b", ("a\n",), (("out", "/p"),))
    text = serialize_derivation(drv)
    assert hash_texts(text.encode(), drv.fields(), None) == ()
    for other in (text.replace('"a', '"\\a'), text.replace("\\n", "\n")):
        assert aterm._parse_careful(other, "<test>", "x") == drv
        assert hash_texts(other.encode(), drv.fields(), None) is None


def test_hash_texts_refuse_what_is_not_fields() -> None:
    with pytest.raises(TypeError):
        hash_texts("text", ((), (), (), "", "", (), ()), None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        hash_texts(b"Derive(", ((), (), ()), None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        hash_texts(b'Derive([("out"', (((1, 2, 3, 4),), (), (), "", "", (), ()), None)  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=100))
def test_path_hash_is_the_python_fold_and_encoding(digest: bytes) -> None:
    """The compiled store path hash equals nix-base32 of the 20-byte XOR fold, any size."""
    assert _drv_scan.path_hash(digest) == store_path._folded_nix32(digest)
    with pytest.raises(TypeError):
        _drv_scan.path_hash(digest.hex())  # type: ignore[arg-type]


def test_hash_texts_compare_characters_of_every_width() -> None:
    """Two-, three- and four-byte UTF-8 and escapes around them; one character off is declined."""
    value = 'é\\"€\n😀\t'
    drv = Derivation("x", (Output("out", "/p"),), (), (), "s", value, (value * 3,), (("k", value),))
    data = serialize_derivation(drv).encode()
    assert hash_texts(data, drv.fields(), None) == ()
    for other in ("é\\'€\n😀\t", 'é\\"€\n😁\t', 'é\\"€\n😀'):
        changed = drv.evolve(builder=other)
        assert hash_texts(data, changed.fields(), None) is None
    lone = drv.evolve(builder="\ud800")
    assert hash_texts(data, lone.fields(), None) is None


@settings(max_examples=300, deadline=None)
@given(
    derivations,
    input_lists,
    st.sampled_from(["hello-2.10", "x", "a.b+c?=_-1", ".hidden", "bad name", "é"]),
    st.sampled_from(["/gnu/store", "/nix/store", "/tmp/störe"]),
    st.booleans(),
)
def test_verify_paths_are_what_make_store_path_gives(
    drv: Derivation,
    replacement: tuple[tuple[str, tuple[str, ...]], ...],
    name: str,
    store_dir: str,
    fixed: bool,
) -> None:
    """The .drv path, hash modulo and output paths the Python functions give (None: a bad name)."""
    data = serialize_derivation(drv).encode()
    kind = ":".join(("text", *sorted(drv.input_srcs)))
    replaced = None if fixed else inputs_part(drv.evolve(input_drvs=replacement)).encode()
    try:
        drv_path = store_path.make_store_path(
            kind, hashlib.sha256(data).digest(), name + ".drv", store_dir
        )
        if replaced is None:
            expected: object = (drv_path, None, None)
        else:
            modulo = serialize_derivation(drv.evolve(input_drvs=replacement)).encode()
            blank = serialize_derivation(masked(drv).evolve(input_drvs=replacement)).encode()
            inner = hashlib.sha256(blank).digest()
            outputs = tuple(
                store_path.make_store_path(
                    "output:" + o.name, inner, store_path.output_path_name(name, o.name), store_dir
                )
                for o in drv.outputs
            )
            expected = (drv_path, hashlib.sha256(modulo).hexdigest(), outputs)
    except store_path.StorePathError:
        expected = None
    found = _drv_scan.verify_paths(
        data, drv.fields(), replaced, kind, name, store_dir, hashlib.sha256
    )
    assert found == expected
    # Bytes that are not the fields' text: declined before any hashing.
    assert (
        _drv_scan.verify_paths(
            data + b" ", drv.fields(), replaced, kind, name, store_dir, hashlib.sha256
        )
        is None
    )
