"""Viewports, binning and frames, with NumPy only (the simulator's side is in test_trace_equivalence.py)."""

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gpuviz.model import Dim3, MatmulProblem, derive_steps, launch_for
from gpuviz.model.budget import event_count
from gpuviz.model.frames import (
    THREADS,
    Viewport,
    ViewportError,
    frame_from_trace,
    kernel_frame,
    kernel_shapes,
    kernel_steps,
)
from gpuviz.model.matmul import source_line
from gpuviz.model.trace import OP_READ, SPACE_GLOBAL
from gpuviz.model.vectorized import kernel_lines, vectorized_trace

BIG = MatmulProblem(4096, 4096, 4096)


def totals(frame):
    return ({name: int(a.sum()) for name, a in frame.reads.items()},
            {name: int(a.sum()) for name, a in frame.writes.items()}, int(frame.active.sum()))


# -- viewports ------------------------------------------------------------------------


@pytest.mark.parametrize("args, words", [
    ((3, 3, 0, 4, 1, 1), "not a region"),
    ((0, 4, 5, 2, 1, 1), "not a region"),
    ((-1, 4, 0, 4, 1, 1), "not a region"),
    ((0, 4, 0, 4, 5, 1), "height = 5 pixels"),
    ((0, 4, 0, 4, 2, 0), "width = 0 pixels"),
    ((0, 4.0, 0, 4, 2, 2), "whole number"),
])
def test_viewport_refuses_what_is_not_a_region_at_a_possible_resolution(args, words):
    with pytest.raises(ViewportError, match=words):
        Viewport(*args)


def test_viewport_outside_its_array_is_refused_by_name():
    with pytest.raises(ViewportError, match="reach outside C, which is 5×6"):
        kernel_frame("naive", MatmulProblem(5, 6, 3), (4, 4), 0, {"C": Viewport(0, 6, 0, 6, 6, 6)})
    with pytest.raises(ViewportError, match="no array named sA"):
        kernel_frame("naive", MatmulProblem(5, 6, 3), (4, 4), 0, {"sA": Viewport(0, 2, 0, 2, 2, 2)})
    with pytest.raises(IndexError, match="step 4 is outside 0..3"):
        kernel_frame("naive", MatmulProblem(5, 6, 3), (4, 4), 4)


def test_pixels_cover_every_element_once_in_nearly_equal_blocks():
    vp = Viewport(2, 12, 1, 8, 4, 3)  # 10 rows on 4 pixels, 7 columns on 3
    assert vp.row_starts().tolist() == [0, 2, 5, 7]
    assert vp.col_starts().tolist() == [0, 2, 4]
    counts = vp.bin_points(*np.indices((14, 9)).reshape(2, -1))
    assert counts.tolist() == [[4, 4, 6], [6, 6, 9], [4, 4, 6], [6, 6, 9]]
    assert counts.sum() == 10 * 7  # elements outside the region are dropped


@settings(deadline=None, max_examples=40)
@given(data=st.data(), rows=st.integers(1, 40), cols=st.integers(1, 40))
def test_binning_a_profile_equals_binning_its_elements(data, rows, cols):
    r0 = data.draw(st.integers(0, rows - 1))
    c0 = data.draw(st.integers(0, cols - 1))
    r1 = data.draw(st.integers(r0 + 1, rows))
    c1 = data.draw(st.integers(c0 + 1, cols))
    vp = Viewport(r0, r1, c0, c1, data.draw(st.integers(1, r1 - r0)), data.draw(st.integers(1, c1 - c0)))
    u = np.arange(rows) % 5
    v = np.arange(cols) % 3 + 1
    full = np.multiply.outer(u, v)
    rr, cc = np.indices(full.shape)
    by_points = vp.bin_points(np.repeat(rr.ravel(), full.ravel()), np.repeat(cc.ravel(), full.ravel()))
    by_profiles = np.multiply.outer(vp.bin_rows(u), vp.bin_cols(v))
    np.testing.assert_array_equal(by_points, by_profiles)
    assert by_profiles.sum() == full[r0:r1, c0:c1].sum()


