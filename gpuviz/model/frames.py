"""What one animation step shows: per-pixel access counts of each array and the active threads.

A :class:`Frame` is what a panel draws for step ``s``: for each array (A, B, C,
and the tiled kernel's shared tiles sA, sB), how many thread-accesses of the
step read or wrote the elements each pixel covers, and how many of the
launch's threads each pixel of the thread grid holds that are active in the
step. A :class:`Viewport` says which region of an array is on screen and at how
many pixels; each pixel sums a block of elements, so a 4096×4096 product fits
a 1080p window.

Frames come two ways, which the tests hold equal:

* :func:`frame_from_trace` counts the events of one step of any trace
  (recorded from a user's kernel, or vectorized);
* :func:`kernel_frame` computes them for a built-in kernel from its index
  arithmetic, at any size, without a trace: every step's access counts are an
  outer product of two per-axis profiles (or the difference of two, for the
  tiled kernel's zero-fill branch), so binning the profiles and multiplying
  costs only the pixels on screen.

A later selection filter (one block, one warp, one thread) restricts the
active threads to a rectangle of the thread grid, which keeps every count a
sum of outer products: :func:`kernel_frame` builds them as such terms for that
reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .launch import Dim3, LaunchConfig
from .matmul import MatmulProblem, launch_for
from .trace import OP_READ, OP_WRITE, Steps, Trace
from .vectorized import KERNEL_ARRAYS, kernel_lines

#: Key of the launched thread grid in viewports and frames (rows: global y, columns: global x).
THREADS = "threads"

#: Largest resolution per axis of a viewport made up for an array that was given none.
DEFAULT_MAX_PIXELS = 1024


class ViewportError(ValueError):
    """A viewport that does not describe a region of its array at a possible resolution."""


@dataclass(frozen=True)
class Viewport:
    """A region of a 2-D array drawn at a given resolution.

    Parameters
    ----------
    row0, row1, col0, col1 : int
        The region: rows ``row0 <= r < row1`` and columns ``col0 <= c < col1``.
    height, width : int
        Pixels the region is drawn at, at most its extent along each axis.
        Pixel ``p`` of a row of pixels covers elements ``floor(p·E/width)`` up
        to ``floor((p+1)·E/width)`` of the region's ``E`` columns, so each pixel
        covers ``floor(E/width)`` or ``ceil(E/width)`` elements.
    """

    row0: int
    row1: int
    col0: int
    col1: int
    height: int
    width: int

    def __post_init__(self):
        for name in ("row0", "row1", "col0", "col1", "height", "width"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
                raise ViewportError(f"{name} must be a whole number, got {v!r}")
        if not 0 <= self.row0 < self.row1 or not 0 <= self.col0 < self.col1:
            raise ViewportError(
                f"rows {self.row0}..{self.row1} × columns {self.col0}..{self.col1} is not a region: "
                "need 0 <= row0 < row1 and 0 <= col0 < col1")
        for name, pixels, extent in (("height", self.height, self.rows), ("width", self.width, self.cols)):
            if not 1 <= pixels <= extent:
                raise ViewportError(
                    f"{name} = {pixels} pixels for a region {extent} elements across: "
                    f"choose 1 to {extent} (a pixel never shows less than one element)")

    @classmethod
    def whole(cls, shape, height: int | None = None, width: int | None = None) -> Viewport:
        """All of an array of ``shape``, at ``height``×``width`` pixels (default and cap: its extent)."""
        rows, cols = shape
        return cls(0, rows, 0, cols, min(height or rows, rows), min(width or cols, cols))

    @property
    def rows(self) -> int:
        return self.row1 - self.row0

    @property
    def cols(self) -> int:
        return self.col1 - self.col0

    @property
    def shape(self) -> tuple[int, int]:
        """Pixels: ``(height, width)``."""
        return (self.height, self.width)

    def check(self, shape, name: str = "the array") -> None:
        """Raise :class:`ViewportError` unless the region lies inside an array of ``shape``."""
        if self.row1 > shape[0] or self.col1 > shape[1]:
            raise ViewportError(
                f"rows {self.row0}..{self.row1} × columns {self.col0}..{self.col1} reach outside "
                f"{name}, which is {shape[0]}×{shape[1]}")

    def row_starts(self) -> np.ndarray:
        """First element row (relative to ``row0``) of each pixel row."""
        return np.arange(self.height, dtype=np.int64) * self.rows // self.height

    def col_starts(self) -> np.ndarray:
        """First element column (relative to ``col0``) of each pixel column."""
        return np.arange(self.width, dtype=np.int64) * self.cols // self.width

    def bin_rows(self, profile: np.ndarray) -> np.ndarray:
        """Sum a per-row profile of the whole array over each pixel row."""
        return np.add.reduceat(profile[self.row0:self.row1], self.row_starts())

    def bin_cols(self, profile: np.ndarray) -> np.ndarray:
        """Sum a per-column profile of the whole array over each pixel column."""
        return np.add.reduceat(profile[self.col0:self.col1], self.col_starts())

    def bin_points(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Count the elements ``(rows[i], cols[i])`` (repeats count again) per pixel."""
        rows, cols = np.asarray(rows, np.int64), np.asarray(cols, np.int64)
        inside = (rows >= self.row0) & (rows < self.row1) & (cols >= self.col0) & (cols < self.col1)
        pr = np.searchsorted(self.row_starts(), rows[inside] - self.row0, side="right") - 1
        pc = np.searchsorted(self.col_starts(), cols[inside] - self.col0, side="right") - 1
        flat = np.bincount(pr * self.width + pc, minlength=self.height * self.width)
        return flat.astype(np.int64, copy=False).reshape(self.shape)


