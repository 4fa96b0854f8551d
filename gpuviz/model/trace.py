"""Memory traces of a kernel launch: who touched which element, in which order.

A trace holds one *event* per global or shared memory access, per atomic and
per barrier. In memory it is a structure of arrays (one contiguous array per
field, codes for the text fields), because the vectorized traces of large
products must be cheap to build; :meth:`Trace.to_records` gives the documented
structured array that ``gpuviz trace`` writes, with text fields.

The file (``.npz``), format 2
------------------------------
``events``
    One row per event, :data:`RECORD_DTYPE` (unchanged since format 1, so a
    format-1 reader reads the events of a format-2 file; ``op`` may now also
    be ``"atomic"``).
``meta``
    JSON text: what made the trace (kernel, launch, …) plus ``trace_format``
    (2; absent in format-1 files) and, when known, ``array_shapes``
    (``{name: [d0, …]}``).
``index``, ``dims`` (optional)
    ``int32 (n, 3)`` and ``uint8 (n,)``: each access's element index exactly as
    the thread wrote it (negative and out-of-range ones included, unused
    entries 0) and how many indices it used (0 for barriers and for slices).
    Recorded user kernels have them; without them they derive from ``row`` and
    ``col`` (:meth:`Trace.element_index`).
``source`` (optional)
    The text of the kernel's source file, whose 1-based lines ``line`` names.

:func:`Trace.load` reads both formats.
"""

from __future__ import annotations

import json
import os
import stat
import zipfile
from dataclasses import dataclass, field

import numpy as np

from .launch import WARP_SIZE, Dim3

OP_READ, OP_WRITE, OP_BARRIER, OP_ATOMIC = 0, 1, 2, 3
#: An atomic (``cuda.atomic.add`` …) reads and writes its element in one indivisible operation: one event.
OP_NAMES = ("read", "write", "barrier", "atomic")
#: The version :meth:`Trace.save` writes; :meth:`Trace.load` also reads format 1.
FORMAT_VERSION = 2
SPACE_GLOBAL, SPACE_SHARED, SPACE_NONE = 0, 1, 2
SPACE_NAMES = ("global", "shared", "")
NO_ARRAY = 255

#: The ``events`` array of a trace file: one row per event, fixed dtypes.
RECORD_DTYPE = np.dtype([
    ("block", "<i4", (3,)),
    ("thread", "<i4", (3,)),
    ("warp", "<i4"),
    ("lane", "<i4"),
    ("seq", "<i4"),
    ("epoch", "<i4"),
    ("op", "<U7"),
    ("space", "<U6"),
    ("array", "<U16"),
    ("row", "<i4"),
    ("col", "<i4"),
    ("line", "<i4"),
])

INT_FIELDS = ("warp", "lane", "seq", "epoch", "row", "col", "line")
#: The fields every trace has, per event (``index``/``dims`` are optional, see :class:`Trace`).
EVENT_FIELDS = ("block", "thread", *INT_FIELDS, "op", "space", "array")
CODE_FIELDS = ("op", "space", "array")

#: The largest trace :meth:`Trace.load` reads by default, once decompressed (the memory budget's default).
DEFAULT_LOAD_BYTES = 2 * 1024**3
#: A trace file has a handful of arrays; a zip of thousands is something else.
MAX_TRACE_MEMBERS = 64
# bytes per event of the structure of arrays built from the records (block, thread, the int fields, the codes)
_EVENT_FIELD_BYTES = 2 * 3 * 4 + len(INT_FIELDS) * 4 + len(CODE_FIELDS)


