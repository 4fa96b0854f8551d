"""Waves of a launch on a preset: Nsight Compute's figures, and the schedule model's placement."""

import numpy as np
import pytest

from gpuviz.model.hardware import find_preset, occupancy
from gpuviz.model.hardware.waves import SCHEDULE_MODEL, Waves


def test_4096_product_with_16x16_blocks_on_h100():
    occ = occupancy(find_preset("H100"), 256, 32, 0)
    assert occ.active_blocks == 8  # 64 warp slots / 8 warps
    w = Waves.of(occ, 256 * 256)
    assert w.blocks_per_wave == 8 * 132
    assert w.waves == pytest.approx(65536 / 1056)
    assert (w.n_waves, w.full_waves, w.tail_blocks) == (63, 62, 65536 - 62 * 1056)
    assert w.tail_blocks == 64 and w.tail_idle_sms == 132 - 64

def test_tail_idle_sms_and_placement():
    w = Waves(blocks=300, sm_count=132, active_blocks=2)
    assert (w.blocks_per_wave, w.full_waves, w.tail_blocks) == (264, 1, 36)
    assert w.tail_idle_sms == 132 - 36
    last = w.placement(1)
    assert last.shape == (132, 2)
    assert sorted(last[last >= 0].tolist()) == list(range(264, 300))
    assert (last[:36, 0] >= 0).all() and (last[36:] == -1).all() and (last[:, 1] == -1).all()
    first = w.placement(0)
    assert sorted(first.ravel().tolist()) == list(range(264))
    for b in (0, 131, 132, 263, 264, 299):
        wave, sm, slot = w.locate(b)
        assert w.placement(wave)[sm, slot] == b


def test_full_last_wave_has_no_tail_and_a_launch_that_cannot_run_has_no_waves():
    w = Waves(blocks=264, sm_count=132, active_blocks=2)
    assert (w.waves, w.tail_blocks, w.tail_idle_sms, w.n_waves) == (1.0, 0, 0, 1)
    none = Waves(blocks=10, sm_count=132, active_blocks=0)
    assert none.waves is None and none.n_waves == 0 and not none.runs
    with pytest.raises(IndexError):
        none.locate(0)
    assert "model" in SCHEDULE_MODEL


def test_every_block_placed_exactly_once():
    w = Waves(blocks=1000, sm_count=15, active_blocks=3)
    seen = np.concatenate([w.placement(i).ravel() for i in range(w.n_waves)])
    assert sorted(seen[seen >= 0].tolist()) == list(range(1000))
