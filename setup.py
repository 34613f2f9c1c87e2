"""Build script for the one compiled module; everything else is in pyproject.toml.

``revive.core._drv_scan`` reads ``.drv`` terms about four times faster than
the pure-Python scanner it stands in for (``core/drv_scan.py``), and runs the
hot loops of loading and verifying a closure (``core/_drv_*.c``). It is
optional: where no C compiler is available the package installs without it
and uses the pure-Python code.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "revive.core._drv_scan",
            sources=[
                "core/_drv_scan.c",
                "core/_drv_texts.c",
                "core/_drv_verify.c",
                "core/_drv_load.c",
            ],
            depends=["core/_drv_scan.h"],
            # One module from four files: only its PyInit is exported.
            extra_compile_args=["-fvisibility=hidden", "-pthread"],
            extra_link_args=["-pthread"],
            optional=True,
        )
    ]
)
