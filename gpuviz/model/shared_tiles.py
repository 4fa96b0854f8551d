"""The tiled kernel's shared-memory tiles sA and sB of one block, at one step.

Each block of the tiled kernel owns two TILE×TILE arrays in shared memory. In
tile ``t`` every thread ``(tx, ty)`` writes one element of each:
``sA[ty, tx] = A[row, t·TILE + tx]`` and ``sB[ty, tx] = B[t·TILE + ty, col]``,
or a zero where that element lies outside A or B (the zero-fill branch). After
the first barrier, multiply step ``i`` has every thread read ``sA[ty, i]`` and
``sB[i, tx]``: each of those elements serves the TILE threads of its row (or
column) of the block, which is the reuse tiling buys.

:func:`shared_tiles` says, for one block and one step, what each element of
the tiles holds *after* the step (a copy of which global element, a padding
zero, or nothing yet), which elements the step wrote, how many times the focus
threads read each one, and which global elements are being read through their
staged copies. It is derived from the same step plan and
:func:`~gpuviz.model.accesses.step_accesses` as the rest of the panel, so it is
exact at any size; the tests hold it equal to a simulator recording.

Shared memory is not cleared between tiles: until the step that overwrites an
element, it still holds the previous tile's value (``loaded_tile`` says which
tile each element holds), and before the first load it holds nothing the
kernel wrote.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .accesses import block_threads, step_accesses
from .frames import ROLES, step_plan
from .matmul import MatmulProblem, launch_for

#: What an element of a tile holds: nothing the kernel wrote yet, a copy of a global element, a padding zero.
EMPTY, COPY, ZERO = 0, 1, 2

#: Each tile, the global array it stages, and the roles of its copying and zero-filling statements.
TILES = {"sA": ("A", "load_a", "zero_a"), "sB": ("B", "load_b", "zero_b")}


@dataclass(frozen=True)
class TileState:
    """One shared tile of one block after one step.

    Parameters
    ----------
    name : str
        ``"sA"`` or ``"sB"``.
    source : str
        The global array it stages (``"A"`` or ``"B"``).
    held : ndarray of int8, shape (TILE, TILE)
        :data:`EMPTY`, :data:`COPY` or :data:`ZERO` per element.
    src_row, src_col : ndarray of int64, shape (TILE, TILE)
        The global element each copy holds; -1 where the element is not a copy.
    loaded_tile : ndarray of int64, shape (TILE, TILE)
        The tile ``t`` whose load wrote the element's value; -1 where none did yet.
    written : ndarray of bool, shape (TILE, TILE)
        Written in this step.
    reads : ndarray of int64, shape (TILE, TILE)
        Reads of each element by the focus threads in this step.
    """

    name: str
    source: str
    held: np.ndarray
    src_row: np.ndarray
    src_col: np.ndarray
    loaded_tile: np.ndarray
    written: np.ndarray
    reads: np.ndarray

    def label(self, r: int, c: int) -> str:
        """What element (r, c) holds, as a student reads it: ``"A[24,3]"``, ``"0"`` or ``""`` (nothing yet)."""
        if self.held[r, c] == COPY:
            return f"{self.source}[{self.src_row[r, c]},{self.src_col[r, c]}]"
        return "0" if self.held[r, c] == ZERO else ""


@dataclass(frozen=True)
class CopyReads:
    """Global elements read through their copies in shared memory in one step.

    Parameters
    ----------
    rows, cols : ndarray of int64
        The global elements (each once).
    counts : ndarray of int64
        Reads of each one's copies by the focus threads in the step.
    """

    rows: np.ndarray
    cols: np.ndarray
    counts: np.ndarray

    def __len__(self) -> int:
        return len(self.rows)


@dataclass(frozen=True)
class SharedTiles:
    """sA and sB of one block after one step of the tiled kernel.

    Parameters
    ----------
    step : int
        The step.
    role : str
        Its statement (see ``frames.ROLES``).
    block : tuple of int
        ``blockIdx`` (x, y) of the block whose tiles these are.
    tile_size : int
        TILE (= blockDim.x = blockDim.y).
    tile : int
        The tile ``t`` the step works on (the last one for C's write).
    tiles : int
        Tiles in the whole loop: ``ceil(K / TILE)``.
    sA, sB : TileState
    via_shared : dict of str to CopyReads
        Keys ``"A"`` and ``"B"``: the global elements whose copies the focus
        threads read in this step (empty outside multiply steps).
    zero_reads : int
        Reads of padding zeros by the focus threads in this step (both tiles).
    all_blocks : bool
        True when the focus is every thread: ``via_shared`` then counts the reads of
        every block (each through its own copies), the tiles' ``reads`` those of this block.
    """

    step: int
    role: str
    block: tuple[int, int]
    tile_size: int
    tile: int
    tiles: int
    sA: TileState
    sB: TileState
    via_shared: dict[str, CopyReads]
    zero_reads: int
    all_blocks: bool

    def tile_state(self, name: str) -> TileState:
        return {"sA": self.sA, "sB": self.sB}[name]


def _step_of(plan, role: str, tile: int) -> int | None:
    """Index of the step that executes ``role`` for tile ``tile`` (None: no thread takes that branch)."""
    code = ROLES.index(role)
    hits = np.flatnonzero((plan.role == code) & (plan.tile == tile))
    return int(hits[0]) if len(hits) else None


def shared_tiles(kernel: str, problem: MatmulProblem, block, step: int, block_xy,
                 focus: tuple[np.ndarray, np.ndarray] | None = None) -> SharedTiles | None:
    """The shared tiles of block ``block_xy`` after step ``step`` (None for a kernel without them).

    Parameters
    ----------
    kernel : str
        Only ``"tiled"`` has shared tiles.
    problem : MatmulProblem
    block : Dim3 or tuple
        Threads per block.
    step : int
        Index into the kernel's steps.
    block_xy : tuple of int
        ``blockIdx`` (x, y) of the block.
    focus : (gx, gy) arrays, optional
        Global indices of the threads whose reads count (the selected thread, its
        warp, its block); threads of other blocks read their own block's tiles, so
        only those of ``block_xy`` count in ``reads``. None: every thread (the
        tiles count their block's threads, ``via_shared`` every block's).
    """
    if kernel != "tiled":
        return None
    launch = launch_for(kernel, problem, block)
    plan = step_plan(kernel, problem, launch)
    if not 0 <= step < len(plan.line):
        raise IndexError(f"step {step} is outside 0..{len(plan.line) - 1}")
    bx, by = int(block_xy[0]), int(block_xy[1])
    g = launch.grid
    if not (0 <= bx < g.x and 0 <= by < g.y):
        raise IndexError(f"block ({bx}, {by}) is outside the grid of {g.x}×{g.y} blocks")
    size = launch.block.x
    tiles = -(-problem.k // size)
    role = ROLES[plan.role[step]]
    current = tiles - 1 if role == "write" else int(plan.tile[step])
    gx, gy = block_threads(launch, (bx, by))

    states = {}
    for name, (source, load, zero) in TILES.items():
        held = np.full((size, size), EMPTY, np.int8)
        src_row = np.full((size, size), -1, np.int64)
        src_col = np.full((size, size), -1, np.int64)
        loaded = np.full((size, size), -1, np.int64)
        written = np.zeros((size, size), bool)
        # every thread writes its element of every tile, so the previous tile's writes cover the whole
        # tile and only its own and the current tile's can show
        for t in (current - 1, current):
            if t < 0:
                continue
            for branch in (load, zero):
                at = _step_of(plan, branch, t)
                if at is None or at > step:
                    continue
                acc = step_accesses(kernel, problem, block, at, gx, gy).accesses
                w = next(a for a in acc if a.array == name and a.op == "write")
                held[w.row, w.col] = COPY if branch == load else ZERO
                src_row[w.row, w.col] = -1
                src_col[w.row, w.col] = -1
                loaded[w.row, w.col] = t
                for r in (a for a in acc if a.array == source and a.op == "read"):
                    # the copy is what the same thread read: match the two accesses by thread
                    where = {int(th): i for i, th in enumerate(w.thread)}
                    idx = np.array([where[int(th)] for th in r.thread], np.int64)
                    src_row[w.row[idx], w.col[idx]] = r.row
                    src_col[w.row[idx], w.col[idx]] = r.col
                if at == step:
                    written[w.row, w.col] = True
        states[name] = (source, held, src_row, src_col, loaded, written)

    reads = {name: np.zeros((size, size), np.int64) for name in TILES}
    via = {src: CopyReads(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))
           for src, _, _ in TILES.values()}
    zero_reads = 0
    if role == "multiply":
        fx, fy = (gx, gy) if focus is None else (np.asarray(focus[0], np.int64), np.asarray(focus[1], np.int64))
        mine = (fx // size == bx) & (fy // size == by)
        for a in step_accesses(kernel, problem, block, step, fx[mine], fy[mine]).accesses:
            if a.space == "shared" and a.op == "read":
                np.add.at(reads[a.array], (a.row, a.col), 1)
        for name, (source, held, src_row, src_col, _, _) in states.items():
            copies = (held == COPY) & (reads[name] > 0)
            zero_reads += int(reads[name][held == ZERO].sum())
            via[source] = CopyReads(src_row[copies], src_col[copies], reads[name][copies])
        if focus is None:
            via = _all_blocks_copy_reads(problem, launch, int(plan.tile[step]), int(plan.index[step]))

    out = {}
    for name, (source, held, src_row, src_col, loaded, written) in states.items():
        out[name] = TileState(name, source, held, src_row, src_col, loaded, written, reads[name])
    return SharedTiles(step, role, (bx, by), size, current, tiles, out["sA"], out["sB"], via, zero_reads,
                       focus is None)


def _all_blocks_copy_reads(problem: MatmulProblem, launch, t: int, i: int) -> dict[str, CopyReads]:
    """Multiply step ``i`` of tile ``t`` by every thread: A's column ``t·TILE + i`` through the copies of the
    gridDim.x blocks of each block row, each read by TILE threads; B's row likewise (nothing past K: padding)."""
    size = launch.block.x
    g = launch.grid
    kk = t * size + i
    m, n = problem.m, problem.n
    if kk >= problem.k:
        empty = np.zeros(0, np.int64)
        return {"A": CopyReads(empty, empty, empty), "B": CopyReads(empty, empty, empty)}
    return {"A": CopyReads(np.arange(m), np.full(m, kk), np.full(m, g.x * size)),
            "B": CopyReads(np.full(n, kk), np.arange(n), np.full(n, g.y * size))}


__all__ = ["COPY", "EMPTY", "TILES", "ZERO", "CopyReads", "SharedTiles", "TileState", "shared_tiles"]
