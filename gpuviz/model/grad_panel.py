"""What the weight-gradient panel shows, kept Qt-free: a dense layer, one example, a batch and a training run.

Every number comes from :mod:`gpuviz.model.dense` (forward, backward,
per-example outer products, the trainer); this object only remembers the
choices (layer, selected entry, batch step, α, batch size, seed) and tells its
listeners what changed, as :class:`~gpuviz.model.scene.MatmulScene` does.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass

import numpy as np

from . import dense
from .digits import load_digits
from .events import Observable
from .panel import ParamsError

LAYERS = dense.LAYERS
DEFAULT_BATCH = dense.DEFAULT_BATCH
MAX_REPLAY = dense.MAX_REPLAY
#: The panel's views; only ``batch`` has steps (one per example added to the sum).
VIEWS = ("layer", "batch", "train")
#: Keys of a grad scenario's ``[view]``: ``train_steps`` is an older spelling of ``[params] steps``.
VIEW_KEYS = ("view", "selected", "batch_step", "train_steps")


class GradStateError(ParamsError):
    """A choice the state refuses; ``field`` names the control it belongs to, the message says why."""

    def __init__(self, field: str, message: str):
        super().__init__(message, field)


@dataclass(frozen=True)
class EntryStory:
    """How one entry of ∂L/∂W is made: δ_i = p_i − y_i times x_j."""

    i: int
    j: int
    p: float
    y: float
    delta: float
    x: float
    value: float

    def text(self) -> str:
        """The story in plain text (a status bar, a terminal): subscripts written ``δ_1``."""
        return (f"∂L/∂W[{self.i},{self.j}] = δ_{self.i} · x_{self.j} = ({_num(self.p)} − {_num(self.y)}) · "
                f"{_num(self.x)} = {_num(self.delta)} · {_num(self.x)} = {_num(self.value)}")

    def html(self) -> str:
        """The story as rich text, with real subscripts (δ₁ · x₂ typeset, not ``δ_1 · x_2``)."""
        return rich_text(self.text())

    def subscripted(self) -> str:
        """The story in one plain line with Unicode subscript digits (``δ₁ · x₄₀₆``), for a status bar that
        shows no rich text."""
        sub = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
        return (f"∂L/∂W[{self.i},{self.j}] = δ{str(self.i).translate(sub)} · x{str(self.j).translate(sub)} = "
                f"({_num(self.p)} − {_num(self.y)}) · {_num(self.x)} = {_num(self.delta)} · {_num(self.x)} = "
                f"{_num(self.value)}")


# a subscript: "_" after a letter, then a word ("δ_i", "x_406", "∇_W", "p_k"); "{…}" groups several words
_SUBSCRIPT = re.compile(r"(?<=[^\s\d_(\[])_(\{[^}]*\}|[A-Za-z0-9]+)")


def script_runs(text: str) -> list[tuple[str, str]]:
    """``text`` cut into runs ``(text, kind)``, kind ``""`` (normal), ``"sub"`` or ``"sup"``: the same markup as
    :func:`rich_text` (``a_b``, ``a_{b c}``, ``ᵀ``), for a painter that sets the scripts itself."""
    runs: list[tuple[str, str]] = []
    pos = 0
    for m in _SUBSCRIPT.finditer(text):
        runs.append((text[pos:m.start()], ""))
        runs.append((m.group(1).strip("{}"), "sub"))
        pos = m.end()
    runs.append((text[pos:], ""))
    out: list[tuple[str, str]] = []
    for chunk, kind in runs:
        if kind:
            out.append((chunk, kind))
            continue
        for k, part in enumerate(chunk.split("ᵀ")):
            if k:
                out.append(("T", "sup"))
            out.append((part, ""))
    return [(t, k) for t, k in out if t]


#: Qt draws a sub- or superscript at this fraction of the size its format asks for.
SCRIPT_SHRINK = 2 / 3


def rich_text(text: str, script_pt: float | None = None) -> str:
    """``text`` as Qt rich text: ``a_b`` and ``a_{b c}`` become subscripts, ``ᵀ`` a superscript T.

    The panel writes its formulas once, in the plain spelling a terminal shows, and typesets them
    here; everything else is escaped, so a ``<`` in a message stays a ``<``. ``script_pt``: the point
    size the scripts are drawn at (Qt's default is 2/3 of the text's, which on a slide falls below
    the smallest legible size); None keeps Qt's.
    """
    if script_pt is None:
        sub, sup = "<sub>{}</sub>", "<sup>T</sup>"
    else:
        # Qt shrinks a script by SCRIPT_SHRINK after the size it is given: ask for the size / SCRIPT_SHRINK
        # (whole points, rounded up: Qt rounds the shrunk size down)
        size = f"font-size:{math.ceil(script_pt / SCRIPT_SHRINK + 0.5)}pt"
        sub = f'<span style="vertical-align:sub; {size}">{{}}</span>'
        sup = f'<span style="vertical-align:super; {size}">T</span>'
    out = html.escape(str(text), quote=False)
    # a hair space before a subscript j: its hook reaches back under the letter it hangs on (xⱼ)
    out = _SUBSCRIPT.sub(lambda m: ("\u200a" if m.group(1).startswith("j") else "")
                         + sub.format(m.group(1).strip("{}")), out)
    return out.replace("ᵀ", sup)


def _num(v: float) -> str:
    v = float(v)
    if v == int(v) and abs(v) < 1e6:
        return str(int(v))
    return f"{v:.4g}"


def parse_alpha(text) -> float:
    """α from a field's text; GradStateError("alpha", ...) for anything that is not a positive finite number."""
    raw = str(text).strip().replace(",", ".")
    try:
        value = float(raw)
    except ValueError:
        raise GradStateError("alpha", f"α must be a number such as 0.5, not “{_echo(text)}”.") from None
    try:
        return dense.check_alpha(value)
    except dense.DenseError as e:
        raise GradStateError("alpha", _sentence(str(e))) from None


