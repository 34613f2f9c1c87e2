"""The hand-written package list and package-data globs in pyproject.toml match the folders.

Auto-discovery cannot add the ``revive.`` prefix, so every package is listed
by hand: a new folder with an ``__init__.py`` that is not listed, or a
``.tcss``/``.lark``/data file no glob covers, would be missing from a wheel
(and from a strict editable install) while the tests still pass from source.
A folder holding only data files (``core/fetch/grammars``) is listed as a
package of its own too: setuptools warns ("Package would be ignored") about
every such folder it is left to find through a parent's glob.
"""

from __future__ import annotations

import tomllib
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]
SOURCE_DIRS = {"revive.core": "core", "revive.tui": "tui"}
SKIPPED_DIRS = {"__pycache__"}
# C sources are compiled by setup.py (checked below), .so files are what it builds.
CODE_SUFFIXES = {".py", ".pyc", ".c", ".h", ".so"}


def walk(folder: Path) -> list[Path]:
    """Every file below ``folder``, skipping caches and hidden folders."""
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file()
        and not any(
            part in SKIPPED_DIRS or part.startswith(".") for part in path.relative_to(ROOT).parts
        )
    )


def package_of(directory: Path) -> str:
    relative = directory.relative_to(ROOT)
    top, *rest = relative.parts
    return ".".join([*{v: k for k, v in SOURCE_DIRS.items()}[top].split("."), *rest])


def folder_of(package: str) -> Path:
    for prefix, folder in SOURCE_DIRS.items():
        if package == prefix or package.startswith(prefix + "."):
            return ROOT / folder / Path(*package[len(prefix) :].split(".")[1:])
    raise AssertionError(f"{package} is not under revive.core or revive.tui")


def glob_matches(relative: PurePosixPath, pattern: str) -> bool:
    """setuptools package-data semantics: ``*`` never crosses a ``/``."""
    parts = PurePosixPath(pattern).parts
    return len(parts) == len(relative.parts) and all(
        fnmatchcase(name, glob) for name, glob in zip(relative.parts, parts, strict=True)
    )


def test_package_dir_maps_the_two_source_folders() -> None:
    assert SETUPTOOLS["package-dir"] == SOURCE_DIRS


def test_every_folder_with_files_is_listed_and_vice_versa() -> None:
    """Python packages (with ``__init__.py``) and data folders (without) alike."""
    on_disk = {
        package_of(path.parent) for folder in SOURCE_DIRS.values() for path in walk(ROOT / folder)
    }
    listed = set(SETUPTOOLS["packages"])
    assert sorted(on_disk - listed) == [], "add these to [tool.setuptools] packages"
    assert sorted(listed - on_disk) == [], "these listed packages have no files"
    assert len(listed) == len(SETUPTOOLS["packages"]), "a package is listed twice"


def test_data_folders_hold_no_python() -> None:
    """A listed folder without ``__init__.py`` is data only: a module there would be lost."""
    for package in SETUPTOOLS["packages"]:
        folder = folder_of(package)
        if not (folder / "__init__.py").is_file():
            assert not list(folder.glob("*.py")), f"{package} has modules but no __init__.py"
            assert SETUPTOOLS.get("package-data", {}).get(package), f"{package}: no data glob"


def test_no_python_module_sits_outside_a_package() -> None:
    orphans = [
        str(path.relative_to(ROOT))
        for folder in SOURCE_DIRS.values()
        for path in walk(ROOT / folder)
        if path.suffix == ".py" and not (path.parent / "__init__.py").is_file()
    ]
    assert orphans == [], "these modules would not be installed"


def test_every_data_file_matches_a_package_data_glob() -> None:
    globs: dict[str, list[str]] = SETUPTOOLS.get("package-data", {})
    assert set(globs) <= set(SETUPTOOLS["packages"])
    uncovered = []
    for folder in SOURCE_DIRS.values():
        for path in walk(ROOT / folder):
            if path.suffix in CODE_SUFFIXES:
                continue
            # Every folder with files is a package (see above): the data
            # belongs to its own folder's package.
            package = package_of(path.parent)
            relative = PurePosixPath(path.name)
            if not any(glob_matches(relative, g) for g in globs.get(package, [])):
                uncovered.append(f"{package}: {relative}")
    assert uncovered == [], "add a [tool.setuptools.package-data] glob for these"


def test_every_package_data_glob_points_inside_its_package() -> None:
    for package, patterns in SETUPTOOLS.get("package-data", {}).items():
        folder = folder_of(package)
        assert folder.is_dir(), package
        for pattern in patterns:
            assert not pattern.startswith(("/", "..")), (package, pattern)


def test_glob_semantics() -> None:
    assert glob_matches(PurePosixPath("grammars/scheme.lark"), "grammars/*.lark")
    assert not glob_matches(PurePosixPath("grammars/sub/scheme.lark"), "grammars/*.lark")
    assert not glob_matches(PurePosixPath("app.tcss"), "grammars/*.lark")
    assert glob_matches(PurePosixPath("app.tcss"), "*.tcss")


def test_every_c_source_is_built_by_setup_py() -> None:
    """A C file in a source folder is an extension module listed in setup.py."""
    setup_text = (ROOT / "setup.py").read_text()
    sources = [
        str(path.relative_to(ROOT))
        for folder in SOURCE_DIRS.values()
        for path in walk(ROOT / folder)
        if path.suffix == ".c"
    ]
    assert sources, "the compiled .drv reader is missing"
    for source in sources:
        assert f'"{source}"' in setup_text, f"{source} is not built by setup.py"
    for header in (path for folder in SOURCE_DIRS.values() for path in walk(ROOT / folder)):
        if header.suffix == ".h":
            name = str(header.relative_to(ROOT))
            assert f'"{name}"' in setup_text, f"{name} is not a dependency in setup.py"
