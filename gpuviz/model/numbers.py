"""The numbers of a launch: threads, warps, warp efficiency, loads, FLOPs and reuse, exact at any size.

Every count here is what the kernel's trace would give (``tests/test_scene.py``
holds them equal on many small shapes), but none of them walks the threads:
the built-in kernels' active sets are rectangles ``threadIdx.x < a`` and
``threadIdx.y < b`` of each block (or their complements), where ``a`` and
``b`` take at most two values along each axis of the grid — full blocks and the
one edge block that overhangs the matrix. So the grid falls into at most four
*block classes*; each is evaluated once, on one block's ≤ 1024 threads, and
multiplied by how many blocks it has. A 4096×4096×4096 launch costs the same
as a 32×32×32 one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import product

import numpy as np

from .frames import ROLES, Viewport, render_terms, span_profile, step_plan
from .launch import WARP_SIZE, Dim3, LaunchConfig
from .matmul import MatmulProblem, launch_for

FLOAT_BYTES = 4


# -- block classes --------------------------------------------------------------------------


def extent_classes(extent: int, span: int, count: int) -> list[tuple[int, int, int]]:
    """Split indices ``0 <= i < count`` by ``limit = clip(extent - i·span, 0, span)``.

    Returns ``(limit, lo, hi)`` triples: every index in ``lo <= i < hi`` has
    that limit. Block ``i`` along an axis covers ``span`` elements from
    ``i·span``, so ``limit`` is how many of its threads fall inside the
    matrix: ``span`` for full blocks, less for the edge block, 0 beyond.
    """
    full = min(count, max(0, extent // span))
    out = []
    if full:
        out.append((span, 0, full))
    start = full
    if start < count and extent - start * span > 0:
        out.append((extent - start * span, start, start + 1))
        start += 1
    if start < count:
        out.append((0, start, count))
    return out


@lru_cache(maxsize=64)
def block_lanes(bx: int, by: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``threadIdx.x``, ``threadIdx.y`` and a validity mask of one block's threads, shape (warps, 32).

    Row ``w`` holds warp ``w``'s lanes in lane order; lanes past the block's
    last thread (a partial last warp) are invalid and hold zeros.
    """
    size = bx * by
    warps = -(-size // WARP_SIZE)
    lin = np.arange(warps * WARP_SIZE, dtype=np.int64).reshape(warps, WARP_SIZE)
    valid = lin < size
    lin = np.where(valid, lin, 0)
    for a in (lin, valid):
        a.setflags(write=False)
    tx, ty = lin % bx, lin // bx
    tx.setflags(write=False)
    ty.setflags(write=False)
    return tx, ty, valid


@lru_cache(maxsize=1024)
def _rect_counts(bx: int, by: int, ax: int, ay: int, complement: bool) -> tuple[int, int]:
    """(active lanes, warps with ≥ 1 active lane) of a block whose active threads are
    ``tx < ax and ty < ay`` (or every other thread, when ``complement``)."""
    tx, ty, valid = block_lanes(bx, by)
    inside = (tx < ax) & (ty < ay)
    active = valid & (~inside if complement else inside)
    return int(active.sum()), int(active.any(axis=1).sum())


# An active set over the grid as block classes: (blocks, ax, ay, complement).
_Spec = list[tuple[int, int, int, bool]]


def _rect_classes(x_extent: int, y_extent: int, launch: LaunchConfig) -> _Spec:
    """Blocks whose active threads are those inside an ``y_extent``×``x_extent`` region of the thread grid."""
    g, b = launch.grid, launch.block
    return [(nx * ny, ax, ay, False)
            for (ax, x0, x1), (ay, y0, y1) in product(extent_classes(x_extent, b.x, g.x),
                                                      extent_classes(y_extent, b.y, g.y))
            for nx, ny in [(x1 - x0, y1 - y0)]]


def _in_tile(k: int, tile: int, t: int) -> int:
    return max(0, min(tile, k - t * tile))


def step_active_classes(kernel: str, problem: MatmulProblem, launch: LaunchConfig, role: str, t: int) -> _Spec:
    """Which threads execute a step's line, as block classes (see the module's note)."""
    m, n, k = problem.m, problem.n, problem.k
    g, b = launch.grid, launch.block
    if kernel in ("naive", "uncoalesced"):
        # naive: x walks C's columns, y its rows; uncoalesced: the other way round
        return _rect_classes(m, n, launch) if kernel == "uncoalesced" else _rect_classes(n, m, launch)
    tile = b.x
    if role in ("load_a", "zero_a"):
        # row < M (ty, per block row) and t·TILE + tx < K (tx, the same in every block)
        return [(g.x * (y1 - y0), _in_tile(k, tile, t), ay, role == "zero_a")
                for ay, y0, y1 in extent_classes(m, tile, g.y)]
    if role in ("load_b", "zero_b"):
        return [(g.y * (x1 - x0), ax, _in_tile(k, tile, t), role == "zero_b")
                for ax, x0, x1 in extent_classes(n, tile, g.x)]
    if role == "write":
        return _rect_classes(n, m, launch)
    return [(launch.blocks, tile, tile, False)]  # the multiply line and the barriers: every thread


def _class_counts(launch: LaunchConfig, spec: _Spec) -> tuple[int, int]:
    """(active threads, warps with ≥ 1 active lane) over the grid."""
    b = launch.block
    lanes = warps = 0
    for blocks, ax, ay, complement in spec:
        a, w = _rect_counts(b.x, b.y, ax, ay, complement)
        lanes += blocks * a
        warps += blocks * w
    return lanes, warps


# -- the numbers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LaunchNumbers:
    """What a whole launch does, counted exactly.

    Parameters
    ----------
    kernel : str
        The kernel.
    m, n, k : int
        The product's sizes (C is m×n).
    grid, block : tuple of int
        ``gridDim`` and ``blockDim`` (x, y).
    blocks, threads, threads_per_block : int
        Blocks and threads launched.
    busy_threads, idle_threads : int
        Threads that compute an element of C (one per element), and the rest:
        threads of edge blocks that overhang C.
    warps, warps_per_block : int
        Warps launched (⌈threads per block / 32⌉ per block).
    idle_warps : int
        Warps none of whose lanes computes an element of C.
    steps : int
        Steps of the timeline.
    active_lane_steps, issued_lane_steps : int
        Over every step: lanes that execute the step's line, and 32 × the warps
        that execute it (those with at least one active lane); their ratio is
        :attr:`warp_efficiency`.
    global_loads, shared_loads : int
        Element loads from global memory (A, B) and from shared memory (sA, sB; 0
        for the kernels without shared memory), one per thread and access.
    global_stores, shared_stores : int
        Element stores to C, and to the shared tiles (zero fills included).
    flops : int
        ``2·m·n·k``: a multiply and an add per term of every dot product.
    """

    kernel: str
    m: int
    n: int
    k: int
    grid: tuple[int, int]
    block: tuple[int, int]
    blocks: int
    threads: int
    threads_per_block: int
    busy_threads: int
    idle_threads: int
    warps: int
    warps_per_block: int
    idle_warps: int
    steps: int
    active_lane_steps: int
    issued_lane_steps: int
    global_loads: int
    shared_loads: int
    global_stores: int
    shared_stores: int
    flops: int

    @property
    def elements(self) -> int:
        """Elements of C."""
        return self.m * self.n

    @property
    def warp_efficiency(self) -> float:
        """Share of the lanes issued over the whole launch that did work (1.0: no warp ever ran masked lanes)."""
        return self.active_lane_steps / self.issued_lane_steps if self.issued_lane_steps else 0.0

    @property
    def global_loads_per_element(self) -> float:
        return self.global_loads / self.elements

    @property
    def shared_loads_per_element(self) -> float:
        return self.shared_loads / self.elements

    @property
    def bytes_loaded(self) -> int:
        """``4 × global_loads``: the bytes the threads' loads ask global memory for.

        Before any cache; the 32-byte sectors actually moved are in :mod:`~gpuviz.model.coalescing`.
        """
        return FLOAT_BYTES * self.global_loads

    @property
    def arithmetic_intensity(self) -> float:
        """FLOPs per byte loaded from global memory (``flops / bytes_loaded``)."""
        return self.flops / self.bytes_loaded


@dataclass(frozen=True)
class StepNumbers:
    """What one step of the timeline does.

    Parameters
    ----------
    step : int
        Index of the step.
    role : str
        The statement executed (see ``frames.ROLES``).
    active_threads : int
        Threads that execute the step's line.
    inactive_threads : int
        Launched threads that do not (masked lanes and whole warps that skip it).
    active_warps : int
        Warps with at least one active lane: the warps that issue the line.
    masked_lanes : int
        Lanes of those warps that sit the line out: ``32 × active_warps −
        active_threads`` (a partial last warp's missing lanes count: the
        hardware issues all 32).
    global_loads, shared_loads, global_stores, shared_stores : int
        Element accesses the step makes.
    """

    step: int
    role: str
    active_threads: int
    inactive_threads: int
    active_warps: int
    masked_lanes: int
    global_loads: int
    shared_loads: int
    global_stores: int
    shared_stores: int

    @property
    def warp_efficiency(self) -> float:
        """Active lanes over the lanes of the warps that issue the line (0 when none does)."""
        issued = WARP_SIZE * self.active_warps
        return self.active_threads / issued if issued else 0.0


def _step_accesses(kernel: str, role: str, active: int) -> tuple[int, int, int, int]:
    """(global loads, shared loads, global stores, shared stores) of a step with ``active`` threads."""
    if kernel in ("naive", "uncoalesced"):
        return (2 * active, 0, 0, 0) if role == "multiply" else (0, 0, active, 0)
    if role in ("load_a", "load_b"):
        return (active, 0, 0, active)
    if role in ("zero_a", "zero_b"):
        return (0, 0, 0, active)
    if role == "multiply":
        return (0, 2 * active, 0, 0)
    if role == "write":
        return (0, 0, active, 0)
    return (0, 0, 0, 0)


def step_numbers(kernel: str, problem: MatmulProblem, block, step: int) -> StepNumbers:
    """The :class:`StepNumbers` of step ``step`` of a built-in kernel."""
    launch = launch_for(kernel, problem, block)
    plan = step_plan(kernel, problem, launch)
    if not 0 <= step < len(plan.line):
        raise IndexError(f"step {step} is outside 0..{len(plan.line) - 1}")
    role = ROLES[plan.role[step]]
    active, warps = _class_counts(launch, step_active_classes(kernel, problem, launch, role, int(plan.tile[step])))
    return StepNumbers(step, role, active, launch.threads - active, warps, WARP_SIZE * warps - active,
                       *_step_accesses(kernel, role, active))


@lru_cache(maxsize=32)
def _launch_numbers(kernel: str, problem: MatmulProblem, launch: LaunchConfig) -> LaunchNumbers:
    m, n, k = problem.m, problem.n, problem.k
    plan = step_plan(kernel, problem, launch)
    g, b = launch.grid, launch.block
    # steps alike in role and tile width have the same active set: evaluate each kind once
    if kernel == "tiled":
        width = np.minimum(b.x, k - plan.tile.astype(np.int64) * b.x)
    else:
        width = np.zeros(len(plan.role), np.int64)
    _, first, repeats = np.unique(np.stack([plan.role.astype(np.int64), width]), axis=1, return_index=True,
                                  return_counts=True)
    active_lanes = issued = 0
    accesses = [0, 0, 0, 0]
    for s, times in zip(first.tolist(), repeats.tolist()):
        role = ROLES[plan.role[s]]
        a, w = _class_counts(launch, step_active_classes(kernel, problem, launch, role, int(plan.tile[s])))
        active_lanes += times * a
        issued += times * WARP_SIZE * w
        for i, v in enumerate(_step_accesses(kernel, role, a)):
            accesses[i] += times * v
    # the threads inside C: x walks C's rows only in the uncoalesced kernel
    busy = _rect_classes(m, n, launch) if kernel == "uncoalesced" else _rect_classes(n, m, launch)
    _, busy_warps = _class_counts(launch, busy)
    return LaunchNumbers(
        kernel, m, n, k, (g.x, g.y), (b.x, b.y), launch.blocks, launch.threads, b.size, m * n,
        launch.threads - m * n, launch.warps, launch.warps_per_block, launch.warps - busy_warps,
        len(plan.line), active_lanes, issued, *accesses, 2 * m * n * k)


def launch_numbers(kernel: str, problem: MatmulProblem, block) -> LaunchNumbers:
    """The :class:`LaunchNumbers` of a built-in kernel's launch (cached per launch)."""
    return _launch_numbers(kernel, problem, launch_for(kernel, problem, Dim3.of(block)))


# -- cumulative reads ------------------------------------------------------------------------


def _steps_done(plan, role_name: str, step: int) -> int:
    """Steps of ``role_name`` at or before ``step``."""
    return int(np.count_nonzero(plan.role[: step + 1] == ROLES.index(role_name)))


def cumulative_reads(kernel: str, problem: MatmulProblem, block, step: int, viewports: dict[str, Viewport],
                     gx=None, gy=None) -> dict[str, np.ndarray]:
    """Global reads of each element of A and B in steps ``0..step``, binned to ``viewports["A"/"B"]``.

    By the threads with global indices ``(gx, gy)`` (at most a block's worth),
    or by every thread when they are None. At the last step the naive kernels
    have read each element of A N times and each of B M times; the tiled kernel
    gridDim.x and gridDim.y times.
    """
    launch = launch_for(kernel, problem, block)
    plan = step_plan(kernel, problem, launch)
    if not 0 <= step < len(plan.line):
        raise IndexError(f"step {step} is outside 0..{len(plan.line) - 1}")
    m, n, k = problem.m, problem.n, problem.k
    va, vb = viewports["A"], viewports["B"]
    if kernel in ("naive", "uncoalesced"):
        # each multiply step k reads column k of A and row k of B: after s of them, the first s
        done = _steps_done(plan, "multiply", step)
        first = span_profile(k, 0, done)
        if gx is None:
            return {"A": render_terms([(n, np.ones(m, np.int64), first)], va),
                    "B": render_terms([(m, first, np.ones(n, np.int64))], vb)}
        gx, gy = np.asarray(gx, np.int64), np.asarray(gy, np.int64)
        row, col = (gx, gy) if kernel == "uncoalesced" else (gy, gx)
        inside = (row < m) & (col < n)
        rows = np.bincount(row[inside], minlength=m)[:m]
        cols = np.bincount(col[inside], minlength=n)[:n]
        return {"A": render_terms([(1, rows, first)], va), "B": render_terms([(1, first, cols)], vb)}

    tile = launch.block.x
    tiles_a = _steps_done(plan, "load_a", step)
    tiles_b = _steps_done(plan, "load_b", step)
    if gx is None:
        # every block row reads each loaded column of A once per block column: gridDim.x times
        return {"A": render_terms([(launch.grid.x, np.ones(m, np.int64), span_profile(k, 0, tiles_a * tile))], va),
                "B": render_terms([(launch.grid.y, span_profile(k, 0, tiles_b * tile), np.ones(n, np.int64))], vb)}
    gx, gy = np.asarray(gx, np.int64), np.asarray(gy, np.int64)
    tx, ty = gx % tile, gy % tile
    row, col = gy, gx
    # a focus thread reads A[row, t·TILE + tx] and B[t·TILE + ty, col] in each loaded tile t
    ta = np.arange(tiles_a, dtype=np.int64) * tile
    a_row, a_col = np.broadcast_arrays(row[:, None], ta + tx[:, None])
    keep_a = (a_row < m) & (a_col < k)
    tb = np.arange(tiles_b, dtype=np.int64) * tile
    b_row, b_col = np.broadcast_arrays(tb + ty[:, None], col[:, None])
    keep_b = (b_row < k) & (b_col < n)
    return {"A": va.bin_points(a_row[keep_a], a_col[keep_a]), "B": vb.bin_points(b_row[keep_b], b_col[keep_b])}


__all__ = ["LaunchNumbers", "StepNumbers", "cumulative_reads", "extent_classes", "launch_numbers",
           "step_active_classes", "step_numbers"]
