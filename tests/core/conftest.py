"""Fixtures for the derivation-core tests: corpus cases as parameters, trees built from vectors.

Data-driven tests name a parameter and get one test per case, with the case
as the test id (``test_round_trip[03lvdchx…-gmp-6.1.2.tar.xz.drv]``):

* ``guix2020_file``: each ``.drv`` file of ``guix-2020/store``;
* ``nix_derivation``: each ``(case, store_dir)`` of ``nix-oracle`` ``derivations``;
* ``nar_vector``: each ``files`` entry of ``nix-oracle`` (a file or tree).

The cases are listed at collection time, so the corpus location is worked out
here the same way as in the top-level ``conftest.py``. Without the corpus each
such test is one case marked ``corpus``, which the top-level ``conftest.py``
skips (with the same reason as every other corpus test).
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from revive.core.aterm import read_derivation
from revive.core.derivation import Derivation

_ROOT = Path(__file__).resolve().parents[2]
_CORPUS = Path(os.environ.get("GUIX_REVIVE_SHARED", _ROOT.parent / "shared")) / "corpus"
STORE_DIRS = ("/nix/store", "/gnu/store")
"""The two store dirs every Nix vector was produced for."""


def _vectors() -> dict[str, Any]:
    path = _CORPUS / "nix-oracle" / "vectors.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize corpus-driven tests by the parameter names they ask for."""
    names = metafunc.fixturenames
    wanted = [n for n in ("guix2020_file", "nix_derivation", "nar_vector") if n in names]
    if wanted and not _CORPUS.is_dir():
        for name in wanted:
            metafunc.parametrize(name, [pytest.param(None, marks=pytest.mark.corpus, id="corpus")])
        return
    if "guix2020_file" in names:
        store = _CORPUS / "guix-2020" / "store"
        files = sorted(store.glob("*.drv")) if store.is_dir() else []
        metafunc.parametrize("guix2020_file", files, ids=[f.name for f in files])
    if "nix_derivation" in names:
        cases = [
            (case, store_dir)
            for case in _vectors().get("derivations", [])
            for store_dir in STORE_DIRS
        ]
        metafunc.parametrize("nix_derivation", cases, ids=[f"{c['name']}@{d}" for c, d in cases])
    if "nar_vector" in names:
        entries = _vectors().get("files", [])
        metafunc.parametrize("nar_vector", entries, ids=[e["name"] for e in entries])


@pytest.fixture(scope="session")
def guix2020_derivations(guix2020_store: Path) -> dict[str, Derivation]:
    """Every corpus ``.drv`` parsed, keyed by its logical store path."""
    return {
        f"/gnu/store/{file.name}": read_derivation(str(file), f"/gnu/store/{file.name}")
        for file in sorted(guix2020_store.glob("*.drv"))
    }


@pytest.fixture(scope="session")
def build_vector_tree() -> Callable[[dict[str, Any], Path], Path]:
    """Return ``build(entry, parent)``: recreate a vector's file or tree under ``parent``.

    Regular files get their contents and the executable bit (0o755, else
    0o644); symlinks their target, verbatim (dangling and absolute ones too);
    directories are created empty. Returns the path of the top-level item.
    """

    def build(entry: dict[str, Any], parent: Path) -> Path:
        top = parent / entry["store_path_name"]
        for item in entry["entries"]:
            path = top / item["path"] if item["path"] else top
            kind = item["type"]
            if kind == "directory":
                path.mkdir(parents=True, exist_ok=True)
            elif kind == "symlink":
                path.parent.mkdir(parents=True, exist_ok=True)
                path.symlink_to(item["target"])
            else:
                assert kind == "regular", kind
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(base64.b64decode(item["contents_b64"]))
                path.chmod(0o755 if item["executable"] else 0o644)
        if entry["kind"] == "directory":
            top.mkdir(exist_ok=True)
        return top

    return build


# --- the complete examples of guix-derivations.md (§2.9, §10.4) -----------------------

