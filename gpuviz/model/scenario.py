"""Scenarios: a scene's parameters, view and key steps as a small TOML file (presets use the same schema).

A scenario file is data, never code: it is read with :mod:`tomllib` and every
key is checked, so a preset with a typo is reported (file and key named) and
skipped, never run. The schema (``schema = 1``) is documented in README.md::

    schema = 1
    panel = "matmul"
    title = "..."
    description = "..."          # optional

    [params]                     # MatmulParams: kernel, m, n, k, block, and optional backend, seed,
    kernel = "naive"             # names (of A, B and C, e.g. ["W", "x", "z"]) and bias (e.g. "b",
    m = 32                       # shown as added after the product)
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
import os
import re
import stat
from dataclasses import dataclass, field, fields
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

from ..paths import asset_path
from . import panel as tables
from . import registry
from .broadcast_panel import QUIZ_ANSWERS
from .budget import Budget
from .files import write_text_atomic
from .limits import MAX_NESTING, MAX_SCENARIO_BYTES, SEED_MAX, SEED_MIN, depth_problem
from .panel import ParamsError
from .speed_panel import CPU_MATMUL_MAX, MAX_SPEED_SIZES, check_speed_request
from .text import format_bytes

SCHEMA = 1

_TOP_KEYS = ("schema", "panel", "title", "description", "params", "view", "key_steps", "quiz")
_QUIZ_KEYS = ("question", "answer", "letter")
_KEY_STEP_KEYS = ("step", "caption")


def known_panels() -> tuple[str, ...]:
    """Panels whose scenarios this version checks (:mod:`gpuviz.model.registry`); others are read, not checked."""
    return registry.panel_ids()


#: The shipped panels, as the registry lists them when this module is imported.
KNOWN_PANELS = known_panels()


class ScenarioError(ParamsError):
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

    @classmethod
    def of(cls, path, error: ParamsError) -> ScenarioError:
        """``error`` (a panel model's refusal) as the file's error; a ScenarioError keeps its own file."""
        return error if isinstance(error, ScenarioError) else cls(path, str(error))


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
    params : the panel's params type
        The panel's own typed parameters (:attr:`gpuviz.model.registry.PanelSpec.params`:
        ``MatmulParams``, ``BroadcastParams``, ``GradParams``, ``SpeedParams``). A ``[params]``
        table given as a dict is read with that type's ``from_dict`` when the scenario is made
        (:class:`ScenarioError` when it cannot be); a panel this version does not know keeps its dict.
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
    params: object
    description: str = ""
    view: dict = field(default_factory=dict)
    key_steps: tuple[KeyStep, ...] = ()
    schema: int = SCHEMA
    path: Path | None = field(default=None, compare=False)
    quiz: dict = field(default_factory=dict)

    def __post_init__(self):
        spec = registry.spec(self.panel)
        if spec is not None and isinstance(self.params, dict):
            try:
                object.__setattr__(self, "params", spec.params.from_dict(self.params))
            except ParamsError as e:
                raise ScenarioError.of(self.path, e) from None

    @property
    def name(self) -> str:
        """The file's name without ``.toml`` ("" when not read from a file)."""
        return self.path.stem if self.path is not None else ""


# -- reading ---------------------------------------------------------------------------------

_kind = tables.value_kind


class _Checker:
    """Raises :class:`ScenarioError` for ``path`` with the place in the file named."""

    def __init__(self, path):
        self.path = path

    def fail(self, message: str):
        raise ScenarioError(self.path, message)

    def _call(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ParamsError as e:
            self.fail(str(e))

    def table(self, data, where: str, keys: tuple[str, ...] | None) -> dict:
        return self._call(tables.table, data, where, keys)

    def require(self, data: dict, key: str, where: str):
        return self._call(tables.require, data, key, where)

    def integer(self, value, name: str, minimum: int | None = None) -> int:
        return self._call(tables.whole, value, name, minimum)

    def string(self, value, name: str, nonempty: bool = False) -> str:
        return self._call(tables.text, value, name, nonempty)


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
    raw = _read_small(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ScenarioError(path, f"is not UTF-8 text (byte {e.start})") from None
    too_deep = depth_problem(text, "toml")
    if too_deep:
        raise ScenarioError(path, too_deep)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(path, f"is not valid TOML: {e}") from None
    except ValueError as e:  # tomllib converts a 5,000-digit number with int(), which refuses past 4,300
        raise ScenarioError(path, f"holds a number too long to read ({str(e).split(':')[0]})") from None
    except RecursionError:  # depth_problem measures first; this is the parser's own limit, should it differ
        raise ScenarioError(path, f"nests arrays or tables too deep (the limit is {MAX_NESTING})") from None
    return parse_scenario(data, path, budget)


def _read_small(path: Path) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most :data:`~gpuviz.model.limits.MAX_SCENARIO_BYTES`.

    Checked before it is opened (a FIFO would block, ``/dev/zero`` never ends) and again while reading (a file
    that grows after the check is still read no further than the bound).
    """
    try:
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            raise ScenarioError(path, "is a folder, not a scenario file")
        if not stat.S_ISREG(st.st_mode):
            raise ScenarioError(path, "is not a regular file (a FIFO, device or socket), so it is not read")
        if st.st_size > MAX_SCENARIO_BYTES:
            raise ScenarioError(path, f"is {format_bytes(st.st_size)}, over the {format_bytes(MAX_SCENARIO_BYTES)} "
                                      "a scenario file may have")
        with open(path, "rb") as f:
            raw = f.read(MAX_SCENARIO_BYTES + 1)
    except (OSError, ValueError) as e:
        raise ScenarioError(path, f"cannot be read ({getattr(e, 'strerror', None) or e})") from None
    if len(raw) > MAX_SCENARIO_BYTES:
        raise ScenarioError(path, f"is over the {format_bytes(MAX_SCENARIO_BYTES)} a scenario file may have")
    return raw


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
    spec = registry.spec(panel)
    path = Path(path) if path is not None else None
    if raw_quiz is not None and not (spec is not None and spec.quiz):
        c.fail(f"[quiz] is read only in broadcast scenarios, not in a {panel!r} one")
    quiz = {}
    if raw_quiz is not None:
        quiz = dict(c.table(raw_quiz, "[quiz]", _QUIZ_KEYS))
        c.string(c.require(quiz, "question", "[quiz]"), "[quiz] question", nonempty=True)
        c.string(c.require(quiz, "answer", "[quiz]"), "[quiz] answer")
        c.string(quiz.get("letter", ""), "[quiz] letter")
    if spec is None:
        # a later panel's scenario: keep its tables as read, check only their shape
        c.table(raw_params, "[params]", tuple(raw_params) if isinstance(raw_params, dict) else ())
        c.table(raw_view, "[view]", tuple(raw_view) if isinstance(raw_view, dict) else ())
        return Scenario(panel, title, dict(raw_params), description, dict(raw_view), tuple(key_steps), schema, path)
    _check_seed(c, raw_params)
    params = c._call(spec.params.from_dict, raw_params)
    view = c._call(spec.read_view, raw_view)
    _check_kept_view(c, panel, view)
    scenario = Scenario(panel, title, params, description, view, tuple(key_steps), schema, path, quiz)
    check_scenario(scenario, budget, _checker=c)
    return scenario


#: The ``[view]`` keys of panels whose view the registry keeps as read (their models read only these): any other
#: key is refused like an unknown ``[params]`` key, as README says of every table.
_KEPT_VIEW_KEYS = {"broadcast": ("step", "quiz", "quiz_answer", "quiz_answers")}


def _check_kept_view(c: _Checker, panel: str, view: dict) -> None:
    keys = _KEPT_VIEW_KEYS.get(panel)
    if keys is None:
        return
    c.table(view, "[view]", keys)
    if "step" in view:
        c.integer(view["step"], "[view] step", minimum=0)


def _check_seed(c: _Checker, raw_params) -> None:
    # every panel's seed feeds NumPy's generators, which refuse a negative one with a ValueError deep inside
    # the model: the file's bound is checked here, where the number enters
    if isinstance(raw_params, dict) and "seed" in raw_params:
        seed = c.integer(raw_params["seed"], "[params] seed", minimum=SEED_MIN)
        if seed > SEED_MAX:
            c.fail(f"[params] seed = {seed} is over {SEED_MAX:,} (2³²−1), the largest seed")


def speed_results_path(scenario: Scenario) -> Path | None:
    """The benchmark file a speed scenario's ``[view] results`` names (relative to the scenario's folder)."""
    text = scenario.view.get("results")
    if not text:
        return None
    p = Path(text).expanduser()
    if not p.is_absolute() and scenario.path is not None:
        p = scenario.path.parent / p
    return p


def check_scenario(scenario: Scenario, budget: Budget | None = None, *, _checker: _Checker | None = None) -> None:
    """Raise :class:`ScenarioError` unless a scenario's params, view, key steps and quiz fit together.

    The panel's model says what fits (:attr:`gpuviz.model.registry.PanelSpec.check`). Everything
    applying the scenario could refuse is refused here first, so applying a checked scenario never
    leaves a panel half changed. A panel this version does not know is not checked.
    """
    c = _checker or _Checker(scenario.path)
    spec = registry.spec(scenario.panel)
    if spec is None:
        return
    view = c._call(spec.read_view, scenario.view)
    _check_kept_view(c, scenario.panel, view)
    c._call(spec.check, scenario.params, view, scenario.key_steps, scenario.quiz, budget)


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
    changes = {f.name: getattr(p, f.name) for f in fields(p)}
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


def find_preset(scenarios, name: str) -> Scenario | None:
    """The first of ``scenarios`` that ``name`` names, or None: its file name (``.toml`` optional) or its
    title, in any case. The window's ``--preset``, ``gpuviz export --preset`` and ``--deck`` all read names so."""
    wanted = str(name).strip().lower().removesuffix(".toml")
    if not wanted:
        return None
    return next((s for s in scenarios if wanted in (s.name.lower(), s.title.lower())), None)


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
    # a panel this version does not know keeps its [params] as the dict it was read as
    params = p.to_dict() if registry.spec(scenario.panel) is not None else dict(p)
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
           "find_preset", "known_panels", "load_presets", "load_scenario", "parse_scenario", "presets_dir",
           "save_scenario", "scenario_from_scene", "speed_results_path"]
