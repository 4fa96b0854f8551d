"""Floor 2: run kernels for real, in a worker process, on a GPU or in Numba's CUDA simulator.

The process that uses the engine never imports numba: every kernel runs in a
spawned worker (see :mod:`gpuviz.engine.worker`). A kernel that raises, a
worker that dies and a cancelled job all come back as a :class:`RunResult`
with a status and a one-line message.

The speed benchmark (:meth:`Engine.bench`, issue 7) streams each measurement as
it is done; cancelled, it raises :class:`BenchCancelled` (a
:class:`~gpuviz.engine.process.Cancelled`) whose ``results`` hold the partial
sweep, marked ``cancelled``.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from ..model import speed
from ..model.budget import Budget, plan_run
from ..model.launch import Dim3, LaunchConfig
from ..model.matmul import BACKENDS, REL_TOLERANCE, MatmulProblem, launch_for, mapping_for
from ..model.trace import Trace
from .process import Cancelled, Progress, Worker, WorkerDied, WorkerError

__all__ = ["BACKENDS", "BackendError", "BenchCancelled", "Engine", "MatmulJob", "Progress", "RunResult", "gpu_text"]


def gpu_text(info: dict) -> str:
    """The GPU :meth:`Engine.gpu_info` found, or ``no CUDA GPU found (<the reason, one line>)``.

    The one wording ``--info``, its ``--json`` and the GUI's status bar use.
    """
    if info.get("gpu_available"):
        return f"GPU: {info.get('gpu_name') or 'unnamed CUDA device'}"
    return f"no CUDA GPU found ({info.get('error') or 'no reason given'})"


class BackendError(RuntimeError):
    """The backend asked for is not available here (e.g. ``gpu`` with no GPU)."""


class BenchCancelled(Cancelled):
    """A benchmark sweep was cancelled (or ran past its timeout); its worker was killed.

    Attributes
    ----------
    results : gpuviz.model.speed.BenchResults
        The measurements finished before the cancel (``cancelled=True``).
    """

    def __init__(self, message: str, results):
        super().__init__(message)
        self.results = results


@dataclass(frozen=True)
class MatmulJob:
    """One matrix product to run.

    Parameters
    ----------
    kernel : str
        ``naive``, ``uncoalesced`` or ``tiled``.
    m, n, k : int
        C is m×n, the reduction is over k.
    block : Dim3
        Threads per block.
    seed : int
        Seed of the standard-normal inputs.
    backend : str
        ``auto``, ``gpu`` or ``simulator``.
    record : bool
        Record the trace while the simulator runs (simulator only).
    repeat : int
        Timed launches on a GPU (the median is reported).
    kernel_path : str or None
        A file defining ``make_kernel(block)`` to run instead of the built-in
        kernel's source, launched with the built-in kernel's mapping.
    """

    kernel: str
    m: int
    n: int
    k: int
    block: Dim3 = Dim3(16, 16)
    seed: int = 0
    backend: str = "auto"
    record: bool = False
    repeat: int = 5
    kernel_path: str | None = None

    @property
    def problem(self) -> MatmulProblem:
        return MatmulProblem(self.m, self.n, self.k)

    @property
    def launch(self) -> LaunchConfig:
        return launch_for(self.kernel, self.problem, self.block)


@dataclass
class RunResult:
    """What a run produced: the product, its check, its time, and where it ran."""

    status: str  # "ok", "wrong" (ran, but C is not A·B), "error", "died", "cancelled"
    message: str
    job: MatmulJob
    backend: str | None = None
    gpu_name: str | None = None
    c: np.ndarray | None = None
    max_abs_error: float | None = None
    rel_error: float | None = None
    seconds: float | None = None
    timing: str = ""
    trace: Trace | None = None
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def summary(self) -> dict:
        """The JSON-able facts of the run (the keys ``gpuviz run --json`` prints)."""
        mp = mapping_for(self.job.kernel, self.job.problem, self.job.block)
        launch = mp.launch
        return {
            "status": self.status,
            "message": self.message,
            "kernel": self.job.kernel,
            "m": self.job.m,
            "n": self.job.n,
            "k": self.job.k,
            "seed": self.job.seed,
            "backend": self.backend,
            "gpu_name": self.gpu_name,
            "max_abs_error": self.max_abs_error,
            "rel_error": self.rel_error,
            "correct": self.status == "ok",
            "seconds": self.seconds,
            "timing": self.timing,
            "grid": list(launch.grid.as_tuple()),
            "block": list(launch.block.as_tuple()),
            "blocks": launch.blocks,
            "threads": launch.threads,
            "warps": launch.warps,
            "warps_per_block": launch.warps_per_block,
            "idle_threads": mp.idle_threads,
        }


class Engine:
    """Runs jobs in worker processes: one for the simulator, one for the GPU, started on demand.

    Parameters
    ----------
    budget : Budget
        Checked before every run; pass ``confirmed=True`` to :meth:`run` to
        allow a simulator run estimated over the time budget.
    """

    def __init__(self, budget: Budget | None = None):
        self.budget = budget or Budget()
        self._workers: dict[bool, Worker] = {}
        self._gpu_info: dict | None = None
        self._lock = threading.Lock()
        self._info_lock = threading.Lock()  # one GPU probe at a time, whichever thread asks
        self._running: Worker | None = None
        self._bench_cancel = threading.Event()

    def _worker(self, simulate: bool) -> Worker:
        with self._lock:
            if simulate not in self._workers:
                self._workers[simulate] = Worker(simulate)
            return self._workers[simulate]

    @contextmanager
    def worker_for(self, simulate: bool):
        """The simulator's (``True``) or the GPU's (``False``) worker, as the one :meth:`cancel` stops while the
        block runs: every long call goes through here, the engine's own and a user kernel's."""
        worker = self._worker(simulate)
        self._running = worker
        try:
            yield worker
        finally:
            self._running = None

    # -- backends ---------------------------------------------------------------------

    def gpu_info(self) -> dict:
        """What a non-simulator worker finds: numba versions, GPU name; cached. Thread-safe.

        Never raises: no GPU, no driver, a missing CUDA library, a worker that dies
        or hangs looking, all are ``gpu_available=False`` with the reason in
        ``error`` (one line), and ``auto`` then means the simulator.
        """
        with self._info_lock:
            return self._probe_gpu()

    def _probe_gpu(self) -> dict:
        if self._gpu_info is None:
            try:
                self._gpu_info = self._worker(False).call({"kind": "info"}, timeout=120)
            except (WorkerError, WorkerDied, Cancelled) as e:
                why = " ".join(str(e).split()) or type(e).__name__
                self._gpu_info = {"gpu_available": False, "gpu_name": None, "error": f"looking for a GPU: {why}",
                                  "numba": None, "numba_cuda": None, "cuda_target": None}
            # the GPU worker is only kept alive while it is useful; a CPU benchmark that
            # took it meanwhile keeps it (closing would cancel that benchmark)
            if not self._gpu_info.get("gpu_available"):
                self._worker(False).close_if_idle()
        return self._gpu_info

    def resolve_backend(self, backend: str) -> str:
        """``gpu`` or ``simulator`` for ``backend``; raises :class:`BackendError` for ``gpu`` with no GPU."""
        if backend not in BACKENDS:
            raise BackendError(f"unknown backend {backend!r}: choose one of {', '.join(BACKENDS)}")
        if backend == "simulator":
            return "simulator"
        info = self.gpu_info()
        if info.get("gpu_available"):
            return "gpu"
        if backend == "gpu":
            why = f" ({info['error']})" if info.get("error") else ""
            raise BackendError(f"the GPU backend was asked for, but no CUDA GPU was found{why}")
        return "simulator"

    # -- running ----------------------------------------------------------------------

    def check(self, job: MatmulJob, backend: str, *, confirmed: bool = False) -> None:
        """Raise (LaunchError, ShapeError, BudgetError) before anything is allocated."""
        plan = plan_run(job.kernel, job.problem, job.block, simulator=backend == "simulator",
                        trace=job.record)
        self.budget.check(plan, confirmed=confirmed)

    def run(self, job: MatmulJob, on_progress=None, *, confirmed: bool = False,
            timeout: float | None = None, cancel: threading.Event | None = None) -> RunResult:
        """Run ``job`` and check its product. Invalid jobs raise before any work starts.

        ``cancel`` (e.g. an engine job's :attr:`~gpuviz.engine.jobs.Job.cancel_event`) stops
        this run alone when set, even before it has reached its worker; :meth:`cancel`
        stops whatever runs.
        """
        backend = self.resolve_backend(job.backend)
        if job.record and backend != "simulator":
            raise BackendError("a trace is recorded by the CUDA simulator: use --backend simulator")
        self.check(job, backend, confirmed=confirmed)
        payload = {"kind": "matmul", "kernel": job.kernel, "m": job.m, "n": job.n, "k": job.k,
                   "block": list(Dim3.of(job.block).as_tuple()), "seed": job.seed,
                   "record": job.record, "repeat": job.repeat, "kernel_path": job.kernel_path}
        try:
            with self.worker_for(backend == "simulator") as worker:
                out = worker.call(payload, on_progress, timeout=timeout, cancel=cancel)
        except WorkerError as e:
            # a worker that could not load numba.cuda says so: the kernel never ran
            why = str(e).removeprefix("CudaUnavailable: ")
            return RunResult("error", why if why != str(e) else f"the kernel raised {e}", job, backend)
        except WorkerDied as e:
            return RunResult("died", str(e), job, backend)
        except Cancelled as e:
            return RunResult("cancelled", str(e), job, backend)
        correct = out["rel_error"] <= REL_TOLERANCE
        status = "ok" if correct else "wrong"
        message = (f"C matches A·B (max abs error {out['max_abs_error']:.3g})" if correct else
                   f"C does NOT match A·B: max abs error {out['max_abs_error']:.3g}, "
                   f"relative {out['rel_error']:.3g}")
        return RunResult(status, message, job, backend, out.get("gpu_name"), out["c"],
                         out["max_abs_error"], out["rel_error"], out["seconds"], out.get("timing", ""),
                         out.get("trace"), {k: out[k] for k in ("all_seconds",) if k in out})

    def probe_indices(self, grid, block, backend: str = "simulator") -> np.ndarray:
        """Each launched thread's (blockIdx xyz, threadIdx xyz, laneid) as CUDA reports them.

        Row ``g`` is the thread with global linear index ``g`` (blocks in linear
        order, then the linear thread id).
        """
        launch = LaunchConfig(grid, block)
        backend = self.resolve_backend(backend)
        out = self._worker(backend == "simulator").call(
            {"kind": "probe", "grid": list(launch.grid), "block": list(launch.block)}, timeout=600)
        return out["indices"]

    def cuda_libraries(self, simulate: bool = True, libs=None, compile_ptx: bool = False,
                       timeout: float | None = 120) -> dict:
        """Where a worker's CUDA libraries were loaded from (the worker's ``where`` job).

        ``{"prefix": the worker's sys.prefix, "libs": {name: {"path", "found_via"} or {"error"}},
        "mapped": {name: [the files of that name the process has mapped]}}``; ``libs``
        defaults to the runtime and the two compilers (``cudart``, ``nvvm``, ``nvrtc``).
        ``simulate=False`` asks the GPU worker, GPU or not; with ``compile_ptx`` it also
        compiles the tiled kernel to PTX (``"ptx"``), which needs NVVM but no GPU.
        """
        job = {"kind": "where", "libs": list(libs or ()), "compile_ptx": bool(compile_ptx)}
        return self._worker(simulate).call(job, timeout=timeout)

    def call_in_worker(self, target: str, backend: str = "simulator", timeout=None, **kwargs):
        """Call ``"module:function"(**kwargs)`` inside a worker and return its result."""
        backend = self.resolve_backend(backend)
        return self._worker(backend == "simulator").call(
            {"kind": "python", "target": target, "kwargs": kwargs}, timeout=timeout)

    def bench(self, op: str, sizes=None, impls=None, repeats: int = 3, on_progress=None, on_measurement=None,
              max_seconds_per_impl: float = speed.DEFAULT_MAX_SECONDS, *, min_time: float = 0.2,
              max_time: float = 2.0, seed: int = 0, timeout: float | None = None,
              cancel: threading.Event | None = None):
        """Time ``op`` at ``sizes`` in each implementation, in the workers; returns a :class:`BenchResults`.

        Every implementation but the simulator runs in the GPU (non-simulator) worker,
        which also runs the CPU ones; ``simulator`` runs afterwards in the simulator
        worker. Nothing is timed in the calling process, which never imports numba.

        Parameters
        ----------
        op : {"dot", "matmul", "layer"}
        sizes : iterable of int, optional
            Defaults to ``speed.DEFAULT_SIZES[op]``; run smallest first (the skip estimates build on them).
        impls : iterable of str, optional
            Defaults to all of ``speed.IMPLS``.
        repeats : int
            At least this many timed repeats per (implementation, size) ...
        min_time, max_time : float
            ... and at least ``min_time`` seconds of them, stopping after ``max_time`` seconds.
        on_progress : callable(Progress), optional
            (implementation, size) pairs done out of all.
        on_measurement : callable(Measurement), optional
            Each measurement (or skip) as soon as it is done, in the calling thread.
        cancel : threading.Event, optional
            This sweep's own cancel flag (see :meth:`run`).
        max_seconds_per_impl : float
            One call estimated over this is skipped with the estimate as its reason, never run.

        Raises
        ------
        gpuviz.model.speed.SpeedError
            A bad op, size or implementation (before anything starts).
        BenchCancelled
            :meth:`cancel` was called or ``timeout`` passed: the worker was killed; the
            exception's ``results`` holds what was finished (marked ``cancelled``).
        WorkerError, WorkerDied
            The benchmark itself failed or its worker died.
        """
        op = speed.check_op(op)
        sizes = speed.check_sizes(op, sizes)
        impls = speed.check_impls(impls)
        self._bench_cancel.clear()
        results = speed.BenchResults(speed.Machine.unknown())
        groups = [(False, [i for i in impls if i != "simulator"]), (True, [i for i in impls if i == "simulator"])]
        total = len(sizes) * len(impls)
        offset = 0

        def partial(payload):
            m = speed.Measurement.from_dict(payload)
            results.add(m)
            if on_measurement is not None:
                on_measurement(m)

        for simulate, group in groups:
            if not group:
                continue
            worker = self._worker(simulate)

            def progress(p, worker=worker):
                # a cancel that came while this worker was starting is honoured here
                if self._bench_cancel.is_set():
                    worker.cancel()
                if on_progress is not None:
                    on_progress(p)

            job = {"kind": "bench", "op": op, "sizes": list(sizes), "impls": group, "repeats": int(repeats),
                   "min_time": float(min_time), "max_time": float(max_time), "seed": int(seed),
                   "max_seconds": float(max_seconds_per_impl), "offset": offset, "total": total}
            try:
                with self.worker_for(simulate):
                    if self._bench_cancel.is_set() or (cancel is not None and cancel.is_set()):
                        raise Cancelled("cancelled")
                    out = worker.call(job, progress, timeout=timeout, on_partial=partial, cancel=cancel)
            except Cancelled as e:
                results.cancelled = True
                raise BenchCancelled(str(e), results) from None
            machine = speed.Machine.from_dict(out["machine"])
            if results.machine.cpu == "unknown" or (machine.gpu and not results.machine.gpu):
                results.machine = machine
            offset += len(sizes) * len(group)
        return results

    def cancel(self) -> None:
        """Cancel the job that is running, if any (a benchmark sweep included)."""
        self._bench_cancel.set()
        w = self._running
        if w is not None:
            w.cancel()

    def close(self) -> None:
        """Stop every worker (cancelling what runs). Safe from any thread."""
        with self._lock:
            workers = list(self._workers.values())
            self._workers.clear()
        for w in workers:
            w.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
