"""Issue 17: a measurement that holds under load, and says when it could not.

Behaviour only, never a time: the noisy rules on given numbers, the interleaving on fake
runners with a made-up burst of load, the thread limits, and the fields a real sweep keeps.
"""

import json
import os

import pytest

from gpuviz.engine import timing
from gpuviz.model import speed
from gpuviz.model.speed import BenchResults, Machine, Measurement

QUICK = {"repeats": 1, "min_time": 0.0, "max_time": 0.05}
MACHINE = Machine("Test CPU", 4, "OpenBLAS", None, None, None, None)


def m(impl, median, fastest, size=1_000_000, **kw):
    return Measurement("dot", impl, size, median, fastest, median * 2, 5, None, None, speed.flops("dot", size), 0.0,
                       **kw)


# -- the rules -------------------------------------------------------------------------------------


def test_a_median_over_one_and_a_half_times_the_minimum_is_noisy_and_says_what_to_do():
    flag = speed.noisy_reason(1.6e-3, 1e-3)
    assert flag == "median 1.6× the minimum: close other programs and measure again"
    assert flag.endswith(speed.NOISY_ADVICE)
    assert speed.noisy_reason(1.4e-3, 1e-3) is None
    assert speed.noisy_reason(None, None) is None


def test_a_load_average_over_cores_minus_one_is_noisy():
    assert speed.noisy_reason(1e-3, 1e-3, load=1.2, cores=2) == (
        "load average 1.2 on 2 cores: close other programs and measure again")
    assert speed.noisy_reason(1e-3, 1e-3, load=1.0, cores=2) is None  # the benchmark's own core
    assert speed.noisy_reason(1e-3, 1e-3, load=3.5, cores=8) is None
    assert speed.noisy_reason(1e-3, 1e-3, load=7.5, cores=8) is not None
    # one core: the benchmark itself is a load of 1, so only more than that counts
    assert speed.busy_limit(1) == 1 and speed.noisy_reason(1e-3, 1e-3, load=0.9, cores=1) is None
    both = speed.noisy_reason(3e-3, 1e-3, load=2.5, cores=2)
    assert both == "median 3× the minimum; load average 2.5 on 2 cores: close other programs and measure again"


def test_threads_are_limited_to_the_cores_other_programs_leave_free():
    assert speed.free_cores(0.1, 2) == 2
    assert speed.free_cores(0.7, 2) == 1
    assert speed.free_cores(2.0, 2) == 1  # never none
    assert speed.free_cores(5.0, 2) == 1
    assert speed.free_cores(None, 8) == 8
    assert speed.free_cores(2.4, 8) == 6


def test_the_headline_comes_from_the_minimum_with_the_median_beside_it():
    r = BenchResults(MACHINE, [m("python", 0.09, 0.05), m("numpy", 2e-4, 1e-4, noisy="median 2× the minimum: x")])
    ratio = r.ratio("dot", 1_000_000)
    assert ratio.by_min == pytest.approx(500) and ratio.by_median == pytest.approx(450)
    assert ratio.noisy == ("NumPy: median 2× the minimum: x",) and not ratio.trusted
    assert r.speedups(stat="min")[("dot", "numpy", 1_000_000)] == pytest.approx(500)
    assert r.speedups()[("dot", "numpy", 1_000_000)] == pytest.approx(450)  # median stays the default
    assert r.ratio("dot", 10) is None
    assert [x.impl for x in r.noisy()] == ["numpy"]
    with pytest.raises(speed.SpeedError, match="unknown statistic"):
        r.speedups(stat="mean")


def test_new_fields_round_trip_and_every_old_key_stays(tmp_path):
    flagged = m("numpy", 3e-4, 1e-4, load=2.5, threads=1, noisy=speed.noisy_reason(3e-4, 1e-4, 2.5, 2),
                clock=speed.CLOCK_THREAD)
    r = BenchResults(MACHINE, [flagged, m("python", 0.05, 0.049)])
    entry = r.to_json()["results"][0]
    old_keys = {"op", "impl", "size", "median_s", "min_s", "max_s", "repeats", "compile_s", "skipped", "flops",
                "max_rel_error", "gflops", "correct", "number", "estimate_s"}
    assert old_keys <= set(entry)
    assert entry["load"] == 2.5 and entry["threads"] == 1 and entry["noisy"].endswith(speed.NOISY_ADVICE)
    assert entry["clock"] == "CPU time of its thread"
    back = BenchResults.load(r.save(tmp_path / "r.json"))
    assert back.measurements == r.measurements
    assert BenchResults.from_csv(r.to_csv(), MACHINE).measurements == r.measurements


def test_a_file_written_before_the_flag_is_flagged_from_its_spread(tmp_path):
    old = {"format": "gpuviz-bench", "machine": {"cpu": "x", "cores": 2},
           "results": [{"op": "dot", "impl": "numpy", "size": 1000, "median_s": 8e-3, "min_s": 9e-5, "max_s": 9e-3,
                        "repeats": 5},
                       {"op": "dot", "impl": "python", "size": 1000, "median_s": 1e-4, "min_s": 1e-4, "max_s": 1e-4,
                        "repeats": 5}]}
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old))
    numpy, python = BenchResults.load(path).measurements
    assert numpy.noisy.startswith("median 89× the minimum") and numpy.spread == pytest.approx(8e-3 / 9e-5)
    assert python.noisy is None and python.load is None and python.threads is None and python.clock is None


