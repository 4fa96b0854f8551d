"""The Speed panel's model on floor 1: what a sweep asks for, and the limits every caller shares.

The benchmark's own types (results, machine, measurements) live in
:mod:`gpuviz.model.speed`; this module is what the *panel* adds to them: the
typed ``[params]`` of a speed scenario (:class:`SpeedParams`), the limits of
one sweep (:data:`MAX_SPEED_SIZES`, :data:`CPU_MATMUL_MAX`) and the check
that the GUI, ``gpuviz bench`` and ``gpuviz export speed`` all make
(:func:`check_speed_request`), so they refuse the same request with the same
sentence.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import panel, speed
from .events import Observable
from .text import format_duration, format_ratio

#: The most sizes one speed sweep takes (each size runs every implementation).
MAX_SPEED_SIZES = 12
#: The largest matrix product N a sweep without a GPU implementation may ask for: three N×N float32
#: matrices and the CPU's time per size stay within a laptop's budget.
CPU_MATMUL_MAX = 4096
#: A speed scenario's tables.
PARAM_KEYS = ("op", "sizes", "impls")
VIEW_KEYS = ("results", "figure")
#: What a speed scenario draws (``[view] figure``): the sweep's plots, or the CPU-vs-GPU view (the lecture's
#: reference table beside the dense layer's examples per second, issue 17).
FIGURES = ("sweep", "cpu-vs-gpu")


def check_speed_request(op, sizes, impls, gpu: bool | None = None) -> tuple[str, tuple[int, ...], tuple[str, ...]]:
    """A speed sweep's ``op``, ``sizes`` and ``impls`` checked and normalised (sizes sorted, impls in order).

    ``gpu`` says whether this machine has a CUDA GPU (None: not known yet).
    Raises :class:`gpuviz.model.speed.SpeedError` with one sentence: an unknown
    op or implementation, a size that is not a positive whole number or over
    the op's limit, more than :data:`MAX_SPEED_SIZES` sizes, or a matrix
    product over :data:`CPU_MATMUL_MAX` with no GPU to run it.
    """
    op = speed.check_op(op)
    sizes = speed.check_sizes(op, sizes)
    if len(sizes) > MAX_SPEED_SIZES:
        raise speed.SpeedError(f"{len(sizes)} sizes are too many for one sweep: at most {MAX_SPEED_SIZES}")
    impls = speed.check_impls(impls)
    if op == "matmul" and sizes[-1] > CPU_MATMUL_MAX:
        on_gpu = gpu is not False and any(i in speed.GPU_IMPLS for i in impls)
        if not on_gpu:
            raise speed.SpeedError(f"N = {sizes[-1]:,} is over the CPU budget for a matrix product (memory and "
                                   f"time): at most N = {CPU_MATMUL_MAX:,} without a GPU")
    return op, sizes, impls


def _int_list(value, name: str) -> list[int]:
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise panel.ParamsError(f"{name} must be an array of whole numbers like [64, 128], got "
                                f"{panel.value_kind(value)} {value!r}")
    return list(value)


def _str_list(value, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise panel.ParamsError(f"{name} must be an array of strings like [\"python\", \"numpy\"], got "
                                f"{panel.value_kind(value)} {value!r}")
    return list(value)


@dataclass(frozen=True)
class SpeedParams:
    """What a ``panel = "speed"`` scenario's ``[params]`` says: one sweep.

    Parameters
    ----------
    op : {"dot", "matmul", "layer"}
        What is timed (:data:`gpuviz.model.speed.OPS`).
    sizes : tuple of int
        Vector lengths, matrix sizes N or batch sizes, as written (at most :data:`MAX_SPEED_SIZES`).
    impls : tuple of str
        Implementations, as written (:data:`gpuviz.model.speed.IMPLS`).
    """

    op: str
    sizes: tuple[int, ...]
    impls: tuple[str, ...]

    @classmethod
    def from_dict(cls, params: dict) -> SpeedParams:
        """From a ``[params]`` table; raises :class:`~gpuviz.model.panel.ParamsError` naming the key."""
        panel.table(params, "[params] of a speed scenario", PARAM_KEYS)
        for key in PARAM_KEYS:
            panel.require(params, key, "[params]")
        op = panel.text(params["op"], "[params] op", nonempty=True)
        sizes = _int_list(params["sizes"], "[params] sizes")
        impls = _str_list(params["impls"], "[params] impls")
        try:
            check_speed_request(op, sizes, impls)
        except speed.SpeedError as e:  # said as a [params] problem of the scenario
            raise panel.ParamsError(f"[params]: {e}", "sizes") from None
        return cls(op, tuple(sizes), tuple(impls))

    def to_dict(self) -> dict:
        return {"op": self.op, "sizes": list(self.sizes), "impls": list(self.impls)}


def read_view(raw) -> dict:
    """A speed scenario's ``[view]``: ``results``, a benchmark file's name, and ``figure`` (:data:`FIGURES`)."""
    panel.table(raw, "[view] of a speed scenario", VIEW_KEYS)
    view = {}
    if "results" in raw:
        view["results"] = panel.text(raw["results"], "[view] results", nonempty=True)
    if "figure" in raw:
        figure = panel.text(raw["figure"], "[view] figure", nonempty=True)
        if figure not in FIGURES:
            raise panel.ParamsError(f"[view] figure must be one of {', '.join(FIGURES)}, got {figure!r}")
        view["figure"] = figure
    return view


def check_scenario(params: SpeedParams, view: dict, key_steps) -> None:
    """The speed panel has no steps: a key step may only be step 0."""
    unknown = [key for key in view if key not in VIEW_KEYS]
    if unknown:
        raise panel.ParamsError(f"unknown key {unknown[0]!r} in [view] (known keys: {', '.join(VIEW_KEYS)})")
    if view.get("figure") == "cpu-vs-gpu" and params.op != "layer":
        raise panel.ParamsError("[view] figure = \"cpu-vs-gpu\" shows examples per second: it needs op = \"layer\"")
    for i, ks in enumerate(key_steps, 1):
        if ks.step != 0:
            raise panel.ParamsError(f"[[key_steps]] #{i}: step = {ks.step}, but the speed panel has no steps "
                                    f"(only step 0)")


# -- what the panel says about results ---------------------------------------------------------

#: Said wherever the simulator's figures appear: its time is the CPU emulating threads one by one.
SIMULATOR_NOTE = "correctness tool, not speed"
#: Implementations left off the throughput plots and the headline (their time is not a speed).
NOT_A_SPEED = ("simulator",)
#: What a size is called in a short label, per operation.
SIZE_SHORT = {"dot": "N", "matmul": "N", "layer": "batch"}
#: The folder a panel keeps a run's results in until they are saved (in the system's temporary folder).
TEMP_PREFIX = "gpuviz-speed-"


def impl_name(impl: str) -> str:
    """The implementation's name for people; the simulator's says it is not a speed."""
    name = speed.IMPL_LABELS.get(impl, impl)
    return f"{name} ({SIMULATOR_NOTE})" if impl == "simulator" else name


def headline(results, op: str) -> tuple[str, str]:
    """The large ratio line and the medians under it, from ``results``' own figures ("" where there are none).

    Dot and matmul: how many times faster NumPy (else the fastest implementation) is than the Python
    loop, at the largest size where both were measured. Layer: how many more examples per second the
    fastest batch size trains than the smallest, for NumPy (else the first implementation with two batches).
    """
    if results is None:
        return "", ""
    ms = [m for m in results.measurements if m.op == op and m.measured]
    if not ms:
        return "", ""
    if op == "layer":
        eps = results.examples_per_second()
        for impl in ["numpy"] + [i for i in speed.IMPLS if i != "numpy"]:
            pts = sorted((b, v) for (i, b), v in eps.items() if i == impl)
            if len(pts) >= 2:
                # the smallest batch against the batch that trained fastest (the curve may bend down after it)
                (b0, v0), (b1, v1) = pts[0], max(pts, key=lambda p: p[1])
                ratio = v1 / v0
                big = (f"Batch {b1:,} trains {format_ratio(ratio)} as many examples per second as batch {b0:,}"
                       if b1 != b0 else f"Batch {b0:,} trained the most examples per second here")
                return (big,
                        f"{impl_name(impl)}: {v0:,.0f} examples/s at batch {b0:,} → {v1:,.0f} examples/s at "
                        f"batch {b1:,} (one forward + backward step of the 10×784 layer)")
    # the headline from each implementation's fastest run (the least disturbed by other programs), the
    # medians' ratio beside it
    speedups = results.speedups("python", stat="min")
    by_median = results.speedups("python")
    sizes = sorted({m.size for m in ms}, reverse=True)
    for size in sizes:
        at = {m.impl: m for m in ms if m.size == size}
        if "python" not in at:
            continue
        rivals = [i for i in at if i not in ("python",) + NOT_A_SPEED]
        if not rivals:
            continue
        best = "numpy" if "numpy" in rivals else min(rivals, key=lambda i: at[i].median_s)
        ratio = speedups[(op, best, size)]
        faster = "faster" if ratio >= 1 else "slower"
        shown = ratio if ratio >= 1 else 1 / ratio
        big = f"{impl_name(best)} is {format_ratio(shown)} {faster} than the Python loop"
        median_ratio = by_median.get((op, best, size))
        if median_ratio is not None and abs(median_ratio / ratio - 1) > 0.1:
            # the bars and their labels are medians: where noise pulls the two ratios apart, the big line says
            # which one it is and gives the other, so the figure never shows two unexplained numbers
            other = median_ratio if ratio >= 1 else 1 / median_ratio
            big += f" (fastest runs; medians: {format_ratio(other)})"
        parts = []
        for impl in [i for i in speed.IMPLS if i in at]:
            m = at[impl]
            text = f"{impl_name(impl)} {format_duration(m.median_s)}"
            if impl not in ("python",) + NOT_A_SPEED and impl != best:
                text += f" ({format_ratio(speedups[(op, impl, size)])})"
            parts.append(text)
        reps = sorted({at[i].repeats for i in at})
        rep = f"median of {reps[0]}" if len(reps) == 1 else f"medians of {reps[0]}–{reps[-1]}"
        beside = (f"; ratio of the fastest runs, of the medians {format_ratio(median_ratio)}"
                  if median_ratio is not None else "")
        return big, f"{' · '.join(parts)}  ({rep} runs, {SIZE_SHORT.get(op, 'N')} = {size:,}{beside})"
    # no Python loop to compare with: say which was fastest, and by how much over the slowest
    size = sizes[0]
    at = [m for m in ms if m.size == size and m.impl not in NOT_A_SPEED]
    if not at:
        return "", ""
    fast = min(at, key=lambda m: m.median_s)
    return (f"Fastest at {SIZE_SHORT.get(op, 'N')} = {size:,}: {impl_name(fast.impl)}, "
            f"{format_duration(fast.median_s)}", "The Python loop was not measured at this size, so there is no "
            "ratio against it.")


def skipped_lines(measured) -> list[str]:
    """One line per reason a measurement was skipped, naming the implementations and sizes it applies to.

    ``GPU naive kernel, cuBLAS (CuPy) at every N: no GPU found`` — implementations skipped at the same
    sizes for the same reason share a line; a size list is "every N" where it is all the sizes shown.
    """
    if not measured:
        return []
    op = measured[0].op
    short = SIZE_SHORT.get(op, "N")
    every = sorted({m.size for m in measured})
    by_impl: dict[tuple[str, str], list[int]] = {}
    for m in measured:
        if m.skipped is not None:
            by_impl.setdefault((m.impl, m.skipped), []).append(m.size)
    shared: dict[tuple[tuple[int, ...], str], list[str]] = {}
    for (impl, reason), sizes in by_impl.items():
        shared.setdefault((tuple(sorted(sizes)), reason), []).append(impl)
    lines = []
    for (sizes, reason), impls in shared.items():
        where = f"every {short}" if len(every) > 1 and list(sizes) == every else \
            f"{short} = {', '.join(f'{s:,}' for s in sizes)}"
        lines.append(f"{', '.join(impl_name(i) for i in impls)} at {where}: {reason}")
    return lines


def sweep_of(params) -> tuple | None:
    """``(op, sorted sizes)`` of a speed request or scenario's params: what a title must describe."""
    try:
        return params["op"], tuple(sorted(int(s) for s in params["sizes"]))
    except (KeyError, TypeError, ValueError):
        return None


