"""The hardware underneath: GPU presets, occupancy, waves, bank conflicts and the roofline (no Qt, no numba)."""

from .occupancy import RESOURCES, UNLIMITED, Occupancy, OccupancyError, check_inputs, occupancy
from .presets import LIVE, GpuPreset, PresetError, builtin_presets, find_preset, live_preset

__all__ = ["LIVE", "RESOURCES", "UNLIMITED", "GpuPreset", "Occupancy", "OccupancyError", "PresetError",
           "builtin_presets", "check_inputs", "find_preset", "live_preset", "occupancy"]
