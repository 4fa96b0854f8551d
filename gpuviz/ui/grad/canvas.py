"""Matrices drawn for the weight-gradient panel: cells with numbers, heat maps, 28×28 tiles and a colour scale.

Each view is one QWidget that paints one image (a QImage made from an RGBA
uint8 array, scaled without smoothing) plus, when cells are big enough, their
numbers; so a 10×784 matrix costs one image per repaint, never one item per
cell. Signed values use a diverging map from Okabe–Ito blue through white to
vermillion (colour-blind safe); the sign is also written (numbers) or shown on
the scale, so colour is never the only cue.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QPointF, QRectF, QSize, Qt, pyqtSignal
from PyQt6.QtGui import QFontMetricsF, QImage, QPainter
from PyQt6.QtWidgets import QSizePolicy, QToolTip, QWidget

from ..style import font, mix, pen, qcolor
from ..theme import LIGHT, OKABE_ITO, Theme

NEGATIVE = OKABE_ITO["blue"]
POSITIVE = OKABE_ITO["vermillion"]
HIGHLIGHT = OKABE_ITO["orange"]


def diverging_lut(theme: Theme, n: int = 256) -> np.ndarray:
    """``n`` RGBA colours from blue (−) through the plot background (0) to vermillion (+)."""
    mid = np.array(theme.panel_background, float)
    t = np.linspace(-1, 1, n)[:, None]
    neg, pos = np.array(NEGATIVE, float), np.array(POSITIVE, float)
    rgb = np.where(t < 0, mid + (neg - mid) * (-t), mid + (pos - mid) * t)
    return np.concatenate([rgb, np.full((n, 1), 255)], axis=1).round().astype(np.uint8)


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


class MatrixView(_CellGrid):
    """One matrix: its name and shape above, cells coloured (diverging or grey), numbers when they fit.

    Signals ``cell_clicked(i, j)`` and shows the cell's value as a tooltip on hover.
    """

    def __init__(self, name: str, parent=None, theme: Theme = LIGHT, cell: int = 64, signed: bool = True,
                 numbers: bool = True, max_size: QSize | None = None, row_height: float | None = None):
        super().__init__(parent)
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
        self._rgba: np.ndarray | None = None
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

    def _header(self) -> int:
        return round(2.6 * 10 * self._scale() * 1.4)

    def _number_font(self):
        return font(self.theme, mono=True, scale=0.85 * self.text_zoom)

    def _cell_size(self) -> tuple[float, float]:
        r, c = self.values.shape
        if self.numbers:
            # cells a class can read from the back (not scaled by the theme: the text sets the minimum)
            fm = QFontMetricsF(self._number_font())
            widest = max((fm.horizontalAdvance(fmt(v)) for v in self.values.flat), default=0.0)
            # a compacted view keeps its text, with less room around it
            cw = max(float(self.cell) * self.zoom, widest + 4 + 8 * self.zoom)
            ch = max(float(self.cell_height) * self.zoom, fm.height() + 2 + 6 * self.zoom)
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

    def _text_width(self) -> float:
        a = QFontMetricsF(font(self.theme, bold=True)).horizontalAdvance(self.name)
        b = QFontMetricsF(font(self.theme, mono=True, scale=0.9)).horizontalAdvance(self.shape_text)
        return max(a, b) + 6

    def sizeHint(self) -> QSize:
        r, c = self.values.shape
        cw, ch = self._cell_size()
        w = max(c * cw, self._text_width())
        return QSize(int(w) + 4, int(r * ch) + self._header() + 4)

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def _matrix_rect(self) -> QRectF:
        r, c = self.values.shape
        cw, ch = self._cell_size()
        return QRectF(2, self._header(), c * cw, r * ch)

    def cell_at(self, pos) -> tuple[int, int] | None:
        rect = self._matrix_rect()
        if not rect.contains(QPointF(pos)):
            return None
        r, c = self.values.shape
        i = int((pos.y() - rect.top()) / rect.height() * r)
        j = int((pos.x() - rect.left()) / rect.width() * c)
        return (min(i, r - 1), min(j, c - 1))

    # -- events ---------------------------------------------------------------------------------

    def tooltip(self, i: int, j: int) -> str:
        return f"{self.name}[{i},{j}] = {fmt(self.values[i, j], 4)} (click to explain)"

    def paintEvent(self, event) -> None:
        t = self.theme
        p = QPainter(self)
        p.fillRect(self.rect(), qcolor(t.background))
        p.setPen(qcolor(t.foreground))
        p.setFont(font(t, bold=True))
        p.drawText(QRectF(2, 0, self.width(), self._header() * 0.55), Qt.AlignmentFlag.AlignLeft
                   | Qt.AlignmentFlag.AlignBottom, self.name)
        p.setFont(font(t, mono=True, scale=0.9))
        p.drawText(QRectF(2, self._header() * 0.52, self.width(), self._header() * 0.45),
                   Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.shape_text)
        if self._image is None:
            lut = diverging_lut(t) if self.signed else grey_lut(t)
            lo, hi = (-self.limit, self.limit) if self.signed else (0.0, self.limit)
            self._rgba = colour(self.values, lut, lo, hi)
            self._image = _to_qimage(self._rgba)
        rect = self._matrix_rect()
        p.drawImage(rect, self._image)
        r, c = self.values.shape
        cw, ch = rect.width() / c, rect.height() / r
        if self.numbers:
            p.setFont(self._number_font())
            # dark text on light cells, light text on dark ones (a black "1" cell of x stays readable)
            lum = self._rgba[..., :3].astype(float) @ np.array([0.299, 0.587, 0.114])
            for i in range(r):
                for j in range(c):
                    p.setPen(qcolor((0, 0, 0) if lum[i, j] > 140 else (255, 255, 255)))
                    p.drawText(QRectF(rect.left() + j * cw, rect.top() + i * ch, cw, ch),
                               Qt.AlignmentFlag.AlignCenter, fmt(self.values[i, j]))
        # the matrix's edge, also around a strip whose edge cells are 0 (white)
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


class TileView(_CellGrid):
    """The rows of an m×784 matrix as m images of 28×28 (digit k's weights or gradient as a picture).

    Tiles are laid out in ``columns`` columns; a click on tile i, pixel (r, c)
    emits ``cell_clicked(i, 28·r + c)``.
    """

    def __init__(self, name: str, parent=None, theme: Theme = LIGHT, columns: int = 5, tile: int = 84,
                 signed: bool = True, side: int = 28):
        super().__init__(parent)
        self.name = name
        self.theme = theme
        self.columns = columns
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
        #: the slide look: a label is never cut by the next tile (slide text is wider than a small tile)
        self.slide = False
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

    def _pitch(self) -> float:
        """From one tile's left edge to the next one's."""
        pitch = self._tile() + 6
        if self.slide and self.labels:
            fm = QFontMetricsF(self._label_font())
            pitch = max(pitch, max(fm.horizontalAdvance(lab) for lab in self.labels) + 10)
        return pitch

    def _header(self) -> int:
        return round(2.6 * 10 * self.theme.font_scale * 1.4)

    def _label_h(self) -> float:
        return 18 * self.theme.font_scale * self.text_zoom

    def _label_font(self):
        return font(self.theme, scale=0.9 * self.text_zoom)

    def _grid(self) -> tuple[int, int]:
        m = len(self.values)
        cols = min(self.columns, m)
        return (m + cols - 1) // cols, cols

    def sizeHint(self) -> QSize:
        rows, cols = self._grid()
        t, gap = self._tile(), 6
        pitch = self._pitch()
        text = max(QFontMetricsF(font(self.theme, bold=True)).horizontalAdvance(self.name),
                   QFontMetricsF(font(self.theme, mono=True, scale=0.9)).horizontalAdvance(self.shape_text)) + 6
        return QSize(int(max(cols * pitch, text)) + 4, int(rows * (t + self._label_h() + gap)) + self._header() + 4)

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def _tile_rect(self, k: int) -> QRectF:
        rows, cols = self._grid()
        t, gap = self._tile(), 6
        r, c = divmod(k, cols)
        return QRectF(2 + c * self._pitch(), self._header() + r * (t + self._label_h() + gap) + self._label_h(), t, t)

    def cell_at(self, pos) -> tuple[int, int] | None:
        for k in range(len(self.values)):
            rect = self._tile_rect(k)
            if rect.contains(QPointF(pos)):
                r = min(int((pos.y() - rect.top()) / rect.height() * self.side), self.side - 1)
                c = min(int((pos.x() - rect.left()) / rect.width() * self.side), self.side - 1)
                return k, r * self.side + c
        return None

    def tooltip(self, i: int, j: int) -> str:
        return (f"{self.name}[{i},{j}] (pixel row {j // self.side}, column {j % self.side}) = "
                f"{fmt(self.values[i, j], 4)}")

    def paintEvent(self, event) -> None:
        t = self.theme
        p = QPainter(self)
        p.fillRect(self.rect(), qcolor(t.background))
        p.setPen(qcolor(t.foreground))
        p.setFont(font(t, bold=True))
        p.drawText(QRectF(2, 0, self.width(), self._header() * 0.55),
                   Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom, self.name)
        p.setFont(font(t, mono=True, scale=0.9))
        p.drawText(QRectF(2, self._header() * 0.52, self.width(), self._header() * 0.45),
                   Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.shape_text)
        m, s = len(self.values), self.side
        if self._image is None:
            lut = diverging_lut(t) if self.signed else grey_lut(t)
            lo, hi = (-self.limit, self.limit) if self.signed else (0.0, self.limit)
            # all tiles side by side in one image: one colour mapping, one conversion per repaint
            strip = self.values.reshape(m, s, s).transpose(1, 0, 2).reshape(s, m * s)
            self._image = _to_qimage(colour(strip, lut, lo, hi))
        p.setFont(self._label_font())
        label_w = self._pitch() - 6
        edge = pen(mix(t.foreground, t.background, 0.35), t.pen_width(1))
        for k in range(m):
            rect = self._tile_rect(k)
            p.drawImage(rect, self._image, QRectF(k * s, 0, s, s))
            p.setPen(edge)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(rect)
            p.setPen(qcolor(t.foreground))
            label = self.labels[k] if k < len(self.labels) else str(k)
            p.drawText(QRectF(rect.left(), rect.top() - self._label_h(), max(rect.width(), label_w), self._label_h()),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, label)
        if self.selected is not None and 0 <= self.selected[0] < m:
            i, j = self.selected
            rect = self._tile_rect(i)
            px = rect.width() / s
            cell = QRectF(rect.left() + (j % s) * px, rect.top() + (j // s) * px, px, px).adjusted(-2, -2, 2, 2)
            w = t.pen_width(2)
            p.setPen(pen(t.foreground, w + t.pen_width(2)))
            p.drawRect(cell)
            p.setPen(pen(HIGHLIGHT, w))
            p.drawRect(cell)
            p.setPen(pen(HIGHLIGHT, w))
            p.drawRect(rect.adjusted(-2, -2, 2, 2))
        p.end()


class ColourBar(QWidget):
    """The diverging scale: −limit (blue) … 0 … +limit (vermillion), with the numbers and signs written."""

    def __init__(self, parent=None, theme: Theme = LIGHT, label: str = "∂L/∂W", width: int = 400):
        super().__init__(parent)
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

    def sizeHint(self) -> QSize:
        s = self.theme.font_scale
        return QSize(int(self.base_width * s), int(64 * s))

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def paintEvent(self, event) -> None:
        t = self.theme
        p = QPainter(self)
        p.fillRect(self.rect(), qcolor(t.background))
        s = t.font_scale
        bar = QRectF(4, 4, self.width() - 8, 14 * s)
        lut = diverging_lut(t) if self.signed else grey_lut(t)
        p.drawImage(bar, _to_qimage(lut[None, :, :]))
        p.setPen(pen(t.foreground, t.pen_width(1)))
        p.drawRect(bar)
        p.setFont(font(t, scale=0.9))
        lo = f"−{fmt(self.limit)}" if self.signed else "0"
        hi = f"+{fmt(self.limit)}" if self.signed else f"{fmt(self.limit)}"
        line = 20 * s
        text_r = QRectF(4, bar.bottom() + 2, bar.width(), line)
        p.drawText(text_r, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, lo)
        p.drawText(text_r, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop, hi)
        if self.signed:
            p.drawText(text_r, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, "0")
        key = f"{self.label}: blue < 0 < vermillion" if self.signed else self.label
        p.drawText(QRectF(4, bar.bottom() + 2 + line, bar.width(), line),
                   Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, key)
        p.end()
