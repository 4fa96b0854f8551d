"""A shared-memory transpose that forgot its cuda.syncthreads(): a race, and a wrong result."""

from numba import cuda, float32

TILE = 4


@cuda.jit
def transpose(a, out):
    tile = cuda.shared.array((TILE, TILE), float32)
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    tile[ty, tx] = a[cuda.blockIdx.y * TILE + ty, cuda.blockIdx.x * TILE + tx]
    out[cuda.blockIdx.x * TILE + ty, cuda.blockIdx.y * TILE + tx] = tile[tx, ty]
