"""The matmul panel's model: what product, how it is launched, which step and which thread are shown.

A :class:`MatmulScene` is everything the "Matmul on the GPU" panel draws, and
nothing it draws is computed anywhere else: the panel subscribes to the scene,
asks it for the frame of the current step at the resolution it shows, and
calls its setters when the user acts. The scene never imports Qt.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace

import numpy as np

from . import numbers as _numbers
from . import panel
from .accesses import block_threads, step_accesses, warp_requests, warp_threads
from .budget import Budget, BudgetError, plan_run
from .coalescing import Comparison, MemoryTotals, compare_kernels, memory_totals
from .events import Observable
from .frames import (
    ROLES,
    THREADS,
    Frame,
    Viewport,
    kernel_frame,
    kernel_shapes,
    kernel_steps,
    render_terms,
    resolve_viewports,
    step_plan,
    step_terms,
)
from .launch import MAX_BLOCK_DIM, WARP_SIZE, Dim3, LaunchError, ThreadIndex
from .limits import MAX_MATRIX_SIDE, MAX_NUMBER_DIGITS, SEED_MAX, SEED_MIN
from .matmul import BACKENDS, KERNELS, MatmulProblem, ShapeError, kernel_source, launch_for, mapping_for
from .numbers import LaunchNumbers, StepNumbers
from .panel import ParamsError
from .shared_tiles import SharedTiles, shared_tiles
from .trace import derive_steps

FOCUS = ("thread", "warp", "block", "all")
#: What A, B and C are called when a scenario does not name them.
DEFAULT_NAMES = ("A", "B", "C")
#: The longest operand or bias name: it labels axes, titles and the step text.
NAME_MAX = 8
# besides letters and digits (Unicode's, so x₁ and ᵢ count): primes, as in W′
_NAME_EXTRA = "′″'"


class SceneError(ParamsError):
    """A parameter the scene refuses; ``field`` names the control the message belongs next to.

    Parameters
    ----------
    field : str
        ``"m"``, ``"n"``, ``"k"``, ``"block"``, ``"kernel"``, ``"backend"``, ``"seed"``, ``"size"``
        when the product as a whole is over the memory budget, or ``"compare_kernel"``.
    message : str
        One sentence for the user, naming the limit that was hit.
    """

    def __init__(self, field: str, message: str):
        super().__init__(message, field)


def _number(value) -> str:
    """A typed number as a message shows it: a 4,000-digit one is named by its length, not printed."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        digits = len(str(abs(int(value))))
        if digits <= 15:
            return f"{int(value):,}"
        text = str(int(value))
        return f"{text[:-digits + 3]}…{text[-3:]} ({digits:,} digits)"
    return repr(value) if len(repr(value)) <= 40 else f"{repr(value)[:37]}…"


def names_of(value, where: str = "names") -> tuple[str, str, str]:
    """``value`` as three names for A, B and C (a list or tuple of strings); :class:`SceneError` otherwise."""
    if (not isinstance(value, (list, tuple)) or len(value) != 3
            or not all(isinstance(v, str) for v in value)):
        shown = list(value) if isinstance(value, tuple) else value
        raise SceneError("names", f"{where} must be three names for A, B and C like [\"W\", \"x\", \"z\"], "
                                  f"got {panel.value_kind(value)} {shown!r}")
    return (value[0], value[1], value[2])


def _name_problem(name) -> str:
    """Why ``name`` cannot name an operand ("" when it can)."""
    if not isinstance(name, str):
        return f"must be a string, got {panel.value_kind(name)} {_number(name)}"
    if not 1 <= len(name) <= NAME_MAX:
        return f"{_number(name)} must be 1 to {NAME_MAX} characters long"
    bad = [ch for ch in name if not (ch.isalnum() or ch in _NAME_EXTRA)]
    if bad:
        return f"{name!r} may hold letters, digits, subscripts and primes (′), not {bad[0]!r}"
    if not name[0].isalpha():
        return f"{name!r} must start with a letter"
    return ""


def check_names(names, bias) -> None:
    """Raise :class:`SceneError` (field ``names`` or ``bias``) unless the names can label the panel."""
    names = names_of(names)
    for role, name in zip("ABC", names):
        problem = _name_problem(name)
        if problem:
            raise SceneError("names", f"the name of {role} {problem}")
    if len(set(names)) < 3:
        raise SceneError("names", f"the names of A, B and C must differ, got {', '.join(names)}")
    if bias is not None:
        problem = _name_problem(bias)
        if problem:
            raise SceneError("bias", f"the bias's name {problem}")
        if bias in names:
            raise SceneError("bias", f"the bias's name {bias!r} is already the name of "
                                     f"{'ABC'[names.index(bias)]}")