_DOC_A = (
    'Derive([("out","/gnu/store/3dq55rw99wdc4g4wblz7xikc8a2jy7a3-hello-2.12.1.tar.gz","sha256",'
    '"8d99142afd92576f30b0cd7cb42a8dc6809998bc5d607d88761f512e26c7db20")],[],'
    '["/gnu/store/0mxnx8l4fgigvd7gakwdk6hc6im4wnai-disarchive-mirrors",'
    '"/gnu/store/hdprrnsaa40vl1k63hnq7l1f012jzq2y-mirrors",'
    '"/gnu/store/lv7dc09895a2d7cn0m6ysrdlgkhx5ld8-content-addressed-mirrors"],'
    '"x86_64-linux","builtin:download",[],'
    '[("content-addressed-mirrors",'
    '"/gnu/store/lv7dc09895a2d7cn0m6ysrdlgkhx5ld8-content-addressed-mirrors"),'
    '("disarchive-mirrors","/gnu/store/0mxnx8l4fgigvd7gakwdk6hc6im4wnai-disarchive-mirrors"),'
    '("impureEnvVars","http_proxy https_proxy LC_ALL LC_MESSAGES LANG COLUMNS"),'
    '("mirrors","/gnu/store/hdprrnsaa40vl1k63hnq7l1f012jzq2y-mirrors"),'
    '("out","/gnu/store/3dq55rw99wdc4g4wblz7xikc8a2jy7a3-hello-2.12.1.tar.gz"),'
    '("preferLocalBuild","1"),("url","\\"mirror://gnu/hello/hello-2.12.1.tar.gz\\"")])'
)
_DOC_B = (
    'Derive([("doc","/gnu/store/kpbq8p2axmaddp6xbzvmpaij450ymq9a-consumer-doc","",""),'
    '("out","/gnu/store/vi2qyf9wyk7n59gzv5dch8dkfl0r1cnc-consumer","","")],'
    '[("/gnu/store/j28gm48klq29zcfnkmp0qqhwnlrvkp4s-hello-2.12.1.tar.gz.drv",["out"])],'
    '["/gnu/store/z94f0wyd5dl27nj28l59gndxh545xkjq-build.sh"],"x86_64-linux","/bin/sh",'
    '["-e","/gnu/store/z94f0wyd5dl27nj28l59gndxh545xkjq-build.sh"],'
    '[("doc","/gnu/store/kpbq8p2axmaddp6xbzvmpaij450ymq9a-consumer-doc"),'
    '("out","/gnu/store/vi2qyf9wyk7n59gzv5dch8dkfl0r1cnc-consumer"),'
    '("src","/gnu/store/3dq55rw99wdc4g4wblz7xikc8a2jy7a3-hello-2.12.1.tar.gz"),'
    '("tricky","a\\"b\\\\c\\nd\\te\\rf")])'
)
_DOC_C = (
    'Derive([("out","/gnu/store/ba80al8r1yn09d0vy29h534igdlszdh7-txt2man-1.6.0-checkout",'
    '"r:sha256","a56e1ae0d879857e255eabbb50e9d856165b6dcabc9e132986055d46f7955fe5")],[],[],'
    '"x86_64-linux","builtin:git-download",[],[("commit","v1.6.0"),'
    '("impureEnvVars","http_proxy https_proxy LC_ALL LC_MESSAGES LANG COLUMNS"),'
    '("out","/gnu/store/ba80al8r1yn09d0vy29h534igdlszdh7-txt2man-1.6.0-checkout"),'
    '("preferLocalBuild","1"),("recursive?","#f"),'
    '("url","\\"https://github.com/mvertes/txt2man\\"")])'
)
_NIX_HELLO = (
    'Derive([("out","/nix/store/ykj5hrkd4fqpvlzr2hghq4h7a45zqy1s-hello-2.12","","")],'
    '[("/nix/store/l01z223v9ij1kjpm84f9hj4g3kcd5vzj-hello-2.12.tar.gz.drv",["out"]),'
    '("/nix/store/l4k20i8w80gafnmabjvl1z72bhqwim2j-bash-5.1-p16.drv",["out"]),'
    '("/nix/store/rkscx0pb9i06f2ham82q49idn8wlbxzd-stdenv-darwin.drv",["out"])],'
    '["/nix/store/9krlzvny65gdc8s7kpb6lkx8cd02c25b-default-builder.sh"],"aarch64-darwin",'
    '"/nix/store/gzcbs0pkzsv1q3rngvf4i53z3vv7vxl4-bash-5.1-p16/bin/bash",'
    '["-e","/nix/store/9krlzvny65gdc8s7kpb6lkx8cd02c25b-default-builder.sh"],'
    '[("__darwinAllowLocalNetworking",""),("__impureHostDeps","/bin/sh '
    "/usr/lib/libSystem.B.dylib /usr/lib/system/libunc.dylib /dev/zero /dev/random "
    '/dev/urandom /bin/sh"),("__propagatedImpureHostDeps",""),'
    '("__propagatedSandboxProfile",""),("__sandboxProfile",""),("buildInputs",""),'
    '("builder","/nix/store/gzcbs0pkzsv1q3rngvf4i53z3vv7vxl4-bash-5.1-p16/bin/bash"),'
    '("configureFlags",""),("depsBuildBuild",""),("depsBuildBuildPropagated",""),'
    '("depsBuildTarget",""),("depsBuildTargetPropagated",""),("depsHostHost",""),'
    '("depsHostHostPropagated",""),("depsTargetTarget",""),("depsTargetTargetPropagated",""),'
    '("doCheck","1"),("doInstallCheck",""),("name","hello-2.12"),("nativeBuildInputs",""),'
    '("out","/nix/store/ykj5hrkd4fqpvlzr2hghq4h7a45zqy1s-hello-2.12"),("outputs","out"),'
    '("patches",""),("pname","hello"),("propagatedBuildInputs",""),'
    '("propagatedNativeBuildInputs",""),'
    '("src","/nix/store/8nqv6kshb3vs5q5bs2k600xpj5bkavkc-hello-2.12.tar.gz"),'
    '("stdenv","/nix/store/3r5i3gwh8asv63a0375h84m4h4dr5dy5-stdenv-darwin"),'
    '("strictDeps",""),("system","aarch64-darwin"),("version","2.12")])'
)

