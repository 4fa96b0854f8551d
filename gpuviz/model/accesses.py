"""What chosen threads access in one step, and the memory transactions a warp's loads cost.

:func:`kernel_frame` answers "what does the whole grid touch in step s" as
counts. The panel also asks about a few threads — the selected thread, its
warp, its block — and about addresses: which 32-byte sectors a warp's loads
fall into. Those questions involve at most a block's 1024 threads, so they are
answered element by element here, from the same step plan.

Global memory is modelled as row-major float32 arrays, each starting on its
own sector boundary; a *request* is one load instruction of one warp (its
active lanes), and it costs one *sector* (32 bytes) per distinct sector its
lanes touch: 1 is ideal for 32 lanes reading one float each of the same
sector… up to 32 when every lane hits a different one. This is the
sector-counting model of NVIDIA's profilers (``sectors/request``), not a
cycle-accurate memory system.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .frames import ROLES, step_plan
from .launch import WARP_SIZE, LaunchConfig
from .matmul import MatmulProblem, launch_for

SECTOR_BYTES = 32
FLOAT_BYTES = 4


@dataclass(frozen=True)
class Access:
    """One array access of a set of threads in one step.

    Parameters
    ----------
    array : str
        Kernel variable name (A, B, C, sA, sB).
    op : str
        ``"read"`` or ``"write"``.
    space : str
        ``"global"`` or ``"shared"``.
    thread : ndarray of int
        Index (into the threads asked about) of each thread that makes it.
    row, col : ndarray of int
        The element each of those threads accesses.
    """

    array: str
    op: str
    space: str
    thread: np.ndarray
    row: np.ndarray
    col: np.ndarray


@dataclass(frozen=True)
class StepAccesses:
    """Everything chosen threads do in one step.

    Parameters
    ----------
    role : str
        The statement executed (see ``frames.ROLES``).
    active : ndarray of bool
        Per thread asked about: does it execute this step's line? (A lane that
        is not active is masked for the step.)
    accesses : list of Access
        In the order the line makes them.
    """

    role: str
    active: np.ndarray
    accesses: list[Access]


def step_accesses(kernel: str, problem: MatmulProblem, block, step: int, gx, gy) -> StepAccesses:
    """The accesses of step ``step`` by the threads with global indices ``(gx, gy)``.

    ``gx = blockIdx.x·blockDim.x + threadIdx.x`` and likewise ``gy``; arrays
    of equal length. Threads may lie anywhere in the launched grid.
    """
    launch = launch_for(kernel, problem, block)
    plan = step_plan(kernel, problem, launch)
    if not 0 <= step < len(plan.line):
        raise IndexError(f"step {step} is outside 0..{len(plan.line) - 1}")
    gx, gy = np.asarray(gx, np.int64), np.asarray(gy, np.int64)
    role = ROLES[plan.role[step]]
    t, index = int(plan.tile[step]), int(plan.index[step])
    m, n, k = problem.m, problem.n, problem.k
    ids = np.arange(len(gx))

    def acc(array, op, space, mask, row, col):
        return Access(array, op, space, ids[mask], np.broadcast_to(row, gx.shape)[mask],
                      np.broadcast_to(col, gx.shape)[mask])

    if kernel in ("naive", "uncoalesced"):
        row, col = (gx, gy) if kernel == "uncoalesced" else (gy, gx)
        inside = (row < m) & (col < n)
        if role == "multiply":
            return StepAccesses(role, inside, [acc("A", "read", "global", inside, row, index),
                                               acc("B", "read", "global", inside, index, col)])
        return StepAccesses(role, inside, [acc("C", "write", "global", inside, row, col)])

    tile = launch.block.x
    tx, ty = gx % tile, gy % tile
    row, col = gy, gx
    a_col, b_row = t * tile + tx, t * tile + ty
    everyone = np.ones(len(gx), bool)
    if role in ("load_a", "zero_a"):
        loads = (row < m) & (a_col < k)
        if role == "load_a":
            return StepAccesses(role, loads, [acc("A", "read", "global", loads, row, a_col),
                                              acc("sA", "write", "shared", loads, ty, tx)])
        return StepAccesses(role, ~loads, [acc("sA", "write", "shared", ~loads, ty, tx)])
    if role in ("load_b", "zero_b"):
        loads = (b_row < k) & (col < n)
        if role == "load_b":
            return StepAccesses(role, loads, [acc("B", "read", "global", loads, b_row, col),
                                              acc("sB", "write", "shared", loads, ty, tx)])
        return StepAccesses(role, ~loads, [acc("sB", "write", "shared", ~loads, ty, tx)])
    if role == "multiply":
        return StepAccesses(role, everyone, [acc("sA", "read", "shared", everyone, ty, index),
                                             acc("sB", "read", "shared", everyone, index, tx)])
    if role == "write":
        inside = (row < m) & (col < n)
        return StepAccesses(role, inside, [acc("C", "write", "global", inside, row, col)])
    return StepAccesses(role, everyone, [])  # a barrier


def warp_threads(launch: LaunchConfig, block_xy, warp: int) -> tuple[np.ndarray, np.ndarray]:
    """Global (gx, gy) of the lanes of warp ``warp`` of block ``block_xy``, in lane order."""
    b = launch.block
    lin = np.arange(warp * WARP_SIZE, min((warp + 1) * WARP_SIZE, b.size))
    tx, ty = lin % b.x, (lin // b.x) % b.y
    return block_xy[0] * b.x + tx, block_xy[1] * b.y + ty


def block_threads(launch: LaunchConfig, block_xy) -> tuple[np.ndarray, np.ndarray]:
    """Global (gx, gy) of every thread of block ``block_xy``, in linear thread id order."""
    b = launch.block
    lin = np.arange(b.size)
    return block_xy[0] * b.x + lin % b.x, block_xy[1] * b.y + (lin // b.x) % b.y


@dataclass(frozen=True)
class Request:
    """One warp-wide global load or store and the sectors it touches.

    Parameters
    ----------
    array, op : str
        What was accessed and how.
    lanes : ndarray of int
        Active lanes making the access.
    addresses : ndarray of int
        Byte address of each lane's element within its array (row-major float32).
    sectors : ndarray of int
        The distinct 32-byte sectors touched, sorted.
    """

    array: str
    op: str
    lanes: np.ndarray
    addresses: np.ndarray
    sectors: np.ndarray

    @property
    def sectors_per_request(self) -> int:
        return len(self.sectors)


def array_columns(kernel: str, problem: MatmulProblem, array: str) -> int:
    """Row length (elements) of a global array, for row-major addresses."""
    return {"A": problem.k, "B": problem.n, "C": problem.n}[array]


def warp_requests(kernel: str, problem: MatmulProblem, block, step: int, block_xy, warp: int) -> list[Request]:
    """The global-memory requests warp ``warp`` of block ``block_xy`` makes in step ``step``."""
    launch = launch_for(kernel, problem, block)
    gx, gy = warp_threads(launch, block_xy, warp)
    sa = step_accesses(kernel, problem, block, step, gx, gy)
    out = []
    for a in sa.accesses:
        if a.space != "global" or len(a.thread) == 0:
            continue
        addr = (a.row * array_columns(kernel, problem, a.array) + a.col) * FLOAT_BYTES
        out.append(Request(a.array, a.op, a.thread, addr, np.unique(addr // SECTOR_BYTES)))
    return out
