"""``guix-revive show``: text, recutils (checked with the real recsel), JSON, drv."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from revive.tui.cli import main

HELLO = "gknm68l0q893bpvyhcd4ccih1bmh0j87-hello-2.10.drv"
TARBALL = "mspyllkw4d2395akavrkjkiw1p448p9a-hello-2.10.tar.gz.drv"


def test_text_record_layout(guix2020_store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Plain text when piped: the drv-show layout with aligned output names."""
    assert main(["show", "--store", str(guix2020_store), HELLO]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == f"name: /gnu/store/{HELLO}"
    assert lines[1:3] == [
        "outputs:",
        "+ /gnu/store/kg9mirg6xbvzcp0a98v7326n1nvvwgsj-hello-2.10   [out]",
    ]
    assert "inputs:" in lines and "system: x86_64-linux" in lines
    glibc = next(line for line in lines if "glibc-2.29.drv" in line)
    tar = next(line for line in lines if "tar-1.32.drv" in line)
    assert glibc.endswith("[out,static]") and tar.endswith("[out]")
    assert glibc.index("[") == tar.index("[")  # the output column is aligned
    builder = lines.index("builder:")
    assert lines[builder + 1 : builder + 3] == [
        "+ /gnu/store/sc7z07gim1iq5zvfz1amdwf2irxrzifg-guile-2.2.6/bin/guile",
        "+ --no-auto-compile",
    ]
    assert lines[-1] == "+ out: /gnu/store/kg9mirg6xbvzcp0a98v7326n1nvvwgsj-hello-2.10"
    assert "\x1b[" not in out


def test_fixed_output_shows_its_hash(
    guix2020_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A FOD record carries its hash in nix-base32 and its algorithm."""
    assert main(["show", str(guix2020_store / TARBALL)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "hash: 0ssi1wpaf7plaswqqjwigppsg5fyh99vdlb9kzl7c9lng89ndq1i" in lines
    assert "hash_algo: sha256" in lines
    assert '+ url: "mirror://gnu/hello/hello-2.10.tar.gz"' in lines


def test_multi_line_values_are_indented(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Text continues a multi-line value under itself; recutils escapes it on one line."""
    name = f"{'a' * 32}-multi.drv"
    (tmp_path / name).write_text(
        'Derive([("out","/gnu/store/' + "b" * 32 + '-multi","","")],[],[],"x86_64-linux",'
        '"/bin/sh",["-c","echo a\\necho b"],[("out","/gnu/store/' + "b" * 32 + '-multi"),'
        '("phases","line one\\n\\tline \\"two\\"\\\\")])'
    )
    assert main(["show", "--store", str(tmp_path), name]) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[text.index("+ phases: line one") + 1] == '          \tline "two"\\'
    assert text[text.index("+ -c") + 1 : text.index("+ -c") + 3] == ["+ echo a", "  echo b"]
    assert main(["show", "--format=recutils", "--store", str(tmp_path), name]) == 0
    rec = capsys.readouterr().out.splitlines()
    assert '+ phases: line one\\n\\tline "two"\\\\' in rec
    assert "+ echo a\\necho b" in rec


@pytest.mark.skipif(shutil.which("recsel") is None, reason="GNU recutils not installed")
def test_recutils_works_with_recsel(
    guix2020_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """recsel -P inputs prints the inputs; records of several derivations are separate."""
    assert main(["show", "--format=recutils", "--store", str(guix2020_store), HELLO, TARBALL]) == 0
    records = tmp_path / "drvs.rec"
    records.write_text(capsys.readouterr().out)
    result = subprocess.run(
        ["recsel", "-P", "inputs", "-e", f"name = '/gnu/store/{HELLO}'", str(records)],
        capture_output=True,
        text=True,
        check=True,
    )
    inputs = [line for line in result.stdout.splitlines() if line]
    assert len(inputs) == 24
    assert inputs[0].startswith("/gnu/store/1gx98xn15h0l4np4iidqg9lb7rjhlhzs-tar-1.32.drv ")
    count = subprocess.run(["recsel", "-c", str(records)], capture_output=True, text=True)
    assert count.stdout.strip() == "2"
    hashes = subprocess.run(
        ["recsel", "-P", "hash", str(records)], capture_output=True, text=True, check=True
    )
    assert hashes.stdout.split() == ["0ssi1wpaf7plaswqqjwigppsg5fyh99vdlb9kzl7c9lng89ndq1i"]


def test_json_is_shaped_like_nix_show_derivation(
    nix_vectors: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """For every Nix 2.8 vector, our JSON equals what nix show-derivation printed."""
    import base64

    for entry in nix_vectors["derivations"]:
        for store_dir in ("/nix/store", "/gnu/store"):
            vector = entry[store_dir]
            path = vector["drv_path"]
            folder = tmp_path / store_dir.strip("/").replace("/", "-")
            folder.mkdir(exist_ok=True)
            (folder / Path(path).name).write_bytes(base64.b64decode(vector["drv_text_b64"]))
            code = main(["show", "--format=json", "--store", str(folder), path])
            assert code == 0
            shown = json.loads(capsys.readouterr().out)
            assert shown == {path: vector["show_derivation"]}, entry["name"]


def test_drv_format_is_byte_identical(
    guix2020_store: Path, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    """--format=drv writes the term again, byte for byte, for every corpus file."""
    files = sorted(guix2020_store.iterdir())
    assert main(["show", "--format=drv", "--store", str(guix2020_store), files[0].name]) == 0
    assert capfdbinary.readouterr().out == files[0].read_bytes()
    assert main(["show", "--format=drv", *map(str, files)]) == 0
    assert capfdbinary.readouterr().out == b"\n".join(f.read_bytes() for f in files)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["hello.txt"],
            "guix-revive: error: hello.txt: not a .drv file (expected <hash>-<name>.drv)",
        ),
        (
            [f"{'z' * 32}-absent.drv"],
            f"guix-revive: error: {'z' * 32}-absent.drv: not in the store "
            f"(looked for STORE/{'z' * 32}-absent.drv)",
        ),
    ],
)
def test_errors_are_one_line(
    guix2020_store: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    """Bad arguments and absent items: one line on stderr naming the argument, exit 2."""
    assert main(["show", "--store", str(guix2020_store), *args]) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [message.replace("STORE", str(guix2020_store))]
    assert captured.out == ""


def test_malformed_file_is_a_located_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A damaged .drv: file:line:col: message, exit 2."""
    bad = tmp_path / f"{'a' * 32}-bad.drv"
    bad.write_text('Derive([("out"')
    assert main(["show", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"guix-revive: error: {bad}:1:") and err.count("\n") == 1


def test_rich_output_on_a_terminal(guix2020_store: Path) -> None:
    """On a real terminal (a pty), the record is styled with ANSI colours."""
    primary, secondary = pty.openpty()
    env = {**os.environ, "COLUMNS": "200", "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "revive.tui", "show", "--store", str(guix2020_store), TARBALL],
        stdout=secondary,
        stderr=secondary,
        env=env,
    )
    os.close(secondary)
    output = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    os.close(primary)
    assert process.wait(timeout=60) == 0
    assert b"\x1b[" in output
    assert b"0ssi1wpaf7plaswqqjwigppsg5fyh99vdlb9kzl7c9lng89ndq1i" in output
