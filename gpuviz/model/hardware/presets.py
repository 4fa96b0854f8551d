"""GPU presets: the figures of real GPUs, read from ``assets/gpus/*.toml``.

Every figure in those files carries its source (NVIDIA's compute-capability
table, ``cuda_occupancy.h`` or the product's datasheet); a figure NVIDIA does not
publish is ``nan`` there and ``None`` here, with the file's note saying why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path

import tomllib

from gpuviz.paths import asset_path

#: Name of the live device's preset (built from the worker's report, never from a file).
LIVE = "live"


class PresetError(ValueError):
    """An unknown or ambiguous GPU name, or a preset file that is malformed; one sentence."""


@dataclass(frozen=True)
class GpuPreset:
    """The figures of one GPU that occupancy, waves and the roofline need.

    Parameters
    ----------
    name, key : str
        Display name (``"H100 SXM5 80GB"``) and file stem (``"h100-sxm"``).
    compute_capability : tuple of int
        ``(major, minor)``.
    sm_count : int
        Streaming multiprocessors.
    warp_size, max_threads_per_block, max_threads_per_sm, max_warps_per_sm, max_blocks_per_sm : int
        Thread, warp and resident-block limits.
    registers_per_sm, registers_per_block, max_registers_per_thread : int
        32-bit registers.
    shared_memory_per_sm, shared_memory_per_block, shared_memory_per_block_optin : int
        Bytes; ``shared_memory_per_block`` is the default limit, ``..._optin`` the
        limit a kernel may opt into.
    reserved_shared_memory_per_block : int
        Bytes the driver reserves for each resident block (compute capability 8.0 and up).
    register_allocation_unit, shared_memory_allocation_unit : int
        Registers per warp and bytes per block are allocated in these units.
    register_file_partitions : int
        Sub-partitions of the register file; a warp's registers come from one.
    shared_memory_carveouts_kib : tuple of int
        Shared-memory sizes an SM can be configured to (empty before Volta).
    barrier_units_per_block_slot : int or None
        Barrier units per resident-block slot (compute capability 9.0 and up).
    fp32_cores_per_sm, boost_clock_mhz : int
        From the product page.
    memory_bandwidth_gb_s, peak_fp32_tflops : float or None
        ``None`` where NVIDIA publishes no figure (see ``notes``).
    notes, sources : dict
        Per-figure notes, and the sources the file names.
    live : bool
        True for the live device's preset (attributes read from the driver).
    """

    name: str
    key: str
    compute_capability: tuple[int, int]
    sm_count: int
    warp_size: int
    max_threads_per_block: int
    max_threads_per_sm: int
    max_warps_per_sm: int
    max_blocks_per_sm: int
    registers_per_sm: int
    registers_per_block: int
    max_registers_per_thread: int
    shared_memory_per_sm: int
    shared_memory_per_block: int
    shared_memory_per_block_optin: int
    reserved_shared_memory_per_block: int
    register_allocation_unit: int
    shared_memory_allocation_unit: int
    register_file_partitions: int
    fp32_cores_per_sm: int | None = None
    boost_clock_mhz: int | None = None
    memory_bandwidth_gb_s: float | None = None
    peak_fp32_tflops: float | None = None
    shared_memory_carveouts_kib: tuple[int, ...] = ()
    barrier_units_per_block_slot: int | None = None
    notes: dict = field(default_factory=dict, compare=False)
    sources: dict = field(default_factory=dict, compare=False)
    live: bool = False

    @property
    def label(self) -> str:
        """The name as the user sees it (the live device says so)."""
        return f"{self.name} (live device)" if self.live else self.name

    @property
    def peak_flops(self) -> float | None:
        """Peak FP32 FLOP/s, or None where not published."""
        return None if self.peak_fp32_tflops is None else self.peak_fp32_tflops * 1e12

    @property
    def bandwidth_bytes_s(self) -> float | None:
        """Memory bandwidth in bytes/s, or None where not published."""
        return None if self.memory_bandwidth_gb_s is None else self.memory_bandwidth_gb_s * 1e9

    def to_dict(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["compute_capability"] = list(self.compute_capability)
        out["shared_memory_carveouts_kib"] = list(self.shared_memory_carveouts_kib)
        return out


_INT_KEYS = ("sm_count", "warp_size", "max_threads_per_block", "max_threads_per_sm", "max_warps_per_sm",
             "max_blocks_per_sm", "registers_per_sm", "registers_per_block", "max_registers_per_thread",
             "shared_memory_per_sm", "shared_memory_per_block", "shared_memory_per_block_optin",
             "reserved_shared_memory_per_block", "register_allocation_unit", "shared_memory_allocation_unit",
             "register_file_partitions")


def _published(value):
    return None if isinstance(value, float) and math.isnan(value) else value


def load_preset_file(path: Path) -> GpuPreset:
    """Read one preset file; :class:`PresetError` names the file and the problem."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise PresetError(f"cannot read GPU preset {Path(path).name}: {e}") from None
    values, sources = data.get("values", {}), data.get("sources", {})
    kw, notes = {}, {}
    for name, entry in values.items():
        if not isinstance(entry, dict) or "value" not in entry or entry.get("source") not in sources:
            raise PresetError(f"GPU preset {Path(path).name}: {name} needs a value and a source named in [sources]")
        kw[name] = _published(entry["value"])
        if entry.get("note"):
            notes[name] = entry["note"]
    try:
        cc = (int(kw.pop("compute_capability_major")), int(kw.pop("compute_capability_minor")))
        for name in _INT_KEYS:
            kw[name] = int(kw[name])
        kw["shared_memory_carveouts_kib"] = tuple(kw.get("shared_memory_carveouts_kib", ()))
        return GpuPreset(name=data["name"], key=data["key"], compute_capability=cc, notes=notes,
                         sources=dict(sources), **kw)
    except (KeyError, TypeError, ValueError) as e:
        raise PresetError(f"GPU preset {Path(path).name} is incomplete or malformed ({e})") from None


