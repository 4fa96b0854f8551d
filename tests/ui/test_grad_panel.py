"""The weight-gradient panel: click an entry and read δ_i·x_j, train, bad input, divergence, batch sum, matmul link."""

import re

import numpy as np
import pytest
from PyQt6.QtCore import QPoint, Qt
from PyQt6.QtGui import QFontMetricsF

from gpuviz.model import dense
from gpuviz.model.digits import load_digits
from gpuviz.model.grad_panel import GradState, rich_text
from gpuviz.model.scenario import Scenario, load_scenario, presets_dir
from gpuviz.model.scene import SceneError
from gpuviz.ui import theme as themes
from gpuviz.ui.grad.canvas import ColourBar, MatrixView, TileView, diverging_lut
from gpuviz.ui.grad.panel import GradPanel


@pytest.fixture
def panel(qtbot):
    p = GradPanel()
    qtbot.addWidget(p)
    p.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    p.resize(1920, 1080)
    p.show()
    yield p
    p.shutdown()


def digits_scenario(view="train", **params):
    base = {"layer": "digits", "seed": 0, "alpha": 0.5, "batch": 64}
    base.update(params)
    return Scenario("grad", "test", base, view={"view": view})


def cell_centre(view, i, j) -> QPoint:
    rect = view._matrix_rect()
    r, c = view.values.shape
    return QPoint(int(rect.left() + (j + 0.5) * rect.width() / c), int(rect.top() + (i + 0.5) * rect.height() / r))


def test_clicking_a_toy_entry_shows_delta_times_x_with_the_models_numbers(panel, qtbot):
    layer, x, label = dense.toy_layer(0)
    g = layer.backward(x, [label])
    qtbot.mouseClick(panel.grad_matrix, Qt.MouseButton.LeftButton, pos=cell_centre(panel.grad_matrix, 2, 5))
    assert panel.state.selected == (2, 5)
    p = layer.forward(x).p
    delta, xj = g.dz[0, 2], x[5]
    text = panel.story_label.plain()
    assert text.startswith("∂L/∂W[2,5] = δ_2 · x_5 = (")
    # shown typeset: real subscripts, not "δ_2"
    shown = panel.story_label.shown()
    assert re.search(r'δ<span style="vertical-align:sub;[^"]*">2</span> · x<span style="vertical-align:sub;[^"]*">5<',
                     shown) and "_" not in shown, shown
    assert f"{p[2]:.4g}" in text and f"{delta * xj:.4g}" in text.split("=")[-1]
    assert np.isclose(delta, p[2] - (label == 2))
    # both factors are highlighted: δ's row 2 and xᵀ's column 5, and the clicked cell
    assert panel.delta_col.rows == {2}
    assert panel.xT_row.cols == {5}
    assert panel.grad_matrix.cells == {(2, 5)}
    assert panel.story_label.isVisible()
    assert panel.grad_matrix.tooltip(2, 5).endswith("(click to explain)")
    assert panel.grad_matrix.tooltip(2, 5).startswith("∇<sub>W</sub> L")


def test_clicking_a_digit_pixel_selects_row_and_pixel(panel, qtbot):
    panel.apply_scenario(Scenario("grad", "t", {"layer": "digits", "seed": 0}, view={"view": "layer"}))
    tiles = panel.grad_tiles
    assert tiles.isVisible() and not panel.grad_matrix.isVisible()
    rect = tiles._tile_rect(3)
    px = rect.width() / 28
    qtbot.mouseClick(tiles, Qt.MouseButton.LeftButton,
                     pos=QPoint(int(rect.left() + 14.5 * px), int(rect.top() + 10.5 * px)))
    assert panel.state.selected == (3, 10 * 28 + 14)
    story = panel.state.story()
    assert story.value == pytest.approx(panel.state.dW[3, 294])
    assert story.value == pytest.approx(story.delta * story.x)
    # hovering names the entry, its pixel and its value
    assert tiles.tooltip(3, 294).startswith(rich_text(f"{tiles.name}[3,294] (pixel row 10, column 14) = "))


