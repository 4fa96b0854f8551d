"""The dense layer's forward/backward against finite differences, the shipped digits, and training on them."""

import math
import sys
from pathlib import Path

import numpy as np
import pytest

from gpuviz.model.dense import (
    DEFAULT_ALPHA,
    DIGITS_TRAIN,
    DenseError,
    DenseLayer,
    GradParams,
    Trainer,
    check_alpha,
    check_batch,
    digits_layer,
    gradient_check,
    numerical_gradient,
    toy_batch,
    toy_layer,
)
from gpuviz.model.digits import as_images, load_digits
from gpuviz.model.scenario import ScenarioError, load_presets, load_scenario, parse_scenario, save_scenario
from gpuviz.paths import asset_path

REPO = Path(__file__).resolve().parent.parent
TOL = 1e-6


@pytest.fixture(scope="module")
def digits():
    return load_digits()


# -- forward and backward by hand ---------------------------------------------------------------


def test_toy_layer_is_the_lectures_3x7_with_small_whole_numbers():
    layer, x, y = toy_layer(0)
    assert layer.W.shape == (3, 7) and layer.b.shape == (3,) and x.shape == (7,) and y in (0, 1, 2)
    for a in (layer.W, layer.b, x):
        assert np.array_equal(a, np.round(a)) and np.abs(a).max() <= 2
    f = layer.forward(x, y)
    by_hand = [sum(layer.W[i, j] * x[j] for j in range(7)) + layer.b[i] for i in range(3)]
    assert np.array_equal(f.z, by_hand)
    assert f.shapes == {"W": (3, 7), "x": (7, 1), "b": (3, 1), "z": (3, 1), "p": (3, 1)}
    assert np.isclose(f.p.sum(), 1) and math.isclose(f.loss, -math.log(f.p[y]))


def test_single_example_gradient_is_the_outer_product_of_delta_and_x():
    layer, x, y = toy_layer(3)
    g = layer.backward(x, y)
    p = layer.forward(x).p
    delta = p - np.eye(3)[y]
    assert g.dz.shape == (1, 3) and np.allclose(g.dz[0], delta)
    assert np.allclose(g.dW, np.outer(delta, x)) and np.allclose(g.db, delta)
    d, xj, prod = g.entry(1, 2)
    assert (d, xj) == (delta[1], x[2]) and math.isclose(prod, g.dW[1, 2])
    assert g.shape_story[0] == "z = W·x + b: (3, 7)·(7, 1) + (3, 1) = (3, 1)"
    assert any("(3, 1)·(1, 7) = (3, 7)" in line for line in g.shape_story)


def test_batch_gradient_is_the_mean_of_per_example_outer_products_and_one_matmul():
    layer, X, y = toy_batch(1, batch=5)
    g = layer.backward(X, y)
    assert g.dz.shape == (5, 3) and g.dW.shape == (3, 7) and g.batch == 5
    mean_outer = sum(g.per_example_dW(i) for i in range(5)) / 5
    assert np.allclose(g.dW, mean_outer)
    assert np.allclose(g.dW, g.dz.T @ X / 5) and np.allclose(g.db, g.dz.mean(axis=0))
    assert g.product_shape == (3, 7, 5)
    f = layer.forward(X, y)
    assert f.batched and f.shapes["z"] == (5, 3) and f.shapes["x"] == (5, 7)


def test_digits_shape_story_is_the_lectures():
    layer = digits_layer(0)
    x = np.zeros((64, 784))
    story = layer.backward(x, np.arange(64) % 10).shape_story
    assert story[0] == "Z = X·Wᵀ + b: (64, 784)·(784, 10) + (10,) = (64, 10)"
    assert any("(64, 10)ᵀ·(64, 784) / 64 = (10, 784)" in line for line in story)
    single = layer.backward(x[0], 3).shape_story
    assert single[0] == "z = W·x + b: (10, 784)·(784, 1) + (10, 1) = (10, 1)"


def test_one_hot_targets_equal_class_labels():
    layer, X, y = toy_batch(2, batch=4)
    a = layer.backward(X, y)
    b = layer.backward(X, np.eye(3)[y])
    assert np.array_equal(a.dW, b.dW) and a.loss == b.loss


