"""``guix-revive verify`` and ``guix-revive why`` against the corpus."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from revive.core.aterm import parse_derivation, serialize_derivation
from revive.core.derivation import Output
from revive.core.derivation_hash import drv_path
from revive.tui.cli import main

HELLO = "/gnu/store/gknm68l0q893bpvyhcd4ccih1bmh0j87-hello-2.10.drv"
TXT2MAN = "/gnu/store/w3gsxzynyrvyxizibcpbi5sxmky9y1av-txt2man-1.6.0.drv"
TARBALL = "/gnu/store/mspyllkw4d2395akavrkjkiw1p448p9a-hello-2.10.tar.gz.drv"


def test_verify_the_whole_corpus(guix2020_store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every path of the 401 real derivations checks out; the summary is the last line."""
    code = main(["verify", "--no-cache", "--store", str(guix2020_store), TXT2MAN, HELLO])
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines() == ["401 derivations, 149 fixed-output, 0 mismatches, 0 missing"]


def test_verify_keeps_its_report_not_the_closure(
    guix2020_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --no-cache the report goes to the (test's private) XDG cache, no closure pack."""
    from revive.core.cache import DerivationCache

    directory = DerivationCache().directory
    for again in (False, True):
        assert main(["verify", "--store", str(guix2020_store), HELLO]) == 0
        captured = capsys.readouterr()
        assert captured.out == "210 derivations, 81 fixed-output, 0 mismatches, 0 missing\n"
        assert ("report reused" in captured.err) is again
    assert not list(directory.glob("closures/*.pack"))
    assert len(list(directory.glob("results/*.verify"))) == 1
    # --no-cache neither reads nor writes it.
    assert main(["verify", "--no-cache", "--store", str(guix2020_store), HELLO]) == 0
    assert "report reused" not in capsys.readouterr().err


def test_verify_reports_every_mismatch(
    guix2020_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A changed FOD hash and an edited env value are caught; missing files counted."""
    # GIVEN the source tarball's expected hash changed in place (its path kept) ...
    tarball = guix2020_copy / Path(TARBALL).name
    drv = parse_derivation(tarball.read_text(), str(tarball))
    out = drv.outputs[0]
    changed = drv.evolve(outputs=(Output(out.name, out.path, out.hash_algo, "00" * 32),))
    tarball.write_text(serialize_derivation(changed))
    # ... a regular derivation whose environment was edited ...
    gzip = guix2020_copy / "9qi6szjpxslm9a0jlbvgprj6gh7nlkhr-gzip-1.10.drv"
    text = gzip.read_text()
    env_start = text.rindex('("out","')
    gzip.write_text(text[:env_start] + '("out","/gnu/store/elsewhere' + text[env_start + 8 :])
    # ... and one input file gone.
    gone = guix2020_copy / "jc1zhd5mysf8cqs66i9mibz79axjld2g-sed-4.7.drv"
    gone.unlink()
    # WHEN verifying
    code = main(["verify", "--no-cache", "--store", str(guix2020_copy), HELLO])
    lines = capsys.readouterr().out.splitlines()
    # THEN each problem is one line, and the summary is last
    assert code == 1
    expected_tarball = drv_path(changed)
    assert f"{TARBALL}: .drv path should be {expected_tarball}" in lines
    assert any(line.startswith(f"{TARBALL}: output out is ") for line in lines)
    gzip_path = f"/gnu/store/{gzip.name}"
    assert any(
        line.startswith(f"{gzip_path}: environment variable out is /gnu/store/elsewhere")
        for line in lines
    )
    assert any(line.startswith(f"{gzip_path}: .drv path should be") for line in lines)
    assert f"/gnu/store/{gone.name}: missing" in lines
    assert lines[-2].endswith("could not have their outputs checked (an input is missing)")
    summary = re.fullmatch(
        r"(\d+) derivations, 80 fixed-output, (\d+) mismatches, 1 missing", lines[-1]
    )
    assert summary is not None
    assert int(summary.group(2)) == len(lines) - 3  # all but missing, note, summary
    assert int(summary.group(1)) < 210  # what only sed needed is not in the closure now


def test_verify_json(guix2020_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--json gives counts, mismatches with kinds, and the missing nodes."""
    bad = guix2020_copy / Path(TARBALL).name
    bad.write_text("Derive(garbage")
    code = main(["verify", "--json", "--no-cache", "--store", str(guix2020_copy), HELLO])
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert code == 1 and report["ok"] is False
    assert report["derivations"] == 210 and report["missing"] == []
    (mismatch,) = report["mismatches"]
    assert mismatch["path"] == TARBALL and mismatch["kind"] == "malformed"
    assert mismatch["found"].startswith(f"{bad}:1:8: ")


def test_verify_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A store that does not exist is one line, exit 2."""
    assert main(["verify", "--store", str(tmp_path / "nope"), HELLO]) == 2
    assert (
        capsys.readouterr().err
        == f"guix-revive: error: {tmp_path / 'nope'}: no such store directory\n"
    )


def test_why_lists_every_shortest_path(
    guix2020_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Plain output: one block per path, each step with the outputs used, then a summary."""
    code = main(["why", "--store", str(guix2020_store), "--no-cache", HELLO, "gmp-6.1.2"])
    out = capsys.readouterr().out
    assert code == 0
    blocks = out.strip().split("\n\n")
    assert blocks[-1] == "4 shortest paths to 2 derivations matching gmp-6.1.2"
    for block in blocks[:-1]:
        lines = block.splitlines()
        assert lines[0] == HELLO
        assert all(line.startswith("  -> /gnu/store/") and line.endswith("]") for line in lines[1:])
        assert "gmp-6.1.2.drv [out]" in lines[-1]
    assert len(blocks) == 5


def test_why_limit_all_and_json(guix2020_store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--limit truncates and says so; --json lists every path with the count."""
    args = ["why", "--store", str(guix2020_store), "--no-cache"]
    assert main([*args, "--limit", "1", HELLO, "gmp"]) == 0
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1].endswith("; 1 shown (--all to list every one)")
    assert main([*args, "--json", "--all", HELLO, "gmp"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["from"] == HELLO and data["count"] == len(data["paths"]) > 1
    assert all(p[0] == HELLO for p in data["paths"])
    assert set(data["matches"]) >= {p[-1] for p in data["paths"]}


def test_why_without_a_match(guix2020_store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No matching node in the closure: a one-line message, exit 1."""
    args = ["why", "--store", str(guix2020_store), "--no-cache", HELLO]
    assert main([*args, "txt2man"]) == 1
    assert capsys.readouterr().err == (
        f"guix-revive: txt2man matches no derivation in the closure of {HELLO}\n"
    )
    assert main([*args, TXT2MAN]) == 1
    assert "matches no derivation" in capsys.readouterr().err


def test_a_verified_closure_keeps_its_report(
    guix2020_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The second verify of the same closure reuses the report kept for its files."""
    import time

    from revive.core.closure import load_closure
    from revive.core.result_cache import ResultCache
    from revive.core.store_dir import StoreDir
    from revive.core.verify import VerifyReport

    args = ["verify", "--store", str(guix2020_store), HELLO]
    assert main(args) == 0
    capsys.readouterr()
    # Plant a different report for these very files: it is what gets printed.
    store, roots = StoreDir.open(guix2020_store), (HELLO,)
    planted = VerifyReport(7, 3, (), (), ())
    paths = list(load_closure(roots, store))
    assert ResultCache().save(store, roots, "verify", planted.to_plain(), paths, time.time_ns())
    assert main(args) == 0
    captured = capsys.readouterr()
    assert captured.out == "7 derivations, 3 fixed-output, 0 mismatches, 0 missing\n"
    assert "report reused" in captured.err
    # --rehash computes it again (and keeps the true one).
    assert main([*args[:1], "--rehash", *args[1:]]) == 0
    assert capsys.readouterr().out.startswith("210 derivations")
    assert main(args) == 0
    assert capsys.readouterr().out.startswith("210 derivations")


def test_a_kept_report_is_dropped_when_any_file_changes(
    guix2020_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """End to end: reused while nothing changed; touched, edited or deleted: hashed again."""
    import os
    import time

    # Files changed within 2 s of a verification leave no report: let the copy settle.
    time.sleep(2.1)
    args = ["verify", "--store", str(guix2020_copy), HELLO]
    json_args = ["verify", "--json", "--store", str(guix2020_copy), HELLO]
    assert main(json_args) == 0
    first = capsys.readouterr()
    assert "report reused" not in first.err
    assert main(json_args) == 0
    again = capsys.readouterr()
    assert "report reused" in again.err and again.out == first.out
    tarball = guix2020_copy / Path(TARBALL).name
    # Touched: the same verdict, but computed again.
    os.utime(tarball)
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "report reused" not in captured.err
    assert captured.out == "210 derivations, 81 fixed-output, 0 mismatches, 0 missing\n"
    # (That run kept nothing: a file had changed just before it.)
    time.sleep(2.1)
    assert main(args) == 0
    assert "report reused" not in capsys.readouterr().err
    assert main(args) == 0
    assert "report reused" in capsys.readouterr().err
    # Edited (its expected hash changed in place): a mismatch now.
    tarball.write_bytes(tarball.read_bytes().replace(b'"sha256","', b'"sha256","0', 1))
    assert main(args) == 1
    captured = capsys.readouterr()
    assert "report reused" not in captured.err
    assert " 0 mismatches" not in captured.out.splitlines()[-1]
    # Deleted: counted as missing.
    tarball.unlink()
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "report reused" not in captured.err
    assert captured.out.splitlines()[-1].endswith("0 mismatches, 1 missing")
