"""MatmulScene: its numbers and cumulative reads against the vectorized trace, and its cost at 4096³."""

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gpuviz.model import Budget, MatmulProblem, derive_steps, launch_for
from gpuviz.model.frames import THREADS, Viewport, kernel_frame, kernel_shapes
from gpuviz.model.numbers import _launch_numbers
from gpuviz.model.scene import FOCUS, MatmulParams, MatmulScene, SceneError
from gpuviz.model.trace import OP_READ, OP_WRITE, SPACE_GLOBAL, SPACE_SHARED
from gpuviz.model.vectorized import vectorized_trace

BIG = dict(m=4096, n=4096, k=4096)


def traced(kernel, problem, block):
    tr = vectorized_trace(kernel, problem, block)
    return tr, derive_steps(tr), launch_for(kernel, problem, block)


def traced_step_counts(kernel, problem, block):
    """Per step: (active threads, warps with an active lane), counted from the trace."""
    tr, steps, launch = traced(kernel, problem, block)
    block_id = tr.block[:, 0].astype(np.int64) + launch.grid.x * tr.block[:, 1]
    thread_id = tr.thread[:, 0].astype(np.int64) + launch.block.x * tr.thread[:, 1]
    out = []
    for s in range(len(steps)):
        sel = steps.event_step == s
        threads = len(np.unique(block_id[sel] * launch.block.size + thread_id[sel]))
        warps = len(np.unique(block_id[sel] * 32 + tr.warp[sel]))
        out.append((threads, warps))
    return out, tr


# -- parameters, selection, view: the API the UI codes against ------------------------------


def test_refused_changes_name_their_field_and_leave_the_scene_as_it_was():
    scene = MatmulScene()
    seen = []
    scene.subscribe(lambda s, what: seen.append(what))
    for changes, field in [(dict(m=0), "m"), (dict(block=(64, 64)), "block"), (dict(block=(0, 8)), "block"),
                           (dict(block="8x8x2"), "block"), (dict(block=("a", 8)), "block"),
                           (dict(kernel="tiled", block=(32, 8)), "block"), (dict(kernel="fast"), "kernel"),
                           (dict(backend="tpu"), "backend"), (dict(seed=-1), "seed"), (dict(blocks=4), "blocks"),
                           (dict(m=200_000, n=200_000), "size")]:
        with pytest.raises(SceneError) as e:
            scene.configure(**changes)
        assert e.value.field == field, changes
    assert scene.params == MatmulParams() and seen == []
    scene.configure(block="16x4")
    assert scene.params.block == (16, 4) and seen == [{"params", "step", "selection"}]


@pytest.mark.parametrize("changes,field,words", [
    (dict(m=10**19), "m", "M = 100…000 (20 digits) is over the largest matrix side, 1,048,576"),
    (dict(n=2**20 + 1), "n", "N = 1,048,577 is over the largest matrix side"),
    (dict(k=-(10**4000)), "k", "(4,001 digits): every matrix size must be at least 1"),
    (dict(m="1" * 5000), "m", "at most 30 digits, got 5,000 characters"),
    (dict(block=(10**20, 1)), "block", "blockDim.x = 100…000 (21 digits) exceeds CUDA's limit of 1,024"),
    (dict(block="9" * 5000 + "x1"), "block", "cannot read 5,002 characters as a block"),
    # Dim3.parse reads at most 18 digits a side: a 25-digit side is unreadable, named with its value
    (dict(block="9" * 25 + "x1"), "block", "cannot read '" + "9" * 25 + "x1' as a dim3 (expected e.g. 8x8"),
    (dict(block="8²x1"), "block", "cannot read '8²x1' as a dim3 (expected e.g. 8x8 or 32x4x2)"),
    (dict(seed=2**32), "seed", "from 0 to 4,294,967,295, got 4,294,967,296"),
])
def test_absurd_values_are_one_short_line_at_their_field(changes, field, words):
    """A typed 20-digit (or 5,000-digit) value is refused at its own field in a line, never a traceback."""
    from gpuviz.model import limits

    scene = MatmulScene()
    with pytest.raises(SceneError) as e:
        scene.configure(**changes)
    assert e.value.field == field and words in str(e.value)
    assert "\n" not in str(e.value) and len(str(e.value)) < 120
    assert scene.params == MatmulParams()
    assert limits.MAX_MATRIX_SIDE == 2**20 and limits.SEED_MAX == 2**32 - 1  # the bounds the words quote
    # the bounds themselves are taken (a block tall enough for CUDA's 65,535 rows of blocks)
    scene.configure(m=limits.MAX_MATRIX_SIDE, n=1, k=1, block=(1, 32), seed=limits.SEED_MAX)
    assert scene.problem.m == 2**20


