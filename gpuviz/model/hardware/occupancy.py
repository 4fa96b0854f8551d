"""Occupancy: how many blocks of a launch an SM holds at once, and what stops it holding more.

The arithmetic is the one of NVIDIA's occupancy calculator, ``cuda_occupancy.h``
(``cudaOccMaxActiveBlocksPerMultiprocessor``), reimplemented here from its
published rules and held equal to it by ``tests/test_hardware_occupancy.py`` on
a table the header itself computed (``scripts/make_occupancy_table.py``).

The inputs are those of a kernel launch: threads per block, registers per
thread (as compiled), the block's shared memory in bytes (static plus dynamic;
passed to the calculator as dynamic shared memory the kernel has opted into, so
the opt-in limit applies above 48 KB), and the named barriers a block uses (one
for ``__syncthreads``, the calculator's default). The device state is the
default one: no cache or carve-out preference, partitioned global caching off.
"""

from __future__ import annotations

from dataclasses import dataclass

from .presets import GpuPreset

#: The calculator's "no limit" (``INT_MAX``): a kernel with no registers or no shared memory.
UNLIMITED = 2**31 - 1

#: Resources in the order the calculator's bit field and the CLI list them.
RESOURCES = ("warps", "registers", "shared_memory", "blocks", "barriers")

#: Threads per block and registers per thread the app accepts (CUDA's limits on every preset).
THREADS_RANGE = (1, 1024)
REGISTERS_RANGE = (1, 255)


class OccupancyError(ValueError):
    """Inputs no kernel could have (e.g. 0 threads, 300 registers); the message is one sentence."""


