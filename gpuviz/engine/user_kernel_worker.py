"""Worker side of a student's kernel: load the file, make the arguments, launch, record, watch the clock.

Runs only inside the worker process (``worker.py`` hands it the ``user_kernel``
jobs), where numba is imported. The job is plain data (see
:meth:`gpuviz.model.kernel.request.KernelRequest.to_job`). A watchdog thread
stops a launch that runs past its time-out or its event limit: it samples the
line each simulated thread is on (``sys._current_frames``), sends it as a
``partial`` message, and the parent kills this process.

A problem with the request found only here (the module raises on import, the
name is no kernel, an ``--expect`` expression fails) comes back as
``{"bad_request": sentence}``; a thread's exception is a result, not an error.
"""

from __future__ import annotations

import gc
import importlib.util
import inspect
import itertools
import os
import sys
import threading
import time
import traceback

import numpy as np

from gpuviz.model.kernel.args import ArgSpec, Expect, evaluate_expect

_module_numbers = itertools.count()


class _BadRequest(Exception):
    pass


def _where_in_file(tb, path: str) -> int | None:
    for frame in reversed(traceback.extract_tb(tb)):
        if frame.filename == path:
            return frame.lineno
    return None


def _load(path: str, function: str):
    """The module's kernel object ``function``; :class:`_BadRequest` with one sentence otherwise."""
    name = f"gpuviz_user_kernel_{next(_module_numbers)}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise _BadRequest(f"cannot load {path} as a Python module")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as e:
        raise _BadRequest(f"{path} line {e.lineno}: syntax error: {e.msg}") from None
    except Exception as e:
        line = _where_in_file(e.__traceback__, path)
        at = f" line {line}" if line else ""
        text = " ".join(str(e).split())
        raise _BadRequest(f"{path}{at}: importing the file raised {type(e).__name__}"
                          f"{': ' + text if text else ''}") from None
    kernel = getattr(module, function, None)
    launchable = callable(getattr(type(kernel), "__getitem__", None))  # kernel[grid, block]; a CPU @jit is not
    if kernel is None or not hasattr(kernel, "py_func") or not launchable or getattr(kernel, "_device", False):
        raise _BadRequest(f"{path}: {function!r} is not a @cuda.jit kernel")
    return kernel


def _check_params(kernel, specs: list[ArgSpec], path: str, function: str) -> None:
    params = list(inspect.signature(kernel.py_func).parameters)
    if params != [s.name for s in specs]:
        raise _BadRequest(f"{path}: kernel {function} takes ({', '.join(params)}), "
                          f"but the arguments given are ({', '.join(s.name for s in specs)})")


class _Channel:
    """The job's messages to the parent, from the main thread and the watchdog, one at a time."""

    def __init__(self, progress):
        self.progress = progress
        self.lock = threading.Lock()
        self.closed = False

    def send_progress(self, done, total):
        with self.lock:
            if not self.closed:
                self.progress(done, total)

    def send_partial(self, payload):
        with self.lock:
            if not self.closed:
                self.progress.partial(payload)

    def close(self):
        with self.lock:
            self.closed = True


def thread_positions(path: str) -> list[dict]:
    """Each live simulated thread: block, thread, the line of ``path`` it is on, waiting at a barrier or not."""
    from numba.cuda.simulator.kernel import BlockThread

    frames = sys._current_frames()
    out = []
    for t in threading.enumerate():
        if not isinstance(t, BlockThread) or not t.is_alive():
            continue
        f, line = frames.get(t.ident), -1
        while f is not None:
            if f.f_code.co_filename == path:
                line = f.f_lineno
                break
            f = f.f_back
        out.append({"block": list(t.blockIdx), "thread": list(t.threadIdx), "line": line,
                    "waiting": bool(t.syncthreads_blocked)})
    out.sort(key=lambda d: (d["block"][::-1], d["thread"][::-1]))
    return out


class _Watchdog(threading.Thread):
    """Stops a launch past its time-out or event limit: reports where the threads are, the parent kills us."""

    def __init__(self, channel: _Channel, path: str, timeout: float, max_events: int, simulate: bool):
        super().__init__(name="gpuviz-watchdog", daemon=True)
        self.channel, self.path, self.timeout, self.max_events = channel, path, timeout, max_events
        self.simulate = simulate
        self.state = None  # the recorder's state, for its event count
        self.done = threading.Event()
        self.fired = False

    def run(self):
        start = time.monotonic()
        while not self.done.wait(0.02):
            elapsed = time.monotonic() - start
            reason = None
            if elapsed >= self.timeout:
                reason = "time"
            elif self.state is not None and self.state.events() > self.max_events:
                reason = "events"
            if reason is None:
                continue
            events = self.state.events() if self.state is not None else None
            threads = thread_positions(self.path) if self.simulate else []
            self.fired = True
            self.channel.send_partial({"stopped": {"reason": reason, "seconds": self.timeout,
                                                   "elapsed": elapsed, "limit": self.max_events,
                                                   "events": events, "threads": threads}})
            return


