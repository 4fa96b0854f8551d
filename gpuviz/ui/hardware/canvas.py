"""The SM grid: each SM of the preset with its resident-block slots and its cores, one wave at a time.

Drawn as one RGBA image (one ``ImageItem``), so a step costs the same whatever
the grid's size: a slot is a square of pixels, a core a dot in a strip under
the slots, as the lecture draws an SM's SPs.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import pyqtSignal

from ..theme import Theme, block_palette

SLOT = 6  # slot square, pixels
GAP = 1
PAD = 2


def slot_shape(active: int) -> tuple[int, int]:
    """Rows and columns of an SM's slot area for ``active`` resident blocks (wider than tall)."""
    if active <= 0:
        return 1, 1
    cols = max(1, math.ceil(math.sqrt(active * 2)))
    return math.ceil(active / cols), cols


class SMGeometry:
    """Where each SM, slot and core sits in the image (pixel rows, columns)."""

    def __init__(self, sm_count: int, active: int, cores: int, aspect: float = 16 / 9):
        self.sm_count, self.active, self.cores = sm_count, active, max(0, cores)
        self.slot_rows, self.slot_cols = slot_shape(active)
        self.inner_w = self.slot_cols * (SLOT + GAP) - GAP
        self.core_rows = math.ceil(self.cores / self.inner_w) if self.cores else 0
        self.sm_w = self.inner_w + 2 * PAD
        self.sm_h = self.slot_rows * (SLOT + GAP) - GAP + 2 * PAD + (self.core_rows + 1 if self.cores else 0)
        self.cols = max(1, round(math.sqrt(sm_count * aspect * self.sm_h / self.sm_w)))
        self.cols = min(self.cols, sm_count)
        self.rows = math.ceil(sm_count / self.cols)
        self.width = self.cols * (self.sm_w + GAP * 2)
        self.height = self.rows * (self.sm_h + GAP * 2)

    def sm_origin(self, sm: int) -> tuple[int, int]:
        r, c = divmod(sm, self.cols)
        return r * (self.sm_h + 2 * GAP) + GAP, c * (self.sm_w + 2 * GAP) + GAP

    def slot_origin(self, sm: int, slot: int) -> tuple[int, int]:
        y, x = self.sm_origin(sm)
        r, c = divmod(slot, self.slot_cols)
        return y + PAD + r * (SLOT + GAP), x + PAD + c * (SLOT + GAP)

    def hit(self, y: float, x: float) -> tuple[int, int] | None:
        """(SM, slot) under image pixel (row y, column x), or None."""
        if not (0 <= y < self.height and 0 <= x < self.width) or self.active <= 0:
            return None
        r, c = int(y) // (self.sm_h + 2 * GAP), int(x) // (self.sm_w + 2 * GAP)
        sm = r * self.cols + c
        if sm >= self.sm_count:
            return None
        oy, ox = self.slot_origin(sm, 0)
        sr, sc = (int(y) - oy) // (SLOT + GAP), (int(x) - ox) // (SLOT + GAP)
        if not (0 <= sr < self.slot_rows and 0 <= sc < self.slot_cols):
            return None
        slot = sr * self.slot_cols + sc
        return (sm, slot) if slot < self.active else None