@dataclass
class Trace:
    """Every memory access and barrier of one launch, one event per entry.

    Parameters
    ----------
    block, thread : ndarray of int32, shape (n, 3)
        ``blockIdx`` and ``threadIdx`` of the thread that made the event.
    warp, lane : ndarray of int32
        Warp within the block and lane within the warp.
    seq : ndarray of int32
        Index of the event in its thread's own program order, from 0.
    epoch : ndarray of int32
        Barriers the thread passed before the event; a barrier event carries
        the epoch it closes.
    op, space, array : ndarray of uint8
        Codes: ``OP_NAMES[op]``, ``SPACE_NAMES[space]``, ``array_names[array]``
        (``NO_ARRAY`` for barriers).
    row, col : ndarray of int32
        Element accessed (``row = 0`` for 1-D arrays, ``-1`` for barriers; for
        3-D arrays the first and last index). A negative index counts from the
        end, as NumPy (and the simulator) apply it; :attr:`index` keeps it as written.
    line : ndarray of int32
        Line of the kernel's source file that made the event (1-based; inside a
        device function of the same file, the device function's line).
    array_names : tuple of str
        Kernel variable names, sorted, indexed by ``array``.
    meta : dict
        Kernel, shapes, launch and how the trace was made; JSON-serialisable.
    index : ndarray of int32, shape (n, 3), or None
        Format 2: each access's indices as the thread wrote them, unused entries 0.
    dims : ndarray of uint8, or None
        Format 2: how many indices the access used (0: a barrier or not one element).
    array_shapes : tuple of tuple of int
        Shape of each array of :attr:`array_names` (empty when unknown).
    source : str
        The kernel's source file ("" when not kept).
    """

    block: np.ndarray
    thread: np.ndarray
    warp: np.ndarray
    lane: np.ndarray
    seq: np.ndarray
    epoch: np.ndarray
    op: np.ndarray
    space: np.ndarray
    array: np.ndarray
    row: np.ndarray
    col: np.ndarray
    line: np.ndarray
    array_names: tuple[str, ...] = ()
    meta: dict = field(default_factory=dict)
    index: np.ndarray | None = None
    dims: np.ndarray | None = None
    array_shapes: tuple = ()
    source: str = ""

    def __len__(self) -> int:
        return len(self.seq)

    @property
    def nbytes(self) -> int:
        extra = sum(a.nbytes for a in (self.index, self.dims) if a is not None)
        return extra + sum(getattr(self, f).nbytes for f in ("block", "thread", *INT_FIELDS, *CODE_FIELDS))

    def shape_of(self, code: int) -> tuple[int, ...] | None:
        """Shape of array ``code`` (None when the trace does not know it)."""
        return tuple(self.array_shapes[code]) if code < len(self.array_shapes) else None

    def element_index(self) -> tuple[np.ndarray, np.ndarray]:
        """``(index, dims)``: stored (format 2), or derived from ``row``/``col`` for traces without them.

        Derived indices are those of 1-D and 2-D arrays (``(col,)`` and
        ``(row, col)``); with no shapes known, every array is taken as 2-D.
        """
        if self.index is not None and self.dims is not None:
            return self.index, self.dims
        n = len(self)
        ndim = np.full(256, 2, np.uint8)
        for code, shape in enumerate(self.array_shapes):
            ndim[code] = min(len(shape), 3)
        dims = np.where(self.op == OP_BARRIER, 0, ndim[self.array]).astype(np.uint8)
        dims[self.row < 0] = 0
        index = np.zeros((n, 3), np.int32)
        one = dims == 1
        index[:, 0] = np.where(one, self.col, self.row)
        index[:, 1] = np.where(one, 0, self.col)
        index[dims == 0] = 0
        return index, dims

    # -- construction -----------------------------------------------------------------

    @classmethod
    def empty(cls, n: int, array_names=(), meta=None) -> Trace:
        i32 = lambda: np.empty(n, np.int32)  # noqa: E731
        u8 = lambda: np.empty(n, np.uint8)  # noqa: E731
        return cls(np.empty((n, 3), np.int32), np.empty((n, 3), np.int32), i32(), i32(), i32(), i32(),
                   u8(), u8(), u8(), i32(), i32(), i32(), tuple(array_names), dict(meta or {}))

    @classmethod
    def from_logs(cls, logs, names, block_dim, meta) -> Trace:
        """Build from per-thread logs.

        Each log is ``(blockIdx, threadIdx, events)`` with events
        ``(seq, epoch, op, space, array, row, col, line)``.
        """
        counts = np.array([len(log) for _, _, log in logs], dtype=np.int64)
        n = int(counts.sum())
        tr = cls.empty(n, names, meta)
        if n:
            flat = np.array([ev for _, _, log in logs for ev in log], dtype=np.int64).reshape(n, 8)
            tr.block[:] = np.repeat(np.array([b for b, _, _ in logs], dtype=np.int32), counts, axis=0)
            tr.thread[:] = np.repeat(np.array([t for _, t, _ in logs], dtype=np.int32), counts, axis=0)
            for j, name in enumerate(("seq", "epoch", "op", "space", "array", "row", "col", "line")):
                getattr(tr, name)[:] = flat[:, j]
            bd = Dim3.of(block_dim)
            lin = tr.thread[:, 0] + bd.x * (tr.thread[:, 1] + bd.y * tr.thread[:, 2])
            tr.warp[:] = lin // WARP_SIZE
            tr.lane[:] = lin % WARP_SIZE
        return tr.canonical()

    def canonical(self) -> Trace:
        """Events sorted by block, thread (CUDA's linear orders) and ``seq``; names sorted."""
        out = self
        if len(self) > 1:
            key = self._order_key()
            if not (key[1:] > key[:-1]).all():
                out = self.take(np.argsort(key, kind="stable"))
        names = tuple(sorted(self.array_names))
        if names != tuple(self.array_names):
            remap = np.full(256, NO_ARRAY, np.uint8)
            for old, name in enumerate(self.array_names):
                remap[old] = names.index(name)
            out = out.take(slice(None)) if out is self else out
            out.array = remap[out.array]
            out.array_names = names
            if len(self.array_shapes) == len(self.array_names):
                shapes = dict(zip(self.array_names, self.array_shapes))
                out.array_shapes = tuple(tuple(shapes[name]) for name in names)
        return out

    def _order_key(self) -> np.ndarray:
        """One int64 per event that sorts like (block z, y, x, thread z, y, x, seq)."""
        key = np.zeros(len(self), np.int64)
        for col in (self.block[:, 2], self.block[:, 1], self.block[:, 0],
                    self.thread[:, 2], self.thread[:, 1], self.thread[:, 0], self.seq):
            key = key * (int(col.max()) + 1) + col
        return key

    def take(self, index) -> Trace:
        """A new trace with the events selected by ``index`` (mask, indices or slice)."""
        kw = {f: getattr(self, f)[index] for f in ("block", "thread", *INT_FIELDS, *CODE_FIELDS)}
        return Trace(**kw, array_names=self.array_names, meta=dict(self.meta),
                     index=None if self.index is None else self.index[index],
                     dims=None if self.dims is None else self.dims[index],
                     array_shapes=self.array_shapes, source=self.source)

    # -- comparison -------------------------------------------------------------------

    def same_events(self, other: Trace) -> bool:
        """True when both traces hold the same events (thread, ``seq`` and every field).

        ``index``/``dims`` are compared when both traces carry them.
        """
        a, b = self.canonical(), other.canonical()
        if len(a) != len(b) or a.array_names != b.array_names:
            return False
        if a.index is not None and b.index is not None and not (
                np.array_equal(a.index, b.index) and np.array_equal(a.dims, b.dims)):
            return False
        return all(np.array_equal(getattr(a, f), getattr(b, f))
                   for f in ("block", "thread", *INT_FIELDS, *CODE_FIELDS))

    def first_difference(self, other: Trace) -> str:
        """A sentence describing where two traces differ ("" when they don't)."""
        a, b = self.canonical(), other.canonical()
        if a.array_names != b.array_names:
            return f"array names differ: {a.array_names} vs {b.array_names}"
        if len(a) != len(b):
            return f"{len(a)} events vs {len(b)}"
        for f in ("block", "thread", *INT_FIELDS, *CODE_FIELDS):
            x, y = getattr(a, f), getattr(b, f)
            bad = np.nonzero((x != y).reshape(len(a), -1).any(axis=1))[0]
            if len(bad):
                i = int(bad[0])
                return (f"event {i} (block {a.block[i].tolist()}, thread {a.thread[i].tolist()}, "
                        f"seq {a.seq[i]}): {f} {x[i].tolist()} vs {y[i].tolist()}")
        return ""

    # -- files ------------------------------------------------------------------------

    def to_records(self) -> np.ndarray:
        """The events as a structured array with :data:`RECORD_DTYPE` (text fields spelled out)."""
        longest = max((len(n) for n in self.array_names), default=0)
        dtype = RECORD_DTYPE
        if longest > 16:  # a student's parameter names may be long; the built-in kernels' fit 16
            dtype = np.dtype([(f, f"<U{longest}" if f == "array" else RECORD_DTYPE.fields[f][0])
                              for f in RECORD_DTYPE.names])
        rec = np.empty(len(self), dtype)
        rec["block"] = self.block
        rec["thread"] = self.thread
        for f in INT_FIELDS:
            rec[f] = getattr(self, f)
        rec["op"] = np.array(OP_NAMES)[self.op]
        rec["space"] = np.array(SPACE_NAMES)[self.space]
        names = np.array([*self.array_names, *[""] * (256 - len(self.array_names))], dtype=dtype.fields["array"][0])
        names[NO_ARRAY] = ""
        rec["array"] = names[self.array]
        return rec

    @classmethod
    def from_records(cls, rec: np.ndarray, meta=None, array_shapes=None) -> Trace:
        """The trace of a structured array of :data:`RECORD_DTYPE` (``array_shapes``: ``{name: shape}``)."""
        shapes = dict(array_shapes or {})
        names = tuple(sorted((set(rec["array"].tolist()) | set(shapes)) - {""}))
        tr = cls.empty(len(rec), names, meta)
        if shapes and set(shapes) >= set(names):
            tr.array_shapes = tuple(tuple(int(d) for d in shapes[name]) for name in names)
        tr.block[:] = rec["block"]
        tr.thread[:] = rec["thread"]
        for f in INT_FIELDS:
            getattr(tr, f)[:] = rec[f]
        for target, column, vocabulary in ((tr.op, rec["op"], OP_NAMES), (tr.space, rec["space"], SPACE_NAMES),
                                           (tr.array, rec["array"], names)):
            target[:] = NO_ARRAY
            for code, word in enumerate(vocabulary):
                target[column == word] = code
            unknown = (target == NO_ARRAY) & (column != "")
            if unknown.any():
                raise ValueError(f"unknown value {column[unknown][0]!r} in a trace's events")
        return tr

    def save(self, path) -> None:
        """Write the trace as format 2 (see the module's docstring) to an ``.npz``."""
        # np.savez_compressed, but at zlib level 1: the text fields compress ~20× even
        # so, and a 4M-event trace writes in a few seconds instead of ~11 s at level 6
        meta = {**self.meta, "trace_format": FORMAT_VERSION}
        if len(self.array_shapes) == len(self.array_names) and self.array_names:
            meta["array_shapes"] = {n: list(s) for n, s in zip(self.array_names, self.array_shapes)}
        arrays = {"events": self.to_records(), "meta": np.array(json.dumps(meta))}
        if self.index is not None and self.dims is not None:
            arrays["index"] = np.ascontiguousarray(self.index, np.int32)
            arrays["dims"] = np.ascontiguousarray(self.dims, np.uint8)
        if self.source:
            arrays["source"] = np.array(self.source)
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            for name, arr in arrays.items():
                with zf.open(f"{name}.npy", "w", force_zip64=True) as f:
                    np.lib.format.write_array(f, arr, allow_pickle=False)

    @classmethod
    def load(cls, path, memory_bytes: int = DEFAULT_LOAD_BYTES) -> Trace:
        """Read a trace file of format 1 or 2; a newer format raises ValueError.

        The file's arrays are first measured by their headers (:func:`trace_file_bytes`): a file whose arrays
        would take more than ``memory_bytes`` once read raises :class:`TraceFileError` before anything is
        decompressed (a small zip can hold gigabytes of zeros).
        """
        needed = trace_file_bytes(path)
        if needed > memory_bytes:
            raise TraceFileError(f"{path}: reading this trace needs an estimated {_gib(needed)}, over the memory "
                                 f"budget of {_gib(memory_bytes)}")
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"])) if "meta" in z else {}
            version = int(meta.pop("trace_format", 1))
            if version > FORMAT_VERSION:
                raise ValueError(f"this trace is format {version}; this gpuviz reads formats 1 to {FORMAT_VERSION}")
            shapes = meta.pop("array_shapes", None)
            tr = cls.from_records(z["events"], meta, shapes)
            if "index" in z.files and "dims" in z.files:
                tr.index = np.asarray(z["index"], np.int32).reshape(len(tr), 3)
                tr.dims = np.asarray(z["dims"], np.uint8).reshape(len(tr))
            if "source" in z.files:
                tr.source = str(z["source"])
            return tr


