"""The speed benchmark's implementations and their timing; imported only in the worker process (numba).

Every implementation of an op computes the same thing from the same seeded inputs,
and its result is checked against NumPy in float64 (``max_rel_error``, see
:data:`gpuviz.model.speed.TOLERANCE`): a wrong result is reported, never hidden.

Timing (:mod:`gpuviz.engine.timing`): a warm-up call of each implementation
(JIT compilation happens here; its extra time over a timed call is ``compile_s``),
then timed repeats with ``time.perf_counter`` (CPU) or CUDA events (GPU, inputs
already on the device), the implementations of one size taking turns, one repeat
each per round, so that another program's burst of load hits all of them; each
until at least ``repeats`` of them and ``min_time`` seconds are done, stopping
after ``max_time`` seconds. Calls far below a millisecond are timed in groups of
``number`` calls so the timer's own cost does not count.

Under load (``timing.ThreadLimits``): BLAS and Numba threads are limited to the
cores that other programs leave free (``timing.busy_cores``), and each measurement
keeps its minimum beside its median and is flagged noisy (see
:func:`gpuviz.model.speed.noisy_reason`) when they disagree or the load average
while it ran was high.

Skip logic (:func:`run_bench`): before each (implementation, size) the time of one
call is estimated from that implementation's smaller sizes (or a prior, see
:func:`gpuviz.model.speed.estimate_seconds`); over the limit, it is skipped with
the estimate as its reason and never run.
"""

from __future__ import annotations

import math
import os
import platform
import time
from functools import cache

import numba
import numpy as np
from numba import cuda, njit, prange

from ..kernels import dot as dot_kernels
from ..model import speed
from ..model.dense import digits_layer
from . import timing as _timing
from .timing import Prepared, ThreadLimits, busy_cores, interleave, load_average, max_load

# -- machine ------------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    name = line.split(":", 1)[1].strip()
                    if name:
                        return " ".join(name.split())
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def _blas() -> str:
    try:
        deps = np.show_config(mode="dicts")["Build Dependencies"]
        blas = deps.get("blas", {})
        config = blas.get("openblas configuration")
        if config:
            return " ".join(config.split()[:2])
        name, version = blas.get("name"), blas.get("version")
        if name:
            return f"{name} {version}" if version else str(name)
    except Exception:  # numpy's config layout is not an API: an odd one only loses the BLAS name
        pass
    return "unknown"


def _cupy():
    try:
        import cupy

        return cupy
    except Exception:  # missing, or installed without a working CUDA: either way, no cuBLAS here
        return None


