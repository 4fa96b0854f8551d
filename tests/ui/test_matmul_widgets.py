"""The matmul panel's side widgets: timeline, source, hierarchy, numbers, transactions, run for real.

Each test follows "model → widget → change the model (or act on the widget) →
check the widget (or the model)". Runs go through the real engine, on the
CUDA simulator, at tiny sizes.
"""

import multiprocessing
import sys
from pathlib import Path

import numpy as np
import pytest
from PyQt6 import sip
from PyQt6.QtCore import QPoint, Qt

from gpuviz.engine import Engine
from gpuviz.model.budget import Budget
from gpuviz.model.coalescing import MODEL_NOTE
from gpuviz.model.scene import MatmulParams, MatmulScene
from gpuviz.ui.matmul.hierarchy import BLOCK, THREAD, WARP, HierarchyView
from gpuviz.ui.matmul.numbers_view import NumbersView
from gpuviz.ui.matmul.runner import CONFIRM_ABOVE_S, RunController
from gpuviz.ui.matmul.source_view import SourceView
from gpuviz.ui.matmul.timeline import SPEEDS, Timeline, describe_step
from gpuviz.ui.matmul.transactions_view import TransactionsView
from gpuviz.ui.theme import DARK, LECTURE, LIGHT

OUT_OF_BOUNDS = str(Path(__file__).resolve().parents[1] / "kernels" / "out_of_bounds.py")


def scene_of(**kw) -> MatmulScene:
    return MatmulScene(MatmulParams(**kw))


def shown(qtbot, widget, size=(900, 700)):
    qtbot.addWidget(widget)
    widget.resize(*size)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


# -- timeline ---------------------------------------------------------------------------------------


def test_timeline_steps_scrubs_and_describes(qtbot):
    sc = scene_of(kernel="naive", m=32, n=32, k=32, block=(8, 8))
    tl = shown(qtbot, Timeline(sc, LIGHT), (1400, 200))
    # steps count from 0, as the command line's --step does: "step 0 of 0–32"
    assert tl.description.text().startswith(f"step 0 of 0–{sc.n_steps - 1}")

    qtbot.mouseClick(tl.forward_button, Qt.MouseButton.LeftButton)
    assert sc.step == 1
    info = sc.step_info()
    assert tl.description.text() == f"step 1 of 0–32 · line {info.line} · k = 1 · 1,024 threads active"

    tl.last()
    assert sc.step == sc.n_steps - 1 and tl.slider.value() == sc.n_steps - 1
    assert "write C" in tl.description.text()
    assert not tl.forward_button.isEnabled() and tl.back_button.isEnabled()
    tl.step_by(-3)
    assert sc.step == sc.n_steps - 4
    tl.first()
    assert sc.step == 0 and not tl.back_button.isEnabled()

    tl.slider.setValue(10)  # scrubbing moves the scene
    assert sc.step == 10
    assert tl.description.text() == describe_step(sc)
    sc.set_step(5)  # and the scene moves the slider
    assert tl.slider.value() == 5 and "k = 5" in tl.description.text()

    sc.configure(m=33, n=33, k=20)  # masked lanes are counted; the range follows the parameters
    assert tl.slider.maximum() == sc.n_steps - 1 == 20
    assert "1,089 of 1,600 threads active (511 masked)" in tl.description.text()


def test_timeline_plays_to_the_last_step_and_stops(qtbot):
    sc = scene_of(kernel="naive", m=4, n=4, k=6, block=(4, 4))
    tl = shown(qtbot, Timeline(sc, LIGHT), (1000, 160))
    for _ in SPEEDS:
        tl.faster()
    assert tl.speed == SPEEDS[-1] and tl.speed_label.text() == f"{SPEEDS[-1]:g} steps/s"
    assert not tl.faster_button.isEnabled()
    tl.slower()
    assert tl.speed == SPEEDS[-2]

    with qtbot.waitSignal(tl.playing_changed, timeout=2000) as started:
        tl.play_pause()
    assert started.args == [True] and tl.playing
    assert tl.play_button.text().endswith("Pause")
    with qtbot.waitSignal(tl.playing_changed, timeout=5000) as stopped:
        pass
    assert stopped.args == [False] and not tl.playing
    assert sc.step == sc.n_steps - 1

    tl.play_pause()  # at the end, play starts over
    assert tl.playing and sc.step == 0
    tl.play_pause()
    assert not tl.playing


