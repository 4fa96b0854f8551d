"""The worker process: the only place gpuviz imports numba.

Started with multiprocessing's *spawn* context by :mod:`gpuviz.engine.process`.
``NUMBA_ENABLE_CUDASIM`` is read when ``numba.cuda`` is first imported, so each
worker is either a simulator worker or a GPU worker for its whole life, and it
sets the variable before its first numba import. Messages in: job dicts, or
``None`` to stop. Messages out: ``("progress", done, total)`` and (from jobs that
stream, e.g. ``bench``) ``("partial", payload)``, then ``("result", dict)`` or
``("error", one-line message)``, each job acknowledged with ``("ack",)`` as soon as
it is received. The worker leaves at once, silently, when its parent process ends.
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import os
import signal
import statistics
import sys
import time
import warnings

import numpy as np


class CudaUnavailable(RuntimeError):
    """numba.cuda could not be loaded when this worker started (e.g. no CUDA runtime library)."""


#: Why numba.cuda could not be loaded at this worker's start; every job that needs it says so.
_load_error: str | None = None


def _numba_cuda():
    if _load_error is not None:
        # a second import of a half-imported numba.cuda fails with a confusing error of its own
        raise CudaUnavailable(f"numba.cuda could not be loaded: {_load_error}")
    from numba import cuda

    return cuda


def _implementation() -> str:
    """'numba-cuda' (NVIDIA's package) or 'built-in' (numba's own, deprecated) CUDA target."""
    try:
        import numba_cuda  # noqa: F401

        return "numba-cuda"
    except ImportError:
        return "built-in"


def _version(dist: str):
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _reason(exc: BaseException) -> str:
    """Why CUDA is unusable, in one line: numba's driver errors span several lines and end in a colon."""
    if isinstance(exc, CudaUnavailable):
        return str(exc)
    text = " ".join(str(exc).split()).removeprefix("Error at driver init:").strip(" :")
    # the first sentence says what is missing; the rest is advice that does not fit a status bar
    first, _, rest = text.partition(". ")
    text = (first if rest else text).rstrip(".")
    text = text if len(text) <= 160 else text[:159] + "…"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _why_no_gpu(cuda) -> str:
    # is_available() swallows the driver's error; asking for a device raises it again
    try:
        cuda.get_current_device()
    except Exception as e:
        return _reason(e)
    return "numba.cuda.is_available() is False"


def _no_compiler() -> str | None:
    """Why kernels cannot be compiled for a GPU here (no NVVM), or None when they can."""
    try:
        from numba.cuda.cudadrv.nvvm import NVVM

        NVVM().get_version()
    except Exception as e:
        return f"no NVVM to compile kernels for it ({_reason(e)}; install gpuviz's default set)"
    return None


