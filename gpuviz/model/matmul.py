"""Matrix products C = A·B and how each built-in kernel maps them onto CUDA threads.

A is M×K, B is K×N, C is M×N, all float32. The kernels' source lives in
``gpuviz/kernels/`` and is read here as text only (importing it would import
numba); what the kernels compute per thread is restated here as index
arithmetic, and the tests hold the two equal (``tests/test_trace_equivalence.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

from .launch import Dim3, LaunchConfig, LaunchError, blocks_to_cover, check_launch, thread_table

KERNELS = ("naive", "uncoalesced", "tiled")
#: Where a product runs: ``auto`` (a GPU when one is found, else the simulator), ``gpu``, ``simulator``.
#: One list for the scene, the engine and the CLI's parser (which must not import the engine).
BACKENDS = ("auto", "gpu", "simulator")


class ShapeError(ValueError):
    """Matrix sizes that do not describe a product."""


@dataclass(frozen=True)
class MatmulProblem:
    """The sizes of C = A·B: A is ``m``×``k``, B is ``k``×``n``.

    Parameters
    ----------
    m, n, k : int
        Rows of C, columns of C, and the shared (reduced) dimension.
    """

    m: int
    n: int
    k: int

    def __post_init__(self):
        for name in ("m", "n", "k"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool):
                raise ShapeError(f"{name.upper()} must be a whole number, got {v!r}")
            if v < 1:
                raise ShapeError(f"{name.upper()} = {v}: every matrix size must be at least 1")

    @property
    def madds(self) -> int:
        """Multiply-adds of the product: ``m·n·k``."""
        return self.m * self.n * self.k

    @property
    def shapes(self) -> dict[str, tuple[int, int]]:
        return {"A": (self.m, self.k), "B": (self.k, self.n), "C": (self.m, self.n)}

    def input_bytes(self) -> int:
        """Bytes of A, B, C in float32 plus the float64 reference."""
        return 4 * (self.m * self.k + self.k * self.n + self.m * self.n) + 8 * self.m * self.n


def make_inputs(problem: MatmulProblem, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Seeded standard-normal float32 A (m×k) and B (k×n): the same numbers on every machine."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((problem.m, problem.k), dtype=np.float32)
    b = rng.standard_normal((problem.k, problem.n), dtype=np.float32)
    return a, b


def reference(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The float64 product every run is checked against."""
    return a.astype(np.float64) @ b.astype(np.float64)


def check_product(c: np.ndarray, ref: np.ndarray) -> tuple[float, float]:
    """Max abs error of ``c`` against ``ref`` and that error over ``max |ref|``."""
    err = float(np.max(np.abs(c.astype(np.float64) - ref))) if c.size else 0.0
    scale = float(np.max(np.abs(ref))) if ref.size else 0.0
    return err, (err / scale if scale > 0 else err)


#: A product counts as correct when its error relative to max |C| is below this:
#: float32 accumulation over K = 4096 stays near 1e-6, a wrong element is ~1.
REL_TOLERANCE = 1e-4


@cache
def kernel_source(kernel: str) -> str:
    """Source text of a built-in kernel (read as text: no numba import)."""
    if kernel not in KERNELS:
        raise KeyError(kernel)
    return resources.files("gpuviz.kernels").joinpath(f"{kernel}.py").read_text(encoding="utf-8")


def source_line(kernel: str, needle: str) -> int:
    """1-based line number of the unique line of ``kernel``'s source containing ``needle``."""
    hits = [i for i, text in enumerate(kernel_source(kernel).splitlines(), 1) if needle in text]
    if len(hits) != 1:
        raise LookupError(f"{needle!r} occurs {len(hits)} times in the {kernel} kernel, expected once")
    return hits[0]


def source_lines(kernel: str, needle: str) -> list[int]:
    """1-based line numbers, in order, of every line of ``kernel``'s source containing ``needle``.

    For text a kernel repeats on purpose, such as the tiled kernel's two
    ``cuda.syncthreads()``.
    """
    return [i for i, text in enumerate(kernel_source(kernel).splitlines(), 1) if needle in text]


