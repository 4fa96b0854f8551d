"""``gpuviz bench``: the speed benchmark (issue 7) headless, as a table or one JSON object.

Everything is timed in the engine's workers; this process imports neither numba
nor Qt. Exit codes follow ``gpuviz``'s: 0 measured (every result correct), 1 some
implementation gave a wrong result or failed, 2 a bad request (one line), 130 Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..model import speed
from ..model.limits import MAX_CALL_SECONDS, MAX_NUMBER_DIGITS, MAX_REPEATS, MAX_SPEED_SIZES
from ..model.speed import IMPLS, OPS, BenchResults, SpeedError
from ..model.text import TextError, format_duration, format_ratio, parse_sizes
from . import common
from .common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, one_line, text_arg


def _sizes(text: str) -> tuple[int, ...]:
    sizes = tuple(parse_sizes(text))
    if len(set(sizes)) > MAX_SPEED_SIZES:
        raise TextError(f"{len(set(sizes))} sizes: one sweep measures at most {MAX_SPEED_SIZES} (as the Speed panel)")
    return sizes


def _impls(text: str) -> tuple[str, ...]:
    names = tuple(p.strip() for p in text.split(",") if p.strip())
    for name in names:
        if name not in IMPLS:
            raise argparse.ArgumentTypeError(f"unknown implementation {name!r}: choose from {', '.join(IMPLS)}")
    if not names:
        raise argparse.ArgumentTypeError("give at least one implementation")
    return names


def _positive(kind, high=None, unit: str = ""):
    def parse(text: str):
        if len(text.strip()) > MAX_NUMBER_DIGITS:
            raise argparse.ArgumentTypeError(f"{common.shown(text)} has more characters than the {MAX_NUMBER_DIGITS} "
                                             "a number may have")
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a positive number, got {common.shown(text)}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be more than 0, got {text!r}")
        if high is not None and not value <= high:  # also NaN and infinity
            raise argparse.ArgumentTypeError(f"{text.strip()} is over {high:g}{unit}, the most allowed")
        return value

    return parse


def add_parser(commands) -> None:
    """Add the ``bench`` subcommand to ``gpuviz``'s subparsers."""
    bench = commands.add_parser(
        "bench", help="time loops vs NumPy vs Numba (vs the GPU) on a dot product, a matrix product, a layer",
        description="Time the same operation in several implementations (a pure-Python loop, NumPy, Numba "
                    "@njit with and without fastmath/parallel, the CUDA kernels and cuBLAS on a GPU, the CUDA "
                    "simulator at small sizes), each after a warm-up (JIT compile time shown apart), repeated, "
                    "and checked against NumPy in float64. Implementations estimated to take longer than "
                    "--max-seconds per call are skipped, with the estimate.",
        epilog="Sizes: N for dot (float64 vectors) and matmul (N×N float32), the batch size for layer (one "
               "forward+backward step of the 10×784 softmax layer). Defaults: dot 1,000,000 (the lecture's); "
               f"matmul {','.join(map(str, speed.DEFAULT_SIZES['matmul']))}; layer "
               f"{','.join(map(str, speed.DEFAULT_SIZES['layer']))}. Exit codes: 0 done, 1 a result was wrong "
               "or an implementation failed, 2 bad request, 130 cancelled.")
    bench.add_argument("--op", choices=OPS, default="dot", help="what to time (default dot)")
    bench.add_argument("--sizes", type=text_arg(_sizes), metavar="N,N,...", help="sizes to time, e.g. 1000,1e6")
    bench.add_argument("--impl", type=_impls, metavar="A,B,...",
                       help=f"implementations (default all): {', '.join(IMPLS)}")
    bench.add_argument("--repeats", type=_positive(int, MAX_REPEATS, " repeats"), default=3, metavar="R",
                       help="at least R timed repeats per implementation and size (more while under 0.2 s; "
                            "default 3)")
    bench.add_argument("--max-seconds", type=_positive(float, MAX_CALL_SECONDS, " s"),
                       default=speed.DEFAULT_MAX_SECONDS, metavar="S",
                       help=f"skip a call estimated to take longer than S seconds (default "
                            f"{speed.DEFAULT_MAX_SECONDS:g})")
    bench.add_argument("--json", action="store_true",
                       help='print one JSON object {"machine": ..., "results": [...]} instead of the table')
    bench.add_argument("--save", metavar="FILE.json", help="also save the results with the machine's description")
    bench.add_argument("--load", metavar="FILE.json",
                       help="print results saved with --save (or by the app) instead of measuring")
    bench.set_defaults(handler=cmd_bench)


# -- the table ---------------------------------------------------------------------------------


def _gflops(m: speed.Measurement) -> str:
    g = m.gflops()
    if g is None:
        return "–"
    return f"{g:.3g}" if g < 1000 else f"{g:,.0f}"


def _times(x: float | None) -> str:
    return "–" if x is None else format_ratio(x)


def _note(m: speed.Measurement) -> str:
    if m.skipped:
        return f"skipped: {m.skipped}"
    if m.correct is False:
        return f"WRONG: error {m.max_rel_error:.2g} > {speed.TOLERANCE[m.op]:.0e}"
    notes = [f"NOISY: {m.noisy}"] if m.noisy else []
    if m.threads is not None and m.impl in ("numpy", "numba-parallel"):
        notes.append(f"{m.threads} thread{'s' if m.threads > 1 else ''}")
    notes += [speed.impl_note(m.op, m.impl) or ""]
    return "; ".join(n for n in notes if n)


