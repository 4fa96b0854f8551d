"""The chosen kernel's source, with the line the current step executes highlighted and its barriers marked."""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QRect, QSize, Qt
from PyQt6.QtGui import QFontMetricsF, QPainter, QTextCharFormat, QTextCursor, QTextFormat
from PyQt6.QtWidgets import QLabel, QPlainTextEdit, QTextEdit, QVBoxLayout, QWidget

from ..style import apply_theme, font, mix, okabe, qcolor, subscribe
from ..theme import Theme

#: The code's font shrinks (to fit the pane's width) down to this share of its size; below, lines wrap.
MIN_FONT_SCALE = 0.8

#: Tint of the executing line and of barrier lines (each also has a gutter mark: ▶ and ‖).
CURRENT_COLOUR = "yellow"
BARRIER_COLOUR = "reddish_purple"


class _Gutter(QWidget):
    def __init__(self, editor: _CodeEdit):
        super().__init__(editor)
        self._editor = editor

    def sizeHint(self) -> QSize:
        return QSize(self._editor.gutter_width(), 0)

    def paintEvent(self, event):
        self._editor.paint_gutter(self, event)


class _CodeEdit(QPlainTextEdit):
    """A read-only plain-text view with a gutter of line numbers and marks."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setReadOnly(True)
        self.setCursorWidth(0)  # a caret would look like a second marker
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                     | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.theme: Theme | None = None
        self.current_line = 0
        self.barrier_lines: frozenset[int] = frozenset()
        self.on_resize = None  # the source view fits the font and scrolls to the line once the size is known
        self.gutter = _Gutter(self)
        self.blockCountChanged.connect(self._update_margins)
        self.updateRequest.connect(self._scroll_gutter)

    def gutter_width(self) -> int:
        digits = len(str(max(1, self.blockCount())))
        fm = self.fontMetrics()
        # digits, then room for the ▶ and ‖ marks
        return fm.horizontalAdvance("9") * digits + fm.horizontalAdvance("▶‖") + 14

    def _update_margins(self, *_):
        self.setViewportMargins(self.gutter_width(), 0, 0, 0)

    def _scroll_gutter(self, rect, dy):
        if dy:
            self.gutter.scroll(0, dy)
        else:
            self.gutter.update(0, rect.y(), self.gutter.width(), rect.height())

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self.place_gutter()
        if self.on_resize is not None:
            self.on_resize()

    def place_gutter(self) -> None:
        self._update_margins()
        cr = self.contentsRect()
        self.gutter.setGeometry(QRect(cr.left(), cr.top(), self.gutter_width(), cr.height()))

    def paint_gutter(self, gutter: QWidget, event) -> None:
        t = self.theme
        if t is None:
            return
        p = QPainter(gutter)
        p.fillRect(event.rect(), qcolor(mix(t.foreground, t.panel_background, 0.06)))
        fm = self.fontMetrics()
        block = self.firstVisibleBlock()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        w = gutter.width()
        mark_w = fm.horizontalAdvance("▶")
        bar_w = fm.horizontalAdvance("‖")
        faint = qcolor(mix(t.foreground, t.panel_background, 0.55))
        barrier = qcolor(okabe(BARRIER_COLOUR) if not t.dark else mix(okabe(BARRIER_COLOUR), (255, 255, 255), 0.7))
        while block.isValid() and top <= event.rect().bottom():
            height = round(self.blockBoundingRect(block).height())
            line = block.blockNumber() + 1
            if block.isVisible() and top + height >= event.rect().top():
                current = line == self.current_line
                f = self.font()
                f.setBold(current)
                p.setFont(f)
                p.setPen(qcolor(t.foreground) if current else faint)
                p.drawText(QRect(0, top, w - 6 - mark_w - bar_w, height),
                           Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, str(line))
                if line in self.barrier_lines:
                    p.setPen(barrier)
                    p.drawText(QRect(w - 4 - mark_w - bar_w, top, bar_w, height), Qt.AlignmentFlag.AlignCenter, "‖")
                if current:
                    p.setPen(qcolor(t.foreground))
                    p.drawText(QRect(w - 3 - mark_w, top, mark_w, height), Qt.AlignmentFlag.AlignCenter, "▶")
            block = block.next()
            top += height
        p.end()


class SourceView(QWidget):
    """The kernel's numba.cuda source (:meth:`MatmulScene.source`), following the scene's step.

    Parameters
    ----------
    scene : MatmulScene
    theme : Theme
    parent : QWidget, optional

    Notes
    -----
    The line the current step executes has a tinted background and a ▶ in the
    gutter; every ``cuda.syncthreads()`` line the steps reach has a ‖ and
    its own tint. The highlighted line is always scrolled into view.
    """

    def __init__(self, scene, theme: Theme, parent=None):
        super().__init__(parent)
        self.scene = scene
        self._theme = theme
        self._kernel = None
        self._params = None
        self._font_scale = None
        self._shown_at = None  # (size, scroll, line) when last hidden
        self._executed = None  # (params, the lines their steps execute)
        self.title = QLabel()
        self.title.setWordWrap(True)  # a narrow pane wraps its title rather than be held wide by it
        self.editor = _CodeEdit()
        self.editor.setToolTip("The kernel's source, exactly as the worker runs it (read-only)")
        self.editor.on_resize = self._editor_resized
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(4)
        lay.addWidget(self.title)
        lay.addWidget(self.editor, 1)
        lay.addWidget(self.legend)
        subscribe(self, scene, "_scene_changed")
        self.set_theme(theme)

    # -- public API -------------------------------------------------------------------------

    @property
    def highlighted_line(self) -> int:
        """1-based line highlighted as executing (read back from the editor's highlight)."""
        for sel in self.editor.extraSelections():
            if sel.format.property(QTextFormat.Property.UserProperty) == "current":
                return sel.cursor.blockNumber() + 1
        return 0

    @property
    def barrier_lines(self) -> frozenset[int]:
        return self.editor.barrier_lines

    def text(self) -> str:
        return self.editor.toPlainText()

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        apply_theme(self, theme)
        self.editor.theme = theme
        self.title.setFont(font(theme, bold=True))
        self.editor.setFont(font(theme, mono=True))
        self.editor.gutter.setFont(self.editor.font())
        self.editor.place_gutter()
        self._font_scale = 1.0
        self._refresh(force=True)

    @property
    def font_scale(self) -> float:
        """The code's font size relative to the theme's monospace size (it shrinks to fit, see :meth:`fit`)."""
        return self._font_scale or 1.0

    @property
    def wraps(self) -> bool:
        return self.editor.lineWrapMode() != QPlainTextEdit.LineWrapMode.NoWrap

    def fit(self) -> None:
        """Never hide the executed line: the code's font shrinks until every line fits the pane's width, down to
        :data:`MIN_FONT_SCALE`; in a narrower pane the view scrolls sideways to the executed expression
        (:meth:`show_line`), and only where even that one expression is wider than the pane do lines wrap."""
        ed = self.editor
        lines = ed.toPlainText().splitlines() or [""]
        room = self._room()
        if room <= 0:
            return
        scales = (1.0, 0.95, 0.9, 0.85, MIN_FONT_SCALE)
        chosen, fits = scales[-1], False
        for scale in scales:
            fm = QFontMetricsF(font(self._theme, mono=True, scale=scale))
            if max(fm.horizontalAdvance(t) for t in lines) <= room:
                chosen, fits = scale, True
                break
        if chosen != self._font_scale:
            self._font_scale = chosen
            ed.setFont(font(self._theme, mono=True, scale=chosen))
            ed.gutter.setFont(ed.font())
            ed.place_gutter()
        wrap = False
        if not fits:  # the executed lines' expressions (without their indentation) must fit, or lines wrap
            fm = QFontMetricsF(ed.font())
            executed = self._executed_lines()
            widest = max((fm.horizontalAdvance(lines[i - 1].strip()) for i in executed if 0 < i <= len(lines)),
                         default=0.0)
            wrap = widest > self._room()
        mode = QPlainTextEdit.LineWrapMode.WidgetWidth if wrap else QPlainTextEdit.LineWrapMode.NoWrap
        if ed.lineWrapMode() != mode:
            ed.setLineWrapMode(mode)
        if fits:
            ed.horizontalScrollBar().setValue(0)

    def _executed_lines(self) -> frozenset[int]:
        """The lines the steps execute (once per product: the steps repeat a loop's few lines)."""
        sc = self.scene
        if self._executed is None or self._executed[0] is not sc.params:
            self._executed = (sc.params, frozenset(sc.step_info(s).line for s in range(min(sc.n_steps, 4096))))
        return self._executed[1]

    def _room(self) -> float:
        ed = self.editor
        return ed.viewport().width() - 2 * ed.document().documentMargin() - 4

    def show_line(self, line: int) -> None:
        """Scroll sideways, if need be, so that ``line``'s code (from its first character, past the indentation,
        to its end) is in view."""
        ed = self.editor
        if self.wraps:
            return
        block = ed.document().findBlockByNumber(line - 1)
        if not block.isValid():
            return
        text = block.text()
        fm = QFontMetricsF(ed.font())
        indent = fm.horizontalAdvance(text[:len(text) - len(text.lstrip())])
        end = fm.horizontalAdvance(text)
        bar = ed.horizontalScrollBar()
        room = self._room()
        if indent >= bar.value() and end <= bar.value() + room:
            return
        bar.setValue(int(np.ceil(max(0.0, min(indent, end - room)))))

    def line_visible(self, line: int) -> bool:
        """Whether ``line`` (1-based) is inside the editor's viewport: its whole height, and its code from its
        first character (past the indentation) to its end."""
        ed = self.editor
        block = ed.document().findBlockByNumber(line - 1)
        if not block.isValid():
            return False
        geo = ed.blockBoundingGeometry(block).translated(ed.contentOffset())
        vp = ed.viewport().rect()
        layout = block.layout()
        text = block.text()
        fm = QFontMetricsF(ed.font())
        indent = fm.horizontalAdvance(text[:len(text) - len(text.lstrip())]) if layout.lineCount() == 1 else 0.0
        width = max((layout.lineAt(i).naturalTextWidth() for i in range(layout.lineCount())), default=0.0)
        left = geo.left() + ed.document().documentMargin()  # the content offset holds the sideways scroll
        return geo.top() >= -0.5 and geo.bottom() <= vp.height() + 0.5 and left + indent >= -0.5 and \
            left + width <= vp.width() + 0.5

    # -- internals ------------------------------------------------------------------------------

    def _editor_resized(self) -> None:
        self.fit()
        self._layout_all()
        kept = self._shown_at
        if kept is not None and kept[0] == self.size() and kept[2] == self.editor.current_line:
            # back at the size it had when hidden (for a slide or lecture mode): scrolled as it was (its wrapped
            # lines are laid out lazily, so scrolling to the line again could land a few lines off)
            self.editor.verticalScrollBar().setValue(kept[1])
            return
        # the first scroll happened before the layout gave the editor its height
        self._scroll_to(self.editor.current_line)
        self.show_line(self.editor.current_line)

    def _layout_all(self) -> None:
        """Lay out every line now (a kernel is a few dozen): the plain-text layout counts wrapped lines lazily,
        as blocks come into view, so the scroll range — and where a scroll lands — would depend on history."""
        ed = self.editor
        block = ed.document().firstBlock()
        while block.isValid():
            ed.blockBoundingRect(block)
            block = block.next()

    def hideEvent(self, event):
        super().hideEvent(event)
        ed = self.editor
        self._shown_at = (self.size(), ed.verticalScrollBar().value(), ed.current_line)

    def _scene_changed(self, scene, changes) -> None:
        if "params" in changes or "step" in changes:
            self._refresh()

    def _refresh(self, force: bool = False) -> None:
        sc = self.scene
        if force or sc.kernel != self._kernel:
            self._kernel = sc.kernel
            self.editor.setPlainText(sc.source())
            self.title.setText(f"Kernel source: {sc.kernel} (gpuviz/kernels/{sc.kernel}.py)")
            self.fit()
        if force or sc.params is not self._params:
            # the lines the barrier steps execute: once per product, not per step (a long K has thousands)
            self._params = sc.params
            self.editor.barrier_lines = frozenset(sc.step_info(int(s)).line for s in sc.barrier_steps())
            self._update_legend()
        line = sc.step_info().line
        self.editor.current_line = line
        self._highlight(line)
        self._scroll_to(line)
        self.show_line(line)
        self.editor.gutter.update()

    def _line_selection(self, line: int, rgb, tag: str) -> QTextEdit.ExtraSelection:
        sel = QTextEdit.ExtraSelection()
        fmt = QTextCharFormat()
        fmt.setBackground(qcolor(rgb))
        fmt.setProperty(QTextFormat.Property.FullWidthSelection, True)
        fmt.setProperty(QTextFormat.Property.UserProperty, tag)
        sel.format = fmt
        cursor = QTextCursor(self.editor.document().findBlockByNumber(line - 1))
        cursor.clearSelection()
        sel.cursor = cursor
        return sel

    def _highlight(self, line: int) -> None:
        t = self._theme
        strength = 0.45 if not t.dark else 0.35
        sels = [self._line_selection(b, mix(okabe(BARRIER_COLOUR), t.panel_background, 0.2), "barrier")
                for b in sorted(self.editor.barrier_lines) if b != line]
        if 1 <= line <= self.editor.blockCount():
            sels.append(self._line_selection(line, mix(okabe(CURRENT_COLOUR), t.panel_background, strength), "current"))
        self.editor.setExtraSelections(sels)

    def _scroll_to(self, line: int, centre: bool = False) -> None:
        ed = self.editor
        block = ed.document().findBlockByNumber(line - 1)
        if not block.isValid():
            return
        geo = ed.blockBoundingGeometry(block).translated(ed.contentOffset())
        margin = ed.fontMetrics().lineSpacing()  # a line of context above and below, where there is room
        if not centre and geo.top() >= margin and geo.bottom() <= ed.viewport().height() - margin:
            return
        ed.setTextCursor(QTextCursor(block))
        ed.centerCursor()

    def _update_legend(self) -> None:
        if self.editor.barrier_lines:
            self.legend.setText("▶ the line the current step executes (all its active threads, in SIMT) · "
                                "‖ a barrier: cuda.syncthreads()")
        else:
            self.legend.setText("▶ the line the current step executes (all its active threads, in SIMT)")
        self._fit_minimum()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_minimum()

    def _fit_minimum(self) -> None:
        """Ask for the height the wrapped title and legend need at this width, besides the editor's least.

        A splitter sizes its panes by their minimum sizes, which ignore height-for-width: in a narrow column
        (1024×768) it gave the view less than its three-line legend needs and cut the legend's last line."""
        lay = self.layout()
        if lay is None or self.width() <= 0:
            return
        m = lay.contentsMargins()
        inner = max(1, self.width() - m.left() - m.right())
        need = (m.top() + m.bottom() + 2 * lay.spacing() + self.editor.minimumSizeHint().height()
                + sum(w.heightForWidth(inner) if w.isVisibleTo(self) else 0 for w in (self.title, self.legend)))
        if need != self.minimumHeight():
            self.setMinimumHeight(need)