@dataclass(frozen=True)
class KernelMapping:
    """How one built-in kernel assigns C's elements to threads.

    Parameters
    ----------
    kernel : str
        ``"naive"``, ``"uncoalesced"`` or ``"tiled"``.
    problem : MatmulProblem
        The product's sizes.
    launch : LaunchConfig
        The grid and block the kernel is launched with.
    """

    kernel: str
    problem: MatmulProblem
    launch: LaunchConfig

    @property
    def rows_from_x(self) -> bool:
        """True when ``threadIdx.x`` walks C's rows (the uncoalesced mapping)."""
        return self.kernel == "uncoalesced"

    def element_of_thread(self, gx, gy):
        """C's (row, col) computed by the thread with global indices (gx, gy); may lie outside C."""
        return (gx, gy) if self.rows_from_x else (gy, gx)

    def thread_of_element(self, row, col) -> dict[str, np.ndarray]:
        """For C's elements (row, col), the thread that computes each: block, thread, warp, lane."""
        row, col = np.asarray(row), np.asarray(col)
        gx, gy = (row, col) if self.rows_from_x else (col, row)
        b = self.launch.block
        tx, ty = gx % b.x, gy % b.y
        lin = tx + b.x * ty
        return {
            "block": np.stack([gx // b.x, gy // b.y, np.zeros_like(gx)], axis=-1),
            "thread": np.stack([tx, ty, np.zeros_like(tx)], axis=-1),
            "warp": lin // 32,
            "lane": lin % 32,
        }

    def owner_map(self) -> dict[str, np.ndarray]:
        """:meth:`thread_of_element` for every element of C, as (m, n[, 3]) arrays."""
        rows, cols = np.indices((self.problem.m, self.problem.n))
        return self.thread_of_element(rows, cols)

    def busy_mask(self) -> np.ndarray:
        """For every launched thread (in :func:`thread_table` order): does it compute an element of C?"""
        g = thread_table(self.launch)["global"]
        r, c = self.element_of_thread(g[:, 0], g[:, 1])
        return (r < self.problem.m) & (c < self.problem.n) & (g[:, 2] == 0)

    @property
    def busy_threads(self) -> int:
        """Threads that compute an element of C: one per element."""
        return self.problem.m * self.problem.n

    @property
    def idle_threads(self) -> int:
        """Launched threads that compute no element of C (edge blocks overhanging C)."""
        return self.launch.threads - self.busy_threads

    def idle_per_block(self) -> np.ndarray:
        """Idle threads of each block, shape (grid.y, grid.x)."""
        g, b = self.launch.grid, self.launch.block
        rows_extent, cols_extent = (self.problem.n, self.problem.m) if self.rows_from_x else (
            self.problem.m, self.problem.n)
        # along x the block covers columns of "cols_extent", along y rows of "rows_extent"
        bx = np.arange(g.x)
        by = np.arange(g.y)
        in_x = np.clip(cols_extent - bx * b.x, 0, b.x)
        in_y = np.clip(rows_extent - by * b.y, 0, b.y)
        return b.size * g.z - np.outer(in_y, in_x)


def launch_for(kernel: str, problem: MatmulProblem, block) -> LaunchConfig:
    """The launch each built-in kernel uses for ``problem`` with ``block`` threads per block.

    Raises
    ------
    LaunchError
        For an unknown kernel, a block a GPU would refuse, a 3-D block (the
        matmul kernels are 2-D), or a non-square block for ``tiled``.
    """
    if kernel not in KERNELS:
        raise LaunchError(f"unknown kernel {kernel!r}: choose one of {', '.join(KERNELS)}")
    block = Dim3.of(block)
    check_launch(Dim3(1), block)  # before dividing by the block's extents
    if block.z != 1:
        raise LaunchError(f"the matmul kernels use 2-D blocks; blockDim.z = {block.z} must be 1")
    if kernel == "tiled" and block.x != block.y:
        raise LaunchError(
            f"the tiled kernel's tile is its block, which must be square: {block.x}x{block.y} is not"
        )
    if kernel == "uncoalesced":
        grid = Dim3(blocks_to_cover(problem.m, block.x), blocks_to_cover(problem.n, block.y))
    else:
        grid = Dim3(blocks_to_cover(problem.n, block.x), blocks_to_cover(problem.m, block.y))
    return LaunchConfig(grid, block)


def mapping_for(kernel: str, problem: MatmulProblem, block) -> KernelMapping:
    return KernelMapping(kernel, problem, launch_for(kernel, problem, block))
