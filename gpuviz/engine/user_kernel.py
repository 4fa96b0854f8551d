"""A student's own kernel: run it in the simulator worker, recorded, stopped by a time-out, and check it.

The calling process never imports numba: :func:`run_kernel` sends the job to
the engine's simulator worker (``gpuviz.engine.user_kernel_worker`` runs it
there). When a GPU is found, the same kernel with the same arguments also runs
on it and its outputs are compared with the simulator's (``UserKernelResult.gpu``).

A launch past its time-out: the worker's watchdog reports which line each
thread is on, then this side kills the worker (the next job starts a fresh one).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np

from ..model.kernel.checker import (
    Constraints,
    Report,
    check_trace,
    compare_outputs,
    exception_findings,
    make_report,
    timeout_finding,
)
from ..model.kernel.request import KernelRequest
from ..model.trace import Trace
from .process import Cancelled, WorkerDied, WorkerError

__all__ = ["STOP_GRACE_S", "UserKernelResult", "run_kernel"]

#: After this long past its time-out with no word from the watchdog, the worker is killed anyway.
STOP_GRACE_S = 5.0
# starting a worker (spawn, import numba) is not the kernel's time
_START_ALLOWANCE_S = 60.0


@dataclass
class UserKernelResult:
    """What a run of a student's kernel gave.

    Parameters
    ----------
    status : str
        ``ok`` (the launch ran to its end), ``exception`` (a thread raised; the
        launch stopped there), ``timeout`` (stopped: time-out or event limit),
        ``bad_request`` (found only in the worker: the file raises on import, an
        ``--expect`` fails), ``died`` (the worker died), ``cancelled``, ``error``.
    message : str
        One sentence.
    request : KernelRequest
    trace : Trace or None
        The recorded trace (format 2), up to the end or the first exception.
    outputs : dict of name -> ndarray
        The arrays after the launch.
    expected : dict of name -> ndarray
        What ``--expect`` said they should be.
    errors : list of dict
        Threads that raised: ``block``, ``thread``, ``type``, ``message``, ``line``.
    stopped : dict or None
        For a time-out: ``reason``, ``seconds``, ``threads`` (where each was).
    seconds : float or None
        Wall time of the simulated launch (recording included).
    gpu : dict or None
        When a GPU ran it too: ``name``, ``matches``, ``differs`` (array names), ``error``.
    """

    status: str
    message: str
    request: KernelRequest
    trace: Trace | None = None
    outputs: dict = field(default_factory=dict)
    expected: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)
    stopped: dict | None = None
    seconds: float | None = None
    gpu: dict | None = None
    launch_error: str | None = None

    def report(self, constraints: Constraints | None = None) -> Report:
        """The checker's report: the trace's findings, the threads' exceptions, a time-out, wrong results."""
        found = []
        if self.stopped is not None:
            found.append(timeout_finding(self.stopped))
        if self.trace is not None:
            found += exception_findings(self.errors, self.trace)
            found += check_trace(self.trace, constraints if constraints is not None else self.request.constraints,
                                 self.errors)
        if self.status == "ok" and self.expected:
            found += compare_outputs(self.outputs, self.expected)
        return make_report(found)


def _gpu_compare(sim: dict, gpu_out: dict) -> dict:
    differs = []
    for name, a in sim.items():
        b = gpu_out.get(name)
        if b is None or b.shape != a.shape:
            differs.append(name)
            continue
        if a.dtype.kind in "iub":
            same = np.array_equal(a, b)
        else:
            same = np.allclose(a.astype(np.float64), b.astype(np.float64), rtol=1e-4, atol=1e-5, equal_nan=True)
        if not same:
            differs.append(name)
    return {"matches": not differs, "differs": differs}


def run_kernel(engine, request: KernelRequest, on_progress=None, *, gpu: bool = True) -> UserKernelResult:
    """Run ``request`` recorded in the simulator worker (and on a GPU when one is found and ``gpu``).

    Blocks until the launch ends, is stopped by its time-out, or
    :meth:`Engine.cancel <gpuviz.engine.Engine.cancel>` is called (from another
    thread): then the result's status is ``cancelled``.
    """
    job = request.to_job()
    stopped: dict = {}
    try:
        with engine.worker_for(True) as worker:

            def partial(payload):
                if "stopped" in payload:
                    stopped.update(payload["stopped"])
                    worker.cancel()  # the watchdog has said where the threads are: end the process now

            out = worker.call(job, on_progress, timeout=request.timeout + _START_ALLOWANCE_S + STOP_GRACE_S,
                              on_partial=partial)
    except Cancelled as e:
        if stopped:
            return UserKernelResult("timeout", _stop_message(stopped), request, stopped=dict(stopped))
        if str(e) != "cancelled":  # the parent's own deadline: the watchdog never answered
            info = {"reason": "time", "seconds": request.timeout, "threads": []}
            return UserKernelResult("timeout", _stop_message(info), request, stopped=info)
        return UserKernelResult("cancelled", "cancelled", request)
    except WorkerDied as e:
        return UserKernelResult("died", str(e), request)
    except WorkerError as e:
        return UserKernelResult("error", f"the worker failed: {e}", request)
    if "bad_request" in out:
        return UserKernelResult("bad_request", out["bad_request"], request)
    if out.get("stray_threads"):
        # the simulator leaves a failed block's other threads running: do not reuse this worker
        threading.Thread(target=worker.close, daemon=True).start()
    errors = out.get("errors") or []
    status = "exception" if errors or out.get("launch_error") else "ok"
    if errors:
        e = errors[0]
        message = f"thread {tuple(e['thread'])} of block {tuple(e['block'])} raised {e['type']}"
    elif out.get("launch_error"):
        message = f"the launch failed: {out['launch_error']}"
    else:
        message = "the kernel ran to its end"
    result = UserKernelResult(status, message, request, out.get("trace"), out.get("outputs") or {},
                              out.get("expected") or {}, errors, None, out.get("seconds"),
                              launch_error=out.get("launch_error"))
    if gpu and status == "ok":
        result.gpu = _run_on_gpu(engine, request, job, result)
    return result


def _run_on_gpu(engine, request, job, result) -> dict | None:
    """The same launch on a GPU, when there is one; its outputs against the simulator's."""
    try:
        info = engine.gpu_info()
    except Exception:  # no GPU lookup, no comparison
        return None
    if not info.get("gpu_available"):
        return None
    started = time.monotonic()
    try:
        with engine.worker_for(False) as worker:
            out = worker.call({**job, "record": False}, timeout=request.timeout + _START_ALLOWANCE_S)
    except Cancelled:
        return {"name": info.get("gpu_name"), "matches": None, "differs": [],
                "error": f"stopped after {time.monotonic() - started:.0f} s"}
    except (WorkerDied, WorkerError) as e:
        return {"name": info.get("gpu_name"), "matches": None, "differs": [], "error": str(e)}
    if "bad_request" in out or out.get("launch_error"):
        return {"name": info.get("gpu_name"), "matches": None, "differs": [],
                "error": out.get("bad_request") or out.get("launch_error")}
    return {"name": out.get("gpu_name") or info.get("gpu_name"), "error": None,
            **_gpu_compare(result.outputs, out.get("outputs") or {})}


def _stop_message(stopped: dict) -> str:
    if stopped.get("reason") == "events":
        return f"stopped after more than {stopped.get('limit', 0):,} memory accesses"
    return f"stopped after its time-out of {stopped.get('seconds', 0):g} s"
