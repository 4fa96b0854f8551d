"""The fonts gpuviz ships are the ones it draws with, and they hold every character its texts use.

The system's fonts must not matter: with ``fonts-noto-mono`` installed, "monospace" resolves to Noto Sans
Mono, and a layout checked on one machine would not fit on another (issue 15). Run this file on a machine
with those extra fonts (``.ci/run`` installs them) to check that independence.
"""

from __future__ import annotations

import ast
import functools
import os
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PyQt6.QtGui import QFont, QFontDatabase, QFontInfo, QFontMetrics, QFontMetricsF, QRawFont
from PyQt6.QtWidgets import QWidget

from gpuviz.paths import assets_dir
from gpuviz.ui import fonts, style
from gpuviz.ui.theme import DARK, LECTURE, LIGHT

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PACKAGE = Path(fonts.__file__).resolve().parents[1]


@pytest.fixture
def registered(qapp):
    return fonts.register_fonts()


def test_the_shipped_files_provide_both_families(registered):
    assert {fonts.UI_FAMILY, fonts.MONO_FAMILY} <= registered
    for name in fonts.FONT_FILES:
        assert (fonts.fonts_dir() / name).is_file()
    assert (assets_dir() / "fonts" / "LICENSE-DejaVu.txt").is_file()


def test_registering_twice_is_harmless(registered):
    before = QFontDatabase.families()
    assert fonts.register_fonts() == registered
    assert QFontDatabase.families() == before
    assert fonts.registered()


@pytest.mark.parametrize("theme", [LIGHT, DARK, LECTURE], ids=lambda t: t.name)
@pytest.mark.parametrize("bold", [False, True])
@pytest.mark.parametrize("italic", [False, True])
def test_style_font_resolves_to_the_shipped_families(registered, theme, bold, italic):
    for mono, family in ((False, fonts.UI_FAMILY), (True, fonts.MONO_FAMILY)):
        f = style.font(theme, mono=mono, bold=bold)
        f.setItalic(italic)
        info = QFontInfo(f)
        assert info.family() == family, f"mono={mono}: Qt matched {info.family()!r}"
        assert info.bold() == bold and info.italic() == italic
        if not (bold and italic):  # no bold oblique is shipped: the app draws none
            # a face of the shipped files, not a synthesised slant or emboldening
            assert info.styleName() == {(False, False): "Book", (True, False): "Bold",
                                        (False, True): "Oblique"}[bold, italic]


def test_the_application_font_is_the_ui_family(registered, qapp):
    from gpuviz.ui.theme import apply_theme

    saved = qapp.font()
    try:
        apply_theme(qapp, DARK)
        assert QFontInfo(qapp.font()).family() == fonts.UI_FAMILY
        # a painter's default QFont() is the application's: c_view's cell labels use it
        assert QFontInfo(QFont()).family() == fonts.UI_FAMILY
    finally:
        qapp.setFont(saved)


def test_a_missing_font_file_fails_loudly(qapp, tmp_path, monkeypatch):
    for name in fonts.FONT_FILES[1:]:
        (tmp_path / name).write_bytes((fonts.fonts_dir() / name).read_bytes())
    monkeypatch.setattr(fonts, "_registered", None)
    monkeypatch.setattr(fonts, "fonts_dir", lambda: tmp_path)
    with pytest.raises(fonts.FontError, match=fonts.FONT_FILES[0]):
        fonts.register_fonts()


def test_a_damaged_font_file_fails_loudly(qapp, tmp_path, monkeypatch):
    for name in fonts.FONT_FILES:
        (tmp_path / name).write_bytes(b"not a font")
    monkeypatch.setattr(fonts, "_registered", None)
    monkeypatch.setattr(fonts, "fonts_dir", lambda: tmp_path)
    with pytest.raises(fonts.FontError, match="could not load"):
        fonts.register_fonts()


# -- every character the app draws is in the fonts ------------------------------------------------------


def _docstrings(tree) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                found.add(id(first.value))
    return found


def _toml_strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _toml_strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _toml_strings(v)


@functools.lru_cache(maxsize=1)
def display_characters() -> dict[str, str]:
    """Every non-ASCII character of the app's texts → one place it occurs.

    The texts: every string literal in gpuviz/**/*.py but docstrings (f-strings' literal parts included),
    every string in assets/**/*.toml (presets, GPUs, reference tables), and the whole kernel sources the
    code pane shows, comments included.
    """
    chars: dict[str, str] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        rel = path.relative_to(PACKAGE.parent)
        if path.parent.name == "kernels":
            for ch in text:
                if ord(ch) > 127:
                    chars.setdefault(ch, str(rel))
        tree = ast.parse(text)
        skip = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
                for ch in node.value:
                    if ord(ch) > 127:
                        chars.setdefault(ch, f"{rel}:{node.lineno}")
    for path in sorted(assets_dir().rglob("*.toml")):
        for s in _toml_strings(tomllib.loads(path.read_text(encoding="utf-8"))):
            for ch in s:
                if ord(ch) > 127:
                    chars.setdefault(ch, str(path.relative_to(assets_dir().parent)))
    return chars


