"""The shared widgets that keep long texts readable in a narrow side bar (gpuviz/ui/style.py)."""

from __future__ import annotations

from PyQt6.QtCore import QMimeData, Qt
from PyQt6.QtWidgets import QVBoxLayout, QWidget

from gpuviz.ui.style import ElidedLabel, ElidingComboBox, WrappingLineEdit

LONG = "[[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [11, 12, 13, 14, 15, 16, 17, 18, 19, 20], [21, 22, 23, 24, 25, 26]]"


def _in_column(qtbot, widget, width=260):
    holder = QWidget()
    lay = QVBoxLayout(holder)
    lay.addWidget(widget)
    lay.addStretch(1)
    qtbot.addWidget(holder)
    holder.resize(width, 400)
    holder.show()
    qtbot.waitExposed(holder)
    return holder


def test_a_long_value_wraps_onto_more_lines_up_to_the_limit(qtbot):
    edit = WrappingLineEdit(max_lines=4)
    holder = _in_column(qtbot, edit)
    edit.setText("7")
    one = edit.height()
    edit.setText(LONG)
    qtbot.waitUntil(lambda: edit.height() > one)
    assert edit.text() == LONG
    assert edit.document().size().height() >= 2  # wrapped, not scrolled sideways
    edit.setText(LONG * 6)  # far more than four lines: four, and a scroll bar
    qtbot.waitUntil(lambda: edit.height() <= 4 * edit.fontMetrics().lineSpacing() + 20)
    assert edit.verticalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAsNeeded
    holder.resize(900, 400)  # wider: fewer lines, a shorter box
    edit.setText(LONG)
    qtbot.waitUntil(lambda: edit.height() == one or edit.document().size().height() == 1)


def test_enter_commits_and_never_types_a_line_break(qtbot):
    edit = WrappingLineEdit()
    holder = _in_column(qtbot, edit)  # noqa: F841 (kept: the column owns the widget)
    edit.setText("[1, 2]")
    with qtbot.waitSignal(edit.editingFinished, timeout=1000):
        edit.setFocus()
        edit.moveCursor(edit.textCursor().MoveOperation.End)
        qtbot.keyClicks(edit, ", 3]")
        qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert "\n" not in edit.text() and edit.text().endswith(", 3]")
    data = QMimeData()
    data.setText("[4,\n5]")
    edit.insertFromMimeData(data)
    assert "\n" not in edit.text() and "[4, 5]" in edit.text()


def test_the_combo_box_elides_its_entry_and_names_it_whole_in_the_tooltip(qtbot):
    box = ElidingComboBox("The lecture's examples")
    title = "Tiles in shared memory: 64×64×64, 8×8 tiles, each element read 8 times instead of 64"
    box.addItem("short", None)
    box.addItem(title, None)
    holder = _in_column(qtbot, box, width=200)  # noqa: F841 (kept: the column owns the widget)
    assert box.minimumSizeHint().width() < box.fontMetrics().horizontalAdvance(title)
    box.setCurrentIndex(1)
    assert box.toolTip().splitlines() == [title, "The lecture's examples"]
    box.setCurrentIndex(0)
    assert box.toolTip().splitlines()[0] == "short"


def test_the_elided_label_keeps_its_text_and_says_it_whole_when_cut(qtbot):
    label = ElidedLabel()
    text = "wave 409 of 0–409: blocks 16,360–16,383 on SMs 0–23"
    label.setText(text)
    holder = _in_column(qtbot, label, width=900)
    assert label.shown_text() == text and label.toolTip() == ""
    sixteen = label.fontMetrics().horizontalAdvance("0" * ElidedLabel.MIN_CHARS)
    assert label.minimumSizeHint().width() <= sixteen < label.fontMetrics().horizontalAdvance(text)
    label.setText("step 0 of 0–5")  # a short text is never cut: its whole width is the least
    assert label.minimumSizeHint().width() >= label.fontMetrics().horizontalAdvance("step 0 of 0–5")
    label.setText(text)
    holder.resize(40, 400)  # narrower than its least width: it keeps that, 16 characters, and elides the rest
    qtbot.waitUntil(lambda: label.width() <= label.minimumSizeHint().width())
    assert label.text() == text
    assert label.shown_text().endswith("…") and label.toolTip() == text