def test_timeline_marks_the_barriers_of_the_tiled_kernel(qtbot):
    sc = scene_of(kernel="tiled", m=64, n=64, k=64, block=(16, 16))
    tl = shown(qtbot, Timeline(sc, LIGHT), (1400, 200))
    barriers = sc.barrier_steps()
    assert len(barriers) == 8 and tl.strip.isVisible()
    assert "cuda.syncthreads() barrier (8 steps" in tl.legend.text()
    img = tl.strip.grab().toImage()
    y = img.height() // 2
    for b in barriers:
        # a barrier is a tick in the text colour, right under the slider's handle position for that step
        c = img.pixelColor(round(tl.strip.x_of(int(b))), y)
        assert max(c.red(), c.green(), c.blue()) < 80, (int(b), c.name())
    off = round((tl.strip.x_of(5) + tl.strip.x_of(6)) / 2)  # inside a multiply phase, between ticks
    assert img.pixelColor(off, y).red() > 150
    # the strip's coordinates match the slider's: moving the slider to a barrier puts the handle over its tick
    tl.slider.setValue(int(barriers[1]))
    assert sc.step == barriers[1]

    sc.configure(kernel="naive", block=(16, 16))
    assert not tl.strip.isVisible()
    assert "no barriers" in tl.legend.text()


def test_timeline_theme_and_unsubscribe(qtbot):
    sc = scene_of()
    tl = Timeline(sc, LIGHT)
    qtbot.addWidget(tl)
    tl.set_theme(LECTURE)
    assert tl.font().pointSizeF() == pytest.approx(16.0)
    n = len(sc._listeners)
    tl.deleteLater()
    qtbot.waitUntil(lambda: sip.isdeleted(tl), timeout=2000)
    sc.set_step(3)  # a deleted widget is never called, and the change drops its subscription
    assert len(sc._listeners) == n - 1


@pytest.mark.parametrize("cls", [Timeline, SourceView, HierarchyView, NumbersView, TransactionsView, RunController])
def test_every_widget_takes_every_theme(qtbot, cls):
    sc = scene_of(kernel="tiled", m=33, n=17, k=20, block=(8, 8))
    w = shown(qtbot, cls(sc, LIGHT), (800, 600))
    for theme in (DARK, LECTURE, LIGHT, LECTURE):
        w.set_theme(theme)
        qtbot.wait(1)
        assert w.font().pointSizeF() == pytest.approx(10.0 * theme.font_scale)
        assert w.palette().window().color().getRgb()[:3] == theme.background
    img = w.grab().toImage()
    assert not img.isNull() and img.width() >= 800
    if isinstance(w, RunController):
        w.shutdown()


# -- source -----------------------------------------------------------------------------------------


def test_source_view_highlights_the_steps_line_and_marks_barriers(qtbot):
    sc = scene_of(kernel="tiled", m=64, n=64, k=64, block=(16, 16))
    view = shown(qtbot, SourceView(sc, LIGHT), (700, 300))
    assert view.text() == sc.source()
    assert view.editor.isReadOnly()
    assert view.highlighted_line == sc.step_info().line
    lines = sc.source().splitlines()
    sync_lines = {i for i, text in enumerate(lines, 1) if "cuda.syncthreads()" in text}
    assert view.barrier_lines == sync_lines and len(sync_lines) == 2
    for s in (int(sc.barrier_steps()[0]), 7, sc.n_steps - 1):
        sc.set_step(s)
        line = sc.step_info().line
        assert view.highlighted_line == line
        # the highlighted line is on screen: its block lies inside the viewport
        block = view.editor.document().findBlockByNumber(line - 1)
        top = view.editor.blockBoundingGeometry(block).translated(view.editor.contentOffset()).top()
        assert 0 <= top < view.editor.viewport().height()
    assert "cuda.syncthreads()" in lines[sc.step_info(int(sc.barrier_steps()[0])).line - 1]

    sc.configure(kernel="naive")
    assert view.text() == sc.source() and "matmul_naive" in view.text()
    assert view.barrier_lines == frozenset()
    assert view.highlighted_line == sc.step_info().line


# -- hierarchy --------------------------------------------------------------------------------------


def _click(qtbot, view, index):
    tree = view.tree
    parent = index.parent()
    while parent.isValid():
        tree.expand(parent)
        parent = parent.parent()
    tree.scrollTo(index)
    rect = tree.visualRect(index)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(rect.left() + 40, rect.center().y()))