DOC_DERIVATIONS: dict[str, tuple[str, str]] = {
    "a": ("/gnu/store/j28gm48klq29zcfnkmp0qqhwnlrvkp4s-hello-2.12.1.tar.gz.drv", _DOC_A),
    "a-https": (
        "/gnu/store/ks9cx0xi8hz6d0b4d4h1kzvgss886vql-hello-2.12.1.tar.gz.drv",
        _DOC_A.replace(
            "mirror://gnu/hello/hello-2.12.1.tar.gz",
            "https://ftp.gnu.org/gnu/hello/hello-2.12.1.tar.gz",
        ),
    ),
    "b": ("/gnu/store/b6wb7ja4qkwz8v7xsqm5jgixw937yr3w-consumer.drv", _DOC_B),
    "b-variant": (
        "/gnu/store/401wcgpqdpwvh5iq17h1by5169xs33n6-consumer.drv",
        _DOC_B.replace("j28gm48klq29zcfnkmp0qqhwnlrvkp4s", "ks9cx0xi8hz6d0b4d4h1kzvgss886vql"),
    ),
    "c": ("/gnu/store/bdwqnp803b1pa2jilm2qs4xjb6kfvjd1-txt2man-1.6.0-checkout.drv", _DOC_C),
    "nix-hello": ("/nix/store/sc6ax6ag43vjs8rw65zzzx2rv4hmjmcl-hello-2.12.drv", _NIX_HELLO),
}


@pytest.fixture(scope="session")
def doc_derivations() -> dict[str, tuple[str, str]]:
    """The ``.drv`` texts of ``guix-derivations.md`` §2.9 and §10.4: key -> (drv path, text).

    ``a``/``a-https``: the hello FOD and its URL variant; ``b``/``b-variant``:
    the two-output consumer of each; ``c``: a ``builtin:git-download`` FOD;
    ``nix-hello``: a real Nix derivation.
    """
    return DOC_DERIVATIONS
