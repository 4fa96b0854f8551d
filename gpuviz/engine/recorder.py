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
* ``BlockThread.syncthreads`` logs a barrier and advances the thread's epoch;
* ``cuda.atomic.*`` (the simulator does them as a plain read and write under a
  lock) log one atomic event and run on the bare array, so the read and write
  inside them are not logged again;
* ``BlockThread.run`` keeps the exception a thread raised, with its thread.

Each simulated CUDA thread is an OS thread; its events go to a list owned by
that thread, so the GIL's interleaving across threads never enters the trace.
Lines are those of the kernel's own file: an access inside a device function
of that file is logged at the device function's line.
"""

from __future__ import annotations

import contextlib
import gc
import inspect
import itertools
import linecache
import re
import sys
import threading
import traceback
from dataclasses import dataclass
from operator import itemgetter

import numpy as np
from numba.cuda.simulator import kernel as sim_kernel
from numba.cuda.simulator import kernelapi as sim_api
from numba.cuda.simulator.cudadrv.devicearray import FakeCUDAArray, FakeWithinKernelCUDAArray

from gpuviz.model.launch import WARP_SIZE, Dim3
from gpuviz.model.trace import (
    NO_ARRAY,
    OP_ATOMIC,
    OP_BARRIER,
    OP_READ,
    OP_WRITE,
    SPACE_GLOBAL,
    SPACE_NONE,
    SPACE_SHARED,
    Trace,
)

# Each thread logs into two lists, one entry per event in each: an int
# (kind·256 + array code) << 32 | position, kind being one of the seven below
# and position the bytecode offset in the kernel's frame (or, in another
# function of the kernel's file, its number << 24 | offset; _NO_POS for none),
# and the index as the kernel wrote it. Two appends cost less than one tuple,
# and the build reads each list in one pass. The thread's position in its log
# is its seq, and its epoch is the number of barriers logged before it, so
# neither is stored per access.
_READ_GLOBAL, _WRITE_GLOBAL, _READ_SHARED, _WRITE_SHARED, _BARRIER, _ATOMIC_GLOBAL, _ATOMIC_SHARED = range(7)
_KIND_OP = np.array([OP_READ, OP_WRITE, OP_READ, OP_WRITE, OP_BARRIER, OP_ATOMIC, OP_ATOMIC], np.uint8)
_KIND_SPACE = np.array([SPACE_GLOBAL, SPACE_GLOBAL, SPACE_SHARED, SPACE_SHARED, SPACE_NONE, SPACE_GLOBAL,
                        SPACE_SHARED], np.uint8)
_NO_INDEX = ()
_BARRIER_ENTRY = (_BARRIER * 256 + NO_ARRAY) << 32
_CODE_SHIFT = 24
_NO_POS = 0xFFFFFFFF
_VIEWS = (np.ndarray, np.void)  # what FakeCUDAArray wraps again instead of returning


@dataclass
class ThreadError:
    """An exception a simulated thread raised: where, what, and the line of the kernel's file it came from."""

    block: tuple
    thread: tuple
    type: str
    message: str
    line: int

    def to_dict(self) -> dict:
        return {"block": list(self.block), "thread": list(self.thread), "type": self.type,
                "message": self.message, "line": self.line}


class _State:
    """What the hooks need while one kernel is being recorded."""

    def __init__(self, code):
        self.code = code
        self.names: list[str] = []
        self.shapes: list[tuple] = []
        self.logs: list[tuple] = []  # (blockIdx, threadIdx, entries, indices)
        self.shared: dict = {}
        self.codes: dict = {code: 0}  # the kernel file's functions, numbered for positions
        self.errors: list[ThreadError] = []

    def events(self) -> int:
        """Events logged so far (read from another thread: the watchdog's event limit)."""
        return sum(len(entries) for _, _, entries, _ in list(self.logs))

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
_filename = None  # the file the kernel was defined in, while recording
_codes_lock = threading.Lock()


def _kernel_frame(f):
    """Walk up from frame ``f`` to the innermost frame of the kernel's file (the kernel or a device function)."""
    while f is not None and f.f_code is not _code and f.f_code.co_filename != _filename:
        f = f.f_back
    return f


