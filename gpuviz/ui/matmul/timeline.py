"""The matmul panel's timeline: play, pause, step, scrub and speed, with the barrier phases marked.

A step is what the model defines (one source line executed by the threads that
execute it, :class:`~gpuviz.model.scene.StepInfo`); the timeline only moves the
scene's step and describes it.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QPointF, QRectF, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QBrush, QPainter
from PyQt6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QStyle,
    QStyleOptionSlider,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from ..panel import step_label
from ..style import apply_theme, font, mix, okabe, pen, qcolor, subscribe
from ..theme import Theme

#: Playback speeds in steps per second; + and − move along this list.
SPEEDS = (0.5, 1, 2, 4, 8, 15, 30, 60)
DEFAULT_SPEED = 4

_ROLE_TEXT = {
    "write": "write C",
    "load_a": "load A's tile into sA",
    "zero_a": "zero-fill sA (tile outside A)",
    "load_b": "load B's tile into sB",
    "zero_b": "zero-fill sB (tile outside B)",
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
    if info.role == "multiply":
        parts.append(f"t = {info.tile}, i = {info.index_in_loop}" if tiled else f"k = {info.index_in_loop}")
    elif tiled and info.role != "write":
        parts.append(f"t = {info.tile} · {_ROLE_TEXT[info.role]}")
    else:
        parts.append(_ROLE_TEXT.get(info.role, info.role))
    total = scene.launch.threads
    if info.threads >= total:
        parts.append(f"{info.threads:,} threads active")
    else:
        parts.append(f"{info.threads:,} of {total:,} threads active ({total - info.threads:,} masked)")
    return " · ".join(parts)


def _phase_name(role: str) -> str:
    if role.startswith(("load", "zero")):
        return "load tiles"
    if role == "multiply":
        return "multiply"
    if role == "write":
        return "write C"
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


class Timeline(QWidget):
    """Play / pause / step / scrub / speed for a :class:`~gpuviz.model.scene.MatmulScene`.

    Parameters
    ----------
    scene : MatmulScene
        The scene whose step this timeline moves; it follows the scene's changes.
    theme : Theme
        Colours and sizes.
    parent : QWidget, optional

    Notes
    -----
    The keys (Space, ←/→, Home/End, +/−) belong to the main window's View menu,
    which calls :meth:`play_pause`, :meth:`step_by`, :meth:`first`, :meth:`last`,
    :meth:`faster` and :meth:`slower`; the tooltips here name them. The
    timeline installs no shortcuts itself: two with one key would both go dead.
    """

    playing_changed = pyqtSignal(bool)

    def __init__(self, scene, theme: Theme, parent=None):
        super().__init__(parent)
        self.scene = scene
        self._theme = theme
        self._speed_index = SPEEDS.index(DEFAULT_SPEED)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self._syncing = False

        self.first_button = self._button("|◀", "First step (Home)", self.first)
        self.back_button = self._button("◀", "Step back (←)", lambda: self.step_by(-1))
        self.play_button = self._button("▶ Play", "Play / pause (Space)", self.play_pause)
        self.forward_button = self._button("▶", "Step forward (→)", lambda: self.step_by(1))
        self.last_button = self._button("▶|", "Last step (End)", self.last)
        self.slower_button = self._button("−", "Slower (−)", self.slower)
        self.faster_button = self._button("+", "Faster (+)", self.faster)
        self.speed_label = QLabel()
        self.speed_label.setToolTip("Playback speed in steps per second (+ / − change it)")
        self.description = QLabel()
        self.description.setToolTip("The current step: the source line all active threads execute, "
                                    "in SIMT order; threads that skip the line are masked")
        self.description.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip("Scrub through the steps (←/→ step, Home/End first/last)")
        self.slider.valueChanged.connect(self._slider_moved)
        self.strip = PhaseStrip(self.slider)
        self.strip.step_clicked.connect(self._strip_clicked)
        self.legend = QLabel()
        self.legend.setWordWrap(True)

        buttons = QHBoxLayout()
        buttons.setSpacing(4)
        for b in (self.first_button, self.back_button, self.play_button, self.forward_button, self.last_button):
            buttons.addWidget(b)
        buttons.addSpacing(12)
        buttons.addWidget(self.slower_button)
        buttons.addWidget(self.speed_label)
        buttons.addWidget(self.faster_button)
        buttons.addSpacing(12)
        buttons.addWidget(self.description, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.setSpacing(2)
        lay.addLayout(buttons)
        lay.addWidget(self.slider)
        lay.addWidget(self.strip)
        lay.addWidget(self.legend)
        lay.addStretch(1)

        subscribe(self, scene, "_scene_changed")
        self.set_theme(theme)
        self._rebuild()

    def _button(self, text: str, tip: str, slot) -> QToolButton:
        b = QToolButton()
        b.setText(text)
        b.setToolTip(tip)
        b.setAutoRaise(False)
        b.clicked.connect(slot)
        return b

    # -- public API ------------------------------------------------------------------------------

    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    @property
    def speed(self) -> float:
        """Steps per second while playing."""
        return SPEEDS[self._speed_index]

    def play_pause(self) -> None:
        """Start playing (from the first step if at the last one), or pause."""
        if self.playing:
            self._set_playing(False)
            return
        if self.scene.step >= self.scene.n_steps - 1:
            self.scene.set_step(0)
        self._set_playing(True)

    def pause(self) -> None:
        self._set_playing(False)

    def step_by(self, delta: int) -> None:
        self.scene.step_by(delta)

    def first(self) -> None:
        self.scene.set_step(0)

    def last(self) -> None:
        self.scene.set_step(self.scene.n_steps - 1)

    def faster(self) -> None:
        self._set_speed(self._speed_index + 1)

    def slower(self) -> None:
        self._set_speed(self._speed_index - 1)

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        apply_theme(self, theme)
        self.description.setFont(font(theme, bold=True, scale=1.05))
        self.slider.setStyleSheet(self._slider_style(theme))
        self.slider.setMinimumHeight(round(theme.layout_width(4 + 2 * 6)) + 4)
        self.strip.set_theme(theme)
        self._update_legend()
        self._update_speed()

    @staticmethod
    def _slider_style(t: Theme) -> str:
        # Fusion draws the same small handle at any font size: a projector needs a bigger one. Style-sheet
        # pixels are layout pixels, which an export's pixel ratio enlarges already: layout_width, not pen_width
        g, hw, m = round(t.layout_width(4)), round(t.layout_width(12)), round(t.layout_width(6))
        border = max(1, round(t.layout_width(1.5)))
        groove = mix(t.foreground, t.background, 0.25)
        fill = okabe("blue") if not t.dark else okabe("sky_blue")
        return (f"QSlider::groove:horizontal {{ height: {g}px; background: rgb{groove}; border-radius: {g // 2}px; }}"
                f"QSlider::sub-page:horizontal {{ height: {g}px; background: rgb{fill}; border-radius: {g // 2}px; }}"
                f"QSlider::handle:horizontal {{ width: {hw}px; margin: -{m}px 0; background: rgb{t.panel_background};"
                f" border: {border}px solid rgb{t.foreground}; border-radius: {hw // 3}px; }}")

    # -- internals -------------------------------------------------------------------------------

    def _set_playing(self, on: bool) -> None:
        if on == self.playing:
            return
        if on:
            self._timer.start(self._interval_ms())
        else:
            self._timer.stop()
        self.play_button.setText("❚❚ Pause" if on else "▶ Play")
        self.playing_changed.emit(on)

    def _interval_ms(self) -> int:
        return max(1, round(1000 / self.speed))

    def _set_speed(self, index: int) -> None:
        self._speed_index = int(np.clip(index, 0, len(SPEEDS) - 1))
        if self.playing:
            self._timer.setInterval(self._interval_ms())
        self._update_speed()

    def _update_speed(self) -> None:
        s = self.speed
        self.speed_label.setText(f"{s:g} steps/s")
        self.slower_button.setEnabled(self._speed_index > 0)
        self.faster_button.setEnabled(self._speed_index < len(SPEEDS) - 1)

    def _tick(self) -> None:
        if self.scene.step >= self.scene.n_steps - 1:
            self._set_playing(False)
            return
        self.scene.step_by(1)
        if self.scene.step >= self.scene.n_steps - 1:
            self._set_playing(False)

    def _slider_moved(self, value: int) -> None:
        if not self._syncing:
            self.scene.set_step(value)

    def _strip_clicked(self, step: int) -> None:
        self.scene.set_step(step)

    def _scene_changed(self, scene, changes) -> None:
        if "params" in changes:
            self._rebuild()
        elif "step" in changes:
            self._show_step()

    def _rebuild(self) -> None:
        sc = self.scene
        self._syncing = True
        try:
            self.slider.setRange(0, sc.n_steps - 1)
            self.slider.setPageStep(max(1, sc.n_steps // 20))
        finally:
            self._syncing = False
        barriers = sc.barrier_steps()
        epochs = np.asarray(sc.steps.epoch)
        bands = []
        if len(barriers):
            # one band per barrier epoch, named after what its first step does
            starts = np.flatnonzero(np.r_[True, epochs[1:] != epochs[:-1]])
            ends = np.r_[starts[1:] - 1, len(epochs) - 1]
            for a, b in zip(starts, ends):
                bands.append((int(a), int(b), _phase_name(sc.step_info(int(a)).role)))
        self.strip.set_data(sc.n_steps, barriers, bands)
        self.strip.setVisible(bool(len(barriers)))
        self._update_legend()
        self._show_step()

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

    def _show_step(self) -> None:
        sc = self.scene
        self._syncing = True
        try:
            self.slider.setValue(sc.step)
        finally:
            self._syncing = False
        self.description.setText(describe_step(sc))
        at_end, at_start = sc.step >= sc.n_steps - 1, sc.step <= 0
        self.back_button.setEnabled(not at_start)
        self.first_button.setEnabled(not at_start)
        self.forward_button.setEnabled(not at_end)
        self.last_button.setEnabled(not at_end)
