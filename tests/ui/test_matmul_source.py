"""The kernel source pane never hides the line the step executes (issue 15, item 6): at any width the pane
gets, in the normal and the lecture theme, the executed line is wholly inside the editor's viewport."""

import pytest

from gpuviz.model.matmul import KERNELS
from gpuviz.model.scene import MatmulParams, MatmulScene
from gpuviz.ui import theme as themes
from gpuviz.ui.matmul.source_view import MIN_FONT_SCALE, SourceView


@pytest.mark.parametrize("theme", [themes.LIGHT, themes.lecture_theme(720), themes.lecture_theme(1080)],
                         ids=["light", "lecture720", "lecture1080"])
@pytest.mark.parametrize("width", [160, 260, 420, 700, 1100])
@pytest.mark.parametrize("kernel", KERNELS)
def test_every_executed_line_is_wholly_visible(qtbot, kernel, width, theme):
    if width < 200 and theme.name == "lecture":
        pytest.skip("a 160-px pane holds about ten characters of the lecture font: narrower than an indentation")
    scene = MatmulScene(MatmulParams(kernel=kernel, m=16, n=16, k=16, block=(8, 8)))
    view = SourceView(scene, theme)
    qtbot.addWidget(view)
    view.resize(width, 320)
    view.show()
    qtbot.waitExposed(view)
    lines = sorted({scene.step_info(s).line: s for s in range(scene.n_steps)}.items())
    assert len(lines) >= 2
    for line, step in lines:
        scene.set_step(step)
        qtbot.wait(1)
        assert view.highlighted_line == line
        assert view.line_visible(line), (kernel, width, line, view.font_scale, view.wraps)
    assert view.font_scale >= MIN_FONT_SCALE


def test_the_font_shrinks_then_the_view_scrolls_to_the_expression_then_lines_wrap(qtbot):
    scene = MatmulScene(MatmulParams(kernel="naive", m=16, n=16, k=16, block=(8, 8)))
    view = SourceView(scene, themes.LIGHT)
    qtbot.addWidget(view)
    view.resize(1400, 300)
    view.show()
    qtbot.waitExposed(view)
    assert view.font_scale == 1.0 and not view.wraps
    assert view.editor.horizontalScrollBar().value() == 0
    view.resize(300, 300)  # the docstring's long lines do not fit even at the floor: the view scrolls sideways
    qtbot.wait(1)
    line = scene.step_info().line
    assert view.font_scale == MIN_FONT_SCALE and not view.wraps
    assert view.editor.horizontalScrollBar().value() > 0 and view.line_visible(line)
    view.resize(150, 300)  # narrower than the executed expression itself: lines wrap
    qtbot.wait(1)
    assert view.wraps and view.line_visible(line)
    view.resize(1400, 300)
    qtbot.wait(1)
    assert view.font_scale == 1.0 and not view.wraps and view.editor.horizontalScrollBar().value() == 0
