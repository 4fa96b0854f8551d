"""Matrix transpose through a shared-memory tile, in two variants that differ only by one column.

A block of ``TILE × ROWS`` threads copies a ``TILE × TILE`` tile of ``src``
into shared memory row by row (lanes walk a row: coalesced global reads,
consecutive banks), waits, then writes the tile transposed to ``dst``, each
lane reading a *column* of the tile. With a ``TILE × TILE`` tile of 4-byte
floats and ``TILE = 32``, a column's 32 words sit 32 words apart, all in one
bank: a 32-way conflict. Padding each row by one word (``TILE × (TILE + 1)``)
shifts every row by one bank, and the column's words land in 32 different banks.
"""

from numba import cuda, float32

#: Threads per block along y: each thread copies ``TILE // ROWS`` elements.
ROWS = 8


def make_kernel(block, padded=False):
    """The transpose kernel for a ``(TILE, ROWS)`` block; ``padded`` adds the extra column."""
    TILE = block[0]
    STEP = block[1]
    WIDTH = TILE + 1 if padded else TILE

    @cuda.jit
    def transpose(src, dst):
        tile = cuda.shared.array(shape=(TILE, WIDTH), dtype=float32)
        tx = cuda.threadIdx.x
        ty = cuda.threadIdx.y
        col = cuda.blockIdx.x * TILE + tx
        row = cuda.blockIdx.y * TILE + ty
        for j in range(0, TILE, STEP):
            if row + j < src.shape[0] and col < src.shape[1]:
                tile[ty + j, tx] = src[row + j, col]
        cuda.syncthreads()
        col = cuda.blockIdx.y * TILE + tx
        row = cuda.blockIdx.x * TILE + ty
        for j in range(0, TILE, STEP):
            if row + j < dst.shape[0] and col < dst.shape[1]:
                dst[row + j, col] = tile[tx, ty + j]

    return transpose
