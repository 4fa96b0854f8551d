"""Time gpuviz exports: a 3840×2160 PNG of the matmul panel at 64×64, a 32-frame 1280×720 GIF, and a deck.

Targets (issue 6): 4K PNG ≤ 0.6 s median; 32-frame GIF ≤ 8 s, with 32 frames (issue 16); the deck of every
shipped preset's key steps (what `gpuviz export --deck all` writes, 1920×1080 PNGs) has no target: its total
time is printed. The GIF line also gives the process's peak memory so far (a GIF is written frame by frame).
Each export is the whole path a user waits for: a fresh offscreen panel built from the preset, rendered,
encoded and written atomically. Exit code 0 whether or not a target is met; the last line is the summary.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

PNG_TARGET_S = 0.6
GIF_TARGET_S = 8.0


def _peak_mib() -> float:
    """This process's peak resident memory in MiB (what ``/usr/bin/time -v`` calls its maximum)."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB elsewhere


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed 4K PNG exports, median reported (default 5)")
    parser.add_argument("--gif-repeat", type=int, default=1, help="timed GIF exports (default 1)")
    parser.add_argument("--no-deck", action="store_true", help="skip the deck of every preset")
    args = parser.parse_args(argv)

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PyQt6.QtCore import qInstallMessageHandler
    from PyQt6.QtWidgets import QApplication

    from gpuviz.model.scenario import load_presets
    from gpuviz.ui.deck import export_deck, resolve_sources
    from gpuviz.ui.export import export_panel, parse_steps

    qInstallMessageHandler(lambda mode, ctx, msg: None if "propagateSizeHints" in msg else print(msg, file=sys.stderr))
    app = QApplication.instance() or QApplication(["bench_export"])  # noqa: F841 (kept alive for the exports)
    presets = {s.name: s for s in load_presets("matmul")[0]}
    tiled = presets["04-tiled-64"]
    lecture = presets["01-lecture-grid"]

    with tempfile.TemporaryDirectory() as tmp:
        png = Path(tmp) / "matmul-4k.png"
        export_panel("matmul", tiled, png, size=(3840, 2160))  # warm-up: imports, fonts, first layout
        png_times = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            export_panel("matmul", tiled, png, size=(3840, 2160))
            png_times.append(time.perf_counter() - t)
        png_median = statistics.median(png_times)
        print(f"4K PNG (matmul 64×64, {tiled.name}): median {png_median:.3f} s of {args.repeat} "
              f"(min {min(png_times):.3f}, max {max(png_times):.3f}); {png.stat().st_size / 1e6:.2f} MB")

        gif = Path(tmp) / "matmul.gif"
        gif_times = []
        for _ in range(args.gif_repeat):
            t = time.perf_counter()
            export_panel("matmul", lecture, gif, size=(1280, 720), steps=parse_steps("0:32"))
            gif_times.append(time.perf_counter() - t)
        gif_median = statistics.median(gif_times)
        from PIL import Image

        with Image.open(gif) as shown:
            frames = shown.n_frames  # one frame a step, equal consecutive steps included
        print(f"GIF (matmul {lecture.name}, 32 frames 1280×720): median {gif_median:.2f} s of {args.gif_repeat}; "
              f"{gif.stat().st_size / 1e6:.2f} MB, {frames} frames; peak memory of this process so far "
              f"{_peak_mib():.0f} MiB")

        deck_text = "deck skipped"
        if not args.no_deck:
            scenarios, unreadable = resolve_sources(["all"])
            deck = export_deck(scenarios, Path(tmp) / "deck", size=(1920, 1080), failures=unreadable)
            per = statistics.median(deck.picture_seconds) if deck.picture_seconds else float("nan")
            size_mb = sum(f.stat().st_size for f in (Path(tmp) / "deck").rglob("*.png")) / 1e6
            print(f"deck of all presets ({len(scenarios)} scenarios, 1920×1080 PNG): {len(deck.written)} pictures "
                  f"in {deck.seconds:.2f} s, median {per:.3f} s a picture; {size_mb:.1f} MB; "
                  f"{len(deck.failures)} failed")
            for f in deck.failures:
                print(f"  failed: {f.name} step {f.step}: {f.message}")
            deck_text = f"deck of all presets {deck.seconds:.1f} s ({len(deck.written)} pictures, median {per:.2f} s)"

    print(f"summary: 4K PNG {png_median:.3f} s (target ≤ {PNG_TARGET_S} s, "
          f"{'met' if png_median <= PNG_TARGET_S else 'MISSED'}); 32-frame GIF {gif_median:.2f} s "
          f"(target ≤ {GIF_TARGET_S:.0f} s, {'met' if gif_median <= GIF_TARGET_S else 'MISSED'}); {deck_text} "
          f"(no target)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
