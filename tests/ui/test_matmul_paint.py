"""What the matmul figure's paint shortcuts (issue 15: a step + repaint at 4K within one frame) must not change:
the block view copied from its picture draws exactly what painting it afresh draws, follows every change of
what it shows, and is not repainted by a step that changes nothing in it; C's labels measure their texts once
per label set and still decide as before; lecture mode's steps do not set the side column's style again."""

from dataclasses import replace

import numpy as np
import pytest
from PyQt6.QtCore import QBuffer, QByteArray, QEvent, QIODevice, QObject, QPoint, QSize
from PyQt6.QtGui import QFont, QFontMetricsF, QImage, QPainter, QTransform
from PyQt6.QtSvg import QSvgGenerator

from gpuviz.model.scene import MatmulParams, MatmulScene
from gpuviz.ui import theme as themes
from gpuviz.ui.matmul.block_view import BlockView
from gpuviz.ui.matmul.c_view import CellLabels

from . import layout_check as lc


def _scene(kernel="tiled"):
    # the corner block of a 30×28 C: idle threads beyond C, and in the tiled kernel steps that mask threads
    scene = MatmulScene(MatmulParams(kernel=kernel, m=30, n=28, k=4, block=(8, 8)))
    scene.select_thread((3, 3), (2, 1))
    return scene


def _pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_ARGB32)
    return np.frombuffer(image.constBits().asstring(image.sizeInBytes()), np.uint8).reshape(
        image.height(), image.width(), 4).copy()


