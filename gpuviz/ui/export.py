"""Export a panel's scene as PNG, SVG or an animated GIF: one render path for the app and the command line.

Every export draws a fresh, never-shown copy of the panel from a scenario and
an explicit theme (:func:`gpuviz.ui.main_window.render_panel` does the same for
the app's File → Export), so nothing but the scene, the step, the theme and the
size decides the pixels; remembered settings are never read. Files are written
atomically: bytes go to a temporary file in the target's folder, are flushed
to disk, and only then replace the target, so a failed or interrupted export
leaves the old file untouched and never a half-written one under its name.
"""

from __future__ import annotations

import io
import os
import tempfile
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from PyQt6.QtCore import QBuffer, QByteArray, QIODevice, QPoint, QRect, QSize, Qt
from PyQt6.QtGui import QImage, QPainter
from PyQt6.QtWidgets import QApplication

from ..model.scenario import ScenarioError
from ..model.scene import SceneError
from . import theme as themes
from .main_window import render_widget

#: Largest exported picture (8K UHD); each side is checked separately.
MAX_SIZE = (7680, 4320)
#: Layout size of the exported scene: larger pictures are this layout at a higher device pixel ratio.
LAYOUT_SIZE = (1920, 1080)
FORMATS = (".png", ".svg", ".gif")
PANEL_IDS = ("matmul", "broadcast", "grad")
#: The view key that holds a panel's timeline step (grad: only its batch view has steps).
_STEP_KEYS = {"matmul": "step", "broadcast": "step", "grad": "batch_step"}


class ExportError(ValueError):
    """An export that cannot be done, with a one-sentence reason (shown inline or as the CLI's one line)."""


def panel_class(panel_id: str):
    """The :class:`~gpuviz.ui.panel.Panel` subclass of ``panel_id`` (``matmul``, ``broadcast``, ``grad``)."""
    if panel_id == "matmul":
        from .matmul.panel import MatmulPanel
        return MatmulPanel
    if panel_id == "broadcast":
        from .broadcast.panel import BroadcastPanel
        return BroadcastPanel
    if panel_id == "grad":
        from .grad.panel import GradPanel
        return GradPanel
    raise ExportError(f"unknown panel {panel_id!r}: choose one of {', '.join(PANEL_IDS)}")


def check_target(out_path) -> tuple[Path, str]:
    """``out_path`` as a Path and its format (``.png``, ``.svg``, ``.gif``); raises ExportError when unusable."""
    path = Path(out_path)
    fmt = path.suffix.lower()
    if fmt not in FORMATS:
        raise ExportError(f"{path}: unknown picture format {fmt or '(no extension)'!r}; "
                          f"the file name must end in {', '.join(FORMATS)}")
    folder = path.parent
    if not folder.is_dir():
        raise ExportError(f"{path}: the folder {folder} does not exist")
    if path.is_dir():
        raise ExportError(f"{path}: a folder is in the way of the file")
    if not os.access(folder, os.W_OK):
        raise ExportError(f"{path}: the folder {folder} cannot be written")
    return path, fmt


def check_size(size) -> tuple[int, int]:
    """``size`` as (width, height) in pixels, each side between 1 and :data:`MAX_SIZE`."""
    try:
        width, height = (int(v) for v in size)
    except (TypeError, ValueError):
        raise ExportError(f"cannot read {size!r} as a picture size (width, height)") from None
    if not (1 <= width <= MAX_SIZE[0] and 1 <= height <= MAX_SIZE[1]):
        raise ExportError(f"size {width}×{height} is out of range: each side must be at least 1 pixel and "
                          f"at most {MAX_SIZE[0]}×{MAX_SIZE[1]} (8K)")
    return width, height


def layout_for(size, dpr: float | None = None) -> tuple[tuple[int, int], float]:
    """Layout size and device pixel ratio that give exactly ``size`` physical pixels.

    Without ``dpr``, pictures wider than 1.5 × 1920 are a half-size layout at ratio 2 (4K is the 1080p
    layout, drawn sharp) when both sides are even, so text and lines keep their slide proportions.
    """
    width, height = size
    if dpr is None:
        dpr = 2.0 if width > 1.5 * LAYOUT_SIZE[0] and width % 2 == 0 and height % 2 == 0 else 1.0
    if not dpr > 0:
        raise ExportError(f"device pixel ratio must be positive, got {dpr}")
    layout = (max(1, round(width / dpr)), max(1, round(height / dpr)))
    if (round(layout[0] * dpr), round(layout[1] * dpr)) != (width, height):
        raise ExportError(f"size {width}×{height} is not a whole layout at device pixel ratio {dpr}")
    return layout, float(dpr)


