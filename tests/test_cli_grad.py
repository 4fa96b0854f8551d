"""``gpuviz grad``: one gradient with its finite-difference check, or a training curve; bad input costs one line."""

import json

import numpy as np
import pytest

from gpuviz import cli
from gpuviz.model.dense import toy_layer


def run_main(capsys, *args):
    code = cli.main(["grad", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_toy_gradient_prints_shapes_the_matrices_and_a_passing_check(capsys):
    code, out, err = run_main(capsys, "--layer", "toy")
    assert code == 0 and err == ""
    assert "z = W·x + b: (3, 7)·(7, 1) + (3, 1) = (3, 1)" in out
    assert "∇_W L    shape (3, 7)" in out
    check = next(line for line in out.splitlines() if line.strip().startswith("check"))
    assert "ok" in check and "all 21 entries" in check
    layer, x, y = toy_layer(0)
    norm = np.linalg.norm(layer.backward(x, y).dW)
    assert f"norm {norm:.6g}" in out


def test_digits_batch_json_is_one_object_with_the_check(capsys):
    code, out, err = run_main(capsys, "--layer", "digits", "--batch", "64", "--loss", "mse", "--seed", "2", "--json")
    assert code == 0 and err == "" and len(out.strip().splitlines()) == 1
    d = json.loads(out)
    assert d["grad_shape"] == [10, 784] and d["batch"] == 64 and d["loss_function"] == "mse"
    assert d["check"]["ok"] and d["check"]["relative_error"] < 1e-6 and d["check"]["entries_checked"] == 200
    assert any("(64, 10)ᵀ·(64, 784) / 64 = (10, 784)" in line for line in d["shape_story"])
    assert d["grad_norm"] > 0 and 0 < d["zero_entries"] < 7840


def test_training_at_the_defaults_learns_well_above_chance(capsys):
    code, out, err = run_main(capsys, "--layer", "digits", "--train", "300", "--json")
    assert code == 0 and err == ""
    d = json.loads(out)
    assert d["steps"] == 300 and len(d["loss"]) == 300 and len(d["accuracy"]) == 300
    assert all(0 <= a <= 1 for a in d["accuracy"]) and d["diverged"] is False
    assert d["accuracy"][-1] > 0.5 and d["final_accuracy"] == d["accuracy"][-1]
    assert np.mean(d["loss"][-10:]) < np.mean(d["loss"][:10]) / 3
    assert d["alpha"] == 0.5 and d["batch"] == 64


def test_training_text_prints_the_curve(capsys):
    code, out, err = run_main(capsys, "--layer", "digits", "--train", "40", "--batch", "32")
    assert code == 0 and err == ""
    assert "held-out acc" in out and "40 steps in" in out
    rows = [line.split() for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert rows[0][0] == "1" and rows[-1][0] == "40"


def test_a_diverging_run_stops_and_explains_on_one_line(capsys):
    code, out, err = run_main(capsys, "--layer", "digits", "--alpha", "50", "--train", "100", "--json")
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "α = 50 is too large" in err and "try α ≤" in err
    d = json.loads(out)
    assert d["diverged"] is True and d["steps"] < 100 and all(np.isfinite(d["loss"]))


@pytest.mark.parametrize("args, words", [
    (["--layer", "digits", "--alpha", "0"], "more than 0"),
    (["--layer", "digits", "--alpha", "-1"], "more than 0"),
    (["--layer", "digits", "--alpha", "nan"], "NaN"),
    (["--layer", "digits", "--alpha", "abc"], "must be a number"),
    (["--layer", "digits", "--batch", "0"], "at least 1"),
    (["--layer", "digits", "--batch", "5000"], "larger than the data set"),
    (["--layer", "digits", "--batch", "2.5"], "whole number"),
    (["--layer", "toy", "--batch", "17"], "larger than the data set"),
    (["--layer", "toy", "--train", "5"], "needs --layer digits"),
    (["--layer", "digits", "--train", "0"], "at least 1"),
    (["--layer", "conv"], "invalid choice"),
    (["--layer", "digits", "--loss", "hinge"], "invalid choice"),
    ([], "--layer"),
])
def test_bad_input_is_one_line_and_exit_2(capsys, args, words):
    code, out, err = run_main(capsys, *args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and words in err
