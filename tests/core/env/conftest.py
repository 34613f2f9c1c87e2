"""Fixtures for ``guix-revive env``: a stand-in ``guix`` on PATH, and an environment
whose sources cover every plan state (a store copy, a loopback server, a git repo)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fixture_modules import conftest_of
from programs import write_program
from repos import git_repo, write_tree

from revive.core.derivation import Derivation, Output
from revive.core.derivation_hash import drv_path
from revive.core.fetch.spec import GitFetch, UrlFetch
from revive.core.store_path import hash_part

store_fixtures = conftest_of("core/stores")
builders = store_fixtures.builder_fixtures

FILES = {"README": b"project\n", "configure*": b"#!/bin/sh\n", "src/a.c": b"int a;\n"}

# The stand-in: replays a scenario (JSON) step by step, and logs its argv.
STANDIN = r"""#!PYTHON
import json, os, sys, time
scenario = json.load(open(os.environ["STANDIN_GUIX_SCENARIO"]))
with open(scenario["log"], "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\n")
expected = scenario.get("argv")
if expected is not None and sys.argv[1:] != expected:
    sys.stderr.write("guix: error: stand-in called with unexpected arguments %r\n" % sys.argv[1:])
    sys.exit(64)
for kind, value in scenario["steps"]:
    if kind == "err":
        sys.stderr.write(value)
        sys.stderr.flush()
    elif kind == "out":
        sys.stdout.write(value)
        sys.stdout.flush()
    elif kind == "wait":
        # Block until the reader has seen what was written so far.
        for _ in range(1500):
            if os.path.exists(value):
                break
            time.sleep(0.02)
        else:
            sys.stderr.write("stand-in: nobody read the first lines\n")
            sys.exit(99)
    elif kind == "sleep":
        time.sleep(value)
sys.exit(scenario.get("exit", 0))
"""

UPDATING = "Updating channel 'guix' from Git repository at 'https://git.savannah.gnu.org/git/guix.git'...\n"
AUTHENTICATING = "Authenticating channel 'guix', commits 9edb3f6 to 3d2b9f6 (12 new commits)...\n"
SUBSTITUTES = "substitute: updating substitutes from 'https://ci.guix.gnu.org'... 100.0%\n"
COMPUTING = "Computing Guix derivation for 'x86_64-linux'... "


@dataclass
class StandinGuix:
    """A ``guix`` program on PATH that replays :attr:`steps` and logs its calls."""

    bin_dir: Path
    scenario: Path
    log: Path
    warnings: str = ""
    """Setup warnings a real (uninstalled) Guix prints first (from the corpus)."""
    calls: list[list[str]] = field(default_factory=list)

    def play(self, steps: list[tuple[str, object]], exit: int = 0, argv: list[str] | None = None):
        """Set the next runs' scenario."""
        data = {"log": str(self.log), "steps": steps, "exit": exit, "argv": argv}
        self.scenario.write_text(json.dumps(data))

    def logged(self) -> list[list[str]]:
        """Every argv the stand-in was called with, in order."""
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def time_machine_ok(self, roots: list[str], argv: list[str] | None = None) -> None:
        """A successful ``guix time-machine … -- build -d``, as Guix 1.3 shows it on a pipe."""
        spinner = "".join(f"\r{COMPUTING}{c}" for c in "|/-\\|")
        self.play(
            [
                ("err", self.warnings),
                ("err", UPDATING),
                ("err", AUTHENTICATING),
                ("err", spinner.lstrip("\r")),
                (
                    "err",
                    "\rsubstitute: updating substitutes from 'https://ci.guix.gnu.org'... 100.0%\n",
                ),
                ("err", "The following derivation will be built:\n"),
                ("err", "   /gnu/store/9a8fkrl2wiyqvsqqg0glbm0khqhqmfa3-profile.drv\n"),
                ("out", "".join(r + "\n" for r in roots)),
            ],
            argv=argv,
        )


@pytest.fixture
def standin_guix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, corpus_dir: Path):
    """A stand-in ``guix`` first on PATH (and the only one: no real Guix is reachable)."""
    bin_dir = tmp_path / "standin-bin"
    write_program(bin_dir, "guix", STANDIN.replace("PYTHON", sys.executable, 1))
    scenario = tmp_path / "standin-scenario.json"
    monkeypatch.setenv("STANDIN_GUIX_SCENARIO", str(scenario))
    monkeypatch.setenv("PATH", f"{bin_dir}:{tool_path()}")
    warnings = (corpus_dir / "guix-cli" / "08a-build-d-hello" / "stderr").read_text()
    guix = StandinGuix(bin_dir, scenario, tmp_path / "standin-calls.jsonl", warnings)
    guix.play([("err", "guix: error: no scenario\n")], exit=1)
    return guix