@dataclass(eq=False)
class Frame:
    """What one step shows, binned to the pixels of each viewport.

    Parameters
    ----------
    step : int
        Index of the step in its :class:`~gpuviz.model.trace.Steps`.
    epoch, ordinal, line : int
        The step's barrier epoch, execution number within the epoch, and source line.
    threads : int
        Threads active in the step.
    reads, writes : dict of str to ndarray of int64
        Per array name, per pixel: thread-accesses of the step that read (wrote)
        an element the pixel covers.
    active : ndarray of int64
        Per pixel of the launched thread grid (rows: ``blockIdx.y·blockDim.y +
        threadIdx.y``, columns likewise in x): threads active in the step.
    viewports : dict of str to Viewport
        The viewport of each array and of :data:`THREADS`.
    """

    step: int
    epoch: int
    ordinal: int
    line: int
    threads: int
    reads: dict[str, np.ndarray]
    writes: dict[str, np.ndarray]
    active: np.ndarray
    viewports: dict[str, Viewport] = field(default_factory=dict)

    def difference(self, other: Frame) -> str:
        """A sentence saying where two frames differ ("" when they don't)."""
        for name in ("step", "epoch", "ordinal", "line", "threads"):
            if getattr(self, name) != getattr(other, name):
                return f"{name}: {getattr(self, name)} vs {getattr(other, name)}"
        if self.viewports != other.viewports:
            return f"viewports differ: {self.viewports} vs {other.viewports}"
        for kind in ("reads", "writes"):
            mine, theirs = getattr(self, kind), getattr(other, kind)
            if mine.keys() != theirs.keys():
                return f"{kind} of arrays {sorted(mine)} vs {sorted(theirs)}"
            for name in mine:
                msg = _array_difference(mine[name], theirs[name])
                if msg:
                    return f"{kind} of {name}: {msg}"
        msg = _array_difference(self.active, other.active)
        return f"active threads: {msg}" if msg else ""


def _array_difference(a: np.ndarray, b: np.ndarray) -> str:
    if a.shape != b.shape:
        return f"shape {a.shape} vs {b.shape}"
    bad = np.argwhere(a != b)
    if len(bad):
        at = tuple(int(i) for i in bad[0])
        return f"{len(bad)} pixels differ, first at {at}: {a[at]} vs {b[at]}"
    return ""


