"""Engine jobs (one blocking call in a thread, cancellable) and the worker's life: death, restart, orphaning.

The workers here are GPU (non-simulator) workers running small Python functions
from a helper module written to ``tmp_path``: they start in ~0.2 s because they
never import numba.
"""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from gpuviz.engine.jobs import Job
from gpuviz.engine.process import Cancelled, Progress, Worker, WorkerDied

ROOT = Path(__file__).resolve().parents[1]

HELPERS = '''
import os
import time


def pid():
    return os.getpid()


def sleep(seconds):
    time.sleep(seconds)
    return seconds


def die(code):
    os._exit(code)
'''


@pytest.fixture
def helpers(tmp_path, monkeypatch):
    """The module name of the helpers, importable here and (through sys.path) in spawned workers."""
    (tmp_path / "h14c_worker_helpers.py").write_text(HELPERS)
    monkeypatch.syspath_prepend(str(tmp_path))
    return "h14c_worker_helpers"


@pytest.fixture
def worker():
    w = Worker(simulate=False)
    yield w
    w.close()


def py(helpers, name, **kwargs):
    return {"kind": "python", "target": f"{helpers}:{name}", "kwargs": kwargs}


# -- Job ---------------------------------------------------------------------------------------------


def test_a_job_reports_progress_and_partials_in_order_then_its_result():
    seen = []

    def call(job):
        for i in range(3):
            job.progress(Progress(i + 1, 3))
            job.partial(f"piece {i}")
        return "answer"

    job = Job(call, on_progress=seen.append, on_partial=seen.append, on_done=lambda j: seen.append(j.state))
    assert job.start() is job and job.wait(5)
    assert seen == [Progress(1, 3), "piece 0", Progress(2, 3), "piece 1", Progress(3, 3), "piece 2", "ok"]
    assert job.state == "ok" and job.result == "answer" and job.get() == "answer" and job.error is None


def test_an_error_is_kept_and_raised_by_get_never_in_the_thread():
    job = Job(lambda job: 1 / 0).start()
    assert job.wait(5)
    assert job.state == "error" and isinstance(job.error, ZeroDivisionError)
    with pytest.raises(ZeroDivisionError):
        job.get()


def test_cancel_repeats_the_hook_until_the_call_returns():
    # an engine forgets a cancel that comes before its worker has the job: only a repeated one lands
    armed = threading.Event()
    stop = threading.Event()
    calls = []

    def hook():
        calls.append(time.monotonic())
        if armed.is_set():
            stop.set()

    def call(job):
        time.sleep(0.2)  # the cancel comes while the "engine" is not yet listening
        armed.set()
        if not stop.wait(5):
            return "never cancelled"
        raise Cancelled("cancelled")

    job = Job(call, hook).start()
    job.cancel()
    job.cancel()  # twice is fine
    t0 = time.monotonic()
    assert job.wait(5)
    assert job.state == "cancelled" and isinstance(job.error, Cancelled)
    assert len(calls) >= 3 and time.monotonic() - t0 < 1.0
    n = len(calls)
    time.sleep(0.2)
    assert len(calls) == n  # the repeating ends with the job


def test_a_job_with_no_cancel_hook_is_abandoned_not_stopped():
    release = threading.Event()
    job = Job(lambda job: release.wait(5) and "late answer").start()
    job.cancel()
    assert job.cancel_requested and not job.wait(0.1)
    release.set()
    assert job.wait(5) and job.state == "ok" and job.result == "late answer"


def test_a_jobs_own_cancel_flag_stops_that_job_alone(helpers):
    # two jobs on two workers, as a matmul run and a speed sweep share one engine: cancelling one
    # must not stop the other (Engine.cancel stops whatever runs)
    first, second = Worker(simulate=False), Worker(simulate=False)
    try:
        jobs = [Job(lambda job, w=w: w.call(py(helpers, "sleep", seconds=30), cancel=job.cancel_event)).start()
                for w in (first, second)]
        time.sleep(0.5)
        jobs[0].cancel()
        assert jobs[0].wait(2) and jobs[0].state == "cancelled"
        assert not jobs[1].wait(0.3)
        jobs[1].cancel()
        assert jobs[1].wait(2) and jobs[1].state == "cancelled"
    finally:
        first.close()
        second.close()


def test_a_cancel_before_the_run_reaches_its_worker_is_not_lost():
    from gpuviz.engine import Engine, MatmulJob
    from gpuviz.engine.jobs import run_job
    from gpuviz.model.launch import Dim3

    with Engine() as eng:
        job = run_job(eng, MatmulJob("naive", 4, 4, 4, Dim3(4, 4), backend="simulator"))
        job.cancel()  # before it even started
        assert job.start().wait(10)
        assert job.state == "ok" and job.result.status == "cancelled"
        assert not eng._workers.get(True) or not eng._workers[True].alive  # no worker was started for it


