"""The derivation model: what a ``.drv`` file says, as immutable values.

A derivation is the ``Derive(...)`` term of a ``.drv`` file plus its name
(which comes from the file name, not from the term). Lists keep the order of
the file, which for files written by Guix or the daemon is the canonical
sorted order (``guix-derivations.md`` §2.3).

Input derivations are plain ``(drv_path, output_names)`` tuples rather than
objects: a 50,000-node closure has about a million of them, and a tuple is
several times cheaper to build than a frozen dataclass.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from itertools import starmap
from operator import attrgetter
from typing import Final, TypeAlias

from revive.core import compiled
from revive.core.store_path import name_part

__all__ = ["Output", "InputDrv", "Fields", "Derivation", "COMPILED_CLASSES"]

InputDrv: TypeAlias = tuple[str, tuple[str, ...]]
"""One input derivation: its ``.drv`` path and the output names used."""

Fields: TypeAlias = tuple[
    tuple[tuple[str, str, str, str], ...],
    tuple[InputDrv, ...],
    tuple[str, ...],
    str,
    str,
    tuple[str, ...],
    tuple[tuple[str, str], ...],
]
"""A derivation's term as plain tuples: outputs as ``(name, path, hash_algo, hash)``,
then input derivations, sources, system, builder, arguments and environment (what
the scanners of :mod:`revive.core.drv_scan` return and ``marshal`` can carry)."""


@dataclass(frozen=True, slots=True)
class Output:
    """One output tuple ``(name, path, hashAlgo, hash)`` of a derivation."""

    name: str
    """Output name: ``out``, ``doc``, ``lib``…"""
    path: str
    """Output store path (empty in a masked derivation)."""
    hash_algo: str = ""
    """Algorithm field as written, including any ``r:`` prefix; empty if not fixed."""
    hash: str = ""
    """Expected digest in lowercase base16; empty if not fixed."""

    @property
    def is_fixed(self) -> bool:
        """True if this output carries an expected hash."""
        return bool(self.hash)

    @property
    def recursive(self) -> bool:
        """True for a recursive (NAR) hash, i.e. ``hash_algo`` starts with ``r:``."""
        return self.hash_algo.startswith("r:")

    @property
    def algorithm(self) -> str:
        """The algorithm name without the ``r:`` prefix (``sha256``)."""
        return self.hash_algo[2:] if self.hash_algo.startswith("r:") else self.hash_algo


@dataclass(frozen=True, slots=True)
class Derivation:
    """A parsed ``.drv`` file."""

    name: str
    """Derivation name: the ``.drv`` store name without ``.drv``."""
    outputs: tuple[Output, ...]
    """Outputs, sorted by name in canonical files."""
    input_drvs: tuple[InputDrv, ...]
    """Input derivations with the output names each one provides."""
    input_srcs: tuple[str, ...]
    """Input sources: store items that are not derivation outputs."""
    system: str
    """Platform, e.g. ``x86_64-linux``."""
    builder: str
    """Program to run, or ``builtin:<name>``."""
    args: tuple[str, ...] = ()
    """Builder arguments, in order."""
    env: tuple[tuple[str, str], ...] = ()
    """Environment variables ``(name, value)``, sorted by name in canonical files."""
    _env_index: dict[str, str] | None = field(
        default=None, init=False, repr=False, compare=False, hash=False
    )

    # --- outputs -----------------------------------------------------------

    @property
    def is_fixed_output(self) -> bool:
        """True for a FOD: exactly one output, named ``out``, with a hash."""
        outs = self.outputs
        return len(outs) == 1 and outs[0].name == "out" and outs[0].hash != ""

    @property
    def fixed_output(self) -> Output | None:
        """The ``out`` output of a FOD, else ``None``."""
        return self.outputs[0] if self.is_fixed_output else None

    @property
    def output_names(self) -> tuple[str, ...]:
        """Names of the outputs, in file order."""
        return tuple(o.name for o in self.outputs)

    def output(self, name: str) -> Output | None:
        """The output called ``name``, or ``None``."""
        for out in self.outputs:
            if out.name == name:
                return out
        return None

    def output_path(self, name: str = "out") -> str | None:
        """Store path of output ``name``, or ``None``."""
        out = self.output(name)
        return out.path if out is not None else None

    # --- environment ---------------------------------------------------------

    def getenv(self, name: str, default: str | None = None) -> str | None:
        """Value of environment variable ``name``, or ``default``."""
        index = self._env_index
        if index is None:
            index = dict(self.env)
            object.__setattr__(self, "_env_index", index)
        return index.get(name, default)

    def has_env(self, name: str) -> bool:
        """True if the environment defines ``name``."""
        return self.getenv(name) is not None

    # --- inputs --------------------------------------------------------------

    @property
    def input_drv_paths(self) -> tuple[str, ...]:
        """The ``.drv`` paths of the input derivations."""
        return tuple(path for path, _ in self.input_drvs)

    @property
    def references(self) -> frozenset[str]:
        """Store references of the ``.drv`` file itself: input sources and input ``.drv``s."""
        return frozenset(self.input_srcs).union(path for path, _ in self.input_drvs)

    def iter_strings(self) -> Iterator[str]:
        """Every string of the term, in file order (for searching)."""
        for out in self.outputs:
            yield from (out.name, out.path, out.hash_algo, out.hash)
        for path, outs in self.input_drvs:
            yield path
            yield from outs
        yield from self.input_srcs
        yield self.system
        yield self.builder
        yield from self.args
        for key, value in self.env:
            yield key
            yield value

    def fields(self) -> Fields:
        """The term as plain tuples: the inverse of :meth:`from_fields`."""
        return (
            tuple(map(_OUTPUT_FIELDS, self.outputs)),
            self.input_drvs,
            self.input_srcs,
            self.system,
            self.builder,
            self.args,
            self.env,
        )

    @staticmethod
    def from_each(names: tuple[str, ...], fields: tuple[Fields, ...]) -> list[Derivation]:
        """``[Derivation.from_fields(n, f) for n, f in zip(names, fields)]``, in one call."""
        if _make_each is not None:
            return _make_each(  # type: ignore[no-any-return]
                Derivation, _DERIVATION_SLOTS, Output, _OUTPUT_SLOTS, names, fields
            )
        return list(map(Derivation.from_fields, names, fields))

    @classmethod
    def from_fields(cls, name: str, fields: Fields) -> Derivation:
        """The derivation called ``name`` whose term is ``fields``.

        Equal to ``Derivation(name, tuple(Output(*o) for o in outputs), …)``,
        at a fraction of the cost: a frozen dataclass's ``__init__`` sets
        every field through ``object.__setattr__``, and loading a closure
        builds 50,000 derivations, so this sets the slots directly, in C
        when :mod:`revive.core.compiled` is available.
        """
        if _make is not None and cls is Derivation:
            return _make(Derivation, _DERIVATION_SLOTS, Output, _OUTPUT_SLOTS, name, fields)  # type: ignore[no-any-return]
        outputs, input_drvs, srcs, system, builder, args, env = fields
        drv = _new(cls)
        _set_name(drv, name)
        _set_outputs(drv, tuple(starmap(_output, outputs)))
        _set_input_drvs(drv, input_drvs)
        _set_input_srcs(drv, srcs)
        _set_system(drv, system)
        _set_builder(drv, builder)
        _set_args(drv, args)
        _set_env(drv, env)
        _set_env_index(drv, None)
        return drv

    def evolve(self, **changes: object) -> Derivation:
        """A copy with some fields replaced (``dataclasses.replace``)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @staticmethod
    def name_from_path(drv_path: str) -> str:
        """Derivation name of a ``.drv`` store path (store name minus ``.drv``)."""
        name = name_part(drv_path)
        return name[:-4] if name.endswith(".drv") else name

    def __getstate__(self) -> tuple[object, ...]:
        return _STATE_OF(self)

    def __setstate__(self, state: tuple[object, ...]) -> None:
        for slot, value in zip(_FIELDS, state, strict=True):
            object.__setattr__(self, slot, value)
        object.__setattr__(self, "_env_index", None)


