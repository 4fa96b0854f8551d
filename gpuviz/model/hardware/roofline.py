"""The roofline: each built-in kernel's arithmetic intensity against a GPU's peak FLOP/s and bandwidth.

Arithmetic intensity = FLOPs ÷ the bytes the kernel's global loads and stores
move, counted as 32-byte sectors per warp request from its trace (the counts of
:mod:`gpuviz.model.coalescing`, which equal a trace's at any size; tests hold
them equal to :func:`gpuviz.model.hardware.banks.global_sectors` on traces). No
cache model: a sector two warps both need is counted twice, as if nothing were
cached, so these are upper bounds on traffic (said on the chart). The
compulsory bytes (every element of A, B and C moved once) are the other bound.

Measured points come only from a real run: a saved ``scripts/gpu_check.py --save``
file, labelled with its GPU and date. Nothing here estimates a measurement.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..coalescing import memory_totals
from ..matmul import KERNELS, MatmulProblem
from .presets import GpuPreset

#: Said on the chart next to the kernels' points.
NO_CACHE_NOTE = ("no cache model: bytes are the 32-byte sectors of every warp request, as if nothing were cached; "
                 "the compulsory line moves each element of A, B and C once")

FLOAT_BYTES = 4


class RooflineError(ValueError):
    """A roofline that cannot be drawn (no published peak) or a saved run that cannot be read; one sentence."""


@dataclass(frozen=True)
class KernelPoint:
    """One kernel at one size: its FLOPs, the bytes its requests move, and the compulsory bytes.

    Parameters
    ----------
    kernel : str
        Built-in kernel name.
    m, n, k : int
        The product's sizes.
    block : tuple of int
        ``blockDim`` (x, y).
    flops : int
        ``2·m·n·k``.
    sector_bytes : int
        32 × the sectors of every global warp request (no cache model).
    compulsory_bytes : int
        ``4·(m·k + k·n + m·n)``.
    """

    kernel: str
    m: int
    n: int
    k: int
    block: tuple[int, int]
    flops: int
    sector_bytes: int
    compulsory_bytes: int

    @property
    def intensity(self) -> float:
        """FLOP per byte moved (no cache model)."""
        return self.flops / self.sector_bytes

    @property
    def compulsory_intensity(self) -> float:
        """FLOP per compulsory byte: the best any kernel could do with no reuse lost."""
        return self.flops / self.compulsory_bytes

    def to_dict(self) -> dict:
        return {"kernel": self.kernel, "m": self.m, "n": self.n, "k": self.k, "block": list(self.block),
                "flops": self.flops, "sector_bytes": self.sector_bytes, "compulsory_bytes": self.compulsory_bytes,
                "intensity": self.intensity, "compulsory_intensity": self.compulsory_intensity}


def kernel_point(kernel: str, size, block=(16, 16)) -> KernelPoint:
    """The roofline point of a built-in kernel for a product ``size`` (an int for a square one, or (m, n, k))."""
    m, n, k = (size, size, size) if isinstance(size, int) else tuple(size)
    problem = MatmulProblem(int(m), int(n), int(k))
    totals = memory_totals(kernel, problem, tuple(block))
    return KernelPoint(kernel, problem.m, problem.n, problem.k, tuple(totals.block), 2 * problem.madds,
                       totals.total.bytes_moved, FLOAT_BYTES * (m * k + k * n + m * n))


def kernel_points(sizes=(256, 1024, 4096), block=(16, 16), kernels=KERNELS) -> list[KernelPoint]:
    """Every built-in kernel at every size."""
    return [kernel_point(kn, s, block) for kn in kernels for s in sizes]


@dataclass(frozen=True)
class Roofs:
    """A GPU's two roofs: peak FP32 FLOP/s and memory bandwidth (bytes/s)."""

    gpu: str
    peak_flops: float
    bandwidth: float

    @classmethod
    def of(cls, preset: GpuPreset) -> Roofs:
        missing = [what for what, v in (("peak FP32 FLOP/s", preset.peak_flops),
                                        ("memory bandwidth", preset.bandwidth_bytes_s)) if v is None]
        if missing:
            raise RooflineError(f"NVIDIA publishes no {' or '.join(missing)} for the {preset.name}: "
                                f"its roofline cannot be drawn")
        return cls(preset.label, preset.peak_flops, preset.bandwidth_bytes_s)

    @property
    def ridge(self) -> float:
        """Intensity (FLOP/byte) where the bandwidth roof meets the compute roof."""
        return self.peak_flops / self.bandwidth

    def attainable(self, intensity: float) -> float:
        """``min(peak, intensity × bandwidth)``: the most FLOP/s a kernel of this intensity can reach."""
        return min(self.peak_flops, intensity * self.bandwidth)

    def bound(self, intensity: float) -> str:
        return "memory-bound" if intensity < self.ridge else "compute-bound"


@dataclass(frozen=True)
class MeasuredPoint:
    """A kernel's FLOP/s measured on a real GPU by ``scripts/gpu_check.py`` (never an estimate)."""

    gpu: str
    date: str
    kernel: str
    m: int
    n: int
    k: int
    block: tuple[int, int]
    flops_per_s: float

    @property
    def label(self) -> str:
        return f"{self.kernel} {self.m}×{self.n}×{self.k} measured on {self.gpu}, {self.date}"


def load_measured(path) -> list[MeasuredPoint]:
    """Measured points of a saved ``gpu_check.py --save`` run (its ``roofline`` list)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        gpu, date = str(data["gpu"]), str(data["date"])
        return [MeasuredPoint(gpu, date, str(r["kernel"]), int(r["m"]), int(r["n"]), int(r["k"]),
                              tuple(r["block"]), float(r["gflops"]) * 1e9)
                for r in data["roofline"] if r.get("gflops")]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise RooflineError(f"cannot read measured roofline points from {Path(path).name}: {e}") from None


@dataclass(frozen=True)
class GpuRun:
    """A saved ``scripts/gpu_check.py --save`` run (``FILE.hardware.json``): what a real GPU reported.

    Parameters
    ----------
    gpu, date : str
        The GPU's name as the driver gave it, and the day of the run.
    registers : dict
        ``(kernel, (block x, block y)) -> registers per thread`` as compiled.
    measured : list of MeasuredPoint
        The kernels' measured FLOP/s.
    """

    gpu: str
    date: str
    registers: dict
    measured: list

    @classmethod
    def load(cls, path) -> GpuRun:
        measured = load_measured(path)
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            registers = {(str(r["kernel"]), tuple(int(v) for v in r["block"][:2])): int(r["registers_per_thread"])
                         for r in data.get("kernels", [])}
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise RooflineError(f"cannot read the kernels' registers from {Path(path).name}: {e}") from None
        return cls(str(data["gpu"]), str(data["date"]), registers, measured)
