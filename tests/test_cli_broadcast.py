"""``gpuviz broadcast``: the steps and the verdict as text or JSON; unreadable shapes cost one line and exit 2."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gpuviz import cli
from gpuviz.model.broadcast import explain

REPO = Path(__file__).resolve().parent.parent


def run_main(capsys, *args):
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_failing_pair_prints_the_steps_and_the_verdict_and_exits_0(capsys):
    code, out, err = run_main(capsys, "broadcast", "(5, 3, 2)", "(5, 2)")
    assert code == 0 and err == ""
    ex = explain((5, 3, 2), (5, 2))
    for step in ex.steps:
        assert step.title in out and step.text in out
    assert "fails at dimension 2 from the right" in out.splitlines()[-1]
    assert "[1]" in out  # the padded 1 is marked in the aligned shapes


def test_a_working_pair_prints_the_result_shape(capsys):
    code, out, err = run_main(capsys, "broadcast", "4x3", "1x3")
    assert code == 0 and err == ""
    last = out.splitlines()[-1]
    assert last.startswith("Verdict: works") and "(4, 3)" in last and "1 → 4" in last
    assert "Stretch dimension 2 from the right" in out


def test_more_than_two_shapes_and_scalars(capsys):
    code, out, _ = run_main(capsys, "broadcast", "(8, 1, 6, 1)", "(7, 1, 5)", "()")
    assert code == 0 and "(8, 7, 6, 5)" in out.splitlines()[-1]


def test_json_is_one_object_with_the_explanation(capsys):
    code, out, err = run_main(capsys, "broadcast", "(5, 3, 2)", "(5, 2)", "--json")
    assert code == 0 and err == "" and len(out.strip().splitlines()) == 1
    d = json.loads(out)
    assert d["ok"] is False and d["result_shape"] is None and d["failing_dim"] == 2
    assert d["shapes"] == [[5, 3, 2], [5, 2]] and d["padded"] == [[5, 3, 2], [1, 5, 2]]
    assert d["reason"] == explain((5, 3, 2), (5, 2)).reason
    assert [s["kind"] for s in d["steps"]] == ["align", "pad", "compare", "compare", "fail"]
    assert all(set(s) >= {"kind", "title", "text", "dim"} for s in d["steps"])
    code, out, _ = run_main(capsys, "broadcast", "--json", "5,3,2", "()")
    d = json.loads(out)
    assert code == 0 and d["ok"] is True and d["result_shape"] == [5, 3, 2] and d["failing_dim"] is None


@pytest.mark.parametrize("args, needle", [
    (["broadcast", "(5, 3, 2)", "abc"], "'abc'"),
    (["broadcast", "(5, 3", "(3,)"], "never closed"),
    (["broadcast", "5x3,2", "2"], "one kind of separator"),
    (["broadcast", "", "2"], "no shape given"),
    (["broadcast", "1.5", "--json"], "'1.5'"),
    (["broadcast"], "SHAPE"),
])
def test_unreadable_shapes_are_one_line_and_exit_2(capsys, args, needle):
    code, out, err = run_main(capsys, *args)
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("gpuviz: error:") and needle in lines[0]
    assert "Traceback" not in err and "usage:" not in err.lower()


def test_help_names_the_forms(capsys):
    code, out, _ = run_main(capsys, "broadcast", "--help")
    assert code == 0 and "5x3x2" in out and "--json" in out
    code, out, _ = run_main(capsys, "--help")
    assert "broadcast" in out


def test_as_a_real_process_it_loads_neither_qt_nor_numba():
    probe = ("import sys; from gpuviz.cli import main; code = main(['broadcast', '(4, 3)', '(4,)']); "
             "assert not any(m.startswith(('PyQt6', 'numba')) for m in sys.modules), 'heavy import'; "
             "sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert "fails at dimension 1 from the right" in done.stdout
    bad = subprocess.run([sys.executable, "-m", "gpuviz", "broadcast", "(4, x)"], capture_output=True, text=True,
                         timeout=60, cwd=REPO)
    assert bad.returncode == 2 and len(bad.stderr.splitlines()) == 1 and bad.stdout == ""


SLIDE = "[[1,2,3],[4,5,6],[7,8,9],[10,11,12]]"


def test_values_give_the_sum_in_json(capsys):
    code, out, err = run_main(capsys, "broadcast", "(4,3)", "(3,)", "--values", SLIDE, "[100, 200, 300]", "--json")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert data["sum"] == [[101, 202, 303], [104, 205, 306], [107, 208, 309], [110, 211, 312]]
    same = explain("(4,3)", "(3,)").to_dict()
    assert {k: v for k, v in data.items() if k != "sum"} == same  # the same JSON as without values, plus sum


def test_values_of_shapes_that_do_not_broadcast_give_a_null_sum_and_exit_0(capsys):
    code, out, err = run_main(capsys, "broadcast", "(4,3)", "(4,)", "--values", "ones", "arange", "--json")
    assert code == 0 and json.loads(out)["sum"] is None


def test_values_in_text_print_the_sum(capsys):
    code, out, _ = run_main(capsys, "broadcast", "(4,3)", "(1,3)", "--values", SLIDE, "[[100,200,300]]")
    assert code == 0 and "Sum:" in out and "[110 211 312]" in out


@pytest.mark.parametrize("values, words", [
    ((SLIDE,), "1 VALUES given for 2 shapes"),
    ((SLIDE, "[1, 2]"), "values of operand B: '[1, 2]' has shape (2,), not operand B's shape (3,)"),
    ((SLIDE, "[1, NaN, 3]"), "no NaN or Infinity"),
    (("zeros", "sevens"), "cannot read 'sevens' as values"),
])
def test_bad_values_are_one_line_and_exit_2(capsys, values, words):
    code, out, err = run_main(capsys, "broadcast", "(4,3)", "(3,)", "--values", *values)
    assert code == 2 and out == ""
    assert words in err and len(err.strip().splitlines()) == 1


def test_export_broadcast_takes_values_one_per_shape(capsys, tmp_path, monkeypatch):
    drawn = {}

    def fake_export(panel, scenario, out, **kwargs):
        drawn["scenario"] = scenario
        Path(out).write_bytes(b"png")
        return Path(out)

    monkeypatch.setattr("gpuviz.ui.export.export_panel", fake_export)
    out = tmp_path / "b.png"
    code, _, err = run_main(capsys, "export", "broadcast", "(4,3)", "(3,)", "--values", SLIDE, "[100,200,300]",
                            "--out", str(out))
    assert code == 0, err
    params = drawn["scenario"].params
    assert params.shapes == ((4, 3), (3,))
    assert [a.tolist() for a in params.arrays()] == [json.loads(SLIDE), [100, 200, 300]]


@pytest.mark.parametrize("args, words", [
    (("(4,3)", "(3,)", "--values", SLIDE), "--values: 1 VALUES given for 2 shapes"),
    (("(4,3)", "(3,)", "--values", SLIDE, "[1,2]"), "has shape (2,), not operand B's shape (3,)"),
    (("(4,3)", "(3,)", "--values", SLIDE, "[Infinity, 1, 2]"), "no NaN or Infinity"),
    (tuple(["(2,)"] * 9), "at most 8 operands"),
])
def test_export_broadcast_refuses_bad_values_and_too_many_operands_in_one_line(capsys, tmp_path, args, words):
    code, out, err = run_main(capsys, "export", "broadcast", *args, "--out", str(tmp_path / "x.png"))
    assert code == 2 and words in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.png").exists()


def test_gpuviz_broadcast_explains_more_operands_than_a_picture_draws(capsys):
    code, out, err = run_main(capsys, "broadcast", *(["(2,)"] * 12), "--json")
    assert code == 0 and json.loads(out)["ok"] and len(json.loads(out)["shapes"]) == 12
