"""Shared-memory bank conflicts of every warp request in a trace.

Shared memory is 32 banks of 4-byte words: the word at byte address ``a`` is in
bank ``(a ÷ 4) mod 32``. A *request* is one shared-memory instruction of one
warp: the events of that warp's lanes in one timeline step (see
:class:`gpuviz.model.trace.Steps`) with the same operation and array. Its
*degree* is the most distinct words any one bank must serve; lanes that read
the same word share it (a broadcast, not a conflict). Degree 1 is conflict-free;
32 means the request is served one word at a time.

Everything is computed from the trace, so it holds for any kernel the recorder
records, given each array's row length and element size (:func:`array_layouts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..trace import OP_NAMES, OP_READ, OP_WRITE, SPACE_GLOBAL, SPACE_SHARED, Trace, derive_steps

BANKS = 32
BANK_BYTES = 4
SECTOR_BYTES = 32


#: The recorded transpose pair the app ships (``assets/gpus/traces/``), by ``padded``.
SHIPPED_TRANSPOSE_TRACES = {False: "transpose-32.npz", True: "transpose-32-padded.npz"}


def shipped_transpose_trace(padded: bool) -> Trace:
    """The transpose kernel's trace recorded in the simulator (one 32×8 block on a 32×32 matrix)."""
    from gpuviz.paths import asset_path

    return Trace.load(asset_path("gpus", "traces", SHIPPED_TRANSPOSE_TRACES[bool(padded)]))


class LayoutError(ValueError):
    """A trace array whose shape or element size is not known; one sentence."""


def array_layouts(trace: Trace) -> dict[str, tuple[int, int]]:
    """``{array: (row length in elements, element bytes)}`` for a trace's arrays.

    From ``meta["arrays"][name] = {"shape": [...], "itemsize": n}`` where the
    recorder wrote it; for the built-in matmul kernels (float32, A m×k, B k×n,
    C m×n, sA and sB TILE×TILE) from the sizes in ``meta``.
    """
    meta = trace.meta or {}
    out = {}
    # trace format 2 stores every array's shape; the element size comes from meta["array_itemsizes"]
    # where the recorder wrote it (3-D arrays would need the full index: not handled here)
    sizes = meta.get("array_itemsizes") or {}
    for name, shape in zip(trace.array_names, getattr(trace, "array_shapes", ()) or ()):
        if shape and len(shape) <= 2 and name in sizes:
            out[name] = (int(shape[-1]), int(sizes[name]))
    for name, info in (meta.get("arrays") or {}).items():
        shape = list(info.get("shape") or [])
        if shape:
            out[name] = (int(shape[-1]), int(info.get("itemsize", 4)))
    if meta.get("kernel") in ("naive", "uncoalesced", "tiled") and {"m", "n", "k"} <= meta.keys():
        out.setdefault("A", (int(meta["k"]), 4))
        out.setdefault("B", (int(meta["n"]), 4))
        out.setdefault("C", (int(meta["n"]), 4))
        tile = int((meta.get("block") or [0])[0])
        if meta["kernel"] == "tiled" and tile:
            out.setdefault("sA", (tile, 4))
            out.setdefault("sB", (tile, 4))
    return out


@dataclass(frozen=True)
class Requests:
    """Warp requests of a trace in one memory space: which events form each one.

    Parameters
    ----------
    event : ndarray of int64
        Indices (into the canonical trace) of the events taken, grouped by request.
    request : ndarray of int64
        Request number of each taken event (non-decreasing).
    first : ndarray of int64
        Index into ``event`` of each request's first event.
    """

    trace: Trace
    event: np.ndarray
    request: np.ndarray
    first: np.ndarray

    def __len__(self) -> int:
        return len(self.first)

    def field(self, name: str) -> np.ndarray:
        """A trace field per request (its first event's value)."""
        return getattr(self.trace, name)[self.event[self.first]]


