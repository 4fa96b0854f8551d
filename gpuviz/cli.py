"""The ``gpuviz`` command: the desktop app with no command, and headless subcommands.

Importing this module loads neither Qt nor numba: kernels run in the engine's
worker process, and Qt is imported only on the GUI (and export) paths.

Exit codes: 0 the command did what was asked (for ``run``: C is A·B); 1 the
product was wrong, the kernel raised or its worker died; 2 the request itself
is wrong (one line on stderr, nothing started); 130 cancelled with Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import re
import sys
import threading
import time
from importlib import metadata
from pathlib import Path

from . import __version__
from .engine import BACKENDS, BackendError, Engine, MatmulJob, RunResult
from .model import broadcast as bc
from .model.budget import Budget, BudgetError, format_bytes, plan_run
from .model.dense import DEFAULT_BATCH, LAYERS, LOSSES, TOY_MAX_BATCH, DenseError
from .model.launch import Dim3, LaunchConfig, LaunchError, check_launch
from .model.matmul import KERNELS, MatmulProblem, ShapeError, launch_for

PROG = "gpuviz"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130

#: Distributions ``--info`` reports, read from package metadata so that none is imported.
INFO_PACKAGES = ("PyQt6", "pyqtgraph", "numpy", "numba", "numba-cuda")

# Simulator progress appears only once a run has lasted this long: short runs stay quiet.
PROGRESS_DELAY_S = 1.0

#: ``--screenshot``'s default ``--size``, and the largest side it accepts.
SCREENSHOT_SIZE = (1920, 1080)
MAX_SCREENSHOT_SIDE = 8192

#: Entries of a digits gradient checked by finite differences (all 7,840 would take seconds at large batches).
GRAD_CHECK_ENTRIES = 200
#: The finite-difference check passes below this norm-wise relative error.
GRAD_CHECK_TOL = 1e-6

#: The desktop app's options (they apply when no command is given).
GUI_OPTIONS = ("preset", "scenario", "theme", "lecture", "screenshot", "size")


class UsageError(Exception):
    """A request that cannot be carried out as asked; its message is the one line the user sees."""


class _Parser(argparse.ArgumentParser):
    # argparse prints the whole usage block and exits on a bad argument; a
    # wrong size in a lecture should cost one readable line, so raise instead
    # and let main() print it.
    def error(self, message):
        raise UsageError(message)


# -- argument types -----------------------------------------------------------------------


def _size(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"cannot read {text!r} as a matrix size (a whole number)") from None


def _block(text: str) -> Dim3:
    try:
        return Dim3.parse(text)
    except LaunchError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


_BYTE_UNITS = {
    "": 1, "b": 1,
    "k": 1024, "kib": 1024, "kb": 1000,
    "m": 1024**2, "mib": 1024**2, "mb": 1000**2,
    "g": 1024**3, "gib": 1024**3, "gb": 1000**3,
    "t": 1024**4, "tib": 1024**4, "tb": 1000**4,
}


def parse_bytes(text: str) -> int:
    """``"4GiB"``, ``"512MiB"``, ``"1.5G"`` or ``"2GB"`` in bytes (bare K/M/G/T are binary)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([A-Za-z]*)\s*", text)
    unit = match.group(2).lower() if match else ""
    if match is None or unit not in _BYTE_UNITS:
        raise argparse.ArgumentTypeError(f"cannot read {text!r} as a memory size (e.g. 4GiB, 512MiB)")
    value = int(float(match.group(1)) * _BYTE_UNITS[unit])
    if value <= 0:
        raise argparse.ArgumentTypeError(f"the memory budget must be more than 0 bytes, got {text!r}")
    return value


def _screen_size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", text)
    if match is None:
        raise argparse.ArgumentTypeError(f"cannot read {text!r} as a picture size: write WIDTHxHEIGHT, e.g. 1920x1080")
    width, height = int(match.group(1)), int(match.group(2))
    if not (1 <= width <= MAX_SCREENSHOT_SIDE and 1 <= height <= MAX_SCREENSHOT_SIDE):
        raise argparse.ArgumentTypeError(f"--size {text}: each side must be between 1 and {MAX_SCREENSHOT_SIDE} pixels")
    return width, height


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


# -- the parser ---------------------------------------------------------------------------


