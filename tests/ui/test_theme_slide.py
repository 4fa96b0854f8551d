"""The slide look of every panel, steps labelled from 0, and line widths that follow an export's pixel ratio.

Model → widget → change → check: each panel shows a scenario, goes into slide
mode and back, and is rendered at device pixel ratio 1 and 2 with the theme an
export passes (``replace(theme, line_scale=theme.line_scale * dpr)``).
"""

from dataclasses import replace

import numpy as np
import pytest
from PyQt6.QtCore import QPoint, Qt
from PyQt6.QtGui import QFontInfo

from gpuviz.ui import theme as themes
from gpuviz.ui.export import image_to_array, panel_class
from gpuviz.ui.main_window import render_widget
from gpuviz.ui.panel import Panel, step_label

PANELS = ("matmul", "broadcast", "grad")
#: (panel, preset title start, view overrides): a scene with steps for each panel
SCENES = {"matmul": ("The lecture's grid", {"step": 3}),
          "broadcast": ("Slide: (4, 3) + (1, 3)", {"step": 3}),
          "grad": ("A batch gradient", {"batch_step": 5})}


def make(qtbot, panel_id, theme=themes.LIGHT, size=(1920, 1080)):
    panel = panel_class(panel_id)()
    qtbot.addWidget(panel)
    panel.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    panel.set_theme(theme)
    start, view = SCENES[panel_id]
    scenario = next(p for p in panel.presets() if p.title.startswith(start))
    panel.apply_scenario(replace(scenario, view={**scenario.view, **view}))
    panel.resize(*size)
    panel.show()
    return panel, scenario


def pixels(panel, dpr=1.0, size=(1920, 1080)):
    return image_to_array(render_widget(panel, *size, dpr))[:, :, :3].astype(int)


# -- themes ------------------------------------------------------------------------------------------


def test_slide_theme_and_layout_line_scale():
    s = themes.SLIDE
    assert themes.THEMES["slide"] is s and not s.dark
    assert s.font_scale == pytest.approx(1.3) and s.line_scale == pytest.approx(1.5)
    # an export at ratio 2 doubles the pens, not the layout sizes
    x2 = replace(s, line_scale=s.line_scale * 2)
    assert x2.pen_width(2) == pytest.approx(6.0) and x2.layout_width(2) == pytest.approx(3.0)
    assert x2.pixel_ratio == pytest.approx(2.0) and s.pixel_ratio == pytest.approx(1.0)
    assert themes.LECTURE.layout_width(1) == pytest.approx(2.0)
    # slide mode keeps colours and lines and makes the smallest text (0.9 × body) at least 18 px at 96 dpi
    look = themes.slide_look(s)
    assert look.line_scale == s.line_scale and look.background == s.background
    assert 0.9 * themes.BASE_POINT_SIZE * look.font_scale * 96 / 72 >= themes.SLIDE_MIN_TEXT_PX
    assert themes.slide_look(themes.LECTURE) is themes.LECTURE  # already large enough


def test_base_panel_requires_set_slide(qtbot):
    p = Panel()
    qtbot.addWidget(p)
    with pytest.raises(NotImplementedError):
        p.set_slide(True)
    p.set_caption("a caption")
    assert p.caption == "a caption"
    p.set_caption("")
    assert p.caption is None


# -- steps from 0 ------------------------------------------------------------------------------------


def test_step_labels_count_from_zero(qtbot):
    assert step_label(6, 32) == "step 6 of 0–32"
    matmul, _ = make(qtbot, "matmul")
    matmul.timeline.first()
    assert matmul.timeline.description.text().startswith("step 0 of 0–32 ·")
    matmul.step_by(6)
    assert matmul.timeline.description.text().startswith("step 6 of 0–32 ·")
    assert matmul.numbers.step_box.title().startswith("This step · step 6 of 0–32")

    broadcast, _ = make(qtbot, "broadcast")
    last = broadcast.state.n_steps - 1
    assert broadcast.timeline.position.text() == f"step 3 of 0–{last}"
    assert broadcast.step_title.text().startswith(f"Step 3 of 0–{last}: ")
    broadcast.first_step()
    assert broadcast.timeline.position.text() == f"step 0 of 0–{last}"

    grad, _ = make(qtbot, "grad")
    assert grad.timeline.position.text() == f"step 5 of 0–{grad.state.B}"
    assert "shown: example 4, added by step 5" in grad.batch_title.text()


# -- slide look --------------------------------------------------------------------------------------


