"""A layout check that looks at what is drawn, not at what one machine happens to show (issue 15, item 3).

:func:`check_window` walks a shown top-level widget and returns one sentence per problem:

- a Qt widget's text that needs more room than it has (QLabel, rich text included, by its size hint or
  height-for-width; buttons, check boxes and radio buttons; a combo box's current text; a group box's
  title; a tab's title; a line edit's or spin box's content), or text elided with "…" and no tooltip;
- text pyqtgraph draws inside plots (axis labels and the tick labels exactly as ``AxisItem`` lays them
  out, ``TextItem``, ``LabelItem``, legend entries, any ``QGraphicsTextItem`` or
  ``QGraphicsSimpleTextItem``), by its scene rectangle mapped to the window: clipped when it leaves its
  view's viewport or a clipping parent (a ``ViewBox``);
- two texts that overlap (rectangles intersect by more than :data:`OVERLAP_PX` in both directions);
- a visible widget outside the window;
- with ``min_share``: the figure's data area (bounding rectangle of ``Panel.data_rects()``) below that
  share of the window; with ``min_text_px``: a figure text whose font is smaller than that.

Hidden widgets are skipped; so are widgets scrolled out of a ``QScrollArea`` (they are reachable), the
children of a splitter pane collapsed to nothing, and the text inside item views and text edits (they
scroll). Nothing is allowed by name: a problem is a problem wherever it is.

Used by ``tests/ui/test_layout.py`` (one process per screen size, see :func:`walk_screen`) and by
``scripts/layout_report.py``.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

#: Two texts overlap when their rectangles share more than this many pixels in both directions.
OVERLAP_PX = 2.0
#: Rounding slack (pixels) for "fits" and "inside" comparisons.
SLACK_PX = 1.5
#: Lecture mode: the figure's data area covers at least this share of the screen.
MIN_FIGURE_SHARE = 0.75
#: Lecture mode and slides: every figure text is at least this many pixels tall at 1080 lines.
MIN_TEXT_PX_1080 = 18.0

#: The screen sizes of issue 15: (name, logical width, logical height, device pixel ratio).
SCREENS = (
    ("1024x768", 1024, 768, 1),
    ("1280x720", 1280, 720, 1),
    ("1366x768", 1366, 768, 1),
    ("1920x1080", 1920, 1080, 1),
    ("3840x2160@2", 1920, 1080, 2),
)
MODES = ("light", "dark", "lecture")
SLIDE_SIZES = ((1280, 720), (1920, 1080))

ROOT = Path(__file__).resolve().parents[2]
PRESETS = ROOT / "assets" / "presets"


def min_text_px(height: float) -> float:
    """The least figure text height (pixels) on a screen ``height`` logical pixels tall."""
    return MIN_TEXT_PX_1080 * float(height) / 1080.0


# -- the texts ---------------------------------------------------------------------------------------


@dataclass
class Text:
    """One piece of text as drawn: where (window coordinates), what, and how large."""

    rect: object  # QRectF in window coordinates
    text: str
    where: str  # a description for the problem sentence
    widget: object  # the QWidget that draws it (the GraphicsView for scene text)
    font_px: float  # the font's pixel size as drawn (scene scale included)
    problems: list = field(default_factory=list)


def _short(text: str, n: int = 40) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _name(w) -> str:
    name = type(w).__name__
    if w.objectName():
        name += f"#{w.objectName()}"
    return name


def _plain(text: str) -> str:
    """Rich text as the words it shows."""
    from PyQt6.QtGui import QTextDocument

    if "<" in text and ">" in text:
        doc = QTextDocument()
        doc.setHtml(text)
        return doc.toPlainText()
    return text


_ELIDED_INSIDE = re.compile(r"\S…\S")


def _looks_elided(text: str, button: bool) -> bool:
    """Text cut with "…": at its end (``C = A·B (32×…``, ``feeds …``) or inside a word (``ab…yz``).

    A leading "… " continues the line above (``… per element``) and " … " between words is a range or a
    pause; a button's one trailing "…" ("Export…") says it opens a dialog.
    """
    t = text.strip()
    if button and t.endswith("…") and t.count("…") == 1:
        return False
    return t.endswith("…") and len(t) > 1 or bool(_ELIDED_INSIDE.search(t))


def _font_px(font, scale: float = 1.0, dpi: float = 96.0) -> float:
    if font.pixelSize() > 0:
        return font.pixelSize() * scale
    return font.pointSizeF() * dpi / 72.0 * scale


def _rectf(r):
    from PyQt6.QtCore import QRectF

    return QRectF(r)


def _in_window(w, window, r):
    """QRectF ``r`` in ``w``'s coordinates, in ``window``'s."""
    from PyQt6.QtCore import QPoint, QRectF

    o = w.mapTo(window, QPoint(0, 0))
    return QRectF(r).translated(o.x(), o.y())



@functools.lru_cache(maxsize=1)
def _recorder_classes():
    """A paint device whose engine records every text run painted on it (and draws nothing)."""
    from PyQt6.QtGui import QFontMetricsF, QPaintDevice, QPaintEngine, QTransform

    class Engine(QPaintEngine):
        def __init__(self):
            super().__init__(QPaintEngine.PaintEngineFeature.AllFeatures)
            self.runs = []

        def begin(self, device):
            return True

        def end(self):
            return True

        def type(self):
            return QPaintEngine.Type.User

        def updateState(self, state):
            pass

        def drawPixmap(self, r, pm, sr):
            pass

        def drawImage(self, *args):
            pass

        def drawTiledPixmap(self, *args):
            pass

        def drawPolygon(self, *args):
            pass

        def drawPath(self, *args):
            pass

        def drawRects(self, *args):
            pass

        def drawLines(self, *args):
            pass

        def drawEllipse(self, *args):
            pass

        def drawPoints(self, *args):
            pass

        def drawTextItem(self, p, item):
            text = item.text()
            if not text.strip():
                return
            painter = self.painter()
            # the painter scales by the device's pixel ratio; texts are measured in layout pixels
            dpr = painter.device().devicePixelRatioF() if painter.device() is not None else 1.0
            t = painter.combinedTransform() * QTransform.fromScale(1 / dpr, 1 / dpr)
            font = item.font()
            ink = QFontMetricsF(font, painter.device()).tightBoundingRect(text).translated(p.x(), p.y())
            # tightBoundingRect is the ink of the whole string; a run is drawn item.width() wide
            clip = t.mapRect(painter.clipBoundingRect()) if painter.hasClipping() else None
            scale = math.sqrt(abs(t.determinant())) or 1.0
            self.runs.append((text, t.mapRect(ink), font, scale, clip))

    class Device(QPaintDevice):
        def __init__(self, width, height, dpr):
            super().__init__()
            self.size = (max(1, int(width)), max(1, int(height)))
            self.dpr = float(dpr)
            self.engine = Engine()

        def paintEngine(self):
            return self.engine

        def metric(self, m):
            M = QPaintDevice.PaintDeviceMetric
            w, h = self.size
            values = {M.PdmWidth: w, M.PdmHeight: h, M.PdmDpiX: 96, M.PdmDpiY: 96, M.PdmPhysicalDpiX: 96,
                      M.PdmPhysicalDpiY: 96, M.PdmDepth: 32, M.PdmNumColors: 0x7FFFFFFF,
                      M.PdmWidthMM: round(w * 25.4 / 96), M.PdmHeightMM: round(h * 25.4 / 96),
                      M.PdmDevicePixelRatio: max(1, round(self.dpr)),
                      M.PdmDevicePixelRatioF_EncodedA: 0, M.PdmDevicePixelRatioF_EncodedB: 0,
                      M.PdmDevicePixelRatioScaled: round(self.dpr * QPaintDevice.devicePixelRatioFScale())}
            return values.get(m, 0)

    return Engine, Device


def painted_texts(widget, device=None):
    """The text runs ``widget`` paints itself (children not included), in its own coordinates:
    a list of ``(text, ink QRectF, QFont, scale, clip QRectF or None)``."""
    from PyQt6.QtCore import QPoint
    from PyQt6.QtGui import QPainter, QRegion
    from PyQt6.QtWidgets import QWidget

    if device is None:
        _, Device = _recorder_classes()
        device = Device(widget.width(), widget.height(), widget.devicePixelRatioF())
    device.engine.runs = []
    painter = QPainter(device)
    try:
        QWidget.render(widget, painter, QPoint(0, 0), QRegion(), QWidget.RenderFlag(0))
    finally:
        painter.end()
    return device.engine.runs


class _Walk:
    """One walk of a window's widgets: every text each one paints, where it lands in the window."""

    def __init__(self, window, figure=()):
        self.window = window
        self.figure = tuple(figure)
        self.texts: list[Text] = []
        self.problems: list[str] = []
        _, Device = _recorder_classes()
        self.device = Device(window.width(), window.height(), window.devicePixelRatioF())

    # visibility ------------------------------------------------------------------------------------

    def skip_subtree(self, w) -> bool:
        from PyQt6.QtWidgets import QAbstractItemView, QPlainTextEdit, QSplitter, QTextEdit

        if not w.isVisibleTo(self.window):
            return True
        if isinstance(w, (QAbstractItemView, QPlainTextEdit, QTextEdit)):
            return True  # their text scrolls
        parent = w.parentWidget()
        if isinstance(parent, QSplitter) and (w.width() <= 0 or w.height() <= 0):
            return True  # a collapsed pane: the lecturer drags it open
        return False

    def clip_of(self, w):
        """(visible rect of ``w`` in window coordinates, whether it lies in scrolled content)."""
        from PyQt6.QtWidgets import QAbstractScrollArea

        rect = _in_window(w, self.window, w.rect())
        scrolled = False
        child, parent = w, w.parentWidget()
        while parent is not None and child is not self.window:
            area = parent.parentWidget()
            if isinstance(area, QAbstractScrollArea) and parent is area.viewport() \
                    and not _is_graphics(area):
                scrolled = True
            rect = rect.intersected(_in_window(parent, self.window, parent.rect()))
            if parent is self.window:
                break
            child, parent = parent, parent.parentWidget()
        return rect, scrolled

    def in_figure(self, w) -> bool:
        while w is not None:
            if any(w is f for f in self.figure):
                return True
            w = w.parentWidget()
        return False

    # widgets ---------------------------------------------------------------------------------------

    def run(self):
        from PyQt6.QtWidgets import QGraphicsItem, QGraphicsView

        # an item cached as a pixmap (DeviceCoordinateCache) would paint its text as an image the recorder
        # cannot read: drawn uncached while walking, its cache mode given back after
        cached = []
        for view in [self.window, *self.window.findChildren(QGraphicsView)]:
            if isinstance(view, QGraphicsView) and view.scene() is not None:
                for item in view.scene().items():
                    if item.cacheMode() != QGraphicsItem.CacheMode.NoCache:
                        cached.append((item, item.cacheMode()))
                        item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
        try:
            return self._run()
        finally:
            for item, mode in cached:
                item.setCacheMode(mode)

    def _run(self):
        from PyQt6.QtWidgets import QWidget

        stack = [self.window]
        while stack:
            w = stack.pop()
            if w is not self.window and self.skip_subtree(w):
                continue
            visible, scrolled = self.clip_of(w)
            if w is not self.window and not scrolled:
                self.check_inside(w)
            if visible.isEmpty():
                continue  # scrolled out of view (reachable by scrolling), or nothing of it shows
            self.widget_texts(w, visible, scrolled)
            stack.extend(c for c in w.findChildren(QWidget) if c.parentWidget() is w and not c.isWindow())
        self.check_overlaps()
        return self

    def check_inside(self, w):
        r = _in_window(w, self.window, w.rect())
        win = _rectf(self.window.rect()).adjusted(-SLACK_PX, -SLACK_PX, SLACK_PX, SLACK_PX)
        if r.width() > 0 and r.height() > 0 and not win.contains(r):
            self.problems.append(
                f"outside the window: {_name(w)} at ({r.x():.0f}, {r.y():.0f}) {r.width():.0f}×{r.height():.0f} "
                f"in a {self.window.width()}×{self.window.height()} window")

    def describe(self, w, text) -> str:
        owner = w
        from PyQt6.QtWidgets import QWidget

        if type(w) is QWidget and w.parentWidget() is not None and _is_graphics(w.parentWidget()):
            owner = w.parentWidget()  # a graphics view's viewport: name the view
        return f"{_name(owner)} “{_short(text)}”"

    def tooltip_for(self, w, text) -> str:
        from PyQt6.QtWidgets import QTabBar

        if isinstance(w, QTabBar):
            stem = text.rstrip("…").strip()
            for i in range(w.count()):
                if w.tabText(i).replace("&", "").startswith(stem) and w.tabToolTip(i):
                    return w.tabToolTip(i)
            return ""
        p = w
        while p is not None and not p.toolTip():
            if p is self.window:
                break
            p = p.parentWidget() if not _is_graphics(p) else None
        return p.toolTip() if p is not None else ""

    def widget_texts(self, w, visible, scrolled):
        from PyQt6.QtCore import QPoint, QRectF
        from PyQt6.QtWidgets import QAbstractButton

        runs = painted_texts(w, self.device)
        o = w.mapTo(self.window, QPoint(0, 0))
        own = QRectF(w.rect()).adjusted(-SLACK_PX, -SLACK_PX, SLACK_PX, SLACK_PX)
        seen = set()
        for text, ink, font, scale, clip in runs:
            key = (text, round(ink.x()), round(ink.y()))
            if key in seen:
                continue  # drawn twice in one place (a highlight over the line): one text
            seen.add(key)
            where = self.describe(w, text)
            if clip is not None:
                if clip.isEmpty() or not clip.intersects(ink):
                    continue  # clipped away entirely: not on screen at all
                if not clip.adjusted(-SLACK_PX, -SLACK_PX, SLACK_PX, SLACK_PX).contains(ink):
                    self.problems.append(f"clipped: {where} is cut by its clip ({ink.x():.1f}, {ink.y():.1f}) "
                                         f"{ink.width():.1f}×{ink.height():.1f} in {clip.x():.1f}, {clip.y():.1f}, "
                                         f"{clip.width():.0f}×{clip.height():.0f} of {_name(w)}")
            if not own.contains(ink):
                if not own.intersects(ink):
                    continue
                self.problems.append(f"clipped: {where} runs out of its widget ({ink.x():.0f}, {ink.y():.0f}) "
                                     f"{ink.width():.0f}×{ink.height():.0f} in {w.width()}×{w.height()}")
            rect = ink.translated(o.x(), o.y())
            if not scrolled and not visible.adjusted(-SLACK_PX, -SLACK_PX, SLACK_PX, SLACK_PX).contains(rect):
                self.problems.append(f"clipped by a parent: {where} at ({rect.x():.0f}, {rect.y():.0f}) "
                                     f"{rect.width():.0f}×{rect.height():.0f}, visible part ({visible.x():.0f}, "
                                     f"{visible.y():.0f}) {visible.width():.0f}×{visible.height():.0f}")
            if _looks_elided(text, isinstance(w, QAbstractButton)) and not self.tooltip_for(w, text):
                self.problems.append(f"elided without a tooltip: {where}")
            rect = rect.intersected(visible)
            if not rect.isEmpty():
                self.texts.append(Text(rect, text.strip(), where, w, _font_px(font, scale)))

    # overlaps --------------------------------------------------------------------------------------

    def check_overlaps(self):
        texts = sorted(self.texts, key=lambda t: t.rect.left())
        for i, a in enumerate(texts):
            for b in texts[i + 1:]:
                if b.rect.left() >= a.rect.right() - OVERLAP_PX:
                    break
                inter = a.rect.intersected(b.rect)
                if inter.width() > OVERLAP_PX and inter.height() > OVERLAP_PX:
                    if a.text == b.text and _same(a.rect, b.rect):
                        continue  # one text painted twice (a shadow, a highlight)
                    self.problems.append(f"overlap: {a.where} and {b.where} share "
                                         f"{inter.width():.0f}×{inter.height():.0f} px at "
                                         f"({inter.x():.0f}, {inter.y():.0f})")


def _is_graphics(w) -> bool:
    from PyQt6.QtWidgets import QGraphicsView

    return isinstance(w, QGraphicsView)


def _same(a, b) -> bool:
    return abs(a.x() - b.x()) < 2 and abs(a.y() - b.y()) < 2 and abs(a.width() - b.width()) < 2


# -- the check ---------------------------------------------------------------------------------------


def settle(window, rounds: int = 3) -> None:
    """Let layouts, pyqtgraph's range updates and a first paint (axes size themselves there) settle."""
    from PyQt6.QtWidgets import QApplication

    for _ in range(rounds):
        QApplication.sendPostedEvents()
        QApplication.processEvents()
    window.grab()  # paint once: an AxisItem measures its tick text while painting and may relayout
    for _ in range(rounds):
        QApplication.sendPostedEvents()
        QApplication.processEvents()


def figure_share(window, panel) -> float:
    """The bounding rectangle of ``panel.data_rects()`` (in ``window``) ÷ the window's area
    (:meth:`gpuviz.ui.panel.Panel.figure_share`)."""
    return panel.figure_share(window)


def check_window(window, panel=None, *, min_share: float | None = None, min_text: float | None = None,
                 settle_first: bool = True) -> list[str]:
    """Problems of the shown top-level widget ``window`` (one sentence each; empty when it is fine).

    Parameters
    ----------
    window : QWidget
        The top-level widget (a main window, or a panel copy for an export).
    panel : Panel, optional
        The panel whose figure ``min_share`` and ``min_text`` measure (its ``roles().figure`` and
        ``data_rects()``).
    min_share : float, optional
        Least share of the window the figure's data area covers (lecture mode: :data:`MIN_FIGURE_SHARE`).
    min_text : float, optional
        Least font pixel size of every text in the figure (lecture mode and slides: :func:`min_text_px`).
    """
    if settle_first:
        settle(window)
    figure = panel.roles().figure if panel is not None else ()
    walk = _Walk(window, figure).run()
    problems = list(walk.problems)
    if panel is not None and min_text is not None:
        for t in walk.texts:
            if walk.in_figure(t.widget) and t.font_px < min_text - 0.25:
                problems.append(f"too small: {t.where} is {t.font_px:.1f} px, the least is {min_text:.1f} px")
    if panel is not None:
        problems.extend(_sideways_scrolls(window, figure))
    if panel is not None and min_share is not None:
        share = figure_share(window, panel)
        if share < min_share:
            problems.append(f"figure too small: its data area covers {100 * share:.1f} % of the "
                            f"{window.width()}×{window.height()} window, the least is {100 * min_share:.0f} %")
    # one sentence per problem, in the order found
    return list(dict.fromkeys(problems))


def _sideways_scrolls(window, figure) -> list[str]:
    """A figure that scrolls sideways hides part of itself behind a scroll bar, and the text walk above skips
    content scrolled out of view: so a visible horizontal scroll bar in the figure is a problem of its own."""
    from PyQt6.QtWidgets import QScrollArea

    # a page of the figure in a scroll area; tables and text panes scroll by nature and are left out
    found = []
    for top in figure:
        areas = [top] if isinstance(top, QScrollArea) else []
        areas += top.findChildren(QScrollArea)
        for area in areas:
            bar = area.horizontalScrollBar()
            if area.isVisibleTo(window) and bar.isVisibleTo(window) and bar.maximum() > 0:
                found.append(f"figure scrolls sideways: {_name(area)} is {bar.maximum()} px wider than its view")
    return found


def texts_of(window, panel=None) -> list[Text]:
    """Every text :func:`check_window` sees (for reports and tests)."""
    figure = panel.roles().figure if panel is not None else ()
    return _Walk(window, figure).run().texts


# -- walking the app on one screen --------------------------------------------------------------------


def screen_config(width: int, height: int, dpr: float) -> dict:
    """The offscreen platform's configuration of one screen ``width``×``height`` logical pixels at ``dpr``.

    The screen is ``width·dpr``×``height·dpr`` device pixels at ``96·dpr`` dpi, which Qt's high-DPI
    scaling turns into a ``width``×``height`` logical screen of ratio ``dpr``, as on a 2× Linux desktop.
    """
    return {"windowFrameMargins": False,
            "screens": [{"name": "gpuviz-check", "x": 0, "y": 0, "width": round(width * dpr),
                         "height": round(height * dpr), "logicalDpi": round(96 * dpr), "logicalBaseDpi": 96,
                         "dpr": 1}]}


def platform_for(width: int, height: int, dpr: float, folder) -> str:
    """``QT_QPA_PLATFORM`` value for that screen (its JSON written into ``folder``)."""
    path = Path(folder) / f"screen-{width}x{height}@{dpr:g}.json"
    path.write_text(json.dumps(screen_config(width, height, dpr)))
    return f"offscreen:configfile={path}"


def preset_panels() -> dict[str, str]:
    """Preset file stem → its panel id, read from ``assets/presets`` without building anything."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    out = {}
    for path in sorted(PRESETS.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        out[path.stem] = str(data.get("panel", "matmul"))
    return out


def case_id(panel: str, size: str, mode: str) -> str:
    return f"{panel}-{size}-{mode}"


def _window(engine=None):
    from gpuviz.ui.main_window import MainWindow
    from gpuviz.ui.settings import Settings

    window = MainWindow(engine=engine, settings=Settings.disabled(), restore=False)
    # the backend lookup starts a worker that imports numba: not what a layout is about
    window.start_backend_lookup = lambda: None
    return window


def _larger_than_screen(window, screen) -> list[str]:
    """A window the screen cannot hold: its least size (the panel's layout) is over the available area, so
    its bottom or right edge, with whatever is there, is off the screen."""
    if window.width() <= screen.width() and window.height() <= screen.height():
        return []
    least = window.minimumSizeHint()
    return [f"the window is {window.width()}×{window.height()}, larger than the screen's available "
            f"{screen.width()}×{screen.height()} (its layout needs at least {least.width()}×{least.height()})"]


@contextlib.contextmanager
def _screen_window():
    """The app's window filling the current (configured) screen's available area: ``(window, that area)``;
    closed and deleted on the way out."""
    from PyQt6.QtGui import QGuiApplication
    from PyQt6.QtWidgets import QApplication

    app = QApplication.instance()
    screen = QGuiApplication.primaryScreen().availableGeometry()
    window = _window()
    try:
        window.resize(screen.width(), screen.height())
        window.move(screen.topLeft())
        window.show()
        yield window, screen
    finally:
        window.close()
        window.deleteLater()
        app.processEvents()


def walk_screen(size_name: str, panels=None, modes=MODES, log=None) -> dict[str, list[str]]:
    """Check every panel × mode on the current (configured) screen; {case id: problems}.

    Runs in a process whose QApplication was made on a screen of that size (:func:`platform_for`).
    Normal modes: the window resized to the screen's available area; lecture: F5 (full screen).
    """
    results = {}
    with _screen_window() as (window, screen):
        for panel in window.panels:
            if panels and panel.panel_id not in panels:
                continue
            try:  # the panel's first preset, the lecture's own example: a figure with something in it
                presets = panel.presets()
            except Exception:  # noqa: BLE001 (the walk checks layouts; the presets' tests check presets)
                presets = []
            if presets:
                window.apply_scenario(presets[0], source="preset")
            window.tabs.setCurrentWidget(panel)
            for mode in modes:
                cid = case_id(panel.panel_id, size_name, mode)
                try:
                    if mode == "lecture":
                        window.set_theme("light")
                        window.set_lecture_mode(True)
                        settle(window)
                        problems = check_window(window, panel, min_share=MIN_FIGURE_SHARE,
                                                min_text=min_text_px(window.height()))
                        if window.size() != screen.size():
                            problems.insert(0, f"lecture mode is {window.width()}×{window.height()}, "
                                               f"not the screen's {screen.width()}×{screen.height()}")
                        window.set_lecture_mode(False)
                    else:
                        window.set_theme(mode)
                        problems = check_window(window, panel)  # settles the layout first
                        problems[:0] = _larger_than_screen(window, screen)
                except Exception as e:  # noqa: BLE001 (a crash is one more problem of that case, reported)
                    problems = [f"error: {type(e).__name__}: {e}"]
                    if window.lecture_mode:
                        window.set_lecture_mode(False)
                results[cid] = problems
                if log is not None:
                    log(cid, problems)
    return results


def walk_presets(size_name: str, presets=None, mode: str = "light", log=None) -> dict[str, list[str]]:
    """Every preset opened in the window on the current (configured) screen, in a normal theme; {case id:
    problems}. The screen walk shows each panel on its first preset only: a later preset's longer title in a
    combo box, its long value lists or its wider roofline labels are what this finds."""
    from gpuviz.model.scenario import load_scenario

    results = {}
    with _screen_window() as (window, screen):
        window.set_theme(mode)
        for stem in preset_panels():
            if presets and stem not in presets:
                continue
            cid = f"{stem}-{size_name}-{mode}"
            try:
                if not window.apply_scenario(load_scenario(PRESETS / f"{stem}.toml"), source="preset"):
                    problems = [f"the preset did not open: {window.message_bar.text()}"]
                else:
                    problems = check_window(window, window.current_panel())  # settles the layout first
                    problems[:0] = _larger_than_screen(window, screen)
            except Exception as e:  # noqa: BLE001 (a crash is one more problem of that case, reported)
                problems = [f"error: {type(e).__name__}: {e}"]
            results[cid] = problems
            if log is not None:
                log(cid, problems)
    return results


def walk_slides(width: int, height: int, presets=None, log=None) -> dict[str, list[str]]:
    """The slide-look export of every preset at ``width``×``height``, checked as drawn; {case id: problems}."""
    from gpuviz.model.scenario import load_scenario
    from gpuviz.ui import export

    app = export._ensure_app()
    theme = export.resolve_theme("light", slide=True)
    layout, dpr = export.layout_for((width, height))
    results = {}
    for stem, panel_id in preset_panels().items():
        if presets and stem not in presets:
            continue
        cid = f"{stem}-slide-{width}x{height}"
        try:
            scenario = load_scenario(PRESETS / f"{stem}.toml")
            with export._app_theme(app, theme), \
                    export.panel_copy(panel_id, scenario, export._scaled(theme, dpr), layout, slide=True) as (panel, sc):
                export._show_caption(panel, sc, panel.model.step if panel.model is not None
                                     and hasattr(panel.model, "step") else None)
                export.render_widget(panel, *layout, dpr)  # what the export draws, and its layout
                problems = check_window(panel, panel, min_text=min_text_px(layout[1]))
        except Exception as e:  # noqa: BLE001 (reported as that case's problem)
            problems = [f"error: {type(e).__name__}: {e}"]
        results[cid] = problems
        if log is not None:
            log(cid, problems)
    return results


def main(argv=None) -> int:
    """``python -m tests.ui.layout_check SIZE [--panel ID] [--mode M] [--slides] [--preset STEM] [--json OUT]``:
    one screen's walk in this process (the caller sets ``QT_QPA_PLATFORM`` to that screen)."""
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("size", help="a screen name of SCREENS, or WxH for slides")
    ap.add_argument("--panel", action="append")
    ap.add_argument("--mode", action="append", choices=MODES)
    ap.add_argument("--slides", action="store_true", help="check the slide exports at SIZE instead")
    ap.add_argument("--presets", action="store_true",
                    help="open every preset (or each --preset) in the window at SIZE, in each normal --mode")
    ap.add_argument("--preset", action="append")
    ap.add_argument("--json")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)

    from PyQt6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])  # noqa: F841 (kept alive)
    from gpuviz.ui import theme as themes

    themes.apply_theme(app, themes.LIGHT)

    def log(cid, problems):
        if not args.quiet:
            for p in problems:
                print(f"{cid}: {p}", flush=True)

    if args.slides:
        w, h = (int(v) for v in args.size.split("x"))
        results = walk_slides(w, h, args.preset, log)
    elif args.presets:
        results = {}
        for mode in args.mode or ("light",):
            results.update(walk_presets(args.size, args.preset, mode, log))
    else:
        results = walk_screen(args.size, args.panel, tuple(args.mode or MODES), log)
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1))
    return 0


