"""The tiled kernel's shared tiles on screen: the "Shared memory" tab, A and B's marks for elements read through
their copies, and the slide column.

Model → widget → change the model → check the widget: what is drawn is compared with
:meth:`MatmulScene.shared_tiles`, and pixels of the rendered tiles with the colours their legend names.
"""

import numpy as np
import pytest
from PyQt6.QtCore import Qt

from gpuviz.model.scene import MatmulParams, MatmulScene
from gpuviz.ui import theme as themes
from gpuviz.ui.export import render_widget
from gpuviz.ui.matmul.operand_view import heat_index, heat_lut, outline_segments
from gpuviz.ui.matmul.panel import MatmulPanel
from gpuviz.ui.matmul.shared_view import WRITE_ALPHA, SharedTilesView
from gpuviz.ui.style import mix


def tiled_scene(**kw) -> MatmulScene:
    scene = MatmulScene(MatmulParams(**{"kernel": "tiled", "m": 24, "n": 24, "k": 24, "block": (8, 8), **kw}))
    scene.select_thread((1, 2), (3, 5) if scene.launch.block.x > 5 else (0, 0))
    scene.set_focus("block")
    return scene


def step_of(scene, role, nth=0):
    return [s for s in range(scene.n_steps) if scene.step_info(s).role == role][nth]


def cell_colour(view, name, row, col):
    """The colour drawn in cell (row, col) of tile ``name``, away from its label and outlines."""
    image = render_widget(view, view.width(), view.height())
    canvas = view.canvas
    r = canvas.tile_rects()[name]
    cell = r.width() / canvas.tiles.tile_size
    at = canvas.mapTo(view, r.topLeft().toPoint())
    x = int(at.x() + (col + 0.5) * cell)
    y = int(at.y() + row * cell + 0.2 * cell)
    c = image.pixelColor(x, y)
    return (c.red(), c.green(), c.blue())


def close(a, b, tol=6):
    return max(abs(int(x) - int(y)) for x, y in zip(a, b)) <= tol


def test_the_tiles_view_draws_what_the_scene_says(qtbot):
    scene = tiled_scene()
    view = SharedTilesView(scene, themes.LIGHT)
    qtbot.addWidget(view)
    view.resize(900, 800)
    view.show()
    theme = themes.LIGHT
    base = mix(theme.foreground, theme.panel_background, 0.05)

    scene.set_step(step_of(scene, "load_a"))
    st = view.tiles
    assert st is not None and st.role == "load_a"
    assert st.sA.written.all() and not st.sB.written.any()
    written = mix(theme.write, base, WRITE_ALPHA / 255)
    assert close(cell_colour(view, "sA", 2, 3), written)
    assert close(cell_colour(view, "sB", 2, 3), base)  # nothing in sB yet
    assert "64 elements written" in view.header.text()

    i = 4
    scene.set_step(step_of(scene, "multiply") + i)
    st = view.tiles
    assert st is scene.shared_tiles() or np.array_equal(st.sA.reads, scene.shared_tiles().sA.reads)
    lut = heat_lut(theme)
    read = tuple(int(v) for v in lut[heat_index(np.array([8.0]), 8.0)[0]][:3])
    for row in (0, 5):
        assert close(cell_colour(view, "sA", row, i), read), row  # column i of sA: 8 reads each
        assert close(cell_colour(view, "sA", row, i + 1), base)
        assert close(cell_colour(view, "sB", i, row), read)
    # the labels name the global element each cell holds (the canvas picks the form that fits)
    assert st.sA.label(2, 3) == "A[18,3]" and st.sB.label(2, 3) == "B[2,11]"
    f, full = view.canvas.cell_label_font(view.canvas.tile_rects()["sA"].width() / 8, ["A[18,3]", "B[2,11]"])
    assert f is not None
    keys = [k for k, _ in view.canvas.legend_entries()]
    assert keys == ["heat", "copy", "write", "zero", "stale", "empty"]
    assert "0 … 8" in view.canvas.legend_entries()[0][1]

    # focus on one thread: one element of each tile is read
    scene.set_focus("thread")
    assert view.tiles.sA.reads.sum() == 1 and view.tiles.sA.reads[5, i] == 1
    assert close(cell_colour(view, "sA", 0, i), base)


def test_padding_zeros_are_drawn_hatched_and_labelled_zero(qtbot):
    scene = tiled_scene(m=10, n=13, k=7, block=(4, 4))  # K = 7: the last tile's column 3 of sA is padding
    scene.select_thread((0, 0), (0, 0))
    view = SharedTilesView(scene, themes.LIGHT)
    qtbot.addWidget(view)
    view.resize(700, 700)
    view.show()
    scene.set_step(step_of(scene, "zero_a", 1))  # tile 1: columns 4..7 of A, and A has 7
    st = view.tiles
    assert st.sA.label(0, 3) == "0" and st.sA.written[:, 3].all() and not st.sA.written[:, :3].any()
    scene.set_step(step_of(scene, "sync_loaded", 1))
    assert view.tiles.sA.label(0, 3) == "0"
    colours = set()
    canvas = view.canvas
    r = canvas.tile_rects()["sA"]
    cell = r.width() / 4
    image = render_widget(view, view.width(), view.height())
    at = canvas.mapTo(view, r.topLeft().toPoint())
    for dx in range(int(cell * 0.1), int(cell * 0.9)):
        c = image.pixelColor(int(at.x() + 3 * cell + dx), int(at.y() + 0.15 * cell))
        colours.add((c.red(), c.green(), c.blue()))
    assert len(colours) >= 2  # the hatch: lines across the cell's fill


