"""``gpuviz occupancy``: the issue's name matching, JSON keys, waves, limits and exit codes."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gpuviz.cli import main
from gpuviz.model.hardware import builtin_presets


def run(capsys, *argv):
    code = main(["occupancy", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def as_json(capsys, *argv):
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    assert len(out.splitlines()) == 1
    return json.loads(out)


@pytest.mark.parametrize("name, full", [("H100", "H100 SXM5 80GB"), ("a100", "A100 SXM4 40GB"),
                                        ("A6000", "RTX A6000"), ("t4", "Tesla T4"), ("1070", "GeForce GTX 1070"),
                                        ("940mx", "GeForce 940MX"), ("H200", "H200 SXM 141GB"),
                                        ("tesla t4", "Tesla T4")])
def test_name_matching(capsys, name, full):
    assert as_json(capsys, "--gpu", name, "--threads", "128", "--regs", "32", "--smem", "0")["gpu"] == full


def test_json_keys_and_values(capsys):
    d = as_json(capsys, "--gpu", "H100", "--threads", "256", "--regs", "128", "--smem", "0")
    assert {"gpu", "active_blocks", "active_warps", "occupancy", "limiters"} <= d.keys()
    assert (d["active_blocks"], d["active_warps"], d["occupancy"], d["limiters"]) == (2, 16, 0.25, ["registers"])
    assert "blocks_per_wave" not in d


def test_limiters_in_the_issues_order_ties_included(capsys):
    d = as_json(capsys, "--gpu", "H100", "--threads", "256", "--regs", "32", "--smem", "0")
    assert d["limiters"] == ["warps", "registers"]
    d = as_json(capsys, "--gpu", "T4", "--threads", "64", "--regs", "32", "--smem", "4096")
    assert d["limiters"] == ["warps", "shared_memory", "blocks"] and d["active_blocks"] == 16


def test_grid_adds_waves(capsys):
    d = as_json(capsys, "--gpu", "h100", "--threads", "256", "--regs", "32", "--smem", "0", "--grid", "256x256")
    assert (d["blocks_per_wave"], d["tail_blocks"], d["tail_idle_sms"]) == (1056, 64, 68)
    assert d["waves"] == 65536 / 1056
    d = as_json(capsys, "--gpu", "t4", "--threads", "256", "--regs", "32", "--smem", "0", "--grid", "4x5x2")
    assert d["blocks_per_wave"] == 160 and d["waves"] == 40 / 160 and d["tail_blocks"] == 40


def test_a_launch_that_cannot_fit(capsys):
    code, out, _ = run(capsys, "--gpu", "a6000", "--threads", "1024", "--regs", "255", "--smem", "0",
                       "--grid", "10")
    assert code == 0
    assert "0 blocks" in out and "fails on this GPU" in out and "no wave" in out
    d = as_json(capsys, "--gpu", "a6000", "--threads", "1024", "--regs", "255", "--smem", "0", "--grid", "10")
    assert d["active_blocks"] == 0 and d["limiters"] == ["registers"] and d["waves"] is None


def test_text_output_says_the_limiter_in_words(capsys):
    code, out, _ = run(capsys, "--gpu", "H100", "--threads", "256", "--regs", "128", "--smem", "0",
                       "--grid", "1000")
    assert code == 0
    assert "registers: 128 per thread × 256 threads" in out and "room for 2 blocks" in out
    assert "schedule model" in out


@pytest.mark.parametrize("argv, words", [
    (["--gpu", "V100"], "unknown GPU"), (["--gpu", "GeForce"], "matches 2"), (["--gpu", "live"], "live"),
    (["--threads", "0"], "threads per block"), (["--threads", "1025"], "threads per block"),
    (["--regs", "0"], "registers per thread"), (["--regs", "256"], "registers per thread"),
    (["--smem", "-1"], "negative"), (["--smem", "300000"], "opt into"), (["--smem", "lots"], "bytes"),
    (["--grid", "2x0"], "at least 1"), (["--grid", "banana"], "dim3"), (["--threads", "1.5"], "whole number"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, argv, words):
    args = {"--gpu": "H100", "--threads": "128", "--regs": "32", "--smem": "0"}
    extra = []
    for key, value in zip(argv[::2], argv[1::2]):
        if key in args:
            args[key] = value
        else:
            extra += [key, value]
    code = main(["occupancy", *[x for kv in args.items() for x in kv], *extra])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and words in err, err


def test_unknown_name_lists_every_preset(capsys):
    code, _, err = run(capsys, "--gpu", "nope", "--threads", "1", "--regs", "1", "--smem", "0")
    assert code == 2 and all(p.name in err for p in builtin_presets()) and "live" in err


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(["--gpu", "--threads", "--regs", "--smem", "--grid", "--json", "H100", "t4", "live",
                                 "0", "-1", "1024", "1025", "255", "9" * 30, "1e3", "", " ", "x", "2x3x4", "×",
                                 "48KiB", "-5x2", "\x00", "ünïcode"]), max_size=10))
def test_hostile_arguments_answer_or_refuse_in_one_line(argv):
    import contextlib
    import io

    if "live" in argv:
        return  # starts a GPU lookup; covered above
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["occupancy", *argv])
    assert code in (0, 2)
    if code == 2:
        assert len(err.getvalue().strip().splitlines()) == 1 and out.getvalue() == ""
