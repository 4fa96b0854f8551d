"""Shared-memory banks: the selected warp's shared requests at the current step, lane by lane.

For each request (one shared-memory instruction of the warp's active lanes) the
view draws the 32 lanes, the 32 banks below them and a line from each lane to
the bank of the word it touches; a bank that must serve several distinct words
is marked with their count (a conflict), and the caption gives the request's
degree. A table lists each lane's element, word and bank. Everything shown comes
from :meth:`MatmulScene.bank_requests` (computed by
:mod:`gpuviz.model.hardware.banks` from a trace): the view only draws it.
"""

from __future__ import annotations

from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import QBrush, QFont, QFontMetrics, QPainter
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...model.hardware.banks import BANK_BYTES, BANKS
from ...model.launch import WARP_SIZE
from ..style import apply_theme, fill_with_scroll_area, font, mix, okabe, pen, qcolor, subscribe
from ..theme import Theme
from .transactions_view import StripColumn, set_text

NOTE = (f"Shared memory is {BANKS} banks of {BANK_BYTES}-byte words: bank = (byte address ÷ {BANK_BYTES}) mod "
        f"{BANKS}. A request's degree is the most distinct words any one bank must serve, one per pass: 1 is "
        "conflict-free. Lanes reading the same word share it (a broadcast, not a conflict).")


class BankStrip(QWidget):
    """One shared request drawn: 32 lanes above, the 32 banks below, a line from each lane to its bank.

    A bank serving one word is filled sky blue; one serving several distinct words (a conflict) is filled
    vermillion and labelled with the count ("×2"), so the conflict reads without colour too.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self.theme: Theme | None = None
        self.request: dict | None = None
        self.lanes_in_warp = WARP_SIZE
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(320)

    def set_request(self, request: dict, lanes_in_warp: int) -> None:
        self.request, self.lanes_in_warp = request, lanes_in_warp
        self.update()

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.setFont(font(theme, scale=0.8))
        fm = self.fontMetrics()
        # lanes, the lines, banks, and a row under the banks for the "×n" of a conflict
        self.setFixedHeight(int(4 + fm.height() * (1.5 * 2 + 2.2 + 1.2)) + 2)
        self.update()

    def _small_font(self, cell_width: float) -> QFont:
        """The strip's font, shrunk until "31" fits a cell (a projector font would not)."""
        f = QFont(self.font())
        while QFontMetrics(f).horizontalAdvance("31") > cell_width and f.pointSizeF() > 6.5:
            f.setPointSizeF(f.pointSizeF() - 0.5)
        return f

    def geometry_of(self) -> dict:
        """Rectangles of the lanes, the banks and the row labels (for painting and for tests)."""
        fm = self.fontMetrics()
        left = fm.horizontalAdvance("banks") + 10
        width = self.width() - left - 4
        cell = width / WARP_SIZE
        row_h = fm.height() * 1.5
        lanes_y, banks_y = 2.0, 2.0 + row_h + fm.height() * 2.2
        return {
            "lanes": [QRectF(left + i * cell, lanes_y, cell, row_h) for i in range(WARP_SIZE)],
            "banks": [QRectF(left + i * cell, banks_y, cell, row_h) for i in range(BANKS)],
            "counts": [QRectF(left + i * cell, banks_y + row_h, cell, fm.height() * 1.2) for i in range(BANKS)],
            "lanes_label": QRectF(0, lanes_y, left - 6, row_h),
            "banks_label": QRectF(0, banks_y, left - 6, row_h),
        }

    def paintEvent(self, event):
        t = self.theme
        if t is None:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setRenderHint(QPainter.RenderHint.NonCosmeticBrushPatterns, True)
        p.fillRect(self.rect(), qcolor(t.panel_background))
        geo = self.geometry_of()
        req = self.request
        fg = qcolor(t.foreground)
        bank_of_lane = dict(zip(req["lanes"], req["banks"])) if req else {}
        per_bank = req["words_per_bank"] if req else [0] * BANKS
        strength = 0.6 if not t.dark else 0.7
        one = QBrush(qcolor(mix(okabe("sky_blue"), t.panel_background, strength)))
        many = QBrush(qcolor(mix(okabe("vermillion"), t.panel_background, strength - 0.15)))
        unused = QBrush(qcolor(t.panel_background))
        masked = QBrush(qcolor(mix(t.foreground, t.panel_background, 0.45)), Qt.BrushStyle.BDiagPattern)
        # lines first, under the boxes; a line into a conflicted bank is drawn stronger
        for lane, bank in bank_of_lane.items():
            a, b = geo["lanes"][lane], geo["banks"][bank]
            conflict = per_bank[bank] > 1
            colour = okabe("vermillion") if conflict else mix(t.foreground, t.panel_background, 0.25)
            p.setPen(pen(colour, t.pen_width(1.6 if conflict else 1.0)))
            p.drawLine(QPointF(a.center().x(), a.bottom()), QPointF(b.center().x(), b.top()))
        small = self._small_font(geo["lanes"][0].width() - 2)
        p.setFont(small)
        show_numbers = QFontMetrics(small).horizontalAdvance("00") <= geo["lanes"][0].width()
        outline = pen(t.foreground, t.pen_width(1.0))
        for lane, rect in enumerate(geo["lanes"]):
            if lane >= self.lanes_in_warp:
                continue  # a partial last warp: no such lane
            r = rect.adjusted(0.5, 0.5, -0.5, -0.5)
            if lane in bank_of_lane:
                p.setBrush(many if per_bank[bank_of_lane[lane]] > 1 else one)
            else:
                p.setBrush(masked)  # hatched: not taking part, without relying on colour
            p.setPen(outline)
            p.drawRect(r)
            if show_numbers:
                p.setPen(fg)
                p.drawText(r, Qt.AlignmentFlag.AlignCenter, str(lane))
        for bank, rect in enumerate(geo["banks"]):
            r = rect.adjusted(0.5, 0.5, -0.5, -0.5)
            n = per_bank[bank]
            p.setBrush(many if n > 1 else one if n == 1 else unused)
            p.setPen(pen(t.foreground, t.pen_width(1.5 if n else 0.8)))
            p.drawRect(r)
            if show_numbers:
                p.setPen(fg)
                p.drawText(r, Qt.AlignmentFlag.AlignCenter, str(bank))
            if n > 1:
                bold = QFont(small)
                bold.setBold(True)
                p.setFont(bold)
                p.drawText(geo["counts"][bank], Qt.AlignmentFlag.AlignCenter, f"×{n}")
                p.setFont(small)
        p.setFont(self.font())
        p.setPen(fg)
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        p.drawText(geo["lanes_label"], right, "lanes")
        p.drawText(geo["banks_label"], right, "banks")
        p.end()


