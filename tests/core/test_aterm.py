"""Reading and writing ``.drv`` files: exact against Guix 2020, Nix 2.8 and the doc."""

from __future__ import annotations

import base64
import hashlib
import pickle
from pathlib import Path
from typing import Any

import pytest

from revive.core import aterm, base32
from revive.core.aterm import (
    escape_string,
    parse_derivation,
    parse_derivation_bytes,
    read_derivation,
    serialize_derivation,
)
from revive.core.derivation import Derivation, Output

# --- guix-2020 corpus -------------------------------------------------------------------


def test_corpus_has_all_401_files(guix2020_store: Path) -> None:
    assert len(list(guix2020_store.glob("*.drv"))) == 401


def test_corpus_round_trip_is_byte_identical(guix2020_file: Path) -> None:
    data = guix2020_file.read_bytes()
    drv = read_derivation(str(guix2020_file))
    assert serialize_derivation(drv).encode() == data


def test_corpus_parse_equals_what_guix_read(
    guix2020_file: Path, guix2020_truth: dict[str, dict[str, Any]]
) -> None:
    # GIVEN what Guix's own (guix derivations) read from this file
    logical = f"/gnu/store/{guix2020_file.name}"
    truth = guix2020_truth[logical]
    # WHEN we read the physical copy under its logical name
    drv = read_derivation(str(guix2020_file), logical)
    # THEN every field agrees
    assert drv.name == truth["name"]
    assert drv.is_fixed_output == truth["fixed_output"]
    assert len(drv.outputs) == len(truth["outputs"])
    for out, expected in zip(drv.outputs, truth["outputs"], strict=True):
        assert out.name == expected["name"]
        assert out.path == expected["path"]
        assert out.recursive == expected["recursive"]
        if expected["hash_algo"] is None:
            assert (out.hash_algo, out.hash, out.is_fixed) == ("", "", False)
            assert expected["hash_hex"] is None
        else:
            assert out.algorithm == expected["hash_algo"]
            assert out.hash_algo == ("r:" if expected["recursive"] else "") + expected["hash_algo"]
            assert out.hash == expected["hash_hex"]
            assert base32.encode(bytes.fromhex(out.hash)) == expected["hash_nix32"]
    assert [(p, list(o)) for p, o in drv.input_drvs] == [
        (i["path"], i["outputs"]) for i in truth["input_drvs"]
    ]
    assert list(drv.input_srcs) == truth["input_srcs"]
    assert drv.system == truth["system"]
    assert drv.builder == truth["builder"]
    assert list(drv.args) == truth["args"]
    assert [list(pair) for pair in drv.env] == truth["env"]


def test_corpus_files_are_canonical(guix2020_file: Path) -> None:
    # §2.3: what the daemon writes is sorted, so what we read keeps that order.
    drv = read_derivation(str(guix2020_file))
    assert list(drv.output_names) == sorted(drv.output_names)
    assert list(drv.input_drv_paths) == sorted(drv.input_drv_paths)
    assert all(list(outs) == sorted(set(outs)) for _, outs in drv.input_drvs)
    assert list(drv.input_srcs) == sorted(set(drv.input_srcs))
    assert [k for k, _ in drv.env] == sorted({k for k, _ in drv.env})


def test_corpus_known_facts(guix2020_store: Path) -> None:
    # The facts the corpus README promises.
    (hello,) = guix2020_store.glob("*-hello-2.10.tar.gz.drv")
    drv = read_derivation(str(hello))
    assert drv.builder == "builtin:download"
    assert drv.output_path() == "/gnu/store/hbdalsf5lpf01x4dcknwx6xbn6n5km6k-hello-2.10.tar.gz"
    assert drv.getenv("mirrors") == "/gnu/store/h1nnwnrbwr7vcllyn1k0p55lkdz0clhh-mirrors"
    assert drv.getenv("content-addressed-mirrors") == (
        "/gnu/store/vwyxp1dq4lb97n6b20w5cqxasy2dai79-content-addressed-mirrors"
    )
    checkouts = [
        read_derivation(str(f)) for f in guix2020_store.glob("*-txt2man-1.6.0-checkout.drv")
    ]
    assert {d.output_path() for d in checkouts} == {
        "/gnu/store/ba80al8r1yn09d0vy29h534igdlszdh7-txt2man-1.6.0-checkout"
    }


# --- the doc's examples -----------------------------------------------------------------


