"""Worker-side jobs of the hardware views: record the transpose pair, read the live device.

Imported only inside the worker process (through ``Engine.call_in_worker``),
since it imports numba and the kernels.
"""

from __future__ import annotations

import os

import numpy as np


def record_transpose(n: int = 32, tile: int = 32, rows: int = 8, padded: bool = False, seed: int = 0):
    """Record one launch of the shared-memory transpose on the simulator.

    Returns ``{"trace": Trace, "ok": bool}``: ``ok`` says the kernel really
    transposed ``src``. The trace's ``meta["arrays"]`` gives every array's
    shape and element size, which bank conflicts need (a padded tile's extra
    column is never touched, so the trace alone cannot show it).
    """
    if os.environ.get("NUMBA_ENABLE_CUDASIM") != "1":
        raise RuntimeError("recording needs the simulator worker")
    from gpuviz.engine.recorder import record
    from gpuviz.kernels.transpose import make_kernel

    src = np.random.default_rng(seed).standard_normal((n, n)).astype(np.float32)
    dst = np.zeros((n, n), np.float32)
    grid = (-(-n // tile), -(-n // tile))
    block = (tile, rows)
    width = tile + 1 if padded else tile
    meta = {"kernel": "transpose_padded" if padded else "transpose", "m": n, "n": n, "grid": list(grid),
            "block": list(block), "source": "recorded",
            "arrays": {"src": {"shape": [n, n], "itemsize": 4}, "dst": {"shape": [n, n], "itemsize": 4},
                       "tile": {"shape": [tile, width], "itemsize": 4}}}
    trace = record(make_kernel(block, padded), grid, block, {"src": src, "dst": dst}, meta)
    return {"trace": trace, "ok": bool(np.array_equal(dst, src.T))}


#: numba device attributes a live preset needs (``cudaDeviceProp`` names in numba's spelling).
DEVICE_ATTRIBUTES = ("MULTIPROCESSOR_COUNT", "WARP_SIZE", "MAX_THREADS_PER_BLOCK", "MAX_THREADS_PER_MULTI_PROCESSOR",
                     "MAX_BLOCKS_PER_MULTIPROCESSOR", "MAX_REGISTERS_PER_MULTIPROCESSOR", "MAX_REGISTERS_PER_BLOCK",
                     "MAX_SHARED_MEMORY_PER_MULTIPROCESSOR", "MAX_SHARED_MEMORY_PER_BLOCK",
                     "MAX_SHARED_MEMORY_PER_BLOCK_OPTIN", "RESERVED_SHARED_MEMORY_PER_BLOCK")


def device_attributes() -> dict:
    """The current GPU's attributes, for :func:`gpuviz.model.hardware.live_preset` (GPU worker only)."""
    from numba import cuda

    dev = cuda.get_current_device()
    name = dev.name
    out = {"name": name.decode() if isinstance(name, bytes) else str(name),
           "compute_capability": list(dev.compute_capability)}
    for attr in DEVICE_ATTRIBUTES:
        try:
            out[attr] = int(getattr(dev, attr))
        except Exception:  # an attribute this driver or numba does not know: the model supplies a default
            pass
    return out


def _driver_blocks(ctx, cufunc, threads: int, dynamic_smem: int) -> int:
    got = ctx.get_active_blocks_per_multiprocessor(cufunc, threads, dynamic_smem)
    # the cuda-python binding may hand back (error, value) where ctypes gives the value
    return int(got[-1] if isinstance(got, tuple) else got)


def kernel_resources(launches) -> list[dict]:
    """Each built-in kernel as compiled for the current GPU: registers per thread, static shared memory,
    and the driver's resident blocks per SM for its launch (GPU worker only).

    ``launches`` is a list of ``{"kernel": name, "block": [x, y]}`` (``transpose`` and
    ``transpose_padded`` included). Each kernel is compiled by launching it once on a small input.
    """
    import importlib

    from numba import cuda

    ctx = cuda.current_context()
    out = []
    for launch in launches:
        name, block = launch["kernel"], tuple(launch["block"])
        if name.startswith("transpose"):
            kernel = importlib.import_module("gpuviz.kernels.transpose").make_kernel(block, name.endswith("padded"))
            args = (np.zeros((block[0], block[0]), np.float32), np.zeros((block[0], block[0]), np.float32))
            grid = (1, 1)
        else:
            kernel = importlib.import_module(f"gpuviz.kernels.{name}").make_kernel(block)
            n = 2 * block[0]
            args = tuple(np.zeros((n, n), np.float32) for _ in range(3))
            grid = (2, 2)
        kernel[grid, block](*(cuda.to_device(a) for a in args))
        cuda.synchronize()
        compiled = next(iter(kernel.overloads.values()))
        threads = int(np.prod(block))
        out.append({"kernel": name, "block": list(block), "threads": threads,
                     "registers_per_thread": int(compiled.regs_per_thread),
                     "static_shared_memory": int(compiled.shared_mem_per_block),
                     "driver_active_blocks": _driver_blocks(ctx, compiled._codelibrary.get_cufunc(), threads, 0)})
    return out
