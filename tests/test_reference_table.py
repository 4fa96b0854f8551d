"""Issue 17: figures measured elsewhere ship as reference tables, labelled, never mixed with this machine's."""

import json
import re
from pathlib import Path

import pytest

from gpuviz.model import reference_table as ref
from gpuviz.model.reference_table import ReferenceRow, ReferenceTable
from gpuviz.model.speed import BenchResults, SpeedError
from gpuviz.paths import assets_dir

LECTURE = Path(__file__).resolve().parents[2] / "shared" / "lecture"


def test_the_lecture_table_is_the_lectures_four_devices():
    t = ref.lecture_table()
    assert t.quantity == "examples per second" and t.higher_is_better
    assert [(r.device, r.kind, r.value) for r in t.rows] == [
        ("2 × AMD Opteron 6168", "CPU", 440), ("i7-7500U", "CPU", 415),
        ("GeForce 940MX", "GPU", 1190), ("GeForce 1070", "GPU", 6500)]
    assert t.best("GPU").device == "GeForce 1070" and t.best("CPU").value == 440


def test_the_lecture_table_is_labelled_with_who_where_when_and_its_source():
    t = ref.lecture_table()
    assert t.label() == ("Measured elsewhere by Andriy Lazorenko (date not stated), not on this machine: "
                         "Andriy Lazorenko, \"TensorFlow performance test: CPU vs GPU\", medium.com")
    assert t.when == ""  # the lecture gives no date: none is made up
    lines = t.source_lines()
    assert "CIFAR-10" in lines[1] and lines[-1].startswith("https://medium.com/@andriylazorenko/")
    assert any("lecture" in line for line in lines)


@pytest.mark.skipif(not LECTURE.is_dir(), reason="the lecture notes are not beside this checkout")
def test_the_shipped_values_are_the_ones_the_lecture_prints():
    text = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in LECTURE.glob("*.txt"))
    for row in ref.lecture_table().rows:
        name = row.device.replace("2 × ", "2 x ")
        assert re.search(re.escape(name) + r"\s+" + str(int(row.value)) + r"\b", text), row


def test_every_shipped_table_loads_and_the_lecture_one_is_among_them():
    tables = ref.shipped_tables()
    assert ref.LECTURE_TABLE in [Path(t.path).name for t in tables]
    assert all(t.rows and t.source and t.measured_by for t in tables)


def test_shipped_results_are_gpuviz_measurements_labelled_with_their_machine():
    for r in ref.shipped_results():
        assert r.loaded and r.machine.cpu != "unknown" and r.created
    # GPU figures ship only when a GPU measured them: never invented
    assert all(r.machine.gpu for r in ref.shipped_gpu_results())


def test_a_reference_table_is_not_a_benchmark_file_and_back():
    table = assets_dir() / ref.FOLDER / ref.LECTURE_TABLE
    with pytest.raises(SpeedError, match="not a JSON file"):
        BenchResults.load(table)


def test_a_benchmark_file_is_not_a_reference_table(tmp_path):
    bench = tmp_path / "bench.json"
    bench.write_text(json.dumps({"format": "gpuviz-bench", "results": []}))
    with pytest.raises(SpeedError, match="not a TOML file"):
        ReferenceTable.load(bench)


GOOD = """format = "gpuviz-reference"
version = 1
title = "T"
quantity = "examples per second"
workload = "w"
measured_by = "someone"
where = "somewhere"
when = "2017"
source = "an article"
url = ""
[[rows]]
device = "GPU X"
kind = "GPU"
value = 10
"""


@pytest.mark.parametrize("change, message", [
    (lambda s: s.replace('source = "an article"', 'source = ""'), "must say its source"),
    (lambda s: s.replace('measured_by = "someone"', 'measured_by = ""'), "must say its measured by"),
    (lambda s: s.replace('kind = "GPU"', 'kind = "TPU"'), "kind must be CPU or GPU"),
    (lambda s: s.replace("value = 10", "value = -1"), "positive number"),
    (lambda s: s.replace('format = "gpuviz-reference"', 'format = "gpuviz-bench"'), "not a gpuviz reference"),
    (lambda s: s + "colour = 1\n", "row 1 needs exactly"),
    (lambda s: "speed = 1\n" + s, "unknown keys: speed"),
    (lambda s: s.replace("version = 1", "version = 2"), "reads version 1"),
    (lambda s: s + "[[", "not a TOML file"),
])
def test_bad_tables_are_one_sentence(tmp_path, change, message):
    path = tmp_path / "t.toml"
    path.write_text(GOOD)
    assert ReferenceTable.load(path).label() == ("Measured elsewhere by someone (2017), not on this machine: "
                                                 "an article")
    path.write_text(change(GOOD))
    with pytest.raises(SpeedError, match=message) as info:
        ReferenceTable.load(path)
    assert "\n" not in str(info.value)


def test_rows_keep_the_sources_order_and_kinds():
    t = ReferenceTable.load(assets_dir() / ref.FOLDER / ref.LECTURE_TABLE)
    assert t.by_kind("GPU") == [ReferenceRow("GeForce 940MX", "GPU", 1190.0), ReferenceRow("GeForce 1070", "GPU", 6500.0)]


def test_a_speed_scenario_asks_for_the_cpu_vs_gpu_figure_only_for_the_layer():
    from gpuviz.model.panel import ParamsError
    from gpuviz.model.scenario import load_presets, parse_scenario

    base = {"schema": 1, "panel": "speed", "title": "t",
            "params": {"op": "layer", "sizes": [1, 64], "impls": ["numpy"]}, "view": {"figure": "cpu-vs-gpu"}}
    assert parse_scenario(base).view == {"figure": "cpu-vs-gpu"}
    with pytest.raises(ParamsError, match="needs op = \"layer\"") as info:
        parse_scenario({**base, "params": {"op": "dot", "sizes": [1000], "impls": ["numpy"]}})
    assert "\n" not in str(info.value)
    with pytest.raises(ParamsError, match="figure must be one of sweep, cpu-vs-gpu"):
        parse_scenario({**base, "view": {"figure": "pie"}})
    shipped = {s.name: s for s in load_presets("speed")[0]}
    assert shipped["43-speed-cpu-vs-gpu"].view["figure"] == "cpu-vs-gpu"
