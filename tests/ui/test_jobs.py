"""The GUI's one job adapter, and the rule for a window that closes while a job runs.

The rule (gpuviz.ui.jobs.JobAdapter): the job is cancelled, nothing more of it is
delivered, and closing never waits on it — for each kind of job the GUI has:
a matmul run, a speed sweep and the backend lookup.
"""

import gc
import multiprocessing
import threading
import time

import pytest
from PyQt6.QtCore import QThread
from PyQt6.QtWidgets import QApplication

from gpuviz.engine.jobs import Job
from gpuviz.engine.process import Cancelled, Progress
from gpuviz.ui.jobs import JobAdapter

#: Closing a window with a job in flight returns within this (the old rule joined threads for up to 10 s).
A_MOMENT_S = 1.0


def _children() -> set[int]:
    return {p.pid for p in multiprocessing.active_children()}


class _Gate:
    """A call that reports, then blocks until released or cancelled (a cancel raises, as the engine's does)."""

    def __init__(self):
        self.release, self.cancelled = threading.Event(), threading.Event()

    def call(self, job):
        job.progress(Progress(1, 2))
        job.partial("first piece")
        while not self.release.wait(0.01):
            if self.cancelled.is_set():
                raise Cancelled("cancelled")
        job.progress(Progress(2, 2))
        return "answer"


def test_reports_arrive_in_order_on_the_gui_thread(qtbot):
    adapter = JobAdapter()
    gate = _Gate()
    seen = []
    gui = QApplication.instance().thread()

    def record(kind):
        return lambda x: seen.append((kind, x if kind != "finished" else x.state, QThread.currentThread() is gui))

    for kind in ("progress", "partial", "finished"):
        getattr(adapter, kind).connect(record(kind))
    assert adapter.start(Job(gate.call, gate.cancelled.set))
    assert adapter.running and not adapter.start(Job(gate.call))  # one job at a time
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=5000)
    assert adapter.running  # running until its end has been delivered
    gate.release.set()
    with qtbot.waitSignal(adapter.finished, timeout=5000):
        pass
    assert seen == [("progress", Progress(1, 2), True), ("partial", "first piece", True),
                    ("progress", Progress(2, 2), True), ("finished", "ok", True)]
    assert not adapter.running and adapter.job is None


def test_close_cancels_returns_at_once_and_delivers_nothing_more(qtbot):
    adapter = JobAdapter()
    gate = _Gate()
    seen = []
    adapter.progress.connect(seen.append)
    adapter.finished.connect(seen.append)
    job = Job(gate.call, gate.cancelled.set)
    adapter.start(job)
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    t0 = time.monotonic()
    adapter.close()
    assert time.monotonic() - t0 < 0.1
    assert job.cancel_requested and not adapter.running
    assert job.wait(5) and job.state == "cancelled"
    qtbot.wait(3 * JobAdapter.POLL_MS)
    assert seen == [Progress(1, 2)]
    adapter.close()  # twice is fine


def test_an_adapter_deleted_without_close_still_cancels_its_job(qtbot):
    adapter = JobAdapter()
    gate = _Gate()
    job = Job(gate.call, gate.cancelled.set)
    adapter.start(job)
    adapter.deleteLater()
    del adapter
    qtbot.wait(50)  # the deferred delete runs
    gc.collect()
    assert job.wait(5) and job.state == "cancelled"


# -- a window closed while its job runs --------------------------------------------------------------


def _close_soon(window) -> float:
    t0 = time.monotonic()
    window.close()
    return time.monotonic() - t0


