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


def test_blocked_is_a_reason_not_a_state() -> None:
    """A node that needs a missing program is not failed: it says why beside its state."""
    board = StatusBoard()
    board.block("z", "needs svn (not installed)")
    assert board["z"].state is FetchState.NOT_FETCHED
    assert board["z"].reason == "needs svn (not installed)"
    board.started("z")
    board.failed("z", "tool missing: svn is not installed")
    assert board["z"].reason == "tool missing: svn is not installed"
    board.present("z")
    assert board["z"].state is FetchState.VALID
    assert board["z"].reason is None and board["z"].failure is None


def test_present_marks_a_twin_without_touching_its_fetch() -> None:
    board = StatusBoard()
    board.failed("twin", "not found: 404")
    board.present("twin")
    assert board["twin"] == NodeStatus(valid=True)
