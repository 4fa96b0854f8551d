"""``gpuviz broadcast``: explain step by step whether and how NumPy broadcasts some shapes."""

from __future__ import annotations

import numpy as np

from ..model import broadcast as bc
from .common import EXIT_OK, UsageError, print_json


def add_parser(commands) -> None:
    """Add ``broadcast`` to ``gpuviz``'s subcommands."""
    broadcast = commands.add_parser(
        "broadcast", help="explain whether and how NumPy broadcasts some shapes",
        description="Explain step by step how NumPy broadcasts the shapes (right-align, pad with 1s, compare "
                    "each dimension from the right, stretch the 1s), or exactly why they do not broadcast.",
        epilog='Shapes as you would type them: "(5, 3, 2)", 5,3,2, 5x3x2, "(7,)", 7, "()" (a scalar). Values, one '
               'per shape: a nested list of JSON numbers such as "[[1,2,3],[4,5,6]]" (at most 10,000 numbers), or '
               'zeros, ones, arange (0, 1, 2, ...), random or random(SEED) (integers 0-99), or auto (1, 2, 3, ... '
               'times 100 per operand). Example: gpuviz broadcast "(4,3)" "(3,)" --values '
               '"[[1,2,3],[4,5,6],[7,8,9],[10,11,12]]" "[100,200,300]". Exit code 0 whether or not they broadcast; '
               '2 for a shape or values that cannot be read.')
    broadcast.add_argument("shapes", nargs="+", metavar="SHAPE", help="two or more shapes (one also works)")
    broadcast.add_argument("--values", nargs="+", metavar="VALUES",
                           help="each operand's values, one per SHAPE in the same order: a nested list or a word "
                                "(zeros, ones, arange, random, random(SEED), auto); prints the sum")
    broadcast.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    broadcast.set_defaults(handler=cmd_broadcast)


def _shape_table(ex: bc.Explanation) -> list[str]:
    """The shapes right-aligned in columns, padded 1s in brackets, and a row of verdicts under them."""
    labels = [bc.format_shape(s) for s in ex.shapes]
    cells = [[f"[{p}]" if d >= len(s) else str(p) for d, p in zip(range(ex.ndim - 1, -1, -1), padded)]
             for s, padded in zip(ex.shapes, ex.padded)]
    marks = {"equal": "ok", "incompatible": "NO"}
    verdicts = []
    for c in reversed(ex.comparisons):
        if ex.failing_dim is not None and c.from_right > ex.failing_dim:
            verdicts.append("")  # never compared: NumPy stops at the first mismatch from the right
        elif c.verdict == "stretch":
            verdicts.append(f"1→{c.result}")
        else:
            verdicts.append(marks[c.verdict])
    rows = cells + [verdicts]
    if ex.ok:
        rows.append([str(d) for d in ex.result_shape])
    width = max([len(x) for row in rows for x in row] + [1])
    names = labels + ["compare"] + (["result"] if ex.ok else [])
    name_width = max(len(n) for n in names)
    return [f"  {name.ljust(name_width)}  " + " ".join(x.rjust(width) for x in row).rstrip()
            for name, row in zip(names, rows)]


def cmd_broadcast(args) -> int:
    try:
        ex = bc.explain(*args.shapes)
    except bc.ShapeParseError as e:
        raise UsageError(str(e)) from None
    total = None
    if args.values is not None:
        try:
            total = bc.sum_values(ex.shapes, args.values)
        except bc.ValuesParseError as e:
            raise UsageError(f"--values: {e}") from None
    if args.json:
        data = ex.to_dict()
        if args.values is not None:
            data["sum"] = None if total is None else total.tolist()
        print_json(data)
        return EXIT_OK
    print(" + ".join(bc.format_shape(s) for s in ex.shapes))
    print()
    for line in _shape_table(ex):
        print(line)
    print()
    for i, step in enumerate(ex.steps, 1):
        print(f"{i}. {step.title}")
        print(f"   {step.text}")
    print()
    if ex.ok:
        print(f"Verdict: works, the result has shape {bc.format_shape(ex.result_shape)}. {ex.reason}")
    else:
        print(f"Verdict: fails at dimension {ex.failing_dim} from the right (NumPy raises a ValueError).")
    if total is not None:
        print()
        print("Sum:")
        print(np.array2string(total, threshold=200, max_line_width=100))
    return EXIT_OK