def test_a_few_training_steps_lower_the_loss_and_update_the_plot(panel):
    panel.apply_scenario(digits_scenario())
    W0 = panel.state.W.copy()
    for _ in range(20):
        panel.step_by(1)
    steps, loss, acc = panel.state.history()
    assert len(steps) == 20
    assert loss[-5:].mean() < loss[0]
    x, y = panel.loss_curve.getData()
    np.testing.assert_array_equal(y, loss)
    assert not np.array_equal(panel.state.W, W0)
    np.testing.assert_array_equal(panel.train_W.values, panel.state.W)
    assert "Step 20" in panel.train_title.text()


def test_play_trains_until_paused(panel, qtbot):
    panel.apply_scenario(digits_scenario())
    panel.play_pause()
    assert panel.playing
    qtbot.waitUntil(lambda: len(panel.state.records) >= 3, timeout=5000)
    panel.play_pause()
    assert not panel.playing


@pytest.mark.parametrize("text", ["0", "-1", "abc", "nan", ""])
def test_bad_alpha_shows_an_inline_message_and_keeps_the_picture(panel, text):
    panel.apply_scenario(digits_scenario())
    panel.step_by(1)
    W = panel.state.W.copy()
    panel.alpha_field.setText(text)
    panel.alpha_field.editingFinished.emit()
    assert panel.alpha_message.isVisible()
    assert "α" in panel.alpha_message.message
    assert panel.state.alpha == 0.5
    np.testing.assert_array_equal(panel.state.W, W)
    panel.alpha_field.setText("0.25")
    panel.alpha_field.editingFinished.emit()
    assert not panel.alpha_message.isVisible()
    assert panel.state.alpha == 0.25


@pytest.mark.parametrize("text", ["0", "100000", "2.5"])
def test_bad_batch_shows_an_inline_message(panel, text):
    panel.apply_scenario(digits_scenario())
    panel.batch_field.setText(text)
    panel.batch_field.editingFinished.emit()
    assert panel.batch_message.isVisible() and "batch" in panel.batch_message.message
    assert panel.state.batch == 64


def test_a_diverging_alpha_is_explained_and_play_stops(panel, qtbot):
    panel.apply_scenario(digits_scenario(alpha=20))
    panel.play_pause()
    qtbot.waitUntil(lambda: panel.state.diverged, timeout=5000)
    qtbot.waitUntil(lambda: not panel.playing, timeout=2000)
    assert panel.diverged_label.isVisible()
    assert "Diverged" in panel.diverged_label.message and "α" in panel.diverged_label.message
    # the last good picture: finite weights and a finite curve
    assert np.isfinite(panel.train_W.values).all()
    _x, y = panel.loss_curve.getData()
    assert y is not None and np.isfinite(y).all()
    assert not panel.timeline.play_button.isEnabled()
    panel.step_by(1)  # refused quietly: the run stays stopped
    assert panel.state.diverged
    panel.reset()
    assert not panel.state.diverged and not panel.diverged_label.isVisible()


def test_the_batch_accumulation_equals_the_matrix_product(panel):
    panel.apply_scenario(Scenario("grad", "t", {"layer": "digits", "seed": 3, "batch": 12},
                                  view={"view": "batch"}))
    st = panel.state
    assert st.B == 12
    panel.step_by(5)
    assert st.batch_step == 5
    d = load_digits()
    X, labels = st.x_all, st.labels
    Y = np.eye(10)[labels]
    P = dense.digits_layer(3).forward(X).p
    partial = (P[:5] - Y[:5]).T @ X[:5] / 12
    np.testing.assert_allclose(panel.acc_tiles.values, partial, atol=1e-12)
    panel.last_step()
    np.testing.assert_allclose(panel.acc_tiles.values, (P - Y).T @ X / 12, atol=1e-12)
    assert "(10, 12)·(12, 784)" in panel.product_label.text()
    assert X.shape == (12, 784) and d.train_x.shape[1] == 784


