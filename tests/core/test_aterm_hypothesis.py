"""Property tests of the ``.drv`` reader and writer.

* Any derivation, with any strings (quotes, backslashes, control characters,
  non-ASCII), reads back equal after writing.
* Random damage to real files (byte flips, insertions, deletions,
  truncations) gives a derivation or one located ``DerivationError``, never
  another exception; and the fast regex and the error scanner agree on which.

Deterministic (``derandomize``) so a failure is reproducible and CI is stable.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revive.core import aterm
from revive.core.aterm import parse_derivation, parse_derivation_bytes, serialize_derivation
from revive.core.derivation import Derivation, Output
from revive.core.errors import DerivationError

SETTINGS = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    # The suite's autouse XDG fixture is function-scoped; it only sets
    # environment variables, which every example may share.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Any character (no surrogates: a .drv is UTF-8), with the ones that matter to
# the format drawn often.
CHARS = st.one_of(st.characters(exclude_categories=["Cs"]), st.sampled_from('"\\\n\r\t(),[]'))
STRINGS = st.text(CHARS, max_size=12)
SHORT = st.lists(STRINGS, max_size=4).map(tuple)

DERIVATIONS = st.builds(
    Derivation,
    name=STRINGS,
    outputs=st.lists(st.builds(Output, STRINGS, STRINGS, STRINGS, STRINGS), max_size=3).map(tuple),
    input_drvs=st.lists(st.tuples(STRINGS, SHORT), max_size=3).map(tuple),
    input_srcs=SHORT,
    system=STRINGS,
    builder=STRINGS,
    args=SHORT,
    env=st.lists(st.tuples(STRINGS, STRINGS), max_size=4).map(tuple),
)


@SETTINGS
@given(drv=DERIVATIONS)
def test_round_trip_of_generated_derivations(drv: Derivation) -> None:
    text = serialize_derivation(drv)
    assert parse_derivation(text, name=drv.name) == drv
    assert parse_derivation_bytes(text.encode(), name=drv.name) == drv
    # LF, CR and TAB are always escaped, and writing is a fixed point.
    assert "\n" not in text and "\r" not in text and "\t" not in text
    assert serialize_derivation(parse_derivation(text, name=drv.name)) == text


@SETTINGS
@given(value=STRINGS)
def test_round_trip_of_one_string_anywhere(value: str) -> None:
    drv = Derivation(
        value,
        (Output(value, value, value, value),),
        ((value, (value, value)),),
        (value,),
        value,
        value,
        (value, value),
        ((value, value),),
    )
    assert parse_derivation(serialize_derivation(drv), name=value) == drv


@SETTINGS
@given(drv=DERIVATIONS)
def test_writer_matches_the_one_string_at_a_time_reference(drv: Derivation) -> None:
    # serialize_derivation assembles the term with NUL for quotes and escapes
    # it all at once; the reference escapes each string by itself.
    assert serialize_derivation(drv) == aterm._serialize_each(drv)


# --- damaged real files -----------------------------------------------------------------


@pytest.fixture(scope="session")
def real_files(guix2020_store: Path, nix_vectors: dict[str, Any]) -> list[bytes]:
    """A spread of real ``.drv`` files: small, large, and Nix's escape-heavy ones."""
    corpus = sorted(guix2020_store.glob("*.drv"), key=lambda f: f.stat().st_size)
    picked = [f.read_bytes() for f in corpus[:: len(corpus) // 12]]
    picked += [
        base64.b64decode(case["/gnu/store"]["drv_text_b64"])
        for case in nix_vectors["derivations"]
        if case["name"] in ("escapes-in-env", "structured-attrs", "consumer-of-dev")
    ]
    return picked


STRUCTURAL = st.sampled_from([b'"', b"\\", b"(", b")", b"[", b"]", b",", b"\n", b"\xff", b"\xc3"])


@st.composite
def mutated(draw: st.DrawFn, files: list[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(files)))
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        at = draw(st.integers(0, len(data)))
        if kind == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif kind == "insert":
            piece = draw(st.one_of(STRUCTURAL, st.binary(min_size=1, max_size=4)))
            data[at:at] = piece
        elif kind == "delete":
            del data[at : at + draw(st.integers(1, 8))]
        else:
            del data[at:]
    return bytes(data)


@settings(SETTINGS, max_examples=1000)
@given(data=st.data())
def test_damaged_real_files_raise_only_derivation_error(
    data: st.DataObject, real_files: list[bytes]
) -> None:
    damaged = data.draw(mutated(real_files))
    try:
        drv = parse_derivation_bytes(damaged, "damaged.drv")
    except DerivationError as error:
        # The scanner found the error itself: the regex and it agree that
        # this text is invalid.
        assert error.message != "not a valid derivation"
        assert error.path == "damaged.drv" and error.line >= 1 and error.column >= 1
        assert str(error) == f"damaged.drv:{error.line}:{error.column}: {error.message}"
        return
    # Still valid: the scanner accepts it too, and it is stable under writing.
    text = damaged.decode()
    with pytest.raises(DerivationError) as info:
        aterm._locate_error(text, "damaged.drv")
    assert info.value.message == "not a valid derivation"
    again = serialize_derivation(drv)
    assert parse_derivation(again, name=drv.name) == drv
