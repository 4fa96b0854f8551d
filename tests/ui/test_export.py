"""gpuviz.ui.export and `gpuviz export`: sizes, formats, pixels against the screen, atomic writes, one-line errors."""

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PIL import Image

from gpuviz import cli
from gpuviz.model.scenario import presets_dir
from gpuviz.ui import export as ex
from gpuviz.ui import theme as themes

PRESETS = presets_dir()


def _colours(path) -> int:
    arr = np.asarray(Image.open(path).convert("RGB")).astype(np.uint32)
    # packed into one integer per pixel: np.unique over rows of a 4K image takes seconds
    return len(np.unique((arr[..., 0] << 16) | (arr[..., 1] << 8) | arr[..., 2]))


def test_png_has_the_requested_size_and_is_not_blank(qtbot, tmp_path):
    out = ex.export_panel("matmul", None, tmp_path / "m.png", size=(1280, 720))
    assert Image.open(out).size == (1280, 720)
    assert _colours(out) > 200


def test_png_matches_the_on_screen_render_of_the_same_scene(qtbot, tmp_path):
    from gpuviz.ui.main_window import render_widget
    from gpuviz.ui.matmul.panel import MatmulPanel

    themes.apply_theme(qtbot_app(), themes.LIGHT)
    panel = MatmulPanel()
    qtbot.addWidget(panel)
    panel.set_theme(themes.LIGHT)
    scenario = panel.presets()[0]
    panel.apply_scenario(scenario)
    panel.resize(1920, 1080)
    panel.show()
    screen = ex.image_to_array(render_widget(panel, 1920, 1080)).astype(int)
    out = ex.export_panel("matmul", scenario, tmp_path / "m.png", size=(1920, 1080), theme="light")
    exported = np.asarray(Image.open(out).convert("RGBA")).astype(int)
    assert exported.shape == screen.shape
    diff = np.abs(exported - screen).max(axis=2)
    # same scene, same theme: all but a sliver of pixels (e.g. a blinking caret) agree
    assert (diff > 8).mean() < 0.002, f"{(diff > 8).mean():.4%} of pixels differ"
    # and a different step really is a different picture: the comparison can fail
    other = ex.export_panel("matmul", scenario, tmp_path / "m5.png", size=(1920, 1080), step=5)
    assert (np.abs(np.asarray(Image.open(other).convert("RGBA")).astype(int) - screen).max(axis=2) > 8).mean() > 0.002


def qtbot_app():
    from PyQt6.QtWidgets import QApplication

    return QApplication.instance()


def test_4k_png_is_the_1080p_layout_at_double_density(qtbot, tmp_path):
    assert ex.layout_for((3840, 2160)) == ((1920, 1080), 2.0)
    out = ex.export_panel("matmul", None, tmp_path / "m4k.png", size=(3840, 2160))
    assert Image.open(out).size == (3840, 2160)
    assert _colours(out) > 200


def test_svg_parses_and_keeps_the_panel_text_as_text(qtbot, tmp_path):
    out = ex.export_panel("broadcast", None, tmp_path / "b.svg")
    root = ET.parse(out).getroot()
    texts = " ".join("".join(e.itertext()) for e in root.iter() if e.tag.endswith("text"))
    assert "Compare dimension" in texts or "Right-align" in texts or "Step" in texts, texts[:300]
    assert "Lecture example" in texts


def test_a_4k_svg_is_the_1080p_layout_shown_at_4k(qtbot, tmp_path):
    # the text keeps its slide proportions: the view box is the layout, width/height the requested size
    root = ET.parse(ex.export_panel("broadcast", None, tmp_path / "b.svg", size=(3840, 2160))).getroot()
    assert root.get("viewBox").split() == ["0", "0", "1920", "1080"]
    small = ET.parse(ex.export_panel("broadcast", None, tmp_path / "s.svg")).getroot()
    width = [float(re.match(r"[\d.]+", svg.get("width"))[0]) for svg in (root, small)]
    assert width[0] == pytest.approx(2 * width[1], rel=1e-3)


