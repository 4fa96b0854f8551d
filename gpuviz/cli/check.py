"""``gpuviz check``: run a student's kernel in the CUDA simulator, record it, and report its bugs.

``gpuviz check --kernel-file FILE.py [--function NAME] --grid G --block B --arg SPEC … [--expect OUT=EXPR …]
[--timeout S] [--json]``. The checker (:mod:`gpuviz.model.kernel.checker`) finds races, out-of-bounds
accesses, uninitialized shared reads, divergent barriers, wrong results, exceptions and time-outs from the
recorded trace, whatever order the simulator ran the threads in.

Exit codes: 0 no finding, 1 findings (or the worker died), 2 a bad request (one line on stderr), 130 Ctrl-C.
The options that name the kernel, its launch and its arguments are shared with ``gpuviz trace --kernel-file``.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..model.kernel.request import DEFAULT_TIMEOUT_S, KernelRequest, RequestError
from ..model.limits import MAX_CALL_SECONDS, MAX_KERNEL_FILE_BYTES, MAX_NUMBER_DIGITS
from ..model.text import format_bytes, format_duration
from ..model.values import DTYPES, INIT_WORDS
from . import common
from .common import EXIT_CANCELLED, EXIT_FAILED, EXIT_OK, PROG, ProgressLine, UsageError, one_line, print_json

if TYPE_CHECKING:  # the engine is imported by the handlers that run something: building the parser needs none of it
    from ..engine import Engine
    from ..engine.user_kernel import UserKernelResult

SPEC_HELP = (f"NAME=DTYPE[D0,D1,…]:INIT for an array (DTYPE: {', '.join(DTYPES)}; INIT: {', '.join(INIT_WORDS)}) "
             f"or NAME=VALUE for a scalar; once per kernel parameter, in any order")


def _seconds(text: str) -> float:
    token = text.strip().removesuffix("s").strip()
    try:
        value = float(token) if len(token) <= MAX_NUMBER_DIGITS else math.nan
    except ValueError:
        value = math.nan
    if math.isnan(value):
        raise argparse.ArgumentTypeError(f"cannot read {common.shown(text)} as seconds (e.g. 10 or 2.5)")
    if not value > 0:
        raise argparse.ArgumentTypeError(f"the time-out must be more than 0 seconds, got {text!r}")
    if value > MAX_CALL_SECONDS:
        raise argparse.ArgumentTypeError(f"a time-out of {text.strip()} s is over {MAX_CALL_SECONDS:g} s, the "
                                         "longest allowed")
    return value


def _count(text: str) -> int:
    try:
        value = common.whole_number(text)
    except argparse.ArgumentTypeError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 0, got {common.shown(text)}")
    return value


def _check_kernel_file(path) -> None:
    """A kernel file that exists must be a regular file under the size bound (a FIFO would block the read);
    a missing file or a folder is left to the reader's own sentence."""
    if not str(path).strip():
        raise UsageError(f"--kernel-file {path!r}: an empty path names no kernel file")
    p = Path(path).expanduser()
    try:
        exists = p.exists() and not p.is_dir()
    except (OSError, ValueError):
        exists = False
    if exists:
        common.check_input_file(p, "--kernel-file", MAX_KERNEL_FILE_BYTES, "kernel file")


def add_kernel_file_options(p, *, required: bool) -> None:
    """``--kernel-file``, ``--function``, ``--grid``, ``--arg``, ``--timeout`` (``--block`` is the caller's)."""
    g = p.add_argument_group("a kernel of your own")
    g.add_argument("--kernel-file", required=required, metavar="FILE.py",
                   help="a Python file with one or more @cuda.jit kernels (device functions allowed)")
    g.add_argument("--function", metavar="NAME", help="the kernel to launch, when the file has several")
    g.add_argument("--grid", required=required, metavar="G", help="blocks in the grid: X, XxY or XxYxZ")
    g.add_argument("--arg", action="append", default=[], metavar="SPEC", dest="kernel_args", help=SPEC_HELP)
    g.add_argument("--timeout", type=_seconds, default=None, metavar="S",
                   help=f"stop a launch that runs longer than this (an endless loop), default {DEFAULT_TIMEOUT_S:g} s")


