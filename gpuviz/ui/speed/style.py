"""How each implementation looks in the speed panel: a colour, a marker symbol and a dash style, and its name.

Colour alone must never be the only cue (a colour-blind student must be able
to tell NumPy from Numba), so every implementation also has its own marker
symbol and its own line dash, and the legend and the table name it in words.
"""

from __future__ import annotations

from dataclasses import dataclass

from PyQt6.QtCore import Qt

from ...model.speed import GPU_IMPLS, IMPL_LABELS, OP_LABELS, SIZE_LABELS
from ...model.speed_panel import SIMULATOR_NOTE, SIZE_SHORT, impl_name  # the model's words
from ...model.text import format_duration, format_ratio
from ..style import mix
from ..theme import OKABE_ITO, Theme, readable_colour


def readable(colour, background, toward) -> tuple[int, int, int]:
    """``colour`` for text on ``background``, mixed towards ``toward`` (the theme's foreground) only as far as
    WCAG AA needs (:func:`gpuviz.ui.theme.readable_colour`)."""
    return readable_colour(colour, background, toward)


#: What the panel calls each implementation: the model's names.
IMPL_NAMES = IMPL_LABELS


OP_NAMES = OP_LABELS
#: What "size" means for each operation (axis labels, table header).
SIZE_NAMES = SIZE_LABELS


@dataclass(frozen=True)
class ImplStyle:
    """The look of one implementation.

    Parameters
    ----------
    colour : str
        An Okabe–Ito colour name, or ``"foreground"`` for the theme's text colour.
    symbol : str
        A pyqtgraph marker symbol.
    dash : Qt.PenStyle
        The line's dash pattern.
    """

    colour: str
    symbol: str
    dash: Qt.PenStyle

    def rgb(self, theme: Theme) -> tuple[int, int, int]:
        if self.colour == "foreground":
            return tuple(theme.foreground)
        rgb = OKABE_ITO[self.colour]
        if self.colour == "yellow" and not theme.dark:
            # Okabe–Ito yellow on white is too faint for a line: darken it (it keeps its hue and its symbol)
            return mix(rgb, (0, 0, 0), 0.75)
        if self.colour == "blue" and theme.dark:
            return mix(rgb, (255, 255, 255), 0.6)
        return rgb


_S, _DASH, _DOT, _DASHDOT, _DASHDOTDOT = (Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine,
                                         Qt.PenStyle.DashDotLine, Qt.PenStyle.DashDotDotLine)
STYLES = {
    "python": ImplStyle("vermillion", "o", _S),
    "numpy": ImplStyle("blue", "s", _S),
    "numba": ImplStyle("bluish_green", "t", _DASH),
    "numba-fastmath": ImplStyle("orange", "d", _DASHDOT),
    "numba-parallel": ImplStyle("reddish_purple", "t1", _DOT),
    "gpu-naive": ImplStyle("sky_blue", "h", _DASH),
    "gpu-tiled": ImplStyle("yellow", "star", _DASHDOTDOT),
    "cublas": ImplStyle("foreground", "p", _S),
    "simulator": ImplStyle("foreground", "x", _DOT),
}
_FALLBACK = ImplStyle("foreground", "+", _DASH)


def style_of(impl: str) -> ImplStyle:
    return STYLES.get(impl, _FALLBACK)


#: Times and ratios as the model and ``gpuviz bench`` write them (41 s, 12 ms, 87.5 µs; 412×, 3.2×):
#: gpuviz.model.text's one formatter each, under the names the speed views use.
format_seconds = format_duration


__all__ = ["GPU_IMPLS", "IMPL_NAMES", "OP_NAMES", "SIMULATOR_NOTE", "SIZE_NAMES", "SIZE_SHORT", "STYLES", "ImplStyle",
           "format_ratio", "format_seconds", "impl_name", "style_of"]
