"""CPU vs GPU without a GPU: a reference table measured elsewhere, beside this machine's own figures.

Two charts side by side, never one: on the left the reference table (the lecture's
CIFAR-10 training figures, examples per second per device), on the right the
examples per second that the shown results measured for the dense layer, each
implementation at its best batch size. The two workloads differ (a CNN on CIFAR-10
there, one 10×784 layer step here), so they share no axis and no ratio is drawn
across them; each chart's title says whose figures it holds, and the reference's
provenance (who measured it, when, the source) is written under it. Bars are
coloured by CPU or GPU, with the kind also in each bar's label.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QFontMetrics
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from ...model.reference_table import ReferenceTable
from ...model.speed import GPU_IMPLS
from ..style import font, hex_colour, mix
from ..theme import LIGHT, OKABE_ITO, Theme
from .plots import ThinningAxis
from .style import impl_name

#: Least height of one chart at font scale 1 (pixels): four bars and their names stay readable.
CHART_MIN_HEIGHT = 150
#: Bar colours by kind (Okabe–Ito: distinguishable with every common colour blindness).
KIND_COLOURS = {"CPU": "sky_blue", "GPU": "vermillion"}


def this_machine_rows(results) -> list[tuple[str, str, float]]:
    """``(label, kind, examples/s)`` per implementation of the shown layer figures, at its best batch size."""
    if results is None:
        return []
    best: dict[str, tuple[int, float]] = {}
    for (impl, batch), eps in results.examples_per_second().items():
        if impl == "simulator":
            continue  # a CPU emulating GPU threads: not a speed of either
        if impl not in best or eps > best[impl][1]:
            best[impl] = (batch, eps)
    return [(f"{impl_name(i)} (batch {b:,})", "GPU" if i in GPU_IMPLS else "CPU", v) for i, (b, v) in best.items()]


class _CountAxis(ThinningAxis):
    """Examples per second as people write them: 200,000, not 200000."""

    def tickStrings(self, values, scale, spacing):
        return [f"{v:,.0f}" for v in values]


class ReferenceView(QWidget):
    """The CPU-vs-GPU view: ``table`` (measured elsewhere) beside ``results``' layer figures (measured by gpuviz).

    Attributes
    ----------
    table : ReferenceTable or None
    plots : dict
        ``"reference"`` and ``"here"`` → the PlotItem of each chart.
    titles : dict
        The same keys → each chart's title (a word-wrapped label above it).
    bar_texts : dict
        The same keys → the labels written on the bars, in order (what a slide shows).
    brief : bool
        Only the one-line label of the reference's source under the charts (a slide has no room for more).
    """

    def __init__(self, parent=None, theme: Theme = LIGHT):
        super().__init__(parent)
        self.theme = theme
        self.table: ReferenceTable | None = None
        self.results = None
        self.brief = False
        #: Lecture mode's look: each bar's name written with its value after it, no axis of names beside the bars
        self.compact = False
        self.plots: dict[str, pg.PlotItem] = {}
        self._fits: dict = {}  # chart key → how its x range fits the values written after the bars
        self.bar_texts: dict[str, list[str]] = {}
        self.titles: dict[str, str] = {}
        self._columns: dict[str, tuple[QLabel, pg.PlotWidget]] = {}
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        for key in ("reference", "here"):
            title = QLabel()
            title.setWordWrap(True)
            title.setAlignment(Qt.AlignmentFlag.AlignHCenter)
            chart = pg.PlotWidget(axisItems={"left": ThinningAxis("left"), "bottom": _CountAxis("bottom")})
            chart.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            chart.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            chart.setMinimumWidth(0)
            chart.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Expanding)
            column = QVBoxLayout()
            column.setContentsMargins(0, 0, 0, 0)
            column.addWidget(title)
            column.addWidget(chart, 1)
            row.addLayout(column, 1)  # the two charts share the width equally, whatever their labels
            self._columns[key] = (title, chart)
        self.source_label = QLabel()
        self.source_label.setWordWrap(True)
        self.source_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addLayout(row, 1)
        lay.addWidget(self.source_label)
        self.setMinimumHeight(200)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        """The least height that shows both titles, a readable chart and the source line at ``width``.

        Not the layout's preferred height (a plot prefers 480 px): the panel's column asks for the least,
        and a slide has no scroll bar to reach what would not fit.
        """
        titles = max(title.heightForWidth(max(1, width // 2)) for title, _chart in self._columns.values())
        source = self.source_label.heightForWidth(width) if self.source_label.text() else 0
        return titles + round(CHART_MIN_HEIGHT * self.theme.font_scale) + source + 2 * self.layout().spacing()

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        for title, chart in self._columns.values():
            chart.setBackground(theme.panel_background)
            # lecture mode (compact): a title on one line where it can, the source the least legible size
            title.setFont(font(theme, bold=True, scale=0.95 if self.compact else 1.05))
        self.source_label.setFont(font(theme, scale=0.85 if self.compact else 0.9))
        self.source_label.setStyleSheet(f"color: {hex_colour(mix(theme.foreground, theme.background, 0.7))};")
        self._rebuild()

    def set_figures(self, table: ReferenceTable | None, results) -> None:
        """Show ``table`` and the layer figures of ``results`` (either may be None)."""
        self.table, self.results = table, results
        self._rebuild()

    def _rebuild(self) -> None:
        self.plots.clear()
        self.bar_texts.clear()
        self.titles.clear()
        t = self.table
        if t is not None:
            rows = [(f"{r.device} ({r.kind})", r.kind, r.value) for r in t.rows]
            self._chart("reference", f"Measured elsewhere: {t.title}", t.quantity, rows)
            self.source_label.setText(t.label() if self.brief else " ".join(t.source_lines()))
        else:
            self._chart("reference", "", "", [])
            self.source_label.setText("")
        here = this_machine_rows(self.results)
        where = self.results.machine.gpu or self.results.machine.cpu if self.results is not None else ""
        title = (f"Measured by gpuviz on {where}: one 10×784 dense-layer step" if here else
                 "This machine: run the batch-size sweep (dense layer) to see its examples per second here")
        self._chart("here", title, "examples per second", here)

    def _chart(self, key: str, title: str, quantity: str, rows) -> None:
        th = self.theme
        label, chart = self._columns[key]
        label.setText(title)
        self.titles[key] = title
        plot = chart.getPlotItem()
        plot.clear()
        chart.setVisible(bool(rows))
        if not rows:
            return
        self.plots[key] = plot
        fg = hex_colour(th.foreground)
        # "/ s": the axis under a chart half the figure wide, beside long device names, is short
        plot.setLabel("bottom", quantity.replace(" per second", " / s"), color=fg)
        for name in ("left", "bottom"):
            axis = plot.getAxis(name)
            axis.setPen(pg.mkPen(th.foreground))
            axis.setTextPen(pg.mkPen(th.foreground))
            axis.setTickFont(font(th, scale=0.9))  # 18 px on a slide, the least a slide's text may be
            axis.label.setFont(font(th, scale=0.9))
        n = len(rows)
        ys = np.arange(n, dtype=float)[::-1]  # the source's first row on top
        values = np.array([v for _label, _kind, v in rows], float)
        brushes = [pg.mkBrush(*OKABE_ITO[KIND_COLOURS[kind]]) for _label, kind, _v in rows]
        plot.addItem(pg.BarGraphItem(x0=np.zeros(n), y=ys, width=values, height=0.6, brushes=brushes,
                                     pens=[pg.mkPen(th.foreground, width=th.pen_width(1))] * n))
        left = plot.getAxis("left")
        left.setTicks([[(float(y), name) for y, (name, _k, _v) in zip(ys, rows)], []])
        left.setStyle(showValues=not self.compact)
        if self.compact:
            left.setWidth(round(8 * th.font_scale))  # the names are in the bars' labels
        else:
            # wide enough for the longest name now (auto-expansion needs another paint, and an export paints once)
            metrics = QFontMetrics(font(th, scale=0.9))
            left.setWidth(max(metrics.horizontalAdvance(name) for name, _k, _v in rows) + 16)
        top = float(values.max())
        texts = []
        value_font = font(th, bold=True, scale=0.95)
        for y, (name, _kind, v) in zip(ys, rows):
            text = f"{name}  {v:,.0f}" if self.compact else f"{v:,.0f}"
            item = pg.TextItem(text, color=th.foreground, anchor=(0, 0.5))
            item.setFont(value_font)
            item.setPos(v + 0.02 * top, float(y))
            plot.addItem(item)
            texts.append(text)
        self.bar_texts[key] = texts
        widths = [QFontMetrics(value_font).horizontalAdvance(text + "  ") for text in texts]
        ends = [float(v) + 0.02 * top for v in values]

        def fit(room: float) -> None:
            # room on the right for the value written after each bar, in the view box's pixels
            room = max(40.0, room - 4)
            end = top * 1.1
            for x, w in zip(ends, widths):
                end = max(end, x / max(0.2, 1 - w / room))
            plot.setXRange(0, end, padding=0)

        fit(chart.width() - left.width() - 20)
        self._fits[key] = fit
        if not getattr(plot.vb, "_gpuviz_fit", False):  # once per view box: it outlives the rebuilds
            plot.vb.sigResized.connect(lambda vb, key=key: self._fits.get(key, lambda _r: None)(vb.width()))
            plot.vb._gpuviz_fit = True
        plot.setYRange(-0.6, n - 0.4, padding=0)
        plot.setMouseEnabled(x=False, y=False)
        plot.setMenuEnabled(False)
        plot.hideButtons()


__all__ = ["KIND_COLOURS", "ReferenceView", "this_machine_rows"]
