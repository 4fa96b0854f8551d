"""``gpuviz run``: compute C = A·B with one kernel, check it against NumPy, report the launch and the time."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from ..model.budget import Budget
from ..model.launch import Dim3
from ..model.text import format_count, format_duration
from . import common
from .common import EXIT_CANCELLED, EXIT_FAILED, EXIT_OK, PROG, ProgressLine, one_line, print_json

if TYPE_CHECKING:
    from ..engine import Engine, RunResult


def add_parser(commands) -> None:
    """Add ``run`` to ``gpuviz``'s subcommands."""
    run = commands.add_parser("run", parents=[common.launch_options()],
                              help="compute C = A·B with a kernel and check it",
                              description="Compute C = A·B with one kernel, check it against NumPy, "
                                          "and report the launch and the time.")
    run.add_argument("--repeat", type=common.repeats_arg, default=5, metavar="R",
                     help="timed launches on a GPU, the median is reported (default 5)")
    run.set_defaults(handler=cmd_run)


def resolve_backend(engine: Engine, args, problem, *, trace: bool) -> str:
    """The backend ``args.backend`` names on this machine, once the budget allows the run on it."""
    # memory does not depend on the backend: refuse an impossible size before
    # spending a second looking for a GPU
    common.check_budget(engine, args, problem, "gpu", trace=trace)
    backend = engine.resolve_backend(args.backend)
    common.check_budget(engine, args, problem, backend, trace=trace)
    return backend


def cmd_run(args) -> int:
    from ..engine import Engine, MatmulJob

    with Engine(Budget(memory_bytes=args.memory)) as engine:
        problem, _ = common.validate_launch(args)
        backend = resolve_backend(engine, args, problem, trace=False)
        job = MatmulJob(args.kernel, args.m, args.n, args.k, args.block, seed=args.seed, backend=backend,
                        repeat=args.repeat)
        progress = ProgressLine(f"simulating {args.kernel}") if backend == "simulator" else None
        try:
            result = common.run_matmul_job(engine, job, progress, args.yes)
        finally:
            if progress is not None:
                progress.clear()
    return _report_run(result, args)


def _launch_text(summary: dict) -> str:
    grid, block = Dim3(*summary["grid"]), Dim3(*summary["block"])
    return (f"grid {grid} × block {block}: {format_count(summary['blocks'], 'block')}, "
            f"{format_count(summary['threads'], 'thread')}, {format_count(summary['warps'], 'warp')} "
            f"({summary['warps_per_block']} per block), {format_count(summary['idle_threads'], 'idle thread')}")


def _backend_text(result: RunResult) -> str:
    if result.backend == "gpu":
        return f"gpu ({result.gpu_name})" if result.gpu_name else "gpu"
    return "simulator (Numba's CUDA simulator, on the CPU)"


def _report_run(result: RunResult, args) -> int:
    summary = result.summary()
    if result.status == "cancelled":
        print(f"{PROG}: cancelled", file=sys.stderr)
        return EXIT_CANCELLED
    if args.json:
        print_json(summary)
    elif result.status in ("ok", "wrong"):
        m, n, k = result.job.m, result.job.n, result.job.k
        print(f"{result.job.kernel} kernel: C ({m}×{n}) = A ({m}×{k}) · B ({k}×{n}), seed {result.job.seed}")
        print(f"  backend  {_backend_text(result)}")
        print(f"  launch   {_launch_text(summary)}")
        verdict = "correct" if result.ok else "WRONG"
        print(f"  check    {verdict}: max abs error {result.max_abs_error:.3g}, "
              f"relative {result.rel_error:.3g} (against a float64 NumPy product)")
        print(f"  time     {format_duration(result.seconds)} ({result.timing})")
    if result.ok:
        return EXIT_OK
    print(f"{PROG}: {one_line(result.message)}", file=sys.stderr)
    return EXIT_FAILED
