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
from PyQt6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from ...model.reference_table import ReferenceTable
from ...model.speed import GPU_IMPLS
from ..style import font, hex_colour, mix
from ..theme import LIGHT, OKABE_ITO, Theme
from .plots import ThinningAxis
from .style import impl_name

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


class ReferenceView(QWidget):
    """The CPU-vs-GPU view: ``table`` (measured elsewhere) beside ``results``' layer figures (measured by gpuviz).

    Attributes
    ----------
    table : ReferenceTable or None
    plots : dict
        ``"reference"`` and ``"here"`` → the PlotItem of each chart.
    bar_texts : dict
        The same keys → the labels written on the bars, in order (what a slide shows).
    """

    def __init__(self, parent=None, theme: Theme = LIGHT):
        super().__init__(parent)
        self.theme = theme
        self.table: ReferenceTable | None = None
        self.results = None
        self.plots: dict[str, pg.PlotItem] = {}
        self.bar_texts: dict[str, list[str]] = {}
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.graphics.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.graphics.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.source_label = QLabel()
        self.source_label.setWordWrap(True)
        self.source_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.graphics, 1)
        lay.addWidget(self.source_label)
        self.setMinimumHeight(200)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.graphics.setBackground(theme.panel_background)
        self.source_label.setFont(font(theme, scale=0.9))
        self.source_label.setStyleSheet(f"color: {hex_colour(mix(theme.foreground, theme.background, 0.7))};")
        self._rebuild()

    def set_figures(self, table: ReferenceTable | None, results) -> None:
        """Show ``table`` and the layer figures of ``results`` (either may be None)."""
        self.table, self.results = table, results
        self._rebuild()

    def _rebuild(self) -> None:
        self.graphics.clear()
        self.plots.clear()
        self.bar_texts.clear()
        t = self.table
        if t is not None:
            rows = [(f"{r.device} ({r.kind})", r.kind, r.value) for r in t.rows]
            self._chart("reference", 0, f"Measured elsewhere: {t.title}", t.quantity, rows)
            self.source_label.setText(" ".join(t.source_lines()))
        else:
            self.source_label.setText("")
        here = this_machine_rows(self.results)
        if here:
            machine = self.results.machine
            where = machine.gpu or machine.cpu
            self._chart("here", 1, f"Measured by gpuviz on {where}: one 10×784 dense-layer step",
                        "examples per second", here)
        elif self.results is not None or t is not None:
            note = pg.LabelItem("This machine: run the batch-size sweep (dense layer) to see its examples per "
                                "second here", color=self.theme.foreground)
            self.graphics.addItem(note, row=0, col=1)

    def _chart(self, key: str, col: int, title: str, quantity: str, rows) -> None:
        th = self.theme
        axes = {"left": ThinningAxis("left"), "bottom": ThinningAxis("bottom")}
        plot = self.graphics.addPlot(row=0, col=col, axisItems=axes)
        self.plots[key] = plot
        fg = hex_colour(th.foreground)
        plot.setTitle(title, color=fg, size=f"{round(11 * th.font_scale)}pt", bold=True)
        plot.setLabel("bottom", quantity, color=fg)
        for name in ("left", "bottom"):
            axis = plot.getAxis(name)
            axis.setPen(pg.mkPen(th.foreground))
            axis.setTextPen(pg.mkPen(th.foreground))
            axis.setTickFont(font(th, scale=0.85))
        n = len(rows)
        ys = np.arange(n, dtype=float)[::-1]  # the source's first row on top
        values = np.array([v for _label, _kind, v in rows], float)
        brushes = [pg.mkBrush(*OKABE_ITO[KIND_COLOURS[kind]]) for _label, kind, _v in rows]
        plot.addItem(pg.BarGraphItem(x0=np.zeros(n), y=ys, width=values, height=0.6, brushes=brushes,
                                     pens=[pg.mkPen(th.foreground, width=th.pen_width(1))] * n))
        plot.getAxis("left").setTicks([[(float(y), label) for y, (label, _k, _v) in zip(ys, rows)], []])
        top = float(values.max()) if n else 1.0
        texts = []
        for y, (_label, _kind, v) in zip(ys, rows):
            text = f"{v:,.0f}"
            item = pg.TextItem(text, color=th.foreground, anchor=(0, 0.5))
            item.setFont(font(th, bold=True, scale=0.95))
            item.setPos(v + 0.02 * top, float(y))
            plot.addItem(item)
            texts.append(text)
        self.bar_texts[key] = texts
        # room on the right for the value written after the longest bar
        plot.setXRange(0, top * 1.3, padding=0)
        plot.setYRange(-0.6, n - 0.4, padding=0)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()


__all__ = ["KIND_COLOURS", "ReferenceView", "this_machine_rows"]
