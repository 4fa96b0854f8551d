"""The main window: menus and shortcuts, lecture mode, themes, remembered settings, scenarios, export, start-up.

Window tests go through the ``make_main_window`` fixture (tests/ui/conftest.py).
Dispatch tests use ``RecordingPanel``, a test double that records what the
window asks of it; everything else runs on the real panels.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QImage, QKeySequence
from PyQt6.QtWidgets import QApplication, QLabel, QVBoxLayout

from gpuviz.model.scenario import Scenario
from gpuviz.ui import theme as themes
from gpuviz.ui.main_window import TITLE, render_widget
from gpuviz.ui.panel import Panel
from gpuviz.ui.settings import Settings

REPO = Path(__file__).resolve().parents[2]

#: A well-formed scenario of a panel this version does not have (the broadcast panel exists now).
LATER_PANEL_SCENARIO = 'schema = 1\npanel = "speed"\ntitle = "A later panel\'s scenario"\n\n[params]\nsize = 256\n'


class RecordingPanel(Panel):
    """A panel that draws a label in its theme's colours and records every call the window makes."""

    panel_id = "recording"
    title = "Recording"

    def __init__(self):
        super().__init__()
        self.calls = []
        self.label = QLabel("recording panel")
        QVBoxLayout(self).addWidget(self.label)

    def set_theme(self, theme):
        super().set_theme(theme)
        self.calls.append(("set_theme", theme.name))

    def play_pause(self):
        self.calls.append(("play_pause",))

    def step_by(self, delta):
        self.calls.append(("step_by", delta))

    def first_step(self):
        self.calls.append(("first_step",))

    def last_step(self):
        self.calls.append(("last_step",))

    def faster(self):
        self.calls.append(("faster",))

    def slower(self):
        self.calls.append(("slower",))

    def presets(self):
        return []

    def set_slide(self, on):
        self.calls.append(("set_slide", bool(on)))
        self.slide = bool(on)

    def scenario(self, title):
        return Scenario(self.panel_id, title, {"text": self.label.text()})

    def apply_scenario(self, scenario):
        self.calls.append(("apply_scenario", scenario.title))
        self.label.setText(scenario.params["text"])

    def shutdown(self):
        self.calls.append(("shutdown",))

    def timeline_calls(self):
        return [c for c in self.calls if c[0] not in ("set_theme", "shutdown")]


@pytest.fixture
def recording_window(make_main_window):
    panel = RecordingPanel()
    window = make_main_window(panels=[panel])
    panel.calls.clear()
    return window, panel


def image_array(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGBA8888)
    ptr = image.constBits()
    ptr.setsize(image.sizeInBytes())
    return np.frombuffer(ptr, np.uint8).reshape(image.height(), image.bytesPerLine())[:, :image.width() * 4] \
        .reshape(image.height(), image.width(), 4).copy()


# -- menus and shortcuts ---------------------------------------------------------------------------

MENU_SHORTCUTS = {
    "File": {"Open scenario…": "Ctrl+O", "Save scenario…": "Ctrl+S", "Export…": "Ctrl+E", "Quit": "Ctrl+Q"},
    "Edit": {"Copy frame to clipboard": "Ctrl+Shift+C"},
    "View": {"Lecture mode": "F5", "Play / pause": "Space", "Step forward": "Right", "Step back": "Left",
             "First step": "Home", "Last step": "End", "Faster": "+", "Slower": "-"},
    "Help": {"About gpuviz": ""},
}


def menus(window):
    return {a.text().replace("&", ""): a.menu() for a in window.menuBar().actions() if a.menu()}


def test_window_title_and_menus_show_their_shortcuts(recording_window):
    window, _ = recording_window
    assert window.windowTitle() == TITLE
    found = menus(window)
    assert list(found) == ["File", "Edit", "View", "Help"]
    for menu_name, expected in MENU_SHORTCUTS.items():
        actions = {a.text().replace("&", ""): a for a in found[menu_name].actions() if not a.isSeparator()}
        for text, key in expected.items():
            assert text in actions, f"{menu_name} → {text} missing: {list(actions)}"
            assert actions[text].shortcut().toString() == key, text
            if key:
                # the key is in the tooltip too
                assert f"({QKeySequence(key).toString(QKeySequence.SequenceFormat.NativeText)})" \
                    in actions[text].toolTip()
    theme_menu = next(a.menu() for a in found["View"].actions() if a.menu())
    radios = [a for a in theme_menu.actions()]
    assert [a.text() for a in radios] == ["Light", "Dark"]
    assert all(a.isCheckable() for a in radios) and radios[0].actionGroup().isExclusive()


