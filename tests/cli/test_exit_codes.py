"""Exit codes and store inference, the same for every command (README, "Command line").

0: the answer was given; 1: a negative answer (a mismatch, a failed fetch,
nothing matching); 2: input that cannot be read, with one line naming the
argument as the user typed it. The ``.drv`` files live in a small store the
tests write with :class:`~revive.core.demo.store_builder.StoreBuilder` (no
corpus needed), so that none of this is skipped on a fresh clone.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

from revive.core.demo.store_builder import Fixed, StoreBuilder
from revive.core.stores.embedded import EmbeddedStore, default_store_root
from revive.tui.cli import COMMANDS, common, main

TARBALL = b"hello tarball\n"
HASH_PART = "0123456789abcdfghijklmnpqrsvwxyz"
# Fetching tries the derivation's own URL only: nothing leaves loopback.
FETCH_OPTIONS = ["--backend", "embedded", "--methods", "upstream", "--retries", "0"]


@dataclass(frozen=True)
class Tiny:
    """A two-derivation store: a package and the source download it uses."""

    store: Path
    """The directory holding the ``.drv`` files (not ``/gnu/store``)."""
    package: Path
    """``hello-1.0.drv``."""
    source: Path
    """``hello-1.0.tar.gz.drv``, a ``builtin:download`` FOD from a closed loopback port."""
    bad: Path
    """A malformed ``.drv`` named like a store item, in its own directory."""
    gone: Path
    """A ``.drv`` path in the store directory that does not exist."""


@pytest.fixture
def tiny(tmp_path: Path) -> Tiny:
    """Write the store; the tests run from ``tmp_path`` (relative paths are short)."""
    builder = StoreBuilder(tmp_path / "store", tmp_path / "scratch")
    source = builder.derivation(
        "hello-1.0.tar.gz",
        builder="builtin:download",
        env={"url": '"http://127.0.0.1:1/hello-1.0.tar.gz"', "preferLocalBuild": "1"},
        fixed=Fixed("sha256", hashlib.sha256(TARBALL).digest(), False),
    )
    package = builder.derivation(
        "hello-1.0",
        builder="/bin/sh",
        args=("-c", "true"),
        inputs=[(source, ["out"])],
        env={"src": builder.output(source)},
    )
    bad = tmp_path / "elsewhere" / f"{HASH_PART}-bad.drv"
    bad.parent.mkdir()
    bad.write_text('Derive([("out","/gnu/store/oops')
    store = tmp_path / "store"
    return Tiny(
        store=store,
        package=store / os.path.basename(package),
        source=store / os.path.basename(source),
        bad=bad,
        gone=store / f"{HASH_PART}-gone.drv",
    )


def run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    """``guix-revive ARGV…`` in this process: (status, stdout, stderr)."""
    status = main([str(arg) for arg in argv])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def command_line(command: str, root: Path | str, tiny: Tiny, tmp_path: Path) -> list[object]:
    """Arguments that make ``command`` read ``root`` as its (first) input."""
    if command == "why":
        return ["why", root, "hello-1.0.tar.gz"]
    if command == "diff":
        return ["diff", root, tiny.source]
    if command == "fetch":
        return ["fetch", *FETCH_OPTIONS, "--target-store", tmp_path / "fetched", root]
    if command == "audit":
        return ["audit", "--offline", root]
    return [command, root]


READERS = ("show", "verify", "why", "fods", "rewrite", "diff", "fetch", "audit")


def test_every_command_is_covered() -> None:
    """A command added to COMMANDS must get its exit codes tested here too."""
    assert set(READERS) >= {"show", "verify", "why", "fods", "rewrite", "diff", "fetch"}
    untested = set(COMMANDS) - set(READERS)
    # env and export have their own exit-code tests (test_env_cli, test_export_cli).
    assert untested <= {"env", "export"}, f"test the exit codes of {sorted(untested)}"


@pytest.mark.parametrize("command", READERS)
@pytest.mark.parametrize("which", ["bad", "gone"])
def test_unreadable_input_is_2_naming_the_argument(
    command: str,
    which: str,
    tiny: Tiny,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A malformed or missing root: one line that starts with what the user typed."""
    monkeypatch.chdir(tmp_path)
    typed = os.path.relpath(getattr(tiny, which), tmp_path)
    status, out, err = run(capsys, *command_line(command, typed, tiny, tmp_path))
    assert status == 2, err
    assert out == ""
    assert err.count("\n") == 1 and err.startswith(f"guix-revive: error: {typed}"), err
    assert "Traceback" not in err


