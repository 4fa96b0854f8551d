"""The shared step timeline (gpuviz.ui.timeline): steps, a growing run, a lock, speeds, following a model, look.

The panels' own tests cover it as each panel uses it (test_matmul_widgets, test_broadcast_panel,
test_grad_panel); these check the widget alone, with a plain list of steps or a tiny model behind it.
"""

import pytest
from PyQt6 import sip
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QLabel

from gpuviz.ui.theme import DARK, LECTURE, LIGHT
from gpuviz.ui.timeline import StepTimeline, slider_style

SPEEDS = (1, 2, 50, 100)


class Steps:
    """The smallest model :meth:`StepTimeline.follow` takes: a clipped step and listeners."""

    def __init__(self, n_steps: int):
        self.n_steps, self.step, self._listeners = n_steps, 0, []

    def subscribe(self, listener):
        self._listeners.append(listener)

    def unsubscribe(self, listener):
        self._listeners.remove(listener)

    def set_step(self, step: int):
        step = max(0, min(self.n_steps - 1, int(step)))
        if step != self.step:
            self.step = step
            for f in list(self._listeners):
                f(self, {"step"})

    def set_n_steps(self, n: int):
        self.n_steps, self.step = n, min(self.step, n - 1)
        for f in list(self._listeners):
            f(self, {"params"})


def made(qtbot, **kw) -> StepTimeline:
    tl = StepTimeline(LIGHT, SPEEDS, 2, **kw)
    qtbot.addWidget(tl)
    tl.resize(1000, 60)
    return tl


def requests(tl) -> list:
    asked = []
    tl.step_requested.connect(asked.append)
    return asked


def enabled(tl) -> dict:
    names = ("first_button", "back_button", "play_button", "forward_button", "last_button", "slider")
    return {n.removesuffix("_button"): getattr(tl, n).isEnabled() for n in names}


def test_controls_ask_for_steps_and_show_only_what_they_are_told(qtbot):
    tl = made(qtbot)
    asked = requests(tl)
    tl.set_steps(33)
    tl.show_step(6)
    assert tl.position.text() == "step 6 of 0–32" and tl.slider.maximum() == 32 and tl.slider.value() == 6
    qtbot.mouseClick(tl.forward_button, Qt.MouseButton.LeftButton)
    tl.step_by(-10)  # clipped to the first step
    tl.last()
    tl.first()
    tl.slider.setValue(20)
    assert asked == [7, 0, 32, 0, 20]
    assert tl.step == 6  # a request moves nothing until the owner shows the step it moved to
    tl.show_step(32, "the last line")
    assert tl.position.text() == "the last line" and tl.slider.value() == 32
    assert enabled(tl) == {"first": True, "back": True, "play": True, "forward": False, "last": False, "slider": True}
    tl.step_by(1)  # nothing past the end
    assert asked[-1] == 20
    tl.set_steps(10)  # fewer steps: the step shown is clipped, the label counts the new ones
    assert tl.step == 9 and tl.position.text() == "step 9 of 0–9"


def test_a_growing_run_goes_forward_only_and_first_starts_again(qtbot):
    tl = made(qtbot)
    asked = requests(tl)
    tl.set_run(0, can_grow=True, can_restart=True)
    assert tl.position.text() == "step 0" and (tl.slider.minimum(), tl.slider.maximum()) == (0, 1)
    assert enabled(tl) == {"first": True, "back": False, "play": True, "forward": True, "last": False, "slider": False}
    tl.step_by(3)
    tl.step_by(-1)
    tl.last()
    tl.slider.setValue(1)
    assert asked == [3]
    tl.set_run(3, can_grow=False, can_restart=True)  # e.g. diverged: no more steps, play refused
    assert tl.position.text() == "step 3" and tl.slider.value() == 3
    tl.step_by(1)
    tl.play_pause()
    assert asked == [3] and not tl.playing
    assert enabled(tl)["forward"] is False and enabled(tl)["play"] is False
    tl.first()
    assert asked == [3, 0]
    tl.set_run(0, can_grow=False, can_restart=False)
    assert not tl.first_button.isEnabled()


