"""Scenario files: reading, checking, writing, applying; the shipped presets and what their captions claim."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gpuviz.model.scenario import (
    KeyStep,
    Scenario,
    ScenarioError,
    apply_scenario,
    dumps_scenario,
    load_presets,
    load_scenario,
    presets_dir,
    save_scenario,
    scenario_from_scene,
)
from gpuviz.model.scene import MatmulParams, MatmulScene

DATA = Path(__file__).parent / "data" / "scenarios"

GOOD = """\
schema = 1
panel = "matmul"
title = "T"

[params]
kernel = "naive"
m = 32
n = 32
k = 32
block = [8, 8]
"""


# -- reading and checking -----------------------------------------------------------------------


@pytest.mark.parametrize("name, message", [
    ("bad-toml.toml", "is not valid TOML: Illegal character '\\n' (at line 3, column 23)"),
    ("bad-type.toml", "[params] m must be a whole number, got a string '32'"),
    ("bad-missing-title.toml", "missing key 'title'"),
    ("bad-block.toml", "[params] block: a block of 64x64 has 4096 threads, over CUDA's limit of 1024"),
    ("bad-unknown-key.toml", "unknown key 'blocks' in [params]"),
    ("bad-step.toml", "[[key_steps]] #2: step = 33 is outside this product's timeline, steps 0 to 32"),
    ("bad-schema.toml", "schema = 2 is not one this gpuviz reads"),
    ("bad-encoding.toml", "is not UTF-8 text"),
])
def test_a_malformed_file_is_refused_with_its_name_and_what_is_wrong(name, message):
    with pytest.raises(ScenarioError) as e:
        load_scenario(DATA / name)
    assert str(e.value).startswith(f"{DATA / name}: ")
    assert message in str(e.value)
    assert e.value.path == DATA / name


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace("schema = 1", 'schema = "1"'), "schema must be a whole number, got a string '1'"),
    (lambda t: t.replace('title = "T"', 'title = "  "'), "title must not be empty"),
    (lambda t: t.replace('title = "T"', 'title = "T"\ncolour = "red"'), "unknown key 'colour' in the file"),
    (lambda t: t.replace("block = [8, 8]", "block = [8, 8, 1]"), "[params] block must be an array of two"),
    (lambda t: t.replace("block = [8, 8]", "block = [8.0, 8]"), "[params] block must be an array of two"),
    (lambda t: t.replace("m = 32", "m = 0"), "[params] m: M = 0: every matrix size must be at least 1"),
    (lambda t: t.replace("m = 32\n", ""), "missing key 'm' in [params]"),
    (lambda t: t.replace('kernel = "naive"', 'kernel = "tiled"').replace("[8, 8]", "[16, 8]"),
     "[params] block: the tiled kernel's tile is its block, which must be square"),
    (lambda t: t.replace('"naive"', '"fast"'), "[params] kernel: unknown kernel 'fast'"),
    (lambda t: t + "\n[view]\nfocus = \"grid\"\n", "[view] focus = 'grid' is not one of thread, warp, block, all"),
    (lambda t: t + "\n[view]\nselected_block = [4, 0]\n", "[view] selected_block = [4, 0] is outside the grid of 4×4"),
    (lambda t: t + "\n[view]\nselected_thread = [0, 8]\n", "[view] selected_thread = [0, 8] is outside the block"),
    (lambda t: t + "\n[view]\nstep = 40\n", "[view] step = 40 is outside this product's timeline"),
    (lambda t: t + "\n[view]\ncumulative = 1\n", "[view] cumulative must be true or false, got an integer 1"),
    (lambda t: t + "\n[view]\ncompare_kernel = \"tiled\"\n".replace("tiled", "tiles"),
     "[view] compare_kernel = 'tiles' is not one of naive, uncoalesced, tiled"),
    (lambda t: t.replace("[8, 8]", "[32, 8]") + "\n[view]\ncompare_kernel = \"tiled\"\n",
     "[view] compare_kernel = 'tiled' cannot run this product"),
    (lambda t: t + "\n[view]\nzoom = 2\n", "unknown key 'zoom' in [view]"),
    (lambda t: t + "\n[[key_steps]]\nstep = 1\n", "[[key_steps]] #1 is missing"),
    (lambda t: t + "\n[[key_steps]]\nstep = -1\ncaption = \"x\"\n", "[[key_steps]] #1: step = -1 must be at least 0"),
    (lambda t: "key_steps = 3\n" + t, "key_steps must be an array of tables"),
    (lambda t: t.replace("m = 32", "m = 100000\nseed = 1").replace("n = 32", "n = 100000"),
     "[params] size: needs an estimated"),
])
def test_every_kind_of_mistake_is_named(tmp_path, edit, message):
    path = tmp_path / "scenario.toml"
    path.write_text(edit(GOOD), encoding="utf-8")
    with pytest.raises(ScenarioError) as e:
        load_scenario(path)
    assert message.replace(" is missing", "") in str(e.value)


def test_an_unreadable_file_is_an_error_not_a_crash(tmp_path):
    with pytest.raises(ScenarioError, match="cannot be read"):
        load_scenario(tmp_path / "absent.toml")


def test_a_folder_with_bad_files_loads_the_good_ones_and_reports_each_bad_one():
    scenarios, errors = load_presets(folder=DATA)
    assert [s.name for s in scenarios] == ["00-good", "01-broadcast"]
    bad = sorted(p.name for p in DATA.glob("bad-*.toml"))
    assert len(errors) == len(bad) and all(name in err for name, err in zip(bad, errors))
    broadcast = scenarios[1]
    assert broadcast.panel == "broadcast" and broadcast.params.shapes == ((5, 3, 2), (3, 2))  # typed
    assert [s.name for s in load_presets("matmul", folder=DATA)[0]] == ["00-good"]
    assert load_presets(folder=DATA / "absent") == ([], [])


# -- writing -------------------------------------------------------------------------------------


def test_save_and_load_round_trip(tmp_path):
    scene = MatmulScene(MatmulParams(kernel="uncoalesced", m=40, n=24, k=9, block=(16, 4), backend="simulator",
                                     seed=7))
    scene.select_thread((2, 5), (3, 1))
    scene.set_focus("warp")
    scene.set_cumulative(True)
    scene.set_step(5)
    scene.set_compare_kernel("naive")
    tricky = 'Quotes " and \\ backslashes,\ttabs, a newline\nand ünïcode — 3×7 ≈ 9%\x01'
    scenario = scenario_from_scene(scene, tricky, key_steps=[(0, tricky), KeyStep(9, "The write.")],
                                   description="Line one.\nLine two.")
    path = save_scenario(scenario, tmp_path / "mine.toml")
    back = load_scenario(path)
    assert back == scenario and back.path == path
    assert (path.stat().st_mode & 0o777) == 0o644
    fresh = MatmulScene()
    apply_scenario(fresh, back)
    assert fresh.params == scene.params and fresh.view_state() == scene.view_state()
    # no compare kernel: the key is left out, not written as an empty value
    scene.set_compare_kernel(None)
    text = dumps_scenario(scenario_from_scene(scene, "T"))
    assert "compare_kernel" not in text and "[[key_steps]]" not in text


@settings(deadline=None, max_examples=40)
@given(title=st.text(min_size=1).filter(lambda t: t.strip()), caption=st.text(min_size=1).filter(lambda t: t.strip()))
def test_any_text_survives_the_writer(tmp_path_factory, title, caption):
    scenario = Scenario("matmul", title, MatmulParams(), caption, {}, (KeyStep(1, caption),))
    path = tmp_path_factory.mktemp("s") / "s.toml"
    save_scenario(scenario, path)
    assert load_scenario(path) == scenario


def test_another_panels_scenario_round_trips_but_does_not_apply(tmp_path):
    scenario = load_scenario(DATA / "01-broadcast.toml")
    path = save_scenario(scenario, tmp_path / "b.toml")
    assert load_scenario(path) == scenario
    with pytest.raises(ScenarioError, match="'broadcast' scenario, not one for the matmul panel"):
        apply_scenario(MatmulScene(), scenario)


def test_a_refused_scenario_leaves_the_scene_as_it_was():
    scene = MatmulScene()
    scene.set_step(3)
    before = (scene.params, scene.view_state())
    bad = Scenario("matmul", "T", MatmulParams(m=8, n=8, k=8), view={"selected_block": [3, 3]})
    with pytest.raises(ScenarioError, match="selected_block"):
        apply_scenario(scene, bad)
    assert (scene.params, scene.view_state()) == before
    # missing view keys take their defaults: a scenario says the whole scene
    apply_scenario(scene, Scenario("matmul", "T", MatmulParams(m=8, n=8, k=8)))
    assert scene.view_state() == {"step": 0, "selected_block": [0, 0], "selected_thread": [0, 0],
                                  "focus": "thread", "cumulative": False, "compare_kernel": None}


# -- the shipped presets -----------------------------------------------------------------------------


def presets():
    scenarios, errors = load_presets()
    assert errors == []
    return {s.name: s for s in scenarios}


def scene_of(name):
    scene = MatmulScene()
    apply_scenario(scene, presets()[name])
    return scene


def test_the_presets_the_lecture_needs_are_shipped_and_load():
    everything = presets()
    shipped = {name: s for name, s in everything.items() if s.panel == "matmul"}
    assert presets_dir().is_dir()
    assert len(shipped) >= 5 and {s.panel for s in everything.values()} <= {"matmul", "broadcast", "grad", "speed",
                                                                               "hardware"}
    assert list(shipped) == [s.name for s in load_presets("matmul")[0]]  # the matmul panel's list
    params = {name: (s.params.kernel, s.params.m, s.params.n, s.params.k, s.params.block)
              for name, s in shipped.items()}
    assert params["01-lecture-grid"] == ("naive", 32, 32, 32, (8, 8))
    assert params["02-dense-layer-wx"][1:4] == (3, 1, 7)
    assert params["03-batch-10x784"] == ("naive", 10, 64, 784, (32, 8))
    assert params["04-tiled-64"] == ("tiled", 64, 64, 64, (8, 8))
    assert params["05-coalescing"] == ("naive", 64, 64, 64, (32, 8))
    assert shipped["05-coalescing"].view["compare_kernel"] == "uncoalesced"
    for s in shipped.values():
        assert s.key_steps and s.description and s.title
        assert list(presets_dir().glob("*.toml"))  # found through gpuviz.paths, installed or not


def reads_of(frame, name):
    """(rows, cols) the frame's reads of ``name`` touch, and the most reads of one element."""
    counts = frame.reads[name]
    rows, cols = np.nonzero(counts)
    return sorted(set(rows.tolist())), sorted(set(cols.tolist())), int(counts.max(initial=0))


