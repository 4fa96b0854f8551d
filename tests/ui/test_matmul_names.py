"""The matmul panel in the scenario's names: preset 02 (z = W·x + b) shows W, x, z and never A, B, C.

Each text the panel shows about an operand (the legend, the step line, the tree's details, the controls'
labels, the run's line, the result's subtitle) is read from the widgets after loading the preset, and
searched for a lone A, B or C used as a name: a capital letter standing alone, or before ``[`` or ``'s``.
"""

import re

import pytest
from PyQt6.QtCore import Qt

from gpuviz.model import scenario as scenarios
from gpuviz.model.scene import MatmulParams, MatmulScene
from gpuviz.ui.matmul.panel import MatmulPanel
from gpuviz.ui.matmul.timeline import describe_step

#: A, B or C as an operand's name: alone as a word (not "A thread", which the lower-case word after it
#: tells apart), or indexed (C[3, 0]), or possessive (A's tile).
_OPERAND = re.compile(r"(?<![\w\[])(?:[BC]|A(?! [a-z]))(?=\[|'s|[\s,·:)]|$)")


def operand_names_in(text: str) -> list[str]:
    return _OPERAND.findall(text)


def test_the_pattern_finds_the_default_names_and_not_the_article():
    assert operand_names_in("C element written this step") == ["C"]
    assert operand_names_in("A, B: reads this step") == ["A", "B"]
    assert operand_names_in("load A's tile into sA") == ["A"]
    assert operand_names_in("idle thread (beyond C): hatched") == ["C"]
    assert operand_names_in("C[3, 0]") == ["C"]
    assert operand_names_in("A thread block: its threads share") == []
    assert operand_names_in("sA, sB") == []


@pytest.fixture
def dense_panel(qtbot):
    presets, errors = scenarios.load_presets("matmul")
    preset = scenarios.find_preset(presets, "02-dense-layer-wx")
    assert preset is not None and preset.params.names == ("W", "x", "z") and preset.params.bias == "b"
    panel = MatmulPanel()
    qtbot.addWidget(panel)
    panel.resize(1366, 768)
    panel.show()
    qtbot.waitExposed(panel)
    panel.apply_scenario(preset)
    yield panel
    panel.shutdown()
    panel.close()


def test_preset_02_shows_w_x_z_in_the_legend_steps_tree_controls_and_run(dense_panel):
    panel = dense_panel
    sc = panel.scene
    texts = {}
    for step in range(sc.n_steps):
        sc.set_step(step)
        texts[f"legend at step {step}"] = " | ".join(t for _, _, t in panel.matrices.legend.entries())
        texts[f"legend heading at step {step}"] = panel.matrices.legend.heading
        texts[f"status at step {step}"] = describe_step(sc)
    texts["last step"] = describe_step(sc, sc.n_steps - 1)
    assert "write z" in texts["last step"]
    legend = texts[f"legend at step {sc.n_steps - 1}"]
    assert "z element written this step" in legend and "W, x:" in legend

    d = panel.hierarchy
    texts["tree details"] = " | ".join(f"{d._field_names[k].text()} {d._fields[k].text()} {d._fields[k].toolTip()}"
                                       for k in ("element", "row", "col"))
    assert "Row of W:" in texts["tree details"] and "Column of x:" in texts["tree details"]
    assert "z[0, 0]" in texts["tree details"]
    sc.select_thread((0, 0), (3, 3))  # beyond z's 3×1: idle
    texts["tree details, idle"] = d._fields["element"].text()
    assert texts["tree details, idle"].startswith("idle: outside z")

    texts["controls"] = " | ".join(lab.text() for lab in (*panel.section_labels, *panel._size_labels.values()))
    assert "Product z = W·x + b" in texts["controls"] and "M (rows of z)" in texts["controls"]
    texts["control tips"] = " | ".join(w.toolTip() for w in (panel.fields["m"], panel.fields["n"], panel.fields["k"],
                                                             panel.fields["kernel"], panel.focus_box,
                                                             panel.cumulative_box))
    texts["run"] = panel.runner.status.text() + " | " + panel.runner.run_button.toolTip()
    assert "checks z against NumPy" in texts["run"]

    found = {where: operand_names_in(text) for where, text in texts.items()}
    assert not {where: names for where, names in found.items() if names}, (found, texts)


def test_preset_02_says_the_bias_is_added_after_the_kernel_on_the_result_in_both_looks(dense_panel):
    panel = dense_panel
    title = panel.matrices.c_title
    assert title.main.startswith("z = W·x + b")
    assert "+ b" in title.sub and "after the kernel" in title.sub
    panel.set_slide(True)
    assert "after the kernel" in panel.matrices.c_title.sub
    drawn = " ".join(panel.matrices.c_title.shown_lines())
    assert "after the kernel" in drawn  # drawn whole, not cut off by the slide's narrow C
    # the source line keeps the kernel's parameter names; the slide says it again in the scenario's
    panel.scene.set_step(2)
    assert panel.slide_source.text().endswith("\ni.e. acc += W[row, 2]·x[2, col]"), panel.slide_source.text()
    panel.set_slide(False)