def test_open_in_matmul_configures_the_matmul_panel(make_main_window):
    window = make_main_window()
    grad = window.panel("grad")
    assert grad is not None
    grad.apply_scenario(Scenario("grad", "t", {"layer": "digits", "seed": 0, "batch": 8}, view={"view": "batch"}))
    window.tabs.setCurrentWidget(grad)
    grad.matmul_button2.click()
    matmul = window.panel("matmul")
    # 10×784×8 fits the default budget: the matmul tab opens on the same shapes
    assert window.tabs.currentWidget() is matmul, grad.matmul_message2.message
    p = matmul.scene.params
    assert (p.m, p.n, p.k) == (10, 784, 8)


def test_open_in_matmul_shows_a_refusal_inline(make_main_window, monkeypatch):
    window = make_main_window()
    grad, matmul = window.panel("grad"), window.panel("matmul")
    window.tabs.setCurrentWidget(grad)

    def refuse(**_changes):
        raise SceneError("m", "too big for the memory budget")

    monkeypatch.setattr(matmul.scene, "configure", refuse)
    assert grad.open_in_matmul() is False
    assert window.tabs.currentWidget() is grad
    assert "too big for the memory budget" in grad.matmul_message.message


def test_open_in_matmul_outside_the_window_says_so(panel):
    panel.apply_scenario(digits_scenario(view="batch"))
    assert panel.open_in_matmul() is False
    assert "matmul panel" in panel.matmul_message.message


