"""The speed panel: presets, plots and table from BenchResults, CSV, files, bad input, failures, cancel, slide.

Results built here from the contract's fields stand in for measurements only in
tests (the app shows only what Engine.bench measured or a file holds). No test
asserts a timing.
"""

import os
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from PyQt6.QtCore import QPointF, Qt
from PyQt6.QtWidgets import QApplication

from gpuviz.engine.process import WorkerDied, WorkerError
from gpuviz.model import speed
from gpuviz.model.scenario import (
    CPU_MATMUL_MAX,
    MAX_SPEED_SIZES,
    Scenario,
    ScenarioError,
    dumps_scenario,
    load_presets,
    parse_scenario,
    save_scenario,
)
from gpuviz.model.speed import BenchResults, Machine, Measurement
from gpuviz.ui import theme as themes
from gpuviz.ui.export import render_widget
from gpuviz.ui.speed.panel import EMPTY_TEXT, SpeedPanel, format_sizes, headline, parse_sizes, skipped_lines
from gpuviz.ui.speed.plots import NOT_A_SPEED

REPO = Path(__file__).resolve().parents[2]
MACHINE = Machine("Test CPU 9000", 2, "OpenBLAS 0.3.27", None, "3.11.7", "2.2.0", "0.60.0")


def meas(op, impl, size, median, skipped=None, compile_s=None, repeats=5):
    if skipped is not None:
        return Measurement.skip(op, impl, size, skipped)
    return Measurement(op, impl, size, median, median * 0.9, median * 1.2, repeats, compile_s, None,
                       speed.flops(op, size), 1e-17)


def dot_demo_results():
    return BenchResults(MACHINE, [meas("dot", "python", 1_000_000, 0.035),
                                  meas("dot", "numpy", 1_000_000, 0.035 / 400),
                                  meas("dot", "numba", 1_000_000, 0.00086, compile_s=0.3)],
                        created="2026-11-27T10:00:00+00:00")


def matmul_results():
    ms = []
    for n, t_py in ((16, 2e-4), (32, 2e-3), (64, 1.6e-2)):
        ms += [meas("matmul", "python", n, t_py), meas("matmul", "numpy", n, t_py / 200),
               meas("matmul", "numba", n, t_py / 80)]
    ms += [meas("matmul", "python", 128, None, skipped="estimated 41 s > 5 s limit"),
           meas("matmul", "numpy", 128, 1e-4), meas("matmul", "numba", 128, 1e-3),
           meas("matmul", "simulator", 16, 0.05), meas("matmul", "simulator", 32, 0.4),
           meas("matmul", "simulator", 64, None, skipped="sizes up to 32 only")]
    return BenchResults(MACHINE, ms, created="2026-11-27T10:00:00+00:00")


def layer_results():
    ms = []
    for b in (1, 16, 256):
        ms += [meas("layer", "python", b, 1e-3 * b), meas("layer", "numpy", b, 6e-5 * (1 + b / 64))]
    return BenchResults(MACHINE, ms, created="2026-11-27T10:00:00+00:00")


class FakeEngine:
    """Test double of Engine.bench: streams given measurements, or fails as a real engine can."""

    def __init__(self, results=None, error=None, block=None):
        self.results, self.error, self.block = results, error, block
        self.calls = []
        self.cancelled = threading.Event()

    def bench(self, op, sizes, impls, on_progress=None, on_measurement=None, **kw):
        self.calls.append((op, tuple(sizes), tuple(impls)))
        if self.block is not None:
            # stopped like the real engine: by the job's own cancel flag, or by cancel()
            own = kw.get("cancel") or threading.Event()
            while not (self.cancelled.wait(0.01) or own.is_set()):
                pass
            from gpuviz.engine import BenchCancelled
            partial = BenchResults(MACHINE, [], cancelled=True)
            raise BenchCancelled("cancelled", partial)
        if self.error is not None:
            raise self.error
        ms = self.results.measurements
        for i, m in enumerate(ms, 1):
            if on_measurement:
                on_measurement(m)
            if on_progress:
                on_progress(type("P", (), {"done": i, "total": len(ms)})())
        return self.results

    def cancel(self):
        self.cancelled.set()

    def close(self):
        pass

    def gpu_info(self):
        return {"gpu_available": False, "gpu_name": None}


@pytest.fixture
def make_panel(qtbot):
    made = []

    def make(engine=None, theme=themes.LIGHT):
        p = SpeedPanel(engine=engine, theme=theme)
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


def data(curve):
    """A curve's data as given (getData() returns it log-transformed on log axes)."""
    return list(curve.xData), list(curve.yData)


def show(panel, results, path=None):
    """Give the panel's model results (kept in ``path``): the view, subscribed to it, draws them."""
    panel.speed.take(results, path)
    assert panel.results is results and panel.speed.results_file == (Path(path) if path is not None else None)


# -- building, presets, scenarios ------------------------------------------------------------------


def test_a_new_panel_shows_no_figures_until_something_is_measured(panel):
    assert panel.panel_id == "speed" and panel.title == "Speed"
    assert panel.results is None
    assert panel.empty_label.isVisible() and panel.empty_label.text() == EMPTY_TEXT
    assert not panel.plots.isVisible() and panel.plots.mode == "empty"
    assert panel.table.rowCount() == 0
    assert not panel.save_button.isEnabled() and not panel.copy_button.isEnabled()


