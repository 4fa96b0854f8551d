"""Issue 17 in the Speed panel: it says what it shows, flags noisy figures, and shows CPU vs GPU without a GPU."""

import pytest
from PyQt6.QtCore import Qt

from gpuviz.model import speed
from gpuviz.model.reference_table import lecture_table
from gpuviz.model.scenario import load_presets
from gpuviz.model.speed import BenchResults, Measurement
from gpuviz.ui import theme as themes
from gpuviz.ui.speed.panel import SpeedPanel
from gpuviz.ui.speed.plots import NOISY_COLOUR

from .test_speed_panel import MACHINE, FakeEngine, dot_demo_results, layer_results, show

ADVICE = speed.NOISY_ADVICE


@pytest.fixture
def make_panel(qtbot):
    made = []

    def make(engine=None):
        p = SpeedPanel(engine=engine, theme=themes.LIGHT)
        qtbot.addWidget(p)
        p.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        p.resize(1920, 1080)
        p.show()
        made.append(p)
        return p

    yield make
    for p in made:
        p.shutdown()


@pytest.fixture
def panel(make_panel):
    return make_panel()


def noisy_dot_results():
    loop = Measurement("dot", "python", 1_000_000, 0.036, 0.035, 0.04, 5, None, None, 2e6, 0.0)
    vec = Measurement("dot", "numpy", 1_000_000, 3e-4, 1e-4, 8e-3, 50, None, None, 2e6, 0.0, load=2.5,
                      noisy=speed.noisy_reason(3e-4, 1e-4, 2.5, 2))
    return BenchResults(MACHINE, [loop, vec], created="2026-12-06T10:00:00+00:00")


def noisy_matmul_results():
    ms = []
    for n in (16, 32, 64):
        ms.append(Measurement("matmul", "python", n, 1e-3 * n, 1e-3 * n, 1e-3 * n, 3, None, None,
                              speed.flops("matmul", n), 0.0))
        noisy = speed.noisy_reason(2e-5, 1e-5) if n == 32 else None
        ms.append(Measurement("matmul", "numpy", n, 2e-5 if n == 32 else 1e-5, 1e-5, 3e-5, 9, None, None,
                              speed.flops("matmul", n), 0.0, noisy=noisy))
    return BenchResults(MACHINE, ms, created="2026-12-06T10:00:00+00:00")


# -- the headline and the flag -------------------------------------------------------------------


def test_the_headline_is_the_ratio_of_the_fastest_runs_with_the_medians_beside_it(panel):
    show(panel, noisy_dot_results())
    # 35 ms / 100 µs; noise pulls the medians' ratio (120×) far from it, so the big line says which is which
    assert panel.ratio_label.text() == "NumPy is 350× faster than the Python loop (fastest runs; medians: 120×)"
    assert "ratio of the fastest runs, of the medians 120×" in panel.medians_label.text()


def test_a_noisy_measurement_is_flagged_on_the_headline_and_the_bar_with_what_to_do(panel):
    show(panel, noisy_dot_results())
    assert panel.noisy_label.isVisible()
    text = panel.noisy_label.text()
    assert "load average up to 2.5 on 2 cores (NumPy)" in text and "median up to 3× the minimum (NumPy)" in text
    assert text.endswith(ADVICE)
    assert panel.plots.noisy_points == {"bars": 1}
    numpy_label = panel.plots.bar_labels[1]
    assert "noisy" in numpy_label.toPlainText() and numpy_label.color.getRgb()[:3] == NOISY_COLOUR
    assert "noisy" not in panel.plots.bar_labels[0].toPlainText()
    # on a slide too: the flag is part of the figure
    panel.set_slide(True)
    assert panel.noisy_label.isVisible()
    panel.set_slide(False)
    show(panel, dot_demo_results())  # nothing flagged: no warning
    assert not panel.noisy_label.isVisible() and panel.plots.noisy_points == {}


def test_a_noisy_point_gets_a_ring_and_its_hover_says_why(panel):
    show(panel, noisy_matmul_results())
    assert panel.plots.mode == "lines"
    assert panel.plots.noisy_points["time"] == 1 and panel.plots.noisy_points["speedup"] == 1
    ring = panel.plots._noisy_marks["time"]
    assert list(ring.xData) == [32] and ring.opts["symbolPen"].color().getRgb()[:3] == NOISY_COLOUR
    item = next(p for p in panel.plots.points["time"] if p[0] == "numpy" and p[1].size == 32)
    assert panel.plots.point_text("time", item).endswith(f"NOISY: median 2× the minimum: {ADVICE}")
    # new figures in the same layout move the rings with them
    show(panel, noisy_matmul_results())
    assert panel.plots.noisy_points["time"] == 1


def test_axes_carry_their_units_and_no_automatic_si_factor(panel):
    show(panel, noisy_matmul_results())
    for plot in panel.plots.plots.values():
        for name in ("left", "bottom"):
            axis = plot.getAxis(name)
            assert not axis.autoSIPrefix
            assert "(x" not in axis.labelString()
    show(panel, dot_demo_results())
    assert "(x" not in panel.plots.plots["bars"].getAxis("bottom").labelString()


# -- the title and the source -----------------------------------------------------------------------


