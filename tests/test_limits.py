"""The bounds of model/limits.py: README's table is theirs, the models use the same numbers, the nesting is
measured on the text, outputs and inputs are checked before any work, a trace file is measured by its
headers, and the trace memory estimate covers the measured peak."""

from __future__ import annotations

import ast
import os
import re
import sys
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

from gpuviz.model import limits
from gpuviz.model.limits import depth_problem, json_depth, limits_table, toml_depths

ROOT = Path(__file__).resolve().parents[1]


def _readme_limits_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("### Limits\n")
    end = text.index("\n#", start + 1)
    return text[start:end]


def test_readme_limits_table_is_the_rendered_one():
    section = _readme_limits_section()
    rows = "".join(line + "\n" for line in section.splitlines() if line.startswith("|"))
    assert rows == limits_table(), "README's Limits table differs: paste `python -m gpuviz.model.limits`"


def test_table_names_every_bound():
    table = limits_table()
    for value in (limits.MAX_DRAWN_OPERANDS, limits.MAX_NESTING, limits.MAX_KEY_DEPTH, limits.MAX_NAME_BYTES):
        assert f" {value}" in table
    assert f"{limits.SEED_MAX:,}" in table and f"{limits.MAX_TRAIN_STEPS:,}" in table
    assert "1 MiB" in table  # the scenario file


def test_limits_imports_only_the_standard_library():
    tree = ast.parse(Path(limits.__file__).read_text(encoding="utf-8"))
    modules = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    modules += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) if n.level == 0]
    assert all(m.split(".")[0] in sys.stdlib_module_names or m == "__future__" for m in modules), modules
    assert not any(isinstance(n, ast.ImportFrom) and n.level > 0 for n in ast.walk(tree))


def test_models_use_the_same_numbers():
    from gpuviz.model import dense, speed_panel

    # grad --train, export grad --train and a grad scenario's steps: one cap
    assert dense.MAX_REPLAY == limits.MAX_TRAIN_STEPS
    assert speed_panel.MAX_SPEED_SIZES == limits.MAX_SPEED_SIZES
    assert limits.SEED_MAX == 2**32 - 1 and limits.SEED_MIN == 0


# -- nesting measured on the text ---------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("a = 1\n", (0, 1)),
    ("a.b.c = 1\n", (0, 3)),
    ("a . b . c = 1\n", (0, 3)),
    ("[x.y]\nz = 1\n", (1, 2)),
    ("[[t.u.v.w]]\nz = 1\n", (1, 4)),
    ("z = [[1, 2], [3]]\n", (2, 1)),
    ("w = {p.q = 1, r = 'a.b.c'}\n", (1, 2)),
    ('v = 1.5\n"a.b.c.d.e" = 2  # x.y.z.w\n', (0, 1)),
    ('s = """ [[[[ a.b.c.d = 1 """\n', (0, 1)),
    ("a = [\n  [1],\n  [2.5],\n]\nb.c = 1\n", (2, 2)),
])
def test_toml_depths(text, expected):
    assert toml_depths(text) == expected


def test_toml_depths_of_the_shipped_presets_are_within_the_bounds():
    for path in sorted((ROOT / "assets" / "presets").glob("*.toml")):
        assert depth_problem(path.read_text(encoding="utf-8")) is None, path.name


def test_deep_text_is_refused_in_a_moment():
    import time

    started = time.perf_counter()
    assert "20000 parts" in depth_problem("schema = 1\n" + ".".join(["a"] * 20000) + " = 1\n")
    assert "1000 deep" in depth_problem("x = " + "[" * 1000 + "]" * 1000 + "\n")
    assert "1000 deep" in depth_problem("[" * 1000 + "]" * 1000, "json")
    assert time.perf_counter() - started < 1.0


def test_json_depth_skips_strings():
    assert json_depth('{"a": [1, {"b": "]]][[[{{"}], "c": "\\"["}') == 3
    assert json_depth("[]") == 1 and json_depth("3") == 0


# -- outputs and inputs checked before the work --------------------------------------------------------


def _refusal(fn, *args) -> str:
    from gpuviz.cli.common import UsageError

    with pytest.raises(UsageError) as info:
        fn(*args)
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_check_output_refuses_what_would_fail_or_block_after_the_work(tmp_path):
    from gpuviz.cli.common import check_output

    fifo = tmp_path / "fifo.png"
    os.mkfifo(fifo)
    assert "empty path" in _refusal(check_output, "", "--screenshot", "s.png")
    assert "empty path" in _refusal(check_output, "  ", "--out", "t.npz")
    assert "folder" in _refusal(check_output, str(tmp_path), "--out", "t.npz")
    assert "FIFO" in _refusal(check_output, str(fifo), "--screenshot", "s.png")
    assert "device" in _refusal(check_output, "/dev/null", "--out", "t.npz")
    assert "does not exist" in _refusal(check_output, str(tmp_path / "no" / "t.npz"), "--out", "t.npz")
    assert "255" in _refusal(check_output, str(tmp_path / ("a" * 300 + ".png")), "--screenshot", "s.png")
    assert "NUL" in _refusal(check_output, "a\0b.png", "--out", "t.npz")
    ok = check_output(str(tmp_path / "fine.png"), "--screenshot", "s.png")
    assert ok == tmp_path / "fine.png"
    # the probe file is gone, and nothing else was made
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo.png"]