def warp_requests(trace: Trace, space: int) -> Requests:
    """Group the read and write events of ``space`` into warp requests (see the module's docstring)."""
    tr = trace.canonical()
    steps = derive_steps(tr)
    idx = np.nonzero((tr.space == space) & ((tr.op == OP_READ) | (tr.op == OP_WRITE)))[0]
    if len(idx) == 0:
        z = np.zeros(0, np.int64)
        return Requests(tr, z, z, z)
    cols = [tr.block[idx, 2], tr.block[idx, 1], tr.block[idx, 0], tr.warp[idx], steps.event_step[idx],
            tr.op[idx], tr.array[idx]]
    order = np.lexsort(cols[::-1])
    sorted_cols = np.stack([c[order].astype(np.int64) for c in cols], axis=1)
    new = np.ones(len(idx), bool)
    new[1:] = (sorted_cols[1:] != sorted_cols[:-1]).any(axis=1)
    request = np.cumsum(new) - 1
    return Requests(tr, idx[order], request, np.nonzero(new)[0])


def _element_bytes(tr: Trace, events: np.ndarray, layouts: dict) -> tuple[np.ndarray, np.ndarray]:
    """Byte address (from the array's start) and element size of each event."""
    row_len = np.zeros(len(tr.array_names), np.int64)
    size = np.zeros(len(tr.array_names), np.int64)
    used = np.unique(tr.array[events])
    for code in used:
        name = tr.array_names[code]
        if name not in layouts:
            raise LayoutError(f"the trace does not say the shape and element size of array {name!r}: "
                              f"pass its layout")
        row_len[code], size[code] = layouts[name]
    codes = tr.array[events]
    elem = tr.row[events].astype(np.int64) * row_len[codes] + tr.col[events]
    return elem * size[codes], size[codes]


@dataclass(frozen=True)
class BankConflicts:
    """Every shared-memory request of a trace with its conflict degree.

    Parameters
    ----------
    requests : Requests
        Which events form each request.
    degree : ndarray of int64
        Per request: the most distinct 4-byte words one bank serves (1 = no conflict).
    lanes : ndarray of int64
        Per request: active lanes.
    words, banks : ndarray of int64
        Per taken event (aligned with ``requests.event``): first word and its bank.
    """

    requests: Requests
    degree: np.ndarray
    lanes: np.ndarray
    words: np.ndarray
    banks: np.ndarray

    def __len__(self) -> int:
        return len(self.degree)

    @property
    def max_degree(self) -> int:
        return int(self.degree.max()) if len(self.degree) else 0

    @property
    def wavefronts(self) -> int:
        """Sum of the degrees: shared-memory passes the requests cost (equal to the requests when none conflict)."""
        return int(self.degree.sum())

    def summary(self) -> list[dict]:
        """Per (array, operation, source line): requests, worst and mean degree, extra passes."""
        r = self.requests
        tr = r.trace
        keys = np.stack([r.field("array").astype(np.int64), r.field("op").astype(np.int64),
                         r.field("line").astype(np.int64)], axis=1)
        out = []
        for key in np.unique(keys, axis=0):
            sel = (keys == key).all(axis=1)
            d = self.degree[sel]
            out.append({"array": tr.array_names[key[0]], "op": OP_NAMES[key[1]], "line": int(key[2]),
                        "requests": int(sel.sum()), "max_degree": int(d.max()), "mean_degree": float(d.mean()),
                        "extra_passes": int((d - 1).sum())})
        return out

    def request(self, i: int) -> dict:
        """One request in full: its lanes, the word each lane touches, the bank, and the degree."""
        r = self.requests
        lo = r.first[i]
        hi = r.first[i + 1] if i + 1 < len(r.first) else len(r.event)
        ev = r.event[lo:hi]
        tr = r.trace
        words, banks = self.words[lo:hi], self.banks[lo:hi]
        # distinct words per bank: lanes on one word are a broadcast and count once
        per_bank = np.bincount(np.unique(words) % BANKS, minlength=BANKS)
        return {"block": tr.block[ev[0]].tolist(), "warp": int(tr.warp[ev[0]]), "op": OP_NAMES[tr.op[ev[0]]],
                "array": tr.array_names[tr.array[ev[0]]], "line": int(tr.line[ev[0]]),
                "lanes": tr.lane[ev].tolist(), "elements": list(zip(tr.row[ev].tolist(), tr.col[ev].tolist())),
                "words": words.tolist(), "banks": banks.tolist(), "words_per_bank": per_bank.tolist(),
                "distinct_words": int(len(np.unique(words))), "degree": int(self.degree[i])}

    @cached_property
    def _request_steps(self) -> np.ndarray:
        r = self.requests
        return derive_steps(r.trace).event_step[r.event[r.first]]

    def at(self, block, warp: int, step: int) -> list[dict]:
        """The requests of warp ``warp`` of block ``block`` (x, y[, z]) in timeline step ``step``, in full.

        Steps are :func:`~gpuviz.model.trace.derive_steps`' of the trace; an empty list where that warp
        makes no shared-memory request in the step.
        """
        r = self.requests
        if not len(r):
            return []
        tr = r.trace
        b = tuple(int(v) for v in block) + (0,) * (3 - len(block))
        event_step = self._request_steps
        first_block = tr.block[r.event[r.first]]
        hit = ((first_block == np.array(b)).all(axis=1) & (r.field("warp") == warp) & (event_step == step))
        return [self.request(int(i)) for i in np.nonzero(hit)[0]]


