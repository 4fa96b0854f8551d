"""The deck exports each quiz question twice: the question as the class sees it, and NumPy's answer."""

from pathlib import Path

from gpuviz.model.scenario import load_presets
from gpuviz.ui.broadcast.panel import BroadcastPanel
from gpuviz.ui.deck import export_deck, plan_deck


def quiz_presets():
    return [s for s in load_presets("broadcast")[0] if s.quiz]


def test_each_quiz_preset_gives_a_question_and_an_answer_frame():
    quizzes = quiz_presets()
    assert [s.quiz["letter"] for s in quizzes] == list("ABCDEFG")
    pictures = plan_deck(quizzes)
    assert len(pictures) == 2 * len(quizzes)
    for s, (question, answer) in zip(quizzes, zip(pictures[::2], pictures[1::2])):
        assert question.file == Path(s.name) / "question.png" and question.scenario.view == {"quiz": "question"}
        assert answer.file == Path(s.name) / "answer.png" and answer.scenario.view["quiz"] == "answer"
        last = len(s.params.explain(with_add=True).steps) - 1
        assert answer.scenario.view["step"] == last
        assert answer.caption == f"Answer: it {s.quiz['answer']}."
        assert question.label == "question frame"


def test_the_frames_draw_the_question_concealed_and_the_answer_large(qtbot, tmp_path):
    shown = []

    def export(panel_id, scenario, target, **kwargs):
        # what the export's panel copy shows for this picture
        panel = BroadcastPanel()
        qtbot.addWidget(panel)
        panel.apply_scenario(scenario)
        shown.append((panel.concealed, panel.canvas.verdict, panel.state.step, panel.state.n_steps))
        panel.shutdown()
        Path(target).write_bytes(b"")

    quiz_b = next(s for s in quiz_presets() if s.quiz["letter"] == "B")
    result = export_deck([quiz_b], tmp_path, size=(320, 180), export=export)
    assert result.ok and len(result.written) == 2
    (concealed, verdict, _, _), (open_, answer, step, n) = shown
    assert concealed and verdict is None
    assert not open_ and answer == ("✗ (5, 3, 2) + (5, 2) fails", False) and step == n - 1
    index = (tmp_path / "index.md").read_text()
    assert "| question | B: does (5, 3, 2) + (5, 2) broadcast? | [11-quiz-b/question.png]" in index
    assert "| answer | Answer: it fails. | [11-quiz-b/answer.png]" in index


def test_a_real_deck_of_one_question(tmp_path):
    quiz_g = next(s for s in quiz_presets() if s.quiz["letter"] == "G")
    result = export_deck([quiz_g], tmp_path, size=(320, 180), slide=True)
    assert result.ok
    assert (tmp_path / quiz_g.name / "question.png").stat().st_size > 0
    assert (tmp_path / quiz_g.name / "answer.png").stat().st_size > 0
