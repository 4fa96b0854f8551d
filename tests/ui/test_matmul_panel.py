"""The matmul panel and its matrix views: model → widget → change the model → check the widget.

The panel is built on its own (no main window) at 1920×1080 on the offscreen
platform; every expectation is taken from the model (the scene's mapping,
frames and accesses), never from the widgets themselves.
"""

import tracemalloc

import numpy as np
import pytest
from PyQt6.QtCore import QPoint, Qt

from gpuviz.model.accesses import step_accesses
from gpuviz.model.scene import MatmulParams, MatmulScene
from gpuviz.ui import theme as themes
from gpuviz.ui.matmul.c_view import c_palette
from gpuviz.ui.matmul.panel import MatmulPanel, lecture_scene


@pytest.fixture
def make_panel(qtbot):
    """Factory of shown 1920×1080 matmul panels; each is shut down at teardown."""
    made = []

    def make(scene=None, theme=themes.LIGHT, size=(1920, 1080)):
        panel = MatmulPanel(scene=scene)
        panel.set_theme(theme)
        qtbot.addWidget(panel)
        panel.resize(*size)
        panel.show()
        qtbot.waitExposed(panel)
        made.append(panel)
        return panel

    yield make
    for panel in made:
        panel.shutdown()
        panel.close()


def scene_of(**params):
    return MatmulScene(MatmulParams(**params))


def click_cell(qtbot, panel, row, col):
    views = panel.matrices
    pt = views.view_point_of_cell(row + 0.5, col + 0.5)
    qtbot.mouseClick(views.graphics.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(round(pt.x()), round(pt.y())))


def pixel(panel, row, col, image=None):
    """RGB of the rendered C grid a fifth of a cell in from the top-left corner of (row, col) (clear of
    labels, which sit at the centre, and of the lines on its edges)."""
    views = panel.matrices
    image = image or views.graphics.grab().toImage()
    pt = views.view_point_of_cell(row + 0.22, col + 0.22)
    c = image.pixelColor(round(pt.x()), round(pt.y()))
    return (c.red(), c.green(), c.blue())


def close(a, b, tol=6):
    return all(abs(int(x) - int(y)) <= tol for x, y in zip(a, b))


# -- what it opens with ---------------------------------------------------------------------------


def test_default_panel_is_the_lecture_picture(make_panel):
    panel = make_panel()
    s = panel.scene
    assert (s.kernel, s.problem.m, s.problem.n, s.problem.k, s.params.block) == ("naive", 32, 32, 32, (8, 8))
    assert s.selected.block[:2] == (1, 3) and s.selected.block_linear == 13
    assert s.focus == "block"
    assert [panel.fields[f].text() for f in ("m", "n", "k", "block")] == ["32", "32", "32", "8x8"]
    assert panel.fields["kernel"].currentData() == "naive"
    assert panel.focus_box.currentData() == "block"
    assert panel.panel_id == "matmul" and panel.title
    assert "lockstep" in panel.matrices.note.text()  # the model says where it is a model
    for field in ("m", "n", "k", "block", "kernel", "backend"):
        assert panel.messages[field].isHidden()


def test_c_axes_carry_the_index_formulas_swapped_for_uncoalesced(make_panel):
    panel = make_panel()
    c = panel.matrices.c_plot

    def label(side):  # a formula too long for its axis is broken over two lines
        return c.getAxis(side).labelText.replace("<br>", " ")

    assert label("bottom") == "col = blockIdx.x·blockDim.x + threadIdx.x"
    assert label("left") == "row = blockIdx.y·blockDim.y + threadIdx.y"
    panel.set_field("kernel", "uncoalesced")
    assert label("left") == "row = blockIdx.x·blockDim.x + threadIdx.x"
    assert label("bottom") == "col = blockIdx.y·blockDim.y + threadIdx.y"


