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
import gc
import inspect
import itertools
import linecache
import sys
import threading
from operator import itemgetter

import numpy as np
from numba.cuda.simulator import kernel as sim_kernel
from numba.cuda.simulator import kernelapi as sim_api
from numba.cuda.simulator.cudadrv.devicearray import FakeCUDAArray

from gpuviz.model.launch import WARP_SIZE, Dim3
from gpuviz.model.trace import (
    NO_ARRAY,
    OP_BARRIER,
    OP_READ,
    OP_WRITE,
    SPACE_GLOBAL,
    SPACE_NONE,
    SPACE_SHARED,
    Trace,
)

# A log entry is (kind·256 + array code, index, bytecode offset in the kernel's
# frame), kind being one of the five below: the thread's position in its log
# is its seq, and its epoch is the number of barriers logged before it, so
# neither is stored per access.
_READ_GLOBAL, _WRITE_GLOBAL, _READ_SHARED, _WRITE_SHARED, _BARRIER = range(5)
_KIND_OP = np.array([OP_READ, OP_WRITE, OP_READ, OP_WRITE, OP_BARRIER], np.uint8)
_KIND_SPACE = np.array([SPACE_GLOBAL, SPACE_GLOBAL, SPACE_SHARED, SPACE_SHARED, SPACE_NONE], np.uint8)
_NO_INDEX = (-1, -1)
_BARRIER_ENTRY = _BARRIER * 256 + NO_ARRAY
_VIEWS = (np.ndarray, np.void)  # what FakeCUDAArray wraps again instead of returning


class _State:
    """What the hooks need while one kernel is being recorded."""

    def __init__(self, code):
        self.code = code
        self.names: list[str] = []
        self.shapes: list[tuple] = []
        self.logs: list[tuple] = []  # (blockIdx, threadIdx, log)
        self.shared: dict = {}

    def add_array(self, name: str, shape) -> int:
        self.names.append(name)
        self.shapes.append(tuple(shape))
        return len(self.names) - 1


_state: _State | None = None
_getframe = sys._getframe
# Each simulated CUDA thread is a new OS thread, so a thread-local is a fresh,
# per-CUDA-thread slot; reading it is cheaper than threading.current_thread().
_tls = threading.local()
_code = None  # the kernel's code object, while recording


def _kernel_frame(f):
    """Walk up from frame ``f`` to the kernel's own frame (a device function may sit between)."""
    while f is not None and f.f_code is not _code:
        f = f.f_back
    return f


def _new_log():
    t = threading.current_thread()
    log = _tls.log = []
    _state.logs.append((tuple(t.blockIdx), tuple(t.threadIdx), log))
    return log


# The four hooks below run once per simulated memory access: they are kept
# flat (no helper calls on the common path) because their cost is the
# recorder's whole overhead over a plain simulator run.


class RecordingArray(FakeCUDAArray):
    """A global-memory argument that logs each element read and write."""

    def __init__(self, ary, name):
        super().__init__(ary)
        code = _state.add_array(name, ary.shape)
        self._gv_read, self._gv_write = _READ_GLOBAL * 256 + code, _WRITE_GLOBAL * 256 + code

    def __getitem__(self, idx):
        try:
            log = _tls.log
        except AttributeError:
            log = _new_log()
        f = _getframe(2)  # kernel -> FakeWithinKernelCUDAArray.__getitem__ -> here
        if f.f_code is not _code:
            f = _kernel_frame(_getframe(1))
        log.append((self._gv_read, idx, f.f_lasti if f is not None else -1))
        # FakeCUDAArray.__getitem__, inlined: this runs once per simulated load
        ret = self._ary[idx]
        return ret if type(ret) not in _VIEWS else FakeCUDAArray(ret, stream=self.stream)

    def __setitem__(self, idx, val):
        try:
            log = _tls.log
        except AttributeError:
            log = _new_log()
        f = _getframe(2)
        if f.f_code is not _code:
            f = _kernel_frame(_getframe(1))
        log.append((self._gv_write, idx, f.f_lasti if f is not None else -1))
        self._ary[idx] = val


