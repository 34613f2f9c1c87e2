"""Verification: the one-pass flat measure equals the NAR module's answer."""

from __future__ import annotations

import hashlib

import pytest

from revive.core.builders.errors import FetchError
from revive.core.builders.threads import CancelToken
from revive.core.builders.verify import measure, verify_output
from revive.core.stores.api import FailureReason


@pytest.mark.parametrize("size", [0, 1, 7, 8, 14, 1 << 20, (1 << 20) + 3])
@pytest.mark.parametrize("executable", [False, True])
def test_flat_measure_matches_an_independent_nar(tmp_path, nar_of, size, executable):
    f = tmp_path / "f"
    f.write_bytes(bytes(range(256)) * (size // 256) + b"x" * (size % 256))
    f.chmod(0o755 if executable else 0o644)
    digest, nar, nar_size = measure(f, "sha256", recursive=False)
    full = nar_of(f)
    assert digest == hashlib.sha256(f.read_bytes()).digest()
    assert (nar, nar_size) == (hashlib.sha256(full).digest(), len(full))


def test_recursive_sha1_measure(tmp_path, make_tree, nar_of):
    make_tree(tmp_path / "t", {"a": b"a", "b/c*": b"c", "l": "->a"})
    digest, nar, size = measure(tmp_path / "t", "sha1", recursive=True)
    full = nar_of(tmp_path / "t")
    assert digest == hashlib.sha1(full).digest()
    assert (nar, size) == (hashlib.sha256(full).digest(), len(full))


def test_flat_hash_needs_a_plain_file(tmp_path, expected_for):
    f = tmp_path / "f"
    f.write_bytes(b"data")
    expected = expected_for("f", data=b"data")
    f.chmod(0o755)
    with pytest.raises(FetchError) as info:
        verify_output(f, expected)
    assert info.value.reason is FailureReason.HASH_MISMATCH
    assert str(info.value).endswith("a flat hash needs a non-executable regular file")


def test_cancelled_measure(tmp_path):
    f = tmp_path / "f"
    f.write_bytes(b"x" * 10)
    cancel = CancelToken()
    cancel.set()
    with pytest.raises(FetchError) as info:
        measure(f, "sha256", recursive=False, cancel=cancel)
    assert info.value.reason is FailureReason.CANCELLED
