"""The broadcasting panel: model → widget → change → check (a success, a failure, a quiz round, bad input, elision).

What the canvas painted is read from its ``drawn_texts``/``cells_drawn``/``failing_marked``
after a real paint (``grab()``), and the panel's visible labels and buttons, so
the tests check what a student would see.
"""

import numpy as np
import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QAbstractButton, QLabel

from gpuviz.model import broadcast as bc
from gpuviz.model.broadcast_panel import BroadcastState, random_shapes
from gpuviz.model.scenario import dumps_scenario, parse_scenario
from gpuviz.ui import theme as themes
from gpuviz.ui.broadcast.panel import BroadcastPanel

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib


@pytest.fixture
def panel(qtbot):
    p = BroadcastPanel()
    qtbot.addWidget(p)
    p.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    p.resize(1920, 1080)
    p.show()
    yield p
    p.shutdown()


def painted(p: BroadcastPanel) -> list[str]:
    p.canvas.grab()  # a real paint of the canvas at its laid-out size
    return list(p.canvas.drawn_texts)


def on_screen(p: BroadcastPanel) -> str:
    """Every text a student can read: visible labels, visible buttons, and the canvas's painted texts."""
    texts = [w.text() for w in p.findChildren(QLabel) if w.isVisible()]
    texts += [w.text() for w in p.findChildren(QAbstractButton) if w.isVisible()]
    return "\n".join(texts + painted(p))


def preset(p: BroadcastPanel, prefix: str):
    return next(s for s in p.presets() if s.title.startswith(prefix))


def test_success_ends_on_the_sum_with_numpys_values(panel):
    panel.apply_scenario(preset(panel, "Slide: (4, 3)"))
    assert panel.state.shapes == ((4, 3), (1, 3))
    first = painted(panel)
    assert "101" not in first  # the sum is not drawn before its step
    panel.last_step()
    texts = painted(panel)
    expected = np.arange(1, 13).reshape(4, 3) + np.array([[100, 200, 300]])
    np.testing.assert_array_equal(panel.state.result, expected)
    for v in expected.ravel():
        assert str(v) in texts
    # the stretched row: 4 copies (the slide drew 3), 3 of them ghosts
    assert texts.count("100") == 4
    assert "1 → 4" in texts
    assert panel.step_title.text().endswith("Add element by element")
    assert any("result has shape (4, 3)" in t for t in texts)


def test_steps_move_with_the_timeline_controls(panel):
    panel.set_shapes_text("(4, 3)", "(3,)")
    n = panel.state.n_steps
    kinds = [s.kind for s in panel.state.steps]
    assert kinds[:2] == ["align", "pad"]
    assert "padded" not in painted(panel)  # align: the gap is still empty
    panel.step_by(1)
    assert "padded" in painted(panel)
    panel.last_step()
    assert panel.state.step == n - 1
    assert not panel.timeline.forward_button.isEnabled()
    panel.first_step()
    assert panel.state.step == 0
    panel.timeline.slider.setValue(2)
    assert panel.state.step == 2
    speed = panel.timeline.speed
    panel.faster()
    assert panel.timeline.speed > speed


def test_failure_ends_on_the_reason_with_the_dimension_marked_in_both_shapes(panel):
    panel.set_shapes_text("(5, 3, 2)", "(5, 2)")
    ex = panel.state.explanation
    assert not ex.ok and ex.failing_dim == 2
    panel.last_step()
    texts = painted(panel)
    assert panel.state.steps[panel.state.step].kind == "fail"
    assert ex.reason in on_screen(panel)  # the step's sentence, over the picture (once, not twice)
    assert not any(ex.reason in t for t in texts)
    assert sorted(panel.canvas.failing_marked) == [(0, 2), (1, 2)]
    assert "✗ differ" in texts and "✓ equal" in texts
    # before the failing comparison nothing is marked
    panel.first_step()
    painted(panel)
    assert panel.canvas.failing_marked == []


