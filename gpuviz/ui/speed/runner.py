"""Benchmarks off the GUI thread: a :func:`~gpuviz.engine.jobs.bench_job` through the GUI's one job adapter.

The engine times every implementation in its worker process (this process
never imports numba). :class:`~gpuviz.ui.jobs.JobAdapter` delivers what the
sweep reports on the GUI thread and says what a closing panel does (cancel,
never wait). Nothing here raises at the user: a refused request, a worker that
dies, a kernel that raises and a cancel each arrive as :attr:`BenchRunner.failed`
or :attr:`BenchRunner.finished` with an outcome.
"""

from __future__ import annotations

from PyQt6.QtCore import QObject, pyqtSignal

from ..jobs import JobAdapter


class BenchRunner(QObject):
    """Runs one benchmark sweep at a time through an engine.

    Parameters
    ----------
    engine : gpuviz.engine.Engine or None
        None: one is created on the first run and closed by :meth:`shutdown`.

    Signals
    -------
    measurement(Measurement)
        Each measurement as the worker finishes it.
    progress(done, total, text)
        How far the sweep is.
    finished(results, outcome)
        ``outcome`` is ``"ok"``, or ``"cancelled"`` (``results`` holds what was
        finished, or None).
    failed(outcome, message)
        ``"refused"`` (bad request), ``"died"`` (the worker ended) or ``"error"``
        (something raised), with one sentence.
    """

    measurement = pyqtSignal(object)
    progress = pyqtSignal(int, int, str)
    finished = pyqtSignal(object, str)
    failed = pyqtSignal(str, str)

    def __init__(self, engine=None, parent=None):
        super().__init__(parent)
        self._engine = engine
        self._own_engine = engine is None
        self.jobs = JobAdapter(self)
        self.jobs.partial.connect(self.measurement)
        self.jobs.progress.connect(self._on_progress)
        self.jobs.finished.connect(self._on_finished)

    @property
    def engine(self):
        if self._engine is None:
            from ...engine import Engine

            self._engine = Engine()
        return self._engine

    @property
    def running(self) -> bool:
        """A sweep is going (until its outcome has been delivered)."""
        return self.jobs.running

    @property
    def cancelling(self) -> bool:
        return self.jobs.cancelling

    def start(self, op: str, sizes, impls, **bench_kwargs) -> bool:
        """Start a sweep (False while one runs)."""
        from ...engine.jobs import bench_job

        if self.running:
            return False
        return self.jobs.start(bench_job(self.engine, op, sizes, impls, **bench_kwargs))

    def cancel(self) -> None:
        """Ask the sweep to stop (returns at once); ``finished`` follows with what was measured."""
        self.jobs.cancel()

    def shutdown(self) -> None:
        """Cancel any sweep without waiting for it; close the engine if this runner made it."""
        self.jobs.close()
        if self._own_engine and self._engine is not None:
            self._engine.close()
            self._engine = None

    def _on_progress(self, report) -> None:
        if not self.jobs.cancelling:
            self.progress.emit(*_progress_args(report))

    def _on_finished(self, job) -> None:
        from ...engine.process import WorkerDied, WorkerError
        from ...model.speed import SpeedError

        error = job.error
        if job.state == "ok":
            cancelled = job.cancel_requested or bool(getattr(job.result, "cancelled", False))
            self.finished.emit(job.result, "cancelled" if cancelled else "ok")
        elif job.state == "cancelled":  # the engine's BenchCancelled carries what finished before the cancel
            self.finished.emit(getattr(error, "results", None), "cancelled")
        elif isinstance(error, SpeedError):
            self.failed.emit("refused", str(error))
        elif isinstance(error, WorkerDied):
            self.failed.emit("died", f"the benchmark's worker process died: {error}")
        elif isinstance(error, WorkerError):
            self.failed.emit("error", f"the benchmark raised {error}")
        else:  # anything else is still a message, never a traceback dialog
            self.failed.emit("error", f"unexpected {type(error).__name__}: {error}")


def _progress_args(report) -> tuple[int, int, str]:
    """``(done, total, text)`` from what the engine reports (a Progress, or anything with done and total)."""
    done, total = getattr(report, "done", 0), getattr(report, "total", 0)
    text = str(getattr(report, "text", "") or getattr(report, "message", "") or "")
    return int(done), int(total), text


__all__ = ["BenchRunner"]
