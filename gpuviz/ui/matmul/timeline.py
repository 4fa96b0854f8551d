"""The matmul panel's timeline: the shared step timeline, with the barrier phases marked under its slider.

A step is what the model defines (one source line executed by the threads that
execute it, :class:`~gpuviz.model.scene.StepInfo`); the timeline only moves the
scene's step and describes it.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QPointF, QRectF, Qt, pyqtSignal
from PyQt6.QtGui import QBrush, QPainter
from PyQt6.QtWidgets import QLabel, QSizePolicy, QSlider, QStyle, QStyleOptionSlider, QToolTip, QWidget

from ..panel import step_label
from ..style import font, mix, okabe, pen, qcolor
from ..theme import Theme
from ..timeline import StepTimeline

#: Playback speeds in steps per second; + and − move along this list.
SPEEDS = (0.5, 1, 2, 4, 8, 15, 30, 60)
DEFAULT_SPEED = 4

#: What a step of each role does; {a}, {b}, {c} are the scenario's names for A, B and C (W, x, z).
_ROLE_TEXT = {
    "write": "write {c}",
    "load_a": "load {a}'s tile into sA",
    "zero_a": "zero-fill sA (tile outside {a})",
    "load_b": "load {b}'s tile into sB",
    "zero_b": "zero-fill sB (tile outside {b})",
    "sync_loaded": "barrier: wait until the tiles are loaded",
    "sync_used": "barrier: wait until the tiles are used",
}

#: Colours of the two kinds of phase between barriers (barriers are ticks in the text colour).
PHASE_COLOURS = ("sky_blue", "orange")


def describe_step(scene, step: int | None = None) -> str:
    """One line saying what step ``step`` (default: the current one) of ``scene`` executes."""
    info = scene.step_info(step)
    parts = [step_label(info.index, scene.n_steps - 1), f"line {info.line}"]
    tiled = scene.kernel == "tiled"
    a, b, c = _names(scene)
    text = _ROLE_TEXT.get(info.role, info.role).format(a=a, b=b, c=c)
    if info.role == "multiply":
        parts.append(f"t = {info.tile}, i = {info.index_in_loop}" if tiled else f"k = {info.index_in_loop}")
    elif tiled and info.role != "write":
        parts.append(f"t = {info.tile} · {text}")
    else:
        parts.append(text)
    total = scene.launch.threads
    if info.threads >= total:
        parts.append(f"{info.threads:,} threads active")
    else:
        parts.append(f"{info.threads:,} of {total:,} threads active ({total - info.threads:,} masked)")
    return " · ".join(parts)


def _names(scene) -> tuple[str, str, str]:
    """The scenario's names for A, B and C (a scene without names: A, B, C)."""
    return tuple(getattr(scene, "names", None) or ("A", "B", "C"))


def _phase_name(role: str, result: str = "C") -> str:
    if role.startswith(("load", "zero")):
        return "load tiles"
    if role == "multiply":
        return "multiply"
    if role == "write":
        return f"write {result}"
    return role


class PhaseStrip(QWidget):
    """A strip under the scrub slider: barrier steps as ticks, the phases between them as bands.

    It draws at the slider's own handle positions, so a tick sits exactly under
    the handle when the slider is on a barrier step. Clicking a point of the
    strip moves to that step.
    """

    step_clicked = pyqtSignal(int)

    def __init__(self, slider: QSlider, parent=None):
        super().__init__(parent)
        self._slider = slider
        self._theme: Theme | None = None
        self._n = 1
        self._barriers = np.zeros(0, np.int64)
        self._bands: list[tuple[int, int, str]] = []  # (first step, last step, phase name)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.setFont(font(theme, scale=0.85))
        self.setFixedHeight(int(self.fontMetrics().height() * 1.5 + theme.layout_width(4)))
        self.update()

    def set_data(self, n_steps: int, barriers: np.ndarray, bands: list[tuple[int, int, str]]) -> None:
        self._n, self._barriers, self._bands = max(1, n_steps), np.asarray(barriers), bands
        self.update()

    # -- geometry shared with the slider ------------------------------------------------------

    def _slider_span(self) -> tuple[float, float]:
        """x of step 0's and of the last step's handle centre, in this widget's coordinates."""
        s = self._slider
        opt = QStyleOptionSlider()
        s.initStyleOption(opt)
        style = s.style()
        groove = style.subControlRect(QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderGroove, s)
        handle = style.subControlRect(QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderHandle, s)
        offset = s.mapTo(self.window(), groove.topLeft()).x() - self.mapTo(self.window(), self.rect().topLeft()).x()
        x0 = offset + handle.width() / 2
        return x0, x0 + max(1, groove.width() - handle.width())

    def x_of(self, step: float, span: tuple[float, float] | None = None) -> float:
        """x of ``step``'s handle centre (``span``: :meth:`_slider_span`, when already known)."""
        x0, x1 = span or self._slider_span()
        return x0 + (x1 - x0) * (step / max(1, self._n - 1))

    def step_at(self, x: float) -> int:
        x0, x1 = self._slider_span()
        return int(np.clip(round((x - x0) / max(1.0, x1 - x0) * (self._n - 1)), 0, self._n - 1))

    # -- painting ------------------------------------------------------------------------------

    def paintEvent(self, event):
        t = self._theme
        if t is None:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        h = self.height()
        p.fillRect(self.rect(), qcolor(t.background))
        fm = self.fontMetrics()
        span = self._slider_span()  # asking the style is slow: once per paint, not per mark
        for i, (first, last, name) in enumerate(self._bands):
            colour = okabe(PHASE_COLOURS[i % 2])
            # a band covers its steps up to half a step beyond its ends, so bands meet at the barriers
            x_a = self.x_of(max(0.0, first - 0.5), span)
            x_b = self.x_of(min(self._n - 1.0, last + 0.5), span)
            rect = QRectF(x_a, 1, max(1.0, x_b - x_a), h - 2)
            p.fillRect(rect, qcolor(mix(colour, t.background, 0.45 if not t.dark else 0.55)))
            if rect.width() > 40 and rect.width() > fm.horizontalAdvance(name) + 6:
                p.setPen(qcolor(t.foreground))
                p.drawText(rect, Qt.AlignmentFlag.AlignCenter, name)
        tick = pen(t.foreground, t.pen_width(2.0))
        tick.setCapStyle(Qt.PenCapStyle.FlatCap)
        p.setPen(tick)
        # barriers as full-height ticks: a shape, not only a colour, tells them from the bands
        for b in self._barriers.tolist():
            x = self.x_of(b, span)
            p.drawLine(QPointF(x, 0), QPointF(x, h))
        p.setPen(pen(mix(t.foreground, t.background, 0.5), t.pen_width(1.0)))
        p.setBrush(QBrush(Qt.BrushStyle.NoBrush))
        x0, x1 = self.x_of(0, span), self.x_of(self._n - 1, span)
        p.drawRect(QRectF(x0, 0.5, max(1.0, x1 - x0), h - 1))
        p.end()

    def mousePressEvent(self, event):
        if event.button() == Qt.MouseButton.LeftButton:
            self.step_clicked.emit(self.step_at(event.position().x()))

    def mouseMoveEvent(self, event):
        step = self.step_at(event.position().x())
        name = next((n for a, b, n in self._bands if a <= step <= b), "")
        barrier = bool(np.any(self._barriers == step))
        text = f"step {step:,}" + (f" · {name}" if name else "") + (" · barrier" if barrier else "")
        QToolTip.showText(event.globalPosition().toPoint(), text, self)