@dataclass(frozen=True)
class MatmulParams:
    """What to compute and how to launch it.

    Parameters
    ----------
    kernel : str
        ``naive``, ``uncoalesced`` or ``tiled``.
    m, n, k : int
        C is m×n, A is m×k, B is k×n.
    block : tuple of int
        Threads per block (x, y).
    backend : str
        Where "run for real" runs: ``auto``, ``gpu`` or ``simulator``.
    seed : int
        Seed of the standard-normal inputs.
    names : tuple of str
        Display names of A, B and C, e.g. ``("W", "x", "z")`` for a dense layer: 1 to
        :data:`NAME_MAX` letters, digits, primes or subscripts, starting with a letter, all different.
        They change what the panel writes, never what is computed.
    bias : str or None
        Name of a bias added to C *after* the product (``"b"`` shows ``z = W·x + b``), or None. The
        kernel does not add it: the figure says so, and the numbers are those of the product alone.
    """

    kernel: str = "naive"
    m: int = 32
    n: int = 32
    k: int = 32
    block: tuple[int, int] = (8, 8)
    backend: str = "auto"
    seed: int = 0
    names: tuple[str, str, str] = DEFAULT_NAMES
    bias: str | None = None

    def __post_init__(self):
        if isinstance(self.names, list):  # as a file or JSON holds them; params are hashed (cache keys)
            object.__setattr__(self, "names", tuple(self.names))

    def validate(self, budget: Budget) -> None:
        """Raise :class:`SceneError` for anything a real launch (or the memory budget) would refuse."""
        if self.kernel not in KERNELS:
            raise SceneError("kernel", f"unknown kernel {self.kernel!r}: choose one of {', '.join(KERNELS)}")
        if self.backend not in BACKENDS:
            raise SceneError("backend", f"unknown backend {self.backend!r}: choose one of {', '.join(BACKENDS)}")
        block = self.block
        if (not isinstance(block, tuple) or len(block) != 2
                or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in block)):
            raise SceneError("block", f"the block must be two whole numbers (x, y), got {block!r}")
        for axis, extent in zip("xy", block):
            if extent < 1:  # launch_for would divide by it
                raise SceneError("block", f"blockDim.{axis} = {extent}: every extent must be at least 1")
            if extent > MAX_BLOCK_DIM["xy".index(axis)]:
                # checked here, not by the launch, so that a typed 20-digit extent reads as one short line
                raise SceneError("block", f"blockDim.{axis} = {_number(extent)} exceeds CUDA's limit of "
                                          f"{MAX_BLOCK_DIM['xy'.index(axis)]:,} threads")
        for name in ("m", "n", "k"):
            value = getattr(self, name)
            if isinstance(value, str) and len(value) > MAX_NUMBER_DIGITS:
                raise SceneError(name, f"{name.upper()} must be a whole number of at most {MAX_NUMBER_DIGITS} "
                                       f"digits, got {len(value):,} characters")
            try:
                MatmulProblem(**{"m": 1, "n": 1, "k": 1, name: max(value, 1) if isinstance(value, int) else value})
            except ShapeError as e:
                raise SceneError(name, str(e)) from None
            if value < 1:
                raise SceneError(name, f"{name.upper()} = {_number(value)}: every matrix size must be at least 1")
            if value > MAX_MATRIX_SIDE:
                # before the grid is worked out: M = 10²⁰ is a wrong size, not a wrong block
                raise SceneError(name, f"{name.upper()} = {_number(value)} is over the largest matrix side, "
                                       f"{MAX_MATRIX_SIDE:,}")
        if (not isinstance(self.seed, (int, np.integer)) or isinstance(self.seed, bool)
                or not SEED_MIN <= self.seed <= SEED_MAX):
            raise SceneError("seed", f"the seed must be a whole number from {SEED_MIN} to {SEED_MAX:,}, "
                                     f"got {_number(self.seed)}")
        check_names(self.names, self.bias)
        try:
            mapping_for(self.kernel, self.problem, Dim3.of(self.block))
        except LaunchError as e:
            raise SceneError("block", str(e)) from None
        try:
            # what the panel holds: the inputs and C (the trace is never materialised)
            budget.check(plan_run(self.kernel, self.problem, Dim3.of(self.block), simulator=False, trace=False))
        except BudgetError as e:
            raise SceneError("size", str(e)) from None

    @property
    def problem(self) -> MatmulProblem:
        return MatmulProblem(self.m, self.n, self.k)

    def to_dict(self) -> dict:
        """The ``[params]`` table; ``names`` and ``bias`` only where they are not the defaults, so a
        scenario without them is written as before."""
        d = asdict(self)
        d["block"] = list(self.block)
        if self.names == DEFAULT_NAMES:
            del d["names"]
        else:
            d["names"] = list(self.names)
        if self.bias is None:
            del d["bias"]
        return d

    @classmethod
    def from_dict(cls, params: dict) -> MatmulParams:
        """From a scenario's ``[params]`` table: ``kernel``, ``m``, ``n``, ``k``, ``block`` and optional
        ``backend`` and ``seed``; raises :class:`~gpuviz.model.panel.ParamsError` naming the key.

        Only the types are read here; :meth:`validate` says whether the product can run.
        """
        panel.table(params, "[params]", PARAM_KEYS)
        for key in REQUIRED_PARAMS:
            panel.require(params, key, "[params]")
        values = {}
        for key, value in params.items():
            name = f"[params] {key}"
            if key in ("kernel", "backend"):
                values[key] = panel.text(value, name)
            elif key == "block":
                values[key] = panel.pair(value, name)
            elif key == "names":
                values[key] = names_of(value, name)
            elif key == "bias":
                values[key] = panel.text(value, name)
            else:
                values[key] = panel.whole(value, name)
        return cls(**values)


