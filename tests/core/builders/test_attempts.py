"""How failed attempts add up to one error."""

from __future__ import annotations

from revive.core.builders.attempts import Attempts
from revive.core.builders.errors import FetchError
from revive.core.stores.api import AttemptKind, FailureReason


def test_the_other_places_tried_are_places_not_sources() -> None:
    """The first failure is the news; the others are counted as places tried
    ("sources" are downloads everywhere else in guix-revive)."""
    attempts = Attempts()
    attempts.add(AttemptKind.UPSTREAM, "http://a/x", FetchError(FailureReason.NOT_FOUND, "a: 404"))
    assert str(attempts.error("/gnu/store/x")) == "a: 404"
    attempts.add(AttemptKind.NAR, "http://b/nar/x", FetchError(FailureReason.NOT_FOUND, "b: 404"))
    assert str(attempts.error("/gnu/store/x")) == "a: 404 (also tried 1 other place: it failed)"
    attempts.add(AttemptKind.NAR, "http://c/nar/x", FetchError(FailureReason.NOT_FOUND, "c: 404"))
    assert str(attempts.error("/gnu/store/x")).endswith("(also tried 2 other places: all failed)")
