"""Run the real Numba CUDA kernels on a GPU, check them against NumPy, and print timings.

Meant for a machine with an NVIDIA GPU and numba-cuda but possibly no PyQt6:
run it from the repository root with ``PYTHONPATH=. python scripts/gpu_check.py``.
It checks, through the same engine the app uses:

* the backend ``auto`` picks, and the GPU's name;
* the launch model against what the GPU itself reports for blockIdx,
  threadIdx and laneid, on 1-D, 2-D and 3-D launches;
* each kernel's product against a float64 NumPy reference, from a small
  non-multiple shape up to 4096³, timed with CUDA events (median of launches);
* the naive (coalesced) kernel against the uncoalesced one at the same size;
* the Speed panel's benchmark on the GPU (gpu-naive, gpu-tiled, cuBLAS through CuPy, against NumPy and
  Numba on the same machine), every result checked against NumPy; with ``--save FILE.json`` the figures
  are written in the format the app's Speed tab loads (labelled with this machine);
* the hardware view's figures: each built-in kernel's registers per thread as compiled, the driver's
  resident blocks per SM for its launch compared with the occupancy model on the live device's
  attributes (and the matching preset's figures compared with the driver's), and the kernels' measured
  GFLOP/s for the roofline; with ``--save FILE.json`` they go to ``FILE.hardware.json``, labelled with
  the GPU and the date (the only source of measured roofline points).

Exits 0 whatever it finds; the last line is a one-line summary.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from gpuviz.engine import Engine, MatmulJob
from gpuviz.model import Dim3, LaunchConfig
from gpuviz.model.launch import thread_table

SIZES = [(33, 17, 20, (8, 8)), (64, 64, 64, (32, 8)), (1024, 1024, 1024, (16, 16)), (4096, 4096, 4096, (16, 16)),
         (4096, 4096, 4096, (32, 8)), (4096, 4096, 4096, (32, 32))]
PROBES = [((3,), (100,)), ((2, 3), (16, 8)), ((2, 2, 2), (8, 4, 3)), ((1,), (1024,)), ((5, 1, 1), (7, 3, 2))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5, help="timed launches per product (median reported)")
    ap.add_argument("--json", metavar="FILE", help="also write every result to this JSON file")
    ap.add_argument("--save", metavar="FILE.json", help="save the speed benchmark for the app's Speed tab")
    ap.add_argument("--no-speed", action="store_true", help="skip the speed benchmark")
    args = ap.parse_args()
    results = {"runs": [], "probes": []}
    with Engine() as eng:
        info = eng.gpu_info()
        print("gpu_info:", json.dumps(info), flush=True)
        results["info"] = info
        if not info.get("gpu_available"):
            print("gpu_check: no GPU found; nothing was run on a GPU")
            return 0
        for grid, block in PROBES:
            got = eng.probe_indices(grid, block, backend="gpu")
            tab = thread_table(LaunchConfig(grid, block))
            ok = (np.array_equal(got[:, 0:3], tab["block"]) and np.array_equal(got[:, 3:6], tab["thread"])
                  and np.array_equal(got[:, 6], tab["lane"]))
            results["probes"].append({"grid": grid, "block": block, "agrees": bool(ok)})
            print(f"probe grid {grid} block {block}: launch model {'agrees' if ok else 'DISAGREES'} with the GPU",
                  flush=True)
        for kernel in ("naive", "uncoalesced", "tiled"):
            for m, n, k, block in SIZES:
                if kernel == "tiled" and block[0] != block[1]:
                    continue  # the tile is the block: it must be square
                t0 = time.perf_counter()
                res = eng.run(MatmulJob(kernel, m, n, k, Dim3(*block), backend="gpu", repeat=args.repeat),
                              confirmed=True)
                wall = time.perf_counter() - t0
                row = res.summary()
                row["all_seconds"] = res.extra.get("all_seconds")
                row["gflops"] = 2 * m * n * k / res.seconds / 1e9 if res.seconds else None
                results["runs"].append(row)
                gf = f"{row['gflops']:.0f} GFLOP/s" if row["gflops"] else ""
                sec = f"{res.seconds * 1e3:.3f} ms" if res.seconds is not None else "-"
                print(f"{kernel:12s} {m}x{n}x{k} block {block[0]}x{block[1]}: {res.status} "
                      f"max_abs_error {res.max_abs_error} rel {res.rel_error} time {sec} {gf} "
                      f"(wall {wall:.1f} s, {res.timing}) {res.message if not res.ok else ''}", flush=True)
        hardware_line = _hardware(eng, results)
        speed_line = "speed benchmark skipped"
        if not args.no_speed:
            speed_line = _speed(eng, args.save)
    if args.save:
        path = args.save[:-5] if args.save.endswith(".json") else args.save
        with open(f"{path}.hardware.json", "w") as f:
            json.dump(results["hardware"], f, indent=1)
        print(f"saved {path}.hardware.json", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1, default=str)

    def secs(kernel, m, block):
        for r in results["runs"]:
            if r["kernel"] == kernel and r["m"] == m and tuple(r["block"][:2]) == block and r["seconds"]:
                return r["seconds"]
        return None

    n_ok = sum(r["status"] == "ok" for r in results["runs"])
    naive, unco = secs("naive", 4096, (32, 32)), secs("uncoalesced", 4096, (32, 32))
    tiled = secs("tiled", 4096, (32, 32))
    ratio = f"{unco / naive:.1f}x" if naive and unco else "n/a"
    probes_ok = all(p["agrees"] for p in results["probes"])
    print(f"gpu_check: {info.get('gpu_name')}: {n_ok}/{len(results['runs'])} products correct; launch model "
          f"{'agrees' if probes_ok else 'DISAGREES'} with the GPU; 4096^3 32x32 naive "
          f"{naive * 1e3 if naive else float('nan'):.1f} ms, uncoalesced/naive {ratio} "
          f"(SGEMM kernel 1 vs 2 is ~6.4x on an A6000), tiled {tiled * 1e3 if tiled else float('nan'):.1f} ms; "
          f"{speed_line}; {hardware_line}")
    return 0


#: The launches whose compiled resources and driver occupancy are checked.
HARDWARE_LAUNCHES = [{"kernel": k, "block": b} for k in ("naive", "uncoalesced") for b in ((16, 16), (32, 8), (32, 32))]
HARDWARE_LAUNCHES += [{"kernel": "tiled", "block": b} for b in ((16, 16), (32, 32))]
HARDWARE_LAUNCHES += [{"kernel": "transpose", "block": (32, 8)}, {"kernel": "transpose_padded", "block": (32, 8)}]


def _hardware(eng, results) -> str:
    """Registers as compiled, driver occupancy against the model, roofline points; one summary phrase."""
    from datetime import date

    from gpuviz.model.hardware import PresetError, builtin_presets, live_preset, occupancy
    from gpuviz.model.hardware.roofline import kernel_point

    attrs = eng.call_in_worker("gpuviz.engine.hardware:device_attributes", backend="gpu")
    live = live_preset(attrs)
    hw = {"gpu": live.name, "date": date.today().isoformat(), "attributes": attrs, "kernels": [], "roofline": []}
    results["hardware"] = hw
    preset = None
    for p in builtin_presets():  # the preset of this GPU, if there is one: its figures against the driver's
        model_word = next((w for w in p.name.lower().split() if any(c.isdigit() for c in w)), None)
        if model_word and model_word in live.name.lower():  # "h100" in "nvidia h100 80gb hbm3"
            preset = p
            break
    if preset is not None:
        fields = ("sm_count", "max_threads_per_sm", "max_blocks_per_sm", "registers_per_sm", "registers_per_block",
                  "shared_memory_per_sm", "shared_memory_per_block", "shared_memory_per_block_optin",
                  "reserved_shared_memory_per_block")
        diff = [f"{f} preset {getattr(preset, f)} driver {getattr(live, f)}" for f in fields
                if getattr(preset, f) != getattr(live, f)]
        hw["preset"] = {"name": preset.name, "differences": diff}
        print(f"preset {preset.name} vs the driver: {'; '.join(diff) if diff else 'every figure agrees'}", flush=True)
    agree = 0
    rows = eng.call_in_worker("gpuviz.engine.hardware:kernel_resources", backend="gpu", launches=HARDWARE_LAUNCHES)
    for row in rows:
        try:
            model = occupancy(live, row["threads"], row["registers_per_thread"], row["static_shared_memory"])
            row["model_active_blocks"], row["model_limiters"] = model.active_blocks, list(model.limiters)
        except (PresetError, ValueError) as e:
            row["model_active_blocks"], row["model_error"] = None, str(e)
        ok = row["model_active_blocks"] == row["driver_active_blocks"]
        agree += ok
        hw["kernels"].append(row)
        print(f"{row['kernel']:16s} block {row['block'][0]}x{row['block'][1]}: {row['registers_per_thread']} registers"
              f"/thread, {row['static_shared_memory']} B shared; resident blocks/SM driver "
              f"{row['driver_active_blocks']} model {row['model_active_blocks']} "
              f"{'agree' if ok else 'DISAGREE'} ({', '.join(row.get('model_limiters', []))})", flush=True)
    for r in results["runs"]:
        if r.get("gflops") and r["m"] == r["n"] == r["k"]:
            point = kernel_point(r["kernel"], r["m"], tuple(r["block"][:2]))
            hw["roofline"].append({"kernel": r["kernel"], "m": r["m"], "n": r["n"], "k": r["k"],
                                   "block": list(r["block"][:2]), "gflops": r["gflops"],
                                   "intensity": point.intensity, "compulsory_intensity": point.compulsory_intensity})
    return f"occupancy model {agree}/{len(rows)} equal to the driver"


SPEED_PLAN = [("dot", [1_000_000, 100_000_000]), ("matmul", [256, 1024, 4096]), ("layer", [64, 1024, 16384])]


def _speed(eng, save, plan=SPEED_PLAN) -> str:
    """The Speed panel's sweeps with the GPU implementations; one summary phrase for the last line."""
    from gpuviz.cli.bench import format_table

    impls = ["numpy", "numba-parallel", "gpu-naive", "gpu-tiled", "cublas"]
    everything = None
    for op, sizes in plan:
        t0 = time.perf_counter()
        r = eng.bench(op, sizes, impls=impls + (["python"] if op == "dot" else []))
        print("\n".join(format_table(r)), flush=True)
        print(f"speed {op}: {time.perf_counter() - t0:.1f} s", flush=True)
        if everything is None:
            everything = r
        else:
            everything.measurements += r.measurements
    if save and everything is not None:
        everything.save(save)
        print(f"saved {save}", flush=True)
    wrong = [m for m in everything.measurements if m.measured and not m.correct]
    failed = [m for m in everything.measurements if m.skipped and m.skipped.startswith("failed")]
    best = {m.impl: m for m in everything.measurements if m.op == "matmul" and m.size == 4096 and m.measured}
    tf = ", ".join(f"{k} {v.gflops() / 1e3:.1f} TFLOP/s" for k, v in best.items() if v.gflops())
    return (f"speed: {len(wrong)} wrong, {len(failed)} failed; matmul 4096: {tf or 'n/a'}")


if __name__ == "__main__":
    sys.exit(main())