def test_the_collection_sees_the_apps_symbols():
    chars = display_characters()
    # the symbols issue 15 names, all used today: the collector must find them
    for ch in "∂∇ᵀαδ→×·≤":
        assert ch in chars, ch


#: Characters DejaVu Sans Mono lacks, each drawn only in the UI font (checked where it is used). Any other
#: character must be in the code font as well: a label moved to it must not fall back to another font.
NOT_IN_MONO = {
    "☰": "the lecture drawer's button (main_window.py), a QToolButton in the UI font",
    "⋮": "the broadcast grid's mark of elided rows (broadcast/canvas.py), drawn in the UI font",
}


def _mono_oblique_exempt(ch: str) -> bool:
    # DejaVu Sans Mono Oblique has no dingbats (✓ ✗ ⚠ …); the app's only italic code-font text is the
    # broadcast grid's padded and ghost values, numbers: pictographic symbols (category So) never go there
    return unicodedata.category(ch) == "So"


@pytest.mark.parametrize("mono", [False, True], ids=["ui", "mono"])
@pytest.mark.parametrize("bold", [False, True], ids=["book", "bold"])
@pytest.mark.parametrize("italic", [False, True], ids=["upright", "oblique"])
def test_every_display_character_is_in_every_shipped_face(registered, mono, bold, italic):
    # every face, not only the one a text uses today: a label moved to bold or to the code
    # font must not turn into a box or into a fallback font's glyph (the broadcast grid's ⋮
    # was drawn in the code font, which lacks it, until this test said so)
    f = style.font(LIGHT, mono=mono, bold=bold)
    f.setItalic(italic)
    # QFontMetrics.inFontUcs4 also answers yes for what a fallback font draws (with
    # fonts-droid-fallback installed, even for 漢 and 😀): the matched font's own table decides
    raw = QRawFont.fromFont(f)
    assert raw.familyName() == (fonts.MONO_FAMILY if mono else fonts.UI_FAMILY)
    assert raw.supportsCharacter(ord("A")) and not raw.supportsCharacter(0x6F22)  # 漢: the check can fail
    metrics = QFontMetrics(f)
    chars = dict(display_characters())
    if mono:
        chars = {ch: where for ch, where in chars.items() if ch not in NOT_IN_MONO}
    if mono and italic:
        chars = {ch: where for ch, where in chars.items() if not _mono_oblique_exempt(ch)}
    missing = {ch: where for ch, where in chars.items()
               if not (raw.supportsCharacter(ord(ch)) and metrics.inFontUcs4(ord(ch)))}
    assert not missing, "not in " + raw.familyName() + " " + raw.styleName() + ": " + "; ".join(
        f"{ch!r} U+{ord(ch):04X} {unicodedata.name(ch, '?')} ({where})" for ch, where in sorted(missing.items()))


def test_every_display_character_is_in_the_shipped_files(qapp):
    chars = display_characters()
    for name in fonts.FONT_FILES:
        raw = QRawFont(str(fonts.fonts_dir() / name), 12.0)
        assert raw.isValid(), name
        mono = raw.familyName() == fonts.MONO_FAMILY
        missing = sorted(ch for ch in chars if not raw.supportsCharacter(ord(ch))
                         and not (mono and ch in NOT_IN_MONO)
                         and not (mono and raw.styleName() == "Oblique" and _mono_oblique_exempt(ch)))
        assert not missing, f"{name} lacks {missing}"


def test_every_widget_of_the_window_uses_a_shipped_family(main_window):
    shipped = {fonts.UI_FAMILY, fonts.MONO_FAMILY}
    wrong = {}
    for w in [main_window, *main_window.findChildren(QWidget)]:
        family = QFontInfo(w.font()).family()
        if family not in shipped:
            wrong[f"{type(w).__name__} {w.objectName()!r}"] = family
    assert not wrong, wrong


# -- the pixels do not depend on the machine's fonts --------------------------------------------------------


