"""Fixtures for the derivation diff tests: corpus lookups and the doc's §2.9 examples."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from revive.core.aterm import parse_derivation, read_derivation
from revive.core.derivation import Derivation

# guix-derivations.md §2.9 (a): the hello-2.12.1 source as a builtin:download FOD.
DOC_FOD = (
    'Derive([("out","/gnu/store/3dq55rw99wdc4g4wblz7xikc8a2jy7a3-hello-2.12.1.tar.gz","sha256",'
    '"8d99142afd92576f30b0cd7cb42a8dc6809998bc5d607d88761f512e26c7db20")],[],'
    '["/gnu/store/0mxnx8l4fgigvd7gakwdk6hc6im4wnai-disarchive-mirrors",'
    '"/gnu/store/hdprrnsaa40vl1k63hnq7l1f012jzq2y-mirrors",'
    '"/gnu/store/lv7dc09895a2d7cn0m6ysrdlgkhx5ld8-content-addressed-mirrors"],'
    '"x86_64-linux","builtin:download",[],'
    '[("content-addressed-mirrors","/gnu/store/lv7dc09895a2d7cn0m6ysrdlgkhx5ld8-content-addressed-mirrors"),'
    '("disarchive-mirrors","/gnu/store/0mxnx8l4fgigvd7gakwdk6hc6im4wnai-disarchive-mirrors"),'
    '("impureEnvVars","http_proxy https_proxy LC_ALL LC_MESSAGES LANG COLUMNS"),'
    '("mirrors","/gnu/store/hdprrnsaa40vl1k63hnq7l1f012jzq2y-mirrors"),'
    '("out","/gnu/store/3dq55rw99wdc4g4wblz7xikc8a2jy7a3-hello-2.12.1.tar.gz"),'
    '("preferLocalBuild","1"),("url","\\"mirror://gnu/hello/hello-2.12.1.tar.gz\\"")])'
)
DOC_FOD_PATH = "/gnu/store/j28gm48klq29zcfnkmp0qqhwnlrvkp4s-hello-2.12.1.tar.gz.drv"
DOC_FOD_FTP_PATH = "/gnu/store/ks9cx0xi8hz6d0b4d4h1kzvgss886vql-hello-2.12.1.tar.gz.drv"
DOC_FTP_URL = '"https://ftp.gnu.org/gnu/hello/hello-2.12.1.tar.gz"'

# §2.9 (b): a two-output derivation using (a), with a value full of escapes.
DOC_CONSUMER = (
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
DOC_CONSUMER_PATH = "/gnu/store/b6wb7ja4qkwz8v7xsqm5jgixw937yr3w-consumer.drv"
DOC_CONSUMER_FTP_PATH = "/gnu/store/401wcgpqdpwvh5iq17h1by5169xs33n6-consumer.drv"

Lookup = Callable[[str], Derivation | None]


@pytest.fixture(scope="session")
def corpus_lookup(guix2020_store: Path) -> Lookup:
    """Reads a corpus ``.drv`` by its store path; ``None`` when it is not in the corpus."""

    def lookup(path: str) -> Derivation | None:
        file = guix2020_store / Path(path).name
        return read_derivation(str(file), path) if file.is_file() else None

    return lookup


@pytest.fixture(scope="session")
def corpus_drv(corpus_lookup: Lookup) -> Callable[[str], tuple[str, Derivation]]:
    """``(store path, derivation)`` of a corpus file, given its base name."""

    def get(base: str) -> tuple[str, Derivation]:
        path = f"/gnu/store/{base}"
        drv = corpus_lookup(path)
        assert drv is not None, f"{base} is not in the corpus"
        return path, drv

    return get


@pytest.fixture(scope="session")
def doc_examples() -> dict[str, tuple[str, Derivation]]:
    """The §2.9 FOD and consumer, and their variants with the ``ftp.gnu.org`` URL.

    Keys: ``fod``, ``fod_ftp``, ``consumer``, ``consumer_ftp``; values are
    ``(store path given by the doc, derivation)``.
    """
    fod = parse_derivation(DOC_FOD, DOC_FOD_PATH)
    env = tuple((k, DOC_FTP_URL if k == "url" else v) for k, v in fod.env)
    fod_ftp = fod.evolve(env=env)
    consumer = parse_derivation(DOC_CONSUMER, DOC_CONSUMER_PATH)
    consumer_ftp = consumer.evolve(input_drvs=((DOC_FOD_FTP_PATH, ("out",)),))
    return {
        "fod": (DOC_FOD_PATH, fod),
        "fod_ftp": (DOC_FOD_FTP_PATH, fod_ftp),
        "consumer": (DOC_CONSUMER_PATH, consumer),
        "consumer_ftp": (DOC_CONSUMER_FTP_PATH, consumer_ftp),
    }


@pytest.fixture(scope="session")
def doc_lookup(doc_examples: dict[str, tuple[str, Derivation]]) -> Lookup:
    """Looks up the §2.9 derivations by path (anything else is missing)."""
    table = dict(doc_examples.values())
    return table.get
