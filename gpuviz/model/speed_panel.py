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

from dataclasses import dataclass

from . import panel, speed

#: The most sizes one speed sweep takes (each size runs every implementation).
MAX_SPEED_SIZES = 12
#: The largest matrix product N a sweep without a GPU implementation may ask for: three N×N float32
#: matrices and the CPU's time per size stay within a laptop's budget.
CPU_MATMUL_MAX = 4096
#: A speed scenario's tables.
PARAM_KEYS = ("op", "sizes", "impls")
VIEW_KEYS = ("results",)


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
        except speed.SpeedError as e:  # a ValueError, not (yet) a ParamsError: model/speed.py is the benchmark's
            raise panel.ParamsError(f"[params]: {e}", "sizes") from None
        return cls(op, tuple(sizes), tuple(impls))

    def to_dict(self) -> dict:
        return {"op": self.op, "sizes": list(self.sizes), "impls": list(self.impls)}


def read_view(raw) -> dict:
    """A speed scenario's ``[view]``: only ``results``, a benchmark file's name."""
    panel.table(raw, "[view] of a speed scenario", VIEW_KEYS)
    view = {}
    if "results" in raw:
        view["results"] = panel.text(raw["results"], "[view] results", nonempty=True)
    return view


def check_scenario(params: SpeedParams, view: dict, key_steps) -> None:
    """The speed panel has no steps: a key step may only be step 0."""
    unknown = [key for key in view if key not in VIEW_KEYS]
    if unknown:
        raise panel.ParamsError(f"unknown key {unknown[0]!r} in [view] (known keys: {', '.join(VIEW_KEYS)})")
    for i, ks in enumerate(key_steps, 1):
        if ks.step != 0:
            raise panel.ParamsError(f"[[key_steps]] #{i}: step = {ks.step}, but the speed panel has no steps "
                                    f"(only step 0)")


__all__ = ["CPU_MATMUL_MAX", "MAX_SPEED_SIZES", "PARAM_KEYS", "VIEW_KEYS", "SpeedParams", "check_scenario",
           "check_speed_request", "read_view"]