def _export(tmp_path, name, env, *args):
    out = tmp_path / f"{name}.png"
    run = subprocess.run([sys.executable, "-m", "gpuviz", "export", *args, "--size", "1280x720", "--out", str(out)],
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return np.asarray(Image.open(out).convert("RGB"))


@pytest.mark.skipif(not sys.platform.startswith("linux") or not Path("/etc/fonts").is_dir(),
                    reason="Qt finds fonts through fontconfig on Linux only")
def test_exports_are_the_same_with_no_system_fonts_at_all(tmp_path):
    # a fontconfig that sees no font (but keeps the machine's rendering rules: hinting, antialiasing)
    # against this machine's own fonts (CI installs fonts-noto-mono, fonts-urw-base35 and
    # fonts-droid-fallback, which took over "monospace" before the app shipped its fonts)
    (tmp_path / "no-fonts").mkdir()
    conf = tmp_path / "fonts.conf"
    conf.write_text(f"""<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <dir>{tmp_path / "no-fonts"}</dir>
  <cachedir>{tmp_path / "cache"}</cachedir>
  <include ignore_missing="yes">/etc/fonts/conf.d</include>
</fontconfig>
""")
    env = {k: v for k, v in os.environ.items() if k != "FONTCONFIG_FILE"}
    env["QT_QPA_PLATFORM"] = "offscreen"
    bare = dict(env, FONTCONFIG_FILE=str(conf))
    listed = subprocess.run(["fc-list"], env=bare, capture_output=True, text=True) if shutil.which("fc-list") else None
    assert listed is None or listed.stdout.strip() == "", "the bare fontconfig still sees fonts"
    # text in every shipped face: the grad slide (sans, bold, mono, sub- and superscripts), the
    # broadcast failure in dark (mono numbers, oblique padded cells)
    for name, args in (("grad", ("grad", "--preset", "30-grad-toy-3x7", "--slide")),
                       ("broadcast", ("broadcast", "--preset", "20-pitfall-m1", "--theme", "dark"))):
        here = _export(tmp_path, f"{name}-here", env, *args)
        nowhere = _export(tmp_path, f"{name}-bare", bare, *args)
        differ = np.abs(here.astype(int) - nowhere.astype(int)).max(axis=2) > 0
        assert not differ.any(), f"{name}: {differ.mean():.2%} of the pixels depend on the machine's fonts"


WIDTH_PROBE = """
import sys
from PyQt6.QtGui import QFont, QFontMetricsF
from PyQt6.QtWidgets import QApplication

app = QApplication(["probe"])
family = "DejaVu Sans"  # the machine's
if sys.argv[1] == "shipped":
    from gpuviz.ui.fonts import UI_FAMILY, register_fonts

    register_fonts()
    family = UI_FAMILY  # what the app asks for
f = QFont(family)
f.setPointSizeF(10)
print(QFontMetricsF(f).horizontalAdvance("iiiiiiiiii WWWWWWWWWW"))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux") or not Path("/etc/fonts").is_dir(),
                    reason="Qt finds fonts through fontconfig on Linux only")
# In whole-suite runs fontconfig twice picked such an impostor over the registered application font when both
# were called "DejaVu Sans": the shipped faces now carry a family name of their own (scripts/rename_fonts.py).
def test_a_system_font_under_the_same_name_does_not_replace_the_shipped_one(tmp_path):
    # the machine's "DejaVu Sans" is another font (here: the mono one renamed when fontconfig scans it, as
    # an older or patched DejaVu would be): the app must still measure its text in the shipped font
    (tmp_path / "fonts").mkdir()
    impostor = tmp_path / "fonts" / "impostor.ttf"
    impostor.write_bytes((fonts.fonts_dir() / "DejaVuSansMono.ttf").read_bytes())
    conf = tmp_path / "fonts.conf"
    conf.write_text(f"""<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <dir>{tmp_path / "fonts"}</dir>
  <cachedir>{tmp_path / "cache"}</cachedir>
  <include ignore_missing="yes">/etc/fonts/conf.d</include>
  <match target="scan">
    <test name="file"><string>{impostor}</string></test>
    <edit name="family" mode="assign_replace"><string>DejaVu Sans</string></edit>
    <edit name="style" mode="assign_replace"><string>Book</string></edit>
  </match>
</fontconfig>
""")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", FONTCONFIG_FILE=str(conf))

    def width(which):
        run = subprocess.run([sys.executable, "-c", WIDTH_PROBE, which], env=env, capture_output=True, text=True,
                             timeout=120)
        assert run.returncode == 0, run.stderr
        return float(run.stdout.split()[-1])

    system, shipped = width("system"), width("shipped")
    assert fonts.UI_FAMILY != "DejaVu Sans"
    f = QFont(fonts.UI_FAMILY)  # in this process: the registered face
    f.setPointSizeF(10)
    here = QFontMetricsF(f).horizontalAdvance("iiiiiiiiii WWWWWWWWWW")
    assert system != here, "the impostor did not take the name: the check proves nothing"
    assert shipped == here
