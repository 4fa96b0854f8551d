"""CUDA launch configurations and the thread hierarchy, exactly as CUDA defines them.

Nothing here runs a kernel: it is the arithmetic a GPU applies to a launch
``kernel[grid, block]``, so the UI and the traces can say which thread is which.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

WARP_SIZE = 32

# The limits every CUDA GPU since compute capability 3.0 enforces (CUDA C
# Programming Guide, "Technical Specifications per Compute Capability").
MAX_THREADS_PER_BLOCK = 1024
MAX_BLOCK_DIM = (1024, 1024, 64)
MAX_GRID_DIM = (2**31 - 1, 65535, 65535)


class LaunchError(ValueError):
    """A launch configuration that a real GPU would refuse."""


@dataclass(frozen=True)
class Dim3:
    """A CUDA ``dim3``: three positive extents, ``y`` and ``z`` default to 1.

    Parameters
    ----------
    x, y, z : int
        Extents along each axis. Validation against CUDA's limits is done by
        :class:`LaunchConfig`, since the limits differ for grids and blocks.
    """

    x: int
    y: int = 1
    z: int = 1

    def __iter__(self):
        yield self.x
        yield self.y
        yield self.z

    @property
    def size(self) -> int:
        """Number of elements ``x * y * z``."""
        return self.x * self.y * self.z

    def as_tuple(self) -> tuple[int, int, int]:
        return (self.x, self.y, self.z)

    @classmethod
    def of(cls, value) -> Dim3:
        """Build from a Dim3, an int, or a sequence of one to three ints."""
        if isinstance(value, Dim3):
            return value
        if isinstance(value, (int, np.integer)):
            return cls(int(value))
        items = [int(v) for v in value]
        if not 1 <= len(items) <= 3:
            raise LaunchError(f"a dim3 has 1 to 3 extents, got {len(items)}")
        return cls(*items)

    @classmethod
    def parse(cls, text: str) -> Dim3:
        """Parse ``"8x8"``, ``"32"``, ``"4x4x2"`` or ``"(8, 8)"``."""
        cleaned = text.strip().strip("()[] ").replace("×", "x").replace(",", "x")
        parts = [p.strip() for p in cleaned.lower().split("x")]
        # isascii: str.isdigit also takes digits int() refuses, such as the superscript in "8²"; a 5,000-digit
        # part is no block size either (and must not reach int(), which refuses more than 4,300 digits)
        if (not parts or len(parts) > 3
                or any(not (p.isascii() and p.lstrip("-").isdigit() and len(p) <= 18) for p in parts)):
            shown = text if len(text) <= 40 else f"{text[:20]}… ({len(text):,} characters)"
            raise LaunchError(f"cannot read {shown!r} as a dim3 (expected e.g. 8x8 or 32x4x2)")
        return cls(*(int(p) for p in parts))

    def __str__(self) -> str:
        if self.z == 1:
            return f"{self.x}x{self.y}" if self.y != 1 else f"{self.x}"
        return f"{self.x}x{self.y}x{self.z}"


@dataclass(frozen=True)
class LaunchConfig:
    """A kernel launch ``kernel[grid, block]`` that satisfies CUDA's limits.

    Parameters
    ----------
    grid : Dim3
        Number of thread blocks along x, y, z.
    block : Dim3
        Number of threads per block along x, y, z.

    Raises
    ------
    LaunchError
        When a real GPU would refuse the launch; the message names the limit
        and by how much it is exceeded.
    """

    grid: Dim3
    block: Dim3

    def __post_init__(self):
        object.__setattr__(self, "grid", Dim3.of(self.grid))
        object.__setattr__(self, "block", Dim3.of(self.block))
        check_launch(self.grid, self.block)

    @property
    def threads_per_block(self) -> int:
        return self.block.size

    @property
    def warps_per_block(self) -> int:
        """Warps per block: ``ceil(threads per block / 32)``; the last may be partial."""
        return -(-self.block.size // WARP_SIZE)

    @property
    def blocks(self) -> int:
        return self.grid.size

    @property
    def threads(self) -> int:
        """Threads launched in the whole grid."""
        return self.grid.size * self.block.size

    @property
    def warps(self) -> int:
        """Warps launched in the whole grid."""
        return self.grid.size * self.warps_per_block

    def __str__(self) -> str:
        return f"grid {self.grid} × block {self.block}"


def check_launch(grid: Dim3, block: Dim3) -> None:
    """Raise :class:`LaunchError` for a launch a real GPU would refuse."""
    for name, value in (("gridDim", grid), ("blockDim", block)):
        for axis, extent in zip("xyz", value):
            if extent <= 0:
                raise LaunchError(f"{name}.{axis} = {extent}: every extent must be at least 1")
    for axis, extent, limit in zip("xyz", block, MAX_BLOCK_DIM):
        if extent > limit:
            raise LaunchError(
                f"blockDim.{axis} = {extent} exceeds CUDA's limit of {limit} by {extent - limit}"
            )
    if block.size > MAX_THREADS_PER_BLOCK:
        raise LaunchError(
            f"a block of {block} has {block.size} threads, over CUDA's limit of "
            f"{MAX_THREADS_PER_BLOCK} threads per block by {block.size - MAX_THREADS_PER_BLOCK}"
        )
    for axis, extent, limit in zip("xyz", grid, MAX_GRID_DIM):
        if extent > limit:
            raise LaunchError(
                f"gridDim.{axis} = {extent} exceeds CUDA's limit of {limit} by {extent - limit}"
            )


def blocks_to_cover(extent: int, block_extent: int) -> int:
    """Blocks needed so that ``blocks * block_extent >= extent``."""
    return max(1, math.ceil(extent / block_extent))


def linear_thread_id(tx, ty, tz, block: Dim3):
    """CUDA's linear thread id within a block: ``x + bdx * (y + bdy * z)``."""
    return tx + block.x * (ty + block.y * tz)