# -- finite differences ---------------------------------------------------------------------------


@pytest.mark.parametrize("loss", ["xent", "mse"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_toy_gradient_matches_finite_differences(loss, seed):
    layer, x, y = toy_layer(seed, loss)
    assert gradient_check(layer, x, y) < TOL
    layer, X, labels = toy_batch(seed, batch=6, loss=loss)
    assert gradient_check(layer, X, labels) < TOL
    g = layer.backward(X, labels)
    fd_b = numerical_gradient(layer, X, labels, wrt="b")
    assert np.linalg.norm(g.db - fd_b) / np.linalg.norm(g.db) < TOL


@pytest.mark.parametrize("loss", ["xent", "mse"])
def test_digits_gradient_matches_finite_differences(digits, loss):
    layer = digits_layer(4, loss)
    # a partly trained W, so the check is not only near the symmetric start
    Trainer(layer, digits, batch=32, seed=1).run(5)
    W_before = layer.W.copy()
    x, y = digits.train_x[7], int(digits.train_y[7])
    g = layer.backward(x, y).dW
    fd = numerical_gradient(layer, x, y)
    assert np.array_equal(layer.W, W_before)  # the check leaves the layer as it was
    assert np.linalg.norm(g - fd) / np.linalg.norm(g) < TOL
    # many pixels are 0: their whole column of the gradient is exactly 0
    assert np.all(g[:, x == 0] == 0) and (x == 0).sum() > 300
    X, labels = digits.train_x[:16], digits.train_y[:16]
    assert gradient_check(layer, X, labels) < TOL


def test_numerical_gradient_of_chosen_entries(digits):
    layer = digits_layer(0)
    X, y = digits.train_x[:8], digits.train_y[:8]
    entries = [(0, 300), (9, 400), (4, 0)]
    fd = numerical_gradient(layer, X, y, entries=entries)
    g = layer.backward(X, y).dW
    assert fd.shape == (3,) and np.allclose(fd, [g[i, j] for i, j in entries], atol=1e-9)


# -- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize("alpha, words", [(0, "more than 0"), (-1, "more than 0"), (float("nan"), "NaN"),
                                          (math.inf, "infinite"), ("abc", "number"), (None, "number"),
                                          (True, "number"), (1e308, "too large"), ("1e4", "too large"),
                                          (5e-324, "too small"), (1e-13, "too small")])
def test_bad_alpha_is_refused_with_a_reason(alpha, words):
    with pytest.raises(DenseError, match=words):
        check_alpha(alpha)


def test_good_alpha_and_batch_pass():
    assert check_alpha("0.5") == 0.5 and check_batch(64, 3000) == 64 and check_batch(3000.0, 3000) == 3000


@pytest.mark.parametrize("batch, words", [(0, "at least 1"), (-3, "at least 1"), (3001, "larger than the data set"),
                                          (2.5, "whole number"), ("x", "whole number")])
def test_bad_batch_is_refused_with_a_reason(batch, words):
    with pytest.raises(DenseError, match=words):
        check_batch(batch, 3000)


def test_shape_mismatches_name_the_shapes():
    layer = digits_layer(0)
    with pytest.raises(DenseError, match="783 entries .* 10×784"):
        layer.forward(np.zeros(783))
    with pytest.raises(DenseError, match="0..9"):
        layer.backward(np.zeros(784), 10)
    with pytest.raises(DenseError, match="3 labels but x has 2"):
        layer.backward(np.zeros((2, 784)), [1, 2, 3])
    with pytest.raises(DenseError, match="b must be"):
        DenseLayer(np.zeros((3, 7)), np.zeros(4))
    with pytest.raises(DenseError, match="loss"):
        DenseLayer(np.zeros((3, 7)), np.zeros(3), "hinge")
    with pytest.raises(DenseError, match="batch size 4000 is larger"):
        Trainer(digits_layer(0), load_digits(), batch=4000)


# -- the shipped digits ---------------------------------------------------------------------------