# -- selection ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kernel", ["naive", "uncoalesced"])
def test_clicking_a_cell_of_c_selects_the_thread_that_computes_it(make_panel, qtbot, kernel):
    panel = make_panel(scene_of(kernel=kernel, m=30, n=20, k=8, block=(8, 4)))
    s = panel.scene
    for row, col in [(0, 0), (5, 17), (29, 3), (13, 9)]:
        click_cell(qtbot, panel, row, col)
        owner = s.mapping.thread_of_element(row, col)
        assert s.selected.block[:2] == tuple(owner["block"][:2])
        assert s.selected.thread[:2] == tuple(owner["thread"][:2])
        assert s.element_of_selected() == (row, col)


def test_clicking_the_overhang_selects_an_idle_thread(make_panel, qtbot):
    panel = make_panel(scene_of(kernel="naive", m=30, n=30, k=8, block=(8, 8)))
    click_cell(qtbot, panel, 31, 30)
    s = panel.scene
    assert s.selected.global_index[:2] == (30, 31)  # naive: gx is the column, gy the row
    assert s.element_of_selected() is None
    # an idle thread has no row of A or column of B to outline
    assert len(panel.matrices.a.selected_outline.getData()[0]) == 0


def test_selection_outlines_the_row_of_a_and_the_column_of_b(make_panel):
    panel = make_panel()
    panel.scene.select_element(5, 19)
    ax, ay = panel.matrices.a.selected_outline.getData()
    bx, by = panel.matrices.b.selected_outline.getData()
    assert (ay.min(), ay.max(), ax.min(), ax.max()) == (5, 6, 0, 32)  # row 5 of A, all of K
    assert (bx.min(), bx.max(), by.min(), by.max()) == (19, 20, 0, 32)  # column 19 of B
    cx, cy = panel.matrices.c.selected_outline.getData()
    assert (cx.min(), cx.max(), cy.min(), cy.max()) == (19, 20, 5, 6)


# -- stepping: A and B show the step's reads ----------------------------------------------------------


def heat_cells(view):
    """(row, col) of the elements the view's heat image colours (it is drawn per bin; here one bin per cell)."""
    img = view.heat_image.image
    assert view.rows.bins == view.rows.extent and view.cols.bins == view.cols.extent
    if img is None:
        return set()
    r, c = np.nonzero(img[..., 3] > 0)
    return set(zip((r + view.rows.start).tolist(), (c + view.cols.start).tolist()))


@pytest.mark.parametrize("focus", ["thread", "block"])
def test_stepping_moves_the_highlighted_reads_exactly_as_the_frame_says(make_panel, focus):
    panel = make_panel()
    s = panel.scene
    s.set_focus(focus)
    views = panel.matrices
    seen = []
    for step in (0, 1, 7, 31):
        s.set_step(step)
        gx, gy = s.focus_threads()
        acc = {a.array: a for a in step_accesses(s.kernel, s.problem, s.launch.block, step, gx, gy).accesses}
        expected_a = set(zip(acc["A"].row.tolist(), acc["A"].col.tolist()))
        expected_b = set(zip(acc["B"].row.tolist(), acc["B"].col.tolist()))
        assert heat_cells(views.a) == expected_a
        assert heat_cells(views.b) == expected_b
        fr = s.frame(views.viewports())
        assert np.array_equal(views.a.values > 0, fr.reads["A"] > 0)
        seen.append(frozenset(expected_a))
    assert len(set(seen)) == 4  # every step lights other elements
    s.set_step(s.n_steps - 1)  # the write step reads nothing
    assert heat_cells(views.a) == set() and heat_cells(views.b) == set()


