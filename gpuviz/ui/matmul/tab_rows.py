"""A QTabWidget's titles as rows of buttons that wrap, so every title reads whole in a narrow column.

QTabBar keeps its tabs on one row: in the matmul panel's right-hand column at
1366×768 it cut the titles to "Nu…" and "Ba…" (or, with scroll buttons, hid
some tabs behind arrows). These buttons flow onto a second or third row
instead. The tab widget itself stays the one that holds the pages (its own bar
hidden), so ``indexOf``, ``setCurrentIndex`` and ``setTabVisible`` work as
before; call :meth:`TabRows.sync` after changing a tab's title or visibility.
"""

from __future__ import annotations

from PyQt6.QtCore import QSize, Qt
from PyQt6.QtGui import QFontMetrics
from PyQt6.QtWidgets import QSizePolicy, QTabWidget, QToolButton, QWidget

from ..style import font
from ..theme import Theme


class TabRows(QWidget):
    """Checkable buttons, one per visible tab of ``tabs``, laid out left to right and wrapped onto rows."""

    GAP = 4  # pixels between buttons and between rows

    def __init__(self, tabs: QTabWidget, theme: Theme, parent=None):
        super().__init__(parent)
        self.tabs = tabs
        self.buttons: list[QToolButton] = []
        self._theme = theme
        tabs.tabBar().hide()
        tabs.currentChanged.connect(self._current_changed)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(28)  # one row, until the first resize measures the rows
        self.sync()

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        self.sync()

    def sync(self) -> None:
        """Rebuild the buttons from the tab widget's titles, tooltips, visibility and current tab."""
        tabs = self.tabs
        while len(self.buttons) < tabs.count():
            b = QToolButton(self)
            b.setCheckable(True)
            b.setAutoRaise(False)  # a raised button reads as clickable; the current one is sunken and bold
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            i = len(self.buttons)
            b.clicked.connect(lambda _checked=False, i=i: self._clicked(i))
            self.buttons.append(b)
        for i, b in enumerate(self.buttons):
            there = i < tabs.count()
            b.setVisible(there and tabs.isTabVisible(i))
            if there:
                b.setText(tabs.tabText(i))
                b.setToolTip(tabs.tabToolTip(i))
        self._current_changed(tabs.currentIndex())
        self._fit()

    def shown_titles(self) -> list[str]:
        """The titles of the buttons shown, in order (for tests and the layout report)."""
        return [b.text() for b in self.buttons if not b.isHidden()]

    def rows(self) -> list[list[str]]:
        """The titles row by row, as laid out at the current width."""
        out: dict[int, list[str]] = {}
        for b in self.buttons:
            if not b.isHidden():
                out.setdefault(b.y(), []).append(b.text())
        return [out[y] for y in sorted(out)]

    def _clicked(self, i: int) -> None:
        self.tabs.setCurrentIndex(i)
        self._current_changed(self.tabs.currentIndex())  # a click on the current one keeps it checked

    def _current_changed(self, index: int) -> None:
        t = self._theme
        for i, b in enumerate(self.buttons):
            on = i == index
            b.setChecked(on)
            # the current tab in bold: a checked auto-raise button's sunken look is faint in some styles
            b.setFont(font(t, bold=on))
        self._fit()

    # -- layout ---------------------------------------------------------------------------------

    def _place(self, width: int, move: bool = True) -> int:
        """Lay the shown buttons out in rows ``width`` wide; return the height they take."""
        x = y = row_h = 0
        width = max(1, width)
        bold = QFontMetrics(font(self._theme, bold=True))
        for i, b in enumerate(self.buttons):
            if b.isHidden():
                continue
            title = self.tabs.tabText(i) if i < self.tabs.count() else b.text()
            hint = b.sizeHint()
            pad = max(0, hint.width() - b.fontMetrics().horizontalAdvance(b.text()))
            # sized for the bold (current) title, the widest a button gets: choosing a tab never re-wraps
            w = min(width, bold.horizontalAdvance(title) + pad + 2)
            if x > 0 and x + w > width:
                x, y = 0, y + row_h + self.GAP
                row_h = 0
            if move:
                # a title wider than the whole column: cut, whole in its tooltip (which sync set)
                b.setText(title if w >= bold.horizontalAdvance(title) + pad else
                          bold.elidedText(title, Qt.TextElideMode.ElideRight, max(1, w - pad)))
                b.setGeometry(x, y, w, hint.height())
            x += w + self.GAP
            row_h = max(row_h, hint.height())
        return y + row_h

    def sizeHint(self) -> QSize:
        return QSize(max(self.width(), 100), self.height())

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        """Take the height the rows need at this width. A fixed height, not heightForWidth: a box layout
        keeps the minimum it measured at a passing width (the lecture drawer's, or none while hidden), and a
        splitter then refuses the sizes it had."""
        if self.width() <= 1:  # hidden or not yet laid out: keep the last height
            return
        h = self._place(self.width())
        if h != self.height() or self.minimumHeight() != h:
            self.setFixedHeight(h)


__all__ = ["TabRows"]
