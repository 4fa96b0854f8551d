"""The tiled kernel's shared memory: the selected block's tiles sA and sB as two small matrices, with a legend.

Each cell says which global element it holds a copy of (``A[24,3]``) where the
text fits, ``0`` for the padding a tile gets where it hangs over A or B, and
``?`` before the kernel wrote it. Reads by the focus threads in this step are
coloured with A's and B's heat ramp and outlined with the "read through its copy"
dashes that mark the originals in A and B; cells written in this step are
filled and framed in the write colour; a value left from the previous tile is
greyed. Everything comes from :meth:`~gpuviz.model.scene.MatmulScene.shared_tiles`.

The tiles have at most 32×32 elements (a block has at most 1024 threads), so
each cell is painted on its own.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QPointF, QRectF, QSize, Qt
from PyQt6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QLinearGradient, QPainter
from PyQt6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from ...model.shared_tiles import COPY, EMPTY, ZERO
from ..style import apply_theme, font, hex_colour, mix, pen, qcolor, subscribe
from ..theme import Theme
from .c_view import text_colour_for
from .operand_view import copy_pen, heat_index, heat_lut

#: Alpha of the fill of elements written this step (as C's written elements).
WRITE_ALPHA = 150


def hatch(p: QPainter, r: QRectF, rgb, width: float, period: float) -> None:
    """Diagonal lines across ``r`` (clipped to it): the padding-zero pattern."""
    p.save()
    p.setClipRect(r)
    p.setPen(pen(rgb, width))
    x = r.left() - r.height()
    while x < r.right():
        p.drawLine(QPointF(x, r.bottom()), QPointF(x + r.height(), r.top()))
        x += period
    p.restore()


class TilesCanvas(QWidget):
    """sA and sB side by side (or one above the other, whichever gives larger cells), then the legend."""

    GAP = 18

    def __init__(self, theme: Theme, parent=None, min_scale: float = 0.0):
        super().__init__(parent)
        #: the least font size relative to the body size (a slide's figure: 0.9; labels that do not fit at that
        #: size are left out rather than shrunk below it)
        self.min_scale = min_scale
        self.tiles = None
        self.vmax = 0
        self.names = ("A", "B", "C")  # the scenario's names for A, B and C: what the tiles are copies of
        self.set_theme(theme)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self._lut = heat_lut(theme)
        self._title_font = font(theme, bold=True)
        self._sub_font = font(theme, scale=0.9)
        self._legend_font = font(theme, scale=0.9)
        self.updateGeometry()
        self.update()

    def set_tiles(self, tiles) -> None:
        self.tiles = tiles
        if tiles is not None:
            self.vmax = int(max(tiles.sA.reads.max(), tiles.sB.reads.max()))
        self.updateGeometry()
        self.update()

    # -- geometry ---------------------------------------------------------------------------------

    def titles(self, name: str) -> tuple[str, str]:
        """The title and subtitle over tile ``name``: what it stages in this tile."""
        st = self.tiles
        t, n = st.tile, st.tile_size
        bx, by = st.block
        a, b, _ = self.names
        if name == "sA":
            rows, cols = f"{by * n}..{by * n + n - 1}", f"{t * n}..{t * n + n - 1}"
            return f"sA ← {a}[{rows}, {cols}]", f"sA[ty, tx] = {a}[row, t·TILE + tx]"
        rows, cols = f"{t * n}..{t * n + n - 1}", f"{bx * n}..{bx * n + n - 1}"
        return f"sB ← {b}[{rows}, {cols}]", f"sB[ty, tx] = {b}[t·TILE + ty, col]"

    def legend_entries(self) -> list[tuple[str, str]]:
        """(key, text) of each legend row, as drawn."""
        heat = (f"read from shared memory this step, per element: 0 … {self.vmax:,}" if self.vmax
                else "read from shared memory this step: none")
        a, b, _ = self.names
        return [("heat", heat),
                ("copy", f"a copy being read: its original in {a} or {b} is dashed the same way"),
                ("write", f"written this step (copied from {a} or {b}, or a zero)"),
                ("zero", f"0: padding where the tile hangs over {a} or {b}"),
                ("stale", "greyed: still the previous tile's value"),
                ("empty", "?: not yet written by this launch")]

    def _legend_columns(self, width: float) -> int:
        return 2 if width >= 900 * self.theme.font_scale / 1.5 else 1

    def _legend_height(self, width: float) -> float:
        fm = QFontMetricsF(self._legend_font)
        cols = self._legend_columns(width)
        text_w = width / cols - self._swatch_w() - 10
        wrap = int(Qt.TextFlag.TextWordWrap.value)
        hs = [max(self._swatch_h(), fm.boundingRect(QRectF(0, 0, text_w, 1e4), wrap, t).height()) + 4
              for _, t in self.legend_entries()]
        rows = [max(hs[i:i + cols]) for i in range(0, len(hs), cols)]
        return sum(rows) + 6

    def _swatch_w(self) -> float:
        return 40 * self.theme.font_scale

    def _swatch_h(self) -> float:
        return 18 * self.theme.font_scale

    def _title_h(self) -> float:
        return QFontMetricsF(self._title_font).height() + QFontMetricsF(self._sub_font).height() + 6

    def layout_for(self, width: float, height: float | None) -> tuple[bool, float]:
        """(side by side?, cell size) at ``width`` (and ``height``; None: as tall as the cells want)."""
        n = self.tiles.tile_size if self.tiles is not None else 8
        most = 64 * self.theme.font_scale
        ident = 16 * self.theme.font_scale  # the row and column numbers beside each tile
        avail_h = None if height is None else height - self._legend_height(width) - 8
        best = None
        for side in (True, False):
            cw = (width - self.GAP - 2 * ident) / (2 * n) if side else (width - ident) / n
            if avail_h is not None:
                tiles_h = avail_h - (1 if side else 2) * (self._title_h() + ident) - (0 if side else self.GAP)
                cw = min(cw, tiles_h / ((1 if side else 2) * n))
            cw = max(0.0, min(cw, most))
            if best is None or cw > best[1] + 0.5:
                best = (side, cw)
        return best

    #: The smallest cell (pixels at font scale 1) the canvas asks room for: below it the tiles lose their labels.
    MIN_CELL = 12

    def height_for(self, width: float, least: bool = True) -> int:
        """The height the canvas needs at ``width``: with cells of :attr:`MIN_CELL` (``least``; it takes more
        where it gets more) or as large as that width allows."""
        side, cell = self.layout_for(width, None)
        if least:
            cell = min(cell, self.MIN_CELL * self.theme.font_scale)
        n = self.tiles.tile_size if self.tiles is not None else 8
        ident = 16 * self.theme.font_scale
        one = self._title_h() + ident + n * cell
        tiles_h = one if side else 2 * one + self.GAP
        return int(tiles_h + 8 + self._legend_height(width))

    def sizeHint(self) -> QSize:
        return QSize(400, 420)

    def minimumSizeHint(self) -> QSize:
        return QSize(200, 200)

    # -- painting ---------------------------------------------------------------------------------

    def tile_rects(self) -> dict[str, QRectF]:
        """Where each tile's cells are drawn, in widget coordinates."""
        if self.tiles is None:
            return {}
        w, h = self.width(), self.height()
        side, cell = self.layout_for(w, h)
        n = self.tiles.tile_size
        ident = 16 * self.theme.font_scale
        size = n * cell
        out = {}
        if side:
            x0 = (w - 2 * (size + ident) - self.GAP) / 2
            for i, name in enumerate(("sA", "sB")):
                out[name] = QRectF(x0 + ident + i * (size + ident + self.GAP), self._title_h() + ident, size, size)
        else:
            x0 = (w - size - ident) / 2 + ident
            for i, name in enumerate(("sA", "sB")):
                out[name] = QRectF(x0, self._title_h() + ident + i * (self._title_h() + ident + size + self.GAP),
                                   size, size)
        return out

    def cell_label_font(self, cell: float, texts: list[str]) -> tuple[QFont | None, bool]:
        """The largest label font (down to a readable floor) in which the longest label fits a cell, and
        whether the labels name the array (``A[24,3]``) or give only the indices (``24,3``)."""
        theme = self.theme
        longest = max(texts, key=len) if texts else ""
        short = longest.split("[", 1)[-1].rstrip("]")
        for full in (True, False):
            text = longest if full else short
            for scale in [x for x in (0.95, 0.9, 0.85, 0.75, 0.68) if x >= self.min_scale - 1e-9]:
                f = font(theme, scale=scale)
                if QFontMetricsF(f).horizontalAdvance(text) <= cell - 4:
                    return f, full
        return None, False

    def paintEvent(self, event):
        if self.tiles is None:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        rects = self.tile_rects()
        texts = [st.label(r, c) for st in (self.tiles.sA, self.tiles.sB)
                 for r in range(self.tiles.tile_size) for c in range(self.tiles.tile_size)]
        cell = next(iter(rects.values())).width() / self.tiles.tile_size
        label_font, full = self.cell_label_font(cell, [t for t in texts if t])
        for name, r in rects.items():
            self._paint_tile(p, name, r, label_font, full)
        bottom = max(r.bottom() for r in rects.values())
        self._paint_legend(p, QRectF(0, bottom + 8, self.width(), self.height() - bottom - 8))
        p.end()

    def _paint_tile(self, p: QPainter, name: str, r: QRectF, label_font, full: bool) -> None:
        theme = self.theme
        st = self.tiles.tile_state(name)
        n = self.tiles.tile_size
        cell = r.width() / n
        fg = theme.foreground
        ident = 16 * theme.font_scale
        title, sub = self.titles(name)
        top = r.top() - ident - self._title_h()
        p.setPen(qcolor(fg))
        p.setFont(self._title_font)
        centre = int(Qt.AlignmentFlag.AlignHCenter.value)
        wide = QRectF(r.left() - ident - 40, top, r.width() + ident + 80, QFontMetricsF(self._title_font).height())
        p.drawText(wide, centre, title)
        p.setFont(self._sub_font)
        p.drawText(wide.translated(0, wide.height() + 2), centre, sub)
        # tx above, ty on the left: the thread that writes each element
        idx_font = font(theme, scale=max(0.75, self.min_scale))
        p.setFont(idx_font)
        p.setPen(qcolor(mix(fg, theme.background, 0.7)))
        step = max(1, int(np.ceil(QFontMetricsF(idx_font).horizontalAdvance("00") * 1.4 / max(cell, 1e-9))))
        for i in range(0, n, step):
            p.drawText(QRectF(r.left() + i * cell, r.top() - ident, cell, ident), centre, str(i))
            p.drawText(QRectF(r.left() - ident - 2, r.top() + i * cell, ident, cell),
                       int(Qt.AlignmentFlag.AlignRight.value | Qt.AlignmentFlag.AlignVCenter.value), str(i))
        base = mix(fg, theme.panel_background, 0.05)
        idx = heat_index(st.reads.astype(float), float(self.vmax))
        period = max(5.0, theme.layout_width(6))
        for row in range(n):
            for col in range(n):
                c = QRectF(r.left() + col * cell, r.top() + row * cell, cell, cell)
                held = st.held[row, col]
                if idx[row, col]:
                    fill = tuple(int(v) for v in self._lut[idx[row, col]][:3])
                else:
                    fill = base
                p.fillRect(c, qcolor(fill))
                if st.written[row, col] and not idx[row, col]:
                    p.fillRect(c, qcolor(theme.write, WRITE_ALPHA))
                    fill = mix(theme.write, fill, WRITE_ALPHA / 255)
                if held == ZERO and not st.written[row, col] and not idx[row, col]:
                    hatch(p, c, mix(fg, theme.panel_background, 0.3), theme.pen_width(0.8), period)
                if label_font is None or cell < 10:
                    continue
                stale = st.loaded_tile[row, col] >= 0 and st.loaded_tile[row, col] < self.tiles.tile
                text = st.label(row, col) if held != EMPTY else "?"
                if held == COPY and not full:
                    text = text.split("[", 1)[1].rstrip("]")
                colour = text_colour_for(fill)
                if stale or held == EMPTY:
                    colour = mix(colour, fill, 0.45)
                f = QFont(label_font)
                f.setItalic(bool(stale))
                p.setFont(f)
                p.setPen(qcolor(colour))
                p.drawText(c, int(Qt.AlignmentFlag.AlignCenter.value), text)
        # cell lines, then the cues that must stay on top of them
        p.setPen(pen(mix(fg, theme.panel_background, 0.3), theme.pen_width(0.8)))
        for i in range(1, n):
            p.drawLine(QPointF(r.left() + i * cell, r.top()), QPointF(r.left() + i * cell, r.bottom()))
            p.drawLine(QPointF(r.left(), r.top() + i * cell), QPointF(r.right(), r.top() + i * cell))
        inset = max(1.5, theme.pen_width(1.5))
        p.setPen(pen(theme.write, theme.pen_width(2.4)))
        for row, col in zip(*np.nonzero(st.written)):
            p.drawRect(QRectF(r.left() + col * cell, r.top() + row * cell, cell, cell).adjusted(inset, inset,
                                                                                                -inset, -inset))
        p.setPen(copy_pen(theme))
        for row, col in zip(*np.nonzero((st.reads > 0) & (st.held == COPY))):
            p.drawRect(QRectF(r.left() + col * cell, r.top() + row * cell, cell, cell).adjusted(inset, inset,
                                                                                                -inset, -inset))
        p.setPen(pen(fg, theme.pen_width(1.6)))
        p.drawRect(r)

    def _paint_legend(self, p: QPainter, area: QRectF) -> None:
        theme = self.theme
        entries = self.legend_entries()
        cols = self._legend_columns(area.width())
        col_w = area.width() / cols
        sw_w, sw_h = self._swatch_w(), self._swatch_h()
        fm = QFontMetricsF(self._legend_font)
        wrap = int(Qt.TextFlag.TextWordWrap.value)
        text_w = col_w - sw_w - 10
        p.setFont(self._legend_font)
        y = area.top() + 4
        for i in range(0, len(entries), cols):
            chunk = entries[i:i + cols]
            h = max(max(sw_h, fm.boundingRect(QRectF(0, 0, text_w, 1e4), wrap, t).height()) for _, t in chunk) + 4
            for j, (key, text) in enumerate(chunk):
                x = area.left() + j * col_w
                sw = QRectF(x + 2, y + (h - 4 - sw_h) / 2, sw_w - 4, sw_h)
                p.save()
                self._swatch(p, key, sw)
                p.restore()
                p.setPen(qcolor(theme.foreground))
                p.drawText(QRectF(x + sw_w + 6, y, text_w, h), wrap | int(Qt.AlignmentFlag.AlignVCenter.value), text)
            y += h

    def _swatch(self, p: QPainter, key: str, r: QRectF) -> None:
        theme = self.theme
        fg = theme.foreground
        base = mix(fg, theme.panel_background, 0.05)
        p.fillRect(r, qcolor(base))
        if key == "heat":
            g = QLinearGradient(r.left(), 0, r.right(), 0)
            for t in np.linspace(0, 1, 9):
                g.setColorAt(float(t), QColor(*(int(v) for v in self._lut[1 + int(round(254 * t))][:3])))
            p.fillRect(r, QBrush(g))
        elif key == "copy":
            p.setPen(copy_pen(theme))
            p.drawRect(r.adjusted(2, 2, -2, -2))
        elif key == "write":
            p.fillRect(r, qcolor(theme.write, WRITE_ALPHA))
            p.setPen(pen(theme.write, theme.pen_width(2.4)))
            p.drawRect(r.adjusted(2, 2, -2, -2))
        elif key == "zero":
            hatch(p, r, mix(fg, theme.panel_background, 0.3), theme.pen_width(0.8), max(5.0, theme.layout_width(6)))
            p.setPen(qcolor(fg))
            p.setFont(self._legend_font)
            p.drawText(r, int(Qt.AlignmentFlag.AlignCenter.value), "0")
        elif key in ("stale", "empty"):
            f = QFont(self._legend_font)
            f.setItalic(key == "stale")
            p.setFont(f)
            p.setPen(qcolor(mix(fg, base, 0.55)))
            p.drawText(r, int(Qt.AlignmentFlag.AlignCenter.value), "2,5" if key == "stale" else "?")
        p.setPen(pen(fg, theme.pen_width(1.0)))
        p.drawRect(r.adjusted(0.5, 0.5, -1, -1))


