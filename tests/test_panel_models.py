"""The panel protocol on floor 1: one observable, one error type, typed scenarios, the registry, the models' limits."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from gpuviz.model import registry
from gpuviz.model.broadcast import BroadcastParams, ShapeParseError
from gpuviz.model.broadcast_panel import BroadcastState, QuizQuestion, QuizState
from gpuviz.model.dense import MAX_REPLAY, DenseError, GradParams
from gpuviz.model.events import Observable
from gpuviz.model.grad_panel import GradState, GradStateError, check_view
from gpuviz.model.panel import PanelModel, Params, ParamsError
from gpuviz.model.scenario import Scenario, ScenarioError, load_presets, parse_scenario
from gpuviz.model.scene import MatmulParams, MatmulScene, SceneError
from gpuviz.model.speed_panel import SpeedParams

REPO = Path(__file__).resolve().parent.parent


def test_the_observable_calls_listeners_in_order_with_a_frozenset_and_survives_an_unsubscribe():
    heard = []

    class Thing(Observable):
        pass

    thing = Thing()

    def first(model, changes):
        heard.append(("first", model, changes))
        thing.unsubscribe(first)  # while being called: the others still hear this change

    thing.subscribe(first)
    thing.subscribe(lambda m, c: heard.append(("second", m, c)))
    thing.emit("step", "params")
    assert heard == [("first", thing, frozenset({"step", "params"})), ("second", thing, frozenset({"step", "params"}))]
    thing.emit("step")
    assert [h[0] for h in heard[2:]] == ["second"]
    thing.unsubscribe(first)  # never subscribed any more: ignored


@pytest.mark.parametrize("model", [MatmulScene(), BroadcastState(), GradState("toy")], ids=type)
def test_every_stepping_model_follows_the_protocol_and_emits_one_step_event(model):
    assert isinstance(model, PanelModel) and isinstance(model, Observable)
    heard = []
    model.subscribe(lambda m, c: heard.append(c))
    model.set_step(10 ** 6)  # clamped
    assert model.step == model.n_steps - 1 and heard == [frozenset({"step"}) if not isinstance(model, GradState)
                                                         else frozenset({"batch"})]
    model.set_step(-5)
    assert model.step == 0


def test_every_panel_error_is_one_params_error_type():
    for cls in (SceneError, DenseError, ShapeParseError, GradStateError, ScenarioError):
        assert issubclass(cls, ParamsError) and issubclass(cls, ValueError)
    with pytest.raises(ParamsError, match="at least one shape"):
        BroadcastState(())
    with pytest.raises(ParamsError, match="outside"):
        GradState("toy").select(9, 9)


def test_every_registered_params_type_reads_back_what_it_writes():
    for pid in registry.panel_ids():
        spec = registry.spec(pid)
        presets, errors = load_presets(pid)
        assert errors == [] and presets, pid
        for s in presets:
            assert type(s.params) is spec.params and isinstance(s.params, Params)
            assert spec.params.from_dict(s.params.to_dict()) == s.params


def test_scenarios_carry_typed_params_and_refuse_a_bad_table_when_made():
    assert Scenario("broadcast", "t", {"shapes": ["(4, 3)", "(3,)"]}).params == BroadcastParams(((4, 3), (3,)))
    assert Scenario("speed", "t", {"op": "dot", "sizes": [10], "impls": ["numpy"]}).params == \
        SpeedParams("dot", (10,), ("numpy",))
    assert Scenario("grad", "t", {"layer": "toy"}).params == GradParams("toy")
    assert Scenario("matmul", "t", MatmulParams()).params == MatmulParams()
    with pytest.raises(ScenarioError, match="unknown key 'colour'"):
        Scenario("grad", "t", {"colour": "red"})
    # a panel this version does not know keeps its table as read
    assert Scenario("nonesuch", "t", {"gpu": "H100"}).params == {"gpu": "H100"}


def test_the_step_key_rule_is_written_once():
    assert registry.step_key("matmul", {}) == registry.step_key("broadcast", {"step": 3}) == "step"
    assert registry.step_key("grad", {"view": "batch"}) == "batch_step"
    assert registry.step_key("grad", {"view": "layer"}) is None and registry.step_key("grad", {}) is None
    assert registry.step_key("speed", {}) is None and registry.step_key("nonesuch", {}) is None
    assert registry.EXPORT_PANEL_OPTIONS["grad"] == ("layer", "batch", "alpha", "seed", "loss", "train", "view")


def test_the_replay_limit_lives_in_the_model_so_every_caller_refuses_it_alike():
    with pytest.raises(DenseError, match=f"at most {MAX_REPLAY:,} steps"):
        GradParams.from_dict({"layer": "digits", "steps": MAX_REPLAY + 1})
    with pytest.raises(GradStateError, match="at most"):
        check_view({"view": "train", "train_steps": MAX_REPLAY + 1})
    with pytest.raises(ScenarioError, match="steps = 6,000"):
        parse_scenario({"schema": 1, "panel": "grad", "title": "t", "params": {"layer": "digits", "steps": 6000}})
    with pytest.raises(ScenarioError, match=r"\[view\] view = 'sideways'"):
        parse_scenario({"schema": 1, "panel": "grad", "title": "t", "params": {}, "view": {"view": "sideways"}})


def test_the_cli_refuses_a_replay_over_the_limit_in_one_line_before_building_any_qt(tmp_path):
    code = textwrap.dedent(f"""
        import sys
        from gpuviz.cli import main
        rc = main(["export", "grad", "--layer", "digits", "--train", "6000", "--out", {str(tmp_path / "g.png")!r}])
        print(rc, "PyQt6" in sys.modules, file=sys.stderr)
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    lines = proc.stderr.strip().splitlines()
    assert lines[-1] == "2 False", proc.stderr
    assert len(lines) == 2 and "6,000" in lines[0] and "5,000" in lines[0], proc.stderr
    assert not (tmp_path / "g.png").exists()


