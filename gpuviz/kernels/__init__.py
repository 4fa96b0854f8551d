"""The numba.cuda kernels' source.

Importing a kernel module imports numba, so only the engine's worker process
does that; everything else reads these files as text (see
``gpuviz.model.matmul.kernel_source``). Keep this ``__init__`` free of numba.
"""
