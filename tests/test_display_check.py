"""gpuviz.display_check: the one line said before Qt could abort on a missing xcb library or an absent X server."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gpuviz import display_check as dc

REPO = Path(__file__).resolve().parent.parent
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the xcb platform is Linux's")


@pytest.fixture
def all_libraries(monkeypatch):
    monkeypatch.setattr(dc, "_loadable", lambda soname: True)


def _unused_display() -> int:
    # a display number no X server listens on, by either of the Unix sockets Xlib tries
    for n in range(97, 300):
        path = f"/tmp/.X11-unix/X{n}"
        if os.path.exists(path):
            continue
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect("\0" + path)
        except OSError:
            return n
        finally:
            s.close()
    pytest.skip("no unused X display number")


@pytest.mark.parametrize("env", [
    {"QT_QPA_PLATFORM": "offscreen"},
    {"QT_QPA_PLATFORM": "offscreen:configfile=/tmp/screens.json"},
    {"QT_QPA_PLATFORM": "minimal"},
    {"QT_QPA_PLATFORM": "wayland", "WAYLAND_DISPLAY": "wayland-0"},
    {"QT_QPA_PLATFORM": "wayland;xcb", "WAYLAND_DISPLAY": "wayland-0"},
    {"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0"},
], ids=lambda e: ",".join(f"{k}={v}" for k, v in e.items()))
def test_other_platforms_are_left_to_qt(env, monkeypatch):
    monkeypatch.setattr(dc, "_loadable", lambda soname: pytest.fail("a non-xcb platform needs no xcb library"))
    assert dc.display_problem(env) is None


def test_other_systems_are_left_to_qt(monkeypatch):
    monkeypatch.setattr(dc.sys, "platform", "darwin")
    assert dc.display_problem({}) is None


@linux_only
@pytest.mark.parametrize("platform", [None, "xcb", "XCB", "xcb:nograb"])
def test_no_display_variable(platform, monkeypatch):
    monkeypatch.setattr(dc, "_loadable", lambda soname: False)  # DISPLAY is said first: it is the first to fix
    env = {} if platform is None else {"QT_QPA_PLATFORM": platform}
    problem = dc.display_problem(env)
    assert problem.startswith("no display: DISPLAY is not set") and "\n" not in problem
    assert "--screenshot" in problem


@linux_only
def test_no_display_in_a_wayland_session_names_the_wayland_platform():
    # XDG_SESSION_TYPE unset: Qt tries xcb, which needs DISPLAY
    problem = dc.display_problem({"WAYLAND_DISPLAY": "wayland-0"})
    assert "DISPLAY is not set" in problem and "QT_QPA_PLATFORM=wayland" in problem


@linux_only
def test_missing_libraries_are_named_with_their_packages(monkeypatch):
    missing = {"libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libglib-2.0.so.0", "libgthread-2.0.so.0"}
    monkeypatch.setattr(dc, "_loadable", lambda soname: soname not in missing)
    monkeypatch.setattr(dc, "_answers", lambda display: pytest.fail("the libraries are checked before the server"))
    problem = dc.display_problem({"DISPLAY": ":0"})
    assert "\n" not in problem
    for soname in missing:
        assert soname in problem
    # one package each, in the table's order, glib's once
    assert "`sudo apt-get install libxcb-icccm4 libxcb-keysyms1 libglib2.0-0`" in problem


@linux_only
def test_a_display_nobody_answers(all_libraries):
    n = _unused_display()
    problem = dc.display_problem({"DISPLAY": f":{n}"})
    assert problem.startswith(f"no X server answers at DISPLAY=:{n}") and "\n" not in problem
    assert dc.display_problem({"DISPLAY": f"unix:{n}.0"}).startswith(f"no X server answers at DISPLAY=unix:{n}.0")


@linux_only
def test_a_display_name_that_is_not_one(all_libraries):
    problem = dc.display_problem({"DISPLAY": "localhost"})
    assert problem.startswith("DISPLAY=localhost is not a display name") and "\n" not in problem


@linux_only
def test_a_listening_socket_that_is_no_x_server_is_named(all_libraries, tmp_path, monkeypatch):
    # a server at a socket path (the /path:N form, macOS's launchd style: only the socket is checked) and
    # something listening over TCP (host:N is port 6000 + N) that never answers the X handshake: Qt would
    # wait there for ever, so the check says so after its timeout
    monkeypatch.setattr(dc, "CONNECT_TIMEOUT_S", 0.5)
    path = tmp_path / "X:3"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as unix, \
            socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
        unix.bind(str(path))
        unix.listen(1)
        tcp.bind(("127.0.0.1", 0))
        tcp.listen(1)
        port = tcp.getsockname()[1]
        assert dc.display_problem({"DISPLAY": f"{tmp_path}/X:3"}) is None
        if port > 6000 and dc._loadable("libxcb.so.1"):
            problem = dc.display_problem({"DISPLAY": f"127.0.0.1:{port - 6000}.0"})
            assert problem.startswith(f"something listens at DISPLAY=127.0.0.1:{port - 6000}.0 but no X server "
                                      "answered") and "\n" not in problem
    assert dc.display_problem({"DISPLAY": f"{tmp_path}/X:3"}).startswith("no X server answers")


@pytest.fixture
def xvfb_with_cookie(tmp_path):
    """An Xvfb that asks for an authorisation cookie: (display number, the cookie file)."""
    if not (shutil.which("Xvfb") and shutil.which("xauth")):
        pytest.skip("needs Xvfb and xauth (apt-get install xvfb xauth)")
    n = _unused_display()
    cookie = tmp_path / "cookie"
    subprocess.run(["xauth", "-f", str(cookie), "add", f":{n}", ".", os.urandom(16).hex()], check=True,
                   capture_output=True)
    # -noreset: a server resets when its last client leaves and refuses connections meanwhile
    server = subprocess.Popen(["Xvfb", f":{n}", "-auth", str(cookie), "-nolisten", "tcp", "-noreset"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(f"/tmp/.X11-unix/X{n}") and server.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if not os.path.exists(f"/tmp/.X11-unix/X{n}"):
            pytest.skip("Xvfb did not start")
        yield n, cookie
    finally:
        server.terminate()
        server.wait(timeout=10)


@linux_only
def test_an_x_server_that_refuses_this_user_is_said_in_one_line(xvfb_with_cookie, tmp_path, monkeypatch):
    n, cookie = xvfb_with_cookie
    if not dc._loadable("libxcb.so.1"):
        pytest.skip("no libxcb here")
    stranger = tmp_path / "no-cookie"
    stranger.write_bytes(b"")
    monkeypatch.setenv("XAUTHORITY", str(stranger))  # as under sudo, or over ssh without X forwarding
    problem = dc._handshake(f":{n}")
    assert problem == "refused"
    monkeypatch.setenv("XAUTHORITY", str(cookie))
    assert dc._handshake(f":{n}") is None
    assert dc._handshake(f":{n}.7") == "screen"  # Xvfb has screen 0 only
    # the app itself: one line and exit 2 where Qt would print its plugin lines and abort
    proc = subprocess.run([sys.executable, "-m", "gpuviz"], capture_output=True, text=True, cwd=REPO, timeout=60,
                          env=_gui_env(DISPLAY=f":{n}", XAUTHORITY=str(stranger)))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") <= 1 and f"the X server at DISPLAY=:{n} refused this user" in proc.stderr


def test_the_check_imports_no_qt():
    code = ("import sys; from gpuviz.display_check import display_problem; display_problem(); "
            "assert not [m for m in sys.modules if m.startswith('PyQt6')], 'Qt was imported'")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert proc.returncode == 0, proc.stderr


def _plugin_needs() -> set[str]:
    spec = importlib.util.find_spec("PyQt6")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("PyQt6 is not installed")
    qt = Path(list(spec.submodule_search_locations)[0]) / "Qt6"
    files = [qt / "plugins" / "platforms" / "libqxcb.so", *sorted((qt / "lib").glob("libQt6XcbQpa.so*"))[:1]]
    if not all(f.is_file() for f in files) or not shutil.which("readelf"):
        pytest.skip("no xcb plugin here, or no readelf to read what it links against")
    needed = set()
    for f in files:
        out = subprocess.run(["readelf", "-d", str(f)], capture_output=True, text=True, check=True).stdout
        needed |= {line.split("[", 1)[1].split("]", 1)[0] for line in out.splitlines() if "(NEEDED)" in line}
    return needed


@linux_only
def test_the_library_table_is_what_the_installed_plugin_links_against():
    runtime = ("libQt6", "libicu", "libc.so", "libm.so", "libstdc++", "libgcc_s", "libpthread", "libdl.so",
               "ld-linux", "librt.so")
    needed = {n for n in _plugin_needs() if not n.startswith(runtime)}
    assert needed, "readelf found nothing"
    assert needed <= set(dc.XCB_LIBRARIES), f"not in XCB_LIBRARIES: {sorted(needed - set(dc.XCB_LIBRARIES))}"


# -- the app itself ---------------------------------------------------------------------------------------


def _gui_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY",
                                                            "XDG_SESSION_TYPE")}
    env.update(extra)
    return env


@linux_only
def test_gpuviz_with_a_display_nobody_answers_says_so_in_one_line_and_exits_2(tmp_path):
    n = _unused_display()
    proc = subprocess.run([sys.executable, "-m", "gpuviz"], env=_gui_env(DISPLAY=f":{n}"), capture_output=True,
                          text=True, cwd=REPO, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.splitlines()) == 1, proc.stderr
    # the libraries are checked first: on a machine without them, that is the line
    assert f"DISPLAY=:{n}" in proc.stderr or "apt-get install" in proc.stderr


@linux_only
@pytest.mark.skipif(not shutil.which("xvfb-run"), reason="needs xvfb-run (apt-get install xvfb xauth)")
def test_a_real_window_under_xvfb(tmp_path):
    missing = [s for s in dc.XCB_LIBRARIES if not dc._loadable(s)]
    if missing:
        pytest.skip(f"this machine lacks {missing}")
    out = tmp_path / "window.png"
    # QT_QPA_PLATFORM=xcb: --screenshot would otherwise draw offscreen
    proc = subprocess.run(["xvfb-run", "-a", sys.executable, "-m", "gpuviz", "--screenshot", str(out),
                           "--size", "1280x720"], env=_gui_env(QT_QPA_PLATFORM="xcb"), capture_output=True,
                          text=True, cwd=REPO, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_screenshot_at_qt_scale_factor_2_has_the_hidpi_screens_pixels(tmp_path):
    # what a 2x screen shows, drawn at its resolution (not a 1x picture): --size is the window's layout size
    out = tmp_path / "hidpi.png"
    proc = subprocess.run([sys.executable, "-m", "gpuviz", "--screenshot", str(out), "--size", "1024x600"],
                          env=_gui_env(QT_SCALE_FACTOR="2"), capture_output=True, text=True, cwd=REPO, timeout=180)
    assert proc.returncode == 0, proc.stderr
    header = out.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")) == (2048, 1200)