def test_a_grad_state_rebuilds_from_its_own_params_and_view():
    st = GradState.from_params(GradParams("digits", 0.5, 8, 1, "xent", 3), {"view": "batch", "batch_step": 2,
                                                                          "selected": [4, 5]})
    assert len(st.records) == 3 and st.view == "batch" and st.step == 2 and st.selected == (4, 5)
    again = GradState.from_params(st.params(), st.view_state())
    assert again.params() == st.params() and again.view_state() == st.view_state()
    assert again.W.tolist() == st.W.tolist()
    with pytest.raises(GradStateError, match=r"\[view\]: entry \(3, 0\) is outside"):
        GradState.from_params(GradParams("toy"), {"selected": [3, 0]})


def test_the_quiz_is_a_model_scored_only_at_the_reveal():
    qs = [QuizQuestion(BroadcastParams(((5, 3, 2), (3, 2))), "?", True, "A"),
          QuizQuestion(BroadcastParams(((5, 3, 2), (5, 2))), "?", False, "B")]
    quiz = QuizState(qs)
    heard = []
    quiz.subscribe(lambda m, c: heard.append(c))
    assert not quiz.reveal() and not quiz.give_answer(True)  # off: nothing to answer
    assert quiz.start() and quiz.concealed and quiz.question.letter == "A"
    assert not quiz.reveal()  # no answer yet
    assert quiz.give_answer(True) and not quiz.give_answer(False)  # one answer per question
    assert (quiz.right, quiz.answered) == (0, 0)
    assert quiz.reveal() and quiz.correct and (quiz.right, quiz.answered) == (1, 1) and not quiz.concealed
    quiz.next()
    assert quiz.question.letter == "B" and quiz.concealed and quiz.answer is None
    quiz.give_answer(True)
    quiz.reveal()
    assert not quiz.correct and (quiz.right, quiz.answered) == (1, 2)
    quiz.next()
    # the quiz ends after its last question (issue 16): a summary, not a silent round again
    assert quiz.finished and not quiz.concealed and quiz.question.letter == "B"
    assert [r.right for r in quiz.rows()] == [True, False]
    quiz.stop()
    assert not quiz.on and (quiz.right, quiz.answered) == (0, 0)
    assert heard and all(c == frozenset({"quiz"}) for c in heard)
    assert not QuizState(()).start()


