"""The broadcasting picture, painted with QPainter: shapes in columns, comparisons, stretched copies, the sum.

Everything is laid out at the theme's sizes and then scaled down as a whole when
it does not fit, so text stays vector-crisp at any size (1920×1080, lecture
mode, a 4K export). Long dimensions are elided (first 3, "…", last 3), so a
(1000, 784) operand costs as many cells as a 7×7 one.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QRectF, QSize, Qt
from PyQt6.QtGui import QBrush, QFont, QFontMetricsF, QPainter
from PyQt6.QtWidgets import QSizePolicy, QWidget

from ..style import font, mix, okabe, pen, qcolor
from ..theme import LIGHT, Theme, readable_colour, text_colour_on

#: At most this many rows/columns/slices of one matrix are drawn: the first 3, "…", the last 3.
MAX_SHOWN = 7
HEAD = 3

OPERAND_NAMES = "ABCDEFGH"

#: The most a picture is enlarged to fill the canvas.
MAX_ZOOM = 1.6


def shown_indices(n: int, limit: int = MAX_SHOWN, head: int = HEAD) -> list[int | None]:
    """Indices of a dimension of size ``n`` that are drawn; ``None`` stands for the elided middle ("…")."""
    if n <= limit:
        return list(range(n))
    tail = limit - head - 1
    return [*range(head), None, *range(n - tail, n)]


def shape_text(shape) -> str:
    shape = tuple(shape)
    if len(shape) == 1:
        return f"({shape[0]},)"
    return "(" + ", ".join(str(d) for d in shape) + ")"


def format_value(v) -> str:
    v = float(v) if not isinstance(v, (int, np.integer)) else int(v)
    if isinstance(v, int):
        return str(v)
    if v == int(v) and abs(v) < 1e9:
        return str(int(v))
    return f"{v:.3g}"


class BroadcastCanvas(QWidget):
    """Paints a :class:`~gpuviz.model.broadcast_panel.BroadcastState` at its current step.

    Attributes
    ----------
    concealed : bool
        Quiz mode before the reveal: only the aligned shapes, nothing that
        gives the answer away (no padding, no marks, no result, no values).
    drawn_texts : list of str
        Every text of the last paint (tests read what is on screen here).
    cells_drawn : int
        Matrix cells in the last paint (bounded by the elision).
    failing_marked : list of (int, int)
        (operand, dimension from the right) of the shape cells drawn as failing.
    """

    def __init__(self, state, theme: Theme = LIGHT, parent=None):
        super().__init__(parent)
        self.state = state
        self.theme = theme
        self.concealed = False
        self.prompt = ""
        self.drawn_texts: list[str] = []
        #: (text, colour, background) of every text of the last paint: each contrasts ≥ 4.5:1
        self.drawn_inks: list[tuple] = []
        self.cells_drawn = 0
        self.failing_marked: list[tuple[int, int]] = []
        self.scale_used = 1.0
        #: a revealed quiz answer, drawn large over the picture: (text, right)
        self.verdict: tuple[str, bool] | None = None
        #: the quiz's summary, drawn instead of the picture: (title, rows, score line); rows are
        #: (letter, shapes, class's answer, NumPy's answer, right: bool or None)
        self.summary: tuple | None = None
        self.setProperty("dataCanvas", True)  # Panel.data_rects: this widget paints the cells itself
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 240)

    def sizeHint(self) -> QSize:
        return QSize(1200, 800)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.update()

    def set_concealed(self, on: bool, prompt: str = "") -> None:
        self.concealed, self.prompt = bool(on), prompt
        self.update()

    def set_verdict(self, text: str | None, right: bool = True) -> None:
        """A revealed answer in large type over the picture (None: none)."""
        self.verdict = None if not text else (text, bool(right))
        self.update()

    def set_summary(self, summary: tuple | None) -> None:
        """The quiz's summary drawn in place of the picture (None: the picture again)."""
        self.summary = summary
        self.update()

    # -- fonts and colours ------------------------------------------------------------------------

    def _fonts(self):
        t = self.theme
        body = font(t, scale=1.25)
        small = font(t, scale=1.0)
        bold = font(t, bold=True, scale=1.25)
        mono = font(t, mono=True, scale=1.2)
        mono_bold = font(t, mono=True, bold=True, scale=1.2)
        big = font(t, bold=True, scale=1.5)
        italic = QFont(mono)
        italic.setItalic(True)
        return dict(body=body, small=small, bold=bold, mono=mono, mono_bold=mono_bold, big=big, italic=italic)

    def _colours(self):
        t = self.theme
        fg, bg = t.foreground, t.panel_background
        ok = okabe("bluish_green")
        bad = okabe("vermillion")
        if t.dark:
            bad = (255, 120, 80)
        return dict(fg=fg, bg=bg, ok=ok, bad=bad, faint=mix(fg, bg, 0.45), padded=okabe("reddish_purple"),
                    stretch=okabe("blue") if not t.dark else okabe("sky_blue"),
                    ok_tint=mix(ok, bg, 0.18), bad_tint=mix(bad, bg, 0.18), cell=bg,
                    ghost=mix(fg, bg, 0.4), result_tint=mix(okabe("sky_blue"), bg, 0.2))

    # -- painting ---------------------------------------------------------------------------------

    def paintEvent(self, event):
        p = QPainter(self)
        try:
            self.paint_into(p, QRectF(self.rect()))
        finally:
            p.end()

    def pen(self, rgb, base: float, style=Qt.PenStyle.SolidLine):
        """A cosmetic pen for a line ``base`` pixels wide in the unscaled picture.

        The picture is drawn scaled (:attr:`scale_used`) to fit the canvas; the pen follows that scale
        by hand, since a cosmetic pen ignores the painter's transform, and the theme's line scale, which
        an export multiplies by its device pixel ratio.
        """
        return pen(rgb, self.theme.pen_width(base) * self.scale_used, style)

    def ink(self, colour, on=None) -> tuple[int, int, int]:
        """``colour`` for text drawn on ``on`` (default the picture's background), made readable: kept when it
        contrasts 4.5:1 (WCAG AA), else blended toward black or white (its hue kept) until it does, else
        :func:`~gpuviz.ui.theme.text_colour_on`."""
        on = tuple(on) if on is not None else self.theme.panel_background
        return readable_colour(colour, on)

    def _text(self, p: QPainter, rect: QRectF, flags, text: str, f: QFont | None = None, colour=None,
              on=None) -> None:
        """Draw ``text`` in ``colour`` (made readable on ``on``, the fill under it; default the background)."""
        if f is not None:
            p.setFont(f)
        if colour is None:
            colour = self.theme.foreground
        ink = self.ink(colour, on)
        p.setPen(qcolor(ink))
        p.drawText(rect, flags, text)
        self.drawn_texts.append(text)
        self.drawn_inks.append((text, ink, tuple(on) if on is not None else tuple(self.theme.panel_background)))

    def paint_into(self, p: QPainter, area: QRectF) -> None:
        self.drawn_texts = []
        self.drawn_inks = []
        self.cells_drawn = 0
        self.failing_marked = []
        t, c, f = self.theme, self._colours(), self._fonts()
        p.fillRect(area, qcolor(c["bg"]))
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        # hatch patterns scale with the picture and an export's pixel ratio (by default they are cosmetic:
        # 8 device pixels whatever the scale, twice as dense in a 4K export)
        p.setRenderHint(QPainter.RenderHint.NonCosmeticBrushPatterns, True)
        margin = 16 * t.font_scale
        if self.summary is not None:
            self._paint_summary(p, area, margin, f, c)
            return
        banner = _Banner(self, f, c, *self.verdict) if self.verdict is not None and not self.concealed else None
        table = _ShapeTable(self, f, c)
        limits = (MAX_SHOWN, 5)
        gap = 28 * t.font_scale
        tw, th = table.size()
        avail_w, avail_h = area.width() - 2 * margin, area.height() - 2 * margin
        if banner is not None:
            # the verdict at its own size (shrunk only to fit the width): it never makes the picture smaller
            # than the room left under it allows
            banner_w, banner_h = banner.size()
            b_scale = min(1.0, avail_w / max(1.0, banner_w))
            p.save()
            p.translate(area.left() + margin, area.top() + margin)
            p.scale(b_scale, b_scale)
            self.scale_used = b_scale
            banner.paint(p, 0.0, 0.0)
            p.restore()
            used = banner_h * b_scale + gap / 2
            area = QRectF(area.left(), area.top() + used, area.width(), max(1.0, area.height() - used))
            avail_h = max(1.0, avail_h - used)
        # the values in one row (A + B = C), or one operand per line; under the shapes, or beside them on a
        # wide screen: whichever draws the picture largest (a projector's text must stay large)
        best = None
        for limit in limits:
            blocks = [] if self.concealed else _value_blocks(self, f, c, limit)
            for placed, (bw, bh) in (_row_layout(blocks, gap), _column_layout(blocks, gap)):
                arrangements = [(max(tw, bw), th + (gap + bh if blocks else 0), (0.0, th + gap))]
                if blocks:
                    arrangements.append((tw + 1.5 * gap + bw, max(th, bh), (tw + 1.5 * gap, 0.0)))
                for content_w, content_h, offset in arrangements:
                    # small pictures grow (up to MAX_ZOOM) to fill the room a projector gives them; big ones shrink
                    scale = min(MAX_ZOOM, avail_w / max(1.0, content_w), avail_h / max(1.0, content_h))
                    if best is None or scale > best[0] + 1e-6:
                        best = (scale, placed, offset)
            if best[0] >= 0.8:
                break  # fewer rows and columns only when the full elision would have to shrink much
        scale, placed, (ox, oy) = best
        self.scale_used = scale
        p.save()
        p.translate(area.left() + margin, area.top() + margin)
        p.scale(scale, scale)
        table.paint(p, 0.0, 0.0)
        for b, (x, y) in placed:
            b.paint(p, ox + x, oy + y)
        p.restore()


    def _paint_summary(self, p: QPainter, area: QRectF, margin: float, f, c) -> None:
        title, rows, score = self.summary
        tf, bf, mf = f["big"], f["bold"], f["mono_bold"]
        body = f["body"]
        fm_t, fm_b, fm_m, fm_body = (QFontMetricsF(x) for x in (tf, bf, mf, body))
        heads = ("", "Shapes", "The class said", "NumPy", "")
        cells = [(letter, shapes, given, truth, {True: "✓ right", False: "✗ wrong", None: "— not answered"}[ok])
                 for letter, shapes, given, truth, ok in rows]
        fonts = (bf, mf, body, body, bf)
        pad = fm_body.height() * 0.9
        widths = [max([fm_b.horizontalAdvance(heads[j])] + [QFontMetricsF(fonts[j]).horizontalAdvance(r[j])
                                                              for r in cells]) + pad for j in range(5)]
        row_h = max(fm_m.height(), fm_body.height()) * 1.7
        title_h = fm_t.height() * 1.6
        score_h = fm_t.height() * 1.8
        content_w = max(sum(widths), fm_t.horizontalAdvance(title) + 8, fm_t.horizontalAdvance(score) + 8)
        content_h = title_h + row_h * (len(cells) + 1) + score_h
        avail_w, avail_h = area.width() - 2 * margin, area.height() - 2 * margin
        scale = min(2.0, avail_w / max(1.0, content_w), avail_h / max(1.0, content_h))
        self.scale_used = scale
        p.save()
        p.translate(area.left() + margin, area.top() + margin)
        p.scale(scale, scale)
        flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        self._text(p, QRectF(0, 0, content_w, title_h), flags, title, tf, c["fg"])
        y = title_h
        x = 0.0
        for j, head in enumerate(heads):
            if head:
                self._text(p, QRectF(x, y, widths[j], row_h), flags, head, bf, c["faint"])
            x += widths[j]
        y += row_h
        for (letter, shapes, given, truth, verdict), (*_, ok) in zip(cells, rows):
            if ok is not None:
                tint = c["ok_tint"] if ok else c["bad_tint"]
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(QBrush(qcolor(tint)))
                p.drawRoundedRect(QRectF(-pad / 3, y + 2, sum(widths) + pad / 3, row_h - 4), 6, 6)
                ink = text_colour_on(tint, preferred=c["fg"])
            else:
                ink, tint = c["fg"], None
            x = 0.0
            for j, (text, fnt) in enumerate(zip((letter, shapes, given, truth, verdict), fonts)):
                self._text(p, QRectF(x, y, widths[j], row_h), flags, text, fnt, ink, on=tint)
                x += widths[j]
            y += row_h
        self._text(p, QRectF(0, y, content_w, score_h), flags, score, tf, c["fg"])
        p.restore()


