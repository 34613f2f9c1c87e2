"""Per-node status facts and the state shown."""

from __future__ import annotations

from revive.core.node_status import FetchState, NodeStatus, StatusBoard


def test_states_by_priority() -> None:
    board = StatusBoard()
    assert board["x"].state is FetchState.NOT_FETCHED
    board.rewritten("x", "/gnu/store/new.drv")
    assert board["x"].state is FetchState.REWRITTEN
    board.started("x")
    assert board["x"].state is FetchState.FETCHING
    board.failed("x", "not found: 404")
    assert board["x"].state is FetchState.FAILED
    assert board["x"].failure == "not found: 404"
    assert board.in_state(FetchState.FAILED) == ("x",)
    board.started("x")
    assert board["x"].failure is None
    board.succeeded("x")
    assert board["x"].state is FetchState.VALID
    assert board["x"].rewritten_drv == "/gnu/store/new.drv"


def test_cancel_keeps_previous_failure() -> None:
    board = StatusBoard()
    board.failed("y", "timeout")
    board.set("y", board["y"].evolve(fetching=True))
    board.stopped("y")
    assert board["y"] == NodeStatus(failure="timeout")
