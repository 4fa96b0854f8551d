"""The "Broadcasting" panel: NumPy's rule stepped through, a practice generator and a quiz for the class.

The panel owns a :class:`~gpuviz.model.broadcast_panel.BroadcastState`; the
explanation, the stretched copies and the sums come from
:mod:`gpuviz.model.broadcast`. A shape that cannot be read gets the parser's
sentence next to its field, and the picture keeps the last valid shapes.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import replace

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QKeySequence, QShortcut
from PyQt6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ...model import broadcast as bc
from ...model import limits
from ...model import scenario as scenarios
from ...model.broadcast_panel import (
    QUIZ_GIVEN,
    BroadcastState,
    QuizQuestion,
    QuizState,
    check_quiz_view,
    random_shapes,
)
from ...model.panel import ParamsError
from ..panel import Panel, Roles, step_label
from ..style import (
    FieldMessage,
    WrappingLineEdit,
    apply_theme,
    error_colour,
    font,
    hex_colour,
    mix,
    okabe,
    preset_combo,
    subscribe,
)
from ..theme import LIGHT, Theme
from ..timeline import StepTimeline
from .canvas import OPERAND_NAMES, BroadcastCanvas, shape_text

#: The most operands the panel offers fields for (NumPy takes any number; the picture draws this many).
MAX_OPERANDS = limits.MAX_DRAWN_OPERANDS
#: What an empty values field means, as its placeholder says.
VALUES_PLACEHOLDER = "auto (1, 2, 3, …) or [[1, 2], [3, 4]], zeros, ones, arange, random(SEED)"
QUIZ_PROMPT = "Does this pair broadcast? Answer “Works” or “Fails”, then reveal."
#: Steps per second; a broadcasting explanation has a handful of steps, so slower than the matmul panel's.
SPEEDS = (0.25, 0.5, 1, 2, 4)
DEFAULT_SPEED = 1


def _builtin_presets() -> list:
    """The lecture's examples when no preset files are found: the quiz A–G and the slide's sum."""
    out = [scenarios.Scenario("broadcast", "Slide: 4×3 + 1×3 with values",
                              {"shapes": ["(4, 3)", "(1, 3)"], "values": "slide"})]
    for letter, shapes in bc.QUIZ.items():
        answer = "works" if bc.QUIZ_ANSWERS[letter] else "fails"
        out.append(scenarios.Scenario("broadcast", f"Quiz {letter}: {' + '.join(bc.format_shape(s) for s in shapes)}",
                                      {"shapes": [bc.format_shape(s) for s in shapes]},
                                      quiz={"question": QUIZ_PROMPT, "answer": answer, "letter": letter}))
    return out


#: The ``[view]`` keys of a quiz frame (:func:`~gpuviz.model.broadcast_panel.check_quiz_view` reads them).
QUIZ_VIEW_KEYS = ("quiz", "quiz_answer", "quiz_answers")


def _check(scenario) -> None:
    """check_scenario, with the quiz frame's view keys checked by the broadcast model.

    The scenario reader's list of broadcast ``[view]`` keys (``_KEPT_VIEW_KEYS`` in
    :mod:`gpuviz.model.scenario`) holds only ``step`` for now, so the frame keys are set aside for it.
    """
    view = {k: v for k, v in scenario.view.items() if k not in QUIZ_VIEW_KEYS}
    scenarios.check_scenario(replace(scenario, view=view))
    try:
        check_quiz_view(scenario.view, scenario.quiz)
    except ParamsError as e:
        raise scenarios.ScenarioError.of(scenario.path, e) from None


def _as_lists(spec):
    return [_as_lists(x) for x in spec] if isinstance(spec, (list, tuple)) else spec


def _questions(scenarios_with_quiz) -> list[QuizQuestion]:
    return [QuizQuestion(s.params, s.quiz.get("question") or QUIZ_PROMPT, s.quiz.get("answer") == "works",
                         str(s.quiz.get("letter", "")), s.title) for s in scenarios_with_quiz]


class BroadcastPanel(Panel):
    """The "Broadcasting" panel.

    Parameters
    ----------
    state : BroadcastState, optional
        What is shown; default: the slide's 4×3 + 1×3 with its values.
    parent : QWidget, optional
    theme : Theme
    """

    panel_id = "broadcast"
    title = "Broadcasting"

    def __init__(self, state: BroadcastState | None = None, parent=None, theme: Theme = LIGHT):
        super().__init__(parent)
        self.theme = theme
        self.state = state if state is not None else BroadcastState(((4, 3), (1, 3)), values="slide")
        self._presets, self._preset_errors = scenarios.load_presets("broadcast")
        if not self._presets:
            self._presets = _builtin_presets()
        self._description = ""
        self._seed = 1
        self._quiz_base = QuizState(_questions(self.quiz_questions()))
        self.quiz = self._quiz_base

        # -- controls ---------------------------------------------------------------------------------
        side = QWidget()
        self._side = side
        self.form = QGridLayout(side)
        self.form.setContentsMargins(6, 6, 6, 6)
        self.form.setVerticalSpacing(3)
        self.section_labels: list[QLabel] = []

        self.preset_box = preset_combo(self._presets, self._preset_chosen)
        self.preset_box.setMinimumContentsLength(16)  # a little wider than the other panels' (it elides the rest)
        self.preset_message = FieldMessage()
        self.preset_text = QLabel()
        self.preset_text.setWordWrap(True)
        self.preset_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.fields: list[QLineEdit] = []
        self.messages: list[FieldMessage] = []
        self.field_labels: list[QLabel] = []
        self.value_fields: list[WrappingLineEdit] = []
        self.value_messages: list[FieldMessage] = []
        self.value_labels: list[QLabel] = []
        self._synced: tuple = ()
        #: operands whose values the lecturer typed (kept, and checked, when their shape changes)
        self._user_values: set[int] = set()
        self._applying = False
        self.fields_box = QWidget()
        self.fields_layout = QGridLayout(self.fields_box)
        self.fields_layout.setContentsMargins(0, 0, 0, 0)
        self.add_button = QPushButton("+ operand")
        self.add_button.setToolTip("Broadcast one more operand (NumPy takes any number)")
        self.add_button.clicked.connect(self.add_operand)
        self.remove_button = QPushButton("− operand")
        self.remove_button.setToolTip("Remove the last operand")
        self.remove_button.clicked.connect(self.remove_operand)
        self.values_box = QCheckBox("show values (real numbers)")
        self.values_box.setToolTip("Fill the operands with numbers (the example's own, else 1, 2, 3, … and "
                                   "100, 200, …) and show the stretched copies and the sum")
        self.values_box.setChecked(self.state.show_values)
        self.values_box.toggled.connect(self.state.set_show_values)

        self.random_button = QPushButton("Random pair")
        self.random_button.setToolTip("A practice pair from the seed (the seed then moves on by one)")
        self.random_button.clicked.connect(self.random_pair)
        self.seed_box = QSpinBox()
        self.seed_box.setRange(0, 999_999)
        self.seed_box.setValue(self._seed)
        self.seed_box.setPrefix("seed ")
        self.seed_box.setToolTip("The random pair's seed: the same seed gives the same pair")
        self.random_label = QLabel()
        self.random_label.setWordWrap(True)

        self.quiz_button = QPushButton("Quiz mode")
        self.quiz_button.setCheckable(True)
        self.quiz_button.setToolTip("The lecture's quiz A–G: the class answers before the steps are shown")
        self.quiz_button.toggled.connect(self.set_quiz_mode)
        self.question_label = QLabel()
        self.question_label.setWordWrap(True)
        self.works_button = QPushButton("Works")
        self.fails_button = QPushButton("Fails")
        self.works_button.clicked.connect(lambda: self.answer(True))
        self.fails_button.clicked.connect(lambda: self.answer(False))
        self.reveal_button = QPushButton("Reveal")
        self.reveal_button.clicked.connect(self.reveal)
        self.next_button = QPushButton("Next question")
        self.next_button.clicked.connect(self.next_question)
        self.score_label = QLabel()
        self.feedback_label = QLabel()
        self.feedback_label.setWordWrap(True)
        # keys for the lecturer at the projector: in lecture mode the buttons are in the drawer (F6), out of
        # sight; the keys work while this panel is on screen and the quiz is on (the shape fields are then off)
        self.quiz_keys = {}
        for key, slot in (("W", lambda: self.answer(True)), ("F", lambda: self.answer(False)),
                          ("R", self.reveal), ("N", self.next_question)):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(slot)
            shortcut.setEnabled(False)
            self.quiz_keys[key] = shortcut
        self.works_button.setToolTip("The class says it works (key W)")
        self.fails_button.setToolTip("The class says it fails (key F)")
        self.reveal_button.setToolTip("Show the steps and the verdict (key R)")
        self.next_button.setToolTip("The next question; after the last, the summary (key N)")
        self.quiz_widgets = [self.question_label, self.works_button, self.fails_button, self.reveal_button,
                             self.next_button, self.score_label, self.feedback_label]

        row = 0

        def section(text):
            nonlocal row
            lab = QLabel(text)
            self.section_labels.append(lab)
            self.form.addWidget(lab, row, 0, 1, 2)
            row += 1

        def full(widget):
            nonlocal row
            self.form.addWidget(widget, row, 0, 1, 2)
            row += 1

        section("Lecture example")
        full(self.preset_box)
        full(self.preset_message)
        full(self.preset_text)
        section("Shapes")
        full(self.fields_box)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        self.form.addLayout(buttons, row, 0, 1, 2)
        row += 1
        full(self.values_box)
        section("Practice")
        self.form.addWidget(self.random_button, row, 0)
        self.form.addWidget(self.seed_box, row, 1)
        row += 1
        full(self.random_label)
        section("Quiz for the class")
        full(self.quiz_button)
        full(self.question_label)
        answer_row = QHBoxLayout()
        answer_row.addWidget(self.works_button)
        answer_row.addWidget(self.fails_button)
        self.form.addLayout(answer_row, row, 0, 1, 2)
        row += 1
        quiz_row = QHBoxLayout()
        quiz_row.addWidget(self.reveal_button)
        quiz_row.addWidget(self.next_button)
        self.form.addLayout(quiz_row, row, 0, 1, 2)
        row += 1
        full(self.score_label)
        full(self.feedback_label)
        self.form.setRowStretch(row, 1)
        self.form.setColumnStretch(0, 1)
        self.form.setColumnStretch(1, 1)

        self.side_scroll = QScrollArea()
        self.side_scroll.setWidget(side)
        self.side_scroll.setWidgetResizable(True)
        self.side_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.side_scroll.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)

        # -- the picture -----------------------------------------------------------------------------------
        self.step_title = QLabel()
        self.step_title.setWordWrap(True)
        self.step_text = QLabel()
        self.step_text.setWordWrap(True)
        self.step_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.canvas = BroadcastCanvas(self.state, theme)
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.note = QLabel()
        self.note.setWordWrap(True)
        # the slide look's title (the scenario's) and caption (a key step's), over the step
        self.slide_title = QLabel()
        self.slide_title.setWordWrap(True)
        self.slide_caption = QLabel()
        self.slide_caption.setWordWrap(True)
        self.slide_title.hide()
        self.slide_caption.hide()
        self._scenario_title = self.title
        centre = QWidget()
        self._centre = centre
        clay = QVBoxLayout(centre)
        self._centre_layout = clay
        clay.setContentsMargins(8, 6, 8, 4)
        clay.addWidget(self.slide_title)
        clay.addWidget(self.slide_caption)
        clay.addWidget(self.step_title)
        clay.addWidget(self.step_text)
        clay.addWidget(self.canvas, 1)
        clay.addWidget(self.note)
        clay.addWidget(self.legend)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.side_scroll)
        self.splitter.addWidget(centre)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)

        self.timeline = StepTimeline(theme, SPEEDS, DEFAULT_SPEED)
        self.timeline.follow(self.state)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.setSpacing(2)
        lay.addWidget(self.splitter, 1)
        lay.addWidget(self.timeline)

        for _ in self.state.shapes:
            self._add_field()
        self._sync_fields()
        subscribe(self, self.state, "_state_changed")
        if self._preset_errors:
            n = len(self._preset_errors)
            self.preset_message.show_message(f"{n} preset file{'s' if n > 1 else ''} skipped: "
                                             + "; ".join(self._preset_errors))
        self._update_quiz_widgets()
        self.set_theme(theme)
        self._show_step()

    # -- look ------------------------------------------------------------------------------------------

    def set_theme(self, theme: Theme) -> None:
        super().set_theme(theme)
        self.theme = theme
        self._restyle()


    def _restyle(self) -> None:
        theme = self.look()
        for w in (self, self._side, self._centre):
            apply_theme(w, theme)
        muted = hex_colour(mix(theme.foreground, theme.background, 0.75))
        for lab in self.section_labels:
            lab.setFont(font(theme, bold=True, scale=1.05))
            lab.setStyleSheet(f"color: {hex_colour(theme.foreground)}; padding-top: 8px;")
        self.preset_text.setFont(font(theme, scale=0.95))
        self.preset_text.setStyleSheet(f"color: {muted};")
        self.preset_message.set_theme(theme)
        for m in (*self.messages, *self.value_messages):
            m.set_theme(theme)
        self.step_title.setFont(font(theme, bold=True, scale=1.35))
        self.step_text.setFont(font(theme, scale=1.15))
        self.note.setFont(font(theme, scale=0.9))
        self.note.setStyleSheet(f"color: {muted};")
        self.legend.setFont(font(theme, scale=0.95))
        self.score_label.setFont(font(theme, bold=True, scale=1.15))
        self.question_label.setFont(font(theme, bold=True))
        self.feedback_label.setFont(font(theme, bold=True))
        self._mark_invalid()
        self._update_legend()
        self.canvas.set_theme(theme)
        self.timeline.set_theme(theme)
        if self.slide:
            self._centre_layout.setContentsMargins(4, 2, 4, 2)
            self._centre_layout.setSpacing(2)
        else:
            self._centre_layout.setContentsMargins(8, 6, 8, 4)
            self._centre_layout.setSpacing(6)
        self.slide_title.setFont(font(theme, bold=True, scale=1.9))
        self.slide_caption.setFont(font(theme, scale=1.3))
        for lab in (self.slide_title, self.slide_caption):
            lab.setStyleSheet(f"color: {hex_colour(theme.foreground)};")
        self._update_sizes()

    # -- slide look ------------------------------------------------------------------------------------

    @property
    def model(self):
        return self.state

    def roles(self) -> Roles:
        return Roles(figure=(self._centre,), controls=(self.side_scroll, self.timeline))

    def set_slide(self, on: bool) -> None:
        """The figure alone (title, caption, the step's picture, its note and legend), or the panel."""
        if self.toggle_titled_slide(on):
            self._restyle()
            self._update_slide_text()
            self._show_step()

    def set_caption(self, text: str | None) -> None:
        super().set_caption(text)
        self._update_slide_text()

    def _update_slide_text(self) -> None:
        self.update_slide_title()

    def _side_width(self) -> int:
        return int(400 * max(1.0, self.look().font_scale ** 0.6))

    def _update_sizes(self) -> None:
        width = self._side_width()
        self.side_scroll.setMinimumWidth(width)
        self._side.setMinimumWidth(width - 24)
        self.splitter.setSizes([width, max(600, self.width() - width)])

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._update_sizes()

    def _update_legend(self) -> None:
        t = self.theme
        ok, bad = okabe("bluish_green"), error_colour(t)
        pad, stretch = okabe("reddish_purple"), okabe("blue") if not t.dark else okabe("sky_blue")

        def chip(rgb, text):
            return f'<span style="color: {hex_colour(rgb)}; font-weight: bold;">{text}</span>'

        if self.slide:
            # the slide look (lecture mode): one line, so that the picture keeps the screen
            self.legend.setText(
                f"{chip(ok, '✓ green')}: sizes fit · {chip(bad, '✗ red hatched')}: they differ, neither is 1 · "
                f"{chip(pad, 'dashed 1')}: padded · {chip(stretch, '1 → n')}: stretched · "
                "faded dashed cells: stretched copies")
        else:
            self.legend.setText(
                f"{chip(ok, '✓ green box')}: the sizes fit (equal, or one is 1) · "
                f"{chip(bad, '✗ red hatched box')}: they differ and neither is 1 · "
                f"{chip(pad, 'dashed italic 1')}: a padded 1 · "
                f"{chip(stretch, '1 → n')}: a size-1 dimension stretched · "
                "faded dashed cells: stretched copies (ghosts) of the original values")

    # -- operands ----------------------------------------------------------------------------------------

    def _add_field(self) -> None:
        i = len(self.fields)
        edit = QLineEdit()
        edit.setToolTip("A shape as NumPy prints it: (5, 3, 2), 5,3,2, 5x3x2, () or (7,)")
        edit.editingFinished.connect(self._apply_fields)
        label = QLabel(f"{OPERAND_NAMES[i]}")
        message = FieldMessage()
        values = WrappingLineEdit()  # a nested list of a 4×10 operand is hundreds of characters: all in view
        values.setPlaceholderText(VALUES_PLACEHOLDER)
        values.setToolTip(f"{OPERAND_NAMES[i]}'s values: a nested list of numbers matching its shape, e.g. "
                          "[[1, 2, 3], [4, 5, 6]] (at most 10,000), or zeros, ones, arange (0, 1, 2, …), "
                          "random or random(SEED) (integers 0–99); empty: 1, 2, 3, … (times 100 per operand)")
        values.editingFinished.connect(self._apply_fields)
        values_label = QLabel("values")
        values_message = FieldMessage()
        if self.theme is not None:
            message.set_theme(self.theme)
            values_message.set_theme(self.theme)
        self.fields_layout.addWidget(label, 4 * i, 0)
        self.fields_layout.addWidget(edit, 4 * i, 1)
        self.fields_layout.addWidget(message, 4 * i + 1, 0, 1, 2)
        self.fields_layout.addWidget(values_label, 4 * i + 2, 0)
        self.fields_layout.addWidget(values, 4 * i + 2, 1)
        self.fields_layout.addWidget(values_message, 4 * i + 3, 0, 1, 2)
        self.fields.append(edit)
        self.messages.append(message)
        self.field_labels.append(label)
        self.value_fields.append(values)
        self.value_messages.append(values_message)
        self.value_labels.append(values_label)
        self._update_operand_buttons()

    def _remove_field(self) -> None:
        for w in (self.fields.pop(), self.messages.pop(), self.field_labels.pop(), self.value_fields.pop(),
                  self.value_messages.pop(), self.value_labels.pop()):
            self.fields_layout.removeWidget(w)
            w.hide()
            w.deleteLater()
        self._update_operand_buttons()

    def _update_operand_buttons(self) -> None:
        self.add_button.setEnabled(len(self.fields) < MAX_OPERANDS and not self.quiz.on)
        self.remove_button.setEnabled(len(self.fields) > 2 and not self.quiz.on)

    def add_operand(self) -> None:
        """One more shape field, starting as a copy of the last operand's trailing dimension."""
        if len(self.fields) >= MAX_OPERANDS:
            return
        last = self.state.shapes[-1]
        self._add_field()
        self.fields[-1].setText(shape_text(last[-1:]))
        self._apply_fields()

    def remove_operand(self) -> None:
        if len(self.fields) <= 2:
            return
        self._remove_field()
        self._apply_fields()

    def set_shapes_text(self, *texts: str) -> None:
        """Type ``texts`` into the shape fields (adding or removing fields) and apply them."""
        while len(self.fields) < len(texts):
            self._add_field()
        while len(self.fields) > max(2, len(texts)):
            self._remove_field()
        for edit, text in zip(self.fields, texts):
            edit.setText(text)
        self._apply_fields()

    def set_values_text(self, *texts: str) -> None:
        """Type ``texts`` into the first operands' values fields and apply them (as pressing Enter does)."""
        for edit, text in zip(self.value_fields, texts):
            edit.setText(text)
        self._apply_fields()

    def _field_texts(self) -> tuple:
        return tuple(e.text().strip() for e in self.fields), tuple(e.text().strip() for e in self.value_fields)

    def _apply_fields(self) -> None:
        if self._field_texts() == self._synced and not any(m.message for m in (*self.messages,
                                                                                *self.value_messages)):
            return  # nothing typed since the picture was drawn (focus moved on)
        kept = " + ".join(shape_text(s) for s in self.state.shapes)
        shapes, bad = [], False
        for edit, message in zip(self.fields, self.messages):
            try:
                shapes.append(bc.parse_shape(edit.text()))
                message.clear()
            except bc.ShapeParseError as e:
                message.show_message(f"{str(e).rstrip('.')}. Still showing {kept}.")
                shapes.append(None)
                bad = True
        texts = [e.text().strip() for e in self.value_fields]
        synced_values = self._synced[1] if self._synced else ()
        typed_now = {i for i, t in enumerate(texts) if i >= len(synced_values) or t != synced_values[i]}
        for i, text in enumerate(texts):
            # an example's numbers (a preset's, a scenario's) give way to 1, 2, 3, … when their operand's shape
            # changes; numbers the lecturer typed stay and are checked against the new shape
            old = self.state.shapes[i] if i < len(self.state.shapes) else None
            if (text and i not in typed_now and i not in self._user_values and shapes[i] is not None
                    and shapes[i] != old):
                try:
                    bc.operand_values(text, shapes[i], i)
                except bc.ValuesParseError:
                    texts[i] = ""
        specs = []
        for i, (text, message) in enumerate(zip(texts, self.value_messages)):
            message.clear()
            if shapes[i] is None:
                specs.append(None)
                continue
            if not text:  # 1, 2, 3, …: a huge operand is drawn without numbers (the state says so)
                specs.append("auto")
                continue
            try:
                bc.operand_values(text or "auto", shapes[i], i, name=OPERAND_NAMES[i])
                specs.append(text or "auto")
            except bc.ValuesParseError as e:
                message.show_message(f"{str(e).rstrip('.')}. Still showing {kept}.")
                bad = True
        if not bad and len(shapes) > limits.MAX_DRAWN_OPERANDS:
            self.messages[-1].show_message(f"at most {limits.MAX_DRAWN_OPERANDS} operands are drawn")
            bad = True
        self._mark_invalid()
        if bad:
            self.status_changed.emit("not applied: a shape or values field could not be read")
            return
        shapes = tuple(shapes)
        if all(t == "" for t in texts):
            # no typed values: the example's own fill where it still fits, else 1, 2, 3, …
            values = self.state.values_kind if self.state.values_kind in ("arange", "random") else None
        else:
            values = specs
        user = {i for i in self._user_values | typed_now if i < len(texts) and texts[i]}
        try:
            self._applying = True
            self.state.set_shapes(shapes, values, self.state.seed)
        except bc.ValuesParseError as e:
            where = self.value_messages[e.operand] if e.operand is not None else self.value_messages[0]
            where.show_message(f"{str(e).rstrip('.')}. Still showing {kept}.")
            self._mark_invalid()
            return
        except ParamsError as e:
            self.messages[0].show_message(f"{str(e).rstrip('.')}. Still showing {kept}.")
            self._mark_invalid()
            return
        finally:
            self._applying = False
        self._user_values = user
        self._set_description("", None)

    def _mark_invalid(self) -> None:
        bad = hex_colour(error_colour(self.theme))
        for edit, message in (*zip(self.fields, self.messages), *zip(self.value_fields, self.value_messages)):
            edit.setStyleSheet(f"border: 2px solid {bad};" if message.message else "")

    def _values_text(self, i: int) -> str:
        """What operand ``i``'s values field shows for the state: its typed spec, a lecture example's numbers,
        or nothing (the automatic 1, 2, 3, …)."""
        st = self.state
        spec = None
        if st.value_specs is not None:
            spec = st.value_specs[i]
        elif st.values_kind not in (None, "arange", "random") and st.given_values is not None:
            spec = st.given_values[i].tolist()
        if spec is None or spec == "auto":
            return ""
        if isinstance(spec, str):
            return spec
        return json.dumps(_as_lists(spec), separators=(", ", ": "))

    def _sync_fields(self) -> None:
        while len(self.fields) < len(self.state.shapes):
            self._add_field()
        while len(self.fields) > max(2, len(self.state.shapes)):
            self._remove_field()
        for i, (edit, shape, message) in enumerate(zip(self.fields, self.state.shapes, self.messages)):
            edit.setText(shape_text(shape))
            message.clear()
            self.value_fields[i].setText(self._values_text(i))
            self.value_messages[i].clear()
        if self.state.values_note:
            # the automatic numbers of a huge operand: say so at its values field
            big = max(range(len(self.state.shapes)), key=lambda i: math.prod(self.state.shapes[i]))
            self.value_messages[big].show_message(self.state.values_note)
        self._synced = self._field_texts()
        if not self._applying:
            self._user_values = set()  # a preset, a scenario, a random pair: nothing typed by hand any more
        self._mark_invalid()

    # -- practice ------------------------------------------------------------------------------------------

    def random_pair(self) -> None:
        """Show the practice pair of the seed box's seed, then move the seed on by one."""
        seed = self.seed_box.value()
        shapes = random_shapes(seed, operands=max(2, len(self.fields)))
        self.state.set_shapes(shapes, None)
        self._set_description("", None)
        self.random_label.setText(f"Random pair from seed {seed}: "
                                  + " + ".join(shape_text(s) for s in shapes))
        self.seed_box.setValue(seed + 1)

    # -- presets -------------------------------------------------------------------------------------------

    def _preset_chosen(self, index: int) -> None:
        preset = self.preset_box.itemData(index)
        if preset is None:
            return
        try:
            self.apply_scenario(preset)
        except ParamsError as e:
            self.preset_message.show_message(f"{preset.title}: {e}")

    def _set_description(self, text: str, preset) -> None:
        self._description = text
        self.preset_text.setText(text)
        if preset is None:
            self.preset_box.setCurrentIndex(0)

    # -- quiz ------------------------------------------------------------------------------------------------

    def quiz_questions(self) -> list:
        """The quiz presets in letter order (A–G)."""
        qs = [p for p in self._presets if getattr(p, "quiz", None)]
        return sorted(qs, key=lambda p: (str(p.quiz.get("letter", "")) or "~", p.title))

    @property
    def quiz_mode(self) -> bool:
        return self.quiz.on

    @property
    def concealed(self) -> bool:
        return self.quiz.concealed

    @property
    def right(self) -> int:
        return self.quiz.right

    @property
    def answered(self) -> int:
        return self.quiz.answered

    def set_quiz_mode(self, on: bool) -> None:
        on = bool(on) and bool(self.quiz.questions)
        if self.quiz_button.isChecked() != on:
            self.quiz_button.blockSignals(True)
            self.quiz_button.setChecked(on)
            self.quiz_button.blockSignals(False)
        if on == self.quiz.on:
            return
        if on:
            self.quiz.start()
            self._show_question()
        else:
            self.quiz.stop()
            self.quiz = self._quiz_base  # a scenario's own question (not a preset's) was shown alone
            self.canvas.set_concealed(False)
            self.canvas.set_verdict(None)
            self.canvas.set_summary(None)
            self.timeline.set_locked(False)
            self._show_step()
        for w in (self.preset_box, self.random_button, self.seed_box, self.values_box, *self.fields,
                  *self.value_fields):
            w.setEnabled(not on)
        self._update_operand_buttons()
        self._update_quiz_widgets()

    def _show_question(self) -> None:
        q = self.quiz.question
        self.timeline.set_locked(True)
        self.canvas.set_summary(None)
        self.canvas.set_verdict(None)
        self.canvas.set_concealed(True, q.question)
        p = q.params
        self.state.set_shapes(p.shapes, p.values, p.seed)
        self._set_description("", q)
        self.preset_box.setCurrentIndex(0)
        self._sync_fields()
        self._update_quiz_widgets()
        self._show_step()

    def answer(self, works: bool) -> None:
        """The class's answer to the question on screen (before the reveal; nothing is said about it yet)."""
        if self.quiz.give_answer(works):
            self._update_quiz_widgets()

    def reveal(self) -> None:
        """Show the steps, the verdict in large type on the figure, and update the score."""
        if not self.quiz.reveal():
            return
        self._show_revealed()
        self.timeline.play_from_start()

    def _verdict_text(self) -> tuple[str, bool]:
        quiz, q = self.quiz, self.quiz.question
        shapes = " + ".join(shape_text(s) for s in q.params.shapes)
        truth = f"{shapes} {'works' if q.works else 'fails'}"
        if quiz.answer is None:
            return ("✓ " if q.works else "✗ ") + truth, q.works
        said = "Works" if quiz.answer else "Fails"
        if quiz.correct:
            return f"✓ Right: {truth}", True
        return f"✗ Not this time: {truth} (the class said {said})", False

    def _show_revealed(self) -> None:
        self.canvas.set_concealed(False)
        self.canvas.set_verdict(*self._verdict_text())
        self.timeline.set_locked(False)
        self._update_quiz_widgets()
        self._show_step()

    def next_question(self) -> None:
        """The next question; after the last one, the summary; from the summary, the quiz again."""
        if not self.quiz.on:
            return
        if self.quiz.finished:
            self.quiz.start()
            self._show_question()
            return
        self.quiz.next()
        if self.quiz.finished:
            self._show_summary()
        else:
            self._show_question()

    def summary(self) -> tuple:
        """The quiz's summary as the canvas draws it: (title, rows, score line)."""
        quiz = self.quiz
        rows = []
        for i, row in enumerate(quiz.rows()):
            q = row.question
            given = {True: "Works", False: "Fails", None: "—"}[row.given]
            rows.append((q.letter or str(i + 1), " + ".join(shape_text(s) for s in q.params.shapes), given,
                         "works" if q.works else "fails", row.right))
        n = len(quiz.questions)
        score = f"Score: {quiz.right} of {n} right" + (f" ({quiz.answered} answered)" if quiz.answered < n else "")
        return "Which of these broadcast? (the lecture's quiz)", rows, score

    def _show_summary(self) -> None:
        self.timeline.pause()
        self.timeline.set_locked(True)
        self.canvas.set_concealed(False)
        self.canvas.set_verdict(None)
        self.canvas.set_summary(self.summary())
        self._update_quiz_widgets()
        self._show_step()

    def _quiz_frame(self, scenario) -> None:
        """Show ``[view] quiz`` of ``scenario``: its question (concealed), its answer (revealed, large), or the
        summary after ``[view] quiz_answers``."""
        view = scenario.view
        frame = view["quiz"]
        if frame == "summary":
            self.set_quiz_mode(True)
            self.quiz.finish_with([QUIZ_GIVEN[a] for a in view["quiz_answers"]])
            self._show_summary()
            return
        q = _questions([scenario])[0]
        index = next((i for i, other in enumerate(self._quiz_base.questions)
                      if other.params.shapes == q.params.shapes and other.letter == q.letter), None)
        if index is None:
            self.quiz = QuizState([q])
            index = 0
        self.set_quiz_mode(True)
        self.quiz.index = index
        self._show_question()
        if frame == "answer":
            given = view.get("quiz_answer")
            if given is not None:
                self.quiz.give_answer(given == "works")
                self.quiz.reveal()
            else:  # NumPy's answer alone, nobody's score
                self.quiz.revealed = True
            self._show_revealed()
            step = view.get("step", self.state.n_steps - 1)
            self.state.set_step(step if isinstance(step, int) and not isinstance(step, bool) else 0)

    def _quiz_view(self) -> tuple[dict, dict]:
        """The ``[view]`` keys and ``[quiz]`` table of the quiz frame on screen (empty outside quiz mode)."""
        quiz = self.quiz
        if not quiz.on:
            return {}, {}
        if quiz.finished:
            words = {True: "works", False: "fails", None: ""}
            return {"quiz": "summary", "quiz_answers": [words[g] for g in quiz.given]}, {}
        q = quiz.question
        table = {"question": q.question, "answer": "works" if q.works else "fails"}
        if q.letter:
            table["letter"] = q.letter
        if quiz.concealed:
            return {"quiz": "question"}, table
        view = {"quiz": "answer"}
        if quiz.answer is not None:
            view["quiz_answer"] = "works" if quiz.answer else "fails"
        return view, table

    def _update_quiz_widgets(self) -> None:
        quiz = self.quiz
        for w in self.quiz_widgets:
            w.setVisible(quiz.on)
        for shortcut in self.quiz_keys.values():
            shortcut.setEnabled(quiz.on)
        if not quiz.on:
            return
        n = len(quiz.questions)
        self.score_label.setText(f"Score: {quiz.right}/{quiz.answered}")
        if quiz.finished:
            self.question_label.setText(f"Summary of the {n} questions")
            for b in (self.works_button, self.fails_button, self.reveal_button):
                b.setEnabled(False)
            self.next_button.setText("Start again")
            self.next_button.setEnabled(True)
            self.feedback_label.setStyleSheet("")
            self.feedback_label.setText(f"{quiz.right} of {n} right. The summary is on the figure (export it as a "
                                        "slide: File → Export).")
            return
        q = quiz.question
        letter = q.letter or str(quiz.index + 1)
        shapes = " + ".join(shape_text(s) for s in self.state.shapes)
        self.question_label.setText(f"Question {letter} ({quiz.index + 1} of {n}): {shapes}")
        chosen = {True: "Works", False: "Fails", None: None}[quiz.answer]
        self.works_button.setEnabled(quiz.concealed and quiz.answer is None)
        self.fails_button.setEnabled(quiz.concealed and quiz.answer is None)
        self.reveal_button.setEnabled(quiz.concealed and quiz.answer is not None)
        self.next_button.setText("Summary" if quiz.last else "Next question")
        self.next_button.setEnabled(True)
        t = self.theme
        if quiz.concealed:
            self.feedback_label.setStyleSheet("")
            self.feedback_label.setText(f"The class says: {chosen}. Press Reveal (R)." if chosen
                                        else "Works or fails? Choose an answer (W or F).")
        else:
            colour = okabe("bluish_green") if quiz.correct else error_colour(t)
            truth = "it works" if q.works else "it fails"
            self.feedback_label.setStyleSheet(f"color: {hex_colour(colour)};")
            if quiz.answer is None:
                self.feedback_label.setText(f"NumPy: {truth}.")
            else:
                self.feedback_label.setText(("✓ Right: " if quiz.correct else "✗ Not this time: ") + truth + ".")

    # -- state → widgets ---------------------------------------------------------------------------------------

    def _state_changed(self, state, changes) -> None:
        if "params" in changes:
            self._sync_fields()
            self.values_box.blockSignals(True)
            self.values_box.setChecked(state.show_values)
            self.values_box.blockSignals(False)
        self._show_step()

    def _set_heading(self, title: str, text: str) -> None:
        """The step's title and sentence: two labels, or in the slide look one (the picture keeps the room)."""
        self.step_title.setText(title)
        self.step_text.setText(text)
        self.step_text.setVisible(not self.slide)
        if self.slide:
            size = self.step_text.font().pointSizeF()
            self.step_title.setText(f"{html.escape(title)}&nbsp;&nbsp;<span style=\"font-weight: normal; "
                                    f"font-size: {size:.1f}pt;\">{html.escape(text)}</span>")

    def _show_step(self) -> None:
        st = self.state
        # the legend names the marks (✓, ✗, padded, stretched): not before the reveal
        self.legend.setVisible(not self.concealed and not self.quiz.finished)
        if self.quiz.on and self.quiz.finished:
            n = len(self.quiz.questions)
            self._set_heading(f"Quiz summary: {self.quiz.right} of {n} right",
                              "Each question, the class's answer and NumPy's.")
            self.note.setText("")
            self.canvas.update()
            self.status_changed.emit("quiz: summary")
            return
        if self.concealed:
            self._set_heading("Quiz: " + " + ".join(shape_text(s) for s in st.shapes),
                              "The shapes are lined up at their last dimension. Does NumPy broadcast them?")
            self.note.setText("")
            self.canvas.update()
            self.status_changed.emit("quiz: waiting for the class's answer")
            return
        step = st.steps[st.step]
        label = step_label(st.step, st.n_steps - 1)
        self._set_heading(f"{label[0].upper()}{label[1:]}: {step.title}", step.text)
        notes = []
        if st.values_note:
            notes.append(st.values_note)
        if any(d > 7 for s in st.shapes for d in s) or any(len(s) > 2 for s in st.shapes):
            notes.append("Long dimensions are drawn as their first and last few entries with an ellipsis between; "
                         "3-D and larger operands as a row of 2-D slices [i, :, :].")
        self.note.setText(" ".join(notes))
        self.canvas.update()
        self.status_changed.emit(f"{label}: {step.title}")

    # -- the Panel contract --------------------------------------------------------------------------------------

    def scenario(self, title: str):
        st = self.state
        view, quiz = self._quiz_view()
        s = scenarios.Scenario("broadcast", title, st.params(), self._description, {**st.view_state(), **view},
                               quiz=quiz)
        _check(s)
        return s

    def apply_scenario(self, scenario) -> None:
        """Show ``scenario``; raises ScenarioError (and keeps the picture) when it cannot."""
        if scenario.panel != self.panel_id:
            raise scenarios.ScenarioError(scenario.path, f"is a {scenario.panel!r} scenario, "
                                                         "not one for the broadcasting panel")
        _check(scenario)
        if self.quiz.on:
            self.set_quiz_mode(False)
        self.timeline.pause()
        self.state.apply(scenario.params, scenario.view)
        self.preset_message.clear()
        self._sync_fields()
        i = self.preset_box.findText(scenario.title)
        self.preset_box.setCurrentIndex(max(i, 0))
        self._description = scenario.description
        self.preset_text.setText(scenario.description)
        self.random_label.setText("")
        self._scenario_title = scenario.title
        if scenario.view.get("quiz") is not None:
            self._quiz_frame(scenario)
            if scenario.view["quiz"] == "summary":
                letters = [q.letter for q in self.quiz.questions if q.letter]
                span = f" {letters[0]}–{letters[-1]}" if len(letters) > 1 else ""
                self._scenario_title = f"Quiz{span}: summary"
        self._update_slide_text()

    def presets(self) -> list:
        return list(self._presets)

    def shutdown(self) -> None:
        self.timeline.pause()


__all__ = ["BroadcastPanel"]
