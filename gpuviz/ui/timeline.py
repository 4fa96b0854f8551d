"""The timeline every panel with steps shares: first / back / play / forward / last, speed − / +, a scrub slider.

The widget knows steps, not models: it is told how many steps there are
(:meth:`StepTimeline.set_steps`, or :meth:`StepTimeline.set_run` for a run that
only grows, such as gradient descent) and which one is shown
(:meth:`StepTimeline.show_step`), and every control asks for a step through
:attr:`StepTimeline.step_requested`. Whoever owns the steps moves them and tells
the widget what is shown now; a request it refuses changes nothing.
:meth:`StepTimeline.follow` wires all of that to a model with ``step``,
``n_steps``, ``set_step(i)`` and ``subscribe(listener)`` (the matmul scene, the
broadcasting state).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PyQt6.QtCore import Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QSlider, QToolButton, QVBoxLayout, QWidget

from .panel import step_label
from .style import ElidedLabel, apply_theme, font, mix, okabe, subscribe
from .theme import Theme


def slider_style(t: Theme) -> str:
    """The scrub slider's style sheet: a handle large enough to grab on a projector."""
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


#: The least width of the slider beside the step text, in pixels: enough to scrub through a few dozen steps.
SLIDER_MIN_WIDTH = 80


class StepTimeline(QWidget):
    """Play / pause / step / scrub / speed over numbered steps, for any panel.

    Parameters
    ----------
    theme : Theme
        Colours and sizes.
    speeds : sequence of float
        Playback speeds in steps per second, slowest first; + and − move along them.
    speed : float
        The starting speed, one of ``speeds``.
    stacked : bool
        False: one row (buttons, speed, position label, slider). True: the
        position label takes the rest of the button row and the slider gets a
        row of its own, with room for extras under it (:meth:`add_below`).
    margins : tuple of int
        Contents margins (left, top, right, bottom).
    spacing : int
        Space between the controls of the button row.
    big_handle : bool
        Style the slider with :func:`slider_style` (a handle for a projector);
        False keeps the platform slider.
    parent : QWidget, optional

    Attributes
    ----------
    step_requested : pyqtSignal(int)
        A control asks for this step. In a run (:meth:`set_run`) a request past
        the last step asks for that many steps taken, and 0 for starting again.
    playing_changed : pyqtSignal(bool)
    position : QLabel
        Says which step is shown (``step 6 of 0–32``, or the text given to :meth:`show_step`).

    Notes
    -----
    The keys (Space, ←/→, Home/End, +/−) belong to the main window's View menu,
    which calls the panel, whose defaults (:class:`~gpuviz.ui.panel.Panel`) call
    :meth:`play_pause`, :meth:`step_by`, :meth:`first`, :meth:`last`,
    :meth:`faster` and :meth:`slower`; the tooltips here name them. The
    timeline installs no shortcuts itself: two with one key would both go dead.
    """

    step_requested = pyqtSignal(int)
    playing_changed = pyqtSignal(bool)

    def __init__(self, theme: Theme, speeds: Sequence[float], speed: float, *, stacked: bool = False,
                 margins: tuple[int, int, int, int] = (6, 4, 6, 4), spacing: int = 4, big_handle: bool = True,
                 parent=None):
        super().__init__(parent)
        self._theme = theme
        self._speeds = tuple(speeds)
        self._speed_index = self._speeds.index(speed)
        self._big_handle = big_handle
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        self._syncing = False
        self._count = 1
        self._step = 0
        self._text: str | None = None
        self._run = False
        self._can_grow = False
        self._can_restart = False
        self._model = None
        self._describe: Callable | None = None
        self.locked = False

        self.first_button = self._button("|◀", "First step (Home)", self.first)
        self.back_button = self._button("◀", "Step back (←)", lambda: self.step_by(-1))
        self.play_button = self._button("▶ Play", "Play / pause (Space)", self.play_pause)
        self.forward_button = self._button("▶", "Step forward (→)", lambda: self.step_by(1))
        self.last_button = self._button("▶|", "Last step (End)", self.last)
        self.slower_button = self._button("−", "Slower (−)", self.slower)
        self.faster_button = self._button("+", "Faster (+)", self.faster)
        self.speed_label = QLabel()
        self.position = ElidedLabel()  # a long step text ends in "…" on a narrow screen, whole in its tooltip
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip("Scrub through the steps (←/→ step, Home/End first/last)")
        self.slider.valueChanged.connect(self._slider_moved)

        row = QHBoxLayout()
        self._row = row
        self._narrow = False
        row.setSpacing(spacing)
        for b in (self.first_button, self.back_button, self.play_button, self.forward_button, self.last_button):
            row.addWidget(b)
        row.addSpacing(12)
        row.addWidget(self.slower_button)
        row.addWidget(self.speed_label)
        row.addWidget(self.faster_button)
        row.addSpacing(12)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(*margins)
        self._layout.addLayout(row)
        if stacked:
            row.addWidget(self.position, 1)
            self._layout.setSpacing(2)
            self._layout.addWidget(self.slider)
            # extras go above this stretch, so a taller timeline keeps its rows together at the top
            self._layout.addStretch(1)
        else:
            row.addWidget(self.position)
            row.addWidget(self.slider, 1)
            # in a narrow row the step text gives way ("…"), not the slider to a stub
            self.slider.setMinimumWidth(SLIDER_MIN_WIDTH)
        self._stacked = stacked

        # the base class's look only: a subclass styles its own extras once it has made them
        StepTimeline.set_theme(self, theme)
        self._render()

    def _button(self, text: str, tip: str, slot) -> QToolButton:
        b = QToolButton()
        b.setText(text)
        b.setToolTip(tip)
        b.clicked.connect(slot)
        return b

    def set_narrow(self, on: bool) -> None:
        """Put the slider on a row of its own under the buttons (a narrow place: lecture mode's drawer), or back
        beside the step text. A stacked timeline has it on its own row already and is left as it is."""
        on = bool(on)
        if self._stacked or on == self._narrow:
            return
        self._narrow = on
        if on:
            self._row.removeWidget(self.slider)
            self._row.setStretchFactor(self.position, 1)
            self._layout.addWidget(self.slider)
        else:
            self._layout.removeWidget(self.slider)
            self._row.setStretchFactor(self.position, 0)
            self._row.addWidget(self.slider, 1)

    @property
    def narrow(self) -> bool:
        return self._narrow

    def add_below(self, widget: QWidget) -> None:
        """Put a panel's own widget (the matmul barrier strip, a legend) under the slider."""
        at = self._layout.count() - 1 if self._stacked else self._layout.count()
        self._layout.insertWidget(at, widget)

    # -- what is shown ---------------------------------------------------------------------------

    @property
    def count(self) -> int:
        """Steps 0 to ``count − 1`` (in a run: the steps taken so far, plus the start)."""
        return self._count

    @property
    def step(self) -> int:
        """The step shown."""
        return self._step

    def set_steps(self, count: int) -> None:
        """Steps 0 to ``count − 1``, every one of them shown on request; the step shown stays, clipped.

        The label goes back to ``step i of 0–n`` until :meth:`show_step` gives a text for the new steps.
        """
        self._run = False
        self._count = max(1, int(count))
        self._step = min(self._step, self._count - 1)
        self._text = None
        self._syncing = True
        try:
            self.slider.setRange(0, self._count - 1)
            self.slider.setPageStep(max(1, self._count // 20))
        finally:
            self._syncing = False
        self._render()

    def set_run(self, taken: int, *, can_grow: bool, can_restart: bool) -> None:
        """A run that only grows (training): ``taken`` steps so far, the last one shown.

        Forward and play ask for step ``taken + 1`` while ``can_grow``; first asks for 0
        (starting again) and its button is on while ``can_restart``; nothing goes back.
        The slider shows the progress and cannot be dragged.
        """
        self._run = True
        self._count = max(0, int(taken)) + 1
        self._step = self._count - 1
        self._can_grow, self._can_restart = bool(can_grow), bool(can_restart)
        self._text = None
        self._syncing = True
        try:
            self.slider.setRange(0, max(1, self._step))
            self.slider.setPageStep(max(1, self._count // 20))
        finally:
            self._syncing = False
        self._render()

    def show_step(self, step: int, text: str | None = None) -> None:
        """Show ``step`` as the current one; ``text`` replaces the position label's ``step 6 of 0–32``."""
        self._step = max(0, min(self._count - 1, int(step)))
        self._text = text
        self._render()

    def set_locked(self, on: bool) -> None:
        """Disable every control and every call (a quiz before its reveal); the label hides the length."""
        self.locked = bool(on)
        if on:
            self.pause()
        self._render()

    # -- the calls the Panel base class forwards -------------------------------------------------

    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    @property
    def speed(self) -> float:
        """Steps per second while playing."""
        return self._speeds[self._speed_index]

    @property
    def speeds(self) -> tuple[float, ...]:
        return self._speeds

    def play_pause(self) -> None:
        """Start playing (from the first step if at the last one), or pause."""
        if self.locked:
            return
        if self.playing:
            self.pause()
            return
        if self._run:
            if not self._can_grow:
                return
        elif self._step >= self._count - 1:
            self.step_requested.emit(0)
        self._set_playing(True)

    def play_from_start(self) -> None:
        self.pause()
        self.step_requested.emit(0)
        self._set_playing(True)

    def pause(self) -> None:
        self._set_playing(False)

    def step_by(self, delta: int) -> None:
        """Ask for the step ``delta`` away (clipped to the steps; a run only goes forward)."""
        delta = int(delta)
        if self.locked or (self._run and (delta < 0 or not self._can_grow)):
            return
        target = max(0, self._step + delta)
        if not self._run:
            target = min(self._count - 1, target)
        if target != self._step:
            self.step_requested.emit(target)

    def first(self) -> None:
        if not self.locked:
            self.step_requested.emit(0)

    def last(self) -> None:
        if self.locked or self._run:
            return
        self.pause()
        self.step_requested.emit(self._count - 1)

    def faster(self) -> None:
        self._set_speed(self._speed_index + 1)

    def slower(self) -> None:
        self._set_speed(self._speed_index - 1)

    def set_speeds(self, speeds: Sequence[float], speed: float) -> None:
        """Play at ``speed`` and move along ``speeds`` (a view whose steps go at another pace)."""
        self._speeds = tuple(speeds)
        self._set_speed(self._speeds.index(speed))

    # -- look ------------------------------------------------------------------------------------

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        apply_theme(self, theme)
        self.position.setFont(font(theme, bold=True))
        if self._big_handle:
            self.slider.setStyleSheet(slider_style(theme))
            self.slider.setMinimumHeight(round(theme.layout_width(4 + 2 * 6)) + 4)
        self._update_speed()

    # -- a model that holds the steps ----------------------------------------------------------------

    def follow(self, model, describe: Callable | None = None) -> None:
        """Show and move ``model``'s steps: ``model.step``, ``model.n_steps``, ``model.set_step(i)``.

        ``model.subscribe(listener)`` must call ``listener(model, changes)`` with
        ``"params"`` in ``changes`` when the number of steps may have changed and
        ``"step"`` when the step did. ``describe(model)``, when given, is the
        position label's text. Subclasses that draw more on a change override
        :meth:`_model_changed` and call it.
        """
        self._model, self._describe = model, describe
        self.step_requested.connect(self._move_model)
        subscribe(self, model, "_model_changed")
        self._model_changed(model, {"params"})

    def _move_model(self, step: int) -> None:
        self._model.set_step(step)

    def _model_changed(self, model, changes) -> None:
        if "params" in changes:
            self.set_steps(model.n_steps)
        if "params" in changes or "step" in changes:
            self.show_step(model.step, self._describe(model) if self._describe else None)

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
        self._speed_index = max(0, min(len(self._speeds) - 1, int(index)))
        if self.playing:
            self._timer.setInterval(self._interval_ms())
        self._update_speed()

    def _update_speed(self) -> None:
        self.speed_label.setText(f"{self.speed:g} steps/s")
        self.slower_button.setEnabled(self._speed_index > 0)
        self.faster_button.setEnabled(self._speed_index < len(self._speeds) - 1)

    def _can_advance(self) -> bool:
        return self._can_grow if self._run else self._step < self._count - 1

    def _tick(self) -> None:
        if not self._can_advance():
            self.pause()
            return
        self.step_requested.emit(self._step + 1)
        if not self._can_advance():
            self.pause()

    def _slider_moved(self, value: int) -> None:
        if not self._syncing and not self.locked and not self._run:
            self.step_requested.emit(value)

    def _render(self) -> None:
        """The slider, the position label and which controls work, for the step shown."""
        step = self._step
        self._syncing = True
        try:
            self.slider.setValue(step)
        finally:
            self._syncing = False
        if self.locked:
            # in a quiz the number of steps would hint at the answer (a failure stops early)
            text = f"step {step:,} of ?"
        elif self._run:
            text = f"step {step}"
        else:
            text = self._text if self._text is not None else step_label(step, self._count - 1)
        self.position.setText(text)
        if self._run:
            # a run only grows: nothing to go back to, and its end is wherever training stops
            on = {self.first_button: self._can_restart, self.back_button: False, self.play_button: self._can_grow,
                  self.forward_button: self._can_grow, self.last_button: False, self.slider: False}
        else:
            at_start, at_end = step <= 0, step >= self._count - 1
            on = {self.first_button: not at_start, self.back_button: not at_start, self.play_button: True,
                  self.forward_button: not at_end, self.last_button: not at_end, self.slider: True}
        for w, enabled in on.items():
            w.setEnabled(enabled and not self.locked)


__all__ = ["StepTimeline", "slider_style"]