def test_tiled_load_step_highlights_the_tile_and_dims_masked_threads(make_panel):
    panel = make_panel(scene_of(kernel="tiled", m=20, n=20, k=20, block=(8, 8)))
    s = panel.scene
    s.set_focus("all")
    views = panel.matrices
    # the first tile's A load: threads whose A column t·8 + tx lies in A (all of tile 0) and row < M
    s.set_step(0)
    assert s.step_info().role == "load_a"
    assert heat_cells(views.a) == {(r, c) for r in range(20) for c in range(8)}
    # the masked threads (rows 20..23 of the launch) get the veil; the active ones none
    veil = views.c.veil_image.image  # per bin: one per cell here
    assert veil is not None and veil.shape[:2] == (views.c.rows.bins, views.c.cols.bins)
    rows_masked = np.nonzero(veil[..., 3].max(axis=1))[0] + views.c.rows.start
    assert set(rows_masked.tolist()) == {20, 21, 22, 23}


def test_cumulative_toggle_shows_the_scenes_cumulative_reads(make_panel):
    panel = make_panel()
    s = panel.scene
    s.set_step(5)
    panel.cumulative_box.setChecked(True)
    assert s.cumulative
    views = panel.matrices
    cum = s.cumulative_reads(views.viewports())
    assert np.array_equal(views.a.values, views.a.per_cell(cum["A"]))
    assert heat_cells(views.a) == {(r, k) for r in range(24, 32) for k in range(6)}  # block (1, 3), k = 0..5
    assert views.a.values.max() == 8  # each element read by the block's 8 threads of its row
    s.set_cumulative(False)
    assert not panel.cumulative_box.isChecked()


def test_focus_control_drives_the_scene(make_panel):
    panel = make_panel()
    box = panel.focus_box
    box.setCurrentIndex(box.findData("warp"))
    box.activated.emit(box.currentIndex())
    assert panel.scene.focus == "warp"
    # the focus outline goes around the warp's 32 cells: 4 rows of 8 in an 8×8 block
    x, y = panel.matrices.c.focus_outline.getData()
    assert (x.min(), x.max(), y.max() - y.min()) == (8, 16, 4)


# -- invalid input -----------------------------------------------------------------------------------


def test_invalid_block_shows_cudas_limit_inline_and_keeps_the_last_picture(make_panel):
    panel = make_panel()
    before = panel.scene.params
    picture = panel.matrices.c.launch_image.image.copy()
    panel.set_field("block", "64x64")
    msg = panel.messages["block"]
    assert msg.isVisible() and "1024" in msg.message
    assert panel.scene.params == before
    assert np.array_equal(panel.matrices.c.launch_image.image, picture)
    assert panel.fields["block"].text() == "64x64"  # what the user typed stays, to be fixed
    panel.set_field("block", "16x16")
    assert msg.isHidden() and panel.scene.params.block == (16, 16)


@pytest.mark.parametrize("field,text,words", [
    ("m", "abc", "whole number"),
    ("k", "0", "at least 1"),
    ("block", "8x8x2", "blockDim.z"),
    ("n", "100000000", "over the largest matrix side"),
])
def test_each_invalid_value_gets_its_message_next_to_its_field(make_panel, field, text, words):
    panel = make_panel()
    before = panel.scene.params
    panel.fields[field].setText(text)
    panel.fields[field].editingFinished.emit()
    shown = [name for name, m in panel.messages.items() if not m.isHidden()]
    target = "size" if words == "memory budget" else field
    assert shown == [target]
    assert words in panel.messages[target].message
    assert panel.scene.params == before


def test_a_change_refused_for_another_field_is_applied_once_that_field_is_fixed(make_panel):
    panel = make_panel()
    panel.set_field("block", "16x8")
    panel.set_field("kernel", "tiled")  # the tiled kernel needs a square block
    assert not panel.messages["block"].isHidden() and "square" in panel.messages["block"].message
    assert panel.scene.kernel == "naive"
    panel.set_field("block", "8x8")
    assert panel.scene.kernel == "tiled" and panel.scene.params.block == (8, 8)
    assert all(m.isHidden() for name, m in panel.messages.items() if name != "preset")


# -- pixels --------------------------------------------------------------------------------------------