def bank_conflicts(trace: Trace, layouts: dict | None = None) -> BankConflicts:
    """The conflict degree of every shared-memory warp request of ``trace``.

    ``layouts`` maps array names to ``(row length, element bytes)``; by default
    :func:`array_layouts`. An element wider than 4 bytes touches several words,
    all counted in one pass (the hardware's split of such a request into
    half-warps is not modelled: every kernel here uses 4-byte floats).
    """
    layouts = array_layouts(trace) if layouts is None else layouts
    req = warp_requests(trace, SPACE_SHARED)
    tr = req.trace
    if len(req) == 0:
        z = np.zeros(0, np.int64)
        return BankConflicts(req, z, z, z, z)
    byte, size = _element_bytes(tr, req.event, layouts)
    first_word = byte // BANK_BYTES
    n_words = np.maximum(1, -(-(byte % BANK_BYTES + size) // BANK_BYTES))
    # one row per (event, word it touches)
    rep = np.repeat(np.arange(len(byte)), n_words)
    word = first_word[rep] + (np.arange(len(rep)) - np.repeat(np.cumsum(n_words) - n_words, n_words))
    reqid = req.request[rep]
    # distinct (request, word): a broadcast counts once
    pairs = np.unique(reqid * (int(word.max()) + 1) + word)
    p_req, p_word = np.divmod(pairs, int(word.max()) + 1)
    per_bank = np.unique(p_req * BANKS + p_word % BANKS, return_counts=True)
    degree = np.zeros(len(req), np.int64)
    np.maximum.at(degree, per_bank[0] // BANKS, per_bank[1])
    lanes = np.bincount(req.request, minlength=len(req)).astype(np.int64)
    return BankConflicts(req, degree, lanes, first_word, first_word % BANKS)


def global_sectors(trace: Trace, layouts: dict | None = None) -> dict[str, int]:
    """32-byte sectors per global array, summed over warp requests (no cache model: each request pays its own).

    Arrays are taken to start on a sector boundary, as :mod:`gpuviz.model.accesses` does.
    """
    layouts = array_layouts(trace) if layouts is None else layouts
    req = warp_requests(trace, SPACE_GLOBAL)
    tr = req.trace
    if len(req) == 0:
        return {}
    byte, size = _element_bytes(tr, req.event, layouts)
    codes = tr.array[req.event].astype(np.int64)
    first, last = byte // SECTOR_BYTES, (byte + size - 1) // SECTOR_BYTES
    # elements never straddle a sector here (4-byte floats): count the first; straddlers add their second
    span = int(max(last.max(), 1)) + 1
    keys = np.concatenate([req.request * span + first, (req.request * span + last)[last != first]])
    sector_codes = np.concatenate([codes, codes[last != first]])
    uniq, where = np.unique(keys, return_index=True)
    counts = np.bincount(sector_codes[where], minlength=len(tr.array_names))
    return {tr.array_names[c]: int(counts[c]) for c in range(len(tr.array_names)) if counts[c]}