@pytest.mark.parametrize("key", ["a", "a-https", "b", "b-variant", "c", "nix-hello"])
def test_doc_examples_round_trip(key: str, doc_derivations: dict[str, tuple[str, str]]) -> None:
    path, text = doc_derivations[key]
    drv = parse_derivation(text, path)
    assert drv.name == Derivation.name_from_path(path)
    assert serialize_derivation(drv) == text


def test_doc_example_b_fields(doc_derivations: dict[str, tuple[str, str]]) -> None:
    path, text = doc_derivations["b"]
    drv = parse_derivation(text, path)
    assert drv.name == "consumer"
    assert drv.output_names == ("doc", "out")
    assert not drv.is_fixed_output and drv.fixed_output is None
    assert drv.input_drvs == (
        ("/gnu/store/j28gm48klq29zcfnkmp0qqhwnlrvkp4s-hello-2.12.1.tar.gz.drv", ("out",)),
    )
    assert drv.args == ("-e", "/gnu/store/z94f0wyd5dl27nj28l59gndxh545xkjq-build.sh")
    # The 11 characters a"b\c<LF>d<TAB>e<CR>f, every escape of §2.2.
    assert drv.getenv("tricky") == 'a"b\\c\nd\te\rf'
    assert len(drv.getenv("tricky") or "") == 11


def test_doc_example_c_is_a_recursive_fod(doc_derivations: dict[str, tuple[str, str]]) -> None:
    path, text = doc_derivations["c"]
    drv = parse_derivation(text, path)
    out = drv.fixed_output
    assert out is not None
    assert (out.hash_algo, out.algorithm, out.recursive) == ("r:sha256", "sha256", True)
    assert drv.getenv("url") == '"https://github.com/mvertes/txt2man"'


# --- Nix 2.8 oracle ---------------------------------------------------------------------


def test_nix_derivation_round_trip_and_show_derivation(
    nix_derivation: tuple[dict[str, Any], str],
) -> None:
    case, store_dir = nix_derivation
    vector = case[store_dir]
    data = base64.b64decode(vector["drv_text_b64"])
    assert data.decode() == vector["drv_text"]
    drv = parse_derivation_bytes(data, vector["drv_path"])
    # Byte-identical writing, for the root and every .drv of its closure.
    assert serialize_derivation(drv).encode() == data
    for path, b64 in vector["closure_drvs_b64"].items():
        closure_data = base64.b64decode(b64)
        closure_drv = parse_derivation_bytes(closure_data, path)
        assert serialize_derivation(closure_drv).encode() == closure_data, path
    # What `nix show-derivation` printed equals what we read.
    shown = vector["show_derivation"]
    assert {o.name: o.path for o in drv.outputs} == {
        name: out["path"] for name, out in shown["outputs"].items()
    }
    for out in drv.outputs:
        assert out.hash_algo == shown["outputs"][out.name].get("hashAlgo", "")
        assert out.hash == shown["outputs"][out.name].get("hash", "")
    assert {o.name: o.path for o in drv.outputs} == vector["outputs"]
    assert list(drv.input_srcs) == shown["inputSrcs"]
    assert {p: list(o) for p, o in drv.input_drvs} == shown["inputDrvs"]
    assert drv.system == shown["system"]
    assert drv.builder == shown["builder"]
    assert list(drv.args) == shown["args"]
    assert dict(drv.env) == shown["env"]
    assert len(drv.env) == len(shown["env"])


def test_nix_escapes_decode_to_the_values_nix_showed(nix_vectors: dict[str, Any]) -> None:
    (case,) = [c for c in nix_vectors["derivations"] if c["name"] == "escapes-in-env"]
    vector = case["/gnu/store"]
    drv = parse_derivation(vector["drv_text"], vector["drv_path"])
    assert drv.getenv("aterm") == '"),("x","y"),["]'
    assert drv.getenv("trailingBackslash") == "ends with \\"
    assert drv.getenv("backslashN") == "literal \\n not newline"
    assert drv.getenv("cr") == "crlf\r\n"
    # Control characters other than the five are written raw, not escaped.
    assert drv.getenv("esc") == "\x1b[31mred\x1b[0m\x01"
    assert '"\x1b[31mred\x1b[0m\x01"' in vector["drv_text"]
    assert drv.getenv("unicode") == "é ü ß λ → ✓ 日本 😀"
    assert drv.getenv("empty") == ""


