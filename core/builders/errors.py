"""The one error a builder raises: a failure with its reason class."""

from __future__ import annotations

from revive.core.errors import ReviveError
from revive.core.stores.api import BuildFailed, FailureReason

__all__ = ["FetchError", "DEBIAN_PACKAGES"]

DEBIAN_PACKAGES: dict[str, str] = {
    "git": "git",
    "svn": "subversion",
    "hg": "mercurial",
    "brz": "brz",
    "cvs": "cvs",
}
"""Which Debian package provides each fetch program."""


class FetchError(ReviveError):
    """A fetch that failed; ``reason`` classifies it, ``str()`` is one line."""

    def __init__(
        self,
        reason: FailureReason,
        detail: str,
        *,
        expected_hash: str | None = None,
        actual_hash: str | None = None,
        kept_at: str | None = None,
    ) -> None:
        self.reason = reason
        """The class of failure."""
        self.detail = detail
        """What happened, one line."""
        self.expected_hash = expected_hash
        """Hash mismatch: expected hash (nix-base32)."""
        self.actual_hash = actual_hash
        """Hash mismatch: actual hash (nix-base32)."""
        self.kept_at = kept_at
        """Hash mismatch: where the fetched data was kept."""
        super().__init__(detail)

    def failed_event(self, drv_path: str) -> BuildFailed:
        """This failure as the event that ends the build of ``drv_path``."""
        return BuildFailed(
            drv_path,
            self.reason,
            self.detail,
            expected_hash=self.expected_hash,
            actual_hash=self.actual_hash,
            kept_at=self.kept_at,
        )

    def __reduce__(self) -> tuple[object, ...]:
        return (
            _rebuild,
            (self.reason, self.detail, self.expected_hash, self.actual_hash, self.kept_at),
        )


def _rebuild(
    reason: FailureReason,
    detail: str,
    expected_hash: str | None,
    actual_hash: str | None,
    kept_at: str | None,
) -> FetchError:
    return FetchError(
        reason, detail, expected_hash=expected_hash, actual_hash=actual_hash, kept_at=kept_at
    )
