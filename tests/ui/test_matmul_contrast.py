"""Text on coloured cells of the matmul figure reads at WCAG AA (≥ 4.5:1) in the light, dark and lecture
themes, over every shade of the block palette: C's thread labels, C's block numbers, the block view's thread
ids and lanes (also on threads veiled as masked in the step)."""

import numpy as np
import pytest

from gpuviz.model.scene import MatmulParams, MatmulScene
from gpuviz.ui import theme as themes
from gpuviz.ui.matmul.block_view import BlockView
from gpuviz.ui.matmul.c_view import MASK_ALPHA, c_palette
from gpuviz.ui.theme import MIN_TEXT_CONTRAST, contrast_ratio, text_colour_on

THEMES = [themes.LIGHT, themes.DARK, themes.lecture_theme(1080), themes.lecture_theme(768)]
IDS = ["light", "dark", "lecture1080", "lecture768"]


@pytest.mark.parametrize("theme", THEMES, ids=IDS)
def test_every_shade_of_the_c_palette_gets_readable_text(theme):
    pal = c_palette(theme)[:, :3]
    bg = np.array(theme.panel_background, float)
    a = MASK_ALPHA / 255
    for rgb in pal:
        for shade in (rgb, np.round((1 - a) * rgb + a * bg)):  # plain, and veiled as masked
            shade = tuple(int(v) for v in shade)
            assert contrast_ratio(text_colour_on(shade, preferred=theme.foreground), shade) >= MIN_TEXT_CONTRAST


@pytest.mark.parametrize("theme", THEMES, ids=IDS)
def test_c_labels_and_block_numbers_use_readable_colours(qtbot, theme):
    from gpuviz.ui.matmul.panel import MatmulPanel

    # 7 × 3 blocks: every block colour, and edge blocks with idle threads
    panel = MatmulPanel(scene=MatmulScene(MatmulParams(kernel="naive", m=20, n=52, k=4, block=(8, 8))), theme=theme)
    qtbot.addWidget(panel)
    panel.resize(1600, 900)
    panel.show()
    qtbot.waitExposed(panel)
    c = panel.matrices.c
    pal = c_palette(theme)[:, :3]
    blocks = c.block_labels._blocks
    assert len(blocks) == 21
    for rect, number, _, colour, plate in blocks:  # each number on a plate of its block's colour
        rgb = (colour.red(), colour.green(), colour.blue())
        r, col = int(rect.top()), int(rect.left())
        k = (col // 8 + 3 * (r // 8)) % 7
        # the plate is the colour under the block's middle: its warp-0 shade, or the idle shade at an edge
        idle = r + 4 >= 20 or col + 4 >= 52
        shade = pal[14 + 2 * k] if idle else pal[2 * k]
        assert (plate.red(), plate.green(), plate.blue()) == tuple(int(v) for v in shade)
        assert contrast_ratio(rgb, shade) >= MIN_TEXT_CONTRAST, (number, rgb)
    panel.matrices.zoom_c(16, 24, 40, 56)  # an edge block, with idle threads, labelled thread by thread
    labels = c.labels
    assert labels.count >= 64
    for x, y, colour in zip(labels._x, labels._y, labels._colours):
        k = (int(x) // 8 + 3 * (int(y) // 8)) % 7
        idle = y >= 20 or x >= 52
        rgb = (colour.red(), colour.green(), colour.blue())
        shade = pal[14 + 2 * k] if idle else pal[2 * k + ((int(x) % 8 + 8 * (int(y) % 8)) // 32 % 2)]
        assert contrast_ratio(rgb, shade) >= MIN_TEXT_CONTRAST


@pytest.mark.parametrize("theme", THEMES, ids=IDS)
def test_block_view_text_reads_on_its_cells(qtbot, theme, monkeypatch):
    scene = MatmulScene(MatmulParams(kernel="naive", m=30, n=28, k=4, block=(8, 8)))
    scene.select_thread((3, 3), (0, 0))  # the corner block: threads beyond C are idle
    view = BlockView(scene, theme)
    qtbot.addWidget(view)
    view.resize(600, 600)
    drawn = []

    import gpuviz.ui.matmul.block_view as bv

    real = bv.text_colour_on

    def spy(bg, preferred=None):
        out = real(bg, preferred)
        drawn.append((tuple(bg), out))
        return out

    monkeypatch.setattr(bv, "text_colour_on", spy)
    view.show()
    qtbot.waitExposed(view)
    view.grab()  # paints the widget
    assert len(drawn) >= 64
    colours = {tuple(int(v) for v in c) for c in view.cell_colours().reshape(-1, 3)}
    assert len(colours) >= 3  # warp 0, warp 1 and the idle shade
    for bg, text in drawn:
        assert contrast_ratio(text, bg) >= MIN_TEXT_CONTRAST
