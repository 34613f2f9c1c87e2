"""Text store items: files whose store path is a hash of their exact bytes.

Mirror lists, builder scripts and ``.drv`` files are text items
(``guix-derivations.md`` §1.8); a rewrite that uses new ones must add them
to the store before the derivations that name them.
"""

from __future__ import annotations

from dataclasses import dataclass

from revive.core.store_path import DEFAULT_STORE_DIR, text_path

__all__ = ["TextItem"]


@dataclass(frozen=True, slots=True)
class TextItem:
    """A text item to add to a store: its name, exact bytes and store path."""

    name: str
    """Store name (``mirrors``, ``content-addressed-mirrors``…)."""
    contents: bytes
    """The exact bytes of the file."""
    path: str
    """Its store path, ``text_path(name, contents, references)``."""
    references: tuple[str, ...] = ()
    """Store paths it refers to (none for mirror lists)."""

    @classmethod
    def make(
        cls,
        name: str,
        contents: bytes,
        store_dir: str = DEFAULT_STORE_DIR,
        references: tuple[str, ...] = (),
    ) -> TextItem:
        """The text item ``name`` with ``contents``, its path computed in ``store_dir``."""
        refs = tuple(sorted(set(references), key=str.encode))
        return cls(name, contents, text_path(name, contents, refs, store_dir), refs)