@pytest.mark.parametrize("key, call", [
    (Qt.Key.Key_Space, ("play_pause",)),
    (Qt.Key.Key_Right, ("step_by", 1)),
    (Qt.Key.Key_Left, ("step_by", -1)),
    (Qt.Key.Key_Home, ("first_step",)),
    (Qt.Key.Key_End, ("last_step",)),
    (Qt.Key.Key_Plus, ("faster",)),
    (Qt.Key.Key_Minus, ("slower",)),
])
def test_shortcuts_dispatch_to_the_current_panel(recording_window, qtbot, key, call):
    window, panel = recording_window
    qtbot.keyClick(window, key)
    assert panel.timeline_calls() == [call]


def test_menu_actions_dispatch_to_the_current_panel(recording_window):
    window, panel = recording_window
    for name in ("play", "forward", "back", "first", "last", "faster", "slower"):
        window.actions_by_name[name].trigger()
    assert panel.timeline_calls() == [("play_pause",), ("step_by", 1), ("step_by", -1), ("first_step",),
                                      ("last_step",), ("faster",), ("slower",)]


def test_only_the_current_panel_gets_the_keys(make_main_window, qtbot):
    first, second = RecordingPanel(), RecordingPanel()
    second.panel_id, second.title = "second", "Second"
    window = make_main_window(panels=[first, second])
    window.tabs.setCurrentWidget(second)
    first.calls.clear()
    second.calls.clear()
    qtbot.keyClick(window, Qt.Key.Key_Right)
    assert first.timeline_calls() == [] and second.timeline_calls() == [("step_by", 1)]


def test_panel_status_and_backend_in_the_status_bar(recording_window, qtbot):
    window, panel = recording_window
    panel.status_changed.emit("step 3/40: line 12")
    assert window.panel_status.text() == "step 3/40: line 12"
    qtbot.waitUntil(lambda: window.backend_info is not None, timeout=120_000)
    info = window.backend_info
    expected = f"GPU: {info['gpu_name']}" if info.get("gpu_available") else "CUDA simulator (CPU): no CUDA GPU found ("
    assert window.backend_label.full_text().startswith(expected)
    if not info.get("gpu_available"):  # the reason, in one line, as --info gives it
        assert window.backend_label.full_text().endswith(f"({info['error']})") and "\n" not in window.backend_label.full_text()


def test_backend_lookup_does_not_block_the_gui_thread(make_main_window, qtbot, monkeypatch):
    import threading

    release = threading.Event()
    panel = RecordingPanel()
    window = make_main_window(panels=[panel], show=False)

    def slow_gpu_info():
        release.wait(30)
        return {"gpu_available": True, "gpu_name": "Test GPU 9000"}

    monkeypatch.setattr(window.engine, "gpu_info", slow_gpu_info)
    window.show()
    qtbot.waitExposed(window)
    qtbot.wait(200)  # the event loop turns while the lookup waits
    assert window.backend_label.full_text() == "looking for a GPU…"
    release.set()
    qtbot.waitUntil(lambda: window.backend_label.full_text() == "GPU: Test GPU 9000", timeout=5000)


def test_about_lists_versions_and_the_backend(recording_window, qtbot):
    from importlib import metadata

    window, _ = recording_window
    qtbot.waitUntil(lambda: window.backend_info is not None, timeout=120_000)
    about = window.show_about()
    text = about.text()
    for dist in ("PyQt6", "pyqtgraph", "numpy", "numba", "numba-cuda"):
        assert dist in text and metadata.version(dist) in text
    assert ("CUDA simulator (CPU)" in text) != bool(window.backend_info.get("gpu_available"))
    assert not about.isModal()
    about.close()


# -- themes and lecture mode -----------------------------------------------------------------------


def window_colour(app):
    c = app.palette().color(app.palette().ColorRole.Window)
    return (c.red(), c.green(), c.blue())


