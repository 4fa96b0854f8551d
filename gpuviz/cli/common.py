"""What every ``gpuviz`` subcommand shares: the usage error, the exit codes, JSON output, the progress
line, argument types, the launch options of ``run`` and ``trace``, and the cancellable engine call.

Importing this module loads neither Qt nor numba.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import stat
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ..model.budget import Budget, plan_run
from ..model.files import kind_of, name_max, probe_write
from ..model.launch import Dim3, LaunchConfig, LaunchError, check_launch
from ..model.limits import (
    MAX_MATRIX_SIDE,
    MAX_MEMORY_BYTES,
    MAX_NAME_BYTES,
    MAX_NUMBER_DIGITS,
    MAX_REPEATS,
    MAX_RESULTS_BYTES,
    MAX_TRAIN_STEPS,
    MIN_MEMORY_BYTES,
    SEED_MAX,
    SEED_MIN,
)
from ..model.matmul import BACKENDS, KERNELS, MatmulProblem, launch_for
from ..model.text import TextError, format_bytes, parse_bytes

if TYPE_CHECKING:
    from ..engine import Engine, MatmulJob, RunResult

PROG = "gpuviz"
#: 0 the command did what was asked (for ``run``: C is A·B); 1 the product was wrong, the kernel raised
#: or its worker died; 2 the request itself is wrong (one line on stderr, nothing started); 130 Ctrl-C.
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130

# Simulator progress appears only once a run has lasted this long: short runs stay quiet.
PROGRESS_DELAY_S = 1.0


class UsageError(Exception):
    """A request that cannot be carried out as asked; its message is the one line the user sees."""


class Parser(argparse.ArgumentParser):
    # argparse prints the whole usage block and exits on a bad argument; a
    # wrong size in a lecture should cost one readable line, so raise instead
    # and let main() print it.
    def error(self, message):
        raise UsageError(message)


def one_line(text) -> str:
    """``text`` with its line breaks and runs of blanks made single spaces (stderr gets one line)."""
    return " ".join(str(text).split())


# -- argument types -----------------------------------------------------------------------


def text_arg(parse):
    """An argparse type from a :mod:`gpuviz.model.text` parser: its one sentence becomes argparse's message."""
    def convert(text: str):
        try:
            return parse(text)
        except TextError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    convert.__name__ = parse.__name__
    return convert


#: ``--memory 4GiB``: the model's byte-size grammar (:func:`memory_arg` adds the budget's bounds).
bytes_arg = text_arg(parse_bytes)


def shown(text, limit: int = 40) -> str:
    """``text`` quoted for a refusal, cut to ``limit`` characters with its length (a 5,000-digit value stays one
    short line)."""
    text = str(text)
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit - 12]!r}… ({len(text):,} characters)"


_WHOLE = re.compile(r"[+-]?[0-9]+")  # ASCII digits only, as Dim3 reads them: "٣" is not 3 here


def whole_number(text: str, what: str = "a whole number") -> int:
    """``text`` as a whole number, refused in one sentence (argparse's type error) before Python converts it
    when it has more than :data:`~gpuviz.model.limits.MAX_NUMBER_DIGITS` digits."""
    token = str(text).strip().replace("_", "")
    if not _WHOLE.fullmatch(token):
        raise argparse.ArgumentTypeError(f"cannot read {shown(text)} as {what}")
    digits = len(token.lstrip("+-"))
    if digits > MAX_NUMBER_DIGITS:
        raise argparse.ArgumentTypeError(f"{shown(text)} has {digits:,} digits, more than the {MAX_NUMBER_DIGITS} "
                                         f"any number here may have")
    return int(token)


def bounded_int(low: int, high: int, what: str, high_text: str | None = None):
    """An argparse type for a whole number from ``low`` to ``high`` (``what`` names it in the refusal)."""
    def convert(text: str) -> int:
        value = whole_number(text, what)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{shown(text)} is outside {low:,} … {high_text or f'{high:,}'}, "
                                             f"the range of {what}")
        return value

    convert.__name__ = what
    return convert


#: ``--seed``: NumPy's generators take 0 … 2³²−1 everywhere gpuviz stores a seed.
seed_arg = bounded_int(SEED_MIN, SEED_MAX, "a seed", f"{SEED_MAX:,} (2³²−1)")


