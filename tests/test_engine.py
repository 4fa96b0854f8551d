"""The engine: real products in the simulator, in a worker process, and every way a run can go wrong."""

import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpuviz.engine import BackendError, MatmulJob
from gpuviz.model import Budget, BudgetError, Dim3, LaunchConfig, LaunchError, MatmulProblem, make_inputs
from gpuviz.model.launch import thread_table
from gpuviz.model.matmul import reference

KERNELS_DIR = Path(__file__).parent / "kernels"


@pytest.mark.parametrize(
    "kernel, m, n, k, block",
    [
        ("naive", 10, 13, 7, (4, 4)),
        ("naive", 5, 9, 3, (3, 2)),
        ("uncoalesced", 10, 13, 7, (4, 4)),
        ("uncoalesced", 5, 9, 3, (2, 3)),
        ("tiled", 9, 7, 5, (4, 4)),
        ("tiled", 6, 5, 11, (3, 3)),
    ],
)
def test_product_is_correct_on_non_multiples(engine, kernel, m, n, k, block):
    res = engine.run(MatmulJob(kernel, m, n, k, Dim3(*block), seed=3, backend="simulator"))
    assert res.status == "ok", res.message
    assert res.backend == "simulator" and res.gpu_name is None
    a, b = make_inputs(MatmulProblem(m, n, k), 3)
    np.testing.assert_allclose(res.c, reference(a, b), rtol=1e-4, atol=1e-4)
    assert res.max_abs_error < 1e-4 and res.rel_error < 1e-5
    assert res.seconds > 0
    s = res.summary()
    assert s["threads"] == res.job.launch.threads and s["idle_threads"] == res.job.launch.threads - m * n


def test_inputs_are_seeded_standard_normal():
    a1, b1 = make_inputs(MatmulProblem(64, 64, 64), 0)
    a2, _ = make_inputs(MatmulProblem(64, 64, 64), 0)
    a3, _ = make_inputs(MatmulProblem(64, 64, 64), 1)
    assert a1.dtype == np.float32 and np.array_equal(a1, a2) and not np.array_equal(a1, a3)
    assert abs(a1.mean()) < 0.05 and abs(a1.std() - 1) < 0.05


def test_invalid_jobs_are_refused_before_any_work(engine):
    with pytest.raises(LaunchError, match="1024"):
        engine.run(MatmulJob("naive", 8, 8, 8, Dim3(64, 32), backend="simulator"))
    with pytest.raises(LaunchError, match="square"):
        engine.run(MatmulJob("tiled", 8, 8, 8, Dim3(8, 4), backend="simulator"))
    with pytest.raises(BudgetError, match="over the 2.0 min budget") as err:
        engine.run(MatmulJob("naive", 512, 512, 512, Dim3(16, 16), backend="simulator"))
    assert err.value.cli_hint == "pass --yes to run it anyway"
    with pytest.raises(BackendError, match="unknown backend"):
        engine.run(MatmulJob("naive", 8, 8, 8, backend="tpu"))


def test_memory_budget_applies_to_traces():
    from gpuviz.engine import Engine

    eng = Engine(Budget(memory_bytes=1024**2))
    with pytest.raises(BudgetError, match="memory budget of 1.0 MiB"):
        eng.run(MatmulJob("naive", 64, 64, 64, Dim3(16, 16), backend="simulator", record=True))
    eng.close()


def test_gpu_backend_without_gpu_is_a_clear_error(engine):
    if engine.gpu_info().get("gpu_available"):
        pytest.skip("this machine has a GPU")
    with pytest.raises(BackendError, match="no CUDA GPU"):
        engine.resolve_backend("gpu")
    assert engine.resolve_backend("auto") == "simulator"


def test_kernel_that_raises_comes_back_as_an_error(engine):
    job = MatmulJob("naive", 5, 6, 3, Dim3(4, 4), backend="simulator",
                    kernel_path=str(KERNELS_DIR / "out_of_bounds.py"))
    res = engine.run(job)
    assert res.status == "error"
    assert "IndexError" in res.message and "out of bounds" in res.message
    assert "\n" not in res.message
    # the worker survives its kernel's exception
    assert engine.run(MatmulJob("naive", 4, 4, 4, Dim3(4, 4), backend="simulator")).ok


