"""The view half of the panel registry: panel id → the Qt view that draws it (the model half is
:mod:`gpuviz.model.registry`).

The window's tabs, ``gpuviz export``, the deck and the export dialog read both
halves. A view is named as ``"module:Class"`` and imported when first asked
for, so listing the panels (the CLI's export checks) does not build any Qt
widget or import a panel's module before it is needed.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from ..model import registry as models


@dataclass(frozen=True)
class ViewSpec:
    """How to build one panel's view.

    Parameters
    ----------
    panel_id : str
        The id it shares with its model's :class:`~gpuviz.model.registry.PanelSpec`.
    view : type or str
        The :class:`~gpuviz.ui.panel.Panel` subclass, or ``"module:Class"`` to import on first use.
    takes_engine : bool
        Whether the view runs engine jobs: the window passes its engine as ``engine=``.
    """

    panel_id: str
    view: type | str
    takes_engine: bool = False

    def view_class(self) -> type:
        if isinstance(self.view, str):
            module, _, name = self.view.partition(":")
            return getattr(importlib.import_module(module), name)
        return self.view

    def build(self, engine=None):
        """A new view (with ``engine`` when it takes one)."""
        cls = self.view_class()
        return cls(engine=engine) if self.takes_engine else cls()


_VIEWS: dict[str, ViewSpec] = {}


def register(panel_id: str, view, takes_engine: bool = False) -> ViewSpec:
    """Add the view of ``panel_id`` (whose model half must be registered too); returns its spec."""
    spec = ViewSpec(panel_id, view, takes_engine)
    _VIEWS[panel_id] = spec
    return spec


def unregister(panel_id: str) -> None:
    """Remove a view (a test's toy panel); unknown ids are ignored."""
    _VIEWS.pop(panel_id, None)


def panel_ids() -> tuple[str, ...]:
    """Panels with both halves registered, in the model registry's (tab) order."""
    return tuple(pid for pid in models.panel_ids() if pid in _VIEWS)


def view_spec(panel_id: str) -> ViewSpec | None:
    return _VIEWS.get(panel_id) if models.spec(panel_id) is not None else None


def view_class(panel_id: str) -> type | None:
    """The Panel subclass that draws ``panel_id``, or None when no view is registered for it."""
    spec = view_spec(panel_id)
    return spec.view_class() if spec is not None else None


def build_views(engine=None) -> list:
    """One new view of every panel, in tab order (the window's tabs)."""
    return [_VIEWS[pid].build(engine) for pid in panel_ids()]


register("matmul", "gpuviz.ui.matmul.panel:MatmulPanel", takes_engine=True)
register("broadcast", "gpuviz.ui.broadcast.panel:BroadcastPanel")
register("grad", "gpuviz.ui.grad.panel:GradPanel")
register("speed", "gpuviz.ui.speed.panel:SpeedPanel", takes_engine=True)
register("hardware", "gpuviz.ui.hardware.panel:HardwarePanel")

__all__ = ["ViewSpec", "build_views", "panel_ids", "register", "unregister", "view_class", "view_spec"]
