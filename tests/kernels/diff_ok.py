"""Differences of neighbours, starting at i = 1: clean."""

from numba import cuda


@cuda.jit
def diff(a, out, n):
    i = cuda.grid(1)
    if 0 < i < n:
        out[i] = a[i] - a[i - 1]
