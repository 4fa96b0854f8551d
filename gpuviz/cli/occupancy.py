"""``gpuviz occupancy``: resident blocks per SM of a launch on a GPU preset, its limiters, and its waves.

The figures are the model's (:mod:`gpuviz.model.hardware`), which equal NVIDIA's
occupancy calculator (``cuda_occupancy.h``) on the tests' table. Nothing runs
on a GPU, except that ``--gpu live`` asks the engine's GPU worker for the
device's attributes.
"""

from __future__ import annotations

import argparse

from ..model.hardware import OccupancyError, PresetError, find_preset, live_preset, occupancy
from ..model.hardware.waves import SCHEDULE_MODEL, Waves
from ..model.launch import Dim3, check_launch
from ..model.text import TextError, parse_bytes
from .common import EXIT_OK, UsageError, dim3_arg, print_json, shown, whole_number


def _whole(text: str) -> int:
    try:
        return whole_number(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {shown(text)}") from None


def _bytes(text: str) -> int:
    """Shared memory: a whole number of bytes, or a size with a unit (``48KiB``)."""
    if text.strip().lstrip("+-").isdigit():  # -1 reads, for the model's own "negative" sentence
        return whole_number(text, "bytes of shared memory")
    try:
        return parse_bytes(text)
    except TextError:
        raise argparse.ArgumentTypeError(f"cannot read {shown(text)} as bytes of shared memory (e.g. 0, 4096, "
                                         "48KiB)") from None


def _grid(text: str) -> Dim3:
    return dim3_arg(text)


def add_parser(commands) -> None:
    """Add ``occupancy`` to ``gpuviz``'s subcommands."""
    p = commands.add_parser(
        "occupancy", help="resident blocks per SM of a launch on a GPU, what limits them, and its waves",
        description="How many blocks of a launch each SM of a GPU holds at once (NVIDIA's occupancy calculator's "
                    "arithmetic), every resource that binds, and with --grid how the grid's blocks fill the GPU "
                    "in waves.",
        epilog="--gpu takes a preset's name or a part of one that matches a single preset (H100, A100, A6000, T4, "
               "1070, 940MX, H200), or 'live' for this machine's GPU. Exit code 0 with the answer (also when no "
               "block fits: the output says the launch fails), 2 for a bad request.")
    p.add_argument("--gpu", required=True, metavar="NAME", help="GPU preset (case-insensitive), or live")
    p.add_argument("--threads", required=True, type=_whole, metavar="T", help="threads per block (1 … 1024)")
    p.add_argument("--regs", required=True, type=_whole, metavar="R", help="registers per thread (1 … 255)")
    p.add_argument("--smem", required=True, type=_bytes, metavar="BYTES",
                   help="shared memory per block, static plus dynamic (up to the GPU's opt-in limit)")
    p.add_argument("--grid", type=_grid, metavar="G", help="the launch's grid (X, XxY or XxYxZ): adds its waves")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.set_defaults(handler=cmd_occupancy)


def _live():
    from ..engine import Engine

    with Engine() as eng:
        info = eng.gpu_info()
        if not info.get("gpu_available"):
            raise UsageError("--gpu live: no GPU was found on this machine; name a preset instead")
        return live_preset(eng.call_in_worker("gpuviz.engine.hardware:device_attributes", backend="gpu"))


def cmd_occupancy(args) -> int:
    try:
        preset = _live() if args.gpu.strip().lower() == "live" else find_preset(args.gpu)
        occ = occupancy(preset, args.threads, args.regs, args.smem)
    except (PresetError, OccupancyError) as e:
        raise UsageError(str(e)) from None
    waves = None
    if args.grid is not None:
        check_launch(args.grid, Dim3(args.threads))
        waves = Waves.of(occ, args.grid.size)
    if args.json:
        out = occ.to_dict()
        if waves is not None:
            out["grid"] = list(args.grid.as_tuple())
            out.update(waves.to_dict())
            out["schedule"] = SCHEDULE_MODEL
        print_json(out)
        return EXIT_OK
    p = preset
    print(f"{p.label}: compute capability {p.compute_capability[0]}.{p.compute_capability[1]}, {p.sm_count} SMs")
    print(f"launch: {args.threads} threads per block, {args.regs} registers per thread, "
          f"{args.smem} bytes of shared memory per block")
    print(f"resident per SM: {occ.active_blocks} blocks = {occ.active_warps} of {p.max_warps_per_sm} warps, "
          f"occupancy {occ.occupancy:.1%}")
    for line in occ.explanation():
        print(f"  {line}")
    shown = {r: ("—" if v is None else "no limit" if v >= 2**31 - 1 else v) for r, v in occ.limits.items()}
    print("blocks per SM each resource allows: " + ", ".join(f"{r.replace('_', ' ')} {v}"
                                                             for r, v in shown.items() if v != "—"))
    if waves is not None:
        if waves.runs:
            tail = (f"a last wave of {waves.tail_blocks} blocks leaves {waves.tail_idle_sms} of {p.sm_count} SMs idle"
                    if waves.tail_blocks else "every wave is full")
            print(f"grid {args.grid} = {waves.blocks} blocks: {waves.blocks_per_wave} per wave, "
                  f"{waves.waves:.2f} waves; {tail}")
            print(f"  ({SCHEDULE_MODEL})")
        else:
            print(f"grid {args.grid} = {waves.blocks} blocks: no wave, since no block fits an SM")
    return EXIT_OK