def test_theme_switch_reaches_the_app_and_the_panels(recording_window):
    import pyqtgraph as pg

    window, panel = recording_window
    app = QApplication.instance()
    assert window_colour(app) == themes.LIGHT.background
    window.actions_by_name["theme_dark"].trigger()
    assert window.theme is themes.DARK and panel.theme is themes.DARK
    assert window_colour(app) == themes.DARK.background
    assert pg.getConfigOption("background") == themes.DARK.panel_background
    assert window.actions_by_name["theme_dark"].isChecked() and not window.actions_by_name["theme_light"].isChecked()
    window.actions_by_name["theme_light"].trigger()
    assert panel.theme is themes.LIGHT and window_colour(app) == themes.LIGHT.background


def test_lecture_mode_enters_with_f5_and_esc_restores_theme_and_geometry(recording_window, qtbot):
    window, panel = recording_window
    app = QApplication.instance()
    window.set_theme("dark")
    window.resize(1500, 900)
    qtbot.wait(10)
    normal_points = app.font().pointSizeF()
    qtbot.keyClick(window, Qt.Key.Key_F5)
    assert window.lecture_mode and window.actions_by_name["lecture"].isChecked()
    assert window.windowState() & Qt.WindowState.WindowFullScreen
    lecture = themes.lecture_theme(window.screen().geometry().height())
    assert window.theme == lecture and panel.theme is window.theme
    assert app.font().pointSizeF() == pytest.approx(normal_points * lecture.font_scale)
    assert panel.lecture and panel.slide  # the figure-first look
    assert window.menuBar().isHidden() and window.statusBar().isHidden()
    assert window_colour(app) == themes.LECTURE.background
    # the theme radios wait for lecture mode to end
    assert not window.actions_by_name["theme_dark"].isEnabled()

    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert not window.lecture_mode and not window.actions_by_name["lecture"].isChecked()
    assert not window.windowState() & Qt.WindowState.WindowFullScreen
    assert window.theme is themes.DARK and panel.theme is themes.DARK
    assert app.font().pointSizeF() == pytest.approx(normal_points)
    assert not panel.lecture and not panel.slide
    assert not window.menuBar().isHidden() and not window.statusBar().isHidden()
    qtbot.waitUntil(lambda: (window.width(), window.height()) == (1500, 900), timeout=2000)
    # Esc outside lecture mode does nothing
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert window.theme is themes.DARK


def test_lecture_mode_menu_item_toggles(recording_window):
    window, _ = recording_window
    window.actions_by_name["lecture"].trigger()
    assert window.lecture_mode
    window.actions_by_name["lecture"].trigger()
    assert not window.lecture_mode and window.theme is themes.LIGHT


# -- remembered settings ---------------------------------------------------------------------------


def test_first_start_fits_the_screen_and_a_remembered_geometry_is_clamped(make_main_window, tmp_path):
    from PyQt6.QtCore import QRect

    from gpuviz.ui.main_window import clamp_to_screens

    area = QApplication.primaryScreen().availableGeometry()
    first = make_main_window(panels=[RecordingPanel()], size=None)
    QApplication.processEvents()
    assert area.contains(first.frameGeometry())  # the frame too: nothing off the screen
    assert first.width() >= min(1920, area.width()) - 20 and first.height() >= min(1080, area.height()) - 40
    # last time's monitor was bigger than today's projector: shrunk to it and moved onto it
    big = QRect(area.x() + 300, area.y() + 200, area.width() + 900, area.height() + 400)
    assert area.contains(clamp_to_screens(big))
    assert clamp_to_screens(big).size() == area.size()
    # a window remembered on a screen that is gone comes back on this one, its size kept when it fits
    gone = QRect(area.right() + 5000, 40, 400, 300)
    clamped = clamp_to_screens(gone)
    assert area.contains(clamped) and clamped.size() == gone.size()
    path = tmp_path / "big.ini"
    remembered = Settings.at(path)
    remembered.geometry = big
    remembered.theme = "light"
    second = make_main_window(settings=remembered, panels=[RecordingPanel()], size=None)
    QApplication.processEvents()
    assert area.contains(second.frameGeometry())


