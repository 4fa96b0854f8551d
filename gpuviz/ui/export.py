"""Export a panel's scene (or the whole window) as PNG, SVG or an animated GIF: one render path for all.

The app's File → Export dialog, its clipboard copy, the window's own
``export_image``/``export_png`` and ``gpuviz export`` on the command line all
draw through :func:`render_frames` and write through :func:`export_panel` or
:func:`export_window`. A panel export draws a fresh, never-shown copy of the
panel from a scenario and an explicit theme, so nothing but the scene, the
step, the theme, the slide option and the size decides the pixels; remembered
settings are never read. Pictures above 1080p are the 1080p layout drawn at a
higher device pixel ratio (crisp text), pictures below 1280×720 are that layout
drawn at a ratio below 1 (the same picture, smaller), and line widths scale with
the ratio (panels draw cosmetic pens of ``theme.pen_width(base)``, which are
physical pixels). An export's memory is estimated and checked against the
budget before anything is drawn; a GIF is written frame by frame. Files are
written atomically: bytes go to a locked temporary file in the target's folder,
are flushed to disk, and only then replace the target, so a failed, cancelled or
interrupted export leaves the old file untouched and never a half-written one
under its name; the temporary files of killed exports are removed by the next
export to that folder (:func:`remove_stale_parts`).
"""

from __future__ import annotations

import io
import os
import re
import stat
import tempfile
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from PyQt6.QtCore import QBuffer, QByteArray, QIODevice, QPoint, QRect, QSize, Qt
from PyQt6.QtGui import QImage, QPainter, QRegion
from PyQt6.QtWidgets import QApplication, QWidget

from ..model import registry as models
from ..model.budget import DEFAULT_MEMORY
from ..model.files import kind_of, name_max, write_atomic
from ..model.limits import MAX_FPS, MAX_NUMBER_DIGITS, MIN_FPS
from ..model.panel import ParamsError
from ..model.text import format_bytes
from . import registry as views
from . import theme as themes