def test_gif_has_one_frame_per_step_of_the_half_open_range(qtbot, tmp_path):
    out = ex.export_panel("broadcast", None, tmp_path / "b.gif", size=(640, 360), steps=ex.parse_steps("1:4"))
    gif = Image.open(out)
    assert gif.size == (640, 360)
    assert gif.n_frames == 3
    frames = []
    for i in range(gif.n_frames):
        gif.seek(i)
        frames.append(np.asarray(gif.convert("RGB")))
    assert not np.array_equal(frames[0], frames[1])  # the steps differ, so do the frames


@pytest.mark.parametrize("name, kwargs, needle", [
    ("m.bmp", {}, "unknown picture format"),
    ("m.png", {"size": (0, 100)}, "out of range"),
    ("m.png", {"size": (7681, 100)}, "8K"),
    ("m.png", {"step": 10_000}, "step 10000 is out of range"),
    ("m.gif", {"steps": range(0, 10_000)}, "out of range"),
    ("m.png", {"theme": "neon"}, "unknown theme"),
])
def test_bad_requests_raise_one_sentence_and_write_nothing(qtbot, tmp_path, name, kwargs, needle):
    with pytest.raises(ex.ExportError, match=needle):
        ex.export_panel("matmul", None, tmp_path / name, **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_missing_folder_is_refused(qtbot, tmp_path):
    with pytest.raises(ex.ExportError, match="does not exist"):
        ex.export_panel("matmul", None, tmp_path / "nope" / "m.png")


def test_a_folder_in_the_way_is_refused_and_left_alone(qtbot, tmp_path):
    target = tmp_path / "m.png"
    target.mkdir()
    (target / "keep.txt").write_text("x")
    with pytest.raises(ex.ExportError, match="folder is in the way"):
        ex.export_panel("matmul", None, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.png"]
    assert (target / "keep.txt").read_text() == "x"


def test_a_failure_mid_write_keeps_the_old_file_byte_identical(qtbot, tmp_path, monkeypatch):
    target = tmp_path / "m.png"
    ex.export_panel("matmul", None, target, size=(320, 180))
    old = target.read_bytes()
    real_fsync = ex.os.fsync

    def boom(fd):
        real_fsync(fd)
        raise OSError(5, "disk on fire")

    monkeypatch.setattr(ex.os, "fsync", boom)
    with pytest.raises(OSError, match="disk on fire"):
        ex.export_panel("matmul", None, target, size=(640, 360), step=3)
    assert target.read_bytes() == old
    assert [p.name for p in tmp_path.iterdir()] == ["m.png"]  # no temporary file left behind


def test_write_atomic_replaces_in_one_step(tmp_path):
    target = tmp_path / "a.svg"
    target.write_bytes(b"old")
    ex.write_atomic(target, b"new content")
    assert target.read_bytes() == b"new content"
    assert [p.name for p in tmp_path.iterdir()] == ["a.svg"]


def test_parse_steps_is_half_open():
    assert ex.parse_steps("0:8") == range(0, 8)
    for bad in ("8:0", "3:3", "a:b", "5", "-1:2"):
        with pytest.raises(ex.ExportError):
            ex.parse_steps(bad)


def test_cli_export_writes_a_png(qtbot, tmp_path, capsys):
    out = tmp_path / "t.png"
    code = cli.main(["export", "matmul", "--preset", "04-tiled-64", "--step", "2", "--size", "640x360",
                     "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    assert Image.open(out).size == (640, 360)


@pytest.mark.parametrize("args, needle", [
    (["matmul", "--out", "{d}/x.bmp"], "unknown picture format"),
    (["matmul", "--out", "{d}/no/x.png"], "does not exist"),
    (["matmul", "--out", "{d}"], "unknown picture format"),
    (["matmul", "--size", "0x5", "--out", "{d}/x.png"], "at least 1 pixel"),
    (["matmul", "--size", "7681x10", "--out", "{d}/x.png"], "7680x4320"),
    (["matmul", "--step", "999", "--out", "{d}/x.png"], "out of range"),
    (["matmul", "--steps", "0:999", "--out", "{d}/x.gif"], "out of range"),
    (["matmul", "--steps", "0:3", "--out", "{d}/x.png"], "--steps goes with a .gif"),
    (["matmul", "--preset", "nope", "--out", "{d}/x.png"], "no such matmul preset"),
    (["grad", "--out", "{d}/x.gif"], "no steps"),
    (["matmul", "--scenario", "{d}/missing.toml", "--out", "{d}/x.png"], "--scenario"),
    (["matmul", "--scenario", str(PRESETS / "30-grad-toy-3x7.toml"), "--out", "{d}/x.png"], "for the grad panel"),
])
def test_cli_export_refuses_bad_requests_in_one_line(qtbot, tmp_path, capsys, args, needle):
    code = cli.main(["export", *[a.format(d=tmp_path) for a in args]])
    out, err = capsys.readouterr()
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert needle in err
    assert not list(tmp_path.glob("x.*"))


def test_a_hard_kill_mid_write_leaves_the_old_file_under_the_target_name(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    target = tmp_path / "m.png"
    target.write_bytes(b"old picture")
    # the child writes the temporary file, then stalls before the rename: killed there, as by a power cut
    child = subprocess.Popen([sys.executable, "-c", (
        "import os, sys, time\n"
        "from gpuviz.ui import export as ex\n"
        "real = ex.os.fsync\n"
        "def stall(fd):\n"
        "    real(fd); print('written', flush=True); time.sleep(60)\n"
        "ex.os.fsync = stall\n"
        f"ex.write_atomic({str(target)!r}, b'new' * 1_000_000)\n")],
        stdout=subprocess.PIPE, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    try:
        assert child.stdout.readline().strip() == b"written"
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
    time.sleep(0.05)
    assert target.read_bytes() == b"old picture"
    # a temporary file may survive a hard kill, never under the target's name
    assert any(p.name.endswith(".part") for p in tmp_path.iterdir())  # killed after the write, before the rename
    assert all(p.name == "m.png" or (p.name.startswith(".m.png.") and p.name.endswith(".part"))
               for p in tmp_path.iterdir())


# -- progress, slides, frames without a file, the window, line widths ------------------------------------


def test_gif_progress_is_called_once_per_frame_and_false_cancels_leaving_the_old_file(qtbot, tmp_path):
    target = tmp_path / "b.gif"
    calls = []
    ex.export_panel("broadcast", None, target, size=(160, 90), steps=range(0, 3),
                    progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 3), (2, 3), (3, 3)]
    old = target.read_bytes()
    seen = []

    def stop_after_two(done, total):
        seen.append(done)
        return done < 2

    with pytest.raises(ex.ExportCancelled):
        ex.export_panel("broadcast", None, target, size=(320, 180), steps=range(0, 3), progress=stop_after_two)
    assert seen == [1, 2]  # stopped at once, the third frame never rendered
    assert target.read_bytes() == old
    assert [p.name for p in tmp_path.iterdir()] == ["b.gif"]
    assert issubclass(ex.ExportCancelled, ex.ExportError)


def test_render_frames_gives_the_frames_without_writing(qtbot, tmp_path):
    frames = ex.render_frames("broadcast", None, size=(640, 360), steps=range(1, 4))
    assert [(f.width(), f.height()) for f in frames] == [(640, 360)] * 3
    assert not np.array_equal(ex.image_to_array(frames[0]), ex.image_to_array(frames[1]))
    (one,) = ex.render_frames("matmul", None, size=(640, 360), step=2)
    assert (one.width(), one.height()) == (640, 360)
    with pytest.raises(ex.ExportError, match="not both"):
        ex.render_frames("matmul", None, size=(64, 36), step=1, steps=range(0, 2))
    assert list(tmp_path.iterdir()) == []


def test_a_slide_is_refused_on_a_dark_theme(qtbot, tmp_path):
    with pytest.raises(ex.ExportError, match="a slide has a light background"):
        ex.export_panel("matmul", None, tmp_path / "s.png", size=(320, 180), theme="dark", slide=True)
    assert list(tmp_path.iterdir()) == []


def test_a_slide_puts_the_copy_in_its_slide_look_with_the_key_steps_caption(qtbot, tmp_path):
    from gpuviz.ui.matmul.panel import MatmulPanel

    made = []

    class SlideSpy(MatmulPanel):
        """The matmul panel, recording what the export asks of its slide look."""

        def __init__(self):
            super().__init__()
            self.slide_calls = []
            made.append(self)

        def set_slide(self, on):
            self.slide_calls.append(("slide", on))

        def set_caption(self, text):
            self.slide_calls.append(("caption", text))

    scenario = next(s for s in MatmulPanel().presets() if len(s.key_steps) >= 2)
    key = scenario.key_steps[1]
    ex.export_panel(SlideSpy, scenario, tmp_path / "k.png", size=(320, 180), step=key.step, slide=True)
    spy = made[-1]
    assert spy.slide_calls[0] == ("slide", True)
    assert spy.slide_calls[-1] == ("caption", key.caption)
    assert spy.theme.name == "slide" and not spy.theme.dark
    # a step that is not a key step has no caption
    plain = next(s for s in range(0, 40) if s not in {k.step for k in scenario.key_steps})
    ex.export_panel(SlideSpy, scenario, tmp_path / "p.png", size=(320, 180), step=plain, slide=True)
    assert made[-1].slide_calls[-1] == ("caption", None)


def _block_line_runs(arr) -> np.ndarray:
    """Widths (physical px) of dark runs with a block colour on both sides: block boundaries inside C."""
    rgb = arr[..., :3].astype(int)
    dark = rgb.max(axis=2) < 80
    coloured = (rgb.max(axis=2) - rgb.min(axis=2)) > 60
    widths = []
    for y in range(0, rgb.shape[0], 3):
        d, c = dark[y], coloured[y]
        edges = np.flatnonzero(np.diff(np.concatenate([[0], d.astype(np.int8), [0]])))
        for start, stop in zip(edges[::2], edges[1::2]):
            if 0 < start and stop < len(d) and c[start - 1] and c[stop] and stop - start < 20:
                widths.append(stop - start)
    return np.array(widths)


def test_lines_are_thicker_at_a_higher_device_pixel_ratio(qtbot):
    # the same 960×540 layout at ratio 1 and 2: the C view's block lines (cosmetic pens of 1.6·line_scale)
    # are 1.6 physical px at ratio 1 and must be 3.2, not 1.6, at ratio 2
    (one,) = ex.render_frames("matmul", None, size=(960, 540), dpr=1)
    (two,) = ex.render_frames("matmul", None, size=(1920, 1080), dpr=2)
    thin, thick = _block_line_runs(ex.image_to_array(one)), _block_line_runs(ex.image_to_array(two))
    assert len(thin) > 20 and len(thick) > 20
    assert np.median(thin) <= 2
    assert np.median(thick) >= 3, np.bincount(thick)


def test_export_window_writes_the_whole_window_and_gives_its_size_back(qtbot, main_window, tmp_path):
    main_window.resize(1400, 900)
    out = ex.export_window(main_window, tmp_path / "w.png", size=(960, 540))
    assert Image.open(out).size == (960, 540)
    assert (main_window.width(), main_window.height()) == (1400, 900)
    assert _colours(out) > 100
    # the menu bar is in the picture: the window's own top rows, not the panel's
    top = np.asarray(Image.open(out).convert("RGB"))[:20]
    assert len(np.unique(top.reshape(-1, 3), axis=0)) > 5
    with pytest.raises(ex.ExportError, match="a window exports as .png or .svg"):
        ex.export_window(main_window, tmp_path / "w.gif")
    svg = ex.export_window(main_window, tmp_path / "w.svg", size=(960, 540))
    texts = " ".join("".join(e.itertext()) for e in ET.parse(svg).getroot().iter() if e.tag.endswith("text"))
    assert "Matmul on the GPU" in texts and "elp" in texts  # a tab title and the Help menu (H̲elp: split)


def test_export_window_at_ratio_2_gives_the_panels_their_theme_back(qtbot, main_window, tmp_path):
    before = [p.theme for p in main_window.panels]
    out = ex.export_window(main_window, tmp_path / "w4k.png", size=(1920, 1080), dpr=2)
    assert Image.open(out).size == (1920, 1080)
    assert [p.theme for p in main_window.panels] == before
    assert all(a is b for a, b in zip((p.theme for p in main_window.panels), before))


# -- sizes below 1280×720, GIF frames, memory, stale temporary files (issues 16.6, 18.4, 18.5) ---------------------


@pytest.mark.parametrize("size, layout, dpr", [
    ((640, 360), (1280, 720), 0.5),
    ((1280, 720), (1280, 720), 1.0),
    ((1920, 1080), (1920, 1080), 1.0),
    ((3840, 2160), (1920, 1080), 2.0),
    ((320, 360), (1280, 1440), 0.25),  # the narrower side decides: a tall picture is a tall layout
    ((1000, 700), (1280, 896), 0.78125),
])
def test_layout_of_a_size(size, layout, dpr):
    assert ex.layout_for(size) == (layout, dpr)


def test_every_small_size_is_a_whole_layout_drawn_to_exactly_that_size():
    for width in range(1, 1281, 37):
        for height in range(1, 721, 23):
            (lw, lh), dpr = ex.layout_for((width, height))
            assert (round(lw * dpr), round(lh * dpr)) == (width, height)
            assert min(lw / 1280, lh / 720) >= 1 - 1e-9 or dpr == 1  # at least 1280×720 of layout


def test_a_640x360_picture_is_the_1280x720_one_at_half_size(qtbot):
    (small,) = ex.render_frames("matmul", None, size=(640, 360))
    (big,) = ex.render_frames("matmul", None, size=(1280, 720))
    small = ex.image_to_array(small)[:, :, :3].astype(float)
    halved = np.asarray(Image.fromarray(ex.image_to_array(big)[:, :, :3]).resize((640, 360), Image.Resampling.BOX))
    # the same layout drawn at ratio 0.5 against the 1280×720 picture averaged 2×2: only antialiasing differs
    # (the panel squeezed into a 640×360 layout differed by a mean of 35 levels)
    assert np.abs(small - halved.astype(float)).mean() < 8


def _gif_frames(path):
    gif = Image.open(path)
    frames, durations = [], []
    for i in range(gif.n_frames):
        gif.seek(i)
        frames.append(np.asarray(gif.convert("RGB")))
        durations.append(gif.info.get("duration"))
    return frames, durations


def test_a_gif_keeps_equal_consecutive_frames(tmp_path):
    # Pillow's own animated writer merges equal consecutive frames (it has no switch to keep them)
    import io

    picture = Image.fromarray(np.full((20, 30, 3), 200, np.uint8))
    changed = picture.copy()
    changed.putpixel((3, 4), (0, 0, 0))
    out = io.BytesIO()
    stream = ex._GifStream(out, ex._palette_of(picture, changed), 100)
    for p in (picture, picture, changed, changed, picture):
        stream.add(p)
    stream.close()
    (tmp_path / "a.gif").write_bytes(out.getvalue())
    frames, durations = _gif_frames(tmp_path / "a.gif")
    assert len(frames) == 5 and durations == [100] * 5
    assert [bool((a != b).any()) for a, b in zip(frames, frames[1:])] == [False, True, False, True]
    assert tuple(frames[2][4, 3]) == (0, 0, 0) and tuple(frames[2][0, 0]) == (200, 200, 200)


def test_a_gif_has_one_frame_per_step_and_frames_that_differ_where_the_steps_do(qtbot, tmp_path):
    steps = range(0, 8)
    out = ex.export_panel("matmul", None, tmp_path / "m.gif", size=(640, 360), steps=steps, fps=5)
    frames, durations = _gif_frames(out)
    assert len(frames) == 8 and durations == [200] * 8
    rendered = [ex.image_to_array(f)[:, :, :3].astype(int)
                for f in ex.render_frames("matmul", None, size=(640, 360), steps=steps)]
    for i in range(7):
        assert (frames[i] != frames[i + 1]).any() == (rendered[i] != rendered[i + 1]).any()
    # one palette of 256 colours for all frames: close to what was drawn
    assert all(np.abs(f.astype(int) - r).mean() < 3 for f, r in zip(frames, rendered))


def test_estimates_and_refusals_before_anything_is_drawn(qtbot, tmp_path, monkeypatch):
    assert ex.estimate_memory(".png", (1920, 1080)) == 16 * 1920 * 1080
    # a GIF streams: its memory does not grow with its frames
    assert ex.estimate_memory(".gif", (7680, 4320), 33) == ex.estimate_memory(".gif", (7680, 4320), 2)
    drawn = []
    real = ex.render_widget
    monkeypatch.setattr(ex, "render_widget", lambda *a, **k: drawn.append(1) or real(*a, **k))
    for name, kwargs in (("m.png", {}), ("m.gif", {"steps": range(0, 3)}), ("m.gif", {})):
        with pytest.raises(ex.ExportMemoryError, match=r"needs an estimated .* over the memory budget of 1.0 MiB"):
            ex.export_panel("matmul", None, tmp_path / name, size=(1920, 1080), memory=2**20, **kwargs)
    assert drawn == [] and list(tmp_path.iterdir()) == []
    ex.export_panel("matmul", None, tmp_path / "m.png", size=(320, 180), memory=ex.estimate_memory(".png", (320, 180)))
    assert drawn == [1]


@pytest.mark.parametrize("make, needle", [
    (lambda p: p.mkdir(), "a folder is in the way"),
    (lambda p: __import__("os").mkfifo(p), "is a FIFO"),
])
def test_what_is_in_the_way_is_refused_before_it_is_opened(qtbot, tmp_path, make, needle):
    target = tmp_path / "m.png"
    make(target)
    with pytest.raises(ex.ExportError, match=needle):
        ex.export_panel("matmul", None, target, size=(64, 36))


def test_empty_and_too_long_names_are_refused(qtbot, tmp_path):
    with pytest.raises(ex.ExportError, match="empty path"):
        ex.export_panel("matmul", None, "")
    with pytest.raises(ex.ExportError, match="bytes long"):
        ex.export_panel("matmul", None, tmp_path / ("a" * 250 + ".png"))
    assert list(tmp_path.iterdir()) == []


def test_stale_parts_of_ours_are_removed_and_nothing_else(tmp_path):
    import fcntl
    import os
    import time

    old = time.time() - 60
    names = {
        ".m.png.abc123_z.part": True,       # ours, stale
        ".deck index.md.k2j4h5g6.part": True,
        ".m.gif.abc123_z.part.x": False,     # not the pattern
        ".m.png.ABC123_Z.part": False,       # mkstemp's letters are lower case
        "m.png.abc123_z.part": False,        # no leading dot
        ".m.txt.abc123_z.part": False,       # not a file we export
        ".m.png.abc12.part": False,          # not eight characters
    }
    for name in names:
        (tmp_path / name).write_bytes(b"x")
        os.utime(tmp_path / name, (old, old))
    fresh = tmp_path / ".f.png.freshfil.part"
    fresh.write_bytes(b"x")                  # ours, but changed a moment ago: a writer may be creating it
    held = tmp_path / ".h.svg.heldheld.part"
    held.write_bytes(b"x")
    os.utime(held, (old, old))
    with open(held, "rb") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)  # a live writer holds it, however old it is
        removed = ex.remove_stale_parts(tmp_path)
    assert sorted(p.name for p in removed) == sorted(n for n, ours in names.items() if ours)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [n for n, ours in names.items() if not ours] + [fresh.name, held.name])
    assert [p.name for p in ex.remove_stale_parts(tmp_path)] == [held.name]  # its writer is gone now


def test_no_part_file_survives_a_killed_export_followed_by_another(qtbot, tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    target = tmp_path / "m.gif"
    # the child writes its GIF's first frame into the temporary file, then stalls: killed there
    child = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\n"
        "from gpuviz.ui import export as ex\n"
        "real = ex._GifStream.add\n"
        "def stall(self, picture):\n"
        "    real(self, picture); self.out.flush(); print('written', flush=True); time.sleep(60)\n"
        "ex._GifStream.add = stall\n"
        f"ex.export_panel('broadcast', None, {str(target)!r}, size=(160, 90), steps=range(0, 3))\n")],
        stdout=subprocess.PIPE, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    try:
        assert child.stdout.readline().strip() == b"written"
        (part,) = [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
        assert part.name.startswith(".m.gif.") and part.stat().st_size > 0
        long_ago = time.time() - 60
        os.utime(part, (long_ago, long_ago))
        assert ex.remove_stale_parts(tmp_path) == [] and part.exists()  # its writer is alive: left alone
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)
    assert part.exists() and not target.exists()
    os.utime(part, (long_ago, long_ago))  # a few seconds later, as the next export would find it
    ex.export_panel("matmul", None, tmp_path / "other.png", size=(64, 36))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.png"]
