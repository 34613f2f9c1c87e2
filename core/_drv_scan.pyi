"""Type stub of the compiled .drv reader (``core/_drv_scan.c``)."""

from collections.abc import Callable
from typing import Any

from revive.core.derivation import Fields, InputDrv

def scan_fields(data: bytes, edges: dict[object, InputDrv] | None = None, /) -> Fields | None:
    """The fields of the term in ``data``, or ``None`` if it is not a valid term.

    Equal input edges of the terms read with the same ``edges`` are one tuple.
    """

def make_derivation(
    derivation_cls: type,
    derivation_slots: tuple[Any, ...],
    output_cls: type,
    output_slots: tuple[Any, ...],
    name: str,
    fields: Fields,
    /,
) -> Any:
    """A ``derivation_cls`` instance with its slots set from ``name`` and ``fields``."""

def make_derivations(
    derivation_cls: type,
    derivation_slots: tuple[Any, ...],
    output_cls: type,
    output_slots: tuple[Any, ...],
    names: tuple[str, ...],
    fields: tuple[Fields, ...],
    /,
) -> list[Any]:
    """:func:`make_derivation` for each name and fields, as a list."""

def hash_texts(data: bytes, fields: Fields, replaced: bytes | None, /) -> tuple[bytes, ...] | None:
    """``None`` unless ``data`` is the canonical text of ``fields``; else the texts verify hashes.

    With ``replaced`` ``None``: ``()``. Otherwise ``(modulo, masked)``: ``data``
    with its input-derivation list replaced by ``replaced``, and the same with
    the output paths and the output-named environment values left out.
    """

def verify_paths(
    data: bytes,
    fields: Fields,
    replaced: bytes | None,
    kind: str,
    name: str,
    store_dir: str,
    sha256: Callable[[bytes], Any],
    /,
) -> tuple[str, str | None, tuple[str, ...] | None] | None:
    """For the ``.drv`` bytes ``data`` of the derivation ``name`` with ``fields``: its paths.

    ``None`` unless ``data`` is their canonical text (see :func:`hash_texts`)
    and every name is a store name. Otherwise ``(drv_path, modulo_hex,
    output_paths)``, the last two ``None`` when ``replaced`` is.
    """

def path_hash(digest: bytes, /) -> str:
    """A store path's hash part: ``digest`` XOR-folded into 20 bytes, in nix-base32."""

def verify_closure(
    order: tuple[str, ...],
    derivations: dict[str, Any],
    texts: dict[str, bytes],
    memo: dict[str, str | None],
    store_dir: str,
    sha256: Callable[[bytes], Any],
    read: Callable[[str], bytes | None],
    fallback: Callable[[str, Any], None],
    report: Callable[[str, str, str, str, str], None],
    cycle: Callable[[str], None],
    tick: Callable[[int], None],
    /,
) -> tuple[int, int]:
    """Check every node of ``order``, inputs first, as ``verify.verify_graph`` does.

    Derivations whose bytes are at hand and canonical are checked here;
    every other node goes to ``fallback``, which sets its ``memo`` entry.
    Returns the number of nodes checked and of fixed-output derivations
    checked here (not through ``fallback``).
    """

def read_with_state(file: str, /) -> tuple[bytes, tuple[int, int, int, int, int]]:
    """The bytes of ``file`` and, from the open file, what ``os.stat`` says of it.

    The state is ``(st_ino, st_size, st_mtime_ns, st_ctime_ns, st_mode)``.
    """

def load_queue(
    queue: list[str],
    index: int,
    logical: str,
    physical: str,
    edges: dict[object, InputDrv],
    texts: dict[str, bytes] | None,
    states: dict[str, tuple[int, int, int, int, int]] | None,
    derivations: dict[str, Any],
    seen: set[str],
    derivation_cls: type,
    derivation_slots: tuple[Any, ...],
    output_cls: type,
    output_slots: tuple[Any, ...],
    fallback: Callable[[str], None],
    checkpoint: Callable[[int], None],
    every: int,
    /,
) -> int:
    """Load the nodes of ``queue`` from ``index`` on, as the walk of ``closure`` does.

    A second thread reads the files ahead; a path not read and parsed here
    goes to ``fallback``. Returns the index reached, ``len(queue)``.
    """
