"""``gpuviz export``: the panels' own options build the scene, bad combinations cost one line, and ``--deck``.

Pictures are small (640×360) to keep these tests quick; tests/ui/test_export.py covers sizes, formats and
atomic writes of the single-picture export itself.
"""

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gpuviz import cli
from gpuviz.cli import export as cli_export
from gpuviz.model.dense import GradParams
from gpuviz.model.scenario import load_scenario, presets_dir
from gpuviz.model.scene import MatmulParams

PRESETS = presets_dir()
DATA = Path(__file__).resolve().parent / "data" / "scenarios"
SMALL = ["--size", "640x360"]


def run(capsys, *args):
    code = cli.main(["export", *map(str, args)])
    out, err = capsys.readouterr()
    return code, out, err


def svg_text(path) -> str:
    root = ET.parse(path).getroot()
    return " | ".join("".join(e.itertext()) for e in root.iter() if e.tag.endswith("text"))


def pixels(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB")).astype(int)


def scenario_of(*args):
    """The scenario ``gpuviz export ARGS`` would draw (parsed and built, nothing drawn)."""
    parsed = cli.build_parser().parse_args(["export", *args, "--out", "x.png"])
    cli_export._check_export_request(parsed)
    return cli_export._export_scenario(parsed, parsed.panel)


# -- panel options -------------------------------------------------------------------------------


def test_matmul_options_build_the_product_and_the_kernel_changes_the_picture(qtbot, tmp_path, capsys):
    product = ["--m", "16", "--n", "16", "--k", "16", "--block", "8x8", "--step", "2", *SMALL]
    code, out, err = run(capsys, "matmul", "--kernel", "tiled", *product, "--out", tmp_path / "tiled.png")
    assert code == 0, err
    assert out.strip() == f"wrote {tmp_path / 'tiled.png'}"
    code, _, err = run(capsys, "matmul", "--kernel", "naive", *product, "--out", tmp_path / "naive.png")
    assert code == 0, err
    tiled, naive = pixels(tmp_path / "tiled.png"), pixels(tmp_path / "naive.png")
    assert tiled.shape == naive.shape == (360, 640, 3)
    assert (np.abs(tiled - naive).max(axis=2) > 32).mean() > 0.01  # a different kernel is a different picture
    code, _, err = run(capsys, "matmul", "--kernel", "tiled", *product[:8], *SMALL, "--out", tmp_path / "t.svg")
    assert code == 0, err
    text = svg_text(tmp_path / "t.svg")
    assert "tiled" in text and "C 16×16, K = 16" in text and "4 (2×2 of 8×8)" in text


def test_a_preset_is_named_by_its_file_name_or_its_title_in_any_case():
    # the one rule (model.scenario.find_preset) that the window's --preset and --deck read names by too
    from gpuviz.model.scenario import find_preset, load_presets

    tiled = load_scenario(PRESETS / "04-tiled-64.toml")
    for name in ("04-tiled-64", "04-TILED-64.toml", f"  {tiled.title.upper()} "):
        assert scenario_of("matmul", "--preset", name) == tiled
    presets = load_presets()[0]
    assert find_preset(presets, "") is None and find_preset(presets, "04-tiled") is None


def test_options_override_the_preset_and_drop_what_no_longer_describes_it():
    tiled = load_scenario(PRESETS / "04-tiled-64.toml")
    assert scenario_of("matmul", "--preset", "04-tiled-64") == tiled
    s = scenario_of("matmul", "--preset", "04-tiled-64", "--m", "32", "--seed", "3")
    assert s.params == MatmulParams("tiled", 32, 64, 64, (8, 8), seed=3)
    # block (1, 3) still exists in the 8×4 grid of 32×64: the view stays; the captions were about 64×64×64
    assert s.view["selected_block"] == [1, 3] and s.key_steps == () and s.description == ""
    assert s.title == "tiled kernel: C (32×64) = A (32×64) · B (64×64), 8×8 blocks"
    # a product too small for the selected block falls back to block (0, 0) rather than failing
    s = scenario_of("matmul", "--preset", "04-tiled-64", "--m", "8", "--n", "8", "--k", "8")
    assert "selected_block" not in s.view and s.view["focus"] == "block"
    # without --preset the options change the panel's first preset
    s = scenario_of("matmul", "--kernel", "uncoalesced")
    assert s.params == MatmulParams("uncoalesced", 32, 32, 32, (8, 8))


def test_broadcast_shapes_build_the_scene_and_show_up_as_svg_text(qtbot, tmp_path, capsys):
    s = scenario_of("broadcast", "(4,3)", "5")
    assert s.params.shapes == ((4, 3), (5,)) and s.title == "(4, 3) + (5,)"
    code, _, err = run(capsys, "broadcast", "(5,3,2)", "(5,2)", "--step", "3", *SMALL, "--out", tmp_path / "b.svg")
    assert code == 0, err
    text = svg_text(tmp_path / "b.svg")
    assert "(5, 3, 2)" in text and "(5, 2)" in text
    assert "does not match" in text or "differ" in text  # step 3 of this pair is its failure


def test_grad_options_build_the_scene(qtbot, tmp_path, capsys):
    s = scenario_of("grad", "--layer", "digits", "--view", "batch", "--batch", "8", "--alpha", "0.25",
                    "--loss", "mse", "--seed", "2")
    assert s.params == GradParams("digits", 0.25, 8, 2, "mse")
    assert s.view["view"] == "batch"
    assert scenario_of("grad", "--layer", "digits", "--train", "20", "--view", "train").params.steps == 20
    code, _, err = run(capsys, "grad", "--layer", "digits", "--view", "batch", "--batch", "8", "--step", "3",
                       "--out", tmp_path / "g.svg", *SMALL)
    assert code == 0, err
    text = svg_text(tmp_path / "g.svg")
    assert "B = 8" in text and "step 3" in text


@pytest.mark.parametrize("args, needle", [
    (["matmul", "(5,3)"], "the matmul panel takes no SHAPE"),
    (["grad", "(5,3)"], "the grad panel takes no SHAPE"),
    (["broadcast", "(5,3,2)", "(5,2)", "--kernel", "tiled"], "--kernel is an option of the matmul panel"),
    (["broadcast", "(5,3,2)", "--seed", "1"], "--seed is an option of the matmul and grad panel"),
    (["matmul", "--layer", "toy"], "--layer is an option of the grad panel, not of matmul"),
    (["grad", "--block", "8x8"], "--block is an option of the matmul panel"),
    (["nope"], "unknown panel 'nope'"),
    ([], "give a PANEL"),
    (["matmul", "--format", "svg"], "--format goes with --deck"),
    (["matmul", "--fps", "3"], "--fps goes with a .gif"),
    (["matmul", "--block", "32x64"], "over CUDA's limit of 1024 threads per block"),
    (["matmul", "--kernel", "tiled", "--block", "8x4"], "must be square"),
    (["matmul", "--m", "0"], "at least 1"),
    (["broadcast", "(5,x)"], "cannot read '(5,x)' as a shape"),
    (["grad", "--layer", "toy", "--train", "5"], "--train needs --layer digits"),
    (["grad", "--layer", "toy", "--batch", "4"], "use --layer digits"),
    (["grad", "--layer", "digits", "--batch", "0"], "batch"),
    (["grad", "--alpha", "-1"], "must be more than 0"),
    (["matmul", "--step", "9999"], "out of range"),
    (["matmul", "--deck", "all"], "--deck takes no PANEL"),
    (["--deck", "all", "--step", "3"], "--step does not go with --deck"),
    (["--deck", "all", "--kernel", "tiled"], "--kernel does not go with --deck"),
    (["--deck", "all", "--preset", "04-tiled-64"], "--preset does not go with --deck"),
    (["--deck", "no-such-preset"], "--deck no-such-preset: no such folder, scenario file or preset"),
])
def test_bad_requests_exit_2_with_one_line(qtbot, tmp_path, capsys, args, needle):
    code, out, err = run(capsys, *args, "--out", tmp_path / "x.png")
    assert code == 2, (out, err)
    assert len(err.strip().splitlines()) == 1, err
    assert needle in err, err
    assert list(tmp_path.iterdir()) == []


def test_a_deck_into_a_file_is_refused(qtbot, tmp_path, capsys):
    (tmp_path / "deck").write_text("not a folder")
    code, _, err = run(capsys, "--deck", "22-slide-mn-plus-m", "--out", tmp_path / "deck")
    assert code == 2 and "a file is in the way" in err and len(err.strip().splitlines()) == 1


# -- decks -----------------------------------------------------------------------------------------


def test_a_deck_of_two_presets_writes_every_key_step_an_index_and_progress(qtbot, tmp_path, capsys):
    deck = tmp_path / "deck"
    code, out, err = run(capsys, "--deck", "17-slide-4x3", "02-dense-layer-wx", *SMALL, "--out", deck)
    assert code == 0, err
    expected = ["17-slide-4x3/step-002.png", "17-slide-4x3/step-003.png", "17-slide-4x3/step-005.png",
                "02-dense-layer-wx/step-000.png", "02-dense-layer-wx/step-006.png", "02-dense-layer-wx/step-007.png"]
    written = sorted(p.relative_to(deck).as_posix() for p in deck.rglob("*.png"))
    assert written == sorted(expected)
    for name in expected:
        assert Image.open(deck / name).size == (640, 360)
    lines = err.strip().splitlines()
    assert lines == [f"[{i}/6] {name.split('/')[0]} step {int(name[-7:-4])} → {deck / name}"
                     for i, name in enumerate(expected, 1)]
    assert out.strip().startswith(f"wrote 6 pictures and {deck / 'index.md'}")
    index = (deck / "index.md").read_text()
    slide = load_scenario(PRESETS / "17-slide-4x3.toml")
    assert slide.title in index
    for ks in slide.key_steps:
        assert ks.caption in index
    assert "| 5 |" in index and "[17-slide-4x3/step-005.png](17-slide-4x3/step-005.png)" in index
    # the same preset's key frames differ from each other: each really shows its own step
    assert not np.array_equal(pixels(deck / expected[0]), pixels(deck / expected[2]))


def test_a_failing_scenario_is_reported_and_the_others_are_still_written(qtbot, tmp_path, capsys):
    folder = tmp_path / "scenarios"
    folder.mkdir()
    shutil.copy(PRESETS / "22-slide-mn-plus-m.toml", folder / "a-good.toml")
    shutil.copy(DATA / "bad-toml.toml", folder / "b-unreadable.toml")
    # reads fine, but the grad panel refuses an entry outside the toy's 3×7 W when it draws it
    (folder / "c-undrawable.toml").write_text(
        'schema = 1\npanel = "grad"\ntitle = "Entry out of range"\n[params]\nlayer = "toy"\n'
        '[view]\nview = "layer"\nselected = [7, 99]\n', encoding="utf-8")
    shutil.copy(PRESETS / "23-slide-mn-plus-m1.toml", folder / "d-good.toml")
    deck = tmp_path / "deck"
    code, out, err = run(capsys, "--deck", folder, *SMALL, "--out", deck)
    assert code == 1, err
    assert (deck / "a-good" / "step-003.png").is_file() and (deck / "d-good" / "step-003.png").is_file()
    assert not (deck / "c-undrawable").exists() or not list((deck / "c-undrawable").iterdir())
    lines = err.strip().splitlines()
    assert lines[0].startswith("[-] b-unreadable could not be read: b-unreadable.toml: is not valid TOML")
    assert lines[1] == f"[1/3] a-good step 3 → {deck / 'a-good' / 'step-003.png'}"
    assert lines[2].startswith("[2/3] c-undrawable its view failed: ")
    assert lines[3] == f"[3/3] d-good step 3 → {deck / 'd-good' / 'step-003.png'}"
    assert "2 failures" in out
    # exit 1: the last line says why, after the progress lines
    assert lines[-1] == (f"gpuviz: 1 of 3 pictures not exported; 1 scenario file could not be read: "
                         f"see {deck / 'index.md'}")
    index = (deck / "index.md").read_text()
    assert "## Not exported" in index and "b-unreadable" in index and "c-undrawable" in index


def test_a_deck_as_svg(qtbot, tmp_path, capsys):
    code, _, err = run(capsys, "--deck", "22-slide-mn-plus-m", "--format", "svg", *SMALL, "--out", tmp_path / "d")
    assert code == 0, err
    assert "(4, 3)" in svg_text(tmp_path / "d" / "22-slide-mn-plus-m" / "step-003.svg")


def test_the_deck_plan_names_pictures_by_scenario_and_zero_padded_step():
    from gpuviz.ui.deck import plan_deck

    batch = load_scenario(PRESETS / "03-batch-10x784.toml")
    quiz = load_scenario(PRESETS / "10-quiz-a.toml")
    toy = load_scenario(PRESETS / "30-grad-toy-3x7.toml")
    summed = load_scenario(PRESETS / "32-grad-batch-sum.toml")
    plan = plan_deck([batch, quiz, toy, summed, quiz], "svg")
    assert [p.file.as_posix() for p in plan] == [
        "03-batch-10x784/step-000.svg", "03-batch-10x784/step-783.svg", "03-batch-10x784/step-784.svg",
        "10-quiz-a/question.svg",            # a quiz question: the frame the class sees, then its answer
        "10-quiz-a/answer.svg",
        "30-grad-toy-3x7/layer.svg",         # the grad layer view has no timeline: one picture of it
        "32-grad-batch-sum/step-000.svg",    # its batch view steps through batch_step
        "10-quiz-a-2/question.svg",          # the same scenario twice gets its own folder
        "10-quiz-a-2/answer.svg",
    ]
    assert plan[5].step is None and plan[5].caption == toy.key_steps[0].caption
    assert plan[1].caption == batch.key_steps[1].caption and plan[6].caption == ""


def test_a_progress_callback_can_stop_the_deck(qtbot, tmp_path):
    from gpuviz.ui.deck import export_deck

    seen = []
    result = export_deck([load_scenario(PRESETS / "17-slide-4x3.toml")], tmp_path, size=(320, 180),
                         progress=lambda event: seen.append(event.done) or False)
    assert seen == [1] and result.cancelled and not result.ok
    assert len(result.written) == 1 and "cancelled" in (tmp_path / "index.md").read_text()


def test_slide_shows_the_title_and_the_key_steps_caption(qtbot, tmp_path, capsys):
    preset = load_scenario(PRESETS / "22-slide-mn-plus-m.toml")
    code, _, err = run(capsys, "broadcast", "--preset", preset.name, "--step", "3", "--slide", *SMALL,
                       "--out", tmp_path / "s.svg")
    assert code == 0, err
    text = " ".join(svg_text(tmp_path / "s.svg").replace(" | ", " ").split())
    assert preset.title in text
    assert " ".join(preset.key_steps[0].caption.split()[:6]) in text
    assert "Quiz mode" not in text  # the controls are not part of a slide
    code, _, err = run(capsys, "broadcast", "--preset", preset.name, "--slide", "--theme", "dark",
                       "--out", tmp_path / "d.png")
    assert code == 2 and "light background" in err


def _results_file(tmp_path) -> Path:
    # drawing is what is tested here: the figures are a fixture, labelled with a test machine
    from gpuviz.model import speed

    ms = [speed.Measurement("dot", impl, 1_000_000, t, t * 0.9, t * 1.1, 5, None, None,
                            speed.flops("dot", 1_000_000), 0.0) for impl, t in (("python", 0.05), ("numpy", 1e-4))]
    machine = speed.Machine("Test CPU 3000", 8, "OpenBLAS 0.3.27", None, "3.11.7", "2.4.6", "0.68.1", "Linux")
    path = tmp_path / "dot.json"
    speed.BenchResults(machine, ms, "2026-01-01T10:00:00+00:00").save(path)
    return path


def test_the_speed_panel_exports_the_measurements_of_a_results_file(qtbot, tmp_path, capsys):
    results = _results_file(tmp_path)
    code, _, err = run(capsys, "speed", "--results", results, "--out", tmp_path / "s.svg")
    assert code == 0, err
    text = svg_text(tmp_path / "s.svg")
    assert "500" in text and "Test CPU 3000" in text  # 0.05 s / 100 µs: the ratio the file's figures give
    code, _, err = run(capsys, "speed", "--results", tmp_path / "missing.json", "--out", tmp_path / "t.png")
    assert code == 2 and err.count("\n") == 1 and "--results" in err and not (tmp_path / "t.png").exists()
    code, _, err = run(capsys, "matmul", "--results", results, "--out", tmp_path / "u.png")
    assert code == 2 and "--results is an option of the speed panel" in err


def test_a_deck_skips_a_speed_scenario_with_nothing_measured_and_says_why(qtbot, tmp_path, capsys):
    deck = tmp_path / "deck"
    # the shipped speed presets name shipped results (issue 17): a scenario of one's own may name none
    preset = (presets_dir() / "40-speed-lecture-demo.toml").read_text(encoding="utf-8")
    unmeasured = tmp_path / "unmeasured.toml"
    unmeasured.write_text(preset.replace('results = "../results/speed-lecture-demo.json"', ""), encoding="utf-8")
    code, out, err = run(capsys, "--deck", unmeasured, "22-slide-mn-plus-m", *SMALL, "--out", deck)
    assert code == 0, err
    assert "unmeasured its view skipped: no measurements" in err
    assert not (deck / "unmeasured").exists() or not list((deck / "unmeasured").iterdir())
    assert (deck / "22-slide-mn-plus-m" / "step-003.png").is_file()
    assert "skipped 1 with nothing to show yet" in out
    assert "## Skipped" in (deck / "index.md").read_text()


# -- issue 16.6 and 18: frames, memory, paths checked before the work -----------------------------------------


def test_a_gif_of_the_tiled_64_cubed_scene_has_one_frame_per_step(qtbot, tmp_path, capsys):
    out = tmp_path / "t.gif"
    code, _, err = run(capsys, "matmul", "--kernel", "tiled", "--m", 64, "--n", 64, "--k", 64, "--block", "8x8",
                       "--steps", "0:8", *SMALL, "--out", out)
    assert code == 0, err
    gif = Image.open(out)
    assert gif.n_frames == 8  # per-frame palettes made steps 4 to 7 equal, and Pillow merged them: 5 frames


def test_memory_is_the_budget_of_run_and_a_big_export_is_refused_before_anything_is_drawn(qtbot, tmp_path,
                                                                                          capsys, monkeypatch):
    from gpuviz.model.budget import Budget
    from gpuviz.ui import export as ex

    parsed = cli.build_parser().parse_args(["export", "matmul", "--out", "x.png"])
    assert parsed.export_memory == Budget().memory_bytes
    drawn = []
    monkeypatch.setattr(ex, "render_widget", lambda *a, **k: drawn.append(1))
    for args in (["--size", "7680x4320", "--out", tmp_path / "a.png"],
                 ["--size", "7680x4320", "--steps", "0:33", "--out", tmp_path / "a.gif"],
                 ["--size", "3840x2160", "--out", tmp_path / "a.gif"]):
        code, _, err = run(capsys, "matmul", "--memory", "64MiB", *args)
        assert code == 2 and len(err.strip().splitlines()) == 1, err
        assert "over the memory budget of 64.0 MiB (raise it with --memory)" in err, err
    code, _, err = run(capsys, "--deck", "all", "--size", "7680x4320", "--memory", "64MiB", "--out", tmp_path / "d")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "over the memory budget" in err, err
    assert drawn == [] and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("make, args, needle", [
    (None, ["--out", ""], "an empty path names no file"),
    ("dir", ["--out", "{t}/x.png"], "is a folder"),
    ("fifo", ["--out", "{t}/x.png"], "is a FIFO"),
    (None, ["--out", "/proc/x.png"], "cannot write in the folder"),
    (None, ["--out", "{t}/" + "a" * 300 + ".png"], "over the 255-byte limit"),
    (None, ["--out", "{t}/no/x.png"], "does not exist"),
    ("fifo", ["--scenario", "{t}/x.png", "--out", "{t}/y.png"], "is a FIFO"),
    (None, ["--scenario", "/dev/zero", "--out", "{t}/y.png"], "is a device"),
    ("big", ["--scenario", "{t}/x.png", "--out", "{t}/y.png"], "over the 1.0 MiB"),
])
def test_paths_are_checked_before_anything_is_read_or_drawn(qtbot, tmp_path, capsys, make, args, needle):
    import os

    thing = tmp_path / "x.png"
    if make == "dir":
        thing.mkdir()
    elif make == "fifo":
        os.mkfifo(thing)  # opened, it would block forever
    elif make == "big":
        thing.write_bytes(b"#" * (2 * 2**20))
    code, _, err = run(capsys, "matmul", *[a.format(t=tmp_path) for a in args])
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert needle in err, err


def test_speed_results_must_be_a_regular_file_under_the_bound(qtbot, tmp_path, capsys):
    import os

    os.mkfifo(tmp_path / "r.json")
    code, _, err = run(capsys, "speed", "--results", tmp_path / "r.json", "--out", tmp_path / "s.png")
    assert code == 2 and "is a FIFO" in err and len(err.strip().splitlines()) == 1, err
    code, _, err = run(capsys, "speed", "--results", "/dev/zero", "--out", tmp_path / "s.png")
    assert code == 2 and "is a device" in err, err


@pytest.mark.parametrize("make, needle", [
    ("file", "a file is in the way"),
    ("fifo", "is in the way"),
    ("missing-parent", "does not exist"),
    ("empty", "an empty path names no folder"),
])
def test_a_deck_folder_is_checked_before_any_source_is_read(qtbot, tmp_path, capsys, make, needle):
    import os

    out = tmp_path / "deck"
    if make == "file":
        out.write_text("x")
    elif make == "fifo":
        os.mkfifo(out)
    elif make == "missing-parent":
        out = tmp_path / "no" / "deck"
    elif make == "empty":
        out = ""
    sources = tmp_path / "sources"
    sources.mkdir()
    for i in range(3):
        (sources / f"bad{i}.toml").write_text("not toml [")
    code, _, err = run(capsys, "--deck", sources, "--out", out)
    # one line: the --out error, not a "could not be read" line per source before it
    assert code == 2 and len(err.strip().splitlines()) == 1 and needle in err, err


@pytest.mark.parametrize("args, needle", [
    (["broadcast", *["(2,)"] * 9], "at most 8 operands"),
    (["matmul", "--steps", "0:99999999999999999999999"], "out of range"),
    (["matmul", "--steps", "0:" + "9" * 5000], "more than 30 digits"),
    (["matmul", "--fps", "0.001"], "at least 0.1"),
    (["matmul", "--fps", "nan"], "at least 0.1"),
    (["matmul", "--memory", "9" * 400], "digits"),
    (["matmul", "--memory", "1000TiB"], "64.0 TiB, the largest memory budget"),
    (["matmul", "--seed", "-1"], "outside 0 … 4,294,967,295 (2³²−1), the range of a seed"),
    (["matmul", "--seed", "9" * 20], "the range of a seed"),
    (["grad", "--seed", "9" * 5000], "5,000 digits"),
    (["grad", "--layer", "digits", "--train", "5001"], "more than the 5,000 allowed"),
    (["grad", "--layer", "digits", "--train", "0"], "at least 1"),
    (["matmul", "--kernel", "tiled", "--m", "64", "--n", "64", "--k", "64", "--step", "9" * 5000],
     "5,000 digits"),
    (["matmul", "--step", "٣"], "cannot read '٣' as a step"),
])
def test_hostile_numbers_in_a_gif_request_cost_one_line(qtbot, tmp_path, capsys, args, needle):
    code, out, err = run(capsys, *args, "--out", tmp_path / "x.gif")
    assert code == 2, (out, err)
    assert len(err.strip().splitlines()) == 1 and len(err) < 300, err
    assert needle in err, err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args, step", [(["--step", "3"], 3), (["--step", "+3"], 3), (["--step", "1_0"], 10)])
def test_step_is_read_as_a_whole_number(args, step):
    parsed = cli.build_parser().parse_args(["export", "matmul", *args, "--out", "x.png"])
    assert parsed.export_step == step


@pytest.mark.parametrize("source, needle", [
    ("", "--deck '': an empty argument names no folder"),  # Path('') is the current folder
    (" ", "an empty argument"),
    ("a" * 259, "a name of 259 bytes, over the 255-byte limit"),
    ("x/" + "b" * 300 + ".toml", "a name of 305 bytes"),
])
def test_a_deck_source_that_names_nothing_is_one_line(qtbot, tmp_path, capsys, monkeypatch, source, needle):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.toml").write_text("not toml [")  # the current folder would give a "could not be read" line
    code, out, err = run(capsys, "--deck", source, "--out", tmp_path / "d")
    assert code == 2 and len(err.strip().splitlines()) == 1 and needle in err and len(err) < 300, err
    assert out == "" and not (tmp_path / "d").exists()


def test_a_deck_source_that_would_block_or_never_end_is_one_line(qtbot, tmp_path, capsys):
    import os

    os.mkfifo(tmp_path / "pipe.toml")  # opened, it would block forever
    for source, needle in [(tmp_path / "pipe.toml", "is a FIFO (named pipe), expected a folder, scenario file"),
                           ("/dev/zero", "is a device")]:
        code, out, err = run(capsys, "--deck", source, "--out", tmp_path / "d")
        assert code == 2 and len(err.strip().splitlines()) == 1 and needle in err, err
    assert not (tmp_path / "d").exists()


def test_a_results_file_nested_too_deep_or_not_json_is_one_line(qtbot, tmp_path, capsys):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 1000 + "]" * 1000)
    code, _, err = run(capsys, "speed", "--results", deep, "--out", tmp_path / "s.png")
    assert code == 2 and "deep, over the limit" in err and len(err.strip().splitlines()) == 1, err
    (tmp_path / "bad.json").write_bytes(b"\xff\xfe{")
    code, _, err = run(capsys, "speed", "--results", tmp_path / "bad.json", "--out", tmp_path / "s.png")
    assert code == 2 and "not UTF-8" in err and len(err.strip().splitlines()) == 1, err
    (tmp_path / "long.json").write_text('{"format": "gpuviz-bench", "results": [' + "9" * 5000 + "]}")
    code, _, err = run(capsys, "speed", "--results", tmp_path / "long.json", "--out", tmp_path / "s.png")
    assert code == 2 and "5,000 digits" in err and len(err.strip().splitlines()) == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json", "deep.json", "long.json"]
