"""What the broadcasting panel shows: shapes, values, the model's explanation and the current step (no Qt).

The panel's widgets only read this object and move its step; the explanation,
the stretched copies and the sum come from :mod:`gpuviz.model.broadcast`.
"""

from __future__ import annotations

import numpy as np

from ...model import broadcast as bc


def random_shapes(seed: int, operands: int = 2) -> tuple[tuple[int, ...], ...]:
    """A practice pair (or more) from ``seed``, 0 to 3 dimensions: about 3 in 5 broadcast, the rest fail."""
    rng = np.random.default_rng(int(seed))
    ndim = int(rng.integers(1, 4))
    base = tuple(int(x) for x in rng.integers(2, 6, ndim))
    shapes = [base]
    for _ in range(operands - 1):
        nd = int(rng.integers(0, ndim + 1))
        dims = list(base[ndim - nd:])
        for i in range(nd):
            if rng.random() < 0.35:
                dims[i] = 1
        if nd and rng.random() < 0.65:  # break one dimension
            i = int(rng.integers(0, nd))
            dims[i] = dims[i] + 1 if dims[i] != 1 else int(base[ndim - nd + i]) + 1
        shapes.append(tuple(int(d) for d in dims))
    order = rng.permutation(len(shapes))
    return tuple(shapes[i] for i in order)


class BroadcastState:
    """Shapes, optional values, their explanation and the step on screen; listeners hear each change.

    Parameters
    ----------
    shapes : sequence of tuple of int
        The operands' shapes.
    values : str, list of array-like or None
        The operands' values: a :data:`gpuviz.model.broadcast.VALUE_KINDS` name
        (``"slide"``, ``"pitfall"``, …), arrays, or None for
        :func:`~gpuviz.model.broadcast.make_values`' ``"arange"`` numbers.
    show_values : bool
        Draw numbers in the cells (else empty cells).

    Notes
    -----
    Listeners are called ``listener(state, changes)`` with ``changes`` a set
    holding ``"params"`` (new shapes, values or explanation) and/or ``"step"``.
    """

    def __init__(self, shapes=((4, 3), (1, 3)), values=None, show_values: bool = True, seed: int = 0):
        self._listeners: list = []
        self.step = 0
        self.shapes: tuple = ()
        self.given_values = None
        self.show_values = bool(show_values)
        self._set(shapes, values, seed)

    # -- listeners ---------------------------------------------------------------------------------

    def subscribe(self, listener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _emit(self, changes: set) -> None:
        for listener in list(self._listeners):
            listener(self, changes)

    # -- parameters -----------------------------------------------------------------------------------

    def _set(self, shapes, values, seed: int = 0) -> None:
        shapes = tuple(tuple(int(d) for d in s) for s in shapes)
        if not shapes:
            raise ValueError("broadcasting needs at least one shape")
        arrays = None
        if isinstance(values, str):
            arrays = bc.make_values(shapes, values, seed)  # a lecture example's values, or "arange"/"random"
        elif values is not None:
            arrays = [np.asarray(v) for v in values]
            if len(arrays) != len(shapes) or any(a.shape != s for a, s in zip(arrays, shapes)):
                got = ", ".join(str(a.shape) for a in arrays)
                raise ValueError(f"the values have shapes {got}, not the shapes {shapes}")
        explanation = bc.explain(*shapes, with_add=True)
        self.shapes, self.given_values, self.explanation = shapes, arrays, explanation
        self.values_kind = values if isinstance(values, str) else None
        self.seed = int(seed)
        self._compute_values()
        self.step = min(self.step, self.n_steps - 1)

    def _compute_values(self) -> None:
        ex = self.explanation
        self.values = self.stretched = self.result = None
        self.values_note = ""
        if not self.show_values:
            return
        if self.given_values is not None:
            self.values = self.given_values
        else:
            try:
                self.values = bc.make_values(self.shapes, "arange")
            except ValueError as e:  # too many elements: cells without numbers
                self.values_note = f"values not drawn: {e}"
                return
        if ex.ok:
            self.stretched, self.result = bc.broadcast_values(*self.values)

    def set_shapes(self, shapes, values=None, seed: int = 0) -> None:
        """New operands (the step goes back to the first); raises ValueError for values of the wrong shape."""
        self._set(shapes, values, seed)
        self.step = 0
        self._emit({"params", "step"})

    def set_show_values(self, on: bool) -> None:
        self.show_values = bool(on)
        self._compute_values()
        self._emit({"params"})

    # -- steps ---------------------------------------------------------------------------------------

    @property
    def steps(self):
        return self.explanation.steps

    @property
    def n_steps(self) -> int:
        return len(self.explanation.steps)

    def set_step(self, step: int) -> None:
        step = int(np.clip(step, 0, self.n_steps - 1))
        if step != self.step:
            self.step = step
            self._emit({"step"})

    def step_by(self, delta: int) -> None:
        self.set_step(self.step + int(delta))

    def shown_steps(self, step: int | None = None):
        """The steps up to and including ``step`` (default: the current one)."""
        s = self.step if step is None else step
        return self.explanation.steps[: s + 1]

    def reached(self, kind: str, step: int | None = None) -> bool:
        """Whether a step of ``kind`` is on screen by ``step``."""
        return any(st.kind == kind for st in self.shown_steps(step))

    def stretched_dims(self, step: int | None = None) -> set[int]:
        """Dimensions (from the right) whose stretch step is on screen by ``step``."""
        return {int(st.dim) for st in self.shown_steps(step) if st.kind == "stretch" and st.dim is not None}

    def compared_dims(self, step: int | None = None) -> set[int]:
        """Dimensions (counted from the right, 1-based) whose comparison is on screen by ``step``."""
        dims: set[int] = set()
        for st in self.shown_steps(step):
            if st.kind == "compare":
                if st.dim is None:
                    dims |= {c.from_right for c in self.explanation.comparisons}
                else:
                    dims.add(int(st.dim))
        return dims


__all__ = ["BroadcastState", "random_shapes"]