#: Largest exported picture (8K UHD); each side is checked separately.
MAX_SIZE = (7680, 4320)
#: Layout size of the exported scene: larger pictures are this layout at a higher device pixel ratio.
LAYOUT_SIZE = (1920, 1080)
#: Smallest layout: smaller pictures are this layout (or one of its proportions) drawn at a ratio below 1.
MIN_LAYOUT = (1280, 720)
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
    """``out_path`` as a Path and its format (``.png``, ``.svg``, ``.gif``); raises ExportError when unusable.

    Checked before anything is drawn: an empty path, a name longer than the file system takes (our
    temporary file's name is 15 bytes longer, and must fit too), a folder, FIFO or device in the way (a
    FIFO would block the write forever), a missing or read-only folder. A read-only file is replaced (the
    new file is renamed over it, as every export writes), so it is not refused.
    """
    text = os.fspath(out_path)
    if not str(text).strip():
        raise ExportError("an empty path names no file: give a file name ending in .png, .svg or .gif")
    if "\0" in str(text):
        raise ExportError("the path contains a NUL character, which no file name may")
    path = Path(text)
    fmt = path.suffix.lower()
    if fmt not in FORMATS:
        raise ExportError(f"{path}: unknown picture format {fmt or '(no extension)'!r}; "
                          f"the file name must end in {', '.join(FORMATS)}")
    folder = path.parent
    if not folder.is_dir():
        raise ExportError(f"{path}: the folder {folder} does not exist")
    name_bytes, longest = len(os.fsencode(path.name)) + _PART_EXTRA, name_max(folder)
    if name_bytes > longest:
        raise ExportError(f"{path}: the file name is {name_bytes - _PART_EXTRA} bytes long, over the "
                          f"{longest - _PART_EXTRA} bytes a picture's name may have here")
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        st = None
    except OSError as e:
        raise ExportError(f"{path}: cannot use it ({e.strerror or e})") from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise ExportError(f"{path}: a folder is in the way of the file")
        if not stat.S_ISREG(st.st_mode):
            raise ExportError(f"{path}: is {kind_of(st.st_mode)}, not a picture file")
    if not os.access(folder, os.W_OK | os.X_OK):
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

    Without ``dpr``: a picture smaller than :data:`MIN_LAYOUT` (1280×720) is the panel laid out at
    ``size / s`` and drawn at ratio ``s = min(1, width/1280, height/720)``, so a 640×360 picture is the
    1280×720 one at half size, never the panel squeezed into 640×360; pictures wider than 1.5 × 1920 with
    even sides are a half-size layout at ratio 2 (4K is the 1080p layout, drawn sharp); anything between is
    laid out at its own size. Text and lines keep their proportions to the figure either way.
    """
    width, height = size
    if dpr is None:
        if width > 1.5 * LAYOUT_SIZE[0] and width % 2 == 0 and height % 2 == 0:
            dpr = 2.0
        else:
            dpr = min(1.0, width / MIN_LAYOUT[0], height / MIN_LAYOUT[1])
    if not dpr > 0:
        raise ExportError(f"device pixel ratio must be positive, got {dpr}")
    layout = []
    for side in (width, height):
        # a ratio below 1 need not divide the side: the layout side whose drawing rounds to it
        guess = max(1, round(side / dpr))
        fits = [c for c in (guess, guess - 1, guess + 1) if c >= 1 and round(c * dpr) == side]
        if not fits:
            raise ExportError(f"size {width}×{height} is not a whole layout at device pixel ratio {dpr}")
        layout.append(fits[0])
    return (layout[0], layout[1]), float(dpr)


def _ensure_app() -> QApplication:
    app = QApplication.instance()
    if app is None:
        app = QApplication(["gpuviz-export"])
    from .fonts import register_fonts

    register_fonts()  # the shipped fonts, whatever the machine has installed
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


def _plan(panel, panel_id, slide: bool, step, steps):
    """``(model, available, shown)``: the model that moves (or None), its steps, and the steps to draw.

    ``shown`` has one step per frame, or ``[None]`` for one frame at the scenario's own step.
    """
    name = _panel_name(panel_id)
    model = None
    if steps is not None:
        model = _stepper(panel, panel_id)
        available = range(0, int(model.n_steps))
        steps = available if steps is _ALL else steps
        # not len(): a typed range may be longer than a machine integer
        if not steps or steps.start not in available or steps[-1] not in available:
            raise ExportError(f"steps {steps.start}:{steps.stop} are out of range: the {name} panel's "
                              f"steps are {available.start} to {available.stop - 1} "
                              f"(A:B is half-open, at most {available.start}:{available.stop})")
        return model, available, list(steps)
    if step is not None:
        model = _stepper(panel, panel_id)
        return model, range(0, int(model.n_steps)), [int(step)]
    # a slide's caption is the key step's at the step shown: only then ask the panel which view it shows
    if slide and panel.model is not None and models.step_key(name, panel.scenario("export").view) is not None:
        model = panel.model
    return model, None, [None]


def _frame(panel, panel_id, scenario, layout, dpr: float, slide: bool, plan, s) -> QImage:
    """The panel copy drawn at step ``s`` of ``plan`` (None: as it is)."""
    model, available, _ = plan
    if s is not None:
        # no stamp: each panel labels its step on screen, counting from 0 as A:B does
        _show_step(model, _panel_name(panel_id), s, available)
    if slide:
        _show_caption(panel, scenario, model.step if model is not None else None)
    return render_widget(panel, *layout, dpr)


def _draw(panel, panel_id, scenario, layout, dpr: float, slide: bool, step, steps, progress) -> list[QImage]:
    """Frames of the panel copy: one per step of ``steps`` (a range or ``_ALL``), else one at ``step``.

    The panel was built once from ``scenario``; each frame only moves its model's step.
    """
    plan = _plan(panel, panel_id, slide, step, steps)
    frames = []
    for i, s in enumerate(plan[2]):
        frames.append(_frame(panel, panel_id, scenario, layout, dpr, slide, plan, s))
        _report(progress, i + 1, len(plan[2]))
    return frames


def _stream_gif(out, panel, panel_id, scenario, layout, dpr: float, slide: bool, plan, fps: float,
                progress) -> None:
    """Draw the frames of ``plan`` and write them to ``out`` as a GIF, one at a time (:class:`_GifStream`)."""
    shown = plan[2]
    first = _rgb(_frame(panel, panel_id, scenario, layout, dpr, slide, plan, shown[0]))
    last = None
    if len(shown) > 1:
        # the palette sees the first and the last frame: a matrix that fills up step by step has its colours
        # in the last one; the last frame is drawn now, kept as palette indices, and written at the end
        last = _rgb(_frame(panel, panel_id, scenario, layout, dpr, slide, plan, shown[-1]))
    gif = _GifStream(out, _palette_of(first, *([last] if last is not None else [])),
                     max(20, round(1000 / fps)))
    if last is not None:
        last = gif.indices(last)
    gif.add(first)
    del first
    _report(progress, 1, len(shown))
    for i, s in enumerate(shown[1:-1], start=2):
        gif.add(_rgb(_frame(panel, panel_id, scenario, layout, dpr, slide, plan, s)))
        _report(progress, i, len(shown))
    if last is not None:
        gif.add(last)
        _report(progress, len(shown), len(shown))
    gif.close()


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


# -- writing: temporary files, stale ones, and the GIF stream ---------------------------------------------

#: A temporary file of ours beside a target: ``.NAME.EXT.XXXXXXXX.part``, ``mkstemp``'s eight random
#: characters (:func:`gpuviz.model.files.write_atomic` names its files the same way), for the files gpuviz
#: exports (pictures and a deck's index).
_PART_NAME = re.compile(r"\..+\.(?:png|svg|gif|md)\.[a-z0-9_]{8}\.part")
#: Bytes a temporary file's name adds to its target's: the leading dot, ``.XXXXXXXX`` and ``.part``.
_PART_EXTRA = 1 + 9 + 5
#: A temporary file nobody holds is left alone this long after it last changed: a writer that does not
#: lock its file (``write_atomic``) writes it in one go, flushed and renamed well within this time.
STALE_PART_SECONDS = 5.0

try:
    import fcntl
except ImportError:  # not POSIX: only the age tells a stale file
    fcntl = None


def _try_lock(fd: int) -> bool:
    """An exclusive lock on ``fd`` without waiting; False when another open file holds one."""
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def remove_stale_parts(folder, now: float | None = None) -> list[Path]:
    """Remove the temporary files of killed exports from ``folder``; returns those removed.

    An export writes its bytes to ``.NAME.EXT.XXXXXXXX.part`` beside its target and renames it over the
    target when complete; killed in between (SIGKILL, a power cut), that file stays. Every export removes
    such leftovers from the folder it writes to, before it writes. A file is removed only when all of these
    hold: its name matches our pattern exactly (:data:`_PART_NAME`: ``.part`` after eight ``mkstemp``
    characters after a picture's or an index's extension), it is a regular file (not a link), it has not
    changed for :data:`STALE_PART_SECONDS`, and no process holds its lock. A live export holds an exclusive
    ``flock`` on its temporary file from the moment it is created until it is renamed (the kernel drops the
    lock when its writer dies, whatever killed it), so a slow export is never removed under its writer; the
    age covers the instant between creating the file and locking it, and writers that do not lock. Files
    that cannot be examined or removed are left as they are.
    """
    folder = Path(folder)
    now = time.time() if now is None else now
    removed = []
    try:
        names = [e.name for e in os.scandir(folder) if _PART_NAME.fullmatch(e.name)]
    except OSError:
        return removed
    for name in names:
        part = folder / name
        try:
            st = os.lstat(part)
            if not stat.S_ISREG(st.st_mode) or now - st.st_mtime < STALE_PART_SECONDS:
                continue
            fd = os.open(part, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
        except OSError:
            continue
        try:
            if _try_lock(fd):
                os.unlink(part)
                removed.append(part)
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed


@contextmanager
def _part_file(path: Path):
    """A locked temporary file beside ``path``, renamed over ``path`` when the block ends without an error.

    As :func:`~gpuviz.model.files.write_atomic` (flushed and fsynced before the rename, the permissions a
    new file gets here, removed on any failure), but the bytes may be written as they are made, and the file
    is locked while it exists, so that :func:`remove_stale_parts` of another export leaves it alone.
    """
    remove_stale_parts(path.parent)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        _try_lock(fd)
        with os.fdopen(fd, "wb") as f:
            fd = -1  # the file object owns it now
            yield f
            f.flush()
            os.fsync(f.fileno())
            os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, path)  # still locked: the name goes away before the lock does
    except BaseException:
        if fd >= 0:
            os.close(fd)
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _umask() -> int:
    mask = os.umask(0)  # os.umask can only be read by setting it; set it back at once
    os.umask(mask)
    return mask


def write_export(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically through a locked temporary file (:func:`_part_file`)."""
    path = Path(path)
    with _part_file(path) as f:
        f.write(data)
    return path


