"""``guix-revive rewrite``: one FOD, a whole closure, --write, --diff, --mirrors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from revive.core.aterm import read_derivation, serialize_derivation
from revive.core.derivation import Derivation, Output
from revive.core.derivation_hash import drv_path
from revive.core.fetch.mirrors import default_mirror_config
from revive.core.store_path import fixed_output_path
from revive.tui.cli import main

TXT2MAN_SRC = "p4wivyw32agxqs6zq37hmhxqw6nav43x-txt2man-1.6.0-checkout.drv"
HELLO_SRC = "mspyllkw4d2395akavrkjkiw1p448p9a-hello-2.10.tar.gz.drv"
HELLO_PKG = "gknm68l0q893bpvyhcd4ccih1bmh0j87-hello-2.10.drv"
GMP_PATCHED = "03lvdchx2vk44szvbx97sv724whzh3a4-gmp-6.1.2.tar.xz.drv"
# The rewrite the user story's `guix drv-drv` printed for the same FOD.
TXT2MAN_NEW = "/gnu/store/vk367ywg4d5n3m1qy1qi2vq7mpg00cjn-txt2man-1.6.0-checkout.drv"


def test_one_fod(guix2020_store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rewrite", "--store", str(guix2020_store), TXT2MAN_SRC]) == 0
    out, err = capsys.readouterr()
    first, text = out.splitlines()
    assert first == f"/gnu/store/{TXT2MAN_SRC} -> {TXT2MAN_NEW}"
    assert text.startswith('Derive([("out","/gnu/store/ba80al8r1yn09d0vy29h534igdlszdh7-')
    assert '"builtin:git-download"' in text and '("commit","txt2man-1.6.0")' in text
    assert err == ""


def test_write_one_fod(
    guix2020_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["rewrite", "--store", str(guix2020_store), "--write", str(tmp_path), HELLO_SRC]) == 0
    )
    out, err = capsys.readouterr()
    old, arrow, new = out.strip().split(" ")
    assert (old, arrow) == (f"/gnu/store/{HELLO_SRC}", "->")
    written = read_derivation(str(tmp_path / Path(new).name), new)
    assert drv_path(written) == new
    files = default_mirror_config().files()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [Path(new).name, *(Path(item.path).name for item in files)]
    )
    assert err == f"written into {tmp_path}\n"
    # The written store holds today's form: rewriting it again changes nothing.
    assert main(["rewrite", "--store", str(tmp_path), Path(new).name]) == 0
    assert capsys.readouterr().out == f"{new} unchanged\n"


def test_not_a_fod(guix2020_store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rewrite", "--store", str(guix2020_store), GMP_PATCHED]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        f"guix-revive: error: /gnu/store/{GMP_PATCHED}: not a fixed-output derivation "
        "(patched-source); rewrite the FOD it wraps (/gnu/store/"
    )
    assert err.endswith("-gmp-6.1.2.tar.xz.drv) or use --closure\n")


def test_closure(guix2020_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "new"
    target.mkdir()
    args = ["rewrite", "--store", str(guix2020_store), "--closure", "--write", str(target)]
    assert main([*args, HELLO_PKG]) == 0
    out, err = capsys.readouterr()
    old, arrow, new = out.strip().split(" ")
    assert (old, arrow) == (f"/gnu/store/{HELLO_PKG}", "->")
    assert err.splitlines() == [
        f"wrote 213 files into {target}",
        "81 fixed-output derivations: 81 rewritten, 0 already in today's form, 0 not rewritten",
        "129 derivations re-pointed at the new ones (of 210 in the closure)",
        "no output path changed (210 new derivations checked)",
    ]
    new_root = read_derivation(str(target / Path(new).name), new)
    old_root = read_derivation(str(guix2020_store / HELLO_PKG), f"/gnu/store/{HELLO_PKG}")
    assert new_root.outputs == old_root.outputs
    # The written closure is complete: `fods` reads it, every FOD now builtin.
    assert main(["fods", "--store", str(target), "--json", Path(new).name]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 81 and {r["era"] for r in rows} == {"builtin"}
    # Writing again: everything is already there.
    assert main([*args, HELLO_PKG]) == 0
    assert capsys.readouterr().err.startswith(f"wrote 0 files into {target} (213 already there)")


def test_closure_diff(guix2020_store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rewrite", "--store", str(guix2020_store), "--closure", "--diff", HELLO_PKG]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith(f"/gnu/store/{HELLO_PKG} -> ")
    assert lines[1] == f"--- /gnu/store/{HELLO_PKG}"
    assert any("equivalent" in line for line in lines[3:6])


def test_diff_one_fod(guix2020_store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rewrite", "--store", str(guix2020_store), "--diff", HELLO_SRC]) == 0
    out = capsys.readouterr().out
    assert "same output /gnu/store/hbdalsf5lpf01x4dcknwx6xbn6n5km6k-hello-2.10.tar.gz" in out
    assert "+   disarchive-mirrors = " in out
    assert "Derive(" not in out


def test_custom_mirrors(
    guix2020_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = default_mirror_config().replace(
        version="loopback", content_addressed=["http://127.0.0.1:9/{algo}/{hex}"]
    )
    mirrors = tmp_path / "mirrors.json"
    mirrors.write_text(json.dumps(config.to_dict()))
    assert (
        main(["rewrite", "--store", str(guix2020_store), "--mirrors", str(mirrors), HELLO_SRC]) == 0
    )
    text = capsys.readouterr().out.splitlines()[1]
    assert config.files().content_addressed.path in text
    assert default_mirror_config().files().content_addressed.path not in text


def test_bad_mirrors_file(
    guix2020_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "m.json").write_text("{}")
    assert (
        main(
            [
                "rewrite",
                "--store",
                str(guix2020_store),
                "--mirrors",
                str(tmp_path / "m.json"),
                HELLO_SRC,
            ]
        )
        == 2
    )
    assert capsys.readouterr().err == (
        f"guix-revive: error: {tmp_path / 'm.json'}: mirror data: "
        "'version' must be a non-empty string\n"
    )


def test_write_refuses_to_overwrite(
    guix2020_store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / Path(TXT2MAN_NEW).name).write_text("other")
    args = ["rewrite", "--store", str(guix2020_store), "--write", str(tmp_path), TXT2MAN_SRC]
    assert main(args) == 2
    assert capsys.readouterr().err.startswith(
        f"guix-revive: error: {tmp_path / Path(TXT2MAN_NEW).name}: already exists with "
        "different contents; not overwritten"
    )


def test_closure_with_an_unknown_fod(
    tmp_path: Path, guix2020_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A store where the only FOD is fetched by a hand-written builder.
    out = fixed_output_path("raw.txt", "sha256", bytes(32), False)
    raw = Derivation("raw.txt", (Output("out", out, "sha256", "00" * 32),), (), (),
                     "x86_64-linux", "/bin/sh", ("-c", "true"), (("out", out),))  # fmt: skip
    path = drv_path(raw)
    (tmp_path / Path(path).name).write_text(serialize_derivation(raw))
    assert main(["rewrite", "--store", str(tmp_path), "--closure", Path(path).name]) == 1
    out_text, err = capsys.readouterr()
    assert out_text == f"{path} unchanged\n"
    assert f"guix-revive: warning: not rewritten: {path}: unknown fetch method" in err
