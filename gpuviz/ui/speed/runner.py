"""Benchmarks off the GUI thread: :meth:`Engine.bench <gpuviz.engine.Engine.bench>` in a Python thread.

The engine times every implementation in its worker process (this process
never imports numba); ``Engine.bench`` blocks until the sweep ends, so it runs
in a daemon thread and everything it reports reaches the panel as queued Qt
signals. Nothing here raises at the user: a refused request, a worker that
dies, a kernel that raises and a cancel each arrive as :attr:`BenchRunner.failed`
or :attr:`BenchRunner.finished` with an outcome.
"""

from __future__ import annotations

import threading
import time

from PyQt6.QtCore import QObject, QTimer, pyqtSignal


class _Bridge(QObject):
    """Signals the bench thread emits; they arrive queued on the GUI thread."""

    measurement = pyqtSignal(object)
    progress = pyqtSignal(int, int, str)
    done = pyqtSignal(object, str)  # BenchResults or None, outcome
    failed = pyqtSignal(str, str)  # outcome, message


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
        self._engine_box = [engine]
        self._own_engine = engine is None
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        self._bridge = _Bridge()
        self._bridge.measurement.connect(self.measurement)
        self._bridge.progress.connect(self._on_progress)
        self._bridge.done.connect(self._on_done)
        self._bridge.failed.connect(self._on_failed)
        # a cancel asked for before the worker has the job is repeated until the thread ends
        self._cancel_timer = QTimer(self)
        self._cancel_timer.setInterval(100)
        self._cancel_timer.timeout.connect(self._repeat_cancel)
        # no destroyed() hook to cancel: a Python slot run while PyQt tears the object down can crash
        # the interpreter (see style.subscribe); the panel's shutdown() cancels instead

    @property
    def engine(self):
        if self._engine_box[0] is None:
            from ...engine import Engine

            self._engine_box[0] = Engine()
        return self._engine_box[0]

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def cancelling(self) -> bool:
        return self._cancel.is_set() and self.running

    def start(self, op: str, sizes, impls, **bench_kwargs) -> bool:
        """Start a sweep (False while one runs)."""
        if self.running:
            return False
        self._cancel.clear()
        engine = self.engine
        self._thread = threading.Thread(target=_bench, name="gpuviz-bench", daemon=True,
                                        args=(engine, op, tuple(sizes), tuple(impls), bench_kwargs, self._bridge,
                                              self._cancel))
        self._thread.start()
        return True

    def cancel(self) -> None:
        if not self.running:
            return
        self._cancel.set()
        self._repeat_cancel()
        self._cancel_timer.start()

    def shutdown(self, timeout: float = 10.0) -> None:
        """Cancel any sweep, wait for its thread, close the engine if this runner made it."""
        self._cancel.set()
        thread = self._thread
        if thread is not None and thread.is_alive():
            deadline = time.monotonic() + timeout
            while thread.is_alive() and time.monotonic() < deadline:
                if self._engine_box[0] is not None:
                    self._engine_box[0].cancel()
                thread.join(0.05)
        self._cancel_timer.stop()
        if self._own_engine and self._engine_box[0] is not None:
            self._engine_box[0].close()
            self._engine_box[0] = None

    def _repeat_cancel(self) -> None:
        if not self.running:
            self._cancel_timer.stop()
            return
        if self._engine_box[0] is not None:
            self._engine_box[0].cancel()

    def _finish_thread(self) -> None:
        if self._thread is not None:
            self._thread.join(1.0)  # it emitted its last signal and is returning
        self._thread = None
        self._cancel_timer.stop()

    def _on_progress(self, done: int, total: int, text: str) -> None:
        if not self._cancel.is_set():
            self.progress.emit(done, total, text)

    def _on_done(self, results, outcome: str) -> None:
        self._finish_thread()
        self.finished.emit(results, outcome)

    def _on_failed(self, outcome: str, message: str) -> None:
        self._finish_thread()
        self.failed.emit(outcome, message)


def _progress_args(args) -> tuple[int, int, str]:
    """``(done, total, text)`` from whatever the engine reports (a Progress, numbers, or a text too)."""
    if len(args) == 1 and hasattr(args[0], "done"):
        p = args[0]
        return int(p.done), int(p.total), str(getattr(p, "text", "") or getattr(p, "message", "") or "")
    nums = [a for a in args if isinstance(a, (int, float))]
    text = next((a for a in args if isinstance(a, str)), "")
    done, total = (int(nums[0]), int(nums[1])) if len(nums) >= 2 else (0, 0)
    return done, total, text


def _bench(engine, op, sizes, impls, kwargs, bridge: _Bridge, cancel: threading.Event) -> None:
    """The bench thread: run the sweep, report, never raise."""
    from ...engine.process import Cancelled, WorkerDied, WorkerError
    from ...model.speed import SpeedError

    def on_measurement(m):
        bridge.measurement.emit(m)

    def on_progress(*args):
        if cancel.is_set():
            engine.cancel()
        bridge.progress.emit(*_progress_args(args))

    try:
        if cancel.is_set():
            bridge.done.emit(None, "cancelled")
            return
        results = engine.bench(op, sizes, impls, on_progress=on_progress, on_measurement=on_measurement, **kwargs)
        cancelled = cancel.is_set() or bool(getattr(results, "cancelled", False))
        bridge.done.emit(results, "cancelled" if cancelled else "ok")
    except Cancelled as e:  # the engine's BenchCancelled carries what finished before the cancel
        bridge.done.emit(getattr(e, "results", None), "cancelled")
    except SpeedError as e:
        bridge.failed.emit("refused", str(e))
    except WorkerDied as e:
        bridge.failed.emit("died", f"the benchmark's worker process died: {e}")
    except WorkerError as e:
        bridge.failed.emit("error", f"the benchmark raised {e}")
    except Exception as e:  # anything else is still a message, never a traceback dialog
        if cancel.is_set():
            bridge.done.emit(None, "cancelled")
        else:
            bridge.failed.emit("error", f"unexpected {type(e).__name__}: {e}")


__all__ = ["BenchRunner"]
