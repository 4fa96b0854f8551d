"""NumPy broadcasting, explained: the model agrees with NumPy on every generated shape set and says why."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gpuviz.model import broadcast as bc
from gpuviz.model.broadcast import (
    QUIZ,
    QUIZ_ANSWERS,
    BroadcastParams,
    ShapeParseError,
    broadcast_values,
    explain,
    lecture_values,
    make_values,
    parse_shape,
)
from gpuviz.model.panel import ParamsError
from gpuviz.model.scenario import ScenarioError, load_presets, parse_scenario

# 0 and 1 are the interesting sizes; a few others make mismatches possible
SIZES = st.sampled_from([0, 1, 1, 1, 2, 3, 3, 4, 5])
OTHER_SIZES = st.sampled_from([0, 2, 3, 4, 5])


@st.composite
def shape_sets(draw, max_operands=4, max_ndim=6):
    """1..4 shapes of 0..6 dimensions built from one base shape, about half of them with a planted mismatch."""
    base = draw(st.lists(SIZES, min_size=max_ndim, max_size=max_ndim))
    shapes = []
    for _ in range(draw(st.integers(1, max_operands))):
        ndim = draw(st.integers(0, max_ndim))
        dims = []
        for size in base[max_ndim - ndim:]:
            how = draw(st.sampled_from(["same", "same", "one", "other"]))
            dims.append(size if how == "same" else 1 if how == "one" else draw(OTHER_SIZES))
        shapes.append(dims)
    if draw(st.booleans()):
        # plant a size that is neither 1 nor the base size (NumPy still decides whether it clashes)
        i = draw(st.integers(0, len(shapes) - 1))
        if shapes[i]:
            d = draw(st.integers(0, len(shapes[i]) - 1))
            planted = base[max_ndim - len(shapes[i]) + d]
            shapes[i][d] = draw(OTHER_SIZES.filter(lambda x: x != planted))
    return [tuple(s) for s in shapes]


def numpy_shape(shapes):
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        return None


@settings(max_examples=400, deadline=None)
@given(shape_sets())
def test_verdict_and_result_shape_agree_with_numpy(shapes):
    ex = explain(*shapes)
    expected = numpy_shape(shapes)
    assert ex.ok == (expected is not None)
    assert ex.result_shape == expected
    assert ex.shapes == tuple(shapes)
    assert ex.ndim == max(len(s) for s in shapes)
    assert [len(p) for p in ex.padded] == [ex.ndim] * len(shapes)
    assert [c.from_right for c in ex.comparisons] == list(range(1, ex.ndim + 1))
    for c in ex.comparisons:
        for i, shape in enumerate(shapes):
            assert c.padded[i] == (c.from_right > len(shape))
            assert c.sizes[i] == (None if c.padded[i] else shape[-c.from_right])
            assert ex.padded[i][-c.from_right] == c.effective[i]
    if ex.ok:
        assert ex.failing_dim is None and ex.failing_dim_left is None
        assert tuple(c.result for c in reversed(ex.comparisons)) == expected
        for c in ex.comparisons:
            assert c.verdict in ("equal", "stretch")
            assert c.stretched == tuple(e == 1 and c.result != 1 for e in c.effective)
            assert (c.verdict == "stretch") == any(c.stretched)
        assert ex.steps[-1].kind == "result"
        # one stretch step per dimension where something is stretched, from the right
        assert [s.dim for s in ex.steps if s.kind == "stretch"] == [c.from_right for c in ex.comparisons
                                                                    if c.verdict == "stretch"]
    else:
        bad = ex.comparison(ex.failing_dim)
        assert bad.verdict == "incompatible" and bad.result is None
        assert all(c.verdict != "incompatible" for c in ex.comparisons[: ex.failing_dim - 1])
        # that dimension alone already fails in NumPy
        assert numpy_shape([(s,) for s in bad.effective]) is None
        for i, shape in enumerate(shapes):
            left = ex.failing_dim_left[i]
            assert left == (None if bad.padded[i] else len(shape) - ex.failing_dim)
            if left is not None:
                assert shape[left] == bad.sizes[i]
        assert [s.kind for s in ex.steps[-2:]] == ["compare", "fail"]
        assert ex.steps[-1].dim == ex.failing_dim and ex.steps[-1].text == ex.reason
        assert f"Dimension {ex.failing_dim} from the right" in ex.reason
    kinds = [s.kind for s in ex.steps]
    assert kinds[0] == "align" and set(kinds) <= set(bc.STEP_KINDS) and "add" not in kinds
    assert ("pad" in kinds) == any(len(s) < ex.ndim for s in shapes)
    compared = [s.dim for s in ex.steps if s.kind == "compare"]
    assert compared == list(range(1, (ex.failing_dim or ex.ndim) + 1))
    assert all(s.title and s.text for s in ex.steps)


def test_generated_shape_sets_give_both_outcomes_often():
    seen = []

    @settings(max_examples=300, deadline=None, database=None)
    @given(shape_sets())
    def collect(shapes):
        seen.append(numpy_shape(shapes) is not None)

    collect()
    assert 0.3 < np.mean(seen) < 0.9, np.mean(seen)  # measured: 0.6 to 0.85


@settings(max_examples=150, deadline=None)
@given(shape_sets(max_ndim=4), st.integers(0, 2**32 - 1))
def test_values_agree_with_numpy(shapes, seed):
    rng = np.random.default_rng(seed)
    arrays = [rng.integers(-50, 50, size=s) for s in shapes]
    try:
        expected = arrays[0].copy()
        for a in arrays[1:]:
            expected = expected + a
    except ValueError:
        with pytest.raises(ValueError) as e:
            broadcast_values(*arrays)
        assert str(e.value) == explain(*shapes).reason
        return
    stretched, total = broadcast_values(*arrays)
    assert total.shape == expected.shape and total.dtype == expected.dtype
    np.testing.assert_array_equal(total, expected)
    for a, s in zip(arrays, stretched):
        np.testing.assert_array_equal(s, np.broadcast_to(a, expected.shape))
        assert s.flags.writeable and s.flags.owndata  # real copies, not views of the operand
    floats = [a.astype(np.float32) / 7 for a in arrays]
    expected = floats[0] + floats[1] if len(floats) > 1 else floats[0]
    for a in floats[2:]:
        expected = expected + a
    np.testing.assert_array_equal(broadcast_values(*floats)[1], expected)


# NumPy's own examples (the broadcasting page of its user guide)
@pytest.mark.parametrize("a, b, result", [
    ((256, 256, 3), (3,), (256, 256, 3)),
    ((8, 1, 6, 1), (7, 1, 5), (8, 7, 6, 5)),
    ((5, 4), (1,), (5, 4)),
    ((5, 4), (4,), (5, 4)),
    ((15, 3, 5), (15, 1, 5), (15, 3, 5)),
    ((15, 3, 5), (3, 5), (15, 3, 5)),
    ((15, 3, 5), (3, 1), (15, 3, 5)),
    ((3,), (4,), None),
    ((2, 1), (8, 4, 3), None),
    ((4, 3), (4,), None),
    ((4, 1), (3,), (4, 3)),
    ((0,), (1,), (0,)),
    ((0,), (5,), None),
    ((1000, 784), (784,), (1000, 784)),
])
def test_numpy_documentation_examples(a, b, result):
    ex = explain(a, b)
    assert ex.result_shape == result and ex.ok == (result is not None)
    assert ex.result_shape == numpy_shape([a, b])


def test_the_lecture_quiz_gives_the_lectures_answers():
    assert list(QUIZ) == list("ABCDEFG")
    assert QUIZ_ANSWERS == {"A": True, "B": False, "C": False, "D": True, "E": True, "F": True, "G": True}
    for letter, shapes in QUIZ.items():
        assert shapes[0] == (5, 3, 2)
        assert explain(*shapes).ok == QUIZ_ANSWERS[letter], letter


@pytest.mark.parametrize("shapes, dim, left, sizes", [
    (((5, 3, 2), (5, 2)), 2, (1, 0), (3, 5)),          # quiz B
    (((5, 3, 2), (5, 3)), 1, (2, 1), (2, 3)),          # quiz C
    (((2, 1), (8, 4, 3)), 2, (0, 1), (2, 4)),          # the trailing 1 and 3 match; 2 meets 4
    (((3,), (4,)), 1, (0, 0), (3, 4)),
    (((7, 4, 3), (4,)), 1, (2, 0), (3, 4)),
    (((6, 5, 4), (9, 5, 4)), 3, (0, 0), (6, 9)),       # only the leading dimension
    (((2, 3), (4, 5)), 1, (1, 1), (3, 5)),             # two bad dimensions: the first from the right is named
    (((3,), (1, 4, 3), (2, 5, 1)), 2, (None, 1, 1), (None, 4, 5)),  # fails only once the third operand is in
    (((0,), (5,)), 1, (0, 0), (0, 5)),
])
def test_failing_dimension_on_hand_checked_cases(shapes, dim, left, sizes):
    ex = explain(*shapes)
    assert not ex.ok and ex.failing_dim == dim and ex.failing_dim_left == left
    assert ex.comparison(dim).sizes == sizes


def test_the_failure_sentence_names_dimension_indices_sizes_and_rule():
    ex = explain("(5, 3, 2)", "(5, 2)")
    assert ex.reason == ("Dimension 2 from the right (index 1 of (5, 3, 2), index 0 of (5, 2)) has sizes 3 and 5: "
                         "they differ and neither is 1, so NumPy cannot stretch one to match the other.")
    assert "a size of 0 matches only 0 or 1" in explain((0,), (5,)).reason
    three = explain((3,), (1,), (4,))
    assert "3 and 4 differ and neither is 1" in three.reason


def test_the_success_sentence_says_what_is_stretched():
    assert explain((5, 3, 2), (3, 2)).reason == (
        "The shapes broadcast to (5, 3, 2): (3, 2) (padded to (1, 3, 2)) is stretched along dimension 3 from "
        "the right (1 → 5).")
    scalar = explain((5, 3, 2), ()).reason
    assert "scalar" in scalar and "dimensions 3, 2 and 1" in scalar
    assert "nothing stretched" in explain((4, 1), (4, 1)).reason
    assert "itself" in explain((7,)).reason
    both = explain((8, 1, 6, 1), (7, 1, 5)).reason
    assert "(8, 1, 6, 1) is stretched along dimensions 3 and 1" in both
    assert "(7, 1, 5) (padded to (1, 7, 1, 5)) is stretched along dimensions 4 and 2" in both


def test_steps_of_the_slide_example():
    ex = explain("(4, 3)", "(1, 3)", with_add=True)
    assert [(s.kind, s.dim) for s in ex.steps] == [
        ("align", None), ("compare", 1), ("compare", 2), ("stretch", 2), ("result", None), ("add", None)]
    assert "4 times" in ex.steps[3].text
    # a failing pair gets no add step even when asked
    assert "add" not in [s.kind for s in explain((3,), (4,), with_add=True).steps]


def test_explanation_to_dict_is_plain_json_data():
    import json

    d = explain((5, 3, 2), (5, 2)).to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["ok"] is False and d["failing_dim"] == 2 and d["result_shape"] is None
    assert d["padded"] == [[5, 3, 2], [1, 5, 2]] and d["failing_dim_left"] == [1, 0]
    assert all(set(step) == {"kind", "title", "text", "dim"} for step in d["steps"])
    assert [c["verdict"] for c in d["comparisons"]] == ["equal", "incompatible", "stretch"]


@pytest.mark.parametrize("text, shape", [
    ("(5, 3, 2)", (5, 3, 2)), ("5,3,2", (5, 3, 2)), ("5x3x2", (5, 3, 2)), ("5X3", (5, 3)), ("5×3×2", (5, 3, 2)),
    ("5 3 2", (5, 3, 2)), ("[5, 3, 2]", (5, 3, 2)), ("()", ()), ("( )", ()), ("(7,)", (7,)), ("7", (7,)),
    ("  (4, 3,) ", (4, 3)), ("(0, 1)", (0, 1)), ((5, 3), (5, 3)), ([], ()), (np.array([2, 3]).tolist(), (2, 3)),
    ((np.int64(4),), (4,)),
])
def test_parse_shape_reads_what_people_type(text, shape):
    assert parse_shape(text) == shape


@pytest.mark.parametrize("text, needle", [
    ("", "no shape given"), ("   ", "no shape given"), ("abc", "'abc'"), ("(5, 3", "never closed"),
    ("5, 3)", "never opened"), ("(5,,3)", "missing"), ("5x3,2", "one kind of separator"), ("-1", "negative"),
    ("(5, -3)", "negative"), ("1.5", "'1.5'"), ("(,)", "missing"), ("5x", "missing"), ("(5; 3)", "'5;'"),
    ((5, -1), "negative"), ((5, 2.0), "2.0"), ((True,), "True"), (None, "None"),
])
def test_parse_shape_rejects_garbage_naming_it(text, needle):
    with pytest.raises(ShapeParseError) as e:
        parse_shape(text)
    assert needle in str(e.value)
    assert isinstance(e.value, ValueError)
    if isinstance(text, str) and text.strip():
        assert repr(text.strip()) in str(e.value)  # the offending text, as typed


def test_explain_takes_text_tuples_or_one_list_and_needs_a_shape():
    assert explain("5x3x2", [3, 2]) == explain((5, 3, 2), (3, 2)) == explain([(5, 3, 2), "(3, 2)"])
    with pytest.raises(ValueError):
        explain()
    with pytest.raises(ShapeParseError, match="'5 x'"):
        explain("(4, 3)", "5 x")


def test_lecture_values():
    matrix, row = lecture_values("slide")
    np.testing.assert_array_equal(matrix, np.arange(1, 13).reshape(4, 3))
    np.testing.assert_array_equal(row, [[100, 200, 300]])
    _, total = broadcast_values(matrix, row)
    np.testing.assert_array_equal(total, [[101, 202, 303], [104, 205, 306], [107, 208, 309], [110, 211, 312]])
    outputs, bias = lecture_values("bias-add")
    assert outputs.shape == (4, 10) and bias.shape == (1, 10)
    wx, b = lecture_values("wx-plus-b")
    np.testing.assert_array_equal(wx[:, 0], [6, 15, 24, 33])
    assert b.shape == (4, 1)
    outputs, wrong = lecture_values("pitfall")
    _, total = broadcast_values(outputs, wrong)
    # the pitfall: every unit of example i gets the same value, so a row minus its first entry is the same for all
    np.testing.assert_array_equal(total - outputs, np.repeat(wrong, 10, axis=1))
    with pytest.raises(ValueError, match="known"):
        lecture_values("nope")


def test_make_values():
    a, b = make_values(["(4, 3)", "(1, 3)"])
    assert (a == np.arange(1, 13).reshape(4, 3)).all() and (b == [[100, 200, 300]]).all()
    assert make_values([(2,), ()])[1].shape == () and make_values([(2,), ()])[1] == 100
    r1, r2 = make_values([(3, 2), (2,)], "random", seed=3), make_values([(3, 2), (2,)], "random", seed=3)
    assert all((x == y).all() for x, y in zip(r1, r2)) and r1[0].min() >= -9 and r1[0].max() <= 9
    assert [v.shape for v in make_values([(4, 3), (1, 3)], "slide")] == [(4, 3), (1, 3)]
    with pytest.raises(ValueError, match="are for shapes"):
        make_values([(4, 3), (3,)], "slide")
    with pytest.raises(ValueError, match="not one of"):
        make_values([(4, 3)], "ones")
    with pytest.raises(ValueError, match="too many elements"):
        make_values([(100_000, 100_000), (1,)])


def test_broadcast_params_from_a_table():
    p = BroadcastParams.from_dict({"shapes": ["(5, 3, 2)", [3, 2]], "values": "arange"})
    assert p.shapes == ((5, 3, 2), (3, 2)) and p.values == "arange" and p.seed == 0
    assert BroadcastParams.from_dict(p.to_dict()) == p
    assert p.to_dict() == {"shapes": ["(5, 3, 2)", "(3, 2)"], "values": "arange"}
    assert BroadcastParams.from_dict({"left": [5, 3, 2], "right": [3, 2]}).shapes == ((5, 3, 2), (3, 2))
    assert [a.shape for a in p.arrays()] == [(5, 3, 2), (3, 2)] and BroadcastParams(((2,),)).arrays() is None
    for bad, needle in [({}, "missing key 'shapes'"), ({"shapes": []}, "non-empty"), ({"shapes": [5]}, "shape #1"),
                        ({"shapes": ["(5, 3)", "5 x"]}, "shape #2"), ({"shapes": ["(2,)"], "colour": 1}, "'colour'"),
                        ({"shapes": ["(2,)"], "values": 3}, "values"), ({"shapes": ["(2,)"], "seed": "1"}, "seed"),
                        ({"shapes": ["(2,)"], "left": [2]}, "one or the other")]:
        with pytest.raises(ValueError, match=needle):
            BroadcastParams.from_dict(bad)


QUIZ_FILE = {"schema": 1, "panel": "broadcast", "title": "Q", "params": {"shapes": ["(5, 3, 2)", "(5, 2)"]},
             "quiz": {"question": "works?", "answer": "fails", "letter": "B"}}


def test_broadcast_scenarios_are_checked():
    s = parse_scenario(QUIZ_FILE)
    assert s.quiz == {"question": "works?", "answer": "fails", "letter": "B"} and s.params == BroadcastParams.from_dict(QUIZ_FILE["params"])
    for change, needle in [
        ({"quiz": {"question": "?", "answer": "works"}}, "contradicts NumPy's rule"),
        ({"quiz": {"question": "?", "answer": "maybe"}}, "must be"),
        ({"quiz": {"answer": "fails"}}, "'question'"),
        ({"quiz": {"question": "?", "answer": "fails", "hint": "x"}}, "'hint'"),
        ({"params": {"shapes": ["(5, 3, 2)", "(5; 2)"]}}, "shape #2"),
        ({"params": {"shapes": ["(4, 3)", "(3,)"], "values": "slide"}}, "are for shapes"),
        ({"params": {"shapes": ["(4, 3)"], "size": 3}}, "'size'"),
        ({"key_steps": [{"step": 5, "caption": "c"}]}, "outside this explanation's steps"),
        ({"panel": "matmul"}, "[quiz] is read only in broadcast"),
    ]:
        data = {**QUIZ_FILE, **change}
        with pytest.raises(ScenarioError) as e:
            parse_scenario(data, "q.toml")
        assert needle in str(e.value) and "q.toml" in str(e.value)


def test_shipped_broadcast_presets():
    presets, errors = load_presets("broadcast")
    assert errors == []
    by_name = {p.name: p for p in presets}
    quiz = [p for p in presets if p.quiz]
    assert [p.quiz["letter"] for p in quiz] == list("ABCDEFG")
    for p in quiz:
        params = p.params
        letter = p.quiz["letter"]
        assert params.shapes == QUIZ[letter]
        assert p.quiz["answer"] == ("works" if QUIZ_ANSWERS[letter] else "fails")
        # the answer stays in [quiz]: the question, title and description do not give it away
        for text in (p.title, p.description, p.quiz["question"]):
            assert not any(word in text.lower() for word in ("success", "failure", "incompatible")), text
    slide = by_name["17-slide-4x3"].params
    assert slide.shapes == ((4, 3), (1, 3))
    np.testing.assert_array_equal(broadcast_values(*slide.arrays())[1][-1], [110, 211, 312])
    assert "4 copies" in by_name["17-slide-4x3"].description
    assert by_name["18-bias-add"].params.shapes == ((4, 10), (1, 10))
    assert by_name["19-wx-plus-b"].params.shapes == ((4, 1), (4, 1))
    pitfall = by_name["20-pitfall-m1"]
    assert pitfall.params.shapes == ((4, 10), (4, 1))
    assert "not always the shape you meant" in pitfall.description
    assert explain((4, 10), (4, 1)).ok  # it does broadcast: that is the pitfall
    # the matmul panel's list is unchanged by the broadcast presets
    assert all(p.panel == "matmul" for p in load_presets("matmul")[0])


def test_a_broadcast_scenario_round_trips_through_a_file(tmp_path):
    from gpuviz.model.scenario import KeyStep, Scenario, load_scenario, save_scenario

    scenario = parse_scenario({**QUIZ_FILE, "description": "Ask first.", "key_steps": [{"step": 4, "caption": "c"}]})
    back = load_scenario(save_scenario(scenario, tmp_path / "q.toml"))
    assert back == scenario and back.quiz["answer"] == "fails" and back.key_steps == (KeyStep(4, "c"),)
    # BroadcastParams are written as their table
    typed = Scenario("broadcast", "T", BroadcastParams(((4, 3), (1, 3)), "slide"))
    again = load_scenario(save_scenario(typed, tmp_path / "t.toml"))
    assert again.params == typed.params and again.quiz == {}


# -- typed values ------------------------------------------------------------------------------------


def test_typed_values_are_the_slides_numbers_and_their_sum_is_numpys():
    from gpuviz.model.broadcast import sum_values, typed_values

    a, b = typed_values(["(4, 3)", "(3,)"], ["[[1,2,3],[4,5,6],[7,8,9],[10,11,12]]", [100, 200, 300]])
    assert a.dtype == np.int64 and b.shape == (3,)
    total = sum_values(["(4, 3)", "(3,)"], ["[[1,2,3],[4,5,6],[7,8,9],[10,11,12]]", "[100, 200, 300]"])
    np.testing.assert_array_equal(total, np.arange(1, 13).reshape(4, 3) + np.array([100, 200, 300]))
    assert sum_values(["(4, 3)", "(4,)"], ["ones", "zeros"]) is None  # they do not broadcast
    floats = sum_values(["(2,)", "()"], ["[0.5, 1.5]", "2"])
    assert floats.dtype == np.float64 and floats.tolist() == [2.5, 3.5]


def test_fill_words_follow_model_values():
    from gpuviz.model.broadcast import operand_values
    from gpuviz.model.values import Init, make_array

    assert operand_values("zeros", (2, 3)).tolist() == [[0, 0, 0], [0, 0, 0]]
    assert operand_values("ones", (2,)).tolist() == [1, 1]
    assert operand_values("arange", (2, 2)).tolist() == [[0, 1], [2, 3]]
    np.testing.assert_array_equal(operand_values("random(7)", (3, 4)), make_array((3, 4), "int64", Init("random", 7)))
    np.testing.assert_array_equal(operand_values("random", (5,)), operand_values("random(0)", (5,)))
    assert operand_values("auto", (3,), operand=1).tolist() == [100, 200, 300]
    assert operand_values(None, (2,)).tolist() == [1, 2]


@pytest.mark.parametrize("spec, shape, words", [
    ("[[1, 2], [3]]", (2, 2), "ragged rows"),
    ("[1, NaN]", (2,), "no NaN or Infinity"),
    ("[Infinity]", (1,), "no NaN or Infinity"),
    ("-Infinity", (), "no NaN or Infinity"),
    ("[1e400]", (1,), "too large"),
    ("[true, 2]", (2,), "is not a number"),
    ('["1", 2]', (2,), "is not a number"),
    ("[[1, 2, 3]]", (3,), "has shape (1, 3), not operand A's shape (3,)"),
    ("[1, 2", (2,), "cannot read"),
    ("twos", (2,), "zeros, ones, arange, random, random(SEED)"),
    ("zeros", (1_000_000_000,), "1,000,000,000 elements"),
    ("[" * 5000 + "]" * 5000, (1,), "nested"),
    ("[" + "1," * 10_000 + "1]", (10_001,), "at most 10,000"),
    ("[1" + "0" * 5000 + "]", (1,), "cannot read"),
])
def test_values_that_cannot_be_used_are_one_sentence(spec, shape, words):
    from gpuviz.model.broadcast import ValuesParseError, operand_values

    with pytest.raises(ValuesParseError) as e:
        operand_values(spec, shape)
    msg = str(e.value)
    assert words in msg and "\n" not in msg and len(msg) < 200
    assert msg.startswith("values of operand A")


def test_typed_values_need_one_per_shape():
    from gpuviz.model.broadcast import ValuesParseError, typed_values

    with pytest.raises(ValuesParseError, match="1 VALUES given for 2 shapes"):
        typed_values(["(2,)", "(2,)"], ["ones"])


def test_scenario_values_per_operand_round_trip_and_are_checked():
    p = BroadcastParams.from_dict({"shapes": ["(4, 3)", "(3,)"],
                                   "values": [[[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]], "random(3)"]})
    assert p.values[1] == "random(3)"
    assert BroadcastParams.from_dict(p.to_dict()) == p
    np.testing.assert_array_equal(p.arrays()[0][-1], [10, 11, 12])
    with pytest.raises(ParamsError, match=r"\[params\] values of operand B: '\[1, 2\]' has shape \(2,\)"):
        BroadcastParams.from_dict({"shapes": ["(4, 3)", "(3,)"], "values": ["ones", [1, 2]]})
    with pytest.raises(ParamsError, match="3 entries for 2 shapes"):
        BroadcastParams.from_dict({"shapes": ["(4, 3)", "(3,)"], "values": ["ones", "ones", "ones"]})


def test_absurd_shapes_are_refused_in_one_line_where_pictures_are_drawn():
    from gpuviz.model import limits
    from gpuviz.model.broadcast_panel import BroadcastState

    with pytest.raises(ShapeParseError, match="5,000 dimensions; at most 32"):
        parse_shape(", ".join(["1"] * 5000))
    with pytest.raises(ShapeParseError, match="too large"):
        parse_shape("(" + "9" * 5000 + ",)")
    with pytest.raises(ParamsError, match="at most 8 operands"):
        BroadcastParams.from_dict({"shapes": ["(2,)"] * (limits.MAX_DRAWN_OPERANDS + 1)})
    with pytest.raises(ParamsError, match="draws at most 8"):
        BroadcastState([(2,)] * 9)
    # no drawing: explain takes as many operands as NumPy does
    assert explain(*["(2,)"] * 40).ok
    # a billion elements beside another operand: drawn without numbers, no error
    state = BroadcastState([(1_000_000_000,), (3,)])
    assert state.values is None and "values not drawn" in state.values_note


def test_typed_operands_whose_sum_would_be_huge_are_not_stretched_in_memory():
    from gpuviz.model.broadcast_panel import BroadcastState

    state = BroadcastState([(10_000, 1), (1, 10_000)], values=["zeros", "ones"])
    assert state.explanation.ok and state.result is None and state.stretched is None
    assert "100,000,000 elements" in state.values_note
    assert state.values[0].shape == (10_000, 1)  # the operands themselves are drawn (elided) with numbers
