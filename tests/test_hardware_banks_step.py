"""The requests of one warp in one step: from a whole trace (BankConflicts.at) and from the matmul scene.

The scene computes them from a one-block trace of the selected block's tile; they must equal those of the
whole launch's trace, edges included (products that are not multiples of the tile).
"""

import pytest

from gpuviz.model import MatmulProblem
from gpuviz.model.hardware.banks import bank_conflicts
from gpuviz.model.scene import MatmulParams, MatmulScene
from gpuviz.model.vectorized import vectorized_trace


def test_at_gives_lanes_words_banks_and_degree_of_one_request():
    tr = vectorized_trace("tiled", MatmulProblem(8, 8, 8), (8, 8))
    bc = bank_conflicts(tr)
    i = 0
    want = bc.request(i)
    step = int(bc._request_steps[i])
    got = bc.at(want["block"], want["warp"], step)
    assert want in got
    for r in got:
        assert r["banks"] == [w % 32 for w in r["words"]]
        assert sum(r["words_per_bank"]) == r["distinct_words"] == len(set(r["words"]))
        assert r["degree"] == max(r["words_per_bank"])
    assert bc.at((5, 5), 0, step) == []


def _strip(requests):
    return [{k: v for k, v in r.items() if k not in ("block", "elements")} for r in requests]


@pytest.mark.parametrize("m, n, k, tile", [(10, 13, 11, 4), (20, 12, 9, 8)])
def test_scene_bank_requests_equal_the_whole_launchs_trace(m, n, k, tile):
    scene = MatmulScene(MatmulParams(m=m, n=n, k=k, block=(tile, tile), kernel="tiled"))
    full = bank_conflicts(vectorized_trace("tiled", MatmulProblem(m, n, k), (tile, tile)))
    g = scene.launch.grid
    seen = 0
    for s in range(scene.n_steps):
        scene.set_step(s)
        for by in range(g.y):
            for bx in range(g.x):
                for w in range((tile * tile + 31) // 32):
                    scene.select_warp((bx, by), w)
                    got = scene.bank_requests()
                    want = full.at((bx, by), w, s)
                    assert _strip(got) == _strip(want), (s, bx, by, w)
                    assert all(r["block"] == [bx, by, 0] for r in got)
                    seen += len(want)
    assert seen > 0


def test_scene_bank_requests_none_without_shared_memory_and_fast_at_any_size():
    assert MatmulScene(MatmulParams(m=16, n=16, k=16, block=(8, 8), kernel="naive")).bank_requests() is None
    big = MatmulScene(MatmulParams(m=4096, n=4096, k=4096, block=(32, 32), kernel="tiled"))
    steps = [s for s in range(big.n_steps) if big.step_info(s).role == "multiply"][:2]
    big.set_step(steps[0])
    req = big.bank_requests()
    # sA[ty, i] for one row of a warp: every lane reads the same word (a broadcast, degree 1)
    assert [r["array"] for r in req] == ["sA", "sB"]
    assert req[0]["distinct_words"] == 1 and req[0]["degree"] == 1
    assert req[1]["distinct_words"] == 32 and req[1]["degree"] == 1
