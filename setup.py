"""Build script for the one compiled module; everything else is in pyproject.toml.

``revive.core._drv_scan`` reads ``.drv`` terms about four times faster than
the pure-Python scanner it stands in for (``core/drv_scan.py``). It is
optional: where no C compiler is available the package installs without it
and uses the pure-Python scanner.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "revive.core._drv_scan",
            sources=["core/_drv_scan.c"],
            optional=True,
        )
    ]
)