class BanksView(StripColumn, QWidget):
    """The selected warp's shared-memory requests at the current step: lanes, words, banks, degree.

    Parameters
    ----------
    scene : MatmulScene
    theme : Theme
    parent : QWidget, optional
    """

    def __init__(self, scene, theme: Theme, parent=None):
        super().__init__(parent)
        self.scene = scene
        self._theme = theme
        self._pending: set[str] = set()
        self.header = QLabel()
        self.header.setWordWrap(True)
        self.note = QLabel(NOTE)
        self.note.setWordWrap(True)
        self.empty = QLabel()
        self.empty.setWordWrap(True)
        self.strips_box = QWidget()
        self.strips_layout = QVBoxLayout(self.strips_box)
        self.strips_layout.setContentsMargins(0, 0, 0, 0)
        self.strips: list[tuple[QLabel, BankStrip]] = []
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["array", "lane", "element", "word", "bank"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setToolTip("Each active lane's shared word: its byte address in the tile ÷ 4 (row-major "
                              "float32); its bank is the word mod 32")
        content = QWidget()
        lay = QVBoxLayout(content)
        lay.setContentsMargins(4, 4, 4, 4)
        for w in (self.header, self.note, self.empty, self.strips_box, self.table):
            lay.addWidget(w)
        lay.addStretch(1)
        self.scroll = fill_with_scroll_area(self, content)
        subscribe(self, scene, "_scene_changed")
        self.set_theme(theme)

    # -- public API -------------------------------------------------------------------------------

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        apply_theme(self, theme)
        self.scroll.widget().setAutoFillBackground(False)
        self.header.setFont(font(theme, bold=True))
        self.note.setFont(font(theme, scale=0.9))
        pal = self.note.palette()
        pal.setColor(self.note.foregroundRole(), qcolor(mix(theme.foreground, theme.background, 0.7)))
        self.note.setPalette(pal)
        self.table.setFont(font(theme, mono=True, scale=0.9))
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 6)
        self.table.horizontalHeader().setFont(font(theme, scale=0.9))
        self._refresh()

    def shown_requests(self) -> list[dict]:
        """The requests drawn, in order (as :meth:`MatmulScene.bank_requests` gives them)."""
        self._flush()
        return [strip.request for _, strip in self.strips if not strip.isHidden()]

    def strip_captions(self) -> list[str]:
        self._flush()
        return [label.text() for label, strip in self.strips if not strip.isHidden()]

    def empty_text(self) -> str:
        self._flush()
        return self.empty.text() if not self.empty.isHidden() else ""

    # -- internals --------------------------------------------------------------------------------

    def _flush(self) -> None:
        changes, self._pending = self._pending, set()
        if changes & {"params", "step", "selection"}:
            self._refresh()

    def _strip(self, i: int) -> tuple[QLabel, BankStrip]:
        return self._caption_and_strip(i, BankStrip)

    def _refresh(self) -> None:
        sc = self.scene
        sel = sc.selected
        info = sc.step_info()
        set_text(self.header, f"Shared-memory banks · warp {sel.warp} of block ({sel.block[0]}, {sel.block[1]}) "
                               f"· this step: line {info.line}")
        requests = sc.bank_requests()
        if requests is None:
            requests = []
            set_text(self.empty, f"The {sc.kernel} kernel uses no shared memory: every access is to global "
                                  "memory (see Memory transactions). Choose the tiled kernel to see banks.")
        elif not requests:
            if info.is_barrier:
                why = "a barrier: the warp waits at cuda.syncthreads()."
            elif info.role == "write":
                why = f"it writes its result to {sc.display_name('C')}, in global memory."
            else:
                why = "none of its lanes touches shared memory on this line."
            set_text(self.empty, f"This warp makes no shared-memory request in this step: {why}")
        lanes_in_warp = min(WARP_SIZE, sc.launch.block.size - WARP_SIZE * sel.warp)
        for i, req in enumerate(requests):
            caption, strip = self._strip(i)
            set_text(caption, _caption(req))
            strip.set_request(req, lanes_in_warp)
            caption.show()
            strip.show()
        for caption, strip in self.strips[len(requests):]:
            caption.hide()
            strip.hide()
        self.empty.setVisible(not requests)
        self._fill_table(requests)

    def _fill_table(self, requests: list[dict]) -> None:
        table = self.table
        rows = sum(len(r["lanes"]) for r in requests)
        table.setUpdatesEnabled(False)
        table.setRowCount(rows)
        i = 0
        for req in requests:
            for lane, (r, c), word, bank in zip(req["lanes"], req["elements"], req["words"], req["banks"]):
                for j, text in enumerate((req["array"], str(lane), f"{req['array']}[{r}, {c}]", str(word),
                                          str(bank))):
                    item = table.item(i, j)
                    if item is None:  # reused from step to step: only the text changes
                        item = QTableWidgetItem()
                        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                                              if j >= 3 else Qt.AlignmentFlag.AlignCenter)
                        table.setItem(i, j, item)
                    item.setText(text)
                i += 1
        table.setUpdatesEnabled(True)
        table.setVisible(rows > 0)
        row_h = table.verticalHeader().defaultSectionSize()
        table.setFixedHeight(int(min(rows, 8) * row_h + table.horizontalHeader().height()
                                 + 2 * table.frameWidth() + table.fontMetrics().height() // 2))


def _caption(req: dict) -> str:
    """One request in words: its lanes, distinct words and degree, with what the degree means."""
    verb = "load" if req["op"] == "read" else "store"
    n_l, n_w, d = len(req["lanes"]), req["distinct_words"], req["degree"]
    lanes = f"{n_l} active lane{'s' if n_l != 1 else ''}"
    words = f"{n_w} distinct word{'s' if n_w != 1 else ''}"
    if d > 1:
        meaning = f"a {d}-way bank conflict: the request takes {d} passes"
    elif n_w < n_l:
        meaning = "no conflict (lanes on one word share it: a broadcast)"
    else:
        meaning = "no conflict: each word in its own bank"
    return f"<b>{req['array']} · {verb}</b>: {lanes} → {words} → <b>degree {d}</b>, {meaning}"


