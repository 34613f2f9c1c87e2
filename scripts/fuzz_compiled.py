"""Differential fuzzing of the compiled .drv reader under AddressSanitizer and UBSan.

Run by ``scripts/fuzz_compiled.sh``, which builds ``core/_drv_*.c`` with
the sanitizers into a temporary directory and starts this script with the
sanitizer runtimes preloaded; any out-of-bounds access, use after free or
undefined behaviour aborts the run. On top of that, every mutated input the
reader accepts is compared with the careful parser's value.

Usage: ``scripts/fuzz_compiled.sh [ITERATIONS] [SEED]`` (default 50,000, 1).
"""

from __future__ import annotations

import hashlib
import importlib.util
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from synth import STORE, write_synthetic_closure  # noqa: E402

from revive.core import aterm, closure, verify  # noqa: E402
from revive.core import derivation as model  # noqa: E402
from revive.core.closure import load_closure  # noqa: E402
from revive.core.errors import DerivationError  # noqa: E402
from revive.core.store_dir import StoreDir  # noqa: E402

ALPHABET = b'"\\,()[]nrtx\x00\xff\xc3\xa9 '


def load_sanitized(directory: str):  # type: ignore[no-untyped-def]
    """The sanitized build of the compiled module, from ``directory``."""
    path = next(Path(directory).glob("_drv_scan*.so"))
    spec = importlib.util.spec_from_file_location("_drv_scan", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def careful(data: bytes) -> object:
    try:
        drv = aterm._parse_careful(data.decode(), "<fuzz>", "x")
    except (DerivationError, UnicodeDecodeError):
        return None
    return drv.fields()


def mutate(data: bytes, rng: random.Random) -> bytes:
    buffer = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(buffer) + 1)
        byte = ALPHABET[rng.randrange(len(ALPHABET))]
        action = rng.randrange(4)
        if action == 0:
            buffer.insert(at, byte)
        elif action == 1 and at < len(buffer):
            del buffer[at]
        elif action == 2 and at < len(buffer):
            buffer[at] = byte
        else:
            del buffer[at:]
    return bytes(buffer)


def fuzz_walk(module, root: str, store: StoreDir, rng: random.Random, iterations: int) -> int:  # type: ignore[no-untyped-def]
    """The compiled walk of ``verify`` over a closure whose loaded bytes are mutated.

    Bytes that are not a node's own must give the report the Python walk
    gives from the nodes; the walk (``verify_closure``) also meets bytes
    that are no term at all, and bytes of other nodes.
    """
    verify._verify_closure = module.verify_closure
    verify._verify_paths = module.verify_paths
    closure._load_queue = module.load_queue
    texts: dict[str, bytes] = {}
    graph = load_closure([root], store, texts=texts)
    reference = verify.verify_graph(graph)
    rounds = max(1, iterations // 2000)
    paths = sorted(texts)
    for _ in range(rounds):
        changed = dict(texts)
        for path in rng.sample(paths, rng.randint(1, 8)):
            changed[path] = (
                mutate(texts[path], rng) if rng.randrange(3) else texts[rng.choice(paths)]
            )
        if verify.verify_graph(graph, store=store, texts=changed) != reference:
            print("the compiled walk reports something else", file=sys.stderr)
            sys.exit(1)
    return rounds


def main() -> int:
    directory = sys.argv[1]
    iterations = int(sys.argv[2]) if len(sys.argv) > 2 else 50_000
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    module = load_sanitized(directory)
    corpus = ROOT.parent / "shared" / "corpus" / "guix-2020" / "store"
    files = sorted(corpus.glob("*.drv"))[:200] if corpus.is_dir() else []
    with tempfile.TemporaryDirectory() as scratch:
        root = write_synthetic_closure(300, Path(scratch) / "closure")
        files += sorted((Path(scratch) / "closure").glob("*.drv"))
        seeds = [file.read_bytes() for file in files]
        store = StoreDir(STORE, Path(scratch) / "closure")
        walked = fuzz_walk(module, root, store, rng, iterations)
    edges: dict[object, object] = {}
    seed_fields = [module.scan_fields(seed) for seed in seeds]
    accepted = 0
    for _ in range(iterations):
        index = rng.randrange(len(seeds))
        data = mutate(seeds[index], rng)
        fields = module.scan_fields(data, edges)
        if fields is not None:
            accepted += 1
            if fields != careful(data):
                print(f"differs from the careful parser: {data!r}", file=sys.stderr)
                return 1
        # The texts verify hashes: only a seed's very bytes are its text.
        replaced = bytes(rng.choice(ALPHABET) for _ in range(rng.randrange(40)))
        texts = module.hash_texts(data, seed_fields[index], replaced)
        if (texts is not None) is (data != seeds[index]):
            print(f"hash_texts accepts other bytes: {data!r}", file=sys.stderr)
            return 1
        if fields is not None:
            module.hash_texts(seeds[index], fields, None)
        # The same through the whole per-node check, with an odd name at times.
        name = rng.choice(["x", "hello-2.10", ".bad", "a b", "é"])
        paths = module.verify_paths(
            data, seed_fields[index], replaced, "text", name, "/gnu/store", hashlib.sha256
        )
        if (paths is not None) and data != seeds[index]:
            print(f"verify_paths accepts other bytes: {data!r}", file=sys.stderr)
            return 1
        module.scan_fields(bytes(rng.randrange(256) for _ in range(rng.randrange(64))))
    slots, out_slots = model._DERIVATION_SLOTS, model._OUTPUT_SLOTS
    for _ in range(iterations // 10):
        fields = list(module.scan_fields(rng.choice(seeds)))
        shape = rng.randrange(4)
        if shape == 0:
            fields = fields[: rng.randrange(8)]
        elif shape == 1:
            fields[0] = tuple(tuple(row[: rng.randrange(5)]) for row in fields[0])
        elif shape == 2:
            fields[0] = [1, 2]
        try:
            module.make_derivation(
                model.Derivation, slots, model.Output, out_slots, "x", tuple(fields)
            )
        except TypeError:
            pass
        try:
            module.hash_texts(rng.choice(seeds), tuple(fields), b"")
        except TypeError:
            pass
    print(
        f"{iterations} mutated inputs ({accepted} accepted, all equal to the careful parser), "
        f"{iterations} random inputs, {iterations // 10} constructions, {iterations} texts cut, "
        f"{walked} closures walked with mutated bytes: no sanitizer report"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
