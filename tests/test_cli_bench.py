"""``gpuviz bench``: the table, --json, --save/--load, and every way a request can be wrong.

Bad requests run ``main([...])`` in this process with worker start-up forbidden;
measuring runs go through ``python -m gpuviz`` in a subprocess, as a user would.
No assertion depends on a time.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gpuviz import cli
from gpuviz.engine import Engine
from gpuviz.engine.process import Worker
from gpuviz.model import speed
from gpuviz.model.speed import BenchResults, Machine, Measurement

REPO = Path(__file__).resolve().parent.parent
ISSUE_KEYS = {"impl", "size", "median_s", "min_s", "max_s", "repeats", "compile_s", "skipped"}


def gpuviz(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "gpuviz", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO)


@pytest.fixture
def no_worker(monkeypatch):
    def refuse(self):
        raise AssertionError("a worker process was started for a request that should have been refused")

    monkeypatch.setattr(Worker, "_start", refuse)


@pytest.mark.parametrize("args, message", [
    (["--op", "conv"], "invalid choice: 'conv'"),
    (["--sizes", "0"], "at least 1"),
    (["--sizes", "1.5"], "whole number"),
    (["--sizes", "abc"], "whole number"),
    (["--sizes", ","], "one or more sizes"),
    (["--sizes", "-3"], "“-3” is not a whole number of at least 1"),
    (["--op", "matmul", "--sizes", "100000"], "too large"),
    (["--impl", "fortran"], "unknown implementation 'fortran'"),
    (["--repeats", "0"], "more than 0"),
    (["--max-seconds", "-1"], "more than 0"),
    (["--save", "out.txt"], "ending in .json"),
    (["--save", "/no/such/folder/out.json"], "does not exist"),
    (["--load", "x.json", "--sizes", "10"], "takes no --sizes"),
])
def test_bad_requests_are_one_line_and_exit_2(no_worker, capsys, args, message):
    code = cli.main(["bench", *args])
    out, err = capsys.readouterr()
    assert code == 2, err
    assert out == ""
    assert len(err.splitlines()) == 1 and err.startswith("gpuviz: error:") and message in err, err


def test_a_file_that_is_not_results_is_one_line(no_worker, capsys, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    assert cli.main(["bench", "--load", str(bad)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1 and "one JSON object" in err


def test_json_prints_one_object_with_the_issue_keys():
    res = gpuviz("bench", "--sizes", "1000,2000", "--impl", "python,numpy,cublas", "--repeats", "1", "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)  # stdout is the JSON object alone: progress goes to stderr
    assert {"cpu", "cores", "blas", "gpu"} <= set(data["machine"])
    assert len(data["results"]) == 6
    for entry in data["results"]:
        assert ISSUE_KEYS <= set(entry) and entry["op"] == "dot"
    by = {(e["impl"], e["size"]): e for e in data["results"]}
    assert by[("numpy", 2000)]["median_s"] > 0 and by[("numpy", 2000)]["compile_s"] is None
    if data["machine"]["gpu"] is None:
        assert by[("cublas", 1000)]["skipped"] == "no GPU found" and by[("cublas", 1000)]["median_s"] is None
    assert "[1/6] dot python 1,000" in res.stderr


def test_default_is_the_lecture_dot_product_as_a_table_saved_and_loaded(tmp_path):
    saved = tmp_path / "here.json"
    res = gpuviz("bench", "--impl", "python,numpy", "--save", saved)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].startswith("machine: ")
    header = next(ln for ln in lines if ln.startswith("impl"))
    for column in ("size", "median", "min–max", "GFLOP/s", "× python", "compile", "note"):
        assert column in header
    rows = {ln.split()[0]: ln for ln in lines if ln.startswith(("python ", "numpy "))}
    assert "1,000,000" in rows["python"] and "1×" in rows["python"]
    loaded = BenchResults.load(saved)
    assert [(m.impl, m.size) for m in loaded.measurements] == [("python", 1_000_000), ("numpy", 1_000_000)]
    back = gpuviz("bench", "--load", saved)
    assert back.returncode == 0, back.stderr
    assert f"loaded from {saved}" in back.stdout
    assert "1,000,000" in back.stdout


def test_a_wrong_result_is_shown_and_exits_1(monkeypatch, capsys):
    wrong = Measurement("dot", "numba", 10, 1e-6, 1e-6, 1e-6, 3, 0.1, None, 20.0, 0.5)
    right = Measurement("dot", "numpy", 10, 1e-6, 1e-6, 1e-6, 3, None, None, 20.0, 0.0)
    fake = BenchResults(Machine("cpu", 2, "blas", None, None, None, None), [right, wrong])
    monkeypatch.setattr(Engine, "bench", lambda self, *a, **k: fake)
    assert cli.main(["bench", "--sizes", "10", "--impl", "numpy,numba"]) == 1
    out, _ = capsys.readouterr()
    row = next(ln for ln in out.splitlines() if ln.startswith("numba "))
    assert "WRONG" in row and "0.5" in row


def test_layer_table_has_examples_per_second(monkeypatch, capsys):
    m = Measurement("layer", "numpy", 64, 1e-3, 1e-3, 1e-3, 3, None, None, speed.flops("layer", 64), 0.0)
    fake = BenchResults(Machine("cpu", 2, "blas", None, None, None, None), [m])
    monkeypatch.setattr(Engine, "bench", lambda self, *a, **k: fake)
    assert cli.main(["bench", "--op", "layer", "--sizes", "64", "--impl", "numpy"]) == 0
    out, _ = capsys.readouterr()
    assert "examples/s" in out and "64,000" in out


def _live_processes_in_group(pgid: int) -> list[str]:
    """Command lines of the processes of group ``pgid`` that still run (zombies are already dead)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(cmdline)
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux's /proc")
def test_ctrl_c_cancels_with_130_and_leaves_no_worker():
    proc = subprocess.Popen(
        [sys.executable, "-m", "gpuviz", "bench", "--op", "matmul", "--sizes", "16,200,256", "--impl", "python"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True, cwd=REPO)
    # wait until the sweep is measuring (its first progress line), then press Ctrl-C
    first = proc.stderr.readline()
    assert first.startswith("[1/3]"), first
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert err.endswith("gpuviz: cancelled\n") and "Traceback" not in err
    assert out == ""
    deadline = time.monotonic() + 10
    while _live_processes_in_group(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    # multiprocessing's resource tracker may outlive us by a moment; the worker must not
    assert not [p for p in _live_processes_in_group(proc.pid) if "resource_tracker" not in p]
