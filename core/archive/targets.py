"""What to audit: every FOD of a closure, with its fetch spec when one can be read.

A FOD whose spec cannot be extracted is still audited by what its
derivation alone says (its hash and output path): Software Heritage by
hash and the substitute servers need nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from revive.core.derivation import Derivation
from revive.core.errors import ReviveError
from revive.core.fetch.extract import expected_of, read_fetch_spec
from revive.core.fetch.spec import Expected, FetchSpec
from revive.core.graph import DerivationGraph

__all__ = ["FodTarget", "fod_target", "fod_targets"]


@dataclass(frozen=True, slots=True)
class FodTarget:
    """One FOD to audit."""

    drv_path: str
    """Its ``.drv`` path."""
    expected: Expected
    """Name, output path, hash."""
    method: str
    """Fetch method label (``url-fetch``, ``url-fetch/executable``, ``git-fetch``…)."""
    era: str
    """Era label (``builtin``, ``in-band``, ``script``…)."""
    spec: FetchSpec | None
    """What it fetches (``None`` if that could not be read)."""
    error: str = ""
    """Why :attr:`spec` is missing (one line)."""

    @property
    def name(self) -> str:
        """The derivation's name."""
        return self.expected.name


def fod_target(
    path: str, drv: Derivation, read_item: Callable[[str], bytes] | None = None
) -> FodTarget | None:
    """The target of one derivation (``None`` if it is not a FOD with a hex hash)."""
    if not drv.is_fixed_output:
        return None
    try:
        expected = expected_of(drv)
    except ReviveError:
        return None
    found, spec, error = read_fetch_spec(drv, read_item, path=path)
    return FodTarget(path, expected, found.label, found.era, spec, error)


def fod_targets(
    graph: DerivationGraph, read_item: Callable[[str], bytes] | None = None
) -> list[FodTarget]:
    """A target for every FOD of ``graph`` (with a hex hash), sorted by name then path."""
    targets = []
    for path, drv in graph.derivations.items():
        target = fod_target(path, drv, read_item)
        if target is not None:
            targets.append(target)
    targets.sort(key=lambda t: (t.name, t.drv_path))
    return targets