def format_table(results: BenchResults) -> list[str]:
    """The results as text lines, one table per op."""
    lines = [f"machine: {results.machine.label()}"]
    if results.loaded:
        lines.append(f"loaded from {results.source} (measured {results.created or 'at an unknown time'})")
    m = results.machine
    if m.busy:
        lines.append(f"note: load average {m.load:g} on {m.cores} cores while measuring: other programs "
                     "competed for the CPU, so these times are slower than this machine can do")
    if results.cancelled:
        lines.append("cancelled: the sweep stopped before every measurement was taken")
    # the headline ratio from each one's fastest repeat (the least disturbed), the medians' ratio beside it
    speedups = results.speedups("python", stat="min")
    by_median = results.speedups("python")
    for op in results.ops():
        layer = op == "layer"
        header = ["impl", "batch" if layer else "size", "median", "min–max", "GFLOP/s"]
        header += ["examples/s"] if layer else []
        header += ["× python", "(median)", "compile", "note"]
        rows = []
        for m in sorted((m for m in results.measurements if m.op == op), key=lambda m: (m.size, IMPLS.index(m.impl))):
            row = [m.impl, f"{m.size:,}", format_duration(m.median_s),
                   "–" if m.min_s is None else f"{format_duration(m.min_s)}–{format_duration(m.max_s)}", _gflops(m)]
            if layer:
                eps = m.examples_per_second()
                row.append("–" if eps is None else f"{eps:,.0f}")
            row += [_times(speedups.get((op, m.impl, m.size))), _times(by_median.get((op, m.impl, m.size))),
                    "–" if m.compile_s is None else format_duration(m.compile_s), _note(m)]
            rows.append(row)
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        lines += ["", speed.OP_LABELS[op]]
        for r in [header, *rows]:
            lines.append("  ".join(c.ljust(w) if i in (0, len(r) - 1) else c.rjust(w)
                                   for i, (c, w) in enumerate(zip(r, widths))).rstrip())
    noisy = results.noisy()
    if noisy:
        lines += ["", f"noisy: {len(noisy)} of {sum(1 for m in results.measurements if m.measured)} measurements "
                      f"cannot be trusted (other programs took the CPU while they ran): {speed.NOISY_ADVICE}"]
    return lines


# -- running -----------------------------------------------------------------------------------


def _run(engine, args, sizes, impls, err) -> BenchResults:
    """``engine.bench`` in a helper thread, so that Ctrl-C in the main thread can cancel it cleanly."""
    total = [0]
    count = [0]

    def progress(p):
        total[0] = p.total

    def measured(m: speed.Measurement):
        count[0] += 1
        what = m.skipped and f"skipped ({m.skipped})" or f"{format_duration(m.median_s)} ({m.repeats} repeats)"
        what += " NOISY" if m.noisy else ""
        print(f"[{count[0]}/{total[0] or '?'}] {m.op} {m.impl} {m.size:,}: {what}", file=err, flush=True)

    return common.call_cancellable(engine, lambda: engine.bench(
        args.op, sizes, impls, repeats=args.repeats, on_progress=progress, on_measurement=measured,
        max_seconds_per_impl=args.max_seconds), "gpuviz-bench")


def _fail(message: str) -> int:
    print(f"{common.PROG}: error: {one_line(message)}", file=sys.stderr)
    return EXIT_USAGE


def cmd_bench(args, out=None, err=None) -> int:
    """The ``bench`` subcommand."""
    from ..engine import Engine
    from ..engine.process import WorkerDied, WorkerError

    out = out or sys.stdout
    err = err or sys.stderr
    try:
        if args.load is not None:  # an empty --load is a refused path, not "measure"
            if args.sizes or args.impl or args.save is not None:
                return _fail("--load prints saved results: it takes no --sizes, --impl or --save")
            results = _load(args.load)
        else:
            sizes = speed.check_sizes(args.op, args.sizes)
            impls = speed.check_impls(args.impl)
            if args.save is not None:  # an empty --save is refused, not "do not save"
                _check_save(args.save)
            with Engine() as engine:
                try:
                    results = _run(engine, args, sizes, impls, err)
                except (WorkerError, WorkerDied) as e:
                    print(f"gpuviz: the benchmark failed: {e}", file=err)
                    return EXIT_FAILED
            if args.save is not None:
                results.save(args.save)
                print(f"saved {args.save}", file=err)
    except SpeedError as e:
        return _fail(str(e))
    if args.json:
        common.print_json(results.to_json(), file=out)
    else:
        print("\n".join(format_table(results)), file=out)
    bad = [m for m in results.measurements if m.correct is False or (m.skipped or "").startswith("failed")]
    return EXIT_FAILED if bad else EXIT_OK


def _load(path) -> BenchResults:
    """Saved results, read with bounds (a regular file under the results size, nesting measured first)."""
    text = common.read_results_text(path, "--load")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise SpeedError(f"{Path(path).name} is not a JSON file ({e})") from None
    except ValueError as e:  # json's int() past 4,300 digits: the reader's digit bound should stop it first
        raise SpeedError(f"{Path(path).name} holds a number JSON cannot read ({str(e).splitlines()[0][:80]})") from None
    except RecursionError:
        raise SpeedError(f"{Path(path).name} nests arrays or objects too deep to read") from None
    return BenchResults.from_json(data, source=str(path))


def _check_save(path) -> None:
    if Path(path).suffix.lower() != ".json":
        raise SpeedError(f"--save writes JSON: give a file name ending in .json, got {Path(path).name!r}")
    common.check_writable(path, "--save", "results.json")


__all__ = ["add_parser", "cmd_bench", "format_table"]