def test_hierarchy_model_is_a_valid_item_model(qtmodeltester):
    sc = scene_of(kernel="naive", m=20, n=12, k=3, block=(8, 6))
    view = HierarchyView(sc, LIGHT)
    qtmodeltester.check(view.model)
    view.deleteLater()


def test_hierarchy_click_selects_in_the_scene(qtbot):
    sc = scene_of(kernel="naive", m=32, n=32, k=32, block=(8, 8))
    view = shown(qtbot, HierarchyView(sc, LIGHT), (600, 900))
    model = view.model
    events = []
    sc.subscribe(lambda s, changes: events.append(changes))

    _click(qtbot, view, model.node_index(WARP, 6, 1))  # block 6 = (2, 1), warp 1
    sel = sc.selected
    assert (sel.block[:2], sel.warp, sel.lane) == ((2, 1), 1, 0)
    assert len(events) == 1  # no feedback loop
    assert view.current_node() == (WARP, 6, 1, 0)  # the node the user chose stays current

    _click(qtbot, view, model.node_index(BLOCK, 13))
    assert (sc.selected.block[:2], sc.selected.thread[:2]) == ((1, 3), (0, 0))
    assert view.current_node() == (BLOCK, 13, 0, 0)

    _click(qtbot, view, model.node_index(THREAD, 13, 0, 21))
    assert sc.selected.thread[:2] == (5, 2) and sc.selected.lane == 21
    assert view.field_text("element") == "C[26, 13]"
    assert view.field_text("row").startswith("A[26, 0:32]") and view.field_text("col").startswith("B[0:32, 13]")
    assert "● Thread 21 · lane 21 · threadIdx (5, 2)" in model.data(model.node_index(THREAD, 13, 0, 21))
    assert model.data(model.node_index(BLOCK, 13)).startswith("Block 13 · blockIdx (1, 3)")


def test_hierarchy_follows_the_scene(qtbot):
    sc = scene_of(kernel="naive", m=33, n=33, k=4, block=(8, 8))
    view = shown(qtbot, HierarchyView(sc, LIGHT), (600, 900))
    sc.select_element(20, 11)  # block (1, 2), thread (3, 4): linear 35, warp 1, lane 3
    b = sc.selected.block_linear
    assert view.current_node() == (THREAD, b, 1, 3)
    ix = view.tree.currentIndex()
    assert view.tree.isExpanded(ix.parent()) and view.tree.isExpanded(ix.parent().parent())
    assert view.tree.selectionModel().isSelected(ix)
    assert view.field_text("element") == "C[20, 11]"
    assert view.field_text("warp") == "warp 1 · lane 3 (Warp 1: threads 32–63)"
    assert view.field_text("global") == "(11, 20) = (1·8 + 3, 2·8 + 4)"

    sc.select_thread((4, 4), (3, 2))  # row 34, col 35: outside C
    assert view.current_node() == (THREAD, 24, 0, 19)
    assert view.field_text("element").startswith("idle: outside C")
    assert "idle" in view.model.data(view.tree.currentIndex())
    assert "idle" in view.model.data(view.model.node_index(BLOCK, 24))

    sc.configure(m=8, n=8)  # a new grid: the tree is rebuilt around the (reset) selection
    assert view.model.rowCount(view.model.node_index(0)) == 1
    assert view.current_node() == (THREAD, 0, 0, 0)


def test_hierarchy_of_a_large_grid_is_lazy(qtbot):
    sc = scene_of(kernel="naive", m=4096, n=4096, k=8, block=(16, 16))
    view = shown(qtbot, HierarchyView(sc, LIGHT), (600, 900))
    model = view.model
    assert model.grouped and model.rowCount(model.node_index(0)) == 256  # rows of blocks
    sc.select_thread((100, 200), (3, 9))
    b = 200 * 256 + 100
    assert view.current_node() == (THREAD, b, 4, 19)
    assert model.data(view.tree.currentIndex()).startswith("● Thread 147 · lane 19 · threadIdx (3, 9) · C[3209, 1603]")


# -- numbers ----------------------------------------------------------------------------------------


