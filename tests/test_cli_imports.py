"""Building the ``gpuviz`` parser imports no engine: a quick subcommand (``occupancy``) pays only for its model."""

import subprocess
import sys

from gpuviz.cli import USAGE_ERRORS, common
from gpuviz.engine import BACKENDS, BackendError


def test_the_parser_and_occupancy_import_no_engine():
    code = ("import sys; from gpuviz.cli import main; "
            "rc = main(['occupancy', '--gpu', 'T4', '--threads', '256', '--regs', '32', '--smem', '0', '--json']); "
            "print([m for m in ('gpuviz.engine', 'gpuviz.engine.user_kernel', "
            "'importlib.metadata') if m in sys.modules], rc, file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stderr.strip().splitlines()[-1] == "[] 0"


def test_the_clis_backend_names_are_the_engines():
    assert common.BACKENDS is BACKENDS  # one list, model/matmul.py's
    assert BackendError in USAGE_ERRORS