# -- reading a file with a bound ------------------------------------------------------------------


class TraceFileError(ValueError):
    """A trace file that is refused before it is read: not a regular file, not an ``.npz``, or too large once
    decompressed. The message is one sentence naming the file."""


def _gib(n: int) -> str:
    return f"{n / 1024**3:.2f} GiB" if n >= 1024**2 else f"{n:,} bytes"


def trace_file_bytes(path) -> int:
    """Bytes the arrays of the ``.npz`` at ``path`` take once read, from their headers alone (nothing is
    decompressed beyond each member's first bytes), plus the in-memory fields built from the events.

    Raises :class:`TraceFileError` for a path that is not a regular file, a file that is not a zip of ``.npy``
    arrays, an array whose header does not read, or one of Python objects (never unpickled).
    """
    try:
        st = os.stat(path)
    except OSError as e:
        raise TraceFileError(f"{path}: cannot be read ({e.strerror or e})") from None
    if not stat.S_ISREG(st.st_mode):
        raise TraceFileError(f"{path}: is not a regular file, so it is not read as a trace")
    total = 0
    try:
        with zipfile.ZipFile(path) as zf:
            members = zf.infolist()
            if len(members) > MAX_TRACE_MEMBERS:
                raise TraceFileError(f"{path}: holds {len(members):,} files, not a trace's few arrays")
            for info in members:
                if not info.filename.endswith(".npy"):
                    continue
                with zf.open(info) as f:
                    version = np.lib.format.read_magic(f)
                    if version == (1, 0):
                        shape, _, dtype = np.lib.format.read_array_header_1_0(f)
                    else:
                        shape, _, dtype = np.lib.format.read_array_header_2_0(f)
                if dtype.hasobject:
                    raise TraceFileError(f"{path}: {info.filename} holds Python objects, which a trace never does")
                count = 1
                for d in shape:
                    count *= int(d)
                total += count * dtype.itemsize
                if info.filename == "events.npy":
                    total += count * _EVENT_FIELD_BYTES
    except TraceFileError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as e:
        raise TraceFileError(f"{path}: is not a trace file (.npz) that reads ({e})") from None
    return total