def test_rendered_c_shows_block_colours_and_grey_idle_threads(make_panel):
    panel = make_panel(scene_of(kernel="naive", m=30, n=30, k=8, block=(8, 8)))
    pal = c_palette(themes.LIGHT)
    image = panel.matrices.graphics.grab().toImage()
    block0, block1 = pixel(panel, 1, 1, image), pixel(panel, 1, 9, image)  # blocks (0, 0) and (1, 0), warp 0
    assert close(block0, pal[0][:3]) and close(block1, pal[2][:3])
    assert not close(block0, block1, 40)
    warp1 = pixel(panel, 7, 0, image)  # rows 4..7 of block (0, 0): its warp 1, shaded lighter (clear of its number)
    assert close(warp1, pal[1][:3])
    for row, col in [(31, 5), (7, 31), (31, 31)]:  # the overhang beyond C's 30 rows and columns (clear of numbers)
        r, g, b = pixel(panel, row, col, image)
        assert max(r, g, b) - min(r, g, b) < 40, (row, col, (r, g, b))  # grey, not a block colour
        assert not close((r, g, b), block0, 40)


def test_theme_switch_recolours_the_grid_and_the_background(make_panel):
    panel = make_panel()
    light = pixel(panel, 1, 1)
    bg_light = panel.matrices.graphics.backgroundBrush().color().getRgb()[:3]
    panel.set_theme(themes.DARK)
    dark = pixel(panel, 1, 1)
    assert close(dark, c_palette(themes.DARK)[0][:3]) and not close(dark, light, 10)
    assert panel.matrices.graphics.backgroundBrush().color().getRgb()[:3] == themes.DARK.background
    assert bg_light == themes.LIGHT.background
    panel.set_theme(themes.LECTURE)
    assert panel.matrices.c.block_lines.opts["pen"].widthF() == pytest.approx(2 * 1.6)


# -- zoom and size -----------------------------------------------------------------------------------------


def test_zoomed_into_a_block_every_thread_is_labelled_with_its_thread_id_and_lane(make_panel):
    panel = make_panel(scene_of(kernel="naive", m=64, n=64, k=4, block=(8, 8)))
    views = panel.matrices
    assert views.c.labels.count == 0  # 4096 cells: too many to label
    views.zoom_c(24, 32, 8, 16)  # block (1, 3)
    labels = views.c.labels
    assert labels.count >= 64
    s = panel.scene
    # each label names the linear thread id (as the lecture: 32–63 in warp 1) and, second, the lane the model
    # gives that cell
    seen = set()
    for x, y, main, sub in zip(labels._x, labels._y, labels._main, labels._sub):
        o = s.mapping.thread_of_element(int(y), int(x))
        tx, ty = int(o["thread"][0]), int(o["thread"][1])
        assert main == str(tx + 8 * ty) and sub == f"lane {int(o['lane'])}"
        if 24 <= y < 32 and 8 <= x < 16:
            seen.add(int(main))
    assert seen == set(range(64))
    views.show_all()
    assert views.c.labels.count == 0


def test_c_numbers_every_block_where_the_number_fits(make_panel, qtbot):
    panel = make_panel(scene_of(kernel="naive", m=32, n=32, k=32, block=(8, 8)))
    views = panel.matrices
    views.show_all()
    qtbot.wait(20)
    c = views.c
    tr = c.block_labels.deviceTransform(views.graphics.viewportTransform())
    shown = c.block_labels.shown(tr)
    assert sorted(int(n) for n, _ in shown) == list(range(16))
    assert dict(shown)["13"] in ("", "blockIdx (1, 3)")
    views.zoom_c(24, 32, 8, 16)  # block 13 alone: its threads are labelled, the number gives way
    qtbot.wait(20)
    tr = c.block_labels.deviceTransform(views.graphics.viewportTransform())
    assert c.labels.fits(tr) and c.block_labels.shown(tr) == []


