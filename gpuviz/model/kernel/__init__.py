"""A student's own kernel, headless: its arguments, its source, and the checker that finds its bugs in a trace.

Pure Python and NumPy, like the rest of the model: the kernel itself runs in
the engine's worker (:mod:`gpuviz.engine.user_kernel`).
"""

from .args import ArgError, ArgSpec, Expect, match_args, parse_arg, parse_expect
from .checker import KINDS, Constraints, Finding, Report, check_trace, compare_outputs, make_report
from .source import KernelInfo, KernelSource, SourceError, read_kernel_file

__all__ = ["KINDS", "ArgError", "ArgSpec", "Constraints", "Expect", "Finding", "KernelInfo", "KernelSource",
           "Report", "SourceError", "check_trace", "compare_outputs", "make_report", "match_args", "parse_arg",
           "parse_expect", "read_kernel_file"]
