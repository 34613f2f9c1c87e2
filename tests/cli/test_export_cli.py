"""``guix-revive export --to-guix``, replayed from live recordings (``24-export-cli-N``).

Recorded by running this test with ``GUIX_REVIVE_LIVE_GUIX=1 GUIX_REVIVE_RECORD=1``
against the Guix of ``scripts/live-guix.sh``; the stand-in replays the calls
strictly in order.
"""

from __future__ import annotations

import pytest
from fixture_modules import conftest_of
from live_guix import skip_recording_without_live_guix

from revive.core.derivation import Derivation, Output
from revive.core.fetch.mirrors import default_mirror_config
from revive.core.fetch.spec import GitFetch, UrlFetch
from revive.core.stores.embedded import EmbeddedStore
from revive.tui.cli import main

store_fixtures = conftest_of("core/stores")
builders = store_fixtures.builder_fixtures
guix_standin = store_fixtures.guix_standin

FILES: dict[str, bytes | str] = {
    "README": b"guix-revive export test, recorded 2026-12-04\n",
    "src/lib.c": b"int lib;\n",
}
DATA = b"guix-revive export test: a flat file, recorded 2026-12-04\n"


@pytest.fixture
def setup(tmp_path):
    skip_recording_without_live_guix()
    tree = tmp_path / "tree"
    builders.write_tree(tree, FILES)
    flat = tmp_path / "export-test.txt"
    flat.write_bytes(DATA)
    embedded = EmbeddedStore(tmp_path / "embedded")
    item_flat = embedded.add_fixed("export-test.txt", flat, "sha256", False)
    item_tree = embedded.add_fixed("export-test-checkout", tree, "sha256", True)
    copy = store_fixtures.StoreCopy(tmp_path / "copy")
    config = default_mirror_config().replace(content_addressed=[], disarchive=[])

    exp = builders.expected_of
    fods = [
        copy.add_spec(
            UrlFetch(
                exp("export-test.txt", data=DATA),
                ("http://127.0.0.1:9/export-test.txt",),
            ),
            config,
        ),
        copy.add_spec(
            GitFetch(
                exp("export-test-checkout", tree=tree), "http://127.0.0.1:9/export.git", "0" * 40
            ),
            config,
        ),
        copy.add_spec(
            UrlFetch(
                exp("export-missing.txt", data=b"nowhere\n"),
                ("http://127.0.0.1:9/export-missing.txt",),
            ),
            config,
        ),
    ]
    root = copy.add_drv(
        Derivation(
            "export-root",
            (Output("out", "/gnu/store/" + "a" * 32 + "-export-root"),),
            tuple((p, ("out",)) for p in sorted(fods)),
            (),
            "x86_64-linux",
            "/bin/sh",
        )
    )
    return embedded, copy, item_flat, item_tree, root


def test_export_items_then_a_closure(setup, guix_standin, tmp_path, monkeypatch, capsys):
    embedded, copy, item_flat, item_tree, root = setup
    for key, value in guix_standin.sequence_env("24-export-cli", tmp_path).items():
        monkeypatch.setenv(key, value)
    base = ["export", "--to-guix", "--from", str(embedded.root), "--store", str(copy.root)]
    assert main([*base, item_flat, item_tree]) == 0
    out = capsys.readouterr().out
    assert f"imported {item_flat}\n" in out and f"imported {item_tree}\n" in out
    assert "2 items: 0 already valid, 2 imported, 0 missing, 0 refused" in out
    # The closure: both sources valid now, the third in neither store.
    assert main([*base, root]) == 1
    out = capsys.readouterr().out
    assert f"valid {item_flat}\n" in out and f"valid {item_tree}\n" in out
    assert "missing /gnu/store/" in out and "-export-missing.txt" in out
    assert "3 items: 2 already valid, 0 imported, 1 missing, 0 refused" in out


def test_export_needs_an_embedded_store(tmp_path, capsys):
    status = main(["export", "--to-guix", "--from", str(tmp_path / "none"), "/gnu/store/x"])
    assert status == 2
    assert "no embedded store there" in capsys.readouterr().err