@lru_cache(maxsize=1)
def builtin_presets() -> tuple[GpuPreset, ...]:
    """Every preset shipped in ``assets/gpus/``, in file-name order."""
    folder = asset_path("gpus")
    return tuple(load_preset_file(p) for p in sorted(folder.glob("*.toml")))


def find_preset(name: str, presets=None, live: GpuPreset | None = None) -> GpuPreset:
    """The preset ``name`` designates, case-insensitively.

    An exact name or key wins; otherwise a part of a name (or key) that matches
    exactly one preset (``"H100"``, ``"a6000"``, ``"1070"``). The live device
    answers only to ``"live"``. Unknown or ambiguous: :class:`PresetError` with
    one line that lists the presets.
    """
    presets = builtin_presets() if presets is None else tuple(presets)
    wanted = " ".join(str(name).split()).lower()
    choices = ", ".join([p.name for p in presets] + [LIVE])
    if wanted == LIVE:
        if live is None:
            raise PresetError(f"no live device: no GPU was found on this machine (presets: {choices})")
        return live
    if not wanted:
        raise PresetError(f"name a GPU: one of {choices}")
    exact = [p for p in presets if wanted in (p.name.lower(), p.key.lower())]
    if exact:
        return exact[0]
    partial = [p for p in presets if wanted in p.name.lower() or wanted in p.key.lower()]
    if len(partial) == 1:
        return partial[0]
    if partial:
        raise PresetError(f"{name!r} matches {len(partial)} GPUs ({', '.join(p.name for p in partial)}); "
                          f"say which: {choices}")
    raise PresetError(f"unknown GPU {name!r}: choose one of {choices}")


