"""Record every memory access and barrier a kernel makes while Numba's CUDA simulator runs it.

Imported only inside the worker process, with ``NUMBA_ENABLE_CUDASIM=1`` set,
because it imports the simulator. It hooks the simulator at three points
(internal APIs: the numba-cuda version is pinned and ``tests/test_recorder.py``
checks the hooks on every upgrade):

* global arrays are passed as :class:`RecordingArray`, a subclass of the
  simulator's ``FakeCUDAArray``, which the simulator hands to the kernel
  unchanged; its ``__getitem__``/``__setitem__`` log each element access;
* ``cuda.shared.array`` is replaced by an allocator that keys allocations by
  the *kernel's* source line (the simulator keys by its immediate caller,
  which would alias ``sA`` and ``sB`` once wrapped) and returns a logging view;
* ``BlockThread.syncthreads`` logs a barrier and advances the thread's epoch.

Each simulated CUDA thread is an OS thread; its events go to a list owned by
that thread, so the GIL's interleaving across threads never enters the trace.
"""

from __future__ import annotations

import contextlib
import inspect
import linecache
import sys
import threading

import numpy as np
from numba.cuda.simulator import kernel as sim_kernel
from numba.cuda.simulator import kernelapi as sim_api
from numba.cuda.simulator.cudadrv.devicearray import FakeCUDAArray

from gpuviz.model.trace import OP_BARRIER, OP_READ, OP_WRITE, SPACE_GLOBAL, SPACE_NONE, SPACE_SHARED, Trace

_NO_ARRAY = 255


class _State:
    """What the hooks need while one kernel is being recorded."""

    def __init__(self, code, block_dim):
        self.code = code
        self.block_dim = block_dim
        self.names: list[str] = []
        self.logs: list[tuple] = []  # (blockIdx, threadIdx, events)
        self.shared: dict = {}
        self._names_lock = threading.Lock()

    def name_code(self, name: str) -> int:
        # called by many simulated threads at once: look-up and append must not interleave
        with self._names_lock:
            try:
                return self.names.index(name)
            except ValueError:
                self.names.append(name)
                return len(self.names) - 1


_state: _State | None = None


def _kernel_line(depth: int = 2) -> int:
    """Line of the kernel's own frame that caused the current access."""
    f = sys._getframe(depth)
    code = _state.code
    while f is not None and f.f_code is not code:
        f = f.f_back
    return f.f_lineno if f is not None else -1


def _thread_log():
    t = threading.current_thread()
    log = getattr(t, "_gv_log", None)
    if log is None:
        log = t._gv_log = []
        t._gv_epoch = 0
        _state.logs.append((tuple(t.blockIdx), tuple(t.threadIdx), log))
    return t, log


def _row_col(idx, shape):
    if not isinstance(idx, tuple):
        idx = (idx,)
    try:
        ints = [int(i) for i in idx]
    except TypeError:  # a slice or fancy index: not an element access
        return -1, -1
    ints = [i + s if i < 0 else i for i, s in zip(ints, shape)]
    if len(ints) == 1:
        return 0, ints[0]
    return ints[0], ints[-1]


def _log(op, space, array_code, idx, shape, depth):
    t, log = _thread_log()
    row, col = _row_col(idx, shape)
    log.append((len(log), t._gv_epoch, op, space, array_code, row, col, _kernel_line(depth)))


class RecordingArray(FakeCUDAArray):
    """A global-memory argument that logs each element read and write."""

    def __init__(self, ary, name):
        super().__init__(ary)
        self._gv_name = name
        self._gv_code = None

    def _code(self):
        if self._gv_code is None:
            self._gv_code = _state.name_code(self._gv_name)
        return self._gv_code

    def __getitem__(self, idx):
        _log(OP_READ, SPACE_GLOBAL, self._code(), idx, self._ary.shape, 3)
        return super().__getitem__(idx)

    def __setitem__(self, idx, val):
        _log(OP_WRITE, SPACE_GLOBAL, self._code(), idx, self._ary.shape, 3)
        return super().__setitem__(idx, val)