def _pos(f):
    """The position of the innermost frame of the kernel's file at or above ``f`` (``_NO_POS``: none)."""
    f = _kernel_frame(f)
    if f is None:
        return _NO_POS
    code = f.f_code
    if code is _code:
        return f.f_lasti
    codes = _state.codes
    number = codes.get(code)
    if number is None:
        with _codes_lock:
            number = codes.setdefault(code, len(codes))
    return (number << _CODE_SHIFT) | f.f_lasti


def _new_log():
    t = threading.current_thread()
    log = _tls.log = ([], [])
    _state.logs.append((tuple(t.blockIdx), tuple(t.threadIdx), *log))
    return log


# The four hooks below run once per simulated memory access: they are kept
# flat (no helper calls on the common path) because their cost is the
# recorder's whole overhead over a plain simulator run.


class RecordingArray(FakeCUDAArray):
    """A global-memory argument that logs each element read and write."""

    def __init__(self, ary, name):
        super().__init__(ary)
        code = _state.add_array(name, ary.shape)
        self._gv_read = (_READ_GLOBAL * 256 + code) << 32
        self._gv_write = (_WRITE_GLOBAL * 256 + code) << 32
        self._gv_atomic = (_ATOMIC_GLOBAL * 256 + code) << 32

    def __getitem__(self, idx):
        try:
            entries, indices = _tls.log
        except AttributeError:
            entries, indices = _new_log()
        f = _getframe(2)  # kernel -> FakeWithinKernelCUDAArray.__getitem__ -> here
        entries.append(self._gv_read | (f.f_lasti if f.f_code is _code else _pos(_getframe(1))))
        indices.append(idx)
        # FakeCUDAArray.__getitem__, inlined: this runs once per simulated load
        ret = self._ary[idx]
        return ret if type(ret) not in _VIEWS else FakeCUDAArray(ret, stream=self.stream)

    def __setitem__(self, idx, val):
        try:
            entries, indices = _tls.log
        except AttributeError:
            entries, indices = _new_log()
        f = _getframe(2)
        entries.append(self._gv_write | (f.f_lasti if f.f_code is _code else _pos(_getframe(1))))
        indices.append(idx)
        self._ary[idx] = val


class RecordingShared:
    """A shared-memory array that logs each element read and write."""

    def __init__(self, ary, code):
        self._ary = ary
        self._gv_read = (_READ_SHARED * 256 + code) << 32
        self._gv_write = (_WRITE_SHARED * 256 + code) << 32
        self._gv_atomic = (_ATOMIC_SHARED * 256 + code) << 32

    def __getitem__(self, idx):
        try:
            entries, indices = _tls.log
        except AttributeError:
            entries, indices = _new_log()
        f = _getframe(1)
        entries.append(self._gv_read | (f.f_lasti if f.f_code is _code else _pos(f)))
        indices.append(idx)
        return self._ary[idx]

    def __setitem__(self, idx, val):
        try:
            entries, indices = _tls.log
        except AttributeError:
            entries, indices = _new_log()
        f = _getframe(1)
        entries.append(self._gv_write | (f.f_lasti if f.f_code is _code else _pos(f)))
        indices.append(idx)
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
    if shape == 0:  # dynamic shared memory: the simulator's one buffer, not recorded
        return _simulator_shared_array(self, shape, dtype, alignment)
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
        entries, indices = _tls.log
    except AttributeError:
        entries, indices = _new_log()
    entries.append(_BARRIER_ENTRY | _pos(_getframe(1)))
    indices.append(_NO_INDEX)
    _orig_syncthreads(self)


def _atomic_hook(name, original):
    """``cuda.atomic.<name>``, logged as one atomic event and done on the bare array."""
    whole = name == "compare_and_swap"  # works on element 0 of the array

    def hook(self, array, *args):
        target = array.__dict__["_item"] if type(array) is FakeWithinKernelCUDAArray else array
        entry = getattr(target, "_gv_atomic", None)
        if entry is None:  # a local array: private to the thread, not recorded
            return original(self, array, *args)
        try:
            entries, indices = _tls.log
        except AttributeError:
            entries, indices = _new_log()
        entries.append(entry | _pos(_getframe(1)))
        indices.append((0,) * target._ary.ndim if whole else args[0])
        return original(self, target._ary, *args)

    hook.__name__ = name
    return hook


