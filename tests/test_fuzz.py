"""Fuzzing the edges (issue 18, item 7): generated hostile values for the command line's arguments, the scenario
reader and every panel's typed parameters.

What must hold: no traceback (no exception escapes but the model's own refusal); exit 2 is exactly one line on
stderr; exit 1 (a run that failed after it started) has no traceback and a last line that says why. Work that
would start (a worker, a window, a training run, a trace) is stopped where it would begin: that the request got
that far means it was accepted, which is allowed. Bounded to about a minute in all (``max_examples`` below);
``scripts/fuzz_cli.py`` runs thousands of real processes for longer.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from gpuviz import cli  # noqa: E402
from gpuviz.model import registry  # noqa: E402
from gpuviz.model.panel import ParamsError  # noqa: E402
from gpuviz.model.scenario import ScenarioError, load_scenario  # noqa: E402

FUZZ = settings(max_examples=300, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


class WouldStart(BaseException):
    """Raised where accepted work would begin; a BaseException, so that no ``except Exception`` swallows it."""


@pytest.fixture
def stopped_work(monkeypatch, tmp_path):
    """Every place a command starts real work raises WouldStart; the working folder is a temporary one."""
    from gpuviz.engine.process import Worker

    def stop(*args, **kwargs):
        raise WouldStart()

    monkeypatch.setattr(Worker, "_start", stop)
    monkeypatch.setattr("gpuviz.cli.grad._grad_train", stop)
    monkeypatch.setattr("gpuviz.model.vectorized.vectorized_trace", stop)
    monkeypatch.setattr("gpuviz.ui.app.run", stop)  # the window; run_gui's own checks still run
    # an export's panel: export_panel's checks of target, size, steps, frame rate and memory still run
    monkeypatch.setattr("gpuviz.ui.export.panel_copy", stop)
    monkeypatch.chdir(tmp_path)
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo.png")
    (tmp_path / "folder").mkdir()
    (tmp_path / "decks").mkdir()
    presets = Path(__file__).resolve().parents[1] / "assets" / "presets"
    (tmp_path / "decks" / "a.toml").write_text((presets / "17-slide-4x3.toml").read_text(encoding="utf-8"),
                                               encoding="utf-8")
    (tmp_path / "x.json").write_text('{"format": "gpuviz-bench", "version": 1, "results": []}')
    (tmp_path / "k.py").write_text((Path(__file__).parent / "kernels" / "diff_ok.py").read_text())
    return tmp_path


# -- hostile values ---------------------------------------------------------------------------------------

_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)
_NUMBERS = st.one_of(
    st.integers(-2**70, 2**70).map(str),
    st.integers(0, 6000).map(lambda n: "9" * n),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["-1", "0", "1e999999999", "1e308", "-0", "nan", "inf", "1_000", "0x10", "1.5", "²", "٣",
                     "9" * 19, "4294967296", "2147483648", "1e30", "1e31", " 7 ", "8x8", "1k", "1M"]),
)
_PATHS = st.one_of(
    st.sampled_from(["", " ", ".", "folder", "fifo.png", "/dev/null", "/dev/zero", "/proc/gpuviz.png",
                     "missing/x.png", "a" * 300 + ".png", "x.png", "x.npz", "x.json", "folder/"]),
    _TEXT,
)
_VALUES = st.one_of(_NUMBERS, _PATHS, _TEXT)
_SHAPES = st.one_of(st.sampled_from(["(4, 3)", "(3,)", "()", "(0,)", "(1000000000,)", "(" + "2, " * 40 + ")"]),
                    _NUMBERS.map("({}, 3)".format), _TEXT)

_LAUNCH = ["--kernel", "naive", "--m", "8", "--n", "8", "--k", "8", "--block", "8x8"]
# (base argv, {option: strategy}) per command: one or two options replaced by hostile values
_COMMANDS = {
    "run": (["run", *_LAUNCH], {"--m": _NUMBERS, "--n": _NUMBERS, "--block": _VALUES, "--seed": _NUMBERS,
                                "--memory": _VALUES, "--repeat": _NUMBERS, "--backend": _TEXT}),
    "trace": (["trace", *_LAUNCH, "--source", "vectorized", "--out", "t.npz"],
              {"--k": _NUMBERS, "--seed": _NUMBERS, "--memory": _VALUES, "--out": _PATHS, "--block": _VALUES}),
    "grad": (["grad", "--layer", "toy"], {"--seed": _NUMBERS, "--batch": _NUMBERS, "--alpha": _NUMBERS,
                                         "--train": _NUMBERS, "--layer": _TEXT, "--loss": _TEXT}),
    "bench": (["bench", "--op", "dot", "--impl", "numpy", "--sizes", "1000"],
              {"--sizes": _VALUES, "--repeats": _NUMBERS, "--max-seconds": _NUMBERS, "--save": _PATHS,
               "--impl": _TEXT}),
    "load": (["bench", "--load", "x.json"], {"--load": _PATHS}),
    "occupancy": (["occupancy", "--gpu", "h100", "--threads", "256", "--regs", "32", "--smem", "0"],
                  {"--threads": _NUMBERS, "--regs": _NUMBERS, "--smem": _VALUES, "--grid": _VALUES,
                   "--gpu": _TEXT}),
    "check": (["check", "--kernel-file", "k.py", "--grid", "2", "--block", "8", "--arg", "a=float32[16]:arange",
               "--arg", "out=float32[16]:zeros", "--arg", "n=16"],
              {"--kernel-file": _PATHS, "--grid": _VALUES, "--block": _VALUES, "--timeout": _NUMBERS,
               "--max-global-reads": _NUMBERS, "--arg": st.one_of(_VALUES, _NUMBERS.map("a=float32[{}]:ones".format),
                                                                   _NUMBERS.map("n={}".format))}),
    "app": (["--screenshot", "x.png"], {"--screenshot": _PATHS, "--size": _VALUES, "--scenario": _PATHS,
                                        "--preset": _TEXT}),
    # "@" is a positional slot
    "export-matmul": (["export", "matmul", *_LAUNCH[:8], "--out", "x.png", "--size", "320x240"],
                      {"--m": _NUMBERS, "--seed": _NUMBERS, "--size": _VALUES, "--out": _PATHS, "--step": _NUMBERS,
                       "--steps": _VALUES, "--fps": _NUMBERS, "--memory": _VALUES, "--scenario": _PATHS}),
    "export-broadcast": (["export", "broadcast", "@", "(3,)", "--out", "x.png"],
                         {"@": _SHAPES, "--values": _VALUES, "--out": _PATHS, "--size": _VALUES}),
    "export-grad": (["export", "grad", "--layer", "toy", "--out", "x.png"],
                    {"--train": _NUMBERS, "--alpha": _NUMBERS, "--seed": _NUMBERS, "--batch": _NUMBERS,
                     "--layer": _TEXT, "--view": _TEXT}),
    "export-speed": (["export", "speed", "--results", "x.json", "--out", "x.png"],
                     {"--results": _PATHS, "--out": _PATHS}),
    "export-deck": (["export", "--deck", "decks", "--out", "out", "--size", "320x240"],
                    {"--deck": _PATHS, "--out": _PATHS, "--format": _TEXT, "--memory": _VALUES}),
}


@st.composite
def _argv(draw):
    base, options = _COMMANDS[draw(st.sampled_from(sorted(_COMMANDS)))]
    argv = list(base)
    for option in draw(st.lists(st.sampled_from(sorted(options)), min_size=1, max_size=2, unique=True)):
        value = draw(options[option])
        if option == "@":
            argv[argv.index("@")] = value
        elif option in argv:
            argv[argv.index(option) + 1] = value
        else:
            argv += [option, value]
    return [a if a != "@" else "(4, 3)" for a in argv]


def _assert_clean(code, out: str, err: str, argv) -> None:
    assert "Traceback" not in err, (argv, err)
    lines = err.splitlines()
    if code == 2:
        assert len(lines) == 1, (argv, err)
        assert lines[0].startswith("gpuviz"), (argv, err)
    elif code == 1:
        assert lines and lines[-1].startswith("gpuviz") and len(lines[-1]) > 15, (argv, err)
    else:
        assert code in (0, 130), (argv, code, err)


@FUZZ
@given(argv=_argv())
def test_cli_arguments(stopped_work, capsys, argv):
    try:
        code = cli.main(argv)
    except WouldStart:
        capsys.readouterr()
        return
    out, err = capsys.readouterr()
    _assert_clean(code, out, err, argv)


# -- the scenario reader -------------------------------------------------------------------------------------


def _presets() -> list[str]:
    folder = Path(__file__).resolve().parents[1] / "assets" / "presets"
    return [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.toml"))]


_PRESETS = _presets()
_TOML_VALUES = st.one_of(
    st.integers(-2**80, 2**80).map(str),
    st.sampled_from(["nan", "inf", "-inf", "1e308", '"(1000000000,)"', '"(4, 3)"', "[]", "[[[[[[1]]]]]]",
                     "[" * 200 + "]" * 200, "{}", "{a.b.c = 1}", "true", '"' + "9" * 5000 + '"', '""',
                     '["(1,)", "(2,)", "(3,)", "(4,)", "(5,)", "(6,)", "(7,)", "(8,)", "(9,)"]',
                     "[" + ", ".join(["99999999999"] * 40) + "]", '"../../etc/passwd"', '"/dev/zero"',
                     "2147483648", "4294967296", "-1", "0", "9" * 5000, "-" + "9" * 20, "1e999"]),
    _TEXT.map(lambda t: '"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"'),
)


@st.composite
def _scenario_text(draw):
    lines = draw(st.sampled_from(_PRESETS)).splitlines()
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["value", "key", "line", "dotted", "table"]))
        i = draw(st.integers(0, max(0, len(lines) - 1)))
        if kind == "value":
            candidates = [j for j, line in enumerate(lines) if "=" in line]
            if candidates:
                j = draw(st.sampled_from(candidates))
                lines[j] = lines[j].split("=", 1)[0] + "= " + draw(_TOML_VALUES)
        elif kind == "key":
            lines.insert(i, f"{draw(st.sampled_from(['evil', '__class__', 'results', 'step', 'view', 'm', 'seed']))} = "
                            f"{draw(_TOML_VALUES)}")
        elif kind == "line":
            lines.insert(i, draw(_TEXT))
        elif kind == "dotted":
            lines.append(".".join(["a"] * draw(st.integers(2, 3000))) + " = 1")
        else:
            lines.append(f"[{draw(st.sampled_from(['view', 'params', 'quiz', 'x.y']))}]")
    return "\n".join(lines) + "\n"


@FUZZ
@given(text=_scenario_text())
def test_scenario_reader(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("s") / "s.toml"
    path.write_text(text, encoding="utf-8")
    try:
        scenario = load_scenario(path)
    except ScenarioError as e:
        assert str(e).strip()
        return
    _build_model(scenario.panel, scenario.params, scenario.view)


def _build_model(panel: str, params, view) -> None:
    """The panel's model made from accepted params and view, where that is cheap: it may refuse (ParamsError),
    never raise anything else (a seed NumPy refuses, a shape it cannot hold)."""
    from gpuviz.model.broadcast_panel import BroadcastState
    from gpuviz.model.grad_panel import GradState

    try:
        if panel == "grad" and params.layer == "toy":
            GradState.from_params(params, view)
        elif panel == "broadcast":
            BroadcastState().apply(params, view)
    except ParamsError as e:
        assert str(e).strip()


# -- each panel's typed parameters --------------------------------------------------------------------------------

_ANY = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(), _TEXT,
              st.sampled_from(["(1000000000,)", "(4, 3)", "naive", "tiled", "digits", "toy", "xent", "dot",
                               "matmul", "H100", "(" + ", ".join(["2"] * 40) + ")", "9" * 5000])),
    lambda inner: st.one_of(st.lists(inner, max_size=10), st.dictionaries(_TEXT, inner, max_size=4)),
    max_leaves=12,
)



def _param_keys() -> dict[str, tuple[str, ...]]:
    # the keys each panel's [params] reads, so that the values, not only unknown keys, are tried
    from gpuviz.model import broadcast, dense, scene, speed_panel
    from gpuviz.model.hardware import panel as hardware

    return {"matmul": (*scene.PARAM_KEYS, "names", "bias"), "broadcast": broadcast.PARAM_KEYS,
            "grad": dense.GRAD_PARAM_KEYS, "speed": speed_panel.PARAM_KEYS, "hardware": hardware.PARAM_KEYS}


_PARAM_KEYS = _param_keys()
_VIEW_KEYS = ("step", "selected_block", "selected_thread", "focus", "cumulative", "compare_kernel", "view",
              "selected", "batch_step", "train_steps", "results", "figure", "block", "evil")


@st.composite
def _panel_input(draw):
    panel = draw(st.sampled_from(registry.panel_ids()))
    keys = _PARAM_KEYS.get(panel, ())
    params = draw(st.dictionaries(st.sampled_from(keys) if keys else _TEXT, _ANY, max_size=len(keys) or 3))
    view = draw(st.dictionaries(st.sampled_from(_VIEW_KEYS), _ANY, max_size=3))
    return panel, params, view


@FUZZ
@given(panel_input=_panel_input())
def test_panel_params(panel_input):
    panel, raw_params, raw_view = panel_input
    spec = registry.spec(panel)
    try:
        params = spec.params.from_dict(raw_params)
        view = spec.read_view(raw_view)
        spec.check(params, view, (), {}, None)
    except ParamsError as e:
        message = str(e)
        assert message.strip(), (panel, raw_params, raw_view)
        return
    _build_model(panel, params, view)