def _launch_options() -> argparse.ArgumentParser:
    """The options that describe one product and its launch, shared by run, trace (and later export)."""
    p = _Parser(add_help=False)
    g = p.add_argument_group("the product C = A·B and its launch")
    g.add_argument("--kernel", required=True, choices=KERNELS, help="which kernel computes C")
    g.add_argument("--m", required=True, type=_size, metavar="M", help="rows of A and C")
    g.add_argument("--n", required=True, type=_size, metavar="N", help="columns of B and C")
    g.add_argument("--k", required=True, type=_size, metavar="K", help="columns of A, rows of B")
    g.add_argument("--block", required=True, type=_block, metavar="BXxBY",
                   help="threads per block, e.g. 16x16 (the tiled kernel needs a square block)")
    g.add_argument("--backend", default="auto", choices=BACKENDS,
                   help="gpu, CUDA simulator, or auto: the GPU when one is found (default auto)")
    g.add_argument("--seed", type=int, default=0, help="seed of the standard-normal inputs (default 0)")
    b = p.add_argument_group("budget and output")
    b.add_argument("--memory", type=parse_bytes, default=Budget().memory_bytes, metavar="SIZE",
                   help="memory budget for arrays and traces, e.g. 4GiB (default 2GiB)")
    b.add_argument("--yes", action="store_true",
                   help="run even when the simulator is estimated to take over two minutes")
    b.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    return p


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; each subcommand's parser sets ``handler``."""
    parser = _Parser(
        prog=PROG,
        description="Watch why matrices make deep learning fast: a CUDA matrix product, really computed.",
        epilog="Exit codes: 0 done (and C is correct), 1 wrong product, kernel error or worker crash, "
               "2 bad request, 130 cancelled.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--info", action="store_true",
                        help="print versions, the CUDA backend and GPU found, and where the assets are")
    parser.add_argument("--json", dest="info_json", action="store_true", help="with --info: print JSON")
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
    parser.set_defaults(handler=None)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    launch = _launch_options()

    run = commands.add_parser("run", parents=[launch], help="compute C = A·B with a kernel and check it",
                              description="Compute C = A·B with one kernel, check it against NumPy, "
                                          "and report the launch and the time.")
    run.add_argument("--repeat", type=_positive_int, default=5, metavar="R",
                     help="timed launches on a GPU, the median is reported (default 5)")
    run.set_defaults(handler=cmd_run)

    trace = commands.add_parser("trace", parents=[launch], help="write every memory access of a launch",
                                description="Write every global/shared read and write and every "
                                            "barrier of a launch to an .npz file.")
    trace.add_argument("--source", choices=("recorded", "vectorized"), default="recorded",
                       help="recorded while the CUDA simulator runs the kernel, or computed by NumPy "
                            "from the kernel's index arithmetic (fast at large sizes); default recorded")
    trace.add_argument("--out", required=True, metavar="FILE.npz", help="where to write the trace")
    trace.set_defaults(handler=cmd_trace)

    broadcast = commands.add_parser(
        "broadcast", help="explain whether and how NumPy broadcasts some shapes",
        description="Explain step by step how NumPy broadcasts the shapes (right-align, pad with 1s, compare "
                    "each dimension from the right, stretch the 1s), or exactly why they do not broadcast.",
        epilog='Shapes as you would type them: "(5, 3, 2)", 5,3,2, 5x3x2, "(7,)", 7, "()" (a scalar). Exit code 0 '
               'whether or not they broadcast; 2 for a shape that cannot be read.')
    broadcast.add_argument("shapes", nargs="+", metavar="SHAPE", help="two or more shapes (one also works)")
    broadcast.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    broadcast.set_defaults(handler=cmd_broadcast)

    grad = commands.add_parser(
        "grad", help="the weight gradient of a dense layer, checked by finite differences; or train it",
        description="Compute ∇_W L of the dense layer z = Wx + b (the lecture's 3×7 toy, or 10×784 on the shipped "
                    "28×28 digits) for one example or a batch, print its shapes and norm, and check it against "
                    "central finite differences. With --train STEPS, run minibatch gradient descent "
                    "ΔW = −α∇_W L on the digits and print the loss and held-out accuracy curve.",
        epilog="Exit codes: 0 done (gradient check passed / training did not diverge), 1 the check failed or "
               "training diverged (explained on stderr), 2 bad request.")
    grad.add_argument("--layer", required=True, choices=("toy", "digits"),
                      help="toy: the lecture's 3×7 layer with small whole numbers; digits: 10×784")
    grad.add_argument("--batch", metavar="B", default=None,
                      help=f"examples per gradient (default 1; with --train {DEFAULT_BATCH}); toy: at most "
                           f"{TOY_MAX_BATCH}, digits: at most the {3000:,} training images")
    grad.add_argument("--alpha", metavar="A", default=None,
                      help="learning rate α of ΔW = −α∇_W L (default 0.5 for xent, 0.02 for mse)")
    grad.add_argument("--seed", type=int, default=0, help="seed of the weights and of the examples (default 0)")
    grad.add_argument("--loss", choices=LOSSES, default="xent",
                      help="xent: softmax cross-entropy (default); mse: ½‖z − y‖² with identity output")
    grad.add_argument("--train", type=_positive_int, metavar="STEPS",
                      help="train the digits layer for STEPS minibatch steps and print the curve")
    grad.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    grad.set_defaults(handler=cmd_grad)

    from .cli_bench import add_bench_parser  # the speed benchmark (issue 7) lives in its own module

    add_bench_parser(commands)

    export = commands.add_parser(
        "export", help="write a panel's picture (PNG, SVG) or an animation of its steps (GIF), or a whole deck",
        usage=f"{PROG} export PANEL [SHAPE ...] [panel options] [--preset NAME | --scenario FILE]\n"
              f"{' ' * 20}[--step S | --steps A:B] [--theme {{light,dark}}] [--size WxH] [--slide] [--fps N]\n"
              f"{' ' * 20}--out FILE\n"
              f"       {PROG} export --deck DIR_OR_PRESET [DIR_OR_PRESET ...] [--size WxH] [--theme {{light,dark}}]\n"
              f"{' ' * 20}[--slide] [--format {{png,svg}}] --out DIR",
        description="Draw a panel's scene offscreen, exactly as the app draws it, and write it to FILE; the format "
                    "follows FILE's extension (.png, .svg, .gif). The scene is a preset, a scenario file, or the "
                    "panel's options, named as in `gpuviz run`, `gpuviz broadcast` and `gpuviz grad` (options not "
                    "given come from --preset, default the panel's first preset). With --deck, every key step of "
                    "many scenarios goes into a folder, with an index.md. Remembered settings never change an export.",
        epilog="Steps count from 0; A:B is half-open (0:8 is eight frames, steps 0 to 7). 3840x2160 PNGs are the "
               "1920x1080 layout drawn at device pixel ratio 2. Examples: `gpuviz export matmul --kernel tiled --m 64 "
               "--n 64 --k 64 --block 8x8 --step 2 --out tiled.png`; `gpuviz export broadcast \"(5,3,2)\" \"(5,2)\" "
               "--out b.svg`; `gpuviz export --deck all --out deck`. Exit codes: 0 written, 1 a deck picture "
               "failed (the others are written), 2 bad request.")
    export.add_argument("panel", nargs="?", metavar="PANEL", help="matmul, broadcast or grad (not with --deck)")
    export.add_argument("shapes", nargs="*", metavar="SHAPE",
                        help="broadcast: the shapes, right after PANEL, as `gpuviz broadcast` reads them")
    source = export.add_mutually_exclusive_group()
    # dests differ from the desktop app's --preset/--scenario/--theme/--size, which the export must not trigger
    source.add_argument("--preset", dest="export_preset", metavar="NAME",
                        help="the preset to show (file name in assets/presets without .toml, or its title); "
                             "default the panel's first preset")
    source.add_argument("--scenario", dest="export_scenario", metavar="FILE", help="a scenario file (.toml) to show")
    when = export.add_mutually_exclusive_group()
    when.add_argument("--step", dest="export_step", type=int, metavar="S",
                      help="the step to show (PNG, SVG); default the scenario's own")
    when.add_argument("--steps", dest="export_steps", metavar="A:B",
                      help="GIF: the half-open range of steps to animate (default all)")
    export.add_argument("--theme", dest="export_theme", choices=("light", "dark"), default="light",
                        help="colour theme (default light)")
    export.add_argument("--size", dest="export_size", type=_export_size, default=(1920, 1080), metavar="WxH",
                        help="picture size in pixels, at most 7680x4320 (default 1920x1080)")
    export.add_argument("--slide", dest="export_slide", action="store_true",
                        help="the slide look: only the figure, its title, legend and the key step's caption, large "
                             "text on a light background")
    export.add_argument("--fps", dest="export_fps", type=float, default=None, metavar="N",
                        help="GIF frames per second (default 4)")
    export.add_argument("--out", required=True, metavar="FILE",
                        help="the file to write: .png, .svg or .gif; with --deck, the folder")
    mm = export.add_argument_group("matmul options (as in `gpuviz run`)")
    mm.add_argument("--kernel", choices=KERNELS, help="which kernel computes C")
    mm.add_argument("--m", type=_size, metavar="M", help="rows of A and C")
    mm.add_argument("--n", type=_size, metavar="N", help="columns of B and C")
    mm.add_argument("--k", type=_size, metavar="K", help="columns of A, rows of B")
    mm.add_argument("--block", type=_block, metavar="BXxBY", help="threads per block, e.g. 16x16")
    mm.add_argument("--seed", type=int, help="matmul and grad: the seed of the inputs (default 0)")
    gr = export.add_argument_group("grad options (as in `gpuviz grad`)")
    gr.add_argument("--layer", choices=LAYERS, help="toy: the lecture's 3×7 layer; digits: 10×784")
    gr.add_argument("--batch", metavar="B", help="the digits run's minibatch size (1 to 3,000)")
    gr.add_argument("--alpha", metavar="A", help="learning rate α of ΔW = −α∇_W L")
    gr.add_argument("--loss", choices=LOSSES, help="xent (softmax cross-entropy) or mse")
    gr.add_argument("--train", type=_positive_int, metavar="STEPS",
                    help="train the digits layer for STEPS minibatch steps before drawing")
    gr.add_argument("--view", choices=GRAD_VIEWS,
                    help="which view of the grad panel: layer (one example's gradient), batch (a batch as a sum "
                         "of outer products, the view with steps) or train (the training curve and W)")
    sp = export.add_argument_group("speed options")
    sp.add_argument("--results", metavar="FILE.json",
                    help="the measurements to draw: a file written by `gpuviz bench --save` (or --json)")
    deck = export.add_argument_group("a deck of pictures")
    deck.add_argument("--deck", nargs="+", metavar="DIR_OR_PRESET",
                      help="folders of scenario files, scenario files, preset names, or `all` (every shipped "
                           "preset): each key step (or the scenario's own step) to --out DIR/<scenario>/step-<S>.png, "
                           "and DIR/index.md")
    deck.add_argument("--format", dest="deck_format", choices=("png", "svg"), default=None,
                      help="with --deck: the pictures' format (default png)")
    export.set_defaults(handler=cmd_export)
    return parser


