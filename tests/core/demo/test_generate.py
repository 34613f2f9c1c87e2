"""The generated demo: correct paths, determinism, coverage of every era, real repos."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from revive.core.aterm import read_derivation, serialize_derivation
from revive.core.builders.process import tool_search_path
from revive.core.closure import load_closure
from revive.core.demo.generate import GENERATOR_VERSION, default_demo_dir, generate_demo
from revive.core.demo.model import MANIFEST_NAME, DemoEnvironment, DemoSource
from revive.core.derivation import Derivation
from revive.core.derivation_hash import DerivationHasher, drv_path
from revive.core.errors import ReviveError
from revive.core.fetch.classify import DerivationKind, classify
from revive.core.fetch.mirrors import content_addressed_urls, parse_mirrors
from revive.core.fetch.spec import FetchMethod
from revive.core.nar import nar_hash
from revive.core.store_dir import StoreDir
from revive.core.store_path import source_path, text_path

STORE_PATH = re.compile(r"/gnu/store/[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+\-._?=]+")


def _derivations(env: DemoEnvironment) -> dict[str, Derivation]:
    result = {}
    for file in sorted(env.store_dir.iterdir()):
        if file.name.endswith(".drv"):
            logical = f"{env.logical_store_dir}/{file.name}"
            result[logical] = read_derivation(str(file), logical)
    return result


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_every_drv_and_output_path_is_what_guix_computes(demo_env: DemoEnvironment) -> None:
    """GIVEN the demo store WHEN every .drv is re-hashed THEN paths and outputs match."""
    drvs = _derivations(demo_env)
    assert 60 <= len(drvs) <= 150
    hasher = DerivationHasher(drvs)
    for path, drv in drvs.items():
        assert drv_path(drv) == path
        assert serialize_derivation(drv).encode() == demo_env.physical(path).read_bytes()
        assert {o.name: o.path for o in drv.outputs} == hasher.output_paths(drv)
        assert dict(drv.env)["out"] == drv.output_path("out")
        for source in drv.input_srcs:
            assert demo_env.physical(source).exists(), source
        for input_path, _ in drv.input_drvs:
            assert input_path in drvs


def test_roots_reach_the_whole_store(demo_env: DemoEnvironment) -> None:
    """Every .drv of the store belongs to the closure of some root."""
    drvs = _derivations(demo_env)
    seen: set[str] = set()
    stack = list(demo_env.root_paths)
    while stack:
        path = stack.pop()
        if path not in seen:
            seen.add(path)
            stack.extend(p for p, _ in drvs[path].input_drvs)
    assert seen == set(drvs)


def test_input_sources_have_their_text_or_source_paths(demo_env: DemoEnvironment) -> None:
    """Scripts and mirror files are text items; patches and modules are source items."""
    drvs = _derivations(demo_env)
    sources = {s for drv in drvs.values() for s in drv.input_srcs}
    for path in sorted(sources):
        item = demo_env.physical(path)
        name = path.split("-", 1)[1]
        if item.is_dir():
            assert source_path(name, nar_hash(item)) == path
            continue
        data = item.read_bytes()
        mentioned = STORE_PATH.findall(data.decode())
        assert path in {
            text_path(name, data),
            text_path(name, data, [m for m in mentioned if m.endswith(".scm")]),
            source_path(name, nar_hash(item)),
        }
        if name.endswith("-builder") or name in ("git-download", "bzr-download", "download"):
            # One written datum on one line (two for a -guile-builder), no newline.
            assert b"\n" not in data
            assert data.startswith(b"(")


def test_every_method_and_era_is_present(demo_env: DemoEnvironment) -> None:
    """The demo covers every fetch method and every era of guix-derivations.md §6."""
    forms = {s.form for s in demo_env.sources}
    assert forms == {"U1", "U2", "U3", "G1", "G2", "G4", "S1", "svn-multi", "H1", "bzr", "cvs"}
    drvs = _derivations(demo_env)

    def read(path: str) -> bytes:
        return demo_env.physical(path).read_bytes()

    found = {path: classify(drv, read) for path, drv in drvs.items()}
    methods = {c.method for c in found.values() if c.method is not None}
    assert methods == set(FetchMethod) - {FetchMethod.UNKNOWN}
    fods = {(c.method, c.era) for c in found.values() if c.kind is DerivationKind.FOD}
    assert {(FetchMethod.URL, e) for e in ("builtin", "in-band", "script")} <= fods
    assert {(FetchMethod.GIT, e) for e in ("builtin", "in-band", "script")} <= fods
    kinds = {c.kind for c in found.values()}
    assert kinds >= {
        DerivationKind.FOD,
        DerivationKind.PATCHED_SOURCE,
        DerivationKind.TARBOMB,
        DerivationKind.ZIPBOMB,
        DerivationKind.MODULE_IMPORT,
        DerivationKind.MODULE_IMPORT_COMPILED,
        DerivationKind.PROFILE,
        DerivationKind.PACKAGE,
    }
    # The manifest agrees with the classification.
    for source in demo_env.sources:
        assert found[source.drv_path].kind is DerivationKind.FOD
        assert found[source.drv_path].method == source.method
        if source.wrapper:
            assert found[source.wrapper].wraps == source.drv_path
    executables = [s for s in demo_env.sources if found[s.drv_path].executable]
    assert executables and all(drvs[s.drv_path].outputs[0].recursive for s in executables)
    patched = [p for p, c in found.items() if c.kind is DerivationKind.PATCHED_SOURCE]
    assert len(patched) == 1 and len(drvs[patched[0]].input_srcs) == 4


def test_special_nodes(demo_env: DemoEnvironment) -> None:
    """One FOD's upstream is gone (CA mirror only), one git repository moved (nar mirror)."""
    gone = demo_env.special_of("upstream-gone")
    source = demo_env.source(gone.drv_path)
    assert source.status == "gone" and source.upstream.startswith("cas/sha256/")
    assert all(url not in dict(demo_env.http_files) for url in source.fetch_urls)
    assert (demo_env.upstream_dir / source.upstream).is_file()
    moved = demo_env.special_of("repository-moved")
    source = demo_env.source(moved.drv_path)
    assert source.status == "moved" and source.method == FetchMethod.GIT
    nar = dict(demo_env.nars)[source.output_path.rsplit("/", 1)[1]]
    assert (demo_env.upstream_dir / nar).is_file()
    assert not any(v.prefix == "https://gitlab.com/" for v in demo_env.vcs)
    assert "https://gitlab.com/" in demo_env.prefixes