# -- a worker that died -----------------------------------------------------------------------------


def test_a_call_right_after_an_idle_workers_death_starts_a_fresh_worker(worker, helpers):
    first = worker.call(py(helpers, "pid"), timeout=60)
    for _ in range(4):
        # within microseconds of the kill: the process may still look alive and its pipe still open
        os.kill(first, signal.SIGKILL)
        second = worker.call(py(helpers, "pid"), timeout=60)
        assert second != first
        first = second


def test_a_worker_killed_by_its_job_is_still_reported_as_died(worker, helpers):
    worker.call(py(helpers, "pid"), timeout=60)
    with pytest.raises(WorkerDied, match="exit code 7"):
        worker.call(py(helpers, "die", code=7), timeout=60)
    assert worker.call(py(helpers, "sleep", seconds=0), timeout=60) == 0


def test_close_during_a_call_returns_at_once(worker, helpers):
    pid = worker.call(py(helpers, "pid"), timeout=60)
    job = Job(lambda job: worker.call(py(helpers, "sleep", seconds=30))).start()
    time.sleep(0.3)
    t0 = time.monotonic()
    worker.close()
    assert time.monotonic() - t0 < 1.0
    assert job.wait(2) and job.state == "cancelled"
    assert not _alive(pid)


def test_close_if_idle_never_cancels_a_job_that_holds_the_worker(worker, helpers):
    # the GPU lookup closes its worker when there is no GPU; a CPU benchmark that took the
    # worker meanwhile must keep it (a plain close() there cancelled the benchmark)
    pid = worker.call(py(helpers, "pid"), timeout=60)
    job = Job(lambda job: worker.call(py(helpers, "sleep", seconds=0.6))).start()
    time.sleep(0.2)
    assert worker.close_if_idle() is False
    assert job.wait(10) and job.state == "ok" and job.result == 0.6
    assert _alive(pid)
    assert worker.close_if_idle() is True
    assert not worker.alive


# -- a worker whose parent died ------------------------------------------------------------------------

PARENT = textwrap.dedent('''
    import sys
    from gpuviz.engine.process import Worker

    if __name__ == "__main__":
        w = Worker(simulate=False)
        print(w.call({"kind": "python", "target": "h14c_worker_helpers:pid"}), flush=True)
        w.call({"kind": "python", "target": "h14c_worker_helpers:sleep", "kwargs": {"seconds": 60}})
''')


def test_a_worker_leaves_at_once_and_silently_when_its_parent_is_killed(tmp_path, helpers):
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]))
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env)
    try:
        pid = int(parent.stdout.readline())
        time.sleep(0.2)  # the worker is in its 60 s job now
        t0 = time.monotonic()
        parent.send_signal(signal.SIGKILL)
        # the worker shares the parent's stderr: it reads to the end only once the worker has gone too
        _out, err = parent.communicate(timeout=10)
        gone_after = time.monotonic() - t0
    finally:
        parent.kill()
    assert gone_after < 2.0
    assert not _alive(pid)
    assert err == ""  # no BrokenPipeError traceback, nothing at all


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie nobody reaps in a container counts as gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            state = next(line for line in f if line.startswith("State:"))
    except (FileNotFoundError, ProcessLookupError):
        return False
    return "zombie" not in state and "dead" not in state


def test_a_killed_gpuviz_run_leaves_no_worker_and_prints_nothing(tmp_path):
    # issue 18: after SIGKILL to the CLI, its simulator worker lived ~10 s and printed a double BrokenPipeError
    cli = subprocess.Popen(
        [sys.executable, "-m", "gpuviz", "run", "--kernel", "naive", "--m", "128", "--n", "128", "--k", "64",
         "--block", "16x16", "--backend", "simulator", "--yes"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True, cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        while not _workers_of(cli.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = _workers_of(cli.pid)
        assert workers, "the run never started a worker"
        time.sleep(0.5)  # the worker is simulating now
        t0 = time.monotonic()
        cli.send_signal(signal.SIGKILL)
        _out, err = cli.communicate(timeout=10)  # its stderr is the worker's too: EOF once both are gone
        gone_after = time.monotonic() - t0
    finally:
        cli.kill()
    assert gone_after < 2.0
    assert not [pid for pid in workers if _alive(pid)]
    assert err == ""


def _workers_of(parent: int) -> list[int]:
    """The gpuviz worker processes whose parent is ``parent``."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (proc / "cmdline").read_bytes()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == parent and b"multiprocessing" in cmdline and b"resource_tracker" not in cmdline:
            found.append(int(proc.name))
    return found
