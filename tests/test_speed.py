"""The speed benchmark (issue 7): its model (estimates, files, arithmetic) and the engine that measures.

Nothing here asserts a time: the engine tests check that every implementation
computes the same answer, that slow ones are skipped by estimate instead of run,
and that a sweep can be cancelled. Everything numba runs in the engine's workers.
"""

import json
import os
import subprocess
import sys

import pytest

from gpuviz.engine import BenchCancelled
from gpuviz.engine.process import Cancelled
from gpuviz.model import speed
from gpuviz.model.speed import BenchResults, Machine, Measurement, SpeedError

ISSUE_KEYS = {"impl", "size", "median_s", "min_s", "max_s", "repeats", "compile_s", "skipped", "op", "flops",
              "max_rel_error"}
MACHINE_KEYS = {"cpu", "cores", "blas", "gpu", "python", "numpy", "numba"}
CPU_IMPLS = ("python", "numpy", "numba", "numba-fastmath", "numba-parallel")
QUICK = {"repeats": 1, "min_time": 0.0, "max_time": 0.05}


def measured(op, impl, size, median, error=0.0):
    return Measurement(op, impl, size, median, median * 0.9, median * 1.2, 3, None, None, speed.flops(op, size),
                       error)


MACHINE = Machine("Test CPU 3000", 8, "OpenBLAS 0.3.27", None, "3.11.7", "2.4.6", "0.68.1", "Linux x86_64")


def sample_results():
    ms = [measured("dot", "python", 1_000_000, 0.05), measured("dot", "numpy", 1_000_000, 1e-4, 1e-17),
          Measurement.skip("dot", "gpu-naive", 1_000_000, "no GPU found"),
          measured("layer", "numpy", 64, 2e-4), measured("layer", "numpy", 256, 5e-4),
          Measurement.skip("matmul", "python", 512, "estimated 11 s > 5 s limit", 10.7)]
    return BenchResults(MACHINE, ms, "2025-01-01T10:00:00+01:00")


# -- the model ------------------------------------------------------------------------------------


def test_flops_and_rates():
    assert speed.flops("dot", 1_000_000) == 2e6
    assert speed.flops("matmul", 10) == 2000
    assert speed.flops("layer", 2) == 4 * 2 * 10 * 784
    m = measured("dot", "numpy", 1_000_000, 1e-3)
    assert m.gflops() == pytest.approx(2.0)
    assert m.correct
    assert measured("layer", "numpy", 64, 0.5).examples_per_second() == 128
    assert Measurement.skip("dot", "cublas", 10, "no GPU found").gflops() is None
    assert measured("matmul", "numba", 64, 1e-3, error=0.3).correct is False


def test_estimate_scales_the_largest_smaller_size_by_the_complexity():
    done = [measured("matmul", "python", 64, 0.01), measured("matmul", "python", 128, 0.08),
            measured("matmul", "numpy", 1024, 0.02)]
    assert speed.estimate_seconds("matmul", "python", 256, done) == pytest.approx(0.64)
    est = speed.estimate_seconds("matmul", "python", 1024, done)
    assert est == pytest.approx(0.08 * 8**3)
    assert speed.skip_reason(est, 5.0) == "estimated 41 s > 5 s limit"
    assert speed.skip_reason(0.64, 5.0) is None
    # O(N) for the dot product and for a layer's batch
    dots = [measured("dot", "python", 1000, 1e-4)]
    assert speed.estimate_seconds("dot", "python", 1_000_000, dots) == pytest.approx(0.1)
    # skipped entries are no basis for an estimate
    assert speed.estimate_seconds("matmul", "python", 64, [Measurement.skip("matmul", "python", 32, "x")]) == \
        pytest.approx(speed.PRIOR_SECONDS_PER_FLOP["python"] * speed.flops("matmul", 64))


def test_python_matmul_at_512_is_over_the_limit_with_nothing_measured():
    est = speed.estimate_seconds("matmul", "python", 512, [])
    assert speed.skip_reason(est, speed.DEFAULT_MAX_SECONDS).startswith("estimated")
    # the lecture's 1M dot product in a loop is expected to fit
    assert speed.skip_reason(speed.estimate_seconds("dot", "python", 1_000_000, []), 5.0) is None


