"""The words that fill an array with starting values: ``zeros``, ``ones``, ``arange``, ``random``, ``random(SEED)``.

One grammar for every place a student or lecturer types how an array starts:
``gpuviz check --arg a=float32[100]:arange`` reads it, and
``gpuviz broadcast --values`` and the broadcast panel's values fields read the same words
(:func:`gpuviz.model.broadcast.operand_values`, integer arrays). Pure NumPy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

__all__ = ["DTYPES", "INIT_WORDS", "Init", "ValuesError", "make_array", "parse_init"]

#: The element types an array may have (what a student's kernel most often takes).
DTYPES = ("float32", "float64", "int32", "int64")
#: The fill words, in the order help texts list them.
INIT_WORDS = ("zeros", "ones", "arange", "random", "random(SEED)")

_RANDOM = re.compile(r"random\s*(?:\(\s*(\d+)\s*\))?")


class ValuesError(ValueError):
    """Text that does not name a fill or an element type; the message is one sentence."""


@dataclass(frozen=True)
class Init:
    """How an array starts.

    Parameters
    ----------
    word : {"zeros", "ones", "arange", "random"}
        ``arange`` counts 0, 1, 2, … in C order; ``random`` draws floats in
        [0, 1) or, for integer arrays, integers in [0, 100).
    seed : int
        Seed of ``numpy.random.default_rng`` for ``random`` (0 unless given).
    """

    word: str
    seed: int = 0

    def __str__(self) -> str:
        return f"random({self.seed})" if self.word == "random" and self.seed else self.word


def parse_init(text: str) -> Init:
    """Read ``zeros``, ``ones``, ``arange``, ``random`` or ``random(SEED)`` (case and blanks ignored)."""
    word = str(text).strip().lower()
    if word in ("zeros", "ones", "arange"):
        return Init(word)
    match = _RANDOM.fullmatch(word)
    if match is not None:
        return Init("random", int(match.group(1) or 0))
    raise ValuesError(f"“{str(text).strip()}” is not a fill: use one of {', '.join(INIT_WORDS)}")


def check_dtype(text: str) -> str:
    """The dtype name ``text`` names, or :class:`ValuesError`."""
    name = str(text).strip().lower()
    if name not in DTYPES:
        raise ValuesError(f"“{str(text).strip()}” is not an element type: use one of {', '.join(DTYPES)}")
    return name


def make_array(shape, dtype: str, init: Init) -> np.ndarray:
    """A new C-ordered array of ``shape`` and ``dtype`` filled as ``init`` says."""
    dt = np.dtype(check_dtype(dtype))
    shape = tuple(int(s) for s in shape)
    if init.word == "zeros":
        return np.zeros(shape, dt)
    if init.word == "ones":
        return np.ones(shape, dt)
    if init.word == "arange":
        return np.arange(int(np.prod(shape, dtype=np.int64)), dtype=dt).reshape(shape)
    if init.word == "random":
        rng = np.random.default_rng(init.seed)
        if dt.kind == "f":
            return rng.random(shape).astype(dt)
        return rng.integers(0, 100, shape).astype(dt)
    raise ValuesError(f"“{init.word}” is not a fill: use one of {', '.join(INIT_WORDS)}")