_ATOMICS = {name: getattr(sim_api.FakeCUDAAtomic, name)
            for name in ("add", "sub", "and_", "or_", "xor", "inc", "dec", "exch", "max", "min", "nanmax",
                         "nanmin", "compare_and_swap", "cas") if hasattr(sim_api.FakeCUDAAtomic, name)}
_ATOMIC_HOOKS = {name: _atomic_hook(name, fn) for name, fn in _ATOMICS.items()}
_ABORT_MESSAGES = ("abort flag set on syncthreads",)


def _thread_run(self):
    """``BlockThread.run``, keeping the exception (its type, message, thread and line) for the trace."""
    _orig_run(self)
    state = _state
    if self.exception is None or state is None:
        return
    exc, tb = self.exception
    message = str(exc)
    if any(m in message for m in _ABORT_MESSAGES):
        return  # another thread's exception stopped this one: not its own error
    # the simulator rewrote the message as "tid=[…] ctaid=[…]: message"
    if message.startswith("tid=") and ": " in message:
        message = message.split(": ", 1)[1]
    elif message.startswith("tid="):
        message = ""
    line = -1
    for frame in reversed(traceback.extract_tb(tb)):
        if frame.filename == _filename or frame.filename == state.code.co_filename:
            line = frame.lineno or -1
            break
    state.errors.append(ThreadError(tuple(self.blockIdx), tuple(self.threadIdx), type(exc).__name__, message,
                                    line))


def _element_indices(idxs, shapes, codes):
    """Each access's indices as written (``index`` (n, 3), ``dims``) and the v1 ``row``/``col``.

    ``row``/``col``: row 0 for 1-D accesses, the first and last index otherwise,
    negative ones counted from the end as NumPy does; -1 for barriers and for
    accesses that are not one element (a slice, a row of a 2-D array).
    """
    n = len(idxs)
    index = np.zeros((n, 3), np.int64)
    lengths = np.zeros(n, np.int64)
    # an array is indexed the same way at each access (a[i] for 1-D, a[i, j] for 2-D), so convert
    # the indices array by array, each in one call, and fall back to one by one where that fails
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    for seg in np.split(order, np.flatnonzero(sorted_codes[1:] != sorted_codes[:-1]) + 1):
        if not len(seg) or codes[seg[0]] == NO_ARRAY:
            continue
        rows = seg.tolist()
        group = itemgetter(*rows)(idxs) if len(rows) > 1 else (idxs[rows[0]],)
        try:
            first = group[0]
            if type(first) is tuple:
                width = len(first)
                if not 1 <= width <= 3:
                    raise TypeError
                it = itertools.chain.from_iterable(group)
                values = np.fromiter(it, np.int64, width * len(group)).reshape(-1, width)
                if next(it, None) is not None:  # some access used more indices
                    raise TypeError
                index[seg, :width] = values
                lengths[seg] = width
            else:
                index[seg, 0] = np.fromiter(group, np.int64, len(group))
                lengths[seg] = 1
        except (ValueError, TypeError, OverflowError):
            for row, parts in zip(rows, group):
                parts = parts if type(parts) is tuple else (parts,)
                try:
                    ints = [int(p) for p in parts[:3]]
                except (TypeError, ValueError, OverflowError):  # a slice or fancy index: not one element
                    continue
                index[row, : len(ints)] = ints
                index[row, len(ints):] = 0
                lengths[row] = len(parts)
    dims = np.where(lengths <= 3, lengths, 0).astype(np.uint8)
    dims[codes == NO_ARRAY] = 0
    index[dims == 0] = 0
    # v1's row/col, negative indices counted from the end
    extent = np.ones((256, 3), np.int64)
    ndim = np.zeros(256, np.int64)
    for code, shape in enumerate(shapes):
        extent[code, : min(len(shape), 3)] = shape[:3]
        ndim[code] = len(shape)
    element = dims > 0
    last = np.clip(dims.astype(np.int64) - 1, 0, 2)
    first = index[:, 0]
    final = index[np.arange(n), last]
    ext_first = extent[codes, 0]
    ext_final = extent[codes, last]
    first = np.where(first < 0, first + ext_first, first)
    final = np.where(final < 0, final + ext_final, final)
    rows = np.where(element, np.where(dims == 1, 0, first), -1)
    cols = np.where(element, final, -1)
    # a row of a 2-D array (a[i] on a matrix) is not one element
    partial = element & (dims.astype(np.int64) < ndim[codes])
    rows[partial], cols[partial] = -1, -1
    return index.clip(-(2**31), 2**31 - 1).astype(np.int32), dims, rows, cols