def tool_path() -> str:
    """PATH without any directory holding a real ``guix`` (the VCS tools stay)."""
    dirs = os.environ.get("PATH", "").split(":")
    return ":".join(d for d in dirs if d and not os.path.exists(os.path.join(d, "guix")))


@pytest.fixture
def no_guix(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ``guix`` on PATH at all."""
    monkeypatch.setenv("PATH", tool_path())


# --- an environment covering every plan state -----------------------------------------


@dataclass
class Environment:
    """A store copy with a root depending on one source per plan state."""

    copy: Path
    root: str
    fods: dict[str, str]
    """Role → ``.drv`` path."""
    outputs: dict[str, str]
    """Role → output path."""
    server: object
    narinfo_base: str

    def roots_text(self) -> str:
        return f"# lowered on another machine\n{self.root}\n"


expected_output = builders.expected_of


def make_environment(base: Path, server) -> Environment:
    """The environment: roles ``url`` (to fetch), ``git-old`` (to fetch rewritten),
    ``subst`` (substitutable: a narinfo and a NAR on loopback, upstream 404),
    ``gone`` (a gitorious.org checkout: not fetchable), ``raw`` (unknown method),
    ``missing`` (404 everywhere: fails when fetched) and ``present`` (fetched first by
    the test that needs it)."""
    copy = store_fixtures.StoreCopy(base / "copy")
    ref = base / "ref"
    write_tree(ref, FILES)
    fods: dict[str, str] = {}
    outputs: dict[str, str] = {}

    expected = expected_output

    def add(role: str, spec) -> None:
        fods[role] = copy.add_spec(spec)
        outputs[role] = spec.expected.output_path

    server.files["/hello-1.0.tar.gz"] = b"hello tarball\n" * 50
    add(
        "url",
        UrlFetch(
            expected("hello-1.0.tar.gz", data=server.files["/hello-1.0.tar.gz"]),
            (server.url("/hello-1.0.tar.gz"),),
        ),
    )
    server.files["/present-1.0.tar.gz"] = b"already here\n"
    add(
        "present",
        UrlFetch(
            expected("present-1.0.tar.gz", data=b"already here\n"),
            (server.url("/present-1.0.tar.gz"),),
        ),
    )
    subst_data = b"only the substitute server has me\n"
    subst = expected("subst-1.0.tar.gz", data=subst_data)
    add("subst", UrlFetch(subst, (server.url("/gone/subst-1.0.tar.gz"),)))
    nar_file = base / "subst-nar-source"
    nar_file.write_bytes(subst_data)
    server.files[f"/nar/{Path(subst.output_path).name}"] = builders.independent_nar(nar_file)
    server.files[f"/{hash_part(subst.output_path)}.narinfo"] = (
        f"StorePath: {subst.output_path}\nURL: nar/{Path(subst.output_path).name}\n"
        "Compression: none\n"
    ).encode()
    add(
        "missing",
        UrlFetch(expected("missing-1.0.tar.gz", data=b"x"), (server.url("/missing-1.0.tar.gz"),)),
    )
    add(
        "gone",
        GitFetch(expected("p-gone-checkout", tree=ref), "https://gitorious.org/p/p.git", "v1"),
    )
    # an original 2017-2024 git FOD (in-band `git-download` form) from a local repository
    git = base / "git"
    git_repo(git, FILES, tag="v1")
    old = expected("p-old-checkout", tree=ref)
    fods["git-old"] = copy.add_drv(store_fixtures.in_band_git_fod(old, git.as_uri(), "v1"))
    outputs["git-old"] = old.output_path
    raw = expected("raw-thing", data=b"?")
    raw_drv = Derivation(
        raw.name,
        (Output("out", raw.output_path, "sha256", raw.digest.hex()),),
        (),
        (),
        "x86_64-linux",
        "/bin/sh",
        ("-c", "exit 1"),
        (("out", raw.output_path),),
    )
    fods["raw"] = copy.add_drv(raw_drv)
    outputs["raw"] = raw.output_path
    root_out = "/gnu/store/" + "r" * 32 + "-environment"
    root = copy.add_drv(
        Derivation(
            "environment",
            (Output("out", root_out),),
            tuple((p, ("out",)) for p in sorted(fods.values())),
            (),
            "x86_64-linux",
            "/bin/sh",
        )
    )
    assert drv_path  # the copy names .drv files by their real store paths
    return Environment(copy.root, root, fods, outputs, server, server.base)


@pytest.fixture
def loopback() -> Iterator[object]:
    """A loopback HTTP server (also the substitute server)."""
    with builders.LoopbackServer() as server:
        yield server


@pytest.fixture
def environment(tmp_path: Path, loopback) -> Environment:
    """A fresh :class:`Environment` (its own store copy and repositories)."""
    return make_environment(tmp_path / "env", loopback)