def test_wrong_product_is_reported(engine):
    job = MatmulJob("naive", 6, 5, 4, Dim3(4, 4), backend="simulator", kernel_path=str(KERNELS_DIR / "wrong.py"))
    res = engine.run(job)
    assert res.status == "wrong" and "does NOT match" in res.message
    assert res.rel_error > 1e-3


def test_worker_that_dies_comes_back_as_died(engine):
    job = MatmulJob("naive", 4, 4, 4, Dim3(4, 4), backend="simulator", kernel_path=str(KERNELS_DIR / "dies.py"))
    res = engine.run(job)
    assert res.status == "died" and "exit code 7" in res.message
    # a fresh worker takes over
    assert engine.run(MatmulJob("naive", 4, 4, 4, Dim3(4, 4), backend="simulator")).ok


def test_cancel_stops_a_long_run(engine):
    job = MatmulJob("tiled", 64, 64, 64, Dim3(8, 8), backend="simulator")
    seen = []
    timer = threading.Timer(1.5, engine.cancel)
    timer.start()
    t0 = time.monotonic()
    res = engine.run(job, on_progress=seen.append)
    timer.cancel()
    assert res.status == "cancelled"
    assert time.monotonic() - t0 < 10
    assert seen and seen[0].total == 64  # 8×8 blocks, progress counted in blocks
    assert engine.run(MatmulJob("naive", 4, 4, 4, Dim3(4, 4), backend="simulator")).ok


def test_timeout_stops_a_run(engine):
    res = engine.run(MatmulJob("tiled", 64, 64, 64, Dim3(8, 8), backend="simulator"), timeout=0.5)
    assert res.status == "cancelled" and "0.5 s" in res.message


def test_progress_reaches_the_end(engine):
    seen = []
    res = engine.run(MatmulJob("naive", 20, 20, 4, Dim3(4, 4), backend="simulator"), on_progress=seen.append)
    assert res.ok
    assert seen[-1].done == seen[-1].total == 25


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    grid=st.tuples(st.integers(1, 3), st.integers(1, 2), st.integers(1, 2)),
    block=st.tuples(st.integers(1, 40), st.integers(1, 4), st.integers(1, 3)),
)
def test_launch_model_agrees_with_the_simulator(engine, grid, block):
    launch = LaunchConfig(grid, block)
    got = engine.probe_indices(grid, block)
    tab = thread_table(launch)
    assert np.array_equal(got[:, 0:3], tab["block"])
    assert np.array_equal(got[:, 3:6], tab["thread"])
    assert np.array_equal(got[:, 6], tab["lane"])


def test_engine_process_never_imports_numba():
    code = (
        "import sys\n"
        "from gpuviz.engine import Engine, MatmulJob\n"
        "from gpuviz.model import Dim3\n"
        "if __name__ == '__main__':\n"
        "    with Engine() as e:\n"
        "        r = e.run(MatmulJob('naive', 4, 4, 4, Dim3(4, 4), backend='simulator'))\n"
        "    assert r.ok, r.message\n"
        "    bad = [m for m in sys.modules if m.split('.')[0] in ('numba', 'numba_cuda', 'PyQt6')]\n"
        "    print('LOADED', bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "LOADED []" in out.stdout


def test_close_while_probing_from_another_thread_is_safe():
    from gpuviz.engine import Engine

    eng = Engine()
    errors = []

    def probe():
        try:
            eng.gpu_info()
        except Exception as e:  # any exception here is the bug this test guards against
            errors.append(e)

    threads = [threading.Thread(target=probe) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(0.2)
    eng.close()
    for t in threads:
        t.join(timeout=30)
    assert not errors and not any(t.is_alive() for t in threads)
    eng.close()  # twice is fine
