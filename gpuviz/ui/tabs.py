"""The main window's tabs: one page per panel, each panel built when it is first needed.

Building all five panels took most of the start-up time (about 0.6 s of 1.1 s
here), while a first start shows one of them. A page is a :class:`PanelSlot`
that holds its panel's title and a way to build it; the panel is built when the
page is shown or when anything asks for it. To code that asks, the tab widget
looks as if the panels were its pages: :meth:`PanelTabs.widget`,
:meth:`~PanelTabs.currentWidget`, :meth:`~PanelTabs.indexOf` and
:meth:`~PanelTabs.setCurrentWidget` take and return panels.
"""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import QTabWidget, QVBoxLayout, QWidget

from .panel import Panel


class PanelSlot(QWidget):
    """One tab's page: its panel, or what builds it on first use."""

    def __init__(self, panel_id: str, title: str, build: Callable[[], Panel] | None = None,
                 panel: Panel | None = None, parent=None):
        super().__init__(parent)
        self.panel_id = panel_id
        self.title = title
        self._build = build
        self.panel: Panel | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        if panel is not None:
            self._hold(panel)

    def _hold(self, panel: Panel) -> None:
        self.panel = panel
        self.layout().addWidget(panel)

    @property
    def built(self) -> bool:
        return self.panel is not None


class PanelTabs(QTabWidget):
    """A tab per panel; pages build their panels on first use.

    Signals
    -------
    panel_built(Panel)
        Emitted once per panel, right after it is built and placed in its page
        (the window gives it its theme, its remembered layout and its links).
    """

    panel_built = pyqtSignal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.currentChanged.connect(self._build_current)

    # -- adding -------------------------------------------------------------------------------

    def add_panel(self, panel: Panel) -> PanelSlot:
        """A tab for a panel that exists already."""
        slot = PanelSlot(panel.panel_id, panel.title, panel=panel)
        self.addTab(slot, slot.title)
        self.panel_built.emit(panel)
        return slot

    def add_lazy(self, panel_id: str, title: str, build: Callable[[], Panel]) -> PanelSlot:
        """A tab whose panel ``build()`` makes when the tab is first shown or the panel first asked for."""
        slot = PanelSlot(panel_id, title, build=build)
        self.addTab(slot, title)  # the first tab becomes current, and currentChanged builds its panel
        return slot

    # -- pages and panels ---------------------------------------------------------------------

    def slots(self) -> list[PanelSlot]:
        return [QTabWidget.widget(self, i) for i in range(self.count())]

    def slot(self, panel_id: str) -> PanelSlot | None:
        return next((s for s in self.slots() if s.panel_id == panel_id), None)

    def ensure(self, slot: PanelSlot) -> Panel:
        """The slot's panel, built now if it was not yet."""
        if slot.panel is None:
            build, slot._build = slot._build, None
            panel = build()
            slot._hold(panel)
            self.panel_built.emit(panel)
        return slot.panel

    def built_panels(self) -> list[Panel]:
        """The panels built so far, in tab order."""
        return [s.panel for s in self.slots() if s.panel is not None]

    def panels(self) -> list[Panel]:
        """Every panel, in tab order (building those not built yet)."""
        return [self.ensure(s) for s in self.slots()]

    def widget(self, index: int) -> Panel | None:
        slot = QTabWidget.widget(self, index)
        return self.ensure(slot) if slot is not None else None

    def currentWidget(self) -> Panel | None:
        slot = QTabWidget.currentWidget(self)
        return self.ensure(slot) if slot is not None else None

    def indexOf(self, widget) -> int:
        for i, slot in enumerate(self.slots()):
            if widget is slot or (widget is not None and widget is slot.panel):
                return i
        return -1

    def setCurrentWidget(self, widget) -> None:
        index = self.indexOf(widget)
        if index >= 0:
            self.setCurrentIndex(index)

    def slot_of(self, panel: Panel) -> PanelSlot | None:
        return next((s for s in self.slots() if s.panel is panel), None)

    def _build_current(self, *_args) -> None:
        slot = QTabWidget.currentWidget(self)
        if slot is not None:
            self.ensure(slot)


__all__ = ["PanelSlot", "PanelTabs"]