class _Banner:
    """A revealed quiz answer in large type, on a tinted box with the verdict's colour and icon."""

    def __init__(self, cv, f, c, text: str, right: bool):
        self.cv, self.c, self.text, self.right = cv, c, text, right
        self.font = QFont(f["big"])
        self.font.setPointSizeF(self.font.pointSizeF() * 1.45)
        fm = QFontMetricsF(self.font)
        self.pad = fm.height() * 0.5
        self.w = fm.horizontalAdvance(text) + 2 * self.pad + 8
        self.h = fm.height() + self.pad * 1.4

    def size(self):
        return self.w, self.h

    def paint(self, p, x, y):
        c = self.c
        edge = c["ok"] if self.right else c["bad"]
        tint = c["ok_tint"] if self.right else c["bad_tint"]
        rect = QRectF(x, y, self.w, self.h)
        p.setPen(self.cv.pen(edge, 3))
        p.setBrush(QBrush(qcolor(tint)))
        p.drawRoundedRect(rect, 10, 10)
        self.cv._text(p, rect, Qt.AlignmentFlag.AlignCenter, self.text, self.font, c["fg"], on=tint)


def _row_layout(blocks, gap):
    placed, x, h = [], 0.0, 0.0
    for b in blocks:
        w, bh = b.size()
        placed.append((b, (x, 0.0)))
        x += w + gap
        h = max(h, bh)
    return placed, (max(0.0, x - gap), h)


