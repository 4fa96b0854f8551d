"""GUI responsiveness while "Run for real" simulates a product: the longest event-loop stall.

Offscreen, a 1920×1080 matmul panel (or, if the panel cannot be built, the
RunController alone) runs a tiled 64×64×64 product (8×8 tiles, the lecture's
preset) on the CUDA simulator through the real engine, with the timeline
playing, while a 10 ms timer measures how late each of its ticks comes. The
stall of a run is the worst lateness seen between pressing Run and the result;
the first run includes starting the worker process. Target: ≤ 50 ms.

    python scripts/bench_responsiveness.py [--runs 3] [--kernel tiled] [--size 64] [--block 8] [--widget auto]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

TARGET_MS = 50.0
TICK_MS = 10


def build(widget: str, engine, params):
    """(top-level widget, its RunController, a function that starts the animation, which widget it is)."""
    from gpuviz.model.scene import MatmulScene
    from gpuviz.ui.matmul.runner import RunController
    from gpuviz.ui.theme import LIGHT

    scene = MatmulScene(params)
    if widget in ("auto", "panel"):
        try:
            from gpuviz.ui.matmul.panel import MatmulPanel

            panel = MatmulPanel(scene, engine, theme=LIGHT)
            return panel, panel.runner, panel.timeline.play_pause, "matmul panel"
        except Exception as e:  # the panel is optional here: the controller alone is the fallback
            if widget == "panel":
                raise
            print(f"(the matmul panel could not be built: {type(e).__name__}: {e}; measuring the RunController)")
    rc = RunController(scene, engine, LIGHT)
    return rc, rc, lambda: None, "RunController"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3, help="simulator runs to measure (default 3)")
    ap.add_argument("--kernel", default="tiled", choices=("naive", "uncoalesced", "tiled"))
    ap.add_argument("--size", type=int, default=64, help="M = N = K (default 64)")
    ap.add_argument("--block", type=int, default=8, help="square block / tile side (default 8)")
    ap.add_argument("--widget", default="auto", choices=("auto", "panel", "runner"),
                    help="measure inside the full matmul panel (auto: if it builds) or the RunController alone")
    ap.add_argument("--idle-seconds", type=float, default=3.0,
                    help="first measure this long with the animation alone, no run (default 3)")
    args = ap.parse_args(argv)

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt6.QtCore import Qt, QTimer
    from PyQt6.QtWidgets import QApplication

    from gpuviz.engine import Engine
    from gpuviz.model.scene import MatmulParams

    app = QApplication.instance() or QApplication(sys.argv[:1])
    params = MatmulParams(kernel=args.kernel, m=args.size, n=args.size, k=args.size,
                          block=(args.block, args.block), backend="simulator")
    engine = Engine()
    top, rc, animate, what = build(args.widget, engine, params)
    top.resize(1920, 1080)
    top.show()
    for _ in range(10):
        app.processEvents()

    ticks: list[float] = []
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(TICK_MS)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))

    def measure_idle(duration: float) -> float:
        """Longest stall with the animation running and nothing simulated: the panel's own share."""
        ticks.clear()
        timer.start()
        animate()
        end = time.perf_counter() + duration
        while time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.001)
        timer.stop()
        animate()
        gaps = [b - a for a, b in zip(ticks, ticks[1:])]
        return max(gaps) * 1e3 - TICK_MS if gaps else float("nan")

    def load() -> str:
        # other processes on the machine steal the CPU the event loop needs: say how busy it was
        return f"load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "load unknown"

    stalls, seconds = [], []
    print(f"{os.cpu_count()} CPUs, {load()}")
    try:
        idle = measure_idle(args.idle_seconds)
        print(f"no run, animation only ({args.idle_seconds:g} s): longest stall {idle:.1f} ms")
        for i in range(args.runs):
            done = []
            rc.finished.connect(done.append)
            ticks.clear()
            timer.start()
            animate()
            t0 = time.perf_counter()
            rc.run(confirmed=True)  # the bench does not stop at the "about N s, run anyway?" question
            while not done:
                app.processEvents()
                time.sleep(0.001)
            wall = time.perf_counter() - t0
            timer.stop()
            animate()
            rc.finished.disconnect()
            result = done[0]
            if result is None or not result.ok:
                print(f"run {i + 1}: did not finish correctly ({rc.outcome}): {rc.result_text()}")
                continue
            gaps = [b - a for a, b in zip(ticks, ticks[1:])]
            late = max(gaps) * 1e3 - TICK_MS if gaps else float("nan")
            stalls.append(late)
            seconds.append(result.seconds)
            print(f"run {i + 1}: {args.kernel} {args.size}³ block {args.block}×{args.block} in {what}: "
                  f"simulated in {result.seconds:.2f} s ({wall:.2f} s with the worker round trip), "
                  f"{len(ticks)} ticks of {TICK_MS} ms, longest stall {late:.1f} ms, "
                  f"median tick gap {statistics.median(gaps) * 1e3:.1f} ms, {load()}")
    finally:
        if hasattr(top, "shutdown"):
            top.shutdown()
        else:
            rc.shutdown()
        engine.close()
        top.close()

    if not stalls:
        print(f"bench_responsiveness: no run finished correctly — target ≤ {TARGET_MS:.0f} ms")
        return 0
    med, worst = statistics.median(stalls), max(stalls)
    verdict = "met" if worst <= TARGET_MS else ("met by the median" if med <= TARGET_MS else "NOT met")
    print(f"bench_responsiveness: longest event-loop stall while simulating {args.kernel} {args.size}³ "
          f"({what}): median {med:.1f} ms, max {worst:.1f} ms over {len(stalls)} runs — target ≤ "
          f"{TARGET_MS:.0f} ms ({verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
