"""The Grid → Block → Warp → Thread tree, in sync with the scene's selected thread, and its details.

The tree is a lazy :class:`QAbstractItemModel`: nothing is created per block or
thread, rows exist only as numbers until the view asks to draw them, so a
4096×4096 product (65,536 blocks of 256 threads) costs what a 32×32 one does.
Grids of more than :data:`GROUP_ROWS_ABOVE` blocks get one more level, a row of
blocks (one ``blockIdx.y``), so no node ever has more children than a row of
the grid has blocks.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QAbstractItemModel, QModelIndex, Qt
from PyQt6.QtWidgets import QAbstractItemView, QFormLayout, QGroupBox, QLabel, QTreeView, QVBoxLayout, QWidget

from ...model.accesses import block_threads
from ...model.grid_view import block_label, block_of_number, thread_label, warp_label, warp_threads_range
from ...model.launch import WARP_SIZE
from ..style import apply_theme, fill_with_scroll_area, font, mix, qcolor, subscribe
from ..theme import Theme

GRID, ROW, BLOCK, WARP, THREAD = range(5)
GROUP_ROWS_ABOVE = 1024
_ROOT = QModelIndex()


def _pack(level: int, b: int = 0, w: int = 0, lane: int = 0) -> int:
    return level + 8 * (lane + WARP_SIZE * (w + 32 * b))


def _unpack(node: int) -> tuple[int, int, int, int]:
    level, rest = node % 8, node // 8
    lane, rest = rest % WARP_SIZE, rest // WARP_SIZE
    return level, rest // 32, rest % 32, lane


class HierarchyModel(QAbstractItemModel):
    """Grid → (row of blocks →) Block → Warp → Thread of a scene's launch, one column, computed on demand.

    Node ids pack (level, linear block, warp, lane); a row node's "block" is its ``blockIdx.y``.
    """

    def __init__(self, scene, parent=None):
        super().__init__(parent)
        self.scene = scene
        self.theme: Theme | None = None
        self._path: tuple[int, int, int] = (-1, -1, -1)
        self._launch = None
        self.reset()

    # -- structure ------------------------------------------------------------------------------

    def reset(self) -> None:
        self.beginResetModel()
        self._launch = self.scene.launch
        self._busy_cache: dict[int, np.ndarray] = {}
        sel = self.scene.selected
        self._path = (sel.block_linear, sel.warp, sel.lane)
        self.endResetModel()

    @property
    def grouped(self) -> bool:
        return self._launch.blocks > GROUP_ROWS_ABOVE

    def _block_row(self, b: int) -> int:
        """Row of block ``b`` under its parent."""
        return b % self._launch.grid.x if self.grouped else b

    def node_index(self, level: int, b: int = 0, w: int = 0, lane: int = 0) -> QModelIndex:
        """The index of a node: the grid, a row of blocks (``b`` = blockIdx.y), a block, warp or thread."""
        row = {GRID: 0, ROW: b, BLOCK: self._block_row(b) if level == BLOCK else 0, WARP: w, THREAD: lane}[level]
        return self.createIndex(row, 0, _pack(level, b, w, lane))

    def thread_index(self, block_linear: int, warp: int, lane: int) -> QModelIndex:
        return self.node_index(THREAD, block_linear, warp, lane)

    def node(self, index: QModelIndex) -> tuple[int, int, int, int]:
        """(level, block or row, warp, lane) of ``index``."""
        return _unpack(index.internalId())

    def index(self, row, column, parent=_ROOT):
        if column != 0 or row < 0 or row >= self.rowCount(parent):
            return QModelIndex()
        if not parent.isValid():
            return self.createIndex(row, 0, _pack(GRID))
        level, b, w, _ = self.node(parent)
        if level == GRID:
            return self.createIndex(row, 0, _pack(ROW, row) if self.grouped else _pack(BLOCK, row))
        if level == ROW:
            return self.createIndex(row, 0, _pack(BLOCK, b * self._launch.grid.x + row))
        if level == BLOCK:
            return self.createIndex(row, 0, _pack(WARP, b, row))
        return self.createIndex(row, 0, _pack(THREAD, b, w, row))

    def parent(self, index=_ROOT):
        if not index.isValid():
            return QModelIndex()
        level, b, w, _ = self.node(index)
        if level == GRID:
            return QModelIndex()
        if level == ROW:
            return self.node_index(GRID)
        if level == BLOCK:
            return self.node_index(ROW, b // self._launch.grid.x) if self.grouped else self.node_index(GRID)
        if level == WARP:
            return self.node_index(BLOCK, b)
        return self.node_index(WARP, b, w)

    def rowCount(self, parent=_ROOT):
        if parent.column() > 0:
            return 0
        if not parent.isValid():
            return 1
        launch = self._launch
        level, _, w, _ = self.node(parent)
        if level == GRID:
            return launch.grid.y if self.grouped else launch.blocks
        if level == ROW:
            return launch.grid.x
        if level == BLOCK:
            return launch.warps_per_block
        if level == WARP:
            return min(WARP_SIZE, launch.block.size - WARP_SIZE * w)
        return 0

    def hasChildren(self, parent=_ROOT):
        return self.rowCount(parent) > 0

    def columnCount(self, parent=_ROOT):
        return 1

    def flags(self, index):
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    # -- what a node says ------------------------------------------------------------------------

    def _busy(self, b: int) -> np.ndarray:
        """Per thread of block ``b`` (linear thread id order): does it compute an element of C?"""
        busy = self._busy_cache.get(b)
        if busy is None:
            g = self._launch.grid
            gx, gy = block_threads(self._launch, (b % g.x, b // g.x))
            r, c = self.scene.mapping.element_of_thread(gx, gy)
            busy = (r < self.scene.problem.m) & (c < self.scene.problem.n)
            if len(self._busy_cache) > 1024:  # only the blocks on screen are ever asked about
                self._busy_cache.clear()
            self._busy_cache[b] = busy
        return busy

    def _idle_text(self, busy: np.ndarray) -> str:
        idle = int((~busy).sum())
        if idle == 0:
            return ""
        return " · all idle" if idle == len(busy) else f" · {idle:,} idle"

    def label(self, index: QModelIndex) -> str:
        level, b, w, lane = self.node(index)
        launch = self._launch
        g, bd = launch.grid, launch.block
        if level == GRID:
            return (f"Grid {g.x}×{g.y} blocks · block {bd.x}×{bd.y} threads · "
                    f"{launch.threads:,} threads, {launch.warps:,} warps")
        if level == ROW:
            return f"Blocks with blockIdx.y = {b} ({g.x:,} blocks)"
        # the lecture's numbering (gpuviz.model.grid_view), as the C grid, the block view and the slide label
        if level == BLOCK:
            bx, by = block_of_number(b, g.x)
            return block_label(bx, by, g.x, long=True) + self._idle_text(self._busy(b))
        if level == WARP:
            first, last = warp_threads_range(w, bd.size)
            return warp_label(w, bd.size) + self._idle_text(self._busy(b)[first:last + 1])
        lin = WARP_SIZE * w + lane
        tx, ty = lin % bd.x, lin // bd.x
        busy = bool(self._busy(b)[lin])
        text = f"{thread_label(lin, lane)} · threadIdx ({tx}, {ty})"
        if busy:
            gx, gy = (b % g.x) * bd.x + tx, (b // g.x) * bd.y + ty
            r, c = self.scene.mapping.element_of_thread(gx, gy)
            text += f" · {_names(self.scene)[2]}[{int(r)}, {int(c)}]"
        else:
            text += " · idle"
        return text

    def _on_path(self, index: QModelIndex) -> bool:
        level, b, w, lane = self.node(index)
        pb, pw, pl = self._path
        g = self._launch.grid
        return {GRID: True, ROW: b == pb // g.x, BLOCK: b == pb, WARP: (b, w) == (pb, pw),
                THREAD: (b, w, lane) == (pb, pw, pl)}[level]

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        level = self.node(index)[0]
        if role == Qt.ItemDataRole.DisplayRole:
            text = self.label(index)
            if level == THREAD and self._on_path(index):
                text = "● " + text + "  (selected)"
            return text
        if role == Qt.ItemDataRole.FontRole and self.theme is not None:
            return font(self.theme, bold=self._on_path(index) and level != GRID)
        if role == Qt.ItemDataRole.ForegroundRole and self.theme is not None and level == THREAD:
            _, b, w, lane = self.node(index)
            if not self._busy(b)[WARP_SIZE * w + lane]:
                t = self.theme
                return qcolor(mix(t.foreground, t.panel_background, 0.55))
        if role == Qt.ItemDataRole.ToolTipRole:
            return {GRID: "The launch: gridDim blocks of blockDim threads",
                    ROW: "One row of the grid of blocks",
                    BLOCK: "A thread block: its threads share shared memory and barriers; click to select "
                           "its thread 0",
                    WARP: "A warp: 32 consecutive linear thread ids, run in SIMT; click to select its lane 0",
                    THREAD: f"One CUDA thread; idle threads lie outside {_names(self.scene)[2]} (edge blocks)"}[level]
        return None

    def set_path(self, block_linear: int, warp: int, lane: int) -> None:
        """Mark the selected thread's path (bold, ●); repaints the nodes that change."""
        old = self._path
        self._path = (block_linear, warp, lane)
        for b, w, lane_ in {old, self._path}:
            if b < 0 or b >= self._launch.blocks:
                continue
            nodes = [self.node_index(BLOCK, b), self.node_index(WARP, b, w), self.node_index(THREAD, b, w, lane_)]
            if self.grouped:
                nodes.append(self.node_index(ROW, b // self._launch.grid.x))
            for ix in nodes:
                self.dataChanged.emit(ix, ix)


class HierarchyView(QWidget):
    """The launch as a Grid → Block → Warp → Thread tree, and the selected thread's details.

    Selecting a block in the tree selects its thread 0 in the scene, a warp its
    lane 0, a thread itself; selecting a thread in the scene (e.g. by clicking C)
    expands its path and selects it here. The selected thread is bold with a ●,
    whatever node of the tree is current.

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
        self._syncing = False
        self.model = HierarchyModel(scene, self)
        self.tree = QTreeView()
        self.tree.setHeaderHidden(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setModel(self.model)
        self.tree.selectionModel().currentChanged.connect(self._tree_current_changed)

        self.details = QGroupBox("Selected thread")
        form = QFormLayout(self.details)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self._fields: dict[str, QLabel] = {}
        self._field_names: dict[str, QLabel] = {}  # "Row of A" etc.: renamed with the scenario's names
        for key, label, tip in (
            ("block", "Block", "blockIdx (x, y) and the block's number in CUDA's linear block order"),
            ("thread", "Thread", "threadIdx (x, y)"),
            ("linear", "Linear id", "threadIdx.x + blockDim.x · threadIdx.y: warps are cut from this order"),
            ("warp", "Warp · lane", "warp = linear id // 32, lane = linear id % 32"),
            ("global", "Global index", "blockIdx · blockDim + threadIdx, per axis (cuda.grid(2))"),
            ("element", "Computes", "The element of C this thread computes, from the kernel's index arithmetic"),
            ("row", "Row of A", "The row of A the thread reads, one element per k"),
            ("col", "Column of B", "The column of B the thread reads, one element per k"),
        ):
            value = QLabel()
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setWordWrap(True)
            value.setToolTip(tip)
            name = QLabel(label + ":")
            name.setToolTip(tip)
            form.addRow(name, value)
            self._fields[key] = value
            self._field_names[key] = name

        # in a scroll area: on a 768-pixel screen the tab's share of the column is shorter than the tree's few
        # rows and the eight details; it scrolls there rather than hold the column (and the window) taller
        content = QWidget()
        lay = QVBoxLayout(content)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.tree, 1)
        lay.addWidget(self.details)
        self.scroll = fill_with_scroll_area(self, content)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        subscribe(self, scene, "_scene_changed")
        self.set_theme(theme)
        self._sync_from_scene()

    # -- public API -------------------------------------------------------------------------------

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        apply_theme(self, theme)
        self.model.theme = theme
        self.details.setFont(font(theme))
        self.tree.setFont(font(theme))
        self.model.layoutChanged.emit()

    def current_node(self) -> tuple[int, int, int, int] | None:
        """(level, block or row, warp, lane) of the tree's current node; None when there is none."""
        ix = self.tree.currentIndex()
        return self.model.node(ix) if ix.isValid() else None

    def field_text(self, key: str) -> str:
        """Text of one details field: block, thread, linear, warp, global, element, row, col."""
        return self._fields[key].text()

    # -- tree → scene ------------------------------------------------------------------------------

    def _tree_current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        if self._syncing or not current.isValid():
            return
        level, b, w, lane = self.model.node(current)
        g = self.scene.launch.grid
        bxy = (b % g.x, b // g.x)
        self._syncing = True
        try:
            if level == BLOCK:
                self.scene.select_thread(bxy, (0, 0))
            elif level == WARP:
                self.scene.select_warp(bxy, w)
            elif level == THREAD:
                bd = self.scene.launch.block
                lin = WARP_SIZE * w + lane
                self.scene.select_thread(bxy, (lin % bd.x, lin // bd.x))
        finally:
            self._syncing = False

    # -- scene → tree ------------------------------------------------------------------------------

    def _scene_changed(self, scene, changes) -> None:
        if "params" in changes:
            self._syncing = True
            try:
                self.model.reset()
            finally:
                self._syncing = False
            self._sync_from_scene()
        elif "selection" in changes:
            self._sync_from_scene()

    def _sync_from_scene(self) -> None:
        sel = self.scene.selected
        b, w, lane = sel.block_linear, sel.warp, sel.lane
        self.model.set_path(b, w, lane)
        self._update_details()
        if self._syncing:
            # the tree started this change: the node the user chose stays current
            return
        current = self.current_node()
        if current is not None and self._covers(current, b, w, lane):
            return
        target = self.model.thread_index(b, w, lane)
        self._syncing = True
        try:
            parent = target.parent()
            while parent.isValid():
                self.tree.expand(parent)
                parent = parent.parent()
            self.tree.setCurrentIndex(target)
            self.tree.scrollTo(target, QAbstractItemView.ScrollHint.PositionAtCenter)
        finally:
            self._syncing = False

    def _covers(self, node, b: int, w: int, lane: int) -> bool:
        """Is ``node`` the selected thread, or a block or warp the scene's selection rule maps to it?"""
        level, nb, nw, nl = node
        if level == THREAD:
            return (nb, nw, nl) == (b, w, lane)
        if level == WARP:
            return (nb, nw) == (b, w) and lane == 0
        if level == BLOCK:
            return nb == b and w == 0 and lane == 0
        return False

    def _update_details(self) -> None:
        sc = self.scene
        sel = sc.selected
        launch = sc.launch
        bd = launch.block
        (bx, by, _), (tx, ty, _) = sel.block, sel.thread
        gx, gy, _ = sel.global_index
        f = self._fields
        a_name, b_name, c_name = _names(sc)
        for key, text, tip in (
                ("element", "Computes", f"The element of {c_name} this thread computes, from the kernel's "
                                        "index arithmetic"),
                ("row", f"Row of {a_name}", f"The row of {a_name} the thread reads, one element per k"),
                ("col", f"Column of {b_name}", f"The column of {b_name} the thread reads, one element per k")):
            self._field_names[key].setText(text + ":")
            self._field_names[key].setToolTip(tip)
            self._fields[key].setToolTip(tip)
        f["block"].setText(f"{block_label(bx, by, launch.grid.x, long=True)} (blocks 0–{launch.blocks - 1:,})")
        f["thread"].setText(f"threadIdx = ({tx}, {ty})")
        f["linear"].setText(f"thread {sel.linear_id} = {tx} + {bd.x}·{ty}")
        f["warp"].setText(f"warp {sel.warp} · lane {sel.lane} ({warp_label(sel.warp, bd.size)})")
        f["global"].setText(f"({gx}, {gy}) = ({bx}·{bd.x} + {tx}, {by}·{bd.y} + {ty})")
        r, c = (int(v) for v in sc.mapping.element_of_thread(gx, gy))
        m, n, k = sc.problem.m, sc.problem.n, sc.problem.k
        if sc.mapping.rows_from_x:
            how = (f"row = blockIdx.x·blockDim.x + threadIdx.x = {r}, "
                   f"col = blockIdx.y·blockDim.y + threadIdx.y = {c}")
        else:
            how = (f"row = blockIdx.y·blockDim.y + threadIdx.y = {r}, "
                   f"col = blockIdx.x·blockDim.x + threadIdx.x = {c}")
        element = sc.element_of_selected()
        if element is None:
            why = f"row {r} ≥ M = {m}" if r >= m else f"col {c} ≥ N = {n}"
            f["element"].setText(f"idle: outside {c_name} ({why})")
            f["row"].setText("— (idle)")
            f["col"].setText("— (idle)")
        else:
            f["element"].setText(f"{c_name}[{r}, {c}]")
            f["row"].setText(f"{a_name}[{r}, 0:{k}] (row {r}, {k:,} elements)")
            f["col"].setText(f"{b_name}[0:{k}, {c}] (column {c}, {k:,} elements)")
        f["element"].setToolTip(how)


def _names(scene) -> tuple[str, str, str]:
    """The scenario's names for A, B and C (default A, B, C)."""
    return tuple(getattr(scene, "names", None) or ("A", "B", "C"))