def _column_layout(blocks, gap):
    """Each operand on its own line, its "+" or "=" in a narrow column on the left."""
    sym_w = max((b.size()[0] for b in blocks if isinstance(b, _Symbol)), default=0.0)
    placed, y, w, pending = [], 0.0, 0.0, None
    for b in blocks:
        if isinstance(b, _Symbol):
            pending = b
            continue
        bw, bh = b.size()
        if pending is not None:
            placed.append((pending, (0.0, y + bh / 2 - pending.size()[1] / 2)))
            pending = None
        placed.append((b, (sym_w + gap / 2, y)))
        w = max(w, sym_w + gap / 2 + bw)
        y += bh + gap / 2
    return placed, (w, max(0.0, y - gap / 2))


# -- the shape table ------------------------------------------------------------------------------


class _ShapeTable:
    """Operands in rows, dimensions in columns (right-aligned), comparison marks, result, explanation."""

    def __init__(self, canvas: BroadcastCanvas, fonts, colours):
        self.cv, self.f, self.c = canvas, fonts, colours
        st = canvas.state
        self.ex = st.explanation
        self.nd = max(1, self.ex.ndim)
        self.concealed = canvas.concealed
        self.padded_on = not self.concealed and st.reached("pad")
        self.compared = set() if self.concealed else st.compared_dims()
        self.stretched = set() if self.concealed else st.stretched_dims()
        self.result_on = not self.concealed and st.reached("result") and self.ex.ok
        self.failed_on = not self.concealed and st.reached("fail") and not self.ex.ok
        fm = QFontMetricsF(fonts["mono_bold"])
        hm = QFontMetricsF(fonts["small"])
        lm = QFontMetricsF(fonts["bold"])
        self.cell_w = max(fm.horizontalAdvance("1 → 1000") + 24, hm.horizontalAdvance("from the right") + 16,
                          lm.horizontalAdvance("✓ one is 1") + 24)
        self.cell_h = fm.height() * 2.1
        names = [f"{OPERAND_NAMES[i]}  {shape_text(s)}" for i, s in enumerate(self.ex.shapes)]
        names.append("result  " + (shape_text(self.ex.result_shape) if self.ex.ok else "(…)"))
        self.label_w = max(lm.horizontalAdvance(n) for n in names) + 24
        self.names = names
        self.head_h = hm.height() * 2.4
        self.mark_h = lm.height() * 1.8
        bm = QFontMetricsF(fonts["big"])
        self.text_w = self.label_w + self.nd * self.cell_w
        self.sentence = self._sentence()
        self.sentence_h = 0.0
        if self.sentence:
            width = max(self.text_w, 560.0)  # wrapped narrow: the values can then sit beside the shapes
            r = bm.boundingRect(QRectF(0, 0, width, 10000), int(Qt.TextFlag.TextWordWrap), self.sentence)
            self.text_w = max(self.text_w, min(width, r.width() + 40))  # slack: scaled text lays out a little wider
            r = bm.boundingRect(QRectF(0, 0, self.text_w, 10000), int(Qt.TextFlag.TextWordWrap), self.sentence)
            self.sentence_h = r.height() + 12

    def _sentence(self) -> str:
        if self.concealed:
            return self.cv.prompt
        if self.failed_on:
            return ""  # the step's own sentence above the picture says why, word for word
        if self.result_on:
            return f"✓  The shapes broadcast: the result has shape {shape_text(self.ex.result_shape)}."
        return ""

    def rows(self) -> int:
        return len(self.ex.shapes) + (1 if self.result_on else 0)

    def size(self) -> tuple[float, float]:
        w = max(self.label_w + self.nd * self.cell_w, self.text_w)
        h = self.head_h + self.rows() * (self.cell_h + 6) + self.mark_h + self.sentence_h + 10
        return w, h

    def _col_x(self, from_right: int) -> float:
        return self.label_w + (self.nd - from_right) * self.cell_w

    def paint(self, p: QPainter, x0: float, y0: float) -> None:
        cv, f, c, ex = self.cv, self.f, self.c, self.ex
        p.save()
        p.translate(x0, y0)
        comps = {cmp.from_right: cmp for cmp in ex.comparisons}
        failing = ex.failing_dim if self.failed_on else None
        # headers: "dim k / from the right"
        for k in range(1, self.nd + 1):
            rect = QRectF(self._col_x(k), 0, self.cell_w, self.head_h)
            bold_col = failing == k
            self_font = QFont(f["small"])
            self_font.setBold(bold_col)
            self_font.setUnderline(bold_col)
            cv._text(p, rect, Qt.AlignmentFlag.AlignCenter, f"dim {k}\nfrom the right", self_font,
                     c["bad"] if bold_col else c["fg"])
        y = self.head_h
        for i, shape in enumerate(ex.shapes):
            cv._text(p, QRectF(0, y, self.label_w - 12, self.cell_h), Qt.AlignmentFlag.AlignVCenter,
                     self.names[i], f["bold"], c["fg"])
            for k in range(1, self.nd + 1):
                rect = QRectF(self._col_x(k) + 4, y, self.cell_w - 8, self.cell_h)
                self._cell(p, rect, i, k, shape, comps.get(k), failing)
            y += self.cell_h + 6
        if self.result_on:
            cv._text(p, QRectF(0, y, self.label_w - 12, self.cell_h), Qt.AlignmentFlag.AlignVCenter,
                     self.names[-1], f["bold"], c["fg"])
            for k in range(1, self.nd + 1):
                rect = QRectF(self._col_x(k) + 4, y, self.cell_w - 8, self.cell_h)
                p.setPen(cv.pen(c["fg"], 2))
                p.setBrush(QBrush(qcolor(c["result_tint"])))
                p.drawRoundedRect(rect, 4, 4)
                size = ex.result_shape[len(ex.result_shape) - k] if k <= len(ex.result_shape) else 1
                cv._text(p, rect, Qt.AlignmentFlag.AlignCenter, str(size), f["mono_bold"], c["fg"],
                         on=c["result_tint"])
            y += self.cell_h + 6
        # comparison marks: colour AND icon AND word
        for k in range(1, self.nd + 1):
            if k not in self.compared or k not in comps:
                continue
            cmp = comps[k]
            good = cmp.verdict != "incompatible"
            rect = QRectF(self._col_x(k) + 4, y + 2, self.cell_w - 8, self.mark_h - 4)
            p.setPen(cv.pen(c["ok"] if good else c["bad"], 2))
            brush = QBrush(qcolor(c["ok_tint"] if good else c["bad_tint"]))
            p.setBrush(brush)
            p.drawRoundedRect(rect, 6, 6)
            word = {"equal": "✓ equal", "stretch": "✓ one is 1", "incompatible": "✗ differ"}[cmp.verdict]
            cv._text(p, rect, Qt.AlignmentFlag.AlignCenter, word, f["bold"], c["fg"],
                     on=c["ok_tint"] if good else c["bad_tint"])
        y += self.mark_h
        if self.sentence:
            rect = QRectF(0, y + 8, self.text_w, self.sentence_h)
            colour = c["bad"] if self.failed_on else c["fg"]
            cv._text(p, rect, int(Qt.TextFlag.TextWordWrap) | int(Qt.AlignmentFlag.AlignLeft), self.sentence,
                     f["big"], colour)
        p.restore()

    def _cell(self, p: QPainter, rect: QRectF, i: int, k: int, shape, cmp, failing) -> None:
        cv, f, c = self.cv, self.f, self.c
        nd_i = len(shape)
        is_pad = k > nd_i
        if is_pad and not self.padded_on:
            return  # the gap the padding will fill
        size = 1 if is_pad else shape[nd_i - k]
        fail_here = failing == k and not is_pad
        if fail_here:
            cv.failing_marked.append((i, k))
            p.setPen(cv.pen(c["bad"], 3.5))
            p.setBrush(QBrush(qcolor(c["bad_tint"])))
            p.drawRoundedRect(rect, 4, 4)
            # hatch: the failing dimension reads without colour too
            p.setBrush(QBrush(qcolor(c["bad"]), Qt.BrushStyle.BDiagPattern))
            p.setPen(Qt.PenStyle.NoPen)
            p.drawRoundedRect(rect, 4, 4)
        else:
            p.setPen(cv.pen(c["padded"] if is_pad else c["fg"], 2 if not is_pad else 1.6,
                            Qt.PenStyle.DashLine if is_pad else Qt.PenStyle.SolidLine))
            p.setBrush(QBrush(qcolor(c["cell"])))
            p.drawRoundedRect(rect, 4, 4)
        stretched = (k in self.stretched and cmp is not None and i < len(cmp.stretched) and cmp.stretched[i])
        if stretched:
            text = f"1 → {cmp.result}"
            tf = f["italic"] if is_pad else f["mono_bold"]
            colour = c["stretch"]
        else:
            text = str(size)
            tf = f["italic"] if is_pad else f["mono_bold"]
            colour = c["padded"] if is_pad else c["fg"]
        fill = c["cell"]
        if fail_here:
            colour, fill = c["fg"], c["bad_tint"]
        if is_pad:
            top = QRectF(rect.left(), rect.top(), rect.width(), rect.height() * 0.62)
            cv._text(p, top, Qt.AlignmentFlag.AlignCenter, text, tf, colour, on=fill)
            bottom = QRectF(rect.left(), rect.top() + rect.height() * 0.55, rect.width(), rect.height() * 0.42)
            small = QFont(f["small"])
            small.setItalic(True)
            cv._text(p, bottom, Qt.AlignmentFlag.AlignCenter, "padded", small, c["padded"], on=fill)
        else:
            cv._text(p, rect, Qt.AlignmentFlag.AlignCenter, text, tf, colour, on=fill)


