"""``gpuviz --info``: versions, the CUDA target and backend, the GPU found, and where the assets are."""

from __future__ import annotations

import platform
import sys
from typing import TYPE_CHECKING

from .. import __version__

if TYPE_CHECKING:
    from ..engine import Engine
from .common import EXIT_OK, print_json

#: Distributions ``--info`` reports, read from package metadata so that none is imported.
INFO_PACKAGES = ("PyQt6", "pyqtgraph", "numpy", "numba", "numba-cuda")


def add_options(parser) -> None:
    """``--info`` and its ``--json`` on the top-level parser (they take no command)."""
    parser.add_argument("--info", action="store_true",
                        help="print versions, the CUDA backend and GPU found, and where the assets are")
    parser.add_argument("--json", dest="info_json", action="store_true", help="with --info: print JSON")


def _dist_version(name: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def gather_info(engine: Engine) -> dict:
    """What ``gpuviz --info`` reports (imports neither Qt nor numba in this process)."""
    from ..engine import gpu_text
    from ..paths import assets_dir

    info = {"gpuviz": __version__, "python": platform.python_version(), "python_executable": sys.executable,
            "platform": platform.platform()}
    for name in INFO_PACKAGES:
        info[name.lower().replace("-", "_")] = _dist_version(name)
    gpu = engine.gpu_info()
    info["cuda_target"] = gpu.get("cuda_target")
    info["backend"] = "gpu" if gpu.get("gpu_available") else "simulator"
    info["gpu_name"] = gpu.get("gpu_name")
    info["compute_capability"] = gpu.get("compute_capability")
    info["sm_count"] = gpu.get("sm_count")
    info["gpu_error"] = gpu.get("error")
    info["gpu"] = gpu_text(gpu)  # "GPU: <name>" or "no CUDA GPU found (<reason>)", as the status bar says
    try:
        info["assets"] = str(assets_dir())
    except FileNotFoundError as e:
        info["assets"] = None
        info["assets_error"] = str(e)
    return info


def cmd_info(args) -> int:
    from ..engine import Engine

    with Engine() as engine:
        info = gather_info(engine)
    if args.info_json:
        print_json(info)
        return EXIT_OK
    missing = "not installed"
    rows = [("gpuviz", info["gpuviz"]), ("Python", f"{info['python']} ({info['python_executable']})")]
    rows += [(name, info[name.lower().replace("-", "_")] or missing) for name in INFO_PACKAGES]
    target = {"numba-cuda": "numba-cuda (NVIDIA's CUDA target)",
              "built-in": "built-in (numba's own CUDA target and simulator)"}.get(info["cuda_target"])
    rows.append(("CUDA target", target or f"unknown ({info['gpu_error'] or 'numba could not be loaded'})"))
    if info["backend"] == "gpu":
        cc = ".".join(str(c) for c in info["compute_capability"] or ())
        backend = f"gpu: {info['gpu_name']} (compute capability {cc}, {info['sm_count']} SMs)"
    else:
        backend = f"simulator: {info['gpu']}"
    rows.append(("auto backend", backend))
    rows.append(("assets", info["assets"] or info.get("assets_error", "missing")))
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label.ljust(width)}  {value}")
    return EXIT_OK


