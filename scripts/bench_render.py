"""Median time for the matmul panel to advance one step and repaint, offscreen at 1920×1080.

For C of 64², 1024² and 4096² elements (naive kernel, K = 64 unless --k says
otherwise, 16×16 blocks, focus on a block), the panel is built, shown and left
to settle; then each sample is one step forward (``panel.step_by(1)``: the scene
changes and every view recomputes what it shows) followed by
``processEvents()``, in which Qt paints every widget that changed, the whole
matrix view included — what the next screen refresh shows. Target: ≤ 16 ms
(one frame at 60 Hz) at every size.

Also printed, not part of the target: the same step followed by a forced
``panel.repaint()`` of every widget of the window, changed or not; panning C
by 3 % of its view (everything on screen re-sampled) and painting; and with
``--grab`` a full ``panel.grab()`` into a pixmap, as an export does.

Run with no arguments; ``--help`` lists the options. Exits 0 whether or not the
target is met; the last line is the summary.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

TARGET_MS = 16.0


def bench_size(app, size: int, k: int, samples: int, grab: bool, theme_name: str) -> dict:
    from gpuviz.model.scene import MatmulParams, MatmulScene
    from gpuviz.ui.matmul.panel import MatmulPanel
    from gpuviz.ui.theme import THEMES

    scene = MatmulScene(MatmulParams(kernel="naive", m=size, n=size, k=k, block=(16, 16)))
    scene.select_thread((0, 0), (0, 0))
    scene.set_focus("block")
    panel = MatmulPanel(scene=scene)
    panel.set_theme(THEMES[theme_name])
    panel.resize(1920, 1080)
    panel.show()
    for _ in range(5):
        app.processEvents()
    panel.repaint()
    times, forced, grabs = [], [], []
    for i in range(2 * samples):
        if scene.step >= scene.n_steps - 2:
            scene.set_step(0)
            app.processEvents()
        t0 = time.perf_counter()
        panel.step_by(1)
        app.processEvents()
        if i % 2:  # every other sample: also a full repaint of every widget
            panel.repaint()
            forced.append(time.perf_counter() - t0)
        else:
            times.append(time.perf_counter() - t0)
        if grab:
            t0 = time.perf_counter()
            panel.grab()
            grabs.append(time.perf_counter() - t0)
    # panning: move C's view by 3 % (A and B follow), re-sample what is on screen, paint
    pans = []
    vb = panel.matrices.c_plot.getViewBox()
    panel.matrices.zoom_c(0, size / 2, 0, size / 2)
    app.processEvents()
    for i in range(samples):
        (x0, x1), (y0, y1) = vb.viewRange()
        dx = 0.03 * (x1 - x0) * (1 if (i // 10) % 2 == 0 else -1)
        t0 = time.perf_counter()
        vb.translateBy(x=dx, y=dx)
        app.processEvents()
        pans.append(time.perf_counter() - t0)
    c_pixels = panel.matrices.c.rows.pixels * panel.matrices.c.cols.pixels if panel.matrices.c.rows else 0
    panel.shutdown()
    panel.close()
    panel.deleteLater()
    app.processEvents()
    out = {"size": size, "median_ms": 1e3 * statistics.median(times), "max_ms": 1e3 * max(times),
           "forced_ms": 1e3 * statistics.median(forced), "pan_ms": 1e3 * statistics.median(pans),
           "c_pixels": c_pixels}
    if grabs:
        out["grab_ms"] = 1e3 * statistics.median(grabs)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[64, 1024, 4096],
                    help="C is SIZE×SIZE (default: %(default)s)")
    ap.add_argument("--k", type=int, default=64, help="the shared dimension K (default: %(default)s)")
    ap.add_argument("--samples", type=int, default=40, help="steps timed per size (default: %(default)s)")
    ap.add_argument("--theme", default="light", choices=["light", "dark", "lecture"])
    ap.add_argument("--grab", action="store_true", help="also time panel.grab() after each step")
    args = ap.parse_args(argv)

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    results = []
    for size in args.sizes:
        r = bench_size(app, size, args.k, args.samples, args.grab, args.theme)
        results.append(r)
        extra = f", grab {r['grab_ms']:.1f} ms" if "grab_ms" in r else ""
        print(f"C {size}×{size} (K={args.k}): step + paint median {r['median_ms']:.1f} ms "
              f"(worst {r['max_ms']:.1f} ms); with a forced repaint of the whole window {r['forced_ms']:.1f} ms; "
              f"pan + paint {r['pan_ms']:.1f} ms; C drawn at {r['c_pixels']:,} pixels{extra}", flush=True)
    met = all(r["median_ms"] <= TARGET_MS for r in results)
    figures = ", ".join(f"{r['size']}²: {r['median_ms']:.1f} ms" for r in results)
    print(f"bench_render: step + paint at 1920×1080 (median) {figures}; target ≤ {TARGET_MS:.0f} ms "
          f"at every size: {'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
