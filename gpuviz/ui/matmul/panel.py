"""The "Matmul on the GPU" panel: controls, A·B = C on the thread grid, source, hierarchy, numbers, timeline, run.

The panel owns a :class:`~gpuviz.model.scene.MatmulScene` and composes views of
it; it computes nothing it shows. The controls hold what the user asks for;
each change asks the scene to take *all* of them (so fixing one field can make
an earlier refused change valid), and a refused one leaves the scene — and so
the picture — as it was, with the scene's one-sentence reason next to the
field it names (CUDA's limit or the memory budget that was hit).
"""

from __future__ import annotations

import json
from dataclasses import replace

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...model import scenario as scenarios
from ...model.matmul import KERNELS
from ...model.panel import ParamsError
from ...model.scene import BACKENDS, FOCUS, MatmulParams, MatmulScene, SceneError
from ..panel import Panel, Roles
from ..style import FieldMessage, apply_theme, error_colour, font, hex_colour, mix, preset_combo, subscribe
from ..theme import LIGHT, Theme
from .banks_view import BanksView
from .hierarchy import HierarchyView
from .numbers_view import NumbersView
from .runner import RunController
from .shared_view import SharedTilesView
from .source_view import SourceView
from .tab_rows import TabRows
from .timeline import Timeline, describe_step
from .transactions_view import TransactionsView
from .views import MatrixViews, operand_names, product_text

#: Control names, in the order their values are sent to :meth:`MatmulScene.configure`.
PARAM_FIELDS = ("m", "n", "k", "block", "kernel", "backend")

BACKEND_TEXT = {"auto": "auto (GPU if present)", "gpu": "GPU", "simulator": "CUDA simulator (CPU)"}
KERNEL_TEXT = {"naive": "naive (coalesced)", "uncoalesced": "uncoalesced", "tiled": "tiled (shared memory)"}


def lecture_scene() -> MatmulScene:
    """The lecture's picture: naive 32×32×32 with 8×8 blocks, block 13 = blockIdx (1, 3) selected, focus on it."""
    scene = MatmulScene(MatmulParams(kernel="naive", m=32, n=32, k=32, block=(8, 8)))
    scene.select_thread((1, 3), (0, 0))
    scene.set_focus("block")
    return scene


