"""Uncoalesced matmul: the naive kernel's work with threadIdx.x walking C's rows.

Consecutive lanes now read elements of A and B a whole row apart, so a warp's
32 loads from B land in 32 different memory transactions instead of one.
"""

from numba import cuda, float32


def make_kernel(block):
    @cuda.jit
    def matmul_uncoalesced(A, B, C):
        row = cuda.blockIdx.x * cuda.blockDim.x + cuda.threadIdx.x
        col = cuda.blockIdx.y * cuda.blockDim.y + cuda.threadIdx.y
        if row < C.shape[0] and col < C.shape[1]:
            acc = float32(0.0)
            for k in range(A.shape[1]):
                acc += A[row, k] * B[k, col]
            C[row, col] = acc

    return matmul_uncoalesced