def test_quiz_round_hides_the_answer_until_the_reveal(panel):
    panel.set_quiz_mode(True)
    assert panel.state.shapes == bc.QUIZ["A"]
    giveaways = ("✓", "✗", "Right", "Not this time", "result", "padded", "stretch", "(5, 3, 2)\n(1, 3, 2)",
                 "differ", "equal", "works")
    text = on_screen(panel)
    for word in giveaways:
        assert word not in text, word
    assert "Score: 0/0" in text
    # the keys cannot step past "align" before the reveal
    panel.step_by(1)
    panel.last_step()
    panel.play_pause()
    assert panel.state.step == 0 and not panel.timeline.playing
    assert not any(b.isEnabled() for b in (panel.timeline.forward_button, panel.timeline.last_button,
                                           panel.timeline.play_button, panel.timeline.slider))
    assert not panel.reveal_button.isEnabled()
    panel.works_button.click()
    text = on_screen(panel)
    for word in giveaways:
        assert word not in text, word
    assert "Score: 0/0" in text  # the score moves only at the reveal, or it would tell
    panel.reveal_button.click()
    assert panel.score_label.text() == "Score: 1/1"
    assert panel.feedback_label.text().startswith("✓ Right")
    assert panel.timeline.playing
    panel.last_step()
    assert any("result has shape (5, 3, 2)" in t for t in painted(panel))

    panel.next_button.click()  # B: (5, 3, 2) + (5, 2) fails
    assert panel.state.shapes == bc.QUIZ["B"] and panel.concealed
    panel.works_button.click()
    panel.reveal_button.click()
    assert panel.score_label.text() == "Score: 1/2"
    assert panel.feedback_label.text().startswith("✗ Not this time")
    panel.set_quiz_mode(False)
    assert not panel.quiz_button.isChecked() and panel.preset_box.isEnabled()


def test_quiz_questions_come_in_order_a_to_g_with_the_lectures_answers(panel):
    questions = panel.quiz_questions()
    assert [q.quiz["letter"] for q in questions] == list("ABCDEFG")
    for q in questions:
        shapes = q.params.shapes  # typed: the scenario carries BroadcastParams
        assert bc.explain(*shapes).ok == bc.QUIZ_ANSWERS[q.quiz["letter"]]


def test_a_shape_that_cannot_be_read_is_reported_inline_and_the_picture_stays(panel):
    panel.set_shapes_text("(4, 3)", "(1, 3)")
    panel.last_step()
    before = painted(panel)
    panel.set_shapes_text("(5, 3, x)", "(1, 3)")
    message = panel.messages[0].message
    assert message and "x" in message and "Still showing (4, 3) + (1, 3)" in message
    assert panel.messages[1].message == ""
    assert panel.state.shapes == ((4, 3), (1, 3))
    assert painted(panel) == before
    panel.set_shapes_text("5x3x2", "()")
    assert panel.messages[0].message == ""
    assert panel.state.shapes == ((5, 3, 2), ())


def test_large_shapes_are_elided_to_a_bounded_number_of_cells(panel):
    panel.set_shapes_text("(1000, 784)", "(784,)")
    panel.last_step()
    texts = painted(panel)
    assert panel.state.explanation.result_shape == (1000, 784)
    assert 0 < panel.canvas.cells_drawn <= 3 * 7 * 7
    assert "…" in texts and "⋮" in texts
    assert len(texts) < 600
    # the corner values are NumPy's: first and last element of the sum
    res = panel.state.result
    assert str(res[0, 0]) in texts and str(res[-1, -1]) in texts


def test_three_d_operands_are_rows_of_slices(panel):
    panel.apply_scenario(preset(panel, "Quiz D"))
    panel.last_step()
    texts = painted(panel)
    assert "[0, :, :]" in texts and "[4, :, :]" in texts
    assert "1 → 3" in texts


