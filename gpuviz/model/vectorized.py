"""Traces of the built-in kernels computed with NumPy from their index arithmetic.

The simulator takes seconds for a 64×64 product; these take milliseconds, and
``tests/test_trace_equivalence.py`` holds them equal, event for event, to what
the recorder logs while the simulator runs the real kernels. Events come out in
:meth:`Trace.canonical` order (blocks, then threads, in CUDA's linear order, then
``seq``) by construction, so nothing is sorted.

The source lines are looked up in the kernels' text: edit a kernel and the
lines follow; change what a kernel does and the equivalence test fails.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from .launch import WARP_SIZE, LaunchConfig
from .matmul import MatmulProblem, launch_for, source_line, source_lines
from .trace import (
    CODE_FIELDS,
    INT_FIELDS,
    NO_ARRAY,
    OP_BARRIER,
    OP_READ,
    OP_WRITE,
    SPACE_GLOBAL,
    SPACE_NONE,
    SPACE_SHARED,
    Trace,
)

#: Arrays each built-in kernel touches, sorted as in a canonical trace.
KERNEL_ARRAYS = {
    "naive": ("A", "B", "C"),
    "uncoalesced": ("A", "B", "C"),
    "tiled": ("A", "B", "C", "sA", "sB"),
}


@cache
def kernel_lines(kernel: str) -> dict[str, int]:
    """Source lines of the statements of a built-in kernel that touch memory or synchronise.

    Keys: ``multiply`` and ``write`` for all kernels; ``load_a``, ``zero_a``,
    ``load_b``, ``zero_b``, ``sync_loaded`` and ``sync_used`` for ``tiled``.
    """
    if kernel in ("naive", "uncoalesced"):
        return {"multiply": source_line(kernel, "acc += A[row, k] * B[k, col]"),
                "write": source_line(kernel, "C[row, col] = acc")}
    if kernel != "tiled":
        raise KeyError(kernel)
    syncs = source_lines(kernel, "cuda.syncthreads()")
    if len(syncs) != 2:
        raise LookupError(f"the tiled kernel has {len(syncs)} barriers, expected 2")
    return {"load_a": source_line(kernel, "sA[ty, tx] = A[row, a_col]"),
            "zero_a": source_line(kernel, "sA[ty, tx] = float32(0.0)"),
            "load_b": source_line(kernel, "sB[ty, tx] = B[b_row, col]"),
            "zero_b": source_line(kernel, "sB[ty, tx] = float32(0.0)"),
            "sync_loaded": syncs[0],
            "multiply": source_line(kernel, "acc += sA[ty, i] * sB[i, tx]"),
            "sync_used": syncs[1],
            "write": source_line(kernel, "C[row, col] = acc")}


def trace_meta(kernel: str, problem: MatmulProblem, launch: LaunchConfig, seed=None) -> dict:
    """The ``meta`` the engine's worker writes, with ``source = "vectorized"``."""
    return {"kernel": kernel, "m": problem.m, "n": problem.n, "k": problem.k,
            "grid": list(launch.grid.as_tuple()), "block": list(launch.block.as_tuple()),
            "seed": seed, "source": "vectorized"}


def vectorized_trace(kernel: str, problem: MatmulProblem, block, seed=None) -> Trace:
    """The trace the simulator would record for a built-in kernel, computed with NumPy.

    Parameters
    ----------
    kernel : str
        ``"naive"``, ``"uncoalesced"`` or ``"tiled"``.
    problem : MatmulProblem
        The product's sizes.
    block : Dim3 or tuple
        Threads per block (the grid follows, see :func:`launch_for`).
    seed : int or None
        Only written to ``meta``: the accesses do not depend on the values.

    Returns
    -------
    Trace
        Canonical: events by block, thread and ``seq``; ``array_names`` sorted.
    """
    launch = launch_for(kernel, problem, block)
    build = _tiled if kernel == "tiled" else _one_thread_per_element
    tr = build(kernel, problem, launch)
    tr.meta = trace_meta(kernel, problem, launch, seed)
    return tr


def _launched_threads(launch: LaunchConfig):
    """blockIdx.x/y and threadIdx.x/y of every launched thread, in canonical order.

    The 2-D kernels' canonical order is (blockIdx.y, blockIdx.x, threadIdx.y,
    threadIdx.x) with x fastest, which is C order on a 4-D index.
    """
    g, b = launch.grid, launch.block
    shape = (g.y, g.x, b.y, b.x)
    by = np.arange(g.y, dtype=np.int32).reshape(-1, 1, 1, 1)
    bx = np.arange(g.x, dtype=np.int32).reshape(1, -1, 1, 1)
    ty = np.arange(b.y, dtype=np.int32).reshape(1, 1, -1, 1)
    tx = np.arange(b.x, dtype=np.int32).reshape(1, 1, 1, -1)
    return shape, bx, by, tx, ty