class _BlockCounter:
    """Reports simulated blocks as they finish (at most ten times a second)."""

    def __init__(self, total, channel):
        self.total, self.channel, self.done, self.last = total, channel, 0, 0.0

    def __enter__(self):
        from numba.cuda.simulator import kernel as sim_kernel

        self.cls = sim_kernel.BlockManager
        self.orig = self.cls.run
        outer = self

        def run(bm, grid_point, *args):
            try:
                outer.orig(bm, grid_point, *args)
            finally:
                outer.done += 1
                now = time.monotonic()
                if now - outer.last > 0.1 or outer.done == outer.total:
                    outer.last = now
                    outer.channel.send_progress(outer.done, outer.total)

        self.cls.run = run
        return self

    def __exit__(self, *exc):
        self.cls.run = self.orig


def _plain_errors(exc: BaseException, path: str) -> list[dict]:
    """The simulator's re-raised thread exception as an error dict (the thread is in its message)."""
    from gpuviz.engine.recorder import thread_error_of

    err = thread_error_of(exc, path)
    return [] if err is None else [err.to_dict()]


def handle(job: dict, progress) -> dict:
    """Run one ``user_kernel`` job (see the module docstring)."""
    simulate = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
    path, function = job["path"], job["function"]
    grid, block = tuple(job["grid"]), tuple(job["block"])
    specs = [ArgSpec.from_dict(d) for d in job["args"]]
    try:
        kernel = _load(path, function)
        _check_params(kernel, specs, path, function)
        values = {s.name: s.make() for s in specs}
        before = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in values.items()}
        expected = {}
        for name, expr in job.get("expects", []):
            try:
                expected[name] = evaluate_expect(Expect(name, expr), before)
            except Exception as e:
                text = " ".join(str(e).split())
                raise _BadRequest(f"--expect {name}={expr}: {type(e).__name__}{': ' + text if text else ''}") from None
    except _BadRequest as e:
        return {"bad_request": str(e)}
    try:
        with open(path, encoding="utf-8") as f:
            source = f.read()
    except OSError:
        source = ""

    channel = _Channel(progress)
    watchdog = _Watchdog(channel, path, float(job.get("timeout", 10.0)), int(job.get("max_events", 4_000_000)),
                         simulate)
    out = {"backend": "simulator" if simulate else "gpu", "expected": expected, "errors": [], "trace": None,
           "launch_error": None, "gpu_name": None}
    gc_was_enabled = gc.isenabled()
    gc.disable()  # the simulator's millions of short-lived objects make no cycles; the GC only slows it
    try:
        if simulate:
            blocks = int(np.prod(grid))
            record = job.get("record", True)
            with _BlockCounter(blocks, channel):
                channel.send_progress(0, blocks)
                t0 = time.perf_counter()
                if record:
                    from gpuviz.engine.recorder import record_launch

                    meta = {"kernel": function, "kernel_file": path, "grid": list(grid), "block": list(block),
                            "args": job["args"], "source": "recorded"}

                    def started(state):
                        watchdog.state = state
                        watchdog.start()

                    rec = record_launch(kernel, grid, block, values, meta, source, on_state=started)
                    out["trace"] = rec.trace
                    out["errors"] = [e.to_dict() for e in rec.errors]
                    out["launch_error"] = rec.launch_error
                else:
                    watchdog.start()
                    try:
                        kernel[grid, block](*values.values())
                    except Exception as e:
                        out["errors"] = _plain_errors(e, path)
                        if not out["errors"]:
                            out["launch_error"] = f"{type(e).__name__}: {' '.join(str(e).split())}"
                out["seconds"] = time.perf_counter() - t0
        else:
            from numba import cuda

            dev = cuda.get_current_device()
            name = dev.name
            out["gpu_name"] = name.decode() if isinstance(name, bytes) else str(name)
            watchdog.start()
            try:
                dev_args = [cuda.to_device(v) if isinstance(v, np.ndarray) else v for v in values.values()]
                t0 = time.perf_counter()
                kernel[grid, block](*dev_args)
                cuda.synchronize()
                out["seconds"] = time.perf_counter() - t0  # includes compiling: not a timing to report
                for (k, v), d in zip(values.items(), dev_args):
                    if isinstance(v, np.ndarray):
                        values[k] = d.copy_to_host()
            except Exception as e:
                out["launch_error"] = f"{type(e).__name__}: {' '.join(str(e).split())}"
    finally:
        watchdog.done.set()
        if watchdog.is_alive():
            watchdog.join()
        channel.close()
        if gc_was_enabled:
            gc.enable()
    out["outputs"] = {k: v for k, v in values.items() if isinstance(v, np.ndarray)}
    out["timed_out"] = watchdog.fired
    out["stray_threads"] = _stray_threads() if simulate and (out["errors"] or out["launch_error"]) else 0
    return out


def _stray_threads(wait: float = 0.5) -> int:
    """Simulated threads still running after a launch ended with an exception (the simulator does not join them)."""
    from numba.cuda.simulator.kernel import BlockThread

    deadline = time.monotonic() + wait
    for t in [t for t in threading.enumerate() if isinstance(t, BlockThread)]:
        t.join(max(0.0, deadline - time.monotonic()))
    return sum(1 for t in threading.enumerate() if isinstance(t, BlockThread) and t.is_alive())