@pytest.mark.parametrize("op, sizes, message", [
    ("conv", None, "unknown operation"),
    ("dot", [0], "at least 1"),
    ("dot", ["ten"], "whole number"),
    ("matmul", [100_000], "too large"),
    ("dot", [], "no size"),
])
def test_bad_requests_are_one_sentence(op, sizes, message):
    with pytest.raises(SpeedError, match=message):
        speed.check_sizes(op, sizes)


def test_impls_and_sizes_are_normalised():
    assert speed.check_impls(["numba", "python"]) == ("python", "numba")
    assert speed.check_impls(None) == speed.IMPLS
    with pytest.raises(SpeedError, match="unknown implementation"):
        speed.check_impls(["fortran"])
    assert speed.check_sizes("dot", [1000, 10, 1000]) == (10, 1000)
    assert speed.check_sizes("dot", None) == (1_000_000,)


def test_json_has_the_issue_keys_and_round_trips(tmp_path):
    r = sample_results()
    data = r.to_json()
    assert set(data) >= {"machine", "results"}
    assert MACHINE_KEYS <= set(data["machine"])
    for entry in data["results"]:
        assert ISSUE_KEYS <= set(entry)
    path = r.save(tmp_path / "bench.json")
    assert [p.name for p in tmp_path.iterdir()] == ["bench.json"]  # no temporary file left behind
    back = BenchResults.load(path)
    assert back.measurements == r.measurements
    assert back.machine == MACHINE
    assert back.created == r.created
    assert back.loaded and back.source == str(path)
    assert json.loads(path.read_text())["results"][2]["skipped"] == "no GPU found"


