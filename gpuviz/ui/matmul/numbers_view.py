"""The numbers of the launch and of the current step: threads, warps, efficiency, loads, FLOPs.

Every figure is :meth:`MatmulScene.numbers` or :meth:`MatmulScene.step_numbers`
(exact counts from the model), formatted here with thousands separators; each
row's tooltip says what it counts. The operands are called by the scene's
names (``W``, ``x``, ``z`` for a dense layer; A, B, C unless a scenario names
them), and a bias the scenario shows is said to be added after the kernel,
outside the counts.
"""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QGridLayout, QGroupBox, QLabel, QVBoxLayout, QWidget

from ...model.text import format_bytes
from ..panel import step_label
from ..style import apply_theme, fill_with_scroll_area, font, mix, qcolor, subscribe
from ..theme import Theme

#: (key, name, explanation) of the launch's rows, in display order; ``{A}``, ``{B}`` and ``{C}`` stand for the
#: operands' names (:attr:`MatmulScene.names`).
LAUNCH_ROWS = (
    ("threads", "Threads launched",
     "gridDim × blockDim: every thread the launch starts, including idle ones"),
    ("busy", "… computing {C}", "Threads whose (row, col) lies inside {C}: one per element of {C}"),
    ("idle", "… idle", "Threads of edge blocks that overhang {C}: launched, but they compute nothing"),
    ("blocks", "Blocks", "Thread blocks in the grid (gridDim.x × gridDim.y)"),
    ("warps", "Warps", "⌈threads per block / 32⌉ per block; idle warps have no lane inside {C}"),
    ("warp_efficiency", "Warp efficiency",
     "Over all steps: lanes that execute the line ÷ 32 × the warps that issue it. Masked lanes (an "
     "if that some lanes of a warp skip, a partial last warp) lower it"),
    ("global_loads", "Global loads", "Element loads from global memory ({A} and {B}) by all threads"),
    ("global_per", "… per element of {C}",
     "Global loads ÷ elements of {C}: 2·K for the naive kernels, less with tiles"),
    ("shared_loads", "Shared loads", "Element loads from shared memory (the tiles sA and sB); 0 without tiles"),
    ("shared_per", "… per element of {C}", "Shared loads ÷ elements of {C}"),
    ("global_stores", "Global stores", "Element stores to {C} in global memory: one per element of {C}"),
    ("shared_stores", "Shared stores", "Element stores to the shared tiles sA and sB, zero fills included"),
    ("flops", "FLOPs", "2·M·N·K: one multiply and one add per term of every dot product"),
    ("bytes", "Bytes loaded",
     "4 bytes × global loads, as the threads ask for them, before any cache (the sectors actually moved are "
     "under Memory transactions)"),
    ("intensity", "Arithmetic intensity",
     "FLOPs per byte loaded from global memory: the higher, the less a kernel waits on memory. Tiles raise it"),
)