class RecordingShared:
    """A shared-memory array that logs each element read and write."""

    def __init__(self, ary, code):
        self._ary = ary
        self._code = code

    def __getitem__(self, idx):
        _log(OP_READ, SPACE_SHARED, self._code, idx, self._ary.shape, 2)
        return self._ary[idx]

    def __setitem__(self, idx, val):
        _log(OP_WRITE, SPACE_SHARED, self._code, idx, self._ary.shape, 2)
        self._ary[idx] = val

    def __getattr__(self, name):
        return getattr(self._ary, name)

    def __len__(self):
        return len(self._ary)


def _shared_name(filename, lineno):
    text = linecache.getline(filename, lineno)
    left = text.split("=", 1)[0].strip() if "=" in text else ""
    return left if left.isidentifier() else f"shared@{lineno}"


def _shared_array(self, shape, dtype, alignment=None):
    f = sys._getframe(1)
    code = _state.code
    while f is not None and f.f_code is not code:
        f = f.f_back
    if f is None:  # called from a device function: fall back to the caller's line
        f = sys._getframe(1)
    key = (f.f_code.co_filename, f.f_lineno)
    # Every thread of the block calls this at once, and the first call reads
    # the source file (linecache), which lets other threads run: without the
    # lock two threads could each allocate their own "shared" array and the
    # block's tiles would silently diverge (a wrong C, about every other run).
    with _alloc_lock:
        rec = _state.shared.get(key)
        if rec is None:
            # not the simulator's allocator: it caches by *its* caller, which is
            # this function for every array, so sA and sB would alias
            if alignment is not None:
                raise RuntimeError("Array alignment is not supported in cudasim")
            ary = sim_api.FakeCUDALocal().array(shape, dtype)
            # The simulator hands the same allocation to every block, as it runs
            # blocks one after another; keep that behaviour.
            rec = RecordingShared(ary, _state.name_code(_shared_name(*key)))
            _state.shared[key] = rec
    return rec


def _syncthreads(self):
    log = getattr(self, "_gv_log", None)
    if log is None:
        _, log = _thread_log()
    log.append((len(log), self._gv_epoch, OP_BARRIER, SPACE_NONE, _NO_ARRAY, -1, -1, _kernel_line(2)))
    _orig_syncthreads(self)
    self._gv_epoch += 1


_orig_shared_array = sim_api.FakeCUDAShared.array
_orig_syncthreads = sim_kernel.BlockThread.syncthreads
_lock = threading.Lock()
_alloc_lock = threading.Lock()


@contextlib.contextmanager
def recording(kernel, block_dim):
    """Install the hooks for one launch of ``kernel`` and yield its state."""
    global _state
    with _lock:
        _state = _State(kernel.py_func.__code__, tuple(block_dim))
        sim_api.FakeCUDAShared.array = _shared_array
        sim_kernel.BlockThread.syncthreads = _syncthreads
        try:
            yield _state
        finally:
            sim_api.FakeCUDAShared.array = _orig_shared_array
            sim_kernel.BlockThread.syncthreads = _orig_syncthreads
            _state = None


def param_names(kernel) -> list[str]:
    return list(inspect.signature(kernel.py_func).parameters)


def record(kernel, grid, block, arrays: dict[str, np.ndarray], meta: dict) -> Trace:
    """Launch ``kernel[grid, block]`` on the simulator and return its recorded trace.

    ``arrays`` maps the kernel's parameter names to host arrays, in order; they
    are modified in place exactly as a plain launch would.
    """
    with recording(kernel, block) as state:
        args = [RecordingArray(a, name) for name, a in arrays.items()]
        kernel[tuple(grid), tuple(block)](*args)
    return Trace.from_logs(state.logs, state.names, tuple(block), meta)