def test_a_scene_without_a_bias_says_nothing_of_one_and_keeps_a_b_c(qtbot):
    panel = MatmulPanel(scene=MatmulScene(MatmulParams(kernel="tiled", m=20, n=20, k=20, block=(8, 8))))
    qtbot.addWidget(panel)
    panel.resize(1366, 768)
    panel.show()
    try:
        assert "after the kernel" not in panel.matrices.c_title.sub
        assert panel.section_labels[1].text() == "Product C = A·B"
        roles = {panel.scene.step_info(i).role: i for i in range(panel.scene.n_steps)}
        assert "load A's tile into sA" in describe_step(panel.scene, roles["load_a"])
        panel.scene.configure(names=["W", "X", "Z"])
        assert "load W's tile into sA" in describe_step(panel.scene, roles["load_a"])
        assert "load X's tile into sB" in describe_step(panel.scene, roles["load_b"])
        assert panel.section_labels[1].text() == "Product Z = W·X"
        assert panel.hierarchy._field_names["row"].text() == "Row of W:"
    finally:
        panel.shutdown()
        panel.close()


def test_the_operands_tooltips_say_so_far_once_the_reads_are_cumulative(dense_panel):
    panel = dense_panel
    a = panel.matrices.a
    panel.scene.set_step(3)
    panel.scene.set_cumulative(True)
    assert a.cumulative is True and "so far" in a.tooltip_at(0.5, 0.5)
    panel.scene.set_cumulative(False)
    assert a.cumulative is False and "this step" in a.tooltip_at(0.5, 0.5)
    assert a.tooltip_at(0.5, 0.5).startswith("W[0, 0]")


def test_the_tabs_name_the_tiles_and_transactions_by_the_scenario(qtbot):
    scene = MatmulScene(MatmulParams(kernel="tiled", m=10, n=16, k=24, block=(8, 8), names=("W", "X", "Z")))
    panel = MatmulPanel(scene=scene)
    qtbot.addWidget(panel)
    panel.resize(1366, 768)
    panel.show()
    try:
        roles = [scene.step_info(i).role for i in range(scene.n_steps)]
        scene.set_step(roles.index("load_a"))
        panel.shared.refresh()
        canvas = panel.shared.canvas
        assert canvas.titles("sA")[0].startswith("sA ← W[") and canvas.titles("sB")[1].startswith("sB[ty, tx] = X[")
        legend = " | ".join(t for _, t in canvas.legend_entries())
        assert "W or X" in legend and not operand_names_in(legend), legend
        assert "copy their element of W" in panel.shared.describe()
        captions = " | ".join(panel.transactions.strip_captions())
        assert captions.startswith("<b>W · load</b>"), captions
        totals = panel.transactions.totals_text()
        assert totals.splitlines()[0] == " | W loads | X loads | Z stores | all", totals  # (B is bytes below)
    finally:
        panel.shutdown()
        panel.close()


@pytest.mark.parametrize("size", [(1366, 768), (1024, 768)])
def test_the_details_tabs_read_whole_in_a_narrow_column(qtbot, size):
    """Every tab title is shown whole (wrapped onto rows, never cut to "Nu…"), within the column, and a
    click on one shows its page; the tiled kernel's sA, sB appears and goes with the kernel."""
    panel = MatmulPanel(scene=MatmulScene(MatmulParams(kernel="naive", m=64, n=64, k=64, block=(8, 8))))
    qtbot.addWidget(panel)
    panel.resize(size[0] - 16, size[1] - 90)  # as the main window leaves it
    panel.show()
    qtbot.waitExposed(panel)
    try:
        qtbot.wait(20)  # the rows' height follows their width through a posted layout request
        rows, tabs = panel.tab_rows, panel.tabs
        titles = [tabs.tabText(i) for i in range(tabs.count()) if tabs.isTabVisible(i)]
        assert rows.shown_titles() == titles and "sA, sB" not in titles
        assert [t for row in rows.rows() for t in row] == titles
        for b in rows.buttons:
            if not b.isHidden():
                assert b.geometry().right() < rows.width() and b.geometry().bottom() < rows.height()
                assert b.fontMetrics().horizontalAdvance(b.text()) <= b.width(), b.text()
        bank = next(b for b in rows.buttons if b.text() == "Banks")
        qtbot.mouseClick(bank, Qt.MouseButton.LeftButton)
        assert tabs.currentWidget() is panel.banks and bank.isChecked() and bank.font().bold()
        panel.scene.configure(kernel="tiled")
        assert "sA, sB" in rows.shown_titles()
        panel.scene.configure(kernel="naive")
        assert "sA, sB" not in rows.shown_titles()
    finally:
        panel.shutdown()
        panel.close()