def run_screen_process(size_name: str, width: int, height: int, dpr: float, folder, *, slides: bool = False,
                       every_preset: bool = False, panels=None, modes=None, presets=None, timeout: float = 600,
                       quiet=True):
    """Run :func:`main` in a new process on a configured screen; returns ``(results, stdout+stderr)``."""
    import subprocess

    folder = Path(folder)
    kind = "-slides" if slides else "-presets" if every_preset else ""
    out = folder / f"result-{size_name}{kind}.json"
    cmd = [sys.executable, "-m", "tests.ui.layout_check", size_name, "--json", str(out)]
    if slides:
        cmd.append("--slides")
    if every_preset:
        cmd.append("--presets")
    if quiet:
        cmd.append("--quiet")
    for flag, values in (("--panel", panels), ("--mode", modes), ("--preset", presets)):
        for v in values or ():
            cmd += [flag, v]
    env = dict(os.environ, QT_QPA_PLATFORM=platform_for(width, height, dpr, folder))
    env.pop("QT_SCALE_FACTOR", None)
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    text = proc.stdout + proc.stderr
    if proc.returncode != 0 or not out.exists():
        raise RuntimeError(f"the layout walk at {size_name} failed (exit {proc.returncode}):\n{text[-4000:]}")
    return json.loads(out.read_text()), text


if __name__ == "__main__":
    sys.exit(main())
