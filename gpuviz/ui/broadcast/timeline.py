"""Play / pause / step / scrub / speed for the broadcasting steps (the matmul timeline's controls, fewer steps)."""

from __future__ import annotations

from PyQt6.QtCore import Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QSlider, QToolButton, QVBoxLayout, QWidget

from ..matmul.timeline import Timeline as _MatmulTimeline
from ..panel import step_label
from ..style import apply_theme, font, subscribe
from ..theme import Theme

#: Steps per second; a broadcasting explanation has a handful of steps, so slower than the matmul panel's.
SPEEDS = (0.25, 0.5, 1, 2, 4)
DEFAULT_SPEED = 1


class StepTimeline(QWidget):
    """Moves a :class:`~gpuviz.ui.broadcast.state.BroadcastState`'s step; follows the state's changes.

    ``locked`` (quiz mode before the reveal) disables every control and every
    call, so no key press can show a step past "align".
    """

    playing_changed = pyqtSignal(bool)

    def __init__(self, state, theme: Theme, parent=None):
        super().__init__(parent)
        self.state = state
        self._theme = theme
        self._speed_index = SPEEDS.index(DEFAULT_SPEED)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self._syncing = False
        self.locked = False

        self.first_button = self._button("|◀", "First step (Home)", self.first)
        self.back_button = self._button("◀", "Step back (←)", lambda: self.step_by(-1))
        self.play_button = self._button("▶ Play", "Play / pause (Space)", self.play_pause)
        self.forward_button = self._button("▶", "Step forward (→)", lambda: self.step_by(1))
        self.last_button = self._button("▶|", "Last step (End)", self.last)
        self.slower_button = self._button("−", "Slower (−)", self.slower)
        self.faster_button = self._button("+", "Faster (+)", self.faster)
        self.speed_label = QLabel()
        self.position = QLabel()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip("Scrub through the steps (←/→ step, Home/End first/last)")
        self.slider.valueChanged.connect(self._slider_moved)

        row = QHBoxLayout()
        row.setSpacing(4)
        for b in (self.first_button, self.back_button, self.play_button, self.forward_button, self.last_button):
            row.addWidget(b)
        row.addSpacing(12)
        row.addWidget(self.slower_button)
        row.addWidget(self.speed_label)
        row.addWidget(self.faster_button)
        row.addSpacing(12)
        row.addWidget(self.position)
        row.addWidget(self.slider, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.addLayout(row)

        subscribe(self, state, "_state_changed")
        self.set_theme(theme)
        self._rebuild()

    def _button(self, text: str, tip: str, slot) -> QToolButton:
        b = QToolButton()
        b.setText(text)
        b.setToolTip(tip)
        b.clicked.connect(slot)
        return b

    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    @property
    def speed(self) -> float:
        return SPEEDS[self._speed_index]

    def set_locked(self, on: bool) -> None:
        self.locked = bool(on)
        if on:
            self.pause()
        self._show_step()

    def play_pause(self) -> None:
        if self.locked:
            return
        if self.playing:
            self.pause()
            return
        if self.state.step >= self.state.n_steps - 1:
            self.state.set_step(0)
        self._set_playing(True)

    def play_from_start(self) -> None:
        self.pause()
        self.state.set_step(0)
        self._set_playing(True)

    def pause(self) -> None:
        self._set_playing(False)

    def step_by(self, delta: int) -> None:
        if not self.locked:
            self.state.step_by(delta)

    def first(self) -> None:
        if not self.locked:
            self.state.set_step(0)

    def last(self) -> None:
        if not self.locked:
            self.state.set_step(self.state.n_steps - 1)

    def faster(self) -> None:
        self._set_speed(self._speed_index + 1)

    def slower(self) -> None:
        self._set_speed(self._speed_index - 1)

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        apply_theme(self, theme)
        self.position.setFont(font(theme, bold=True))
        # the same big-handle slider as the matmul panel's timeline (a projector needs it)
        self.slider.setStyleSheet(_MatmulTimeline._slider_style(theme))
        self.slider.setMinimumHeight(round(theme.layout_width(4 + 2 * 6)) + 4)
        self._update_speed()

    # -- internals ----------------------------------------------------------------------------------

    def _set_playing(self, on: bool) -> None:
        if on == self.playing:
            return
        if on:
            self._timer.start(max(1, round(1000 / self.speed)))
        else:
            self._timer.stop()
        self.play_button.setText("❚❚ Pause" if on else "▶ Play")
        self.playing_changed.emit(on)

    def _set_speed(self, index: int) -> None:
        self._speed_index = max(0, min(len(SPEEDS) - 1, index))
        if self.playing:
            self._timer.setInterval(max(1, round(1000 / self.speed)))
        self._update_speed()

    def _update_speed(self) -> None:
        self.speed_label.setText(f"{self.speed:g} steps/s")
        self.slower_button.setEnabled(self._speed_index > 0)
        self.faster_button.setEnabled(self._speed_index < len(SPEEDS) - 1)

    def _tick(self) -> None:
        if self.state.step >= self.state.n_steps - 1:
            self.pause()
            return
        self.state.step_by(1)
        if self.state.step >= self.state.n_steps - 1:
            self.pause()

    def _slider_moved(self, value: int) -> None:
        if not self._syncing and not self.locked:
            self.state.set_step(value)

    def _state_changed(self, state, changes) -> None:
        if "params" in changes:
            self._rebuild()
        elif "step" in changes:
            self._show_step()

    def _rebuild(self) -> None:
        self._syncing = True
        try:
            self.slider.setRange(0, self.state.n_steps - 1)
            self.slider.setPageStep(1)
        finally:
            self._syncing = False
        self._show_step()

    def _show_step(self) -> None:
        st = self.state
        self._syncing = True
        try:
            self.slider.setValue(st.step)
        finally:
            self._syncing = False
        # in quiz mode the number of steps would hint at the answer (a failure stops early)
        self.position.setText("step 0 of ?" if self.locked else step_label(st.step, st.n_steps - 1))
        at_end, at_start = st.step >= st.n_steps - 1, st.step <= 0
        for b, on in ((self.back_button, not at_start), (self.first_button, not at_start),
                      (self.forward_button, not at_end), (self.last_button, not at_end),
                      (self.play_button, True)):
            b.setEnabled(on and not self.locked)
        self.slider.setEnabled(not self.locked)
