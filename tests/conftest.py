"""Shared test set-up.

Qt must run on the offscreen platform (without a display it aborts with no
useful message) and must never read or write the user's real settings.
"""

import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
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