def resolve_viewports(shapes: dict, viewports) -> dict[str, Viewport]:
    out = {}
    given = dict(viewports or {})
    unknown = set(given) - set(shapes)
    if unknown:
        raise ViewportError(f"no array named {', '.join(sorted(unknown))}: choose from {', '.join(shapes)}")
    for name, shape in shapes.items():
        vp = given.get(name) or Viewport.whole(shape, DEFAULT_MAX_PIXELS, DEFAULT_MAX_PIXELS)
        vp.check(shape, name)
        out[name] = vp
    return out


# -- frames from a trace ---------------------------------------------------------------


def _trace_launch(trace: Trace) -> tuple[Dim3, Dim3]:
    """The grid and block of the launch ``trace`` comes from: from ``meta``, else the threads it holds."""
    meta = trace.meta
    if "grid" in meta and "block" in meta:
        return Dim3.of(meta["grid"]), Dim3.of(meta["block"])
    if not len(trace):
        return Dim3(1), Dim3(1)
    return (Dim3(*(int(v) + 1 for v in trace.block.max(axis=0))),
            Dim3(*(int(v) + 1 for v in trace.thread.max(axis=0))))


def trace_shapes(trace: Trace) -> dict[str, tuple[int, int]]:
    """Shape of each array of ``trace`` and of its thread grid (key :data:`THREADS`).

    A, B and C come from ``meta`` (m, n, k) when it has them; other arrays (shared
    memory, a user's kernel's arguments) span the elements the trace touches.
    The thread grid is the launch in ``meta`` (``grid``, ``block``), else the
    threads the trace holds; z layers, if any, stack along the rows.
    """
    meta = trace.meta
    known = {}
    if all(key in meta for key in ("m", "n", "k")):
        known = MatmulProblem(int(meta["m"]), int(meta["n"]), int(meta["k"])).shapes
    shapes = {}
    for code, name in enumerate(trace.array_names):
        if name in known:
            shapes[name] = known[name]
            continue
        mine = trace.array == code
        rows = int(trace.row[mine].max()) + 1 if mine.any() else 1
        cols = int(trace.col[mine].max()) + 1 if mine.any() else 1
        shapes[name] = (rows, cols)
    g, b = _trace_launch(trace)
    shapes[THREADS] = (g.z * b.z * g.y * b.y, g.x * b.x)
    return shapes


def _thread_rows_cols(events: Trace, grid: Dim3, block: Dim3) -> tuple[np.ndarray, np.ndarray]:
    """Each event's thread as (row, column) of the thread grid of :func:`trace_shapes`."""
    x = events.block[:, 0].astype(np.int64) * block.x + events.thread[:, 0]
    y = events.block[:, 1].astype(np.int64) * block.y + events.thread[:, 1]
    z = events.block[:, 2].astype(np.int64) * block.z + events.thread[:, 2]
    return z * (grid.y * block.y) + y, x


