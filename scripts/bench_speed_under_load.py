"""Issue 17's figure: does the lecture demo's headline hold when other programs load the CPU?

Measures the lecture demo (preset 40: the 1,000,000-element dot product as a Python
loop, with NumPy and with Numba, in the engine's worker exactly as the Speed tab
does) five times on the machine as it is ("quiet"), then five times while one
busy process per core competes for the CPU (as a video call would on a laptop).
The busy processes are started here, end by themselves after at most
``BUSY_LIMIT_S`` seconds, and are stopped here as soon as the loaded runs are done.

Prints each run's loop/NumPy ratio from the minimum (the headline) and from the
median, the load average and the noisy flags, then both ratios' median of the five
and their range. Last line: the summary, with the target "worst loaded ratio
within 2× of the quiet median". Runs for about a minute; exits 0 whether or not
the target is met. Not a test: the figures depend on what else the machine runs.
With ``--save DIR`` the median quiet run and the worst loaded run are also saved
as DIR/quiet.json and DIR/loaded.json (for ``gpuviz export speed --results``).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib

from gpuviz.engine import Engine
from gpuviz.model import speed

RUNS = 5
#: The busy processes end themselves after this long even if this script is killed.
BUSY_LIMIT_S = 180.0
PRESET = Path(__file__).resolve().parent.parent / "assets" / "presets" / "40-speed-lecture-demo.toml"


def burn(until: float) -> None:
    """Keep one core busy until the wall clock passes ``until`` (a competing program)."""
    x = 1.0
    while time.time() < until:
        for _ in range(10_000):
            x = x * 1.0000001 + 1e-9


def load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def lecture_demo() -> tuple[str, list[int], list[str]]:
    params = tomllib.loads(PRESET.read_text(encoding="utf-8"))["params"]
    return params["op"], list(params["sizes"]), list(params["impls"])


def run_five(engine: Engine, label: str, kept: list | None = None) -> list[speed.Ratio]:
    op, sizes, impls = lecture_demo()
    ratios = []
    for i in range(RUNS):
        r = engine.bench(op, sizes, impls)
        ratio = r.ratio(op, sizes[0], "numpy", "python")
        if kept is not None and ratio is not None:
            kept.append((ratio, r))
        loop, vec = r.get(op, "python", sizes[0]), r.get(op, "numpy", sizes[0])
        if ratio is None:
            why = (loop and loop.skipped) or (vec and vec.skipped) or "not measured"
            print(f"{label} run {i + 1}: loop or NumPy not measured ({why})", flush=True)
            continue
        ratios.append(ratio)
        flags = "; ".join(ratio.noisy) if ratio.noisy else "not flagged"
        print(f"{label} run {i + 1}: loop/NumPy {ratio.by_min:,.0f}× from the minimum, {ratio.by_median:,.0f}× from "
              f"the median (loop min {speed.fmt_seconds(loop.min_s)}, NumPy min {speed.fmt_seconds(vec.min_s)} "
              f"median {speed.fmt_seconds(vec.median_s)}, {vec.threads or '?'} BLAS thread(s)); load average "
              f"{vec.load}; {flags}", flush=True)
    return ratios


def describe(ratios: list[speed.Ratio]) -> str:
    if not ratios:
        return "no ratio measured"
    by_min = [r.by_min for r in ratios]
    by_median = [r.by_median for r in ratios]
    return (f"median {statistics.median(by_min):,.0f}× (range {min(by_min):,.0f}–{max(by_min):,.0f}×; from the "
            f"medians {statistics.median(by_median):,.0f}×, range {min(by_median):,.0f}–{max(by_median):,.0f}×)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--save", metavar="DIR", help="also save the median quiet run and the worst loaded run here")
    args = parser.parse_args(argv)
    cores = os.cpu_count() or 1
    t0 = time.monotonic()
    kept_quiet, kept_loaded = [], []
    with Engine() as engine:
        print(f"machine: {cores} cores; load average {load_average()} at the start", flush=True)
        quiet = run_five(engine, "quiet", kept_quiet)
        quiet_load = load_average()
        ctx = multiprocessing.get_context("spawn")
        until = time.time() + BUSY_LIMIT_S
        busy = [ctx.Process(target=burn, args=(until,), daemon=True, name=f"busy-{i}") for i in range(cores)]
        for p in busy:
            p.start()
        try:
            time.sleep(2.0)  # the competitors are running before the first loaded run starts
            print(f"started {cores} busy processes (one per core)", flush=True)
            loaded = run_five(engine, "loaded", kept_loaded)
            loaded_load = load_average()
        finally:
            for p in busy:
                p.terminate()
            for p in busy:
                p.join(5)
    print(f"quiet:  loop/NumPy {describe(quiet)}; load average {quiet_load} after", flush=True)
    print(f"loaded: loop/NumPy {describe(loaded)}; load average {loaded_load} after", flush=True)
    if not quiet or not loaded:
        print(f"bench_speed_under_load: not enough measurements to compare ({len(quiet)} quiet, {len(loaded)} "
              f"loaded runs); target: worst loaded ratio within 2× of the quiet median")
        return 0
    q = statistics.median(r.by_min for r in quiet)
    worst = max((r.by_min for r in loaded), key=lambda x: max(x / q, q / x))
    if args.save:
        folder = Path(args.save)
        folder.mkdir(parents=True, exist_ok=True)
        median_run = sorted(kept_quiet, key=lambda k: k[0].by_min)[len(kept_quiet) // 2][1]
        worst_run = next(r for ratio, r in kept_loaded if ratio.by_min == worst)
        median_run.save(folder / "quiet.json")
        worst_run.save(folder / "loaded.json")
        print(f"saved {folder / 'quiet.json'} and {folder / 'loaded.json'}", flush=True)
    factor = max(worst / q, q / worst)
    flagged = sum(1 for r in loaded if r.noisy)
    flagged_quiet = sum(1 for r in quiet if r.noisy)
    print(f"bench_speed_under_load: quiet median {q:,.0f}×, worst loaded {worst:,.0f}× ({factor:.2g}× away): target "
          f"\"worst loaded ratio within 2× of the quiet median\" {'MET' if factor <= 2 else 'NOT met'}; noisy flags "
          f"{flagged_quiet}/{len(quiet)} quiet, {flagged}/{len(loaded)} loaded; load average {quiet_load} quiet, "
          f"{loaded_load} loaded, {cores} cores; {time.monotonic() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
