"""Lecture mode's drawer: a panel's controls and details, one key away, over the figure.

In lecture mode the figure has the screen (:meth:`gpuviz.ui.panel.Panel.set_lecture`). The lecturer
still needs the fields and buttons — change M, pick another kernel — without leaving it, and without
the figure jumping to make room. So the drawer floats over the right-hand side of the window, outside
every layout: it borrows the panel's chrome widgets (:meth:`~gpuviz.ui.panel.Panel.chrome_widgets`)
while it is open and gives each back to exactly the place it came from (its layout, index and
stretch, its splitter slot and the splitter's sizes, its tab) when it closes.
"""

from __future__ import annotations

from dataclasses import dataclass

from PyQt6.QtCore import QEvent, QObject, pyqtSignal
from PyQt6.QtWidgets import (
    QBoxLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from . import theme as themes
from .style import font

#: The drawer's width: this share of the window, within these bounds (logical pixels).
DRAWER_SHARE = 0.42
DRAWER_MIN_WIDTH, DRAWER_MAX_WIDTH = 340, 620


@dataclass
class _Place:
    """Where a borrowed widget lives in its panel, so that it goes back exactly there."""

    widget: QWidget
    parent: QWidget | None
    hidden: bool
    kind: str  # "box", "grid", "splitter", "tab", "stack", "scroll", "loose"
    container: object = None
    index: int = -1
    stretch: int = 0
    grid: tuple = ()
    alignment: object = None
    splitter_state: object = None
    tab_text: str = ""
    tab_tip: str = ""
    geometry: object = None


def _find_in_layout(layout: QLayout, widget: QWidget):
    """``(layout, index)`` of the (possibly nested) layout that holds ``widget`` directly, or None."""
    for i in range(layout.count()):
        item = layout.itemAt(i)
        if item.widget() is widget:
            return layout, i
        child = item.layout()
        if child is not None:
            found = _find_in_layout(child, widget)
            if found is not None:
                return found
    return None


def _place_of(widget: QWidget) -> _Place:
    parent = widget.parentWidget()
    place = _Place(widget, parent, widget.isHidden(), "loose", geometry=widget.geometry())
    if parent is None:
        return place
    if isinstance(parent, QSplitter):
        place.kind, place.container, place.index = "splitter", parent, parent.indexOf(widget)
        place.splitter_state = parent.saveState()
        return place
    if isinstance(parent, QStackedWidget):
        tabs = parent.parentWidget()
        if isinstance(tabs, QTabWidget) and tabs.indexOf(widget) >= 0:
            i = tabs.indexOf(widget)
            place.kind, place.container, place.index = "tab", tabs, i
            place.tab_text, place.tab_tip = tabs.tabText(i), tabs.tabToolTip(i)
            place.stretch = int(tabs.currentIndex() == i)
            return place
        place.kind, place.container, place.index = "stack", parent, parent.indexOf(widget)
        return place
    scroll = parent.parentWidget()
    if isinstance(scroll, QScrollArea) and scroll.widget() is widget:
        place.kind, place.container = "scroll", scroll
        return place
    if parent.layout() is not None:
        found = _find_in_layout(parent.layout(), widget)
        if found is not None:
            layout, i = found
            place.container, place.index = layout, i
            place.alignment = layout.itemAt(i).alignment()
            if isinstance(layout, QBoxLayout):
                place.kind, place.stretch = "box", layout.stretch(i)
            elif isinstance(layout, QGridLayout):
                place.kind, place.grid = "grid", layout.getItemPosition(i)
    return place


def _take(place: _Place) -> None:
    if place.kind == "tab":
        place.container.removeTab(place.container.indexOf(place.widget))
    elif place.kind == "scroll":
        place.container.takeWidget()


def _give_back(place: _Place) -> None:
    w, c = place.widget, place.container
    if place.kind == "splitter":
        c.insertWidget(place.index, w)
        c.restoreState(place.splitter_state)
    elif place.kind == "tab":
        c.insertTab(place.index, w, place.tab_text)
        c.setTabToolTip(place.index, place.tab_tip)
        if place.stretch:
            c.setCurrentIndex(place.index)
    elif place.kind == "stack":
        c.insertWidget(place.index, w)
    elif place.kind == "scroll":
        c.setWidget(w)
    elif place.kind == "box":
        c.insertWidget(place.index, w, place.stretch, place.alignment)
    elif place.kind == "grid":
        r, col, rs, cs = place.grid
        c.addWidget(w, r, col, rs, cs, place.alignment)
    else:
        w.setParent(place.parent)
        w.setGeometry(place.geometry)
    w.setHidden(place.hidden)


class LectureDrawer(QFrame):
    """The drawer over the right of the window; :meth:`open_for` a panel, :meth:`close_drawer` to give back.

    It is a child of the window's central widget but in no layout: opening it covers part of the
    figure and never resizes it.
    """

    #: Emitted with True when the drawer opens, False when it closes.
    toggled = pyqtSignal(bool)

    def __init__(self, host: QWidget):
        super().__init__(host)
        self.setObjectName("lectureDrawer")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self._host = host
        self._panel = None
        self._places: list[_Place] = []
        self.title = QLabel("Controls")
        self.title.setObjectName("lectureDrawerTitle")
        close = QToolButton()
        close.setText("✕")
        close.setToolTip("Close the controls (F6); the figure stays as it is")
        close.setAutoRaise(True)
        close.clicked.connect(self.close_drawer)
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(close)
        self.body = QWidget()
        self.body_layout = QVBoxLayout(self.body)
        self.body_layout.setContentsMargins(0, 0, 0, 0)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidget(self.body)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 8)
        layout.addLayout(head)
        layout.addWidget(self.scroll, 1)
        host.installEventFilter(self)
        self.hide()

    @property
    def is_open(self) -> bool:
        return self._panel is not None

    @property
    def panel(self):
        return self._panel

    def set_theme(self, theme: themes.Theme) -> None:
        themes_bg = theme.panel_background
        border = themes._blend(theme.background, theme.foreground, 0.5)
        self.setStyleSheet(f"#lectureDrawer {{ background: rgb{themes_bg}; border-left: "
                           f"{max(2, round(theme.pen_width(1.5)))}px solid rgb{border}; }}")
        self.title.setFont(font(theme, bold=True))

    def open_for(self, panel) -> bool:
        """Borrow ``panel``'s controls and details and show them; False when it has none."""
        if self._panel is panel:
            return True
        self.close_drawer()
        widgets = [w for w in panel.chrome_widgets() if w is not None]
        if not widgets:
            return False
        self._panel = panel
        self.title.setText(f"{panel.title} — controls (F6 closes)")
        self._places = [_place_of(w) for w in widgets]
        for place in self._places:
            _take(place)
            self.body_layout.addWidget(place.widget)
            place.widget.show()
            if hasattr(place.widget, "set_narrow"):  # a one-row timeline: its slider on a row of its own here
                place.widget.set_narrow(True)
        self.body_layout.addStretch(1)
        self._place_over_host()
        self.show()
        self.raise_()
        self.toggled.emit(True)
        return True

    def close_drawer(self) -> None:
        """Give every borrowed widget back to its place (in reverse order) and hide."""
        if self._panel is None:
            return
        for place in reversed(self._places):
            if hasattr(place.widget, "set_narrow"):
                place.widget.set_narrow(False)
            _give_back(place)
        while self.body_layout.count():
            self.body_layout.takeAt(0)
        self._places, self._panel = [], None
        self.hide()
        self.toggled.emit(False)

    def _place_over_host(self) -> None:
        h = self._host
        width = int(min(DRAWER_MAX_WIDTH, max(DRAWER_MIN_WIDTH, DRAWER_SHARE * h.width())))
        width = min(width, h.width())
        self.setGeometry(h.width() - width, 0, width, h.height())

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self._host and event.type() == QEvent.Type.Resize and self.is_open:
            self._place_over_host()
        return False


__all__ = ["LectureDrawer"]