def estimate_memory(fmt: str, size, frames: int = 1) -> int:
    """Bytes an export of ``frames`` pictures of ``size`` physical pixels holds at its peak, beyond the app.

    A frame is a w×h picture of 4 bytes a pixel (Qt's ARGB32). A PNG holds the frame, its RGB32 copy and
    its encoding (at most the raw pixels) with that encoding's copy. An SVG (``size`` is then its layout)
    holds two frames drawn to settle the layout and the plots, and its text with that text's copy (the
    drawing is vectors: measured well below 8 bytes a pixel). A GIF streams: each frame is drawn, reduced to
    palette indices and encoded, then written to the file and dropped; it holds the frame and its RGBA/RGB
    copies (4 + 4 + 3 + 3 bytes a pixel), its palette indices and encoding (GIF's LZW codes are at most 12
    bits a pixel), the last frame's indices (drawn first with the first frame to choose the one palette of
    every frame) and the two frames the palette is chosen from (6 bytes a pixel). ``frames`` does not
    multiply a GIF's memory: the time of the export grows with it, its memory does not. Measured peaks above
    the app's own (``/usr/bin/time -v``, matmul panel): 8K PNG 315 MiB of 506 estimated, 8K GIF 587 MiB of
    981 for 4 and for 8 frames alike, 4K GIF of 33 frames 156 MiB of 245.
    """
    width, height = size
    pixels = int(width) * int(height)
    if fmt == ".png":
        return 4 * pixels + 4 * pixels + 2 * 4 * pixels
    if fmt == ".svg":
        # two frames, and the SVG's text and its copy: a dense scene writes a few bytes a pixel of its layout
        return 4 * pixels + 4 * pixels + 2 * 4 * pixels
    per_frame = (4 + 4 + 3 + 3) * pixels + pixels + 2 * (3 * pixels // 2)
    palette = (6 + 6) * pixels if frames > 1 else 0
    return per_frame + palette + (pixels if frames > 1 else 0)


class ExportMemoryError(ExportError):
    """An export over the memory budget; ``cli_hint`` says what to type to go ahead (as :class:`BudgetError`)."""

    cli_hint = "raise it with --memory"


def check_memory(fmt: str, size, frames: int, memory: int | None) -> int:
    """The estimate of :func:`estimate_memory`; :class:`ExportMemoryError` when it is over ``memory`` bytes.

    The message reads as a run's or a trace's over the same budget (:class:`gpuviz.model.budget.Budget`).
    """
    budget = DEFAULT_MEMORY if memory is None else int(memory)
    # an SVG draws its layout, whatever size it says it shows
    need = estimate_memory(fmt, layout_for(size)[0] if fmt == ".svg" else size, frames)
    if need > budget:
        width, height = size
        what = f"{frames} frames of {width}×{height}" if fmt == ".gif" else f"a {width}×{height} picture"
        raise ExportMemoryError(f"the export ({what}) needs an estimated {format_bytes(need)}, over the "
                                f"memory budget of {format_bytes(budget)}")
    return need


def _rgb(image: QImage):
    """``image`` as an RGB PIL image (a copy: the QImage may go)."""
    from PIL import Image

    return Image.fromarray(image_to_array(image)[:, :, :3])


def _palette_of(*images):
    """One 256-colour palette (a ``P`` image) for every frame of a GIF, chosen from ``images``."""
    import numpy as np
    from PIL import Image

    arrays = [np.asarray(im) for im in images]
    # at most ~4 Mpixels go into the median cut: every n-th row and column of a big picture keeps its colours
    step = 1
    while sum(a[::step, ::step].shape[0] * a[::step, ::step].shape[1] for a in arrays) > 4_000_000:
        step += 1
    stacked = np.concatenate([a[::step, ::step] for a in arrays], axis=0)
    return Image.fromarray(stacked).quantize(colors=256, method=Image.Quantize.MEDIANCUT)


def _gif_blocks(data: bytes):
    """A one-frame GIF as (screen, rest): header, screen descriptor and colour table; then its blocks."""
    flags = data[10]
    table = 3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0
    return data[:13 + table], data[13 + table:]


def _skip_sub_blocks(data: bytes, i: int) -> int:
    while data[i]:
        i += data[i] + 1
    return i + 1


def _frame_blocks(rest: bytes) -> bytes:
    """The frame's own blocks of a one-frame GIF's ``rest``: its graphic control and image, not the loop."""
    out, i = [], 0
    while i < len(rest) and rest[i] != 0x3B:
        start = i
        if rest[i] == 0x21:  # extension: keep the graphic control (duration, disposal), drop loop and comments
            label = rest[i + 1]
            i = _skip_sub_blocks(rest, i + 2)
            if label == 0xF9:
                out.append(rest[start:i])
        elif rest[i] == 0x2C:  # image: descriptor, local colour table, LZW code size and data
            flags = rest[i + 9]
            i += 10 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0) + 1
            i = _skip_sub_blocks(rest, i)
            out.append(rest[start:i])
        else:
            raise ExportError(f"Pillow wrote a GIF block gpuviz does not know (0x{rest[i]:02x})")
    return b"".join(out)


