"""``guix-revive diff``: unified, side-by-side and JSON output, lookups, exit status."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from revive.core.aterm import read_derivation, serialize_derivation
from revive.core.derivation import Derivation
from revive.core.derivation_hash import drv_path
from revive.tui.cli import main

HELLO = "mspyllkw4d2395akavrkjkiw1p448p9a-hello-2.10.tar.gz.drv"
HELLO_PKG = "gknm68l0q893bpvyhcd4ccih1bmh0j87-hello-2.10.drv"
GMP_SRC_A = "03lvdchx2vk44szvbx97sv724whzh3a4-gmp-6.1.2.tar.xz.drv"
GMP_SRC_B = "ci79rxymqyvxfxf2lm097fafkxpwlvn3-gmp-6.1.2.tar.xz.drv"
HELLO_URL = (
    '("https://ftp.gnu.org/gnu/hello/hello-2.10.tar.gz" "mirror://gnu/hello/hello-2.10.tar.gz")'
)


def write(directory: Path, drv: Derivation, name: str | None = None) -> Path:
    """Write ``drv`` into ``directory`` under its store base name (or ``name``)."""
    path = directory / (name or Path(drv_path(drv)).name)
    path.write_text(serialize_derivation(drv))
    return path


def rewrite_hello(store: Path) -> Derivation:
    """The corpus hello FOD with another URL list (same output)."""
    hello = read_derivation(str(store / HELLO), f"/gnu/store/{HELLO}")
    return hello.evolve(env=tuple((k, HELLO_URL if k == "url" else v) for k, v in hello.env))


def test_unified_plain_when_piped(
    guix2020_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the corpus FOD and a rewrite written to another directory
    new = write(tmp_path, rewrite_hello(guix2020_store))
    # WHEN diffed with output to a pipe
    status = main(["diff", str(guix2020_store / HELLO), str(new)])
    # THEN plain unified text with markers, and status 0
    out = capsys.readouterr().out
    assert status == 0
    assert out.splitlines() == [
        f"--- /gnu/store/{HELLO}",
        f"+++ /gnu/store/{new.name}",
        "  equivalent: 1 variable changed",
        "  same output /gnu/store/hbdalsf5lpf01x4dcknwx6xbn6n5km6k-hello-2.10.tar.gz"
        " (sha256:31e066137a962676e89f69d1b65382de95a7ef7d914b8cb956f41ea72e0f516b):"
        " fetched differently",
        "  environment:",
        '-   url = "mirror://gnu/hello/hello-2.10.tar.gz"',
        '+   url = ("https://ftp.gnu.org/gnu/hello/hello-2.10.tar.gz"'
        ' "mirror://gnu/hello/hello-2.10.tar.gz")',
        "    5 unchanged variables",
    ]
    assert "\x1b[" not in out


def test_inputs_looked_up_next_to_each_file_and_in_the_store(
    guix2020_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN hello re-pointed at a rewritten source, both written to a
    # separate directory; the rest of its inputs are only in --store
    fod = rewrite_hello(guix2020_store)
    write(tmp_path, fod)
    pkg = read_derivation(str(guix2020_store / HELLO_PKG), f"/gnu/store/{HELLO_PKG}")
    inputs = tuple(
        (drv_path(fod) if path.endswith(HELLO) else path, outs) for path, outs in pkg.input_drvs
    )
    new = write(tmp_path, pkg.evolve(input_drvs=tuple(sorted(inputs))))
    # WHEN the original (in the corpus) is diffed against the new file
    status = main(
        [
            "diff",
            "--json",
            "--store",
            str(guix2020_store),
            str(guix2020_store / HELLO_PKG),
            str(new),
        ]
    )
    # THEN the changed input is found in the new file's directory and explained
    data = json.loads(capsys.readouterr().out)
    assert status == 0
    assert data["verdict"] == "equivalent"
    [change] = data["pairs"][0]["inputs"]
    assert change["name"] == "hello-2.10.tar.gz"
    assert change["equivalent"] and change["fixed_output"]
    assert change["folded"] is None
    assert [e["name"] for e in data["pairs"][change["diff"]]["env"]] == ["url"]


def test_side_by_side_plain_columns(
    guix2020_store: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "140")
    status = main(["diff", "-s", str(guix2020_store / GMP_SRC_A), str(guix2020_store / GMP_SRC_B)])
    lines = capsys.readouterr().out.splitlines()
    assert status == 0
    assert max(len(line) for line in lines) <= 140
    assert all(line == line.rstrip() for line in lines)
    # Hash parts are cut so that paths fit; markers on both sides.
    builder = next(line for line in lines if "builder =" in line and line.startswith("-"))
    assert "/gnu/store/sc7z07gi…-guile-2.2.6/bin/guile" in builder
    assert "+" in builder and "guile-bootstrap-2.0" in builder
    assert any(line.startswith("~") for line in lines)


def test_side_by_side_full_paths(
    guix2020_store: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    main(
        [
            "diff",
            "--side-by-side",
            "--full-paths",
            str(guix2020_store / GMP_SRC_A),
            str(guix2020_store / GMP_SRC_B),
        ]
    )
    out = capsys.readouterr().out
    assert "/gnu/store/sc7z07gim1iq5zvfz1amdwf2irxrzifg-guile-2.2.6/bin/guile" in out
    assert "…-guile" not in out


def test_rich_rendering_on_a_terminal(
    guix2020_store: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The styled paths (Rich) run when standard output is a terminal.
    import revive.tui.cli.common as common
    import revive.tui.cli.diff as diff_command

    monkeypatch.setattr(common, "is_terminal", lambda: True)
    monkeypatch.setattr(diff_command, "is_terminal", lambda: True)
    files = [str(guix2020_store / GMP_SRC_A), str(guix2020_store / GMP_SRC_B)]
    assert main(["diff", *files]) == 0
    unified = capsys.readouterr().out
    assert "~   module-import-compiled" in unified
    assert main(["diff", "--side-by-side", *files]) == 0
    assert "module-import-compiled" in capsys.readouterr().out


def test_store_paths_resolved_in_the_store(
    guix2020_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(
        [
            "diff",
            "--store",
            str(guix2020_store),
            "--depth",
            "0",
            f"/gnu/store/{GMP_SRC_A}",
            f"/gnu/store/{GMP_SRC_B}",
        ]
    )
    out = capsys.readouterr().out
    assert status == 0
    assert out.startswith(f"--- /gnu/store/{GMP_SRC_A}\n+++ /gnu/store/{GMP_SRC_B}\n")
    assert "… not explained: depth limit reached" in out


def test_file_not_named_like_a_store_item(
    guix2020_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A copy called new.drv: its name comes from its output, its path is computed.
    fod = rewrite_hello(guix2020_store)
    write(tmp_path, fod, "new.drv")
    main(["diff", "--json", str(guix2020_store / HELLO), str(tmp_path / "new.drv")])
    data = json.loads(capsys.readouterr().out)
    assert data["new"] == drv_path(fod)
    assert data["pairs"][0]["name"] is None


@pytest.mark.parametrize(
    ("pair", "status"),
    [((HELLO, HELLO), 0), ((GMP_SRC_A, GMP_SRC_B), 1)],
    ids=["identical", "different"],
)
def test_exit_code_option(
    guix2020_store: Path,
    capsys: pytest.CaptureFixture[str],
    pair: tuple[str, str],
    status: int,
) -> None:
    files = [str(guix2020_store / name) for name in pair]
    assert main(["diff", "--exit-code", "--depth", "0", *files]) == status
    assert main(["diff", "--depth", "0", *files]) == 0
    capsys.readouterr()


def test_unreadable_file_is_a_one_line_error(
    guix2020_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.drv"
    assert main(["diff", str(guix2020_store / HELLO), str(missing)]) == 2
    err = capsys.readouterr().err
    # Said like every other command, not as a parse error at 1:1.
    assert err == f"guix-revive: error: {missing}: no such file\n"
    gone = "/gnu/store/" + "a" * 32 + "-gone.drv"
    assert main(["diff", "--store", str(tmp_path), gone, str(guix2020_store / HELLO)]) == 2
    err = capsys.readouterr().err
    assert err == f"guix-revive: error: {gone}: no such file, and not in the store {tmp_path}\n"


def test_malformed_file_is_a_one_line_error(
    guix2020_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.drv"
    bad.write_text("Derive([")
    assert main(["diff", str(bad), str(guix2020_store / HELLO)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"guix-revive: error: {bad}:1:")
    assert err.count("\n") == 1


def test_negative_depth_is_a_usage_error(
    guix2020_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["diff", "--depth", "-1", str(guix2020_store / HELLO), str(guix2020_store / HELLO)])
    assert exc.value.code == 2
    assert "--depth: must be 0 or more: -1" in capsys.readouterr().err


def test_help_documents_the_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["diff", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "exit status:" in out and "--exit-code" in out and "--side-by-side" in out
