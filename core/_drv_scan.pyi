"""Type stub of the compiled .drv reader (``core/_drv_scan.c``)."""

from revive.core.derivation import Fields, InputDrv

def scan_fields(data: bytes, edges: dict[object, InputDrv] | None = None, /) -> Fields | None:
    """The fields of the term in ``data``, or ``None`` if it is not a valid term.

    Equal input edges of the terms read with the same ``edges`` are one tuple.
    """