def _export_size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", text)
    if match is None:
        raise argparse.ArgumentTypeError(f"cannot read {text!r} as a picture size: write WIDTHxHEIGHT, e.g. 1920x1080")
    width, height = int(match.group(1)), int(match.group(2))
    if not (1 <= width <= 7680 and 1 <= height <= 4320):
        raise argparse.ArgumentTypeError(f"--size {text}: each side must be at least 1 pixel and at most "
                                         f"7680x4320 (8K)")
    return width, height


#: The grad panel's views (``[view] view`` of a grad scenario); only ``batch`` has steps.
GRAD_VIEWS = ("layer", "batch", "train")
#: ``gpuviz export``'s panel options by panel (attribute names of the parsed arguments).
EXPORT_PANEL_OPTIONS = {
    "matmul": ("kernel", "m", "n", "k", "block", "seed"),
    "broadcast": ("shapes",),
    "grad": ("layer", "batch", "alpha", "seed", "loss", "train", "view"),
    "speed": ("results",),
}
_EXPORT_PANELS = tuple(EXPORT_PANEL_OPTIONS)


def _option_name(attr: str) -> str:
    return "SHAPE" if attr == "shapes" else f"--{attr}"


def _given(args, attrs) -> list[str]:
    # `is None`, not falsiness: --m 0 is given (and refused with run's message), an empty SHAPE list is not
    return [a for a in attrs if getattr(args, a, None) is not None and getattr(args, a) != []]


def _base_scenario(args, panel: str):
    """The scenario --scenario or --preset names, or None (the panel's first preset)."""
    from .model.scenario import ScenarioError, load_presets, load_scenario
    from .model.scene import SceneError

    if args.export_scenario:
        try:
            return load_scenario(Path(args.export_scenario))
        except (ScenarioError, OSError, TypeError, KeyError, SceneError, LaunchError) as e:
            raise UsageError(f"--scenario {args.export_scenario}: {getattr(e, 'reason', None) or e}") from None
    if args.export_preset:
        presets, _errors = load_presets(panel)
        wanted = args.export_preset.strip().lower().removesuffix(".toml")
        matches = [s for s in presets if wanted in (s.name.lower(), s.title.lower())]
        if not matches:
            names = ", ".join(s.name for s in presets) or "none could be read"
            raise UsageError(f"--preset {args.export_preset}: no such {panel} preset; they are: {names}")
        return matches[0]
    return None


def _first_preset(panel: str):
    from .model.scenario import load_presets

    presets, _errors = load_presets(panel)
    return presets[0] if presets else None


def _checked(scenario, views):
    """``scenario`` with the first of ``views`` that fits it: a changed product keeps the view where it still can."""
    from dataclasses import replace

    from .model.scenario import ScenarioError, check_scenario

    error = None
    for view in views:
        candidate = replace(scenario, view=view)
        try:
            check_scenario(candidate)
        except ScenarioError as e:
            error = e
            continue
        return candidate
    raise UsageError(error.reason if error is not None else "the scenario cannot be shown")


def _matmul_scenario(args, base):
    from dataclasses import replace

    from .model.scenario import Scenario
    from .model.scene import MatmulParams

    base = base or _first_preset("matmul")
    bp = base.params if base is not None else MatmulParams()
    kernel = args.kernel or bp.kernel
    m, n, k = (bp.m if args.m is None else args.m), (bp.n if args.n is None else args.n), \
        (bp.k if args.k is None else args.k)
    block = args.block or Dim3.of(bp.block)
    # `gpuviz run`'s checks, in its order, so a wrong export request reads exactly like a wrong run
    problem = MatmulProblem(m, n, k)
    check_launch(Dim3(1), block)
    launch_for(kernel, problem, block)
    params = replace(bp, kernel=kernel, m=m, n=n, k=k, block=(block.x, block.y),
                     seed=bp.seed if args.seed is None else args.seed)
    if base is not None and params == bp:
        return base
    # the preset's title, description and key-step captions describe its own product, not this one
    title = f"{kernel} kernel: C ({m}×{n}) = A ({m}×{k}) · B ({k}×{n}), {block.x}×{block.y} blocks"
    view = dict(base.view) if base is not None else {}
    positions = {key: v for key, v in view.items() if key not in ("step", "selected_block", "selected_thread")}
    plain = {key: v for key, v in positions.items() if key != "compare_kernel"}
    return _checked(Scenario("matmul", title, params), [view, positions, plain])


def _broadcast_scenario(args, base):
    from .model.scenario import Scenario

    try:
        ex = bc.explain(*args.shapes)
    except bc.ShapeParseError as e:
        raise UsageError(str(e)) from None
    base = base or _first_preset("broadcast")
    values = None
    for kind in ((base.params.get("values") if base is not None and isinstance(base.params, dict) else None),
                 "arange"):
        if kind is None:
            continue
        try:
            bc.check_values(ex.shapes, kind)
        except ValueError:
            continue
        values = kind
        break
    params = bc.BroadcastParams(tuple(ex.shapes), values).to_dict()
    if base is not None and isinstance(base.params, dict) and \
            bc.BroadcastParams.from_dict(base.params).shapes == tuple(ex.shapes):
        return base
    title = " + ".join(bc.format_shape(s) for s in ex.shapes)
    return _checked(Scenario("broadcast", title, params), [{}])


