"""The speed panel's figures (pyqtgraph): measured times, GFLOP/s, speed-ups and examples per second.

Everything drawn is a :class:`~gpuviz.model.speed.Measurement` of a
:class:`~gpuviz.model.speed.BenchResults`; the plots compute nothing but
positions on the screen. Two layouts:

- **several sizes**: time vs size (log-log), GFLOP/s vs size, speed-up vs the
  Python loop, and for the dense layer examples per second vs batch size. They
  stand in one row where each gets room for its text; where the panel is narrow
  for its font (lecture fonts), the time plot is drawn large with the others
  stacked beside it (the layer's four: two rows of two), else one column;
- **one size** (the lecture demo's 1M dot product): one horizontal bar per
  implementation on a logarithmic time axis, its median written at its end.

Skipped measurements are not drawn (the panel lists them with their reason).
The simulator is drawn on the time plot only: its time is a CPU emulating GPU
threads, not a speed, so it has no GFLOP/s or speed-up here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QPointF, Qt
from PyQt6.QtGui import QFontMetrics
from PyQt6.QtWidgets import QGraphicsItem, QSizePolicy

from ...model.speed_panel import NOT_A_SPEED  # implementations whose time is not a speed
from ..style import font, hex_colour, mix
from ..theme import LIGHT, Theme
from .style import SIZE_NAMES, SIZE_SHORT, format_ratio, format_seconds, impl_name, readable, style_of

#: Plots of the "several sizes" layout, in order; ``examples`` only for the dense layer.
PLOT_KEYS = ("time", "gflops", "speedup", "examples")
PLOT_TITLES = {
    "time": "Time per call (median)",
    "gflops": "Throughput",
    "speedup": "Speed-up vs the Python loop",
    "examples": "Training speed vs batch size",
}
#: The value axis's label of each plot of the "several sizes" layout.
AXIS_LABELS = {"time": "median time", "gflops": "GFLOP/s", "speedup": "speed-up (×)", "examples": "examples / s"}
#: How close (pixels) the mouse must come to a point for the hover label to show it.
HOVER_RADIUS_PX = 40
#: Least width of one plot, in pixels at font scale 1: below it the plots are arranged in fewer columns.
PLOT_MIN_WIDTH = 280
#: Least height of one row of plots at font scale 1: title, ticks and axis label keep room for the data.
PLOT_MIN_HEIGHT = 175
#: Gap kept between two tick labels (pixels); a label that would come closer to the last one kept is not drawn.
TICK_LABEL_GAP_PX = 6
#: The ring around a point (and the mark on a bar) whose measurement is flagged noisy: a warning red that
#: reads on the light and the dark theme and differs from every implementation's colour.
NOISY_COLOUR = (220, 50, 47)


@dataclass
class _LinesSpec:
    """What the lines layout draws for some measurements at some width: the data and the shape around it."""

    keys: list[str]
    arrangement: str
    legend_columns: int
    titles: dict[str, str]
    #: plot key → ``[(impl, xs, ys, measurements)]``, one entry per curve, in drawing (and legend) order
    series: dict[str, list] = field(default_factory=dict)
    size_ticks: list = field(default_factory=list)
    time_ticks: list | None = None

    @property
    def shape(self) -> tuple:
        """Everything but the data: two specs of one shape differ only in their curves' points and ticks."""
        return (tuple(self.keys), self.arrangement, self.legend_columns, tuple(self.titles[k] for k in self.keys),
                tuple((k, tuple(s[0] for s in self.series[k])) for k in self.keys))


def _log10(v: float) -> float:
    return math.log10(v) if v > 0 else float("nan")


