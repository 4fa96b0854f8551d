"""The checker on hand-made traces: each kind of finding by its definition, and its clean twin (no engine)."""

import numpy as np
import pytest

from gpuviz.model.kernel.checker import (
    KINDS,
    MAX_FINDINGS,
    Constraints,
    Finding,
    check_trace,
    compare_outputs,
    exception_findings,
    make_report,
    timeout_finding,
)
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

R, W, A, B = OP_READ, OP_WRITE, OP_ATOMIC, OP_BARRIER


def make_trace(events, shapes, block=(4, 1, 1), grid=(2, 1, 1)):
    """events: (block_x, thread_x, op, array name or None, index tuple, line); seq and epoch follow per thread."""
    names = sorted(shapes)
    per_thread = {}
    for bx, tx, op, name, idx, line in events:
        per_thread.setdefault((bx, tx), []).append((op, name, idx, line))
    logs, index, dims = [], [], []
    for (bx, tx), evs in sorted(per_thread.items()):
        log, epoch = [], 0
        for seq, (op, name, idx, line) in enumerate(evs):
            if op == B:
                log.append((seq, epoch, op, SPACE_NONE, NO_ARRAY, -1, -1, line))
                epoch += 1
                index.append((0, 0, 0))
                dims.append(0)
                continue
            space = SPACE_SHARED if name.startswith("s") else SPACE_GLOBAL
            row, col = (0, idx[0]) if len(idx) == 1 else (idx[0], idx[-1])
            log.append((seq, epoch, op, space, names.index(name), row, col, line))
            index.append(tuple(idx) + (0,) * (3 - len(idx)))
            dims.append(len(idx))
        logs.append(((bx, 0, 0), (tx, 0, 0), log))
    tr = Trace.from_logs(logs, names, block, {"block": list(block), "grid": list(grid)})
    # from_logs keeps the logs' order, which is canonical here
    tr.index = np.array(index, np.int32).reshape(-1, 3)
    tr.dims = np.array(dims, np.uint8)
    tr.array_shapes = tuple(shapes[n] for n in names)
    return tr


def kinds(findings):
    return sorted({f.kind for f in findings})


# -- race -----------------------------------------------------------------------------------------


def test_shared_race_same_epoch_and_its_barrier_twin():
    shapes = {"s": (4,)}
    racy = make_trace([(0, 0, W, "s", (1,), 5), (0, 1, W, "s", (0,), 5), (0, 1, R, "s", (1,), 6),
                       (0, 0, R, "s", (0,), 6)], shapes)
    found = check_trace(racy)
    races = [f for f in found if f.kind == "race"]
    assert len(races) == 1
    r = races[0]
    assert (r.line, r.array, r.count) == (5, "s", 2)
    assert set(r.where) >= {((0, 0, 0), (0, 0, 0)), ((0, 0, 0), (1, 0, 0))}
    assert "line 5" in r.message and "line 6" in r.message
    fixed = make_trace([(0, 0, W, "s", (1,), 5), (0, 0, B, None, (), 7), (0, 0, R, "s", (0,), 8),
                        (0, 1, W, "s", (0,), 5), (0, 1, B, None, (), 7), (0, 1, R, "s", (1,), 8)], shapes,
                       block=(2, 1, 1), grid=(1, 1, 1))
    assert check_trace(fixed) == []


def test_shared_memory_of_different_blocks_never_races():
    shapes = {"s": (4,)}
    tr = make_trace([(0, 0, W, "s", (0,), 5), (1, 0, W, "s", (0,), 5)], shapes, block=(1, 1, 1))
    assert kinds(check_trace(tr)) == []


def test_global_race_across_blocks_at_any_epoch():
    shapes = {"out": (1,)}
    tr = make_trace([(0, 0, W, "out", (0,), 3), (1, 0, B, None, (), 4), (1, 0, R, "out", (0,), 5)], shapes,
                    block=(1, 1, 1))
    races = [f for f in check_trace(tr) if f.kind == "race"]
    assert len(races) == 1 and "different blocks" in races[0].message
    assert set(races[0].where) == {((0, 0, 0), (0, 0, 0)), ((1, 0, 0), (0, 0, 0))}