def test_the_registry_and_every_panel_model_import_neither_qt_nor_numba():
    code = textwrap.dedent("""
        import json, sys
        import gpuviz.model.registry, gpuviz.model.scenario
        from gpuviz.model.grad_panel import GradState
        GradState("toy")
        heavy = ("PyQt6", "pyqtgraph", "numba", "numba_cuda")
        print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in heavy)))
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


def _speed_results():
    from gpuviz.model import speed
    from gpuviz.model.speed import BenchResults, Machine, Measurement

    machine = Machine("Test CPU", 2, "OpenBLAS", None, "3.11", "2.2", "0.60")

    def m(impl, median):
        return Measurement("dot", impl, 1_000_000, median, median * 0.9, median * 1.2, 5, None, None,
                           speed.flops("dot", 1_000_000), 1e-17)

    return BenchResults(machine, [m("python", 0.035), m("numpy", 0.035 / 400), m("numba", 0.00086),
                                  Measurement.skip("dot", "gpu-naive", 1_000_000, "no GPU found")],
                        created="2026-11-27T10:00:00+00:00")


def test_the_speed_model_holds_the_run_the_results_and_their_temporary_file(tmp_path):
    from gpuviz.model.speed_panel import SpeedModel, headline, impl_name, is_session_file, skipped_lines

    results = _speed_results()
    model = SpeedModel()
    heard = []
    model.subscribe(lambda m, c: heard.append(c))
    assert isinstance(model, PanelModel) and model.n_steps == 1 and model.shown_results() is None
    model.start(("dot", (1_000_000,), ("python", "numpy")))
    assert model.shown_results() is None  # running, nothing measured yet: no figures, never stale ones
    model.add(results.measurements[0])
    live = model.shown_results()
    assert live.source == "running" and live.measurements == results.measurements[:1]
    model.end()
    model.take(results)
    assert model.shown_results() is results and model.results_file is None and not model.unsaved
    path = model.keep_in_temp_file()
    assert path is not None and path.exists() and model.unsaved and is_session_file(path, model.temp_folder)
    assert model.origin(results, tmp_path) == "here"
    model.saved_as(tmp_path / "kept.json")
    assert not model.unsaved
    assert heard == [frozenset({"request"}), frozenset({"live"}), frozenset({"request"}), frozenset({"results"}),
                     frozenset({"file"}), frozenset({"file"})]
    model.close()
    assert not path.exists() and model.temp_folder is None
    # the headline and the skip lines are the model's words (the panel and the export show them as they are)
    big, small = headline(results, "dot")
    assert big == "NumPy is 400× faster than the Python loop" and "N = 1,000,000" in small
    assert skipped_lines(results.measurements) == [f"{impl_name('gpu-naive')} at N = 1,000,000: no GPU found"]


def test_headline_says_which_ratio_it_is_when_noise_pulls_the_medians_apart():
    from gpuviz.model.speed import BenchResults
    from gpuviz.model.speed_panel import headline
    from gpuviz.paths import asset_path

    results = BenchResults.load(asset_path("results", "speed-lecture-demo.json"))
    big, _small = headline(results, "dot")
    fastest = results.speedups("python", stat="min")
    medians = results.speedups("python")
    key = next(k for k in fastest if k[1] == "numpy")
    if abs(medians[key] / fastest[key] - 1) > 0.1:
        assert "fastest runs; medians:" in big
    else:
        assert "medians" not in big
