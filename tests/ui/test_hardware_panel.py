"""The Hardware panel's view: draws its model, controls call the model, clicks select blocks, exports."""

import numpy as np
import pytest
from PyQt6.QtCore import QPointF, Qt

from gpuviz.model.hardware.panel import HardwareModel, HardwareParams
from gpuviz.model.scenario import load_presets
from gpuviz.ui import export as ex
from gpuviz.ui.hardware.panel import HardwarePanel


@pytest.fixture
def make_panel(qtbot):
    """Hardware panels that are closed and deleted at teardown while this fixture still holds them.

    (Left to the garbage collector, a panel's plot items could go before its views, which Qt then
    paints in a later test's event loop.)
    """
    from PyQt6.QtCore import QEvent
    from PyQt6.QtWidgets import QApplication

    made = []

    def make(*args, show=True, size=(1600, 900), slide=False, **kwargs):
        p = HardwarePanel(*args, **kwargs)
        made.append(p)
        p.set_slide(slide)
        p.resize(*size)
        if show:
            p.show()
            qtbot.waitExposed(p)
        return p

    yield make
    for p in made:
        p.shutdown()
        p.close()
        p.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    made.clear()


@pytest.fixture
def panel(make_panel):
    return make_panel()


def test_draws_the_model_and_follows_its_steps(panel):
    m = panel.model
    assert "62.06 waves" in panel.details.text() and "68 of 132 SMs idle" in panel.details.text()
    m.set_step(62)
    assert "wave 62 of 0–62" in panel.timeline.position.text()
    img = panel.grid.image.image
    m.set_step(0)
    assert not np.array_equal(img, panel.grid.image.image)  # the tail wave leaves most slots empty


def test_controls_call_the_model_and_refusals_show_inline(panel, qtbot):
    panel.regs_spin.setValue(128)
    assert panel.model.occupancy.active_blocks == 2
    assert "registers: 128 per thread" in panel.details.text()
    panel.block_edit.setText("64x64")
    panel.block_edit.editingFinished.emit()
    assert "1024 threads per block" in panel.message.message
    assert panel.model.params.block == (16, 16)
    panel.block_edit.setText("32x8")
    panel.block_edit.editingFinished.emit()
    assert panel.message.message == "" and panel.model.params.block == (32, 8)


def test_clicking_a_slot_selects_its_block(panel, qtbot):
    geo = panel.grid.geometry_
    y, x = geo.slot_origin(5, 3)
    scene_pos = panel.grid.image.mapToScene(QPointF(x + 2, y + 2))
    view_pos = panel.grid.mapFromScene(scene_pos)
    qtbot.mouseClick(panel.grid.viewport(), Qt.MouseButton.LeftButton, pos=view_pos)
    block = panel.model.frame().placement[5, 3]
    assert panel.model.selected_block == block
    assert f"#{block:,}" in panel.details.text()


def test_presets_apply_and_scenario_round_trips(panel):
    presets = panel.presets()
    assert [s.title for s in presets] == [s.title for s in load_presets("hardware")[0]]
    panel.apply_scenario(presets[1])
    assert panel.model.params.registers == 128 and panel.regs_spin.value() == 128
    s = panel.scenario("again")
    assert s.params == presets[1].params and s.view["step"] == panel.model.step


def test_slide_look_hides_the_controls_and_restores_them(panel):
    panel.set_slide(True)
    assert panel.side_scroll.isHidden() and panel.timeline.isHidden() and not panel.slide_title.isHidden()
    panel.set_slide(False)
    assert not panel.side_scroll.isHidden() and not panel.timeline.isHidden()


def test_export_of_the_tail_wave(qtbot, tmp_path):
    scenario = load_presets("hardware")[0][0]
    out = ex.export_panel("hardware", scenario, tmp_path / "hw.png", size=(1280, 720), step=62)
    from PIL import Image

    arr = np.asarray(Image.open(out).convert("RGB"))
    assert arr.shape == (720, 1280, 3) and len(np.unique(arr.reshape(-1, 3), axis=0)) > 20


def test_a_model_given_to_the_view_is_the_one_it_draws(make_panel):
    m = HardwareModel(HardwareParams(gpu="T4", kernel="tiled", block=(32, 32)))
    p = make_panel(m, show=False)
    assert p.model is m and "Tesla T4" in p.headline.text()