def _allocate(n: int, names) -> Trace:
    """An uninitialised trace of ``n`` events whose fields are views of one buffer.

    NumPy asks for huge pages on large allocations, which one buffer gets and
    a dozen arrays of a few MiB do not: their 4 KiB page faults took ~7 ms
    for the naive 64³ trace, three times what computing it takes.
    """
    i32 = 4 * (3 + 3 + len(INT_FIELDS))
    buf = np.empty(n * (i32 + len(CODE_FIELDS)), np.uint8)
    ints = buf[: n * i32].view(np.int32)
    codes = buf[n * i32:]
    fields = {"block": ints[: 3 * n].reshape(n, 3), "thread": ints[3 * n: 6 * n].reshape(n, 3)}
    for j, f in enumerate(INT_FIELDS):
        fields[f] = ints[(6 + j) * n: (7 + j) * n]
    for j, f in enumerate(CODE_FIELDS):
        fields[f] = codes[j * n: (j + 1) * n]
    return Trace(**fields, array_names=tuple(names), meta={})


def _fill_thread_fields(tr: Trace, per_thread, bx, by, tx, ty, block_x: int) -> None:
    """block, thread, warp and lane of every event, given each thread's event count."""
    lin = tx.astype(np.int32) + np.int32(block_x) * ty
    per_thread_values = ((tr.block, (bx, by)), (tr.thread, (tx, ty)))
    if np.isscalar(per_thread):
        e = int(per_thread)
        for field, (x, y) in per_thread_values:
            v = field.reshape(-1, e, 3)
            v[:, :, 0], v[:, :, 1], v[:, :, 2] = x[:, None], y[:, None], 0
        tr.warp.reshape(-1, e)[:] = (lin // WARP_SIZE)[:, None]
        tr.lane.reshape(-1, e)[:] = (lin % WARP_SIZE)[:, None]
    else:
        for field, (x, y) in per_thread_values:
            field[:, 0], field[:, 1], field[:, 2] = np.repeat(x, per_thread), np.repeat(y, per_thread), 0
        tr.warp[:] = np.repeat(lin // WARP_SIZE, per_thread)
        tr.lane[:] = np.repeat(lin % WARP_SIZE, per_thread)


def _one_thread_per_element(kernel: str, problem: MatmulProblem, launch: LaunchConfig) -> Trace:
    """naive and uncoalesced: a thread inside C reads A[row, k], B[k, col] for each k, then writes C."""
    m, n, k = problem.m, problem.n, problem.k
    shape, bx, by, tx, ty = _launched_threads(launch)
    b = launch.block
    gx, gy = bx * b.x + tx, by * b.y + ty
    row, col = (gx, gy) if kernel == "uncoalesced" else (gy, gx)
    # threads outside C skip the whole body: they make no event at all
    inside = np.nonzero(np.broadcast_to((row < m) & (col < n), shape))
    by, bx, ty, tx = (a.astype(np.int32) for a in inside)
    gx, gy = bx * b.x + tx, by * b.y + ty
    row, col = (gx, gy) if kernel == "uncoalesced" else (gy, gx)

    per = 2 * k + 1
    tr = _allocate(len(row) * per, KERNEL_ARRAYS[kernel])
    _fill_thread_fields(tr, per, bx, by, tx, ty, b.x)
    lines = kernel_lines(kernel)
    kk = np.arange(k, dtype=np.int32)

    tr.seq.reshape(-1, per)[:] = np.arange(per, dtype=np.int32)
    tr.epoch[:] = 0
    tr.space[:] = SPACE_GLOBAL
    template = np.empty(per, np.uint8)
    template[:-1], template[-1] = OP_READ, OP_WRITE
    tr.op.reshape(-1, per)[:] = template
    template[0:-1:2], template[1:-1:2], template[-1] = 0, 1, 2  # A, B, C in KERNEL_ARRAYS order
    tr.array.reshape(-1, per)[:] = template
    line = np.full(per, lines["multiply"], np.int32)
    line[-1] = lines["write"]
    tr.line.reshape(-1, per)[:] = line

    rows, cols = tr.row.reshape(-1, per), tr.col.reshape(-1, per)
    rows[:, 0:-1:2] = row[:, None]  # A[row, k]
    cols[:, 0:-1:2] = kk
    rows[:, 1:-1:2] = kk  # B[k, col]
    cols[:, 1:-1:2] = col[:, None]
    rows[:, -1] = row  # C[row, col]
    cols[:, -1] = col
    return tr


def _tiled(kernel: str, problem: MatmulProblem, launch: LaunchConfig) -> Trace:
    """tiled: every launched thread loads, synchronises and multiplies each tile; threads inside C write."""
    m, n, k = problem.m, problem.n, problem.k
    tile = launch.block.x
    tiles = -(-k // tile)
    lines = kernel_lines(kernel)
    names = KERNEL_ARRAYS[kernel]
    code = {name: np.uint8(i) for i, name in enumerate(names)}

    shape, bx, by, tx, ty = _launched_threads(launch)
    bx, by, tx, ty = (np.broadcast_to(a, shape).ravel() for a in (bx, by, tx, ty))
    row, col = by * tile + ty, bx * tile + tx
    threads = len(row)

    # Each tile is a run of `slots`: [A read, sA write, B read, sB write, barrier,
    # (sA read, sB read) × TILE, barrier]; the two global reads happen only when
    # in range (else the zero fill writes sA/sB alone). One last slot is C's write.
    slots = 2 * tile + 6
    width = tiles * slots + 1
    t0 = np.arange(tiles, dtype=np.int32) * tile  # first k of each tile
    a_col = t0 + tx[:, None]
    b_row = t0 + ty[:, None]
    in_a = (row < m)[:, None] & (a_col < k)
    in_b = (b_row < k) & (col < n)[:, None]
    in_c = (row < m) & (col < n)

    keep = np.ones((threads, width), bool)
    kv = keep[:, :-1].reshape(threads, tiles, slots)
    kv[:, :, 0] = in_a
    kv[:, :, 2] = in_b
    keep[:, -1] = in_c
    counts = keep.sum(axis=1)
    total = int(counts.sum())
    tr = _allocate(total, names)
    _fill_thread_fields(tr, counts, bx, by, tx, ty, tile)
    start = np.cumsum(counts) - counts
    tr.seq[:] = np.arange(total, dtype=np.int64) - np.repeat(start, counts)

    def per_slot(values, dtype):
        """A field that depends on the slot only (and, for the final slot, on nothing)."""
        full = np.empty(width, dtype)
        full[:-1].reshape(tiles, slots)[:] = values[0]
        full[-1] = values[1]
        return np.broadcast_to(full, keep.shape)[keep]

    op = np.full(slots, OP_READ, np.uint8)
    op[[1, 3]] = OP_WRITE
    op[[4, -1]] = OP_BARRIER
    tr.op[:] = per_slot((op, OP_WRITE), np.uint8)
    space = np.full(slots, SPACE_SHARED, np.uint8)
    space[[0, 2]] = SPACE_GLOBAL
    space[[4, -1]] = SPACE_NONE
    tr.space[:] = per_slot((space, SPACE_GLOBAL), np.uint8)
    array = np.empty(slots, np.uint8)
    array[[0, 1, 2, 3, 4, -1]] = code["A"], code["sA"], code["B"], code["sB"], NO_ARRAY, NO_ARRAY
    array[5:-1:2], array[6:-1:2] = code["sA"], code["sB"]
    tr.array[:] = per_slot((array, code["C"]), np.uint8)

    epoch = np.empty(width, np.int32)
    ev = epoch[:-1].reshape(tiles, slots)
    ev[:, :5] = 2 * np.arange(tiles, dtype=np.int32)[:, None]
    ev[:, 5:] = ev[:, :5][:, :1] + 1
    epoch[-1] = 2 * tiles
    tr.epoch[:] = np.broadcast_to(epoch, keep.shape)[keep]

    def per_event(fill):
        """A field that depends on the thread and the tile: built whole, then the kept slots taken."""
        full = np.empty(keep.shape, np.int32)
        fill(full[:, :-1].reshape(threads, tiles, slots), full[:, -1])
        return full[keep]

    i = np.arange(tile, dtype=np.int32)

    def line(v, last):
        v[:] = np.full(slots, lines["multiply"], np.int32)
        v[:, :, 0] = lines["load_a"]
        v[:, :, 1] = np.where(in_a, lines["load_a"], lines["zero_a"])
        v[:, :, 2] = lines["load_b"]
        v[:, :, 3] = np.where(in_b, lines["load_b"], lines["zero_b"])
        v[:, :, 4] = lines["sync_loaded"]
        v[:, :, -1] = lines["sync_used"]
        last[:] = lines["write"]

    def rows(v, last):
        v[:, :, 0] = row[:, None]  # A[row, a_col]
        v[:, :, 1] = ty[:, None]  # sA[ty, tx]
        v[:, :, 2] = b_row  # B[b_row, col]
        v[:, :, 3] = ty[:, None]  # sB[ty, tx]
        v[:, :, 4] = -1
        v[:, :, 5:-1:2] = ty[:, None, None]  # sA[ty, i]
        v[:, :, 6:-1:2] = i  # sB[i, tx]
        v[:, :, -1] = -1
        last[:] = row

    def cols(v, last):
        v[:, :, 0] = a_col
        v[:, :, 1] = tx[:, None]
        v[:, :, 2] = col[:, None]
        v[:, :, 3] = tx[:, None]
        v[:, :, 4] = -1
        v[:, :, 5:-1:2] = i
        v[:, :, 6:-1:2] = tx[:, None, None]
        v[:, :, -1] = -1
        last[:] = col

    tr.line[:] = per_event(line)
    tr.row[:] = per_event(rows)
    tr.col[:] = per_event(cols)
    return tr
