"""Export a panel's scene (or the whole window) as PNG, SVG or an animated GIF: one render path for all.

The app's File → Export dialog, its clipboard copy, the window's own
``export_image``/``export_png`` and ``gpuviz export`` on the command line all
draw through :func:`render_frames` and write through :func:`export_panel` or
:func:`export_window`. A panel export draws a fresh, never-shown copy of the
panel from a scenario and an explicit theme, so nothing but the scene, the
step, the theme, the slide option and the size decides the pixels; remembered
settings are never read. Pictures above 1080p are the 1080p layout drawn at a
higher device pixel ratio (crisp text), and line widths scale with that ratio
(panels draw cosmetic pens of ``theme.pen_width(base)``, which are physical
pixels). Files are written atomically: bytes go to a temporary file in the
target's folder, are flushed to disk, and only then replace the target, so a
failed, cancelled or interrupted export leaves the old file untouched and
never a half-written one under its name.
"""

from __future__ import annotations

import io
import os
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from PyQt6.QtCore import QBuffer, QByteArray, QIODevice, QPoint, QRect, QSize, Qt
from PyQt6.QtGui import QImage, QPainter, QRegion
from PyQt6.QtWidgets import QApplication, QWidget

from ..model import registry as models
from ..model.files import write_atomic
from ..model.panel import ParamsError
from . import registry as views
from . import theme as themes

#: Largest exported picture (8K UHD); each side is checked separately.
MAX_SIZE = (7680, 4320)
#: Layout size of the exported scene: larger pictures are this layout at a higher device pixel ratio.
LAYOUT_SIZE = (1920, 1080)
FORMATS = (".png", ".svg", ".gif")

#: The shipped panels' ids (both halves of the registry; a panel registered later is exported too).
PANEL_IDS = views.panel_ids()


class ExportError(ParamsError):
    """An export that cannot be done, with a one-sentence reason (shown inline or as the CLI's one line)."""


class ExportCancelled(ExportError):
    """The ``progress`` callback asked to stop; nothing was written and the target is untouched."""


def panel_class(panel_id):
    """The :class:`~gpuviz.ui.panel.Panel` subclass of ``panel_id`` (a registered panel, :mod:`gpuviz.ui.registry`).

    A Panel subclass is accepted too and returned as it is: the main window exports whatever panel
    it holds through this same path.
    """
    from .panel import Panel

    if isinstance(panel_id, type) and issubclass(panel_id, Panel):
        return panel_id
    cls = views.view_class(panel_id)
    if cls is None:
        raise ExportError(f"unknown panel {panel_id!r}: choose one of {', '.join(views.panel_ids())}")
    return cls


def _panel_name(panel_id) -> str:
    return panel_id.panel_id if isinstance(panel_id, type) else str(panel_id)


def slide_theme() -> themes.Theme:
    """The light theme for slides (``themes.SLIDE``)."""
    return themes.SLIDE


def resolve_theme(theme, slide: bool = False) -> themes.Theme:
    """``theme`` (a name or a Theme) as a Theme; with ``slide`` the slide theme, refused for a dark one."""
    if isinstance(theme, str):
        if theme not in themes.THEMES:
            raise ExportError(f"unknown theme {theme!r}: choose one of {', '.join(themes.THEMES)}")
        theme = themes.THEMES[theme]
    if slide:
        if theme.dark:
            raise ExportError(f"a slide has a light background: export it with the light theme, not {theme.name}")
        theme = slide_theme()
    return theme


def _scaled(theme: themes.Theme, dpr: float) -> themes.Theme:
    """``theme`` with lines ``dpr`` times as thick: cosmetic pens are physical pixels, as on a 2× screen."""
    return theme if dpr == 1 else replace(theme, line_scale=theme.line_scale * dpr)


