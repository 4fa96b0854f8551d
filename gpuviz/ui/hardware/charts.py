"""The roofline chart (log-log) and the bank-conflicts pair of the Hardware panel."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QGridLayout, QLabel, QWidget

from ...model.hardware.banks import BANKS
from ...model.hardware.roofline import NO_CACHE_NOTE
from ..style import font, hex_colour, okabe, pen
from ..theme import Theme

KERNEL_COLOURS = {"naive": "blue", "uncoalesced": "vermillion", "tiled": "bluish_green"}


class RooflineChart(pg.PlotWidget):
    """FLOP/s against FLOP per byte, both logarithmic: the preset's two roofs and the kernels' points."""

    def __init__(self, theme: Theme, parent=None):
        super().__init__(parent)
        self.theme = theme
        self.setLogMode(x=True, y=True)
        self.setMenuEnabled(False)
        self.setMouseEnabled(False, False)
        self.hideButtons()
        self.setLabel("bottom", "arithmetic intensity (FLOP per byte moved)")
        self.setLabel("left", "GFLOP/s")
        self._items = []

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.setBackground(theme.panel_background)
        for axis in ("bottom", "left"):
            ax = self.getAxis(axis)
            ax.setPen(pen(theme.foreground, theme.pen_width(1)))
            ax.setTextPen(pen(theme.foreground, 1))
            ax.setTickFont(font(theme, scale=0.85))
            ax.label.setFont(font(theme, scale=0.9))

    def draw(self, roofs, points, measured=(), title: str = "") -> None:
        """Draw ``roofs`` (None: no published roofs, points only), the kernels' points at the roofline's height
        for their intensity (an upper bound, not a measurement) and ``measured`` points, each
        ``(intensity, FLOP/s, label)`` from a saved real run."""
        for item in self._items:
            self.removeItem(item)
        self._items = []
        t = self.theme
        xs = np.logspace(-2, 4, 200)
        if roofs is not None:
            ys = np.minimum(roofs.peak_flops, xs * roofs.bandwidth) / 1e9
            self._add(pg.PlotDataItem(xs, ys, pen=pen(t.foreground, t.pen_width(2.5))))
            ridge = pg.TextItem(f"ridge {roofs.ridge:.0f} FLOP/B", color=t.foreground, anchor=(0, -0.1))
            ridge.setPos(np.log10(roofs.ridge), np.log10(roofs.peak_flops / 1e9))
            self._add(ridge)
        for p in points:
            colour = okabe(KERNEL_COLOURS.get(p.kernel, "black"))
            y = (roofs.attainable(p.intensity) if roofs is not None else p.flops / p.sector_bytes) / 1e9
            # a PlotDataItem (not a bare ScatterPlotItem) so the plot's log mode applies to it
            self._add(pg.PlotDataItem([p.intensity], [y], pen=None, symbol="o", symbolSize=14 * t.line_scale,
                                      symbolBrush=pg.mkBrush(*colour), symbolPen=pen(t.foreground, t.pen_width(1))))
            label = pg.TextItem(f"{p.kernel} ({p.intensity:.2g})", color=colour, anchor=(0.5, 1.3))
            label.setFont(font(t, bold=True, scale=0.9))
            label.setPos(np.log10(p.intensity), np.log10(y))
            self._add(label)
        if points:
            comp = points[0].compulsory_intensity
            self._add(pg.InfiniteLine(np.log10(comp), angle=90, pen=pen(t.warp_line, t.pen_width(1.5),
                                                                       Qt.PenStyle.DashLine)))
            lab = pg.TextItem(f"compulsory bytes: {comp:.0f} FLOP/B", color=t.foreground, anchor=(1.02, 1))
            bottom = (roofs.attainable(xs[0]) if roofs is not None else points[0].flops / points[0].sector_bytes)
            lab.setPos(np.log10(comp), np.log10(bottom / 1e9))
            self._add(lab)
        for intensity, flops, text in measured:
            self._add(pg.PlotDataItem([intensity], [flops / 1e9], pen=None, symbol="x", symbolSize=16 * t.line_scale,
                                      symbolPen=pen(t.foreground, t.pen_width(2))))
            label = pg.TextItem(text, color=t.foreground, anchor=(0, 0))
            label.setPos(np.log10(intensity), np.log10(flops / 1e9))
            self._add(label)
        self.setTitle(title, color=hex_colour(t.foreground))

    def _add(self, item) -> None:
        self.addItem(item)
        self._items.append(item)


class BankPair(QWidget):
    """The transpose pair side by side: the worst request's 32 lanes against the 32 banks."""

    def __init__(self, theme: Theme, parent=None):
        super().__init__(parent)
        self.theme = theme
        lay = QGridLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.titles, self.plots, self.images, self.notes = [], [], [], []
        for col in range(2):
            title = QLabel()
            title.setAlignment(Qt.AlignmentFlag.AlignCenter)
            plot = pg.PlotWidget()
            plot.setMenuEnabled(False)
            plot.setMouseEnabled(False, False)
            plot.hideButtons()
            plot.invertY(True)
            plot.setMinimumHeight(90)
            plot.setLabel("bottom", "bank")
            plot.setLabel("left", "lane")
            image = pg.ImageItem(axisOrder="row-major")
            plot.addItem(image)
            note = QLabel()
            note.setWordWrap(True)
            lay.addWidget(title, 0, col)
            lay.addWidget(plot, 1, col)
            lay.addWidget(note, 2, col)
            self.titles.append(title)
            self.plots.append(plot)
            self.images.append(image)
            self.notes.append(note)
        lay.setRowStretch(1, 1)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        for title, plot, note in zip(self.titles, self.plots, self.notes):
            title.setFont(font(theme, bold=True))
            note.setFont(font(theme, scale=0.9))
            plot.setBackground(theme.panel_background)

    def show_pair(self, conflicts: dict) -> None:
        """``conflicts[padded]``: BankConflicts of the recorded transpose traces."""
        t = self.theme
        for col, padded in enumerate((False, True)):
            bc = conflicts[padded]
            worst = int(np.argmax(bc.degree))
            req = bc.request(worst)
            img = np.zeros((32, BANKS, 4), np.uint8)
            img[...] = (*t.panel_background, 255)
            img[:, ::2] = (*[max(0, v - 12) for v in t.panel_background], 255)
            for lane, bank in zip(req["lanes"], req["banks"]):
                img[lane, bank] = (*t.read, 255)
            self.images[col].setImage(img, autoLevels=False, levels=(0, 255))
            self.plots[col].setRange(xRange=(0, BANKS), yRange=(0, 32), padding=0.02)
            shape = "32 × 33 tile" if padded else "32 × 32 tile"
            degree = req["degree"]
            self.titles[col].setText(f"{shape}: {'no conflict' if degree == 1 else f'{degree}-way conflict'}")
            banks = len(set(req["banks"]))
            self.notes[col].setText(f"tile[tx, ty + j], warp {req['warp']}: {len(set(req['words']))} words, "
                                    f"{banks} bank{'s' if banks > 1 else ''}")


__all__ = ["NO_CACHE_NOTE", "BankPair", "RooflineChart"]