def test_upstream_files_hash_to_their_fods(demo_env: DemoEnvironment) -> None:
    """Every served file has the hash its FOD expects."""
    drvs = _derivations(demo_env)
    by_file = {f: url for url, f in demo_env.http_files}
    for source in demo_env.sources:
        if not source.urls:
            continue
        out = drvs[source.drv_path].outputs[0]
        file = demo_env.upstream_dir / source.upstream
        if source.status == "ok":
            assert source.upstream in by_file
        digest = nar_hash(file) if out.recursive else _sha256(file)
        if out.recursive:
            # url-fetch/executable: the daemon makes the file executable.
            copy = file.parent / (file.name + ".x")
            shutil.copy(file, copy)
            copy.chmod(0o755)
            digest = nar_hash(copy)
            copy.unlink()
        assert digest.hex() == out.hash, source.drv_path


def _sha256(file: Path) -> bytes:
    import hashlib

    return hashlib.sha256(file.read_bytes()).digest()


def _checkout(source: DemoSource, drv: Derivation, upstream: Path, into: Path) -> None:
    path = tool_search_path(os.environ["PATH"])
    env = {"PATH": path, "HOME": str(into.parent), "HGRCPATH": "", "LC_ALL": "C"}

    def run(*argv: str, cwd: Path | None = None) -> None:
        subprocess.run(argv, check=True, capture_output=True, env=env, cwd=cwd)

    repo = upstream / source.upstream
    if source.method == FetchMethod.GIT:
        commit = drv.getenv("git commit") or drv.getenv("commit")
        if commit is None:
            commit = source.origin.split()[1]
        run("git", "clone", "-q", f"file://{repo}", str(into))
        run("git", "-C", str(into), "checkout", "-q", commit)
    elif source.method == FetchMethod.HG:
        run("hg", "clone", "-q", "-u", source.origin.split()[1], f"file://{repo}", str(into))
    elif source.method == FetchMethod.BZR:
        run("brz", "branch", "-q", "-r", drv.getenv("bzr reference") or "", str(repo), str(into))
    elif source.method == FetchMethod.SVN:
        url, rev = source.origin.split()
        local = url.replace("svn://www.tug.org/texlive", f"file://{repo}")
        run("svn", "export", "-q", "-r", rev[1:], local, str(into))
    elif source.method == FetchMethod.SVN_MULTI:
        url, rev, *locations = source.origin.split()
        local = url.replace("svn://www.tug.org/texlive", f"file://{repo}")
        for location in locations:
            target = into / location
            target.parent.mkdir(parents=True, exist_ok=True)
            run("svn", "export", "-q", "-r", rev[1:], f"{local}/{location}", str(target))
    elif source.method == FetchMethod.CVS:
        _root, module, revision = source.origin.split()
        into.mkdir()
        run("cvs", "-Q", "-d", str(repo), "checkout", "-r", revision, module, cwd=into)
        (into / module).rename(into.parent / "cvs-out")
        into.rmdir()
        (into.parent / "cvs-out").rename(into)
    else:
        raise AssertionError(source.method)


