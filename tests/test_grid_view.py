"""The C-grid view's per-pixel model (gpuviz.model.grid_view), held against the launch model and the frames."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gpuviz.model.accesses import step_accesses
from gpuviz.model.frames import THREADS, Viewport, kernel_frame, kernel_steps
from gpuviz.model.grid_view import (
    AxisSampling,
    GridGeometry,
    active_fraction,
    block_colour_index,
    grid_layers,
    outline_segments,
)
from gpuviz.model.launch import thread_table
from gpuviz.model.matmul import MatmulProblem, mapping_for


def geometry(kernel, m, n, k, block):
    return GridGeometry(mapping_for(kernel, MatmulProblem(m, n, k), block))


def full(g: GridGeometry):
    rows, cols = g.shape
    return AxisSampling.of(0, rows, rows), AxisSampling.of(0, cols, cols)


# -- sampling ----------------------------------------------------------------------------------


def test_sampling_zoomed_in_has_one_bin_per_cell_and_samples_cell_centres():
    s = AxisSampling.of(10, 14, 8)  # 4 cells over 8 pixels
    assert s.bins == 4
    assert s.cell.tolist() == [10, 10, 11, 11, 12, 12, 13, 13]
    assert s.bin.tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert s.bin_cells().tolist() == [1, 1, 1, 1]


def test_sampling_zoomed_out_has_one_bin_per_pixel_matching_viewport_bins():
    s = AxisSampling.of(0, 4096, 700)
    assert s.bins == 700 and s.bin.tolist() == list(range(700))
    vp = Viewport(0, 4096, 0, 1, 700, 1)
    # the same partition as the frames' viewports: bin p starts where the viewport's pixel p starts
    starts = np.concatenate([[0], np.cumsum(s.bin_cells())[:-1]])
    assert np.array_equal(starts, vp.row_starts())
    assert s.bin_cells().sum() == 4096
    # each pixel samples a cell inside its own bin
    assert np.all((s.cell >= starts) & (s.cell < starts + s.bin_cells()))


@pytest.mark.parametrize("args", [(5, 5, 3), (3, 2, 4), (0, 1, 0)])
def test_sampling_rejects_empty_ranges_and_no_pixels(args):
    with pytest.raises(ValueError):
        AxisSampling.of(*args)


# -- geometry ----------------------------------------------------------------------------------


def test_naive_grid_includes_the_overhang_in_c_orientation():
    g = geometry("naive", 30, 20, 5, (8, 4))  # grid x covers N=20 in 3 blocks of 8, y covers M=30 in 8 blocks of 4
    assert g.shape == (32, 24)
    assert g.block_cells == (4, 8)


def test_uncoalesced_grid_is_the_thread_grid_transposed():
    g = geometry("uncoalesced", 30, 20, 5, (8, 4))  # thread x walks C's 30 rows: 4 blocks of 8; y walks 20 cols
    assert g.shape == (32, 20)
    assert g.block_cells == (8, 4)
    launch = g.mapping.launch
    assert (launch.grid.x * launch.block.x, launch.grid.y * launch.block.y) == g.shape
    assert g.global_of_cell(3, 7) == (3, 7) and g.cell_of_global(3, 7) == (3, 7)
    naive = geometry("naive", 30, 20, 5, (8, 4))
    assert naive.global_of_cell(3, 7) == (7, 3)


@pytest.mark.parametrize("kernel,m,n,block", [
    ("naive", 30, 20, (8, 4)), ("uncoalesced", 30, 20, (8, 4)), ("tiled", 13, 10, (4, 4)),
    ("naive", 7, 33, (12, 12)), ("uncoalesced", 33, 7, (64, 2)),
])
def test_layers_at_full_resolution_match_every_thread_of_the_launch(kernel, m, n, block):
    g = geometry(kernel, m, n, 3, block)
    layers = grid_layers(g, *full(g))
    t = thread_table(g.mapping.launch)
    rows, cols = g.cell_of_global(t["global"][:, 0], t["global"][:, 1])
    assert np.array_equal(layers.colour[rows, cols], block_colour_index(t["block"][:, 0], t["block"][:, 1]))
    assert np.array_equal(layers.warp[rows, cols], t["warp"])
    assert np.array_equal(layers.lane[rows, cols], t["lane"])
    assert np.array_equal(~layers.idle[rows, cols], g.mapping.busy_mask())
    assert layers.idle.sum() == g.mapping.idle_threads


def test_cells_inside_c_belong_to_the_thread_the_mapping_names():
    g = geometry("uncoalesced", 20, 12, 3, (8, 4))
    layers = grid_layers(g, *full(g))
    owner = g.mapping.owner_map()
    assert np.array_equal(layers.warp[:20, :12], owner["warp"])
    assert np.array_equal(layers.lane[:20, :12], owner["lane"])
    assert np.array_equal(layers.colour[:20, :12], block_colour_index(owner["block"][..., 0], owner["block"][..., 1]))


def test_a_4096_square_launch_is_coloured_at_screen_resolution_only():
    g = geometry("naive", 4096, 4096, 64, (16, 16))
    rows, cols = AxisSampling.of(0, 4096, 700), AxisSampling.of(0, 4096, 900)
    layers = grid_layers(g, rows, cols)
    assert layers.idle.shape == (700, 900)
    assert layers.colour.nbytes <= 700 * 900  # broadcast or uint8: never one value per element of C
    assert not layers.idle.any()


def test_level_of_detail_samples_the_thread_under_each_pixel_centre():
    g = geometry("naive", 100, 100, 3, (16, 16))
    rows, cols = AxisSampling.of(16, 48, 10), AxisSampling.of(0, 112, 7)
    layers = grid_layers(g, rows, cols)
    for i, r in enumerate(rows.cell):
        for j, c in enumerate(cols.cell):
            assert layers.colour[i, j] == block_colour_index(c // 16, r // 16)
            assert layers.idle[i, j] == (r >= 100 or c >= 100)


@given(st.integers(0, 50), st.integers(0, 50), st.integers(-1, 1), st.integers(-1, 1))
def test_neighbouring_blocks_never_share_a_colour(bx, by, dx, dy):
    if (dx, dy) != (0, 0) and bx + dx >= 0 and by + dy >= 0:
        assert block_colour_index(bx, by) != block_colour_index(bx + dx, by + dy)


# -- the step's active threads ---------------------------------------------------------------------


@pytest.mark.parametrize("kernel,m,n,k,block", [
    ("naive", 10, 13, 7, (4, 4)), ("uncoalesced", 10, 13, 7, (4, 4)), ("tiled", 10, 13, 7, (4, 4)),
])
def test_active_fraction_at_full_resolution_is_the_frame_in_c_orientation(kernel, m, n, k, block):
    g = geometry(kernel, m, n, k, block)
    rows, cols = full(g)
    t = thread_table(g.mapping.launch)
    gx, gy = t["global"][:, 0], t["global"][:, 1]
    r, c = g.cell_of_global(gx, gy)
    for step in range(len(kernel_steps(kernel, MatmulProblem(m, n, k), block))):
        fr = kernel_frame(kernel, MatmulProblem(m, n, k), block, step, {THREADS: g.threads_viewport(rows, cols)})
        frac = active_fraction(g, rows, cols, fr.active)
        expected = step_accesses(kernel, MatmulProblem(m, n, k), block, step, gx, gy).active
        assert np.array_equal(frac[r, c], expected.astype(float)), (kernel, step)


def test_active_fraction_zoomed_out_averages_each_bin():
    g = geometry("naive", 90, 90, 4, (16, 16))  # 96×96 launched, 90×90 busy
    rows, cols = AxisSampling.of(0, 96, 12), AxisSampling.of(0, 96, 12)  # 8×8 cells per pixel
    vp = g.threads_viewport(rows, cols)
    fr = kernel_frame("naive", MatmulProblem(90, 90, 4), (16, 16), 0, {THREADS: vp})
    frac = active_fraction(g, rows, cols, fr.active)
    assert frac.shape == (12, 12)
    assert frac[0, 0] == 1.0
    assert frac[-1, -1] == pytest.approx(4 / 64)  # rows and cols 88, 89 of 88..95 busy
    assert frac[0, -1] == pytest.approx(2 / 8)


def test_threads_viewport_is_transposed_for_the_uncoalesced_kernel():
    g = geometry("uncoalesced", 40, 24, 3, (8, 8))
    rows, cols = AxisSampling.of(8, 40, 16), AxisSampling.of(0, 24, 24)
    vp = g.threads_viewport(rows, cols)
    assert (vp.row0, vp.row1, vp.col0, vp.col1, vp.height, vp.width) == (0, 24, 8, 40, 24, 16)


# -- lines ---------------------------------------------------------------------------------------------


def test_warp_boundary_of_an_8x8_block_is_one_line_between_its_two_warps():
    naive = geometry("naive", 32, 32, 32, (8, 8)).warp_boundaries()
    assert naive.tolist() == [[[0, 4], [8, 4]]]  # rows 0-3 are warp 0, rows 4-7 warp 1
    unco = geometry("uncoalesced", 32, 32, 32, (8, 8)).warp_boundaries()
    assert unco.tolist() == [[[4, 0], [4, 8]]]  # threadIdx.x walks rows: the warps are column bands


def test_warp_boundaries_cover_exactly_the_edges_between_different_warps():
    g = geometry("naive", 24, 24, 4, (12, 12))  # 144 threads: warps end mid-row, a staircase
    segs = g.warp_boundaries()
    ty, tx = np.indices((12, 12))
    warp = (tx + 12 * ty) // 32
    unit = set()
    for (x0, y0), (x1, y1) in segs:
        if y0 == y1:
            unit |= {("h", int(x), int(y0)) for x in range(int(x0), int(x1))}
        else:
            unit |= {("v", int(x0), int(y)) for y in range(int(y0), int(y1))}
    expected = {("h", c, r) for r in range(1, 12) for c in range(12) if warp[r, c] != warp[r - 1, c]}
    expected |= {("v", c, r) for r in range(12) for c in range(1, 12) if warp[r, c] != warp[r, c - 1]}
    assert unit == expected


def test_outline_of_a_warp_goes_around_it_once():
    segs = outline_segments([0, 0, 1, 1], [0, 1, 0, 1])  # a 2×2 square
    length = np.abs(segs[:, 1] - segs[:, 0]).sum()
    assert length == 8 and len(segs) == 4


def test_block_and_warp_lines_are_limited_to_what_is_visible():
    g = geometry("naive", 4096, 4096, 64, (32, 32))
    rows, cols = AxisSampling.of(64, 128, 600), AxisSampling.of(0, 64, 600)
    lines = g.block_boundaries(rows, cols)
    assert lines[:, :, 0].min() >= 0 and lines[:, :, 0].max() <= 64
    assert lines[:, :, 1].min() >= 64 and lines[:, :, 1].max() <= 128
    warps = g.warp_lines(rows, cols)
    assert len(warps) == 2 * 2 * 31  # 4 visible blocks, 31 lines between their 32 one-row warps
    assert len(g.warp_lines(AxisSampling.of(0, 4096, 600), AxisSampling.of(0, 4096, 600))) == 0  # too many


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 40), st.integers(1, 40), st.integers(1, 12), st.integers(1, 12), st.integers(1, 60),
       st.integers(1, 60))
def test_layers_have_the_screen_shape_for_any_region(m, n, bx, by, h, w):
    g = geometry("naive", m, n, 2, (bx, by))
    rows_total, cols_total = g.shape
    rows, cols = AxisSampling.of(0, rows_total, h), AxisSampling.of(0, cols_total, w)
    layers = grid_layers(g, rows, cols)
    assert layers.idle.shape == (h, w)
    assert rows.bin_cells().sum() == rows_total and cols.bin_cells().sum() == cols_total


# -- numbering (the lecture's: Block 0 … Block 15, threads 0–63, Warp 0 / Warp 1) -----------------------


def test_lecture_grid_numbers_block_13_as_blockidx_1_3_and_its_threads_0_to_63():
    from gpuviz.model.grid_view import block_label, block_of_number, thread_numbers, warp_label

    g = geometry("naive", 32, 32, 32, (8, 8))
    # block 13 computes C[24..31, 8..15] (the preset's description)
    rows, cols = np.meshgrid(np.arange(24, 32), np.arange(8, 16), indexing="ij")
    n = thread_numbers(g, rows, cols)
    assert np.all(n.block == 13) and np.all(n.bx == 1) and np.all(n.by == 3)
    assert n.thread.tolist() == np.arange(64).reshape(8, 8).tolist()  # 8 rows of 8, row-major
    assert np.all(n.warp[:4] == 0) and np.all(n.warp[4:] == 1)  # warp 0: rows 24–27, warp 1: rows 28–31
    assert n.lane[4].tolist() == list(range(8)) and n.thread[4].tolist() == list(range(32, 40))
    assert block_of_number(13, 4) == (1, 3)
    assert block_label(1, 3, 4) == "13" and block_label(1, 3, 4, long=True) == "Block 13 · blockIdx (1, 3)"
    assert warp_label(0, 64) == "Warp 0: threads 0–31" and warp_label(1, 64) == "Warp 1: threads 32–63"
    all_blocks = thread_numbers(g, *np.meshgrid(np.arange(0, 32, 8), np.arange(0, 32, 8), indexing="ij"))
    assert all_blocks.block.tolist() == np.arange(16).reshape(4, 4).tolist()


@pytest.mark.parametrize("kernel,m,n,block", [("naive", 30, 20, (8, 4)), ("uncoalesced", 30, 20, (8, 4)),
                                              ("tiled", 40, 24, (8, 8)), ("naive", 9, 70, (32, 8))])
def test_thread_numbers_agree_with_the_launch_model(kernel, m, n, block):
    from gpuviz.model.grid_view import thread_numbers
    from gpuviz.model.launch import ThreadIndex

    g = geometry(kernel, m, n, 5, block)
    rows, cols = g.shape
    rng = np.random.default_rng(0)
    for r, c in zip(rng.integers(0, rows, 40), rng.integers(0, cols, 40)):
        got = thread_numbers(g, r, c)
        gx, gy = g.global_of_cell(int(r), int(c))
        b = g.mapping.launch.block
        t = ThreadIndex((gx // b.x, gy // b.y, 0), (gx % b.x, gy % b.y, 0), g.mapping.launch)
        assert (int(got.block), int(got.thread), int(got.warp), int(got.lane)) == \
            (t.block_linear, t.linear_id, t.warp, t.lane)


def test_warp_label_of_a_partial_last_warp_and_a_missing_warp():
    from gpuviz.model.grid_view import warp_label

    assert warp_label(2, 80) == "Warp 2: threads 64–79"
    assert warp_label(1, 33) == "Warp 1: thread 32"
    with pytest.raises(ValueError):
        warp_label(2, 64)


def test_block_thread_grid_and_visible_blocks():
    from gpuviz.model.grid_view import block_thread_grid, visible_blocks

    assert block_thread_grid(8, 8)[7].tolist() == list(range(56, 64))
    assert block_thread_grid(32, 8).shape == (8, 32)
    g = geometry("naive", 32, 32, 32, (8, 8))
    vb = visible_blocks(g, AxisSampling.of(20, 32, 100), AxisSampling.of(0, 9, 100))  # rows of blocks 2, 3; cols 0, 1
    assert sorted(vb["number"].tolist()) == [8, 9, 12, 13]
    i = vb["number"].tolist().index(13)
    assert (vb["row0"][i], vb["col0"][i], vb["rows"][i], vb["cols"][i]) == (24, 8, 8, 8)
    u = geometry("uncoalesced", 64, 64, 4, (32, 8))  # threadIdx.x walks rows: a block is 32 rows × 8 cols
    vb = visible_blocks(u, AxisSampling.of(32, 64, 10), AxisSampling.of(8, 16, 10))
    assert vb["bx"].tolist() == [1] and vb["by"].tolist() == [1] and vb["number"].tolist() == [1 + 2 * 1]
    assert visible_blocks(g, AxisSampling.of(0, 32, 10), AxisSampling.of(0, 32, 10), most=3) is None


def test_the_matmul_presets_name_blocks_by_the_same_numbers():
    """Where a preset's text names a block by number and blockIdx ("block 25 — blockIdx (1, 3)"), the two agree
    with the numbering every view draws, for that preset's own grid."""
    import re

    from gpuviz.model.scenario import load_scenario, presets_dir

    checked = 0
    for path in sorted(presets_dir().glob("*.toml")):
        sc = load_scenario(path)
        if sc.panel != "matmul":
            continue
        p = sc.params
        g = geometry(p.kernel, p.m, p.n, p.k, tuple(p.block))
        texts = [sc.description] + [k.caption for k in sc.key_steps]
        for text in texts:
            for number, bx, by in re.findall(r"[Bb]lock (\d+)\D{0,40}?blockIdx \((\d+), (\d+)\)", text):
                assert int(number) == int(bx) + g.mapping.launch.grid.x * int(by), (path.name, text)
                checked += 1
    assert checked >= 2  # the lecture grid (block 13) and the tiled 64³ grid (block 25)
