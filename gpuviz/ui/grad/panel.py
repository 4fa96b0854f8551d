"""The "Weight gradients" panel: z = Wx + b, where each entry of ∇_W L comes from, batches, and training.

The panel owns a :class:`~gpuviz.model.grad_panel.GradState`; every number it
draws (z, p, δ, the outer products, their sum, the matrix product, the trained
weights, the loss curve) comes from :mod:`gpuviz.model.dense`. Three views
share the side bar: **Layer** (one example; click an entry of ∇_W L to see
δ_i·x_j), **Batch** (the per-example outer products summed one by one on the
timeline, then the same matrix as the product (P − Y)ᵀ X / B) and **Train**
(gradient descent stepped or played, with W, ∇_W L and the loss curve).
"""

from __future__ import annotations

import math
import time

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QEvent, QSize, Qt
from PyQt6.QtGui import QFontMetricsF
from PyQt6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ...model import limits
from ...model import scenario as scenarios
from ...model.grad_panel import LAYERS, VIEWS, GradState, GradStateError, parse_alpha, rich_text
from ...model.panel import ParamsError
from ..panel import Panel, Roles, step_label
from ..style import apply_theme, error_colour, font, hex_colour, mix, okabe
from ..theme import LIGHT, SLIDE_FONT_SCALE, Theme
from ..timeline import StepTimeline
from .canvas import ColourBar, MatrixView, TileView, fmt, script_pt, symmetric_limit

#: Steps per second of each view's timeline: examples summed, or training steps.
SPEEDS = {"batch": (1, 2, 4, 8, 16, 32), "train": (2, 5, 10, 20, 30, 60)}
DEFAULT_SPEED = {"batch": 4, "train": 20}
LAYER_TITLES = {"toy": "toy 3×7 (small integers)", "digits": "digits 10×784 (28×28 images)"}
VIEW_TITLES = {"layer": "Layer: one example", "batch": "Batch: sum of outer products", "train": "Train: ΔW = −α∇L"}
#: Cell and tile sizes tried, largest first, until a view fits its page (a 1280×720 window or export);
#: below the last one the page scrolls.
FIT_ZOOMS = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5)
#: The slide look also grows them, up to 4× (a 3×7 toy at 1080p), in 5 % steps; the largest that fits wins.
SLIDE_ZOOMS = tuple(sorted({round(4.0 * 0.95 ** k, 3) for k in range(27)} | set(FIT_ZOOMS), reverse=True))
#: In the slide look the numbers in cells grow and shrink with them, but never below their size on a
#: 1920×1080 slide scaled to the slide's size, nor below this factor (about 12 px on a 1280×720 slide:
#: 18 px once the projector shows it as large as a 1080p one).
SLIDE_MIN_TEXT_ZOOM = 0.7
#: How much taller than wide the slide look may make rows of numbers to fill a narrow screen's height.
ROW_STRETCHES = tuple(round(2.0 - 0.025 * k, 3) for k in range(41))
PLOT_Y_LABEL = "loss  /  accuracy"
#: The training plot's height at zoom 1.
PLOT_HEIGHT = 260


def _scrolled(content: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidget(content)
    return area


def _relayout(page: QWidget) -> None:
    """Make the page's layouts ask their matrices for their sizes again (a new shape or theme changes them)."""
    for lay in page.findChildren(QLayout):
        lay.invalidate()
    if page.layout() is not None:
        page.layout().invalidate()
        page.layout().activate()


class _Row(QVBoxLayout):
    """A row of a formula: groups of widgets (one shown at a time: the toy's matrix or the digits' tiles)
    with room between them that only the slide look uses, spreading the formula over the slide's width;
    the normal look packs it to the left (the room goes to a stretch at its end). Too wide for its page
    (a 1024-pixel window beside the side bar), it goes on in a second line (or more) at a group's start,
    instead of scrolling sideways under the sentences over it."""

    def __init__(self, groups, spacing: int = 10, align=Qt.AlignmentFlag.AlignTop, spreads: bool = True):
        super().__init__()
        self.setContentsMargins(0, 0, 0, 0)
        self.setSpacing(6)
        self.base_spacing = spacing
        self._gap = spacing
        self._groups = [list(g) for g in groups]
        self._align = {id(w): align for g in self._groups for w in g if not isinstance(w, int)}
        self._spreads = spreads
        self._spread = False
        self._breaks: tuple[int, ...] = ()
        self._lines = [QHBoxLayout() for _ in self._groups]
        for line in self._lines:
            line.setContentsMargins(0, 0, 0, 0)
            self.addLayout(line)
        self._build()

    def lines(self) -> int:
        return len(self._breaks) + 1

    def set_alignment(self, widget: QWidget, align) -> None:
        self._align[id(widget)] = align
        self._build()

    def _build(self) -> None:
        for line in self._lines:
            while line.count():
                line.takeAt(0)
        starts = (0, *self._breaks, len(self._groups))
        for n, (a, b) in enumerate(zip(starts, starts[1:])):
            line = self._lines[n]
            line.setSpacing(self._gap)
            for k in range(a, b):
                if k > a:
                    line.addStretch(1 if self._spread else 0)
                for w in self._groups[k]:
                    if isinstance(w, int):
                        if k > a or n == 0:  # a wrapped line starts at the margin
                            line.addSpacing(w)
                    else:
                        line.addWidget(w, 0, self._align[id(w)])
            line.addStretch(0 if self._spread else 1)
        self.invalidate()

    def spread(self, on: bool) -> None:
        on = on and self._spreads
        if on != self._spread:
            self._spread = on
            self._build()

    def set_gap(self, px: int | None) -> bool:
        """The room between its widgets: ``px``, or the row's own (None). Whether it changed."""
        px = self.base_spacing if px is None else min(px, self.base_spacing)
        if self._gap == px:
            return False
        self._gap = px
        for line in self._lines:
            line.setSpacing(px)
        self.invalidate()
        return True

    def _set_breaks(self, breaks) -> bool:
        breaks = tuple(breaks)
        if breaks == self._breaks:
            return False
        self._breaks = breaks
        self._build()
        return True

    def wrap(self, width: int | None) -> bool:
        """Lines no wider than ``width`` where the groups allow (one line: None); whether they changed."""
        if width is None or len(self._groups) < 2:
            return self._set_breaks(())
        # each group alone on a line gives its own least width (its hidden widgets take none)
        self._set_breaks(range(1, len(self._groups)))
        widths = []
        for line in self._lines[:len(self._groups)]:
            line.invalidate()
            widths.append(line.minimumSize().width() if not line.isEmpty() else 0)
        breaks, used, start, last = [], 0, 0, None  # last: the line's last group shown
        for k, w in enumerate(widths):
            if not w:
                continue
            if used and used + self._gap + w > width:
                if last is not None and last > start and self._is_op(last):
                    # the operator goes on with what it joins (a line does not end in "=" or "→")
                    breaks.append(last)
                    used = widths[last] + self._gap + w
                    start = last
                else:
                    breaks.append(k)
                    used = w
                    start = k
            else:
                used += (self._gap if used else 0) + w
            last = k
        return self._set_breaks(breaks)

    def _is_op(self, k: int) -> bool:
        group = self._groups[k]
        return len(group) == 1 and isinstance(group[0], QLabel) and group[0].objectName() == "op"


def _shown_example(k: int, B: int) -> str:
    """Which example the batch view draws at step k (the one added last; the first before any is added)."""
    shown = max(0, min(B - 1, k - 1))
    return f"shown: example {shown}{', added by step ' + str(shown + 1) if k else ', not added yet'}"


def _op(text: str) -> QLabel:
    lab = QLabel(text)
    lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
    lab.setObjectName("op")
    return lab


class _Formula(QLabel):
    """A label whose text is written in the plain spelling (``δ_i · x_j``, ``∇_W L``) and shown typeset:
    real subscripts and superscripts (:func:`~gpuviz.model.grad_panel.rich_text`). :meth:`plain` gives
    the text back as written."""

    def __init__(self, text: str = "", parent=None):
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.RichText)
        self._plain = ""
        #: the theme whose smallest text size the scripts keep (see canvas.script_pt)
        self.theme = LIGHT
        self.setText(text)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self._render()

    def setFont(self, qfont) -> None:  # noqa: N802 (Qt's name)
        super().setFont(qfont)
        self._render()

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        self._plain = str(text)
        self._render()

    def _render(self) -> None:
        body = rich_text(self._plain, script_pt(self.theme, self.font().pointSizeF()))
        # pre-wrap: the spaces that line up a formula stay (rich text would fold them into one)
        super().setText(f'<span style="white-space:pre-wrap">{body}</span>')

    def plain(self) -> str:
        return self._plain

    def text(self) -> str:
        """The text as written (plain spelling), as a plain QLabel would give it; :meth:`shown` is the markup."""
        return self._plain

    def shown(self) -> str:
        """The rich text the label draws."""
        return super().text()