def test_the_title_follows_the_operation_and_sweep_that_was_run(make_panel, qtbot):
    engine = FakeEngine(layer_results())
    p = make_panel(engine)
    p.lecture_demo()
    qtbot.waitUntil(lambda: not p.running and bool(p.outcome), timeout=5000)
    assert p.title_label.text().startswith("Lecture demo")  # the demo's own sweep: its own title
    p.op_box.setCurrentIndex(p.op_box.findData("layer"))
    p.sizes_field.setText("1, 16, 256")
    assert p.run()
    qtbot.waitUntil(lambda: not p.running and bool(p.outcome), timeout=5000)
    title = speed.sweep_title("layer", [1, 16, 256])
    assert title == ("Dense layer 10×784, forward + backward, softmax cross-entropy (float64), "
                     "batch sizes 1 to 256")
    assert p.title_label.text() == title
    # an export and a saved scenario are titled by what was measured, not by what the window opened
    assert p.scenario("export").title == title


def test_results_kept_in_a_temporary_file_are_never_presented_as_loaded_from_it(make_panel, qtbot):
    engine = FakeEngine(dot_demo_results())
    p = make_panel(engine)
    p.lecture_demo()
    qtbot.waitUntil(lambda: not p.running and bool(p.outcome), timeout=5000)
    scenario = p.scenario("export")
    assert "measured-" in scenario.view["results"]  # this session's temporary file
    copy = make_panel()  # what an export draws
    copy.apply_scenario(scenario)
    assert copy.source_label.text() == f"Measured on: {MACHINE.label()} — 2026-11-27"
    assert "Loaded from" not in copy.source_label.text()


def test_a_shipped_preset_says_it_was_measured_elsewhere(panel):
    panel.apply_scenario(load_presets("speed")[0][0])
    assert panel.source_label.text().startswith("Shipped with gpuviz, measured on: ")
    assert panel.results.machine.label() in panel.source_label.text()


# -- CPU vs GPU ---------------------------------------------------------------------------------------


def test_the_layer_shows_the_lectures_table_beside_this_machines_figures(panel):
    panel.op_box.setCurrentIndex(panel.op_box.findData("layer"))
    show(panel, layer_results())
    view = panel.reference_view
    assert view.isVisible()
    table = lecture_table()
    ref = view.plots["reference"]
    assert view.titles["reference"].startswith("Measured elsewhere: Training a CNN on CIFAR-10")
    assert view.bar_texts["reference"] == ["440", "415", "1,190", "6,500"]
    ticks = [text for _y, text in ref.getAxis("left")._tickLevels[0]]
    assert ticks == ["2 × AMD Opteron 6168 (CPU)", "i7-7500U (CPU)", "GeForce 940MX (GPU)", "GeForce 1070 (GPU)"]
    assert table.label() in view.source_label.text() and "date not stated" in view.source_label.text()
    # this machine's figures in their own chart, titled as gpuviz's measurement of another workload
    here = view.plots["here"]
    assert view.titles["here"] == "Measured by gpuviz on Test CPU 9000: one 10×784 dense-layer step"
    best = max(v for (i, _b), v in layer_results().examples_per_second().items() if i == "numpy")
    assert f"{best:,.0f}" in view.bar_texts["here"]
    assert here.getViewBox() is not ref.getViewBox()  # never one axis for both
    # other operations have no CPU-vs-GPU view
    panel.op_box.setCurrentIndex(panel.op_box.findData("dot"))
    show(panel, dot_demo_results())
    assert not view.isVisible()


@pytest.mark.parametrize("name", ["40-speed-lecture-demo", "41-speed-matmul-sweep", "42-speed-batch-sweep"])
def test_the_deck_exports_every_speed_preset_from_its_shipped_results(tmp_path, name, capsys):
    from gpuviz import cli

    code = cli.main(["export", "--deck", name, "--size", "1280x720", "--out", str(tmp_path / "deck")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "skipped" not in err
    assert (tmp_path / "deck" / name / "picture.png").is_file()


def test_the_table_and_its_csv_carry_the_noisy_flag(panel):
    show(panel, noisy_dot_results())
    notes = [panel.table.item(row, panel.table.columnCount() - 1).text() for row in range(panel.table.rowCount())]
    assert notes[0] == "" and notes[1] == f"NOISY: median 3× the minimum; load average 2.5 on 2 cores: {ADVICE}"
    csv = panel.copy_csv()
    assert "noisy" in csv.splitlines()[1].split(",") and ADVICE in csv


def test_the_cpu_vs_gpu_preset_gives_the_figure_to_the_two_charts_on_screen_and_on_a_slide(panel):
    preset = {s.name: s for s in load_presets("speed")[0]}["43-speed-cpu-vs-gpu"]
    panel.apply_scenario(preset)
    assert panel.reference_view.isVisible() and not panel.plots.isVisible()
    assert not panel.ratio_label.isVisible()  # a batch-size headline would talk past the two charts
    assert panel.reference_view.bar_texts["reference"] == ["440", "415", "1,190", "6,500"]
    assert panel.scenario("export").view["figure"] == "cpu-vs-gpu"  # an export draws the same figure
    panel.set_slide(True)
    assert panel.reference_view.isVisible() and panel.reference_view.brief
    assert panel.reference_view.source_label.text() == lecture_table().label()
    # the batch-size preset: the charts below its plots on screen, left off its slide (no room for both)
    panel.set_slide(False)
    panel.apply_scenario({s.name: s for s in load_presets("speed")[0]}["42-speed-batch-sweep"])
    assert panel.plots.isVisible() and panel.reference_view.isVisible()
    panel.set_slide(True)
    assert panel.plots.isVisible() and not panel.reference_view.isVisible()
