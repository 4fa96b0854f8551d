"""Memory transactions of a whole launch: requests and 32-byte sectors per global array, exact at any size.

A *request* is one warp-wide global load or store instruction (its active
lanes); it costs one *sector* per distinct 32-byte sector its lanes' addresses
fall into (arrays row-major float32, each starting on a sector boundary, as in
:mod:`.accesses`). That is the sector-counting model of NVIDIA's profilers,
not a cycle-accurate memory system: caches, DRAM pages and latency hiding are
left out (:data:`MODEL_NOTE` says so on screen).

Counting every warp of every step would be O(M·N·K). Instead: a lane's element
index is ``base + offset``, where ``offset = tx·cx + ty·cy`` depends only on
the lane's place in its block and ``base`` is a linear function of the block
indices and the loop variable. Shifting every lane by a multiple of 8 floats
(one sector) does not change how many sectors they span, so a request's cost
depends only on its warp, its block's edge class (which lanes are masked) and
``base mod 8``. Each axis (blockIdx.x, blockIdx.y, the loop) splits into at
most three classes of indices with the same mask; the residues of ``base``
over a class are counted in closed form and combined by cyclic convolution.
So a launch is evaluated as ≤ 8 class combinations × its warps × 8 residues,
whatever its size (``tests/test_coalescing.py`` holds it equal to counting the
vectorized trace request by request).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import product

import numpy as np

from .accesses import FLOAT_BYTES, SECTOR_BYTES
from .launch import Dim3, LaunchConfig
from .matmul import KERNELS, MatmulProblem, launch_for
from .numbers import block_lanes, extent_classes
from .text import format_bytes

#: Floats per sector.
SECTOR_FLOATS = SECTOR_BYTES // FLOAT_BYTES

#: What the UI says next to any sector count.
MODEL_NOTE = ("Memory transactions follow NVIDIA's sector-counting model (32-byte sectors per warp request, "
              "as its profilers report them), not a cycle-accurate simulation of caches and DRAM.")


@dataclass(frozen=True)
class ArrayTraffic:
    """Global-memory traffic of one array (or several, summed) over a whole launch.

    Parameters
    ----------
    array : str
        ``"A"``, ``"B"``, ``"C"``, or names joined with ``+`` for a sum.
    op : str
        ``"load"``, ``"store"``, or ``"load+store"``.
    requests : int
        Warp-wide instructions with at least one active lane.
    sectors : int
        Sum over requests of the distinct 32-byte sectors their lanes touch.
    lane_accesses : int
        Element accesses by the active lanes (a lane that loads counts once).
    distinct_elements : int
        Sum over requests of the distinct elements their lanes touch (lanes of
        one request reading the same element share it: a broadcast).
    """

    array: str
    op: str
    requests: int
    sectors: int
    lane_accesses: int
    distinct_elements: int

    @property
    def sectors_per_request(self) -> float:
        """1 is ideal (32 lanes within one sector or fewer) … 32 when every lane hits its own sector."""
        return self.sectors / self.requests if self.requests else 0.0

    @property
    def bytes_moved(self) -> int:
        """``32 × sectors``: what the memory system transfers."""
        return SECTOR_BYTES * self.sectors

    @property
    def bytes_requested(self) -> int:
        """``4 × lane_accesses``: what the lanes ask for, repeats included."""
        return FLOAT_BYTES * self.lane_accesses

    @property
    def bytes_used(self) -> int:
        """``4 × distinct_elements``: the bytes of the moved sectors that some lane needed."""
        return FLOAT_BYTES * self.distinct_elements

    @property
    def efficiency(self) -> float:
        """``bytes_used / bytes_moved``: 1.0 when every byte a sector brings is used."""
        return self.bytes_used / self.bytes_moved if self.sectors else 0.0

    def __add__(self, other: ArrayTraffic) -> ArrayTraffic:
        op = self.op if self.op == other.op else "load+store"
        return ArrayTraffic(f"{self.array}+{other.array}", op, self.requests + other.requests,
                            self.sectors + other.sectors, self.lane_accesses + other.lane_accesses,
                            self.distinct_elements + other.distinct_elements)


@dataclass(frozen=True)
class MemoryTotals:
    """Requests and sectors of every global array over a whole launch of a built-in kernel.

    Parameters
    ----------
    kernel : str
        The kernel.
    m, n, k : int
        The product's sizes.
    block : tuple of int
        ``blockDim`` (x, y).
    arrays : dict of str to ArrayTraffic
        ``"A"`` and ``"B"`` (loads) and ``"C"`` (stores).
    """

    kernel: str
    m: int
    n: int
    k: int
    block: tuple[int, int]
    arrays: dict[str, ArrayTraffic]

    @property
    def loads(self) -> ArrayTraffic:
        """A and B together: every global load of the launch."""
        return self.arrays["A"] + self.arrays["B"]

    @property
    def total(self) -> ArrayTraffic:
        """Every global request of the launch, loads and stores."""
        return self.loads + self.arrays["C"]


@dataclass(frozen=True)
class _Axis:
    """One index the base address depends on: ``0 <= i < count`` contributes ``coef·i`` elements.

    When ``lane`` is ``"x"`` (``"y"``), index ``i`` also masks the lanes with
    ``threadIdx.x`` (``.y``) ``>= clip(extent − i·span, 0, span)``.
    """

    count: int
    coef: int
    lane: str | None = None
    extent: int = 0
    span: int = 1

    def classes(self) -> list[tuple[int | None, int, int]]:
        if self.lane is None:
            return [(None, 0, self.count)]
        return extent_classes(self.extent, self.span, self.count)


@dataclass(frozen=True)
class _Family:
    """All requests one statement makes to one array: lane offset ``tx·cx + ty·cy`` plus a base."""

    array: str
    op: str
    cx: int
    cy: int
    axes: tuple[_Axis, ...]


def _families(kernel: str, problem: MatmulProblem, launch: LaunchConfig) -> list[_Family]:
    """The kernel's global accesses, written as index arithmetic (the kernels' source, restated)."""
    m, n, k = problem.m, problem.n, problem.k
    g, b = launch.grid, launch.block
    bx, by = b.x, b.y
    if kernel == "naive":
        # row = blockIdx.y·bdy + ty, col = blockIdx.x·bdx + tx; inside C: col < N, row < M
        x = lambda coef: _Axis(g.x, coef, "x", n, bx)  # noqa: E731
        y = lambda coef: _Axis(g.y, coef, "y", m, by)  # noqa: E731
        return [_Family("A", "load", 0, k, (x(0), y(by * k), _Axis(k, 1))),  # A[row, kk]
                _Family("B", "load", 1, 0, (x(bx), y(0), _Axis(k, n))),  # B[kk, col]
                _Family("C", "store", 1, n, (x(bx), y(by * n)))]  # C[row, col]
    if kernel == "uncoalesced":
        # row = blockIdx.x·bdx + tx, col = blockIdx.y·bdy + ty; inside C: row < M, col < N
        x = lambda coef: _Axis(g.x, coef, "x", m, bx)  # noqa: E731
        y = lambda coef: _Axis(g.y, coef, "y", n, by)  # noqa: E731
        return [_Family("A", "load", k, 0, (x(bx * k), y(0), _Axis(k, 1))),
                _Family("B", "load", 0, 1, (x(0), y(by), _Axis(k, n))),
                _Family("C", "store", n, 1, (x(bx * n), y(by)))]
    if kernel != "tiled":
        raise KeyError(kernel)
    tile = bx
    tiles = -(-k // tile)
    # row = blockIdx.y·T + ty, col = blockIdx.x·T + tx; tile t loads A[row, t·T + tx] where row < M and
    # t·T + tx < K, and B[t·T + ty, col] where t·T + ty < K and col < N
    return [_Family("A", "load", 1, k, (_Axis(g.x, 0), _Axis(g.y, tile * k, "y", m, tile),
                                         _Axis(tiles, tile, "x", k, tile))),
            _Family("B", "load", 1, n, (_Axis(g.x, tile, "x", n, tile), _Axis(g.y, 0),
                                         _Axis(tiles, tile * n, "y", k, tile))),
            _Family("C", "store", 1, n, (_Axis(g.x, tile, "x", n, tile), _Axis(g.y, tile * n, "y", m, tile)))]


def _residues(coef: int, lo: int, hi: int) -> list[int]:
    """How many ``lo <= i < hi`` have ``coef·i ≡ r (mod 8)``, for each r."""
    below = lambda x, j: max(0, (x - j + SECTOR_FLOATS - 1) // SECTOR_FLOATS)  # noqa: E731  i < x, i ≡ j
    out = [0] * SECTOR_FLOATS
    for j in range(SECTOR_FLOATS):
        out[(coef * j) % SECTOR_FLOATS] += below(hi, j) - below(lo, j)
    return out


def _convolve(h1: list[int], h2: list[int]) -> list[int]:
    out = [0] * SECTOR_FLOATS
    for a, x in enumerate(h1):
        if x:
            for c, y in enumerate(h2):
                out[(a + c) % SECTOR_FLOATS] += x * y
    return out


def _family_traffic(family: _Family, block: Dim3) -> ArrayTraffic:
    tx, ty, valid = block_lanes(block.x, block.y)
    offset = tx * family.cx + ty * family.cy
    rho = np.arange(SECTOR_FLOATS, dtype=np.int64)[:, None, None]
    requests = sectors = lanes = distinct = 0
    for combo in product(*(axis.classes() for axis in family.axes)):
        ax, ay = block.x, block.y
        hist = [1] + [0] * (SECTOR_FLOATS - 1)
        for axis, (limit, lo, hi) in zip(family.axes, combo):
            if axis.lane == "x":
                ax = min(ax, limit)
            elif axis.lane == "y":
                ay = min(ay, limit)
            hist = _convolve(hist, _residues(axis.coef, lo, hi))
        weight = sum(hist)
        active = valid & (tx < ax) & (ty < ay)
        live = active.any(axis=1)
        if not weight or not live.any():
            continue
        act = active[live]
        # each warp's active offsets sorted, inactive lanes pushed to the end
        off = np.sort(np.where(act, offset[live], np.iinfo(np.int64).max), axis=1)
        ok = np.arange(act.shape[1]) < act.sum(axis=1)[:, None]  # the first (active count) positions
        new = ok[:, 1:] & (off[:, 1:] != off[:, :-1])
        distinct_per_warp = 1 + new.sum(axis=1)
        sec = (np.where(ok, off, 0)[None] + rho) // SECTOR_FLOATS  # (residue, warp, lane)
        sectors_per = 1 + (ok[None, :, 1:] & (sec[:, :, 1:] != sec[:, :, :-1])).sum(axis=2)  # (residue, warp)
        requests += weight * int(live.sum())
        lanes += weight * int(act.sum())
        distinct += weight * int(distinct_per_warp.sum())
        sectors += sum(h * int(s) for h, s in zip(hist, sectors_per.sum(axis=1).tolist()))
    return ArrayTraffic(family.array, family.op, requests, sectors, lanes, distinct)


@lru_cache(maxsize=32)
def _memory_totals(kernel: str, problem: MatmulProblem, launch: LaunchConfig) -> MemoryTotals:
    arrays = {f.array: _family_traffic(f, launch.block) for f in _families(kernel, problem, launch)}
    b = launch.block
    return MemoryTotals(kernel, problem.m, problem.n, problem.k, (b.x, b.y), arrays)


def memory_totals(kernel: str, problem: MatmulProblem, block) -> MemoryTotals:
    """Requests and sectors per global array over a whole launch of a built-in kernel (cached)."""
    if kernel not in KERNELS:
        raise KeyError(kernel)
    return _memory_totals(kernel, problem, launch_for(kernel, problem, Dim3.of(block)))


@dataclass(frozen=True)
class Comparison:
    """Two kernels' memory traffic for the same product, side by side.

    Parameters
    ----------
    first, second : MemoryTotals
        The scene's kernel and the one it is compared with.
    sentence : str
        Why one is slower on a real GPU, with the numbers (:func:`explain_contrast`).
    """

    first: MemoryTotals
    second: MemoryTotals
    sentence: str

    @property
    def load_ratio(self) -> float:
        """Bytes the second kernel's loads move over the first's."""
        return self.second.loads.bytes_moved / self.first.loads.bytes_moved


def explain_contrast(first: MemoryTotals, second: MemoryTotals) -> str:
    """One sentence on which kernel moves more bytes from global memory and what that costs on a GPU."""
    a, b = first.loads, second.loads
    if a.bytes_moved == b.bytes_moved:
        who = f"The {first.kernel} and {second.kernel} kernels" if first.kernel != second.kernel else "Both"
        return (f"{who} move the same {format_bytes(a.bytes_moved)} "
                f"from global memory ({a.sectors_per_request:.1f} sectors per warp request on average), so "
                "memory traffic does not separate them for this product.")
    slow, fast = (second, first) if b.bytes_moved > a.bytes_moved else (first, second)
    s, f = slow.loads, fast.loads
    ratio = s.bytes_moved / f.bytes_moved
    common = (f"The {slow.kernel} kernel's warps touch {s.sectors_per_request:.1f} sectors (32 bytes each) per "
              f"load where the {fast.kernel} kernel's touch {f.sectors_per_request:.1f}, so it moves "
              f"{ratio:.1f}× the bytes from global memory ({format_bytes(s.bytes_moved)} vs "
              f"{format_bytes(f.bytes_moved)}) for the same arithmetic")
    if ratio < 1.5:
        return common + ": too small a difference to make one clearly slower on a real GPU."
    # Measured, not assumed: an H200 ran the 4096³ pair 2.8× apart with 32×32 blocks and
    # 1.4× with 16×16 (scripts/gpu_check.py): caches absorb part of the extra traffic.
    return (common + "; a kernel that moves more bytes per FLOP waits on memory, not on arithmetic, so on a "
            "real GPU, given a product large enough to fill it, it runs slower, by as much of that factor "
            "as the caches fail to absorb.")


def compare_kernels(first: str, second: str, problem: MatmulProblem, block) -> Comparison:
    """:class:`Comparison` of two built-in kernels on the same product and block."""
    a, b = memory_totals(first, problem, block), memory_totals(second, problem, block)
    return Comparison(a, b, explain_contrast(a, b))


__all__ = ["MODEL_NOTE", "ArrayTraffic", "Comparison", "MemoryTotals", "compare_kernels", "explain_contrast",
           "memory_totals"]