def test_numbers_match_the_model(qtbot):
    sc = scene_of(kernel="tiled", m=33, n=17, k=20, block=(8, 8))
    view = shown(qtbot, NumbersView(sc, LIGHT), (600, 700))
    nb = sc.numbers()
    assert view.value_text("threads") == f"{nb.threads:,} = {nb.blocks} × 64"
    assert view.value_text("busy") == f"{nb.busy_threads:,}" == "561"
    assert view.value_text("idle").startswith(f"{nb.idle_threads:,} (")
    assert view.value_text("warp_efficiency") == f"{100 * nb.warp_efficiency:.1f} %"
    assert view.value_text("global_loads") == f"{nb.global_loads:,}"
    assert view.value_text("shared_loads") == f"{nb.shared_loads:,}"
    assert view.value_text("shared_per") == f"{nb.shared_loads / nb.elements:,.2f}"
    assert view.value_text("shared_stores") == f"{nb.shared_stores:,}"
    assert view.value_text("flops") == f"{nb.flops:,}"
    assert view.value_text("intensity") == f"{nb.arithmetic_intensity:.2f} FLOP/byte"
    st = sc.step_numbers()
    assert view.value_text("active").startswith(f"{st.active_threads:,} of {nb.threads:,}")
    assert view.value_text("masked") == f"{st.masked_lanes:,}"
    assert all(view._names[k].toolTip() for k in view._names)

    sc.set_step(int(sc.barrier_steps()[0]))
    assert "barrier" in view.value_text("step_accesses")
    sc.configure(kernel="naive", m=4096, n=4096, k=4096, block=(16, 16))
    nb = sc.numbers()
    assert view.value_text("flops") == "137,438,953,472" == f"{nb.flops:,}"
    assert view.value_text("global_loads") == "137,438,953,472" and view.value_text("global_per") == "8,192"
    assert view.value_text("bytes") == "512.0 GiB" and "549,755,813,888 bytes" in view._values["bytes"].toolTip()


def test_numbers_call_the_operands_by_their_names_and_keep_the_bias_out_of_the_counts(qtbot):
    sc = scene_of(kernel="naive", m=3, n=1, k=7, block=(8, 8), names=("W", "x", "z"), bias="b")
    view = shown(qtbot, NumbersView(sc, LIGHT), (600, 700))
    assert view.launch_box.title() == "Whole launch · naive · z 3×1, K = 7"
    assert view.name_text("busy") == "… computing z" and view.name_text("global_per") == "… per element of z"
    assert "(W and x)" in view._names["global_loads"].toolTip() and "inside z" in view._values["busy"].toolTip()
    assert view.value_text("step_line") == "acc += W[row, 0]·x[0, col]"
    assert view.value_text("flops") == "42"  # 2·M·N·K: the bias's 3 additions are not the kernel's
    assert view.bias_note.isVisible()
    assert view.bias_note.text().startswith("z = W·x + b: the kernel counted below computes W·x; the bias b (3×1")
    assert "3 more additions that are not part of this launch" in view.bias_note.text()
    sc.set_step(sc.n_steps - 1)
    assert view.value_text("step_line") == "z[row, col] = acc  (b is added after this kernel)"
    # names that look like markup never reach a rich-text label: they are refused, and the labels are plain
    assert all(label.textFormat() == Qt.TextFormat.PlainText for label in view._names.values())
    sc.configure(names=("A", "B", "C"), bias=None)
    assert view.launch_box.title() == "Whole launch · naive · C 3×1, K = 7"
    assert view.name_text("busy") == "… computing C" and view.bias_note.isHidden()
    assert view.value_text("step_line") == "C[row, col] = acc"


# -- operand plots -----------------------------------------------------------------------------------


def operand_view(qtbot, name, shape, theme=LIGHT, view=None, pixels=(420, 300)):
    """An OperandView alone in a plot, showing ``view`` ((x0, x1), (y0, y1); default the whole array)."""
    import pyqtgraph as pg

    from gpuviz.ui.matmul.operand_view import OperandView

    widget = pg.GraphicsLayoutWidget()
    plot = widget.addPlot()
    ov = OperandView(plot, name, theme)
    ov.set_shape(shape)
    shown(qtbot, widget, pixels)
    (x0, x1), (y0, y1) = view or ((0, shape[1]), (0, shape[0]))
    plot.getViewBox().setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
    qtbot.waitUntil(lambda: ov.update_sampling() or ov.rows is not None)
    return widget, ov