def test_lecture_grid_captions_are_true():
    scene = scene_of("01-lecture-grid")
    assert scene.selected.block_linear == 13 and scene.selected.block[:2] == (1, 3) and scene.focus == "block"
    n = scene.numbers()
    assert n.grid == (4, 4) and n.warps_per_block == 2
    owners = scene.mapping.owner_map()
    block13 = np.argwhere((owners["block"][..., 0] == 1) & (owners["block"][..., 1] == 3))
    assert block13[:, 0].min() == 24 and block13[:, 0].max() == 31 and block13[:, 1].min() == 8
    warp0 = np.argwhere((owners["block"][..., 0] == 1) & (owners["block"][..., 1] == 3) & (owners["warp"] == 0))
    assert sorted(set(warp0[:, 0].tolist())) == [24, 25, 26, 27]
    frame = scene.frame(step=0)
    assert reads_of(frame, "A") == (list(range(24, 32)), [0], 8)
    assert reads_of(frame, "B") == ([0], list(range(8, 16)), 8)
    assert reads_of(scene.frame(step=1), "A")[1] == [1] and scene.step_info(1).threads == 1024
    assert "acc += A[row, k] * B[k, col]" in scene.source().splitlines()[scene.step_info(1).line - 1]
    assert scene.step_info(31).role == "multiply" and n.global_loads == 65_536
    assert scene.step_info(32).role == "write"