def test_a_4096_square_product_renders_at_screen_resolution_without_full_size_arrays(make_panel):
    scene = scene_of(kernel="naive", m=4096, n=4096, k=64, block=(16, 16))
    tracemalloc.start()
    try:
        panel = make_panel(scene)
        scene.step_by(3)
        scene.set_focus("all")
        scene.set_cumulative(True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    c = panel.matrices.c
    assert c.launch_image.image.shape[:2] == (c.rows.pixels, c.cols.pixels)
    assert c.rows.pixels <= 1080 and c.cols.pixels <= 1920
    # what it draws is screen-sized (a few MiB per layer); one int64 per element of C alone would be
    # 128 MiB, one float32 per multiply-add 4 GiB
    assert peak < 40 * 2**20, f"peak {peak / 2**20:.0f} MiB"


# -- the Panel contract -------------------------------------------------------------------------------------


def test_timeline_methods_move_the_scene(make_panel):
    panel = make_panel()
    s = panel.scene
    panel.step_by(3)
    assert s.step == 3
    panel.last_step()
    assert s.step == s.n_steps - 1
    panel.first_step()
    assert s.step == 0
    speed = panel.timeline.speed
    panel.faster()
    assert panel.timeline.speed > speed
    panel.slower()
    assert panel.timeline.speed == speed


def test_status_says_the_step(make_panel, qtbot):
    panel = make_panel()
    with qtbot.waitSignal(panel.status_changed) as blocker:
        panel.step_by(1)
    assert blocker.args[0].startswith("step 1 of 0–32")


def test_scenario_round_trip_and_refused_scenarios_keep_the_picture(make_panel):
    panel = make_panel()
    saved = panel.scenario("mine")
    presets = panel.presets()
    assert presets and presets[0].params == lecture_scene().params
    coalescing = next(p for p in presets if p.view.get("compare_kernel"))
    panel.apply_scenario(coalescing)
    assert panel.scene.params == coalescing.params and panel.scene.focus == "warp"
    assert panel.fields["m"].text() == str(coalescing.params.m)
    panel.apply_scenario(saved)
    assert panel.scene.params == lecture_scene().params and panel.scene.selected.block[:2] == (1, 3)
    bad = type(saved)("matmul", "bad", MatmulParams(block=(8, 8)), view={"step": 10_000})
    with pytest.raises(ValueError):
        panel.apply_scenario(bad)
    assert panel.scene.params == lecture_scene().params


def test_choosing_a_preset_applies_it_and_a_broken_preset_folder_is_reported_inline(make_panel, monkeypatch):
    panel = make_panel()
    box = panel.preset_box
    i = next(i for i in range(box.count()) if box.itemData(i) is not None and box.itemData(i).params.kernel == "tiled")
    box.setCurrentIndex(i)
    box.activated.emit(i)
    assert panel.scene.kernel == "tiled" and panel.preset_text.text() == box.itemData(i).description

    from gpuviz.model import scenario as scenarios

    monkeypatch.setattr(scenarios, "load_presets", lambda *a, **k: ([], ["broken.toml: [params] m must be a whole number"]))
    broken = make_panel()
    assert broken.messages["preset"].isVisible() and "broken.toml" in broken.messages["preset"].message
    assert broken.scene.params == lecture_scene().params


def test_the_c_grid_is_drawn_at_device_resolution_at_pixel_ratio_2(make_panel, qtbot):
    from dataclasses import replace

    from gpuviz.ui.export import render_widget

    panel = make_panel(scene_of(kernel="naive", m=32, n=40, k=8, block=(8, 8)), size=(1280, 720))
    c = panel.matrices.c
    vb = panel.matrices.c_plot.getViewBox()
    theme = themes.LIGHT
    panel.set_theme(replace(theme, line_scale=2 * theme.line_scale))  # as an export at ratio 2 passes it
    image = render_widget(panel, 1280, 720, dpr=2)
    two = c.launch_image.image.shape[:2]
    assert c.ratio == 2.0
    # every device pixel of C's view gets its own sample: twice the rows and columns, no upscaled pixmap
    (x0, x1), (y0, y1) = vb.viewRange()
    assert two[1] == pytest.approx(2 * vb.width() * 40 / (x1 - x0), abs=3)
    assert two[0] == pytest.approx(2 * vb.height() * 32 / (y1 - y0), abs=3)
    assert image.width() == 2560
    # the logical measures (the zoomed-out note, the line thresholds) are unchanged by the ratio
    assert c.block_pixels() == pytest.approx(8 * vb.height() / (vb.viewRange()[1][1] - vb.viewRange()[1][0]),
                                             rel=0.05)


def test_thread_warp_lane_and_block_numbers_agree_in_every_view(make_panel, qtbot):
    """The lecture's Block 13, thread 37 (threadIdx (5, 4): warp 1, lane 5), named alike by the tree, the
    details, the block view (its cell and its tooltip), the C grid's labels and the legend's heading."""
    from gpuviz.ui.matmul.hierarchy import THREAD

    panel = make_panel()  # the lecture's scene: block 13 selected
    s = panel.scene
    s.select_thread((1, 3), (5, 4))
    s.set_focus("thread")
    assert (s.selected.block_linear, s.selected.linear_id, s.selected.warp, s.selected.lane) == (13, 37, 1, 5)
    h = panel.hierarchy
    assert h.current_node() == (THREAD, 13, 1, 5)
    assert h.model.data(h.tree.currentIndex()).startswith("● Thread 37 · lane 5 · threadIdx (5, 4)")
    assert h.field_text("block").startswith("Block 13 · blockIdx (1, 3)")
    assert h.field_text("linear").startswith("thread 37") and "Warp 1: threads 32–63" in h.field_text("warp")
    bv = panel.matrices.block_view
    assert bv.title_text() == "Block 13 · blockIdx (1, 3)"
    assert bv.warp_texts() == ["Warp 0: threads 0–31", "Warp 1: threads 32–63"]
    assert bv.tooltip_for(5, 4).startswith("Thread 37 · lane 5 · warp 1 · threadIdx (5, 4) · Block 13")
    assert bv.cell_at(bv.cell_rect(5, 4).center()) == (5, 4)
    qtbot.mouseClick(bv, Qt.MouseButton.LeftButton, pos=bv.cell_rect(2, 7).center().toPoint())
    assert s.selected.thread[:2] == (2, 7) and s.selected.linear_id == 58
    views = panel.matrices
    views.zoom_c(24, 32, 8, 16)  # C zoomed to block 13: the cell of threadIdx (5, 4) is C[28, 13]
    labels = views.c.labels
    i = next(i for i, (x, y) in enumerate(zip(labels._x, labels._y)) if (int(y), int(x)) == (28, 13))
    assert (labels._main[i], labels._sub[i]) == ("37", "lane 5")
    assert "block 13 = (1, 3)" in views.legend.heading


def test_hovering_c_names_the_thread_as_the_tree_does(make_panel, qtbot):
    panel = make_panel()  # the lecture's 32×32 grid
    views = panel.matrices
    c = views.c
    assert c.tooltip_at(28, 13).startswith("Thread 37 · lane 5 · warp 1 · threadIdx (5, 4) · Block 13 · blockIdx (1, 3)")
    assert c.tooltip_at(28, 13).endswith("computes C[28, 13]")
    pt = views.view_point_of_cell(28.5, 13.5)
    qtbot.mouseMove(views.graphics.viewport(), pos=pt.toPoint())
    qtbot.wait(10)
    assert views.c_plot.getViewBox().toolTip() == c.tooltip_at(28, 13)
    edge = make_panel(scene_of(kernel="naive", m=30, n=30, k=4, block=(8, 8)))
    assert edge.matrices.c.tooltip_at(31, 2).endswith("idle (beyond C)")
