"""The ``gpuviz`` command line: correct runs, trace files, --info, and every way a request can be wrong.

Error paths run ``main([...])`` in this process with worker start-up forbidden
(they must fail before anything is launched); runs that need the simulator go
through ``python -m gpuviz`` in a subprocess, as a user would.
"""

import argparse
import importlib.util
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from gpuviz import cli
from gpuviz.cli import common, gui
from gpuviz.engine import RunResult
from gpuviz.engine.process import Worker
from gpuviz.model import Dim3, MatmulProblem, Trace, launch_for
from gpuviz.model import budget as budget_module
from gpuviz.model.budget import event_count

REPO = Path(__file__).resolve().parent.parent

EVENT_FIELDS = {
    "block": ("<i4", (3,)), "thread": ("<i4", (3,)), "warp": ("<i4", ()), "lane": ("<i4", ()),
    "seq": ("<i4", ()), "epoch": ("<i4", ()), "op": ("<U7", ()), "space": ("<U6", ()),
    "array": ("<U16", ()), "row": ("<i4", ()), "col": ("<i4", ()), "line": ("<i4", ()),
}

HAS_VECTORIZED = importlib.util.find_spec("gpuviz.model.vectorized") is not None
needs_vectorized = pytest.mark.skipif(not HAS_VECTORIZED, reason="gpuviz.model.vectorized is not written yet")


