"""A student's own kernel, recorded in the simulator worker and checked (issue 20).

Each kind of finding on a small kernel with exactly that bug (tests/kernels/), its fixed twin clean, each
run several times: the simulator's interleaving must not change the verdict.
"""

import time
from pathlib import Path

import numpy as np
import pytest

from gpuviz.engine.user_kernel import run_kernel
from gpuviz.model.kernel.checker import Constraints
from gpuviz.model.kernel.request import KernelRequest, RequestError
from gpuviz.model.trace import OP_ATOMIC, Trace

KERNELS = Path(__file__).parent / "kernels"
RUNS = 3


def kernel_line(name: str, text: str) -> int:
    """1-based line of ``text`` in tests/kernels/``name``."""
    lines = (KERNELS / name).read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


def check(engine, name, grid, block, args, expects=(), function=None, runs=RUNS, **kw):
    """Run and check ``runs`` times; every run must give the same findings (kind, line, array)."""
    req = KernelRequest.build(KERNELS / name, function, grid, block, args, expects, **kw)
    verdicts, last = set(), None
    for _ in range(runs):
        res = run_kernel(engine, req)
        rep = res.report()
        verdicts.add(tuple((f.kind, f.line, f.array) for f in rep.findings))  # in report order
        last = (res, rep)
    assert len(verdicts) == 1, f"the verdict changed between runs: {verdicts}"
    return last


TRANSPOSE = ("2x2", "4x4", ["a=float32[8,8]:arange", "out=float32[8,8]:zeros"], ["out=a.T"])


def test_transpose_without_syncthreads_races_and_is_wrong(engine):
    res, rep = check(engine, "transpose_nosync.py", *TRANSPOSE)
    assert res.status == "ok"
    (race,) = rep.of("race")
    write_line = kernel_line("transpose_nosync.py", "tile[ty, tx] = a[")
    read_line = kernel_line("transpose_nosync.py", "= tile[tx, ty]")
    assert race.line == write_line and race.array == "tile"
    assert f"line {write_line}" in race.message and f"line {read_line}" in race.message
    # both threads: the one that writes tile[i, j] and the one that reads it, (j, i)
    (b1, t1), (b2, t2) = race.where[:2]
    assert b1 == b2 and t1 != t2 and (t1[0], t1[1]) == (t2[1], t2[0])
    (wrong,) = rep.of("wrong_result")
    assert wrong.array == "out" and wrong.index is not None and "first" in wrong.message


def test_transpose_with_its_barrier_is_clean(engine):
    res, rep = check(engine, "transpose_sync.py", *TRANSPOSE)
    assert res.status == "ok" and rep.ok, [f.message for f in rep.findings]
    assert np.array_equal(res.outputs["out"], np.arange(64, dtype=np.float32).reshape(8, 8).T)


def test_negative_index_at_i_0_is_out_of_bounds(engine):
    args = ["a=float32[16]:arange", "out=float32[16]:zeros", "n=16"]
    res, rep = check(engine, "diff_oob.py", "2", "8", args)
    (oob,) = rep.findings
    assert (oob.kind, oob.line, oob.array, oob.index) == ("out_of_bounds", kernel_line("diff_oob.py", "a[i - 1]"),
                                                          "a", (-1,))
    assert oob.where == (((0, 0, 0), (0, 0, 0)),) and "negative" in oob.message
    _, clean = check(engine, "diff_ok.py", "2", "8", args)
    assert clean.ok


def test_block_sum_reading_unwritten_shared_memory_is_uninitialized(engine):
    args = ["a=float32[12]:ones", "out=float32[2]:zeros", "n=12"]
    res, rep = check(engine, "block_sum_uninit.py", "2", "8", args, ["out=np.array([8, 4])"])
    (un,) = rep.of("uninitialized")
    assert un.line == kernel_line("block_sum_uninit.py", "total += s[k]") and un.array == "s"
    assert un.index == (4,) and un.where[0] == ((1, 0, 0), (0, 0, 0)) and un.count == 4
    # the simulator hands block 1 block 0's shared values: 8 instead of 4
    assert rep.of("wrong_result") and res.outputs["out"].tolist() == [8.0, 8.0]
    res, clean = check(engine, "block_sum_ok.py", "2", "8", args, ["out=np.array([8, 4])"])
    assert clean.ok and res.outputs["out"].tolist() == [8.0, 4.0]


