"""The log line each build event is shown as (the app's build log)."""

from __future__ import annotations

import pytest

from revive.core.stores.api import (
    AttemptKind,
    BuildAttempt,
    BuildEvent,
    BuildFailed,
    BuildFinished,
    BuildLog,
    BuildProgress,
    BuildStarted,
    FailureReason,
    describe_event,
)

DRV = "/gnu/store/00000000000000000000000000000000-x.tar.gz.drv"
OUT = "/gnu/store/11111111111111111111111111111111-x.tar.gz"


@pytest.mark.parametrize(
    ("event", "line"),
    [
        (BuildStarted(DRV, OUT, "url-fetch"), f"▶ fetching {OUT} with url-fetch"),
        (BuildStarted(DRV, OUT), f"▶ fetching {OUT}"),
        (
            BuildAttempt(DRV, "https://example.org/x.tar.gz", AttemptKind.MIRROR),
            "→ trying https://example.org/x.tar.gz (mirror)",
        ),
        (BuildLog(DRV, "  100 bytes"), "  100 bytes"),
        (BuildFinished(DRV, OUT), f"✔ {OUT} is valid"),
        (BuildFinished(DRV, OUT, cached=True), f"✔ {OUT} is valid (already in the store)"),
        (
            BuildFailed(DRV, FailureReason.NOT_FOUND, "HTTP 404"),
            "✘ not found: HTTP 404",
        ),
        (
            BuildFailed(DRV, FailureReason.HASH_MISMATCH, "x.tar.gz", "0abc", "1def"),
            "✘ hash mismatch: x.tar.gz (expected 0abc, got 1def)",
        ),
        (BuildProgress(DRV, 100, 1000), None),
    ],
)
def test_each_event_has_its_log_line(event: BuildEvent, line: str | None) -> None:
    assert describe_event(event) == line
