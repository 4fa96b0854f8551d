"""Measure the speed presets' figures that gpuviz ships: each speed preset's sweep, saved where it says.

For every preset with ``panel = "speed"`` (assets/presets/40-42), runs its ``[params]``
sweep in the engine's worker exactly as the Speed tab's Run does and writes the
results to the file its ``[view] results`` names (under assets/results/). Each file
carries the machine it was measured on and when, and the noisy flags of its
measurements: the app shows them as measured elsewhere, never as this machine's.
Takes a few minutes; prints one line per preset and a summary last. Exits 0
unless a result was wrong.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from gpuviz.engine import Engine
from gpuviz.model.scenario import load_scenario, speed_results_path

PRESETS = Path(__file__).resolve().parent.parent / "assets" / "presets"


def _param(params, key):
    # a speed scenario's params: a dict, or a typed SpeedParams
    return params[key] if isinstance(params, dict) else getattr(params, key)


def main() -> int:
    t0 = time.monotonic()
    written, wrong, noisy = [], 0, 0
    with Engine() as engine:
        for path in sorted(PRESETS.glob("*.toml")):
            scenario = load_scenario(path)
            if scenario.panel != "speed":
                continue
            target = speed_results_path(scenario)
            if target is None:
                print(f"{path.name}: names no [view] results file, not measured", flush=True)
                continue
            if target.resolve() in written:
                print(f"{path.name}: shows {target.name}, measured above", flush=True)
                continue
            op, sizes, impls = (_param(scenario.params, k) for k in ("op", "sizes", "impls"))
            started = time.monotonic()
            results = engine.bench(op, sizes, impls)
            results.save(target)
            written.append(target.resolve())
            bad = [m for m in results.measurements if m.correct is False]
            flagged = results.noisy()
            wrong += len(bad)
            noisy += len(flagged)
            print(f"{path.name}: {len(results.measurements)} measurements ({len(flagged)} noisy, {len(bad)} wrong) "
                  f"in {time.monotonic() - started:.0f} s -> {target.resolve().relative_to(PRESETS.parent.parent)}",
                  flush=True)
    print(f"bench_speed_presets: {len(written)} results files written, {noisy} noisy and {wrong} wrong measurements, "
          f"{time.monotonic() - t0:.0f} s")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