def test_hovering_an_operand_names_its_element_in_the_scenarios_names(qtbot):
    from PyQt6.QtCore import QEvent, QPointF
    from PyQt6.QtGui import QMouseEvent
    from PyQt6.QtWidgets import QApplication

    widget, ov = operand_view(qtbot, "A", (3, 7))
    ov.set_names(("W", "x", "z"), "b")
    values = np.zeros((ov.rows.bins, ov.cols.bins))
    values[:, 0] = 1  # the lecture's first step: column 0 of W, once each
    ov.render_heat(values, 3.0)
    assert ov.display_name == "W"
    assert ov.tooltip_at(0.5, 1.5) == ("W[1, 0]: row 1 of W, k = 0\nrow 1 of W feeds row 1 of z\n"
                                       "read 1 time by the threads in focus, as coloured")
    ov.cumulative = False
    assert ov.tooltip_at(3.2, 2.9).endswith("read 0 times by the threads in focus, this step")
    assert ov.tooltip_at(7.5, 1.5) == "" and ov.tooltip_at(0.5, -0.5) == ""
    # a real mouse move over the plot sets the tooltip Qt shows for that point
    vb = ov.plot.getViewBox()
    at = widget.mapFromScene(vb.mapViewToScene(QPointF(0.5, 2.5)))
    QApplication.sendEvent(widget.viewport(), QMouseEvent(
        QEvent.Type.MouseMove, QPointF(at), QPointF(widget.viewport().mapToGlobal(at)), Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier))
    assert vb.toolTip().startswith("W[2, 0]: row 2 of W")
    tip = [i for i in widget.scene().items(vb.mapViewToScene(QPointF(0.5, 2.5))) if i.toolTip()]
    assert tip and tip[0] is vb  # the topmost item with a tooltip there: the one Qt shows

    _, bv = operand_view(qtbot, "B", (784, 64), view=((0, 64), (0, 784)), pixels=(300, 200))
    bv.set_names(("W", "X", "Z"))
    assert bv.rows.bins < 784  # zoomed out: a pixel row averages several k
    counts = np.zeros((bv.rows.bins, bv.cols.bins))
    counts[0, :] = bv.rows.bin_cells()[0]  # every element of the first bin read once
    bv.render_heat(bv.per_cell(counts), 1.0)
    tip = bv.tooltip_at(5.5, 0.5)
    assert tip.startswith("X[0, 5]: k = 0, column 5 of X\ncolumn 5 of X feeds column 5 of Z")
    assert f"about 1.00 reads per element by the threads in focus, as coloured (averaged over the " \
           f"{bv.rows.bin_cells()[0]:,} elements this pixel shows)" in tip


@pytest.mark.parametrize("theme", [LIGHT, DARK, LECTURE])
def test_counts_on_heat_cells_reach_wcag_contrast(qtbot, theme):
    from gpuviz.ui.theme import MIN_TEXT_CONTRAST, contrast_ratio

    _, ov = operand_view(qtbot, "A", (4, 8), theme)
    values = np.tile(np.arange(8, dtype=float), (4, 1))  # every step of the ramp, 0 (none) to the most
    ov.render_heat(values, 7.0)
    assert ov.labels.count == 4 * 7
    lut = ov._lut
    shades = {int(i) for i in np.unique(ov.heat_image.image[..., 0])}
    assert len(shades) > 3
    for colour, x in zip(ov.labels._colours, ov.labels._x):
        bg = tuple(int(v) for v in lut[1 + round(254 * x / 7), :3])
        assert contrast_ratio((colour.red(), colour.green(), colour.blue()), bg) >= MIN_TEXT_CONTRAST


# -- transactions -----------------------------------------------------------------------------------


