"""Roofline: the three matmul kernels land at different intensities; roofs from the presets; measured
points only from a saved run."""

import json

import pytest

from gpuviz.model.hardware import find_preset
from gpuviz.model.hardware.banks import global_sectors
from gpuviz.model.hardware.roofline import (
    NO_CACHE_NOTE,
    RooflineError,
    Roofs,
    kernel_point,
    kernel_points,
    load_measured,
)
from gpuviz.model.matmul import MatmulProblem
from gpuviz.model.vectorized import vectorized_trace


def test_three_kernels_at_three_different_intensities():
    pts = {p.kernel: p for p in kernel_points(sizes=(4096,))}
    assert pts["uncoalesced"].intensity < pts["naive"].intensity < pts["tiled"].intensity
    for p in pts.values():
        assert p.flops == 2 * 4096**3
        assert p.compulsory_bytes == 4 * 3 * 4096**2
        assert p.intensity < p.compulsory_intensity
    # naive: per k step a warp of 16×16 loads one sector of A (broadcast) and two of B for 2×16 FMAs...
    assert pts["naive"].intensity == pytest.approx(0.5, rel=0.01)
    assert "no cache model" in NO_CACHE_NOTE


@pytest.mark.parametrize("kernel", ["naive", "uncoalesced", "tiled"])
def test_bytes_equal_the_sectors_counted_on_a_trace(kernel):
    p = kernel_point(kernel, (24, 20, 28), (8, 8))
    tr = vectorized_trace(kernel, MatmulProblem(24, 20, 28), (8, 8))
    assert p.sector_bytes == 32 * sum(global_sectors(tr).values())


def test_roofs_from_a_preset():
    r = Roofs.of(find_preset("H100"))
    assert r.peak_flops == pytest.approx(66.9e12) and r.bandwidth == pytest.approx(3350e9)
    assert r.ridge == pytest.approx(66.9e12 / 3350e9)
    assert r.attainable(1.0) == pytest.approx(3350e9) and r.attainable(1e6) == pytest.approx(66.9e12)
    assert r.bound(0.5) == "memory-bound" and r.bound(100) == "compute-bound"
    with pytest.raises(RooflineError, match="940MX"):
        Roofs.of(find_preset("940MX"))


def test_measured_points_only_from_a_saved_run(tmp_path):
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"gpu": "NVIDIA H100 80GB HBM3", "date": "2026-12-06", "roofline": [
        {"kernel": "tiled", "m": 4096, "n": 4096, "k": 4096, "block": [16, 16], "gflops": 9000.0},
        {"kernel": "naive", "m": 4096, "n": 4096, "k": 4096, "block": [16, 16], "gflops": None}]}))
    pts = load_measured(path)
    assert len(pts) == 1 and pts[0].flops_per_s == 9e12
    assert "H100" in pts[0].label and "2026-12-06" in pts[0].label
    path.write_text("{}")
    with pytest.raises(RooflineError, match="run.json"):
        load_measured(path)