def test_check_output_refuses_a_folder_that_takes_no_file(tmp_path):
    from gpuviz.cli.common import check_output

    if os.geteuid() == 0:
        pytest.skip("root writes in a read-only folder")
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        assert "cannot write" in _refusal(check_output, str(folder / "x.png"), "--out", "x.png")
    finally:
        folder.chmod(0o700)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_check_input_file_reads_only_small_regular_files(tmp_path):
    from gpuviz.cli.common import check_input_file, read_results_text

    fifo = tmp_path / "r.json"
    os.mkfifo(fifo)
    big = tmp_path / "big.json"
    big.write_bytes(b" " * 2048)
    assert "device" in _refusal(check_input_file, "/dev/zero", "--load", 1024, "results file")
    assert "FIFO" in _refusal(check_input_file, str(fifo), "--load", 1024, "results file")
    assert "folder" in _refusal(check_input_file, str(tmp_path), "--load", 1024, "results file")
    assert "no such" in _refusal(check_input_file, str(tmp_path / "none.json"), "--load", 1024, "results file")
    assert "over the 1.0 KiB" in _refusal(check_input_file, str(big), "--load", 1024, "results file")
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 500 + "]" * 500)
    assert "500 deep" in _refusal(read_results_text, str(deep), "--load")


# -- a trace file measured by its headers -----------------------------------------------------------------


def _bomb(path: Path, events: int) -> Path:
    from gpuviz.model.trace import RECORD_DTYPE

    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        with zf.open("events.npy", "w", force_zip64=True) as f:
            header = {"descr": np.lib.format.dtype_to_descr(RECORD_DTYPE), "fortran_order": False,
                      "shape": (events,)}
            np.lib.format.write_array_header_1_0(f, header)
            f.write(b"\0" * 4096)
    return path


def test_trace_file_is_measured_before_it_is_decompressed(tmp_path):
    from gpuviz.model.trace import RECORD_DTYPE, Trace, TraceFileError, trace_file_bytes

    bomb = _bomb(tmp_path / "bomb.npz", 100_000_000)
    assert bomb.stat().st_size < 100_000
    assert trace_file_bytes(bomb) >= 100_000_000 * RECORD_DTYPE.itemsize
    tracemalloc.start()
    with pytest.raises(TraceFileError, match="over the memory budget"):
        Trace.load(bomb)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 10 * 2**20
    with pytest.raises(TraceFileError, match="not a trace file"):
        Trace.load(_write(tmp_path / "text.npz", b"not a zip"))
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "fifo.npz")
        with pytest.raises(TraceFileError, match="not a regular file"):
            Trace.load(tmp_path / "fifo.npz")


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_a_real_trace_reads_and_is_measured_close_to_its_size(tmp_path):
    from gpuviz.model.launch import Dim3
    from gpuviz.model.matmul import MatmulProblem
    from gpuviz.model.trace import Trace, trace_file_bytes
    from gpuviz.model.vectorized import vectorized_trace

    tr = vectorized_trace("tiled", MatmulProblem(16, 16, 16), Dim3(8, 8), seed=0)
    tr.save(tmp_path / "t.npz")
    back = Trace.load(tmp_path / "t.npz")
    assert back.same_events(tr)
    measured = trace_file_bytes(tmp_path / "t.npz")
    assert tr.to_records().nbytes <= measured <= 2 * (tr.to_records().nbytes + tr.nbytes)


# -- the trace memory estimate covers its peak -----------------------------------------------------------


@pytest.mark.parametrize("kernel, block, shape", [
    ("naive", (16, 16), (48, 40, 56)), ("uncoalesced", (8, 8), (48, 40, 56)), ("tiled", (16, 16), (48, 40, 56)),
    ("naive", (8, 8), (8, 8, 8)), ("tiled", (8, 8), (33, 17, 70)), ("naive", (16, 16), (64, 64, 64)),
])
def test_trace_estimate_covers_the_peak_of_building_and_writing_it(tmp_path, kernel, block, shape):
    from gpuviz.model.budget import plan_run
    from gpuviz.model.launch import Dim3
    from gpuviz.model.matmul import MatmulProblem
    from gpuviz.model.vectorized import vectorized_trace

    problem = MatmulProblem(*shape)
    plan = plan_run(kernel, problem, Dim3(*block), simulator=False, trace=True)
    tracemalloc.start()
    try:
        tr = vectorized_trace(kernel, problem, Dim3(*block), seed=0)
        tr.save(tmp_path / "t.npz")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(tr) == plan.events
    # covered, and not by a wide margin (an estimate twice the peak would refuse traces that fit)
    assert peak <= plan.memory_bytes <= 1.1 * peak + 8 * 2**20


# -- argument types -------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["9" * 5000, "99999999999999999999999999999999", "-1", "4294967296", "1.5", "", "x"])
def test_seed_arg_refuses_in_one_short_line(text):
    import argparse

    from gpuviz.cli.common import seed_arg

    with pytest.raises(argparse.ArgumentTypeError) as info:
        seed_arg(text)
    assert len(str(info.value)) < 200 and "\n" not in str(info.value)


def test_seed_arg_reads_the_whole_range():
    from gpuviz.cli.common import seed_arg

    assert seed_arg("0") == 0 and seed_arg(str(2**32 - 1)) == 2**32 - 1 and seed_arg(" 1_000 ") == 1000


def test_numbers_in_refusals_are_cut():
    from gpuviz.cli.common import shown

    assert shown("9" * 5000).endswith("(5,000 characters)") and len(shown("9" * 5000)) < 60
    assert shown("abc") == "'abc'"
    assert re.search(r"\d", shown("x" * 41))
