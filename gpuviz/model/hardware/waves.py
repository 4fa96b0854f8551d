"""Waves: how the blocks of a grid fill a GPU's SMs, one full load after another.

Figures (``blocks_per_wave``, ``waves``, the tail) follow Nsight Compute's
definitions (``launch__waves_per_multiprocessor`` = grid blocks ÷ blocks per
wave, a fraction). The *schedule* is a model, said so on screen: every block
takes the same time, blocks go to SMs in order as slots free, and one timeline
step is one wave. A real GPU's block order is not specified.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .occupancy import Occupancy

#: Said wherever the schedule is drawn or printed.
SCHEDULE_MODEL = ("schedule model: every block takes the same time and blocks go to SMs in order as slots "
                  "free; not a cycle-accurate simulation (a real GPU's order is not specified)")


@dataclass(frozen=True)
class Waves:
    """A grid of ``blocks`` on a GPU whose SMs each hold ``active_blocks`` of them.

    Parameters
    ----------
    blocks : int
        Blocks in the grid.
    sm_count, active_blocks : int
        SMs, and resident blocks per SM (from :class:`Occupancy`; 0 = the launch cannot run).

    Notes
    -----
    In the model, wave ``w`` holds blocks ``w·B … w·B + B − 1`` (``B`` blocks
    per wave, CUDA's linear block order); block ``j`` of a wave goes to SM
    ``j mod sm_count``, slot ``j div sm_count``: the SMs fill breadth-first,
    as the scheduler hands each free SM the next block.
    """

    blocks: int
    sm_count: int
    active_blocks: int

    @classmethod
    def of(cls, occ: Occupancy, blocks: int) -> Waves:
        return cls(int(blocks), occ.preset.sm_count, occ.active_blocks)

    @property
    def blocks_per_wave(self) -> int:
        return self.active_blocks * self.sm_count

    @property
    def runs(self) -> bool:
        return self.blocks_per_wave > 0

    @property
    def waves(self) -> float | None:
        """Grid blocks ÷ blocks per wave, a fraction (None when no block fits)."""
        return self.blocks / self.blocks_per_wave if self.runs else None

    @property
    def n_waves(self) -> int:
        """Waves the timeline plays (the last one may be partial)."""
        return -(-self.blocks // self.blocks_per_wave) if self.runs else 0

    @property
    def full_waves(self) -> int:
        return self.blocks // self.blocks_per_wave if self.runs else 0

    @property
    def tail_blocks(self) -> int:
        """Blocks of the last, partial wave (0 when every wave is full)."""
        return self.blocks % self.blocks_per_wave if self.runs else 0

    @property
    def tail_idle_sms(self) -> int:
        """SMs with no block at all during the partial last wave (0 without a partial wave)."""
        if not self.runs or self.tail_blocks == 0:
            return 0
        return max(0, self.sm_count - self.tail_blocks)

    @property
    def tail_utilisation(self) -> float | None:
        """Fraction of the block slots the last wave fills (1.0 when it is full)."""
        if not self.runs:
            return None
        return (self.tail_blocks or self.blocks_per_wave) / self.blocks_per_wave

    def wave_blocks(self, wave: int) -> range:
        """The grid's linear block ids in ``wave``."""
        if not 0 <= wave < self.n_waves:
            raise IndexError(f"wave {wave} is outside 0..{self.n_waves - 1}")
        start = wave * self.blocks_per_wave
        return range(start, min(start + self.blocks_per_wave, self.blocks))

    def placement(self, wave: int) -> np.ndarray:
        """Block id in each (SM, slot) during ``wave``; -1 for an empty slot. Shape (sm_count, active_blocks)."""
        out = np.full(self.sm_count * self.active_blocks, -1, np.int64)
        ids = np.arange(self.wave_blocks(wave).start, self.wave_blocks(wave).stop)
        j = ids - wave * self.blocks_per_wave
        # breadth-first: position j -> SM j % n, slot j // n, stored SM-major
        out[(j % self.sm_count) * self.active_blocks + j // self.sm_count] = ids
        return out.reshape(self.sm_count, self.active_blocks)

    def locate(self, block: int) -> tuple[int, int, int]:
        """(wave, SM, slot) of a linear block id in the model."""
        if not self.runs or not 0 <= block < self.blocks:
            raise IndexError(f"block {block} is outside 0..{self.blocks - 1}" if self.runs
                             else "no block of this launch fits an SM")
        wave, j = divmod(int(block), self.blocks_per_wave)
        return wave, j % self.sm_count, j // self.sm_count

    def to_dict(self) -> dict:
        return {"blocks": self.blocks, "blocks_per_wave": self.blocks_per_wave, "waves": self.waves,
                "tail_blocks": self.tail_blocks, "tail_idle_sms": self.tail_idle_sms}