def _ceil_div(x: int, y: int) -> int:
    return -(-x // y)


def _round_up(x: int, y: int) -> int:
    return y * _ceil_div(x, y)


def check_inputs(preset: GpuPreset, threads: int, registers: int, shared_memory: int) -> None:
    """Raise :class:`OccupancyError` (one sentence) for inputs outside what a launch on ``preset`` may ask."""
    lo, hi = THREADS_RANGE
    if not lo <= threads <= min(hi, preset.max_threads_per_block):
        raise OccupancyError(f"threads per block must be between {lo} and "
                             f"{min(hi, preset.max_threads_per_block)}, not {threads}")
    lo, hi = REGISTERS_RANGE
    if not lo <= registers <= min(hi, preset.max_registers_per_thread):
        raise OccupancyError(f"registers per thread must be between {lo} and "
                             f"{min(hi, preset.max_registers_per_thread)}, not {registers}")
    if shared_memory < 0:
        raise OccupancyError(f"shared memory per block cannot be negative ({shared_memory} bytes)")
    if shared_memory > preset.shared_memory_per_block_optin:
        raise OccupancyError(f"{shared_memory} bytes of shared memory per block is over the "
                             f"{preset.shared_memory_per_block_optin}-byte limit a block may opt into on the "
                             f"{preset.name}")


def _register_allocation_max(preset: GpuPreset) -> int:
    # the header's per-thread allocation ceiling (256 from Volta on), not the ISA's 255
    return 255 if preset.compute_capability[0] < 7 else 256


def _regs_limit(preset: GpuPreset, registers: int, warps_per_block: int, partitions: int) -> tuple[int, int]:
    """(blocks the register file holds, registers allocated per block)."""
    per_warp = _round_up(registers * preset.warp_size, preset.register_allocation_unit)
    per_block = per_warp * warps_per_block
    # the hardware's own check assumes a block's warps spread over every
    # sub-partition at once, so it rounds the warps up to a multiple of them
    assumed = per_warp * _round_up(warps_per_block, partitions)
    if (preset.registers_per_block < assumed or preset.registers_per_block < per_block
            or registers > _register_allocation_max(preset)):
        return 0, per_block
    if per_warp == 0:
        return UNLIMITED, per_block
    # a warp's registers come from one sub-partition: what is left over in each
    # partition is lost, not pooled
    warps_per_partition = (preset.registers_per_sm // partitions) // per_warp
    return warps_per_partition * partitions // warps_per_block, per_block


def _carveout(preset: GpuPreset, size: int) -> int | None:
    """The smallest shared-memory configuration of an SM that holds ``size`` bytes (None: none does)."""
    for kib in preset.shared_memory_carveouts_kib:
        if size <= kib * 1024:
            return kib * 1024
    return None


def _smem_limit(preset: GpuPreset, shared_memory: int) -> tuple[int, int]:
    """(blocks the shared memory holds, bytes allocated per block)."""
    major = preset.compute_capability[0]
    total = shared_memory + preset.reserved_shared_memory_per_block
    allocated = _round_up(total, preset.shared_memory_allocation_unit)
    if major <= 6:
        per_block_limit = preset.shared_memory_per_block
    else:
        per_block_limit = (preset.shared_memory_per_block_optin if total > preset.shared_memory_per_block
                           else preset.shared_memory_per_block)
    if major >= 8:
        per_block_limit += preset.reserved_shared_memory_per_block
    if allocated > per_block_limit:
        return 0, allocated
    if major >= 7:
        per_sm = _carveout(preset, preset.shared_memory_per_sm)
        if per_sm is None:
            raise OccupancyError(f"the {preset.name} preset's shared memory per SM "
                                 f"({preset.shared_memory_per_sm} bytes) is not a size its SMs can be set to")
        if per_sm < allocated:
            per_sm = _carveout(preset, allocated)
    else:
        per_sm = preset.shared_memory_per_sm
    return (per_sm // allocated if allocated > 0 else UNLIMITED), allocated


@dataclass(frozen=True)
class Occupancy:
    """Resident blocks per SM for one launch on one GPU, and every resource that binds.

    Parameters
    ----------
    preset : GpuPreset
        The GPU.
    threads, registers, shared_memory, barriers : int
        Threads per block, registers per thread, shared memory per block in
        bytes, named barriers per block.
    limits : dict
        Blocks per SM each resource alone would allow (``UNLIMITED`` when the
        resource is not used; ``barriers`` is None below compute capability 9.0,
        where the calculator does not count them).
    active_blocks : int
        Resident blocks per SM (0: the launch cannot run on this GPU).
    limiters : tuple of str
        Every resource whose limit equals ``active_blocks``, in :data:`RESOURCES` order.
    header_flags : tuple of str
        The calculator's own ``limitingFactors`` bits. They equal ``limiters``
        except where the barrier limit lowers the count after the other four were
        flagged: the header leaves their bits set although they no longer bind.
    registers_per_block, shared_memory_per_block : int
        Registers and bytes actually allocated per block (after granularities
        and, for shared memory, the driver's reservation).
    """

    preset: GpuPreset
    threads: int
    registers: int
    shared_memory: int
    barriers: int
    limits: dict
    active_blocks: int
    limiters: tuple
    header_flags: tuple
    registers_per_block: int
    shared_memory_per_block: int

    @property
    def warps_per_block(self) -> int:
        return _ceil_div(self.threads, self.preset.warp_size)

    @property
    def active_warps(self) -> int:
        """Resident warps per SM."""
        return self.active_blocks * self.warps_per_block

    @property
    def occupancy(self) -> float:
        """Resident warps ÷ the SM's warp slots, a fraction (unrounded)."""
        return self.active_warps / self.preset.max_warps_per_sm

    @property
    def fits(self) -> bool:
        return self.active_blocks > 0

    def reason(self, resource: str) -> str:
        """One phrase saying why ``resource`` allows as many blocks as it does."""
        p, n = self.preset, self.limits[resource]
        room = "no block" if n == 0 else "room for 1 block" if n == 1 else f"room for {n} blocks"
        if resource == "warps":
            if self.threads > p.max_threads_per_block:
                return f"warps: {self.threads} threads is over the {p.max_threads_per_block}-thread block limit"
            return f"warps: {self.warps_per_block} warps per block in {p.max_warps_per_sm} warp slots leaves {room}"
        if resource == "registers":
            return (f"registers: {self.registers} per thread × {self.threads} threads "
                    f"({self.registers_per_block} allocated) in {p.registers_per_sm} per SM leaves {room}")
        if resource == "shared_memory":
            return (f"shared memory: {self.shared_memory_per_block} bytes per block (allocated, with the "
                    f"driver's reservation) in {p.shared_memory_per_sm} per SM leaves {room}")
        if resource == "blocks":
            return f"blocks: at most {p.max_blocks_per_sm} resident blocks per SM"
        return (f"barriers: {self.barriers} per block in {p.max_blocks_per_sm * p.barrier_units_per_block_slot} "
                f"barrier units per SM leaves {room}")

    def explanation(self) -> list[str]:
        """The binding resources in words, then (for 0 blocks) the sentence saying the launch fails."""
        lines = [self.reason(r) for r in self.limiters]
        if not self.fits:
            lines.append(self.failure())
        return lines

    def failure(self) -> str:
        """"" when the launch fits; otherwise a sentence saying a launch like this fails on this GPU."""
        if self.fits:
            return ""
        what = " and ".join(r.replace("_", " ") for r in self.limiters)
        return (f"One block needs more {what} than an SM of the {self.preset.name} has: "
                f"a launch like this fails on this GPU.")

    def to_dict(self) -> dict:
        limits = {r: (None if v is None or v == UNLIMITED else v) for r, v in self.limits.items()}
        return {
            "gpu": self.preset.label,
            "compute_capability": ".".join(map(str, self.preset.compute_capability)),
            "threads_per_block": self.threads,
            "registers_per_thread": self.registers,
            "shared_memory_per_block": self.shared_memory,
            "active_blocks": self.active_blocks,
            "active_warps": self.active_warps,
            "max_warps": self.preset.max_warps_per_sm,
            "occupancy": self.occupancy,
            "limiters": list(self.limiters),
            "limits": limits,
            "allocated_registers_per_block": self.registers_per_block,
            "allocated_shared_memory_per_block": self.shared_memory_per_block,
            "explanation": self.explanation(),
        }


def occupancy(preset: GpuPreset, threads: int, registers: int, shared_memory: int = 0, barriers: int = 1,
              *, validate: bool = True) -> Occupancy:
    """Resident blocks per SM of a launch, as ``cudaOccMaxActiveBlocksPerMultiprocessor`` computes it.

    With ``validate`` (the default) inputs outside :func:`check_inputs` raise
    :class:`OccupancyError`; without it any ``threads >= 1`` and
    ``registers, shared_memory >= 0`` are computed as the calculator would
    (the tests use this for shared memory over the opt-in limit).
    """
    threads, registers, shared_memory, barriers = int(threads), int(registers), int(shared_memory), int(barriers)
    if validate:
        check_inputs(preset, threads, registers, shared_memory)
    elif threads < 1 or registers < 0 or shared_memory < 0 or barriers < 0:
        raise OccupancyError("threads must be at least 1; registers, shared memory and barriers at least 0")
    p = preset
    major, minor = p.compute_capability
    wpb = _ceil_div(threads, p.warp_size)
    regs, regs_alloc = _regs_limit(p, registers, wpb, p.register_file_partitions)
    if (major, minor) == (6, 0) and regs:
        # the calculator refuses on GP100 what would not fit GP10x's four partitions
        if _regs_limit(p, registers, wpb, 4)[0] == 0:
            regs = 0
    warps = 0 if threads > p.max_threads_per_block else (p.max_threads_per_sm // p.warp_size) // wpb
    blocks = p.max_blocks_per_sm
    smem, smem_alloc = _smem_limit(p, shared_memory)
    limits = {"warps": warps, "registers": regs, "shared_memory": smem, "blocks": blocks, "barriers": None}
    active = min(warps, regs, smem, blocks)
    flags = [r for r in RESOURCES[:4] if limits[r] == active]
    if major >= 9 and barriers > 0:
        units = p.barrier_units_per_block_slot or 1
        limits["barriers"] = (blocks * units) // barriers
        active = min(active, limits["barriers"])
        if limits["barriers"] == active:
            flags.append("barriers")
    binding = tuple(r for r in RESOURCES if limits[r] is not None and limits[r] == active)
    return Occupancy(p, threads, registers, shared_memory, barriers, limits, active, binding, tuple(flags),
                     regs_alloc, smem_alloc)
