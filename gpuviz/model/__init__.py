"""Floor 1: what gpuviz shows, as plain Python and NumPy. Never imports Qt or numba."""

from .budget import Budget, BudgetError, RunPlan, plan_run
from .launch import (
    WARP_SIZE,
    Dim3,
    LaunchConfig,
    LaunchError,
    ThreadIndex,
    lane_of,
    linear_thread_id,
    warp_of,
)
from .matmul import KERNELS, KernelMapping, MatmulProblem, ShapeError, launch_for, make_inputs, mapping_for
from .trace import Steps, Trace, derive_steps

__all__ = [
    "KERNELS", "WARP_SIZE", "Budget", "BudgetError", "Dim3", "KernelMapping", "LaunchConfig", "LaunchError",
    "MatmulProblem", "RunPlan", "ShapeError", "Steps", "ThreadIndex", "Trace", "derive_steps", "lane_of",
    "launch_for", "linear_thread_id", "make_inputs", "mapping_for", "plan_run", "warp_of",
]