def render_widget(widget: QWidget, width: int, height: int, dpr: float = 1.0) -> QImage:
    """``widget`` rendered at ``width``×``height`` layout pixels into a new QImage.

    The image has ``width·dpr`` × ``height·dpr`` physical pixels (``dpr=2``
    gives a crisp 4K image of a 1080p layout). ``widget`` is resized to that
    size first and keeps it: pass a top-level widget (a window, or a panel copy
    from :func:`panel_copy`); a widget inside a layout would be pushed back to
    its slot by its parent while it renders. Hidden and offscreen widgets
    render too.
    """
    width, height = int(width), int(height)
    if width < 1 or height < 1 or not dpr > 0:
        raise ValueError(f"cannot render {width}×{height} at device pixel ratio {dpr}")
    if widget.size() != QSize(width, height):
        widget.resize(width, height)
    # layouts and pyqtgraph views settle through posted events (LayoutRequest, range updates)
    for _ in range(3):
        QApplication.sendPostedEvents()
        QApplication.processEvents()
    image = QImage(round(width * dpr), round(height * dpr), QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(dpr)
    image.fill(widget.palette().color(widget.backgroundRole()))
    painter = QPainter(image)
    try:
        widget.render(painter, QPoint(0, 0), QRegion(),
                      QWidget.RenderFlag.DrawWindowBackground | QWidget.RenderFlag.DrawChildren)
    finally:
        painter.end()
    return image


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


def _set_slide(panel, name: str) -> None:
    setter = getattr(panel, "set_slide", None)
    try:
        if setter is None:
            raise NotImplementedError
        setter(True)
    except NotImplementedError:
        raise ExportError(f"the {name} panel has no slide look yet; export it without slide") from None


@contextmanager
def panel_copy(panel_id, scenario, theme: themes.Theme, layout: tuple[int, int], slide: bool = False):
    """A fresh, never-shown panel of ``panel_id`` showing ``scenario`` (None: its first preset) in ``theme``.

    Yields ``(panel, scenario)``; with ``slide`` the panel is in its slide look (``set_slide(True)``).
    """
    cls = panel_class(panel_id)
    name = _panel_name(panel_id)
    panel = cls()
    try:
        panel.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        panel.set_theme(theme)
        if scenario is None:
            presets = panel.presets()
            if not presets:
                raise ExportError(f"the {name} panel has no preset to export")
            scenario = presets[0]
        if scenario.panel != name:
            raise ExportError(f"scenario {scenario.title!r} is for the {scenario.panel} panel, not {name}")
        try:
            panel.apply_scenario(scenario)
        except ParamsError as e:
            raise ExportError(f"the {name} panel cannot show {scenario.title!r}: {e}") from None
        if slide:
            _set_slide(panel, name)
        panel.resize(*layout)
        panel.show()
        yield panel, scenario
    finally:
        panel.shutdown()
        panel.close()
        panel.deleteLater()


def _stepper(panel, panel_id):
    """The panel's model, when the view it shows has steps; ExportError otherwise."""
    name = _panel_name(panel_id)
    view = panel.scenario("export").view
    model = panel.model
    if model is None or models.step_key(name, view) is None:
        shown = f" ({view['view']!r})" if isinstance(view.get("view"), str) else ""
        raise ExportError(f"the {name} panel has no steps in this view{shown}")
    return model


def step_range(panel, panel_id) -> range:
    """The steps ``panel``'s model has in the view it shows (:data:`gpuviz.model.registry.PanelSpec.step_key`)."""
    return range(0, int(_stepper(panel, panel_id).n_steps))


def steps_of(panel_id, scenario) -> range:
    """The steps ``scenario`` has on a ``panel_id`` panel (a never-shown copy is built to ask it)."""
    _ensure_app()
    with panel_copy(panel_id, scenario, themes.LIGHT, LAYOUT_SIZE) as (panel, _):
        return step_range(panel, panel_id)


def _show_step(model, name: str, step: int, steps: range) -> None:
    """Move the model to ``step``: the view, subscribed to it, redraws; nothing is re-applied."""
    if step not in steps:
        raise ExportError(f"step {step} is out of range: the {name} panel's steps are "
                          f"{steps.start} to {steps.stop - 1}")
    model.set_step(int(step))
    if model.step != step:  # the panel must really show the step the frame is labelled with
        raise ExportError(f"the {name} panel shows step {model.step}, not the requested step {step}")


def _show_caption(panel, scenario, step: int | None) -> None:
    """Slide mode: the key step's caption when ``step`` is one of the scenario's key steps, else none."""
    caption = next((k.caption for k in scenario.key_steps if step is not None and k.step == step), None)
    panel.set_caption(caption)


def _report(progress, done: int, total: int) -> None:
    if progress is not None and progress(done, total) is False:
        raise ExportCancelled("export cancelled: nothing was written")


#: ``steps`` for every step the panel has (a GIF without a range).
_ALL = object()


def _draw(panel, panel_id, scenario, layout, dpr: float, slide: bool, step, steps, progress) -> list[QImage]:
    """Frames of the panel copy: one per step of ``steps`` (a range or ``_ALL``), else one at ``step``.

    The panel was built once from ``scenario``; each frame only moves its model's step.
    """
    name = _panel_name(panel_id)
    model = None
    if steps is not None:
        model = _stepper(panel, panel_id)
        available = range(0, int(model.n_steps))
        steps = available if steps is _ALL else steps
        if len(steps) == 0 or steps.start not in available or steps[-1] not in available:
            raise ExportError(f"steps {steps.start}:{steps.stop} are out of range: the {name} panel's "
                              f"steps are {available.start} to {available.stop - 1} "
                              f"(A:B is half-open, at most {available.start}:{available.stop})")
        shown = list(steps)
    elif step is not None:
        model = _stepper(panel, panel_id)
        available = range(0, int(model.n_steps))
        shown = [int(step)]
    else:
        available, shown = None, [None]
        # a slide's caption is the key step's at the step shown: only then ask the panel which view it shows
        if slide and panel.model is not None and models.step_key(name, panel.scenario("export").view) is not None:
            model = panel.model
    frames = []
    for i, s in enumerate(shown):
        if s is not None:
            # no stamp: each panel labels its step on screen, counting from 0 as A:B does
            _show_step(model, name, s, available)
        if slide:
            _show_caption(panel, scenario, model.step if model is not None else None)
        frames.append(render_widget(panel, *layout, dpr))
        _report(progress, i + 1, len(shown))
    return frames


def _check_step_args(step, steps) -> None:
    if step is not None and steps is not None:
        raise ExportError("give one step or a step range, not both")
    if steps is not None and steps is not _ALL and not isinstance(steps, range):
        raise ExportError(f"a step range must be a range (A:B), got {steps!r}")


def render_frames(panel_id, scenario, size=(1920, 1080), theme="light", step: int | None = None,
                  steps: range | None = None, dpr: float | None = None, slide: bool = False,
                  progress=None) -> list[QImage]:
    """What :func:`export_panel` writes, as QImages, without writing anything.

    Parameters are those of :func:`export_panel`. Returns one image per step of ``steps``, or one
    image (of ``step``, default the scenario's own) when ``steps`` is None; each has ``size`` physical
    pixels. Raises :class:`ExportError` (or :class:`ExportCancelled` when ``progress`` returns False).
    """
    size = check_size(size)
    theme = resolve_theme(theme, slide)
    _check_step_args(step, steps)
    layout, dpr = layout_for(size, dpr)
    with _app_theme(_ensure_app(), theme), \
            panel_copy(panel_id, scenario, _scaled(theme, dpr), layout, slide) as (panel, scenario):
        return _draw(panel, panel_id, scenario, layout, dpr, slide, step, steps, progress)


def image_to_array(image: QImage):
    """RGBA uint8 array (height, width, 4) of ``image``."""
    import numpy as np

    rgba = image.convertToFormat(QImage.Format.Format_RGBA8888)
    ptr = rgba.constBits()
    ptr.setsize(rgba.sizeInBytes())
    arr = np.frombuffer(ptr, np.uint8).reshape(rgba.height(), rgba.bytesPerLine())[:, :rgba.width() * 4]
    return arr.reshape(rgba.height(), rgba.width(), 4).copy()


def png_bytes(image: QImage) -> bytes:
    """The picture as PNG bytes, with the settings every export of gpuviz uses (the notebook API's too)."""
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


def _svg_bytes(widget, layout: tuple[int, int], title: str, size: tuple[int, int] | None = None) -> bytes:
    from PyQt6.QtSvg import QSvgGenerator

    # the drawing is the layout (a 4K SVG is the 1080p layout, as a 4K PNG is): its width/height say how big
    # it shows, the view box maps the layout onto it, so text keeps its slide proportions at any size
    render_widget(widget, *layout)  # settles layouts and plot ranges at this size first
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    generator = QSvgGenerator()
    generator.setOutputDevice(buffer)
    generator.setSize(QSize(*(size or layout)))
    generator.setViewBox(QRect(0, 0, *layout))
    generator.setTitle(title)
    generator.setDescription("exported by gpuviz")
    painter = QPainter(generator)
    try:
        widget.render(painter, QPoint(0, 0))
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


def export_panel(panel_id, scenario, out_path, size=(1920, 1080), theme="light", step: int | None = None,
                 steps: range | None = None, dpr: float | None = None, fps: float = 4.0, slide: bool = False,
                 progress=None) -> Path:
    """Render ``scenario`` on a fresh ``panel_id`` panel and write it to ``out_path`` atomically.

    Parameters
    ----------
    panel_id : str or Panel subclass
        ``matmul``, ``broadcast`` or ``grad`` (:data:`PANEL_IDS`), or the class of the panel to draw.
    scenario : Scenario or None
        What to show; None shows the panel's first preset.
    out_path : path
        Target file; its extension picks the format (``.png``, ``.svg``, ``.gif``).
    size : (int, int)
        Picture size in physical pixels, 1 to 7680×4320 (GIF and PNG; SVG uses it as its layout size).
    theme : str or Theme
        ``light`` (default), ``dark`` or ``lecture``; remembered settings never apply.
    step : int, optional
        The step to show (PNG, SVG), counted from 0; default the scenario's own.
    steps : range, optional
        GIF: the half-open step range of its frames (default all steps); every frame shows the panel's own
        step label.
    dpr : float, optional
        Device pixel ratio; default 2 above 2880 px wide (a 4K picture is the 1080p layout drawn sharp).
        Lines are drawn ``dpr`` times as thick (``line_scale · dpr``), as on a screen of that ratio.
    fps : float
        GIF frame rate.
    slide : bool
        The slide look: just the figure with a large title, its legend and the key step's caption, in the
        light slide theme (a dark ``theme`` is refused: a slide has a light background).
    progress : callable, optional
        ``progress(done, total)`` after each rendered frame; returning False cancels the export
        (:class:`ExportCancelled`, and the target is untouched).

    Returns
    -------
    Path
        The written file. Raises :class:`ExportError` with one sentence when the export cannot be done;
        the target is then unchanged.
    """
    path, fmt = check_target(out_path)
    size = check_size(size)
    theme = resolve_theme(theme, slide)
    _check_step_args(step, steps)
    if fmt == ".gif" and step is not None:
        raise ExportError("a GIF shows a step range (steps), not one step")
    if fmt != ".gif" and steps is not None:
        raise ExportError(f"a step range needs a .gif file; {fmt} shows one step")
    if fmt == ".gif" and not (0 < fps <= 50):
        raise ExportError(f"a GIF's frame rate must be above 0 and at most 50 frames a second, got {fps:g}")
    layout, dpr = layout_for(size, dpr)
    # vector lines scale with the view box: an SVG's pens stay at the layout's widths
    line_dpr = 1.0 if fmt == ".svg" else dpr
    with _app_theme(_ensure_app(), theme), \
            panel_copy(panel_id, scenario, _scaled(theme, line_dpr), layout, slide) as (panel, scenario):
        if fmt == ".gif":
            frames = _draw(panel, panel_id, scenario, layout, dpr, slide, None,
                           _ALL if steps is None else steps, progress)
            data = _gif_bytes(frames, fps)
        elif fmt == ".png":
            data = png_bytes(_draw(panel, panel_id, scenario, layout, dpr, slide, step, None, progress)[0])
        else:
            # the frame settles the panel at its step (and caption); the SVG then paints the same widgets
            _draw(panel, panel_id, scenario, layout, 1.0, slide, step, None, progress)
            data = _svg_bytes(panel, layout, scenario.title, size)
    write_atomic(path, data)
    return path


def export_window(window, out_path, size=(1920, 1080), dpr: float | None = None) -> Path:
    """Write the whole ``window`` (menus, tabs, status bar: what the user sees) as a PNG or SVG, atomically.

    The window is drawn in its own theme at the layout size and given its size back afterwards; at a device
    pixel ratio above 1 its panels draw thicker lines for the picture (``line_scale · dpr``) and get their
    own theme back after. Raises :class:`ExportError` as :func:`export_panel` does.
    """
    path, fmt = check_target(out_path)
    if fmt == ".gif":
        raise ExportError("a window exports as .png or .svg; a GIF animates one panel's steps")
    size = check_size(size)
    layout, dpr = layout_for(size, dpr)
    if fmt == ".svg":
        dpr = 1.0  # vector: the view box scales the layout (see _svg_bytes)
    _ensure_app()
    panels = list(getattr(window, "panels", []))
    own = [p.theme for p in panels]
    old_size = window.size()
    try:
        if dpr != 1:
            for panel, theme in zip(panels, own):
                if theme is not None:
                    panel.set_theme(_scaled(theme, dpr))
        if fmt == ".png":
            data = png_bytes(render_widget(window, *layout, dpr))
        else:
            data = _svg_bytes(window, layout, window.windowTitle(), size)
    finally:
        for panel, theme in zip(panels, own):
            if theme is not None and panel.theme is not theme:
                panel.set_theme(theme)
        if window.size() != old_size:
            window.resize(old_size)
    write_atomic(path, data)
    return path


__all__ = ["ExportCancelled", "ExportError", "MAX_SIZE", "PANEL_IDS", "check_size", "check_target", "png_bytes",
           "export_panel", "export_window", "image_to_array", "layout_for", "panel_class", "parse_steps",
           "render_frames", "render_widget", "resolve_theme", "steps_of", "write_atomic"]