# -- values: matrices, stretched ghosts, the sum ------------------------------------------------------


def _value_blocks(cv: BroadcastCanvas, f, c, limit: int = MAX_SHOWN) -> list:
    st = cv.state
    ex = st.explanation
    stretched_on = (st.reached("stretch") or st.reached("result")) and ex.ok
    add_on = st.reached("add") and ex.ok
    blocks = []
    n = len(ex.shapes)
    if stretched_on:
        res = tuple(ex.result_shape)
        for i, shape in enumerate(ex.shapes):
            vals = st.stretched[i] if st.stretched is not None else None
            padded = (1,) * (len(res) - len(shape)) + tuple(shape)
            ghost_dims = tuple(d for d in range(len(res)) if padded[d] == 1 and res[d] > 1)
            label = (f"{OPERAND_NAMES[i]} stretched to {shape_text(res)}" if ghost_dims
                     else f"{OPERAND_NAMES[i]} {shape_text(shape)}")
            blocks.append(_Matrix(cv, f, c, res, vals, label, ghost_dims=ghost_dims, limit=limit))
            if i < n - 1:
                blocks.append(_Symbol(cv, f, c, "+"))
        if add_on:
            blocks.append(_Symbol(cv, f, c, "="))
            blocks.append(_Matrix(cv, f, c, res, st.result, f"result {shape_text(res)}", result=True, limit=limit))
    else:
        fail_left = ex.failing_dim_left if (st.reached("fail") and not ex.ok) else None
        for i, shape in enumerate(ex.shapes):
            vals = st.values[i] if st.values is not None else None
            hl, caption = None, ""
            if fail_left is not None and fail_left[i] is not None:
                hl = int(fail_left[i])
                caption = f"✗ dim {ex.failing_dim} from the right (index {hl}): size {shape[hl]}"
            blocks.append(_Matrix(cv, f, c, tuple(shape), vals, f"{OPERAND_NAMES[i]} {shape_text(shape)}",
                                  highlight_axis=hl, caption=caption, limit=limit))
            if i < n - 1:
                blocks.append(_Symbol(cv, f, c, "+"))
    return blocks


