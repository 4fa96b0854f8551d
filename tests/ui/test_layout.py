"""The layout check of issue 15 (item 3): every panel × screen × mode, and every preset's slide export.

The checker (``layout_check.py``) records the text every visible widget paints and finds texts that are
cut, elided without a tooltip, overlapping or too small, widgets outside the window and a figure below
its share of the screen. The first tests hold the checker itself to finding each kind of problem on a
window built to have it (and nothing on one built clean). The parametrized tests then walk the app: one
process per screen size, on Qt's offscreen platform configured with that one screen, so the size is the
screen's and not whatever this machine has; each case (panel, size, mode) is its own test.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from gpuviz.ui import registry

from . import layout_check as lc

# -- the checker finds what it should ----------------------------------------------------------------


@pytest.fixture
def window(qtbot):
    from PyQt6.QtWidgets import QWidget

    w = QWidget()
    w.resize(400, 300)
    qtbot.addWidget(w)
    return w


def _show(qtbot, w):
    w.show()
    qtbot.waitExposed(w)
    lc.settle(w)


def test_a_clean_window_has_no_problem(qtbot, window):
    from PyQt6.QtWidgets import QLabel, QPushButton, QVBoxLayout

    layout = QVBoxLayout(window)
    layout.addWidget(QLabel("A label with room to spare"))
    layout.addWidget(QPushButton("A button"))
    _show(qtbot, window)
    assert lc.check_window(window) == []
    assert {t.text for t in lc.texts_of(window)} >= {"A label with room to spare", "A button"}


def test_a_clipped_label_is_found(qtbot, window):
    from PyQt6.QtWidgets import QLabel

    label = QLabel("This sentence is far wider than the label that shows it", window)
    label.setGeometry(10, 10, 60, 20)
    _show(qtbot, window)
    problems = lc.check_window(window)
    assert any(p.startswith("clipped") and "This sentence" in p for p in problems), problems


def test_a_word_wrapped_label_too_short_is_found(qtbot, window):
    from PyQt6.QtWidgets import QLabel

    label = QLabel("one two three four five six seven eight nine ten eleven twelve", window)
    label.setWordWrap(True)
    label.setGeometry(10, 10, 80, 18)  # room for one line of several
    _show(qtbot, window)
    assert any(p.startswith("clipped") for p in lc.check_window(window))


def test_text_elided_without_a_tooltip_is_found_and_with_one_is_not(qtbot, window):
    from PyQt6.QtWidgets import QLabel

    label = QLabel("C = A·B  (32×…", window)
    label.move(10, 10)
    label.adjustSize()
    _show(qtbot, window)
    assert any(p.startswith("elided") for p in lc.check_window(window))
    label.setToolTip("C = A·B  (32×32)")
    assert not any(p.startswith("elided") for p in lc.check_window(window))


def test_a_button_that_opens_a_dialog_is_not_elided(qtbot, window):
    from PyQt6.QtWidgets import QPushButton

    QPushButton("Export…", window).move(10, 10)
    _show(qtbot, window)
    assert lc.check_window(window) == []


def test_two_overlapping_text_items_are_found(qtbot, window):
    import pyqtgraph as pg
    from PyQt6.QtWidgets import QVBoxLayout

    plot = pg.PlotWidget()
    QVBoxLayout(window).addWidget(plot)
    plot.setRange(xRange=(0, 10), yRange=(0, 10), padding=0)
    for text in ("first label", "second label"):
        item = pg.TextItem(text, anchor=(0.5, 0.5))
        item.setPos(5, 5)
        plot.addItem(item)
    _show(qtbot, window)
    problems = lc.check_window(window)
    assert any(p.startswith("overlap") and "first label" in p and "second label" in p for p in problems), problems


def test_axis_tick_labels_are_seen_and_a_text_item_cut_by_the_view_is_found(qtbot, window):
    import pyqtgraph as pg
    from PyQt6.QtWidgets import QVBoxLayout

    plot = pg.PlotWidget()
    QVBoxLayout(window).addWidget(plot)
    plot.setRange(xRange=(0, 10), yRange=(0, 10), padding=0)
    plot.setLabel("bottom", "time (s)")
    item = pg.TextItem("a note that runs off the plot to the right", anchor=(0, 0.5))
    item.setPos(9.5, 5)
    plot.addItem(item)
    _show(qtbot, window)
    texts = {t.text for t in lc.texts_of(window)}
    assert {"0", "10", "time (s)"} <= texts
    problems = lc.check_window(window)
    assert any(p.startswith("clipped") and "a note that runs" in p for p in problems), problems


def test_text_of_items_cached_as_pixmaps_is_read_and_their_cache_given_back(qtbot, window):
    import pyqtgraph as pg
    from PyQt6.QtWidgets import QGraphicsItem, QVBoxLayout

    plot = pg.PlotWidget()
    QVBoxLayout(window).addWidget(plot)
    plot.setRange(xRange=(0, 10), yRange=(0, 10), padding=0)
    axis = plot.getAxis("bottom")
    axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)  # as the speed panel's axes are
    _show(qtbot, window)
    assert {"0", "10"} <= {t.text for t in lc.texts_of(window)}
    assert axis.cacheMode() == QGraphicsItem.CacheMode.DeviceCoordinateCache


def test_a_widget_outside_the_window_is_found(qtbot, window):
    from PyQt6.QtWidgets import QPushButton

    QPushButton("Off the edge", window).setGeometry(360, 10, 120, 30)
    _show(qtbot, window)
    assert any(p.startswith("outside the window") for p in lc.check_window(window))


def test_scrolled_out_content_is_reachable_not_a_problem(qtbot, window):
    from PyQt6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

    content = QWidget()
    column = QVBoxLayout(content)
    for i in range(60):
        column.addWidget(QLabel(f"row {i}"))
    area = QScrollArea()
    area.setWidget(content)
    area.setWidgetResizable(True)
    QVBoxLayout(window).addWidget(area)
    _show(qtbot, window)
    assert lc.check_window(window) == []


def test_small_figure_text_and_a_small_figure_are_found(qtbot):
    from PyQt6.QtGui import QFont
    from PyQt6.QtWidgets import QHBoxLayout, QLabel

    from gpuviz.ui.panel import Panel, Roles

    class Tiny(Panel):
        def __init__(self):
            super().__init__()
            self.figure = QLabel("small text")
            font = QFont(self.figure.font())
            font.setPixelSize(9)
            self.figure.setFont(font)
            self.figure.setProperty("dataCanvas", True)
            self.side = QLabel("controls")
            layout = QHBoxLayout(self)
            layout.addWidget(self.figure, 1)
            layout.addWidget(self.side, 3)

        def roles(self):
            return Roles(figure=(self.figure,), controls=(self.side,))

    panel = Tiny()
    qtbot.addWidget(panel)
    panel.resize(800, 450)
    _show(qtbot, panel)
    problems = lc.check_window(panel, panel, min_share=0.75, min_text=lc.min_text_px(1080))
    assert any(p.startswith("too small") and "small text" in p for p in problems), problems
    assert any(p.startswith("figure too small") for p in problems), problems
    assert not any("controls" in p for p in problems)  # only the figure's text has a least size
    assert 0.15 < lc.figure_share(panel, panel) < 0.35


def test_a_figure_that_scrolls_sideways_is_found(qtbot):
    from PyQt6.QtWidgets import QHBoxLayout, QScrollArea, QWidget

    from gpuviz.ui.panel import Panel, Roles

    class Wide(Panel):
        def __init__(self, width):
            super().__init__()
            self.figure = QScrollArea()
            page = QWidget()
            page.setMinimumSize(width, 200)
            self.figure.setWidget(page)
            self.figure.setWidgetResizable(True)
            QHBoxLayout(self).addWidget(self.figure)

        def roles(self):
            return Roles(figure=(self.figure,))

    for width, sideways in ((1400, True), (300, False)):
        panel = Wide(width)
        qtbot.addWidget(panel)
        panel.resize(800, 450)
        _show(qtbot, panel)
        problems = lc.check_window(panel, panel)
        assert any(p.startswith("figure scrolls sideways") for p in problems) == sideways, problems


def test_screen_config_is_a_logical_screen_at_its_ratio():
    cfg = lc.screen_config(1920, 1080, 2)["screens"][0]
    assert (cfg["width"], cfg["height"], cfg["logicalDpi"]) == (3840, 2160, 192)


# -- the app on every screen ---------------------------------------------------------------------------

PANELS = registry.panel_ids()
PRESETS = lc.preset_panels()
_lock = threading.Lock()
_results: dict = {}


def _all_results(tmp_dir) -> dict:
    """Every case's problems: the screens' and the slides' walks, each in its own process, two at a time."""
    with _lock:
        if not _results:
            runs = [dict(size_name=name, width=w, height=h, dpr=dpr) for name, w, h, dpr in lc.SCREENS]
            runs += [dict(size_name=f"{w}x{h}", width=w, height=h, dpr=1, slides=True) for w, h in lc.SLIDE_SIZES]
            # every preset opened in the window (the walk above shows each panel on its first preset only)
            runs += [dict(size_name=name, width=w, height=h, dpr=dpr, every_preset=True, modes=["light"])
                     for name, w, h, dpr in lc.SCREENS]

            def one(run):
                try:
                    return lc.run_screen_process(folder=tmp_dir, timeout=900, **run)[0]
                except (RuntimeError, OSError) as e:
                    return {"__error__" + run["size_name"]: [str(e)]}

            with ThreadPoolExecutor(2) as pool:
                for part in pool.map(one, runs):
                    _results.update(part)
        return _results


