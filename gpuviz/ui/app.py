"""Starting the desktop app: build the window hidden, apply the arguments, show it, run the event loop.

``gpuviz`` with no command comes here (through :func:`gpuviz.cli.gui.run_gui`,
which reports a missing PyQt6 in one line). ``--screenshot FILE.png`` builds
the same window, waits until it is loaded (the backend found), renders it at
``--size`` into a PNG and exits: it reads and writes no remembered settings,
so the picture depends only on the arguments.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

#: Qt messages known to be harmless: the offscreen platform logs these on show() and raise().
_HARMLESS_QT_MESSAGES = ("This plugin does not support propagateSizeHints()",
                         "This plugin does not support raise()")


class StartError(Exception):
    """The app cannot start as asked; the message is the one line the user sees."""


def create_application(argv: list[str] | None = None):
    """The QApplication (created once), named so that QSettings and window managers know it."""
    from PyQt6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv) if argv else ["gpuviz"])
    app.setOrganizationName("gpuviz")
    app.setApplicationName("gpuviz")
    from .fonts import register_fonts

    register_fonts()  # before the first widget: every text in the shipped fonts
    return app


def _install_message_handler() -> None:
    from PyQt6.QtCore import qInstallMessageHandler

    def handler(_mode, _context, message):
        if not message.startswith(_HARMLESS_QT_MESSAGES):
            print(f"Qt: {message}", file=sys.stderr)

    qInstallMessageHandler(handler)


def build_window(args, *, settings=None, engine=None):
    """The main window for parsed command-line ``args``, built hidden with the arguments applied.

    ``args`` needs ``preset``, ``scenario``, ``theme``, ``lecture``,
    ``screenshot`` and ``size`` (as :func:`gpuviz.cli.build_parser` makes
    them). Raises :class:`StartError` for a preset or scenario that cannot be
    shown.
    """
    from ..model.panel import ParamsError
    from .main_window import MainWindow
    from .settings import Settings

    screenshot = bool(getattr(args, "screenshot", None))
    if screenshot:
        settings = Settings.disabled()
    window = MainWindow(engine=engine, settings=settings, restore=not screenshot)
    try:
        if args.theme:
            window.set_theme(args.theme)
        if args.preset:
            scenario = window.find_preset(args.preset)
            if scenario is None:
                names = ", ".join(window.preset_names()) or "none could be read"
                raise StartError(f"--preset {args.preset}: no such preset; the presets are: {names}")
            _apply_or_fail(window, scenario, f"--preset {args.preset}")
        if args.scenario:
            from ..model.scenario import load_scenario

            try:
                scenario = load_scenario(Path(args.scenario))
            except (ParamsError, OSError) as e:  # load_scenario refuses a file with a ScenarioError
                # a ScenarioError's text starts with the path already
                raise StartError(f"--scenario {args.scenario}: {getattr(e, 'reason', None) or e}") from None
            _apply_or_fail(window, scenario, f"--scenario {args.scenario}")
        if args.lecture:
            # a screenshot has no screen to fill: it gets lecture mode's look at --size
            window.set_lecture_mode(True, fullscreen=not screenshot)
        if screenshot:
            window.resize(*args.size)
    except BaseException:
        window.close()
        window.deleteLater()
        raise
    return window


def _apply_or_fail(window, scenario, option: str) -> None:
    window.clear_message()
    if not window.apply_scenario(scenario):
        message = window.message_bar.text() or "it cannot be shown"
        raise StartError(f"{option}: {message}")


def _settle(app, rounds: int = 5) -> None:
    """Let posted events (layouts, deferred redraws) run until the window is fully drawn."""
    for _ in range(rounds):
        app.sendPostedEvents()
        app.processEvents()


def take_screenshot(window, path, size) -> None:
    """Show ``window`` (offscreen), wait for the backend, render it at ``size`` and write the PNG.

    ``size`` is the window's size in layout pixels; the PNG has the screen's device pixels, so with
    ``QT_SCALE_FACTOR=2`` (a HiDPI screen) it is twice as wide and high, drawn at that resolution.
    """
    from PyQt6.QtWidgets import QApplication

    from .main_window import render_widget

    app = QApplication.instance()
    window.show()
    _settle(app)
    window.wait_for_backend(timeout=120)
    _settle(app)
    image = render_widget(window, *size, dpr=window.devicePixelRatioF())
    if not image.save(str(path), "PNG"):
        raise StartError(f"--screenshot {path}: the image could not be written")


def run(args) -> int:
    """Start the app for parsed ``args``; returns the exit code. Raises :class:`StartError`."""
    screenshot = getattr(args, "screenshot", None)
    if screenshot:
        # no screen: the same pixels on every machine (and no window flashing up)
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from ..display_check import display_problem

    # Qt would abort the process (exit 134, many lines) on these: say it in one line first
    problem = display_problem(os.environ)
    if problem:
        raise StartError(problem)
    app = create_application()
    _install_message_handler()
    window = build_window(args)
    if screenshot:
        try:
            take_screenshot(window, screenshot, args.size)
        finally:
            window.close()
        return 0

    def excepthook(kind, value, tb):
        # a bug in a slot: report it on the terminal and in the window, and keep the lecture going
        traceback.print_exception(kind, value, tb, file=sys.stderr)
        try:
            window.show_message(f"Internal error: {kind.__name__}: {value} (details on the terminal)")
        except RuntimeError:  # the window is gone already
            pass

    sys.excepthook = excepthook
    window.show()
    return app.exec()


__all__ = ["StartError", "build_window", "create_application", "run", "take_screenshot"]
