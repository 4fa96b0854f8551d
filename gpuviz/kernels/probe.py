"""A kernel that writes out what CUDA tells each thread about itself.

The engine runs it to check the launch model against the simulator (or a GPU):
each thread stores blockIdx, threadIdx and laneid at its global linear index.
"""

from numba import cuda


def make_kernel(block):
    @cuda.jit
    def probe_indices(out):
        bdx = cuda.blockDim.x
        bdy = cuda.blockDim.y
        bdz = cuda.blockDim.z
        tid = cuda.threadIdx.x + bdx * (cuda.threadIdx.y + bdy * cuda.threadIdx.z)
        bid = cuda.blockIdx.x + cuda.gridDim.x * (cuda.blockIdx.y + cuda.gridDim.y * cuda.blockIdx.z)
        g = bid * (bdx * bdy * bdz) + tid
        out[g, 0] = cuda.blockIdx.x
        out[g, 1] = cuda.blockIdx.y
        out[g, 2] = cuda.blockIdx.z
        out[g, 3] = cuda.threadIdx.x
        out[g, 4] = cuda.threadIdx.y
        out[g, 5] = cuda.threadIdx.z
        out[g, 6] = cuda.laneid

    return probe_indices
