"""The roofline chart (log-log) and the bank-conflicts pair of the Hardware panel."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QFontMetrics
from PyQt6.QtWidgets import QGridLayout, QLabel, QWidget

from ...model.hardware.banks import BANKS
from ...model.hardware.roofline import NO_CACHE_NOTE
from ..speed.style import readable
from ..style import font, hex_colour, okabe, pen
from ..theme import BASE_POINT_SIZE, Theme

KERNEL_COLOURS = {"naive": "blue", "uncoalesced": "vermillion", "tiled": "bluish_green"}
#: The charts' smallest text, as a share of the body size: 18 px on a slide (the slide look's 1.5 × 10 pt × 0.9).
SMALL = 0.9


def style_axes(plot: pg.PlotItem, theme: Theme) -> None:
    """Axes in the theme's foreground with the charts' fonts, and room around the plot for the tick labels that
    stand out of its axes (the first and last tick's text is centred on the axis's end)."""
    tick = font(theme, scale=SMALL)
    for axis in ("bottom", "left"):
        ax = plot.getAxis(axis)
        ax.setPen(pen(theme.foreground, theme.pen_width(1)))
        ax.setTextPen(pen(theme.foreground, 1))
        ax.setTickFont(tick)
        ax.label.setFont(font(theme, scale=SMALL))
        ax.label.setDefaultTextColor(pg.mkColor(*theme.foreground))
    half = QFontMetrics(tick).height() // 2 + 2
    plot.layout.setContentsMargins(2, half, half + QFontMetrics(tick).horizontalAdvance("0") * 2, 2)


class RooflineChart(pg.PlotWidget):
    """FLOP/s against FLOP per byte, both logarithmic: the preset's two roofs and the kernels' points."""

    def __init__(self, theme: Theme, parent=None):
        super().__init__(parent)
        self.theme = theme
        self.setLogMode(x=True, y=True)
        self.setMenuEnabled(False)
        self.setMouseEnabled(False, False)
        self.hideButtons()
        self.setLabel("bottom", "intensity: FLOP per byte moved")
        self.setLabel("left", "GFLOP/s")
        self._items = []
        self._labels = []  # (TextItem, its position in view coordinates): kept inside the plot on a resize
        vb = self.getPlotItem().getViewBox()
        vb.sigResized.connect(self._keep_labels_inside)
        vb.sigRangeChanged.connect(self._keep_labels_inside)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.setBackground(theme.panel_background)
        style_axes(self.getPlotItem(), theme)

    def draw(self, roofs, points, measured=(), title: str = "") -> None:
        """Draw ``roofs`` (None: no published roofs, points only), the kernels' points at the roofline's height
        for their intensity (an upper bound, not a measurement) and ``measured`` points, each
        ``(intensity, FLOP/s, label)`` from a saved real run."""
        for item in self._items:
            self.removeItem(item)
        self._items = []
        self._labels = []
        t = self.theme
        xs = np.logspace(-2, 4.5, 200)
        if roofs is not None:
            ys = np.minimum(roofs.peak_flops, xs * roofs.bandwidth) / 1e9
            self._add(pg.PlotDataItem(xs, ys, pen=pen(t.foreground, t.pen_width(2.5))))
            # under the flat roof, right of its corner: the kernels' labels stand lower, under the rising roof
            ridge = pg.TextItem(f"ridge {roofs.ridge:.0f} FLOP/B", color=t.foreground, anchor=(-0.03, -0.1))
            ridge.setFont(font(t, scale=SMALL))
            ridge.setPos(np.log10(roofs.ridge), np.log10(roofs.peak_flops / 1e9))
            self._add(ridge)
        for p in points:
            colour = okabe(KERNEL_COLOURS.get(p.kernel, "black"))
            y = (roofs.attainable(p.intensity) if roofs is not None else p.flops / p.sector_bytes) / 1e9
            # a PlotDataItem (not a bare ScatterPlotItem) so the plot's log mode applies to it
            self._add(pg.PlotDataItem([p.intensity], [y], pen=None, symbol="o", symbolSize=14 * t.line_scale,
                                      symbolBrush=pg.mkBrush(*colour), symbolPen=pen(t.foreground, t.pen_width(1))))
            # below and right of its point: under the roof, which rises to the right, nothing else is drawn
            # the label in the kernel's colour where that reads at WCAG AA, else nudged towards the foreground
            text_colour = readable(colour, t.panel_background, t.foreground)
            label = pg.TextItem(f"{p.kernel} ({p.intensity:.2g})", color=text_colour, anchor=(-0.05, -0.35))
            label.setFont(font(t, bold=True, scale=SMALL))
            label.setPos(np.log10(p.intensity), np.log10(y))
            self._add(label)
        if points:
            comp = points[0].compulsory_intensity
            self._add(pg.InfiniteLine(np.log10(comp), angle=90, pen=pen(t.warp_line, t.pen_width(1.5),
                                                                       Qt.PenStyle.DashLine)))
            # over the roof, left of the dashed line, in the room the y range keeps there
            lab = pg.TextItem(f"compulsory: {comp:.0f} FLOP/B", color=t.foreground, anchor=(1.03, 1.0))
            lab.setFont(font(t, scale=SMALL))
            top = roofs.peak_flops if roofs is not None else max(p.flops / p.sector_bytes for p in points)
            lab.setPos(np.log10(comp), np.log10(top / 1e9))
            self._add(lab)
        for intensity, flops, text in measured:
            self._add(pg.PlotDataItem([intensity], [flops / 1e9], pen=None, symbol="x", symbolSize=16 * t.line_scale,
                                      symbolPen=pen(t.foreground, t.pen_width(2))))
            label = pg.TextItem(text, color=t.foreground, anchor=(0, 0))
            label.setFont(font(t, scale=SMALL))
            label.setPos(np.log10(intensity), np.log10(flops / 1e9))
            self._add(label)
        ys_all = [it.yData for it in self._items if isinstance(it, pg.PlotDataItem) and it.yData is not None]
        if ys_all:
            lo = min(float(np.nanmin(y)) for y in ys_all)
            hi = max(float(np.nanmax(y)) for y in ys_all)
            # room over the highest roof or point for the compulsory line's label
            self.setRange(xRange=(-2, 4.5), yRange=(np.log10(lo) - 0.15, np.log10(hi) + 0.8), padding=0)
        self.setTitle(title, color=hex_colour(t.foreground), size=f"{BASE_POINT_SIZE * t.font_scale:.1f}pt")
        self._keep_labels_inside()

    def _add(self, item) -> None:
        self.addItem(item)
        self._items.append(item)
        if isinstance(item, pg.TextItem):
            self._labels.append((item, item.pos()))

    def _keep_labels_inside(self, *_args) -> None:
        """Move a label that would run out of the plot sideways back in (from where :meth:`draw` put it).

        On a narrow chart (the side column at 1024×768) the ridge's label, right of the roof's corner, ran
        past the right edge, and the compulsory line's, left of the dashed line, past the left one."""
        vb = self.getPlotItem().getViewBox()
        box = vb.sceneBoundingRect()
        if box.width() <= 0:
            return
        for label, where in self._labels:
            # from the anchor and the text's size in pixels, not from the item's own (possibly stale) transform
            size = label.textItem.boundingRect()
            at = vb.mapViewToScene(where)
            left = at.x() - label.anchor.x() * size.width()
            shift = 0.0
            if left + size.width() > box.right() - 2:
                shift = box.right() - 2 - (left + size.width())
            if left + shift < box.left() + 2:
                shift = box.left() + 2 - left  # wider than the plot: its start stays readable
            moved = vb.mapSceneToView(at + pg.Point(shift, 0)) if shift else where
            label.setPos(moved.x(), where.y())


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
            note.setFont(font(theme, scale=SMALL))
            plot.setBackground(theme.panel_background)
            style_axes(plot.getPlotItem(), theme)

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
