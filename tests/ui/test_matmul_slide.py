"""The matmul panel's slide look at 1280×720 and 1920×1080: nothing cut short, the memory transactions beside
the figure where the scenario compares two kernels' traffic, and the normal panel back afterwards.

Model → widget → change → check: a preset is shown in slide mode at a slide's size, rendered (which settles
the layouts as an export does), and every piece of text on it is measured against the room it got.
"""

from dataclasses import replace

import pytest
from PyQt6.QtCore import QRect, Qt
from PyQt6.QtGui import QFontMetricsF
from PyQt6.QtWidgets import QLabel

from gpuviz.model.accesses import SECTOR_BYTES
from gpuviz.ui import theme as themes
from gpuviz.ui.export import render_widget
from gpuviz.ui.matmul.panel import MatmulPanel

COALESCING = "Coalescing"
LECTURE = "The lecture's grid"
TILED = "Tiles in shared memory"


def slide(qtbot, title_start, step=None, size=(1280, 720)):
    panel = MatmulPanel(theme=themes.SLIDE)
    qtbot.addWidget(panel)
    panel.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    scenario = next(p for p in panel.presets() if p.title.startswith(title_start))
    if step is not None:
        scenario = replace(scenario, view={**scenario.view, "step": step})
    panel.apply_scenario(scenario)
    panel.set_slide(True)
    caption = next((k.caption for k in scenario.key_steps if k.step == panel.scene.step), None)
    panel.set_caption(caption)
    panel.resize(*size)
    panel.show()
    render_widget(panel, *size)  # lays the panel out as an export does
    return panel, scenario


def _cut_labels(panel) -> list[str]:
    """Every shown QLabel whose text needs more room than it got (or that lies partly off the panel)."""
    bad = []
    inside = QRect(0, 0, panel.width(), panel.height())
    for lab in panel.findChildren(QLabel):
        if not lab.isVisible() or not lab.text():
            continue
        where = QRect(lab.mapTo(panel, lab.rect().topLeft()), lab.size())
        if not inside.contains(where):
            bad.append(f"off the panel: {lab.text()[:40]!r} at {where}")
        if lab.wordWrap():
            if lab.heightForWidth(lab.width()) > lab.height() + 1:
                bad.append(f"{lab.text()[:40]!r}: needs {lab.heightForWidth(lab.width())} px, has {lab.height()}")
        else:
            fm = QFontMetricsF(lab.font())
            lines = lab.text().split("\n")
            widest = max(fm.horizontalAdvance(t) for t in lines)
            if widest > lab.width() + 1 or fm.lineSpacing() * len(lines) > lab.height() + 2:
                bad.append(f"{lab.text()[:40]!r}: needs {widest:.0f}×{fm.lineSpacing() * len(lines):.0f} px, "
                           f"has {lab.width()}×{lab.height()}")
    return bad


@pytest.mark.parametrize("title, step, size", [(COALESCING, 0, (1280, 720)), (COALESCING, 5, (1280, 720)),
                                               (COALESCING, 64, (1280, 720)), (COALESCING, 0, (1920, 1080)),
                                               (LECTURE, 0, (1280, 720)), (TILED, 0, (1280, 720)),
                                               (TILED, 3, (1280, 720)), (TILED, 96, (1280, 720)),
                                               (TILED, 3, (1920, 1080))])
def test_nothing_on_the_slide_is_cut_short(qtbot, title, step, size):
    panel, _ = slide(qtbot, title, step, size)
    assert _cut_labels(panel) == []
    m = panel.matrices
    for t in (m.a_title, m.b_title, m.c_title):  # the matrices' titles wrap rather than elide
        lines = t.shown_lines()
        assert lines[0] == t.main and " ".join(lines[1:]) == t.sub, lines
        assert QFontMetricsF(t._sub_font).horizontalAdvance(max(lines[1:], key=len)) <= t.boundingRect().width()
    # C's index formulas, on as many lines as they need, each fits along its axis
    row_lines, col_lines = m.formula_labels()
    vb = m.c_plot.getViewBox()
    fm = QFontMetricsF(m._formula_font())
    assert max(fm.horizontalAdvance(t) for t in row_lines) < vb.height()
    assert max(fm.horizontalAdvance(t) for t in col_lines) < vb.width()
    # the figure stays the figure: C's view holds C's grid with square cells and little margin, and A and B
    # are as tall as the slide allows (together about half its height, where the text column took no width)
    rows, cols = m.grid.shape
    assert vb.width() / cols == pytest.approx(vb.height() / rows, rel=0.06)
    assert vb.height() + m.b_plot.getViewBox().height() > 0.48 * size[1]


