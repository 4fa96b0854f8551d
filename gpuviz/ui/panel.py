"""The contract between the main window and every panel (matmul now; broadcasting, gradients, speed later).

The main window knows panels only through :class:`Panel`: it puts them in tabs,
forwards the View menu's timeline actions to the current one, shows its status
in the status bar, hands it the theme, saves and opens its scenarios, and shuts
it down on close. A panel is a view of a model object and computes nothing
itself (DESIGN.md, "Three floors").
"""

from __future__ import annotations

from dataclasses import dataclass

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import QWidget

from .theme import slide_look


@dataclass(frozen=True)
class Roles:
    """Which of a panel view's widgets play which part in a layout, declared once by each view.

    Parameters
    ----------
    figure : tuple of QWidget
        What the panel is for: the picture a slide, an export or lecture mode gives the screen to.
    controls : tuple of QWidget
        Inputs that change the model (side bars of fields and buttons, the timeline).
    details : tuple of QWidget
        Side panes that explain the figure in more depth (numbers, source, tables); useful on a laptop,
        left out of a slide.
    """

    figure: tuple = ()
    controls: tuple = ()
    details: tuple = ()

    @property
    def chrome(self) -> tuple:
        """Everything but the figure: what the slide look hides."""
        return (*self.controls, *self.details)