#: (key, name, explanation) of the current step's rows.
STEP_ROWS = (
    ("active", "Active threads", "Threads that execute this step's line; the others are masked for this step"),
    ("step_warps", "Warps issuing", "Warps with at least one active lane: each issues the line for all 32 lanes"),
    ("masked", "Masked lanes", "Lanes of issuing warps that sit this line out: 32 × warps issuing − active threads"),
    ("step_efficiency", "Warp efficiency", "Active threads ÷ (32 × warps issuing) in this step"),
    ("step_line", "Computes", "The step's line as the lecture writes it, in the operands' names (the kernel's "
                              "source calls them A, B and C)"),
    ("step_accesses", "Accesses", "Global and shared loads and stores this step makes, one per thread and element"),
)


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def _per(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


class NumbersView(QWidget):
    """The launch's and the current step's numbers, from :meth:`MatmulScene.numbers` and ``step_numbers``.

    Parameters
    ----------
    scene : MatmulScene
    theme : Theme
    parent : QWidget, optional
    """

    def __init__(self, scene, theme: Theme, parent=None):
        super().__init__(parent)
        self.scene = scene
        self._theme = theme
        self._pending: set[str] = set()
        self._values: dict[str, QLabel] = {}
        self._names: dict[str, QLabel] = {}
        self.launch_box = QGroupBox()
        self.step_box = QGroupBox()
        for box, rows in ((self.launch_box, LAUNCH_ROWS), (self.step_box, STEP_ROWS)):
            grid = QGridLayout(box)
            grid.setHorizontalSpacing(12)
            grid.setVerticalSpacing(3)
            grid.setColumnStretch(1, 1)
            for i, (key, name, _) in enumerate(rows):
                n = QLabel(name)
                v = QLabel()
                v.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                v.setWordWrap(key == "step_line")  # a tiled step's line is long
                # names are plain text: a scenario's name never reads as markup
                n.setTextFormat(Qt.TextFormat.PlainText)
                v.setTextFormat(Qt.TextFormat.PlainText)
                grid.addWidget(n, i, 0, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
                grid.addWidget(v, i, 1, Qt.AlignmentFlag.AlignTop)
                self._names[key], self._values[key] = n, v
        self._tips = {key: tip for rows in (LAUNCH_ROWS, STEP_ROWS) for key, _, tip in rows}
        self._row_names = {key: name for rows in (LAUNCH_ROWS, STEP_ROWS) for key, name, _ in rows}
        self.bias_note = QLabel()
        self.bias_note.setWordWrap(True)
        self.bias_note.setTextFormat(Qt.TextFormat.PlainText)
        self.note = QLabel("Exact counts for the whole launch (not sampled). Hover a row for what it counts.")
        self.note.setWordWrap(True)
        content = QWidget()
        lay = QVBoxLayout(content)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.bias_note)
        lay.addWidget(self.launch_box)
        lay.addWidget(self.step_box)
        lay.addWidget(self.note)
        lay.addStretch(1)
        self.scroll = fill_with_scroll_area(self, content)
        subscribe(self, scene, "_scene_changed")
        self.set_theme(theme)

    # -- public API -------------------------------------------------------------------------------

    def value_text(self, key: str) -> str:
        """The text shown for row ``key`` (see :data:`LAUNCH_ROWS`, :data:`STEP_ROWS`)."""
        self._flush()
        return self._values[key].text()

    def name_text(self, key: str) -> str:
        """The name shown for row ``key``, in the scene's operand names."""
        self._flush()
        return self._names[key].text()

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        apply_theme(self, theme)
        self.scroll.widget().setAutoFillBackground(False)
        bold = font(theme, bold=True)
        self.launch_box.setFont(bold)
        self.step_box.setFont(bold)
        for label in (*self._names.values(), *self._values.values(), self.bias_note):
            label.setFont(font(theme))
        pal = self.note.palette()
        pal.setColor(self.note.foregroundRole(), qcolor(mix(theme.foreground, theme.background, 0.7)))
        self.note.setPalette(pal)
        self.note.setFont(font(theme, scale=0.9))
        self._refresh_launch()
        self._refresh_step()

    # -- internals --------------------------------------------------------------------------------

    def _scene_changed(self, scene, changes) -> None:
        self._pending |= changes
        if self.isVisible():  # a hidden view (a background tab) catches up when it is shown
            self._flush()

    def showEvent(self, event):
        super().showEvent(event)
        self._flush()

    def _flush(self) -> None:
        changes, self._pending = self._pending, set()
        if "params" in changes:
            self._refresh_launch()
        if "params" in changes or "step" in changes:
            self._refresh_step()

    def _names_of_scene(self) -> dict[str, str]:
        a, b, c = self.scene.names
        return {"A": a, "B": b, "C": c}

    def _refresh_names(self) -> None:
        """Row names and tooltips in the operands' names; the bias's note."""
        names = self._names_of_scene()
        for key, label in self._names.items():
            tip = self._tips[key].format(**names)
            label.setText(self._row_names[key].format(**names))
            label.setToolTip(tip)
            if key != "bytes":  # its value's tooltip adds the exact byte count
                self._values[key].setToolTip(tip)
        bias = self.scene.bias
        self.bias_note.setVisible(bool(bias))
        if bias:
            a, b, c = names["A"], names["B"], names["C"]
            p = self.scene.problem
            self.bias_note.setText(
                f"{c} = {a}·{b} + {bias}: the kernel counted below computes {a}·{b}; the bias {bias} "
                f"({p.m:,}×1, one per row of {c}) is added after it, {p.m * p.n:,} more additions that are "
                f"not part of this launch.")

    def _refresh_launch(self) -> None:
        sc = self.scene
        nb = sc.numbers()
        v = self._values
        self._refresh_names()
        # as short as before names existed: a group box's title is cut, never wrapped, in a narrow column
        self.launch_box.setTitle(f"Whole launch · {nb.kernel} · {self.scene.names[2]} {nb.m:,}×{nb.n:,}, "
                                 f"K = {nb.k:,}")
        v["threads"].setText(f"{nb.threads:,} = {nb.blocks:,} × {nb.threads_per_block:,}")
        v["busy"].setText(f"{nb.busy_threads:,}")
        v["idle"].setText(f"{nb.idle_threads:,} ({_pct(nb.idle_threads / nb.threads)})" if nb.idle_threads else "0")
        v["blocks"].setText(f"{nb.blocks:,} ({nb.grid[0]:,}×{nb.grid[1]:,} of {nb.block[0]}×{nb.block[1]})")
        v["warps"].setText(f"{nb.warps:,} ({nb.warps_per_block:,} per block)"
                           + (f" · {nb.idle_warps:,} idle" if nb.idle_warps else ""))
        v["warp_efficiency"].setText(_pct(nb.warp_efficiency))
        v["global_loads"].setText(f"{nb.global_loads:,}")
        v["global_per"].setText(_per(nb.global_loads_per_element))
        v["shared_loads"].setText(f"{nb.shared_loads:,}")
        v["shared_per"].setText(_per(nb.shared_loads_per_element))
        v["global_stores"].setText(f"{nb.global_stores:,}")
        v["shared_stores"].setText(f"{nb.shared_stores:,}")
        v["flops"].setText(f"{nb.flops:,}")
        v["bytes"].setText(format_bytes(nb.bytes_loaded))
        v["bytes"].setToolTip(f"{nb.bytes_loaded:,} bytes. " + self._tips["bytes"])
        v["intensity"].setText(f"{nb.arithmetic_intensity:.2f} FLOP/byte")

    def _refresh_step(self) -> None:
        sc = self.scene
        st = sc.step_numbers()
        v = self._values
        total = st.active_threads + st.inactive_threads
        self.step_box.setTitle(f"This step · {step_label(sc.step, sc.n_steps - 1)} · {st.role.replace('_', ' ')}")
        v["active"].setText(f"{st.active_threads:,} of {total:,}")
        v["step_warps"].setText(f"{st.active_warps:,}")
        v["masked"].setText(f"{st.masked_lanes:,}")
        v["step_efficiency"].setText(_pct(st.warp_efficiency) if st.active_warps else "— (no warp issues it)")
        v["step_line"].setText(sc.step_text())
        parts = [(st.global_loads, "global loads"), (st.shared_loads, "shared loads"),
                 (st.global_stores, "global stores"), (st.shared_stores, "shared stores")]
        shown = [f"{n:,} {what}" for n, what in parts if n]
        v["step_accesses"].setText(" · ".join(shown) if shown else "none (a barrier: threads wait)")