def _line_table(code) -> np.ndarray:
    """Source line of each bytecode offset of ``code`` (-1 where none)."""
    table = np.full(len(code.co_code) + 1, -1, np.int32)
    for start, end, line in code.co_lines():
        if line is not None:
            table[start:end] = line
    return table


def _lines(pos: np.ndarray, codes: dict) -> np.ndarray:
    """Source lines of positions (see the log entry above) in the kernel's file's functions."""
    line = np.full(len(pos), -1, np.int32)
    number = pos >> _CODE_SHIFT
    offset = pos & ((1 << _CODE_SHIFT) - 1)
    for code, k in codes.items():
        sel = (number == k) & (pos >= 0)
        if sel.any():
            table = _line_table(code)
            line[sel] = table[np.clip(offset[sel], 0, len(table) - 1)]
    return line


def _build_trace(state: _State, block_dim, meta, keep_index: bool = False, source: str = "") -> Trace:
    # CUDA's linear orders (z slowest, x fastest): then canonical() needs no sort. Each log is
    # copied: after an exception the simulator leaves the block's other threads running
    logs = sorted(((b, t, list(entries), list(indices)) for b, t, entries, indices in list(state.logs)),
                  key=lambda e: (e[0][::-1], e[1][::-1]))
    for log in logs:  # a thread stopped between its two appends
        del log[2][len(log[3]):], log[3][len(log[2]):]
    counts = np.array([len(log[2]) for log in logs], dtype=np.int64)
    n = int(counts.sum())
    tr = Trace.empty(n, state.names, meta)
    tr.array_shapes = tuple(tuple(int(d) for d in s) for s in state.shapes)
    tr.source = source
    if n == 0:
        if keep_index:
            tr.index, tr.dims = np.zeros((0, 3), np.int32), np.zeros(0, np.uint8)
        return tr.canonical()
    packed = np.fromiter(itertools.chain.from_iterable(log[2] for log in logs), np.int64, n)
    kind_code = (packed >> 32).astype(np.int32)
    kind = (kind_code >> 8).astype(np.uint8)
    tr.array[:] = kind_code & 255
    # the hooks store bytecode offsets (cheaper than f_lineno); map them to source lines
    pos = packed & 0xFFFFFFFF
    pos[pos == _NO_POS] = -1
    tr.line[:] = _lines(pos, dict(state.codes))
    tr.op[:] = _KIND_OP[kind]
    tr.space[:] = _KIND_SPACE[kind]
    idxs = list(itertools.chain.from_iterable(log[3] for log in logs))
    index, dims, rows, cols = _element_indices(idxs, state.shapes, tr.array)
    tr.row[:], tr.col[:] = rows, cols
    if keep_index:
        tr.index, tr.dims = index, dims
    tr.block[:] = np.repeat(np.array([log[0] for log in logs], dtype=np.int32), counts, axis=0)
    tr.thread[:] = np.repeat(np.array([log[1] for log in logs], dtype=np.int32), counts, axis=0)
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
_orig_run = sim_kernel.BlockThread.run