def live_preset(attributes: dict) -> GpuPreset:
    """The live device as a preset, from the attributes the worker read from the driver.

    ``attributes`` uses numba's device attribute names (``MULTIPROCESSOR_COUNT``,
    ``MAX_SHARED_MEMORY_PER_BLOCK_OPTIN``, ...) plus ``name`` and
    ``compute_capability``. Figures the driver does not report (granularities,
    partitions) come from the compute capability, as ``cuda_occupancy.h`` does.
    """
    major, minor = (int(v) for v in attributes["compute_capability"])
    arch = architecture_constants(major, minor)
    a = attributes
    return GpuPreset(
        name=str(a.get("name", "GPU")), key=LIVE, compute_capability=(major, minor),
        sm_count=int(a["MULTIPROCESSOR_COUNT"]), warp_size=int(a.get("WARP_SIZE", 32)),
        max_threads_per_block=int(a["MAX_THREADS_PER_BLOCK"]),
        max_threads_per_sm=int(a["MAX_THREADS_PER_MULTI_PROCESSOR"]),
        max_warps_per_sm=int(a["MAX_THREADS_PER_MULTI_PROCESSOR"]) // int(a.get("WARP_SIZE", 32)),
        max_blocks_per_sm=int(a.get("MAX_BLOCKS_PER_MULTIPROCESSOR", arch["max_blocks_per_sm"])),
        registers_per_sm=int(a["MAX_REGISTERS_PER_MULTIPROCESSOR"]),
        registers_per_block=int(a["MAX_REGISTERS_PER_BLOCK"]), max_registers_per_thread=255,
        shared_memory_per_sm=int(a["MAX_SHARED_MEMORY_PER_MULTIPROCESSOR"]),
        shared_memory_per_block=int(a["MAX_SHARED_MEMORY_PER_BLOCK"]),
        shared_memory_per_block_optin=int(a.get("MAX_SHARED_MEMORY_PER_BLOCK_OPTIN",
                                                a["MAX_SHARED_MEMORY_PER_BLOCK"])),
        reserved_shared_memory_per_block=int(a.get("RESERVED_SHARED_MEMORY_PER_BLOCK", 0)),
        register_allocation_unit=arch["register_allocation_unit"],
        shared_memory_allocation_unit=arch["shared_memory_allocation_unit"],
        register_file_partitions=arch["register_file_partitions"],
        shared_memory_carveouts_kib=arch["shared_memory_carveouts_kib"],
        barrier_units_per_block_slot=arch["barrier_units_per_block_slot"],
        sources={"driver": "read from the driver by the worker (numba device attributes)"},
        live=True,
    )


def architecture_constants(major: int, minor: int) -> dict:
    """The per-architecture constants ``cuda_occupancy.h`` keeps in code, for a compute capability.

    Raises :class:`PresetError` for a compute capability the header (CUDA 12.9) does not know.
    """
    if major not in (5, 6, 7, 8, 9, 10, 12):
        raise PresetError(f"compute capability {major}.{minor} is not one the occupancy calculator knows")
    carve = {(7, 5): (32, 64), (8, 0): (0, 8, 16, 32, 64, 100, 132, 164), (8, 7): (0, 8, 16, 32, 64, 100, 132, 164),
             (9, 0): (0, 8, 16, 32, 64, 100, 132, 164, 196, 228)}
    if major == 7 and minor != 5:
        carveouts = (0, 8, 16, 32, 64, 96)
    elif major == 8 and minor not in (0, 7) or major == 12:
        carveouts = (0, 8, 16, 32, 64, 100)
    elif major == 10:
        carveouts = (0, 8, 16, 32, 64, 100, 132, 164, 196, 228)
    else:
        carveouts = carve.get((major, minor), carve.get((major, 0), ()))
    if major == 7:
        blocks = 16 if minor == 5 else 32
    elif major == 8:
        blocks = 32 if minor == 0 else 24 if minor == 9 else 16
    elif major == 10:
        blocks = 24 if minor == 1 else 32
    elif major == 12:
        blocks = 24
    else:
        blocks = 32
    barrier = None
    if major == 9 or (major == 10 and minor != 1):
        barrier = 2
    elif major >= 10:
        barrier = 1
    return {
        "register_allocation_unit": 256,
        "shared_memory_allocation_unit": 256 if major <= 7 else 128,
        "register_file_partitions": 2 if (major, minor) == (6, 0) else 4,
        "shared_memory_carveouts_kib": carveouts if major >= 7 else (),
        "max_blocks_per_sm": blocks,
        "barrier_units_per_block_slot": barrier,
    }