def test_transactions_show_the_models_sectors(qtbot):
    sc = scene_of(kernel="naive", m=64, n=64, k=64, block=(32, 8))
    sc.set_step(3)
    sc.select_thread((0, 1), (0, 2))
    view = shown(qtbot, TransactionsView(sc, LIGHT), (760, 1000))
    reqs = sc.warp_requests()
    got = view.shown_requests()
    assert [r.array for r in got] == [r.array for r in reqs] == ["A", "B"]
    for a, b in zip(got, reqs):
        assert np.array_equal(a.sectors, b.sectors) and np.array_equal(a.addresses, b.addresses)
    captions = view.strip_captions()
    assert "→ <b>1 sector</b>" in captions[0] and "→ <b>4 sectors</b>" in captions[1]
    strip = view.strips[1][1]
    assert len(strip.geometry_of()["sectors"]) == 4
    # the table lists every active lane's element, address and sector
    assert view.table.rowCount() == 64
    assert view.table.item(32, 2).text() == "B[3, 0]" and view.table.item(32, 3).text() == f"{3 * 64 * 4:,}"
    totals = sc.memory_totals()
    assert f"{totals.arrays['B'].sectors:,}" in view.totals_text()
    assert MODEL_NOTE == view.note.text() and view.note.isVisible()

    assert view.compare_text() == ""
    sc.set_compare_kernel("uncoalesced")
    cmp = sc.compare()
    text = view.compare_text()
    assert "naive | uncoalesced" in text
    assert f"{cmp.first.loads.sectors:,} | {cmp.second.loads.sectors:,}" in text
    assert view.sentence.text() == cmp.sentence and view.sentence.isVisible()
    assert view.compare_combo.currentData() == "uncoalesced"
    view.compare_combo.setCurrentIndex(0)  # the combo drives the scene too
    assert sc.compare_kernel is None and view.compare_text() == ""

    sc.configure(kernel="tiled", block=(16, 16))
    sc.set_step(int(sc.barrier_steps()[0]))
    assert view.shown_requests() == [] and "barrier" in view.empty.text()
    sc.configure(block=(32, 8), kernel="naive")
    tiled = view.compare_combo.findData("tiled")
    assert not view.compare_combo.model().item(tiled).isEnabled()  # tiled needs a square block


def test_hidden_views_catch_up_when_asked_or_shown(qtbot):
    # a view in a background tab skips the work of each step, never the result
    sc = scene_of(kernel="naive", m=64, n=64, k=64, block=(32, 8))
    tx, nv = TransactionsView(sc, LIGHT), NumbersView(sc, LIGHT)
    qtbot.addWidget(tx)
    qtbot.addWidget(nv)
    sc.set_step(9)
    sc.select_thread((1, 2), (0, 4))
    assert [r.addresses.tolist() for r in tx.shown_requests()] == [r.addresses.tolist() for r in sc.warp_requests()]
    assert "this step: line" in tx.header.text() and "warp 4 of block (1, 2)" in tx.header.text()
    assert nv.value_text("active") == f"{sc.step_numbers().active_threads:,} of 4,096"
    assert nv.step_box.title().startswith("This step · step 9 of 0–64")
    sc.configure(kernel="uncoalesced")
    shown(qtbot, tx)
    assert f"{sc.memory_totals().arrays['A'].sectors:,}" in tx.totals_text()


# -- run for real ----------------------------------------------------------------------------------


def test_run_on_the_simulator_shows_a_correct_result(qtbot, engine):
    sc = scene_of(kernel="naive", m=8, n=8, k=8, block=(4, 4), backend="simulator")
    rc = shown(qtbot, RunController(sc, engine, LIGHT), (900, 200))
    statuses = []
    rc.status_changed.connect(statuses.append)
    with qtbot.waitSignal(rc.finished, timeout=120_000) as done:
        qtbot.mouseClick(rc.run_button, Qt.MouseButton.LeftButton)
        assert rc.running and not rc.run_button.isEnabled()
    result = done.args[0]
    assert result.ok and rc.outcome == "ok"
    text = rc.result_text()
    assert "✔ Correct" in text and "max abs error vs NumPy" in text
    assert f"{result.max_abs_error:.3g}" in text
    assert "CPU simulation time (not GPU speed)" in text and "CUDA simulator (CPU)" in text
    assert any("running on the CUDA simulator" in s and "blocks" in s for s in statuses)
    assert rc.run_button.isEnabled() and not rc.running
    assert "numba" not in sys.modules  # the GUI process never imports numba
    rc.shutdown()


def test_cancel_stops_the_run_and_its_worker(qtbot):
    sc = scene_of(kernel="naive", m=64, n=64, k=64, block=(8, 8), backend="simulator")
    rc = shown(qtbot, RunController(sc, None, LIGHT), (900, 200))
    before = {p.pid for p in multiprocessing.active_children()}
    rc.run()
    qtbot.waitUntil(lambda: rc.progress.maximum() > 1, timeout=60_000)  # the simulator reports blocks
    workers = {p.pid for p in multiprocessing.active_children()} - before
    assert workers
    with qtbot.waitSignal(rc.finished, timeout=30_000) as done:
        qtbot.mouseClick(rc.cancel_button, Qt.MouseButton.LeftButton)
    assert done.args[0].status == "cancelled" and rc.outcome == "cancelled"
    assert "Cancelled" in rc.result_text()
    assert not rc.running
    alive = {p.pid for p in multiprocessing.active_children()}
    assert not (workers & alive)
    rc.shutdown()
    assert rc._engine is None  # the engine it made is closed


