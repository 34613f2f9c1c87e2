"""The closure-wide search index."""

from __future__ import annotations

from revive.core.search import SearchField, SearchIndex


def index() -> SearchIndex:
    return SearchIndex.build(
        [
            (
                "/gnu/store/aaa-hello-2.10.tar.gz.drv",
                [
                    SearchField("name", "hello-2.10.tar.gz"),
                    SearchField("url", "mirror://gnu/hello"),
                ],
            ),
            ("/gnu/store/bbb-gcc-7.4.0.drv", [SearchField("name", "gcc-7.4.0")]),
            (
                "/gnu/store/ccc-txt2man-1.6.0-checkout.drv",
                [SearchField("git url", "https://github.com/mvertes/txt2man")],
            ),
        ]
    )


def test_one_match_per_node_in_index_order() -> None:
    found = index().search("gnu")
    assert [m.path for m in found] == [
        "/gnu/store/aaa-hello-2.10.tar.gz.drv",
        "/gnu/store/bbb-gcc-7.4.0.drv",
        "/gnu/store/ccc-txt2man-1.6.0-checkout.drv",
    ]
    # The store path is the first field of each node.
    assert found[0].field.kind == "path"


def test_case_insensitive_and_field_reported() -> None:
    (match,) = index().search("MVERTES")
    assert match.field.kind == "git url"
    assert match.field.text[match.start :].startswith("mvertes")


def test_empty_query_and_limit() -> None:
    assert index().search("   ") == ()
    assert len(index().search("/gnu/store", limit=2)) == 2
    assert len(index()) == 3


def test_no_match_across_fields() -> None:
    # "gz" ends one field and "mirror" starts the next: never glued together.
    assert index().search("gzmirror") == ()