def test_global_within_a_block_needs_the_same_epoch():
    shapes = {"g": (2,)}
    ordered = make_trace([(0, 0, W, "g", (0,), 3), (0, 0, B, None, (), 4),
                          (0, 1, B, None, (), 4), (0, 1, R, "g", (0,), 5)], shapes, block=(2, 1, 1), grid=(1, 1, 1))
    assert check_trace(ordered) == []
    racy = make_trace([(0, 0, W, "g", (0,), 3), (0, 1, R, "g", (0,), 5)], shapes, block=(2, 1, 1),
                      grid=(1, 1, 1))
    assert kinds(check_trace(racy)) == ["race"]


def test_reads_alone_and_one_thread_alone_do_not_race():
    shapes = {"a": (4,)}
    tr = make_trace([(0, t, R, "a", (0,), 3) for t in range(4)] + [(1, 0, W, "a", (1,), 4), (1, 0, R, "a", (1,), 5)],
                    shapes)
    assert check_trace(tr) == []


def test_atomics_do_not_race_with_each_other_but_do_with_a_plain_read():
    shapes = {"out": (1,)}
    atomics = make_trace([(b, t, A, "out", (0,), 7) for b in range(2) for t in range(4)], shapes)
    assert check_trace(atomics) == []
    mixed = make_trace([(0, 0, A, "out", (0,), 7), (0, 1, R, "out", (0,), 8)], shapes)
    races = [f for f in check_trace(mixed) if f.kind == "race"]
    assert len(races) == 1 and "atomically" in races[0].message


# -- out of bounds and uninitialized ----------------------------------------------------------------


def test_out_of_bounds_negative_and_past_the_end():
    shapes = {"a": (4,), "m": (2, 3)}
    tr = make_trace([(0, 0, R, "a", (-1,), 9), (0, 1, R, "a", (0,), 9), (0, 2, W, "m", (1, 3), 10),
                     (0, 3, W, "m", (1, 2), 10)], shapes)
    oob = sorted((f for f in check_trace(tr) if f.kind == "out_of_bounds"), key=lambda f: f.line)
    assert [(f.line, f.array, f.index) for f in oob] == [(9, "a", (-1,)), (10, "m", (1, 3))]
    assert "negative" in oob[0].message and "negative" not in oob[1].message
    assert oob[0].where == (((0, 0, 0), (0, 0, 0)),)


def test_uninitialized_shared_read():
    shapes = {"s": (4,)}
    # thread 0 reads s[2], which only thread 2 writes, in the same epoch; s[3] nobody writes
    tr = make_trace([(0, 0, W, "s", (0,), 4), (0, 0, R, "s", (0,), 5), (0, 0, B, None, (), 6),
                     (0, 0, R, "s", (1,), 7), (0, 0, R, "s", (3,), 8),
                     (0, 1, W, "s", (1,), 4), (0, 1, B, None, (), 6)], shapes, block=(2, 1, 1), grid=(1, 1, 1))
    found = check_trace(tr)
    un = [f for f in found if f.kind == "uninitialized"]
    assert [(f.line, f.index) for f in un] == [(8, (3,))]  # own earlier write and an earlier epoch are fine
    assert "no thread of its block wrote it" in un[0].message


def test_atomic_on_unwritten_shared_memory_is_an_uninitialized_read():
    shapes = {"s": (1,)}
    tr = make_trace([(0, 0, A, "s", (0,), 4)], shapes, block=(1, 1, 1), grid=(1, 1, 1))
    assert kinds(check_trace(tr)) == ["uninitialized"]


# -- barriers, constraints ---------------------------------------------------------------------------


def test_barrier_divergence_missing_threads_and_different_lines():
    missing = make_trace([(0, 0, B, None, (), 12), (0, 1, B, None, (), 12)], {"a": (1,)}, block=(4, 1, 1),
                         grid=(1, 1, 1))
    (f,) = check_trace(missing)
    assert f.kind == "barrier_divergence" and f.line == 12 and "2 of its 4 threads" in f.message
    assert ((0, 0, 0), (3, 0, 0)) in f.where  # a thread that never got there is named too
    lines = make_trace([(0, 0, B, None, (), 12), (0, 1, B, None, (), 14)], {"a": (1,)}, block=(2, 1, 1),
                       grid=(1, 1, 1))
    (g,) = check_trace(lines)
    assert "12, 14" in g.message
    same = make_trace([(0, t, B, None, (), 12) for t in range(2)], {"a": (1,)}, block=(2, 1, 1), grid=(1, 1, 1))
    assert check_trace(same) == []


