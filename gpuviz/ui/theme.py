"""Colours, fonts and line widths: light, dark and the projector-friendly lecture theme.

Every colour that carries meaning comes from the Okabe–Ito palette, which
stays distinguishable under the common colour-vision deficiencies, and every
such use has a legend and a second cue (pattern, outline or text) as well.
This module holds data and small helpers only; widgets read a :class:`Theme`
and never hard-code a colour.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

# the rule is pure arithmetic on block indices, so it lives in the model (gpuviz.model.grid_view)
from gpuviz.model.grid_view import block_colour_index  # noqa: F401  (re-exported)

# Okabe & Ito (2008), "Color Universal Design": eight colours safe for all common colour-vision types.
OKABE_ITO = {
    "black": (0, 0, 0),
    "orange": (230, 159, 0),
    "sky_blue": (86, 180, 233),
    "bluish_green": (0, 158, 115),
    "yellow": (240, 228, 66),
    "blue": (0, 114, 178),
    "vermillion": (213, 94, 0),
    "reddish_purple": (204, 121, 167),
}

#: Block colours in order: adjacent blocks in a grid get different ones (see :func:`block_palette`).
BLOCK_COLOURS = ("sky_blue", "orange", "bluish_green", "reddish_purple", "yellow", "blue", "vermillion")


@dataclass(frozen=True)
class Theme:
    """A complete look.

    Parameters
    ----------
    name : str
        ``light``, ``dark`` or ``lecture``.
    background, foreground : tuple of int
        Window and text colours (RGB).
    panel_background : tuple of int
        Background of plots and matrices.
    grid_line : tuple of int
        Block boundaries.
    warp_line : tuple of int
        Warp boundaries (thinner than block boundaries).
    idle : tuple of int
        Idle threads (outside C); drawn with a hatch as a second cue.
    read, write, active, selected : tuple of int
        Elements read and written in the current step, active threads, the
        selected thread.
    font_scale : float
        Multiplies the application's base font size.
    line_scale : float
        Multiplies every pen width (lecture mode draws thicker lines). Pens are cosmetic (their width is
        in device pixels), so an export at device pixel ratio ``d`` passes
        ``replace(theme, line_scale=theme.line_scale * d)`` to keep lines in proportion.
    slide_font_scale : float, optional
        The font scale of the slide look (:func:`slide_look`); lecture mode lowers it on a small screen so
        that text stays 18 px × (screen height ÷ 1080) tall rather than 18 px whatever the screen.
    layout_line_scale : float, optional
        The line scale of sizes measured in layout pixels (a slider's handle, a hatch period), which a
        device pixel ratio already enlarges; default ``line_scale``. Replacing only ``line_scale`` for an
        export keeps it, so the layout at ratio 2 is the layout at ratio 1 (see :meth:`layout_width`).
    """

    name: str
    background: tuple[int, int, int]
    foreground: tuple[int, int, int]
    panel_background: tuple[int, int, int]
    grid_line: tuple[int, int, int]
    warp_line: tuple[int, int, int]
    idle: tuple[int, int, int]
    read: tuple[int, int, int] = OKABE_ITO["vermillion"]
    write: tuple[int, int, int] = OKABE_ITO["blue"]
    active: tuple[int, int, int] = OKABE_ITO["bluish_green"]
    selected: tuple[int, int, int] = OKABE_ITO["black"]
    font_scale: float = 1.0
    line_scale: float = 1.0
    layout_line_scale: float | None = None
    slide_font_scale: float = 1.5

    def __post_init__(self):
        if self.layout_line_scale is None:
            object.__setattr__(self, "layout_line_scale", self.line_scale)

    @property
    def dark(self) -> bool:
        return sum(self.background) < 3 * 128

    @property
    def pixel_ratio(self) -> float:
        """The device pixel ratio this theme's pens were scaled for (1 on screen, 2 in a 4K export)."""
        return self.line_scale / self.layout_line_scale if self.layout_line_scale else 1.0

    def pen_width(self, base: float) -> float:
        """Width in device pixels of a line ``base`` pixels wide at ratio 1: for COSMETIC pens only."""
        return base * self.line_scale

    def layout_width(self, base: float) -> float:
        """A line-like size in layout pixels (style-sheet borders, slider handles, hatch periods).

        The painter's device pixel ratio scales these already, so they follow the theme's own line
        scale and not an export's ratio.
        """
        return base * self.layout_line_scale


LIGHT = Theme("light", background=(250, 250, 250), foreground=(20, 20, 20), panel_background=(255, 255, 255),
              grid_line=(30, 30, 30), warp_line=(90, 90, 90), idle=(200, 200, 200))
DARK = Theme("dark", background=(30, 30, 34), foreground=(235, 235, 235), panel_background=(18, 18, 20),
             grid_line=(235, 235, 235), warp_line=(160, 160, 160), idle=(70, 70, 74),
             selected=(255, 255, 255))
#: Projector theme: pure black on white, bigger text, thicker lines.
LECTURE = replace(LIGHT, name="lecture", background=(255, 255, 255), foreground=(0, 0, 0),
                  grid_line=(0, 0, 0), warp_line=(60, 60, 60), font_scale=1.6, line_scale=2.0,
                  layout_line_scale=2.0)
#: Slides: a white background (slides are light), larger text and thicker lines than the light theme.
SLIDE = replace(LIGHT, name="slide", background=(255, 255, 255), foreground=(0, 0, 0), panel_background=(255, 255, 255),
                grid_line=(0, 0, 0), warp_line=(70, 70, 70), font_scale=1.3, line_scale=1.5, layout_line_scale=1.5)

THEMES = {t.name: t for t in (LIGHT, DARK, LECTURE, SLIDE)}

#: In slide mode a panel's text is at least this tall (pixels of the 1920×1080 layout) ...
SLIDE_MIN_TEXT_PX = 18.0
#: ... which at 96 dpi is the smallest font a panel uses (0.9 × the body size) at this font scale.
SLIDE_FONT_SCALE = 1.5


def slide_look(theme: Theme) -> Theme:
    """``theme`` as a panel draws it in slide mode: fonts at least :data:`SLIDE_FONT_SCALE` (≥ 18 px text).

    Only the fonts change; colours and line widths (and so an export's pixel ratio) stay the theme's.
    """
    if theme.font_scale >= theme.slide_font_scale:
        return theme
    return replace(theme, font_scale=theme.slide_font_scale)


def lecture_theme(screen_height: float) -> Theme:
    """The lecture theme for a screen ``screen_height`` logical pixels tall (lecture mode, F5).

    Its slide look (the figure, which lecture mode gives the screen to) keeps every text at least
    :data:`SLIDE_MIN_TEXT_PX` × (height ÷ 1080) tall: the proportions of the 1920×1080 slide on any
    projector, rather than 1080p-sized text crowding a 720p screen. Never larger than at 1080.
    """
    k = min(1.0, max(0.5, float(screen_height) / 1080.0))
    return replace(LECTURE, slide_font_scale=SLIDE_FONT_SCALE * k, font_scale=max(1.0, LECTURE.font_scale * k))


# -- text on coloured cells ----------------------------------------------------------------------

#: WCAG 2.x AA: the least contrast ratio of normal-size text against its background.
MIN_TEXT_CONTRAST = 4.5


def relative_luminance(rgb) -> float:
    """WCAG 2.x relative luminance of an sRGB colour given as 0–255 integers."""
    c = np.asarray(rgb[:3], float) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(lin @ np.array([0.2126, 0.7152, 0.0722]))


def contrast_ratio(a, b) -> float:
    """WCAG contrast ratio (1–21) between two opaque sRGB colours."""
    la, lb = relative_luminance(a), relative_luminance(b)
    hi, lo = max(la, lb), min(la, lb)
    return (hi + 0.05) / (lo + 0.05)


def _rgb(colour) -> tuple[int, int, int]:
    return tuple(int(round(float(v))) for v in colour[:3])


def text_colour_on(background, preferred=None) -> tuple[int, int, int]:
    """The colour of text drawn on a cell of colour ``background``: ``preferred`` (e.g. the theme's foreground)
    when it reaches :data:`MIN_TEXT_CONTRAST` against it, else black or white, whichever contrasts more.

    Black or white always reaches 4.58:1 or more against any opaque colour, so the result always passes AA.
    """
    return _text_colour_on(_rgb(background), None if preferred is None else _rgb(preferred))


@lru_cache(maxsize=4096)
def _text_colour_on(background, preferred):
    # cached: a 32×32 grid asks for every cell on every paint, and its cells take a handful of colours
    if preferred is not None and contrast_ratio(preferred, background) >= MIN_TEXT_CONTRAST:
        return preferred
    black, white = (0, 0, 0), (255, 255, 255)
    return black if contrast_ratio(black, background) >= contrast_ratio(white, background) else white


def readable_colour(colour, background, toward=None) -> tuple[int, int, int]:
    """``colour`` for text on ``background``, its hue kept where it can be: itself where it reaches
    :data:`MIN_TEXT_CONTRAST`, else mixed toward ``toward`` (default black or white, whichever contrasts
    more with the background) just enough to reach it, else :func:`text_colour_on`. A warning red stays
    red on a dark theme and still reads."""
    return _readable_colour(_rgb(colour), _rgb(background), None if toward is None else _rgb(toward))


@lru_cache(maxsize=1024)
def _readable_colour(colour, background, toward):
    if toward is None:
        toward = _text_colour_on(background, None)
    for step in range(21):
        t = step / 20
        c = tuple(int(round(t * a + (1 - t) * b)) for a, b in zip(toward, colour))
        if contrast_ratio(c, background) >= MIN_TEXT_CONTRAST:
            return c
    return _text_colour_on(background, toward)


def block_palette(theme: Theme, n: int = len(BLOCK_COLOURS)) -> np.ndarray:
    """``n`` RGBA uint8 colours for blocks; on a dark theme they are darkened a little for contrast."""
    rgb = np.array([OKABE_ITO[c] for c in BLOCK_COLOURS], float)
    rgb = rgb[np.arange(n) % len(rgb)]
    if theme.dark:
        rgb = rgb * 0.8
    return np.concatenate([rgb, np.full((n, 1), 255)], axis=1).astype(np.uint8)


# -- applying a theme to the Qt application ------------------------------------------------------

#: Point size of the application font before a theme's ``font_scale``: fixed rather than the
#: platform's default, so that an export looks the same on every machine that has the font.
BASE_POINT_SIZE = 10.0


def _blend(a, b, t: float) -> tuple[int, int, int]:
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b))