def test_plus_equals_from_many_threads_is_a_race_and_atomic_add_is_clean(engine):
    args = ["a=float32[64]:ones", "out=float32[1]:zeros"]
    # not through check(): a real race's total may differ between runs, only its finding may not
    req = KernelRequest.build(KERNELS / "sum_race.py", None, "2", "32", args, ["out=a.sum(keepdims=True)"])
    for _ in range(RUNS):
        res = run_kernel(engine, req)
        rep = res.report()
        race = next(f for f in rep.findings if f.kind == "race")  # found in the trace, whatever the total
        assert race.array == "out" and race.line == kernel_line("sum_race.py", "out[0] +=")
        # the simulator's threads mostly take turns between whole statements, and then the total is right and
        # only the trace shows the race; on a busy machine one is sometimes switched out between reading out[0]
        # and writing it back, an update is lost, and the expectation reports that too (the lesson, for real)
        total = res.outputs["out"][0]
        if total == 64:
            assert rep.kinds() == {"race"} and len(rep.findings) == 1
        else:
            assert 1 <= total < 64 and rep.kinds() == {"race", "wrong_result"}, [f.message for f in rep.findings]
    res, clean = check(engine, "sum_atomic.py", "2", "32", args, ["out=a.sum(keepdims=True)"])
    assert clean.ok
    atomics = res.trace.take(res.trace.op == OP_ATOMIC)
    assert len(atomics) == 64 and {res.trace.array_names[a] for a in atomics.array} == {"out"}
    # an exercise that forbids atomics says so
    res, limited = check(engine, "sum_atomic.py", "2", "32", args, runs=1,
                         constraints=Constraints(no_atomics=True, require_shared=True))
    assert limited.kinds() == {"constraint"} and len(limited.findings) == 2


def test_barrier_reached_by_half_the_block_diverges(engine):
    args = ["a=float32[32]:ones", "out=float32[32]:zeros"]
    _, rep = check(engine, "barrier_divergent.py", "2", "16", args)
    (div,) = rep.findings
    assert div.kind == "barrier_divergence" and div.line == kernel_line("barrier_divergent.py", "cuda.syncthreads()")
    assert div.count == 2 and "8 of its 16 threads" in div.message
    _, clean = check(engine, "barrier_ok.py", "2", "16", args)
    assert clean.ok


def test_a_thread_that_raises_is_an_exception_finding(engine):
    res, rep = check(engine, "raises.py", "1", "8", ["out=int64[8]:zeros"])
    assert res.status == "exception"
    (exc,) = rep.findings
    assert exc.kind == "exception" and exc.line == kernel_line("raises.py", "12 // (i - 3)")
    assert exc.where == (((0, 0, 0), (3, 0, 0)),) and "ZeroDivisionError" in exc.message


def test_3d_launch_device_function_and_scalar(engine):
    args = ["out=float64[4,4,4]:zeros", "scale=2"]
    z, y, x = np.indices((4, 4, 4))
    expect = "out=scale * (np.indices(out.shape)[2] + 10 * np.indices(out.shape)[1] + 100 * np.indices(out.shape)[0])"
    res, rep = check(engine, "device_3d.py", "1x2x2", "4x2x2", args, [expect], function="fill", runs=1)
    assert rep.ok and np.array_equal(res.outputs["out"], 2.0 * (x + 10 * y + 100 * z))
    tr = res.trace
    store_line = kernel_line("device_3d.py", "out[z, y, x] = value")
    assert set(tr.line.tolist()) == {store_line}  # the device function's own line, in the user's file
    assert (tr.dims == 3).all() and tr.array_shapes == ((4, 4, 4),)
    assert sorted(map(tuple, tr.index.tolist())) == sorted((int(a), int(b), int(c)) for a, b, c in
                                                           zip(z.ravel(), y.ravel(), x.ravel()))
    # past the end of a 3-D array: out of bounds, reported once (not also as the IndexError)
    _, rep = check(engine, "device_3d.py", "1x2x2", "4x2x2", ["out=float64[3,4,4]:zeros", "scale=1"],
                   function="overrun")
    assert rep.kinds() == {"out_of_bounds"}
    assert rep.findings[0].line == store_line and rep.findings[0].index[0] == 3


