"""The speed panel's figures (pyqtgraph): measured times, GFLOP/s, speed-ups and examples per second.

Everything drawn is a :class:`~gpuviz.model.speed.Measurement` of a
:class:`~gpuviz.model.speed.BenchResults`; the plots compute nothing but
positions on the screen. Two layouts:

- **several sizes**: time vs size (log-log), GFLOP/s vs size, speed-up vs the
  Python loop, and for the dense layer examples per second vs batch size;
- **one size** (the lecture demo's 1M dot product): one horizontal bar per
  implementation on a logarithmic time axis, its median written at its end.

Skipped measurements are not drawn (the panel lists them with their reason).
The simulator is drawn on the time plot only: its time is a CPU emulating GPU
threads, not a speed, so it has no GFLOP/s or speed-up here.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QPointF, Qt
from PyQt6.QtGui import QFontMetrics
from PyQt6.QtWidgets import QSizePolicy

from ..style import font, hex_colour, mix
from ..theme import LIGHT, Theme
from .style import SIZE_NAMES, SIZE_SHORT, format_ratio, format_seconds, impl_name, style_of

#: Plots of the "several sizes" layout, in order; ``examples`` only for the dense layer.
PLOT_KEYS = ("time", "gflops", "speedup", "examples")
PLOT_TITLES = {
    "time": "Time per call (median)",
    "gflops": "Throughput",
    "speedup": "Speed-up vs the Python loop",
    "examples": "Training speed vs batch size",
}
#: Implementations left off the throughput plots (their time is not a speed).
NOT_A_SPEED = ("simulator",)
#: How close (pixels) the mouse must come to a point for the hover label to show it.
HOVER_RADIUS_PX = 40


def _log10(v: float) -> float:
    return math.log10(v) if v > 0 else float("nan")


class SpeedPlots(pg.GraphicsLayoutWidget):
    """The figures of one :class:`~gpuviz.model.speed.BenchResults` (or none).

    Attributes
    ----------
    mode : str
        ``"empty"``, ``"bars"`` (one size) or ``"lines"`` (several sizes).
    plots : dict
        Plot key (``time``, ``gflops``, ``speedup``, ``examples``, or ``bars``) → PlotItem shown now.
    curves : dict
        ``(plot key, impl)`` → PlotDataItem, for the lines layout.
    points : dict
        Plot key → list of ``(impl, measurement, x, y)`` drawn (linear values): what hover searches.
    hover_label : pg.TextItem or None
        The label the last hover showed.
    """

    def __init__(self, parent=None, theme: Theme = LIGHT):
        super().__init__(parent)
        self.theme = theme
        self.results = None
        self.op = "dot"
        self.mode = "empty"
        self.plots: dict[str, pg.PlotItem] = {}
        self.curves: dict[tuple[str, str], pg.PlotDataItem] = {}
        self.points: dict[str, list] = {}
        self.legend: pg.LegendItem | None = None
        self.bar_item: pg.BarGraphItem | None = None
        self.bar_labels: list[pg.TextItem] = []
        self.hover_label: pg.TextItem | None = None
        self._hover_key: str | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(300)
        self.scene().sigMouseMoved.connect(self._mouse_moved)
        self.set_theme(theme)

    # -- public -----------------------------------------------------------------------------------

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.setBackground(theme.panel_background)
        self._rebuild()

    def set_results(self, results, op: str) -> None:
        """Draw ``results``' measurements of ``op`` (None: nothing, the panel says "not measured yet")."""
        self.results = results
        self.op = op
        self._rebuild()

    def measured(self) -> list:
        """The measurements of the shown op that have a time (skipped ones have none), by implementation."""
        if self.results is None:
            return []
        return [m for m in self.results.measurements
                if m.op == self.op and m.skipped is None and m.median_s is not None]

    def hover(self, scene_pos: QPointF) -> str | None:
        """Show the exact figures of the point nearest ``scene_pos`` (within reach); returns its text or None."""
        best = None
        for key, plot in self.plots.items():
            if not plot.sceneBoundingRect().contains(scene_pos):
                continue
            for item in self.points.get(key, ()):
                p = self._scene_point(key, item)
                if p is None:
                    continue
                d = math.hypot(p.x() - scene_pos.x(), p.y() - scene_pos.y())
                if d <= HOVER_RADIUS_PX and (best is None or d < best[0]):
                    best = (d, key, item)
        if best is None:
            self._clear_hover()
            return None
        _d, key, item = best
        text = self.point_text(key, item)
        self._show_hover(key, item, text)
        return text

    def point_text(self, key: str, item) -> str:
        """The exact figures of one drawn point, as the hover label shows them."""
        impl, m, _x, y = item
        size = f"{SIZE_SHORT.get(m.op, 'N')} = {m.size:,}"
        spread = (f"min {format_seconds(m.min_s)} · max {format_seconds(m.max_s)} · {m.repeats} runs"
                  if m.min_s is not None else f"{m.repeats} runs")
        lines = [f"{impl_name(impl)}, {size}", f"median {format_seconds(m.median_s)}", spread]
        g = m.gflops()
        if g is not None and impl not in NOT_A_SPEED:
            lines.append(f"{g:.4g} GFLOP/s")
        if key == "speedup":
            lines.append(f"{format_ratio(y)} the Python loop's speed")
        if key == "examples":
            lines.append(f"{y:,.0f} examples/s")
        if m.compile_s:  # 0 where an earlier size already compiled it
            lines.append(f"JIT compile {format_seconds(m.compile_s)} (not in the times)")
        return "\n".join(lines)

    # -- building ---------------------------------------------------------------------------------

    def _clear(self) -> None:
        self._clear_hover()
        self.clear()  # GraphicsLayoutWidget: removes every plot and the legend
        self.plots.clear()
        self.curves.clear()
        self.points.clear()
        self.legend = None
        self.bar_item = None
        self.bar_labels = []

    def _rebuild(self) -> None:
        self._clear()
        measured = self.measured()
        if not measured:
            self.mode = "empty"
            return
        sizes = sorted({m.size for m in measured})
        if len(sizes) == 1:
            self.mode = "bars"
            self._build_bars(measured)
        else:
            self.mode = "lines"
            self._build_lines(measured)
        # lay the new axes out now: an export renders once, before the event loop would do it
        self.ci.layout.activate()
        for plot in self.plots.values():
            plot.layout.activate()

    def _scale(self) -> float:
        return self.theme.font_scale

    def _style_plot(self, plot: pg.PlotItem, title: str, left: str, bottom: str) -> None:
        t = self.theme
        fg = hex_colour(t.foreground)
        scale = self._scale()
        plot.setTitle(title, color=fg, size=f"{round(12 * scale)}pt", bold=True)
        plot.showGrid(x=True, y=True, alpha=0.25)
        for name, text in (("left", left), ("bottom", bottom)):
            ax = plot.getAxis(name)
            ax.setPen(pg.mkPen(t.foreground, width=t.pen_width(1)))
            ax.setTextPen(pg.mkPen(t.foreground))
            ax.setTickFont(font(t, scale=0.9))
            ax.label.setFont(font(t, scale=1.0))
            plot.setLabel(name, text, color=fg)
        plot.setMenuEnabled(False)
        plot.hideButtons()

    def _pens(self, impl: str, width: float = 2.0):
        st = style_of(impl)
        rgb = st.rgb(self.theme)
        pen = pg.mkPen(rgb, width=self.theme.pen_width(width), style=st.dash)
        outline = mix(rgb, self.theme.foreground, 0.5) if st.colour == "yellow" else rgb
        return pen, pg.mkBrush(*rgb), pg.mkPen(outline, width=self.theme.pen_width(1)), st.symbol

    def _series(self, measured) -> dict[str, list]:
        by_impl: dict[str, list] = {}
        for m in sorted(measured, key=lambda m: m.size):
            by_impl.setdefault(m.impl, []).append(m)
        return by_impl

    def _build_lines(self, measured) -> None:
        r = self.results
        op = self.op
        by_impl = self._series(measured)
        sizes = sorted({m.size for m in measured})
        speedups = r.speedups("python")
        examples = _examples_per_second(r, op) if op == "layer" else {}
        size_label = SIZE_NAMES.get(op, "size")
        keys = ["time", "gflops", "speedup"] + (["examples"] if op == "layer" else [])
        # fewer legend columns with larger text, so the legend never widens the figure past the window
        per_row = 5 if self.theme.font_scale < 1.2 else 3
        self.legend = pg.LegendItem(colCount=min(len(by_impl), per_row), frame=True)
        ncols = 2 if len(keys) == 4 else len(keys)
        self.addItem(self.legend, row=0, col=0, colspan=ncols)
        for col in range(ncols):
            self.ci.layout.setColumnStretchFactor(col, 1)
        for i, key in enumerate(keys):
            row, col = (1 + i // 2, i % 2) if len(keys) == 4 else (1, i)
            plot = self.addPlot(row=row, col=col)
            self.plots[key] = plot
            left = {"time": "median time", "gflops": "GFLOP/s", "speedup": "speed-up (×)",
                    "examples": "examples / s"}[key]
            self._style_plot(plot, PLOT_TITLES[key], left, size_label)
            plot.setLogMode(x=True, y=True)
            # room around the first and last sizes, so their tick labels are not cut at the edges
            plot.getViewBox().setDefaultPadding(0.06)
            # the measured sizes label the size axis: "64, 128, 256" reads better than 10^k minor ticks
            plot.getAxis("bottom").setTicks([[(math.log10(n), _size_text(n)) for n in sizes], []])
            self.points[key] = []
            for impl, ms in by_impl.items():
                if key != "time" and impl in NOT_A_SPEED:
                    continue
                xs, ys, kept = [], [], []
                for m in ms:
                    if key == "time":
                        y = m.median_s
                    elif key == "gflops":
                        y = m.gflops()
                    elif key == "speedup":
                        y = speedups.get((op, impl, m.size))
                    else:
                        y = examples.get((impl, m.size))
                    if y is None or not y > 0:
                        continue
                    xs.append(m.size)
                    ys.append(y)
                    kept.append(m)
                if not xs:
                    continue
                pen, brush, spen, symbol = self._pens(impl)
                size = round(9 * self.theme.line_scale)
                curve = plot.plot(np.array(xs, float), np.array(ys, float), pen=pen, symbol=symbol,
                                  symbolBrush=brush, symbolPen=spen, symbolSize=size)
                self.curves[(key, impl)] = curve
                self.points[key] += [(impl, m, x, y) for m, x, y in zip(kept, xs, ys)]
                if key == "time":
                    self.legend.addItem(curve, impl_name(impl))
            if key == "time" and self.points[key]:
                ys = [p[3] for p in self.points[key]]
                plot.getAxis("left").setTicks([_decade_ticks(math.log10(min(ys)) - 0.1, math.log10(max(ys)) + 0.1),
                                               []])
            if key == "speedup" and self.points[key]:
                ref = pg.InfiniteLine(pos=0.0, angle=0, pen=pg.mkPen(mix(self.theme.foreground,
                                                                            self.theme.panel_background, 0.5),
                                                                        width=self.theme.pen_width(1),
                                                                        style=Qt.PenStyle.DashLine))
                plot.addItem(ref)  # log10(1) = 0: "as fast as the Python loop"
        self._style_legend()

    def _style_legend(self) -> None:
        if self.legend is None:
            return
        t = self.theme
        size = f"{round(11 * self._scale())}pt"
        self.legend.setLabelTextColor(t.foreground)
        self.legend.setLabelTextSize(size)
        self.legend.setBrush(pg.mkBrush(*t.panel_background, 230))
        self.legend.setPen(pg.mkPen(mix(t.foreground, t.background, 0.4)))
        for _sample, label in self.legend.items:
            label.setText(label.text, color=hex_colour(t.foreground), size=size)

    def _build_bars(self, measured) -> None:
        t = self.theme
        op = self.op
        by_impl = self._series(measured)
        size = measured[0].size
        speedups = self.results.speedups("python")
        impls = list(by_impl)
        plot = self.addPlot(row=0, col=0)
        self.plots["bars"] = plot
        self._style_plot(plot, f"{PLOT_TITLES['time']}, {SIZE_SHORT.get(op, 'N')} = {size:,} "
                               "(shorter is faster; logarithmic axis)",
                         "", "median time")
        plot.showGrid(x=True, y=False, alpha=0.25)
        medians = [by_impl[i][0].median_s for i in impls]
        lo = math.floor(math.log10(min(medians))) - 0.3
        hi = math.log10(max(medians))
        n = len(impls)
        ys = np.arange(n, dtype=float)[::-1]  # the first implementation on top
        widths = np.array([math.log10(v) - lo for v in medians])
        brushes = [pg.mkBrush(*style_of(i).rgb(t)) for i in impls]
        pens = [pg.mkPen(t.foreground, width=t.pen_width(1)) for _ in impls]
        self.bar_item = pg.BarGraphItem(x0=np.full(n, lo), y=ys, width=widths, height=0.6, brushes=brushes,
                                        pens=pens)
        plot.addItem(self.bar_item)
        # the bars are drawn in log10 units; the axis names each decade as a time people read (1 ms, 10 ms)
        plot.getAxis("bottom").setTicks([_decade_ticks(lo, hi + 0.25 * (hi - lo) + 1.6), []])
        ticks = [(float(y), impl_name(i)) for y, i in zip(ys, impls)]
        left = plot.getAxis("left")
        left.setTicks([ticks, []])
        # wide enough for the longest name at once (auto-expansion would need another paint, and an
        # export paints once)
        metrics = QFontMetrics(font(t, scale=0.9))
        left.setWidth(max(metrics.horizontalAdvance(text) for _y, text in ticks) + 24)
        self.points["bars"] = []
        label_font = font(t, bold=True, scale=1.1)
        for y, impl, v in zip(ys, impls, medians):
            ratio = speedups.get((op, impl, size))
            text = format_seconds(v)
            if ratio is not None and impl not in NOT_A_SPEED and impl != "python":
                text += f"  ({format_ratio(ratio)} faster than the loop)"
            label = pg.TextItem(text, color=t.foreground, anchor=(0, 0.5))
            label.setFont(label_font)
            label.setPos(math.log10(v) + 0.05, float(y))
            plot.addItem(label)
            self.bar_labels.append(label)
            self.points["bars"].append((impl, by_impl[impl][0], math.log10(v), float(y)))
        # room on the right for the longest label
        plot.setXRange(lo, hi + 0.25 * (hi - lo) + 1.6, padding=0)
        plot.setYRange(-0.6, n - 0.4, padding=0)
        plot.setMouseEnabled(x=False, y=False)

    # -- hover ------------------------------------------------------------------------------------

    def _scene_point(self, key: str, item) -> QPointF | None:
        plot = self.plots[key]
        _impl, _m, x, y = item
        if key == "bars":
            vx, vy = x, y
        else:
            vx, vy = _log10(x), _log10(y)
        if not (math.isfinite(vx) and math.isfinite(vy)):
            return None
        return plot.vb.mapViewToScene(QPointF(vx, vy))

    def _mouse_moved(self, pos) -> None:
        self.hover(QPointF(pos))

    def _show_hover(self, key: str, item, text: str) -> None:
        t = self.theme
        plot = self.plots[key]
        if self.hover_label is None or self._hover_key != key:
            self._clear_hover()
            self.hover_label = pg.TextItem(color=t.foreground, border=pg.mkPen(t.foreground),
                                           fill=pg.mkBrush(*t.panel_background, 235), anchor=(0, 1))
            self.hover_label.setZValue(100)
            plot.addItem(self.hover_label, ignoreBounds=True)
            self._hover_key = key
        self.hover_label.setFont(font(t, scale=0.95))
        # rich text with explicit line breaks: plain text with newlines lost its first lines in the box
        lines = (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")).split("\n")
        self.hover_label.setHtml(f'<div style="color:{hex_colour(t.foreground)}">' + "<br>".join(lines) + "</div>")
        _impl, _m, x, y = item
        vx, vy = (x, y) if key == "bars" else (_log10(x), _log10(y))
        # keep the label inside the plot: open it towards the side with more room (in pixels)
        (_x0, _x1), (y0, y1) = plot.vb.viewRange()
        rect = plot.vb.sceneBoundingRect()
        at = plot.vb.mapViewToScene(QPointF(vx, vy))
        width = self.hover_label.textItem.boundingRect().width()
        ay = 1 if vy < (y0 + y1) / 2 else 0
        # beside the point where it fits, else slid along so that all of it is inside the plot
        if at.x() + 12 + width <= rect.right():
            left = at.x() + 12
        elif at.x() - 12 - width >= rect.left():
            left = at.x() - 12 - width
        else:
            left = max(rect.left(), min(at.x() - width / 2, rect.right() - width))
        self.hover_label.setAnchor((0, ay))
        self.hover_label.setPos(plot.vb.mapSceneToView(QPointF(left, at.y())).x(), vy)

    def _clear_hover(self) -> None:
        if self.hover_label is not None:
            scene = self.hover_label.scene()
            if scene is not None:
                scene.removeItem(self.hover_label)
        self.hover_label = None
        self._hover_key = None


def _decade_ticks(lo: float, hi: float) -> list[tuple[float, str]]:
    """Ticks at each power of ten from 10^lo to 10^hi (log10 units), labelled as times: 1 µs, 10 µs, … 1 s."""
    return [(float(k), format_seconds(10.0 ** k)) for k in range(math.floor(lo), math.ceil(hi) + 1)]


def _size_text(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 10_000 and n % 1_000 == 0:
        return f"{n // 1_000}k"
    return f"{n:,}"


def _examples_per_second(results, op: str) -> dict[tuple[str, int], float]:
    """``(impl, batch) → examples/s`` from the model (the layer op only)."""
    return results.examples_per_second() if op == "layer" else {}


__all__ = ["NOT_A_SPEED", "PLOT_KEYS", "PLOT_TITLES", "SpeedPlots"]
