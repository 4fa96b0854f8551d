"""Benchmark the Hardware panel's SM view: step + repaint of the 4096² product with 16×16 blocks (65,536
blocks) on the H100 preset at 1920×1080 (target: median ≤ 16 ms).

Run from the repository root: ``python scripts/bench_hardware_panel.py``. Uses Qt's offscreen platform
unless QT_QPA_PLATFORM is set; each step moves the model one wave and renders the whole panel into an
image (``QWidget.render``), which is what a repaint costs. Exits 0 whatever it measures; the last line is
the summary with the target. On a busy shared machine the figures are noisy.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_MS = 16.0


def main() -> int:
    from PyQt6.QtGui import QImage
    from PyQt6.QtWidgets import QApplication

    from gpuviz.model.hardware.panel import HardwareModel, HardwareParams
    from gpuviz.ui.hardware.panel import HardwarePanel

    app = QApplication.instance() or QApplication([])
    model = HardwareModel(HardwareParams(gpu="H100", kernel="naive", m=4096, n=4096, k=4096, block=(16, 16)))
    panel = HardwarePanel(model)
    panel.resize(1920, 1080)
    panel.show()
    app.processEvents()
    image = QImage(1920, 1080, QImage.Format.Format_ARGB32_Premultiplied)
    times = []
    for i in range(3 * model.n_steps):
        t0 = time.perf_counter()
        model.set_step(i % model.n_steps)
        panel.render(image)
        times.append(time.perf_counter() - t0)
    step_only = []
    for i in range(model.n_steps):
        t0 = time.perf_counter()
        model.set_step((i + 1) % model.n_steps)
        step_only.append(time.perf_counter() - t0)
    med, p90 = statistics.median(times) * 1e3, sorted(times)[int(0.9 * len(times))] * 1e3
    print(f"step + render at 1920x1080: median {med:.1f} ms, 90th percentile {p90:.1f} ms over {len(times)} steps "
          f"({model.launch.blocks:,} blocks, {model.n_steps} waves)")
    print(f"model step + SM image alone: median {statistics.median(step_only) * 1e3:.2f} ms")
    print(f"bench_hardware_panel: SM view step + repaint median {med:.1f} ms (target ≤ {TARGET_MS:.0f} ms, "
          f"{'met' if med <= TARGET_MS else 'MISSED'}); offscreen render, noisy shared machine")
    panel.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