def test_lecture_drawer_lends_the_controls_without_resizing_the_figure(make_main_window, qtbot):
    from gpuviz.ui.matmul.panel import MatmulPanel

    window = make_main_window(panels=[MatmulPanel()], size=(1280, 720))
    window.show()
    panel = window.current_panel()
    places = {id(w): (w.parentWidget(), w.isHidden()) for w in panel.chrome_widgets()}
    window.set_lecture_mode(True, fullscreen=False)
    qtbot.wait(20)
    assert panel.lecture and all(w.isHidden() for w in panel.chrome_widgets())
    qtbot.wait(200)  # pyqtgraph lays its plots out in later events
    figure_before = [r.getRect() for r in panel.data_rects()]
    assert figure_before
    qtbot.keyClick(window, Qt.Key.Key_F6)
    qtbot.wait(200)
    assert window.drawer_open and window.drawer.isVisible()
    assert all(w.isVisibleTo(window) and window.drawer.isAncestorOf(w) for w in panel.chrome_widgets())
    assert [r.getRect() for r in panel.data_rects()] == figure_before  # the drawer floats over the figure
    # Esc closes the drawer first, and everything goes back where it was
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert window.lecture_mode and not window.drawer_open
    assert all(not window.drawer.isAncestorOf(w) for w in panel.chrome_widgets())
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert not window.lecture_mode
    assert {id(w): (w.parentWidget(), w.isHidden()) for w in panel.chrome_widgets()} == places
    # outside lecture mode F6 opens nothing: the controls are in the panel
    qtbot.keyClick(window, Qt.Key.Key_F6)
    assert not window.drawer_open


def test_in_the_drawer_a_one_row_timeline_puts_its_slider_on_its_own_row(make_main_window, qtbot):
    window = make_main_window(size=(1280, 720))
    panel = window.panel("broadcast")
    window.tabs.setCurrentWidget(panel)
    row_y = panel.timeline.slider.y()
    window.set_lecture_mode(True, fullscreen=False)
    window.set_drawer(True)
    qtbot.wait(100)
    timeline, drawer = panel.timeline, window.drawer
    assert drawer.isAncestorOf(timeline) and timeline.narrow
    assert timeline.slider.y() > timeline.play_button.y()  # under the buttons, not squeezed beside them
    # the drawer's column holds the whole timeline: nothing to scroll sideways to
    assert drawer.scroll.horizontalScrollBar().maximum() == 0
    assert timeline.slider.width() > drawer.width() / 2
    window.set_drawer(False)
    assert not timeline.narrow
    window.set_lecture_mode(False)
    qtbot.waitUntil(lambda: timeline.slider.y() == row_y)  # back beside the step text, as before


def test_settings_are_remembered_across_windows(make_main_window, tmp_path, qtbot):
    path = tmp_path / "remembered.ini"
    first = make_main_window(settings=Settings.at(path), panels=[RecordingPanel()])
    first.set_theme("dark")
    first.resize(700, 520)  # the offscreen test screen is 800×800: a size that fits it
    qtbot.wait(10)
    first.close()
    assert path.exists()

    second = make_main_window(settings=Settings.at(path), panels=[RecordingPanel()], size=None)
    assert second.theme is themes.DARK and second.actions_by_name["theme_dark"].isChecked()
    assert (second.width(), second.height()) == (700, 520)

    # lecture mode at close is not what is remembered: the theme and geometry from before it are
    second.set_lecture_mode(True)
    second.close()
    third = make_main_window(settings=Settings.at(path), panels=[RecordingPanel()], size=None)
    assert third.theme is themes.DARK and not third.lecture_mode
    assert (third.width(), third.height()) == (700, 520)


def test_disabled_settings_neither_read_nor_write(make_main_window, tmp_path):
    path = tmp_path / "remembered.ini"
    first = make_main_window(settings=Settings.at(path), panels=[RecordingPanel()])
    first.set_theme("dark")
    first.close()
    window = make_main_window(settings=Settings.disabled(), panels=[RecordingPanel()])
    assert window.theme is themes.LIGHT
    before = path.read_bytes()
    window.set_theme("dark")
    window.close()
    assert path.read_bytes() == before


# -- export ------------------------------------------------------------------------------------------


def test_render_widget_sizes_and_device_pixel_ratio(qtbot):
    panel = RecordingPanel()
    qtbot.addWidget(panel)
    image = render_widget(panel, 1920, 1080)
    assert (image.width(), image.height()) == (1920, 1080)
    crisp = render_widget(panel, 640, 360, dpr=2)
    assert (crisp.width(), crisp.height()) == (1280, 720) and crisp.devicePixelRatio() == 2
    pixels = image_array(image)
    assert len(np.unique(pixels.reshape(-1, 4), axis=0)) > 2  # the label was drawn, not just a background
    with pytest.raises(ValueError):
        render_widget(panel, 0, 10)


