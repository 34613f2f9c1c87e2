"""The README's commands on a fresh clone: set-up lists, tests without the corpus, pip install.

The slow tests work on a ``git clone`` of this repository in a temporary
directory, where no ``../shared`` is beside it. The clone gets the working
tree's uncommitted changes to tracked files too, so that it is what a commit
of the current state would give.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The corpus-dependent subset run in the clone: skips from fixtures (show),
# from the ``corpus`` marker (parametrized by corpus files), and plain tests.
SUBSET = ("tests/cli/test_show_cli.py", "tests/core/test_aterm.py", "tests/core/test_base32.py")
SUMMARY = re.compile(
    r"^the real-Guix corpus is not next to this checkout: (\d+) tests skipped", re.M
)
CORPUS_VARIABLES = ("GUIX_REVIVE_SHARED", "GUIX_REVIVE_REQUIRE_CORPUS")


def debian_packages_in_setup() -> set[str]:
    """Every Debian package ``scripts/setup.sh`` may install (the fixed list and the extras)."""
    text = (ROOT / "scripts" / "setup.sh").read_text()
    (fixed,) = re.findall(r"^DEBIAN_PACKAGES=\(([^)]*)\)", text, re.M)
    extras = re.findall(r"DEBIAN_PACKAGES\+=\(([^)]*)\)", text)
    return {name for group in (fixed, *extras) for name in group.split()}


def debian_packages_in_readme() -> set[str]:
    """The packages the README's set-up section names (the ``apt-get install`` line)."""
    text = (ROOT / "README.md").read_text()
    (line,) = re.findall(r"^apt-get install (.+)$", text, re.M)
    return set(line.split())


def test_readme_lists_what_setup_installs() -> None:
    assert debian_packages_in_readme() == debian_packages_in_setup()


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone of this checkout (with its uncommitted changes), nothing beside it."""
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not a git checkout")
    base = tmp_path_factory.mktemp("fresh")
    target = base / "guix-revive"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(target)], check=True)
    changes = subprocess.run(
        ["git", "-C", str(ROOT), "diff", "HEAD", "--binary"],
        check=True,
        capture_output=True,
    ).stdout
    if changes:
        subprocess.run(["git", "-C", str(target), "apply", "-"], input=changes, check=True)
    assert not (base / "shared").exists()
    return target


def pytest_in(clone: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The README test command's pytest step, on SUBSET, in ``clone``."""
    environment = {k: v for k, v in os.environ.items() if k not in CORPUS_VARIABLES}
    environment.update(env)
    pytest_program = Path(sys.executable).with_name("pytest")
    return subprocess.run(
        [str(pytest_program), "-p", "no:cacheprovider", "--color=no", *SUBSET],
        cwd=clone,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
def test_a_fresh_clone_skips_the_corpus_tests_with_one_line(clone: Path) -> None:
    done = pytest_in(clone)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    (count,) = SUMMARY.findall(out)
    final = out.strip().splitlines()[-1]
    assert re.search(rf"\b{count} skipped\b", final), final
    assert int(count) > 10 and re.search(r"\b\d+ passed\b", final)
    # The one line replaces -ra's per-file lines for these skips.
    assert "SKIPPED" not in out
    assert "got empty parameter set" not in out
    assert str(clone.parent / "shared" / "corpus") in out


@pytest.mark.slow
def test_ci_requires_the_corpus(clone: Path) -> None:
    """``.ci/run``'s variable turns the missing corpus into a failure before any test runs."""
    ci = (clone / ".ci" / "run").read_text()
    assert "export GUIX_REVIVE_REQUIRE_CORPUS=1" in ci
    assert ci.rstrip().endswith("exec bash scripts/test.sh")
    done = pytest_in(clone, GUIX_REVIVE_REQUIRE_CORPUS="1")
    assert done.returncode != 0
    assert "GUIX_REVIVE_REQUIRE_CORPUS is set but the real-Guix corpus is missing" in (
        done.stdout + done.stderr
    )
    assert " passed" not in done.stdout


# --- pip install . with no compiler -------------------------------------------------------

OPEN_THE_DEMO = textwrap.dedent(
    """\
    import asyncio, sys
    from pathlib import Path
    from revive.core import compiled
    from revive.tui.app import ReviveApp
    from revive.tui.session import LoadPlan

    async def main() -> None:
        base = Path(sys.argv[1])
        plan = LoadPlan(
            demo=True, demo_dir=base / "demo", store_root=base / "fetched", backend="embedded"
        )
        app = ReviveApp(plan)
        async with app.run_test(size=(120, 36)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            session = getattr(app.screen, "session", None)
            print("compiled:", compiled.COMPILED)
            print("title:", app.screen.sub_title)
            print("fods:", len(session.fods) if session is not None else None)

    asyncio.run(main())
    """
)


@pytest.fixture(scope="module")
def plain_venv(clone: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """``python -m venv`` + ``pip install -v .`` of the clone with a failing C compiler.

    Returns the virtual environment and pip's output.
    """
    venv = tmp_path_factory.mktemp("plain") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    environment = dict(os.environ, CC="/bin/false", PIP_DISABLE_PIP_VERSION_CHECK="1")
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-v", "."],
        cwd=clone,
        env=environment,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return venv, done.stdout + done.stderr


@pytest.mark.slow
def test_pip_install_without_a_compiler_gives_a_working_command(
    plain_venv: tuple[Path, str], tmp_path: Path
) -> None:
    venv, log = plain_venv
    # The compiler was tried and failed; every data folder was declared.
    assert "_drv_scan" in log
    assert "would be ignored" not in log and "absent from the `packages`" not in log
    program = venv / "bin" / "guix-revive"
    done = subprocess.run(
        [str(program), "--help"], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0 and "--demo-serve" in done.stdout
    opened = subprocess.run(
        [str(venv / "bin" / "python"), "-c", OPEN_THE_DEMO, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
        env={k: v for k, v in os.environ.items() if k != "GUIX_REVIVE_PURE_PYTHON"},
    )
    assert opened.returncode == 0, opened.stderr[-3000:]
    lines = dict(line.split(": ", 1) for line in opened.stdout.splitlines())
    # Without a compiler the .drv reader is the pure-Python one, and the demo opens.
    assert lines["compiled"] == "False"
    assert lines["title"].startswith("demo: ")
    assert int(lines["fods"]) > 10