_FIELDS = ("name", "outputs", "input_drvs", "input_srcs", "system", "builder", "args", "env")
# What pickling keeps (the environment index is rebuilt on demand).
_STATE_OF: Final = attrgetter(*_FIELDS)

_new = object.__new__
_OUTPUT_FIELDS: Final = attrgetter("name", "path", "hash_algo", "hash")
# Slot descriptors, in the order from_fields (and the compiled module) sets them.
_DERIVATION_SLOTS: Final = tuple(getattr(Derivation, slot) for slot in (*_FIELDS, "_env_index"))
_OUTPUT_SLOTS: Final = tuple(
    getattr(Output, slot) for slot in ("name", "path", "hash_algo", "hash")
)
COMPILED_CLASSES: Final = (Derivation, _DERIVATION_SLOTS, Output, _OUTPUT_SLOTS)
"""What the compiled module's builders take to make :class:`Derivation` objects."""
_make = None if compiled.MODULE is None else compiled.MODULE.make_derivation
_make_each = None if compiled.MODULE is None else compiled.MODULE.make_derivations
(
    _set_name,
    _set_outputs,
    _set_input_drvs,
    _set_input_srcs,
    _set_system,
    _set_builder,
    _set_args,
    _set_env,
    _set_env_index,
) = (slot.__set__ for slot in _DERIVATION_SLOTS)
_set_output_fields = tuple(slot.__set__ for slot in _OUTPUT_SLOTS)


def _output(name: str, path: str, hash_algo: str, hash: str) -> Output:
    """``Output(name, path, hash_algo, hash)`` without the frozen ``__init__``."""
    out = _new(Output)
    set_name, set_path, set_algo, set_hash = _set_output_fields
    set_name(out, name)
    set_path(out, path)
    set_algo(out, hash_algo)
    set_hash(out, hash)
    return out