def test_export_draws_a_fresh_copy_from_the_scenario_and_theme(recording_window):
    window, panel = recording_window
    panel.label.setText("what the scene says")
    window.set_theme("dark")
    image = window.export_image(800, 450)
    assert (image.width(), image.height()) == (800, 450)
    pixels = image_array(image)
    assert tuple(pixels[1, 1, :3]) == themes.DARK.background
    # the live panel was neither resized nor re-themed by the export
    assert panel.size() != image.size() and panel.theme is themes.DARK


def test_export_png_writes_a_1920x1080_image(recording_window, tmp_path):
    window, _ = recording_window
    out = tmp_path / "panel.png"
    assert window.export_png(out)
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1920, 1080)
    assert "Exported" in window.statusBar().currentMessage()
    assert not window.export_png(tmp_path / "missing-folder" / "panel.png")
    assert "Could not export" in window.message_bar.text() and "does not exist" in window.message_bar.text()


# -- the GUI process and the command line ----------------------------------------------------------


def run_python(code: str, *, env=None, timeout=180):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO, env=env)


def test_gui_process_never_imports_numba(tmp_path):
    # a fresh process: the window with its real panels, the backend lookup done, a frame drawn
    code = f"""
        import json, sys
        from gpuviz.cli import build_parser
        from gpuviz.ui.app import build_window, create_application
        from gpuviz.ui.main_window import render_widget
        app = create_application()
        window = build_window(build_parser().parse_args([]), settings=__import__("gpuviz.ui.settings",
                              fromlist=["Settings"]).Settings.at({str(tmp_path / "s.ini")!r}))
        window.resize(1920, 1080)
        window.show()
        assert window.wait_for_backend(120)
        render_widget(window, 1920, 1080)
        window.close()
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("numba", "numba_cuda", "llvmlite"))
        print(json.dumps({{"heavy": heavy, "backend": window.backend_label.text(),
                           "qt": "PyQt6.QtWidgets" in sys.modules}}))
    """
    proc = run_python(code, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.splitlines()[-1])
    assert result["qt"] and result["heavy"] == []
    assert result["backend"] != "looking for a GPU…"