def test_presets_are_the_lecture_demo_the_matmul_sweep_and_the_batch_sweep(panel, qtbot):
    presets = panel.presets()
    assert [s.params.op for s in presets] == ["dot", "matmul", "layer", "layer"]  # 43: CPU vs GPU (issue 17)
    assert presets[0].params.to_dict() == {"op": "dot", "sizes": [1_000_000], "impls": ["python", "numpy", "numba"]}
    for s in presets:
        with qtbot.waitSignal(panel.status_changed):
            panel.apply_scenario(s)
        assert panel.op_box.currentData() == s.params.op
        assert parse_sizes(panel.sizes_field.text()) == list(s.params.sizes)
        assert panel.chosen_impls() == [i for i in speed.IMPLS if i in s.params.impls]
        assert panel.title_label.text() == s.title
        # each preset shows the figures shipped with it (issue 17), labelled as measured elsewhere
        assert panel.results is not None and panel.results.machine.cpu != "unknown"
        assert not panel.empty_label.isVisible()
        # the sweep's plots, or for the CPU-vs-GPU preset the lecture's table beside these figures
        cpu_vs_gpu = s.view.get("figure") == "cpu-vs-gpu"
        assert panel.plots.isVisible() != cpu_vs_gpu and panel.reference_view.isVisible() == (s.params.op == "layer")
        assert panel.source_label.text().startswith("Shipped with gpuviz, measured on: ")
        assert "not this machine" in panel.source_label.text()
        assert panel.scenario("t").params.to_dict() == {"op": s.params.op, "sizes": list(s.params.sizes),
                                                        "impls": panel.chosen_impls()}


def test_speed_scenarios_are_checked_like_the_others(tmp_path):
    base = {"schema": 1, "panel": "speed", "title": "t", "params": {"op": "dot", "sizes": [1000], "impls": ["numpy"]}}
    ok = parse_scenario(base)
    assert ok.params.to_dict() == {"op": "dot", "sizes": [1000], "impls": ["numpy"]}  # typed: SpeedParams
    bad = [
        ({"op": "conv"}, "unknown operation"),
        ({"sizes": [0]}, "at least 1"),
        ({"sizes": ["64"]}, "array of whole numbers"),
        ({"sizes": list(range(1, MAX_SPEED_SIZES + 2))}, "too many"),
        ({"op": "matmul", "sizes": [CPU_MATMUL_MAX * 2]}, "CPU budget"),
        ({"impls": ["fortran"]}, "unknown implementation"),
        ({"impls": []}, "no implementation"),
        ({"size": 3}, "unknown key 'size' in [params] of a speed scenario"),
    ]
    for change, needle in bad:
        data = {**base, "params": {**base["params"], **change}}
        with pytest.raises(ScenarioError, match=None) as e:
            parse_scenario(data, tmp_path / "x.toml")
        assert needle in str(e.value), (change, str(e.value))
    with pytest.raises(ScenarioError, match="only step 0"):
        parse_scenario({**base, "key_steps": [{"step": 3, "caption": "c"}]})
    with pytest.raises(ScenarioError, match="unknown key 'plot'"):
        parse_scenario({**base, "view": {"plot": "bars"}})
    # a GPU implementation may ask for a matrix over the CPU budget (it runs where there is a GPU)
    parse_scenario({**base, "params": {"op": "matmul", "sizes": [8192], "impls": ["cublas"]}})
    # written and read back unchanged
    path = save_scenario(replace(ok, view={"results": "figures.json"}), tmp_path / "s.toml")
    again = parse_scenario(__import__("tomllib").loads(path.read_text()), path)
    assert (again.params, again.view) == (ok.params, {"results": "figures.json"})
    assert "[view]" in dumps_scenario(again)


def test_shipped_speed_presets_load_without_errors():
    found, errors = load_presets("speed")
    assert not errors
    assert [s.name[:2] for s in found] == ["40", "41", "42", "43"]


# -- figures ---------------------------------------------------------------------------------------


def test_one_size_draws_one_bar_per_implementation_and_the_ratio_in_large_type(panel):
    r = dot_demo_results()
    show(panel, r)
    assert panel.plots.mode == "bars" and panel.plots.isVisible() and not panel.empty_label.isVisible()
    assert [item[0] for item in panel.plots.points["bars"]] == ["python", "numpy", "numba"]
    assert panel.ratio_label.text() == "NumPy is 400× faster than the Python loop"
    medians = panel.medians_label.text()
    assert "Python loop 35 ms" in medians and "NumPy 87.5 µs" in medians and "N = 1,000,000" in medians
    assert panel.ratio_label.font().pointSizeF() >= 2 * panel.medians_label.font().pointSizeF() * 0.9
    assert panel.source_label.text() == f"Measured on: {MACHINE.label()} — 2026-11-27"
    labels = [lab.toPlainText() for lab in panel.plots.bar_labels]
    assert labels[0] == "35 ms" and "400× faster than the loop" in labels[1]


