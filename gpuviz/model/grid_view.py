"""What the C-grid view draws per pixel: blocks, warps, lanes, idle threads and the active ones.

The matmul panel draws C as the launched grid of threads, in C's orientation
(rows are C's rows, columns C's columns), overhang included: the threads of
edge blocks that lie beyond C and compute nothing. Everything it colours per
pixel comes from here, computed with NumPy for the pixels on screen only, so
a 4096×4096 product costs what a 64×64 one does.

Orientation: the naive and tiled kernels give C[row, col] to the thread with
``gx = col`` and ``gy = row``; the uncoalesced kernel lets ``threadIdx.x`` walk
C's rows (``gx = row``, ``gy = col``), so its launched grid seen in C's
orientation is the thread grid of :data:`~gpuviz.model.frames.THREADS`
transposed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .frames import Viewport
from .launch import WARP_SIZE, lane_of, linear_thread_id, warp_of
from .matmul import KernelMapping

#: Colours :func:`block_colour_index` cycles through.
N_BLOCK_COLOURS = 7


def block_colour_index(bx, by, n_colours: int = N_BLOCK_COLOURS):
    """Colour index of block (bx, by) such that no two neighbours (sides or corners) share a colour.

    ``(bx + 3·by) mod 7`` differs between any two blocks whose x and y differ
    by at most one, since 1, 2, 3 and 4 are not multiples of 7.
    """
    assert n_colours == N_BLOCK_COLOURS, "the neighbour rule relies on 7 colours"
    return (np.asarray(bx) + 3 * np.asarray(by)) % n_colours


@dataclass(frozen=True)
class AxisSampling:
    """How one screen axis samples a range of cells.

    ``pixels`` screen pixels show the cells ``start <= c < stop``. Pixel ``p``
    shows the cell at its centre, ``cell[p]``, and belongs to bin ``bin[p]`` of
    a :class:`~gpuviz.model.frames.Viewport` with ``bins`` pixels along this
    axis: one bin per cell when cells are at least a pixel wide (zoomed in),
    one per pixel otherwise, so a frame is never computed at more than the
    screen's resolution.
    """

    start: int
    stop: int
    pixels: int
    cell: np.ndarray
    bin: np.ndarray
    bins: int

    @classmethod
    def of(cls, start: int, stop: int, pixels: int) -> AxisSampling:
        start, stop, pixels = int(start), int(stop), int(pixels)
        if not 0 <= start < stop:
            raise ValueError(f"cells {start}..{stop} are not a range")
        if pixels < 1:
            raise ValueError(f"{pixels} pixels: need at least 1")
        extent = stop - start
        p = np.arange(pixels, dtype=np.int64)
        offset = ((2 * p + 1) * extent) // (2 * pixels)  # the cell under each pixel's centre
        if extent <= pixels:
            bins, bin_ = extent, offset
        else:
            bins, bin_ = pixels, p
        return cls(start, stop, pixels, start + offset, bin_, bins)

    @property
    def extent(self) -> int:
        return self.stop - self.start

    def bin_cells(self) -> np.ndarray:
        """Cells in each bin (as :class:`~gpuviz.model.frames.Viewport` divides them)."""
        edges = np.append(np.arange(self.bins, dtype=np.int64) * self.extent // self.bins, self.extent)
        return np.diff(edges)


@dataclass(frozen=True)
class GridGeometry:
    """A kernel's launched thread grid seen in C's orientation.

    Parameters
    ----------
    mapping : KernelMapping
        The kernel, the product and its launch.
    """

    mapping: KernelMapping

    @property
    def rows_from_x(self) -> bool:
        return self.mapping.rows_from_x

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols) of the launched grid in C's orientation: C plus the overhang of edge blocks."""
        g, b = self.mapping.launch.grid, self.mapping.launch.block
        tx, ty = g.x * b.x, g.y * b.y
        return (tx, ty) if self.rows_from_x else (ty, tx)

    @property
    def c_shape(self) -> tuple[int, int]:
        return (self.mapping.problem.m, self.mapping.problem.n)

    @property
    def block_cells(self) -> tuple[int, int]:
        """(rows, cols) of one block in C's orientation."""
        b = self.mapping.launch.block
        return (b.x, b.y) if self.rows_from_x else (b.y, b.x)

    def global_of_cell(self, row, col):
        """Global thread indices (gx, gy) of the thread drawn at C-orientation cell (row, col)."""
        return (row, col) if self.rows_from_x else (col, row)

    def cell_of_global(self, gx, gy):
        """C-orientation cell (row, col) of the thread with global indices (gx, gy)."""
        return (gx, gy) if self.rows_from_x else (gy, gx)

    def threads_viewport(self, rows: AxisSampling, cols: AxisSampling) -> Viewport:
        """The :data:`~gpuviz.model.frames.THREADS` viewport (rows gy, cols gx) that covers these cells."""
        if self.rows_from_x:
            rows, cols = cols, rows
        return Viewport(rows.start, rows.stop, cols.start, cols.stop, rows.bins, cols.bins)

    def to_c_orientation(self, thread_image: np.ndarray) -> np.ndarray:
        """A per-bin image of the thread grid (as a frame's ``active``) in C's orientation."""
        return thread_image.T if self.rows_from_x else thread_image

    def warp_boundaries(self) -> np.ndarray:
        """Warp boundaries inside one block, in C-orientation cell units relative to the block's corner.

        Returns an array (n, 2, 2) of segments ``((x0, y0), (x1, y1))`` with
        x along C's columns and y along C's rows; collinear neighbouring edges
        are merged, so an 8×8 block of two warps has one segment.
        """
        b = self.mapping.launch.block
        ty, tx = np.indices((b.y, b.x))
        warp = (tx + b.x * ty) // WARP_SIZE
        # in C's orientation: rows follow ty (or tx when threadIdx.x walks rows)
        warp_c = warp.T if self.rows_from_x else warp
        return _edges_between(warp_c)

    def block_boundaries(self, rows: AxisSampling, cols: AxisSampling) -> np.ndarray:
        """Block boundary lines across the visible cells, as segments (n, 2, 2) in cell units."""
        bh, bw = self.block_cells
        r = np.arange(-(-rows.start // bh) * bh, rows.stop + 1, bh)
        c = np.arange(-(-cols.start // bw) * bw, cols.stop + 1, bw)
        h = np.stack([np.stack([np.full(len(r), cols.start), r], 1), np.stack([np.full(len(r), cols.stop), r], 1)], 1)
        v = np.stack([np.stack([c, np.full(len(c), rows.start)], 1), np.stack([c, np.full(len(c), rows.stop)], 1)], 1)
        return np.concatenate([h, v]).astype(float)

    def warp_lines(self, rows: AxisSampling, cols: AxisSampling, max_segments: int = 20000) -> np.ndarray:
        """Warp boundaries of every block that the visible cells touch (empty if more than ``max_segments``)."""
        bh, bw = self.block_cells
        template = self.warp_boundaries()
        b_rows = np.arange(rows.start // bh, -(-rows.stop // bh))
        b_cols = np.arange(cols.start // bw, -(-cols.stop // bw))
        if len(template) == 0 or len(template) * len(b_rows) * len(b_cols) > max_segments:
            return np.zeros((0, 2, 2))
        oy, ox = np.meshgrid(b_rows * bh, b_cols * bw, indexing="ij")
        offsets = np.stack([ox.ravel(), oy.ravel()], 1)[:, None, None, :]
        segs = (template[None] + offsets).reshape(-1, 2, 2)
        # clip to the visible region so the lines end at the image's edges
        segs[..., 0] = np.clip(segs[..., 0], cols.start, cols.stop)
        segs[..., 1] = np.clip(segs[..., 1], rows.start, rows.stop)
        return segs.astype(float)


def _edges_between(labels: np.ndarray) -> np.ndarray:
    """Segments between neighbouring cells of ``labels`` with different values, merged along lines."""
    segs = []
    # horizontal edges: between row r-1 and row r
    diff = labels[1:, :] != labels[:-1, :]
    for r, line in enumerate(diff, start=1):
        for c0, c1 in _runs(line):
            segs.append(((c0, r), (c1, r)))
    diff = labels[:, 1:] != labels[:, :-1]
    for c, line in enumerate(diff.T, start=1):
        for r0, r1 in _runs(line):
            segs.append(((c, r0), (c, r1)))
    return np.array(segs, float).reshape(-1, 2, 2)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``(start, stop)`` of each run of True in a 1-D mask."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    d = np.diff(padded)
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist()))


def outline_segments(rows, cols) -> np.ndarray:
    """The outline of a set of cells (C-orientation rows and cols) as segments (n, 2, 2), x = col, y = row.

    Edges shared by two cells of the set are left out, so a warp or a block
    gets one outline around it, whatever its shape.
    """
    rows, cols = np.asarray(rows, np.int64).ravel(), np.asarray(cols, np.int64).ravel()
    if len(rows) == 0:
        return np.zeros((0, 2, 2))
    r0, c0 = rows.min(), cols.min()
    h, w = rows.max() - r0 + 1, cols.max() - c0 + 1
    inside = np.zeros((h + 2, w + 2), np.int8)
    inside[rows - r0 + 1, cols - c0 + 1] = 1
    segs = _edges_between(inside)
    return segs + np.array([c0 - 1, r0 - 1], float)


@dataclass(frozen=True)
class GridLayers:
    """Per screen pixel, what the C-grid view draws for the launch (step-independent).

    Attributes
    ----------
    rows, cols : AxisSampling
        How the pixels sample C-orientation cells.
    colour : ndarray of uint8 (h, w)
        Block colour index (:func:`block_colour_index`).
    warp : ndarray of int16 (h, w)
        Warp index of the thread within its block.
    lane : ndarray of int8 (h, w)
        Lane of the thread within its warp.
    idle : ndarray of bool (h, w)
        The thread lies beyond C (it is launched but computes nothing).
    """

    rows: AxisSampling
    cols: AxisSampling
    colour: np.ndarray
    warp: np.ndarray
    lane: np.ndarray
    idle: np.ndarray


def grid_layers(geometry: GridGeometry, rows: AxisSampling, cols: AxisSampling) -> GridLayers:
    """Block colour, warp, lane and idle flag of the thread under each pixel.

    Each is an outer combination of a per-row and a per-column quantity, so
    the cost is a few operations per pixel on screen.
    """
    shape = geometry.shape
    if rows.stop > shape[0] or cols.stop > shape[1]:
        raise ValueError(f"cells up to ({rows.stop}, {cols.stop}) lie outside the launched grid {shape}")
    b = geometry.mapping.launch.block
    m, n = geometry.c_shape
    r, c = rows.cell, cols.cell
    # x and y each come from one axis (columns and rows, or the reverse for the uncoalesced kernel):
    # reduce each axis to small integers first, then combine them with one broadcast per layer
    x_axis, y_axis = (r, c) if geometry.rows_from_x else (c, r)
    bx, tx = np.divmod(x_axis, b.x)
    by, ty = np.divmod(y_axis, b.y)
    cx = (bx % N_BLOCK_COLOURS).astype(np.uint8)  # block_colour_index, split by axis
    cy = ((3 * by) % N_BLOCK_COLOURS).astype(np.uint8)
    lx = tx.astype(np.int32)
    ly = (b.x * ty).astype(np.int32)
    if geometry.rows_from_x:
        cx, lx = cx[:, None], lx[:, None]
        cy, ly = cy[None, :], ly[None, :]
    else:
        cx, lx = cx[None, :], lx[None, :]
        cy, ly = cy[:, None], ly[:, None]
    colour = cx + cy
    colour[colour >= N_BLOCK_COLOURS] -= N_BLOCK_COLOURS
    lin = lx + ly
    warp = (lin >> 5).astype(np.int16) if WARP_SIZE == 32 else (lin // WARP_SIZE).astype(np.int16)
    lane = (lin & (WARP_SIZE - 1)).astype(np.int8)
    idle = (r >= m)[:, None] | (c >= n)[None, :]
    return GridLayers(rows, cols, colour, warp, lane, idle)


def active_fraction(geometry: GridGeometry, rows: AxisSampling, cols: AxisSampling,
                    active: np.ndarray) -> np.ndarray:
    """Per screen pixel, the fraction (0–1) of the threads its bin covers that are active in the step.

    ``active`` is a frame's ``active`` image for :meth:`GridGeometry.threads_viewport`
    (thread-grid orientation); the result is in C's orientation at the screen's resolution.
    """
    counts = geometry.to_c_orientation(active)
    if counts.shape != (rows.bins, cols.bins):
        raise ValueError(f"active image {counts.shape} does not match the bins {(rows.bins, cols.bins)}")
    cells = np.multiply.outer(rows.bin_cells(), cols.bin_cells())
    frac = counts / cells
    return frac[np.ix_(rows.bin, cols.bin)]


# -- numbering: the one place that says how blocks, threads, warps and lanes are numbered and named ------
#
# The lecture numbers blocks in CUDA's linear order (``blockIdx.x + gridDim.x · blockIdx.y``: "Block 13" is
# blockIdx (1, 3) of a 4×4 grid) and the threads of a block by their linear id (``threadIdx.x + blockDim.x ·
# threadIdx.y``: 0–63 for 8×8), which warps cut into runs of 32. Every view labels with these functions, so
# the tree, the details, the tooltips, the C grid, the block view and the exports cannot disagree.


def block_number(bx, by, grid_x: int):
    """Linear block number of blockIdx (bx, by) in a grid ``grid_x`` blocks wide (arrays broadcast)."""
    return np.asarray(bx) + int(grid_x) * np.asarray(by)


def block_of_number(number: int, grid_x: int) -> tuple[int, int]:
    """blockIdx (x, y) of linear block ``number``."""
    by, bx = divmod(int(number), int(grid_x))
    return bx, by


@dataclass(frozen=True)
class ThreadNumbers:
    """The numbers of threads, elementwise over arrays of the same shape.

    Attributes
    ----------
    block : ndarray
        Linear block number (``13``).
    bx, by : ndarray
        blockIdx.
    tx, ty : ndarray
        threadIdx.
    thread : ndarray
        Linear thread id within the block (0–63 for 8×8): the lecture's thread number.
    warp : ndarray
        Warp within the block (``thread // 32``).
    lane : ndarray
        Lane within the warp (``thread % 32``): restarts at 0 in each warp, so only a second label.
    """

    block: np.ndarray
    bx: np.ndarray
    by: np.ndarray
    tx: np.ndarray
    ty: np.ndarray
    thread: np.ndarray
    warp: np.ndarray
    lane: np.ndarray


def thread_numbers(geometry: GridGeometry, row, col) -> ThreadNumbers:
    """The numbers of the thread drawn at C-orientation cells (row, col) of the launched grid."""
    launch = geometry.mapping.launch
    b, g = launch.block, launch.grid
    gx, gy = geometry.global_of_cell(np.asarray(row), np.asarray(col))
    bx, tx = np.divmod(gx, b.x)
    by, ty = np.divmod(gy, b.y)
    lin = linear_thread_id(tx, ty, 0, b)
    return ThreadNumbers(block_number(bx, by, g.x), bx, by, tx, ty, lin, warp_of(lin), lane_of(lin))


def block_label(bx: int, by: int, grid_x: int, long: bool = False) -> str:
    """``"13"`` (short) or ``"Block 13 · blockIdx (1, 3)"`` (long), as the lecture names block (1, 3)."""
    n = int(block_number(bx, by, grid_x))
    return f"Block {n} · blockIdx ({int(bx)}, {int(by)})" if long else f"{n}"


def block_index_label(bx: int, by: int) -> str:
    """``"blockIdx (1, 3)"``: the second line under a block's number where there is room."""
    return f"blockIdx ({int(bx)}, {int(by)})"


def warp_threads_range(warp: int, block_threads: int) -> tuple[int, int]:
    """First and last linear thread id of warp ``warp`` in a block of ``block_threads`` threads."""
    first = WARP_SIZE * int(warp)
    if not 0 <= first < block_threads:
        raise ValueError(f"warp {warp} is outside a block of {block_threads} threads")
    return first, min(first + WARP_SIZE, block_threads) - 1


def warp_label(warp: int, block_threads: int) -> str:
    """``"Warp 1: threads 32–63"`` (a block's last warp may be partial: ``"Warp 2: threads 64–79"``)."""
    first, last = warp_threads_range(warp, block_threads)
    return f"Warp {int(warp)}: thread {first}" if first == last else f"Warp {int(warp)}: threads {first}–{last}"


def thread_label(thread: int, lane: int | None = None) -> str:
    """``"Thread 37"``, or with its lane ``"Thread 37 · lane 5"``."""
    return f"Thread {int(thread)}" if lane is None else f"Thread {int(thread)} · lane {int(lane)}"


def block_thread_grid(block_x: int, block_y: int) -> np.ndarray:
    """The linear thread ids of a block laid out as the lecture draws it: ``block_y`` rows of ``block_x``
    (row ``ty``, column ``tx``), so an 8×8 block reads 0–7 on the first row and 56–63 on the last."""
    ty, tx = np.indices((int(block_y), int(block_x)))
    return tx + int(block_x) * ty


def visible_blocks(geometry: GridGeometry, rows: AxisSampling, cols: AxisSampling,
                   most: int = 4096) -> dict[str, np.ndarray] | None:
    """The blocks the visible cells touch: blockIdx ``bx``, ``by``, linear ``number``, and each block's
    C-orientation cell rectangle ``row0``, ``col0``, ``rows``, ``cols`` (None when more than ``most``)."""
    bh, bw = geometry.block_cells
    r = np.arange(rows.start // bh, -(-rows.stop // bh))
    c = np.arange(cols.start // bw, -(-cols.stop // bw))
    if len(r) * len(c) > most:
        return None
    br, bc = (a.ravel() for a in np.meshgrid(r, c, indexing="ij"))
    bx, by = (br, bc) if geometry.rows_from_x else (bc, br)
    grid_x = geometry.mapping.launch.grid.x
    return {"bx": bx, "by": by, "number": block_number(bx, by, grid_x), "row0": br * bh, "col0": bc * bw,
            "rows": np.full(len(br), bh), "cols": np.full(len(br), bw)}


def bin_to_pixels(rows: AxisSampling, cols: AxisSampling, image: np.ndarray) -> np.ndarray:
    """A per-bin image (``rows.bins``×``cols.bins``) spread over the screen pixels."""
    return image[np.ix_(rows.bin, cols.bin)]


def per_cell(rows: AxisSampling, cols: AxisSampling, image: np.ndarray) -> np.ndarray:
    """A per-bin count image divided by the cells each bin covers: a mean per cell."""
    return image / np.multiply.outer(rows.bin_cells(), cols.bin_cells())


__all__ = ["N_BLOCK_COLOURS", "AxisSampling", "GridGeometry", "GridLayers", "ThreadNumbers", "active_fraction",
           "bin_to_pixels", "block_colour_index", "block_index_label", "block_label", "block_number",
           "block_of_number", "block_thread_grid", "grid_layers", "outline_segments", "per_cell", "thread_label",
           "thread_numbers", "visible_blocks", "warp_label", "warp_threads_range"]