def _rendered(view, ratio: float) -> np.ndarray:
    """The view rendered as an export renders it (into an image at ``ratio``): the copied picture."""
    image = QImage(round(view.width() * ratio), round(view.height() * ratio), QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(ratio)
    image.fill(0)
    p = QPainter(image)
    view.render(p, QPoint(0, 0))
    p.end()
    return _pixels(image)


def _afresh(view, ratio: float) -> np.ndarray:
    """The view painted straight onto an image at ``ratio``, with no picture in between."""
    image = QImage(round(view.width() * ratio), round(view.height() * ratio), QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(ratio)
    image.fill(0)
    p = QPainter(image)
    lay = view.layout()
    view._paint_picture(p, lay)
    view._paint_selection(p, lay)
    p.end()
    return _pixels(image)


@pytest.mark.parametrize("theme", [themes.LIGHT, themes.DARK, themes.lecture_theme(1080)], ids=["light", "dark", "lecture"])
@pytest.mark.parametrize("ratio", [1.0, 2.0])
def test_the_block_views_copy_is_its_paint_pixel_for_pixel(qtbot, theme, ratio):
    scene = _scene()
    scene.set_step(1)  # masked threads (veiled) besides the idle ones
    view = BlockView(scene, theme)
    qtbot.addWidget(view)
    view.resize(420, 520)
    assert view._masked().any() and view._idle().any()
    copied = _rendered(view, ratio)
    assert view._picture is not None and view._picture[1].devicePixelRatio() == ratio  # the copy was used
    assert np.array_equal(copied, _afresh(view, ratio))


def test_the_block_view_follows_each_change_as_a_new_view_draws_it(qtbot):
    scene = _scene()
    view = BlockView(scene, themes.LIGHT)
    qtbot.addWidget(view)
    view.resize(420, 520)
    _rendered(view, 2.0)  # the picture now holds the first state

    def check():
        fresh = BlockView(scene, view.theme)
        qtbot.addWidget(fresh)
        fresh.resize(view.size())
        assert np.array_equal(_rendered(view, 2.0), _rendered(fresh, 2.0))

    before = _rendered(view, 2.0)
    scene.set_step(1)  # other threads masked
    check()
    assert not np.array_equal(_rendered(view, 2.0), before)
    scene.select_thread((3, 3), (5, 6))  # another thread of the block: only the outline moves
    check()
    scene.select_thread((1, 2), (0, 0))  # another block: a new title, colour, no idle threads
    check()
    view.set_theme(themes.DARK)
    check()
    view.resize(360, 600)
    check()


def test_vector_output_gets_text_not_a_picture(qtbot):
    view = BlockView(_scene(), themes.LIGHT)
    qtbot.addWidget(view)
    view.resize(420, 520)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    gen = QSvgGenerator()
    gen.setOutputDevice(buffer)
    gen.setSize(QSize(420, 520))
    p = QPainter(gen)
    view.render(p, QPoint(0, 0))
    p.end()
    svg = bytes(data).decode()
    assert "<image" not in svg and ">63<" in svg and "lane 31" in svg


# (a rotated painter is no case: QWidget.render then renders into a pixmap of its own first, whatever paints)
@pytest.mark.parametrize("transform", [QTransform.fromScale(1.5, 1.5), QTransform.fromTranslate(0.25, 0.5)],
                         ids=["scaled", "half-pixel"])
def test_a_render_through_any_transform_draws_what_painting_afresh_draws(qtbot, transform):
    view = BlockView(_scene(), themes.LIGHT)
    qtbot.addWidget(view)
    view.resize(420, 520)
    images = []
    for direct in (False, True):
        image = QImage(700, 840, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(0)
        p = QPainter(image)
        p.setTransform(transform)
        if direct:
            view._paint_picture(p, view.layout())
            view._paint_selection(p, view.layout())
        else:
            view.render(p, QPoint(0, 0))
        p.end()
        images.append(_pixels(image))
    assert np.array_equal(*images)


class _Paints(QObject):
    def __init__(self):
        super().__init__()
        self.count = 0

    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


def _watched_block_view(qtbot, scene):
    """A shown BlockView of ``scene`` and a counter of its paint events from now on."""
    view = BlockView(scene, themes.LIGHT)
    qtbot.addWidget(view)
    view.resize(420, 520)
    view.show()
    qtbot.waitExposed(view)
    qtbot.wait(20)
    paints = _Paints()
    view.installEventFilter(paints)
    return view, paints


def test_a_step_that_changes_nothing_in_the_block_does_not_repaint_it(qtbot):
    scene = _scene("naive")  # the naive kernel masks the same (idle) threads in every step
    view, paints = _watched_block_view(qtbot, scene)
    for step in range(1, scene.n_steps):
        scene.set_step(step)
        qtbot.wait(5)
    assert paints.count == 0
    scene.select_thread((3, 3), (1, 1))
    qtbot.waitUntil(lambda: paints.count > 0)


def test_a_step_that_masks_other_threads_repaints_the_block(qtbot):
    scene = _scene("tiled")  # step 0 masks 40 threads of the corner block, step 1 masks 24
    view, paints = _watched_block_view(qtbot, scene)
    scene.set_step(1)
    qtbot.waitUntil(lambda: paints.count > 0)
    assert int(view._masked().sum()) == 24


def test_cell_labels_measure_the_widest_text_of_the_set_they_hold():
    labels = CellLabels()
    f = QFont()
    f.setPointSizeF(12)
    labels.set_labels([0, 1, 2], [0, 0, 0], ["7", "63", "5"], ["lane 7", "lane 31", ""], [(0, 0, 0)] * 3, f)
    fm = QFontMetricsF(f)
    small = QFont(f)
    small.setPointSizeF(12 * 0.9)
    assert labels.widest() == (fm.horizontalAdvance("63"), QFontMetricsF(small).horizontalAdvance("lane 31"))
    wide = fm.horizontalAdvance("63") + 2
    assert labels.fits(QTransform.fromScale(wide, fm.height()))
    assert not labels.fits(QTransform.fromScale(wide - 0.5, fm.height()))
    labels.set_labels([0], [0], ["1023"], [""], [(0, 0, 0)], f)  # a new set: measured again
    assert labels.widest() == (fm.horizontalAdvance("1023"), 0.0)
    assert not labels.fits(QTransform.fromScale(wide, fm.height()))


def test_a_lecture_step_sets_no_style_sheet_and_a_theme_still_restyles(qtbot):
    from gpuviz.ui.matmul.panel import MatmulPanel

    panel = MatmulPanel(theme=themes.lecture_theme(1080))
    qtbot.addWidget(panel)
    panel.set_lecture(True)
    panel.resize(1920, 1080)
    panel.show()
    qtbot.waitExposed(panel)
    lc.settle(panel)
    labels = (panel.slide_caption, panel.slide_step, panel.slide_source, panel.slide_note)
    calls = []
    for lab in labels:
        real = lab.setStyleSheet
        lab.setStyleSheet = lambda sheet, real=real: (calls.append(sheet), real(sheet))
    step_font = QFont(panel.slide_step.font())
    for _ in range(3):
        panel.step_by(1)
        lc.settle(panel)
    assert calls == [] and panel.slide_step.font() == step_font
    panel.set_theme(replace(themes.lecture_theme(1080), foreground=(250, 250, 250)))
    lc.settle(panel)
    assert "#fafafa" in panel.slide_step.styleSheet().lower()
    assert len(calls) >= len(labels)
