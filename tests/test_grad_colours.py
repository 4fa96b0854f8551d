"""The gradient colour scale: CIE76 ΔE against known values, and every grad preset's gradient readable in both signs."""

import numpy as np
import pytest

from gpuviz.model.grad_colours import FLOOR, DivergingScale, delta_e, log_position, srgb_to_lab
from gpuviz.model.grad_panel import GradState
from gpuviz.model.scenario import load_scenario, presets_dir
from gpuviz.ui import theme as themes

GRAD_PRESETS = sorted(p.stem for p in presets_dir().glob("3*.toml"))


@pytest.mark.parametrize("rgb, lab", [
    ((255, 255, 255), (100.0, 0.0, 0.0)),
    ((0, 0, 0), (0.0, 0.0, 0.0)),
    ((255, 0, 0), (53.2408, 80.0925, 67.2032)),
    ((0, 255, 0), (87.7347, -86.1827, 83.1793)),
    ((0, 0, 255), (32.2970, 79.1875, -107.8602)),
    ((128, 128, 128), (53.5850, 0.0, 0.0)),
])
def test_srgb_to_lab_gives_the_published_values(rgb, lab):
    # reference values: CIE L*a*b* (D65) of the sRGB primaries and greys, as colour-science tables give them
    np.testing.assert_allclose(srgb_to_lab(rgb), lab, atol=2e-3)


def test_delta_e_is_the_euclidean_lab_distance():
    assert delta_e((255, 0, 0), (0, 0, 255)) == pytest.approx(176.314, abs=1e-2)
    assert delta_e((255, 255, 255), (0, 0, 0)) == pytest.approx(100.0, abs=1e-4)
    assert delta_e((10, 20, 30), (10, 20, 30)) == 0
    # broadcast: one colour against many
    d = delta_e(np.array([[255, 255, 255], [0, 0, 0]]), (0, 0, 0))
    np.testing.assert_allclose(d, [100.0, 0.0], atol=1e-4)


def test_the_scale_is_signed_monotone_and_zero_is_the_zero_colour():
    scale = DivergingScale((255, 255, 255))
    v = np.linspace(-1, 1, 401)
    pos = scale.position(v, 1.0)
    assert np.all(np.diff(pos) >= 0) and pos[0] == -1 and pos[-1] == 1 and pos[200] == 0
    assert tuple(scale.rgba(0.0, 1.0)[:3]) == (255, 255, 255)
    assert tuple(scale.rgba(-1.0, 1.0)[:3]) == (0, 114, 178) and tuple(scale.rgba(1.0, 1.0)[:3]) == (213, 94, 0)
    # a linear ±max scale is what made small entries vanish: 1 % of the way from white is ΔE < 1
    linear = scale.rgba(0.01, 1.0, log=False)
    assert delta_e(linear, (255, 255, 255)) < 2
    assert log_position(FLOOR, 1.0, 0.25) == pytest.approx(0.25)


def _shown_gradients(state: GradState) -> list[np.ndarray]:
    """The gradients a preset puts on screen: the example's ∇_W L, the batch's, the last training step's."""
    out = [state.dW, state.product()]
    if state.last_train_grads is not None:
        out.append(np.asarray(state.last_train_grads.dW, float))
    return out


@pytest.mark.parametrize("preset", GRAD_PRESETS)
@pytest.mark.parametrize("theme_name", ["light", "dark", "lecture", "slide"])
def test_every_entry_of_at_least_1_percent_stands_out_from_zero_in_both_signs(preset, theme_name):
    scenario = load_scenario(presets_dir() / f"{preset}.toml")
    state = GradState.from_params(scenario.params, scenario.view)
    zero = themes.THEMES[theme_name].panel_background
    scale = DivergingScale(zero)
    for g in _shown_gradients(state):
        limit = float(np.max(np.abs(g)))
        big = np.abs(g) >= FLOOR * limit
        # the check means something only when both signs are there to be seen
        assert (g[big] > 0).any() and (g[big] < 0).any(), preset
        de = delta_e(scale.rgba(g, limit), zero)
        for sign in (g > 0, g < 0):
            assert de[big & sign].min() >= 10, (preset, theme_name, de[big & sign].min())
        assert (de[g == 0] == 0).all()
    if state.layer_kind == "digits":
        assert any(g.shape == (10, 784) for g in _shown_gradients(state))
