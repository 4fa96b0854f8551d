"""Issue 7's figure: the 1,000,000-element dot product in a Python loop vs NumPy vs Numba, measured here.

Runs the lecture's dot product in every implementation (in the engine's worker,
as the app does), prints the full table, then (unless --quick) the matrix-product
and dense-layer sweeps, and puts the loop/NumPy ratio on the last line. The
issue expects "several hundred ×" on a laptop-class CPU. Not a test: it exits 0
whatever the ratio.
"""

from __future__ import annotations

import argparse
import sys
import time

from gpuviz.cli.bench import format_table
from gpuviz.engine import Engine
from gpuviz.model import speed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="vector length (default 1,000,000)")
    parser.add_argument("--quick", action="store_true", help="only the dot product (no matmul and layer sweeps)")
    parser.add_argument("--save", metavar="FILE.json", help="save every measurement with the machine")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    all_results = None
    with Engine() as engine:
        plan = [("dot", (args.size,))]
        if not args.quick:
            plan += [("matmul", speed.DEFAULT_SIZES["matmul"]), ("layer", speed.DEFAULT_SIZES["layer"])]
        for op, sizes in plan:
            print(f"timing {op} at {', '.join(f'{s:,}' for s in sizes)} ...", file=sys.stderr, flush=True)
            r = engine.bench(op, sizes)
            if all_results is None:
                all_results = r
            else:
                all_results.measurements += r.measurements
    print("\n".join(format_table(all_results)))
    print(f"\n(whole benchmark: {time.perf_counter() - t0:.0f} s)")
    if args.save:
        all_results.save(args.save)
        print(f"saved {args.save}")

    loop = all_results.get("dot", "python", args.size)
    vec = all_results.get("dot", "numpy", args.size)
    jit = all_results.get("dot", "numba", args.size)
    if loop is None or vec is None or not (loop.measured and vec.measured):
        print(f"dot {args.size:,}: the loop or NumPy was not measured "
              f"({(loop and loop.skipped) or (vec and vec.skipped)}); target: several hundred ×")
        return 0
    jit_text = f", Numba {speed.fmt_seconds(jit.median_s)}" if jit is not None and jit.measured else ""
    print(f"dot {args.size:,} float64: Python loop {speed.fmt_seconds(loop.median_s)}, "
          f"NumPy {speed.fmt_seconds(vec.median_s)}{jit_text} (medians) → loop/NumPy = "
          f"{loop.median_s / vec.median_s:,.0f}× (target: several hundred ×, issue 7)"
          + (f"; CPU busy: load {all_results.machine.load:g} on {all_results.machine.cores} cores"
             if all_results.machine.busy else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
