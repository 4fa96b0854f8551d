"""A worker process that runs jobs, reports progress, and can be cancelled or die without harm."""

from __future__ import annotations

import multiprocessing
import signal
import threading
import time
from dataclasses import dataclass


class WorkerError(RuntimeError):
    """A job that raised inside the worker (the message is the worker's one line)."""


class WorkerDied(RuntimeError):
    """The worker process ended without answering."""


class Cancelled(RuntimeError):
    """The job was cancelled and its worker stopped."""


class _DiedBeforeAck(WorkerDied):
    """The worker ended before it acknowledged the job: the job never ran, a fresh worker may take it."""


@dataclass
class Progress:
    done: int
    total: int


class Worker:
    """One spawned worker process, either a simulator worker or a GPU worker.

    Jobs run one at a time. :meth:`cancel` (from any thread) kills the process;
    the next job starts a fresh one.
    """

    def __init__(self, simulate: bool):
        self.simulate = simulate
        self._proc = None
        self._conn = None
        self._cancel = threading.Event()
        self._lock = threading.Lock()

    def _start(self):
        from .worker import worker_main

        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=worker_main, args=(child, self.simulate), daemon=True,
                           name=f"gpuviz-{'simulator' if self.simulate else 'gpu'}-worker")
        # Ctrl-C in a terminal signals the whole process group. The parent
        # cancels and kills the worker itself; a worker hit while still
        # importing would print a traceback. A blocked signal mask is
        # inherited through fork and exec, so the worker is born deaf to it.
        masked = hasattr(signal, "pthread_sigmask")
        if masked:
            from multiprocessing import resource_tracker

            # started by the first spawn, it unblocks SIGINT after itself: start it first
            resource_tracker.ensure_running()
            old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            proc.start()
        finally:
            if masked:
                signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
        child.close()
        self._proc, self._conn = proc, parent

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.is_alive()

    def call(self, job: dict, on_progress=None, timeout: float | None = None, on_partial=None,
             cancel: threading.Event | None = None):
        """Run ``job`` in the worker and return its result dict.

        ``on_progress(Progress)`` gets the job's progress; ``on_partial(payload)`` each
        piece a streaming job (``bench``) sends before its result. ``cancel``, when given,
        is this job's own cancel flag: set (before or during the call), it stops this job
        and no other, and nothing clears it.

        A worker that died while idle (killed, crashed) is replaced before the job is
        sent, and so is one that dies before it has taken the job (it answers every job
        with an acknowledgement first): a job is only reported as having killed its
        worker when the worker died while running it.

        Raises
        ------
        WorkerError
            The job raised in the worker.
        WorkerDied
            The process ended (crash, ``os._exit``, killed) while running the job, or
            no worker could be started to take it.
        Cancelled
            :meth:`cancel` was called, ``cancel`` was set, or ``timeout`` seconds passed.
        """
        with self._lock:
            self._cancel.clear()
            if cancel is not None and cancel.is_set():
                raise Cancelled("cancelled")
            deadline = None if timeout is None else time.monotonic() + timeout
            # one replacement: a worker that dies before taking a job twice in a row is broken, not unlucky
            for attempt in range(2):
                self._send(job)
                try:
                    return self._answer(on_progress, on_partial, deadline, timeout, cancel)
                except _DiedBeforeAck as e:
                    if attempt == 1:
                        raise WorkerDied(str(e)) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(self, job: dict) -> None:
        """Hand ``job`` to a live worker, starting one when there is none or it has died while idle."""
        for _ in range(2):
            if not self._idle_and_alive():
                self._kill()
                self._start()
            try:
                self._conn.send(job)
                return
            except OSError:  # BrokenPipeError: it died under the send
                self._kill()
        raise WorkerDied("the worker process could not be reached")

    def _idle_and_alive(self) -> bool:
        if self._proc is None or not self._proc.is_alive():
            return False
        # an idle worker sends nothing: a readable pipe is its end-of-file (it is exiting) or a
        # leftover of a job that ended abnormally; either way it is not fit for the next job
        try:
            return not self._conn.poll(0)
        except (EOFError, OSError):
            return False

    def _answer(self, on_progress, on_partial, deadline, timeout, cancel):
        proc, conn = self._proc, self._conn
        acked = False
        while True:
            if self._cancel.is_set() or (cancel is not None and cancel.is_set()):
                self._kill()
                raise Cancelled("cancelled")
            if deadline is not None and time.monotonic() > deadline:
                self._kill()
                raise Cancelled(f"stopped after {timeout:g} s")
            try:
                ready = conn.poll(0.05)
            except (EOFError, OSError):
                ready = False
            if ready:
                try:
                    msg = conn.recv()
                except (EOFError, OSError):
                    msg = None
            elif proc.is_alive():
                continue
            else:
                msg = None
            if msg is None:
                code = self._reap()
                if not acked:
                    raise _DiedBeforeAck(f"the worker process died before taking the job (exit code {code})")
                raise WorkerDied(f"the worker process died (exit code {code})")
            tag = msg[0]
            if tag == "ack":
                acked = True
            elif tag == "progress":
                if on_progress is not None:
                    on_progress(Progress(msg[1], msg[2]))
            elif tag == "partial":
                if on_partial is not None:
                    on_partial(msg[1])
            elif tag == "result":
                return msg[1]
            elif tag == "error":
                raise WorkerError(msg[1])

    def cancel(self) -> None:
        """Stop the running job (if any) by ending the worker process."""
        self._cancel.set()

    def _reap(self):
        proc = self._proc
        if proc is None:
            return None
        proc.join(timeout=1.0)
        code = proc.exitcode
        self._reset()
        return code

    def _kill(self):
        if self._proc is not None and self._proc.is_alive():
            self._proc.kill()
        self._reap()

    def _reset(self):
        if self._conn is not None:
            self._conn.close()
        self._proc, self._conn = None, None

    def close(self) -> None:
        """Stop the worker: a job in flight is cancelled first. Safe from any thread, and twice.

        Returns within a moment: a running job sees the cancel within 50 ms, and an idle
        worker gets half a second to leave by itself before it is killed.
        """
        self._cancel.set()
        # call() clears the cancel flag when it starts a job: a close that came just before it
        # would be forgotten, so the flag is raised again until the lock is ours
        while not self._lock.acquire(timeout=0.05):
            self._cancel.set()
        try:
            self._stop_process()
        finally:
            self._lock.release()

    def close_if_idle(self) -> bool:
        """Stop the process only if no job holds the worker; never cancels anyone's job.

        For a worker kept only while it is useful (the GPU lookup's, when there is no
        GPU): a job that took the worker meanwhile (a benchmark on the CPU) keeps it.
        Returns whether the worker was idle.
        """
        if not self._lock.acquire(blocking=False):
            return False
        try:
            self._stop_process()
        finally:
            self._lock.release()
        return True

    def _stop_process(self) -> None:
        if self._proc is None:
            return
        try:
            self._conn.send(None)
            self._proc.join(timeout=0.5)
        except OSError:  # BrokenPipeError: it is already gone
            pass
        self._kill()
