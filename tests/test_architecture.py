"""Imports follow the layers of ARCHITECTURE.md: a lower layer never imports a higher one.

The table is read from ARCHITECTURE.md itself, so adding a package means
adding a row there; every ``import`` of every source file under ``core/``
and ``tui/`` is read with :mod:`ast` (imports only done for type checking
included: they tie the modules together just the same).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = {"core": "revive.core", "tui": "revive.tui"}
"""Source directory -> the package it is installed as."""
PRIMITIVES = "revive.core"
"""The row of the modules directly in ``core/`` (not its subpackages)."""
FACADE = "revive.core.__init__"
"""The row of ``core/__init__.py`` (imports of names from ``revive.core`` itself)."""

_ROW = re.compile(r"^\|\s*(\d+)\s*\|([^|]*)\|")


@dataclass(frozen=True, slots=True)
class Layer:
    """One package of the table, with its layer number."""

    rank: int
    package: str


def read_layers(text: str) -> list[Layer]:
    """The ``| layer | packages | …`` rows of ARCHITECTURE.md's table."""
    layers = []
    for line in text.splitlines():
        match = _ROW.match(line)
        if match:
            for package in re.findall(r"`([\w.]+)`", match.group(2)):
                layers.append(Layer(int(match.group(1)), package))
    return layers


LAYERS = read_layers((ROOT / "ARCHITECTURE.md").read_text())


def layer_of(module: str) -> Layer | None:
    """The row ``module`` belongs to: its package's, the longest that contains it."""
    if module == FACADE or module in (PRIMITIVES, "revive"):
        return next((layer for layer in LAYERS if layer.package == FACADE), None)
    best = None
    for layer in LAYERS:
        package = layer.package
        if package == PRIMITIVES:
            # Only the modules right in core/; a subpackage needs its own row.
            inside = module.count(".") == 2 and module.startswith(package + ".")
        else:
            inside = module == package or module.startswith(package + ".")
        if inside and (best is None or len(package) > len(best.package)):
            best = layer
    return best


def module_name(file: Path) -> str:
    """``core/fetch/spec.py`` -> ``revive.core.fetch.spec`` (``__init__`` of core: the facade)."""
    relative = file.relative_to(ROOT).with_suffix("")
    parts = [SOURCES[relative.parts[0]], *relative.parts[1:]]
    if parts[-1] == "__init__":
        return FACADE if parts[:-1] == [PRIMITIVES] else ".".join(parts[:-1])
    return ".".join(parts)


def is_module(name: str) -> bool:
    """True if ``name`` (``revive.…``) is a module or package of the source tree."""
    parts = name.split(".")
    if parts[:2] not in (["revive", "core"], ["revive", "tui"]):
        return False
    base = ROOT / parts[1] / Path(*parts[2:]) if len(parts) > 2 else ROOT / parts[1]
    # A compiled module has its C source and a type stub instead of a .py file.
    files = (base.with_suffix(".py"), base.with_suffix(".pyi"), base / "__init__.py")
    return any(file.is_file() for file in files)


def imported(source: str, module: str, *, package_init: bool = False) -> list[tuple[int, str]]:
    """``(line, module)`` of every module of ours that the source of ``module`` imports.

    ``package_init``: the source is a package's ``__init__.py`` (relative
    imports start from the package itself, not from its parent).
    """
    package = module if package_init else module.rsplit(".", 1)[0]
    if module == FACADE:
        package = PRIMITIVES
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                # `from revive.core import base32` imports a module; `from
                # revive.core import classify` a name of the package itself.
                full = f"{base}.{alias.name}"
                found.append((node.lineno, full if is_module(full) else base))
    return [(line, name) for line, name in found if name.split(".")[0] == "revive"]


def source_files() -> list[Path]:
    """Every Python source file of both packages."""
    return sorted(file for top in SOURCES for file in (ROOT / top).rglob("*.py"))


def test_the_table_is_read() -> None:
    """ARCHITECTURE.md's table names the layers, lowest first."""
    packages = [layer.package for layer in LAYERS]
    assert packages[0] == PRIMITIVES and packages[-1] == "revive.tui"
    assert {"revive.core.fetch", "revive.core.builders", "revive.core.stores"} <= set(packages)
    assert [layer.rank for layer in LAYERS] == sorted(layer.rank for layer in LAYERS)


def test_every_module_has_a_layer() -> None:
    """A new package must be placed in the table before it can be imported by anyone."""
    unplaced = [
        str(f.relative_to(ROOT)) for f in source_files() if layer_of(module_name(f)) is None
    ]
    assert unplaced == [], "add these packages to the table of ARCHITECTURE.md"


def test_lower_layers_never_import_higher_ones() -> None:
    """Every import goes down the table, or stays inside its own package."""
    wrong = []
    for file in source_files():
        module = module_name(file)
        own = layer_of(module)
        assert own is not None
        source = file.read_text()
        for line, target in imported(source, module, package_init=file.name == "__init__.py"):
            theirs = layer_of(target)
            if theirs is None or theirs == own:
                continue
            if theirs.rank >= own.rank:
                wrong.append(
                    f"{file.relative_to(ROOT)}:{line}: {own.package} (layer {own.rank}) "
                    f"imports {target} ({theirs.package}, layer {theirs.rank})"
                )
    assert wrong == [], "\n".join(dict.fromkeys(wrong))


@pytest.mark.parametrize(
    ("module", "package"),
    [
        ("revive.core.aterm", "revive.core"),
        ("revive.core.fetch.spec", "revive.core.fetch"),
        ("revive.core.stores.api", "revive.core.stores.api"),
        ("revive.core.stores.guix", "revive.core.stores"),
        ("revive.core.__init__", FACADE),
        ("revive.core", FACADE),
        ("revive.tui.widgets.drv_tree", "revive.tui"),
        ("revive.core.unheard_of.x", None),
    ],
)
def test_modules_fall_in_the_right_row(module: str, package: str | None) -> None:
    """The longest package wins; a subpackage of core is not a primitive."""
    layer = layer_of(module)
    assert (layer.package if layer else None) == package


def test_a_wrong_import_is_found() -> None:
    """The checker sees plain, from- and relative imports (it can fail)."""
    source = (
        "import revive.tui.app\n"
        "from revive.core.stores import embedded\n"
        "from ..demo import generate\n"
        "from revive.core import classify\n"
        "import os\n"
    )
    found = [name for _, name in imported(source, "revive.core.fetch.probe")]
    assert found == [
        "revive.tui.app",
        "revive.core.stores.embedded",
        "revive.core.demo.generate",
        FACADE.removesuffix(".__init__"),
    ]
    fetch = layer_of("revive.core.fetch.x")
    assert fetch is not None
    assert all(layer_of(name).rank > fetch.rank for name in found)  # type: ignore[union-attr]


def test_every_package_says_what_it_holds() -> None:
    """Each package's docstring exists and is not a placeholder."""
    for init in sorted(p for top in SOURCES for p in (ROOT / top).rglob("__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        assert len(doc) > 40 and "placeholder" not in doc.lower(), init.relative_to(ROOT)
