"""The panels that exist, as data: the model half of the registry (the view half is :mod:`gpuviz.ui.registry`).

Scenario reading and checking, the headless CLI and the export read this
list; none of it needs Qt. Adding a panel is a model, a view and one
:func:`register` call in each half.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import broadcast as bc
from . import broadcast_panel, dense, grad_panel, scene, speed_panel
from .budget import Budget
from .hardware import panel as hardware_panel


def _keep_view(raw) -> dict:
    """A ``[view]`` a panel keeps as read (it checks the keys it knows when it is applied)."""
    from .panel import table

    return dict(table(raw, "[view]", None))


def _no_check(params, view: dict, key_steps, quiz: dict, budget: Budget | None) -> None:
    """A panel whose scenarios need no check beyond their params and view."""


@dataclass(frozen=True)
class PanelSpec:
    """One panel, as everything below the GUI knows it.

    Parameters
    ----------
    panel_id : str
        The ``panel`` key of its scenario files (``"matmul"``).
    title : str
        The tab's title.
    params : type
        Its typed parameters: a dataclass with ``from_dict`` (raising
        :class:`~gpuviz.model.panel.ParamsError`) and ``to_dict``.
    model : type or None
        Its panel model (Qt-free), for the notebook API and tests.
    step_key : callable
        ``step_key(view) -> str or None``: the ``[view]`` key that holds the step
        a picture shows, or None when that view has no timeline. Written once,
        here: the export, the deck and the CLI ask this.
    read_view : callable
        ``read_view(raw) -> dict``: the ``[view]`` table checked (ParamsError naming the key).
    check : callable
        ``check(params, view, key_steps, quiz, budget)``: what params, view, key
        steps and quiz must agree on; ParamsError with one sentence.
    export_options : tuple of str
        ``gpuviz export PANEL``'s own options (attribute names of the parsed arguments).
    quiz : bool
        Whether its scenarios may have a ``[quiz]`` table.
    """

    panel_id: str
    title: str
    params: type
    model: type | None = None
    step_key: Callable[[dict], str | None] = lambda view: None
    read_view: Callable[[object], dict] = _keep_view
    check: Callable = _no_check
    export_options: tuple[str, ...] = ()
    quiz: bool = False


_PANELS: dict[str, PanelSpec] = {}


def register(spec: PanelSpec) -> PanelSpec:
    """Add ``spec`` (or replace the one with its id); returns it. Tests register toy panels this way."""
    _PANELS[spec.panel_id] = spec
    return spec


def unregister(panel_id: str) -> None:
    """Remove a panel (a test's toy panel); unknown ids are ignored."""
    _PANELS.pop(panel_id, None)


def panel_ids() -> tuple[str, ...]:
    """Every registered panel id, in tab order."""
    return tuple(_PANELS)


def spec(panel_id: str) -> PanelSpec | None:
    """The panel ``panel_id``, or None when this version does not know it."""
    return _PANELS.get(panel_id)


def step_key(panel_id: str, view: dict | None) -> str | None:
    """The ``[view]`` key that holds ``panel_id``'s step in ``view``, or None when that view has no steps."""
    s = _PANELS.get(panel_id)
    return s.step_key(view or {}) if s is not None else None


def export_panel_options() -> dict[str, tuple[str, ...]]:
    """``gpuviz export``'s panel options by panel id (a fresh dict: registered toy panels included)."""
    return {s.panel_id: s.export_options for s in _PANELS.values()}


# -- the four panels ---------------------------------------------------------------------------


def _check_matmul(params, view, key_steps, quiz, budget):
    scene.check_scenario(params, view, key_steps, budget)


def _check_broadcast(params, view, key_steps, quiz, budget):
    broadcast_panel.check_scenario(params, view, key_steps, quiz)


def _check_speed(params, view, key_steps, quiz, budget):
    speed_panel.check_scenario(params, view, key_steps)


register(PanelSpec("matmul", "Matmul on the GPU", scene.MatmulParams, scene.MatmulScene,
                   step_key=lambda view: "step", read_view=scene.read_view, check=_check_matmul,
                   export_options=("kernel", "m", "n", "k", "block", "seed")))
register(PanelSpec("broadcast", "Broadcasting", bc.BroadcastParams, broadcast_panel.BroadcastState,
                   step_key=broadcast_panel.step_key, check=_check_broadcast, export_options=("shapes", "values"),
                   quiz=True))
register(PanelSpec("grad", "Weight gradients", dense.GradParams, grad_panel.GradState,
                   step_key=grad_panel.step_key, read_view=grad_panel.check_view,
                   export_options=("layer", "batch", "alpha", "seed", "loss", "train", "view")))
register(PanelSpec("speed", "Speed", speed_panel.SpeedParams, None, read_view=speed_panel.read_view,
                   check=_check_speed, export_options=("results",)))
register(PanelSpec("hardware", "The hardware", hardware_panel.HardwareParams, hardware_panel.HardwareModel,
                   step_key=hardware_panel.step_key, read_view=hardware_panel.read_view,
                   check=hardware_panel.check_scenario))

#: ``gpuviz export``'s own options of the four shipped panels (attribute names of the parsed arguments).
EXPORT_PANEL_OPTIONS = export_panel_options()

__all__ = ["EXPORT_PANEL_OPTIONS", "PanelSpec", "export_panel_options", "panel_ids", "register", "spec", "step_key",
           "unregister"]