def test_shutdown_cancels_a_running_job_and_leaves_no_worker(qtbot):
    sc = scene_of(kernel="naive", m=64, n=64, k=64, block=(8, 8), backend="simulator")
    rc = shown(qtbot, RunController(sc, None, LIGHT), (900, 200))
    before = {p.pid for p in multiprocessing.active_children()}
    rc.run()
    qtbot.waitUntil(lambda: rc.progress.maximum() > 1, timeout=60_000)
    assert {p.pid for p in multiprocessing.active_children()} - before
    rc.shutdown()
    assert not rc.running
    assert {p.pid for p in multiprocessing.active_children()} <= before


def test_a_kernel_error_is_shown_not_raised(qtbot, engine):
    sc = scene_of(kernel="naive", m=6, n=6, k=6, block=(4, 4), backend="simulator")
    rc = shown(qtbot, RunController(sc, engine, LIGHT, kernel_path=OUT_OF_BOUNDS), (900, 200))
    with qtbot.waitSignal(rc.finished, timeout=120_000):
        rc.run()
    assert rc.outcome == "error"
    text = rc.result_text()
    assert "The kernel raised an error" in text and "IndexError" in text and "out of bounds" in text
    assert rc.run_button.isEnabled()


def test_a_long_simulation_asks_first(qtbot, engine):
    sc = scene_of(kernel="tiled", m=128, n=128, k=128, block=(16, 16), backend="simulator")
    rc = shown(qtbot, RunController(sc, engine, LIGHT), (900, 200))
    rc.run()
    qtbot.waitUntil(lambda: rc.confirm_visible, timeout=10_000)
    assert not rc.running and rc.result is None
    text = rc.confirm_label.text()
    assert "would take about" in text and "Run it anyway?" in text
    assert rc.run_anyway_button.isVisible() and rc.decline_button.isVisible()
    with qtbot.waitSignal(rc.finished, timeout=2000) as done:
        qtbot.mouseClick(rc.decline_button, Qt.MouseButton.LeftButton)
    assert done.args == [None] and rc.outcome == "declined" and not rc.confirm_visible
    assert CONFIRM_ABOVE_S == 10.0


def test_a_refused_run_is_shown_inline(qtbot):
    sc = scene_of(kernel="naive", m=8, n=8, k=8, block=(4, 4), backend="simulator")
    tiny = Engine(Budget(memory_bytes=1000))
    rc = shown(qtbot, RunController(sc, tiny, DARK), (900, 200))
    with qtbot.waitSignal(rc.finished, timeout=10_000) as done:
        rc.run()
    assert done.args == [None] and rc.outcome == "refused"
    assert "✘ Not run" in rc.result_text() and "memory budget" in rc.result_text()
    rc.shutdown()
    tiny.close()


def test_a_gpu_result_shows_gpu_time_and_name_never_simulation(qtbot):
    # no GPU here: the result a GPU worker returns is built by hand to check how it is labelled
    from gpuviz.engine import MatmulJob, RunResult
    from gpuviz.model.launch import Dim3

    sc = scene_of(kernel="naive", m=256, n=256, k=256, block=(16, 16), backend="gpu")
    rc = shown(qtbot, RunController(sc, None, LECTURE), (1200, 220))
    job = MatmulJob("naive", 256, 256, 256, Dim3(16, 16), backend="gpu")
    timing = "CUDA events, median of 5 launches after a warm-up"
    rc._on_done(RunResult("ok", "C matches A·B", job, "gpu", "NVIDIA H100 80GB HBM3", None, 3.1e-6, 2e-7,
                          1.234e-4, timing))
    text = rc.result_text()
    assert "✔ Correct" in text and "GPU kernel time: 123.4 µs" in text and timing in text
    assert "GPU: NVIDIA H100 80GB HBM3" in text and "simulat" not in text.lower()
    sc.configure(m=128)
    assert "(earlier parameters)" in rc.result_text()
    rc.shutdown()
