"""What an installation must get right: light imports, assets in a real (non-editable) install, no Qt needed."""

import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def python(code: str, *, env=None, cwd=None, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                          env=env, cwd=cwd)


def test_imports_load_neither_qt_nor_numba():
    code = textwrap.dedent("""
        import json, sys
        import gpuviz, gpuviz.model, gpuviz.engine, gpuviz.cli
        heavy = ("PyQt6", "pyqtgraph", "numba", "numba_cuda")
        print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in heavy)))
    """)
    proc = python(code, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", str(REPO), "-w", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"pip wheel failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    (whl,) = out.glob("gpuviz-*.whl")
    return whl


def test_wheel_carries_the_assets_and_kernels(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "gpuviz/assets/calibration.toml" in names
    for kernel in ("naive", "uncoalesced", "tiled"):
        assert f"gpuviz/kernels/{kernel}.py" in names
    assert not any(name.startswith(("tests/", "assets/")) for name in names)


def test_regular_install_finds_its_assets(wheel, tmp_path):
    target = tmp_path / "site"
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target),
                           str(wheel)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    code = textwrap.dedent("""
        import json, gpuviz, gpuviz.paths
        from gpuviz.model.budget import simulator_calibration
        from gpuviz.model.matmul import kernel_source
        print(json.dumps({"package": gpuviz.__file__,
                          "asset": str(gpuviz.paths.asset_path("calibration.toml")),
                          "calibration": sorted(simulator_calibration()),
                          "kernel": "cuda.jit" in kernel_source("naive")}))
    """)
    # away from the checkout, so that only the installed copy can be found
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}
    proc = python(code, env=env, cwd=elsewhere)
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    assert Path(found["package"]).is_relative_to(target)
    assert Path(found["asset"]).is_relative_to(target)
    assert found["calibration"] == ["seconds_per_block_barrier", "seconds_per_event", "seconds_per_thread"]
    assert found["kernel"]


# A sitecustomize (on PYTHONPATH, so the spawned worker gets it too) that makes
# PyQt6 and pyqtgraph unimportable, as on a GPU machine that has neither.
NO_QT = textwrap.dedent("""
    import importlib.abc, sys

    class NoQt(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("PyQt6", "pyqtgraph"):
                raise ModuleNotFoundError(f"No module named {name!r} (hidden by the test)", name=name)
            return None

    sys.meta_path.insert(0, NoQt())
""")


def test_cli_works_without_qt(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(NO_QT)
    code = textwrap.dedent("""
        import contextlib, io, json, sys
        try:
            import PyQt6  # noqa: F401
        except ImportError:
            pass
        else:
            sys.exit("PyQt6 was not hidden")
        from gpuviz.cli import main

        if __name__ == "__main__":
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                info = main(["--info", "--json"])
                run = main(["run", "--kernel", "naive", "--m", "10", "--n", "13", "--k", "7", "--block", "4x4",
                            "--backend", "simulator", "--json"])
            lines = out.getvalue().splitlines()
            print(json.dumps({"info": info, "run": run, "lines": lines,
                              "qt": sorted(m for m in sys.modules if m.startswith(("PyQt6", "pyqtgraph")))}))
    """)
    paths = [str(tmp_path), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    proc = python(code, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["info"] == 0 and result["run"] == 0, proc.stderr
    assert result["qt"] == []
    info, run = (json.loads(line) for line in result["lines"])
    assert info["numpy"] and info["backend"] in ("gpu", "simulator")
    assert run["status"] == "ok" and run["backend"] == "simulator" and run["idle_threads"] == 62