def gpuviz(*args, timeout=120, **kw):
    """Run ``python -m gpuviz ARGS`` and return the completed process (text mode)."""
    return subprocess.run([sys.executable, "-m", "gpuviz", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=kw.pop("cwd", REPO), **kw)


def assert_one_line_error(code: int, stderr: str, stdout: str = "", expected: int = 2) -> str:
    assert code == expected, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr and "usage:" not in stderr.lower()
    assert lines[0].startswith("gpuviz")
    assert stdout == ""
    return lines[0]


@pytest.fixture
def no_worker(monkeypatch):
    """Fail the test if anything tries to start a worker process."""
    def refuse(self):
        raise AssertionError("a worker process was started for a request that should have been refused")

    monkeypatch.setattr(Worker, "_start", refuse)


def run_main(capsys, *args):
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


# -- bad requests: one line, exit 2, nothing started --------------------------------------

LAUNCH = ["--kernel", "naive", "--m", "10", "--n", "13", "--k", "7", "--block", "4x4", "--backend", "simulator"]


def with_option(option, value, base=LAUNCH):
    args = list(base)
    if option in args:
        args[args.index(option) + 1] = value
    else:
        args += [option, value]
    return args


@pytest.mark.parametrize("args, needle", [
    (with_option("--m", "abc"), "--m"),
    (with_option("--n", "1.5"), "--n"),
    (with_option("--m", "0"), "M = 0"),
    (with_option("--k", "-3"), "K = -3"),
    (with_option("--block", "8y8"), "8y8"),
    (with_option("--block", "64x32"), "1024"),
    (with_option("--block", "2000x1"), "blockDim.x = 2000"),
    (with_option("--block", "8x8x65"), "blockDim.z = 65"),
    (with_option("--block", "4x4x2"), "2-D"),
    (with_option("--block", "0x4"), "blockDim.x = 0"),
    (with_option("--kernel", "tiled") + ["--block", "8x4"], "square"),
    (with_option("--kernel", "strassen"), "strassen"),
    (with_option("--backend", "tpu"), "tpu"),
    (with_option("--memory", "lots"), "lots"),
    (with_option("--memory", "100B"), "memory budget"),
    (with_option("--m", "100000") + ["--n", "100000", "--k", "100000"], "memory budget"),
    (with_option("--seed", "x"), "--seed"),
    (LAUNCH + ["--repeat", "0"], "--repeat"),
    (LAUNCH + ["--bogus"], "--bogus"),
    (["--kernel", "naive", "--m", "3"], "required"),
    ([], "required"),
])
def test_run_refuses_bad_requests_in_one_line(capsys, no_worker, args, needle):
    code, out, err = run_main(capsys, "run", *args)
    line = assert_one_line_error(code, err, out)
    assert line.startswith("gpuviz: error: ")
    assert needle in line


@pytest.mark.parametrize("args, needle", [
    (LAUNCH + ["--out", "{tmp}/missing/trace.npz"], "does not exist"),
    (LAUNCH + ["--out", "{tmp}"], "folder"),
    (LAUNCH + ["--out", "{tmp}/a_file/trace.npz"], "does not exist"),
    (LAUNCH, "--out"),
    (LAUNCH + ["--out", "{tmp}/t.npz", "--source", "guessed"], "guessed"),
    (with_option("--backend", "gpu") + ["--out", "{tmp}/t.npz"], "simulator"),
    (with_option("--block", "64x32") + ["--out", "{tmp}/t.npz"], "1024"),
    (with_option("--memory", "1KiB") + ["--out", "{tmp}/t.npz"], "memory budget"),
])
def test_trace_refuses_bad_requests_before_running(capsys, no_worker, tmp_path, args, needle):
    (tmp_path / "a_file").write_text("not a folder")
    code, out, err = run_main(capsys, "trace", *[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert needle in assert_one_line_error(code, err, out)
    assert not (tmp_path / "t.npz").exists()


def test_simulator_time_budget_needs_yes(capsys, monkeypatch):
    # a slow fake simulator: 1 s per thread makes the 192-thread launch "3.2 min"
    monkeypatch.setattr(budget_module, "simulator_calibration",
                        lambda: {"seconds_per_thread": 1.0, "seconds_per_event": 0.0, "seconds_per_block_barrier": 0.0})
    seen = []

    def fake_run(engine, job, on_progress, confirmed):
        seen.append((job, confirmed))
        return RunResult("cancelled", "cancelled", job, "simulator")

    monkeypatch.setattr(common, "run_matmul_job", fake_run)
    monkeypatch.setattr(Worker, "_start", lambda self: pytest.fail("no worker may start"))
    code, out, err = run_main(capsys, "run", *LAUNCH)
    line = assert_one_line_error(code, err, out)
    assert "min" in line and "--yes" in line and not seen
    code, out, err = run_main(capsys, "run", *LAUNCH, "--yes")
    assert code == 130 and seen and seen[0][1] is True


def test_no_command_starts_the_desktop_app(capsys, monkeypatch, no_worker):
    # the GUI itself is tested in tests/ui; here: no command goes to it, with its options
    seen = []
    monkeypatch.setattr(gui, "run_gui", lambda args: seen.append(args) or 0)
    code, out, err = run_main(capsys, "--theme", "dark", "--lecture")
    assert code == 0 and (out, err) == ("", "")
    assert seen and seen[0].theme == "dark" and seen[0].lecture and seen[0].command is None


def test_gui_options_are_refused_with_a_command(capsys, no_worker):
    code, out, err = run_main(capsys, "--lecture", "run", *LAUNCH)
    assert "desktop app" in assert_one_line_error(code, err, out)
    code, out, err = run_main(capsys, "--size", "800x600")
    assert "--screenshot" in assert_one_line_error(code, err, out)


def test_help_lists_the_commands(capsys):
    code, out, _ = run_main(capsys, "--help")
    assert code == 0 and "run" in out and "trace" in out and "--info" in out
    code, out, _ = run_main(capsys, "run", "--help")
    assert code == 0 and "--kernel" in out and "--block" in out


@pytest.mark.parametrize("args", [
    ["run", "--kernel", "naive", "--m", "abc", "--n", "3", "--k", "3", "--block", "4x4"],
    ["run", "--kernel", "naive", "--m", "3", "--n", "3", "--k", "3", "--block", "64x32"],
    ["run", "--kernel", "naive"],
    ["frobnicate"],
    ["--size", "800x600"],
])
def test_real_process_errors_are_one_line(args):
    proc = gpuviz(*args, timeout=60)
    assert_one_line_error(proc.returncode, proc.stderr, proc.stdout)


def test_backend_gpu_without_a_gpu_is_refused():
    proc = gpuviz("run", "--kernel", "naive", "--m", 10, "--n", 13, "--k", 7, "--block", "4x4",
                  "--backend", "gpu", "--json")
    if proc.returncode == 0:  # a machine with a GPU: then it must have run there
        assert json.loads(proc.stdout)["backend"] == "gpu"
    else:
        assert "no CUDA GPU" in assert_one_line_error(proc.returncode, proc.stderr, proc.stdout)


def test_parse_bytes():
    assert common.bytes_arg("4GiB") == 4 * 1024**3
    assert common.bytes_arg("512MiB") == 512 * 1024**2
    assert common.bytes_arg("1.5G") == int(1.5 * 1024**3)
    assert common.bytes_arg("2GB") == 2 * 10**9
    assert common.bytes_arg("4096") == 4096
    for bad in ("", "GiB", "4 parsecs", "-1G", "0"):
        with pytest.raises(argparse.ArgumentTypeError):
            common.bytes_arg(bad)


# -- results other than a correct product ------------------------------------------------------


@pytest.mark.parametrize("status, message, code", [
    ("wrong", "C does NOT match A·B: max abs error 1.2, relative 0.3", 1),
    ("error", "the kernel raised IndexError: tid=[6, 0, 0] ctaid=[1, 0, 0]: index 14 is out of bounds", 1),
    ("died", "the worker process died (exit code -9)", 1),
    ("cancelled", "cancelled", 130),
])
@pytest.mark.parametrize("as_json", [False, True])
def test_failed_runs_exit_nonzero_with_one_line(capsys, monkeypatch, status, message, code, as_json):
    def fake_run(engine, job, on_progress, confirmed):
        wrong = status == "wrong"
        return RunResult(status, message, job, "simulator", None, None, 1.2 if wrong else None,
                         0.3 if wrong else None, 0.01 if wrong else None, "wall clock" if wrong else "")

    monkeypatch.setattr(common, "run_matmul_job", fake_run)
    code_, out, err = run_main(capsys, "run", *LAUNCH, *(["--json"] if as_json else []))
    assert code_ == code
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    if as_json and status != "cancelled":
        assert json.loads(out)["status"] == status  # stdout stays one JSON object
    if status == "wrong" and not as_json:
        assert "WRONG" in out


def test_progress_only_on_a_terminal_after_a_second():
    class Stream:
        def __init__(self, tty):
            self.tty, self.text = tty, ""

        def isatty(self):
            return self.tty

        def write(self, s):
            self.text += s

        def flush(self):
            pass

    from gpuviz.engine import Progress

    tty, pipe = Stream(True), Stream(False)
    for stream in (tty, pipe):
        line = common.ProgressLine("simulating naive", stream)
        line(Progress(1, 12))  # too early: quiet
        line.start -= 2 * common.PROGRESS_DELAY_S
        line(Progress(3, 12))
        line.clear()
    assert pipe.text == ""
    assert "block 3/12" in tty.text and "block 1/12" not in tty.text
    assert tty.text.endswith("\r")


# -- correct runs in the simulator --------------------------------------------------------------


@pytest.mark.parametrize("kernel, m, n, k, bx, by", [
    ("naive", 10, 13, 7, 4, 4),
    ("tiled", 9, 7, 5, 4, 4),
])
def test_run_json_on_the_simulator(kernel, m, n, k, bx, by):
    proc = gpuviz("run", "--kernel", kernel, "--m", m, "--n", n, "--k", k, "--block", f"{bx}x{by}",
                  "--backend", "simulator", "--seed", 3, "--json")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert len(proc.stdout.strip().splitlines()) == 1
    s = json.loads(proc.stdout)
    grid = [math.ceil(n / bx), math.ceil(m / by), 1]  # naive and tiled: x covers C's columns
    threads = grid[0] * grid[1] * bx * by
    assert s["backend"] == "simulator" and s["gpu_name"] is None
    assert s["status"] == "ok" and s["correct"] is True
    assert 0 <= s["max_abs_error"] < 1e-4 and 0 <= s["rel_error"] < 1e-5
    assert s["seconds"] > 0
    assert s["grid"] == grid and s["block"] == [bx, by, 1]
    assert s["threads"] == threads
    assert s["warps"] == grid[0] * grid[1] * math.ceil(bx * by / 32)
    assert s["idle_threads"] == threads - m * n
    assert (s["kernel"], s["m"], s["n"], s["k"], s["seed"]) == (kernel, m, n, k, 3)


def test_run_prints_a_readable_report():
    proc = gpuviz("run", "--kernel", "uncoalesced", "--m", 10, "--n", 13, "--k", 7, "--block", "4x4",
                  "--backend", "simulator")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    # uncoalesced: grid.x covers the 10 rows, grid.y the 13 columns
    assert "simulator" in out and "grid 3x4 × block 4x4" in out
    assert "12 blocks, 192 threads, 12 warps" in out and "62 idle threads" in out
    assert "correct" in out and "max abs error" in out


# -- trace files --------------------------------------------------------------------------


def check_trace_file(path: Path, expected_events: int) -> tuple[np.ndarray, dict]:
    with np.load(path, allow_pickle=False) as z:
        assert sorted(z.files) == ["events", "meta"]
        events, meta = z["events"], json.loads(str(z["meta"]))
    assert list(events.dtype.names) == list(EVENT_FIELDS)
    for name, (dtype, shape) in EVENT_FIELDS.items():
        field_dtype = events.dtype.fields[name][0]
        assert field_dtype.shape == shape, name
        assert (field_dtype.base if shape else field_dtype).str == dtype, name
    assert not events.dtype.hasobject
    assert len(events) == expected_events
    return events, meta


def test_trace_recorded_naive(tmp_path):
    m, n, k = 10, 13, 7
    out = tmp_path / "naive.npz"
    proc = gpuviz("trace", "--source", "recorded", "--kernel", "naive", "--m", m, "--n", n, "--k", k,
                  "--block", "4x4", "--out", out)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 1 and f"{2 * m * n * k + m * n:,} events" in proc.stdout
    assert str(out) in proc.stdout
    events, meta = check_trace_file(out, 2 * m * n * k + m * n)
    assert set(events["op"]) == {"read", "write"} and set(events["space"]) == {"global"}
    assert set(events["array"]) == {"A", "B", "C"}
    writes = events[events["op"] == "write"]
    assert len(writes) == m * n and set(writes["array"]) == {"C"}
    assert sorted(zip(writes["row"].tolist(), writes["col"].tolist())) == [(r, c) for r in range(m) for c in range(n)]
    assert (events["epoch"] == 0).all() and (events["lane"] < 32).all()
    assert meta["kernel"] == "naive" and (meta["m"], meta["n"], meta["k"]) == (m, n, k)
    assert meta["source"] == "recorded" and meta["block"] == [4, 4, 1] and meta["grid"] == [4, 3, 1]
    assert Trace.load(out).same_events(Trace.from_records(events))


def test_trace_recorded_tiled_in_process(capsys, tmp_path):
    # no .npz suffix: the file is written under exactly the name given
    out = tmp_path / "tiled.trace"
    code, stdout, err = run_main(capsys, "trace", "--kernel", "tiled", "--m", 5, "--n", 6, "--k", 7,
                                 "--block", "3x3", "--out", out, "--json")
    assert code == 0, err
    info = json.loads(stdout)
    assert info["file"] == str(out) and info["bytes"] == out.stat().st_size
    assert info["correct"] is True and info["backend"] == "simulator"
    problem = MatmulProblem(5, 6, 7)
    assert info["events"] == event_count("tiled", problem, launch_for("tiled", problem, Dim3(3, 3)))
    events, meta = check_trace_file(out, info["events"])
    barriers = events[events["op"] == "barrier"]
    assert len(barriers) and set(barriers["space"]) == {""} and set(barriers["array"]) == {""}
    assert (barriers["row"] == -1).all() and (barriers["col"] == -1).all()
    assert set(events["array"]) == {"A", "B", "C", "sA", "sB", ""}
    assert set(events[events["array"] == "sA"]["space"]) == {"shared"}
    # 3 tiles along K: every thread passes 2 barriers per tile
    assert events["epoch"].max() == 2 * 3


@needs_vectorized
def test_trace_vectorized_equals_recorded(capsys, tmp_path):
    recorded, vectorized = tmp_path / "rec.npz", tmp_path / "vec.npz"
    common = ["--kernel", "naive", "--m", 10, "--n", 13, "--k", 7, "--block", "4x4"]
    assert run_main(capsys, "trace", *common, "--out", recorded)[0] == 0
    code, out, err = run_main(capsys, "trace", *common, "--source", "vectorized", "--out", vectorized)
    assert code == 0, err
    events, meta = check_trace_file(vectorized, 2 * 10 * 13 * 7 + 10 * 13)
    assert meta["source"] == "vectorized"
    assert Trace.load(vectorized).same_events(Trace.load(recorded))


@needs_vectorized
def test_trace_vectorized_starts_no_worker(capsys, tmp_path, no_worker):
    out = tmp_path / "tiled.npz"
    code, stdout, err = run_main(capsys, "trace", "--source", "vectorized", "--kernel", "tiled", "--m", 9,
                                 "--n", 7, "--k", 5, "--block", "4x4", "--out", out)
    assert code == 0, err
    assert "computed by NumPy" in stdout
    problem = MatmulProblem(9, 7, 5)
    check_trace_file(out, event_count("tiled", problem, launch_for("tiled", problem, Dim3(4, 4))))


# -- --info -------------------------------------------------------------------------------


def test_info_names_versions_and_backend():
    proc = gpuviz("--info")
    assert proc.returncode == 0, proc.stderr
    for word in ("Python", "PyQt6", "pyqtgraph", "numpy", "numba", "numba-cuda", "CUDA target", "assets"):
        assert word in proc.stdout
    assert np.__version__ in proc.stdout
    assert "simulator" in proc.stdout or "gpu:" in proc.stdout


def test_info_json():
    proc = gpuviz("--info", "--json")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["numpy"] == np.__version__
    assert info["backend"] in ("gpu", "simulator")
    assert (info["gpu_name"] is None) == (info["backend"] == "simulator")
    assert info["cuda_target"] in ("numba-cuda", "built-in")
    assert Path(info["assets"], "calibration.toml").is_file()


# -- Ctrl-C -------------------------------------------------------------------------------


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
def test_ctrl_c_cancels_cleanly():
    # a terminal's Ctrl-C signals the whole process group: the CLI and its worker
    proc = subprocess.Popen(
        [sys.executable, "-m", "gpuviz", "run", "--kernel", "naive", "--m", "128", "--n", "128", "--k", "64",
         "--block", "16x16", "--backend", "simulator", "--yes"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True, cwd=REPO)
    time.sleep(1.5)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert err == "gpuviz: cancelled\n" and out == ""
    deadline = time.monotonic() + 10
    while _live_processes_in_group(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    # multiprocessing's resource tracker may outlive us by a moment; the worker must not
    assert not [p for p in _live_processes_in_group(proc.pid) if "resource_tracker" not in p]

