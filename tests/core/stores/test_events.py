"""The log line each build event is shown as (the app's build log)."""

from __future__ import annotations

import pytest

from revive.core.stores import api

DRV = "/gnu/store/00000000000000000000000000000000-x.tar.gz.drv"
OUT = "/gnu/store/11111111111111111111111111111111-x.tar.gz"


@pytest.mark.parametrize(
    ("event", "line"),
    [
        (api.BuildStarted(DRV, OUT, "url-fetch"), f"▶ fetching {OUT} with url-fetch"),
        (api.BuildStarted(DRV, OUT), f"▶ fetching {OUT}"),
        (
            api.BuildAttempt(DRV, "https://example.org/x.tar.gz", api.AttemptKind.MIRROR),
            "→ trying https://example.org/x.tar.gz (mirror)",
        ),
        (api.BuildLog(DRV, "  100 bytes"), "  100 bytes"),
        (api.BuildFinished(DRV, OUT), f"✔ {OUT} is valid"),
        (api.BuildFinished(DRV, OUT, cached=True), f"✔ {OUT} is valid (already in the store)"),
        (
            api.BuildFailed(DRV, api.FailureReason.NOT_FOUND, "HTTP 404"),
            "✘ not found: HTTP 404",
        ),
        (
            api.BuildFailed(DRV, api.FailureReason.HASH_MISMATCH, "x.tar.gz", "0abc", "1def"),
            "✘ hash mismatch: x.tar.gz (expected 0abc, got 1def)",
        ),
        (api.BuildProgress(DRV, 100, 1000), None),
    ],
)
def test_each_event_has_its_log_line(event: api.BuildEvent, line: str | None) -> None:
    assert api.describe_event(event) == line
