"""What the demo's upstream projects contain: small generated trees and tarballs.

Every demo project stands in for a real one with a few small files, so that
its fixed-output hash is known and the same on every machine. The times of
the demo's upstream history are fixed here too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final
from urllib.parse import urlsplit

from revive.core.demo.archive import FileEntry, Tree, gzip_stored, tar_bytes, xz_uncompressed

__all__ = [
    "T2013",
    "T2015",
    "T2016",
    "T2019",
    "T2020",
    "T2023",
    "project_tree",
    "tarball",
    "url_file",
    "bootstrap_urls",
]

# Fixed times (seconds since the epoch, UTC) of the demo's upstream history.
T2013: Final = 1384041600  # 2013-11-10
T2015: Final = 1433116800  # 2015-06-01
T2016: Final = 1472688000  # 2016-09-01
T2019: Final = 1561939200  # 2019-07-01
T2020: Final = 1577836800  # 2020-01-01
T2023: Final = 1688169600  # 2023-07-01

_BOOTSTRAP_DIR: Final = "gnu/guix/bootstrap/x86_64-linux/20131110"


def project_tree(name: str, version: str, summary: str, extra: Mapping[str, bytes] = {}) -> Tree:
    """The files of a demo project: small, distinct per project, deterministic."""
    readme = (
        f"{name} {version}\n\n{summary}\n\n"
        "This is generated content: the guix-revive demo stands in for the real\n"
        "project with a few small files so that its fixed-output hash is known.\n"
    )
    tree: dict[str, FileEntry] = {
        "README": FileEntry(readme.encode()),
        "configure": FileEntry(
            (
                "#!/bin/sh\n"
                f"# Configure script of the {name} {version} demo stand-in.\n"
                'echo "configuring ' + name + '..."\n'
                "exit 0\n"
            ).encode(),
            executable=True,
        ),
        "Makefile.in": FileEntry(
            f"all:\n\t@echo building {name} {version}\ninstall:\n\tmkdir -p $(prefix)\n".encode()
        ),
    }
    for path, data in extra.items():
        tree[path] = FileEntry(data)
    return tree


def tarball(name: str, tree: Tree, prefix: str, mtime: int) -> bytes:
    """``tree`` as a ``.tar.xz`` or ``.tar.gz``/``.tgz`` archive, by ``name``."""
    data = tar_bytes(tree, mtime, prefix)
    if name.endswith(".tar.xz"):
        return xz_uncompressed(data)
    if name.endswith((".tar.gz", ".tgz")):
        return gzip_stored(data)
    raise ValueError(f"no archive format for {name}")


def url_file(url: str) -> str:
    """Where the content of ``url`` is kept under ``upstream/files/``."""
    if url.startswith("mirror://"):
        return "mirror/" + url[len("mirror://") :]
    parts = urlsplit(url)
    path = parts.netloc + parts.path
    if parts.query:
        path += "%3F" + parts.query
    return path


def bootstrap_urls(file: str) -> list[str]:
    """The URLs a 2020 Guix fetched a bootstrap tarball from, in order."""
    return [
        f"https://ftp.gnu.org/{_BOOTSTRAP_DIR}/{file}",
        f"https://alpha.gnu.org/{_BOOTSTRAP_DIR}/{file}",
        f"http://ftp.gnu.org/{_BOOTSTRAP_DIR}/{file}",
        f"http://alpha.gnu.org/{_BOOTSTRAP_DIR}/{file}",
        f"ftp://alpha.gnu.org/{_BOOTSTRAP_DIR}/{file}",
    ]
