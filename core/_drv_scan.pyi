"""Type stub of the compiled .drv reader (``core/_drv_scan.c``)."""

from revive.core.drv_scan import Fields

def scan_fields(data: bytes, /) -> Fields | None:
    """The fields of the term in ``data``, or ``None`` if it is not a valid term."""
