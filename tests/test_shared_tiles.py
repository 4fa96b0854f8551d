"""The tiled kernel's shared tiles, as the model derives them, equal a replay of a simulator recording.

The recording is replayed step by step (the steps ``derive_steps`` finds in it): every shared-memory write
either copies what the same thread read from A or B in that step, or — with no global read — writes the
padding zero; every shared read in a multiply step is counted per element. The model's tiles must hold the
same thing after every step, for every block, with the same reads for a thread, a warp and a block focus.
"""

import numpy as np
import pytest

from gpuviz.engine import MatmulJob
from gpuviz.model import Dim3, MatmulProblem, derive_steps, launch_for
from gpuviz.model.accesses import block_threads, warp_threads
from gpuviz.model.scene import MatmulParams, MatmulScene
from gpuviz.model.shared_tiles import COPY, EMPTY, ZERO, shared_tiles
from gpuviz.model.trace import OP_READ, OP_WRITE, SPACE_GLOBAL, SPACE_SHARED

# K = 7 is not a multiple of the tile (the last tile is zero-filled on the right of sA and the bottom of sB),
# and M = 10, N = 13 leave blocks hanging over C (rows of sA and columns of sB zero-filled)
M, N, K, TILE = 10, 13, 7, 4


@pytest.fixture(scope="module")
def recorded(engine):
    res = engine.run(MatmulJob("tiled", M, N, K, Dim3(TILE, TILE), backend="simulator", record=True))
    assert res.status == "ok", res.message
    return res.trace


def replay(trace):
    """Per step, per block: (held, src_row, src_col, written) of sA and sB after the step, and the step's
    shared reads as (block, thread (x, y), array, row, col) rows."""
    tr = trace.canonical()
    steps = derive_steps(tr)
    names = tr.array_names
    blocks = {tuple(b) for b in tr.block[:, :2].tolist()}
    state = {(b, a): (np.full((TILE, TILE), EMPTY), np.full((TILE, TILE), -1), np.full((TILE, TILE), -1))
             for b in blocks for a in ("sA", "sB")}
    out = []
    for s in range(len(steps)):
        ev = tr.take(np.flatnonzero(steps.event_step == s))
        written = {key: np.zeros((TILE, TILE), bool) for key in state}
        got = {}  # (block, thread) -> the global element it read in this step
        for i in np.flatnonzero((ev.op == OP_READ) & (ev.space == SPACE_GLOBAL)):
            got[(tuple(ev.block[i, :2]), tuple(ev.thread[i, :2]))] = (int(ev.row[i]), int(ev.col[i]))
        for i in np.flatnonzero((ev.op == OP_WRITE) & (ev.space == SPACE_SHARED)):
            b, th = tuple(ev.block[i, :2]), tuple(ev.thread[i, :2])
            held, rows, cols = state[(b, names[ev.array[i]])]
            r, c = int(ev.row[i]), int(ev.col[i])
            source = got.get((b, th))
            held[r, c] = COPY if source else ZERO
            rows[r, c], cols[r, c] = source or (-1, -1)
            written[(b, names[ev.array[i]])][r, c] = True
        reads = [(tuple(ev.block[i, :2]), tuple(ev.thread[i, :2]), names[ev.array[i]], int(ev.row[i]),
                  int(ev.col[i])) for i in np.flatnonzero((ev.op == OP_READ) & (ev.space == SPACE_SHARED))]
        out.append(({key: (h.copy(), r.copy(), c.copy(), written[key]) for key, (h, r, c) in state.items()},
                    reads))
    return out


