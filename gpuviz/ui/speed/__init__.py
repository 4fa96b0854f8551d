"""The "Speed" panel: loops vs NumPy vs Numba vs GPU, timed on the machine in front of the class (issue 7)."""