def test_endless_loop_is_stopped_by_its_time_out(engine):
    req = KernelRequest.build(KERNELS / "endless.py", None, "1", "4", ["a=float32[4]:zeros"], timeout=1.5)
    run_kernel(engine, KernelRequest.build(KERNELS / "diff_ok.py", None, "1", "4",
                                           ["a=float32[4]:arange", "out=float32[4]:zeros", "n=4"]))  # warm
    t0 = time.perf_counter()
    res = run_kernel(engine, req)
    late = time.perf_counter() - t0 - 1.5
    assert res.status == "timeout"
    (f,) = res.report().findings
    loop = kernel_line("endless.py", "while a[0] >= 0")
    assert f.kind == "timeout" and f.line in (loop, loop + 1)
    assert "did not finish within 1.5 s" in f.message and "was stopped" in f.message
    assert len(f.where) == 4
    assert late < 3.0, late  # the target is 1 s (scripts/bench_checker.py); this machine is shared and noisy
    # the worker was replaced: the next kernel runs
    again = run_kernel(engine, KernelRequest.build(KERNELS / "diff_ok.py", None, "1", "4",
                                                   ["a=float32[4]:arange", "out=float32[4]:zeros", "n=4"]))
    assert again.status == "ok" and again.report().ok


def test_a_recording_past_its_event_limit_is_stopped(engine):
    req = KernelRequest.build(KERNELS / "endless.py", None, "1", "4", ["a=float32[4]:zeros"], timeout=60,
                              max_events=5_000)
    t0 = time.perf_counter()
    res = run_kernel(engine, req)
    assert res.status == "timeout" and time.perf_counter() - t0 < 30
    (f,) = res.report().findings
    assert f.kind == "timeout" and "more than 5,000 memory accesses" in f.message
    assert f.line in (kernel_line("endless.py", "while a[0] >= 0"), kernel_line("endless.py", "k += 1"))


def test_cuda_jit_spellings_are_found(tmp_path):
    from gpuviz.model.kernel.source import parse_kernel_source

    text = ("from numba import cuda, jit as cpu_jit\nfrom numba.cuda import jit\n\n"
            "@cuda.jit('void(float32[:])')\ndef a(x):\n    pass\n\n@jit\ndef b(x, n):\n    pass\n\n"
            "@cuda.jit(device=True)\ndef d(x):\n    return x\n\n@cpu_jit\ndef cpu(x):\n    return x\n\n"
            "def plain(y):\n    pass\n\nc = cuda.jit(plain)\n")
    src = parse_kernel_source(text, "k.py")
    assert [(k.name, k.params) for k in src.kernels] == [("a", ("x",)), ("b", ("x", "n")), ("c", ("y",))]
    assert src.device_functions == ("d",)
    only_cpu = parse_kernel_source("from numba import jit\n\n@jit\ndef f(x):\n    pass\n", "k.py")
    assert only_cpu.kernels == ()


