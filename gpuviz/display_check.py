"""Can Qt open a window here? Asked before Qt is loaded, because Qt cannot be asked.

When Qt's X11 platform plugin (xcb) cannot load a library it needs, or when no X
server answers at ``DISPLAY``, creating the ``QApplication`` prints several lines
about platform plugins and aborts the process (exit 134): no Python code runs to
explain it. :func:`display_problem` finds these cases first, without importing
Qt, and says in one line what to install or check.

Only the xcb platform is checked: offscreen, Wayland and the other platforms
(and macOS and Windows, whose platforms are built in) are left to Qt.
"""

from __future__ import annotations

import ctypes
import os
import re
import socket
import sys
from collections.abc import Mapping

#: What Qt 6's xcb plugin (PyQt6/Qt6/plugins/platforms/libqxcb.so and lib/libQt6XcbQpa.so.6 it loads)
#: links against beyond Qt's own libraries and the C/C++ runtime, with the Debian/Ubuntu package of each.
#: A minimal Debian 12 with README's older apt line lacked the first ten (tests/test_display_check.py
#: holds this list to the installed plugin's).
XCB_LIBRARIES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libGL.so.1": "libgl1",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
}

#: How long an X server may take to accept a connection (a remote DISPLAY over a slow network included).
CONNECT_TIMEOUT_S = 2.0

_SCREENSHOT_HINT = "or write a picture with --screenshot FILE.png"


def _loadable(soname: str) -> bool:
    """Whether the dynamic linker finds and loads ``soname`` (as Qt's plugin will, by the same search)."""
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def _answers(display: str, timeout: float = CONNECT_TIMEOUT_S) -> bool | None:
    """Whether an X server accepts a connection at ``display``; None when the name cannot be read."""
    m = re.fullmatch(r"(?P<host>.*):(?P<number>\d+)(?:\.\d+)?", display.strip())
    if not m:
        return None
    host, number = m["host"], int(m["number"])
    if host.startswith("/"):  # a socket path (launchd's XQuartz style)
        paths = [f"{host}:{number}"]
    elif host in ("", "unix"):
        # the X server listens on the file socket and, on Linux, on the same name in the abstract namespace
        # (a container or sandbox may see only one of them)
        paths = [f"/tmp/.X11-unix/X{number}", f"\0/tmp/.X11-unix/X{number}"]
    else:
        try:
            with socket.create_connection((host.strip("[]"), 6000 + number), timeout=timeout):
                return True
        except OSError:
            return False
    for path in paths:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(path)
            return True
        except OSError:
            continue
        finally:
            s.close()
    return False


def _platform(env: Mapping[str, str]) -> str:
    """The platform plugin Qt will try first: QT_QPA_PLATFORM's first name, else what the session implies."""
    chosen = env.get("QT_QPA_PLATFORM", "").strip()
    if chosen:
        return chosen.split(";")[0].split(":")[0].strip().lower()
    # Qt 6 prefers Wayland in a Wayland session (XDG_SESSION_TYPE) where it can reach the compositor
    if env.get("XDG_SESSION_TYPE", "").lower() == "wayland" and env.get("WAYLAND_DISPLAY"):
        return "wayland"
    return "xcb"


def display_problem(env: Mapping[str, str] = os.environ) -> str | None:
    """Why Qt could not open a window with ``env`` — one line naming what to install or check — or None.

    Checks only what makes Qt abort (Linux, xcb platform): ``DISPLAY`` unset, a library the xcb
    plugin needs missing (named with its Debian/Ubuntu package), no X server answering at ``DISPLAY``.
    """
    if not sys.platform.startswith("linux") or _platform(env) != "xcb":
        return None
    display = env.get("DISPLAY", "").strip()
    if not display:
        wayland = (" (WAYLAND_DISPLAY is set: QT_QPA_PLATFORM=wayland uses Wayland)"
                   if env.get("WAYLAND_DISPLAY") else "")
        return (f"no display: DISPLAY is not set{wayland}; run gpuviz in a desktop session, "
                f"{_SCREENSHOT_HINT}")
    missing = [soname for soname in XCB_LIBRARIES if not _loadable(soname)]
    if missing:
        packages = " ".join(dict.fromkeys(XCB_LIBRARIES[s] for s in missing))
        return (f"a window needs libraries this system lacks ({', '.join(missing)}): install them with "
                f"`sudo apt-get install {packages}` (Debian/Ubuntu names; README, Set up), {_SCREENSHOT_HINT}")
    answer = _answers(display)
    if answer is None:
        return f"DISPLAY={display} is not a display name such as :0 or host:0; correct it, {_SCREENSHOT_HINT}"
    if not answer:
        return (f"no X server answers at DISPLAY={display}: start one or correct DISPLAY (over ssh: ssh -X), "
                f"{_SCREENSHOT_HINT}")
    return None


__all__ = ["CONNECT_TIMEOUT_S", "XCB_LIBRARIES", "display_problem"]
