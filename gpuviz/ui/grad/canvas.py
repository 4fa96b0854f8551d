"""Matrices drawn for the weight-gradient panel: cells with numbers, heat maps, 28×28 tiles and a colour scale.

Each view is one QWidget that paints one image (a QImage made from an RGBA
uint8 array, scaled without smoothing) plus, when cells are big enough, their
numbers; so a 10×784 matrix costs one image per repaint, never one item per
cell. Signed values use :class:`~gpuviz.model.grad_colours.DivergingScale`: Okabe–Ito blue
through the plot background to vermillion (colour-blind safe), logarithmic in |value| so that every
entry of at least 1 % of the largest stands out from 0 (ΔE ≥ 10) in both signs; the sign is also
written (numbers) or shown on the scale, so colour is never the only cue. Names are rich text (real
subscripts), and a selection marker has its own margin: it never covers a name, a shape or a label.
"""

from __future__ import annotations

import math
from dataclasses import replace
from functools import lru_cache

import numpy as np
from PyQt6.QtCore import QPointF, QRectF, QSize, QSizeF, Qt, pyqtSignal
from PyQt6.QtGui import QFont, QFontMetricsF, QImage, QPainter
from PyQt6.QtWidgets import QSizePolicy, QToolTip, QWidget

from ...model.grad_colours import DivergingScale
from ...model.grad_panel import rich_text, script_runs
from ..style import font, mix, pen, qcolor
from ..theme import BASE_POINT_SIZE, LIGHT, OKABE_ITO, Theme, text_colour_on

NEGATIVE = OKABE_ITO["blue"]
POSITIVE = OKABE_ITO["vermillion"]
HIGHLIGHT = OKABE_ITO["orange"]


@lru_cache(maxsize=16)
def diverging_scale(zero: tuple) -> DivergingScale:
    """The diverging scale whose 0 is ``zero`` (a theme's plot background); built once per colour."""
    return DivergingScale(zero, NEGATIVE, POSITIVE)


def diverging_lut(theme: Theme) -> np.ndarray:
    """The RGBA colours of the theme's diverging scale, from −limit (blue) through 0 (the middle) to +limit."""
    return diverging_scale(tuple(theme.panel_background)).lut


def grey_lut(theme: Theme, n: int = 256) -> np.ndarray:
    """``n`` RGBA greys from the background (0) to the foreground (1): pixel intensities of an image."""
    lo, hi = np.array(theme.panel_background, float), np.array(theme.foreground, float)
    t = np.linspace(0, 1, n)[:, None]
    rgb = lo + (hi - lo) * t
    return np.concatenate([rgb, np.full((n, 1), 255)], axis=1).round().astype(np.uint8)


def colour(values: np.ndarray, lut: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """RGBA uint8 of ``values`` mapped linearly from [lo, hi] onto ``lut`` (np.take: fast on big arrays)."""
    span = hi - lo if hi > lo else 1.0
    idx = np.clip(((np.asarray(values, float) - lo) / span * (len(lut) - 1)).round(), 0, len(lut) - 1)
    return np.take(lut, idx.astype(np.intp), axis=0)


def cell_colours(values, theme: Theme, signed: bool, limit: float, log: bool = True) -> np.ndarray:
    """RGBA uint8 of cells: the theme's diverging scale (±limit; logarithmic in |value| when ``log``) when
    ``signed``, else greys over [0, limit]."""
    if signed:
        return diverging_scale(tuple(theme.panel_background)).rgba(values, limit, log=log)
    return colour(values, grey_lut(theme), 0.0, limit)


def symmetric_limit(values: np.ndarray) -> float:
    v = float(np.max(np.abs(values))) if np.size(values) else 0.0
    return v if v > 0 else 1.0


def _to_qimage(rgba: np.ndarray) -> QImage:
    rgba = np.ascontiguousarray(rgba)
    h, w = rgba.shape[:2]
    img = QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888)
    return img.copy()  # own the pixels: the array may go away


def fmt(v: float, digits: int = 3) -> str:
    v = float(v)
    if v == int(v) and abs(v) < 1e5:
        return str(int(v))
    return f"{v:.{digits}g}"


