"""Shared test set-up.

Qt must run on the offscreen platform (without a display it aborts with no
useful message) and must never read or write the user's real settings.
"""

import os
import tempfile
from pathlib import Path

# a 1920×1080 desk monitor at 96 dpi (the offscreen platform's own default is an 800×800 screen); the
# layout check (tests/ui/test_layout.py) configures projectors, laptops and HiDPI screens itself
if os.environ.get("QT_QPA_PLATFORM", "offscreen") == "offscreen":
    os.environ["QT_QPA_PLATFORM"] = (
        "offscreen:configfile=" + str(Path(__file__).resolve().parent / "data" / "screens" / "desktop-1920x1080.json"))
# QSettings on Linux lives under XDG_CONFIG_HOME: point it at a throw-away folder
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="gpuviz-test-config-")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def engine():
    """One engine (and so one simulator worker) for the whole session: spawning costs ~1 s."""
    from gpuviz.engine import Engine

    eng = Engine()
    yield eng
    eng.close()
