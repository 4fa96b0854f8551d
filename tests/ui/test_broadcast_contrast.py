"""Every text the broadcasting picture draws is readable on what it is drawn on: ≥ 4.5:1 (WCAG AA), in the
light, dark and lecture themes, over each colour the canvas fills cells with (issue 15, item 5)."""

import pytest

from gpuviz.model.broadcast_panel import BroadcastState
from gpuviz.model.scenario import load_presets
from gpuviz.ui import theme as themes
from gpuviz.ui.broadcast.canvas import BroadcastCanvas
from gpuviz.ui.theme import MIN_TEXT_CONTRAST, contrast_ratio

THEMES = {"light": themes.LIGHT, "dark": themes.DARK, "lecture": themes.lecture_theme(720),
          "slide": themes.slide_look(themes.SLIDE)}
#: the fills the canvas paints under text, and the colours it asks for text in
FILLS = ("bg", "cell", "ok_tint", "bad_tint", "result_tint")
INKS = ("fg", "ok", "bad", "faint", "padded", "stretch", "ghost")


@pytest.mark.parametrize("name", THEMES)
def test_every_ink_on_every_fill_reaches_aa(qtbot, name):
    canvas = BroadcastCanvas(BroadcastState(), THEMES[name])
    qtbot.addWidget(canvas)
    c = canvas._colours()
    for fill in FILLS:
        for ink in INKS:
            got = canvas.ink(c[ink], c[fill])
            assert contrast_ratio(got, c[fill]) >= MIN_TEXT_CONTRAST, (name, ink, fill, got)
    # the colour is kept where it already reads: the foreground on a plain cell
    assert canvas.ink(c["fg"], c["cell"]) == tuple(c["fg"])


@pytest.mark.parametrize("name", THEMES)
def test_every_text_painted_in_every_preset_and_step_reaches_aa(qtbot, name):
    state = BroadcastState()
    canvas = BroadcastCanvas(state, THEMES[name])
    qtbot.addWidget(canvas)
    canvas.resize(1280, 640)
    seen = 0
    for preset in load_presets("broadcast")[0]:
        p = preset.params
        state.set_shapes(p.shapes, p.values, p.seed)
        for step in range(state.n_steps):
            state.set_step(step)
            canvas.grab()
            for text, ink, on in canvas.drawn_inks:
                assert contrast_ratio(ink, on) >= MIN_TEXT_CONTRAST, (preset.name, step, text, ink, on)
                seen += 1
    canvas.set_verdict("✗ Not this time", False)
    canvas.grab()
    canvas.set_verdict(None)
    canvas.set_summary(("Quiz", [("A", "(2,) + (2,)", "Works", "works", True),
                                 ("B", "(2,) + (3,)", "Works", "fails", False), ("C", "()", "—", "works", None)],
                        "Score"))
    canvas.grab()
    for text, ink, on in canvas.drawn_inks:
        assert contrast_ratio(ink, on) >= MIN_TEXT_CONTRAST, (text, ink, on)
    assert seen > 1000
