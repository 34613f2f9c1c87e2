"""The Scheme reader and writer (guix-derivations.md §5.2)."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from revive.core.errors import SchemeError
from revive.core.fetch.scheme import (
    QUASIQUOTE,
    QUOTE,
    UNQUOTE,
    UNQUOTE_SPLICING,
    Char,
    DottedList,
    Keyword,
    Symbol,
    Vector,
    is_call,
    read_all,
    read_bytes,
    read_one,
    write_datum,
    write_string,
)

S = Symbol


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('"abc"', "abc"),
        (r'"a\"b\\c"', 'a"b\\c'),
        (r'"\a\b\t\n\v\f\r\0"', "\a\b\t\n\v\f\r\0"),
        (r'"\x41\x7f"', "A\x7f"),  # Guile 3: exactly two hex digits
        (r'"\x41;"', "A"),  # R6RS form of a printable character
        (r'"\x1;x"', "\x01x"),  # R6RS form, one digit
        (r'"\x01;"', "\x01;"),  # Guile wrote U+0001, then a real ';'
        (r'"\u00e9\U01f600"', "é😀"),
        ('"é ü 日本"', "é ü 日本"),
        ('"line\\\n    continued"', "linecontinued"),
        ('"two\nlines"', "two\nlines"),
        ("42", 42),
        ("-7", -7),
        ("1.5", 1.5),
        ("-.5e3", -500.0),
        ("1/3", Fraction(1, 3)),
        ("#xff", 255),
        ("#b101", 5),
        ("#e1.5", Fraction(3, 2)),
        ("#t", True),
        ("#true", True),
        ("#f", False),
        ("#false", False),
        ("#\\a", Char("a")),
        ("#\\space", Char(" ")),
        ("#\\newline", Char("\n")),
        ("#\\nul", Char("\0")),
        ("#\\x41", Char("A")),
        ("#\\(", Char("(")),
        ("#\\x", Char("x")),
        ("#:git-command", Keyword("git-command")),
        ("#:recursive?", Keyword("recursive?")),
        ("string-append", S("string-append")),
        ("%output", S("%output")),
        ("...", S("...")),
        ("=>", S("=>")),
        ("1+", S("1+")),
        ("@@", S("@@")),
        ("set!", S("set!")),
        ("-", S("-")),
        ("#{foo bar}#", S("foo bar")),
        ("()", ()),
        ("(a b c)", (S("a"), S("b"), S("c"))),
        ("[a b]", (S("a"), S("b"))),
        ("(a . b)", DottedList((S("a"),), S("b"))),
        ("(a b . c)", DottedList((S("a"), S("b")), S("c"))),
        ("(a . (b c))", (S("a"), S("b"), S("c"))),
        ("(a . (b . c))", DottedList((S("a"), S("b")), S("c"))),
        ('((gnu . ("x")))', ((S("gnu"), "x"),)),
        ('#(1 "a" b)', Vector((1, "a", S("b")))),
        ("#vu8(141 153 20)", bytes([141, 153, 20])),
        ("#vu8()", b""),
        ("'x", (QUOTE, S("x"))),
        ("`(a ,b ,@c)", (QUASIQUOTE, (S("a"), (UNQUOTE, S("b")), (UNQUOTE_SPLICING, S("c"))))),
        ('(quote "u")', (QUOTE, "u")),
    ],
)
def test_read_one(text: str, value: object) -> None:
    assert read_one(text) == value


def test_special_reals() -> None:
    assert read_one("+inf.0") == math.inf
    assert read_one("-inf.0") == -math.inf
    value = read_one("+nan.0")
    assert isinstance(value, float) and math.isnan(value)


def test_comments_are_skipped() -> None:
    text = """#!/usr/bin/env guile
