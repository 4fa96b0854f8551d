"""``gpuviz export``: a panel's picture (PNG, SVG) or an animation of its steps (GIF), or a whole deck.

The scene is a preset, a scenario file, or the panel's options named as in ``run``, ``broadcast`` and
``grad``; it is checked here, without Qt, so a bad request costs one line before PyQt6 is loaded.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..model import broadcast as bc
from ..model.budget import Budget
from ..model.dense import LAYERS, LOSSES
from ..model.grad_panel import VIEWS as GRAD_VIEWS
from ..model.launch import Dim3, check_launch
from ..model.limits import MAX_FPS, MAX_NAME_BYTES, MAX_RESULTS_BYTES, MAX_SCENARIO_BYTES, MIN_FPS
from ..model.matmul import KERNELS, MatmulProblem, launch_for
from ..model.text import format_count, format_duration
from .common import (
    EXIT_FAILED,
    EXIT_OK,
    PROG,
    UsageError,
    block_arg,
    check_input_file,
    check_output,
    memory_arg,
    picture_size,
    read_results_text,
    seed_arg,
    shown,
    size_arg,
    steps_arg,
    whole_number,
)


def _export_size(text: str) -> tuple[int, int]:
    return picture_size(text, 7680, 4320, "at least 1 pixel and at most 7680x4320 (8K)")


def _step(text: str) -> int:
    """``--step S``: a whole number (its range is the scene's, checked when it is drawn)."""
    return whole_number(text, "a step")


def add_parser(commands) -> None:
    """Add ``export`` to ``gpuviz``'s subcommands."""
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
    export.add_argument("--values", nargs="+", metavar="VALUES",
                        help="broadcast: each operand's values, one per SHAPE, as `gpuviz broadcast --values` reads "
                             "them (a nested list such as \"[[1,2,3],[4,5,6]]\", or zeros, ones, arange, random, "
                             "random(SEED), auto)")
    source = export.add_mutually_exclusive_group()
    # dests differ from the desktop app's --preset/--scenario/--theme/--size, which the export must not trigger
    source.add_argument("--preset", dest="export_preset", metavar="NAME",
                        help="the preset to show (file name in assets/presets without .toml, or its title); "
                             "default the panel's first preset")
    source.add_argument("--scenario", dest="export_scenario", metavar="FILE", help="a scenario file (.toml) to show")
    when = export.add_mutually_exclusive_group()
    when.add_argument("--step", dest="export_step", type=_step, metavar="S",
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
    export.add_argument("--memory", dest="export_memory", type=memory_arg, default=Budget().memory_bytes,
                        metavar="SIZE",
                        help="memory budget of the export, as for `gpuviz run` (default 2GiB): a picture or an "
                             "animation estimated over it is refused before anything is drawn")
    mm = export.add_argument_group("matmul options (as in `gpuviz run`)")
    mm.add_argument("--kernel", choices=KERNELS, help="which kernel computes C")
    mm.add_argument("--m", type=size_arg, metavar="M", help="rows of A and C")
    mm.add_argument("--n", type=size_arg, metavar="N", help="columns of B and C")
    mm.add_argument("--k", type=size_arg, metavar="K", help="columns of A, rows of B")
    mm.add_argument("--block", type=block_arg, metavar="BXxBY", help="threads per block, e.g. 16x16")
    mm.add_argument("--seed", type=seed_arg, help="matmul and grad: the seed of the inputs (default 0)")
    gr = export.add_argument_group("grad options (as in `gpuviz grad`)")
    gr.add_argument("--layer", choices=LAYERS, help="toy: the lecture's 3×7 layer; digits: 10×784")
    gr.add_argument("--batch", metavar="B", help="the digits run's minibatch size (1 to 3,000)")
    gr.add_argument("--alpha", metavar="A", help="learning rate α of ΔW = −α∇_W L")
    gr.add_argument("--loss", choices=LOSSES, help="xent (softmax cross-entropy) or mse")
    gr.add_argument("--train", type=steps_arg, metavar="STEPS",
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


def _panel_options() -> dict[str, tuple[str, ...]]:
    """``gpuviz export``'s own options by panel, as the model registry holds them (as data)."""
    # imported when an export is asked for: the registry loads every panel model, which the other
    # subcommands (and `gpuviz --help`) do not need
    from ..model.registry import EXPORT_PANEL_OPTIONS

    return EXPORT_PANEL_OPTIONS


def _option_name(attr: str) -> str:
    return "SHAPE" if attr == "shapes" else f"--{attr}"


def _given(args, attrs) -> list[str]:
    # `is None`, not falsiness: --m 0 is given (and refused with run's message), an empty SHAPE list is not
    return [a for a in attrs if getattr(args, a, None) is not None and getattr(args, a) != []]


def _base_scenario(args, panel: str):
    """The scenario --scenario or --preset names, or None (the panel's first preset)."""
    from ..model.scenario import ScenarioError, find_preset, load_presets, load_scenario
    if args.export_scenario:
        try:
            return load_scenario(Path(args.export_scenario))
        except (ScenarioError, OSError) as e:  # load_scenario refuses a file with a ScenarioError
            raise UsageError(f"--scenario {args.export_scenario}: {getattr(e, 'reason', None) or e}") from None
    if args.export_preset:
        presets, _errors = load_presets(panel)
        found = find_preset(presets, args.export_preset)
        if found is None:
            names = ", ".join(s.name for s in presets) or "none could be read"
            raise UsageError(f"--preset {shown(args.export_preset)}: no such {panel} preset; they are: {names}")
        return found
    return None


def _first_preset(panel: str):
    from ..model.scenario import load_presets

    presets, _errors = load_presets(panel)
    return presets[0] if presets else None


def _checked(scenario, views):
    """``scenario`` with the first of ``views`` that fits it: a changed product keeps the view where it still can."""
    from dataclasses import replace

    from ..model.scenario import ScenarioError, check_scenario

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

    from ..model.scenario import Scenario
    from ..model.scene import MatmulParams

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
    a, b, c = params.names  # a preset's names (W, x, z) carry over to its changed product
    bias = f" + {params.bias}" if params.bias else ""
    title = f"{kernel} kernel: {c} ({m}×{n}) = {a} ({m}×{k}) · {b} ({k}×{n}){bias}, {block.x}×{block.y} blocks"
    view = dict(base.view) if base is not None else {}
    positions = {key: v for key, v in view.items() if key not in ("step", "selected_block", "selected_thread")}
    plain = {key: v for key, v in positions.items() if key != "compare_kernel"}
    return _checked(Scenario("matmul", title, params), [view, positions, plain])


def _broadcast_scenario(args, base):
    from ..model.scenario import Scenario

    base = base or _first_preset("broadcast")
    shapes = args.shapes
    if not shapes:  # --values alone: the preset's (or scenario's) own shapes
        shapes = [bc.format_shape(s) for s in base.params.shapes] if base is not None else []
    try:
        ex = bc.explain(*shapes)
    except bc.ShapeParseError as e:
        raise UsageError(str(e)) from None
    except ValueError as e:
        raise UsageError(f"--values: {e}") from None
    if args.values is not None:
        try:
            bc.typed_values(ex.shapes, args.values)  # the same sentences as `gpuviz broadcast --values`
            values = bc.BroadcastParams.typed(ex.shapes, args.values)
        except bc.ValuesParseError as e:
            raise UsageError(f"--values: {e}") from None
        params = bc.BroadcastParams(tuple(ex.shapes), values).to_dict()
        # the preset's title, description and captions speak of its own numbers: only its view is kept
        view = dict(base.view) if base is not None and base.params.shapes == tuple(ex.shapes) else {}
        title = " + ".join(bc.format_shape(s) for s in ex.shapes)
        return _checked(Scenario("broadcast", title, params), [view, {}])
    values = None
    for kind in ((base.params.values if base is not None else None), "arange"):
        if not isinstance(kind, str):
            continue
        try:
            bc.check_values(ex.shapes, kind)
        except ValueError:
            continue
        values = kind
        break
    params = bc.BroadcastParams(tuple(ex.shapes), values).to_dict()
    if base is not None and base.params.shapes == tuple(ex.shapes):
        return base
    title = " + ".join(bc.format_shape(s) for s in ex.shapes)
    return _checked(Scenario("broadcast", title, params), [{}])


def _grad_scenario(args, base):
    from ..model import dense
    from ..model.scenario import Scenario

    base = base or _first_preset("grad")
    p = base.params.to_dict() if base is not None else {"layer": "toy"}
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
    if base is not None and params == base.params and view == base.view:
        return base
    what = "the 3×7 toy layer" if layer == "toy" else "the 10×784 digits layer"
    if view.get("view") == "train":
        title = f"Training {what}: α = {params.learning_rate:g}, batch {params.batch}, seed {params.seed}"
    else:
        trained = f", after {params.steps} training steps" if params.steps else ""
        batch = f", batch {params.batch}" if view.get("view") == "batch" else ""
        title = f"Weight gradient of {what} ({params.loss}{batch}, seed {params.seed}{trained})"
    return _checked(Scenario("grad", title, params.to_dict(), view=view), [view])


def _read_results(text: str):
    """The JSON of the results file ``--results`` names, read with the bounds of :func:`common.read_results_text`."""
    import json

    raw = read_results_text(text, "--results")
    try:
        return json.loads(raw)
    except json.JSONDecodeError as e:
        raise UsageError(f"--results {text}: {Path(text).name} is not a JSON file ({e})") from None
    except ValueError as e:  # int() of a number of more than 4,300 digits
        raise UsageError(f"--results {text}: holds a number too long to read ({str(e).split(':')[0]})") from None
    except RecursionError:  # the nesting was measured first; this is the parser's own limit, should it differ
        raise UsageError(f"--results {text}: nests arrays or objects too deep to read") from None


def _speed_scenario(args, base):
    """The speed panel drawing the measurements in ``--results`` (checked here so a bad file is one line)."""
    from ..model.scenario import MAX_SPEED_SIZES, Scenario, ScenarioError
    from ..model.speed import BenchResults

    path = Path(args.results).expanduser().resolve()
    try:
        results = BenchResults.from_json(_read_results(args.results), source=str(path))
    except UsageError:
        raise
    except Exception as e:  # any unreadable or malformed file is the user's input: one line
        raise UsageError(f"--results {args.results}: {getattr(e, 'reason', None) or e}") from None
    ops = results.ops()
    if not ops:
        raise UsageError(f"--results {args.results}: the file holds no measurements")
    # the controls show what was measured (the panel does the same when it loads a file)
    op = ops[0]
    params = {"op": op, "sizes": results.sizes(op)[:MAX_SPEED_SIZES], "impls": results.impls(op)}
    # titled by what was measured (issue 17); the machine's full description is the panel's source line
    from ..model.speed import sweep_title

    title = f"{sweep_title(op, params['sizes'])}, measured on {results.machine.gpu or results.machine.cpu}"
    try:
        return Scenario("speed", title, params, view={**(base.view if base is not None else {}), "results": str(path)})
    except ScenarioError as e:  # the file's sweep is one the panel refuses (typed params are checked when made)
        raise UsageError(f"--results {args.results}: {e}") from None


def _export_scenario(args, panel: str):
    """The scenario ``gpuviz export PANEL`` draws: --scenario/--preset, changed by the panel's options."""
    from ..model.scenario import ScenarioError

    base = _base_scenario(args, panel)
    if not _given(args, _panel_options()[panel]):
        return base
    try:
        return {"matmul": _matmul_scenario, "broadcast": _broadcast_scenario, "grad": _grad_scenario,
                "speed": _speed_scenario}[panel](args, base)
    except ScenarioError as e:  # a scene the panel refuses (e.g. more operands than it draws): one line
        raise UsageError(getattr(e, "reason", None) or str(e)) from None


def _check_export_request(args) -> None:
    """One line for options that do not belong together, before anything is drawn."""
    options = _panel_options()
    panels = tuple(options)
    every = sorted({a for attrs in options.values() for a in attrs}, key=str)
    if args.deck:
        if args.panel is not None:
            raise UsageError(f"--deck takes no PANEL (got {shown(args.panel)}): each scenario names its own panel")
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
        raise UsageError(f"give a PANEL ({', '.join(panels)}) or --deck DIR_OR_PRESET ...")
    if args.panel not in panels:
        raise UsageError(f"unknown panel {shown(args.panel)}: choose one of {', '.join(panels)}")
    own = options[args.panel]
    foreign = [a for a in _given(args, every) if a not in own]
    if foreign:
        owners = [p for p, attrs in options.items() if foreign[0] in attrs]
        if foreign[0] == "shapes":
            raise UsageError(f"the {args.panel} panel takes no SHAPE (got {shown(' '.join(args.shapes))}); shapes go "
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
    from functools import partial

    from PyQt6.QtCore import qInstallMessageHandler

    from ..ui import deck
    from ..ui.export import ExportMemoryError, check_memory, export_panel

    try:
        try:
            check_memory(f".{args.deck_format or 'png'}", args.export_size, 1, args.export_memory)
        except ExportMemoryError as e:
            raise _budget_error(e) from None
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
                                      progress=progress, export=partial(export_panel, memory=args.export_memory))
        except deck.DeckError as e:
            raise UsageError(str(e)) from None
    finally:
        qInstallMessageHandler(previous)  # in-process callers (tests) keep their own handler
    failed = f"; {format_count(len(result.failures), 'failure')} (listed in the index)" if result.failures else ""
    skipped = f"; skipped {len(result.skipped)} with nothing to show yet" if result.skipped else ""
    print(f"wrote {format_count(len(result.written), 'picture')} and {result.index} in "
          f"{format_duration(result.seconds)}{failed}{skipped}")
    if result.ok:
        return EXIT_OK
    # exit 1: stderr's last line says why, after the progress lines (a script reads the last line)
    print(f"{PROG}: {_deck_shortfall(result, len(failures))}", file=sys.stderr)
    return EXIT_FAILED


def _deck_shortfall(result, unreadable: int) -> str:
    """Why a deck exits 1, in one sentence: the pictures not exported, the files not read, or the cancel."""
    pictures = len(result.failures) - unreadable
    parts = []
    if pictures:
        parts.append(f"{pictures:,} of {len(result.written) + pictures:,} pictures not exported")
    if unreadable:
        parts.append(f"{format_count(unreadable, 'scenario file')} could not be read")
    if result.cancelled:
        parts.append("the deck was cancelled before every picture was written")
    return f"{'; '.join(parts) or 'the deck is incomplete'}: see {result.index}"


def _check_deck_folder(text: str) -> Path:
    """``--out`` of a deck: a folder that exists and takes new files, or one that can be created; else one line.

    Checked before any source is read, so a wrong ``--out`` is the only line printed.
    """
    import os
    import stat

    if not text.strip():
        raise UsageError(f"--out {text!r}: an empty path names no folder; give the folder the deck goes into")
    if "\0" in text:
        raise UsageError("--out: the path contains a NUL character, which no folder name may")
    folder = Path(text)
    if len(os.fsencode(folder.name)) > MAX_NAME_BYTES:
        raise UsageError(f"--out: the folder name is {len(os.fsencode(folder.name))} bytes long, over the "
                         f"{MAX_NAME_BYTES}-byte limit of names")
    try:
        st = os.stat(folder)
    except (FileNotFoundError, NotADirectoryError):
        st = None
    except OSError as e:
        raise UsageError(f"--out {text}: cannot use it ({e.strerror or e})") from None
    if st is not None and not stat.S_ISDIR(st.st_mode):
        what = "a file" if stat.S_ISREG(st.st_mode) else "something that is not a folder (a FIFO or device)"
        raise UsageError(f"--out {text}: {what} is in the way; a deck is written into a folder")
    where = folder if st is not None else folder.parent
    if st is None and not where.is_dir():
        raise UsageError(f"--out {text}: the folder {str(where)!r} does not exist")
    if not os.access(where, os.W_OK | os.X_OK):
        raise UsageError(f"--out {text}: the folder {str(where)!r} cannot be written")
    # os.access answers yes to root everywhere (/proc included): create (and remove again) the folder the deck
    # would create, or write a probe into the one that exists, so that a folder that takes no file is refused
    # before any source is read, in one line, and a refused request leaves nothing behind
    from ..model.files import probe_write

    try:
        if st is None:
            folder.mkdir()
            folder.rmdir()
        else:
            probe_write(folder)
    except OSError as e:
        doing = "cannot create the folder" if st is None else "cannot write into the folder"
        raise UsageError(f"--out {text}: {doing} ({e.strerror or e})") from None
    return folder


def _check_deck_sources(sources) -> None:
    """Each ``--deck`` argument as a name that can be looked up, before any is read; else one line.

    An empty argument would be read as the current folder, and a name longer than the file system takes raises
    ``OSError: File name too long`` where it is looked up: both are wrong requests, refused here.
    """
    import errno
    import os
    import stat

    from ..model.files import kind_of

    for text in sources:
        if not text.strip():
            raise UsageError(f"--deck {text!r}: an empty argument names no folder, scenario file or preset")
        if "\0" in text:
            raise UsageError("--deck: the argument contains a NUL character, which no file name may")
        longest = max((len(os.fsencode(part)) for part in Path(text).parts), default=0)
        if longest > MAX_NAME_BYTES:
            raise UsageError(f"--deck {shown(text)}: a name of {longest:,} bytes, over the {MAX_NAME_BYTES}-byte "
                             "limit of file names (no folder, scenario file or preset is called that)")
        try:
            st = os.stat(text)
        except OSError as e:
            if e.errno not in (errno.ENOENT, errno.ENOTDIR):  # not a file: perhaps a preset's name
                raise UsageError(f"--deck {shown(text)}: cannot use it ({e.strerror or e})") from None
            continue
        if not (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)):  # a FIFO would block, a device never end
            raise UsageError(f"--deck {shown(text)}: is {kind_of(st.st_mode)}, expected a folder, scenario file "
                             "or preset")


def _check_files(args) -> None:
    """Every path of the request, before anything is read, computed or drawn: outputs, then inputs."""
    if args.deck:
        _check_deck_folder(args.out)
        _check_deck_sources(args.deck)
    else:
        fmt = Path(args.out).suffix.lower() if args.out.strip() else ""
        if args.out.strip() and fmt not in (".png", ".svg", ".gif"):
            raise UsageError(f"--out {args.out}: unknown picture format {fmt or '(no extension)'!r}; "
                             f"the file name must end in .png, .svg or .gif")
        check_output(args.out, "--out", "picture.png")
    if args.export_scenario is not None:
        check_input_file(args.export_scenario, "--scenario", MAX_SCENARIO_BYTES, "scenario file")
    if getattr(args, "results", None) is not None:
        check_input_file(args.results, "--results", MAX_RESULTS_BYTES, "results file")


def _budget_error(e):
    """The export's memory refusal as the model's BudgetError: the same line as a run's, with its hint."""
    from ..model.budget import BudgetError

    return BudgetError(str(e), e.cli_hint)


def cmd_export(args) -> int:
    """``gpuviz export``: one panel's scene to a PNG, SVG or GIF file, or a deck of them, offscreen."""
    from ..model.scenario import ScenarioError

    _check_export_request(args)
    _check_files(args)
    if args.deck:
        return _export_deck(args)
    fmt = Path(args.out).suffix.lower()
    if args.export_steps is not None and fmt != ".gif":
        raise UsageError(f"--steps goes with a .gif file; {fmt} shows one step (use --step S)")
    if args.export_step is not None and fmt == ".gif":
        raise UsageError("--step shows one step: a .gif takes --steps A:B")
    if args.export_fps is not None and not (MIN_FPS <= args.export_fps <= MAX_FPS):
        raise UsageError(f"--fps {args.export_fps:g}: must be at least {MIN_FPS:g} and at most {MAX_FPS:g}")
    if args.export_fps is not None and fmt != ".gif":
        raise UsageError(f"--fps goes with a .gif file; {fmt} is one picture")
    scenario = _export_scenario(args, args.panel)
    previous = _qt_for_export()
    from PyQt6.QtCore import qInstallMessageHandler

    from ..ui.export import ExportError, ExportMemoryError, export_panel, parse_steps

    extra = {"slide": True} if args.export_slide else {}
    try:
        steps = parse_steps(args.export_steps) if args.export_steps is not None else None
        path = export_panel(args.panel, scenario, args.out, size=args.export_size, theme=args.export_theme,
                            step=args.export_step, steps=steps, fps=args.export_fps or 4.0,
                            memory=args.export_memory, **extra)
    except ExportMemoryError as e:
        raise _budget_error(e) from None
    except (ExportError, ScenarioError) as e:
        raise UsageError(str(e)) from None
    except OSError as e:
        raise UsageError(f"--out {args.out}: cannot write there ({e.strerror or e})") from None
    finally:
        qInstallMessageHandler(previous)  # in-process callers (tests) keep their own handler
    print(f"wrote {path}")
    return EXIT_OK