def test_shipped_digits_are_28x28_grey_balanced_and_small(digits):
    assert digits.train_x.shape == (3000, 784) and digits.test_x.shape == (1000, 784)
    assert digits.train_x.dtype == np.float64 and 0 <= digits.train_x.min() and digits.train_x.max() <= 1
    assert np.array_equal(np.bincount(digits.train_y), [300] * 10)
    assert np.array_equal(np.bincount(digits.test_y), [100] * 10)
    assert not digits.train_x.flags.writeable
    assert asset_path("digits.npz").stat().st_size < 3 * 1024 * 1024
    # held out means different images
    train = {row.tobytes() for row in (digits.train_x * 255).round().astype(np.uint8)}
    assert not any(row.tobytes() in train for row in (digits.test_x * 255).round().astype(np.uint8))
    assert as_images(digits.train_x[:3]).shape == (3, 28, 28)


def test_the_data_script_is_deterministic():
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import make_digits
    finally:
        sys.path.pop(0)
    a = make_digits.make(20, 10, seed=3)
    b = make_digits.make(20, 10, seed=3)
    assert all(np.array_equal(p, q) for p, q in zip(a, b))
    assert a[0].shape == (20, 28, 28) and a[0].dtype == np.uint8 and a[0].max() > 200


# -- training ---------------------------------------------------------------------------------


def _correlation(a, b):
    a, b = a - a.mean(), b - b.mean()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_training_learns_the_digits_and_w_becomes_templates(digits):
    layer = digits_layer(0)
    trainer = Trainer(layer, digits)  # default α and batch
    assert trainer.alpha == DEFAULT_ALPHA["xent"] and trainer.batch == 64
    records = trainer.run(300)
    assert len(records) == 300 and not trainer.diverged
    assert records[0].test_acc is not None and records[0].test_acc < 0.5
    assert records[-1].test_acc > 0.8
    first = np.mean([r.loss for r in records[:10]])
    last = np.mean([r.loss for r in records[-10:]])
    assert last < first / 3
    means = digits.class_means()
    own_best = sum(int(np.argmax([_correlation(layer.W[c], means[k]) for k in range(10)]) == c) for c in range(10))
    assert own_best >= 8


def test_mse_learns_too(digits):
    trainer = Trainer(digits_layer(0, "mse"), digits)
    assert trainer.run(300)[-1].test_acc > 0.7


@pytest.mark.parametrize("loss, alpha", [("xent", 50.0), ("mse", 1.0)])
def test_a_too_large_alpha_is_detected_and_explained(digits, loss, alpha):
    trainer = Trainer(digits_layer(0, loss), digits, alpha=alpha)
    records = trainer.run(100)
    last = records[-1]
    assert trainer.diverged and last.diverged and len(records) < 20
    assert f"α = {alpha:g} is too large" in last.message and "try α ≤" in last.message
    assert np.isfinite(trainer.layer.W).all() and np.isfinite(trainer.layer.b).all()
    W = trainer.layer.W.copy()
    assert trainer.step() is last and np.array_equal(trainer.layer.W, W)  # stopped, W kept
    suggested = trainer.suggested_alpha()
    assert suggested < alpha
    again = Trainer(digits_layer(0, loss), digits, alpha=suggested)
    assert not again.run(50)[-1].diverged


def test_reset_with_a_seed_repeats_the_run(digits):
    t = Trainer(digits_layer(5), digits, batch=32, seed=5)
    first = [r.loss for r in t.run(20)]
    t.reset(5)
    assert t.history == [] and np.array_equal(t.layer.W, digits_layer(5).W)
    assert [r.loss for r in t.run(20)] == first
    t.reset(6)
    assert [r.loss for r in t.run(20)] != first


def test_test_every_skips_held_out_accuracy(digits):
    t = Trainer(digits_layer(0), digits, test_every=5)
    recs = t.run(10)
    # the first step always, then every 5th
    assert [i + 1 for i, r in enumerate(recs) if r.test_acc is not None] == [1, 5, 10]


# -- grad scenarios and the shipped presets' claims -----------------------------------------------


def test_digits_train_constant_matches_the_shipped_file(digits):
    assert DIGITS_TRAIN == digits.n_train


