"""File → Export… and Copy frame to clipboard: fields, inline messages, writing through the export path."""

from PIL import Image
from PyQt6.QtCore import QSettings, Qt, QTimer
from PyQt6.QtWidgets import QApplication, QDialog

from gpuviz.ui import theme as themes
from gpuviz.ui.export_dialog import ExportDialog


def open_dialog(window) -> ExportDialog:
    dialog = window.show_export_dialog()
    assert isinstance(dialog, ExportDialog) and dialog.isVisible()
    return dialog


def custom_size(dialog, width, height):
    dialog.size_box.setCurrentIndex(dialog.size_box.count() - 1)
    dialog.width_edit.setText(str(width))
    dialog.height_edit.setText(str(height))


def test_the_dialog_opens_from_ctrl_e_on_the_current_panel(main_window, qtbot):
    qtbot.keyClick(main_window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    dialog = main_window.export_dialog()
    assert dialog.isVisible()
    assert dialog.what_box.currentText() == "Current panel: Matmul on the GPU"
    assert dialog.fmt == "png" and dialog.size_box.currentIndex() == 0  # 1920×1080 on a first start
    assert dialog.path.text().endswith("matmul.png")
    assert not dialog.width_edit.isEnabled()  # a preset size: the fields show it, read-only
    assert "light background" in dialog.slide.toolTip()
    # the GIF rows only for a GIF, and the file's extension follows the format
    assert not dialog.step_from.isVisibleTo(dialog)
    dialog.format_box.setCurrentIndex(dialog.format_box.findData("gif"))
    assert dialog.step_from.isVisibleTo(dialog) and dialog.path.text().endswith("matmul.gif")
    # the lecture preset has 33 steps, 0 to 32: all of them are offered, half-open
    assert (dialog.step_from.value(), dialog.step_to.value()) == (0, 33)
    assert dialog.steps_text.text() == "steps 0 to 32 (33 frames)"
    dialog.step_to.setValue(8)
    assert dialog.steps_text.text() == "steps 0 to 7 (8 frames)"
    # a whole window is a PNG or SVG, in its own theme, never a slide
    dialog.what_box.setCurrentIndex(1)
    assert dialog.fmt == "png" and dialog.path.text().endswith("gpuviz-window.png")
    assert not dialog.slide.isEnabled() and not dialog.theme_box.isEnabled()


def test_custom_sizes_are_checked_inline(main_window):
    dialog = open_dialog(main_window)
    custom_size(dialog, 0, 100)
    assert "0 × 100 is out of range" in dialog.size_message.message
    custom_size(dialog, 7681, 100)
    assert "at most 7680 × 4320 (8K)" in dialog.size_message.message
    custom_size(dialog, "wide", 100)
    assert "whole numbers" in dialog.size_message.message
    assert dialog.export() is None and dialog.isVisible()
    custom_size(dialog, 7680, 4320)
    assert dialog.size_message.message == ""
    dialog.size_box.setCurrentIndex(1)
    assert (dialog.width_edit.text(), dialog.height_edit.text()) == ("3840", "2160")


def test_slide_turns_the_dark_theme_off(main_window):
    dialog = open_dialog(main_window)
    dark = dialog.theme_box.findData("dark")
    dialog.theme_box.setCurrentIndex(dark)
    dialog.slide.setChecked(True)
    assert not dialog.theme_box.model().item(dark).isEnabled()
    assert dialog.theme_box.currentData() == "light"
    dialog.slide.setChecked(False)
    assert dialog.theme_box.model().item(dark).isEnabled()
    # in a dark window, "current" is dark too
    main_window.set_theme("dark")
    dialog = open_dialog(main_window)
    dialog.slide.setChecked(True)
    assert not dialog.theme_box.model().item(dialog.theme_box.findData("current")).isEnabled()


def test_export_writes_the_requested_png_and_remembers_folder_format_and_size(main_window, tmp_path):
    dialog = open_dialog(main_window)
    custom_size(dialog, 320, 180)
    dialog.path.setText(str(tmp_path / "out" / "slide"))  # no extension yet, folder missing
    dialog.export_button.click()
    # checked before anything is drawn, and said at the path's field
    assert dialog.isVisible() and "does not exist" in dialog.path_message.message
    (tmp_path / "out").mkdir()
    dialog.export_button.click()
    assert dialog.result() == QDialog.DialogCode.Accepted and not dialog.isVisible()
    out = tmp_path / "out" / "slide.png"
    assert Image.open(out).size == (320, 180)
    assert "Exported" in main_window.statusBar().currentMessage()
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    assert settings.value("export/folder") == str(tmp_path / "out")
    assert (settings.value("export/format"), settings.value("export/size")) == ("png", "320x180")
    # the next dialog opens there
    again = open_dialog(main_window)
    assert again.path.text() == str(tmp_path / "out" / "matmul.png")
    assert (again.width_edit.text(), again.height_edit.text()) == ("320", "180")


def test_cancelling_a_gif_keeps_the_old_file_byte_identical(main_window, tmp_path, qtbot):
    target = tmp_path / "anim.gif"
    target.write_bytes(b"the previous animation")
    dialog = open_dialog(main_window)
    dialog.format_box.setCurrentIndex(dialog.format_box.findData("gif"))
    custom_size(dialog, 960, 540)  # big enough for every step to look different (GIF merges equal frames)
    dialog.step_to.setValue(6)
    dialog.path.setText(str(target))
    # Cancel is clicked while the frames render (they render on the GUI thread, events in between)
    QTimer.singleShot(0, lambda: dialog.progress_dialog.cancel())
    dialog.export_button.click()
    assert dialog.isVisible() and "Cancelled" in dialog.message.message
    assert target.read_bytes() == b"the previous animation"
    assert [p.name for p in tmp_path.iterdir() if p.name != "settings.ini"] == ["anim.gif"]
    assert dialog.progress_dialog is None
    # while frames render in the export's theme, the window and the dialog do not repaint; after, they do
    seen = []
    QTimer.singleShot(0, lambda: seen.append((main_window.updatesEnabled(), dialog.updatesEnabled())))
    # and without cancelling, it is written: one frame per step of the range
    dialog.export_button.click()
    assert seen == [(False, False)] and main_window.updatesEnabled()
    assert not dialog.isVisible()
    assert Image.open(target).n_frames == 6


def test_out_of_range_steps_and_a_view_without_steps_are_inline_messages(main_window, tmp_path):
    dialog = open_dialog(main_window)
    dialog.format_box.setCurrentIndex(dialog.format_box.findData("gif"))
    dialog.step_from.setValue(30)
    dialog.step_to.setValue(40)
    assert "out of range: this scene's steps are 0 to 32" in dialog.steps_message.message
    dialog.step_to.setValue(30)
    assert "The range is empty" in dialog.steps_message.message
    dialog.path.setText(str(tmp_path / "x.gif"))
    assert dialog.export() is None and not (tmp_path / "x.gif").exists()
    dialog.reject()
    # the gradients panel opens on its layer view, which has no steps to animate
    grad = main_window.panel("grad")
    assert main_window.apply_scenario(grad.presets()[0])
    dialog = open_dialog(main_window)
    dialog.format_box.setCurrentIndex(dialog.format_box.findData("gif"))
    assert "no steps" in dialog.steps_message.message


def test_copy_frame_puts_an_image_of_the_dialogs_size_on_the_clipboard(main_window, qtbot):
    clipboard = QApplication.clipboard()
    clipboard.clear()
    dialog = open_dialog(main_window)
    custom_size(dialog, 400, 225)
    dialog.copy_button.click()
    image = clipboard.image()
    assert (image.width(), image.height()) == (400, 225)
    assert "Copied the current frame" in main_window.statusBar().currentMessage()
    dialog.reject()
    # from the Edit menu: at the size the dialog last used (nothing remembered yet: 1920×1080)
    clipboard.clear()
    main_window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is main_window, timeout=5000)
    qtbot.keyClick(main_window, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    image = clipboard.image()
    assert (image.width(), image.height()) == (1920, 1080)


def test_the_whole_window_exports_from_the_dialog(main_window, tmp_path):
    dialog = open_dialog(main_window)
    dialog.what_box.setCurrentIndex(1)
    custom_size(dialog, 640, 360)
    dialog.path.setText(str(tmp_path / "window.png"))
    assert dialog.export() == tmp_path / "window.png"
    assert Image.open(tmp_path / "window.png").size == (640, 360)
    assert (main_window.width(), main_window.height()) == (1920, 1080)


def test_the_dialog_follows_the_lecture_theme(main_window):
    main_window.set_lecture_mode(True, fullscreen=False)
    dialog = open_dialog(main_window)
    assert dialog.theme_box.itemText(0) == "Current (lecture)"
    # lecture mode applies lecture_theme(screen height): LECTURE with the screen's slide font scale
    assert dialog._theme is main_window.theme and dialog._theme.name == themes.LECTURE.name


def test_a_path_that_cannot_take_the_file_is_refused_at_its_field_before_drawing(main_window, tmp_path):
    import os

    dialog = open_dialog(main_window)
    custom_size(dialog, 320, 180)
    os.mkfifo(tmp_path / "pipe.png")  # written to, it would block the window forever
    dialog.path.setText(str(tmp_path / "pipe.png"))
    dialog.export_button.click()
    assert dialog.isVisible() and "is a FIFO" in dialog.path_message.message
    (tmp_path / "dir.png").mkdir()
    dialog.path.setText(str(tmp_path / "dir.png"))
    dialog.export_button.click()
    assert dialog.isVisible() and "a folder is in the way" in dialog.path_message.message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.png", "pipe.png"]


def test_an_export_over_the_memory_budget_is_refused_at_the_size(main_window, tmp_path, monkeypatch):
    from gpuviz.ui import export_dialog

    monkeypatch.setattr(export_dialog, "MEMORY_BUDGET", 2**20)
    dialog = open_dialog(main_window)
    custom_size(dialog, 1920, 1080)
    dialog.path.setText(str(tmp_path / "big.png"))
    dialog.export_button.click()
    assert dialog.isVisible()
    assert "over the memory budget of 1.0 MiB" in dialog.size_message.message
    assert list(tmp_path.iterdir()) == []
    for _ in range(3):
        QApplication.processEvents()
    # the sentence wraps to several lines, and all of them show: the dialog grew, the row was not cut to one
    message = dialog.size_message
    assert message.text.heightForWidth(message.text.width()) > 1.5 * message.text.fontMetrics().height()
    assert message.height() >= message.sizeHint().height()
    custom_size(dialog, 160, 90)  # 16 bytes a pixel for a PNG: 230 KB
    dialog.export_button.click()
    assert not dialog.isVisible() and Image.open(tmp_path / "big.png").size == (160, 90)