def script_pt(theme: Theme, text_pt: float) -> float:
    """The point size of sub- and superscripts in text of ``text_pt`` points: about 3/4 of it, never below the
    smallest text the theme draws (0.9 × its body size), so a subscript is as legible as any other text."""
    return max(0.9 * BASE_POINT_SIZE * theme.font_scale, 0.75 * text_pt)


class RichText:
    """One line of text with real sub- and superscripts (``δ_i``, ``xᵀ``), set by the painter itself: runs of
    plain text in the font and in a script font, lowered or raised.

    Neither a QTextDocument nor a QStaticText: laid out anew in every paint event, rich text crashed the
    test run inside QTextLine::draw (a font engine freed under the painter); plain runs do not.
    """

    def __init__(self, text: str, qfont, theme: Theme):
        self.runs = script_runs(str(text))
        self.font = QFont(qfont)
        self.script = QFont(qfont)
        self.script.setPointSizeF(script_pt(theme, qfont.pointSizeF()))
        fm, fs = QFontMetricsF(self.font), QFontMetricsF(self.script)
        self._adv = [(fs if kind else fm).horizontalAdvance(t) for t, kind in self.runs]
        self._sub = 0.3 * fm.ascent()
        self._sup = 0.45 * fm.ascent()
        has_sup = any(kind == "sup" for _t, kind in self.runs)
        has_sub = any(kind == "sub" for _t, kind in self.runs)
        self._top = max(0.0, self._sup + fs.ascent() - fm.ascent()) if has_sup else 0.0
        bottom = max(fm.descent(), self._sub + fs.descent()) if has_sub else fm.descent()
        self._ascent = fm.ascent()
        self._height = self._top + fm.ascent() + bottom

    def size(self) -> QSizeF:
        return QSizeF(sum(self._adv), self._height)

    def draw(self, p: QPainter, at: QPointF) -> None:
        x, base = at.x(), at.y() + self._top + self._ascent
        for (t, kind), adv in zip(self.runs, self._adv):
            p.setFont(self.script if kind else self.font)
            dy = self._sub if kind == "sub" else -self._sup if kind == "sup" else 0.0
            p.drawText(QPointF(x, base + dy), t)
            x += adv


def rich(text: str, qfont, theme: Theme) -> RichText:
    """``text`` (plain spelling, ``δ_i``) typeset as rich text in ``qfont``, ready to draw and measure."""
    return RichText(text, qfont, theme)


@lru_cache(maxsize=64)
def _metrics(theme_scale: float, mono: bool, scale: float) -> QFontMetricsF:
    """Font metrics at one reference size per (theme, face): the fit's search tries dozens of zooms, and a
    font at each size would fill Qt's font cache with engines it then cleans up under the painter."""
    return QFontMetricsF(font(replace(LIGHT, font_scale=theme_scale), mono=mono, scale=scale))


def text_width(theme: Theme, texts, *, mono: bool, scale: float) -> float:
    """The widest of ``texts`` in the theme's font at ``scale``, measured at scale 1 and scaled (a margin of
    4 % covers hinting, which does not scale exactly)."""
    fm = _metrics(theme.font_scale, mono, 1.0)
    return max((fm.horizontalAdvance(t) for t in texts), default=0.0) * scale * 1.04


def text_height(theme: Theme, *, mono: bool, scale: float) -> float:
    """A line's height in the theme's font at ``scale`` (as :func:`text_width`, from one reference size)."""
    return _metrics(theme.font_scale, mono, 1.0).height() * scale * 1.04


def marker_pad(theme: Theme, ring: bool = False) -> float:
    """How far a selection marker reaches outside its cell, in layout pixels: the room a view keeps free
    around its cells, so that no marker covers a name, a shape or a label (``ring``: the ring around a
    cell too small to outline)."""
    # the pens are cosmetic (device pixels): in layout pixels they are as wide at every device pixel ratio
    w = theme.layout_width(2.5) + theme.layout_width(1)
    return math.ceil(1 + (w + theme.layout_width(2)) / 2 + (4 if ring else 0)) + 1


