"""What a run will cost, checked before anything is allocated or launched.

Two budgets: memory for arrays and traces (default 2 GiB), and the estimated
time Numba's CUDA simulator would take (a run estimated over two minutes must
be confirmed). The simulator's cost model is measured, not guessed: its
constants live in ``assets/calibration.toml``, written by
``scripts/calibrate_simulator.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

from ..paths import asset_path
from .launch import LaunchConfig
from .matmul import MatmulProblem, launch_for
from .text import format_bytes, format_duration
from .trace import RECORD_DTYPE, Trace

GIB = 1024**3
DEFAULT_MEMORY = 2 * GIB
DEFAULT_SIMULATOR_SECONDS = 120.0

#: Bytes one event takes in memory (structure of arrays).
EVENT_BYTES = Trace.empty(1).nbytes

#: Bytes one event takes at the peak of writing a trace: the events, their records (:data:`RECORD_DTYPE`)
#: and one text column of the records as it is built (``Trace.to_records``).
TRACE_PEAK_EVENT_BYTES = EVENT_BYTES + RECORD_DTYPE.itemsize + max(
    RECORD_DTYPE.fields[f][0].itemsize for f in ("op", "space", "array"))
#: ``numpy.lib.format.write_array`` writes a zip member in chunks of at most 16 MiB, each copied to bytes
#: before zlib takes it: a trace's records plus one chunk are held while it is written.
WRITE_CHUNK_BYTES = 16 * 1024**2
#: What writing a trace holds whatever its size (zlib's and the zip writer's buffers; measured about 2.6 MB).
TRACE_FIXED_BYTES = 4 * 1024**2


def trace_peak_bytes(events: int) -> int:
    """Bytes held at the peak of building and writing a trace of ``events`` events (measured with tracemalloc for
    every built-in kernel: the records being filled, or the records being written one chunk at a time)."""
    records = events * RECORD_DTYPE.itemsize
    filling = events * TRACE_PEAK_EVENT_BYTES
    writing = events * EVENT_BYTES + records + min(records, WRITE_CHUNK_BYTES)
    return max(filling, writing) + TRACE_FIXED_BYTES


class BudgetError(ValueError):
    """A run that would go over the memory or simulator-time budget.

    The message states the estimate and the budget in words any front end can
    show; ``cli_hint`` says what to type on the command line to go ahead.
    """

    def __init__(self, message: str, cli_hint: str = ""):
        super().__init__(message)
        self.cli_hint = cli_hint


@lru_cache(maxsize=1)
def simulator_calibration() -> dict[str, float]:
    """The simulator cost constants shipped in ``assets/calibration.toml``."""
    with open(asset_path("calibration.toml"), "rb") as f:
        return {k: float(v) for k, v in tomllib.load(f)["simulator"].items()}


def event_count(kernel: str, problem: MatmulProblem, launch: LaunchConfig) -> int:
    """Exact number of trace events of a launch of a built-in kernel."""
    m, n, k = problem.m, problem.n, problem.k
    if kernel in ("naive", "uncoalesced"):
        return 2 * m * n * k + m * n
    tile = launch.block.x
    tiles = math.ceil(k / tile)
    per_thread_per_tile = 2 + 2 + 2 * tile  # two shared writes, two barriers, 2·TILE shared reads
    global_reads = launch.grid.x * m * k + launch.grid.y * k * n
    return launch.threads * tiles * per_thread_per_tile + global_reads + m * n


def block_barriers(kernel: str, problem: MatmulProblem, launch: LaunchConfig) -> int:
    """``cuda.syncthreads()`` calls counted once per block (each costs the simulator a round of its threads)."""
    if kernel != "tiled":
        return 0
    return launch.blocks * 2 * math.ceil(problem.k / launch.block.x)


@dataclass(frozen=True)
class RunPlan:
    """The estimated cost of one run.

    Parameters
    ----------
    memory_bytes : int
        Arrays (A, B, C, the float64 reference) plus the trace, if one is kept.
    simulator_seconds : float
        Estimated simulator time (0 when the run is not on the simulator).
    events : int
        Trace events of the launch.
    """

    memory_bytes: int
    simulator_seconds: float
    events: int


def plan_run(kernel: str, problem: MatmulProblem, block, *, simulator: bool, trace: bool) -> RunPlan:
    launch = launch_for(kernel, problem, block)
    events = event_count(kernel, problem, launch)
    mem = problem.input_bytes()
    if trace:
        # the events in memory, the text-field records a trace file is written from, and the widest text
        # column while the records are filled (measured: the peak is exactly these three, 287 B an event for
        # every built-in kernel, recorded or vectorized; the vectorized build itself peaks lower)
        mem += trace_peak_bytes(events)
    cal = simulator_calibration()
    sim = (cal["seconds_per_thread"] * launch.threads + cal["seconds_per_event"] * events
           + cal["seconds_per_block_barrier"] * block_barriers(kernel, problem, launch)) if simulator else 0.0
    return RunPlan(int(mem), float(sim), int(events))


@dataclass(frozen=True)
class Budget:
    """Limits a run must fit in.

    Parameters
    ----------
    memory_bytes : int
        Most memory for arrays and traces (default 2 GiB).
    simulator_seconds : float
        Longest estimated simulator run started without confirmation (default 120 s).
    """

    memory_bytes: int = DEFAULT_MEMORY
    simulator_seconds: float = DEFAULT_SIMULATOR_SECONDS

    def check(self, plan: RunPlan, *, confirmed: bool = False) -> None:
        """Raise :class:`BudgetError` when ``plan`` does not fit (time only if not ``confirmed``)."""
        if plan.memory_bytes > self.memory_bytes:
            raise BudgetError(
                f"needs an estimated {format_bytes(plan.memory_bytes)} for arrays and trace, over the "
                f"memory budget of {format_bytes(self.memory_bytes)}", "raise it with --memory")
        if not confirmed and plan.simulator_seconds > self.simulator_seconds:
            raise BudgetError(
                f"the CUDA simulator would take an estimated {format_duration(plan.simulator_seconds)}, "
                f"over the {format_duration(self.simulator_seconds)} budget", "pass --yes to run it anyway")
