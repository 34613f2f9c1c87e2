"""``guix-revive fods``: the FODs of a closure, as a table, plain lines or JSON."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from revive.core.aterm import serialize_derivation
from revive.core.derivation import Derivation, Output
from revive.core.derivation_hash import drv_path
from revive.core.store_path import fixed_output_path, text_path
from revive.tui.cli import main

HELLO_PKG = "gknm68l0q893bpvyhcd4ccih1bmh0j87-hello-2.10.drv"
HELLO_SRC = "mspyllkw4d2395akavrkjkiw1p448p9a-hello-2.10.tar.gz.drv"
TXT2MAN = "w3gsxzynyrvyxizibcpbi5sxmky9y1av-txt2man-1.6.0.drv"
HELLO_OUT = "/gnu/store/hbdalsf5lpf01x4dcknwx6xbn6n5km6k-hello-2.10.tar.gz"
HEADER = "name\tmethod\tera\tsource\thash\toutput\tpresent"


def test_plain_table_of_a_closure(guix2020_store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fods", "--store", str(guix2020_store), HELLO_PKG]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0] == HEADER
    assert len(lines) == 1 + 81
    hello = next(line for line in lines if line.startswith("hello-2.10.tar.gz\t"))
    assert hello.split("\t") == [
        "hello-2.10.tar.gz",
        "url-fetch",
        "builtin",
        "mirror://gnu/hello/hello-2.10.tar.gz",
        "sha256:0ssi1wpaf7plaswqqjwigppsg5fyh99vdlb9kzl7c9lng89ndq1i",
        HELLO_OUT,
        "no",
    ]
    assert err == (
        "81 fixed-output derivations: 77 url-fetch (builtin), "
        "4 url-fetch/executable (builtin); 0 already in the store\n"
    )


def test_method_filter_and_json(guix2020_store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["fods", "--store", str(guix2020_store), "--method", "git-fetch", "--json", TXT2MAN])
        == 0
    )
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 1
    row = rows[0]
    assert row["drv"] == "/gnu/store/p4wivyw32agxqs6zq37hmhxqw6nav43x-txt2man-1.6.0-checkout.drv"
    assert (row["method"], row["era"], row["url"], row["commit"]) == (
        "git-fetch",
        "in-band",
        "https://github.com/mvertes/txt2man",
        "txt2man-1.6.0",
    )
    assert row["hash"] == "1razjpvlcp85hqli77mwr9nmn5jnv3lm1fxbbqjpx1brv3h1lvm5"
    assert row["hash_algo"] == "r:sha256" and row["recursive"] is True
    assert row["output"] == "/gnu/store/ba80al8r1yn09d0vy29h534igdlszdh7-txt2man-1.6.0-checkout"
    assert row["present"] is False and row["error"] is None


def test_url_fetch_includes_executables(
    guix2020_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["fods", "--store", str(guix2020_store), "--method", "url-fetch", TXT2MAN]) == 0
    lines = capsys.readouterr().out.splitlines()[1:]
    methods = {line.split("\t")[1] for line in lines}
    assert methods == {"url-fetch", "url-fetch/executable"}
    assert (
        main(["fods", "--store", str(guix2020_store), "--method", "url-fetch/executable", TXT2MAN])
        == 0
    )
    assert len(capsys.readouterr().out.splitlines()) == 1 + 4


def test_present_outputs(
    guix2020_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a store holding the hello source derivation and its output
    shutil.copy(guix2020_store / HELLO_SRC, tmp_path / HELLO_SRC)
    (tmp_path / HELLO_OUT.rsplit("/", 1)[1]).write_bytes(b"tarball")
    # THEN the table says so
    assert main(["fods", "--store", str(tmp_path), HELLO_SRC]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[1].endswith("\tyes")
    assert err.endswith("; 1 already in the store\n")


def _script_era_store(store: Path, with_script: bool) -> str:
    """A store with one 2015-style git-fetch FOD (parameters in its script)."""
    script = (
        b"(begin (use-modules (guix build git)) (git-fetch "
        b'(quote "https://example.org/caf\\u00e9.git") '
        b'(quote "v1.0") ((@ (guile) getenv) "out") #:recursive? (quote #f) '
        b'#:git-command "/gnu/store/5555556789abcdfghijklmnpqrsvwxyz-git-2.5/bin/git"))'
    )
    script_path = text_path("foo-1.0-checkout-builder", script)
    if with_script:
        (store / script_path.rsplit("/", 1)[1]).write_bytes(script)
    digest = hashlib.sha256(b"foo").digest()
    out = fixed_output_path("foo-1.0-checkout", "sha256", digest, True)
    drv = Derivation(
        "foo-1.0-checkout",
        (Output("out", out, "r:sha256", digest.hex()),),
        (),
        (script_path,),
        "x86_64-linux",
        "/gnu/store/0123456789abcdfghijklmnpqrsvwxyz-guile-2.0.11/bin/guile",
        ("--no-auto-compile", script_path),
        (("out", out),),
    )
    path = drv_path(drv)
    (store / path.rsplit("/", 1)[1]).write_text(serialize_derivation(drv))
    return path


def test_script_era_fods(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _script_era_store(tmp_path, with_script=True)
    assert main(["fods", "--store", str(tmp_path), root]) == 0
    fields = capsys.readouterr().out.splitlines()[1].split("\t")
    assert fields[1:4] == ["git-fetch", "script", "https://example.org/café.git @ v1.0"]


def test_missing_script_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _script_era_store(tmp_path, with_script=False)
    assert main(["fods", "--store", str(tmp_path), root]) == 0
    fields = capsys.readouterr().out.splitlines()[1].split("\t")
    assert fields[1:3] == ["unknown", "script"]
    assert fields[3].startswith("? the fetch method is written only in the builder script ")
    assert fields[3].endswith("-foo-1.0-checkout-builder, which is not in the store")


def test_bad_root(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fods", "--store", str(tmp_path), "nothing.txt"]) == 2
    assert capsys.readouterr().err == (
        "guix-revive: error: nothing.txt: not a .drv file (expected <hash>-<name>.drv)\n"
    )
    missing = "0123456789abcdfghijklmnpqrsvwxyz-gone.drv"
    assert main(["fods", "--store", str(tmp_path), missing]) == 2
    assert capsys.readouterr().err == (
        f"guix-revive: error: {missing}: not in the store (looked for {tmp_path / missing})\n"
    )
