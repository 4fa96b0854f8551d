"""Can Qt open a window here? Asked before Qt is loaded, because Qt cannot be asked.

When Qt's X11 platform plugin (xcb) cannot load a library it needs, or when no X
server answers at ``DISPLAY`` (or one refuses the connection), creating the ``QApplication`` prints several lines
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


#: libxcb's xcb_connection_has_error codes this check words (xcb.h): 1 is also what a refused authorisation gives.
_XCB_CONN_ERROR, _XCB_INVALID_SCREEN = 1, 6


#: The X connection a successful handshake leaves open (see :func:`_handshake`).
_kept: list = []


def _handshake(display: str, timeout: float = CONNECT_TIMEOUT_S) -> str | None:
    """Open and close an X connection through libxcb, as Qt's plugin will (authorisation included).

    Returns None when the server accepts this client, ``"refused"`` (it closed the connection: no or a
    wrong authorisation cookie, the usual case of ``sudo gpuviz`` or an ssh session without X forwarding),
    ``"screen"`` (the display's screen number does not exist) or ``"silent"`` (something listens but no X
    server answered within ``timeout``). libxcb reads ``XAUTHORITY`` and ``HOME`` from this process's
    environment, as Qt will. Where libxcb cannot be loaded the library check has already said so: None.
    """
    import threading

    try:
        xcb = ctypes.CDLL("libxcb.so.1")
    except OSError:
        return None
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_int)]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_connection_has_error.restype = ctypes.c_int
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    result = {}

    xcb.xcb_get_setup.restype = ctypes.c_void_p
    xcb.xcb_get_setup.argtypes = [ctypes.c_void_p]
    xcb.xcb_setup_roots_length.restype = ctypes.c_int
    xcb.xcb_setup_roots_length.argtypes = [ctypes.c_void_p]

    def connect():
        screen = ctypes.c_int(0)
        conn = xcb.xcb_connect(display.encode(), ctypes.byref(screen))
        result["error"] = xcb.xcb_connection_has_error(conn)
        # libxcb accepts any screen number; Qt then finds no such screen and aborts
        if result["error"] == 0 and screen.value >= xcb.xcb_setup_roots_length(xcb.xcb_get_setup(conn)):
            result["error"] = _XCB_INVALID_SCREEN
        if result["error"] == 0:
            # kept open while this process lives: an X server with no other client (xvfb-run, a kiosk) resets
            # when its last client leaves and refuses connections meanwhile, Qt's among them
            _kept.append(conn)
        else:
            xcb.xcb_disconnect(conn)

    # libxcb writes the server's refusal ("Authorization required, …") to stderr itself: the line this check
    # prints says it in words the user can act on, once
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        # in a thread: a program that takes the connection but never answers would block xcb_connect for ever
        worker = threading.Thread(target=connect, name="gpuviz-x-handshake", daemon=True)
        worker.start()
        worker.join(timeout)
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    if worker.is_alive():
        return "silent"
    error = result.get("error", 0)
    if error == 0:
        return None
    return "screen" if error == _XCB_INVALID_SCREEN else "refused"


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
    plugin needs missing (named with its Debian/Ubuntu package), no X server answering at ``DISPLAY``,
    one that refuses this user (no authorisation) or has no such screen.
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
    # libxcb reads a /path:N name as a host name (only macOS's launchd sockets look like that): not asked
    refusal = None if display.startswith("/") else _handshake(display, CONNECT_TIMEOUT_S)
    if refusal == "refused":
        return (f"the X server at DISPLAY={display} refused this user (not authorised): run gpuviz as the "
                f"desktop's user (not with sudo) or point XAUTHORITY at its cookie file, {_SCREENSHOT_HINT}")
    if refusal == "screen":
        return f"DISPLAY={display} names a screen its X server does not have; try :0, {_SCREENSHOT_HINT}"
    if refusal == "silent":
        return (f"something listens at DISPLAY={display} but no X server answered in {CONNECT_TIMEOUT_S:.0f} s: "
                f"correct DISPLAY, {_SCREENSHOT_HINT}")
    return None


__all__ = ["CONNECT_TIMEOUT_S", "XCB_LIBRARIES", "display_problem"]