class ThinningAxis(pg.AxisItem):
    """An axis that leaves out the tick labels that would overlap the previous one drawn.

    The ticks name the measured sizes, which can be many for the width a narrow
    plot has ("128256512"); the tick marks all stay, and every label drawn is
    readable. Which labels fit is decided at paint time, so it follows the width.
    No automatic SI factor: the ticks already carry their units (1 ms, 100 µs), and a
    "(x0.001)" beside them would scale them a second time.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.enableAutoSIPrefix(False)

    def generateDrawSpecs(self, p):
        specs = super().generateDrawSpecs(p)
        if specs is None:
            return None
        axis_spec, tick_specs, text_specs = specs
        return axis_spec, tick_specs, thin_labels(text_specs, self.orientation in ("top", "bottom"))


def thin_labels(text_specs, horizontal: bool, gap: float = TICK_LABEL_GAP_PX) -> list:
    """The ``(rect, flags, text)`` label specs that keep ``gap`` pixels between neighbours, first come first kept."""
    def lo(rect):
        return rect.left() if horizontal else rect.top()

    def hi(rect):
        return rect.right() if horizontal else rect.bottom()

    kept = []
    end = -math.inf
    for spec in sorted(text_specs, key=lambda s: lo(s[0])):
        if lo(spec[0]) >= end + gap:
            kept.append(spec)
            end = hi(spec[0])
    return kept


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
    arrangement : str
        How the lines layout places its plots for the width it has: ``"row"`` (all side by side),
        ``"big"`` (the time plot large, the other two stacked beside it), ``"grid"`` (two by two) or
        ``"column"`` (one above the other); "" in the other modes.
    legend_columns : int
        Entries per legend row: as many as fit the width (0 without a legend).
    noisy_points : dict
        Plot key → how many of its points (or bars) are marked noisy (a red ring; on a bar, a red label).
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
        self.noisy_points: dict[str, int] = {}
        self._noisy_marks: dict[str, pg.PlotDataItem] = {}
        self.hover_label: pg.TextItem | None = None
        self._hover_key: str | None = None
        self.arrangement = ""
        self.legend_columns = 0
        #: Lecture mode's figure-first look: no plot titles (the panel's headline says what is shown), and the
        #: bars name their implementation in their own label rather than on an axis beside them
        self.compact = False
        self._bar_rows: list = []
        self._least_height = 300
        self._spec: _LinesSpec | None = None  # what the lines layout draws now
        self._drawn: tuple | None = None  # (op, measurements) the bars or the empty figure were built for
        # The lines layout's plots and curves, kept for the next build in this theme: making a PlotItem and
        # its axes costs ~7 ms, a curve ~2 ms, and a sweep's figures are rebuilt when its second size arrives
        self._plot_pool: dict[str, pg.PlotItem] = {}
        self._curve_pool: dict[tuple[str, str], pg.PlotDataItem] = {}
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        # the height the figures need depends on the width (how they are arranged): see heightForWidth
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        # the scene never needs a scroll bar: the plots are arranged for the width (see _fit)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumHeight(100)
        self.scene().sigMouseMoved.connect(self._mouse_moved)
        self.set_theme(theme)

    # -- public -----------------------------------------------------------------------------------

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.setBackground(theme.panel_background)
        self._plot_pool.clear()  # fonts, pens and sizes are the theme's: made afresh
        self._curve_pool.clear()
        self._rebuild()

    def set_compact(self, on: bool) -> None:
        """Lecture mode's look (:attr:`compact`) on or off; the figures are built again."""
        on = bool(on)
        if on != self.compact:
            self.compact = on
            self._plot_pool.clear()
            self._curve_pool.clear()
            self._spec = None
            self._drawn = None
            self._rebuild()

    def warm_up(self, op: str, impls, keys=None) -> None:
        """Make (and style) the lines layout's plots and curves for ``op`` and ``impls`` now, so that building
        it later is quick (``keys``: only these plots).

        The speed panel calls it as a run of several sizes starts: the figures are then built when the
        second size arrives, while the benchmark loads the CPU. Nothing shown changes.
        """
        every = self._plot_keys(op)
        arrangement, _columns = self._fit(self.width(), every, [impl_name(i) for i in impls])
        titles = self._titles(every, arrangement, self.width())
        shown = list(self.plots.values())
        for key in every if keys is None else [k for k in every if k in keys]:
            plot = self._plot_pool.get(key)
            if plot is None:
                plot = self._new_plot(key)
            if plot not in shown:
                self._restyle(plot, (titles[key], AXIS_LABELS[key], SIZE_NAMES.get(op, "size")))
            for impl in impls:
                if key == "time" or impl not in NOT_A_SPEED:
                    self._pooled_curve(key, impl)

    def set_results(self, results, op: str) -> None:
        """Draw ``results``' measurements of ``op`` (None: nothing, the panel says "not measured yet").

        Where the figures keep their shape (the same plots, curves, legend and arrangement, as for a
        sweep's later sizes), the curves and ticks built before take the new data instead of being built
        again: a rebuild costs the GUI thread tens of milliseconds, new data a few. Both draw the same picture.
        """
        self.results = results
        self.op = op
        if not self._update():
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
        if m.noisy:
            lines.append(f"NOISY: {m.noisy}")
        return "\n".join(lines)

    # -- building ---------------------------------------------------------------------------------

    def _clear(self) -> None:
        self._clear_hover()
        if self.legend is not None:
            self.legend.clear()  # its samples would keep the pooled curves' signals connected
        self.clear()  # GraphicsLayoutWidget: removes every plot and the legend (pooled ones are kept)
        self.plots.clear()
        self.curves.clear()
        self.points.clear()
        self.legend = None
        self.bar_item = None
        self.bar_labels = []
        self.noisy_points = {}
        self._noisy_marks = {}
        self.arrangement = ""
        self.legend_columns = 0
        self._spec = None
        self._drawn = None

    def resizeEvent(self, event) -> None:
        # a new width may need another arrangement, legend columns or titles on two lines (a title one line
        # wide would widen its plot past the panel): rebuilt before the view takes the size
        # (pyqtgraph calls it with None while it is being built)
        if event is not None and getattr(self, "mode", "") == "lines" and self._spec is not None \
                and self._lines_spec(self.measured(), event.size().width()).shape != self._spec.shape:
            self._rebuild(event.size().width())
        super().resizeEvent(event)

    def _update(self) -> bool:
        """Show the new data in the figures built now where their shape allows; False: they need a rebuild."""
        measured = self.measured()
        if self.mode == "lines":
            if len({m.size for m in measured}) < 2 or self._spec is None:
                return False
            spec = self._lines_spec(measured, self.width())
            if spec.shape != self._spec.shape:
                return False
            self._apply_lines(spec)
            return True
        # the bars (one size) are few and cheap to build: only the very same figures are kept as they are
        return self._drawn is not None and self._drawn == (self.op, tuple(measured))

    def _rebuild(self, width: int | None = None) -> None:
        self._clear()
        self.ci.layout.setContentsMargins(*((1, 1, 1, 1) if self.compact else (9, 9, 9, 9)))  # 9: pyqtgraph's
        measured = self.measured()
        if not measured:
            self.mode = "empty"
            self._drawn = (self.op, ())
            self._least_height = round(PLOT_MIN_HEIGHT * self._scale())
            self.updateGeometry()
            return
        sizes = sorted({m.size for m in measured})
        if len(sizes) == 1:
            self.mode = "bars"
            self._build_bars(measured)
            self._drawn = (self.op, tuple(measured))
        else:
            self.mode = "lines"
            self._build_lines(self._lines_spec(measured, self.width() if width is None else width))
        self.updateGeometry()  # layouts cache heightForWidth: the new figures may need another height
        # lay the new axes out now: an export renders once, before the event loop would do it. Invalidated
        # first: plots kept from an earlier build bring their old size hints, which the layout would keep using
        self.ci.layout.invalidate()
        self.ci.layout.activate()
        for plot in self.plots.values():
            plot.layout.activate()

    def _scale(self) -> float:
        return self.theme.font_scale

    def _add_plot(self, row: int, col: int, rowspan: int = 1, colspan: int = 1) -> pg.PlotItem:
        axes = {"left": ThinningAxis("left"), "bottom": ThinningAxis("bottom")}
        for axis in axes.values():
            # an axis replays its ticks' text on every paint of the view (~2 ms each, six per paint); cached as
            # a pixmap it is drawn again only when it changes, so new data redraw the figures in a third of the time
            axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        return self.addPlot(row=row, col=col, rowspan=rowspan, colspan=colspan, axisItems=axes)

    def _plot_keys(self, op: str | None = None) -> list[str]:
        return ["time", "gflops", "speedup"] + (["examples"] if (op or self.op) == "layer" else [])

    def _legend_names(self) -> list[str]:
        """The legend's entries, in order: the implementations drawn on the time plot."""
        return [impl_name(i) for i in self._series(self.measured())]

    def _fit(self, width: int, keys=None, names=None) -> tuple[str, int]:
        """The arrangement and legend columns for ``width`` pixels (the lines layout; default: what it shows)."""
        n = len(self._plot_keys() if keys is None else keys)
        least = PLOT_MIN_WIDTH * self._scale()
        names = self._legend_names() if names is None else names
        if self.compact:
            # lecture mode: the time plot full height on the left, the legend over the others on the right,
            # so that no legend row takes the figure's height
            return "side", self._legend_fit(names, round(width * 2 / 5))
        if width >= n * least:
            arrangement = "row"
        elif width >= 2 * least:
            arrangement = "big" if n == 3 else "grid"
        else:
            arrangement = "column"
        return arrangement, self._legend_fit(self._legend_names() if names is None else names, width)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self.minimum_height_for(width)

    def minimum_height_for(self, width: int) -> int:
        """The least height that shows the figures at ``width`` pixels: every row of plots with its title,
        ticks and axis label clear of the text below, and the legend's rows."""
        if self.mode != "lines":
            return self._least_height
        arrangement, columns = self._fit(width)
        n = len(self._plot_keys())
        rows = {"row": 1, "big": n - 1, "grid": math.ceil(n / 2), "side": n - 1}.get(arrangement, n)
        legend_rows = math.ceil(len(self._legend_names()) / max(1, columns))
        legend_h = legend_rows * QFontMetrics(self._legend_font()).height() * 1.25 + 16
        return round(rows * PLOT_MIN_HEIGHT * self._scale() + legend_h)

    def _legend_fit(self, names: list[str], width: int) -> int:
        """How many legend entries fit side by side in ``width`` pixels (columns as wide as their widest)."""
        if not names:
            return 0
        metrics = QFontMetrics(self._legend_font())
        # an entry: its sample (20 px), the label's own margins, and the legend's spacing between columns
        entry = [20 + metrics.horizontalAdvance(name) + 14 for name in names]
        room = width - 30  # the legend's frame and the layout's margins
        for cols in range(len(names), 1, -1):
            widths = [max(entry[i::cols]) for i in range(cols)]
            if sum(widths) + 25 * (cols - 1) <= room:
                return cols
        return 1

    def _legend_font(self):
        return font(self.theme, scale=1.1)

    def _title_font(self):
        return font(self.theme, bold=True, scale=1.2)

    def _title_for(self, title: str, width: float) -> str:
        """``title``, on two lines where one is wider than ``width`` pixels (a title never widens its plot)."""
        metrics = QFontMetrics(self._title_font())
        if metrics.horizontalAdvance(title) <= width or " " not in title:
            return title
        words = title.split(" ")
        # the break that leaves the longer line shortest
        cut = min(range(1, len(words)), key=lambda i: max(metrics.horizontalAdvance(" ".join(words[:i])),
                                                          metrics.horizontalAdvance(" ".join(words[i:]))))
        return " ".join(words[:cut]) + "<br>" + " ".join(words[cut:])

    def _style_plot(self, plot: pg.PlotItem, title: str, left: str, bottom: str) -> None:
        t = self.theme
        fg = hex_colour(t.foreground)
        scale = self._scale()
        plot.setTitle(None if self.compact else title, color=fg, size=f"{round(12 * scale)}pt", bold=True)
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

    def _places(self, keys: list[str], arrangement: str | None = None) -> dict[str, tuple[int, int, int]]:
        """Plot key → (row, column, rowspan) in ``arrangement`` (default :attr:`arrangement`; row 0: the legend)."""
        n = len(keys)
        arrangement = self.arrangement if arrangement is None else arrangement
        if arrangement == "row":
            return {k: (1, i, 1) for i, k in enumerate(keys)}
        if arrangement == "big":
            return {keys[0]: (1, 0, n - 1), **{k: (1 + i, 1, 1) for i, k in enumerate(keys[1:])}}
        if arrangement == "side":  # the legend stands at row 0 of the second column, beside the time plot
            return {keys[0]: (0, 0, n), **{k: (1 + i, 1, 1) for i, k in enumerate(keys[1:])}}
        if arrangement == "grid":
            return {k: (1 + i // 2, i % 2, 1) for i, k in enumerate(keys)}
        return {k: (1 + i, 0, 1) for i, k in enumerate(keys)}

    def _lines_spec(self, measured, width: int) -> _LinesSpec:
        """The curves, ticks, titles and arrangement of the lines layout for ``measured`` at ``width`` pixels."""
        r = self.results
        op = self.op
        by_impl = self._series(measured)
        sizes = sorted({m.size for m in measured})
        speedups = r.speedups("python")
        examples = _examples_per_second(r, op) if op == "layer" else {}
        keys = self._plot_keys()
        arrangement, legend_columns = self._fit(width)
        spec = _LinesSpec(keys, arrangement, legend_columns, self._titles(keys, arrangement, width),
                          size_ticks=[(math.log10(n), _size_text(n)) for n in sizes])
        for key in keys:
            spec.series[key] = []
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
                if xs:
                    spec.series[key].append((impl, xs, ys, kept))
        times = [y for _impl, _xs, ys, _kept in spec.series["time"] for y in ys]
        if times:
            spec.time_ticks = _decade_ticks(math.log10(min(times)) - 0.1, math.log10(max(times)) + 0.1)
        return spec

    def _titles(self, keys: list[str], arrangement: str, width: int) -> dict[str, str]:
        """Plot key → its title, on two lines where one would be wider than the plot gets at ``width`` pixels."""
        places = self._places(keys, arrangement)
        ncols = max(col for _row, col, _span in places.values()) + 1
        # the large time plot takes three fifths of the width beside the stacked pair
        stretch = [3 if arrangement in ("big", "side") and col == 0 else 2 for col in range(ncols)]
        # a title spans the data area only: the plot's width less its left axis and margins
        return {key: self._title_for(PLOT_TITLES[key], width * stretch[places[key][1]] / sum(stretch)
                                     - 80 * self._scale()) for key in keys}

    def _restyle(self, plot: pg.PlotItem, style: tuple[str, str, str]) -> None:
        """``(title, value axis label, size axis label)`` on a plot of the lines layout, unless it has them."""
        if plot.property("gpuviz_style") != style:  # a title or label set again costs a text layout
            self._style_plot(plot, *style)
            plot.setProperty("gpuviz_style", style)

    def _points_of(self, spec: _LinesSpec, key: str) -> list:
        return [(impl, m, x, y) for impl, xs, ys, kept in spec.series[key] for m, x, y in zip(kept, xs, ys)]

    def _build_lines(self, spec: _LinesSpec) -> None:
        op = self.op
        size_label = SIZE_NAMES.get(op, "size")
        keys = spec.keys
        self.arrangement, self.legend_columns = spec.arrangement, spec.legend_columns
        places = self._places(keys)
        ncols = max(col for _row, col, _span in places.values()) + 1
        nrows = max(row + span for row, _col, span in places.values())
        # as many legend entries per row as fit: the legend never widens the figure past the panel
        self.legend = pg.LegendItem(colCount=max(1, self.legend_columns), frame=True)
        if self.arrangement == "side":
            self.addItem(self.legend, row=0, col=1)
        else:
            self.addItem(self.legend, row=0, col=0, colspan=ncols)
        layout = self.ci.layout
        for col in range(ncols):
            # the large time plot takes three fifths of the width beside the stacked pair
            layout.setColumnStretchFactor(col, 3 if self.arrangement in ("big", "side") and col == 0 else 2)
        layout.setRowStretchFactor(0, 0)
        for row in range(1, nrows):
            layout.setRowStretchFactor(row, 1)
        scale = self._scale()
        # a stacked plot's title must not touch the size-axis label of the plot above it
        layout.setVerticalSpacing(round(14 * scale))
        for key in keys:
            row, col, span = places[key]
            plot = self._pooled_plot(key)
            self.addItem(plot, row=row, col=col, rowspan=span)
            self.plots[key] = plot
            # lecture mode: the time ticks carry their units (1 ms, 100 µs): no axis label takes the width
            value_label = "" if self.compact and key == "time" else AXIS_LABELS[key]
            self._restyle(plot, (spec.titles[key], value_label, size_label))
            # the measured sizes label the size axis: "64, 128, 256" reads better than 10^k minor ticks
            plot.getAxis("bottom").setTicks([spec.size_ticks, []])
            for impl, xs, ys, _kept in spec.series[key]:
                curve = self._pooled_curve(key, impl)
                curve.setData(np.array(xs, float), np.array(ys, float))
                plot.addItem(curve)
                self.curves[(key, impl)] = curve
                if key == "time":
                    self.legend.addItem(curve, impl_name(impl))
            self.points[key] = self._points_of(spec, key)
            if key == "time" and spec.time_ticks is not None:
                plot.getAxis("left").setTicks([spec.time_ticks, []])
            self._mark_noisy(plot, key)
            if key == "speedup" and self.points[key]:
                ref = pg.InfiniteLine(pos=0.0, angle=0, pen=pg.mkPen(mix(self.theme.foreground,
                                                                            self.theme.panel_background, 0.5),
                                                                        width=self.theme.pen_width(1),
                                                                        style=Qt.PenStyle.DashLine))
                plot.addItem(ref)  # log10(1) = 0: "as fast as the Python loop"
        self._style_legend()
        self._spec = spec

    def _mark_noisy(self, plot: pg.PlotItem, key: str) -> None:
        """A ring around each plotted point whose measurement is flagged noisy (drawn in the data's units)."""
        old = self._noisy_marks.pop(key, None)
        if old is not None:
            plot.removeItem(old)
        pts = [(x, y) for _impl, m, x, y in self.points.get(key, ()) if m.noisy]
        self.noisy_points[key] = len(pts)
        if not pts:
            return
        t = self.theme
        # a PlotDataItem of symbols only: it follows the plot's log axes as the curves do
        ring = pg.PlotDataItem(np.array([x for x, _y in pts], float), np.array([y for _x, y in pts], float),
                               pen=None, symbol="o", symbolSize=round(20 * t.line_scale), symbolBrush=None,
                               symbolPen=pg.mkPen(NOISY_COLOUR, width=t.pen_width(2)))
        plot.addItem(ring)
        self._noisy_marks[key] = ring

    def _pooled_plot(self, key: str) -> pg.PlotItem:
        """The lines layout's plot for ``key``, emptied, its view fitting its data again (kept in the pool)."""
        plot = self._plot_pool.get(key)
        if plot is None:
            return self._new_plot(key)
        plot.clear()  # the curves and the reference line of the last build
        # as a new plot: a zoom or pan of the last figures is forgotten, and the fit to the data starts from
        # a new view's range (the symbols' padding is in pixels, turned into data units through the range)
        plot.vb.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
        plot.enableAutoRange()
        return plot

    def _new_plot(self, key: str) -> pg.PlotItem:
        """A plot of the lines layout, kept in the pool for ``key``."""
        axes = {"left": ThinningAxis("left"), "bottom": ThinningAxis("bottom")}
        for axis in axes.values():
            axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        plot = pg.PlotItem(axisItems=axes)
        # equal preferred sizes: the stretch factors alone share the room out (no plot squeezed)
        plot.setPreferredSize(100, 100)
        plot.setMinimumWidth(150 * self._scale())
        plot.setLogMode(x=True, y=True)
        # room around the first and last sizes, so their tick labels are not cut at the edges
        plot.getViewBox().setDefaultPadding(0.06)
        self._plot_pool[key] = plot
        return plot

    def _pooled_curve(self, key: str, impl: str) -> pg.PlotDataItem:
        curve = self._curve_pool.get((key, impl))
        if curve is None:
            pen, brush, spen, symbol = self._pens(impl)
            curve = pg.PlotDataItem(pen=pen, symbol=symbol, symbolBrush=brush, symbolPen=spen,
                                    symbolSize=round(9 * self.theme.line_scale))
            self._curve_pool[(key, impl)] = curve
        return curve

    def _apply_lines(self, spec: _LinesSpec) -> None:
        """New data into the lines layout built for a spec of the same shape: what a rebuild would draw."""
        old = self._spec
        if old.series != spec.series:
            self._clear_hover()  # it may name a point that changed
        for key in spec.keys:
            before = {s[0]: s for s in old.series[key]}
            changed = False
            for impl, xs, ys, _kept in spec.series[key]:
                if before[impl][1:3] != (xs, ys):
                    self.curves[(key, impl)].setData(np.array(xs, float), np.array(ys, float))
                    changed = True
            if changed and not all(self.plots[key].vb.autoRangeEnabled()):
                self.plots[key].enableAutoRange()  # new data are shown whole, as a rebuild shows them
            self.points[key] = self._points_of(spec, key)
            self._mark_noisy(self.plots[key], key)
            # a tick change redraws the axis: only where the ticks did change
            if spec.size_ticks != old.size_ticks:
                self.plots[key].getAxis("bottom").setTicks([spec.size_ticks, []])
        if spec.time_ticks != old.time_ticks and spec.time_ticks is not None:
            self.plots["time"].getAxis("left").setTicks([spec.time_ticks, []])
        self._spec = spec

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
        plot = self._add_plot(0, 0)
        self.plots["bars"] = plot
        # a bar and its label per implementation, the title and the time axis below
        self._least_height = round((32 * len(impls) + 90) * t.font_scale)
        title = f"{PLOT_TITLES['time']}, {SIZE_SHORT.get(op, 'N')} = {size:,} (shorter is faster; logarithmic axis)"
        self._style_plot(plot, title, "", f"median time per call, {SIZE_SHORT.get(op, 'N')} = {size:,} "
                         "(shorter is faster)" if self.compact else "median time")
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
        plot.getAxis("bottom").setTicks([_decade_ticks(lo, hi + 0.25 * (hi - lo) + 6), []])
        ticks = [(float(y), impl_name(i)) for y, i in zip(ys, impls)]
        left = plot.getAxis("left")
        left.setTicks([ticks, []])
        # wide enough for the longest name at once (auto-expansion would need another paint, and an
        # export paints once)
        metrics = QFontMetrics(font(t, scale=0.9))
        left.setWidth(max(metrics.horizontalAdvance(text) for _y, text in ticks) + 24)
        self.points["bars"] = []
        self._bar_rows = []
        self._bar_title_shown = None
        self._bar_range = (lo, hi)
        self._bar_title = title
        for y, impl, v in zip(ys, impls, medians):
            ratio = speedups.get((op, impl, size))
            m = by_impl[impl][0]
            if ratio is not None and impl not in NOT_A_SPEED and impl != "python":
                forms = (f"  ({format_ratio(ratio)} faster than the loop)", f"  ({format_ratio(ratio)})")
            else:
                forms = ("", "")
            if m.noisy:
                self.noisy_points["bars"] = self.noisy_points.get("bars", 0) + 1
            colour = readable(NOISY_COLOUR, t.panel_background, t.foreground) if m.noisy else t.foreground
            label = pg.TextItem("", color=colour, anchor=(0, 0.5))
            label.setFont(font(t, bold=True, scale=1.1))
            label.setPos(math.log10(v) + 0.05, float(y))
            plot.addItem(label)
            self.bar_labels.append(label)
            self._bar_rows.append((label, impl_name(impl), format_seconds(v), forms, m.noisy, math.log10(v)))
            self.points["bars"].append((impl, by_impl[impl][0], math.log10(v), float(y)))
        if self.compact:
            left.setStyle(showValues=False)  # the names are in the bars' labels
            left.setWidth(round(8 * t.font_scale))
        self._place_bars(self.width())
        # again once the view box has its size (a new window width, a theme's fonts): exactly what it has then
        plot.vb.sigResized.connect(lambda _vb: self._place_bars(None))
        plot.setYRange(-0.6, n - 0.4, padding=0)
        plot.setMouseEnabled(x=False, y=False)

    def _place_bars(self, width: int | None) -> None:
        """Each bar's label in the longest form that fits right of its bar, and the time axis just long enough
        for them, for the figure ``width`` pixels wide (None: for the view box's width now): a label never
        runs out of the plot, whatever the window's width."""
        plot = self.plots.get("bars")
        if plot is None or not self._bar_rows:
            return
        t = self.theme
        lo, hi = self._bar_range
        left = plot.getAxis("left")
        metrics = QFontMetrics(font(t, bold=True, scale=1.1))
        # the view box's width: as laid out, but never more than the figure's less its left axis and the layout's
        # margins (a title one line wide can hold the layout wider than the view until it is wrapped)
        # the axis's fixed width (its geometry is still the default until the layout has run)
        axis_w = getattr(left, "fixedWidth", None) or left.width()
        most = (self.width() if width is None else width) - axis_w - 24 * t.font_scale
        room = min(plot.vb.width(), most) if width is None else most
        room = max(60.0, room - 4)  # the pixels rounding may take back
        gap = metrics.horizontalAdvance("  ")

        def texts(form: int) -> list[str]:
            out = []
            for _label, name, value, forms, noisy, _x in self._bar_rows:
                text = (f"{name}  " if self.compact else "") + value + forms[form]
                out.append(text + ("  ⚠ noisy" if noisy else ""))
            return out

        def drawn_width(label, text: str) -> float:
            # as the label draws it (its document's margins and the font's fallbacks included)
            label.setText(text)
            return max(label.textItem.boundingRect().width(), metrics.horizontalAdvance(text))

        def right_end(form: int) -> float | None:
            """The axis's right end that fits every label of ``form``, or None when one cannot fit."""
            end = hi + 0.3
            for (label, *_rest, x), text in zip(self._bar_rows, texts(form)):
                free = 1 - (drawn_width(label, text) + gap) / room
                if free <= 0.2:  # the bar itself would keep less than a fifth of the plot
                    return None
                end = max(end, lo + (x + 0.05 - lo) / free)
            return end

        form, end = 0, right_end(0)
        if end is None or end - lo > 2.2 * (hi + 0.3 - lo):  # the bars would shrink to under half the plot
            shorter = right_end(1)
            if shorter is not None:
                form, end = 1, shorter
        if end is None:
            end = hi + 0.25 * (hi - lo) + 1.6
        for (label, *_rest), text in zip(self._bar_rows, texts(form)):
            label.setText(text)
        plot.setXRange(lo, end, padding=0)
        title = self._title_for(self._bar_title, room)
        if not self.compact and title != getattr(self, "_bar_title_shown", None):
            # a title never wider than the plot: on two lines where one would not fit; laid out again at once,
            # or a title one line wide keeps the view box wider than the figure
            self._bar_title_shown = title
            plot.setTitle(title, color=hex_colour(t.foreground), size=f"{round(12 * self._scale())}pt", bold=True)
            for layout in (plot.layout, self.ci.layout):
                layout.invalidate()
                layout.activate()
            pg.GraphicsView.resizeEvent(self, None)  # the figure's size again, now that it may have shrunk

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