class RecordingShared:
    """A shared-memory array that logs each element read and write."""

    def __init__(self, ary, code):
        self._ary = ary
        self._gv_read, self._gv_write = _READ_SHARED * 256 + code, _WRITE_SHARED * 256 + code

    def __getitem__(self, idx):
        try:
            log = _tls.log
        except AttributeError:
            log = _new_log()
        f = _getframe(1)
        if f.f_code is not _code:
            f = _kernel_frame(f)
        log.append((self._gv_read, idx, f.f_lasti if f is not None else -1))
        return self._ary[idx]

    def __setitem__(self, idx, val):
        try:
            log = _tls.log
        except AttributeError:
            log = _new_log()
        f = _getframe(1)
        if f.f_code is not _code:
            f = _kernel_frame(f)
        log.append((self._gv_write, idx, f.f_lasti if f is not None else -1))
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
    """``cuda.shared.array``: one allocation per kernel source line, shared by all threads."""
    f = _kernel_frame(_getframe(1)) or _getframe(1)
    key = (f.f_code.co_filename, f.f_lineno)
    with _alloc_lock:  # every thread of the block allocates at once; exactly one may create
        rec = _state.shared.get(key)
        if rec is None:
            if alignment is not None:
                raise RuntimeError("Array alignment is not supported in cudasim")
            # not the simulator's allocator: it caches by *its* caller, which is
            # this function for every array, so sA and sB would alias. Like the
            # simulator, hand the same allocation to every block (they run one
            # after another).
            ary = sim_api.FakeCUDALocal().array(shape, dtype)
            rec = RecordingShared(ary, _state.add_array(_shared_name(*key), ary.shape))
            _state.shared[key] = rec
        return rec


def _syncthreads(self):
    try:
        log = _tls.log
    except AttributeError:
        log = _new_log()
    f = _kernel_frame(_getframe(1))
    log.append((_BARRIER_ENTRY, _NO_INDEX, f.f_lasti if f is not None else -1))
    _orig_syncthreads(self)


def _element_indices(idxs, shapes, codes):
    """Rows and columns of each access (row 0 for 1-D arrays, -1 for barriers and slices)."""
    element = codes != NO_ARRAY
    try:
        # the common case, (row, col) pairs of ints, without a Python loop
        rc = np.fromiter(itertools.chain.from_iterable(idxs), np.int64, 2 * len(idxs)).reshape(-1, 2)
    except (ValueError, TypeError):
        rc = np.empty((len(idxs), 2), np.int64)
        for i, idx in enumerate(idxs):
            parts = idx if isinstance(idx, tuple) else (idx,)
            try:
                ints = [int(p) for p in parts]
            except TypeError:  # a slice or fancy index: not one element
                rc[i] = (-1, -1)
                element[i] = False
                continue
            rc[i] = (0, ints[0]) if len(ints) == 1 else (ints[0], ints[-1])
    rows, cols = rc[:, 0], rc[:, 1]
    if ((rows < 0) | (cols < 0))[element].any():
        # negative indices count from the end, as in NumPy and CUDA Python
        ext = np.zeros((256, 2), np.int64)
        for code, shape in enumerate(shapes):
            ext[code] = (shape[0] if len(shape) > 1 else 1, shape[-1])
        rows = np.where(element & (rows < 0), rows + ext[codes, 0], rows)
        cols = np.where(element & (cols < 0), cols + ext[codes, 1], cols)
    return rows, cols


def _line_table(code) -> np.ndarray:
    """Source line of each bytecode offset of ``code`` (-1 where none)."""
    table = np.full(len(code.co_code) + 1, -1, np.int32)
    for start, end, line in code.co_lines():
        if line is not None:
            table[start:end] = line
    return table


