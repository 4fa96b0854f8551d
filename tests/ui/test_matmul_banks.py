"""The matmul panel's "Banks" tab: the selected warp's shared-memory requests, drawn from the scene's model.

Model → widget → change the model → check the widget; the strip's colours are checked after a real paint.
"""

import os

import pytest

from gpuviz.model.hardware.banks import bank_conflicts, shipped_transpose_trace
from gpuviz.model.scene import MatmulParams, MatmulScene
from gpuviz.ui.matmul.banks_view import BankStrip, BanksView
from gpuviz.ui.style import mix, okabe
from gpuviz.ui.theme import DARK, LECTURE, LIGHT


def shown(qtbot, widget, size=(900, 700)):
    qtbot.addWidget(widget)
    widget.resize(*size)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def first_step(scene, role):
    return next(s for s in range(scene.n_steps) if scene.step_info(s).role == role)


def test_kernels_without_shared_memory_say_so(qtbot):
    scene = MatmulScene(MatmulParams(m=16, n=16, k=16, block=(8, 8), kernel="naive"))
    view = shown(qtbot, BanksView(scene, LIGHT))
    assert view.shown_requests() == []
    assert "uses no shared memory" in view.empty_text()


def test_tiled_kernel_shows_the_scenes_requests_and_follows_step_and_warp(qtbot):
    scene = MatmulScene(MatmulParams(m=64, n=64, k=64, block=(16, 16), kernel="tiled"))
    view = shown(qtbot, BanksView(scene, LIGHT))
    scene.set_step(first_step(scene, "multiply"))
    assert view.shown_requests() == scene.bank_requests()
    captions = view.strip_captions()
    assert [c.split("</b>")[0] for c in captions] == ["<b>sA · load", "<b>sB · load"]
    # warp 0 of a 16×16 block is rows 0 and 1: sA[ty, i] is 2 words for 32 lanes, a broadcast
    assert "2 distinct words" in captions[0] and "degree 1" in captions[0] and "broadcast" in captions[0]
    assert view.table.rowCount() == 64
    scene.select_warp((1, 2), 3)
    assert "warp 3 of block (1, 2)" in view.header.text()
    assert view.shown_requests() == scene.bank_requests()
    scene.set_step(first_step(scene, "sync_loaded"))
    assert view.shown_requests() == [] and "barrier" in view.empty_text()


def bank_fill(strip, bank, image):
    """The fill colour just inside a bank's box, away from its number."""
    rect = strip.geometry_of()["banks"][bank]
    ratio = image.devicePixelRatio()
    c = image.pixelColor(int((rect.left() + 3) * ratio), int((rect.top() + 3) * ratio))
    return c.red(), c.green(), c.blue()


@pytest.mark.parametrize("theme", [LIGHT, DARK, LECTURE], ids=lambda t: t.name)
def test_a_conflicted_bank_is_vermillion_and_counted_a_clean_one_sky_blue(qtbot, theme):
    bc = bank_conflicts(shipped_transpose_trace(False))
    worst = int(bc.degree.argmax())
    req = bc.request(worst)
    assert req["degree"] == 32
    strip = BankStrip()
    strip.set_theme(theme)
    strip.set_request(req, 32)
    shown(qtbot, strip, (900, strip.height()))
    image = strip.grab().toImage()
    if os.environ.get("GPUVIZ_SHOT_DIR"):
        image.save(os.path.join(os.environ["GPUVIZ_SHOT_DIR"], f"bank-strip-{theme.name}.png"))
    hot = req["banks"][0]
    r, g, b = bank_fill(strip, hot, image)
    assert r > g + 40 and r > b + 40  # vermillion (213, 94, 0), mixed with the background
    cold = next(i for i in range(32) if req["words_per_bank"][i] == 0)
    assert bank_fill(strip, cold, image) == tuple(theme.panel_background)
    padded = bank_conflicts(shipped_transpose_trace(True)).request(worst)
    strip.set_request(padded, 32)
    image = strip.grab().toImage()
    r, g, b = bank_fill(strip, padded["banks"][0], image)
    assert b > r + 20  # sky blue (86, 180, 233)
    assert mix(okabe("sky_blue"), theme.panel_background, 0.5) != tuple(theme.panel_background)


def test_matmul_panel_has_the_banks_tab_beside_memory_transactions(qtbot):
    from gpuviz.ui.matmul.panel import MatmulPanel

    panel = MatmulPanel(theme=LIGHT)
    qtbot.addWidget(panel)
    tabs = panel.tabs
    assert tabs.tabText(tabs.indexOf(panel.banks)) == "Banks"
    assert tabs.indexOf(panel.banks) == tabs.indexOf(panel.transactions) + 1
