"""The one adapter between engine jobs and Qt: a job's reports as signals on the GUI thread.

Every background job of the GUI (the matmul panel's "Run for real", the speed
panel's sweeps, the window's backend lookup) is a :class:`gpuviz.engine.jobs.Job`
started through a :class:`JobAdapter`. See the adapter's docstring for the rule
a closing window follows.
"""

from __future__ import annotations

import queue
import weakref

from PyQt6.QtCore import QObject, QTimer, pyqtSignal

__all__ = ["JobAdapter"]


class JobAdapter(QObject):
    """Runs one engine job at a time for a widget and delivers its reports as signals on the GUI thread.

    The job's thread never touches a Qt object: its callbacks only put what they
    report in a queue, which a timer of this adapter empties on the GUI thread every
    :attr:`POLL_MS` while the job runs, emitting one signal per report, in order.

    Signals
    -------
    progress(object)
        What the job reported (the engine's :class:`~gpuviz.engine.process.Progress`).
    partial(object)
        A piece of a streaming result (a benchmark's measurement, a run's backend).
    finished(object)
        The :class:`~gpuviz.engine.jobs.Job`, once, after its last report: its
        ``state`` (``ok``, ``error``, ``cancelled``), ``result`` and ``error`` say how it went.

    Notes
    -----
    **A widget that closes while a job runs** calls :meth:`close` (the panels' and the
    window's ``shutdown``/``closeEvent`` do): the job is cancelled, nothing more of it
    is delivered, and :meth:`close` returns at once — it never waits for the job's
    thread, which ends by itself once the engine has stopped the worker (the engine
    kills a worker within ~50 ms of a cancel). An engine the widget created is closed
    after that (``Engine.close`` also returns within a moment). Nothing is hooked to
    the ``destroyed`` signal: a Python slot run while PyQt tears an object down can
    crash the interpreter. As a safety net, an adapter that is deleted (and collected)
    without :meth:`close` cancels its job from a finalizer that touches no Qt object.
    """

    #: How often the queue of a running job is emptied on the GUI thread (ms).
    POLL_MS = 20

    progress = pyqtSignal(object)
    partial = pyqtSignal(object)
    finished = pyqtSignal(object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._job = None
        self._queue: queue.SimpleQueue | None = None
        self._finalizer: weakref.finalize | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(self.POLL_MS)
        self._timer.timeout.connect(self.deliver)

    @property
    def job(self):
        """The job running (None when idle: a job stops being this adapter's once ``finished`` is emitted)."""
        return self._job

    @property
    def running(self) -> bool:
        return self._job is not None

    @property
    def cancelling(self) -> bool:
        return self._job is not None and self._job.cancel_requested

    def start(self, job) -> bool:
        """Start ``job`` (a :class:`~gpuviz.engine.jobs.Job` not yet started); False while another one runs."""
        if self._job is not None:
            return False
        inbox: queue.SimpleQueue = queue.SimpleQueue()
        # the callbacks hold the queue, never this adapter: the job's thread keeps no Qt object alive
        job.on_progress = lambda report: inbox.put(("progress", report))
        job.on_partial = lambda piece: inbox.put(("partial", piece))
        job.on_done = lambda j: inbox.put(("done", j))
        self._job, self._queue = job, inbox
        self._finalizer = weakref.finalize(self, job.cancel)
        self._timer.start()
        job.start()
        return True

    def cancel(self) -> None:
        """Ask the job to stop (returns at once); its end still arrives as :attr:`finished`."""
        if self._job is not None:
            self._job.cancel()

    def close(self) -> None:
        """Cancel the job and deliver nothing more of it; never waits. Safe to call twice."""
        job = self._job
        self._detach()
        if job is not None:
            job.cancel()

    def deliver(self) -> None:
        """Emit what the job has reported so far (the timer calls this; a caller that waited on the job may too)."""
        inbox, job = self._queue, self._job
        if inbox is None:
            return
        while self._queue is inbox:  # a slot may close this adapter or start the next job
            try:
                kind, payload = inbox.get_nowait()
            except queue.Empty:
                return
            if kind == "done":
                self._detach()
                self.finished.emit(job)
                return
            getattr(self, kind).emit(payload)

    def wait(self, timeout: float | None = None) -> bool:
        """Block up to ``timeout`` s until the job has ended, then deliver its reports (for scripts and tests).

        True when no job is running any more.
        """
        job = self._job
        if job is None:
            return True
        ended = job.wait(timeout)
        self.deliver()
        return ended

    def _detach(self) -> None:
        self._timer.stop()
        if self._finalizer is not None:
            self._finalizer.detach()
        self._job, self._queue, self._finalizer = None, None, None
