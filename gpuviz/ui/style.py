"""Look helpers every panel shares: theme → palette, fonts and pens, inline field messages, scene subscriptions.

A widget here sets its own palette and font from an explicit :class:`~gpuviz.ui.theme.Theme`
(never from remembered settings), so the same scene renders the same pixels anywhere.
"""

from __future__ import annotations

import weakref

from PyQt6 import sip
from PyQt6.QtCore import QEvent, QSize, Qt, pyqtSignal
from PyQt6.QtGui import QColor, QFont, QPen, QTextCursor, QTextOption
from PyQt6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QSizePolicy,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from . import fonts
from .theme import BASE_POINT_SIZE, OKABE_ITO, Theme, qt_palette


def qcolor(rgb, alpha: int = 255) -> QColor:
    return QColor(int(rgb[0]), int(rgb[1]), int(rgb[2]), int(alpha))


def pen(rgb, width: float, style=Qt.PenStyle.SolidLine, alpha: int = 255) -> QPen:
    """A cosmetic pen ``width`` device pixels wide: pass ``theme.pen_width(base)``.

    Cosmetic, so a line keeps its width whatever a view's zoom or a painter's scale, and an export at
    device pixel ratio d (whose theme has d times the line scale) draws it d times as many pixels wide.
    """
    p = QPen(qcolor(rgb, alpha))
    p.setWidthF(width)
    p.setCosmetic(True)
    p.setStyle(style)
    return p


def mix(a, b, t: float) -> tuple[int, int, int]:
    """``t`` of colour ``a`` over ``1 − t`` of colour ``b`` (opaque tints that stay readable under text)."""
    return tuple(int(round(t * x + (1 - t) * y)) for x, y in zip(a[:3], b[:3]))


def okabe(name: str) -> tuple[int, int, int]:
    return OKABE_ITO[name]


def font(theme: Theme, *, mono: bool = False, bold: bool = False, scale: float = 1.0) -> QFont:
    """The theme's body font (or its monospace one), ``scale`` times the body size.

    Always the families gpuviz ships (:mod:`gpuviz.ui.fonts`), never the system's defaults, so a text
    is as wide on every machine; they are registered here if the application has not done it yet.
    """
    if not fonts.registered():
        fonts.register_fonts()
    f = QFont(fonts.MONO_FAMILY if mono else fonts.UI_FAMILY)
    f.setPointSizeF(BASE_POINT_SIZE * theme.font_scale * scale)
    f.setBold(bold)
    return f


def apply_theme(widget, theme: Theme) -> None:
    """Give ``widget`` (and the children that inherit) the theme's palette and body font.

    The main window gives the application the same ones; setting them here too
    keeps a widget right on its own (tests, exports) and after a theme switch.
    """
    widget.setPalette(qt_palette(theme))
    widget.setFont(font(theme))
    widget.setAutoFillBackground(True)


def subscribe(widget, scene, method: str):
    """Call ``widget.<method>(scene, changes)`` on each scene change, until the widget is destroyed.

    The scene holds only a weak reference to the widget, and the subscription
    ends at the first change after the widget's C++ object goes, so a closed
    widget is never called and never kept alive by the scene. Returns the listener (for ``scene.unsubscribe``).
    """
    ref = weakref.ref(widget)

    def listener(sc, changes):
        w = ref()
        if w is None or sip.isdeleted(w):
            # the widget is gone: drop the subscription on the scene's next change.
            # (Not from widget.destroyed: a Python slot run while PyQt tears the
            # wrapper down during garbage collection can crash the interpreter.)
            sc.unsubscribe(listener)
            return
        getattr(w, method)(sc, changes)

    scene.subscribe(listener)
    return listener


def fill_with_scroll_area(owner: QWidget, content: QWidget) -> QScrollArea:
    """Make ``content`` fill ``owner`` inside a frameless scroll area, and return the area.

    Never squeezed: a narrow or short dock (a projector's lecture fonts) scrolls
    instead of clipping the figures.
    """
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setWidget(content)
    outer = QVBoxLayout(owner)
    outer.setContentsMargins(0, 0, 0, 0)
    outer.addWidget(scroll)
    return scroll


def hex_colour(rgb) -> str:
    """``#rrggbb`` for a style sheet or rich text."""
    return "#{:02x}{:02x}{:02x}".format(*(int(v) for v in rgb[:3]))


def error_colour(theme: Theme) -> tuple[int, int, int]:
    """Inline error text: vermillion, lightened on a dark background so it stays readable."""
    return (255, 120, 80) if theme.dark else OKABE_ITO["vermillion"]


