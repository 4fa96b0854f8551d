"""Bank conflicts computed from traces equal a direct count; the transpose pair shows 32-way vs none.

The transpose kernels are recorded for real in Numba's CUDA simulator (one 32×8 block on a 32×32
matrix: the simulator is slow); the matmul kernels are recorded at small sizes too.
"""

from collections import defaultdict

import numpy as np
import pytest

from gpuviz.engine import MatmulJob
from gpuviz.model import Dim3, MatmulProblem, derive_steps
from gpuviz.model.coalescing import memory_totals
from gpuviz.model.hardware.banks import (
    LayoutError,
    array_layouts,
    bank_conflicts,
    global_sectors,
    shipped_transpose_trace,
)
from gpuviz.model.trace import OP_BARRIER, SPACE_GLOBAL, SPACE_SHARED
from gpuviz.model.vectorized import vectorized_trace


def direct_count(trace, layouts, space=SPACE_SHARED, unit=4, banks=32):
    """Per request (block, warp, step, op, array): the worst bank's distinct words, by plain loops."""
    tr = trace.canonical()
    step = derive_steps(tr).event_step
    words = defaultdict(set)
    for i in range(len(tr)):
        if tr.space[i] != space or tr.op[i] == OP_BARRIER:
            continue
        name = tr.array_names[tr.array[i]]
        row_len, size = layouts[name]
        byte = (int(tr.row[i]) * row_len + int(tr.col[i])) * size
        key = (tuple(tr.block[i]), int(tr.warp[i]), int(step[i]), int(tr.op[i]), name)
        for b in range(byte, byte + size, 4):
            words[key].add(b // unit)
    out = {}
    for key, ws in words.items():
        per_bank = defaultdict(int)
        for w in ws:
            per_bank[w % banks] += 1
        out[key] = max(per_bank.values())
    return out


def as_dict(bc):
    r = bc.requests
    tr = r.trace
    out = {}
    for i in range(len(bc)):
        e = r.event[r.first[i]]
        key = (tuple(tr.block[e]), int(tr.warp[e]), int(derive_steps(tr).event_step[e]), int(tr.op[e]),
               tr.array_names[tr.array[e]])
        out[key] = int(bc.degree[i])
    return out


@pytest.fixture(scope="module")
def transposes(engine):
    out = {}
    for padded in (False, True):
        res = engine.call_in_worker("gpuviz.engine.hardware:record_transpose", n=32, padded=padded)
        assert res["ok"], "the transpose kernel did not transpose"
        out[padded] = res["trace"]
    return out


def test_transpose_pair_32_way_versus_none(transposes):
    for padded, expected in ((False, 32), (True, 1)):
        tr = transposes[padded]
        bc = bank_conflicts(tr)
        rows = {(s["array"], s["op"]): s for s in bc.summary()}
        assert set(rows) == {("tile", "write"), ("tile", "read")}
        # the row-wise copy into the tile never conflicts; the column-wise read is 32-way unpadded
        assert rows["tile", "write"]["max_degree"] == 1
        assert rows["tile", "read"]["max_degree"] == expected
        assert rows["tile", "read"]["mean_degree"] == expected
        assert rows["tile", "read"]["requests"] == 8 * 4  # 8 warps × 4 loop steps
        assert bc.lanes.tolist() == [32] * len(bc)
        assert as_dict(bc) == direct_count(tr, array_layouts(tr))


def test_shipped_traces_equal_a_fresh_recording(transposes):
    for padded in (False, True):
        shipped = shipped_transpose_trace(padded)
        assert shipped.same_events(transposes[padded]), shipped.first_difference(transposes[padded])
        assert shipped.meta["arrays"] == transposes[padded].meta["arrays"]


def test_a_request_in_detail(transposes):
    bc = bank_conflicts(transposes[False])
    worst = int(np.argmax(bc.degree))
    req = bc.request(worst)
    assert req["op"] == "read" and req["array"] == "tile" and req["degree"] == 32
    assert len(set(req["banks"])) == 1 and len(set(req["words"])) == 32
    padded = bank_conflicts(transposes[True]).request(worst)
    assert len(set(padded["banks"])) == 32


def test_padding_needs_the_arrays_shape(transposes):
    tr = transposes[True]
    # the padded tile's extra column is never touched: without its shape the count would be wrong
    assert tr.col[tr.array == tr.array_names.index("tile")].max() == 31
    with pytest.raises(LayoutError, match="tile"):
        bank_conflicts(tr, layouts={"src": (32, 4), "dst": (32, 4)})


@pytest.mark.parametrize("kernel, m, n, k, block", [
    ("tiled", 16, 12, 20, (8, 8)), ("tiled", 8, 8, 8, (4, 4)), ("naive", 9, 7, 5, (4, 4)),
    ("uncoalesced", 9, 7, 5, (4, 4)),
])
def test_recorded_builtin_kernels_equal_the_direct_count(engine, kernel, m, n, k, block):
    res = engine.run(MatmulJob(kernel, m, n, k, Dim3(*block), backend="simulator", record=True))
    assert res.status == "ok", res.message
    tr = res.trace
    layouts = array_layouts(tr)
    bc = bank_conflicts(tr)
    assert as_dict(bc) == direct_count(tr, layouts)
    if kernel == "tiled":
        assert len(bc) > 0 and bc.max_degree == 1  # the tiled kernel's reads are broadcasts or consecutive
    else:
        assert len(bc) == 0
    # global sectors from the recorded trace equal the closed-form counts of the coalescing model
    sectors = global_sectors(tr)
    totals = memory_totals(kernel, MatmulProblem(m, n, k), block)
    assert sectors == {a: t.sectors for a, t in totals.arrays.items()}
    direct = direct_count(tr, layouts, space=SPACE_GLOBAL, unit=32, banks=1)
    assert sum(direct.values()) == sum(sectors.values())


def test_vectorized_tiled_trace_at_32_tile_is_conflict_free():
    tr = vectorized_trace("tiled", MatmulProblem(64, 64, 64), (32, 32))
    bc = bank_conflicts(tr)
    assert bc.max_degree == 1 and bc.wavefronts == len(bc)
