"""How much faster the vectorized trace and the analytic frames are than recording in the simulator.

Two figures, each against its target:

* the naive kernel's trace at 64³ recorded while Numba's CUDA simulator runs
  it (through the engine's worker) versus computed by NumPy
  (``gpuviz.model.vectorized``): target at least 300× faster;
* one step's frame of the naive kernel at 4096³ for a 1920×1080 window (C and
  the thread grid at 1000×1000 pixels, A and B at 540×540), computed by
  ``gpuviz.model.frames.kernel_frame``: target at most 10 ms, median over
  different steps.

Exits 0 whether or not the targets are met; the last line sums up both.
"""

from __future__ import annotations

import argparse
import statistics
import time

RATIO_TARGET = 300.0
FRAME_TARGET_MS = 10.0


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", type=int, default=64, help="M = N = K of the recorded trace (default 64)")
    p.add_argument("--block", default="16x16", help="threads per block (default 16x16)")
    p.add_argument("--repeat", type=int, default=15, help="vectorized traces timed (default 15)")
    p.add_argument("--frame-size", type=int, default=4096, help="M = N = K of the frames (default 4096)")
    p.add_argument("--frames", type=int, default=40, help="frames timed, over different steps (default 40)")
    return p.parse_args(argv)


def window_viewports(kernel, problem, block):
    """A 1920×1080 layout: C and the thread grid in a 1000×1000 square, A and B at 540×540."""
    from gpuviz.model.frames import THREADS, Viewport, kernel_shapes

    shapes = kernel_shapes(kernel, problem, block)
    pixels = {name: 1000 if name in ("C", THREADS) else 540 for name in shapes}
    return {name: Viewport.whole(shape, pixels[name], pixels[name]) for name, shape in shapes.items()}


def bench_trace(size, block, repeat):
    from gpuviz.engine import Engine, MatmulJob
    from gpuviz.model import MatmulProblem
    from gpuviz.model.vectorized import vectorized_trace

    problem = MatmulProblem(size, size, size)
    with Engine() as engine:
        # start the worker first: its spawn and numba import are not the recording
        engine.run(MatmulJob("naive", 2, 2, 2, block, backend="simulator", record=True))
        t0 = time.perf_counter()
        res = engine.run(MatmulJob("naive", size, size, size, block, backend="simulator", record=True))
        wall = time.perf_counter() - t0
    if res.status != "ok":
        print(f"recording failed: {res.message}")
        return None
    recorded = res.trace
    times = []
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        vec = vectorized_trace("naive", problem, block)
        times.append(time.perf_counter() - t0)
    vec_s = statistics.median(times)
    same = vec.same_events(recorded)
    print(f"naive {size}^3, block {block}: {len(recorded):,} events")
    print(f"  recorded in the simulator: {res.seconds:.3f} s (measured in the worker), "
          f"{wall:.3f} s wall clock including transfer")
    print(f"  vectorized: {vec_s * 1e3:.2f} ms median of {len(times)} (min {min(times) * 1e3:.2f} ms)")
    print(f"  same events: {same}" + ("" if same else f" ({vec.first_difference(recorded)})"))
    return res.seconds / vec_s


def bench_frames(size, block, count):
    from gpuviz.model import MatmulProblem
    from gpuviz.model.frames import kernel_frame, kernel_steps

    problem = MatmulProblem(size, size, size)
    vps = window_viewports("naive", problem, block)
    n_steps = len(kernel_steps("naive", problem, block))
    steps = [(i * 7919) % n_steps for i in range(max(1, count))]  # spread over the run, last step included
    steps[-1] = n_steps - 1
    kernel_frame("naive", problem, block, 0, vps)  # caches the step plan
    times = []
    for s in steps:
        t0 = time.perf_counter()
        kernel_frame("naive", problem, block, s, vps)
        times.append(time.perf_counter() - t0)
    ms = statistics.median(times) * 1e3
    sizes = ", ".join(f"{name} {vp.height}x{vp.width}" for name, vp in vps.items())
    print(f"frame of one step, naive {size}^3, block {block} ({sizes}):")
    print(f"  {ms:.2f} ms median of {len(times)} steps (min {min(times) * 1e3:.2f}, "
          f"max {max(times) * 1e3:.2f} ms)")
    return ms


def main(argv=None) -> int:
    args = parse_args(argv)
    from gpuviz.model import Dim3

    block = Dim3.parse(args.block)
    ratio = bench_trace(args.size, block, args.repeat)
    ms = bench_frames(args.frame_size, block, args.frames)
    ratio_text = f"{ratio:.0f}x" if ratio is not None else "n/a (recording failed)"
    print(f"bench_trace: vectorized/recorded {args.size}^3 = {ratio_text} (target >= {RATIO_TARGET:.0f}x); "
          f"frame {args.frame_size}^3 @1920x1080 = {ms:.1f} ms median (target <= {FRAME_TARGET_MS:.0f} ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