def test_constraints_are_counted_from_the_trace():
    shapes = {"a": (4,), "out": (4,)}
    tr = make_trace([(0, 0, R, "a", (0,), 3), (0, 0, R, "a", (1,), 4), (0, 0, W, "out", (0,), 5),
                     (0, 1, R, "a", (1,), 3), (0, 1, A, "out", (1,), 6)], shapes)
    assert check_trace(tr, Constraints(max_global_reads=2, max_global_writes=1)) == []
    found = check_trace(tr, Constraints(max_global_reads=1, require_shared=True, no_atomics=True))
    assert {f.kind for f in found} == {"constraint"}
    text = " ".join(f.message for f in found)
    assert "more than 1 time" in text and "shared memory" in text and "no atomics" in text
    reads = [f for f in found if "reads global" in f.message]
    assert reads[0].line == 4


# -- the run's findings, the report ------------------------------------------------------------------


def test_wrong_result_names_the_first_differing_index():
    out = np.arange(6, dtype=np.float32).reshape(2, 3)
    want = out.copy()
    assert compare_outputs({"out": out}, {"out": want}) == []
    want[1, 2] = 9
    (f,) = compare_outputs({"out": out}, {"out": want})
    assert f.kind == "wrong_result" and f.index == (1, 2) and "[1, 2]: 5 instead of 9" in f.message
    (g,) = compare_outputs({"out": out}, {"out": np.zeros(4)})
    assert "shape" in g.message
    assert compare_outputs({"out": np.full(3, 2.0)}, {"out": np.asarray(2.0)}) == []  # broadcast


def test_exceptions_an_out_of_bounds_index_error_is_reported_once():
    tr = make_trace([(0, 1, R, "a", (4,), 9)], {"a": (4,)})
    errors = [{"block": [0, 0, 0], "thread": [1, 0, 0], "type": "IndexError", "message": "index 4", "line": 9},
              {"block": [0, 0, 0], "thread": [2, 0, 0], "type": "ZeroDivisionError", "message": "", "line": 11}]
    (f,) = exception_findings(errors, tr)
    assert (f.kind, f.line, f.where) == ("exception", 11, (((0, 0, 0), (2, 0, 0)),))


def test_timeout_names_the_line_the_threads_were_on():
    threads = [{"block": [0, 0, 0], "thread": [t, 0, 0], "line": 10 if t else 11, "waiting": False}
               for t in range(4)]
    f = timeout_finding({"reason": "time", "seconds": 2.0, "threads": threads})
    assert f.kind == "timeout" and f.line == 10 and len(f.where) == 3 and "within 2 s" in f.message


def test_report_one_finding_per_kind_line_array_at_most_100():
    many = [Finding("race", line, "a", (0,), (), "m") for line in range(150)]
    rep = make_report(many + [Finding("race", 3, "a", (1,), (), "dup"), Finding("exception", 1, None, None)])
    assert len(rep.findings) == MAX_FINDINGS and rep.dropped == 51
    assert rep.findings[0].kind == "exception"  # the report's order is KINDS'
    assert not rep.ok and rep.to_dict()["ok"] is False
    assert set(KINDS) == {"race", "out_of_bounds", "uninitialized", "barrier_divergence", "wrong_result",
                          "exception", "timeout", "constraint"}


def test_finding_where_is_capped_at_eight():
    shapes = {"out": (1,)}
    tr = make_trace([(b, t, W, "out", (0,), 5) for b in range(8) for t in range(4)], shapes, grid=(8, 1, 1))
    (f,) = check_trace(tr)
    assert f.kind == "race" and len(f.where) == 8
    d = f.to_dict()
    assert set(d) == {"kind", "line", "array", "index", "where", "message", "count"}
    assert d["where"][0] == {"block": [0, 0, 0], "thread": [0, 0, 0]}


@pytest.mark.parametrize("n_threads", [64])
def test_checker_is_vectorized_on_a_large_trace(n_threads):
    # 64 blocks × 64 threads × 64 accesses ≈ 262k events: far under a second even on a busy machine
    rng = np.random.default_rng(0)
    events = []
    for b in range(64):
        for t in range(n_threads):
            for k in range(64):
                events.append((b, t, R if k % 2 else W, "s", (int(rng.integers(0, 64)),), 5 + k % 3))
    tr = make_trace(events, {"s": (64,)}, block=(n_threads, 1, 1), grid=(64, 1, 1))
    import time

    t0 = time.perf_counter()
    found = check_trace(tr)
    assert time.perf_counter() - t0 < 5  # noisy shared machine: the 1 s figure is scripts/bench_checker.py's
    assert "race" in kinds(found)
