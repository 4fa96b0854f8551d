"""The "Speed" panel: the same operation as a Python loop, NumPy, Numba and on a GPU, timed on this machine.

The lecture claims that matrix code is an order of magnitude faster than loops,
that GPUs are faster again, and that larger batches train faster. This panel
measures those claims instead of quoting them: :meth:`Engine.bench
<gpuviz.engine.Engine.bench>` times each implementation in the engine's worker
process (never in the GUI process, which never imports numba) and the panel
draws the :class:`~gpuviz.model.speed.BenchResults` it returns: the ratio in
large type, plots, and a table that copies as CSV. Results can be saved and
loaded with the machine they were measured on, and loaded figures say so.

The panel has no time steps. Space starts the run (or cancels it); the other
timeline keys (arrows, Home, End, +, −) do nothing here.
"""

from __future__ import annotations

import time
from pathlib import Path

from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ...model import scenario as scenarios
from ...model import speed
from ...model import text as grammar
from ...model.scenario import ScenarioError, check_speed_request, speed_results_path
from ...model.speed import IMPLS, OPS, BenchResults, SpeedError
from ...model.speed_panel import SpeedModel, headline, is_session_file, skipped_lines
from ...model.speed_panel import sweep_of as _sweep_of
from ...paths import assets_dir
from ..jobs import JobAdapter
from ..panel import Panel, Roles
from ..style import ElidedLines, FieldMessage, apply_theme, font, hex_colour, mix
from ..theme import LIGHT, Theme
from .plots import NOISY_COLOUR, PLOT_KEYS, SpeedPlots
from .reference import ReferenceView
from .runner import BenchRunner
from .style import GPU_IMPLS, OP_NAMES, SIMULATOR_NOTE, impl_name, readable
from .table import ResultsTable

#: The lecture demo: the 1,000,000-element dot product as a loop, with NumPy and with Numba.
DEMO_PARAMS = {"op": "dot", "sizes": [1_000_000], "impls": ["python", "numpy", "numba"]}
DEMO_TITLE = "Lecture demo: dot product of two 1,000,000-element vectors"
DEFAULT_IMPLS = {
    "dot": ["python", "numpy", "numba", "numba-fastmath"],
    "matmul": ["python", "numpy", "numba", "numba-fastmath", "numba-parallel", "gpu-naive", "gpu-tiled", "cublas"],
    "layer": ["python", "numpy", "numba"],
}
EMPTY_TEXT = "Not measured yet: press Run."
#: Least time between two redraws of the figures while a run streams measurements in (ms). A redraw costs
#: the GUI thread tens of milliseconds while the benchmark competes for the CPU; one per measurement (they
#: can come every few milliseconds) would stall the event loop. Measurements wait at most this long.
LIVE_REFRESH_MS = 250
# The sizes field reads and writes the one size grammar of the CLI and scenarios (model/text.py).
parse_sizes = grammar.parse_sizes
format_sizes = grammar.format_size_list


class _Column(QWidget):
    """The figures' column: its height for a width is what its widgets need at least, wrapped text included.

    A scroll area gives a widget with wrapping labels the height its layout *prefers* for the width;
    this column asks for the least that shows everything (the plots at their minimum), so a window
    tall enough for that never scrolls, and a shorter one scrolls instead of squeezing text over the plots.
    """

    def heightForWidth(self, width: int) -> int:
        lay = self.layout()
        m = lay.contentsMargins()
        inner = width - m.left() - m.right()
        total, shown = m.top() + m.bottom(), 0
        for i in range(lay.count()):
            w = lay.itemAt(i).widget()
            if w is None or w.isHidden():
                continue
            least = max(w.minimumHeight(), w.minimumSizeHint().height())
            total += max(least, w.heightForWidth(inner)) if w.hasHeightForWidth() else least
            shown += 1
        return total + lay.spacing() * max(0, shown - 1)


def _section(text: str) -> QLabel:
    lab = QLabel(text)
    lab.setObjectName("section")
    return lab


