"""A dense layer ``z = Wx + b``, its loss, and the gradient ``∇_W L`` the lecture's rule ``ΔW = −α ∇_W L`` uses.

Pure NumPy, float64 throughout, so the gradient can be checked against central
finite differences to ~1e-8 and so the picture the panel draws is exact.

Conventions (the lecture's): ``W`` is ``(m, n)`` (3×7 in the toy, 10×784 for
the digits), one example ``x`` is a column ``(n, 1)``; a batch ``X`` holds one
example per *row*, ``(B, n)``, so its logits are ``Z = X Wᵀ + b`` ``(B, m)``
and the batched weight gradient is the matrix product ``(P − Y)ᵀ X / B``.

Losses, both written per example and averaged over the batch:

* ``"xent"``: ``p = softmax(z)``, ``L = −log p_y``;
* ``"mse"``: ``p = z`` (identity output), ``L = ½‖z − y‖²`` with one-hot ``y``.

Both give the same delta ``∂L/∂z = p − y``, which is why one code path serves both.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import limits
from .panel import ParamsError

LOSSES = ("xent", "mse")

#: α that learns well on the shipped digits (MSE's identity output needs a much smaller step).
DEFAULT_ALPHA = {"xent": 0.5, "mse": 0.02}
DEFAULT_BATCH = 64

#: The largest α suggested after a cross-entropy run diverged (measured on the shipped digits).
XENT_SAFE_ALPHA = 2.0

#: A loss this many times the first step's loss counts as diverged.
EXPLODE_FACTOR = 10.0


class DenseError(ParamsError):
    """A request the dense layer cannot carry out (bad α, batch size, shape, label); the message says which."""


# -- validation -------------------------------------------------------------------------------


#: Learning rates outside these are refused before a run: below, a step of −α∇L leaves W as it was in
#: float64; above (the CLI's bound too), nothing new is shown: the divergence is already there at α = 50.
MIN_ALPHA = 1e-12
MAX_ALPHA = limits.MAX_ALPHA


def check_alpha(alpha) -> float:
    """``alpha`` as a float, or :class:`DenseError` when it is not a positive finite number."""
    if isinstance(alpha, bool):
        raise DenseError(f"the learning rate α must be a number, got {alpha!r}")
    try:
        value = float(alpha)
    except (TypeError, ValueError):
        raise DenseError(f"the learning rate α must be a number, got {alpha!r}") from None
    if math.isnan(value):
        raise DenseError("the learning rate α is NaN: it must be a positive number such as 0.5")
    if math.isinf(value):
        raise DenseError("the learning rate α is infinite: it must be a positive finite number such as 0.5")
    if value <= 0:
        raise DenseError(f"the learning rate α must be more than 0, got {value:g} "
                         "(ΔW = −α∇L: α ≤ 0 would stand still or climb the loss)")
    if value < MIN_ALPHA:
        raise DenseError(f"the learning rate α = {value:g} is too small to move W (at least {MIN_ALPHA:g}; "
                         "try 0.5)")
    if value > MAX_ALPHA:
        raise DenseError(f"the learning rate α = {value:g} is too large to try (at most {MAX_ALPHA:g}; "
                         "α above 2 already diverges on the digits)")
    return value


def check_batch(batch, size: int) -> int:
    """``batch`` as an int in ``1..size``, or :class:`DenseError` naming the limit."""
    if isinstance(batch, bool) or not isinstance(batch, (int, np.integer)):
        try:
            as_float = float(batch)
        except (TypeError, ValueError):
            raise DenseError(f"the batch size must be a whole number, got {batch!r}") from None
        if not as_float.is_integer():
            raise DenseError(f"the batch size must be a whole number, got {batch!r}")
        batch = int(as_float)
    batch = int(batch)
    if batch < 1:
        raise DenseError(f"the batch size must be at least 1, got {batch}")
    if batch > size:
        raise DenseError(f"the batch size {batch} is larger than the data set ({size} images)")
    return batch


def check_loss(loss) -> str:
    if loss not in LOSSES:
        raise DenseError(f"the loss must be one of {', '.join(LOSSES)}, got {loss!r}")
    return loss


def _fmt(shape) -> str:
    return str(tuple(int(d) for d in shape))


# -- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Forward:
    """One forward pass.

    Attributes
    ----------
    z, p : ndarray
        Logits and outputs: ``(m,)`` for one example, ``(B, m)`` for a batch. ``p`` is
        ``softmax(z)`` for ``"xent"`` and ``z`` itself for ``"mse"``.
    loss : float or None
        Mean loss over the batch (``None`` when no labels were given).
    shapes : dict[str, tuple]
        The lecture's shapes: for one example columns, e.g. ``{"W": (10, 784), "x": (784, 1),
        "b": (10, 1), "z": (10, 1), "p": (10, 1)}``; for a batch ``x``, ``z`` and ``p`` are
        ``(B, n)``, ``(B, m)``, ``(B, m)`` and ``b`` is ``(m,)`` (broadcast over rows).
    batched : bool
        Whether the input was a batch ``(B, n)`` rather than one example ``(n,)``.
    """

    z: np.ndarray
    p: np.ndarray
    loss: float | None
    shapes: dict
    batched: bool = False


@dataclass(frozen=True)
class Gradients:
    """One backward pass over a batch of ``B`` examples (``B = 1`` for a single example).

    Attributes
    ----------
    dz : ndarray (B, m)
        The deltas ``δ = ∂L/∂z = p − y``, one row per example (not divided by ``B``).
    dW : ndarray (m, n)
        ``∇_W L = (P − Y)ᵀ X / B``; for one example the outer product ``δ xᵀ``.
    db : ndarray (m,)
        ``∇_b L``, the mean of the rows of ``dz``.
    per_example_dW : callable
        ``per_example_dW(i)`` is example ``i``'s outer product ``δ_i x_iᵀ`` ``(m, n)``;
        ``dW`` is their mean.
    shape_story : list[str]
        The shapes at every stage, the lecture's way.
    loss : float
        Mean loss over the batch (before any update).
    x, y, p : ndarray
        The inputs ``(B, n)``, one-hot targets ``(B, m)`` and outputs ``(B, m)`` used.
    """

    dz: np.ndarray
    dW: np.ndarray
    db: np.ndarray
    per_example_dW: Callable[[int], np.ndarray]
    shape_story: list
    loss: float
    x: np.ndarray
    y: np.ndarray
    p: np.ndarray

    @property
    def batch(self) -> int:
        return int(self.dz.shape[0])

    @property
    def product_shape(self) -> tuple[int, int, int]:
        """``(M, N, K)`` of the matmul ``(P − Y)ᵀ · X``: C (m×n) = A (m×B) · B (B×n)."""
        m, n = self.dW.shape
        return m, n, self.batch

    def entry(self, i: int, j: int, example: int | None = None) -> tuple[float, float, float]:
        """``(δ_i, x_j, δ_i·x_j)`` of entry ``(i, j)``: for one ``example``, or (default) the batch mean.

        For the batch mean the first two are the mean δ_i and mean x_j only when ``B = 1``;
        otherwise ``δ_i`` and ``x_j`` are example ``0``'s and the product is ``dW[i, j]``.
        """
        k = 0 if example is None else int(example)
        d, xj = float(self.dz[k, i]), float(self.x[k, j])
        return d, xj, (d * xj if example is not None or self.batch == 1 else float(self.dW[i, j]))


# -- the layer --------------------------------------------------------------------------------


def _softmax(z: np.ndarray) -> np.ndarray:
    shifted = z - z.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


@dataclass
class DenseLayer:
    """``z = W x + b`` with a softmax cross-entropy (or MSE) loss.

    Parameters
    ----------
    W : ndarray (m, n)
        Weights, stored as float64.
    b : ndarray (m,)
        Bias.
    loss : {"xent", "mse"}
    """

    W: np.ndarray
    b: np.ndarray
    loss: str = "xent"

    def __post_init__(self):
        self.W = np.array(self.W, dtype=np.float64)
        self.b = np.array(self.b, dtype=np.float64).reshape(-1)
        if self.W.ndim != 2:
            raise DenseError(f"W must be a matrix (m, n), got shape {_fmt(self.W.shape)}")
        if self.b.shape != (self.W.shape[0],):
            raise DenseError(f"b has {self.b.size} entries but W has {self.W.shape[0]} rows: "
                             f"b must be ({self.W.shape[0]},)")
        check_loss(self.loss)

    @property
    def m(self) -> int:
        return self.W.shape[0]

    @property
    def n(self) -> int:
        return self.W.shape[1]

    def copy(self) -> DenseLayer:
        return DenseLayer(self.W.copy(), self.b.copy(), self.loss)

    # inputs -------------------------------------------------------------------------------

    def _inputs(self, x) -> tuple[np.ndarray, bool]:
        X = np.asarray(x, dtype=np.float64)
        if X.ndim == 1:
            batched, X = False, X[None, :]
        elif X.ndim == 2:
            batched = True
        else:
            raise DenseError(f"x must be one example (n,) or a batch (B, n), got shape {_fmt(X.shape)}")
        if X.shape[1] != self.n:
            raise DenseError(f"x has {X.shape[1]} entries per example but W is {self.m}×{self.n}: "
                             f"(m, n)·(n, 1) needs n = {self.n}")
        if X.shape[0] == 0:
            raise DenseError("the batch is empty: the batch size must be at least 1")
        return X, batched

    def _targets(self, y, rows: int, batched: bool) -> np.ndarray:
        """One-hot ``(rows, m)`` from int labels or one-hot rows."""
        Y = np.asarray(y)
        m = self.m
        if Y.ndim == (2 if batched else 1) and Y.shape[-1] == m and not (Y.ndim == 1 and rows == 1 and m == 1):
            Y = np.array(Y, dtype=np.float64).reshape(rows if batched else 1, m)
            if Y.shape[0] != rows:
                raise DenseError(f"y has {Y.shape[0]} rows but x has {rows} examples")
            return Y
        labels = Y.reshape(-1)
        if labels.size != rows:
            raise DenseError(f"y has {labels.size} labels but x has {rows} examples "
                             f"(give one class label each, or one-hot rows of {m})")
        if not np.all(np.isfinite(labels.astype(np.float64))) or not np.all(labels == np.round(labels)):
            raise DenseError("class labels must be whole numbers")
        labels = labels.astype(np.int64)
        if labels.min() < 0 or labels.max() >= m:
            raise DenseError(f"class labels must be in 0..{m - 1} (W has {m} rows), got {labels.min()}..{labels.max()}")
        out = np.zeros((rows, m))
        out[np.arange(rows), labels] = 1.0
        return out

    def _shapes(self, X: np.ndarray, batched: bool) -> dict:
        m, n = self.W.shape
        if batched:
            B = X.shape[0]
            return {"W": (m, n), "x": (B, n), "b": (m,), "z": (B, m), "p": (B, m)}
        return {"W": (m, n), "x": (n, 1), "b": (m, 1), "z": (m, 1), "p": (m, 1)}

    # passes -------------------------------------------------------------------------------

    def _outputs(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        Z = X @ self.W.T + self.b
        P = _softmax(Z) if self.loss == "xent" else Z
        return Z, P

    def _loss(self, Z: np.ndarray, P: np.ndarray, Y: np.ndarray) -> float:
        if self.loss == "xent":
            # log-softmax computed stably: log p = z − max − log Σ exp(z − max)
            zmax = Z.max(axis=1, keepdims=True)
            logp = Z - zmax - np.log(np.exp(Z - zmax).sum(axis=1, keepdims=True))
            return float(-(Y * logp).sum(axis=1).mean())
        return float(0.5 * ((P - Y) ** 2).sum(axis=1).mean())

    def forward(self, x, y=None) -> Forward:
        """Logits, outputs and (with labels ``y``) the mean loss of ``x`` ``(n,)`` or ``(B, n)``."""
        X, batched = self._inputs(x)
        Z, P = self._outputs(X)
        loss = None if y is None else self._loss(Z, P, self._targets(y, X.shape[0], batched))
        if not batched:
            Z, P = Z[0], P[0]
        return Forward(Z, P, loss, self._shapes(X, batched), batched)

    def backward(self, x, y) -> Gradients:
        """∂L/∂z, ∂L/∂W and ∂L/∂b of the mean loss; ``y`` are class labels or one-hot rows."""
        X, batched = self._inputs(x)
        Y = self._targets(y, X.shape[0], batched)
        Z, P = self._outputs(X)
        loss = self._loss(Z, P, Y)
        B = X.shape[0]
        dz = P - Y
        dW = dz.T @ X / B
        db = dz.mean(axis=0)

        def per_example_dW(i: int) -> np.ndarray:
            if not -B <= i < B:
                raise DenseError(f"example {i} is outside the batch of {B}")
            return np.outer(dz[i], X[i])

        return Gradients(dz, dW, db, per_example_dW, self.shape_story(B if batched else None), loss, X, Y, P)

    def shape_story(self, batch: int | None = None) -> list[str]:
        """The shapes of forward and backward, as the lecture writes them (``batch=None``: one example)."""
        m, n = self.W.shape
        out = "softmax(z)" if self.loss == "xent" else "z (identity output, MSE)"
        if batch is None:
            return [
                f"z = W·x + b: {_fmt((m, n))}·{_fmt((n, 1))} + {_fmt((m, 1))} = {_fmt((m, 1))}",
                f"p = {out}: {_fmt((m, 1))}",
                f"δ = ∂L/∂z = p − y: {_fmt((m, 1))} − {_fmt((m, 1))} = {_fmt((m, 1))}",
                f"∂L/∂W = δ·xᵀ: {_fmt((m, 1))}·{_fmt((1, n))} = {_fmt((m, n))} (an outer product, the shape of W)",
                f"∂L/∂b = δ: {_fmt((m, 1))}",
            ]
        B = batch
        return [
            f"Z = X·Wᵀ + b: {_fmt((B, n))}·{_fmt((n, m))} + {_fmt((m,))} = {_fmt((B, m))}",
            f"P = {out.replace('z', 'Z', 1)} row by row: {_fmt((B, m))}",
            f"Δ = P − Y: {_fmt((B, m))} − {_fmt((B, m))} = {_fmt((B, m))}",
            f"∇_W L = Δᵀ·X / B: {_fmt((B, m))}ᵀ·{_fmt((B, n))} / {B} = {_fmt((m, n))} "
            f"(the mean of {B} outer products δ_i·x_iᵀ, one matrix product)",
            f"∇_b L = mean of the rows of Δ: {_fmt((m,))}",
        ]

    def apply(self, grads: Gradients, alpha) -> None:
        """The update ``W ← W − α ∇_W L``, ``b ← b − α ∇_b L``."""
        a = check_alpha(alpha)
        if grads.dW.shape != self.W.shape:
            raise DenseError(f"the gradient is {_fmt(grads.dW.shape)} but W is {_fmt(self.W.shape)}")
        self.W -= a * grads.dW
        self.b -= a * grads.db

    def predict(self, x) -> np.ndarray:
        X, _ = self._inputs(x)
        return np.argmax(X @ self.W.T + self.b, axis=1)

    def accuracy(self, x, labels) -> float:
        return float(np.mean(self.predict(x) == np.asarray(labels)))


# -- finite differences -----------------------------------------------------------------------


def numerical_gradient(layer: DenseLayer, x, y, eps: float = 1e-6, *, wrt: str = "W", entries=None) -> np.ndarray:
    """∂L/∂W (or ∂L/∂b with ``wrt="b"``) by central finite differences in float64.

    ``entries``: optional ``(k, 2)`` indices ``(i, j)`` of W (or ``(k,)`` indices of b) to
    check only those; the result then has shape ``(k,)``. The layer is left unchanged.
    """
    if wrt not in ("W", "b"):
        raise DenseError(f"wrt must be 'W' or 'b', got {wrt!r}")
    param = layer.W if wrt == "W" else layer.b
    if entries is None:
        idx = list(np.ndindex(param.shape))
    else:
        arr = np.asarray(entries, dtype=np.int64)
        idx = [tuple(np.atleast_1d(e)) for e in (arr if arr.ndim > 1 or wrt == "b" else arr[None])]
    out = np.empty(len(idx))
    for k, ij in enumerate(idx):
        old = param[ij]
        param[ij] = old + eps
        up = layer.forward(x, y).loss
        param[ij] = old - eps
        down = layer.forward(x, y).loss
        param[ij] = old
        out[k] = (up - down) / (2 * eps)
    return out.reshape(param.shape) if entries is None else out


def gradient_check(layer: DenseLayer, x, y, *, entries=None, eps: float = 1e-6) -> float:
    """Norm-wise relative error ``‖g − g_fd‖ / ‖g‖`` of ∂L/∂W (only ``entries`` when given)."""
    g = layer.backward(x, y).dW
    fd = numerical_gradient(layer, x, y, eps, entries=entries)
    if entries is not None:
        arr = np.asarray(entries, dtype=np.int64).reshape(-1, 2)
        g = g[arr[:, 0], arr[:, 1]]
    norm = float(np.linalg.norm(g))
    diff = float(np.linalg.norm(g - fd))
    return diff / norm if norm > 0 else diff


# -- the two layers of the lecture ------------------------------------------------------------


def toy_layer(seed: int = 0, loss: str = "xent") -> tuple[DenseLayer, np.ndarray, int]:
    """The lecture's 3×7 layer with small whole numbers, one example ``x`` (7,) and its label.

    Small integers keep ``z = Wx + b`` computable by hand in class; ``seed`` picks others.
    """
    rng = np.random.default_rng(seed)
    # entries in {-1, 0, 1} and 0/1 "pixels" keep the logits within a few units, so softmax is not
    # all-or-nothing and every δ_i is visibly non-zero
    W = rng.integers(-1, 2, size=(3, 7)).astype(np.float64)
    b = rng.integers(0, 2, size=3).astype(np.float64)
    x = rng.integers(0, 2, size=7).astype(np.float64)
    x[rng.integers(0, 7)] = 1.0  # never the all-zero example, whose gradient is 0
    y = int(rng.integers(0, 3))
    return DenseLayer(W, b, check_loss(loss)), x, y


def toy_batch(seed: int = 0, batch: int = 4, loss: str = "xent") -> tuple[DenseLayer, np.ndarray, np.ndarray]:
    """The toy layer of :func:`toy_layer` with a small batch ``X`` (B, 7) of 0/1 examples and labels (B,)."""
    layer, x, y = toy_layer(seed, loss)
    if isinstance(batch, bool) or int(batch) < 1:
        raise DenseError(f"the batch size must be at least 1, got {batch!r}")
    rng = np.random.default_rng(seed + 1)
    X = rng.integers(0, 2, size=(int(batch), 7)).astype(np.float64)
    X[0] = x
    labels = rng.integers(0, 3, size=int(batch))
    labels[0] = y
    return layer, X, labels


def init_weights(m: int, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Small random weights (σ = 0.01) and zero bias: every class starts near p = 1/m."""
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, 0.01, size=(m, n)), np.zeros(m)


