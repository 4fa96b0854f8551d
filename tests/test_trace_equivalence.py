"""The vectorized traces, steps and frames of the built-in kernels equal what the simulator records.

Each example runs the real kernel in Numba's CUDA simulator (in the engine's
worker) with the recorder on, then holds the NumPy versions to it: the trace
event for event, the steps, and the frames of every step at two viewports.
The simulator is slow, the tiled kernel most (each barrier costs milliseconds
per block), so the shapes stay small; they include sizes that are not
multiples of the block.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gpuviz.engine import MatmulJob
from gpuviz.model import Dim3, MatmulProblem, derive_steps, launch_for
from gpuviz.model.budget import event_count
from gpuviz.model.frames import THREADS, Viewport, frame_from_trace, kernel_frame, kernel_shapes, kernel_steps
from gpuviz.model.matmul import source_line, source_lines
from gpuviz.model.vectorized import vectorized_trace

STEP_FIELDS = ("epoch", "ordinal", "line", "threads")


def record(engine, kernel, m, n, k, block):
    res = engine.run(MatmulJob(kernel, m, n, k, Dim3(*block), backend="simulator", record=True))
    assert res.status == "ok", res.message
    return res.trace


def binned_viewports(shapes):
    """A region away from the origin, at about half its resolution: pixels that sum several elements."""
    out = {}
    for name, (rows, cols) in shapes.items():
        r0, c0 = rows // 4, cols // 5
        out[name] = Viewport(r0, rows, c0, cols, max(1, (rows - r0) // 2), max(1, (cols - c0 + 2) // 3))
    return out


def assert_matches_recording(engine, kernel, m, n, k, block):
    problem = MatmulProblem(m, n, k)
    recorded = record(engine, kernel, m, n, k, block)
    vec = vectorized_trace(kernel, problem, Dim3(*block))
    assert vec.same_events(recorded), vec.first_difference(recorded)
    assert len(vec) == event_count(kernel, problem, launch_for(kernel, problem, block))
    assert vec.meta == {**recorded.meta, "seed": None, "source": "vectorized"}

    steps = derive_steps(recorded)
    analytic = kernel_steps(kernel, problem, block)
    for f in STEP_FIELDS:
        np.testing.assert_array_equal(getattr(analytic, f), getattr(steps, f), err_msg=f)

    shapes = kernel_shapes(kernel, problem, block)
    for viewports in ({name: Viewport.whole(shape) for name, shape in shapes.items()},
                      binned_viewports(shapes)):
        for s in range(len(steps)):
            counted = frame_from_trace(recorded, steps, s, viewports)
            computed = kernel_frame(kernel, problem, block, s, viewports)
            assert not counted.difference(computed), f"step {s}: {counted.difference(computed)}"


@pytest.mark.parametrize("kernel", ["naive", "uncoalesced"])
@settings(deadline=None, max_examples=12)
@given(m=st.integers(1, 16), n=st.integers(1, 16), k=st.integers(1, 16),
       bx=st.integers(1, 8), by=st.integers(1, 8))
def test_one_thread_per_element_kernels_match_the_simulator(engine, kernel, m, n, k, bx, by):
    assert_matches_recording(engine, kernel, m, n, k, (bx, by))


@st.composite
def tiled_cases(draw):
    # a barrier costs the simulator milliseconds per block: at most 3×3 blocks and 2 tiles
    tile = draw(st.integers(1, 8))
    m = draw(st.integers(1, min(16, 3 * tile)))
    n = draw(st.integers(1, min(16, 3 * tile)))
    k = draw(st.integers(1, min(16, 2 * tile)))
    return m, n, k, tile


@settings(deadline=None, max_examples=12)
@given(case=tiled_cases())
def test_tiled_kernel_matches_the_simulator(engine, case):
    m, n, k, tile = case
    assert_matches_recording(engine, "tiled", m, n, k, (tile, tile))


@pytest.mark.parametrize("kernel, m, n, k, block", [
    ("naive", 10, 13, 7, (4, 4)),
    ("uncoalesced", 5, 9, 3, (2, 3)),
    ("tiled", 10, 13, 7, (4, 4)),  # K is not a multiple of the tile: the last tile is zero-filled
])
def test_examples_that_the_property_might_miss(engine, kernel, m, n, k, block):
    assert_matches_recording(engine, kernel, m, n, k, block)


@pytest.fixture(scope="module")
def naive_5x6x3(engine):
    return record(engine, "naive", 5, 6, 3, (4, 4))


def test_naive_step_k_reads_column_k_of_a_and_row_k_of_b(naive_5x6x3):
    m, n, k = 5, 6, 3
    steps = derive_steps(naive_5x6x3)
    assert len(steps) == k + 1
    assert steps.line.tolist() == [source_line("naive", "acc += A[row, k]")] * k + [
        source_line("naive", "C[row, col] = acc")]
    for kk in range(k):
        f = frame_from_trace(naive_5x6x3, steps, kk)
        expected_a = np.zeros((m, k), np.int64)
        expected_a[:, kk] = n  # each element of the column, once by each of the N threads of its row
        expected_b = np.zeros((k, n), np.int64)
        expected_b[kk, :] = m
        np.testing.assert_array_equal(f.reads["A"], expected_a)
        np.testing.assert_array_equal(f.reads["B"], expected_b)
        assert not f.writes["C"].any() and not f.reads["C"].any()
        assert f.threads == m * n
    last = frame_from_trace(naive_5x6x3, steps, k)
    np.testing.assert_array_equal(last.writes["C"], np.ones((m, n), np.int64))
    # the launch is 2×2 blocks of 4×4: the threads outside C's 5×6 are never active
    active = np.zeros((8, 8), np.int64)
    active[:m, :n] = 1
    np.testing.assert_array_equal(last.active, active)


def test_tiled_barrier_steps_hold_every_launched_thread(engine):
    m, n, k, tile = 5, 6, 3, 2
    recorded = record(engine, "tiled", m, n, k, (tile, tile))
    steps = derive_steps(recorded)
    launch = launch_for("tiled", MatmulProblem(m, n, k), (tile, tile))
    barriers = np.isin(steps.line, source_lines("tiled", "cuda.syncthreads()"))
    assert barriers.sum() == 2 * 2  # two tiles of K = 3, two barriers each
    assert (steps.threads[barriers] == launch.threads).all()
    for s in np.flatnonzero(barriers):
        f = frame_from_trace(recorded, steps, int(s))
        assert f.active.sum() == launch.threads and f.active.max() == 1
        assert all(not a.any() for a in (*f.reads.values(), *f.writes.values()))


@pytest.mark.parametrize("kernel, block, other", [
    ("naive", (4, 2), (2, 4)),
    ("naive", (3, 3), (3, 1)),
    ("uncoalesced", (4, 2), (4, 1)),
    ("tiled", (3, 3), (2, 2)),
])
def test_a_different_block_does_not_match(engine, kernel, block, other):
    m, n, k = 6, 5, 4
    recorded = record(engine, kernel, m, n, k, block)
    wrong = vectorized_trace(kernel, MatmulProblem(m, n, k), other)
    assert not wrong.same_events(recorded)
    assert wrong.first_difference(recorded)


def test_the_other_mapping_does_not_match(engine):
    recorded = record(engine, "naive", 6, 5, 4, (4, 4))
    assert not vectorized_trace("uncoalesced", MatmulProblem(6, 5, 4), (4, 4)).same_events(recorded)
    assert vectorized_trace("naive", MatmulProblem(6, 5, 4), (4, 4)).same_events(recorded)


def test_frames_of_a_recording_name_the_thread_grid(naive_5x6x3):
    steps = derive_steps(naive_5x6x3)
    f = frame_from_trace(naive_5x6x3, steps, 0)
    assert set(f.viewports) == {"A", "B", "C", THREADS}
    assert f.viewports[THREADS] == Viewport(0, 8, 0, 8, 8, 8)