def test_several_sizes_draw_time_gflops_and_speedup_with_one_style_per_implementation(panel):
    r = matmul_results()
    show(panel, r)
    plots = panel.plots
    assert plots.mode == "lines" and set(plots.plots) == {"time", "gflops", "speedup"}
    # skipped measurements are not drawn: the Python loop has three points, not four
    x, y = data(plots.curves[("time", "python")])
    assert list(x) == [16, 32, 64] and list(y) == pytest.approx([2e-4, 2e-3, 1.6e-2])
    x, y = data(plots.curves[("speedup", "numpy")])
    assert list(y) == pytest.approx([200, 200, 200])
    x, y = data(plots.curves[("gflops", "numba")])
    assert list(y) == pytest.approx([r.get("matmul", "numba", n).gflops() for n in (16, 32, 64, 128)])
    # the simulator is timed but is not a speed: no GFLOP/s and no speed-up for it
    assert ("time", "simulator") in plots.curves
    assert all((k, i) not in plots.curves for k in ("gflops", "speedup") for i in NOT_A_SPEED)
    # every implementation its own colour, symbol and dash, and a legend naming it
    styles = {(c.opts["pen"].color().name(), c.opts["symbol"], c.opts["pen"].style())
              for (k, _i), c in plots.curves.items() if k == "time"}
    assert len(styles) == 4
    names = [label.text for _sample, label in plots.legend.items]
    assert names == ["Python loop", "NumPy", "Numba @njit", "CUDA simulator (correctness tool, not speed)"]
    assert plots.plots["time"].getAxis("bottom").labelText == "matrix size N"
    assert "median time" in plots.plots["time"].getAxis("left").labelText
    ticks = [text for _pos, text in plots.plots["time"].getAxis("left")._tickLevels[0]]
    assert "1 ms" in ticks and "100 µs" in ticks
    # the skipped points are listed with their reasons
    text = panel.skipped_label.full_text()
    assert text == panel.skipped_label.toolTip()
    assert "Python loop at N = 128: estimated 41 s > 5 s limit" in text
    assert "CUDA simulator (correctness tool, not speed) at N = 64: sizes up to 32 only" in text
    assert panel.ratio_label.text() == "NumPy is 200× faster than the Python loop"


def test_the_layer_adds_examples_per_second_vs_batch_size(panel):
    r = layer_results()
    panel.op_box.setCurrentIndex(panel.op_box.findData("layer"))
    show(panel, r)
    assert set(panel.plots.plots) == {"time", "gflops", "speedup", "examples"}
    x, y = data(panel.plots.curves[("examples", "numpy")])
    assert list(x) == [1, 16, 256]
    assert list(y) == pytest.approx([b / (6e-5 * (1 + b / 64)) for b in (1, 16, 256)])
    big, small = headline(r, "layer")
    ratio = (256 / (6e-5 * 5)) / (1 / (6e-5 * (1 + 1 / 64)))
    assert big == f"Batch 256 trains {ratio:,.0f}× as many examples per second as batch 1"
    assert "NumPy" in small and "examples/s" in small


def test_hover_shows_the_exact_figures_of_the_nearest_point(panel):
    r = matmul_results()
    show(panel, r)
    plots = panel.plots
    plots.grab()  # the mouse moves over a painted plot: its axes' ranges are set by then
    item = next(it for it in plots.points["time"] if it[0] == "numba" and it[1].size == 32)
    text = plots.hover(plots._scene_point("time", item))
    m = r.get("matmul", "numba", 32)
    assert text.startswith("Numba @njit, N = 32\nmedian ") and "5 runs" in text
    assert speed.fmt_seconds(m.median_s) in text and f"{m.gflops():.4g} GFLOP/s" in text
    assert plots.hover_label is not None and plots.hover_label.toPlainText() == text
    # far from every point: the label goes away
    assert plots.hover(QPointF(-500, -500)) is None and plots.hover_label is None


def test_the_table_lists_every_measurement_and_labels_the_simulator(panel):
    r = matmul_results()
    show(panel, r)
    rows = panel.table.rows()
    assert len(rows) == len(r.measurements)
    sim = [row for row in rows if row[0].startswith("CUDA simulator")]
    assert sim and all("correctness tool, not speed" in row[0] for row in sim)
    assert all(row[7] == "—" and row[8] == "—" for row in sim)  # no GFLOP/s, no speed-up
    skipped = [row for row in rows if row[10].startswith("skipped:")]
    assert [row[0] for row in skipped] == ["Python loop", "CUDA simulator (correctness tool, not speed)"]
    assert rows[1][8] == "200×"


# -- CSV, files ------------------------------------------------------------------------------------


