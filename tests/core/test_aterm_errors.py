"""Malformed ``.drv`` input: one ``DerivationError`` at ``file:line:column``, never a hang.

A ``.drv`` is a single line, so the column is the character offset plus one.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from revive.core import aterm
from revive.core.aterm import parse_derivation, parse_derivation_bytes, read_derivation
from revive.core.errors import DerivationError, ParseError, ReviveError

GOOD = (
    'Derive([("out","/gnu/store/vi2qyf9wyk7n59gzv5dch8dkfl0r1cnc-x","","")],'
    '[("/gnu/store/j28gm48klq29zcfnkmp0qqhwnlrvkp4s-y.drv",["out"])],'
    '["/gnu/store/z94f0wyd5dl27nj28l59gndxh545xkjq-build.sh"],"x86_64-linux","/bin/sh",'
    '["-e","a\\"b"],[("out","/gnu/store/vi2qyf9wyk7n59gzv5dch8dkfl0r1cnc-x")])'
)
"""A small valid derivation with every kind of field (and an escape)."""

OUT = '("out","/gnu/store/vi2qyf9wyk7n59gzv5dch8dkfl0r1cnc-x","","")'
ENV = '[("out","/gnu/store/vi2qyf9wyk7n59gzv5dch8dkfl0r1cnc-x")]'


def error_of(text: str, path: str = "f.drv") -> DerivationError:
    """The one error parsing ``text`` raises, checked to be a clean one-liner."""
    with pytest.raises(DerivationError) as info:
        parse_derivation(text, path)
    return checked(info.value)


def checked(error: DerivationError) -> DerivationError:
    # One error: nothing chained that a traceback would show.
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__
    assert "\n" not in str(error)
    assert str(error) == f"{error.path}:{error.line}:{error.column}: {error.message}"
    assert error.message != "not a valid derivation", "the scanner missed an error"
    return error


def located(error: DerivationError) -> tuple[int, int, str]:
    return error.line, error.column, error.message


def test_good_text_parses() -> None:
    assert parse_derivation(GOOD, "f.drv").getenv("out") is not None


@pytest.mark.parametrize(
    ("text", "line", "column", "message"),
    [
        ("", 1, 1, "empty file, expected 'Derive('"),
        ("D", 1, 2, "expected 'Derive(', found end of file"),
        ("Derive", 1, 7, "expected 'Derive(', found end of file"),
        ("derive(", 1, 1, "expected 'Derive(', found 'd'"),
        ("Derive([", 1, 9, "expected '(' starting output, found end of file"),
        ("Derive([]", 1, 10, "expected ',' before the input derivations, found end of file"),
        ("Derive([])", 1, 10, "Derive has too few fields: the input derivations is missing"),
        ('Derive([("out', 1, 10, "unterminated string"),
        ('Derive([("out\\', 1, 14, "backslash at end of file"),
        ('Derive([("out\\"', 1, 10, "unterminated string"),
        ("Derive([(out", 1, 10, "expected a string, found 'o'"),
        ("\ufeffDerive(", 1, 1, "expected 'Derive(', found '\\ufeff'"),
        (" " + GOOD, 1, 1, "expected 'Derive(', found ' '"),
        (GOOD.replace(",", ", ", 1), 1, 16, "expected a string, found ' '"),
    ],
)
def test_exact_errors_at_the_start(text: str, line: int, column: int, message: str) -> None:
    assert located(error_of(text)) == (line, column, message)


def test_trailing_newline() -> None:
    # Guix and the daemon never end a .drv with a newline; an editor might.
    error = error_of(GOOD + "\n")
    assert (
        str(error) == f"f.drv:1:{len(GOOD) + 1}: unexpected '\\n' after the end of the derivation"
    )


def test_trailing_garbage() -> None:
    error = error_of(GOOD + "Derive(")
    assert located(error) == (1, len(GOOD) + 1, "unexpected 'D' after the end of the derivation")


def test_output_with_three_fields() -> None:
    text = GOOD.replace(OUT, '("out","/gnu/store/vi2qyf9wyk7n59gzv5dch8dkfl0r1cnc-x","")')
    assert located(error_of(text)) == (1, 66, "output has 3 fields, expected 4")
    assert text[65] == ")"


def test_derive_with_six_fields() -> None:
    text = GOOD.replace("," + ENV + ")", ")")
    assert located(error_of(text)) == (
        1,
        len(text),
        "Derive has too few fields: the environment is missing",
    )


def test_derive_with_eight_fields() -> None:
    text = GOOD[:-1] + ",[])"
    assert located(error_of(text)) == (1, len(GOOD), "Derive has more than 7 fields")


@pytest.mark.parametrize(
    ("old", "new", "at", "message"),
    [
        pytest.param(
            OUT, OUT[:-1] + ',"")', ',"")],', "output has more than 4 fields",
            id="output-with-five-fields",
        ),
        pytest.param(
            ENV, ENV[:-2] + ',"z")]', ',"z"', "environment variable has more than 2 fields",
            id="env-pair-with-three-fields",
        ),
        pytest.param(
            '["out"])]', '["out"],"x")]', ',"x")', "input derivation has more than 2 fields",
            id="input-derivation-with-three-fields",
        ),
        pytest.param(
            '["out"])]', '"out")]', '"out")]', "expected '[' starting output names, found '\"'",
            id="input-derivation-without-output-list",
        ),
        pytest.param(
            '"x86_64-linux"', "x86_64-linux", "x86_64", "expected a string, found 'x'",
            id="system-that-is-not-a-string",
        ),
    ],
)  # fmt: skip
def test_error_points_at_the_faulty_part(old: str, new: str, at: str, message: str) -> None:
    """A part of GOOD replaced by a faulty one: the error is at the start of ``at``."""
    text = GOOD.replace(old, new)
    assert text != GOOD
    assert located(error_of(text)) == (1, text.index(at) + 1, message)


def test_env_pair_with_one_field() -> None:
    text = GOOD.replace(ENV, '[("out")]')
    assert located(error_of(text)) == (
        1,
        len(text) - 2,
        "environment variable has 1 field, expected 2",
    )


def test_unterminated_string_points_at_its_opening_quote() -> None:
    cut = GOOD.index('"/bin/sh"') + 4
    assert located(error_of(GOOD[:cut])) == (1, cut - 3, "unterminated string")


def test_backslash_at_end_of_file_points_at_the_backslash() -> None:
    cut = GOOD.index('a\\"b') + 2
    assert GOOD[cut - 1] == "\\"
    assert located(error_of(GOOD[:cut])) == (1, cut, "backslash at end of file")


def test_lines_count_raw_newlines_inside_strings() -> None:
    # A raw newline in a value is legal (only a writer must escape it), so an
    # error after it is on line 2, columns counted from that newline.
    text = 'Derive([],[],[],"a\nbc",x'
    assert located(error_of(text)) == (2, 5, "expected a string, found 'x'")


# --- bytes and files --------------------------------------------------------------------


def test_invalid_utf8_in_the_middle_of_line_one() -> None:
    data = GOOD.encode().replace(b"x86_64-linux", b"x86_\xff64-linux")
    with pytest.raises(DerivationError) as info:
        parse_derivation_bytes(data, "f.drv")
    column = GOOD.index("x86_64") + 5
    assert located(checked(info.value)) == (1, column, "invalid UTF-8 byte 0xff")


def test_invalid_utf8_column_counts_characters_not_bytes() -> None:
    data = 'Derive([],[],[],"é日😀'.encode() + b"\xc3\x28"
    with pytest.raises(DerivationError) as info:
        parse_derivation_bytes(data, "f.drv")
    assert located(checked(info.value)) == (1, 21, "invalid UTF-8 byte 0xc3")


def test_truncated_utf8_sequence_at_end_of_file() -> None:
    data = 'Derive([],[],[],"日'.encode()[:-1]
    with pytest.raises(DerivationError) as info:
        parse_derivation_bytes(data, "f.drv")
    assert located(checked(info.value)) == (1, 18, "invalid UTF-8 byte 0xe6")


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.drv"
    bad.write_text(GOOD + "\n")
    with pytest.raises(DerivationError) as info:
        read_derivation(str(bad), "/gnu/store/b6wb7ja4qkwz8v7xsqm5jgixw937yr3w-x.drv")
    assert checked(info.value).path == str(bad)


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(DerivationError) as info:
        read_derivation(str(tmp_path))
    assert str(checked(info.value)) == f"{tmp_path}:1:1: is a directory, not a derivation file"


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.drv"
    with pytest.raises(DerivationError) as info:
        read_derivation(str(missing))
    assert str(checked(info.value)) == f"{missing}:1:1: cannot read: No such file or directory"


def test_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.drv"
    empty.write_bytes(b"")
    with pytest.raises(DerivationError) as info:
        read_derivation(str(empty))
    assert str(checked(info.value)) == f"{empty}:1:1: empty file, expected 'Derive('"


HUNDRED_MB = 100 * 1024 * 1024


def test_hundred_megabytes_of_random_bytes_fail_fast(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.drv"
    with garbage.open("wb") as handle:
        # "D" first so that a byte-level check cannot stop at offset 0.
        handle.write(b"D")
        for _ in range(100):
            handle.write(os.urandom(1024 * 1024))
    with pytest.raises(DerivationError) as info:
        read_derivation(str(garbage))
    assert checked(info.value).message.startswith(("invalid UTF-8 byte", "expected 'Derive('"))


def test_hundred_megabytes_of_text_fail_fast(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.drv"
    garbage.write_bytes(b"Derive([(" + b"\x00" * HUNDRED_MB)
    with pytest.raises(DerivationError) as info:
        read_derivation(str(garbage))
    assert located(checked(info.value)) == (1, 10, "expected a string, found '\\x00'")


def test_a_long_run_of_valid_items_is_skipped_at_regex_speed() -> None:
    # 10 MB of complete output tuples and no end: the scanner must not walk
    # 600,000 tuples one Python call at a time (it used to take ~30 s per 100 MB).
    text = "Derive([" + '("a","b","c","d"),' * 600_000
    assert located(error_of(text)) == (
        1,
        len(text) + 1,
        "expected '(' starting output, found end of file",
    )


def test_a_long_run_of_backslashes_is_linear() -> None:
    text = 'Derive([("' + "\\x" * 2_000_000
    assert located(error_of(text)) == (1, 10, "unterminated string")


# --- every prefix of real files ------------------------------------------------------------


def test_every_truncation_of_a_real_file_is_a_located_error(guix2020_store: Path) -> None:
    (file,) = guix2020_store.glob("*-hello-2.10.tar.gz.drv")
    text = file.read_text()
    for cut in range(len(text)):
        error = error_of(text[:cut], file.name)
        assert 1 <= error.column <= cut + 1, cut


def test_every_truncation_of_an_escaped_text_is_a_located_error() -> None:
    for cut in range(len(GOOD)):
        error = error_of(GOOD[:cut])
        assert 1 <= error.column <= cut + 1, cut


def test_errors_are_parse_errors_and_revive_errors() -> None:
    error = error_of("")
    assert isinstance(error, ParseError) and isinstance(error, ReviveError)


def test_scanner_accepts_every_valid_corpus_file(guix2020_store: Path) -> None:
    # The error scanner runs only when the fast regex rejects a text. It must
    # accept everything the regex accepts (and vice versa, see the hypothesis
    # tests), or a valid file would get an error and an invalid one a vague
    # "not a valid derivation".
    for file in sorted(guix2020_store.glob("*.drv")):
        text = file.read_text()
        with pytest.raises(DerivationError) as info:
            aterm._locate_error(text, file.name)
        assert info.value.message == "not a valid derivation"