@pytest.mark.parametrize("name", ["light", "dark", "lecture"])
def test_themes_reach_the_views_and_the_plot(panel, name):
    theme = themes.THEMES[name]
    panel.apply_scenario(digits_scenario())
    panel.step_by(1)
    panel.set_theme(theme)
    assert panel.train_W.theme is theme and panel.grad_matrix.theme is theme
    lut = diverging_lut(theme)
    assert tuple(int(v) for v in lut[len(lut) // 2][:3]) == theme.panel_background
    image = panel.grab().toImage()
    assert image.width() == 1920
    assert panel.plot.backgroundBrush().color().getRgb()[:3] == theme.panel_background


def test_scenario_round_trip_replays_training(panel):
    panel.apply_scenario(digits_scenario())
    for _ in range(7):
        panel.step_by(1)
    copy = GradPanel()
    try:
        copy.apply_scenario(panel.scenario("x"))
        np.testing.assert_allclose(copy.state.W, panel.state.W)
        assert len(copy.state.records) == 7
    finally:
        copy.shutdown()
        copy.deleteLater()


def test_state_story_matches_the_model():
    st = GradState("toy", seed=2)
    layer, x, label = dense.toy_layer(2)
    g = layer.backward(x, [label])
    for i in range(3):
        for j in range(7):
            s = st.story(i, j)
            assert s.value == pytest.approx(g.dW[i, j])
            assert s.delta == pytest.approx(g.dz[0, i]) and s.x == x[j]


def test_every_preset_opens(panel):
    presets = panel.presets()
    assert presets and all(s.panel == "grad" for s in presets)
    for scenario in presets:
        panel.apply_scenario(scenario)
        assert panel.state.view in ("layer", "batch", "train")
        assert panel.headline.text()


def test_a_saved_scenario_parses_back(panel):
    from gpuviz.model.scenario import dumps_scenario, parse_scenario

    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    panel.apply_scenario(digits_scenario(view="batch", batch=8))
    panel.step_by(3)
    again = parse_scenario(tomllib.loads(dumps_scenario(panel.scenario("saved"))))
    copy = GradPanel()
    try:
        copy.apply_scenario(again)
        assert copy.state.batch_step == 3 and copy.state.batch == 8 and copy.state.view == "batch"
    finally:
        copy.shutdown()
        copy.deleteLater()


# -- the slide look fills the slide ---------------------------------------------------------------------------

SLIDE_PRESETS = ("30-grad-toy-3x7", "31-grad-digits-image", "32-grad-batch-sum")


def _figure_sizes(panel) -> dict:
    """Each visible view's cell (matrices) or tile (28×28 images) width in layout pixels."""
    page = panel.pages.currentWidget().widget()
    sizes = {}
    for v in page.findChildren(MatrixView):
        if v.isVisible():
            sizes[v.name] = v._matrix_rect().width() / v.values.shape[1]
    for v in page.findChildren(TileView):
        if v.isVisible():
            sizes[v.name] = v._tile_rect(0).width()
    return sizes


def _assert_inside(panel) -> None:
    """No scrolling, and every view (with its labels and last tile) inside the panel."""
    area = panel.pages.currentWidget()
    assert area.verticalScrollBar().maximum() == 0 and area.horizontalScrollBar().maximum() == 0
    page = area.widget()
    bounds = panel.rect()
    for v in page.findChildren((MatrixView, TileView, ColourBar)):
        if not v.isVisible():
            continue
        box = v.rect().translated(v.mapTo(panel, QPoint(0, 0)))
        assert bounds.contains(box), (v.__class__.__name__, getattr(v, "name", ""), box, bounds)
        assert v.width() >= v.sizeHint().width() and v.height() >= v.sizeHint().height(), v
        if isinstance(v, TileView):
            # the grid's last tile lies inside the view, and no tile label is cut by its neighbour
            last = v._tile_rect(len(v.values) - 1)
            assert last.right() <= v.width() and last.bottom() <= v.height()
            fm = QFontMetricsF(v._label_font())
            assert all(fm.horizontalAdvance(lab) <= v._pitch() - 6 for lab in v.labels)


@pytest.mark.parametrize("preset", SLIDE_PRESETS)
def test_the_slide_look_grows_the_figure_to_fill_the_slide(qtbot, preset):
    panel = GradPanel(theme=themes.SLIDE)
    qtbot.addWidget(panel)
    panel.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    scenario = load_scenario(presets_dir() / f"{preset}.toml")
    panel.apply_scenario(scenario)
    panel.resize(1920, 1080)
    panel.show()
    normal = _figure_sizes(panel)
    panel.set_slide(True)
    panel.set_caption(scenario.key_steps[0].caption if scenario.key_steps else None)
    slide = _figure_sizes(panel)
    # the digits' 10×784 strip may be left out of a slide (the tiles show the same numbers) rather than shrink it
    dropped = {panel.grad_strip.name} if panel.strip_dropped else set()
    assert set(slide) == set(normal) - dropped and slide
    panel_sizes, normal = normal, {name: size for name, size in normal.items() if name not in dropped}
    # the pictures are bigger than in the normal look at the same size: every 28×28 tile, and the toy's
    # cells (the digits' columns of ten numbers keep their size: their height is what the page has least of)
    grown = {name: slide[name] / normal[name] for name in slide}
    tiles = {v.name for v in panel.findChildren(TileView) if v.isVisible()}
    assert all(g >= 1.0 for g in grown.values()), grown
    assert all(grown[name] > 1.05 for name in (tiles or grown)), grown
    _assert_inside(panel)
    # the numbers grow with their cells (never below the slide's text size at 1080p)
    for v in panel.pages.currentWidget().widget().findChildren(MatrixView):
        if v.isVisible() and v.numbers:
            assert v.text_zoom >= 1.0
    # a 1280×720 slide: smaller again, and still nothing cut or scrolled
    panel.resize(1280, 720)
    _assert_inside(panel)
    panel.set_slide(False)
    panel.resize(1920, 1080)
    assert _figure_sizes(panel) == panel_sizes and panel.zoom <= 1


# -- markers, text on cells, the colour scale as drawn, absurd input ---------------------------------------------


def _texts_and_markers(view):
    texts = list(view.header_rects())
    if isinstance(view, TileView):
        texts += view.label_rects()
    return texts, view.marker_rects()


@pytest.mark.parametrize("name", ["light", "lecture"])
@pytest.mark.parametrize("layer", ["toy", "digits"])
@pytest.mark.parametrize("slide", [False, True])
def test_selection_markers_never_cover_a_label(qtbot, name, layer, slide):
    panel = GradPanel(theme=themes.THEMES[name])
    qtbot.addWidget(panel)
    panel.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    panel.resize(1920, 1080)
    panel.show()
    panel.state.set_layer(layer)
    panel.set_slide(slide)
    m, n = panel.state.m, panel.state.n
    checked = 0
    # the corners: row 0 sits under the name and shape, column 0 at the left edge, the last ones under labels
    for i, j in [(0, 0), (0, n - 1), (m - 1, 0), (m - 1, n - 1), (m // 2, n // 2)]:
        panel.select_entry(i, j)
        qtbot.wait(1)  # the layout's pending requests: the views' sizes as shown
        for view in panel.findChildren((MatrixView, TileView)):
            if not view.isVisible():
                continue
            texts, markers = _texts_and_markers(view)
            for marker in markers:
                checked += 1
                assert view.rect().toRectF().contains(marker), (view.name, marker, view.rect())
                for text in texts:
                    assert not marker.intersects(text), (view.name, (i, j), marker, text)
    assert checked > 20


@pytest.mark.parametrize("name", ["light", "dark", "lecture"])
def test_numbers_on_cells_reach_wcag_aa_over_the_whole_colour_map(qtbot, name):
    theme = themes.THEMES[name]
    for signed, values in ((True, np.linspace(-1, 1, 81)), (True, np.geomspace(1e-3, 1, 40)),
                           (False, np.linspace(0, 1, 41))):
        view = MatrixView("t", theme=theme, signed=signed)
        qtbot.addWidget(view)
        view.set_values(values[None, :], limit=1.0)
        view.resize(view.sizeHint())
        view.grab()  # paints: the colours of the cells and of their numbers
        cells = view._rgba[..., :3]
        assert view.text_rgb is not None and view.text_rgb.shape == cells.shape
        ratios = [themes.contrast_ratio(t, c) for t, c in zip(view.text_rgb.reshape(-1, 3), cells.reshape(-1, 3))]
        assert min(ratios) >= themes.MIN_TEXT_CONTRAST, (name, signed, min(ratios))


def test_dark_theme_x_cells_of_1_and_p_read(panel):
    panel.set_theme(themes.DARK)
    panel.grab()
    x = panel.x_col
    one = int(np.flatnonzero(x.values[:, 0] == 1)[0])
    assert themes.contrast_ratio(x.text_rgb[one, 0], x._rgba[one, 0, :3]) >= 4.5
    p = panel.p_col
    k = int(np.argmax(p.values[:, 0]))
    assert themes.contrast_ratio(p.text_rgb[k, 0], p._rgba[k, 0, :3]) >= 4.5


@pytest.mark.parametrize("preset", ["31-grad-digits-image", "32-grad-batch-sum", "33-grad-train-templates"])
def test_the_drawn_10x784_gradient_shows_both_signs_apart_from_zero(panel, preset):
    from gpuviz.model.grad_colours import delta_e
    from gpuviz.ui.grad.canvas import cell_colours

    panel.apply_scenario(load_scenario(presets_dir() / f"{preset}.toml"))
    panel.last_step()
    view = {"layer": panel.grad_tiles, "batch": panel.acc_tiles, "train": panel.train_grad}[panel.state.view]
    g = view.values
    assert g.shape == (10, 784) and view.log
    zero = panel.theme.panel_background
    de = delta_e(cell_colours(g, panel.theme, True, view.limit, view.log), zero)
    big = np.abs(g) >= 0.01 * np.abs(g).max()
    assert de[big & (g > 0)].min() >= 10 and de[big & (g < 0)].min() >= 10


def test_cell_views_are_data_canvases(panel):
    assert panel.grad_matrix.property("dataCanvas") and panel.grad_tiles.property("dataCanvas")
    assert all(r.width() > 0 for r in panel.data_rects())


@pytest.mark.parametrize("text, words", [("1e400", "infinite"), ("1e308", "too large"), ("1e-320", "too small"),
                                         ("9" * 5000, "infinite"), ("x" * 3000, "number"), ("0x1p3", "number")])
def test_absurd_alpha_is_one_line_at_the_field(panel, text, words):
    panel.apply_scenario(digits_scenario())
    panel.alpha_field.setText(text)
    panel.alpha_field.editingFinished.emit()
    message = panel.alpha_message.message
    assert panel.alpha_message.isVisible() and words in message and "\n" not in message and len(message) < 200
    assert panel.state.alpha == 0.5


@pytest.mark.parametrize("text, words", [("9" * 5000, "larger than"), ("-" + "9" * 5000, "at least 1"),
                                         ("1e400", "whole number"), ("y" * 3000, "whole number")])
def test_absurd_batch_is_one_line_at_the_field(panel, text, words):
    panel.apply_scenario(digits_scenario())
    panel.batch_field.setText(text)
    panel.batch_field.editingFinished.emit()
    message = panel.batch_message.message
    assert panel.batch_message.isVisible() and words in message and "\n" not in message and len(message) < 200
    assert panel.state.batch == 64


# -- lecture mode: every grad preset gives the screen to its figure ---------------------------------------------

LECTURE_SIZES = ((1024, 768), (1280, 720), (1366, 768), (1920, 1080))
GRAD_PRESETS = ("30-grad-toy-3x7", "31-grad-digits-image", "32-grad-batch-sum", "33-grad-train-templates",
                "34-grad-alpha-too-large")


@pytest.mark.parametrize("size", LECTURE_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_lecture_mode_gives_every_grad_preset_the_screen(make_main_window, size):
    from tests.ui import layout_check as lc

    window = make_main_window(size=size)
    grad = window.panel("grad")
    window.tabs.setCurrentWidget(grad)
    failures = {}
    for name in GRAD_PRESETS:
        window.apply_scenario(load_scenario(presets_dir() / f"{name}.toml"), source="preset")
        window.set_lecture_mode(True, fullscreen=False)
        window.resize(*size)
        lc.settle(window)
        problems = lc.check_window(window, grad, min_share=lc.MIN_FIGURE_SHARE, min_text=lc.min_text_px(size[1]))
        # the layout check forgives what a scroll area hides (it is reachable); a slide must show all of it
        area = grad.pages.currentWidget()
        for bar, way in ((area.horizontalScrollBar(), "sideways"), (area.verticalScrollBar(), "down")):
            if bar.isVisible():
                problems.append(f"the figure scrolls {way} ({bar.maximum()} px)")
        if problems:
            failures[name] = problems
        window.set_lecture_mode(False)
    assert not failures, failures


def test_every_seed_the_model_takes_shows_in_the_seed_field(panel):
    from gpuviz.model import limits

    for seed in (2**31, limits.SEED_MAX):  # past a QSpinBox's 32-bit signed range
        panel.state.set_training(seed=seed)
        panel._sync_side()
        assert int(panel.seed_box.value()) == seed
    panel.seed_box.setValue(12)
    panel._seed_chosen()
    assert panel.state.seed == 12


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_a_1024_window_shows_every_grad_preset_without_scrolling_sideways(make_main_window, theme):
    from tests.ui import layout_check as lc

    window = make_main_window(size=(1024, 768))
    window.set_theme(theme)
    grad = window.panel("grad")
    window.tabs.setCurrentWidget(grad)
    failures = {}
    for name in GRAD_PRESETS:
        window.apply_scenario(load_scenario(presets_dir() / f"{name}.toml"), source="preset")
        window.resize(1024, 768)
        lc.settle(window)
        problems = lc.check_window(window, grad)
        # beside the side bar the page is about 650 pixels wide: the formula wraps rather than hide its end
        # (and cut the sentences over it) past the right edge; scrolling down is allowed
        bar = grad.pages.currentWidget().horizontalScrollBar()
        if bar.isVisible():
            problems.append(f"the figure scrolls sideways ({bar.maximum()} px)")
        if problems:
            failures[name] = problems
    assert not failures, failures