def test_trace_format_2_round_trip_and_format_1_still_reads(engine, tmp_path):
    req = KernelRequest.build(KERNELS / "diff_oob.py", None, "2", "8",
                              ["a=float32[16]:arange", "out=float32[16]:zeros", "n=16"])
    res = run_kernel(engine, req)
    path = tmp_path / "t.npz"
    res.trace.save(path)
    with np.load(path) as z:
        assert {"events", "meta", "index", "dims", "source"} <= set(z.files)
    back = Trace.load(path)
    assert back.same_events(res.trace) and back.index is not None
    assert back.source == (KERNELS / "diff_oob.py").read_text()
    assert back.array_shapes == ((16,), (16,)) and back.array_names == ("a", "out")
    assert (-1, 0, 0) in map(tuple, back.index.tolist())
    assert back.meta["kernel"] == "diff" and back.meta["grid"] == [2, 1, 1]
    # a format-1 file: events and meta only, no trace_format
    v1 = tmp_path / "v1.npz"
    np.savez(v1, events=res.trace.to_records(), meta=np.array('{"kernel": "diff"}'))
    old = Trace.load(v1)
    assert old.index is None and len(old) == len(res.trace) and old.meta == {"kernel": "diff"}
    index, dims = old.element_index()
    assert len(index) == len(old)


@pytest.mark.parametrize("text, words", [
    ("def k(:\n", "line 1: syntax error"),
    ("from numba import cuda\n\n\ndef k(a):\n    pass\n", "no @cuda.jit kernel"),
])
def test_bad_files_are_refused_in_one_sentence(tmp_path, text, words):
    p = tmp_path / "k.py"
    p.write_text(text)
    with pytest.raises(RequestError, match=words):
        KernelRequest.build(p, None, "1", "1", [])


@pytest.mark.parametrize("function, grid, block, args, expects, words", [
    (None, "1", "1", [], [], "defines 2 kernels"),
    ("nope", "1", "1", [], [], "no kernel called 'nope'"),
    ("fill", "1", "2048", ["out=float32[4]:zeros", "scale=1"], [], "exceeds CUDA's limit"),
    ("fill", "1", "4", ["out=float32[4]:zeros"], [], "no --arg for the kernel's parameter scale"),
    ("fill", "1", "4", ["out=float32[4]:zeros", "scale=1", "x=2"], [], "no parameter 'x'"),
    ("fill", "1", "4", ["out=float16[4]:zeros", "scale=1"], [], "not an element type"),
    ("fill", "1", "4", ["out=float32[4]:sevens", "scale=1"], [], "not a fill"),
    ("fill", "1", "4", ["out=float32[4]:zeros", "scale=abc"], [], "neither a number nor an array"),
    ("fill", "1", "4", ["out=float32[4]:zeros", "scale=1"], ["out=b * 2"], "unknown name 'b'"),
    ("fill", "1", "4", ["out=float32[4]:zeros", "scale=1"], ["scale=1"], "not an array argument"),
    ("fill", "1", "4", ["out=float32[4]:zeros", "scale=1"], ["out=out.__class__"], "not allowed"),
    ("fill", "1", "4", ["out=float32[4]:zeros", "scale=1"], ["out=(("], "not a Python expression"),
])
def test_bad_requests_are_refused_before_anything_runs(function, grid, block, args, expects, words):
    with pytest.raises(RequestError, match=words):
        KernelRequest.build(KERNELS / "device_3d.py", function, grid, block, args, expects)


def test_a_file_that_raises_on_import_is_a_bad_request(engine, tmp_path):
    p = tmp_path / "k.py"
    p.write_text("from numba import cuda\n\nX = 1 / 0\n\n\n@cuda.jit\ndef k(a):\n    a[0] = 1\n")
    res = run_kernel(engine, KernelRequest.build(p, None, "1", "1", ["a=int32[1]:zeros"]))
    assert res.status == "bad_request" and "line 3" in res.message and "ZeroDivisionError" in res.message


def test_random_values_are_seeded():
    from gpuviz.model.kernel.args import parse_arg

    a, b = parse_arg("a=float32[5]:random(3)").make(), parse_arg("a=float32[5]:random(3)").make()
    assert np.array_equal(a, b) and ((0 <= a) & (a < 1)).all()
    ints = parse_arg("n=int32[100]:random").make()
    assert ints.dtype == np.int32 and ints.min() >= 0 and ints.max() < 100
    assert np.array_equal(ints, np.random.default_rng(0).integers(0, 100, 100).astype(np.int32))
    assert parse_arg("m=int64[2,3]:arange").make().tolist() == [[0, 1, 2], [3, 4, 5]]