def _wait_gone(pids: set[int], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while pids & _children() and time.monotonic() < deadline:
        time.sleep(0.05)
    return not pids & _children()


def test_closing_the_window_mid_run_cancels_the_matmul_run(make_main_window, qtbot, engine):
    from gpuviz.ui.matmul.panel import MatmulPanel

    panel = MatmulPanel(scene=None, engine=engine)
    window = make_main_window(panels=[panel])
    qtbot.waitUntil(lambda: window.backend_info is not None, timeout=120_000)  # the lookup is not part of this
    panel.scene.configure(kernel="naive", m=64, n=64, k=64, block=(8, 8), backend="simulator")
    runner = panel.runner
    outcomes = []
    runner.finished.connect(outcomes.append)
    runner.run()
    qtbot.waitUntil(lambda: runner.progress.maximum() > 1, timeout=60_000)  # the simulator reports blocks
    worker = engine._workers[True]._proc.pid
    assert runner.running and worker in _children()
    assert _close_soon(window) < A_MOMENT_S
    assert not runner.running
    assert _wait_gone({worker})  # the cancel ended the run's worker within a moment
    qtbot.wait(3 * JobAdapter.POLL_MS)
    assert outcomes == []  # nothing of the run reached the closed panel
    # the next run starts a fresh worker and succeeds
    from gpuviz.engine import MatmulJob
    from gpuviz.model.launch import Dim3

    assert engine.run(MatmulJob("naive", 4, 4, 4, Dim3(4, 4), backend="simulator")).ok


def test_closing_the_window_mid_sweep_cancels_the_speed_run(make_main_window, qtbot, engine):
    from gpuviz.ui.speed.panel import SpeedPanel

    panel = SpeedPanel(engine=engine)
    window = make_main_window(panels=[panel])
    qtbot.waitUntil(lambda: window.backend_info is not None, timeout=120_000)
    outcomes = []
    panel.runner.finished.connect(lambda *a: outcomes.append(a))
    panel.runner.failed.connect(lambda *a: outcomes.append(a))
    before = _children()
    assert panel.set_field(op="matmul", sizes="16, 32, 64, 128, 256", impls=["python", "numpy"])
    assert panel.run()
    # the sweep's worker is at work once it reports (the first size takes a moment in the Python loop)
    qtbot.waitUntil(lambda: panel.progress.maximum() > 0, timeout=60_000)
    assert panel.running
    assert _close_soon(window) < A_MOMENT_S
    assert not panel.running
    qtbot.wait(3 * JobAdapter.POLL_MS)
    assert outcomes == []
    assert _wait_gone(_children() - before)  # the cancel ended the sweep's worker within a moment


def test_closing_the_window_during_the_backend_lookup_stops_it(qtbot, tmp_path):
    from gpuviz.ui.main_window import MainWindow
    from gpuviz.ui.settings import Settings

    before = _children()
    window = MainWindow(engine=None, settings=Settings.at(tmp_path / "settings.ini"), panels=[])
    qtbot.addWidget(window)
    found = []
    window.backend_found.connect(found.append)
    window.show()
    qtbot.waitExposed(window)
    # the lookup's worker is starting (importing numba takes a second or two)
    qtbot.waitUntil(lambda: window._lookup.running and bool(_children() - before), timeout=10_000)
    took = _close_soon(window)
    assert took < A_MOMENT_S, f"closing took {took:.2f} s"
    assert _wait_gone(_children() - before, timeout=A_MOMENT_S)  # its own engine is closed, workers and all
    qtbot.wait(3 * JobAdapter.POLL_MS)
    assert found == [] and window.backend_info is None


@pytest.mark.parametrize("kind", ["run", "bench", "info"])
def test_every_kind_of_engine_job_is_made_by_one_factory(kind):
    from gpuviz.engine import jobs

    class Recorder:
        def __init__(self):
            self.cancels = 0

        def run(self, job, on_progress, **kw):
            on_progress(Progress(1, 1))
            return "ran"

        def bench(self, op, sizes, impls, on_progress=None, on_measurement=None, **kw):
            on_measurement("m")
            return "benched"

        def gpu_info(self):
            return {"gpu_available": False}

        def cancel(self):
            self.cancels += 1

    eng = Recorder()
    seen = []
    made = {"run": lambda: jobs.run_job(eng, "job", on_progress=seen.append),
            "bench": lambda: jobs.bench_job(eng, "dot", [1], ["numpy"], on_partial=seen.append),
            "info": lambda: jobs.info_job(eng)}[kind]()
    assert made.start().wait(5) and made.state == "ok"
    assert made.result == {"run": "ran", "bench": "benched", "info": {"gpu_available": False}}[kind]
    assert seen == {"run": [Progress(1, 1)], "bench": ["m"], "info": []}[kind]


def test_a_speed_panel_on_its_own_looks_for_the_gpu_through_the_adapter(qtbot):
    from gpuviz.ui.speed.panel import SpeedPanel
    from gpuviz.ui.speed.style import GPU_IMPLS

    class NoGpu:
        def gpu_info(self):
            return {"gpu_available": False, "gpu_name": None}

        def cancel(self):
            pass

        def close(self):
            pass

    panel = SpeedPanel(engine=NoGpu())
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: not panel._lookup.running, timeout=5000)
    assert not any(panel.impl_boxes[impl].isEnabled() for impl in GPU_IMPLS)
    panel.shutdown()