def _grad_scenario(args, base):
    from .model import dense
    from .model.scenario import Scenario

    base = base or _first_preset("grad")
    raw = base.params if base is not None else {"layer": "toy"}
    p = dict(raw.to_dict() if hasattr(raw, "to_dict") else raw)
    view = dict(base.view) if base is not None else {"view": "layer"}
    layer = args.layer or p.get("layer", "digits")
    if args.train is not None and layer != "digits":
        raise UsageError("--train needs --layer digits: the toy layer has no data set to learn from")
    if args.batch is not None:
        if layer == "toy":
            raise UsageError("--batch sets the digits run's minibatch; the grad panel shows the toy layer with its "
                             "one example (use --layer digits)")
        p["batch"] = dense.check_batch(args.batch, dense.DIGITS_TRAIN)
    if args.alpha is not None:
        p["alpha"] = dense.check_alpha(args.alpha)
    if args.layer is not None and args.layer != p.get("layer", "digits"):
        view.pop("selected", None)  # an entry of one layer's W need not exist in the other's
        p.pop("steps", None)
    p["layer"] = layer
    for attr in ("seed", "loss"):
        if getattr(args, attr) is not None:
            p[attr] = getattr(args, attr)
    if args.train is not None:
        p["steps"] = args.train
        view.pop("train_steps", None)  # the panel reads [params] steps first; keep one source of truth
    if args.view is not None:
        view["view"] = args.view
    params = dense.GradParams.from_dict(p)
    if base is not None and params == dense.GradParams.from_dict(dict(raw.to_dict() if hasattr(raw, "to_dict")
                                                                     else raw)) and view == base.view:
        return base
    what = "the 3×7 toy layer" if layer == "toy" else "the 10×784 digits layer"
    if view.get("view") == "train":
        title = f"Training {what}: α = {params.learning_rate:g}, batch {params.batch}, seed {params.seed}"
    else:
        trained = f", after {params.steps} training steps" if params.steps else ""
        batch = f", batch {params.batch}" if view.get("view") == "batch" else ""
        title = f"Weight gradient of {what} ({params.loss}{batch}, seed {params.seed}{trained})"
    return _checked(Scenario("grad", title, params.to_dict(), view=view), [view])


def _speed_scenario(args, base):
    """The speed panel drawing the measurements in ``--results`` (checked here so a bad file is one line)."""
    from .model.scenario import MAX_SPEED_SIZES, Scenario
    from .model.speed import BenchResults

    path = Path(args.results).expanduser().resolve()
    try:
        results = BenchResults.load(path)
    except Exception as e:  # any unreadable or malformed file is the user's input: one line
        raise UsageError(f"--results {args.results}: {getattr(e, 'reason', None) or e}") from None
    ops = results.ops()
    if not ops:
        raise UsageError(f"--results {args.results}: the file holds no measurements")
    # the controls show what was measured (the panel does the same when it loads a file)
    op = ops[0]
    params = {"op": op, "sizes": results.sizes(op)[:MAX_SPEED_SIZES], "impls": results.impls(op)}
    title = f"Speed of {', '.join(ops)}, measured on {results.machine.label()}"
    return Scenario("speed", title, params, view={**(base.view if base is not None else {}), "results": str(path)})


def _export_scenario(args, panel: str):
    """The scenario ``gpuviz export PANEL`` draws: --scenario/--preset, changed by the panel's options."""
    base = _base_scenario(args, panel)
    if not _given(args, EXPORT_PANEL_OPTIONS[panel]):
        return base
    return {"matmul": _matmul_scenario, "broadcast": _broadcast_scenario, "grad": _grad_scenario,
            "speed": _speed_scenario}[panel](args, base)


def _check_export_request(args) -> None:
    """One line for options that do not belong together, before anything is drawn."""
    every = sorted({a for attrs in EXPORT_PANEL_OPTIONS.values() for a in attrs}, key=str)
    if args.deck:
        if args.panel is not None:
            raise UsageError(f"--deck takes no PANEL (got {args.panel!r}): each scenario names its own panel")
        stray = _given(args, every) + [name for name, value in (
            ("--preset", args.export_preset), ("--scenario", args.export_scenario), ("--step", args.export_step),
            ("--steps", args.export_steps), ("--fps", args.export_fps)) if value is not None]
        if stray:
            name = stray[0] if stray[0].startswith("-") else _option_name(stray[0])
            raise UsageError(f"{name} does not go with --deck: a deck exports each scenario's own key steps")
        return
    if args.deck_format is not None:
        raise UsageError("--format goes with --deck; a single export takes its format from --out's extension")
    if args.panel is None:
        raise UsageError(f"give a PANEL ({', '.join(_EXPORT_PANELS)}) or --deck DIR_OR_PRESET ...")
    if args.panel not in _EXPORT_PANELS:
        raise UsageError(f"unknown panel {args.panel!r}: choose one of {', '.join(_EXPORT_PANELS)}")
    own = EXPORT_PANEL_OPTIONS[args.panel]
    foreign = [a for a in _given(args, every) if a not in own]
    if foreign:
        owners = [p for p, attrs in EXPORT_PANEL_OPTIONS.items() if foreign[0] in attrs]
        if foreign[0] == "shapes":
            raise UsageError(f"the {args.panel} panel takes no SHAPE (got {' '.join(args.shapes)!r}); shapes go "
                             f"with `export broadcast`")
        raise UsageError(f"{_option_name(foreign[0])} is an option of the {' and '.join(owners)} panel, not of "
                         f"{args.panel}")


