"""Memory transactions of a whole launch, held equal to counting the vectorized trace request by request."""

import re
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gpuviz.model import MatmulProblem, derive_steps, launch_for
from gpuviz.model.accesses import warp_requests
from gpuviz.model.coalescing import (
    MODEL_NOTE,
    _memory_totals,
    compare_kernels,
    explain_contrast,
    memory_totals,
)
from gpuviz.model.frames import kernel_steps
from gpuviz.model.numbers import extent_classes
from gpuviz.model.scene import MatmulParams, MatmulScene, SceneError
from gpuviz.model.trace import SPACE_GLOBAL
from gpuviz.model.vectorized import vectorized_trace


def traced_traffic(kernel, problem, block):
    """(requests, sectors, lane accesses, distinct elements) per array, counted from the trace's events."""
    tr = vectorized_trace(kernel, problem, block)
    steps = derive_steps(tr)
    launch = launch_for(kernel, problem, block)
    out = {}
    for code, name in enumerate(tr.array_names):
        if name not in ("A", "B", "C"):
            continue
        sel = (tr.space == SPACE_GLOBAL) & (tr.array == code)
        block_id = tr.block[sel, 0].astype(np.int64) + launch.grid.x * tr.block[sel, 1]
        # a request: one warp of one block executing one step's access to this array
        request = (block_id * 32 + tr.warp[sel]) * (len(steps) + 1) + steps.event_step[sel]
        width = {"A": problem.k, "B": problem.n, "C": problem.n}[name]
        element = tr.row[sel].astype(np.int64) * width + tr.col[sel]
        pairs = lambda v, r=request: len(np.unique(np.stack([r, v]), axis=1).T) if len(r) else 0  # noqa: E731
        out[name] = (len(np.unique(request)), pairs(element // 8), int(sel.sum()), pairs(element))
    return out


def as_tuple(traffic):
    return (traffic.requests, traffic.sectors, traffic.lane_accesses, traffic.distinct_elements)


def test_extent_classes_cover_every_index_once_with_its_limit():
    for extent, span, count in [(32, 8, 4), (33, 8, 5), (1, 32, 1), (70, 32, 3), (5, 4, 4), (8, 8, 1)]:
        seen = []
        for limit, lo, hi in extent_classes(extent, span, count):
            for i in range(lo, hi):
                assert limit == min(span, max(0, extent - i * span))
                seen.append(i)
        assert seen == list(range(count))


@settings(deadline=None, max_examples=60)
@given(kernel=st.sampled_from(["naive", "uncoalesced", "tiled"]),
       m=st.integers(1, 40), n=st.integers(1, 40), k=st.integers(1, 40),
       bx=st.integers(1, 40), by=st.integers(1, 40))
def test_totals_equal_counting_the_trace_request_by_request(kernel, m, n, k, bx, by):
    block = (bx, bx) if kernel == "tiled" else (bx, by)
    if block[0] * block[1] > 1024:
        block = (bx, max(1, 1024 // bx))
    if kernel == "tiled":
        block = (min(bx, 32), min(bx, 32))
    problem = MatmulProblem(m, n, k)
    traced = traced_traffic(kernel, problem, block)
    totals = memory_totals(kernel, problem, block)
    for name in ("A", "B", "C"):
        assert as_tuple(totals.arrays[name]) == traced[name], name


@pytest.mark.parametrize("kernel, m, n, k, block", [
    ("naive", 64, 64, 64, (32, 8)), ("naive", 33, 70, 9, (32, 32)), ("uncoalesced", 61, 31, 17, (32, 4)),
    ("tiled", 37, 41, 29, (16, 16)), ("naive", 100, 3, 50, (7, 13)), ("uncoalesced", 9, 200, 5, (3, 50)),
])
def test_totals_equal_counting_the_trace_on_larger_awkward_shapes(kernel, m, n, k, block):
    problem = MatmulProblem(m, n, k)
    traced = traced_traffic(kernel, problem, block)
    totals = memory_totals(kernel, problem, block)
    assert {name: as_tuple(totals.arrays[name]) for name in traced} == traced


def test_totals_are_the_sum_of_every_warps_requests_that_the_panel_shows():
    problem, block = MatmulProblem(13, 21, 6), (8, 4)
    for kernel in ("naive", "uncoalesced"):
        launch = launch_for(kernel, problem, block)
        requests = {"A": 0, "B": 0, "C": 0}
        sectors = dict(requests)
        for s in range(len(kernel_steps(kernel, problem, block))):
            for bx in range(launch.grid.x):
                for by in range(launch.grid.y):
                    for w in range(launch.warps_per_block):
                        for r in warp_requests(kernel, problem, block, s, (bx, by), w):
                            requests[r.array] += 1
                            sectors[r.array] += r.sectors_per_request
        totals = memory_totals(kernel, problem, block)
        assert {a: (t.requests, t.sectors) for a, t in totals.arrays.items()} == \
            {a: (requests[a], sectors[a]) for a in requests}


@pytest.mark.parametrize("block", [(32, 8), (32, 32)])
def test_the_hand_checkable_contrast(block):
    problem = MatmulProblem(64, 64, 64)
    launch = launch_for("naive", problem, block)
    warp_steps = launch.warps * problem.k  # one A and one B request per warp and k
    naive = memory_totals("naive", problem, block)
    # naive: all 32 lanes read one element of A (1 sector) and 32 consecutive floats of B (128 bytes, 4 sectors)
    assert (naive.arrays["A"].requests, naive.arrays["A"].sectors) == (warp_steps, warp_steps)
    assert (naive.arrays["B"].requests, naive.arrays["B"].sectors) == (warp_steps, 4 * warp_steps)
    assert naive.arrays["B"].efficiency == 1.0 and naive.arrays["A"].bytes_used == 4 * warp_steps
    # uncoalesced: the lanes walk rows of A, a row (256 bytes) apart: 32 sectors; all share one element of B
    unco = memory_totals("uncoalesced", problem, block)
    assert (unco.arrays["A"].requests, unco.arrays["A"].sectors) == (warp_steps, 32 * warp_steps)
    assert (unco.arrays["B"].requests, unco.arrays["B"].sectors) == (warp_steps, warp_steps)
    assert unco.arrays["A"].sectors_per_request == 32 and naive.arrays["B"].sectors_per_request == 4
    assert unco.arrays["A"].efficiency == 4 / 32  # 4 bytes used of every 32-byte sector moved
    # the per-warp view of step 0 says the same
    naive_step = {r.array: r.sectors_per_request for r in warp_requests("naive", problem, block, 0, (0, 0), 0)}
    unco_step = {r.array: r.sectors_per_request for r in warp_requests("uncoalesced", problem, block, 0, (0, 0), 0)}
    assert naive_step == {"A": 1, "B": 4} and unco_step == {"A": 32, "B": 1}
    cmp = compare_kernels("naive", "uncoalesced", problem, block)
    assert cmp.load_ratio == pytest.approx(33 / 5)


def test_the_sentence_uses_the_computed_numbers_and_names_the_slower_kernel():
    problem, block = MatmulProblem(64, 64, 64), (32, 8)
    a, b = memory_totals("naive", problem, block), memory_totals("uncoalesced", problem, block)
    sentence = explain_contrast(a, b)
    assert sentence == explain_contrast(b, a)
    assert sentence.startswith("The uncoalesced kernel's warps touch 16.5 sectors")
    assert "naive kernel's touch 2.5" in sentence and "6.6× the bytes" in sentence
    assert "8.2 MiB vs 1.2 MiB" in sentence and "runs slower, by as much of that factor as the caches fail to absorb" in sentence
    assert re.search(r"[.;:]\s+[A-Z]", sentence) is None and sentence.endswith(".")  # one sentence
    same = explain_contrast(a, a)
    assert "same" in same and "slower" not in same
    assert "sector" in MODEL_NOTE and "not a cycle-accurate" in MODEL_NOTE


def test_scene_compare_and_its_refusals():
    scene = MatmulScene(MatmulParams(m=64, n=64, k=64, block=(32, 8)))
    with pytest.raises(SceneError) as e:
        scene.compare()
    assert e.value.field == "compare_kernel"
    with pytest.raises(SceneError, match="square"):
        scene.compare("tiled")
    with pytest.raises(SceneError, match="unknown kernel"):
        scene.set_compare_kernel("fast")
    seen = []
    scene.subscribe(lambda s, what: seen.append(what))
    scene.set_compare_kernel("uncoalesced")
    cmp = scene.compare()
    assert (cmp.first.kernel, cmp.second.kernel) == ("naive", "uncoalesced")
    assert cmp.first == scene.memory_totals() and cmp.second == scene.memory_totals("uncoalesced")
    assert seen == [{"compare"}]
    # a block the compare kernel cannot run drops the comparison, and says so
    scene.configure(kernel="tiled", block=(16, 16))
    assert scene.compare_kernel == "uncoalesced"
    scene.set_compare_kernel("naive")
    scene.configure(kernel="naive", block=(32, 32))
    assert scene.compare_kernel == "naive"
    scene.set_compare_kernel("tiled")
    seen.clear()
    scene.configure(block=(32, 4))
    assert scene.compare_kernel is None and "compare" in seen[-1]


def test_fast_and_exact_at_4096_cubed():
    problem = MatmulProblem(4096, 4096, 4096)
    for kernel, block in [("naive", (32, 32)), ("uncoalesced", (32, 8)), ("tiled", (32, 32)), ("naive", (7, 13))]:
        launch = launch_for(kernel, problem, block)
        start = time.perf_counter()
        totals = _memory_totals.__wrapped__(kernel, problem, launch)  # uncached
        assert time.perf_counter() - start < 0.5
        assert totals.arrays["C"].lane_accesses == 4096 * 4096
    naive = memory_totals("naive", problem, (32, 32))
    # every warp of a 32×32 block is one row: A 1 sector per request, B 4, over 4096 k
    warp_steps = launch_for("naive", problem, (32, 32)).warps * 4096
    assert (naive.arrays["A"].sectors, naive.arrays["B"].sectors) == (warp_steps, 4 * warp_steps)
    tiled = memory_totals("tiled", problem, (32, 32))
    assert tiled.loads.lane_accesses == 2 * 4096**3 // 32  # each element of A and B read 4096/32 times