def test_the_coalescing_slide_shows_the_warps_sectors_and_the_comparison(qtbot):
    panel, _ = slide(qtbot, COALESCING, 5)
    tv = panel.slide_transactions
    assert panel.shows_transactions() and tv is not None and tv.isVisible()
    m = panel.matrices
    # beside the figure, not over it
    assert tv.mapTo(panel, tv.rect().topLeft()).x() >= m.graphics.mapTo(panel, m.graphics.rect().topRight()).x()
    sc = panel.scene
    # the warp's requests are the model's, drawn: one strip per request, its sector count in its caption
    requests = sc.warp_requests()
    assert [r.array for r in tv.shown_requests()] == [r.array for r in requests] == ["A", "B"]
    for caption, req in zip(tv.strip_captions(), requests):
        n = len(req.sectors)
        assert f"{n} sector" in caption and f"{n * SECTOR_BYTES} bytes moved" in caption
    # the side-by-side comparison and its sentence, figure for figure from the model
    cmp = sc.compare()
    text = tv.compare_text()
    for t in (cmp.first, cmp.second):
        assert f"{t.loads.sectors:,}" in text and f"{t.loads.sectors_per_request:.2f}" in text
    lines = text.splitlines()
    assert lines[-2].startswith(cmp.first.kernel) and lines[-1].startswith(cmp.second.kernel)
    assert tv.sentence.isVisible() and tv.sentence.text() == cmp.sentence
    assert tv.note.isVisible()  # the sector-counting model says so
    assert panel.slide_note.isVisible() and "lockstep" in panel.slide_note.text()
    # stepping on changes the strips with the model
    panel.scene.set_step(sc.n_steps - 1)
    assert [r.array for r in tv.shown_requests()] == ["C"]
    assert _cut_labels(panel) == []


@pytest.mark.parametrize("title", [LECTURE, TILED])
def test_other_slides_keep_to_caption_step_and_source(qtbot, title):
    panel, _ = slide(qtbot, title, 0)
    assert panel.scene.compare_kernel is None and not panel.shows_transactions()
    assert panel.slide_transactions is None or not panel.slide_transactions.isVisible()
    assert panel.slide_step.isVisible() and panel.slide_source.isVisible() and panel.slide_note.isVisible()


def test_text_column_is_slide_sized_at_1080_and_shrinks_no_further_than_a_720_slide_allows(qtbot):
    big, _ = slide(qtbot, COALESCING, 0, (1920, 1080))
    assert big._text_scale == 1.0
    assert big.slide_caption.font().pointSizeF() == pytest.approx(
        themes.BASE_POINT_SIZE * themes.SLIDE_FONT_SCALE * 1.3)
    small, _ = slide(qtbot, COALESCING, 0, (1280, 720))
    assert 720 / 1080 - 1e-9 <= small._text_scale <= 1.0
    # the smallest text of the column, relative to the slide, is as large as the 1080 contract's 18 px
    px = small.slide_note.fontInfo().pixelSize()
    assert px / 720 >= 0.97 * themes.SLIDE_MIN_TEXT_PX / 1080


def test_slide_off_gives_the_normal_figure_back(qtbot):
    panel, _ = slide(qtbot, COALESCING, 5, (1920, 1080))
    assert not panel.matrices.note.isVisible()  # on the slide it is beside the figure
    panel.set_slide(False)
    m = panel.matrices
    assert m.note.isVisible() and not m.slide
    assert all(t.sub_lines == 1 for t in (m.a_title, m.b_title, m.c_title))
    assert not panel.slide_side.isVisible() and panel.transactions.scroll is not None
    assert panel.splitter.handleWidth() > 0