def _build_trace(state: _State, block_dim, meta) -> Trace:
    # CUDA's linear orders (z slowest, x fastest): then canonical() needs no sort
    logs = sorted(state.logs, key=lambda e: (e[0][::-1], e[1][::-1]))
    counts = np.array([len(log) for _, _, log in logs], dtype=np.int64)
    n = int(counts.sum())
    tr = Trace.empty(n, state.names, meta)
    if n == 0:
        return tr
    flat = list(itertools.chain.from_iterable(log for _, _, log in logs))
    kind_code = np.fromiter(map(itemgetter(0), flat), np.int32, n)
    kind = (kind_code >> 8).astype(np.uint8)
    tr.array[:] = kind_code & 255
    # the hooks store the kernel frame's bytecode offset (cheaper than f_lineno); map it to source lines
    lasti = np.fromiter(map(itemgetter(2), flat), np.int64, n)
    table = _line_table(state.code)
    tr.line[:] = np.where(lasti >= 0, table[np.clip(lasti, 0, len(table) - 1)], -1)
    tr.op[:] = _KIND_OP[kind]
    tr.space[:] = _KIND_SPACE[kind]
    idxs = list(map(itemgetter(1), flat))
    tr.row[:], tr.col[:] = _element_indices(idxs, state.shapes, tr.array)
    tr.block[:] = np.repeat(np.array([b for b, _, _ in logs], dtype=np.int32), counts, axis=0)
    tr.thread[:] = np.repeat(np.array([t for _, t, _ in logs], dtype=np.int32), counts, axis=0)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    tr.seq[:] = np.arange(n) - starts
    barrier = (kind == _BARRIER).astype(np.int64)
    before = np.cumsum(barrier) - barrier  # barriers before each event, over all threads
    tr.epoch[:] = before - before[starts]
    bd = Dim3.of(block_dim)
    lin = tr.thread[:, 0] + bd.x * (tr.thread[:, 1] + bd.y * tr.thread[:, 2])
    tr.warp[:] = lin // WARP_SIZE
    tr.lane[:] = lin % WARP_SIZE
    return tr.canonical()


_orig_syncthreads = sim_kernel.BlockThread.syncthreads
_plain_alloc_lock = threading.Lock()


def _locked_shared_array(self, shape, dtype, alignment=None):
    """The simulator's ``cuda.shared.array`` without its race.

    numba-cuda's allocator checks for an existing allocation and inserts a new
    one without a lock; with the worker's short GIL switch interval, two
    threads of a block sometimes got different ``sA`` arrays and C came out
    wrong (3 launches in 1,500 of an 8×8 tiled block). Same keying as the
    simulator: by the calling source line.
    """
    if shape == 0:  # dynamic shared memory: one buffer, no keying, no race
        return _simulator_shared_array(self, shape, dtype, alignment)
    caller = _getframe(1)
    key = (caller.f_code.co_filename, caller.f_lineno)
    with _plain_alloc_lock:
        res = self._allocations.get(key)
        if res is None:
            if alignment is not None:
                raise RuntimeError("Array alignment is not supported in cudasim")
            res = sim_api.FakeCUDALocal().array(shape, dtype)
            self._allocations[key] = res
        return res


_simulator_shared_array = sim_api.FakeCUDAShared.array


def install_simulator_fixes() -> None:
    """Replace the simulator's racy shared-array allocator (for plain, unrecorded runs)."""
    sim_api.FakeCUDAShared.array = _locked_shared_array
_lock = threading.Lock()
_alloc_lock = threading.Lock()


@contextlib.contextmanager
def recording(kernel, block_dim):
    """Install the hooks for one launch of ``kernel`` and yield its state."""
    global _state, _code
    with _lock:
        _state = _State(kernel.py_func.__code__)
        _code = _state.code
        # Each access allocates two small tuples that live until the trace is
        # built; the cyclic GC would rescan them all again and again, which
        # once cost more than the simulator itself. Nothing here makes cycles.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        previous_shared_array = sim_api.FakeCUDAShared.array
        sim_api.FakeCUDAShared.array = _shared_array
        sim_kernel.BlockThread.syncthreads = _syncthreads
        try:
            yield _state
        finally:
            sim_api.FakeCUDAShared.array = previous_shared_array
            sim_kernel.BlockThread.syncthreads = _orig_syncthreads
            _state = _code = None
            if gc_was_enabled:
                gc.enable()


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
        return _build_trace(state, block, meta)


def simulator_fixes_installed() -> bool:
    """True in a simulator worker once :func:`install_simulator_fixes` ran (the tests ask)."""
    return sim_api.FakeCUDAShared.array is _locked_shared_array