# -- interleaving (fake runners: no numba in this process) ------------------------------------------


class Clock:
    """A shared call log and a made-up burst of load: calls number ``burst`` run 10× slower."""

    def __init__(self, burst=()):
        self.log, self.burst = [], set(burst)


class FakeRunner:
    def __init__(self, name, seconds, clock):
        self.name, self.seconds, self.clock = name, seconds, clock

    def call(self):
        return 1.0

    def time(self, number):
        self.clock.log.append(self.name)
        slow = 10 if len(self.clock.log) - 1 in self.clock.burst else 1
        return self.seconds * number * slow


class FakeData:
    op, size = "dot", 1000

    def error(self, result):
        return 0.0


def prepared(clock, *specs):
    out = [timing.Prepared(name, FakeRunner(name, s, clock), FakeData()) for name, s in specs]
    clock.log.clear()  # the warm-ups are not timed repeats
    return out


def test_repeats_take_turns_so_a_burst_of_load_hits_every_implementation():
    clock = Clock(burst={6, 7})  # the 4th round, whichever goes first in it
    ps = prepared(clock, ("python", 0.01), ("numpy", 0.01))
    timing.interleave(ps, repeats=6, min_time=0.0, max_time=10.0)
    assert clock.log == ["python", "numpy", "numpy", "python"] * 3  # one each per round, the first turns
    slow = [[i for i, t in enumerate(p.times) if t > 0.05] for p in ps]
    assert slow == [[3], [3]]  # the same round in both
    ms = [p.measurement(load=0.5, threads=None, cores=4) for p in ps]
    assert all(x.min_s == pytest.approx(0.01) and x.repeats == 6 and x.noisy is None for x in ms)


def test_a_burst_in_most_repeats_flags_the_measurement_and_keeps_the_minimum():
    clock = Clock(burst=range(1, 100))
    (p,) = prepared(clock, ("numpy", 1e-3))
    timing.interleave([p], repeats=5, min_time=0.0, max_time=10.0)
    x = p.measurement(load=None, threads=1, cores=2)
    assert x.min_s == pytest.approx(1e-3) and x.median_s == pytest.approx(1e-2)
    assert x.noisy == "median 10× the minimum: close other programs and measure again"


def test_a_fast_implementation_goes_on_after_a_slow_one_has_its_repeats():
    clock = Clock()
    ps = prepared(clock, ("python", 0.05), ("numpy", 1e-3))
    timing.interleave(ps, repeats=3, min_time=0.0, max_time=10.0)
    assert [len(p.times) for p in ps] == [3, 3]
    # min_time counts each implementation's own time: grouped tiny calls keep going
    clock = Clock()
    ps = prepared(clock, ("python", 0.05), ("numpy", 1e-3))
    timing.interleave(ps, repeats=1, min_time=0.02, max_time=10.0)
    assert len(ps[0].times) == 1 and len(ps[1].times) >= 2


def test_a_repeat_that_raises_fails_that_implementation_only():
    clock = Clock()
    ps = prepared(clock, ("python", 0.01), ("numpy", 0.01))

    def boom(number):
        raise MemoryError("out of memory")

    ps[0].runner.time = boom
    timing.interleave(ps, repeats=3, min_time=0.0, max_time=10.0)
    assert ps[0].failure == "failed: MemoryError: out of memory"
    assert len(ps[1].times) == 3 and ps[1].failure is None


