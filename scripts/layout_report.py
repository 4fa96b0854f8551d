"""Every layout problem of the app's panels on the screens of issue 15, as the layout test sees them.

Each screen size runs in its own process on Qt's offscreen platform configured with that one screen
(``QT_QPA_PLATFORM=offscreen:configfile=…``, see ``tests/ui/layout_check.py``): the window is sized to
the screen in the light and dark themes, and lecture mode (F5) fills it; the slide-look exports of the
presets are checked at 1280×720 and 1920×1080. Prints one line per problem (``case: problem``) and, on
the last line, how many problems in how many cases.

    .venv/bin/python scripts/layout_report.py                       # everything (about a minute)
    .venv/bin/python scripts/layout_report.py --panel speed --size 1280x720 --mode lecture
    .venv/bin/python scripts/layout_report.py --mode slide --preset 40-speed-lecture-demo

Exits 0 whatever it finds (the test, tests/ui/test_layout.py, is what fails).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.ui import layout_check as lc  # noqa: E402


def main(argv=None) -> int:
    sizes = [name for name, *_ in lc.SCREENS] + [f"{w}x{h}" for w, h in lc.SLIDE_SIZES]
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--panel", action="append", help="a panel id (matmul, broadcast, grad, speed, hardware)")
    ap.add_argument("--size", action="append", choices=sorted(set(sizes)),
                    help="a screen (1024x768, 1280x720, 1366x768, 1920x1080, 3840x2160@2); "
                         "slides: 1280x720 or 1920x1080")
    ap.add_argument("--mode", action="append", choices=[*lc.MODES, "slide"])
    ap.add_argument("--preset", action="append", help="slide mode: a preset's file name without .toml")
    ap.add_argument("--jobs", type=int, default=2, help="processes at once (default: %(default)s)")
    args = ap.parse_args(argv)

    modes = args.mode or [*lc.MODES, "slide"]
    screen_modes = [m for m in modes if m != "slide"]
    chosen = set(args.size or sizes)
    presets = list(args.preset or [])
    if args.panel and "slide" in modes and not presets:
        presets = [stem for stem, pid in lc.preset_panels().items() if pid in args.panel]
    runs = []
    with tempfile.TemporaryDirectory(prefix="gpuviz-layout-") as folder:
        if screen_modes:
            for name, w, h, dpr in lc.SCREENS:
                if name in chosen:
                    runs.append(dict(size_name=name, width=w, height=h, dpr=dpr, panels=args.panel,
                                     modes=screen_modes))
        if "slide" in modes:
            for w, h in lc.SLIDE_SIZES:
                if f"{w}x{h}" in chosen:
                    runs.append(dict(size_name=f"{w}x{h}", width=w, height=h, dpr=1, slides=True, presets=presets))

        def one(run):
            try:
                return lc.run_screen_process(folder=folder, **run)[0]
            except RuntimeError as e:
                return {f"{run['size_name']}{'-slides' if run.get('slides') else ''}": [f"error: {e}"]}

        with ThreadPoolExecutor(max(1, args.jobs)) as pool:
            results = {}
            for part in pool.map(one, runs):
                results.update(part)
    problems = 0
    for cid, found in results.items():
        for p in found:
            print(f"{cid}: {p}")
        problems += len(found)
    bad = sum(1 for found in results.values() if found)
    print(f"layout_report: {problems} problem(s) in {bad} of {len(results)} case(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