def test_bad_files_are_reported_in_one_sentence(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(SpeedError, match="not a JSON file"):
        BenchResults.load(bad)
    bad.write_text(json.dumps({"machine": {}, "results": [{"op": "dot"}]}))
    with pytest.raises(SpeedError, match="lacks impl, size"):
        BenchResults.load(bad)
    bad.write_text(json.dumps({"format": "something-else", "results": []}))
    with pytest.raises(SpeedError, match="not a gpuviz benchmark"):
        BenchResults.load(bad)
    with pytest.raises(SpeedError, match="cannot read"):
        BenchResults.load(tmp_path / "missing.json")


def test_csv_round_trip():
    r = sample_results()
    text = r.to_csv()
    assert text.splitlines()[0].startswith("# Test CPU 3000 · 8 cores · OpenBLAS 0.3.27 · no GPU")
    assert text.splitlines()[1].split(",")[:3] == ["op", "impl", "size"]
    back = BenchResults.from_csv(text, MACHINE)
    assert back.measurements == r.measurements


def test_speedups_and_examples_per_second():
    r = sample_results()
    s = r.speedups("python")
    assert s[("dot", "numpy", 1_000_000)] == pytest.approx(500)
    assert s[("dot", "python", 1_000_000)] == 1
    assert ("dot", "gpu-naive", 1_000_000) not in s
    assert r.examples_per_second("numpy") == {("numpy", 64): pytest.approx(320_000), ("numpy", 256): 512_000}
    assert r.impls("dot") == ["python", "numpy", "gpu-naive"]
    assert [m.size for m in r.series("layer", "numpy")] == [64, 256]


def test_machine_label_is_one_line():
    assert MACHINE.label() == "Test CPU 3000 · 8 cores · OpenBLAS 0.3.27 · no GPU"
    assert "H100" in Machine("x", 1, "b", "NVIDIA H100", None, None, None).label()
    assert Machine("x", 2, "b", None, None, None, None, load=4.5).busy
    assert not Machine("x", 2, "b", None, None, None, None, load=0.5).busy
    assert Machine.from_dict(Machine("x", 2, "b", None, None, None, None, load=4.5).to_dict()).load == 4.5


# -- the engine ------------------------------------------------------------------------------------


@pytest.mark.parametrize("op, size", [("dot", 1000), ("matmul", 16), ("layer", 5)])
def test_every_implementation_gives_the_same_result(engine, op, size):
    streamed, progress = [], []
    r = engine.bench(op, [size], on_measurement=streamed.append, on_progress=progress.append, **QUICK)
    assert streamed == r.measurements
    assert [m.impl for m in r.measurements] == list(speed.IMPLS)
    assert progress[-1].done == progress[-1].total == len(speed.IMPLS)
    for m in r.measurements:
        if m.impl in CPU_IMPLS:
            assert m.measured, m
        if m.measured:
            assert m.correct, m
            assert m.max_rel_error <= speed.TOLERANCE[op]
            assert m.repeats >= 1 and m.min_s <= m.median_s <= m.max_s
            assert (m.compile_s is None) == (m.impl not in speed.JIT_IMPLS)
    by = {m.impl: m for m in r.measurements}
    again = {m.impl: m for m in engine.bench(op, [size], impls=["numba"], **QUICK).measurements}
    assert again["numba"].measured and again["numba"].compile_s is None  # compiled once per worker
    if op == "layer":
        assert not by["simulator"].measured and "no CUDA kernel" in by["simulator"].skipped
    else:
        assert by["simulator"].measured and by["simulator"].correct  # the CUDA kernel, simulated
    if r.machine.gpu is None:
        for impl in speed.GPU_IMPLS:
            assert by[impl].skipped == "no GPU found"


def test_python_matmul_at_512_is_skipped_never_run(engine):
    r = engine.bench("matmul", [512], ["python"])
    (m,) = r.measurements
    assert m.skipped.startswith("estimated") and "> 5 s limit" in m.skipped
    assert m.median_s is None and m.repeats == 0 and m.estimate_s > 5


def test_a_sweep_skips_by_estimate_from_what_it_measured(engine):
    r = engine.bench("dot", [2000, 4_000_000], ["python", "numpy"], max_seconds_per_impl=0.05, **QUICK)
    small, big = r.get("dot", "python", 2000), r.get("dot", "python", 4_000_000)
    assert small.measured
    assert big.skipped == speed.skip_reason(big.estimate_s, 0.05)
    assert big.estimate_s == pytest.approx(small.median_s * 2000)
    assert r.get("dot", "numpy", 4_000_000).measured


def test_simulator_is_only_run_at_small_sizes(engine):
    r = engine.bench("matmul", [64], ["simulator"])
    assert "correctness tool" in r.measurements[0].skipped


def test_cancel_mid_sweep_kills_the_worker_and_keeps_what_was_done(engine):
    seen = []

    def cancel_after_first(m):
        seen.append(m)
        engine.cancel()

    with pytest.raises(BenchCancelled) as info:
        engine.bench("matmul", [16, 32, 64, 128], ["python", "numpy"], on_measurement=cancel_after_first)
    assert isinstance(info.value, Cancelled)
    partial = info.value.results
    assert partial.cancelled
    assert 1 <= len(partial.measurements) < 8
    assert partial.measurements == seen[:len(partial.measurements)]
    assert not engine._worker(False).alive
    # the next sweep starts a fresh worker
    assert engine.bench("dot", [10], ["numpy"], **QUICK).measurements[0].correct


def test_machine_is_described_by_the_worker(engine):
    r = engine.bench("dot", [10], ["numpy"], **QUICK)
    m = r.machine
    assert m.cores == os.cpu_count()
    assert m.cpu and m.cpu != "unknown"
    assert m.blas and m.python and m.numpy and m.numba
    assert m.gpu == engine.gpu_info().get("gpu_name")


def test_bench_never_imports_numba_in_the_calling_process():
    code = (
        "import sys\n"
        "from gpuviz.engine import Engine\n"
        "if __name__ == '__main__':\n"
        "    with Engine() as e:\n"
        "        r = e.bench('dot', [100], ['numpy', 'numba', 'simulator'], repeats=1, min_time=0, max_time=0.01)\n"
        "    assert all(m.correct for m in r.measurements), r.measurements\n"
        "    bad = [m for m in sys.modules if m.split('.')[0] in ('numba', 'numba_cuda', 'llvmlite', 'PyQt6')]\n"
        "    print('LOADED', bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "LOADED []" in out.stdout
