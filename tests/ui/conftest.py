"""The one fixture that creates and tears down gpuviz main windows, and the Qt log rules of tests/ui.

Every test under tests/ui fails on a Qt warning of ours (pytest-qt's
``qt_log_level_fail``); the offscreen platform's notices that it "does not
support propagateSizeHints()" (logged on every ``show()``) or ``raise()`` are
Qt's and are ignored.
"""

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

#: Qt messages that are not ours: the offscreen platform logs these on show() and raise().
QT_NOISE = r"This plugin does not support (propagateSizeHints|raise)\(\)"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.qt_log_level_fail("WARNING"))
            item.add_marker(pytest.mark.qt_log_ignore(QT_NOISE))


@pytest.fixture(autouse=True, scope="session")
def _shipped_fonts(qapp):
    """Every test draws in the fonts the app ships, whatever fonts this machine has (gpuviz.ui.fonts)."""
    from gpuviz.ui.fonts import register_fonts

    register_fonts()


@pytest.fixture
def make_main_window(qtbot, tmp_path, engine):
    """Factory of shown main windows: 1920×1080, settings in an INI file under ``tmp_path``, the session's engine.

    ``make_main_window(settings=..., panels=..., restore=..., size=..., show=...)``;
    every window it made is closed (panels shut down, settings saved to the
    isolated file) at teardown.
    """
    from PyQt6.QtCore import QEvent
    from PyQt6.QtWidgets import QApplication

    from gpuviz.ui.main_window import MainWindow
    from gpuviz.ui.settings import Settings

    made = []

    def make(*, settings=None, panels=None, restore=True, size=(1920, 1080), show=True):
        if settings is None:
            settings = Settings.at(tmp_path / "settings.ini")
        window = MainWindow(engine=engine, settings=settings, panels=panels, restore=restore)
        qtbot.addWidget(window)
        made.append(window)
        if size is not None:
            window.resize(*size)
        if show:
            window.show()
            window.activateWindow()
            qtbot.waitExposed(window)
            # keyboard shortcuts only reach the active window
            qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5000)
        return window

    yield make
    for window in made:
        # the windows share the session's engine, which must not be closed under a lookup in flight
        window.finish_backend_lookup(120)
        window.close()
        window.deleteLater()
    # delete them now, while this fixture still holds their Python wrappers, rather than in
    # whichever later test next turns the event loop
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    made.clear()


@pytest.fixture
def main_window(make_main_window):
    """The gpuviz window as a user first sees it: real panels, first start, 1920×1080, isolated settings."""
    return make_main_window()