def is_session_file(path: Path, temp_folder: Path | None = None) -> bool:
    """Whether ``path`` is a results file this app wrote for itself: a panel's temporary copy of a run.

    A copy of the panel (an export) did not make the file, so the folder's name says it: every session's
    folder is made by :meth:`SpeedModel.keep_in_temp_file` as ``gpuviz-speed-*`` in the temporary folder.
    """
    if temp_folder is not None and Path(temp_folder) in path.parents:
        return True
    parent = path.parent
    return parent.name.startswith(TEMP_PREFIX) and Path(tempfile.gettempdir()).resolve() == parent.parent.resolve()


class SpeedModel(Observable):
    """The Speed panel's model: the sweep being measured, the results shown and where they are kept.

    The panel has no steps (``n_steps`` is 1). Listeners hear ``"request"`` when a run starts or
    ends, ``"live"`` when a measurement of the run comes in, ``"results"`` when the results shown
    change, and ``"file"`` when only the file that holds them does (the figures stay as they are).

    Attributes
    ----------
    request : tuple or None
        ``(op, sizes, impls)`` of the run going on (:func:`check_speed_request`'s answer), else None.
    results : BenchResults or None
        What the figures show when no run is going on.
    results_file : Path or None
        Where :attr:`results` are on disk (a file loaded or saved, or this session's temporary copy);
        None when they are nowhere, and then a scenario says "not measured yet", never something false.
    live : list of Measurement
        The running sweep's measurements so far.
    """

    n_steps = 1
    step = 0

    def __init__(self):
        self.request: tuple | None = None
        self.results = None
        self.results_file: Path | None = None
        self.live: list = []
        self._temp_dir: tempfile.TemporaryDirectory | None = None

    def set_step(self, step: int) -> None:
        """Nothing to move: the panel shows measurements, not a timeline."""

    # -- a run ----------------------------------------------------------------------------------

    def start(self, request: tuple) -> None:
        self.request, self.live = tuple(request), []
        self.emit("request")

    def add(self, measurement) -> None:
        self.live.append(measurement)
        self.emit("live")

    def end(self) -> None:
        self.request, self.live = None, []
        self.emit("request")

    def shown_results(self):
        """What the figures draw now: the run's measurements so far while it runs, else :attr:`results`."""
        if self.request is not None and self.live:
            machine = self.results.machine if self.results is not None else speed.Machine.unknown()
            return speed.BenchResults(machine, list(self.live), source="running")
        if self.request is not None:
            return None
        return self.results

    # -- results and their file -----------------------------------------------------------------

    def take(self, results, path=None) -> None:
        """Show ``results``, kept in ``path`` (None: nowhere yet)."""
        self.results, self.results_file = results, (Path(path) if path is not None else None)
        self.emit("results")

    def clear(self) -> None:
        self.results, self.results_file = None, None
        self.emit("results")

    def saved_as(self, path) -> None:
        """The results were written to ``path``: scenarios name that file from now on."""
        self.results_file = Path(path)
        self.emit("file")

    def keep_in_temp_file(self) -> Path | None:
        """Write results measured here to a file of this session, so a scenario (and an export) can name them;
        the file, or None when it could not be written (a scenario then says "not measured yet")."""
        try:
            if self._temp_dir is None:
                self._temp_dir = tempfile.TemporaryDirectory(prefix=TEMP_PREFIX)
            path = Path(self._temp_dir.name) / f"measured-{time.strftime('%Y%m%d-%H%M%S')}.json"
            self.results.save(path)
            self.results_file = path
        except (OSError, ValueError):
            self.results_file = None
        self.emit("file")
        return self.results_file

    @property
    def temp_folder(self) -> Path | None:
        """This session's folder of measured results (None until a run is kept)."""
        return Path(self._temp_dir.name) if self._temp_dir is not None else None

    @property
    def unsaved(self) -> bool:
        """Results measured in this session that live only in its temporary file."""
        folder = self.temp_folder
        return (self.results is not None and self.results_file is not None and folder is not None
                and folder in self.results_file.parents)

    def origin(self, results, shipped_folder) -> str:
        """Where ``results`` come from: ``"here"`` (measured, or this session's temporary file), ``"shipped"``
        (under ``shipped_folder``, the app's own) or ``"file"`` (a file someone saved)."""
        if not results.loaded:
            return "here"
        path = Path(results.source)
        if is_session_file(path, self.temp_folder):
            return "here"
        try:
            if path.resolve().is_relative_to(Path(shipped_folder).resolve()):
                return "shipped"
        except (OSError, FileNotFoundError):
            pass
        return "file"

    def close(self) -> None:
        """Remove this session's temporary results (the window is closing)."""
        if self._temp_dir is not None:
            self._temp_dir.cleanup()
            self._temp_dir = None


__all__ = ["CPU_MATMUL_MAX", "FIGURES", "MAX_SPEED_SIZES", "PARAM_KEYS", "VIEW_KEYS", "SpeedParams", "check_scenario",
           "check_speed_request", "read_view"]
__all__ += ["NOT_A_SPEED", "SIMULATOR_NOTE", "SIZE_SHORT", "TEMP_PREFIX", "SpeedModel", "headline", "impl_name",
            "is_session_file", "skipped_lines", "sweep_of"]