@pytest.mark.parametrize("kernel, block", [("naive", (16, 16)), ("uncoalesced", (8, 32)), ("tiled", (16, 16))])
def test_binned_frames_keep_the_totals_of_the_full_resolution_frame(kernel, block):
    problem = MatmulProblem(70, 45, 37)
    shapes = kernel_shapes(kernel, problem, block)
    coarse = {name: Viewport.whole(shape, max(1, shape[0] // 7), max(1, shape[1] // 4))
              for name, shape in shapes.items()}
    for s in range(0, len(kernel_steps(kernel, problem, block)), 5):
        full = kernel_frame(kernel, problem, block, s)
        binned = kernel_frame(kernel, problem, block, s, coarse)
        assert totals(full) == totals(binned)
        assert binned.active.shape == coarse[THREADS].shape


# -- the vectorized trace, and frames counted from it -----------------------------------


@pytest.mark.parametrize("kernel, m, n, k, block", [
    ("naive", 33, 17, 20, (8, 4)),
    ("uncoalesced", 33, 17, 20, (8, 4)),
    ("tiled", 33, 17, 20, (8, 8)),
    ("tiled", 1, 1, 1, (1, 1)),
    ("naive", 1, 1, 1, (32, 32)),
])
def test_vectorized_trace_has_the_budgeted_length_and_is_canonical(kernel, m, n, k, block):
    problem = MatmulProblem(m, n, k)
    tr = vectorized_trace(kernel, problem, block)
    assert len(tr) == event_count(kernel, problem, launch_for(kernel, problem, block))
    assert tr.canonical() is tr  # built in canonical order: nothing to sort
    assert tr.meta["source"] == "vectorized" and tr.meta["kernel"] == kernel


def test_naive_thread_reads_its_row_of_a_and_column_of_b():
    tr = vectorized_trace("naive", MatmulProblem(5, 6, 3), (4, 4))
    # block (1, 0), thread (1, 2) computes C[2, 5]: the recorder's own example
    sel = (tr.block[:, 0] == 1) & (tr.block[:, 1] == 0) & (tr.thread[:, 0] == 1) & (tr.thread[:, 1] == 2)
    t = tr.take(sel)
    assert list(zip(t.row.tolist(), t.col.tolist())) == [(2, 0), (0, 5), (2, 1), (1, 5), (2, 2), (2, 5), (2, 5)]
    assert t.line.tolist() == [source_line("naive", "acc += A[row, k]")] * 6 + [source_line("naive", "C[row, col]")]
    assert (t.op[:6] == OP_READ).all() and (t.space == SPACE_GLOBAL).all()
    assert t.seq.tolist() == list(range(7)) and (t.warp == 0).all() and (t.lane == 9).all()


@settings(deadline=None, max_examples=25)
@given(kernel=st.sampled_from(["naive", "uncoalesced", "tiled"]),
       m=st.integers(1, 24), n=st.integers(1, 24), k=st.integers(1, 24),
       bx=st.integers(1, 10), by=st.integers(1, 10))
def test_kernel_steps_and_frames_equal_those_of_the_vectorized_trace(kernel, m, n, k, bx, by):
    block = (bx, bx) if kernel == "tiled" else (bx, by)
    problem = MatmulProblem(m, n, k)
    tr = vectorized_trace(kernel, problem, block)
    steps = derive_steps(tr)
    analytic = kernel_steps(kernel, problem, block)
    for f in ("epoch", "ordinal", "line", "threads"):
        np.testing.assert_array_equal(getattr(analytic, f), getattr(steps, f), err_msg=f)
    assert analytic.event_step is None
    shapes = kernel_shapes(kernel, problem, block)
    coarse = {name: Viewport(0, shape[0], shape[1] // 3, shape[1], (shape[0] + 1) // 2,
                             max(1, (shape[1] - shape[1] // 3) // 2)) for name, shape in shapes.items()}
    # the first tile's loads, zero fills and barrier, a middle step, the last tile and C's write
    for s in sorted({*range(min(8, len(steps))), len(steps) // 2, *range(max(0, len(steps) - 8), len(steps))}):
        for vps in (None, coarse):
            a, b = frame_from_trace(tr, steps, s, vps), kernel_frame(kernel, problem, block, s, vps)
            assert not a.difference(b), f"step {s}: {a.difference(b)}"


def test_frame_from_trace_wants_the_steps_of_that_trace():
    tr = vectorized_trace("naive", MatmulProblem(3, 3, 3), (2, 2))
    other = derive_steps(vectorized_trace("naive", MatmulProblem(3, 3, 4), (2, 2)))
    with pytest.raises(ValueError, match="not derived from this trace"):
        frame_from_trace(tr, other, 0)
    with pytest.raises(IndexError):
        frame_from_trace(tr, derive_steps(tr), 4)


# -- 4096³: frames of a product whose trace would not fit in memory ---------------------


def big_viewports(kernel, block, problem=BIG, pixels=256):
    return {name: Viewport.whole(shape, pixels, pixels)
            for name, shape in kernel_shapes(kernel, problem, block).items()}


@pytest.mark.parametrize("kernel", ["naive", "uncoalesced"])
def test_naive_frames_at_4096_cubed_without_the_trace(kernel):
    m, n, k = BIG.m, BIG.n, BIG.k
    block = Dim3(16, 16)
    steps = kernel_steps(kernel, BIG, block)
    assert len(steps) == k + 1 and (steps.threads == m * n).all()
    vps = big_viewports(kernel, block)
    tracemalloc.start()
    try:
        for s in (0, 1234, k - 1):
            f = kernel_frame(kernel, BIG, block, s, vps)
            assert totals(f) == ({"A": m * n, "B": m * n, "C": 0}, {"A": 0, "B": 0, "C": 0}, m * n)
            # step s reads A's column s only: one pixel column of the 256 holds all of it
            assert np.count_nonzero(f.reads["A"].sum(axis=0)) == 1
            assert f.reads["A"][:, s * 256 // k].tolist() == [n * 16] * 256
        last = kernel_frame(kernel, BIG, block, k, vps)
        assert totals(last) == ({"A": 0, "B": 0, "C": 0}, {"A": 0, "B": 0, "C": m * n}, m * n)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # one M×N int64 count array alone would be 128 MiB; the trace, 1.1 TiB
    assert peak < 16 * 2**20, f"peak {peak / 2**20:.1f} MiB"


def test_tiled_frames_at_4096_by_4096_by_4090():
    problem = MatmulProblem(4096, 4096, 4090)  # 128 tiles of 32, the last one 26 wide
    m, k, tile = problem.m, problem.k, 32
    launch = launch_for("tiled", problem, (tile, tile))
    steps = kernel_steps("tiled", problem, (tile, tile))
    lines = kernel_lines("tiled")
    # per tile: 2 loads, 1 barrier, TILE multiplies, 1 barrier; zero fills only in the last tile; C's write
    assert len(steps) == 128 * (tile + 4) + 2 + 1
    vps = big_viewports("tiled", (tile, tile), problem)
    zero_a = np.flatnonzero(steps.line == lines["zero_a"])
    assert len(zero_a) == 1 and steps.epoch[zero_a[0]] == 2 * 127
    f = kernel_frame("tiled", problem, (tile, tile), int(zero_a[0]), vps)
    assert f.threads == launch.threads - m * launch.grid.x * (k - 127 * tile)
    assert int(f.writes["sA"].sum()) == f.threads and int(f.active.sum()) == f.threads
    assert not f.reads["A"].any()
    load_a = int(zero_a[0]) - 1
    assert steps.line[load_a] == lines["load_a"]
    f = kernel_frame("tiled", problem, (tile, tile), load_a, vps)
    assert int(f.reads["A"].sum()) == int(f.writes["sA"].sum()) == m * launch.grid.x * (k - 127 * tile)
    multiply = int(np.flatnonzero(steps.line == lines["multiply"])[5])
    f = kernel_frame("tiled", problem, (tile, tile), multiply, vps)
    assert int(f.reads["sA"].sum()) == int(f.reads["sB"].sum()) == launch.threads
    np.testing.assert_array_equal(f.reads["sA"][:, 5], np.full(tile, launch.threads // tile))