def test_more_operands_and_random_practice_pairs(panel):
    panel.add_operand()
    assert len(panel.fields) == 3 and len(panel.state.shapes) == 3
    panel.remove_operand()
    assert len(panel.state.shapes) == 2
    panel.seed_box.setValue(7)
    panel.random_pair()
    assert panel.state.shapes == random_shapes(7)
    assert "seed 7" in panel.random_label.text()
    assert panel.seed_box.value() == 8
    for seed in range(30):  # every practice pair is explained by the model without error
        BroadcastState(random_shapes(seed))


def test_pitfall_preset_shows_its_description(panel):
    pitfall = preset(panel, "Pitfall")
    panel.apply_scenario(pitfall)
    assert panel.preset_text.text() == pitfall.description
    assert "(1, 10)" in panel.preset_text.text()
    panel.last_step()
    np.testing.assert_array_equal(panel.state.result,
                                  np.arange(1, 41).reshape(4, 10) + (np.arange(1, 5) * 100).reshape(4, 1))


def test_scenario_round_trips_through_toml(panel, qtbot):
    panel.apply_scenario(preset(panel, "Slide: (4, 3)"))
    panel.step_by(2)
    text = dumps_scenario(panel.scenario("mine"))
    again = parse_scenario(tomllib.loads(text))
    other = BroadcastPanel()
    qtbot.addWidget(other)
    other.apply_scenario(again)
    assert other.state.shapes == panel.state.shapes and other.state.step == 2
    np.testing.assert_array_equal(other.state.values[0], np.arange(1, 13).reshape(4, 3))


@pytest.mark.parametrize("name", ["light", "dark", "lecture"])
def test_themes_paint_the_canvas_in_the_theme(panel, name):
    theme = themes.THEMES[name]
    panel.set_theme(theme)
    panel.last_step()
    image = panel.canvas.grab().toImage()
    assert panel.canvas.drawn_texts
    corner = image.pixelColor(2, 2)
    assert (corner.red(), corner.green(), corner.blue()) == theme.panel_background


def test_the_main_window_has_the_panel_second(main_window, qtbot):
    assert [p.panel_id for p in main_window.panels][:2] == ["matmul", "broadcast"]
    assert main_window.current_panel().panel_id == "matmul"
    bp = main_window.panel("broadcast")
    main_window.tabs.setCurrentWidget(bp)
    bp.setFocus()
    qtbot.keyClick(main_window, Qt.Key.Key_End)
    assert bp.state.step == bp.state.n_steps - 1
    qtbot.keyClick(main_window, Qt.Key.Key_Home)
    assert bp.state.step == 0


def test_a_broadcast_scenario_file_opens_in_its_panel(main_window):
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "data" / "scenarios" / "01-broadcast.toml"
    assert main_window.open_scenario(path) is True
    bp = main_window.panel("broadcast")
    assert main_window.current_panel() is bp
    assert bp.state.shapes == ((5, 3, 2), (3, 2))


def test_values_toggle_draws_cells_without_numbers(panel):
    panel.apply_scenario(preset(panel, "Slide: (4, 3)"))
    panel.last_step()
    panel.values_box.setChecked(False)
    texts = painted(panel)
    assert panel.state.result is None and "101" not in texts and "12" not in texts
    assert panel.canvas.cells_drawn == 36  # A, B stretched and the result: 3 × (4 × 3) cells
    panel.values_box.setChecked(True)
    assert "312" in painted(panel)


def test_typed_values_are_drawn_in_the_cells_and_the_sum_is_numpys(panel):
    panel.set_shapes_text("(2, 3)", "(3,)")
    panel.set_values_text("[[1, 2, 3], [4, 5, 6]]", "[10, 20, 30]")
    assert all(m.message == "" for m in panel.value_messages)
    panel.first_step()
    texts = painted(panel)
    assert {"1", "6", "10", "30"} <= set(texts)
    panel.last_step()
    texts = painted(panel)
    assert {"11", "22", "33", "14", "25", "36"} <= set(texts)
    np.testing.assert_array_equal(panel.state.result, [[11, 22, 33], [14, 25, 36]])
    # the typed values travel with the scenario
    s = panel.scenario("typed")
    again = parse_scenario(tomllib.loads(dumps_scenario(s)))
    np.testing.assert_array_equal(again.params.arrays()[1], [10, 20, 30])