def test_the_tiles_hold_what_the_recording_wrote_and_are_read_as_it_read(recorded):
    problem = MatmulProblem(M, N, K)
    launch = launch_for("tiled", problem, (TILE, TILE))
    replayed = replay(recorded)
    assert len(replayed) == len(derive_steps(recorded))
    seen_zero = seen_copy_read = False
    for s, (tiles, reads) in enumerate(replayed):
        for b in sorted({key[0] for key in tiles}):
            gx, gy = block_threads(launch, b)
            foci = {"block": (gx, gy), "thread": (gx[5:6], gy[5:6]), "warp": warp_threads(launch, b, 0)}
            for focus, (fx, fy) in foci.items():
                st = shared_tiles("tiled", problem, (TILE, TILE), s, b, (fx, fy))
                chosen = set(zip((fx % TILE).tolist(), (fy % TILE).tolist()))
                for name in ("sA", "sB"):
                    held, rows, cols, written = tiles[(b, name)]
                    mine = st.tile_state(name)
                    where = f"step {s} ({st.role}), block {b}, {name}"
                    np.testing.assert_array_equal(mine.held, held, err_msg=where)
                    np.testing.assert_array_equal(mine.src_row, rows, err_msg=where)
                    np.testing.assert_array_equal(mine.src_col, cols, err_msg=where)
                    np.testing.assert_array_equal(mine.written, written, err_msg=where)
                    counted = np.zeros((TILE, TILE), np.int64)
                    for rb, th, arr, r, c in reads:
                        if rb == b and arr == name and th in chosen:
                            counted[r, c] += 1
                    np.testing.assert_array_equal(mine.reads, counted, err_msg=f"{where}, focus {focus}")
                    # the global elements read through their copies: the sources of the copies read
                    src = {"sA": "A", "sB": "B"}[name]
                    copies = (held == COPY) & (counted > 0)
                    expect = sorted(zip(rows[copies].tolist(), cols[copies].tolist(), counted[copies].tolist()))
                    via = st.via_shared[src]
                    assert sorted(zip(via.rows.tolist(), via.cols.tolist(), via.counts.tolist())) == expect, where
                    seen_zero |= bool((held == ZERO).any())
                    seen_copy_read |= bool(len(via))
                zeros = sum(int(tiles[(b, n)][0][r, c] == ZERO) for rb, th, n, r, c in reads
                            if rb == b and th in chosen)
                assert st.zero_reads == zeros
    assert seen_zero and seen_copy_read  # the case exercises padding and reads through copies


def test_multiply_step_i_reads_column_i_of_sa_tile_times():
    scene = MatmulScene(MatmulParams(kernel="tiled", m=16, n=16, k=16, block=(8, 8)))
    scene.select_thread((1, 0), (2, 3))
    scene.set_focus("block")
    plan_roles = [scene.step_info(s).role for s in range(scene.n_steps)]
    s = plan_roles.index("multiply") + 5  # i = 5 of tile 0
    st = scene.shared_tiles(s)
    assert st.role == "multiply" and scene.step_info(s).index_in_loop == 5
    expect = np.zeros((8, 8), np.int64)
    expect[:, 5] = 8
    np.testing.assert_array_equal(st.sA.reads, expect)
    np.testing.assert_array_equal(st.sB.reads, expect.T)
    # block (1, 0): sA holds A[0..7, 0..7], sB holds B[0..7, 8..15]
    assert st.sA.label(3, 5) == "A[3,5]" and st.sB.label(5, 2) == "B[5,10]"
    assert sorted(st.via_shared["A"].rows.tolist()) == list(range(8))
    assert set(st.via_shared["A"].cols.tolist()) == {5}
    assert set(st.via_shared["B"].rows.tolist()) == {5}
    assert sorted(st.via_shared["B"].cols.tolist()) == list(range(8, 16))
    # one thread reads one element of each tile
    scene.set_focus("thread")
    st = scene.shared_tiles(s)
    assert st.sA.reads.sum() == 1 and st.sA.reads[3, 5] == 1 and st.sB.reads[5, 2] == 1
    assert list(zip(st.via_shared["A"].rows, st.via_shared["A"].cols)) == [(3, 5)]
    # every thread: this block's tiles as for the block, and A's whole column 5 through every block's copies
    scene.set_focus("all")
    st = scene.shared_tiles(s)
    np.testing.assert_array_equal(st.sA.reads, expect)
    assert st.all_blocks and len(st.via_shared["A"]) == 16 and set(st.via_shared["A"].counts.tolist()) == {2 * 8}


def test_the_next_tiles_load_overwrites_the_previous_tile_element_by_element():
    scene = MatmulScene(MatmulParams(kernel="tiled", m=8, n=8, k=16, block=(8, 8)))
    roles = [scene.step_info(s).role for s in range(scene.n_steps)]
    second = [s for s, r in enumerate(roles) if r == "load_a"][1]
    before = scene.shared_tiles(second - 1)
    after = scene.shared_tiles(second)
    assert (before.sA.loaded_tile == 0).all() and (after.sA.loaded_tile == 1).all()
    assert (after.sB.loaded_tile == 0).all() and not after.sB.written.any()  # sB still holds tile 0 here
    assert after.sA.written.all() and after.sA.label(0, 0) == "A[0,8]"


def test_only_the_tiled_kernel_has_shared_tiles():
    scene = MatmulScene(MatmulParams(kernel="naive", m=8, n=8, k=8, block=(4, 4)))
    assert scene.shared_tiles() is None
    with pytest.raises(IndexError):
        shared_tiles("tiled", MatmulProblem(8, 8, 8), (4, 4), 0, (2, 0))