def digits_layer(seed: int = 0, loss: str = "xent") -> DenseLayer:
    """The 10×784 layer of a digit classifier, small seeded random init."""
    W, b = init_weights(10, 784, seed)
    return DenseLayer(W, b, check_loss(loss))


# -- a grad scenario's parameters ----------------------------------------------------------------

LAYERS = ("toy", "digits")
#: The largest batch of the toy layer (its examples are drawn to be computed by hand).
TOY_MAX_BATCH = 16
#: Training images in the shipped digits (``assets/digits.npz``; a test keeps the two in step).
DIGITS_TRAIN = 3000
GRAD_PARAM_KEYS = ("layer", "alpha", "batch", "seed", "loss", "steps")
#: The most training steps a grad scenario replays before it is shown (each is a minibatch step on the
#: 10×784 layer: 5,000 take a few seconds, and the GUI, the CLI and the export all wait for them).
MAX_REPLAY = 5000


@dataclass(frozen=True)
class GradParams:
    """What a ``panel = "grad"`` scenario's ``[params]`` says.

    Parameters
    ----------
    layer : {"toy", "digits"}
        The lecture's 3×7 toy or the 10×784 digits layer.
    alpha : float or None
        Learning rate (None: :data:`DEFAULT_ALPHA` of the loss).
    batch : int
        Minibatch size of the digits run, 1 to :data:`DIGITS_TRAIN` (kept while the toy is shown).
    seed : int
        Seed of the weights and the examples.
    loss : {"xent", "mse"}
    steps : int
        Training steps to run before showing the panel (digits only; 0: the fresh layer; at most
        :data:`MAX_REPLAY`).
    """

    layer: str = "digits"
    alpha: float | None = None
    batch: int = 1
    seed: int = 0
    loss: str = "xent"
    steps: int = 0

    @property
    def learning_rate(self) -> float:
        return DEFAULT_ALPHA[self.loss] if self.alpha is None else self.alpha

    @classmethod
    def from_dict(cls, params: dict) -> GradParams:
        """From a ``[params]`` table; raises :class:`DenseError` naming the key and what is wrong."""
        if not isinstance(params, dict):
            raise DenseError(f"[params] must be a table, got {type(params).__name__}")
        unknown = [k for k in params if k not in GRAD_PARAM_KEYS]
        if unknown:
            raise DenseError(f"unknown key {unknown[0]!r} in [params] (known keys: {', '.join(GRAD_PARAM_KEYS)})")
        layer = params.get("layer", "digits")
        if layer not in LAYERS:
            raise DenseError(f"[params] layer = {layer!r} is not one of {', '.join(LAYERS)}")
        loss = params.get("loss", "xent")
        if loss not in LOSSES:
            raise DenseError(f"[params] loss = {loss!r} is not one of {', '.join(LOSSES)}")
        alpha = params.get("alpha")
        if alpha is not None:
            if isinstance(alpha, bool) or not isinstance(alpha, (int, float)):
                raise DenseError(f"[params] alpha must be a number, got {alpha!r}")
            try:
                alpha = check_alpha(alpha)
            except DenseError as e:
                raise DenseError(f"[params] alpha: {e}") from None
        ints = {}
        for key, default in (("batch", 1), ("seed", 0), ("steps", 0)):
            value = params.get(key, default)
            if isinstance(value, bool) or not isinstance(value, int):
                raise DenseError(f"[params] {key} must be a whole number, got {value!r}")
            ints[key] = value
        try:
            # the batch is the digits run's minibatch size, a setting kept even while the toy is shown
            check_batch(ints["batch"], DIGITS_TRAIN)
        except DenseError as e:
            raise DenseError(f"[params] batch: {e}") from None
        if ints["steps"] < 0:
            raise DenseError(f"[params] steps = {ints['steps']} must be at least 0")
        if ints["steps"] > MAX_REPLAY:
            raise DenseError(f"[params] steps = {ints['steps']:,} is more training than the grad panel replays: "
                             f"at most {MAX_REPLAY:,} steps")
        if ints["steps"] and layer == "toy":
            raise DenseError("[params] steps needs layer = \"digits\": the toy layer has no data set to train on")
        return cls(layer, alpha, ints["batch"], ints["seed"], loss, ints["steps"])

    def to_dict(self) -> dict:
        out = {"layer": self.layer, "alpha": self.alpha, "batch": self.batch, "seed": self.seed, "loss": self.loss}
        if self.steps:
            out["steps"] = self.steps
        return {k: v for k, v in out.items() if v is not None}