def test_nix_structured_attrs_is_one_json_env_value(nix_vectors: dict[str, Any]) -> None:
    (case,) = [c for c in nix_vectors["derivations"] if c["name"] == "structured-attrs"]
    drv = parse_derivation(case["/nix/store"]["drv_text"], case["/nix/store"]["drv_path"])
    assert [k for k, _ in drv.env] == ["__json", "doc", "out"]
    json_value = drv.getenv("__json") or ""
    assert json_value.startswith('{"attrs":{"x":"y\\nz"}')


# --- strings ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("", '""'),
        ("plain /gnu/store/x", '"plain /gnu/store/x"'),
        ('"', '"\\""'),
        ("\\", '"\\\\"'),
        ("\n", '"\\n"'),
        ("\r", '"\\r"'),
        ("\t", '"\\t"'),
        ('a"b\\c\nd\te\rf', '"a\\"b\\\\c\\nd\\te\\rf"'),
        # Everything else is raw: other control characters and non-ASCII.
        ("\x00\x01\x1b\x7f", '"\x00\x01\x1b\x7f"'),
        ("é日😀", '"é日😀"'),
    ],
)
def test_escape_string(value: str, literal: str) -> None:
    assert escape_string(value) == literal
    drv = Derivation("x", (), (), (), "s", "b", (value,), ())
    assert parse_derivation(serialize_derivation(drv), name="x").args == (value,)


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        # §2.2: a backslash before any other character yields that character.
        ('"\\a"', "a"),
        ('"\\x1b"', "x1b"),
        ('"\\/"', "/"),
        ('"\\\\n"', "\\n"),
        ('"\\\\\\""', '\\"'),
        # A raw newline or tab inside a string is accepted as it is.
        ('"a\nb"', "a\nb"),
        ('"a\tb"', "a\tb"),
    ],
)
def test_reader_accepts_non_canonical_escapes(literal: str, value: str) -> None:
    text = f'Derive([],[],[],"s","b",[{literal}],[])'
    assert parse_derivation(text, name="x").args == (value,)


def test_serialize_writes_fields_in_stored_order() -> None:
    # The writer does not sort: canonical order is the caller's business.
    drv = Derivation(
        "x",
        (Output("out", "/s/b-x"), Output("doc", "/s/a-x-doc")),
        (("/s/z.drv", ("out", "lib")), ("/s/a.drv", ("out",))),
        ("/s/z", "/s/a"),
        "x86_64-linux",
        "/bin/sh",
        ("2", "1"),
        (("z", "1"), ("a", "2")),
    )
    text = serialize_derivation(drv)
    assert text == (
        'Derive([("out","/s/b-x","",""),("doc","/s/a-x-doc","","")],'
        '[("/s/z.drv",["out","lib"]),("/s/a.drv",["out"])],["/s/z","/s/a"],'
        '"x86_64-linux","/bin/sh",["2","1"],[("z","1"),("a","2")])'
    )
    assert parse_derivation(text, name="x") == drv


@pytest.mark.parametrize(
    "drv",
    [
        # NUL inside a string (the writer's stand-in for quotes while it works).
        Derivation("x", (Output("out", "/s/a\x00b"),), (), (), "s", "b", (), (("k", "v\x00"),)),
        Derivation("x", (), (), ("\x00",), "\x00", '"\x00"', ("\x00\\",), ()),
        # An input with no output names: ("p",[]).
        Derivation("x", (), (("/s/a.drv", ()), ("/s/b.drv", ("out",))), (), "s", "b", (), ()),
        # Everything that is escaped, everywhere.
        Derivation(
            'q"',
            (Output('o"\\', "/s/\n", "r:\t", "\r"),),
            (('/s/"a.drv', ("o\\ut",)),),
            ("/s/\t",),
            '"',
            "\\",
            ("\n\r\t",),
            (('"k"', 'v"\\'),),
        ),
    ],
)
def test_writer_special_cases_match_the_reference(drv: Derivation) -> None:
    text = serialize_derivation(drv)
    assert text == aterm._serialize_each(drv)
    assert parse_derivation(text, name=drv.name) == drv


def test_empty_derivation() -> None:
    text = 'Derive([],[],[],"","",[],[])'
    drv = parse_derivation(text, name="")
    assert drv == Derivation("", (), (), (), "", "", (), ())
    assert serialize_derivation(drv) == text


# --- names, files ---------------------------------------------------------------------


