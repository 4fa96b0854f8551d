"""Measure Numba's CUDA simulator and print the cost model for assets/calibration.toml.

The budget estimates a simulator run as
``seconds_per_thread * launched threads + seconds_per_event * trace events
+ seconds_per_block_barrier * block barriers`` (events: every global/shared
access and barrier; block barriers: each block's syncthreads() calls; see
gpuviz.model.budget).
This script times plain (not recording) simulator runs of the built-in
kernels over a few shapes, fits the two constants by least squares, and
prints the TOML section to paste, plus how well the fit predicts each run.

    python scripts/calibrate_simulator.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np

from gpuviz.engine import Engine, MatmulJob
from gpuviz.model import Dim3, MatmulProblem, launch_for
from gpuviz.model.budget import block_barriers, event_count

CASES = [
    ("naive", 16, 16, 16, (8, 8)),
    ("naive", 32, 32, 32, (16, 16)),
    ("naive", 48, 48, 48, (16, 16)),
    ("naive", 32, 32, 128, (8, 8)),
    ("naive", 64, 64, 8, (16, 16)),
    ("uncoalesced", 32, 32, 32, (16, 16)),
    ("tiled", 16, 16, 16, (8, 8)),
    ("tiled", 32, 32, 32, (8, 8)),
    ("tiled", 32, 32, 32, (16, 16)),
    ("tiled", 48, 48, 16, (4, 4)),
    ("tiled", 24, 24, 64, (8, 8)),
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3, help="runs per case (median taken)")
    args = ap.parse_args()
    rows = []
    with Engine() as eng:
        for kernel, m, n, k, block in CASES:
            job = MatmulJob(kernel, m, n, k, Dim3(*block), backend="simulator")
            secs = [eng.run(job, confirmed=True).seconds for _ in range(args.repeat)]
            launch = launch_for(kernel, MatmulProblem(m, n, k), block)
            ev = event_count(kernel, MatmulProblem(m, n, k), launch)
            bb = block_barriers(kernel, MatmulProblem(m, n, k), launch)
            rows.append((kernel, m, n, k, block, launch.threads, ev, bb, statistics.median(secs)))
            print(f"{kernel:12s} {m}x{n}x{k} block {block}: threads {launch.threads:6d} events {ev:8d} "
                  f"{statistics.median(secs):.3f} s", flush=True)
    x = np.array([[r[5], r[6], r[7]] for r in rows], float)
    y = np.array([r[8] for r in rows])
    # relative least squares: every run should be predicted within a similar factor
    w = 1 / y
    coef, *_ = np.linalg.lstsq(x * w[:, None], y * w, rcond=None)
    coef = np.maximum(coef, 0)
    pred = x @ coef
    for r, p in zip(rows, pred):
        print(f"  {r[0]:12s} {r[1]}x{r[2]}x{r[3]}: measured {r[8]:.3f} s, model {p:.3f} s ({p / r[8]:.2f}x)")
    print("\n[simulator]")
    print(f"seconds_per_thread = {coef[0]:.3e}")
    print(f"seconds_per_event = {coef[1]:.3e}")
    print(f"seconds_per_block_barrier = {coef[2]:.3e}")


if __name__ == "__main__":
    main()