# -- training ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepRecord:
    """What one training step did.

    Attributes
    ----------
    step : int
        1 for the first update.
    loss : float
        Mean loss on the step's minibatch, before its update (``inf``/``nan`` when it diverged).
    train_acc : float
        Accuracy on that minibatch, before the update.
    test_acc : float or None
        Accuracy on the held-out images after the update (``None`` on steps it was not measured).
    diverged : bool
        True when this step found the run diverging; the update was then NOT applied.
    message : str
        Empty, or why training stopped.
    """

    step: int
    loss: float
    train_acc: float
    test_acc: float | None
    diverged: bool = False
    message: str = ""


class Trainer:
    """Plain minibatch gradient descent ``ΔW = −α ∇_W L`` on a data set (default: the shipped digits).

    Parameters
    ----------
    layer : DenseLayer
        Updated in place.
    data : Digits, optional
        Anything with ``train_x, train_y, test_x, test_y``; default :func:`~gpuviz.model.digits.load_digits`.
    alpha : float, optional
        Learning rate; default :data:`DEFAULT_ALPHA` of the layer's loss.
    batch : int
        Minibatch size, 1 to the training set's size.
    seed : int
        Seeds the order of the minibatches (and the weights on :meth:`reset`).
    test_every : int
        Measure held-out accuracy every this many steps (1: every step).

    Once a step diverges, :attr:`diverged` is set, ``W`` keeps its last finite value,
    and further :meth:`step` calls return the same record without updating.
    """

    def __init__(self, layer: DenseLayer, data=None, alpha=None, batch: int = DEFAULT_BATCH, seed: int = 0,
                 test_every: int = 1):
        if data is None:
            from .digits import load_digits

            data = load_digits()
        self.layer = layer
        self.data = data
        self.alpha = check_alpha(DEFAULT_ALPHA[layer.loss] if alpha is None else alpha)
        self.batch = check_batch(batch, len(data.train_y))
        if data.train_x.shape[1] != layer.n:
            raise DenseError(f"the images have {data.train_x.shape[1]} pixels but W is {layer.m}×{layer.n}")
        self.test_every = max(1, int(test_every))
        self.history: list[StepRecord] = []
        self.last_gradients: Gradients | None = None
        self._reseed(seed)

    def _reseed(self, seed: int) -> None:
        self.seed = int(seed)
        self._rng = np.random.default_rng(self.seed)
        self._order = np.empty(0, dtype=np.int64)
        self._pos = 0

    @property
    def steps(self) -> int:
        return len(self.history)

    @property
    def diverged(self) -> bool:
        return bool(self.history) and self.history[-1].diverged

    def set_alpha(self, alpha) -> None:
        self.alpha = check_alpha(alpha)

    def set_batch(self, batch) -> None:
        self.batch = check_batch(batch, len(self.data.train_y))

    def reset(self, seed: int | None = None) -> None:
        """New small random weights from ``seed`` (default: the current one), empty history."""
        seed = self.seed if seed is None else int(seed)
        self.layer.W, self.layer.b = init_weights(self.layer.m, self.layer.n, seed)
        self.history = []
        self.last_gradients = None
        self._reseed(seed)

    def next_batch(self) -> tuple[np.ndarray, np.ndarray]:
        """The next minibatch: a shuffled pass over the training set, reshuffled each epoch."""
        n = len(self.data.train_y)
        if self._pos + self.batch > len(self._order):
            # the leftover of the last epoch is dropped so every batch has exactly `batch` images
            self._order = self._rng.permutation(n)
            self._pos = 0
        idx = self._order[self._pos:self._pos + self.batch]
        self._pos += self.batch
        return self.data.train_x[idx], self.data.train_y[idx]

    def test_accuracy(self) -> float:
        return self.layer.accuracy(self.data.test_x, self.data.test_y)

    def suggested_alpha(self, x: np.ndarray | None = None) -> float:
        """An α to try after a divergence: a tenth of this one, capped (MSE: 1/λ_max(XᵀX/B); xent: 2).

        With MSE's identity output, gradient descent is stable only for α < 2/λ_max of the
        inputs' second-moment matrix; half of that leaves a margin. Rounded down to 1, 2 or 5 × 10^k.
        """
        guess = self.alpha / 10
        if self.layer.loss == "mse":
            X = self.data.train_x[:1024] if x is None else x
            lam = float(np.linalg.eigvalsh(X.T @ X / len(X))[-1]) if X.shape[1] <= 2048 else 0.0
            if lam > 0:
                guess = min(guess, 1.0 / lam)
        else:
            # softmax saturates, so the curvature bound (4/λ_max) is far too cautious; on the shipped
            # digits α up to 2 was measured to learn without diverging
            guess = min(guess, XENT_SAFE_ALPHA)
        exp = math.floor(math.log10(guess))
        for mantissa in (5, 2, 1):
            if mantissa * 10.0 ** exp <= guess:
                return float(f"{mantissa * 10.0 ** exp:.3g}")
        return float(f"{10.0 ** exp:.3g}")

    def _divergence_message(self, loss: float, x: np.ndarray | None = None) -> str:
        first = self.history[0].loss if self.history else loss
        grew = f"{loss:.3g}" if math.isfinite(loss) else ("inf" if math.isinf(loss) else "NaN")
        steps = len(self.history) + 1
        return (f"α = {self.alpha:g} is too large: the loss grew from {first:.3g} to {grew} in "
                f"{steps} step{'s' if steps != 1 else ''}; try α ≤ {self.suggested_alpha(x):g}")

    def step(self) -> StepRecord:
        """One minibatch update; returns (and appends to :attr:`history`) its record."""
        if self.diverged:
            return self.history[-1]
        x, labels = self.next_batch()
        with np.errstate(all="ignore"):
            grads = self.layer.backward(x, labels)
            loss = grads.loss
            train_acc = float(np.mean(np.argmax(grads.p, axis=1) == labels))
            first = self.history[0].loss if self.history else loss
            exploding = not math.isfinite(loss) or (self.history and loss > EXPLODE_FACTOR * max(first, 1e-3))
            if not exploding:
                W_old, b_old = self.layer.W.copy(), self.layer.b.copy()
                self.layer.apply(grads, self.alpha)
                if not (np.isfinite(self.layer.W).all() and np.isfinite(self.layer.b).all()):
                    self.layer.W, self.layer.b = W_old, b_old
                    exploding, loss = True, math.inf
        if exploding:
            record = StepRecord(len(self.history) + 1, loss, train_acc, None, True, self._divergence_message(loss, x))
        else:
            self.last_gradients = grads
            step = len(self.history) + 1
            test = self.test_accuracy() if step % self.test_every == 0 or step == 1 else None
            record = StepRecord(step, loss, train_acc, test)
        self.history.append(record)
        return record

    def run(self, steps: int) -> list[StepRecord]:
        """Up to ``steps`` steps, stopping early on divergence."""
        out = []
        for _ in range(int(steps)):
            out.append(self.step())
            if out[-1].diverged:
                break
        return out


__all__ = [
    "DEFAULT_ALPHA", "DEFAULT_BATCH", "DIGITS_TRAIN", "GRAD_PARAM_KEYS", "LAYERS", "LOSSES", "TOY_MAX_BATCH",
    "DenseError", "DenseLayer", "Forward", "GradParams", "Gradients", "StepRecord",
    "Trainer", "check_alpha", "check_batch", "digits_layer", "gradient_check", "init_weights",
    "numerical_gradient", "toy_batch", "toy_layer",
]
