"""The dot product as CUDA kernels: the Speed panel's ``gpu-naive`` and ``gpu-tiled`` for ``op="dot"``.

Imported only in the engine's worker (it imports numba). ``cuda`` stays a
module-level name: the simulator swaps a kernel's global ``cuda`` for its fake one.
"""

from functools import cache

from numba import cuda, float64

#: Threads per block of the dot kernels on a GPU.
THREADS = 256


@cache
def make_kernels(threads: int = THREADS):
    """``(zero, naive, tiled)``: reset the sum; one atomic add per element; a shared-memory block reduction.

    ``threads`` must be the block size the kernels are launched with and a power of two
    (the tiled kernel's shared array has that many slots and halves them).
    """

    @cuda.jit
    def zero(out):
        if cuda.blockIdx.x == 0 and cuda.threadIdx.x == 0:
            out[0] = 0.0

    @cuda.jit
    def dot_naive(a, b, out):
        # every thread adds its product straight into one number: correct, but the atomics serialise
        i = cuda.blockIdx.x * cuda.blockDim.x + cuda.threadIdx.x
        if i < a.shape[0]:
            cuda.atomic.add(out, 0, a[i] * b[i])

    @cuda.jit
    def dot_tiled(a, b, out):
        # each thread sums a grid-stride slice, the block adds its threads' sums in shared
        # memory (a tree of halvings), and one atomic per block adds the block's sum
        cache_ = cuda.shared.array(threads, dtype=float64)
        tid = cuda.threadIdx.x
        s = 0.0
        i = cuda.blockIdx.x * cuda.blockDim.x + tid
        stride = cuda.gridDim.x * cuda.blockDim.x
        while i < a.shape[0]:
            s += a[i] * b[i]
            i += stride
        cache_[tid] = s
        cuda.syncthreads()
        half = threads // 2
        while half > 0:
            if tid < half:
                cache_[tid] += cache_[tid + half]
            cuda.syncthreads()
            half //= 2
        if tid == 0:
            cuda.atomic.add(out, 0, cache_[0])

    return zero, dot_naive, dot_tiled