def _echo(text, limit: int = 24) -> str:
    """What the user typed, as a message quotes it: stripped, and cut short (a pasted page stays one line)."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _sentence(text: str) -> str:
    text = text.strip()
    if text[:1].isascii():  # never turn α into a capital Α
        text = text[:1].upper() + text[1:]
    return text.rstrip(".") + "."


class GradState(Observable):
    """The weight-gradient panel's model.

    Parameters
    ----------
    layer : {"toy", "digits"}
    alpha : float
        Learning rate of the training run.
    batch : int
        Minibatch size of the training run.
    seed : int
        Seeds the layer's initial weights, the batch shown and the trainer's shuffling.
    loss : {"xent", "mse"}
        Softmax cross-entropy (p = softmax(z)) or mean squared error (p = z); both give δ = p − y.
    """

    def __init__(self, layer: str = "toy", alpha: float | None = None, batch: int = DEFAULT_BATCH, seed: int = 0,
                 loss: str = "xent"):
        self.loss = dense.check_loss(loss)
        if alpha is None:
            alpha = dense.DEFAULT_ALPHA[self.loss]
        self.view = "layer"
        self._digits = None
        self.layer_kind = ""
        self.alpha = float(alpha)
        self.batch = int(batch)
        self.seed = int(seed)
        self.selected = (0, 0)
        self.batch_step = 0
        self.trainer = None
        self.records: list = []
        self.diverged_message = ""
        self._build(layer, self.seed)

    # -- building -------------------------------------------------------------------------------

    @property
    def digits(self):
        if self._digits is None:
            self._digits = load_digits()
        return self._digits

    def _build(self, kind: str, seed: int) -> None:
        if kind not in LAYERS:
            raise GradStateError("layer", f"layer must be one of {', '.join(LAYERS)}, not “{kind}”.")
        if kind == "toy":
            layer, x, label = dense.toy_layer(seed, self.loss)
            # the toy layer has one example: its batch is that example
            self.x_all, self.labels = np.asarray(x, float)[None, :], np.array([label])
            data = None
        else:
            layer = dense.digits_layer(seed, self.loss)
            d = self.digits
            # the batch shown being summed is the training run's batch size, drawn from the seed
            idx = np.random.default_rng(seed).permutation(len(d.train_y))[:min(self.batch, len(d.train_y))]
            self.x_all, self.labels = np.asarray(d.train_x[idx]), np.asarray(d.train_y[idx])
            data = d
        self.layer_kind = kind
        self.layer = layer
        self.W0 = np.array(layer.W, copy=True)
        self.b0 = np.array(layer.b, copy=True)
        self._data = data
        self.batch_step = 0
        self._new_trainer()
        self._compute()
        # a new layer or example: an entry whose story has a non-zero product (a digit's corner pixel is blank)
        self.selected = self.default_entry()

    def _new_trainer(self) -> None:
        self.records = []
        self.diverged_message = ""
        #: the message's first sentence (what happened and what to try): a slide's room is the figure's
        self.diverged_summary = ""
        self.trainer = None
        if self._data is not None:
            self.layer.W = np.array(self.W0, copy=True)
            self.layer.b = np.array(self.b0, copy=True)
            self.trainer = dense.Trainer(self.layer, self._data, self.alpha, self.batch, self.seed)
        self.last_train_grads = None

    def _compute(self) -> None:
        """Forward and backward of the example (row 0) and of the accumulation batch, from the model."""
        x, labels = self.x_all, self.labels
        self.forward = self.layer.forward(x[0], labels[:1])
        self.grads = self.layer.backward(x[0], labels[:1])
        self.batch_grads = self.layer.backward(x, labels)
        self.y_all = np.asarray(self.batch_grads.y, float)

    # -- what is shown --------------------------------------------------------------------------

    @property
    def m(self) -> int:
        return int(np.asarray(self.layer.W).shape[0])

    @property
    def n(self) -> int:
        return int(np.asarray(self.layer.W).shape[1])

    @property
    def B(self) -> int:
        return int(self.x_all.shape[0])

    @property
    def x(self) -> np.ndarray:
        return self.x_all[0]

    @property
    def y(self) -> np.ndarray:
        return self.y_all[0]

    @property
    def p(self) -> np.ndarray:
        return np.asarray(self.forward.p, dtype=float).reshape(-1, self.m)[0]

    @property
    def z(self) -> np.ndarray:
        return np.asarray(self.forward.z, dtype=float).reshape(-1, self.m)[0]

    @property
    def delta(self) -> np.ndarray:
        return np.asarray(self.grads.dz, dtype=float).reshape(-1, self.m)[0]

    @property
    def dW(self) -> np.ndarray:
        return np.asarray(self.grads.dW, dtype=float)

    @property
    def W(self) -> np.ndarray:
        return np.asarray(self.layer.W, dtype=float)

    @property
    def b(self) -> np.ndarray:
        return np.asarray(self.layer.b, dtype=float)

    def story(self, i: int | None = None, j: int | None = None) -> EntryStory:
        i, j = self.selected if i is None else (i, j)
        p, y, x = float(self.p[i]), float(self.y[i]), float(self.x[j])
        return EntryStory(i, j, p, y, float(self.delta[i]), x, float(self.dW[i, j]))

    def default_entry(self) -> tuple[int, int]:
        """The entry shown first: row i of the largest |δ_i|, column j of the first largest x_j.

        Its product δ_i · x_j is non-zero whenever the example has any ink, so the first story read is
        never ``… · 0 = 0``; on the digits it is a pixel of the stroke, in the true class's row.
        """
        i = int(np.argmax(np.abs(self.delta)))
        j = int(np.argmax(np.abs(self.x)))
        return i, j

    def select(self, i: int, j: int) -> None:
        i, j = int(i), int(j)
        if not (0 <= i < self.m and 0 <= j < self.n):
            raise GradStateError("entry", f"entry ({i}, {j}) is outside ∇_W L, which is {self.m}×{self.n}.")
        if (i, j) != self.selected:
            self.selected = (i, j)
            self.emit("selection")

    def set_view(self, view: str) -> None:
        if view not in VIEWS:
            raise GradStateError("view", f"view must be one of {', '.join(VIEWS)}, not “{view}”.")
        if view != self.view:
            self.view = view
            self.emit("view")

    def set_layer(self, kind: str, seed: int | None = None) -> None:
        self._build(kind, self.seed if seed is None else int(seed))
        if seed is not None:
            self.seed = int(seed)
        self.emit("layer", "selection", "batch", "train")

    # -- batch accumulation ---------------------------------------------------------------------

    def per_example(self, k: int) -> np.ndarray:
        """Example k's outer product (p_k − y_k) x_kᵀ, from the model."""
        return np.asarray(self.batch_grads.per_example_dW(k), dtype=float)

    def partial_sum(self, steps: int | None = None) -> np.ndarray:
        """(1/B) Σ_{k < steps} (p_k − y_k) x_kᵀ: after B steps, the batch's gradient."""
        steps = self.batch_step if steps is None else steps
        acc = np.zeros((self.m, self.n))
        for k in range(steps):
            acc += self.per_example(k)
        return acc / self.B

    def product(self) -> np.ndarray:
        """The same gradient as one matrix product, (P − Y)ᵀ X / B, from the model's backward pass."""
        return np.asarray(self.batch_grads.dW, dtype=float)

    def set_batch_step(self, k: int) -> None:
        k = max(0, min(self.B, int(k)))
        if k != self.batch_step:
            self.batch_step = k
            self.emit("batch")

    # -- training -------------------------------------------------------------------------------

    @property
    def can_train(self) -> bool:
        return self.trainer is not None

    @property
    def diverged(self) -> bool:
        return bool(self.diverged_message)

    def set_training(self, alpha=None, batch=None, seed=None) -> None:
        """Change α, batch size or seed (validated first; nothing changes on a refusal) and restart training."""
        a = self.alpha if alpha is None else parse_alpha(alpha)
        b = self.batch if batch is None else self.check_batch(batch)
        s = self.seed if seed is None else int(seed)
        rebuild = s != self.seed or b != self.batch
        self.alpha, self.batch, self.seed = a, b, s
        if rebuild:
            self._build(self.layer_kind, s)
            self.emit("layer", "selection", "batch", "train")
        else:
            self.reset()

    def check_batch(self, batch) -> int:
        """A batch size typed by the user (text or a number), checked against the digits; GradStateError("batch")."""
        # the batch size is a setting of the digits run (the toy layer has one example)
        limit = len(self.digits.train_y)
        text = str(batch).strip()
        if text.lstrip("-").isdigit() and len(text) > 12:
            # a number longer than any data set (int() refuses past 4300 digits; no need to ask it)
            if text.startswith("-"):
                raise GradStateError("batch", f"The batch size must be at least 1, got {_echo(text)}.")
            raise GradStateError("batch", f"The batch size {_echo(text)} is larger than the data set ({limit} images).")
        try:
            return dense.check_batch(int(text) if text.lstrip("-").isdigit() else _echo(text, 40), limit)
        except dense.DenseError as e:
            raise GradStateError("batch", _sentence(str(e))) from None

    def reset(self) -> None:
        """Back to the seed's initial weights, with no steps taken."""
        self.layer.W = np.array(self.W0, copy=True)
        self.layer.b = np.array(self.b0, copy=True)
        self._new_trainer()
        self._compute()
        self.emit("train", "selection", "batch")

    def train(self, steps: int = 1) -> bool:
        """Take up to ``steps`` gradient-descent steps; False once diverged (the model keeps the last good W)."""
        if self.trainer is None or self.diverged:
            return False
        ok = True
        for _ in range(int(steps)):
            rec = self.trainer.step()
            if rec.diverged:
                self.diverged_summary = f"Diverged at step {rec.step}: {_sentence(rec.message)}"
                self.diverged_message = (f"{self.diverged_summary} Each update −α∇L "
                                         "overshot the minimum by more than it corrected, so the loss blew up. "
                                         "Training stopped; the picture keeps the last good step. Lower α, "
                                         "then Reset.")
                ok = False
                break
            self.records.append(rec)
        self.last_train_grads = self.trainer.last_gradients
        self.emit("train")
        return ok

    def refresh_gradients(self) -> None:
        """Recompute the example's gradient with the current (trained) weights, for the layer view."""
        self._compute()
        self.emit("selection", "batch")

    def history(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Step numbers, loss and held-out accuracy of the good steps so far."""
        steps = np.array([r.step for r in self.records], float)
        loss = np.array([r.loss for r in self.records], float)
        acc = np.array([np.nan if r.test_acc is None else r.test_acc for r in self.records], float)
        return steps, loss, acc

    # -- the panel protocol ---------------------------------------------------------------------

    @property
    def n_steps(self) -> int:
        """The batch view's steps: 0 to B examples added to the sum (the other views show one picture)."""
        return self.B + 1

    @property
    def step(self) -> int:
        return self.batch_step

    def set_step(self, step: int) -> None:
        self.set_batch_step(step)

    def params(self) -> dense.GradParams:
        """The parameters that rebuild this state, a diverged run replayed up to the step that diverged."""
        steps = len(self.records) + (1 if self.diverged else 0)
        return dense.GradParams(self.layer_kind, self.alpha, self.batch, self.seed, self.loss, steps)

    def view_state(self) -> dict:
        """The ``[view]`` table of this state (:func:`check_view` reads it back)."""
        return {"view": self.view, "selected": list(self.selected), "batch_step": self.batch_step}

    @classmethod
    def from_params(cls, params: dense.GradParams, view: dict | None = None) -> GradState:
        """A state built from a scenario's ``params`` and ``[view]``, with its training steps replayed.

        Raises :class:`GradStateError` (a :class:`~gpuviz.model.panel.ParamsError`) with one sentence
        for a ``[view]`` the layer cannot show, and nothing is built then.
        """
        view = check_view(view or {})
        new = cls(params.layer, seed=params.seed, loss=params.loss)
        new.set_training(alpha=params.alpha, batch=params.batch)
        # training steps to replay: [params] steps (the schema's), or the older [view] train_steps
        steps = params.steps or int(view.get("train_steps", 0))
        if steps and new.can_train:
            new.train(steps)
        sel = view.get("selected", new.default_entry())
        try:
            new.select(sel[0], sel[1])
            new.set_batch_step(view.get("batch_step", 0))
            new.set_view(view.get("view", "layer"))
        except GradStateError as e:
            raise GradStateError(e.field, f"[view]: {e}") from None
        if new.view == "layer" and new.records:
            new.refresh_gradients()
        return new


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_view(view: dict) -> dict:
    """A grad scenario's ``[view]`` checked (keys, types, the view's name, the replay length); returns it.

    Raises :class:`GradStateError` naming the key. Whether a selected entry lies inside the layer's
    W is checked when the layer is built (:meth:`GradState.from_params`).
    """
    if not isinstance(view, dict):
        raise GradStateError("view", f"[view] must be a table, got {type(view).__name__}")
    unknown = [key for key in view if key not in VIEW_KEYS]
    if unknown:
        raise GradStateError("view", f"unknown key {unknown[0]!r} in [view] (known keys: {', '.join(VIEW_KEYS)})")
    name = view.get("view", "layer")
    if name not in VIEWS:
        raise GradStateError("view", f"[view] view = {name!r} is not one of {', '.join(VIEWS)}")
    sel = view.get("selected", [0, 0])
    if not isinstance(sel, (list, tuple)) or len(sel) != 2 or not all(_whole(v) and v >= 0 for v in sel):
        raise GradStateError("entry", f"[view] selected must be two whole numbers ≥ 0 like [1, 2], got {sel!r}")
    for key in ("batch_step", "train_steps"):
        value = view.get(key, 0)
        if not _whole(value) or value < 0:
            raise GradStateError(key, f"[view] {key} must be a whole number ≥ 0, got {value!r}")
    if view.get("train_steps", 0) > MAX_REPLAY:
        raise GradStateError("train_steps", f"[view] train_steps = {view['train_steps']:,} is more training than "
                                            f"the grad panel replays: at most {MAX_REPLAY:,} steps")
    return view


def step_key(view: dict) -> str | None:
    """The ``[view]`` key that holds a grad scenario's step: ``batch_step`` in the batch view, else none."""
    return "batch_step" if view.get("view", "layer") == "batch" else None


__all__ = ["DEFAULT_BATCH", "LAYERS", "MAX_REPLAY", "VIEWS", "VIEW_KEYS", "EntryStory", "GradState", "GradStateError",
           "check_view", "parse_alpha", "rich_text", "script_runs", "step_key"]