def build_request(args, expects=(), constraints=None) -> KernelRequest:
    """The request of the parsed ``args``; a bad one raises :class:`UsageError` with its one sentence."""
    _check_kernel_file(args.kernel_file)
    try:
        return KernelRequest.build(args.kernel_file, args.function, args.grid or "1", args.block or "1",
                                   args.kernel_args, expects, timeout=args.timeout, constraints=constraints)
    except RequestError as e:
        raise UsageError(str(e)) from None


def run_request(engine: Engine, request: KernelRequest, *, gpu: bool) -> UserKernelResult:
    """Run ``request`` with the progress line and Ctrl-C cancelling it (KeyboardInterrupt is raised again)."""
    from ..engine.user_kernel import run_kernel

    progress = ProgressLine(f"simulating {request.function}")
    try:
        return common.call_cancellable(engine, lambda: run_kernel(engine, request, progress, gpu=gpu),
                                       "gpuviz-check")
    finally:
        progress.clear()


def add_parser(commands) -> None:
    """Add ``check`` to ``gpuviz``'s subcommands."""
    p = commands.add_parser(
        "check", help="run your own kernel in the simulator and report its bugs",
        description="Run a @cuda.jit kernel of your own in the CUDA simulator, record every memory access, "
                    "atomic and barrier of every thread, and report races, out-of-bounds accesses, "
                    "uninitialized shared reads, divergent barriers, wrong results, exceptions and time-outs "
                    "(by their definition, whatever order the simulator ran the threads in).",
        epilog="Example: gpuviz check --kernel-file diff.py --grid 2 --block 8 --arg a=float32[16]:arange "
               "--arg out=float32[16]:zeros --arg n=16. Exit codes: 0 no finding, 1 findings, 2 bad request, "
               "130 cancelled.")
    add_kernel_file_options(p, required=True)
    p.add_argument("--block", required=True, type=common.block_arg, metavar="B",
                   help="threads per block: X, XxY or XxYxZ")
    p.add_argument("--expect", action="append", default=[], metavar="OUT=EXPR",
                   help="the expected final value of array OUT: a NumPy expression over the arguments as they "
                        "were before the launch (np and the argument names), e.g. out=a.T")
    c = p.add_argument_group("an exercise's constraints (counted from the trace)")
    c.add_argument("--max-global-reads", type=_count, metavar="N", help="at most N global reads per thread")
    c.add_argument("--max-global-writes", type=_count, metavar="N", help="at most N global writes per thread")
    c.add_argument("--require-shared", action="store_true", help="the kernel must use shared memory")
    c.add_argument("--no-atomics", action="store_true", help="the kernel must not use cuda.atomic")
    p.add_argument("--backend", choices=("auto", "simulator"), default="auto",
                   help="auto: also run it on a GPU when one is found and compare the outputs (default); "
                        "simulator: the simulator only")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.set_defaults(handler=cmd_check)


def _location(request: KernelRequest, line) -> str:
    if line is None:
        return ""
    lines = request.source.text.splitlines()
    text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    return f"    {line} | {text}" if text else ""


def _where(finding) -> str:
    pairs = [f"block {tuple(b)} thread {tuple(t)}" for b, t in finding.where]
    return "; ".join(pairs)


def cmd_check(args) -> int:
    from ..engine import Engine
    from ..model.kernel.checker import Constraints

    constraints = Constraints(args.max_global_reads, args.max_global_writes, args.require_shared, args.no_atomics)
    request = build_request(args, args.expect, constraints)
    with Engine() as engine:
        result = run_request(engine, request, gpu=args.backend == "auto")
    if result.status == "bad_request":
        raise UsageError(result.message)
    if result.status == "cancelled":
        print(f"{PROG}: cancelled", file=sys.stderr)
        return EXIT_CANCELLED
    if result.status in ("died", "error"):
        print(f"{PROG}: {one_line(result.message)}", file=sys.stderr)
        return EXIT_FAILED
    report = result.report()
    events = len(result.trace) if result.trace is not None else None
    if args.json:
        print_json({**report.to_dict(), "status": result.status, "kernel": request.function,
                    "file": request.source.shown or request.path, "grid": list(request.grid.as_tuple()),
                    "block": list(request.block.as_tuple()), "events": events, "seconds": result.seconds,
                    "gpu": result.gpu})
    else:
        how = (f"{events:,} events recorded in {format_duration(result.seconds)}" if events is not None
               else result.message)
        print(f"{request.function} in {request.source.shown or request.path}, {request.launch}: {how}")
        for f in report.findings:
            more = f" ({f.count:,} times)" if f.count > 1 else ""
            print(f"{f.kind}{more}: {f.message}")
            loc = _location(request, f.line)
            if loc:
                print(loc)
            if f.where:
                print(f"    threads: {_where(f)}")
        if report.dropped:
            print(f"… and {report.dropped} more findings")
        if result.gpu is not None:
            gpu = result.gpu
            if gpu.get("error"):
                print(f"on the GPU ({gpu.get('name')}): {one_line(gpu['error'])}")
            elif gpu.get("matches"):
                print(f"on the GPU ({gpu.get('name')}): the same outputs as the simulator")
            else:
                print(f"on the GPU ({gpu.get('name')}): {', '.join(gpu['differs'])} differ from the simulator's")
        kinds = sorted({f.kind for f in report.findings})
        print(f"{len(report.findings) + report.dropped} finding(s): {', '.join(kinds)}" if report.findings
              else "no findings")
    return EXIT_OK if report.ok else EXIT_FAILED


