"""Background jobs: one blocking engine call in a daemon thread, watched through callbacks (no Qt here).

Every engine call that takes long (a run, a benchmark sweep, the GPU lookup)
blocks until its worker answers. A :class:`Job` runs it in a thread and reports
what happens — progress, partial results (the benchmark streams its
measurements), the result or the error — to callbacks called in that thread;
:meth:`Job.cancel` stops it from any thread. The GUI turns those callbacks into
Qt signals with one adapter (:mod:`gpuviz.ui.jobs`), the command line waits on
the job in its main thread so that Ctrl-C can cancel it.

The factories :func:`run_job`, :func:`bench_job` and :func:`info_job` make the
engine's three kinds of job.
"""

from __future__ import annotations

import threading

from .process import Cancelled

__all__ = ["CANCEL_REPEAT_S", "Job", "bench_job", "info_job", "run_job"]

#: How often a cancel is repeated until the call returns (see :meth:`Job.cancel`).
CANCEL_REPEAT_S = 0.05


class Job:
    """One blocking call run in a daemon thread: progress, partial results, result or error, cancel, done.

    Parameters
    ----------
    call : callable(Job) -> object
        The work. It reports through the job it is given: ``job.progress(p)``
        (whatever the engine reports, e.g. a :class:`~gpuviz.engine.process.Progress`)
        and ``job.partial(x)`` (a piece of a result that streams); it can look at
        :attr:`cancel_requested` between steps.
    cancel : callable() or None
        What else stops the call, e.g. :meth:`Engine.cancel <gpuviz.engine.Engine.cancel>`
        (which stops whatever runs on that engine). None where the call watches
        :attr:`cancel_event` itself (the engine's ``run`` and ``bench`` do), or where it
        cannot be stopped (a cancelled job is then only abandoned).
    on_progress, on_partial : callable(object), optional
        Called in the job's thread with each report.
    on_done : callable(Job), optional
        Called once in the job's thread when the call has returned or raised,
        before :meth:`wait` returns.
    name : str
        The thread's name.

    Attributes
    ----------
    state : str
        ``new``, ``running``, then ``ok`` (the call returned), ``error`` (it raised)
        or ``cancelled`` (it raised after a cancel, or raised
        :class:`~gpuviz.engine.process.Cancelled`). A call that honours a cancel by
        returning (``Engine.run`` returns a result with status ``cancelled``) ends ``ok``.
    result : object
        What the call returned (None unless ``state == "ok"``).
    error : BaseException or None
        What it raised (a benchmark's ``BenchCancelled`` carries the partial sweep).
    """

    def __init__(self, call, cancel=None, *, on_progress=None, on_partial=None, on_done=None,
                 name: str = "gpuviz-job"):
        self._call = call
        self._cancel_hook = cancel
        self.on_progress, self.on_partial, self.on_done = on_progress, on_partial, on_done
        self.name = name
        self.state = "new"
        self.result = None
        self.error: BaseException | None = None
        self._cancel_requested = threading.Event()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- what the call uses ---------------------------------------------------------------------

    def progress(self, report) -> None:
        """Report progress (from the call, in the job's thread)."""
        if self.on_progress is not None:
            self.on_progress(report)

    def partial(self, piece) -> None:
        """Report a piece of a streaming result (from the call, in the job's thread)."""
        if self.on_partial is not None:
            self.on_partial(piece)

    @property
    def cancel_requested(self) -> bool:
        return self._cancel_requested.is_set()

    @property
    def cancel_event(self) -> threading.Event:
        """Set by :meth:`cancel`, never cleared: hand it to an engine call as its own cancel flag.

        ``Engine.run(..., cancel=job.cancel_event)`` stops this job alone, however early the
        cancel comes; the engine's :meth:`~gpuviz.engine.Engine.cancel` stops whatever runs
        on that engine (other panels' jobs included).
        """
        return self._cancel_requested

    # -- what the owner uses --------------------------------------------------------------------

    def start(self) -> Job:
        """Start the call in its thread (once); returns the job."""
        with self._lock:
            if self._thread is not None:
                raise RuntimeError("a job is started once")
            self.state = "running"
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        return self

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait up to ``timeout`` s for the job to end; True when it has.

        An Event, not a thread join: on Python < 3.13 a join interrupted by Ctrl-C
        can leave the thread marked as stopped while it still runs.
        """
        return self._done.wait(timeout)

    def cancel(self) -> None:
        """Ask the call to stop; returns at once, from any thread, any number of times.

        The cancel hook is called now and then every :data:`CANCEL_REPEAT_S` until the
        call returns: an engine clears a cancel that comes before its worker has the
        job, so one call of the hook could be lost.
        """
        if self._done.is_set() or self._cancel_requested.is_set():
            return
        self._cancel_requested.set()
        if self._cancel_hook is None:
            return
        self._cancel_hook()
        threading.Thread(target=self._keep_cancelling, name=f"{self.name}-cancel", daemon=True).start()

    def get(self):
        """The call's result, or its exception raised here (the job must be done)."""
        if not self._done.is_set():
            raise RuntimeError("the job has not ended")
        if self.error is not None:
            raise self.error
        return self.result

    # -- inside ---------------------------------------------------------------------------------

    def _keep_cancelling(self) -> None:
        while not self._done.wait(CANCEL_REPEAT_S):
            self._cancel_hook()

    def _run(self) -> None:
        try:
            self.result = self._call(self)
            self.state = "ok"
        except BaseException as e:  # handed to the owner, never raised in this thread
            self.error = e
            self.state = "cancelled" if isinstance(e, Cancelled) or self.cancel_requested else "error"
        finally:
            try:
                if self.on_done is not None:
                    self.on_done(self)
            finally:
                self._done.set()

    def __repr__(self) -> str:
        return f"<Job {self.name} {self.state}>"


