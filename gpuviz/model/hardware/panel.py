"""The Hardware panel's model: a matmul launch on a GPU preset — SMs, occupancy, waves, roofline, banks.

Qt-free (DESIGN.md, the panel protocol): typed parameters read from a scenario's
``[params]`` (:class:`HardwareParams`), the timeline (one step = one wave of the
schedule model), the selected block, and everything the view draws.

Changes emitted: ``"params"`` (launch, GPU or resources changed; the step may
have moved too), ``"step"``, ``"selection"``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from .. import panel
from ..events import Observable
from ..launch import LaunchError
from ..matmul import KERNELS, MatmulProblem, ShapeError, launch_for
from .banks import BankConflicts, bank_conflicts, shipped_transpose_trace
from .occupancy import Occupancy, OccupancyError, occupancy
from .presets import GpuPreset, PresetError, find_preset
from .roofline import GpuRun, KernelPoint, RooflineError, Roofs, kernel_point
from .waves import SCHEDULE_MODEL, Waves

PARAM_KEYS = ("gpu", "kernel", "m", "n", "k", "block", "registers", "shared_memory")

#: Registers per thread when no real figure is at hand: said on screen as assumed, never as measured.
ASSUMED_REGISTERS = 32

#: The largest product side the panel accepts (the launch's waves are computed, nothing is run).
MAX_SIDE = 65536


class HardwareError(panel.ParamsError):
    """Parameters the Hardware panel refuses; one sentence, with the field it belongs to."""


def kernel_shared_memory(kernel: str, block) -> int:
    """Bytes of shared memory a built-in kernel declares per block (the tiled kernel's sA and sB)."""
    return 2 * block[0] * block[0] * 4 if kernel == "tiled" else 0


@dataclass(frozen=True)
class HardwareParams:
    """A ``panel = "hardware"`` scenario's ``[params]``: the launch of a matmul kernel on a GPU preset.

    Parameters
    ----------
    gpu : str
        A preset's name, or a part of one that matches a single preset.
    kernel : str
        ``naive``, ``uncoalesced`` or ``tiled``: its launch follows the matmul panel's.
    m, n, k : int
        The product's sizes (C is m×n).
    block : tuple of int
        ``blockDim`` (x, y).
    registers : int or None
        Registers per thread; None: :data:`ASSUMED_REGISTERS`, labelled assumed.
    shared_memory : int or None
        Shared memory per block in bytes; None: what the kernel declares.
    """

    gpu: str = "H100"
    kernel: str = "naive"
    m: int = 4096
    n: int = 4096
    k: int = 4096
    block: tuple[int, int] = (16, 16)
    registers: int | None = None
    shared_memory: int | None = None

    def __post_init__(self):
        self.check()

    def check(self) -> None:
        """Raise :class:`HardwareError` (one sentence, its field) for parameters no launch could have."""
        try:
            preset = find_preset(self.gpu)
        except PresetError as e:
            raise HardwareError(str(e), "gpu") from None
        if self.kernel not in KERNELS:
            raise HardwareError(f"unknown kernel {self.kernel!r}: choose one of {', '.join(KERNELS)}", "kernel")
        for name in ("m", "n", "k"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or not 1 <= v <= MAX_SIDE:
                raise HardwareError(f"{name.upper()} must be a whole number from 1 to {MAX_SIDE:,}, not {v!r}", name)
        try:
            launch_for(self.kernel, MatmulProblem(self.m, self.n, self.k), self.block)
        except (LaunchError, ShapeError, ValueError) as e:
            raise HardwareError(str(e), "block") from None
        try:
            occupancy(preset, self.threads, self.registers_per_thread, self.shared_memory_per_block)
        except OccupancyError as e:
            field = "registers" if "registers" in str(e) else "shared_memory" if "shared" in str(e) else "block"
            raise HardwareError(str(e), field) from None

    @property
    def threads(self) -> int:
        return self.block[0] * self.block[1]

    @property
    def registers_per_thread(self) -> int:
        return ASSUMED_REGISTERS if self.registers is None else self.registers

    @property
    def shared_memory_per_block(self) -> int:
        return kernel_shared_memory(self.kernel, self.block) if self.shared_memory is None else self.shared_memory

    @classmethod
    def from_dict(cls, params: dict) -> HardwareParams:
        """From a ``[params]`` table; raises :class:`HardwareError` naming the key."""
        panel.table(params, "[params] of a hardware scenario", PARAM_KEYS)
        kw = {}
        if "gpu" in params:
            kw["gpu"] = panel.text(params["gpu"], "[params] gpu", nonempty=True)
        if "kernel" in params:
            kw["kernel"] = panel.text(params["kernel"], "[params] kernel", nonempty=True)
        for key in ("m", "n", "k"):
            if key in params:
                kw[key] = panel.whole(params[key], f"[params] {key}", 1)
        if "block" in params:
            kw["block"] = panel.pair(params["block"], "[params] block")
        for key in ("registers", "shared_memory"):
            if key in params:
                kw[key] = panel.whole(params[key], f"[params] {key}", 0)
        return cls(**kw)

    def to_dict(self) -> dict:
        out = {"gpu": self.gpu, "kernel": self.kernel, "m": self.m, "n": self.n, "k": self.k,
               "block": list(self.block)}
        if self.registers is not None:
            out["registers"] = self.registers
        if self.shared_memory is not None:
            out["shared_memory"] = self.shared_memory
        return out


@dataclass(frozen=True)
class SMFrame:
    """What the SM view draws for one step (one wave of the schedule model).

    Parameters
    ----------
    wave : int
        The wave shown.
    placement : ndarray of int64, shape (sm_count, active_blocks)
        Linear block id in each SM's slots, -1 where a slot is empty.
    done : int
        Blocks finished before this wave.
    """

    wave: int
    placement: np.ndarray
    done: int


class HardwareModel(Observable):
    """The Hardware panel's state: parameters, the current wave, the selected block.

    Parameters
    ----------
    params : HardwareParams
        The launch and the GPU.
    """

    def __init__(self, params: HardwareParams | None = None):
        self._params = params or HardwareParams()
        self._step = 0
        self._selected: int | None = None
        self.run: GpuRun | None = None
        self._compute()

    # -- parameters ---------------------------------------------------------------------------

    @property
    def params(self) -> HardwareParams:
        return self._params

    def set_params(self, params: HardwareParams) -> None:
        """Show ``params`` (already checked: HardwareParams cannot hold invalid ones)."""
        if params == self._params:
            return
        self._params = params
        self._compute()
        self._step = min(self._step, self.n_steps - 1)
        if self._selected is not None and self._selected >= self.waves.blocks:
            self._selected = None
        self.emit("params", "step", "selection")

    def update(self, **changes) -> None:
        """``set_params`` with some fields changed; :class:`HardwareError` (one sentence) when refused."""
        self.set_params(replace(self._params, **changes))

    def _compute(self) -> None:
        p = self._params
        self.preset: GpuPreset = find_preset(p.gpu)
        self.problem = MatmulProblem(p.m, p.n, p.k)
        self.launch = launch_for(p.kernel, self.problem, p.block)
        self.occupancy: Occupancy = occupancy(self.preset, p.threads, self.registers_per_thread,
                                              p.shared_memory_per_block)
        self.waves = Waves.of(self.occupancy, self.launch.blocks)
        self.__dict__.pop("roofline_points", None)

    def _run_registers(self) -> int | None:
        if self.run is None:
            return None
        return self.run.registers.get((self._params.kernel, tuple(self._params.block)))

    @property
    def registers_per_thread(self) -> int:
        """Given, else as compiled in a loaded gpu_check run (this kernel and block), else assumed."""
        if self._params.registers is not None:
            return self._params.registers
        return self._run_registers() or ASSUMED_REGISTERS

    @property
    def registers_label(self) -> str:
        """Where the registers per thread come from, in words."""
        if self._params.registers is not None:
            return f"{self._params.registers} registers per thread (given)"
        measured = self._run_registers()
        if measured is not None:
            return (f"{measured} registers per thread (as compiled on the {self.run.gpu}, gpu_check run of "
                    f"{self.run.date})")
        return f"{ASSUMED_REGISTERS} registers per thread (assumed: no real figure at hand)"

    def load_run(self, path) -> None:
        """Take registers per thread and measured roofline points from a saved ``gpu_check.py --save`` run.

        Raises :class:`HardwareError` (one sentence) for a file that is not one.
        """
        try:
            run = GpuRun.load(path)
        except RooflineError as e:
            raise HardwareError(str(e), "run") from None
        self.run = run
        self._compute()
        self._step = min(self._step, self.n_steps - 1)
        self.emit("params", "step")

    def measured_points(self) -> list[tuple[float, float, str]]:
        """``(intensity, FLOP/s, label)`` of the loaded run's kernels at this product's size; none without a run."""
        if self.run is None:
            return []
        p, out = self._params, []
        for m in self.run.measured:
            if (m.m, m.n, m.k) == (p.m, p.n, p.k):
                point = kernel_point(m.kernel, (m.m, m.n, m.k), m.block)
                out.append((point.intensity, m.flops_per_s, f"{m.kernel} {m.block[0]}×{m.block[1]}, measured"))
        return out

    # -- timeline -------------------------------------------------------------------------------

    @property
    def n_steps(self) -> int:
        return max(1, self.waves.n_waves)

    @property
    def step(self) -> int:
        return self._step

    def set_step(self, step: int) -> None:
        step = max(0, min(int(step), self.n_steps - 1))
        if step != self._step:
            self._step = step
            self.emit("step")

    def frame(self, step: int | None = None) -> SMFrame:
        """The SMs' slots during ``step`` (default: the current one)."""
        s = self._step if step is None else max(0, min(int(step), self.n_steps - 1))
        if not self.waves.runs:
            return SMFrame(0, np.full((self.preset.sm_count, 0), -1, np.int64), 0)
        return SMFrame(s, self.waves.placement(s), s * self.waves.blocks_per_wave)

    # -- selection ----------------------------------------------------------------------------

    @property
    def selected_block(self) -> int | None:
        """The selected block's linear id (CUDA's order: blockIdx.x fastest), or None."""
        return self._selected

    def select_block(self, block: int | None) -> None:
        """Select a block by linear id (None clears); the timeline moves to the wave that holds it."""
        if block is not None:
            block = int(block)
            if not 0 <= block < self.waves.blocks:
                raise HardwareError(f"block {block} is outside 0..{self.waves.blocks - 1}", "selection")
        if block == self._selected:
            return
        self._selected = block
        changes = ["selection"]
        if block is not None and self.waves.runs:
            wave = self.waves.locate(block)[0]
            if wave != self._step:
                self._step = wave
                changes.append("step")
        self.emit(*changes)

    def block_index(self, block: int) -> tuple[int, int, int]:
        """``blockIdx`` (x, y, z) of a linear block id."""
        g = self.launch.grid
        return block % g.x, (block // g.x) % g.y, block // (g.x * g.y)

    def block_linear(self, bx: int, by: int, bz: int = 0) -> int:
        g = self.launch.grid
        return bx + g.x * (by + g.y * bz)

    # -- words ------------------------------------------------------------------------------------

    def figures(self) -> list[str]:
        """The occupancy, its limiters in words, the waves and the tail: the panel's details."""
        o, w, p = self.occupancy, self.waves, self.preset
        blocks = "1 block" if o.active_blocks == 1 else f"{o.active_blocks} blocks"
        lines = [f"{p.label}: {p.sm_count} SMs, compute capability {p.compute_capability[0]}."
                 f"{p.compute_capability[1]}",
                 f"{self.params.kernel} {self.problem.m}×{self.problem.n}×{self.problem.k}: {self.launch} = "
                 f"{w.blocks:,} blocks of {self.params.threads} threads; {self.registers_label}; "
                 f"{self.params.shared_memory_per_block:,} B shared memory per block",
                 f"resident per SM: {blocks} = {o.active_warps} of {p.max_warps_per_sm} warps "
                 f"(occupancy {o.occupancy:.0%})"]
        lines += o.explanation()
        if w.runs:
            tail = (f"the last wave has {w.tail_blocks:,} blocks and leaves {w.tail_idle_sms} of {p.sm_count} SMs idle"
                    if w.tail_blocks else "every wave is full")
            lines.append(f"{w.blocks_per_wave:,} blocks per wave, {w.waves:.2f} waves: {tail}")
        return lines

    def step_text(self) -> str:
        w = self.waves
        if not w.runs:
            return "no block fits an SM: nothing runs"
        blocks = w.wave_blocks(self._step)
        return f"wave {self._step} of 0–{self.n_steps - 1}: blocks {blocks.start:,}–{blocks.stop - 1:,}"

    schedule_note = SCHEDULE_MODEL

    # -- roofline and banks ------------------------------------------------------------------------

    @cached_property
    def roofline_points(self) -> list[KernelPoint]:
        """The three matmul kernels at this product's size and block (the tiled one needs a square block)."""
        p = self._params
        out = []
        for kernel in KERNELS:
            block = p.block if kernel != "tiled" or p.block[0] == p.block[1] else (16, 16)
            out.append(kernel_point(kernel, (p.m, p.n, p.k), block))
        return out

    def roofs(self) -> Roofs | None:
        """The preset's roofs, or None where NVIDIA publishes no peak or bandwidth (:meth:`roofline_note` says so)."""
        try:
            return Roofs.of(self.preset)
        except RooflineError:
            return None

    def roofline_note(self) -> str:
        try:
            Roofs.of(self.preset)
        except RooflineError as e:
            return str(e)
        return ""

    @staticmethod
    def transpose_conflicts() -> dict[bool, BankConflicts]:
        """Bank conflicts of the shipped, recorded transpose pair, by ``padded``."""
        return _transpose_conflicts()


_BANKS: dict = {}


def _transpose_conflicts() -> dict[bool, BankConflicts]:
    if not _BANKS:
        for padded in (False, True):
            _BANKS[padded] = bank_conflicts(shipped_transpose_trace(padded))
    return _BANKS


VIEW_KEYS = ("step", "block")


def step_key(view: dict) -> str:
    """A hardware scenario's ``[view]`` keeps its wave in ``step``."""
    return "step"


def read_view(raw) -> dict:
    """A hardware scenario's ``[view]``: ``step`` (a wave, from 0) and ``block`` (the selected block's linear id)."""
    panel.table(raw, "[view] of a hardware scenario", VIEW_KEYS)
    return {key: panel.whole(raw[key], f"[view] {key}", 0) for key in VIEW_KEYS if key in raw}


def check_scenario(params: HardwareParams, view: dict, key_steps, quiz=None, budget=None) -> None:
    """The view's wave and block, and every key step, must exist in this launch's schedule."""
    model = HardwareModel(params)
    last = model.n_steps - 1
    if view.get("step", 0) > last:
        raise HardwareError(f"[view] step = {view['step']}, but this launch has waves 0 to {last}", "step")
    if view.get("block", 0) >= model.waves.blocks:
        raise HardwareError(f"[view] block = {view['block']}, but this launch has blocks 0 to "
                            f"{model.waves.blocks - 1}", "block")
    for i, ks in enumerate(key_steps, 1):
        if not 0 <= ks.step <= last:
            raise HardwareError(f"[[key_steps]] #{i}: step = {ks.step}, but this launch has waves 0 to {last}", "step")


__all__ = ["ASSUMED_REGISTERS", "MAX_SIDE", "PARAM_KEYS", "VIEW_KEYS", "HardwareError", "HardwareModel",
           "HardwareParams", "SMFrame", "check_scenario", "kernel_shared_memory", "read_view", "step_key"]