class FieldMessage(QWidget):
    """A warning icon and one sentence under a control; hidden while the control's value is valid."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.icon = QLabel()
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 2)
        lay.setSpacing(4)
        lay.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        lay.addWidget(self.text, 1)
        self.hide()

    def set_theme(self, theme: Theme) -> None:
        self.text.setStyleSheet(f"color: {hex_colour(error_colour(theme))};")
        self.text.setFont(font(theme, bold=True, scale=0.95))  # a style sheet stops font inheritance
        size = int(16 * theme.font_scale)
        self.icon.setPixmap(self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(size, size))

    def show_message(self, message: str) -> None:
        self.text.setText(message)
        self.show()

    def clear(self) -> None:
        self.text.setText("")
        self.hide()

    @property
    def message(self) -> str:
        return self.text.text() if not self.isHidden() else ""


class ElidingComboBox(QComboBox):
    """A combo box whose current text ends in "…" when the box is narrower than it, never cut mid-letter.

    A plain QComboBox asks for its longest entry's width and, given less, clips the text at its edge ("Tiles
    in shared memory: 64×64×64, 8×8 t"). This one asks for a few characters' width, draws the current text
    elided to the room it has, names the whole entry in its tooltip, and opens a list wide enough for every
    entry in full.
    """

    def __init__(self, tooltip: str = "", parent=None):
        super().__init__(parent)
        self._tooltip = tooltip
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(12)
        self.view().setTextElideMode(Qt.TextElideMode.ElideNone)
        self.currentIndexChanged.connect(self._update_tooltip)
        self._update_tooltip()

    def _update_tooltip(self, *_args) -> None:
        current = self.currentText()
        self.setToolTip("\n".join(t for t in (current, self._tooltip) if t))

    def showPopup(self) -> None:
        # the list shows each entry whole (as wide as the longest, within the screen), however narrow the box
        widest = max((self.fontMetrics().horizontalAdvance(self.itemText(i)) for i in range(self.count())),
                     default=0)
        screen = self.screen()
        room = screen.availableGeometry().width() - 16 if screen is not None else widest + 40
        self.view().setMinimumWidth(min(room, widest + 40))
        super().showPopup()

    def paintEvent(self, _event) -> None:
        from PyQt6.QtWidgets import QStyleOptionComboBox, QStylePainter

        painter = QStylePainter(self)
        opt = QStyleOptionComboBox()
        self.initStyleOption(opt)
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, opt)
        field = self.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, opt,
                                            QStyle.SubControl.SC_ComboBoxEditField, self)
        room = field.width() - (opt.iconSize.width() + 4 if not opt.currentIcon.isNull() else 0)
        opt.currentText = self.fontMetrics().elidedText(opt.currentText, Qt.TextElideMode.ElideRight, max(0, room))
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, opt)


class WrappingLineEdit(QPlainTextEdit):
    """A one-line entry whose text wraps onto up to ``max_lines`` lines instead of scrolling out of sight.

    For values a student reads back, such as a 4×10 matrix as a nested list: a QLineEdit in a side bar
    showed 40 of its 300 characters. It behaves as a line edit: Enter commits (``editingFinished``, also
    sent when focus leaves after a change), a pasted line break becomes a space, Tab moves on; ``text()``
    and ``setText()``. Taller than ``max_lines`` it scrolls.
    """

    editingFinished = pyqtSignal()

    def __init__(self, max_lines: int = 4, parent=None):
        super().__init__(parent)
        self.max_lines = max_lines
        self._committed = ""
        self.setTabChangesFocus(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.document().setDocumentMargin(2)
        self.document().documentLayout().documentSizeChanged.connect(self._fit_height)
        self._fit_height()

    def text(self) -> str:
        return self.toPlainText()

    def setText(self, text: str) -> None:
        self._committed = text
        self.setPlainText(text)
        self.moveCursor(QTextCursor.MoveOperation.Start)  # its start in view, as a line edit shows it

    def _lines(self) -> int:
        lines = int(round(self.document().size().height()))
        hint = self.placeholderText()
        if not self.toPlainText() and hint:
            # the placeholder is drawn wrapped, as the text would be: room for all of it
            room = max(1, self.viewport().width() - int(2 * self.document().documentMargin()))
            wrapped = self.fontMetrics().boundingRect(0, 0, room, 10_000, Qt.TextFlag.TextWordWrap.value, hint)
            lines = max(lines, -(-wrapped.height() // max(1, self.fontMetrics().lineSpacing())))
        return max(1, min(self.max_lines, lines))

    def _fit_height(self, *_args) -> None:
        # the document's height is counted in lines for a plain-text document
        frame = 2 * self.frameWidth() + int(2 * self.document().documentMargin())
        self.setFixedHeight(self._lines() * self.fontMetrics().lineSpacing() + frame + 2)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded
                                        if self.document().size().height() > self.max_lines
                                        else Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fit_height()

    def setPlaceholderText(self, text: str) -> None:
        super().setPlaceholderText(text)
        self._fit_height()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)  # re-wraps the text to the new width, without a documentSizeChanged
        self._fit_height()

    def sizeHint(self) -> QSize:
        return QSize(super().sizeHint().width(), self.height())

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._commit()
            return
        super().keyPressEvent(event)

    def insertFromMimeData(self, source) -> None:
        self.insertPlainText(" ".join(source.text().split("\n")) if source.hasText() else "")

    def focusOutEvent(self, event) -> None:
        super().focusOutEvent(event)
        if self.toPlainText() != self._committed:
            self._commit()

    def _commit(self) -> None:
        self._committed = self.toPlainText()
        self.editingFinished.emit()


def preset_combo(presets, chosen) -> QComboBox:
    """The "lecture example" chooser every panel's side bar starts with: a prompt, then each preset's title.

    ``chosen(index)`` is called when the user picks an entry (``activated``); the item data is the Scenario.
    A title longer than the side bar is elided, whole in the tooltip (:class:`ElidingComboBox`).
    """
    box = ElidingComboBox("The lecture's examples (assets/presets/*.toml)")
    box.addItem("— choose a lecture example —", None)
    for p in presets:
        box.addItem(p.title, p)
    box.activated.connect(chosen)
    return box


class ElidedLabel(QLabel):
    """A one-line label that ends in "…" when it is given less width than its text, the whole text in its tooltip.

    ``text()`` stays the whole text; it asks for its text's width but makes do with 16 characters', so a long
    step description ("wave 409 of 0–409: blocks 16,360–16,383") cannot hold a window wider than a 1024-pixel
    screen.
    """

    def __init__(self, text: str = "", parent=None):
        super().__init__(text, parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(False)
        self._update_tooltip()

    def setText(self, text: str) -> None:
        super().setText(text)
        self._update_tooltip()

    def shown_text(self) -> str:
        """The text as drawn at the present width."""
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight,
                                             max(0, self.contentsRect().width()))

    def _update_tooltip(self) -> None:
        self.setToolTip(self.text() if self.shown_text() != self.text() else "")

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._update_tooltip()

    #: Characters it keeps whole at the least (a short text such as "step 0 of 0–5" is never cut).
    MIN_CHARS = 16

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(min(hint.width(), self.fontMetrics().horizontalAdvance("0" * self.MIN_CHARS)), hint.height())

    def paintEvent(self, _event) -> None:
        from PyQt6.QtGui import QPainter

        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.setFont(self.font())
        painter.drawText(self.contentsRect(), int(self.alignment()), self.shown_text())
        painter.end()


class ElidedLines(QLabel):
    """Short parts of text packed into as few lines as the width allows, a part too long for a line cut with "…".

    It never asks for more width than it has (a long list of skipped sizes must not widen the panel);
    the full text, one part a line, is its tooltip and :meth:`full_text`.
    """

    SEPARATOR = "  ·  "

    def __init__(self, parent=None):
        super().__init__(parent)
        self.prefix = ""
        self.parts: list[str] = []
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(False)

    def set_parts(self, prefix: str, parts: list[str]) -> None:
        self.prefix, self.parts = prefix, list(parts)
        self.setToolTip(self.full_text())
        self._pack()

    def full_text(self) -> str:
        return "\n".join(([self.prefix] if self.prefix else []) + self.parts) if self.parts else ""

    def lines_for(self, width: int) -> list[str]:
        """The lines shown at ``width`` pixels."""
        metrics = self.fontMetrics()
        lines, line = [], self.prefix
        for part in self.parts:
            joined = part if line in ("", self.prefix) else self.SEPARATOR + part
            if line and line != self.prefix and metrics.horizontalAdvance(line + joined) > width:
                lines.append(line)
                line, joined = "", part
            line += (" " if line == self.prefix and line else "") + joined
        if line:
            lines.append(line)
        return [metrics.elidedText(text, Qt.TextElideMode.ElideRight, width) for text in lines]

    def _pack(self) -> None:
        text = "\n".join(self.lines_for(max(1, self.contentsRect().width())))
        if text != self.text():
            self.setText(text)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._pack()

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == event.Type.FontChange:
            self._pack()

    def minimumSizeHint(self) -> QSize:
        return QSize(0, super().minimumSizeHint().height())

    def sizeHint(self) -> QSize:
        return QSize(0, super().sizeHint().height())
