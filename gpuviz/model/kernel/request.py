"""One request to run and check a student's kernel, validated before anything runs.

The command line and (later) the window build a :class:`KernelRequest` from
what the user typed; every refusal is a :class:`RequestError` with one
sentence, the same words wherever the request came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..launch import Dim3, LaunchConfig, LaunchError
from .args import ArgError, ArgSpec, Expect, match_args, parse_arg, parse_expect
from .checker import Constraints
from .source import KernelSource, SourceError, read_kernel_file

__all__ = ["DEFAULT_MAX_EVENTS", "DEFAULT_TIMEOUT_S", "MAX_TIMEOUT_S", "KernelRequest", "RequestError"]

#: An endless loop is stopped after this long (``--timeout``).
DEFAULT_TIMEOUT_S = 10.0
MAX_TIMEOUT_S = 3600.0
#: A recording is stopped after this many events (each costs ~150 bytes until the trace is built).
DEFAULT_MAX_EVENTS = 4_000_000


class RequestError(ValueError):
    """A request that cannot run as asked; the message is one sentence."""


@dataclass(frozen=True)
class KernelRequest:
    """A student's kernel, its launch, its arguments and what to check.

    Parameters
    ----------
    source : KernelSource
        The file, read and parsed.
    function : str
        The kernel to launch.
    grid, block : Dim3
        The launch; within CUDA's limits.
    args : tuple of ArgSpec
        One per kernel parameter, in the kernel's order.
    expects : tuple of Expect
        Expected final values of output arrays.
    timeout : float
        Seconds before an endless loop is stopped.
    constraints : Constraints
        An exercise's limits.
    max_events : int
        A recording that logs more events is stopped like a time-out.
    """

    source: KernelSource
    function: str
    grid: Dim3
    block: Dim3
    args: tuple[ArgSpec, ...]
    expects: tuple[Expect, ...] = ()
    timeout: float = DEFAULT_TIMEOUT_S
    constraints: Constraints = field(default_factory=Constraints)
    max_events: int = DEFAULT_MAX_EVENTS

    @property
    def path(self) -> str:
        return self.source.path

    @property
    def launch(self) -> LaunchConfig:
        return LaunchConfig(self.grid, self.block)

    @classmethod
    def build(cls, path, function=None, grid="1", block="1", args=(), expects=(),
              timeout: float | None = None, constraints: Constraints | None = None,
              max_events: int = DEFAULT_MAX_EVENTS) -> KernelRequest:
        """Read, parse and check everything; :class:`RequestError` names the first problem.

        ``grid``/``block`` are ``X``, ``XxY`` or ``XxYxZ`` (text or Dim3), ``args``
        ``--arg`` texts or ArgSpecs, ``expects`` ``OUT=EXPR`` texts or Expects.
        """
        try:
            source = read_kernel_file(path)
            info = source.kernel(function)
            g = grid if isinstance(grid, Dim3) else Dim3.parse(str(grid))
            b = block if isinstance(block, Dim3) else Dim3.parse(str(block))
            LaunchConfig(g, b)
            specs = [a if isinstance(a, ArgSpec) else parse_arg(a) for a in args]
            ordered = match_args(info.params, specs)
            exps = [e if isinstance(e, Expect) else parse_expect(e, ordered) for e in expects]
        except (SourceError, LaunchError, ArgError) as e:
            raise RequestError(str(e)) from None
        seen = set()
        for e in exps:
            if e.name in seen:
                raise RequestError(f"--expect {e.name} is given twice")
            seen.add(e.name)
        t = DEFAULT_TIMEOUT_S if timeout is None else float(timeout)
        if not 0 < t <= MAX_TIMEOUT_S:
            raise RequestError(f"--timeout {timeout:g}: give a time-out between 0 and {MAX_TIMEOUT_S:g} seconds")
        return cls(source, info.name, g, b, tuple(ordered), tuple(exps), t, constraints or Constraints(),
                   int(max_events))

    def to_job(self) -> dict:
        """The worker's job (plain data: it crosses a process boundary)."""
        return {"kind": "user_kernel", "path": self.source.path, "function": self.function,
                "grid": list(self.grid.as_tuple()), "block": list(self.block.as_tuple()),
                "args": [a.to_dict() for a in self.args], "expects": [[e.name, e.expr] for e in self.expects],
                "timeout": float(self.timeout), "max_events": int(self.max_events)}