def _text_rect(st: RichText, x: float, y: float) -> QRectF:
    size = st.size()
    return QRectF(x, y, size.width(), size.height())


class _CellGrid(QWidget):
    """A picture of cells: a click emits ``cell_clicked(i, j)`` and hovering shows :meth:`tooltip` of the cell.

    Subclasses say where the cells are (:meth:`cell_at`) and what a cell's tooltip reads.
    """

    cell_clicked = pyqtSignal(int, int)

    def cell_at(self, pos) -> tuple[int, int] | None:
        raise NotImplementedError

    def tooltip(self, i: int, j: int) -> str:
        raise NotImplementedError

    def mousePressEvent(self, event) -> None:
        hit = self.cell_at(event.position())
        if hit is not None:
            self.cell_clicked.emit(*hit)

    def mouseMoveEvent(self, event) -> None:
        hit = self.cell_at(event.position())
        if hit is not None:
            QToolTip.showText(event.globalPosition().toPoint(), self.tooltip(*hit), self)


class _Headed(_CellGrid):
    """A view with a name (rich text, bold) over its shape (monospace), both left-aligned at the top."""

    name: str
    shape_text: str
    theme: Theme

    def _name_text(self) -> RichText:
        return rich(self.name, font(self.theme, bold=True), self.theme)

    def _shape_text(self) -> RichText:
        return rich(self.shape_text, font(self.theme, mono=True, scale=0.9), self.theme)

    def _header(self) -> float:
        """The height of the name and the shape lines, one under the other."""
        return self._name_text().size().height() + self._shape_text().size().height() + 2

    def _text_width(self) -> float:
        return max(self._name_text().size().width(), self._shape_text().size().width()) + 6

    def header_rects(self) -> list[QRectF]:
        """Where the name and the shape are drawn (the test holds the markers off them)."""
        name = self._name_text()
        return [_text_rect(name, 2, 0), _text_rect(self._shape_text(), 2, name.size().height() + 1)]

    def _paint_header(self, p: QPainter) -> None:
        t = self.theme
        name, shape = self.header_rects()
        p.setPen(qcolor(t.foreground))
        p.setFont(font(t, bold=True))
        self._name_text().draw(p, name.topLeft())
        p.setFont(font(t, mono=True, scale=0.9))
        self._shape_text().draw(p, shape.topLeft())