def _ensure_app() -> QApplication:
    app = QApplication.instance()
    if app is None:
        app = QApplication(["gpuviz-export"])
    return app


@contextmanager
def _app_theme(app: QApplication, theme: themes.Theme):
    """``theme`` on the application while exporting; the app's own look (a window's theme) comes back after."""
    import pyqtgraph as pg

    saved = (app.palette(), app.font(), pg.getConfigOption("background"), pg.getConfigOption("foreground"))
    themes.apply_theme(app, theme)
    try:
        yield
    finally:
        app.setPalette(saved[0])
        app.setFont(saved[1])
        pg.setConfigOptions(background=saved[2], foreground=saved[3])


@contextmanager
def panel_copy(panel_id: str, scenario, theme: themes.Theme, layout: tuple[int, int]):
    """A fresh, never-shown panel of ``panel_id`` showing ``scenario`` (None: its first preset) in ``theme``."""
    cls = panel_class(panel_id)
    panel = cls()
    try:
        panel.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        panel.set_theme(theme)
        if scenario is None:
            presets = panel.presets()
            if not presets:
                raise ExportError(f"the {panel_id} panel has no preset to export")
            scenario = presets[0]
        if scenario.panel != panel_id:
            raise ExportError(f"scenario {scenario.title!r} is for the {scenario.panel} panel, not {panel_id}")
        try:
            panel.apply_scenario(scenario)
        except (ScenarioError, SceneError, ValueError, KeyError, TypeError) as e:
            raise ExportError(f"the {panel_id} panel cannot show {scenario.title!r}: {e}") from None
        panel.resize(*layout)
        panel.show()
        yield panel, scenario
    finally:
        panel.shutdown()
        panel.close()
        panel.deleteLater()


def step_range(panel, panel_id: str) -> range:
    """The steps ``panel`` (a copy: this moves its timeline) can show, read from its own last step."""
    key = _STEP_KEYS[panel_id]
    view = panel.scenario("export").view
    if panel_id == "grad" and view.get("view") != "batch":
        raise ExportError(f"the grad panel's {view.get('view')!r} view has no steps; only its batch view does")
    current = view.get(key)
    if current is None:
        raise ExportError(f"the {panel_id} panel has no steps in this view")
    panel.last_step()
    last = panel.scenario("export").view.get(key)
    return range(0, int(last) + 1)


def _show_step(panel, panel_id: str, scenario, step: int, steps: range):
    if step not in steps:
        raise ExportError(f"step {step} is out of range: the {panel_id} panel's steps are "
                          f"{steps.start} to {steps.stop - 1}")
    key = _STEP_KEYS[panel_id]
    panel.apply_scenario(replace(scenario, view={**scenario.view, key: int(step)}))
    shown = panel.scenario("export").view.get(key)
    if shown != step:  # the panel must really show the step the frame is labelled with
        raise ExportError(f"the {panel_id} panel shows step {shown}, not the requested step {step}")


def image_to_array(image: QImage):
    """RGBA uint8 array (height, width, 4) of ``image``."""
    import numpy as np

    rgba = image.convertToFormat(QImage.Format.Format_RGBA8888)
    ptr = rgba.constBits()
    ptr.setsize(rgba.sizeInBytes())
    arr = np.frombuffer(ptr, np.uint8).reshape(rgba.height(), rgba.bytesPerLine())[:, :rgba.width() * 4]
    return arr.reshape(rgba.height(), rgba.width(), 4).copy()


def _png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    # the picture is opaque (filled with the background first): RGB32 writes no alpha channel. Qt maps PNG
    # "quality" q to zlib level (100 − q)·9/91, so 80 is level 1, lossless and 4–5× faster than the default
    # at 4K, where encoding dominates the export (0.2 s instead of 0.9 s; files about the same size)
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    if not image.save(buffer, "PNG", 80):
        raise ExportError("Qt could not encode the picture as PNG")
    buffer.close()
    return bytes(data)


def _svg_bytes(panel, layout: tuple[int, int], title: str) -> bytes:
    from PyQt6.QtSvg import QSvgGenerator

    render_widget(panel, *layout)  # settles layouts and plot ranges at this size first
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    generator = QSvgGenerator()
    generator.setOutputDevice(buffer)
    generator.setSize(QSize(*layout))
    generator.setViewBox(QRect(0, 0, *layout))
    generator.setTitle(title)
    generator.setDescription("exported by gpuviz")
    painter = QPainter(generator)
    try:
        panel.render(painter, QPoint(0, 0))
    finally:
        painter.end()
    buffer.close()
    return bytes(data)


