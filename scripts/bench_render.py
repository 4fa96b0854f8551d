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

Lecture mode (issue 15): the matmul panel in a window full screen in lecture mode (F5) on a
3840×2160 screen at device pixel ratio 2 (Qt's offscreen platform configured with that one screen), C of
32² (the lecture's grid), 1024² and 4096²: one step forward and the paint that follows, median ms (target
≤ 16 ms), and with a forced repaint of the whole window; then the figure's share of the screen (the
bounding rectangle of ``Panel.data_rects()`` ÷ the screen's area) in lecture mode at 1024×768,
1280×720, 1366×768, 1920×1080 and 3840×2160 at ratio 2 (target ≥ 75 %). Each screen is its own process.

Run with no arguments; ``--help`` lists the options (``--lecture-only`` for the lecture case alone; with
``--profile N`` the lecture case also prints, per size, where a step's time goes: the step itself (the scene and
every view recomputing) and the paint, and the N functions with the most cumulative time in a profiled run of
the same steps after the timed ones).
Exits 0 whether or not the targets are met; the last line is the summary.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_MS = 16.0
#: Lecture mode: the least share of the screen the figure's data area covers (issue 15).
TARGET_SHARE = 0.75
#: The screens of issue 15: (name, logical width, logical height, device pixel ratio).
SCREENS = (("1024x768", 1024, 768, 1), ("1280x720", 1280, 720, 1), ("1366x768", 1366, 768, 1),
           ("1920x1080", 1920, 1080, 1), ("3840x2160@2", 1920, 1080, 2))
LECTURE_SIZES = (32, 1024, 4096)
ROOT = Path(__file__).resolve().parents[1]


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


def _screen_platform(width: int, height: int, dpr: float, folder: Path) -> str:
    """Qt's offscreen platform with one screen of ``width``×``height`` logical pixels at ``dpr``: the screen is
    ``width·dpr``×``height·dpr`` device pixels at ``96·dpr`` dpi, which Qt's high-DPI scaling makes logical."""
    path = folder / f"screen-{width}x{height}@{dpr:g}.json"
    path.write_text(json.dumps({"windowFrameMargins": False, "screens": [
        {"name": "bench", "x": 0, "y": 0, "width": round(width * dpr), "height": round(height * dpr),
         "logicalDpi": round(96 * dpr), "logicalBaseDpi": 96, "dpr": 1}]}))
    return f"offscreen:configfile={path}"


def _lecture_scenario(panel, size: int, k: int):
    """The lecture's grid for 32² (its preset: 8×8 blocks, K = 32), else C of size² with 16×16 blocks."""
    from dataclasses import replace

    preset = panel.presets()[0]
    if size == 32:
        return preset
    params = {"kernel": "naive", "m": size, "n": size, "k": k, "block": [16, 16]}
    view = {"step": 0, "selected_block": [0, 0], "selected_thread": [0, 0], "focus": "block", "cumulative": False}
    return replace(preset, title=f"bench {size}²", params=params, view=view, key_steps=())


def _profiled(run, top: int) -> str:
    """``run()`` under cProfile: the ``top`` entries by cumulative time, as pstats prints them."""
    import cProfile
    import io
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    run()
    prof.disable()
    text = io.StringIO()
    pstats.Stats(prof, stream=text).sort_stats("cumulative").print_stats(top)
    return text.getvalue()


def lecture_worker(sizes, k: int, samples: int, profile: int = 0) -> dict:
    """In a process on one configured screen: the matmul panel in lecture mode, full screen; the figure's
    share, and for each size in ``sizes`` the step + paint times."""
    from PyQt6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    from gpuviz.ui.main_window import MainWindow
    from gpuviz.ui.matmul.panel import MatmulPanel
    from gpuviz.ui.settings import Settings

    panel = MatmulPanel()
    window = MainWindow(settings=Settings.disabled(), panels=[panel], restore=False)
    window.start_backend_lookup = lambda: None  # no numba worker: the paint is what is measured
    screen = app.primaryScreen()
    window.resize(screen.availableGeometry().size())
    window.show()
    window.set_lecture_mode(True)
    for _ in range(5):
        app.processEvents()

    def share() -> float:
        return panel.figure_share(window)

    out = {"window": [window.width(), window.height()], "dpr": window.devicePixelRatioF(),
           "screen": [screen.geometry().width(), screen.geometry().height()], "share": share(), "times": {},
           "profile": {}}
    for size in sizes:
        panel.apply_scenario(_lecture_scenario(panel, size, k))
        scene = panel.scene
        for _ in range(5):
            app.processEvents()
        window.repaint()
        times, forced, steps, paints = [], [], [], []
        for i in range(2 * samples):
            if scene.step >= scene.n_steps - 2:
                scene.set_step(0)
                app.processEvents()
            t0 = time.perf_counter()
            panel.step_by(1)
            t1 = time.perf_counter()
            app.processEvents()
            if i % 2:
                window.repaint()
                forced.append(time.perf_counter() - t0)
            else:
                times.append(time.perf_counter() - t0)
                steps.append(t1 - t0)
                paints.append(times[-1] - steps[-1])
        out["times"][str(size)] = {"median_ms": 1e3 * statistics.median(times), "max_ms": 1e3 * max(times),
                                   "forced_ms": 1e3 * statistics.median(forced),
                                   "step_ms": 1e3 * statistics.median(steps),
                                   "paint_ms": 1e3 * statistics.median(paints)}
        if profile:
            def run(scene=scene):
                for _ in range(samples):
                    if scene.step >= scene.n_steps - 2:
                        scene.set_step(0)
                        app.processEvents()
                    panel.step_by(1)
                    app.processEvents()
            out["profile"][str(size)] = _profiled(run, profile)
    window.set_lecture_mode(False)
    window.close()
    return out


