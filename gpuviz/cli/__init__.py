"""The ``gpuviz`` command: the desktop app with no command, and headless subcommands.

One module per subcommand (``run``, ``trace``, ``broadcast``, ``grad``, ``bench``, ``export``),
``info`` for ``--info``, ``gui`` for the desktop app, and ``common`` for what they share. A
subcommand module has ``add_parser(commands)``, which adds its parser and sets ``handler``; adding a
subcommand is one module and one entry in :data:`SUBCOMMANDS`.

Importing this package loads neither Qt nor numba: kernels run in the engine's worker process, and
Qt is imported only on the GUI (and export) paths. Nothing in gpuviz imports this package.

Exit codes: 0 the command did what was asked (for ``run``: C is A·B); 1 the product was wrong, the
kernel raised or its worker died; 2 the request itself is wrong (one line on stderr, nothing
started); 130 cancelled with Ctrl-C.
"""

from __future__ import annotations

import argparse
import sys

from .. import __version__
from . import bench, broadcast, check, export, grad, gui, info, occupancy, run, trace
from .common import EXIT_CANCELLED, EXIT_OK, EXIT_USAGE, PROG, Parser, UsageError, one_line

#: The subcommands, in the order ``gpuviz --help`` lists them.
SUBCOMMANDS = (run, trace, check, broadcast, grad, bench, export, occupancy)


def usage_errors() -> tuple[type[Exception], ...]:
    """What a subcommand may raise for a request that cannot be carried out: one line on stderr, exit 2.

    Imported when asked (the engine's and the dense model's modules cost a quick subcommand like
    ``occupancy`` a tenth of its time; it never raises their errors).
    """
    from ..engine import BackendError
    from ..model.budget import BudgetError
    from ..model.dense import DenseError
    from ..model.launch import LaunchError
    from ..model.matmul import ShapeError
    from ..model.panel import ParamsError
    from ..model.trace import TraceFileError

    # ParamsError: every panel model's refusal of its input (TextError, ScenarioError, SpeedError, … are ones)
    return (UsageError, LaunchError, ShapeError, BudgetError, BackendError, DenseError, ParamsError, TraceFileError)


def __getattr__(name: str):
    if name == "USAGE_ERRORS":  # the tuple, as it was a constant
        return usage_errors()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; each subcommand's parser sets ``handler``."""
    parser = Parser(
        prog=PROG,
        description="Watch why matrices make deep learning fast: a CUDA matrix product, really computed.",
        epilog="Exit codes: 0 done (and C is correct), 1 wrong product, kernel error or worker crash, "
               "2 bad request, 130 cancelled.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    info.add_options(parser)
    gui.add_options(parser)
    parser.set_defaults(handler=None)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for module in SUBCOMMANDS:
        module.add_parser(commands)
    return parser


def main(argv=None) -> int:
    """Run the ``gpuviz`` command with ``argv`` (default ``sys.argv[1:]``) and return its exit code."""
    parser = build_parser()
    try:
        try:
            args = parser.parse_args(argv)
        except SystemExit as e:  # --help and --version
            return e.code if isinstance(e.code, int) else EXIT_OK
        gui_options = gui.gui_options_given(args)
        if gui_options and (args.command is not None or args.info):
            what = f"`{args.command}`" if args.command else "--info"
            raise UsageError(f"{gui_options[0]} is an option of the desktop app; it does nothing with {what}")
        if args.info:
            if args.command is not None:
                raise UsageError(f"--info takes no command, got {args.command!r}")
            return info.cmd_info(args)
        if args.info_json:
            raise UsageError("--json on its own needs --info (or goes after a command: run --json)")
        if args.handler is None:
            return gui.run_gui(args)
        return args.handler(args)
    except KeyboardInterrupt:
        print(f"{PROG}: cancelled", file=sys.stderr)
        return EXIT_CANCELLED
    except Exception as e:
        if isinstance(e, usage_errors()):
            hint = getattr(e, "cli_hint", "")
            print(f"{PROG}: error: {one_line(e)}{f' ({hint})' if hint else ''}", file=sys.stderr)
            return EXIT_USAGE
        if isinstance(e, BrokenPipeError):
            # `gpuviz run ... | head -1`: the reader left, nothing to report
            return EXIT_OK
        raise


__all__ = ["SUBCOMMANDS", "USAGE_ERRORS", "UsageError", "build_parser", "main"]
