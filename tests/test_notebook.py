"""The notebook API (gpuviz.render, gpuviz.render_png): README's example as written, every panel model, bad input,
the IPython formatter, and ``import gpuviz`` staying free of Qt and numba."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import gpuviz
from gpuviz import notebook
from gpuviz.model.panel import ParamsError

ROOT = Path(__file__).resolve().parent.parent
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SMALL = (640, 360)


def readme_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## In a notebook\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 1, "README's 'In a notebook' section should hold one python block"
    return blocks[0]


def colours(picture: np.ndarray) -> int:
    return len(np.unique(picture.reshape(-1, 4), axis=0))


def test_the_readme_example_runs_as_written(qapp, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    names: dict = {}
    exec(compile(readme_example(), "README.md (In a notebook)", "exec"), names)
    picture, first, scene = names["picture"], names["first"], names["scene"]
    for p in (picture, first):
        assert p.shape == (720, 1280, 4) and p.dtype == np.uint8
        assert colours(p) > 20, "a blank or nearly blank picture"
        assert (p[:, :, 3] == 255).all()  # opaque: the panel's background is painted first
    assert (picture != first).any(), "step 0 and step 10 drew the same picture"
    assert scene.step == 10, "render moved the caller's model"
    pngs = list(tmp_path.glob("*.png"))
    assert len(pngs) == 1 and pngs[0].read_bytes().startswith(PNG_SIGNATURE)
    from PyQt6.QtGui import QImage

    image = QImage(str(pngs[0]))
    assert (image.width(), image.height()) == (1920, 1080)


def test_render_is_what_export_draws_for_the_same_scenario(qapp):
    from gpuviz.model import scenario as scenarios
    from gpuviz.ui import export

    scene = gpuviz.MatmulScene(gpuviz.MatmulParams(kernel="naive", m=16, n=16, k=16, block=(8, 8)))
    scene.set_step(5)
    drawn = gpuviz.render(scene, size=SMALL)
    via_export = export.image_to_array(export.render_frames(
        "matmul", scenarios.scenario_from_scene(scene, "Matmul on the GPU"), size=SMALL)[0])
    assert np.array_equal(drawn, via_export)


def test_a_scenario_renders_as_export_draws_it(qapp):
    from gpuviz.ui import export

    preset = gpuviz.load_scenario(ROOT / "assets" / "presets" / "10-quiz-a.toml")
    via_export = export.image_to_array(export.render_frames(preset.panel, preset, size=SMALL, theme="lecture")[0])
    assert np.array_equal(gpuviz.render(preset, size=SMALL, theme="lecture"), via_export)


def test_render_png_is_the_same_picture(qapp):
    from PyQt6.QtGui import QImage

    from gpuviz.ui.export import image_to_array

    state = gpuviz.BroadcastState(((5, 3), (3,)))
    data = gpuviz.render_png(state, step=1, size=SMALL)
    assert data.startswith(PNG_SIGNATURE)
    decoded = image_to_array(QImage.fromData(data, "PNG"))
    assert np.array_equal(decoded, gpuviz.render(state, step=1, size=SMALL))


def _speed_model():
    results = gpuviz.BenchResults.load(ROOT / "assets" / "results" / "speed-lecture-demo.json")
    model = gpuviz.SpeedModel()
    model.take(results)  # no file: render writes a temporary one for the scenario
    return model


@pytest.mark.parametrize("make", [
    lambda: gpuviz.BroadcastState(((5, 3, 2), (3, 1))),
    lambda: gpuviz.GradState("toy"),
    lambda: gpuviz.HardwareModel(),
    _speed_model,
], ids=["broadcast", "grad", "hardware", "speed"])
def test_every_panel_model_draws(qapp, make):
    model = make()
    picture = gpuviz.render(model, size=SMALL)
    assert picture.shape == (SMALL[1], SMALL[0], 4) and picture.dtype == np.uint8
    assert colours(picture) > 20
    dark = gpuviz.render(model, size=SMALL, theme="dark")
    assert dark.mean() < picture.mean(), "the dark theme drew a picture as light as the light one"


def test_the_step_is_the_models_own_unless_given(qapp):
    state = gpuviz.BroadcastState(((4, 3), (1, 3)))
    assert state.n_steps > 2
    state.set_step(state.n_steps - 1)
    last = gpuviz.render(state, size=SMALL)
    assert np.array_equal(last, gpuviz.render(state, step=state.n_steps - 1, size=SMALL))
    assert not np.array_equal(last, gpuviz.render(state, step=0, size=SMALL))
    assert state.step == state.n_steps - 1


@pytest.mark.parametrize("kwargs, words", [
    ({"model": object()}, "cannot draw a 'object' object"),
    ({"model": "matmul"}, "cannot draw a 'str' object"),
    ({"size": (0, 100)}, "out of range"),
    ({"size": (9000, 100)}, "out of range"),
    ({"size": "big"}, "picture size"),
    ({"theme": "pink"}, "unknown theme 'pink'"),
    ({"theme": "dark", "slide": True}, "light background"),
    ({"step": 10 ** 6}, "step 1000000 is out of range"),
    ({"step": -1}, "step -1 is out of range"),
    ({"step": 1.5}, "step must be a whole number"),
], ids=lambda v: str(v)[:40])
def test_bad_input_is_one_params_error(qapp, kwargs, words):
    args = {"model": gpuviz.MatmulScene(), "size": SMALL, **kwargs}
    with pytest.raises(ParamsError) as caught:
        gpuviz.render(**args)
    message = str(caught.value)
    assert words in message and "\n" not in message


def test_a_view_without_steps_refuses_a_step(qapp):
    with pytest.raises(ParamsError, match="no steps"):
        gpuviz.render(_speed_model(), step=0, size=SMALL)
    with pytest.raises(ParamsError, match="without results"):
        gpuviz.render(gpuviz.SpeedModel(), size=SMALL)


# -- IPython -------------------------------------------------------------------------------------


class FakeFormatter:
    def __init__(self):
        self.printers = {}

    def for_type(self, cls, func):
        self.printers[cls] = func


def fake_shell():
    formatter = FakeFormatter()
    return types.SimpleNamespace(display_formatter=types.SimpleNamespace(formatters={"image/png": formatter})), formatter


def test_enable_registers_a_png_formatter_for_every_panel_model(qapp):
    shell, formatter = fake_shell()
    assert notebook.enable(shell) is True
    for cls in (gpuviz.MatmulScene, gpuviz.BroadcastState, gpuviz.GradState, gpuviz.HardwareModel,
                gpuviz.SpeedModel):
        assert cls in formatter.printers, cls
    png = formatter.printers[gpuviz.BroadcastState](gpuviz.BroadcastState())
    assert png.startswith(PNG_SIGNATURE)


def test_enable_finds_a_running_ipython_and_never_imports_one(monkeypatch):
    shell, formatter = fake_shell()
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    assert notebook.enable() is True and gpuviz.MatmulScene in formatter.printers
    # IPython imported but not running (get_ipython() is None): nothing to register
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: None))
    assert notebook.enable() is False
    monkeypatch.delitem(sys.modules, "IPython")
    assert notebook.enable() is False
    assert "IPython" not in sys.modules


# -- a fresh interpreter -----------------------------------------------------------------------


def test_import_gpuviz_and_the_notebook_api_stay_free_of_qt_and_numba():
    code = (
        "import json, sys\n"
        "import gpuviz, gpuviz.notebook\n"
        "scene = gpuviz.MatmulScene(); state = gpuviz.BroadcastState(); f = gpuviz.render\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('PyQt6', 'pyqtgraph', 'numba', 'numba_cuda', 'llvmlite', 'IPython'))\n"
        "print(json.dumps(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_a_fresh_interpreter_without_a_display_renders_offscreen(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    code = ("import os, gpuviz\n"
            "a = gpuviz.render(gpuviz.HardwareModel(), size=(320, 180))\n"
            "print(a.shape, os.environ.get('QT_QPA_PLATFORM'))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT,
                         env={**env, "PYTHONPATH": str(ROOT)})
    if not sys.platform.startswith("linux"):
        pytest.skip("the offscreen default is for Linux without a display")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "(180, 320, 4) offscreen"


def test_unknown_attributes_are_attribute_errors():
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        gpuviz.nothing_here  # noqa: B018
    assert {"render", "render_png", "MatmulScene"} <= set(dir(gpuviz))