def _qt_for_export(what: str = "export"):
    """PyQt6 on the offscreen platform, with its harmless show() notice silenced; returns the previous handler."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    try:
        import pyqtgraph  # noqa: F401
        from PyQt6 import QtWidgets  # noqa: F401
    except ImportError as e:
        raise UsageError(f"{what} needs PyQt6 and pyqtgraph, which could not be loaded ({e})") from None
    from PyQt6.QtCore import qInstallMessageHandler

    def quiet(mode, context, message):
        # the offscreen platform logs this harmless line on every show() (DESIGN.md); errors stay one line
        if "propagateSizeHints" not in message:
            print(message, file=sys.stderr)

    return qInstallMessageHandler(quiet)


def _export_deck(args) -> int:
    previous = _qt_for_export("export --deck")
    from PyQt6.QtCore import qInstallMessageHandler

    from .ui import deck

    try:
        try:
            scenarios, failures = deck.resolve_sources(args.deck)
        except deck.DeckError as e:
            raise UsageError(str(e)) from None
        for f in failures:
            print(f"[-] {f.name} could not be read: {f.message}", file=sys.stderr)

        def progress(event):
            print(event.line(), file=sys.stderr, flush=True)

        try:
            result = deck.export_deck(scenarios, args.out, size=args.export_size, theme=args.export_theme,
                                      slide=args.export_slide, fmt=args.deck_format or "png", failures=failures,
                                      progress=progress)
        except deck.DeckError as e:
            raise UsageError(str(e)) from None
    finally:
        qInstallMessageHandler(previous)  # in-process callers (tests) keep their own handler
    failed = f"; {_count(len(result.failures), 'failure')} (listed in the index)" if result.failures else ""
    skipped = f"; skipped {len(result.skipped)} with nothing to show yet" if result.skipped else ""
    print(f"wrote {_count(len(result.written), 'picture')} and {result.index} in "
          f"{_format_seconds(result.seconds)}{failed}{skipped}")
    return EXIT_OK if result.ok else EXIT_FAILED


def cmd_export(args) -> int:
    """``gpuviz export``: one panel's scene to a PNG, SVG or GIF file, or a deck of them, offscreen."""
    from .model.scenario import ScenarioError

    _check_export_request(args)
    if args.deck:
        return _export_deck(args)
    fmt = Path(args.out).suffix.lower()
    if fmt not in (".png", ".svg", ".gif"):
        raise UsageError(f"--out {args.out}: unknown picture format {fmt or '(no extension)'!r}; "
                         f"the file name must end in .png, .svg or .gif")
    if args.export_steps is not None and fmt != ".gif":
        raise UsageError(f"--steps goes with a .gif file; {fmt} shows one step (use --step S)")
    if args.export_step is not None and fmt == ".gif":
        raise UsageError("--step shows one step: a .gif takes --steps A:B")
    if args.export_fps is not None and not (0 < args.export_fps <= 50):
        raise UsageError(f"--fps {args.export_fps:g}: must be above 0 and at most 50")
    if args.export_fps is not None and fmt != ".gif":
        raise UsageError(f"--fps goes with a .gif file; {fmt} is one picture")
    scenario = _export_scenario(args, args.panel)
    previous = _qt_for_export()
    from PyQt6.QtCore import qInstallMessageHandler

    from .ui.export import ExportError, export_panel, parse_steps

    extra = {"slide": True} if args.export_slide else {}
    try:
        steps = parse_steps(args.export_steps) if args.export_steps is not None else None
        path = export_panel(args.panel, scenario, args.out, size=args.export_size, theme=args.export_theme,
                            step=args.export_step, steps=steps, fps=args.export_fps or 4.0, **extra)
    except (ExportError, ScenarioError) as e:
        raise UsageError(str(e)) from None
    except OSError as e:
        raise UsageError(f"--out {args.out}: cannot write there ({e.strerror or e})") from None
    finally:
        qInstallMessageHandler(previous)  # in-process callers (tests) keep their own handler
    print(f"wrote {path}")
    return EXIT_OK


# -- shared steps -------------------------------------------------------------------------


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _validate_launch(args) -> tuple[MatmulProblem, LaunchConfig]:
    """Problem and launch of the arguments; raises ShapeError / LaunchError."""
    problem = MatmulProblem(args.m, args.n, args.k)
    # the block's own limits first: "blockDim.z = 65 exceeds 64" teaches more
    # than "the matmul kernels use 2-D blocks"
    check_launch(Dim3(1), args.block)
    return problem, launch_for(args.kernel, problem, args.block)


def _check_budget(engine: Engine, args, problem, backend: str, *, trace: bool) -> None:
    plan = plan_run(args.kernel, problem, args.block, simulator=backend == "simulator", trace=trace)
    engine.budget.check(plan, confirmed=args.yes)


def _check_writable(path: str, option: str = "--out", example: str = "trace.npz") -> Path:
    """Fail now, not after a long run, when ``path`` cannot be written."""
    out = Path(path)
    if out.is_dir():
        raise UsageError(f"{option} {path}: is a folder, expected a file name such as {example}")
    parent = out.parent
    if not parent.is_dir():
        raise UsageError(f"{option} {path}: the folder {str(parent)!r} does not exist")
    existed = out.exists()
    try:
        with open(out, "ab"):
            pass
    except OSError as e:
        raise UsageError(f"{option} {path}: cannot write there ({e.strerror or e})") from None
    if not existed:
        out.unlink()
    return out


def _format_seconds(s: float | None) -> str:
    if s is None:
        return "-"
    if s < 1e-3:
        return f"{s * 1e6:.1f} µs"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def _json_safe(value):
    # a kernel that writes NaN gives a NaN error; JSON has no NaN
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def _print_json(obj) -> None:
    print(json.dumps(_json_safe(obj), allow_nan=False))


class _ProgressLine:
    """Simulator progress on stderr, only on a terminal and only for runs longer than a second."""

    def __init__(self, label: str, stream=None):
        self.stream = stream or sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.label = label
        self.start = time.monotonic()
        self.shown = 0

    def __call__(self, progress) -> None:
        elapsed = time.monotonic() - self.start
        if not self.enabled or elapsed < PROGRESS_DELAY_S or progress.total <= 0:
            return
        pct = 100 * progress.done / progress.total
        text = f"{self.label}: block {progress.done}/{progress.total} ({pct:.0f}%), {elapsed:.0f} s"
        self.stream.write("\r" + text.ljust(self.shown))
        self.stream.flush()
        self.shown = len(text)

    def clear(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * self.shown + "\r")
            self.stream.flush()
            self.shown = 0


def call_cancellable(engine: Engine, call, name: str = "gpuviz-job"):
    """``call()`` (a blocking engine call) in a helper thread, so that Ctrl-C in the main thread cancels it.

    On Ctrl-C the engine is cancelled (repeatedly: the job may not have reached its worker yet) and
    KeyboardInterrupt is raised again; an exception of ``call`` is raised in the main thread.
    """
    box: dict = {}
    # An Event, not Thread.join: on Python < 3.13 a join interrupted by Ctrl-C
    # can leave the thread marked as stopped while it still runs.
    done = threading.Event()

    def target():
        try:
            box["result"] = call()
        except BaseException as e:  # handed to the main thread, which raises it
            box["error"] = e
        finally:
            done.set()

    threading.Thread(target=target, name=name, daemon=True).start()
    try:
        while not done.wait(0.1):
            pass
    except KeyboardInterrupt:
        deadline = time.monotonic() + 10
        while not done.is_set() and time.monotonic() < deadline:
            engine.cancel()
            done.wait(0.05)
        raise
    if "error" in box:
        raise box["error"]
    return box["result"]


def _run_cancellable(engine: Engine, job: MatmulJob, on_progress, confirmed: bool) -> RunResult:
    return call_cancellable(engine, lambda: engine.run(job, on_progress, confirmed=confirmed), "gpuviz-run")


def _resolve_backend(engine: Engine, args, problem, *, trace: bool) -> str:
    # memory does not depend on the backend: refuse an impossible size before
    # spending a second looking for a GPU
    _check_budget(engine, args, problem, "gpu", trace=trace)
    backend = engine.resolve_backend(args.backend)
    _check_budget(engine, args, problem, backend, trace=trace)
    return backend


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def _launch_text(summary: dict) -> str:
    grid, block = Dim3(*summary["grid"]), Dim3(*summary["block"])
    return (f"grid {grid} × block {block}: {_count(summary['blocks'], 'block')}, "
            f"{_count(summary['threads'], 'thread')}, {_count(summary['warps'], 'warp')} "
            f"({summary['warps_per_block']} per block), {_count(summary['idle_threads'], 'idle thread')}")