class MatmulPanel(Panel):
    """The "Matmul on the GPU" panel.

    Parameters
    ----------
    scene : MatmulScene, optional
        The scene shown; default: the lecture's picture (:func:`lecture_scene`).
    engine : gpuviz.engine.Engine, optional
        Runs the product for real (the run controller makes one when needed if None).
    parent : QWidget, optional
    """

    panel_id = "matmul"
    title = "Matmul on the GPU"

    def __init__(self, scene: MatmulScene | None = None, engine=None, parent=None, theme: Theme = LIGHT):
        super().__init__(parent)
        self.scene = scene if scene is not None else lecture_scene()
        self.engine = engine
        self.theme = theme
        self._syncing = False
        self._presets, self._preset_errors = scenarios.load_presets("matmul", budget=self.scene.budget)

        # -- controls ----------------------------------------------------------------------------
        self.fields: dict[str, QWidget] = {}
        self.messages: dict[str, FieldMessage] = {}
        self._labels: list[QLabel] = []
        self.preset_box = preset_combo(self._presets, self._preset_chosen)
        self.preset_text = QLabel()
        self.preset_text.setWordWrap(True)
        for name in ("m", "n", "k", "block"):
            edit = QLineEdit()
            edit.setToolTip({"m": "Rows of A and C", "n": "Columns of B and C", "k": "Columns of A, rows of B",
                             "block": "Threads per block, x × y (e.g. 8x8, 32x8); at most 1024 threads"}[name])
            edit.editingFinished.connect(self._apply_controls)
            self.fields[name] = edit
        self.fields["kernel"] = self._combo(KERNELS, KERNEL_TEXT, "Which kernel computes C")
        self.fields["backend"] = self._combo(BACKENDS, BACKEND_TEXT, "Where 'Run' computes the product")
        self.focus_box = self._combo(FOCUS, {f: f for f in FOCUS}, "Whose reads A and B show: the selected "
                                     "thread, its warp, its block, or all threads")
        self.focus_box.activated.connect(self._focus_chosen)
        self.cumulative_box = QCheckBox("cumulative reads (so far)")
        self.cumulative_box.setToolTip("Show how many times each element of A and B has been read from global memory "
                                       "up to this step: the reuse tiling buys")
        self.cumulative_box.toggled.connect(self._cumulative_toggled)
        for name in ("kernel", "backend"):
            self.fields[name].activated.connect(self._apply_controls)
        for name in (*PARAM_FIELDS, "size", "preset", "view"):
            self.messages[name] = FieldMessage()

        side = QWidget()
        form = QGridLayout(side)
        form.setContentsMargins(6, 6, 6, 6)
        form.setHorizontalSpacing(6)
        form.setVerticalSpacing(2)
        row = 0

        def add(label: str, widget: QWidget, message: FieldMessage | None):
            nonlocal row
            lab = QLabel(label)
            self._labels.append(lab)
            form.addWidget(lab, row, 0)
            form.addWidget(widget, row, 1)
            row += 1
            if message is not None:
                form.addWidget(message, row, 0, 1, 2)
                row += 1
            return lab

        self.section_labels = [QLabel("Lecture example"), QLabel("Product C = A·B"), QLabel("Launch"),
                               QLabel("A and B show")]
        form.addWidget(self.section_labels[0], row, 0, 1, 2)
        row += 1
        form.addWidget(self.preset_box, row, 0, 1, 2)
        row += 1
        form.addWidget(self.messages["preset"], row, 0, 1, 2)
        row += 1
        form.addWidget(self.preset_text, row, 0, 1, 2)
        row += 1
        form.addWidget(self.section_labels[1], row, 0, 1, 2)
        row += 1
        #: the labels that name C (renamed with the scenario's names in _name_controls)
        self._size_labels = {"m": add("M (rows of C)", self.fields["m"], self.messages["m"]),
                             "n": add("N (cols of C)", self.fields["n"], self.messages["n"])}
        add("K (shared)", self.fields["k"], self.messages["k"])
        form.addWidget(self.messages["size"], row, 0, 1, 2)
        row += 1
        form.addWidget(self.section_labels[2], row, 0, 1, 2)
        row += 1
        add("block (x×y)", self.fields["block"], self.messages["block"])
        add("kernel", self.fields["kernel"], self.messages["kernel"])
        add("backend", self.fields["backend"], self.messages["backend"])
        form.addWidget(self.section_labels[3], row, 0, 1, 2)
        row += 1
        add("focus", self.focus_box, None)
        form.addWidget(self.cumulative_box, row, 0, 1, 2)
        row += 1
        form.addWidget(self.messages["view"], row, 0, 1, 2)
        row += 1

        # -- views --------------------------------------------------------------------------------
        self.matrices = MatrixViews(self.scene, theme)
        self.source = SourceView(self.scene, theme)
        self.hierarchy = HierarchyView(self.scene, theme)
        self.numbers = NumbersView(self.scene, theme)
        self.timeline = Timeline(self.scene, theme)
        self.transactions = TransactionsView(self.scene, theme)
        self.banks = BanksView(self.scene, theme)
        self.shared = SharedTilesView(self.scene, theme)
        self.runner = RunController(self.scene, engine, theme)
        form.addWidget(self.runner, row, 0, 1, 2)
        row += 1
        self.runner.status_changed.connect(self.status_changed)
        form.setRowStretch(row, 1)
        form.setColumnStretch(1, 1)

        self.side_scroll = QScrollArea()
        self.side_scroll.setWidget(side)
        self.side_scroll.setWidgetResizable(True)
        self.side_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.side_scroll.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self._side = side

        self.tabs = QTabWidget()
        self.tabs.addTab(self.numbers, "Numbers")
        self.tabs.addTab(self.transactions, "Memory transactions")
        self.tabs.addTab(self.banks, "Banks")  # beside the sectors: global requests, then shared ones
        self.tabs.setTabToolTip(self.tabs.indexOf(self.banks), "Shared-memory bank conflicts: the selected warp's "
                                "lanes at this step, the shared words they touch, their banks and the conflict degree")
        self.tabs.addTab(self.shared, "sA, sB")  # "shared memory" in its tooltip
        self.tabs.setTabToolTip(self.tabs.indexOf(self.shared), "Shared memory: the tiled kernel's tiles sA and sB of "
                                "the selected block at this step: what each element holds, what is written and read")
        self.tabs.addTab(self.hierarchy, "Grid → Block → Warp → Thread")
        self.tabs.setTabToolTip(self.tabs.indexOf(self.hierarchy), "Grid → Block → Warp → Thread: the launch as a "
                                "tree, and the selected thread's numbers")
        self.tabs.setTabToolTip(self.tabs.indexOf(self.numbers), "Numbers: threads, warps, loads and FLOPs of the "
                                "whole launch and of this step")
        self.tabs.setTabToolTip(self.tabs.indexOf(self.transactions), "Memory transactions: the selected warp's "
                                "global loads at this step, in 32-byte sectors")
        # the titles as buttons that wrap onto more rows in a narrow column: one tab bar row cut them to
        # "Nu…" at 1366×768, and scroll arrows would hide some tabs
        self.tab_rows = TabRows(self.tabs, theme)
        details = QWidget()
        box = QVBoxLayout(details)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        box.addWidget(self.tab_rows)
        box.addWidget(self.tabs, 1)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.source)
        right.addWidget(details)
        right.setStretchFactor(0, 1)
        right.setStretchFactor(1, 1)
        self.right = right

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.side_scroll)
        self.splitter.addWidget(self.matrices)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setStretchFactor(2, 2)
        self.splitter.setChildrenCollapsible(False)
        self._user_sizes = False
        self._normal_sizes: list[int] | None = None
        self._normal_right: list[int] = []
        self.splitter.splitterMoved.connect(self._splitter_moved)
        self.right.splitterMoved.connect(self._splitter_moved)

        # -- slide look (set_slide): the title over the matrices; beside them (a slide is wider than the
        # square-celled A·B = C needs) the caption, the step and the source line it executes, the memory
        # transactions when the scenario compares two kernels' traffic, and the model's note
        self.slide_header = QWidget()
        self.slide_title = QLabel()
        self.slide_title.setWordWrap(True)
        head = QVBoxLayout(self.slide_header)
        head.setContentsMargins(16, 10, 16, 4)
        head.addWidget(self.slide_title)
        self.slide_header.hide()
        self.slide_side = QWidget()
        self.slide_caption = QLabel()
        self.slide_step = QLabel()
        self.slide_source = QLabel()
        self.slide_note = QLabel()
        column = QVBoxLayout(self.slide_side)
        column.setContentsMargins(16, 8, 16, 8)
        column.setSpacing(8)
        for lab in (self.slide_caption, self.slide_step, self.slide_source):
            lab.setWordWrap(True)
            column.addWidget(lab)
        column.addStretch(1)
        self.slide_note.setWordWrap(True)
        column.addWidget(self.slide_note)
        self._column = column
        #: the memory transactions and the shared tiles on a slide: made on the first set_slide(True), so the
        #: normal panel pays nothing for them (see _slide_transactions, _slide_tiles)
        self.slide_transactions: TransactionsView | None = None
        self.slide_tiles: SharedTilesView | None = None
        self._text_scale = 1.0  # the side column's fonts, shrunk on a small slide until it fits (_fit_column)
        self._column_style = None  # (look, scale) the side column was last styled in
        self._fitted = (None, False)
        # the slide's text goes in the figure's column right of C, above the block view (the figure is one
        # widget: lecture mode measures it, and the column's text and the block share the height)
        self.matrices.side_layout.insertWidget(0, self.slide_side)
        self.slide_side.hide()
        self._scenario_title = self.title
        self._handle_width = self.splitter.handleWidth()

        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.setSpacing(2)
        lay.addWidget(self.slide_header)
        lay.addWidget(self.splitter, 1)
        lay.addWidget(self.timeline)

        subscribe(self, self.scene, "_scene_changed")
        self._sync_controls()
        for p in self._presets:
            if p.params == self.scene.params:  # the scene is a preset's: say which
                self.preset_box.setCurrentIndex(self.preset_box.findData(p))
                self.preset_text.setText(p.description)
                self._scenario_title = p.title
                break
        if self._preset_errors:
            skipped = len(self._preset_errors)
            self.messages["preset"].show_message(
                f"{skipped} preset file{'s' if skipped > 1 else ''} skipped: " + "; ".join(self._preset_errors))
        self._show_tiles_tab()
        self.set_theme(theme)
        self._update_sizes()

    def _combo(self, values, text: dict, tip: str) -> QComboBox:
        box = QComboBox()
        for v in values:
            box.addItem(text.get(v, v), v)
        box.setToolTip(tip)
        return box

    # -- look -------------------------------------------------------------------------------------

    def set_theme(self, theme: Theme) -> None:
        super().set_theme(theme)
        self.theme = theme
        self._restyle()


    def _restyle(self) -> None:
        theme = self.theme
        apply_theme(self, theme)
        apply_theme(self._side, theme)
        for lab in self.section_labels:
            lab.setFont(font(theme, bold=True, scale=1.05))
            lab.setStyleSheet(f"color: {hex_colour(theme.foreground)}; padding-top: 6px;")
        self.preset_text.setStyleSheet(f"color: {hex_colour(mix(theme.foreground, theme.background, 0.75))};")
        self.preset_text.setFont(font(theme, scale=0.9))
        for m in self.messages.values():
            m.set_theme(theme)
        self.tab_rows.set_theme(theme)
        for w in (self.source, self.hierarchy, self.numbers, self.timeline, self.transactions, self.banks,
                  self.shared, self.runner):
            w.set_theme(theme)
        self._restyle_figure()

    def _restyle_figure(self) -> None:
        """The figure's look: slide-sized in slide mode. The hidden side views keep theirs (a source view
        drawn once in a larger font keeps that font's scroll range)."""
        theme = self.look()
        self.matrices.set_theme(theme)
        self.slide_title.setFont(font(theme, bold=True, scale=1.9))
        self.slide_title.setStyleSheet(f"color: {hex_colour(theme.foreground)};")
        self._fitted = (None, False)
        self._column_style = None
        self._style_column(self._text_scale)
        self._update_sizes()

    def _style_column(self, scale: float) -> None:
        """The side column's fonts at ``scale`` times their slide size."""
        theme = self.look()
        # lecture mode lays the column out on every step: a style sheet set again, even the same text,
        # re-polishes the label, and a font set again lays it out again
        if self._column_style == (theme, scale):
            return
        self._column_style = (theme, scale)
        small = replace(theme, font_scale=theme.font_scale * scale)
        fg = hex_colour(theme.foreground)
        for lab, f in ((self.slide_caption, font(small, scale=1.3)),
                       (self.slide_step, font(small, bold=True, scale=1.1)),
                       (self.slide_source, font(small, mono=True, scale=1.1))):
            lab.setFont(f)
            lab.setStyleSheet(f"color: {fg};")
        self.slide_note.setFont(font(small, scale=0.9))
        self.slide_note.setStyleSheet(f"color: {hex_colour(mix(theme.foreground, theme.background, 0.75))};")
        if self.slide_transactions is not None:
            self.slide_transactions.set_theme(small)
        if self.slide_tiles is not None:
            self.slide_tiles.set_theme(small)

    # -- slide look -------------------------------------------------------------------------------

    @property
    def model(self):
        return self.scene

    def roles(self) -> Roles:
        # the source line, numbers, transactions, tiles and hierarchy explain the figure beside it
        return Roles(figure=(self.matrices,), controls=(self.side_scroll, self.timeline), details=(self.right,))

    def set_slide(self, on: bool) -> None:
        """The figure alone (title, caption, step and its source line, A·B = C with the legend), or the panel."""
        on = bool(on)
        if on == self.slide:
            return
        if not on:
            # the slide's fixed sizes go before the side panes come back: together they would be wider than
            # the window, which a top-level window then grows to fit
            self.matrices.set_side_width(None)
            self.matrices.block_view.setMinimumHeight(100)
            self.matrices.block_view.setMaximumHeight(16777215)
        self.hide_for_slide(on)
        if on:
            self._slide_transactions()
            self._slide_tiles()
        if on:
            self._handle_width = self.splitter.handleWidth()
            self._normal_sizes = self.splitter.sizes()
            self._normal_right = self.right.sizes()
            self.splitter.setHandleWidth(0)  # a grip drawn beside the figure is no part of a slide
        else:
            self.splitter.setHandleWidth(self._handle_width)
        self.slide = on
        if not on and self._normal_sizes:
            self.layout().invalidate()  # the timeline is back: lay the column out again before the sizes
            self.layout().activate()
            self.splitter.setSizes(self._normal_sizes)
            self.right.setSizes(self._normal_right)
        self.matrices.set_slide(on)
        self._place_title()
        self.slide_side.setVisible(on)
        self._restyle_figure()
        self._update_slide_text()

    def set_lecture(self, on: bool) -> None:
        """Lecture mode: the slide look with the figure first — the title moves into the column beside C (no
        header row above the figure) and A and B give C their width along k — while it all stays live."""
        on = bool(on)
        if on == self.lecture:
            return
        self.lecture = on
        self.matrices.set_lecture(on)
        if self.slide and on:  # already a slide: only the title moves
            self._place_title()
            self._restyle_figure()
        else:
            self.set_slide(on)

    def _place_title(self) -> None:
        """The slide title: in its header row above the figure, or (lecture mode) at the top of the column."""
        in_column = self.slide and self.lecture
        if in_column and self._column.indexOf(self.slide_title) < 0:
            self._column.insertWidget(0, self.slide_title)
        elif not in_column and self.slide_header.layout().indexOf(self.slide_title) < 0:
            self.slide_header.layout().addWidget(self.slide_title)
        self.slide_title.setVisible(self.slide)
        self.slide_header.setVisible(self.slide and not self.lecture)

    def save_state(self) -> bytes:
        """The normal layout's splitter sizes (side column, figure, source and tabs), for the window to
        remember between sessions (:meth:`restore_state`)."""
        main = self._normal_sizes if self.slide and self._normal_sizes else self.splitter.sizes()
        return json.dumps({"main": list(main), "right": self.right.sizes()}).encode()

    def restore_state(self, state: bytes) -> bool:
        """Restore what :meth:`save_state` gave; False (and nothing changed) for bytes it cannot read."""
        try:
            d = json.loads(bytes(state).decode())
            main, right = [int(v) for v in d["main"]], [int(v) for v in d["right"]]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            return False
        if len(main) != self.splitter.count() or len(right) != self.right.count() or min(main + right) < 0:
            return False
        self._user_sizes = True
        if self.slide:
            self._normal_sizes = main
        else:
            self.splitter.setSizes(main)
        self.right.setSizes(right)
        return True

    def _splitter_moved(self, *args) -> None:
        if not self.slide:
            self._user_sizes = True  # the lecturer's sizes stay until the panel is rebuilt
            self._normal_right = []

    def _slide_transactions(self) -> TransactionsView:
        if self.slide_transactions is None:
            self.slide_transactions = TransactionsView(self.scene, self.look(), slide=True)
            self.slide_transactions.hide()
            self._column.insertWidget(3, self.slide_transactions)
        return self.slide_transactions

    def _slide_tiles(self) -> SharedTilesView:
        if self.slide_tiles is None:
            self.slide_tiles = SharedTilesView(self.scene, self.look(), slide=True)
            self.slide_tiles.hide()
            self._column.insertWidget(self._column.indexOf(self.slide_source) + 1, self.slide_tiles, 1)
        return self.slide_tiles

    def shows_tiles(self) -> bool:
        """Whether the slide shows the shared tiles sA and sB: for the tiled kernel, whose steps are about them
        (not in lecture mode, which gives the screen to A·B = C and the block: the tiles are in the drawer)."""
        return self.slide and not self.lecture and self.scene.kernel == "tiled"

    def shows_block(self) -> bool:
        """Whether the slide shows the selected block thread by thread (the lecture's Block 13): where the
        column does not show the shared tiles or the memory transactions, which are those slides' subject."""
        return not (self.shows_tiles() or self.shows_transactions())

    def shows_transactions(self) -> bool:
        """Whether the slide shows the memory transactions: when the scenario compares this kernel's memory
        traffic with another's (``compare_kernel``, as the coalescing example does). Elsewhere they add
        nothing the slide is about (the tiled kernel's multiply steps read shared memory only), so the
        column keeps to the caption, the step and its source line."""
        return self.slide and not self.lecture and self.scene.compare_kernel is not None

    def set_caption(self, text: str | None) -> None:
        super().set_caption(text)
        self._update_slide_text()

    def _update_slide_text(self) -> None:
        if not self.slide:
            return
        sc = self.scene
        self.slide_title.setText(self._scenario_title)
        self.slide_caption.setText(self.caption or "")
        self.slide_caption.setVisible(bool(self.caption))
        self.slide_step.setText(describe_step(sc))
        line = sc.step_info().line
        lines = sc.source().splitlines()
        code = lines[line - 1].strip() if 0 < line <= len(lines) else ""
        text = f"line {line} of the {sc.kernel} kernel:   {code}"
        if tuple(sc.names) != ("A", "B", "C") and not sc.step_info().is_barrier:
            # the kernel's source keeps its parameters' names: say the line again in the scenario's
            text += f"\ni.e. {sc.step_text()}"
        self.slide_source.setText(text)
        self.slide_note.setText(self.matrices.note.text())
        self._fitted = (None, False)
        self._update_sizes()

    def _update_sizes(self) -> None:
        if self.slide and self.lecture:
            self._update_lecture_sizes()
            return
        if self.slide:
            # the matrices as wide as their square cells need at this height, the text column the rest; where
            # the column's text does not fit even in its smallest slide size, the figure gives up some width
            head = self.slide_header.layout().totalHeightForWidth(self.width()) if not self.lecture else 0
            height = self.height() - head - 6
            natural = min(self.matrices.natural_width(height), int(0.72 * self.width()))
            for shrink in (1.0, 0.92, 0.85):
                wide = int(natural * shrink)
                side = max(1, self.width() - wide)
                # the block view takes its height at the column's foot, the text the rest; a column that
                # shows the shared tiles or the memory transactions has no room to spare for it
                block_h = self._block_height(side, height) if self.shows_block() else 0
                # the sizes a hidden panel passes through on its way to its own are not worth fitting
                if not self.isVisible() or self._fit_column(side, height - block_h - 4):
                    break
            self.matrices.block_view.setVisible(block_h > 0)
            self.matrices.block_view.setFixedHeight(max(block_h, 1))
            self.matrices.set_side_width(side)
            self.splitter.setSizes([0, self.width(), 0])
            return
        if self._normal_right:  # back from the slide look: the source and tabs as they were (until dragged)
            self.right.setSizes(self._normal_right)
        self.matrices.block_view.setVisible(True)
        self.matrices.block_view.setMinimumHeight(100)
        self.matrices.block_view.setMaximumHeight(16777215)
        width = int(340 * max(1.0, self.look().font_scale ** 0.5))
        self.side_scroll.setMinimumWidth(width)
        self._side.setMinimumWidth(width - 20)
        if self._user_sizes:
            return  # the lecturer's own splitter sizes (dragged, or restore_state) stay
        total = max(self.width(), 1600)
        rest = total - width
        right = 0.36 if self.look().font_scale <= 1.2 else 0.32
        self.splitter.setSizes([width, int(rest * (1 - right)), int(rest * right)])

    def _update_lecture_sizes(self) -> None:
        """Lecture mode: the figure is the whole panel; the column beside C holds the title, caption, step and
        source line at the lecture theme's full size (already scaled to the screen), and the block view takes
        the height they leave."""
        height = self.height() - 6
        natural = min(self.matrices.natural_width(height), int(0.72 * self.width()))
        side = max(1, self.width() - natural)
        for w in (self.slide_tiles, self.slide_transactions):
            if w is not None:
                w.hide()
        self._column.setStretch(self._column.count() - 2, 1)
        self._text_scale = 1.0
        self._style_column(1.0)
        need = self._column_height(side) or 0
        block_h = int(max(0, min(self.matrices.block_view.height_for_width(side), height - need - 4)))
        self.matrices.block_view.setVisible(block_h >= 80)
        self.matrices.block_view.setFixedHeight(max(block_h, 1))
        self.matrices.set_side_width(side)
        self.splitter.setSizes([0, self.width(), 0])

    def _block_height(self, width: int, height: int) -> int:
        """The block view's height in the slide column: square threads as wide as the column allows, at most
        a little over half the column."""
        return int(min(self.matrices.block_view.height_for_width(width), 0.55 * height))

    def _fit_column(self, width: int, height: int) -> bool:
        """Make the side column's fonts as large as fit its ``height``: the slide size, or on a slide smaller
        than 1920×1080 down to what is as large relative to it (18 px of 1080 is 12 px of 720). False when
        the memory transactions do not fit even so (they are then left out)."""
        tv = self.slide_transactions
        key = (width, height, self.slide_caption.text(), self.slide_step.text(), self.scene.step,
               self.scene.selected, self.scene.params, self.scene.compare_kernel, self.scene.focus)
        if key == self._fitted[0]:
            return self._fitted[1]
        smallest = min(1.0, self.height() / 1080)
        scales = [s for s in (1.0, 0.95, 0.9, 0.85, 0.8, 0.75, 0.7) if s > smallest] + [smallest]
        if self.slide_tiles is not None:
            self.slide_tiles.setVisible(self.shows_tiles())
            # the tiles take the column's spare height (their cells grow into it), else the stretch below does
            self._column.setStretch(self._column.count() - 2, 0 if self.shows_tiles() else 1)
            self.slide_tiles.refresh()  # it may hear of the change after the panel: measure it with the change drawn
        fits = False
        for with_tv in ((True, False) if self.shows_transactions() else (False,)):
            if tv is not None:
                tv.setVisible(with_tv)
                if with_tv:  # the view hears of a change after the panel: measure it with the change drawn
                    tv._pending |= {"params", "step", "selection", "compare"}
                    tv._flush()
            for scale in scales:
                self._text_scale = scale
                self._style_column(scale)
                need = self._column_height(width)
                if need is not None and need <= height:
                    fits = with_tv or not self.shows_transactions()
                    break
            else:
                continue
            break
        self._fitted = (key, fits)
        return fits

    def _column_height(self, width: int) -> int | None:
        """The height the side column needs at ``width`` (None: wider than that), summed from its parts."""
        left, top, right, bottom = self._column.getContentsMargins()
        inner = width - left - right
        parts = [lab.heightForWidth(inner) for lab in (self.slide_title, self.slide_caption, self.slide_step,
                                                          self.slide_source, self.slide_note)
                 if self._column.indexOf(lab) >= 0 and lab.isVisibleTo(self.slide_side)]
        tiles = self.slide_tiles
        if tiles is not None and tiles.isVisibleTo(self.slide_side):
            parts.append(tiles.height_for(inner))
        tv = self.slide_transactions
        if tv is not None and tv.isVisibleTo(self.slide_side):
            need = tv.height_for(inner)
            if need is None:
                return None
            parts.append(need)
        return top + bottom + sum(parts) + self._column.spacing() * len(parts)  # the stretch is one more item

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._update_sizes()

    def showEvent(self, event):
        super().showEvent(event)
        if self.slide:
            self._update_sizes()

    # -- controls → scene -------------------------------------------------------------------------

    def _values(self) -> dict:
        out = {}
        for name in ("m", "n", "k"):
            text = self.fields[name].text().strip().replace(",", "").replace("_", "")
            try:
                out[name] = int(text)
            except ValueError:
                out[name] = self.fields[name].text()  # the scene words the refusal
        out["block"] = self.fields["block"].text()
        out["kernel"] = self.fields["kernel"].currentData()
        out["backend"] = self.fields["backend"].currentData()
        return out

    def set_field(self, name: str, value) -> None:
        """Type ``value`` into control ``name`` (m, n, k, block, kernel, backend) and apply the controls."""
        w = self.fields[name]
        if isinstance(w, QLineEdit):
            w.setText(str(value))
        else:
            i = w.findData(value)
            if i < 0:
                raise ValueError(f"{value!r} is not a choice of {name}")
            w.setCurrentIndex(i)
        self._apply_controls()

    def _apply_controls(self, *args) -> None:
        if self._syncing:
            return
        try:
            self.scene.configure(**self._values())
        except SceneError as e:
            self._show_error(e.field, str(e))
            return
        for m in self.messages.values():
            if m is not self.messages["preset"]:
                m.clear()
        self._mark_invalid(None)

    def _show_error(self, field: str, message: str) -> None:
        for name, m in self.messages.items():
            if name not in ("preset", field):
                m.clear()
        target = field if field in self.messages else "size"
        kept = self.scene.params
        shown = f"{kept.kernel} {kept.m}×{kept.n}×{kept.k}, block {kept.block[0]}x{kept.block[1]}"
        self.messages[target].show_message(f"{message.rstrip('.')}. Still showing {shown}.")
        self._mark_invalid(field)
        self.status_changed.emit(f"not applied: {message}")

    def _mark_invalid(self, field: str | None) -> None:
        bad = hex_colour(error_colour(self.theme))
        for name, w in self.fields.items():
            w.setStyleSheet(f"border: 2px solid {bad};" if name == field else "")

    def _focus_chosen(self, *args) -> None:
        self.scene.set_focus(self.focus_box.currentData())

    def _cumulative_toggled(self, on: bool) -> None:
        if not self._syncing:
            self.scene.set_cumulative(on)

    def _preset_chosen(self, index: int) -> None:
        preset = self.preset_box.itemData(index)
        if preset is None:
            return
        try:
            self.apply_scenario(preset)
        except ParamsError as e:
            self.messages["preset"].show_message(f"{preset.title}: {e}")

    # -- scene → controls -------------------------------------------------------------------------

    def _scene_changed(self, scene, changes) -> None:
        if "params" in changes or "focus" in changes or "cumulative" in changes:
            self._sync_controls()
        if "params" in changes:
            preset = self.preset_box.currentData()
            if preset is not None and preset.params != scene.params:  # no longer that example
                self.preset_box.setCurrentIndex(0)
                self.preset_text.setText("")
        if changes & {"step", "params"}:
            self.status_changed.emit(describe_step(scene))
        if "params" in changes:
            self._show_tiles_tab()
        if changes & {"step", "params", "selection", "compare", "focus"}:
            self._update_slide_text()

    def _show_tiles_tab(self) -> None:
        """The shared-memory tab only where there is shared memory: the tiled kernel."""
        self.tabs.setTabVisible(self.tabs.indexOf(self.shared), self.scene.kernel == "tiled")
        self.tab_rows.sync()

    def _sync_controls(self) -> None:
        p = self.scene.params
        self._syncing = True
        try:
            for name in ("m", "n", "k"):
                self.fields[name].setText(str(getattr(p, name)))
            self.fields["block"].setText(f"{p.block[0]}x{p.block[1]}")
            for name in ("kernel", "backend"):
                box = self.fields[name]
                box.setCurrentIndex(box.findData(getattr(p, name)))
            self.focus_box.setCurrentIndex(self.focus_box.findData(self.scene.focus))
            self.cumulative_box.setChecked(self.scene.cumulative)
        finally:
            self._syncing = False
        self._name_controls()

    def _name_controls(self) -> None:
        """The controls' words for A, B and C in the scenario's names: "Product z = W·x + b", "M (rows of z)"."""
        a, b, c = operand_names(self.scene)
        self.section_labels[1].setText(f"Product {product_text(self.scene)}")
        self.section_labels[3].setText(f"{a} and {b} show")
        self._size_labels["m"].setText(f"M (rows of {c})")
        self._size_labels["n"].setText(f"N (cols of {c})")
        self.fields["m"].setToolTip(f"Rows of {a} and {c}")
        self.fields["n"].setToolTip(f"Columns of {b} and {c}")
        self.fields["k"].setToolTip(f"Columns of {a}, rows of {b}")
        self.fields["kernel"].setToolTip(f"Which kernel computes {c}")
        self.focus_box.setToolTip(f"Whose reads {a} and {b} show: the selected thread, its warp, its block, or "
                                  "all threads")
        self.cumulative_box.setToolTip(f"Show how many times each element of {a} and {b} has been read from global "
                                       "memory up to this step: the reuse tiling buys")

    # -- the Panel contract -----------------------------------------------------------------------

    def scenario(self, title: str):
        return scenarios.scenario_from_scene(self.scene, title)

    def apply_scenario(self, scenario) -> None:
        """Show ``scenario``; raises ScenarioError/SceneError (and keeps the picture) when it cannot."""
        scenarios.apply_scenario(self.scene, scenario)
        for m in self.messages.values():
            m.clear()
        self._mark_invalid(None)
        self._sync_controls()
        i = self.preset_box.findText(scenario.title)
        self.preset_box.setCurrentIndex(max(i, 0))
        self.preset_text.setText(scenario.description)
        self._scenario_title = scenario.title
        self._update_slide_text()
        # the Panel contract: a status after every apply, even when the scene did not change
        self.status_changed.emit(describe_step(self.scene))

    def presets(self) -> list:
        return list(self._presets)

    def shutdown(self) -> None:
        self.timeline.pause()
        self.runner.shutdown()


__all__ = ["MatmulPanel", "lecture_scene"]