class _Symbol:
    def __init__(self, cv, f, c, text):
        self.cv, self.f, self.c, self.text = cv, f, c, text
        fm = QFontMetricsF(f["big"])
        self.w, self.h = fm.horizontalAdvance(text) + 8, fm.height() * 3

    def size(self):
        return self.w, self.h

    def paint(self, p, x, y):
        self.cv._text(p, QRectF(x, y, self.w, self.h), Qt.AlignmentFlag.AlignCenter, self.text, self.f["big"],
                      self.c["fg"])


class _Matrix:
    """One operand as a grid (2-D), a row (1-D), one cell (0-D) or a row of 2-D slices ([i, :, :])."""

    def __init__(self, cv, f, c, shape, values, label, ghost_dims=(), result=False, highlight_axis=None,
                 caption="", limit: int = MAX_SHOWN):
        self.cv, self.f, self.c = cv, f, c
        self.caption = caption
        self.shape, self.values, self.label = tuple(shape), values, label
        self.ghost_dims, self.result, self.highlight_axis = tuple(ghost_dims), result, highlight_axis
        nd = len(self.shape)
        self.lead = self.shape[:-2] if nd > 2 else ()
        rows = self.shape[-2] if nd >= 2 else 1
        cols = self.shape[-1] if nd >= 1 else 1
        head = (limit - 1) // 2
        self.row_idx = shown_indices(rows, limit, head) if nd >= 2 else [0]
        self.col_idx = shown_indices(cols, limit, head) if nd >= 1 else [0]
        # slices: the leading indices, elided too (first 2, "…", last 2 per leading dimension)
        self.slices = self._slices()
        fm = QFontMetricsF(f["mono"])
        widest = "0"
        if values is not None:
            for s in self.slices:
                if s is None:
                    continue
                for r in self.row_idx:
                    for col in self.col_idx:
                        if r is None or col is None:
                            continue
                        text = format_value(self._value(s, r, col))
                        if len(text) > len(widest):
                            widest = text
        self.cw = max(fm.horizontalAdvance(widest) + 16, fm.height() * 1.6)
        self.ch = fm.height() * 1.45
        lm = QFontMetricsF(f["bold"])
        sm = QFontMetricsF(f["small"])
        self.label_h = lm.height() * 1.4
        self.slice_label_h = sm.height() * 1.3 if nd > 2 else 0.0
        self.grid_w = self.cw * len(self.col_idx)
        self.grid_h = self.ch * len(self.row_idx)
        gap = 14 * cv.theme.font_scale
        self.gap = gap
        self.ell_w = fm.horizontalAdvance("…") + 16
        grids = sum(self.grid_w if s is not None else self.ell_w for s in self.slices)
        self.caption_h = lm.height() * 1.5 if caption else 0.0
        self.w = max(grids + gap * (len(self.slices) - 1), lm.horizontalAdvance(label) + 8,
                     lm.horizontalAdvance(caption) + 8 if caption else 0)
        self.h = self.label_h + self.slice_label_h + self.grid_h + self.caption_h

    def _slices(self):
        if not self.lead:
            return [()]
        per_dim = [shown_indices(n, limit=5, head=2) for n in self.lead]
        out: list = [()]
        for idx in per_dim:
            nxt = []
            for prefix in out:
                if prefix is None:
                    continue
                for i in idx:
                    nxt.append(None if i is None else (*prefix, i))
            out = nxt
        # collapse runs of elisions into one "…"
        slices: list = []
        for s in out:
            if s is None and slices and slices[-1] is None:
                continue
            slices.append(s)
        return slices[:9]

    def _value(self, s, r, col):
        nd = len(self.shape)
        if nd == 0:
            return self.values[()]
        if nd == 1:
            return self.values[col]
        return self.values[(*s, r, col)]

    def size(self):
        return self.w, self.h

    def _is_ghost(self, s, r, col) -> bool:
        nd = len(self.shape)
        full = (*s, r, col) if nd >= 2 else ((col,) if nd == 1 else ())
        return any(full[d] > 0 for d in self.ghost_dims)

    def paint(self, p: QPainter, x: float, y: float) -> None:
        cv, f, c = self.cv, self.f, self.c
        t = cv.theme
        cv._text(p, QRectF(x, y, self.w, self.label_h), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                 self.label, f["bold"], c["fg"])
        y0 = y + self.label_h
        if self.caption:
            cv._text(p, QRectF(x, y0 + self.slice_label_h + self.grid_h + 4, self.w, self.caption_h),
                     Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self.caption, f["bold"], c["bad"])
        for s in self.slices:
            if s is None:
                cv._text(p, QRectF(x, y0 + self.slice_label_h, self.ell_w, self.grid_h), Qt.AlignmentFlag.AlignCenter,
                         "…", f["big"], c["fg"])
                x += self.ell_w + self.gap
                continue
            if self.lead:
                idx = ", ".join(str(i) for i in s) + ", :, :"
                cv._text(p, QRectF(x, y0, self.grid_w, self.slice_label_h), Qt.AlignmentFlag.AlignCenter,
                         f"[{idx}]", f["small"], c["faint"])
            self._grid(p, x, y0 + self.slice_label_h, s, t)
            x += self.grid_w + self.gap

    def _grid(self, p: QPainter, x: float, y: float, s, t) -> None:
        cv, f, c = self.cv, self.f, self.c
        nd = len(self.shape)
        for ri, r in enumerate(self.row_idx):
            for ci, col in enumerate(self.col_idx):
                rect = QRectF(x + ci * self.cw, y + ri * self.ch, self.cw, self.ch)
                if r is None or col is None:
                    cv._text(p, rect, Qt.AlignmentFlag.AlignCenter, "⋮" if r is None and col is not None else "…",
                             f["body"], c["faint"])
                    continue
                cv.cells_drawn += 1
                ghost = bool(self.ghost_dims) and self._is_ghost(s, r, col)
                hl = False
                if self.highlight_axis is not None:
                    hl = True  # the failing axis is this operand's: tint its whole extent
                p.setPen(cv.pen(c["ghost"] if ghost else c["fg"], 1.0 if ghost else 1.4,
                                Qt.PenStyle.DashLine if ghost else Qt.PenStyle.SolidLine))
                fill = c["result_tint"] if self.result else (c["bad_tint"] if hl else c["cell"])
                p.setBrush(QBrush(qcolor(fill)))
                p.drawRect(rect)
                if self.values is not None:
                    text = format_value(self._value(s, r, col))
                    tf = QFont(f["mono"])
                    tf.setItalic(ghost)
                    cv._text(p, rect, Qt.AlignmentFlag.AlignCenter, text, tf, c["ghost"] if ghost else c["fg"],
                             on=fill)
        # an operand of a failing pair: outlined (the table names the failing dimension)
        if self.highlight_axis is not None and nd >= 1:
            p.setPen(cv.pen(c["bad"], 3))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(QRectF(x, y, self.cw * len(self.col_idx), self.ch * len(self.row_idx)))