class SharedTilesView(QWidget):
    """The selected block's sA and sB at the current step, a sentence on what the step does with them,
    and the legend; for a kernel without shared memory, one line saying so.

    Parameters
    ----------
    scene : MatmulScene
        The model drawn (:meth:`~gpuviz.model.scene.MatmulScene.shared_tiles`).
    theme : Theme
    parent : QWidget, optional
    slide : bool
        The slide column's version: no scroll bars, sized by :meth:`height_for`.
    """

    def __init__(self, scene, theme: Theme, parent=None, slide: bool = False):
        super().__init__(parent)
        self.scene = scene
        self.slide = slide
        self.header = QLabel()
        self.header.setWordWrap(True)
        self.canvas = TilesCanvas(theme, min_scale=0.9 if slide else 0.0)
        self.empty = QLabel()
        self.empty.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0 if slide else 6, 0 if slide else 6, 0 if slide else 6, 0 if slide else 6)
        lay.setSpacing(6)
        lay.addWidget(self.header)
        lay.addWidget(self.canvas, 1)
        lay.addWidget(self.empty)
        lay.addStretch(0)
        self.tiles = None
        self._pending = True
        subscribe(self, scene, "_scene_changed")
        self.set_theme(theme)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        if not self.slide:
            apply_theme(self, theme)
        for lab in (self.header, self.empty):
            lab.setFont(font(theme))
            lab.setStyleSheet(f"color: {hex_colour(theme.foreground)};")
        self.canvas.set_theme(theme)
        self._pending = True
        self._flush()

    def _scene_changed(self, scene, changes) -> None:
        self._pending = True
        if self.isVisible() or self.slide:  # a background tab catches up when it is shown
            self._flush()

    def showEvent(self, event):
        super().showEvent(event)
        self._flush()

    def refresh(self) -> None:
        """Ask the scene again now (a caller that heard of a change first and measures this view)."""
        self._pending = True
        self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        self._pending = False
        self.tiles = self.scene.shared_tiles()
        self.canvas.names = _names(self.scene)
        self.canvas.set_tiles(self.tiles)
        self.canvas.setVisible(self.tiles is not None)
        self.empty.setVisible(self.tiles is None)
        a, b, _ = _names(self.scene)
        self.empty.setText(f"The {self.scene.kernel} kernel uses no shared memory: every thread reads {a} and {b} "
                           "from global memory. Choose the tiled kernel to see its tiles sA and sB.")
        self.header.setText(self.describe())

    def describe(self) -> str:
        """One or two sentences on what this step does with the tiles."""
        st = self.tiles
        if st is None:
            return ""
        sc = self.scene
        bx, by = st.block
        n = st.tile_size
        where = f"Shared memory of block ({bx}, {by}), tile t = {st.tile} of 0–{st.tiles - 1}."
        if self.slide and st.role != "multiply":  # the slide's caption and step line say what the step does
            return where
        if st.role in ("load_a", "zero_a", "load_b", "zero_b"):
            arr = "sA" if st.role.endswith("a") else "sB"
            what = ("copy their element of " + _names(sc)[0 if arr == "sA" else 1]) if st.role.startswith("load") \
                else "write the padding zero"
            return f"{where} Threads {what} into {arr}: {int(st.tile_state(arr).written.sum())} elements written."
        if st.role == "multiply":
            i = sc.step_info().index_in_loop
            if self.slide:  # the slide's caption says what the step does: only what this view adds
                pad = f" ({st.zero_reads} of them padding zeros)" if st.zero_reads else ""
                return f"{where} Reads of sA and sB in this step: {int(st.sA.reads.sum() + st.sB.reads.sum())}{pad}."
            who = {"thread": "the selected thread", "warp": "its warp", "block": "its block",
                   "all": "the block (every block reads its own tiles)"}[sc.focus]
            reads = int(st.sA.reads.sum() + st.sB.reads.sum())
            pad = f" ({st.zero_reads} of them padding zeros)" if st.zero_reads else ""
            return (f"{where} i = {i}: every thread reads sA[ty, {i}] and sB[{i}, tx]; each of those elements "
                    f"serves the {n} threads of its row or column. Reads by {who}: {reads}{pad}.")
        if st.role == "sync_loaded":
            return f"{where} The barrier: the tiles are complete before any thread reads them."
        if st.role == "sync_used":
            return f"{where} The barrier: no thread overwrites the tiles while another still reads them."
        return f"{where} Each thread writes its element of {_names(sc)[2]}; the tiles keep the last tile's values."

    def height_for(self, width: int) -> int:
        """The height the slide version needs at ``width`` pixels."""
        self._flush()
        parts = [self.header.heightForWidth(width)]
        if self.tiles is not None:
            parts.append(self.canvas.height_for(width))
        else:
            parts.append(self.empty.heightForWidth(width))
        return sum(parts) + self.layout().spacing() * (len(parts) - 1)


__all__ = ["SharedTilesView", "TilesCanvas", "hatch"]


def _names(scene) -> tuple[str, str, str]:
    """The scenario's names for A, B and C (default A, B, C)."""
    return tuple(getattr(scene, "names", None) or ("A", "B", "C"))
