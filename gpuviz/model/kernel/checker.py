"""Find a kernel's bugs from its trace, by definition, whatever order the simulator ran its threads in.

compute-sanitizer checks a launch on the GPU; this checks a recorded trace
(:class:`gpuviz.model.trace.Trace`) after the fact. Every check below is a
statement about the events of the trace, so it holds for every interleaving
a GPU could choose, not only for the one the simulator happened to run:

race
    Two different threads touch the same element and at least one writes:
    in shared memory, threads of one block in the same barrier epoch; in
    global memory, threads of different blocks at any time (blocks run in any
    order, or at once) or threads of one block in the same epoch. Two atomics
    never race with each other; an atomic and a plain read or write of the
    same element do.
out_of_bounds
    An index outside the array, negative ones included (the simulator wraps
    ``a[-1]`` around as NumPy does; a GPU reads whatever lies before ``a``).
uninitialized
    A shared-memory read (or atomic) of an element that neither the reading
    thread wrote earlier nor any thread of its block wrote in an earlier
    barrier epoch of this launch (the simulator hands each block the previous
    block's shared values).
barrier_divergence
    The threads of a block do not all reach the same sequence of barrier lines.
constraint
    An exercise's limits: global reads or writes per thread, shared memory
    required, no atomics (an atomic counts as one read and one write).
wrong_result, exception, timeout
    From the run rather than the trace: see :func:`compare_outputs`,
    :func:`exception_findings` and :func:`timeout_finding`.

All of it is vectorized NumPy: a trace of a million events checks in well under a second.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from ..launch import Dim3
from ..trace import NO_ARRAY, OP_ATOMIC, OP_BARRIER, OP_READ, OP_WRITE, SPACE_GLOBAL, SPACE_SHARED, Trace

__all__ = ["KINDS", "MAX_FINDINGS", "MAX_WHERE", "Constraints", "Finding", "Report", "check_trace",
           "compare_outputs", "exception_findings", "make_report", "timeout_finding"]

#: Every kind a finding can have, in the order a report lists them.
KINDS = ("exception", "timeout", "out_of_bounds", "race", "uninitialized", "barrier_divergence", "constraint",
         "wrong_result")
#: A report keeps at most this many findings (one per kind, line and array).
MAX_FINDINGS = 100
#: A finding names at most this many block/thread pairs.
MAX_WHERE = 8


@dataclass(frozen=True)
class Constraints:
    """Limits an exercise may set on a kernel, counted from its trace.

    Parameters
    ----------
    max_global_reads, max_global_writes : int or None
        At most this many global-memory reads (writes) per thread; an atomic counts as both.
    require_shared : bool
        The kernel must use shared memory.
    no_atomics : bool
        The kernel must not use ``cuda.atomic``.
    """

    max_global_reads: int | None = None
    max_global_writes: int | None = None
    require_shared: bool = False
    no_atomics: bool = False

    def to_dict(self) -> dict:
        return {"max_global_reads": self.max_global_reads, "max_global_writes": self.max_global_writes,
                "require_shared": self.require_shared, "no_atomics": self.no_atomics}


@dataclass(frozen=True)
class Finding:
    """One bug, with how often it happened.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.
    line : int or None
        Line of the kernel's file (1-based).
    array : str or None
        The array involved.
    index : tuple of int or None
        The element (as the thread indexed it) of the first occurrence.
    where : tuple of ((bx, by, bz), (tx, ty, tz))
        Block/thread pairs involved, at most :data:`MAX_WHERE`.
    message : str
        One sentence for the student.
    count : int
        Occurrences of this kind at this line and array.
    """

    kind: str
    line: int | None
    array: str | None
    index: tuple[int, ...] | None
    where: tuple = ()
    message: str = ""
    count: int = 1

    def to_dict(self) -> dict:
        return {"kind": self.kind, "line": self.line, "array": self.array,
                "index": None if self.index is None else [int(i) for i in self.index],
                "where": [{"block": [int(v) for v in b], "thread": [int(v) for v in t]} for b, t in self.where],
                "message": self.message, "count": int(self.count)}


@dataclass
class Report:
    """A check's findings, at most one per (kind, line, array) and :data:`MAX_FINDINGS` in all.

    Parameters
    ----------
    findings : list of Finding
    dropped : int
        Findings left out beyond :data:`MAX_FINDINGS`.
    """

    findings: list[Finding] = field(default_factory=list)
    dropped: int = 0

    @property
    def ok(self) -> bool:
        return not self.findings

    def kinds(self) -> set[str]:
        return {f.kind for f in self.findings}

    def of(self, kind: str) -> list[Finding]:
        return [f for f in self.findings if f.kind == kind]

    def to_dict(self) -> dict:
        return {"ok": self.ok, "findings": [f.to_dict() for f in self.findings], "dropped": self.dropped}


# -- helpers ----------------------------------------------------------------------------------


def _fmt(v) -> str:
    return f"({', '.join(str(int(x)) for x in v)})"


def _num(v) -> str:
    v = np.asarray(v).item()
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def _elem(index) -> str:
    return "[" + ", ".join(str(int(i)) for i in index) + "]"


def _launch(tr: Trace) -> tuple[Dim3, Dim3]:
    meta = tr.meta or {}
    block = Dim3.of(meta["block"]) if "block" in meta else Dim3(*(int(tr.thread[:, d].max(initial=0)) + 1
                                                                  for d in range(3)))
    grid = Dim3.of(meta["grid"]) if "grid" in meta else Dim3(*(int(tr.block[:, d].max(initial=0)) + 1
                                                               for d in range(3)))
    return grid, block


class _Events:
    """The columns every check needs, computed once per trace."""

    def __init__(self, tr: Trace):
        self.tr = tr
        self.grid, self.blockdim = _launch(tr)
        g, bd = self.grid, self.blockdim
        b, t = tr.block, tr.thread
        # columns one at a time: (n, 3) int64 temporaries cost more than the checks
        self.block_lin = b[:, 0] + g.x * (b[:, 1] + g.y * b[:, 2].astype(np.int64))
        self.thread_lin = t[:, 0] + bd.x * (t[:, 1] + bd.y * t[:, 2].astype(np.int64))
        self.tid = self.block_lin * bd.size + self.thread_lin
        self.index, self.dims = tr.element_index()
        n = len(tr)
        shapes = np.ones((3, 256), np.int64)
        ndim = np.zeros(256, np.uint8)
        known = np.zeros(256, bool)
        for code, shape in enumerate(tr.array_shapes):
            shapes[: min(len(shape), 3), code] = shape[:3]
            ndim[code] = len(shape)
            known[code] = True
        access = tr.op != OP_BARRIER
        dims, code = self.dims, tr.array
        oob = np.zeros(n, bool)
        negative = np.zeros(n, bool)
        lin = np.zeros(n, np.int64)
        for d in range(3):
            ext = shapes[d][code]
            i = self.index[:, d]
            used = dims > d
            neg = i < 0
            negative |= used & neg
            oob |= used & (neg | (i >= ext))
            lin = lin * ext + np.where(used, i, 0)
        self.oob = access & known[code] & oob
        # one element, fully indexed, inside the array: what races and reads are about
        if known.any():
            self.element = access & (dims > 0) & (dims == ndim[code]) & ~self.oob
        else:  # a trace without shapes (format 1): trust its indices
            self.element = access & (dims > 0) & ~negative
        self.lin = lin

    def where(self, i) -> tuple:
        return (tuple(int(v) for v in self.tr.block[i]), tuple(int(v) for v in self.tr.thread[i]))

    def index_of(self, i) -> tuple[int, ...]:
        return tuple(int(v) for v in self.index[i, : int(self.dims[i])])

    def name(self, i) -> str:
        code = int(self.tr.array[i])
        return self.tr.array_names[code] if code != NO_ARRAY and code < len(self.tr.array_names) else ""


def _key(*cols) -> tuple[np.ndarray, int]:
    """One int64 per row of ``cols`` (non-negative ints) that sorts like the row, and its span."""
    key = np.zeros(len(cols[0]), np.int64)
    span = 1
    for c in cols:
        c = np.asarray(c, np.int64)
        top = int(c.max(initial=0)) + 1
        if span * top >= 2**62:  # compact before the key overflows
            key = _dense(key)
            span = int(key.max(initial=0)) + 1
        key = key * top + c
        span *= top
    return key, span


def _dense(*cols) -> np.ndarray:
    """One dense int64 id per distinct row of ``cols`` (non-negative ints), in sorted row order."""
    key = _key(*cols)[0] if len(cols) > 1 else np.asarray(cols[0], np.int64)
    return np.unique(key, return_inverse=True)[1].reshape(-1).astype(np.int64)


def _sorted_groups(key: np.ndarray):
    """Stable order of ``key`` and, in that order, where each run of equal keys starts (a mask)."""
    order = np.argsort(key, kind="stable")
    k = key[order]
    start = np.ones(len(k), bool)
    start[1:] = k[1:] != k[:-1]
    return order, start


def _fold(lines, arrays, build) -> list[Finding]:
    """One finding per (line, array) of the occurrences ``lines``/``arrays`` (in order), with their count.

    ``build(k)`` makes the finding of occurrence ``k``; the first occurrence of a
    (line, array) gives the finding, the next ones add their block/thread pairs
    up to :data:`MAX_WHERE`.
    """
    lines = np.asarray(lines, np.int64)
    arrays = np.asarray(arrays, np.int64)
    if not len(lines):
        return []
    key = _dense(lines + 1, arrays + 1)
    order = np.argsort(key, kind="stable")
    start = np.ones(len(order), bool)
    start[1:] = key[order][1:] != key[order][:-1]
    starts = np.flatnonzero(start)
    counts = np.diff(np.append(starts, len(order)))
    out = []
    for s0, count in zip(starts.tolist(), counts.tolist()):
        first = build(int(order[s0]))
        where = list(first.where)
        for k in order[s0 + 1: s0 + count].tolist():
            if len(where) >= MAX_WHERE:
                break
            for w in build(k).where:
                if w not in where and len(where) < MAX_WHERE:
                    where.append(w)
        out.append(Finding(first.kind, first.line, first.array, first.index, tuple(where), first.message, count))
    return out


# -- the checks -------------------------------------------------------------------------------


_VERB = {OP_READ: "reads", OP_WRITE: "writes", OP_ATOMIC: "atomically updates"}


def _race_groups(ev: _Events, sel: np.ndarray, group_cols, ident: np.ndarray):
    """Racing groups among the events ``sel``, grouped by ``group_cols``; ``ident`` tells parties apart.

    Returns the anchor and partner event of each racing group and a function
    giving up to ``k`` events of distinct parties of racing group ``j``.
    """
    none = (np.zeros(0, np.int64), np.zeros(0, np.int64), lambda j, k: [])
    idx = np.flatnonzero(sel)
    if len(idx) < 2:
        return none
    who = ident[idx]
    # one sort by (group, party), stable: within a party, trace order
    gkey, _ = _key(*(c[idx] for c in group_cols))
    wspan = int(who.max(initial=0)) + 1
    if int(gkey.max(initial=0)) >= 2**62 // wspan:
        gkey = _dense(gkey)
    order, new_party = _sorted_groups(gkey * wspan + who)
    gk = gkey[order]
    who, idx = who[order], idx[order]
    op = ev.tr.op[idx]
    m = len(idx)
    start = np.ones(m, bool)
    start[1:] = gk[1:] != gk[:-1]
    starts = np.flatnonzero(start)
    parties = np.add.reduceat(new_party.astype(np.int64), starts)
    write, atomic, read = op == OP_WRITE, op == OP_ATOMIC, op == OP_READ
    has_w = np.logical_or.reduceat(write, starts)
    has_a = np.logical_or.reduceat(atomic, starts)
    has_r = np.logical_or.reduceat(read, starts)
    racing = (parties >= 2) & (has_w | (has_a & has_r))
    if not racing.any():
        return none
    # the anchor: the group's first plain write in trace order, else its first atomic
    trace_pos = idx
    big = np.iinfo(np.int64).max
    first_w = np.minimum.reduceat(np.where(write, trace_pos, big), starts)
    first_a = np.minimum.reduceat(np.where(atomic, trace_pos, big), starts)
    anchor = np.where(has_w, first_w, first_a)
    anchor_who = ident[np.clip(anchor, 0, len(ident) - 1)]
    group_of = np.cumsum(start) - 1
    anchor_is_write = has_w[group_of]
    other = who != anchor_who[group_of]
    conflicts = other & (anchor_is_write | read)
    partner = np.minimum.reduceat(np.where(conflicts, trace_pos, big), starts)
    # only atomics and reads, and the anchor's party has no reader to pair with: pair a reader with an atomic
    lonely = racing & (partner == big)
    if lonely.any():
        first_r = np.minimum.reduceat(np.where(read, trace_pos, big), starts)
        reader_who = ident[np.clip(first_r, 0, len(ident) - 1)]
        other_atomic = atomic & (who != reader_who[group_of])
        alt = np.minimum.reduceat(np.where(other_atomic, trace_pos, big), starts)
        anchor = np.where(lonely, alt, anchor)
        partner = np.where(lonely, first_r, partner)
    keep = np.flatnonzero(racing & (anchor != big) & (partner != big))
    ends = np.append(starts[1:], m)

    def members(j, k):
        g = keep[j]
        lo, hi = int(starts[g]), int(ends[g])
        first_of_party = np.flatnonzero(new_party[lo:hi])[:k]
        return idx[lo + first_of_party].tolist()

    return anchor[keep], partner[keep], members


def _race_findings(ev: _Events) -> list[Finding]:
    tr = ev.tr
    elem = ev.element
    shared = elem & (tr.space == SPACE_SHARED)
    glob = elem & (tr.space == SPACE_GLOBAL)
    epoch = tr.epoch.astype(np.int64)
    arr = tr.array.astype(np.int64)
    a1, p1, m1 = _race_groups(ev, shared, (arr, ev.lin, ev.block_lin, epoch), ev.tid)
    # global, across blocks: at any time
    a2b, p2b, m2b = _race_groups(ev, glob, (arr, ev.lin), ev.block_lin)
    # global, within a block: in the same epoch; an element racing across blocks is reported once
    a3, p3, m3 = _race_groups(ev, glob, (arr, ev.lin, ev.block_lin, epoch), ev.tid)
    j3 = np.arange(len(a3))
    if len(a2b) and len(a3):
        elem_key = arr * (int(ev.lin.max()) + 1) + ev.lin
        j3 = np.flatnonzero(~np.isin(elem_key[a3], elem_key[a2b]))
    sources = [(a1, p1, m1, np.arange(len(a1)), False), (a2b, p2b, m2b, np.arange(len(a2b)), True),
               (a3, p3, m3, j3, False)]
    anchor = np.concatenate([a[j] for a, _, _, j, _ in sources]).astype(np.int64)
    partner = np.concatenate([p[j] for _, p, _, j, _ in sources]).astype(np.int64)
    cross = np.concatenate([np.full(len(j), c) for _, _, _, j, c in sources]).astype(bool)
    source = np.concatenate([np.full(len(j), n) for n, (_, _, _, j, _) in enumerate(sources)]).astype(np.int64)
    group = np.concatenate([j for _, _, _, j, _ in sources]).astype(np.int64)
    order = np.argsort(anchor, kind="stable")
    anchor, partner, cross, source, group = anchor[order], partner[order], cross[order], source[order], group[order]

    def build(k):
        x, y = int(anchor[k]), int(partner[k])
        name = ev.name(x)
        space = "shared" if tr.space[x] == SPACE_SHARED else "global"
        bx, tx = ev.where(x)
        by, ty = ev.where(y)
        ordered = ("they are in different blocks, and nothing orders blocks" if cross[k] else
                   "in the same barrier epoch (no syncthreads() between them)")
        first = f"thread {_fmt(tx)} of block {_fmt(bx)}"
        second = f"thread {_fmt(ty)}" + (f" of block {_fmt(by)}" if by != bx else "")
        msg = (f"race on {space} {name}{_elem(ev.index_of(x))}: {first} {_VERB[int(tr.op[x])]} it at line "
               f"{int(tr.line[x])} and {second} {_VERB[int(tr.op[y])]} it at line {int(tr.line[y])}, {ordered}")
        where = [(bx, tx), (by, ty)]
        members = sources[int(source[k])][2]
        for i in members(int(group[k]), MAX_WHERE + 2):
            w = ev.where(int(i))
            if w not in where and len(where) < MAX_WHERE:
                where.append(w)
        return Finding("race", int(tr.line[x]), name, ev.index_of(x), tuple(where), msg)

    return _fold(tr.line[anchor], tr.array[anchor], build)


def _oob_findings(ev: _Events) -> list[Finding]:
    tr = ev.tr
    idx = np.flatnonzero(ev.oob)

    def build(k):
        i = int(idx[k])
        name = ev.name(i)
        shape = tr.shape_of(int(tr.array[i])) or ()
        where = ev.index_of(i)
        space = "shared" if tr.space[i] == SPACE_SHARED else "global"
        neg = any(v < 0 for v in where)
        why = (" (a negative index: the simulator wraps it around as NumPy does, a GPU touches memory outside "
               "the array)" if neg else "")
        b, t = ev.where(i)
        msg = (f"out of bounds: thread {_fmt(t)} of block {_fmt(b)} {_VERB.get(int(tr.op[i]), 'touches')} "
               f"{space} {name}{_elem(where)} at line {int(tr.line[i])}, outside its shape {_fmt(shape)}{why}")
        return Finding("out_of_bounds", int(tr.line[i]), name, where, ((b, t),), msg)

    return _fold(tr.line[idx], tr.array[idx], build)


def _uninit_findings(ev: _Events) -> list[Finding]:
    tr = ev.tr
    idx = np.flatnonzero(ev.element & (tr.space == SPACE_SHARED))
    if not len(idx):
        return []
    if not ((tr.op[idx] == OP_READ) | (tr.op[idx] == OP_ATOMIC)).any():
        return []
    # one sort by (array, element, block, thread): the element's group and the thread's group are runs
    gkey, _ = _key(tr.array[idx], ev.lin[idx], ev.block_lin[idx])
    tspan = int(ev.thread_lin.max(initial=0)) + 1
    if int(gkey.max(initial=0)) >= 2**62 // tspan:
        gkey = _dense(gkey)
    order, new_gt = _sorted_groups(gkey * tspan + ev.thread_lin[idx])
    idx = idx[order]
    gk = gkey[order]
    new_g = np.ones(len(idx), bool)
    new_g[1:] = gk[1:] != gk[:-1]
    g = np.cumsum(new_g) - 1
    gt = np.cumsum(new_gt) - 1
    op = tr.op[idx]
    writes = (op == OP_WRITE) | (op == OP_ATOMIC)
    reads = (op == OP_READ) | (op == OP_ATOMIC)
    epoch = tr.epoch[idx].astype(np.int64)
    seq = tr.seq[idx].astype(np.int64)
    big = np.iinfo(np.int64).max
    first_write_epoch = np.minimum.reduceat(np.where(writes, epoch, big), np.flatnonzero(new_g))
    own_first = np.minimum.reduceat(np.where(writes, seq, big), np.flatnonzero(new_gt))
    bad = reads & ~(first_write_epoch[g] < epoch) & ~(own_first[gt] < seq)
    written_now = first_write_epoch[g] <= epoch  # written, but only in this epoch (by another thread)
    hits = np.flatnonzero(bad)
    rows = idx[hits]

    def build(k):
        i = int(rows[k])
        name = ev.name(i)
        b, t = ev.where(i)
        why = ("another thread of the block writes it in the same barrier epoch, with no syncthreads() between"
               if written_now[hits[k]] else
               "no thread of its block wrote it before (the simulator shows what the previous block left there; "
               "a GPU, whatever the memory held)")
        msg = (f"uninitialized shared read: thread {_fmt(t)} of block {_fmt(b)} reads {name}{_elem(ev.index_of(i))} "
               f"at line {int(tr.line[i])}, but {why}")
        return Finding("uninitialized", int(tr.line[i]), name, ev.index_of(i), ((b, t),), msg)

    return _fold(tr.line[rows], tr.array[rows], build)


def _barrier_findings(ev: _Events, skip_blocks=()) -> list[Finding]:
    tr = ev.tr
    bar = np.flatnonzero(tr.op == OP_BARRIER)
    if not len(bar):
        return []
    size = ev.blockdim.size
    blk = ev.block_lin[bar]
    k = tr.epoch[bar].astype(np.int64)
    line = tr.line[bar].astype(np.int64)
    g = _dense(blk, k)
    order = np.argsort(g, kind="stable")
    g, blk, k, line, bar_s = g[order], blk[order], k[order], line[order], bar[order]
    start = np.ones(len(g), bool)
    start[1:] = g[1:] != g[:-1]
    starts = np.flatnonzero(start)
    count = np.diff(np.append(starts, len(g)))
    lo = np.minimum.reduceat(line, starts)
    hi = np.maximum.reduceat(line, starts)
    bad = (count < size) | (lo != hi)
    if len(skip_blocks):
        bad &= ~np.isin(blk[starts], np.asarray(list(skip_blocks), np.int64))
    groups = np.flatnonzero(bad)

    def build(q):
        j = int(groups[q])
        s0, e0 = int(starts[j]), int(starts[j]) + int(count[j])
        events = bar_s[s0:e0]
        b, _ = ev.where(int(events[0]))
        lines = sorted({int(v) for v in tr.line[events]})
        reached = {int(ev.thread_lin[i]) for i in events}
        where = [ev.where(int(i)) for i in events[: MAX_WHERE // 2]]
        bd = ev.blockdim
        missing = [t for t in range(size) if t not in reached]
        for t in missing[: MAX_WHERE - len(where)]:
            where.append((b, (t % bd.x, (t // bd.x) % bd.y, t // (bd.x * bd.y))))
        nth = int(k[s0]) + 1
        if len(lines) > 1:
            msg = (f"barrier divergence in block {_fmt(b)}: at their barrier number {nth} its threads wait at "
                   f"different lines ({', '.join(map(str, lines))}); every thread of a block must reach the same "
                   f"syncthreads() calls")
        else:
            msg = (f"barrier divergence in block {_fmt(b)}: {len(reached)} of its {size} threads reach the "
                   f"syncthreads() at line {lines[0]} (their barrier number {nth}), the other {len(missing)} do "
                   f"not; on a GPU the block may hang, or go on before its threads are done")
        return Finding("barrier_divergence", int(lo[j]), None, None, tuple(where), msg)

    return _fold(lo[groups], np.full(len(groups), -1), build)


def _constraint_findings(ev: _Events, c: Constraints) -> list[Finding]:
    tr = ev.tr
    found = []
    glob = (tr.space == SPACE_GLOBAL) & (tr.op != OP_BARRIER)
    checks = []
    if c.max_global_reads is not None:
        checks.append(("reads", glob & ((tr.op == OP_READ) | (tr.op == OP_ATOMIC)), c.max_global_reads))
    if c.max_global_writes is not None:
        checks.append(("writes", glob & ((tr.op == OP_WRITE) | (tr.op == OP_ATOMIC)), c.max_global_writes))
    for what, sel, limit in checks:
        idx = np.flatnonzero(sel)
        if not len(idx):
            continue
        tid = ev.tid[idx]
        # the (limit+1)-th such event of each thread (a canonical trace is in thread order)
        start = np.ones(len(idx), bool)
        start[1:] = tid[1:] != tid[:-1]
        first = np.maximum.accumulate(np.where(start, np.arange(len(idx)), 0))
        over = idx[(np.arange(len(idx)) - first) == limit]
        if not len(over):
            continue
        worst = int(np.diff(np.append(np.flatnonzero(start), len(idx))).max())

        def build(k, what=what, limit=limit, worst=worst, over=over):
            i = int(over[k])
            b, t = ev.where(i)
            msg = (f"constraint: thread {_fmt(t)} of block {_fmt(b)} {what} global memory more than {limit} "
                   f"time{'s' if limit != 1 else ''} (once more at line {int(tr.line[i])}, {ev.name(i)}); the "
                   f"exercise allows {limit} per thread (the most any thread does: {worst})")
            return Finding("constraint", int(tr.line[i]), ev.name(i), ev.index_of(i), ((b, t),), msg)

        found += _fold(tr.line[over], tr.array[over], build)
    if c.require_shared and not (tr.space == SPACE_SHARED).any():
        found.append(Finding("constraint", None, None, None, (), "constraint: the exercise requires shared memory "
                             "(cuda.shared.array), and the kernel never reads or writes any"))
    if c.no_atomics:
        atom = np.flatnonzero(tr.op == OP_ATOMIC)

        def build_atomic(k):
            i = int(atom[k])
            b, t = ev.where(i)
            return Finding("constraint", int(tr.line[i]), ev.name(i), ev.index_of(i), ((b, t),),
                           f"constraint: the exercise allows no atomics, and line {int(tr.line[i])} uses "
                           f"cuda.atomic on {ev.name(i)}")

        found += _fold(tr.line[atom], tr.array[atom], build_atomic)
    return found


def check_trace(trace: Trace, constraints: Constraints | None = None, errors=()) -> list[Finding]:
    """The findings a trace shows by itself: races, out-of-bounds, uninitialized reads, divergent barriers, limits.

    ``errors`` are the run's thread exceptions (dicts with ``block``, ``thread``,
    ``type``; see :func:`exception_findings`): the blocks they ended early are
    not checked for barrier divergence (their other threads were stopped).
    """
    tr = trace.canonical()
    ev = _Events(tr)
    found = []
    if len(tr):
        found += _oob_findings(ev)
        found += _race_findings(ev)
        found += _uninit_findings(ev)
        g = ev.grid
        skip = [b[0] + g.x * (b[1] + g.y * b[2]) for b in (e["block"] for e in errors)]
        found += _barrier_findings(ev, skip)
    if constraints is not None:
        found += _constraint_findings(ev, constraints)
    return found


def exception_findings(errors, trace: Trace | None = None) -> list[Finding]:
    """Findings for threads that raised (dicts: ``block``, ``thread``, ``type``, ``message``, ``line``).

    An ``IndexError`` of a thread whose trace shows an out-of-bounds access is
    already an ``out_of_bounds`` finding and is not reported twice.
    """
    covered = set()
    if trace is not None and len(trace):
        ev = _Events(trace.canonical())
        covered = {ev.where(int(i)) for i in np.flatnonzero(ev.oob)}
    kept = []
    for e in errors:
        b, t = tuple(int(v) for v in e["block"]), tuple(int(v) for v in e["thread"])
        if e.get("type") == "IndexError" and (b, t) in covered:
            continue
        line = e.get("line")
        kept.append((b, t, e, None if line in (None, -1) else int(line)))

    def build(k):
        b, t, e, line = kept[k]
        text = f"{e['type']}: {e['message']}" if e.get("message") else e["type"]
        at = f" at line {line}" if line is not None else ""
        return Finding("exception", line, None, None, ((b, t),),
                       f"exception: thread {_fmt(t)} of block {_fmt(b)} raised {text}{at}")

    return _fold([-1 if k[3] is None else k[3] for k in kept], np.full(len(kept), -1), build)


def timeout_finding(stopped: dict) -> Finding:
    """The finding of a launch that was stopped (``reason`` ``time`` or ``events``).

    ``stopped``: ``seconds``, ``reason``, ``events`` (logged when stopped) and
    ``threads``: ``{"block", "thread", "line", "waiting"}`` for the threads
    still running then (``waiting``: at a barrier).
    """
    threads = stopped.get("threads") or []
    running = [t for t in threads if not t.get("waiting")] or threads
    lines = Counter(t["line"] for t in running if t.get("line") not in (None, -1))
    line = lines.most_common(1)[0][0] if lines else None
    on_line = [t for t in running if t.get("line") == line] if line is not None else running
    where = tuple((tuple(t["block"]), tuple(t["thread"])) for t in on_line[:MAX_WHERE])
    if stopped.get("reason") == "events":
        head = (f"timeout: the kernel made more than {stopped.get('limit', 0):,} memory accesses without finishing "
                f"(an endless loop?) and was stopped")
    else:
        head = (f"timeout: the kernel did not finish within {stopped.get('seconds', 0):g} s "
                f"(an endless loop?) and was stopped")
    if line is not None:
        others = "" if len(lines) == 1 else f" (others at line{'s' if len(lines) > 2 else ''} " + \
            ", ".join(str(v) for v in sorted(lines) if v != line) + ")"
        head += f"; {len(on_line)} of the {len(threads)} running threads were at line {line}{others}"
    return Finding("timeout", line, None, None, where, head, 1)


def compare_outputs(outputs: dict, expected: dict, rtol: float = 1e-4, atol: float = 1e-5) -> list[Finding]:
    """``wrong_result`` findings where ``outputs[name]`` differs from ``expected[name]``.

    Integers compare exactly, floats within ``rtol``/``atol``; an expectation of
    another shape is broadcast to the output's shape when NumPy can.
    """
    found = []
    for name, want in expected.items():
        got = np.asarray(outputs[name])
        want = np.asarray(want)
        if want.shape != got.shape:
            try:
                want = np.broadcast_to(want, got.shape)
            except ValueError:
                found.append(Finding("wrong_result", None, name, None, (), (
                    f"wrong result: {name} has shape {_fmt(got.shape)} but the expectation has shape "
                    f"{_fmt(want.shape)}")))
                continue
        if got.dtype.kind in "iub" and want.dtype.kind in "iub":
            diff = got != want
        else:
            g, w = got.astype(np.float64), want.astype(np.float64)
            diff = ~np.isclose(g, w, rtol=rtol, atol=atol, equal_nan=True)
        if not diff.any():
            continue
        where = np.argwhere(diff)
        first = tuple(int(v) for v in where[0])
        samples = ", ".join(f"{_elem(w)}: {_num(got[tuple(w)])} instead of {_num(want[tuple(w)])}"
                            for w in where[:3])
        found.append(Finding("wrong_result", None, name, first, (), (
            f"wrong result: {name} differs from the expectation at {int(diff.sum()):,} of {diff.size:,} "
            f"elements; first {samples}"), 1))
    return found


def make_report(findings) -> Report:
    """Findings in report order (kind, then line), at most :data:`MAX_FINDINGS`, one per (kind, line, array)."""
    rank = {k: i for i, k in enumerate(KINDS)}
    seen, unique = set(), []
    for f in findings:
        key = (f.kind, f.line, f.array)
        if key not in seen:
            seen.add(key)
            unique.append(f)
    unique.sort(key=lambda f: (rank.get(f.kind, len(KINDS)), -1 if f.line is None else f.line, f.array or ""))
    return Report(unique[:MAX_FINDINGS], max(0, len(unique) - MAX_FINDINGS))
