"""Issue 18's examples on the command line (not export, not broadcast): each is one line on stderr and exit 2,
refused before any work starts (no worker process, no benchmark, no window), or, for a run that failed after it
started, exit 1 with no traceback and a last line that says why."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gpuviz import cli
from gpuviz.engine.process import Worker
from gpuviz.model.scenario import ScenarioError, load_scenario

BIG = "9" * 5000
LAUNCH = ["--kernel", "naive", "--m", "8", "--n", "8", "--k", "8", "--block", "8x8"]


@pytest.fixture
def no_worker(monkeypatch):
    """Fail the test if anything tries to start a worker process."""
    def refuse(self):
        raise AssertionError("a worker process was started for a request that should have been refused")

    monkeypatch.setattr(Worker, "_start", refuse)


def refused(capsys, *args) -> str:
    """The one stderr line of ``gpuviz ARGS``, asserted to be exit 2, short, no traceback, no stdout."""
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert code == 2, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err and lines[0].startswith("gpuviz: error: ")
    assert len(lines[0]) < 300, lines[0]
    assert out == ""
    return lines[0]


@pytest.fixture
def fifo(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("FIFOs are POSIX")

    def make(name: str) -> Path:
        path = tmp_path / name
        os.mkfifo(path)
        return path

    return make


# -- numbers ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("args, needle", [
    (["grad", "--layer", "toy", "--seed", "-1"], "4,294,967,295"),
    (["grad", "--layer", "toy", "--seed", "4294967296"], "4,294,967,295"),
    (["grad", "--layer", "toy", "--seed", BIG], "5,000 digits"),
    (["run", *LAUNCH, "--seed", "-1"], "range of a seed"),
    (["trace", *LAUNCH, "--seed", "99999999999999999999", "--out", "t.npz"], "range of a seed"),
    (["run", "--kernel", "naive", "--m", "99999999999999999999", "--n", "8", "--k", "8", "--block", "8x8"],
     "largest matrix side"),
    (["run", "--kernel", "naive", "--m", BIG, "--n", "8", "--k", "8", "--block", "8x8"], "5,000 characters"),
    (["run", *LAUNCH, "--memory", "9" * 400], "30 digits"),
    (["run", *LAUNCH, "--memory", "1000TiB"], "64.0 TiB"),
    (["run", *LAUNCH, "--repeat", BIG], "at least 1"),
    (["run", *LAUNCH, "--repeat", "1000000"], "1,000"),
    (["run", "--kernel", "naive", "--m", "8", "--n", "8", "--k", "8", "--block", "8x" + BIG], "30 digits"),
    (["grad", "--layer", "digits", "--alpha", "1e308", "--train", "5"], "1000"),
    (["grad", "--layer", "digits", "--train", "100000000"], "5,000"),
    (["grad", "--layer", "digits", "--batch", BIG], "30"),
    (["bench", "--op", "dot", "--sizes", "1e999999999"], "10^30"),
    (["bench", "--op", "dot", "--sizes", BIG], "5,000 characters"),
    (["bench", "--op", "dot", "--repeats", BIG], "30"),
    (["bench", "--op", "dot", "--sizes", ",".join(str(i) for i in range(1, 100_000))], "at most 12"),
    (["bench", "--op", "dot", "--max-seconds", "1e400"], "3600"),
    (["bench", "--op", "dot", "--max-seconds", "nan"], "more than 0"),
    (["check", "--kernel-file", "k.py", "--grid", "1", "--block", "1", "--timeout", "inf"], "3600"),
    (["occupancy", "--gpu", "h100", "--threads", BIG, "--regs", "32", "--smem", "0"], "5,000 characters"),
    (["occupancy", "--gpu", "h100", "--threads", "256", "--regs", "32", "--smem", "9" * 400], "400 digits"),
    (["occupancy", "--gpu", "h100", "--threads", "256", "--regs", "32", "--smem", "0", "--grid", BIG], "30 digits"),
    (["--screenshot", "s.png", "--size", "9" * 40 + "x5"], "picture size"),
])
def test_hostile_numbers_are_one_line(capsys, no_worker, args, needle):
    assert needle in refused(capsys, *args)


def test_grad_train_has_export_grads_cap(capsys, no_worker):
    from gpuviz.model.dense import MAX_REPLAY

    started = time.perf_counter()
    assert f"{MAX_REPLAY:,}" in refused(capsys, "grad", "--layer", "digits", "--train", MAX_REPLAY + 1)
    assert time.perf_counter() - started < 5


def test_an_overflowing_alpha_fails_in_one_last_line(capsys):
    # a run that started and diverged: exit 1, NumPy's overflow warnings not printed before the reason
    code = cli.main(["grad", "--layer", "digits", "--alpha", "900", "--loss", "mse", "--train", "20"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in err and "Warning" not in err
    assert err.splitlines() == [err.splitlines()[-1]] and "too large" in err


# -- outputs checked before the work --------------------------------------------------------------------


def test_outputs_are_checked_before_the_work(capsys, no_worker, tmp_path, fifo):
    pipe = fifo("fifo.npz")
    png_pipe = fifo("fifo.png")
    long_name = tmp_path / ("a" * 300 + ".npz")
    assert "folder" in refused(capsys, "trace", *LAUNCH, "--out", tmp_path)
    assert "FIFO" in refused(capsys, "trace", *LAUNCH, "--out", pipe)
    assert "255" in refused(capsys, "trace", *LAUNCH, "--out", long_name)
    assert "empty path" in refused(capsys, "trace", *LAUNCH, "--out", "")
    assert "empty path" in refused(capsys, "--screenshot", "")
    assert "FIFO" in refused(capsys, "--screenshot", png_pipe)
    assert "255" in refused(capsys, "--screenshot", tmp_path / ("b" * 300 + ".png"))
    assert "device" in refused(capsys, "--screenshot", "/dev/null")


@pytest.mark.parametrize("target, needle", [
    ("{tmp}/dir.json", "folder"),
    ("{tmp}/fifo.json", "FIFO"),
    ("{tmp}/" + "c" * 300 + ".json", "255"),
    ("/proc/gpuviz.json", "cannot write"),
    ("{tmp}/missing/r.json", "does not exist"),
    ("", ".json"),
])
def test_bench_save_is_checked_before_the_benchmark(capsys, no_worker, tmp_path, fifo, target, needle):
    (tmp_path / "dir.json").mkdir()
    fifo("fifo.json")
    if target.startswith("/proc") and not Path("/proc").is_dir():
        pytest.skip("no /proc")
    line = refused(capsys, "bench", "--op", "dot", "--sizes", "1000", "--impl", "numpy",
                   "--save", target.replace("{tmp}", str(tmp_path)))
    assert needle in line


# -- inputs read with a bound --------------------------------------------------------------------------


def test_bench_load_refuses_devices_fifos_and_large_files_at_once(capsys, tmp_path, fifo):
    from gpuviz.model.limits import MAX_RESULTS_BYTES

    big = tmp_path / "big.json"
    with open(big, "wb") as f:
        f.truncate(MAX_RESULTS_BYTES + 1)
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 1000 + "]" * 1000)
    started = time.perf_counter()
    assert "device" in refused(capsys, "bench", "--load", "/dev/zero")
    assert "FIFO" in refused(capsys, "bench", "--load", fifo("r.json"))
    assert "16.0 MiB" in refused(capsys, "bench", "--load", big)
    assert "1000 deep" in refused(capsys, "bench", "--load", deep)
    assert time.perf_counter() - started < 5


def test_the_speed_panels_results_file_is_read_with_the_same_bounds(tmp_path, fifo):
    """BenchResults.load (the Speed panel's [view] results) refuses what `bench --load` refuses, at once, in one
    sentence naming the file, never blocking on a FIFO or reading /dev/zero."""
    from gpuviz.model.limits import MAX_RESULTS_BYTES
    from gpuviz.model.speed import BenchResults, SpeedError

    big = tmp_path / "big.json"
    with open(big, "wb") as f:
        f.truncate(MAX_RESULTS_BYTES + 1)
    (tmp_path / "deep.json").write_text("[" * 1000 + "]" * 1000)
    (tmp_path / "long.json").write_text('{"format": "gpuviz-bench", "results": [], "version": ' + BIG + "}")
    (tmp_path / "latin.json").write_bytes(b"\xff\xfe{")
    started = time.perf_counter()
    for path, needle in [("/dev/zero", "not a regular file"), (fifo("r.json"), "not a regular file"),
                         (big, "over the 16.0 MiB"), (tmp_path / "deep.json", "1000 deep, over the limit of 32"),
                         (tmp_path / "long.json", "5,000 digits, more than the 30"), (tmp_path / "latin.json", "not UTF-8"),
                         (tmp_path, "is a folder"), (tmp_path / "missing.json", "no such file")]:
        with pytest.raises(SpeedError) as e:
            BenchResults.load(path)
        message = str(e.value)
        assert needle in message and Path(path).name in message, message
        assert "\n" not in message and len(message) < 200, message
    assert time.perf_counter() - started < 5
    # a file `bench --save` writes still reads
    good = tmp_path / "good.json"
    good.write_text('{"format": "gpuviz-bench", "version": 1, "results": []}')
    assert BenchResults.load(good).measurements == []


def test_bench_load_of_a_number_too_long_to_read_is_one_line(capsys, tmp_path):
    path = tmp_path / "long.json"
    path.write_text('{"format": "gpuviz-bench", "results": [], "version": ' + BIG + "}")
    line = refused(capsys, "bench", "--load", path)
    assert str(path) in line


def test_desktop_scenario_is_checked_before_the_window(capsys, tmp_path, fifo):
    assert "device" in refused(capsys, "--scenario", "/dev/zero")
    assert "FIFO" in refused(capsys, "--scenario", fifo("s.toml"))


def test_kernel_file_fifo_is_refused(capsys, no_worker, fifo):
    assert "FIFO" in refused(capsys, "check", "--kernel-file", fifo("k.py"), "--grid", "1", "--block", "1")


def _scenario(tmp_path, body: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text('schema = 1\npanel = "broadcast"\ntitle = "t"\n' + body, encoding="utf-8")
    return path


def test_scenario_nesting_and_key_depth_are_refused_before_parsing(tmp_path):
    deep = _scenario(tmp_path, "[params]\nshapes = " + "[" * 1000 + "]" * 1000 + "\n")
    with pytest.raises(ScenarioError, match="1000 deep"):
        load_scenario(deep)
    dotted = _scenario(tmp_path, ".".join(["a"] * 20000) + " = 1\n", "k.toml")
    assert dotted.stat().st_size > 39_000
    started = time.perf_counter()
    with pytest.raises(ScenarioError, match="20000 parts"):
        load_scenario(dotted)
    assert time.perf_counter() - started < 1


def test_scenario_files_are_read_only_if_small_and_regular(tmp_path, fifo):
    big = tmp_path / "big.toml"
    with open(big, "wb") as f:
        f.truncate(2 * 1024**2)
    with pytest.raises(ScenarioError, match="1.0 MiB"):
        load_scenario(big)
    with pytest.raises(ScenarioError, match="not a regular file"):
        load_scenario(fifo("f.toml"))
    with pytest.raises(ScenarioError, match="not a regular file"):
        load_scenario("/dev/zero")
    with pytest.raises(ScenarioError, match="folder"):
        load_scenario(tmp_path)


@pytest.mark.parametrize("view", ['evil = 1', '__class__ = "x"', 'results = 2147483648', 'step = -1'])
def test_unknown_view_keys_of_broadcast_scenarios_are_errors(tmp_path, view):
    path = _scenario(tmp_path, f'[params]\nshapes = ["(4, 3)", "(3,)"]\n[view]\n{view}\n')
    with pytest.raises(ScenarioError, match=r"\[view\]"):
        load_scenario(path)


@pytest.mark.parametrize("view", ['evil = 1', '__class__ = "x"', 'results = 2147483648'])
def test_unknown_view_keys_of_grad_scenarios_are_errors(tmp_path, view):
    path = tmp_path / "g.toml"
    path.write_text(f'schema = 1\npanel = "grad"\ntitle = "t"\n[params]\nlayer = "toy"\n[view]\n{view}\n')
    with pytest.raises(ScenarioError, match=r"unknown key"):
        load_scenario(path)


@pytest.mark.parametrize("seed, needle", [("-1", "at least 0"), ("4294967296", "2³²−1"), ("9" * 5000, "too long")])
def test_scenario_seeds_are_bounded_where_they_enter(tmp_path, seed, needle):
    path = tmp_path / "g.toml"
    path.write_text(f'schema = 1\npanel = "grad"\ntitle = "t"\n[params]\nlayer = "toy"\nseed = {seed}\n')
    with pytest.raises(ScenarioError, match=needle):
        load_scenario(path)


def test_a_valid_broadcast_scenario_still_reads(tmp_path):
    path = _scenario(tmp_path, '[params]\nshapes = ["(4, 3)", "(3,)"]\n[view]\nstep = 1\n')
    assert load_scenario(path).view == {"step": 1}


# -- a few in a real process: the exit code and stderr as a shell sees them ---------------------------------


@pytest.mark.parametrize("args", [
    ["grad", "--layer", "toy", "--seed", "-1"],
    ["--screenshot", ""],
    ["bench", "--load", "/dev/zero"],
])
def test_in_a_process(tmp_path, args):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    p = subprocess.run([sys.executable, "-m", "gpuviz", *args], capture_output=True, text=True, timeout=60,
                       env=env, cwd=tmp_path)
    assert p.returncode == 2, p.stderr
    assert len(p.stderr.splitlines()) == 1 and "Traceback" not in p.stderr


def test_a_deck_folder_that_cannot_be_created_is_refused_before_any_source_is_read(tmp_path, capsys):
    import os

    from gpuviz.cli import main

    if not os.path.isdir("/proc/self"):
        pytest.skip("needs /proc, where even root cannot create a folder")
    bad_source = tmp_path / "broken.toml"
    bad_source.write_text("not = [toml")
    rc = main(["export", "--deck", str(bad_source), "--out", "/proc/gpuviz-deck", "--size", "320x240"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and "cannot create the folder" in err[0], err
