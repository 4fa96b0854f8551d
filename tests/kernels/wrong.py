"""A matmul kernel with an off-by-one in its loop: it runs, but C is wrong."""

from numba import cuda, float32


def make_kernel(block):
    @cuda.jit
    def matmul_wrong(A, B, C):
        col = cuda.blockIdx.x * cuda.blockDim.x + cuda.threadIdx.x
        row = cuda.blockIdx.y * cuda.blockDim.y + cuda.threadIdx.y
        if row < C.shape[0] and col < C.shape[1]:
            acc = float32(0.0)
            for k in range(A.shape[1] - 1):
                acc += A[row, k] * B[k, col]
            C[row, col] = acc

    return matmul_wrong