def _grad_presets():
    found, errors = load_presets("grad")
    assert errors == []
    return {s.name: s for s in found}


def test_grad_presets_load_and_their_numbers_are_true(digits):
    presets = _grad_presets()
    assert len(presets) >= 4
    for s in presets.values():
        assert isinstance(s.params, GradParams)  # scenarios carry typed params
        assert s.description and s.title
    toy = presets["30-grad-toy-3x7"]
    layer, x, y = toy_layer(toy.params.seed)
    g = layer.backward(x, y)
    i, j = toy.view["selected"]
    assert np.array_equal(layer.forward(x).z, [-2, 2, 1]) and y == 0
    assert f"{g.dz[0, i]:.3f}" == "0.721" and x[j] == 1 and f"{g.dW[i, j]:.3f}" == "0.721"
    assert "0.721" in toy.key_steps[0].caption

    p = presets["33-grad-train-templates"].params
    t = Trainer(digits_layer(p.seed, p.loss), digits, p.learning_rate, p.batch, p.seed)
    assert t.run(presets["33-grad-train-templates"].view["train_steps"])[-1].test_acc > 0.9

    p = presets["34-grad-alpha-too-large"].params
    t = Trainer(digits_layer(p.seed, p.loss), digits, p.learning_rate, p.batch, p.seed)
    last = t.run(presets["34-grad-alpha-too-large"].view["train_steps"])[-1]
    assert last.diverged and last.step == 2
    assert "from 2.3 to 57.2 in 2 steps; try α ≤ 2" in last.message


@pytest.mark.parametrize("params, words", [
    ({"layer": "conv"}, "layer = 'conv'"),
    ({"alpha": 0}, "alpha"),
    ({"alpha": "fast"}, "alpha must be a number"),
    ({"batch": 0}, "batch"),
    ({"batch": 1.5}, "batch must be a whole number"),
    ({"loss": "hinge"}, "loss"),
    ({"layer": "toy", "steps": 3}, "steps needs layer"),
    ({"speed": 3}, "unknown key 'speed'"),
])
def test_bad_grad_scenarios_are_refused_naming_the_key(params, words):
    data = {"schema": 1, "panel": "grad", "title": "t", "params": params}
    with pytest.raises(ScenarioError, match=words):
        parse_scenario(data, "x.toml")


def test_a_grad_scenario_round_trips(tmp_path):
    s = parse_scenario({"schema": 1, "panel": "grad", "title": "t", "params": {"layer": "digits", "alpha": 0.25,
                                                                             "batch": 32, "loss": "mse"},
                        "view": {"view": "train", "train_steps": 5}})
    path = save_scenario(s, tmp_path / "g.toml")
    again = load_scenario(path)
    assert again.params == s.params and again.view == s.view
    assert again.params == GradParams("digits", 0.25, 32, 0, "mse", 0)


# -- the entry the grad panel explains first ------------------------------------------------------------------


@pytest.mark.parametrize("kind, seeds", [("toy", range(12)), ("digits", range(4))])
def test_the_default_entry_has_a_non_zero_product(kind, seeds):
    from gpuviz.model.grad_panel import GradState

    for seed in seeds:
        st = GradState(kind, seed=seed)
        story = st.story()
        # never "… · 0 = 0": a digit's corner pixel (0) is blank, so (0, 0) would be
        assert story.x != 0 and story.delta != 0 and story.value != 0, (kind, seed, st.selected)
        assert st.selected == st.default_entry()


def test_a_scenario_without_a_selection_opens_on_the_default_entry():
    from gpuviz.model.grad_panel import GradState

    st = GradState.from_params(GradParams("digits", 0.5, 64, 0, "xent", 0), {"view": "layer"})
    assert st.selected == st.default_entry() and st.story().value != 0
    assert st.x[0] == 0  # the corner pixel the old default (0, 0) explained as 0
    st.set_layer("toy")
    assert st.story().value != 0
    st = GradState.from_params(GradParams("digits", 0.5, 64, 0, "xent", 0), {"view": "layer", "selected": [3, 406]})
    assert st.selected == (3, 406)