def test_naive_has_no_shared_tiles_and_the_tab_hides(qtbot):
    scene = MatmulScene(MatmulParams(kernel="naive", m=16, n=16, k=16, block=(8, 8)))
    view = SharedTilesView(scene, themes.LIGHT)
    qtbot.addWidget(view)
    view.resize(600, 500)
    view.show()
    assert view.tiles is None and view.canvas.isHidden() and not view.empty.isHidden()
    assert "uses no shared memory" in view.empty.text()

    panel = MatmulPanel(scene=scene)
    qtbot.addWidget(panel)
    tab = panel.tabs.indexOf(panel.shared)
    assert not panel.tabs.isTabVisible(tab)
    panel.set_field("kernel", "tiled")
    assert panel.tabs.isTabVisible(tab)
    panel.tabs.setCurrentIndex(tab)
    panel.resize(1920, 1080)
    panel.show()
    assert panel.shared.tiles is not None and panel.shared.canvas.isVisible()
    panel.set_field("kernel", "naive")
    assert not panel.tabs.isTabVisible(tab) and panel.shared.tiles is None


def test_a_and_b_mark_the_elements_read_through_their_copies(qtbot):
    scene = tiled_scene()
    panel = MatmulPanel(scene=scene)
    qtbot.addWidget(panel)
    panel.resize(1920, 1080)
    panel.show()
    m = panel.matrices
    scene.set_step(step_of(scene, "load_a"))
    assert m.a.copies is None and m.b.copies is None
    assert "copies" not in [k for k, _, _ in m.legend.entries()]
    i = 2
    scene.set_step(step_of(scene, "multiply") + i)
    via = scene.shared_tiles().via_shared
    rows, cols = m.a.copies
    assert sorted(zip(rows.tolist(), cols.tolist())) == sorted(zip(via["A"].rows.tolist(), via["A"].cols.tolist()))
    assert set(cols.tolist()) == {i} and sorted(rows.tolist()) == list(range(16, 24))
    rows, cols = m.b.copies
    assert set(rows.tolist()) == {i} and sorted(cols.tolist()) == list(range(8, 16))
    assert m.a.copy_outline.getData()[0] is not None and len(m.a.copy_outline.getData()[0]) == 8  # four lines
    entries = {k: t for k, _, t in m.legend.entries()}
    assert entries["copies"] == "A, B: read from its copy in shared memory"
    assert "copies in shared memory are read" in m.legend.heading
    # the global reads heat stays empty: this step reads no global memory
    assert m.a.values is None or not np.any(m.a.values > 0)
    # every thread: A's whole column, through every block's copies
    scene.set_focus("all")
    rows, _ = m.a.copies
    assert sorted(rows.tolist()) == list(range(24))


def test_outline_segments_trace_the_union_of_cells():
    segs = outline_segments(np.arange(5, 9), np.full(4, 3))  # a column of four cells
    assert len(segs) == 4
    xs, ys = segs[..., 0], segs[..., 1]
    assert xs.min() == 3 and xs.max() == 4 and ys.min() == 5 and ys.max() == 9
    assert len(outline_segments(np.array([0, 2]), np.array([0, 0]))) == 8  # two separate cells
    assert len(outline_segments(np.zeros(0), np.zeros(0))) == 0


@pytest.mark.parametrize("size", [(1920, 1080), (1280, 720)])
def test_the_slide_shows_the_tiles_beside_the_figure_for_tiled_only(qtbot, size):
    panel = MatmulPanel(theme=themes.SLIDE)
    qtbot.addWidget(panel)
    panel.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    tiled = next(p for p in panel.presets() if p.params.kernel == "tiled")
    panel.apply_scenario(tiled)
    panel.scene.set_step(3)
    panel.set_slide(True)
    panel.resize(*size)
    panel.show()
    render_widget(panel, *size)
    tiles = panel.slide_tiles
    assert tiles is not None and tiles.isVisible() and panel.shows_tiles()
    assert tiles.tiles.role == "multiply"
    where = tiles.canvas.mapTo(panel, tiles.canvas.rect().topLeft())
    assert where.x() > panel.matrices.width() * 0.5  # in the right-hand column
    assert where.y() + tiles.canvas.height() <= panel.height()
    rects = tiles.canvas.tile_rects()
    for r in rects.values():
        assert r.bottom() <= tiles.canvas.height() and r.right() <= tiles.canvas.width() + 1
        assert r.width() / 8 >= 12  # cells a student can see
    # a kernel without shared memory: no tiles on its slide
    naive = next(p for p in panel.presets() if p.params.kernel == "naive")
    panel.apply_scenario(naive)
    render_widget(panel, *size)
    assert not tiles.isVisible() and not panel.shows_tiles()
    panel.set_slide(False)
    assert not tiles.isVisible() and not panel.right.isHidden() and not panel.side_scroll.isHidden()
