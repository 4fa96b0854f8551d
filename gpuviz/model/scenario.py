"""Scenarios: a scene's parameters, view and key steps as a small TOML file (presets use the same schema).

A scenario file is data, never code: it is read with :mod:`tomllib` and every
key is checked, so a preset with a typo is reported (file and key named) and
skipped, never run. The schema (``schema = 1``) is documented in README.md::

    schema = 1
    panel = "matmul"
    title = "..."
    description = "..."          # optional

    [params]                     # MatmulParams: kernel, m, n, k, block, and optional backend, seed
    kernel = "naive"
    m = 32
    n = 32
    k = 32
    block = [8, 8]

    [view]                       # optional: step, selected_block, selected_thread, focus,
    focus = "block"              # cumulative, compare_kernel

    [[key_steps]]                # the frames worth a slide
    step = 0
    caption = "..."

A ``panel = "broadcast"`` scenario's ``[params]`` holds ``shapes`` (text such
as ``"(5, 3, 2)"`` or arrays of whole numbers; ``left`` and ``right`` also
work for two operands) and optional ``values`` and ``seed`` (see
:class:`gpuviz.model.broadcast.BroadcastParams`); it may have a ``[quiz]``
table with ``question``, ``answer`` (``"works"`` or ``"fails"``, checked
against NumPy's rule) and optional ``letter``. Its key steps index the
explanation's steps.

A ``panel = "grad"`` scenario's ``[params]`` holds optional ``layer``
(``"toy"`` or ``"digits"``), ``alpha``, ``batch``, ``seed``, ``loss``
(``"xent"`` or ``"mse"``) and ``steps`` (training steps to run first); see
:class:`gpuviz.model.dense.GradParams`. Its ``[view]`` is kept as read, and
its key steps index training steps.

A ``panel = "speed"`` scenario's ``[params]`` holds ``op`` (``"dot"``,
``"matmul"`` or ``"layer"``), ``sizes`` (an array of whole numbers: vector
lengths, matrix sizes N or batch sizes) and ``impls`` (an array of
implementation names, see :data:`gpuviz.model.speed.IMPLS`); its optional
``[view]`` has ``results``, a benchmark JSON file (relative to the scenario
file's folder, or absolute) whose figures the panel shows, labelled with the
machine they were measured on. It has no steps: a key step may only be step 0.

Files are written by :func:`save_scenario` with a small writer of this flat
schema (strings, whole numbers, booleans and arrays of them), so no TOML
writing library is needed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, fields
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

from ..paths import asset_path
from . import broadcast as bc
from . import speed
from .budget import Budget
from .dense import GRAD_PARAM_KEYS, DenseError, GradParams
from .files import write_text_atomic
from .frames import kernel_steps
from .launch import LaunchError, ThreadIndex
from .matmul import KERNELS, launch_for
from .scene import FOCUS, MatmulParams, SceneError

SCHEMA = 1

#: Panels whose parameters this version checks; a scenario of another panel is read but not checked.
KNOWN_PANELS = ("matmul", "broadcast", "grad", "speed")

_TOP_KEYS = ("schema", "panel", "title", "description", "params", "view", "key_steps", "quiz")
_QUIZ_KEYS = ("question", "answer", "letter")
#: A broadcast quiz's answers, as ``[quiz] answer`` spells them.
QUIZ_ANSWERS = ("works", "fails")
_PARAM_KEYS = tuple(f.name for f in fields(MatmulParams))
_REQUIRED_PARAMS = ("kernel", "m", "n", "k", "block")
_VIEW_KEYS = ("step", "selected_block", "selected_thread", "focus", "cumulative", "compare_kernel")
_KEY_STEP_KEYS = ("step", "caption")
#: A speed scenario's tables.
SPEED_PARAM_KEYS = ("op", "sizes", "impls")
SPEED_VIEW_KEYS = ("results",)
#: The most sizes one speed sweep takes (each size runs every implementation).
MAX_SPEED_SIZES = 12
#: The largest matrix product N a sweep without a GPU implementation may ask for: three N×N float32
#: matrices and the CPU's time per size stay within a laptop's budget.
CPU_MATMUL_MAX = 4096


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file and exactly what is wrong.

    Parameters
    ----------
    path : str or Path or None
        The file (None for a scenario built in memory).
    message : str
        What is wrong, e.g. ``"[params] m must be a whole number, got string '32'"``.
    """

    def __init__(self, path, message: str):
        self.path = Path(path) if path is not None else None
        self.reason = message
        super().__init__(f"{path}: {message}" if path is not None else message)


