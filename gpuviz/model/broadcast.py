"""NumPy's broadcasting rule, explained step by step (pure NumPy, no Qt).

The rule, as NumPy applies it to any number of operands: right-align the
shapes, pad the shorter ones on the left with 1s, then compare each dimension
from the trailing one leftwards. A dimension is compatible when all its sizes
that are not 1 are equal; the result takes that size (or 1 when every size is
1), so a 1 meeting a 0 gives 0, while 0 and 5 are incompatible. Every verdict
here agrees with :func:`numpy.broadcast_shapes` (the tests check it with
hypothesis), and the values come from NumPy itself.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

import numpy as np

from . import limits
from . import values as fills
from .panel import ParamsError
from .text import format_count

#: The lecture's quiz: which of these work? (answers in :data:`QUIZ_ANSWERS`)
QUIZ = {
    "A": ((5, 3, 2), (3, 2)),
    "B": ((5, 3, 2), (5, 2)),
    "C": ((5, 3, 2), (5, 3)),
    "D": ((5, 3, 2), (5, 1, 2)),
    "E": ((5, 3, 2), (1, 3, 2)),
    "F": ((5, 3, 2), (5, 3, 1)),
    "G": ((5, 3, 2), ()),
}

#: The answers the lecture's slide gives (True: "success!", False: "failure").
QUIZ_ANSWERS = {"A": True, "B": False, "C": False, "D": True, "E": True, "F": True, "G": True}

#: Step kinds, in the order they can appear (``"add"`` only with ``explain(..., with_add=True)``).
STEP_KINDS = ("align", "pad", "compare", "fail", "stretch", "result", "add")

#: Value sets :func:`make_values` knows: two for any shapes, the rest are :func:`lecture_values` names.
VALUE_KINDS = ("arange", "random", "slide", "bias-add", "wx-plus-b", "pitfall")

#: The most elements :func:`make_values` creates for one operand or the result (a panel elides beyond a
#: few hundred anyway; this keeps a typo such as (100000, 100000) from eating the memory).
MAX_VALUE_ELEMENTS = 4_000_000

#: The most numbers one operand's typed values (a nested list or a fill word) may hold: a picture shows a
#: handful, and a lecturer types a few dozen; more is a slip (a (1000000000,) shape beside a fill word).
MAX_TYPED_ELEMENTS = 10_000
#: The most elements ``gpuviz broadcast --values`` computes of the sum (its JSON is about 10 bytes each).
MAX_SUM_ELEMENTS = 1_000_000
#: The largest magnitude of a typed number: sums of any number of them stay finite.
MAX_TYPED_MAGNITUDE = 1e300
#: Integers up to this magnitude stay integers (exact, and sums of many of them cannot overflow int64).
_EXACT_INT = 2 ** 53
#: Typed text longer than this is not read (10,000 numbers with 20 digits each fit).
_MAX_VALUES_TEXT = 400_000
#: The words an operand's values may be given by, besides a nested list: :mod:`gpuviz.model.values`' fills
#: and ``auto``, the panel's own numbering (operand j holds 1, 2, 3, … times 100**j).
VALUE_WORDS = (*fills.INIT_WORDS, "auto")


class ShapeParseError(ParamsError):
    """A shape that cannot be read; the message names the offending text.

    Parameters
    ----------
    text : str
        What was typed (or the value given).
    message : str
        Why it cannot be read, in one sentence.
    """

    def __init__(self, text, message: str):
        self.text = text
        super().__init__(message, "shapes")


def format_shape(shape) -> str:
    """``(5, 3, 2)``, ``(7,)`` or ``()``, as Python writes a tuple."""
    shape = tuple(int(s) for s in shape)
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"


_OPEN_CLOSE = {"(": ")", "[": "]"}
_SEPARATORS = (",", "x", "×", "*")


def parse_shape(text) -> tuple[int, ...]:
    """A shape as people type it: ``(5, 3, 2)``, ``5,3,2``, ``5x3x2``, ``5×3×2``, ``5 3 2``, ``[5, 3, 2]``,
    ``(7,)``, ``7`` and ``()`` (a scalar). Sizes are whole numbers ≥ 0.

    A tuple or list of whole numbers is accepted as it is (checked).

    Raises
    ------
    ShapeParseError
        Naming the text and what is wrong with it.
    """
    if isinstance(text, (tuple, list)):
        return _checked_sizes(text)
    if not isinstance(text, str):
        raise ShapeParseError(text, f"cannot read {text!r} as a shape: expected text such as (5, 3, 2)")
    shown = text.strip()
    body = shown
    if body[:1] in _OPEN_CLOSE:
        if body[-1:] != _OPEN_CLOSE[body[0]]:
            raise ShapeParseError(text, f"cannot read {shown!r} as a shape: {body[0]!r} is never closed")
        body = body[1:-1].strip()
    elif body[-1:] in (")", "]"):
        raise ShapeParseError(text, f"cannot read {shown!r} as a shape: {body[-1]!r} was never opened")
    if not body:
        if not shown:
            raise ShapeParseError(text, "no shape given: write one such as (5, 3, 2), or () for a scalar")
        return ()
    used = [sep for sep in _SEPARATORS if sep in body.lower()]
    if len(used) > 1:
        raise ShapeParseError(text, f"cannot read {shown!r} as a shape: use one kind of separator "
                                    f"(5, 3, 2 or 5x3x2), not {' and '.join(repr(s) for s in used)}")
    if used:
        parts = [p.strip() for p in re.split(re.escape(used[0]), body, flags=re.IGNORECASE)]
        if used[0] == "," and len(parts) > 1 and parts[-1] == "":
            parts = parts[:-1]  # Python's (7,) and (5, 3,)
    else:
        parts = body.split()
    if len(parts) > limits.MAX_NDIM:
        raise ShapeParseError(text, f"the shape {_clip(shown)} has {len(parts):,} dimensions; at most "
                                    f"{limits.MAX_NDIM} (NumPy's own limit is 64)")
    sizes = []
    for part in parts:
        if not part:
            raise ShapeParseError(text, f"cannot read {_clip(shown)} as a shape: a size is missing between "
                                        f"separators")
        if re.fullmatch(r"-\s*\d+", part):
            raise ShapeParseError(text, f"cannot read {_clip(shown)} as a shape: the size {_clip(part, 14)} is "
                                        f"negative (sizes are 0 or more)")
        if not re.fullmatch(r"\+?\d+", part):
            raise ShapeParseError(text, f"cannot read {_clip(shown)} as a shape: {_clip(part, 14)} is not a whole "
                                        f"number")
        digits = part.lstrip("+").lstrip("0") or "0"
        if len(digits) > len(str(limits.MAX_DIMENSION)) or int(digits) > limits.MAX_DIMENSION:
            raise ShapeParseError(text, f"the size {_clip(digits, 14)} in {_clip(shown)} is too large: at most "
                                        f"{limits.MAX_DIMENSION:,} per dimension")
        sizes.append(int(digits))
    return tuple(sizes)


def _checked_sizes(values) -> tuple[int, ...]:
    if len(values) > limits.MAX_NDIM:
        raise ShapeParseError(values, f"the shape has {len(values):,} dimensions; at most {limits.MAX_NDIM}")
    sizes = []
    for v in values:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
            raise ShapeParseError(values, f"cannot read {values!r} as a shape: {v!r} is not a whole number")
        if v < 0:
            raise ShapeParseError(values, f"cannot read {values!r} as a shape: the size {int(v)} is negative "
                                          f"(sizes are 0 or more)")
        if v > limits.MAX_DIMENSION:
            raise ShapeParseError(values, f"the size {_clip(str(int(v)), 14)} is too large: at most "
                                          f"{limits.MAX_DIMENSION:,} per dimension")
        sizes.append(int(v))
    return tuple(sizes)


@dataclass(frozen=True)
class DimComparison:
    """One dimension of the aligned shapes, compared across the operands.

    Parameters
    ----------
    from_right : int
        Which dimension, counted from the right: 1 is the trailing one.
    sizes : tuple of (int or None)
        Each operand's size there; None where the operand has no such
        dimension (it is a padded 1).
    padded : tuple of bool
        Per operand: is this a 1 added on the left by padding?
    verdict : str
        ``"equal"`` (all sizes the same, padded 1s counted as 1),
        ``"stretch"`` (compatible: some sizes are 1, the others agree) or
        ``"incompatible"`` (two sizes differ and neither is 1).
    result : int or None
        The result's size there; None if incompatible.
    stretched : tuple of bool
        Per operand: is its size 1 (given or padded) stretched to a
        different result size?
    """

    from_right: int
    sizes: tuple[int | None, ...]
    padded: tuple[bool, ...]
    verdict: str
    result: int | None
    stretched: tuple[bool, ...]

    @property
    def effective(self) -> tuple[int, ...]:
        """The sizes with padded dimensions read as 1."""
        return tuple(1 if s is None else s for s in self.sizes)


@dataclass(frozen=True)
class BroadcastStep:
    """One step of the explanation, as the panel animates it and the CLI prints it.

    Parameters
    ----------
    kind : str
        One of :data:`STEP_KINDS`: ``"align"``, ``"pad"``, ``"compare"``,
        ``"fail"``, ``"stretch"``, ``"result"``, ``"add"``.
    title : str
        Short, e.g. ``"Compare dimension 2 from the right"``.
    text : str
        One or two sentences a student understands.
    dim : int or None
        ``from_right`` of the dimension the step is about, else None.
    """

    kind: str
    title: str
    text: str
    dim: int | None = None

    def to_dict(self) -> dict:
        return {"kind": self.kind, "title": self.title, "text": self.text, "dim": self.dim}


@dataclass(frozen=True)
class Explanation:
    """Why some shapes broadcast, or exactly why they do not.

    Parameters
    ----------
    shapes : tuple of tuple of int
        The operands' shapes as given.
    ndim : int
        The result's number of dimensions (the longest shape's).
    padded : tuple of tuple of int
        Each shape left-padded with 1s to ``ndim`` dimensions.
    comparisons : tuple of DimComparison
        One per dimension, from the trailing one (``from_right = 1``)
        leftwards; all of them, also beyond a failing one.
    ok : bool
        Whether the shapes broadcast.
    result_shape : tuple of int or None
        The result's shape, None when they do not broadcast.
    failing_dim : int or None
        The first incompatible dimension met from the right, counted from
        the right starting at 1.
    failing_dim_left : tuple of (int or None) or None
        Per operand: that dimension's 0-based index from the left in the
        operand's own shape (None where the operand has no such dimension).
    reason : str
        One sentence: which dimension, the sizes and the rule that failed, or
        why the shapes work (which dimensions are stretched).
    steps : tuple of BroadcastStep
        ``align``, ``pad`` (only when some shape is shorter), one ``compare``
        per dimension from the right, then either ``fail`` (right after the
        failing comparison; no later comparisons) or one ``stretch`` per
        dimension where something is stretched, ``result`` and, if asked
        for, ``add``.
    """

    shapes: tuple[tuple[int, ...], ...]
    ndim: int
    padded: tuple[tuple[int, ...], ...]
    comparisons: tuple[DimComparison, ...]
    ok: bool
    result_shape: tuple[int, ...] | None
    failing_dim: int | None
    failing_dim_left: tuple[int | None, ...] | None
    reason: str
    steps: tuple[BroadcastStep, ...]

    def comparison(self, from_right: int) -> DimComparison:
        """The comparison of dimension ``from_right`` (1 = trailing)."""
        return self.comparisons[from_right - 1]

    def to_dict(self) -> dict:
        """Plain JSON-ready data (lists for tuples), as ``gpuviz broadcast --json`` prints it."""
        return {
            "ok": self.ok,
            "shapes": [list(s) for s in self.shapes],
            "ndim": self.ndim,
            "padded": [list(s) for s in self.padded],
            "result_shape": list(self.result_shape) if self.result_shape is not None else None,
            "failing_dim": self.failing_dim,
            "failing_dim_left": list(self.failing_dim_left) if self.failing_dim_left is not None else None,
            "reason": self.reason,
            "comparisons": [{"from_right": c.from_right, "sizes": list(c.sizes), "padded": list(c.padded),
                             "verdict": c.verdict, "result": c.result, "stretched": list(c.stretched)}
                            for c in self.comparisons],
            "steps": [s.to_dict() for s in self.steps],
        }


# -- wording ------------------------------------------------------------------------------------


def _join(items) -> str:
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _unique(values) -> list:
    seen = []
    for v in values:
        if v not in seen:
            seen.append(v)
    return seen


def _compare(from_right: int, shapes) -> DimComparison:
    sizes = tuple(s[-from_right] if from_right <= len(s) else None for s in shapes)
    padded = tuple(s is None for s in sizes)
    effective = [1 if s is None else s for s in sizes]
    others = _unique(s for s in effective if s != 1)
    if len(others) > 1:
        return DimComparison(from_right, sizes, padded, "incompatible", None, (False,) * len(sizes))
    result = others[0] if others else 1
    stretched = tuple(e == 1 and result != 1 for e in effective)
    verdict = "stretch" if any(stretched) else "equal"
    return DimComparison(from_right, sizes, padded, verdict, result, stretched)


def _size_words(c: DimComparison) -> str:
    words = ["1 (padded)" if p else str(s) for s, p in zip(c.sizes, c.padded)]
    return _join(words)


def _compare_text(c: DimComparison) -> str:
    sizes = _size_words(c)
    if c.verdict == "equal":
        if len(c.sizes) == 1:
            return f"There is one shape: its size {c.result} is the result's."
        return f"Sizes {sizes}: they are equal, so the result has {c.result} here."
    if c.verdict == "stretch":
        if c.result == 0:
            return (f"Sizes {sizes}: a 1 matches anything, and NumPy stretches it to 0, so the result is empty "
                    f"along this dimension.")
        return f"Sizes {sizes}: a 1 matches any size and is stretched to {c.result}, so the result has {c.result} here."
    return f"Sizes {sizes}: {_mismatch(c.effective)}, so they are incompatible."


def _mismatch(sizes) -> str:
    """Why these sizes (of one dimension, at least two distinct ones that are not 1) do not match."""
    bad = _unique(s for s in sizes if s != 1)
    if len(bad) == len(sizes):  # all of them take part: no need to name them again
        return "they differ and neither is 1" if len(bad) == 2 else "they differ and none of them is 1"
    return f"{_join(bad)} differ and " + ("neither is 1" if len(bad) == 2 else "none of them is 1")


def _index_words(c: DimComparison, shapes) -> str:
    return ", ".join(f"index {len(s) - c.from_right} of {format_shape(s)}"
                     for s, p in zip(shapes, c.padded) if not p)


def _fail_reason(c: DimComparison, shapes) -> str:
    bad = _unique(s for s in c.effective if s != 1)
    given = [s for s, p in zip(c.sizes, c.padded) if not p]
    rule = _mismatch(given)
    zero = " (a size of 0 matches only 0 or 1)" if 0 in bad else ""
    return (f"Dimension {c.from_right} from the right ({_index_words(c, shapes)}) has sizes {_join(given)}: "
            f"{rule}{zero}, so NumPy cannot stretch one to match the other.")


def _ok_reason(shapes, padded, comparisons, result) -> str:
    shown = format_shape(result)
    if len(shapes) == 1:
        return f"A single shape broadcasts to itself: {shown}."
    parts = []
    for i, shape in enumerate(shapes):
        dims = [c for c in comparisons if c.stretched[i]]
        pad = len(padded[i]) - len(shape)
        if not dims and not pad:
            continue
        what = format_shape(shape)
        if pad and not shape:
            what += f" (a scalar, padded to {format_shape(padded[i])})"
        elif pad:
            what += f" (padded to {format_shape(padded[i])})"
        if dims:
            dims = sorted(dims, key=lambda c: -c.from_right)
            word = "dimension" if len(dims) == 1 else "dimensions"
            parts.append(f"{what} is stretched along {word} {_join(c.from_right for c in dims)} from the right "
                         f"({', '.join(f'1 → {c.result}' for c in dims)})")
        else:
            parts.append(f"{what} needs no stretching")
    if not parts:
        return f"The shapes are equal, so NumPy adds element by element with nothing stretched; the result is {shown}."
    return f"The shapes broadcast to {shown}: " + "; ".join(parts) + "."


def explain(*shapes, with_add: bool = False) -> Explanation:
    """Explain how NumPy broadcasts ``shapes`` (1 or more; tuples of ints or text for :func:`parse_shape`).

    ``with_add`` appends an ``"add"`` step (for a panel that then shows the
    element-wise sum with values) when the shapes broadcast.

    Raises
    ------
    ShapeParseError
        For a shape that cannot be read.
    ValueError
        When no shape is given.
    """
    if len(shapes) == 1 and isinstance(shapes[0], (list, tuple)) and shapes[0] \
            and all(isinstance(s, (list, tuple, str)) for s in shapes[0]):
        shapes = tuple(shapes[0])  # explain([a, b]) as well as explain(a, b)
    if not shapes:
        raise ValueError("broadcasting needs at least one shape")
    shapes = tuple(parse_shape(s) for s in shapes)
    ndim = max(len(s) for s in shapes)
    padded = tuple((1,) * (ndim - len(s)) + s for s in shapes)
    comparisons = tuple(_compare(d, shapes) for d in range(1, ndim + 1))
    failing = next((c for c in comparisons if c.verdict == "incompatible"), None)
    names = _join(format_shape(s) for s in shapes)

    steps = [BroadcastStep("align", "Right-align the shapes",
                           f"Write {names} one under the other, lined up at their last (trailing) dimension."
                           if len(shapes) > 1 else f"One shape, {names}: nothing to line up.")]
    short = [i for i, s in enumerate(shapes) if len(s) < ndim]
    if short:
        sentences = [f"{format_shape(shapes[i])} has {format_count(len(shapes[i]), 'dimension')}, so it is read as "
                     f"{format_shape(padded[i])}" for i in short]
        steps.append(BroadcastStep("pad", "Pad with 1s on the left",
                                   f"The longest shape has {format_count(ndim, 'dimension')}: "
                                   + "; ".join(sentences) + "."))
    for c in comparisons:
        steps.append(BroadcastStep("compare", f"Compare dimension {c.from_right} from the right",
                                   _compare_text(c), c.from_right))
        if c is failing:
            break

    if failing is not None:
        reason = _fail_reason(failing, shapes)
        steps.append(BroadcastStep("fail", f"Dimension {failing.from_right} from the right does not match",
                                   reason, failing.from_right))
        left = tuple(None if p else len(s) - failing.from_right for s, p in zip(shapes, failing.padded))
        return Explanation(shapes, ndim, padded, comparisons, False, None, failing.from_right, left, reason,
                           tuple(steps))

    result = tuple(c.result for c in reversed(comparisons))
    for c in comparisons:
        if c.verdict != "stretch":
            continue
        who = _join(format_shape(padded[i]) if len(shapes[i]) < ndim else format_shape(shapes[i])
                    for i, st in enumerate(c.stretched) if st)
        if c.result == 0:
            text = f"{who} has size 1 here and the other size is 0: it becomes 0 (nothing to copy), so the result " \
                   f"is empty."
        else:
            text = (f"{who} has size 1 along this dimension, so its one slice is repeated {c.result} times "
                    f"(1 → {c.result}); NumPy does this without copying memory.")
        steps.append(BroadcastStep("stretch", f"Stretch dimension {c.from_right} from the right", text,
                                   c.from_right))
    reason = _ok_reason(shapes, padded, comparisons, result)
    steps.append(BroadcastStep("result", f"Result shape {format_shape(result)}",
                               f"Each dimension takes the size that is not 1 (or 1 where all are 1): "
                               f"the result has shape {format_shape(result)}."))
    if with_add:
        steps.append(BroadcastStep("add", "Add element by element",
                                   f"With every operand stretched to {format_shape(result)}, each result element "
                                   f"is the sum of the elements at the same position."))
    return Explanation(shapes, ndim, padded, comparisons, True, result, None, None, reason, tuple(steps))


# -- values --------------------------------------------------------------------------------------


def broadcast_values(*arrays) -> tuple[list[np.ndarray], np.ndarray]:
    """The operands stretched to the common shape (real copies) and their element-wise sum, as NumPy computes.

    Raises
    ------
    ValueError
        With :func:`explain`'s reason when the shapes do not broadcast.
    """
    if not arrays:
        raise ValueError("broadcasting needs at least one array")
    arrays = [np.asarray(a) for a in arrays]
    ex = explain(*(a.shape for a in arrays))
    if not ex.ok:
        raise ValueError(ex.reason)
    stretched = [np.array(np.broadcast_to(a, ex.result_shape)) for a in arrays]
    total = arrays[0].copy() if len(arrays) == 1 else arrays[0] + arrays[1]
    for a in arrays[2:]:
        total = total + a
    return stretched, np.asarray(total)


_SLIDE = np.arange(1, 13).reshape(4, 3)


def lecture_values(name: str) -> list[np.ndarray]:
    """The lecture's operands for one example, as integer arrays.

    ``"slide"``: the 4×3 matrix 1…12 and the row [[100, 200, 300]].
    ``"bias-add"``: a batch of 4 outputs of 10 units, (4, 10) with 1…40, and a bias per unit,
    (1, 10) with 100, 200, …, 1000.
    ``"wx-plus-b"``: Wx for the slide's W (4×3) and x = (1, 1, 1)ᵀ, i.e. (4, 1) row sums 6, 15, 24, 33,
    and b (4, 1) with 100, 200, 300, 400.
    ``"pitfall"``: the same (4, 10) outputs and a (4, 1) column 100…400, which broadcasts but adds one
    value per example (row) instead of one per output unit (column).
    """
    if name == "slide":
        return [_SLIDE.copy(), np.array([[100, 200, 300]])]
    outputs = np.arange(1, 41).reshape(4, 10)
    if name == "bias-add":
        return [outputs, (np.arange(1, 11) * 100).reshape(1, 10)]
    if name == "wx-plus-b":
        return [_SLIDE @ np.ones((3, 1), dtype=_SLIDE.dtype), (np.arange(1, 5) * 100).reshape(4, 1)]
    if name == "pitfall":
        return [outputs, (np.arange(1, 5) * 100).reshape(4, 1)]
    known = [k for k in VALUE_KINDS if k not in ("arange", "random")]
    raise ValueError(f"no lecture values called {name!r} (known: {', '.join(known)})")


def check_values(shapes, kind: str) -> None:
    """Raise ValueError unless :func:`make_values` can fill ``shapes`` with ``kind`` (allocates nothing)."""
    shapes = [parse_shape(s) for s in shapes]
    if kind not in VALUE_KINDS:
        raise ValueError(f"values = {kind!r} is not one of {', '.join(VALUE_KINDS)}")
    sizes = [_element_count(s) for s in shapes]
    ex = explain(*shapes) if shapes else None
    if ex is not None and ex.ok:
        sizes.append(_element_count(ex.result_shape))
    if any(n > MAX_VALUE_ELEMENTS for n in sizes):
        raise ValueError(f"too many elements to fill with values ({max(sizes):,}; at most {MAX_VALUE_ELEMENTS:,})")
    if kind in _LECTURE_SHAPES and list(_LECTURE_SHAPES[kind]) != shapes:
        raise ValueError(f"values = {kind!r} are for shapes {_join(format_shape(s) for s in _LECTURE_SHAPES[kind])}, "
                         f"not {_join(format_shape(s) for s in shapes)}")


def make_values(shapes, kind: str = "arange", seed: int = 0) -> list[np.ndarray]:
    """Values for ``shapes``: ``"arange"`` (operand 0 holds 1, 2, 3, …; operand j the same times 100**j,
    so the slide's 1…12 and 100, 200, 300 come out), ``"random"`` (small integers −9…9 from ``seed``),
    or a :func:`lecture_values` name (then ``shapes`` must be that example's shapes).

    Raises
    ------
    ValueError
        For an unknown kind, shapes that do not fit a lecture example, or more than
        :data:`MAX_VALUE_ELEMENTS` elements in an operand or in the result.
    """
    shapes = [parse_shape(s) for s in shapes]
    check_values(shapes, kind)
    if kind == "arange":
        return [(np.arange(1, (int(np.prod(s, dtype=np.int64)) if s else 1) + 1, dtype=np.int64) * 100 ** j)
                .reshape(s) for j, s in enumerate(shapes)]
    if kind == "random":
        rng = np.random.default_rng(seed)
        return [rng.integers(-9, 10, size=s, dtype=np.int64) for s in shapes]
    return lecture_values(kind)


# -- typed values: a nested list or a fill word per operand ------------------------------------------------


class ValuesParseError(ParamsError):
    """An operand's typed values that cannot be used; the message is one sentence.

    Parameters
    ----------
    operand : int or None
        Which operand (0-based), when known.
    message : str
    """

    def __init__(self, message: str, operand: int | None = None):
        self.operand = operand
        super().__init__(message, "values")


def _element_count(shape) -> int:
    return math.prod(int(d) for d in shape)


def _reject_constant(name):
    raise ValuesParseError(f"{name} is not a number here: JSON numbers only (no NaN or Infinity)")


def _finite_float(text: str) -> float:
    v = float(text)
    if not math.isfinite(v) or abs(v) > MAX_TYPED_MAGNITUDE:
        raise ValuesParseError(f"{text} is too large: numbers up to 1e300 in magnitude")
    return v


def _nested_shape(obj, depth: int = 0, budget: list | None = None) -> tuple[int, ...]:
    """The shape of a nested list of numbers; ValuesParseError for ragged rows, non-numbers, too many numbers."""
    if budget is None:
        budget = [0]
    if isinstance(obj, bool) or obj is None or isinstance(obj, (str, dict)):
        shown = json.dumps(obj, ensure_ascii=False) if not isinstance(obj, dict) else "an object {…}"
        raise ValuesParseError(f"{shown[:40]} is not a number: values are numbers in nested lists")
    if isinstance(obj, (int, float)):
        budget[0] += 1
        if budget[0] > MAX_TYPED_ELEMENTS:
            raise ValuesParseError(f"more than {MAX_TYPED_ELEMENTS:,} numbers: typed values hold at most "
                                   f"{MAX_TYPED_ELEMENTS:,} an operand")
        if isinstance(obj, float) and not math.isfinite(obj):
            raise ValuesParseError(f"{obj} is not a number here: JSON numbers only (no NaN or Infinity)")
        if abs(obj) > MAX_TYPED_MAGNITUDE:
            shown = f"{obj:.3g}" if isinstance(obj, float) else _clip(str(obj), 12)
            raise ValuesParseError(f"{shown} is too large: numbers up to 1e300 in magnitude")
        return ()
    if not isinstance(obj, (list, tuple)):
        raise ValuesParseError(f"{obj!r} is not a number: values are numbers in nested lists")
    if depth >= 32:
        raise ValuesParseError("the lists are nested more than 32 deep: NumPy arrays have at most 32 dimensions")
    if not obj:
        return (0,)
    inner = [_nested_shape(x, depth + 1, budget) for x in obj]
    first = inner[0]
    for i, sh in enumerate(inner[1:], 2):
        if sh != first:
            what = "numbers" if len(first) <= 1 and len(sh) <= 1 else "entries"
            a = first[0] if first else 1
            b = sh[0] if sh else 1
            if not first or not sh:
                raise ValuesParseError("lists and plain numbers are mixed at one level: every row must be a list "
                                       "of the same length")
            raise ValuesParseError(f"ragged rows: row 1 has {a} {what} and row {i} has {b}; every row must have "
                                   f"the same length")
    return (len(obj), *first)


def _to_array(obj, shape) -> np.ndarray:
    flat: list = []

    def walk(x):
        if isinstance(x, (list, tuple)):
            for y in x:
                walk(y)
        else:
            flat.append(x)

    walk(obj)
    if all(isinstance(x, int) and abs(x) <= _EXACT_INT for x in flat):
        return np.array(flat, dtype=np.int64).reshape(shape)
    return np.array([float(x) for x in flat], dtype=np.float64).reshape(shape)


def _read_json(text: str):
    if len(text) > _MAX_VALUES_TEXT:
        raise ValuesParseError(f"the text is {len(text):,} characters long: typed values hold at most "
                               f"{MAX_TYPED_ELEMENTS:,} numbers an operand")
    if limits.json_depth(text) > limits.MAX_NDIM:
        raise ValuesParseError(f"the lists are nested {limits.json_depth(text):,} deep: at most {limits.MAX_NDIM} "
                               f"dimensions")
    try:
        return json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except json.JSONDecodeError as e:
        raise ValuesParseError(f"cannot read {_clip(text)} as a nested list of numbers: {e.msg} at character "
                               f"{e.pos + 1}") from None
    except RecursionError:
        raise ValuesParseError("the lists are nested too deep to read") from None
    except ValuesParseError:
        raise
    except ValueError:  # e.g. an integer of more than 4,300 digits
        raise ValuesParseError(f"cannot read {_clip(text)}: a number there has too many digits") from None


def _clip(text: str, n: int = 30) -> str:
    text = " ".join(str(text).split())
    return repr(text if len(text) <= n else text[:n - 1] + "…")


def canonical_values(spec):
    """A typed values spec as a scenario stores it: a fill word in its canonical spelling, ``"auto"``,
    a number or nested tuples of numbers (JSON text is read); raises :class:`ValuesParseError`."""
    if spec is None:
        return "auto"
    if isinstance(spec, np.ndarray):
        if spec.size > MAX_TYPED_ELEMENTS:
            raise ValuesParseError(f"{spec.size:,} numbers: typed values hold at most {MAX_TYPED_ELEMENTS:,} "
                                   f"an operand")
        spec = spec.tolist()
    if isinstance(spec, str):
        text = spec.strip()
        if not text:
            return "auto"
        if text.lower() == "auto":
            return "auto"
        if text.lower().lstrip("+-") in ("nan", "inf", "infinity"):
            raise ValuesParseError(f"{_clip(text)} is not a number here: JSON numbers only (no NaN or Infinity)")
        if text[0] in "[-+.0123456789":
            spec = _read_json(text)
        else:
            try:
                return str(fills.parse_init(text))
            except fills.ValuesError:
                raise ValuesParseError(f"cannot read {_clip(text)} as values: write a nested list such as "
                                       f"[[1, 2, 3], [4, 5, 6]] or one of {', '.join(VALUE_WORDS)}") from None
    _nested_shape(spec)

    def freeze(x):
        return tuple(freeze(y) for y in x) if isinstance(x, (list, tuple)) else x

    return freeze(spec)


def _thaw(spec):
    return [_thaw(x) for x in spec] if isinstance(spec, tuple) else spec


def operand_values(spec, shape, operand: int = 0, name: str | None = None) -> np.ndarray:
    """The values of one operand of ``shape`` from ``spec``: a nested list (or its JSON text), a number for
    shape ``()``, a fill word (``zeros``, ``ones``, ``arange`` counting 0, 1, 2, …, ``random`` or
    ``random(SEED)``: integers 0–99 from ``numpy.random.default_rng(SEED)``) or ``auto``/None (1, 2, 3, …
    times 100**operand, the panel's own numbering).

    Raises
    ------
    ValuesParseError
        One sentence, naming the operand (``name``, default A, B, C, …) when the values do not fit its shape,
        hold more than :data:`MAX_TYPED_ELEMENTS` numbers, or are not JSON numbers.
    """
    shape = tuple(int(d) for d in shape)
    who = name if name is not None else _operand_name(operand)
    try:
        spec = canonical_values(spec)
    except ValuesParseError as e:
        raise ValuesParseError(f"values of {who}: {e}", operand) from None
    n = _element_count(shape)
    if isinstance(spec, str):
        limit = MAX_VALUE_ELEMENTS if spec == "auto" else MAX_TYPED_ELEMENTS
        if n > limit:
            raise ValuesParseError(f"values of {who}: {format_shape(shape)} has {n:,} elements; "
                                   f"{spec} fills at most {limit:,} an operand", operand)
        if spec == "auto":
            return (np.arange(1, n + 1, dtype=np.int64) * 100 ** min(operand, 7)).reshape(shape)
        return fills.make_array(shape, "int64", fills.parse_init(spec))
    got = _nested_shape(spec)
    if got != shape:
        raise ValuesParseError(f"values of {who}: {_clip(json.dumps(_thaw(spec)))} has shape {format_shape(got)}, "
                               f"not {who}'s shape {format_shape(shape)}", operand)
    return _to_array(spec, shape)


def _operand_name(i: int) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return f"operand {letters[i]}" if 0 <= i < len(letters) else f"operand {i + 1}"


def typed_values(shapes, specs) -> list[np.ndarray]:
    """Every operand's values from ``specs`` (one per shape; see :func:`operand_values`).

    Raises
    ------
    ValuesParseError
        When the counts differ, or an operand's values cannot be used.
    """
    shapes = [parse_shape(s) for s in shapes]
    specs = list(specs)
    if len(specs) != len(shapes):
        raise ValuesParseError(f"{len(specs)} VALUES given for {format_count(len(shapes), 'shape')}: give one per "
                               f"shape, in the same order")
    return [operand_values(sp, sh, i) for i, (sp, sh) in enumerate(zip(specs, shapes))]


def sum_values(shapes, specs) -> np.ndarray | None:
    """The broadcast sum of the typed operands (None when the shapes do not broadcast).

    Raises
    ------
    ValuesParseError
        For values that cannot be used, or a sum of more than :data:`MAX_SUM_ELEMENTS` elements.
    """
    arrays = typed_values(shapes, specs)
    ex = explain(*(a.shape for a in arrays))
    if not ex.ok:
        return None
    n = _element_count(ex.result_shape)
    if n > MAX_SUM_ELEMENTS:
        raise ValuesParseError(f"the sum {format_shape(ex.result_shape)} has {n:,} elements; at most "
                               f"{MAX_SUM_ELEMENTS:,} are computed")
    return broadcast_values(*arrays)[1]


_LECTURE_SHAPES = {"slide": ((4, 3), (1, 3)), "bias-add": ((4, 10), (1, 10)), "wx-plus-b": ((4, 1), (4, 1)),
                   "pitfall": ((4, 10), (4, 1))}

#: Keys of a broadcast scenario's ``[params]`` table.
PARAM_KEYS = ("shapes", "left", "right", "values", "seed")


@dataclass(frozen=True)
class BroadcastParams:
    """What a broadcast scenario's ``[params]`` says: the operands' shapes and, optionally, their values.

    Parameters
    ----------
    shapes : tuple of tuple of int
        Two or more shapes (one is allowed but explains little).
    values : str, tuple or None
        A :data:`VALUE_KINDS` name for :func:`make_values`; or one typed spec per operand, as
        :func:`canonical_values` stores it (a fill word, ``"auto"``, a number, nested tuples of numbers), read
        by :func:`operand_values`; or None for no particular values.
    seed : int
        Seed of ``values = "random"``.
    """

    shapes: tuple[tuple[int, ...], ...]
    values: str | tuple | None = None
    seed: int = 0

    @classmethod
    def from_dict(cls, params: dict) -> BroadcastParams:
        """From a ``[params]`` table: ``shapes = ["(5, 3, 2)", [3, 2]]`` (text or arrays of whole numbers),
        or ``left`` and ``right`` for two operands; optional ``values`` and ``seed``.

        Raises
        ------
        ParamsError
            Naming the key and what is wrong (a :class:`ShapeParseError` for a shape).
        """
        unknown = [k for k in params if k not in PARAM_KEYS]
        if unknown:
            raise ParamsError(f"unknown key {unknown[0]!r} in [params] (known keys: {', '.join(PARAM_KEYS)})")
        if "shapes" in params:
            if "left" in params or "right" in params:
                raise ParamsError("[params] gives shapes and left/right: give one or the other")
            raw = params["shapes"]
            if not isinstance(raw, (list, tuple)) or not raw:
                raise ParamsError(f"[params] shapes must be a non-empty array of shapes, got {raw!r}")
        elif "left" in params and "right" in params:
            raw = [params["left"], params["right"]]
        else:
            raise ParamsError("missing key 'shapes' in [params] (or both 'left' and 'right')")
        shapes = []
        for i, item in enumerate(raw, 1):
            if not isinstance(item, (str, list, tuple)):
                raise ParamsError(f"[params] shape #{i} must be text such as \"(5, 3, 2)\" or an array of whole "
                                 f"numbers, got {item!r}")
            try:
                shapes.append(parse_shape(item))
            except ShapeParseError as e:
                raise ShapeParseError(item, f"[params] shape #{i}: {e}") from None
        if len(shapes) > limits.MAX_DRAWN_OPERANDS:
            raise ParamsError(f"[params] has {len(shapes)} shapes: a picture draws at most "
                              f"{limits.MAX_DRAWN_OPERANDS} operands (gpuviz broadcast explains any number)", "shapes")
        values = params.get("values")
        if isinstance(values, str):
            try:
                check_values(shapes, values)
            except ValueError as e:
                raise ParamsError(f"[params] {e}") from None
        elif isinstance(values, (list, tuple)):
            values = cls.typed(shapes, values, "[params] ")
        elif values is not None:
            raise ParamsError(f"[params] values must be one of {', '.join(VALUE_KINDS)}, or an array with one "
                              f"nested list or word ({', '.join(VALUE_WORDS)}) per shape")
        seed = params.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ParamsError(f"[params] seed must be a whole number, got {seed!r}")
        return cls(tuple(shapes), values, seed)

    @staticmethod
    def typed(shapes, specs, where: str = "") -> tuple:
        """``specs`` (one per shape) checked against ``shapes`` and stored canonically; raises
        :class:`ValuesParseError` naming the operand (prefixed by ``where``)."""
        shapes = [parse_shape(s) for s in shapes]
        specs = list(specs)
        if len(specs) != len(shapes):
            raise ValuesParseError(f"{where}values has {len(specs)} entries for {format_count(len(shapes), 'shape')}: "
                                   f"give one per shape, in the same order")
        out = []
        for i, (spec, shape) in enumerate(zip(specs, shapes)):
            try:
                operand_values(spec, shape, i)
                out.append(canonical_values(spec))
            except ValuesParseError as e:
                raise ValuesParseError(f"{where}{e}", i) from None
        return tuple(out)

    def to_dict(self) -> dict:
        """The ``[params]`` table, shapes written as Python writes them (``"(5, 3, 2)"``)."""
        d = {"shapes": [format_shape(s) for s in self.shapes]}
        if isinstance(self.values, tuple):
            d["values"] = [_thaw(v) for v in self.values]
        elif self.values is not None:
            d["values"] = self.values
        if self.seed:
            d["seed"] = self.seed
        return d

    def explain(self, with_add: bool = False) -> Explanation:
        return explain(*self.shapes, with_add=with_add)

    def arrays(self) -> list[np.ndarray] | None:
        """The operands' values (:func:`make_values`), or None when ``values`` is not set."""
        if self.values is None:
            return None
        if isinstance(self.values, tuple):
            return typed_values(self.shapes, self.values)
        return make_values(self.shapes, self.values, self.seed)


__all__ = ["MAX_SUM_ELEMENTS", "MAX_TYPED_ELEMENTS", "MAX_VALUE_ELEMENTS", "PARAM_KEYS", "VALUE_WORDS",
           "ValuesParseError", "canonical_values", "operand_values", "sum_values", "typed_values",
           "QUIZ", "QUIZ_ANSWERS", "STEP_KINDS", "VALUE_KINDS", "BroadcastParams",
           "BroadcastStep", "check_values",
           "DimComparison", "Explanation", "ShapeParseError", "broadcast_values", "explain", "format_shape",
           "lecture_values", "make_values", "parse_shape"]