class _GifStream:
    """An animated GIF written to ``out`` frame by frame, every frame kept, all in one palette.

    Pillow's animated GIF writer holds every frame until it finishes and merges consecutive frames whose
    palette indices are equal (it has no option to keep them); with a palette chosen per frame, steps that
    differ in a few pixels came out equal and were merged. Here each frame is mapped to one palette chosen
    from the first and last frames (no dithering, so unchanged pixels stay unchanged and changed ones keep
    their nearest colour), encoded by Pillow as a one-frame GIF, and its blocks are appended to the file as
    they come: N steps are N frames, and memory holds one frame at a time.
    """

    def __init__(self, out, palette, duration_ms: int):
        self.out, self.palette, self.duration = out, palette, int(duration_ms)
        self.screen: bytes | None = None
        self.frames = 0

    def add(self, picture) -> None:
        from PIL import Image

        indices = picture if picture.mode == "P" else picture.quantize(palette=self.palette,
                                                                         dither=Image.Dither.NONE)
        buffer = io.BytesIO()
        info = {"loop": 0} if self.screen is None else {}
        indices.save(buffer, format="GIF", optimize=False, duration=self.duration, disposal=1, **info)
        screen, rest = _gif_blocks(buffer.getvalue())
        if self.screen is None:
            self.screen = screen
            self.out.write(screen)
            # the first frame keeps its loop extension (the application block before its image)
            self.out.write(rest[:-1] if rest.endswith(b";") else rest)
        else:
            if screen[6:] != self.screen[6:]:
                raise ExportError("the GIF's frames came out with different palettes")
            self.out.write(_frame_blocks(rest))
        self.frames += 1

    def indices(self, picture):
        """``picture`` mapped to the palette (kept to be added later)."""
        from PIL import Image

        return picture.quantize(palette=self.palette, dither=Image.Dither.NONE)

    def close(self) -> None:
        self.out.write(b";")


