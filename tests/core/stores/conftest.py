"""Fixtures for the store tests: a store copy to write ``.drv`` files into,
and the loopback server, NAR writer and repositories of the builder tests."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest

from revive.core.aterm import serialize_derivation
from revive.core.derivation import Derivation
from revive.core.derivation_hash import drv_path
from revive.core.fetch.mirrors import MirrorConfig, default_mirror_config
from revive.core.fetch.rewrite import modern_derivation
from revive.core.fetch.spec import FetchSpec
from revive.core.fetch.text_item import TextItem

# Test modules cannot import each other (importlib mode, no __init__.py), so
# the builder tests' conftest is loaded as a module and its fixtures
# re-exported here: one loopback server and one NAR writer for both folders.
_BUILDERS = Path(__file__).resolve().parent.parent / "builders" / "conftest.py"
_spec = importlib.util.spec_from_file_location("revive_test_builder_fixtures", _BUILDERS)
assert _spec is not None and _spec.loader is not None
builder_fixtures = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = builder_fixtures
_spec.loader.exec_module(builder_fixtures)

http_server = builder_fixtures.http_server
nar_of = builder_fixtures.nar_of
expected_for = builder_fixtures.expected_for
run_cmd = builder_fixtures.run_cmd
make_tree = builder_fixtures.make_tree
git_env = builder_fixtures.git_env
options = builder_fixtures.options
offline_options = builder_fixtures.offline_options


class StoreCopy:
    """A directory holding ``.drv`` files and text items under their store names,
    like the ``--store DIR`` copy a user points guix-revive at."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def add_item(self, item: TextItem) -> str:
        """Write a text item; return its path."""
        (self.root / Path(item.path).name).write_bytes(item.contents)
        return item.path

    def add_drv(self, drv: Derivation, items: Iterable[TextItem] = ()) -> str:
        """Write ``drv`` (and the items it needs); return its ``.drv`` path."""
        for item in items:
            self.add_item(item)
        path = drv_path(drv)
        (self.root / Path(path).name).write_text(serialize_derivation(drv))
        return path

    def add_spec(self, spec: FetchSpec, config: MirrorConfig | None = None) -> str:
        """Write today's FOD for ``spec`` and its mirror files; return its ``.drv`` path."""
        drv, items, _notes = modern_derivation(spec, "x86_64-linux", config)
        return self.add_drv(drv, items)


@pytest.fixture
def store_copy(tmp_path: Path) -> StoreCopy:
    """An empty store copy (logical dir ``/gnu/store``)."""
    return StoreCopy(tmp_path / "copy")


@pytest.fixture
def loopback_config(http_server) -> MirrorConfig:
    """Today's mirror data with the content-addressed mirrors on the loopback server only."""
    return default_mirror_config().replace(
        content_addressed=[http_server.url("/ca/{algo}/{nix32}")], disarchive=[]
    )