# -- gpuviz trace --kernel-file ------------------------------------------------------------------

_PRODUCT_OPTIONS = ("kernel", "m", "n", "k")


def refuse_kernel_file_options(args) -> None:
    """``gpuviz trace`` of a built-in product: its options are all there, and none of ``--kernel-file``'s."""
    stray = [f"--{name.replace('_', '-')}" for name in ("function", "grid", "timeout") if getattr(args, name)]
    stray += ["--arg"] if args.kernel_args else []
    if stray:
        raise UsageError(f"{stray[0]} goes with --kernel-file (a kernel of your own), not with --kernel")
    missing = [f"--{name}" for name in _PRODUCT_OPTIONS if getattr(args, name) is None]
    if missing:
        raise UsageError(f"the following arguments are required: {', '.join(missing)} "
                         f"(or --kernel-file FILE.py for a kernel of your own)")


def cmd_trace_kernel_file(args) -> int:
    """``gpuviz trace --kernel-file``: record a student's kernel and write its trace (format 2)."""
    given = [f"--{name}" for name in _PRODUCT_OPTIONS if getattr(args, name) is not None]
    if given:
        raise UsageError(f"{given[0]} is for the built-in product; with --kernel-file give --grid, --block "
                         f"and --arg instead")
    if args.grid is None:
        raise UsageError("--kernel-file needs --grid (blocks in the grid: X, XxY or XxYxZ)")
    if getattr(args, "backend", "auto") == "gpu":
        raise UsageError("a trace is recorded by the CUDA simulator: use --backend simulator (or auto)")
    if getattr(args, "source", "recorded") != "recorded":
        raise UsageError("a kernel of your own is recorded by the CUDA simulator: drop --source vectorized")
    request = build_request(args)
    out = common.check_writable(args.out)
    from ..engine import Engine

    with Engine() as engine:
        result = run_request(engine, request, gpu=False)
    if result.status == "bad_request":
        raise UsageError(result.message)
    if result.status == "cancelled":
        print(f"{PROG}: cancelled", file=sys.stderr)
        return EXIT_CANCELLED
    if result.trace is None:
        print(f"{PROG}: {one_line(result.message)}; no trace was written", file=sys.stderr)
        return EXIT_FAILED
    trace = result.trace
    try:
        with open(out, "wb") as f:  # a file object: numpy would append ".npz" to a name without it
            trace.save(f)
    except OSError as e:
        print(f"{PROG}: could not write {out}: {e.strerror or e}", file=sys.stderr)
        return EXIT_FAILED
    size = out.stat().st_size
    info = {"events": len(trace), "file": str(out), "bytes": size, "source": "recorded",
            "kernel": request.function, "kernel_file": request.source.shown or request.path,
            "grid": list(request.grid.as_tuple()), "block": list(request.block.as_tuple()),
            "seconds": result.seconds, "status": result.status, "trace_format": 2}
    if args.json:
        print_json(info)
    else:
        print(f"wrote {len(trace):,} events to {out} ({format_bytes(size)}): {request.function} in "
              f"{info['kernel_file']}, {request.launch}, recorded in the CUDA simulator in "
              f"{format_duration(result.seconds)}")
    if result.status != "ok":
        print(f"{PROG}: the trace was written (up to the error), but {one_line(result.message)}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
