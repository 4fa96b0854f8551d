"""Look helpers every panel shares: theme → palette, fonts and pens, inline field messages, scene subscriptions.

A widget here sets its own palette and font from an explicit :class:`~gpuviz.ui.theme.Theme`
(never from remembered settings), so the same scene renders the same pixels anywhere.
"""

from __future__ import annotations

import weakref

from PyQt6 import sip
from PyQt6.QtCore import QSize, Qt
from PyQt6.QtGui import QColor, QFont, QPen
from PyQt6.QtWidgets import QComboBox, QFrame, QHBoxLayout, QLabel, QScrollArea, QStyle, QVBoxLayout, QWidget

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


def preset_combo(presets, chosen) -> QComboBox:
    """The "lecture example" chooser every panel's side bar starts with: a prompt, then each preset's title.

    ``chosen(index)`` is called when the user picks an entry (``activated``); the item data is the Scenario.
    """
    box = QComboBox()
    box.addItem("— choose a lecture example —", None)
    for p in presets:
        box.addItem(p.title, p)
    box.setToolTip("The lecture's examples (assets/presets/*.toml)")
    box.activated.connect(chosen)
    return box


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
