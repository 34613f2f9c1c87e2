"""Load another test directory's ``conftest.py`` as a module, once.

Test modules cannot import each other (pytest's importlib import mode, no
``__init__.py``), yet the CLI, TUI and store tests need the fixtures of
``tests/core/builders``, ``tests/core/stores`` and ``tests/core/env``. This is
the one place that loads such a conftest from its file; every caller gets the
same module object, so its classes and fixtures are defined once per run.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

TESTS = Path(__file__).resolve().parent.parent


def conftest_of(directory: str) -> ModuleType:
    """The ``conftest.py`` of ``tests/<directory>`` (``"core/stores"``), loaded once."""
    name = "revive_test_fixtures_" + directory.replace("/", "_")
    loaded = sys.modules.get(name)
    if loaded is not None:
        return loaded
    spec = importlib.util.spec_from_file_location(name, TESTS / directory / "conftest.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