def size_arg(text: str) -> int:
    """A matrix side (``--m``, ``--n``, ``--k``); at most :data:`~gpuviz.model.limits.MAX_MATRIX_SIDE`, the lower
    range check is the model's (run's own message)."""
    try:
        value = whole_number(text, "a matrix size")
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"cannot read {shown(text)} as a matrix size (a whole number of at most "
                                         f"{MAX_MATRIX_SIDE:,})") from None
    if value > MAX_MATRIX_SIDE:
        raise argparse.ArgumentTypeError(f"{value:,} is over {MAX_MATRIX_SIDE:,}, the largest matrix side")
    return value


def memory_arg(text: str) -> int:
    """``--memory 4GiB``: the model's byte-size grammar, within the budget's bounds."""
    try:
        value = parse_bytes(text)
    except TextError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    if not MIN_MEMORY_BYTES <= value <= MAX_MEMORY_BYTES:
        raise argparse.ArgumentTypeError(f"{shown(text)} is over {format_bytes(MAX_MEMORY_BYTES)}, the largest "
                                         "memory budget")
    return value


_DIGIT_RUN = re.compile(r"\d+")


def dim3_arg(text: str) -> Dim3:
    """A grid or block shape such as ``16x16``: numbers of more than 30 digits refused before they are read."""
    if any(len(run) > MAX_NUMBER_DIGITS for run in _DIGIT_RUN.findall(str(text))):
        raise argparse.ArgumentTypeError(f"{shown(text)} has a number of more than the {MAX_NUMBER_DIGITS} digits "
                                         "any number here may have")
    try:
        return Dim3.parse(text)
    except (LaunchError, ValueError) as e:
        raise argparse.ArgumentTypeError(one_line(e)) from None


def block_arg(text: str) -> Dim3:
    """A block shape such as ``16x16``."""
    return dim3_arg(text)


def positive_int(text: str) -> int:
    """A whole number of at least 1 (and of at most :data:`~gpuviz.model.limits.MAX_NUMBER_DIGITS` digits)."""
    try:
        value = whole_number(text)
    except argparse.ArgumentTypeError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {shown(text)}")
    return value


def repeats_arg(text: str) -> int:
    """Timed repeats: 1 … :data:`~gpuviz.model.limits.MAX_REPEATS`."""
    value = positive_int(text)
    if value > MAX_REPEATS:
        raise argparse.ArgumentTypeError(f"{value:,} repeats is more than the {MAX_REPEATS:,} allowed")
    return value


def steps_arg(text: str) -> int:
    """Training steps: 1 … :data:`~gpuviz.model.limits.MAX_TRAIN_STEPS` (``grad --train``, ``export grad``)."""
    value = positive_int(text)
    if value > MAX_TRAIN_STEPS:
        raise argparse.ArgumentTypeError(f"{value:,} training steps is more than the {MAX_TRAIN_STEPS:,} "
                                         "allowed")
    return value


# a side of more digits than any number may have is refused as unreadable, before int() converts it
_PICTURE_SIZE = re.compile(rf"\s*(\d{{1,{MAX_NUMBER_DIGITS}}})\s*[xX×]\s*(\d{{1,{MAX_NUMBER_DIGITS}}})\s*")


def picture_size(text: str, max_width: int, max_height: int, limit_text: str) -> tuple[int, int]:
    """``WIDTHxHEIGHT`` (``x``, ``X`` or ``×``) within the limits; ``limit_text`` ends the refusal of a side."""
    match = _PICTURE_SIZE.fullmatch(text)
    if match is None:
        raise argparse.ArgumentTypeError(f"cannot read {shown(text)} as a picture size: write WIDTHxHEIGHT, "
                                         "e.g. 1920x1080")
    width, height = int(match.group(1)), int(match.group(2))
    if not (1 <= width <= max_width and 1 <= height <= max_height):
        raise argparse.ArgumentTypeError(f"--size {shown(text)}: each side must be {limit_text}")
    return width, height


