"""Lecture mode of the matmul panel (issue 15, item 2): the figure fills the screen, large and legible, and
stays live; leaving it restores the panel exactly.

The panel is the window here (lecture mode's window is full screen, its menu and status bar hidden). The
share asked of it is 80 %, not 75 %: a tab bar the window may keep above it costs under 5 % of the height.
"""

import pytest
from PyQt6.QtCore import QPointF, QSize, Qt

from gpuviz.ui import theme as themes
from gpuviz.ui.matmul.panel import MatmulPanel

from . import layout_check as lc

SIZES = [(1024, 768), (1280, 720), (1366, 768), (1920, 1080)]
PRESETS = ["The lecture's grid", "One input", "A batch", "Tiles in shared memory", "Coalescing"]


def lecture_panel(qtbot, size, title=None):
    w, h = size
    panel = MatmulPanel(theme=themes.lecture_theme(h))
    qtbot.addWidget(panel)
    if title is not None:
        panel.apply_scenario(next(p for p in panel.presets() if p.title.startswith(title)))
    panel.set_lecture(True)
    panel.resize(w, h)
    panel.show()
    qtbot.waitExposed(panel)
    lc.settle(panel)
    return panel


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("title", PRESETS)
def test_the_figure_fills_the_screen_legibly(qtbot, size, title):
    panel = lecture_panel(qtbot, size, title)
    assert lc.figure_share(panel, panel) >= 0.80
    problems = lc.check_window(panel, panel, min_share=lc.MIN_FIGURE_SHARE, min_text=lc.min_text_px(size[1]))
    assert problems == []
    assert not panel.side_scroll.isVisible() and not panel.right.isVisible() and not panel.timeline.isVisible()


@pytest.mark.parametrize("size,least", [((1920, 1080), 16), ((1024, 768), 10), ((1280, 720), 10),
                                        ((1366, 768), 10)])
def test_the_lecture_grid_has_large_cells(qtbot, size, least):
    panel = lecture_panel(qtbot, size)  # the lecture's scene: 32×32 with 8×8 blocks
    vb = panel.matrices.c_plot.getViewBox()
    (x0, x1), (y0, y1) = vb.viewRange()
    cell_w, cell_h = vb.width() / (x1 - x0), vb.height() / (y1 - y0)
    assert min(cell_w, cell_h) >= least
    # the whole grid is on screen, and the block view beside it draws block 13's 64 threads
    assert x0 <= 0 and x1 >= 32 and y0 <= 0 and y1 >= 32
    bv = panel.matrices.block_view
    assert bv.isVisible() and bv.title_text() == "Block 13 · blockIdx (1, 3)"
    assert bv.layout()["cell"] >= least


def test_the_figure_stays_live_and_leaving_restores_the_panel(qtbot):
    panel = MatmulPanel(theme=themes.LIGHT)
    qtbot.addWidget(panel)
    panel.resize(1280, 720)
    panel.show()
    qtbot.waitExposed(panel)
    lc.settle(panel)
    before = (panel.splitter.sizes(), panel.right.sizes(), [w.isVisible() for w in panel.chrome_widgets()])
    panel.set_theme(themes.lecture_theme(720))
    panel.set_lecture(True)
    lc.settle(panel)
    s = panel.scene
    step = s.step
    panel.step_by(1)  # the step keys
    assert s.step == step + 1
    views = panel.matrices
    graphics = views.graphics
    pt = views.view_point_of_cell(2.5, 20.5)  # click a thread of C: block 2's thread (4, 2)
    qtbot.mouseClick(graphics.viewport(), Qt.MouseButton.LeftButton, pos=pt.toPoint())
    assert s.selected.block[:2] == (2, 0) and s.selected.thread[:2] == (4, 2)
    bv = views.block_view
    assert bv.title_text() == "Block 2 · blockIdx (2, 0)"
    qtbot.mouseClick(bv, Qt.MouseButton.LeftButton, pos=bv.cell_rect(7, 7).center().toPoint())
    assert s.selected.linear_id == 63
    assert bv.tooltip_for(7, 7).startswith("Thread 63 · lane 31 · warp 1")
    qtbot.mouseMove(bv, pos=bv.cell_rect(1, 1).center().toPoint())  # hovering is harmless
    assert bv.cell_at(QPointF(bv.cell_rect(1, 1).center())) == (1, 1)
    panel.set_theme(themes.LIGHT)  # the window gives the normal theme back, then leaves lecture mode
    panel.set_lecture(False)
    lc.settle(panel)
    assert panel.size() == QSize(1280, 720)
    after = (panel.splitter.sizes(), panel.right.sizes(), [w.isVisible() for w in panel.chrome_widgets()])
    assert after == before
    assert panel.slide_header.isHidden() and panel.slide_side.isHidden()


def test_splitter_sizes_are_kept_and_restored(qtbot):
    panel = MatmulPanel(theme=themes.LIGHT)
    qtbot.addWidget(panel)
    panel.resize(1600, 900)
    panel.show()
    qtbot.waitExposed(panel)
    total = sum(panel.splitter.sizes())
    target = [400, total - 1000, 600]
    panel.splitter.setSizes(target)
    panel.splitter.splitterMoved.emit(400, 1)
    assert panel.splitter.sizes() == target
    state = panel.save_state()
    panel.resize(1500, 880)  # a resize keeps the lecturer's sizes (in proportion), not the defaults
    lc.settle(panel)
    other = MatmulPanel(theme=themes.LIGHT)
    qtbot.addWidget(other)
    other.resize(1600, 900)
    other.show()
    qtbot.waitExposed(other)
    assert other.restore_state(state)
    lc.settle(other)
    assert other.splitter.sizes() == pytest.approx(target, abs=12)
    assert not other.restore_state(b"not a state") and not other.restore_state(b'{"main": [1, 2]}')
