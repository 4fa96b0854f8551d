"""A barrier only half of each block reaches."""

from numba import cuda, float32


@cuda.jit
def halves(a, out):
    s = cuda.shared.array(16, float32)
    t = cuda.threadIdx.x
    s[t] = a[cuda.grid(1)]
    if t < 8:
        cuda.syncthreads()
    out[cuda.grid(1)] = s[t]