def test_dense_layer_captions_are_true():
    scene = scene_of("02-dense-layer-wx")
    n = scene.numbers()
    assert (n.threads, n.busy_threads, n.idle_threads, n.flops) == (64, 3, 61, 42)
    for s in range(scene.n_steps):
        sn = scene.step_numbers(s)
        assert (sn.active_threads, sn.active_warps, sn.masked_lanes) == (3, 1, 29)  # warp 1 never runs
    scene.set_focus("block")
    active = scene.focus_active(0)
    assert np.flatnonzero(active).tolist() == [0, 8, 16]  # lanes 0, 8, 16 of warp 0
    frame = scene.frame(step=0)
    assert reads_of(frame, "A") == ([0, 1, 2], [0], 1) and reads_of(frame, "B") == ([0], [0], 3)
    assert scene.step_info(6).role == "multiply" and scene.step_info(7).role == "write"
    assert round(100 * n.warp_efficiency) == 9


def test_batch_captions_are_true():
    scene = scene_of("03-batch-10x784")
    n = scene.numbers()
    assert n.grid == (2, 2) and n.idle_threads == 384 and n.busy_threads == 640 and n.flops == 1_003_520
    assert n.warps - n.idle_warps == 20 and n.warp_efficiency == 1.0
    assert n.idle_warps == 2 * 6
    assert scene.focus == "warp" and scene.selected.warp == 0
    frame = scene.frame(step=0)
    assert reads_of(frame, "A") == ([8], [0], 32) and reads_of(frame, "B") == ([0], list(range(32)), 1)
    assert {r.array: r.sectors_per_request for r in scene.warp_requests(0)} == {"A": 1, "B": 4}
    assert scene.step_info(783).role == "multiply" and scene.step_info(784).role == "write"
    assert scene.step_numbers(784).active_threads == 640