@contextlib.contextmanager
def recording(kernel, block_dim):
    """Install the hooks for one launch of ``kernel`` and yield its state."""
    global _state, _code, _filename
    with _lock:
        _state = _State(kernel.py_func.__code__)
        _code = _state.code
        _filename = _code.co_filename
        # Each access allocates two small tuples that live until the trace is
        # built; the cyclic GC would rescan them all again and again, which
        # once cost more than the simulator itself. Nothing here makes cycles.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        previous_shared_array = sim_api.FakeCUDAShared.array
        sim_api.FakeCUDAShared.array = _shared_array
        sim_kernel.BlockThread.syncthreads = _syncthreads
        sim_kernel.BlockThread.run = _thread_run
        for name, hook in _ATOMIC_HOOKS.items():
            setattr(sim_api.FakeCUDAAtomic, name, hook)
        try:
            yield _state
        finally:
            sim_api.FakeCUDAShared.array = previous_shared_array
            sim_kernel.BlockThread.syncthreads = _orig_syncthreads
            sim_kernel.BlockThread.run = _orig_run
            for name, original in _ATOMICS.items():
                setattr(sim_api.FakeCUDAAtomic, name, original)
            _state = _code = _filename = None
            if gc_was_enabled:
                gc.enable()


def param_names(kernel) -> list[str]:
    return list(inspect.signature(kernel.py_func).parameters)


def record(kernel, grid, block, arrays: dict[str, np.ndarray], meta: dict) -> Trace:
    """Launch ``kernel[grid, block]`` on the simulator and return its recorded trace.

    ``arrays`` maps the kernel's parameter names to host arrays, in order; they
    are modified in place exactly as a plain launch would. For the built-in
    kernels: the trace keeps no raw indices (their ``row``/``col`` say it all,
    as the vectorized twins' do).
    """
    with recording(kernel, block) as state:
        args = [RecordingArray(a, name) for name, a in arrays.items()]
        kernel[tuple(grid), tuple(block)](*args)
        return _build_trace(state, block, meta)


@dataclass
class Recorded:
    """What :func:`record_launch` returns: the trace (of the events up to the end or the first error) and the errors."""

    trace: Trace
    errors: list[ThreadError]
    launch_error: str | None = None


def record_launch(kernel, grid, block, args: dict, meta: dict, source: str = "",
                  on_state=None) -> Recorded:
    """Launch a student's ``kernel[grid, block]`` on the simulator, recording everything (format-2 trace).

    ``args`` maps parameter names, in order, to host arrays (modified in place)
    or scalars. A thread that raises ends the launch, as on the simulator; the
    trace then holds the events up to that point and :attr:`Recorded.errors`
    the exceptions (an out-of-bounds ``IndexError`` included), with their
    threads and lines. ``on_state(state)`` is called before the launch (the
    worker's watchdog counts events with ``state.events()``).
    """
    with recording(kernel, block) as state:
        if on_state is not None:
            on_state(state)
        values = [RecordingArray(v, name) if isinstance(v, np.ndarray) else v for name, v in args.items()]
        launch_error = None
        try:
            kernel[tuple(grid), tuple(block)](*values)
        except Exception as e:  # a thread's exception, re-raised by the simulator
            # the simulator raises as soon as it sees the thread's exception, which can be before
            # the thread's own run() returns to our hook: the re-raised one is the sure record
            first = thread_error_of(e, _filename)
            if first is None:
                launch_error = f"{type(e).__name__}: {' '.join(str(e).split())}"
            elif all((x.block, x.thread) != (first.block, first.thread) for x in state.errors):
                state.errors.insert(0, first)
        trace = _build_trace(state, block, meta, keep_index=True, source=source)
        return Recorded(trace, list(state.errors), launch_error)


_TID = re.compile(r"tid=\[([^\]]*)\] ctaid=\[([^\]]*)\]:?\s*(.*)", re.DOTALL)


def thread_error_of(exc: BaseException, filename: str | None) -> ThreadError | None:
    """The thread error in an exception the simulator re-raised ("tid=[…] ctaid=[…]: message"), or None."""
    m = _TID.match(str(exc))
    if m is None:
        return None
    try:
        tid = tuple(int(v) for v in m.group(1).split(","))
        ctaid = tuple(int(v) for v in m.group(2).split(","))
    except ValueError:
        return None
    line = -1
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename == filename:
            line = frame.lineno or -1
            break
    return ThreadError(ctaid, tid, type(exc).__name__, " ".join(m.group(3).split()), line)


def simulator_fixes_installed() -> bool:
    """True in a simulator worker once :func:`install_simulator_fixes` ran (the tests ask)."""
    return sim_api.FakeCUDAShared.array is _locked_shared_array