@dataclass(frozen=True)
class KeyStep:
    """A step worth a slide, with what to say about it.

    Parameters
    ----------
    step : int
        Index into the scene's timeline.
    caption : str
        One or two sentences that are true of that frame.
    """

    step: int
    caption: str


@dataclass(frozen=True)
class Scenario:
    """A panel's state, as presets and saved scenarios hold it.

    Parameters
    ----------
    panel : str
        The panel it belongs to (``"matmul"``; later ``"broadcast"``, ``"grad"``, ``"speed"``).
    title : str
        Shown in the preset list and window title.
    params : MatmulParams or dict
        For ``matmul``, the scene's parameters; for another panel, its ``[params]`` table as read
        (for ``broadcast`` checked: read it with ``BroadcastParams.from_dict``).
    description : str
        What the scenario shows, for the lecturer to read aloud.
    view : dict
        Optional view state (``step``, ``selected_block``, ``selected_thread``,
        ``focus``, ``cumulative``, ``compare_kernel``); missing keys take the
        scene's defaults when applied.
    key_steps : tuple of KeyStep
        The frames worth a slide, in the order given.
    schema : int
        The file format's version (1).
    path : Path or None
        The file it was read from.
    quiz : dict
        ``broadcast`` only: ``question``, ``answer`` (``"works"``/``"fails"``) and
        optional ``letter``; empty when the scenario is not a quiz question.
    """

    panel: str
    title: str
    params: MatmulParams | dict
    description: str = ""
    view: dict = field(default_factory=dict)
    key_steps: tuple[KeyStep, ...] = ()
    schema: int = SCHEMA
    path: Path | None = field(default=None, compare=False)
    quiz: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The file's name without ``.toml`` ("" when not read from a file)."""
        return self.path.stem if self.path is not None else ""


# -- reading ---------------------------------------------------------------------------------

_TOML_TYPES = ((bool, "a boolean"), (int, "an integer"), (float, "a float"), (str, "a string"),
               (list, "an array"), (dict, "a table"))


def _kind(value) -> str:
    for t, name in _TOML_TYPES:
        if isinstance(value, t):
            return name
    return "a date/time"


class _Checker:
    """Raises :class:`ScenarioError` for ``path`` with the place in the file named."""

    def __init__(self, path):
        self.path = path

    def fail(self, message: str):
        raise ScenarioError(self.path, message)

    def table(self, data, where: str, keys: tuple[str, ...]) -> dict:
        if not isinstance(data, dict):
            self.fail(f"{where} must be a table, got {_kind(data)}")
        unknown = [key for key in data if key not in keys]
        if unknown:
            self.fail(f"unknown key {unknown[0]!r} in {where} (known keys: {', '.join(keys)})")
        return data

    def require(self, data: dict, key: str, where: str):
        if key not in data:
            self.fail(f"missing key {key!r}" + (f" in {where}" if where != "the file" else ""))
        return data[key]

    def integer(self, value, name: str, minimum: int | None = None) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail(f"{name} must be a whole number, got {_kind(value)} {value!r}")
        if minimum is not None and value < minimum:
            self.fail(f"{name} = {value} must be at least {minimum}")
        return value

    def string(self, value, name: str, nonempty: bool = False) -> str:
        if not isinstance(value, str):
            self.fail(f"{name} must be a string, got {_kind(value)} {value!r}")
        if nonempty and not value.strip():
            self.fail(f"{name} must not be empty")
        return value

    def boolean(self, value, name: str) -> bool:
        if not isinstance(value, bool):
            self.fail(f"{name} must be true or false, got {_kind(value)} {value!r}")
        return value

    def pair(self, value, name: str) -> tuple[int, int]:
        if (not isinstance(value, list) or len(value) != 2
                or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)):
            self.fail(f"{name} must be an array of two whole numbers like [8, 8], got {_kind(value)} {value!r}")
        return (value[0], value[1])


