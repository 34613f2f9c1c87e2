"""``revive.core``'s public API: every name of ``__all__`` is there, lazily."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import revive.core


@pytest.mark.parametrize("name", revive.core.__all__)
def test_each_public_name_comes_from_the_module_that_defines_it(name: str) -> None:
    value = getattr(revive.core, name)
    assert value.__module__ == revive.core._HOME[name]
    assert value.__name__ == name
    assert name in dir(revive.core)


def test_all_and_the_import_table_name_the_same_things() -> None:
    assert sorted(revive.core.__all__) == sorted(revive.core._HOME)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        revive.core.no_such_name  # noqa: B018


def test_importing_the_package_imports_none_of_its_modules() -> None:
    script = (
        "import json, sys, revive.core\n"
        "before = sorted(m for m in sys.modules if m.startswith('revive.'))\n"
        "from revive.core import base32\n"
        "print(json.dumps([before, 'revive.core.base32' in sys.modules]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    before, submodule_imported = json.loads(result.stdout)
    assert before == ["revive.core"]
    # ``from revive.core import submodule`` still imports the submodule.
    assert submodule_imported