def parse_steps(text: str) -> range:
    """``"A:B"`` as the half-open ``range(A, B)`` (``"0:8"`` is eight steps, 0 to 7)."""
    text = str(text)
    shown = repr(text) if len(text) <= 40 else repr(text[:30] + "…") + f" ({len(text)} characters)"
    parts = text.split(":")
    if len(parts) == 2 and any(len(p.strip()) > MAX_NUMBER_DIGITS for p in parts):
        raise ExportError(f"step range {shown} has a number of more than {MAX_NUMBER_DIGITS} digits")
    try:
        if len(parts) != 2:
            raise ValueError
        start, stop = int(parts[0]), int(parts[1])
    except ValueError:
        raise ExportError(f"cannot read {shown} as a step range: write A:B, e.g. 0:8 for steps 0 to 7") from None
    if start < 0 or stop <= start:
        raise ExportError(f"step range {shown} is empty or negative: write A:B with 0 ≤ A < B")
    return range(start, stop)


def export_panel(panel_id, scenario, out_path, size=(1920, 1080), theme="light", step: int | None = None,
                 steps: range | None = None, dpr: float | None = None, fps: float = 4.0, slide: bool = False,
                 progress=None, memory: int | None = None) -> Path:
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
    memory : int, optional
        Memory budget in bytes (default 2 GiB, as ``run`` and ``trace``): an export whose estimate
        (:func:`estimate_memory`) is over it is refused before anything is drawn (:class:`ExportMemoryError`).

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
    if fmt == ".gif" and not (MIN_FPS <= fps <= MAX_FPS):
        raise ExportError(f"a GIF's frame rate must be at least {MIN_FPS:g} and at most {MAX_FPS:g} frames a "
                          f"second, got {fps:g}")
    layout, dpr = layout_for(size, dpr)
    if fmt == ".gif" and isinstance(steps, range):
        check_memory(fmt, size, max(0, steps.stop - steps.start), memory)  # known before the panel is built
    # vector lines scale with the view box: an SVG's pens stay at the layout's widths
    line_dpr = 1.0 if fmt == ".svg" else dpr
    with _app_theme(_ensure_app(), theme), \
            panel_copy(panel_id, scenario, _scaled(theme, line_dpr), layout, slide) as (panel, scenario):
        if fmt == ".gif":
            plan = _plan(panel, panel_id, slide, None, _ALL if steps is None else steps)
            check_memory(fmt, size, len(plan[2]), memory)
            with _part_file(path) as f:
                _stream_gif(f, panel, panel_id, scenario, layout, dpr, slide, plan, fps, progress)
            return path
        check_memory(fmt, size, 1, memory)
        if fmt == ".png":
            data = png_bytes(_draw(panel, panel_id, scenario, layout, dpr, slide, step, None, progress)[0])
        else:
            # the frame settles the panel at its step (and caption); the SVG then paints the same widgets
            _draw(panel, panel_id, scenario, layout, 1.0, slide, step, None, progress)
            data = _svg_bytes(panel, layout, scenario.title, size)
    write_export(path, data)
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
    check_memory(fmt, size, 1, None)
    if fmt == ".svg":
        dpr = 1.0  # vector: the view box scales the layout (see _svg_bytes)
    _ensure_app()
    # the panels built so far (building the others would only draw lines no one sees in this picture)
    panels = list(getattr(window, "built_panels", None) or getattr(window, "panels", []))
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
    write_export(path, data)
    return path


__all__ = ["ExportCancelled", "ExportError", "ExportMemoryError", "MAX_SIZE", "MIN_LAYOUT", "PANEL_IDS",
           "STALE_PART_SECONDS", "check_memory", "check_size", "check_target", "estimate_memory", "export_panel",
           "export_window", "image_to_array", "layout_for", "panel_class", "parse_steps", "png_bytes",
           "remove_stale_parts", "render_frames", "render_widget", "resolve_theme", "steps_of", "write_atomic",
           "write_export"]
