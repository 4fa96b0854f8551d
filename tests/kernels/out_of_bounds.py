"""A broken matmul kernel for the tests: it forgets the bounds check."""

from numba import cuda, float32


def make_kernel(block):
    @cuda.jit
    def matmul_oob(A, B, C):
        col = cuda.blockIdx.x * cuda.blockDim.x + cuda.threadIdx.x
        row = cuda.blockIdx.y * cuda.blockDim.y + cuda.threadIdx.y
        acc = float32(0.0)
        for k in range(A.shape[1]):
            acc += A[row, k] * B[k, col]
        C[row, col] = acc

    return matmul_oob
