"""The window builds the panel it shows; the other tabs' panels come when shown, asked for, or in idle time.

This is what keeps start-up under a second (scripts/bench_startup.py): the
tests check that a panel built late is the same panel a first start would have
had: wired to the status bar, in the window's theme, following matmul, and
in lecture mode's look when it is shown there.
"""

from __future__ import annotations

from gpuviz.ui import theme as themes


def built_ids(window):
    return [p.panel_id for p in window.built_panels]


def test_a_first_start_builds_only_the_panel_it_shows(make_main_window):
    window = make_main_window(show=False)
    assert built_ids(window) == ["matmul"]
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == [
        "Matmul on the GPU", "Broadcasting", "Weight gradients", "Speed", "The hardware"]


def test_showing_a_tab_builds_its_panel_in_the_windows_theme(make_main_window, qtbot):
    window = make_main_window(show=False)
    window.set_theme("dark")
    window.tabs.setCurrentIndex(1)
    assert "broadcast" in built_ids(window)
    panel = window.current_panel()
    assert panel.panel_id == "broadcast" and panel.isVisibleTo(window)
    assert panel.theme is window.theme and window.theme is themes.DARK


def test_asking_for_a_panel_builds_that_one_only(make_main_window):
    window = make_main_window(show=False)
    grad = window.panel("grad")
    assert grad is not None and grad.panel_id == "grad"
    assert built_ids(window) == ["matmul", "grad"]
    assert window.tabs.indexOf(grad) == 2
    window.tabs.setCurrentWidget(grad)
    assert window.current_panel() is grad
    assert window.panel("no-such-panel") is None


def test_the_other_tabs_are_built_in_idle_time_after_the_first_show(make_main_window, qtbot):
    window = make_main_window()
    qtbot.waitUntil(lambda: len(window.built_panels) == 5, timeout=20000)
    assert built_ids(window) == ["matmul", "broadcast", "grad", "speed", "hardware"]
    assert all(p.theme is window.theme for p in window.built_panels)


def test_a_panel_built_late_reports_to_the_status_bar(make_main_window, qtbot):
    window = make_main_window(show=False)
    window.tabs.setCurrentWidget(window.panel("broadcast"))
    panel = window.current_panel()
    panel.status_changed.emit("a broadcast status")
    assert window.panel_status.text() == "a broadcast status"


def test_the_hardware_panel_built_late_follows_matmuls_current_launch(make_main_window):
    window = make_main_window(show=False)
    matmul = window.panel("matmul")
    matmul.scene.configure(m=64, n=48, k=16)
    assert "hardware" not in built_ids(window)
    hardware = window.panel("hardware")
    assert hardware.model.launch == matmul.scene.launch
    matmul.scene.configure(m=96)
    assert hardware.model.params.m == 96


def test_a_tab_first_shown_in_lecture_mode_wears_the_lecture_look(make_main_window, qtbot):
    window = make_main_window()
    window._prebuild.stop()  # this test wants the speed tab unbuilt when it is first shown
    window.set_lecture_mode(True, fullscreen=False)
    assert "speed" not in built_ids(window)
    window.tabs.setCurrentIndex(3)
    speed = window.current_panel()
    assert speed.panel_id == "speed" and speed.lecture and speed.theme is window.theme
    assert not window.panel("matmul").lecture
    window.set_lecture_mode(False)
    assert not speed.lecture


def test_a_preset_of_a_tab_not_built_builds_only_that_tab(make_main_window):
    window = make_main_window(show=False)
    scenario = window.find_preset("20-pitfall-m1")
    assert scenario is not None and scenario.panel == "broadcast"
    assert built_ids(window) == ["matmul"]  # finding it read the preset files, not the panels
    assert window.apply_scenario(scenario, source="preset")
    assert built_ids(window) == ["matmul", "broadcast"]
    assert window.current_panel().panel_id == "broadcast"

