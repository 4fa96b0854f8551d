"""Benchmark: can the weight-gradient panel keep up with play at 20 training steps/s on the digits?

Trains the 10×784 layer in the panel's Train view (offscreen, 1920×1080) and
times, per step, (a) the model's training step alone, (b) the panel's update
after it (tiles, colour scales, curve) and (c) a synchronous repaint of the
whole panel. The target is step + update + repaint ≤ 50 ms (20 steps/s).
Run with no arguments; ``--help`` lists the options. Not a test: exits 0 either way.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

TARGET_STEPS_PER_S = 20.0


def measure_panel_repaint(steps: int = 200, batch: int = 64, theme: str = "light") -> dict:
    """Median milliseconds of one training step in the panel: model step, panel update, repaint, total."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt6.QtCore import Qt
    from PyQt6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    from gpuviz.model.scenario import Scenario
    from gpuviz.ui import theme as themes
    from gpuviz.ui.grad.panel import GradPanel

    panel = GradPanel()
    panel.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    panel.set_theme(themes.THEMES[theme])
    panel.apply_scenario(Scenario("grad", "bench", {"layer": "digits", "seed": 0, "alpha": 0.5, "batch": batch},
                                  view={"view": "train"}))
    panel.resize(1920, 1080)
    panel.show()
    for _ in range(3):
        app.processEvents()
    state = panel.state
    model_ms, update_ms, paint_ms, total_ms = [], [], [], []
    listener = panel._state_changed
    try:
        for _ in range(steps):
            # the model's step alone: listeners detached so nothing is drawn
            state.unsubscribe(listener)
            t0 = time.perf_counter()
            state.train(1)
            t1 = time.perf_counter()
            state.subscribe(listener)
            listener(state, {"train"})
            t2 = time.perf_counter()
            panel.repaint()
            app.processEvents()
            t3 = time.perf_counter()
            model_ms.append((t1 - t0) * 1e3)
            update_ms.append((t2 - t1) * 1e3)
            paint_ms.append((t3 - t2) * 1e3)
            total_ms.append((t3 - t0) * 1e3)
    finally:
        panel.shutdown()
        panel.close()
    return {"steps": steps, "batch": batch, "theme": theme,
            "model_ms": statistics.median(model_ms), "update_ms": statistics.median(update_ms),
            "paint_ms": statistics.median(paint_ms), "total_ms": statistics.median(total_ms),
            "loss": state.records[-1].loss if state.records else float("nan")}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="training steps to time (default 200)")
    parser.add_argument("--batch", type=int, default=64, help="minibatch size (default 64)")
    parser.add_argument("--theme", default="light", choices=("light", "dark", "lecture"))
    args = parser.parse_args(argv)
    r = measure_panel_repaint(args.steps, args.batch, args.theme)
    rate = 1000.0 / r["total_ms"] if r["total_ms"] > 0 else float("inf")
    print(f"digits 10×784, batch {r['batch']}, {r['steps']} steps, {r['theme']} theme, 1920×1080 offscreen")
    print(f"median model step      {r['model_ms']:7.2f} ms")
    print(f"median panel update    {r['update_ms']:7.2f} ms")
    print(f"median repaint         {r['paint_ms']:7.2f} ms")
    print(f"final minibatch loss   {r['loss']:.3f}")
    verdict = "meets" if rate >= TARGET_STEPS_PER_S else "MISSES"
    print(f"grad panel: median {r['total_ms']:.1f} ms per step+repaint = {rate:.0f} steps/s "
          f"(target ≥ {TARGET_STEPS_PER_S:g} steps/s): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