@settings(deadline=None, max_examples=150)
@given(field=st.sampled_from(["m", "n", "k", "block", "kernel", "backend", "seed", "names", "bias"]),
       text=st.one_of(st.text(max_size=40), st.from_regex(r"-?[0-9²³¹⁰٣８]{1,45}(x[0-9²]{1,45})?", fullmatch=True)))
def test_any_text_typed_into_a_field_is_taken_or_refused_at_that_field(field, text):
    """What the panel passes on from a field it cannot read as a number: never anything but a SceneError."""
    scene = MatmulScene()
    value = text if field not in ("names",) else [text, "B", "C"]
    try:
        scene.configure(**{field: value})
    except SceneError as e:
        assert e.field == field or e.field == "size", (field, text, e.field)
        assert "\n" not in str(e)
        if field not in ("kernel", "backend"):  # those two are chosen from a list, never typed
            assert len(str(e)) < 200, str(e)
        assert scene.params == MatmulParams()


def test_view_state_round_trips_and_selection_survives_what_it_can():
    scene = MatmulScene()
    scene.select_thread((1, 3), (5, 6))
    scene.set_focus("warp")
    scene.set_cumulative(True)
    scene.set_step(17)
    scene.set_compare_kernel("uncoalesced")
    state = scene.view_state()
    assert state == {"step": 17, "selected_block": [1, 3], "selected_thread": [5, 6], "focus": "warp",
                     "cumulative": True, "compare_kernel": "uncoalesced"}
    other = MatmulScene()
    other.apply_view_state(state)
    assert other.view_state() == state
    assert scene.element_of_selected() == (3 * 8 + 6, 1 * 8 + 5)
    scene.configure(m=8, n=8)  # the selected block is gone: back to (0, 0); the step is clamped
    assert scene.view_state()["selected_block"] == [0, 0] and scene.step == 17
    scene.configure(k=4)
    assert scene.step == 4


# -- numbers ---------------------------------------------------------------------------------


@settings(deadline=None, max_examples=40)
@given(kernel=st.sampled_from(["naive", "uncoalesced", "tiled"]),
       m=st.integers(1, 20), n=st.integers(1, 20), k=st.integers(1, 20),
       bx=st.integers(1, 12), by=st.integers(1, 12))
def test_numbers_equal_counting_the_trace(kernel, m, n, k, bx, by):
    block = (bx, bx) if kernel == "tiled" else (bx, by)
    problem = MatmulProblem(m, n, k)
    scene = MatmulScene(MatmulParams(kernel=kernel, m=m, n=n, k=k, block=block))
    per_step, tr = traced_step_counts(kernel, problem, block)
    for s, (threads, warps) in enumerate(per_step):
        sn = scene.step_numbers(s)
        assert (sn.active_threads, sn.active_warps) == (threads, warps), s
        assert sn.masked_lanes == 32 * warps - threads
        assert sn.inactive_threads == scene.launch.threads - threads
        assert sn.active_threads == scene.step_info(s).threads
    nb = scene.numbers()
    assert nb.active_lane_steps == sum(t for t, _ in per_step)
    assert nb.issued_lane_steps == 32 * sum(w for _, w in per_step)
    glob, shared = tr.space == SPACE_GLOBAL, tr.space == SPACE_SHARED
    read, write = tr.op == OP_READ, tr.op == OP_WRITE
    assert nb.global_loads == int((glob & read).sum()) == sum(scene.step_numbers(s).global_loads
                                                               for s in range(len(per_step)))
    assert nb.shared_loads == int((shared & read).sum())
    assert nb.global_stores == int((glob & write).sum()) == m * n
    assert nb.shared_stores == int((shared & write).sum())
    # launch facts against the launch model, and idle warps against the threads' own elements
    launch = scene.launch
    assert (nb.threads, nb.blocks, nb.warps, nb.warps_per_block) == (
        launch.threads, launch.blocks, launch.warps, launch.warps_per_block)
    assert nb.busy_threads == m * n == nb.threads - nb.idle_threads
    busy = scene.mapping.busy_mask().reshape(launch.blocks, launch.block.size)
    padded = np.zeros((launch.blocks, 32 * launch.warps_per_block), bool)
    padded[:, :launch.block.size] = busy
    assert nb.idle_warps == int((~padded.reshape(launch.blocks, -1, 32).any(axis=2)).sum())
    assert nb.flops == 2 * m * n * k
    assert nb.arithmetic_intensity == nb.flops / (4 * nb.global_loads)


