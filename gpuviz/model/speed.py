"""The speed benchmark's data: what was measured, on which machine, and what it means.

Pure NumPy and stdlib (floor 1): the measurements themselves are taken in the
engine's worker (:mod:`gpuviz.engine.bench`); this module holds the results,
their arithmetic (GFLOP/s, speed-ups, examples per second), their files (JSON
and CSV), and the skip logic's estimate of how long a run would take.

Operations (``size`` means a different thing for each):

* ``dot``: the dot product of two float64 vectors of ``size`` elements
  (the lecture's 1,000,000-element example), ``2·size`` flops;
* ``matmul``: ``size×size · size×size`` in **float32** (as the CUDA kernels
  compute it), ``2·size³`` flops;
* ``layer``: one forward and backward pass (gradients, no update) of the
  10×784 dense layer with softmax cross-entropy on a batch of ``size``
  examples, float64; counted as its two matrix products, ``4·size·10·784`` flops.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .files import write_text_atomic
from .limits import MAX_NUMBER_DIGITS, MAX_RESULTS_BYTES, depth_problem
from .panel import ParamsError
from .text import format_bytes, format_duration

OPS = ("dot", "matmul", "layer")
IMPLS = ("python", "numpy", "numba", "numba-fastmath", "numba-parallel", "gpu-naive", "gpu-tiled", "cublas",
         "simulator")
#: Implementations that need a CUDA GPU (the simulator does not).
GPU_IMPLS = ("gpu-naive", "gpu-tiled", "cublas")
#: Implementations compiled just in time: their first call's extra time is reported as ``compile_s``.
JIT_IMPLS = ("numba", "numba-fastmath", "numba-parallel", "gpu-naive", "gpu-tiled")

DEFAULT_SIZES = {
    "dot": (1_000_000,),
    "matmul": (16, 32, 64, 128, 256, 512),
    "layer": (1, 4, 16, 64, 256, 1024),  # batch sizes
}
#: A sweep over sizes for the dot product (the CLI's default is the lecture's single 1M).
DOT_SWEEP = (1_000, 10_000, 100_000, 1_000_000, 10_000_000)

#: The dense layer the ``layer`` op times (the digits classifier's).
LAYER_SHAPE = (10, 784)

OP_LABELS = {
    "dot": "dot product of two float64 vectors",
    "matmul": "matrix product N×N·N×N (float32)",
    "layer": "dense layer 10×784, forward + backward, softmax cross-entropy (float64)",
}
SIZE_LABELS = {"dot": "vector length N", "matmul": "matrix size N", "layer": "batch size B"}

IMPL_LABELS = {
    "python": "Python loop",
    "numpy": "NumPy",
    "numba": "Numba @njit",
    "numba-fastmath": "Numba fastmath",
    "numba-parallel": "Numba parallel",
    "gpu-naive": "GPU naive kernel",
    "gpu-tiled": "GPU tiled kernel",
    "cublas": "cuBLAS (CuPy)",
    "simulator": "CUDA simulator",
}

#: How the time of each op grows with its size (the exponent of ``size``).
COMPLEXITY = {"dot": 1, "matmul": 3, "layer": 1}

#: Largest error of a correct result, relative to the result's scale (see :func:`relative_error`).
#: float64 sums of 10⁷ terms stay near 1e-13; float32 products over K = 4096 near 1e-6; a wrong result is ~1.
TOLERANCE = {"dot": 1e-10, "matmul": 1e-4, "layer": 1e-9}

#: The CUDA simulator runs one OS thread per CUDA thread: only small sizes are worth it.
SIMULATOR_MAX_SIZE = {"dot": 4096, "matmul": 32}

#: Seconds per flop assumed when nothing smaller has been measured for an implementation (a rough
#: guess on a laptop, erring slow, so a first size far too large is skipped rather than run).
PRIOR_SECONDS_PER_FLOP = {
    "python": 4e-8,
    "numpy": 2e-10,
    "numba": 1e-9,
    "numba-fastmath": 5e-10,
    "numba-parallel": 5e-10,
    "gpu-naive": 2e-11,
    "gpu-tiled": 1e-11,
    "cublas": 2e-12,
    "simulator": 5e-5,
}

#: The default limit on one call's estimated time, per implementation and size.
DEFAULT_MAX_SECONDS = 5.0

#: A measurement whose median is more than this many times its minimum is flagged noisy: the repeats disagree,
#: so something else took the CPU during some of them.
NOISY_SPREAD = 1.5
#: What a noisy flag tells the user to do.
NOISY_ADVICE = "close other programs and measure again"

#: How a measurement's times were taken (its ``clock``).
CLOCK_WALL = "wall clock"
#: The measuring thread's CPU time: for code on one thread, the time it had the CPU (other programs that take
#: the core away do not count), so the figure holds under load.
CLOCK_THREAD = "CPU time of its thread"
CLOCK_CUDA = "CUDA events"


class SpeedError(ParamsError):
    """A bad op, size, implementation or results file; the message is one sentence."""


def check_op(op) -> str:
    if op not in OPS:
        raise SpeedError(f"unknown operation {op!r}: choose one of {', '.join(OPS)}")
    return op


def check_impls(impls) -> tuple[str, ...]:
    """``impls`` (None: all) as a tuple in :data:`IMPLS` order, or :class:`SpeedError` naming a bad one."""
    if impls is None:
        return IMPLS
    impls = [impls] if isinstance(impls, str) else list(impls)
    if not impls:
        raise SpeedError("no implementation given: choose from " + ", ".join(IMPLS))
    for impl in impls:
        if impl not in IMPLS:
            raise SpeedError(f"unknown implementation {impl!r}: choose from {', '.join(IMPLS)}")
    return tuple(i for i in IMPLS if i in impls)


def check_sizes(op: str, sizes) -> tuple[int, ...]:
    """``sizes`` (None: the op's default) as sorted distinct positive ints, or :class:`SpeedError`."""
    check_op(op)
    if sizes is None:
        return DEFAULT_SIZES[op]
    out = set()
    for s in ([sizes] if isinstance(sizes, (int, str)) else sizes):
        try:
            value = int(str(s).strip().replace("_", ""))
        except ValueError:
            raise SpeedError(f"a size must be a whole number, got {s!r}") from None
        if value < 1:
            raise SpeedError(f"a size must be at least 1, got {value}")
        if value > max_size(op):
            raise SpeedError(f"{SIZE_LABELS[op]} {value} is too large for this benchmark "
                             f"(at most {max_size(op):,})")
        out.add(value)
    if not out:
        raise SpeedError("no size given")
    return tuple(sorted(out))


def max_size(op: str) -> int:
    """The largest size accepted: the inputs must fit a laptop's memory (about 1 GB)."""
    return {"dot": 50_000_000, "matmul": 8192, "layer": 65536}[check_op(op)]


def flops(op: str, size: int) -> float:
    """Floating-point operations of one call (multiply and add counted separately)."""
    check_op(op)
    if op == "dot":
        return 2.0 * size
    if op == "matmul":
        return 2.0 * float(size) ** 3
    m, n = LAYER_SHAPE
    return 4.0 * size * m * n


def impl_note(op: str, impl: str) -> str | None:
    """A short caveat to show next to an implementation's figures, if it has one."""
    if impl == "simulator":
        return "CUDA simulator: a correctness tool, its time is not GPU speed"
    if impl in ("gpu-naive", "gpu-tiled"):
        return "kernel time (CUDA events), inputs already on the GPU"
    if impl == "cublas":
        return "CuPy/cuBLAS time (CUDA events), inputs already on the GPU"
    if impl == "python" and op == "matmul":
        return "Python floats are float64 (the others compute in float32)"
    if impl == "numba-parallel":
        return "one thread per core that was free when measuring"
    return None


def busy_limit(cores: int) -> float:
    """The load average above which other programs competed with a measurement: ``cores − 1`` (at least 1).

    The benchmark itself keeps one core busy, so its own share of the load is 1; more than the remaining
    cores' worth means something else wanted the CPU too. A one-core machine keeps the limit at 1.
    """
    return float(max(1, int(cores) - 1))


def free_cores(busy: float | None, cores: int) -> int:
    """Cores left for the benchmark's threads when other programs keep ``busy`` cores' worth of CPU busy.

    At least 1, at most ``cores``; ``busy`` None (unknown) leaves every core. A threaded BLAS or Numba
    region with more threads than free cores waits for its slowest thread, which waits for a time slice:
    a 0.1 ms call then takes milliseconds.
    """
    cores = max(1, int(cores))
    if busy is None:
        return cores
    return max(1, min(cores, int(round(cores - float(busy)))))


def noisy_reason(median_s: float | None, min_s: float | None, load: float | None = None,
                 cores: int | None = None) -> str | None:
    """Why a measurement cannot be trusted, with what to do, or None when it can.

    Noisy when the median of the repeats is more than :data:`NOISY_SPREAD` times their minimum, or when the
    load average while measuring was over :func:`busy_limit` of the ``cores``. The text ends with
    :data:`NOISY_ADVICE`, e.g. ``"median 2.3× the minimum; load average 3.1 on 2 cores: close other programs
    and measure again"``.
    """
    reasons = []
    if median_s is not None and min_s is not None and min_s > 0 and median_s > NOISY_SPREAD * min_s:
        reasons.append(f"median {median_s / min_s:.2g}× the minimum")
    if load is not None and cores and load > busy_limit(cores):
        reasons.append(f"load average {load:g} on {cores} cores")
    if not reasons:
        return None
    return "; ".join(reasons) + f": {NOISY_ADVICE}"


def noisy_summary(measurements, short: bool = False) -> str | None:
    """One sentence for the noisy ones among ``measurements``: each reason once, with whom it concerns.

    ``"Noisy: load average up to 3.1 on 2 cores (Python loop, NumPy); median up to 2.4× the minimum (NumPy):
    close other programs and measure again"``; None when none is flagged. ``short`` leaves out whom each
    reason concerns (for a slide).
    """
    load, cores, loaded, spread = None, None, [], {}
    for m in measurements:
        if not getattr(m, "noisy", None) or not m.measured:
            continue
        name = IMPL_LABELS[m.impl]
        found = re.search(r"load average ([0-9.]+) on (\d+) cores", m.noisy)
        if found:
            load = max(load or 0.0, float(found.group(1)))
            cores = int(found.group(2))
            if name not in loaded:
                loaded.append(name)
        if m.noisy.startswith("median ") and m.spread is not None:
            spread[name] = max(spread.get(name, 0.0), m.spread)
    parts = []
    if loaded:
        parts.append(f"load average up to {load:g} on {cores} cores" + ("" if short else f" ({', '.join(loaded)})"))
    if spread:
        parts.append(f"median up to {max(spread.values()):.2g}× the minimum" + ("" if short else
                                                                               f" ({', '.join(spread)})"))
    if not parts:
        return None
    return f"Noisy: {'; '.join(parts)}: {NOISY_ADVICE}"


def sweep_title(op: str, sizes) -> str:
    """What a sweep measured, as a title: ``"Dot product of two float64 vectors, N = 1,000,000"``."""
    check_op(op)
    sizes = sorted(int(s) for s in sizes)
    if not sizes:
        where = ""
    elif op == "layer":
        where = f", batch size {sizes[0]:,}" if len(sizes) == 1 else f", batch sizes {sizes[0]:,} to {sizes[-1]:,}"
    else:
        where = f", N = {sizes[0]:,}" if len(sizes) == 1 else f", N = {sizes[0]:,} to {sizes[-1]:,}"
    label = OP_LABELS[op]
    return label[0].upper() + label[1:] + where


def relative_error(result, reference, scale) -> float:
    """``max |result − reference| / scale`` (``scale``: the size of the terms, so rounding is ~eps)."""
    diff = np.max(np.abs(np.asarray(result, dtype=np.float64) - np.asarray(reference, dtype=np.float64)))
    scale = float(scale)
    return float(diff / scale) if scale > 0 else float(diff)


@dataclass(frozen=True)
class Measurement:
    """One implementation of one operation at one size (the keys of ``gpuviz bench --json``).

    Attributes
    ----------
    op, impl : str
        One of :data:`OPS` and one of :data:`IMPLS`.
    size : int
        N for dot and matmul, the batch size for layer.
    median_s, min_s, max_s : float or None
        Seconds per call over the timed repeats (None when skipped).
    repeats : int
        Timed repeats (0 when skipped).
    compile_s : float or None
        The first call's extra time over a timed call (JIT compilation); None where nothing compiles (not a
        JIT implementation, or compiled already by an earlier size or sweep in the same worker).
    skipped : str or None
        Why it was not measured (e.g. ``"estimated 41 s > 5 s limit"``, ``"no GPU found"``).
    flops : float
        Floating-point operations of one call (see :func:`flops`).
    max_rel_error : float or None
        Error against NumPy float64 (see :func:`relative_error`); correct when ≤ ``TOLERANCE[op]``.
    number : int
        Calls per timed repeat (tiny calls are timed in groups; the times are per call).
    estimate_s : float or None
        For a run skipped by estimate, the estimated seconds of one call.
    load : float or None
        The highest 1-minute load average seen while this measurement's repeats ran (None: unknown).
    threads : int or None
        The threads the implementation was allowed (BLAS threads for NumPy, Numba's for numba-parallel):
        the cores that were free when the measuring began. None where the implementation is single-threaded
        or the limit could not be set.
    noisy : str or None
        Why the figure cannot be trusted and what to do (see :func:`noisy_reason`); None when it can.
    clock : str or None
        How the times were taken: :data:`CLOCK_THREAD` for code on one thread (the Python loop, serial Numba,
        NumPy with one BLAS thread), :data:`CLOCK_WALL` for threaded code and the simulator,
        :data:`CLOCK_CUDA` on the GPU; None in files written before it was kept.
    """

    op: str
    impl: str
    size: int
    median_s: float | None
    min_s: float | None
    max_s: float | None
    repeats: int
    compile_s: float | None
    skipped: str | None
    flops: float
    max_rel_error: float | None
    number: int = 1
    estimate_s: float | None = None
    load: float | None = None
    threads: int | None = None
    noisy: str | None = None
    clock: str | None = None

    @property
    def measured(self) -> bool:
        return self.skipped is None and self.median_s is not None

    @property
    def correct(self) -> bool | None:
        """Whether the result matched NumPy float64 (None when not measured)."""
        if self.max_rel_error is None:
            return None
        return bool(self.max_rel_error <= TOLERANCE[self.op])

    @property
    def spread(self) -> float | None:
        """Median over minimum of the repeats (1 when they all agree; None when not measured)."""
        if not self.measured or not self.min_s or self.min_s <= 0:
            return None
        return self.median_s / self.min_s

    def gflops(self) -> float | None:
        if not self.measured or self.median_s <= 0:
            return None
        return self.flops / self.median_s / 1e9

    def examples_per_second(self) -> float | None:
        """For ``layer``: batch size over the step's median time."""
        if self.op != "layer" or not self.measured or self.median_s <= 0:
            return None
        return self.size / self.median_s

    def to_dict(self) -> dict:
        d = asdict(self)
        d["gflops"] = self.gflops()
        d["correct"] = self.correct
        return d

    @classmethod
    def from_dict(cls, data: dict) -> Measurement:
        if not isinstance(data, dict):
            raise SpeedError(f"a result must be an object, got {type(data).__name__}")
        names = {f.name for f in fields(cls)}
        missing = [k for k in ("op", "impl", "size") if k not in data]
        if missing:
            raise SpeedError(f"a result lacks {', '.join(missing)}")
        kw = {k: v for k, v in data.items() if k in names}
        try:
            kw["size"] = int(kw["size"])
            for k in ("median_s", "min_s", "max_s", "compile_s", "max_rel_error", "estimate_s"):
                if kw.get(k) is not None:
                    kw[k] = float(kw[k])
            kw["repeats"] = int(kw.get("repeats") or 0)
            kw["number"] = int(kw.get("number") or 1)
            kw.setdefault("median_s", None)
            kw.setdefault("min_s", None)
            kw.setdefault("max_s", None)
            kw.setdefault("compile_s", None)
            kw.setdefault("skipped", None)
            kw.setdefault("max_rel_error", None)
            kw["load"] = None if kw.get("load") is None else float(kw["load"])
            kw["threads"] = None if kw.get("threads") is None else int(kw["threads"])
            kw["clock"] = None if kw.get("clock") in (None, "") else str(kw["clock"])
            if "noisy" in data:
                kw["noisy"] = None if data["noisy"] in (None, "") else str(data["noisy"])
            else:
                # written before the flag existed: the repeats' spread is in the file, the load is not
                kw["noisy"] = noisy_reason(kw["median_s"], kw["min_s"])
            if kw.get("flops") is None:
                kw["flops"] = flops(kw["op"], kw["size"])
            kw["flops"] = float(kw["flops"])
        except (TypeError, ValueError) as e:
            raise SpeedError(f"a result has a bad value ({e})") from None
        check_op(kw["op"])
        check_impls([kw["impl"]])
        return cls(**kw)

    @classmethod
    def skip(cls, op: str, impl: str, size: int, reason: str, estimate_s: float | None = None) -> Measurement:
        """A measurement that was not taken, and why."""
        return cls(op, impl, int(size), None, None, None, 0, None, reason, flops(op, size), None,
                   estimate_s=estimate_s)


@dataclass(frozen=True)
class Machine:
    """Where the figures were measured.

    Attributes
    ----------
    cpu : str
        CPU model (``/proc/cpuinfo`` or ``platform``).
    cores : int
        Logical cores (``os.cpu_count()``).
    blas : str
        NumPy's BLAS, e.g. ``"OpenBLAS 0.3.27"`` (``"unknown"`` when NumPy does not say).
    gpu : str or None
        The CUDA GPU's name, None without one.
    python, numpy, numba : str or None
        Versions.
    system : str
        Operating system and architecture.
    cupy : str or None
        CuPy's version when it is installed.
    load : float or None
        The 1-minute load average when the measuring began (None where unknown): above ``cores``,
        other programs were competing for the CPU and the figures are slower than the machine can do.
    """

    cpu: str
    cores: int
    blas: str
    gpu: str | None
    python: str | None
    numpy: str | None
    numba: str | None
    system: str = ""
    cupy: str | None = None
    load: float | None = None

    @property
    def busy(self) -> bool:
        """Whether other work competed for the CPU while measuring (load average over the cores)."""
        return self.load is not None and self.cores > 0 and self.load > self.cores

    def label(self) -> str:
        """One line: CPU, cores, BLAS and GPU."""
        gpu = self.gpu or "no GPU"
        return f"{self.cpu} · {self.cores} cores · {self.blas} · {gpu}"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data) -> Machine:
        if not isinstance(data, dict):
            raise SpeedError("the machine description must be an object")
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in data.items() if k in names}
        try:
            kw["cores"] = int(kw.get("cores") or 0)
        except (TypeError, ValueError):
            raise SpeedError(f"the machine's cores must be a number, got {data.get('cores')!r}") from None
        for k in ("cpu", "blas"):
            kw[k] = str(kw.get(k) or "unknown")
        for k in ("gpu", "python", "numpy", "numba", "cupy"):
            kw[k] = None if kw.get(k) is None else str(kw[k])
        kw["system"] = str(kw.get("system") or "")
        try:
            kw["load"] = None if kw.get("load") is None else float(kw["load"])
        except (TypeError, ValueError):
            kw["load"] = None
        return cls(**kw)

    @classmethod
    def unknown(cls) -> Machine:
        return cls("unknown", 0, "unknown", None, None, None, None)


