"""Thread 3 divides by zero (a Python exception in the simulator)."""

from numba import cuda


@cuda.jit
def ratio(out):
    i = cuda.grid(1)
    out[i] = 12 // (i - 3)