!#
; a line comment with "quotes" and (parens
(a #;(b c) d) #| block #| nested |# (x) |# #; e
(f ;; trailing
 g)"""
    assert read_all(text) == ((S("a"), S("d")), (S("f"), S("g")))


def test_a_gexp_script_reads_as_one_datum() -> None:
    # GIVEN a one-line script as the gexp machinery writes it (§5.1)
    script = (
        "(begin (use-modules (guix build git) (guix build utils)) "
        '(git-fetch (quote "https://example.org/r\\u00e9po.git") (quote "v1.0") '
        '((@ (guile) getenv) "out") #:recursive? (quote #f) '
        '#:git-command (string-append "/gnu/store/aaaa-git-2.26.0" "/bin/git")))'
    )
    # WHEN it is read
    (datum,) = read_all(script, "s")
    # THEN the call is there with its literal arguments
    assert is_call(datum, "begin")
    call = datum[2]  # type: ignore[index]
    assert is_call(call, "git-fetch")
    assert call[1] == (QUOTE, "https://example.org/répo.git")  # type: ignore[index]
    assert call[4] == Keyword("recursive?")  # type: ignore[index]


def test_guile_builder_scripts_hold_two_data() -> None:
    text = '(begin (define %output (getenv "out")))(exit (begin (url-fetch (quote "u") %output)))'
    assert len(read_all(text)) == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("(a\n  b", "s.scm:2:4: unexpected end of input (a list is not closed)"),
        ('(x "abc', "s.scm:1:4: unterminated string"),
        (")", "s.scm:1:1: unexpected ')'"),
        ("(a . )", "s.scm:1:6: unexpected ')'"),
        ("(a . b c)", "s.scm:1:8: unexpected 'c'"),
        ("(. b)", "s.scm:1:2: unexpected '.'"),
        ("(a]", "s.scm:1:3: unexpected ']'"),
        ("#<procedure>", "s.scm:1:1: unknown syntax '#<'"),
        ("x #\\bogus", "s.scm:1:3: unknown character name #\\bogus"),
        ('\n  "a\\qb"', "s.scm:2:5: invalid escape '\\\\q' in string"),
        ("#vu8(1 300)", "s.scm:1:1: bytevector element 300 is not a byte (0-255)"),
        ("#| never closed", "s.scm:1:1: unterminated block comment '#|'"),
        ('"\\xd800;"', "s.scm:1:2: invalid character code 0xd800"),
    ],
)
def test_errors_are_located(text: str, message: str) -> None:
    with pytest.raises(SchemeError) as info:
        read_all(text, "s.scm")
    assert str(info.value) == message


def test_read_one_wants_exactly_one() -> None:
    with pytest.raises(SchemeError, match="expected one datum, found 2 data"):
        read_one("a b", "env")
    with pytest.raises(SchemeError, match="expected one datum, found no datum"):
        read_one("  ; nothing", "env")


@pytest.mark.parametrize(
    "text",
    ['""', '"a"', '"https://example.org/a b"', '"\u00e9\n\t"', '"a\\"b"', '"\\x41;"'],
)
def test_read_one_plain_string_fast_path_agrees_with_the_reader(text: str) -> None:
    assert read_one(text) == read_all(text)[0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('"', "env:1:1: unterminated string"),
        ('"a" "b"', "env:1:1: expected one datum, found 2 data"),
        ('"a"b"', "env:1:5: unterminated string"),
    ],
)
def test_read_one_near_plain_strings_are_errors(text: str, message: str) -> None:
    with pytest.raises(SchemeError) as info:
        read_one(text, "env")
    assert str(info.value) == message


def test_read_bytes_rejects_bad_utf8() -> None:
    with pytest.raises(SchemeError) as info:
        read_bytes(b'(a\n "b\xff")', "f")
    assert str(info.value) == "f:2:4: not valid UTF-8"


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("https://ftpmirror.gnu.org/gnu/", '"https://ftpmirror.gnu.org/gnu/"'),
        ('a"b\\c\nd\te\rf', '"a\\"b\\\\c\\nd\\te\\rf"'),
        ("\x01\x7f\x85", '"\\x01\\x7f\\x85"'),
        ("é😀 日本", '"é😀 日本"'),
        ("\u2028", '"\\u2028"'),
        ("\U000e0001", '"\\U0e0001"'),
        ("", '""'),
    ],
)
def test_write_string(value: str, written: str) -> None:
    assert write_string(value) == written
    assert read_one(written) == value


@pytest.mark.parametrize(
    "datum",
    [
        ((S("gnu"), "https://a/", "ftp://b/"), (S("gcc"), "x")),
        ("mirror://gnu/hello/hello-2.10.tar.gz", "https://x"),
        DottedList((S("type"),), S("origin")),
        Vector((1, 2.5, Fraction(1, 3), True, False, Char(" "), Char("a"), Char("\x01"))),
        bytes([0, 1, 255]),
        (Keyword("recursive?"), S("foo bar"), S(""), S("1"), S("#x"), S("."), S("a;b")),
        (QUOTE, ()),
        -3,
        math.inf,
    ],
)
def test_write_datum_round_trips(datum: object) -> None:
    written = write_datum(datum)  # type: ignore[arg-type]
    assert "\n" not in written
    assert read_one(written) == datum


def test_write_datum_never_abbreviates() -> None:
    assert write_datum((QUOTE, S("x"))) == "(quote x)"
    assert write_datum(((S("type"), S("origin")),)) == "((type origin))"
    assert write_datum(DottedList((S("patches"),), 1)) == "(patches . 1)"
    assert write_datum(bytes([141, 153])) == "#vu8(141 153)"
    assert write_datum(Char("\n")) == "#\\newline"