def read_results_text(path) -> str:
    """The text of a results file (``gpuviz bench --save``), read with bounds.

    ``path`` must be a regular file (a FIFO would block, ``/dev/zero`` never ends) of at most
    :data:`~gpuviz.model.limits.MAX_RESULTS_BYTES`, checked before it is opened and again while it is read (a file
    that grows meanwhile is read no further than the bound); UTF-8; its arrays and objects nested at most
    :data:`~gpuviz.model.limits.MAX_NESTING` deep, measured before :mod:`json` recurses. Otherwise
    :class:`SpeedError`, one sentence without the path (callers put it in front).
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise SpeedError("cannot read it: no such file") from None
    except (OSError, ValueError) as e:  # ValueError: a NUL in the path
        raise SpeedError(f"cannot read it ({getattr(e, 'strerror', None) or e})") from None
    if stat.S_ISDIR(st.st_mode):
        raise SpeedError("is a folder, not a results file")
    if not stat.S_ISREG(st.st_mode):
        raise SpeedError("is not a regular file (a FIFO, device or socket), so it is not read")
    if st.st_size > MAX_RESULTS_BYTES:
        raise SpeedError(f"the results file is {format_bytes(st.st_size)}, over the {format_bytes(MAX_RESULTS_BYTES)} "
                         "a results file may have")
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_RESULTS_BYTES + 1)
    except OSError as e:
        raise SpeedError(f"cannot read it ({e.strerror or e})") from None
    if len(raw) > MAX_RESULTS_BYTES:
        raise SpeedError(f"over the {format_bytes(MAX_RESULTS_BYTES)} a results file may have")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SpeedError(f"is not UTF-8 text (byte {e.start})") from None
    too_deep = depth_problem(text, "json")
    if too_deep:
        raise SpeedError(too_deep)
    # json converts every integer with int(), which refuses more than 4,300 digits with a ValueError; measured
    # here, outside strings, every caller's json.loads gets numbers it can read
    longest = max((len(run) for run in _DIGITS.findall(_JSON_STRING.sub('""', text))), default=0)
    if longest > MAX_NUMBER_DIGITS:
        raise SpeedError(f"holds a number of {longest:,} digits, more than the {MAX_NUMBER_DIGITS} any number here "
                         "may have")
    return text


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_DIGITS = re.compile(r"[0-9]+")


FORMAT = "gpuviz-bench"
FORMAT_VERSION = 1
CSV_COLUMNS = ("op", "impl", "size", "median_s", "min_s", "max_s", "repeats", "compile_s", "skipped", "flops",
               "max_rel_error", "gflops", "number", "estimate_s", "load", "threads", "noisy", "clock")


def _now() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


@dataclass
class BenchResults:
    """Measurements and the machine they were taken on.

    Attributes
    ----------
    machine : Machine
    measurements : list[Measurement]
    created : str
        ISO time of the measurement.
    source : str
        ``"measured here"``, or the path the results were loaded from (show it: the figures may come
        from another machine).
    cancelled : bool
        The sweep was cancelled: these are the measurements finished before that.
    """

    machine: Machine
    measurements: list = field(default_factory=list)
    created: str = field(default_factory=_now)
    source: str = "measured here"
    cancelled: bool = False

    @property
    def loaded(self) -> bool:
        return self.source != "measured here"

    def add(self, m: Measurement) -> None:
        self.measurements.append(m)

    def get(self, op: str, impl: str, size: int) -> Measurement | None:
        for m in self.measurements:
            if (m.op, m.impl, m.size) == (op, impl, size):
                return m
        return None

    def ops(self) -> list[str]:
        return [op for op in OPS if any(m.op == op for m in self.measurements)]

    def impls(self, op: str | None = None) -> list[str]:
        present = {m.impl for m in self.measurements if op is None or m.op == op}
        return [i for i in IMPLS if i in present]

    def sizes(self, op: str) -> list[int]:
        return sorted({m.size for m in self.measurements if m.op == op})

    def series(self, op: str, impl: str) -> list[Measurement]:
        """One implementation's measured points, by size (skipped ones left out)."""
        return sorted((m for m in self.measurements if m.op == op and m.impl == impl and m.measured),
                      key=lambda m: m.size)

    def speedups(self, baseline: str = "python", stat: str = "median") -> dict:
        """``{(op, impl, size): baseline's time / impl's time}`` wherever both were measured.

        ``stat`` is ``"median"`` or ``"min"``: which of each measurement's times is compared.
        """
        if stat not in ("median", "min"):
            raise SpeedError(f"unknown statistic {stat!r}: choose median or min")
        key = "median_s" if stat == "median" else "min_s"
        base = {(m.op, m.size): getattr(m, key) for m in self.measurements if m.impl == baseline and m.measured}
        out = {}
        for m in self.measurements:
            b = base.get((m.op, m.size))
            t = getattr(m, key)
            if b is not None and m.measured and t is not None and t > 0:
                out[(m.op, m.impl, m.size)] = b / t
        return out

    def ratio(self, op: str, size: int, impl: str = "numpy", baseline: str = "python") -> Ratio | None:
        """How many times faster ``impl`` ran than ``baseline`` at one size (None unless both were measured)."""
        b, m = self.get(op, baseline, size), self.get(op, impl, size)
        if b is None or m is None or not (b.measured and m.measured) or not (m.min_s and m.median_s):
            return None
        noisy = tuple(f"{IMPL_LABELS[x.impl]}: {x.noisy}" for x in (b, m) if x.noisy)
        return Ratio(op, size, impl, baseline, b.min_s / m.min_s, b.median_s / m.median_s, noisy)

    def noisy(self) -> list[Measurement]:
        """The measurements flagged noisy (see :func:`noisy_reason`)."""
        return [m for m in self.measurements if m.measured and m.noisy]

    def examples_per_second(self, impl: str | None = None) -> dict:
        """For the layer op: ``{(impl, batch): examples per second}`` (one implementation, or all)."""
        out = {}
        for m in self.measurements:
            if m.op == "layer" and (impl is None or m.impl == impl):
                eps = m.examples_per_second()
                if eps is not None:
                    out[(m.impl, m.size)] = eps
        return out

    # -- files ----------------------------------------------------------------------------

    def to_json(self) -> dict:
        return {"format": FORMAT, "version": FORMAT_VERSION, "created": self.created,
                "cancelled": self.cancelled, "machine": self.machine.to_dict(),
                "results": [m.to_dict() for m in self.measurements]}

    @classmethod
    def from_json(cls, data, source: str = "measured here") -> BenchResults:
        if not isinstance(data, dict):
            raise SpeedError("a benchmark file must hold one JSON object")
        if data.get("format", FORMAT) != FORMAT:
            raise SpeedError(f"not a gpuviz benchmark file (format {data.get('format')!r})")
        if "results" not in data or not isinstance(data["results"], list):
            raise SpeedError("a benchmark file needs a list \"results\"")
        machine = Machine.from_dict(data["machine"]) if "machine" in data else Machine.unknown()
        ms = [Measurement.from_dict(r) for r in data["results"]]
        return cls(machine, ms, str(data.get("created") or ""), source, bool(data.get("cancelled", False)))

    def save(self, path) -> Path:
        """Write the JSON file whole (a temporary file renamed over ``path``); returns the path."""
        path = Path(path)
        text = json.dumps(self.to_json(), indent=1, ensure_ascii=False, allow_nan=False) + "\n"
        return write_text_atomic(path, text)

    @classmethod
    def load(cls, path) -> BenchResults:
        """Read a file written by :meth:`save`; :class:`SpeedError` (one sentence) when it is not one.

        Read with the bounds of :func:`read_results_text` (a regular file of at most
        :data:`~gpuviz.model.limits.MAX_RESULTS_BYTES`, nested within :data:`~gpuviz.model.limits.MAX_NESTING`).
        """
        path = Path(path)
        try:
            text = read_results_text(path)
        except SpeedError as e:
            raise SpeedError(f"{path.name}: {e}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise SpeedError(f"{path.name} is not a JSON file ({e})") from None
        except ValueError as e:  # int() of a number of more than 4,300 digits
            raise SpeedError(f"{path.name} holds a number too long to read ({str(e).split(':')[0]})") from None
        except RecursionError:  # depth_problem measured first; this is the parser's own limit, should it differ
            raise SpeedError(f"{path.name} nests arrays or objects too deep to read") from None
        return cls.from_json(data, source=str(path))

    def to_csv(self) -> str:
        """The table, one row per measurement, the machine in a leading ``#`` comment line."""
        buf = io.StringIO()
        buf.write(f"# {self.machine.label()} · {self.created} · {self.source}\n")
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(CSV_COLUMNS)
        for m in self.measurements:
            d = m.to_dict()
            w.writerow(["" if d[c] is None else (repr(d[c]) if isinstance(d[c], float) else d[c])
                        for c in CSV_COLUMNS])
        return buf.getvalue()

    @classmethod
    def from_csv(cls, text: str, machine: Machine | None = None, source: str = "CSV") -> BenchResults:
        """Measurements back from :meth:`to_csv` (the machine is not in the CSV's columns)."""
        lines = [ln for ln in text.splitlines() if not ln.startswith("#")]
        rows = list(csv.DictReader(lines))
        ms = []
        for row in rows:
            ms.append(Measurement.from_dict({k: (None if v == "" else v) for k, v in row.items()}))
        return cls(machine or Machine.unknown(), ms, "", source)


@dataclass(frozen=True)
class Ratio:
    """How many times faster one implementation ran than another at one size: the headline of a sweep.

    Attributes
    ----------
    op, impl, baseline : str
        What was compared: ``baseline``'s time over ``impl``'s.
    size : int
    by_min : float
        From the fastest repeat of each (the headline: the least disturbed by other programs).
    by_median : float
        From the median repeat of each (shown beside it; far from ``by_min`` when the run was noisy).
    noisy : tuple of str
        Each noisy measurement's implementation and flag (empty when both can be trusted).
    """

    op: str
    size: int
    impl: str
    baseline: str
    by_min: float
    by_median: float
    noisy: tuple = ()

    @property
    def trusted(self) -> bool:
        return not self.noisy


def estimate_seconds(op: str, impl: str, size: int, measured) -> float | None:
    """Estimated seconds of one call of ``impl`` at ``size``, for the skip logic.

    Scales the largest measured size of the same op and implementation that is not
    larger than ``size`` by the op's complexity (``(size / s) ** COMPLEXITY[op]``);
    with nothing measured below, uses :data:`PRIOR_SECONDS_PER_FLOP`. Small sizes
    are dominated by call overhead, so scaling up from them errs on the slow side.
    Returns None when there is no basis for an estimate.
    """
    check_op(op)
    below = [m for m in measured
             if m.op == op and m.impl == impl and m.measured and m.size <= size and m.median_s is not None]
    if below:
        ref = max(below, key=lambda m: m.size)
        return ref.median_s * (size / ref.size) ** COMPLEXITY[op]
    per_flop = PRIOR_SECONDS_PER_FLOP.get(impl)
    if per_flop is None:
        return None
    return per_flop * flops(op, size)


def skip_reason(estimate: float | None, limit: float) -> str | None:
    """``"estimated 41 s > 5 s limit"`` when ``estimate`` is over ``limit``, else None."""
    if estimate is None or estimate <= limit:
        return None
    return f"estimated {fmt_seconds(estimate)} > {fmt_seconds(limit)} limit"


#: The one duration formatter (``41 s``, ``2.35 s``, ``12 ms``, ``87.5 µs``), under the name this module had for it.
fmt_seconds = format_duration


__all__ = ["CLOCK_CUDA", "CLOCK_THREAD", "CLOCK_WALL", "COMPLEXITY", "DEFAULT_MAX_SECONDS", "DEFAULT_SIZES",
           "DOT_SWEEP", "GPU_IMPLS", "IMPLS", "IMPL_LABELS", "JIT_IMPLS", "LAYER_SHAPE", "NOISY_ADVICE", "NOISY_SPREAD",
           "OPS", "OP_LABELS", "SIMULATOR_MAX_SIZE", "SIZE_LABELS", "TOLERANCE", "BenchResults", "Machine",
           "Measurement", "Ratio", "SpeedError", "busy_limit", "check_impls", "check_op", "check_sizes",
           "estimate_seconds", "flops", "fmt_seconds", "free_cores", "impl_note", "max_size", "noisy_reason",
           "noisy_summary", "read_results_text", "relative_error", "skip_reason", "sweep_title"]
