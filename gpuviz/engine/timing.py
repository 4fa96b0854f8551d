"""Timing the speed benchmark's implementations so that the figures hold under load, or say they do not.

No numba here (the worker passes Numba's thread controls in), so the rules are testable in any process:

* :func:`busy_cores`: how much CPU other programs use right now;
* :class:`ThreadLimits`: BLAS threads (threadpoolctl, optional) and Numba's parallel threads limited to the
  cores left free (:func:`gpuviz.model.speed.free_cores`), because a threaded call with more threads than
  free cores waits for a thread that waits for a time slice;
* :class:`Prepared` and :func:`interleave`: each implementation warmed up, then all of them timed in turns,
  one repeat each per round, so that a burst of load hits every one of them alike;
* each :class:`~gpuviz.model.speed.Measurement` keeps its minimum beside its median, the load average while
  it ran, and its noisy flag (:func:`gpuviz.model.speed.noisy_reason`).
"""

from __future__ import annotations

import math
import os
import sys
import time

import numpy as np

from ..model import speed


def load_average() -> float | None:
    """The 1-minute load average (None where the system has none)."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):  # not on every platform
        return None


# -- the CPU while measuring ----------------------------------------------------------------------------------


def _cpu_jiffies() -> tuple[int, int] | None:
    """``(busy, total)`` CPU time of the whole machine so far, from ``/proc/stat`` (None elsewhere)."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            parts = f.readline().split()
        values = [int(v) for v in parts[1:9]]
    except (OSError, ValueError):
        return None
    if len(values) < 5:
        return None
    idle = values[3] + values[4]  # idle and iowait
    return sum(values) - idle, sum(values)


def busy_cores(interval: float = 0.1) -> float | None:
    """Cores' worth of CPU other programs use: the larger of now and the last minute.

    Now: the machine's use over ``interval`` s while this sleeps (the 1-minute load average lags a program
    that has just started by tens of seconds). The last minute: the load average less one, the benchmark's
    own share of it (a short lull in a busy minute must not hand every core to BLAS: its threads then wait
    for time slices, and a 0.3 ms product takes 20 ms). None where neither can be read.
    """
    a = _cpu_jiffies()
    time.sleep(interval)
    b = _cpu_jiffies()
    now = None
    if a is not None and b is not None and b[1] > a[1]:
        now = (os.cpu_count() or 1) * (b[0] - a[0]) / (b[1] - a[1])
    load = load_average()
    minute = None if load is None else max(0.0, load - 1.0)
    known = [x for x in (now, minute) if x is not None]
    return max(known) if known else None


class ThreadLimits:
    """Limits NumPy's BLAS threads (threadpoolctl) and Numba's parallel threads to ``n`` while entered.

    ``blas`` and ``numba`` say what was set (None: not limited: threadpoolctl missing, no BLAS found, or Numba's
    threads not asked for). The limits are undone on exit.
    """

    def __init__(self, n: int, numba_threads=None):
        self.n = int(n)
        # (get_num_threads, set_num_threads) from numba, or None to leave Numba's threads alone
        self._numba = numba_threads
        self.blas: int | None = None
        self.numba: int | None = None
        self._blas_ctx = None
        self._numba_before: int | None = None

    def __enter__(self) -> ThreadLimits:
        try:
            from threadpoolctl import threadpool_info, threadpool_limits
        except ImportError:  # optional: without it BLAS keeps its own thread count, and threads says None
            threadpool_limits = None
        if threadpool_limits is not None:
            have = [lib["num_threads"] for lib in threadpool_info() if lib.get("user_api") == "blas"]
            if have:
                # never more threads than BLAS was given (OPENBLAS_NUM_THREADS=1 stays 1)
                self.blas = max(1, min(self.n, max(have)))
                self._blas_ctx = threadpool_limits(limits=self.blas, user_api="blas")
        if self._numba is not None:
            get, set_ = self._numba
            self._numba_before = get()
            # Numba refuses more threads than it started with: never ask for more than it has
            self.numba = max(1, min(self.n, self._numba_before))
            set_(self.numba)
        return self

    def __exit__(self, *exc) -> None:
        if self._blas_ctx is not None:
            self._blas_ctx.restore_original_limits()
        if self._numba_before is not None:
            self._numba[1](self._numba_before)

    def threads_of(self, impl: str, op: str) -> int | None:
        """The threads ``impl`` was allowed (None for single-threaded implementations and the GPU)."""
        if impl == "numpy":
            return self.blas
        if impl == "numba-parallel":
            return self.numba
        return None


def thread_clock_usable() -> bool:
    """Whether this system's per-thread CPU clock is fine enough to time sub-millisecond calls.

    Linux and macOS read it to the nanosecond or microsecond; Windows advances it in ~16 ms ticks.
    """
    if sys.platform == "win32":
        return False
    try:
        return time.get_clock_info("thread_time").resolution <= 1e-6
    except (AttributeError, ValueError, OSError):
        return False