def gpuviz_cli(*args, env=None, timeout=180):
    return subprocess.run([sys.executable, "-m", "gpuviz", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO, env=env)


def test_screenshot_writes_a_png_of_the_requested_size(tmp_path):
    out = tmp_path / "shot.png"
    # no QT_QPA_PLATFORM and no display: --screenshot must go offscreen by itself
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    proc = gpuviz_cli("--screenshot", out, "--size", "1280x720", "--theme", "dark", env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "" and proc.stdout == ""
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1280, 720)
    pixels = image_array(image)
    # the dark theme's window colour fills the frame around the panels
    assert tuple(pixels[2, 2, :3]) == themes.DARK.background
    assert len(np.unique(pixels.reshape(-1, 4)[::97], axis=0)) > 20


def test_screenshot_with_a_scenario_and_lecture_mode(tmp_path):
    out = tmp_path / "lecture.png"
    proc = gpuviz_cli("--screenshot", out, "--size", "1600x1000", "--lecture",
                      "--scenario", REPO / "tests" / "data" / "scenarios" / "00-good.toml")
    assert proc.returncode == 0, proc.stderr
    pixels = image_array(QImage(str(out)))
    assert pixels.shape == (1000, 1600, 4)
    assert tuple(pixels[2, 2, :3]) == themes.LECTURE.background


@pytest.mark.parametrize("args, needle", [
    (["--screenshot", "shot.jpg"], ".png"),
    (["--size", "800x600"], "--screenshot"),
    (["--screenshot", "shot.png", "--size", "800"], "WIDTHxHEIGHT"),
    (["--screenshot", "no-such-folder/shot.png"], "does not exist"),
    (["--scenario", "no-such-file.toml", "--screenshot", "shot.png"], "no such file"),
    (["--preset", "no-such-preset", "--screenshot", "shot.png"], "no such preset"),
    (["--scenario", str(REPO / "tests" / "data" / "scenarios" / "bad-toml.toml"), "--screenshot", "shot.png"],
     "not valid TOML"),
    (["--scenario", "later-panel.toml", "--screenshot", "shot.png"], "speed"),
    (["--theme", "purple"], "invalid choice"),
    (["--lecture", "run", "--kernel", "naive", "--m", "4", "--n", "4", "--k", "4", "--block", "4x4"], "desktop app"),
])
def test_bad_gui_arguments_are_one_line(tmp_path, args, needle):
    (tmp_path / "later-panel.toml").write_text(LATER_PANEL_SCENARIO, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "gpuviz", *args], capture_output=True, text=True, timeout=180,
                          cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("gpuviz: error:") and "Traceback" not in proc.stderr
    assert needle in lines[0]
    assert not list(tmp_path.glob("*.png"))


def test_the_app_runs_its_event_loop_and_remembers_on_quit(tmp_path):
    # the interactive path of `gpuviz`: show, exec, quit (Ctrl+Q), settings written under XDG_CONFIG_HOME
    code = """
        import sys
        from PyQt6.QtCore import QTimer
        from gpuviz.cli import main
        from gpuviz.ui.app import create_application

        if __name__ == "__main__":
            app = create_application()
            def quit_when_shown():
                windows = [w for w in app.topLevelWidgets() if w.isVisible()]
                if not windows:
                    return QTimer.singleShot(100, quit_when_shown)
                windows[0].actions_by_name["quit"].trigger()
            QTimer.singleShot(500, quit_when_shown)
            sys.exit(main(["--theme", "dark", "--preset", "05-coalescing"]))
    """
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path)}
    proc = run_python(code, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    remembered = (tmp_path / "gpuviz" / "gpuviz.conf").read_text()
    assert "theme=dark" in remembered and "Coalescing" in remembered


def test_without_a_display_the_gui_says_so_in_one_line():
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    proc = gpuviz_cli(env=env, timeout=60)
    assert proc.returncode == 2
    assert len(proc.stderr.splitlines()) == 1 and "display" in proc.stderr and "--screenshot" in proc.stderr


NO_QT = textwrap.dedent("""
    import importlib.abc, sys

    class NoQt(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == "PyQt6":
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, NoQt())
""")


def test_without_pyqt6_the_gui_says_so_in_one_line(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(NO_QT)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(REPO)])}
    proc = gpuviz_cli(env=env, timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "PyQt6" in lines[0] and "Traceback" not in proc.stderr


# -- closing -----------------------------------------------------------------------------------------


def test_window_closes_cleanly_without_qt_warnings(make_main_window, qtbot, qtlog):
    panel = RecordingPanel()
    window = make_main_window(panels=[panel])
    qtbot.waitUntil(lambda: window.backend_info is not None, timeout=120_000)
    window.set_lecture_mode(True)
    window.set_lecture_mode(False)
    window.show_about()
    assert window.close()
    qtbot.wait(50)
    assert ("shutdown",) in panel.calls
    ours = [r for r in qtlog.records if not r.ignored]
    assert ours == []
    assert not window.isVisible()


# -- the real window: first start, scenarios, remembered state, export --------------------------------

BAD_SCENARIOS = sorted((REPO / "tests" / "data" / "scenarios").glob("bad-*.toml"))


def matmul(window):
    panel = window.panel("matmul")
    assert panel is not None and window.current_panel() is panel
    return panel


def test_first_start_shows_the_lecture_preset(main_window):
    panel = matmul(main_window)
    scene = panel.scene
    p = scene.params
    assert (p.kernel, p.m, p.n, p.k, tuple(p.block)) == ("naive", 32, 32, 32, (8, 8))
    grid = scene.launch.grid
    assert (grid.x, grid.y) == (4, 4) and scene.launch.warps_per_block == 2
    bx, by, _ = scene.selected.block
    assert by * grid.x + bx == 13  # the lecture's block 13
    assert main_window.theme is themes.LIGHT and panel.theme is themes.LIGHT
    assert main_window.message_bar.text() == ""


def test_keys_step_the_real_panel(main_window, qtbot):
    scene = matmul(main_window).scene
    qtbot.keyClick(main_window, Qt.Key.Key_Right)
    qtbot.keyClick(main_window, Qt.Key.Key_Right)
    assert scene.step == 2
    qtbot.keyClick(main_window, Qt.Key.Key_Left)
    assert scene.step == 1
    qtbot.keyClick(main_window, Qt.Key.Key_End)
    assert scene.step == scene.n_steps - 1
    assert main_window.panel_status.text()  # the panel says where it is
    qtbot.keyClick(main_window, Qt.Key.Key_Home)
    assert scene.step == 0


@pytest.mark.parametrize("path", BAD_SCENARIOS + ["not-toml", "later-panel"], ids=lambda p: getattr(p, "name", p))
def test_malformed_scenario_shows_a_message_and_keeps_the_picture(main_window, tmp_path, path):
    if path == "not-toml":
        path = tmp_path / "garbage.toml"
        path.write_bytes(b"\x00\x01 this is [[[ not a scenario")
    elif path == "later-panel":  # a well-formed scenario of a panel this version does not have
        path = tmp_path / "later-panel.toml"
        path.write_text(LATER_PANEL_SCENARIO, encoding="utf-8")
    scene = matmul(main_window).scene
    before = (scene.params, scene.view_state())
    assert main_window.open_scenario(path) is False
    message = main_window.message_bar.text()
    assert path.name in message or "speed" in message, message
    assert "Traceback" not in message
    assert main_window.message_bar.isVisible()
    assert (scene.params, scene.view_state()) == before
    assert QApplication.activeModalWidget() is None  # no dialog popped up


def test_scenario_save_and_open_round_trip(main_window, tmp_path):
    panel = matmul(main_window)
    coalescing = main_window.find_preset("05-coalescing")
    assert coalescing is not None and main_window.apply_scenario(coalescing)
    panel.scene.set_step(3)
    out = tmp_path / "mine.toml"
    assert main_window.save_scenario(out)
    saved = (panel.scene.params, panel.scene.view_state())
    assert main_window.apply_scenario(main_window.find_preset("01-lecture-grid"))
    assert panel.scene.params != saved[0]
    assert main_window.open_scenario(out)
    assert (panel.scene.params, panel.scene.view_state()) == saved
    assert main_window.settings.scenario_path == str(out)


def test_last_scenario_theme_and_geometry_come_back(make_main_window, tmp_path, qtbot):
    settings = tmp_path / "last.ini"
    first = make_main_window(settings=Settings.at(settings))
    assert first.apply_scenario(first.find_preset("04-tiled-64"))
    matmul(first).scene.set_step(7)
    first.set_theme("dark")
    first.resize(1600, 900)
    qtbot.wait(10)
    state = (matmul(first).scene.params, matmul(first).scene.view_state())
    first.close()

    second = make_main_window(settings=Settings.at(settings), size=None)
    assert (matmul(second).scene.params, matmul(second).scene.view_state()) == state
    assert second.theme is themes.DARK and (second.width(), second.height()) == (1600, 900)


def test_a_broken_remembered_scenario_falls_back_to_the_lecture_preset(make_main_window, tmp_path):
    settings = Settings.at(tmp_path / "broken.ini")
    settings.theme = "light"
    settings.scenario_text = 'schema = 1\npanel = "matmul"\ntitle = "x"\n[params]\nm = "thirty-two"\n'
    settings.sync()
    window = make_main_window(settings=settings)
    assert "could not be restored" in window.message_bar.text()
    assert matmul(window).scene.params.m == 32 and matmul(window).scene.selected.block[:2] == (1, 3)


def test_export_depends_on_scene_and_theme_not_on_remembered_settings(make_main_window, tmp_path, qtbot):
    # one window whose remembered settings say: dark theme, another preset, a small odd-shaped window
    remembered = Settings.at(tmp_path / "remembered.ini")
    odd = make_main_window(settings=remembered)
    odd.apply_scenario(odd.find_preset("05-coalescing"))
    odd.set_theme("dark")
    odd.resize(1111, 777)
    odd.close()
    a = make_main_window(settings=Settings.at(tmp_path / "remembered.ini"), size=None)
    assert a.theme is themes.DARK and a.width() == 1111
    b = make_main_window(settings=Settings.disabled(), size=(1300, 900))
    for window in (a, b):
        window.set_theme("light")
        assert window.apply_scenario(window.find_preset("01-lecture-grid"))
    qtbot.wait(50)
    pa = image_array(a.export_image())
    pb = image_array(b.export_image())
    assert pa.shape == (1080, 1920, 4)
    assert np.array_equal(pa, pb), f"{np.count_nonzero((pa != pb).any(axis=2))} pixels differ"
    # and the theme does change them
    b.set_theme("dark")
    qtbot.wait(50)
    pd = image_array(b.export_image())
    assert np.count_nonzero((pa != pd).any(axis=2)) > 100_000


def test_lecture_mode_reaches_the_real_panel(main_window, qtbot):
    panel = matmul(main_window)
    normal = main_window.export_image()
    qtbot.keyClick(main_window, Qt.Key.Key_F5)
    assert panel.theme.name == "lecture" and panel.theme is main_window.theme and panel.lecture
    assert panel.theme == themes.lecture_theme(main_window.screen().geometry().height())
    lecture = main_window.export_image()
    assert not np.array_equal(image_array(normal), image_array(lecture))
    qtbot.keyClick(main_window, Qt.Key.Key_Escape)
    assert panel.theme is themes.LIGHT


def test_text_fields_keep_their_keys(main_window, qtbot):
    from PyQt6.QtWidgets import QLineEdit

    scene = matmul(main_window).scene
    edit = next(e for e in matmul(main_window).findChildren(QLineEdit) if e.isVisible() and not e.isReadOnly())
    edit.setFocus()
    qtbot.waitUntil(edit.hasFocus, timeout=2000)
    edit.setCursorPosition(0)
    for key in (Qt.Key.Key_Right, Qt.Key.Key_End, Qt.Key.Key_Home):
        qtbot.keyClick(edit, key)
    assert scene.step == 0 and edit.cursorPosition() == 0  # the cursor moved, the timeline did not
    edit.clearFocus()
    main_window.setFocus()
    qtbot.keyClick(main_window, Qt.Key.Key_Right)
    assert scene.step == 1


class LayoutPanel(RecordingPanel):
    """A panel with a remembered layout: one splitter."""

    panel_id = "layoutpanel"

    def __init__(self):
        super().__init__()
        from PyQt6.QtWidgets import QSplitter

        self.splitter = QSplitter()
        self.splitter.addWidget(QLabel("left"))
        self.splitter.addWidget(QLabel("right"))
        self.layout().addWidget(self.splitter)

    def save_state(self) -> bytes:
        return bytes(self.splitter.saveState().data())

    def restore_state(self, state: bytes) -> bool:
        from PyQt6.QtCore import QByteArray

        return self.splitter.restoreState(QByteArray(state))


def test_splitter_sizes_are_remembered(make_main_window, tmp_path, qtbot):
    path = tmp_path / "layout.ini"
    first = make_main_window(settings=Settings.at(path), panels=[LayoutPanel()], size=(1200, 700))
    first.current_panel().splitter.setSizes([900, 300])
    qtbot.wait(10)
    sizes = first.current_panel().splitter.sizes()
    first.close()
    second = make_main_window(settings=Settings.at(path), panels=[LayoutPanel()], size=None)
    qtbot.wait(10)
    assert second.current_panel().splitter.sizes() == sizes


def test_only_the_panel_on_screen_sets_the_windows_least_size(make_main_window):
    from PyQt6.QtWidgets import QSizePolicy

    small, wide = RecordingPanel(), LayoutPanel()
    wide.splitter.setMinimumWidth(3000)  # a layout far wider than the screen, on a tab not shown
    window = make_main_window(panels=[small, wide], size=(1000, 700))
    assert window.minimumSizeHint().width() < 1500 and window.tabs.minimumSizeHint().width() < 1500
    # the tab's page (the panel's slot) is what the tab stack sizes by
    page = window.tabs.slot_of
    assert page(wide).sizePolicy().horizontalPolicy() == QSizePolicy.Policy.Ignored
    window.tabs.setCurrentWidget(wide)
    assert page(small).sizePolicy().horizontalPolicy() == QSizePolicy.Policy.Ignored
    assert page(wide).sizePolicy().horizontalPolicy() != QSizePolicy.Policy.Ignored
    assert window.tabs.minimumSizeHint().width() >= 3000
    window.tabs.setCurrentWidget(small)
    assert window.tabs.minimumSizeHint().width() < 1500


def test_on_a_2x_screen_panels_draw_lines_twice_as_many_device_pixels_wide(make_main_window, monkeypatch):
    panel = RecordingPanel()
    window = make_main_window(panels=[panel])
    assert panel.theme is window.theme  # ratio 1: the theme itself
    monkeypatch.setattr(window, "_pixel_ratio", lambda: 2.0)
    window._screen_changed(None)  # dragged onto a HiDPI screen
    assert panel.theme.line_scale == 2 * window.theme.line_scale
    assert panel.theme.layout_line_scale == window.theme.layout_line_scale  # the layout is the same
    assert panel.theme.pixel_ratio == 2
    monkeypatch.setattr(window, "_pixel_ratio", lambda: 1.0)
    window._screen_changed(None)
    assert panel.theme is window.theme
