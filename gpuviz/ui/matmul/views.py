"""A, B and C in the classic layout (B above C, A left of C), with their legend.

:class:`MatrixViews` subscribes to the scene and, per change, asks it for one
frame at the resolution on screen (one viewport per array and one for the
thread grid), then hands the pieces to the C grid and to A and B. Panning or
zooming re-samples what is on screen (level of detail), so a 4096×4096 product
costs what the screen shows. Clicking a cell of C selects its thread.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QEvent, QPointF, QRectF, Qt
from PyQt6.QtGui import QBrush, QColor, QFontMetricsF, QImage, QLinearGradient
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from ...model.frames import THREADS, Viewport
from ...model.grid_view import GridGeometry, block_label
from ..style import apply_theme, font, hex_colour, mix, subscribe
from ..theme import Theme
from .block_view import BlockView
from .c_view import MASK_ALPHA, CGridView, c_palette, hatch_period, pen
from .operand_view import OperandView, copy_colour, copy_pen, heat_lut

#: What a view that shows nothing of its array asks the scene for: one element, one pixel.
_NOWHERE = Viewport(0, 1, 0, 1, 1, 1)

FOCUS_TEXT = {"thread": "the selected thread", "warp": "the selected thread's warp",
              "block": "the selected thread's block", "all": "all threads"}


class CellAxis(pg.AxisItem):
    """An axis whose ticks sit at cell centres and read as element indices (cell i spans i..i+1)."""

    def tickValues(self, minVal, maxVal, size):
        levels = super().tickValues(minVal - 0.5, maxVal - 0.5, size)
        out = []
        for spacing, values in levels[:2]:  # major and minor; a third level costs a pan more than it shows
            if spacing < 1:
                continue
            vals = [v + 0.5 for v in values if v >= 0 and float(v).is_integer()]
            out.append((spacing, vals))
        return out

    def tickStrings(self, values, scale, spacing):
        return [f"{int(round(v - 0.5))}" for v in values]


def _plot(graphics: pg.GraphicsLayoutWidget, row: int, col: int) -> pg.PlotItem:
    return graphics.addPlot(row=row, col=col, axisItems={"left": CellAxis("left"), "bottom": CellAxis("bottom")})


class LegendItem(pg.GraphicsWidget):
    """The legend, drawn in the empty corner of the classic layout (above A, left of B).

    A heading (whose reads A and B show), then one row per meaning: a swatch
    drawn with the views' own palettes and its text, so every colour, pattern
    and line of the three matrices is explained next to them. The text shrinks
    (to 70 %) rather than be cut when the corner is small.
    """

    def __init__(self, theme: Theme):
        super().__init__()
        self.theme = theme
        self.heading = ""
        self.vmax = 0.0
        self.cumulative = False
        self.has_idle = True
        self.copies = False
        self.names = ("A", "B", "C")  # the scenario's names for A, B and C (W, x, z in the dense layer)
        self.min_scale = 0.6  # the slide look: 0.95 (its figure's text stays at least 0.9 of the body size)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(120, 80)
        self.set_theme(theme)

    def entries(self) -> list[tuple[str, object, str]]:
        """(key, swatch painter, text) of each row, as drawn."""
        what = "reads so far" if self.cumulative else "reads this step"
        a, b, c = self.names
        rows = [
            ("blocks", self._draw_blocks, "block: colour by blockIdx"),
            ("warps", self._draw_warps, "warps: alternate shades, dashed edge"),
            ("idle", self._draw_idle, f"idle thread (beyond {c}): hatched"),
            ("masked", self._draw_masked, "masked in this step: dimmed"),
            ("selected", self._draw_selected, "selected thread"),
            ("focus", self._draw_focus, "focus warp / block"),
            ("write", self._draw_write, f"{c} element written this step"),
            ("heat", self._draw_heat, f"{a}, {b}: {what} per element, 0 to {self.vmax:,.3g}" if self.vmax
             else f"{a}, {b}: {what} per element (none: no global reads)"),
        ]
        if self.copies:
            rows.append(("copies", self._draw_copies, f"{a}, {b}: read from its copy in shared memory"))
        if not self.has_idle:
            rows = [r for r in rows if r[0] != "idle"]
        return rows

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self._pal = c_palette(theme)
        self._heat = heat_lut(theme)
        self.update()

    def set_state(self, heading: str, vmax: float, cumulative: bool, has_idle: bool, copies: bool = False,
                  names=("A", "B", "C")) -> None:
        """``copies``: A and B mark elements read through their copies in shared memory (the tiled kernel's
        multiply steps); their entry is shown only then, as a small slide's corner has no room to spare.
        ``names``: what the scenario calls A, B and C; the rows' texts use them."""
        state = (heading, float(vmax), bool(cumulative), bool(has_idle), bool(copies), tuple(names))
        if state != (self.heading, self.vmax, self.cumulative, self.has_idle, self.copies, self.names):  # ~1 ms
            self.heading, self.vmax, self.cumulative, self.has_idle, self.copies, self.names = state
            self.update()

    #: Rows a small corner leaves out first, when even the smallest text allowed does not fit them all.
    DROP_FIRST = ("write", "masked", "idle", "focus", "copies", "warps", "selected", "blocks")

    def layout_text(self, rect: QRectF):
        """(entries shown, their heights, heading height, body font, heading font, swatch size, text width) that
        fit ``rect``: the text shrinks, to :attr:`min_scale` of its size (the slide look's figure keeps every
        text at least 0.9 of the body size), then the least needed rows are left out."""
        entries = self.entries()
        wrap = int(Qt.TextFlag.TextWordWrap.value)
        shrinks = [x for x in (1.0, 0.95, 0.9, 0.8, 0.7, 0.6) if x >= self.min_scale - 1e-9] or [1.0]
        drop = [k for k in self.DROP_FIRST if any(e[0] == k for e in entries)]
        while True:
            for shrink in shrinks:
                body = font(self.theme, scale=0.95 * shrink)
                head = font(self.theme, bold=True, scale=1.0 * shrink)
                sw_w, sw_h = 40 * self.theme.font_scale * shrink, 16 * self.theme.font_scale * shrink
                text_w = rect.width() - sw_w - 8
                fm_b, fm_h = QFontMetricsF(body), QFontMetricsF(head)
                head_h = fm_h.boundingRect(QRectF(0, 0, rect.width(), 1e4), wrap, self.heading).height()
                heights = [max(sw_h, fm_b.boundingRect(QRectF(0, 0, text_w, 1e4), wrap, t).height()) + 4
                           for _, _, t in entries]
                if head_h + 6 + sum(heights) <= rect.height():
                    return entries, heights, head_h, body, head, (sw_w, sw_h), text_w
            if not drop:
                return entries, heights, head_h, body, head, (sw_w, sw_h), text_w
            key = drop.pop(0)
            entries = [e for e in entries if e[0] != key]

    def paint(self, p, *args):
        rect = self.boundingRect().adjusted(6, 4, -6, -4)
        if rect.width() < 40 or rect.height() < 30:
            return
        fg = QColor(*self.theme.foreground)
        wrap = int(Qt.TextFlag.TextWordWrap.value)
        entries, heights, head_h, body, head, (sw_w, sw_h), text_w = self.layout_text(rect)
        p.save()
        p.setClipRect(self.boundingRect())  # never over A's title, whatever the corner's size
        p.setPen(fg)
        p.setFont(head)
        p.drawText(QRectF(rect.left(), rect.top(), rect.width(), head_h), wrap, self.heading)
        y = rect.top() + head_h + 6
        p.setFont(body)
        for (_, draw, text), h in zip(entries, heights):
            sw = QRectF(rect.left(), y + (h - 4 - sw_h) / 2, sw_w, sw_h)
            p.save()
            p.setClipRect(sw)
            draw(p, sw)
            p.restore()
            p.setPen(fg)
            p.drawText(QRectF(sw.right() + 8, y, text_w, h), wrap | int(Qt.AlignmentFlag.AlignVCenter.value), text)
            y += h
        p.restore()

    # -- swatches: the same colours the views use --------------------------------------------------

    def _draw_blocks(self, p, r):
        pal = self._pal
        w = r.width() / 4
        for i in range(4):
            p.fillRect(QRectF(r.left() + i * w, r.top(), w, r.height()), QColor(*pal[2 * i][:3]))
        p.setPen(pen(self.theme.grid_line, self.theme.pen_width(1.5)))
        p.drawRect(r.adjusted(0.5, 0.5, -1, -1))

    def _draw_warps(self, p, r):
        pal = self._pal
        half = QRectF(r.left(), r.top(), r.width(), r.height() / 2)
        p.fillRect(half, QColor(*pal[0][:3]))
        p.fillRect(half.translated(0, r.height() / 2), QColor(*pal[1][:3]))
        p.setPen(pen(self.theme.warp_line, self.theme.pen_width(1.2), Qt.PenStyle.DashLine))
        p.drawLine(QPointF(r.left(), r.center().y()), QPointF(r.right(), r.center().y()))

    def _draw_idle(self, p, r):
        pal = self._pal
        k = hatch_period(self.theme)
        w, h = int(r.width()), int(r.height())
        stripe = ((np.arange(h)[:, None] + np.arange(w)[None, :]) // k) & 1  # the views' own hatch
        rgba = np.ascontiguousarray(np.take(pal, 14 + stripe, axis=0))
        img = QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()
        p.drawImage(QPointF(r.left(), r.top()), img)

    def _draw_masked(self, p, r):
        pal = self._pal
        p.fillRect(r, QColor(*pal[2][:3]))
        p.fillRect(r, QColor(*self.theme.panel_background, MASK_ALPHA))

    def _draw_selected(self, p, r):
        pal = self._pal
        p.fillRect(r, QColor(*pal[0][:3]))
        p.setPen(pen(self.theme.selected, self.theme.pen_width(2.6)))
        p.drawRect(r.adjusted(2, 2, -2, -2))

    def _draw_focus(self, p, r):
        pal = self._pal
        p.fillRect(r, QColor(*pal[4][:3]))
        p.setPen(pen(self.theme.selected, self.theme.pen_width(2.0), Qt.PenStyle.DashLine))
        p.drawRect(r.adjusted(2, 2, -2, -2))

    def _draw_write(self, p, r):
        p.fillRect(r, QColor(*self.theme.write, 150))

    def _draw_copies(self, p, r):
        p.fillRect(r, QColor(*copy_colour(self.theme), 90))
        p.setPen(copy_pen(self.theme))
        p.drawRect(r.adjusted(2, 2, -2, -2))

    def _draw_heat(self, p, r):
        lut = self._heat
        g = QLinearGradient(r.left(), 0, r.right(), 0)
        for t in np.linspace(0, 1, 9):
            rgb = lut[1 + int(round(254 * t))][:3]
            g.setColorAt(float(t), QColor(*(int(v) for v in rgb)))
        p.fillRect(r, QBrush(g))
        p.setPen(pen(self.theme.foreground, self.theme.pen_width(1.0)))
        p.drawRect(r.adjusted(0.5, 0.5, -1, -1))


class TitleItem(pg.GraphicsWidget):
    """A matrix's title: a main line and an optional smaller second line, elided to the width it gets.

    pyqtgraph's plot titles ask for their whole text's width as a minimum,
    which pushes C off the panel with the lecture theme's large fonts; this
    one asks for none. With :meth:`set_sub_lines` the second line may wrap onto
    more lines (the slide look: a narrow slide never cuts a subtitle short).
    """

    def __init__(self, theme: Theme):
        super().__init__()
        self.main, self.sub = "", ""
        self.sub_lines = 1
        self.set_theme(theme)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self._main_font = font(theme, bold=True, scale=1.1)
        self._sub_font = font(theme, scale=0.9)
        self.setFixedHeight(self.height_for(self.sub_lines))
        self.setMinimumWidth(10)
        self.update()

    def height_for(self, sub_lines: int) -> float:
        """The height of the title with ``sub_lines`` lines of subtitle."""
        return QFontMetricsF(self._main_font).height() + sub_lines * (QFontMetricsF(self._sub_font).height() + 2) + 2

    def set_sub_lines(self, n: int) -> None:
        """Give the subtitle ``n`` lines (its last one elided if the text needs more)."""
        if n != self.sub_lines:
            self.sub_lines = n
            self.setFixedHeight(self.height_for(n))
            self.update()

    def sub_lines_needed(self, width: float, most: int = 3) -> int:
        """How many lines (at most ``most``) the subtitle takes at ``width`` pixels."""
        return max(1, len(wrap_text(self.sub, QFontMetricsF(self._sub_font), width, most)))

    def set_text(self, main: str, sub: str = "") -> None:
        self.main, self.sub = main, sub
        self.update()

    def shown_lines(self, width: float | None = None) -> list[str]:
        """The lines as drawn at ``width`` (default: the item's own width): main line, then the subtitle's."""
        w = self.boundingRect().width() if width is None else width
        main = QFontMetricsF(self._main_font).elidedText(self.main, Qt.TextElideMode.ElideRight, w)
        return [main] + wrap_text(self.sub, QFontMetricsF(self._sub_font), w, self.sub_lines)

    def paint(self, p, *args):
        r = self.boundingRect()
        p.setPen(QColor(*self.theme.foreground))
        lines = self.shown_lines(r.width())
        y = r.top()
        for i, text in enumerate(lines):
            f = self._main_font if i == 0 else self._sub_font
            fm = QFontMetricsF(f)
            p.setFont(f)
            p.drawText(QRectF(r.left(), y, r.width(), fm.height()), int(Qt.AlignmentFlag.AlignHCenter.value), text)
            y += fm.height() + 2


def wrap_text(text: str, fm: QFontMetricsF, width: float, most: int) -> list[str]:
    """``text`` broken at spaces into at most ``most`` lines of ``width`` pixels; the last one elided if it must."""
    lines: list[str] = []
    words = text.split(" ")
    while words and len(lines) < most - 1:
        line = words[0]
        i = 1
        while i < len(words) and fm.horizontalAdvance(line + " " + words[i]) <= width:
            line += " " + words[i]
            i += 1
        if fm.horizontalAdvance(line) > width:  # one word wider than the line: the rest goes on the last line
            break
        lines.append(line)
        words = words[i:]
    if words or not lines:
        lines.append(fm.elidedText(" ".join(words), Qt.TextElideMode.ElideRight, width))
    return lines


class MatrixViews(QWidget):
    """A (left), B (above) and C (the launched grid) of a :class:`~gpuviz.model.scene.MatmulScene`.

    Parameters
    ----------
    scene : MatmulScene
        The model drawn; the views subscribe to it and call its selection setters on clicks.
    theme : Theme
        Colours, line widths and fonts.
    """

    def __init__(self, scene, theme: Theme, parent=None):
        super().__init__(parent)
        self.scene = scene
        self.theme = theme
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.ci.setSpacing(4)
        self._margins = self.graphics.ci.layout.getContentsMargins()
        self.legend = LegendItem(theme)
        # rows: B's title, B; A's and C's titles, A and C (titles in their own rows keep A and C aligned)
        self.graphics.addItem(self.legend, row=0, col=0, rowspan=2)
        self.b_title, self.a_title, self.c_title = TitleItem(theme), TitleItem(theme), TitleItem(theme)
        self.graphics.addItem(self.b_title, row=0, col=1)
        self.b_plot = _plot(self.graphics, 1, 1)
        self.graphics.addItem(self.a_title, row=2, col=0)
        self.graphics.addItem(self.c_title, row=2, col=1)
        self.a_plot = _plot(self.graphics, 3, 0)
        self.c_plot = _plot(self.graphics, 3, 1)
        self.a_plot.setYLink(self.c_plot)
        self.b_plot.setXLink(self.c_plot)
        self.b_plot.hideAxis("bottom")
        self.c = CGridView(self.c_plot, theme)
        self.a = OperandView(self.a_plot, "A", theme)
        self.b = OperandView(self.b_plot, "B", theme)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.lod_note = QLabel()
        self.lod_note.setWordWrap(True)
        self.lod_note.hide()
        # the selected block, thread by thread (the slide's Block 13), in a column right of C; the panel's
        # slide look puts its text (caption, step, source line) in the same column, above it
        self.block_view = BlockView(scene, theme)
        self.side = QWidget()
        self.side_layout = QVBoxLayout(self.side)
        self.side_layout.setContentsMargins(0, 0, 0, 0)
        self.side_layout.setSpacing(4)
        self.side_layout.addWidget(self.block_view, 1)
        self._side_width: int | None = None  # set by the panel in the slide look; else a share of the width
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        row.addWidget(self.graphics, 3)
        row.addWidget(self.side, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(row, 1)
        lay.addWidget(self.lod_note)
        lay.addWidget(self.note)
        self.frame = None
        self.lecture = False  # lecture mode: C as large as the screen allows, A and B narrower along k
        self.copy_reads = None  # the tiled kernel's multiply step: {"A": CopyReads, "B": CopyReads} marked
        self.slide = False
        self._dirty = False
        self.heat_max = 0.0
        self._cumulative_shown = False
        self._busy = False
        # until the user pans or zooms, the whole launch stays fitted to the view as it resizes
        self._fit = True
        for plot in (self.a_plot, self.b_plot, self.c_plot):
            plot.getViewBox().disableAutoRange()  # the views fit themselves (_fit_all); autorange would fight the links
            plot.getViewBox().sigRangeChanged.connect(self._view_changed)
            plot.getViewBox().sigResized.connect(self._resized)
            plot.getViewBox().sigRangeChangedManually.connect(self._user_moved)
        self.graphics.scene().sigMouseClicked.connect(self._clicked)
        self.graphics.scene().sigMouseMoved.connect(lambda pos: self.c.hovered(pos, operand_names(self.scene)))
        self.graphics.installEventFilter(self)
        # called before every paint, on screen or into an image: the level of detail is never stale
        self.graphics.scene().sigPrepareForPaint.connect(self.flush)
        subscribe(self, scene, "_scene_changed")
        self.grid = GridGeometry(scene.mapping)
        self._formulas = ("", "")
        self._formula_lines = None
        self._formula_extra = (0, 0)
        self._relaying = False
        self.set_theme(theme)
        self._new_params()

    def set_slide(self, on: bool) -> None:
        """The slide look: titles wrap instead of being cut short, square cells in A and B too, and the
        lockstep note left to the panel (:attr:`note`'s text, beside the figure, where a slide has room)."""
        self.slide = bool(on)
        self.legend.min_scale = 0.95 if self.slide else 0.6
        self.legend.update()
        self.note.setVisible(not self.slide)
        if not self.slide:
            for t in (self.a_title, self.b_title, self.c_title):
                t.set_sub_lines(1)
            self._side_width = None
        self._place_side()
        self._layout_classic()

    def set_lecture(self, on: bool) -> None:
        """Lecture mode's figure: C as large as the screen allows (A and B drawn half as wide along k, as
        they only need to show which row and column feed C), the rest as in the slide look."""
        self.lecture = bool(on)
        self._layout_classic()
        if self._fit:
            self.show_all()

    def operand_fraction(self) -> float:
        """Cells of A along k (and of B) relative to C's: 1 (square, as on the slides) or ½ in lecture mode."""
        return 0.5 if self.lecture else 1.0

    def set_side_width(self, width: int | None) -> None:
        """The column right of C (the block view and the slide's text): ``width`` pixels, or None for its
        normal share of the figure."""
        self._side_width = None if width is None else max(0, int(width))
        self._place_side()

    def _place_side(self) -> None:
        if self._side_width is not None:
            self.side.setVisible(self._side_width > 0)
            self.side.setFixedWidth(max(1, self._side_width))
            return
        w = self.width()
        # a narrow figure keeps C large: the block is then found in the tree and the details
        show = w >= 640
        self.side.setVisible(show)
        if show:
            # a quarter of the figure through the row's stretch factors, at most 380 px; no minimum, so the
            # column never makes the panel wider than the window
            self.side.setMinimumWidth(0)
            self.side.setMaximumWidth(380)

    # -- look -----------------------------------------------------------------------------------

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        apply_theme(self, theme)
        self.graphics.setBackground(theme.background)
        for v in (self.c, self.a, self.b):
            v.set_theme(theme)
        self.legend.set_theme(theme)
        self.block_view.set_theme(theme)
        self.note.setText(
            "Model, not a recording of GPU timing: all blocks are shown stepping in lockstep, "
            "one source line at a time; a real GPU runs blocks independently, in any order.")
        self.note.setStyleSheet(f"color: {hex_colour(mix(theme.foreground, theme.background, 0.75))};")
        self.lod_note.setStyleSheet(f"color: {hex_colour(theme.foreground)};")
        # a style sheet stops font inheritance: give the notes theirs
        self.note.setFont(font(theme, scale=0.9))
        self.lod_note.setFont(font(theme, scale=0.95))
        fg = hex_colour(theme.foreground)
        pt = 10.0 * theme.font_scale
        tick_font = font(theme, scale=0.9)
        for plot in (self.a_plot, self.b_plot, self.c_plot):
            for name in ("left", "bottom", "top", "right"):
                ax = plot.getAxis(name)
                ax.setPen(pg.mkPen(theme.foreground, width=theme.pen_width(1.0)))
                ax.setTextPen(pg.mkPen(theme.foreground))
                ax.setStyle(tickFont=tick_font)
                ax.labelStyle = {"color": fg, "font-size": f"{pt}pt"}
            plot.getAxis("left").setWidth(int(58 * theme.font_scale))
            plot.getAxis("bottom").setHeight(int(44 * theme.font_scale))
        for t in (self.a_title, self.b_title, self.c_title):
            t.set_theme(theme)
        self._label_axes()
        self._layout_classic()
        self._render_all()

    def _label_axes(self) -> None:
        s = self.scene
        style = {"color": hex_colour(self.theme.foreground), "font-size": f"{10.0 * self.theme.font_scale}pt"}
        if s.mapping.rows_from_x:
            row_f, col_f = "row = blockIdx.x·blockDim.x + threadIdx.x", "col = blockIdx.y·blockDim.y + threadIdx.y"
        else:
            row_f, col_f = "row = blockIdx.y·blockDim.y + threadIdx.y", "col = blockIdx.x·blockDim.x + threadIdx.x"
        self._formulas = (row_f, col_f)
        self._formula_lines = None
        a, b_, c = operand_names(s)
        for v in (self.a, self.b):  # their tooltips use the names too
            if hasattr(v, "set_names"):
                v.set_names((a, b_, c), getattr(s, "bias", None))
        self._set_label(self.a_plot, "left", f"row of {a} (= row of {c})", style)
        self._set_label(self.a_plot, "bottom", f"k (column of {a})", style)
        self._set_label(self.b_plot, "left", f"k (row of {b_})", style)
        m, n, k = s.problem.m, s.problem.n, s.problem.k
        g, b = s.launch.grid, s.launch.block
        idle = s.mapping.idle_threads
        idle_text = f" · {idle:,} idle" if idle else ""
        bias = getattr(s, "bias", None)
        bias_text = f" · + {bias} after the kernel (not animated)" if bias else ""
        self.c_title.set_text(f"{product_text(s)}  ({m:,}×{n:,})",
                              f"grid of {g.x:,}×{g.y:,} blocks of {b.x}×{b.y} threads{idle_text}{bias_text}")
        self.a_title.set_text(f"{a}  ({m:,}×{k:,})", f"row i of {a} feeds row i of {c}")
        self.b_title.set_text(f"{b_}  ({k:,}×{n:,})", f"column j of {b_} feeds column j of {c}")

    # -- scene ------------------------------------------------------------------------------------

    def _scene_changed(self, scene, changes) -> None:
        if "params" in changes:
            self._new_params()
            return
        self.flush()  # a view that moved since the last paint: sample it before drawing the new step
        self._render_step()
        if changes & {"selection", "focus", "params"}:
            self._render_selection()

    def _new_params(self) -> None:
        s = self.scene
        self.grid = GridGeometry(s.mapping)
        shapes = s.problem.shapes
        self._busy = True
        try:
            self.a.set_shape(shapes["A"])
            self.b.set_shape(shapes["B"])
            self.c.set_geometry(self.grid)
            self._fit = True
            self._fit_all()
        finally:
            self._busy = False
        self._label_axes()
        self._layout_classic()
        self._render_all()

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._place_side()
        self._layout_classic()

    def eventFilter(self, obj, event):
        # this widget's resizeEvent comes before its layout resizes the graphics view, so the sizes read
        # there are the old ones: lay A, B and C out again once the view itself has its new size
        if obj is self.graphics and event.type() == QEvent.Type.Resize:
            self._layout_classic()
        return super().eventFilter(obj, event)

    def _axis_sizes(self) -> tuple[float, float, float]:
        """(left axis width, bottom axis height, the two title rows' height) as laid out now."""
        fs = self.theme.font_scale
        line = QFontMetricsF(self._formula_font()).lineSpacing()
        extra_w, extra_h = self._formula_extra
        a, b, c = self.a_title, self.b_title, self.c_title
        title_h = b.height_for(b.sub_lines) + max(a.height_for(a.sub_lines), c.height_for(c.sub_lines))
        return 58 * fs + extra_w * line, 44 * fs + extra_h * line, title_h

    def _layout_classic(self) -> None:
        """Size A's column and B's row so that A, B and C share one cell size, as on the slides."""
        s = self.scene
        rows, cols = self.grid.shape
        k = s.problem.k
        fs = self.theme.font_scale
        w, h = self.graphics.width(), self.graphics.height()
        for _ in range(2):  # the titles' lines depend on the widths, the widths on the titles
            ax_w, ax_h, title_h = self._axis_sizes()
            if self.slide:
                left = 58 * fs
                kf = k * self.operand_fraction()
                room_w, room_h = w - left - ax_w - 24, h - title_h - ax_h - 24
                (cell_w, cap_w), (cell_h, cap_h) = _fit_axis(room_w, kf, cols), _fit_axis(room_h, kf, rows)
                cell = max(min(cell_w, cell_h), 0.0)
                # square cells in A and B as well (half as wide along k in lecture mode), unless k dwarfs C
                # (a 784-long k): A and B then take a share of the room and C the rest; the legend still gets
                # a quarter of the width
                a_k, b_k = min(kf * cell, cap_w), min(kf * cell, cap_h)
                a_w = float(np.clip(left + a_k, 0.26 * w, 0.6 * w))
                b_h = float(np.clip(b_k, 0.2 * h, 0.5 * h))
                c_w = w - a_w - self._gaps()  # C's column: the view less A's, the layout's spacing and margins
                lines = [t.sub_lines_needed(width) for t, width in
                         ((self.a_title, a_w), (self.b_title, c_w), (self.c_title, c_w))]
                for t, n in zip((self.a_title, self.b_title, self.c_title), lines):
                    t.set_sub_lines(n)
            else:
                ax_w, ax_h, title_h = 58 * fs, 44 * fs, 2 * self.c_title.size().height()
                cell = min((w - 2 * ax_w - 24) / (k + cols), (h - title_h - ax_h - 24) / (k + rows))
                cell = max(cell, 0.0)
                # at least a quarter of the width: the legend lives in the corner above A
                a_w = float(np.clip(ax_w + k * cell, 0.26 * w, 0.42 * w))
                b_h = float(np.clip(k * cell, 0.24 * h, 0.4 * h))
                # subtitles wrap onto a second line rather than be cut short in a narrow column
                c_w = w - a_w - self._gaps()
                for t, width in ((self.a_title, a_w), (self.b_title, c_w), (self.c_title, c_w)):
                    t.set_sub_lines(t.sub_lines_needed(width))
        if self.slide:
            # a figure narrower than its height needs (a slide whose text column asked for room): the rows
            # keep square cells and the spare height goes above and below, not into C's view
            # (C's row formula, where its three lines are longer than C is tall, becomes the axis's name)
            spare = max(0.0, (h - title_h - ax_h - 24) - (b_h + rows * cell))
            if self.lecture:
                spare = 0.0  # lecture mode: the screen is the figure's, C's view takes the height
            self.graphics.ci.setContentsMargins(self._margins[0], self._margins[1] + spare / 2, self._margins[2],
                                                self._margins[3] + spare / 2)
        else:
            self.graphics.ci.setContentsMargins(*self._margins)
        for item in (self.a_plot, self.legend, self.a_title):  # anything expanding in A's column would widen it
            item.setFixedWidth(a_w)
        self.b_plot.setFixedHeight(b_h)
        if self.slide:  # C's room along its axes, with the formulas on as many lines as they may take
            line = QFontMetricsF(self._formula_font()).lineSpacing()
            # C's view is as tall as its rows where the spare height went above and below (not in lecture mode)
            c_h = h - b_h - title_h - 44 * fs - 2 * line
            if not self.lecture:
                c_h = min(c_h, rows * cell)
            changed = self._label_formulas(w - a_w - self._gaps() - 58 * fs - 2 * line, c_h)
        else:
            a, b, c = self.a_title, self.b_title, self.c_title  # as the subtitles now wrap
            title_h = b.height_for(b.sub_lines) + max(a.height_for(a.sub_lines), c.height_for(c.sub_lines))
            _, top, _, bottom = self._margins
            gaps = top + bottom + 3 * self.graphics.ci.layout.verticalSpacing()  # four rows: three gaps
            c_h = h - b_h - title_h - ax_h - gaps
            changed = self._label_formulas(w - a_w - 2 * ax_w, c_h)
        if changed and not self._relaying:  # the axes' sizes went into the cell size: once more with the new ones
            self._relaying = True
            try:
                self._layout_classic()
            finally:
                self._relaying = False

    def _gaps(self) -> float:
        """Pixels of the view's width that are neither A's column nor C's: the layout's margins and spacing."""
        left, _, right, _ = self._margins
        return left + right + self.graphics.ci.layout.horizontalSpacing() + 4

    def natural_width(self, height: float) -> int:
        """The width at which A, B and C fill ``height`` with square cells and no empty margin beside C
        (the slide look's layout: formulas and subtitles on as many lines as that width needs)."""
        s = self.scene
        rows, cols = self.grid.shape
        k = s.problem.k
        fs = self.theme.font_scale
        notes = sum(w.sizeHint().height() + 2 for w in (self.note, self.lod_note) if not w.isHidden())
        fm = QFontMetricsF(self._formula_font())
        line = fm.lineSpacing()
        row_f, col_f = self._formulas
        n_row = n_col = n_a = n_b = n_c = 1
        a_w = c_w = 0.0
        for _ in range(3):  # lines and widths settle in two rounds; a third costs nothing
            ax_w = 58 * fs + (len(_split_formula(row_f, n_row)) - 1) * line
            ax_h = 44 * fs + (len(_split_formula(col_f, n_col)) - 1) * line
            title_h = self.b_title.height_for(n_b) + max(self.a_title.height_for(n_a), self.c_title.height_for(n_c))
            kf = k * self.operand_fraction()
            cell, cap_h = _fit_axis(height - notes - title_h - ax_h - 24, kf, rows)
            cell = max(0.0, cell)
            # A's share along k as the width would cap it (_fit_axis: 0.45 of the room where k dwarfs C)
            a_k = kf * cell if kf <= 2 * cols else min(kf * cell, 0.45 / 0.55 * cols * cell)
            a_w, c_w = 58 * fs + a_k, ax_w + 1.04 * cols * cell
            n_row, n_col = _lines_needed(row_f, fm, rows * cell), _lines_needed(col_f, fm, cols * cell)
            n_a = self.a_title.sub_lines_needed(a_w)
            n_b = n_c = max(self.b_title.sub_lines_needed(c_w), self.c_title.sub_lines_needed(c_w))
        return int(a_w + c_w + 24)

    def _formula_font(self):
        f = font(self.theme)
        f.setPointSizeF(10.0 * self.theme.font_scale)
        return f

    def _label_formulas(self, c_w: float, c_h: float) -> bool:
        """C's axes get the index formulas, on two or three lines where one does not fit along the axis."""
        theme = self.theme
        pt = 10.0 * theme.font_scale
        fm = QFontMetricsF(self._formula_font())
        row_f, col_f = self._formulas
        lines = (_lines_needed(row_f, fm, c_h), _lines_needed(col_f, fm, c_w))
        if lines == self._formula_lines:
            return False
        self._formula_lines = lines
        shown = tuple(len(_split_formula(f, n)) for f, n in zip((row_f, col_f), lines))
        self._formula_extra = (shown[0] - 1, shown[1] - 1)
        style = {"color": hex_colour(theme.foreground), "font-size": f"{pt}pt"}
        extra = fm.lineSpacing()
        left_w = int(58 * theme.font_scale + (shown[0] - 1) * extra)
        bottom_h = int(44 * theme.font_scale + (shown[1] - 1) * extra)
        self._set_label(self.c_plot, "left", "<br>".join(_split_formula(row_f, lines[0])), style)
        self._set_label(self.c_plot, "bottom", "<br>".join(_split_formula(col_f, lines[1])), style)
        for plot in (self.b_plot, self.c_plot):  # B and C share their left edge
            plot.getAxis("left").setWidth(left_w)
        for plot in (self.a_plot, self.c_plot):  # A and C share their bottom edge
            plot.getAxis("bottom").setHeight(bottom_h)
        return True

    def _set_label(self, plot, side: str, text: str, style: dict) -> None:
        """An axis label in the theme's font: the item's own font too, not only its HTML's size, so whatever
        measures the label (the layout check, a size hint) sees the size it is drawn at."""
        plot.setLabel(side, text, **style)
        plot.getAxis(side).label.setFont(self._formula_font())

    def formula_labels(self) -> tuple[list[str], list[str]]:
        """The lines of C's left (row) and bottom (column) axis formulas, as labelled."""
        row_f, col_f = self._formulas
        n = self._formula_lines or (1, 1)
        return _split_formula(row_f, n[0]), _split_formula(col_f, n[1])

    def _user_moved(self, *args) -> None:
        self._fit = False

    def _resized(self, *args) -> None:
        if self._fit and not self._busy:
            self._busy = True
            try:
                self._fit_all()
            finally:
                self._busy = False
        self._view_changed()

    def _fit_all(self) -> None:
        rows, cols = self.grid.shape
        k = self.scene.problem.k
        vb = self._show_region(0, rows, 0, cols, margin=1.04)
        # the links only follow changes: pull explicitly in case C's range was already this one
        self.b_plot.getViewBox().linkedViewChanged(vb, pg.ViewBox.XAxis)
        self.a_plot.getViewBox().linkedViewChanged(vb, pg.ViewBox.YAxis)
        self.a_plot.getViewBox().setXRange(0, k, padding=0.02)
        self.b_plot.getViewBox().setYRange(0, k, padding=0.02)

    def _show_region(self, row0, row1, col0, col1, margin: float = 1.0) -> pg.ViewBox:
        """Show the region of C's grid with square cells (without the view box's aspect lock, which
        fights the linked A and B views)."""
        vb = self.c_plot.getViewBox()
        w, h = max(vb.width(), 1.0), max(vb.height(), 1.0)
        units = margin * max((col1 - col0) / w, (row1 - row0) / h)  # cells per pixel
        cx, cy = (col0 + col1) / 2, (row0 + row1) / 2
        vb.setRange(QRectF(cx - w * units / 2, cy - h * units / 2, w * units, h * units), padding=0)
        return vb

    def _view_changed(self, *args) -> None:
        """A view's range or size changed: re-sample before the next paint (linked views change one
        after another within one pan, so sampling now would compute each frame twice)."""
        if not self._busy:
            self._dirty = True

    def flush(self) -> None:
        """Re-sample what is on screen and redraw it, if a view moved since the last time."""
        if not self._dirty or self._busy:
            return
        self._dirty = False
        self._busy = True
        try:
            changed = [v.update_sampling() for v in (self.c, self.a, self.b)]
        finally:
            self._busy = False
        if any(changed):
            self._render_step()
            self._update_lod_note()

    def _render_all(self) -> None:
        for v in (self.c, self.a, self.b):
            v.update_sampling()
        if self.c.rows is not None:
            self.c.render_launch()
        self._render_step()
        self._render_selection()
        self._update_lod_note()

    def _update_lod_note(self) -> None:
        c = self.c
        if c.rows is None or c.block_pixels() >= c.FAR_BLOCK_PX:
            self.lod_note.hide()
            return
        per_px = (c.rows.extent / c.rows.pixels, c.cols.extent / c.cols.pixels)
        self.lod_note.setText(
            f"Zoomed out: a pixel of C shows about {per_px[0]:.1f}×{per_px[1]:.1f} threads and a block is only "
            f"{c.block_pixels():.1f} pixels wide, so block colours are muted. Scroll over C to zoom in "
            "(drag to pan); A and B follow.")
        self.lod_note.show()

    # -- per step ---------------------------------------------------------------------------------

    def viewports(self) -> dict[str, Viewport]:
        """What the scene is asked for: each array and the thread grid at the resolution on screen."""
        vps = {name: _NOWHERE for name in self.scene.shapes()}
        if self.c.rows is not None:
            vps[THREADS] = self.grid.threads_viewport(self.c.rows, self.c.cols)
        cs = self.c.c_sampling()
        # the built-in kernels write C only in their "write" step: elsewhere C's counts are all zero,
        # and asking for them at screen resolution would cost a full-size outer product per step
        if cs is not None and self.scene.step_info().role == "write":
            vps["C"] = Viewport(cs[0].start, cs[0].stop, cs[1].start, cs[1].stop, cs[0].bins, cs[1].bins)
        for name, v in (("A", self.a), ("B", self.b)):
            if v.rows is not None:
                vps[name] = Viewport(v.rows.start, v.rows.stop, v.cols.start, v.cols.stop, v.rows.bins, v.cols.bins)
        return vps

    def _render_step(self) -> None:
        s = self.scene
        vps = self.viewports()
        fr = s.frame(vps)
        self.frame = fr
        reads = fr.reads
        cumulative = s.cumulative
        if cumulative:
            reads = s.cumulative_reads(vps)
        values = {}
        for name, v in (("A", self.a), ("B", self.b)):
            values[name] = v.per_cell(reads[name]) if v.rows is not None else None
        vmax = max((float(x.max()) for x in values.values() if x is not None and x.size), default=0.0)
        self.heat_max = vmax
        self.a.render_heat(values["A"], vmax)
        self.b.render_heat(values["B"], vmax)
        self._render_copies()
        if self.c.rows is not None:
            self.c.render_veil(fr.active)
            self.c.render_writes(self.c.c_sampling(), fr.writes["C"] if self.c.c_sampling() else None,
                                 self.theme.write)
        self._cumulative_shown = cumulative
        self.a.cumulative = self.b.cumulative = cumulative  # their tooltips say "so far" or "this step"
        self._update_corner()

    def _render_copies(self) -> None:
        """In the tiled kernel's multiply steps, mark the elements of A and B whose copies in sA and sB the
        focus threads read (this step reads no global memory: without this, A and B would show nothing)."""
        s = self.scene
        tiles = s.shared_tiles() if s.kernel == "tiled" and s.step_info().role == "multiply" else None
        self.copy_reads = tiles.via_shared if tiles is not None else None
        for name, v in (("A", self.a), ("B", self.b)):
            via = tiles.via_shared[name] if tiles is not None else None
            v.render_copies(None if via is None else via.rows, None if via is None else via.cols)

    def _update_corner(self) -> None:
        s = self.scene
        info = s.step_info()
        sel = s.selected
        who = FOCUS_TEXT[s.focus]
        bx, by = sel.block[:2]
        blk = f"block {block_label(bx, by, s.launch.grid.x)} = ({bx}, {by})"
        who += {"thread": f", thread {sel.linear_id} of {blk}",
                "warp": f", warp {sel.warp} of {blk}",
                "block": f", {blk}", "all": ""}[s.focus]
        when = "so far" if self._cumulative_shown else "in this step"
        a, b, _ = operand_names(s)
        heading = f"{a} and {b}: elements read {when} by {who}."
        if info.role == "multiply" and s.kernel == "tiled":  # no global reads: say what A and B show instead
            heading = (f"{a} and {b} (dashed): elements whose copies in shared memory are read in this step by "
                       f"{who}."
                       if not self._cumulative_shown else heading + " Dashed: their copies are read this step.")
        self.legend.set_state(heading, self.heat_max, self._cumulative_shown, s.mapping.idle_threads > 0,
                              self.copy_reads is not None, operand_names(s))

    # -- selection --------------------------------------------------------------------------------

    def _render_selection(self) -> None:
        s = self.scene
        gx, gy, _ = s.selected.global_index
        cell = self.grid.cell_of_global(gx, gy)
        focus = None
        if s.focus in ("warp", "block"):
            tx, ty = s.focus_threads()
            focus = self.grid.cell_of_global(tx, ty)
        self.c.render_selection(cell, focus)
        el = s.element_of_selected()
        self.a.render_selected(None if el is None else el[0])
        self.b.render_selected(None if el is None else el[1])
        self._update_corner()

    def _clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or event.double():
            return
        pos = event.scenePos()
        if not self.c_plot.getViewBox().sceneBoundingRect().contains(pos):
            return
        cell = self.c.cell_at(pos)
        if cell is None:
            return
        self.select_cell(*cell)
        event.accept()

    def select_cell(self, row: int, col: int) -> None:
        """Select the thread drawn at (row, col) of the C grid (inside C or in the overhang)."""
        m, n = self.grid.c_shape
        if row < m and col < n:
            self.scene.select_element(row, col)
        else:
            self.scene.select_global(*self.grid.global_of_cell(row, col))

    # -- helpers for export and tests ---------------------------------------------------------------

    def view_point_of_cell(self, row: float, col: float) -> QPointF:
        """Widget coordinates (of :attr:`graphics`) of the point (row, col) of C's grid."""
        vb = self.c_plot.getViewBox()
        scene_pt = vb.mapViewToScene(QPointF(col, row))
        return QPointF(self.graphics.mapFromScene(scene_pt))

    def zoom_c(self, row0: float, row1: float, col0: float, col1: float) -> None:
        """Show rows row0..row1 and columns col0..col1 of C's grid."""
        self._fit = False
        self._show_region(row0, row1, col0, col1)
        self.flush()

    def show_all(self) -> None:
        """Fit the whole launch (and keep it fitted as the view resizes, until the user zooms)."""
        self._fit = True
        self._busy = True
        try:
            self._fit_all()
        finally:
            self._busy = False
        self._dirty = True
        self.flush()


def operand_names(scene) -> tuple[str, str, str]:
    """The scenario's names for A, B and C (``("W", "x", "z")`` for the dense layer), default A, B, C."""
    return tuple(getattr(scene, "names", None) or ("A", "B", "C"))


def product_text(scene) -> str:
    """C's equation as its title reads it: ``C = A·B``, ``z = W·x + b`` with a bias."""
    a, b, c = operand_names(scene)
    bias = getattr(scene, "bias", None)
    return f"{c} = {a}·{b}" + (f" + {bias}" if bias else "")


def _fit_axis(room: float, kf: float, n: int) -> tuple[float, float]:
    """(C's cell size, the most A or B may take along k) where ``room`` pixels hold k (``kf`` cells of A or B)
    and ``n`` cells of C: square cells throughout, unless k is over twice C's side — then C gets 55 % of the
    room and A or B the rest, so a 10×784 · 784×64 product does not shrink C to a strip of specks."""
    if kf <= 2 * n:
        return room / max(kf + n, 1e-9), float("inf")
    return 0.55 * room / n, 0.45 * room


def _split_formula(text: str, n: int) -> list[str]:
    """An index formula on ``n`` lines: ``row = blockIdx.y·blockDim.y`` / ``+ threadIdx.y``, or split at the
    product too on three."""
    if n == 1:
        return [text]
    if n >= 4:
        return [text.partition(" = ")[0]]
    head, _, tail = text.partition(" + ")
    if n == 2:
        return [head, "+ " + tail]
    left, _, right = head.partition("·")
    return [left, "·" + right, "+ " + tail]


def _lines_needed(text: str, fm: QFontMetricsF, length: float) -> int:
    """Lines the formula needs along an axis ``length`` pixels long: 1 to 3, or 4 when even three lines are
    longer than the axis (it is then labelled by its name alone, ``row``, rather than run over the titles)."""
    for n in (1, 2, 3):
        if max(fm.horizontalAdvance(t) for t in _split_formula(text, n)) < length - 8:  # 8: a few pixels' slack
            return n
    return 4


__all__ = ["CellAxis", "LegendItem", "MatrixViews", "TitleItem", "operand_names", "product_text", "wrap_text"]
