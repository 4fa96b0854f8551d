"""gpuviz: watch why matrices make deep learning fast.

Importing ``gpuviz`` loads neither Qt nor numba: the model (``gpuviz.model``)
is pure NumPy, the engine (``gpuviz.engine``) runs numba in worker processes,
and the Qt user interface (``gpuviz.ui``) is imported only by the GUI.

For notebooks, ``gpuviz.render(model)`` and ``gpuviz.render_png(model)`` draw a
panel model headless (:mod:`gpuviz.notebook`), and the panel models are here by
name (``gpuviz.MatmulScene``, ``gpuviz.BroadcastState``, …). Both are loaded on
first use, so ``import gpuviz`` stays as light as it was.
"""

from importlib import import_module

from .version import __version__ as __version__  # re-exported: gpuviz.__version__

#: Public name -> the module that defines it, imported on first use (PEP 562).
_LAZY = {
    "render": "gpuviz.notebook",
    "render_png": "gpuviz.notebook",
    "MatmulScene": "gpuviz.model.scene",
    "MatmulParams": "gpuviz.model.scene",
    "BroadcastState": "gpuviz.model.broadcast_panel",
    "BroadcastParams": "gpuviz.model.broadcast",
    "GradState": "gpuviz.model.grad_panel",
    "GradParams": "gpuviz.model.dense",
    "SpeedModel": "gpuviz.model.speed_panel",
    "SpeedParams": "gpuviz.model.speed_panel",
    "BenchResults": "gpuviz.model.speed",
    "HardwareModel": "gpuviz.model.hardware.panel",
    "HardwareParams": "gpuviz.model.hardware.panel",
    "Scenario": "gpuviz.model.scenario",
    "load_scenario": "gpuviz.model.scenario",
    "ParamsError": "gpuviz.model.panel",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'gpuviz' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # the next lookup is an ordinary attribute
    return value


def __dir__():
    return sorted([*globals(), *_LAZY])


__all__ = ["__version__", *_LAZY]
