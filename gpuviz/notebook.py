"""The Python API for notebooks: a panel model drawn as a picture, headless, through the export's one render path.

``gpuviz.render(model)`` gives an ``(H, W, 4)`` ``uint8`` RGBA array and
``gpuviz.render_png(model)`` PNG bytes of what the app's panel shows for that
model. The picture is a fresh, never-shown panel built from the model's
parameters and view (a :class:`~gpuviz.model.scenario.Scenario`, as
:func:`gpuviz.ui.export.render_frames` draws every export); the model itself
is only read. In IPython the panel models show themselves inline as that PNG
(:func:`enable`, run when this module is imported).

This module is on the top floor with the CLI: importing it loads neither Qt
nor numba (``gpuviz.ui`` is imported inside the functions), so ``import
gpuviz`` stays light where PyQt6 is not installed.
"""

from __future__ import annotations

import os
import sys
import tempfile
from contextlib import contextmanager

from .model import registry
from .model.panel import ParamsError
from .model.scenario import Scenario
from .model.speed_panel import SpeedModel


def _headless() -> None:
    """Draw offscreen where there is no display, before the first QApplication picks its platform."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _panel_of(model) -> str:
    """The registered panel id whose model class ``model`` is; ParamsError naming the accepted types."""
    for panel_id in registry.panel_ids():
        cls = registry.spec(panel_id).model
        if cls is not None and isinstance(model, cls):
            return panel_id
    if isinstance(model, SpeedModel):
        return "speed"
    names = sorted({c.__name__ for c in model_classes()})
    raise ParamsError(f"cannot draw a {type(model).__name__!r} object: give a panel model ({', '.join(names)}) "
                      "or a Scenario")


def _params_of(model):
    # the models spell it two ways: an attribute/property (MatmulScene, HardwareModel) or a method
    params = model.params
    return params() if callable(params) else params


@contextmanager
def _scenario_of(model):
    """The scenario that rebuilds ``model`` as it is now (params and view, its step included)."""
    if isinstance(model, Scenario):
        yield model
        return
    panel_id = _panel_of(model)
    # a model carries no title of its own: the slide look shows the panel's
    title = registry.spec(panel_id).title
    if panel_id == "speed":
        with _speed_scenario(model, title) as scenario:
            yield scenario
        return
    view_state = getattr(model, "view_state", None)
    view = dict(view_state()) if callable(view_state) else {"step": int(model.step)}
    # a matmul view without a compare kernel leaves the key out (None is not a TOML value)
    view = {key: value for key, value in view.items() if value is not None}
    if panel_id == "hardware" and getattr(model, "selected_block", None) is not None:
        view["block"] = model.selected_block
    yield Scenario(panel_id, title, _params_of(model), view=view)


@contextmanager
def _speed_scenario(model: SpeedModel, title: str):
    """A speed scenario naming the model's results file (written to a temporary one when it has none)."""
    results = model.results
    if results is None or not results.measurements:
        raise ParamsError("a SpeedModel without results has nothing to draw: give it measurements first "
                          "(model.take(BenchResults.load(path)))")
    ms = results.measurements
    params = {"op": ms[0].op, "sizes": sorted({int(m.size) for m in ms}),
              "impls": list(dict.fromkeys(m.impl for m in ms))}
    if model.results_file is not None and model.results_file.is_file():
        yield Scenario("speed", title, params, view={"results": str(model.results_file)})
        return
    with tempfile.TemporaryDirectory(prefix="gpuviz-notebook-") as folder:
        path = os.path.join(folder, "results.json")
        results.save(path)
        yield Scenario("speed", title, params, view={"results": path})


def _render_image(model, step, size, theme, slide):
    _headless()
    from .ui import export

    if step is not None and (not isinstance(step, int) or isinstance(step, bool)):
        raise ParamsError(f"step must be a whole number, got {step!r}")
    with _scenario_of(model) as scenario:
        return export.render_frames(scenario.panel, scenario, size=size, theme=theme, step=step, slide=slide)[0]


def render(model, step: int | None = None, size=(1920, 1080), theme: str = "light", slide: bool = False):
    """The picture the app's panel shows for ``model``, as an RGBA array.

    Parameters
    ----------
    model : panel model or Scenario
        ``MatmulScene``, ``BroadcastState``, ``GradState``, ``HardwareModel``, a ``SpeedModel``
        holding results, or a :class:`~gpuviz.model.scenario.Scenario`. It is read, never changed.
    step : int, optional
        The step to show, counted from 0 (default: the model's own step).
    size : (int, int)
        Width and height in pixels, 1 to 7680×4320.
    theme : str
        ``"light"``, ``"dark"`` or ``"lecture"``.
    slide : bool
        The slide look: the figure alone with a large title (light themes only).

    Returns
    -------
    numpy.ndarray
        ``(height, width, 4)`` ``uint8``, RGBA.

    Raises
    ------
    ParamsError
        With one sentence: an unknown model type, a size out of range, an unknown theme, a step
        out of range or a view without steps.
    """
    image = _render_image(model, step, size, theme, slide)
    from .ui.export import image_to_array

    return image_to_array(image)


def render_png(model, step: int | None = None, size=(1920, 1080), theme: str = "light", slide: bool = False) -> bytes:
    """:func:`render`'s picture as PNG bytes (write them to a file, or let a notebook show them)."""
    image = _render_image(model, step, size, theme, slide)
    from .ui.export import png_bytes  # the export's own encoder: same settings as gpuviz export's PNGs

    return png_bytes(image)


def model_classes() -> tuple[type, ...]:
    """The panel model classes :func:`render` draws (those of :mod:`gpuviz.model.registry`, and the speed model)."""
    found = [s.model for s in map(registry.spec, registry.panel_ids()) if s.model is not None]
    return tuple(dict.fromkeys([*found, SpeedModel]))


def _png_for_ipython(model):
    return render_png(model)


def enable(shell=None) -> bool:
    """Show panel models inline in IPython: registers a PNG formatter for :func:`model_classes`.

    ``shell`` defaults to the running IPython shell; IPython is never imported when it is not
    already running. Returns whether a formatter was registered. Jupyter and Colab show the PNG; a
    terminal IPython keeps showing text (its display formatter's active types are text only).
    """
    if shell is None:
        ipython = sys.modules.get("IPython")
        get = getattr(ipython, "get_ipython", None)
        shell = get() if get is not None else None
    if shell is None:
        return False
    formatter = shell.display_formatter.formatters["image/png"]
    for cls in model_classes():
        formatter.for_type(cls, _png_for_ipython)
    return True


enable()

__all__ = ["enable", "model_classes", "render", "render_png"]