def load_scenario(path, budget: Budget | None = None) -> Scenario:
    """Read and check one scenario file.

    Raises
    ------
    ScenarioError
        Naming the file and what is wrong: unreadable, not UTF-8, bad TOML
        (with its line and column), a missing or unknown key, a value of the
        wrong type, parameters the scene refuses (the scene's own message), a
        view or key step outside the product's timeline or grid.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ScenarioError(path, f"cannot be read ({e.strerror or e})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ScenarioError(path, f"is not UTF-8 text (byte {e.start})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(path, f"is not valid TOML: {e}") from None
    return parse_scenario(data, path, budget)


def parse_scenario(data: dict, path=None, budget: Budget | None = None) -> Scenario:
    """Check a scenario already read as a dict (as :func:`tomllib.loads` gives it); see :func:`load_scenario`."""
    c = _Checker(path)
    c.table(data, "the file", _TOP_KEYS)
    schema = c.integer(c.require(data, "schema", "the file"), "schema")
    if schema != SCHEMA:
        c.fail(f"schema = {schema} is not one this gpuviz reads (it reads schema {SCHEMA})")
    panel = c.string(c.require(data, "panel", "the file"), "panel", nonempty=True)
    title = c.string(c.require(data, "title", "the file"), "title", nonempty=True)
    description = c.string(data.get("description", ""), "description")
    raw_params = c.require(data, "params", "the file")
    raw_view = data.get("view", {})
    raw_steps = data.get("key_steps", [])
    if not isinstance(raw_steps, list):
        c.fail(f"key_steps must be an array of tables ([[key_steps]]), got {_kind(raw_steps)}")
    key_steps = []
    for i, item in enumerate(raw_steps, 1):
        where = f"[[key_steps]] #{i}"
        c.table(item, where, _KEY_STEP_KEYS)
        step = c.integer(c.require(item, "step", where), f"{where}: step", minimum=0)
        caption = c.string(c.require(item, "caption", where), f"{where}: caption", nonempty=True)
        key_steps.append(KeyStep(step, caption))
    raw_quiz = data.get("quiz")
    if raw_quiz is not None and panel != "broadcast":
        c.fail(f"[quiz] is read only in broadcast scenarios, not in a {panel!r} one")
    if panel == "broadcast":
        c.table(raw_params, "[params]", bc.PARAM_KEYS)
        c.table(raw_view, "[view]", tuple(raw_view) if isinstance(raw_view, dict) else ())
        quiz = dict(c.table(raw_quiz, "[quiz]", _QUIZ_KEYS)) if raw_quiz is not None else {}
        if raw_quiz is not None:
            c.string(c.require(quiz, "question", "[quiz]"), "[quiz] question", nonempty=True)
            c.string(c.require(quiz, "answer", "[quiz]"), "[quiz] answer")
            c.string(quiz.get("letter", ""), "[quiz] letter")
        scenario = Scenario(panel, title, dict(raw_params), description, dict(raw_view), tuple(key_steps), schema,
                            Path(path) if path is not None else None, quiz)
        check_scenario(scenario, budget, _checker=c)
        return scenario
    if panel == "grad":
        c.table(raw_params, "[params]", GRAD_PARAM_KEYS)
        c.table(raw_view, "[view]", tuple(raw_view) if isinstance(raw_view, dict) else ())
        scenario = Scenario(panel, title, dict(raw_params), description, dict(raw_view), tuple(key_steps), schema,
                            Path(path) if path is not None else None)
        check_scenario(scenario, budget, _checker=c)
        return scenario
    if panel == "speed":
        c.table(raw_params, "[params] of a speed scenario", SPEED_PARAM_KEYS)
        c.table(raw_view, "[view] of a speed scenario", SPEED_VIEW_KEYS)
        for key in SPEED_PARAM_KEYS:
            c.require(raw_params, key, "[params]")
        params = {"op": c.string(raw_params["op"], "[params] op", nonempty=True),
                  "sizes": _int_list(c, raw_params["sizes"], "[params] sizes"),
                  "impls": _str_list(c, raw_params["impls"], "[params] impls")}
        view = {}
        if "results" in raw_view:
            view["results"] = c.string(raw_view["results"], "[view] results", nonempty=True)
        scenario = Scenario(panel, title, params, description, view, tuple(key_steps), schema,
                            Path(path) if path is not None else None)
        check_scenario(scenario, budget, _checker=c)
        return scenario
    if panel not in KNOWN_PANELS:
        # a later panel's scenario: keep its tables as read, check only their shape
        c.table(raw_params, "[params]", tuple(raw_params) if isinstance(raw_params, dict) else ())
        c.table(raw_view, "[view]", tuple(raw_view) if isinstance(raw_view, dict) else ())
        return Scenario(panel, title, dict(raw_params), description, dict(raw_view), tuple(key_steps), schema,
                        Path(path) if path is not None else None)
    params = _matmul_params(c, raw_params)
    view = _matmul_view(c, raw_view)
    scenario = Scenario(panel, title, params, description, view, tuple(key_steps), schema,
                        Path(path) if path is not None else None)
    check_scenario(scenario, budget, _checker=c)
    return scenario


def _int_list(c: _Checker, value, name: str) -> list[int]:
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        c.fail(f"{name} must be an array of whole numbers like [64, 128], got {_kind(value)} {value!r}")
    return list(value)


def _str_list(c: _Checker, value, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        c.fail(f"{name} must be an array of strings like [\"python\", \"numpy\"], got {_kind(value)} {value!r}")
    return list(value)


def check_speed_request(op, sizes, impls, gpu: bool | None = None) -> tuple[str, tuple[int, ...], tuple[str, ...]]:
    """A speed sweep's ``op``, ``sizes`` and ``impls`` checked and normalised (sizes sorted, impls in order).

    ``gpu`` says whether this machine has a CUDA GPU (None: not known yet).
    Raises :class:`gpuviz.model.speed.SpeedError` with one sentence: an unknown
    op or implementation, a size that is not a positive whole number or over
    the op's limit, more than :data:`MAX_SPEED_SIZES` sizes, or a matrix
    product over :data:`CPU_MATMUL_MAX` with no GPU to run it.
    """
    op = speed.check_op(op)
    sizes = speed.check_sizes(op, sizes)
    if len(sizes) > MAX_SPEED_SIZES:
        raise speed.SpeedError(f"{len(sizes)} sizes are too many for one sweep: at most {MAX_SPEED_SIZES}")
    impls = speed.check_impls(impls)
    if op == "matmul" and sizes[-1] > CPU_MATMUL_MAX:
        on_gpu = gpu is not False and any(i in speed.GPU_IMPLS for i in impls)
        if not on_gpu:
            raise speed.SpeedError(f"N = {sizes[-1]:,} is over the CPU budget for a matrix product (memory and "
                                   f"time): at most N = {CPU_MATMUL_MAX:,} without a GPU")
    return op, sizes, impls


def speed_results_path(scenario: Scenario) -> Path | None:
    """The benchmark file a speed scenario's ``[view] results`` names (relative to the scenario's folder)."""
    text = scenario.view.get("results") if isinstance(scenario.view, dict) else None
    if not text:
        return None
    p = Path(text).expanduser()
    if not p.is_absolute() and scenario.path is not None:
        p = scenario.path.parent / p
    return p


def _matmul_params(c: _Checker, raw) -> MatmulParams:
    c.table(raw, "[params]", _PARAM_KEYS)
    for key in _REQUIRED_PARAMS:
        c.require(raw, key, "[params]")
    values = {}
    for key, value in raw.items():
        name = f"[params] {key}"
        if key in ("kernel", "backend"):
            values[key] = c.string(value, name)
        elif key == "block":
            values[key] = c.pair(value, name)
        else:
            values[key] = c.integer(value, name)
    return MatmulParams(**values)


def _matmul_view(c: _Checker, raw) -> dict:
    c.table(raw, "[view]", _VIEW_KEYS)
    view = {}
    for key, value in raw.items():
        name = f"[view] {key}"
        if key == "step":
            view[key] = c.integer(value, name, minimum=0)
        elif key in ("selected_block", "selected_thread"):
            view[key] = list(c.pair(value, name))
        elif key == "cumulative":
            view[key] = c.boolean(value, name)
        else:
            view[key] = c.string(value, name)
    return view


def check_scenario(scenario: Scenario, budget: Budget | None = None, *, _checker: _Checker | None = None) -> None:
    """Raise :class:`ScenarioError` unless a matmul scenario's params, view and key steps fit together.

    Everything :func:`apply_scenario` could refuse is refused here first, so
    applying a checked scenario never leaves a scene half changed.
    """
    c = _checker or _Checker(scenario.path)
    if scenario.panel == "broadcast":
        _check_broadcast(c, scenario)
        return
    if scenario.panel == "grad":
        params = scenario.params
        try:
            GradParams.from_dict(params.to_dict() if isinstance(params, GradParams) else params)
        except DenseError as e:
            c.fail(str(e))  # its messages name [params] and the key
        return
    if scenario.panel == "speed":
        _check_speed(c, scenario)
        return
    if scenario.panel not in KNOWN_PANELS:
        return
    p = scenario.params
    if not isinstance(p, MatmulParams):
        c.fail(f"[params] of a matmul scenario must be MatmulParams, got {type(p).__name__}")
    try:
        p.validate(budget or Budget())
    except SceneError as e:
        c.fail(f"[params] {e.field}: {e}")
    launch = launch_for(p.kernel, p.problem, p.block)
    n_steps = len(kernel_steps(p.kernel, p.problem, launch.block))
    view = scenario.view
    unknown = [key for key in view if key not in _VIEW_KEYS]
    if unknown:
        c.fail(f"unknown key {unknown[0]!r} in [view] (known keys: {', '.join(_VIEW_KEYS)})")
    step = view.get("step", 0)
    if not 0 <= step < n_steps:
        c.fail(f"[view] step = {step} is outside this product's timeline, steps 0 to {n_steps - 1}")
    block = view.get("selected_block", [0, 0])
    thread = view.get("selected_thread", [0, 0])
    g, b = launch.grid, launch.block
    if not (0 <= block[0] < g.x and 0 <= block[1] < g.y):
        c.fail(f"[view] selected_block = {list(block)} is outside the grid of {g.x}×{g.y} blocks "
               f"(x 0 to {g.x - 1}, y 0 to {g.y - 1})")
    try:
        ThreadIndex((block[0], block[1], 0), (thread[0], thread[1], 0), launch)
    except LaunchError:
        c.fail(f"[view] selected_thread = {list(thread)} is outside the block of {b.x}×{b.y} threads "
               f"(x 0 to {b.x - 1}, y 0 to {b.y - 1})")
    focus = view.get("focus", "thread")
    if focus not in FOCUS:
        c.fail(f"[view] focus = {focus!r} is not one of {', '.join(FOCUS)}")
    compare = view.get("compare_kernel")
    if compare is not None:
        if compare not in KERNELS:
            c.fail(f"[view] compare_kernel = {compare!r} is not one of {', '.join(KERNELS)}")
        try:
            launch_for(compare, p.problem, p.block)
        except LaunchError as e:
            c.fail(f"[view] compare_kernel = {compare!r} cannot run this product: {e}")
    for i, ks in enumerate(scenario.key_steps, 1):
        if not 0 <= ks.step < n_steps:
            c.fail(f"[[key_steps]] #{i}: step = {ks.step} is outside this product's timeline, "
                   f"steps 0 to {n_steps - 1}")


def _check_speed(c: _Checker, scenario: Scenario) -> None:
    params = scenario.params
    if not isinstance(params, dict):
        c.fail(f"[params] of a speed scenario must be a table, got {type(params).__name__}")
    unknown = [key for key in params if key not in SPEED_PARAM_KEYS]
    if unknown:
        c.fail(f"unknown key {unknown[0]!r} in [params] (known keys: {', '.join(SPEED_PARAM_KEYS)})")
    try:
        check_speed_request(params.get("op"), params.get("sizes"), params.get("impls"))
    except speed.SpeedError as e:
        c.fail(f"[params]: {e}")
    unknown = [key for key in scenario.view if key not in SPEED_VIEW_KEYS]
    if unknown:
        c.fail(f"unknown key {unknown[0]!r} in [view] (known keys: {', '.join(SPEED_VIEW_KEYS)})")
    for i, ks in enumerate(scenario.key_steps, 1):
        if ks.step != 0:
            c.fail(f"[[key_steps]] #{i}: step = {ks.step}, but the speed panel has no steps (only step 0)")


def _check_broadcast(c: _Checker, scenario: Scenario) -> None:
    params = scenario.params
    if isinstance(params, bc.BroadcastParams):
        params = params.to_dict()
    if not isinstance(params, dict):
        c.fail(f"[params] of a broadcast scenario must be a table, got {type(params).__name__}")
    try:
        p = bc.BroadcastParams.from_dict(params)
    except ValueError as e:
        c.fail(str(e))  # its messages name [params] and the key
    ex = p.explain(with_add=True)
    quiz = scenario.quiz
    if quiz:
        answer = quiz.get("answer")
        if answer not in QUIZ_ANSWERS:
            c.fail(f"[quiz] answer = {answer!r} must be \"works\" or \"fails\"")
        if (answer == "works") != ex.ok:
            c.fail(f"[quiz] answer = {answer!r} contradicts NumPy's rule: {ex.reason}")
    for i, ks in enumerate(scenario.key_steps, 1):
        if not 0 <= ks.step < len(ex.steps):
            c.fail(f"[[key_steps]] #{i}: step = {ks.step} is outside this explanation's steps, "
                   f"0 to {len(ex.steps) - 1}")


# -- scenes and scenarios -----------------------------------------------------------------------


def scenario_from_scene(scene, title: str, key_steps=(), description: str = "") -> Scenario:
    """The scenario of ``scene`` as it is now: its parameters and view, with ``key_steps``.

    ``key_steps`` holds :class:`KeyStep` or ``(step, caption)`` pairs.
    """
    steps = tuple(ks if isinstance(ks, KeyStep) else KeyStep(int(ks[0]), str(ks[1])) for ks in key_steps)
    view = {key: value for key, value in scene.view_state().items() if value is not None}
    scenario = Scenario("matmul", title, scene.params, description, view, steps)
    check_scenario(scenario, scene.budget)
    return scenario


def apply_scenario(scene, scenario: Scenario) -> None:
    """Set ``scene`` to ``scenario``: its parameters, then its view (missing view keys take their defaults).

    Checks everything first (:func:`check_scenario`), so a refused scenario
    raises :class:`ScenarioError` and leaves the scene as it was.
    """
    if scenario.panel != "matmul":
        raise ScenarioError(scenario.path, f"is a {scenario.panel!r} scenario, not one for the matmul panel")
    check_scenario(scenario, scene.budget)
    p = scenario.params
    changes = {f.name: getattr(p, f.name) for f in fields(MatmulParams)}
    scene.configure(**changes)
    view = {"step": 0, "selected_block": [0, 0], "selected_thread": [0, 0], "focus": "thread",
            "cumulative": False, "compare_kernel": None}
    view.update(scenario.view)
    scene.apply_view_state(view)


# -- presets --------------------------------------------------------------------------------------


def presets_dir() -> Path:
    """The folder of shipped presets (``assets/presets``)."""
    return asset_path("presets")


def load_presets(panel: str | None = None, folder=None,
                 budget: Budget | None = None) -> tuple[list[Scenario], list[str]]:
    """Every preset (``*.toml`` in ``folder``, default :func:`presets_dir`) by file name, and the errors.

    A malformed file is skipped and its message (naming the file) added to the
    errors: one bad preset never stops the others. ``panel`` keeps only that
    panel's presets.
    """
    try:
        folder = Path(folder) if folder is not None else presets_dir()
        files = sorted(folder.glob("*.toml"))
    except OSError as e:
        return [], [f"presets could not be listed: {e}"]
    scenarios, errors = [], []
    for path in files:
        try:
            scenario = load_scenario(path, budget)
        except ScenarioError as e:
            errors.append(str(e))
            continue
        if panel is None or scenario.panel == panel:
            scenarios.append(scenario)
    return scenarios, errors


# -- writing ---------------------------------------------------------------------------------

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _toml_string(text: str) -> str:
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _toml_string(key)


def _toml_value(value, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v, where) for v in value) + "]"
    raise ScenarioError(None, f"{where}: a scenario file holds text, numbers, booleans and arrays of them, "
                              f"not {type(value).__name__}")


def _toml_table(values: dict, where: str) -> list[str]:
    return [f"{_toml_key(key)} = {_toml_value(value, f'{where} {key}')}"
            for key, value in values.items() if value is not None]


def dumps_scenario(scenario: Scenario) -> str:
    """The TOML text of ``scenario`` (what :func:`save_scenario` writes)."""
    p = scenario.params
    params = p.to_dict() if isinstance(p, (MatmulParams, bc.BroadcastParams, GradParams)) else dict(p)
    lines = [f"schema = {scenario.schema}", f"panel = {_toml_string(scenario.panel)}",
             f"title = {_toml_string(scenario.title)}"]
    if scenario.description:
        lines.append(f"description = {_toml_string(scenario.description)}")
    lines += ["", "[params]", *_toml_table(params, "[params]")]
    view = _toml_table(scenario.view, "[view]")
    if view:
        lines += ["", "[view]", *view]
    quiz = _toml_table(scenario.quiz, "[quiz]")
    if quiz:
        lines += ["", "[quiz]", *quiz]
    for ks in scenario.key_steps:
        lines += ["", "[[key_steps]]", f"step = {int(ks.step)}", f"caption = {_toml_string(ks.caption)}"]
    return "\n".join(lines) + "\n"


def save_scenario(scenario: Scenario, path) -> Path:
    """Write ``scenario`` to ``path`` as TOML (replacing the file whole, never half written); returns the path.

    Raises :class:`ScenarioError` for a value TOML cannot hold here, and
    OSError when the file cannot be written.
    """
    path = Path(path)
    text = dumps_scenario(scenario)
    return write_text_atomic(path, text)


__all__ = ["CPU_MATMUL_MAX", "KNOWN_PANELS", "MAX_SPEED_SIZES", "QUIZ_ANSWERS", "SCHEMA", "KeyStep", "Scenario",
           "ScenarioError", "apply_scenario", "check_scenario", "check_speed_request", "dumps_scenario",
           "load_presets", "load_scenario", "parse_scenario", "presets_dir", "save_scenario", "scenario_from_scene",
           "speed_results_path"]
