"""File → Export…: the app's export dialog, and "Copy frame to clipboard".

The dialog only chooses what to export; the pixels come from
:mod:`gpuviz.ui.export`, the same render path as ``gpuviz export`` on the
command line, so a picture from the dialog and one from the CLI agree for the
same scene, theme and size. The dialog remembers its last folder, format and
size (QSettings, under ``export/``) so that it opens where the lecturer left
it; those never reach the renderer. Problems (a size out of range, an empty
step range, a folder that cannot be written, a scene the panel cannot show)
are one sentence next to the field or above the buttons, never a traceback.
"""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import QSize, Qt
from PyQt6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressDialog,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..model.budget import DEFAULT_MEMORY
from ..model.panel import ParamsError
from . import theme as themes
from .export import (
    MAX_SIZE,
    ExportCancelled,
    ExportError,
    ExportMemoryError,
    check_memory,
    check_size,
    check_target,
    export_panel,
    export_window,
    render_frames,
    steps_of,
)
from .style import FieldMessage

#: The size presets (physical pixels); "Custom" takes any size up to 8K.
SIZE_PRESETS = (("1920 × 1080 (Full HD)", (1920, 1080)), ("3840 × 2160 (4K, sharp)", (3840, 2160)))
#: Format → what the format box says.
FORMAT_NAMES = {"png": "PNG image", "svg": "SVG (vector, text stays text)", "gif": "GIF animation of steps"}
DEFAULT_SIZE = SIZE_PRESETS[0][1]

# the dialog's own remembered choices: where the files went, not how they look
_FOLDER, _FORMAT, _SIZE = "folder", "format", "size"

SLIDE_TIP = ("Slide: just the figure, for a lecture slide. Controls, input fields, the timeline and side columns "
             "are hidden; the figure gets a large title (the scenario's), its legend and the key step's caption, "
             "in slide-sized fonts on a light background (so the dark theme is off while this is on).")

#: Memory an export may use (the command line's default ``--memory``): a bigger one is refused at the size.
MEMORY_BUDGET = DEFAULT_MEMORY

#: Errors an export may raise for a bad request or a bad scene, shown inline: one type (ExportError and the
#: panels' refusals are all ParamsErrors); anything else is a bug and is not dressed up as a message.
_ERRORS = (ParamsError,)


def _remembered(settings, key: str, default: str) -> str:
    # disabled settings (tests, --screenshot) read nothing: the default then
    return settings.export_choice(key, default) if settings is not None else default


def _parse_size(text: str):
    try:
        width, height = (int(v) for v in str(text).lower().replace("×", "x").split("x"))
        return check_size((width, height))
    except (ValueError, ExportError):
        return None


def remembered_size(settings) -> tuple[int, int]:
    """The export dialog's last size (``1920×1080`` on a first start): also the clipboard's."""
    return _parse_size(_remembered(settings, _SIZE, "")) or DEFAULT_SIZE


def copy_frame_to_clipboard(window, size, theme=None, slide: bool = False) -> str | None:
    """Put ``window``'s current panel, rendered at ``size``, on the clipboard as an image.

    ``theme`` defaults to the window's. The status bar says what was copied. Returns None when an
    image was copied, else the one sentence that says why not (the caller shows it).
    """
    panel = window.current_panel()
    if panel is None:
        return "Could not copy the frame: there is no panel."
    try:
        image = render_frames(type(panel), window.export_scenario(panel), size,
                              theme=window.theme if theme is None else theme, slide=slide)[0]
    except _ERRORS as e:
        return f"Could not copy the frame: {e}"
    QApplication.clipboard().setImage(image)
    window.show_status(f"Copied the current frame of “{panel.title}” ({image.width()}×{image.height()}) "
                       f"to the clipboard")
    return None


class _Message(FieldMessage):
    """A FieldMessage whose height follows its wrapped sentence at its real width.

    A word-wrapped label's size hint guesses a narrow, tall shape; in a dialog's form that guess
    leaves an empty band under a one-line message.
    """

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        if self.isHidden():
            return hint
        width = max(self.width(), 360)
        return QSize(hint.width(), self.heightForWidth(width))

    def minimumSizeHint(self) -> QSize:
        # the whole sentence, never a line of it: the dialog grows to show it (its layout's minimum)
        return self.sizeHint() if not self.isHidden() else super().minimumSizeHint()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self.updateGeometry()


