"""The recorder's hooks into Numba's CUDA simulator (internal APIs: rerun on every numba-cuda upgrade)."""

import numpy as np
import pytest

from gpuviz.engine import MatmulJob
from gpuviz.model import Dim3, MatmulProblem, derive_steps, launch_for
from gpuviz.model.budget import event_count
from gpuviz.model.matmul import kernel_source, source_line
from gpuviz.model.trace import OP_BARRIER, OP_READ, OP_WRITE, SPACE_GLOBAL, SPACE_SHARED, Trace


def _record(engine, kernel, m, n, k, block):
    res = engine.run(MatmulJob(kernel, m, n, k, Dim3(*block), backend="simulator", record=True))
    assert res.status == "ok", res.message  # recording does not change the product
    return res.trace


@pytest.fixture(scope="module")
def naive(engine):
    return _record(engine, "naive", 5, 6, 3, (4, 4))


@pytest.fixture(scope="module")
def tiled(engine):
    return _record(engine, "tiled", 5, 6, 3, (2, 2))


def test_naive_events(naive):
    m, n, k = 5, 6, 3
    assert len(naive) == 2 * m * n * k + m * n
    assert naive.array_names == ("A", "B", "C")
    read_line = source_line("naive", "acc += A[row, k] * B[k, col]")
    write_line = source_line("naive", "C[row, col] = acc")
    # one thread: block (1, 0), thread (1, 2) computes C[2, 5]
    sel = (naive.block[:, 0] == 1) & (naive.block[:, 1] == 0) & (naive.thread[:, 0] == 1) & (naive.thread[:, 1] == 2)
    t = naive.take(sel)
    assert t.seq.tolist() == list(range(2 * k + 1))
    assert (t.epoch == 0).all()
    assert t.line.tolist() == [read_line] * (2 * k) + [write_line]
    assert [naive.array_names[a] for a in t.array] == ["A", "B"] * k + ["C"]
    assert t.op.tolist() == [OP_READ] * (2 * k) + [OP_WRITE]
    assert (t.space == SPACE_GLOBAL).all()
    assert list(zip(t.row.tolist(), t.col.tolist())) == [(2, 0), (0, 5), (2, 1), (1, 5), (2, 2), (2, 5), (2, 5)]
    lin = 1 + 4 * 2
    assert (t.warp == lin // 32).all() and (t.lane == lin % 32).all()


def test_threads_outside_c_make_no_event(naive):
    row = naive.block[:, 1] * 4 + naive.thread[:, 1]
    col = naive.block[:, 0] * 4 + naive.thread[:, 0]
    assert (row < 5).all() and (col < 6).all()


def test_tiled_events(tiled):
    m, n, k, tile = 5, 6, 3, 2
    launch = launch_for("tiled", MatmulProblem(m, n, k), (tile, tile))
    assert len(tiled) == event_count("tiled", MatmulProblem(m, n, k), launch)
    assert tiled.array_names == ("A", "B", "C", "sA", "sB")
    # sA and sB are different arrays (the simulator's allocator would alias them)
    writes = tiled.take((tiled.op == OP_WRITE) & (tiled.space == SPACE_SHARED))
    assert {tiled.array_names[a] for a in writes.array} == {"sA", "sB"}
    # an idle thread (row 5 is outside C) still loads its tiles and passes every barrier
    sel = (tiled.block[:, 1] == 2) & (tiled.thread[:, 1] == 1) & (tiled.block[:, 0] == 0) & (tiled.thread[:, 0] == 0)
    t = tiled.take(sel)
    tiles = 2
    assert (t.op == OP_BARRIER).sum() == 2 * tiles
    assert t.epoch.max() == 2 * tiles - 1  # its last event is the last barrier: it writes no C
    assert not ((t.op == OP_WRITE) & (t.space == SPACE_GLOBAL)).any()
    zero_line = source_line("tiled", "sA[ty, tx] = float32(0.0)")
    assert (t.line == zero_line).sum() == tiles  # row 5 of A does not exist: zero-fill each tile
    barrier = t.take(t.op == OP_BARRIER)
    assert barrier.epoch.tolist() == [0, 1, 2, 3]
    sync_lines = {i for i, text in enumerate(kernel_source("tiled").splitlines(), 1) if "cuda.syncthreads()" in text}
    assert len(sync_lines) == 2 and set(barrier.line.tolist()) == sync_lines


def test_recordings_are_identical(engine, naive, tiled):
    assert naive.same_events(_record(engine, "naive", 5, 6, 3, (4, 4)))
    assert tiled.same_events(_record(engine, "tiled", 5, 6, 3, (2, 2)))


def test_file_round_trip(tmp_path, tiled):
    path = tmp_path / "t.npz"
    tiled.save(path)
    with np.load(path) as z:
        ev = z["events"]
        assert ev.dtype.names == ("block", "thread", "warp", "lane", "seq", "epoch", "op", "space", "array",
                                  "row", "col", "line")
        assert ev.dtype.hasobject is False
        assert set(ev["op"].tolist()) == {"read", "write", "barrier"}
        assert set(ev["space"].tolist()) == {"global", "shared", ""}
    back = Trace.load(path)
    assert back.same_events(tiled)
    assert back.meta["kernel"] == "tiled" and back.meta["source"] == "recorded"


def test_steps_of_naive(naive):
    steps = derive_steps(naive)
    k = 3
    assert len(steps) == k + 1
    assert (steps.threads == 30).all()  # every thread inside C is active in every step
    assert steps.ordinal.tolist() == list(range(k + 1))
    assert steps.line[-1] == source_line("naive", "C[row, col] = acc")


def test_steps_of_tiled_mask_the_other_branch(tiled):
    steps = derive_steps(tiled)
    load_a = source_line("tiled", "sA[ty, tx] = A[row, a_col]")
    zero_a = source_line("tiled", "sA[ty, tx] = float32(0.0)")
    first = [(int(e), int(o), int(ln), int(t)) for e, o, ln, t in
             zip(steps.epoch, steps.ordinal, steps.line, steps.threads)][:2]
    # the first step loads A where the tile lies inside A; the lanes outside are masked until the next step
    assert first[0][:3] == (0, 0, load_a) and first[1][:3] == (0, 0, zero_a)
    launched = launch_for("tiled", MatmulProblem(5, 6, 3), (2, 2)).threads
    assert first[0][3] + first[1][3] == launched


def test_plain_simulator_runs_use_the_race_free_allocator(engine):
    # numba-cuda's own cuda.shared.array can hand two threads different arrays
    assert engine.call_in_worker("gpuviz.engine.recorder:simulator_fixes_installed", timeout=60) is True
    # and recording restores it afterwards
    _record(engine, "tiled", 3, 3, 3, (2, 2))
    assert engine.call_in_worker("gpuviz.engine.recorder:simulator_fixes_installed", timeout=60) is True
