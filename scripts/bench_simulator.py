"""Simulator run time of the naive and tiled kernels, plain and recording a trace.

For each kernel at 32³ and 64³ it runs the product in Numba's CUDA simulator
(one worker process, as the app does) with and without the trace recorder,
alternating the two so that drift on a busy machine hits both alike, and
reports the median wall time of the launch and the ratio recording / plain.
Target: recording costs at most 1.5× the plain run.

    python scripts/bench_simulator.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics

from gpuviz.engine import Engine, MatmulJob
from gpuviz.model import Dim3

CASES = [("naive", 32, (16, 16)), ("naive", 64, (16, 16)), ("tiled", 32, (8, 8)), ("tiled", 64, (8, 8))]
TARGET = 1.5


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each (median reported)")
    args = ap.parse_args()
    ratios = {}
    with Engine() as eng:
        eng.run(MatmulJob("naive", 8, 8, 8, Dim3(8, 8), backend="simulator"))  # start the worker
        for kernel, size, block in CASES:
            plain, rec = [], []
            for _ in range(args.repeat):
                for record, out in ((False, plain), (True, rec)):
                    job = MatmulJob(kernel, size, size, size, Dim3(*block), backend="simulator", record=record)
                    res = eng.run(job, confirmed=True)
                    assert res.ok, res.message
                    out.append(res.seconds)
            p, r = statistics.median(plain), statistics.median(rec)
            ratios[(kernel, size)] = r / p
            print(f"{kernel:6s} {size}^3 block {block[0]}x{block[1]}: plain {p:.2f} s, recording {r:.2f} s "
                  f"({r / p:.2f}x)  [plain runs {', '.join(f'{x:.2f}' for x in plain)}]", flush=True)
    worst = max(ratios, key=ratios.get)
    figures = ", ".join(f"{k} {s}^3 {v:.2f}x" for (k, s), v in ratios.items())
    verdict = "met" if ratios[worst] <= TARGET else "NOT met"
    print(f"bench_simulator: recording/plain {figures}; worst {ratios[worst]:.2f}x "
          f"(target <= {TARGET}x, {verdict})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