def warp_of(linear_id):
    """Warp index within the block of a linear thread id."""
    return linear_id // WARP_SIZE


def lane_of(linear_id):
    """Lane (0–31) within the warp of a linear thread id."""
    return linear_id % WARP_SIZE


@dataclass(frozen=True)
class ThreadIndex:
    """Everything CUDA says about one thread of a launch.

    Parameters
    ----------
    block : tuple of int
        ``blockIdx`` (x, y, z).
    thread : tuple of int
        ``threadIdx`` (x, y, z).
    launch : LaunchConfig
        The launch the thread belongs to.
    """

    block: tuple[int, int, int]
    thread: tuple[int, int, int]
    launch: LaunchConfig

    def __post_init__(self):
        for name, idx, dim in (("blockIdx", self.block, self.launch.grid),
                               ("threadIdx", self.thread, self.launch.block)):
            for axis, i, d in zip("xyz", idx, dim):
                if not 0 <= i < d:
                    raise LaunchError(f"{name}.{axis} = {i} is outside 0..{d - 1}")

    @property
    def linear_id(self) -> int:
        return int(linear_thread_id(*self.thread, self.launch.block))

    @property
    def warp(self) -> int:
        return warp_of(self.linear_id)

    @property
    def lane(self) -> int:
        return lane_of(self.linear_id)

    @property
    def block_linear(self) -> int:
        g = self.launch.grid
        bx, by, bz = self.block
        return bx + g.x * (by + g.y * bz)

    @property
    def global_index(self) -> tuple[int, int, int]:
        """``blockIdx * blockDim + threadIdx`` per axis (what ``cuda.grid(3)`` returns)."""
        b = self.launch.block
        return tuple(bi * bd + ti for bi, bd, ti in zip(self.block, b, self.thread))


def thread_table(launch: LaunchConfig) -> dict[str, np.ndarray]:
    """Every launched thread's indices as flat arrays, in launch order.

    Order: blocks in CUDA's linear block order (x fastest), and within a block
    threads in linear thread id order. Arrays: ``block`` (n, 3), ``thread``
    (n, 3), ``linear_id``, ``warp``, ``lane``, ``global`` (n, 3).
    """
    g, b = launch.grid, launch.block
    nb, nt = g.size, b.size
    blin = np.arange(nb, dtype=np.int64)
    tlin = np.arange(nt, dtype=np.int64)
    block = np.stack([blin % g.x, (blin // g.x) % g.y, blin // (g.x * g.y)], axis=1)
    thread = np.stack([tlin % b.x, (tlin // b.x) % b.y, tlin // (b.x * b.y)], axis=1)
    block_rep = np.repeat(block, nt, axis=0)
    thread_rep = np.tile(thread, (nb, 1))
    lin = np.tile(tlin, nb)
    return {
        "block": block_rep,
        "thread": thread_rep,
        "linear_id": lin,
        "warp": lin // WARP_SIZE,
        "lane": lin % WARP_SIZE,
        "global": block_rep * np.array(b.as_tuple()) + thread_rep,
    }
