"""The main window: panels in tabs, menus with the lecture's shortcuts, status bar, lecture mode.

The window owns the engine (one per app), the theme and the remembered
settings; panels own what they draw. Everything a panel shows depends only on
its scene and the explicit theme it is given, so the window's remembered
settings choose what opens, never how it looks in an export.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PyQt6.QtCore import QRect, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QAction, QActionGroup, QGuiApplication, QImage, QKeySequence, QShortcut
from PyQt6.QtWidgets import (
    QApplication,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QSizePolicy,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..model.panel import ParamsError
from . import theme as themes
from .about import AboutDialog, backend_text
from .drawer import LectureDrawer
from .export import export_panel, render_frames, render_widget  # render_widget: still importable from here
from .jobs import JobAdapter
from .panel import Panel
from .settings import Settings
from .style import ElidedLines
from .tabs import PanelTabs

TITLE = "gpuviz — why matrices make deep learning fast"
EXPORT_SIZE = (1920, 1080)
#: The panels of tabs not shown at start are built this long after the window is first shown, one per
#: event-loop turn: after the first paint (start-up time) and before a lecturer's first click on a tab.
PREBUILD_DELAY_MS = 400

#: Errors a scenario file or a panel may raise for bad content: shown inline, never as a traceback.
#: What a scenario, a panel or an export refuses (one sentence each), and files that cannot be read or written.
#: Nothing else is caught: anything else is a bug, and must show as one.
SCENARIO_ERRORS = (ParamsError, OSError)


class MessageBar(QFrame):
    """A non-modal message strip above the panels (a file that would not open, a preset with errors)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("messageBar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setToolTip("Dismiss this message")
        close.setAutoRaise(True)
        close.clicked.connect(self.dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 4, 4, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self.hide()

    def show_message(self, text: str, theme: themes.Theme) -> None:
        self.label.setText(f"⚠  {text}")
        self.set_theme(theme)
        self.show()

    def set_theme(self, theme: themes.Theme) -> None:
        # vermillion border and a pale tint: a warning read by its text and its frame, not by colour alone
        border = themes.OKABE_ITO["vermillion"]
        tint = themes._blend(theme.panel_background, border, 0.12)
        self.setStyleSheet(
            f"#messageBar {{ background: rgb{tint}; border: {max(1, round(theme.pen_width(1.5)))}px solid "
            f"rgb{border}; border-radius: 3px; }} #messageBar QLabel {{ color: rgb{theme.foreground}; }}")

    def text(self) -> str:
        return self.label.text().removeprefix("⚠  ") if self.isVisibleTo(self.parentWidget()) else ""

    def dismiss(self) -> None:
        self.label.clear()
        self.hide()


def _default_views():
    """(panel id, tab title, build) of every registered panel, in the registry's (tab) order: matmul first,
    the window opens on its lecture preset."""
    from ..model import registry as models
    from . import registry

    return [(pid, models.spec(pid).title, registry.view_spec(pid)) for pid in registry.panel_ids()]


class MainWindow(QMainWindow):
    """The gpuviz window.

    Parameters
    ----------
    engine : gpuviz.engine.Engine or None
        Runs kernels for the panels and finds the backend; a new one (closed
        with the window) when None.
    settings : Settings or None
        What to restore at start and save at close; the user's
        ``QSettings("gpuviz", "gpuviz")`` when None. ``Settings.disabled()``
        opens as on a first start and remembers nothing.
    panels : list of Panel or None
        The panels, in tab order; every registered one (:mod:`gpuviz.ui.registry`) when None.
    restore : bool
        Restore geometry, theme and the last scenario from ``settings``.
        Without it (or on a first start) the window opens on the first panel's
        first preset, the lecture's own example.

    Notes
    -----
    The window is built hidden: callers apply arguments, then ``show()``.
    """

    #: Emitted once, in the GUI thread, with :meth:`gpuviz.engine.Engine.gpu_info`'s answer.
    backend_found = pyqtSignal(dict)
    #: Emitted when lecture mode is entered (True) or left (False).
    lecture_mode_changed = pyqtSignal(bool)

    def __init__(self, engine=None, settings: Settings | None = None, panels: list[Panel] | None = None,
                 restore: bool = True, parent=None):
        super().__init__(parent)
        if engine is None:
            from ..engine import Engine

            engine, self._owns_engine = Engine(), True
        else:
            self._owns_engine = False
        self.engine = engine
        self.settings = settings if settings is not None else Settings()
        self.theme: themes.Theme = themes.LIGHT
        self._applied_theme: themes.Theme | None = None  # what the app and panels were last given
        self._applied_ratio = 1.0  # the screen's device pixel ratio the panels' pens were scaled for
        self._chosen_theme = "light"  # light or dark: what lecture mode returns to
        self._lecture = False
        self._lecture_fullscreen = True  # lecture mode's text follows the screen's height, else the window's
        self._watching_screen = False  # screenChanged connected (the window handle exists once shown)
        self._before_lecture = None
        self._closed = False
        self._status: dict[int, str] = {}
        self._titles: dict[str, str] = {}
        self._about: AboutDialog | None = None
        self._export_dialog = None
        self._opened: dict = {}  # panel id → (scenario last opened in it, its params as the panel says)
        self.backend_info: dict | None = None
        # the backend lookup is an engine job (it starts a worker that imports numba: seconds)
        self._lookup = JobAdapter(self)
        self._lookup.finished.connect(self._on_backend_found)
        self._lookup_job = None

        self.setWindowTitle(TITLE)
        self.setObjectName("gpuvizMainWindow")
        self.message_bar = MessageBar()
        self.tabs = PanelTabs()
        self.tabs.setDocumentMode(True)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 0)
        layout.setSpacing(4)
        layout.addWidget(self.message_bar)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        # lecture mode's controls: over the figure, in no layout, so opening them never resizes it
        self.drawer = LectureDrawer(central)
        self.drawer_button = QToolButton()
        self.drawer_button.setText("☰ Controls (F6)")
        self.drawer_button.setToolTip("Show or hide this panel's controls over the figure (F6)")
        self.drawer_button.setAutoRaise(True)
        self.drawer_button.clicked.connect(self.toggle_drawer)
        self.tabs.setCornerWidget(self.drawer_button, Qt.Corner.TopRightCorner)
        self.drawer_button.hide()

        self.panel_status = QLabel()
        self.panel_status.setObjectName("panelStatus")
        # elided to the room it has (a long "no CUDA GPU found (…)" reason on a 1024-pixel projector), the
        # whole line in its tooltip
        self.backend_label = ElidedLines()
        self.backend_label.setObjectName("backendStatus")
        self._show_backend(None)
        self.statusBar().addWidget(self.panel_status, 3)
        self.statusBar().addWidget(self.backend_label, 2)

        self._panel_policy: dict = {}
        self._drawn_theme: themes.Theme | None = None  # what the panels were given (the theme at the ratio)
        # what the settings remember is restored: geometry, theme and scenario now, each panel's layout when built
        self._restoring = restore and self.settings.enabled
        self._prebuild = QTimer(self)  # the panels not shown yet are built in idle time after the first show
        self._prebuild.setSingleShot(True)
        self._prebuild.timeout.connect(self._build_next_panel)
        self.tabs.panel_built.connect(self._panel_built)
        if panels is not None:
            for panel in panels:
                self.add_panel(panel)
        else:
            # built when first shown or asked for: a first start builds only the panel it shows
            for panel_id, title, spec in _default_views():
                self.tabs.add_lazy(panel_id, title, lambda spec=spec: spec.build(self.engine))
        self._size_for_current_tab()
        self.tabs.currentChanged.connect(self._current_changed)
        self._build_menus()

        restored = self._restore() if self._restoring else False
        if not restored:
            self.set_theme("light")
            self.fit_to_screen()
            self.open_default()

    # -- panels -------------------------------------------------------------------------------

    def add_panel(self, panel: Panel) -> None:
        """A tab for a panel built by the caller (the registered ones are added, unbuilt, by the window)."""
        self.tabs.add_panel(panel)
        self._size_for_current_tab()

    def _panel_built(self, panel: Panel) -> None:
        """A panel was just built (or added): wire it to the window and give it what the others have."""
        panel.status_changed.connect(lambda text, p=panel: self._panel_status(p, text))
        if hasattr(panel, "set_gpu_info"):  # the speed panel enables its GPU implementations once one is found
            self.backend_found.connect(panel.set_gpu_info)
            if self.backend_info is not None:
                panel.set_gpu_info(self.backend_info)
        if self._drawn_theme is not None and panel.theme is not self._drawn_theme:
            panel.set_theme(self._drawn_theme)
        if self._restoring and hasattr(panel, "restore_state"):
            state = self.settings.panel_state(panel.panel_id)
            if state:
                panel.restore_state(state)
        if panel.follows and hasattr(panel, "link_panels"):
            # a panel that follows another's model (the hardware view follows matmul's launch): that one is
            # built now if it was not, so the link always has both ends
            panel.link_panels([p for p in (self.panel(pid) for pid in panel.follows) if p is not None])

    @property
    def panels(self) -> list[Panel]:
        """Every panel, in tab order (building any not built yet)."""
        return self.tabs.panels()

    @property
    def built_panels(self) -> list[Panel]:
        """The panels built so far: the ones shown, or asked for, since the window opened."""
        return self.tabs.built_panels()

    def current_panel(self) -> Panel | None:
        return self.tabs.currentWidget()

    def panel(self, panel_id: str) -> Panel | None:
        slot = self.tabs.slot(panel_id)
        return self.tabs.ensure(slot) if slot is not None else None

    def _build_next_panel(self) -> None:
        """Build one panel not built yet, then come back for the next: a first click on a tab is then instant."""
        if self._closed:
            return
        waiting = next((s for s in self.tabs.slots() if not s.built), None)
        if waiting is not None:
            self.tabs.ensure(waiting)
            self._prebuild.start(0)

    def _panel_status(self, panel: Panel, text: str) -> None:
        self._status[id(panel)] = text
        if panel is self.current_panel():
            self.panel_status.setText(text)

    def _size_for_current_tab(self) -> None:
        """Only the panel on screen sets the window's least size: a tab's stack otherwise takes the largest
        minimum of all its pages, and one panel's wide normal layout (in lecture-sized fonts, say) would push
        the window past a 1024×768 screen while another panel is shown."""
        current = QTabWidget.currentWidget(self.tabs)
        for slot in self.tabs.slots():
            if slot is current:
                slot.setSizePolicy(self._panel_policy.get(id(slot), slot.sizePolicy()))
            else:
                self._panel_policy.setdefault(id(slot), slot.sizePolicy())
                slot.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)

    def _current_changed(self, _index: int) -> None:
        self._size_for_current_tab()
        panel = self.current_panel()
        self.panel_status.setText(self._status.get(id(panel), "") if panel is not None else "")
        if self._lecture:
            # only the panel on screen wears the lecture look: the others keep their normal layout
            self.drawer.close_drawer()
            for other in self.built_panels:
                if other is not panel and other.lecture:
                    other.set_lecture(False)
            if panel is not None:
                panel.set_lecture(True)

    def _show_backend(self, info) -> None:
        text = backend_text(info)
        self.backend_label.set_parts("", [text])
        self.backend_label.setToolTip(f"{text}\nWhere “Run for real” computes: found by asking Numba in a worker")

    def _dispatch(self, method: str, *args) -> None:
        panel = self.current_panel()
        if panel is not None:
            getattr(panel, method)(*args)

    # -- menus --------------------------------------------------------------------------------

    def _action(self, text: str, slot, shortcut=None, tip: str = "", checkable: bool = False) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            keys = shortcut if isinstance(shortcut, (list, tuple)) else [shortcut]
            action.setShortcuts([QKeySequence(k) for k in keys])
            # WindowShortcut: the keys work wherever the focus is in the window, except in
            # text fields, which take Space, arrows, Home/End and +/− for themselves
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if tip:
            key = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            action.setToolTip(f"{tip} ({key})" if key else tip)
            action.setStatusTip(tip)
        action.setCheckable(checkable)
        (action.toggled if checkable else action.triggered).connect(slot)
        self.addAction(action)  # shortcuts work even when the menu bar is hidden
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        self.actions_by_name: dict[str, QAction] = {}
        a = self.actions_by_name

        file = bar.addMenu("&File")
        a["open"] = self._action("&Open scenario…", self._ask_open, QKeySequence.StandardKey.Open,
                                 "Open a scenario file (.toml)")
        a["save"] = self._action("&Save scenario…", self._ask_save, QKeySequence.StandardKey.Save,
                                 "Save what the current panel shows as a scenario file")
        a["export"] = self._action("&Export…", self.show_export_dialog, "Ctrl+E",
                                   "Write the current panel or the whole window as PNG, SVG or an animated GIF")
        a["quit"] = self._action("&Quit", self.close, "Ctrl+Q", "Close gpuviz")
        file.addActions([a["open"], a["save"]])
        file.addSeparator()
        file.addAction(a["export"])
        file.addSeparator()
        file.addAction(a["quit"])

        edit = bar.addMenu("&Edit")
        a["copy_frame"] = self._action("&Copy frame to clipboard", self.copy_frame, "Ctrl+Shift+C",
                                       "Copy the current panel's frame, at the export size, as an image")
        edit.addAction(a["copy_frame"])

        view = bar.addMenu("&View")
        a["lecture"] = self._action("&Lecture mode", self.set_lecture_mode, "F5",
                                    "Full screen, large text and thick lines for a projector; Esc leaves it",
                                    checkable=True)
        view.addAction(a["lecture"])
        a["drawer"] = self._action("Lecture &controls", self.toggle_drawer, "F6",
                                   "In lecture mode: show or hide the panel's controls over the figure")
        a["drawer"].setEnabled(False)
        view.addAction(a["drawer"])
        theme_menu = view.addMenu("&Theme")
        self.theme_group = QActionGroup(self)
        for name in ("light", "dark"):
            action = self._action(name.capitalize(), lambda on, n=name: on and self.set_theme(n),
                                  tip=f"{name.capitalize()} theme", checkable=True)
            self.theme_group.addAction(action)
            theme_menu.addAction(action)
            a[f"theme_{name}"] = action
        view.addSeparator()
        for name, text, slot, key, tip in (
            ("play", "&Play / pause", lambda: self._dispatch("play_pause"), "Space", "Play or pause the steps"),
            ("forward", "Step &forward", lambda: self._dispatch("step_by", 1), "Right", "Next step"),
            ("back", "Step &back", lambda: self._dispatch("step_by", -1), "Left", "Previous step"),
            ("first", "F&irst step", lambda: self._dispatch("first_step"), "Home", "Go to the first step"),
            ("last", "L&ast step", lambda: self._dispatch("last_step"), "End", "Go to the last step"),
            ("faster", "Fas&ter", lambda: self._dispatch("faster"), ["+", "=", "Ctrl++"], "Play faster"),
            ("slower", "Slo&wer", lambda: self._dispatch("slower"), ["-", "Ctrl+-"], "Play slower"),
        ):
            a[name] = self._action(text, slot, key, tip)
            view.addAction(a[name])

        help_menu = bar.addMenu("&Help")
        a["about"] = self._action("&About gpuviz", self.show_about, tip="Versions and the backend found")
        help_menu.addAction(a["about"])

        self.escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        self.escape.setContext(Qt.ShortcutContext.WindowShortcut)
        self.escape.activated.connect(self._escape)
        self.escape.setEnabled(False)

    # -- theme and lecture mode ---------------------------------------------------------------

    def set_theme(self, name: str) -> None:
        """Use the ``light`` or ``dark`` theme (in lecture mode: the one lecture mode returns to)."""
        if name not in ("light", "dark"):
            raise ValueError(f"unknown theme {name!r}: choose light or dark")
        self._chosen_theme = name
        # not blockSignals: the action group unchecks the other radio through them (the call this
        # makes back into set_theme finds everything in place)
        self.actions_by_name[f"theme_{name}"].setChecked(True)
        if not self._lecture:
            self._apply_theme(themes.THEMES[name])

    def _apply_theme(self, theme: themes.Theme) -> None:
        self.theme = theme
        ratio = self._pixel_ratio()
        if theme is self._applied_theme and ratio == self._applied_ratio:
            return
        self._applied_theme, self._applied_ratio = theme, ratio
        app = QApplication.instance()
        if app is not None:
            themes.apply_theme(app, theme)
        self.message_bar.set_theme(theme)
        # pens are cosmetic (device pixels): on a 2× screen they are drawn twice as wide, as an export at
        # ratio 2 draws them, so lines keep their proportions to the layout (layout_line_scale stays)
        drawn = theme if ratio == 1 else replace(theme, line_scale=theme.line_scale * ratio)
        self._drawn_theme = drawn  # a panel built later gets it when built
        # a panel redraws everything on set_theme (tens of ms): only those not in the theme yet
        for panel in self.built_panels:
            if panel.theme is not drawn:
                panel.set_theme(drawn)

    def _pixel_ratio(self) -> float:
        screen = self.screen()
        return float(screen.devicePixelRatio()) if screen is not None else 1.0

    def _screen_changed(self, _screen) -> None:
        # a window dragged from a laptop's HiDPI screen to a projector: the new ratio's pen widths
        self._apply_theme(self.theme)

    @property
    def lecture_mode(self) -> bool:
        return self._lecture

    def set_lecture_mode(self, on: bool, fullscreen: bool = True) -> None:
        """Enter or leave lecture mode (F5): the figure first, on the whole screen.

        Entering: full screen (unless ``fullscreen`` is False), no menu or status bar, the lecture theme
        sized for this screen's height (:func:`~gpuviz.ui.theme.lecture_theme`), and the current panel in
        its lecture look (:meth:`~gpuviz.ui.panel.Panel.set_lecture`: the figure alone, live). Its
        controls are one key away in the drawer (F6). Leaving (F5 or Esc) restores the theme, the bars,
        the window state and the geometry from before.
        """
        on = bool(on)
        if on == self._lecture:
            self.actions_by_name["lecture"].setChecked(on)
            return
        if on:
            self._before_lecture = (self.normalGeometry() if self.isVisible() else self.geometry(),
                                    self.windowState(), self.menuBar().isHidden(), self.statusBar().isHidden())
            self._lecture = True
            self._lecture_fullscreen = fullscreen
            self.menuBar().hide()
            self.statusBar().hide()
            if fullscreen:
                self.setWindowState(self.windowState() | Qt.WindowState.WindowFullScreen)
            self._apply_theme(self._lecture_theme())
            panel = self.current_panel()
            if panel is not None:
                panel.set_lecture(True)
        else:
            geometry, state, menu_hidden, status_hidden = (self._before_lecture
                                                           or (None, Qt.WindowState.WindowNoState, False, False))
            self.drawer.close_drawer()
            self._lecture = False
            # the normal theme first: the normal layout in lecture-sized fonts would need more room than the
            # window has (the window grew), and its smaller fonts shrink the minimum size the geometry respects
            self._apply_theme(themes.THEMES[self._chosen_theme])
            for panel in self.built_panels:
                if panel.lecture:
                    panel.set_lecture(False)
            self.menuBar().setHidden(menu_hidden)
            self.statusBar().setHidden(status_hidden)
            self.setWindowState(state)
            if geometry is not None and not state & (Qt.WindowState.WindowMaximized | Qt.WindowState.WindowFullScreen):
                self.setGeometry(geometry)
        for name in ("theme_light", "theme_dark"):
            self.actions_by_name[name].setEnabled(not on)
        self.actions_by_name["drawer"].setEnabled(on)
        self.drawer_button.setVisible(on)
        self.escape.setEnabled(on)
        action = self.actions_by_name["lecture"]
        action.blockSignals(True)
        action.setChecked(on)
        action.blockSignals(False)
        self.lecture_mode_changed.emit(on)

    def _lecture_height(self) -> float:
        """The height lecture mode's text follows: the screen's in full screen, else the window's."""
        if self._lecture_fullscreen:
            screen = self.screen() or QGuiApplication.primaryScreen()
            if screen is not None:
                return float(screen.geometry().height())
        return float(max(1, self.height()))

    def _lecture_theme(self) -> themes.Theme:
        theme = themes.lecture_theme(self._lecture_height())
        # the same look as last time is the same object: _apply_theme then redraws nothing
        current = self._applied_theme
        return current if current is not None and current == theme else theme

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._lecture and not self._lecture_fullscreen:
            self._apply_theme(self._lecture_theme())

    def moveEvent(self, event) -> None:
        super().moveEvent(event)
        if self._lecture and self._lecture_fullscreen:
            # full screen on another screen (a projector beside the laptop): that screen's height
            self._apply_theme(self._lecture_theme())

    @property
    def drawer_open(self) -> bool:
        return self.drawer.is_open

    def toggle_drawer(self, *_signal_args) -> None:
        """Open or close lecture mode's drawer of the current panel's controls (F6)."""
        self.set_drawer(not self.drawer.is_open)

    def set_drawer(self, on: bool) -> None:
        """Open (True) or close lecture mode's drawer; outside lecture mode it stays closed (the controls
        are in the panel already)."""
        panel = self.current_panel()
        if on and self._lecture and panel is not None:
            self.drawer.set_theme(self.theme)
            self.drawer.open_for(panel)
        else:
            self.drawer.close_drawer()

    def _escape(self) -> None:
        """Esc closes the drawer first, then leaves lecture mode."""
        if self.drawer.is_open:
            self.drawer.close_drawer()
        else:
            self.set_lecture_mode(False)

    # -- screens ------------------------------------------------------------------------------

    def _keep_frame_on_screen(self) -> None:
        screen = self.screen()
        if screen is None or self._closed or self._lecture:
            return
        area, frame = screen.availableGeometry(), self.frameGeometry()
        if area.contains(frame):
            return
        dx, dy = frame.width() - self.width(), frame.height() - self.height()
        w, h = min(self.width(), area.width() - dx), min(self.height(), area.height() - dy)
        self.resize(max(1, w), max(1, h))
        frame = self.frameGeometry()
        x = min(max(frame.x(), area.x()), area.x() + area.width() - frame.width())
        y = min(max(frame.y(), area.y()), area.y() + area.height() - frame.height())
        self.move(x, y)

    def fit_to_screen(self, screen=None) -> None:
        """First start: the screen's available area, at most :data:`EXPORT_SIZE` (logical), centred on it."""
        screen = screen or self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            self.resize(*EXPORT_SIZE)
            return
        area = screen.availableGeometry()
        w, h = min(EXPORT_SIZE[0], area.width()), min(EXPORT_SIZE[1], area.height())
        self.setGeometry(QRect(area.x() + (area.width() - w) // 2, area.y() + (area.height() - h) // 2, w, h))

    # -- messages -----------------------------------------------------------------------------

    def show_message(self, text: str) -> None:
        """A problem the user should read (non-modal, stays until dismissed or replaced)."""
        self.message_bar.show_message(" ".join(str(text).split()), self.theme)

    def clear_message(self) -> None:
        self.message_bar.dismiss()

    def show_status(self, text: str, ms: int = 6000) -> None:
        """A passing note in the status bar (a file written, a scenario opened)."""
        self.statusBar().showMessage(text, ms)

    # -- scenarios ----------------------------------------------------------------------------

    def open_default(self) -> bool:
        """Show the first panel's first preset (the lecture's own example)."""
        panel = self.tabs.widget(0) if self.tabs.count() else None
        if panel is None:
            return False
        try:
            presets = panel.presets()
        except SCENARIO_ERRORS as e:
            self.show_message(f"The presets could not be read: {e}")
            return False
        if not presets:
            return False
        return self.apply_scenario(presets[0], source="preset")

    def preset_names(self) -> list[str]:
        names = []
        for slot in self.tabs.slots():
            try:
                names += [_scenario_name(s) for s in self._presets_of(slot)]
            except SCENARIO_ERRORS:
                pass
        return names

    def find_preset(self, name: str):
        """The preset called ``name`` (its file name without ``.toml``, or its title; any case), or None."""
        from ..model.scenario import find_preset

        return find_preset([scenario for slot in self.tabs.slots() for scenario in self._presets_of(slot)], name)

    def _presets_of(self, slot) -> list:
        """A tab's presets: its panel's, or, for a panel not built yet, the preset files for its id (what the
        panel would list), so that finding ``--preset NAME`` builds only the panel that shows it."""
        if slot.built:
            return slot.panel.presets()
        from ..model.scenario import load_presets

        found, _errors = load_presets(slot.panel_id)
        return found if found else self.tabs.ensure(slot).presets()

    def apply_scenario(self, scenario, source: str = "") -> bool:
        """Show ``scenario`` in its panel; a problem becomes a message, and the panel keeps its picture."""
        panel_id = getattr(scenario, "panel", None)
        panel = self.panel(panel_id)
        what = f"{source} “{getattr(scenario, 'title', '')}”".strip()
        if panel is None:
            known = ", ".join(p.panel_id for p in self.panels)
            self.show_message(f"Cannot show {what}: it is for the “{panel_id}” panel, and this gpuviz has {known}.")
            return False
        try:
            panel.apply_scenario(scenario)
        except SCENARIO_ERRORS as e:
            self.show_message(f"Cannot show {what}: {e}")
            return False
        self._titles[panel.panel_id] = getattr(scenario, "title", "") or ""
        try:
            # the parameters as the panel reports them (it may fill in defaults), to compare with later
            self._opened[panel.panel_id] = (scenario, panel.scenario("opened").params)
        except SCENARIO_ERRORS:
            self._opened.pop(panel.panel_id, None)
        self.tabs.setCurrentWidget(panel)
        return True

    def open_scenario(self, path) -> bool:
        """Open a scenario file; a malformed one is reported in the message bar, and nothing changes."""
        from ..model.scenario import load_scenario

        path = Path(path)
        try:
            scenario = load_scenario(path)
        except SCENARIO_ERRORS as e:
            # a ScenarioError's text starts with the path; the message names the file once
            self.show_message(f"Could not open {path.name}: {getattr(e, 'reason', None) or e}")
            return False
        if not self.apply_scenario(scenario, source=f"{path.name}:"):
            return False
        self.clear_message()
        self.settings.scenario_path = str(path)
        self.show_status(f"Opened {path}")
        return True

    def save_scenario(self, path, title: str | None = None) -> bool:
        """Save the current panel's scenario to ``path`` (TOML)."""
        from ..model.scenario import save_scenario

        panel = self.current_panel()
        path = Path(path)
        title = title or self._titles.get(panel.panel_id) or path.stem.replace("_", " ")
        try:
            # a panel whose scenario names other files (the speed panel's measurements) saves them beside it
            for_file = getattr(panel, "scenario_for_file", None)
            save_scenario(for_file(path, title) if for_file else panel.scenario(title), path)
        except SCENARIO_ERRORS as e:
            self.show_message(f"Could not save {path.name}: {e}")
            return False
        self.settings.scenario_path = str(path)
        self.show_status(f"Saved {path}")
        return True

    def export_scenario(self, panel: Panel | None = None):
        """What an export of ``panel`` (default the current one) shows: its scene, titled as it was opened.

        The opened scenario's description and key steps (the slide captions) come along while the panel
        still shows that scenario's parameters; once they were changed, the captions no longer describe
        the picture and are left out.
        """
        from dataclasses import replace

        panel = panel or self.current_panel()
        scenario = panel.scenario(self._titles.get(panel.panel_id) or "export")
        opened, params = self._opened.get(panel.panel_id, (None, None))
        if opened is not None and scenario.params == params:
            scenario = replace(scenario, description=opened.description, key_steps=opened.key_steps)
        return scenario

    def export_image(self, width: int = EXPORT_SIZE[0], height: int = EXPORT_SIZE[1], dpr: float = 1.0) -> QImage:
        """The current panel's scene in the current theme, ``width``×``height`` layout pixels at ``dpr``.

        Drawn by a fresh copy of the panel through :func:`gpuviz.ui.export.render_frames`, the path every
        export takes: nothing from the window around it (its size, splitters, remembered settings) counts.
        """
        panel = self.current_panel()
        size = (round(width * dpr), round(height * dpr))
        return render_frames(type(panel), self.export_scenario(panel), size, theme=self.theme, dpr=dpr)[0]

    def export_png(self, path, width: int = EXPORT_SIZE[0], height: int = EXPORT_SIZE[1], dpr: float = 1.0) -> bool:
        """Write the current panel, rendered at ``width``×``height`` at ``dpr``, to a PNG file (atomically)."""
        panel = self.current_panel()
        size = (round(width * dpr), round(height * dpr))
        try:
            path = export_panel(type(panel), self.export_scenario(panel), path, size, theme=self.theme, dpr=dpr)
        except SCENARIO_ERRORS as e:
            self.show_message(f"Could not export: {e}")
            return False
        self.show_status(f"Exported {path} ({size[0]}×{size[1]})")
        return True

    def export_dialog(self):
        """The File → Export dialog (one per window, built on first use)."""
        from .export_dialog import ExportDialog

        if self._export_dialog is None:
            self._export_dialog = ExportDialog(self)
        return self._export_dialog

    def show_export_dialog(self):
        dialog = self.export_dialog()
        dialog.refresh()
        dialog.open()
        dialog.raise_()
        return dialog

    def copy_frame(self) -> bool:
        """Put the current panel's frame, at the export dialog's size, on the clipboard (Edit menu)."""
        from .export_dialog import copy_frame_to_clipboard, remembered_size

        problem = copy_frame_to_clipboard(self, remembered_size(self.settings))
        if problem is not None:
            self.show_message(problem)
        return problem is None

    def _dialog_folder(self) -> str:
        last = self.settings.scenario_path
        return str(Path(last).parent) if last else str(Path.home())

    def _ask_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open scenario", self._dialog_folder(),
                                              "gpuviz scenarios (*.toml);;All files (*)")
        if path:
            self.open_scenario(path)

    def _ask_save(self) -> None:
        panel = self.current_panel()
        stem = (self._titles.get(panel.panel_id) or panel.panel_id).lower().replace(" ", "_")
        path, _ = QFileDialog.getSaveFileName(self, "Save scenario", str(Path(self._dialog_folder()) / f"{stem}.toml"),
                                              "gpuviz scenarios (*.toml)")
        if path:
            if not path.lower().endswith(".toml"):
                path += ".toml"
            self.save_scenario(path)

    # -- backend ------------------------------------------------------------------------------

    def start_backend_lookup(self) -> None:
        """Ask the engine which backend computes, in a thread; the status bar says so when it knows."""
        if self._lookup_job is None and not self._closed:
            from ..engine.jobs import info_job

            self._lookup_job = info_job(self.engine)
            self._lookup.start(self._lookup_job)

    def _on_backend_found(self, job) -> None:
        if job.state == "ok":
            self.backend_info = job.result or {}
        else:  # reported in the status bar, never raised into the GUI
            error = f"{type(job.error).__name__}: {job.error}"
            self.backend_info = {"gpu_available": False, "gpu_name": None, "error": error}
        self._show_backend(self.backend_info)
        if self._about is not None:
            self._about.set_backend(self.backend_info)
        self.backend_found.emit(self.backend_info)

    def wait_for_backend(self, timeout: float = 120.0) -> bool:
        """Keep the event loop turning until the backend is known (screenshots); False on timeout."""
        self.start_backend_lookup()
        self._lookup.wait(timeout)
        return self.backend_info is not None

    def finish_backend_lookup(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for a backend lookup in flight (none started: True at once)."""
        return self._lookup_job is None or self._lookup_job.wait(timeout)

    def show_about(self) -> AboutDialog:
        if self._about is None:
            self._about = AboutDialog(self.backend_info, self)
        self._about.show()
        self._about.raise_()
        return self._about

    # -- life cycle ---------------------------------------------------------------------------

    def showEvent(self, event) -> None:
        super().showEvent(event)
        handle = self.windowHandle()
        if handle is not None and not self._watching_screen:
            self._watching_screen = True
            handle.screenChanged.connect(self._screen_changed)
        if self._pixel_ratio() != self._applied_ratio and self._applied_theme is not None:
            self._apply_theme(self.theme)
        if not self._lecture and not self.windowState() & (Qt.WindowState.WindowMaximized
                                                           | Qt.WindowState.WindowFullScreen):
            # the frame (title bar, borders) is known only now: keep all of it on the screen
            QTimer.singleShot(0, self._keep_frame_on_screen)
        # after the first paint, not before: the lookup spawns a process that competes for the CPU
        QTimer.singleShot(0, self.start_backend_lookup)
        if not self._prebuild.isActive() and any(not s.built for s in self.tabs.slots()):
            # the other tabs' panels, one per event-loop turn, once the first paint and the lookup's start are by
            self._prebuild.start(PREBUILD_DELAY_MS)

    def _restore(self) -> bool:
        """Geometry, theme and the last scenario from the settings; False on a first start."""
        s = self.settings
        geometry, theme, text = s.geometry, s.theme, s.scenario_text
        if geometry is None and theme is None and text is None:
            return False
        self.set_theme(theme if theme in ("light", "dark") else "light")
        self._restore_geometry(geometry, s.maximized)
        if text is None or not self._restore_scenario(text):
            self.open_default()
        current = self.panel(s.panel) if s.panel else None
        if current is not None:
            self.tabs.setCurrentWidget(current)
        return True

    def _restore_geometry(self, geometry: QRect | None, maximized: bool) -> None:
        if geometry is None:
            self.fit_to_screen()
        else:
            self.setGeometry(clamp_to_screens(geometry))
        if maximized:
            self.setWindowState(Qt.WindowState.WindowMaximized)

    def _restore_scenario(self, text: str) -> bool:
        try:
            scenario = _scenario_from_text(text)
        except SCENARIO_ERRORS as e:
            self.show_message(f"The last scenario could not be restored ({e}); showing the lecture's example.")
            return False
        return self.apply_scenario(scenario, source="the last scenario")

    def save_settings(self) -> None:
        s = self.settings
        if not s.enabled:
            return
        if self._lecture and self._before_lecture:
            geometry, state = self._before_lecture[:2]
        else:
            geometry, state = (self.normalGeometry() if self.isVisible() else self.geometry()), self.windowState()
        s.geometry = geometry
        s.maximized = bool(state & Qt.WindowState.WindowMaximized)
        s.theme = self._chosen_theme
        for each in self.built_panels:  # one never built keeps the layout it had last time
            if hasattr(each, "save_state") and not each.lecture:
                s.set_panel_state(each.panel_id, each.save_state())
        panel = self.current_panel()
        if panel is not None:
            s.panel = panel.panel_id
            try:
                s.scenario_text = _scenario_to_text(panel.scenario(self._titles.get(panel.panel_id) or "last session"))
            except Exception:  # noqa: BLE001 (closing must not fail: the window then forgets the scenario)
                s.scenario_text = None
        s.sync()

    def closeEvent(self, event) -> None:
        if not self._closed:
            self._closed = True
            self.save_settings()
            # every job of the window is cancelled, none is waited for (the rule of ui.jobs.JobAdapter)
            self._lookup.close()
            self._prebuild.stop()
            for panel in self.built_panels:
                panel.shutdown()
            if self._about is not None:
                self._about.close()
            if self._export_dialog is not None:
                self._export_dialog.close()
            if self._owns_engine:
                self.engine.close()  # stops its workers, a lookup's or a run's in flight among them
        super().closeEvent(event)


def clamp_to_screens(geometry: QRect) -> QRect:
    """A remembered geometry made to fit today's screens: on the screen it overlaps most (the primary
    one when it overlaps none: a monitor that is gone), shrunk to that screen's available area and
    moved inside it (a projector smaller than last time's monitor)."""
    screens = QGuiApplication.screens()
    if not screens:
        return QRect(geometry)

    def overlap(sc):
        r = sc.availableGeometry().intersected(geometry)
        return r.width() * r.height() if r.isValid() else 0

    best = max(screens, key=overlap)
    if overlap(best) == 0:
        best = QGuiApplication.primaryScreen() or screens[0]
    area = best.availableGeometry()
    w, h = min(geometry.width(), area.width()), min(geometry.height(), area.height())
    x = min(max(geometry.x(), area.x()), area.x() + area.width() - w)
    y = min(max(geometry.y(), area.y()), area.y() + area.height() - h)
    return QRect(x, y, w, h)


def _scenario_name(scenario) -> str:
    """A preset's short name: its file's stem when it has one, else its title."""
    path = getattr(scenario, "path", None) or getattr(scenario, "source", None)
    if path:
        return Path(str(path)).stem
    return str(getattr(scenario, "name", "") or getattr(scenario, "title", ""))


def _scenario_to_text(scenario) -> str:
    from ..model.scenario import dumps_scenario

    return dumps_scenario(scenario)


def _scenario_from_text(text: str):
    from ..model.scenario import parse_scenario

    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    from ..model.scenario import ScenarioError

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(None, f"is not valid TOML: {e}") from None
    return parse_scenario(data)


__all__ = ["EXPORT_SIZE", "TITLE", "MainWindow", "MessageBar", "clamp_to_screens", "render_widget"]