def qt_palette(theme: Theme):
    """The :class:`~PyQt6.QtGui.QPalette` of ``theme`` (Qt is imported here, not at module level)."""
    from PyQt6.QtGui import QColor, QPalette

    Role, Group = QPalette.ColorRole, QPalette.ColorGroup
    bg, fg, base = theme.background, theme.foreground, theme.panel_background
    button = _blend(bg, fg, 0.08)
    highlight = OKABE_ITO["blue"] if not theme.dark else OKABE_ITO["sky_blue"]
    highlighted_text = (255, 255, 255) if not theme.dark else (0, 0, 0)
    # the lecture theme keeps disabled text darker: a projector washes out light greys
    disabled = _blend(bg, fg, 0.55 if theme.name == "lecture" else 0.45)
    colours = {
        Role.Window: bg, Role.WindowText: fg, Role.Base: base, Role.AlternateBase: _blend(base, fg, 0.05),
        Role.Text: fg, Role.Button: button, Role.ButtonText: fg, Role.BrightText: OKABE_ITO["vermillion"],
        Role.Highlight: highlight, Role.HighlightedText: highlighted_text,
        Role.ToolTipBase: base, Role.ToolTipText: fg, Role.PlaceholderText: disabled,
        Role.Link: highlight, Role.LinkVisited: OKABE_ITO["reddish_purple"],
        Role.Light: _blend(button, (255, 255, 255), 0.5), Role.Midlight: _blend(button, (255, 255, 255), 0.25),
        Role.Mid: _blend(bg, fg, 0.3), Role.Dark: _blend(bg, fg, 0.5), Role.Shadow: _blend(bg, (0, 0, 0), 0.6),
    }
    palette = QPalette()
    for role, rgb in colours.items():
        palette.setColor(role, QColor(*rgb))
    for role in (Role.WindowText, Role.Text, Role.ButtonText, Role.HighlightedText):
        palette.setColor(Group.Disabled, role, QColor(*disabled))
    return palette


def apply_theme(app, theme: Theme, base_point_size: float = BASE_POINT_SIZE) -> None:
    """Give the whole application ``theme``: Fusion style, palette, shipped font and size, pyqtgraph's defaults.

    Panels still redraw their own plots (``Panel.set_theme``): pyqtgraph's
    defaults only reach plots created afterwards.
    """
    import pyqtgraph as pg
    from PyQt6.QtGui import QFont

    from .fonts import UI_FAMILY, register_fonts

    # Fusion draws with the palette on every platform; native styles ignore parts of it
    if app.style() is None or app.style().name().lower() != "fusion":
        app.setStyle("Fusion")
    app.setPalette(qt_palette(theme))
    register_fonts()
    # the shipped family by name, not the system's default: the same text widths on every machine
    font = QFont(UI_FAMILY)
    font.setPointSizeF(base_point_size * theme.font_scale)
    app.setFont(font)
    pg.setConfigOptions(background=theme.panel_background, foreground=theme.foreground)