@pytest.mark.parametrize("command", READERS)
def test_the_store_is_where_the_file_is(
    command: str,
    tiny: Tiny,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """No --store: a .drv given by its path (absolute or relative) is read with its closure."""
    for root in (tiny.package, os.path.relpath(tiny.package, tmp_path)):
        monkeypatch.chdir(tmp_path)
        argv = command_line(command, root, tiny, tmp_path)
        if command == "rewrite":
            argv = ["rewrite", "--closure", root]
        status, out, err = run(capsys, *argv)
        # fetch cannot reach the closed port: that is its negative answer.
        assert status == (1 if command == "fetch" else 0), err
        assert "error" not in err


def test_store_inferred_from_a_bare_relative_name(
    tiny: Tiny, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``cd store && guix-revive verify <hash>-hello-1.0.drv`` needs no --store either."""
    monkeypatch.chdir(tiny.store)
    status, out, _ = run(capsys, "verify", tiny.package.name)
    assert status == 0
    assert out == "2 derivations, 1 fixed-output, 0 mismatches, 0 missing\n"


def test_files_in_two_directories_need_store(
    tiny: Tiny, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "copy" / tiny.source.name
    other.parent.mkdir()
    other.write_bytes(tiny.source.read_bytes())
    status, _, err = run(capsys, "verify", tiny.package, other)
    assert status == 2
    assert err == (
        f"guix-revive: error: {tiny.package}, {other}: .drv files in different directories; "
        "say which one holds the store items with --store DIR\n"
    )
    assert run(capsys, "verify", "--store", tiny.store, tiny.package, other)[0] == 0


def test_no_file_and_no_default_store_names_the_argument(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A store name that is not a file here, and no default store: the name is in the error."""
    monkeypatch.setattr(common, "DEFAULT_STORE_DIR", str(tmp_path / "no-store"))
    monkeypatch.chdir(tmp_path)
    name = f"{HASH_PART}-hello-1.0.drv"
    for command in ("show", "verify", "fods", "fetch"):
        status, _, err = run(capsys, command, name)
        assert status == 2
        assert err == (
            f"guix-revive: error: {name}: no such file, and no store at {tmp_path / 'no-store'} "
            "(give the file's path, or --store DIR)\n"
        )


def test_explicit_store_wins(
    tiny: Tiny, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--store DIR is used as given; a missing root is named with where it was looked for."""
    empty = tmp_path / "empty"
    empty.mkdir()
    status, _, err = run(capsys, "verify", "--store", empty, tiny.package.name)
    assert status == 2
    assert err == (
        f"guix-revive: error: {tiny.package.name}: not in the store "
        f"(looked for {empty / tiny.package.name})\n"
    )


# --- negative answers: 1 ---------------------------------------------------------------


def test_verify_mismatch_is_1(tiny: Tiny, capsys: pytest.CaptureFixture[str]) -> None:
    text = tiny.source.read_text()
    digest = hashlib.sha256(TARBALL).hexdigest()
    tiny.source.chmod(0o644)
    tiny.source.write_text(text.replace(digest, "00" * 32))
    status, out, _ = run(capsys, "verify", "--no-cache", tiny.package)
    assert status == 1
    assert out.splitlines()[-1].endswith("mismatches, 0 missing")
    assert " 0 mismatches" not in out


def test_verify_missing_input_is_not_a_mismatch(
    tiny: Tiny, capsys: pytest.CaptureFixture[str]
) -> None:
    """The root is read, one of its inputs is not (a partial copy of a store): counted, 0."""
    tiny.source.unlink()
    status, out, _ = run(capsys, "verify", "--no-cache", tiny.package)
    assert status == 0
    assert out.splitlines()[-1] == "2 derivations, 0 fixed-output, 0 mismatches, 1 missing"
    assert "could not have their outputs checked" in out


def test_why_without_a_match_is_1(tiny: Tiny, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "why", tiny.package, "gmp")
    assert (status, out) == (1, "")
    assert "gmp matches no derivation" in err


def test_failed_fetch_is_1(tiny: Tiny, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(
        capsys, "fetch", *FETCH_OPTIONS, "--target-store", tmp_path / "t", tiny.package
    )
    assert status == 1
    assert "1 failed" in out.splitlines()[-1]


def test_diff_exit_code_is_1_when_outputs_differ(
    tiny: Tiny, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "diff", "--exit-code", tiny.source, tiny.source)[0] == 0
    assert run(capsys, "diff", "--exit-code", tiny.source, tiny.package)[0] == 1
    # Without --exit-code the comparison itself is the answer.
    assert run(capsys, "diff", tiny.source, tiny.package)[0] == 0


def test_rewrite_closure_with_an_unknown_fod_is_1(
    tiny: Tiny, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    builder = StoreBuilder(tiny.store, tmp_path / "scratch2")
    odd = builder.derivation(
        "odd-1.0.tar.gz",
        builder="/bin/odd-fetcher",
        fixed=Fixed("sha256", hashlib.sha256(b"odd").digest(), False),
    )
    status, _, err = run(capsys, "rewrite", "--closure", tiny.store / os.path.basename(odd))
    assert status == 1
    assert "not rewritten" in err


def test_rewrite_of_a_package_alone_is_2(tiny: Tiny, capsys: pytest.CaptureFixture[str]) -> None:
    """Not a FOD (without --closure): the input is not what the command reads."""
    status, _, err = run(capsys, "rewrite", tiny.package)
    assert status == 2
    assert "not a fixed-output derivation" in err


# --- --write DIR -------------------------------------------------------------------------


def test_write_creates_the_directory(
    tiny: Tiny, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "new" / "deeper"
    status, out, _ = run(capsys, "rewrite", "--write", target, tiny.source)
    assert status == 0
    (new,) = [p for p in target.iterdir() if p.name.endswith("hello-1.0.tar.gz.drv")]
    assert out.startswith(f"/gnu/store/{tiny.source.name} -> /gnu/store/{new.name}")
    status, _, _ = run(capsys, "rewrite", "--closure", "--write", tmp_path / "c", tiny.package)
    assert status == 0 and any((tmp_path / "c").iterdir())


def test_write_into_a_file_is_2(
    tiny: Tiny, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "a-file"
    file.write_text("")
    status, _, err = run(capsys, "rewrite", "--write", file, tiny.source)
    assert status == 2
    assert err == f"guix-revive: error: {file}: not a directory (--write needs one)\n"


def test_fods_sees_what_guix_revive_fetched(
    tiny: Tiny, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """present: yes for an output in guix-revive's own store, not only in the .drv directory."""
    status, before, _ = run(capsys, "fods", "--json", tiny.package)
    assert status == 0 and [row["present"] for row in json.loads(before)] == [False]
    tarball = tmp_path / "hello-1.0.tar.gz"
    tarball.write_bytes(TARBALL)
    fetched = EmbeddedStore(default_store_root()).add_fixed(
        "hello-1.0.tar.gz", tarball, recursive=False
    )
    status, after, _ = run(capsys, "fods", "--json", tiny.package)
    rows = json.loads(after)
    assert status == 0 and rows[0]["output"] == fetched and rows[0]["present"] is True