class MatrixView(_Headed):
    """One matrix: its name and shape above, cells coloured (diverging or grey), numbers when they fit.

    Signals ``cell_clicked(i, j)`` and shows the cell's value as a tooltip on hover. Its widget paints
    cells itself (the ``dataCanvas`` property lecture mode's figure share counts).
    """

    def __init__(self, name: str, parent=None, theme: Theme = LIGHT, cell: int = 64, signed: bool = True,
                 numbers: bool = True, max_size: QSize | None = None, row_height: float | None = None,
                 log: bool = True):
        super().__init__(parent)
        self.setProperty("dataCanvas", True)
        #: signed values on the logarithmic scale (gradients), or a linear one (weights, all of one size)
        self.log = log
        self.name = name
        self.theme = theme
        self.cell = cell
        self.signed = signed
        self.numbers = numbers
        self.values = np.zeros((1, 1))
        self.limit = 1.0
        self.shape_text = ""
        self.rows: set[int] = set()
        self.cols: set[int] = set()
        self.cells: set[tuple[int, int]] = set()
        self._image: QImage | None = None
        self._max = max_size
        self._row_height = row_height
        #: height of a row of numbers in layout pixels (at least the text's height): the panel sets it per layer
        self.cell_height = 44
        #: the panel shrinks cells by this factor (never below their text) to fit a small window or export;
        #: in the slide look it also grows them (above 1) to fill the slide
        self.zoom = 1.0
        #: the numbers' size as a factor of their normal size: the slide look grows them with the cells
        self.text_zoom = 1.0
        #: rows of numbers this much taller (the slide look on a narrow screen, whose width stops the zoom)
        self.row_stretch = 1.0
        self._rgba: np.ndarray | None = None
        #: the colour each cell's number was last drawn in (RGB, one per cell): chosen for contrast
        self.text_rgb: np.ndarray | None = None
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Minimum)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self._image = None
        self.updateGeometry()
        self.update()

    def set_values(self, values, limit: float | None = None, shape_text: str | None = None) -> None:
        old = (self.values.shape, self.shape_text, self.values if self.numbers else None)
        self.values = np.atleast_2d(np.asarray(values, float))
        if limit is None:
            limit = symmetric_limit(self.values) if self.signed else 1.0
        self.limit = float(limit)
        self.shape_text = shape_text if shape_text is not None else "({}, {})".format(*self.values.shape)
        self._image = None
        # a new size only when the shape, the caption or the numbers (their widths) change: a relayout of
        # the whole panel on every training step would cost more than the drawing
        resized = old[:2] != (self.values.shape, self.shape_text)
        if resized or (self.numbers and not np.array_equal(old[2], self.values)):
            self.updateGeometry()
        self.update()

    def set_highlight(self, rows=(), cols=(), cells=()) -> None:
        self.rows, self.cols, self.cells = set(rows), set(cols), set(cells)
        self.update()

    # -- geometry -------------------------------------------------------------------------------

    def _scale(self) -> float:
        return self.theme.font_scale

    def _number_font(self):
        # 0.9: the smallest text size of a slide (18 px at 1080 lines), as every other text
        return font(self.theme, mono=True, scale=0.9 * self.text_zoom)

    def _cell_size(self) -> tuple[float, float]:
        r, c = self.values.shape
        if self.numbers:
            # cells a class can read from the back (not scaled by the theme: the text sets the minimum)
            scale = 0.9 * self.text_zoom
            widest = text_width(self.theme, [fmt(v) for v in self.values.flat], mono=True, scale=scale)
            # a compacted view keeps its text, with less room around it
            cw = max(float(self.cell) * self.zoom, widest + 4 + 8 * self.zoom)
            line = text_height(self.theme, mono=True, scale=scale)
            ch = max(float(self.cell_height) * self.zoom, line + 2 + 6 * self.zoom) * self.row_stretch
        else:
            cw = self.cell * self._scale() * self.zoom
            ch = self._row_height * self._scale() * self.zoom if self._row_height else cw
        if self._max is not None:
            # a slide's grown view may grow past the size it is held to in the panel
            grow = max(1.0, self.zoom)
            cw = min(cw, self._max.width() * grow / c)
            if not self.numbers:
                ch = min(ch, self._max.height() * grow / r)
        return cw, ch

    def _pad(self) -> float:
        """The free margin around the cells that the selection markers draw in."""
        return marker_pad(self.theme, ring=self._cell_size()[0] < 8)

    def sizeHint(self) -> QSize:
        r, c = self.values.shape
        cw, ch = self._cell_size()
        pad = self._pad()
        w = max(c * cw + 2 * pad, self._text_width())
        return QSize(math.ceil(w), math.ceil(r * ch + self._header() + 2 * pad))

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def _matrix_rect(self) -> QRectF:
        r, c = self.values.shape
        cw, ch = self._cell_size()
        pad = self._pad()
        return QRectF(pad, self._header() + pad, c * cw, r * ch)

    def cell_at(self, pos) -> tuple[int, int] | None:
        rect = self._matrix_rect()
        if not rect.contains(QPointF(pos)):
            return None
        r, c = self.values.shape
        i = int((pos.y() - rect.top()) / rect.height() * r)
        j = int((pos.x() - rect.left()) / rect.width() * c)
        return (min(i, r - 1), min(j, c - 1))

    def marker_rects(self) -> list[QRectF]:
        """The outer bounds of every selection marker drawn now (rows, columns, cells), pens included."""
        t = self.theme
        rect = self._matrix_rect()
        r, c = self.values.shape
        cw, ch = rect.width() / c, rect.height() / r
        # as paintEvent draws them: 1 px outside the cell, the dark pen (w + 2) centred on that edge; the
        # pens are cosmetic, so their layout width is the theme's layout width
        line = 1 + (t.layout_width(2.5) + t.layout_width(2)) / 2
        out = []
        for i in self.rows:
            out.append(QRectF(rect.left(), rect.top() + i * ch, rect.width(), ch).adjusted(-line, -line, line, line))
        for j in self.cols:
            out.append(QRectF(rect.left() + j * cw, rect.top(), cw, rect.height()).adjusted(-line, -line, line, line))
        cell_line = 1 + (t.layout_width(2.5) + t.layout_width(1) + t.layout_width(2)) / 2 + (4 if cw < 8 else 0)
        for i, j in self.cells:
            out.append(QRectF(rect.left() + j * cw, rect.top() + i * ch, cw, ch).adjusted(
                -cell_line, -cell_line, cell_line, cell_line))
        return out

    # -- events ---------------------------------------------------------------------------------

    def tooltip(self, i: int, j: int) -> str:
        return rich_text(f"{self.name}[{i},{j}] = {fmt(self.values[i, j], 4)} (click to explain)")

    def paintEvent(self, event) -> None:
        t = self.theme
        p = QPainter(self)
        p.fillRect(self.rect(), qcolor(t.background))
        self._paint_header(p)
        if self._image is None:
            self._rgba = cell_colours(self.values, t, self.signed, self.limit, self.log)
            self._image = _to_qimage(self._rgba)
        rect = self._matrix_rect()
        p.drawImage(rect, self._image)
        r, c = self.values.shape
        cw, ch = rect.width() / c, rect.height() / r
        if self.numbers:
            p.setFont(self._number_font())
            # each number in the colour that reads on its cell (WCAG AA), the theme's text colour when it does
            self.text_rgb = np.array([[text_colour_on(self._rgba[i, j], preferred=t.foreground) for j in range(c)]
                                      for i in range(r)], dtype=np.uint8)
            for i in range(r):
                for j in range(c):
                    p.setPen(qcolor(tuple(self.text_rgb[i, j])))
                    p.drawText(QRectF(rect.left() + j * cw, rect.top() + i * ch, cw, ch),
                               Qt.AlignmentFlag.AlignCenter, fmt(self.values[i, j]))
        # the matrix's edge, also around a strip whose edge cells are 0 (the background's colour)
        p.setPen(pen(mix(t.foreground, t.background, 0.3), t.pen_width(1)))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(rect)
        # highlights: a thick outline (the second cue) in orange with a dark edge, never a fill alone
        w = t.pen_width(2.5)
        for i in self.rows:
            self._outline(p, QRectF(rect.left(), rect.top() + i * ch, rect.width(), ch), w)
        for j in self.cols:
            self._outline(p, QRectF(rect.left() + j * cw, rect.top(), cw, rect.height()), w)
        for i, j in self.cells:
            cell = QRectF(rect.left() + j * cw, rect.top() + i * ch, cw, ch)
            if cw < 8:  # a 2-pixel cell of a 10×784 strip: a ring around it, so it can be found
                cell = cell.adjusted(-4, -4, 4, 4)
            self._outline(p, cell, w + t.pen_width(1))
        p.end()

    def _outline(self, p: QPainter, r: QRectF, w: float) -> None:
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(pen(self.theme.foreground, w + self.theme.pen_width(2)))
        p.drawRect(r.adjusted(-1, -1, 1, 1))
        p.setPen(pen(HIGHLIGHT, w))
        p.drawRect(r.adjusted(-1, -1, 1, 1))