def launch_options() -> argparse.ArgumentParser:
    """The options that describe one product and its launch, shared by run and trace."""
    p = Parser(add_help=False)
    g = p.add_argument_group("the product C = A·B and its launch")
    g.add_argument("--kernel", required=True, choices=KERNELS, help="which kernel computes C")
    g.add_argument("--m", required=True, type=size_arg, metavar="M", help="rows of A and C")
    g.add_argument("--n", required=True, type=size_arg, metavar="N", help="columns of B and C")
    g.add_argument("--k", required=True, type=size_arg, metavar="K", help="columns of A, rows of B")
    g.add_argument("--block", required=True, type=block_arg, metavar="BXxBY",
                   help="threads per block, e.g. 16x16 (the tiled kernel needs a square block)")
    g.add_argument("--backend", default="auto", choices=BACKENDS,
                   help="gpu, CUDA simulator, or auto: the GPU when one is found (default auto)")
    g.add_argument("--seed", type=seed_arg, default=0, help="seed of the standard-normal inputs (default 0)")
    b = p.add_argument_group("budget and output")
    b.add_argument("--memory", type=memory_arg, default=Budget().memory_bytes, metavar="SIZE",
                   help="memory budget for arrays and traces, e.g. 4GiB (default 2GiB)")
    b.add_argument("--yes", action="store_true",
                   help="run even when the simulator is estimated to take over two minutes")
    b.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    return p


def read_results_text(path, option: str = "--load") -> str:
    """The text of a results file (``bench --load``, ``export speed --results``), read with bounds.

    A regular file of at most :data:`~gpuviz.model.limits.MAX_RESULTS_BYTES`, UTF-8, nested at most
    :data:`~gpuviz.model.limits.MAX_NESTING` deep (measured before :mod:`json` recurses): the model's reader,
    :func:`gpuviz.model.speed.read_results_text`, which the Speed panel's ``[view] results`` goes through too;
    else :class:`UsageError` in one sentence.
    """
    from ..model.speed import SpeedError
    from ..model.speed import read_results_text as read_bounded

    p = check_input_file(path, option, MAX_RESULTS_BYTES, "results file")
    try:
        return read_bounded(p)
    except SpeedError as e:
        raise UsageError(f"{option} {path}: {e}") from None


# -- checks before anything starts ------------------------------------------------------------


def validate_launch(args) -> tuple[MatmulProblem, LaunchConfig]:
    """Problem and launch of the arguments; raises ShapeError / LaunchError."""
    problem = MatmulProblem(args.m, args.n, args.k)
    # the block's own limits first: "blockDim.z = 65 exceeds 64" teaches more
    # than "the matmul kernels use 2-D blocks"
    check_launch(Dim3(1), args.block)
    return problem, launch_for(args.kernel, problem, args.block)


def check_budget(engine: Engine, args, problem, backend: str, *, trace: bool) -> None:
    """Raise BudgetError when the run of ``args`` on ``backend`` goes over the engine's budget."""
    plan = plan_run(args.kernel, problem, args.block, simulator=backend == "simulator", trace=trace)
    engine.budget.check(plan, confirmed=args.yes)


def check_output(path, option: str = "--out", example: str = "trace.npz") -> Path:
    """``path`` as an output file that can be written, checked before any work starts; else :class:`UsageError`.

    An empty path is an error (never "no output"); the name must fit the file system's name length; an
    existing ``path`` must be a regular, writable file (a folder, FIFO or device would make the write fail
    or block after the work); the folder must exist and take a new file, which is tried with a temporary
    file that is removed at once (outputs are written whole, through a temporary file beside them).
    """
    text = os.fspath(path) if not isinstance(path, str) else path
    if not str(text).strip():
        raise UsageError(f"{option} {text!r}: an empty path names no file; give a file name such as {example}")
    if "\0" in str(text):
        raise UsageError(f"{option}: the path contains a NUL character, which no file name may")
    out = Path(text)
    folder = out.parent
    name_bytes = len(os.fsencode(out.name))
    longest = name_max(folder) if folder.is_dir() else MAX_NAME_BYTES
    if name_bytes > longest:
        raise UsageError(f"{option}: the file name is {name_bytes} bytes long, over the {longest}-byte limit "
                         "of file names here")
    try:
        st = os.stat(out)
    except (FileNotFoundError, NotADirectoryError):
        st = None
    except OSError as e:
        raise UsageError(f"{option} {text}: cannot use it ({e.strerror or e})") from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise UsageError(f"{option} {text}: is a folder, expected a file name such as {example}")
        if not stat.S_ISREG(st.st_mode):
            raise UsageError(f"{option} {text}: is {kind_of(st.st_mode)}, expected a regular file such as {example}")
        if not os.access(out, os.W_OK):
            raise UsageError(f"{option} {text}: the file is read-only")
    if not folder.is_dir():
        raise UsageError(f"{option} {text}: the folder {str(folder)!r} does not exist")
    try:
        probe_write(folder)
    except OSError as e:
        raise UsageError(f"{option} {text}: cannot write in the folder {str(folder)!r} "
                         f"({e.strerror or e})") from None
    return out