@pytest.fixture(scope="module")
def layout_results(tmp_path_factory):
    return _all_results(tmp_path_factory.mktemp("layout"))


def _assert_clean(layout_results, cid, size):
    errors = [p for k, v in layout_results.items() if k.startswith("__error__") and size in k for p in v]
    assert not errors, errors[0]
    assert cid in layout_results, f"{cid} was not checked"
    problems = layout_results[cid]
    assert problems == [], f"{len(problems)} layout problem(s) in {cid}:\n" + "\n".join(problems)


@pytest.mark.parametrize("mode", lc.MODES)
@pytest.mark.parametrize("size", [name for name, *_ in lc.SCREENS])
@pytest.mark.parametrize("panel", PANELS)
def test_panel_layout(layout_results, panel, size, mode):
    cid = lc.case_id(panel, size, mode)
    _assert_clean(layout_results, cid, size)


@pytest.mark.parametrize("size", [f"{w}x{h}" for w, h in lc.SLIDE_SIZES])
@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_slide_export_layout(layout_results, preset, size):
    cid = f"{preset}-slide-{size}"
    _assert_clean(layout_results, cid, size)


@pytest.mark.parametrize("size", [name for name, *_ in lc.SCREENS])
@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_every_preset_in_the_window_layout(layout_results, preset, size):
    cid = f"{preset}-{size}-light"
    _assert_clean(layout_results, cid, size)
