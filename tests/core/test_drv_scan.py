"""The fast .drv scanner agrees with the careful parser on everything it accepts."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revive.core import aterm
from revive.core.aterm import serialize_derivation
from revive.core.derivation import Derivation, Output
from revive.core.drv_scan import scan_derivation
from revive.core.errors import DerivationError

# Characters that matter to the scanner: quotes, backslashes, the escape
# letters, its placeholders, punctuation of the term, whitespace, non-ASCII.
NASTY = st.text(
    alphabet=st.sampled_from(list('"\\ntr\x00\x01\x02,()[]Derive \n\t\ré日/a-.')), max_size=8
)


def careful(text: str) -> Derivation | None:
    """The reference: the regex parser alone, or None where it rejects the text."""
    try:
        return aterm._parse_careful(text, "<test>", "x")
    except DerivationError:
        return None


derivations = st.builds(
    Derivation,
    name=st.just("x"),
    outputs=st.lists(st.builds(Output, NASTY, NASTY, NASTY, NASTY), max_size=3).map(tuple),
    input_drvs=st.lists(st.tuples(NASTY, st.lists(NASTY, max_size=3).map(tuple)), max_size=4).map(
        tuple
    ),
    input_srcs=st.lists(NASTY, max_size=3).map(tuple),
    system=NASTY,
    builder=NASTY,
    args=st.lists(NASTY, max_size=3).map(tuple),
    env=st.lists(st.tuples(NASTY, NASTY), max_size=4).map(tuple),
)


@settings(max_examples=200, deadline=None)
@given(derivations)
def test_scan_reads_what_the_writer_wrote(drv: Derivation) -> None:
    """Any derivation, however nasty its strings, comes back equal (or is declined)."""
    text = serialize_derivation(drv)
    scanned = scan_derivation(text, "x")
    assert scanned is None or scanned == drv
    # Declining is only allowed for texts that hold the scanner's placeholders
    # or zero-output-name inputs (both never written by Guix).
    if scanned is None:
        assert "\x00" in text or "\x01" in text or any(not outs for _, outs in drv.input_drvs)


def mutated(text: str, data: st.DataObject, alphabet: str) -> str:
    """``text`` with one to three characters inserted, deleted or replaced."""
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(text)))
        action = data.draw(st.sampled_from(("insert", "delete", "replace")))
        char = data.draw(st.sampled_from(list(alphabet)))
        if action == "insert":
            text = text[:at] + char + text[at:]
        elif action == "delete":
            text = text[:at] + text[at + 1 :]
        else:
            text = text[:at] + char + text[at + 1 :]
    return text


@settings(max_examples=300, deadline=None)
@given(derivations, st.data())
def test_scan_never_accepts_what_the_parser_rejects(drv: Derivation, data: st.DataObject) -> None:
    """Mutated texts: the scanner returns None or exactly the careful parser's value."""
    text = mutated(serialize_derivation(drv), data, '"\\,()[]nx\x00')
    scanned = scan_derivation(text, "x")
    if scanned is not None:
        assert scanned == careful(text)


def test_corpus_files_are_all_scanned(guix2020_store: Path) -> None:
    """Every real Guix file takes the fast path and gives the careful parser's value."""
    for file in sorted(guix2020_store.iterdir()):
        text = file.read_text()
        scanned = scan_derivation(text, file.name[33:-4])
        assert scanned is not None, file.name
        assert scanned == careful(text).evolve(name=file.name[33:-4])  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Derive(",
        'Derive([],[],[],"s","b",[],[]) ',
        'Derive([],[],[],"s","b",[],[])\n',
        'Derive([],[],[],"s","b",[],[("a","b\\q")])',
        'Derive([],[("/a.drv",[])],[],"s","b",[],[])',
        'Derive([],[],[],"s","b",[],[("a\x00","b\\n")])',
        'Derive([("out","","","")],[],[],"s","b",[],[("a","b\\")])',
        'Derive([],[],[],"s\\","b",[],[])',
    ],
)
def test_unusual_texts_are_declined(text: str) -> None:
    """Errors, rare escapes, zero-name inputs and placeholder characters go to the parser."""
    assert scan_derivation(text, "x") is None


def naive_serialize(drv: Derivation) -> str:
    """The writer as the format document states it, one string at a time."""

    def q(value: str) -> str:
        for char, escape in (
            ("\\", "\\\\"),
            ('"', '\\"'),
            ("\n", "\\n"),
            ("\r", "\\r"),
            ("\t", "\\t"),
        ):
            value = value.replace(char, escape)
        return f'"{value}"'

    outputs = ",".join(
        f"({q(o.name)},{q(o.path)},{q(o.hash_algo)},{q(o.hash)})" for o in drv.outputs
    )
    inputs = ",".join(f"({q(p)},[{','.join(map(q, outs))}])" for p, outs in drv.input_drvs)
    env = ",".join(f"({q(k)},{q(v)})" for k, v in drv.env)
    return (
        f"Derive([{outputs}],[{inputs}],[{','.join(map(q, drv.input_srcs))}],"
        f"{q(drv.system)},{q(drv.builder)},[{','.join(map(q, drv.args))}],[{env}])"
    )


@settings(max_examples=300, deadline=None)
@given(derivations)
def test_fast_writer_equals_the_naive_writer(drv: Derivation) -> None:
    """The group-escaping writer gives the same text as escaping string by string."""
    assert serialize_derivation(drv) == naive_serialize(drv)


@settings(max_examples=100, deadline=None)
@given(derivations)
def test_from_fields_builds_the_same_derivation(drv: Derivation) -> None:
    """The slot-setting constructor the loader uses equals the dataclass one."""
    fields = drv.fields()
    assert fields[0] == tuple((o.name, o.path, o.hash_algo, o.hash) for o in drv.outputs)
    rest = (drv.input_drvs, drv.input_srcs, drv.system, drv.builder, drv.args, drv.env)
    assert fields[1:] == rest
    built = Derivation.from_fields("x", fields)
    assert built == drv and hash(built) == hash(drv) and repr(built) == repr(drv)
    assert all(type(out) is Output for out in built.outputs)
    for key, value in dict(drv.env).items():
        assert built.getenv(key) == value
