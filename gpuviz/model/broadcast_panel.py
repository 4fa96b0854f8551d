"""What the broadcasting panel shows: shapes, values, the model's explanation and the current step (no Qt).

The panel's widgets only read this object and move its step; the explanation,
the stretched copies and the sum come from :mod:`gpuviz.model.broadcast`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import broadcast as bc
from . import limits
from .events import Observable
from .panel import ParamsError


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


class BroadcastState(Observable):
    """Shapes, optional values, their explanation and the step on screen; listeners hear each change.

    Parameters
    ----------
    shapes : sequence of tuple of int
        The operands' shapes.
    values : str, sequence or None
        The operands' values: a :data:`gpuviz.model.broadcast.VALUE_KINDS` name
        (``"slide"``, ``"pitfall"``, …); one spec per operand (a nested list or array, a fill word of
        :data:`~gpuviz.model.broadcast.VALUE_WORDS`, ``"auto"``), checked against its shape by
        :func:`~gpuviz.model.broadcast.operand_values`; or None for
        :func:`~gpuviz.model.broadcast.make_values`' ``"arange"`` numbers.
    show_values : bool
        Draw numbers in the cells (else empty cells).

    Notes
    -----
    Listeners are called ``listener(state, changes)`` with ``changes`` a set
    holding ``"params"`` (new shapes, values or explanation) and/or ``"step"``.
    """

    def __init__(self, shapes=((4, 3), (1, 3)), values=None, show_values: bool = True, seed: int = 0):
        self.step = 0
        self.shapes: tuple = ()
        self.given_values = None
        self.show_values = bool(show_values)
        self._set(shapes, values, seed)

    # -- parameters -----------------------------------------------------------------------------------

    def _set(self, shapes, values, seed: int = 0) -> None:
        shapes = tuple(tuple(int(d) for d in s) for s in shapes)
        if not shapes:
            raise ParamsError("broadcasting needs at least one shape", "shapes")
        if len(shapes) > limits.MAX_DRAWN_OPERANDS:
            raise ParamsError(f"{len(shapes)} operands: the picture draws at most {limits.MAX_DRAWN_OPERANDS}",
                              "shapes")
        for shape in shapes:
            bc.parse_shape(shape)  # the same bounds on sizes and dimensions as typed text
        arrays = specs = None
        if isinstance(values, str):
            arrays = bc.make_values(shapes, values, seed)  # a lecture example's values, or "arange"/"random"
        elif values is not None:
            # one spec per operand: a nested list, an array, a fill word or "auto"; each checked against its shape
            specs = bc.BroadcastParams.typed(shapes, values)
            arrays = bc.typed_values(shapes, specs)
        explanation = bc.explain(*shapes, with_add=True)
        self.shapes, self.given_values, self.explanation = shapes, arrays, explanation
        self.values_kind = values if isinstance(values, str) else None
        self.value_specs = specs
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
            n = math.prod(ex.result_shape)
            if n > bc.MAX_VALUE_ELEMENTS:
                # typed operands of 10,000 each can still broadcast to 10⁸ elements: not stretched in memory
                self.values_note = (f"sum not computed: the result has {n:,} elements (at most "
                                    f"{bc.MAX_VALUE_ELEMENTS:,})")
                return
            self.stretched, self.result = bc.broadcast_values(*self.values)

    def set_shapes(self, shapes, values=None, seed: int = 0) -> None:
        """New operands (the step goes back to the first); raises ParamsError (a
        :class:`~gpuviz.model.broadcast.ValuesParseError` naming the operand for values that do not fit its
        shape), and nothing changes, when refused."""
        self._set(shapes, values, seed)
        self.step = 0
        self.emit("params", "step")

    def set_show_values(self, on: bool) -> None:
        self.show_values = bool(on)
        self._compute_values()
        self.emit("params")

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
            self.emit("step")

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


    # -- the panel protocol ---------------------------------------------------------------------------

    def params(self) -> bc.BroadcastParams:
        """The parameters that rebuild this state (values named by kind, or each operand's typed values)."""
        return bc.BroadcastParams(self.shapes, self.value_specs if self.value_specs is not None else self.values_kind,
                                  self.seed)

    def view_state(self) -> dict:
        return {"step": self.step}

    def apply(self, params: bc.BroadcastParams, view: dict | None = None) -> None:
        """Show ``params`` at ``view``'s step (default the first); ParamsError, and no change, when refused."""
        self.set_shapes(params.shapes, params.values, params.seed)
        step = (view or {}).get("step", 0)
        if isinstance(step, int) and not isinstance(step, bool):
            self.set_step(step)


#: A broadcast quiz's answers, as ``[quiz] answer`` spells them.
QUIZ_ANSWERS = ("works", "fails")


def check_scenario(params: bc.BroadcastParams, view: dict, key_steps, quiz: dict) -> None:
    """Raise ParamsError unless the ``[quiz]`` answer agrees with NumPy and every key step is a step."""
    ex = params.explain(with_add=True)
    if quiz:
        answer = quiz.get("answer")
        if answer not in QUIZ_ANSWERS:
            raise ParamsError(f"[quiz] answer = {answer!r} must be \"works\" or \"fails\"", "quiz")
        if (answer == "works") != ex.ok:
            raise ParamsError(f"[quiz] answer = {answer!r} contradicts NumPy's rule: {ex.reason}", "quiz")
    check_quiz_view(view, quiz)
    for i, ks in enumerate(key_steps, 1):
        if not 0 <= ks.step < len(ex.steps):
            raise ParamsError(f"[[key_steps]] #{i}: step = {ks.step} is outside this explanation's steps, "
                              f"0 to {len(ex.steps) - 1}")


@dataclass(frozen=True)
class QuizQuestion:
    """One question of the quiz: the operands, what to ask, the letter on the slide (A–G) and the answer.

    Parameters
    ----------
    params : BroadcastParams
        The operands shown.
    question : str
        What the class is asked.
    works : bool
        Whether NumPy broadcasts them (checked against the rule when the scenario was read).
    letter : str
        The slide's letter ("" when the question has none).
    title : str
        The scenario's title.
    """

    params: bc.BroadcastParams
    question: str
    works: bool
    letter: str = ""
    title: str = ""


@dataclass(frozen=True)
class QuizRow:
    """One line of the quiz's summary: the question, the class's answer (None: not answered) and the verdict."""

    question: QuizQuestion
    given: bool | None

    @property
    def right(self) -> bool | None:
        """Whether the class's answer was NumPy's (None when the question was not answered)."""
        return None if self.given is None else self.given == self.question.works


class QuizState(Observable):
    """The class quiz: which question is on screen, the class's answer, whether it is revealed, the score,
    and, after the last question, the summary.

    Listeners hear ``"quiz"`` after each change. The panel shows the question's operands on its
    :class:`BroadcastState` and conceals the steps while :attr:`concealed` is true.

    Parameters
    ----------
    questions : sequence of QuizQuestion
        In the order they are asked (letter order A–G for the lecture's quiz).

    Notes
    -----
    The quiz ends: :meth:`next` after the last question sets :attr:`finished` (the summary of
    :meth:`rows` and the score) instead of wrapping round to the first question.
    """

    def __init__(self, questions=()):
        self.questions: tuple[QuizQuestion, ...] = tuple(questions)
        self.on = False
        self.index = 0
        self.answer: bool | None = None
        self.revealed = False
        self.finished = False
        self.given: list[bool | None] = [None] * len(self.questions)
        self.right = 0
        self.answered = 0

    @property
    def question(self) -> QuizQuestion:
        return self.questions[self.index % len(self.questions)]

    @property
    def concealed(self) -> bool:
        """A question is on screen and its answer not yet shown."""
        return self.on and not self.revealed and not self.finished

    @property
    def last(self) -> bool:
        """The question on screen is the last one."""
        return self.index == len(self.questions) - 1

    def start(self) -> bool:
        """Quiz mode on, from the first question with a fresh score; False (and off) when there are no questions."""
        if not self.questions:
            return False
        self.on, self.index, self.right, self.answered = True, 0, 0, 0
        self.answer, self.revealed, self.finished = None, False, False
        self.given = [None] * len(self.questions)
        self.emit("quiz")
        return True

    def stop(self) -> None:
        self.on, self.revealed, self.answer, self.finished = False, False, None, False
        self.right = self.answered = 0
        self.given = [None] * len(self.questions)
        self.index = 0
        self.emit("quiz")

    def give_answer(self, works: bool) -> bool:
        """The class's answer to the concealed question; False when it is not the time to answer."""
        if not self.concealed or self.answer is not None:
            return False
        self.answer = bool(works)
        self.emit("quiz")
        return True

    def reveal(self) -> bool:
        """Show the answer and score it; False before the class has answered."""
        if not self.concealed or self.answer is None:
            return False
        self.revealed = True
        self.answered += 1
        self.right += int(self.answer == self.question.works)
        self.given[self.index] = self.answer
        self.emit("quiz")
        return True

    def next(self) -> None:
        """The next question, concealed and unanswered; after the last one, the summary (:attr:`finished`)."""
        if not self.on or self.finished:
            return
        if self.last:
            self.finished = True
        else:
            self.index += 1
            self.answer, self.revealed = None, False
        self.emit("quiz")

    def finish_with(self, answers) -> None:
        """The summary after ``answers`` (one per question: True "works", False "fails", None not answered)."""
        answers = list(answers)
        if len(answers) != len(self.questions):
            raise ParamsError(f"{len(answers)} quiz answers for {len(self.questions)} questions", "quiz_answers")
        self.on, self.finished, self.revealed = True, True, True
        self.index = len(self.questions) - 1
        self.given = [None if a is None else bool(a) for a in answers]
        self.answered = sum(a is not None for a in self.given)
        self.right = sum(r.right is True for r in self.rows())
        self.answer = self.given[-1] if self.given else None
        self.emit("quiz")

    def rows(self) -> list[QuizRow]:
        """The summary: each question with the class's answer."""
        return [QuizRow(q, g) for q, g in zip(self.questions, self.given)]

    @property
    def correct(self) -> bool:
        """Whether the class's answer (once revealed) was right."""
        return self.answer == self.question.works


#: ``[view] quiz`` of a broadcast scenario: which quiz frame a picture shows.
QUIZ_FRAMES = ("question", "answer", "summary")
#: The words of ``[view] quiz_answers`` (the class's answers in question order; "" for none).
QUIZ_GIVEN = {"works": True, "fails": False, "": None}


def check_quiz_view(view: dict, quiz: dict) -> None:
    """Raise ParamsError unless ``[view] quiz`` (and ``quiz_answer``, ``quiz_answers``) can be shown."""
    frame = view.get("quiz")
    if frame is None:
        for key in ("quiz_answer", "quiz_answers"):
            if key in view:
                raise ParamsError(f"[view] {key} needs [view] quiz = \"answer\" or \"summary\"", "quiz")
        return
    if frame not in QUIZ_FRAMES:
        raise ParamsError(f"[view] quiz = {frame!r} must be one of {', '.join(QUIZ_FRAMES)}", "quiz")
    if frame in ("question", "answer") and not quiz:
        raise ParamsError(f"[view] quiz = {frame!r} needs the scenario's [quiz] table (its question and answer)",
                          "quiz")
    answer = view.get("quiz_answer")
    if answer is not None and (frame != "answer" or answer not in ("works", "fails")):
        raise ParamsError("[view] quiz_answer (the class's answer) is \"works\" or \"fails\", with quiz = "
                          "\"answer\"", "quiz")
    answers = view.get("quiz_answers")
    if frame == "summary":
        if not isinstance(answers, list) or not 0 < len(answers) <= 26 \
                or any(a not in QUIZ_GIVEN for a in answers):
            raise ParamsError("[view] quiz = \"summary\" needs quiz_answers: the class's answers in question "
                              "order, each \"works\", \"fails\" or \"\" (not answered)", "quiz")
    elif answers is not None:
        raise ParamsError("[view] quiz_answers goes with quiz = \"summary\"", "quiz")


def step_key(view: dict) -> str:
    """A broadcast scenario's step is ``[view] step``."""
    return "step"


__all__ = ["QUIZ_ANSWERS", "QUIZ_FRAMES", "QUIZ_GIVEN", "BroadcastState", "QuizQuestion", "QuizRow", "QuizState",
           "check_quiz_view", "check_scenario", "random_shapes", "step_key"]