def _backend_text(result: RunResult) -> str:
    if result.backend == "gpu":
        return f"gpu ({result.gpu_name})" if result.gpu_name else "gpu"
    return "simulator (Numba's CUDA simulator, on the CPU)"


# -- commands -----------------------------------------------------------------------------


def cmd_run(args) -> int:
    with Engine(Budget(memory_bytes=args.memory)) as engine:
        problem, _ = _validate_launch(args)
        backend = _resolve_backend(engine, args, problem, trace=False)
        job = MatmulJob(args.kernel, args.m, args.n, args.k, args.block, seed=args.seed, backend=backend,
                        repeat=args.repeat)
        progress = _ProgressLine(f"simulating {args.kernel}") if backend == "simulator" else None
        try:
            result = _run_cancellable(engine, job, progress, args.yes)
        finally:
            if progress is not None:
                progress.clear()
    return _report_run(result, args)


def _report_run(result: RunResult, args) -> int:
    summary = result.summary()
    if result.status == "cancelled":
        print(f"{PROG}: cancelled", file=sys.stderr)
        return EXIT_CANCELLED
    if args.json:
        _print_json(summary)
    elif result.status in ("ok", "wrong"):
        m, n, k = result.job.m, result.job.n, result.job.k
        print(f"{result.job.kernel} kernel: C ({m}×{n}) = A ({m}×{k}) · B ({k}×{n}), seed {result.job.seed}")
        print(f"  backend  {_backend_text(result)}")
        print(f"  launch   {_launch_text(summary)}")
        verdict = "correct" if result.ok else "WRONG"
        print(f"  check    {verdict}: max abs error {result.max_abs_error:.3g}, "
              f"relative {result.rel_error:.3g} (against a float64 NumPy product)")
        print(f"  time     {_format_seconds(result.seconds)} ({result.timing})")
    if result.ok:
        return EXIT_OK
    print(f"{PROG}: {_one_line(result.message)}", file=sys.stderr)
    return EXIT_FAILED