def bench_lecture(k: int, samples: int, profile: int = 0) -> list[str]:
    """The lecture-mode case, one process per screen; returns the lines to print (the summary last)."""
    lines, shares, timed = [], {}, {}
    with tempfile.TemporaryDirectory(prefix="gpuviz-bench-") as folder:
        for name, w, h, dpr in SCREENS:
            sizes = LECTURE_SIZES if name == "3840x2160@2" else ()
            env = dict(os.environ, QT_QPA_PLATFORM=_screen_platform(w, h, dpr, Path(folder)))
            env.pop("QT_SCALE_FACTOR", None)
            cmd = [sys.executable, __file__, "--lecture-worker", "--k", str(k), "--samples", str(samples),
                   "--profile", str(profile if sizes else 0), "--sizes", *[str(s) for s in sizes]]
            proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
            result = next((json.loads(line[len("RESULT "):]) for line in proc.stdout.splitlines()
                           if line.startswith("RESULT ")), None)
            if result is None:
                lines.append(f"lecture mode at {name}: the worker failed (exit {proc.returncode}): "
                             f"{(proc.stderr or proc.stdout).strip().splitlines()[-1:]}")
                continue
            shares[name] = result["share"]
            ww, wh = result["window"]
            lines.append(f"lecture mode at {name} (window {ww}×{wh} at ratio {result['dpr']:g}): "
                         f"the figure's data area covers {100 * result['share']:.1f} % of the screen")
            for size, r in result["times"].items():
                timed[int(size)] = r["median_ms"]
                lines.append(f"lecture mode at {name}, C {size}×{size}: step + paint median {r['median_ms']:.1f} ms "
                             f"(worst {r['max_ms']:.1f} ms; the step {r['step_ms']:.1f} ms, the paint "
                             f"{r['paint_ms']:.1f} ms); with a forced repaint of the whole window "
                             f"{r['forced_ms']:.1f} ms")
                if size in result.get("profile", {}):
                    lines.append(f"profile of {samples} steps + paints, C {size}×{size}:\n{result['profile'][size]}")
    met_t = bool(timed) and all(v <= TARGET_MS for v in timed.values()) and len(timed) == len(LECTURE_SIZES)
    met_s = len(shares) == len(SCREENS) and all(v >= TARGET_SHARE for v in shares.values())
    times = ", ".join(f"{s}²: {v:.1f} ms" for s, v in sorted(timed.items())) or "not measured"
    share_text = ", ".join(f"{n}: {100 * v:.0f} %" for n, v in shares.items()) or "not measured"
    lines.append(f"lecture mode: step + paint at 3840×2160 (ratio 2) median {times} (target ≤ {TARGET_MS:.0f} ms: "
                 f"{'met' if met_t else 'NOT met'}); figure share {share_text} (target ≥ {100 * TARGET_SHARE:.0f} %: "
                 f"{'met' if met_s else 'NOT met'})")
    return lines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="*", default=[64, 1024, 4096],
                    help="C is SIZE×SIZE (default: %(default)s)")
    ap.add_argument("--k", type=int, default=64, help="the shared dimension K (default: %(default)s)")
    ap.add_argument("--samples", type=int, default=40, help="steps timed per size (default: %(default)s)")
    ap.add_argument("--theme", default="light", choices=["light", "dark", "lecture"])
    ap.add_argument("--grab", action="store_true", help="also time panel.grab() after each step")
    ap.add_argument("--lecture-only", action="store_true", help="only the lecture-mode case")
    ap.add_argument("--no-lecture", action="store_true", help="leave the lecture-mode case out")
    ap.add_argument("--profile", type=int, default=0, metavar="N",
                    help="lecture case: also profile the steps and print the N costliest functions (cumulative)")
    ap.add_argument("--lecture-worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if args.lecture_worker:
        sys.path.insert(0, str(ROOT))
        print("RESULT " + json.dumps(lecture_worker(args.sizes, args.k, args.samples, args.profile)), flush=True)
        return 0
    if args.lecture_only:
        lines = bench_lecture(args.k, args.samples, args.profile)
        print("\n".join(lines))
        return 0
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
    summary = (f"bench_render: step + paint at 1920×1080 (median) {figures}; target ≤ {TARGET_MS:.0f} ms "
               f"at every size: {'met' if met else 'NOT met'}")
    if args.no_lecture:
        print(summary)
        return 0
    print(summary, flush=True)
    lines = bench_lecture(args.k, args.samples, args.profile)
    print("\n".join(lines[:-1]))
    print(f"{summary}; {lines[-1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
