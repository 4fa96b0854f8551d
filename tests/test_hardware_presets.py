"""GPU presets: every figure sourced, the issue's GPUs present, names matched as the CLI promises."""

import math

import pytest
import tomllib

from gpuviz.model.hardware import PresetError, builtin_presets, find_preset, live_preset
from gpuviz.model.hardware.presets import architecture_constants
from gpuviz.paths import asset_path

EXPECTED = {  # name part: (compute capability, SMs)
    "H100": ((9, 0), 132), "A100": ((8, 0), 108), "A6000": ((8, 6), 84), "T4": ((7, 5), 40),
    "1070": ((6, 1), 15), "940MX": ((5, 0), 3), "H200": ((9, 0), 132),
}


def test_every_value_has_a_source_named_in_the_file():
    files = sorted(asset_path("gpus").glob("*.toml"))
    assert len(files) >= 7
    for path in files:
        data = tomllib.loads(path.read_text())
        assert data["sources"], path.name
        for name, entry in data["values"].items():
            assert entry["source"] in data["sources"], (path.name, name)
            if isinstance(entry["value"], float) and math.isnan(entry["value"]):
                assert entry.get("note"), f"{path.name}: {name} is not published but has no note saying so"


@pytest.mark.parametrize("part", sorted(EXPECTED))
def test_the_issues_gpus(part):
    p = find_preset(part)
    cc, sms = EXPECTED[part]
    assert p.compute_capability == cc and p.sm_count == sms
    assert p.max_warps_per_sm * p.warp_size == p.max_threads_per_sm
    consts = architecture_constants(*cc)
    # the figures the header keeps in code agree with the preset files
    assert p.register_allocation_unit == consts["register_allocation_unit"]
    assert p.shared_memory_allocation_unit == consts["shared_memory_allocation_unit"]
    assert p.register_file_partitions == consts["register_file_partitions"]
    assert p.max_blocks_per_sm == consts["max_blocks_per_sm"]
    assert tuple(p.shared_memory_carveouts_kib) == tuple(consts["shared_memory_carveouts_kib"])


def test_peaks_follow_from_cores_and_clock_where_published():
    for p in builtin_presets():
        if p.peak_fp32_tflops is None:
            assert "peak_fp32_tflops" in p.notes
            continue
        derived = p.sm_count * p.fp32_cores_per_sm * 2 * p.boost_clock_mhz * 1e6 / 1e12
        assert derived == pytest.approx(p.peak_fp32_tflops, rel=0.01), p.name


def test_unpublished_figures_are_none_with_a_note():
    mx = find_preset("940mx")
    assert mx.memory_bandwidth_gb_s is None and mx.peak_flops is None
    assert "DDR3" in mx.notes["memory_bandwidth_gb_s"]


def test_name_matching():
    assert find_preset("h100").compute_capability == (9, 0)
    assert find_preset("  GeForce   GTX 1070 ").sm_count == 15
    assert find_preset("t4").name == "Tesla T4"
    with pytest.raises(PresetError, match="H100.*H200|matches 2"):
        find_preset("H")
    with pytest.raises(PresetError, match="unknown GPU 'V100'.*live"):
        find_preset("V100")
    with pytest.raises(PresetError, match="no live device"):
        find_preset("live")
    msg = ""
    try:
        find_preset("nope")
    except PresetError as e:
        msg = str(e)
    assert "\n" not in msg and all(p.name in msg for p in builtin_presets())


def test_live_preset_from_driver_attributes():
    attrs = {"name": "NVIDIA H100 80GB HBM3", "compute_capability": (9, 0), "MULTIPROCESSOR_COUNT": 132,
             "MAX_THREADS_PER_BLOCK": 1024, "MAX_THREADS_PER_MULTI_PROCESSOR": 2048,
             "MAX_REGISTERS_PER_MULTIPROCESSOR": 65536, "MAX_REGISTERS_PER_BLOCK": 65536,
             "MAX_SHARED_MEMORY_PER_MULTIPROCESSOR": 233472, "MAX_SHARED_MEMORY_PER_BLOCK": 49152,
             "MAX_SHARED_MEMORY_PER_BLOCK_OPTIN": 232448, "RESERVED_SHARED_MEMORY_PER_BLOCK": 1024,
             "MAX_BLOCKS_PER_MULTIPROCESSOR": 32}
    live = live_preset(attrs)
    assert live.live and live.label.endswith("(live device)")
    assert find_preset("LIVE", live=live) is live
    h100 = find_preset("H100")
    for f in ("sm_count", "max_threads_per_sm", "shared_memory_per_sm", "shared_memory_per_block_optin",
              "register_file_partitions", "shared_memory_allocation_unit", "barrier_units_per_block_slot"):
        assert getattr(live, f) == getattr(h100, f), f
