"""Build tests/data/occupancy_expected.json: occupancy figures from NVIDIA's own calculator.

NVIDIA's ``cuda_occupancy.h`` (the header behind
``cudaOccupancyMaxActiveBlocksPerMultiprocessor``) ships in the
``nvidia-cuda-runtime-cu12`` wheel. This script downloads that wheel with pip
into a temporary folder (or uses ``--include DIR`` that holds the header),
compiles ``scripts/occupancy_generator.cpp`` against it with g++, feeds it a
broad table of cases on every GPU preset (each resource binding alone, ties,
launches that cannot fit) and writes what the header answered. The header is
never copied into the repository; the table is.

Run from the repository root: ``python scripts/make_occupancy_table.py``.
"""

from __future__ import annotations

import argparse
import glob
import json
import random
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gpuviz.model.hardware.presets import builtin_presets  # noqa: E402

WHEEL = "nvidia-cuda-runtime-cu12"
OUT = ROOT / "tests" / "data" / "occupancy_expected.json"
GENERATOR = ROOT / "scripts" / "occupancy_generator.cpp"

THREADS = [1, 32, 33, 64, 96, 128, 160, 192, 256, 288, 384, 512, 640, 768, 1024]
REGISTERS = [1, 16, 24, 32, 37, 40, 48, 56, 64, 72, 80, 96, 128, 160, 168, 200, 232, 255]
BARRIERS = [0, 1, 2, 3, 4, 5, 8, 16, 32, 64]
COLUMNS = ["gpu", "threads", "registers", "shared_memory", "barriers", "status", "active_blocks",
           "limiting_factors", "limit_warps", "limit_registers", "limit_shared_memory", "limit_blocks",
           "limit_barriers", "allocated_registers_per_block", "allocated_shared_memory_per_block"]


def shared_sizes(p) -> list[int]:
    optin, reserved = p.shared_memory_per_block_optin, p.reserved_shared_memory_per_block
    sizes = {0, 1, 127, 128, 129, 255, 256, 1000, 1023, 1024, 2048, 3072, 4096, 6000, 8192, 12288, 16384, 20000,
             24576, 32768, 40000, 48000, 49152, 49153, 65536, 81920, 98304, 102400, 131072, 163840, 200000,
             optin - 1, optin, optin + 1, optin - reserved, p.shared_memory_per_sm // 2,
             p.shared_memory_per_sm // 3, p.shared_memory_per_sm // 4 - reserved,
             p.shared_memory_per_sm // 5, p.shared_memory_per_sm // 8 - reserved}
    return sorted(s for s in sizes if 0 <= s <= optin + 1)


def cases(p, rng: random.Random) -> list[tuple]:
    out = set()
    for t in THREADS:
        for r in REGISTERS:
            out.add((t, r, 0, 1))
    for t in THREADS:
        for s in shared_sizes(p):
            out.add((t, 32, s, 1))
    for r in REGISTERS:
        for s in shared_sizes(p):
            out.add((256, r, s, 1))
    for t in (32, 64, 128, 256, 1024):
        for b in BARRIERS:
            out.add((t, 16, 0, b))
            out.add((t, 64, 8192, b))
    for _ in range(200):
        out.add((rng.randint(1, 1024), rng.randint(1, 255), rng.randint(0, p.shared_memory_per_block_optin + 1),
                 rng.choice([1, 1, 1, 2, 3])))
    return sorted(out)


def find_header(include: str | None, workdir: Path) -> Path:
    if include:
        return Path(include)
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(workdir), WHEEL],
                   check=True)
    wheel = sorted(glob.glob(str(workdir / "nvidia_cuda_runtime_cu12-*.whl")))[-1]
    with zipfile.ZipFile(wheel) as zf:
        member = next(n for n in zf.namelist() if n.endswith("include/cuda_occupancy.h"))
        zf.extract(member, workdir)
    print(f"header from {Path(wheel).name}")
    return (workdir / member).parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--include", help="folder that holds cuda_occupancy.h (default: download the wheel)")
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="gpuviz-occ-") as tmp:
        tmp = Path(tmp)
        include = find_header(args.include, tmp)
        exe = tmp / "occupancy_generator"
        subprocess.run(["g++", "-O1", "-std=c++17", "-I", str(include), str(GENERATOR), "-o", str(exe)], check=True)
        rng = random.Random(19)
        lines, keys = [], []
        props = {}
        for p in builtin_presets():
            props[p.key] = {
                "compute_capability": list(p.compute_capability), "max_threads_per_block": p.max_threads_per_block,
                "max_threads_per_sm": p.max_threads_per_sm, "registers_per_block": p.registers_per_block,
                "registers_per_sm": p.registers_per_sm, "warp_size": p.warp_size,
                "shared_memory_per_block": p.shared_memory_per_block,
                "shared_memory_per_sm": p.shared_memory_per_sm, "sm_count": p.sm_count,
                "shared_memory_per_block_optin": p.shared_memory_per_block_optin,
                "reserved_shared_memory_per_block": p.reserved_shared_memory_per_block,
            }
            dev = [*p.compute_capability, p.max_threads_per_block, p.max_threads_per_sm, p.registers_per_block,
                   p.registers_per_sm, p.warp_size, p.shared_memory_per_block, p.shared_memory_per_sm, p.sm_count,
                   p.shared_memory_per_block_optin, p.reserved_shared_memory_per_block]
            for case in cases(p, rng):
                lines.append(" ".join(map(str, dev + list(case))))
                keys.append((p.key, *case))
        run = subprocess.run([str(exe)], input="\n".join(lines) + "\n", capture_output=True, text=True, check=True)
        answers = [list(map(int, line.split())) for line in run.stdout.splitlines()]
    if len(answers) != len(keys):
        print(f"make_occupancy_table: {len(keys)} cases but {len(answers)} answers", file=sys.stderr)
        return 1
    rows = [list(k) + a for k, a in zip(keys, answers)]
    body = ",\n".join(json.dumps(r, separators=(",", ":")) for r in rows)
    header = json.dumps({"source": f"cuda_occupancy.h from {WHEEL}, via scripts/occupancy_generator.cpp",
                         "int_max": 2**31 - 1, "devices": props, "columns": COLUMNS}, indent=1)
    Path(args.out).write_text(header[:-2] + ',\n "rows": [\n' + body + "\n ]\n}\n", encoding="utf-8")
    print(f"wrote {args.out}: {len(rows)} cases on {len(props)} presets")
    return 0


if __name__ == "__main__":
    sys.exit(main())
