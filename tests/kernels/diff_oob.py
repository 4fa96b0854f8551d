"""Differences of neighbours: at i = 0 it reads a[-1] (the simulator wraps it; a GPU reads before a)."""

from numba import cuda


@cuda.jit
def diff(a, out, n):
    i = cuda.grid(1)
    if i < n:
        out[i] = a[i] - a[i - 1]