@pytest.mark.parametrize("panel_id", PANELS)
def test_slide_shows_the_figure_alone_and_restores_the_panel(qtbot, panel_id):
    panel, scenario = make(qtbot, panel_id, themes.SLIDE)
    before = pixels(panel)
    chrome = [panel.side_scroll, panel.timeline]
    assert all(w.isVisible() for w in chrome)

    panel.set_slide(True)
    panel.set_caption("A caption for this key step.")
    after = pixels(panel)
    assert panel.slide
    assert not any(w.isVisible() for w in chrome)
    assert panel.slide_title.isVisible() and panel.slide_title.text() == scenario.title
    assert panel.slide_caption.isVisible() and panel.slide_caption.text() == "A caption for this key step."
    for label in (panel.slide_title, panel.slide_caption):
        assert QFontInfo(label.font()).pixelSize() >= themes.SLIDE_MIN_TEXT_PX
    assert np.abs(after - before).mean() > 5  # a different picture, not the panel with bits hidden
    if panel_id != "broadcast":  # broadcast's step is in its own (kept) title
        assert panel.slide_step.isVisible() and "step " in panel.slide_step.text()

    panel.set_caption(None)
    assert not panel.slide_caption.isVisible()
    panel.set_slide(False)
    assert not panel.slide and all(w.isVisible() for w in chrome)
    assert not panel.slide_title.isVisible()
    restored = pixels(panel)
    # the same picture; only the matmul kernel source's horizontal scroll bar may differ by a few pixels
    # (QPlainTextEdit widens its scroll range as it lays out the lines it has shown, lazily)
    changed = np.abs(restored - before).max(axis=2) > 0
    assert changed.mean() < 0.001
    if panel_id == "matmul":
        m = panel.matrices
        top_left = m.mapTo(panel, QPoint(0, 0))
        assert not changed[top_left.y():top_left.y() + m.height(), top_left.x():top_left.x() + m.width()].any()
    else:
        assert not changed.any()


def test_matmul_slide_follows_the_step(qtbot):
    panel, _ = make(qtbot, "matmul", themes.SLIDE)
    panel.set_slide(True)
    panel.first_step()
    assert panel.slide_step.text().startswith("step 0 of 0–32")
    line = panel.scene.step_info().line
    code = panel.scene.source().splitlines()[line - 1].strip()
    assert panel.slide_source.text().endswith(code) and f"line {line}" in panel.slide_source.text()
    panel.last_step()
    assert panel.slide_step.text().startswith("step 32 of 0–32") and "write C" in panel.slide_step.text()
    # the figure's own text is slide-sized too: the legend and the axes' ticks
    assert panel.matrices.legend.theme.font_scale >= themes.SLIDE_FONT_SCALE


# -- line widths at a device pixel ratio ---------------------------------------------------------------


def _dark_run(row: np.ndarray) -> int:
    """Length of the longest run of dark pixels in a row of RGB values."""
    dark = (row < 90).all(axis=1)
    best = run = 0
    for d in dark:
        run = run + 1 if d else 0
        best = max(best, run)
    return best


def test_block_lines_are_twice_as_thick_at_ratio_2(qtbot):
    # a line scale that makes the block lines (1.6 px at scale 1) exactly 2 px wide at ratio 1
    base = replace(themes.LIGHT, line_scale=1.25, layout_line_scale=1.25)
    widths = []
    for dpr in (1, 2):
        panel, _ = make(qtbot, "matmul", replace(base, line_scale=base.line_scale * dpr))
        img = pixels(panel, dpr)
        m = panel.matrices
        # the vertical boundary between blocks (0, 0) and (1, 0) at x = col 8, half-way down the first block
        pt = m.graphics.mapTo(panel, m.view_point_of_cell(4.5, 8).toPoint())
        y, x = round(pt.y() * dpr), round(pt.x() * dpr)
        widths.append(_dark_run(img[y, x - 6 * dpr:x + 6 * dpr]))
    assert widths == [2, 4]


@pytest.mark.parametrize("panel_id", PANELS)
def test_ratio_2_is_the_ratio_1_picture_sharper(qtbot, panel_id):
    """Layout and line proportions at ratio 2 match ratio 1: averaging 2×2 pixels gives back nearly the same
    picture (text and antialiased edges differ a little; a shifted layout or lines half as thick would not)."""
    one, _ = make(qtbot, panel_id, themes.SLIDE)
    small = pixels(one, 1.0)
    two, _ = make(qtbot, panel_id, replace(themes.SLIDE, line_scale=themes.SLIDE.line_scale * 2))
    big = pixels(two, 2.0)
    pooled = big.reshape(1080, 2, 1920, 2, 3).mean(axis=(1, 3))
    diff = np.abs(pooled - small)
    # measured: matmul 3.3 and 1.1 %, broadcast 1.0 and 0.2 %, grad 1.5 and 0.4 %; a layout sized by the
    # export's line scale (the slider, the phase strip) gave 17 and 7.5 % (matmul), 4.0 and 1.7 % (broadcast)
    assert diff.mean() < 3.8, diff.mean()
    assert (diff.max(axis=2) > 96).mean() < 0.013


def test_render_shows_its_point(qtbot):
    # the helper above maps widget points correctly: a point of C's first block is that block's colour
    panel, _ = make(qtbot, "matmul")
    img = pixels(panel)
    m = panel.matrices
    pt = m.graphics.mapTo(panel, m.view_point_of_cell(2.5, 2.5).toPoint())
    assert isinstance(pt, QPoint)
    rgb = tuple(img[pt.y(), pt.x()])
    assert rgb == tuple(int(v) for v in themes.block_palette(themes.LIGHT)[0][:3])
