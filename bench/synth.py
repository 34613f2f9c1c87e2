"""Write realistic synthetic Guix closures for benchmarks.

``write_synthetic_closure(n, directory, seed=0)`` writes ``n`` ``.drv`` files
shaped like a Guix distribution closure of the 2020 era into ``directory`` (a
flat copy of a store whose logical directory is ``/gnu/store``) and returns the
root ``.drv`` store path. Every file is written by the project's own writer,
and every ``.drv`` path and output path is the one Guix and the daemon would
compute (so ``guix-revive verify`` reports no mismatch on them).

Shape, deterministic for a given ``(n, seed)``:

* layers from a small bootstrap chain up to applications, each node depending
  on a few nodes of lower layers, with preferential attachment so that a few
  nodes (``gcc``, ``glibc``, ``guile``…) get a huge fan-in, plus one node of
  the layer just below for depth;
* about 15% fixed-output derivations: ``builtin:download`` tarballs (flat
  sha256, sometimes sha512/sha1), guile-script ``git-fetch`` checkouts
  (recursive sha256) and ``url-fetch/executable`` (recursive, flat name);
* about 20% of regular nodes with several outputs (``out``/``dev``/``lib``/
  ``doc``/``static``…), consumers often picking a specific output;
* guile builders with ``-L``/``-C`` arguments and builder-script input
  sources, ``guix properties`` on some nodes, patches as input sources;
* long environment values (build phases) containing quotes, backslashes,
  newlines, tabs, carriage returns and non-ASCII UTF-8, sized so that the
  average file is about 3 KB (50,000 files ≈ 150 MB);
* one root, a profile depending on every node nobody else depends on, so the
  closure of the root is all ``n`` derivations.

Usable from any benchmark in this folder (``from synth import
write_synthetic_closure``) or as a script: ``python bench/synth.py N DIR``.
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
from pathlib import Path

from revive.core import base32
from revive.core.aterm import serialize_derivation
from revive.core.derivation import Derivation, Output
from revive.core.derivation_hash import DerivationHasher, masked
from revive.core.store_path import fixed_output_path, text_path

__all__ = ["write_synthetic_closure", "STORE"]

STORE = "/gnu/store"
"""Logical store directory of the synthetic closures."""

_SYSTEM = "x86_64-linux"
_IMPURE = "http_proxy https_proxy LC_ALL LC_MESSAGES LANG COLUMNS"
_WORDS = (
    "configure make install check patch autoreconf cmake meson ninja sed awk grep "
    "substitute* wrap-program patch-shebang strip find invoke chmod symlink copy-file "
    "mkdir-p tar gzip xz bzip2 unzip python perl ruby lua"
).split()
_BOOTSTRAP = (
    "bootstrap-binaries-0",
    "guile-bootstrap-2.0",
    "gcc-bootstrap-0",
    "glibc-bootstrap-0",
    "bash-minimal-5.0.7",
    "coreutils-8.31",
    "tar-1.32",
    "gzip-1.10",
    "bzip2-1.0.6",
    "xz-5.2.4",
    "file-5.33",
    "diffutils-3.7",
    "patch-2.7.6",
    "findutils-4.6.0",
    "gawk-5.0.1",
    "sed-4.7",
    "grep-3.3",
    "make-4.2.1",
    "linux-libre-headers-4.19.56",
    "binutils-2.32",
    "glibc-2.29",
    "gcc-7.4.0",
    "ld-wrapper-0",
    "glibc-utf8-locales-2.29",
    "guile-2.2.6",
    "module-import",
    "module-import-compiled",
    "git-minimal-2.26.0",
)
# The implicit inputs of gnu-build-system: every package depends on all of
# them, as in the real corpus (hello-2.10.drv has 24 input derivations).
_IMPLICIT = _BOOTSTRAP[4:27]
_BOOT_OUTPUTS = {"glibc-2.29": ("debug", "out", "static"), "gcc-7.4.0": ("lib", "out")}
_IMPLICIT_OUTPUTS = {"glibc-2.29": {"out", "static"}}
_MULTI_OUTPUTS = (
    ("dev", "out"),
    ("lib", "out"),
    ("doc", "out"),
    ("out", "static"),
    ("bin", "dev", "doc", "lib", "out"),
)
_EXTS = (".tar.gz", ".tar.xz", ".tar.bz2", ".zip", ".tar.lz")


def _fake_item(rng: random.Random, name: str) -> str:
    """A store path for an item that is not a derivation (script, patch, mirrors)."""
    return f"{STORE}/{base32.encode(rng.getrandbits(160).to_bytes(20, 'little'))}-{name}"


def _script(rng: random.Random, size: int) -> str:
    """A fake build phase full of characters that need escaping, and UTF-8."""
    lines: list[str] = []
    total = 0
    while total < size:
        k = rng.random()
        words = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(2, 9)))
        if k < 0.10:
            line = '(format #t "quoted \\"inner\\" ~a~%" out)'
        elif k < 0.18:
            line = '(substitute* "Makefile" (("\\\\/usr\\\\/bin") (string-append out "/bin")))'
        elif k < 0.25:
            line = "\t" + words + "\t#:flag\t'x"
        elif k < 0.28:
            line = '(display "crlf\\r\\n") ; carriage\r return'
        elif k < 0.30:
            line = '(display "unicode: é ü ß λ → ✓ 日本")'
        else:
            line = "  (" + words + " #:prefix out)"
        lines.append(line)
        total += len(line) + 1
    return "\n".join(lines) + "\n"


class _Builder:
    """Accumulates derivations bottom-up, computing their real paths."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.paths: list[str] = []
        self.drvs: dict[str, Derivation] = {}
        self.hasher = DerivationHasher(self.drvs)
        self.guile_bin = _fake_item(rng, "guile-2.2.6") + "/bin/guile"
        self.module_import = _fake_item(rng, "module-import")
        self.module_compiled = _fake_item(rng, "module-import-compiled")
        self.mirrors = _fake_item(rng, "mirrors")
        self.ca_mirrors = _fake_item(rng, "content-addressed-mirrors")
        self.git_download = _fake_item(rng, "git-download")
        self.patches = [_fake_item(rng, f"fix-{i}.patch") for i in range(40)]

    def add(
        self,
        name: str,
        output_names: tuple[str, ...],
        inputs: dict[str, set[str]],
        srcs: set[str],
        builder: str,
        args: tuple[str, ...],
        env: dict[str, str],
        fixed: tuple[str, str] | None = None,
    ) -> str:
        """Add a derivation; ``fixed`` is ``(hash_algo, hex)`` for a FOD. Returns its path."""
        input_drvs = tuple(sorted((p, tuple(sorted(outs))) for p, outs in inputs.items()))
        if fixed is not None:
            algo, digest = fixed
            recursive = algo.startswith("r:")
            out_path = fixed_output_path(
                name, algo.removeprefix("r:"), bytes.fromhex(digest), recursive, STORE
            )
            outputs = (Output("out", out_path, algo, digest),)
            env["out"] = out_path
        else:
            blank = Derivation(
                name,
                tuple(Output(o, "") for o in output_names),
                input_drvs,
                tuple(sorted(srcs)),
                _SYSTEM,
                builder,
                args,
                tuple(sorted({**env, **dict.fromkeys(output_names, "")}.items())),
            )
            paths = self.hasher.output_paths(masked(blank), STORE)
            outputs = tuple(Output(o, paths[o]) for o in output_names)
            env.update(paths)
        drv = Derivation(
            name,
            outputs,
            input_drvs,
            tuple(sorted(srcs)),
            _SYSTEM,
            builder,
            args,
            tuple(sorted(env.items())),
        )
        path = text_path(name + ".drv", serialize_derivation(drv).encode(), drv.references, STORE)
        self.drvs[path] = drv
        self.paths.append(path)
        return path

    def guile_args(self, script: str) -> tuple[str, ...]:
        return ("--no-auto-compile", "-L", self.module_import, "-C", self.module_compiled, script)


