"""Adding a panel is a model, a view and a line in each half of the registry: a toy panel, defined here, shows up
in the window's tabs, opens from a scenario file, exports (one PNG, a GIF of its steps) and goes into a deck."""

from dataclasses import dataclass

import numpy as np
import pytest
from PyQt6.QtWidgets import QLabel, QVBoxLayout

from gpuviz.model import panel as tables
from gpuviz.model import registry as models
from gpuviz.model.events import Observable
from gpuviz.model.panel import ParamsError
from gpuviz.model.scenario import Scenario, ScenarioError, check_scenario, load_scenario
from gpuviz.ui import registry as views
from gpuviz.ui.deck import export_deck
from gpuviz.ui.export import export_panel, image_to_array, render_frames
from gpuviz.ui.panel import Panel, Roles
from gpuviz.ui.theme import LIGHT
from gpuviz.ui.timeline import StepTimeline


@dataclass(frozen=True)
class CountParams:
    """How far the toy counts."""

    n: int = 3

    @classmethod
    def from_dict(cls, params: dict) -> "CountParams":
        tables.table(params, "[params]", ("n",))
        n = tables.whole(params.get("n", 3), "[params] n", minimum=1)
        if n > 9:
            raise ParamsError(f"[params] n = {n}: the toy counts to 9 at most", "n")
        return cls(n)

    def to_dict(self) -> dict:
        return {"n": self.n}


class CountModel(Observable):
    """Steps 0 … n−1; emits "step"."""

    def __init__(self, params: CountParams = CountParams()):
        self.params, self.step = params, 0

    @property
    def n_steps(self) -> int:
        return self.params.n

    def set_step(self, step: int) -> None:
        step = max(0, min(self.n_steps - 1, int(step)))
        if step != self.step:
            self.step = step
            self.emit("step")


def _check(params, view, key_steps, quiz, budget):
    for ks in key_steps:
        if not 0 <= ks.step < params.n:
            raise ParamsError(f"[[key_steps]] step = {ks.step} is not one of the toy's steps 0 to {params.n - 1}")


class CountView(Panel):
    panel_id = "toy-count"
    title = "Toy counter"
    applied = 0  # scenarios applied, by every copy: an export builds the panel once and then moves its step

    def __init__(self, parent=None):
        super().__init__(parent)
        self.count = CountModel()
        self.label = QLabel()
        self.label.setStyleSheet("font-size: 40px;")
        self.timeline = StepTimeline(LIGHT, (1, 2), 1)
        self.timeline.follow(self.count)
        lay = QVBoxLayout(self)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.timeline)
        self.count.subscribe(lambda model, changes: self._draw())
        self._draw()

    @property
    def model(self):
        return self.count

    def _draw(self):
        # the figure is as many bars as the step says: pixels change with the step
        self.label.setText(f"step {self.count.step}: " + "█" * (self.count.step + 1))

    def roles(self) -> Roles:
        return Roles(figure=(self.label,), controls=(self.timeline,))

    def set_slide(self, on: bool) -> None:
        self.slide = bool(on)
        self.hide_for_slide(on)

    def scenario(self, title: str):
        return Scenario(self.panel_id, title, self.count.params, view={"step": self.count.step})

    def apply_scenario(self, scenario) -> None:
        check_scenario(scenario)
        CountView.applied += 1
        self.count.params = scenario.params
        self.count.step = -1  # always emit: the new params may have as many steps
        self.count.set_step(scenario.view.get("step", 0))

    def presets(self) -> list:
        return [Scenario(self.panel_id, "Count to three", CountParams(3))]


@pytest.fixture
def toy():
    models.register(models.PanelSpec("toy-count", "Toy counter", CountParams, CountModel,
                                     step_key=lambda view: "step", check=_check))
    views.register("toy-count", CountView)
    yield
    views.unregister("toy-count")
    models.unregister("toy-count")


TOML = """schema = 1
panel = "toy-count"
title = "Count to five"

[params]
n = {n}

[view]
step = 2

[[key_steps]]
step = 4
caption = "the last one"
"""


def test_a_registered_toy_panel_is_a_tab_opens_from_a_file_and_exports(toy, make_main_window, tmp_path, qtbot):
    window = make_main_window(restore=False)
    assert [p.panel_id for p in window.panels][-1] == "toy-count"
    assert window.tabs.tabText(window.tabs.count() - 1) == "Toy counter"

    path = tmp_path / "five.toml"
    path.write_text(TOML.format(n=5), encoding="utf-8")
    scenario = load_scenario(path)
    assert scenario.params == CountParams(5)  # typed by the toy's own params type
    assert window.open_scenario(path)
    toy_view = window.panel("toy-count")
    assert window.current_panel() is toy_view and toy_view.label.text().startswith("step 2:")

    # the toy's own sentence, named with its file, refused before the panel changes
    bad = tmp_path / "bad.toml"
    bad.write_text(TOML.format(n=12), encoding="utf-8")
    with pytest.raises(ScenarioError, match="the toy counts to 9 at most"):
        load_scenario(bad)
    assert not window.open_scenario(bad) and toy_view.label.text().startswith("step 2:")

    before = CountView.applied
    frames = render_frames("toy-count", scenario, size=(320, 180), steps=range(0, 5))
    assert CountView.applied == before + 1  # five frames, one scenario applied
    pictures = [image_to_array(f) for f in frames]
    assert len(pictures) == 5 and all(not np.array_equal(a, b) for a, b in zip(pictures, pictures[1:]))
    out = export_panel("toy-count", scenario, tmp_path / "toy.png", size=(320, 180), step=4)
    assert out.stat().st_size > 0

    result = export_deck([scenario], tmp_path / "deck", size=(320, 180))
    assert result.ok and [p.step for p in result.written] == [4]
    assert (tmp_path / "deck" / "five" / "step-004.png").exists()


def test_without_its_registration_the_toy_is_read_but_has_no_view(tmp_path):
    path = tmp_path / "five.toml"
    path.write_text(TOML.format(n=12), encoding="utf-8")
    scenario = load_scenario(path)  # a later panel's file: its tables kept as read, not checked
    assert scenario.params == {"n": 12} and views.view_class("toy-count") is None


def test_every_registered_view_declares_its_roles_and_the_slide_look_hides_all_but_the_figure(toy, qtbot):
    for pid in views.panel_ids():
        cls = views.view_class(pid)
        assert cls.roles is not Panel.roles, f"{pid}: declare roles() (figure, controls, details)"
        panel = cls()
        qtbot.addWidget(panel)
        panel.resize(1280, 720)
        panel.show()
        roles = panel.roles()
        assert roles.figure and roles.controls, pid
        every = (*roles.figure, *roles.controls, *roles.details)
        assert all(w is panel or panel.isAncestorOf(w) for w in every), pid
        shown = {w: w.isVisible() for w in roles.chrome}
        panel.set_slide(True)
        assert all(w.isVisible() for w in roles.figure), pid
        assert not any(w.isVisible() for w in roles.chrome), pid
        panel.set_slide(False)
        assert {w: w.isVisible() for w in roles.chrome} == shown, pid
        panel.shutdown()