def test_copy_as_csv_puts_the_models_csv_on_the_clipboard(panel, qtbot):
    r = matmul_results()
    show(panel, r)
    QApplication.clipboard().clear()
    qtbot.mouseClick(panel.copy_button, Qt.MouseButton.LeftButton)
    text = QApplication.clipboard().text()
    assert text == r.to_csv()
    assert text.startswith(f"# {MACHINE.label()}") and "op,impl,size,median_s" in text
    QApplication.clipboard().clear()
    panel.table.setFocus()
    qtbot.keyClick(panel.table, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.clipboard().text() == text


def test_saved_results_load_back_labelled_with_their_file_and_machine(make_panel, tmp_path):
    first = make_panel()
    r = dot_demo_results()
    show(first, r)
    path = tmp_path / "gpu-machine.json"
    assert first.save_results(path)
    second = make_panel()
    assert second.load_results(path)
    assert second.results.measurements == r.measurements
    assert second.source_label.text() == f"Loaded from gpu-machine.json, measured on: {MACHINE.label()} — 2026-11-27"
    assert second.ratio_label.text() == first.ratio_label.text()
    # the scenario names the file, and a fresh panel (an export's copy) shows the same figures from it
    scenario = second.scenario("figures")
    assert scenario.view == {"results": str(path)}
    third = make_panel()
    third.apply_scenario(scenario)
    assert third.results.measurements == r.measurements and third.plots.mode == "bars"


def test_a_scenarios_results_path_is_relative_to_its_file(panel, tmp_path):
    dot_demo_results().save(tmp_path / "figs.json")
    path = save_scenario(Scenario("speed", "Saved figures", {"op": "dot", "sizes": [1_000_000], "impls": ["numpy"]},
                                  view={"results": "figs.json"}), tmp_path / "speed.toml")
    from gpuviz.model.scenario import load_scenario
    panel.apply_scenario(load_scenario(path))
    assert panel.results is not None and panel.source_label.text().startswith("Loaded from figs.json")


def test_a_bad_results_file_is_an_inline_message_and_the_figures_stay(panel, tmp_path):
    r = dot_demo_results()
    show(panel, r)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    assert not panel.load_results(bad)
    assert "not a JSON file" in panel.file_message.message and panel.file_message.isVisible()
    assert panel.results is r and panel.plots.mode == "bars"
    # a scenario naming a missing file is refused whole: the panel keeps what it showed
    missing = Scenario("speed", "t", {"op": "dot", "sizes": [10], "impls": ["numpy"]},
                       view={"results": str(tmp_path / "gone.json")})
    with pytest.raises(ScenarioError, match="results"):
        panel.apply_scenario(missing)
    assert panel.results is r
    with pytest.raises(ScenarioError, match="not one for the speed panel"):
        panel.apply_scenario(Scenario("grad", "t", {"layer": "toy"}))


# -- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize("op, text, needle", [
    ("dot", "abc", "“abc” is not a whole number"),
    ("dot", "", "type one or more sizes"),
    ("dot", "0", "at least 1"),
    ("dot", "64, -3", "“-3” is not a whole number"),
    ("dot", ", ".join(str(i) for i in range(1, MAX_SPEED_SIZES + 2)), "too many"),
    ("dot", "100M", "too large"),
    ("matmul", "64, 5000", "at most N = 4,096 without a GPU"),
])
def test_bad_sizes_get_an_inline_message_and_nothing_runs(make_panel, op, text, needle):
    engine = FakeEngine(dot_demo_results())
    panel = make_panel(engine)
    r = dot_demo_results()
    show(panel, r)
    assert not panel.set_field(op=op, sizes=text, impls=["python", "numpy"])
    assert needle.lower() in panel.sizes_message.message.lower(), panel.sizes_message.message
    assert panel.sizes_message.isVisible()
    assert not panel.run() and engine.calls == []
    assert panel.results is r
    assert panel.set_field(sizes="64, 128")
    assert not panel.sizes_message.isVisible()


def test_no_implementation_chosen_is_an_inline_message(make_panel):
    engine = FakeEngine(dot_demo_results())
    panel = make_panel(engine)
    for box in panel.impl_boxes.values():
        box.setChecked(False)
    assert "at least one implementation" in panel.impls_message.message
    assert not panel.run() and engine.calls == []


def test_sizes_parse_and_format():
    assert parse_sizes("1k, 10k;100k 1M") == [1000, 10_000, 100_000, 1_000_000]
    assert parse_sizes("1_000_000") == [1_000_000]
    # the one grammar of model/text.py: the field reads what `gpuviz bench --sizes` reads
    from gpuviz.model.text import parse_sizes as cli_grammar
    for typed in ("1e6, 1M, 1_000_000, 1000000", "1k 10k", "64;128"):
        assert parse_sizes(typed) == cli_grammar(typed)
    assert parse_sizes("1e6") == [1_000_000]
    assert format_sizes([1000, 10_000, 1_000_000, 1024]) == "1000, 10k, 1M, 1024"
    assert parse_sizes(format_sizes([16, 32, 10_000, 5_000_000])) == [16, 32, 10_000, 5_000_000]


def test_without_a_gpu_the_gpu_implementations_are_disabled_with_a_reason(panel):
    panel.set_gpu_info({"gpu_available": False, "gpu_name": None})
    for impl in ("gpu-naive", "gpu-tiled", "cublas"):
        box = panel.impl_boxes[impl]
        assert not box.isEnabled() and "No CUDA GPU" in box.toolTip()
    assert panel.set_field(op="matmul")
    assert "up to 4,096" in panel.sizes_hint.text()
    panel.set_gpu_info({"gpu_available": True, "gpu_name": "NVIDIA H100"})
    assert all(panel.impl_boxes[i].isEnabled() for i in ("gpu-naive", "gpu-tiled", "cublas"))
    assert "NVIDIA H100" in panel.impl_boxes["cublas"].toolTip()


# -- runs (a test double of the engine, then the real one) ------------------------------------------