def _layer_sizes(total: int, layers: int) -> list[int]:
    weights = [0.0] + [1.18**k for k in range(1, layers)]
    scale = sum(weights)
    sizes = [max(1, int(total * w / scale)) if w else 0 for w in weights]
    sizes[-1] += total - sum(sizes)
    return sizes


def write_synthetic_closure(n: int, directory: str | Path, seed: int = 0) -> str:
    """Write ``n`` distro-shaped ``.drv`` files into ``directory``; return the root's path.

    ``directory`` is created if needed and becomes a flat store copy (logical
    store dir :data:`STORE`). ``n`` must be at least 100.
    """
    if n < 100:
        raise ValueError("a synthetic closure needs at least 100 derivations")
    rng = random.Random(seed * 1_000_003 + n)
    b = _Builder(rng)
    out_dir = Path(directory)
    out_dir.mkdir(parents=True, exist_ok=True)

    n_fod = round(n * 0.15)
    n_regular = n - n_fod - 1 - len(_BOOTSTRAP)
    # Regular nodes: (path, outputs); built layer by layer, inputs before users.
    outputs_of: dict[str, tuple[str, ...]] = {}
    popularity: list[float] = []
    members: list[list[str]] = []
    has_user: set[str] = set()
    # FOD sources are attached to regular nodes; create them lazily per consumer.
    fods_left = n_fod

    def download(name: str, env: dict[str, str], hash_: tuple[str, str]) -> str:
        # A builtin:download FOD: no input derivations, the two mirror lists as sources.
        return b.add(
            name, ("out",), {}, {b.mirrors, b.ca_mirrors}, "builtin:download", (), env, hash_
        )

    def fod_for(consumer: str) -> str:
        kind = rng.random()
        algo = "sha256"
        r = rng.random()
        if r < 0.02:
            algo = "sha512"
        elif r < 0.03:
            algo = "sha1"
        size = {"sha256": 32, "sha512": 64, "sha1": 20}[algo]
        digest = rng.getrandbits(8 * size).to_bytes(size, "little").hex()
        version = consumer.rsplit("-", 1)[-1]
        if kind < 0.55:
            name = consumer + rng.choice(_EXTS)
            url = f"mirror://gnu/{consumer.rsplit('-', 1)[0]}/{name}"
            if rng.random() < 0.3:
                url_value = f'("{url}" "https://example.org/dist/{name}")'
            else:
                url_value = f'"{url}"'
            env = {
                "content-addressed-mirrors": b.ca_mirrors,
                "impureEnvVars": _IMPURE,
                "mirrors": b.mirrors,
                "preferLocalBuild": "1",
                "url": url_value,
            }
            return download(name, env, (algo, digest))
        if kind < 0.85:
            name = consumer + "-checkout"
            base = consumer.rsplit("-", 1)[0]
            env = {
                "git commit": f"v{version}",
                "git recursive?": rng.choice(("#f", "#t")),
                "git url": f"https://git.example.org/{base}.git",
                "impureEnvVars": _IMPURE,
                "preferLocalBuild": "1",
            }
            inputs = {boot["git-minimal-2.26.0"]: {"out"}, boot["guile-2.2.6"]: {"out"}}
            return b.add(
                name,
                ("out",),
                inputs,
                {b.git_download},
                b.guile_bin,
                b.guile_args(b.git_download),
                env,
                ("r:sha256", digest[:64].ljust(64, "0")),
            )
        name = consumer.rsplit("-", 1)[0] + "-installer"
        env = {
            "impureEnvVars": _IMPURE,
            "preferLocalBuild": "1",
            "url": f'"https://example.org/{name}"',
            "executable": "1",
        }
        return download(name, env, ("r:sha256", digest[:64].ljust(64, "0")))

    # --- bootstrap chain: a line, so the graph is deep.
    boot: dict[str, str] = {}
    chain: list[str] = []
    for name in _BOOTSTRAP:
        inputs = {p: {"out"} for p in chain[-2:]}
        builder = "/gnu/store/" + "0" * 32 + "-bootstrap/bin/sh" if not chain else b.guile_bin
        args = ("-e", "build.sh") if not chain else b.guile_args(_fake_item(rng, name + "-builder"))
        outs = _BOOT_OUTPUTS.get(name, ("out",))
        path = b.add(name, outs, inputs, set(), builder, args, {"system": _SYSTEM})
        boot[name] = path
        chain.append(path)
        outputs_of[path] = outs
        has_user.update(inputs)
    members.append(list(chain))
    popularity.extend([1.0] * len(chain))
    all_regular = list(chain)
    index_of = {path: i for i, path in enumerate(all_regular)}
    implicit = {boot[x]: _IMPLICIT_OUTPUTS.get(x, {"out"}) for x in _IMPLICIT}

    for size in _layer_sizes(n_regular, 24)[1:]:
        lower = list(all_regular)
        cumulative = list(itertools.accumulate(popularity))
        layer: list[str] = []
        for _ in range(size):
            k = len(b.paths)
            name = f"pkg{k}-{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}"
            r = rng.random()
            outs = ("out",) if r >= 0.20 else _MULTI_OUTPUTS[int(r * 25) % len(_MULTI_OUTPUTS)]
            picked = set(
                rng.choices(lower, cum_weights=cumulative, k=1 + int(rng.expovariate(1 / 4)))
            )
            if members[-1]:
                picked.add(rng.choice(members[-1]))
            inputs: dict[str, set[str]] = {p: set(o) for p, o in implicit.items()}
            for dep in picked - implicit.keys():
                dep_outs = outputs_of[dep]
                if len(dep_outs) > 1 and rng.random() < 0.6:
                    inputs[dep] = set(rng.sample(dep_outs, rng.randint(1, 2)))
                else:
                    inputs[dep] = {"out"}
            if fods_left > 0 and rng.random() < 0.2:
                for _ in range(1 if rng.random() < 0.8 else 2):
                    if fods_left > 0:
                        src = fod_for(name)
                        fods_left -= 1
                        inputs[src] = {"out"}
                        has_user.add(src)
            script = _fake_item(rng, name + "-builder")
            srcs = {script, b.module_import}
            if rng.random() < 0.08:
                srcs.update(rng.sample(b.patches, rng.randint(1, 3)))
            env = {"GUILE_LOAD_COMPILED_PATH": b.module_compiled}
            r = rng.random()
            if r < 0.15:
                env["phases"] = _script(rng, rng.randint(1000, 4000))
            elif r < 0.155:
                env["install-phase"] = _script(rng, rng.randint(20000, 50000))
            elif r < 0.60:
                env["configure-flags"] = _script(rng, rng.randint(100, 600))
            if rng.random() < 0.05:
                env["guix properties"] = "((type . graft) (graft (count . 2)))"
            path = b.add(name, outs, inputs, srcs, b.guile_bin, b.guile_args(script), env)
            outputs_of[path] = outs
            layer.append(path)
            has_user.update(inputs)
        members.append(layer)
        all_regular.extend(layer)
        popularity.extend(21.0 if rng.random() < 0.01 else 1.0 for _ in layer)
        for path in layer:
            for dep in b.drvs[path].input_drv_paths:
                position = index_of.get(dep)
                if position is not None:
                    popularity[position] += 0.5
        base = len(all_regular) - len(layer)
        index_of.update((path, base + i) for i, path in enumerate(layer))

    # Any FOD budget left goes to sources of random regular nodes' siblings:
    # free-standing sources that only the root depends on (like `guix build -S`).
    while fods_left > 0:
        fod_for(rng.choice(all_regular[len(_BOOTSTRAP) :]).rsplit("/", 1)[1][33:-4])
        fods_left -= 1

    tops = [p for p in b.paths if p not in has_user]
    root = b.add(
        "profile",
        ("out",),
        {p: {"out"} for p in tops},
        {_fake_item(rng, "profile-builder")},
        b.guile_bin,
        b.guile_args(_fake_item(rng, "profile-builder")),
        {"preferLocalBuild": "1", "allowSubstitutes": "0"},
    )
    for path in b.paths:
        (out_dir / path.rsplit("/", 1)[1]).write_text(
            serialize_derivation(b.drvs[path]), encoding="utf-8"
        )
    return root


def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int)
    parser.add_argument("directory")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(write_synthetic_closure(args.n, args.directory, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
