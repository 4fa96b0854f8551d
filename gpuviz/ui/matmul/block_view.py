"""The selected block drawn out as the lecture's slide draws Block 13: its threads numbered 0–63 in rows.

A part of the matmul figure (beside C), so the slide look, the exports and lecture
mode show it. Each cell is one thread of the selected block, laid out by
``threadIdx`` (row ``ty``, column ``tx``: 8 rows of 8 for an 8×8 block) and
labelled with its linear thread id; the lane is a second, smaller label, since it
restarts at 0 in every warp. The warp boundaries are thick lines and each warp is
named beside its rows (``Warp 1: threads 32–63``). All numbers come from
:mod:`gpuviz.model.grid_view`, the same rules the C grid, the tree and the details
use. Clicking a thread selects it; hovering names it.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QPointF, QRectF, QSize, Qt
from PyQt6.QtGui import QColor, QFontMetricsF, QImage, QPaintEngine, QPainter, QTransform
from PyQt6.QtWidgets import QSizePolicy, QToolTip, QWidget

from ...model.frames import THREADS, Viewport
from ...model.grid_view import (
    block_colour_index,
    block_label,
    block_thread_grid,
    thread_label,
    warp_label,
)
from ...model.launch import WARP_SIZE
from ..style import font, pen, subscribe
from ..theme import Theme, text_colour_on
from .c_view import MASK_ALPHA, c_palette


class BlockView(QWidget):
    """The selected thread's block, thread by thread (a ``dataCanvas``: it paints its cells itself).

    Parameters
    ----------
    scene : MatmulScene
        The scene; the view follows its selection and step, and selects a thread on a click.
    theme : Theme
        Colours and fonts (the figure's look: slide-sized in the slide look).
    """

    def __init__(self, scene, theme: Theme, parent=None):
        super().__init__(parent)
        self.scene = scene
        self.theme = theme
        self.setProperty("dataCanvas", True)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(0, 100)
        # the paint covers every pixel (its background first): Qt need not paint the parent's under it
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self._active = None
        self._drawn = None  # (the picture's key, the selected thread) of the last paint on screen
        self._picture: tuple[tuple, QImage] | None = None  # (key, everything but the selection, in device pixels)
        subscribe(self, scene, "_scene_changed")
        self.set_theme(theme)

    # -- look -----------------------------------------------------------------------------------

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self._palette = c_palette(theme)
        self.update()

    def _scene_changed(self, scene, changes) -> None:
        self._active = None
        # a step that masks the same threads (every step of most kernels) leaves the block as drawn: no paint
        drawn, self._drawn = self._drawn, None
        if drawn is not None and self.isVisible() and drawn == (self._picture_key(drawn[0][2]),
                                                                self._selected_thread()):
            self._drawn = drawn
            return
        self.update()

    # -- geometry -------------------------------------------------------------------------------

    def fonts(self):
        """(title, thread id, lane, warp label) fonts."""
        t = self.theme
        return font(t, bold=True, scale=1.0), font(t, bold=True, scale=1.0), font(t, scale=0.9), font(t, scale=0.9)

    def title_text(self) -> str:
        s = self.scene
        bx, by = s.selected.block[:2]
        return block_label(bx, by, s.launch.grid.x, long=True)

    def warp_texts(self) -> list[str]:
        b = self.scene.launch.block
        n = b.x * b.y
        return [warp_label(w, n) for w in range(-(-n // WARP_SIZE))]

    def title_lines(self, width: float | None = None) -> list[str]:
        """The title as drawn at ``width``: one line, or the block's number and its blockIdx on two."""
        w = self.width() if width is None else width
        fm = QFontMetricsF(self.fonts()[0])
        text = self.title_text()
        if fm.horizontalAdvance(text) <= w - 4:
            return [text]
        head, _, tail = text.partition(" · ")
        return [fm.elidedText(t, Qt.TextElideMode.ElideRight, w - 4) for t in (head, tail)]

    def _metrics(self, width: float | None = None):
        title_f, _, _, warp_f = self.fonts()
        fm_w = QFontMetricsF(warp_f)
        label_w = max(fm_w.horizontalAdvance(t) for t in self.warp_texts()) + 12
        n = len(self.title_lines(width))
        return n * QFontMetricsF(title_f).height() + 4, fm_w.height(), label_w

    def _arrangements(self, w: float, h: float | None) -> list[tuple[float, bool, int]]:
        """(cell side, beside, label lines) of each way to place the warps' names that works at width ``w``
        (and height ``h``, or any height for None): right of their rows, or in lines under the cells."""
        b = self.scene.launch.block
        title_h, line_h, label_w = self._metrics(w)
        n_warps = len(self.warp_texts())
        pad = 4.0
        out = []
        cell = (w - label_w - 2 * pad) / b.x
        if h is not None:
            cell = min(cell, (h - title_h - 2 * pad) / b.y)
        if cell > 0 and b.y / n_warps * cell >= line_h:  # each warp's rows are as tall as its name
            out.append((cell, True, 0))
        per_line = max(1, int((w - 2 * pad) // label_w))
        lines = -(-n_warps // per_line)
        cell = (w - 2 * pad) / b.x
        if h is not None:
            cell = min(cell, (h - title_h - 2 * pad - lines * line_h - 4) / b.y)
        out.append((cell, False, lines))
        return out

    def layout(self, width: float | None = None, height: float | None = None) -> dict:
        """Where everything goes at this size: the title's rectangle, the cells' origin and size, and whether
        the warps' names go right of their rows or in lines under the cells (whichever leaves larger cells)."""
        w = self.width() if width is None else width
        h = self.height() if height is None else height
        b = self.scene.launch.block
        title_h, line_h, label_w = self._metrics(w)
        cell, beside, lines = max(self._arrangements(w, h))
        cell = max(cell, 1.0)
        pad = 4.0
        grid_w, grid_h = cell * b.x, cell * b.y
        left = pad + max(0.0, (w - 2 * pad - grid_w - (label_w if beside else 0)) / 2)
        top = title_h + pad
        return {"title": QRectF(0, 0, w, title_h), "origin": QPointF(left, top), "cell": cell,
                "grid": QRectF(left, top, grid_w, grid_h), "beside": beside, "label_w": label_w,
                "lines": lines, "line_h": line_h}

    def height_for_width(self, width: float) -> float:
        """The height that draws the largest square cells ``width`` allows, with the warps' names."""
        b = self.scene.launch.block
        title_h, line_h, _ = self._metrics(width)
        cell, beside, lines = max(self._arrangements(width, None))
        return title_h + 8 + b.y * max(cell, 4.0) + (0 if beside else lines * line_h + 4)

    def sizeHint(self) -> QSize:
        return QSize(300, int(self.height_for_width(300)))

    def cell_at(self, pos: QPointF) -> tuple[int, int] | None:
        """threadIdx (x, y) under a widget position, or None."""
        lay = self.layout()
        b = self.scene.launch.block
        p = pos - lay["origin"]
        tx, ty = int(np.floor(p.x() / lay["cell"])), int(np.floor(p.y() / lay["cell"]))
        if 0 <= tx < b.x and 0 <= ty < b.y:
            return tx, ty
        return None

    def cell_rect(self, tx: int, ty: int) -> QRectF:
        lay = self.layout()
        c = lay["cell"]
        return QRectF(lay["origin"].x() + tx * c, lay["origin"].y() + ty * c, c, c)

    # -- what a cell shows ------------------------------------------------------------------------

    def cell_colours(self) -> np.ndarray:
        """RGB (rows ty, cols tx, 3) of the block's cells: the block's colour, odd warps lighter, idle threads
        (beyond C) grey, as the C grid draws them."""
        s = self.scene
        b = s.launch.block
        bx, by = s.selected.block[:2]
        ids = block_thread_grid(b.x, b.y)
        colour = int(block_colour_index(bx, by))
        idx = 2 * colour + ((ids // WARP_SIZE) & 1)
        idle = self._idle()
        idx = np.where(idle, 14 + 2 * colour, idx)
        return self._palette[idx][..., :3]

    def _idle(self) -> np.ndarray:
        s = self.scene
        b = s.launch.block
        bx, by = s.selected.block[:2]
        ty, tx = np.indices((b.y, b.x))
        gx, gy = bx * b.x + tx, by * b.y + ty
        m, n = s.problem.m, s.problem.n
        row, col = (gx, gy) if s.mapping.rows_from_x else (gy, gx)
        return (row >= m) | (col >= n)

    def _masked(self) -> np.ndarray | None:
        """Threads of the block masked in the step (True), from the scene's frame of the whole grid."""
        if self._active is None:
            s = self.scene
            b = s.launch.block
            bx, by = s.selected.block[:2]
            # the thread grid at the block's own resolution: one bin per thread of the block, whatever the launch
            vp = Viewport(by * b.y, (by + 1) * b.y, bx * b.x, (bx + 1) * b.x, b.y, b.x)
            vps = {name: Viewport(0, 1, 0, 1, 1, 1) for name in s.shapes()}  # the arrays: nothing asked of them
            vps[THREADS] = vp
            act = s.frame(vps).active
            self._active = np.ones((b.y, b.x), bool) if act is None or act.shape != (b.y, b.x) else act > 0
        return ~self._active

    # -- painting ---------------------------------------------------------------------------------

    def _selected_thread(self) -> tuple[int, int]:
        return tuple(self.scene.selected.thread[:2])

    def _picture_key(self, ratio: float) -> tuple:
        """What the picture under the selection depends on: size, pixel ratio, look, block and its masked threads."""
        s = self.scene
        masked = self._masked()
        return (self.width(), self.height(), ratio, self.theme, tuple(s.selected.block[:2]), s.launch.block,
                s.launch.grid.x, s.problem.m, s.problem.n, s.mapping.rows_from_x,
                None if masked is None else masked.tobytes())

    def paintEvent(self, event):
        p = QPainter(self)
        dev = p.deviceTransform()
        ratio = dev.m11()
        # on a raster device at a plain scale (the screen, a PNG export) the block is drawn once into an image
        # and copied: a step repaints it (a 4K screen: ~130 texts and 64 fills) though nothing in it changed.
        # Vector output (SVG) and any other transform draw it afresh, as before.
        plain = dev.type().value <= QTransform.TransformationType.TxScale.value and ratio > 0 and ratio == dev.m22()
        cached = (p.paintEngine().type() == QPaintEngine.Type.Raster and plain
                  and float(dev.dx()).is_integer() and float(dev.dy()).is_integer())
        lay = self.layout()
        if cached:
            key = self._picture_key(ratio)
            if self._picture is None or self._picture[0] != key:
                image = QImage(max(1, round(self.width() * ratio)), max(1, round(self.height() * ratio)),
                               QImage.Format.Format_ARGB32_Premultiplied)
                image.setDevicePixelRatio(ratio)
                q = QPainter(image)
                self._paint_picture(q, lay)
                q.end()
                self._picture = (key, image)
            p.drawImage(QPointF(0, 0), self._picture[1])
            self._drawn = (key, self._selected_thread())
        else:
            self._paint_picture(p, lay)
        self._paint_selection(p, lay)
        p.end()

    def _paint_picture(self, p, lay) -> None:
        """Everything but the selected thread's outline: title, cells, veil, labels, warp lines and names."""
        s = self.scene
        t = self.theme
        b = s.launch.block
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        p.fillRect(self.rect(), QColor(*t.background))
        title_f, id_f, lane_f, warp_f = self.fonts()
        fg = QColor(*t.foreground)
        p.setPen(fg)
        p.setFont(title_f)
        fm_t = QFontMetricsF(title_f)
        for i, line in enumerate(self.title_lines()):
            p.drawText(QRectF(0, 2 + i * fm_t.height(), self.width(), fm_t.height()),
                       int(Qt.AlignmentFlag.AlignCenter.value), line)
        ids = block_thread_grid(b.x, b.y)
        colours = self.cell_colours()
        c = lay["cell"]
        ox, oy = lay["origin"].x(), lay["origin"].y()
        for ty in range(b.y):
            for tx in range(b.x):
                p.fillRect(QRectF(ox + tx * c, oy + ty * c, c, c), QColor(*(int(v) for v in colours[ty, tx])))
        masked = self._masked()
        if masked is not None and masked.any():
            veil = QColor(*t.panel_background, MASK_ALPHA)
            for ty, tx in zip(*np.nonzero(masked)):
                p.fillRect(QRectF(ox + tx * c, oy + ty * c, c, c), veil)
        # thin lines between threads, thick ones between warps
        p.setPen(pen(t.warp_line, t.pen_width(0.6)))
        for i in range(1, b.x):
            p.drawLine(QPointF(ox + i * c, oy), QPointF(ox + i * c, oy + b.y * c))
        for j in range(1, b.y):
            p.drawLine(QPointF(ox, oy + j * c), QPointF(ox + b.x * c, oy + j * c))
        self._paint_labels(p, ids, colours, masked, lay, id_f, lane_f)
        p.setPen(pen(t.grid_line, t.pen_width(3.0)))
        for seg in _warp_edges(ids):
            (x0, y0), (x1, y1) = seg
            p.drawLine(QPointF(ox + x0 * c, oy + y0 * c), QPointF(ox + x1 * c, oy + y1 * c))
        p.drawRect(lay["grid"])
        self._paint_warp_labels(p, lay, warp_f, fg)

    def _paint_selection(self, p, lay) -> None:
        t = self.theme
        c = lay["cell"]
        tx, ty = self._selected_thread()
        r = QRectF(lay["origin"].x() + tx * c, lay["origin"].y() + ty * c, c, c)
        p.setPen(pen(t.panel_background, t.pen_width(5.0)))
        p.drawRect(r)
        p.setPen(pen(t.selected, t.pen_width(2.6)))
        p.drawRect(r)

    def _paint_labels(self, p, ids, colours, masked, lay, id_f, lane_f) -> None:
        b = self.scene.launch.block
        c = lay["cell"]
        fm_id, fm_lane = QFontMetricsF(id_f), QFontMetricsF(lane_f)
        widest = fm_id.horizontalAdvance(str(int(ids.max())))
        if c < widest + 4 or c < fm_id.height():
            return  # no room for the numbers: the tooltip names each thread
        lanes = c >= fm_lane.horizontalAdvance(f"lane {WARP_SIZE - 1}") + 4 and c >= fm_id.height() + fm_lane.height()
        ox, oy = lay["origin"].x(), lay["origin"].y()
        bg = np.array(self.theme.panel_background, float)
        centre = int(Qt.AlignmentFlag.AlignCenter.value)
        for ty in range(b.y):
            for tx in range(b.x):
                rgb = colours[ty, tx].astype(float)
                if masked is not None and masked[ty, tx]:  # the text sits on the veiled colour
                    a = MASK_ALPHA / 255
                    rgb = (1 - a) * rgb + a * bg
                text_rgb = text_colour_on(tuple(int(round(v)) for v in rgb), preferred=self.theme.foreground)
                p.setPen(QColor(*text_rgb))
                rect = QRectF(ox + tx * c, oy + ty * c, c, c)
                i = int(ids[ty, tx])
                if lanes:
                    h1, h2 = fm_id.height(), fm_lane.height()
                    top = rect.center().y() - (h1 + h2) / 2
                    p.setFont(id_f)
                    p.drawText(QRectF(rect.left(), top, c, h1), centre, str(i))
                    p.setFont(lane_f)
                    p.drawText(QRectF(rect.left(), top + h1, c, h2), centre, f"lane {i % WARP_SIZE}")
                else:
                    p.setFont(id_f)
                    p.drawText(rect, centre, str(i))

    def warp_label_rects(self, lay: dict | None = None) -> list[tuple[QRectF, str]]:
        """Where each warp's name is drawn: beside its first and last rows, or listed under the cells."""
        lay = lay or self.layout()
        b = self.scene.launch.block
        texts = self.warp_texts()
        fm = QFontMetricsF(self.fonts()[3])
        g = lay["grid"]
        c = lay["cell"]
        out = []
        for w, text in enumerate(texts):
            if lay["beside"]:
                first, last = w * WARP_SIZE, min((w + 1) * WARP_SIZE, b.x * b.y) - 1
                y0, y1 = (first // b.x) * c, (last // b.x + 1) * c
                mid = g.top() + (y0 + y1) / 2
                out.append((QRectF(g.right() + 8, mid - fm.height() / 2, lay["label_w"] - 8, fm.height()), text))
            else:
                per_line = -(-len(texts) // lay["lines"])
                line, col = divmod(w, per_line)
                out.append((QRectF(4.0 + col * lay["label_w"], g.bottom() + 4 + line * fm.height(),
                                   lay["label_w"], fm.height()), text))
        return out

    def _paint_warp_labels(self, p, lay, warp_f, fg) -> None:
        p.setFont(warp_f)
        p.setPen(fg)
        left = int((Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter).value)
        for rect, text in self.warp_label_rects(lay):
            p.drawText(rect, left, text)

    # -- mouse ------------------------------------------------------------------------------------

    def mousePressEvent(self, event):
        if event.button() == Qt.MouseButton.LeftButton:
            cell = self.cell_at(event.position())
            if cell is not None:
                self.scene.select_thread(self.scene.selected.block[:2], cell)
                event.accept()
                return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event):
        cell = self.cell_at(event.position())
        if cell is None:
            QToolTip.hideText()
        else:
            QToolTip.showText(event.globalPosition().toPoint(), self.tooltip_for(*cell), self)
        super().mouseMoveEvent(event)

    def tooltip_for(self, tx: int, ty: int) -> str:
        """What hovering thread (tx, ty) of the block says: its numbers and its element of C."""
        s = self.scene
        b = s.launch.block
        lin = int(block_thread_grid(b.x, b.y)[ty, tx])
        bx, by = s.selected.block[:2]
        text = (f"{thread_label(lin, lin % WARP_SIZE)} · warp {lin // WARP_SIZE} · threadIdx ({tx}, {ty}) · "
                f"{block_label(bx, by, s.launch.grid.x, long=True)}")
        if self._idle()[ty, tx]:
            return text + " · idle (beyond C)"
        gx, gy = bx * b.x + tx, by * b.y + ty
        r, c = s.mapping.element_of_thread(gx, gy)
        return text + f" · computes {s.names[2] if hasattr(s, 'names') else 'C'}[{int(r)}, {int(c)}]"


def _warp_edges(ids: np.ndarray) -> list:
    """Segments ((x0, y0), (x1, y1)) in cell units between neighbouring threads of different warps."""
    warp = ids // WARP_SIZE
    segs = []
    rows, cols = warp.shape
    for r in range(1, rows):
        for c in range(cols):
            if warp[r, c] != warp[r - 1, c]:
                segs.append(((c, r), (c + 1, r)))
    for r in range(rows):
        for c in range(1, cols):
            if warp[r, c] != warp[r, c - 1]:
                segs.append(((c, r), (c, r + 1)))
    return segs


__all__ = ["BlockView"]