def test_tiled_captions_are_true():
    scene = scene_of("04-tiled-64")
    roles = {s: scene.step_info(s).role for s in (0, 1, 2, 3, 11, 12, 96)}
    assert roles == {0: "load_a", 1: "load_b", 2: "sync_loaded", 3: "multiply", 11: "sync_used", 12: "load_a",
                     96: "write"}
    assert reads_of(scene.frame(step=0), "A") == (list(range(24, 32)), list(range(8)), 1)
    assert reads_of(scene.frame(step=1), "B") == (list(range(8)), list(range(8, 16)), 1)
    three = scene.frame(step=3)
    assert reads_of(three, "sA") == (list(range(8)), [0], 8) and reads_of(three, "sB") == ([0], list(range(8)), 8)
    assert three.reads["A"].sum() == three.reads["B"].sum() == 0
    assert reads_of(scene.frame(step=12), "A")[1] == list(range(8, 16))
    assert reads_of(scene.frame(step=12), "B") == ([], [], 0)
    assert reads_of(scene.frame(step=13), "B")[0] == list(range(8, 16))
    scene.set_focus("all")
    last = scene.cumulative_reads(step=96)
    assert (last["A"] == 8).all() and (last["B"] == 8).all()
    naive = MatmulScene(MatmulParams(m=64, n=64, k=64, block=(8, 8))).numbers()
    assert (scene.numbers().global_loads, naive.global_loads) == (65_536, 524_288)
    assert (scene.numbers().global_loads_per_element, naive.global_loads_per_element) == (16, 128)


def test_coalescing_captions_are_true():
    scene = scene_of("05-coalescing")
    assert scene.compare_kernel == "uncoalesced" and scene.focus == "warp"
    frame = scene.frame(step=0)
    assert reads_of(frame, "A") == ([0], [0], 32) and reads_of(frame, "B") == ([0], list(range(32)), 1)
    assert {r.array: r.sectors_per_request for r in scene.warp_requests(0)} == {"A": 1, "B": 4}
    other = MatmulScene(MatmulParams(kernel="uncoalesced", m=64, n=64, k=64, block=(32, 8)))
    other.set_focus("warp")
    assert {r.array: r.sectors_per_request for r in other.warp_requests(0)} == {"A": 32, "B": 1}
    assert other.element_of_selected() == (0, 0) and reads_of(other.frame(step=0), "A")[0] == list(range(32))
    cmp = scene.compare()
    assert scene.numbers().warps == 128 and scene.step_info(63).role == "multiply"
    assert (cmp.first.loads.sectors, cmp.second.loads.sectors) == (40_960, 270_336)
    assert f"{cmp.load_ratio:.1f}" == "6.6" and scene.numbers().flops == 524_288
    assert "6.6" in presets()["05-coalescing"].description
    assert {r.array: r.sectors_per_request for r in scene.warp_requests(64)} == {"C": 4}
    assert {r.array: r.sectors_per_request for r in other.warp_requests(64)} == {"C": 32}