def run_job(engine, matmul_job, *, confirmed: bool = False, timeout: float | None = None, **callbacks) -> Job:
    """A job running :meth:`Engine.run <gpuviz.engine.Engine.run>` (its progress in blocks). Not started.

    Its cancel stops this run alone (the engine gets the job's :attr:`~Job.cancel_event`).
    """
    return Job(lambda job: engine.run(matmul_job, job.progress, confirmed=confirmed, timeout=timeout,
                                      cancel=job.cancel_event),
               None, name="gpuviz-run", **callbacks)


def bench_job(engine, op: str, sizes, impls, **bench_kwargs) -> Job:
    """A job running :meth:`Engine.bench <gpuviz.engine.Engine.bench>`; each measurement is a partial. Not started.

    The job's callbacks (``on_progress``, ``on_partial``, ``on_done``) may be among
    the keyword arguments; the others go to ``Engine.bench``. Its cancel stops this
    sweep alone (the engine gets the job's :attr:`~Job.cancel_event`).
    """
    callbacks = {k: bench_kwargs.pop(k) for k in ("on_progress", "on_partial", "on_done") if k in bench_kwargs}
    sizes, impls = tuple(sizes), tuple(impls)
    return Job(lambda job: engine.bench(op, sizes, impls, on_progress=job.progress, on_measurement=job.partial,
                                        cancel=job.cancel_event, **bench_kwargs),
               None, name="gpuviz-bench", **callbacks)


def info_job(engine, **callbacks) -> Job:
    """A job asking :meth:`Engine.gpu_info <gpuviz.engine.Engine.gpu_info>` (it starts a worker: seconds). Not started.

    The probe cannot be cancelled on its own (the engine caches its answer for
    everyone who asks); a cancelled lookup is abandoned, and closing the engine stops it.
    """
    return Job(lambda job: engine.gpu_info(), None, name="gpuviz-backend-lookup", **callbacks)