def test_numbers_of_the_lecture_examples():
    n = MatmulScene().numbers()  # 32³, 8×8 blocks
    assert (n.grid, n.blocks, n.warps_per_block, n.warps, n.idle_threads) == ((4, 4), 16, 2, 32, 0)
    assert n.warp_efficiency == 1.0 and n.global_loads_per_element == 64 and n.shared_loads == 0
    assert n.arithmetic_intensity == 0.25  # 2 FLOPs per 8 bytes loaded
    wx = MatmulScene(MatmulParams(m=3, n=1, k=7, block=(8, 8)))
    assert (wx.numbers().busy_threads, wx.numbers().idle_threads, wx.numbers().idle_warps) == (3, 61, 1)
    step = wx.step_numbers(0)
    assert (step.active_threads, step.active_warps, step.masked_lanes) == (3, 1, 29)
    assert step.warp_efficiency == wx.numbers().warp_efficiency == 3 / 32
    tiled = MatmulScene(MatmulParams(kernel="tiled", m=64, n=64, k=64, block=(8, 8))).numbers()
    naive = MatmulScene(MatmulParams(kernel="naive", m=64, n=64, k=64, block=(8, 8))).numbers()
    assert naive.global_loads_per_element / tiled.global_loads_per_element == 8  # the tile size
    assert tiled.shared_loads_per_element == 2 * 64 and tiled.arithmetic_intensity == 2.0
    # a barrier step: everyone waits, nobody loads
    sync = MatmulScene(MatmulParams(kernel="tiled", m=10, n=10, k=10, block=(8, 8)))
    barrier = int(sync.barrier_steps()[0])
    sn = sync.step_numbers(barrier)
    assert sn.active_threads == sync.launch.threads and sn.global_loads == sn.shared_loads == 0


# -- frames and cumulative reads -------------------------------------------------------------