def _version(dist: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


@cache
def gpu_name() -> str | None:
    """The CUDA GPU's name, or None (always None in a simulator worker)."""
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        return None
    try:
        if not cuda.is_available():
            return None
        name = cuda.get_current_device().name
        return name.decode() if isinstance(name, bytes) else str(name)
    except Exception:  # a broken driver means no GPU for the benchmark
        return None


def machine_info(load: float | None = None) -> dict:
    """This machine's description (the fields of :class:`gpuviz.model.speed.Machine`)."""
    return speed.Machine(
        cpu=_cpu_model(), cores=os.cpu_count() or 1, blas=_blas(), gpu=gpu_name(),
        python=platform.python_version(), numpy=np.__version__, numba=numba.__version__,
        system=f"{platform.system()} {platform.machine()}", cupy=_version("cupy") or _version("cupy-cuda12x"),
        load=load_average() if load is None else load,
    ).to_dict()


# -- inputs and the reference ---------------------------------------------------------------------


class Data:
    """One op's seeded inputs at one size, with NumPy's float64 answer and the scale of its terms."""

    def __init__(self, op: str, size: int, seed: int = 0):
        self.op, self.size = op, size
        rng = np.random.default_rng(seed)
        if op == "dot":
            self.a = rng.standard_normal(size)
            self.b = rng.standard_normal(size)
            self.ref = float(np.dot(self.a, self.b))
            self.scale = float(np.dot(np.abs(self.a), np.abs(self.b)))
        elif op == "matmul":
            self.a = rng.standard_normal((size, size), dtype=np.float32)
            self.b = rng.standard_normal((size, size), dtype=np.float32)
            a64, b64 = self.a.astype(np.float64), self.b.astype(np.float64)
            self.ref = a64 @ b64
            self.scale = float(np.max(np.abs(a64) @ np.abs(b64)))
        else:
            self.layer = digits_layer(seed)
            n = self.layer.n
            # pixel-like inputs in [0, 1), as the digits are
            self.x = rng.random((size, n))
            self.y = rng.integers(0, self.layer.m, size).astype(np.int64)
            g = self.layer.backward(self.x, self.y)
            self.ref = (g.dW, g.db, g.loss)

    def error(self, result) -> float:
        """``max |result − reference|`` over the scale of the terms (see the model's TOLERANCE)."""
        if self.op == "dot":
            return speed.relative_error(result, self.ref, self.scale)
        if self.op == "matmul":
            return speed.relative_error(result, self.ref, self.scale)
        dW, db, loss = result
        rdW, rdb, rloss = self.ref
        return max(speed.relative_error(dW, rdW, np.max(np.abs(rdW))),
                   speed.relative_error(db, rdb, np.max(np.abs(rdb))),
                   speed.relative_error(loss, rloss, abs(rloss)))


# -- pure Python ------------------------------------------------------------------------------------


def py_dot(a, b):
    s = 0.0
    for x, y in zip(a, b):
        s += x * y
    return s


def py_matmul(A, B):
    m = len(B[0])
    C = []
    for Ai in A:
        row = [0.0] * m
        for a, Bp in zip(Ai, B):
            for j in range(m):
                row[j] += a * Bp[j]
        C.append(row)
    return C


def py_layer(W, b, X, y):
    m, n = len(W), len(W[0])
    B = len(X)
    dW = [[0.0] * n for _ in range(m)]
    db = [0.0] * m
    loss = 0.0
    for x, label in zip(X, y):
        z = [bj + sum(w * xi for w, xi in zip(Wj, x)) for Wj, bj in zip(W, b)]
        zmax = max(z)
        e = [math.exp(zj - zmax) for zj in z]
        total = sum(e)
        loss -= z[label] - zmax - math.log(total)
        for j in range(m):
            d = e[j] / total - (1.0 if j == label else 0.0)
            db[j] += d
            row = dW[j]
            for k in range(n):
                row[k] += d * x[k]
    return ([[v / B for v in row] for row in dW], [v / B for v in db], loss / B)


# -- Numba (one source each; prange is range unless compiled with parallel=True) ----------------------


def _nb_dot(a, b):
    s = 0.0
    for i in prange(a.shape[0]):
        s += a[i] * b[i]
    return s


def _nb_matmul(A, B):
    n, k = A.shape
    m = B.shape[1]
    C = np.zeros((n, m), dtype=A.dtype)
    for i in prange(n):  # rows are independent: the parallel version splits them over cores
        for p in range(k):
            a = A[i, p]
            for j in range(m):  # i-k-j order: the innermost loop walks rows of B and C contiguously
                C[i, j] += a * B[p, j]
    return C


def _nb_layer(W, b, X, y):
    m, n = W.shape
    B = X.shape[0]
    dz = np.empty((B, m))
    loss = 0.0
    for e in prange(B):
        z = np.empty(m)
        zmax = -np.inf
        for j in range(m):
            s = b[j]
            for k in range(n):
                s += W[j, k] * X[e, k]
            z[j] = s
            zmax = max(zmax, s)
        total = 0.0
        for j in range(m):
            total += np.exp(z[j] - zmax)
        loss += -(z[y[e]] - zmax - np.log(total))
        for j in range(m):
            dz[e, j] = np.exp(z[j] - zmax) / total
        dz[e, y[e]] -= 1.0
    dW = np.zeros((m, n))
    for k in prange(n):  # columns of dW are independent
        for e in range(B):
            xk = X[e, k]
            for j in range(m):
                dW[j, k] += dz[e, j] * xk
    db = np.zeros(m)
    for e in range(B):
        for j in range(m):
            db[j] += dz[e, j]
    return dW / B, db / B, loss / B


NUMBA_OPTIONS = {"numba": {}, "numba-fastmath": {"fastmath": True}, "numba-parallel": {"parallel": True}}
_NB_SOURCES = {"dot": _nb_dot, "matmul": _nb_matmul, "layer": _nb_layer}


@cache
def numba_function(op: str, impl: str):
    """The op compiled the implementation's way (compiled lazily, on its first call)."""
    return njit(**NUMBA_OPTIONS[impl])(_NB_SOURCES[op])


# -- CUDA kernels (their source is in gpuviz.kernels; numba.cuda, on a GPU or in the simulator) -------------

DOT_THREADS = dot_kernels.THREADS


MATMUL_BLOCK = (16, 16, 1)
SIMULATOR_MATMUL_BLOCK = (8, 8, 1)


def _matmul_launch(kernel: str, n: int, block):
    from ..model.matmul import MatmulProblem, launch_for

    launch = launch_for(kernel, MatmulProblem(n, n, n), block)
    return launch.grid.as_tuple(), launch.block.as_tuple()


# -- runners ----------------------------------------------------------------------------------------------


class Runner:
    """One implementation ready to run on prepared inputs.

    ``call()`` runs it once and returns its result on the host (to check);
    ``time(number)`` runs it ``number`` times and returns the seconds taken, by ``clock``
    (the wall clock, or after :meth:`use_thread_clock` the CPU time of the calling thread).
    """

    clock = speed.CLOCK_WALL

    def __init__(self, fn, result=None):
        self._fn = fn
        self._result = result or (lambda r: r)
        self._timer = time.perf_counter

    def use_thread_clock(self) -> None:
        """Time by the calling thread's CPU time: for code that runs on this thread alone.

        Another program that takes the core away then makes no difference to the figure: the
        thread's CPU clock stops while it waits. Code with helper threads must keep the wall clock.
        """
        self._timer = time.thread_time
        self.clock = speed.CLOCK_THREAD

    def call(self):
        return self._result(self._fn())

    def time(self, number: int) -> float:
        fn, timer = self._fn, self._timer
        t0 = timer()
        for _ in range(number):
            fn()
        return timer() - t0


class CudaRunner(Runner):
    """Times with CUDA events around ``number`` launches: GPU time, the inputs already on the device."""

    clock = speed.CLOCK_CUDA

    def __init__(self, launch, fetch):
        self._cuda = cuda
        self._launch, self._fetch = launch, fetch

    def call(self):
        self._launch()
        self._cuda.synchronize()
        return self._fetch()

    def time(self, number: int) -> float:
        cuda = self._cuda
        start, stop = cuda.event(), cuda.event()
        start.record()
        for _ in range(number):
            self._launch()
        stop.record()
        stop.synchronize()
        return cuda.event_elapsed_time(start, stop) / 1000.0


class SimulatorRunner(Runner):
    """The CUDA simulator: the kernel runs as Python threads on the CPU; timed by the wall clock."""

    def __init__(self, launch, fetch):
        self._launch, self._fetch = launch, fetch

    def call(self):
        self._launch()
        return self._fetch()

    def time(self, number: int) -> float:
        t0 = time.perf_counter()
        for _ in range(number):
            self._launch()
        return time.perf_counter() - t0


class CupyRunner(Runner):
    """CuPy (cuBLAS underneath), timed with CUDA events; the inputs already on the device."""

    clock = speed.CLOCK_CUDA

    def __init__(self, cp, fn, fetch):
        self._cp, self._fn, self._fetch = cp, fn, fetch
        self._last = None

    def call(self):
        self._last = self._fn()
        self._cp.cuda.Device().synchronize()
        return self._fetch(self._last)

    def time(self, number: int) -> float:
        cp = self._cp
        start, stop = cp.cuda.Event(), cp.cuda.Event()
        start.record()
        for _ in range(number):
            self._fn()
        stop.record()
        stop.synchronize()
        return cp.cuda.get_elapsed_time(start, stop) / 1000.0


def _layer_lists(d: Data):
    return d.layer.W.tolist(), d.layer.b.tolist(), d.x.tolist(), d.y.tolist()


def make_runner(impl: str, d: Data) -> Runner:
    """A :class:`Runner` of ``impl`` on ``d``'s inputs (raises for an impl that cannot run here)."""
    op = d.op
    if impl == "python":
        if op == "dot":
            a, b = d.a.tolist(), d.b.tolist()
            return Runner(lambda: py_dot(a, b))
        if op == "matmul":
            A, B = d.a.tolist(), d.b.tolist()
            return Runner(lambda: py_matmul(A, B), np.array)
        W, b, X, y = _layer_lists(d)
        return Runner(lambda: py_layer(W, b, X, y), lambda r: (np.array(r[0]), np.array(r[1]), r[2]))
    if impl == "numpy":
        if op == "dot":
            return Runner(lambda: np.dot(d.a, d.b))
        if op == "matmul":
            return Runner(lambda: d.a @ d.b)
        layer, x, y = d.layer, d.x, d.y

        def step():
            g = layer.backward(x, y)
            return g.dW, g.db, g.loss

        return Runner(step)
    if impl in NUMBA_OPTIONS:
        fn = numba_function(op, impl)
        if op == "layer":
            W, b, x, y = d.layer.W, d.layer.b, d.x, d.y
            return Runner(lambda: fn(W, b, x, y))
        return Runner(lambda: fn(d.a, d.b))
    if impl == "cublas":
        return _cupy_runner(d)
    if impl in ("gpu-naive", "gpu-tiled"):
        return _cuda_runner(impl, d)
    if impl == "simulator":
        return _simulator_runner(d)
    raise ValueError(f"unknown implementation {impl!r}")


def _cuda_runner(impl: str, d: Data) -> Runner:
    if d.op == "dot":
        zero, naive, tiled = dot_kernels.make_kernels()
        da, db = cuda.to_device(d.a), cuda.to_device(d.b)
        out = cuda.device_array(1, np.float64)
        n = d.size
        if impl == "gpu-naive":
            grid = (n + DOT_THREADS - 1) // DOT_THREADS

            def launch():
                zero[1, 1](out)
                naive[grid, DOT_THREADS](da, db, out)
        else:
            sms = cuda.get_current_device().MULTIPROCESSOR_COUNT
            # a few blocks per SM are enough to stream the vectors; more only add atomics
            grid = max(1, min((n + DOT_THREADS - 1) // DOT_THREADS, 8 * sms))

            def launch():
                zero[1, 1](out)
                tiled[grid, DOT_THREADS](da, db, out)

        return CudaRunner(launch, lambda: float(out.copy_to_host()[0]))
    from importlib import import_module

    kernel_name = "naive" if impl == "gpu-naive" else "tiled"
    grid, block = _matmul_launch(kernel_name, d.size, MATMUL_BLOCK)
    kernel = import_module(f"gpuviz.kernels.{kernel_name}").make_kernel(block)
    da, db = cuda.to_device(d.a), cuda.to_device(d.b)
    dc = cuda.device_array((d.size, d.size), np.float32)
    return CudaRunner(lambda: kernel[grid, block](da, db, dc), dc.copy_to_host)


def _simulator_runner(d: Data) -> Runner:
    if d.op == "dot":
        threads = 32
        zero, _naive, tiled = dot_kernels.make_kernels(threads)
        out = np.zeros(1)
        grid = max(1, min((d.size + threads - 1) // threads, 4))

        def launch():
            zero[1, 1](out)
            tiled[grid, threads](d.a, d.b, out)

        return SimulatorRunner(launch, lambda: float(out[0]))
    from ..kernels.naive import make_kernel

    grid, block = _matmul_launch("naive", d.size, SIMULATOR_MATMUL_BLOCK)
    kernel = make_kernel(block)
    c = np.zeros((d.size, d.size), np.float32)
    return SimulatorRunner(lambda: kernel[grid, block](d.a, d.b, c), lambda: c.copy())


def _cupy_runner(d: Data) -> Runner:
    cp = _cupy()
    if d.op == "dot":
        a, b = cp.asarray(d.a), cp.asarray(d.b)
        return CupyRunner(cp, lambda: cp.dot(a, b), lambda r: float(r))
    if d.op == "matmul":
        a, b = cp.asarray(d.a), cp.asarray(d.b)
        return CupyRunner(cp, lambda: a @ b, cp.asnumpy)
    W, bias, x = cp.asarray(d.layer.W), cp.asarray(d.layer.b), cp.asarray(d.x)
    y = cp.asarray(d.y)
    rows = cp.arange(d.size)
    batch = d.size

    def step():
        # dense.py's maths, on the GPU
        z = x @ W.T + bias
        zmax = z.max(axis=1, keepdims=True)
        e = cp.exp(z - zmax)
        total = e.sum(axis=1, keepdims=True)
        loss = -(z[rows, y] - zmax[:, 0] - cp.log(total[:, 0])).mean()
        dz = e / total
        dz[rows, y] -= 1.0
        return dz.T @ x / batch, dz.mean(axis=0), loss

    return CupyRunner(cp, step, lambda r: (cp.asnumpy(r[0]), cp.asnumpy(r[1]), float(r[2])))


# -- why an implementation cannot run -------------------------------------------------------------------

#: Python lists of more floats than this (about 0.7 GB of float objects) are not built.
PYTHON_MAX_FLOATS = 20_000_000


def _python_floats(op: str, size: int) -> int:
    if op == "dot":
        return 2 * size
    if op == "matmul":
        return 3 * size * size
    return size * (speed.LAYER_SHAPE[1] + 1)


def unavailable(op: str, impl: str, size: int, simulate: bool) -> str | None:
    """Why ``impl`` cannot run ``op`` at ``size`` in this worker (None: it can)."""
    if impl == "simulator":
        if not simulate:
            return "the simulator runs in the simulator worker"
        if op not in speed.SIMULATOR_MAX_SIZE:
            return f"no CUDA kernel for the {op} op to simulate"
        if size > speed.SIMULATOR_MAX_SIZE[op]:
            return (f"the simulator is a correctness tool: sizes up to {speed.SIMULATOR_MAX_SIZE[op]:,} only")
        return None
    if simulate:
        return "runs in the CPU/GPU worker, not the simulator's"
    if impl in speed.GPU_IMPLS:
        if gpu_name() is None:
            return "no GPU found"
        if impl == "cublas" and _cupy() is None:
            return "cupy not installed"
        if impl in ("gpu-naive", "gpu-tiled") and op == "layer":
            return "no built-in CUDA kernel for the layer (cublas runs it)"
    if impl == "python" and _python_floats(op, size) > PYTHON_MAX_FLOATS:
        gb = _python_floats(op, size) * 32 / 1e9  # a float object and its list slot
        return f"Python lists of {_python_floats(op, size):,} floats would need ~{gb:.1f} GB"
    return None


def measure(impl: str, runner: Runner, d: Data, repeats: int = 3, min_time: float = 0.2,
            max_time: float = 2.0) -> speed.Measurement:
    """Warm up, check the result, then time repeats of one implementation alone (see the module docstring)."""
    p = Prepared(impl, runner, d)
    before = load_average()
    interleave([p], repeats, min_time, max_time)
    if p.failure:
        raise RuntimeError(p.failure)
    return p.measurement(max_load(before, load_average()), None, os.cpu_count() or 1)


def run_bench(job: dict, progress, partial=None) -> dict:
    """The worker's ``bench`` job: every (size, implementation) of ``job``, streamed as measured.

    ``job``: ``op``, ``sizes``, ``impls``, ``repeats``, ``min_time``, ``max_time``,
    ``max_seconds`` (the skip limit), ``offset`` and ``total`` (for progress across
    workers). At each size the implementations that run are warmed up, then timed
    interleaved (:func:`interleave`) with their threads limited to the cores other
    programs leave free (:class:`ThreadLimits`); each measurement is sent with
    ``partial(dict)`` as soon as its size is done, in ``impls`` order.
    """
    simulate = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
    op = speed.check_op(job["op"])
    sizes = speed.check_sizes(op, job["sizes"])
    impls = speed.check_impls(job["impls"])
    limit = float(job.get("max_seconds", speed.DEFAULT_MAX_SECONDS))
    offset, total = int(job.get("offset", 0)), int(job.get("total", len(sizes) * len(impls)))
    seed = int(job.get("seed", 0))
    timing = (int(job.get("repeats", 3)), float(job.get("min_time", 0.2)), float(job.get("max_time", 2.0)))
    load = load_average()  # before this sweep adds its own
    done = 0
    results: list[speed.Measurement] = []
    progress(offset, total)
    for size in sizes:
        for m in _one_size(op, size, impls, simulate, limit, results, seed, timing):
            results.append(m)
            if partial is not None:
                partial(m.to_dict())
            done += 1
            progress(offset + done, total)
    return {"machine": machine_info(load), "results": [m.to_dict() for m in results]}


def _one_size(op, size, impls, simulate, limit, results, seed, timing) -> list[speed.Measurement]:
    """Every implementation at one size: skipped ones with their reason, the others timed together."""
    out: dict[str, speed.Measurement] = {}
    runnable = []
    for impl in impls:
        reason = unavailable(op, impl, size, simulate)
        estimate = None
        if reason is None:
            estimate = speed.estimate_seconds(op, impl, size, results)
            reason = speed.skip_reason(estimate, limit)
        if reason is not None:
            out[impl] = speed.Measurement.skip(op, impl, size, reason, estimate)
        else:
            runnable.append(impl)
    if runnable:
        cores = os.cpu_count() or 1
        # the simulator is one Python thread per CUDA thread: no BLAS to limit, and nothing to learn from the CPU
        threads = cores if simulate else speed.free_cores(busy_cores(), cores)
        prepared = []
        numba_threads = (numba.get_num_threads, numba.set_num_threads) if "numba-parallel" in runnable else None
        with ThreadLimits(threads, numba_threads) as limits:
            d = None
            for impl in runnable:
                try:
                    d = d or Data(op, size, seed)
                    runner = make_runner(impl, d)
                    if _timing.single_threaded(impl, limits.blas) and _timing.thread_clock_usable():
                        runner.use_thread_clock()
                    prepared.append(Prepared(impl, runner, d))
                except Exception as exc:  # an implementation that fails is reported as such; the sweep goes on
                    text = " ".join(str(exc).split())[:200]
                    out[impl] = speed.Measurement.skip(op, impl, size, f"failed: {type(exc).__name__}: {text}")
            before = load_average()
            interleave(prepared, *timing)
            load = max_load(before, load_average())
        for p in prepared:
            if p.failure is not None:
                out[p.impl] = speed.Measurement.skip(op, p.impl, size, p.failure)
            else:
                out[p.impl] = p.measurement(load, limits.threads_of(p.impl, op), cores)
    return [out[impl] for impl in impls]


def handle_bench(job, progress):
    """The worker's ``bench`` handler (``progress.partial`` streams each measurement)."""
    return run_bench(job, progress, getattr(progress, "partial", None))


def handle_machine(job, progress):
    return machine_info()


__all__ = ["Data", "Prepared", "ThreadLimits", "busy_cores", "handle_bench", "handle_machine", "interleave",
           "machine_info", "make_runner", "measure", "run_bench", "unavailable"]