class SMGrid(pg.GraphicsLayoutWidget):
    """The preset's SMs for one wave; clicking a resident block selects it.

    Attributes
    ----------
    block_clicked : pyqtSignal(int)
        The linear id of the block under a click.
    """

    block_clicked = pyqtSignal(int)

    def __init__(self, theme: Theme, parent=None):
        super().__init__(parent)
        self.theme = theme
        self.view = self.addViewBox(lockAspect=True, invertY=True, enableMouse=False)
        self.view.setMenuEnabled(False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.view.addItem(self.image)
        self.geometry_ = None
        self._placement = None  # what a click maps back to a block
        self._static = None
        self.scene().sigMouseClicked.connect(self._clicked)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.setBackground(theme.panel_background)
        self._static = None

    def show_frame(self, placement: np.ndarray, sm_count: int, cores: int, grid_x: int, selected: int | None) -> None:
        """Draw ``placement`` (SM × slot block ids, -1 empty); blocks coloured by their column of C's blocks."""
        active = placement.shape[1] if placement.ndim == 2 else 0
        geo = self.geometry_
        if geo is None or (geo.sm_count, geo.active, geo.cores) != (sm_count, active, cores):
            geo = self.geometry_ = SMGeometry(sm_count, active, cores)
            self._static = None
        if self._static is None:
            self._static = self._blank_image(geo)
        img = self._static.copy()
        self._placement = placement
        t = self.theme
        pal = block_palette(t)
        if active:
            ids = placement.reshape(-1)
            sm = np.repeat(np.arange(sm_count), active)
            slot = np.tile(np.arange(active), sm_count)
            full = ids >= 0
            colours = np.take(pal, (ids[full] % grid_x + ids[full] // grid_x) % len(pal), axis=0)
            if selected is not None:
                colours[ids[full] == selected] = (*t.selected, 255)
            ys, xs = self._slot_pixels(geo, sm[full], slot[full])
            img[ys, xs] = colours[:, None, None, :]
            # cores of an SM with a block light up: the SM is busy this wave
            busy = np.zeros(sm_count, bool)
            busy[sm[full]] = True
            if geo.cores and busy.any():
                cy, cx = self._core_pixels(geo, np.nonzero(busy)[0])
                img[cy, cx] = (*t.active, 255)
        self.image.setImage(img, autoLevels=False, levels=(0, 255))
        self.view.setRange(xRange=(0, geo.width), yRange=(0, geo.height), padding=0.01)

    def _slot_pixels(self, geo, sms, slots):
        r, c = np.divmod(sms, geo.cols)
        sr, sc = np.divmod(slots, geo.slot_cols)
        oy = r * (geo.sm_h + 2 * GAP) + GAP + PAD + sr * (SLOT + GAP)
        ox = c * (geo.sm_w + 2 * GAP) + GAP + PAD + sc * (SLOT + GAP)
        d = np.arange(SLOT)
        return oy[:, None, None] + d[None, :, None], ox[:, None, None] + d[None, None, :]

    def _core_pixels(self, geo, sms):
        r, c = np.divmod(sms, geo.cols)
        top = r * (geo.sm_h + 2 * GAP) + GAP + PAD + geo.slot_rows * (SLOT + GAP)
        left = c * (geo.sm_w + 2 * GAP) + GAP + PAD
        k = np.arange(geo.cores)
        kr, kc = np.divmod(k, geo.inner_w)
        return top[:, None] + kr[None, :], left[:, None] + kc[None, :]

    def _blank_image(self, geo) -> np.ndarray:
        t = self.theme
        img = np.zeros((geo.height, geo.width, 4), np.uint8)
        img[...] = (*t.panel_background, 255)
        sms = np.arange(geo.sm_count)
        r, c = np.divmod(sms, geo.cols)
        for y0, x0 in zip(r * (geo.sm_h + 2 * GAP) + GAP, c * (geo.sm_w + 2 * GAP) + GAP):
            img[y0:y0 + geo.sm_h, x0:x0 + geo.sm_w] = (*t.grid_line, 255)
            img[y0 + 1:y0 + geo.sm_h - 1, x0 + 1:x0 + geo.sm_w - 1] = (*t.panel_background, 255)
        if geo.active:
            slot = np.tile(np.arange(geo.active), geo.sm_count)
            ys, xs = self._slot_pixels(geo, np.repeat(sms, geo.active), slot)
            img[ys, xs] = (*t.idle, 255)
        if geo.cores:
            cy, cx = self._core_pixels(geo, sms)
            img[cy, cx] = (*t.warp_line, 255)
        return img

    def _clicked(self, event) -> None:
        if self.geometry_ is None or self._placement is None:
            return
        p = self.image.mapFromScene(event.scenePos())
        hit = self.geometry_.hit(p.y(), p.x())
        if hit is not None and self._placement[hit] >= 0:
            self.block_clicked.emit(int(self._placement[hit]))
