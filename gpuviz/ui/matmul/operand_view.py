"""A or B beside C: the elements the focus threads read in the current step (or so far), as a heat map.

The counts come from the scene's frame (or its cumulative reads), binned to
the pixels on screen; this module colours them with one shared scale (A and
B use the same one, so their shades compare), outlines the selected thread's
row of A or column of B, and, zoomed in, writes each read element's count in
its cell as a second cue to the colour (in black, white or the theme's text
colour, whichever reads on the cell: :func:`~gpuviz.ui.theme.text_colour_on`).
Hovering an element names it in the scenario's names (``W[2, 5]``) and says how
often the threads in focus read it.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QRectF, Qt

from ...model.grid_view import AxisSampling, per_cell
from ...model.scene import DEFAULT_NAMES
from ..style import font, mix, okabe
from ..theme import Theme, text_colour_on
from .c_view import LABEL_CELLS, CellLabels, pen, segments_xy, visible_cells

#: Heat ramps (low → high reads per element), chosen to stand out on each theme's matrix background.
HEAT_LIGHT = ((244, 178, 80), (225, 125, 10), (190, 72, 0), (105, 32, 4))
HEAT_DARK = ((205, 85, 10), (230, 140, 0), (240, 200, 40), (255, 250, 170))


def heat_lut(theme: Theme) -> np.ndarray:
    """256 RGBA entries: 0 transparent (not read), 1–255 the ramp from the fewest to the most reads."""
    stops = np.array(HEAT_DARK if theme.dark else HEAT_LIGHT, float)
    t = np.linspace(0, 1, 255)
    pos = np.linspace(0, 1, len(stops))
    rgb = np.stack([np.interp(t, pos, stops[:, i]) for i in range(3)], axis=1)
    lut = np.zeros((256, 4), np.uint8)
    lut[1:, :3] = np.round(rgb)
    lut[1:, 3] = 255
    return lut


def heat_index(values: np.ndarray, vmax: float) -> np.ndarray:
    """LUT index per value: 0 for none, 1–255 in proportion to ``values / vmax`` for reads."""
    if vmax <= 0:
        return np.zeros(values.shape, np.uint8)
    idx = 1 + np.round(254 * np.clip(values / vmax, 0, 1))
    return np.where(values > 0, idx, 0).astype(np.uint8)


def copy_colour(theme: Theme) -> tuple[int, int, int]:
    """The "read through its copy in shared memory" cue: Okabe–Ito bluish green (lighter on dark themes)."""
    return (60, 200, 160) if theme.dark else okabe("bluish_green")


def copy_pen(theme: Theme, base: float = 2.2):
    """The dashed outline of an element read through its copy (A, B) and of the copy read (sA, sB)."""
    return pen(copy_colour(theme), theme.pen_width(base), Qt.PenStyle.DashLine)


def outline_segments(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """The outline of the union of cells ``(rows[i], cols[i])`` as line segments ``(n, 2, 2)`` of (x, y)
    points, with runs of unit edges merged (a column of 4,096 cells is two long lines and two short ones)."""
    rows, cols = np.asarray(rows, np.int64), np.asarray(cols, np.int64)
    if not len(rows):
        return np.zeros((0, 2, 2))
    r0, c0 = rows.min(), cols.min()
    mask = np.zeros((rows.max() - r0 + 3, cols.max() - c0 + 3), bool)  # a free border all round
    mask[rows - r0 + 1, cols - c0 + 1] = True
    segs = []
    horiz = mask[1:, :] != mask[:-1, :]  # edge between row i and i+1 of the padded mask: y = r0 + i
    for y, x0, x1 in _runs(horiz):
        segs.append(((c0 + x0 - 1, r0 + y), (c0 + x1 - 1, r0 + y)))
    vert = (mask[:, 1:] != mask[:, :-1]).T  # edge between column j and j+1: x = c0 + j
    for x, y0, y1 in _runs(vert):
        segs.append(((c0 + x, r0 + y0 - 1), (c0 + x, r0 + y1 - 1)))
    return np.array(segs, float).reshape(-1, 2, 2)


def _runs(edges: np.ndarray):
    """(line, start, stop) of each run of True along axis 1."""
    padded = np.zeros((edges.shape[0], edges.shape[1] + 2), np.int8)
    padded[:, 1:-1] = edges
    d = np.diff(padded, axis=1)
    line, start = np.nonzero(d == 1)
    _, stop = np.nonzero(d == -1)
    return zip(line.tolist(), start.tolist(), stop.tolist())



class OperandView:
    """The A or B plot.

    Parameters
    ----------
    plot : pyqtgraph.PlotItem
        The plot to draw in.
    name : str
        ``"A"`` (rows linked to C's rows) or ``"B"`` (columns linked to C's columns): its role, whatever
        the scenario calls it (:meth:`set_names`).
    theme : Theme
        Colours and line widths.
    """

    def __init__(self, plot: pg.PlotItem, name: str, theme: Theme):
        self.plot = plot
        self.name = name
        vb = plot.getViewBox()
        vb.invertY(True)
        vb.setMenuEnabled(False)
        plot.hideButtons()
        self.background = pg.QtWidgets.QGraphicsRectItem()
        self.heat_image = pg.ImageItem(axisOrder="row-major")
        self.cell_lines = pg.PlotCurveItem(connect="pairs", antialias=False)
        self.border = pg.PlotCurveItem(connect="pairs", antialias=False)
        self.selected_halo = pg.PlotCurveItem(connect="pairs", antialias=False)
        self.selected_outline = pg.PlotCurveItem(connect="pairs", antialias=False)
        self.labels = CellLabels()
        # elements read through their copies in shared memory (the tiled kernel's multiply steps)
        self.copy_fill = pg.ImageItem(axisOrder="row-major")
        self.copy_outline = pg.PlotCurveItem(connect="pairs", antialias=False)
        self.copies: tuple[np.ndarray, np.ndarray] | None = None
        # the selected row / column goes under the heat: for one thread the reads lie inside it
        for z, item in enumerate((self.background, self.cell_lines, self.selected_halo, self.selected_outline,
                                  self.copy_fill, self.heat_image, self.border, self.copy_outline, self.labels)):
            item.setZValue(z)
            plot.addItem(item)
        self.shape: tuple[int, int] | None = None
        self.rows: AxisSampling | None = None
        self.cols: AxisSampling | None = None
        self.values: np.ndarray | None = None  # per bin: reads per element, for tests and labels
        self.names: tuple[str, str, str] = DEFAULT_NAMES
        self.bias: str | None = None
        #: whether the heat is the reads so far (True), this step's (False), or not said (None)
        self.cumulative: bool | None = None
        vb.setToolTip("")
        if plot.scene() is not None:
            plot.scene().sigMouseMoved.connect(self._hovered)
        self.set_theme(theme)

    # -- names and hovering -------------------------------------------------------------------------

    def set_names(self, names=DEFAULT_NAMES, bias: str | None = None) -> None:
        """Call A, B and C by ``names`` (:attr:`MatmulScene.names`) in tooltips; ``bias`` as
        :attr:`MatmulScene.bias`."""
        self.names = tuple(names)
        self.bias = bias

    @property
    def display_name(self) -> str:
        """What this operand is called: ``W`` for A in the dense-layer presets."""
        return self.names[0] if self.name == "A" else self.names[1]

    def _hovered(self, scene_pos) -> None:
        vb = self.plot.getViewBox()
        if not vb.sceneBoundingRect().contains(scene_pos):
            return
        p = vb.mapSceneToView(scene_pos)
        vb.setToolTip(self.tooltip_at(p.x(), p.y()))

    def tooltip_at(self, x: float, y: float) -> str:
        """What the element under the point (``x``, ``y``) of the plot is, in the operands' names ("" off it)."""
        if self.shape is None:
            return ""
        r, c = int(np.floor(y)), int(np.floor(x))
        rows, cols = self.shape
        if not (0 <= r < rows and 0 <= c < cols):
            return ""
        a, b, result = self.names
        if self.name == "A":
            lines = [f"{a}[{r}, {c}]: row {r} of {a}, k = {c}", f"row {r} of {a} feeds row {r} of {result}"]
        else:
            lines = [f"{b}[{r}, {c}]: k = {r}, column {c} of {b}", f"column {c} of {b} feeds column {c} of {result}"]
        reads = self._reads_at(r, c)
        if reads is not None:
            when = {True: "so far", False: "this step", None: "as coloured"}[self.cumulative]
            if reads[1] == 1:
                n = int(round(reads[0]))
                lines.append(f"read {n:,} time{'s' if n != 1 else ''} by the threads in focus, {when}")
            else:
                lines.append(f"about {reads[0]:,.2f} reads per element by the threads in focus, {when} "
                             f"(averaged over the {reads[1]:,} elements this pixel shows)")
        if self.copies is not None and np.any((self.copies[0] == r) & (self.copies[1] == c)):
            tile = "sA" if self.name == "A" else "sB"
            lines.append(f"read through its copy in shared memory ({tile})")
        return "\n".join(lines)

    def _reads_at(self, r: int, c: int) -> tuple[float, int] | None:
        """(reads per element of the bin holding element (r, c), elements in that bin), or None where the
        heat does not cover it."""
        rs, cs, values = self.rows, self.cols, self.values
        if rs is None or cs is None or values is None or not (rs.start <= r < rs.stop and cs.start <= c < cs.stop):
            return None
        rc, cc = rs.bin_cells(), cs.bin_cells()
        i = int(np.searchsorted(np.cumsum(rc), r - rs.start, side="right"))
        j = int(np.searchsorted(np.cumsum(cc), c - cs.start, side="right"))
        if not (i < values.shape[0] and j < values.shape[1]):
            return None
        return float(values[i, j]), int(rc[i] * cc[j])

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self._lut = heat_lut(theme)
        base = mix(theme.foreground, theme.panel_background, 0.07)
        self.background.setBrush(pg.mkBrush(*base))
        self.background.setPen(pg.mkPen(None))
        self.cell_lines.setPen(pen(mix(theme.foreground, theme.panel_background, 0.25), theme.pen_width(0.8)))
        self.border.setPen(pen(theme.foreground, theme.pen_width(1.4)))
        self.selected_halo.setPen(pen(theme.panel_background, theme.pen_width(4.0)))
        self.selected_outline.setPen(pen(theme.selected, theme.pen_width(2.6)))
        self.copy_outline.setPen(copy_pen(theme))
        if self.copies is not None:
            self.render_copies(*self.copies)

    def set_shape(self, shape: tuple[int, int]) -> None:
        self.shape = shape
        rows, cols = shape
        self.background.setRect(QRectF(0, 0, cols, rows))
        self.border.setData(*segments_xy(_rect_segments(0, 0, cols, rows)))
        vb = self.plot.getViewBox()
        # the axis shared with C follows C (limits there would break the link); the k axis stays near the matrix
        if self.name == "A":
            vb.setLimits(xMin=-0.6 * cols, xMax=1.6 * cols, yMin=None, yMax=None)
        else:
            vb.setLimits(xMin=None, xMax=None, yMin=-0.6 * rows, yMax=1.6 * rows)
        self.rows = self.cols = None

    def update_sampling(self) -> bool:
        """Take the cells on screen; True if they (or their resolution) changed."""
        if self.shape is None:
            return False
        s = visible_cells(self.plot.getViewBox(), self.shape)
        if s is None:
            changed = self.rows is not None
            self.rows = self.cols = None
            return changed
        rows, cols = s
        if self.rows is not None and (rows.start, rows.stop, rows.pixels, cols.start, cols.stop, cols.pixels) == (
                self.rows.start, self.rows.stop, self.rows.pixels, self.cols.start, self.cols.stop, self.cols.pixels):
            return False
        self.rows, self.cols = rows, cols
        self._render_cell_lines()
        return True

    def _render_cell_lines(self) -> None:
        rows, cols = self.rows, self.cols
        if rows.pixels / rows.extent < 8 or cols.pixels / cols.extent < 8:
            self.cell_lines.setData([], [])
            return
        r = np.arange(rows.start + 1, rows.stop)
        c = np.arange(cols.start + 1, cols.stop)
        h = [((cols.start, y), (cols.stop, y)) for y in r]
        v = [((x, rows.start), (x, rows.stop)) for x in c]
        self.cell_lines.setData(*segments_xy(np.array(h + v, float).reshape(-1, 2, 2)))

    def per_cell(self, counts: np.ndarray) -> np.ndarray:
        """Counts per bin (of this view's viewport) as reads per element."""
        return per_cell(self.rows, self.cols, counts)

    def render_heat(self, values: np.ndarray | None, vmax: float) -> None:
        """Colour each pixel by the reads per element of its bin (``values``), on the scale 0..``vmax``."""
        self.values = values
        if self.rows is None or values is None or not np.any(values > 0):
            self.heat_image.clear()
            self.labels.clear()
            return
        idx = heat_index(values, vmax)
        rgba = np.take(self._lut, idx, axis=0)  # per bin; Qt scales it to the rect
        self.heat_image.setImage(rgba, autoLevels=False)
        self.heat_image.setRect(QRectF(self.cols.start, self.rows.start, self.cols.extent, self.rows.extent))
        self._render_labels(values, idx)

    def _render_labels(self, values: np.ndarray, idx: np.ndarray) -> None:
        rows, cols = self.rows, self.cols
        if rows.extent * cols.extent > LABEL_CELLS or rows.bins != rows.extent or cols.bins != cols.extent:
            self.labels.clear()
            return
        rr, cc = np.nonzero(values > 0)
        (x0, x1), (y0, y1) = self.plot.getViewBox().viewRange()
        whole = ((rows.start + rr >= y0 - 1e-9) & (rows.start + rr + 1 <= y1 + 1e-9)
                 & (cols.start + cc >= x0 - 1e-9) & (cols.start + cc + 1 <= x1 + 1e-9))  # no cut-off labels
        rr, cc = rr[whole], cc[whole]
        counts = np.round(values[rr, cc]).astype(np.int64)
        colours = [text_colour_on(tuple(self._lut[i][:3]), preferred=self.theme.foreground) for i in idx[rr, cc]]
        # the figure's smallest text (0.9 of the body size), which the slide look keeps at 18 px or more
        f = font(self.theme, bold=True, scale=0.9)
        self.labels.set_labels(cols.start + cc, rows.start + rr, [str(v) for v in counts], [""] * len(rr),
                               colours, f)

    def render_copies(self, rows: np.ndarray | None, cols: np.ndarray | None = None) -> None:
        """Mark the elements ``(rows[i], cols[i])`` as read through their copies in shared memory: a light
        fill and a dashed outline in the copy colour (None: none this step)."""
        if rows is None or not len(rows):
            self.copies = None
            self.copy_fill.clear()
            self.copy_outline.setData([], [])
            return
        rows, cols = np.asarray(rows, np.int64), np.asarray(cols, np.int64)
        self.copies = (rows, cols)
        r0, c0 = int(rows.min()), int(cols.min())
        h, w = int(rows.max()) - r0 + 1, int(cols.max()) - c0 + 1
        if h * w <= 1 << 22:  # a column of A or a row of B (all blocks): a thin image
            rgba = np.zeros((h, w, 4), np.uint8)
            rgba[rows - r0, cols - c0] = (*copy_colour(self.theme), 90)
            self.copy_fill.setImage(rgba, autoLevels=False)
            self.copy_fill.setRect(QRectF(c0, r0, w, h))
        else:
            self.copy_fill.clear()
        self.copy_outline.setData(*segments_xy(outline_segments(rows, cols)))

    def render_selected(self, index: int | None) -> None:
        """Outline row ``index`` of A or column ``index`` of B (None: the selected thread is idle)."""
        if index is None or self.shape is None:
            self.selected_outline.setData([], [])
            self.selected_halo.setData([], [])
            return
        rows, cols = self.shape
        segs = _rect_segments(0, index, cols, index + 1) if self.name == "A" else _rect_segments(index, 0, index + 1,
                                                                                                 rows)
        x, y = segments_xy(segs)
        self.selected_halo.setData(x, y)
        self.selected_outline.setData(x, y)


def _rect_segments(x0, y0, x1, y1) -> np.ndarray:
    return np.array([((x0, y0), (x1, y0)), ((x1, y0), (x1, y1)), ((x1, y1), (x0, y1)), ((x0, y1), (x0, y0))],
                    float)


__all__ = ["HEAT_DARK", "HEAT_LIGHT", "OperandView", "copy_colour", "copy_pen", "heat_index", "heat_lut",
           "outline_segments"]
