"""``gpuviz`` with no command: the desktop app, or ``--screenshot`` of its window."""

from __future__ import annotations

from pathlib import Path

from ..model.limits import MAX_SCENARIO_BYTES, MAX_SCREENSHOT_SIDE
from .common import PROG, UsageError, check_input_file, check_output, picture_size

#: ``--screenshot``'s default ``--size`` (the largest side it accepts is limits.MAX_SCREENSHOT_SIDE).
SCREENSHOT_SIZE = (1920, 1080)

#: The desktop app's options (they apply when no command is given).
GUI_OPTIONS = ("preset", "scenario", "theme", "lecture", "screenshot", "size")


def _screen_size(text: str) -> tuple[int, int]:
    return picture_size(text, MAX_SCREENSHOT_SIDE, MAX_SCREENSHOT_SIDE, f"between 1 and {MAX_SCREENSHOT_SIDE} pixels")


def add_options(parser) -> None:
    """The desktop app's options, on the top-level parser."""
    gui = parser.add_argument_group("the desktop app (no command)")
    gui.add_argument("--preset", metavar="NAME",
                     help="open this preset (its file name in assets/presets without .toml, or its title)")
    gui.add_argument("--scenario", metavar="FILE", help="open this scenario file (.toml)")
    gui.add_argument("--theme", choices=("light", "dark"), help="colour theme (default: the last one used, or light)")
    gui.add_argument("--lecture", action="store_true",
                     help="start in lecture mode: full screen, large text, thick lines (Esc leaves it)")
    gui.add_argument("--screenshot", metavar="FILE.png",
                     help="write the window as a PNG once it is loaded, then exit (offscreen; reads and writes "
                          "no remembered settings)")
    gui.add_argument("--size", type=_screen_size, metavar="WxH",
                     help="with --screenshot: the window size in pixels (default 1920x1080)")


def gui_options_given(args) -> list[str]:
    """The desktop app's options given in ``args``, as typed (``--lecture``)."""
    return [f"--{name}" for name in GUI_OPTIONS if getattr(args, name) not in (None, False)]


def run_gui(args) -> int:
    """Start the desktop app for parsed ``args`` (no command given); returns the exit code."""
    if args.size is not None and args.screenshot is None:
        raise UsageError("--size goes with --screenshot FILE.png")
    # `is not None`: an empty --screenshot '' is a refused path, never "no screenshot" (the window would open
    # and, offscreen, never close)
    if args.screenshot is not None:
        check_output(args.screenshot, "--screenshot", "screenshot.png")
        if Path(args.screenshot).suffix.lower() != ".png":
            raise UsageError(f"--screenshot {args.screenshot}: the file name must end in .png")
        args.size = args.size or SCREENSHOT_SIZE
    if args.scenario is not None:
        check_input_file(args.scenario, "--scenario", MAX_SCENARIO_BYTES, "scenario file")
    if args.preset is not None and not args.preset.strip():
        raise UsageError("--preset '': give a preset's file name or title")
    try:
        import pyqtgraph  # noqa: F401
        from PyQt6 import QtWidgets  # noqa: F401
    except ImportError as e:
        # PyQt6 missing, or present without the system libraries Qt needs (libEGL, libxkbcommon, ...)
        raise UsageError(f"the desktop app needs PyQt6 and pyqtgraph, which could not be loaded ({e}); "
                         f"the command-line tools work without them: see `{PROG} --help`") from None
    from ..ui.app import StartError, run

    try:
        return run(args)
    except StartError as e:
        raise UsageError(str(e)) from None


