"""Occupancy equals NVIDIA's calculator (cuda_occupancy.h) on a broad table the header computed.

The table is tests/data/occupancy_expected.json, written by scripts/make_occupancy_table.py
(which compiles scripts/occupancy_generator.cpp against the header from NVIDIA's wheel).
"""

import json
from collections import Counter
from pathlib import Path

import pytest

from gpuviz.model.hardware import RESOURCES, UNLIMITED, OccupancyError, builtin_presets, find_preset, occupancy

TABLE = json.loads((Path(__file__).parent / "data" / "occupancy_expected.json").read_text())
PRESETS = {p.key: p for p in builtin_presets()}
ROWS = [dict(zip(TABLE["columns"], row)) for row in TABLE["rows"]]


def test_table_was_made_from_these_presets():
    assert set(TABLE["devices"]) == set(PRESETS)
    for key, props in TABLE["devices"].items():
        p = PRESETS[key]
        for name, value in props.items():
            got = list(p.compute_capability) if name == "compute_capability" else getattr(p, name)
            assert got == value, f"{key}.{name} changed since the table was made: rerun make_occupancy_table.py"


@pytest.mark.parametrize("key", sorted(PRESETS))
def test_equal_to_the_calculator(key):
    rows = [r for r in ROWS if r["gpu"] == key]
    assert len(rows) > 1000
    stale = 0
    for r in rows:
        assert r["status"] == 0
        o = occupancy(PRESETS[key], r["threads"], r["registers"], r["shared_memory"], r["barriers"], validate=False)
        where = f"{key} threads={r['threads']} regs={r['registers']} smem={r['shared_memory']} bars={r['barriers']}"
        assert o.active_blocks == r["active_blocks"], where
        assert o.limits["warps"] == r["limit_warps"], where
        assert o.limits["registers"] == r["limit_registers"], where
        assert o.limits["shared_memory"] == r["limit_shared_memory"], where
        assert o.limits["blocks"] == r["limit_blocks"], where
        if o.limits["barriers"] is not None:
            assert o.limits["barriers"] == r["limit_barriers"], where
        else:
            assert r["limit_barriers"] == UNLIMITED, where
        assert o.registers_per_block == r["allocated_registers_per_block"], where
        assert o.shared_memory_per_block == r["allocated_shared_memory_per_block"], where
        flags = tuple(name for bit, name in enumerate(RESOURCES) if r["limiting_factors"] >> bit & 1)
        assert o.header_flags == flags, where
        # our limiters are the resources that bind; they differ from the header's bits only where
        # the barrier limit lowered the count after the others were flagged
        assert set(o.limiters) <= set(flags), where
        if o.limiters != flags:
            stale += 1
            assert o.limiters == ("barriers",) and o.limits["barriers"] < min(
                o.limits[x] for x in RESOURCES[:4]), where
        assert o.occupancy == o.active_blocks * -(-r["threads"] // 32) / PRESETS[key].max_warps_per_sm


def test_table_covers_every_limiter_ties_and_zero_fit_on_every_preset():
    for key, p in PRESETS.items():
        seen = Counter()
        zero = set()
        for r in ROWS:
            if r["gpu"] != key:
                continue
            o = occupancy(p, r["threads"], r["registers"], r["shared_memory"], r["barriers"], validate=False)
            seen[o.limiters] += 1
            if o.active_blocks == 0:
                zero |= set(o.limiters)
        alone = {ls[0] for ls in seen if len(ls) == 1}
        wanted = {"warps", "registers", "shared_memory", "blocks"} | ({"barriers"} if p.compute_capability[0] >= 9
                                                                        else set())
        assert wanted <= alone, (key, alone)
        assert any(len(ls) > 1 for ls in seen), key
        assert {"registers", "shared_memory"} <= zero, (key, zero)


def test_issue_example_and_words():
    o = occupancy(find_preset("H100"), 256, 128, 0)
    assert (o.active_blocks, o.active_warps, o.occupancy, o.limiters) == (2, 16, 0.25, ("registers",))
    assert o.explanation()[0].startswith("registers: 128 per thread × 256 threads")
    assert "room for 2 blocks" in o.explanation()[0]


def test_a_block_that_cannot_fit_says_the_launch_fails():
    o = occupancy(find_preset("H100"), 1024, 255, 0)
    assert o.active_blocks == 0 and o.limiters == ("registers",)
    assert "fails on this GPU" in o.failure() and o.failure() in o.explanation()
    assert occupancy(find_preset("H100"), 256, 32, 0).failure() == ""


@pytest.mark.parametrize("args, words", [
    ((0, 32, 0), "threads per block"), ((1025, 32, 0), "threads per block"), ((128, 0, 0), "registers"),
    ((128, 256, 0), "registers"), ((128, 32, -1), "negative"), ((128, 32, 232449), "opt into"),
])
def test_bad_inputs_are_one_sentence(args, words):
    with pytest.raises(OccupancyError, match=words) as e:
        occupancy(find_preset("H100"), *args)
    assert "\n" not in str(e.value)


def test_json_shape():
    d = occupancy(find_preset("T4"), 1024, 64, 0).to_dict()
    assert d["active_blocks"] == 1 and d["active_warps"] == 32 and d["occupancy"] == 1.0
    assert d["limiters"] == ["warps", "registers"]
    json.dumps(d)