def handle_info(job, progress):
    """What this worker finds: versions, the CUDA target, and a GPU or the one-line reason there is none.

    Never raises for a missing or broken CUDA library, driver or GPU: that is
    ``gpu_available=False`` with the reason in ``error``.
    """
    info = {
        "numba": _version("numba"),
        "numba_cuda": _version("numba-cuda"),
        "cuda_target": _implementation(),
        "simulator": bool(os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"),
        "gpu_available": False,
        "gpu_name": None,
        "compute_capability": None,
        "sm_count": None,
        "error": None,
    }
    try:
        # numba-cuda loads the CUDA runtime library on import, simulator or not
        cuda = _numba_cuda()
    except Exception as e:
        info["error"] = _reason(e)
        return info
    if info["simulator"]:
        return info
    try:
        if cuda.is_available():
            dev = cuda.get_current_device()
            name = dev.name
            info.update(
                gpu_available=True,
                gpu_name=name.decode() if isinstance(name, bytes) else str(name),
                compute_capability=list(dev.compute_capability),
                sm_count=int(dev.MULTIPROCESSOR_COUNT),
            )
            missing = _no_compiler()
            if missing:  # e.g. the lighter install (README): a launch would fail to compile
                info.update(gpu_available=False, error=f"{info['gpu_name']} found, but {missing}")
        else:
            info["error"] = _why_no_gpu(cuda)
    except Exception as e:  # a broken driver is reported, not raised
        info["error"] = _reason(e)
    return info


#: The CUDA libraries ``where`` reports by default: the runtime (loaded when numba.cuda is
#: imported, simulator or not) and the two compilers a GPU run needs.
WHERE_LIBS = ("cudart", "nvvm", "nvrtc")


def _mapped(fragment: str) -> list[str]:
    """Files whose name contains ``fragment`` that this process has mapped (Linux; [] elsewhere)."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split(None, 5)[5].strip() for line in f if len(line.split(None, 5)) == 6}
    except OSError:
        return []
    return sorted(p for p in paths if fragment in os.path.basename(p))


def handle_where(job, progress):
    """Where this worker's CUDA libraries were loaded from, as cuda-pathfinder and the OS say.

    numba.cuda is imported first, as every kernel job does, so ``cudart`` is the
    library already loaded (cuda-pathfinder returns a loaded library as it is).
    Returns ``{"prefix": sys.prefix, "libs": {name: {"path", "found_via"} or
    {"error"}}, "mapped": {name: [paths]}}``, and with ``compile_ptx`` in a GPU worker
    ``"ptx": {"target", "lines"} or {"error"}`` (no GPU or driver needed for that).
    """
    _numba_cuda()
    out = {"prefix": sys.prefix, "libs": {}, "mapped": {}}
    try:
        from cuda import pathfinder
    except ImportError as e:  # macOS: numba's built-in simulator, no CUDA libraries at all
        out["error"] = _reason(e)
        return out
    for name in job.get("libs") or WHERE_LIBS:
        try:
            dl = pathfinder.load_nvidia_dynamic_lib(name)
            out["libs"][name] = {"path": dl.abs_path, "found_via": dl.found_via}
        except Exception as e:
            out["libs"][name] = {"error": _reason(e)}
        out["mapped"][name] = _mapped(f"lib{name}")
    if job.get("compile_ptx") and os.environ.get("NUMBA_ENABLE_CUDASIM") != "1":
        # what a GPU run does first, short of the driver: the tiled kernel through NVVM to PTX
        try:
            kernel = importlib.import_module("gpuviz.kernels.tiled").make_kernel((16, 16)).py_func
            ptx, _ = _numba_cuda().compile_ptx(kernel, "void(float32[:, :], float32[:, :], float32[:, :])",
                                               cc=(7, 5))
            out["ptx"] = {"target": next((ln.strip() for ln in ptx.splitlines() if ln.startswith(".target")),
                                         None), "lines": len(ptx.splitlines())}
        except Exception as e:
            out["ptx"] = {"error": _reason(e)}
    return out


def _load_kernel_module(job):
    path = job.get("kernel_path")
    if path:
        spec = importlib.util.spec_from_file_location(f"gpuviz_user_kernel_{abs(hash(path))}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    return importlib.import_module(f"gpuviz.kernels.{job['kernel']}")


class _BlockProgress:
    """Counts simulated blocks as they finish, reporting at most ten times a second."""

    def __init__(self, total, progress):
        self.total, self.progress, self.done, self.last = total, progress, 0, 0.0

    def __enter__(self):
        from numba.cuda.simulator import kernel as sim_kernel

        self._cls = sim_kernel.BlockManager
        self._orig = self._cls.run
        outer = self

        def run(bm, grid_point, *args):
            outer._orig(bm, grid_point, *args)
            outer.done += 1
            now = time.monotonic()
            if now - outer.last > 0.1 or outer.done == outer.total:
                outer.last = now
                outer.progress(outer.done, outer.total)

        self._cls.run = run
        return self

    def __exit__(self, *exc):
        self._cls.run = self._orig


def handle_matmul(job, progress):
    from gpuviz.model.matmul import MatmulProblem, check_product, launch_for, make_inputs, reference

    cuda = _numba_cuda()
    simulate = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
    problem = MatmulProblem(job["m"], job["n"], job["k"])
    launch = launch_for(job.get("mapping") or job["kernel"], problem, tuple(job["block"]))
    grid, block = launch.grid.as_tuple(), launch.block.as_tuple()
    a, b = make_inputs(problem, job.get("seed", 0))
    c = np.zeros((problem.m, problem.n), np.float32)
    kernel = _load_kernel_module(job).make_kernel(block)
    out = {"grid": list(grid), "block": list(block), "trace": None, "plain_seconds": None}

    if simulate:
        progress(0, launch.blocks)
        # The simulator allocates millions of short-lived objects; the cyclic
        # GC only slows it down (no cycles survive a launch). Plain and
        # recording runs are timed alike.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        with _BlockProgress(launch.blocks, progress):
            if job.get("record"):
                from gpuviz.engine.recorder import record

                meta = {"kernel": job["kernel"], "m": problem.m, "n": problem.n, "k": problem.k,
                        "grid": list(grid), "block": list(block), "seed": job.get("seed", 0),
                        "source": "recorded"}
                t0 = time.perf_counter()
                trace = record(kernel, grid, block, {"A": a, "B": b, "C": c}, meta)
                out["seconds"] = time.perf_counter() - t0
                out["trace"] = trace
            else:
                t0 = time.perf_counter()
                kernel[grid, block](a, b, c)
                out["seconds"] = time.perf_counter() - t0
        if gc_was_enabled:
            gc.enable()
        out["timing"] = "wall clock of the simulated launch"
        out["gpu_name"] = None
    else:
        dev = cuda.get_current_device()
        name = dev.name
        out["gpu_name"] = name.decode() if isinstance(name, bytes) else str(name)
        da, db, dc = cuda.to_device(a), cuda.to_device(b), cuda.to_device(c)
        with warnings.catch_warnings():
            # small teaching grids under-fill the GPU; numba warns, we know
            warnings.simplefilter("ignore")
            kernel[grid, block](da, db, dc)  # compiles, and warms the caches
            cuda.synchronize()
            times = []
            for _ in range(max(1, int(job.get("repeat", 5)))):
                start, stop = cuda.event(), cuda.event()
                start.record()
                kernel[grid, block](da, db, dc)
                stop.record()
                stop.synchronize()
                times.append(cuda.event_elapsed_time(start, stop) / 1000.0)
        c = dc.copy_to_host()
        out["seconds"] = statistics.median(times)
        out["all_seconds"] = times
        out["timing"] = f"CUDA events, median of {len(times)} launches after a warm-up"
        progress(launch.blocks, launch.blocks)

    err, rel = check_product(c, reference(a, b))
    out.update(c=c, max_abs_error=err, rel_error=rel)
    return out


def handle_probe(job, progress):
    """Run the index-probe kernel: what CUDA says each thread's indices are."""
    cuda = _numba_cuda()
    grid, block = tuple(job["grid"]), tuple(job["block"])
    n = int(np.prod(grid)) * int(np.prod(block))
    out = np.full((n, 7), -1, np.int64)
    kernel = importlib.import_module("gpuviz.kernels.probe").make_kernel(block)
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        kernel[grid, block](out)
    else:
        d = cuda.to_device(out)
        kernel[grid, block](d)
        out = d.copy_to_host()
    return {"indices": out}


def handle_python(job, progress):
    """Call ``module:function(**kwargs)`` in the worker (benchmarks and the simulator's own checks)."""
    module, _, name = job["target"].partition(":")
    return getattr(importlib.import_module(module), name)(**job.get("kwargs", {}))


def handle_bench(job, progress):
    """The speed benchmark (issue 7): each measurement streamed with ``progress.partial``."""
    from gpuviz.engine.bench import handle_bench as run

    return run(job, progress)


def handle_user_kernel(job, progress):
    """A student's own kernel (issue 20): run, recorded on the simulator, watched by a time-out."""
    from gpuviz.engine.user_kernel_worker import handle

    return handle(job, progress)


HANDLERS = {"info": handle_info, "matmul": handle_matmul, "probe": handle_probe, "python": handle_python,
            "bench": handle_bench, "where": handle_where, "user_kernel": handle_user_kernel}


class _Reporter:
    """``progress(done, total)`` for every handler; ``progress.partial(payload)`` for those that stream."""

    def __init__(self, conn):
        self.conn = conn

    def __call__(self, done, total):
        _send(self.conn, ("progress", int(done), int(total)))

    def partial(self, payload):
        _send(self.conn, ("partial", payload))


def _send(conn, message) -> None:
    """Send to the parent; when the parent is gone there is no one to tell anything: leave now, silently."""
    try:
        conn.send(message)
    except OSError:  # BrokenPipeError, ConnectionResetError: the parent closed the pipe or died
        os._exit(0)


def _leave_with_parent() -> None:
    """End this process at once when the process that started it ends (even by SIGKILL).

    A spawned child holds the read end of a pipe whose write end only its parent
    has: it reads as closed the moment the parent dies. A daemon thread waits on
    it, so a simulation in full swing stops too (not at its next progress report).
    The parent's pid is watched as well, for a parent that shared the pipe with a
    forked child of its own.
    """
    import multiprocessing
    import threading

    parent = multiprocessing.parent_process()
    if parent is None:
        return
    ppid = os.getppid()

    def watch():
        while parent.is_alive() and os.getppid() == ppid:
            parent.join(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="gpuviz-parent-watch", daemon=True).start()


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def worker_main(conn, simulate: bool) -> None:
    # Ctrl-C in a terminal reaches the whole process group; the parent decides
    # what to cancel (and kills this process), so the worker must not die on
    # its own with a traceback of the simulator's threads.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _leave_with_parent()
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1" if simulate else "0"
    if simulate:
        # The simulator's barrier is a busy-polling manager thread plus one OS
        # thread per CUDA thread, all sharing the GIL: with Python's default
        # 5 ms switch interval every syncthreads() waits out many of them
        # (tiled 32³: 4.6 s); at 0.1 ms it takes ~1 s. Other kernels are unaffected.
        sys.setswitchinterval(1e-4)
        try:
            from gpuviz.engine.recorder import install_simulator_fixes

            install_simulator_fixes()
        except Exception as e:
            # Dying here would tell the parent only "exit code 1": instead every job gets the
            # reason (and ``info`` reports no GPU), so a missing library is never a worker death.
            global _load_error
            _load_error = _reason(e)
        # A simulation saturates a core for seconds to minutes; the GUI (or the
        # shell) that asked for it should stay responsive on a 2-core laptop.
        if hasattr(os, "nice"):
            os.nice(10)
    # numba's own warnings (deprecations, under-filled grids) are not the user's business
    warnings.filterwarnings("ignore", module="numba.*")

    progress = _Reporter(conn)

    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        # taken: from now on a death of this process is the job's (the parent restarts a worker
        # that dies before this, and sends it the job again)
        _send(conn, ("ack",))
        try:
            answer = ("result", HANDLERS[job["kind"]](job, progress))
        except Exception as exc:  # the kernel's error, reported as one line
            answer = ("error", _one_line(exc))
        try:
            conn.send(answer)
        except OSError:  # the parent is gone
            os._exit(0)
        except Exception as exc:  # an answer that cannot be pickled: nothing was written, say why instead
            _send(conn, ("error", _one_line(exc)))
        sys.stdout.flush()
