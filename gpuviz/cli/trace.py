"""``gpuviz trace``: write every global/shared read and write and every barrier of a launch to an .npz file."""

from __future__ import annotations

import sys
import time

from .. import __version__
from ..model.budget import Budget
from ..model.text import format_bytes, format_duration
from . import check, common
from .common import EXIT_CANCELLED, EXIT_FAILED, EXIT_OK, PROG, ProgressLine, UsageError, one_line, print_json


def add_parser(commands) -> None:
    """Add ``trace`` to ``gpuviz``'s subcommands."""
    trace = commands.add_parser("trace", parents=[common.launch_options()],
                                help="write every memory access of a launch",
                                description="Write every global/shared read and write and every "
                                            "barrier of a launch to an .npz file.")
    trace.add_argument("--source", choices=("recorded", "vectorized"), default="recorded",
                       help="recorded while the CUDA simulator runs the kernel, or computed by NumPy "
                            "from the kernel's index arithmetic (fast at large sizes); default recorded")
    trace.add_argument("--out", required=True, metavar="FILE.npz", help="where to write the trace")
    # a kernel of your own (issue 20): then the launch is the student's, and the product's options go unused
    check.add_kernel_file_options(trace, required=False)
    for action in trace._actions:
        if action.dest in ("kernel", "m", "n", "k"):
            action.required = False
    trace.set_defaults(handler=cmd_trace)


def cmd_trace(args) -> int:
    if args.kernel_file is not None:
        return check.cmd_trace_kernel_file(args)
    check.refuse_kernel_file_options(args)
    from ..engine import Engine, MatmulJob

    with Engine(Budget(memory_bytes=args.memory)) as engine:
        problem, launch = common.validate_launch(args)
        if args.source == "vectorized":
            # NumPy computes it: no backend involved, but the same memory budget
            common.check_budget(engine, args, problem, "none", trace=True)
        else:
            if args.backend == "gpu":
                raise UsageError("a trace is recorded by the CUDA simulator: use --backend simulator "
                                 "(or auto), or --source vectorized")
            common.check_budget(engine, args, problem, "simulator", trace=True)
        out = common.check_writable(args.out)

        result = None
        started = time.perf_counter()
        if args.source == "vectorized":
            from ..model.vectorized import vectorized_trace

            trace = vectorized_trace(args.kernel, problem, launch.block, seed=args.seed)
            seconds = time.perf_counter() - started
        else:
            job = MatmulJob(args.kernel, args.m, args.n, args.k, args.block, seed=args.seed,
                            backend="simulator", record=True)
            progress = ProgressLine(f"recording {args.kernel}")
            try:
                result = common.run_matmul_job(engine, job, progress, args.yes)
            finally:
                progress.clear()
            if result.status == "cancelled":
                print(f"{PROG}: cancelled", file=sys.stderr)
                return EXIT_CANCELLED
            if result.trace is None:
                print(f"{PROG}: {one_line(result.message)}", file=sys.stderr)
                return EXIT_FAILED
            trace, seconds = result.trace, result.seconds

    meta = {"kernel": args.kernel, "m": problem.m, "n": problem.n, "k": problem.k,
            "grid": list(launch.grid.as_tuple()), "block": list(launch.block.as_tuple()),
            "source": args.source}
    meta.update(trace.meta or {})
    meta.setdefault("gpuviz", __version__)
    trace.meta = meta
    try:
        with open(out, "wb") as f:
            # a file object, not a name: numpy would append ".npz" to a name without it
            trace.save(f)
    except OSError as e:  # checked writable before the run, but a disk can still fill up
        print(f"{PROG}: could not write {out}: {e.strerror or e}", file=sys.stderr)
        return EXIT_FAILED
    size = out.stat().st_size

    info = {"events": len(trace), "file": str(out), "bytes": size, "source": args.source,
            "kernel": args.kernel, "m": problem.m, "n": problem.n, "k": problem.k,
            "grid": list(launch.grid.as_tuple()), "block": list(launch.block.as_tuple()),
            "seconds": seconds}
    if result is not None:
        info.update({key: value for key, value in result.summary().items()
                     if key in ("status", "backend", "max_abs_error", "rel_error", "correct")})
    if args.json:
        print_json(info)
    else:
        how = "recorded in the CUDA simulator" if args.source == "recorded" else "computed by NumPy"
        print(f"wrote {len(trace):,} events to {out} ({format_bytes(size)}): {args.kernel} "
              f"{problem.m}×{problem.n}×{problem.k}, {launch}, {how} in {format_duration(seconds)}")
    if result is not None and not result.ok:
        print(f"{PROG}: the trace was written, but {one_line(result.message)}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