class _Message(QLabel):
    """A warning sentence next to a field (⚠ and bold vermillion: read by text, not colour alone)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWordWrap(True)
        self.hide()

    def set_theme(self, theme: Theme) -> None:
        self.setStyleSheet(f"color: {hex_colour(error_colour(theme))};")
        self.setFont(font(theme, bold=True, scale=0.95))

    def show_message(self, text: str) -> None:
        self.setText(f"⚠ {text}")
        self.show()

    def clear(self) -> None:
        self.setText("")
        self.hide()

    @property
    def message(self) -> str:
        return self.text().removeprefix("⚠ ") if not self.isHidden() else ""


class GradPanel(Panel):
    """The "Weight gradients" panel.

    Parameters
    ----------
    state : GradState, optional
        What is shown; default: the toy 3×7 layer, seed 0.
    parent : QWidget, optional
    theme : Theme
    """

    panel_id = "grad"
    title = "Weight gradients"

    def __init__(self, state: GradState | None = None, parent=None, theme: Theme = LIGHT):
        super().__init__(parent)
        self.theme = theme
        self.state = state if state is not None else GradState("toy")
        self._speed = dict(DEFAULT_SPEED)
        self._speed_key = "batch"  # whose speeds the timeline plays at now
        self._syncing = False
        self.repaint_times: list[float] = []
        self.zoom = 1.0
        self._fitting = False
        #: the slide look left out the 10×784 strip (it repeats the tiles) because the figure did not fit
        self.strip_dropped = False
        self._scenario_title = self.title

        self._build_side()
        self._build_pages()
        self._build_timeline()

        self.headline = _Formula()
        self.headline.setWordWrap(True)
        self.headline.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.diverged_label = _Message()
        # the slide look's title (the scenario's), caption (a key step's) and step label, over the view
        self.slide_title = _Formula()
        self.slide_caption = _Formula()
        self.slide_step = QLabel()
        for lab in (self.slide_title, self.slide_caption, self.slide_step):
            lab.setWordWrap(True)
            lab.hide()
        main = QWidget()
        mv = QVBoxLayout(main)
        mv.setContentsMargins(6, 6, 6, 6)
        for lab in (self.slide_title, self.slide_caption, self.slide_step):
            mv.addWidget(lab)
        mv.addWidget(self.headline)
        mv.addWidget(self.diverged_label)
        mv.addWidget(self.pages, 1)
        mv.addWidget(self.timeline)

        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.side_scroll)
        lay.addWidget(main, 1)

        self.state.subscribe(self._state_changed)
        for i in range(self.pages.count()):
            # a page's room changes with the window (or export) size: fit its matrices again
            self.pages.widget(i).viewport().installEventFilter(self)
        self.set_theme(theme)
        self._refresh_all()

    # -- building -------------------------------------------------------------------------------

    def _build_side(self) -> None:
        side = QWidget()
        g = QGridLayout(side)
        g.setContentsMargins(8, 8, 8, 8)
        g.setVerticalSpacing(4)
        self.section_labels = []
        row = 0

        def section(text):
            nonlocal row
            lab = QLabel(text)
            self.section_labels.append(lab)
            g.addWidget(lab, row, 0, 1, 2)
            row += 1

        section("Layer")
        self.layer_box = QComboBox()
        for kind in LAYERS:
            self.layer_box.addItem(LAYER_TITLES[kind], kind)
        self.layer_box.setToolTip("The lecture's 3×7 example, or the 10×784 digit classifier")
        self.layer_box.activated.connect(lambda _i: self._layer_chosen())
        g.addWidget(self.layer_box, row, 0, 1, 2)
        row += 1
        # every seed the model takes (0 … 2³²−1): a QSpinBox holds only 32-bit signed ints (a larger seed from a
        # scenario or the CLI raised OverflowError, a seed over its range was shown clamped), a double holds
        # each of these exactly
        self.seed_box = QDoubleSpinBox()
        self.seed_box.setDecimals(0)
        self.seed_box.setRange(limits.SEED_MIN, limits.SEED_MAX)
        self.seed_box.setPrefix("seed ")
        self.seed_box.setToolTip("Seeds the weights, the example, the batch and the order of training batches")
        self.seed_box.editingFinished.connect(self._seed_chosen)
        g.addWidget(self.seed_box, row, 0, 1, 2)
        row += 1

        section("View")
        self.view_buttons = {}
        self.view_group = QButtonGroup(self)
        for view in VIEWS:
            b = QPushButton(VIEW_TITLES[view])
            b.setCheckable(True)
            b.clicked.connect(lambda _c, v=view: self.set_view(v))
            self.view_group.addButton(b)
            self.view_buttons[view] = b
            g.addWidget(b, row, 0, 1, 2)
            row += 1

        section("Training (digits)")
        g.addWidget(QLabel("α (learning rate)"), row, 0)
        self.alpha_field = QLineEdit()
        self.alpha_field.setToolTip(rich_text("ΔW = −α ∇_W L: a positive number; too large and the run diverges"))
        self.alpha_field.editingFinished.connect(self._alpha_edited)
        g.addWidget(self.alpha_field, row, 1)
        row += 1
        self.alpha_message = _Message()
        g.addWidget(self.alpha_message, row, 0, 1, 2)
        row += 1
        g.addWidget(QLabel("batch size B"), row, 0)
        self.batch_field = QLineEdit()
        self.batch_field.setToolTip("Examples per step (1 to the number of training images)")
        self.batch_field.editingFinished.connect(self._batch_edited)
        g.addWidget(self.batch_field, row, 1)
        row += 1
        self.batch_message = _Message()
        g.addWidget(self.batch_message, row, 0, 1, 2)
        row += 1
        self.reset_button = QPushButton("Reset weights (seed)")
        self.reset_button.setToolTip("Back to the seed's initial weights; the curve starts again")
        self.reset_button.clicked.connect(self.reset)
        g.addWidget(self.reset_button, row, 0, 1, 2)
        row += 1

        section("The batch as one matmul")
        self.matmul_button = QPushButton("Open this product in the matmul panel")
        self.matmul_button.setToolTip(rich_text("(P − Y)ᵀ · X: C (m×n) = A (m×B) · B (B×n) on the GPU panel"))
        self.matmul_button.clicked.connect(self.open_in_matmul)
        g.addWidget(self.matmul_button, row, 0, 1, 2)
        row += 1
        self.matmul_message = _Message()
        g.addWidget(self.matmul_message, row, 0, 1, 2)
        row += 1

        self.note = QLabel("Every number here is computed by gpuviz.model.dense in float64: the softmax "
                           "cross-entropy layer, its backward pass and plain minibatch gradient descent. "
                           "Diverging colours: blue negative, the background colour 0, vermillion positive; "
                           "gradients on a logarithmic scale (ticks ×10 apart: every entry of 1 % of the largest "
                           "or more stands out from 0), weights on a linear one.")
        self.note.setWordWrap(True)
        g.addWidget(self.note, row, 0, 1, 2)
        row += 1
        g.setRowStretch(row, 1)
        self._side = side
        self.side_scroll = _scrolled(side)
        self.side_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def _build_pages(self) -> None:
        self.pages = QStackedWidget()
        self._build_layer_page()
        self._build_batch_page()
        self._build_train_page()

    def _build_layer_page(self) -> None:
        page = QWidget()
        v = QVBoxLayout(page)
        v.setContentsMargins(0, 0, 0, 0)
        self.forward_title = _Formula("Forward")
        v.addWidget(self.forward_title)
        # weights are all of one size: a linear scale (the gradients' is logarithmic, they span decades)
        self.W_matrix = MatrixView("W", log=False)
        self.W_tiles = TileView("W (each row as 28×28)", tile=76, log=False)
        self.x_col = MatrixView("x", signed=False)
        self.x_tile = TileView("x", columns=1, tile=112, signed=False)
        self.b_col = MatrixView("b", log=False)
        self.z_col = MatrixView("z = Wx + b", log=False)
        self.p_col = MatrixView("p = softmax(z)", signed=False)
        self.y_col = MatrixView("y (one-hot)", signed=False)
        self.ops = [_op("·"), _op("+"), _op("="), _op("→"), _op("vs")]
        o = self.ops
        fw = _Row([(self.W_matrix, self.W_tiles), (o[0],), (self.x_col, self.x_tile), (o[1],), (self.b_col,),
                   (o[2],), (self.z_col,), (o[3],), (self.p_col,), (o[4],), (self.y_col,)])
        self.rows = [fw]
        v.addLayout(fw)
        self.shape_line = _Formula()
        self.shape_line.setWordWrap(True)
        self.backward_title = _Formula("Backward: click an entry of ∇_W L")
        # the worked entry right under the title: on a projector it must not scroll out of sight
        self.story_label = _Formula()
        self.story_label.setWordWrap(True)
        self.story_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # the slide look's scale: the toy's sits right of these lines, over ∇_W L (beside it, it would take
        # the width the 3×7 matrices need on a 1024-pixel projector, under it the height); the digits' at the
        # end of the backward row, where the tiles leave room (here it would wrap these lines)
        self.layer_bar_slide = ColourBar(label="∇_W L", width=280)
        self.layer_bar_slide.hide()
        self.layer_bar_slide_row = ColourBar(label="∇_W L", width=280)
        self.layer_bar_slide_row.hide()
        mid = QHBoxLayout()
        texts = QVBoxLayout()
        for w in (self.shape_line, self.backward_title, self.story_label):
            texts.addWidget(w)
        mid.addLayout(texts, 1)
        mid.addWidget(self.layer_bar_slide, 0, Qt.AlignmentFlag.AlignBottom)
        v.addLayout(mid)
        self.delta_col = MatrixView("δ = p − y")
        self.xT_row = MatrixView("xᵀ", signed=False)
        self.xT_tile = TileView("xᵀ (as 28×28)", columns=1, tile=112, signed=False)
        self.grad_matrix = MatrixView("∇_W L = δ xᵀ")
        self.grad_tiles = TileView("∇_W L = δ xᵀ (rows as 28×28)", tile=76)
        self.ops2 = [_op("·"), _op("=")]
        bw = _Row([(self.delta_col,), (self.ops2[0],), (self.xT_row, self.xT_tile), (self.ops2[1],),
                   (self.grad_matrix, self.grad_tiles), (self.layer_bar_slide_row,)])
        bw.set_alignment(self.layer_bar_slide_row, Qt.AlignmentFlag.AlignBottom)
        self.rows.append(bw)
        v.addLayout(bw)
        self.grad_strip = MatrixView("∇_W L as one 10×784 matrix", numbers=False, cell=2, row_height=9,
                                     max_size=QSize(1400, 200))
        v.addWidget(self.grad_strip, 0, Qt.AlignmentFlag.AlignLeft)
        self.layer_bar = ColourBar(label="∇_W L")
        v.addWidget(self.layer_bar, 0, Qt.AlignmentFlag.AlignLeft)
        v.addStretch(1)
        for w in (self.grad_matrix, self.grad_tiles, self.grad_strip):
            w.cell_clicked.connect(self.select_entry)
        self.layer_page = page
        self.pages.addWidget(_scrolled(page))

    def _build_batch_page(self) -> None:
        page = QWidget()
        v = QVBoxLayout(page)
        v.setContentsMargins(0, 0, 0, 0)
        self.batch_title = _Formula()
        self.batch_title.setWordWrap(True)
        # the scale beside the sentence over the figure, not on a line of its own: the height is the figure's
        self.batch_bar = ColourBar(label="summed gradient")
        top = QHBoxLayout()
        top.addWidget(self.batch_title, 1)
        top.addSpacing(16)
        top.addWidget(self.batch_bar, 0, Qt.AlignmentFlag.AlignBottom)
        v.addLayout(top)
        self.ex_delta = MatrixView("δ_k = p_k − y_k")
        self.ex_x = MatrixView("x_kᵀ", signed=False)
        self.ex_x_tile = TileView("x_k", columns=1, tile=150, signed=False)
        self.ex_outer = MatrixView("δ_k x_kᵀ")
        self.ex_outer_tiles = TileView("δ_k x_kᵀ (example k's outer product)", tile=60)
        self.bops = [_op("·"), _op("="), _op("Σ ÷ B →")]
        self.acc_matrix = MatrixView("running sum ÷ B")
        self.acc_tiles = TileView("(1/B) Σ δ_k x_kᵀ so far", tile=60)
        o = self.bops
        row = _Row([(self.ex_delta,), (o[0],), (self.ex_x, self.ex_x_tile), (o[1],),
                    (self.ex_outer, self.ex_outer_tiles), (o[2],), (self.acc_matrix, self.acc_tiles)])
        self.rows.append(row)
        v.addLayout(row)
        self.product_label = _Formula()
        self.product_label.setWordWrap(True)
        self.product_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        v.addWidget(self.product_label)
        self.matmul_button2 = QPushButton("Open this product in the matmul panel")
        self.matmul_button2.clicked.connect(self.open_in_matmul)
        v.addWidget(self.matmul_button2, 0, Qt.AlignmentFlag.AlignLeft)
        self.matmul_message2 = _Message()
        v.addWidget(self.matmul_message2)
        v.addStretch(1)
        self.batch_page = page
        self.pages.addWidget(_scrolled(page))

    def _build_train_page(self) -> None:
        page = QWidget()
        v = QVBoxLayout(page)
        v.setContentsMargins(0, 0, 0, 0)
        self.train_title = _Formula()
        self.train_title.setWordWrap(True)
        v.addWidget(self.train_title)
        self.train_W = TileView("W: row i as a 28×28 image (it scores digit i)", tile=96, log=False)
        self.train_grad = TileView("∇_W L of the last minibatch", tile=96)
        row = _Row([(self.train_W,), (16, self.train_grad)], spacing=6)
        self.rows.append(row)
        v.addLayout(row)
        self.train_W_bar = ColourBar(label="W", log=False)
        self.train_grad_bar = ColourBar(label="∇_W L")
        # the two scales side by side, packed left on a slide too; one under the other in a narrow window
        bars = _Row([(self.train_W_bar,), (40, self.train_grad_bar)], spacing=6, spreads=False)
        self.rows.append(bars)
        v.addLayout(bars)
        self.plot = pg.PlotWidget()
        self.plot.setMinimumHeight(PLOT_HEIGHT)
        # the plot takes the room left (at least PLOT_HEIGHT): its own size hint would push the page past a
        # 720-pixel window, since the scroll area sizes a page with wrapped text to its preferred height
        self.plot.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
        self.plot.setLabel("bottom", "training step")
        self.plot.setLabel("left", PLOT_Y_LABEL)
        # no grid lines: redrawn on every step they took the repaint from ~28 ms to ~9 ms (bench_grad_panel)
        self.legend = self.plot.addLegend(offset=(-10, 10))
        # small symbols too: a run that diverges after one step still shows its one good point
        self.loss_curve = self.plot.plot([], [], name="loss (minibatch, solid, ●)", symbol="o", symbolSize=5)
        self.acc_curve = self.plot.plot([], [], name="accuracy on held-out images (dashed, ■)", symbol="s",
                                        symbolSize=5)
        v.addWidget(self.plot, 1)
        self.train_page = page
        self.pages.addWidget(_scrolled(page))

    def _build_timeline(self) -> None:
        # the shared timeline, in the look this panel had before it: the main column's margins around it,
        # the platform's slider and spacing
        self.timeline = StepTimeline(self.theme, SPEEDS["batch"], DEFAULT_SPEED["batch"], margins=(0, 4, 0, 0),
                                     spacing=6, big_handle=False)
        self.timeline.first_button.setToolTip("First step / reset (Home)")
        self.timeline.slider.setToolTip("Scrub through the examples of the batch")
        self.timeline.step_requested.connect(self._step_requested)

    # -- theme ----------------------------------------------------------------------------------

    def set_theme(self, theme: Theme) -> None:
        super().set_theme(theme)
        self._restyle()


    def _restyle(self) -> None:
        t = self.look()
        apply_theme(self, t)
        # 1.6: a title of one line on a 1024-pixel projector too (the height left is the figure's)
        self.slide_title.setFont(font(t, bold=True, scale=1.6))
        self.slide_caption.setFont(font(t, scale=1.3))
        self.slide_step.setFont(font(t, bold=True, scale=1.1))
        for lab in self.section_labels + [self.forward_title, self.backward_title]:
            lab.setFont(font(t, bold=True, scale=1.1))
        for lab in (self.headline, self.story_label, self.product_label, self.batch_title, self.train_title):
            lab.setFont(font(t, scale=1.15))
        self.story_label.setFont(font(t, mono=True, bold=True, scale=1.2))
        self.shape_line.setFont(font(t, mono=True))
        self.timeline.set_theme(t)
        for w in self.findChildren((MatrixView, TileView, ColourBar)):
            w.set_theme(t)
        for w in self.findChildren(_Message):
            w.set_theme(t)
        for w in self.findChildren(_Formula):
            w.set_theme(t)
        for w in self.findChildren(QLabel, "op"):
            w.setFont(font(t, bold=True, scale=1.6 if len(w.text()) < 2 else 1.0))
        self.side_scroll.setFixedWidth(min(round(330 * t.font_scale), 430))
        self.note.setFont(font(t, scale=0.9))
        # the plot: background, axes, pens (thicker in lecture mode), legend text
        self.plot.setBackground(t.panel_background)
        for name in ("left", "bottom"):
            ax = self.plot.getAxis(name)
            ax.setPen(pg.mkPen(t.foreground, width=t.pen_width(1)))
            ax.setTextPen(pg.mkPen(t.foreground))
            ax.setTickFont(font(t, scale=0.9))
            ax.label.setFont(font(t))
        self.plot.setLabel("bottom", "training step", color=hex_colour(t.foreground))
        self.plot.setLabel("left", PLOT_Y_LABEL, color=hex_colour(t.foreground))
        # a slide's plot is low (its height goes to the tiles), lower than its rotated y label: the legend names
        # both curves, so the slide leaves the label out rather than cut it
        self.plot.getAxis("left").showLabel(not self.slide)
        for bar in (self.train_W_bar, self.train_grad_bar):
            bar.two_lines = not self.slide
            bar.updateGeometry()
        blue = okabe("sky_blue") if t.dark else okabe("blue")
        red = okabe("orange") if t.dark else okabe("vermillion")
        self.loss_curve.setPen(pg.mkPen(blue, width=t.pen_width(2)))
        self.loss_curve.setSymbolBrush(pg.mkBrush(blue))
        self.loss_curve.setSymbolPen(pg.mkPen(blue, width=t.pen_width(1)))
        self.acc_curve.setPen(pg.mkPen(red, width=t.pen_width(2), style=Qt.PenStyle.DashLine))
        self.acc_curve.setSymbolBrush(pg.mkBrush(red))
        self.acc_curve.setSymbolPen(pg.mkPen(red, width=t.pen_width(1)))
        self.legend.setLabelTextColor(t.foreground)
        self.legend.setLabelTextSize(f"{round(10 * t.font_scale)}pt")
        self.legend.setBrush(pg.mkBrush(*t.panel_background, 220))
        self.legend.setPen(pg.mkPen(mix(t.foreground, t.background, 0.4), width=t.pen_width(1)))
        # legend items keep their text until re-added: set it again with the new colour
        for _sample, label in self.legend.items:
            label.setText(label.text, color=hex_colour(t.foreground), size=f"{round(10 * t.font_scale)}pt")
        self._update_speed()
        self._refresh_all()

    # -- slide look and fitting -------------------------------------------------------------------

    @property
    def model(self):
        return self.state

    def roles(self) -> Roles:
        # the second "open in matmul" button and its message sit under the figure, but they are controls
        return Roles(figure=(self.pages,), controls=(self.side_scroll, self.timeline, self.matmul_button2),
                     details=(self.matmul_message2,))

    def set_slide(self, on: bool) -> None:
        """The current view's figure alone (title, caption, step, matrices and scales), or the panel."""
        if not self.toggle_titled_slide(on, also=(self.layer_bar,)):  # the slide draws its own, slide-sized colour bar
            return
        for row in self.rows:
            row.spread(self.slide)
        self._restyle()  # redraws everything, the slide labels and the timeline's visibility included

    def set_caption(self, text: str | None) -> None:
        super().set_caption(text)
        self._update_slide_text()

    def _update_slide_text(self) -> None:
        st = self.state
        self.update_slide_title()
        step = (f"{step_label(st.batch_step, st.B)}: {st.batch_step} of {st.B} outer products summed; "
                f"{_shown_example(st.batch_step, st.B)}" if st.view == "batch" else "")
        self.slide_step.setText(step)
        self.slide_step.setVisible(self.slide and bool(step))
        # a slide of the batch or training view: its page's own sentence says what the headline says, longer
        self.headline.setVisible(not (self.slide and st.view != "layer"))

    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Resize and not self._fitting:
            self._fit_page()
        return super().eventFilter(obj, event)

    def _fit_page(self) -> None:
        """Shrink the current page's cells and tiles (never their text) until the page fits without scrolling."""
        area = self.pages.currentWidget()
        if area is None or self._fitting:
            return
        page = area.widget()
        room = area.viewport().size()
        if room.width() < 50 or room.height() < 50:
            return
        self._fitting = True
        try:
            views = page.findChildren((MatrixView, TileView))
            # the slide look grows the figure to fill the slide, except training's: its plot takes the room
            grow = self.slide and self.state.view != "train"
            # numbers in cells never below the slide's smallest text, 18 px × (height ÷ 1080): a lecture theme
            # has already scaled its fonts to its screen (slide_font_scale), an export's slide has not
            height = self.window().height()
            least = (height / 1080) * SLIDE_FONT_SCALE / max(self.look().font_scale, 1e-6)
            text_floor = max(SLIDE_MIN_TEXT_ZOOM, min(1.0, self.width() / 1920, self.height() / 1080), least)

            def fits(zoom: float, tile_zoom: float | None = None, stretch: float = 1.0) -> tuple[bool, bool]:
                # in steps of 0.05, rounded up: a few font sizes for the whole search, not one per candidate
                text_zoom = math.ceil(max(zoom, text_floor) * 20 - 1e-9) / 20 if grow else 1.0
                for v in views:
                    if isinstance(v, TileView):
                        z = zoom if tile_zoom is None else tile_zoom
                        # labels: smaller on a small slide, never larger than the slide's text
                        label_zoom = min(1.0, text_zoom)
                        changed = (v.zoom, v.text_zoom) != (z, label_zoom)
                        v.zoom, v.text_zoom = z, label_zoom
                    else:
                        changed = (v.zoom, v.text_zoom, v.row_stretch) != (zoom, text_zoom, stretch)
                        v.zoom, v.text_zoom, v.row_stretch = zoom, text_zoom, stretch
                    if changed:
                        v.updateGeometry()
                # never lower than its rotated y label when it shows one (and the axis below it): a label cut at
                # both ends reads wrong
                label = (QFontMetricsF(self.plot.getAxis("left").label.font()).horizontalAdvance(PLOT_Y_LABEL)
                         if self.plot.getAxis("left").label.isVisible() else 0.0)
                self.plot.setMinimumHeight(max(round(PLOT_HEIGHT * min(zoom, 1.0)), math.ceil(label * 1.1) + 60))
                for row in self.rows:
                    if row.parentWidget() is page:
                        row.wrap(None if grow else room.width())
                lay = page.layout()
                lay.setSpacing(6 if zoom >= 1 else 2)
                _relayout(page)
                need = lay.minimumSize()
                height = lay.totalHeightForWidth(room.width()) if lay.hasHeightForWidth() else need.height()
                return need.width() <= room.width(), max(height, need.height()) <= room.height()

            def largest(test, last: int) -> int:
                """Index of the largest of SLIDE_ZOOMS[:last + 1] that passes ``test`` (the last one does):
                bigger never fits better, so halve the candidates."""
                lo, hi = last, 0
                while hi < lo:
                    mid = (lo + hi) // 2
                    if test(SLIDE_ZOOMS[mid]):
                        lo = mid
                    else:
                        hi = mid + 1
                return lo

            digits_layer = self.state.view == "layer" and self.state.layer_kind == "digits"
            if self.strip_dropped:
                self.strip_dropped = False
                self.grad_strip.setVisible(digits_layer)
            if grow and digits_layer and not all(fits(1.0)):
                # a slide with no room for the strip too at the normal look's size leaves it out: the tiles show
                # the same numbers, and the figure never gets smaller than in the panel
                self.strip_dropped = True
                self.grad_strip.hide()
            elif not grow and digits_layer and not fits(FIT_ZOOMS[-1])[0] \
                    and self.grad_strip.minimumSizeHint().width() > room.width():
                # a narrow window (1024 pixels beside the side bar) has fewer pixels than the strip has columns:
                # the tiles show the same numbers, where the strip could only scroll sideways under the sentences
                self.strip_dropped = True
                self.grad_strip.hide()
            # grids of ten 28×28 tiles: five columns in the panel; a slide tries fewer, taller grids too (a row of
            # two grids of five is as wide as a 1920 slide while the height is left empty)
            grids = [v for v in views if isinstance(v, TileView) and len(v.values) > 5]

            def set_columns(columns: int | None) -> None:
                for v in views:
                    if isinstance(v, TileView):
                        c = v.base_columns if columns is None or v not in grids else columns
                        if v.columns != c:
                            v.columns = c
                            v.updateGeometry()

            def set_gaps(px: int | None) -> None:
                for row in self.rows:
                    if row.set_gap(px):
                        row.invalidate()

            set_columns(None)
            set_gaps(None)
            best = None
            # a narrow slide (1024 pixels) whose formula is wider than the screen at the smallest zoom, with its
            # numbers kept readable, packs the formula's pieces closer before it gives up growing (and scrolls)
            for gap in (None, 6, 3) if grow else ():
                set_gaps(gap)
                # one zoom for everything, the largest that fits; then the 28×28 tiles alone grow into the
                # room the columns of numbers leave (their height, not the tiles', is what stops the first)
                for columns in (5, 4, 3) if grids else (None,):
                    set_columns(columns)
                    if not all(fits(SLIDE_ZOOMS[-1])):
                        continue
                    k = largest(lambda z: all(fits(z)), len(SLIDE_ZOOMS) - 1)
                    t = largest(lambda z, k=k: all(fits(SLIDE_ZOOMS[k], z)), k)
                    # the largest tiles win; on a tie, the larger numbers, then the panel's five columns
                    if best is None or (SLIDE_ZOOMS[t], SLIDE_ZOOMS[k]) > (SLIDE_ZOOMS[best[2]], SLIDE_ZOOMS[best[1]]):
                        best = (columns, k, t)
                if best is not None:
                    break
            if best is not None:
                columns, k, t = best
                set_columns(columns)
                zoom, tiles = SLIDE_ZOOMS[k], SLIDE_ZOOMS[t]
                # a narrow screen (4:3) stops the zoom by its width: the rows of numbers then grow taller
                # into the height left, up to twice their height
                lo, hi = 0, len(ROW_STRETCHES) - 1  # bisect: the stretch at index hi always fits (1.0)
                while lo < hi:
                    mid = (lo + hi) // 2
                    if all(fits(zoom, tiles, ROW_STRETCHES[mid])):
                        hi = mid
                    else:
                        lo = mid + 1
                fits(zoom, tiles, ROW_STRETCHES[hi])
            else:
                set_gaps(None)
                set_columns(None)
                # the largest zoom that fits; failing that, the smallest that fits the width (a wrapped text
                # cut at the right reads wrong; the page then scrolls down, as little as it can: the formula's
                # rows wrap onto more lines at a larger zoom)
                wide = None
                for zoom in FIT_ZOOMS:
                    w_ok, h_ok = fits(zoom)
                    if w_ok and h_ok:
                        break
                    if w_ok:
                        wide = zoom
                else:
                    zoom = wide if wide is not None else FIT_ZOOMS[-1]
                    fits(zoom)
            self.zoom = zoom
        finally:
            self._fitting = False

    # -- the Panel contract: timeline ------------------------------------------------------------

    # The batch view's steps are the examples summed (0 to B); the train view's are a run that only grows
    # (StepTimeline.set_run); the layer view has no timeline, and its arrow keys move the selected entry.

    @property
    def playing(self) -> bool:
        return self.timeline.playing

    def play_pause(self) -> None:
        if self.state.view != "layer":
            self.timeline.play_pause()

    def pause(self) -> None:
        self.timeline.pause()

    def step_by(self, delta: int) -> None:
        if self.state.view != "layer":
            self.timeline.step_by(delta)
            return
        i, j = self.state.selected
        flat = max(0, min(self.state.m * self.state.n - 1, i * self.state.n + j + int(delta)))
        self.select_entry(*divmod(flat, self.state.n))

    def first_step(self) -> None:
        if self.state.view != "layer":
            self.timeline.first()

    def last_step(self) -> None:
        if self.state.view != "layer":
            self.timeline.last()

    def _step_requested(self, step: int) -> None:
        st = self.state
        if st.view == "batch":
            st.set_batch_step(step)
        elif st.view == "train":
            if step == 0:
                self.reset()
            elif step > len(st.records) and self._can_train():
                self._train(step - len(st.records))

    def _update_speed(self) -> None:
        """Give the timeline this view's speeds (examples summed, or training steps), each view keeping its own."""
        key = "batch" if self.state.view != "train" else "train"
        if key != self._speed_key:
            self._speed[self._speed_key] = self.timeline.speed
            self._speed_key = key
            self.timeline.set_speeds(SPEEDS[key], self._speed[key])

    # -- actions --------------------------------------------------------------------------------

    def set_view(self, view: str) -> None:
        self.pause()
        if view == "layer" and self.state.records:
            # the layer view explains the gradient at the weights training has reached
            self.state.refresh_gradients()
        self.state.set_view(view)

    def select_entry(self, i: int, j: int) -> None:
        try:
            self.state.select(i, j)
        except GradStateError:
            return

    def _can_train(self) -> bool:
        return self.state.can_train and not self.state.diverged

    def _train(self, steps: int) -> bool:
        t0 = time.perf_counter()
        ok = self.state.train(steps)
        if not ok:
            self.pause()
        self.repaint_times.append(time.perf_counter() - t0)
        return ok

    def reset(self) -> None:
        self.pause()
        self.state.reset()

    def _layer_chosen(self) -> None:
        kind = self.layer_box.currentData()
        if kind != self.state.layer_kind:
            self.pause()
            self.state.set_layer(kind)

    def _seed_chosen(self) -> None:
        if int(self.seed_box.value()) != self.state.seed:
            self.pause()
            self.state.set_training(seed=int(self.seed_box.value()))

    def _alpha_edited(self) -> None:
        text = self.alpha_field.text()
        try:
            alpha = parse_alpha(text)
        except GradStateError as e:
            self.alpha_message.show_message(str(e))
            return
        self.alpha_message.clear()
        if alpha != self.state.alpha:
            self.pause()
            self.state.set_training(alpha=alpha)

    def _batch_edited(self) -> None:
        try:
            batch = self.state.check_batch(self.batch_field.text())
        except GradStateError as e:
            self.batch_message.show_message(str(e))
            return
        self.batch_message.clear()
        if batch != self.state.batch:
            self.pause()
            self.state.set_training(batch=batch)

    def open_in_matmul(self) -> bool:
        """Show (P − Y)ᵀ · X in the matmul panel: M = m, N = n, K = B; a refusal is shown inline."""
        m, n, k = self.state.batch_grads.product_shape
        window = self.window()
        finder = getattr(window, "panel", None)
        target = finder("matmul") if callable(finder) else None
        if target is None:
            self._matmul_message("The matmul panel is not in this window (open gpuviz's main window to use it).")
            return False
        try:
            target.scene.configure(m=m, n=n, k=k)
        except ParamsError as e:
            self._matmul_message(f"The matmul panel refused {m}×{n}×{k}: {e}")
            return False
        self.matmul_message.clear()
        self.matmul_message2.clear()
        window.tabs.setCurrentWidget(target)
        return True

    def _matmul_message(self, text: str) -> None:
        self.matmul_message.show_message(text)
        self.matmul_message2.show_message(text)

    # -- drawing --------------------------------------------------------------------------------

    def _state_changed(self, state, changes) -> None:
        if "layer" in changes or "view" in changes:
            self._refresh_all()
            return
        t0 = time.perf_counter()
        if "train" in changes:
            self._draw_train()
            self._sync_side()
        if "selection" in changes:
            self._draw_layer()
        if "batch" in changes:
            self._draw_batch()
        self._update_timeline()
        self._emit_status()
        if "train" in changes:
            self.last_repaint_s = time.perf_counter() - t0

    def _refresh_all(self) -> None:
        self._sync_side()
        self.pages.setCurrentIndex(VIEWS.index(self.state.view))
        self._draw_layer()
        self._draw_batch()
        self._draw_train()
        self._update_speed()
        self._update_timeline()
        self._emit_status()
        self._fit_page()

    def _sync_side(self) -> None:
        st = self.state
        self._syncing = True
        try:
            self.layer_box.setCurrentIndex(LAYERS.index(st.layer_kind))
            self.seed_box.setValue(st.seed)
            if not self.alpha_message.message:
                self.alpha_field.setText(f"{st.alpha:g}")
            if not self.batch_message.message:
                self.batch_field.setText(str(st.batch))
            for view, b in self.view_buttons.items():
                b.setChecked(view == st.view)
        finally:
            self._syncing = False
        digits = st.layer_kind == "digits"
        for w in (self.alpha_field, self.batch_field, self.reset_button):
            w.setEnabled(digits)
        self.view_buttons["train"].setEnabled(digits)
        self.view_buttons["batch"].setEnabled(digits)
        if st.diverged:
            self.diverged_label.show_message(st.diverged_summary if self.slide else st.diverged_message)
        else:
            self.diverged_label.clear()

    def _draw_layer(self) -> None:
        st = self.state
        if st.view != "layer":
            return
        digits = st.layer_kind == "digits"
        m, n = st.m, st.n
        i, j = st.selected
        story = st.story()
        for w in (self.W_matrix, self.x_col, self.xT_row, self.grad_matrix):
            w.setVisible(not digits)
        for w in (self.W_tiles, self.x_tile, self.xT_tile, self.grad_tiles):
            w.setVisible(digits)
        self.grad_strip.setVisible(digits and not self.strip_dropped)
        labels = [f"i = {k}" for k in range(m)]
        for w in (self.b_col, self.z_col, self.p_col, self.y_col, self.delta_col):
            # ten rows of numbers, twice, must fit a 1080p screen; the toy's three rows can be big
            w.cell_height = 30 if digits else 52
        if digits:
            self.W_tiles.set_values(st.W, shape_text=f"({m}, {n})", labels=labels)
            self.x_tile.set_values(st.x[None, :], shape_text=f"({n}, 1), digit {int(st.labels[0])}", labels=[""])
            self.xT_tile.set_values(st.x[None, :], shape_text=f"(1, {n}); x_{j} = {fmt(st.x[j], 4)}", labels=[""])
            self.xT_tile.set_selected((0, j))
            lim = symmetric_limit(st.dW)
            click = "" if self.slide else ", click a pixel"
            self.grad_tiles.set_values(st.dW, lim, shape_text=f"({m}, {n}){click}", labels=labels)
            self.grad_tiles.set_selected((i, j))
            self.grad_strip.set_values(st.dW, lim, shape_text=f"({m}, {n}): rows i, columns j = 28·row + col")
            self.grad_strip.set_highlight(cells=[(i, j)])
        else:
            self.W_matrix.set_values(st.W, shape_text=f"({m}, {n})")
            self.W_matrix.set_highlight(rows=[i])
            self.x_col.set_values(st.x[:, None], shape_text=f"({n}, 1)")
            self.x_col.set_highlight(rows=[j])
            self.xT_row.set_values(st.x[None, :], shape_text=f"(1, {n})")
            self.xT_row.set_highlight(cols=[j])
            lim = symmetric_limit(st.dW)
            self.grad_matrix.set_values(st.dW, lim, shape_text=f"({m}, {n}), the shape of W")
            self.grad_matrix.set_highlight(cells=[(i, j)])
        self.b_col.set_values(st.b[:, None], shape_text=f"({m}, 1)")
        self.z_col.set_values(st.z[:, None], shape_text=f"({m}, 1)")
        self.p_col.set_values(st.p[:, None], shape_text=f"({m}, 1)")
        self.p_col.set_highlight(rows=[i])
        self.y_col.set_values(st.y[:, None], shape_text=f"({m}, 1)")
        self.y_col.set_highlight(rows=[i])
        self.delta_col.set_values(st.delta[:, None], shape_text=f"({m}, 1)")
        self.delta_col.set_highlight(rows=[i])
        self.layer_bar.set_limit(lim)
        for bar in (self.layer_bar_slide, self.layer_bar_slide_row):
            bar.set_limit(lim)
        self.layer_bar_slide.setVisible(self.slide and not digits)
        self.layer_bar_slide_row.setVisible(self.slide and digits)
        loss_text = "L = −log p_y" if st.loss == "xent" else "L = ½‖z − y‖²"
        self.p_col.name = "p = softmax(z)" if st.loss == "xent" else "p = z (MSE)"
        self.shape_line.setText("z = W·x + b:   " + st.grads.shape_story[0].split(": ", 1)[1]
                                + f"      loss {loss_text} = {fmt(st.forward.loss, 4)}")
        self.story_label.setText(story.text())
        _relayout(self.layer_page)
        # a slide cannot be clicked: its text leaves the invitations out
        self.backward_title.setText("Backward: click an entry of ∇_W L")
        # a slide's height is the figure's: the formulas under the rows (z = W·x + b, ∂L/∂W[i, j] = …) say which
        # pass each row is, without the two section titles
        self.forward_title.setVisible(not self.slide)
        self.backward_title.setVisible(not self.slide)
        self._headline = (
            f"The gradient ∇_W L has the shape of W ({m}×{n}); entry (i, j) is δ_i · x_j, the outer product δ xᵀ."
            + ("" if self.slide else " Click a pixel of any row's image (or the strip)." if digits
               else " Click any cell of ∇_W L."))
        self.headline.setText(self._headline)

    def _draw_batch(self) -> None:
        st = self.state
        if st.view != "batch":
            return
        self.headline.setText("A batch: its gradient is a sum of outer products, and that sum is one matrix product.")
        digits = st.layer_kind == "digits"
        m, n, B, k = st.m, st.n, st.B, st.batch_step
        shown = max(0, min(B - 1, k - 1))  # the example added last (the first before any is added)
        for w in (self.ex_x, self.ex_outer, self.acc_matrix):
            w.setVisible(not digits)
        for w in (self.ex_x_tile, self.ex_outer_tiles, self.acc_tiles):
            w.setVisible(digits)
        delta_k = st.batch_grads.dz[shown]
        x_k = st.x_all[shown]
        outer = st.per_example(shown)
        acc = st.partial_sum()
        final = st.product()
        lim = symmetric_limit(final)
        lim_outer = symmetric_limit(outer)
        self.ex_delta.set_values(delta_k[:, None], shape_text=f"({m}, 1)")
        labels = [f"digit {r}" for r in range(m)]
        if digits:
            self.ex_x_tile.set_values(x_k[None, :], shape_text=f"(1, {n}), label {int(st.labels[shown])}",
                                      labels=[""])
            self.ex_outer_tiles.set_values(outer, lim_outer, shape_text=f"({m}, 1)·(1, {n}) = ({m}, {n})",
                                           labels=labels)
            self.acc_tiles.set_values(acc, lim, shape_text=f"({m}, {n}) after {k} of {B}", labels=labels)
        else:
            self.ex_x.set_values(x_k[None, :], shape_text=f"(1, {n})")
            self.ex_outer.set_values(outer, lim_outer, shape_text=f"({m}, {n})")
            self.acc_matrix.set_values(acc, lim, shape_text=f"({m}, {n}) after {k} of {B}")
        self.batch_bar.set_limit(lim)
        self.batch_title.setText(
            f"∇_W L of a batch of B = {B} is the mean of B outer products: (1/B) Σ_k δ_k x_kᵀ. "
            f"Step k has added examples 0 to k − 1 ({_shown_example(k, B)}). The scale beside this is the running "
            "sum's; each outer product has its own.")
        # a slide's height is the figure's: its step line names the example shown, the tiles' names the formula
        self.batch_title.setVisible(not self.slide)
        if self.batch_bar.inline != self.slide:
            self.batch_bar.inline = self.slide
            self.batch_bar.updateGeometry()
        if k >= B:
            err = float(np.max(np.abs(acc - final)))
            self.product_label.setText(
                f"All {B} added. The same matrix in one matrix product: ∇_W L = (P − Y)ᵀ X / B, "
                f"({m}, {B})·({B}, {n}) / {B} = ({m}, {n}).  Largest difference from the running sum: {err:.1e} "
                f"(floating-point rounding). On the GPU this is one matmul with M = {m}, N = {n}, K = {B}.")
        else:
            self.product_label.setText(f"{k} of {B} outer products added; play or step to add the rest, then the "
                                       f"sum is shown as the product (P − Y)ᵀ X / B.")
        # a slide's step line already counts the products added: the sentence is for the last step's result
        self.product_label.setVisible(not self.slide or k >= B)
        _relayout(self.batch_page)

    def _draw_train(self) -> None:
        st = self.state
        if st.view != "train":
            return
        self.headline.setText("Gradient descent on the digits: ΔW = −α ∇_W L, one minibatch per step.")
        m, n = st.m, st.n
        if not st.can_train:
            self.train_title.setText("Training runs on the digits: choose the 10×784 layer.")
            return
        labels = [f"digit {r}" for r in range(m)]
        W = st.W
        self.train_W.set_values(W, symmetric_limit(W), shape_text=f"W ({m}, {n})", labels=labels)
        self.train_W_bar.set_limit(symmetric_limit(W))
        g = st.last_train_grads
        if g is not None:
            lim = symmetric_limit(g.dW)
            self.train_grad.set_values(g.dW, lim, shape_text=f"({m}, {n}) = (P − Y)ᵀ X / {g.batch}", labels=labels)
            self.train_grad_bar.set_limit(lim)
        else:
            self.train_grad.set_values(np.zeros((m, n)), 1.0, shape_text="no step taken yet", labels=labels)
            self.train_grad_bar.set_limit(1.0)
        steps, loss, acc = st.history()
        good = np.isfinite(acc)
        # symbols only while there are few points: they show a one-step run, and cost time on long ones
        few = len(steps) <= 40
        self.loss_curve.setData(steps, loss, symbol="o" if few else None)
        self.acc_curve.setData(steps[good], acc[good], symbol="s" if few else None)
        if len(steps):
            last = st.records[-1]
            accs = acc[good]
            a = f", held-out accuracy {accs[-1]:.1%}" if len(accs) else ""
            self.train_title.setText(f"Step {last.step} with α = {st.alpha:g}, B = {st.batch}: minibatch loss "
                                     f"{last.loss:.3f}{a}. Each step: W ← W − α ∇_W L.")
        else:
            self.train_title.setText(f"W at the seed's initial weights (α = {st.alpha:g}, B = {st.batch}). "
                                     "Step (→) or play (Space) gradient descent: W ← W − α ∇_W L.")

    def _update_timeline(self) -> None:
        st = self.state
        if st.view == "batch":
            self.timeline.set_steps(st.B + 1)
            self.timeline.show_step(st.batch_step)
        elif st.view == "train":
            self.timeline.set_run(len(st.records), can_grow=self._can_train(), can_restart=st.can_train)
        self.timeline.setVisible(st.view != "layer" and not self.slide)
        self._update_slide_text()

    def _emit_status(self) -> None:
        st = self.state
        if st.view == "layer":
            text = st.story().subscripted()
        elif st.view == "batch":
            text = f"batch, {step_label(st.batch_step, st.B)}: {st.batch_step} of {st.B} outer products summed"
        elif st.diverged:
            text = f"training diverged at α = {st.alpha:g}"
        elif st.records:
            r = st.records[-1]
            text = f"training step {r.step}: loss {r.loss:.3f}"
        else:
            text = "training: ready"
        self.status_changed.emit(text)

    # -- scenarios ------------------------------------------------------------------------------

    def scenario(self, title: str):
        st = self.state
        return scenarios.Scenario("grad", title, st.params(), view=st.view_state())

    def apply_scenario(self, scenario) -> None:
        """Show ``scenario``; raises ParamsError (and keeps the picture) when the model refuses it."""
        if scenario.panel != self.panel_id:
            raise scenarios.ScenarioError(scenario.path, f"is a {scenario.panel!r} scenario, "
                                                         "not one for the grad panel")
        new = GradState.from_params(scenario.params, scenario.view)
        self.pause()
        self.state.unsubscribe(self._state_changed)
        self.state = new
        new.subscribe(self._state_changed)
        self.alpha_message.clear()
        self.batch_message.clear()
        self.matmul_message.clear()
        self.matmul_message2.clear()
        self._scenario_title = scenario.title
        self._refresh_all()

    def presets(self) -> list:
        found, _errors = scenarios.load_presets("grad")
        if found:
            return found
        return [
            scenarios.Scenario("grad", "Toy 3×7 layer: where ∂L/∂W[i, j] comes from", {"layer": "toy", "seed": 0},
                               view={"view": "layer", "selected": [1, 2]}),
            scenarios.Scenario("grad", "Digits 10×784: one image's gradient", {"layer": "digits", "seed": 0},
                               view={"view": "layer", "selected": [3, 406]}),
            scenarios.Scenario("grad", "A batch as a sum of outer products",
                               {"layer": "digits", "seed": 0, "batch": 16},
                               view={"view": "batch", "batch_step": 0}),
            scenarios.Scenario("grad", "Training the digits",
                               {"layer": "digits", "seed": 0, "alpha": 0.5, "batch": 64}, view={"view": "train"}),
        ]

    def shutdown(self) -> None:
        self.timeline.pause()


__all__ = ["GradPanel"]
