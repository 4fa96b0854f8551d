"""How long one training step of the 10×784 digits layer takes (and, later, the gradient panel's repaint).

The gradient panel plays training at up to 20 steps per second or more, so a step
plus its repaint must fit in 50 ms. This measures the model's part: one minibatch
step ``ΔW = −α∇_W L`` (forward, backward, update and the held-out accuracy the
curve shows) at batch 64 and 1024, as the median of repeated steps.

Run: ``python scripts/bench_grad.py`` (``--help`` for the options). Exits 0
whether or not the target is met; the last line is the summary.
"""

from __future__ import annotations

import argparse
import statistics
import time

#: A step plus its repaint must fit in this for play at 20 steps/s.
FRAME_BUDGET_MS = 1000 / 20


def bench_step(batch: int, repeats: int, test_every: int = 1) -> float:
    """Median ms of one Trainer.step at ``batch`` on the shipped digits."""
    from gpuviz.model.dense import Trainer, digits_layer
    from gpuviz.model.digits import load_digits

    trainer = Trainer(digits_layer(0), load_digits(), batch=batch, seed=0, test_every=test_every)
    for _ in range(3):  # warm caches and BLAS threads
        trainer.step()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        trainer.step()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


# -- panel repaint: to be added by the gradient panel's helper ---------------------------------------------
def bench_panel_repaint(args) -> float | None:
    """Median ms of the gradient panel's update and repaint after a step (digits, batch 64, 1920×1080 offscreen)."""
    import importlib.util
    from pathlib import Path

    # the measurement lives next to this file (scripts/ is not a package), so it also runs on its own
    spec = importlib.util.spec_from_file_location("bench_grad_panel", Path(__file__).with_name("bench_grad_panel.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    r = module.measure_panel_repaint(steps=max(20, args.repeats), batch=64)
    return r["update_ms"] + r["paint_ms"]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Time one training step of the 10×784 digits layer (median ms).")
    p.add_argument("--repeats", type=int, default=50, help="timed steps per batch size (default 50)")
    p.add_argument("--batches", type=int, nargs="+", default=[64, 1024], help="batch sizes (default 64 1024)")
    args = p.parse_args(argv)

    results = {}
    for batch in args.batches:
        with_test = bench_step(batch, args.repeats, test_every=1)
        without = bench_step(batch, args.repeats, test_every=10**9)
        results[batch] = with_test
        print(f"batch {batch:5d}: one step {with_test:7.2f} ms median (with held-out accuracy on 1,000 images), "
              f"{without:7.2f} ms without it")
    repaint = bench_panel_repaint(args)
    if repaint is not None:
        print(f"panel repaint after a step: {repaint:.2f} ms median")
    worst = max(results.values())
    total = worst + (repaint or 0.0)
    verdict = "met" if total <= FRAME_BUDGET_MS else "NOT met"
    parts = ", ".join(f"batch {b} {ms:.2f} ms" for b, ms in results.items())
    extra = f" + repaint {repaint:.2f} ms" if repaint is not None else " (repaint not measured here)"
    print(f"grad training step: {parts}{extra}; target ≤ {FRAME_BUDGET_MS:.0f} ms per step for ≥ 20 steps/s: "
          f"{verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