class TileView(_Headed):
    """The rows of an m×784 matrix as m images of 28×28 (digit k's weights or gradient as a picture).

    Tiles are laid out in ``columns`` columns, each under its label; a click on tile i, pixel (r, c)
    emits ``cell_clicked(i, 28·r + c)``.
    """

    def __init__(self, name: str, parent=None, theme: Theme = LIGHT, columns: int = 5, tile: int = 84,
                 signed: bool = True, side: int = 28, log: bool = True):
        super().__init__(parent)
        self.setProperty("dataCanvas", True)
        self.log = log
        self.name = name
        self.theme = theme
        self.columns = columns
        #: the columns the panel draws; a slide may lay the tiles out in fewer (taller grids)
        self.base_columns = columns
        self.tile = tile
        self.signed = signed
        self.side = side
        self.values = np.zeros((1, side * side))
        self.limit = 1.0
        self.shape_text = ""
        self.labels: list[str] = []
        self.selected: tuple[int, int] | None = None
        self._image: QImage | None = None
        #: the panel shrinks tiles by this factor to fit a small window or export, and grows them (above 1)
        #: to fill a slide
        self.zoom = 1.0
        #: the labels' size as a factor of their normal size (a small slide shrinks them a little)
        self.text_zoom = 1.0
        self.setMouseTracking(True)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self._image = None
        self.updateGeometry()
        self.update()

    def set_values(self, values, limit: float | None = None, shape_text: str = "", labels=None) -> None:
        old = (self.values.shape, self.shape_text)
        self.values = np.atleast_2d(np.asarray(values, float))
        self.limit = float(limit if limit is not None else (symmetric_limit(self.values) if self.signed else 1.0))
        self.shape_text = shape_text
        self.labels = list(labels) if labels is not None else [str(i) for i in range(len(self.values))]
        self._image = None
        if old != (self.values.shape, self.shape_text):
            self.updateGeometry()
        self.update()

    def set_selected(self, ij) -> None:
        self.selected = None if ij is None else (int(ij[0]), int(ij[1]))
        self.update()

    def _tile(self) -> float:
        # lecture mode: bigger text, but tiles only a little bigger (ten of them must still fit)
        return self.tile * min(self.theme.font_scale, 1.15) * self.zoom

    def _pad(self) -> float:
        return marker_pad(self.theme)

    def _pitch(self) -> float:
        """From one tile's left edge to the next one's."""
        pitch = self._tile() + 6
        # a label is never cut by the next tile (slide text, or a small tile in a narrow window)
        if self.labels:
            pitch = max(pitch, text_width(self.theme, self.labels, mono=False, scale=0.9 * self.text_zoom) + 10)
        return pitch

    def _label_h(self) -> float:
        return max(18 * self.theme.font_scale * self.text_zoom,
                   text_height(self.theme, mono=False, scale=0.9 * self.text_zoom)) \
            if any(self.labels) else 0.0

    def _label_font(self):
        return font(self.theme, scale=0.9 * self.text_zoom)

    def _grid(self) -> tuple[int, int]:
        m = len(self.values)
        cols = min(self.columns, m)
        return (m + cols - 1) // cols, cols

    def _row_pitch(self) -> float:
        return self._tile() + self._label_h() + 2 * self._pad() + 2

    def sizeHint(self) -> QSize:
        rows, cols = self._grid()
        pad = self._pad()
        w = max(cols * self._pitch() + 2 * pad, self._text_width())
        return QSize(math.ceil(w) + 2, math.ceil(rows * self._row_pitch() + self._header()) + 2)

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def _tile_rect(self, k: int) -> QRectF:
        rows, cols = self._grid()
        r, c = divmod(k, cols)
        pad = self._pad()
        top = self._header() + r * self._row_pitch() + self._label_h() + pad
        return QRectF(pad + c * self._pitch(), top, self._tile(), self._tile())

    def label_rects(self) -> list[QRectF]:
        """Where each tile's label is drawn (above its tile, clear of any marker)."""
        label_w = self._pitch() - 6
        out = []
        for k in range(len(self.values)):
            rect = self._tile_rect(k)
            out.append(QRectF(rect.left(), rect.top() - self._pad() - self._label_h(), max(rect.width(), label_w),
                              self._label_h()))
        return out

    def marker_rects(self) -> list[QRectF]:
        """The outer bounds of the selection markers drawn now (the tile's frame and the pixel's), pens included."""
        if self.selected is None or not 0 <= self.selected[0] < len(self.values):
            return []
        t = self.theme
        i, j = self.selected
        rect = self._tile_rect(i)
        px = rect.width() / self.side
        cell = QRectF(rect.left() + (j % self.side) * px, rect.top() + (j // self.side) * px, px, px)
        # as paintEvent draws them: 2 px outside, the pixel's dark pen 4 wide and the tile's orange one 2
        frame, dot = 2 + t.layout_width(2) / 2, 2 + t.layout_width(4) / 2
        return [rect.adjusted(-frame, -frame, frame, frame), cell.adjusted(-dot, -dot, dot, dot)]

    def cell_at(self, pos) -> tuple[int, int] | None:
        for k in range(len(self.values)):
            rect = self._tile_rect(k)
            if rect.contains(QPointF(pos)):
                r = min(int((pos.y() - rect.top()) / rect.height() * self.side), self.side - 1)
                c = min(int((pos.x() - rect.left()) / rect.width() * self.side), self.side - 1)
                return k, r * self.side + c
        return None

    def tooltip(self, i: int, j: int) -> str:
        return rich_text(f"{self.name}[{i},{j}] (pixel row {j // self.side}, column {j % self.side}) = "
                         f"{fmt(self.values[i, j], 4)}")

    def paintEvent(self, event) -> None:
        t = self.theme
        p = QPainter(self)
        p.fillRect(self.rect(), qcolor(t.background))
        self._paint_header(p)
        m, s = len(self.values), self.side
        if self._image is None:
            # all tiles side by side in one image: one colour mapping, one conversion per repaint
            strip = self.values.reshape(m, s, s).transpose(1, 0, 2).reshape(s, m * s)
            self._image = _to_qimage(cell_colours(strip, t, self.signed, self.limit, self.log))
        p.setFont(self._label_font())
        edge = pen(mix(t.foreground, t.background, 0.35), t.pen_width(1))
        for k, label_rect in enumerate(self.label_rects()):
            rect = self._tile_rect(k)
            p.drawImage(rect, self._image, QRectF(k * s, 0, s, s))
            p.setPen(edge)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(rect)
            p.setPen(qcolor(t.foreground))
            label = self.labels[k] if k < len(self.labels) else str(k)
            p.drawText(label_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, label)
        if self.selected is not None and 0 <= self.selected[0] < m:
            i, j = self.selected
            rect = self._tile_rect(i)
            px = rect.width() / s
            cell = QRectF(rect.left() + (j % s) * px, rect.top() + (j // s) * px, px, px).adjusted(-2, -2, 2, 2)
            w = t.pen_width(2)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(pen(t.foreground, w + t.pen_width(2)))
            p.drawRect(cell)
            p.setPen(pen(HIGHLIGHT, w))
            p.drawRect(cell)
            p.drawRect(rect.adjusted(-2, -2, 2, 2))
        p.end()


class ColourBar(QWidget):
    """The legend of the diverging scale: −limit (blue) … 0 … +limit (vermillion), logarithmic in |value|.

    Ticks mark 0 and ±limit, ±limit/10 and ±limit/100, the first three written; a key line under it
    names the quantity, the colours and the scale.
    """

    def __init__(self, parent=None, theme: Theme = LIGHT, label: str = "∂L/∂W", width: int = 400, log: bool = True):
        super().__init__(parent)
        self.log = log
        #: the key in two short lines (a narrow bar) or one (a low one)
        self.two_lines = True
        #: the key left of the bar instead of under it: a lower legend, beside a sentence over a figure
        self.inline = False
        self.theme = theme
        self.base_width = width
        self.limit = 1.0
        self.label = label
        self.signed = True

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.updateGeometry()
        self.update()

    def set_limit(self, limit: float, signed: bool = True) -> None:
        self.limit = float(limit)
        self.signed = signed
        self.update()

    def key(self) -> str:
        return " ".join(self.key_lines())

    def key_lines(self) -> list[str]:
        """The key under the bar, one line each (two short lines keep the bar narrow beside a matrix)."""
        if not self.signed:
            return [self.label]
        if not self.log:
            return [f"{self.label}: blue < 0 < vermillion"]
        return [f"{self.label}: blue < 0 < vermillion;", "ticks ×10 apart (log scale)"] if self.two_lines else \
            [f"{self.label}: blue < 0 < vermillion; ticks ×10 apart (log scale)"]

    def _key_texts(self) -> list[RichText]:
        return [rich(line, font(self.theme, scale=0.9), self.theme) for line in self.key_lines()]

    def _line(self) -> float:
        return QFontMetricsF(font(self.theme, scale=0.9)).height()

    def _bar_height(self) -> float:
        return 14 * self.theme.font_scale

    def sizeHint(self) -> QSize:
        s = self.theme.font_scale
        keys = self._key_texts()
        key_w, key_h = max(k.size().width() for k in keys), sum(k.size().height() for k in keys)
        bar_h = 4 + self._bar_height() + 6 + self._line() + 2
        if self.inline:
            return QSize(math.ceil(key_w + 12 + self.base_width * s), math.ceil(max(bar_h, key_h + 4)))
        w = max(self.base_width * s, key_w + 8)
        return QSize(math.ceil(w), math.ceil(bar_h + key_h + 4))

    def _key_width(self) -> float:
        return max(k.size().width() for k in self._key_texts()) + 12 if self.inline else 0.0

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def tick_labels(self) -> list[tuple[float, str]]:
        """(place 0 … 1 along the bar, text) of the written ticks."""
        if not self.signed:
            return [(0.0, "0"), (1.0, fmt(self.limit))]
        out = []
        for value, place in self._ticks():
            if value == 0:
                out.append((place, "0"))
            elif abs(value) >= self.limit / 10 * 0.999:
                out.append((place, f"{'−' if value < 0 else '+'}{fmt(abs(value))}"))
        if len(out) > 3:
            # ±limit/10 written only where its text clears its neighbours' (a narrow bar keeps 0 and the ends)
            fm = QFontMetricsF(font(self.theme, scale=0.9))
            bar = max(1.0, self.width() - self._key_width() - fm.horizontalAdvance(out[0][1]) - 8)
            xs = [(place * bar, fm.horizontalAdvance(text) / 2 + 6) for place, text in out]
            if any(xs[k + 1][0] - xs[k + 1][1] < xs[k][0] + xs[k][1] for k in range(len(xs) - 1)):
                out = [out[0], out[len(out) // 2], out[-1]]
        return out

    def _ticks(self) -> list[tuple[float, float]]:
        if not self.log:
            return [(-self.limit, 0.0), (0.0, 0.5), (self.limit, 1.0)]
        return diverging_scale(tuple(self.theme.panel_background)).ticks(self.limit)

    def paintEvent(self, event) -> None:
        t = self.theme
        p = QPainter(self)
        p.fillRect(self.rect(), qcolor(t.background))
        fm = QFontMetricsF(font(t, scale=0.9))
        # the bar is inset by half the widest end label, so the end labels sit centred under their ticks
        ends = self.tick_labels()
        inset = max(4.0, max(fm.horizontalAdvance(ends[0][1]), fm.horizontalAdvance(ends[-1][1])) / 2 + 2)
        left = self._key_width()
        bar = QRectF(left + inset, 4, self.width() - left - 2 * inset, self._bar_height())
        lut = diverging_lut(t) if self.signed else grey_lut(t)
        p.drawImage(bar, _to_qimage(lut[None, :, :]))
        p.setPen(pen(t.foreground, t.pen_width(1)))
        p.drawRect(bar)
        ticks = self._ticks() if self.signed else []
        for _value, place in ticks:
            x = bar.left() + place * bar.width()
            p.drawLine(QPointF(x, bar.bottom()), QPointF(x, bar.bottom() + 5))
        p.setFont(font(t, scale=0.9))
        for place, text in ends:
            x = bar.left() + place * bar.width()
            w = fm.horizontalAdvance(text)
            p.drawText(QRectF(x - w / 2 - 1, bar.bottom() + 6, w + 2, self._line()), Qt.AlignmentFlag.AlignCenter,
                       text)
        y = 2 if self.inline else bar.bottom() + 6 + self._line() + 2
        for key in self._key_texts():
            x = 2 if self.inline else (self.width() - key.size().width()) / 2
            key.draw(p, QPointF(x, y))
            y += key.size().height()
        p.end()
