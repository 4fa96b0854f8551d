"""``gpuviz check`` and ``gpuviz trace --kernel-file`` (issue 20): JSON keys, exit codes, one-line refusals."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from gpuviz import cli
from gpuviz.model.trace import Trace

REPO = Path(__file__).resolve().parents[1]
KERNELS = Path(__file__).parent / "kernels"
FINDING_KEYS = {"kind", "line", "array", "index", "where", "message", "count"}


def run_main(capsys, *args):
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def check_json(capsys, name, *args):
    code, out, err = run_main(capsys, "check", "--kernel-file", KERNELS / name, "--backend", "simulator",
                              "--json", *args)
    assert len(out.splitlines()) == 1, out
    return code, json.loads(out), err


def kernel_line(name: str, text: str) -> int:
    lines = (KERNELS / name).read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


TRANSPOSE = ("--grid", "2x2", "--block", "4x4", "--arg", "a=float32[8,8]:arange", "--arg", "out=float32[8,8]:zeros",
             "--expect", "out=a.T")


def test_check_transpose_without_barrier_json(capsys):
    code, report, err = check_json(capsys, "transpose_nosync.py", *TRANSPOSE)
    assert code == 1, err
    assert report["ok"] is False and report["status"] == "ok" and report["events"] > 0
    for f in report["findings"]:
        assert set(f) == FINDING_KEYS and 1 <= len(f["where"]) <= 8 or f["kind"] == "wrong_result"
        assert all(set(w) == {"block", "thread"} and len(w["block"]) == len(w["thread"]) == 3 for w in f["where"])
    kinds = [f["kind"] for f in report["findings"]]
    assert "race" in kinds and "wrong_result" in kinds
    race = next(f for f in report["findings"] if f["kind"] == "race")
    assert race["line"] == kernel_line("transpose_nosync.py", "tile[ty, tx] = a[") and race["array"] == "tile"
    assert isinstance(race["index"], list) and race["count"] >= 1
    t1, t2 = race["where"][0]["thread"], race["where"][1]["thread"]
    assert t1 != t2 and t1[:2] == t2[1::-1]


def test_check_transpose_with_barrier_is_clean(capsys):
    code, report, err = check_json(capsys, "transpose_sync.py", *TRANSPOSE)
    assert code == 0, err
    assert report["ok"] is True and report["findings"] == [] and report["gpu"] is None


@pytest.mark.parametrize("name, args, kind, line_text", [
    ("diff_oob.py", ("--grid", "2", "--block", "8", "--arg", "a=float32[16]:arange", "--arg", "out=float32[16]:zeros",
                     "--arg", "n=16"), "out_of_bounds", "a[i - 1]"),
    ("block_sum_uninit.py", ("--grid", "2", "--block", "8", "--arg", "a=float32[12]:ones",
                             "--arg", "out=float32[2]:zeros", "--arg", "n=12"), "uninitialized", "total += s[k]"),
    ("sum_race.py", ("--grid", "2", "--block", "32", "--arg", "a=float32[64]:ones", "--arg", "out=float32[1]:zeros"),
     "race", "out[0] +="),
])
def test_check_finds_the_bug(capsys, name, args, kind, line_text):
    code, report, _ = check_json(capsys, name, *args)
    assert code == 1
    assert [(f["kind"], f["line"]) for f in report["findings"]] == [(kind, kernel_line(name, line_text))]


def test_check_atomic_add_is_clean_in_text(capsys):
    code, out, err = run_main(capsys, "check", "--kernel-file", KERNELS / "sum_atomic.py", "--grid", "2",
                              "--block", "32", "--arg", "out=float32[1]:zeros", "--arg", "a=float32[64]:ones",
                              "--expect", "out=a.sum(keepdims=True)", "--backend", "simulator")
    assert code == 0, err
    assert out.splitlines()[-1] == "no findings" and "grid 2 × block 32" in out


def test_check_endless_loop_text(capsys):
    code, out, err = run_main(capsys, "check", "--kernel-file", KERNELS / "endless.py", "--grid", "1", "--block", "4",
                              "--arg", "a=float32[4]:zeros", "--timeout", "1", "--backend", "simulator")
    assert code == 1, err
    assert "timeout: the kernel did not finish within 1 s" in out and "was stopped" in out
    assert f"    {kernel_line('endless.py', 'while a[0] >= 0')} | while a[0] >= 0:" in out or \
        f"{kernel_line('endless.py', 'k += 1')} | k += 1" in out


def _one_line_error(code, out, err):
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("gpuviz: error: "), err
    return lines[0]


@pytest.mark.parametrize("text, args, words", [
    ("from numba import cuda\n\n@cuda.jit\ndef k(a):\n    a[0] = = 1\n", (), "line 5: syntax error"),
    ("from numba import cuda\n\ndef k(a):\n    a[0] = 1\n", (), "no @cuda.jit kernel"),
    ("from numba import cuda\n\n@cuda.jit\ndef k(a):\n    a[0] = 1\n\n@cuda.jit\ndef j(a):\n    a[0] = 2\n", (),
     "choose one with --function"),
    ("from numba import cuda\n\n@cuda.jit\ndef k(a):\n    a[0] = 1\n", ("--arg", "b=int32[1]:zeros"),
     "no parameter 'b'"),
    ("from numba import cuda\n\n@cuda.jit\ndef k(a):\n    a[0] = 1\n", ("--arg", "a=int32[1:zeros"), "expected"),
    ("from numba import cuda\n\n@cuda.jit\ndef k(a):\n    a[0] = 1\n", ("--arg", "a=int32[1]:zeros", "--block",
                                                                     "32x32x2"), "over CUDA's limit of 1024 threads per block"),
    ("from numba import cuda\n\nX = undefined\n\n@cuda.jit\ndef k(a):\n    a[0] = 1\n", ("--arg", "a=int32[1]:zeros"),
     "line 3: importing the file raised NameError"),
])
def test_check_bad_requests_exit_2_with_one_line(capsys, tmp_path, text, args, words):
    path = tmp_path / "k.py"
    path.write_text(text)
    base = ["check", "--kernel-file", path, "--grid", "1", "--backend", "simulator"]
    if "--block" not in args:
        base += ["--block", "1"]
    code, out, err = run_main(capsys, *base, *args)
    assert words in _one_line_error(code, out, err)


def test_check_unreadable_file(capsys, tmp_path):
    code, out, err = run_main(capsys, "check", "--kernel-file", tmp_path / "none.py", "--grid", "1", "--block", "1")
    assert "no such file" in _one_line_error(code, out, err)


def test_trace_kernel_file_writes_format_2(capsys, tmp_path):
    out_file = tmp_path / "user.npz"
    code, out, err = run_main(capsys, "trace", "--kernel-file", KERNELS / "sum_atomic.py", "--grid", "1",
                              "--block", "8", "--arg", "a=float32[8]:arange", "--arg", "out=float32[1]:zeros",
                              "--out", out_file, "--json")
    assert code == 0, err
    info = json.loads(out)
    assert info["events"] == 16 and info["trace_format"] == 2 and info["kernel"] == "total"
    tr = Trace.load(out_file)
    assert len(tr) == 16 and tr.source == (KERNELS / "sum_atomic.py").read_text()
    with np.load(out_file) as z:
        ops = set(z["events"]["op"].tolist())
        assert json.loads(str(z["meta"]))["trace_format"] == 2
    assert ops == {"read", "atomic"}


def test_trace_options_of_the_two_kinds_do_not_mix(capsys, tmp_path):
    code, out, err = run_main(capsys, "trace", "--kernel-file", KERNELS / "sum_atomic.py", "--kernel", "naive",
                              "--grid", "1", "--block", "8", "--out", tmp_path / "x.npz")
    assert "--kernel is for the built-in product" in _one_line_error(code, out, err)
    code, out, err = run_main(capsys, "trace", "--block", "4x4", "--out", tmp_path / "x.npz")
    assert "--kernel-file" in _one_line_error(code, out, err)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux's /proc")
def test_ctrl_c_cancels_check():
    proc = subprocess.Popen(
        [sys.executable, "-m", "gpuviz", "check", "--kernel-file", str(KERNELS / "endless.py"), "--grid", "1",
         "--block", "4", "--arg", "a=float32[4]:zeros", "--timeout", "60", "--backend", "simulator"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True, cwd=REPO)
    time.sleep(3)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert err == "gpuviz: cancelled\n" and out == ""