def test_fill_words_in_a_values_field(panel):
    panel.set_shapes_text("(2, 2)", "()")
    panel.set_values_text("arange", "7")
    np.testing.assert_array_equal(panel.state.values[0], [[0, 1], [2, 3]])
    panel.set_values_text("random(4)", "ones")
    assert panel.state.values[1] == 1 and panel.state.values[0].shape == (2, 2)
    assert panel.value_fields[0].text() == "random(4)"


@pytest.mark.parametrize("text, words", [
    ("[[1, 2], [3]]", "ragged rows"),
    ("[[1, 2, 3]]", "has shape (1, 3), not A's shape (2, 3)"),
    ("[1, NaN]", "no NaN or Infinity"),
    ("fives", "cannot read 'fives' as values"),
])
def test_values_that_cannot_be_used_are_reported_at_their_field_and_the_picture_stays(panel, text, words):
    panel.set_shapes_text("(2, 3)", "(3,)")
    panel.set_values_text("[[1, 2, 3], [4, 5, 6]]", "")
    panel.last_step()
    before = painted(panel)
    panel.set_values_text(text)
    message = panel.value_messages[0].message
    assert words in message and "Still showing (2, 3) + (3,)" in message and "\n" not in message
    assert panel.value_messages[1].message == "" and panel.messages[0].message == ""
    assert painted(panel) == before


def test_a_shape_that_no_longer_fits_the_typed_values_is_reported_at_the_values(panel):
    panel.set_shapes_text("(2, 3)", "(3,)")
    panel.set_values_text("[[1, 2, 3], [4, 5, 6]]", "")
    panel.set_shapes_text("(3, 3)", "(3,)")
    assert "not A's shape (3, 3)" in panel.value_messages[0].message
    assert panel.state.shapes == ((2, 3), (3,))


def test_absurd_input_is_an_inline_message_not_an_error(panel):
    panel.set_shapes_text("(1000000000,)", "(3,)")
    assert panel.state.shapes == ((1_000_000_000,), (3,))  # drawn elided, without numbers, and said so
    assert "values not drawn" in panel.value_messages[0].message
    panel.set_values_text("zeros")
    assert "1,000,000,000 elements" in panel.value_messages[0].message
    panel.set_values_text("")
    panel.set_shapes_text(", ".join(["2"] * 5000), "(3,)")
    assert "5,000 dimensions" in panel.messages[0].message
    assert panel.state.shapes == ((1_000_000_000,), (3,))
    # two typed operands of 10,000 numbers broadcast to 10⁸: drawn elided, the sum not computed, said so
    panel.set_shapes_text("(10000, 1)", "(1, 10000)")
    panel.set_values_text("zeros", "ones")
    panel.last_step()
    painted(panel)
    assert panel.state.result is None
    assert any("sum not computed" in m.message for m in panel.value_messages)


def _answer_all(panel, answers):
    """Play the quiz through: answer each question, reveal, next; returns what the figure drew after each reveal."""
    verdicts = []
    for works in answers:
        assert panel.concealed
        panel.answer(works)
        panel.reveal()
        painted(panel)
        verdicts.append((panel.canvas.verdict, panel.canvas.scale_used))
        panel.next_question()
    return verdicts


