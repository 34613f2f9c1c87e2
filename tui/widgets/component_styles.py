"""Component styles kept once computed, for the widgets that paint line by line."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.style import Style

if TYPE_CHECKING:
    from textual.widget import Widget

    _Base = Widget
else:
    _Base = object

__all__ = ["ComponentStyles"]


class ComponentStyles(_Base):
    """Mixin for a widget that asks for component styles (``<widget>--<part>``) per line.

    Computing one walks the DOM and the stylesheet; painting a screenful asks
    for the same few hundreds of times. Each is computed once and kept until
    the theme or the styles change (``notify_style_update``).
    """

    _style_cache: dict[str, Style] | None = None

    def notify_style_update(self) -> None:
        """Forget the kept styles (the theme or the styles changed)."""
        self._style_cache = None
        super().notify_style_update()

    def _style(self, name: str) -> Style:
        cache = self._style_cache
        if cache is None:
            cache = self._style_cache = {}
        style = cache.get(name)
        if style is None:
            style = cache[name] = self._component_style(name)
        return style

    def _component_style(self, name: str) -> Style:
        """The style of component class ``name``, computed (see :meth:`_style`)."""
        return self.get_component_rich_style(name, partial=True)
