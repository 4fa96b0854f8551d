"""Issue 20's figures: recording a student's kernel vs the plain simulator run, the checker on a trace of
a million events, and how soon an endless loop is stopped after its time-out.

Run with no arguments (a few minutes at most on a laptop): prints each measurement, then one summary line
with the targets (recording ≤ 1.5× the plain run, checker ≤ 1 s on 1M events, stopped ≤ 1 s after the
time-out). Exit 0 whatever the figures: a busy machine measures slow, and the figures say so.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gpuviz.engine import Engine  # noqa: E402
from gpuviz.engine.user_kernel import run_kernel  # noqa: E402
from gpuviz.model.kernel.checker import check_trace  # noqa: E402
from gpuviz.model.kernel.request import KernelRequest  # noqa: E402
from gpuviz.model.trace import NO_ARRAY, OP_BARRIER, OP_READ, OP_WRITE, SPACE_GLOBAL, SPACE_NONE, SPACE_SHARED, Trace  # noqa: E402,E501

REPEATS = 5
TARGET_RECORDING, TARGET_CHECKER_S, TARGET_STOP_S = 1.5, 1.0, 1.0

KERNELS = '''
from numba import cuda, float32

TILE = 8


@cuda.jit
def transpose(a, out):
    tile = cuda.shared.array((TILE, TILE), float32)
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    tile[ty, tx] = a[cuda.blockIdx.y * TILE + ty, cuda.blockIdx.x * TILE + tx]
    cuda.syncthreads()
    out[cuda.blockIdx.x * TILE + ty, cuda.blockIdx.y * TILE + tx] = tile[tx, ty]


@cuda.jit
def rowdot(a, b, out):
    i = cuda.grid(1)
    if i < a.shape[0]:
        acc = float32(0.0)
        for k in range(a.shape[1]):
            acc += a[i, k] * b[k]
        out[i] = acc
        cuda.atomic.add(out, a.shape[0], acc)


@cuda.jit
def spin(a):
    i = cuda.grid(1)
    k = 0
    while a[0] >= 0:
        k += 1
    a[i] = k
'''


def recording_cost(engine, path) -> float:
    """Worst ratio of recorded to plain simulator launch time over two kernels (medians of REPEATS)."""
    cases = [("transpose", "4x4", "8x8", ["a=float32[32,32]:random", "out=float32[32,32]:zeros"]),
             ("rowdot", "2", "64", ["a=float32[128,160]:random", "b=float32[160]:random", "out=float32[129]:zeros"])]
    worst = 0.0
    worker = engine._worker(True)
    for name, grid, block, args in cases:
        req = KernelRequest.build(path, name, grid, block, args, timeout=120)
        job = req.to_job()
        plain, recorded, events = [], [], 0
        worker.call({**job, "record": False}, timeout=300)  # warm: module load, first-launch costs
        for _ in range(REPEATS):
            plain.append(worker.call({**job, "record": False}, timeout=300)["seconds"])
            out = worker.call(job, timeout=300)
            recorded.append(out["seconds"])
            events = len(out["trace"])
        ratio = statistics.median(recorded) / statistics.median(plain)
        worst = max(worst, ratio)
        runs = f"plain {', '.join(f'{t:.3f}' for t in plain)}; recorded {', '.join(f'{t:.3f}' for t in recorded)}"
        print(f"recording {name} ({grid} × {block}, {events:,} events): plain {statistics.median(plain):.3f} s, "
              f"recorded {statistics.median(recorded):.3f} s (trace built) → {ratio:.2f}× [runs: {runs}]")
    return worst


def synthetic_trace(blocks=256, threads=64, tiles=8, racy=False) -> Trace:
    """A tiled-product-like trace: per tile, a global read and a shared write, a barrier, 4 shared reads, a
    barrier; then one global write. 256 blocks × 64 threads × 8 tiles × 8 events + 1 ≈ 1.07M events.
    ``racy``: the second barrier of each tile is a fifth shared read instead (the next tile's writes race)."""
    per_tile = 8
    per_thread = tiles * per_tile + 1
    n = blocks * threads * per_thread
    tr = Trace.empty(n, ("A", "C", "s"), {"block": [threads, 1, 1], "grid": [blocks, 1, 1]})
    b = np.repeat(np.arange(blocks), threads * per_thread)
    t = np.tile(np.repeat(np.arange(threads), per_thread), blocks)
    k = np.tile(np.arange(per_thread), blocks * threads)
    tile, slot = np.divmod(k, per_tile)
    last = k == per_thread - 1
    tr.block[:] = 0
    tr.block[:, 0] = b
    tr.thread[:] = 0
    tr.thread[:, 0] = t
    tr.warp[:], tr.lane[:] = t // 32, t % 32
    tr.seq[:] = k
    op = np.select([slot == 0, slot == 1, (slot == 2) | (slot == 7)], [OP_READ, OP_WRITE, OP_BARRIER], OP_READ)
    op[last] = OP_WRITE
    space = np.select([slot == 0, (slot == 2) | (slot == 7)], [SPACE_GLOBAL, SPACE_NONE], SPACE_SHARED)
    space[last] = SPACE_GLOBAL
    array = np.select([slot == 0, (slot == 2) | (slot == 7)], [0, NO_ARRAY], 2)
    array[last] = 1
    barriers = (slot >= 2).astype(np.int64) + (slot >= 7)
    tr.epoch[:] = np.where(last, 2 * tiles, 2 * tile + barriers - (op == OP_BARRIER))
    col = np.select([slot == 0, slot == 1], [tile * threads + t, t], (t + slot) % threads)
    col[last] = b[last] * threads + t[last]
    tr.op[:], tr.space[:], tr.array[:] = op, space, array
    tr.row[:] = np.where(op == OP_BARRIER, -1, 0)
    tr.col[:] = np.where(op == OP_BARRIER, -1, col)
    tr.line[:] = 10 + slot
    if racy:
        drop = (slot == 7) & ~last
        tr.op[drop], tr.space[drop], tr.array[drop] = OP_READ, SPACE_SHARED, 2
        tr.row[drop], tr.col[drop] = 0, t[drop]
        tr.epoch[:] = np.where(last, tiles, tile + (slot >= 2) - (tr.op == OP_BARRIER))
    tr.index = np.zeros((n, 3), np.int32)
    tr.index[:, 0] = np.where(tr.op == OP_BARRIER, 0, tr.col)
    tr.dims = (tr.op != OP_BARRIER).astype(np.uint8)
    tr.array_shapes = ((threads * tiles,), (blocks * threads,), (threads,))
    return tr


def checker_speed() -> float:
    """The slower median of the clean trace and its racy twin."""
    worst = 0.0
    for racy in (False, True):
        tr = synthetic_trace(racy=racy)
        times, found = [], []
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            found = check_trace(tr)
            times.append(time.perf_counter() - t0)
        kinds = sorted({f"{f.kind} ×{f.count:,}" for f in found})
        print(f"checker on {len(tr):,} events{' (racy)' if racy else ''}: median {statistics.median(times):.3f} s "
              f"[runs: {', '.join(f'{t:.3f}' for t in times)}], findings: {', '.join(kinds) or 'none'}")
        worst = max(worst, statistics.median(times))
    return worst


def stop_latency(engine, path, timeout=2.0) -> float:
    """Seconds between the time-out and the end of the call, on a warm worker; then a fresh worker runs."""
    req = KernelRequest.build(path, "spin", "1", "8", ["a=float32[8]:zeros"], timeout=timeout)
    late = []
    for _ in range(2):
        engine._worker(True).call({"kind": "info"}, timeout=120)  # a warm worker: spawning is not the loop's time
        t0 = time.perf_counter()
        res = run_kernel(engine, req, gpu=False)
        late.append(time.perf_counter() - t0 - timeout)
        line = res.report().findings[0].line if res.stopped else None
        print(f"endless loop: status {res.status}, stopped {late[-1]:.3f} s after its {timeout:g} s time-out, "
              f"threads at line {line}")
    after = run_kernel(engine, KernelRequest.build(path, "transpose", "1", "8x8",
                                                   ["a=float32[8,8]:arange", "out=float32[8,8]:zeros"]), gpu=False)
    print(f"next job on the replaced worker: {after.status}")
    return max(late)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench_kernels.py"
        path.write_text(KERNELS, encoding="utf-8")
        with Engine() as engine:
            ratio = recording_cost(engine, path)
            checker = checker_speed()
            late = stop_latency(engine, path)
    ok = ratio <= TARGET_RECORDING and checker <= TARGET_CHECKER_S and late <= TARGET_STOP_S
    print(f"summary: recording {ratio:.2f}× the plain run (target ≤ {TARGET_RECORDING}×); checker "
          f"{checker:.2f} s on ~1M events (target ≤ {TARGET_CHECKER_S:g} s); endless loop stopped {late:.2f} s "
          f"after its time-out (target ≤ {TARGET_STOP_S:g} s): {'all targets met' if ok else 'TARGET MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