class Panel(QWidget):
    """Base class of the main window's panels.

    Subclasses set the class attributes and override every method below that
    raises :class:`NotImplementedError`. The base class holds no state besides
    the theme it was last given.

    Attributes
    ----------
    panel_id : str
        Stable identifier, the ``panel`` key of this panel's scenario files
        (``"matmul"``).
    title : str
        Tab title, e.g. ``"Matmul on the GPU"``.
    status_changed : pyqtSignal(str)
        Emitted with one short sentence saying what the panel is doing
        (``"step 14/40: line 12, s += A[row, k]·B[k, col]"``,
        ``"simulating naive 64×64×64 … 40%"``); the window shows the latest one
        in its status bar. Emit it whenever that changes, including after
        :meth:`apply_scenario` (the window shows nothing until the first one).
        Emit ``""`` to clear it.
    caption : str or None
        The slide caption (:meth:`set_caption`).
    slide : bool
        Whether the panel shows its slide look (:meth:`set_slide`).

    Steps are numbered from 0 on every label, as the command line's
    ``--step`` counts them: ``step 6 of 0–32`` (:func:`step_label`).

    Notes
    -----
    The contract, method by method:

    ``__init__()``
        A panel can be built with no arguments (its default scene, no engine):
        an export draws a fresh copy from the panel's :meth:`scenario` and an
        explicit theme, so that nothing but the scene and the theme decides
        the pixels (:func:`gpuviz.ui.main_window.render_panel`).

    ``set_theme(theme)``
        Redraw with ``theme`` (a :class:`gpuviz.ui.theme.Theme`: light, dark or
        lecture). What a panel renders depends only on its scene and this
        explicit theme, never on remembered settings, so that the same scene
        exports the same pixels anywhere. The window has already applied the
        theme's palette and font to the application; the panel handles its own
        plots (pyqtgraph backgrounds, pen widths ``theme.pen_width(base)``).
        Every pen is cosmetic (its width in device pixels) and as wide as
        ``theme.pen_width(base)``; sizes in layout pixels that follow the line
        scale (slider handles, hatch periods) use ``theme.layout_width(base)``.
        An export at device pixel ratio ``d`` passes
        ``replace(theme, line_scale=theme.line_scale * d)``, so its lines keep
        the proportions of the ratio-1 picture.
    ``roles() -> Roles``
        Which widgets are the *figure*, the *controls* and the *details*
        (:class:`Roles`), declared once; :meth:`hide_for_slide` hides the
        controls and details, and lecture mode builds on the same declaration.
    ``model``
        The panel model the view draws (:class:`gpuviz.model.panel.PanelModel`),
        or None; an export moves its step between frames.
    ``set_slide(on)``
        Slide look: hide every control, input field, button, timeline and
        side column that is not part of the figure (:meth:`roles`); show the figure with a
        large title (the scenario's title), the current step's label
        (``step 6 of 0–32``) where the panel has steps, the legend, and the
        caption (:meth:`set_caption`) under the title; text at least
        :data:`gpuviz.ui.theme.SLIDE_MIN_TEXT_PX` pixels tall at the
        1920×1080 layout (:func:`gpuviz.ui.theme.slide_look`). ``set_slide(False)``
        restores the normal panel exactly. Every panel implements it.
    ``set_caption(text)``
        The caption line shown under the title in slide mode (a key step's
        caption), or None for none; stored in :attr:`caption`.
    ``play_pause()``, ``step_by(delta)``, ``first_step()``, ``last_step()``, ``faster()``, ``slower()``
        The timeline, driven by the View menu and its shortcuts (Space, →, ←,
        Home, End, +, −). By default they go to the panel's ``timeline``
        widget; a panel whose keys mean something else overrides them.
    ``scenario(title) -> Scenario``
        The panel's current state as a :class:`gpuviz.model.scenario.Scenario`
        with the given title (File → Save scenario).
    ``apply_scenario(scenario)``
        Show ``scenario``. Raises ``ScenarioError`` or ``SceneError`` with a
        one-sentence message when it cannot (wrong panel, invalid parameters);
        then the panel keeps showing what it showed before.
    ``presets() -> list[Scenario]``
        The lecture's examples for this panel, in menu order; the first is the
        one the app opens with.
    ``shutdown()``
        Stop timers and cancel any worker job; called once when the window
        closes. Must not block for long (cancel, don't wait for a result).
    """

    panel_id: str = ""
    title: str = ""
    #: Ids of the panels whose models this one follows: the window builds them (if it has not yet) and passes
    #: them to the panel's ``link_panels(panels)`` when this one is built.
    follows: tuple[str, ...] = ()

    status_changed = pyqtSignal(str)

    @property
    def model(self):
        """The panel model this view draws (:class:`gpuviz.model.panel.PanelModel`), or None for a panel
        without one; the export moves its step instead of re-applying a scenario per frame."""
        return None

    def __init__(self, parent=None):
        super().__init__(parent)
        self.theme = None
        self.caption: str | None = None
        self.slide = False
        self.lecture = False
        self._hidden_by_slide: dict = {}

    # -- look ---------------------------------------------------------------------------------

    def set_theme(self, theme) -> None:
        """Redraw with ``theme``; subclasses call ``super().set_theme(theme)`` first."""
        self.theme = theme

    def look(self):
        """The theme as drawn: in the slide look (and so in lecture mode) with slide-sized fonts
        (:func:`~gpuviz.ui.theme.slide_look`, which follows the theme's ``slide_font_scale``)."""
        return slide_look(self.theme) if self.slide else self.theme

    def roles(self) -> Roles:
        """The view's figure, controls and details (:class:`Roles`); every registered panel declares its own
        (a test holds them to it). This default declares nothing: :meth:`hide_for_slide` then hides only
        what it is given."""
        return Roles()

    def set_slide(self, on: bool) -> None:
        """Show the slide look (``True``) or the normal panel (``False``); see the class notes."""
        raise NotImplementedError

    def set_lecture(self, on: bool) -> None:
        """Lecture mode's figure-first look (the main window's F5): the slide look — the figure alone, with the
        slide's legible text at the theme's :attr:`~gpuviz.ui.theme.Theme.slide_font_scale` — while everything
        stays live (step keys, play, clicking a thread, hovering). The controls and details are lent to the
        window's drawer (:meth:`chrome_widgets`) when the lecturer opens it. ``set_lecture(False)`` restores
        the normal panel exactly. A panel whose lecture look differs from its slide look overrides this.
        """
        on = bool(on)
        if on == self.lecture:
            return
        self.lecture = on
        self.set_slide(on)

    def chrome_widgets(self) -> tuple:
        """The widgets lecture mode's drawer shows (controls first, then details): :meth:`roles`' chrome."""
        return self.roles().chrome

    def data_rects(self) -> list:
        """Where the figure draws data, as :class:`~PyQt6.QtCore.QRect` in this panel's coordinates.

        The plots' view boxes (pyqtgraph ``ViewBox`` items of the figure's graphics views) and the
        widgets that draw cells themselves (a ``dataCanvas`` property set to True), visible ones only:
        what lecture mode's figure share measures (the bounding rectangle of these).
        """
        import pyqtgraph as pg
        from PyQt6.QtCore import QRect

        rects = []
        stack = list(self.roles().figure)
        seen = set()
        while stack:
            w = stack.pop()
            if id(w) in seen or not w.isVisibleTo(self):
                continue
            seen.add(id(w))
            if w.property("dataCanvas"):
                rects.append(QRect(w.mapTo(self, w.rect().topLeft()), w.size()))
                continue
            if isinstance(w, pg.GraphicsView):
                for item in w.scene().items():
                    if isinstance(item, pg.ViewBox) and item.isVisible():
                        r = w.mapFromScene(item.sceneBoundingRect()).boundingRect()
                        r = r.intersected(w.rect())
                        if not r.isEmpty():
                            rects.append(QRect(w.mapTo(self, r.topLeft()), r.size()))
            stack.extend(c for c in w.findChildren(QWidget) if c.parentWidget() is w)
        return rects

    def figure_share(self, window=None) -> float:
        """The share of ``window`` (default: this panel) that the bounding rectangle of :meth:`data_rects`
        covers, clipped to it: lecture mode's "figure share" (issue 15's ≥ 75 %)."""
        window = window if window is not None else self
        rects = [r.translated(self.mapTo(window, r.topLeft()) - r.topLeft()) for r in self.data_rects()]
        if not rects:
            return 0.0
        box = rects[0]
        for r in rects[1:]:
            box = box.united(r)
        box = box.intersected(window.rect())
        area = window.width() * window.height()
        return box.width() * box.height() / area if area else 0.0

    def set_caption(self, text: str | None) -> None:
        """The caption under the slide title (None or ``""``: none); subclasses show it and call this first."""
        self.caption = text or None

    def toggle_titled_slide(self, on: bool, also=()) -> bool:
        """The common part of :meth:`set_slide` for a panel with a ``slide_title`` label: hide or restore the
        chrome (:meth:`hide_for_slide`), set :attr:`slide`, show the title. False when nothing changed."""
        on = bool(on)
        if on == self.slide:
            return False
        self.hide_for_slide(on, also)
        self.slide = on
        self.slide_title.setVisible(on)
        return True

    def update_slide_title(self) -> None:
        """The ``slide_title`` and ``slide_caption`` labels from the scenario's title and :attr:`caption`."""
        self.slide_title.setText(self._scenario_title)
        self.slide_caption.setText(self.caption or "")
        self.slide_caption.setVisible(self.slide and bool(self.caption))

    def hide_for_slide(self, on: bool, also=()) -> None:
        """Hide the controls and details (:meth:`roles`) and the widgets in ``also`` for the slide look, or give
        each back the visibility it had.

        ``also`` is for parts of the figure that the slide look draws differently (a slide-sized copy
        takes their place). A widget that was already hidden (a message with nothing to say) stays
        hidden afterwards.
        """
        chrome = (*self.roles().chrome, *also)
        if on:
            self._hidden_by_slide = {w: w.isHidden() for w in chrome}
            for w in chrome:
                w.hide()
        else:
            # in the reverse order of hiding: each pane comes back into the layout it left (the matmul
            # splitter otherwise hands the room out differently and the panel is not restored exactly)
            for w, hidden in reversed(self._hidden_by_slide.items()):
                w.setHidden(hidden)
            self._hidden_by_slide = {}

    # -- timeline -----------------------------------------------------------------------------

    # A panel with a ``timeline`` widget (play_pause, step_by, first, last, faster,
    # slower) gets these for free; a panel whose keys mean something else overrides them.

    def play_pause(self) -> None:
        self.timeline.play_pause()

    def step_by(self, delta: int) -> None:
        self.timeline.step_by(delta)

    def first_step(self) -> None:
        self.timeline.first()

    def last_step(self) -> None:
        self.timeline.last()

    def faster(self) -> None:
        self.timeline.faster()

    def slower(self) -> None:
        self.timeline.slower()

    # -- scenarios ----------------------------------------------------------------------------

    def scenario(self, title: str):
        raise NotImplementedError

    def apply_scenario(self, scenario) -> None:
        raise NotImplementedError

    def presets(self) -> list:
        raise NotImplementedError

    # -- life cycle ---------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop timers and workers; the default has none to stop."""


def step_label(step: int, last: int) -> str:
    """``step 6 of 0–32``: step ``step`` of the steps 0 to ``last``, counted from 0 as ``--step`` counts them."""
    return f"step {step:,} of 0–{last:,}"


__all__ = ["Panel", "Roles", "step_label"]