def test_in_the_window_it_follows_the_matmul_panel(main_window):
    matmul, hw = main_window.panel("matmul"), main_window.panel("hardware")
    scene = matmul.model
    scene.configure(m=64, n=48, k=16, block=(8, 8))
    assert hw.model.launch == scene.launch
    scene.select_thread((4, 2), (0, 0))
    assert hw.model.selected_block == hw.model.block_linear(4, 2)
    hw.model.select_block(hw.model.block_linear(1, 5))
    assert scene.selected.block[:2] == (1, 5)


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080), (2560, 1440)])
@pytest.mark.parametrize("look", ["light", "lecture", "slide"])
def test_layout_keeps_every_figure_whole_and_apart(make_panel, size, look):
    from PyQt6.QtCore import QRect
    from PyQt6.QtWidgets import QLabel

    from gpuviz.ui.theme import LECTURE, LIGHT

    p = make_panel(theme=LECTURE if look == "lecture" else LIGHT, size=size, slide=look == "slide")

    def rect(w):
        return QRect(w.mapTo(p, w.rect().topLeft()), w.size())

    panel_rect = p.rect()
    figures = [p.grid, p.roofline, p.banks, p.schedule_note, p.roofline_note, p.headline]
    for w in figures:
        r = rect(w)
        assert panel_rect.contains(r), (w, r, panel_rect)
        if isinstance(w, QLabel):  # its whole text shows: no line cut off
            assert r.height() >= w.heightForWidth(r.width()) - 1, (w.text(), r)
        else:
            assert r.height() >= 80 and r.width() >= 100, (w, r)
    assert rect(p.grid).height() >= 0.25 * size[1]
    # stacked top to bottom without overlapping
    order = [p.headline, p.grid, p.schedule_note, p.roofline, p.roofline_note]
    for upper, lower in zip(order, order[1:]):
        assert rect(upper).bottom() <= rect(lower).top(), (upper, lower)
    assert not rect(p.roofline).intersects(rect(p.banks))


def test_a_saved_run_shows_on_the_panel(panel, tmp_path):
    import json

    path = tmp_path / "r.hardware.json"
    path.write_text(json.dumps({"gpu": "NVIDIA H100 80GB HBM3", "date": "2026-12-01",
                                "kernels": [{"kernel": "naive", "block": [16, 16], "registers_per_thread": 40}],
                                "roofline": [{"kernel": "naive", "m": 4096, "n": 4096, "k": 4096, "block": [16, 16],
                                              "gflops": 1234.0}]}))
    panel.load_run(path)
    assert panel.regs_spin.specialValueText() == "from run (40)" and "as compiled" in panel.details.text()
    panel.load_run(tmp_path / "missing.hardware.json")
    assert "missing.hardware.json" in panel.message.message


def test_lecture_look_gives_the_figure_the_room_and_keeps_the_footnote_in_the_drawer(make_panel):
    from gpuviz.ui import theme as themes
    from tests.ui import layout_check as lc

    panel = make_panel(size=(1024, 768))
    panel.set_theme(themes.lecture_theme(768))
    panel.set_lecture(True)
    lc.settle(panel)
    assert panel.slide and panel.lecture
    assert panel.roofline_note.isHidden() and panel.slide_title.isHidden()
    assert panel.drawer_note.text() == panel.roofline_note.text() and not panel.drawer_note.isHidden()
    assert panel.side_scroll in panel.chrome_widgets()  # the drawer shows the side bar, the footnote with it
    assert lc.figure_share(panel, panel) >= lc.MIN_FIGURE_SHARE
    panel.set_lecture(False)
    assert not panel.slide and not panel.roofline_note.isHidden() and panel.drawer_note.isHidden()


@pytest.mark.parametrize("size", [(1024, 768), (1280, 720)])
def test_roofline_and_bank_text_is_whole_and_apart_on_a_small_screen(make_panel, size):
    from tests.ui import layout_check as lc

    panel = make_panel(size=size)
    for scenario in panel.presets():
        panel.apply_scenario(scenario)
        problems = lc.check_window(panel)
        assert problems == [], problems
        texts = {t.text for t in lc.texts_of(panel)}
        assert "ridge" not in " ".join(texts) or any(t.startswith("ridge ") for t in texts)


@pytest.mark.parametrize("theme_name", ["light", "dark", "lecture"])
def test_roofline_labels_read_at_wcag_aa(make_panel, theme_name):
    import pyqtgraph as pg

    from gpuviz.ui import theme as themes

    theme = themes.THEMES[theme_name]
    panel = make_panel()
    panel.set_theme(theme)
    labels = [i for i in panel.roofline.getPlotItem().items if isinstance(i, pg.TextItem)]
    assert len(labels) >= 4  # the kernels' three, the ridge, the compulsory line
    for label in labels:
        c = label.textItem.defaultTextColor()
        assert themes.contrast_ratio((c.red(), c.green(), c.blue()), theme.panel_background) >= 4.5, \
            label.textItem.toPlainText()
