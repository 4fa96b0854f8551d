"""Operands named by the scenario (issue 16, item 2): ``[params] names`` and ``bias``, their checks, their
round trip through a file, and the scene's texts that use them."""

import numpy as np
import pytest

from gpuviz.model.scenario import (
    Scenario,
    ScenarioError,
    apply_scenario,
    dumps_scenario,
    load_presets,
    load_scenario,
    save_scenario,
    scenario_from_scene,
)
from gpuviz.model.scene import DEFAULT_NAMES, NAME_MAX, MatmulParams, MatmulScene, SceneError

LAYER = """\
schema = 1
panel = "matmul"
title = "z = W·x + b"

[params]
kernel = "naive"
m = 3
n = 1
k = 7
block = [8, 8]
names = ["W", "x", "z"]
bias = "b"
"""


def preset(name):
    scenarios, errors = load_presets("matmul")
    assert errors == []
    return {s.name: s for s in scenarios}[name]


def test_a_scenario_names_its_operands_and_bias_and_they_survive_save_and_load(tmp_path):
    path = tmp_path / "layer.toml"
    path.write_text(LAYER, encoding="utf-8")
    scenario = load_scenario(path)
    assert scenario.params.names == ("W", "x", "z") and scenario.params.bias == "b"
    scene = MatmulScene()
    apply_scenario(scene, scenario)
    assert scene.names == ("W", "x", "z") and scene.bias == "b"
    back = load_scenario(save_scenario(scenario_from_scene(scene, "again"), tmp_path / "again.toml"))
    assert back.params == scene.params
    text = dumps_scenario(back)
    assert 'names = ["W", "x", "z"]' in text and 'bias = "b"' in text
    # another scenario without the keys: today's A, B, C and no bias, and the file stays as it was written
    apply_scenario(scene, Scenario("matmul", "plain", MatmulParams(m=3, n=1, k=7)))
    assert scene.names == DEFAULT_NAMES == ("A", "B", "C") and scene.bias is None
    plain = dumps_scenario(scenario_from_scene(scene, "plain"))
    assert "names" not in plain and "bias" not in plain


def test_names_are_display_only_the_product_and_its_numbers_do_not_change():
    # a list, as JSON holds it, is kept as a tuple: frozen params stay hashable and compare equal
    named = MatmulScene(MatmulParams(m=3, n=1, k=7, names=["W", "x", "z"], bias="b"))
    assert named.names == ("W", "x", "z") and hash(named.params) == hash(MatmulParams(m=3, n=1, k=7, names=(
        "W", "x", "z"), bias="b"))
    plain = MatmulScene(MatmulParams(m=3, n=1, k=7))
    assert named.numbers() == plain.numbers() and named.n_steps == plain.n_steps
    assert named.memory_totals() == plain.memory_totals()
    for step in range(named.n_steps):
        a, b = named.frame(step=step), plain.frame(step=step)
        for name in ("A", "B"):
            assert np.array_equal(a.reads[name], b.reads[name])
        assert np.array_equal(a.writes["C"], b.writes["C"]) and a.threads == b.threads