def check_writable(path, option: str = "--out", example: str = "trace.npz") -> Path:
    """Fail now, not after a long run, when ``path`` cannot be written (:func:`check_output`)."""
    return check_output(path, option, example)


def check_input_file(path, option: str, max_bytes: int, what: str = "file") -> Path:
    """``path`` as a regular file of at most ``max_bytes``, checked before it is opened; else :class:`UsageError`.

    A FIFO or device would block or never end (``/dev/zero``); a folder or a missing file cannot be read.
    """
    text = os.fspath(path) if not isinstance(path, str) else path
    if not str(text).strip():
        raise UsageError(f"{option} {text!r}: an empty path names no {what}")
    try:
        st = os.stat(text)
    except FileNotFoundError:
        raise UsageError(f"{option} {text}: no such file") from None
    except (OSError, ValueError) as e:
        raise UsageError(f"{option} {text}: cannot read it ({getattr(e, 'strerror', None) or e})") from None
    if not stat.S_ISREG(st.st_mode):
        raise UsageError(f"{option} {text}: is {kind_of(st.st_mode)}, expected a {what}")
    if st.st_size > max_bytes:
        raise UsageError(f"{option} {text}: the {what} is {format_bytes(st.st_size)}, over the "
                         f"{format_bytes(max_bytes)} a {what} may have")
    return Path(text)


# -- output -------------------------------------------------------------------------------


def json_safe(value):
    """``value`` with every non-finite float made None, tuples made lists: JSON has no NaN."""
    # a kernel that writes NaN gives a NaN error
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def print_json(obj, file=None) -> None:
    """``obj`` as one line of strict JSON on stdout (or ``file``)."""
    print(json.dumps(json_safe(obj), allow_nan=False), file=file or sys.stdout)


class ProgressLine:
    """Simulator progress on stderr, only on a terminal and only for runs longer than a second."""

    def __init__(self, label: str, stream=None):
        self.stream = stream or sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.label = label
        self.start = time.monotonic()
        self.shown = 0

    def __call__(self, progress) -> None:
        elapsed = time.monotonic() - self.start
        if not self.enabled or elapsed < PROGRESS_DELAY_S or progress.total <= 0:
            return
        pct = 100 * progress.done / progress.total
        text = f"{self.label}: block {progress.done}/{progress.total} ({pct:.0f}%), {elapsed:.0f} s"
        self.stream.write("\r" + text.ljust(self.shown))
        self.stream.flush()
        self.shown = len(text)

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * self.shown + "\r")
            self.stream.flush()
            self.shown = 0


# -- running engine jobs ----------------------------------------------------------------------


def call_cancellable(engine: Engine, call, name: str = "gpuviz-job"):
    """``call()`` (a blocking engine call) as an engine :class:`~gpuviz.engine.jobs.Job`, so that Ctrl-C cancels it.

    The main thread waits on the job; on Ctrl-C the job is cancelled (the engine's
    cancel is repeated until it lands: the job may not have reached its worker yet),
    its end awaited for up to 10 s, and KeyboardInterrupt raised again. An exception
    of ``call`` is raised here.
    """
    from ..engine.jobs import Job

    job = Job(lambda _job: call(), engine.cancel, name=name).start()
    try:
        while not job.wait(0.1):
            pass
    except KeyboardInterrupt:
        job.cancel()
        job.wait(10)
        raise
    return job.get()


def run_matmul_job(engine: Engine, job: MatmulJob, on_progress, confirmed: bool) -> RunResult:
    """``engine.run(job)`` through :func:`call_cancellable` (``run`` and ``trace`` call it as ``common.…``,
    so that tests can replace it)."""
    return call_cancellable(engine, lambda: engine.run(job, on_progress, confirmed=confirmed), "gpuviz-run")
