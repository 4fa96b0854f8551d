"""The table of measurements, copied as CSV with a button or Ctrl+C (the model writes the CSV)."""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QKeySequence
from PyQt6.QtWidgets import QAbstractItemView, QApplication, QHeaderView, QTableWidget, QTableWidgetItem

from ...model.speed import impl_note
from ..style import font, hex_colour, mix
from ..theme import LIGHT, Theme
from .style import SIZE_NAMES, SIZE_SHORT, format_ratio, format_seconds, impl_name

#: Column headers, short so that the table fits a 1280-pixel window; :data:`COLUMN_TIPS` says each in full.
COLUMNS = ("implementation", "size", "median", "min", "max", "runs", "JIT", "GFLOP/s", "× loop", "rel. error",
           "note")
COLUMN_TIPS = ("", "", "Median time per call", "Fastest call", "Slowest call", "Timed repeats",
               "Numba's JIT compile time (kept out of the times)", "Billions of floating-point operations per second",
               "Times as fast as the Python loop at this size", "Largest relative error against NumPy",
               "Why a measurement was skipped, or what to know about it")


class ResultsTable(QTableWidget):
    """One row per measurement of a :class:`~gpuviz.model.speed.BenchResults`, skipped ones with their reason.

    Ctrl+C (and :meth:`copy_csv`) puts the results on the clipboard as CSV,
    exactly as :meth:`BenchResults.to_csv <gpuviz.model.speed.BenchResults.to_csv>`
    writes them (full precision, the machine in a leading ``#`` line).
    """

    def __init__(self, parent=None, theme: Theme = LIGHT):
        super().__init__(0, len(COLUMNS), parent)
        self.results = None
        self.op: str | None = None
        self.theme = theme
        # what each row shows now: a row whose text and colours are unchanged is not set again (a run
        # redraws the table a few times a second, and only its new rows differ)
        self._shown_rows: list[tuple] = []
        self.setHorizontalHeaderLabels(COLUMNS)
        for col, tip in enumerate(COLUMN_TIPS):
            if tip:
                self.horizontalHeaderItem(col).setToolTip(tip)
        # long names and notes wrap (rows grow) rather than widening the table past the panel
        self.setWordWrap(True)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setAlternatingRowColors(True)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(30)
        self.setToolTip("Ctrl+C copies the whole table as CSV")
        self.set_theme(theme)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.setFont(font(theme, scale=0.95))
        self.horizontalHeader().setFont(font(theme, bold=True, scale=0.95))
        self._shown_rows = []  # new colours and fonts: every row is set again
        self._fill()

    def set_results(self, results, op: str | None = None) -> None:
        """Show ``results``' measurements (of ``op`` only, when given); None empties the table."""
        self.results = results
        self.op = op
        self._fill()

    def rows(self) -> list[list[str]]:
        """The table's text, row by row (what a student reads)."""
        return [[self.item(r, c).text() for c in range(self.columnCount())] for r in range(self.rowCount())]

    def csv_text(self) -> str:
        """The CSV that Copy puts on the clipboard ("" with no results)."""
        return self.results.to_csv() if self.results is not None else ""

    def copy_csv(self) -> str:
        """Put :meth:`csv_text` on the clipboard; returns it."""
        text = self.csv_text()
        if text:
            QApplication.clipboard().setText(text)
        return text

    def keyPressEvent(self, event) -> None:
        if event.matches(QKeySequence.StandardKey.Copy):
            self.copy_csv()
            event.accept()
            return
        super().keyPressEvent(event)

    def _fill(self) -> None:
        r, op = self.results, self.op
        ms = [] if r is None else [m for m in r.measurements if op is None or m.op == op]
        speedups = r.speedups("python") if r is not None else {}
        self.setRowCount(len(ms))
        del self._shown_rows[len(ms):]
        t = self.theme
        muted = mix(t.foreground, t.panel_background, 0.6)
        if ms:
            size_op = ms[0].op if op else None
            self.horizontalHeaderItem(1).setText(SIZE_SHORT.get(size_op, "size"))
            self.horizontalHeaderItem(1).setToolTip(SIZE_NAMES.get(size_op, "size"))
        for row, m in enumerate(ms):
            measured = m.skipped is None and m.median_s is not None
            g = m.gflops()
            ratio = speedups.get((m.op, m.impl, m.size))
            note = m.skipped and f"skipped: {m.skipped}" or (impl_note(m.op, m.impl) or "")
            if m.correct is False:
                note = f"WRONG RESULT (rel. error {m.max_rel_error:.2g}); " + note
            if measured and m.noisy:
                note = f"NOISY: {m.noisy}" + (f"; {note}" if note else "")
            cells = [
                impl_name(m.impl),
                f"{m.size:,}",
                format_seconds(m.median_s) if measured else "—",
                format_seconds(m.min_s) if measured else "—",
                format_seconds(m.max_s) if measured else "—",
                str(m.repeats) if measured else "—",
                format_seconds(m.compile_s) if m.compile_s else "—",
                f"{g:.3g}" if g is not None and m.impl != "simulator" else "—",
                format_ratio(ratio) if ratio is not None and m.impl != "simulator" else "—",
                f"{m.max_rel_error:.1e}" if m.max_rel_error is not None else "—",
                note,
            ]
            shown = (tuple(cells), measured, m.correct is False)
            if row < len(self._shown_rows) and self._shown_rows[row] == shown:
                continue
            self._shown_rows[row:row + 1] = [shown]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col in (0, 10) and text:
                    item.setToolTip(text)
                if 1 <= col <= 9:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if not measured:
                    item.setForeground(_brush(muted))
                if col == 10 and m.correct is False:
                    item.setForeground(_brush((213, 94, 0)))
                self.setItem(row, col, item)
        sheet = f"QTableWidget {{ gridline-color: {hex_colour(muted)}; }}"
        if sheet != self.styleSheet():  # setting a style sheet restyles the whole table (milliseconds)
            self.setStyleSheet(sheet)
        # the names column as wide as its longest name, up to a limit past which names wrap
        metrics = self.fontMetrics()
        widest = max([metrics.horizontalAdvance(self.item(r, 0).text()) for r in range(self.rowCount())] +
                      [metrics.horizontalAdvance(COLUMNS[0])])
        self.setColumnWidth(0, min(widest + 16, round(170 * t.font_scale)))


def _brush(rgb):
    from PyQt6.QtGui import QBrush, QColor

    return QBrush(QColor(*rgb))


__all__ = ["COLUMNS", "ResultsTable"]
