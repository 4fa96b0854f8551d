"""The CUDA libraries come from gpuviz's own install, and a missing one never takes the simulator down.

Every machine gpuviz was first built on had a CUDA toolkit installed system-wide, which hid that
numba-cuda loads the CUDA runtime (libcudart) when ``numba.cuda`` is imported, simulator or not:
on a student's laptop the simulator died. These tests ask the worker processes where their CUDA
libraries were loaded from (cuda-pathfinder says, and /proc/self/maps confirms), and fail when it
is anywhere but this environment, whatever the machine has installed.
(scripts/fresh_machine_check.sh runs the whole suite on a minimal Debian with no toolkit.)
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gpuviz.engine import Engine, gpu_text

pytestmark = pytest.mark.skipif(sys.platform == "darwin",
                                reason="macOS has no CUDA wheels: numba's built-in simulator needs no CUDA library")

REPO = Path(__file__).resolve().parent.parent


def _inside(path: str, prefix: str) -> bool:
    return Path(path).resolve().is_relative_to(Path(prefix).resolve())


def _assert_from_this_environment(where: dict, name: str) -> None:
    lib = where["libs"][name]
    assert "error" not in lib, f"lib{name} could not be loaded: {lib['error']}"
    assert _inside(lib["path"], where["prefix"]), (
        f"lib{name} was loaded from {lib['path']} (found via {lib['found_via']}), not from this environment "
        f"({where['prefix']}): a CUDA toolkit on this machine stands in for a missing dependency, "
        f"and a student's laptop has none")
    assert lib["found_via"] == "site-packages"
    # what the process really mapped, not only what cuda-pathfinder remembers
    mapped = where["mapped"][name]
    assert mapped, f"lib{name} is not mapped in the worker"
    assert all(_inside(p, where["prefix"]) for p in mapped), mapped


def test_the_simulator_loads_the_cuda_runtime_from_this_environment(engine):
    where = engine.cuda_libraries(libs=["cudart"])
    assert _inside(where["prefix"], sys.prefix) and _inside(sys.prefix, where["prefix"])
    _assert_from_this_environment(where, "cudart")


def test_a_gpu_run_compiles_with_libraries_from_this_environment():
    # The GPU worker (no simulator) compiles a kernel to PTX: NVVM is all that needs, no GPU, no
    # driver. A machine with an NVIDIA driver and no toolkit then has all a GPU run needs.
    with Engine() as eng:
        where = eng.cuda_libraries(simulate=False, compile_ptx=True)
    for name in ("cudart", "nvvm", "nvrtc"):
        _assert_from_this_environment(where, name)
    assert "error" not in where["ptx"], where["ptx"]["error"]
    assert where["ptx"]["target"] == ".target sm_75" and where["ptx"]["lines"] > 50


def test_no_gpu_is_one_line_with_its_reason():
    with Engine() as eng:
        info = eng.gpu_info()
        if info["gpu_available"]:
            pytest.skip(f"this machine has a GPU ({info['gpu_name']})")
        assert eng.resolve_backend("auto") == "simulator"
    text = gpu_text(info)
    assert text.startswith("no CUDA GPU found (") and text.endswith(")") and "\n" not in text
    assert info["error"] and info["error"] not in ("", "None")


@pytest.fixture
def no_cuda_runtime(tmp_path):
    """An environment in which every process (workers included) fails to find libcudart, as on a
    laptop without the runtime wheel: cuda-pathfinder raises what it raised there."""
    (tmp_path / "sitecustomize.py").write_text(textwrap.dedent("""
        import cuda.pathfinder as pf
        from cuda.pathfinder._dynamic_libs import load_nvidia_dynamic_lib as loader

        def refuse(libname):
            raise pf.DynamicLibNotFoundError(f'Failure finding "lib{libname}.so": hidden by the test')

        loader.load_nvidia_dynamic_lib = refuse
        pf.load_nvidia_dynamic_lib = refuse
    """))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), *filter(None, [os.environ.get("PYTHONPATH")])]))
    return env


def _gpuviz(env, *args, timeout=180):
    return subprocess.run([sys.executable, "-m", "gpuviz", *args], capture_output=True, text=True, env=env,
                          cwd=REPO, timeout=timeout)


def test_a_missing_cuda_runtime_is_no_gpu_in_info(no_cuda_runtime):
    proc = _gpuviz(no_cuda_runtime, "--info", "--json")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["backend"] == "simulator"
    assert "DynamicLibNotFoundError" in info["gpu_error"] and "hidden by the test" in info["gpu_error"]
    assert info["gpu"] == f"no CUDA GPU found ({info['gpu_error']})"
    proc = _gpuviz(no_cuda_runtime, "--info")
    assert proc.returncode == 0, proc.stderr
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("auto backend"))
    assert "no CUDA GPU found (DynamicLibNotFoundError" in line


def test_a_missing_cuda_runtime_is_an_error_not_a_worker_death(no_cuda_runtime):
    proc = _gpuviz(no_cuda_runtime, "run", "--kernel", "naive", "--m", "4", "--n", "4", "--k", "4", "--block", "4x4")
    assert proc.returncode != 0
    assert "died" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert "DynamicLibNotFoundError" in proc.stderr and "hidden by the test" in proc.stderr


def test_the_lighter_install_is_the_default_set_but_for_cuda():
    from packaging.requirements import Requirement

    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib

    def norm(lines):
        return {str(Requirement(line)) for line in lines}

    default = norm(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"])
    light = norm(ln.split("#")[0].strip() for ln in (REPO / "requirements-simulator.txt").read_text().splitlines()
                 if ln.split("#")[0].strip())
    not_darwin = "; sys_platform != 'darwin'"
    assert default - light == norm([f"numba-cuda[cu13]>=0.30,<0.31{not_darwin}"])
    assert light - default == norm([f"numba-cuda>=0.30,<0.31{not_darwin}", f"cuda-bindings==13.*{not_darwin}",
                                    f"cuda-toolkit[cudart]==13.*{not_darwin}"])


def test_a_gpu_lookup_whose_worker_dies_is_no_gpu(monkeypatch):
    from gpuviz.engine import process

    real_call = process.Worker.call

    def call(self, job, *args, **kwargs):
        if job["kind"] == "info" and not self.simulate:  # e.g. a driver that segfaults on cuInit
            raise process.WorkerDied("the worker process died (exit code -11)")
        return real_call(self, job, *args, **kwargs)

    monkeypatch.setattr(process.Worker, "call", call)
    with Engine() as eng:
        info = eng.gpu_info()
        assert gpu_text(info) == "no CUDA GPU found (looking for a GPU: the worker process died (exit code -11))"
        assert eng.resolve_backend("auto") == "simulator"


def test_a_driver_error_is_one_line():
    from gpuviz.engine.worker import _reason  # numpy only: the worker module imports numba in its jobs

    class CudaSupportError(Exception):
        pass

    # numba-cuda's message when a libcuda is there but cannot be loaded (several lines, advice, a colon)
    err = CudaSupportError("Error at driver init: \nPossible CUDA driver libraries are found but error occurred "
                           "during load:\nlibcuda.so.1: wrong ELF class: ELFCLASS32\n:")
    assert _reason(err) == ("CudaSupportError: Possible CUDA driver libraries are found but error occurred during "
                            "load: libcuda.so.1: wrong ELF class: ELFCLASS32")
    assert len(_reason(CudaSupportError("x" * 500))) < 200
