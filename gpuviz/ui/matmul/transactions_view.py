"""Memory transactions: the selected warp's global requests at the current step, and the launch's totals.

For each request the warp makes (one load or store instruction of its active
lanes) the view draws the 32 lanes, the distinct 32-byte sectors their
addresses fall into, and a line from each lane to its sector; a table lists
every active lane's element, byte address (row-major float32) and sector.
Below: sectors per request and bytes moved for the whole launch
(:meth:`MatmulScene.memory_totals`), and optionally the same beside another
kernel on the same product (:meth:`MatmulScene.compare`), with the model's
one-sentence explanation. All counts are the model's sector-counting model.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import QBrush, QFont, QFontMetrics, QPainter
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...model.accesses import FLOAT_BYTES, SECTOR_BYTES, array_columns
from ...model.coalescing import MODEL_NOTE
from ...model.launch import WARP_SIZE
from ...model.matmul import KERNELS
from ...model.scene import SceneError
from ...model.text import format_bytes
from ..style import apply_theme, fill_with_scroll_area, font, mix, okabe, pen, qcolor, subscribe
from ..theme import BLOCK_COLOURS, Theme

#: Sectors are told apart by colour (cycling through these) and by the lines from their lanes.
SECTOR_COLOURS = BLOCK_COLOURS


def _sector_colour(i: int, theme: Theme):
    rgb = okabe(SECTOR_COLOURS[i % len(SECTOR_COLOURS)])
    return mix(rgb, theme.panel_background, 0.6 if not theme.dark else 0.7)


class SectorStrip(QWidget):
    """One warp request drawn: 32 lanes above, the distinct sectors below, a line from each lane to its sector."""

    def __init__(self, parent=None, gap: float = 2.2, min_scale: float = 0.0):
        super().__init__(parent)
        self.theme: Theme | None = None
        #: the least font size relative to the body size: a slide's figure keeps 0.9 (lane numbers that do not
        #: fit at that size are left out rather than shrunk below it)
        self.min_scale = min_scale
        self.gap = gap  # between lanes and sectors, in text heights: room for the lines that join them
        self.request = None
        self.lanes_in_warp = WARP_SIZE
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(320)

    def set_request(self, request, lanes_in_warp: int) -> None:
        self.request, self.lanes_in_warp = request, lanes_in_warp
        self.update()

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.setFont(font(theme, scale=max(0.8, self.min_scale)))
        fm = self.fontMetrics()
        self.setFixedHeight(int(4 + fm.height() * (1.5 * 2 + self.gap)) + 2)
        self.update()

    def _lane_font(self, cell_width: float) -> QFont:
        """The strip's font, shrunk until a two-digit lane number fits a cell (a projector font would not)."""
        key = (round(cell_width), self.font().toString())
        if getattr(self, "_lane_font_key", None) != key:
            f = QFont(self.font())
            floor = max(6.5, self.min_scale * font(self.theme).pointSizeF()) if self.theme is not None else 6.5
            while QFontMetrics(f).horizontalAdvance("31") > cell_width and f.pointSizeF() - 0.5 >= floor:
                f.setPointSizeF(f.pointSizeF() - 0.5)
            self._lane_font_key, self._lane_font_cached = key, f
        return self._lane_font_cached

    def _gutter(self) -> float:
        return self.fontMetrics().horizontalAdvance("sectors") + 10

    def geometry_of(self) -> dict:
        """Rectangles of lanes and sectors (for painting and for tests)."""
        fm = self.fontMetrics()
        margin = 4
        left = self._gutter()
        width = self.width() - left - margin
        cell = width / WARP_SIZE
        row_h = fm.height() * 1.5
        lanes_y, sectors_y = 2.0, 2.0 + row_h + fm.height() * self.gap
        req = self.request
        n_s = 0 if req is None else len(req.sectors)
        # a sector holds 8 floats: at most 8 lane cells wide, so 32 consecutive floats sit over their 4 sectors
        box = min(8 * cell, width / max(1, n_s))
        x0 = left + (width - box * n_s) / 2
        return {
            "lanes": [QRectF(left + i * cell, lanes_y, cell, row_h) for i in range(WARP_SIZE)],
            "sectors": [QRectF(x0 + j * box, sectors_y, box, row_h) for j in range(n_s)],
            "lanes_label": QRectF(0, lanes_y, left - 6, row_h),
            "sectors_label": QRectF(0, sectors_y, left - 6, row_h),
        }

    def paintEvent(self, event):
        t = self.theme
        if t is None:
            return
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        # the masked lanes' hatch scales with an export's pixel ratio (a cosmetic pattern would be twice as dense)
        p.setRenderHint(QPainter.RenderHint.NonCosmeticBrushPatterns, True)
        p.fillRect(self.rect(), qcolor(t.panel_background))
        geo = self.geometry_of()
        req = self.request
        fg = qcolor(t.foreground)
        faint = mix(t.foreground, t.panel_background, 0.25)
        sector_of_lane = {}
        if req is not None:
            order = {int(s): j for j, s in enumerate(req.sectors)}
            for lane, addr in zip(req.lanes.tolist(), req.addresses.tolist()):
                sector_of_lane[lane] = order[addr // SECTOR_BYTES]
        # lines first, under the boxes
        p.setPen(pen(faint, t.pen_width(1.0)))
        for lane, j in sector_of_lane.items():
            a, b = geo["lanes"][lane], geo["sectors"][j]
            p.drawLine(QPointF(a.center().x(), a.bottom()), QPointF(b.center().x(), b.top()))
        outline = pen(t.foreground, t.pen_width(1.0))
        lane_font = self._lane_font(geo["lanes"][0].width() - 2)
        p.setFont(lane_font)
        show_numbers = QFontMetrics(lane_font).horizontalAdvance("00") <= geo["lanes"][0].width()
        colours = [QBrush(qcolor(_sector_colour(j, t))) for j in range(len(geo["sectors"]))]
        masked = QBrush(qcolor(mix(t.foreground, t.panel_background, 0.45)), Qt.BrushStyle.BDiagPattern)
        for lane, rect in enumerate(geo["lanes"]):
            r = rect.adjusted(0.5, 0.5, -0.5, -0.5)
            if lane >= self.lanes_in_warp:
                continue  # a partial last warp: no such lane
            # a masked lane is hatched, so it reads as "not taking part" without colour
            p.setBrush(colours[sector_of_lane[lane]] if lane in sector_of_lane else masked)
            p.setPen(outline)
            p.drawRect(r)
            if show_numbers:
                p.setPen(fg)
                p.drawText(r, Qt.AlignmentFlag.AlignCenter, str(lane))
        p.setFont(self.font())
        for j, rect in enumerate(geo["sectors"]):
            r = rect.adjusted(1, 0.5, -1, -0.5)
            p.setBrush(colours[j])
            p.setPen(pen(t.foreground, t.pen_width(1.5)))
            p.drawRect(r)
            label = f"sector {int(req.sectors[j])}"
            if p.fontMetrics().horizontalAdvance(label) > r.width() - 4:
                label = str(int(req.sectors[j]))
            if p.fontMetrics().horizontalAdvance(label) <= r.width() - 2:
                p.setPen(fg)
                p.drawText(r, Qt.AlignmentFlag.AlignCenter, label)
        p.setPen(fg)
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        p.drawText(geo["lanes_label"], right, "lanes")
        p.drawText(geo["sectors_label"], right, "sectors")
        p.end()


class StripColumn:
    """What the Memory transactions and Banks views share (a mixin before QWidget).

    A view in a background tab only collects the scene's changes and catches up when it is shown;
    its requests are drawn as a column of (caption, strip) pairs that grows as the step needs.
    The class sets ``_pending``, ``strips``, ``strips_layout`` and ``_theme`` and defines ``_flush``.
    """

    def _scene_changed(self, scene, changes) -> None:
        self._pending |= changes
        if self.isVisible():  # a hidden view (a background tab) catches up when it is shown
            self._flush()

    def showEvent(self, event):
        super().showEvent(event)
        self._flush()

    def _caption_and_strip(self, i: int, make_strip) -> tuple[QLabel, QWidget]:
        while len(self.strips) <= i:
            caption = QLabel()
            caption.setWordWrap(True)
            strip = make_strip()
            self.strips_layout.addWidget(caption)
            self.strips_layout.addWidget(strip)
            self.strips.append((caption, strip))
        caption, strip = self.strips[i]
        caption.setFont(font(self._theme))
        strip.set_theme(self._theme)
        return caption, strip


class TransactionsView(StripColumn, QWidget):
    """The selected warp's memory requests at the current step, and the launch's sector totals.

    Parameters
    ----------
    scene : MatmulScene
    theme : Theme
    parent : QWidget, optional
    slide : bool
        The slide version (the matmul panel's slide look, beside the figure): the warp's requests, the side
        by side comparison with its sentence and the model's note, without the lane table, the launch
        totals, the comparison chooser or a scroll bar.
    """

    def __init__(self, scene, theme: Theme, parent=None, slide: bool = False):
        super().__init__(parent)
        self.scene = scene
        self.slide = slide
        self._theme = theme
        self._syncing = False
        self._pending: set[str] = set()

        self.header = QLabel()
        self.header.setWordWrap(True)
        self.empty = QLabel()
        self.empty.setWordWrap(True)
        self.strips_box = QWidget()
        self.strips_layout = QVBoxLayout(self.strips_box)
        self.strips_layout.setContentsMargins(0, 0, 0, 0)
        self.strips: list[tuple[QLabel, SectorStrip]] = []
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["array", "lane", "element", "address", "sector"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setToolTip("Each active lane's byte address: (row × row length + col) × 4, row-major float32; "
                              "its sector is the address ÷ 32")

        self.totals_box = QGroupBox()
        self.totals_grid = QGridLayout(self.totals_box)
        self.totals_grid.setHorizontalSpacing(10)
        self.compare_combo = QComboBox()
        self.compare_combo.addItem("nothing", None)
        for k in KERNELS:
            self.compare_combo.addItem(k, k)
        self.compare_combo.setToolTip("Show another kernel's memory traffic for the same product and block")
        self.compare_combo.currentIndexChanged.connect(self._compare_chosen)
        self.compare_message = QLabel()
        self.compare_message.setWordWrap(True)
        self.compare_box = QGroupBox()
        self.compare_grid = QGridLayout(self.compare_box)
        self.compare_grid.setHorizontalSpacing(10)
        self.sentence = QLabel()
        self.sentence.setWordWrap(True)
        self.note = QLabel(MODEL_NOTE)
        self.note.setWordWrap(True)
        self.ideal = QLabel("Sectors per request: 1 is ideal … 32 is the worst (every lane in its own sector). "
                            "32 consecutive floats are 128 bytes = 4 sectors.")
        self.ideal.setWordWrap(True)

        compare_row = QHBoxLayout()
        compare_row.addWidget(QLabel("Compare with:"))
        compare_row.addWidget(self.compare_combo)
        compare_row.addWidget(self.compare_message, 1)

        if slide:
            # a slide shows what fits; the panel sizes the fonts so that all of it does (no scroll bar)
            lay = QVBoxLayout(self)
            lay.setContentsMargins(0, 0, 0, 0)
            lay.setSpacing(6)
            for w in (self.header, self.empty, self.strips_box, self.compare_box, self.sentence, self.note):
                lay.addWidget(w)
            for w in (self.ideal, self.table, self.totals_box, self.compare_combo, self.compare_message):
                w.setParent(self)  # kept (their state is the normal view's) but never shown on a slide
                w.hide()
            self.scroll = None
        else:
            content = QWidget()
            lay = QVBoxLayout(content)
            lay.setContentsMargins(4, 4, 4, 4)
            lay.addWidget(self.header)
            lay.addWidget(self.ideal)
            lay.addWidget(self.empty)
            lay.addWidget(self.strips_box)
            lay.addWidget(self.table)
            lay.addWidget(self.totals_box)
            lay.addLayout(compare_row)
            lay.addWidget(self.compare_box)
            lay.addWidget(self.sentence)
            lay.addWidget(self.note)
            lay.addStretch(1)
            self.scroll = fill_with_scroll_area(self, content)

        subscribe(self, scene, "_scene_changed")
        self.set_theme(theme)

    # -- public API -------------------------------------------------------------------------------

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        apply_theme(self, theme)
        if self.scroll is not None:
            self.scroll.widget().setAutoFillBackground(False)
        self.header.setFont(font(theme, bold=True))
        for box in (self.totals_box, self.compare_box):
            box.setFont(font(theme, bold=True))
        small = font(theme, scale=0.9)
        for label in (self.note, self.ideal):
            label.setFont(small)
            pal = label.palette()
            pal.setColor(label.foregroundRole(), qcolor(mix(theme.foreground, theme.background, 0.7)))
            label.setPalette(pal)
        self.table.setFont(font(theme, mono=True, scale=0.9))
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 6)
        self.table.horizontalHeader().setFont(font(theme, scale=0.9))
        self._refresh_requests()
        self._refresh_totals()

    def shown_requests(self) -> list:
        """The :class:`~gpuviz.model.accesses.Request` objects drawn, in order."""
        self._flush()
        return [strip.request for _, strip in self.strips if not strip.isHidden()]

    def strip_captions(self) -> list[str]:
        self._flush()
        return [label.text() for label, strip in self.strips if not strip.isHidden()]

    def totals_text(self) -> str:
        """The whole-launch table as text, row by row (cells joined by " | ")."""
        self._flush()
        return _grid_text(self.totals_grid)

    def compare_text(self) -> str:
        self._flush()
        return _grid_text(self.compare_grid) if not self.compare_box.isHidden() else ""

    def height_for(self, width: int) -> int | None:
        """The height the slide version needs at ``width`` pixels, or None where its table is wider.

        Summed from its parts rather than asked of its layout, which answers from a cache until the event
        loop runs (the panel measures several font sizes in a row)."""
        self._flush()
        self.compare_grid.invalidate()  # cells refilled or refonted since: its cached size is stale
        if self.compare_box.isVisibleTo(self) and self.compare_box.minimumSizeHint().width() > width:
            return None
        lay = self.layout()
        parts = []
        for w in (self.header, self.empty, self.sentence, self.note):
            if w.isVisibleTo(self):
                parts.append(w.heightForWidth(width))
        if self.compare_box.isVisibleTo(self):
            parts.append(self.compare_box.minimumSizeHint().height())
        shown = [(c, strip) for c, strip in self.strips if strip.isVisibleTo(self)]
        if shown:
            inner = self.strips_layout.spacing()
            parts.append(sum(c.heightForWidth(width) + strip.minimumHeight() + 2 * inner for c, strip in shown) - inner)
        return sum(parts) + lay.spacing() * max(0, len(parts) - 1)

    # -- internals --------------------------------------------------------------------------------

    def _flush(self) -> None:
        changes, self._pending = self._pending, set()
        if changes & {"params", "step", "selection"}:
            self._refresh_requests()
        if changes & {"params", "compare"}:
            self._refresh_totals()

    def _strip(self, i: int) -> tuple[QLabel, SectorStrip]:
        return self._caption_and_strip(i, lambda: SectorStrip(gap=1.5 if self.slide else 2.2,
                                                                         min_scale=0.9 if self.slide else 0.0))

    def _refresh_requests(self) -> None:
        sc = self.scene
        sel = sc.selected
        info = sc.step_info()
        lanes_in_warp = min(WARP_SIZE, sc.launch.block.size - WARP_SIZE * sel.warp)
        # the step number is the timeline's: leaving it out keeps this label (and the layout) still while playing
        if self.slide:  # the slide's step line says which line
            set_text(self.header, f"Memory transactions of warp {sel.warp}, block ({sel.block[0]}, {sel.block[1]})")
        else:
            set_text(self.header, f"Memory transactions · warp {sel.warp} of block ({sel.block[0]}, {sel.block[1]}) "
                                   f"· this step: line {info.line}")
        requests = sc.warp_requests()
        for i, req in enumerate(requests):
            caption, strip = self._strip(i)
            array = _display(sc, req.array)  # W, x, z where the scenario names them
            n_l, n_s = len(req.lanes), len(req.sectors)
            verb = "load" if req.op == "read" else "store"
            lanes, sectors = f"lane{'s' if n_l != 1 else ''}", f"sector{'s' if n_s != 1 else ''}"
            moved = f"{n_s * SECTOR_BYTES} bytes moved for {len(np.unique(req.addresses)) * FLOAT_BYTES} used"
            if self.slide:  # one request per caption: "per request" says nothing more there
                set_text(caption, f"<b>{array} · {verb}</b>: {n_l} {lanes} → <b>{n_s} {sectors}</b> ({moved})")
            else:
                set_text(caption, f"<b>{array} · {verb}</b>: {n_l} active {lanes} → <b>{n_s} {sectors}</b> "
                                   f"({n_s} {sectors} per request; {moved})")
            strip.set_request(req, lanes_in_warp)
            caption.show()
            strip.show()
        for caption, strip in self.strips[len(requests):]:
            caption.hide()
            strip.hide()
        if requests:
            self.empty.hide()
        else:
            self.empty.show()
            if info.is_barrier:
                why = "a barrier: the warp waits at cuda.syncthreads() and touches no memory."
            elif sc.kernel == "tiled" and info.role == "multiply":
                why = "it reads only the shared tiles sA and sB (on chip), no global memory."
            elif info.role.startswith("zero"):
                why = "its active lanes write a zero to a shared tile, no global memory."
            else:
                why = "none of its lanes executes this line (all masked: idle or the other branch)."
            set_text(self.empty, f"This warp makes no global-memory request in this step: {why}")
        if not self.slide:
            self._fill_table(requests)

    def _fill_table(self, requests) -> None:
        sc = self.scene
        rows = sum(len(r.lanes) for r in requests)
        table = self.table
        table.setUpdatesEnabled(False)
        table.setRowCount(rows)
        i = 0
        for req in requests:
            cols = array_columns(sc.kernel, sc.problem, req.array)
            array = _display(sc, req.array)
            for lane, addr in zip(req.lanes.tolist(), req.addresses.tolist()):
                r, c = divmod(addr // FLOAT_BYTES, cols)
                for j, text in enumerate((array, str(lane), f"{array}[{r}, {c}]", f"{addr:,}",
                                          f"{addr // SECTOR_BYTES:,}")):
                    item = table.item(i, j)
                    if item is None:  # items are reused from step to step: only their text changes
                        item = QTableWidgetItem()
                        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                                              if j >= 3 else Qt.AlignmentFlag.AlignCenter)
                        table.setItem(i, j, item)
                    item.setText(text)
                i += 1
        table.setUpdatesEnabled(True)
        table.setVisible(rows > 0)
        fm = table.fontMetrics()
        row_h = table.verticalHeader().defaultSectionSize()
        table.setFixedHeight(int(min(rows, 8) * row_h + table.horizontalHeader().height()
                                 + 2 * table.frameWidth() + fm.height() // 2))

    def _refresh_totals(self) -> None:
        sc = self.scene
        if self.slide:
            self._refresh_compare()
            return
        totals = sc.memory_totals()
        self.totals_box.setTitle("Whole launch: global memory")
        a_name, b_name, c_name = (_display(sc, x) for x in "ABC")
        arrays = ((f"{a_name} loads", totals.arrays["A"]), (f"{b_name} loads", totals.arrays["B"]),
                  (f"{c_name} stores", totals.arrays["C"]), ("all", totals.total))
        rows = [[""] + [name for name, _ in arrays]]
        for name, f in (("requests", lambda t: f"{t.requests:,}"),
                        ("sectors", lambda t: f"{t.sectors:,}"),
                        ("sectors\nper request", lambda t: f"{t.sectors_per_request:.2f}"),
                        ("bytes moved", lambda t: format_bytes(t.bytes_moved)),
                        ("bytes used", lambda t: format_bytes(t.bytes_used)),
                        ("used / moved", lambda t: f"{100 * t.efficiency:.0f} %")):
            rows.append([name] + [f(tr) for _, tr in arrays])
        _fill_grid(self.totals_grid, rows, self._theme)

        self._syncing = True
        try:
            self.compare_combo.setCurrentIndex(max(0, self.compare_combo.findData(sc.compare_kernel)))
            for i in range(1, self.compare_combo.count()):
                k = self.compare_combo.itemData(i)
                # the tiled kernel needs a square block: offer only what can run this product
                ok = k != sc.kernel and _can_run(sc, k)
                self.compare_combo.model().item(i).setEnabled(ok)
        finally:
            self._syncing = False
        self._refresh_compare()

    def _refresh_compare(self) -> None:
        sc = self.scene
        if sc.compare_kernel is None:
            self.compare_box.hide()
            self.sentence.hide()
            return
        cmp = sc.compare()
        a, b = cmp.first, cmp.second
        product = (f"{sc.problem.m:,}×{sc.problem.n:,}×{sc.problem.k:,}, block {sc.params.block[0]}×"
                   f"{sc.params.block[1]}")
        measures = (("load requests", lambda t: f"{t.loads.requests:,}"),
                    ("sectors", lambda t: f"{t.loads.sectors:,}"),
                    ("sectors\nper request", lambda t: f"{t.loads.sectors_per_request:.2f}"),
                    ("bytes moved", lambda t: format_bytes(t.loads.bytes_moved)),
                    ("bytes used", lambda t: format_bytes(t.loads.bytes_used)),
                    ("used / moved", lambda t: f"{100 * t.loads.efficiency:.0f} %"))
        loads = f"loads of {_display(sc, 'A')} and {_display(sc, 'B')}"
        if self.slide:
            # one row per kernel: three rows of figures fit beside the figure where seven would not
            self.compare_box.setTitle(f"Whole launch ({product}): {loads}")
            rows = [[""] + [name.replace(" ", "\n", 1) if "\n" not in name else name for name, _ in measures]]
            rows += [[t.kernel] + [f(t) for _, f in measures] for t in (a, b)]
        else:
            self.compare_box.setTitle(f"Side by side: {loads}")
            rows = [[product, a.kernel, b.kernel]] + [[name, f(a), f(b)] for name, f in measures]
        _fill_grid(self.compare_grid, rows, self._theme)
        self.compare_box.show()
        self.sentence.setText(cmp.sentence)
        self.sentence.setFont(font(self._theme, bold=True))
        self.sentence.show()

    def _compare_chosen(self, index: int) -> None:
        if self._syncing:
            return
        try:
            self.scene.set_compare_kernel(self.compare_combo.itemData(index))
            self.compare_message.setText("")
        except SceneError as e:
            self.compare_message.setText(str(e))
            self._syncing = True
            try:
                self.compare_combo.setCurrentIndex(max(0, self.compare_combo.findData(self.scene.compare_kernel)))
            finally:
                self._syncing = False


def set_text(label: QLabel, text: str) -> None:
    """Set a label's text only when it changed."""
    # a new text re-lays out a word-wrapped label's whole column: skip the ones that did not change
    if label.text() != text:
        label.setText(text)


def _can_run(scene, kernel: str) -> bool:
    try:
        scene.memory_totals(kernel)
    except SceneError:
        return False
    return True


def _fill_grid(grid: QGridLayout, rows: list[list[str]], theme: Theme) -> None:
    """Replace ``grid``'s cells with ``rows`` of text: the first row and column bold, numbers right-aligned."""
    while grid.count():
        item = grid.takeAt(0)
        old = item.widget()
        if old is not None:
            # out of the tree now: deleteLater alone leaves it painted until the loop gets to it
            old.hide()
            old.setParent(None)
            old.deleteLater()
    for i, row in enumerate(rows):
        for j, text in enumerate(row):
            label = QLabel(text)
            # a table of figures: a little smaller than body text, so it fits a side dock on a projector (0.9:
            # the least a slide's figure text may be)
            label.setFont(font(theme, bold=(i == 0 or j == 0), scale=0.9))
            align = Qt.AlignmentFlag.AlignLeft if j == 0 else Qt.AlignmentFlag.AlignRight
            grid.addWidget(label, i, j, align | Qt.AlignmentFlag.AlignVCenter)
            # shown now, not when the event loop gets to it (as a layout would): measured at once on a slide
            label.show()


def _grid_text(grid: QGridLayout) -> str:
    lines = []
    for i in range(grid.rowCount()):
        cells = []
        for j in range(grid.columnCount()):
            item = grid.itemAtPosition(i, j)
            if item is not None and item.widget() is not None:
                cells.append(item.widget().text())
        if cells:
            lines.append(" | ".join(cells))
    return "\n".join(lines)


def _display(scene, array: str) -> str:
    """What the scenario calls ``array`` (``"A"`` is ``W`` in the dense-layer presets)."""
    return scene.display_name(array) if hasattr(scene, "display_name") else array