def test_vcs_checkouts_hash_to_their_fods(demo_env: DemoEnvironment, tmp_path: Path) -> None:
    """A real checkout of each repository (VCS files excluded) has the FOD's hash."""
    drvs = _derivations(demo_env)
    vcs = [(i, s) for i, s in enumerate(demo_env.sources) if not s.urls]

    def check(index: int, source: DemoSource) -> str:
        drv = drvs[source.drv_path]
        into = tmp_path / str(index) / "checkout"
        into.parent.mkdir()
        _checkout(source, drv, demo_env.upstream_dir, into)
        assert nar_hash(into, exclude_vcs=True).hex() == drv.outputs[0].hash, source.drv_path
        return source.method

    # The tools mostly wait: check every repository at once.
    with ThreadPoolExecutor(max_workers=len(vcs)) as pool:
        checked = set(pool.map(lambda item: check(*item), vcs))
    assert len(checked) == 6


def test_existing_demo_is_reused(demo_env: DemoEnvironment) -> None:
    """A second call does nothing and describes the same environment."""
    manifest = demo_env.demo_dir / MANIFEST_NAME
    before = manifest.stat().st_mtime_ns
    assert generate_demo(demo_env.demo_dir) == demo_env
    assert manifest.stat().st_mtime_ns == before


def test_a_foreign_directory_is_never_touched(tmp_path: Path) -> None:
    """A non-empty directory without a demo manifest makes generation fail, untouched."""
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "precious").write_text("keep")
    with pytest.raises(ReviveError, match="is not a guix-revive demo"):
        generate_demo(tmp_path / "demo")
    assert (tmp_path / "demo" / "precious").read_text() == "keep"


def test_default_demo_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The demo lives under $XDG_DATA_HOME/guix-revive/demo."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_demo_dir() == tmp_path / "guix-revive" / "demo"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert default_demo_dir() == Path.home() / ".local/share/guix-revive/demo"


def test_store_items_are_read_only_like_a_real_store(demo_env: DemoEnvironment) -> None:
    """Items are written once, read-only, with modification time 1."""
    for item in list(demo_env.store_dir.iterdir())[:20]:
        info = item.stat()
        assert info.st_mtime == 1
        assert not info.st_mode & 0o222


def test_generation_is_deterministic_concurrent_safe_and_replaces_old_versions(
    demo_env: DemoEnvironment, tmp_path: Path
) -> None:
    """GIVEN a demo of an older generator WHEN two processes generate it at once
    THEN both end with one complete demo, byte-identical to the session's."""
    target = tmp_path / "shared" / "demo"
    (target / "store").mkdir(parents=True)
    stale = target / "store" / "stale-item"
    stale.write_text("old")
    (target / "store").chmod(0o555)
    old = demo_env.to_json().replace(
        f'"version": {GENERATOR_VERSION}', f'"version": {GENERATOR_VERSION - 1}'
    )
    (target / MANIFEST_NAME).write_text(old)
    code = (
        "import sys; from pathlib import Path; "
        "from revive.core.demo.generate import generate_demo; "
        "print(generate_demo(Path(sys.argv[1])).root_paths[0])"
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(target)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120)[0].strip() for p in processes]
    assert [p.returncode for p in processes] == [0, 0]
    assert outputs == [demo_env.root_paths[0]] * 2
    assert not stale.exists()
    assert (target / MANIFEST_NAME).read_bytes() == (demo_env.demo_dir / MANIFEST_NAME).read_bytes()
    for part in ("store", "upstream/files", "upstream/cas", "upstream/nar"):
        assert _files(target / part) == _files(demo_env.demo_dir / part), part
    assert sorted(p.name for p in target.parent.iterdir()) == [".demo.lock", "demo"]


def test_mirror_files_are_readable_as_their_era_wrote_them(demo_env: DemoEnvironment) -> None:
    """The 2016 and 2020 mirror lists parse, and their CA procedures give real hosts."""
    drvs = _derivations(demo_env)
    mirror_files = {
        value
        for drv in drvs.values()
        for name, value in drv.env
        if name in ("mirrors", "content-addressed-mirrors")
    }
    mirror_files |= {s for drv in drvs.values() for s in drv.input_srcs if s.endswith("mirrors")}
    assert len(mirror_files) == 4  # mirrors and CA mirrors of 2016 and of 2020
    for path in sorted(mirror_files):
        text = demo_env.physical(path).read_text()
        if path.endswith("-content-addressed-mirrors"):
            urls = content_addressed_urls(text, "f-1.0.tar.gz", "sha256", bytes(32))
            assert urls and all(
                "tarballs.nixos.org" in u or "guix" in u or "swh" in u or "softwareheritage" in u
                for u in urls
            )
        else:
            assert "gnu" in parse_mirrors(text)


def test_the_closure_loader_reads_the_whole_demo(demo_env: DemoEnvironment) -> None:
    """load_closure on the roots finds every .drv of the store and no problem."""
    graph = load_closure(
        demo_env.root_paths, StoreDir.open(demo_env.store_dir, demo_env.logical_store_dir)
    )
    assert not graph.problems
    assert len(graph) == len(_derivations(demo_env))