def frame_from_trace(trace: Trace, steps: Steps, step: int, viewports=None) -> Frame:
    """The frame of step ``step`` of ``trace``, counted from its events.

    Parameters
    ----------
    trace : Trace
        Any trace; ``steps`` must come from :func:`~gpuviz.model.trace.derive_steps` on it.
    steps : Steps
        The trace's steps (their ``event_step`` says which events each step holds).
    step : int
        Index of the step.
    viewports : dict of str to Viewport, optional
        Per array name and :data:`THREADS`; an array without one is drawn whole,
        at most :data:`DEFAULT_MAX_PIXELS` pixels along each axis.
    """
    if not 0 <= step < len(steps):
        raise IndexError(f"step {step} is outside 0..{len(steps) - 1}")
    tr = trace.canonical()
    if steps.event_step is None or len(steps.event_step) != len(tr):
        raise ValueError("these steps were not derived from this trace")
    shapes = trace_shapes(tr)
    vps = resolve_viewports(shapes, viewports)
    ev = tr.take(np.flatnonzero(steps.event_step == step))
    reads, writes = {}, {}
    for code, name in enumerate(tr.array_names):
        for out, op in ((reads, OP_READ), (writes, OP_WRITE)):
            sel = (ev.array == code) & (ev.op == op)
            out[name] = vps[name].bin_points(ev.row[sel], ev.col[sel])
    ty, tx = _thread_rows_cols(ev, *_trace_launch(tr))
    width = shapes[THREADS][1]
    # a thread may make several accesses in one step: count it once
    key = np.unique(ty * width + tx)
    active = vps[THREADS].bin_points(key // width, key % width)
    return Frame(step, int(steps.epoch[step]), int(steps.ordinal[step]), int(steps.line[step]),
                 int(steps.threads[step]), reads, writes, active, vps)


# -- steps and frames of the built-in kernels, without a trace ---------------------------


def kernel_shapes(kernel: str, problem: MatmulProblem, block) -> dict[str, tuple[int, int]]:
    """Shape of each array a built-in kernel touches, and of its launched thread grid."""
    launch = launch_for(kernel, problem, block)
    shapes = dict(problem.shapes)
    if kernel == "tiled":
        tile = launch.block.x
        shapes["sA"] = shapes["sB"] = (tile, tile)
    g, b = launch.grid, launch.block
    shapes[THREADS] = (g.y * b.y, g.x * b.x)
    return shapes


@dataclass(frozen=True)
class StepPlan:
    """A built-in kernel's steps, with what each step executes: its statement and loop indices."""

    epoch: np.ndarray
    ordinal: np.ndarray
    line: np.ndarray
    threads: np.ndarray
    role: np.ndarray  # index into ROLES
    tile: np.ndarray  # the tiled kernel's t (0 otherwise)
    index: np.ndarray  # k of the naive kernels' loop, i of the tiled kernel's inner loop


ROLES = ("multiply", "write", "load_a", "zero_a", "load_b", "zero_b", "sync_loaded", "sync_used")


@lru_cache(maxsize=16)
def step_plan(kernel: str, problem: MatmulProblem, launch: LaunchConfig) -> StepPlan:
    m, n, k = problem.m, problem.n, problem.k
    lines = kernel_lines(kernel)
    role_code = {r: i for i, r in enumerate(ROLES)}
    if kernel in ("naive", "uncoalesced"):
        # epoch 0: K executions of the multiply line, then C's write; all by the threads inside C
        ordinal = np.arange(k + 1)
        role = np.where(ordinal < k, role_code["multiply"], role_code["write"])
        line = np.where(ordinal < k, lines["multiply"], lines["write"])
        cols = dict(epoch=np.zeros(k + 1), ordinal=ordinal, line=line, threads=np.full(k + 1, m * n),
                    role=role, tile=np.zeros(k + 1), index=np.where(ordinal < k, ordinal, 0))
    else:
        tile_w = launch.block.x
        tiles = -(-k // tile_w)
        g = launch.grid
        everyone = launch.threads
        t = np.arange(tiles)
        in_tile = np.clip(k - t * tile_w, 0, tile_w)  # k values of each tile inside A's columns
        load_a = m * g.x * in_tile  # threads with row < M and t·TILE + tx < K
        load_b = g.y * in_tile * n  # threads with t·TILE + ty < K and col < N
        roles = lambda *names: np.array([role_code[r] for r in names])  # noqa: E731
        i = np.arange(tile_w + 1)
        # epoch 2t: A's load or zero fill (ordinal 0: each thread takes one branch),
        # B's (ordinal 1), the barrier (2); epoch 2t + 1: TILE executions of the
        # multiply line, then the barrier; last, C's write
        epoch = np.concatenate([np.repeat(2 * t, 5), np.repeat(2 * t + 1, tile_w + 1), [2 * tiles]])
        ordinal = np.concatenate([np.tile([0, 0, 1, 1, 2], tiles), np.tile(i, tiles), [0]])
        role = np.concatenate([
            np.tile(roles("load_a", "zero_a", "load_b", "zero_b", "sync_loaded"), tiles),
            np.tile(np.where(i < tile_w, role_code["multiply"], role_code["sync_used"]), tiles),
            roles("write")])
        threads = np.concatenate([
            np.stack([load_a, everyone - load_a, load_b, everyone - load_b, np.full(tiles, everyone)],
                     axis=1).ravel(),
            np.full(tiles * (tile_w + 1), everyone), [m * n]])
        tile = np.concatenate([np.repeat(t, 5), np.repeat(t, tile_w + 1), [0]])
        index = np.concatenate([np.zeros(5 * tiles, np.int64),
                                np.tile(np.minimum(i, tile_w - 1), tiles), [0]])
        role_lines = np.array([lines[r] for r in ROLES])
        line = role_lines[role]
        # a branch no thread takes is no step
        keep = threads > 0
        order = np.lexsort((line[keep], ordinal[keep], epoch[keep]))
        cols = {name: arr[keep][order] for name, arr in (
            ("epoch", epoch), ("ordinal", ordinal), ("line", line), ("threads", threads),
            ("role", role), ("tile", tile), ("index", index))}
    return StepPlan(**{name: np.asarray(arr, np.int64 if name == "threads" else np.int32)
                    for name, arr in cols.items()})


def kernel_steps(kernel: str, problem: MatmulProblem, block) -> Steps:
    """The steps :func:`~gpuviz.model.trace.derive_steps` finds in a built-in kernel's trace, computed.

    The same ``epoch``, ``ordinal``, ``line`` and ``threads``, at any size, in
    microseconds; ``event_step`` is None, as there is no trace to index.
    """
    p = step_plan(kernel, problem, launch_for(kernel, problem, block))
    return Steps(p.epoch.copy(), p.ordinal.copy(), p.line.copy(), p.threads.copy(), None)


# A count over a 2-D array as a sum of outer products: (coefficient, row profile, column profile).
_Terms = list[tuple[int, np.ndarray, np.ndarray]]


def _ones(n: int) -> np.ndarray:
    return np.ones(n, np.int64)


def span_profile(n: int, start: int, stop: int) -> np.ndarray:
    """1 where ``start <= index < stop``, over ``n`` indices."""
    i = np.arange(n)
    return ((i >= start) & (i < stop)).astype(np.int64)


def _below(n: int, limit: int) -> np.ndarray:
    return span_profile(n, 0, limit)


def _only(n: int, index: int) -> np.ndarray:
    out = np.zeros(n, np.int64)
    out[index] = 1
    return out


def step_terms(kernel: str, problem: MatmulProblem, launch: LaunchConfig, role: str, t: int, index: int):
    """The active-thread and access counts of one step, as sums of outer products.

    Returns ``(active, reads, writes)``: terms over the thread grid, and per
    array name terms over that array.
    """
    m, n, k = problem.m, problem.n, problem.k
    g, b = launch.grid, launch.block
    rows, cols = g.y * b.y, g.x * b.x  # the thread grid
    reads: dict[str, _Terms] = {}
    writes: dict[str, _Terms] = {}
    if kernel in ("naive", "uncoalesced"):
        # thread (x, y) computes C[y, x] (naive) or C[x, y] (uncoalesced)
        rows_limit, cols_limit = (n, m) if kernel == "uncoalesced" else (m, n)
        active = [(1, _below(rows, rows_limit), _below(cols, cols_limit))]
        if role == "multiply":
            # every thread inside C reads A[row, k] and B[k, col]: each element of A's column k
            # is read by the N threads of its row, each of B's row k by the M threads of its column
            reads["A"] = [(n, _ones(m), _only(k, index))]
            reads["B"] = [(m, _only(k, index), _ones(n))]
        else:
            writes["C"] = [(1, _ones(m), _ones(n))]
        return active, reads, writes

    tile = b.x
    everyone = [(1, _ones(rows), _ones(cols))]
    t0 = t * tile
    in_tile = min(tile, k - t0)
    if role in ("load_a", "zero_a"):
        # threads with row < M whose tx lands inside A's columns copy A; the rest write a zero
        active = [(1, _below(rows, m), (np.arange(cols) % tile < in_tile).astype(np.int64))]
        blocks_y = _below(rows, m).reshape(g.y, tile).sum(axis=0)  # blocks whose row ty is inside A
        loads = [(g.x, blocks_y, _below(tile, in_tile))]
        if role == "load_a":
            reads["A"] = [(g.x, _ones(m), span_profile(k, t0, t0 + in_tile))]
            writes["sA"] = loads
        else:
            active = everyone + _negate(active)
            writes["sA"] = [(g.x * g.y, _ones(tile), _ones(tile))] + _negate(loads)
    elif role in ("load_b", "zero_b"):
        active = [(1, (np.arange(rows) % tile < in_tile).astype(np.int64), _below(cols, n))]
        blocks_x = _below(cols, n).reshape(g.x, tile).sum(axis=0)
        loads = [(g.y, _below(tile, in_tile), blocks_x)]
        if role == "load_b":
            reads["B"] = [(g.y, span_profile(k, t0, t0 + in_tile), _ones(n))]
            writes["sB"] = loads
        else:
            active = everyone + _negate(active)
            writes["sB"] = [(g.x * g.y, _ones(tile), _ones(tile))] + _negate(loads)
    elif role == "multiply":
        # every thread of every block reads sA[ty, i] and sB[i, tx]
        active = everyone
        reads["sA"] = [(g.x * g.y * tile, _ones(tile), _only(tile, index))]
        reads["sB"] = [(g.x * g.y * tile, _only(tile, index), _ones(tile))]
    elif role == "write":
        active = [(1, _below(rows, m), _below(cols, n))]
        writes["C"] = [(1, _ones(m), _ones(n))]
    else:  # a barrier: everyone waits, nothing is accessed
        active = everyone
    return active, reads, writes


def _negate(terms: _Terms) -> _Terms:
    return [(-c, u, v) for c, u, v in terms]


def render_terms(terms: _Terms, vp: Viewport) -> np.ndarray:
    """The terms summed over each pixel of ``vp``: binning is linear, so bin the profiles, then multiply."""
    if not terms:
        return np.zeros(vp.shape, np.int64)
    out = None
    for c, u, v in terms:
        part = np.multiply.outer(c * vp.bin_rows(u), vp.bin_cols(v))
        if out is None:
            out = part
        else:
            out += part
    return out


def kernel_frame(kernel: str, problem: MatmulProblem, block, step: int, viewports=None) -> Frame:
    """The frame of step ``step`` of a built-in kernel, computed from its index arithmetic.

    Equal to :func:`frame_from_trace` on the kernel's trace, at any size: it
    never builds the trace nor a full-size count array, so its cost follows
    the pixels of the viewports.

    Parameters
    ----------
    kernel : str
        ``"naive"``, ``"uncoalesced"`` or ``"tiled"``.
    problem : MatmulProblem
        The product's sizes.
    block : Dim3 or tuple
        Threads per block.
    step : int
        Index into :func:`kernel_steps`.
    viewports : dict of str to Viewport, optional
        Per array name and :data:`THREADS`; an array without one is drawn whole,
        at most :data:`DEFAULT_MAX_PIXELS` pixels along each axis.
    """
    launch = launch_for(kernel, problem, block)
    plan = step_plan(kernel, problem, launch)
    if not 0 <= step < len(plan.line):
        raise IndexError(f"step {step} is outside 0..{len(plan.line) - 1}")
    shapes = kernel_shapes(kernel, problem, block)
    vps = resolve_viewports(shapes, viewports)
    active, reads, writes = step_terms(kernel, problem, launch, ROLES[plan.role[step]],
                                        int(plan.tile[step]), int(plan.index[step]))
    names = KERNEL_ARRAYS[kernel]
    return Frame(step, int(plan.epoch[step]), int(plan.ordinal[step]), int(plan.line[step]),
                 int(plan.threads[step]),
                 {name: render_terms(reads.get(name, []), vps[name]) for name in names},
                 {name: render_terms(writes.get(name, []), vps[name]) for name in names},
                 render_terms(active, vps[THREADS]), vps)