def focus_threads(scene):
    """The focus threads' (block id, thread id) for filtering trace events; None for all."""
    threads = scene.focus_threads()
    if threads is None:
        return None
    gx, gy = threads
    b = scene.launch.block
    return set(zip((gy // b.y * scene.launch.grid.x + gx // b.x).tolist(), ((gy % b.y) * b.x + gx % b.x).tolist()))


def trace_counts(scene, tr, steps, keep_step, viewports):
    """Reads and writes per array of the focus threads' events whose step passes ``keep_step``, binned."""
    launch = scene.launch
    block_id = (tr.block[:, 0].astype(np.int64) + launch.grid.x * tr.block[:, 1]).tolist()
    thread_id = (tr.thread[:, 0].astype(np.int64) + launch.block.x * tr.thread[:, 1]).tolist()
    chosen = focus_threads(scene)
    mine = np.array([chosen is None or (b, t) in chosen for b, t in zip(block_id, thread_id)], bool)
    mine &= keep_step(steps.event_step)
    out = {}
    for code, name in enumerate(tr.array_names):
        for op, label in ((OP_READ, "read"), (OP_WRITE, "write")):
            sel = mine & (tr.array == code) & (tr.op == op)
            out[name, label] = viewports[name].bin_points(tr.row[sel], tr.col[sel])
    return out


@pytest.mark.parametrize("kernel, m, n, k, block", [
    ("naive", 13, 21, 6, (8, 4)), ("uncoalesced", 13, 21, 6, (8, 4)), ("tiled", 13, 21, 11, (4, 4)),
    ("tiled", 9, 5, 7, (8, 8)), ("naive", 3, 1, 7, (8, 8)),
])
def test_focus_frames_and_cumulative_reads_equal_the_trace(kernel, m, n, k, block):
    problem = MatmulProblem(m, n, k)
    scene = MatmulScene(MatmulParams(kernel=kernel, m=m, n=n, k=k, block=block))
    tr, steps, launch = traced(kernel, problem, block)
    shapes = kernel_shapes(kernel, problem, block)
    coarse = {name: Viewport(0, rows, 0, cols, max(1, rows // 2), max(1, (cols + 1) // 2))
              for name, (rows, cols) in shapes.items()}
    g = launch.grid
    scene.select_thread((g.x - 1, g.y - 1), (0, 1 % launch.block.y))  # an edge block
    for focus in FOCUS:
        scene.set_focus(focus)
        for vps in (None, coarse):
            full = {name: Viewport.whole(shape) for name, shape in shapes.items()} if vps is None else vps
            for s in range(0, scene.n_steps, max(1, scene.n_steps // 9)):
                frame = scene.frame(vps, s)
                want = trace_counts(scene, tr, steps, lambda e, s=s: e == s, full)
                for name in shapes:
                    if name == THREADS:
                        continue
                    np.testing.assert_array_equal(frame.reads[name], want[name, "read"], err_msg=f"{focus} {s} {name}")
                    np.testing.assert_array_equal(frame.writes[name], want[name, "write"])
                assert not frame.difference(kernel_frame(kernel, problem, block, s, vps)) or focus != "all"
                np.testing.assert_array_equal(frame.active, kernel_frame(kernel, problem, block, s, vps).active)
                cumulative = scene.cumulative_reads(vps, s)
                want = trace_counts(scene, tr, steps, lambda e, s=s: e <= s, full)
                assert set(cumulative) == {"A", "B"}
                for name in ("A", "B"):
                    np.testing.assert_array_equal(cumulative[name], want[name, "read"], err_msg=f"{focus} {s} {name}")
                # and the sum of the step frames' reads
                summed = sum(scene.frame(vps, i).reads["A"] for i in range(s + 1))
                np.testing.assert_array_equal(cumulative["A"], summed)


@pytest.mark.parametrize("kernel, block", [("naive", (8, 8)), ("uncoalesced", (16, 4)), ("tiled", (8, 8))])
def test_at_the_last_step_each_element_was_read_n_times_or_once_per_block_column(kernel, block):
    m, n, k = 40, 24, 20
    scene = MatmulScene(MatmulParams(kernel=kernel, m=m, n=n, k=k, block=block))
    scene.set_focus("all")
    scene.set_step(scene.n_steps - 1)
    reads = scene.cumulative_reads()
    if kernel == "tiled":
        assert (reads["A"] == scene.launch.grid.x).all() and (reads["B"] == scene.launch.grid.y).all()
    else:
        assert (reads["A"] == n).all() and (reads["B"] == m).all()
    assert reads["A"].sum() + reads["B"].sum() == scene.numbers().global_loads
    first = scene.cumulative_reads(step=0)
    assert first["A"].sum() == (n * m if kernel != "tiled" else m * scene.launch.grid.x * 8)


# -- cost at 4096³ ------------------------------------------------------------------------------


def test_a_4096_cubed_scene_builds_steps_and_counts_without_walking_its_threads():
    budget = Budget(memory_bytes=4 * 2**30)
    timings = {}

    def timed(name, fn):
        start = time.perf_counter()
        out = fn()
        timings[name] = time.perf_counter() - start
        return out

    scene = timed("build", lambda: MatmulScene(MatmulParams(kernel="naive", block=(32, 32), **BIG), budget))
    pixels = {name: Viewport.whole(shape, 512, 512) for name, shape in scene.shapes().items()}
    for kernel, block in [("naive", (32, 32)), ("tiled", (32, 32)), ("uncoalesced", (16, 16))]:
        timed(f"configure {kernel}", lambda k=kernel, b=block: scene.configure(kernel=k, block=b))
        _launch_numbers.cache_clear()
        numbers = timed(f"numbers {kernel}", scene.numbers)
        assert numbers.flops == 2 * 4096**3 and numbers.busy_threads == 4096**2
        for step in (0, scene.n_steps // 2, scene.n_steps - 1):
            timed(f"set_step {kernel}", lambda s=step: scene.set_step(s))
            timed(f"step_numbers {kernel}", scene.step_numbers)
            for focus in FOCUS:
                scene.set_focus(focus)
                timed(f"frame {focus}", lambda: scene.frame(pixels))
                timed(f"cumulative {focus}", lambda: scene.cumulative_reads(pixels))
        timed(f"memory {kernel}", scene.memory_totals)
    scene.set_focus("all")
    scene.configure(kernel="tiled", block=(32, 32))
    scene.set_step(scene.n_steps - 1)
    assert (scene.cumulative_reads(pixels)["A"] == 128 * 8 * 8).all()  # gridDim.x reads × 8×8 elements a pixel
    slow = {name: round(t, 3) for name, t in timings.items() if t > 0.25}
    assert not slow, f"too slow at 4096³: {slow}"


def test_shared_tiles_are_computed_once_per_state_and_again_when_it_changes():
    scene = MatmulScene(MatmulParams(kernel="tiled", m=16, n=16, k=16, block=(8, 8)))
    scene.set_step(3)
    first = scene.shared_tiles()
    assert scene.shared_tiles() is first  # the operand views and the sA/sB tab share it
    scene.set_focus(next(f for f in FOCUS if f != scene.focus))
    again = scene.shared_tiles()
    assert again is not first and scene.shared_tiles(3) is again
    scene.set_step(4)
    assert scene.shared_tiles() is not again
