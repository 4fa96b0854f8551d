"""Per-block sums that read shared memory the last block never wrote (n is not a multiple of TPB)."""

from numba import cuda, float32

TPB = 8


@cuda.jit
def block_sum(a, out, n):
    s = cuda.shared.array(TPB, float32)
    t = cuda.threadIdx.x
    i = cuda.blockIdx.x * TPB + t
    if i < n:
        s[t] = a[i]
    cuda.syncthreads()
    if t == 0:
        total = float32(0.0)
        for k in range(TPB):
            total += s[k]
        out[cuda.blockIdx.x] = total