def test_a_run_streams_measurements_into_the_figures_and_reports(make_panel, qtbot, tmp_path):
    r = matmul_results()
    engine = FakeEngine(r)
    panel = make_panel(engine)
    statuses = []
    panel.status_changed.connect(statuses.append)
    assert panel.set_field(op="matmul", sizes="16, 32, 64, 128", impls=["python", "numpy", "numba", "simulator"])
    assert panel.run()
    qtbot.waitUntil(lambda: not panel.running and bool(panel.outcome), timeout=5000)
    assert engine.calls == [("matmul", (16, 32, 64, 128), ("python", "numpy", "numba", "simulator"))]
    assert panel.outcome == "ok" and panel.results is r
    assert panel.plots.mode == "lines" and panel.run_button.isEnabled() and not panel.cancel_button.isEnabled()
    assert any(s.startswith("measured ") for s in statuses)
    # measured here: the scenario names a file of this session, so an export's copy shows the same figures
    view = panel.scenario("t").view
    assert Path(view["results"]).is_file()
    assert BenchResults.load(view["results"]).measurements == r.measurements
    # saved as a scenario file: the measurements go beside it, named relatively, and load in a fresh panel
    from gpuviz.model.scenario import load_scenario, save_scenario

    save_scenario(panel.scenario_for_file(tmp_path / "sweep.toml", "Sweep"), tmp_path / "sweep.toml")
    assert (tmp_path / "sweep.results.json").is_file()
    loaded = load_scenario(tmp_path / "sweep.toml")
    assert loaded.view["results"] == "sweep.results.json"
    fresh = make_panel()
    fresh.apply_scenario(loaded)
    assert fresh.results.measurements == r.measurements


@pytest.mark.parametrize("error, needle", [
    (WorkerDied("the worker process died (exit code -9)"), "worker process died"),
    (WorkerError("ZeroDivisionError: division by zero"), "raised ZeroDivisionError"),
])
def test_a_dying_worker_or_a_raising_kernel_is_an_inline_message_and_the_figures_stay(make_panel, qtbot, error,
                                                                                        needle):
    panel = make_panel(FakeEngine(error=error))
    r = dot_demo_results()
    show(panel, r)
    assert panel.run()
    qtbot.waitUntil(lambda: not panel.running and bool(panel.outcome), timeout=5000)
    assert needle in panel.run_message.message and "figures shown before stay" in panel.run_message.message
    assert panel.results is r and panel.plots.mode == "bars"
    assert panel.run_button.isEnabled()


def test_space_starts_and_cancels_a_run_and_the_arrows_do_nothing(make_panel, qtbot):
    engine = FakeEngine(block=True)
    panel = make_panel(engine)
    r = dot_demo_results()
    show(panel, r)
    before = (panel.sizes_field.text(), panel.op_box.currentIndex())
    for call in (lambda: panel.step_by(1), lambda: panel.step_by(-1), panel.first_step, panel.last_step,
                 panel.faster, panel.slower):
        call()
    assert (panel.sizes_field.text(), panel.op_box.currentIndex()) == before and not panel.running
    panel.play_pause()
    assert panel.running and panel.cancel_button.isEnabled() and not panel.run_button.isEnabled()
    panel.play_pause()
    qtbot.waitUntil(lambda: not panel.running and bool(panel.outcome), timeout=5000)
    assert panel.outcome == "cancelled"
    assert panel.results is r  # nothing finished before the cancel: the earlier figures stay
    assert panel.run_button.isEnabled() and "cancelled" in panel.run_status.text()


@pytest.mark.slow
def test_a_real_tiny_dot_run_in_the_worker_then_a_cancel(make_panel, qtbot, engine):
    # a real Engine.bench on a 1,000-element dot product (well under 10 s), then a cancelled sweep
    numba_before = "numba" in sys.modules
    panel = make_panel(engine)
    assert panel.set_field(op="dot", sizes="1000", impls=["python", "numpy"])
    assert panel.run()
    qtbot.waitUntil(lambda: not panel.running and bool(panel.outcome), timeout=60_000)
    assert panel.outcome == "ok", panel.run_message.message
    assert {m.impl for m in panel.results.measurements if m.measured} == {"python", "numpy"}
    assert all(m.correct for m in panel.results.measurements)
    assert panel.table.rowCount() == 2 and panel.plots.mode == "bars"
    assert "faster than the Python loop" in panel.ratio_label.text() or "slower" in panel.ratio_label.text()
    assert panel.source_label.text().startswith("Measured on: ")
    measured = panel.results
    assert panel.set_field(op="matmul", sizes="16, 32, 64, 128, 256", impls=["python", "numpy", "numba"])
    assert panel.run()
    panel.cancel()
    qtbot.waitUntil(lambda: not panel.running and bool(panel.outcome), timeout=30_000)
    assert panel.outcome == "cancelled"
    assert panel.run_button.isEnabled() and not panel.cancel_button.isEnabled()
    assert panel.results is measured or panel.results.cancelled
    assert ("numba" in sys.modules) == numba_before  # the GUI process never imports it


