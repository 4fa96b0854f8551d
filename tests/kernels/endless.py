"""A loop whose condition never changes: it never ends."""

from numba import cuda


@cuda.jit
def spin(a):
    i = cuda.grid(1)
    k = 0
    while a[0] >= 0:
        k += 1
    a[i] = k
