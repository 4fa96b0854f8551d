"""The fonts gpuviz carries with it (``assets/fonts/``): DejaVu Sans and DejaVu Sans Mono, renamed.

Every text the app draws uses these two families by name, so a picture is the
same on any machine: the system's default fonts differ between a lecturer's
laptop, a projector PC and CI (a machine with ``fonts-noto-mono`` installed
resolves "monospace" to Noto Sans Mono, which is wider), and an export or a
slide that fits on one would not fit on another. DejaVu covers every character
the app's texts use (∂ ∇ ᵀ α δ → × · ≤, sub- and superscripts; tests/ui/test_fonts.py).

:func:`register_fonts` must run once a ``QGuiApplication`` exists and before
the first widget is built; it is called wherever gpuviz makes its application
(the desktop app, the export, the notebook render, the tests).
"""

from __future__ import annotations

import weakref

from ..paths import assets_dir

#: The family of every text but code: ``QFont(UI_FAMILY)``. The shipped DejaVu Sans under a name of its own
#: (scripts/rename_fonts.py): a machine's own "DejaVu Sans", maybe another version with other widths, could
#: otherwise be picked by fontconfig in its place.
UI_FAMILY = "gpuviz DejaVu Sans"
#: The family of code and of aligned numbers (DejaVu Sans Mono, renamed the same way).
MONO_FAMILY = "gpuviz DejaVu Sans Mono"

#: The shipped files: Book, Bold and Oblique of each family. A style the files lack would be whatever the
#: machine has (the system's DejaVu oblique here, a synthesised slant there); the app draws italic text
#: (the broadcast panel's padded cells, stale shared-memory tiles) but no bold italic.
FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf",
              "DejaVuSansMono.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSansMono-Oblique.ttf")

#: (the application it was done for, the families read): application fonts belong to one QGuiApplication
_registered: tuple[weakref.ref, set[str]] | None = None


def registered() -> bool:
    """Whether the fonts are registered with the running application (cheap: :func:`gpuviz.ui.style.font` asks)."""
    from PyQt6.QtGui import QGuiApplication

    return _registered is not None and _registered[0]() is QGuiApplication.instance()


class FontError(RuntimeError):
    """The shipped fonts are missing or Qt cannot load them; the message says which file and where."""


def fonts_dir():
    """The folder of the shipped font files."""
    return assets_dir() / "fonts"


def register_fonts() -> set[str]:
    """Add the shipped fonts to Qt's font database and make UI_FAMILY the app's font (once per application).

    Returns the families Qt read from the files. Raises :class:`FontError`
    when a file is missing or unreadable, or when no ``QGuiApplication``
    exists yet: the app would otherwise draw every text in whatever font the
    system offers, silently.
    """
    global _registered
    from PyQt6.QtGui import QFont, QFontDatabase, QGuiApplication

    app = QGuiApplication.instance()
    if app is None:
        raise FontError("register_fonts() needs a QGuiApplication: create the application first")
    if _registered is None or _registered[0]() is not app:
        folder = fonts_dir()
        families: set[str] = set()
        for name in FONT_FILES:
            path = folder / name
            if not path.is_file():
                raise FontError(f"gpuviz's font {path} is missing (reinstall gpuviz: its assets/fonts "
                                "folder holds DejaVu Sans and DejaVu Sans Mono)")
            font_id = QFontDatabase.addApplicationFont(str(path))
            if font_id < 0:
                raise FontError(f"Qt could not load gpuviz's font {path} (damaged file?)")
            families.update(QFontDatabase.applicationFontFamilies(font_id))
        missing = {UI_FAMILY, MONO_FAMILY} - families
        if missing:
            raise FontError(f"gpuviz's fonts in {folder} do not provide {', '.join(sorted(missing))}")
        _registered = (weakref.ref(app), families)
        # QFont() (a painter's or a plot's default) takes the application's family: make it ours,
        # keeping the size; later a theme (theme.apply_theme) sets family and size together
        default = QFont(app.font())
        default.setFamilies([UI_FAMILY])
        app.setFont(default)
    return set(_registered[1])


__all__ = ["FONT_FILES", "FontError", "MONO_FAMILY", "UI_FAMILY", "fonts_dir", "register_fonts", "registered"]
