"""A 3-D launch over a 3-D array, with a device function and a scalar argument; two kernels in one file."""

from numba import cuda


@cuda.jit(device=True)
def store(out, x, y, z, value):
    out[z, y, x] = value


@cuda.jit
def fill(out, scale):
    x, y, z = cuda.grid(3)
    if z < out.shape[0] and y < out.shape[1] and x < out.shape[2]:
        store(out, x, y, z, scale * (x + 10 * y + 100 * z))


@cuda.jit
def overrun(out, scale):
    x, y, z = cuda.grid(3)
    store(out, x, y, z, scale)
