"""The Hardware panel's model (Qt-free): params, steps = waves, selection, scenarios, registry."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gpuviz.model import registry
from gpuviz.model.hardware.panel import (
    ASSUMED_REGISTERS,
    PARAM_KEYS,
    VIEW_KEYS,
    HardwareError,
    HardwareModel,
    HardwareParams,
)
from gpuviz.model.panel import PanelModel, ParamsError
from gpuviz.model.scenario import ScenarioError, load_presets, parse_scenario


def test_default_is_the_issues_4096_product_on_h100():
    m = HardwareModel()
    assert isinstance(m, PanelModel)
    assert m.launch.blocks == 65536 and m.preset.sm_count == 132
    assert m.n_steps == 63 and m.waves.tail_blocks == 64 and m.waves.tail_idle_sms == 68
    assert any("assumed" in line for line in m.figures())
    assert m.params.registers_per_thread == ASSUMED_REGISTERS


def test_steps_are_waves_and_the_last_one_is_the_tail():
    m = HardwareModel()
    heard = []
    m.subscribe(lambda model, changes: heard.append(changes))
    m.set_step(10**6)
    assert m.step == 62 and heard == [frozenset({"step"})]
    f = m.frame()
    assert f.placement.shape == (132, 8) and (f.placement >= 0).sum() == 64 and f.done == 62 * 1056
    m.set_step(-3)
    assert m.step == 0 and (m.frame().placement >= 0).all()


def test_selecting_a_block_moves_to_its_wave():
    m = HardwareModel()
    heard = []
    m.subscribe(lambda model, changes: heard.append(changes))
    m.select_block(m.block_linear(255, 255))
    assert m.selected_block == 65535 and m.step == 62 and heard[-1] == frozenset({"selection", "step"})
    wave, sm, slot = m.waves.locate(65535)
    assert m.frame().placement[sm, slot] == 65535
    assert m.block_index(65535) == (255, 255, 0)
    with pytest.raises(HardwareError, match="outside"):
        m.select_block(65536)


def test_changing_resources_updates_the_figures():
    m = HardwareModel()
    m.update(registers=128)
    assert m.occupancy.active_blocks == 2 and m.occupancy.limiters == ("registers",)
    assert "registers: 128 per thread × 256 threads" in "\n".join(m.figures())
    m.update(kernel="tiled", block=(32, 32), registers=None)
    assert m.params.shared_memory_per_block == 8192
    m.update(gpu="940MX")
    assert m.roofs() is None and "940MX" in m.roofline_note()


@pytest.mark.parametrize("changes, field", [({"gpu": "V100"}, "gpu"), ({"kernel": "fast"}, "kernel"),
                                            ({"m": 0}, "m"), ({"block": (64, 64)}, "block"),
                                            ({"registers": 300}, "registers"),
                                            ({"shared_memory": 10**6}, "shared_memory")])
def test_refused_parameters_are_one_sentence_with_their_field(changes, field):
    m = HardwareModel()
    with pytest.raises(ParamsError) as e:
        m.update(**changes)
    assert e.value.field == field and "\n" not in str(e.value)
    assert m.params == HardwareParams()  # unchanged


def test_roofline_points_order_the_three_kernels():
    pts = {p.kernel: p for p in HardwareModel().roofline_points}
    assert pts["uncoalesced"].intensity < pts["naive"].intensity < pts["tiled"].intensity


def test_transpose_pair_from_the_shipped_recorded_traces():
    pair = HardwareModel.transpose_conflicts()
    assert pair[False].max_degree == 32 and pair[True].max_degree == 1


def test_registered_with_presets_and_a_checked_view():
    spec = registry.spec("hardware")
    assert spec is not None and spec.params is HardwareParams and spec.model is HardwareModel
    assert registry.step_key("hardware", {}) == "step"
    presets, errors = load_presets("hardware")
    assert errors == [] and len(presets) >= 3
    for s in presets:
        m = HardwareModel(s.params)
        assert s.view.get("step", 0) < m.n_steps
    with pytest.raises(ScenarioError, match="waves 0 to 62"):
        parse_scenario({"schema": 1, "panel": "hardware", "title": "t", "params": {}, "view": {"step": 63}})
    with pytest.raises(ScenarioError, match="unknown key 'colour'"):
        parse_scenario({"schema": 1, "panel": "hardware", "title": "t", "params": {"colour": 1}})
    assert HardwareParams.from_dict(HardwareParams(registers=40).to_dict()) == HardwareParams(registers=40)


def test_placement_of_every_wave_covers_every_block_once():
    m = HardwareModel(HardwareParams(gpu="1070", m=300, n=200, k=8, block=(16, 16)))
    seen = np.concatenate([m.frame(s).placement.ravel() for s in range(m.n_steps)])
    assert sorted(seen[seen >= 0].tolist()) == list(range(m.launch.blocks))


def test_the_link_follows_the_matmul_scene_and_shares_the_selected_block():
    from gpuviz.model.hardware.link import MatmulLink
    from gpuviz.model.scene import MatmulScene

    scene, hw = MatmulScene(), HardwareModel()
    link = MatmulLink(scene, hw)
    assert hw.launch.blocks == 65536  # nothing pushed when linked
    scene.configure(m=64, n=64, k=64, block=(8, 8))
    assert (hw.params.m, hw.params.block, hw.launch) == (64, (8, 8), scene.launch)
    scene.select_thread((3, 5), (1, 2))
    assert hw.selected_block == hw.block_linear(3, 5)
    hw.select_block(hw.block_linear(7, 1))
    assert scene.selected.block[:2] == (7, 1) and scene.selected.thread[:2] == (1, 2)
    hw.update(gpu="T4")  # the GPU is the hardware panel's own
    scene.configure(kernel="tiled")
    assert hw.params.gpu == "T4" and hw.params.kernel == "tiled"
    link.close()
    scene.configure(m=32)
    assert hw.params.m == 64


JUNK = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
                 st.text(max_size=12), st.lists(st.integers(-5, 5000), max_size=4),
                 st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from([*PARAM_KEYS, "colour"]), JUNK, max_size=6))
def test_hostile_params_are_refused_in_one_sentence_or_accepted(table):
    try:
        params = HardwareParams.from_dict(table)
    except ParamsError as e:
        assert str(e) and "\n" not in str(e)
        return
    m = HardwareModel(params)  # whatever is accepted can be shown
    assert m.n_steps >= 1 and m.figures()


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from([*VIEW_KEYS, "zoom"]), JUNK, max_size=3))
def test_hostile_views_are_refused_in_one_sentence_or_accepted(view):
    try:
        parse_scenario({"schema": 1, "panel": "hardware", "title": "t", "params": {}, "view": view})
    except ScenarioError as e:
        assert "\n" not in str(e)


def saved_run(tmp_path):
    import json

    path = tmp_path / "h100.hardware.json"
    path.write_text(json.dumps({
        "gpu": "NVIDIA H100 80GB HBM3", "date": "2026-12-01",
        "kernels": [{"kernel": "naive", "block": [16, 16], "registers_per_thread": 40}],
        "roofline": [{"kernel": "naive", "m": 4096, "n": 4096, "k": 4096, "block": [16, 16], "gflops": 1234.0},
                     {"kernel": "tiled", "m": 1024, "n": 1024, "k": 1024, "block": [16, 16], "gflops": 999.0}]}))
    return path


def test_a_saved_gpu_check_run_gives_registers_and_measured_points(tmp_path):
    m = HardwareModel()
    assert m.measured_points() == [] and "assumed" in m.registers_label
    m.load_run(saved_run(tmp_path))
    assert m.registers_per_thread == 40 and "as compiled on the NVIDIA H100 80GB HBM3" in m.registers_label
    assert m.occupancy.registers == 40 and m.occupancy.active_blocks == 6
    (point,) = m.measured_points()  # only this product's size
    assert point[1] == 1234e9 and "measured" in point[2]
    m.update(block=(32, 8))  # no compiled figure for this block: assumed again, said so
    assert "assumed" in m.registers_label
    bad = tmp_path / "bad.hardware.json"
    bad.write_text("{}")
    with pytest.raises(HardwareError, match="bad.hardware.json"):
        m.load_run(bad)