def test_name_comes_from_the_drv_path_or_the_out_output() -> None:
    text = (
        'Derive([("out","/gnu/store/vi2qyf9wyk7n59gzv5dch8dkfl0r1cnc-consumer","","")],'
        '[],[],"s","b",[],[])'
    )
    assert parse_derivation(text, "/gnu/store/b6wb7ja4qkwz8v7xsqm5jgixw937yr3w-other.drv").name == (
        "other"
    )
    assert parse_derivation(text).name == "consumer"
    assert parse_derivation(text, "copy.txt").name == "consumer"
    assert parse_derivation(text, "/x.drv", name="given").name == "given"
    assert parse_derivation('Derive([],[],[],"s","b",[],[])').name == ""


def test_read_derivation_uses_the_logical_path_for_the_name(
    tmp_path: Path, doc_derivations: dict[str, tuple[str, str]]
) -> None:
    path, text = doc_derivations["b"]
    copy = tmp_path / "copy"
    copy.write_text(text)
    assert read_derivation(str(copy), path).name == "consumer"
    assert read_derivation(str(copy)).name == "consumer"  # from the out output
    # A hand-made copy such as ./renamed.drv has no name in its file name...
    plain = tmp_path / "renamed.drv"
    plain.write_text(text)
    assert read_derivation(str(plain)).name == "consumer"
    # ...a file under a store name has one, even outside a store.
    named = tmp_path / "b6wb7ja4qkwz8v7xsqm5jgixw937yr3w-renamed.drv"
    named.write_text(text)
    assert read_derivation(str(named)).name == "renamed"


# --- the model ----------------------------------------------------------------------------


def test_derivation_accessors(doc_derivations: dict[str, tuple[str, str]]) -> None:
    path, text = doc_derivations["a"]
    drv = parse_derivation(text, path)
    assert drv.is_fixed_output
    assert drv.fixed_output is drv.outputs[0]
    assert drv.output("out") is drv.outputs[0]
    assert drv.output("doc") is None
    assert drv.output_path("doc") is None
    assert drv.getenv("preferLocalBuild") == "1"
    assert drv.getenv("missing") is None and drv.getenv("missing", "d") == "d"
    assert drv.has_env("url") and not drv.has_env("missing")
    assert drv.references == frozenset(drv.input_srcs)
    strings = list(drv.iter_strings())
    assert strings[:4] == ["out", drv.outputs[0].path, "sha256", drv.outputs[0].hash]
    assert '"mirror://gnu/hello/hello-2.12.1.tar.gz"' in strings
    assert drv.evolve(system="i686-linux").system == "i686-linux"
    assert drv.evolve(system="i686-linux").getenv("url") == drv.getenv("url")


def test_fixed_output_needs_one_output_named_out_with_a_hash() -> None:
    fixed = Output("out", "/s/p", "sha256", "00")
    assert Derivation("x", (fixed,), (), (), "", "").is_fixed_output
    assert not Derivation("x", (Output("out", "/s/p"),), (), (), "", "").is_fixed_output
    assert not Derivation("x", (fixed, Output("doc", "/s/d")), (), (), "", "").is_fixed_output
    other = Output("bin", "/s/p", "sha256", "00")
    assert not Derivation("x", (other,), (), (), "", "").is_fixed_output


def test_derivations_compare_by_value_and_pickle(guix2020_store: Path) -> None:
    file = sorted(guix2020_store.glob("*.drv"))[0]
    one, two = read_derivation(str(file)), read_derivation(str(file))
    assert one == two and hash(one) == hash(two)
    one.getenv("out")  # fills the lazy index, which is not part of the value
    assert one == two
    again = pickle.loads(pickle.dumps(one))
    assert again == one and again.getenv("out") == one.getenv("out")
    with pytest.raises(AttributeError):
        one.name = "other"  # type: ignore[misc]


def test_doc_texts_are_the_documented_bytes(doc_derivations: dict[str, tuple[str, str]]) -> None:
    # Guards the test data itself against a copying mistake (sizes and sha256
    # as printed in §2.9 and §10.4).
    expected = {
        "a": (877, "3088abbded30e76712567cdbc4ab07a586ca64fe80aa30fb24dd993bfd9c2e8a"),
        "b": (613, "bc4847c151f1c337ab118930907ccba332561a6aec60597796a72e25d7e5b44d"),
        "c": (479, None),
        "nix-hello": (1603, "3908dd79b304c38dba30edb4bbbafedd8503d605587200085c5e1cef99bd48ac"),
    }
    for key, (size, digest) in expected.items():
        data = doc_derivations[key][1].encode()
        assert len(data) == size, key
        if digest is not None:
            assert hashlib.sha256(data).hexdigest() == digest, key