def single_threaded(impl: str, blas_threads: int | None) -> bool:
    """Whether ``impl`` computes on the calling thread alone (then its CPU time is its time on the CPU).

    The Python loop and Numba's serial code always do; NumPy does when its BLAS is limited to one thread
    (its elementwise code is single-threaded); Numba's parallel code, the simulator and the GPU never do.
    """
    if impl in ("python", "numba", "numba-fastmath"):
        return True
    return impl == "numpy" and blas_threads == 1


def max_load(*loads) -> float | None:
    """The highest of the known load averages (None when none is known)."""
    known = [x for x in loads if x is not None]
    return max(known) if known else None


# -- measuring ----------------------------------------------------------------------------------------------


#: Least length of one timed repeat (s): tiny calls are timed in groups of ``number`` to last this long.
REPEAT_S = 1e-4

#: (op, impl) pairs already called in this worker: their code is compiled, so a first call costs no compile
_COMPILED: set[tuple[str, str]] = set()


class Prepared:
    """One implementation warmed up at one size: its first call's time, its error, its group size ``number``.

    ``runner`` has ``call()`` (one call, its result) and ``time(number)`` (seconds for ``number`` calls);
    ``d`` has ``op``, ``size`` and ``error(result)`` (see :mod:`gpuviz.engine.bench`).
    """

    def __init__(self, impl: str, runner, d):
        self.impl, self.runner, self.d = impl, runner, d
        t0 = time.perf_counter()
        result = runner.call()
        self.first = time.perf_counter() - t0
        self.error = d.error(result)
        one = runner.time(1)
        self.number = 1
        if one < REPEAT_S:
            # group tiny calls so that reading the clock stays ~1 % of a repeat; no more than that: the
            # minimum of many single calls is what another program's load leaves alone, the minimum of
            # groups of calls is not
            self.number = int(min(10_000, max(1, math.ceil(REPEAT_S / max(one, 1e-8)))))
        self.times: list[float] = []
        self.spent = 0.0  # seconds of this implementation's own repeats
        self.failure: str | None = None

    def repeat(self) -> None:
        t0 = time.perf_counter()
        seconds = self.runner.time(self.number)
        self.times.append(seconds / self.number)
        # a GPU's event time leaves out the launches' own cost: the budget counts whichever is longer
        self.spent += max(seconds, time.perf_counter() - t0)

    def wants_more(self, repeats: int, min_time: float, max_time: float) -> bool:
        if self.failure is not None or self.spent >= max_time or len(self.times) >= 10_000:
            return False
        return len(self.times) < repeats or self.spent < min_time

    def measurement(self, load: float | None, threads: int | None, cores: int) -> speed.Measurement:
        d, impl, times = self.d, self.impl, self.times
        median, fastest = float(np.median(times)), float(min(times))
        # JIT code compiles once per worker (the types never change between sizes): at later sizes the first
        # call's extra time is noise, not compilation, and reporting it as a tiny compile time would mislead
        compiled_now = impl in speed.JIT_IMPLS and (d.op, impl) not in _COMPILED
        compile_s = max(0.0, self.first - median) if compiled_now else None
        _COMPILED.add((d.op, impl))
        return speed.Measurement(d.op, impl, d.size, median, fastest, float(max(times)), len(times), compile_s, None,
                                 speed.flops(d.op, d.size), self.error, self.number, load=load, threads=threads,
                                 noisy=speed.noisy_reason(median, fastest, load, cores),
                                 clock=getattr(self.runner, "clock", None))


def interleave(prepared: list[Prepared], repeats: int = 3, min_time: float = 0.2, max_time: float = 2.0) -> None:
    """Time the prepared implementations in rounds, one repeat of each per round, into their ``times``.

    A burst of load from another program then hits every implementation alike instead of one of them, and
    the order turns each round so none is always first. Each implementation stays in the rounds until it has
    ``repeats`` repeats and ``min_time`` seconds of them, and leaves after ``max_time`` seconds. A repeat that
    raises takes that implementation out (its ``failure`` says why); the others go on.
    """
    active = [p for p in prepared if p.failure is None]
    turn = 0
    while active:
        k = turn % len(active)
        for p in active[k:] + active[:k]:
            try:
                p.repeat()
            except Exception as exc:  # reported as this implementation's failure; the rest are still timed
                p.failure = f"failed: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
        active = [p for p in active if p.wants_more(repeats, min_time, max_time)]
        turn += 1


__all__ = ["Prepared", "ThreadLimits", "busy_cores", "interleave", "load_average", "max_load", "single_threaded",
           "thread_clock_usable"]