def test_the_quiz_ends_on_a_summary_after_g(panel):
    panel.set_quiz_mode(True)
    letters = [q.letter for q in panel.quiz.questions]
    assert letters == list("ABCDEFG")
    answers = [True, True, False, True, False, True, True]  # B and F wrong
    assert panel.next_button.text() == "Next question"
    verdicts = _answer_all(panel, answers)
    assert panel.quiz.finished and not panel.concealed  # no wrap to A
    assert panel.quiz.index == 6
    texts = painted(panel)
    for letter in "ABCDEFG":
        assert letter in texts
    assert "(5, 3, 2) + (5, 1, 2)" in texts
    assert texts.count("✓ right") == 5 and texts.count("✗ wrong") == 2
    assert "Score: 5 of 7 right" in texts
    assert panel.step_title.text() == "Quiz summary: 5 of 7 right"
    assert panel.next_button.text() == "Start again"
    # the verdicts were on the figure, in words that say right or wrong
    assert verdicts[0][0][0].startswith("✓ Right") and verdicts[1][0][0].startswith("✗ Not this time")
    # start again: question A, a fresh score
    panel.next_question()
    assert panel.concealed and panel.quiz.index == 0 and panel.quiz.right == 0


def test_the_last_questions_button_says_summary(panel):
    panel.set_quiz_mode(True)
    _answer_all(panel, [True] * 6)
    assert panel.quiz.last and panel.next_button.text() == "Summary"


def test_a_revealed_verdict_is_large_on_the_figure(panel):
    from PyQt6.QtGui import QFontMetricsF

    panel.set_quiz_mode(True)
    panel.answer(False)
    panel.reveal()
    texts = painted(panel)
    verdict = next(t for t in texts if t.startswith("✗ Not this time"))
    assert "(5, 3, 2) + (3, 2) works" in verdict
    # drawn at least twice the height of the cells' numbers, and ≥ 36 px on a 1920×1080 panel
    from gpuviz.ui.broadcast.canvas import _Banner
    banner = _Banner(panel.canvas, panel.canvas._fonts(), panel.canvas._colours(), verdict, False)
    px = QFontMetricsF(banner.font).height() * panel.canvas.scale_used
    number = QFontMetricsF(panel.canvas._fonts()["mono"]).height() * panel.canvas.scale_used
    assert px >= 2 * number * 0.9 and px >= 36


def test_the_summary_is_a_scenario_that_exports_as_a_slide(panel, tmp_path):
    from PIL import Image

    from gpuviz.ui.export import export_panel

    panel.set_quiz_mode(True)
    _answer_all(panel, [True, False, False, True, True, True, False])
    s = panel.scenario("quiz summary")
    assert s.view["quiz"] == "summary"
    assert s.view["quiz_answers"] == ["works", "fails", "fails", "works", "works", "works", "fails"]
    other = BroadcastPanel()
    try:
        other.apply_scenario(s)
        assert other.quiz.finished and other.quiz.right == 6
        assert other.summary() == panel.summary()
    finally:
        other.shutdown()
        other.deleteLater()
    # what File → Export does with the panel's scenario
    out = export_panel("broadcast", s, tmp_path / "summary.png", size=(1280, 720), slide=True)
    image = Image.open(out).convert("RGB")
    assert image.size == (1280, 720)
    assert len(np.unique(np.asarray(image).reshape(-1, 3), axis=0)) > 20  # a drawn table, not a blank page


def test_a_saved_quiz_summary_reads_back(panel):
    panel.set_quiz_mode(True)
    _answer_all(panel, [True] * 7)
    again = parse_scenario(tomllib.loads(dumps_scenario(panel.scenario("quiz summary"))))
    assert again.view["quiz"] == "summary"


def test_question_and_answer_frames_from_a_scenario(panel):
    q = preset(panel, "Quiz C")
    from dataclasses import replace

    panel.apply_scenario(replace(q, view={"quiz": "question"}))
    assert panel.concealed and panel.state.shapes == bc.QUIZ["C"]
    assert panel.canvas.verdict is None
    panel.apply_scenario(replace(q, view={"quiz": "answer", "quiz_answer": "works"}))
    assert not panel.concealed and panel.state.step == panel.state.n_steps - 1
    assert panel.canvas.verdict == ("✗ Not this time: (5, 3, 2) + (5, 3) fails (the class said Works)", False)
    panel.apply_scenario(replace(q, view={"quiz": "answer"}))
    assert panel.canvas.verdict == ("✗ (5, 3, 2) + (5, 3) fails", False)