# -- steps ----------------------------------------------------------------------------


@dataclass
class Steps:
    """The animation's timeline: each step is one source line executed by the threads that execute it.

    Within a thread, consecutive events on one line form one *execution* of
    that line, until an access of the same kind (op, space, array) repeats, the
    line or epoch changes, or a barrier is met: ``acc += A[row, k] * B[k, col]``
    in a loop is one execution per ``k``. A thread's executions are numbered
    from 0 within each barrier epoch (``ordinal``). A step is a distinct
    ``(epoch, ordinal, line)``, ordered that way: as a warp runs in SIMT, the
    lanes that take the other branch of an ``if`` are masked in this step and
    active in the next. Across blocks the steps are a model (blocks really run
    independently): the trace's order inside each thread is exact.

    Parameters
    ----------
    epoch, ordinal, line : ndarray of int32
        Per step.
    threads : ndarray of int64
        Active threads per step.
    event_step : ndarray of int32
        Step of each event of the trace the steps were derived from.
    """

    epoch: np.ndarray
    ordinal: np.ndarray
    line: np.ndarray
    threads: np.ndarray
    event_step: np.ndarray

    def __len__(self) -> int:
        return len(self.line)


def derive_steps(trace: Trace) -> Steps:
    """Split a (canonical) trace into steps; see :class:`Steps`."""
    tr = trace.canonical()
    n = len(tr)
    if n == 0:
        z = np.zeros(0, np.int32)
        return Steps(z, z, z, np.zeros(0, np.int64), z)
    thread_key = np.concatenate([tr.block, tr.thread], axis=1)
    new_thread = np.ones(n, bool)
    new_thread[1:] = (thread_key[1:] != thread_key[:-1]).any(axis=1)
    barrier = tr.op == OP_BARRIER
    new_seg = new_thread.copy()
    new_seg[1:] |= (tr.line[1:] != tr.line[:-1]) | (tr.epoch[1:] != tr.epoch[:-1])
    new_seg[1:] |= barrier[1:] | barrier[:-1]
    seg = np.cumsum(new_seg) - 1
    kind = tr.op.astype(np.int64) * 65536 + tr.space.astype(np.int64) * 256 + tr.array
    # occurrence number of each access kind within its segment = execution within the segment
    order = np.lexsort((np.arange(n), kind, seg))
    sk = seg[order] * 2**20 + kind[order]
    start = np.ones(n, bool)
    start[1:] = sk[1:] != sk[:-1]
    first = np.maximum.accumulate(np.where(start, np.arange(n), 0))
    occ = np.empty(n, np.int64)
    occ[order] = np.arange(n) - first
    # executions per segment, then each execution's number within its thread
    seg_execs = np.zeros(seg[-1] + 1, np.int64)
    np.maximum.at(seg_execs, seg, occ + 1)
    seg_start_exec = np.cumsum(seg_execs) - seg_execs
    thread_id = np.cumsum(new_thread) - 1
    thread_first_seg = seg[new_thread]
    exec_in_thread = seg_start_exec[seg] - seg_start_exec[thread_first_seg[thread_id]] + occ
    new_epoch = new_thread.copy()
    new_epoch[1:] |= tr.epoch[1:] != tr.epoch[:-1]
    epoch_base = np.maximum.accumulate(np.where(new_epoch, np.arange(n), 0))
    ordinal = exec_in_thread - exec_in_thread[epoch_base]
    # one int64 per (epoch, ordinal, line) that sorts like the tuple: a 1-D unique is far cheaper
    line = tr.line.astype(np.int64) + 1  # line -1 (unknown) sorts first
    n_ord, n_line = int(ordinal.max()) + 1, int(line.max()) + 1
    packed = (tr.epoch.astype(np.int64) * n_ord + ordinal) * n_line + line
    uniq, event_step = np.unique(packed, return_inverse=True)
    event_step = event_step.reshape(-1)
    # active threads: distinct (thread, step) pairs
    pair = np.unique(thread_id * (len(uniq) + 1) + event_step)
    threads = np.bincount(pair % (len(uniq) + 1), minlength=len(uniq))[: len(uniq)]
    epoch, rest = np.divmod(uniq, n_ord * n_line)
    ordinal_u, line_u = np.divmod(rest, n_line)
    return Steps(epoch.astype(np.int32), ordinal_u.astype(np.int32), (line_u - 1).astype(np.int32),
                 threads.astype(np.int64), event_step.astype(np.int32))