def test_thread_limits_apply_inside_and_are_undone_after():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    import numpy  # noqa: F401  (the BLAS must be loaded for threadpoolctl to see it)

    def blas_threads():
        return [lib["num_threads"] for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"]

    before = blas_threads()
    numba_calls = []
    fake_numba = (lambda: 4, numba_calls.append)
    with timing.ThreadLimits(1, fake_numba) as limits:
        assert blas_threads() == [1] * len(before)
        assert limits.threads_of("numpy", "dot") == (1 if before else None)
        assert limits.threads_of("numba-parallel", "dot") == 1 and limits.threads_of("python", "dot") is None
    assert blas_threads() == before
    assert numba_calls == [1, 4]  # limited, then given back
    with timing.ThreadLimits(64) as limits:
        assert limits.blas == (max(before) if before else None)  # never more than BLAS had


def test_busy_cores_reads_the_machine_now_and_the_last_minute(monkeypatch):
    busy = timing.busy_cores(0.01)
    if busy is None:
        pytest.skip("no /proc/stat and no load average here")
    assert busy >= 0
    # a lull now does not hide a busy minute: the load average less the benchmark's own one
    monkeypatch.setattr(timing, "_cpu_jiffies", lambda: None)
    monkeypatch.setattr(timing, "load_average", lambda: 5.0)
    assert timing.busy_cores(0.0) == 4.0
    monkeypatch.setattr(timing, "load_average", lambda: 0.6)
    assert timing.busy_cores(0.0) == 0.0
    monkeypatch.setattr(timing, "load_average", lambda: None)
    assert timing.busy_cores(0.0) is None
    # and a program that has just started shows now, before the load average follows
    ticks = iter([(100, 1000), (290, 1200)])  # 190 of 200 jiffies busy: 1.9 cores of 2
    monkeypatch.setattr(timing, "_cpu_jiffies", lambda: next(ticks))
    monkeypatch.setattr(timing, "load_average", lambda: 0.2)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert timing.busy_cores(0.0) == pytest.approx(1.9)


# -- a real sweep -------------------------------------------------------------------------------------


def test_a_sweep_keeps_min_median_load_threads_and_the_flag():
    from gpuviz.engine import Engine

    # its own worker: the session's shared one would have this op compiled before test_speed checks compile_s
    with Engine() as engine:
        r = engine.bench("dot", [20_000], ["python", "numpy", "numba-parallel"], **QUICK)
    python, numpy, parallel = r.measurements
    for x in (python, numpy, parallel):
        assert x.measured and x.min_s <= x.median_s
        assert x.noisy == speed.noisy_reason(x.median_s, x.min_s, x.load, r.machine.cores)
        if hasattr(os, "getloadavg"):
            assert x.load is not None
    assert python.threads is None
    assert 1 <= parallel.threads <= r.machine.cores
    assert numpy.threads is None or 1 <= numpy.threads <= r.machine.cores
    # code on one thread is timed by that thread's CPU time, which another program's load does not stretch
    assert python.clock == (speed.CLOCK_THREAD if timing.thread_clock_usable() else speed.CLOCK_WALL)
    assert parallel.clock == speed.CLOCK_WALL
    assert numpy.clock == (speed.CLOCK_THREAD if numpy.threads == 1 and timing.thread_clock_usable()
                           else speed.CLOCK_WALL)


def test_only_code_on_one_thread_is_timed_by_its_thread_clock():
    assert timing.single_threaded("python", None) and timing.single_threaded("numba-fastmath", 4)
    assert timing.single_threaded("numpy", 1)
    assert not timing.single_threaded("numpy", 2) and not timing.single_threaded("numpy", None)
    for impl in ("numba-parallel", "simulator", "gpu-naive", "cublas"):
        assert not timing.single_threaded(impl, 1)


# -- the CLI -------------------------------------------------------------------------------------------


def test_gpuviz_bench_prints_the_noisy_flag_and_what_to_do(monkeypatch, capsys):
    from gpuviz import cli
    from gpuviz.engine import Engine

    loop = m("python", 0.06, 0.05, clock=speed.CLOCK_THREAD)
    vec = m("numpy", 3e-4, 1e-4, threads=1, noisy=speed.noisy_reason(3e-4, 1e-4))
    fake = BenchResults(Machine("cpu", 2, "blas", None, None, None, None), [loop, vec])
    monkeypatch.setattr(Engine, "bench", lambda self, *a, **k: fake)
    assert cli.main(["bench", "--impl", "python,numpy"]) == 0
    out, _ = capsys.readouterr()
    lines = out.splitlines()
    row = next(ln for ln in lines if ln.startswith("numpy "))
    assert "NOISY: median 3× the minimum: close other programs and measure again" in row
    assert "500×" in row and "200×" in row  # the headline from the minima, the medians' ratio beside it
    assert "1 thread" in row
    assert "NOISY" not in next(ln for ln in lines if ln.startswith("python "))
    assert lines[-1] == ("noisy: 1 of 2 measurements cannot be trusted (other programs took the CPU while they ran): "
                         "close other programs and measure again")


def test_the_noisy_summary_names_each_reason_once_and_whom_it_concerns():
    ms = [m("python", 0.05, 0.049, load=2.5, noisy=speed.noisy_reason(0.05, 0.049, 2.5, 2)),
          m("numpy", 3e-4, 1e-4, size=1000, load=3.1, noisy=speed.noisy_reason(3e-4, 1e-4, 3.1, 2)),
          m("numpy", 2e-4, 1e-4, load=2.5, noisy=speed.noisy_reason(2e-4, 1e-4, 2.5, 2)),
          m("numba", 1e-3, 1e-3)]
    assert speed.noisy_summary(ms) == ("Noisy: load average up to 3.1 on 2 cores (Python loop, NumPy); median up "
                                       "to 3× the minimum (NumPy): close other programs and measure again")
    assert speed.noisy_summary(ms[3:]) is None
    assert speed.noisy_summary(ms, short=True) == ("Noisy: load average up to 3.1 on 2 cores; median up to 3× the "
                                                   "minimum: close other programs and measure again")


def test_a_sweep_title_says_what_was_measured():
    assert speed.sweep_title("dot", [1_000_000]) == "Dot product of two float64 vectors, N = 1,000,000"
    assert speed.sweep_title("matmul", [512, 16]) == "Matrix product N×N·N×N (float32), N = 16 to 512"
    assert speed.sweep_title("layer", [64]).endswith("(float64), batch size 64")
    with pytest.raises(speed.SpeedError):
        speed.sweep_title("conv", [1])