@pytest.mark.parametrize("view, words", [
    ({"quiz": "verdict"}, "must be one of question, answer, summary"),
    ({"quiz": "summary"}, "needs quiz_answers"),
    ({"quiz": "summary", "quiz_answers": ["maybe"]}, "needs quiz_answers"),
    ({"quiz": "answer", "quiz_answer": "yes"}, "quiz_answer"),
])
def test_bad_quiz_views_are_one_line(panel, view, words):
    from dataclasses import replace

    from gpuviz.model.scenario import ScenarioError

    with pytest.raises(ScenarioError, match=words):
        panel.apply_scenario(replace(preset(panel, "Quiz A"), view=view))


def test_lecture_mode_stays_live_and_survives_lending_its_controls_to_the_drawer(panel, qtbot):
    from PyQt6.QtWidgets import QWidget

    from gpuviz.ui.drawer import LectureDrawer

    host = QWidget()
    qtbot.addWidget(host)
    host.resize(1280, 720)
    panel.set_lecture(True)
    assert panel.slide and not panel.side_scroll.isVisible() and panel.canvas.isVisible()
    assert panel.data_rects()  # the canvas is the figure's data area (dataCanvas)
    panel.step_by(1)
    assert panel.state.step == 1
    drawer = LectureDrawer(host)
    assert drawer.open_for(panel)
    assert panel.side_scroll.parentWidget() is not panel.splitter
    # the fields work from the drawer, and the figure follows
    panel.set_shapes_text("(2, 3)", "(3,)")
    panel.set_values_text("[[1, 2, 3], [4, 5, 6]]", "ones")
    assert panel.state.shapes == ((2, 3), (3,)) and panel.state.values[1].tolist() == [1, 1, 1]
    panel.last_step()
    assert {"2", "3", "4", "5", "6", "7"} <= set(painted(panel))
    drawer.close_drawer()
    assert panel.splitter.indexOf(panel.side_scroll) == 0
    panel.set_lecture(False)
    assert not panel.slide and panel.side_scroll.isVisible() and panel.step_text.isVisible()


def test_the_quiz_runs_from_the_keyboard_in_lecture_mode(make_main_window, qtbot):
    from PyQt6.QtCore import Qt

    from gpuviz.model import broadcast as bc

    window = make_main_window()
    panel = window.panel("broadcast")
    window.tabs.setCurrentWidget(panel)
    window.set_lecture_mode(True, fullscreen=False)
    qtbot.keyClick(window, Qt.Key.Key_W)  # quiz off: the letters do nothing
    assert not panel.quiz_mode
    panel.set_quiz_mode(True)
    assert not window.drawer_open and not panel.works_button.isVisible()  # the buttons are out of sight
    qtbot.keyClick(window, Qt.Key.Key_R)  # no answer yet: nothing to reveal
    assert panel.concealed
    qtbot.keyClick(window, Qt.Key.Key_W)
    qtbot.keyClick(window, Qt.Key.Key_R)
    assert not panel.concealed and panel.score_label.text() == "Score: 1/1"  # A works
    qtbot.keyClick(window, Qt.Key.Key_N)
    assert panel.state.shapes == bc.QUIZ["B"] and panel.concealed
    qtbot.keyClick(window, Qt.Key.Key_F)
    qtbot.keyClick(window, Qt.Key.Key_R)
    assert panel.score_label.text() == "Score: 2/2"  # B fails
    window.tabs.setCurrentWidget(window.panel("matmul"))
    qtbot.keyClick(window, Qt.Key.Key_N)  # another tab on screen: the quiz keys are not its keys
    assert panel.state.shapes == bc.QUIZ["B"]