def test_the_panel_never_imports_numba():
    code = ("import sys\nfrom PyQt6.QtWidgets import QApplication\napp = QApplication([])\n"
            "from gpuviz.ui.speed.panel import SpeedPanel\np = SpeedPanel()\np.resize(1920, 1080)\np.show()\n"
            "p.apply_scenario(p.presets()[1])\np.shutdown()\n"
            "bad = [m for m in sys.modules if m == 'numba' or m.startswith('numba.')]\nassert not bad, bad\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr


# -- look ------------------------------------------------------------------------------------------


def test_slide_mode_shows_only_the_figure_title_caption_and_ratio(panel):
    r = matmul_results()
    show(panel, r)
    panel.apply_scenario(Scenario("speed", "Matrix products on this laptop",
                                  {"op": "matmul", "sizes": [16], "impls": ["numpy"]}))
    show(panel, r)
    body = panel.medians_label.font().pointSizeF()
    panel.set_slide(True)
    panel.set_caption("NumPy is BLAS.")
    assert not panel.side_scroll.isVisible() and not panel.table_box.isVisible()
    assert not panel.skipped_label.isVisible()
    for w in (panel.title_label, panel.caption_label, panel.ratio_label, panel.plots, panel.source_label):
        assert w.isVisible()
    assert panel.caption_label.text() == "NumPy is BLAS."
    assert panel.title_label.text() == "Matrix products on this laptop"
    assert panel.plots.legend is not None
    # slide text is at least 18 px at the 1920×1080 layout
    assert panel.medians_label.fontInfo().pixelSize() >= 18 and panel.medians_label.font().pointSizeF() > body
    off = Qt.ScrollBarPolicy.ScrollBarAlwaysOff
    assert panel.main_scroll.verticalScrollBarPolicy() == off  # a slide is a picture: no scroll bar on it
    panel.set_slide(False)
    assert panel.side_scroll.isVisible() and panel.table_box.isVisible() and not panel.caption_label.isVisible()
    assert panel.main_scroll.verticalScrollBarPolicy() != off


@pytest.mark.parametrize("theme", [themes.LIGHT, themes.DARK, themes.LECTURE])
def test_every_theme_redraws_the_figures(make_panel, theme):
    panel = make_panel(theme=theme)
    show(panel, matmul_results())
    curve = panel.plots.curves[("time", "numpy")]
    assert curve.opts["pen"].widthF() == pytest.approx(theme.pen_width(2))
    assert panel.plots.backgroundBrush().color().getRgb()[:3] == theme.panel_background


def many_skips_results():
    """Six implementations over six sizes, with the skips a CPU machine has (no GPU, a slow loop, the simulator)."""
    sizes = (16, 32, 64, 128, 256, 512)
    ms = []
    for n in sizes:
        t = 1e-9 * n ** 3
        ms += [meas("matmul", "python", n, t * 300) if n < 512 else
               meas("matmul", "python", n, None, skipped="estimated 5.6 s > 5 s limit"),
               meas("matmul", "numpy", n, t), meas("matmul", "numba", n, t * 3),
               meas("matmul", "numba-fastmath", n, t * 2.5), meas("matmul", "numba-parallel", n, t * 2)]
        ms += [meas("matmul", g, n, None, skipped="no GPU found") for g in ("gpu-naive", "gpu-tiled", "cublas")]
        ms.append(meas("matmul", "simulator", n, 0.05 * n / 16) if n <= 32 else
                  meas("matmul", "simulator", n, None, skipped="sizes up to 32 only"))
    return BenchResults(MACHINE, ms, created="2026-11-27T10:00:00+00:00")


def test_skipped_measurements_are_one_line_per_reason():
    r = many_skips_results()
    lines = skipped_lines([m for m in r.measurements if m.op == "matmul"])
    assert sorted(lines) == ["CUDA simulator (correctness tool, not speed) at N = 64, 128, 256, 512: sizes up to 32 only",
                             "GPU naive kernel, GPU tiled kernel, cuBLAS (CuPy) at every N: no GPU found",
                             "Python loop at N = 512: estimated 5.6 s > 5 s limit"]


@pytest.mark.parametrize("theme, size", [(themes.LIGHT, (1280, 720)), (themes.LECTURE, (1920, 1080))])
def test_the_figures_fit_the_panels_width_with_no_horizontal_scrolling(make_panel, theme, size):
    panel = make_panel(theme=theme)
    show(panel, many_skips_results())
    render_widget(panel, *size)
    scroll, plots = panel.main_scroll, panel.plots
    assert scroll.horizontalScrollBar().maximum() == 0
    assert panel.main.width() <= scroll.viewport().width()
    assert plots.geometry().right() <= panel.main.width()
    view = plots.viewport().rect()
    # the legend and every plot (title, axes, data) lie inside the figure's widget: nothing cut at the right
    legend = plots.mapFromScene(plots.legend.sceneBoundingRect()).boundingRect()
    assert view.contains(legend), (legend, view)
    for key, plot in plots.plots.items():
        for item in (plot, plot.vb, plot.titleLabel):
            rect = plots.mapFromScene(item.sceneBoundingRect()).boundingRect().adjusted(1, 1, -1, -1)
            assert view.contains(rect), (key, item, rect, view)
    # the skipped list and the table start below the plots: the axis labels never run into them
    assert panel.skipped_label.geometry().top() >= plots.geometry().bottom()
    assert panel.skipped_label.sizeHint().width() <= panel.main.width()
    if theme is themes.LECTURE:
        assert plots.arrangement == "big"  # narrow for lecture fonts: the time plot large, the others stacked


def test_tick_labels_that_would_overlap_are_thinned():
    from PyQt6.QtCore import QRectF

    from gpuviz.ui.speed.plots import thin_labels

    specs = [(QRectF(x, 0, 30, 12), 0, str(x)) for x in (0, 20, 40, 60, 100)]
    kept = [text for _r, _f, text in thin_labels(specs, horizontal=True, gap=6)]
    assert kept == ["0", "40", "100"]


# -- live redraws while a run streams measurements in ------------------------------------------------


class GatedEngine(FakeEngine):
    """Engine.bench that holds its run open until ``gate`` is set, then returns ``results`` (streamed by the test)."""

    def __init__(self, results):
        super().__init__(results)
        self.gate = threading.Event()

    def bench(self, op, sizes, impls, on_progress=None, on_measurement=None, **kw):
        self.calls.append((op, tuple(sizes), tuple(impls)))
        self.gate.wait(30)
        return self.results


def figures(plots):
    """What the figures draw, item by item: curves' data, legend entries, ticks, titles, bars and their labels."""
    out = {"mode": plots.mode, "arrangement": plots.arrangement, "plots": sorted(plots.plots),
           "legend": [label.text for _s, label in plots.legend.items] if plots.legend is not None else None,
           "curves": {k: (list(c.xData), list(c.yData)) for k, c in plots.curves.items()},
           "points": {k: [(i, m, x, y) for i, m, x, y in v] for k, v in plots.points.items()},
           "bars": [lab.toPlainText() for lab in plots.bar_labels]}
    for key, plot in plots.plots.items():
        out[key] = (plot.titleLabel.text, [plot.getAxis(a)._tickLevels for a in ("left", "bottom")],
                    [c for c in plot.items if c in plots.curves.values()] == [c for (k, _i), c in plots.curves.items()
                                                                                if k == key])
    return out


def pixels(widget):
    """The widget's picture once settled: pyqtgraph fits a view to its symbols' size only after their first paint."""
    widget.grab()
    for _ in range(3):
        QApplication.processEvents()
    image = widget.grab().toImage()
    return image.width(), image.height(), bytes(image.constBits().asarray(image.sizeInBytes()))


def test_streamed_measurements_are_drawn_together_and_the_end_draws_what_a_fresh_panel_does(make_panel, qtbot):
    r = many_skips_results()
    ms = r.measurements
    sizes = sorted({m.size for m in ms})
    engine = GatedEngine(r)
    panel = make_panel(engine)
    assert panel.set_field(op="matmul", sizes=", ".join(map(str, sizes)), impls=sorted({m.impl for m in ms}))
    assert panel.run()
    # a burst of measurements (queued signals come back to back): one redraw for all of them, with every one drawn
    first = [m for m in ms if m.size == sizes[0]]
    for m in first:
        panel.runner.measurement.emit(m)  # as the runner streams them
    assert panel.live_refreshes == 0  # nothing drawn per measurement
    qtbot.waitUntil(lambda: panel.live_refreshes == 1, timeout=5000)
    assert panel.plots.mode == "bars" and len(panel.plots.points["bars"]) == sum(m.measured for m in first)
    assert panel.table.rowCount() == len(first)
    # the next bursts: the second size turns the bars into plots, the later ones only add data to them
    for size in sizes[1:]:
        for m in ms:
            if m.size == size:
                panel.runner.measurement.emit(m)  # as the runner streams them
        before = panel.live_refreshes
        qtbot.waitUntil(lambda before=before: panel.live_refreshes == before + 1, timeout=5000)
        assert panel.table.rowCount() == sum(1 for m in ms if m.size <= size)
        drawn = {x for _i, _m, x, _y in panel.plots.points["time"]}
        assert drawn == {m.size for m in ms if m.size <= size and m.measured}
    assert panel.live_refreshes == len(sizes) < len(ms) / 4
    curves_built = dict(panel.plots.curves)
    engine.gate.set()
    qtbot.waitUntil(lambda: not panel.running and bool(panel.outcome), timeout=5000)
    assert panel.outcome == "ok" and panel.results is r and panel.plots.isVisible()
    assert panel.plots.curves == curves_built  # the last sizes came as new data, not as new figures
    # the end of the run: exactly the figures (item by item, pixel by pixel) a fresh panel draws for the results
    fresh = make_panel(FakeEngine(r))
    show(fresh, r)
    for _ in range(3):
        QApplication.processEvents()
    assert figures(panel.plots) == figures(fresh.plots)
    assert panel.table.rows() == fresh.table.rows()
    assert pixels(panel.plots) == pixels(fresh.plots)


def test_new_data_in_figures_of_the_same_shape_draw_what_a_rebuild_draws(make_panel):
    from gpuviz.ui.speed.plots import SpeedPlots

    r = many_skips_results()
    ms = r.measurements
    panel = make_panel()
    show(panel, BenchResults(MACHINE, [m for m in ms if m.size <= 32]))
    built = panel.plots.plots["time"]
    built.vb.scaleBy((0.5, 0.5))  # a student zoomed in: a rebuild forgets it, and so does new data
    # more sizes: the same figures take the new data (updated in place) and draw what new figures draw
    show(panel, r)
    assert panel.plots.plots["time"] is built
    pixels(panel.plots)  # settled (the panel lays itself out again for the figures' new height)
    fresh = SpeedPlots(theme=panel.theme)
    fresh.resize(panel.plots.size())
    fresh.set_results(r, "matmul")
    assert figures(panel.plots) == figures(fresh)
    assert pixels(panel.plots) == pixels(fresh)
    # built again from the plots kept from before (after the bars of one size): still the same picture
    built.vb.scaleBy((0.5, 0.5))
    show(panel, BenchResults(MACHINE, [m for m in ms if m.size == 16]))
    assert panel.plots.mode == "bars"
    show(panel, r)
    assert panel.plots.plots["time"] is built and panel.plots.mode == "lines"
    # laid out at once, as an export (one render, no event loop) needs
    assert [p.sceneBoundingRect() for p in panel.plots.plots.values()] == \
        [p.sceneBoundingRect() for p in fresh.plots.values()]
    assert figures(panel.plots) == figures(fresh)
    assert pixels(panel.plots) == pixels(fresh)
    fresh.deleteLater()


def test_a_narrower_window_wraps_the_titles_even_where_the_legend_keeps_its_columns(make_panel):
    # four implementations: the legend keeps one row from 1920 down to 1280 pixels, the titles must still wrap
    ms = [meas("matmul", impl, n, f * n ** 3) for n in (16, 64, 256)
          for impl, f in (("python", 4e-8), ("numpy", 2e-11), ("numba", 5e-11), ("numba-parallel", 3e-11))]
    panel = make_panel()
    show(panel, BenchResults(MACHINE, ms))
    render_widget(panel, 1280, 720)
    plots = panel.plots
    view = plots.viewport().rect()
    for key, plot in plots.plots.items():
        rect = plots.mapFromScene(plot.sceneBoundingRect()).boundingRect().adjusted(1, 1, -1, -1)
        assert view.contains(rect), (key, rect, view)
    assert "<br>" in plots.plots["speedup"].titleLabel.text


@pytest.mark.parametrize("width", [620, 900, 1400])
def test_bar_labels_fit_right_of_their_bars_at_any_width(make_panel, width):
    """The one-size bars: every label drawn whole inside the plot, in its long form where there is room."""
    from tests.ui import layout_check as lc

    panel = make_panel()
    panel.apply_scenario(panel.presets()[0])
    panel.resize(width + 380, 700)
    lc.settle(panel)
    assert panel.plots.mode == "bars"
    problems = [p for p in lc.check_window(panel) if "SpeedPlots" in p]
    assert problems == [], problems
    labels = [label.toPlainText() for label in panel.plots.bar_labels]
    if width >= 1400:
        assert any("faster than the loop" in text for text in labels)


def test_lecture_look_is_figure_first_and_names_the_bars(make_panel):
    from tests.ui import layout_check as lc

    panel = make_panel(theme=themes.lecture_theme(720))
    panel.apply_scenario(panel.presets()[0])
    panel.resize(1280, 690)
    panel.set_lecture(True)
    lc.settle(panel)
    assert panel.plots.compact and panel.medians_label.isHidden() and panel.title_label.isHidden()
    assert not panel.ratio_label.isHidden() and not panel.source_label.isHidden()
    names = [label.toPlainText().split("  ")[0] for label in panel.plots.bar_labels]
    assert names == ["Python loop", "NumPy", "Numba @njit"]
    assert lc.figure_share(panel, panel) >= lc.MIN_FIGURE_SHARE
    panel.set_lecture(False)
    assert not panel.plots.compact and not panel.slide and not panel.title_label.isHidden()


@pytest.mark.parametrize("theme", [themes.LIGHT, themes.DARK, themes.LECTURE])
def test_noisy_warnings_read_at_wcag_aa_on_every_theme(make_panel, theme, tmp_path):
    """The noise warning's red, on the bars' labels and over the figures, reaches 4.5:1 on its background."""
    import json

    from gpuviz.model.scenario import speed_results_path
    from gpuviz.ui.speed.plots import NOISY_COLOUR
    from gpuviz.ui.speed.style import readable

    panel = make_panel(theme=theme)
    demo = panel.presets()[0]
    # the shipped demo's results, every measurement flagged as a busy machine would flag it
    data = json.loads(speed_results_path(demo).read_text())
    for m in data["results"]:
        m["noisy"] = "load average 6 on 2 cores: close other programs and measure again"
    noisy_file = tmp_path / "noisy.json"
    noisy_file.write_text(json.dumps(data))
    panel.apply_scenario(demo)
    assert panel.load_results(noisy_file)
    noisy = [label for label in panel.plots.bar_labels if "noisy" in label.toPlainText()]
    assert noisy
    for label in noisy:
        colour = label.textItem.defaultTextColor()
        rgb = (colour.red(), colour.green(), colour.blue())
        assert themes.contrast_ratio(rgb, theme.panel_background) >= themes.MIN_TEXT_CONTRAST
    rgb = readable(NOISY_COLOUR, theme.background, theme.foreground)
    assert themes.contrast_ratio(rgb, theme.background) >= themes.MIN_TEXT_CONTRAST
    assert rgb[0] > max(rgb[1], rgb[2])  # still a red
