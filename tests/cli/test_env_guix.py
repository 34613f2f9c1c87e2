"""``guix-revive env --fetch --backend guix``, replayed from live recordings (``27-env-fetch-N``).

Recorded by running this test with ``GUIX_REVIVE_LIVE_GUIX=1 GUIX_REVIVE_RECORD=1``
against the Guix of ``scripts/live-guix.sh`` (commit 210a42dd, Feb 2022); the
stand-in replays the calls strictly in order, so the test also pins how many
store sessions the command opens: one validity query, one ``add-to-store``
exporting what the embedded store has, one builtin probe, one ``add-to-store``
of the old git checkout fetched by guix-revive's own builder.
"""

from __future__ import annotations

import json
import os

import pytest
from fixture_modules import conftest_of
from live_guix import skip_recording_without_live_guix
from repos import git_repo

from revive.core.derivation import Derivation, Output
from revive.core.fetch.mirrors import default_mirror_config
from revive.core.fetch.spec import UrlFetch
from revive.core.stores.embedded import EmbeddedStore
from revive.tui.cli import main

store_fixtures = conftest_of("core/stores")
builders = store_fixtures.builder_fixtures
guix_standin = store_fixtures.guix_standin

FILES: dict[str, bytes | str] = {
    "README": b"guix-revive env test, recorded 2026-12-04\n",
    "src/env.c": b"int env;\n",
}
EXPORTED = b"guix-revive env test: fetched into the embedded store before, 2026-12-04\n"
DEAD = "http://127.0.0.1:9"  # nothing listens there: nothing may be fetched from it


_expected = builders.expected_of


@pytest.fixture
def setup(tmp_path):
    skip_recording_without_live_guix()
    copy = store_fixtures.StoreCopy(tmp_path / "copy")
    config = default_mirror_config().replace(content_addressed=[], disarchive=[])
    # Fetched into guix-revive's embedded store by an earlier run.
    flat = tmp_path / "env-exported.txt"
    flat.write_bytes(EXPORTED)
    embedded = EmbeddedStore(tmp_path / "embedded")
    embedded.add_fixed("env-exported.txt", flat, "sha256", False)
    exported = copy.add_spec(
        UrlFetch(
            _expected("env-exported.txt", data=EXPORTED),
            (f"{DEAD}/env-exported.txt",),
        ),
        config,
    )
    # The old git fetcher's own source: needed only to build that old git.
    tool = copy.add_spec(
        UrlFetch(
            _expected("git-2.25.tar.xz", data=b"old git\n"),
            (f"{DEAD}/git-2.25.tar.xz",),
        ),
        config,
    )
    tree = tmp_path / "tree"
    builders.write_tree(tree, FILES)
    repo = tmp_path / "repo"
    git_repo(repo, FILES, tag="v1")
    out = _expected("env-test-checkout", tree=tree)
    git_old = copy.add_in_band(
        out,
        "git-download",
        (("git commit", "v1"), ("git recursive?", "#f"), ("git url", repo.as_uri())),
        input_drvs=[tool],
    )
    root = copy.add_drv(
        Derivation(
            "env-test-root",
            (Output("out", "/gnu/store/" + "e" * 32 + "-env-test-root"),),
            tuple((p, ("out",)) for p in sorted([exported, git_old])),
            (),
            "x86_64-linux",
            "/bin/sh",
        )
    )
    roots = tmp_path / "roots.txt"
    roots.write_text(root + "\n")
    return copy, embedded, roots, {"exported": exported, "tool": tool, "git-old": git_old}


def test_env_fetch_on_the_guix_backend(setup, guix_standin, tmp_path, monkeypatch, capsys):
    copy, embedded, roots, fods = setup
    recording = os.environ.get("GUIX_REVIVE_RECORD") == "1"
    for key, value in guix_standin.sequence_env("27-env-fetch", tmp_path).items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    status = main(["env", "--roots", str(roots), "--store", str(copy.root), "--backend", "guix",
                   "--target-store", str(embedded.root), "--no-substitutes", "--fetch",
                   "--jobs", "1", "--json", "--methods", "upstream", "--retries", "0"])  # fmt: skip
    captured = capsys.readouterr()
    assert status == 0, captured.err
    found = {r["drv"]: r for r in map(json.loads, captured.out.splitlines())}
    exported = found[fods["exported"]]
    assert exported["state"] == "present"
    assert "exported from guix-revive's embedded store" in exported["reason"]
    assert found[fods["tool"]]["state"] == "unneeded"
    git_old = found[fods["git-old"]]
    assert git_old["state"] == "present"
    assert git_old["reason"] == "fetched (guix: today's form (builtin:git-download))"
    if not recording:
        calls = [c[0] for c in guix_standin.calls()]
        assert calls == [["repl", "-t", "machine"]] * 4  # query, export, probe, add
