"""Tiled matmul: each block stages TILE×TILE tiles of A and B in shared memory.

Every thread of a block loads one element of each tile (a zero where the tile
hangs over the edge of A or B) and reaches every barrier, inside C or not: a
thread that returned early would leave its tile element unwritten, and the
barrier would wait for it forever on a GPU.
"""

from numba import cuda, float32


def make_kernel(block):
    TILE = block[0]

    @cuda.jit
    def matmul_tiled(A, B, C):
        sA = cuda.shared.array(shape=(TILE, TILE), dtype=float32)
        sB = cuda.shared.array(shape=(TILE, TILE), dtype=float32)
        tx = cuda.threadIdx.x
        ty = cuda.threadIdx.y
        row = cuda.blockIdx.y * TILE + ty
        col = cuda.blockIdx.x * TILE + tx
        acc = float32(0.0)
        for t in range((A.shape[1] + TILE - 1) // TILE):
            a_col = t * TILE + tx
            b_row = t * TILE + ty
            if row < A.shape[0] and a_col < A.shape[1]:
                sA[ty, tx] = A[row, a_col]
            else:
                sA[ty, tx] = float32(0.0)
            if b_row < B.shape[0] and col < B.shape[1]:
                sB[ty, tx] = B[b_row, col]
            else:
                sB[ty, tx] = float32(0.0)
            cuda.syncthreads()
            for i in range(TILE):
                acc += sA[ty, i] * sB[i, tx]
            cuda.syncthreads()
        if row < C.shape[0] and col < C.shape[1]:
            C[row, col] = acc

    return matmul_tiled