def cmd_trace(args) -> int:
    with Engine(Budget(memory_bytes=args.memory)) as engine:
        problem, launch = _validate_launch(args)
        if args.source == "vectorized":
            # NumPy computes it: no backend involved, but the same memory budget
            _check_budget(engine, args, problem, "none", trace=True)
        else:
            if args.backend == "gpu":
                raise UsageError("a trace is recorded by the CUDA simulator: use --backend simulator "
                                 "(or auto), or --source vectorized")
            _check_budget(engine, args, problem, "simulator", trace=True)
        out = _check_writable(args.out)

        result = None
        started = time.perf_counter()
        if args.source == "vectorized":
            try:
                from .model.vectorized import vectorized_trace
            except ImportError as e:
                if e.name != f"{__package__}.model.vectorized":
                    raise
                raise UsageError(f"--source vectorized is not available in this version ({e})") from None
            trace = vectorized_trace(args.kernel, problem, launch.block, seed=args.seed)
            seconds = time.perf_counter() - started
        else:
            job = MatmulJob(args.kernel, args.m, args.n, args.k, args.block, seed=args.seed,
                            backend="simulator", record=True)
            progress = _ProgressLine(f"recording {args.kernel}")
            try:
                result = _run_cancellable(engine, job, progress, args.yes)
            finally:
                progress.clear()
            if result.status == "cancelled":
                print(f"{PROG}: cancelled", file=sys.stderr)
                return EXIT_CANCELLED
            if result.trace is None:
                print(f"{PROG}: {_one_line(result.message)}", file=sys.stderr)
                return EXIT_FAILED
            trace, seconds = result.trace, result.seconds

    meta = {"kernel": args.kernel, "m": problem.m, "n": problem.n, "k": problem.k,
            "grid": list(launch.grid.as_tuple()), "block": list(launch.block.as_tuple()),
            "source": args.source}
    meta.update(trace.meta or {})
    meta.setdefault("gpuviz", __version__)
    trace.meta = meta
    try:
        with open(out, "wb") as f:
            # a file object, not a name: numpy would append ".npz" to a name without it
            trace.save(f)
    except OSError as e:  # checked writable before the run, but a disk can still fill up
        print(f"{PROG}: could not write {out}: {e.strerror or e}", file=sys.stderr)
        return EXIT_FAILED
    size = out.stat().st_size

    info = {"events": len(trace), "file": str(out), "bytes": size, "source": args.source,
            "kernel": args.kernel, "m": problem.m, "n": problem.n, "k": problem.k,
            "grid": list(launch.grid.as_tuple()), "block": list(launch.block.as_tuple()),
            "seconds": seconds}
    if result is not None:
        info.update({key: value for key, value in result.summary().items()
                     if key in ("status", "backend", "max_abs_error", "rel_error", "correct")})
    if args.json:
        _print_json(info)
    else:
        how = "recorded in the CUDA simulator" if args.source == "recorded" else "computed by NumPy"
        print(f"wrote {len(trace):,} events to {out} ({format_bytes(size)}): {args.kernel} "
              f"{problem.m}×{problem.n}×{problem.k}, {launch}, {how} in {_format_seconds(seconds)}")
    if result is not None and not result.ok:
        print(f"{PROG}: the trace was written, but {_one_line(result.message)}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _shape_table(ex: bc.Explanation) -> list[str]:
    """The shapes right-aligned in columns, padded 1s in brackets, and a row of verdicts under them."""
    labels = [bc.format_shape(s) for s in ex.shapes]
    cells = [[f"[{p}]" if d >= len(s) else str(p) for d, p in zip(range(ex.ndim - 1, -1, -1), padded)]
             for s, padded in zip(ex.shapes, ex.padded)]
    marks = {"equal": "ok", "incompatible": "NO"}
    verdicts = []
    for c in reversed(ex.comparisons):
        if ex.failing_dim is not None and c.from_right > ex.failing_dim:
            verdicts.append("")  # never compared: NumPy stops at the first mismatch from the right
        elif c.verdict == "stretch":
            verdicts.append(f"1→{c.result}")
        else:
            verdicts.append(marks[c.verdict])
    rows = cells + [verdicts]
    if ex.ok:
        rows.append([str(d) for d in ex.result_shape])
    width = max([len(x) for row in rows for x in row] + [1])
    names = labels + ["compare"] + (["result"] if ex.ok else [])
    name_width = max(len(n) for n in names)
    return [f"  {name.ljust(name_width)}  " + " ".join(x.rjust(width) for x in row).rstrip()
            for name, row in zip(names, rows)]


def cmd_broadcast(args) -> int:
    try:
        ex = bc.explain(*args.shapes)
    except bc.ShapeParseError as e:
        raise UsageError(str(e)) from None
    if args.json:
        _print_json(ex.to_dict())
        return EXIT_OK
    print(" + ".join(bc.format_shape(s) for s in ex.shapes))
    print()
    for line in _shape_table(ex):
        print(line)
    print()
    for i, step in enumerate(ex.steps, 1):
        print(f"{i}. {step.title}")
        print(f"   {step.text}")
    print()
    if ex.ok:
        print(f"Verdict: works, the result has shape {bc.format_shape(ex.result_shape)}. {ex.reason}")
    else:
        print(f"Verdict: fails at dimension {ex.failing_dim} from the right (NumPy raises a ValueError).")
    return EXIT_OK


def _grad_setup(args):
    """Layer, examples and labels of ``gpuviz grad``'s arguments; raises DenseError / UsageError."""
    import numpy as np

    from .model import dense

    alpha = dense.check_alpha(dense.DEFAULT_ALPHA[args.loss] if args.alpha is None else args.alpha)
    if args.layer == "toy":
        if args.train is not None:
            raise UsageError("--train needs --layer digits: the toy layer has no data set to learn from")
        batch = dense.check_batch(1 if args.batch is None else args.batch, TOY_MAX_BATCH)
        if batch == 1:
            layer, x, y = dense.toy_layer(args.seed, args.loss)
        else:
            layer, x, y = dense.toy_batch(args.seed, batch, args.loss)
        return layer, x, y, alpha, batch, None
    data = _load_digits()
    default = DEFAULT_BATCH if args.train is not None else 1
    batch = dense.check_batch(default if args.batch is None else args.batch, data.n_train)
    layer = dense.digits_layer(args.seed, args.loss)
    rows = np.random.default_rng(args.seed).choice(data.n_train, size=batch, replace=False)
    if batch == 1:
        return layer, data.train_x[rows[0]], int(data.train_y[rows[0]]), alpha, batch, data
    return layer, data.train_x[rows], data.train_y[rows], alpha, batch, data


def _load_digits():
    from .model.digits import load_digits

    try:
        return load_digits()
    except (FileNotFoundError, OSError, KeyError, ValueError) as e:
        raise UsageError(f"the shipped digit images could not be read ({e}); reinstall gpuviz or run "
                         "scripts/make_digits.py in a checkout") from None


def _check_entries(layer, x, seed: int):
    """Entries (i, j) of W to check by finite differences: all for the toy, a seeded sample for the digits."""
    import numpy as np

    if layer.W.size <= GRAD_CHECK_ENTRIES:
        return None
    X = np.atleast_2d(x)
    # pixels without ink in any example have a gradient column of exact zeros; sample where it can be wrong
    inked = np.flatnonzero((X != 0).any(axis=0))
    cols = inked if inked.size else np.arange(layer.n)
    rng = np.random.default_rng(seed)
    return np.stack([rng.integers(0, layer.m, GRAD_CHECK_ENTRIES), rng.choice(cols, GRAD_CHECK_ENTRIES)], axis=1)


def cmd_grad(args) -> int:
    import numpy as np

    from .model import dense

    layer, x, y, alpha, batch, data = _grad_setup(args)
    if args.train is not None:
        return _grad_train(args, layer, data, alpha)
    g = layer.backward(x, y)
    entries = _check_entries(layer, x, args.seed)
    fd = dense.numerical_gradient(layer, x, y, entries=entries)
    ga = g.dW if entries is None else g.dW[entries[:, 0], entries[:, 1]]
    norm_g = float(np.linalg.norm(ga))
    rel = float(np.linalg.norm(ga - fd)) / norm_g if norm_g > 0 else float(np.linalg.norm(ga - fd))
    ok = rel < GRAD_CHECK_TOL
    checked = layer.W.size if entries is None else len(entries)
    m, n = layer.W.shape
    loss_name = {"xent": "softmax cross-entropy", "mse": "mean squared error"}[args.loss]
    info = {
        "layer": args.layer, "loss_function": args.loss, "batch": batch, "seed": args.seed, "alpha": alpha,
        "W_shape": [m, n], "grad_shape": list(g.dW.shape), "loss": g.loss,
        "grad_norm": float(np.linalg.norm(g.dW)), "grad_max_abs": float(np.abs(g.dW).max()),
        "bias_grad_norm": float(np.linalg.norm(g.db)), "update_norm": alpha * float(np.linalg.norm(g.dW)),
        "zero_entries": int((g.dW == 0).sum()), "shape_story": g.shape_story,
        "check": {"relative_error": rel, "tolerance": GRAD_CHECK_TOL, "entries_checked": checked,
                  "entries_total": int(layer.W.size), "eps": 1e-6, "ok": ok},
    }
    if args.json:
        _print_json(info)
    else:
        what = "the lecture's 3×7 toy layer" if args.layer == "toy" else "the 10×784 digits layer"
        examples = "one example" if batch == 1 else f"a batch of {batch} examples"
        print(f"{what}, {loss_name}, {examples}, seed {args.seed}")
        for i, line in enumerate(g.shape_story):
            print(f"  {'shapes' if i == 0 else '':8} {line}")
        if args.layer == "toy":
            with np.printoptions(precision=3, suppress=True, linewidth=100):
                print("  W =", np.array2string(layer.W, prefix="  W = "))
                print("  b =", layer.b)
                print("  x =", np.array2string(np.atleast_2d(x), prefix="  x = ") if batch > 1 else x)
                print("  y =", y)
                print("  δ = p − y =", np.array2string(g.dz, prefix="  δ = p − y = "))
                print("  ∇_W L =", np.array2string(g.dW, prefix="  ∇_W L = "))
        print(f"  {'loss':8} {g.loss:.6g}")
        print(f"  {'∇_W L':8} shape {g.dW.shape}, norm {info['grad_norm']:.6g}, largest |entry| "
              f"{info['grad_max_abs']:.3g}, {info['zero_entries']:,} of {g.dW.size:,} entries exactly 0")
        print(f"  {'∇_b L':8} shape {g.db.shape}, norm {info['bias_grad_norm']:.6g}")
        print(f"  {'update':8} ΔW = −α∇_W L with α = {alpha:g}: norm {info['update_norm']:.6g}")
        scope = f"all {checked:,} entries" if entries is None else \
            f"{checked:,} random entries of {layer.W.size:,} (pixels with ink)"
        print(f"  {'check':8} {'ok' if ok else 'FAILED'}: ‖g − g_fd‖ / ‖g‖ = {rel:.2e} "
              f"({'<' if ok else '≥'} {GRAD_CHECK_TOL:g}) over {scope}, central differences, ε = 1e-6, float64")
    if not ok:
        print(f"{PROG}: the gradient disagrees with finite differences (relative error {rel:.2e})", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _grad_train(args, layer, data, alpha) -> int:
    from .model import dense

    trainer = dense.Trainer(layer, data, alpha=alpha,
                            batch=DEFAULT_BATCH if args.batch is None else args.batch, seed=args.seed)
    started = time.perf_counter()
    records = trainer.run(args.train)
    seconds = time.perf_counter() - started
    done = [r for r in records if not r.diverged]
    last = records[-1]
    info = {
        "layer": args.layer, "loss_function": args.loss, "alpha": trainer.alpha, "batch": trainer.batch,
        "seed": args.seed, "steps": len(done), "steps_asked": args.train,
        "loss": [r.loss for r in done], "accuracy": [r.test_acc for r in done],
        "train_accuracy": [r.train_acc for r in done],
        "final_accuracy": done[-1].test_acc if done else None,
        "diverged": last.diverged, "message": last.message, "seconds": seconds,
        "train_images": data.n_train, "test_images": data.n_test,
    }
    if args.json:
        _print_json(info)
    else:
        print(f"training the 10×784 digits layer: {trainer.layer.loss}, α = {trainer.alpha:g}, batch "
              f"{trainer.batch}, seed {args.seed}; {data.n_train:,} training / {data.n_test:,} held-out "
              f"synthetic images")
        print(f"  {'step':>5}  {'loss':>8}  {'batch acc':>9}  {'held-out acc':>12}")
        every = max(1, len(done) // 20)
        for r in done:
            if r.step == 1 or r.step % every == 0 or r is done[-1]:
                print(f"  {r.step:>5}  {r.loss:>8.4f}  {r.train_acc:>9.3f}  {r.test_acc:>12.3f}")
        if done:
            print(f"  {_count(len(done), 'step')} in {_format_seconds(seconds)}: held-out accuracy "
                  f"{done[-1].test_acc:.3f} (chance 0.1)")
    if last.diverged:
        print(f"{PROG}: training stopped at step {last.step}: {_one_line(last.message)}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _dist_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def gather_info(engine: Engine) -> dict:
    """What ``gpuviz --info`` reports (imports neither Qt nor numba in this process)."""
    from .paths import assets_dir

    info = {"gpuviz": __version__, "python": platform.python_version(), "python_executable": sys.executable,
            "platform": platform.platform()}
    for name in INFO_PACKAGES:
        info[name.lower().replace("-", "_")] = _dist_version(name)
    gpu = engine.gpu_info()
    info["cuda_target"] = gpu.get("cuda_target")
    info["backend"] = "gpu" if gpu.get("gpu_available") else "simulator"
    info["gpu_name"] = gpu.get("gpu_name")
    info["compute_capability"] = gpu.get("compute_capability")
    info["sm_count"] = gpu.get("sm_count")
    info["gpu_error"] = gpu.get("error")
    try:
        info["assets"] = str(assets_dir())
    except FileNotFoundError as e:
        info["assets"] = None
        info["assets_error"] = str(e)
    return info


def cmd_info(args) -> int:
    with Engine() as engine:
        info = gather_info(engine)
    if args.info_json:
        _print_json(info)
        return EXIT_OK
    missing = "not installed"
    rows = [("gpuviz", info["gpuviz"]), ("Python", f"{info['python']} ({info['python_executable']})")]
    rows += [(name, info[name.lower().replace("-", "_")] or missing) for name in INFO_PACKAGES]
    target = {"numba-cuda": "numba-cuda (NVIDIA's CUDA target)",
              "built-in": "built-in (numba's own CUDA target and simulator)"}.get(info["cuda_target"])
    rows.append(("CUDA target", target or f"unknown ({info['gpu_error'] or 'numba could not be loaded'})"))
    if info["backend"] == "gpu":
        cc = ".".join(str(c) for c in info["compute_capability"] or ())
        backend = f"gpu: {info['gpu_name']} (compute capability {cc}, {info['sm_count']} SMs)"
    else:
        why = f": {info['gpu_error']}" if info["gpu_error"] else ""
        backend = f"simulator (no CUDA GPU found{why})"
    rows.append(("auto backend", backend))
    rows.append(("assets", info["assets"] or info.get("assets_error", "missing")))
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label.ljust(width)}  {value}")
    return EXIT_OK


# -- the desktop app ----------------------------------------------------------------------


def _gui_options_given(args) -> list[str]:
    return [f"--{name}" for name in GUI_OPTIONS if getattr(args, name) not in (None, False)]


def run_gui(args) -> int:
    """Start the desktop app for parsed ``args`` (no command given); returns the exit code."""
    if args.size is not None and not args.screenshot:
        raise UsageError("--size goes with --screenshot FILE.png")
    if args.screenshot:
        if Path(args.screenshot).suffix.lower() != ".png":
            raise UsageError(f"--screenshot {args.screenshot}: the file name must end in .png")
        _check_writable(args.screenshot, "--screenshot", "screenshot.png")
        args.size = args.size or SCREENSHOT_SIZE
    if args.scenario and not Path(args.scenario).is_file():
        raise UsageError(f"--scenario {args.scenario}: no such file")
    try:
        import pyqtgraph  # noqa: F401
        from PyQt6 import QtWidgets  # noqa: F401
    except ImportError as e:
        # PyQt6 missing, or present without the system libraries Qt needs (libEGL, libxkbcommon, ...)
        raise UsageError(f"the desktop app needs PyQt6 and pyqtgraph, which could not be loaded ({e}); "
                         f"the command-line tools work without them: see `{PROG} --help`") from None
    from .ui.app import StartError, run

    try:
        return run(args)
    except StartError as e:
        raise UsageError(str(e)) from None


# -- entry point --------------------------------------------------------------------------


def main(argv=None) -> int:
    """Run the ``gpuviz`` command with ``argv`` (default ``sys.argv[1:]``) and return its exit code."""
    parser = build_parser()
    try:
        try:
            args = parser.parse_args(argv)
        except SystemExit as e:  # --help and --version
            return e.code if isinstance(e.code, int) else EXIT_OK
        gui_options = _gui_options_given(args)
        if gui_options and (args.command is not None or args.info):
            what = f"`{args.command}`" if args.command else "--info"
            raise UsageError(f"{gui_options[0]} is an option of the desktop app; it does nothing with {what}")
        if args.info:
            if args.command is not None:
                raise UsageError(f"--info takes no command, got {args.command!r}")
            return cmd_info(args)
        if args.info_json:
            raise UsageError("--json on its own needs --info (or goes after a command: run --json)")
        if args.handler is None:
            return run_gui(args)
        return args.handler(args)
    except (UsageError, LaunchError, ShapeError, BudgetError, BackendError, DenseError) as e:
        hint = getattr(e, "cli_hint", "")
        print(f"{PROG}: error: {_one_line(e)}{f' ({hint})' if hint else ''}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{PROG}: cancelled", file=sys.stderr)
        return EXIT_CANCELLED
    except BrokenPipeError:
        # `gpuviz run ... | head -1`: the reader left, nothing to report
        return EXIT_OK


__all__ = ["build_parser", "cmd_export", "gather_info", "main", "parse_bytes", "run_gui"]
