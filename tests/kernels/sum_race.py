"""Every thread adds its element to out[0] with +=: the right total on the simulator, a race on a GPU."""

from numba import cuda


@cuda.jit
def total(a, out):
    i = cuda.grid(1)
    if i < a.shape[0]:
        out[0] += a[i]
