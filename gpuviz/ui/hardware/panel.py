"""The Hardware panel: a matmul launch on a GPU preset — its SMs wave by wave, occupancy, roofline, banks.

A view of :class:`gpuviz.model.hardware.panel.HardwareModel`: the model computes
every figure (occupancy equal to NVIDIA's calculator, the waves of the
schedule model, the kernels' intensities, the recorded transpose pair's bank
conflicts); this module draws them and turns the controls into model calls.
"""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ...model import scenario as scenarios
from ...model.hardware import builtin_presets
from ...model.hardware.link import MatmulLink
from ...model.hardware.panel import ASSUMED_REGISTERS, MAX_SIDE, HardwareError, HardwareModel, HardwareParams
from ...model.hardware.roofline import NO_CACHE_NOTE
from ...model.launch import Dim3, LaunchError
from ...model.matmul import KERNELS
from ..panel import Panel, Roles
from ..style import FieldMessage, apply_theme, font, hex_colour, preset_combo, subscribe
from ..theme import LIGHT, Theme
from ..timeline import StepTimeline
from .canvas import SMGrid
from .charts import BankPair, RooflineChart

SPEEDS = (1, 2, 4, 8, 16, 30)


class HardwarePanel(Panel):
    """SM view, occupancy and waves, roofline and bank conflicts of one launch (see the module docstring)."""

    panel_id = "hardware"
    title = "The hardware"
    follows = ("matmul",)

    def __init__(self, model: HardwareModel | None = None, parent=None, theme: Theme = LIGHT):
        super().__init__(parent)
        self._model = model or HardwareModel()
        # a broken preset file is skipped by load_presets itself, never raised
        self._presets = scenarios.load_presets("hardware")[0]
        self._description = ""
        self._scenario_title = "The hardware"
        self._syncing = False
        self._link = None

        # -- side bar: controls and details
        self._side = QWidget()
        side = QVBoxLayout(self._side)
        self.preset_box = preset_combo(self._presets, self._preset_chosen)
        side.addWidget(self.preset_box)
        form = QFormLayout()
        # each label over its field: the side bar is narrow, and a field beside a long label would be cut off
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
        self.gpu_box = QComboBox()
        for p in builtin_presets():
            self.gpu_box.addItem(p.name, p.name)
        self.gpu_box.activated.connect(lambda _i: self._apply(gpu=self.gpu_box.currentData()))
        self.kernel_box = QComboBox()
        for k in KERNELS:
            self.kernel_box.addItem(k, k)
        self.kernel_box.activated.connect(lambda _i: self._apply(kernel=self.kernel_box.currentData()))
        self.size_spins = {}
        for key in ("m", "n", "k"):
            spin = QSpinBox()
            spin.setRange(1, MAX_SIDE)
            spin.setKeyboardTracking(False)
            spin.valueChanged.connect(lambda v, key=key: self._apply(**{key: v}))
            self.size_spins[key] = spin
        self.block_edit = QLineEdit()
        self.block_edit.setToolTip("Threads per block, e.g. 16x16 or 32x8 (the tiled kernel needs a square block)")
        self.block_edit.editingFinished.connect(self._block_edited)
        self.regs_spin = QSpinBox()
        self.regs_spin.setRange(0, 255)
        self.regs_spin.setSpecialValueText(f"assumed ({ASSUMED_REGISTERS})")
        self.regs_spin.setKeyboardTracking(False)
        self.regs_spin.valueChanged.connect(lambda v: self._apply(registers=v or None))
        self.smem_spin = QSpinBox()
        self.smem_spin.setRange(-1, 232448)
        self.smem_spin.setSingleStep(1024)
        self.smem_spin.setSpecialValueText("the kernel's own")
        self.smem_spin.setSuffix(" B")
        self.smem_spin.setKeyboardTracking(False)
        self.smem_spin.valueChanged.connect(lambda v: self._apply(shared_memory=None if v < 0 else v))
        form.addRow("GPU", self.gpu_box)
        form.addRow("kernel", self.kernel_box)
        for key, spin in self.size_spins.items():
            form.addRow(key.upper(), spin)
        form.addRow("block", self.block_edit)
        form.addRow("registers / thread", self.regs_spin)
        form.addRow("shared memory / block", self.smem_spin)
        side.addLayout(form)
        self.run_button = QPushButton("Load a gpu_check run…")
        self.run_button.setToolTip("A FILE.hardware.json written by scripts/gpu_check.py --save on a machine with a "
                                   "GPU: registers per thread as compiled, and measured points on the roofline")
        self.run_button.clicked.connect(self._choose_run)
        side.addWidget(self.run_button)
        self.message = FieldMessage()
        side.addWidget(self.message)
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        side.addWidget(self.details)
        self.preset_text = QLabel()
        self.preset_text.setWordWrap(True)
        side.addWidget(self.preset_text)
        # lecture mode gives the figure the screen: the roofline's footnote then reads in the drawer (F6)
        self.drawer_note = QLabel()
        self.drawer_note.setWordWrap(True)
        self.drawer_note.hide()
        side.addWidget(self.drawer_note)
        side.addStretch(1)
        self.side_scroll = QScrollArea()
        self.side_scroll.setWidgetResizable(True)
        self.side_scroll.setWidget(self._side)

        # -- the figure: SM grid over the roofline and the bank pair
        self.figure = QWidget()
        fig = QVBoxLayout(self.figure)
        fig.setContentsMargins(4, 4, 4, 4)
        self.slide_title = QLabel()
        self.slide_title.hide()
        self.slide_caption = QLabel()
        self.slide_caption.setWordWrap(True)
        self.slide_caption.hide()
        self.headline = QLabel()
        self.headline.setWordWrap(True)
        self.grid = SMGrid(theme)
        self.grid.block_clicked.connect(self._model.select_block)
        self.timeline = StepTimeline(theme, SPEEDS, 4)
        self.schedule_note = QLabel(self._model.schedule_note)
        self.schedule_note.setWordWrap(True)
        self.roofline = RooflineChart(theme)
        self.roofline.setMinimumHeight(120)
        self.banks = BankPair(theme)
        self.roofline_note = QLabel(NO_CACHE_NOTE)
        self.roofline_note.setWordWrap(True)
        lower = QHBoxLayout()
        lower.addWidget(self.roofline, 3)
        lower.addWidget(self.banks, 2)
        fig.addWidget(self.slide_title)
        fig.addWidget(self.slide_caption)
        fig.addWidget(self.headline)
        fig.addWidget(self.grid, 3)
        fig.addWidget(self.schedule_note)
        fig.addLayout(lower, 2)
        fig.addWidget(self.roofline_note)

        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.figure, 1)
        rl.addWidget(self.timeline)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.side_scroll)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.splitter)

        self.timeline.follow(self._model, lambda m: m.step_text())
        subscribe(self, self._model, "_model_changed")
        self.set_theme(theme)  # draws what depends on the params (the roofline) once
        self._model_changed(self._model, frozenset({"step", "selection"}))

    # -- model ---------------------------------------------------------------------------------------

    @property
    def model(self) -> HardwareModel:
        return self._model

    def _apply(self, **changes) -> None:
        if self._syncing:
            return
        try:
            self._model.update(**changes)
        except HardwareError as e:
            self.message.show_message(str(e))
            return
        self.message.clear()

    def _block_edited(self) -> None:
        try:
            d = Dim3.parse(self.block_edit.text())
        except LaunchError as e:
            self.message.show_message(str(e))
            return
        if d.z != 1:
            self.message.show_message("a matmul block is two-dimensional (x × y)")
            return
        self._apply(block=(d.x, d.y))

    def load_run(self, path) -> None:
        """Take registers and measured points from a saved gpu_check run; a bad file is an inline message."""
        try:
            self._model.load_run(path)
        except HardwareError as e:
            self.message.show_message(str(e))
            return
        self.message.clear()

    def _choose_run(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load a gpu_check run", "", "gpu_check runs (*.hardware.json)")
        if path:
            self.load_run(path)

    def _sync_controls(self) -> None:
        m = self._model
        p = m.params
        self._syncing = True
        try:
            self.gpu_box.setCurrentIndex(max(0, self.gpu_box.findText(self._model.preset.name)))
            self.kernel_box.setCurrentIndex(max(0, self.kernel_box.findData(p.kernel)))
            for key, spin in self.size_spins.items():
                spin.setValue(getattr(p, key))
            self.block_edit.setText(f"{p.block[0]}x{p.block[1]}")
            run_regs = m._run_registers()
            self.regs_spin.setSpecialValueText(f"from run ({run_regs})" if run_regs
                                               else f"assumed ({ASSUMED_REGISTERS})")
            self.regs_spin.setValue(p.registers or 0)
            self.smem_spin.setMaximum(self._model.preset.shared_memory_per_block_optin)
            self.smem_spin.setValue(-1 if p.shared_memory is None else p.shared_memory)
        finally:
            self._syncing = False

    def _model_changed(self, model, changes) -> None:
        m = self._model
        if "params" in changes:
            self._sync_controls()
            preset = self.preset_box.currentData()
            if preset is not None and preset.params != m.params:  # no longer that example (matmul moved it)
                self.preset_box.setCurrentIndex(0)
                self.preset_text.setText("")
            self.roofline.draw(m.roofs(), m.roofline_points, m.measured_points(),
                               title=f"roofline of the {m.preset.label}")
            note = m.roofline_note()
            self.roofline_note.setText(
                (f"{note} " if note else "") + f"Roofline — {NO_CACHE_NOTE}; a kernel's point is the roof at its "
                "intensity (the most it could reach), not a measurement. Bank conflicts — the shared-memory "
                "transpose recorded in the simulator: the worst warp request of each tile, lane by bank.")
            self.drawer_note.setText(self.roofline_note.text())
        if changes & {"params", "step", "selection"}:
            frame = m.frame()
            self.grid.show_frame(frame.placement, m.preset.sm_count, m.preset.fp32_cores_per_sm or 0,
                                 m.launch.grid.x, m.selected_block)
            lines = m.figures()
            sel = m.selected_block
            if sel is not None:
                wave, sm, slot = m.waves.locate(sel)
                bx, by, _ = m.block_index(sel)
                lines.append(f"selected block ({bx}, {by}) = #{sel:,}: wave {wave}, SM {sm}, slot {slot}")
            self.details.setText("\n".join(lines))
            o = m.occupancy
            blocks = "1 block" if o.active_blocks == 1 else f"{o.active_blocks} blocks"
            self.headline.setText(f"{m.preset.label}: {blocks} × {m.preset.sm_count} SMs per wave, "
                                  f"occupancy {o.occupancy:.0%} — {m.step_text()}")
            self.status_changed.emit(m.step_text())

    # -- look -----------------------------------------------------------------------------------------

    def set_theme(self, theme: Theme) -> None:
        super().set_theme(theme)
        self._restyle()

    def _restyle(self) -> None:
        t = self.look()
        apply_theme(self, t)
        self.grid.set_theme(t)
        self.roofline.set_theme(t)
        self.banks.set_theme(t)
        self.banks.show_pair(self._model.transpose_conflicts())
        self.message.set_theme(t)
        self.timeline.set_theme(t)
        self.headline.setFont(font(t, bold=True, scale=1.1))
        self.slide_title.setFont(font(t, bold=True, scale=1.9))
        self.slide_caption.setFont(font(t, scale=1.3))
        for lab in (self.schedule_note, self.roofline_note):
            lab.setFont(font(t, scale=0.9))  # 18 px on a slide, the least a slide's text may be
            lab.setStyleSheet(f"color: {hex_colour(t.foreground)};")
        if self.theme is not None:
            self._model_changed(self._model, frozenset({"params"}))

    def roles(self) -> Roles:
        return Roles(figure=(self.figure,), controls=(self.side_scroll, self.timeline))

    def set_slide(self, on: bool) -> None:
        if self.toggle_titled_slide(on):
            self._restyle()
            self._update_slide_text()
        self._place_lecture()

    def set_lecture(self, on: bool) -> None:
        """The slide look with the figure first: the SM grid and the charts take the screen; the slide's title
        (the tab and the headline say what is shown) and the roofline's footnote, which the drawer (F6) shows
        beside the controls, make room for them."""
        on = bool(on)
        if on == self.lecture:
            return
        self.lecture = on
        if self.slide != on:
            self.set_slide(on)
        self._place_lecture()

    def _place_lecture(self) -> None:
        figure_first = self.slide and self.lecture
        self.slide_title.setVisible(self.slide and not figure_first)
        self.roofline_note.setVisible(not figure_first)
        self.drawer_note.setVisible(figure_first)

    def set_caption(self, text: str | None) -> None:
        super().set_caption(text)
        self._update_slide_text()

    def _update_slide_text(self) -> None:
        self.update_slide_title()

    def _side_width(self) -> int:
        return int(330 * max(1.0, self.look().font_scale ** 0.6))

    def resizeEvent(self, event):
        super().resizeEvent(event)
        # the SM grid is the figure: the charts under it take what is left
        self.grid.setMinimumHeight(int(self.height() * 0.3))
        width = self._side_width()
        self.side_scroll.setMinimumWidth(width)
        self.splitter.setSizes([width, max(400, self.width() - width)])

    # -- the Panel contract ---------------------------------------------------------------------------

    def _preset_chosen(self, index: int) -> None:
        s = self.preset_box.itemData(index)
        if s is not None:
            self.apply_scenario(s)

    def scenario(self, title: str):
        view = {"step": self._model.step}
        if self._model.selected_block is not None:
            view["block"] = self._model.selected_block
        s = scenarios.Scenario("hardware", title, self._model.params, self._description, view)
        scenarios.check_scenario(s)
        return s

    def apply_scenario(self, scenario) -> None:
        """Show ``scenario``; raises ScenarioError (and keeps the picture) when it cannot."""
        if scenario.panel != self.panel_id:
            raise scenarios.ScenarioError(scenario.path, f"is a {scenario.panel!r} scenario, "
                                                         "not one for the hardware panel")
        scenarios.check_scenario(scenario)
        self.timeline.pause()
        # the example's entry first, so the params change that follows finds the combo box already on it
        i = self.preset_box.findText(scenario.title)
        self.preset_box.setCurrentIndex(max(i, 0))
        self._model.set_params(scenario.params)
        self._model.select_block(scenario.view.get("block"))
        self._model.set_step(scenario.view.get("step", 0))
        self.message.clear()
        self._description = scenario.description
        self.preset_text.setText(scenario.description)
        self._scenario_title = scenario.title
        self._update_slide_text()

    def presets(self) -> list:
        return list(self._presets)

    def link_panels(self, panels) -> None:
        """Follow the matmul panel among ``panels`` (its launch and selected block; see :class:`MatmulLink`)."""
        matmul = next((p for p in panels if getattr(p, "panel_id", "") == "matmul" and p.model is not None), None)
        if matmul is not None and self._link is None:
            self._link = MatmulLink(matmul.model, self._model)
            # built after matmul changed (the window builds its tabs when first shown): start from its launch
            self._link.follow_now()

    def shutdown(self) -> None:
        self.timeline.pause()
        if self._link is not None:
            self._link.close()
            self._link = None


__all__ = ["HardwarePanel", "HardwareParams"]
