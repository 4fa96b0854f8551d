"""C drawn as the launched grid: blocks, warps, lanes, idle threads, the step's active threads, the selection.

All per-pixel values come from :mod:`gpuviz.model.grid_view`; this module only
turns them into RGBA images (palette lookups with ``np.take``) and line items.
Layers, bottom to top: the launch (static: recomputed when the view's range
or the launch changes), the step's masked lanes (recomputed per step, and only
when the active set differs), C's writes, warp and block boundaries, the edge
of C, the focus outline, the selected thread, and per-thread labels when few
enough cells are on screen.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import QColor, QFont, QFontMetricsF

from ...model.grid_view import (
    AxisSampling,
    GridGeometry,
    active_fraction,
    block_colour_index,
    block_index_label,
    block_label,
    grid_layers,
    outline_segments,
    per_cell,
    thread_label,
    thread_numbers,
    visible_blocks,
)
from ..style import font, mix, pen  # noqa: F401  (pen: re-exported for the views that import it from here)
from ..theme import Theme, block_palette, text_colour_on

#: At most this many cells on screen get per-thread labels (one painter call each).
LABEL_CELLS = 1024
#: Opacity (0–255) of the veil over a thread that is masked in the step.
MASK_ALPHA = 150
#: Block lines are drawn once a block is at least this many pixels across; warp lines likewise per warp row.
MIN_LINE_SPACING_PX = 5


def luminance(rgb) -> float:
    r, g, b = (float(v) for v in rgb[:3])
    return 0.299 * r + 0.587 * g + 0.114 * b


def text_colour_for(rgb) -> tuple[int, int, int]:
    """Black or white, whichever contrasts more with ``rgb`` (WCAG: at least 4.5:1 on any colour)."""
    return text_colour_on(rgb[:3])


def c_palette(theme: Theme) -> np.ndarray:
    """RGBA palette of the launch layer: index ``2·colour + (warp odd)`` for threads inside C,
    ``14 + 2·colour + stripe`` for idle ones (grey, hatched, with a hint of their block's colour)."""
    blocks = block_palette(theme)[:, :3].astype(float)
    bg = np.array(theme.panel_background, float)
    busy = np.empty((7, 2, 3))
    busy[:, 0] = blocks
    busy[:, 1] = 0.62 * blocks + 0.38 * bg  # odd warps: lighter on light themes, darker on dark ones
    idle_rgb = np.array(theme.idle, float)
    stripe = np.array(mix(theme.foreground, theme.idle, 0.38), float)
    idle = np.empty((7, 2, 3))
    idle[:, 0] = 0.8 * idle_rgb + 0.2 * blocks
    idle[:, 1] = 0.8 * stripe + 0.2 * blocks
    rgb = np.concatenate([busy.reshape(14, 3), idle.reshape(14, 3)])
    return np.concatenate([np.round(rgb), np.full((28, 1), 255)], axis=1).astype(np.uint8)


def mask_lut(theme: Theme) -> np.ndarray:
    """RGBA veil by masked fraction ``i/255``: transparent over active threads, panel colour over masked ones."""
    lut = np.zeros((256, 4), np.uint8)
    lut[:, :3] = theme.panel_background
    lut[:, 3] = np.round(np.linspace(0, MASK_ALPHA, 256)).astype(np.uint8)
    return lut


def segments_xy(segs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, 2, 2) segments as the x and y arrays of a ``connect="pairs"`` curve."""
    if len(segs) == 0:
        return np.zeros(0), np.zeros(0)
    flat = segs.reshape(-1, 2)
    return flat[:, 0].astype(float), flat[:, 1].astype(float)


def hatch_period(theme: Theme) -> int:
    """Width in layout pixels of one stripe of the idle threads' hatch (a device pixel ratio enlarges it)."""
    return max(2, int(round(theme.layout_width(3))))


class CellLabels(pg.GraphicsObject):
    """Text at the centre of cells, drawn at screen size in one paint call (for a zoomed-in block).

    Each cell gets a main line (e.g. the lane) and, where the cell is large
    enough on screen, a second smaller line (e.g. ``(tx,ty)``); cells too
    small for their text get none.
    """

    def __init__(self):
        super().__init__()
        self._x = np.zeros(0)
        self._y = np.zeros(0)
        self._main: list[str] = []
        self._sub: list[str] = []
        self._colours: list[QColor] = []
        self._font = QFont()
        self._bounds = QRectF()
        self._widest: tuple[float, float] | None = None  # (main, sub) advances in the current font

    def set_labels(self, x, y, main, sub, colours, font: QFont) -> None:
        """Cells whose top-left corners are (x, y), with their texts and text colours."""
        self.prepareGeometryChange()
        self._x, self._y = np.asarray(x, float), np.asarray(y, float)
        self._main, self._sub = list(main), list(sub)
        self._colours = [QColor(*c) for c in colours]
        self._font = QFont(font)
        self._widest = None
        if len(self._x):
            self._bounds = QRectF(self._x.min(), self._y.min(), self._x.max() - self._x.min() + 1,
                                  self._y.max() - self._y.min() + 1)
        else:
            self._bounds = QRectF()
        self.update()

    def clear(self) -> None:
        self.set_labels([], [], [], [], [], self._font)

    @property
    def count(self) -> int:
        return len(self._main)

    def boundingRect(self) -> QRectF:
        return self._bounds

    def widest(self) -> tuple[float, float]:
        """The advances of the widest main and second-line texts (0 for none), in the labels' fonts."""
        if self._widest is None:
            # measured once per label set, over the distinct texts: every paint asks (and the block labels ask
            # whether these are drawn), and a 32×32 grid repeats 64 numbers and 32 lanes over 1024 cells
            fm_big, fm_small = QFontMetricsF(self._font), QFontMetricsF(self._small_font())
            main = max((fm_big.horizontalAdvance(t) for t in set(self._main)), default=0.0)
            sub = max((fm_small.horizontalAdvance(t) for t in set(self._sub) if t), default=0.0)
            self._widest = (main, sub)
        return self._widest

    def _small_font(self) -> QFont:
        small = QFont(self._font)
        small.setPointSizeF(self._font.pointSizeF() * 0.9)  # a figure's least text: 0.9 of the body size
        return small

    def fits(self, tr) -> bool:
        """Whether the labels are drawn at the view transform ``tr`` (each cell wide enough for its text)."""
        if not self._main:
            return False
        return abs(tr.m11()) >= self.widest()[0] + 2 and abs(tr.m22()) >= QFontMetricsF(self._font).height()

    def paint(self, p, *args):
        if not self._main:
            return
        tr = p.transform()
        cell_w, cell_h = abs(tr.m11()), abs(tr.m22())
        if not self.fits(tr):
            return
        big, small = QFont(self._font), self._small_font()
        fm_big, fm_small = QFontMetricsF(big), QFontMetricsF(small)
        widest_sub = self.widest()[1]
        two_lines = bool(widest_sub) and cell_w >= widest_sub + 4 and cell_h >= fm_big.height() + fm_small.height() + 2
        p.save()
        p.resetTransform()  # device coordinates: the text keeps its size whatever the zoom
        flags = Qt.AlignmentFlag.AlignCenter
        for x, y, main, sub, colour in zip(self._x, self._y, self._main, self._sub, self._colours):
            corner = tr.map(QPointF(x, y))
            far = tr.map(QPointF(x + 1, y + 1))
            rect = QRectF(corner, far).normalized()
            p.setPen(colour)
            if two_lines:
                h1, h2 = fm_big.height(), fm_small.height()
                top = rect.center().y() - (h1 + h2) / 2
                p.setFont(big)
                p.drawText(QRectF(rect.left(), top, rect.width(), h1), flags, main)
                p.setFont(small)
                p.drawText(QRectF(rect.left(), top + h1, rect.width(), h2), flags, sub)
            else:
                p.setFont(big)
                p.drawText(rect, flags, main)
        p.restore()


class BlockLabels(pg.GraphicsObject):
    """Each block's number at its centre (``13``) and, where the block has room, ``blockIdx (1, 3)`` under
    it, drawn at screen size; left out where the threads' own labels are drawn (:class:`CellLabels`)."""

    def __init__(self, cells: CellLabels):
        super().__init__()
        self.cells = cells
        self._blocks: list[tuple[QRectF, str, str, QColor, QColor]] = []
        self._font = QFont()
        self._bounds = QRectF()
        self._advances: list[tuple[float, float]] | None = None  # (number, blockIdx text) widths per block

    def set_blocks(self, blocks, font: QFont) -> None:
        """``blocks``: (rect in cell units, number, blockIdx text, text colour, plate colour) of each block on
        screen; the text sits on a plate of its own colour, so it reads whatever shades it lies across."""
        self.prepareGeometryChange()
        self._blocks = [(QRectF(r), a, b, QColor(*c), QColor(*plate)) for r, a, b, c, plate in blocks]
        self._font = QFont(font)
        self._advances = None
        self._bounds = QRectF()
        for r, *_ in self._blocks:
            self._bounds = self._bounds.united(r)
        self.update()

    def clear(self) -> None:
        self.set_blocks([], self._font)

    def _fonts(self) -> tuple[QFont, QFont]:
        big = QFont(self._font)
        small = QFont(self._font)
        small.setBold(False)
        small.setPointSizeF(self._font.pointSizeF() * 0.7)  # 0.9 of the body size: a figure's least text
        return big, small

    def shown(self, tr) -> list[tuple[str, str]]:
        """(number, blockIdx text or "") of each block labelled at the view transform ``tr``."""
        if not self._blocks or self.cells.fits(tr):
            return []
        big, small = self._fonts()
        fm_big, fm_small = QFontMetricsF(big), QFontMetricsF(small)
        if self._advances is None:  # measured once per set of blocks: every paint of the plot asks
            self._advances = [(fm_big.horizontalAdvance(number), fm_small.horizontalAdvance(idx))
                              for _, number, idx, _, _ in self._blocks]
        out = []
        for (r, number, idx, _, _), (w_number, w_idx) in zip(self._blocks, self._advances):
            w, h = abs(tr.m11()) * r.width(), abs(tr.m22()) * r.height()
            if w < w_number + 4 or h < fm_big.height():
                continue
            room = w >= w_idx + 6 and h >= fm_big.height() + fm_small.height() + 4
            out.append((number, idx if room else ""))
        return out

    def boundingRect(self) -> QRectF:
        return self._bounds

    def paint(self, p, *args):
        tr = p.transform()
        shown = dict(self.shown(tr))
        if not shown:
            return
        big, small = self._fonts()
        fm_big, fm_small = QFontMetricsF(big), QFontMetricsF(small)
        p.save()
        p.resetTransform()
        flags = Qt.AlignmentFlag.AlignCenter
        for (r, number, _idx, colour, plate), (w_number, w_idx) in zip(self._blocks, self._advances):
            if number not in shown:
                continue
            rect = QRectF(tr.map(r.topLeft()), tr.map(r.bottomRight())).normalized()
            sub = shown[number]
            h = fm_big.height() + (fm_small.height() if sub else 0)
            top = rect.center().y() - h / 2
            w = max(w_number, w_idx if sub else 0) + 6
            p.fillRect(QRectF(rect.center().x() - w / 2, top, w, h), plate)
            p.setPen(colour)
            p.setFont(big)
            p.drawText(QRectF(rect.left(), top, rect.width(), fm_big.height()), flags, number)
            if sub:
                p.setFont(small)
                p.drawText(QRectF(rect.left(), top + fm_big.height(), rect.width(), fm_small.height()), flags, sub)
        p.restore()


def visible_cells(vb: pg.ViewBox, shape, ratio: float = 1.0) -> tuple[AxisSampling, AxisSampling] | None:
    """The cells of an array of ``shape`` on screen in ``vb`` and their screen pixels, or None; with ``ratio``
    (a device pixel ratio) in device pixels, so a HiDPI screen or a 2× export gets an image as sharp as it."""
    if vb.width() < 2 or vb.height() < 2:
        return None
    (x0, x1), (y0, y1) = vb.viewRange()
    rows, cols = shape
    r0, r1 = max(0, int(np.floor(y0))), min(rows, int(np.ceil(y1)))
    c0, c1 = max(0, int(np.floor(x0))), min(cols, int(np.ceil(x1)))
    if r0 >= r1 or c0 >= c1:
        return None
    w = int(np.clip(round(ratio * (c1 - c0) * vb.width() / max(x1 - x0, 1e-9)), 1, 8192))
    h = int(np.clip(round(ratio * (r1 - r0) * vb.height() / max(y1 - y0, 1e-9)), 1, 8192))
    return AxisSampling.of(r0, r1, h), AxisSampling.of(c0, c1, w)


def _rect_curve() -> pg.PlotCurveItem:
    return pg.PlotCurveItem(connect="pairs", antialias=False)


class CGridView:
    """The C plot: launch layer, step veil, writes, boundaries, focus and selection.

    Zoomed out until a block is under :attr:`FAR_BLOCK_PX` pixels, the block
    colours alias into stripes that mean nothing; they are then muted (mixed
    with the background) and the panel says so.

    Parameters
    ----------
    plot : pyqtgraph.PlotItem
        The plot to draw in (its view box is set to image coordinates: y down, square cells).
    theme : Theme
        Colours and line widths.
    """

    FAR_BLOCK_PX = 5.0

    def __init__(self, plot: pg.PlotItem, theme: Theme):
        self.plot = plot
        self.theme = theme
        vb = plot.getViewBox()
        vb.invertY(True)
        vb.setMenuEnabled(False)
        plot.hideButtons()
        self.launch_image = pg.ImageItem(axisOrder="row-major")
        self.veil_image = pg.ImageItem(axisOrder="row-major")
        self.write_image = pg.ImageItem(axisOrder="row-major")
        self.warp_lines = _rect_curve()
        self.block_lines = _rect_curve()
        self.edge = _rect_curve()
        self.focus_halo = _rect_curve()
        self.focus_outline = _rect_curve()
        self.selected_halo = _rect_curve()
        self.selected_outline = _rect_curve()
        self.labels = CellLabels()
        self.block_labels = BlockLabels(self.labels)
        for z, item in enumerate((self.launch_image, self.veil_image, self.write_image, self.warp_lines,
                                  self.block_lines, self.edge, self.labels, self.block_labels, self.focus_halo,
                                  self.focus_outline,
                                  self.selected_halo, self.selected_outline)):
            item.setZValue(z)
            plot.addItem(item)
        self.geometry: GridGeometry | None = None
        self.rows: AxisSampling | None = None
        self.cols: AxisSampling | None = None
        self.layers = None
        self._veil_key = None
        self._cells = None
        self.ratio = 1.0
        self.set_theme(theme)

    # -- look -----------------------------------------------------------------------------------

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self._palette = c_palette(theme)
        far = self._palette.astype(float)
        far[:, :3] = 0.55 * far[:, :3] + 0.45 * np.array(theme.panel_background, float)
        self._palette_far = np.round(far).astype(np.uint8)
        self._mask_lut = mask_lut(theme)
        self.block_lines.setPen(pen(theme.grid_line, theme.pen_width(1.6)))
        self.warp_lines.setPen(pen(theme.warp_line, theme.pen_width(1.0), Qt.PenStyle.DashLine))
        self.edge.setPen(pen(theme.foreground, theme.pen_width(2.4), Qt.PenStyle.DotLine))
        # a halo under the dashed focus outline keeps it visible where it runs along a block boundary
        self.focus_halo.setPen(pen(theme.panel_background, theme.pen_width(5.0)))
        self.focus_outline.setPen(pen(theme.selected, theme.pen_width(2.6), Qt.PenStyle.DashLine))
        self.selected_halo.setPen(pen(theme.panel_background, theme.pen_width(5.0)))
        self.selected_outline.setPen(pen(theme.selected, theme.pen_width(2.6)))
        self._veil_key = None

    # -- geometry and level of detail -----------------------------------------------------------

    def set_geometry(self, geometry: GridGeometry) -> None:
        """A new launch: show all of it."""
        self.geometry = geometry
        rows, cols = geometry.shape
        vb = self.plot.getViewBox()
        span = max(rows, cols)
        vb.setLimits(xMin=-0.6 * span, xMax=cols + 0.6 * span, yMin=-0.6 * span, yMax=rows + 0.6 * span,
                     minXRange=1, minYRange=1)
        self.rows = self.cols = None
        self.layers = None
        self._veil_key = None
        m, n = geometry.c_shape
        if (m, n) != (rows, cols):
            x = np.array([0, n, n, n, n, 0, 0, 0], float)
            y = np.array([0, 0, 0, m, m, m, m, 0], float)
            self.edge.setData(x, y)
        else:
            self.edge.setData([], [])

    def visible_sampling(self) -> tuple[AxisSampling, AxisSampling] | None:
        """The cells on screen and the screen pixels they span, or None before the view has a size."""
        if self.geometry is None:
            return None
        self.ratio = self.device_ratio()
        return visible_cells(self.plot.getViewBox(), self.geometry.shape, self.ratio)

    def device_ratio(self) -> float:
        """Device pixels per layout pixel: the screen's (HiDPI), or an export's (its theme's pixel ratio)."""
        views = self.plot.scene().views() if self.plot.scene() is not None else []
        screen = max((v.devicePixelRatioF() for v in views), default=1.0)
        return float(max(1.0, screen, self.theme.pixel_ratio))

    def update_sampling(self) -> bool:
        """Re-render the launch layer if the cells on screen or their resolution changed; True if so."""
        s = self.visible_sampling()
        if s is None:
            return False
        rows, cols = s
        if self.rows is not None and _same(rows, self.rows) and _same(cols, self.cols):
            return False
        self.rows, self.cols = rows, cols
        self._cells = None
        self.render_launch()
        return True

    # -- layers -----------------------------------------------------------------------------------

    def render_launch(self) -> None:
        """Blocks, warps and idle threads at the current sampling (step-independent)."""
        if self.rows is None:
            return
        g, rows, cols, theme = self.geometry, self.rows, self.cols, self.theme
        layers = grid_layers(g, rows, cols)
        self.layers = layers
        ids = (layers.colour << 1) | (layers.warp & 1).astype(np.uint8)
        if layers.idle.any():
            k = max(1, int(round(hatch_period(theme) * self.ratio)))  # the image is in device pixels
            stripe = ((np.arange(rows.pixels)[:, None] + np.arange(cols.pixels)[None, :]) // k) & 1
            ids = np.where(layers.idle, 14 + 2 * layers.colour + stripe, ids).astype(np.uint8)
        palette = self._palette if self.block_pixels() >= self.FAR_BLOCK_PX else self._palette_far
        rgba = np.take(palette, ids, axis=0)
        rect = QRectF(cols.start, rows.start, cols.extent, rows.extent)
        self.launch_image.setImage(rgba, autoLevels=False)
        self.launch_image.setRect(rect)
        self._veil_key = None
        self._render_lines()
        self._render_labels()

    def block_pixels(self) -> float:
        """Screen pixels across the smaller side of a block at the current sampling."""
        if self.rows is None:
            return 0.0
        bh, bw = self.geometry.block_cells
        return min(bh * self.rows.pixels / self.rows.extent, bw * self.cols.pixels / self.cols.extent) / self.ratio

    def _render_lines(self) -> None:
        g, rows, cols = self.geometry, self.rows, self.cols
        bh, bw = g.block_cells
        px_per_row = rows.pixels / rows.extent / self.ratio  # layout pixels: the thresholds are a reader's
        px_per_col = cols.pixels / cols.extent / self.ratio
        if min(bh * px_per_row, bw * px_per_col) >= MIN_LINE_SPACING_PX:
            self.block_lines.setData(*segments_xy(g.block_boundaries(rows, cols)))
        else:
            self.block_lines.setData([], [])
        if min(px_per_row, px_per_col) * 2 >= MIN_LINE_SPACING_PX:
            self.warp_lines.setData(*segments_xy(g.warp_lines(rows, cols)))
        else:
            self.warp_lines.setData([], [])

    def _render_labels(self) -> None:
        self._render_block_labels()
        rows, cols, theme = self.rows, self.cols, self.theme
        if rows.extent * cols.extent > LABEL_CELLS or self.geometry is None:
            self.labels.clear()
            return
        # only cells wholly on screen: a label cut by the view's edge misreads ("7" becomes "-7")
        (x0, x1), (y0, y1) = self.plot.getViewBox().viewRange()
        r_lo, r_hi = max(rows.start, int(np.ceil(y0 - 1e-9))), min(rows.stop, int(np.floor(y1 + 1e-9)))
        c_lo, c_hi = max(cols.start, int(np.ceil(x0 - 1e-9))), min(cols.stop, int(np.floor(x1 + 1e-9)))
        if r_lo >= r_hi or c_lo >= c_hi:
            self.labels.clear()
            return
        r, c = np.meshgrid(np.arange(r_lo, r_hi), np.arange(c_lo, c_hi), indexing="ij")
        r, c = r.ravel(), c.ravel()
        g = self.geometry
        num = thread_numbers(g, r, c)
        m, n = g.c_shape
        idle = (r >= m) | (c >= n)
        colour = block_colour_index(num.bx, num.by)
        idx = np.where(idle, 14 + 2 * colour, 2 * colour + (num.warp & 1))
        colours = [text_colour_on(self._palette[i][:3], preferred=theme.foreground) for i in idx]
        # the lecture's numbering: threads 0–63 of a block (32–63 in warp 1), the lane only as a second line
        main = [f"{v}" for v in num.thread]
        sub = [f"lane {v}" for v in num.lane]
        f = font(theme, bold=True, scale=1.0)
        self.labels.set_labels(c, r, main, sub, colours, f)

    def _render_block_labels(self) -> None:
        g, rows, cols, theme = self.geometry, self.rows, self.cols, self.theme
        blocks = visible_blocks(g, rows, cols, most=1024) if g is not None else None
        if blocks is None:
            self.block_labels.clear()
            return
        m, n = g.c_shape
        out = []
        for bx, by, number, r0, c0, h, w in zip(blocks["bx"], blocks["by"], blocks["number"], blocks["row0"],
                                                 blocks["col0"], blocks["rows"], blocks["cols"]):
            # the label sits where the block's two warp shades meet (and an edge block may be half idle): it
            # gets a plate of the block's own colour, and the text the colour that reads on that
            colour = int(block_colour_index(bx, by))
            idle_centre = r0 + h // 2 >= m or c0 + w // 2 >= n  # an edge block whose middle lies beyond C
            plate = tuple(int(v) for v in self._palette[14 + 2 * colour if idle_centre else 2 * colour][:3])
            out.append((QRectF(float(c0), float(r0), float(w), float(h)), f"{int(number)}",
                        block_index_label(bx, by), text_colour_on(plate, preferred=theme.foreground), plate))
        self.block_labels.set_blocks(out, font(theme, bold=True, scale=1.3))

    def render_veil(self, active_bins: np.ndarray | None) -> None:
        """Dim the threads masked in the step (``active_bins``: a frame's ``active`` for :meth:`threads_viewport`)."""
        if self.rows is None:
            return
        if active_bins is None:
            self.veil_image.clear()
            self._veil_key = None
            return
        key = (_key(self.rows), _key(self.cols), active_bins.shape)
        if self._veil_key is not None and self._veil_key[0] == key and np.array_equal(self._veil_key[1], active_bins):
            return  # same threads masked as in the last step: nothing to redraw
        if self._cells is None or self._cells.shape != (self.rows.bins, self.cols.bins):
            self._cells = np.multiply.outer(self.rows.bin_cells(), self.cols.bin_cells()).astype(np.int32)
        cells = self._cells
        inactive = cells - self.geometry.to_c_orientation(active_bins).astype(np.int32)
        # the masked fraction as 0..255, in integers: this runs on every step at screen resolution
        masked = ((255 * inactive + cells // 2) // cells).astype(np.uint8)
        if not masked.any():
            self.veil_image.clear()
        else:
            # at the bins' resolution: Qt scales it up (nearest) when zoomed in, where a bin is one cell
            rgba = np.take(self._mask_lut, masked, axis=0)
            self.veil_image.setImage(rgba, autoLevels=False)
            self.veil_image.setRect(QRectF(self.cols.start, self.rows.start, self.cols.extent, self.rows.extent))
        self._veil_key = (key, active_bins.copy())

    def active_fraction(self, active_bins: np.ndarray) -> np.ndarray:
        """Per screen pixel, the active fraction (for tests and the legend)."""
        return active_fraction(self.geometry, self.rows, self.cols, active_bins)

    def c_sampling(self) -> tuple[AxisSampling, AxisSampling] | None:
        """The part of C (without the overhang) on screen, sampled at the same density."""
        if self.rows is None:
            return None
        m, n = self.geometry.c_shape
        out = []
        for s, limit in ((self.rows, m), (self.cols, n)):
            stop = min(s.stop, limit)
            if stop <= s.start:
                return None
            pixels = max(1, int(round(s.pixels * (stop - s.start) / s.extent)))
            out.append(AxisSampling.of(s.start, stop, pixels))
        return out[0], out[1]

    def render_writes(self, sampling, writes: np.ndarray | None, colour) -> None:
        """Elements of C written in the step (by the focus threads), in the theme's write colour."""
        if sampling is None or writes is None or not writes.any():
            self.write_image.clear()
            return
        rows, cols = sampling
        frac = np.clip(per_cell(rows, cols, writes), 0, 1)
        alpha = np.round(frac * 150).astype(np.uint8)  # the block colours stay visible through it
        lut = np.zeros((256, 4), np.uint8)
        lut[:, :3] = colour
        lut[:, 3] = np.arange(256)
        rgba = np.take(lut, alpha, axis=0)
        self.write_image.setImage(rgba, autoLevels=False)
        self.write_image.setRect(QRectF(cols.start, rows.start, cols.extent, rows.extent))

    def render_selection(self, selected_cell, focus_cells) -> None:
        """Outline the selected thread's cell (row, col) and the focus threads' cells (rows, cols) or None."""
        if selected_cell is None:
            self.selected_outline.setData([], [])
            self.selected_halo.setData([], [])
        else:
            r, c = selected_cell
            x, y = segments_xy(outline_segments([r], [c]))
            self.selected_halo.setData(x, y)
            self.selected_outline.setData(x, y)
        if focus_cells is None:
            self.focus_outline.setData([], [])
            self.focus_halo.setData([], [])
        else:
            x, y = segments_xy(outline_segments(*focus_cells))
            self.focus_halo.setData(x, y)
            self.focus_outline.setData(x, y)

    def tooltip_at(self, row: int, col: int, names=("A", "B", "C")) -> str:
        """What hovering cell (row, col) of the launched grid says: the thread by the lecture's numbering (the
        same words as the tree and the block view) and the element of C it computes, or that it is idle."""
        g = self.geometry
        if g is None:
            return ""
        rows, cols = g.shape
        if not (0 <= row < rows and 0 <= col < cols):
            return ""
        n = thread_numbers(g, row, col)
        text = (f"{thread_label(int(n.thread), int(n.lane))} · warp {int(n.warp)} · threadIdx ({int(n.tx)}, "
                f"{int(n.ty)}) · {block_label(int(n.bx), int(n.by), g.mapping.launch.grid.x, long=True)}")
        m, nn = g.c_shape
        if row >= m or col >= nn:
            return text + " · idle (beyond " + names[2] + ")"
        return text + f" · computes {names[2]}[{row}, {col}]"

    def hovered(self, scene_pos, names=("A", "B", "C")) -> None:
        """Name the thread under the mouse in C's tooltip (the view box's, as A's and B's are theirs)."""
        vb = self.plot.getViewBox()
        if not vb.sceneBoundingRect().contains(scene_pos):
            return
        cell = self.cell_at(scene_pos)
        vb.setToolTip("" if cell is None else self.tooltip_at(*cell, names=names))

    def cell_at(self, scene_pos) -> tuple[int, int] | None:
        """The (row, col) of the launched grid under a scene position, or None outside it."""
        if self.geometry is None:
            return None
        p = self.plot.getViewBox().mapSceneToView(scene_pos)
        row, col = int(np.floor(p.y())), int(np.floor(p.x()))
        rows, cols = self.geometry.shape
        if 0 <= row < rows and 0 <= col < cols:
            return row, col
        return None


def _key(s: AxisSampling) -> tuple[int, int, int]:
    return (s.start, s.stop, s.pixels)


def _same(a: AxisSampling, b: AxisSampling) -> bool:
    return _key(a) == _key(b)