class SpeedPanel(Panel):
    """The "Speed" panel.

    Parameters
    ----------
    engine : gpuviz.engine.Engine, optional
        Runs the benchmarks in its worker; None: one is made on the first run
        (and closed by :meth:`shutdown`). With an engine given, the panel asks
        it for the GPU when first shown (in a thread), to disable the GPU
        implementations where there is none; :meth:`set_gpu_info` tells it too.
    parent : QWidget, optional
    theme : Theme

    Attributes
    ----------
    results : BenchResults or None
        What the figures show (None: nothing measured or loaded yet).
    outcome : str
        How the last run ended: ``ok``, ``cancelled``, ``refused``, ``died``, ``error``, or "".
    live_refreshes : int
        Redraws of the figures while the last run streamed measurements in (they are coalesced:
        at most one per :data:`LIVE_REFRESH_MS`), not counting the one when it ended.
    """

    panel_id = "speed"
    title = "Speed"

    def __init__(self, engine=None, parent=None, theme: Theme = LIGHT):
        super().__init__(parent)
        self.theme = theme
        self._engine_given = engine is not None
        self.runner = BenchRunner(engine, self)
        self.runner.measurement.connect(self._on_measurement)
        self.runner.progress.connect(self._on_progress)
        self.runner.finished.connect(self._on_finished)
        self.runner.failed.connect(self._on_failed)
        # the sweep being measured, the results shown, their file and the live measurements: the model's (Qt-free)
        self.speed = SpeedModel()
        self.speed.subscribe(self._speed_changed)
        self.outcome = ""
        self._warm_keys: list[str] = []
        self._run_started = 0.0
        self._scenario_title = DEMO_TITLE
        # the sweep the shown scenario (or the lecture demo) describes: a run of another op or sizes retitles
        self._scenario_sweep: tuple | None = _sweep_of(DEMO_PARAMS)
        # the title says what the panel measured or loaded itself, not what a scenario was called: it names
        # an export and a saved scenario too
        self._own_title = False
        #: what the figure area draws: "sweep" (the plots) or "cpu-vs-gpu" (a scenario's [view] figure)
        self.figure = "sweep"
        self._gpu: bool | None = None
        self._gpu_name: str | None = None
        # a panel on its own (no window to tell it) asks the engine for a GPU: an engine job, like a run
        self._lookup = JobAdapter(self)
        self._lookup.finished.connect(self._on_gpu_lookup)
        self._lookup_started = False
        self._status = ""
        # measurements streamed in are drawn together, a few times a second (and always once at the end)
        self._live_timer = QTimer(self)
        self._live_timer.setSingleShot(True)
        self._live_timer.setInterval(LIVE_REFRESH_MS)
        self._live_timer.timeout.connect(self._refresh_live)
        self.live_refreshes = 0
        # a live redraw builds the figures on one turn of the event loop and paints them on the next
        self._paint_timer = QTimer(self)
        self._paint_timer.setSingleShot(True)
        self._paint_timer.setInterval(0)
        self._paint_timer.timeout.connect(self._resume_painting)

        self._build_side()
        self._build_main()
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.side_scroll)
        lay.addWidget(self.main_scroll, 1)

        self._set_controls(DEMO_PARAMS)
        self.set_theme(theme)
        self._show_results()
        self._update_buttons()

    # -- building -----------------------------------------------------------------------------

    def _build_side(self) -> None:
        side = QWidget()
        g = QGridLayout(side)
        g.setContentsMargins(8, 8, 8, 8)
        g.setVerticalSpacing(5)
        row = 0

        def add(widget, span=2):
            nonlocal row
            g.addWidget(widget, row, 0, 1, span)
            row += 1

        self.demo_button = QPushButton("▶ Lecture demo\n1,000,000-element dot product")
        self.demo_button.setToolTip("One click: time the lecture's dot product of two 1,000,000-element vectors as "
                                    "a Python loop, with NumPy and with Numba, and show the ratio")
        self.demo_button.clicked.connect(self.lecture_demo)
        add(self.demo_button)

        self.sections = [_section("Operation")]
        add(self.sections[-1])
        self.op_box = QComboBox()
        for op in OPS:
            # the name's first clause, which fits the side column (Qt would cut the layer's long name off
            # mid-word); the whole name is the item's tooltip and heads the figures
            self.op_box.addItem(OP_NAMES[op].split(", ")[0], op)
            self.op_box.setItemData(self.op_box.count() - 1, OP_NAMES[op], Qt.ItemDataRole.ToolTipRole)
        self.op_box.setToolTip("What every implementation computes (results are checked equal across them)")
        # a long name must not widen the side column
        self.op_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.op_box.setMinimumContentsLength(12)
        self.op_box.activated.connect(lambda _i: self._op_chosen())
        add(self.op_box)

        self.sections.append(_section("Sizes"))
        add(self.sections[-1])
        self.sizes_hint = QLabel()
        self.sizes_hint.setWordWrap(True)
        add(self.sizes_hint)
        self.sizes_field = QLineEdit()
        self.sizes_field.setPlaceholderText("e.g. 64, 128, 256  (1k = 1,000, 1M = 1,000,000)")
        self.sizes_field.setToolTip("Sizes separated by commas; 1k = 1,000 and 1M = 1,000,000")
        self.sizes_field.editingFinished.connect(self._check_fields)
        add(self.sizes_field)
        self.sizes_message = FieldMessage()
        add(self.sizes_message)

        self.sections.append(_section("Implementations"))
        add(self.sections[-1])
        self.impl_boxes: dict[str, QCheckBox] = {}
        for impl in IMPLS:
            box = QCheckBox(impl_name(impl))
            box.setToolTip(self._impl_tip(impl))
            box.toggled.connect(lambda _on: self._check_fields(impls_only=True))
            self.impl_boxes[impl] = box
            add(box)
        self.impls_message = FieldMessage()
        add(self.impls_message)

        buttons = QWidget()
        b = QHBoxLayout(buttons)
        b.setContentsMargins(0, 4, 0, 0)
        self.run_button = QPushButton("▶ Run")
        self.run_button.setToolTip("Time the chosen implementations at every size in a worker process (Space)")
        self.run_button.clicked.connect(self.run)
        self.cancel_button = QPushButton("■ Cancel")
        self.cancel_button.setToolTip("Stop the run: its worker process is ended (Space)")
        self.cancel_button.clicked.connect(self.cancel)
        b.addWidget(self.run_button, 1)
        b.addWidget(self.cancel_button, 1)
        add(buttons)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("idle")
        self.progress.setTextVisible(True)
        add(self.progress)
        self.run_status = QLabel()
        self.run_status.setWordWrap(True)
        add(self.run_status)
        self.run_message = FieldMessage()
        add(self.run_message)

        self.sections.append(_section("Results file"))
        add(self.sections[-1])
        files = QWidget()
        f = QHBoxLayout(files)
        f.setContentsMargins(0, 0, 0, 0)
        self.load_button = QPushButton("Open…")
        self.load_button.setToolTip("Show figures saved earlier (e.g. measured on a GPU machine); they are "
                                    "labelled with the file and the machine they were measured on")
        self.load_button.clicked.connect(self._ask_load)
        self.save_button = QPushButton("Save…")
        self.save_button.setToolTip("Save these figures with the machine's description (JSON)")
        self.save_button.clicked.connect(self._ask_save)
        f.addWidget(self.load_button, 1)
        f.addWidget(self.save_button, 1)
        add(files)
        self.file_message = FieldMessage()
        add(self.file_message)

        self.note = QLabel(
            "How it is measured: each implementation runs once to warm up (Numba's compile time is kept apart and "
            "shown), then several timed repeats; the median is shown with min and max. Every result is checked "
            "against NumPy. Implementations that would take too long at a size are skipped, with the estimate. "
            f"The CUDA simulator is a {SIMULATOR_NOTE}: it emulates GPU threads one by one on the CPU.")
        self.note.setWordWrap(True)
        add(self.note)
        g.setRowStretch(row, 1)
        self.side_scroll = QScrollArea()
        self.side_scroll.setWidgetResizable(True)
        self.side_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.side_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.side_scroll.setWidget(side)

    def _build_main(self) -> None:
        self.main = _Column()
        v = QVBoxLayout(self.main)
        v.setContentsMargins(8, 6, 8, 6)
        self.title_label = QLabel()
        self.title_label.setWordWrap(True)
        self.caption_label = QLabel()
        self.caption_label.setWordWrap(True)
        self.caption_label.hide()
        self.ratio_label = QLabel()
        self.ratio_label.setWordWrap(True)
        self.ratio_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.medians_label = QLabel()
        self.medians_label.setWordWrap(True)
        self.medians_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # measurements flagged noisy, with what to do: on screen, on a slide and in every export
        self.noisy_label = QLabel()
        self.noisy_label.setWordWrap(True)
        self.noisy_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.noisy_label.hide()
        self.source_label = QLabel()
        self.source_label.setWordWrap(True)
        self.source_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.empty_label = QLabel(EMPTY_TEXT)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        self.plots = SpeedPlots(theme=self.theme)
        # CPU vs GPU for the dense layer: the lecture's table (measured elsewhere) beside these figures
        self.reference_view = ReferenceView(theme=self.theme)
        self.reference_view.hide()
        self._reference_table = None
        self.skipped_label = ElidedLines()

        self.table_box = QWidget()
        t = QVBoxLayout(self.table_box)
        t.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        self.table_title = QLabel("Results")
        head.addWidget(self.table_title)
        head.addStretch(1)
        self.copy_button = QPushButton("Copy as CSV")
        self.copy_button.setToolTip("Copy the whole table as CSV, with the machine's description (Ctrl+C in the table)")
        self.copy_button.clicked.connect(self.copy_csv)
        head.addWidget(self.copy_button)
        t.addLayout(head)
        self.table = ResultsTable(theme=self.theme)
        self.table.setMinimumHeight(110)
        t.addWidget(self.table, 1)

        v.addWidget(self.title_label)
        v.addWidget(self.caption_label)
        v.addWidget(self.ratio_label)
        v.addWidget(self.medians_label)
        v.addWidget(self.noisy_label)
        v.addWidget(self.source_label)
        v.addWidget(self.empty_label, 5)
        v.addWidget(self.plots, 5)
        v.addWidget(self.reference_view, 3)
        v.addWidget(self.skipped_label)
        v.addWidget(self.table_box, 2)
        # never squeezed below what its figures need (wrapped text over the plots' axis labels), and never
        # wider than the panel: a short window scrolls down instead, the plots arrange themselves for the width
        self.main_scroll = QScrollArea()
        self.main_scroll.setWidgetResizable(True)
        self.main_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.main_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.main_scroll.setWidget(self.main)

    @staticmethod
    def _impl_tip(impl: str) -> str:
        tips = {
            "python": "A plain Python for loop over Python floats: the lecture's baseline",
            "numpy": "One NumPy call (np.dot / @), which runs the machine's BLAS library",
            "numba": "The same loop compiled by Numba's @njit (compile time shown apart)",
            "numba-fastmath": "@njit(fastmath=True): lets the compiler reorder the sum and use SIMD",
            "numba-parallel": "@njit(parallel=True) with prange: every core of this machine",
            "gpu-naive": "gpuviz's naive CUDA kernel, timed with CUDA events (needs a CUDA GPU)",
            "gpu-tiled": "gpuviz's shared-memory tiled CUDA kernel (needs a CUDA GPU)",
            "cublas": "NVIDIA's cuBLAS library through CuPy (needs a CUDA GPU)",
            "simulator": f"Numba's CUDA simulator on the CPU, small sizes only: a {SIMULATOR_NOTE}",
        }
        return tips.get(impl, impl)

    # -- theme and slide ----------------------------------------------------------------------


    def set_theme(self, theme: Theme) -> None:
        super().set_theme(theme)
        self._apply_look()

    def _apply_look(self) -> None:
        t = self.look()
        apply_theme(self, t)
        muted = hex_colour(mix(t.foreground, t.background, 0.7))
        for lab in self.sections:
            lab.setFont(font(t, bold=True, scale=1.1))
        self.demo_button.setFont(font(t, bold=True, scale=1.1))
        self.run_button.setFont(font(t, bold=True))
        self.sizes_hint.setFont(font(t, scale=0.9))
        self.note.setFont(font(t, scale=0.85))
        self.note.setStyleSheet(f"color: {muted};")
        for w in self.findChildren(FieldMessage):
            w.set_theme(t)
        figure_first = self.slide and self.lecture
        self.title_label.setFont(font(t, bold=True, scale=1.2 if figure_first else 1.9 if self.slide else 1.3))
        self.caption_label.setFont(font(t, scale=1.2))
        # lecture mode: one line of headline over the figure, which takes the rest of the screen
        self.ratio_label.setFont(font(t, bold=True, scale=1.7 if figure_first else 3.0 if self.slide else 2.4))
        self.medians_label.setFont(font(t, scale=1.25 if self.slide else 1.15))
        self.noisy_label.setFont(font(t, bold=True, scale=1.1 if self.slide else 1.0))
        self.noisy_label.setStyleSheet(f"color: {hex_colour(readable(NOISY_COLOUR, t.background, t.foreground))};")
        # lecture mode: the least size legible from the back row (18 px × height ÷ 1080 at every size)
        self.source_label.setFont(font(t, scale=0.85 if figure_first else 1.0 if self.slide else 0.95))
        self.source_label.setStyleSheet(f"color: {muted};")
        self.empty_label.setFont(font(t, bold=True, scale=2.0))
        self.skipped_label.setFont(font(t, scale=0.95))
        self.table_title.setFont(font(t, bold=True, scale=1.1))
        self.side_scroll.setFixedWidth(min(round(370 * t.font_scale), 580))
        # the figures to the screen's edges in lecture mode: a margin there is room the data does not get
        self.main.layout().setContentsMargins(*((2, 2, 2, 2) if figure_first else (8, 6, 8, 6)))
        self.main.layout().setSpacing(2 if figure_first else -1)  # -1: the style's
        self.plots.compact = figure_first  # set_theme builds the figures again
        self.reference_view.compact = figure_first
        self.plots.set_theme(t)
        self.reference_view.set_theme(t)
        self.table.set_theme(t)
        self._show_results()

    @property
    def model(self):
        return self.speed

    @property
    def results(self):
        """The results shown when no run is going on (:attr:`SpeedModel.results`)."""
        return self.speed.results

    def roles(self) -> Roles:
        return Roles(figure=(self.main,), controls=(self.side_scroll,), details=(self.table_box, self.skipped_label))

    def set_slide(self, on: bool) -> None:
        """Slide look: only the title, the caption, the ratio, the source line and the plots with their legend."""
        self.slide = bool(on)
        for w in self.roles().chrome:
            w.setVisible(not self.slide)
        # a slide is a picture: no scroll bar, even where the figure asks for a little more height than it gets
        self.main_scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff if self.slide
                                                    else Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self._apply_look()

    def set_lecture(self, on: bool) -> None:
        """The slide look with the figure first: one line of headline (the ratio, else the title) and the source
        line over figures that take the rest of the screen; the medians and the noise warning, which the bars
        and the points carry too, read in the drawer's table (F6)."""
        on = bool(on)
        if on == self.lecture:
            return
        self.lecture = on
        if self.slide != on:
            self.set_slide(on)
        else:
            self._apply_look()

    def set_caption(self, text: str | None) -> None:
        super().set_caption(text)
        self.caption_label.setText(self.caption or "")
        self.caption_label.setVisible(self.slide and bool(self.caption))

    # -- the timeline keys ----------------------------------------------------------------------

    # The panel has no steps: Space (play/pause) starts a run or cancels it, and the
    # stepping keys have nothing to step through, so they honestly do nothing.

    def play_pause(self) -> None:
        if self.runner.running:
            self.cancel()
        else:
            self.run()

    def step_by(self, delta: int) -> None:
        """No steps to move through (the arrows do nothing here)."""

    def first_step(self) -> None:
        """No steps (Home does nothing here)."""

    def last_step(self) -> None:
        """No steps (End does nothing here)."""

    def faster(self) -> None:
        """No playback speed (+ does nothing here)."""

    def slower(self) -> None:
        """No playback speed (− does nothing here)."""

    # -- controls -----------------------------------------------------------------------------

    def _set_controls(self, params: dict) -> None:
        op = params.get("op", "dot")
        self.op_box.setCurrentIndex(max(0, self.op_box.findData(op)))
        self.sizes_field.setText(format_sizes(params.get("sizes", speed.DEFAULT_SIZES[op])))
        chosen = set(params.get("impls", DEFAULT_IMPLS[op]))
        for impl, box in self.impl_boxes.items():
            box.blockSignals(True)
            box.setChecked(impl in chosen)
            box.blockSignals(False)
        self._update_size_hint()

    def _update_size_hint(self) -> None:
        op = self.op_box.currentData()
        limit = speed.max_size(op)
        if op == "matmul":
            limit = scenarios.CPU_MATMUL_MAX if self._gpu is not True else limit
        self.sizes_hint.setText(f"{speed.SIZE_LABELS[op]}, separated by commas (at most "
                                f"{scenarios.MAX_SPEED_SIZES} sizes, each up to {limit:,})")

    def _op_chosen(self) -> None:
        op = self.op_box.currentData()
        self.sizes_field.setText(format_sizes(speed.DEFAULT_SIZES[op]))
        for impl, box in self.impl_boxes.items():
            box.blockSignals(True)
            box.setChecked(impl in DEFAULT_IMPLS[op] and box.isEnabled())
            box.blockSignals(False)
        self._update_size_hint()
        self.sizes_message.clear()
        self.impls_message.clear()

    def chosen_impls(self) -> list[str]:
        return [impl for impl, box in self.impl_boxes.items() if box.isChecked() and box.isEnabled()]

    def set_field(self, sizes: str | None = None, op: str | None = None, impls=None) -> bool:
        """Type into the controls (tests and scripts) and check them; False when a message is shown."""
        if op is not None:
            self.op_box.setCurrentIndex(self.op_box.findData(op))
            self._op_chosen()
        if sizes is not None:
            self.sizes_field.setText(sizes)
        if impls is not None:
            for impl, box in self.impl_boxes.items():
                box.blockSignals(True)
                box.setChecked(impl in impls)
                box.blockSignals(False)
        return self._check_fields() is not None

    def _check_fields(self, impls_only: bool = False):
        """The request the controls describe, checked by the model; None (with messages shown) when invalid."""
        impls = self.chosen_impls()
        if not impls:
            self.impls_message.show_message("Choose at least one implementation to time.")
            return None
        self.impls_message.clear()
        if impls_only and not self.sizes_message.message:
            return None
        op = self.op_box.currentData()
        try:
            sizes = parse_sizes(self.sizes_field.text())
            request = check_speed_request(op, sizes, impls, gpu=self._gpu)
        except (SpeedError, grammar.TextError) as e:
            self.sizes_message.show_message(_sentence(str(e)))
            return None
        self.sizes_message.clear()
        return request

    # -- GPU ------------------------------------------------------------------------------------

    def set_gpu_info(self, info: dict) -> None:
        """What :meth:`Engine.gpu_info <gpuviz.engine.Engine.gpu_info>` found (the main window's ``backend_found``)."""
        info = info or {}
        self._gpu = bool(info.get("gpu_available"))
        self._gpu_name = info.get("gpu_name")
        self._update_gpu_boxes()

    def _update_gpu_boxes(self) -> None:
        for impl in GPU_IMPLS:
            box = self.impl_boxes[impl]
            if self._gpu is False:
                box.setEnabled(False)
                box.setToolTip(f"{self._impl_tip(impl)}. No CUDA GPU was found on this machine: load results "
                               "measured on a GPU machine to show them (Results file → Open…)")
            else:
                box.setEnabled(True)
                name = f" Found: {self._gpu_name}." if self._gpu and self._gpu_name else ""
                box.setToolTip(self._impl_tip(impl) + "." + name)
        self._update_size_hint()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        # only a panel given the app's engine asks (an export's copy has none and must not spawn workers)
        if self._engine_given and self._gpu is None and not self._lookup_started:
            from ...engine.jobs import info_job

            self._lookup_started = True
            self._lookup.start(info_job(self.runner.engine))

    def _on_gpu_lookup(self, job) -> None:
        # a lookup that failed leaves the boxes enabled; a run reports "no GPU" as a skip reason
        info = (job.result if job.state == "ok" else None) or {}
        if info.get("gpu_available") is not None and self._gpu is None:
            self.set_gpu_info(info)

    # -- running --------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.runner.running

    def lecture_demo(self) -> None:
        """One click: the 1M dot product, Python loop vs NumPy vs Numba, run now."""
        if self.runner.running:
            return
        self._scenario_title = DEMO_TITLE
        self._scenario_sweep = _sweep_of(DEMO_PARAMS)
        self._own_title = False
        self.figure = "sweep"
        self._set_controls(DEMO_PARAMS)
        self.sizes_message.clear()
        self.impls_message.clear()
        self.run()

    def run(self) -> bool:
        """Start timing what the controls say (False: a run is going, or an inline message says what is wrong)."""
        if self.runner.running:
            return False
        request = self._check_fields()
        if request is None:
            return False
        op, sizes, impls = request
        if _sweep_of({"op": op, "sizes": sizes}) != self._scenario_sweep:
            # another operation or other sizes than the scenario's: its title would name what was not measured
            self._scenario_title = speed.sweep_title(op, sizes)
            self._own_title = True
        self.run_message.clear()
        self.file_message.clear()
        self.live_refreshes = 0
        self.speed.start(request)
        self._run_started = time.monotonic()
        self.outcome = ""
        if not self.runner.start(op, sizes, impls):
            self.speed.end()
            return False
        total = len(sizes) * len(impls)
        self.progress.setRange(0, 0)
        self.progress.setFormat("starting the benchmark worker…")
        self._set_status(f"timing {len(impls)} implementation{'s' if len(impls) > 1 else ''} of the "
                         f"{OP_NAMES[op]} at {len(sizes)} size{'s' if len(sizes) > 1 else ''} ({total} runs)…")
        self._update_buttons()
        self._show_results()
        if len(sizes) > 1:
            # the plots of several sizes are made while the worker starts, one per turn of the event loop
            self._warm_keys = list(PLOT_KEYS)
            QTimer.singleShot(0, self._warm_figures)
        return True

    def _warm_figures(self) -> None:
        if self.speed.request is None or not self._warm_keys:
            return
        self.plots.warm_up(self.speed.request[0], self.speed.request[2], keys=[self._warm_keys.pop(0)])
        if self._warm_keys:
            QTimer.singleShot(0, self._warm_figures)

    def cancel(self) -> None:
        """Stop the run (its worker process is ended); the figures measured before stay."""
        if not self.runner.running:
            return
        self.runner.cancel()
        self._set_status("cancelling…")
        self._update_buttons()

    def _on_measurement(self, m) -> None:
        if not self.runner.running or self.runner.cancelling:
            return
        self.speed.add(m)
        if not self._live_timer.isActive():
            self._live_timer.start()

    def _refresh_live(self) -> None:
        """Draw the measurements streamed in since the last redraw (the timer coalesces them)."""
        if self.runner.running and not self.runner.cancelling:
            self.live_refreshes += 1
            # building new figures (when the second size arrives) and painting them take tens of milliseconds
            # each while the benchmark loads the CPU: done in one go they would stall the event loop for their
            # sum, so the paint waits for the next turn and input and timers are served in between
            self.plots.setUpdatesEnabled(False)
            self._paint_timer.start()
            self._show_results()

    def _resume_painting(self) -> None:
        self.plots.setUpdatesEnabled(True)  # paints what the last redraw drew (an update is implied)

    def _on_progress(self, done: int, total: int, text: str) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(min(done, total))
            self.progress.setFormat(f"{done}/{total}" + (f": {text}" if text else ""))
        elif text:
            self.progress.setFormat(text)
        self._set_status(f"measuring… {done} of {total} done" + (f" ({text})" if text else "") if total else
                         f"measuring… {text}")

    def _on_finished(self, results, outcome: str) -> None:
        took = time.monotonic() - self._run_started
        self.outcome = outcome
        self.speed.end()
        if results is not None and results.measurements:
            self.speed.take(results)
            self.speed.keep_in_temp_file()
        if outcome == "cancelled":
            kept = ("the measurements finished before it are shown" if results is not None and results.measurements
                    else "the figures shown before it stay")
            self._set_status(f"run cancelled: {kept}")
        else:
            n = sum(1 for m in results.measurements if m.measured) if results is not None else 0
            self._set_status(f"measured {n} figure{'s' if n != 1 else ''} in {took:.1f} s")
            self._learn_gpu(results)
        self._end_run()

    def _on_failed(self, outcome: str, message: str) -> None:
        self.outcome = outcome
        self.run_message.show_message(_sentence(message) + " The figures shown before stay.")
        self._set_status(f"run failed: {message}")
        self._end_run()

    def _end_run(self) -> None:
        self._live_timer.stop()  # the redraw below shows everything
        self._paint_timer.stop()
        self.plots.setUpdatesEnabled(True)
        self.speed.end()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("idle")
        self._update_buttons()
        self._show_results()

    def _learn_gpu(self, results) -> None:
        if results is None or results.loaded or self._gpu is not None:
            return
        self._gpu = results.machine.gpu is not None
        self._gpu_name = results.machine.gpu
        self._update_gpu_boxes()

    def _update_buttons(self) -> None:
        running = self.runner.running
        self.run_button.setEnabled(not running)
        self.demo_button.setEnabled(not running)
        self.cancel_button.setEnabled(running and not self.runner.cancelling)
        self.load_button.setEnabled(not running)
        have = self.results is not None and not running
        self.save_button.setEnabled(have)
        self.copy_button.setEnabled(have)

    # -- results files --------------------------------------------------------------------------

    def _speed_changed(self, model, changes) -> None:
        if "results" in changes:
            if model.results is not None:
                self._controls_for(model.results)
            self._show_results()

    def _controls_for(self, results: BenchResults) -> None:
        op = self.op_box.currentData()
        ops = results.ops()
        if ops and op not in ops:
            op = ops[0]  # a file of another op: show what it holds
        if ops:
            # the controls say what the figures are of, so Run measures the same again here
            impls = [i for i in results.impls(op) if self.impl_boxes[i].isEnabled()] or results.impls(op)
            self._set_controls({"op": op, "sizes": results.sizes(op)[:scenarios.MAX_SPEED_SIZES], "impls": impls})

    def load_results(self, path) -> bool:
        """Show the figures in ``path`` (labelled with it and their machine); False with an inline message."""
        path = Path(path)
        if self.runner.running:
            self.file_message.show_message("Wait for the run to finish (or cancel it) before opening results.")
            return False
        try:
            results = BenchResults.load(path)
        except SpeedError as e:
            self.file_message.show_message(_sentence(str(e)) + " The figures shown before stay.")
            return False
        self.file_message.clear()
        self.speed.take(results, path)
        ops = results.ops()
        where = results.machine.gpu or results.machine.cpu
        self._scenario_title = (f"{speed.sweep_title(ops[0], results.sizes(ops[0]))}, measured on {where}"
                                if ops else f"Speed measured on {where}")
        self._scenario_sweep = _sweep_of({"op": ops[0], "sizes": results.sizes(ops[0])}) if ops else None
        self._own_title = True
        self._show_results()
        self._update_buttons()
        self._set_status(f"showing results loaded from {path.name}")
        return True

    def save_results(self, path) -> bool:
        """Save the shown figures with their machine (JSON); False with an inline message."""
        if self.results is None:
            self.file_message.show_message("Nothing to save yet: press Run first.")
            return False
        path = Path(path)
        try:
            self.results.save(path)
        except (OSError, ValueError) as e:
            self.file_message.show_message(f"Could not save {path.name}: {getattr(e, 'strerror', None) or e}.")
            return False
        self.file_message.clear()
        self.speed.saved_as(path)
        self._set_status(f"results saved to {path.name}")
        return True

    def _ask_load(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open benchmark results", "", "Benchmark results (*.json)")
        if path:
            self.load_results(path)

    def _ask_save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save benchmark results", "speed-results.json",
                                              "Benchmark results (*.json)")
        if path:
            if not path.lower().endswith(".json"):
                path += ".json"
            self.save_results(path)

    def copy_csv(self) -> str:
        """Copy the results as CSV (with the machine line); returns the text."""
        return self.table.copy_csv()

    # -- showing --------------------------------------------------------------------------------

    def shown_results(self) -> BenchResults | None:
        """What the figures draw now: the run's measurements so far while it runs, else :attr:`results`."""
        return self.speed.shown_results()

    def _shown_op(self, results) -> str:
        op = self.op_box.currentData()
        if self.runner.running and self.speed.request is not None:
            return self.speed.request[0]
        if results is not None and results.ops() and op not in results.ops():
            return results.ops()[0]
        return op

    def _show_results(self) -> None:
        results = self.shown_results()
        op = self._shown_op(results)
        measured = [m for m in results.measurements if m.op == op] if results is not None else []
        have = any(m.measured for m in measured)
        self.title_label.setText(self._scenario_title)
        self.caption_label.setVisible(self.slide and bool(self.caption))
        # the CPU-vs-GPU figure gives the room to the reference view; the sweep's plots stay in the table
        cpu_vs_gpu = self.figure == "cpu-vs-gpu" and op == "layer" and not self.runner.running
        # visible first: axes laid out while hidden keep their old sizes until another paint
        self.plots.setVisible(have and not cpu_vs_gpu)
        self.empty_label.setVisible(not have and not cpu_vs_gpu)
        self.plots.set_results(results if have else None, op)
        self.table.set_results(results, op)
        if self.runner.running:
            self.empty_label.setText("Measuring… the first figures appear as soon as they are timed.")
        elif measured and not have:
            self.empty_label.setText("Nothing could be measured: every implementation was skipped (reasons below).")
        else:
            self.empty_label.setText(EMPTY_TEXT)
        self._show_headline(results, op)
        self._show_source(results)
        self._show_reference(results if have else None, op)
        self._show_skipped(measured)
        self._update_buttons()

    def _show_reference(self, results, op: str) -> None:
        """The CPU-vs-GPU view, for the dense layer's examples per second (the lecture's table is of those).

        Below the layer's plots in the normal look; on a slide only where the scenario asks for it
        (``[view] figure = "cpu-vs-gpu"``), where it is the figure: a slide has no room for both.
        """
        show = op == "layer" and not self.runner.running and (self.figure == "cpu-vs-gpu" or not self.slide)
        if show and self._reference_table is None:
            from ...model.reference_table import lecture_table

            try:
                self._reference_table = lecture_table()
            except (SpeedError, FileNotFoundError):
                show = False  # a broken install: the rest of the panel still works
        self.reference_view.setVisible(show)
        if show:
            self.reference_view.brief = self.slide
            self.reference_view.set_figures(self._reference_table, results)

    def _show_source(self, results) -> None:
        if results is None:
            self.source_label.setText("")
            self.source_label.setVisible(False)
            return
        self.source_label.setVisible(True)
        if results.source == "running":
            self.source_label.setText("Measuring on this machine…")
            return
        when = (results.created or "")[:10]
        if results.machine.cpu == "unknown" and results.machine.cores == 0:
            where = "this machine (the run was cancelled before the worker described it)" if not results.loaded \
                else "an unknown machine (the file does not describe it)"
        else:
            where = results.machine.label()
        where += f" — {when}" if when else ""
        origin = self._origin(results)
        if origin == "shipped" and self.slide and self.lecture:  # one line over the figure
            text = f"Shipped with gpuviz, measured on {where}, not this machine"
        elif origin == "shipped":
            text = f"Shipped with gpuviz, measured on: {where} (not this machine: Run measures here)"
        elif origin == "file":
            text = f"Loaded from {Path(results.source).name}, measured on: {where}"
        else:  # measured here, or kept in this session's own temporary file: never "loaded from" it
            text = f"Measured on: {where}"
        if results.cancelled:
            text += " (run cancelled: only what finished before)"
        self.source_label.setText(text)

    def _origin(self, results) -> str:
        """Where shown results come from: ``"here"`` (measured, or this session's temporary file),
        ``"shipped"`` (the app's own assets) or ``"file"`` (a file someone saved)."""
        return self.speed.origin(results, assets_dir() / "results")

    def _show_headline(self, results, op: str) -> None:
        ratio, medians = headline(results, op)
        if self.figure == "cpu-vs-gpu" and op == "layer" and not self.runner.running:
            ratio, medians = "", ""  # the figure is the two charts: a batch-size headline would talk past it
        figure_first = self.slide and self.lecture
        self.ratio_label.setText(ratio)
        self.ratio_label.setVisible(bool(ratio))
        self.title_label.setVisible(not (figure_first and ratio))
        self.medians_label.setText(medians)
        self.medians_label.setVisible(bool(medians) and not figure_first)
        shown = [m for m in results.measurements if m.op == op] if results is not None else []
        noisy = speed.noisy_summary(shown, short=self.slide)
        self.noisy_label.setText(f"⚠ {noisy}" if noisy else "")
        self.noisy_label.setToolTip(speed.noisy_summary(shown) or "")
        self.noisy_label.setVisible(bool(noisy) and not figure_first)

    def _show_skipped(self, measured) -> None:
        lines = skipped_lines(measured)
        self.skipped_label.set_parts("Not measured (not plotted):", lines)
        self.skipped_label.setVisible(bool(lines) and not self.slide)

    def _set_status(self, text: str) -> None:
        self._status = text
        self.run_status.setText(text)
        self.status_changed.emit(text)

    # -- scenarios ------------------------------------------------------------------------------

    def scenario(self, title: str):
        request = self.speed.request
        if request is None:
            impls = self.chosen_impls() or list(DEMO_PARAMS["impls"])
            try:
                sizes = list(parse_sizes(self.sizes_field.text()))
            except grammar.TextError:
                sizes = list(speed.DEFAULT_SIZES[self.op_box.currentData()])
            params = {"op": self.op_box.currentData(), "sizes": sizes, "impls": impls}
        else:
            params = {"op": request[0], "sizes": list(request[1]), "impls": list(request[2])}
        view = {"results": str(self.speed.results_file)} if self.results is not None and self.speed.results_file else {}
        if self.figure != "sweep":
            view["figure"] = self.figure
        return scenarios.Scenario("speed", self._scenario_title if self._own_title else title, params, view=view)

    def scenario_for_file(self, path, title: str):
        """The scenario to save as ``path``: results measured in this session are saved beside it first.

        Measurements live in a temporary file until saved; a scenario file naming that file would point at
        nothing after the app closes, so File → Save scenario writes them to ``<stem>.results.json`` next to
        the scenario and names that (relative, so the two files can be moved together).
        """
        scenario = self.scenario(title)
        if not self.speed.unsaved:
            return scenario
        target = Path(path).with_name(f"{Path(path).stem}.results.json")
        self.results.save(target)  # atomic; raises OSError/ValueError, which the window shows inline
        self.speed.saved_as(target)
        return scenarios.Scenario("speed", scenario.title, scenario.params, view={"results": target.name})

    def apply_scenario(self, scenario) -> None:
        if getattr(scenario, "panel", None) != "speed":
            raise ScenarioError(getattr(scenario, "path", None),
                                f"is a {getattr(scenario, 'panel', None)!r} scenario, not one for the speed panel")
        scenarios.check_scenario(scenario)
        path = speed_results_path(scenario)
        results = None
        if path is not None:
            try:
                results = BenchResults.load(path)
            except SpeedError as e:
                raise ScenarioError(scenario.path, f"[view] results: {e}") from None
        if self.runner.running:
            self.runner.cancel()
        self._set_controls(scenario.params.to_dict())
        for w in (self.sizes_message, self.impls_message, self.run_message, self.file_message):
            w.clear()
        self._scenario_title = scenario.title
        self._scenario_sweep = _sweep_of(scenario.params.to_dict())
        self._own_title = False
        self.figure = scenario.view.get("figure", "sweep") if isinstance(scenario.view, dict) else "sweep"
        self.outcome = ""
        if results is not None:
            self.speed.take(results, path)
        else:
            self.speed.clear()
        if results is not None and is_session_file(path, self.speed.temp_folder):
            self._set_status(f"{scenario.title}: measured in this session")
        elif results is not None:
            self._set_status(f"{scenario.title}: results loaded from {path.name}")
        else:
            self._set_status(f"{scenario.title}: not measured yet, press Run (Space)")

    def presets(self) -> list:
        found, _errors = scenarios.load_presets("speed")
        if found:
            return found
        return [scenarios.Scenario("speed", DEMO_TITLE, dict(DEMO_PARAMS))]

    def shutdown(self) -> None:
        self._lookup.close()
        self._live_timer.stop()
        self._paint_timer.stop()
        self.runner.shutdown()
        self.speed.close()


def _sentence(text: str) -> str:
    text = " ".join(str(text).split())
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


__all__ = ["DEMO_PARAMS", "DEMO_TITLE", "ElidedLines", "SpeedPanel", "format_sizes", "headline", "parse_sizes",
           "skipped_lines"]