class ExportDialog(QDialog):
    """File → Export…: the current panel or the whole window as PNG, SVG or a GIF of a step range.

    Parameters
    ----------
    window : gpuviz.ui.main_window.MainWindow
        The window whose current panel (or itself) is exported; its settings hold the dialog's
        remembered folder, format and size.

    Notes
    -----
    Export (the dialog's accept) writes the file and closes the dialog; any problem stays in the
    dialog as one sentence and the previous file is untouched (writes are atomic). A GIF renders on
    the GUI thread with a progress dialog whose Cancel stops it between frames.
    """

    def __init__(self, window, parent=None):
        super().__init__(parent if parent is not None else window)
        self.main_window = window
        self.setWindowTitle("Export")
        self.setModal(True)
        self.progress_dialog: QProgressDialog | None = None
        self._steps_cache: dict = {}  # (panel id, scenario) → range or the ExportError text
        self._theme = None

        self.what_box = QComboBox()
        self.what_box.addItem("Current panel", "panel")
        self.what_box.addItem("Whole window (menus, tabs, status bar)", "window")
        self.what_box.setToolTip("The current panel alone (drawn afresh from its scene), or the window as it is")

        self.format_box = QComboBox()
        for key, text in FORMAT_NAMES.items():
            self.format_box.addItem(f"{text} (.{key})", key)

        self.size_box = QComboBox()
        for text, _size in SIZE_PRESETS:
            self.size_box.addItem(text)
        self.size_box.addItem("Custom…")
        self.size_box.setToolTip("Pictures above 1920×1080 are the same layout drawn sharper, with thicker lines")
        self.width_edit, self.height_edit = QLineEdit(), QLineEdit()
        for edit, what in ((self.width_edit, "Width"), (self.height_edit, "Height")):
            edit.setPlaceholderText(what.lower())
            edit.setToolTip(f"{what} in pixels, 1 to {MAX_SIZE[0] if what == 'Width' else MAX_SIZE[1]}")
            edit.setMaximumWidth(90)
        size_row = QWidget()
        lay = QHBoxLayout(size_row)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.size_box, 1)
        lay.addWidget(self.width_edit)
        lay.addWidget(QLabel("×"))
        lay.addWidget(self.height_edit)
        self.size_message = _Message()

        self.theme_box = QComboBox()
        self.theme_box.addItem("Current", "current")
        self.theme_box.addItem("Light", "light")
        self.theme_box.addItem("Dark", "dark")
        self.theme_box.setToolTip("The look of the picture; the app keeps its own")
        self.slide = QCheckBox("Slide: just the figure, with title, legend and caption")
        self.slide.setToolTip(SLIDE_TIP)

        self.step_from, self.step_to = QSpinBox(), QSpinBox()
        for spin in (self.step_from, self.step_to):
            spin.setRange(0, 1_000_000)
        self.step_from.setToolTip("The first step of the animation (steps count from 0)")
        self.step_to.setToolTip("The step after the last one: the range is half-open, like --steps A:B")
        self.steps_text = QLabel()
        steps_row = QWidget()
        lay = QHBoxLayout(steps_row)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(QLabel("from"))
        lay.addWidget(self.step_from)
        lay.addWidget(QLabel("up to, not including"))
        lay.addWidget(self.step_to)
        lay.addWidget(self.steps_text, 1)
        self.steps_message = _Message()
        self.fps = QDoubleSpinBox()
        self.fps.setRange(0.5, 50.0)
        self.fps.setDecimals(1)
        self.fps.setValue(4.0)
        self.fps.setSuffix(" frames/s")

        self.path = QLineEdit()
        self.path.setToolTip("The file to write; its extension follows the format")
        choose = QPushButton("Choose…")
        choose.setToolTip("Pick the folder and file name")
        choose.clicked.connect(self._choose_path)
        path_row = QWidget()
        lay = QHBoxLayout(path_row)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.path, 1)
        lay.addWidget(choose)
        self.path_message = _Message()
        self.message = _Message()
        for message in (self.size_message, self.steps_message, self.path_message, self.message):
            # beside its icon, not centred below it when the row is taller than the sentence
            message.text.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)

        self.form = QFormLayout()
        self.form.addRow("Export", self.what_box)
        self.form.addRow("Format", self.format_box)
        self.form.addRow("Size", size_row)
        self.form.addRow("", self.size_message)
        self.form.addRow("Theme", self.theme_box)
        self.form.addRow("", self.slide)
        self.form.addRow("Steps", steps_row)
        self.form.addRow("", self.steps_message)
        self.form.addRow("Frame rate", self.fps)
        self.form.addRow("File", path_row)
        self.form.addRow("", self.path_message)

        self.buttons = QDialogButtonBox()
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setDefault(True)
        self.export_button.setToolTip("Write the file (Enter)")
        self.copy_button = self.buttons.addButton("Copy frame to clipboard", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.setToolTip("Copy the current panel's frame at this size as an image (Ctrl+Shift+C)")
        self.copy_button.clicked.connect(self.copy_frame)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        outer = QVBoxLayout(self)
        outer.addLayout(self.form)
        outer.addWidget(self.message)
        outer.addWidget(self.buttons)

        settings = window.settings
        self._folder = _remembered(settings, _FOLDER, str(Path.home()))
        fmt = _remembered(settings, _FORMAT, "png")
        self.format_box.setCurrentIndex(max(0, self.format_box.findData(fmt)))
        size = remembered_size(settings)
        index = next((i for i, (_, s) in enumerate(SIZE_PRESETS) if s == size), len(SIZE_PRESETS))
        self.size_box.setCurrentIndex(index)
        self.width_edit.setText(str(size[0]))
        self.height_edit.setText(str(size[1]))

        self.what_box.currentIndexChanged.connect(self._update)
        self.format_box.currentIndexChanged.connect(self._format_changed)
        self.size_box.currentIndexChanged.connect(self._size_choice_changed)
        self.width_edit.textChanged.connect(self._check_size_fields)
        self.height_edit.textChanged.connect(self._check_size_fields)
        self.slide.toggled.connect(self._update)
        self.step_from.valueChanged.connect(self._check_steps)
        self.step_to.valueChanged.connect(self._check_steps)
        self.path.textChanged.connect(lambda _text: self.path_message.clear())
        self.refresh()

    # -- what the window shows now --------------------------------------------------------------

    def refresh(self) -> None:
        """Catch up with the window: its current panel, scene and theme (called each time it opens)."""
        window = self.main_window
        panel = window.current_panel()
        self.what_box.setItemText(0, f"Current panel: {panel.title}" if panel is not None else "Current panel")
        self.theme_box.setItemText(0, f"Current ({window.theme.name})")
        self.set_theme(window.theme)
        self.message.clear()
        self.path.setText(str(Path(self._folder) / f"{self._stem()}.{self.fmt}"))
        self._size_choice_changed()
        self._format_changed()

    def set_theme(self, theme: themes.Theme) -> None:
        self._theme = theme
        for message in (self.size_message, self.steps_message, self.path_message, self.message):
            message.set_theme(theme)

    def _stem(self) -> str:
        panel = self.main_window.current_panel()
        return "gpuviz-window" if self.what_box.currentData() == "window" or panel is None else panel.panel_id

    @property
    def fmt(self) -> str:
        return self.format_box.currentData()

    # -- fields -----------------------------------------------------------------------------------

    def _format_changed(self) -> None:
        text = self.path.text().strip()
        if text:
            self.path.setText(str(Path(text).with_suffix(f".{self.fmt}")))
        self._update()

    def _update(self) -> None:
        window_export = self.what_box.currentData() == "window"
        gif_item = self.format_box.model().item(self.format_box.findData("gif"))
        gif_item.setEnabled(not window_export)
        if window_export and self.fmt == "gif":
            self.format_box.setCurrentIndex(self.format_box.findData("png"))  # comes back here through _format_changed
            return
        # a window is exported in its own theme and as it is: no slide look
        self.theme_box.setEnabled(not window_export)
        self.slide.setEnabled(not window_export)
        if window_export and self.slide.isChecked():
            self.slide.setChecked(False)
        slide = self.slide.isChecked()
        dark_current = self.main_window.theme.dark
        for key, enabled in (("current", not (slide and dark_current)), ("dark", not slide)):
            self.theme_box.model().item(self.theme_box.findData(key)).setEnabled(enabled)
        if slide and not self.theme_box.model().item(self.theme_box.currentIndex()).isEnabled():
            self.theme_box.setCurrentIndex(self.theme_box.findData("light"))
        gif = self.fmt == "gif"
        for row in (6, 7, 8):  # steps, their message, frame rate
            self.form.setRowVisible(row, gif)
        if gif:
            self._load_steps()
        stem = self._stem()
        text = self.path.text().strip()
        if text and Path(text).stem in ("gpuviz-window", *self._panel_ids()) and Path(text).stem != stem:
            self.path.setText(str(Path(text).with_name(f"{stem}.{self.fmt}")))

    def _panel_ids(self) -> list[str]:
        return [p.panel_id for p in self.main_window.panels]

    def _size_choice_changed(self) -> None:
        index = self.size_box.currentIndex()
        custom = index >= len(SIZE_PRESETS)
        for edit in (self.width_edit, self.height_edit):
            edit.setEnabled(custom)
        if not custom:
            width, height = SIZE_PRESETS[index][1]
            self.width_edit.setText(str(width))
            self.height_edit.setText(str(height))
        self._check_size_fields()

    def _check_size_fields(self):
        """The size in the fields, or None with the reason shown under them."""
        texts = (self.width_edit.text().strip(), self.height_edit.text().strip())
        try:
            width, height = (int(t) for t in texts)
        except ValueError:
            self.size_message.show_message("Write the width and the height as whole numbers of pixels, "
                                           "e.g. 1920 × 1080.")
            return None
        if not (1 <= width <= MAX_SIZE[0] and 1 <= height <= MAX_SIZE[1]):
            self.size_message.show_message(f"{width} × {height} is out of range: each side must be at least "
                                           f"1 pixel, and at most {MAX_SIZE[0]} × {MAX_SIZE[1]} (8K).")
            return None
        self.size_message.clear()
        return width, height

    def _scenario(self):
        window = self.main_window
        panel = window.current_panel()
        return panel, (window.export_scenario(panel) if panel is not None else None)

    def _load_steps(self) -> None:
        """Ask a copy of the panel which steps its scene has (once per scene) and offer all of them."""
        panel, scenario = self._scenario()
        if panel is None:
            return
        key = (panel.panel_id, repr(scenario))
        first = key not in self._steps_cache
        if first:
            try:
                self._steps_cache[key] = steps_of(type(panel), scenario)
            except _ERRORS as e:
                self._steps_cache[key] = str(e)
        available = self._steps_cache[key]
        if first and isinstance(available, range):
            self.step_from.setValue(available.start)
            self.step_to.setValue(available.stop)
        self._check_steps()

    def available_steps(self):
        """The current scene's steps (a range), or the sentence that says why it has none."""
        panel, scenario = self._scenario()
        return self._steps_cache.get((panel.panel_id, repr(scenario))) if panel is not None else None

    def _check_steps(self):
        """The chosen half-open step range, or None with the reason shown next to it."""
        start, stop = self.step_from.value(), self.step_to.value()
        count = stop - start
        self.steps_text.setText(f"steps {start} to {stop - 1} ({count} frame{'s' if count != 1 else ''})"
                                if count > 0 else "no steps")
        available = self.available_steps()
        if isinstance(available, str):
            self.steps_message.show_message(f"No animation of this view: {available}.")
            return None
        if count <= 0:
            self.steps_message.show_message(f"The range is empty: “up to” must be above “from” ({start}); "
                                            f"e.g. {start} to {start + 8} is 8 frames.")
            return None
        if available is not None and (start not in available or stop - 1 not in available):
            self.steps_message.show_message(
                f"Steps {start} to {stop - 1} are out of range: this scene's steps are {available.start} to "
                f"{available.stop - 1} (at most from {available.start} up to {available.stop}).")
            return None
        self.steps_message.clear()
        return range(start, stop)

    def _choose_path(self) -> None:
        fmt = self.fmt
        path, _ = QFileDialog.getSaveFileName(self, "Export to", self.path.text(),
                                              f"{FORMAT_NAMES[fmt]} (*.{fmt})")
        if path:
            self.path.setText(str(Path(path).with_suffix(f".{fmt}")))

    def _check_path(self):
        text = self.path.text().strip()
        if not text:
            self.path_message.show_message("Choose a file to write.")
            return None
        path = Path(text).expanduser()
        if path.suffix.lower() != f".{self.fmt}":
            path = path.with_suffix(f".{self.fmt}")
            self.path.setText(str(path))
        try:
            check_target(path)  # a missing or read-only folder, a folder or FIFO in the way: before any drawing
        except ExportError as e:
            # the field shows the whole path: the message names the file only
            text, whole = str(e), f"{path}: "
            self.path_message.show_message(f"{path.name}: {text[len(whole):]}." if text.startswith(whole)
                                           else f"{text}.")
            return None
        self.path_message.clear()
        return path

    # -- doing it ---------------------------------------------------------------------------------

    def _chosen_theme(self):
        key = self.theme_box.currentData()
        return self.main_window.theme if key == "current" else key

    def request(self) -> dict | None:
        """What Export would do, checked; None when a field is wrong (its message then says why)."""
        size = self._check_size_fields()
        path = self._check_path()
        steps = self._check_steps() if self.fmt == "gif" else None
        if size is None or path is None or (self.fmt == "gif" and steps is None):
            return None
        try:
            check_memory(f".{self.fmt}", size, len(steps) if steps is not None else 1, MEMORY_BUDGET)
        except ExportMemoryError as e:
            self.size_message.show_message(f"Too big: {e}. Choose a smaller size.")
            return None
        return {"what": self.what_box.currentData(), "format": self.fmt, "size": size, "path": path,
                "theme": self._chosen_theme(), "slide": self.slide.isChecked(), "steps": steps,
                "fps": self.fps.value()}

    def accept(self) -> None:
        """Export; the dialog closes only when the file was written."""
        if self.export() is not None:
            super().accept()

    def export(self) -> Path | None:
        """Write the file the fields describe; None (and a message in the dialog) when it was not written."""
        self.message.clear()
        req = self.request()
        if req is None:
            return None
        window = self.main_window
        path = req["path"]
        progress = self._progress(len(req["steps"])) if req["format"] == "gif" else None
        # a panel export sets its theme on the application while the copy renders; the window and this
        # dialog must not repaint in it meanwhile (a GIF lets events run between frames)
        frozen = [w for w in (window, self) if req["what"] != "window" and w.updatesEnabled()]
        try:
            if req["what"] == "window":
                written = export_window(window, path, req["size"])
            else:
                panel, scenario = self._scenario()
                for w in frozen:
                    w.setUpdatesEnabled(False)
                written = export_panel(type(panel), scenario, path, req["size"], theme=req["theme"],
                                       steps=req["steps"], fps=req["fps"], slide=req["slide"], progress=progress)
        except ExportCancelled:
            self.message.show_message(f"Cancelled: nothing was written, and {path.name} is as it was.")
            return None
        except OSError as e:
            self.message.show_message(f"Could not write {path}: {e.strerror or e}.")
            return None
        except _ERRORS as e:
            self.message.show_message(f"Could not export: {e}")
            return None
        finally:
            for w in frozen:
                w.setUpdatesEnabled(True)
            if self.progress_dialog is not None:
                self.progress_dialog.close()
                self.progress_dialog.deleteLater()
                self.progress_dialog = None
        self._remember(req)
        w, h = req["size"]
        window.show_status(f"Exported {written} ({w}×{h})")
        return written

    def _progress(self, total: int):
        dialog = QProgressDialog(f"Rendering {total} frames…", "Cancel", 0, total, self)
        dialog.setWindowTitle("Exporting")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(0)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.setValue(0)
        self.progress_dialog = dialog

        def progress(done: int, total: int) -> bool:
            dialog.setMaximum(total)
            dialog.setValue(done)
            dialog.setLabelText(f"Rendered frame {done} of {total}…")
            # frames render on the GUI thread: let the Cancel click in between them
            QApplication.processEvents()
            return not dialog.wasCanceled()

        return progress

    def _remember(self, req: dict) -> None:
        settings = self.main_window.settings
        self._folder = str(req["path"].parent)
        if settings is not None:
            settings.set_export_choice(_FOLDER, self._folder)
            settings.set_export_choice(_FORMAT, req["format"])
            settings.set_export_choice(_SIZE, f"{req['size'][0]}x{req['size'][1]}")

    def copy_frame(self) -> bool:
        """The current panel's frame at the dialog's size (theme, slide) on the clipboard."""
        size = self._check_size_fields()
        if size is None:
            return False
        self.message.clear()
        problem = copy_frame_to_clipboard(self.main_window, size, self._chosen_theme(), self.slide.isChecked())
        if problem is not None:
            self.message.show_message(problem)
            return False
        return True


__all__ = ["ExportDialog", "SIZE_PRESETS", "copy_frame_to_clipboard", "remembered_size"]