def test_a_locked_timeline_refuses_everything_and_hides_its_length(qtbot):
    tl = made(qtbot)
    asked = requests(tl)
    tl.set_steps(5)
    tl.set_locked(True)
    assert tl.position.text() == "step 0 of ?" and not any(enabled(tl).values())
    for call in (tl.play_pause, tl.first, tl.last, lambda: tl.step_by(1)):
        call()
    assert asked == [] and not tl.playing
    tl.set_locked(False)
    assert tl.position.text() == "step 0 of 0–4" and tl.forward_button.isEnabled()


def test_speeds_move_along_the_list_and_a_view_can_swap_it(qtbot):
    tl = made(qtbot)
    assert tl.speed == 2 and tl.speed_label.text() == "2 steps/s"
    for _ in range(5):
        tl.faster()
    assert tl.speed == 100 and not tl.faster_button.isEnabled() and tl.slower_button.isEnabled()
    tl.set_speeds((0.25, 0.5), 0.5)
    assert tl.speeds == (0.25, 0.5) and tl.speed_label.text() == "0.5 steps/s" and not tl.faster_button.isEnabled()
    tl.slower()
    tl.slower()
    assert tl.speed == 0.25 and not tl.slower_button.isEnabled()


def test_following_a_model_plays_to_its_end_and_lets_go_when_deleted(qtbot):
    model = Steps(4)
    tl = made(qtbot)
    tl.follow(model, describe=lambda m: f"line {m.step}")
    assert tl.position.text() == "line 0" and tl.slider.maximum() == 3
    tl.set_speeds(SPEEDS, 100)
    with qtbot.waitSignal(tl.playing_changed, timeout=2000) as started:
        tl.play_pause()
    assert started.args == [True] and tl.play_button.text() == "❚❚ Pause"
    with qtbot.waitSignal(tl.playing_changed, timeout=3000) as stopped:
        pass
    assert stopped.args == [False] and model.step == 3 and tl.position.text() == "line 3"
    assert tl.play_button.text() == "▶ Play"
    tl.play_pause()  # at the end, play starts over
    assert tl.playing and model.step == 0
    tl.last()  # End stops playing there
    assert not tl.playing and model.step == 3
    model.set_n_steps(2)
    assert tl.slider.maximum() == 1 and tl.step == 1 and tl.position.text() == "line 1"
    n = len(model._listeners)
    tl.deleteLater()
    qtbot.waitUntil(lambda: sip.isdeleted(tl), timeout=2000)
    model.set_step(0)  # a deleted timeline is never called, and the change drops its subscription
    assert len(model._listeners) == n - 1


def test_layouts_extras_and_themes(qtbot):
    row = made(qtbot)
    stacked = made(qtbot, stacked=True, margins=(6, 6, 6, 6))
    plain = made(qtbot, big_handle=False)
    extra = QLabel("a legend")
    stacked.add_below(extra)
    for tl in (row, stacked, plain):
        tl.show()
        qtbot.waitExposed(tl)
    # one row: the slider right of the label; stacked: the slider under the buttons, the extra under it
    assert row.slider.y() == pytest.approx(row.position.y(), abs=20) and row.slider.x() > row.position.x()
    assert stacked.slider.y() > stacked.play_button.y() + stacked.play_button.height() - 1
    assert extra.y() > stacked.slider.y()
    heights = {}
    for theme in (DARK, LECTURE, LIGHT):
        for tl in (row, stacked, plain):
            tl.set_theme(theme)
            assert tl.font().pointSizeF() == pytest.approx(10.0 * theme.font_scale)
            assert tl.palette().window().color().getRgb()[:3] == theme.background
            assert tl.position.font().bold()
        assert row.slider.styleSheet() == slider_style(theme) and plain.slider.styleSheet() == ""
        heights[theme.name] = row.slider.minimumHeight()
    # a projector's handle is larger: the slider makes room for it
    assert heights[LECTURE.name] > heights[LIGHT.name]