PARAM_KEYS = ("kernel", "m", "n", "k", "block", "backend", "seed", "names", "bias")
REQUIRED_PARAMS = ("kernel", "m", "n", "k", "block")
#: Keys of a matmul scenario's ``[view]``.
VIEW_KEYS = ("step", "selected_block", "selected_thread", "focus", "cumulative", "compare_kernel")


def read_view(raw) -> dict:
    """A matmul scenario's ``[view]`` with its types checked (ranges: :func:`check_scenario`)."""
    panel.table(raw, "[view]", VIEW_KEYS)
    view = {}
    for key, value in raw.items():
        name = f"[view] {key}"
        if key == "step":
            view[key] = panel.whole(value, name, minimum=0)
        elif key in ("selected_block", "selected_thread"):
            view[key] = list(panel.pair(value, name))
        elif key == "cumulative":
            view[key] = panel.flag(value, name)
        else:
            view[key] = panel.text(value, name)
    return view


def check_scenario(params: MatmulParams, view: dict, key_steps, budget: Budget | None = None) -> None:
    """Raise :class:`~gpuviz.model.panel.ParamsError` unless ``params``, ``view`` and the key steps fit together.

    Everything :meth:`MatmulScene.apply_view_state` could refuse is refused here first, so
    applying a checked scenario never leaves a scene half changed.
    """
    p = params
    try:
        p.validate(budget or Budget())
    except SceneError as e:
        raise SceneError(e.field, f"[params] {e.field}: {e}") from None
    launch = launch_for(p.kernel, p.problem, p.block)
    n_steps = len(kernel_steps(p.kernel, p.problem, launch.block))
    unknown = [key for key in view if key not in VIEW_KEYS]
    if unknown:
        raise ParamsError(f"unknown key {unknown[0]!r} in [view] (known keys: {', '.join(VIEW_KEYS)})")
    step = view.get("step", 0)
    if not 0 <= step < n_steps:
        raise ParamsError(f"[view] step = {step} is outside this product's timeline, steps 0 to {n_steps - 1}")
    block = view.get("selected_block", [0, 0])
    thread = view.get("selected_thread", [0, 0])
    g, b = launch.grid, launch.block
    if not (0 <= block[0] < g.x and 0 <= block[1] < g.y):
        raise ParamsError(f"[view] selected_block = {list(block)} is outside the grid of {g.x}×{g.y} blocks "
                          f"(x 0 to {g.x - 1}, y 0 to {g.y - 1})")
    try:
        ThreadIndex((block[0], block[1], 0), (thread[0], thread[1], 0), launch)
    except LaunchError:
        raise ParamsError(f"[view] selected_thread = {list(thread)} is outside the block of {b.x}×{b.y} threads "
                          f"(x 0 to {b.x - 1}, y 0 to {b.y - 1})") from None
    focus = view.get("focus", "thread")
    if focus not in FOCUS:
        raise ParamsError(f"[view] focus = {focus!r} is not one of {', '.join(FOCUS)}")
    compare = view.get("compare_kernel")
    if compare is not None:
        if compare not in KERNELS:
            raise ParamsError(f"[view] compare_kernel = {compare!r} is not one of {', '.join(KERNELS)}")
        try:
            launch_for(compare, p.problem, p.block)
        except LaunchError as e:
            raise ParamsError(f"[view] compare_kernel = {compare!r} cannot run this product: {e}") from None
    for i, ks in enumerate(key_steps, 1):
        if not 0 <= ks.step < n_steps:
            raise ParamsError(f"[[key_steps]] #{i}: step = {ks.step} is outside this product's timeline, "
                              f"steps 0 to {n_steps - 1}")


