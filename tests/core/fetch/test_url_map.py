"""The user's URL map: reading the file (exact errors), lookups, and the rewrite it changes."""

from __future__ import annotations

from pathlib import Path

import pytest

from revive.core.errors import ReviveError
from revive.core.fetch.rewrite import modern_derivation, rewrite
from revive.core.fetch.spec import CvsFetch, Expected, GitFetch, UrlFetch
from revive.core.fetch.url_map import (
    UrlMap,
    UrlMapError,
    apply_url_map,
    parse_url_map,
    read_url_map,
)
from revive.core.store_path import fixed_output_path

OLD = "https://github.com/mvertes/txt2man"
NEW = "https://codeberg.org/mvertes/txt2man.git"

EXPECTED = Expected("x-1.0", "/gnu/store/" + "a" * 32 + "-x-1.0", "sha256", b"\0" * 32, False)


def test_the_file_format() -> None:
    text = (
        "# moved upstreams\n"
        "\n"
        f"  {OLD}   {NEW}\n"
        "https://old.example.org/pub/ https://new.example.org/archive/\n"
    )
    url_map = parse_url_map(text, "moves.txt")
    assert [(r.old, r.new, r.origin) for r in url_map.rules] == [
        (OLD, NEW, "moves.txt:3"),
        ("https://old.example.org/pub/", "https://new.example.org/archive/", "moves.txt:4"),
    ]
    assert url_map.lookup(OLD) == (NEW, url_map.rules[0])
    assert url_map.lookup(OLD + ".git") is None  # exact rules match whole URLs only
    new, rule = url_map.lookup("https://old.example.org/pub/x/x-1.0.tar.gz") or ("", None)
    assert new == "https://new.example.org/archive/x/x-1.0.tar.gz"
    assert rule is url_map.rules[1]
    assert not UrlMap() and url_map


def test_exact_rules_win_then_longer_prefixes() -> None:
    url_map = (
        UrlMap()
        .with_rule("https://a.org/", "https://b.org/")
        .with_rule("https://a.org/x/", "https://c.org/")
        .with_rule("https://a.org/x/y", "https://d.org/y")
    )
    found = [
        url_map.lookup(u) for u in ("https://a.org/x/y", "https://a.org/x/z", "https://a.org/z")
    ]
    assert [f[0] if f else None for f in found] == [
        "https://d.org/y",
        "https://c.org/z",
        "https://b.org/z",
    ]
    # A rule for the same old URL replaces the previous one.
    again = url_map.with_rule("https://a.org/", "https://e.org/")
    assert len(again.rules) == 3 and again.lookup("https://a.org/z") == (
        "https://e.org/z",
        again.rules[-1],
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a b\nonly-one\n", "m.txt:2:1: expected two fields, OLD-URL NEW-URL; found one field"),
        ("  a b c\n", "m.txt:1:3: expected two fields, OLD-URL NEW-URL; found 3 fields"),
        ("a b\n# x\na c\n", "m.txt:3:1: a is already mapped on line 1"),
        ("a a\n", "m.txt:1:1: a is mapped to itself"),
        (
            "https://a.org/ https://b.org\n",
            "m.txt:1:1: https://a.org/ is a prefix (it ends with '/'), "
            "so https://b.org must end with '/' too",
        ),
    ],
)
def test_bad_lines_are_located(text: str, message: str) -> None:
    with pytest.raises(UrlMapError) as caught:
        parse_url_map(text, "m.txt")
    assert str(caught.value) == message


def test_reading_the_file(tmp_path: Path) -> None:
    path = tmp_path / "moves.txt"
    path.write_text(f"{OLD} {NEW}\n", encoding="utf-8")
    assert read_url_map(path).rules[0].origin == f"{path}:1"
    with pytest.raises(UrlMapError, match=rf"^{tmp_path}/absent:1:1: cannot read the URL map: "):
        read_url_map(tmp_path / "absent")
    path.write_bytes(b"a b\n\xff c\n")
    with pytest.raises(UrlMapError, match=r"moves.txt:2:1: not UTF-8 text$"):
        read_url_map(path)


def test_rules_given_in_the_app_are_checked() -> None:
    with pytest.raises(ReviveError, match="the new URL contains a blank"):
        UrlMap().with_rule(OLD, "https://x.org/a b")
    with pytest.raises(ReviveError, match="the new URL is empty"):
        UrlMap().with_rule(OLD, "")


def test_applying_a_map_to_every_kind_of_spec() -> None:
    url_map = UrlMap().with_rule("https://a.org/", "https://b.org/")
    url = UrlFetch(EXPECTED, ("mirror://gnu/x.tar.gz", "https://a.org/x.tar.gz"))
    moved, overrides = apply_url_map(url, url_map)
    assert isinstance(moved, UrlFetch)
    assert moved.urls == ("mirror://gnu/x.tar.gz", "https://b.org/x.tar.gz")
    assert [(o.old, o.new) for o in overrides] == [
        ("https://a.org/x.tar.gz", "https://b.org/x.tar.gz")
    ]
    git = GitFetch(EXPECTED, "https://a.org/x.git", "v1")
    moved_git, _ = apply_url_map(git, url_map)
    assert isinstance(moved_git, GitFetch) and moved_git.url == "https://b.org/x.git"
    assert moved_git.expected == git.expected  # the hash still decides
    cvs = CvsFetch(EXPECTED, ":pserver:anonymous@cvs.a.org:/cvsroot/x", "x", "v1")
    cvs_map = UrlMap().with_rule(cvs.root, ":pserver:anonymous@cvs.b.org:/cvsroot/x")
    moved_cvs, _ = apply_url_map(cvs, cvs_map)
    assert isinstance(moved_cvs, CvsFetch) and moved_cvs.root.startswith(":pserver:anonymous@cvs.b")
    # Nothing matching: the same spec, no override.
    assert apply_url_map(git, UrlMap().with_rule("https://c.org/", "https://d.org/")) == (git, ())


def test_a_rewrite_with_a_map_is_a_labelled_override_with_the_same_output() -> None:
    digest = bytes(range(32))
    name = "txt2man-1.6.0-checkout"
    out = fixed_output_path(name, "sha256", digest, True)
    spec = GitFetch(Expected(name, out, "sha256", digest, True), OLD, "v1.6.0")
    drv, _, _ = modern_derivation(spec, "x86_64-linux")  # today's form: rewrites to itself
    plain = rewrite(drv)
    assert plain.identity and plain.overrides == ()
    url_map = parse_url_map(f"{OLD} {NEW}\n", "moves.txt")
    moved = rewrite(drv, url_map=url_map)
    assert not moved.identity
    assert moved.derivation.getenv("url") == f'"{NEW}"'
    assert [(o.old, o.new, o.origin) for o in moved.overrides] == [(OLD, NEW, "moves.txt:1")]
    assert moved.notes[-1] == f"user override: {OLD} → {NEW}"
    # Same output (path, algorithm, digest): what the new place serves is still checked.
    assert moved.derivation.outputs == drv.outputs
    assert moved.drv_path != plain.drv_path
