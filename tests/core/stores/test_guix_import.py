"""Importing fetched items into the Guix store, replayed from live recordings.

The recordings (``recordings/22-import-fixed-N``) were made by running this
very test with ``GUIX_REVIVE_LIVE_GUIX=1 GUIX_REVIVE_RECORD=1`` against the
Guix of ``scripts/live-guix.sh``; the stand-in replays them strictly in
order and fails on any call that differs from what was recorded.
"""

from __future__ import annotations

import pytest
from live_guix import skip_recording_without_live_guix

from revive.core.fetch.mirrors import default_mirror_config
from revive.core.fetch.rewrite import modern_derivation
from revive.core.fetch.spec import GitFetch, UrlFetch
from revive.core.stores.guix import GuixStore
from revive.core.stores.guix_import import FixedImport, ImportStatus, import_fixed

FILES: dict[str, bytes | str] = {
    "README": b"guix-revive import test, recorded 2026-12-04\n",
    "configure*": b"#!/bin/sh\necho configured\n",
    "src/main.c": b"int main(void) { return 0; }\n",
}
DATA = b"guix-revive import test: one flat file, recorded 2026-12-04\n"


@pytest.fixture
def scenario(tmp_path, store_copy, make_tree, expected_for):
    """A flat download and a git checkout, fetched, with their today's .drv as derivers."""
    skip_recording_without_live_guix()
    tree = tmp_path / "checkout"
    make_tree(tree, FILES)
    flat = tmp_path / "import-test.txt"
    flat.write_bytes(DATA)
    config = default_mirror_config().replace(content_addressed=[], disarchive=[])
    url = UrlFetch(
        expected_for("import-test.txt", data=DATA), ("http://127.0.0.1:9/import-test.txt",)
    )
    git = GitFetch(
        expected_for("import-test-checkout", tree=tree),
        "http://127.0.0.1:9/import-test.git",
        "0123456789abcdef0123456789abcdef01234567",
    )
    items = []
    for spec, source in ((url, flat), (git, tree)):
        drv, texts, _notes = modern_derivation(spec, "x86_64-linux", config)
        items.append(FixedImport(spec.expected, source, store_copy.add_drv(drv, texts)))
    return items


def test_import_fixed_adds_each_item_once_with_the_daemon_checking(
    scenario, guix_standin, store_copy, tmp_path
):
    store = GuixStore(
        read_only=[store_copy.root], env=guix_standin.sequence_env("22-import-fixed", tmp_path)
    )
    url, git = scenario
    outcomes = import_fixed(store, scenario)
    assert [(o.output_path, o.status) for o in outcomes] == [
        (url.expected.output_path, ImportStatus.IMPORTED),
        (git.expected.output_path, ImportStatus.IMPORTED),
    ]
    # The builtin:download .drv is recorded as deriver; the builtin:git-download
    # one is not, since this daemon cannot build it (never registered).
    assert [o.deriver for o in outcomes] == [url.deriver, None]
    assert store.derivers(url.expected.output_path) == (url.deriver,)
    assert store.query_valid([url.deriver, git.deriver]) == {url.deriver}
    again = import_fixed(store, scenario)
    assert [o.status for o in again] == [ImportStatus.VALID, ImportStatus.VALID]
