"""The launch model: CUDA's limits, the thread hierarchy, kernel mappings and the budget. No Qt, no numba."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gpuviz.model import (
    Budget,
    BudgetError,
    Dim3,
    LaunchConfig,
    LaunchError,
    MatmulProblem,
    ShapeError,
    ThreadIndex,
    launch_for,
    mapping_for,
    plan_run,
)
from gpuviz.model.budget import event_count, format_bytes
from gpuviz.model.launch import thread_table


@pytest.mark.parametrize(
    "grid, block, needle",
    [
        ((1,), (1025,), "blockDim.x = 1025 exceeds CUDA's limit of 1024 by 1"),
        ((1,), (1, 1100), "blockDim.y = 1100 exceeds CUDA's limit of 1024 by 76"),
        ((1,), (1, 1, 65), "blockDim.z = 65 exceeds CUDA's limit of 64 by 1"),
        ((1,), (64, 32), "2048 threads, over CUDA's limit of 1024 threads per block by 1024"),
        ((2**31,), (1,), "gridDim.x = 2147483648 exceeds CUDA's limit of 2147483647 by 1"),
        ((1, 65536), (1,), "gridDim.y = 65536 exceeds CUDA's limit of 65535 by 1"),
        ((1, 1, 70000), (1,), "gridDim.z = 70000 exceeds CUDA's limit of 65535 by 4465"),
        ((0,), (1,), "gridDim.x = 0: every extent must be at least 1"),
        ((1,), (8, -2), "blockDim.y = -2: every extent must be at least 1"),
    ],
)
def test_refuses_what_a_gpu_refuses(grid, block, needle):
    with pytest.raises(LaunchError) as err:
        LaunchConfig(grid, block)
    assert needle in str(err.value)


def test_accepts_the_limits_themselves():
    LaunchConfig((2**31 - 1, 65535, 65535), (1024, 1, 1))
    LaunchConfig((1,), (1, 1024))
    LaunchConfig((1,), (16, 1, 64))
    LaunchConfig((1,), (32, 32))


def test_dim3_parse():
    assert Dim3.parse("8x8") == Dim3(8, 8)
    assert Dim3.parse("32") == Dim3(32)
    assert Dim3.parse("4x4x2") == Dim3(4, 4, 2)
    assert Dim3.parse("(16, 8)") == Dim3(16, 8)
    for bad in ("8y8", "", "x", "1x2x3x4", "a"):
        with pytest.raises(LaunchError):
            Dim3.parse(bad)


def test_lecture_block_13():
    # the lecture's picture: 4×4 blocks of 8×8 threads, block 13 has two warps
    launch = LaunchConfig((4, 4), (8, 8))
    assert launch.warps_per_block == 2 and launch.threads == 1024 and launch.warps == 32
    t = ThreadIndex((1, 3, 0), (7, 3, 0), launch)
    assert t.block_linear == 13
    assert t.linear_id == 31 and t.warp == 0 and t.lane == 31
    t = ThreadIndex((1, 3, 0), (0, 4, 0), launch)
    assert t.linear_id == 32 and t.warp == 1 and t.lane == 0
    assert t.global_index == (8, 28, 0)
    with pytest.raises(LaunchError):
        ThreadIndex((4, 0, 0), (0, 0, 0), launch)


def test_partial_last_warp():
    launch = LaunchConfig((3,), (5, 7))  # 35 threads: a full warp and a warp of 3
    assert launch.warps_per_block == 2 and launch.warps == 6
    tab = thread_table(launch)
    assert np.bincount(tab["warp"][:35]).tolist() == [32, 3]


@settings(max_examples=60, deadline=None)
@given(st.tuples(*[st.integers(1, 4)] * 3), st.tuples(st.integers(1, 40), st.integers(1, 6), st.integers(1, 4)))
def test_thread_table_is_cuda_order(grid, block):
    launch = LaunchConfig(grid, block)
    tab = thread_table(launch)
    n = launch.threads
    assert len(tab["warp"]) == n
    b = np.array(block)
    lin = tab["thread"][:, 0] + b[0] * (tab["thread"][:, 1] + b[1] * tab["thread"][:, 2])
    assert np.array_equal(lin, tab["linear_id"])
    assert np.array_equal(tab["warp"], lin // 32) and np.array_equal(tab["lane"], lin % 32)
    assert np.array_equal(tab["global"], tab["block"] * b + tab["thread"])
    # every (block, thread) appears exactly once
    assert len({tuple(r) for r in np.hstack([tab["block"], tab["thread"]])}) == n


def test_kernel_launches():
    p = MatmulProblem(33, 17, 20)
    naive = launch_for("naive", p, (8, 8))
    assert naive.grid == Dim3(3, 5)  # x covers the 17 columns, y the 33 rows
    unco = launch_for("uncoalesced", p, (8, 8))
    assert unco.grid == Dim3(5, 3)  # x covers the 33 rows
    assert launch_for("tiled", p, (8, 8)).grid == Dim3(3, 5)
    with pytest.raises(LaunchError, match="square"):
        launch_for("tiled", p, (8, 4))
    with pytest.raises(LaunchError, match="unknown kernel"):
        launch_for("fast", p, (8, 8))
    with pytest.raises(LaunchError, match="2-D"):
        launch_for("naive", p, (8, 8, 2))
    with pytest.raises(LaunchError, match="blockDim.x = 0: every extent must be at least 1"):
        launch_for("naive", p, (0, 8))
    with pytest.raises(ShapeError, match="at least 1"):
        MatmulProblem(0, 3, 3)
    with pytest.raises(ShapeError, match="whole number"):
        MatmulProblem(2.5, 3, 3)


@pytest.mark.parametrize("kernel", ["naive", "uncoalesced", "tiled"])
@pytest.mark.parametrize("m, n, k, block", [(33, 17, 20, (8, 8)), (10, 13, 7, (4, 4)), (32, 32, 5, (8, 8))])
def test_owner_and_idle_threads(kernel, m, n, k, block):
    mp = mapping_for(kernel, MatmulProblem(m, n, k), block)
    owners = mp.owner_map()
    launch = mp.launch
    # each element has exactly one owning thread, and that thread computes it
    flat = owners["block"][..., 0] * 10**6 + owners["block"][..., 1] * 10**4 + owners["thread"][..., 0] * 100 \
        + owners["thread"][..., 1]
    assert len(np.unique(flat)) == m * n
    gx = owners["block"][..., 0] * launch.block.x + owners["thread"][..., 0]
    gy = owners["block"][..., 1] * launch.block.y + owners["thread"][..., 1]
    rows, cols = np.indices((m, n))
    r, c = mp.element_of_thread(gx, gy)
    assert np.array_equal(r, rows) and np.array_equal(c, cols)
    lin = owners["thread"][..., 0] + launch.block.x * owners["thread"][..., 1]
    assert np.array_equal(owners["warp"], lin // 32) and np.array_equal(owners["lane"], lin % 32)
    busy = mp.busy_mask()
    assert busy.sum() == m * n == mp.busy_threads
    assert mp.idle_threads == launch.threads - m * n
    assert mp.idle_per_block().sum() == mp.idle_threads
    assert mp.idle_per_block().shape == (launch.grid.y, launch.grid.x)


def test_idle_only_in_edge_blocks():
    mp = mapping_for("naive", MatmulProblem(33, 17, 20), (8, 8))
    idle = mp.idle_per_block()
    assert (idle[:-1, :-1] == 0).all()
    assert idle[-1, -1] == 64 - 1 * 1  # the corner block covers one element (row 32, col 16)
    assert idle[0, -1] == 64 - 8 * 1


def test_event_counts():
    p = MatmulProblem(10, 13, 7)
    assert event_count("naive", p, launch_for("naive", p, (4, 4))) == 2 * 10 * 13 * 7 + 10 * 13
    launch = launch_for("tiled", p, (4, 4))  # 4×3 blocks of 16, 2 tiles
    expected = launch.threads * 2 * (2 + 2 + 2 * 4) + launch.grid.x * 10 * 7 + launch.grid.y * 7 * 13 + 130
    assert event_count("tiled", p, launch) == expected


def test_budget_refuses_memory_and_time():
    budget = Budget(memory_bytes=64 * 1024**2)
    big = plan_run("naive", MatmulProblem(4096, 4096, 4096), (16, 16), simulator=False, trace=True)
    with pytest.raises(BudgetError) as err:
        budget.check(big)
    msg = str(err.value)
    assert "memory budget of 64.0 MiB" in msg and format_bytes(big.memory_bytes) in msg
    # the same product without a trace, on a GPU, fits in 2 GiB
    Budget().check(plan_run("naive", MatmulProblem(4096, 4096, 4096), (16, 16), simulator=False, trace=False))
    slow = plan_run("naive", MatmulProblem(512, 512, 512), (16, 16), simulator=True, trace=False)
    assert slow.simulator_seconds > 120
    with pytest.raises(BudgetError, match="over the 2.0 min budget") as err:
        Budget().check(slow)
    assert "--yes" in err.value.cli_hint
    Budget().check(slow, confirmed=True)
    quick = plan_run("naive", MatmulProblem(16, 16, 16), (8, 8), simulator=True, trace=True)
    assert 0 < quick.simulator_seconds < 5
    Budget().check(quick)


def test_dim3_refuses_digits_int_cannot_read_in_one_line():
    from gpuviz.model.launch import Dim3, LaunchError

    for text in ("8²", "٣x2", "9" * 5000):
        with pytest.raises(LaunchError) as e:
            Dim3.parse(text)
        assert "\n" not in str(e.value) and len(str(e.value)) < 200