@pytest.mark.parametrize("edit, message", [
    (lambda t: t.replace('["W", "x", "z"]', '["W", "x"]'), "[params] names must be three names for A, B and C"),
    (lambda t: t.replace('["W", "x", "z"]', '"W x z"'), "[params] names must be three names for A, B and C"),
    (lambda t: t.replace('["W", "x", "z"]', '["W", 1, "z"]'), "[params] names must be three names"),
    (lambda t: t.replace('["W", "x", "z"]', '["W", "x", "W"]'), "[params] names: the names of A, B and C must differ"),
    (lambda t: t.replace('["W", "x", "z"]', '["", "x", "z"]'), "[params] names: the name of A '' must be 1 to 8"),
    (lambda t: t.replace('["W", "x", "z"]', '["Weights_long", "x", "z"]'),
     "[params] names: the name of A 'Weights_long' must be 1 to 8 characters long"),
    (lambda t: t.replace('["W", "x", "z"]', '["W", "x y", "z"]'),
     "[params] names: the name of B 'x y' may hold letters, digits, subscripts and primes (′), not ' '"),
    (lambda t: t.replace('["W", "x", "z"]', '["W", "x", "<b>z</b>"]'), "the name of C '<b>z</b>' may hold letters, digits, subscripts and primes (′), not '<'"),
    (lambda t: t.replace('["W", "x", "z"]', '["W", "x", "<z>"]'), "the name of C '<z>' may hold letters"),
    (lambda t: t.replace('["W", "x", "z"]', '["2W", "x", "z"]'), "the name of A '2W' must start with a letter"),
    (lambda t: t.replace('bias = "b"', 'bias = "x"'), "[params] bias: the bias's name 'x' is already the name of B"),
    (lambda t: t.replace('bias = "b"', 'bias = "b+c"'), "[params] bias: the bias's name 'b+c' may hold"),
    (lambda t: t.replace('bias = "b"', "bias = 1"), "[params] bias must be a string, got an integer 1"),
])
def test_a_bad_name_is_one_line_naming_the_key(tmp_path, edit, message):
    path = tmp_path / "s.toml"
    path.write_text(edit(LAYER), encoding="utf-8")
    with pytest.raises(ScenarioError) as e:
        load_scenario(path)
    assert message in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("names", [("W", "x", "z"), ("W₁", "xᵢ", "z′"), ("Wout", "X", "Z2"), ("Ω", "ξ", "ζ"),
                                   ("A" * NAME_MAX, "B", "C")])
def test_short_names_with_subscripts_and_primes_are_taken(names):
    scene = MatmulScene()
    scene.configure(names=list(names), bias="b′")
    assert scene.names == names and scene.bias == "b′"
    scene.configure(bias="")  # an emptied bias field: no bias
    assert scene.bias is None


def test_a_refused_name_changes_nothing():
    scene = MatmulScene()
    seen = []
    scene.subscribe(lambda s, what: seen.append(what))
    for changes, field in [(dict(names=("W", "W", "z")), "names"), (dict(names="Wxz"), "names"),
                           (dict(bias="A"), "bias"), (dict(bias="a b"), "bias")]:
        with pytest.raises(SceneError) as e:
            scene.configure(**changes)
        assert e.value.field == field
    assert scene.params == MatmulParams() and seen == []


def test_the_step_text_uses_the_names_and_says_the_bias_is_added_after_the_kernel():
    scene = MatmulScene()
    apply_scenario(scene, preset("02-dense-layer-wx"))
    assert scene.names == ("W", "x", "z") and scene.bias == "b"
    assert scene.step_text(0) == "acc += W[row, 0]·x[0, col]"
    assert scene.step_text(6) == "acc += W[row, 6]·x[6, col]"
    assert scene.step_text(7) == "z[row, col] = acc  (b is added after this kernel)"
    assert [scene.display_name(a) for a in ("A", "B", "C", "sA")] == ["W", "x", "z", "sA"]
    apply_scenario(scene, preset("03-batch-10x784"))
    assert scene.names == ("W", "X", "Z") and scene.bias is None
    assert scene.step_text(784) == "Z[row, col] = acc"
    # the tiled kernel: what the shared tiles hold, in the operands' names
    scene.configure(kernel="tiled", block=(8, 8), names=("W", "X", "Z"))
    roles = [scene.step_info(s).role for s in range(scene.n_steps)]
    load_b = roles.index("load_b", roles.index("load_b") + 1)  # the second tile's
    assert scene.step_text(load_b) == "sB[ty, tx] = X[8 + ty, col]"
    multiply = roles.index("multiply", load_b)
    assert scene.step_text(multiply + 2) == "acc += sA[ty, 2]·sB[2, tx]  (= W[row, 10]·X[10, col])"
    assert "outside W" in scene.step_text(roles.index("zero_a"))


def test_the_dense_layer_presets_name_their_operands():
    layer, batch = preset("02-dense-layer-wx"), preset("03-batch-10x784")
    assert (layer.params.names, layer.params.bias) == (("W", "x", "z"), "b")
    assert (batch.params.names, batch.params.bias) == (("W", "X", "Z"), None)
    assert "W·x + b" in layer.title and "Z = W·X" in batch.title
    # the captions speak of the operands by these names, not as A, B, C
    for s in (layer, batch):
        for ks in s.key_steps:
            assert "C[" not in ks.caption and "A[" not in ks.caption and "B[" not in ks.caption