def _gif_bytes(frames: list[QImage], fps: float) -> bytes:
    from PIL import Image

    pictures = [Image.fromarray(image_to_array(f)[:, :, :3]).quantize(colors=256, method=Image.Quantize.MEDIANCUT)
                for f in frames]
    out = io.BytesIO()
    pictures[0].save(out, format="GIF", save_all=True, append_images=pictures[1:],
                     duration=max(20, round(1000 / fps)), loop=0, disposal=1)
    return out.getvalue()


def write_atomic(path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that ``path`` is either its old content or all of ``data``.

    The bytes go to a temporary file in the same folder (a rename across file systems is not atomic), are
    fsynced, then replace ``path``; on any failure the temporary file is removed and ``path`` is untouched.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def parse_steps(text: str) -> range:
    """``"A:B"`` as the half-open ``range(A, B)`` (``"0:8"`` is eight steps, 0 to 7)."""
    parts = str(text).split(":")
    try:
        if len(parts) != 2:
            raise ValueError
        start, stop = int(parts[0]), int(parts[1])
    except ValueError:
        raise ExportError(f"cannot read {text!r} as a step range: write A:B, e.g. 0:8 for steps 0 to 7") from None
    if start < 0 or stop <= start:
        raise ExportError(f"step range {text!r} is empty or negative: write A:B with 0 ≤ A < B")
    return range(start, stop)


def export_panel(panel_id: str, scenario, out_path, size=(1920, 1080), theme="light", step: int | None = None,
                 steps: range | None = None, dpr: float | None = None, fps: float = 4.0) -> Path:
    """Render ``scenario`` on a fresh ``panel_id`` panel and write it to ``out_path`` atomically.

    Parameters
    ----------
    panel_id : str
        ``matmul``, ``broadcast`` or ``grad``.
    scenario : Scenario or None
        What to show; None shows the panel's first preset.
    out_path : path
        Target file; its extension picks the format (``.png``, ``.svg``, ``.gif``).
    size : (int, int)
        Picture size in physical pixels, 1 to 7680×4320 (GIF and PNG; SVG uses it as its layout size).
    theme : str or Theme
        ``light`` (default), ``dark`` or ``lecture``; remembered settings never apply.
    step : int, optional
        The step to show (PNG, SVG); default the scenario's own.
    steps : range, optional
        GIF: the half-open step range of its frames (default all steps); every frame shows the panel's own
        step label.
    dpr : float, optional
        Device pixel ratio; default 2 above 2880 px wide (a 4K picture is the 1080p layout drawn sharp).
    fps : float
        GIF frame rate.

    Returns
    -------
    Path
        The written file. Raises :class:`ExportError` with one sentence when the export cannot be done;
        the target is then unchanged.
    """
    path, fmt = check_target(out_path)
    size = check_size(size)
    if isinstance(theme, str):
        if theme not in themes.THEMES:
            raise ExportError(f"unknown theme {theme!r}: choose one of {', '.join(themes.THEMES)}")
        theme = themes.THEMES[theme]
    if fmt == ".gif" and step is not None:
        raise ExportError("a GIF shows a step range (steps), not one step")
    if fmt != ".gif" and steps is not None:
        raise ExportError(f"a step range needs a .gif file; {fmt} shows one step")
    layout, dpr = layout_for(size, dpr) if fmt != ".svg" else (size, 1.0)
    app = _ensure_app()
    with _app_theme(app, theme), panel_copy(panel_id, scenario, theme, layout) as (panel, scenario):
        title = scenario.title
        if fmt == ".gif":
            available = step_range(panel, panel_id)
            steps = available if steps is None else steps
            if steps.start not in available or steps.stop - 1 not in available:
                raise ExportError(f"steps {steps.start}:{steps.stop} are out of range: the {panel_id} panel's "
                                  f"steps are {available.start} to {available.stop - 1} "
                                  f"(A:B is half-open, at most {available.start}:{available.stop})")
            frames = []
            for s in steps:
                _show_step(panel, panel_id, scenario, s, available)
                # no stamp: each panel already labels its step on screen (matmul "step 6/33", broadcast
                # "Step 6/8", grad batch "example 5/10"); those labels count from 1 where A:B counts from 0
                frames.append(render_widget(panel, *layout, dpr))
            data = _gif_bytes(frames, fps)
        else:
            if step is not None:
                available = step_range(panel, panel_id)
                _show_step(panel, panel_id, scenario, step, available)
            if fmt == ".png":
                data = _png_bytes(render_widget(panel, *layout, dpr))
            else:
                data = _svg_bytes(panel, layout, title)
    write_atomic(path, data)
    return path


__all__ = ["ExportError", "MAX_SIZE", "check_size", "check_target", "export_panel", "image_to_array",
           "panel_class", "parse_steps", "write_atomic"]