class Timeline(StepTimeline):
    """Play / pause / step / scrub / speed for a :class:`~gpuviz.model.scene.MatmulScene`, barriers marked.

    The shared :class:`~gpuviz.ui.timeline.StepTimeline` following the scene,
    its position label the step's description (:func:`describe_step`), with the
    barrier strip (:class:`PhaseStrip`) and its legend under the slider.

    Parameters
    ----------
    scene : MatmulScene
        The scene whose step this timeline moves; it follows the scene's changes.
    theme : Theme
        Colours and sizes.
    parent : QWidget, optional
    """

    def __init__(self, scene, theme: Theme, parent=None):
        super().__init__(theme, SPEEDS, DEFAULT_SPEED, stacked=True, margins=(6, 6, 6, 6), parent=parent)
        self.scene = scene
        self.speed_label.setToolTip("Playback speed in steps per second (+ / − change it)")
        self.description = self.position
        self.description.setToolTip("The current step: the source line all active threads execute, "
                                    "in SIMT order; threads that skip the line are masked")
        self.description.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.strip = PhaseStrip(self.slider)
        self.strip.step_clicked.connect(self.step_requested)
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.add_below(self.strip)
        self.add_below(self.legend)
        self.set_theme(theme)
        self.follow(scene, describe_step)

    def set_theme(self, theme: Theme) -> None:
        super().set_theme(theme)
        self.description.setFont(font(theme, bold=True, scale=1.05))
        self.strip.set_theme(theme)
        self._update_legend()

    def _model_changed(self, scene, changes) -> None:
        if "params" in changes:
            self._rebuild_strip()
        super()._model_changed(scene, changes)

    def _rebuild_strip(self) -> None:
        sc = self.scene
        barriers = sc.barrier_steps()
        epochs = np.asarray(sc.steps.epoch)
        bands = []
        if len(barriers):
            # one band per barrier epoch, named after what its first step does
            starts = np.flatnonzero(np.r_[True, epochs[1:] != epochs[:-1]])
            ends = np.r_[starts[1:] - 1, len(epochs) - 1]
            for a, b in zip(starts, ends):
                bands.append((int(a), int(b), _phase_name(sc.step_info(int(a)).role, _names(sc)[2])))
        self.strip.set_data(sc.n_steps, barriers, bands)
        self.strip.setVisible(bool(len(barriers)))
        self._update_legend()

    def _update_legend(self) -> None:
        t = self._theme
        sc = self.scene
        n_bar = len(sc.barrier_steps())
        if not n_bar:
            self.legend.setText(f"The {sc.kernel} kernel has no barriers (no cuda.syncthreads()): "
                                "each thread runs its loop on its own.")
            self.legend.setToolTip("")
            return
        bands = [mix(okabe(name), t.background, 0.45 if not t.dark else 0.55) for name in PHASE_COLOURS]

        def swatch(rgb):
            return f'<span style="background-color: rgb{tuple(rgb)};">&nbsp;&nbsp;&nbsp;&nbsp;</span>'

        self.legend.setText(
            '<b>┃</b> cuda.syncthreads() barrier '
            f"({n_bar:,} steps: every thread of a block waits there) &nbsp; {swatch(bands[0])}{swatch(bands[1])} "
            "phases between barriers, labelled with what they do (click the strip to jump)")
        self.legend.setToolTip("Steps across blocks are shown in lockstep: a model. Real blocks run "
                               "independently; the order inside each thread and its barriers are exact.")