@dataclass(frozen=True)
class StepInfo:
    """One step of the timeline.

    Parameters
    ----------
    index : int
        Position in the timeline.
    line : int
        Source line executed (1-based, in :meth:`MatmulScene.source`).
    epoch, ordinal : int
        Barrier epoch and the execution's number within it.
    threads : int
        Threads that execute the line; the others are masked for this step.
    role : str
        What the line does (``multiply``, ``write``, ``load_a``, ``zero_a``,
        ``load_b``, ``zero_b``, ``sync_loaded``, ``sync_used``).
    tile, index_in_loop : int
        The tiled kernel's tile ``t``; the loop index ``k`` (or ``i``).
    """

    index: int
    line: int
    epoch: int
    ordinal: int
    threads: int
    role: str
    tile: int
    index_in_loop: int

    @property
    def is_barrier(self) -> bool:
        return self.role.startswith("sync")


@dataclass
class _View:
    step: int = 0
    block: tuple[int, int] = (0, 0)
    thread: tuple[int, int] = (0, 0)
    focus: str = "thread"
    cumulative: bool = False
    compare_kernel: str | None = None


class MatmulScene(Observable):
    """A matrix product on a CUDA grid, at one step of its kernel, with one thread selected.

    Parameters
    ----------
    params : MatmulParams
        The product and its launch; validated (a :class:`SceneError` is raised
        for invalid ones).
    budget : Budget
        Memory budget the product must fit in.

    Notes
    -----
    Listeners are called as ``listener(scene, changes)`` after each change,
    with ``changes`` a set of ``"params"``, ``"step"``, ``"selection"``,
    ``"focus"``, ``"cumulative"``, ``"compare"``. A refused change raises
    before anything changes: the last valid scene stays.

    Nothing a setter does grows with M·N·K: steps, frames, numbers and memory
    totals are computed from the kernels' index arithmetic (closed forms and
    per-block classes), so a 4096×4096×4096 scene changes as fast as a small one.
    """

    def __init__(self, params: MatmulParams | None = None, budget: Budget | None = None):
        self.budget = budget or Budget()
        params = params or MatmulParams()
        params.validate(self.budget)
        self._view = _View()
        self._shared_tiles: tuple | None = None  # (what it was computed for, SharedTiles)
        self._apply_params(params)

    # -- parameters ------------------------------------------------------------------

    def _apply_params(self, params: MatmulParams) -> bool:
        """Adopt validated ``params``; True when that dropped the compare kernel."""
        self.params = params
        self.problem = params.problem
        self.mapping = mapping_for(params.kernel, self.problem, Dim3.of(params.block))
        self.launch = self.mapping.launch
        self.steps = kernel_steps(params.kernel, self.problem, self.launch.block)
        self._plan = step_plan(params.kernel, self.problem, self.launch)
        v = self._view
        v.step = min(v.step, len(self.steps) - 1)
        g, b = self.launch.grid, self.launch.block
        if not (v.block[0] < g.x and v.block[1] < g.y and v.thread[0] < b.x and v.thread[1] < b.y):
            v.block, v.thread = (0, 0), (0, 0)
        if v.compare_kernel is not None and self._compare_problem(v.compare_kernel):
            v.compare_kernel = None  # e.g. tiled after the block became non-square: nothing to compare with
            return True
        return False

    def _compare_problem(self, kernel: str) -> str:
        """Why ``kernel`` cannot run this scene's product and block ("" when it can)."""
        if kernel not in KERNELS:
            return f"unknown kernel {kernel!r}: choose one of {', '.join(KERNELS)}"
        try:
            launch_for(kernel, self.problem, Dim3.of(self.params.block))
        except LaunchError as e:
            return str(e)
        return ""

    def configure(self, **changes) -> None:
        """Change parameters (``kernel``, ``m``, ``n``, ``k``, ``block``, ``backend``, ``seed``, ``names``,
        ``bias``).

        Raises :class:`SceneError` (and changes nothing) when the result is invalid.
        """
        unknown = set(changes) - set(MatmulParams.__dataclass_fields__)
        if unknown:
            name = sorted(unknown)[0]
            raise SceneError(name, f"unknown parameter {name!r}: choose from "
                                   f"{', '.join(MatmulParams.__dataclass_fields__)}")
        if "block" in changes:
            changes["block"] = self._block_of(changes["block"])
        if "names" in changes:
            changes["names"] = names_of(changes["names"])
        if changes.get("bias") == "":
            changes["bias"] = None  # an emptied bias field: no bias
        params = replace(self.params, **changes)
        if params == self.params:
            return
        params.validate(self.budget)
        dropped = self._apply_params(params)
        self.emit("params", "step", "selection", *(("compare",) if dropped else ()))

    @classmethod
    def _block_of(cls, value) -> tuple[int, int]:
        """A block given as text (``"8x8"``), a Dim3 or a sequence of whole numbers, as (x, y)."""
        if isinstance(value, str):
            return cls._parse_block(value)
        if isinstance(value, Dim3):
            value = value.as_tuple()
        try:
            items = list(value)
        except TypeError:
            items = [value]
        if (not 1 <= len(items) <= 3 or len(items) == 3 and items[2] != 1
                or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in items)):
            raise SceneError("block", f"the block must be one to two whole numbers (x, y), got {value!r}")
        return (int(items[0]), int(items[1]) if len(items) > 1 else 1)

    @staticmethod
    def _parse_block(text: str) -> tuple[int, int]:
        if len(text) > 3 * MAX_NUMBER_DIGITS + 8 or any(len(run) > MAX_NUMBER_DIGITS
                                                          for run in re.findall(r"\d+", text)):
            # Python refuses to convert past 4,300 digits with a ValueError, not a LaunchError
            raise SceneError("block", f"cannot read {len(text):,} characters as a block: each extent has at "
                                      f"most {MAX_NUMBER_DIGITS} digits (e.g. 8x8)")
        try:
            d = Dim3.parse(text)
        except LaunchError as e:
            if len(repr(text)) > 40:  # the launch's message quotes all of it
                raise SceneError("block", f"cannot read {_number(text)} as a block (expected e.g. 8x8)") from None
            raise SceneError("block", str(e)) from None
        except ValueError:  # digits str.isdigit takes and int refuses, such as the superscript in "8²"
            raise SceneError("block", f"cannot read {_number(text)} as a block (expected e.g. 8x8)") from None
        if d.z != 1:
            raise SceneError("block", f"the matmul kernels use 2-D blocks; blockDim.z = {d.z} must be 1")
        return (d.x, d.y)

    @property
    def kernel(self) -> str:
        return self.params.kernel

    @property
    def names(self) -> tuple[str, str, str]:
        """Display names of A, B and C (``("A", "B", "C")`` unless the scenario names them)."""
        return self.params.names

    @property
    def bias(self) -> str | None:
        """Name of the bias added after the product (not by the kernel), or None."""
        return self.params.bias

    def display_name(self, array: str) -> str:
        """What the panel calls ``array``: ``"A"``, ``"B"``, ``"C"`` by their :attr:`names`; others
        (``"sA"``, ``"sB"``, the kernel's own variables) as they are."""
        return dict(zip(DEFAULT_NAMES, self.names)).get(array, array)

    def step_text(self, step: int | None = None) -> str:
        """What the step computes, in the operands' names: ``acc += W[row, 3]·x[3, col]``.

        The kernel's source keeps its parameter names (A, B, C); this is the line as the
        lecture writes it. A write step of a scene with a :attr:`bias` says the bias is
        added after the kernel: the kernel shown never adds it.
        """
        info = self.step_info(step)
        a, b, c = self.names
        role, i = info.role, info.index_in_loop
        if role == "multiply":
            if self.kernel != "tiled":
                return f"acc += {a}[row, {i}]·{b}[{i}, col]"
            kk = info.tile * self.launch.block.x + i
            return f"acc += sA[ty, {i}]·sB[{i}, tx]  (= {a}[row, {kk}]·{b}[{kk}, col])"
        if role == "write":
            return f"{c}[row, col] = acc" + (f"  ({self.bias} is added after this kernel)" if self.bias else "")
        if role in ("load_a", "zero_a", "load_b", "zero_b"):
            tile, name = ("sA", a) if role.endswith("a") else ("sB", b)
            first = info.tile * self.launch.block.x  # the tile's first k
            if role.startswith("zero"):
                return f"{tile}[ty, tx] = 0 where the tile lies outside {name}"
            return (f"sA[ty, tx] = {a}[row, {first} + tx]" if tile == "sA" else
                    f"sB[ty, tx] = {b}[{first} + ty, col]")
        return "cuda.syncthreads()"

    def source(self) -> str:
        """The kernel's numba.cuda source, as the worker runs it."""
        return kernel_source(self.kernel)

    # -- timeline ---------------------------------------------------------------------

    @property
    def step(self) -> int:
        return self._view.step

    @property
    def n_steps(self) -> int:
        return len(self.steps)

    def set_step(self, step: int) -> None:
        step = int(np.clip(step, 0, self.n_steps - 1))
        if step != self._view.step:
            self._view.step = step
            self.emit("step")

    def step_by(self, delta: int) -> None:
        self.set_step(self.step + delta)

    def step_info(self, step: int | None = None) -> StepInfo:
        s = self.step if step is None else int(step)
        p = self._plan
        return StepInfo(s, int(p.line[s]), int(p.epoch[s]), int(p.ordinal[s]), int(p.threads[s]),
                        ROLES[p.role[s]], int(p.tile[s]), int(p.index[s]))

    def barrier_steps(self) -> np.ndarray:
        """Indices of the steps that are a ``cuda.syncthreads()``."""
        roles = np.array([r.startswith("sync") for r in ROLES])
        return np.nonzero(roles[self._plan.role])[0]

    # -- selection --------------------------------------------------------------------

    @property
    def selected(self) -> ThreadIndex:
        v = self._view
        return ThreadIndex((v.block[0], v.block[1], 0), (v.thread[0], v.thread[1], 0), self.launch)

    def select_thread(self, block_xy, thread_xy) -> None:
        """Select thread ``thread_xy`` of block ``block_xy`` (raises LaunchError outside the grid)."""
        block_xy, thread_xy = tuple(int(v) for v in block_xy[:2]), tuple(int(v) for v in thread_xy[:2])
        ThreadIndex((*block_xy, 0), (*thread_xy, 0), self.launch)  # validates
        if (block_xy, thread_xy) != (self._view.block, self._view.thread):
            self._view.block, self._view.thread = block_xy, thread_xy
            self.emit("selection")

    def select_global(self, gx: int, gy: int) -> None:
        """Select the thread with global indices (gx, gy) (a cell of the launched thread grid)."""
        b = self.launch.block
        self.select_thread((gx // b.x, gy // b.y), (gx % b.x, gy % b.y))

    def select_element(self, row: int, col: int) -> None:
        """Select the thread that computes C[row, col]."""
        if not (0 <= row < self.problem.m and 0 <= col < self.problem.n):
            raise IndexError(f"C[{row}, {col}] is outside C ({self.problem.m}×{self.problem.n})")
        o = self.mapping.thread_of_element(row, col)
        self.select_thread(o["block"][:2], o["thread"][:2])

    def select_warp(self, block_xy, warp: int) -> None:
        """Select lane 0 of warp ``warp`` of block ``block_xy``."""
        b = self.launch.block
        lin = warp * WARP_SIZE
        if not 0 <= lin < b.size:
            raise LaunchError(f"block {b} has {self.launch.warps_per_block} warps; warp {warp} does not exist")
        self.select_thread(block_xy, (lin % b.x, (lin // b.x) % b.y))

    def element_of_selected(self) -> tuple[int, int] | None:
        """C's (row, col) the selected thread computes, or None for an idle thread."""
        gx, gy, _ = self.selected.global_index
        r, c = self.mapping.element_of_thread(gx, gy)
        return (int(r), int(c)) if r < self.problem.m and c < self.problem.n else None

    # -- what A and B show ----------------------------------------------------------

    @property
    def focus(self) -> str:
        return self._view.focus

    def set_focus(self, focus: str) -> None:
        """Whose accesses A and B show: the selected ``thread``, its ``warp``, its ``block``, or ``all``."""
        if focus not in FOCUS:
            raise ValueError(f"focus must be one of {', '.join(FOCUS)}")
        if focus != self._view.focus:
            self._view.focus = focus
            self.emit("focus")

    @property
    def cumulative(self) -> bool:
        return self._view.cumulative

    def set_cumulative(self, on: bool) -> None:
        if bool(on) != self._view.cumulative:
            self._view.cumulative = bool(on)
            self.emit("cumulative")

    def focus_threads(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Global (gx, gy) of the focus threads; None for ``all``."""
        sel = self.selected
        bxy = sel.block[:2]
        if self.focus == "thread":
            gx, gy, _ = sel.global_index
            return np.array([gx]), np.array([gy])
        if self.focus == "warp":
            return warp_threads(self.launch, bxy, sel.warp)
        if self.focus == "block":
            return block_threads(self.launch, bxy)
        return None

    def shapes(self) -> dict[str, tuple[int, int]]:
        """Shape of each array the kernel touches, and of the launched thread grid (key ``threads``)."""
        return kernel_shapes(self.kernel, self.problem, self.launch.block)

    def frame(self, viewports: dict[str, Viewport] | None = None, step: int | None = None) -> Frame:
        """The current step's frame; reads and writes restricted to the focus threads.

        ``active`` always covers the whole grid: masked lanes are a property of
        the step, not of the selection.
        """
        s = self.step if step is None else int(step)
        threads = self.focus_threads()
        if threads is None:
            return kernel_frame(self.kernel, self.problem, self.launch.block, s, viewports)
        if not 0 <= s < self.n_steps:
            raise IndexError(f"step {s} is outside 0..{self.n_steps - 1}")
        # only the active threads come from the whole grid: render just those, not every array's counts
        p = self._plan
        vps = resolve_viewports(self.shapes(), viewports)
        active, _, _ = step_terms(self.kernel, self.problem, self.launch, ROLES[p.role[s]], int(p.tile[s]),
                                   int(p.index[s]))
        names = [name for name in vps if name != THREADS]
        reads, writes = {}, {}
        sa = step_accesses(self.kernel, self.problem, self.launch.block, s, *threads)
        for a in sa.accesses:
            target = reads if a.op == "read" else writes
            counts = vps[a.array].bin_points(a.row, a.col)
            if a.array in target:
                target[a.array] += counts
            else:
                target[a.array] = counts
        for target in (reads, writes):
            for name in names:
                if name not in target:
                    target[name] = np.zeros(vps[name].shape, np.int64)
        reads = {name: reads[name] for name in names}
        writes = {name: writes[name] for name in names}
        return Frame(s, int(p.epoch[s]), int(p.ordinal[s]), int(p.line[s]), int(p.threads[s]), reads, writes,
                     render_terms(active, vps[THREADS]), vps)

    def cumulative_reads(self, viewports: dict[str, Viewport] | None = None,
                         step: int | None = None) -> dict[str, np.ndarray]:
        """Global reads of each element of A and B by the focus threads in steps 0..``step``, binned.

        Keys ``"A"`` and ``"B"``, each of its viewport's shape (``viewports`` as
        for :meth:`frame`). At the last step with focus ``all``, the naive
        kernels have read every element of A N times and of B M times; the
        tiled kernel gridDim.x and gridDim.y times: the reuse its tiles buy.
        """
        s = self.step if step is None else int(step)
        vps = resolve_viewports(self.shapes(), viewports)
        threads = self.focus_threads()
        gx, gy = threads if threads is not None else (None, None)
        return _numbers.cumulative_reads(self.kernel, self.problem, self.launch.block, s, vps, gx, gy)

    def focus_active(self, step: int | None = None) -> np.ndarray | None:
        """Per focus thread (in :meth:`focus_threads` order): active in the step? None for ``all``."""
        threads = self.focus_threads()
        if threads is None:
            return None
        s = self.step if step is None else int(step)
        return step_accesses(self.kernel, self.problem, self.launch.block, s, *threads).active

    def warp_requests(self, step: int | None = None):
        """Global-memory requests of the selected thread's warp in the step (see :mod:`.accesses`)."""
        s = self.step if step is None else int(step)
        sel = self.selected
        return warp_requests(self.kernel, self.problem, self.launch.block, s, sel.block[:2], sel.warp)

    def shared_tiles(self, step: int | None = None) -> SharedTiles | None:
        """The selected block's shared tiles sA and sB after the step, with the focus threads' reads
        (see :mod:`.shared_tiles`); None for a kernel without shared memory."""
        s = self.step if step is None else int(step)
        # the operand views and the sA/sB tab both ask for the same step: compute it once
        key = (self.params, s, self.selected, self.focus)
        cached = self._shared_tiles
        if cached is None or cached[0] != key:
            cached = (key, shared_tiles(self.kernel, self.problem, self.launch.block, s, self.selected.block[:2],
                                        self.focus_threads()))
            self._shared_tiles = cached
        return cached[1]

    def bank_requests(self, step: int | None = None) -> list[dict] | None:
        """Shared-memory requests of the selected warp in the step, with their banks and conflict degree.

        Computed by :mod:`gpuviz.model.hardware.banks` from a recorded-equivalent trace
        (:func:`~gpuviz.model.vectorized.vectorized_trace`) of one block that does what the selected block
        does in this step's tile: same edges, same ``k`` left; shared addresses do not depend on where
        the block sits, so its requests are the selected block's (the block is small whatever M·N·K is).
        None for a kernel without shared memory; ``[]`` where the warp makes no shared request.
        """
        if self.kernel != "tiled":
            return None
        from .hardware.banks import bank_conflicts
        from .vectorized import vectorized_trace

        info = self.step_info(step)
        tile = self.launch.block.x
        bx, by = self.selected.block[:2]
        sub = MatmulProblem(min(tile, self.problem.m - by * tile), min(tile, self.problem.n - bx * tile),
                            min(tile, self.problem.k - info.tile * tile))
        key = (self.params, bx, by, info.tile)
        cached = getattr(self, "_banks", None)
        if cached is None or cached[0] != key:
            trace = vectorized_trace("tiled", sub, self.launch.block)
            cached = (key, derive_steps(trace), bank_conflicts(trace))
            self._banks = cached
        steps, conflicts = cached[1], cached[2]
        # the one-tile trace's tile is tile 0: its steps are this tile's, two barrier epochs earlier per tile
        want = (info.epoch - 2 * info.tile, info.ordinal, info.line)
        hit = np.nonzero((steps.epoch == want[0]) & (steps.ordinal == want[1]) & (steps.line == want[2]))[0]
        if not len(hit):
            return []
        out = conflicts.at((0, 0), self.selected.warp, int(hit[0]))
        for r in out:
            r["block"] = [bx, by, 0]  # the one-block trace's block stands for the selected one
        return out

    # -- numbers -----------------------------------------------------------------------

    def numbers(self) -> LaunchNumbers:
        """Threads, warps, warp efficiency, loads, FLOPs of the whole launch (exact, cached per params)."""
        return _numbers.launch_numbers(self.kernel, self.problem, self.launch.block)

    def step_numbers(self, step: int | None = None) -> StepNumbers:
        """Active threads, masked lanes and warp efficiency of one step (default: the current one)."""
        s = self.step if step is None else int(step)
        return _numbers.step_numbers(self.kernel, self.problem, self.launch.block, s)

    # -- memory transactions --------------------------------------------------------------

    def memory_totals(self, kernel: str | None = None) -> MemoryTotals:
        """Requests and 32-byte sectors per global array over the whole launch (exact, cached).

        ``kernel`` defaults to the scene's; another kernel is evaluated on the
        same product and block (raises :class:`SceneError` if it cannot run it).
        """
        kernel = kernel or self.kernel
        problem = self._compare_problem(kernel)
        if problem:
            raise SceneError("compare_kernel", problem)
        return memory_totals(kernel, self.problem, self.params.block)

    @property
    def compare_kernel(self) -> str | None:
        """The kernel shown side by side with the scene's for memory traffic, or None."""
        return self._view.compare_kernel

    def set_compare_kernel(self, kernel: str | None) -> None:
        """Show ``kernel``'s memory traffic beside this one's (None: no comparison).

        Raises :class:`SceneError` (field ``compare_kernel``) for an unknown
        kernel or one that cannot run this block (tiled needs a square one).
        """
        kernel = kernel or None
        if kernel is not None:
            problem = self._compare_problem(kernel)
            if problem:
                raise SceneError("compare_kernel", problem)
        if kernel != self._view.compare_kernel:
            self._view.compare_kernel = kernel
            self.emit("compare")

    def compare(self, kernel_b: str | None = None) -> Comparison:
        """This kernel's and ``kernel_b``'s memory totals for the same product, with a sentence on why
        one is slower on a real GPU. ``kernel_b`` defaults to :attr:`compare_kernel`."""
        kernel_b = kernel_b or self.compare_kernel
        if kernel_b is None:
            raise SceneError("compare_kernel", "choose a kernel to compare with")
        problem = self._compare_problem(kernel_b)
        if problem:
            raise SceneError("compare_kernel", problem)
        return compare_kernels(self.kernel, kernel_b, self.problem, self.params.block)

    # -- scenarios ----------------------------------------------------------------------

    def view_state(self) -> dict:
        """Step, selection, focus, the cumulative toggle and the compare kernel (None: off)."""
        v = self._view
        return {"step": v.step, "selected_block": list(v.block), "selected_thread": list(v.thread),
                "focus": v.focus, "cumulative": v.cumulative, "compare_kernel": v.compare_kernel}

    def apply_view_state(self, state: dict) -> None:
        """Restore :meth:`view_state` (keys may be missing); raises ValueError/LaunchError for invalid ones."""
        if "compare_kernel" in state:
            self.set_compare_kernel(state["compare_kernel"])
        if "selected_block" in state or "selected_thread" in state:
            self.select_thread(state.get("selected_block", self._view.block),
                               state.get("selected_thread", self._view.thread))
        if "focus" in state:
            self.set_focus(state["focus"])
        if "cumulative" in state:
            self.set_cumulative(state["cumulative"])
        if "step" in state:
            self.set_step(int(state["step"]))


__all__ = ["BACKENDS", "DEFAULT_NAMES", "FOCUS", "NAME_MAX", "PARAM_KEYS", "THREADS", "VIEW_KEYS", "Comparison",
           "LaunchNumbers", "MatmulParams", "MatmulScene", "MemoryTotals", "SceneError", "StepInfo", "StepNumbers",
           "check_names", "check_scenario", "names_of", "read_view"]
