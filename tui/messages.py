"""Messages that travel between the app's widgets and screens.

Events are named in the past tense (``NodeFocused``), requests in the
imperative (``RevealNode``). Widgets post them upwards; the graph screen
handles them and sets attributes on its children (messages up, attributes
down). Messages posted in loops coalesce (:class:`_OnlyTheLatest`).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message
from textual.worker import Worker

from revive.core.closure import LoadProgress

__all__ = [
    "NodeFocused",
    "RevealNode",
    "RewriteRequested",
    "BuildRequested",
    "CancelRequested",
    "WhyRequested",
    "LoadProgressed",
    "SearchChanged",
    "SearchStep",
    "SearchClosed",
    "StatusChanged",
    "WorkerFailed",
]


class _OnlyTheLatest(Message):
    """A message posted in a loop: a newer one replaces it while it waits in the queue."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, type(self))


@dataclass
class _AboutNode(Message):
    """A message about one node."""

    path: str
    """The node's ``.drv`` path."""


class NodeFocused(_OnlyTheLatest, _AboutNode):
    """The cursor moved onto a node (tree, FOD list, referrers…).

    Holding a key down moves the cursor faster than the detail pane renders;
    only the last position matters.
    """


class RevealNode(_AboutNode):
    """Show this node in the tree (expanding its first-occurrence chain) and focus it."""


class RewriteRequested(_AboutNode):
    """The user asked to rewrite this fixed-output node."""


class BuildRequested(_AboutNode):
    """The user asked to build (fetch) this node."""


class CancelRequested(_AboutNode):
    """The user asked to cancel the build of this node."""


class WhyRequested(_AboutNode):
    """The user asked why this node is in the closure."""


@dataclass
class LoadProgressed(_OnlyTheLatest):
    """Loading the closure went on (posted from the loading thread)."""

    progress: LoadProgress
    """How many nodes are read, out of how many known so far."""


@dataclass
class SearchChanged(_OnlyTheLatest):
    """The search text changed (incremental search)."""

    query: str
    """The text typed so far."""


@dataclass
class SearchStep(Message):
    """Move to the next (or previous) search match."""

    backwards: bool = False
    """Step to the previous match instead."""


@dataclass
class SearchClosed(Message):
    """The search bar closed; ``accepted`` if the user kept the current match."""

    accepted: bool
    """True for enter (stay on the match), false for escape (go back)."""


@dataclass
class StatusChanged(Message):
    """The status of some nodes changed (fetch started, finished, rewritten…)."""

    paths: tuple[str, ...]
    """The nodes whose status changed."""


@dataclass
class WorkerFailed(Message):
    """A screen's worker ended with an error; the app reports it (the one error funnel).

    ``Worker.StateChanged`` does not bubble, and a screen must not know the
    app's class: screens forward their failed workers as this message.
    """

    worker: Worker[object]
    """The worker that failed (its ``error`` and ``description`` say what happened)."""
