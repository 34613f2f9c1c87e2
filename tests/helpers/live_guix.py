"""The tests that talk to a live Guix (``GUIX_REVIVE_LIVE_GUIX=1``, set up with
``scripts/live-guix.sh``) and those that record its answers for the replaying
stand-in (``GUIX_REVIVE_RECORD=1``)."""

from __future__ import annotations

import os

import pytest

LIVE = os.environ.get("GUIX_REVIVE_LIVE_GUIX") == "1"

live_guix = pytest.mark.skipif(
    not LIVE, reason="needs a live Guix daemon (GUIX_REVIVE_LIVE_GUIX=1, scripts/live-guix.sh)"
)
"""Mark of a test (or, as ``pytestmark``, a module) that needs the live daemon."""


def skip_recording_without_live_guix() -> None:
    """A replaying test asked to record (``GUIX_REVIVE_RECORD=1``) needs the live Guix."""
    if os.environ.get("GUIX_REVIVE_RECORD") == "1" and not LIVE:
        pytest.skip("recording needs the live Guix")


def put_live_guix_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The wrapper of scripts/live-guix.sh first on PATH (kept off PATH for every
    other test, so that none picks the Guix backend by chance)."""
    bin_dir = os.environ.get("GUIX_REVIVE_GUIX_BIN", "/opt/guix-live/bin")
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ.get('PATH', '')}")
