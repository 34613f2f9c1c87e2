"""What the demo environment is: its store, roots, sources and broken nodes.

:class:`DemoEnvironment` is returned by
:func:`revive.core.demo.generate.generate_demo` and saved as ``demo.json``
beside the store, so that a later run (or another process) gets the same
description without generating anything again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

__all__ = [
    "MANIFEST_NAME",
    "DemoRoot",
    "DemoSource",
    "SpecialNode",
    "VcsLocation",
    "DemoEnvironment",
]

MANIFEST_NAME: Final = "demo.json"
"""The description of a generated demo, in its directory."""


@dataclass(frozen=True, slots=True)
class DemoRoot:
    """One root of the demo: what a user of some Guix version asked for."""

    drv_path: str
    """Logical ``.drv`` path."""
    label: str
    """What it is, e.g. ``profile of an April 2020 Guix``."""


@dataclass(frozen=True, slots=True)
class DemoSource:
    """One fixed-output derivation of the demo and where its content is upstream."""

    drv_path: str
    """Logical ``.drv`` path of the FOD."""
    output_path: str
    """Its output path."""
    method: str
    """Fetch method, a :class:`revive.core.fetch.spec.FetchMethod` value."""
    form: str
    """Era code of ``guix-derivations.md`` §6: ``U1``, ``U2``, ``U3``, ``G1``, ``G2``,
    ``G4``, ``S1``, ``svn-multi``, ``H1``, ``bzr``, ``cvs``."""
    era: str
    """Human description of the era, e.g. ``builtin:download (2016-11 →)``."""
    origin: str
    """What it fetches: the first URL, or the repository and revision."""
    urls: tuple[str, ...]
    """URLs as written in the derivation (``mirror://`` kept); empty for VCS."""
    fetch_urls: tuple[str, ...]
    """Concrete URLs the original derivation tries, mirrors expanded with its own table."""
    upstream: str
    """Where the content lives under the upstream directory ("" if nowhere)."""
    status: str
    """``ok``, ``gone`` (no server has it) or ``moved`` (repository moved)."""
    wrapper: str = ""
    """For the FOD inside a ``url-fetch/tarbomb`` or ``/zipbomb``: the outer ``.drv``."""
    needs: str = ""
    """The program (``svn``) that was not installed when the demo was generated, so
    that its repository could not be made ("" when nothing was missing)."""


@dataclass(frozen=True, slots=True)
class SpecialNode:
    """A node of the demo that is broken on purpose, and why."""

    drv_path: str
    """Logical ``.drv`` path of the failing FOD."""
    kind: str
    """``upstream-gone`` (404) or ``repository-moved``."""
    package: str
    """The package it is the source of."""
    summary: str
    """One line: what is wrong."""
    detail: str
    """A paragraph: what the original tries, and what makes the rewrite work."""
    old_location: str
    """The URL written in the derivation."""
    new_location: str
    """Where the content is today ("" if only on mirrors)."""


@dataclass(frozen=True, slots=True)
class VcsLocation:
    """A URL prefix of the demo's repositories and the local copy standing for it."""

    prefix: str
    """Prefix of URLs (or CVS roots) written in derivations, e.g. ``https://github.com/``."""
    local: str
    """The matching directory, relative to the upstream directory."""
    form: str
    """``file-url`` (rewrite to ``file:///…``) or ``path`` (a plain local path: CVS roots)."""


@dataclass(frozen=True, slots=True)
class DemoEnvironment:
    """A generated demo: a store of past derivations plus their upstream sources."""

    demo_dir: Path
    """The demo directory (holds ``store/``, ``upstream/`` and ``demo.json``)."""
    logical_store_dir: str
    """The store directory the paths are computed for (``/gnu/store``)."""
    roots: tuple[DemoRoot, ...]
    """The roots, most important first (the 2020 profile)."""
    sources: tuple[DemoSource, ...]
    """Every fixed-output derivation, in generation order."""
    special: tuple[SpecialNode, ...]
    """The nodes broken on purpose."""
    http_files: tuple[tuple[str, str], ...]
    """URL → file under the upstream directory, for everything an HTTP server has."""
    prefixes: tuple[str, ...]
    """Every ``scheme://host/`` prefix the demo's derivations and mirror lists name."""
    vcs: tuple[VcsLocation, ...]
    """Where the repositories are."""
    content_addressed: tuple[tuple[str, str], ...]
    """``<algo>/<nix-base32>`` → file under upstream, for the content-addressed mirror."""
    nars: tuple[tuple[str, str], ...]
    """Output base name → NAR file under upstream, for the nar mirror."""
    version: int
    """Generator version that wrote it."""

    @property
    def store_dir(self) -> Path:
        """The physical directory standing for :attr:`logical_store_dir`."""
        return self.demo_dir / "store"

    @property
    def upstream_dir(self) -> Path:
        """Where the upstream tarballs and repositories are."""
        return self.demo_dir / "upstream"

    @property
    def fetched_dir(self) -> Path:
        """A suggested root for the embedded store that fetches the demo's sources.

        Kept apart from :attr:`store_dir` (the generated, read-only past
        store): deleting it resets every fetch; regenerating the demo does too.
        """
        return self.demo_dir / "fetched"

    @property
    def missing_programs(self) -> tuple[str, ...]:
        """The programs whose absence left repositories out of this demo (sorted)."""
        return tuple(sorted({s.needs for s in self.sources if s.needs}))

    @property
    def root_paths(self) -> tuple[str, ...]:
        """The roots' ``.drv`` paths."""
        return tuple(root.drv_path for root in self.roots)

    def physical(self, store_path: str) -> Path:
        """The file standing for ``store_path`` in :attr:`store_dir`."""
        return self.store_dir / store_path[len(self.logical_store_dir) + 1 :]

    def source(self, drv_path: str) -> DemoSource:
        """The :class:`DemoSource` of a FOD ``.drv`` path (``KeyError`` if none)."""
        for source in self.sources:
            if source.drv_path == drv_path:
                return source
        raise KeyError(drv_path)

    def special_of(self, kind: str) -> SpecialNode:
        """The special node of ``kind`` (``upstream-gone``, ``repository-moved``)."""
        for node in self.special:
            if node.kind == kind:
                return node
        raise KeyError(kind)

    # --- manifest ------------------------------------------------------------------

    def to_json(self) -> str:
        """The manifest text (paths relative to the demo directory; sorted keys)."""
        data: dict[str, Any] = {
            "version": self.version,
            "logical_store_dir": self.logical_store_dir,
            "roots": [[r.drv_path, r.label] for r in self.roots],
            "sources": [_source_json(s) for s in self.sources],
            "special": [
                {
                    "drv_path": n.drv_path,
                    "kind": n.kind,
                    "package": n.package,
                    "summary": n.summary,
                    "detail": n.detail,
                    "old_location": n.old_location,
                    "new_location": n.new_location,
                }
                for n in self.special
            ],
            "http_files": [list(item) for item in self.http_files],
            "prefixes": list(self.prefixes),
            "vcs": [[v.prefix, v.local, v.form] for v in self.vcs],
            "content_addressed": [list(item) for item in self.content_addressed],
            "nars": [list(item) for item in self.nars],
        }
        return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, demo_dir: Path, text: str) -> DemoEnvironment:
        """Read a manifest written by :meth:`to_json` for the demo at ``demo_dir``."""
        data = json.loads(text)
        return cls(
            demo_dir=demo_dir,
            logical_store_dir=data["logical_store_dir"],
            roots=tuple(DemoRoot(p, label) for p, label in data["roots"]),
            sources=tuple(_source_from(s) for s in data["sources"]),
            special=tuple(SpecialNode(**n) for n in data["special"]),
            http_files=tuple((u, f) for u, f in data["http_files"]),
            prefixes=tuple(data["prefixes"]),
            vcs=tuple(VcsLocation(p, loc, form) for p, loc, form in data["vcs"]),
            content_addressed=tuple((k, f) for k, f in data["content_addressed"]),
            nars=tuple((k, f) for k, f in data["nars"]),
            version=data["version"],
        )


def _source_json(source: DemoSource) -> dict[str, Any]:
    data = {
        "drv_path": source.drv_path,
        "output_path": source.output_path,
        "method": source.method,
        "form": source.form,
        "era": source.era,
        "origin": source.origin,
        "urls": list(source.urls),
        "fetch_urls": list(source.fetch_urls),
        "upstream": source.upstream,
        "status": source.status,
        "wrapper": source.wrapper,
    }
    if source.needs:  # only then: a complete demo's manifest stays as it was
        data["needs"] = source.needs
    return data


def _source_from(data: dict[str, Any]) -> DemoSource:
    return DemoSource(
        drv_path=data["drv_path"],
        output_path=data["output_path"],
        method=data["method"],
        form=data["form"],
        era=data["era"],
        origin=data["origin"],
        urls=tuple(data["urls"]),
        fetch_urls=tuple(data["fetch_urls"]),
        upstream=data["upstream"],
        status=data["status"],
        wrapper=data["wrapper"],
        needs=data.get("needs", ""),
    )
